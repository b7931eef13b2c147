/* layer_pool.c: max and average pooling (P x P, stride P, valid), forward
 * and backward side by side. A max pool after a ReLU that the step before
 * fused applies that ReLU's gradient mask itself (s->mask_relu). */
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
