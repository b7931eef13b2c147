/* nn.h: internals shared by the network files: the layer record, the
 * execution plan (plan.c) with its steps and the operations they run
 * (layer_*.c, forward and backward side by side), the network record
 * (net.c), and the layer kernels as forward/backward pairs. Not part of the
 * public API. */
#ifndef DG_NN_H
#define DG_NN_H

#include "digits.h"
#include "kernels/kernels.h"

/* The layer kinds: the one table. Each kind's type (dg_layer_type) is
 * defined in its own file (layer_*.c); layers.c lists them in this order.
 * Adding a kind: its file (type + operation) and one line here. */
#define DG_LAYER_KINDS(X)                                                    \
  X(DENSE, dg_layer_dense)                                                   \
  X(CONV, dg_layer_conv)                                                     \
  X(MAXPOOL, dg_layer_maxpool)                                               \
  X(AVGPOOL, dg_layer_avgpool)                                               \
  X(RELU, dg_layer_relu)                                                     \
  X(SIGMOID, dg_layer_sigmoid)                                               \
  X(TANH, dg_layer_tanh)                                                     \
  X(SOFTMAX, dg_layer_softmax)                                               \
  X(BATCHNORM, dg_layer_bn)                                                  \
  X(DROPOUT, dg_layer_dropout)                                               \
  X(FLATTEN, dg_layer_flatten)                                               \
  X(LEAKYRELU, dg_layer_leakyrelu)                                           \
  X(GAP, dg_layer_gap)

typedef enum {
#define DG_KIND_ENUM(kind, type) DG_L_##kind,
  DG_LAYER_KINDS(DG_KIND_ENUM)
#undef DG_KIND_ENUM
  DG_L_KINDS
} dg_layer_kind;

#define DG_MAX_LAYERS 64
#define DG_BN_EPS 1e-3f       /* Keras' default: files without "bn_eps" */
#define DG_BN_EPS_MIN 1e-12f  /* a net's epsilon: in [MIN, MAX] */
#define DG_BN_EPS_MAX 1.0f
#define DG_BN_MAX_C 4096     /* channels (features) a batch norm may have */
#define DG_BN_MOMENTUM 0.9f   /* running = m * running + (1 - m) * batch */

typedef struct {
  dg_layer_kind kind;
  char name[24];            /* "conv1", "bn2", ... */
  int ih, iw, ic;           /* input per sample (H, W, C) */
  int oh, ow, oc;           /* output per sample */
  size_t in_size, out_size; /* ih*iw*ic, oh*ow*oc */
  int units;                /* dense */
  int filters, k, pad;      /* conv: zeros around each side (same:
                               (k-1)/2, valid: 0, or "pad P") */
  int pool;                 /* max/avg pool size = stride */
  float rate;               /* dropout */
  float alpha;              /* leaky ReLU: the slope below 0 */
  int t0;                   /* first tensor index (weight/gamma), -1 none */
  int borrowed;             /* out and dout are other buffers (set by the
                               plan): a ReLU fused into the step before has
                               that layer's; a flatten's are its input and
                               the previous layer's dout (or the input
                               gradient, maybe NULL) */
  int nt;                   /* tensors owned (param + state) */
  /* per-batch buffers, allocated by dg_net_reserve */
  float *out;               /* (N, out_size) */
  float *buf;               /* the buffer this layer owns for out, if any
                               (out may point elsewhere: see borrowed;
                               inference dropout passes its input on) */
  float *dout;              /* (N, out_size) gradient of the loss wrt out */
  float *aux;               /* dropout: mask; maxpool after bn + relu: the
                               bn input at each max (N, out_size) */
  float *stat;              /* bn: mean (C), invstd (C), var (C) */
  float *arg;               /* maxpool: window position of each max
                               (N, out_size) */
} dg_layer;

typedef struct {
  char *key, *value;
} dg_meta;

/* ---- the execution plan (plan.c) ------------------------------------------ */

/* A network is compiled once per mode into a list of steps: training (the
 * forward pass keeps what the backward needs), batched inference (batch
 * norm folded into the layer before it, per call), and small-batch
 * inference (image by image, weights packed once, batch norm folded in). */
typedef enum { DG_PLAN_TRAIN, DG_PLAN_BATCH, DG_PLAN_ONE, DG_PLAN_MODES } dg_plan_mode;

typedef struct dg_step dg_step;

/* What a step runs: an operation's forward and backward, written side by
 * side in the layer's own file (layer_*.c). in: the step's input (N,
 * layers[first].in_size); din: where its input gradient goes (NULL when
 * none is wanted). Optional hooks: work (floats of net->work the step
 * needs for a batch of n), packed and pack (small-batch inference: floats
 * of packed weights, and filling them from the current weights). */
typedef struct {
  const char *name;
  void (*forward)(dg_net *net, dg_step *s, const float *in, int n,
                  dg_rng *rng);
  void (*backward)(dg_net *net, dg_step *s, const float *in, float *din,
                   int n);
  size_t (*work)(const dg_net *net, const dg_step *s, int n);
  size_t (*packed)(const dg_net *net, const dg_step *s);
  void (*pack)(dg_net *net, dg_step *s, float *dst);
} dg_op;

/* A tensor a layer owns, as its type declares it. */
typedef enum { DG_INIT_ZEROS, DG_INIT_ONES, DG_INIT_GLOROT } dg_init;
typedef struct {
  const char *suffix;       /* "weight", "bias", "gamma", ... */
  int ndim, shape[4];
  int trainable, decay;     /* decay: weight decay applies (weights) */
  dg_init init;
  float fan_in, fan_out;    /* Glorot (Xavier) uniform: Keras' default */
} dg_tensor_spec;

/* What a layer kind is: its words in a spec, its arguments and output
 * shape, its tensors, and the operation that runs it alone. */
typedef struct {
  const char *keyword;      /* in a spec: "conv" */
  const char *alias;        /* another accepted keyword, or NULL */
  const char *name;         /* in summaries: "Conv2D" */
  /* Arguments tok[1..nt-1] into l, the output shape into *h, *w, *c (the
   * input's on entry): NULL, or what is wrong. */
  const char *(*args)(dg_layer *l, char **tok, int nt, int *h, int *w,
                      int *c);
  /* The arguments as a spec writes them (" 32 3 same"), into buf. */
  void (*spec)(const dg_layer *l, char *buf, size_t cap);
  /* The tensors it owns, into t (at most 4): how many. */
  int (*tensors)(const dg_layer *l, dg_tensor_spec *t);
  const dg_op *op;
  int relu_epilogue;        /* can run a ReLU after it in its epilogue */
} dg_layer_type;

#define DG_KIND_TYPE(kind, type) extern const dg_layer_type type;
DG_LAYER_KINDS(DG_KIND_TYPE)
#undef DG_KIND_TYPE
/* A spec's integer argument in [lo, hi] into *out: 1, or 0 if it is not
 * one (arch.c). */
int dg_arch_int(const char *tok, int lo, int hi, int *out);
/* Every kind's type, by dg_layer_kind (layers.c). */
extern const dg_layer_type *const dg_layer_types[DG_L_KINDS];

struct dg_step {
  const dg_op *op;
  int first, last;   /* layers covered: the step writes layers[last].out */
  dg_layer *l;       /* layers[first] */
  dg_layer *bn;      /* inference: the batch norm folded into l, or NULL */
  dg_layer *pool;    /* a max pool run in the step's epilogue, or NULL */
  int relu;          /* a ReLU in the step's epilogue */
  int relu_masked;   /* training: the next step (a max pool) applies that
                        ReLU's gradient mask */
  int mask_relu;     /* max pool: applies the previous step's ReLU mask */
  int direct;        /* small-batch conv: dg_infer_conv on packed weights */
  int wino;          /* conv: Winograd's path, weights transformed once */
  size_t off;        /* small-batch: packed weights at plan->packed + off */
  dg_exec ex;        /* the plan's settings; ex.site is this step */
};

typedef struct {
  dg_plan_mode mode;
  int nsteps;
  dg_step steps[DG_MAX_LAYERS];
  float *packed;     /* small-batch: every step's packed weights */
  int packed_ok;     /* they match the network's weights */
  float *image;      /* small-batch: dg_infer_conv's padded image */
} dg_plan;

/* Compile net's layers for a mode (plan->ex: its settings). Small-batch
 * plans also allocate their packed weights; 0 when out of memory. */
int dg_plan_compile(dg_net *net, dg_plan_mode mode, dg_plan *plan);
void dg_plan_release(dg_plan *plan);
/* Run the steps forward on x (n inputs): the output is the last layer's. */
void dg_plan_forward(dg_net *net, dg_plan *plan, const float *x, int n,
                     dg_rng *rng);
/* Back from the gradient in layers[top].dout to the input (training). */
void dg_plan_backward(dg_net *net, dg_plan *plan, int top);
/* Small-batch plans: pack the current weights, unless already done. */
void dg_plan_pack(dg_net *net, dg_plan *plan);
/* Floats of net->work and net->fold the steps need for a batch of n,
 * raised into *work and *fold. */
void dg_plan_needs(const dg_net *net, const dg_plan *plan, int n,
                   size_t *work, size_t *fold);
/* The plan's settings for a call made by step `site` (the tuner's key). */
dg_exec dg_net_exec(const dg_net *net, int site);
/* The operations (layer_*.c). */
extern const dg_op dg_op_dense, dg_op_dense_bn, dg_op_dense_one;
extern const dg_op dg_op_conv, dg_op_conv_bn, dg_op_conv_one,
    dg_op_conv_one_wino, dg_op_conv_one_folded;
extern const dg_op dg_op_bn, dg_op_bn_relu_maxpool;
extern const dg_op dg_op_maxpool, dg_op_avgpool;
extern const dg_op dg_op_relu, dg_op_sigmoid, dg_op_tanh, dg_op_softmax;
extern const dg_op dg_op_dropout, dg_op_flatten, dg_op_leakyrelu, dg_op_gap;
/* Weights (nw floats, F output channels innermost) and bias of a dense or
 * conv layer with the batch norm bn after it folded in (inference). */
void dg_bn_fold(const dg_net *net, const dg_layer *bn, const float *w,
                const float *b, size_t nw, int F, float *wf, float *bf);
/* Batched inference of a dense or conv step with its batch norm folded in
 * per call when that pays (layer_norm.c); run computes the layer with
 * weights w and bias b into out (a ReLU if its step says so). */
typedef void (*dg_fold_runner)(dg_net *net, dg_step *s, const float *in,
                               const float *w, const float *b, float *out,
                               int n);
void dg_bn_fold_run(dg_net *net, dg_step *s, const float *in, int n,
                    dg_fold_runner run);
/* Layer l's tensor t: its values, and its gradient. */
float *dg_layer_w(const dg_net *net, const dg_layer *l, int t);
float *dg_layer_g(const dg_net *net, const dg_layer *l, int t);

struct dg_net {
  char *arch;               /* normalised spec */
  int nlayers;
  dg_layer layers[DG_MAX_LAYERS];
  int in_h, in_w, in_c;
  size_t nparams, nstate;
  float *params;            /* (nparams) all trainable tensors, flat */
  float *grads;             /* (nparams) */
  float *state;             /* (nstate) running statistics */
  int ntensors;
  dg_tensor tensors[4 * DG_MAX_LAYERS];
  char tensor_names[4 * DG_MAX_LAYERS][32];
  int cap;                  /* batch capacity of the buffers */
  int n;                    /* batch of the last forward */
  int train;                /* last forward was in training mode */
  dg_plan_mode last;        /* the plan of the last forward */
  const float *input;       /* (n, in_size) borrowed from the last forward */
  float *dinput;            /* (cap, in_size) if want_dinput */
  int want_dinput;          /* tests: also compute d(loss)/d(input) */
  float *work;              /* conv and bn workspace */
  float *fold;              /* inference: weights and bias of a dense or
                               conv layer with the next batch norm folded
                               in */
  float *probs;             /* (cap, out) softmax of logits for the loss */
  dg_plan *plans[DG_PLAN_MODES]; /* compiled on first use (plan.c) */
  dg_exec ex;               /* the plans' settings: threads, Winograd, the
                               tuner */
  float bn_eps;             /* batch norm's epsilon (DG_BN_EPS unless set) */
  int norm;                 /* 1: the input is normalised on every forward */
  float norm_mean, norm_std; /* (x - mean) / std */
  float *xnorm;             /* (cap, in_size) the normalised input */
  int nmeta;
  dg_meta *meta;
};

/* Parse a spec into net->layers and shapes (no allocation of buffers). */
int dg_arch_parse(dg_net *net, const char *spec);
/* dg_net_new, its weights left at zero when !init (the model loader, which
 * overwrites every tensor: drawing the random weights was 80% of loading). */
int dg_net_create(dg_net **out, const char *arch, uint64_t seed, int init);

/* softmax over rows of k (layer_act.c; predict applies it to logits) */
void dg_softmax_forward(float *y, const float *x, int rows, int k);

#endif
