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

/* C(M,N) = alpha * op(A) * op(B) + beta * C.
 * op(A) is (M,K): A is (M,K) with lda >= K, or if ta, A is (K,M), lda >= M.
 * op(B) is (K,N): B is (K,N) with ldb >= N, or if tb, B is (N,K), ldb >= K.
 * beta == 0 ignores C's old contents (NaN in C does not propagate). */
void dg_gemm_ref(int ta, int tb, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta,
                 float *C, int ldc);
void dg_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A,
             int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* Threads the fast kernels may use (1 = none). */
void dg_kernels_set_threads(int threads);
int dg_kernels_threads(void);

/* im2col for NHWC convolution, stride 1.
 * in (n, h, w, c); k x k kernel; pad = (k-1)/2 for "same", 0 for "valid";
 * out (n*oh*ow, k*k*c), column order (ky, kx, c), zeros outside the image.
 * oh = h + 2*pad - k + 1, ow likewise. */
void dg_im2col_ref(const float *in, int n, int h, int w, int c, int k, int pad,
                   float *out);
void dg_im2col(const float *in, int n, int h, int w, int c, int k, int pad,
               float *out);
/* col2im: the adjoint of im2col; ADDS col's entries into din (n, h, w, c),
 * which the caller zeroes first. */
void dg_col2im_ref(const float *col, int n, int h, int w, int c, int k,
                   int pad, float *din);
void dg_col2im(const float *col, int n, int h, int w, int c, int k, int pad,
               float *din);

/* Max pooling p x p, stride p, valid (floor): in (n,h,w,c) -> out
 * (n,h/p,w/p,c); arg (n,h/p,w/p,c) holds the flat input index of each max
 * (first max wins on ties). */
void dg_maxpool_ref(const float *in, int n, int h, int w, int c, int p,
                    float *out, int *arg);
void dg_maxpool(const float *in, int n, int h, int w, int c, int p, float *out,
                int *arg);
/* Backward: din (zeroed by the caller) += dout routed through arg. */
void dg_maxpool_backward_ref(const float *dout, const int *arg, size_t nout,
                             float *din);
void dg_maxpool_backward(const float *dout, const int *arg, size_t nout,
                         float *din);

/* Average pooling p x p, stride p, valid. Backward spreads dout/p^2. */
void dg_avgpool_ref(const float *in, int n, int h, int w, int c, int p,
                    float *out);
void dg_avgpool(const float *in, int n, int h, int w, int c, int p, float *out);
void dg_avgpool_backward_ref(const float *dout, int n, int h, int w, int c,
                             int p, float *din);
void dg_avgpool_backward(const float *dout, int n, int h, int w, int c, int p,
                         float *din);

/* y[i] += b[i % c] for rows of c: bias add over (rows, c). */
void dg_bias_add_ref(float *y, const float *b, size_t rows, int c);
void dg_bias_add(float *y, const float *b, size_t rows, int c);
/* db[j] = sum over rows of dy[r, j] (overwrites db). */
void dg_bias_grad_ref(const float *dy, size_t rows, int c, float *db);
void dg_bias_grad(const float *dy, size_t rows, int c, float *db);

/* ReLU forward (y may equal x) and backward dx = dy * (y > 0) (dx may equal
 * dy). */
void dg_relu_ref(const float *x, float *y, size_t n);
void dg_relu(const float *x, float *y, size_t n);
void dg_relu_backward_ref(const float *y, const float *dy, float *dx, size_t n);
void dg_relu_backward(const float *y, const float *dy, float *dx, size_t n);

/* Name of the SIMD path compiled in: "avx512", "avx2+fma", "sse2", "wasm
 * simd128", "scalar". */
const char *dg_kernels_simd(void);

#endif
