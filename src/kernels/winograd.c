/* winograd.c: 3x3 convolutions (stride 1) by minimal filtering (Winograd;
 * Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
 * 2015). A 2x2 block of outputs of one (input, output) channel pair costs
 * 16 multiplies instead of the 36 of the direct product, 2.25 times fewer;
 * the transforms around them are additions, linear in the data, not in the
 * product of the channel counts.
 *
 * Forward, F(2x2, 3x3): for each 4x4 input tile d (tiles 2 apart),
 *   out tile (2x2) = At [ (G g Gt) . (Bt d B) ] A
 * summed over input channels inside the bracket, which makes the 16
 * elementwise products 16 independent GEMMs:
 *   M[xi] (tiles, f) = V[xi] (tiles, c) @ U[xi] (c, f).
 * Input gradient: the full correlation of dy (padded by 2) with the kernel
 * turned 180 degrees and its channels swapped, i.e. the same forward pass.
 * Weight gradient, F(3x3, 2x2): dw is the correlation of the input with
 * dy, so each 2x2 block of dy is the "filter" of a 4x4 input tile, and the
 * sum over tiles happens between the transforms:
 *   dw (3x3) = At' [ sum over tiles (Bt' d B') . (G' y G't) ] A'
 * (16 GEMMs whose depth is the number of tiles, one inverse transform at
 * the end).
 *
 * Both are exact in real arithmetic; in float the transforms' 1/2 and the
 * reassociation change the rounding, within the bounds test_kernels
 * allows every fast kernel against the scalar reference.
 *
 * One thread: this is the WebAssembly path (single-threaded), where a
 * plan's dg_exec has it on by default (dg_exec_default); natively the
 * direct kernels of kernels.c use every thread, and Winograd runs only
 * when a dg_exec asks for it, as the tests do. Only conv.c calls in here;
 * this file uses kernels.c's dg_pad_images, never the other way round. */
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/simd.h"


static inline int imin(int a, int b) { return a < b ? a : b; }

/* Channels in whole vectors both ways (the transforms run on vectors of
 * channels) and in fours (the weight gradient's tiles), and enough of them
 * for the products to outweigh the transforms. */
int dg_wino_shape(int c, int f, int k) {
  return k == 3 && c >= 8 && f >= 8 && c % DG_VW == 0 && f % DG_VW == 0 &&
         c % 4 == 0;
}

int dg_wino_applies(const dg_exec *ex, int c, int f, int k) {
  return ex->winograd && dg_wino_shape(c, f, k);
}

/* Tiles per chunk: the chunk's transformed inputs and products, 16 * TC *
 * (c + f) floats, within WINO_CHUNK floats while each GEMM's weights (c x
 * f) stay in L1; a multiple of the GEMM's 4 rows. */
#ifndef WINO_CHUNK
#define WINO_CHUNK 65536
#endif
static int chunk_tiles(int c, int f) {
  int t = WINO_CHUNK / 16 / (c + f);
  t = t < 16 ? 16 : t > 256 ? 256 : t;
  return t & ~3;
}

/* ---- transforms ------------------------------------------------------------ */

/* The 4x4 tile of vectors at p (rows ld floats apart, columns c apart),
 * rows past ny and columns past nx zero. */
DG_INLINE void load_tile(dg_vf d[4][4], const float *p, size_t ld, int c,
                         int ny, int nx) {
  if (ny == 4 && nx == 4) {
    DG_UNROLL
    for (int i = 0; i < 4; i++) {
      DG_UNROLL
      for (int j = 0; j < 4; j++) d[i][j] = dg_vload(p + i * ld + (size_t)j * c);
    }
    return;
  }
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      d[i][j] = i < ny && j < nx ? dg_vload(p + i * ld + (size_t)j * c) : dg_vzero();
}

/* Bt d B with Bt = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 s 0 -s], s = 1 for
 * F(2x2, 3x3) and s = -1 for F(3x3, 2x2) (its last row is d3 - d1), into
 * 16 vectors at v, xi = 4*i + j apart by step floats. */
DG_INLINE void input_transform(dg_vf d[4][4], int s, float *v, size_t step) {
  dg_vf e[4][4];
  DG_UNROLL
  for (int j = 0; j < 4; j++) {
    e[0][j] = dg_vsub(d[0][j], d[2][j]);
    e[1][j] = dg_vadd(d[1][j], d[2][j]);
    e[2][j] = dg_vsub(d[2][j], d[1][j]);
    e[3][j] = s > 0 ? dg_vsub(d[1][j], d[3][j]) : dg_vsub(d[3][j], d[1][j]);
  }
  DG_UNROLL
  for (int i = 0; i < 4; i++) {
    dg_vf x0 = dg_vsub(e[i][0], e[i][2]), x1 = dg_vadd(e[i][1], e[i][2]);
    dg_vf x2 = dg_vsub(e[i][2], e[i][1]);
    dg_vf x3 = s > 0 ? dg_vsub(e[i][1], e[i][3]) : dg_vsub(e[i][3], e[i][1]);
    dg_vstore(v + (size_t)(4 * i + 0) * step, x0);
    dg_vstore(v + (size_t)(4 * i + 1) * step, x1);
    dg_vstore(v + (size_t)(4 * i + 2) * step, x2);
    dg_vstore(v + (size_t)(4 * i + 3) * step, x3);
  }
}

/* Tiles t0 .. t0+nt of the images src (n, hp, wp, c), tile (b, ty, tx)
 * the 4x4 window at row 2ty, column 2tx (zeros past the image), through
 * the input transform into V (16, tc, c). */
static void transform_inputs(const float *src, int hp, int wp, int c, int th,
                             int tw, int t0, int nt, int tc, int s, float *V) {
  size_t ld = (size_t)wp * c, step = (size_t)tc * c;
  for (int t = 0; t < nt; t++) {
    int g = t0 + t, b = g / (th * tw), r = g % (th * tw);
    int y0 = 2 * (r / tw), x0 = 2 * (r % tw);
    int ny = imin(4, hp - y0), nx = imin(4, wp - x0);
    const float *p = src + ((size_t)b * hp + y0) * ld + (size_t)x0 * c;
    float *v = V + (size_t)t * c;
    for (int ch = 0; ch < c; ch += DG_VW) {
      dg_vf d[4][4];
      load_tile(d, p + ch, ld, c, ny, nx);
      input_transform(d, s, v + ch, step);
    }
  }
}

/* U (16, c, f) = G g Gt for each (c, f) pair of wt (3, 3, c, f), G = [1 0
 * 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]. */
static void transform_weights(const float *wt, int c, int f, float *U) {
  size_t step = (size_t)c * f;
  dg_vf half = dg_vset1(0.5f);
  for (int ch = 0; ch < c; ch++)
    for (int fo = 0; fo < f; fo += DG_VW) {
      dg_vf g[3][3], h[4][3];
      for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
          g[ky][kx] = dg_vload(wt + ((size_t)(ky * 3 + kx) * c + ch) * f + fo);
      for (int kx = 0; kx < 3; kx++) {
        dg_vf a = dg_vadd(g[0][kx], g[2][kx]);
        h[0][kx] = g[0][kx];
        h[1][kx] = dg_vmul(half, dg_vadd(a, g[1][kx]));
        h[2][kx] = dg_vmul(half, dg_vsub(a, g[1][kx]));
        h[3][kx] = g[2][kx];
      }
      float *u = U + (size_t)ch * f + fo;
      for (int i = 0; i < 4; i++) {
        dg_vf a = dg_vadd(h[i][0], h[i][2]);
        dg_vstore(u + (4 * i + 0) * step, h[i][0]);
        dg_vstore(u + (4 * i + 1) * step, dg_vmul(half, dg_vadd(a, h[i][1])));
        dg_vstore(u + (4 * i + 2) * step, dg_vmul(half, dg_vsub(a, h[i][1])));
        dg_vstore(u + (4 * i + 3) * step, h[i][2]);
      }
    }
}

/* ---- the 16 products ------------------------------------------------------------ */

/* o (R <= 4 rows, nv vectors) = (or, add: +=) a @ b (K, ldb), where row r
 * of a is at a + r * rs and its depth steps ps apart: one accumulator
 * chain per element over the depth in order. Rows past mr repeat row 0
 * and are not stored. */
DG_INLINE void gemm_tile(const int nv, const float *a, size_t rs, size_t ps,
                         int mr, const float *b, int ldb, int K, float *o,
                         int ldo, int add) {
  const float *ar[4];
  DG_UNROLL
  for (int r = 0; r < 4; r++) ar[r] = a + (r < mr ? r : 0) * rs;
  dg_vf acc[4][2];
  DG_UNROLL
  for (int r = 0; r < 4; r++) {
    DG_UNROLL
    for (int v = 0; v < nv; v++) acc[r][v] = dg_vzero();
  }
  DG_NOUNROLL
  for (int p = 0; p < K; p++, b += ldb) {
    dg_vf bv[2];
    DG_UNROLL
    for (int v = 0; v < nv; v++) bv[v] = dg_vload(b + v * DG_VW);
    DG_UNROLL
    for (int r = 0; r < 4; r++) {
      dg_vf av = dg_vset1(ar[r][p * ps]);
      DG_UNROLL
      for (int v = 0; v < nv; v++) acc[r][v] = dg_vfma(av, bv[v], acc[r][v]);
    }
  }
  DG_UNROLL
  for (int r = 0; r < 4; r++) {
    if (r >= mr) continue;
    DG_UNROLL
    for (int v = 0; v < nv; v++) {
      float *q = o + (size_t)r * ldo + v * DG_VW;
      dg_vstore(q, add ? dg_vadd(dg_vload(q), acc[r][v]) : acc[r][v]);
    }
  }
}

/* M (nt, f) = V (nt, c) @ U (c, f). */
static void products(const float *V, int nt, int c, const float *U, int f, float *M) {
  for (int t = 0; t < nt; t += 4) {
    int mr = imin(4, nt - t);
    const float *a = V + (size_t)t * c;
    float *o = M + (size_t)t * f;
    int j = 0;
    for (; j + 2 * DG_VW <= f; j += 2 * DG_VW)
      gemm_tile(2, a, c, 1, mr, U + j, f, c, o + j, f, 0);
    if (j < f) gemm_tile(1, a, c, 1, mr, U + j, f, c, o + j, f, 0);
  }
}

/* ---- forward ---------------------------------------------------------------- */

/* At m A, At = [1 1 1 0; 0 1 -1 -1], for tiles t0.. of M (16, tc, f), plus
 * bias (NULL: none), then ReLU, into out (n, oh, ow, f). */
static void transform_outputs(const float *M, int tc, int f, const float *bias,
                              int relu, int oh, int ow, int th, int tw, int t0,
                              int nt, float *out) {
  size_t step = (size_t)tc * f;
  dg_vf zero = dg_vzero();
  for (int t = 0; t < nt; t++) {
    int g = t0 + t, b = g / (th * tw), r = g % (th * tw);
    int y0 = 2 * (r / tw), x0 = 2 * (r % tw);
    int ny = imin(2, oh - y0), nx = imin(2, ow - x0);
    float *o = out + (((size_t)b * oh + y0) * ow + x0) * f;
    const float *m = M + (size_t)t * f;
    for (int fo = 0; fo < f; fo += DG_VW) {
      dg_vf s[2][4];
      for (int j = 0; j < 4; j++) {
        dg_vf m0 = dg_vload(m + (size_t)j * step + fo);
        dg_vf m1 = dg_vload(m + (size_t)(4 + j) * step + fo);
        dg_vf m2 = dg_vload(m + (size_t)(8 + j) * step + fo);
        dg_vf m3 = dg_vload(m + (size_t)(12 + j) * step + fo);
        s[0][j] = dg_vadd(dg_vadd(m0, m1), m2);
        s[1][j] = dg_vsub(dg_vsub(m1, m2), m3);
      }
      dg_vf bv = bias ? dg_vload(bias + fo) : zero;
      for (int i = 0; i < ny; i++) {
        dg_vf y[2];
        y[0] = dg_vadd(dg_vadd(dg_vadd(s[i][0], s[i][1]), s[i][2]), bv);
        y[1] = dg_vadd(dg_vsub(dg_vsub(s[i][1], s[i][2]), s[i][3]), bv);
        for (int j = 0; j < nx; j++)
          dg_vstore(o + ((size_t)i * ow + j) * f + fo, relu ? dg_vmax(y[j], zero) : y[j]);
      }
    }
  }
}

/* out (n, hp-2, wp-2, f) = valid 3x3 convolution of src (n, hp, wp, c)
 * with the transformed weights U, + bias, ReLU. work: 16 * tc * (c + f). */
static void conv_valid(const float *src, int n, int hp, int wp, int c,
                       const float *U, int f, const float *bias, int relu,
                       float *out, float *work) {
  int oh = hp - 2, ow = wp - 2, th = (oh + 1) / 2, tw = (ow + 1) / 2;
  int T = n * th * tw, tc = chunk_tiles(c, f);
  float *V = work, *M = work + (size_t)16 * tc * c;
  for (int t0 = 0; t0 < T; t0 += tc) {
    int nt = imin(tc, T - t0);
    transform_inputs(src, hp, wp, c, th, tw, t0, nt, tc, 1, V);
    for (int xi = 0; xi < 16; xi++)
      products(V + (size_t)xi * tc * c, nt, c, U + (size_t)xi * c * f, f,
               M + (size_t)xi * tc * f);
    transform_outputs(M, tc, f, bias, relu, oh, ow, th, tw, t0, nt, out);
  }
}

static size_t conv_valid_work(int c, int f) {
  return (size_t)16 * chunk_tiles(c, f) * (c + f);
}

size_t dg_wino_work(int n, int h, int w, int c, int f, int pad) {
  size_t hp = (size_t)h + 2 * pad, wp = (size_t)w + 2 * pad;
  if (n <= 0 || hp < 3 || wp < 3) return 0;
  size_t oh = hp - 2, ow = wp - 2;
  size_t padded = pad ? (size_t)n * hp * wp * c : 0;
  size_t fwd = padded + (size_t)16 * c * f + conv_valid_work(c, f);
  size_t gi = (size_t)n * (oh + 4) * (ow + 4) * f + (size_t)9 * f * c +
              (size_t)16 * f * c + conv_valid_work(f, c) + padded;
  size_t gw = padded + (size_t)16 * chunk_tiles(c, f) * (c + f) +
              (size_t)16 * c * f;
  size_t m = fwd > gi ? fwd : gi;
  return m > gw ? m : gw;
}

size_t dg_wino_packed_size(int c, int f) { return (size_t)16 * c * f; }

void dg_wino_pack(const float *wt, int c, int f, float *U) {
  transform_weights(wt, c, f, U);
}

void dg_wino_conv2d_packed(const float *in, int n, int h, int w, int c,
                           const float *U, const float *bias, int f, int pad,
                           int relu, float *out, float *work) {
  int hp = h + 2 * pad, wp = w + 2 * pad;
  if (n <= 0 || hp < 3 || wp < 3) return;
  const float *src = in;
  if (pad) {
    dg_pad_images(in, n, h, w, c, pad, work, 1);
    src = work;
    work += (size_t)n * hp * wp * c;
  }
  conv_valid(src, n, hp, wp, c, U, f, bias, relu, out, work);
}

void dg_wino_conv2d(const float *in, int n, int h, int w, int c,
                    const float *wt, const float *bias, int f, int pad,
                    int relu, float *out, float *work) {
  float *U = work;
  transform_weights(wt, c, f, U);
  dg_wino_conv2d_packed(in, n, h, w, c, U, bias, f, pad, relu, out,
                        U + dg_wino_packed_size(c, f));
}

/* ---- input gradient --------------------------------------------------------- */

void dg_wino_conv2d_grad_in(const float *dy, const float *wt, int n, int h,
                            int w, int c, int f, int pad, float *din,
                            float *work) {
  int hp = h + 2 * pad, wp = w + 2 * pad, oh = hp - 2, ow = wp - 2;
  if (n <= 0 || oh <= 0 || ow <= 0) return;
  float *dyp = work; /* (n, oh+4, ow+4, f) */
  dg_pad_images(dy, n, oh, ow, f, 2, dyp, 1);
  float *wr = dyp + (size_t)n * (oh + 4) * (ow + 4) * f; /* (3, 3, f, c) */
  for (int ky = 0; ky < 3; ky++)
    for (int kx = 0; kx < 3; kx++)
      for (int fo = 0; fo < f; fo++)
        for (int ch = 0; ch < c; ch++)
          wr[((size_t)(ky * 3 + kx) * f + fo) * c + ch] =
              wt[((size_t)((2 - ky) * 3 + (2 - kx)) * c + ch) * f + fo];
  float *U = wr + (size_t)9 * f * c;
  transform_weights(wr, f, c, U);
  float *cw = U + (size_t)16 * f * c, *full = cw + conv_valid_work(f, c);
  conv_valid(dyp, n, oh + 4, ow + 4, f, U, c, NULL, 0, pad ? full : din, cw);
  if (pad)
    for (int b = 0; b < n; b++)
      for (int y = 0; y < h; y++)
        memcpy(din + ((size_t)b * h + y) * w * c,
               full + (((size_t)b * hp + y + pad) * wp + pad) * c,
               (size_t)w * c * sizeof(float));
}

/* ---- weight gradient -------------------------------------------------------- */

/* dy's 2x2 blocks through G' = [1 0; 1/2 1/2; 1/2 -1/2; 0 1] both ways:
 * tiles t0.. of dy (n, oh, ow, f), zeros past its edge, into Y (16, tc, f). */
static void transform_dy(const float *dy, int oh, int ow, int f, int th, int tw,
                         int t0, int nt, int tc, float *Y) {
  size_t step = (size_t)tc * f;
  dg_vf half = dg_vset1(0.5f), zero = dg_vzero();
  for (int t = 0; t < nt; t++) {
    int g = t0 + t, b = g / (th * tw), r = g % (th * tw);
    int y0 = 2 * (r / tw), x0 = 2 * (r % tw);
    int ny = imin(2, oh - y0), nx = imin(2, ow - x0);
    const float *p = dy + (((size_t)b * oh + y0) * ow + x0) * f;
    float *o = Y + (size_t)t * f;
    for (int fo = 0; fo < f; fo += DG_VW) {
      dg_vf y[2][2], h[4][2];
      for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
          y[i][j] = i < ny && j < nx ? dg_vload(p + ((size_t)i * ow + j) * f + fo) : zero;
      for (int j = 0; j < 2; j++) {
        h[0][j] = y[0][j];
        h[1][j] = dg_vmul(half, dg_vadd(y[0][j], y[1][j]));
        h[2][j] = dg_vmul(half, dg_vsub(y[0][j], y[1][j]));
        h[3][j] = y[1][j];
      }
      for (int i = 0; i < 4; i++) {
        dg_vstore(o + (size_t)(4 * i + 0) * step + fo, h[i][0]);
        dg_vstore(o + (size_t)(4 * i + 1) * step + fo,
                  dg_vmul(half, dg_vadd(h[i][0], h[i][1])));
        dg_vstore(o + (size_t)(4 * i + 2) * step + fo,
                  dg_vmul(half, dg_vsub(h[i][0], h[i][1])));
        dg_vstore(o + (size_t)(4 * i + 3) * step + fo, h[i][1]);
      }
    }
  }
}

void dg_wino_conv2d_grad_w(const float *in, const float *dy, int n, int h,
                           int w, int c, int f, int pad, float *dw, float *db,
                           float *work) {
  int hp = h + 2 * pad, wp = w + 2 * pad, oh = hp - 2, ow = wp - 2;
  if (oh <= 0 || ow <= 0) return;
  if (n <= 0) {
    memset(dw, 0, (size_t)9 * c * f * sizeof(float));
    memset(db, 0, (size_t)f * sizeof(float));
    return;
  }
  const float *src = in;
  if (pad) {
    dg_pad_images(in, n, h, w, c, pad, work, 1);
    src = work;
    work += (size_t)n * hp * wp * c;
  }
  int th = (oh + 1) / 2, tw = (ow + 1) / 2, T = n * th * tw;
  int tc = chunk_tiles(c, f);
  float *V = work, *Y = V + (size_t)16 * tc * c, *acc = Y + (size_t)16 * tc * f;
  /* acc[xi] (c, f) += V[xi]^T @ Y[xi]: a row of V^T is a channel (rows 1
   * float apart), its depth the tiles (c floats apart); c % 4 == 0 (a
   * multiple of DG_VW >= 4): whole 4-channel tiles */
  for (int t0 = 0; t0 < T; t0 += tc) {
    int nt = imin(tc, T - t0);
    transform_inputs(src, hp, wp, c, th, tw, t0, nt, tc, -1, V);
    transform_dy(dy, oh, ow, f, th, tw, t0, nt, tc, Y);
    for (int xi = 0; xi < 16; xi++) {
      const float *vx = V + (size_t)xi * tc * c, *yx = Y + (size_t)xi * tc * f;
      float *ax = acc + (size_t)xi * c * f;
      for (int ch = 0; ch < c; ch += 4) {
        int j = 0;
        for (; j + 2 * DG_VW <= f; j += 2 * DG_VW)
          gemm_tile(2, vx + ch, 1, c, 4, yx + j, f, nt, ax + (size_t)ch * f + j, f, t0 > 0);
        if (j < f)
          gemm_tile(1, vx + ch, 1, c, 4, yx + j, f, nt, ax + (size_t)ch * f + j, f, t0 > 0);
      }
    }
  }
  /* dw = At' acc A', At' = [1 1 1 0; 0 1 -1 0; 0 1 1 1] */
  size_t step = (size_t)c * f;
  for (int ch = 0; ch < c; ch++)
    for (int fo = 0; fo < f; fo += DG_VW) {
      const float *a = acc + (size_t)ch * f + fo;
      dg_vf s[3][4];
      for (int j = 0; j < 4; j++) {
        dg_vf a0 = dg_vload(a + (size_t)j * step), a1 = dg_vload(a + (size_t)(4 + j) * step);
        dg_vf a2 = dg_vload(a + (size_t)(8 + j) * step), a3 = dg_vload(a + (size_t)(12 + j) * step);
        dg_vf m = dg_vadd(a1, a2);
        s[0][j] = dg_vadd(a0, m);
        s[1][j] = dg_vsub(a1, a2);
        s[2][j] = dg_vadd(m, a3);
      }
      for (int ky = 0; ky < 3; ky++) {
        dg_vf m = dg_vadd(s[ky][1], s[ky][2]);
        dg_vf r[3] = {dg_vadd(s[ky][0], m), dg_vsub(s[ky][1], s[ky][2]),
                      dg_vadd(m, s[ky][3])};
        for (int kx = 0; kx < 3; kx++)
          dg_vstore(dw + ((size_t)(ky * 3 + kx) * c + ch) * f + fo, r[kx]);
      }
    }
  /* db: each image's pixels in order, images in order */
  for (int fo = 0; fo < f; fo += DG_VW) {
    dg_vf s0 = dg_vzero(), s1 = dg_vzero();
    size_t pix = (size_t)n * oh * ow, i = 0;
    for (; i + 2 <= pix; i += 2) {
      s0 = dg_vadd(s0, dg_vload(dy + i * f + fo));
      s1 = dg_vadd(s1, dg_vload(dy + (i + 1) * f + fo));
    }
    if (i < pix) s0 = dg_vadd(s0, dg_vload(dy + i * f + fo));
    dg_vstore(db + fo, dg_vadd(s0, s1));
  }
}
