/* number_lib.c: rendering the number test set (number_lib.h). Each digit
 * is a MNIST test digit cropped to its ink, scaled to the number's height
 * (with size variation), sheared by the number's slant, set on its own
 * baseline; neighbours are placed by the gap between their ink row by row
 * (ordinary, tight, or touching: strokes overlapping by a pixel or more).
 * All randomness from splitmix64 streams, no libm randomness. */
#include "number_lib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const number_spacing_names[NS_SPACINGS] = {"ordinary", "tight",
                                                       "touching"};
const char *const number_background_names[NB_BACKGROUNDS] = {"canvas",
                                                             "photo"};

static uint64_t next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}
static double uni(uint64_t *s, double a, double b) {
  return a + (b - a) * (double)(next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* One digit rendered alone: coverage (h, w) 0..1. */
typedef struct {
  float *cov;
  int w, h;
} glyph;

static float mnist_at(const float *img, int x, int y) {
  return x < 0 || y < 0 || x > 27 || y > 27 ? 0.0f : img[y * 28 + x];
}

static int render_glyph(const float *img, double Hd, double shear, glyph *g) {
  int bx0 = 28, by0 = 28, bx1 = -1, by1 = -1;
  for (int y = 0; y < 28; y++)
    for (int x = 0; x < 28; x++)
      if (img[y * 28 + x] > 0.1f) {
        if (x < bx0) bx0 = x;
        if (x > bx1) bx1 = x;
        if (y < by0) by0 = y;
        if (y > by1) by1 = y;
      }
  if (bx1 < 0) bx0 = by0 = 0, bx1 = by1 = 27;
  const double s = Hd / (by1 - by0 + 1), pad = 2;
  const double xoff = pad + (shear < 0 ? -shear * Hd : 0);
  g->w = (int)ceil((bx1 - bx0 + 1) * s + fabs(shear) * Hd + 2 * pad);
  g->h = (int)ceil(Hd + 2 * pad);
  g->cov = calloc((size_t)g->w * g->h, sizeof(float));
  if (!g->cov) return -1;
  for (int v = 0; v < g->h; v++)
    for (int u = 0; u < g->w; u++) {
      const double vv = v + 0.5 - pad;
      const double sy = by0 + vv / s - 0.5;
      const double sx = bx0 + (u + 0.5 - xoff - shear * (Hd - vv)) / s - 0.5;
      const int ix = (int)floor(sx), iy = (int)floor(sy);
      const double fx = sx - ix, fy = sy - iy;
      double a = mnist_at(img, ix, iy) * (1 - fx) + mnist_at(img, ix + 1, iy) * fx;
      double b = mnist_at(img, ix, iy + 1) * (1 - fx) + mnist_at(img, ix + 1, iy + 1) * fx;
      double c = a * (1 - fy) + b * fy;
      /* MNIST's soft edge sharpened a little, as a pen's */
      c = (c - 0.15) * 1.4;
      g->cov[(size_t)v * g->w + u] = (float)(c < 0 ? 0 : c > 1 ? 1 : c);
    }
  return 0;
}

/* Leftmost / rightmost ink (cov > 0.3) of row v of g, or -1. */
static int row_edge(const glyph *g, int v, int right) {
  if (v < 0 || v >= g->h) return -1;
  const float *r = g->cov + (size_t)v * g->w;
  if (right) {
    for (int u = g->w - 1; u >= 0; u--)
      if (r[u] > 0.3f) return u;
  } else {
    for (int u = 0; u < g->w; u++)
      if (r[u] > 0.3f) return u;
  }
  return -1;
}

/* x of glyph b (top at yb) so that the row-wise gap between a's ink (at
 * xa, ya) and b's is gap px (negative: overlapping). */
static double place_next(const glyph *a, double xa, int ya, const glyph *b,
                         int yb, double gap) {
  double g0 = 1e9;
  for (int y = ya; y < ya + a->h; y++) {
    int ra = row_edge(a, y - ya, 1), lb = row_edge(b, y - yb, 0);
    if (ra < 0 || lb < 0) continue;
    double d = lb - (xa + ra);  /* b at x = 0 */
    if (d < g0) g0 = d;
  }
  if (g0 > 1e8) g0 = -(xa + a->w);  /* no shared row: by the boxes */
  return gap - g0;
}

static void paint(number_image *o, const float *cov, int W, int H, int bg,
                  uint64_t *rs) {
  if (bg == NB_CANVAS) {
    const int transparent = next(rs) & 1;
    for (size_t i = 0; i < (size_t)W * H; i++) {
      uint8_t *p = o->px + i * 4;
      int a = (int)lrint(cov[i] * 255);
      if (transparent) p[0] = p[1] = p[2] = 0, p[3] = (uint8_t)a;
      else p[0] = p[1] = p[2] = (uint8_t)(255 - a), p[3] = 255;
    }
    return;
  }
  const double paper = uni(rs, 0.78, 0.95), tint = uni(rs, -0.03, 0.03);
  const double gx = uni(rs, -0.2, 0.2), gy = uni(rs, -0.15, 0.15);
  const double ink[3] = {uni(rs, 0.1, 0.3), uni(rs, 0.1, 0.3), uni(rs, 0.2, 0.45)};
  const double op = uni(rs, 0.85, 0.95), noise = uni(rs, 1.5, 4);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      const double light = 1 + gx * (x / (double)W - 0.5) + gy * (y / (double)H - 0.5);
      const double a = op * cov[(size_t)y * W + x];
      for (int k = 0; k < 3; k++) {
        double pc = paper * (k == 0 ? 1 + tint : k == 2 ? 1 - tint : 1);
        double v = 255 * light * pc * (1 - a * (1 - ink[k]));
        double n = (uni(rs, -1, 1) + uni(rs, -1, 1) + uni(rs, -1, 1)) * noise * 0.58;
        v += n;
        o->px[((size_t)y * W + x) * 3 + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lrint(v));
      }
    }
}

int number_render(const dg_dataset *t10k, int len, int spacing, int background,
                  int k, uint64_t seed, number_image *o) {
  memset(o, 0, sizeof *o);
  if (len < NUMBER_MIN_LEN || len > NUMBER_MAX_LEN) return -1;
  uint64_t rs = seed ^ (0x51ed2701u * (uint64_t)(len * 131 + spacing * 17 +
                                                 background * 7 + 1)) ^
                ((uint64_t)k << 32);
  for (int i = 0; i < 4; i++) next(&rs);
  const double H0 = uni(&rs, 36, 84), slant = uni(&rs, -0.2, 0.3);
  glyph g[NUMBER_MAX_LEN];
  double xs[NUMBER_MAX_LEN];
  int ys[NUMBER_MAX_LEN];
  const double base = H0 * 1.5;
  o->len = len;
  for (int i = 0; i < len; i++) {
    const int idx = (int)(next(&rs) % (uint64_t)t10k->n);
    o->src[i] = idx;
    o->text[i] = (char)('0' + t10k->labels[idx]);
    const double Hd = H0 * uni(&rs, 0.85, 1.15);
    if (render_glyph(t10k->images + (size_t)idx * 784, Hd,
                     slant + uni(&rs, -0.05, 0.05), &g[i])) {
      for (int j = 0; j < i; j++) free(g[j].cov);
      return -1;
    }
    ys[i] = (int)lrint(base + uni(&rs, -0.06, 0.06) * H0 - g[i].h);
    double gap = spacing == NS_ORDINARY ? uni(&rs, 0.15, 0.45) * H0
               : spacing == NS_TIGHT ? 3 + uni(&rs, 0.0, 0.06) * H0
                                     : -1 - uni(&rs, 0.0, 0.04) * H0;
    xs[i] = i == 0 ? 0 : place_next(&g[i - 1], xs[i - 1], ys[i - 1], &g[i], ys[i], gap);
  }
  const int margin = (int)(uni(&rs, 0.2, 0.6) * H0) + 2;
  double xmin = 0, xmax = 0;
  int ymin = ys[0], ymax = 0;
  for (int i = 0; i < len; i++) {
    if (xs[i] < xmin) xmin = xs[i];
    if (xs[i] + g[i].w > xmax) xmax = xs[i] + g[i].w;
    if (ys[i] < ymin) ymin = ys[i];
    if (ys[i] + g[i].h > ymax) ymax = ys[i] + g[i].h;
  }
  const int W = (int)ceil(xmax - xmin) + 2 * margin, H = ymax - ymin + 2 * margin;
  float *cov = calloc((size_t)W * H, sizeof(float));
  o->c = background == NB_CANVAS ? 4 : 3;
  o->px = malloc((size_t)W * H * o->c);
  o->owner = calloc((size_t)W * H, 1);
  if (!cov || !o->px || !o->owner) {
    for (int i = 0; i < len; i++) free(g[i].cov);
    free(cov), number_free(o);
    return -1;
  }
  for (int i = 0; i < len; i++) {
    const int x0 = (int)lrint(xs[i] - xmin) + margin, y0 = ys[i] - ymin + margin;
    int bx0 = W, by0 = H, bx1 = -1, by1 = -1;
    for (int v = 0; v < g[i].h; v++)
      for (int u = 0; u < g[i].w; u++) {
        const float c = g[i].cov[(size_t)v * g[i].w + u];
        const size_t at = (size_t)(y0 + v) * W + x0 + u;
        float *d = &cov[at];
        if (c > *d) {
          *d = c;
          if (c >= 0.3f) o->owner[at] = (uint8_t)(i + 1);
        }
        if (c >= 0.5f) {
          if (x0 + u < bx0) bx0 = x0 + u;
          if (x0 + u > bx1) bx1 = x0 + u;
          if (y0 + v < by0) by0 = y0 + v;
          if (y0 + v > by1) by1 = y0 + v;
        }
      }
    o->box[i][0] = bx0, o->box[i][1] = by0;
    o->box[i][2] = bx1 - bx0 + 1, o->box[i][3] = by1 - by0 + 1;
    free(g[i].cov);
  }
  o->w = W, o->h = H;
  paint(o, cov, W, H, background, &rs);
  free(cov);
  return 0;
}

void number_free(number_image *im) {
  free(im->px), free(im->owner);
  im->px = NULL, im->owner = NULL;
}
