/* net.c: the sequential network: construction from a spec, the flat
 * parameter/gradient/state arrays and their named tensors, per-batch
 * buffers, forward, loss + backward, inference, metadata. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/kernels_infer.h"
#include "nn/nn.h"

static void infer_stale(const dg_net *net);
static void infer_free(dg_net *net);

static int add_tensor(dg_net *net, const char *layer, const char *suffix,
                      int ndim, const int *shape, int trainable, int decay) {
  int i = net->ntensors++;
  dg_tensor *t = &net->tensors[i];
  snprintf(net->tensor_names[i], sizeof net->tensor_names[i], "%s.%s", layer,
           suffix);
  t->name = net->tensor_names[i];
  t->ndim = ndim;
  t->size = 1;
  for (int d = 0; d < ndim; d++) t->shape[d] = shape[d], t->size *= shape[d];
  t->trainable = trainable;
  t->decay = decay;
  /* offsets for now; turned into pointers once the arrays exist */
  if (trainable) {
    t->data = (float *)(uintptr_t)net->nparams;
    net->nparams += t->size;
  } else {
    t->data = (float *)(uintptr_t)net->nstate;
    net->nstate += t->size;
  }
  return i;
}

/* Rebuild a canonical spec string from the parsed layers. */
static char *normalise(const dg_net *net) {
  size_t cap = 64 + (size_t)net->nlayers * 32, len = 0;
  char *s = malloc(cap);
  if (!s) return NULL;
  len += snprintf(s + len, cap - len, "input %d %d %d", net->in_h, net->in_w,
                  net->in_c);
  for (int i = 0; i < net->nlayers; i++) {
    const dg_layer *l = &net->layers[i];
    len += snprintf(s + len, cap - len, "; %s", dg_layer_keyword[l->kind]);
    switch (l->kind) {
      case DG_L_DENSE: len += snprintf(s + len, cap - len, " %d", l->units); break;
      case DG_L_CONV:
        len += snprintf(s + len, cap - len, " %d %d %s", l->filters, l->k,
                        l->pad ? "same" : "valid");
        break;
      case DG_L_MAXPOOL:
      case DG_L_AVGPOOL: len += snprintf(s + len, cap - len, " %d", l->pool); break;
      case DG_L_DROPOUT: len += snprintf(s + len, cap - len, " %g", l->rate); break;
      default: break;
    }
  }
  return s;
}

/* Glorot (Xavier) uniform, Keras' default, for dense and conv weights. */
static void init_weights(dg_net *net, uint64_t seed) {
  dg_rng rng;
  dg_rng_seed(&rng, seed);
  for (int i = 0; i < net->nlayers; i++) {
    dg_layer *l = &net->layers[i];
    if (l->t0 < 0) continue;
    dg_tensor *w = &net->tensors[l->t0], *b = &net->tensors[l->t0 + 1];
    if (l->kind == DG_L_BATCHNORM) {
      for (size_t j = 0; j < w->size; j++) w->data[j] = 1.0f;  /* gamma */
      memset(b->data, 0, b->size * sizeof(float));             /* beta */
      dg_tensor *rv = &net->tensors[l->t0 + 3];
      for (size_t j = 0; j < rv->size; j++) rv->data[j] = 1.0f;
      continue;
    }
    float fan_in, fan_out;
    if (l->kind == DG_L_CONV)
      fan_in = (float)(l->k * l->k * l->ic), fan_out = (float)(l->k * l->k * l->filters);
    else
      fan_in = (float)l->in_size, fan_out = (float)l->units;
    float limit = sqrtf(6.0f / (fan_in + fan_out));
    for (size_t j = 0; j < w->size; j++)
      w->data[j] = (2.0f * dg_rng_uniform(&rng) - 1.0f) * limit;
    memset(b->data, 0, b->size * sizeof(float));
  }
}

int dg_net_new(dg_net **out, const char *arch, uint64_t seed) {
  if (!out || !arch) return dg_error(DG_ERR_ARG, "net: null argument");
  const char *spec = dg_arch_spec(arch);
  if (!spec) {
    /* a bare word that is no known name is a typo, not a spec */
    if (!strchr(arch, ';') && !strchr(arch, ' ') && !strchr(arch, '\n')) {
      char names[256] = "";
      for (const char *const *n = dg_arch_names(); *n; n++) {
        strncat(names, *n, sizeof names - strlen(names) - 3);
        if (n[1]) strcat(names, ", ");
      }
      return dg_error(DG_ERR_ARG, "unknown architecture '%s' (known: %s)",
                      arch, names);
    }
    spec = arch;
  }
  dg_net *net = calloc(1, sizeof *net);
  if (!net) return dg_error(DG_ERR_NOMEM, "net: out of memory");
  net->threads = 1;
  int st = dg_arch_parse(net, spec);
  if (st) {
    free(net);
    return st;
  }
  for (int i = 0; i < net->nlayers; i++) {
    dg_layer *l = &net->layers[i];
    if (l->kind == DG_L_DENSE) {
      int ws[2] = {(int)l->in_size, l->units}, bs[1] = {l->units};
      l->t0 = add_tensor(net, l->name, "weight", 2, ws, 1, 1);
      add_tensor(net, l->name, "bias", 1, bs, 1, 0);
      l->nt = 2;
    } else if (l->kind == DG_L_CONV) {
      int ws[4] = {l->k, l->k, l->ic, l->filters}, bs[1] = {l->filters};
      l->t0 = add_tensor(net, l->name, "weight", 4, ws, 1, 1);
      add_tensor(net, l->name, "bias", 1, bs, 1, 0);
      l->nt = 2;
    } else if (l->kind == DG_L_BATCHNORM) {
      int cs[1] = {l->ic};
      l->t0 = add_tensor(net, l->name, "gamma", 1, cs, 1, 0);
      add_tensor(net, l->name, "beta", 1, cs, 1, 0);
      add_tensor(net, l->name, "running_mean", 1, cs, 0, 0);
      add_tensor(net, l->name, "running_var", 1, cs, 0, 0);
      l->nt = 4;
    }
  }
  net->params = calloc(net->nparams ? net->nparams : 1, sizeof(float));
  net->grads = calloc(net->nparams ? net->nparams : 1, sizeof(float));
  net->state = calloc(net->nstate ? net->nstate : 1, sizeof(float));
  net->arch = normalise(net);
  if (!net->params || !net->grads || !net->state || !net->arch) {
    dg_net_free(net);
    return dg_error(DG_ERR_NOMEM, "net: out of memory for %zu parameters",
                    net->nparams);
  }
  for (int i = 0; i < net->ntensors; i++) {
    dg_tensor *t = &net->tensors[i];
    size_t off = (size_t)(uintptr_t)t->data;
    t->data = (t->trainable ? net->params : net->state) + off;
  }
  init_weights(net, seed);
  *out = net;
  return DG_OK;
}

static void free_buffers(dg_net *net) {
  for (int i = 0; i < net->nlayers; i++) {
    dg_layer *l = &net->layers[i];
    if (!l->borrowed) free(l->dout);
    free(l->buf), free(l->aux), free(l->stat), free(l->arg);
    l->out = l->buf = l->dout = l->aux = l->stat = NULL;
    l->arg = NULL;
  }
  free(net->work), free(net->fold), free(net->dinput), free(net->probs);
  net->work = net->fold = net->dinput = net->probs = NULL;
  net->cap = 0;
}

/* Layers that can apply a following ReLU in their own output pass: the
 * ReLU then costs no pass over memory and no buffers of its own. Nothing
 * needs the pre-activation: their backward passes read only their input
 * and the gradient, which the ReLU's backward masks in place. */
static void mark_fusions(dg_net *net) {
  for (int i = 0; i < net->nlayers; i++) {
    dg_layer *l = &net->layers[i];
    l->relu_after = l->fused = l->masked = 0;
    l->borrowed = l->kind == DG_L_FLATTEN;
    if (l->kind == DG_L_RELU && i > 0) {
      dg_layer_kind prev = net->layers[i - 1].kind;
      if (prev == DG_L_DENSE || prev == DG_L_CONV || prev == DG_L_BATCHNORM)
        l->borrowed = l->fused = net->layers[i - 1].relu_after = 1;
      l->masked = l->fused && (prev == DG_L_BATCHNORM ||
                               (i + 1 < net->nlayers &&
                                net->layers[i + 1].kind == DG_L_MAXPOOL));
    }
  }
}

void dg_net_free(dg_net *net) {
  if (!net) return;
  free_buffers(net);
  infer_free(net);
  free(net->params), free(net->grads), free(net->state), free(net->arch);
  for (int i = 0; i < net->nmeta; i++)
    free(net->meta[i].key), free(net->meta[i].value);
  free(net->meta);
  free(net);
}

int dg_net_reserve(dg_net *net, int n) {
  if (!net || n < 1) return dg_error(DG_ERR_ARG, "net: batch size must be >= 1");
  if (n <= net->cap) return DG_OK;
  if (n > (1 << 20)) return dg_error(DG_ERR_ARG, "net: batch of %d too large", n);
  free_buffers(net);
  mark_fusions(net);
  int ok = 1;
  size_t work_need = 0, fold_need = 0;
  for (int i = 0; i < net->nlayers; i++) {
    dg_layer *l = &net->layers[i];
    size_t sz = l->out_size * (size_t)n;
    if (sz / n != l->out_size || sz > ((size_t)1 << 31))
      return dg_error(DG_ERR_NOMEM, "net: batch of %d too large for %s", n,
                      l->name);
    if (l->borrowed) { /* a flatten's are set below and per forward */
      l->out = i ? net->layers[i - 1].out : NULL;
      l->dout = i ? net->layers[i - 1].dout : NULL;
      continue;
    }
    ok &= (l->out = l->buf = malloc(sz * sizeof(float))) != NULL;
    ok &= (l->dout = malloc(sz * sizeof(float))) != NULL;
    if (l->kind == DG_L_DROPOUT ||
        (l->kind == DG_L_MAXPOOL && i >= 2 && net->layers[i - 1].masked &&
         net->layers[i - 2].kind == DG_L_BATCHNORM))
      ok &= (l->aux = malloc(sz * sizeof(float))) != NULL;
    if (l->kind == DG_L_BATCHNORM)
      ok &= (l->stat = malloc(3 * l->oc * sizeof(float))) != NULL;
    if (l->kind == DG_L_MAXPOOL)
      ok &= (l->arg = malloc(sz * sizeof(float))) != NULL;
    size_t need = 0;
    if (l->kind == DG_L_CONV)
      need = dg_conv2d_work(n, l->ih, l->iw, l->ic, l->filters, l->k, l->pad);
    if (l->kind == DG_L_BATCHNORM) {
      need = dg_bn_work((size_t)n * l->oh * l->ow, l->oc);
      if (i + 2 < net->nlayers && net->layers[i + 2].kind == DG_L_MAXPOOL) {
        size_t m = dg_maxpool_bn_work(n, l->oh, l->ow, l->oc,
                                      net->layers[i + 2].pool);
        if (m > need) need = m;
      }
    }
    if (need > work_need) work_need = need;
    if ((l->kind == DG_L_CONV || l->kind == DG_L_DENSE) &&
        i + 1 < net->nlayers && net->layers[i + 1].kind == DG_L_BATCHNORM) {
      size_t wsz = net->tensors[l->t0].size + net->tensors[l->t0 + 1].size;
      if (wsz > fold_need) fold_need = wsz;
    }
  }
  if (work_need)
    ok &= (net->work = malloc(work_need * sizeof(float))) != NULL;
  if (fold_need)
    ok &= (net->fold = malloc(fold_need * sizeof(float))) != NULL;
  size_t outs = net->layers[net->nlayers - 1].out_size * (size_t)n;
  ok &= (net->probs = malloc(outs * sizeof(float))) != NULL;
  if (net->want_dinput)
    ok &= (net->dinput = malloc(net->layers[0].in_size * n * sizeof(float))) != NULL;
  /* a flatten passes its gradient straight through: with no input
   * gradient wanted, a flatten in front of everything makes the first real
   * layer skip computing one */
  for (int i = 0; i < net->nlayers; i++)
    if (net->layers[i].kind == DG_L_FLATTEN)
      net->layers[i].dout = i ? net->layers[i - 1].dout : net->dinput;
  if (!ok) {
    free_buffers(net);
    return dg_error(DG_ERR_NOMEM, "net: out of memory for a batch of %d", n);
  }
  net->cap = n;
  return DG_OK;
}

int dg_net_want_input_grad(dg_net *net, int on) {
  if (!net) return dg_error(DG_ERR_ARG, "net: null argument");
  if (!!on != net->want_dinput) {
    net->want_dinput = !!on;
    int cap = net->cap;
    free_buffers(net);
    if (cap) return dg_net_reserve(net, cap);
  }
  return DG_OK;
}

const float *dg_net_input_grad(const dg_net *net) {
  return net && net->want_dinput ? net->dinput : NULL;
}

void dg_net_set_threads(dg_net *net, int threads) {
  if (net) net->threads = threads < 1 ? 1 : threads;
}

int dg_net_input_size(const dg_net *net) { return (int)net->layers[0].in_size; }
int dg_net_output_size(const dg_net *net) {
  return (int)net->layers[net->nlayers - 1].out_size;
}
int dg_net_layer_count(const dg_net *net) { return net->nlayers; }
size_t dg_net_param_count(const dg_net *net) { return net->nparams; }
size_t dg_net_state_count(const dg_net *net) { return net->nstate; }
const char *dg_net_arch(const dg_net *net) { return net->arch; }
/* Calls that hand out writable weights mark the packed inference copies
 * stale: the next small-batch predict packs them again. */
float *dg_net_params(dg_net *net) {
  infer_stale(net);
  return net->params;
}
float *dg_net_grads(dg_net *net) { return net->grads; }
float *dg_net_state(dg_net *net) {
  infer_stale(net);
  return net->state;
}
int dg_net_tensor_count(const dg_net *net) { return net->ntensors; }

const dg_tensor *dg_net_tensor(const dg_net *net, int i) {
  infer_stale(net);
  return i >= 0 && i < net->ntensors ? &net->tensors[i] : NULL;
}

const dg_tensor *dg_net_tensor_find(const dg_net *net, const char *name) {
  infer_stale(net);
  for (int i = 0; i < net->ntensors; i++)
    if (!strcmp(net->tensors[i].name, name)) return &net->tensors[i];
  return NULL;
}

int dg_net_layer_info(const dg_net *net, int i, dg_layer_info *info) {
  if (!net || !info || i < 0 || i >= net->nlayers)
    return dg_error(DG_ERR_ARG, "net: no layer %d", i);
  const dg_layer *l = &net->layers[i];
  info->name = l->name;
  info->kind = dg_layer_kind_name[l->kind];
  info->out_h = l->oh, info->out_w = l->ow, info->out_c = l->oc;
  info->params = info->state = 0;
  for (int t = 0; t < l->nt; t++) {
    const dg_tensor *tt = &net->tensors[l->t0 + t];
    if (tt->trainable) info->params += tt->size;
    else info->state += tt->size;
  }
  return DG_OK;
}

int dg_net_copy_weights(dg_net *dst, const dg_net *src) {
  if (!dst || !src || strcmp(dst->arch, src->arch))
    return dg_error(DG_ERR_ARG, "net: copy between different architectures");
  infer_stale(dst);
  memcpy(dst->params, src->params, src->nparams * sizeof(float));
  memcpy(dst->state, src->state, src->nstate * sizeof(float));
  return DG_OK;
}

/* ---- forward / backward ------------------------------------------------------ */

#ifndef DG_INFER_MAX_N /* batches up to this run image by image (see
                        * "small-batch inference" below) */
#define DG_INFER_MAX_N 4
#endif

static float *W(dg_net *net, const dg_layer *l, int t) {
  return net->tensors[l->t0 + t].data;
}
static float *G(dg_net *net, const dg_layer *l, int t) {
  return net->grads + (net->tensors[l->t0 + t].data - net->params);
}

/* Weights wf and bias bf of a dense or conv layer (w: nw floats, F output
 * channels innermost) followed by batch norm bn in inference mode: each
 * output channel scaled by gamma/sqrt(var + eps), the bias shifted. */
static void fold_bn(dg_net *net, const dg_layer *bn, const float *w,
                    const float *b, size_t nw, int F, float *wf, float *bf) {
  const float *gamma = W(net, bn, 0), *beta = W(net, bn, 1);
  const float *rmean = W(net, bn, 2), *rvar = W(net, bn, 3);
  float *scale = bf; /* the bias slots hold the scales until the end */
  for (int f = 0; f < F; f++) scale[f] = gamma[f] / sqrtf(rvar[f] + DG_BN_EPS);
  for (size_t i = 0; i < nw; i += F) /* rows of F, no division */
    for (int f = 0; f < F; f++) wf[i + f] = w[i + f] * scale[f];
  for (int f = 0; f < F; f++)
    bf[f] = (b[f] - rmean[f]) * scale[f] + beta[f];
}

/* Layer i of the generic path on in (n inputs); sets and returns its out. */
static const float *forward_layer(dg_net *net, int i, const float *in, int n,
                                  int train, dg_rng *rng) {
  dg_layer *l = &net->layers[i];
  size_t total = l->out_size * (size_t)n;
  switch (l->kind) {
    case DG_L_DENSE:
      dg_dense_forward(l->out, in, W(net, l, 0), W(net, l, 1), n,
                       (int)l->in_size, l->units, l->relu_after);
      break;
    case DG_L_CONV:
      dg_conv_forward(l->out, in, W(net, l, 0), W(net, l, 1), n, l->ih,
                      l->iw, l->ic, l->filters, l->k, l->pad,
                      l->relu_after, net->work);
      break;
    case DG_L_MAXPOOL:
      dg_maxpool(in, n, l->ih, l->iw, l->ic, l->pool, l->out, l->arg);
      break;
    case DG_L_AVGPOOL:
      dg_avgpool(in, n, l->ih, l->iw, l->ic, l->pool, l->out);
      break;
    case DG_L_RELU:
      if (!l->fused) dg_relu(in, l->out, total);
      break;
    case DG_L_SIGMOID: dg_sigmoid_forward(l->out, in, total); break;
    case DG_L_TANH: dg_tanh_forward(l->out, in, total); break;
    case DG_L_SOFTMAX:
      dg_softmax_forward(l->out, in, (int)(n * (l->out_size / l->oc)), l->oc);
      break;
    case DG_L_BATCHNORM: {
      size_t rows = (size_t)n * l->oh * l->ow;
      if (train)
        dg_bn_forward_train(l->out, l->stat, in, W(net, l, 0), W(net, l, 1),
                            W(net, l, 2), W(net, l, 3), rows, l->oc,
                            l->relu_after, net->work);
      else
        dg_bn_forward_infer(l->out, in, W(net, l, 0), W(net, l, 1),
                            W(net, l, 2), W(net, l, 3), rows, l->oc,
                            l->relu_after);
      break;
    }
    case DG_L_DROPOUT:
      l->out = train ? l->buf : (float *)in; /* inference: the identity */
      if (train && l->rate > 0)
        dg_dropout_forward(l->out, l->aux, in, total, l->rate, rng);
      else if (train)
        for (size_t j = 0; j < total; j++) l->out[j] = in[j], l->aux[j] = 1;
      break;
    case DG_L_FLATTEN: l->out = (float *)in; break; /* NHWC: same data */
    default: break;
  }
  return l->out;
}

static int infer_ready(dg_net *net);
static void infer_forward(dg_net *net, const float *x, int n);

int dg_net_forward(dg_net *net, const float *x, int n, int train, dg_rng *rng) {
  if (!net || !x || n < 1) return dg_error(DG_ERR_ARG, "forward: bad argument");
  if (train && !rng) return dg_error(DG_ERR_ARG, "forward: training needs an rng");
  int st = dg_net_reserve(net, n);
  if (st) return st;
  dg_kernels_set_threads(net->threads);
  net->n = n, net->train = train, net->input = x;
  if (train) infer_stale(net); /* the weights are about to change */
  else if (n <= DG_INFER_MAX_N && infer_ready(net)) {
    infer_forward(net, x, n);
    return DG_OK;
  }
  const float *in = x;
  for (int i = 0; i < net->nlayers; i++) {
    dg_layer *l = &net->layers[i];
    size_t total = l->out_size * (size_t)n;
    if (!train && net->fold && (l->kind == DG_L_DENSE || l->kind == DG_L_CONV) &&
        i + 1 < net->nlayers && net->layers[i + 1].kind == DG_L_BATCHNORM &&
        total >= net->tensors[l->t0].size) {
      /* inference: the batch norm's scale and shift folded into this
       * layer's weights and bias, one pass instead of two; done per call,
       * so only when the outputs outnumber the weights (small batches of
       * a wide layer would spend more on folding than on the bn pass) */
      dg_layer *bn = &net->layers[i + 1];
      int F = l->kind == DG_L_DENSE ? l->units : l->filters;
      size_t nw = net->tensors[l->t0].size;
      float *wf = net->fold, *bf = net->fold + nw;
      fold_bn(net, bn, W(net, l, 0), W(net, l, 1), nw, F, wf, bf);
      if (l->kind == DG_L_DENSE)
        dg_dense_forward(bn->out, in, wf, bf, n, (int)l->in_size, l->units,
                         bn->relu_after);
      else
        dg_conv_forward(bn->out, in, wf, bf, n, l->ih, l->iw, l->ic,
                        l->filters, l->k, l->pad, bn->relu_after, net->work);
      in = bn->out;
      i++;
      continue;
    }
    if (train && l->kind == DG_L_BATCHNORM && l->relu_after &&
        i + 2 < net->nlayers && net->layers[i + 2].kind == DG_L_MAXPOOL) {
      /* bn, relu, maxpool in one pass; the full-size activation is never
       * stored (the pool's backward masks for the ReLU, and the bn's
       * backward reads its input) */
      dg_layer *mp = &net->layers[i + 2];
      dg_bn_relu_maxpool_forward_train(
          mp->out, mp->arg, mp->aux, l->stat, in, W(net, l, 0), W(net, l, 1),
          W(net, l, 2), W(net, l, 3), n, l->oh, l->ow, l->oc, mp->pool,
          net->work);
      in = mp->out;
      i += 2;
      continue;
    }
    in = forward_layer(net, i, in, n, train, rng);
  }
  return DG_OK;
}

/* ---- small-batch inference ---------------------------------------------------- */

/* Batches up to this size run image by image through kernels_infer.c:
 * each conv or dense layer with the batch norm after it folded into
 * weights packed once (not per call), its ReLU and a following 2 x 2 max
 * pool in the kernel's epilogue (a conv layer that the batched kernel
 * runs faster on this target, dg_infer_conv_preferred, goes to it with
 * the folded weights, pooled separately; a 3x3 one that Winograd takes,
 * dg_wino_applies, goes to it with the folded weights transformed once). The packed copies are rebuilt on the
 * first such call after anything could have changed the weights: a
 * training forward, or a call handing out writable weights
 * (dg_net_params, dg_net_state, dg_net_tensor*, dg_net_copy_weights). */
typedef struct {
  int first, last; /* layers covered; the output is layers[last].out */
  int kind;        /* DG_L_CONV, DG_L_DENSE, or -1: layer `first` alone
                      through forward_layer */
  int bn;          /* the folded batch norm's layer, or -1 */
  int direct;      /* conv: dg_infer_conv (else dg_conv2d on the folded,
                      unpacked weights, the whole batch at once) */
  int wino;        /* conv: 3x3 by Winograd (winograd.c), the folded
                      weights transformed once, the whole batch at once */
  int relu, pool;  /* pool: 2 for a fused 2 x 2 max pool, else 0 */
  size_t off;      /* packed weights at plan->w + off */
} infer_step;

struct dg_infer_plan {
  int ok;          /* packed weights match the net's */
  int nsteps;
  infer_step steps[DG_MAX_LAYERS];
  float *w;        /* every step's packed weights */
  float *work;     /* dg_infer_conv's padded image */
};

static void infer_stale(const dg_net *net) {
  if (net && net->infer) net->infer->ok = 0;
}

static void infer_free(dg_net *net) {
  if (!net->infer) return;
  free(net->infer->w), free(net->infer->work), free(net->infer);
  net->infer = NULL;
}

/* The steps, from the layer kinds alone. 0 when out of memory (the
 * generic path then serves). */
static int infer_plan(dg_net *net) {
  struct dg_infer_plan *p = calloc(1, sizeof *p);
  if (!p) return 0;
  size_t wsize = 0, work = 1;
  int L = net->nlayers;
  for (int i = 0; i < L;) {
    dg_layer *l = &net->layers[i];
    infer_step *s = &p->steps[p->nsteps++];
    s->first = s->last = i, s->kind = -1, s->bn = -1;
    if (l->kind == DG_L_CONV || l->kind == DG_L_DENSE) {
      int j = i;
      s->kind = l->kind;
      if (j + 1 < L && net->layers[j + 1].kind == DG_L_BATCHNORM) s->bn = ++j;
      s->relu = net->layers[j].relu_after;
      if (s->relu) j++; /* the fused ReLU layer */
      s->direct = l->kind == DG_L_CONV &&
                  dg_infer_conv_preferred(l->ic, l->filters, l->k);
      s->wino = l->kind == DG_L_CONV && dg_wino_applies(l->ic, l->filters, l->k);
      if (s->wino) s->direct = 0;
      if (s->direct && j + 1 < L && net->layers[j + 1].kind == DG_L_MAXPOOL &&
          net->layers[j + 1].pool == 2)
        s->pool = 2, j++;
      s->last = j;
      s->off = wsize;
      if (s->wino) {
        wsize += dg_wino_packed_size(l->ic, l->filters) + l->filters;
      } else if (s->direct) {
        wsize += dg_infer_conv_packed_size(l->ic, l->filters, l->k);
        size_t wk = dg_infer_conv_work(l->ih, l->iw, l->ic, l->pad);
        if (wk > work) work = wk;
      } else if (l->kind == DG_L_CONV) {
        wsize += net->tensors[l->t0].size + l->filters;
      } else {
        wsize += dg_infer_dense_packed_size((int)l->in_size, l->units);
      }
    }
    i = s->last + 1;
  }
  p->w = malloc((wsize ? wsize : 1) * sizeof(float));
  p->work = malloc(work * sizeof(float));
  if (!p->w || !p->work) {
    free(p->w), free(p->work), free(p);
    return 0;
  }
  net->infer = p;
  return 1;
}

/* Plan made and weights packed; 0 if the generic path must serve. */
static int infer_ready(dg_net *net) {
  if (!net->infer && !infer_plan(net)) return 0;
  struct dg_infer_plan *p = net->infer;
  if (p->ok) return 1;
  for (int k = 0; k < p->nsteps; k++) {
    infer_step *s = &p->steps[k];
    if (s->kind < 0) continue;
    dg_layer *l = &net->layers[s->first];
    const float *w = W(net, l, 0), *b = W(net, l, 1);
    int F = l->kind == DG_L_DENSE ? l->units : l->filters;
    if (s->bn >= 0) { /* net->fold is sized for this (dg_net_reserve) */
      size_t nw = net->tensors[l->t0].size;
      fold_bn(net, &net->layers[s->bn], w, b, nw, F, net->fold,
              net->fold + nw);
      w = net->fold, b = net->fold + nw;
    }
    if (s->wino) { /* transformed weights, then the bias */
      size_t nu = dg_wino_packed_size(l->ic, F);
      dg_wino_pack(w, l->ic, F, p->w + s->off);
      memcpy(p->w + s->off + nu, b, (size_t)F * sizeof(float));
    } else if (s->direct)
      dg_infer_conv_pack(w, b, l->ic, F, l->k, p->w + s->off);
    else if (l->kind == DG_L_CONV) { /* as folded, unpacked */
      size_t nw = net->tensors[l->t0].size;
      memcpy(p->w + s->off, w, nw * sizeof(float));
      memcpy(p->w + s->off + nw, b, (size_t)F * sizeof(float));
    } else
      dg_infer_dense_pack(w, b, (int)l->in_size, F, p->w + s->off);
  }
  p->ok = 1;
  return 1;
}

static void infer_forward(dg_net *net, const float *x, int n) {
  struct dg_infer_plan *p = net->infer;
  const float *in = x;
  for (int k = 0; k < p->nsteps; k++) {
    infer_step *s = &p->steps[k];
    dg_layer *l = &net->layers[s->first], *e = &net->layers[s->last];
    if (s->kind < 0) {
      in = forward_layer(net, s->first, in, n, 0, NULL);
      continue;
    }
    const float *w = p->w + s->off;
    if (s->wino) { /* the whole batch at once, weights transformed */
      dg_wino_conv2d_packed(in, n, l->ih, l->iw, l->ic, w,
                            w + dg_wino_packed_size(l->ic, l->filters),
                            l->filters, l->pad, s->relu, e->out, net->work);
      in = e->out;
      continue;
    }
    if (s->kind == DG_L_CONV && !s->direct) {
      dg_conv_forward(e->out, in, w, w + net->tensors[l->t0].size, n, l->ih,
                      l->iw, l->ic, l->filters, l->k, l->pad, s->relu,
                      net->work);
      in = e->out;
      continue;
    }
    for (int b = 0; b < n; b++) {
      const float *xi = in + (size_t)b * l->in_size;
      float *yi = e->out + (size_t)b * e->out_size;
      if (s->direct)
        dg_infer_conv(xi, l->ih, l->iw, l->ic, w, l->filters, l->k, l->pad,
                      s->relu, s->pool, yi, p->work);
      else
        dg_infer_dense(xi, (int)l->in_size, w, l->units, s->relu, yi);
    }
    in = e->out;
  }
}

const float *dg_net_output(const dg_net *net) {
  return net->layers[net->nlayers - 1].out;
}

int dg_net_backward(dg_net *net, const uint8_t *labels, float *loss) {
  if (!net || !labels || !net->n || !net->input)
    return dg_error(DG_ERR_ARG, "backward: no forward pass to go back through");
  int n = net->n, L = net->nlayers, k = dg_net_output_size(net);
  dg_layer *last = &net->layers[L - 1];
  /* softmax + cross-entropy fuse into (p - y) / n on the logits */
  int top = L - 1;
  const float *logits = last->out;
  float *dlogits = last->dout;
  if (last->kind == DG_L_SOFTMAX) {
    top = L - 2;
    logits = top >= 0 ? net->layers[top].out : net->input;
    dlogits = top >= 0 ? net->layers[top].dout : net->dinput;
  }
  float lv = 0;
  int st = dg_softmax_xent(logits, labels, n, k, net->probs, dlogits, &lv);
  if (st) return st;
  if (loss) *loss = lv;
  if (!isfinite(lv))
    return dg_error(DG_ERR_NUMERIC, "training diverged: loss is %g", lv);
  dg_kernels_set_threads(net->threads);
  for (int i = top; i >= 0; i--) {
    dg_layer *l = &net->layers[i];
    const float *in = i ? net->layers[i - 1].out : net->input;
    float *din = i ? net->layers[i - 1].dout : net->dinput; /* may be NULL */
    size_t total = l->out_size * (size_t)n;
    switch (l->kind) {
      case DG_L_DENSE:
        dg_dense_backward(din, G(net, l, 0), G(net, l, 1), l->dout, in,
                          W(net, l, 0), n, (int)l->in_size, l->units);
        break;
      case DG_L_CONV:
        dg_conv_backward(din, G(net, l, 0), G(net, l, 1), l->dout, in,
                         W(net, l, 0), n, l->ih, l->iw, l->ic, l->filters,
                         l->k, l->pad, net->work);
        break;
      case DG_L_BATCHNORM:
      {
        /* the ReLU after it masks through its output, unless a maxpool
         * after that has already masked the gradient */
        int mask = l->relu_after && !(i + 2 < L && net->layers[i + 2].kind ==
                                                       DG_L_MAXPOOL);
        dg_bn_backward(din, G(net, l, 0), G(net, l, 1), l->dout, in,
                       mask ? l->out : NULL, l->stat, W(net, l, 0),
                       (size_t)n * l->oh * l->ow, l->oc, net->work);
      }
        break;
      case DG_L_MAXPOOL: {
        if (net->train && i >= 2 && net->layers[i - 1].masked &&
            net->layers[i - 2].kind == DG_L_BATCHNORM) {
          /* bn, relu, maxpool ran as one pass: their backward is one too,
           * straight from the pooled gradient to the bn's input */
          dg_layer *bn = &net->layers[i - 2];
          const float *bin = i > 2 ? net->layers[i - 3].out : net->input;
          float *bdin = i > 2 ? net->layers[i - 3].dout : net->dinput;
          dg_maxpool_bn_grad(l->dout, l->out, l->arg, l->aux, bin, n, l->ih,
                             l->iw, l->ic, l->pool, bn->stat,
                             bn->stat + bn->oc, W(net, bn, 0), G(net, bn, 0),
                             G(net, bn, 1), bdin, net->work);
          i -= 2;
          break;
        }
        if (!din) break;
        /* a fused ReLU in front leaves its mask to the pool */
        int relu = i > 0 && net->layers[i - 1].masked;
        dg_maxpool_backward(l->dout, relu ? l->out : NULL, l->arg, n, l->ih,
                            l->iw, l->ic, l->pool, din);
        break;
      }
      default:
        if (!din) break;
        switch (l->kind) {
          case DG_L_AVGPOOL:
            dg_avgpool_backward(l->dout, n, l->ih, l->iw, l->ic, l->pool, din);
            break;
          case DG_L_RELU:
            if (!l->masked) dg_relu_backward(l->out, l->dout, din, total);
            break;
          case DG_L_SIGMOID: dg_sigmoid_backward(din, l->dout, l->out, total); break;
          case DG_L_TANH: dg_tanh_backward(din, l->dout, l->out, total); break;
          case DG_L_SOFTMAX:
            dg_softmax_backward(din, l->dout, l->out,
                                (int)(n * (l->out_size / l->oc)), l->oc);
            break;
          case DG_L_DROPOUT:
            if (net->train) dg_dropout_backward(din, l->dout, l->aux, total);
            else memcpy(din, l->dout, total * sizeof(float));
            break;
          case DG_L_FLATTEN: break; /* dout is din */
          default: break;
        }
    }
  }
  return DG_OK;
}

int dg_net_predict(dg_net *net, const float *x, int n, float *probs) {
  if (!probs) return dg_error(DG_ERR_ARG, "predict: null output");
  int st = dg_net_forward(net, x, n, 0, NULL);
  if (st) return st;
  int k = dg_net_output_size(net);
  const float *out = dg_net_output(net);
  if (net->layers[net->nlayers - 1].kind == DG_L_SOFTMAX)
    memcpy(probs, out, sizeof(float) * k * n);
  else
    dg_softmax_forward(probs, out, n, k);
  return DG_OK;
}

/* ---- metadata ---------------------------------------------------------------- */

int dg_net_meta_set(dg_net *net, const char *key, const char *value) {
  if (!net || !key || !value) return dg_error(DG_ERR_ARG, "meta: null argument");
  for (int i = 0; i < net->nmeta; i++)
    if (!strcmp(net->meta[i].key, key)) {
      char *v = strdup(value);
      if (!v) return dg_error(DG_ERR_NOMEM, "meta: out of memory");
      free(net->meta[i].value);
      net->meta[i].value = v;
      return DG_OK;
    }
  dg_meta *m = realloc(net->meta, sizeof *m * (net->nmeta + 1));
  if (!m) return dg_error(DG_ERR_NOMEM, "meta: out of memory");
  net->meta = m;
  m[net->nmeta].key = strdup(key);
  m[net->nmeta].value = strdup(value);
  if (!m[net->nmeta].key || !m[net->nmeta].value) {
    free(m[net->nmeta].key), free(m[net->nmeta].value);
    return dg_error(DG_ERR_NOMEM, "meta: out of memory");
  }
  net->nmeta++;
  return DG_OK;
}

const char *dg_net_meta_get(const dg_net *net, const char *key) {
  for (int i = 0; net && key && i < net->nmeta; i++)
    if (!strcmp(net->meta[i].key, key)) return net->meta[i].value;
  return NULL;
}

void dg_net_meta_del(dg_net *net, const char *key) {
  for (int i = 0; net && key && i < net->nmeta; i++)
    if (!strcmp(net->meta[i].key, key)) {
      free(net->meta[i].key), free(net->meta[i].value);
      memmove(&net->meta[i], &net->meta[i + 1],
              sizeof *net->meta * (net->nmeta - i - 1));
      net->nmeta--;
      return;
    }
}

int dg_net_meta_count(const dg_net *net) { return net ? net->nmeta : 0; }

int dg_net_meta_at(const dg_net *net, int i, const char **key,
                   const char **value) {
  if (!net || i < 0 || i >= net->nmeta)
    return dg_error(DG_ERR_ARG, "meta: no entry %d", i);
  if (key) *key = net->meta[i].key;
  if (value) *value = net->meta[i].value;
  return DG_OK;
}
