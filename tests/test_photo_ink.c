/* test_photo_ink.c: what preprocessing removes from photos, condition by
 * condition. Each case renders photos of a digit with tests/photos
 * (photo_render) and the same digit drawn cleanly on white paper, in the
 * same pose (photo_render_clean); both go through dg_preprocess_ex. The
 * clean drawing's 28x28 input is the golden output the photo must come
 * close to, and dg_preprocess_info must say what was taken away:
 *
 *   shading (gradient, vignette, shadow), texture and noise, coloured
 *   paper and ink: a photo path (paper illumination divided out), nothing
 *   read as ink but the digit: the same input within the tolerance;
 *   ruled, squared paper, a margin line as printed (lighter than the
 *   ink): below the adaptive threshold, gone without a trace;
 *   the same lines as dark as the ink (drawn over the clean drawing here):
 *   erased as lines (ruled at least 3, squared at least 8), the strokes
 *   that cross them kept;
 *   a box drawn around the digit: three or four sides erased;
 *   specks and the page's edge: components dropped;
 *   every case: the box read overlaps the digit's own box (IoU >= 0.5).
 *
 * Tolerances (mean absolute difference over the 784 inputs, 0..1): the
 * median over a condition's images below 0.05 and every image below 0.12
 * (photos are blurred and noisy where the clean drawing is not; a wrong
 * crop, a kept line or a lost stroke is 0.15 and more).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "harness.h"
#include "photo_lib.h"

#define PER 6  /* images per condition */

static photo_set *g_set;

static double mad(const float *a, const float *b) {
  double s = 0;
  for (int i = 0; i < 784; i++) s += fabs((double)a[i] - b[i]);
  return s / 784;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* What a condition must show: a minimum of lines erased and of
 * components dropped in every image (or in some, with `any`). */
typedef struct {
  const char *cond;
  int min_lines, min_dropped, any;
} expect;

static void check_condition(const expect *e) {
  int c = photo_cond_find(e->cond);
  CHECK_MSG(c >= 0, "no condition %s", e->cond);
  if (c < 0) return;
  double d[PER];
  int n = 0, shown = 0, photo = 0;
  for (int k = 0; k < PER; k++) {
    uint8_t *rgb = NULL, *ref = NULL;
    photo_info a, b;
    if (photo_render(g_set, c, k, PHOTO_SEED, &rgb, &a) ||
        photo_render_clean(g_set, c, k, PHOTO_SEED, &ref, &b)) {
      CHECK_MSG(0, "%s %d: %s", e->cond, k, dg_last_error());
      free(rgb);
      free(ref);
      continue;
    }
    float x[784], y[784];
    dg_preprocess_info pi, ci;
    int st = dg_preprocess_ex(rgb, a.w, a.h, 3, x, &pi);
    int sc = dg_preprocess_ex(ref, b.w, b.h, 3, y, &ci);
    CHECK_MSG(st == DG_OK, "%s %d: %s", e->cond, k, dg_last_error());
    CHECK_MSG(sc == DG_OK, "%s %d (clean): %s", e->cond, k, dg_last_error());
    if (st == DG_OK && sc == DG_OK) {
      d[n++] = mad(x, y);
      CHECK_MSG(d[n - 1] < 0.12, "%s %d: input differs from the clean "
                "drawing's by %.3f", e->cond, k, d[n - 1]);
      CHECK_MSG(photo_box_iou(pi.box, a.box) >= 0.5, "%s %d: read [%d %d %d %d], the "
                "digit is at [%d %d %d %d]", e->cond, k, pi.box[0], pi.box[1],
                pi.box[2], pi.box[3], a.box[0], a.box[1], a.box[2], a.box[3]);
      int ok = pi.lines >= e->min_lines && pi.dropped >= e->min_dropped;
      shown += ok;
      if (!e->any)
        CHECK_MSG(ok, "%s %d: %d lines erased, %d components dropped "
                  "(expected >= %d and >= %d)", e->cond, k, pi.lines,
                  pi.dropped, e->min_lines, e->min_dropped);
      photo += pi.photo;
    }
    free(rgb);
    free(ref);
  }
  if (e->any)
    CHECK_MSG(shown > 0, "%s: no image shows %d lines / %d dropped",
              e->cond, e->min_lines, e->min_dropped);
  CHECK_MSG(photo == n, "%s: %d of %d read as flat paper", e->cond, n - photo, n);
  if (n) {
    qsort(d, n, sizeof d[0], cmp_d);
    fprintf(stderr, "  %-12s median %.3f worst %.3f\n", e->cond, d[n / 2], d[n - 1]);
    CHECK_MSG(d[n / 2] < 0.05, "%s: median difference %.3f", e->cond, d[n / 2]);
  }
}

static void test_conditions(void) {
  if (!g_set) {
    fprintf(stderr, "DIGITS_DATA not set: skipping\n");
    return;
  }
  static const expect cases[] = {
      {"clean", 0, 0, 0},        {"gradient", 0, 0, 0},
      {"vignette", 0, 0, 0},     {"shadow", 0, 0, 0},
      {"texture", 0, 0, 0},      {"blur", 0, 0, 0},
      {"ruled", 0, 0, 0},        {"squared", 0, 0, 0},
      {"margin", 0, 0, 0},       {"box", 3, 0, 0},
      {"specks", 0, 1, 0},       {"edge", 0, 1, 1},
      {"pencil", 0, 0, 0},       {"marker", 0, 0, 0},
      {"blue_ink", 0, 0, 0},     {"red_ink", 0, 0, 0},
      {"yellow_paper", 0, 0, 0}, {"grey_paper", 0, 0, 0},
      {"rotation", 0, 0, 0},     {"perspective", 0, 0, 0},
      {"jpeg", 0, 0, 0},         {"small", 0, 0, 0},
      {"offcentre", 0, 0, 0},    {"big", 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    check_condition(&cases[i]);
}

/* Dark lines: ruled lines, a grid or a margin as dark as the ink, drawn
 * over the clean drawing (4 px, slightly tilted, on light grey paper so
 * the image is a photo): erased as lines, the digit read as without them. */
static void test_dark_lines(void) {
  if (!g_set) return;
  int c = photo_cond_find("clean");
  for (int kind = 0; kind < 3; kind++)
    for (int k = 0; k < 4; k++) {
      uint8_t *ref = NULL;
      photo_info b;
      CHECK_OK(photo_render_clean(g_set, c, k, PHOTO_SEED, &ref, &b));
      if (!ref) continue;
      float y[784], x[784];
      dg_preprocess_info ci, pi;
      CHECK_OK(dg_preprocess_ex(ref, b.w, b.h, 3, y, &ci));
      int step = b.box[3] * 2 / 5;  /* line spacing: 0.4 digit heights */
      uint32_t r = 12345u + (uint32_t)k;
      for (int yy = 0; yy < b.h; yy++)
        for (int xx = 0; xx < b.w; xx++) {
          uint8_t *p = ref + ((size_t)yy * b.w + xx) * 3;
          /* tilt 1 px in 40 */
          int ty = (int)floor(yy - xx / 40.0) + 4 * b.h, tx = (int)floor(xx + yy / 40.0);
          int ry = ty % step, rx = tx % step;
          int mx = abs(xx - b.w / 5);
          int on = kind == 0 ? ry < 4 : kind == 1 ? ry < 4 || rx < 4 : mx < 2;
          r = r * 1664525u + 1013904223u;
          int noise = (int)(r >> 29) - 4;
          for (int q = 0; q < 3; q++) {
            int v = (p[q] * 220) / 255 + noise;  /* paper 220, ink dark */
            if (on) v = 40 + noise;
            p[q] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
          }
        }
      if (getenv("DARK_DUMP")) {
        char nm[64];
        snprintf(nm, sizeof nm, "/tmp/dark%d_%d.png", kind, k);
        dg_image_write_png(nm, ref, b.w, b.h, 3);
      }
      int st = dg_preprocess_ex(ref, b.w, b.h, 3, x, &pi);
      CHECK_MSG(st == DG_OK, "dark lines %d/%d: %s", kind, k, dg_last_error());
      if (st == DG_OK) {
        int want = kind == 0 ? 3 : kind == 1 ? 8 : 1;
        double d = mad(x, y);
        fprintf(stderr, "  dark %-7s %d: %2d lines erased, difference %.3f\n",
                kind == 0 ? "ruled" : kind == 1 ? "squared" : "margin", k, pi.lines, d);
        CHECK_MSG(pi.lines >= want, "dark lines %d/%d: %d lines erased, want %d",
                  kind, k, pi.lines, want);
        CHECK_MSG(d < 0.12, "dark lines %d/%d: differs by %.3f", kind, k, d);
        CHECK_MSG(photo_box_iou(pi.box, b.box) >= 0.5, "dark lines %d/%d: read [%d %d %d %d], "
                  "digit at [%d %d %d %d]", kind, k, pi.box[0], pi.box[1], pi.box[2],
                  pi.box[3], b.box[0], b.box[1], b.box[2], b.box[3]);
      }
      free(ref);
    }
}

/* Hostile pages: random bytes, salt and pepper, a near-flat grey: no
 * digit to read, so empty or uncertain (never a confident digit from
 * noise), quickly (a page of noise has tens of thousands of pieces: only
 * the biggest 256 are grouped). */
static void test_noise_pages(void) {
  static const int dims[][2] = {{640, 640}, {1500, 1000}, {7, 900}, {900, 5}};
  uint32_t r = 99;
  for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
    for (int mode = 0; mode < 3; mode++) {
      const int w = dims[d][0], h = dims[d][1];
      uint8_t *px = malloc((size_t)w * h * 3);
      if (!px) continue;
      for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        r = r * 1664525u + 1013904223u;
        int v = (int)(r >> 24);
        px[i] = (uint8_t)(mode == 0 ? v : mode == 1 ? (v < 128 ? 0 : 255) : 200 + (v & 7));
      }
      float x[784];
      dg_preprocess_info pi;
      int st = dg_preprocess_ex(px, w, h, 3, x, &pi);
      if (w >= 100 && h >= 100)
        CHECK_MSG(st == DG_ERR_EMPTY || st == DG_ERR_UNCERTAIN, "%dx%d noise %d: "
                  "status %d (%s)", w, h, mode, st, dg_last_error());
      else  /* a strip: anything but a failure */
        CHECK_MSG(st == DG_OK || st == DG_ERR_EMPTY || st == DG_ERR_UNCERTAIN,
                  "%dx%d noise %d: status %d (%s)", w, h, mode, st, dg_last_error());
      free(px);
    }
}

/* The clean drawings themselves are flat paper (pure white, black ink):
 * read as drawings always were, every component kept. */
static void test_clean_is_flat(void) {
  if (!g_set) return;
  int c = photo_cond_find("clean");
  for (int k = 0; k < 4; k++) {
    uint8_t *ref = NULL;
    photo_info b;
    CHECK_OK(photo_render_clean(g_set, c, k, PHOTO_SEED, &ref, &b));
    if (!ref) continue;
    float y[784];
    dg_preprocess_info ci;
    CHECK_OK(dg_preprocess_ex(ref, b.w, b.h, 3, y, &ci));
    CHECK_MSG(ci.photo == 0 && ci.dropped == 0 && ci.lines == 0,
              "clean %d: photo %d dropped %d lines %d", k, ci.photo,
              ci.dropped, ci.lines);
    free(ref);
  }
}

int main(void) {
  const char *dir = dg_test_mnist();
  if (dir && photo_set_open(&g_set, dir)) {
    fprintf(stderr, "cannot open the MNIST test digits in %s: %s\n", dir,
            dg_last_error());
    return 1;
  }
  RUN(test_conditions);
  RUN(test_dark_lines);
  RUN(test_noise_pages);
  RUN(test_clean_is_flat);
  photo_set_free(g_set);
  return dg_test_finish();
}
