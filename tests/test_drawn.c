/* test_drawn.c: does the default model read drawings, not just MNIST?
 * Digits drawn the way a person draws them on a canvas (strokes as
 * polylines, round caps, anti-aliased) are rendered at many canvas sizes,
 * stroke widths, slants, placements and both polarities (and as RGBA with a
 * transparent page), passed through dg_preprocess, and predicted with
 * models/default.safetensors. The strokes are our own, written once here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "harness.h"

/* Stroke points in a 100x100 box (y down); -1,-1 starts a new stroke. */
typedef struct {
  int n;
  float p[40][2];
} glyph;

static void ellipse(glyph *g, float cx, float cy, float rx, float ry, float a0,
                    float a1, int steps) {
  for (int i = 0; i <= steps; i++) {
    float a = a0 + (a1 - a0) * i / steps;
    g->p[g->n][0] = cx + rx * cosf(a);
    g->p[g->n][1] = cy + ry * sinf(a);
    g->n++;
  }
}

static void pt(glyph *g, float x, float y) {
  g->p[g->n][0] = x, g->p[g->n][1] = y;
  g->n++;
}

static void make_glyphs(glyph *gl) {
  const float PI = 3.14159265f;
  memset(gl, 0, sizeof(glyph) * 10);
  ellipse(&gl[0], 50, 50, 26, 40, -PI / 2, 1.5f * PI, 24);
  pt(&gl[1], 36, 24), pt(&gl[1], 52, 10), pt(&gl[1], 52, 90);
  ellipse(&gl[2], 50, 32, 24, 22, PI, 2.25f * PI, 10);
  pt(&gl[2], 26, 90), pt(&gl[2], 78, 90);
  ellipse(&gl[3], 48, 29, 22, 19, -0.8f * PI, 0.5f * PI, 10);
  ellipse(&gl[3], 48, 69, 25, 21, -0.5f * PI, 0.85f * PI, 12);
  pt(&gl[4], 62, 90), pt(&gl[4], 62, 10), pt(&gl[4], 22, 66), pt(&gl[4], 80, 66);
  pt(&gl[5], 74, 10), pt(&gl[5], 34, 10), pt(&gl[5], 30, 46);
  ellipse(&gl[5], 50, 66, 25, 24, -0.75f * PI, 0.8f * PI, 14);
  pt(&gl[6], 68, 10), pt(&gl[6], 44, 26), pt(&gl[6], 30, 52);
  ellipse(&gl[6], 50, 68, 21, 22, PI, 3.0f * PI, 18);
  pt(&gl[7], 24, 10), pt(&gl[7], 76, 10), pt(&gl[7], 42, 90);
  ellipse(&gl[8], 50, 30, 19, 20, 0.5f * PI, 2.5f * PI, 16);
  ellipse(&gl[8], 50, 70, 23, 20, -0.5f * PI, 1.5f * PI, 18);
  ellipse(&gl[9], 50, 32, 21, 22, 0, 2 * PI, 18);
  pt(&gl[9], 71, 32), pt(&gl[9], 66, 90);
}

/* Squared distance from (x,y) to segment a-b. */
static float seg_d2(float x, float y, const float *a, const float *b) {
  float dx = b[0] - a[0], dy = b[1] - a[1], l2 = dx * dx + dy * dy;
  float t = l2 > 0 ? ((x - a[0]) * dx + (y - a[1]) * dy) / l2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  float px = a[0] + t * dx - x, py = a[1] + t * dy - y;
  return px * px + py * py;
}

typedef struct {
  int w, h;          /* canvas */
  float size;        /* glyph box height as a fraction of min(w,h) */
  float cx, cy;      /* glyph centre as fractions of w, h */
  float stroke;      /* stroke width as a fraction of the box height */
  float slant;       /* x += slant * (50 - y) */
  int inverted;      /* white ink on black */
  int rgba;          /* black ink on a transparent page */
} variant;

/* Render glyph g to 8-bit pixels (1 or 4 channels). */
static uint8_t *render(const glyph *g, const variant *v) {
  int ch = v->rgba ? 4 : 1;
  uint8_t *img = malloc((size_t)v->w * v->h * ch);
  float box = v->size * (v->w < v->h ? v->w : v->h), s = box / 100.0f;
  float ox = v->cx * v->w - box / 2, oy = v->cy * v->h - box / 2;
  float half = v->stroke * box / 2;
  float pts[40][2];
  for (int i = 0; i < g->n; i++) {
    float x = g->p[i][0] + v->slant * (50 - g->p[i][1]);
    pts[i][0] = ox + x * s, pts[i][1] = oy + g->p[i][1] * s;
  }
  for (int y = 0; y < v->h; y++)
    for (int x = 0; x < v->w; x++) {
      float best = 1e30f, px = x + 0.5f, py = y + 0.5f;
      for (int i = 0; i + 1 < g->n; i++) {
        /* consecutive points farther apart than a fifth of the box are two
         * separate strokes (the 3, 5, 6, 8, 9 jumps) only if marked; here
         * every glyph is one continuous pen path */
        float d = seg_d2(px, py, pts[i], pts[i + 1]);
        if (d < best) best = d;
      }
      float cover = half + 0.5f - sqrtf(best);
      cover = cover < 0 ? 0 : cover > 1 ? 1 : cover;
      size_t o = ((size_t)y * v->w + x) * ch;
      if (v->rgba) {
        img[o] = img[o + 1] = img[o + 2] = 0;
        img[o + 3] = (uint8_t)lrintf(255 * cover);
      } else {
        float ink = v->inverted ? cover : 1 - cover;
        img[o] = (uint8_t)lrintf(255 * ink);
      }
    }
  return img;
}

static void test_default_reads_drawings(void) {
  dg_net *net = NULL;
  const char *path = dg_test_path("DIGITS_SRC", "models/default.safetensors");
  int st = dg_model_load(&net, path, NULL, NULL);
  CHECK_MSG(st == DG_OK, "%s", dg_last_error());
  if (st) return;
  glyph gl[10];
  make_glyphs(gl);
  const variant variants[] = {
      {280, 280, 0.70f, 0.50f, 0.50f, 0.10f, 0.00f, 0, 0},  /* a canvas */
      {280, 280, 0.70f, 0.50f, 0.50f, 0.05f, 0.00f, 0, 0},  /* thin pen */
      {280, 280, 0.70f, 0.50f, 0.50f, 0.18f, 0.00f, 0, 0},  /* marker */
      {280, 280, 0.70f, 0.50f, 0.50f, 0.10f, 0.25f, 0, 0},  /* slanted */
      {280, 280, 0.70f, 0.50f, 0.50f, 0.10f, -0.15f, 0, 0}, /* back slant */
      {280, 280, 0.35f, 0.30f, 0.70f, 0.12f, 0.00f, 0, 0},  /* small, off-centre */
      {400, 300, 0.90f, 0.60f, 0.50f, 0.08f, 0.10f, 0, 0},  /* wide canvas */
      {128, 128, 0.80f, 0.50f, 0.50f, 0.12f, 0.00f, 1, 0},  /* white on black */
      {280, 280, 0.70f, 0.50f, 0.50f, 0.10f, 0.00f, 0, 1},  /* transparent page */
      {56, 56, 0.80f, 0.50f, 0.50f, 0.12f, 0.05f, 0, 0},    /* tiny canvas */
  };
  int nv = (int)(sizeof variants / sizeof variants[0]), right = 0, total = 0;
  int per_digit[10] = {0};
  float x[784], probs[10];
  for (int v = 0; v < nv; v++)
    for (int d = 0; d < 10; d++) {
      uint8_t *img = render(&gl[d], &variants[v]);
      st = dg_preprocess(img, variants[v].w, variants[v].h,
                         variants[v].rgba ? 4 : 1, x);
      free(img);
      CHECK_MSG(st == DG_OK, "variant %d digit %d: %s", v, d, dg_last_error());
      if (st) continue;
      CHECK_OK(dg_net_predict(net, x, 1, probs));
      int best = 0;
      for (int j = 1; j < 10; j++)
        if (probs[j] > probs[best]) best = j;
      total++;
      if (best == d) right++, per_digit[d]++;
      else
        fprintf(stderr, "  variant %d: drew %d, read %d (%.2f)\n", v, d, best,
                probs[best]);
    }
  fprintf(stderr, "  default model read %d of %d drawings right (per digit:", right,
          total);
  for (int d = 0; d < 10; d++) fprintf(stderr, " %d", per_digit[d]);
  fprintf(stderr, ")\n");
  /* a person's drawings vary more than these: require nearly all */
  CHECK_MSG(right >= total * 95 / 100, "%d of %d drawings read right", right, total);
  dg_net_free(net);
}

/* An empty canvas is reported, not guessed. */
static void test_empty_canvas(void) {
  uint8_t blank[64 * 64];
  float x[784];
  memset(blank, 255, sizeof blank);
  CHECK_FAIL(dg_preprocess(blank, 64, 64, 1, x), DG_ERR_EMPTY, "");
}

/* `test_drawn --write DIR`: save the plain canvas drawings as PNG files
 * (the README's `digits predict` examples come from here). */
static int write_examples(const char *dir) {
  glyph gl[10];
  make_glyphs(gl);
  variant v = {280, 280, 0.70f, 0.50f, 0.50f, 0.10f, 0.05f, 0, 0};
  for (int d = 0; d < 10; d++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/drawn-%d.png", dir, d);
    uint8_t *img = render(&gl[d], &v);
    int st = dg_image_write_png(path, img, v.w, v.h, 1);
    free(img);
    if (st) {
      fprintf(stderr, "%s\n", dg_last_error());
      return 1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--write")) return write_examples(argv[2]);
  RUN(test_empty_canvas);
  RUN(test_default_reads_drawings);
  return dg_test_finish();
}
