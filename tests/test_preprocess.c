/* test_preprocess.c: golden tests of dg_preprocess. MNIST test digits fed
 * back in come out almost unchanged; the same digits drawn larger, shifted,
 * inverted, as RGBA canvases and as RGB map back to the same 28x28 input;
 * blank and absurd images are rejected; and one small golden output in
 * tests/data (preprocess_golden.txt, made from preprocess_input.pgm) pins
 * the exact numbers for native and WASM builds alike.
 *
 * Tolerances (mean absolute difference over 784 pixels, values 0..1):
 *   MNIST digit itself          < 0.02 on average; per digit < 0.02 after
 *                               aligning by at most 1 px (about 2% of
 *                               MNIST's own digits sit half a pixel off
 *                               centre and move by one pixel), and at
 *                               least 90% come out the same (< 0.005;
 *                               faint pixels below INK_NOISE become 0)
 *   inverted / RGBA / RGB       < 1e-6 (the same ink after luminance)
 *   shifted on a larger canvas  < 1e-6
 *   10x nearest upscale         < 0.03 on average (area averaging of blocks)
 *   3x bilinear upscale         < 0.06 on average
 *
 * The number reader's context channel (dg_preprocess_map_context): the
 * map itself as context gives the digit's own input (< 1e-5, shrinking and
 * enlarging); a neighbour's bar outside the digit's box lands where the
 * digit's scale and placement put it, in the context only; and the
 * context never passes 1 nor reaches past the field.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "harness.h"
#include "preprocess/ink.h"

#define NDIG 200

static uint8_t *g_img;  /* (n, 28, 28) MNIST test images, or NULL */
static int g_n;

static void load_mnist(void) {
  const char *dir = dg_test_mnist();
  if (!dir) return;
  char p[1100];
  snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", dir);
  int h, w;
  if (dg_idx_read(p, 3, &g_img, &g_n, &h, &w) != DG_OK) {
    fprintf(stderr, "cannot read %s: %s\n", p, dg_last_error());
    g_img = NULL;
  }
  if (g_n > NDIG) g_n = NDIG;
}

static double mad(const float *a, const float *b) {
  double s = 0;
  for (int i = 0; i < 784; i++) s += fabs((double)a[i] - b[i]);
  return s / 784;
}

static void com(const float *a, double *cx, double *cy) {
  double m = 0, mx = 0, my = 0;
  for (int y = 0; y < 28; y++)
    for (int x = 0; x < 28; x++) {
      m += a[y * 28 + x];
      mx += a[y * 28 + x] * x;
      my += a[y * 28 + x] * y;
    }
  *cx = m > 0 ? mx / m : -1;
  *cy = m > 0 ? my / m : -1;
}

static void bbox(const float *a, float thr, int *bw, int *bh) {
  int x0 = 28, x1 = -1, y0 = 28, y1 = -1;
  for (int y = 0; y < 28; y++)
    for (int x = 0; x < 28; x++)
      if (a[y * 28 + x] > thr) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  *bw = x1 - x0 + 1;
  *bh = y1 - y0 + 1;
}

/* mean abs diff after the best whole-pixel shift of b by at most 1 px */
static double mad_aligned(const float *a, const float *b) {
  double best = 1e9;
  for (int dy = -1; dy <= 1; dy++)
    for (int dx = -1; dx <= 1; dx++) {
      double s = 0;
      for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
          int sx = x + dx, sy = y + dy;
          float v = sx < 0 || sy < 0 || sx > 27 || sy > 27 ? 0 : b[sy * 28 + sx];
          s += fabs((double)a[y * 28 + x] - v);
        }
      if (s / 784 < best) best = s / 784;
    }
  return best;
}

static int argmax(const float *a) {
  int k = 0;
  for (int i = 1; i < 784; i++)
    if (a[i] > a[k]) k = i;
  return k;
}

/* MNIST digits go through almost unchanged; centre of mass and box hold. */
static void test_mnist_identity(void) {
  if (!g_img) {
    fprintf(stderr, "DIGITS_DATA not set: skipping\n");
    return;
  }
  double sum = 0, worst = 0;
  int com_bad = 0, box_bad = 0, argmax_far = 0, same = 0;
  for (int i = 0; i < g_n; i++) {
    const uint8_t *im = g_img + (size_t)i * 784;
    float orig[784], out[784];
    for (int k = 0; k < 784; k++) orig[k] = im[k] / 255.0f;
    CHECK_OK(dg_preprocess(im, 28, 28, 1, out));
    double d = mad(orig, out), da = mad_aligned(orig, out);
    sum += d;
    if (da > worst) worst = da;
    if (d < 0.005) same++;
    double cx, cy;
    com(out, &cx, &cy);
    if (fabs(cx - 14) > 0.5 || fabs(cy - 14) > 0.5) com_bad++;
    int bw, bh;
    bbox(out, 0, &bw, &bh);
    if (bw > 20 || bh > 20) box_bad++;
    int a = argmax(orig), b = argmax(out);
    if (abs(a % 28 - b % 28) > 2 || abs(a / 28 - b / 28) > 2) argmax_far++;
  }
  fprintf(stderr, "  MNIST identity: mean abs diff %.4f avg, %.4f worst "
          "aligned, %d of %d the same\n", sum / g_n, worst, same, g_n);
  CHECK_MSG(sum / g_n < 0.02, "average %.4f", sum / g_n);
  CHECK_MSG(worst < 0.02, "worst %.4f", worst);
  CHECK_MSG(same >= g_n * 9 / 10, "%d identical", same);
  CHECK_MSG(com_bad == 0, "%d digits with the centre of mass > 0.5 px off",
            com_bad);
  CHECK_MSG(box_bad == 0, "%d digits with ink wider than 20 px", box_bad);
  CHECK_MSG(argmax_far <= g_n / 20, "%d digits moved their peak", argmax_far);
}

/* The same digit in other clothes maps back to (nearly) the same input. */
static void test_variants(void) {
  if (!g_img) return;
  double sum_up = 0, sum_bl = 0, worst_exact = 0;
  int n = g_n < 50 ? g_n : 50;
  uint8_t *big = malloc(280 * 280 * 4);
  for (int i = 0; i < n; i++) {
    const uint8_t *im = g_img + (size_t)i * 784;
    float ref[784], out[784];
    CHECK_OK(dg_preprocess(im, 28, 28, 1, ref));

    /* inverted polarity: black ink on white */
    uint8_t inv[784];
    for (int k = 0; k < 784; k++) inv[k] = 255 - im[k];
    CHECK_OK(dg_preprocess(inv, 28, 28, 1, out));
    double d = mad(ref, out);
    worst_exact = d > worst_exact ? d : worst_exact;

    /* RGBA canvas: transparent background, black strokes with alpha */
    for (int k = 0; k < 784; k++) {
      big[4 * k] = big[4 * k + 1] = big[4 * k + 2] = 0;
      big[4 * k + 3] = im[k];
    }
    CHECK_OK(dg_preprocess(big, 28, 28, 4, out));
    d = mad(ref, out);
    worst_exact = d > worst_exact ? d : worst_exact;

    /* gray + alpha, white ink drawn opaque on a black opaque background */
    for (int k = 0; k < 784; k++) {
      big[2 * k] = im[k];
      big[2 * k + 1] = 255;
    }
    CHECK_OK(dg_preprocess(big, 28, 28, 2, out));
    d = mad(ref, out);
    worst_exact = d > worst_exact ? d : worst_exact;

    /* RGB: white ink on black */
    for (int k = 0; k < 784; k++)
      big[3 * k] = big[3 * k + 1] = big[3 * k + 2] = im[k];
    CHECK_OK(dg_preprocess(big, 28, 28, 3, out));
    d = mad(ref, out);
    worst_exact = d > worst_exact ? d : worst_exact;

    /* shifted off-centre on a larger, non-square canvas */
    memset(big, 0, 90 * 60);
    for (int y = 0; y < 28; y++)
      for (int x = 0; x < 28; x++) big[(y + 29) * 90 + x + 3] = im[y * 28 + x];
    CHECK_OK(dg_preprocess(big, 90, 60, 1, out));
    d = mad(ref, out);
    worst_exact = d > worst_exact ? d : worst_exact;

    /* drawn larger: 280x280 nearest neighbour, RGBA black on transparent */
    for (int y = 0; y < 280; y++)
      for (int x = 0; x < 280; x++) {
        uint8_t *p = big + 4 * (y * 280 + x);
        p[0] = p[1] = p[2] = 0;
        p[3] = im[(y / 10) * 28 + x / 10];
      }
    CHECK_OK(dg_preprocess(big, 280, 280, 4, out));
    sum_up += mad(ref, out);

    /* 3x bilinear upscale, dark ink on white, gray */
    for (int y = 0; y < 84; y++)
      for (int x = 0; x < 84; x++) {
        double sx = (x + 0.5) / 3 - 0.5, sy = (y + 0.5) / 3 - 0.5;
        int ix = (int)floor(sx), iy = (int)floor(sy);
        double fx = sx - ix, fy = sy - iy, v = 0;
        for (int dy = 0; dy < 2; dy++)
          for (int dx = 0; dx < 2; dx++) {
            int xx = ix + dx, yy = iy + dy;
            if (xx < 0 || yy < 0 || xx > 27 || yy > 27) continue;
            v += im[yy * 28 + xx] * (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy);
          }
        big[y * 84 + x] = (uint8_t)(255 - floor(v + 0.5));
      }
    CHECK_OK(dg_preprocess(big, 84, 84, 1, out));
    sum_bl += mad(ref, out);
  }
  free(big);
  fprintf(stderr, "  variants: exact-ink worst %.2g, 10x nearest %.4f, 3x "
          "bilinear %.4f (mean abs diff)\n", worst_exact, sum_up / n,
          sum_bl / n);
  CHECK_MSG(worst_exact < 1e-6, "worst %.3g", worst_exact);
  CHECK_MSG(sum_up / n < 0.03, "10x nearest %.4f", sum_up / n);
  CHECK_MSG(sum_bl / n < 0.06, "3x bilinear %.4f", sum_bl / n);
}

/* A faint photo-like digit: gray paper with noise and low-contrast ink. */
static void test_faint_noisy(void) {
  if (!g_img) return;
  const uint8_t *im = g_img;  /* a 7 */
  uint8_t pic[56 * 56];
  dg_rng r;
  dg_rng_seed(&r, 5);
  for (int y = 0; y < 56; y++)
    for (int x = 0; x < 56; x++) {
      double ink = im[(y / 2) * 28 + x / 2] / 255.0;
      double v = 170 - 60 * ink + (dg_rng_uniform(&r) - 0.5) * 8;
      pic[y * 56 + x] = (uint8_t)v;
    }
  float ref[784], out[784];
  CHECK_OK(dg_preprocess(im, 28, 28, 1, ref));
  CHECK_OK(dg_preprocess(pic, 56, 56, 1, out));
  double d = mad(ref, out);
  fprintf(stderr, "  faint noisy photo: mean abs diff %.4f\n", d);
  CHECK_MSG(d < 0.06, "%.4f", d);
}

/* A big canvas with a smooth ring downsamples smoothly (area averaging). */
static void test_big_canvas(void) {
  const int n = 1000;
  uint8_t *c = calloc((size_t)n * n, 4);
  for (int y = 0; y < n; y++)
    for (int x = 0; x < n; x++) {
      double r = hypot(x + 0.5 - 500, y + 0.5 - 500);
      if (fabs(r - 300) < 30) c[4 * ((size_t)y * n + x) + 3] = 255;
    }
  float out[784];
  CHECK_OK(dg_preprocess(c, n, n, 4, out));
  free(c);
  double cx, cy;
  com(out, &cx, &cy);
  /* a 20 px box with whole-pixel placement: a tie at 14.5 at worst */
  CHECK_MSG(fabs(cx - 14) <= 0.5 + 1e-6 && fabs(cy - 14) <= 0.5 + 1e-6,
            "centre of mass %.3f %.3f", cx, cy);
  /* 20 px across, symmetric, hollow, with intermediate edge values */
  int bw, bh, mid = 0;
  bbox(out, 0, &bw, &bh);
  CHECK(bw == 20 && bh == 20);
  double asym = 0;
  for (int y = 0; y < 28; y++)
    for (int x = 0; x < 28; x++) {
      float v = out[y * 28 + x];
      asym = fmax(asym, fabs(v - out[x * 28 + y]));
      if (v > 0.1 && v < 0.9) mid++;
    }
  CHECK_MSG(asym < 1e-5, "asymmetry %.3g", asym);
  CHECK(out[14 * 28 + 14] == 0);
  CHECK_MSG(mid >= 20, "%d intermediate pixels", mid);
}

/* Aspect ratio is kept: a tall bar stays tall and thin. */
static void test_aspect(void) {
  uint8_t im[100 * 60];
  memset(im, 255, sizeof im);
  for (int y = 10; y < 90; y++)
    for (int x = 25; x < 35; x++) im[y * 60 + x] = 0;
  float out[784];
  CHECK_OK(dg_preprocess(im, 60, 100, 1, out));
  int bw, bh;
  bbox(out, 0, &bw, &bh);
  CHECK_MSG(bh == 20 && bw <= 4 && bw >= 2, "box %dx%d", bw, bh);
  double cx, cy;
  com(out, &cx, &cy);
  CHECK(fabs(cx - 14) <= 0.5 && fabs(cy - 14) <= 0.5);
}

static void test_rejects(void) {
  uint8_t px[64 * 64 * 4];
  float out[784];
  memset(px, 255, sizeof px);
  CHECK_FAIL(dg_preprocess(px, 64, 64, 1, out), DG_ERR_EMPTY, "no ink");
  memset(px, 0, sizeof px);
  CHECK_FAIL(dg_preprocess(px, 64, 64, 1, out), DG_ERR_EMPTY, "no ink");
  /* fully transparent canvas (any colour) reads as white paper */
  CHECK_FAIL(dg_preprocess(px, 64, 64, 4, out), DG_ERR_EMPTY, "no ink");
  /* tiny noise is not ink */
  for (int i = 0; i < 64 * 64; i++) px[i] = (uint8_t)(200 + i % 5);
  CHECK_FAIL(dg_preprocess(px, 64, 64, 1, out), DG_ERR_EMPTY, "no ink");
  /* 1x1: the border is the whole image, so there is nothing but paper */
  px[0] = 0;
  CHECK_FAIL(dg_preprocess(px, 1, 1, 1, out), DG_ERR_EMPTY, "no ink");
  /* a single dot on 3x3 becomes a centred blob */
  memset(px, 255, 9);
  px[4] = 0;
  CHECK_OK(dg_preprocess(px, 3, 3, 1, out));
  double cx, cy;
  com(out, &cx, &cy);
  CHECK(fabs(cx - 14) <= 0.5 && fabs(cy - 14) <= 0.5);
  /* sizes and channels are checked before reading a pixel */
  CHECK_FAIL(dg_preprocess(px, 0, 10, 1, out), DG_ERR_ARG, "0x10");
  CHECK_FAIL(dg_preprocess(px, 10, -1, 1, out), DG_ERR_ARG, "10x-1");
  CHECK_FAIL(dg_preprocess(px, 20000, 10, 1, out), DG_ERR_ARG, "1..16384");
  CHECK_FAIL(dg_preprocess(px, 16384, 16384, 4, out), DG_ERR_ARG,
             "more than the");
  CHECK_FAIL(dg_preprocess(px, 8, 8, 5, out), DG_ERR_ARG, "5 channels");
  CHECK_FAIL(dg_preprocess(px, 8, 8, 0, out), DG_ERR_ARG, "0 channels");
  CHECK_FAIL(dg_preprocess(NULL, 8, 8, 1, out), DG_ERR_ARG, "null");
  CHECK_FAIL(dg_preprocess(px, 8, 8, 1, NULL), DG_ERR_ARG, "null");
}

/* Read a binary PGM (P5, maxval 255) fixture. */
static uint8_t *read_pgm(const char *path, int *w, int *h) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  int maxv = 0;
  uint8_t *px = NULL;
  if (fscanf(f, "P5 %d %d %d", w, h, &maxv) == 3 && maxv == 255 &&
      fgetc(f) != EOF && *w > 0 && *h > 0 && *w <= 4096 && *h <= 4096) {
    px = malloc((size_t)*w * *h);
    if (px && fread(px, 1, (size_t)*w * *h, f) != (size_t)*w * *h) {
      free(px);
      px = NULL;
    }
  }
  fclose(f);
  return px;
}

/* The golden fixture: preprocess_input.pgm (a handwritten-style 4 drawn
 * dark-on-light at 64x48) -> preprocess_golden.txt (784 numbers, 3
 * decimals). Set DIGITS_REGEN_GOLDEN=1 to rewrite the golden file after an
 * intended change. */
static void test_golden(void) {
  int w = 0, h = 0;
  uint8_t *px = read_pgm(dg_test_path("DIGITS_TESTDATA",
                                      "preprocess_input.pgm"), &w, &h);
  CHECK_MSG(px != NULL, "cannot read %s",
            dg_test_path("DIGITS_TESTDATA", "preprocess_input.pgm"));
  if (!px) return;
  float out[784];
  CHECK_OK(dg_preprocess(px, w, h, 1, out));
  free(px);
  const char *gpath = dg_test_path("DIGITS_TESTDATA", "preprocess_golden.txt");
  const char *regen = getenv("DIGITS_REGEN_GOLDEN");
  if (regen && *regen == '1') {
    FILE *f = fopen(gpath, "w");
    CHECK(f != NULL);
    if (!f) return;
    for (int y = 0; y < 28; y++)
      for (int x = 0; x < 28; x++)
        fprintf(f, "%.3f%c", out[y * 28 + x], x == 27 ? '\n' : ' ');
    fclose(f);
    fprintf(stderr, "  wrote %s\n", gpath);
    return;
  }
  FILE *f = fopen(gpath, "r");
  CHECK_MSG(f != NULL, "cannot read %s", gpath);
  if (!f) return;
  int bad = 0, got = 0;
  double worst = 0;
  for (int i = 0; i < 784; i++) {
    double g;
    if (fscanf(f, "%lf", &g) != 1) break;
    got++;
    double d = fabs(g - out[i]);
    if (d > worst) worst = d;
    if (d > 0.002) bad++;
  }
  fclose(f);
  CHECK_MSG(got == 784, "golden file has %d numbers", got);
  CHECK_MSG(bad == 0, "%d pixels differ by more than 0.002 (worst %.4f)", bad,
            worst);
}

/* A (h, w) map: a digit-like ring in box (x, y, d, d), and with bar a
 * vertical bar 3 px wide at column bx, rows y..y+d, of ink 0.8. */
static float *ring_map(int w, int h, int x, int y, int d, int bar, int bx) {
  float *m = calloc((size_t)w * h, sizeof(float));
  const double c = (d - 1) / 2.0, r = d / 2.0 - 1;
  for (int v = 0; v < d; v++)
    for (int u = 0; u < d; u++) {
      const double e = fabs(hypot(u - c, v - c) - (r - 1));
      if (e < 1.5) m[(size_t)(y + v) * w + x + u] = e < 0.8 ? 1.0f : 0.5f;
    }
  for (int v = y; bar && v < y + d; v++)
    for (int u = bx; u < bx + 3; u++) m[(size_t)v * w + u] = 0.8f;
  return m;
}

static void test_context(void) {
  for (int d = 8; d <= 80; d += 72) {  /* enlarged (8 px), shrunk (80) */
    const int w = 3 * d, h = d + 10, x = d / 2, y = 5;
    float *m = ring_map(w, h, x, y, d, 1, x + d + d / 4);
    float *alone = ring_map(w, h, x, y, d, 0, 0);
    const int box[4] = {x, y, d, d};
    float in[784], ctx[784], in2[784], self[784];
    /* the piece alone, with itself as context: the same input twice */
    const dg_ink_context own = {alone, w, h, 0, 0};
    CHECK_OK(dg_preprocess_map_context(alone, w, h, box, &own, in, self));
    CHECK_OK(dg_preprocess_map(alone, w, h, box, in2));
    double diff = 0;
    for (int i = 0; i < 784; i++) {
      diff = fmax(diff, fabs(in[i] - in2[i]));
      diff = fmax(diff, fabs(in[i] - self[i]));
    }
    CHECK_MSG(diff < 1e-5, "d %d: the map as its own context differs by %g", d, diff);
    /* the bar beside it: in the context, right of the ring, not in the input */
    const dg_ink_context around = {m, w, h, 0, 0};
    CHECK_OK(dg_preprocess_map_context(alone, w, h, box, &around, in, ctx));
    double over = 0, extra = 0;
    for (int i = 0; i < 784; i++) over = fmax(over, ctx[i]), extra = fmax(extra, fabs(ctx[i] - self[i]));
    CHECK_MSG(over <= 1.0, "d %d: context above 1 (%g)", d, over);
    /* the ring spans columns 4-23 of the field; the bar starts a quarter
     * of its width right of it, at column 29: out of the field */
    CHECK_MSG(extra < 1e-5, "d %d: the far bar in the field (%g)", d, extra);
    const int bx2 = x + d + d / 8;  /* closer: a sure sight of it */
    float *m2 = ring_map(w, h, x, y, d, 1, bx2);
    const dg_ink_context near = {m2, w, h, 0, 0};
    CHECK_OK(dg_preprocess_map_context(alone, w, h, box, &near, in, ctx));
    /* an eighth of the ring's width right of it: from column 26.5 */
    double seen = 0, elsewhere = 0;
    for (int Y = 0; Y < 28; Y++)
      for (int X = 0; X < 28; X++) {
        const double e = ctx[Y * 28 + X] - self[Y * 28 + X];
        if (X >= 26) seen += e;
        else elsewhere = fmax(elsewhere, fabs(e));
      }
    CHECK_MSG(seen > 5, "d %d: the close bar's ink in the context %g", d, seen);
    CHECK_MSG(elsewhere < 1e-5, "d %d: the bar left of column 26 (%g)", d, elsewhere);
    for (int i = 0; i < 784; i++)
      CHECK_MSG(in[i] == in2[i], "d %d: the digit's own input changed at %d", d, i);
    free(m), free(m2), free(alone);
  }
  float z[4] = {0};
  const int box[4] = {0, 0, 2, 2};
  float a[784], b[784];
  CHECK_FAIL(dg_preprocess_map_context(z, 2, 2, box, NULL, a, b), DG_ERR_ARG, "context");
}

int main(void) {
  load_mnist();
  RUN(test_mnist_identity);
  RUN(test_variants);
  RUN(test_faint_noisy);
  RUN(test_big_canvas);
  RUN(test_aspect);
  RUN(test_rejects);
  RUN(test_golden);
  RUN(test_context);
  free(g_img);
  return dg_test_finish();
}
