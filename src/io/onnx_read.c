/* onnx_read.c: ONNX -> net (dg_onnx_import_mem).
 *
 * The file's messages are read by onnx_parse.c (on pb.c's wire-format
 * reader) into an ox_model indexed in place. The graph must be a
 * chain from its one data input to its one output: each node takes the
 * previous node's output plus constants (initializers, Constant nodes).
 * Each node becomes layers of an architecture spec (arch.c's grammar) and
 * their weights in this project's layouts:
 *   Conv (OIHW)            -> conv F K pad P, weight (K, K, C, F)
 *   Gemm / MatMul (+ Add)  -> dense U, weight (in, out) (an Add after a
 *                             Conv, TensorFlow's BiasAdd, is its bias)
 *   BatchNormalization     -> bn (one epsilon for the net)
 *   MaxPool / AveragePool  -> maxpool / avgpool P (kernel = stride = P)
 *   GlobalAveragePool, ReduceMean over H, W -> gap
 *   Relu, LeakyRelu, Sigmoid, Tanh, Softmax / LogSoftmax (-> softmax,
 *   last only),
 *   Flatten / Reshape [N,-1] (the shape a constant, or PyTorch's
 *   Shape -> Gather -> Unsqueeze -> Concat of x.view(x.size(0), -1))
 *   -> flatten; Dropout, Identity, a Pad of zeros -> nothing;
 *   Sub, Div by a scalar before any layer -> the net's input normalisation;
 *   an [N,F] input reshaped to [N,1,H,W] (or [N,H,W,1]) -> input H W 1.
 * Transposes only move axes: the converter tracks which axis holds C, H
 * and W. NHWC graphs (Keras converters, our own exporter's flatten) put
 * pairs that cancel around their layers ([0,3,1,2] to NCHW, [0,2,3,1]
 * back, from an [N,H,W,C] input); layers that care about the order need
 * NCHW, the others (activations, a bias Add, ...) run in any order. ONNX
 * flattens in the order the axes are, (C, H, W) for NCHW, this project in
 * (H, W, C): the rows of the first dense layer after a flatten (and a
 * batch norm between them) are reordered from the flatten's order. A
 * Transpose whose order reaches a layer that needs NCHW is named with its
 * perm.
 * An operator outside this list is named before anything is converted;
 * anything else is one error naming the node, its operator and what is
 * unsupported; no net is handed out unless the whole graph converted.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "io/onnx_model.h"
#include "nn/nn.h"


/* ---- the graph as layers ---------------------------------------------------- */

enum { AX_N, AX_C, AX_H, AX_W }; /* a 4-D tensor's axes by meaning */

typedef struct {
  const ox_model *m;
  char spec[8192];
  size_t slen;
  int nlayers;
  float *t[4 * DG_MAX_LAYERS]; /* the net's tensors, in its order */
  size_t tn[4 * DG_MAX_LAYERS];
  int nt;
  int h, w, c, flat;    /* the current shape (flat: h = w = 1, c features) */
  int perm, pord[3], pd[4]; /* flat features still in the flatten's order:
                         pord the axes as they were flattened, pd each
                         axis's size (indexed by AX_*) */
  int lay[4];           /* the 4-D tensor's axes, each an AX_*: NCHW
                         {N,C,H,W}, NHWC {N,H,W,C} (Transposes move them) */
  const ox_node *tp;    /* the Transpose that left lay other than NCHW */
  char tperm[40];       /* its perm, as text */
  int in_flat;          /* the input is [N,F] (the spec's "flatten" first) */
  int bias;             /* the t index of a dense bias an Add may add to */
  int has_bn, ended, sub, div;
  float eps, mean, std;
  ox_str cur;           /* the chain's current tensor */
} ox_cv;

static int add_layer(ox_cv *cv, const ox_node *nd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int add_layer(ox_cv *cv, const ox_node *nd, const char *fmt, ...) {
  if (cv->nlayers >= DG_MAX_LAYERS - 1)
    return ox_node_err(nd, "the network has over %d layers", DG_MAX_LAYERS - 1);
  if (cv->ended) return ox_node_err(nd, "layers after the softmax are not supported");
  va_list ap;
  va_start(ap, fmt);
  size_t cap = sizeof cv->spec - cv->slen;
  int n = vsnprintf(cv->spec + cv->slen, cap, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= cap) return ox_node_err(nd, "architecture too long");
  cv->slen += (size_t)n;
  cv->nlayers++;
  return DG_OK;
}

/* Keep a tensor for the net (taken over: freed with the converter). */
static int push(ox_cv *cv, float *v, size_t n) {
  if (cv->nt >= 4 * DG_MAX_LAYERS) {
    free(v);
    return dg_error(DG_ERR_FORMAT, "ONNX graph: too many tensors");
  }
  cv->t[cv->nt] = v, cv->tn[cv->nt++] = n;
  return DG_OK;
}

/* An initializer, a Constant's value, or either through up to 8
 * Identity nodes (PyTorch writes an Identity of an initializer where two
 * parameters hold the same values, e.g. an untrained batch norm's). */
static const ox_tensor *find_const(const ox_cv *cv, ox_str name) {
  for (int hop = 0; hop < 8 && name.n; hop++) {
    for (int i = 0; i < cv->m->ninits; i++)
      if (ox_str_same(cv->m->inits[i].name, name)) return &cv->m->inits[i];
    const ox_node *alias = NULL;
    for (int i = 0; i < cv->m->nnodes; i++) {
      const ox_node *nd = &cv->m->nodes[i];
      if (nd->value.msg && ox_str_same(nd->value.name, name)) return &nd->value;
      if (!alias && nd->nin == 1 && nd->nout == 1 && ox_str_eq(nd->op, "Identity") &&
          ox_str_same(nd->out[0], name))
        alias = nd;
    }
    if (!alias) return NULL;
    name = alias->in[0];
  }
  return NULL;
}

/* Input k of a node, a constant of `count` values (0: any), as floats
 * into *out (a new array; its count into *n if not NULL): a status. */
static int const_input(const ox_cv *cv, const ox_node *nd, int k,
                       size_t count, float **out, size_t *n) {
  char nb[64];
  const ox_tensor *t = k < nd->nin ? find_const(cv, nd->in[k]) : NULL;
  if (!t) return ox_node_err(nd, "input %d must be a constant (initializer)", k + 1);
  if (count && t->count != count && !(count > 1 && t->count == 1 && n))
    return ox_node_err(nd, "input \"%s\" has %zu values, expected %zu",
                    ox_shown(t->name, nb), t->count, count);
  if (n) *n = t->count;
  return ox_tensor_values(t, out);
}

/* The features of the current tensor (flat or not). */
static int features(const ox_cv *cv) { return cv->h * cv->w * cv->c; }

/* The size of axis ax (AX_C, AX_H, AX_W) of the current tensor. */
static int axis_size(const ox_cv *cv, int ax) {
  return ax == AX_C ? cv->c : ax == AX_H ? cv->h : cv->w;
}

static int is_nchw(const ox_cv *cv) {
  return cv->lay[1] == AX_C && cv->lay[2] == AX_H && cv->lay[3] == AX_W;
}

static void set_layout(ox_cv *cv, int a1, int a2, int a3) {
  cv->lay[0] = AX_N, cv->lay[1] = a1, cv->lay[2] = a2, cv->lay[3] = a3;
  cv->tp = NULL;
}

/* Flat features in the flatten's order (cv->pord) -> (H, W, C), rows of
 * `row` floats each. */
static float *to_hwc(const ox_cv *cv, float *v, size_t row) {
  const int *d = cv->pd, *p = cv->pord;
  float *o = malloc((size_t)d[AX_C] * d[AX_H] * d[AX_W] * row * sizeof(float));
  if (!o) {
    free(v);
    return NULL;
  }
  int at[4] = {0, 0, 0, 0};
  size_t to = 0;
  for (at[AX_H] = 0; at[AX_H] < d[AX_H]; at[AX_H]++)
    for (at[AX_W] = 0; at[AX_W] < d[AX_W]; at[AX_W]++)
      for (at[AX_C] = 0; at[AX_C] < d[AX_C]; at[AX_C]++, to += row) {
        size_t from = ((size_t)at[p[0]] * d[p[1]] + at[p[1]]) * d[p[2]] + at[p[2]];
        memcpy(o + to, v + from * row, row * sizeof(float));
      }
  free(v);
  return o;
}

/* A layer's weight, the constant wt, as floats (*w); its bias (*b, U
 * values): input 3 of the node if `bias` allows one (1: U values, 2: U or
 * one for all) and it is there, else zeros; and *to, room for the weight
 * in this project's layout. A status; on failure nothing to free. */
static int layer_weights(const ox_cv *cv, const ox_node *nd, const ox_tensor *wt, int U,
                         int bias, float **w, float **b, float **to) {
  size_t nb = 0;
  int st = ox_tensor_values(wt, w), given = bias && nd->nin > 2 && nd->in[2].n;
  if (st) return st;
  *b = *to = NULL;
  if (given) st = const_input(cv, nd, 2, (size_t)U, b, bias == 2 ? &nb : NULL);
  if (!st && (!given || nb == 1)) { /* none (zeros) or one value for all */
    float *all = calloc((size_t)U, sizeof(float));
    for (int u = 0; all && nb && u < U; u++) all[u] = (*b)[0];
    free(*b);
    if (!(*b = all)) st = DG_ERR_NOMEM;
  }
  if (!st && !(*to = malloc(wt->count * sizeof(float)))) st = DG_ERR_NOMEM;
  if (!st) return DG_OK;
  free(*w), free(*b), free(*to);
  *w = *b = *to = NULL;
  return st == DG_ERR_NOMEM ? dg_error(st, "ONNX import: out of memory") : st;
}

/* A layer's weight and bias (taken over) kept for the net. */
static int push_pair(ox_cv *cv, float *w, size_t nw, float *b, size_t nb) {
  int st = push(cv, w, nw);
  if (st) {
    free(b);
    return st;
  }
  return push(cv, b, nb);
}

/* Conv: OIHW weights, stride 1, group 1, the same padding on every side. */
static int cv_conv(ox_cv *cv, const ox_node *nd) {
  const char *known = "auto_pad dilations group kernel_shape pads strides";
  ox_attr a;
  int st;
  if (cv->flat) return ox_node_err(nd, "needs a 4-D [N,C,H,W] input here");
  const ox_tensor *wt = nd->nin > 1 ? find_const(cv, nd->in[1]) : NULL;
  if (!wt || wt->ndim != 4)
    return ox_node_err(nd, "the weight must be a constant of 4 dims (O,I,KH,KW)");
  int O = (int)wt->dims[0], I = (int)wt->dims[1], K = (int)wt->dims[2];
  if (I != cv->c)
    return ox_node_err(nd, "weight has %d input channels, the input has %d", I, cv->c);
  if (wt->dims[3] != K || K < 1 || K > 15 || O < 1 || O > 4096)
    return ox_node_err(nd, "kernel %lldx%lld with %d filters (square kernels up "
                    "to 15, 1..4096 filters are supported)",
                    (long long)wt->dims[2], (long long)wt->dims[3], O);
  if ((st = ox_node_attr(nd, "group", known, &a)) < 0) return st;
  if (st && a.i != 1) return ox_node_err(nd, "group %lld is not supported (1 is)", (long long)a.i);
  const char *list[2] = {"strides", "dilations"};
  for (int k = 0; k < 2; k++) {
    if ((st = ox_node_attr(nd, list[k], known, &a)) < 0) return st;
    for (int j = 0; st && j < a.nints; j++)
      if (a.ints[j] != 1)
        return ox_node_err(nd, "%s %lld are not supported (1 is)", list[k],
                        (long long)a.ints[j]);
  }
  int P = 0;
  if ((st = ox_node_attr(nd, "pads", known, &a)) < 0) return st;
  for (int j = 0; st && j < a.nints; j++) {
    if (a.ints[j] != a.ints[0])
      return ox_node_err(nd, "asymmetric pads are not supported (the same "
                      "padding on every side is)");
    P = a.ints[0] >= 0 && a.ints[0] <= 64 ? (int)a.ints[0] : 65;
  }
  if ((st = ox_node_attr(nd, "auto_pad", known, &a)) < 0) return st;
  if (st && (ox_str_eq(a.s, "SAME_UPPER") || ox_str_eq(a.s, "SAME_LOWER"))) {
    if (K % 2 == 0)
      return ox_node_err(nd, "auto_pad SAME with an even kernel pads asymmetrically "
                      "(not supported)");
    P = (K - 1) / 2;
  } else if (st && !ox_str_eq(a.s, "NOTSET") && !ox_str_eq(a.s, "VALID")) {
    return ox_node_err(nd, "auto_pad is not supported");
  }
  if (P > K - 1)
    return ox_node_err(nd, "padding %d with kernel %d is not supported (0 to %d "
                    "are)", P, K, K - 1);
  if (cv->h - K + 1 + 2 * P < 1 || cv->w - K + 1 + 2 * P < 1)
    return ox_node_err(nd, "kernel larger than its input");
  float *w, *b, *hwio;
  if ((st = layer_weights(cv, nd, wt, O, 1, &w, &b, &hwio))) return st;
  for (int o = 0; o < O; o++)
    for (int i = 0; i < I; i++)
      for (int y = 0; y < K; y++)
        for (int x = 0; x < K; x++)
          hwio[((size_t)(y * K + x) * I + i) * O + o] =
              w[((size_t)(o * I + i) * K + y) * K + x];
  free(w);
  if ((st = push_pair(cv, hwio, wt->count, b, (size_t)O)) ||
      (st = add_layer(cv, nd, "; conv %d %d pad %d", O, K, P)))
    return st;
  cv->h += 2 * P - K + 1, cv->w += 2 * P - K + 1, cv->c = O;
  cv->bias = cv->nt - 1;
  return DG_OK;
}

/* Gemm (B as (in,out) or, with transB, (out,in); alpha, beta, C) and
 * MatMul (B (in,out); an Add after it gives the bias) -> dense. */
static int cv_dense(ox_cv *cv, const ox_node *nd, int gemm) {
  ox_attr a;
  int st, transB = 0;
  float alpha = 1, beta = 1;
  const char *known = gemm ? "alpha beta transA transB" : "";
  if ((st = ox_node_attr(nd, "transA", known, &a)) < 0) return st;
  if (st && a.i) return ox_node_err(nd, "transA is not supported");
  if ((st = ox_node_attr(nd, "transB", known, &a)) < 0) return st;
  transB = st && a.i;
  if ((st = ox_node_attr(nd, "alpha", known, &a)) < 0) return st;
  if (st) alpha = a.f;
  if ((st = ox_node_attr(nd, "beta", known, &a)) < 0) return st;
  if (st) beta = a.f;
  if (!cv->flat) return ox_node_err(nd, "needs a 2-D [N,F] input (a Flatten before it)");
  const ox_tensor *bt = nd->nin > 1 ? find_const(cv, nd->in[1]) : NULL;
  if (!bt || bt->ndim != 2)
    return ox_node_err(nd, "the weight must be a constant of 2 dims");
  int in = (int)bt->dims[transB], U = (int)bt->dims[!transB];
  if (in != features(cv))
    return ox_node_err(nd, "weight takes %d features, the input has %d", in,
                    features(cv));
  if (U < 1 || U > 65536) return ox_node_err(nd, "%d units are not supported", U);
  float *w, *b, *io;
  if ((st = layer_weights(cv, nd, bt, U, gemm ? 2 : 0, &w, &b, &io))) return st;
  for (int i = 0; i < in; i++)
    for (int u = 0; u < U; u++)
      io[(size_t)i * U + u] = alpha * (transB ? w[(size_t)u * in + i] : w[(size_t)i * U + u]);
  for (int u = 0; gemm && nd->nin > 2 && nd->in[2].n && u < U; u++) b[u] *= beta;
  free(w);
  if (cv->perm && !(io = to_hwc(cv, io, (size_t)U))) {
    free(b);
    return dg_error(DG_ERR_NOMEM, "ONNX import: out of memory");
  }
  cv->perm = 0;
  if ((st = push_pair(cv, io, (size_t)in * U, b, (size_t)U)) ||
      (st = add_layer(cv, nd, "; dense %d", U)))
    return st;
  cv->c = U, cv->h = cv->w = 1;
  cv->bias = cv->nt - 1;
  return DG_OK;
}

/* Add: a bias onto the Conv, Gemm or MatMul just before (a Transpose may
 * sit between: TensorFlow adds a Conv's bias in NHWC). The constant must
 * broadcast along the channels: [C] on [N,C] or [N,H,W,C], [C,1,1] on
 * [N,C,H,W], or one value. */
static int cv_add(ox_cv *cv, const ox_node *nd) {
  char nb[64];
  if (cv->bias < 0)
    return ox_node_err(nd, "only a bias right after Conv, MatMul or Gemm is supported");
  int other = ox_str_same(nd->in[0], cv->cur) ? 1 : 0;
  const ox_tensor *t = find_const(cv, nd->in[other]);
  int rank = cv->flat ? 2 : 4, at = 1; /* the channels' axis */
  for (int j = 1; j < rank && !cv->flat; j++) at = cv->lay[j] == AX_C ? j : at;
  int fits = t && t->ndim <= rank;
  for (int i = 0; fits && i < t->ndim && t->count > 1; i++)
    fits = t->dims[i] == (rank - t->ndim + i == at ? (int64_t)cv->tn[cv->bias] : 1);
  if (t && !fits)
    return ox_node_err(nd, "input \"%s\" does not add one value per channel",
                    ox_shown(t->name, nb));
  float *v = NULL;
  size_t n = 0;
  int st = const_input(cv, nd, other, cv->tn[cv->bias], &v, &n);
  if (st) return st;
  for (size_t u = 0; u < cv->tn[cv->bias]; u++) cv->t[cv->bias][u] += v[n == 1 ? 0 : u];
  free(v);
  return DG_OK;
}

/* BatchNormalization (running statistics) -> bn; one epsilon per net. */
static int cv_bn(ox_cv *cv, const ox_node *nd) {
  const char *known = "epsilon momentum spatial training_mode is_test consumed_inputs";
  ox_attr a;
  int st;
  float eps = 1e-5f;
  if ((st = ox_node_attr(nd, "epsilon", known, &a)) < 0) return st;
  if (st) eps = a.f;
  if ((st = ox_node_attr(nd, "training_mode", known, &a)) < 0) return st;
  if (st && a.i) return ox_node_err(nd, "training_mode 1 is not supported");
  if ((st = ox_node_attr(nd, "spatial", known, &a)) < 0) return st;
  if (st && a.i != 1) return ox_node_err(nd, "spatial 0 is not supported");
  if (cv->has_bn && eps != cv->eps)
    return ox_node_err(nd, "epsilon %g differs from an earlier one (%g): one per "
                    "network is supported", eps, cv->eps);
  if (!(eps >= DG_BN_EPS_MIN && eps <= DG_BN_EPS_MAX))
    return ox_node_err(nd, "epsilon %g is out of range", eps);
  cv->has_bn = 1, cv->eps = eps;
  size_t C = (size_t)(cv->flat ? features(cv) : cv->c);
  if (C > DG_BN_MAX_C) return ox_node_err(nd, "%zu channels are too many", C);
  float *v[4] = {NULL, NULL, NULL, NULL};
  for (int k = 0; k < 4; k++) {
    if ((st = const_input(cv, nd, k + 1, C, &v[k], NULL))) break;
    if (cv->perm && cv->flat && !(v[k] = to_hwc(cv, v[k], 1)))
      st = dg_error(DG_ERR_NOMEM, "ONNX import: out of memory");
    if (st) break;
  }
  for (int k = 0; k < 4; k++) {
    if (st) free(v[k]);
    else if ((st = push(cv, v[k], C))) /* the rest are freed above */
      for (int j = k + 1; j < 4; j++) free(v[j]), v[j] = NULL;
  }
  for (int k = 0; !st && k < 4; k++)
    if (k == 3)
      for (size_t i = 0; i < C; i++)
        if (v[3][i] < 0) return ox_node_err(nd, "a negative running variance");
  return st ? st : add_layer(cv, nd, "; bn");
}

/* MaxPool / AveragePool with kernel = stride, no padding. */
static int cv_pool(ox_cv *cv, const ox_node *nd, int max) {
  const char *known = "auto_pad ceil_mode count_include_pad dilations "
                      "kernel_shape pads storage_order strides";
  ox_attr a;
  int st, K = 0;
  if (cv->flat) return ox_node_err(nd, "needs a 4-D [N,C,H,W] input here");
  if ((st = ox_node_attr(nd, "kernel_shape", known, &a)) < 0) return st;
  if (!st || a.nints != 2 || a.ints[0] != a.ints[1] || a.ints[0] < 1 ||
      a.ints[0] > 64)
    return ox_node_err(nd, "kernel_shape must be square, 1..64");
  K = (int)a.ints[0];
  if ((st = ox_node_attr(nd, "strides", known, &a)) < 0) return st;
  for (int j = 0; j < (st ? a.nints : 2); j++)
    if ((st ? a.ints[j] : 1) != K)
      return ox_node_err(nd, "strides other than the kernel size (%d) are not "
                      "supported", K);
  const char *zero[2] = {"pads", "ceil_mode"};
  for (int k = 0; k < 2; k++) {
    if ((st = ox_node_attr(nd, zero[k], known, &a)) < 0) return st;
    int bad = st && (k ? a.i != 0 && (cv->h % K || cv->w % K) : 0);
    for (int j = 0; st && !k && j < a.nints; j++) bad |= a.ints[j] != 0;
    if (bad) return ox_node_err(nd, "%s are not supported", zero[k]);
  }
  if ((st = ox_node_attr(nd, "dilations", known, &a)) < 0) return st;
  for (int j = 0; st && j < a.nints; j++)
    if (a.ints[j] != 1) return ox_node_err(nd, "dilations are not supported");
  if ((st = ox_node_attr(nd, "auto_pad", known, &a)) < 0) return st;
  if (st && !ox_str_eq(a.s, "NOTSET") && !ox_str_eq(a.s, "VALID"))
    return ox_node_err(nd, "auto_pad is not supported");
  if (cv->h / K < 1 || cv->w / K < 1) return ox_node_err(nd, "pool larger than its input");
  if ((st = add_layer(cv, nd, "; %s %d", max ? "maxpool" : "avgpool", K))) return st;
  cv->h /= K, cv->w /= K;
  return DG_OK;
}

/* ---- shape arithmetic: x.view(x.size(0), -1) ------------------------------ */

/* PyTorch writes x.view(x.size(0), -1) as Shape -> Gather -> Unsqueeze ->
 * Concat -> Reshape. Those four operators are set aside from the chain of
 * layers (like Constant) and evaluated when a Reshape takes their output
 * as its shape; the batch size stays a symbol. */
#define OX_BATCH INT64_MIN /* the batch dimension N */
#define OX_SHAPE_STEPS 64  /* nodes and constants one shape may come from */

typedef struct {
  int64_t v[OX_MAX_DIMS];
  int n, rank; /* rank 0: a scalar (n = 1) */
} ox_shape;

static int is_shape_op(ox_str op) {
  return ox_str_eq(op, "Shape") || ox_str_eq(op, "Gather") || ox_str_eq(op, "Unsqueeze") ||
         ox_str_eq(op, "Concat");
}

static const ox_node *producer(const ox_cv *cv, ox_str name) {
  for (int i = 0; i < cv->m->nnodes; i++)
    if (cv->m->nodes[i].nout > 0 && ox_str_same(cv->m->nodes[i].out[0], name))
      return &cv->m->nodes[i];
  return NULL;
}

/* A constant of at most OX_MAX_DIMS integers as a shape value. */
static int const_shape(const ox_node *rs, const ox_tensor *t, ox_shape *s) {
  char nb[64];
  if (t->ndim > 1 || t->count < 1 || t->count > OX_MAX_DIMS)
    return ox_node_err(rs, "shape input \"%s\" is not a short 1-D list", ox_shown(t->name, nb));
  float *v = NULL;
  int st = ox_tensor_values(t, &v);
  if (st) return st;
  s->n = (int)t->count, s->rank = t->ndim;
  for (int i = 0; i < s->n && !st; i++) {
    if (!(fabsf(v[i]) < 1e9f) || v[i] != floorf(v[i]))
      st = ox_node_err(rs, "shape input \"%s\" holds a value that is not a "
                    "dimension", ox_shown(t->name, nb));
    else s->v[i] = (int64_t)v[i];
  }
  free(v);
  return st;
}

static int shape_of(const ox_cv *cv, const ox_node *rs, ox_str name, ox_shape *s,
                    int *steps);

/* Shape of the reshaped tensor (ONNX's order), Gather, Unsqueeze [0] of a
 * scalar, Concat along axis 0. */
static int shape_op(const ox_cv *cv, const ox_node *rs, const ox_node *nd,
                    ox_shape *s, int *steps) {
  ox_attr a;
  ox_shape x, y;
  int st;
  if (ox_str_eq(nd->op, "Shape")) {
    if ((st = ox_node_attr(nd, "", "", &a)) < 0) return st;
    if (nd->nin != 1 || !ox_str_same(nd->in[0], rs->in[0]))
      return ox_node_err(nd, "only the shape of the tensor being reshaped is supported");
    int64_t d[4] = {OX_BATCH, axis_size(cv, cv->lay[1]), axis_size(cv, cv->lay[2]),
                    axis_size(cv, cv->lay[3])};
    if (cv->flat) d[1] = cv->c;
    s->n = cv->flat ? 2 : 4, s->rank = 1;
    memcpy(s->v, d, sizeof d);
    return DG_OK;
  }
  if (nd->nin < 1) return ox_node_err(nd, "needs an input");
  if ((st = shape_of(cv, rs, nd->in[0], &x, steps))) return st;
  if (ox_str_eq(nd->op, "Gather")) {
    if ((st = ox_node_attr(nd, "axis", "axis", &a)) < 0) return st;
    if (nd->nin != 2 || x.rank != 1 || (st && a.i != 0 && a.i != -1))
      return ox_node_err(nd, "only indices into a 1-D shape are supported");
    if ((st = shape_of(cv, rs, nd->in[1], &y, steps))) return st;
    for (int i = 0; i < y.n; i++) {
      int64_t k = y.v[i] < 0 ? y.v[i] + x.n : y.v[i];
      if (k < 0 || k >= x.n)
        return ox_node_err(nd, "index %lld is out of range", (long long)y.v[i]);
      s->v[i] = x.v[k];
    }
    s->n = y.n, s->rank = y.rank;
    return DG_OK;
  }
  if (ox_str_eq(nd->op, "Unsqueeze")) {
    if ((st = ox_node_attr(nd, "axes", "axes", &a)) < 0) return st;
    if (st) y.n = a.nints, memcpy(y.v, a.ints, sizeof a.ints);
    else if (nd->nin != 2) return ox_node_err(nd, "needs its axes");
    else if ((st = shape_of(cv, rs, nd->in[1], &y, steps))) return st;
    if (x.rank != 0 || y.n != 1 || (y.v[0] != 0 && y.v[0] != -1))
      return ox_node_err(nd, "only axes [0] of a scalar are supported");
    *s = x, s->rank = 1;
    return DG_OK;
  }
  if ((st = ox_node_attr(nd, "axis", "axis", &a)) < 0) return st; /* Concat */
  if (!st || (a.i != 0 && a.i != -1)) return ox_node_err(nd, "only axis 0 is supported");
  *s = x;
  for (int k = 1; k < nd->nin && x.rank == 1; k++) {
    if ((st = shape_of(cv, rs, nd->in[k], &x, steps))) return st;
    if (x.rank != 1 || s->n + x.n > OX_MAX_DIMS) break;
    memcpy(s->v + s->n, x.v, (size_t)x.n * sizeof x.v[0]);
    s->n += x.n;
  }
  return x.rank == 1 && s->rank == 1 ? DG_OK
                                     : ox_node_err(nd, "only short 1-D shapes are supported");
}

/* The value of tensor `name`, a shape the Reshape rs may take: a constant
 * or what shape_op computes. */
static int shape_of(const ox_cv *cv, const ox_node *rs, ox_str name, ox_shape *s,
                    int *steps) {
  char nb[64];
  if (++*steps > OX_SHAPE_STEPS)
    return ox_node_err(rs, "its shape comes from over %d nodes", OX_SHAPE_STEPS);
  const ox_tensor *t = find_const(cv, name);
  if (t) return const_shape(rs, t, s);
  const ox_node *nd = producer(cv, name);
  if (!nd || !is_shape_op(nd->op))
    return ox_node_err(rs, "its shape \"%s\" must be a constant or come from Shape, "
                    "Gather, Unsqueeze and Concat", ox_shown(name, nb));
  return shape_op(cv, rs, nd, s, steps);
}

static int perm_is(const ox_attr *a, int p1, int p2, int p3) {
  return a->nints == 4 && a->ints[0] == 0 && a->ints[1] == p1 &&
         a->ints[2] == p2 && a->ints[3] == p3;
}

/* The net's input is (H, W, C) = (h, w, c): the spec's first line again
 * (before any layer). */
static void set_input(ox_cv *cv, int h, int w, int c) {
  cv->h = h, cv->w = w, cv->c = c, cv->flat = 0, cv->nlayers = 0;
  cv->slen = (size_t)snprintf(cv->spec, sizeof cv->spec, "input %d %d %d", h, w, c);
}

/* The flat input [N,F] reshaped to [N,1,H,W] or [N,H,W,1] (F = H * W)
 * before any layer: the net's input is that image. */
static int reshape_input(ox_cv *cv, const ox_node *nd, const ox_shape *s) {
  const int64_t *v = s->v;
  int nhwc = v[1] != 1 && v[3] == 1;
  int64_t h = v[2 - nhwc], w = v[3 - nhwc];
  if ((v[0] != OX_BATCH && (v[0] == 0 || v[0] < -1)) || (v[1] != 1 && v[3] != 1) || h < 1 || w < 1 ||
      h * w != features(cv))
    return ox_node_err(nd, "only a reshape of the [N,%d] input to [N,1,H,W] or "
                    "[N,H,W,1] is supported", features(cv));
  set_input(cv, (int)h, (int)w, 1);
  cv->in_flat = 0;
  if (nhwc) set_layout(cv, AX_H, AX_W, AX_C);
  return DG_OK;
}

/* Flatten (axis 1), or Reshape to [N, -1]: the (C, H, W) order is
 * remembered for the next dense layer, unless a Transpose made it NHWC. */
static int cv_flatten(ox_cv *cv, const ox_node *nd, int reshape) {
  ox_attr a;
  int st;
  if (reshape) {
    if ((st = ox_node_attr(nd, "", "allowzero", &a)) < 0) return st;
    ox_shape s;
    int steps = 0;
    if (nd->nin < 2) return ox_node_err(nd, "needs its shape");
    if ((st = shape_of(cv, nd, nd->in[1], &s, &steps))) return st;
    int computed = !find_const(cv, nd->in[1]); /* its N must be x.size(0) */
    if (s.n == 4 && cv->in_flat && cv->nlayers == 1) /* [N,784] -> image */
      return reshape_input(cv, nd, &s);
    if (s.n != 2 || (computed && s.v[0] != OX_BATCH) ||
        !((s.v[1] == -1 && s.v[0] != -1) || s.v[1] == features(cv)))
      return ox_node_err(nd, "only a shape [N, -1] (flatten) is supported");
  } else {
    if ((st = ox_node_attr(nd, "axis", "axis", &a)) < 0) return st;
    if (st && a.i != 1) return ox_node_err(nd, "axis %lld is not supported (1 is)", (long long)a.i);
  }
  if (cv->flat) return DG_OK;
  /* the features in the order of the tensor's axes: (H, W, C) as this
   * project flattens, or reordered at the next dense layer */
  int last = -1, order = 1; /* the axes of size > 1 in (H, W, C) order? */
  for (int j = 1; j < 4; j++) {
    int ax = cv->lay[j], rank = ax == AX_C ? 2 : ax - AX_H;
    cv->pord[j - 1] = ax, cv->pd[ax] = axis_size(cv, ax);
    if (cv->pd[ax] == 1) continue;
    order &= rank > last;
    last = rank;
  }
  cv->perm = !order;
  set_layout(cv, AX_C, AX_H, AX_W);
  cv->flat = 1;
  cv->c = features(cv), cv->h = cv->w = 1;
  return add_layer(cv, nd, "; flatten");
}

/* Transpose: the axes move (cv->lay follows them), nothing is computed.
 * NHWC graphs (Keras converters, our own exporter's flatten) put pairs
 * that cancel around their layers ([0,3,1,2] to NCHW, [0,2,3,1] back);
 * between them only layers that do not mind the order run, and a flatten
 * takes the axes in whatever order they are (the next dense layer's rows
 * are reordered). Before any layer, [0,3,1,2] of an input read as
 * [N,C,H,W] says it is [N,H,W,C]. */
static int cv_transpose(ox_cv *cv, const ox_node *nd) {
  ox_attr a;
  char ps[40] = "[";
  int st = ox_node_attr(nd, "perm", "perm", &a);
  if (st < 0) return st;
  if (!st) return ox_node_err(nd, "needs its perm (the default, axes reversed, moves the batch)");
  int rank = cv->flat ? 2 : 4, seen = 0, ok = a.nints == rank && a.ints[0] == 0;
  for (int j = 0; j < a.nints; j++) {
    int64_t q = a.ints[j];
    ok &= q >= 0 && q < rank && !(seen & (1 << q));
    seen |= q >= 0 && q < rank ? 1 << q : 0;
    size_t at = strlen(ps);
    snprintf(ps + at, sizeof ps - at, "%s%lld", j ? "," : "", (long long)(q < 99 && q > -99 ? q : 99));
  }
  strcat(ps, "]");
  if (!ok)
    return ox_node_err(nd, "perm %s is not supported (a permutation of the %d axes "
                    "that keeps the batch first is)", ps, rank);
  if (cv->flat) return DG_OK; /* [0,1] */
  int lay[4];
  for (int j = 0; j < 4; j++) lay[j] = cv->lay[a.ints[j]];
  memcpy(cv->lay, lay, sizeof lay);
  if (!cv->nlayers && !is_nchw(cv) && perm_is(&a, 3, 1, 2)) {
    set_input(cv, axis_size(cv, lay[2]), axis_size(cv, lay[3]), axis_size(cv, lay[1]));
    set_layout(cv, AX_C, AX_H, AX_W); /* the input is [N,H,W,C] */
  }
  cv->tp = is_nchw(cv) ? NULL : nd;
  memcpy(cv->tperm, ps, sizeof ps);
  return DG_OK;
}

/* A layer that needs [N,C,H,W] data got it in another order: the
 * Transpose that left it so is named (or the input's layout). */
static int layout_err(const ox_cv *cv, const ox_node *nd) {
  char nb[64], ob[64], lay[16];
  for (int j = 0; j < 4; j++) lay[2 * j] = j ? ',' : '[', lay[2 * j + 1] = "NCHW"[cv->lay[j]];
  lay[8] = ']', lay[9] = 0;
  if (!cv->tp)
    return ox_node_err(nd, "needs [N,C,H,W] data, the input is %s", lay);
  return ox_node_err(cv->tp, "perm %s is not supported here: it leaves %s data and "
                  "node \"%s\" (%s) needs [N,C,H,W] (Transposes that cancel, "
                  "and a flatten in any order, are supported)", cv->tperm, lay,
                  nd->name.n ? ox_shown(nd->name, nb) : "(unnamed)", ox_shown(nd->op, ob));
}

/* LeakyRelu (alpha, 0.01 if not given) -> leakyrelu ALPHA */
static int cv_leaky(ox_cv *cv, const ox_node *nd) {
  ox_attr a;
  float alpha = 0.01f;
  int st = ox_node_attr(nd, "alpha", "alpha", &a);
  if (st < 0) return st;
  if (st) alpha = a.f;
  if (!(alpha >= 0 && alpha <= 1))
    return ox_node_err(nd, "alpha %g is not supported (0 to 1 are)", alpha);
  return add_layer(cv, nd, "; leakyrelu %.9g", alpha);
}

/* GlobalAveragePool, or ReduceMean over the two spatial axes (keepdims 0:
 * then flat) -> gap. */
static int cv_gap(ox_cv *cv, const ox_node *nd, int reduce) {
  const char *known = reduce ? "axes keepdims noop_with_empty_axes" : "";
  ox_attr a;
  int st, keep = 1;
  if (cv->flat) return ox_node_err(nd, "needs a 4-D input");
  if (reduce) {
    int64_t ax[2] = {0, 0};
    int n = 0;
    if ((st = ox_node_attr(nd, "keepdims", known, &a)) < 0) return st;
    keep = !st || a.i;
    if ((st = ox_node_attr(nd, "axes", known, &a)) < 0) return st;
    if (st) {
      n = a.nints;
      for (int j = 0; j < n && j < 2; j++) ax[j] = a.ints[j];
    } else if (nd->nin > 1) {
      float *v = NULL;
      size_t nv = 0;
      if ((st = const_input(cv, nd, 1, 0, &v, &nv))) return st;
      n = (int)nv;
      for (int j = 0; j < n && j < 2; j++) ax[j] = (int64_t)v[j];
      free(v);
    }
    for (int j = 0; j < 2; j++) ax[j] += ax[j] < 0 ? 4 : 0;
    int spatial = n == 2 && ax[0] != ax[1];
    for (int j = 0; j < 2; j++)
      spatial &= ax[j] >= 1 && ax[j] <= 3 && cv->lay[ax[j]] != AX_C;
    if (!spatial)
      return ox_node_err(nd, "only a mean over the two spatial axes (H, W) is "
                      "supported");
  }
  if ((st = add_layer(cv, nd, "; gap"))) return st;
  cv->h = cv->w = 1;
  if (keep) return DG_OK;
  cv->flat = 1;
  set_layout(cv, AX_C, AX_H, AX_W);
  return add_layer(cv, nd, "; flatten");
}

/* Softmax / LogSoftmax over the classes: softmax, the last layer (the
 * probabilities of a LogSoftmax are the same). */
static int cv_softmax(ox_cv *cv, const ox_node *nd) {
  ox_attr a;
  int st = ox_node_attr(nd, "axis", "axis", &a);
  if (st < 0) return st;
  if (!cv->flat || cv->perm) return ox_node_err(nd, "only over a 2-D [N,K] tensor is supported");
  if (st && a.i != 1 && a.i != -1) return ox_node_err(nd, "axis %lld is not supported", (long long)a.i);
  if ((st = add_layer(cv, nd, "; softmax"))) return st;
  cv->ended = 1;
  return DG_OK;
}

/* Sub then Div by scalars before any layer: the input normalisation. */
static int cv_norm(ox_cv *cv, const ox_node *nd, int div) {
  if (cv->nlayers > (cv->flat ? 1 : 0) || cv->div || (!div && cv->sub) ||
      !ox_str_same(nd->in[0], cv->cur))
    return ox_node_err(nd, "only (x - mean) / std at the input is supported");
  float *v = NULL;
  int st = const_input(cv, nd, 1, 1, &v, NULL);
  if (st) return st;
  if (div) cv->div = 1, cv->std = v[0];
  else cv->sub = 1, cv->mean = v[0];
  free(v);
  return DG_OK;
}

/* Pad that adds nothing (PyTorch writes one before an AveragePool): the
 * pads (attribute before opset 11, input after) all zero. */
static int cv_pad(ox_cv *cv, const ox_node *nd) {
  ox_attr a;
  int st = ox_node_attr(nd, "pads", "mode pads value", &a);
  if (st < 0) return st;
  int zero = 1;
  for (int j = 0; st && j < a.nints; j++) zero &= a.ints[j] == 0;
  if (!st && nd->nin > 1) {
    float *v = NULL;
    size_t n = 0;
    if ((st = const_input(cv, nd, 1, 0, &v, &n))) return st;
    for (size_t j = 0; j < n; j++) zero &= v[j] == 0;
    free(v);
  }
  return zero ? DG_OK : ox_node_err(nd, "padding other than zero is not supported");
}

/* One node of the chain: its data input must be the chain's current
 * tensor, its other inputs constants. */
static int cv_node(ox_cv *cv, const ox_node *nd) {
  char nb[64];
  int data = 0, bias = cv->bias;
  cv->bias = -1;
  for (int k = 0; k < nd->nin; k++) {
    if (!nd->in[k].n || find_const(cv, nd->in[k])) continue;
    if (k == 1 && ox_str_eq(nd->op, "Reshape")) continue; /* its shape */
    if (!ox_str_same(nd->in[k], cv->cur) || (k && !ox_str_eq(nd->op, "Add")))
      return ox_node_err(nd, "input \"%s\" is not the previous node's output "
                      "(only a chain of layers is supported)",
                      ox_shown(nd->in[k], nb));
    data++;
  }
  if (data != 1 || nd->nout < 1)
    return ox_node_err(nd, "needs the previous node's output as its input");
  ox_attr a;
  const ox_str op = nd->op;
  int st;
  const char *any_order[] = {"Flatten", "Reshape", "Transpose", "Relu", "LeakyRelu",
                             "Sigmoid", "Tanh", "Dropout", "Identity", "ReduceMean",
                             "Sub", "Div", "Pad", "Add"};
  int ok = cv->flat || is_nchw(cv);
  for (int k = 0; k < 14 && !ok; k++) ok = ox_str_eq(op, any_order[k]);
  if (!ok) return layout_err(cv, nd);
  if (ox_str_eq(op, "Conv")) return cv_conv(cv, nd);
  if (ox_str_eq(op, "Gemm") || ox_str_eq(op, "MatMul")) return cv_dense(cv, nd, ox_str_eq(op, "Gemm"));
  if (ox_str_eq(op, "Add")) return cv->bias = bias, cv_add(cv, nd);
  if (ox_str_eq(op, "BatchNormalization")) return cv_bn(cv, nd);
  if (ox_str_eq(op, "MaxPool") || ox_str_eq(op, "AveragePool"))
    return cv_pool(cv, nd, ox_str_eq(op, "MaxPool"));
  if (ox_str_eq(op, "Flatten") || ox_str_eq(op, "Reshape"))
    return cv_flatten(cv, nd, ox_str_eq(op, "Reshape"));
  if (ox_str_eq(op, "Transpose")) return cv->bias = bias, cv_transpose(cv, nd);
  if (ox_str_eq(op, "Softmax") || ox_str_eq(op, "LogSoftmax")) return cv_softmax(cv, nd);
  if (ox_str_eq(op, "Sub") || ox_str_eq(op, "Div")) return cv_norm(cv, nd, ox_str_eq(op, "Div"));
  if (ox_str_eq(op, "Pad")) return cv_pad(cv, nd);
  if (ox_str_eq(op, "LeakyRelu")) return cv_leaky(cv, nd);
  if (ox_str_eq(op, "GlobalAveragePool") || ox_str_eq(op, "ReduceMean"))
    return cv_gap(cv, nd, ox_str_eq(op, "ReduceMean"));
  if (ox_str_eq(op, "Dropout") || ox_str_eq(op, "Identity")) {
    st = ox_node_attr(nd, "", "ratio seed is_test", &a);
    return st < 0 ? st : DG_OK;
  }
  const char *act[3][2] = {{"Relu", "relu"}, {"Sigmoid", "sigmoid"}, {"Tanh", "tanh"}};
  for (int k = 0; k < 3; k++)
    if (ox_str_eq(op, act[k][0])) {
      if ((st = ox_node_attr(nd, "", "", &a)) < 0) return st;
      return add_layer(cv, nd, "; %s", act[k][1]);
    }
  return ox_node_err(nd, "operator %s is not supported", ox_shown(op, nb));
}

/* ---- metadata of our own exports ------------------------------------------ */

#define OX_META_KEY 128      /* bytes of a key */
#define OX_META_VALUE 65536  /* bytes of a value */
#define OX_META_COUNT 256    /* entries kept */

typedef struct {
  dg_net *net;
  int n;
} ox_meta;

/* Text a model file can carry: UTF-8 without NUL bytes. */
static int meta_text(ox_str s) {
  for (size_t i = 0; i < s.n; i++) {
    int more = s.p[i] < 0x80 ? 0 : (s.p[i] & 0xe0) == 0xc0 ? 1 : (s.p[i] & 0xf0) == 0xe0 ? 2
             : (s.p[i] & 0xf8) == 0xf0 ? 3 : -1;
    if (!s.p[i] || more < 0 || more > (int)(s.n - i - 1)) return 0;
    for (; more > 0; more--)
      if ((s.p[++i] & 0xc0) != 0x80) return 0;
  }
  return 1;
}

/* One metadata_props entry of a file digits exported (its training
 * metadata: data, accuracy, command, ...) back on the net. What the graph
 * itself says (arch, bn_eps, input_mean/input_std: the layers, the
 * BatchNormalization epsilon, Sub and Div) and what the model file writes
 * from the net (format, crc32) is not taken from here; entries that are
 * not text or are too large are left out. */
static int keep_meta(void *ctx, ox_str k, ox_str v) {
  static const char *const skip[] = {"arch", "format", "format_version", "crc32", "bn_eps",
                                     "input_mean", "input_std", "converted_from"};
  ox_meta *c = ctx;
  if (!k.n || k.n > OX_META_KEY || v.n > OX_META_VALUE || c->n >= OX_META_COUNT ||
      !meta_text(k) || !meta_text(v))
    return DG_OK;
  for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
    if (ox_str_eq(k, skip[i])) return DG_OK;
  char key[OX_META_KEY + 1], *value = malloc(v.n + 1);
  if (!value) return dg_error(DG_ERR_NOMEM, "ONNX import: out of memory");
  memcpy(key, k.p, k.n), key[k.n] = 0;
  if (v.n) memcpy(value, v.p, v.n);
  value[v.n] = 0;
  int st = dg_net_meta_set(c->net, key, value);
  free(value);
  c->n++;
  return st;
}

/* The net the layers describe, with the converted weights. */
static int cv_net(ox_cv *cv, dg_net **out) {
  for (int i = 0; i < cv->nt; i++) /* Gemm's alpha, beta, an Add: finite? */
    for (size_t j = 0; j < cv->tn[i]; j++)
      if (!isfinite(cv->t[i][j]))
        return dg_error(DG_ERR_FORMAT, "ONNX import: weights overflow to "
                        "infinity once scaled (Gemm alpha/beta) or summed "
                        "(bias Add)");
  dg_net *net = NULL;
  int st = dg_net_new(&net, cv->spec, 0);
  if (st) return dg_error(DG_ERR_FORMAT, "ONNX import: the architecture \"%.200s\" "
                          "does not build: %s", cv->spec, dg_last_error());
  if (dg_net_tensor_count(net) != cv->nt) st = -1;
  for (int i = 0; !st && i < cv->nt; i++) {
    const dg_tensor *t = dg_net_tensor(net, i);
    if (t->size != cv->tn[i]) st = -1;
    else memcpy(t->data, cv->t[i], t->size * sizeof(float));
  }
  if (st) {
    dg_net_free(net);
    return dg_error(DG_ERR_FORMAT, "ONNX import: the weights do not fit \"%.200s\"",
                    cv->spec);
  }
  if (cv->has_bn) st = dg_net_set_bn_eps(net, cv->eps);
  if (!st && (cv->sub || cv->div))
    st = dg_net_set_input_norm(net, cv->sub ? cv->mean : 0, cv->div ? cv->std : 1);
  char src[160], pb[64];
  snprintf(src, sizeof src, "ONNX (opset %d, producer \"%s\")", cv->m->opset,
           ox_shown(cv->m->producer, pb));
  ox_meta meta = {net, 0};
  if (!st && ox_str_eq(cv->m->producer, "digits"))
    st = ox_model_props(cv->m, keep_meta, &meta);
  if (!st) st = dg_net_meta_set(net, "converted_from", src);
  if (st) {
    dg_net_free(net);
    return dg_error(st == DG_ERR_NOMEM ? st : DG_ERR_FORMAT, "ONNX import: %s",
                    dg_last_error());
  }
  *out = net;
  return DG_OK;
}

/* Operators the importer knows (a node may still be refused for its
 * attributes or its place). */
static int known_op(ox_str op) {
  static const char *const ops[] = {
      "Conv", "Gemm", "MatMul", "Add", "BatchNormalization", "MaxPool",
      "AveragePool", "GlobalAveragePool", "ReduceMean", "Flatten", "Reshape",
      "Transpose", "Softmax", "LogSoftmax", "Sub", "Div", "Pad", "LeakyRelu",
      "Relu", "Sigmoid", "Tanh", "Dropout", "Identity", "Constant", "Shape",
      "Gather", "Unsqueeze", "Concat"};
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
    if (ox_str_eq(op, ops[k])) return 1;
  return 0;
}

/* Unknown operators are named before the graph is walked, so the message
 * is about them and not a neighbour: the first node's, then the other
 * operators (up to 6) the graph would also need. */
static int unknown_ops(const ox_model *m) {
  const ox_node *first = NULL;
  char more[200] = "", nb[64];
  int listed = 0;
  for (int k = 0; k < m->nnodes; k++) {
    const ox_node *nd = &m->nodes[k];
    if (known_op(nd->op)) continue;
    if (!first) {
      first = nd;
      continue;
    }
    int seen = 0; /* an unknown operator met before */
    for (int j = 0; j < k && !seen; j++) seen = ox_str_same(m->nodes[j].op, nd->op);
    if (seen) continue;
    if (listed++ < 6) {
      size_t at = strlen(more);
      snprintf(more + at, sizeof more - at, "%s%s", at ? ", " : "", ox_shown(nd->op, nb));
    }
  }
  if (!first) return DG_OK;
  if (!listed) return ox_node_err(first, "operator %s is not supported", ox_shown(first->op, nb));
  return ox_node_err(first, "operator %s is not supported (nor %s%s)", ox_shown(first->op, nb),
                  more, listed > 6 ? ", ..." : "");
}

static int convert(ox_cv *cv, dg_net **out) {
  const ox_model *m = cv->m;
  int h = 0, w = 0, c = 0, flat = 0, nhwc = 0, st;
  if ((st = ox_input_shape(m, &h, &w, &c, &flat, &nhwc))) return st;
  cv->h = h, cv->w = w, cv->c = c;
  if (nhwc) set_layout(cv, AX_H, AX_W, AX_C);
  else set_layout(cv, AX_C, AX_H, AX_W);
  cv->slen = (size_t)snprintf(cv->spec, sizeof cv->spec, "input %d %d %d", h, w, c);
  if (flat) { /* [N, F]: row-major, as (H, W, 1) flattens */
    strcat(cv->spec, "; flatten");
    cv->slen = strlen(cv->spec);
    cv->nlayers = 1, cv->flat = 1, cv->c = h * w * c, cv->h = cv->w = 1;
    cv->in_flat = 1;
  }
  cv->cur = m->input;
  cv->bias = -1;
  if ((st = unknown_ops(m))) return st;
  for (int k = 0; k < m->nnodes && !st; k++) {
    const ox_node *nd = &m->nodes[k];
    if (ox_str_eq(nd->op, "Constant") || is_shape_op(nd->op) ||
        (ox_str_eq(nd->op, "Identity") && nd->nin == 1 && find_const(cv, nd->in[0])))
      continue; /* a constant, an Identity of one, shape arithmetic */
    st = cv_node(cv, &m->nodes[k]);
    cv->cur = m->nodes[k].out[0];
  }
  if (st) return st;
  if (!ox_str_same(cv->cur, m->output))
    return dg_error(DG_ERR_FORMAT, "ONNX graph: its output is not the end of "
                    "the chain of layers");
  if (!cv->flat || cv->perm)
    return dg_error(DG_ERR_FORMAT, "ONNX graph: the output must be [N, K] "
                    "after a dense layer (or its activation)");
  return cv_net(cv, out);
}

int dg_onnx_import_mem(dg_net **out, const void *buf, size_t len) {
  if (!out || (!buf && len)) return dg_error(DG_ERR_ARG, "ONNX import: null argument");
  *out = NULL;
  if (len > ((size_t)1 << 31))
    return dg_error(DG_ERR_FORMAT, "ONNX file over 2 GB");
  ox_model m;
  memset(&m, 0, sizeof m);
  ox_cv *cv = calloc(1, sizeof *cv);
  if (!cv) return dg_error(DG_ERR_NOMEM, "ONNX import: out of memory");
  cv->m = &m;
  dg_net *net = NULL;
  int st = ox_parse_model(&m, buf, len);
  if (!st) st = convert(cv, &net);
  for (int i = 0; i < cv->nt; i++) free(cv->t[i]);
  free(cv), free(m.nodes), free(m.inits);
  if (!st) *out = net;
  return st;
}
