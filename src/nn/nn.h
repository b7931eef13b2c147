/* nn.h: internals shared by the network files (net.c, arch.c, layers.c,
 * train.c): the layer record, the network record, and the layer kernels as
 * forward/backward pairs. Not part of the public API. */
#ifndef DG_NN_H
#define DG_NN_H

#include "digits.h"

typedef enum {
  DG_L_DENSE,
  DG_L_CONV,
  DG_L_MAXPOOL,
  DG_L_AVGPOOL,
  DG_L_RELU,
  DG_L_SIGMOID,
  DG_L_TANH,
  DG_L_SOFTMAX,
  DG_L_BATCHNORM,
  DG_L_DROPOUT,
  DG_L_FLATTEN,
  DG_L_KINDS
} dg_layer_kind;

/* Spec keyword and summary name of each kind ("conv" / "conv2d"). */
extern const char *const dg_layer_keyword[DG_L_KINDS];
extern const char *const dg_layer_kind_name[DG_L_KINDS];

#define DG_MAX_LAYERS 64
#define DG_BN_EPS 1e-3f       /* Keras' default */
#define DG_BN_MAX_C 4096     /* channels (features) a batch norm may have */
#define DG_BN_MOMENTUM 0.9f   /* running = m * running + (1 - m) * batch */

typedef struct {
  dg_layer_kind kind;
  char name[24];            /* "conv1", "bn2", ... */
  int ih, iw, ic;           /* input per sample (H, W, C) */
  int oh, ow, oc;           /* output per sample */
  size_t in_size, out_size; /* ih*iw*ic, oh*ow*oc */
  int units;                /* dense */
  int filters, k, pad;      /* conv: pad = (k-1)/2 for same, 0 for valid */
  int pool;                 /* max/avg pool size = stride */
  float rate;               /* dropout */
  int t0;                   /* first tensor index (weight/gamma), -1 none */
  int relu_after;           /* dense/conv/bn: also applies the next layer,
                               a ReLU, whose out and dout are this layer's */
  int fused;                /* relu: computed by the previous layer */
  int borrowed;             /* out and dout are other buffers: a fused
                               relu's are the previous layer's; a flatten's
                               are its input and the previous layer's dout
                               (or the input gradient, maybe NULL) */
  int masked;               /* fused relu: its backward is done by its
                               neighbours (a bn before or a maxpool after
                               masks the gradient it passes) */
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
  const float *input;       /* (n, in_size) borrowed from the last forward */
  float *dinput;            /* (cap, in_size) if want_dinput */
  int want_dinput;          /* tests: also compute d(loss)/d(input) */
  float *work;              /* conv and bn workspace */
  float *fold;              /* inference: weights and bias of a dense or
                               conv layer with the next batch norm folded
                               in */
  float *probs;             /* (cap, out) softmax of logits for the loss */
  struct dg_infer_plan *infer; /* small-batch inference: packed weights
                               (net.c), rebuilt after the weights change */
  int threads;
  int nmeta;
  dg_meta *meta;
};

/* Parse a spec into net->layers and shapes (no allocation of buffers). */
int dg_arch_parse(dg_net *net, const char *spec);

/* ---- layer kernels: forward stores what backward needs -------------------- */

/* dense: in (N, I) @ w (I, U) + b (U) -> out (N, U), then ReLU if relu */
void dg_dense_forward(float *out, const float *in, const float *w,
                      const float *b, int N, int I, int U, int relu);
/* dw (I, U), db (U) overwritten; din (N, I) if not NULL */
void dg_dense_backward(float *din, float *dw, float *db, const float *dout,
                       const float *in, const float *w, int N, int I, int U);

/* conv: in (N, H, W, C), w (K, K, C, F), b (F) -> out (N, OH, OW, F), then
 * ReLU if relu; work holds dg_conv2d_work(N, H, W, C, F, K, pad) floats. */
void dg_conv_forward(float *out, const float *in, const float *w,
                     const float *b, int N, int H, int W, int C, int F, int K,
                     int pad, int relu, float *work);
void dg_conv_backward(float *din, float *dw, float *db, const float *dout,
                      const float *in, const float *w, int N, int H, int W,
                      int C, int F, int K, int pad, float *work);

/* batch norm over rows = N*H*W of C channels. Training: batch statistics
 * (stat = mean, invstd, var), updates running mean/var; inference: running.
 * Then ReLU if relu. Backward reads the layer's input (xhat is recomputed,
 * not stored) and, when the layer applied a ReLU, its output as the mask.
 * work: dg_bn_work(rows, C) floats. */
void dg_bn_forward_train(float *out, float *stat, const float *in,
                         const float *gamma, const float *beta, float *rmean,
                         float *rvar, size_t rows, int C, int relu,
                         float *work);
/* Training: batch norm, ReLU and P x P max pooling in one pass over in
 * (N, H, W, C): only the pool's out, arg and pxk (the input at each max,
 * for the backward) are written. */
void dg_bn_relu_maxpool_forward_train(float *pout, float *parg, float *pxk,
                                      float *stat,
                                      const float *in, const float *gamma,
                                      const float *beta, float *rmean,
                                      float *rvar, int N, int H, int W, int C,
                                      int P, float *work);
void dg_bn_forward_infer(float *out, const float *in, const float *gamma,
                         const float *beta, const float *rmean,
                         const float *rvar, size_t rows, int C, int relu);
/* out: the layer's output if it applied a ReLU, else NULL */
void dg_bn_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                    const float *in, const float *out, const float *stat,
                    const float *gamma, size_t rows, int C, float *work);

/* elementwise activations; backward from the forward's output y */
void dg_sigmoid_forward(float *y, const float *x, size_t n);
void dg_sigmoid_backward(float *dx, const float *dy, const float *y, size_t n);
void dg_tanh_forward(float *y, const float *x, size_t n);
void dg_tanh_backward(float *dx, const float *dy, const float *y, size_t n);
/* softmax over rows of k; backward dx = y * (dy - sum(dy * y)) */
void dg_softmax_forward(float *y, const float *x, int rows, int k);
void dg_softmax_backward(float *dx, const float *dy, const float *y, int rows,
                         int k);
/* dropout (inverted): mask entries are 0 or 1/(1-rate) */
void dg_dropout_forward(float *y, float *mask, const float *x, size_t n,
                        float rate, dg_rng *rng);
void dg_dropout_backward(float *dx, const float *dy, const float *mask,
                         size_t n);

#endif
