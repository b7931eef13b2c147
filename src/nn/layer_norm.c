/* layer_norm.c: batch normalisation's operations, forward and backward side
 * by side: the layer (training: batch statistics and running averages;
 * inference: the running ones), with a ReLU in its epilogue; the training
 * fusion of batch norm, ReLU and max pooling in one pass (dg_op_bn_relu_
 * maxpool), whose backward is one pass too; and the folding of a batch
 * norm into the dense or conv layer before it (dg_bn_fold, inference). */
#include <math.h>

#include "nn/nn.h"

/* Batch statistics, the running averages, and the scale and shift that
 * apply the normalisation: y = x * scale + shift. */
static void train_stats(const dg_exec *ex, float eps, float *stat,
                        const float *in, const float *gamma,
                        const float *beta, float *rmean, float *rvar,
                        size_t rows, int C, float *work, float *scale,
                        float *shift) {
  float *mean = stat, *invstd = stat + C, *var = stat + 2 * C;
  dg_bn_stats(ex, in, rows, C, mean, var, work);
  for (int c = 0; c < C; c++) {
    invstd[c] = 1.0f / sqrtf(var[c] + eps);
    scale[c] = gamma[c] * invstd[c];
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  /* running variance is the unbiased estimate, as inference sees it */
  float unbias = rows > 1 ? (float)rows / (float)(rows - 1) : 1.0f;
  for (int c = 0; c < C; c++) {
    rmean[c] = DG_BN_MOMENTUM * rmean[c] + (1 - DG_BN_MOMENTUM) * mean[c];
    rvar[c] = DG_BN_MOMENTUM * rvar[c] + (1 - DG_BN_MOMENTUM) * var[c] * unbias;
  }
}

static void bn_forward(dg_net *net, dg_step *s, const float *in, int n,
                       dg_rng *rng) {
  dg_layer *l = s->l;
  const float *gamma = dg_layer_w(net, l, 0), *beta = dg_layer_w(net, l, 1);
  float *rmean = dg_layer_w(net, l, 2), *rvar = dg_layer_w(net, l, 3);
  size_t rows = (size_t)n * l->oh * l->ow;
  int C = l->oc;
  float scale[DG_BN_MAX_C], shift[DG_BN_MAX_C];
  if (net->train) {
    train_stats(&s->ex, net->bn_eps, l->stat, in, gamma, beta, rmean, rvar,
                rows, C, net->work, scale, shift);
  } else { /* one scale and shift per channel from the running statistics */
    for (int c = 0; c < C; c++) {
      scale[c] = gamma[c] / sqrtf(rvar[c] + net->bn_eps);
      shift[c] = beta[c] - rmean[c] * scale[c];
    }
  }
  dg_scale_shift(&s->ex, in, rows, C, scale, shift, s->relu, l->out);
}

/* Reads the layer's input (xhat is recomputed, not stored) and, with a
 * ReLU in the epilogue, the output as its mask. */
static void bn_backward(dg_net *net, dg_step *s, const float *in, float *din,
                        int n) {
  dg_layer *l = s->l;
  int C = l->oc;
  dg_bn_grad(&s->ex, in, l->dout, s->relu ? l->out : NULL,
             (size_t)n * l->oh * l->ow, C, l->stat, l->stat + C,
             dg_layer_w(net, l, 0), dg_layer_g(net, l, 0),
             dg_layer_g(net, l, 1), din, net->work);
}

static size_t bn_work(const dg_net *net, const dg_step *s, int n) {
  const dg_layer *l = s->l;
  return dg_bn_work((size_t)n * l->oh * l->ow, l->oc);
}

const dg_op dg_op_bn = {"bn", bn_forward, bn_backward, bn_work, NULL, NULL};

/* Training: batch norm, ReLU and max pooling in one pass; the full-size
 * activation is never stored: only the pool's out, arg and aux (the norm's
 * input at each max, for the backward). */
static void bn_relu_maxpool_forward(dg_net *net, dg_step *s, const float *in,
                                    int n, dg_rng *rng) {
  dg_layer *l = s->l, *mp = s->pool;
  float scale[DG_BN_MAX_C], shift[DG_BN_MAX_C];
  train_stats(&s->ex, net->bn_eps, l->stat, in, dg_layer_w(net, l, 0),
              dg_layer_w(net, l, 1), dg_layer_w(net, l, 2),
              dg_layer_w(net, l, 3), (size_t)n * l->oh * l->ow, l->oc,
              net->work, scale, shift);
  dg_scale_shift_maxpool(&s->ex, in, n, l->oh, l->ow, l->oc, scale, shift, 1,
                         mp->pool, mp->out, mp->arg, mp->aux);
}

/* straight from the pooled gradient to the norm's input */
static void bn_relu_maxpool_backward(dg_net *net, dg_step *s, const float *in,
                                     float *din, int n) {
  dg_layer *l = s->l, *mp = s->pool;
  dg_maxpool_bn_grad(&s->ex, mp->dout, mp->out, mp->arg, mp->aux, in, n,
                     mp->ih, mp->iw, mp->ic, mp->pool, l->stat,
                     l->stat + l->oc, dg_layer_w(net, l, 0),
                     dg_layer_g(net, l, 0), dg_layer_g(net, l, 1), din,
                     net->work);
}

static size_t bn_relu_maxpool_work(const dg_net *net, const dg_step *s, int n) {
  const dg_layer *l = s->l;
  size_t a = bn_work(net, s, n);
  size_t b = dg_maxpool_bn_work(n, l->oh, l->ow, l->oc, s->pool->pool);
  return a > b ? a : b;
}

const dg_op dg_op_bn_relu_maxpool = {"bn+relu+maxpool", bn_relu_maxpool_forward,
                                     bn_relu_maxpool_backward,
                                     bn_relu_maxpool_work, NULL, NULL};

/* Each output channel scaled by gamma/sqrt(var + eps), the bias shifted. */
void dg_bn_fold(const dg_net *net, const dg_layer *bn, const float *w,
                const float *b, size_t nw, int F, float *wf, float *bf) {
  const float *gamma = dg_layer_w(net, bn, 0), *beta = dg_layer_w(net, bn, 1);
  const float *rmean = dg_layer_w(net, bn, 2), *rvar = dg_layer_w(net, bn, 3);
  float *scale = bf; /* the bias slots hold the scales until the end */
  for (int f = 0; f < F; f++)
    scale[f] = gamma[f] / sqrtf(rvar[f] + net->bn_eps);
  for (size_t i = 0; i < nw; i += F) /* rows of F, no division */
    for (int f = 0; f < F; f++) wf[i + f] = w[i + f] * scale[f];
  for (int f = 0; f < F; f++)
    bf[f] = (b[f] - rmean[f]) * scale[f] + beta[f];
}

/* Batched inference of a dense or conv layer s->l with the batch norm
 * s->bn after it (and a ReLU if s->relu): the norm's scale and shift
 * folded into the weights and bias, one pass instead of two, by
 * run(w, b) into the norm's output. Done per call, so only when the
 * outputs outnumber the weights (small batches of a wide layer would
 * spend more on folding than on the norm's pass): else run on the
 * layer's own weights without the ReLU, then the norm's own pass. */
void dg_bn_fold_run(dg_net *net, dg_step *s, const float *in, int n,
                    dg_fold_runner run) {
  dg_layer *l = s->l, *bn = s->bn;
  size_t nw = net->tensors[l->t0].size;
  int F = bn->oc;
  if (l->out_size * (size_t)n < nw) {
    dg_step alone = {.l = l, .ex = s->ex};
    run(net, &alone, in, dg_layer_w(net, l, 0), dg_layer_w(net, l, 1), l->out,
        n);
    dg_op_bn.forward(net, &(dg_step){.l = bn, .relu = s->relu, .ex = s->ex},
                     l->out, n, NULL);
    return;
  }
  float *wf = net->fold, *bf = net->fold + nw;
  dg_bn_fold(net, bn, dg_layer_w(net, l, 0), dg_layer_w(net, l, 1), nw, F, wf,
             bf);
  run(net, s, in, wf, bf, bn->out, n);
}

/* ---- the layer kind ---------------------------------------------------------- */

static const char *bn_args(dg_layer *l, char **tok, int nt, int *h, int *w,
                           int *c) {
  if (*c > DG_BN_MAX_C) return "too many channels for batch norm";
  return nt != 1 ? "takes no arguments" : NULL;
}

/* gamma, beta (C), trained; the running mean and variance (C), state */
static int bn_tensors(const dg_layer *l, dg_tensor_spec *t) {
  t[0] = (dg_tensor_spec){"gamma", 1, {l->ic}, 1, 0, DG_INIT_ONES, 0, 0};
  t[1] = (dg_tensor_spec){"beta", 1, {l->ic}, 1, 0, DG_INIT_ZEROS, 0, 0};
  t[2] = (dg_tensor_spec){"running_mean", 1, {l->ic}, 0, 0, DG_INIT_ZEROS, 0, 0};
  t[3] = (dg_tensor_spec){"running_var", 1, {l->ic}, 0, 0, DG_INIT_ONES, 0, 0};
  return 4;
}

const dg_layer_type dg_layer_bn = {"bn", "batchnorm", "BatchNormalization",
                                   bn_args, NULL, bn_tensors, &dg_op_bn, 1};
