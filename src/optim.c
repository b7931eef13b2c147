/* optim.c: SGD with momentum and Adam, with optional decoupled weight decay
 * (AdamW style) applied only to tensors marked for decay (weights, not
 * biases or batch-norm parameters). One flat loop over all parameters. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"

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

/* Update params[from, from+size) with or without decay. */
static void update(dg_optim *o, float *p, const float *g, float *m, float *v,
                   size_t size, float decay, float c1, float c2) {
  float lr = o->lr;
  if (o->kind == DG_OPT_SGD) {
    float mu = o->momentum;
    for (size_t i = 0; i < size; i++) {
      m[i] = mu * m[i] - lr * g[i];
      p[i] += m[i] - lr * decay * p[i];
    }
    return;
  }
  float b1 = o->beta1, b2 = o->beta2, eps = o->eps;
  for (size_t i = 0; i < size; i++) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    float mh = m[i] / c1, vh = v[i] / c2;
    p[i] -= lr * (mh / (sqrtf(vh) + eps) + decay * p[i]);
  }
}

void dg_optim_step(dg_optim *o, dg_net *net) {
  float *params = dg_net_params(net), *grads = dg_net_grads(net);
  o->step++;
  float c1 = 1.0f - powf(o->beta1, (float)o->step);
  float c2 = 1.0f - powf(o->beta2, (float)o->step);
  for (int i = 0; i < dg_net_tensor_count(net); i++) {
    const dg_tensor *t = dg_net_tensor(net, i);
    if (!t->trainable) continue;
    size_t off = (size_t)(t->data - params);
    update(o, t->data, grads + off, o->m + off, o->v + off, t->size,
           t->decay ? o->weight_decay : 0.0f, c1, c2);
  }
}
