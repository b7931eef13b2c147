/* test_kernels.c: every fast kernel (kernels.c) against its scalar
 * reference (kernels_ref.c) on odd shapes, plus the properties the layers
 * rely on: beta == 0 ignores NaN in C, the convolution's input gradient is
 * its adjoint, max-pool ties, bit-identical results for 1 and 2 threads.
 *
 * Built with -DDG_FORCE_SCALAR (kernels.c then uses simd.h's scalar
 * vocabulary) the same tests compare the scalar fallback with the reference.
 *
 * `test_kernels bench` instead times dg_gemm against dg_gemm_ref (GFLOP/s on
 * 1 and 2 threads); it is not part of the default run.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "kernels/kernels.h"

/* The settings every fast kernel here runs with (threads, Winograd), as a
 * plan's step would give them; the tests change them as they need. */
static dg_exec kx = {1, 0, NULL, 0};
static void kx_threads(int t) { kx.threads = t < 1 ? 1 : t > 256 ? 256 : t; }

/* ---- helpers ------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd_u32(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 32);
}

/* uniform in [-1, 1) */
static float rnd(void) { return (float)(rnd_u32() >> 8) / 8388608.0f - 1.0f; }

static float *rnd_buf(size_t n) {
  float *p = malloc((n ? n : 1) * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = rnd();
  return p;
}

static float *copy_buf(const float *s, size_t n) {
  float *p = malloc((n ? n : 1) * sizeof(float));
  if (n) memcpy(p, s, n * sizeof(float));
  return p;
}

/* Largest |a-b| / bound over n elements, where bound[i] is the error scale. */
static int all_near(const float *a, const float *b, size_t n, float tol) {
  for (size_t i = 0; i < n; i++) {
    double s = fabs(a[i]) > fabs(b[i]) ? fabs(a[i]) : fabs(b[i]);
    if (s < 1) s = 1;
    if (!(fabs((double)a[i] - b[i]) <= tol * s)) {
      fprintf(stderr, "  element %zu: %.9g vs %.9g\n", i, a[i], b[i]);
      return 0;
    }
  }
  return 1;
}

/* ---- GEMM ------------------------------------------------------------------ */

/* Tolerance: a float dot product of length K in any order is within
 * K * 2^-24 * sum|a_p b_p| of the exact value, so two orders differ by at
 * most twice that. We allow 1e-6 * (K + 2) * scale, with scale =
 * |alpha| sum_p |a_p b_p| + |beta c| + 2^-20 (about 8x the bound). */
static int gemm_check(int ta, int tb, int M, int N, int K, float alpha,
                      float beta, int pad, int nan_c) {
  int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
  size_t asz = (size_t)(ta ? K : M) * lda, bsz = (size_t)(tb ? N : K) * ldb;
  size_t csz = (size_t)M * ldc;
  float *A = rnd_buf(asz), *B = rnd_buf(bsz), *C0 = rnd_buf(csz);
  if (nan_c)
    for (size_t i = 0; i < csz; i++) C0[i] = NAN;
  float *Cf = copy_buf(C0, csz), *Cr = copy_buf(C0, csz);
  dg_gemm(&kx, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, Cf, ldc);
  dg_gemm_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, Cr, ldc);
  int ok = 1;
  for (int i = 0; i < M && ok; i++) {
    for (int j = 0; j < ldc && ok; j++) {
      size_t ci = (size_t)i * ldc + j;
      if (j >= N) { /* padding past N must be untouched */
        if (memcmp(&Cf[ci], &C0[ci], sizeof(float)) != 0) ok = 0;
        continue;
      }
      double scale = 1.0 / 1048576.0;
      for (int p = 0; p < K; p++) {
        float a = ta ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
        float b = tb ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
        scale += fabs((double)alpha * a * b);
      }
      if (beta != 0.0f) scale += fabs((double)beta * C0[ci]);
      double err = fabs((double)Cf[ci] - Cr[ci]);
      if (!(err <= 1e-6 * (K + 2) * scale)) {
        fprintf(stderr,
                "  gemm ta=%d tb=%d M=%d N=%d K=%d alpha=%g beta=%g pad=%d: "
                "C[%d,%d] = %.9g, ref %.9g\n",
                ta, tb, M, N, K, alpha, beta, pad, i, j, Cf[ci], Cr[ci]);
        ok = 0;
      }
    }
  }
  free(A); free(B); free(C0); free(Cf); free(Cr);
  return ok;
}

static void test_gemm_odd_shapes(void) {
  static const int Ms[] = {1, 2, 3, 4, 5, 17, 65};
  static const int Ns[] = {1, 5, 33, 130};
  static const int Ks[] = {1, 7, 29, 300};
  static const float ab[][2] = {{1, 0}, {0.5f, 1}, {-1.5f, 0.25f}};
  int n = 0;
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      for (size_t mi = 0; mi < sizeof Ms / sizeof *Ms; mi++)
        for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++)
          for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++) {
            int v = n++ % 3, pad = (int)(ki + mi) % 3 == 0 ? 0 : 3;
            /* beta == 0 cases start with NaN in C */
            CHECK_MSG(gemm_check(ta, tb, Ms[mi], Ns[ni], Ks[ki], ab[v][0],
                                 ab[v][1], pad, ab[v][1] == 0),
                      "ta=%d tb=%d M=%d N=%d K=%d", ta, tb, Ms[mi], Ns[ni],
                      Ks[ki]);
          }
}

/* Shapes that cross the blocking: K past one depth block, N past one column
 * block, M past one row block; and the real layer shapes. */
static void test_gemm_large_shapes(void) {
  static const int shapes[][3] = {
      {300, 37, 601}, {9, 600, 70}, {129, 1030, 33}, {784, 32, 9},
      {1, 128, 784},  {64, 10, 128}, {2, 700, 1000}, {200, 288, 64}};
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
    for (int t = 0; t < 4; t++) {
      int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
      float beta = t == 2 ? 0.5f : 0.0f;
      CHECK_MSG(gemm_check(t >> 1, t & 1, M, N, K, 1.0f, beta, t == 1 ? 5 : 0,
                           beta == 0.0f),
                "ta=%d tb=%d M=%d N=%d K=%d", t >> 1, t & 1, M, N, K);
    }
}

static void test_gemm_degenerate(void) {
  float A[6] = {NAN, NAN, NAN, NAN, NAN, NAN}, B[6] = {1, 2, 3, 4, 5, 6};
  float C[6] = {1, 2, 3, 4, 5, 6};
  /* alpha == 0: A, B not read, C = beta*C */
  dg_gemm(&kx, 0, 0, 2, 3, 2, 0.0f, A, 2, B, 3, 2.0f, C, 3);
  CHECK(C[0] == 2 && C[5] == 12);
  /* K == 0, beta == 0: C = 0 even from NaN */
  for (int i = 0; i < 6; i++) C[i] = NAN;
  dg_gemm(&kx, 0, 0, 2, 3, 0, 1.0f, A, 1, B, 3, 0.0f, C, 3);
  CHECK(C[0] == 0 && C[5] == 0);
  /* M == 0 or N == 0: nothing touched */
  C[0] = 7;
  dg_gemm(&kx, 0, 0, 0, 3, 2, 1.0f, B, 2, B, 3, 0.0f, C, 3);
  dg_gemm(&kx, 0, 0, 2, 0, 2, 1.0f, B, 2, B, 3, 0.0f, C, 3);
  CHECK(C[0] == 7);
  /* beta == 0 with NaN C on the packed path (checked in the odd-shape test
   * too, here on a plain case with a known answer) */
  float I[4] = {1, 0, 0, 1}, X[4] = {1, 2, 3, 4}, Y[4] = {NAN, NAN, NAN, NAN};
  for (int t = 0; t < 4; t++) {
    for (int i = 0; i < 4; i++) Y[i] = NAN;
    dg_gemm(&kx, t >> 1, t & 1, 2, 2, 2, 1.0f, I, 2, X, 2, 0.0f, Y, 2);
    float want[4] = {1, 2, 3, 4};
    if (t & 1) { want[1] = 3; want[2] = 2; }
    CHECK_MSG(memcmp(Y, want, sizeof want) == 0, "ta=%d tb=%d", t >> 1, t & 1);
  }
}

/* 1 thread vs 2 threads: memcmp, on every path (small M, packed with the
 * output split by rows, packed with M too small so columns are split). */
static void test_gemm_thread_determinism(void) {
  /* each large enough (> 2M multiply-adds) for dg_gemm to use 2 threads */
  static const int shapes[][3] = {{1, 4000, 784},  {3, 2777, 300},
                                  {5, 600, 999},   {8, 4100, 100},
                                  {33, 288, 6000}, {1000, 130, 301},
                                  {8099, 32, 9},   {517, 70, 520}};
  int saved = kx.threads;
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
    for (int t = 0; t < 4; t++) {
      int ta = t >> 1, tb = t & 1;
      int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
      int lda = ta ? M : K, ldb = tb ? K : N;
      float *A = rnd_buf((size_t)M * K), *B = rnd_buf((size_t)K * N);
      float *C0 = rnd_buf((size_t)M * N);
      float *C1 = copy_buf(C0, (size_t)M * N), *C2 = copy_buf(C0, (size_t)M * N);
      float beta = t == 3 ? 0.0f : 0.75f;
      kx_threads(1);
      dg_gemm(&kx, ta, tb, M, N, K, 1.25f, A, lda, B, ldb, beta, C1, N);
      kx_threads(2);
      dg_gemm(&kx, ta, tb, M, N, K, 1.25f, A, lda, B, ldb, beta, C2, N);
      CHECK_MSG(memcmp(C1, C2, (size_t)M * N * sizeof(float)) == 0,
                "ta=%d tb=%d M=%d N=%d K=%d differs between 1 and 2 threads",
                ta, tb, M, N, K);
      free(A); free(B); free(C0); free(C1); free(C2);
    }
  kx_threads(saved);
}

/* ---- convolution -------------------------------------------------------------- */

struct conv_shape { int n, h, w, c, f, k, pad; };
static const struct conv_shape conv_shapes[] = {
    {1, 5, 5, 1, 1, 3, 1},    {2, 7, 6, 3, 5, 3, 1},   {3, 9, 11, 2, 7, 5, 2},
    {2, 8, 8, 5, 33, 3, 0},   {1, 4, 3, 7, 16, 1, 0},  {2, 3, 3, 1, 2, 5, 2},
    {1, 2, 9, 4, 31, 3, 1},   {4, 28, 28, 1, 32, 3, 0}, {2, 14, 14, 32, 64, 3, 1},
    {3, 12, 12, 17, 6, 5, 0}, {2, 12, 12, 24, 48, 3, 1}, {19, 6, 6, 48, 96, 3, 0},
    {2, 28, 28, 1, 24, 5, 0}, {17, 10, 10, 64, 64, 3, 0}, {3, 7, 5, 16, 5, 3, 2},
    {2, 9, 9, 32, 7, 5, 1},   {2, 9, 8, 5, 64, 3, 1},
    /* Winograd's shapes (see test_conv2d_winograd): odd output sizes cut
     * its 2x2 tiles, a 1x1 output, the cnn's second layer */
    {3, 9, 7, 16, 32, 3, 0},  {2, 7, 5, 32, 16, 3, 1}, {2, 3, 3, 16, 48, 3, 0},
    {2, 26, 26, 32, 32, 3, 0}};

static int conv_dims(const struct conv_shape *s, int *oh, int *ow) {
  *oh = s->h + 2 * s->pad - s->k + 1, *ow = s->w + 2 * s->pad - s->k + 1;
  return *oh > 0 && *ow > 0;
}

/* A shape's output size and its input, output and weight element counts. */
typedef struct {
  int oh, ow;
  size_t nin, nout, nw;
} conv_size;

/* check(i, shape, its sizes) for every shape whose window fits. */
static void each_conv_shape(void (*check)(size_t, const struct conv_shape *,
                                          const conv_size *)) {
  for (size_t i = 0; i < sizeof conv_shapes / sizeof *conv_shapes; i++) {
    const struct conv_shape *s = &conv_shapes[i];
    conv_size z;
    if (!conv_dims(s, &z.oh, &z.ow)) continue;
    z.nin = (size_t)s->n * s->h * s->w * s->c;
    z.nout = (size_t)s->n * z.oh * z.ow * s->f;
    z.nw = (size_t)s->k * s->k * s->c * s->f;
    check(i, s, &z);
  }
}

/* dg_conv2d's scratch for shape s (one float more, never empty). */
static float *conv_work(const struct conv_shape *s) {
  return malloc((dg_conv2d_work(s->n, s->h, s->w, s->c, s->f, s->k, s->pad) + 1) *
                sizeof(float));
}

static float *abs_copy(const float *x, size_t n) {
  float *p = malloc((n ? n : 1) * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = fabsf(x[i]);
  return p;
}

/* fast vs reference within 1e-6 * (terms + 2) * scale per element, scale
 * being the same sum over absolute values (the reference on |operands|) */
static int near_scaled(const float *f, const float *r, const float *scale,
                       size_t n, int terms, const char *what, int shape) {
  for (size_t i = 0; i < n; i++) {
    double tol = 1e-6 * (terms + 2) * (scale[i] + 1.0 / 1048576.0);
    if (!(fabs((double)f[i] - r[i]) <= tol)) {
      fprintf(stderr, "  %s shape %d element %zu: %.9g vs ref %.9g\n", what,
              shape, i, f[i], r[i]);
      return 0;
    }
  }
  return 1;
}

/* Winograd's path reassociates more: its transforms add up to 16 inputs
 * and 9 products before and after the sum over channels, and its
 * intermediate values are bounded by a few times the direct terms'. */
static int conv_terms(const struct conv_shape *s, int terms) {
  return dg_wino_applies(&kx, s->c, s->f, s->k) ? 4 * (terms + 32) : terms;
}

static void check_conv2d(size_t i, const struct conv_shape *s,
                         const conv_size *z) {
  int kkc = s->k * s->k * s->c;
  float *x = rnd_buf(z->nin), *wt = rnd_buf(z->nw), *bias = rnd_buf(s->f);
  float *ax = abs_copy(x, z->nin), *aw = abs_copy(wt, z->nw),
        *ab = abs_copy(bias, s->f);
  float *work = conv_work(s);
  float *of = rnd_buf(z->nout), *orf = rnd_buf(z->nout), *sc = rnd_buf(z->nout);
  for (int relu = 0; relu < 2; relu++) {
    dg_conv2d(&kx, x, s->n, s->h, s->w, s->c, wt, bias, s->f, s->k, s->pad, relu,
              of, work);
    dg_conv2d_ref(x, s->n, s->h, s->w, s->c, wt, bias, s->f, s->k, s->pad,
                  relu, orf);
    dg_conv2d_ref(ax, s->n, s->h, s->w, s->c, aw, ab, s->f, s->k, s->pad, 0,
                  sc);
    CHECK_MSG(near_scaled(of, orf, sc, z->nout, conv_terms(s, kkc), "forward", (int)i),
              "forward shape %zu relu %d", i, relu);
  }
  /* gradients */
  float *dy = rnd_buf(z->nout), *ady = abs_copy(dy, z->nout);
  float *dwf = rnd_buf(z->nw), *dwr = rnd_buf(z->nw), *dws = rnd_buf(z->nw);
  float *dbf = rnd_buf(s->f), *dbr = rnd_buf(s->f), *dbs = rnd_buf(s->f);
  dg_conv2d_grad_w(&kx, x, dy, s->n, s->h, s->w, s->c, s->f, s->k, s->pad, dwf,
                   dbf, work);
  dg_conv2d_grad_w_ref(x, dy, s->n, s->h, s->w, s->c, s->f, s->k, s->pad,
                       dwr, dbr);
  dg_conv2d_grad_w_ref(ax, ady, s->n, s->h, s->w, s->c, s->f, s->k, s->pad,
                       dws, dbs);
  int pix = s->n * z->oh * z->ow;
  CHECK_MSG(near_scaled(dwf, dwr, dws, z->nw, conv_terms(s, pix), "dw", (int)i), "dw shape %zu",
            i);
  CHECK_MSG(near_scaled(dbf, dbr, dbs, s->f, pix, "db", (int)i),
            "db shape %zu", i);
  float *dxf = rnd_buf(z->nin), *dxr = rnd_buf(z->nin), *dxs = rnd_buf(z->nin);
  for (size_t j = 0; j < z->nin; j++) dxf[j] = NAN; /* overwritten */
  dg_conv2d_grad_in(&kx, dy, wt, s->n, s->h, s->w, s->c, s->f, s->k, s->pad, dxf,
                    work);
  dg_conv2d_grad_in_ref(dy, wt, s->n, s->h, s->w, s->c, s->f, s->k, s->pad,
                        dxr);
  dg_conv2d_grad_in_ref(ady, aw, s->n, s->h, s->w, s->c, s->f, s->k, s->pad,
                        dxs);
  CHECK_MSG(near_scaled(dxf, dxr, dxs, z->nin, conv_terms(s, s->k * s->k * s->f), "din",
                        (int)i),
            "din shape %zu", i);
  free(x); free(wt); free(bias); free(ax); free(aw); free(ab); free(work);
  free(of); free(orf); free(sc); free(dy); free(ady); free(dwf); free(dwr);
  free(dws); free(dbf); free(dbr); free(dbs); free(dxf); free(dxr);
  free(dxs);
}

static void test_conv2d(void) { each_conv_shape(check_conv2d); }

/* <grad_in(dy), x> == <dy, conv(x) - bias>: the input gradient is the
 * forward convolution's adjoint, which is what makes backward correct. */
static void check_conv2d_adjoint(size_t i, const struct conv_shape *s,
                                 const conv_size *z) {
  float *x = rnd_buf(z->nin), *dy = rnd_buf(z->nout), *wt = rnd_buf(z->nw);
  float *zero = calloc(s->f, sizeof(float));
  float *y = malloc(z->nout * sizeof(float)), *dx = malloc(z->nin * sizeof(float));
  float *work = conv_work(s);
  dg_conv2d(&kx, x, s->n, s->h, s->w, s->c, wt, zero, s->f, s->k, s->pad, 0, y,
            work);
  dg_conv2d_grad_in(&kx, dy, wt, s->n, s->h, s->w, s->c, s->f, s->k, s->pad, dx,
                    work);
  double lhs = 0, rhs = 0, mag = 0;
  for (size_t j = 0; j < z->nin; j++) lhs += (double)dx[j] * x[j];
  for (size_t j = 0; j < z->nout; j++) {
    rhs += (double)dy[j] * y[j];
    mag += fabs((double)dy[j] * y[j]);
  }
  CHECK_MSG(fabs(lhs - rhs) <= 1e-5 * (mag + 1), "shape %zu: %.9g vs %.9g",
            i, lhs, rhs);
  free(x); free(dy); free(wt); free(zero); free(y); free(dx); free(work);
}

static void test_conv2d_adjoint(void) { each_conv_shape(check_conv2d_adjoint); }

/* Both paths of the 3x3 convolutions, whichever is this target's default:
 * Winograd's (the WebAssembly default) and the direct one, each against
 * the reference and its own adjoint. */
static void test_conv2d_winograd(void) {
  int saved = kx.winograd, shapes = 0;
  for (size_t i = 0; i < sizeof conv_shapes / sizeof *conv_shapes; i++)
    shapes += dg_wino_shape(conv_shapes[i].c, conv_shapes[i].f, conv_shapes[i].k);
  CHECK_MSG(shapes >= 5, "only %d shapes take the Winograd path", shapes);
  CHECK(!dg_wino_shape(32, 32, 5) && !dg_wino_shape(1, 32, 3));
  for (int on = 0; on < 2; on++) {
    kx.winograd = on;
    CHECK(kx.winograd == on);
    CHECK(dg_wino_applies(&kx, 32, 64, 3) == on);
    test_conv2d();
    test_conv2d_adjoint();
  }
  kx.winograd = saved;
}

/* ---- batch norm ------------------------------------------------------------------ */

static void test_bn(void) {
  static const int cs[] = {1, 3, 16, 24, 32, 48, 96, 100, 300, 2049};
  static const size_t rows[] = {1, 2, 7, 64, 1000, 5000};
  for (size_t ci = 0; ci < sizeof cs / sizeof *cs; ci++)
    for (size_t ri = 0; ri < sizeof rows / sizeof *rows; ri++) {
      int c = cs[ci];
      size_t r = rows[ri], n = r * c;
      if (n > 200000) continue; /* the references are slow */
      float *x = rnd_buf(n), *dy = rnd_buf(n), *y = rnd_buf(n);
      /* an offset mean, as conv outputs have, and a scale per channel */
      for (size_t i = 0; i < n; i++) x[i] = 3.0f + x[i] * (1 + (float)(i % c) / c);
      float *work = malloc((dg_bn_work(r, c) + 1) * sizeof(float));
      float *mf = rnd_buf(c), *vf = rnd_buf(c), *mr = rnd_buf(c), *vr = rnd_buf(c);
      dg_bn_stats(&kx, x, r, c, mf, vf, work);
      dg_bn_stats_ref(x, r, c, mr, vr);
      CHECK_MSG(all_near(mf, mr, c, 1e-6f) && all_near(vf, vr, c, 1e-5f),
                "stats c=%d rows=%zu", c, r);
      float *g = rnd_buf(c), *sc = rnd_buf(c), *sh = rnd_buf(c), *is = rnd_buf(c);
      for (int j = 0; j < c; j++) is[j] = 1.0f / sqrtf(vr[j] + 1e-3f);
      for (int relu = 0; relu < 2; relu++) {
        float *yf = rnd_buf(n), *yr = rnd_buf(n);
        dg_scale_shift(&kx, x, r, c, sc, sh, relu, yf);
        dg_scale_shift_ref(x, r, c, sc, sh, relu, yr);
        CHECK_MSG(all_near(yf, yr, n, 1e-6f), "scale_shift c=%d rows=%zu", c, r);
        /* a ReLU mask with zeros in it */
        for (size_t i = 0; i < n; i++) y[i] = (i % 3 == 0) ? 0.0f : fabsf(y[i]);
        const float *mask = relu ? y : NULL;
        float *dgf = rnd_buf(c), *dbf = rnd_buf(c), *dgr = rnd_buf(c),
              *dbr = rnd_buf(c), *dxf = rnd_buf(n), *dxr = rnd_buf(n);
        dg_bn_grad(&kx, x, dy, mask, r, c, mr, is, g, dgf, dbf, dxf, work);
        dg_bn_grad_ref(x, dy, mask, r, c, mr, is, g, dgr, dbr, dxr);
        float tol = 2e-6f * (float)(r + 2);
        CHECK_MSG(all_near(dgf, dgr, c, tol) && all_near(dbf, dbr, c, tol),
                  "bn grad sums c=%d rows=%zu relu=%d", c, r, relu);
        CHECK_MSG(all_near(dxf, dxr, n, 1e-4f), "bn dx c=%d rows=%zu relu=%d",
                  c, r, relu);
        dg_bn_grad(&kx, x, dy, mask, r, c, mr, is, g, dgf, dbf, NULL, work);
        CHECK(all_near(dgf, dgr, c, tol));
        free(yf); free(yr); free(dgf); free(dbf); free(dgr); free(dbr);
        free(dxf); free(dxr);
      }
      free(x); free(dy); free(y); free(work); free(mf); free(vf); free(mr);
      free(vr); free(g); free(sc); free(sh); free(is);
    }
}

/* ---- pooling ------------------------------------------------------------------ */

struct pool_shape { int n, h, w, c, p; };
static const struct pool_shape pool_shapes[] = {
    {1, 4, 4, 1, 2},  {2, 5, 7, 3, 2},   {3, 9, 9, 17, 3}, {2, 28, 28, 32, 2},
    {1, 6, 5, 33, 2}, {2, 4, 4, 5, 4},   {1, 3, 3, 2, 1},  {1, 1, 1, 3, 2}};

static void test_maxpool(void) {
  for (size_t i = 0; i < sizeof pool_shapes / sizeof *pool_shapes; i++) {
    const struct pool_shape *s = &pool_shapes[i];
    size_t nin = (size_t)s->n * s->h * s->w * s->c;
    size_t nout = (size_t)s->n * (s->h / s->p) * (s->w / s->p) * s->c;
    for (int ties = 0; ties < 2; ties++) {
      float *x = rnd_buf(nin);
      /* few distinct values: many ties, where the first max must win */
      if (ties)
        for (size_t j = 0; j < nin; j++) x[j] = (float)(rnd_u32() % 3);
      /* NaN: never a max after the first cell, kept when first */
      if (nin > 5) x[3] = NAN, x[nin / 2] = NAN;
      float *of = rnd_buf(nout), *orf = rnd_buf(nout);
      float *af = rnd_buf(nout), *ar = rnd_buf(nout);
      dg_maxpool(&kx, x, s->n, s->h, s->w, s->c, s->p, of, af);
      dg_maxpool_ref(x, s->n, s->h, s->w, s->c, s->p, orf, ar);
      CHECK_MSG(memcmp(of, orf, nout * sizeof(float)) == 0 &&
                    memcmp(af, ar, nout * sizeof(float)) == 0,
                "shape %zu ties %d", i, ties);
      for (int relu = 0; relu < 2; relu++) {
        /* din is overwritten, cells outside every window included */
        float *g = rnd_buf(nout), *df = rnd_buf(nin + 1), *dr = rnd_buf(nin + 1);
        for (size_t j = 0; j < nin; j++) df[j] = NAN;
        const float *m = relu ? orf : NULL;
        dg_maxpool_backward(&kx, g, m, af, s->n, s->h, s->w, s->c, s->p, df);
        dg_maxpool_backward_ref(g, m, ar, s->n, s->h, s->w, s->c, s->p, dr);
        CHECK_MSG(memcmp(df, dr, nin * sizeof(float)) == 0,
                  "bwd shape %zu relu %d", i, relu);
        free(g); free(df); free(dr);
      }
      free(x); free(of); free(orf); free(af); free(ar);
    }
  }
  /* a hand-made tie: a 2x2 window of equal values picks its first cell */
  float x[4] = {5, 5, 5, 5}, o, a = -1;
  dg_maxpool(&kx, x, 1, 2, 2, 1, 2, &o, &a);
  CHECK(o == 5 && a == 0);
  float y[4] = {1, 7, 3, 7};
  dg_maxpool(&kx, y, 1, 2, 2, 1, 2, &o, &a);
  CHECK(o == 7 && a == 1);
}

/* bn + ReLU + pool in one pass equals scale_shift then maxpool: exactly
 * on values whose arithmetic is exact (small integers, halves), ties
 * included; within rounding on random values. */
static void test_scale_shift_maxpool(void) {
  for (size_t i = 0; i < sizeof pool_shapes / sizeof *pool_shapes; i++) {
    const struct pool_shape *s = &pool_shapes[i];
    size_t nin = (size_t)s->n * s->h * s->w * s->c;
    size_t nout = (size_t)s->n * (s->h / s->p) * (s->w / s->p) * s->c;
    for (int exact = 0; exact < 2; exact++) {
      float *x = rnd_buf(nin), *sc = rnd_buf(s->c), *sh = rnd_buf(s->c);
      if (exact) {
        for (size_t j = 0; j < nin; j++) x[j] = (float)((int)(rnd_u32() % 7) - 3);
        for (int j = 0; j < s->c; j++) sc[j] = 0.5f * (float)(j % 3 + 1), sh[j] = (float)(j % 2);
      }
      for (int relu = 0; relu < 2; relu++) {
        float *y = rnd_buf(nin), *of = rnd_buf(nout), *af = rnd_buf(nout);
        float *orf = rnd_buf(nout), *ar = rnd_buf(nout);
        float *xf = rnd_buf(nout), *xr = rnd_buf(nout);
        dg_scale_shift_maxpool(&kx, x, s->n, s->h, s->w, s->c, sc, sh, relu, s->p,
                               of, af, xf);
        dg_scale_shift_maxpool_ref(x, s->n, s->h, s->w, s->c, sc, sh, relu,
                                   s->p, orf, ar, xr);
        dg_scale_shift_ref(x, nin / s->c, s->c, sc, sh, relu, y);
        float *o2 = rnd_buf(nout), *a2 = rnd_buf(nout);
        dg_maxpool_ref(y, s->n, s->h, s->w, s->c, s->p, o2, a2);
        CHECK_MSG(all_near(of, orf, nout, 1e-6f) && all_near(of, o2, nout, 1e-6f),
                  "shape %zu exact %d relu %d", i, exact, relu);
        if (exact)
          CHECK_MSG(!memcmp(af, ar, nout * sizeof(float)) &&
                        !memcmp(af, a2, nout * sizeof(float)) &&
                        !memcmp(xf, xr, nout * sizeof(float)),
                    "arg shape %zu relu %d", i, relu);
        free(y); free(of); free(af); free(orf); free(ar); free(o2); free(a2);
        free(xf); free(xr);
      }
      free(x); free(sc); free(sh);
    }
  }
}

/* maxpool + bn backward in one: against its reference, and against the
 * two steps it replaces (dg_maxpool_backward with the ReLU mask, then
 * dg_bn_grad). */
static void test_maxpool_bn_grad(void) {
  for (size_t i = 0; i < sizeof pool_shapes / sizeof *pool_shapes; i++) {
    const struct pool_shape *s = &pool_shapes[i];
    size_t nin = (size_t)s->n * s->h * s->w * s->c;
    size_t nout = (size_t)s->n * (s->h / s->p) * (s->w / s->p) * s->c;
    size_t rows = nin / s->c;
    float *x = rnd_buf(nin), *pool = rnd_buf(nout), *xk = rnd_buf(nout),
          *arg = rnd_buf(nout), *g = rnd_buf(nout), *dyf = rnd_buf(nin);
    float *mean = rnd_buf(s->c), *is = rnd_buf(s->c), *gam = rnd_buf(s->c);
    for (int j = 0; j < s->c; j++) is[j] = 1.5f + 0.1f * j;
    /* the forward as training runs it (the ReLU leaves some zeros) */
    dg_scale_shift_maxpool_ref(x, s->n, s->h, s->w, s->c, is, mean, 1, s->p,
                               pool, arg, xk);
    float *work = malloc((dg_maxpool_bn_work(s->n, s->h, s->w, s->c, s->p) +
                          dg_bn_work(rows, s->c) + 1) * sizeof(float));
    float *dgf = rnd_buf(s->c), *dbf = rnd_buf(s->c), *dgr = rnd_buf(s->c),
          *dbr = rnd_buf(s->c), *dg2 = rnd_buf(s->c), *db2 = rnd_buf(s->c);
    float *dxf = rnd_buf(nin), *dxr = rnd_buf(nin), *dx2 = rnd_buf(nin);
    dg_maxpool_bn_grad(&kx, g, pool, arg, xk, x, s->n, s->h, s->w, s->c, s->p, mean,
                       is, gam, dgf, dbf, dxf, work);
    dg_maxpool_bn_grad_ref(g, pool, arg, x, s->n, s->h, s->w, s->c, s->p, mean,
                           is, gam, dgr, dbr, dxr);
    dg_maxpool_backward_ref(g, pool, arg, s->n, s->h, s->w, s->c, s->p, dyf);
    dg_bn_grad_ref(x, dyf, NULL, rows, s->c, mean, is, gam, dg2, db2, dx2);
    float tol = 2e-6f * (float)(rows + 2);
    CHECK_MSG(all_near(dgf, dgr, s->c, tol) && all_near(dbf, dbr, s->c, tol) &&
                  all_near(dgf, dg2, s->c, tol) && all_near(dbf, db2, s->c, tol),
              "sums shape %zu", i);
    CHECK_MSG(all_near(dxf, dxr, nin, 1e-4f) && all_near(dxf, dx2, nin, 1e-4f),
              "dx shape %zu", i);
    dg_maxpool_bn_grad(&kx, g, pool, arg, xk, x, s->n, s->h, s->w, s->c, s->p, mean,
                       is, gam, dgf, dbf, NULL, work);
    CHECK(all_near(dgf, dgr, s->c, tol));
    free(x); free(xk); free(pool); free(arg); free(g); free(dyf); free(mean);
    free(is); free(gam); free(work); free(dgf); free(dbf); free(dgr);
    free(dbr); free(dg2); free(db2); free(dxf); free(dxr); free(dx2);
  }
}

static void test_avgpool(void) {
  for (size_t i = 0; i < sizeof pool_shapes / sizeof *pool_shapes; i++) {
    const struct pool_shape *s = &pool_shapes[i];
    size_t nin = (size_t)s->n * s->h * s->w * s->c;
    size_t nout = (size_t)s->n * (s->h / s->p) * (s->w / s->p) * s->c;
    float *x = rnd_buf(nin), *of = rnd_buf(nout), *orf = rnd_buf(nout);
    dg_avgpool(&kx, x, s->n, s->h, s->w, s->c, s->p, of);
    dg_avgpool_ref(x, s->n, s->h, s->w, s->c, s->p, orf);
    CHECK_MSG(all_near(of, orf, nout, 1e-6f), "shape %zu", i);
    /* backward overwrites all of din, including cells outside every window */
    float *g = rnd_buf(nout), *df = rnd_buf(nin), *dr = rnd_buf(nin);
    for (size_t j = 0; j < nin; j++) df[j] = NAN;
    dg_avgpool_backward(&kx, g, s->n, s->h, s->w, s->c, s->p, df);
    dg_avgpool_backward_ref(g, s->n, s->h, s->w, s->c, s->p, dr);
    CHECK_MSG(all_near(df, dr, nin, 1e-6f), "bwd shape %zu", i);
    free(x); free(of); free(orf); free(g); free(df); free(dr);
  }
}

/* ---- bias and ReLU --------------------------------------------------------------- */

static void test_bias(void) {
  static const int cs[] = {1, 3, 10, 16, 33, 130};
  static const size_t rows[] = {1, 7, 64, 1000};
  for (size_t ci = 0; ci < sizeof cs / sizeof *cs; ci++)
    for (size_t ri = 0; ri < sizeof rows / sizeof *rows; ri++) {
      int c = cs[ci];
      size_t r = rows[ri], n = r * c;
      float *y = rnd_buf(n), *b = rnd_buf(c);
      float *yf = copy_buf(y, n), *yr = copy_buf(y, n);
      dg_bias_add(&kx, yf, b, r, c);
      dg_bias_add_ref(yr, b, r, c);
      CHECK_MSG(memcmp(yf, yr, n * sizeof(float)) == 0, "add c=%d rows=%zu", c,
                r);
      float *gf = rnd_buf(c), *gr = rnd_buf(c);
      dg_bias_grad(&kx, y, r, c, gf);
      dg_bias_grad_ref(y, r, c, gr);
      CHECK_MSG(all_near(gf, gr, c, 1e-6f * (float)(r + 2)),
                "grad c=%d rows=%zu", c, r);
      free(y); free(b); free(yf); free(yr); free(gf); free(gr);
    }
}

static void test_relu(void) {
  static const size_t ns[] = {1, 3, 15, 16, 17, 100, 1001};
  for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
    size_t n = ns[i];
    float *x = rnd_buf(n);
    x[0] = NAN;
    if (n > 1) x[1] = -0.0f;
    if (n > 2) x[n - 1] = NAN;
    float *yf = rnd_buf(n), *yr = rnd_buf(n);
    dg_relu(&kx, x, yf, n);
    dg_relu_ref(x, yr, n);
    CHECK_MSG(memcmp(yf, yr, n * sizeof(float)) == 0, "relu n=%zu", n);
    /* in place */
    float *xi = copy_buf(x, n);
    dg_relu(&kx, xi, xi, n);
    CHECK_MSG(memcmp(xi, yr, n * sizeof(float)) == 0, "relu in place n=%zu", n);

    float *dy = rnd_buf(n);
    dy[n - 1] = NAN; /* a NaN gradient where y <= 0 must not leak */
    float *df = rnd_buf(n), *dr = rnd_buf(n);
    dg_relu_backward(&kx, yr, dy, df, n);
    dg_relu_backward_ref(yr, dy, dr, n);
    CHECK_MSG(memcmp(df, dr, n * sizeof(float)) == 0, "relu bwd n=%zu", n);
    dg_relu_backward(&kx, yr, dy, dy, n);
    CHECK_MSG(memcmp(dy, dr, n * sizeof(float)) == 0, "relu bwd in place n=%zu",
              n);
    free(x); free(yf); free(yr); free(xi); free(dy); free(df); free(dr);
  }
}

/* ---- dropout ---------------------------------------------------------------------- */

static void test_dropout(void) {
  static const size_t ns[] = {1, 2, 17, 4095, 4096, 4097, 30001, 65536, 73729};
  static const float rates[] = {0.25f, 0.5f, 0.9f};
  for (size_t i = 0; i < sizeof ns / sizeof *ns; i++)
    for (size_t ri = 0; ri < sizeof rates / sizeof *rates; ri++) {
      size_t n = ns[i];
      float rate = rates[ri];
      float *x = rnd_buf(n), *yf = rnd_buf(n), *yr = rnd_buf(n);
      float *mf = rnd_buf(n), *mr = rnd_buf(n);
      dg_dropout(&kx, x, yf, mf, n, rate, 12345 + i);
      dg_dropout_ref(x, yr, mr, n, rate, 12345 + i);
      CHECK_MSG(!memcmp(mf, mr, n * sizeof(float)) &&
                    !memcmp(yf, yr, n * sizeof(float)),
                "dropout n=%zu rate=%g", n, rate);
      size_t dropped = 0, odd = 0;
      for (size_t j = 0; j < n; j++) {
        dropped += mf[j] == 0.0f;
        odd += mf[j] != 0.0f && mf[j] != 1.0f / (1.0f - rate);
      }
      CHECK(odd == 0);
      if (n > 4000) /* the rate, within 5 standard deviations */
        CHECK_MSG(fabs((double)dropped / n - rate) <=
                      5 * sqrt(rate * (1 - rate) / n),
                  "n=%zu rate=%g dropped %zu", n, rate, dropped);
      dg_mul(&kx, x, mf, yf, n);
      dg_mul_ref(x, mr, yr, n);
      CHECK(!memcmp(yf, yr, n * sizeof(float)));
      free(x); free(yf); free(yr); free(mf); free(mr);
    }
  /* another seed, another mask; the same seed, the same mask */
  float x[64], m1[64], m2[64], y[64];
  for (int i = 0; i < 64; i++) x[i] = 1;
  dg_dropout(&kx, x, y, m1, 64, 0.5f, 1);
  dg_dropout(&kx, x, y, m2, 64, 0.5f, 2);
  CHECK(memcmp(m1, m2, sizeof m1) != 0);
  dg_dropout(&kx, x, y, m2, 64, 0.5f, 1);
  CHECK(memcmp(m1, m2, sizeof m1) == 0);
}

/* ---- optimizers ------------------------------------------------------------------- */

static void test_optim_kernels(void) {
  static const size_t ns[] = {1, 5, 16, 17, 100, 1001, 70001};
  for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
    size_t n = ns[i];
    float *p = rnd_buf(n), *g = rnd_buf(n), *m = rnd_buf(n), *v = rnd_buf(n);
    for (size_t j = 0; j < n; j++) v[j] = fabsf(v[j]) * 1e-3f;
    float *pf = copy_buf(p, n), *mf = copy_buf(m, n), *vf = copy_buf(v, n);
    float *pr = copy_buf(p, n), *mr = copy_buf(m, n), *vr = copy_buf(v, n);
    for (int step = 0; step < 3; step++) {
      float r1 = 1 / (1 - powf(0.9f, step + 1.0f)), r2 = 1 / (1 - powf(0.999f, step + 1.0f));
      dg_adam(&kx, pf, g, mf, vf, n, 1e-2f, 0.9f, 0.999f, 1e-7f, r1, r2, 1e-3f);
      dg_adam_ref(pr, g, mr, vr, n, 1e-2f, 0.9f, 0.999f, 1e-7f, r1, r2, 1e-3f);
    }
    CHECK_MSG(all_near(pf, pr, n, 1e-6f) && all_near(mf, mr, n, 1e-6f) &&
                  all_near(vf, vr, n, 1e-6f),
              "adam n=%zu", n);
    memcpy(pf, p, n * sizeof(float)), memcpy(pr, p, n * sizeof(float));
    memcpy(mf, m, n * sizeof(float)), memcpy(mr, m, n * sizeof(float));
    for (int step = 0; step < 3; step++) {
      dg_sgd(&kx, pf, g, mf, n, 0.1f, 0.9f, 1e-3f);
      dg_sgd_ref(pr, g, mr, n, 0.1f, 0.9f, 1e-3f);
    }
    CHECK_MSG(all_near(pf, pr, n, 1e-6f) && all_near(mf, mr, n, 1e-6f),
              "sgd n=%zu", n);
    free(p); free(g); free(m); free(v); free(pf); free(mf); free(vf);
    free(pr); free(mr); free(vr);
  }
}

/* Every other threaded kernel: 1 vs 2 threads, memcmp. */
static void test_other_thread_determinism(void) {
  int saved = kx.threads;
  int n = 16, h = 28, w = 28, c = 32, k = 3, pad = 1, f = 48;
  size_t nin = (size_t)n * h * w * c, nout = (size_t)n * h * w * f;
  size_t nw = (size_t)k * k * c * f;
  size_t npool = (size_t)n * (h / 2) * (w / 2) * c;
  float *x = rnd_buf(nin), *col[2], *din[2], *mp[2], *ap[2], *bd[2], *bg[2],
        *rl[2], *dw[2], *bn[2], *dr[2], *pb[2];
  float *arg[2];
  float *bias = rnd_buf(f), *wt = rnd_buf(nw), *dy = rnd_buf(nout);
  float *work = malloc(dg_conv2d_work(n, h, w, c, f, k, pad) * sizeof(float));
  for (int t = 0; t < 2; t++) {
    kx_threads(t + 1);
    col[t] = malloc(nout * sizeof(float));
    dg_conv2d(&kx, x, n, h, w, c, wt, bias, f, k, pad, 1, col[t], work);
    dw[t] = malloc((nw + f) * sizeof(float));
    dg_conv2d_grad_w(&kx, x, dy, n, h, w, c, f, k, pad, dw[t], dw[t] + nw, work);
    din[t] = malloc(nin * sizeof(float));
    dg_conv2d_grad_in(&kx, dy, wt, n, h, w, c, f, k, pad, din[t], work);
    mp[t] = malloc(npool * sizeof(float));
    arg[t] = malloc(npool * sizeof(float));
    dg_maxpool(&kx, x, n, h, w, c, 2, mp[t], arg[t]);
    ap[t] = malloc(npool * sizeof(float));
    dg_avgpool(&kx, x, n, h, w, c, 2, ap[t]);
    bd[t] = malloc(nin * sizeof(float));
    dg_avgpool_backward(&kx, ap[t], n, h, w, c, 2, bd[t]);
    bg[t] = malloc((size_t)c * sizeof(float));
    dg_bias_grad(&kx, x, nin / c, c, bg[t]);
    bn[t] = malloc((2 * nin + 4 * c) * sizeof(float));
    float *bw = malloc(dg_bn_work(nin / c, c) * sizeof(float));
    float *st = bn[t] + 2 * nin;
    dg_bn_stats(&kx, x, nin / c, c, st, st + c, bw);
    for (int j = 0; j < c; j++) st[c + j] = 1.0f / sqrtf(st[c + j] + 1e-3f);
    dg_scale_shift(&kx, x, nin / c, c, st, bias, 1, bn[t]);
    dg_bn_grad(&kx, x, x, bn[t], nin / c, c, st, st + c, bias, st + 2 * c,
               st + 3 * c, bn[t] + nin, bw);
    free(bw);
    /* bn + relu + pool, forward and backward in one */
    pb[t] = malloc((3 * npool + nin + 2 * c) * sizeof(float));
    float *pw = malloc(dg_maxpool_bn_work(n, h, w, c, 2) * sizeof(float));
    float *po = pb[t], *pa = po + npool, *pk = pa + npool, *pd = pk + npool;
    dg_scale_shift_maxpool(&kx, x, n, h, w, c, st, bias, 1, 2, po, pa, pk);
    dg_maxpool_bn_grad(&kx, x, po, pa, pk, x, n, h, w, c, 2, st, st + c, bias,
                       pd + nin, pd + nin + c, pd, pw);
    free(pw);
    dr[t] = malloc(2 * nin * sizeof(float));
    dg_dropout(&kx, x, dr[t], dr[t] + nin, nin, 0.3f, 99);
    rl[t] = copy_buf(x, nin);
    dg_bias_add(&kx, rl[t], bias, nin / c, c);
    dg_relu(&kx, rl[t], rl[t], nin);
    dg_relu_backward(&kx, rl[t], x, rl[t], nin);
  }
  CHECK(memcmp(col[0], col[1], nout * sizeof(float)) == 0);
  CHECK(memcmp(dw[0], dw[1], (nw + f) * sizeof(float)) == 0);
  CHECK(memcmp(bn[0], bn[1], (2 * nin + 4 * c) * sizeof(float)) == 0);
  CHECK(memcmp(dr[0], dr[1], 2 * nin * sizeof(float)) == 0);
  CHECK(memcmp(pb[0], pb[1], (3 * npool + nin + 2 * c) * sizeof(float)) == 0);
  CHECK(memcmp(din[0], din[1], nin * sizeof(float)) == 0);
  CHECK(memcmp(mp[0], mp[1], npool * sizeof(float)) == 0);
  CHECK(memcmp(arg[0], arg[1], npool * sizeof(float)) == 0);
  CHECK(memcmp(ap[0], ap[1], npool * sizeof(float)) == 0);
  CHECK(memcmp(bd[0], bd[1], nin * sizeof(float)) == 0);
  CHECK(memcmp(bg[0], bg[1], (size_t)c * sizeof(float)) == 0);
  CHECK(memcmp(rl[0], rl[1], nin * sizeof(float)) == 0);
  for (int t = 0; t < 2; t++) {
    free(col[t]); free(dw[t]); free(bn[t]); free(dr[t]); free(pb[t]); free(din[t]); free(mp[t]); free(arg[t]); free(ap[t]);
    free(bd[t]); free(bg[t]); free(rl[t]);
  }
  free(x); free(bias); free(wt); free(dy); free(work);
  kx_threads(saved);
}

static void test_simd_name(void) {
  const char *name = dg_kernels_simd();
  CHECK(name && *name);
#ifdef DG_FORCE_SCALAR
  CHECK(strcmp(name, "scalar") == 0);
#endif
  fprintf(stderr, "simd path: %s, threads available: %d\n", name,
          kx.threads);
  kx_threads(0); /* clamped to 1 */
  CHECK(kx.threads == 1);
}

/* ---- bench ------------------------------------------------------------------------ */

static double now_s(void) {
  struct timespec ts;
  timespec_get(&ts, TIME_UTC);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef void (*gemm_fn)(int, int, int, int, int, float, const float *, int,
                        const float *, int, float, float *, int);

/* GFLOP/s of fn on one shape: the best of several timed windows, since
 * the machine may be shared and the best window is the least disturbed. */
/* dg_gemm with the tests' settings, shaped like dg_gemm_ref */
static void gemm_kx(int ta, int tb, int M, int N, int K, float alpha,
                    const float *A, int lda, const float *B, int ldb,
                    float beta, float *C, int ldc) {
  dg_gemm(&kx, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

static double bench_one(gemm_fn fn, int ta, int tb, int M, int N, int K,
                        const float *A, const float *B, float *C,
                        double min_s) {
  int lda = ta ? M : K, ldb = tb ? K : N;
  fn(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N); /* warm up */
  double best = 0, start = now_s();
  do {
    int reps = 0;
    double t0 = now_s(), t;
    do {
      fn(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
      reps++;
      t = now_s() - t0;
    } while (t < min_s / 10);
    double rate = 2.0 * M * N * K * reps / t * 1e-9;
    if (rate > best) best = rate;
  } while (now_s() - start < min_s);
  return best;
}

static int bench(void) {
  static const struct { int ta, tb, M, N, K; const char *what; } shapes[] = {
      {0, 0, 1024, 256, 800, "square-ish"},
      {0, 0, 4096, 128, 784, "dense fwd, batch 4096"},
      {0, 0, 64, 128, 784, "dense fwd, batch 64"},
      {1, 0, 784, 128, 64, "dense dW, batch 64"},
      {0, 1, 64, 784, 128, "dense dX, batch 64"},
      {0, 0, 12544, 32, 9, "conv1 fwd, 16 images"},
      {1, 0, 9, 32, 12544, "conv1 dW, 16 images"},
      {0, 0, 12544, 64, 288, "conv2 fwd, 16 images"},
      {1, 0, 288, 64, 12544, "conv2 dW, 16 images"},
      {0, 1, 12544, 288, 64, "conv2 dcol, 16 images"},
      {0, 0, 784, 32, 9, "conv1 fwd, 1 image"},
      {0, 0, 1, 128, 784, "dense fwd, batch 1"},
      {0, 1, 1, 128, 784, "dense fwd, batch 1, W^T"},
  };
  int saved = kx.threads;
  printf("simd path: %s\n", dg_kernels_simd());
  printf("%-26s %-3s %6s %5s %6s %9s %9s %9s\n", "shape", "op", "M", "N", "K",
         "ref", "fast 1t", "fast 2t");
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
    int M = shapes[s].M, N = shapes[s].N, K = shapes[s].K;
    int ta = shapes[s].ta, tb = shapes[s].tb;
    float *A = rnd_buf((size_t)M * K), *B = rnd_buf((size_t)K * N);
    float *C = rnd_buf((size_t)M * N);
    double ref = bench_one(dg_gemm_ref, ta, tb, M, N, K, A, B, C, 0.2);
    kx_threads(1);
    double f1 = bench_one(gemm_kx, ta, tb, M, N, K, A, B, C, 0.5);
    kx_threads(2);
    double f2 = bench_one(gemm_kx, ta, tb, M, N, K, A, B, C, 0.5);
    printf("%-26s %c%c  %6d %5d %6d %9.2f %9.2f %9.2f\n", shapes[s].what,
           ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, ref, f1, f2);
    free(A); free(B); free(C);
  }
  printf("(GFLOP/s; ref is dg_gemm_ref, single-threaded)\n");
  kx_threads(saved);
  return 0;
}

int main(int argc, char **argv) {
  kx = dg_exec_default();
  if (argc > 1 && strcmp(argv[1], "bench") == 0) return bench();
  RUN(test_simd_name);
  RUN(test_gemm_degenerate);
  RUN(test_gemm_odd_shapes);
  RUN(test_gemm_large_shapes);
  RUN(test_gemm_thread_determinism);
  RUN(test_conv2d);
  RUN(test_conv2d_adjoint);
  RUN(test_conv2d_winograd);
  RUN(test_bn);
  RUN(test_maxpool);
  RUN(test_scale_shift_maxpool);
  RUN(test_maxpool_bn_grad);
  RUN(test_avgpool);
  RUN(test_bias);
  RUN(test_relu);
  RUN(test_dropout);
  RUN(test_optim_kernels);
  RUN(test_other_thread_determinism);
  return dg_test_finish();
}
