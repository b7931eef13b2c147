/* layers.c: every layer's forward and backward, side by side. Layers own no
 * memory: the network passes in its buffers. Heavy lifting goes through the
 * kernels (GEMM, convolution, pooling), which decide SIMD and threads. */
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "nn/nn.h"

/* ---- dense ----------------------------------------------------------------- */

void dg_dense_forward(float *out, const float *in, const float *w,
                      const float *b, int N, int I, int U, int relu) {
  /* out (N,U) = in (N,I) @ w (I,U) + b */
  dg_gemm(0, 0, N, U, I, 1.0f, in, I, w, U, 0.0f, out, U);
  dg_bias_add(out, b, (size_t)N, U);
  if (relu) dg_relu(out, out, (size_t)N * U);
}

void dg_dense_backward(float *din, float *dw, float *db, const float *dout,
                       const float *in, const float *w, int N, int I, int U) {
  /* dw (I,U) = in^T (I,N) @ dout (N,U) */
  dg_gemm(1, 0, I, U, N, 1.0f, in, I, dout, U, 0.0f, dw, U);
  dg_bias_grad(dout, (size_t)N, U, db);
  /* din (N,I) = dout (N,U) @ w^T (U,I) */
  if (din) dg_gemm(0, 1, N, I, U, 1.0f, dout, U, w, U, 0.0f, din, I);
}

/* ---- conv (NHWC, stride 1, implicit GEMM) ------------------------------------ */

void dg_conv_forward(float *out, const float *in, const float *w,
                     const float *b, int N, int H, int W, int C, int F, int K,
                     int pad, int relu, float *work) {
  dg_conv2d(in, N, H, W, C, w, b, F, K, pad, relu, out, work);
}

void dg_conv_backward(float *din, float *dw, float *db, const float *dout,
                      const float *in, const float *w, int N, int H, int W,
                      int C, int F, int K, int pad, float *work) {
  dg_conv2d_grad_w(in, dout, N, H, W, C, F, K, pad, dw, db, work);
  if (din) dg_conv2d_grad_in(dout, w, N, H, W, C, F, K, pad, din, work);
}

/* ---- batch norm -------------------------------------------------------------- */

/* Batch statistics, the running averages, and the scale and shift that
 * apply the normalisation: y = x * scale + shift. */
static void bn_train_stats(float *stat, const float *in, const float *gamma,
                           const float *beta, float *rmean, float *rvar,
                           size_t rows, int C, float *work, float *scale,
                           float *shift) {
  float *mean = stat, *invstd = stat + C, *var = stat + 2 * C;
  dg_bn_stats(in, rows, C, mean, var, work);
  for (int c = 0; c < C; c++) {
    invstd[c] = 1.0f / sqrtf(var[c] + DG_BN_EPS);
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

void dg_bn_forward_train(float *out, float *stat, const float *in,
                         const float *gamma, const float *beta, float *rmean,
                         float *rvar, size_t rows, int C, int relu,
                         float *work) {
  float scale[DG_BN_MAX_C], shift[DG_BN_MAX_C];
  bn_train_stats(stat, in, gamma, beta, rmean, rvar, rows, C, work, scale,
                 shift);
  dg_scale_shift(in, rows, C, scale, shift, relu, out);
}

void dg_bn_relu_maxpool_forward_train(float *pout, float *parg, float *pxk,
                                      float *stat,
                                      const float *in, const float *gamma,
                                      const float *beta, float *rmean,
                                      float *rvar, int N, int H, int W, int C,
                                      int P, float *work) {
  float scale[DG_BN_MAX_C], shift[DG_BN_MAX_C];
  bn_train_stats(stat, in, gamma, beta, rmean, rvar, (size_t)N * H * W, C,
                 work, scale, shift);
  dg_scale_shift_maxpool(in, N, H, W, C, scale, shift, 1, P, pout, parg, pxk);
}

void dg_bn_forward_infer(float *out, const float *in, const float *gamma,
                         const float *beta, const float *rmean,
                         const float *rvar, size_t rows, int C, int relu) {
  /* fold into one scale and shift per channel */
  float scale[DG_BN_MAX_C], shift[DG_BN_MAX_C];
  for (int c = 0; c < C; c++) {
    scale[c] = gamma[c] / sqrtf(rvar[c] + DG_BN_EPS);
    shift[c] = beta[c] - rmean[c] * scale[c];
  }
  dg_scale_shift(in, rows, C, scale, shift, relu, out);
}

void dg_bn_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                    const float *in, const float *out, const float *stat,
                    const float *gamma, size_t rows, int C, float *work) {
  dg_bn_grad(in, dout, out, rows, C, stat, stat + C, gamma, dgamma, dbeta, din,
             work);
}

/* ---- activations ------------------------------------------------------------- */

void dg_sigmoid_forward(float *y, const float *x, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
}
void dg_sigmoid_backward(float *dx, const float *dy, const float *y, size_t n) {
  for (size_t i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}
void dg_tanh_forward(float *y, const float *x, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}
void dg_tanh_backward(float *dx, const float *dy, const float *y, size_t n) {
  for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

void dg_softmax_forward(float *y, const float *x, int rows, int k) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * k;
    float *yr = y + (size_t)r * k, mx = xr[0], s = 0;
    for (int j = 1; j < k; j++) mx = xr[j] > mx ? xr[j] : mx;
    for (int j = 0; j < k; j++) s += yr[j] = expf(xr[j] - mx);
    for (int j = 0; j < k; j++) yr[j] /= s;
  }
}

void dg_softmax_backward(float *dx, const float *dy, const float *y, int rows,
                         int k) {
  for (int r = 0; r < rows; r++) {
    const float *dyr = dy + (size_t)r * k, *yr = y + (size_t)r * k;
    float *dxr = dx + (size_t)r * k, dot = 0;
    for (int j = 0; j < k; j++) dot += dyr[j] * yr[j];
    for (int j = 0; j < k; j++) dxr[j] = yr[j] * (dyr[j] - dot);
  }
}

void dg_dropout_forward(float *y, float *mask, const float *x, size_t n,
                        float rate, dg_rng *rng) {
  /* one 64-bit seed per call from the caller's generator */
  uint64_t seed = (uint64_t)dg_rng_u32(rng) << 32 | dg_rng_u32(rng);
  dg_dropout(x, y, mask, n, rate, seed);
}

void dg_dropout_backward(float *dx, const float *dy, const float *mask,
                         size_t n) {
  dg_mul(dy, mask, dx, n);
}
