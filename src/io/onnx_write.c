/* onnx_write.c: net -> ONNX (a ModelProto, opset 13, IR version 7).
 *
 * The protobuf wire format is written by hand (a few dozen lines below):
 * the exporter only ever writes varints, fixed 32-bit floats and
 * length-delimited fields, every message is built in its own growing
 * buffer and appended to its parent once complete, so no schema compiler
 * or library is needed, natively or in WebAssembly.
 *
 * The graph: input "input" float [N, C, H, W] (N symbolic, values 0..1),
 * output "probs" float [N, K] (the K class probabilities). One node (or
 * two) per layer, named after it ("conv1", "bn2"): the net's input
 * normalisation (if any) first, (x - mean) / std as Sub then Div; conv ->
 * Conv (weights stored HWIO here, OIHW in ONNX: transposed; any zero
 * padding, the same on every side), dense ->
 * Gemm with B = the (in, out) weight as stored (transB = 0), max and
 * average pooling -> MaxPool / AveragePool (kernel = stride = P), global
 * average pooling -> GlobalAveragePool, batch norm -> BatchNormalization
 * (running statistics, the net's epsilon), activations -> Relu, LeakyRelu,
 * Sigmoid, Tanh, Softmax (axis 1: the channels, as here), dropout ->
 * nothing (inference passes its input on).
 *
 * Flatten order: this project's activations are NHWC, so a flatten (or a
 * dense layer straight after a spatial layer) reads H, W, C with C
 * innermost. ONNX tensors are NCHW, so a spatial tensor is first
 * transposed to NHWC (Transpose perm [0,2,3,1]) and then flattened; the
 * dense weights go out exactly as stored. The Transpose is left out where
 * it changes nothing (C = 1, or H = W = 1). A net that does not end in a
 * softmax gets one, as dg_net_predict applies it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "io/bytes.h"
#include "nn/nn.h"

#define OX_OPSET 13
#define OX_IR_VERSION 7

/* ---- the wire format -------------------------------------------------------- */

/* Messages are built in a dg_bytes (io/bytes.h) each. */
typedef dg_bytes pb;

enum { PB_VARINT = 0, PB_LEN = 2, PB_I32 = 5 };

static void pb_varint(pb *b, uint64_t v) {
  uint8_t t[10];
  int n = 0;
  do {
    t[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  dg_bytes_put(b, t, (size_t)n);
}

static void pb_key(pb *b, int field, int wire) {
  pb_varint(b, (uint64_t)field << 3 | (uint64_t)wire);
}

/* int32/int64/enum fields: a negative value is its 64-bit two's
 * complement, 10 bytes, as protobuf says. */
static void pb_int(pb *b, int field, int64_t v) {
  pb_key(b, field, PB_VARINT);
  pb_varint(b, (uint64_t)v);
}

static void pb_bytes(pb *b, int field, const void *s, size_t n) {
  pb_key(b, field, PB_LEN);
  pb_varint(b, n);
  dg_bytes_put(b, s, n);
}

static void pb_str(pb *b, int field, const char *s) {
  pb_bytes(b, field, s, strlen(s));
}

static void pb_float(pb *b, int field, float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  uint8_t t[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16),
                  (uint8_t)(u >> 24)};
  pb_key(b, field, PB_I32);
  dg_bytes_put(b, t, 4);
}

/* A finished sub-message into its parent's field; frees it. */
static void pb_msg(pb *b, int field, pb *sub) {
  if (sub->oom) b->oom = 1;
  pb_bytes(b, field, sub->p, sub->n);
  free(sub->p);
  memset(sub, 0, sizeof *sub);
}

/* ---- ONNX messages ------------------------------------------------------------ */

/* ONNX enums and field numbers used below (onnx.proto). */
enum { T_FLOAT = 1 };                         /* TensorProto.DataType */
enum { A_FLOAT = 1, A_INT = 2, A_INTS = 7 };  /* AttributeProto.AttributeType */

/* AttributeProto into a NodeProto (its field 5): its name and type, then
 * the value. */
static pb attr_new(const char *name, int type) {
  pb a = {0};
  pb_str(&a, 1, name);
  pb_int(&a, 20, type);
  return a;
}

static void attr_int(pb *node, const char *name, int64_t v) {
  pb a = attr_new(name, A_INT);
  pb_int(&a, 3, v);
  pb_msg(node, 5, &a);
}

static void attr_float(pb *node, const char *name, float v) {
  pb a = attr_new(name, A_FLOAT);
  pb_float(&a, 2, v);
  pb_msg(node, 5, &a);
}

static void attr_ints(pb *node, const char *name, const int64_t *v, int n) {
  pb a = attr_new(name, A_INTS);
  for (int i = 0; i < n; i++) pb_int(&a, 8, v[i]);
  pb_msg(node, 5, &a);
}

/* The graph being built: nodes and initializers apart (written in that
 * order), and the name of the tensor the next node reads, with its shape
 * per sample: spatial (rank 4, NCHW in ONNX) or flat (rank 2). */
typedef struct {
  pb nodes, inits;
  char cur[96];
  int rank4;
  int h, w, c; /* spatial: H, W, C; flat: c features */
} ox_graph;

/* NodeProto with up to 5 inputs and one output; op_type op, name out. The
 * node is returned open (*node) when attrs is set, for attributes to be
 * added before ox_node_end; else it is finished here. */
static void ox_node(ox_graph *g, const char *op, const char *const *in,
                    int nin, const char *out, pb *node) {
  pb n = {0};
  for (int i = 0; i < nin; i++) pb_str(&n, 1, in[i]);
  pb_str(&n, 2, out);
  pb_str(&n, 3, out);
  pb_str(&n, 4, op);
  if (node) {
    *node = n;
    return;
  }
  pb_msg(&g->nodes, 1, &n);
}

static void ox_node_end(ox_graph *g, pb *node) { pb_msg(&g->nodes, 1, node); }

/* A one-input node reading the current tensor, which becomes its output. */
static void ox_unary(ox_graph *g, const char *op, const char *out) {
  const char *in[1] = {g->cur};
  ox_node(g, op, in, 1, out, NULL);
  snprintf(g->cur, sizeof g->cur, "%s", out);
}

/* A float TensorProto initializer (values already in ONNX's layout). */
static void ox_init(ox_graph *g, const char *name, const int64_t *dims,
                    int ndim, const float *x, size_t count) {
  pb t = {0};
  for (int d = 0; d < ndim; d++) pb_int(&t, 1, dims[d]);
  pb_int(&t, 2, T_FLOAT);
  pb_str(&t, 8, name);
  /* raw_data: little-endian float32 */
  pb_key(&t, 9, PB_LEN);
  pb_varint(&t, count * 4);
  for (size_t i = 0; i < count && !t.oom; i++) {
    uint32_t u;
    memcpy(&u, &x[i], 4);
    uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16),
                    (uint8_t)(u >> 24)};
    dg_bytes_put(&t, b, 4);
  }
  pb_msg(&g->inits, 5, &t);
}

/* ValueInfoProto of a float tensor [N, dims...] (N symbolic) into the
 * graph's field (11 input, 12 output). */
static void ox_value_info(pb *graph, int field, const char *name,
                          const int *dims, int ndim) {
  pb shape = {0}, d = {0}, tensor = {0}, type = {0}, vi = {0};
  pb_str(&d, 2, "N");
  pb_msg(&shape, 1, &d);
  for (int i = 0; i < ndim; i++) {
    pb_int(&d, 1, dims[i]);
    pb_msg(&shape, 1, &d);
  }
  pb_int(&tensor, 1, T_FLOAT);
  pb_msg(&tensor, 2, &shape);
  pb_msg(&type, 1, &tensor);
  pb_str(&vi, 1, name);
  pb_msg(&vi, 2, &type);
  pb_msg(graph, field, &vi);
}

/* ---- layers -------------------------------------------------------------------- */

static const float *layer_w(const dg_net *net, const dg_layer *l, int t) {
  return net->tensors[l->t0 + t].data;
}

/* A spatial current tensor made flat in this project's order (NHWC):
 * Transpose to NHWC unless that changes nothing, then Flatten. */
static void ox_flatten(ox_graph *g, const char *name) {
  char out[80];
  if (!g->rank4) return;
  if (g->c > 1 && g->h * g->w > 1) {
    static const int64_t perm[4] = {0, 2, 3, 1};
    const char *in[1] = {g->cur};
    pb n;
    snprintf(out, sizeof out, "%s.nhwc", name);
    ox_node(g, "Transpose", in, 1, out, &n);
    attr_ints(&n, "perm", perm, 4);
    ox_node_end(g, &n);
    snprintf(g->cur, sizeof g->cur, "%s", out);
  }
  const char *in[1] = {g->cur};
  pb n;
  ox_node(g, "Flatten", in, 1, name, &n);
  attr_int(&n, "axis", 1);
  ox_node_end(g, &n);
  snprintf(g->cur, sizeof g->cur, "%s", name);
  g->c = g->h * g->w * g->c, g->h = g->w = 1, g->rank4 = 0;
}

/* Conv: weight (K, K, C, F) here -> (F, C, K, K). */
static int ox_conv(ox_graph *g, const dg_net *net, const dg_layer *l) {
  int K = l->k, C = l->ic, F = l->filters;
  size_t nw = (size_t)K * K * C * F;
  float *w = malloc(nw * sizeof *w);
  if (!w) return 0;
  const float *src = layer_w(net, l, 0);
  for (int ky = 0; ky < K; ky++)
    for (int kx = 0; kx < K; kx++)
      for (int c = 0; c < C; c++)
        for (int f = 0; f < F; f++)
          w[(((size_t)f * C + c) * K + ky) * K + kx] =
              src[(((size_t)ky * K + kx) * C + c) * F + f];
  char wn[48], bn[48];
  snprintf(wn, sizeof wn, "%s.weight", l->name);
  snprintf(bn, sizeof bn, "%s.bias", l->name);
  int64_t wd[4] = {F, C, K, K}, bd[1] = {F};
  ox_init(g, wn, wd, 4, w, nw);
  free(w);
  ox_init(g, bn, bd, 1, layer_w(net, l, 1), (size_t)F);
  const char *in[3] = {g->cur, wn, bn};
  int64_t ks[2] = {K, K}, st[2] = {1, 1};
  int64_t pads[4] = {l->pad, l->pad, l->pad, l->pad};
  pb n;
  ox_node(g, "Conv", in, 3, l->name, &n);
  attr_ints(&n, "kernel_shape", ks, 2);
  attr_ints(&n, "strides", st, 2);
  attr_ints(&n, "pads", pads, 4);
  ox_node_end(g, &n);
  snprintf(g->cur, sizeof g->cur, "%s", l->name);
  return 1;
}

/* Gemm: Y = X W + b with W (in, out) as stored. */
static void ox_dense(ox_graph *g, const dg_net *net, const dg_layer *l) {
  char fl[48], wn[48], bn[48];
  snprintf(fl, sizeof fl, "%s.flat", l->name);
  ox_flatten(g, fl);
  snprintf(wn, sizeof wn, "%s.weight", l->name);
  snprintf(bn, sizeof bn, "%s.bias", l->name);
  int64_t wd[2] = {(int64_t)l->in_size, l->units}, bd[1] = {l->units};
  ox_init(g, wn, wd, 2, layer_w(net, l, 0), l->in_size * (size_t)l->units);
  ox_init(g, bn, bd, 1, layer_w(net, l, 1), (size_t)l->units);
  const char *in[3] = {g->cur, wn, bn};
  ox_node(g, "Gemm", in, 3, l->name, NULL);
  snprintf(g->cur, sizeof g->cur, "%s", l->name);
  g->c = l->units;
}

/* BatchNormalization with the running statistics and the net's epsilon. */
static void ox_bn(ox_graph *g, const dg_net *net, const dg_layer *l) {
  static const char *const suffix[4] = {"gamma", "beta", "running_mean",
                                        "running_var"};
  char names[4][48];
  const char *in[5] = {g->cur};
  int64_t d[1] = {l->oc};
  for (int t = 0; t < 4; t++) {
    snprintf(names[t], sizeof names[t], "%s.%s", l->name, suffix[t]);
    ox_init(g, names[t], d, 1, layer_w(net, l, t), (size_t)l->oc);
    in[t + 1] = names[t];
  }
  pb n;
  ox_node(g, "BatchNormalization", in, 5, l->name, &n);
  attr_float(&n, "epsilon", dg_net_bn_eps(net));
  ox_node_end(g, &n);
  snprintf(g->cur, sizeof g->cur, "%s", l->name);
}

static void ox_pool(ox_graph *g, const dg_layer *l, const char *op) {
  const char *in[1] = {g->cur};
  int64_t ks[2] = {l->pool, l->pool};
  pb n;
  ox_node(g, op, in, 1, l->name, &n);
  attr_ints(&n, "kernel_shape", ks, 2);
  attr_ints(&n, "strides", ks, 2);
  ox_node_end(g, &n);
  snprintf(g->cur, sizeof g->cur, "%s", l->name);
}

static void ox_softmax(ox_graph *g, const char *name) {
  const char *in[1] = {g->cur};
  pb n;
  ox_node(g, "Softmax", in, 1, name, &n);
  attr_int(&n, "axis", 1); /* the channels, flat or spatial */
  ox_node_end(g, &n);
  snprintf(g->cur, sizeof g->cur, "%s", name);
}

static void ox_leaky(ox_graph *g, const dg_layer *l) {
  const char *in[1] = {g->cur};
  pb n;
  ox_node(g, "LeakyRelu", in, 1, l->name, &n);
  attr_float(&n, "alpha", l->alpha);
  ox_node_end(g, &n);
  snprintf(g->cur, sizeof g->cur, "%s", l->name);
}

/* One layer's nodes: a status (a kind ONNX export does not know is
 * DG_ERR_ARG). */
static int ox_layer(ox_graph *g, const dg_net *net, const dg_layer *l) {
  switch (l->kind) {
    case DG_L_CONV:
      if (!ox_conv(g, net, l))
        return dg_error(DG_ERR_NOMEM, "ONNX export: out of memory");
      break;
    case DG_L_DENSE: ox_dense(g, net, l); break;
    case DG_L_MAXPOOL: ox_pool(g, l, "MaxPool"); break;
    case DG_L_AVGPOOL: ox_pool(g, l, "AveragePool"); break;
    case DG_L_RELU: ox_unary(g, "Relu", l->name); break;
    case DG_L_SIGMOID: ox_unary(g, "Sigmoid", l->name); break;
    case DG_L_TANH: ox_unary(g, "Tanh", l->name); break;
    case DG_L_SOFTMAX: ox_softmax(g, l->name); break;
    case DG_L_BATCHNORM: ox_bn(g, net, l); break;
    case DG_L_DROPOUT: break; /* inference passes its input on */
    case DG_L_FLATTEN: ox_flatten(g, l->name); break;
    case DG_L_LEAKYRELU: ox_leaky(g, l); break;
    case DG_L_GAP: ox_unary(g, "GlobalAveragePool", l->name); break;
    default:
      return dg_error(DG_ERR_ARG,
                      "ONNX export: layer %s (kind %d) has no ONNX form here",
                      l->name, (int)l->kind);
  }
  if (l->kind != DG_L_DENSE && l->kind != DG_L_FLATTEN && g->rank4)
    g->h = l->oh, g->w = l->ow, g->c = l->oc;
  return DG_OK;
}

/* The graph's nodes and initializers for net, from "input" to "probs": a
 * status. */
/* The net's input normalisation, (x - mean) / std, as Sub then Div. */
static void ox_input_norm(ox_graph *g, const dg_net *net) {
  float mean, std;
  if (!dg_net_input_norm(net, &mean, &std)) return;
  int64_t one[1] = {1};
  ox_init(g, "input.mean", one, 1, &mean, 1);
  ox_init(g, "input.std", one, 1, &std, 1);
  const char *sub[2] = {"input", "input.mean"}, *div[2] = {"input.sub", "input.std"};
  ox_node(g, "Sub", sub, 2, "input.sub", NULL);
  ox_node(g, "Div", div, 2, "input.norm", NULL);
  snprintf(g->cur, sizeof g->cur, "input.norm");
}

static int ox_layers(ox_graph *g, const dg_net *net) {
  snprintf(g->cur, sizeof g->cur, "input");
  g->rank4 = 1, g->h = net->in_h, g->w = net->in_w, g->c = net->in_c;
  ox_input_norm(g, net);
  for (int i = 0; i < net->nlayers; i++) {
    const dg_layer *l = &net->layers[i];
    if (i == net->nlayers - 1 && l->kind == DG_L_SOFTMAX && !g->rank4) {
      ox_softmax(g, "probs"); /* the usual end: named as the output */
      break;
    }
    int st = ox_layer(g, net, l);
    if (st != DG_OK) return st;
  }
  const dg_layer *last = &net->layers[net->nlayers - 1];
  if (last->kind != DG_L_SOFTMAX) {
    ox_flatten(g, "logits");
    ox_softmax(g, "probs");
  } else {
    ox_flatten(g, "probs");
  }
  if (strcmp(g->cur, "probs")) {
    const char *in[1] = {g->cur};
    ox_node(g, "Identity", in, 1, "probs", NULL);
  }
  return DG_OK;
}

/* ---- the model -------------------------------------------------------------------- */

/* ModelProto around the graph: opset, producer, the net's architecture and
 * metadata as metadata_props. */
static void ox_model(pb *m, pb *graph, const dg_net *net) {
  pb op = {0};
  pb_int(m, 1, OX_IR_VERSION);
  pb_str(m, 2, "digits");
  pb_str(m, 3, "1");
  pb_str(m, 6, "digits network exported to ONNX: input [N,C,H,W] float "
               "0..1 (ink 1), output the class probabilities");
  pb_msg(m, 7, graph);
  pb_str(&op, 1, "");
  pb_int(&op, 2, OX_OPSET);
  pb_msg(m, 8, &op);
  pb kv = {0};
  pb_str(&kv, 1, "arch");
  pb_str(&kv, 2, dg_net_arch(net) ? dg_net_arch(net) : "");
  pb_msg(m, 14, &kv);
  int nm = dg_net_meta_count(net);
  for (int i = 0; i < nm; i++) {
    const char *k = NULL, *v = NULL;
    if (dg_net_meta_at(net, i, &k, &v) != DG_OK || !k || !v ||
        !strcmp(k, "arch"))
      continue;
    pb_str(&kv, 1, k);
    pb_str(&kv, 2, v);
    pb_msg(m, 14, &kv);
  }
}

int dg_onnx_export_mem(const dg_net *net, uint8_t **buf, size_t *len) {
  if (!net || !buf || !len)
    return dg_error(DG_ERR_ARG, "ONNX export: null argument");
  if (net->nlayers < 1)
    return dg_error(DG_ERR_ARG, "ONNX export: the net has no layers");
  ox_graph g;
  memset(&g, 0, sizeof g);
  int st = ox_layers(&g, net);
  if (st != DG_OK) {
    free(g.nodes.p), free(g.inits.p);
    return st;
  }
  pb graph = {0}, model = {0};
  dg_bytes_put(&graph, g.nodes.p, g.nodes.n);
  graph.oom |= g.nodes.oom;
  free(g.nodes.p);
  pb_str(&graph, 2, "digits");
  dg_bytes_put(&graph, g.inits.p, g.inits.n);
  graph.oom |= g.inits.oom;
  free(g.inits.p);
  int in_dims[3] = {net->in_c, net->in_h, net->in_w};
  int out_dims[1] = {dg_net_output_size(net)};
  ox_value_info(&graph, 11, "input", in_dims, 3);
  ox_value_info(&graph, 12, "probs", out_dims, 1);
  ox_model(&model, &graph, net);
  if (model.oom) {
    free(model.p);
    return dg_error(DG_ERR_NOMEM, "ONNX export: out of memory (or over 2 GB)");
  }
  *buf = model.p;
  *len = model.n;
  return DG_OK;
}
