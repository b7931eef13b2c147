/* layer_dense.c: the dense layer's operations, forward and backward side by
 * side: training and batched inference (dg_op_dense), batched inference
 * with the batch norm after it folded in per call (dg_op_dense_bn), and
 * small batches image by image on weights packed once (dg_op_dense_one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels_infer.h"
#include "nn/nn.h"

/* out (N,U) = in (N,I) @ w (I,U) + b, then ReLU if relu */
static void dense(const dg_exec *ex, float *out, const float *in,
                  const float *w, const float *b, int N, int I, int U,
                  int relu) {
  dg_gemm(ex, 0, 0, N, U, I, 1.0f, in, I, w, U, 0.0f, out, U);
  dg_bias_add(ex, out, b, (size_t)N, U);
  if (relu) dg_relu(ex, out, out, (size_t)N * U);
}

static void dense_forward(dg_net *net, dg_step *s, const float *in, int n,
                          dg_rng *rng) {
  dg_layer *l = s->l;
  dense(&s->ex, l->out, in, dg_layer_w(net, l, 0), dg_layer_w(net, l, 1), n,
        (int)l->in_size, l->units, s->relu);
}

static void dense_backward(dg_net *net, dg_step *s, const float *in,
                           float *din, int n) {
  dg_layer *l = s->l;
  int I = (int)l->in_size, U = l->units;
  /* the fused ReLU's mask, in place, unless a max pool after it applied it */
  if (s->relu && !s->relu_masked)
    dg_relu_backward(&s->ex, l->out, l->dout, l->dout, (size_t)n * U);
  /* dw (I,U) = in^T (I,N) @ dout (N,U) */
  dg_gemm(&s->ex, 1, 0, I, U, n, 1.0f, in, I, l->dout, U, 0.0f,
          dg_layer_g(net, l, 0), U);
  dg_bias_grad(&s->ex, l->dout, (size_t)n, U, dg_layer_g(net, l, 1));
  /* din (N,I) = dout (N,U) @ w^T (U,I) */
  if (din)
    dg_gemm(&s->ex, 0, 1, n, I, U, 1.0f, l->dout, U, dg_layer_w(net, l, 0), U,
            0.0f, din, I);
}

const dg_op dg_op_dense = {"dense", dense_forward, dense_backward, NULL, NULL,
                           NULL};

/* Batched inference of dense + batch norm (+ ReLU): see dg_bn_fold_run. */
static void dense_run(dg_net *net, dg_step *s, const float *in,
                      const float *w, const float *b, float *out, int n) {
  dense(&s->ex, out, in, w, b, n, (int)s->l->in_size, s->l->units, s->relu);
}

static void dense_bn_forward(dg_net *net, dg_step *s, const float *in, int n,
                             dg_rng *rng) {
  dg_bn_fold_run(net, s, in, n, dense_run);
}

const dg_op dg_op_dense_bn = {"dense+bn", dense_bn_forward, NULL, NULL, NULL,
                              NULL};

/* Small batches: one GEMV per image on weights packed once (a batch norm
 * after the layer folded in first). */
static void dense_one_forward(dg_net *net, dg_step *s, const float *in, int n,
                              dg_rng *rng) {
  dg_layer *l = s->l, *e = &net->layers[s->last];
  const float *w = net->plans[DG_PLAN_ONE]->packed + s->off;
  for (int b = 0; b < n; b++)
    dg_infer_dense(in + (size_t)b * l->in_size, (int)l->in_size, w, l->units,
                   s->relu, e->out + (size_t)b * e->out_size);
}

static size_t dense_one_packed(const dg_net *net, const dg_step *s) {
  return dg_infer_dense_packed_size((int)s->l->in_size, s->l->units);
}

static void dense_one_pack(dg_net *net, dg_step *s, float *dst) {
  dg_layer *l = s->l;
  const float *w = dg_layer_w(net, l, 0), *b = dg_layer_w(net, l, 1);
  if (s->bn) { /* net->fold is sized for this (dg_net_reserve) */
    size_t nw = net->tensors[l->t0].size;
    dg_bn_fold(net, s->bn, w, b, nw, l->units, net->fold, net->fold + nw);
    w = net->fold, b = net->fold + nw;
  }
  dg_infer_dense_pack(w, b, (int)l->in_size, l->units, dst);
}

const dg_op dg_op_dense_one = {"dense (packed)", dense_one_forward, NULL, NULL,
                               dense_one_packed, dense_one_pack};

/* ---- the layer kind ---------------------------------------------------------- */

static const char *dense_args(dg_layer *l, char **tok, int nt, int *h, int *w,
                              int *c) {
  if (nt != 2 || !dg_arch_int(tok[1], 1, 1 << 16, &l->units))
    return "needs a unit count (1..65536)";
  if (l->in_size > (1u << 24)) return "input too large for a dense layer";
  *h = *w = 1, *c = l->units;
  return NULL;
}

static void dense_spec(const dg_layer *l, char *buf, size_t cap) {
  snprintf(buf, cap, " %d", l->units);
}

/* weight (I, U), Glorot; bias (U) */
static int dense_tensors(const dg_layer *l, dg_tensor_spec *t) {
  t[0] = (dg_tensor_spec){"weight", 2, {(int)l->in_size, l->units}, 1, 1,
                          DG_INIT_GLOROT, (float)l->in_size, (float)l->units};
  t[1] = (dg_tensor_spec){"bias", 1, {l->units}, 1, 0, DG_INIT_ZEROS, 0, 0};
  return 2;
}

const dg_layer_type dg_layer_dense = {"dense", NULL, "Dense", dense_args,
                                      dense_spec, dense_tensors, &dg_op_dense,
                                      1};
