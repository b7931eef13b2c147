/* kernels_infer.c: the one-image inference kernels of kernels_infer.h,
 * written once against simd.h, and their scalar references.
 *
 * Why separate kernels: at batch 1 the batched convolution (kernels.c)
 * pads the image, pads the weights to whole vectors and writes the full
 * activation before a separate pooling pass, every call. Here the weights
 * are packed once per model into blocks of output channels (whole
 * vectors, zero-padded), so the inner loop reads them at a fixed stride;
 * a tile keeps IMP output pixels x cv vectors of channels in registers
 * and reads the input rows in place; bias, ReLU and a 2 x 2 max pool are
 * applied to the registers, so only the pooled output is stored.
 *
 * Arithmetic: each output is one multiply-add chain over the window in
 * (ky, kx, c) order starting from zero, then + bias, as in kernels.c's
 * conv, so results match the batched path exactly on the same target.
 * The pool takes the max of the four sums before the bias and ReLU, which
 * are monotonic, so that is the max of the four activations. */
#include <string.h>

#include "kernels/kernels_infer.h"
#include "kernels/kernels.h"
#include "kernels/simd.h"
#include "kernels/tile.h"

#define DG_NOINLINE __attribute__((noinline))

/* Register tile: IMP pixels x CV vectors of output channels. simd128 and
 * SSE have 16 registers and no fused multiply-add (a product needs a
 * temporary): 4 x 2 = 8 accumulators (with 4 x 3 = 12, V8 spills, and
 * it is no faster). Wider targets: one vector of 8 or 16 channels
 * already covers the small layers' channel counts. */
#define IMP 4
#if defined(DG_SIMD_WASM) || defined(DG_SIMD_SSE2)
#define CV 2
#elif defined(DG_SIMD_SCALAR)
#define CV 4
#else
#define CV 1
#endif
/* Dense: blocks of DV vectors of outputs, two partial sums (even and odd
 * inputs) each, so a narrow layer still has independent chains. In
 * WebAssembly 3: with 4, V8 loads a step's 8 weight vectors into registers
 * before its multiply-adds and spills two accumulators every step (the
 * figures are in docs/performance.md). */
#if defined(DG_SIMD_WASM)
#define DV 3
#elif CV >= 2
#define DV 4
#else
#define DV 2
#endif

static inline int round_up(int x, int m) { return (x + m - 1) / m * m; }
static inline int imin(int a, int b) { return a < b ? a : b; }

/* d (rows, bw) = columns j0..j0+bw of m (rows, cols), zeros past its last
 * column: a block of packed weights (or, rows = 1, the padded bias). */
static void pack_block(const float *m, int rows, int cols, int j0, int bw,
                       float *d) {
  int nc = imin(bw, cols - j0);
  for (int t = 0; t < rows; t++, d += bw) {
    memcpy(d, m + (size_t)t * cols + j0, (size_t)nc * sizeof(float));
    memset(d + nc, 0, (size_t)(bw - nc) * sizeof(float));
  }
}

/* ---- convolution ----------------------------------------------------------- */

int dg_infer_conv_preferred(int c, int f, int k) {
  (void)k;
#if defined(DG_SIMD_AVX512) || defined(DG_SIMD_AVX2)
  /* with fused multiply-add and wide vectors the batched kernel's larger
   * tiles win once a layer has many input and output channels (the cnn's
   * 32- and 64-channel layers natively; docs/performance.md); first
   * layers and narrow ones are faster here */
  return c == 1 || f <= DG_VW;
#else
  (void)c, (void)f;
  return 1;
#endif
}

size_t dg_infer_conv_packed_size(int c, int f, int k) {
  size_t fp = (size_t)round_up(f, CV * DG_VW);
  return (size_t)k * k * c * fp + fp;
}

/* Block j0 of cb = CV vectors of channels: (k*k*c, cb) at packed
 * + j0 * kkc; bias (fp) after the last block. */
void dg_infer_conv_pack(const float *wt, const float *bias, int c, int f,
                        int k, float *packed) {
  int kkc = k * k * c, cb = CV * DG_VW, fp = round_up(f, cb);
  for (int j0 = 0; j0 < fp; j0 += cb)
    pack_block(wt, kkc, f, j0, cb, packed + (size_t)j0 * kkc);
  pack_block(bias, 1, f, 0, fp, packed + (size_t)kkc * fp);
}

size_t dg_infer_conv_work(int h, int w, int c, int pad) {
  return pad ? (size_t)(h + 2 * pad) * (w + 2 * pad) * c : 0;
}

/* acc[r][v] = sum over the window of pixel r (rows a[r], a[r] + rs, ...,
 * kc floats each) times the block's weights b (kkc, cv vectors). The
 * window loop is not unrolled: unrolled 4 times, clang interleaves the
 * steps and the 8 accumulators, their B vectors and broadcasts no longer
 * fit V8's 15 vector registers, which then spills on every step (slower
 * than the plain loop; docs/performance.md). */
DG_INLINE void conv_tile(const int cv, const float *const *a, int k, int kc,
                         size_t rs, const float *b, dg_vf *acc) {
  dg_tile_window(IMP, cv, CV, acc, a, k, kc, rs, b, cv * DG_VW, 0);
}

/* One block of cv vectors of channels over the whole image. k and kc are
 * constants where the caller specializes (small first layers: the window
 * loop then unrolls completely). */
DG_INLINE void conv_block(const int cv, const float *src, int wp, int c,
                          int k, int kc, int oh, int ow, const float *b,
                          const float *bias, int f, int relu, int pool,
                          float *out, int nc) {
  size_t rs = (size_t)wp * c;
  dg_vf acc[IMP * CV];
  if (pool == 2) {
    int ph = oh / 2, pw = ow / 2;
    for (int py = 0; py < ph; py++)
      for (int px = 0; px < pw; px++) {
        const float *p = src + ((size_t)2 * py * wp + 2 * px) * c;
        const float *a[IMP] = {p, p + c, p + rs, p + rs + c};
        conv_tile(cv, a, k, kc, rs, b, acc);
        dg_vf m[CV];
        DG_UNROLL
        for (int v = 0; v < cv; v++)
          m[v] = dg_vmax(dg_vmax(acc[v], acc[CV + v]),
                         dg_vmax(acc[2 * CV + v], acc[3 * CV + v]));
        dg_tile_store(cv, m, bias, relu, out + ((size_t)py * pw + px) * f,
                      nc);
      }
    return;
  }
  if (ow >= IMP) { /* tiles along each row, the last shifted left to end
                     at the row's end (its overlap recomputes the same
                     values) */
    for (int oy = 0; oy < oh; oy++) {
      const float *row = src + (size_t)oy * rs;
      float *orow = out + (size_t)oy * ow * f;
      for (int x0 = 0;; x0 += IMP) {
        int ox = imin(x0, ow - IMP);
        const float *a[IMP];
        DG_UNROLL
        for (int r = 0; r < IMP; r++) a[r] = row + (size_t)(ox + r) * c;
        conv_tile(cv, a, k, kc, rs, b, acc);
        DG_UNROLL
        for (int r = 0; r < IMP; r++)
          dg_tile_store(cv, acc + r * CV, bias, relu,
                        orow + (size_t)(ox + r) * f, nc);
        if (ox + IMP >= ow) break;
      }
    }
    return;
  }
  /* narrow images: tiles over the pixels in order, rows past the last
   * pixel repeating it */
  int opix = oh * ow;
  for (int m0 = 0; m0 < opix; m0 += IMP) {
    const float *a[IMP];
    DG_UNROLL
    for (int r = 0; r < IMP; r++) {
      int m = imin(m0 + r, opix - 1);
      a[r] = src + ((size_t)(m / ow) * wp + m % ow) * c;
    }
    conv_tile(cv, a, k, kc, rs, b, acc);
    DG_UNROLL
    for (int r = 0; r < IMP; r++)
      dg_tile_store(cv, acc + r * CV, bias, relu,
                    out + (size_t)imin(m0 + r, opix - 1) * f, nc);
  }
}

/* conv_block with one input channel and 5 x 5 or 3 x 3 windows
 * specialized, each variant its own function: V8 compiles a smaller
 * function with fewer spills than one holding every variant. */
#define CONV_VARIANT(name, CVV, CC, KK)                                       \
  static DG_NOINLINE void name(const float *src, int wp, int c, int k,       \
                               int oh, int ow, const float *b,               \
                               const float *bias, int f, int relu, int pool, \
                               float *out, int nc) {                         \
    conv_block(CVV, src, wp, CC ? CC : c, KK ? KK : k,                       \
               (KK ? KK : k) * (CC ? CC : c), oh, ow, b, bias, f, relu,      \
               pool, out, nc);                                               \
  }
typedef void conv_fn(const float *, int, int, int, int, int, const float *,
                     const float *, int, int, int, float *, int);
CONV_VARIANT(conv_k5c1, CV, 1, 5)
CONV_VARIANT(conv_k3c1, CV, 1, 3)
CONV_VARIANT(conv_any, CV, 0, 0)

static conv_fn *conv_variant(int c, int k) {
  return c == 1 && k == 5 ? conv_k5c1 : c == 1 && k == 3 ? conv_k3c1 : conv_any;
}

void dg_infer_conv(const float *in, int h, int w, int c, const float *packed,
                   int f, int k, int pad, int relu, int pool, float *out,
                   float *work) {
  int hp = h + 2 * pad, wp = w + 2 * pad, oh = hp - k + 1, ow = wp - k + 1;
  if (oh <= 0 || ow <= 0 || f <= 0) return;
  const float *src = in;
  if (pad) { /* the image framed by pad zeros */
    dg_pad_images(in, 1, h, w, c, pad, work, 1);
    src = work;
  }
  int cb = CV * DG_VW, fp = round_up(f, cb), kkc = k * k * c;
  const float *bias = packed + (size_t)kkc * fp;
  conv_fn *fn = conv_variant(c, k);
  for (int j0 = 0; j0 < f; j0 += cb)
    fn(src, wp, c, k, oh, ow, packed + (size_t)j0 * kkc, bias + j0, f, relu,
       pool, out + j0, imin(cb, f - j0));
}

void dg_infer_conv_ref(const float *in, int h, int w, int c, const float *wt,
                       const float *bias, int f, int k, int pad, int relu,
                       int pool, float *out) {
  int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
  int p = pool == 2 ? 2 : 1, ph = oh / p, pw = ow / p;
  for (int py = 0; py < ph; py++)
    for (int px = 0; px < pw; px++)
      for (int o = 0; o < f; o++) {
        float best = 0.0f;
        for (int dy = 0; dy < p; dy++)
          for (int dx = 0; dx < p; dx++) {
            int oy = py * p + dy, ox = px * p + dx;
            float x = dg_conv_window_ref(in, h, w, c, wt, f, k, pad, oy, ox, o) +
                      bias[o];
            x = relu ? (x > 0.0f ? x : 0.0f) : x;
            if ((dy == 0 && dx == 0) || x > best) best = x;
          }
        out[((size_t)py * pw + px) * f + o] = best;
      }
}

/* ---- dense ------------------------------------------------------------------ */

size_t dg_infer_dense_packed_size(int i, int u) {
  size_t up = (size_t)round_up(u, DG_VW);
  return (size_t)i * up + up;
}

/* Blocks of DV vectors of outputs (the last one narrower, whole vectors,
 * zero-padded): block j0 is (i, width) at packed + j0 * i; bias (up) after
 * the last block. */
void dg_infer_dense_pack(const float *w, const float *bias, int i, int u,
                         float *packed) {
  int up = round_up(u, DG_VW);
  for (int j0 = 0; j0 < up; j0 += DV * DG_VW)
    pack_block(w, i, u, j0, imin(DV * DG_VW, up - j0), packed + (size_t)j0 * i);
  pack_block(bias, 1, u, 0, up, packed + (size_t)i * up);
}

/* nv vectors of outputs: even and odd inputs summed apart, then added. */
DG_INLINE void dense_block(const int nv, const float *x, int i,
                           const float *b, const float *bias, int relu,
                           float *y, int nc) {
  dg_vf a0[DV], a1[DV];
  DG_UNROLL
  for (int v = 0; v < nv; v++) a0[v] = a1[v] = dg_vzero();
  int bw = nv * DG_VW, t = 0;
  for (; t + 1 < i; t += 2, b += 2 * bw) {
    dg_vf x0 = dg_vset1(x[t]), x1 = dg_vset1(x[t + 1]);
    DG_UNROLL
    for (int v = 0; v < nv; v++) {
      a0[v] = dg_vfma(x0, dg_vload(b + v * DG_VW), a0[v]);
      a1[v] = dg_vfma(x1, dg_vload(b + bw + v * DG_VW), a1[v]);
    }
  }
  if (t < i) {
    dg_vf x0 = dg_vset1(x[t]);
    DG_UNROLL
    for (int v = 0; v < nv; v++)
      a0[v] = dg_vfma(x0, dg_vload(b + v * DG_VW), a0[v]);
  }
  DG_UNROLL
  for (int v = 0; v < nv; v++) a0[v] = dg_vadd(a0[v], a1[v]);
  dg_tile_store(nv, a0, bias, relu, y, nc);
}

void dg_infer_dense(const float *x, int i, const float *packed, int u,
                    int relu, float *y) {
  int up = round_up(u, DG_VW);
  const float *bias = packed + (size_t)i * up;
  for (int j0 = 0; j0 < up; j0 += DV * DG_VW) {
    int nv = imin(DV * DG_VW, up - j0) / DG_VW, nc = imin(DV * DG_VW, u - j0);
    const float *b = packed + (size_t)j0 * i;
    switch (nv) { /* each width its own fully unrolled loop */
#if DV >= 4
      case 4: dense_block(4, x, i, b, bias + j0, relu, y + j0, nc); break;
#endif
#if DV >= 3
      case 3: dense_block(3, x, i, b, bias + j0, relu, y + j0, nc); break;
#endif
#if DV >= 2
      case 2: dense_block(2, x, i, b, bias + j0, relu, y + j0, nc); break;
#endif
      default: dense_block(1, x, i, b, bias + j0, relu, y + j0, nc); break;
    }
  }
}

void dg_infer_dense_ref(const float *x, int i, const float *w,
                        const float *bias, int u, int relu, float *y) {
  for (int o = 0; o < u; o++) {
    float acc = 0.0f;
    for (int t = 0; t < i; t++) acc += x[t] * w[(size_t)t * u + o];
    float s = acc + bias[o];
    y[o] = relu ? (s > 0.0f ? s : 0.0f) : s;
  }
}
