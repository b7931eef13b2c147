/* kernels_ref.c: the scalar reference kernels (the _ref half of kernels.h).
 *
 * These are the specification: plain loops in the most obvious order,
 * single-threaded, compiled on every target. The fast kernels in kernels.c
 * are tested against them; nothing here is tuned.
 */
#include <math.h>

#include "kernels/kernels.h"

/* The coordinates (i0, i1, i2, i3) of element i of a row-major
 * (d0, d1, d2, d3) array: the reference loops walk their output in memory
 * order, one index, and read the coordinates from it. */
typedef struct {
  int i0, i1, i2, i3;
} idx4;

/* d0 * d1 * d2 * d3 elements, none if a dimension is not positive. */
static size_t count4(int d0, int d1, int d2, int d3) {
  if (d0 <= 0 || d1 <= 0 || d2 <= 0 || d3 <= 0) return 0;
  return (size_t)d0 * d1 * d2 * d3;
}

static idx4 idx4_of(size_t i, int d1, int d2, int d3) {
  idx4 q;
  q.i3 = (int)(i % (size_t)d3);
  i /= (size_t)d3;
  q.i2 = (int)(i % (size_t)d2);
  i /= (size_t)d2;
  q.i1 = (int)(i % (size_t)d1);
  q.i0 = (int)(i / (size_t)d1);
  return q;
}

/* The index in an (n, h, w, c) tensor of cell t (row t / p, column t % p)
 * of the p x p window of element o of its pooling, (n, h / p, w / p, c). */
static size_t window_at(size_t o, int t, int h, int w, int c, int p) {
  idx4 q = idx4_of(o, h / p, w / p, c); /* (b, oy, ox, ch) */
  return (((size_t)q.i0 * h + q.i1 * p + t / p) * w + q.i2 * p + t % p) * c +
         q.i3;
}

/* The cell (t above) of element i of an (n, h, w, c) tensor in the window
 * of its pooling that covers it, that window's element in *o; -1 in the
 * rows and columns past the last whole window. */
static int window_of(size_t i, int h, int w, int c, int p, size_t *o) {
  int oh = h / p, ow = w / p;
  idx4 q = idx4_of(i, h, w, c); /* (b, y, x, ch) */
  int oy = q.i1 / p, ox = q.i2 / p;
  if (oy >= oh || ox >= ow) return -1;
  *o = (((size_t)q.i0 * oh + oy) * ow + ox) * c + q.i3;
  return (q.i1 % p) * p + q.i2 % p;
}

void dg_gemm_ref(int ta, int tb, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta,
                 float *C, int ldc) {
  for (int i = 0; i < M; i++) {
    for (int j = 0; j < N; j++) {
      float acc = 0.0f;
      /* alpha == 0 means A and B are not read (BLAS convention). */
      if (alpha != 0.0f) {
        for (int p = 0; p < K; p++) {
          float a = ta ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
          float b = tb ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
          acc += a * b;
        }
      }
      float *c = &C[(size_t)i * ldc + j];
      /* beta == 0: the old C is never read, so NaN there cannot leak. */
      *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
    }
  }
}

float dg_conv_window_ref(const float *img, int h, int w, int c,
                         const float *wt, int f, int k, int pad, int oy,
                         int ox, int o) {
  float acc = 0.0f;
  for (int ky = 0; ky < k; ky++)
    for (int kx = 0; kx < k; kx++)
      for (int ch = 0; ch < c; ch++) {
        int iy = oy + ky - pad, ix = ox + kx - pad;
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
        acc += img[((size_t)iy * w + ix) * c + ch] *
               wt[((size_t)(ky * k + kx) * c + ch) * f + o];
      }
  return acc;
}

void dg_conv2d_ref(const float *in, int n, int h, int w, int c,
                   const float *wt, const float *bias, int f, int k, int pad,
                   int relu, float *out) {
  int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
  for (size_t i = 0; i < count4(n, oh, ow, f); i++) {
    idx4 q = idx4_of(i, oh, ow, f); /* (b, oy, ox, o) */
    float x = dg_conv_window_ref(in + (size_t)q.i0 * h * w * c, h, w, c, wt, f,
                                 k, pad, q.i1, q.i2, q.i3) +
              bias[q.i3];
    out[i] = relu ? (x > 0.0f ? x : 0.0f) : x;
  }
}

void dg_conv2d_grad_w_ref(const float *in, const float *dy, int n, int h,
                          int w, int c, int f, int k, int pad, float *dw,
                          float *db) {
  int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
  dg_bias_grad_ref(dy, (size_t)n * oh * ow, f, db);
  for (size_t i = 0; i < count4(k, k, c, f); i++) {
    idx4 q = idx4_of(i, k, c, f); /* (ky, kx, ch, o) */
    float acc = 0.0f;
    for (int b = 0; b < n; b++)
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          int iy = oy + q.i0 - pad, ix = ox + q.i1 - pad;
          if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
          acc += in[(((size_t)b * h + iy) * w + ix) * c + q.i2] *
                 dy[(((size_t)b * oh + oy) * ow + ox) * f + q.i3];
        }
    dw[i] = acc;
  }
}

void dg_conv2d_grad_in_ref(const float *dy, const float *wt, int n, int h,
                           int w, int c, int f, int k, int pad, float *din) {
  int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
  for (size_t i = 0; i < count4(n, h, w, c); i++) {
    idx4 q = idx4_of(i, h, w, c); /* (b, iy, ix, ch) */
    float acc = 0.0f;
    for (int ky = 0; ky < k; ky++)
      for (int kx = 0; kx < k; kx++) {
        int oy = q.i1 - ky + pad, ox = q.i2 - kx + pad;
        if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
        for (int o = 0; o < f; o++)
          acc += dy[(((size_t)q.i0 * oh + oy) * ow + ox) * f + o] *
                 wt[((size_t)(ky * k + kx) * c + q.i3) * f + o];
      }
    din[i] = acc;
  }
}

/* Max pooling of v = x, or with scale of v = x * scale + shift (then
 * ReLU'd if relu): out = each window's largest v, arg its cell (the first
 * of equal ones), xk (if given) its x. */
static void maxpool_ref(const float *x, int n, int h, int w, int c,
                        const float *scale, const float *shift, int relu,
                        int p, float *out, float *arg, float *xk) {
  for (size_t o = 0; o < count4(n, h / p, w / p, c); o++) {
    int ch = (int)(o % (size_t)c), besti = 0;
    float best = 0.0f, bx = 0.0f;
    for (int t = 0; t < p * p; t++) {
      float xv = x[window_at(o, t, h, w, c, p)];
      float v = scale ? xv * scale[ch] + shift[ch] : xv;
      if (relu) v = v > 0.0f ? v : 0.0f;
      if (t == 0 || v > best) { /* strict: the first max wins ties */
        best = v;
        besti = t;
        bx = xv;
      }
    }
    out[o] = best;
    arg[o] = (float)besti;
    if (xk) xk[o] = bx;
  }
}

void dg_maxpool_ref(const float *in, int n, int h, int w, int c, int p,
                    float *out, float *arg) {
  maxpool_ref(in, n, h, w, c, NULL, NULL, 0, p, out, arg, NULL);
}

void dg_maxpool_backward_ref(const float *dout, const float *out,
                             const float *arg, int n, int h, int w, int c,
                             int p, float *din) {
  for (size_t i = 0; i < (size_t)n * h * w * c; i++) din[i] = 0.0f;
  for (size_t o = 0; o < count4(n, h / p, w / p, c); o++) {
    float g = out && !(out[o] > 0.0f) ? 0.0f : dout[o];
    din[window_at(o, (int)arg[o], h, w, c, p)] = g;
  }
}

void dg_avgpool_ref(const float *in, int n, int h, int w, int c, int p,
                    float *out) {
  for (size_t o = 0; o < count4(n, h / p, w / p, c); o++) {
    float s = 0.0f;
    for (int t = 0; t < p * p; t++) s += in[window_at(o, t, h, w, c, p)];
    out[o] = s / (float)(p * p);
  }
}

/* Overwrites all of din: window cells get dout/p^2, the cells that the
 * floor division leaves out of every window get 0. */
void dg_avgpool_backward_ref(const float *dout, int n, int h, int w, int c,
                             int p, float *din) {
  for (size_t i = 0; i < count4(n, h, w, c); i++) {
    size_t o;
    din[i] = window_of(i, h, w, c, p, &o) < 0 ? 0.0f : dout[o] / (float)(p * p);
  }
}

void dg_bias_add_ref(float *y, const float *b, size_t rows, int c) {
  for (size_t r = 0; r < rows; r++)
    for (int j = 0; j < c; j++) y[r * c + j] += b[j];
}

void dg_bias_grad_ref(const float *dy, size_t rows, int c, float *db) {
  for (int j = 0; j < c; j++) {
    float s = 0.0f;
    for (size_t r = 0; r < rows; r++) s += dy[r * c + j];
    db[j] = s;
  }
}

void dg_relu_ref(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void dg_relu_backward_ref(const float *y, const float *dy, float *dx,
                          size_t n) {
  for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

void dg_bn_stats_ref(const float *x, size_t rows, int c, float *mean,
                     float *var) {
  for (int j = 0; j < c; j++) {
    double s = 0, s2 = 0;
    for (size_t r = 0; r < rows; r++) s += x[r * c + j];
    double m = rows ? s / rows : 0;
    for (size_t r = 0; r < rows; r++) {
      double d = x[r * c + j] - m;
      s2 += d * d;
    }
    mean[j] = (float)m;
    var[j] = rows ? (float)(s2 / rows) : 0.0f;
  }
}

void dg_scale_shift_ref(const float *x, size_t rows, int c,
                        const float *scale, const float *shift, int relu,
                        float *y) {
  for (size_t r = 0; r < rows; r++)
    for (int j = 0; j < c; j++) {
      float v = x[r * c + j] * scale[j] + shift[j];
      y[r * c + j] = relu ? (v > 0.0f ? v : 0.0f) : v;
    }
}

void dg_bn_grad_ref(const float *x, const float *dy, const float *y,
                    size_t rows, int c, const float *mean, const float *invstd,
                    const float *gamma, float *dgamma, float *dbeta,
                    float *dx) {
  for (int j = 0; j < c; j++) {
    double sg = 0, sx = 0;
    for (size_t r = 0; r < rows; r++) {
      size_t i = r * c + j;
      double g = y && !(y[i] > 0.0f) ? 0.0 : dy[i];
      sg += g;
      sx += g * ((x[i] - mean[j]) * invstd[j]);
    }
    dgamma[j] = (float)sx;
    dbeta[j] = (float)sg;
    if (!dx) continue;
    for (size_t r = 0; r < rows; r++) {
      size_t i = r * c + j;
      float g = y && !(y[i] > 0.0f) ? 0.0f : dy[i];
      float xh = (x[i] - mean[j]) * invstd[j];
      dx[i] = gamma[j] * invstd[j] *
              (g - (dbeta[j] + xh * dgamma[j]) / (float)rows);
    }
  }
}

void dg_adam_ref(float *p, const float *g, float *m, float *v, size_t n,
                 float lr, float b1, float b2, float eps, float r1, float r2,
                 float decay) {
  for (size_t i = 0; i < n; i++) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    p[i] -= lr * ((m[i] * r1) / (sqrtf(v[i] * r2) + eps) + decay * p[i]);
  }
}

void dg_sgd_ref(float *p, const float *g, float *m, size_t n, float lr,
                float mu, float decay) {
  for (size_t i = 0; i < n; i++) {
    m[i] = mu * m[i] - lr * g[i];
    p[i] += m[i] - lr * decay * p[i];
  }
}

/* splitmix64 seeds a xorshift128+ per chunk; each 64-bit draw gives two
 * 24-bit uniforms u, and an element is kept when u >= rate * 2^24 (the
 * float test u * 2^-24 >= rate, done in integers). */
static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void dg_dropout_mask_ref(float *mask, size_t i0, size_t len, float rate,
                         uint64_t seed) {
  float keep = 1.0f / (1.0f - rate);
  uint32_t thr = (uint32_t)ceilf(rate * 16777216.0f);
  for (size_t c0 = 0; c0 < len; c0 += DG_DROPOUT_CHUNK) {
    uint64_t x = seed ^ ((i0 + c0) / DG_DROPOUT_CHUNK) * 0xD1B54A32D192ED03ull;
    uint64_t s0 = splitmix(&x), s1 = splitmix(&x) | 1;
    size_t m = len - c0 < DG_DROPOUT_CHUNK ? len - c0 : DG_DROPOUT_CHUNK;
    float *mk = mask + c0;
    for (size_t i = 0; i < m; i += 2) {
      uint64_t a = s0, b = s1; /* xorshift128+ */
      uint64_t r = a + b;
      s0 = b;
      a ^= a << 23;
      s1 = a ^ b ^ (a >> 18) ^ (b >> 5);
      mk[i] = (uint32_t)(r >> 40) >= thr ? keep : 0.0f;
      if (i + 1 < m) mk[i + 1] = (uint32_t)(r >> 8 & 0xFFFFFF) >= thr ? keep : 0.0f;
    }
  }
}

void dg_dropout_ref(const float *x, float *y, float *mask, size_t n,
                    float rate, uint64_t seed) {
  dg_dropout_mask_ref(mask, 0, n, rate, seed);
  for (size_t i = 0; i < n; i++) y[i] = x[i] * mask[i];
}

void dg_mul_ref(const float *a, const float *b, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

void dg_scale_shift_maxpool_ref(const float *x, int n, int h, int w, int c,
                                const float *scale, const float *shift,
                                int relu, int p, float *out, float *arg,
                                float *xk) {
  maxpool_ref(x, n, h, w, c, scale, shift, relu, p, out, arg, xk);
}

void dg_maxpool_bn_grad_ref(const float *dout, const float *out,
                            const float *arg, const float *x, int n, int h,
                            int w, int c, int p, const float *mean,
                            const float *invstd, const float *gamma,
                            float *dgamma, float *dbeta, float *dx) {
  size_t rows = (size_t)n * h * w;
  for (int ch = 0; ch < c; ch++) {
    double sg = 0, sx = 0;
    for (int pass = 0; pass < 2; pass++) {
      for (size_t r = 0; r < count4(n, h, w, 1); r++) {
        size_t i = r * c + ch, o;
        int t = window_of(i, h, w, c, p, &o);
        float g = t >= 0 && (int)arg[o] == t && out[o] > 0.0f ? dout[o] : 0.0f;
        float xh = (x[i] - mean[ch]) * invstd[ch];
        if (pass == 0) {
          sg += g;
          sx += (double)g * xh;
        } else if (dx) {
          dx[i] = gamma[ch] * invstd[ch] *
                  (g - (dbeta[ch] + xh * dgamma[ch]) / (float)rows);
        }
      }
      if (pass == 0) dgamma[ch] = (float)sx, dbeta[ch] = (float)sg;
    }
  }
}
