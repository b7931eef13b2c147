/* net.c: the sequential network: construction from a spec, the flat
 * parameter/gradient/state arrays and their named tensors, the per-batch
 * buffers, the settings of its plans (threads, Winograd), forward (the
 * plan of the mode, plan.c), loss + backward, inference, metadata. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

/* Batches up to this size run on the small-batch plan (DG_PLAN_ONE). */
#ifndef DG_PLAN_ONE_MAX_N
#define DG_PLAN_ONE_MAX_N 4
#endif

static void plans_free(dg_net *net);

/* The packed weights of the small-batch plan no longer match the weights:
 * after a training forward, or a call handing out writable weights
 * (dg_net_params, dg_net_state, dg_net_tensor*, dg_net_copy_weights). */
static void infer_stale(const dg_net *net) {
  if (net && net->plans[DG_PLAN_ONE]) net->plans[DG_PLAN_ONE]->packed_ok = 0;
}

float *dg_layer_w(const dg_net *net, const dg_layer *l, int t) {
  return net->tensors[l->t0 + t].data;
}

float *dg_layer_g(const dg_net *net, const dg_layer *l, int t) {
  return net->grads + (net->tensors[l->t0 + t].data - net->params);
}

static int add_tensor(dg_net *net, const char *layer, const char *suffix,
                      int ndim, const int *shape, int trainable, int decay) {
  int i = net->ntensors++;
  dg_tensor *t = &net->tensors[i];
  char base[sizeof net->layers[0].name];  /* layer is net's own: no overlap */
  snprintf(base, sizeof base, "%s", layer);
  snprintf(net->tensor_names[i], sizeof net->tensor_names[i], "%s.%s", base,
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
    const dg_layer_type *type = dg_layer_types[l->kind];
    char args[48] = "";
    if (type->spec) type->spec(l, args, sizeof args);
    len += snprintf(s + len, cap - len, "; %s%s", type->keyword, args);
  }
  return s;
}

/* Each layer's tensors as its type declares them. */
static void add_tensors(dg_net *net) {
  for (int i = 0; i < net->nlayers; i++) {
    dg_layer *l = &net->layers[i];
    const dg_layer_type *type = dg_layer_types[l->kind];
    dg_tensor_spec t[4];
    l->nt = type->tensors ? type->tensors(l, t) : 0;
    for (int j = 0; j < l->nt; j++) {
      int k = add_tensor(net, l->name, t[j].suffix, t[j].ndim, t[j].shape,
                         t[j].trainable, t[j].decay);
      if (j == 0) l->t0 = k;
    }
  }
}

/* As the types say: Glorot (Xavier) uniform, Keras' default, for dense and
 * conv weights (drawn in layer order), ones or zeros for the rest. */
static void init_weights(dg_net *net, uint64_t seed) {
  dg_rng rng;
  dg_rng_seed(&rng, seed);
  for (int i = 0; i < net->nlayers; i++) {
    dg_layer *l = &net->layers[i];
    const dg_layer_type *type = dg_layer_types[l->kind];
    dg_tensor_spec t[4];
    if (!type->tensors) continue;
    type->tensors(l, t);
    for (int j = 0; j < l->nt; j++) {
      dg_tensor *w = &net->tensors[l->t0 + j];
      if (t[j].init != DG_INIT_GLOROT) {
        float v = t[j].init == DG_INIT_ONES ? 1.0f : 0.0f;
        for (size_t e = 0; e < w->size; e++) w->data[e] = v;
        continue;
      }
      float limit = sqrtf(6.0f / (t[j].fan_in + t[j].fan_out));
      for (size_t e = 0; e < w->size; e++)
        w->data[e] = (2.0f * dg_rng_uniform(&rng) - 1.0f) * limit;
    }
  }
}

int dg_net_new(dg_net **out, const char *arch, uint64_t seed) {
  return dg_net_create(out, arch, seed, 1);
}

int dg_net_create(dg_net **out, const char *arch, uint64_t seed, int init) {
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
  net->ex = dg_exec_default();
  net->bn_eps = DG_BN_EPS;
  int st = dg_arch_parse(net, spec);
  if (st) {
    free(net);
    return st;
  }
  add_tensors(net);
  net->ex.tuner = dg_tuner_new();
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
  if (init) init_weights(net, seed);
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
  free(net->xnorm);
  net->work = net->fold = net->dinput = net->probs = net->xnorm = NULL;
  net->cap = 0;
}

void dg_net_free(dg_net *net) {
  if (!net) return;
  free_buffers(net);
  plans_free(net);
  dg_tuner_free(net->ex.tuner);
  free(net->params), free(net->grads), free(net->state), free(net->arch);
  for (int i = 0; i < net->nmeta; i++)
    free(net->meta[i].key), free(net->meta[i].value);
  free(net->meta);
  free(net);
}

/* The plan of a mode, compiled on first use; NULL when out of memory. */
static dg_plan *plan_get(dg_net *net, dg_plan_mode mode) {
  if (net->plans[mode]) return net->plans[mode];
  dg_plan *p = malloc(sizeof *p);
  if (!p) return NULL;
  if (!dg_plan_compile(net, mode, p)) {
    free(p);
    return NULL;
  }
  return net->plans[mode] = p;
}

static void plans_free(dg_net *net) {
  for (int m = 0; m < DG_PLAN_MODES; m++) {
    dg_plan_release(net->plans[m]);
    free(net->plans[m]);
    net->plans[m] = NULL;
  }
}

/* Which layers' out and dout are other buffers: a ReLU that a step takes
 * in its epilogue uses that layer's, a flatten its input's. The same in
 * every mode's plan (their ReLU fusions are the same). */
static void mark_borrowed(dg_net *net, const dg_plan *p) {
  for (int i = 0; i < net->nlayers; i++)
    net->layers[i].borrowed = net->layers[i].kind == DG_L_FLATTEN;
  for (int k = 0; k < p->nsteps; k++) {
    const dg_step *s = &p->steps[k];
    for (int i = s->first + 1; i <= s->last; i++)
      if (net->layers[i].kind == DG_L_RELU) net->layers[i].borrowed = 1;
  }
}

/* A layer's own buffers for a batch of n (train: the training plan). */
static int layer_buffers(dg_net *net, int i, int n, const dg_plan *train) {
  dg_layer *l = &net->layers[i];
  size_t sz = l->out_size * (size_t)n;
  int ok = 1;
  ok &= (l->out = l->buf = dg_alloc_floats(sz)) != NULL;
  ok &= (l->dout = dg_alloc_floats(sz)) != NULL;
  int pool_aux = 0; /* the pool of a fused bn + relu + maxpool keeps the
                       norm's input at each max */
  for (int k = 0; k < train->nsteps; k++)
    pool_aux |= train->steps[k].pool == l &&
                train->steps[k].op == &dg_op_bn_relu_maxpool;
  if (l->kind == DG_L_DROPOUT || pool_aux)
    ok &= (l->aux = dg_alloc_floats(sz)) != NULL;
  if (l->kind == DG_L_BATCHNORM)
    ok &= (l->stat = dg_alloc_floats(3 * l->oc)) != NULL;
  if (l->kind == DG_L_MAXPOOL)
    ok &= (l->arg = dg_alloc_floats(sz)) != NULL;
  return ok;
}

int dg_net_reserve(dg_net *net, int n) {
  if (!net || n < 1) return dg_error(DG_ERR_ARG, "net: batch size must be >= 1");
  if (n <= net->cap) return DG_OK;
  if (n > (1 << 20)) return dg_error(DG_ERR_ARG, "net: batch of %d too large", n);
  free_buffers(net);
  dg_plan *train = plan_get(net, DG_PLAN_TRAIN), *batch = plan_get(net, DG_PLAN_BATCH);
  if (!train || !batch)
    return dg_error(DG_ERR_NOMEM, "net: out of memory for its plans");
  mark_borrowed(net, train);
  int ok = 1;
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
    ok &= layer_buffers(net, i, n, train);
  }
  size_t work_need = 0, fold_need = 0;
  dg_plan_needs(net, train, n, &work_need, &fold_need);
  dg_plan_needs(net, batch, n, &work_need, &fold_need);
  if (work_need)
    ok &= (net->work = dg_alloc_floats(work_need)) != NULL;
  if (fold_need)
    ok &= (net->fold = dg_alloc_floats(fold_need)) != NULL;
  size_t outs = net->layers[net->nlayers - 1].out_size * (size_t)n;
  ok &= (net->probs = dg_alloc_floats(outs)) != NULL;
  if (net->norm)
    ok &= (net->xnorm = dg_alloc_floats(net->layers[0].in_size * n)) != NULL;
  if (net->want_dinput)
    ok &= (net->dinput = dg_alloc_floats(net->layers[0].in_size * n)) != NULL;
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

/* Settings of every plan: the compiled steps carry them. */
static void set_exec(dg_net *net, int threads, int winograd) {
  net->ex.threads = threads < 1 ? 1 : threads > 256 ? 256 : threads;
  if (winograd != net->ex.winograd) { /* the small-batch kernels change */
    net->ex.winograd = winograd;
    dg_plan *one = net->plans[DG_PLAN_ONE];
    if (one) dg_plan_release(one), free(one), net->plans[DG_PLAN_ONE] = NULL;
  }
  for (int m = 0; m < DG_PLAN_MODES; m++)
    for (int k = 0; net->plans[m] && k < net->plans[m]->nsteps; k++) {
      net->plans[m]->steps[k].ex.threads = net->ex.threads;
      net->plans[m]->steps[k].ex.winograd = net->ex.winograd;
    }
}

void dg_net_set_threads(dg_net *net, int threads) {
  if (net) set_exec(net, threads, net->ex.winograd);
}

void dg_net_set_winograd(dg_net *net, int on) {
  if (net) set_exec(net, net->ex.threads, on != 0);
}

dg_exec dg_net_exec(const dg_net *net, int site) {
  dg_exec ex = net->ex;
  ex.site = site;
  return ex;
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
  info->kind = dg_layer_types[l->kind]->name;
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

/* ---- network-level settings ----------------------------------------------- */

float dg_net_bn_eps(const dg_net *net) { return net ? net->bn_eps : DG_BN_EPS; }

int dg_net_set_bn_eps(dg_net *net, float eps) {
  if (!net) return dg_error(DG_ERR_ARG, "net: null argument");
  if (!(eps >= DG_BN_EPS_MIN && eps <= DG_BN_EPS_MAX))
    return dg_error(DG_ERR_ARG, "batch-norm epsilon %g is outside [%g, %g]",
                    eps, DG_BN_EPS_MIN, DG_BN_EPS_MAX);
  net->bn_eps = eps;
  infer_stale(net); /* packed weights fold the norm in */
  return DG_OK;
}

int dg_net_input_norm(const dg_net *net, float *mean, float *std) {
  if (!net || !net->norm) return 0;
  if (mean) *mean = net->norm_mean;
  if (std) *std = net->norm_std;
  return 1;
}

int dg_net_set_input_norm(dg_net *net, float mean, float std) {
  if (!net) return dg_error(DG_ERR_ARG, "net: null argument");
  if (!isfinite(mean) || !isfinite(std) || !(std > 0) || fabsf(mean) > 1e6f ||
      std < 1e-6f || std > 1e6f)
    return dg_error(DG_ERR_ARG,
                    "input normalisation: mean %g, std %g (need finite, "
                    "|mean| <= 1e6, std in [1e-6, 1e6])", mean, std);
  int had = net->norm;
  net->norm = 1, net->norm_mean = mean, net->norm_std = std;
  if (!had && net->cap) { /* the buffer for the normalised input */
    int cap = net->cap;
    free_buffers(net);
    return dg_net_reserve(net, cap);
  }
  return DG_OK;
}

/* ---- forward / backward ------------------------------------------------------ */

int dg_net_forward(dg_net *net, const float *x, int n, int train, dg_rng *rng) {
  if (!net || !x || n < 1) return dg_error(DG_ERR_ARG, "forward: bad argument");
  if (train && !rng) return dg_error(DG_ERR_ARG, "forward: training needs an rng");
  int st = dg_net_reserve(net, n);
  if (st) return st;
  if (net->norm) { /* (x - mean) / std, as ONNX's Sub then Div */
    size_t m = (size_t)n * net->layers[0].in_size;
    for (size_t i = 0; i < m; i++)
      net->xnorm[i] = (x[i] - net->norm_mean) / net->norm_std;
    x = net->xnorm;
  }
  net->n = n, net->train = train, net->input = x;
  dg_plan_mode mode = train ? DG_PLAN_TRAIN : DG_PLAN_BATCH;
  if (train) infer_stale(net); /* the weights are about to change */
  else if (n <= DG_PLAN_ONE_MAX_N && plan_get(net, DG_PLAN_ONE))
    mode = DG_PLAN_ONE; /* else (out of memory) the batched plan serves */
  dg_plan *p = net->plans[mode];
  if (mode == DG_PLAN_ONE) dg_plan_pack(net, p);
  net->last = mode;
  dg_plan_forward(net, p, x, n, rng);
  return DG_OK;
}

const float *dg_net_output(const dg_net *net) {
  return net->layers[net->nlayers - 1].out;
}

/* The top of backward into *topp: the layer whose dout takes the
 * gradient on the logits (before a final softmax; -1: the input), its
 * logits and that dout. */
static int backward_top(dg_net *net, int *topp, const float **logits, float **dlogits) {
  if (!net->n || !net->input)
    return dg_error(DG_ERR_ARG, "backward: no forward pass to go back through");
  if (!net->train)
    return dg_error(DG_ERR_ARG, "backward: the last forward pass was not a "
                                "training one");
  int L = net->nlayers, top = L - 1;
  dg_layer *last = &net->layers[L - 1];
  *logits = last->out, *dlogits = last->dout;
  if (last->kind == DG_L_SOFTMAX) {
    top = L - 2;
    *logits = top >= 0 ? net->layers[top].out : net->input;
    *dlogits = top >= 0 ? net->layers[top].dout : net->dinput;
  }
  *topp = top;
  return DG_OK;
}

/* From the gradient in the top layer's dout down to the parameters. */
static void backward_from(dg_net *net, int top) {
  dg_plan_backward(net, net->plans[DG_PLAN_TRAIN], top);
  if (net->norm && net->dinput) /* through the normalisation to x */
    for (size_t i = 0; i < (size_t)net->n * net->layers[0].in_size; i++)
      net->dinput[i] /= net->norm_std;
}

int dg_net_backward(dg_net *net, const uint8_t *labels, float *loss) {
  if (!net || !labels) return dg_error(DG_ERR_ARG, "backward: null argument");
  const float *logits;
  float *dlogits;
  int top, st = backward_top(net, &top, &logits, &dlogits);
  if (st) return st;
  /* softmax + cross-entropy fuse into (p - y) / n on the logits */
  float lv = 0;
  st = dg_softmax_xent(logits, labels, net->n, dg_net_output_size(net), net->probs,
                       dlogits, &lv);
  if (st) return st;
  if (loss) *loss = lv;
  if (!isfinite(lv))
    return dg_error(DG_ERR_NUMERIC, "training diverged: loss is %g", lv);
  backward_from(net, top);
  return DG_OK;
}

int dg_net_backward_grad(dg_net *net, const float *dlogits) {
  if (!net || !dlogits) return dg_error(DG_ERR_ARG, "backward: null argument");
  const float *logits;
  float *d;
  int top, st = backward_top(net, &top, &logits, &d);
  if (st) return st;
  const size_t m = (size_t)net->n * dg_net_output_size(net);
  for (size_t i = 0; i < m; i++)
    if (!isfinite(dlogits[i]))
      return dg_error(DG_ERR_NUMERIC, "training diverged: gradient %zu is %g", i,
                      dlogits[i]);
  memcpy(d, dlogits, sizeof(float) * m);
  backward_from(net, top);
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
