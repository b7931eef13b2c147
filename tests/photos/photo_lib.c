/* photo_lib.c: renders the synthetic phone photos of tests/photos (see
 * photo_lib.h for the API and docs/photos.md for every parameter).
 *
 * Three coordinate systems: glyph units (the digit's ink box has height 1),
 * paper pixels (glyph units times the digit's height in pixels, origin at
 * the centre of the digit's ink box) and image pixels. Paper maps to the
 * image by a homography, image = T + P(R q) (R rotation, P a mild
 * perspective about the digit, T the digit's place in the frame), so
 * printed lines, a drawn box and specks turn and shrink with the digit as
 * they would on a photographed sheet. Ink is rendered into coverage rasters
 * in paper pixels (a "layer"); every image pixel maps back to paper, samples
 * the layers, paper colour, texture and printed lines, and is lit in image
 * coordinates; then blur and sensor noise.
 *
 * Determinism: all randomness comes from splitmix64 streams seeded by
 * (seed, condition name, k); the few libm calls (sin, cos, sqrt, floor)
 * are made in double precision and the file is compiled with
 * -ffp-contract=off, so no fused multiply-add depends on the build machine.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "digits.h"
#include "photo_lib.h"

#define PI 3.14159265358979323846

/* ---- random numbers --------------------------------------------------- */

typedef struct { uint64_t s; } prng;

static uint64_t pr_next(prng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/* uniform in [0, 1) */
static double pr_unif(prng *r) {
  return (double)(pr_next(r) >> 11) * (1.0 / 9007199254740992.0);
}
static double pr_range(prng *r, double a, double b) {
  return a + (b - a) * pr_unif(r);
}
static int pr_below(prng *r, int n) { return (int)(pr_unif(r) * n); }
/* approximately standard normal: four uniforms summed (no libm) */
static double pr_normal(prng *r) {
  uint64_t x = pr_next(r);
  double s = (double)(x & 0xFFFF) + (double)((x >> 16) & 0xFFFF) +
             (double)((x >> 32) & 0xFFFF) + (double)(x >> 48);
  return (s / 65536.0 - 2.0) * 1.7320508075688772;
}
static double pr_sign(prng *r) { return pr_unif(r) < 0.5 ? -1.0 : 1.0; }

static uint64_t mix_seed(uint64_t seed, const char *name, uint64_t k,
                         uint64_t stream) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a of the condition name */
  for (const char *p = name; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
  prng r = {seed ^ (h * 0x9E3779B97F4A7C15ull)};
  r.s ^= pr_next(&r) + k * 0xD1B54A32D192ED03ull;
  r.s ^= pr_next(&r) + stream * 0xA0761D6478BD642Full;
  return pr_next(&r);
}

static double clampd(double x, double a, double b) {
  return x < a ? a : x > b ? b : x;
}
static double smoothstep(double a, double b, double x) {
  double t = clampd((x - a) / (b - a), 0, 1);
  return t * t * (3 - 2 * t);
}

/* ---- conditions ----------------------------------------------------- */

enum {
  C_CLEAN, C_GRADIENT, C_VIGNETTE, C_SHADOW, C_TEXTURE, C_BLUR, C_RULED,
  C_SQUARED, C_MARGIN, C_BOX, C_SPECKS, C_EDGE, C_PENCIL, C_MARKER, C_BLUE, C_RED,
  C_YELLOW, C_GREY, C_ROTATION, C_PERSPECTIVE, C_JPEG, C_LARGE, C_SMALL,
  C_OFFCENTRE, C_BIG, C_COUNT
};
static const char *const cond_names[C_COUNT] = {
    "clean",  "gradient",     "vignette",   "shadow",      "texture",
    "blur",   "ruled",        "squared",    "margin",      "box",
    "specks", "edge",   "pencil",       "marker",     "blue_ink",    "red_ink",
    "yellow_paper", "grey_paper", "rotation", "perspective", "jpeg",
    "large",  "small",        "offcentre",  "big"};

int photo_cond_count(void) { return C_COUNT; }
const char *photo_cond_name(int c) {
  return c >= 0 && c < C_COUNT ? cond_names[c] : NULL;
}
int photo_cond_find(const char *name) {
  if (!name) return -1;
  for (int c = 0; c < C_COUNT; c++)
    if (strcmp(name, cond_names[c]) == 0) return c;
  return -1;
}

/* ---- MNIST test digits -------------------------------------------------- */

struct photo_set {
  uint8_t *images; /* (n, 28, 28) */
  uint8_t *labels; /* (n) */
  int n;
  int *by_label[10]; /* indices of each digit */
  int count[10];
};

void photo_set_free(photo_set *s) {
  if (!s) return;
  free(s->images);
  free(s->labels);
  for (int d = 0; d < 10; d++) free(s->by_label[d]);
  free(s);
}

/* Digits of one MNIST split ("t10k" or "train") from dir. */
static int open_split(photo_set **out, const char *dir, const char *split) {
  if (!out || !dir) return dg_error(DG_ERR_ARG, "photo set: null argument");
  char path[4096];
  photo_set *s = calloc(1, sizeof *s);
  if (!s) return dg_error(DG_ERR_NOMEM, "photo set: out of memory");
  int n, h, w, nl, lh, lw, st;
  snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, split);
  if ((st = dg_idx_read(path, 3, &s->images, &n, &h, &w))) goto fail;
  snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, split);
  if ((st = dg_idx_read(path, 1, &s->labels, &nl, &lh, &lw))) goto fail;
  if (h != 28 || w != 28 || n != nl || n < 10) {
    st = dg_error(DG_ERR_FORMAT, "%s: expected 28x28 MNIST %s digits", dir, split);
    goto fail;
  }
  s->n = n;
  for (int i = 0; i < n; i++) {
    if (s->labels[i] > 9) {
      st = dg_error(DG_ERR_FORMAT, "%s: label %d out of range", dir,
                    s->labels[i]);
      goto fail;
    }
    s->count[s->labels[i]]++;
  }
  for (int d = 0; d < 10; d++) {
    s->by_label[d] = malloc(sizeof(int) * (s->count[d] ? s->count[d] : 1));
    if (!s->by_label[d]) {
      st = dg_error(DG_ERR_NOMEM, "photo set: out of memory");
      goto fail;
    }
    s->count[d] = 0;
  }
  for (int i = 0; i < n; i++) s->by_label[s->labels[i]][s->count[s->labels[i]]++] = i;
  *out = s;
  return DG_OK;
fail:
  photo_set_free(s);
  return st;
}

int photo_set_open(photo_set **out, const char *dir) {
  return open_split(out, dir, "t10k");
}

int photo_set_open_train(photo_set **out, const char *dir) {
  return open_split(out, dir, "train");
}

/* ---- pen skeletons ---------------------------------------------------------
 * Each glyph is a list of x, y pairs in a box about 0.7 wide and 1 tall
 * (y down) through which Catmull-Rom splines run. GC after a point makes it
 * a corner (the curve stops and starts again there), GE ends a stroke (the
 * pen lifts), GZ ends the glyph. */
#define GC 100.0f
#define GE 200.0f
#define GZ 300.0f

static const float g0a[] = {0.38f, 0.02f, 0.15f, 0.12f, 0.04f, 0.45f, 0.12f, 0.85f,
                            0.35f, 0.98f, 0.58f, 0.86f, 0.66f, 0.50f, 0.58f, 0.15f,
                            0.40f, 0.02f, 0.28f, 0.07f, GZ};
static const float g0b[] = {0.52f, 0.08f, 0.32f, 0.02f, 0.12f, 0.22f, 0.05f, 0.60f,
                            0.18f, 0.92f, 0.42f, 0.98f, 0.60f, 0.76f, 0.64f, 0.36f,
                            0.50f, 0.04f, GZ};
static const float g1a[] = {0.36f, 0.00f, 0.33f, 1.00f, GZ};
static const float g1b[] = {0.22f, 0.15f, 0.38f, 0.00f, GC, 0.36f, 1.00f, GZ};
static const float g1c[] = {0.12f, 0.20f, 0.38f, 0.00f, GC, 0.37f, 0.98f, GE,
                            0.12f, 1.00f, 0.62f, 1.00f, GZ};
static const float g2a[] = {0.06f, 0.25f, 0.22f, 0.05f, 0.45f, 0.02f, 0.62f, 0.18f,
                            0.58f, 0.42f, 0.35f, 0.68f, 0.04f, 0.97f, GC, 0.66f, 0.96f,
                            GZ};
static const float g2b[] = {0.05f, 0.20f, 0.25f, 0.02f, 0.50f, 0.03f, 0.62f, 0.20f,
                            0.50f, 0.45f, 0.20f, 0.75f, 0.05f, 0.95f, 0.30f, 0.90f,
                            0.50f, 0.93f, 0.68f, 0.99f, GZ};
static const float g3a[] = {0.08f, 0.12f, 0.30f, 0.01f, 0.55f, 0.06f, 0.60f, 0.24f,
                            0.42f, 0.44f, 0.26f, 0.47f, GC, 0.45f, 0.50f, 0.63f, 0.68f,
                            0.58f, 0.90f, 0.32f, 0.99f, 0.05f, 0.88f, GZ};
static const float g3b[] = {0.08f, 0.02f, 0.60f, 0.02f, GC, 0.30f, 0.40f, GC,
                            0.55f, 0.50f, 0.64f, 0.72f, 0.50f, 0.93f, 0.28f, 0.99f,
                            0.05f, 0.88f, GZ};
static const float g4a[] = {0.10f, 0.00f, 0.06f, 0.56f, GC, 0.68f, 0.55f, GE,
                            0.52f, 0.00f, 0.50f, 1.00f, GZ};
static const float g4b[] = {0.50f, 0.00f, 0.04f, 0.64f, GC, 0.70f, 0.64f, GE,
                            0.50f, 0.02f, 0.50f, 1.00f, GZ};
static const float g4c[] = {0.14f, 0.00f, 0.10f, 0.50f, GC, 0.35f, 0.56f, 0.68f, 0.50f,
                            GE, 0.55f, 0.05f, 0.52f, 1.00f, GZ};
static const float g5a[] = {0.14f, 0.02f, 0.10f, 0.42f, GC, 0.32f, 0.36f, 0.56f, 0.46f,
                            0.64f, 0.70f, 0.50f, 0.93f, 0.25f, 0.98f, 0.05f, 0.88f, GE,
                            0.14f, 0.02f, 0.62f, 0.00f, GZ};
static const float g5b[] = {0.62f, 0.00f, 0.14f, 0.02f, GC, 0.10f, 0.42f, GC, 0.32f,
                            0.36f, 0.56f, 0.46f, 0.64f, 0.70f, 0.50f, 0.93f, 0.25f,
                            0.98f, 0.05f, 0.88f, GZ};
static const float g6a[] = {0.55f, 0.04f, 0.32f, 0.08f, 0.12f, 0.35f, 0.06f, 0.65f,
                            0.18f, 0.93f, 0.40f, 0.99f, 0.60f, 0.85f, 0.60f, 0.62f,
                            0.40f, 0.50f, 0.18f, 0.56f, 0.08f, 0.70f, GZ};
static const float g6b[] = {0.50f, 0.00f, 0.25f, 0.30f, 0.10f, 0.60f, 0.12f, 0.88f,
                            0.32f, 0.99f, 0.55f, 0.90f, 0.60f, 0.68f, 0.42f, 0.55f,
                            0.20f, 0.60f, 0.10f, 0.72f, GZ};
static const float g7a[] = {0.04f, 0.04f, 0.66f, 0.03f, GC, 0.45f, 0.45f, 0.28f, 1.00f,
                            GZ};
static const float g7b[] = {0.04f, 0.04f, 0.66f, 0.03f, GC, 0.45f, 0.45f, 0.28f, 1.00f,
                            GE, 0.24f, 0.52f, 0.64f, 0.49f, GZ};
static const float g7c[] = {0.02f, 0.18f, 0.04f, 0.02f, GC, 0.66f, 0.04f, GC, 0.40f,
                            0.55f, 0.30f, 1.00f, GZ};
static const float g8a[] = {0.56f, 0.12f, 0.35f, 0.01f, 0.12f, 0.10f, 0.12f, 0.30f,
                            0.35f, 0.46f, 0.58f, 0.62f, 0.62f, 0.85f, 0.40f, 0.99f,
                            0.15f, 0.92f, 0.10f, 0.72f, 0.32f, 0.50f, 0.52f, 0.30f,
                            0.55f, 0.12f, 0.40f, 0.02f, GZ};
static const float g8b[] = {0.35f, 0.02f, 0.14f, 0.12f, 0.16f, 0.35f, 0.35f, 0.46f,
                            0.54f, 0.35f, 0.56f, 0.13f, 0.37f, 0.02f, GE,
                            0.35f, 0.45f, 0.10f, 0.60f, 0.08f, 0.85f, 0.33f, 0.99f,
                            0.60f, 0.86f, 0.60f, 0.60f, 0.36f, 0.46f, GZ};
static const float g9a[] = {0.60f, 0.15f, 0.40f, 0.02f, 0.15f, 0.08f, 0.08f, 0.30f,
                            0.25f, 0.46f, 0.50f, 0.40f, 0.62f, 0.18f, GC, 0.60f, 0.60f,
                            0.55f, 1.00f, GZ};
static const float g9b[] = {0.60f, 0.15f, 0.40f, 0.02f, 0.15f, 0.08f, 0.08f, 0.30f,
                            0.25f, 0.46f, 0.50f, 0.40f, 0.62f, 0.18f, GC, 0.60f, 0.65f,
                            0.50f, 0.92f, 0.30f, 0.99f, 0.12f, 0.90f, GZ};

static const float *const glyphs[10][3] = {
    {g0a, g0b, NULL}, {g1a, g1b, g1c}, {g2a, g2b, NULL}, {g3a, g3b, NULL},
    {g4a, g4b, g4c},  {g5a, g5b, NULL}, {g6a, g6b, NULL}, {g7a, g7b, g7c},
    {g8a, g8b, NULL}, {g9a, g9b, NULL}};

static int glyph_variants(int d) {
  int n = 0;
  while (n < 3 && glyphs[d][n]) n++;
  return n;
}

/* ---- polylines of a pen glyph ---------------------------------------------- */

#define MAXPTS 4096
#define MAXSTROKES 8
typedef struct {
  float x[MAXPTS], y[MAXPTS]; /* all strokes' points, glyph units */
  int start[MAXSTROKES + 1];  /* stroke s is points [start[s], start[s+1]) */
  int nstrokes;
} polyline_set;

/* Append a Catmull-Rom run through ctrl points (cx, cy, n) to the current
 * stroke, 12 samples per span; the first point only when the stroke is
 * empty (a corner continues from the last point). */
static void spline_run(polyline_set *p, const double *cx, const double *cy,
                       int n, int *np) {
  if (n < 2) return;
  for (int i = 0; i + 1 < n; i++) {
    double p0x = i > 0 ? cx[i - 1] : 2 * cx[0] - cx[1];
    double p0y = i > 0 ? cy[i - 1] : 2 * cy[0] - cy[1];
    double p3x = i + 2 < n ? cx[i + 2] : 2 * cx[n - 1] - cx[n - 2];
    double p3y = i + 2 < n ? cy[i + 2] : 2 * cy[n - 1] - cy[n - 2];
    const int steps = 12;
    for (int j = (i == 0 && *np == p->start[p->nstrokes]) ? 0 : 1; j <= steps;
         j++) {
      double t = (double)j / steps, t2 = t * t, t3 = t2 * t;
      double a = -0.5 * t3 + t2 - 0.5 * t, b = 1.5 * t3 - 2.5 * t2 + 1;
      double c = -1.5 * t3 + 2 * t2 + 0.5 * t, d = 0.5 * t3 - 0.5 * t2;
      if (*np >= MAXPTS) return;
      p->x[*np] = (float)(a * p0x + b * cx[i] + c * cx[i + 1] + d * p3x);
      p->y[*np] = (float)(a * p0y + b * cy[i] + c * cy[i + 1] + d * p3y);
      (*np)++;
    }
  }
}

/* The glyph with every control point jittered (sigma jit, glyph units) and
 * then slanted (x += slant * (0.5 - y)), stretched by xs and turned by rot,
 * as polylines. */
static void glyph_polylines(const float *g, prng *r, double jit, double slant,
                            double xs, double rot, polyline_set *p) {
  double cx[64], cy[64];
  int nc = 0, np = 0;
  double cr = cos(rot), sr = sin(rot);
  p->nstrokes = 0;
  p->start[0] = 0;
  for (int i = 0;; ) {
    float v = g[i];
    if (v == GZ || v == GE) {
      spline_run(p, cx, cy, nc, &np);
      p->nstrokes++;
      p->start[p->nstrokes] = np;
      nc = 0;
      if (v == GZ || p->nstrokes == MAXSTROKES) break;
      i++;
      continue;
    }
    if (v == GC) {
      spline_run(p, cx, cy, nc, &np);
      cx[0] = cx[nc - 1], cy[0] = cy[nc - 1];
      nc = 1;
      i++;
      continue;
    }
    double x = g[i] + jit * pr_normal(r), y = g[i + 1] + jit * pr_normal(r);
    x = xs * (x + slant * (0.5 - y));
    double xr = cr * (x - 0.35) - sr * (y - 0.5), yr = sr * (x - 0.35) + cr * (y - 0.5);
    if (nc < 64) cx[nc] = xr, cy[nc] = yr, nc++;
    i += 2;
  }
}

/* ---- coverage layers ------------------------------------------------------ */

/* A coverage raster in paper pixels: sample (i, j) sits at paper (x0 + i,
 * y0 + j). */
typedef struct {
  float *a; /* (h, w), 0..1 */
  int x0, y0, w, h;
} layer;

static int layer_new(layer *l, double minx, double miny, double maxx,
                     double maxy) {
  l->x0 = (int)floor(minx) - 2;
  l->y0 = (int)floor(miny) - 2;
  l->w = (int)ceil(maxx) + 3 - l->x0;
  l->h = (int)ceil(maxy) + 3 - l->y0;
  if (l->w < 1 || l->h < 1 || (double)l->w * l->h > 4.0e8)
    return dg_error(DG_ERR_NOMEM, "photo: layer of %d x %d", l->w, l->h);
  l->a = calloc((size_t)l->w * l->h, sizeof(float));
  return l->a ? DG_OK : dg_error(DG_ERR_NOMEM, "photo: out of memory");
}

static float layer_sample(const layer *l, double u, double v) {
  if (!l->a) return 0;
  double fx = u - l->x0, fy = v - l->y0;
  if (fx < 0 || fy < 0 || fx >= l->w - 1 || fy >= l->h - 1) return 0;
  int i = (int)fx, j = (int)fy;
  float tx = (float)(fx - i), ty = (float)(fy - j);
  const float *p = l->a + (size_t)j * l->w + i;
  float top = p[0] + tx * (p[1] - p[0]);
  float bot = p[l->w] + tx * (p[l->w + 1] - p[l->w]);
  return top + ty * (bot - top);
}

/* A round-capped pen segment from a (radius ra) to b (radius rb), coverage
 * anti-aliased over one pixel, times strength; kept as the max. */
static void layer_capsule(layer *l, double ax, double ay, double ra, double bx,
                          double by, double rb, double strength) {
  double rmax = ra > rb ? ra : rb;
  int i0 = (int)floor((ax < bx ? ax : bx) - rmax - 1) - l->x0;
  int i1 = (int)ceil((ax > bx ? ax : bx) + rmax + 1) - l->x0;
  int j0 = (int)floor((ay < by ? ay : by) - rmax - 1) - l->y0;
  int j1 = (int)ceil((ay > by ? ay : by) + rmax + 1) - l->y0;
  if (i0 < 0) i0 = 0;
  if (j0 < 0) j0 = 0;
  if (i1 > l->w - 1) i1 = l->w - 1;
  if (j1 > l->h - 1) j1 = l->h - 1;
  double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
  for (int j = j0; j <= j1; j++) {
    double py = l->y0 + j - ay;
    float *row = l->a + (size_t)j * l->w;
    for (int i = i0; i <= i1; i++) {
      double px = l->x0 + i - ax;
      double t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
      t = clampd(t, 0, 1);
      double ex = px - t * dx, ey = py - t * dy;
      double d = sqrt(ex * ex + ey * ey), rr = ra + t * (rb - ra);
      double c = clampd(rr - d + 0.5, 0, 1) * strength;
      if (c > row[i]) row[i] = (float)c;
    }
  }
}

/* ---- textures ---------------------------------------------------------------- */

#define TILE 256
/* Smooth periodic noise, zero mean, unit standard deviation. */
static void tile_make(float *t, prng *r) {
  float *tmp = malloc(sizeof(float) * TILE * TILE);
  for (int i = 0; i < TILE * TILE; i++) t[i] = (float)(pr_unif(r) * 2 - 1);
  if (!tmp) return;
  for (int pass = 0; pass < 2; pass++) { /* binomial 1-2-1 both ways */
    for (int y = 0; y < TILE; y++)
      for (int x = 0; x < TILE; x++)
        tmp[y * TILE + x] = 0.25f * t[y * TILE + ((x + TILE - 1) & (TILE - 1))] +
                            0.5f * t[y * TILE + x] +
                            0.25f * t[y * TILE + ((x + 1) & (TILE - 1))];
    for (int y = 0; y < TILE; y++)
      for (int x = 0; x < TILE; x++)
        t[y * TILE + x] = 0.25f * tmp[((y + TILE - 1) & (TILE - 1)) * TILE + x] +
                          0.5f * tmp[y * TILE + x] +
                          0.25f * tmp[((y + 1) & (TILE - 1)) * TILE + x];
  }
  free(tmp);
  double ss = 0;
  for (int i = 0; i < TILE * TILE; i++) ss += (double)t[i] * t[i];
  float k = (float)(1.0 / sqrt(ss / (TILE * TILE) + 1e-12));
  for (int i = 0; i < TILE * TILE; i++) t[i] *= k;
}

static float tile_sample(const float *t, double u, double v) {
  double fu = floor(u), fv = floor(v);
  int i = (int)((int64_t)fu & (TILE - 1)), j = (int)((int64_t)fv & (TILE - 1));
  int i1 = (i + 1) & (TILE - 1), j1 = (j + 1) & (TILE - 1);
  float tx = (float)(u - fu), ty = (float)(v - fv);
  float a = t[j * TILE + i] + tx * (t[j * TILE + i1] - t[j * TILE + i]);
  float b = t[j1 * TILE + i] + tx * (t[j1 * TILE + i1] - t[j1 * TILE + i]);
  return a + ty * (b - a);
}

/* ---- the scene: every random choice of one image ---------------------------- */

typedef struct {
  int cond, k;
  int W, H;
  int label, mnist, variant; /* mnist: t10k index or -1 */
  char source[24];
  int quality;
  /* pose */
  double frac;       /* digit ink height / min(W, H) */
  double cx, cy;     /* wanted digit centre, fractions of W and H */
  double rot;        /* radians */
  double persp, persp_dir; /* perspective strength (relative scale change
                              over half the frame) and its direction */
  /* glyph */
  double jit, slant, xs, grot, wfrac; /* wfrac: pen width / digit height */
  double pressure, pphase;
  /* ink */
  double ink[3], alpha, grain; /* grain > 0: pencil */
  /* paper */
  double paper[3], tex_fine, tex_mid, tex_coarse, tex_fibre;
  int lines; /* 0 none, 1 ruled, 2 squared */
  double lspace, lphase_u, lphase_v, lwidth, lcol[3];
  int margin, m_double;
  double m_off, m_gap, m_width, m_col[3], m_side;
  int box;
  double box_m[4], box_wob, box_over, box_pen;
  int specks;
  int edges;        /* sheet edges in the frame (0-2), a table beyond */
  double e_side, e_corner, e_gap[2], e_tilt[2], table[3], table_tex;
  /* light */
  double exposure, grad_amt, grad_dir, grad_k, vig_amt, vig_dx, vig_dy;
  int shadow, sh_curved;
  double sh_depth, sh_pen, sh_dir, sh_dx, sh_dy, sh_radius, sh_tint[3];
  /* camera */
  double blur;  /* Gaussian sigma as a fraction of the digit's height */
  double noise; /* sensor noise sigma, 8-bit levels */
  double chroma;
  uint64_t glyph_seed, extra_seed, noise_seed, tex_seed;
} scene;

static const int large_sizes[][2] = {{4000, 3000}, {4032, 3024}, {3000, 4000},
                                     {3264, 2448}, {4000, 2250}, {3840, 2160},
                                     {3024, 4032}, {3456, 3456}, {4080, 3072}};

static void scene_make(scene *sc, const photo_set *set, int cond, int k,
                       uint64_t seed) {
  const char *name = cond_names[cond];
  prng r = {mix_seed(seed, name, (uint64_t)k, 0)};
  memset(sc, 0, sizeof *sc);
  sc->cond = cond, sc->k = k;
  sc->glyph_seed = mix_seed(seed, name, (uint64_t)k, 1);
  sc->extra_seed = mix_seed(seed, name, (uint64_t)k, 2);
  sc->noise_seed = mix_seed(seed, name, (uint64_t)k, 3);
  sc->tex_seed = mix_seed(seed, name, (uint64_t)k, 4);

  /* the digit: even k MNIST, odd k pen strokes; labels cycle over pairs */
  sc->label = (k / 2 + 3 * cond) % 10;
  sc->mnist = -1;
  if (k % 2 == 0 && set) {
    int d = sc->label;
    sc->mnist = set->by_label[d][pr_below(&r, set->count[d])];
    snprintf(sc->source, sizeof sc->source, "mnist:%d", sc->mnist);
  } else {
    sc->variant = pr_below(&r, glyph_variants(sc->label));
    snprintf(sc->source, sizeof sc->source, "stroke:%d%c", sc->label,
             'a' + sc->variant);
  }
  if (k % 2 == 0 && !set) pr_unif(&r); /* keep the stream aligned */

  /* baseline frame: short side 300-750, a phone or camera aspect */
  static const double aspects[] = {1.0, 4.0 / 3, 3.0 / 2, 16.0 / 9};
  double asp = aspects[pr_below(&r, 4)];
  int portrait = pr_unif(&r) < 0.5;
  double shortside = pr_range(&r, 300, 750), longside = shortside * asp;
  if (longside > 1000) shortside *= 1000 / longside, longside = 1000;
  sc->W = (int)(portrait ? shortside : longside);
  sc->H = (int)(portrait ? longside : shortside);
  sc->quality = 85 + pr_below(&r, 6);
  sc->frac = pr_range(&r, 0.40, 0.60);
  sc->cx = 0.5 + pr_range(&r, -0.08, 0.08);
  sc->cy = 0.5 + pr_range(&r, -0.08, 0.08);
  sc->rot = pr_range(&r, -3, 3) * PI / 180;
  sc->persp = pr_range(&r, 0, 0.02);
  sc->persp_dir = pr_range(&r, 0, 2 * PI);

  /* glyph */
  sc->jit = pr_range(&r, 0.012, 0.028);
  sc->slant = pr_range(&r, -0.12, 0.30);
  sc->xs = pr_range(&r, 0.80, 1.20);
  sc->grot = pr_range(&r, -4, 4) * PI / 180;
  sc->wfrac = 1 / pr_range(&r, 10, 15);
  sc->pressure = pr_range(&r, 0.04, 0.14);
  sc->pphase = pr_range(&r, 0, 2 * PI);

  /* ink: black, blue-black or dark blue ballpoint */
  static const double inks[3][3] = {
      {0.13, 0.13, 0.15}, {0.14, 0.16, 0.26}, {0.16, 0.20, 0.42}};
  const double *ink = inks[pr_below(&r, 3)];
  for (int c = 0; c < 3; c++) sc->ink[c] = ink[c] * pr_range(&r, 0.85, 1.15);
  sc->alpha = pr_range(&r, 0.88, 0.97);

  /* white paper, slightly warm or cool; faint texture */
  double tint = pr_range(&r, -0.03, 0.03);
  sc->paper[0] = 0.985 + tint, sc->paper[1] = 0.985, sc->paper[2] = 0.985 - tint;
  sc->tex_fine = pr_range(&r, 0.004, 0.010);
  sc->tex_mid = pr_range(&r, 0.003, 0.008);
  sc->tex_coarse = pr_range(&r, 0.005, 0.015);

  /* light: mild gradient and vignette */
  sc->exposure = pr_range(&r, 0.82, 0.95);
  sc->grad_amt = pr_range(&r, 0.0, 0.10);
  sc->grad_dir = pr_range(&r, 0, 2 * PI);
  sc->grad_k = pr_range(&r, -0.4, 0.4);
  sc->vig_amt = pr_range(&r, 0.0, 0.08);
  sc->vig_dx = pr_range(&r, -0.1, 0.1);
  sc->vig_dy = pr_range(&r, -0.1, 0.1);

  /* camera */
  sc->blur = pr_range(&r, 0.0015, 0.004);
  sc->noise = pr_range(&r, 1.5, 3.0);
  sc->chroma = pr_range(&r, 0.3, 0.6);

  /* the condition, on top */
  switch (cond) {
  case C_CLEAN:
    if (k % 10 == 9) sc->quality = 0;
    break;
  case C_GRADIENT:
    sc->grad_amt = pr_range(&r, 0.45, 0.65);
    sc->grad_k = pr_range(&r, -0.5, 0.6);
    break;
  case C_VIGNETTE:
    sc->vig_amt = pr_range(&r, 0.40, 0.65);
    sc->vig_dx = pr_range(&r, -0.15, 0.15);
    sc->vig_dy = pr_range(&r, -0.15, 0.15);
    break;
  case C_SHADOW:
    sc->shadow = 1;
    sc->sh_depth = pr_range(&r, 0.30, 0.60);
    sc->sh_pen = pr_range(&r, 0.02, 0.15);
    sc->sh_dir = pr_range(&r, 0, 2 * PI);
    sc->sh_dx = pr_range(&r, -0.3, 0.3);
    sc->sh_dy = pr_range(&r, -0.3, 0.3);
    sc->sh_curved = pr_unif(&r) < 0.5;
    sc->sh_radius = pr_range(&r, 0.8, 2.5);
    sc->sh_tint[0] = pr_range(&r, 0.90, 1.0);
    sc->sh_tint[1] = pr_range(&r, 0.95, 1.0);
    sc->sh_tint[2] = 1.0;
    break;
  case C_TEXTURE:
    sc->tex_fine = pr_range(&r, 0.03, 0.06);
    sc->tex_mid = pr_range(&r, 0.02, 0.04);
    sc->tex_coarse = pr_range(&r, 0.02, 0.05);
    sc->tex_fibre = pr_range(&r, 0.02, 0.04);
    sc->noise = pr_range(&r, 6, 12);
    sc->chroma = pr_range(&r, 0.5, 1.0);
    break;
  case C_BLUR:
    sc->blur = pr_range(&r, 0.01, 0.03);
    break;
  case C_RULED:
  case C_SQUARED: {
    sc->lines = cond == C_RULED ? 1 : 2;
    sc->lspace = cond == C_RULED ? pr_range(&r, 0.30, 0.60) : pr_range(&r, 0.25, 0.45);
    sc->lphase_u = pr_unif(&r), sc->lphase_v = pr_unif(&r);
    sc->lwidth = pr_range(&r, 0.20, 0.40); /* of the pen's width */
    int grey = pr_unif(&r) < 0.35;
    double l = pr_range(&r, 0.66, 0.80);
    if (grey)
      sc->lcol[0] = sc->lcol[1] = sc->lcol[2] = l + 0.05;
    else
      sc->lcol[0] = l - 0.08, sc->lcol[1] = l + 0.02, sc->lcol[2] = 0.97;
    break;
  }
  case C_MARGIN: {
    sc->margin = 1;
    int touch = pr_unif(&r) < 0.35;
    /* gap from the digit's ink to the line; touching: overlaps the stroke */
    sc->m_off = touch ? pr_range(&r, -0.6, 0.1) * sc->wfrac : pr_range(&r, 0.05, 0.35);
    sc->m_side = pr_unif(&r) < 0.7 ? -1 : 1;
    sc->m_double = pr_unif(&r) < 0.3;
    sc->m_gap = pr_range(&r, 0.02, 0.04);
    sc->m_width = pr_range(&r, 0.35, 0.70);
    int pink = pr_unif(&r) < 0.5;
    sc->m_col[0] = 0.93;
    sc->m_col[1] = pink ? pr_range(&r, 0.55, 0.68) : pr_range(&r, 0.35, 0.48);
    sc->m_col[2] = sc->m_col[1] + 0.06;
    break;
  }
  case C_BOX: {
    sc->box = 1;
    int touch = pr_unif(&r) < 0.35 ? pr_below(&r, 4) : -1;
    for (int i = 0; i < 4; i++)
      /* ink edge to the side's centre line; touching: on the stroke */
      sc->box_m[i] = i == touch ? pr_range(&r, -0.3, 0.5) * sc->wfrac : pr_range(&r, 0.06, 0.30);
    sc->box_wob = pr_range(&r, 0.005, 0.025);
    sc->box_over = pr_range(&r, 0.0, 0.04);
    sc->box_pen = pr_range(&r, 0.75, 1.0);
    sc->frac = pr_range(&r, 0.38, 0.52);
    break;
  }
  case C_SPECKS:
    sc->specks = 1;
    break;
  case C_EDGE: {
    static const double tables[4][3] = {
        {0.36, 0.25, 0.17}, {0.62, 0.48, 0.34}, {0.40, 0.41, 0.44}, {0.13, 0.13, 0.14}};
    const double *t = tables[pr_below(&r, 4)];
    double b = pr_range(&r, 0.85, 1.15);
    for (int c = 0; c < 3; c++) sc->table[c] = t[c] * b;
    sc->table_tex = pr_range(&r, 0.04, 0.10);
    sc->edges = pr_unif(&r) < 0.5 ? 2 : 1;
    sc->e_side = pr_below(&r, 4);
    sc->e_corner = pr_unif(&r) < 0.5 ? 1 : 3; /* which neighbour side */
    for (int i = 0; i < 2; i++) {
      sc->e_gap[i] = pr_range(&r, 0.15, 0.85);
      sc->e_tilt[i] = pr_range(&r, -8, 8) * PI / 180;
    }
    break;
  }
  case C_PENCIL: {
    double g = pr_range(&r, 0.42, 0.58);
    sc->ink[0] = g, sc->ink[1] = g, sc->ink[2] = g + 0.03;
    sc->alpha = pr_range(&r, 0.70, 0.90);
    sc->grain = pr_range(&r, 0.5, 0.8);
    sc->wfrac = 1 / pr_range(&r, 16, 22);
    sc->pressure = pr_range(&r, 0.10, 0.25);
    break;
  }
  case C_MARKER: {
    double d = pr_range(&r, 0.05, 0.10);
    sc->ink[0] = d, sc->ink[1] = d, sc->ink[2] = d + pr_range(&r, 0, 0.06);
    sc->alpha = 1;
    sc->wfrac = 1 / pr_range(&r, 5.0, 6.5);
    sc->pressure = pr_range(&r, 0.0, 0.04);
    break;
  }
  case C_BLUE:
    sc->ink[0] = pr_range(&r, 0.12, 0.25);
    sc->ink[1] = pr_range(&r, 0.20, 0.35);
    sc->ink[2] = pr_range(&r, 0.55, 0.75);
    break;
  case C_RED:
    sc->ink[0] = pr_range(&r, 0.70, 0.85);
    sc->ink[1] = pr_range(&r, 0.10, 0.22);
    sc->ink[2] = pr_range(&r, 0.12, 0.25);
    break;
  case C_YELLOW:
    sc->paper[0] = 1.0;
    sc->paper[1] = pr_range(&r, 0.90, 0.95);
    sc->paper[2] = pr_range(&r, 0.55, 0.72);
    break;
  case C_GREY: {
    double g = pr_range(&r, 0.60, 0.75), t = pr_range(&r, -0.03, 0.03);
    sc->paper[0] = g + t, sc->paper[1] = g, sc->paper[2] = g - t;
    break;
  }
  case C_ROTATION:
    sc->rot = pr_sign(&r) * pr_range(&r, 5, 15) * PI / 180;
    break;
  case C_PERSPECTIVE:
    sc->persp = pr_range(&r, 0.08, 0.18);
    break;
  case C_JPEG:
    sc->quality = 60 + pr_below(&r, 11);
    break;
  case C_LARGE: {
    int n = (int)(sizeof large_sizes / sizeof large_sizes[0]);
    int i = k % 4 == 0 ? 0 : 1 + pr_below(&r, n - 1);
    sc->W = large_sizes[i][0], sc->H = large_sizes[i][1];
    break;
  }
  case C_SMALL: {
    int s = 200 + pr_below(&r, 101);
    sc->W = s;
    sc->H = pr_unif(&r) < 0.5 ? s : 200 + pr_below(&r, 101);
    if (k % 10 == 9) sc->quality = 0;
    break;
  }
  case C_OFFCENTRE: {
    sc->frac = pr_range(&r, 0.20, 0.35);
    double a = pr_range(&r, 0, 2 * PI), d = pr_range(&r, 0.18, 0.40);
    sc->cx = 0.5 + d * cos(a);
    sc->cy = 0.5 + d * sin(a);
    break;
  }
  case C_BIG:
    sc->frac = pr_range(&r, 0.70, 0.80);
    break;
  }
}

/* ---- rendering ------------------------------------------------------------ */

/* Paper -> image: image = T + P(R q), P(x, y) = (x, y) / (1 + g x + h y). */
typedef struct {
  double c, s, g, h, tx, ty;
} camera;

static void cam_fwd(const camera *k, double u, double v, double *x, double *y) {
  double a = k->c * u - k->s * v, b = k->s * u + k->c * v;
  double w = 1 + k->g * a + k->h * b;
  *x = k->tx + a / w, *y = k->ty + b / w;
}
static void cam_inv(const camera *k, double x, double y, double *u, double *v) {
  double a = x - k->tx, b = y - k->ty;
  double w = 1 / (1 - k->g * a - k->h * b);
  a *= w, b *= w;
  *u = k->c * a + k->s * b, *v = -k->s * a + k->c * b;
}

/* Catmull-Rom weights for bicubic sampling */
static void cubic_w(double t, double w[4]) {
  double t2 = t * t, t3 = t2 * t;
  w[0] = -0.5 * t3 + t2 - 0.5 * t;
  w[1] = 1.5 * t3 - 2.5 * t2 + 1;
  w[2] = -1.5 * t3 + 2 * t2 + 0.5 * t;
  w[3] = 0.5 * t3 - 0.5 * t2;
}

/* The glyph's geometry in glyph units, before it gets a size. */
typedef struct {
  polyline_set *poly;      /* pen glyph, or NULL */
  double bx0, bx1, by0, by1; /* pen: polyline box; MNIST: ink box (px) */
  const uint8_t *img;       /* MNIST digit (28x28), or NULL */
  double aspect;            /* ink box width / height once drawn */
} glyph;

/* Draw the digit into a new layer around paper (0, 0) at height dh pixels
 * (pen radius pr). */
static int draw_digit(const scene *sc, const glyph *gl, double dh, double pr,
                      layer *L) {
  double hw = gl->aspect * dh / 2 + pr + 4, hh = dh / 2 + pr + 4;
  int st = layer_new(L, -hw, -hh, hw, hh);
  if (st) return st;
  if (gl->poly) {
    const polyline_set *p = gl->poly;
    double bh = gl->by1 - gl->by0, s = (dh - 2 * pr) / bh;
    double mx = (gl->bx0 + gl->bx1) / 2, my = (gl->by0 + gl->by1) / 2;
    for (int q = 0; q < p->nstrokes; q++) {
      int a = p->start[q], b = p->start[q + 1];
      double len = 0, total = 0;
      for (int i = a + 1; i < b; i++)
        total += s * sqrt((p->x[i] - p->x[i - 1]) * (p->x[i] - p->x[i - 1]) +
                          (p->y[i] - p->y[i - 1]) * (p->y[i] - p->y[i - 1]));
      double prev_r = 0;
      for (int i = a; i < b; i++) {
        if (i > a)
          len += s * sqrt((p->x[i] - p->x[i - 1]) * (p->x[i] - p->x[i - 1]) +
                          (p->y[i] - p->y[i - 1]) * (p->y[i] - p->y[i - 1]));
        /* pressure: a slow wave along the stroke, a light start and end */
        double ends = len < total - len ? len : total - len;
        double taper = 0.8 + 0.2 * smoothstep(0, 0.08 * dh, ends);
        double rr = pr * (1 + sc->pressure * sin(sc->pphase + 9.0 * len / dh)) * taper;
        if (i > a)
          layer_capsule(L, s * (p->x[i - 1] - mx), s * (p->y[i - 1] - my), prev_r,
                        s * (p->x[i] - mx), s * (p->y[i] - my), rr, 1);
        else if (b - a == 1)
          layer_capsule(L, s * (p->x[i] - mx), s * (p->y[i] - my), rr,
                        s * (p->x[i] - mx), s * (p->y[i] - my), rr, 1);
        prev_r = rr;
      }
    }
    return DG_OK;
  }
  /* MNIST: q = S A (m - c), A = [[xs, -xs slant], [0, 1]] turned by grot.
   * The 28x28 digit is first upsampled 4x (bicubic) and smoothed (Gaussian,
   * 0.6 source pixels) so that its outline is a smooth curve rather than a
   * ripple along the pixel grid; that field is sampled bicubically and cut
   * at an iso-line with a one-pixel anti-aliased edge (signed
   * distance ~ (v - t) / |grad v|). */
  enum { F = 4, FN = 28 * F + 16, FO = 8 }; /* field side, border */
  float *field = calloc((size_t)FN * FN * 2, sizeof(float));
  if (!field) return dg_error(DG_ERR_NOMEM, "photo: out of memory");
  float *ftmp = field + FN * FN;
  for (int j = 0; j < FN; j++)
    for (int i = 0; i < FN; i++) {
      double mx = (i - FO + 0.5) / F - 0.5, my = (j - FO + 0.5) / F - 0.5;
      double fx = floor(mx), fy = floor(my), wx[4], wy[4], acc = 0;
      cubic_w(mx - fx, wx);
      cubic_w(my - fy, wy);
      for (int b = 0; b < 4; b++) {
        int yy = (int)fy - 1 + b;
        if (yy < 0 || yy > 27) continue;
        for (int a = 0; a < 4; a++) {
          int xx = (int)fx - 1 + a;
          if (xx >= 0 && xx <= 27) acc += wy[b] * wx[a] * gl->img[yy * 28 + xx];
        }
      }
      field[j * FN + i] = (float)clampd(acc / 255.0, 0, 1);
    }
  {
    const double sg = 0.6 * F;
    const int kr = (int)ceil(3 * sg);
    double kw[32], ks = 0;
    for (int i = -kr; i <= kr; i++) ks += kw[i + kr] = exp(-0.5 * i * i / (sg * sg));
    for (int pass = 0; pass < 2; pass++) { /* rows into ftmp, then columns back */
      const float *src = pass ? ftmp : field;
      float *dst = pass ? field : ftmp;
      for (int j = 0; j < FN; j++)
        for (int i = 0; i < FN; i++) {
          double acc = 0;
          for (int t = -kr; t <= kr; t++) {
            int ii = pass ? i : i + t, jj = pass ? j + t : j;
            if (ii < 0 || jj < 0 || ii >= FN || jj >= FN) continue;
            acc += kw[t + kr] * src[jj * FN + ii];
          }
          dst[j * FN + i] = (float)(acc / ks);
        }
    }
  }
  double S = dh / (gl->by1 - gl->by0);
  /* the iso-level whose stroke width (2 area / perimeter) is nearest the
   * pen's; what is left over is grown or thinned along the edge */
  const double target = sc->wfrac * (gl->by1 - gl->by0) * F; /* field px */
  /* no higher than most of the digit's inked pixels reach once smoothed,
   * so that its thin strokes stay: 0.85 x the 10th percentile */
  int ncore = 0, hist[101] = {0};
  for (int y = 0; y < 28; y++)
    for (int x = 0; x < 28; x++)
      if (gl->img[y * 28 + x] >= 128) {
        float fv = field[(y * F + FO + F / 2) * FN + x * F + FO + F / 2];
        hist[(int)(fv * 100 + 0.5)]++, ncore++;
      }
  double iso_max = 0.7;
  for (int b = 0, acc = 0; b <= 100 && ncore; b++)
    if ((acc += hist[b]) >= ncore / 10) {
      iso_max = fmin(iso_max, 0.85 * b / 100.0);
      break;
    }
  double iso = fmin(0.5, iso_max), wbest = target, ebest = 1e18;
  for (int ti = 0; ti <= 11; ti++) {
    double t = 0.15 + 0.05 * ti;
    if (t > iso_max + 1e-9) break;
    long area = 0, edges = 0;
    for (int j = 0; j < FN; j++)
      for (int i = 0; i < FN; i++) {
        int in = field[j * FN + i] >= t;
        area += in;
        if (i + 1 < FN) edges += in != (field[j * FN + i + 1] >= t);
        if (j + 1 < FN) edges += in != (field[(j + 1) * FN + i] >= t);
      }
    if (!area || !edges) continue;
    /* grid edges overcount a curve's length by 4/pi on average */
    double w = 2.0 * area / (edges * (PI / 4));
    if (fabs(w - target) < ebest) ebest = fabs(w - target), iso = t, wbest = w;
  }
  const double dil = clampd((target - wbest) / 2, -0.4 * wbest, 0.5 * wbest) / F * S;
  double mcx = (gl->bx0 + gl->bx1) / 2, mcy = (gl->by0 + gl->by1) / 2;
  double cr = cos(sc->grot), sr = sin(sc->grot);
  float *v = malloc(sizeof(float) * (size_t)L->w * L->h);
  if (!v) {
    free(field);
    return dg_error(DG_ERR_NOMEM, "photo: out of memory");
  }
  for (int j = 0; j < L->h; j++)
    for (int i = 0; i < L->w; i++) {
      double qx = (L->x0 + i) / S, qy = (L->y0 + j) / S;
      double ax = cr * qx + sr * qy, ay = -sr * qx + cr * qy; /* un-turn */
      double my = ay, mx = ax / sc->xs + sc->slant * ay;   /* un-shear */
      /* MNIST coordinates (0..28) -> field sample index space */
      double fxp = (mx + mcx) * F + FO - 0.5, fyp = (my + mcy) * F + FO - 0.5;
      double fx = floor(fxp), fy = floor(fyp), wx[4], wy[4], acc = 0;
      cubic_w(fxp - fx, wx);
      cubic_w(fyp - fy, wy);
      int ix = (int)fx - 1, iy = (int)fy - 1;
      for (int b = 0; b < 4; b++) {
        int yy = iy + b;
        if (yy < 0 || yy >= FN) continue;
        double rowacc = 0;
        for (int a = 0; a < 4; a++) {
          int xx = ix + a;
          if (xx >= 0 && xx < FN) rowacc += wx[a] * field[yy * FN + xx];
        }
        acc += wy[b] * rowacc;
      }
      v[(size_t)j * L->w + i] = (float)clampd(acc, 0, 1);
    }
  free(field);
  for (int j = 1; j + 1 < L->h; j++)
    for (int i = 1; i + 1 < L->w; i++) {
      size_t o = (size_t)j * L->w + i;
      double gx = 0.5 * (v[o + 1] - v[o - 1]), gy = 0.5 * (v[o + L->w] - v[o - L->w]);
      double g = sqrt(gx * gx + gy * gy);
      double d = (v[o] - iso) / (g > 1e-6 ? g : 1e-6) + dil;
      if (v[o] < 0.02) d = -1e9; /* no ink grown out of empty paper */
      L->a[o] = (float)clampd(0.5 + d, 0, 1);
    }
  free(v);
  return DG_OK;
}

/* Gaussian blur of one plane (h, w) in place; tmp holds w*h floats. Small
 * sigmas exactly, large ones as three box passes (same variance). */
static void box_h(const float *src, float *dst, int w, int h, int r) {
  double inv = 1.0 / (2 * r + 1);
  for (int y = 0; y < h; y++) {
    const float *s = src + (size_t)y * w;
    float *d = dst + (size_t)y * w;
    double acc = 0;
    for (int k = -r; k <= r; k++) acc += s[k < 0 ? 0 : k >= w ? w - 1 : k];
    for (int x = 0; x < w; x++) {
      d[x] = (float)(acc * inv);
      int add = x + r + 1, sub = x - r;
      acc += s[add >= w ? w - 1 : add] - s[sub < 0 ? 0 : sub];
    }
  }
}
static void box_v(const float *src, float *dst, int w, int h, int r,
                  double *acc) {
  double inv = 1.0 / (2 * r + 1);
  for (int x = 0; x < w; x++) acc[x] = 0;
  for (int k = -r; k <= r; k++) {
    const float *s = src + (size_t)(k < 0 ? 0 : k >= h ? h - 1 : k) * w;
    for (int x = 0; x < w; x++) acc[x] += s[x];
  }
  for (int y = 0; y < h; y++) {
    float *d = dst + (size_t)y * w;
    int add = y + r + 1, sub = y - r;
    const float *a = src + (size_t)(add >= h ? h - 1 : add) * w;
    const float *b = src + (size_t)(sub < 0 ? 0 : sub) * w;
    for (int x = 0; x < w; x++) {
      d[x] = (float)(acc[x] * inv);
      acc[x] += a[x] - b[x];
    }
  }
}

static int blur_plane(float *p, int w, int h, double sigma, float *tmp) {
  if (sigma < 0.3) return DG_OK;
  if (sigma <= 1.5) {
    int r = (int)ceil(3 * sigma);
    double k[32], sum = 0;
    for (int i = -r; i <= r; i++) sum += k[i + r] = exp(-0.5 * i * i / (sigma * sigma));
    for (int i = 0; i <= 2 * r; i++) k[i] /= sum;
    for (int y = 0; y < h; y++) {
      const float *s = p + (size_t)y * w;
      float *d = tmp + (size_t)y * w;
      for (int x = 0; x < w; x++) {
        double acc = 0;
        for (int i = -r; i <= r; i++) {
          int xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;
          acc += k[i + r] * s[xx];
        }
        d[x] = (float)acc;
      }
    }
    for (int y = 0; y < h; y++) {
      float *d = p + (size_t)y * w;
      for (int x = 0; x < w; x++) d[x] = 0;
      for (int i = -r; i <= r; i++) {
        int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
        const float *s = tmp + (size_t)yy * w;
        float kk = (float)k[i + r];
        for (int x = 0; x < w; x++) d[x] += kk * s[x];
      }
    }
    return DG_OK;
  }
  /* three boxes: widths wl or wl + 2 so that the variances add to sigma^2 */
  double *acc = malloc(sizeof(double) * w);
  if (!acc) return dg_error(DG_ERR_NOMEM, "photo: out of memory");
  int wl = (int)floor(sqrt(12 * sigma * sigma / 3 + 1));
  if (wl % 2 == 0) wl--;
  int m = (int)floor((12 * sigma * sigma - 3.0 * wl * wl - 12.0 * wl - 9) /
                         (-4.0 * wl - 4) + 0.5);
  for (int pass = 0; pass < 3; pass++) {
    int r = ((pass < m ? wl : wl + 2) - 1) / 2;
    box_h(p, tmp, w, h, r);
    box_v(tmp, p, w, h, r, acc);
  }
  free(acc);
  return DG_OK;
}

static int render(const photo_set *set, int cond, int k, uint64_t seed,
                  int clean, uint8_t **rgb_out, photo_info *info) {
  if (cond < 0 || cond >= C_COUNT || k < 0 || !rgb_out || !info)
    return dg_error(DG_ERR_ARG, "photo: bad condition %d or image %d", cond, k);
  if (k % 2 == 0 && !set)
    return dg_error(DG_ERR_ARG, "photo %s-%d: needs the MNIST test digits",
                    cond_names[cond], k);
  scene sc;
  scene_make(&sc, set, cond, k, seed);
  if (clean) {
    sc.paper[0] = sc.paper[1] = sc.paper[2] = 1;
    sc.tex_fine = sc.tex_mid = sc.tex_coarse = sc.tex_fibre = 0;
    sc.lines = sc.margin = sc.box = sc.specks = sc.shadow = sc.edges = 0;
    sc.ink[0] = sc.ink[1] = sc.ink[2] = 0;
    sc.alpha = 1, sc.grain = 0;
    sc.exposure = 1, sc.grad_amt = 0, sc.vig_amt = 0;
    sc.blur = 0, sc.noise = 0, sc.chroma = 0;
  }
  const int W = sc.W, H = sc.H, S = W < H ? W : H;
  int st = DG_OK;

  /* the glyph, in glyph units */
  polyline_set *poly = NULL;
  glyph gl = {0};
  prng gr = {sc.glyph_seed};
  if (sc.mnist >= 0) {
    gl.img = set->images + (size_t)sc.mnist * 784;
    int x0 = 28, x1 = -1, y0 = 28, y1 = -1;
    for (int y = 0; y < 28; y++)
      for (int x = 0; x < 28; x++)
        if (gl.img[y * 28 + x] >= 77) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
    if (x1 < 0) x0 = y0 = 4, x1 = y1 = 23;
    gl.bx0 = x0, gl.bx1 = x1 + 1, gl.by0 = y0, gl.by1 = y1 + 1;
    /* MNIST digits carry their own slant and shape: milder changes */
    sc.slant *= 0.4, sc.xs = 1 + 0.5 * (sc.xs - 1), sc.grot *= 0.5;
    double bw = gl.bx1 - gl.bx0, bh = gl.by1 - gl.by0;
    gl.aspect = (sc.xs * bw + fabs(sc.slant) * bh) / bh + 0.1;
  } else {
    poly = malloc(sizeof *poly);
    if (!poly) return dg_error(DG_ERR_NOMEM, "photo: out of memory");
    glyph_polylines(glyphs[sc.label][sc.variant], &gr, sc.jit, sc.slant, sc.xs,
                    sc.grot, poly);
    gl.poly = poly;
    gl.bx0 = gl.by0 = 1e9, gl.bx1 = gl.by1 = -1e9;
    for (int i = 0; i < poly->start[poly->nstrokes]; i++) {
      if (poly->x[i] < gl.bx0) gl.bx0 = poly->x[i];
      if (poly->x[i] > gl.bx1) gl.bx1 = poly->x[i];
      if (poly->y[i] < gl.by0) gl.by0 = poly->y[i];
      if (poly->y[i] > gl.by1) gl.by1 = poly->y[i];
    }
    /* ink width over height once the pen's width is added */
    gl.aspect = (gl.bx1 - gl.bx0) / (gl.by1 - gl.by0) * (1 - sc.wfrac) + sc.wfrac;
  }

  /* size and place: the digit's box (turned, in perspective) inside the
   * frame with a margin; shrink until it fits */
  double dh = sc.frac * S;
  camera cam = {cos(sc.rot), sin(sc.rot), 0, 0, 0, 0};
  cam.g = sc.persp / (0.5 * S) * cos(sc.persp_dir);
  cam.h = sc.persp / (0.5 * S) * sin(sc.persp_dir);
  double margin = 0.02 * S + 2, ex0 = 0, ex1 = 0, ey0 = 0, ey1 = 0;
  for (int iter = 0; iter < 8; iter++) {
    double hw = gl.aspect * dh / 2 + 2, hh = dh / 2 + 2;
    ex0 = ey0 = 1e18, ex1 = ey1 = -1e18;
    for (int c = 0; c < 4; c++) {
      double x, y;
      cam_fwd(&cam, c & 1 ? hw : -hw, c & 2 ? hh : -hh, &x, &y);
      if (x < ex0) ex0 = x;
      if (x > ex1) ex1 = x;
      if (y < ey0) ey0 = y;
      if (y > ey1) ey1 = y;
    }
    double fx = (W - 2 * margin) / (ex1 - ex0), fy = (H - 2 * margin) / (ey1 - ey0);
    double f = fx < fy ? fx : fy;
    if (f >= 1) break;
    dh *= f * 0.99;
  }
  cam.tx = clampd(sc.cx * W, margin - ex0, W - margin - ex1);
  cam.ty = clampd(sc.cy * H, margin - ey0, H - margin - ey1);
  const double pen_r = sc.wfrac * dh / 2;

  /* ink layers: the digit; the extra pen marks (box, specks) over the page */
  layer dig = {0}, ext = {0};
  float *tile = NULL, *planes = NULL, *tmp = NULL;
  if ((st = draw_digit(&sc, &gl, dh, sc.mnist >= 0 ? fmax(pen_r, dh * 0.055) : pen_r, &dig)))
    goto done;
  /* the digit's ink box in paper pixels, for what is drawn around it */
  double pb[4] = {1e18, -1e18, 1e18, -1e18}; /* x0, x1, y0, y1 */
  for (int j = 0; j < dig.h; j++)
    for (int i = 0; i < dig.w; i++)
      if (dig.a[(size_t)j * dig.w + i] >= 0.5f) {
        double x = dig.x0 + i, y = dig.y0 + j;
        if (x < pb[0]) pb[0] = x;
        if (x > pb[1]) pb[1] = x;
        if (y < pb[2]) pb[2] = y;
        if (y > pb[3]) pb[3] = y;
      }
  if (pb[1] < pb[0]) pb[0] = pb[2] = -1, pb[1] = pb[3] = 1;
  if (sc.box || sc.specks) {
    double u0 = 1e18, v0 = 1e18, u1 = -1e18, v1 = -1e18;
    for (int c = 0; c < 4; c++) {
      double u, v;
      cam_inv(&cam, c & 1 ? W : 0, c & 2 ? H : 0, &u, &v);
      if (u < u0) u0 = u;
      if (u > u1) u1 = u;
      if (v < v0) v0 = v;
      if (v > v1) v1 = v;
    }
    if ((st = layer_new(&ext, u0, v0, u1, v1))) goto done;
    prng er = {sc.extra_seed};
    double pr = pen_r * (sc.box ? sc.box_pen : 1);
    if (sc.box) { /* four wobbly sides with the digit's pen */
      double xl = pb[0] - sc.box_m[0] * dh, xr = pb[1] + sc.box_m[1] * dh;
      double yt = pb[2] - sc.box_m[2] * dh, yb = pb[3] + sc.box_m[3] * dh;
      double cx[4] = {xl, xr, xr, xl}, cy[4] = {yt, yt, yb, yb};
      for (int c = 0; c < 4; c++) /* a hand's corners are not square */
        cx[c] += 0.01 * dh * pr_normal(&er), cy[c] += 0.01 * dh * pr_normal(&er);
      for (int side = 0; side < 4; side++) {
        double ax = cx[side], ay = cy[side];
        double bx = cx[(side + 1) & 3], by = cy[(side + 1) & 3];
        double dx = bx - ax, dy = by - ay, len = sqrt(dx * dx + dy * dy);
        /* each end stops short of the corner or runs past it */
        double o0 = dh * (sc.box_over * pr_unif(&er) - 0.01 * pr_unif(&er));
        double o1 = dh * (sc.box_over * pr_unif(&er) - 0.01 * pr_unif(&er));
        ax -= dx / len * o0, ay -= dy / len * o0;
        bx += dx / len * o1, by += dy / len * o1;
        double bow = sc.box_wob * dh * pr_normal(&er);
        double px = -dy / len, py = dx / len, prev_x = ax, prev_y = ay;
        for (int i = 1; i <= 16; i++) {
          double t = i / 16.0, b = 4 * t * (1 - t) * bow;
          double x = ax + t * (bx - ax) + px * b, y = ay + t * (by - ay) + py * b;
          layer_capsule(&ext, prev_x, prev_y, pr, x, y, pr, 1);
          prev_x = x, prev_y = y;
        }
      }
    }
    if (sc.specks) { /* dust, pen dots and short fibres away from the digit */
      int n = 8 + pr_below(&er, 23);
      double keep = 0.15 * dh;
      for (int i = 0, tries = 0; i < n && tries < 1000; tries++) {
        double x = pr_range(&er, 0, W), y = pr_range(&er, 0, H);
        if (x > cam.tx + ex0 - keep && x < cam.tx + ex1 + keep &&
            y > cam.ty + ey0 - keep && y < cam.ty + ey1 + keep)
          continue;
        double u, v;
        cam_inv(&cam, x, y, &u, &v);
        double kind = pr_unif(&er);
        if (kind < 0.5) { /* dust: small, grey */
          double rr = dh * pr_range(&er, 0.004, 0.012) + 0.4;
          layer_capsule(&ext, u, v, rr, u, v, rr, pr_range(&er, 0.35, 0.8));
        } else if (kind < 0.8) { /* a dot of the pen */
          double rr = pr * pr_range(&er, 0.7, 1.5);
          layer_capsule(&ext, u, v, rr, u + pr_normal(&er) * rr * 0.4, v, rr, 1);
        } else { /* a fibre or a hair */
          double a = pr_range(&er, 0, 2 * PI), l = dh * pr_range(&er, 0.02, 0.08);
          double rr = pr_range(&er, 0.3, 0.8) + dh * 0.002;
          layer_capsule(&ext, u, v, rr, u + l * cos(a), v + l * sin(a), rr,
                        pr_range(&er, 0.4, 0.9));
        }
        i++;
      }
    }
  }

  /* textures: paper and pencil grain share one periodic noise tile */
  tile = malloc(sizeof(float) * TILE * TILE);
  planes = malloc(sizeof(float) * 3 * (size_t)W * H);
  if (!tile || !planes) {
    st = dg_error(DG_ERR_NOMEM, "photo: out of memory (%d x %d)", W, H);
    goto done;
  }
  {
    prng tr = {sc.tex_seed};
    tile_make(tile, &tr);
  }
  const double s_fine = 1.0 / (0.004 * dh + 0.6), s_mid = 1.0 / (0.03 * dh);
  const double s_coarse = 1.0 / (0.25 * dh), s_grain = 1.0 / (0.0025 * dh + 0.45);
  const double lsp = sc.lspace * dh, lw = fmax(0.8, sc.lwidth * 2 * pen_r);
  const double lu0 = sc.lphase_u * lsp, lv0 = sc.lphase_v * lsp;
  const double mw = fmax(0.9, sc.m_width * 2 * pen_r);
  const double mu = sc.m_side < 0 ? pb[0] - sc.m_off * dh - mw / 2
                                  : pb[1] + sc.m_off * dh + mw / 2;
  const double mgap = sc.m_gap * dh;
  /* the sheet's edges (condition edge): the sheet is q.n < o in paper
   * pixels, placed between the digit and the frame on that side */
  double en[2][2] = {{0, 0}, {0, 0}}, eo[2] = {1e18, 1e18};
  for (int i = 0; i < sc.edges; i++) {
    static const double dirs[4][2] = {{-1, 0}, {0, -1}, {1, 0}, {0, 1}};
    int side = ((int)sc.e_side + (i ? (int)sc.e_corner : 0)) & 3;
    double room = side == 0   ? cam.tx + ex0
                  : side == 1 ? cam.ty + ey0
                  : side == 2 ? W - (cam.tx + ex1)
                              : H - (cam.ty + ey1);
    if (room < 0.04 * S) continue; /* no room: that edge is out of frame */
    double a = atan2(dirs[side][1], dirs[side][0]) - sc.rot + sc.e_tilt[i];
    en[i][0] = cos(a), en[i][1] = sin(a);
    double ext = -1e18;
    for (int c = 0; c < 4; c++)
      ext = fmax(ext, pb[c & 1] * en[i][0] + pb[2 + (c >> 1)] * en[i][1]);
    eo[i] = ext + sc.e_gap[i] * room;
  }
  /* light */
  const double gdx = cos(sc.grad_dir), gdy = sin(sc.grad_dir);
  const double gspan = 0.5 * (fabs(W * gdx) + fabs(H * gdy));
  const double vcx = W * (0.5 + sc.vig_dx), vcy = H * (0.5 + sc.vig_dy);
  const double vr2 = 1.0 / (0.25 * ((double)W * W + (double)H * H));
  const double snx = cos(sc.sh_dir), sny = sin(sc.sh_dir);
  const double spx = cam.tx + sc.sh_dx * dh, spy = cam.ty + sc.sh_dy * dh;
  const double srad = sc.sh_radius * S;
  const double sccx = spx - snx * srad, sccy = spy - sny * srad;
  const double spen = fmax(1.0, sc.sh_pen * dh);
  int bx0 = W, by0 = H, bx1 = -1, by1 = -1;
  float *R = planes, *G = planes + (size_t)W * H, *B = planes + 2 * (size_t)W * H;
  for (int y = 0; y < H; y++) {
    for (int x = 0; x < W; x++) {
      double px = x + 0.5, py = y + 0.5, u, v;
      cam_inv(&cam, px, py, &u, &v);
      /* paper */
      double t = 1;
      if (sc.tex_fine > 0 || sc.tex_mid > 0 || sc.tex_coarse > 0)
        t += sc.tex_fine * tile_sample(tile, u * s_fine + 17.3, v * s_fine + 5.1) +
             sc.tex_mid * tile_sample(tile, u * s_mid + 91.7, v * s_mid + 33.9) +
             sc.tex_coarse * tile_sample(tile, u * s_coarse + 47.2, v * s_coarse + 140.6);
      if (sc.tex_fibre > 0)
        t += sc.tex_fibre * tile_sample(tile, u * s_fine * 0.25 + 203.1, v * s_fine * 1.5 + 77.7);
      double c[3] = {sc.paper[0] * t, sc.paper[1] * t, sc.paper[2] * t};
      /* printed lines: exact 1-D overlap of a line of width lw with the pixel */
      double lc = 0;
      if (sc.lines) {
        double f = (v - lv0) / lsp, d = fabs(f - floor(f + 0.5)) * lsp;
        lc = clampd(fmin(d + lw / 2, 0.5) - fmax(d - lw / 2, -0.5), 0, 1);
        if (sc.lines == 2) {
          f = (u - lu0) / lsp, d = fabs(f - floor(f + 0.5)) * lsp;
          lc = fmax(lc, clampd(fmin(d + lw / 2, 0.5) - fmax(d - lw / 2, -0.5), 0, 1));
        }
        for (int ch = 0; ch < 3; ch++) c[ch] *= 1 - lc * (1 - sc.lcol[ch]);
      }
      if (sc.margin) {
        double d = fabs(u - mu);
        if (sc.m_double) d = fmin(d, fabs(u - mu - sc.m_side * mgap));
        double mc = clampd(fmin(d + mw / 2, 0.5) - fmax(d - mw / 2, -0.5), 0, 1);
        for (int ch = 0; ch < 3; ch++) c[ch] *= 1 - mc * (1 - sc.m_col[ch]);
      }
      /* ink */
      double dcov = layer_sample(&dig, u, v);
      if (dcov >= 0.5) {
        if (x < bx0) bx0 = x;
        if (x > bx1) bx1 = x;
        if (y < by0) by0 = y;
        if (y > by1) by1 = y;
      }
      double a = dcov;
      if (ext.a) a = fmax(a, layer_sample(&ext, u, v));
      if (a > 0) {
        if (sc.grain > 0) {
          /* graphite on the paper's tooth: fine grain, thinner at the edges */
          double g = tile_sample(tile, u * s_grain + 311.4, v * s_grain + 12.8);
          a *= a * clampd(1 - sc.grain * (0.35 - 0.45 * g), 0.15, 1);
        }
        a *= sc.alpha;
        for (int ch = 0; ch < 3; ch++) c[ch] *= 1 - a * (1 - sc.ink[ch]);
      }
      /* beyond the sheet's edge: the table, darker where the sheet's
       * shadow falls */
      if (sc.edges) {
        double inside = fmin(eo[0] - (u * en[0][0] + v * en[0][1]),
                             eo[1] - (u * en[1][0] + v * en[1][1]));
        double bg = clampd(0.5 - inside, 0, 1);
        if (bg > 0) {
          double tt = 1 + sc.table_tex * tile_sample(tile, u * s_mid * 0.4 + 5.5,
                                                     v * s_mid * 3 + 9.1);
          double sh = 1 - 0.35 * (1 - smoothstep(0, 0.05 * dh, -inside));
          for (int ch = 0; ch < 3; ch++)
            c[ch] = c[ch] * (1 - bg) + bg * sc.table[ch] * tt * sh;
        }
      }
      /* light */
      double L = sc.exposure * 255;
      if (sc.grad_amt > 0) {
        double g = 0.5 + 0.5 * ((px - 0.5 * W) * gdx + (py - 0.5 * H) * gdy) / gspan;
        g = clampd(g, 0, 1);
        L *= 1 - sc.grad_amt * g * (1 - sc.grad_k + sc.grad_k * g);
      }
      if (sc.vig_amt > 0) {
        double r2 = ((px - vcx) * (px - vcx) + (py - vcy) * (py - vcy)) * vr2;
        L *= 1 - sc.vig_amt * r2 * (0.6 + 0.4 * r2);
      }
      if (sc.shadow) {
        double sd = sc.sh_curved
                        ? srad - sqrt((px - sccx) * (px - sccx) + (py - sccy) * (py - sccy))
                        : (px - spx) * snx + (py - spy) * sny;
        double f = smoothstep(-spen, spen, sd);
        L *= 1 - (1 - sc.sh_depth) * f;
        for (int ch = 0; ch < 3; ch++) c[ch] *= 1 - f * (1 - sc.sh_tint[ch]);
      }
      size_t o = (size_t)y * W + x;
      R[o] = (float)(c[0] * L), G[o] = (float)(c[1] * L), B[o] = (float)(c[2] * L);
    }
  }
  if (bx1 < 0) {
    st = dg_error(DG_ERR_ARG, "photo %s-%d: the digit came out empty",
                  cond_names[cond], k);
    goto done;
  }

  /* camera blur, then sensor noise (luminance plus a little colour) */
  if (sc.blur > 0) {
    tmp = malloc(sizeof(float) * (size_t)W * H);
    if (!tmp) {
      st = dg_error(DG_ERR_NOMEM, "photo: out of memory");
      goto done;
    }
    double sigma = fmax(0.4, sc.blur * dh);
    for (int ch = 0; ch < 3; ch++)
      if ((st = blur_plane(planes + ch * (size_t)W * H, W, H, sigma, tmp))) goto done;
  }
  uint8_t *rgb = malloc((size_t)W * H * 3);
  if (!rgb) {
    st = dg_error(DG_ERR_NOMEM, "photo: out of memory");
    goto done;
  }
  prng nr = {sc.noise_seed};
  const float nl = (float)sc.noise, nc = (float)(sc.noise * sc.chroma);
  for (size_t o = 0; o < (size_t)W * H; o++) {
    float n[4] = {0, 0, 0, 0};
    if (nl > 0) {
      uint64_t q = pr_next(&nr), q2 = pr_next(&nr);
      /* Irwin-Hall of four 16-bit uniforms: near-normal, unit sigma */
      n[0] = (float)(((double)(q & 0xFFFF) + (double)((q >> 16) & 0xFFFF) +
                      (double)((q >> 32) & 0xFFFF) + (double)(q >> 48)) / 65536.0 - 2.0) *
             1.7320508f;
      for (int ch = 0; ch < 3; ch++) /* uniform, unit sigma */
        n[ch + 1] = (float)((double)((q2 >> (21 * ch)) & 0x1FFFFF) / 2097152.0 - 0.5) *
                    3.4641016f;
    }
    float lum = 0.3f * R[o] + 0.59f * G[o] + 0.11f * B[o];
    float sig = nl * (0.55f + 0.45f * lum / 220.0f);
    float vals[3] = {R[o], G[o], B[o]};
    for (int ch = 0; ch < 3; ch++) {
      float val = vals[ch] + sig * n[0] + nc * n[ch + 1];
      int iv = (int)floorf(val + 0.5f);
      rgb[o * 3 + ch] = (uint8_t)(iv < 0 ? 0 : iv > 255 ? 255 : iv);
    }
  }
  *rgb_out = rgb;
  memset(info, 0, sizeof *info);
  info->w = W, info->h = H, info->label = sc.label;
  info->box[0] = bx0, info->box[1] = by0;
  info->box[2] = bx1 - bx0 + 1, info->box[3] = by1 - by0 + 1;
  info->quality = sc.quality;
  snprintf(info->source, sizeof info->source, "%s", sc.source);
done:
  free(poly);
  free(dig.a);
  free(ext.a);
  free(tile);
  free(planes);
  free(tmp);
  return st;
}

int photo_render(const photo_set *s, int cond, int k, uint64_t seed,
                 uint8_t **rgb, photo_info *info) {
  return render(s, cond, k, seed, 0, rgb, info);
}

int photo_render_clean(const photo_set *s, int cond, int k, uint64_t seed,
                       uint8_t **rgb, photo_info *info) {
  return render(s, cond, k, seed, 1, rgb, info);
}

/* ---- files -------------------------------------------------------------------- */

int photo_write(const char *path, const uint8_t *rgb, int w, int h,
                int quality) {
  if (!path || !rgb || w < 1 || h < 1)
    return dg_error(DG_ERR_ARG, "photo write: bad argument");
  size_t n = strlen(path);
  if (n >= 4 && (strcmp(path + n - 4, ".png") == 0 || strcmp(path + n - 4, ".PNG") == 0))
    return dg_image_write_png(path, rgb, w, h, 3);
  return dg_image_write_jpeg(path, rgb, w, h, 3, quality > 0 ? quality : 90);
}

/* ---- boxes -------------------------------------------------------------------- */

double photo_box_iou(const int a[4], const int b[4]) {
  int x0 = a[0] > b[0] ? a[0] : b[0], y0 = a[1] > b[1] ? a[1] : b[1];
  int x1 = a[0] + a[2] < b[0] + b[2] ? a[0] + a[2] : b[0] + b[2];
  int y1 = a[1] + a[3] < b[1] + b[3] ? a[1] + a[3] : b[1] + b[3];
  if (x1 <= x0 || y1 <= y0) return 0;
  double in = (double)(x1 - x0) * (y1 - y0);
  return in / ((double)a[2] * a[3] + (double)b[2] * b[3] - in);
}
