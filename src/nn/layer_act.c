/* layer_act.c: the layers without weights, forward and backward side by
 * side: the activations (ReLU when no step before takes it in its
 * epilogue, sigmoid, tanh, softmax; each backward from the forward's
 * output; leaky ReLU, whose backward reads its input), inverted dropout,
 * and flatten (NHWC data is already flat). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

static size_t total(const dg_step *s, int n) {
  return s->l->out_size * (size_t)n;
}

static void relu_forward(dg_net *net, dg_step *s, const float *in, int n,
                         dg_rng *rng) {
  dg_relu(&s->ex, in, s->l->out, total(s, n));
}

static void relu_backward(dg_net *net, dg_step *s, const float *in, float *din,
                          int n) {
  if (din) dg_relu_backward(&s->ex, s->l->out, s->l->dout, din, total(s, n));
}

const dg_op dg_op_relu = {"relu", relu_forward, relu_backward, NULL, NULL,
                          NULL};

/* y = x > 0 ? x : alpha * x */
static void leakyrelu_forward(dg_net *net, dg_step *s, const float *in, int n,
                              dg_rng *rng) {
  float *y = s->l->out, a = s->l->alpha;
  for (size_t i = 0; i < total(s, n); i++) y[i] = in[i] > 0 ? in[i] : a * in[i];
}

static void leakyrelu_backward(dg_net *net, dg_step *s, const float *in,
                               float *din, int n) {
  const float *dy = s->l->dout, a = s->l->alpha;
  if (!din) return;
  for (size_t i = 0; i < total(s, n); i++) din[i] = in[i] > 0 ? dy[i] : a * dy[i];
}

const dg_op dg_op_leakyrelu = {"leakyrelu", leakyrelu_forward,
                               leakyrelu_backward, NULL, NULL, NULL};

static void sigmoid_forward(dg_net *net, dg_step *s, const float *in, int n,
                            dg_rng *rng) {
  float *y = s->l->out;
  for (size_t i = 0; i < total(s, n); i++) y[i] = 1.0f / (1.0f + expf(-in[i]));
}

static void sigmoid_backward(dg_net *net, dg_step *s, const float *in,
                             float *din, int n) {
  const float *y = s->l->out, *dy = s->l->dout;
  if (!din) return;
  for (size_t i = 0; i < total(s, n); i++)
    din[i] = dy[i] * y[i] * (1.0f - y[i]);
}

const dg_op dg_op_sigmoid = {"sigmoid", sigmoid_forward, sigmoid_backward,
                             NULL, NULL, NULL};

static void tanh_forward(dg_net *net, dg_step *s, const float *in, int n,
                         dg_rng *rng) {
  float *y = s->l->out;
  for (size_t i = 0; i < total(s, n); i++) y[i] = tanhf(in[i]);
}

static void tanh_backward(dg_net *net, dg_step *s, const float *in, float *din,
                          int n) {
  const float *y = s->l->out, *dy = s->l->dout;
  if (!din) return;
  for (size_t i = 0; i < total(s, n); i++) din[i] = dy[i] * (1.0f - y[i] * y[i]);
}

const dg_op dg_op_tanh = {"tanh", tanh_forward, tanh_backward, NULL, NULL,
                          NULL};

void dg_softmax_forward(float *y, const float *x, int rows, int k) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * k;
    float *yr = y + (size_t)r * k, mx = xr[0], s = 0;
    for (int j = 1; j < k; j++) mx = xr[j] > mx ? xr[j] : mx;
    for (int j = 0; j < k; j++) s += yr[j] = expf(xr[j] - mx);
    for (int j = 0; j < k; j++) yr[j] /= s;
  }
}

/* over rows of C (the channels): dx = y * (dy - sum(dy * y)) */
static void softmax_forward(dg_net *net, dg_step *s, const float *in, int n,
                            dg_rng *rng) {
  dg_layer *l = s->l;
  dg_softmax_forward(l->out, in, (int)(n * (l->out_size / l->oc)), l->oc);
}

static void softmax_backward(dg_net *net, dg_step *s, const float *in,
                             float *din, int n) {
  dg_layer *l = s->l;
  int rows = (int)(n * (l->out_size / l->oc)), k = l->oc;
  if (!din) return;
  for (int r = 0; r < rows; r++) {
    const float *dyr = l->dout + (size_t)r * k, *yr = l->out + (size_t)r * k;
    float *dxr = din + (size_t)r * k, dot = 0;
    for (int j = 0; j < k; j++) dot += dyr[j] * yr[j];
    for (int j = 0; j < k; j++) dxr[j] = yr[j] * (dyr[j] - dot);
  }
}

const dg_op dg_op_softmax = {"softmax", softmax_forward, softmax_backward,
                             NULL, NULL, NULL};

/* Inverted dropout: the mask (aux) holds 0 or 1/(1-rate); in inference the
 * layer passes its input on. */
static void dropout_forward(dg_net *net, dg_step *s, const float *in, int n,
                            dg_rng *rng) {
  dg_layer *l = s->l;
  size_t t = total(s, n);
  l->out = net->train ? l->buf : (float *)in;
  if (!net->train) return;
  if (l->rate > 0) {
    /* one 64-bit seed per call from the caller's generator */
    uint64_t seed = (uint64_t)dg_rng_u32(rng) << 32 | dg_rng_u32(rng);
    dg_dropout(&s->ex, in, l->out, l->aux, t, l->rate, seed);
  } else {
    for (size_t j = 0; j < t; j++) l->out[j] = in[j], l->aux[j] = 1;
  }
}

static void dropout_backward(dg_net *net, dg_step *s, const float *in,
                             float *din, int n) {
  if (din) dg_mul(&s->ex, s->l->dout, s->l->aux, din, total(s, n));
}

const dg_op dg_op_dropout = {"dropout", dropout_forward, dropout_backward,
                             NULL, NULL, NULL};

/* NHWC: the same data; the gradient passes straight through (its dout is
 * its input's, set by dg_net_reserve) */
static void flatten_forward(dg_net *net, dg_step *s, const float *in, int n,
                            dg_rng *rng) {
  s->l->out = (float *)in;
}

static void flatten_backward(dg_net *net, dg_step *s, const float *in,
                             float *din, int n) {}

const dg_op dg_op_flatten = {"flatten", flatten_forward, flatten_backward,
                             NULL, NULL, NULL};

/* ---- the layer kinds --------------------------------------------------------- */

static const char *dropout_args(dg_layer *l, char **tok, int nt, int *h,
                                int *w, int *c) {
  char *end = NULL;
  l->rate = nt == 2 ? strtof(tok[1], &end) : -1;
  if (nt != 2 || *end || !(l->rate >= 0 && l->rate < 1))
    return "needs a rate in [0, 1)";
  return NULL;
}

static void dropout_spec(const dg_layer *l, char *buf, size_t cap) {
  snprintf(buf, cap, " %g", l->rate);
}

static const char *leakyrelu_args(dg_layer *l, char **tok, int nt, int *h,
                                  int *w, int *c) {
  char *end = NULL;
  l->alpha = nt == 2 ? strtof(tok[1], &end) : -1;
  if (nt != 2 || *end || !(l->alpha >= 0 && l->alpha <= 1))
    return "needs a slope (alpha) in [0, 1]";
  return NULL;
}

/* The shortest of %g and %.9g that reads back as the same float. */
static void leakyrelu_spec(const dg_layer *l, char *buf, size_t cap) {
  snprintf(buf, cap, " %g", l->alpha);
  if (strtof(buf, NULL) != l->alpha) snprintf(buf, cap, " %.9g", l->alpha);
}

static const char *flatten_args(dg_layer *l, char **tok, int nt, int *h,
                                int *w, int *c) {
  *c = *h * *w * *c, *h = *w = 1;
  return nt != 1 ? "takes no arguments" : NULL;
}

/* An activation-like kind: no tensors of its own, no epilogue. */
#define ACT_TYPE(keyword, name, args, spec, op) \
  { keyword, NULL, name, args, spec, NULL, &op, 0 }

const dg_layer_type dg_layer_relu =
    ACT_TYPE("relu", "ReLU", NULL, NULL, dg_op_relu);
const dg_layer_type dg_layer_sigmoid =
    ACT_TYPE("sigmoid", "Sigmoid", NULL, NULL, dg_op_sigmoid);
const dg_layer_type dg_layer_tanh =
    ACT_TYPE("tanh", "Tanh", NULL, NULL, dg_op_tanh);
const dg_layer_type dg_layer_softmax =
    ACT_TYPE("softmax", "Softmax", NULL, NULL, dg_op_softmax);
const dg_layer_type dg_layer_leakyrelu =
    ACT_TYPE("leakyrelu", "LeakyReLU", leakyrelu_args, leakyrelu_spec,
             dg_op_leakyrelu);
const dg_layer_type dg_layer_dropout =
    ACT_TYPE("dropout", "Dropout", dropout_args, dropout_spec, dg_op_dropout);
const dg_layer_type dg_layer_flatten =
    ACT_TYPE("flatten", "Flatten", flatten_args, NULL, dg_op_flatten);
