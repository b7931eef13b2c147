/* layer_pool.c: max and average pooling (P x P, stride P, valid), forward
 * and backward side by side. A max pool after a ReLU that the step before
 * fused applies that ReLU's gradient mask itself (s->mask_relu). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

static void maxpool_forward(dg_net *net, dg_step *s, const float *in, int n,
                            dg_rng *rng) {
  dg_layer *l = s->l;
  dg_maxpool(&s->ex, in, n, l->ih, l->iw, l->ic, l->pool, l->out, l->arg);
}

static void maxpool_backward(dg_net *net, dg_step *s, const float *in,
                             float *din, int n) {
  dg_layer *l = s->l;
  if (!din) return;
  dg_maxpool_backward(&s->ex, l->dout, s->mask_relu ? l->out : NULL, l->arg,
                      n, l->ih, l->iw, l->ic, l->pool, din);
}

const dg_op dg_op_maxpool = {"maxpool", maxpool_forward, maxpool_backward,
                             NULL, NULL, NULL};

static void avgpool_forward(dg_net *net, dg_step *s, const float *in, int n,
                            dg_rng *rng) {
  dg_layer *l = s->l;
  dg_avgpool(&s->ex, in, n, l->ih, l->iw, l->ic, l->pool, l->out);
}

static void avgpool_backward(dg_net *net, dg_step *s, const float *in,
                             float *din, int n) {
  dg_layer *l = s->l;
  if (din)
    dg_avgpool_backward(&s->ex, l->dout, n, l->ih, l->iw, l->ic, l->pool, din);
}

const dg_op dg_op_avgpool = {"avgpool", avgpool_forward, avgpool_backward,
                             NULL, NULL, NULL};

/* ---- the layer kinds --------------------------------------------------------- */

static const char *pool_args(dg_layer *l, char **tok, int nt, int *h, int *w,
                             int *c) {
  if (nt != 2 || !dg_arch_int(tok[1], 1, 64, &l->pool))
    return "needs a pool size (1..64)";
  *h /= l->pool, *w /= l->pool;
  if (*h < 1 || *w < 1) return "pool larger than input";
  return NULL;
}

static void pool_spec(const dg_layer *l, char *buf, size_t cap) {
  snprintf(buf, cap, " %d", l->pool);
}

/* Both pools take one size and own no tensors. */
#define POOL_TYPE(keyword, name, op) \
  { keyword, NULL, name, pool_args, pool_spec, NULL, &op, 0 }

const dg_layer_type dg_layer_maxpool =
    POOL_TYPE("maxpool", "MaxPooling2D", dg_op_maxpool);
const dg_layer_type dg_layer_avgpool =
    POOL_TYPE("avgpool", "AveragePooling2D", dg_op_avgpool);
