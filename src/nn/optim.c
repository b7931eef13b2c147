/* optim.c: SGD with momentum and Adam, with optional decoupled weight decay
 * (AdamW style) applied only to tensors marked for decay (weights, not
 * biases or batch-norm parameters). The update loops are kernels
 * (kernels.h: dg_adam, dg_sgd), one call per tensor. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "kernels/kernels.h"
#include "nn/nn.h"

int dg_optim_init(dg_optim *o, dg_opt_kind kind, float lr, const dg_net *net) {
  if (!o || !net || !(lr > 0))
    return dg_error(DG_ERR_ARG, "optimizer: learning rate must be > 0");
  memset(o, 0, sizeof *o);
  o->kind = kind;
  o->lr = lr;
  o->momentum = 0.9f;
  o->beta1 = 0.9f, o->beta2 = 0.999f, o->eps = 1e-7f; /* Keras' epsilon */
  o->n = dg_net_param_count(net);
  o->m = calloc(o->n ? o->n : 1, sizeof(float));
  o->v = calloc(o->n ? o->n : 1, sizeof(float));
  if (!o->m || !o->v) {
    dg_optim_free(o);
    return dg_error(DG_ERR_NOMEM, "optimizer: out of memory");
  }
  return DG_OK;
}

void dg_optim_free(dg_optim *o) {
  if (!o) return;
  free(o->m), free(o->v);
  o->m = o->v = NULL;
}

void dg_optim_step(dg_optim *o, dg_net *net) {
  float *params = dg_net_params(net), *grads = dg_net_grads(net);
  o->step++;
  float r1 = 1.0f / (1.0f - powf(o->beta1, (float)o->step));
  float r2 = 1.0f / (1.0f - powf(o->beta2, (float)o->step));
  dg_exec ex = dg_net_exec(net, 2 * DG_MAX_LAYERS * DG_PLAN_MODES);
  for (int i = 0; i < dg_net_tensor_count(net); i++) {
    const dg_tensor *t = dg_net_tensor(net, i);
    if (!t->trainable) continue;
    size_t off = (size_t)(t->data - params);
    float decay = t->decay ? o->weight_decay : 0.0f;
    if (o->kind == DG_OPT_SGD)
      dg_sgd(&ex, t->data, grads + off, o->m + off, t->size, o->lr, o->momentum,
             decay);
    else
      dg_adam(&ex, t->data, grads + off, o->m + off, o->v + off, t->size, o->lr,
              o->beta1, o->beta2, o->eps, r1, r2, decay);
  }
}
