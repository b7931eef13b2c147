/* kernels.h: the hot kernels, each as a scalar reference (_ref, the
 * specification, compiled on every target) and a fast version written once
 * against simd.h. Layers call only the fast names; tests compare the two.
 *
 * All matrices are row-major float32 with explicit leading dimensions.
 * Determinism: every output element is reduced in the same order whatever
 * the thread count, so results do not depend on threads.
 */
#ifndef DG_KERNELS_H
#define DG_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* How a kernel call may run: settings of the plan that makes the call
 * (nn/plan.c), never process-wide switches. The kernels that can use
 * threads take one as their first argument. */
typedef struct dg_tuner dg_tuner;
typedef struct {
  int threads;      /* threads a call may use (1 = none; at most 256) */
  int winograd;     /* 3x3 convolutions by Winograd where dg_wino_shape
                       allows (dg_conv2d and its gradients) */
  dg_tuner *tuner;  /* learns whether calls run faster with the team or
                       with one thread on a busy machine; NULL: the team */
  int site;         /* the plan step making the call: the tuner's key */
} dg_exec;
/* One thread, Winograd as suits the target (on in WebAssembly, where there
 * is one thread; off natively, where the direct kernels use every thread),
 * no tuner. */
dg_exec dg_exec_default(void);
/* A tuner for one plan (NULL when out of memory: calls then use the team). */
dg_tuner *dg_tuner_new(void);
void dg_tuner_free(dg_tuner *t);

/* Memory for n floats (n >= 1) at a 64-byte boundary, released by free();
 * NULL when out of memory. For the buffers the kernels stream through
 * (activations, workspace, packed weights): malloc aligns to 8 bytes in
 * WebAssembly and 16 natively, so a vector load from one of its buffers may
 * straddle a cache line, at a cost that changes with where it landed. */
float *dg_alloc_floats(size_t n);

/* C(M,N) = alpha * op(A) * op(B) + beta * C.
 * op(A) is (M,K): A is (M,K) with lda >= K, or if ta, A is (K,M), lda >= M.
 * op(B) is (K,N): B is (K,N) with ldb >= N, or if tb, B is (N,K), ldb >= K.
 * beta == 0 ignores C's old contents (NaN in C does not propagate). */
void dg_gemm_ref(int ta, int tb, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta,
                 float *C, int ldc);
void dg_gemm(const dg_exec *ex, int ta, int tb, int M, int N, int K, float alpha, const float *A,
             int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* The sum over the k x k x c window of output (oy, ox), filter o, of one
 * (h, w, c) image (zero padding pad), in (ky, kx, ch) order from zero:
 * the convolution's specification, shared by the batched and batch-1
 * references. */
float dg_conv_window_ref(const float *img, int h, int w, int c,
                         const float *wt, int f, int k, int pad, int oy,
                         int ox, int o);

/* Convolution, NHWC, stride 1, computed as an implicit GEMM (no im2col
 * matrix is ever written): in (n, h, w, c), wt (k, k, c, f), bias (f);
 * pad = (k-1)/2 for "same", 0 for "valid"; oh = h + 2*pad - k + 1, ow
 * likewise. Every kernel takes a workspace of dg_conv2d_work(...) floats.
 *
 * Forward: out (n, oh, ow, f) = conv(in, wt) + bias, then ReLU if relu. */
void dg_conv2d_ref(const float *in, int n, int h, int w, int c,
                   const float *wt, const float *bias, int f, int k, int pad,
                   int relu, float *out);
void dg_conv2d(const dg_exec *ex, const float *in, int n, int h, int w, int c, const float *wt,
               const float *bias, int f, int k, int pad, int relu, float *out,
               float *work);
/* Weight and bias gradients: dw (k, k, c, f) and db (f) overwritten with
 * the sums over all n*oh*ow output pixels of dy (n, oh, ow, f). */
void dg_conv2d_grad_w_ref(const float *in, const float *dy, int n, int h,
                          int w, int c, int f, int k, int pad, float *dw,
                          float *db);
void dg_conv2d_grad_w(const dg_exec *ex, const float *in, const float *dy, int n, int h, int w,
                      int c, int f, int k, int pad, float *dw, float *db,
                      float *work);
/* Input gradient: din (n, h, w, c) overwritten with the adjoint of the
 * forward convolution applied to dy. */
void dg_conv2d_grad_in_ref(const float *dy, const float *wt, int n, int h,
                           int w, int c, int f, int k, int pad, float *din);
void dg_conv2d_grad_in(const dg_exec *ex, const float *dy, const float *wt, int n, int h, int w,
                       int c, int f, int k, int pad, float *din, float *work);
/* Floats of workspace the three fast kernels need for this shape, by
 * either path (Winograd's or the direct product). */
size_t dg_conv2d_work(int n, int h, int w, int c, int f, int k, int pad);
/* The direct products (kernels.c), which dg_conv2d and its gradients
 * (conv.c) run unless Winograd's path takes the shape; same arguments. */
void dg_conv2d_direct(const dg_exec *ex, const float *in, int n, int h,
                      int w, int c, const float *wt, const float *bias, int f,
                      int k, int pad, int relu, float *out, float *work);
void dg_conv2d_direct_grad_w(const dg_exec *ex, const float *in,
                             const float *dy, int n, int h, int w, int c,
                             int f, int k, int pad, float *dw, float *db,
                             float *work);
void dg_conv2d_direct_grad_in(const dg_exec *ex, const float *dy,
                              const float *wt, int n, int h, int w, int c,
                              int f, int k, int pad, float *din, float *work);
size_t dg_conv2d_direct_work(int n, int h, int w, int c, int f, int k,
                             int pad);

/* 3x3 convolutions by Winograd's minimal filtering (winograd.c): the same
 * three products in 2.25 times fewer multiplies, one thread. dg_conv2d and
 * its gradients take this path for the shapes dg_wino_shape accepts when
 * ex->winograd is on (dg_wino_applies). */
int dg_wino_shape(int c, int f, int k);
int dg_wino_applies(const dg_exec *ex, int c, int f, int k);
size_t dg_wino_work(int n, int h, int w, int c, int f, int pad);
void dg_wino_conv2d(const float *in, int n, int h, int w, int c,
                    const float *wt, const float *bias, int f, int pad,
                    int relu, float *out, float *work);
/* The forward pass with the weights transformed once (dg_wino_pack into
 * dg_wino_packed_size floats); its work is dg_wino_work's. */
size_t dg_wino_packed_size(int c, int f);
void dg_wino_pack(const float *wt, int c, int f, float *U);
void dg_wino_conv2d_packed(const float *in, int n, int h, int w, int c,
                           const float *U, const float *bias, int f, int pad,
                           int relu, float *out, float *work);
void dg_wino_conv2d_grad_w(const float *in, const float *dy, int n, int h,
                           int w, int c, int f, int pad, float *dw, float *db,
                           float *work);
void dg_wino_conv2d_grad_in(const float *dy, const float *wt, int n, int h,
                            int w, int c, int f, int pad, float *din,
                            float *work);
/* dst (n, h+2p, w+2p, c) = in (n, h, w, c) framed by p zeros. */
void dg_pad_images(const float *in, int n, int h, int w, int c, int p,
                   float *dst, int nt);

/* Batch normalisation over rows of c channels (NHWC: rows = n*h*w).
 * Statistics: per-channel mean and biased variance. The fast version sums
 * fixed chunks of rows (set by rows and c alone) in float, two passes over
 * each cache-resident chunk, and combines the chunks in ascending order in
 * double (Chan's formula): results do not depend on the thread count.
 * work holds dg_bn_work(rows, c) floats. */
void dg_bn_stats_ref(const float *x, size_t rows, int c, float *mean,
                     float *var);
void dg_bn_stats(const dg_exec *ex, const float *x, size_t rows, int c, float *mean, float *var,
                 float *work);
size_t dg_bn_work(size_t rows, int c);
/* y = x * scale + shift per channel, then ReLU if relu (y may equal x). */
void dg_scale_shift_ref(const float *x, size_t rows, int c,
                        const float *scale, const float *shift, int relu,
                        float *y);
void dg_scale_shift(const dg_exec *ex, const float *x, size_t rows, int c, const float *scale,
                    const float *shift, int relu, float *y);
/* y = x * scale + shift per channel (ReLU if relu) on x (n, h, w, c),
 * then max pooling p x p as dg_maxpool on y: out and arg, and xk (same
 * shape, if not NULL) the x of each chosen cell; y itself is never stored
 * (batch norm, ReLU and pooling in one pass). */
void dg_scale_shift_maxpool_ref(const float *x, int n, int h, int w, int c,
                                const float *scale, const float *shift,
                                int relu, int p, float *out, float *arg,
                                float *xk);
void dg_scale_shift_maxpool(const dg_exec *ex, const float *x, int n, int h, int w, int c,
                            const float *scale, const float *shift, int relu,
                            int p, float *out, float *arg, float *xk);
/* Backward, from the input x: xhat = (x - mean) * invstd, g = dy, or
 * (y > 0 ? dy : 0) when the ReLU output y is given. dgamma = sum g*xhat,
 * dbeta = sum g; dx (if not NULL) = gamma*invstd*(g - (dbeta +
 * xhat*dgamma)/rows). */
void dg_bn_grad_ref(const float *x, const float *dy, const float *y,
                    size_t rows, int c, const float *mean, const float *invstd,
                    const float *gamma, float *dgamma, float *dbeta,
                    float *dx);
void dg_bn_grad(const dg_exec *ex, const float *x, const float *dy, const float *y, size_t rows,
                int c, const float *mean, const float *invstd,
                const float *gamma, float *dgamma, float *dbeta, float *dx,
                float *work);

/* Backward of batch norm -> ReLU -> p x p max pooling, from the pool's
 * gradient dout, output out, arg and xk (n, h/p, w/p, c, as
 * dg_scale_shift_maxpool gives them) and the batch norm's input x (n, h,
 * w, c): g is dout routed to each window's max where out > 0 (0
 * elsewhere), then as dg_bn_grad with that g: dgamma, dbeta, and dx (n,
 * h, w, c) if not NULL. g itself is never stored; the sums need only the
 * pooled arrays (g is non-zero only at the max cells, whose x is xk). They
 * run over the pooled rows, merged in order in double. work holds
 * dg_maxpool_bn_work(n, h, w, c, p) floats. */
void dg_maxpool_bn_grad_ref(const float *dout, const float *out,
                            const float *arg, const float *x, int n, int h,
                            int w, int c, int p, const float *mean,
                            const float *invstd, const float *gamma,
                            float *dgamma, float *dbeta, float *dx);
void dg_maxpool_bn_grad(const dg_exec *ex, const float *dout, const float *out, const float *arg,
                        const float *xk, const float *x, int n, int h, int w,
                        int c, int p, const float *mean, const float *invstd,
                        const float *gamma, float *dgamma, float *dbeta,
                        float *dx, float *work);
size_t dg_maxpool_bn_work(int n, int h, int w, int c, int p);

/* Max pooling p x p, stride p, valid (floor): in (n,h,w,c) -> out
 * (n,h/p,w/p,c); arg (n,h/p,w/p,c) holds the window position dy*p + dx of
 * each max, as a float (first max wins on ties). */
void dg_maxpool_ref(const float *in, int n, int h, int w, int c, int p,
                    float *out, float *arg);
void dg_maxpool(const dg_exec *ex, const float *in, int n, int h, int w, int c, int p, float *out,
                float *arg);
/* Backward: din (n,h,w,c) overwritten: each dout at its window's max, 0
 * elsewhere. With out (the forward's output) given, dout passes only where
 * out > 0: the gradient of a ReLU in front of the pool, folded in. */
void dg_maxpool_backward_ref(const float *dout, const float *out,
                             const float *arg, int n, int h, int w, int c,
                             int p, float *din);
void dg_maxpool_backward(const dg_exec *ex, const float *dout, const float *out, const float *arg,
                         int n, int h, int w, int c, int p, float *din);

/* Average pooling p x p, stride p, valid. Backward spreads dout/p^2. */
void dg_avgpool_ref(const float *in, int n, int h, int w, int c, int p,
                    float *out);
void dg_avgpool(const dg_exec *ex, const float *in, int n, int h, int w, int c, int p, float *out);
void dg_avgpool_backward_ref(const float *dout, int n, int h, int w, int c,
                             int p, float *din);
void dg_avgpool_backward(const dg_exec *ex, const float *dout, int n, int h, int w, int c, int p,
                         float *din);

/* y[i] += b[i % c] for rows of c: bias add over (rows, c). */
void dg_bias_add_ref(float *y, const float *b, size_t rows, int c);
void dg_bias_add(const dg_exec *ex, float *y, const float *b, size_t rows, int c);
/* db[j] = sum over rows of dy[r, j] (overwrites db). */
void dg_bias_grad_ref(const float *dy, size_t rows, int c, float *db);
void dg_bias_grad(const dg_exec *ex, const float *dy, size_t rows, int c, float *db);

/* ReLU forward (y may equal x) and backward dx = dy * (y > 0) (dx may equal
 * dy). */
void dg_relu_ref(const float *x, float *y, size_t n);
void dg_relu(const dg_exec *ex, const float *x, float *y, size_t n);
void dg_relu_backward_ref(const float *y, const float *dy, float *dx, size_t n);
void dg_relu_backward(const dg_exec *ex, const float *y, const float *dy, float *dx, size_t n);

/* Inverted dropout over n floats: mask[i] = 0 (dropped, probability
 * rate) or 1/(1-rate), y = x * mask (y may equal x). The draws are
 * counter-based: the elements of chunk j (DG_DROPOUT_CHUNK of them) come
 * from a generator seeded by (seed, j), so any split between threads gives
 * the same mask. dg_dropout_mask_ref fills mask[i0, i0+len) (i0 a chunk
 * start) and is shared by both versions. Backward: dx = dy * mask. */
#define DG_DROPOUT_CHUNK 4096
void dg_dropout_mask_ref(float *mask, size_t i0, size_t len, float rate,
                         uint64_t seed);
void dg_dropout_ref(const float *x, float *y, float *mask, size_t n,
                    float rate, uint64_t seed);
void dg_dropout(const dg_exec *ex, const float *x, float *y, float *mask, size_t n, float rate,
                uint64_t seed);
void dg_mul_ref(const float *a, const float *b, float *y, size_t n);
void dg_mul(const dg_exec *ex, const float *a, const float *b, float *y, size_t n);

/* Optimizer steps over n parameters p with gradients g (decay: decoupled
 * weight decay rate, 0 for none).
 * Adam: m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g;
 *       p -= lr * ((m*r1) / (sqrt(v*r2) + eps) + decay*p)
 * with r1, r2 the reciprocals of the bias corrections 1-b1^t, 1-b2^t.
 * SGD:  m = mu*m - lr*g; p += m - lr*decay*p. */
void dg_adam_ref(float *p, const float *g, float *m, float *v, size_t n,
                 float lr, float b1, float b2, float eps, float r1, float r2,
                 float decay);
void dg_adam(const dg_exec *ex, float *p, const float *g, float *m, float *v, size_t n, float lr,
             float b1, float b2, float eps, float r1, float r2, float decay);
void dg_sgd_ref(float *p, const float *g, float *m, size_t n, float lr,
                float mu, float decay);
void dg_sgd(const dg_exec *ex, float *p, const float *g, float *m, size_t n, float lr, float mu,
            float decay);

/* Name of the SIMD path compiled in: "avx512", "avx2+fma", "sse2", "wasm
 * simd128", "scalar". */
const char *dg_kernels_simd(void);

#endif
