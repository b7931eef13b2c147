/* layer_conv.c: the convolution layer's operations (NHWC, stride 1),
 * forward and backward side by side: training and batched inference
 * (dg_op_conv), batched inference with the batch norm after it folded in
 * per call (dg_op_conv_bn), and the small-batch ones on weights prepared
 * once, a batch norm folded in: dg_infer_conv image by image, with a 2 x 2
 * max pool in its epilogue (dg_op_conv_one); Winograd's path on weights
 * transformed once (dg_op_conv_one_wino); the batched kernel on the folded
 * weights (dg_op_conv_one_folded). dg_conv2d and its gradients pick
 * Winograd's path or the direct one from the step's settings (s->ex). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels_infer.h"
#include "nn/nn.h"

static void conv(const dg_exec *ex, const dg_layer *l, float *out,
                 const float *in, const float *w, const float *b, int n,
                 int relu, float *work) {
  dg_conv2d(ex, in, n, l->ih, l->iw, l->ic, w, b, l->filters, l->k, l->pad,
            relu, out, work);
}

static void conv_forward(dg_net *net, dg_step *s, const float *in, int n,
                         dg_rng *rng) {
  dg_layer *l = s->l;
  conv(&s->ex, l, l->out, in, dg_layer_w(net, l, 0), dg_layer_w(net, l, 1), n,
       s->relu, net->work);
}

static void conv_backward(dg_net *net, dg_step *s, const float *in,
                          float *din, int n) {
  dg_layer *l = s->l;
  /* the fused ReLU's mask, in place, unless a max pool after it applied it */
  if (s->relu && !s->relu_masked)
    dg_relu_backward(&s->ex, l->out, l->dout, l->dout, l->out_size * (size_t)n);
  dg_conv2d_grad_w(&s->ex, in, l->dout, n, l->ih, l->iw, l->ic, l->filters,
                   l->k, l->pad, dg_layer_g(net, l, 0), dg_layer_g(net, l, 1),
                   net->work);
  if (din)
    dg_conv2d_grad_in(&s->ex, l->dout, dg_layer_w(net, l, 0), n, l->ih, l->iw,
                      l->ic, l->filters, l->k, l->pad, din, net->work);
}

static size_t conv_work(const dg_net *net, const dg_step *s, int n) {
  const dg_layer *l = s->l;
  return dg_conv2d_work(n, l->ih, l->iw, l->ic, l->filters, l->k, l->pad);
}

const dg_op dg_op_conv = {"conv", conv_forward, conv_backward, conv_work, NULL,
                          NULL};

/* Batched inference of conv + batch norm (+ ReLU): see dg_bn_fold_run. */
static void conv_run(dg_net *net, dg_step *s, const float *in, const float *w,
                     const float *b, float *out, int n) {
  conv(&s->ex, s->l, out, in, w, b, n, s->relu, net->work);
}

static void conv_bn_forward(dg_net *net, dg_step *s, const float *in, int n,
                            dg_rng *rng) {
  dg_bn_fold_run(net, s, in, n, conv_run);
}

const dg_op dg_op_conv_bn = {"conv+bn", conv_bn_forward, NULL, conv_work,
                             NULL, NULL};

/* ---- small batches: weights prepared once ---------------------------------- */

/* The layer's weights and bias with s->bn folded in (into net->fold, which
 * dg_net_reserve sizes for this), or as they are. */
static void folded(dg_net *net, const dg_step *s, const float **w,
                   const float **b) {
  const dg_layer *l = s->l;
  *w = dg_layer_w(net, l, 0), *b = dg_layer_w(net, l, 1);
  if (!s->bn) return;
  size_t nw = net->tensors[l->t0].size;
  dg_bn_fold(net, s->bn, *w, *b, nw, l->filters, net->fold, net->fold + nw);
  *w = net->fold, *b = net->fold + nw;
}

static const float *packed(const dg_net *net, const dg_step *s) {
  return net->plans[DG_PLAN_ONE]->packed + s->off;
}

static void one_forward(dg_net *net, dg_step *s, const float *in, int n,
                        dg_rng *rng) {
  dg_layer *l = s->l, *e = &net->layers[s->last];
  for (int b = 0; b < n; b++)
    dg_infer_conv(in + (size_t)b * l->in_size, l->ih, l->iw, l->ic,
                  packed(net, s), l->filters, l->k, l->pad, s->relu,
                  s->pool ? 2 : 0, e->out + (size_t)b * e->out_size,
                  net->plans[DG_PLAN_ONE]->image);
}

static size_t one_packed(const dg_net *net, const dg_step *s) {
  return dg_infer_conv_packed_size(s->l->ic, s->l->filters, s->l->k);
}

static void one_pack(dg_net *net, dg_step *s, float *dst) {
  const float *w, *b;
  folded(net, s, &w, &b);
  dg_infer_conv_pack(w, b, s->l->ic, s->l->filters, s->l->k, dst);
}

const dg_op dg_op_conv_one = {"conv (packed)", one_forward, NULL, NULL,
                              one_packed, one_pack};

/* the whole batch at once, the weights transformed, then the bias */
static void wino_forward(dg_net *net, dg_step *s, const float *in, int n,
                         dg_rng *rng) {
  dg_layer *l = s->l;
  const float *U = packed(net, s);
  dg_wino_conv2d_packed(in, n, l->ih, l->iw, l->ic, U,
                        U + dg_wino_packed_size(l->ic, l->filters), l->filters,
                        l->pad, s->relu, net->layers[s->last].out, net->work);
}

static size_t wino_packed(const dg_net *net, const dg_step *s) {
  return dg_wino_packed_size(s->l->ic, s->l->filters) + s->l->filters;
}

static void wino_pack(dg_net *net, dg_step *s, float *dst) {
  const float *w, *b;
  folded(net, s, &w, &b);
  dg_wino_pack(w, s->l->ic, s->l->filters, dst);
  memcpy(dst + dg_wino_packed_size(s->l->ic, s->l->filters), b,
         (size_t)s->l->filters * sizeof(float));
}

const dg_op dg_op_conv_one_wino = {"conv (Winograd, packed)", wino_forward,
                                   NULL, conv_work, wino_packed, wino_pack};

/* the batched kernel, the whole batch at once, on the folded weights */
static void folded_forward(dg_net *net, dg_step *s, const float *in, int n,
                           dg_rng *rng) {
  const float *w = packed(net, s);
  conv(&s->ex, s->l, net->layers[s->last].out, in, w,
       w + net->tensors[s->l->t0].size, n, s->relu, net->work);
}

static size_t folded_packed(const dg_net *net, const dg_step *s) {
  return net->tensors[s->l->t0].size + s->l->filters;
}

static void folded_pack(dg_net *net, dg_step *s, float *dst) {
  const float *w, *b;
  folded(net, s, &w, &b);
  size_t nw = net->tensors[s->l->t0].size;
  memcpy(dst, w, nw * sizeof(float));
  memcpy(dst + nw, b, (size_t)s->l->filters * sizeof(float));
}

const dg_op dg_op_conv_one_folded = {"conv (folded)", folded_forward, NULL,
                                     conv_work, folded_packed, folded_pack};

/* ---- the layer kind ---------------------------------------------------------- */

/* conv F K [same | valid | pad P]: P zeros around each side (0..K-1) */
static const char *conv_args(dg_layer *l, char **tok, int nt, int *h, int *w,
                             int *c) {
  if (nt < 3 || nt > 5 || !dg_arch_int(tok[1], 1, 4096, &l->filters) ||
      !dg_arch_int(tok[2], 1, 15, &l->k))
    return "needs FILTERS KERNEL [same|valid|pad P]";
  if (nt == 5 && (strcmp(tok[3], "pad") || !dg_arch_int(tok[4], 0, l->k - 1, &l->pad)))
    return "'pad' needs a padding from 0 to KERNEL-1";
  if (nt == 4 && strcmp(tok[3], "same") && strcmp(tok[3], "valid"))
    return "padding must be 'same', 'valid' or 'pad P'";
  if (nt == 4 && !strcmp(tok[3], "same")) {
    if (l->k % 2 == 0) return "'same' padding needs an odd kernel";
    l->pad = (l->k - 1) / 2;
  }
  *h = *h + 2 * l->pad - l->k + 1, *w = *w + 2 * l->pad - l->k + 1;
  *c = l->filters;
  if (*h < 1 || *w < 1) return "kernel larger than input";
  return NULL;
}

/* same or valid where one of them says it, else pad P */
static void conv_spec(const dg_layer *l, char *buf, size_t cap) {
  if (!l->pad || (l->k % 2 && l->pad == (l->k - 1) / 2))
    snprintf(buf, cap, " %d %d %s", l->filters, l->k, l->pad ? "same" : "valid");
  else
    snprintf(buf, cap, " %d %d pad %d", l->filters, l->k, l->pad);
}

/* weight (K, K, C, F), Glorot over K*K*C in and K*K*F out; bias (F) */
static int conv_tensors(const dg_layer *l, dg_tensor_spec *t) {
  t[0] = (dg_tensor_spec){"weight", 4, {l->k, l->k, l->ic, l->filters}, 1, 1,
                          DG_INIT_GLOROT, (float)(l->k * l->k * l->ic),
                          (float)(l->k * l->k * l->filters)};
  t[1] = (dg_tensor_spec){"bias", 1, {l->filters}, 1, 0, DG_INIT_ZEROS, 0, 0};
  return 2;
}

const dg_layer_type dg_layer_conv = {"conv", NULL, "Conv2D", conv_args,
                                     conv_spec, conv_tensors, &dg_op_conv, 1};
