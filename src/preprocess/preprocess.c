/* preprocess.c: any 8-bit image (a canvas drawing, a photo, an MNIST digit)
 * -> the 28x28 input the network was trained on, following the MNIST recipe:
 *
 *   1. luminance (Rec. 601) with alpha composited over white paper, so a
 *      transparent canvas background is paper and black strokes are ink;
 *   2. the background level is the median of the border pixels; ink is the
 *      direction (darker or lighter than the background) with the larger
 *      excursion, so white paper with dark ink and MNIST's white-on-black
 *      both work;
 *   3. ink intensity = distance from the background / contrast (the largest
 *      distance), so faint photos still reach 1; values below INK_NOISE of
 *      the contrast are paper (JPEG ringing, paper texture);
 *   4. crop to the ink's bounding box; scale its longest side to 20 px
 *      keeping the aspect ratio: area averaging (exact fractional coverage)
 *      when shrinking, bilinear when enlarging (as OpenCV's INTER_AREA);
 *   5. place it in 28x28 so that the centre of mass lands at (14,14) in
 *      pixel-index coordinates (pixel i's centre is at i; real MNIST digits
 *      average 14.0 in these coordinates). Like the MNIST recipe the shift
 *      is by whole pixels: the box's offset is rounded, the result's centre
 *      of mass measured and corrected by a whole-pixel shift if it is more
 *      than half a pixel off. A sub-pixel shift would centre exactly but
 *      blur every digit (a linear interpolation); whole pixels keep an MNIST
 *      digit fed back in unchanged. If centring would push ink outside the
 *      field, the box stays inside it instead (rare);
 *   6. stretch so the strongest pixel is 1 (MNIST digits reach 255).
 *
 * Luminance and compositing are integer arithmetic, so the same bytes give
 * the same output natively and in WASM (up to float rounding in the
 * resampling). No allocation, no I/O: shared with the browser.
 *
 * Speed: a drawing is mostly long runs of equal pixels (paper, solid
 * strokes). Runs are found many pixels per compare (pixels.h: 16 RGBA
 * pixels per SIMD step, 8 gray ones per 64-bit word) and each costs one
 * luminance and O(1) sums (area averaging: O(dest columns it covers)), so
 * a 280x280 canvas costs little more than those compares. The ink passes
 * visit only the box of pixels that differ from the top-left one.
 * Summing a run at once rounds differently from summing its pixels one by
 * one, in the last bits of doubles only.
 */
#include <math.h>
#include <string.h>

#include "digits.h"
#include "preprocess/ink.h"
#include "preprocess/pixels.h"

#define OUT 28
#define BOX 20.0
/* ink below this fraction of the contrast is paper */
#define INK_NOISE 0.1
/* luminance scale: 255 * 255 * 1000 (grey * alpha * Rec. 601 weights) */
#define LMAX 65025000
/* a picture whose darkest and lightest pixels differ by less than this
 * (out of 255) has no ink */
#define MIN_CONTRAST 10
/* rounding of half-pixel offsets: a fixed nudge so that symmetric inputs
 * round the same way in x and y */
#define TIE 1e-6

typedef struct {
  const uint8_t *px;
  int w, h, c;
  int64_t bg;        /* background luminance, 0..LMAX */
  int dark;          /* 1: ink is darker than the background */
  double inv_contrast;
} ink_src;

/* Luminance of pixel i in 0..LMAX, alpha composited over white. */
static inline int32_t lum(const uint8_t *px, size_t i, int c) {
  const uint8_t *p = px + i * (size_t)c;
  int32_t y, a;
  switch (c) {
    case 1: return (int32_t)p[0] * 255000;
    case 2: y = (int32_t)p[0] * 1000; a = p[1]; break;
    case 3: return ((int32_t)p[0] * 299 + p[1] * 587 + p[2] * 114) * 255;
    default:
      y = (int32_t)p[0] * 299 + p[1] * 587 + p[2] * 114;
      a = p[3];
      break;
  }
  return y * a + 255000 * (255 - a);
}

/* Ink intensity 0..1 of a pixel of luminance l (once per run in the
 * scans: kept inline). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline double ink_of(const ink_src *s, int64_t l) {
  int64_t d = s->dark ? s->bg - l : l - s->bg;
  if (d <= 0) return 0;
  double v = (double)d * s->inv_contrast;
  if (v < INK_NOISE) return 0;
  return v > 1 ? 1 : v;
}

/* Ink intensity 0..1 of pixel (x, y); 0 outside the image. */
static inline double ink_at(const ink_src *s, int x, int y) {
  if (x < 0 || y < 0 || x >= s->w || y >= s->h) return 0;
  return ink_of(s, lum(s->px, (size_t)y * s->w + x, s->c));
}


/* l * 256 / (LMAX + 1) for l in 0..LMAX: an estimate in floating point,
 * corrected to the exact quotient with integer products, because a 64-bit
 * division per border pixel is slow in WASM (docs/performance.md). */
static inline int lum_bin(int32_t l) {
  const int64_t num = (int64_t)l * 256, den = (int64_t)LMAX + 1;
  int q = (int)((double)num * (1.0 / (double)den));
  if (q * den > num) q--;
  else if ((q + 1) * den <= num) q++;
  return q;
}

/* Background: the median of the border pixels (the majority of the border
 * is paper even when a stroke touches an edge), refined to the mean of the
 * border pixels in the median's histogram bin so uniform backgrounds are
 * exact. The top and bottom rows are taken as runs of equal pixels, the
 * side columns pixel by pixel (one luminance per change). */
static int64_t border_background(const uint8_t *px, int w, int h, int c) {
  uint32_t hist[256];
  memset(hist, 0, sizeof hist);
  size_t n = 0;
#define BORDER_FOR(BODY)                                                  \
  {                                                                       \
    uint32_t last = ~px_key(px, c);                                       \
    int32_t l = 0;                                                        \
    int bin = 0;                                                          \
    for (int y = 0; y < h; y++) {                                         \
      const uint8_t *row = px + (size_t)y * w * c;                        \
      int full = y == 0 || y == h - 1;                                    \
      for (int x = 0; x < w;) {                                           \
        uint32_t key = px_key(row + (size_t)x * c, c);                    \
        int e = full ? run_end(row, x, w, c, key) : x + 1, cnt = e - x;  \
        if (key != last) {                                                \
          last = key;                                                     \
          l = lum(row, (size_t)x, c);                                     \
          bin = lum_bin(l);                                               \
        }                                                                 \
        BODY;                                                             \
        x = full || x == w - 1 ? e : w - 1;                               \
      }                                                                   \
    }                                                                     \
  }
  BORDER_FOR(hist[bin] += cnt; n += cnt)
  size_t half = (n + 1) / 2, run = 0;
  int med = 0;
  for (med = 0; med < 256; med++) {
    run += hist[med];
    if (run >= half) break;
  }
  int64_t sum = 0, cnt_med = 0;
  BORDER_FOR(if (bin == med) { sum += (int64_t)l * cnt; cnt_med += cnt; })
#undef BORDER_FOR
  return cnt_med ? sum / cnt_med : 0;
}

/* Step 5's whole-pixel placement along one axis: the dest edge of the
 * box's first pixel, so that the centre of mass c (source index
 * coordinates, box from x0, n pixels, scale s) lands on 14, kept inside
 * the field. TIE breaks exact halves the same way whatever the summation
 * order. */
static inline double place(double c, int x0, int n, double s) {
  double off = floor(14.5 - s * (c + 0.5 - x0) + 0.5 + TIE);
  double max = floor(OUT - s * n + 1e-9);
  if (off > max) off = max;
  return off < 0 ? 0 : off;
}

/* Area averaging, columns: ink v spread over dest columns [A, B) by
 * overlap length, the last column taking what would fall past the edge. */
static inline void spread_cols(double *row, double v, double A, double B) {
  int X = (int)floor(A);
  if (X < 0) X = 0;
  if (X > OUT - 1) X = OUT - 1;
  for (double lo = A;; lo = ++X) {
    if (B <= X + 1 || X == OUT - 1) {
      row[X] += v * (B - lo);
      return;
    }
    row[X] += v * (X + 1 - lo);
  }
}

/* Area averaging, rows: a source row spread over dest columns (row)
 * covers dest rows [a, a + s); add it to acc by overlap, the last row
 * taking what would fall past the edge. */
static inline void add_row(double *acc, const double *row, double a,
                           double s) {
  double b = a + s, wy0, wy1 = 0;
  int Y = (int)floor(a);
  if (Y < 0) Y = 0;
  if (Y > OUT - 1) Y = OUT - 1;
  if (b <= Y + 1 || Y == OUT - 1) {
    wy0 = s;
  } else {
    wy0 = Y + 1 - a;
    wy1 = b - (Y + 1);
  }
  for (int X = 0; X < OUT; X++) {
    acc[Y * OUT + X] += row[X] * wy0;
    if (wy1 > 0) acc[(Y + 1) * OUT + X] += row[X] * wy1;
  }
}

/* The shift finish applies and the peak it divides by (finish_at). */
typedef struct {
  int dx, dy;
  double peak;
} recipe_end;

/* Steps 5 (end) and 6 of the recipe on the 28x28 accumulator; the shift
 * and peak into *end when not NULL. */
static int finish_at(const double *acc, float *out, recipe_end *end) {
  /* 5 (end): measure the centre of mass; a whole-pixel correction if it
   * is more than half a pixel off and the ink can move */
  double am = 0, amx = 0, amy = 0;
  int ax0 = OUT, ax1 = -1, ay0 = OUT, ay1 = -1;
  for (int Y = 0; Y < OUT; Y++)
    for (int X = 0; X < OUT; X++) {
      double v = acc[Y * OUT + X];
      if (v <= 0) continue;
      am += v;
      amx += v * X;
      amy += v * Y;
      if (X < ax0) ax0 = X;
      if (X > ax1) ax1 = X;
      if (Y < ay0) ay0 = Y;
      if (Y > ay1) ay1 = Y;
    }
  if (am <= 0)
    return dg_error(DG_ERR_EMPTY, "preprocess: no ink after scaling");
  int dx = (int)floor(14 - amx / am + 0.5 + TIE);
  int dy = (int)floor(14 - amy / am + 0.5 + TIE);
  if (ax0 + dx < 0 || ax1 + dx > OUT - 1) dx = 0;
  if (ay0 + dy < 0 || ay1 + dy > OUT - 1) dy = 0;

  /* 6: the strongest pixel becomes 1 */
  double peak = 0;
  for (int i = 0; i < OUT * OUT; i++) peak = acc[i] > peak ? acc[i] : peak;
  for (int Y = 0; Y < OUT; Y++)
    for (int X = 0; X < OUT; X++) {
      int sx = X - dx, sy = Y - dy;
      double v = sx < 0 || sy < 0 || sx >= OUT || sy >= OUT
                     ? 0
                     : acc[sy * OUT + sx] / peak;
      out[Y * OUT + X] = (float)(v < 1e-6 ? 0 : v);
    }
  if (end) *end = (recipe_end){dx, dy, peak};
  return DG_OK;
}

static int finish(const double *acc, float *out) { return finish_at(acc, out, NULL); }

/* Step 4 when enlarging: bilinear sampling of the ink at each dest pixel
 * centre, in [x0, x1] x [y0, y1] (the ink is 0 outside its bounding box by
 * construction). at(ctx, x, y) is the ink at a source pixel; inlined, so
 * each caller gets its own copy with its own sampler. */
typedef double (*ink_sampler)(const void *ctx, int x, int y);
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void bilinear(double *acc, int x0, int y0, int x1, int y1,
                            double offx, double offy, double s,
                            ink_sampler at, const void *ctx) {
  for (int Y = 0; Y < OUT; Y++) {
    double sy = y0 + (Y + 0.5 - offy) / s - 0.5;
    if (sy <= y0 - 1 || sy >= y1 + 1) continue;
    int iy = (int)floor(sy);
    double fy = sy - iy;
    for (int X = 0; X < OUT; X++) {
      double sx = x0 + (X + 0.5 - offx) / s - 0.5;
      if (sx <= x0 - 1 || sx >= x1 + 1) continue;
      int ix = (int)floor(sx);
      double fx = sx - ix;
      double top = at(ctx, ix, iy) * (1 - fx) + at(ctx, ix + 1, iy) * fx;
      double bot = at(ctx, ix, iy + 1) * (1 - fx) + at(ctx, ix + 1, iy + 1) * fx;
      acc[Y * OUT + X] = top * (1 - fy) + bot * fy;
    }
  }
}

static double src_at(const void *ctx, int x, int y) {
  return ink_at((const ink_src *)ctx, x, y);
}

/* The source scans below, with the channel count constant (always
 * inlined into preprocess_c): the luminance range of the pixels that
 * differ from the reference. */
typedef struct {
  int32_t lmin, lmax;
} lum_range;

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void widen_range(void *ctx, const uint8_t *p, const int c) {
  lum_range *r = ctx;
  int32_t l = lum(p, 0, c);
  if (l < r->lmin) r->lmin = l;
  if (l > r->lmax) r->lmax = l;
}

/* Steps 1-2: background and polarity from the luminance extremes, one
 * luminance per run of equal pixels, into src. *box holds every pixel
 * that differs from the reference (the top-left pixel, whose ink is
 * *vref); outside it every pixel is the reference, no ink if it is paper
 * (almost always), otherwise the box is the whole image. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int find_paper(const uint8_t *pixels, int w, int h, const int c,
                             ink_src *src, px_box *box, double *vref) {
  int64_t bg = border_background(pixels, w, h, c);
  const int32_t lref = lum(pixels, 0, c);
  lum_range r = {lref, lref};
  *box = diff_box(pixels, w, h, c, px_key(pixels, c), widen_range, &r);
  int64_t dark_ext = bg - r.lmin, light_ext = r.lmax - bg;
  int dark = dark_ext > light_ext || (dark_ext == light_ext && bg * 2 >= LMAX);
  int64_t contrast = dark ? dark_ext : light_ext;
  if (contrast < (int64_t)MIN_CONTRAST * (LMAX / 255))
    return dg_error(DG_ERR_EMPTY,
                    "preprocess: no ink: the %dx%d image is blank (contrast "
                    "%d/255)",
                    w, h, (int)(contrast / (LMAX / 255)));
  *src = (ink_src){pixels, w, h, c, bg, dark, 1.0 / (double)contrast};
  *vref = ink_of(src, lref);
  if (*vref > 0) *box = (px_box){0, 0, w - 1, h - 1};
  return DG_OK;
}

/* The run of equal pixels that starts at x in row (ending before end; *e
 * is where it ends) and its ink: vref when it is the reference pixel (the
 * image's top-left one), else one luminance for the whole run. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline double run_ink(const ink_src *src, const int c, double vref,
                             const uint8_t *row, int x, int end, int *e) {
  const uint32_t key = px_key(row + (size_t)x * c, c);
  *e = run_end(row, x, end, c, key);
  return key == px_key(src->px, c) ? vref : ink_of(src, lum(row, (size_t)x, c));
}

/* Step 3: bounding box (*ib) and centre of mass (*cx, *cy; index
 * coordinates) of the ink inside box, a run of equal pixels at a time: n
 * pixels of ink v from xs add v*n to the mass and v*(xs + ... + xe) to
 * its first moment. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int ink_moments(const ink_src *src, const int c, double vref,
                              px_box box, px_box *ib, double *cx, double *cy) {
  int x0 = src->w, x1 = -1, y0 = src->h, y1 = -1;
  double m = 0, mx = 0, my = 0;
  for (int y = box.y0; y <= box.y1; y++) {
    double rm = 0, rmx = 0;
    const uint8_t *row = src->px + (size_t)y * src->w * c;
    for (int x = box.x0, e; x <= box.x1; x = e) {
      const double v = run_ink(src, c, vref, row, x, box.x1 + 1, &e);
      if (v > 0) {
        if (x < x0) x0 = x;
        if (e - 1 > x1) x1 = e - 1;
        double n = e - x;
        rm += v * n;
        rmx += v * (0.5 * n * (double)(x + e - 1)); /* exact integer sum */
      }
    }
    if (rm > 0) {
      if (y < y0) y0 = y;
      y1 = y;
      m += rm;
      mx += rmx;
      my += rm * y;
    }
  }
  if (m <= 0 || x1 < x0)
    return dg_error(DG_ERR_EMPTY,
                    "preprocess: no ink: nothing in the %dx%d image stands "
                    "out from the background",
                    src->w, src->h);
  *ib = (px_box){x0, y0, x1, y1};
  *cx = mx / m, *cy = my / m;
  return DG_OK;
}

/* Step 4 when shrinking: area averaging. A run of source pixels xs..xe
 * covers [A, B) in dest units (s per pixel); its ink is spread over the
 * dest columns by overlap length, the last column taking what would fall
 * past the edge. Same for rows. A dest pixel's value is the ink inside it
 * divided by its area (1). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void area_runs(double *acc, const ink_src *src, const int c,
                             double vref, px_box ib, double offx, double offy,
                             double s) {
  for (int y = ib.y0; y <= ib.y1; y++) {
    double row[OUT];  /* this source row spread over dest columns */
    memset(row, 0, sizeof row);
    int any = 0;
    const uint8_t *srow = src->px + (size_t)y * src->w * c;
    for (int x = ib.x0, e; x <= ib.x1; x = e) {
      const double v = run_ink(src, c, vref, srow, x, ib.x1 + 1, &e);
      if (v > 0) {
        any = 1;
        spread_cols(row, v, offx + s * (x - ib.x0), offx + s * (e - ib.x0));
      }
    }
    if (any) add_row(acc, row, offy + s * (y - ib.y0), s);
  }
}

/* The recipe on the source pixels, inlined once per channel count
 * (flat_recipe calls it with a constant): the per-pixel luminance then
 * needs no switch inside the scans, the hot loops of a large canvas. Same
 * arithmetic for every channel count. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int preprocess_c(const uint8_t *pixels, int width, int height,
                               const int channels, float *out) {
  const int c = channels;
  /* zeroed: dg_error's status is not known to the compiler to be < 0 */
  ink_src src = {0};
  px_box box = {0}, ib = {0};
  double vref = 0, cx = 0, cy = 0;
  int st = find_paper(pixels, width, height, c, &src, &box, &vref);
  if (st == DG_OK) st = ink_moments(&src, c, vref, box, &ib, &cx, &cy);
  if (st != DG_OK) return st;
  const int bw = ib.x1 - ib.x0 + 1, bh = ib.y1 - ib.y0 + 1;

  /* 4-5: scale and offset. Dest edge coordinate u = off + s * (x - x0) for a
   * source edge coordinate x; a pixel's centre is its edge + 0.5. */
  const double s = BOX / (bw > bh ? bw : bh);
  const double offx = place(cx, ib.x0, bw, s), offy = place(cy, ib.y0, bh, s);
  double acc[OUT * OUT];  /* (28, 28) */
  memset(acc, 0, sizeof acc);
  if (s <= 1)
    area_runs(acc, &src, c, vref, ib, offx, offy, s);
  else
    bilinear(acc, ib.x0, ib.y0, ib.x1, ib.y1, offx, offy, s, src_at, &src);
  return finish(acc, out);
}

/* An ink map and the box its ink lies in (recipe_map's sampler). */
typedef struct {
  const float *ink;
  int W, x0, y0, x1, y1;
} ink_map;

static double map_at(const void *ctx, int x, int y) {
  const ink_map *m = ctx;
  return x < m->x0 || y < m->y0 || x > m->x1 || y > m->y1
             ? 0.0
             : (double)m->ink[(size_t)y * m->W + x];
}

/* The context channel: the ink of map ctx (cw, ch; the piece map's pixel
 * (0, 0) at its (ox, oy)) in the piece's frame (dest edge u = off + s *
 * (x - x0) for a piece map x), clipped to the 28x28 field: area averaging
 * when shrinking, bilinear at each dest pixel's centre when enlarging. */
static void context_acc(double *acc, const dg_ink_context *c, int x0, int y0,
                        double offx, double offy, double s) {
  if (s <= 1) {
    const int xa = (int)floor(x0 - offx / s) - 1, xb = (int)ceil(x0 + (OUT - offx) / s) + 1;
    const int ya = (int)floor(y0 - offy / s) - 1, yb = (int)ceil(y0 + (OUT - offy) / s) + 1;
    for (int y = ya; y <= yb; y++) {
      const int cy = y + c->oy;
      if (cy < 0 || cy >= c->h) continue;
      const double ay = offy + s * (y - y0);
      const int Y = (int)floor(ay);
      const double wy0 = fmin(Y + 1, ay + s) - ay, wy1 = s - wy0;
      for (int x = xa; x <= xb; x++) {
        const int cx = x + c->ox;
        if (cx < 0 || cx >= c->w) continue;
        const double v = c->map[(size_t)cy * c->w + cx];
        if (v <= 0) continue;
        const double ax = offx + s * (x - x0);
        const int X = (int)floor(ax);
        const double wx0 = fmin(X + 1, ax + s) - ax, wx1 = s - wx0;
        const double w[2][2] = {{wy0 * wx0, wy0 * wx1}, {wy1 * wx0, wy1 * wx1}};
        for (int j = 0; j < 2; j++)
          for (int i = 0; i < 2; i++)
            if (Y + j >= 0 && Y + j < OUT && X + i >= 0 && X + i < OUT && w[j][i] > 0)
              acc[(Y + j) * OUT + X + i] += v * w[j][i];
      }
    }
    return;
  }
  for (int Y = 0; Y < OUT; Y++) {
    const double sy = y0 + (Y + 0.5 - offy) / s - 0.5 + c->oy;
    const int iy = (int)floor(sy);
    const double fy = sy - iy;
    for (int X = 0; X < OUT; X++) {
      const double sx = x0 + (X + 0.5 - offx) / s - 0.5 + c->ox;
      const int ix = (int)floor(sx);
      const double fx = sx - ix;
      double v = 0;
      for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
          const int xx = ix + i, yy = iy + j;
          if (xx < 0 || yy < 0 || xx >= c->w || yy >= c->h) continue;
          v += c->map[(size_t)yy * c->w + xx] * (i ? fx : 1 - fx) * (j ? fy : 1 - fy);
        }
      acc[Y * OUT + X] = v;
    }
  }
}

/* The MNIST recipe (steps 4-6 above) on a work map of ink (H, W) whose
 * ink lies in box (x, y, w, h): the same arithmetic as preprocess_c, a
 * pixel at a time. With ctx, its map in the same frame into ctx_out (the
 * same shift, divided by the same peak, at most 1). */
static int recipe_map(const float *ink, int W, int H, const int box[4],
                      float *out, const dg_ink_context *ctx, float *ctx_out) {
  const int x0 = box[0], y0 = box[1], x1 = box[0] + box[2] - 1,
            y1 = box[1] + box[3] - 1;
  double m = 0, mx = 0, my = 0;
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) {
      double v = ink[(size_t)y * W + x];
      m += v, mx += v * x, my += v * y;
    }
  if (m <= 0)
    return dg_error(DG_ERR_EMPTY, "preprocess: no ink in the digit's box");
  const int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const double cx = mx / m, cy = my / m;
  const double s = BOX / (bw > bh ? bw : bh);
  const double offx = place(cx, x0, bw, s), offy = place(cy, y0, bh, s);
  double acc[OUT * OUT];  /* (28, 28) */
  memset(acc, 0, sizeof acc);
  if (s <= 1) {
    for (int y = y0; y <= y1; y++) {
      double row[OUT];
      memset(row, 0, sizeof row);
      int any = 0;
      for (int x = x0; x <= x1; x++) {
        double v = ink[(size_t)y * W + x];
        if (v <= 0) continue;
        any = 1;
        spread_cols(row, v, offx + s * (x - x0), offx + s * (x + 1 - x0));
      }
      if (any) add_row(acc, row, offy + s * (y - y0), s);
    }
  } else {
    const ink_map map = {ink, W, x0, y0, x1, y1};
    bilinear(acc, x0, y0, x1, y1, offx, offy, s, map_at, &map);
  }
  (void)H;
  recipe_end end;
  const int st = finish_at(acc, out, &end);
  if (st || !ctx) return st;
  memset(acc, 0, sizeof acc);
  context_acc(acc, ctx, x0, y0, offx, offy, s);
  for (int Y = 0; Y < OUT; Y++)
    for (int X = 0; X < OUT; X++) {
      const int sx = X - end.dx, sy = Y - end.dy;
      double v = sx < 0 || sy < 0 || sx >= OUT || sy >= OUT ? 0 : acc[sy * OUT + sx] / end.peak;
      v = v > 1 ? 1 : v;
      ctx_out[Y * OUT + X] = (float)(v < 1e-6 ? 0 : v);
    }
  return DG_OK;
}

static int check_args(const uint8_t *pixels, int width, int height,
                      int channels, const float *out) {
  if (!pixels || !out) return dg_error(DG_ERR_ARG, "preprocess: null argument");
  if (channels < 1 || channels > 4)
    return dg_error(DG_ERR_ARG,
                    "preprocess: %d channels, expected 1 (gray), 2 (gray + "
                    "alpha), 3 (RGB) or 4 (RGBA)",
                    channels);
  if (width < 1 || height < 1 || width > DG_IMAGE_MAX_DIM ||
      height > DG_IMAGE_MAX_DIM)
    return dg_error(DG_ERR_ARG,
                    "preprocess: image of %dx%d: each side must be 1..%d",
                    width, height, DG_IMAGE_MAX_DIM);
  if ((uint64_t)width * (uint64_t)height > DG_IMAGE_MAX_PIXELS)
    return dg_error(DG_ERR_ARG,
                    "preprocess: image of %dx%d has more than the %u pixels "
                    "allowed",
                    width, height, (unsigned)DG_IMAGE_MAX_PIXELS);
  return DG_OK;
}

/* Flat paper with every ink pixel kept: the source pixels themselves, as
 * drawings were always read. */
static int flat_recipe(const uint8_t *pixels, int width, int height,
                       int channels, float *out) {
  switch (channels) {
    case 1: return preprocess_c(pixels, width, height, 1, out);
    case 2: return preprocess_c(pixels, width, height, 2, out);
    case 3: return preprocess_c(pixels, width, height, 3, out);
    default: return preprocess_c(pixels, width, height, 4, out);
  }
}

int dg_preprocess_ex(const uint8_t *pixels, int width, int height,
                     int channels, float *out, dg_preprocess_info *info) {
  int st = check_args(pixels, width, height, channels, out);
  if (info) {
    memset(info, 0, sizeof *info);
    info->scale = 1;
  }
  if (st) return st;
  dg_ink ink;
  int flat_all = 0;
  st = dg_ink_find(pixels, width, height, channels, &ink, &flat_all);
  if (info) {
    const int f = ink.f > 0 ? ink.f : 1;
    info->scale = f;
    info->photo = ink.photo;
    info->dark_ink = ink.dark;
    info->kept = ink.kept;
    info->dropped = ink.dropped;
    info->lines = ink.lines;
    info->candidates = ink.candidates;
    if (st == DG_OK) {
      int x = ink.ox + ink.box[0] * f, y = ink.oy + ink.box[1] * f;
      int bw = ink.box[2] * f, bh = ink.box[3] * f;
      info->box[0] = x, info->box[1] = y;
      info->box[2] = x + bw > width ? width - x : bw;
      info->box[3] = y + bh > height ? height - y : bh;
    }
  }
  if (st == DG_OK)
    st = flat_all ? flat_recipe(pixels, width, height, channels, out)
                  : recipe_map(ink.ink, ink.W, ink.H, ink.box, out, NULL, NULL);
  dg_ink_free(&ink);
  return st;
}

int dg_preprocess(const uint8_t *pixels, int width, int height, int channels,
                  float *out) {
  return dg_preprocess_ex(pixels, width, height, channels, out, NULL);
}

int dg_preprocess_map(const float *ink, int W, int H, const int box[4],
                      float *out) {
  return recipe_map(ink, W, H, box, out, NULL, NULL);
}

int dg_preprocess_map_context(const float *ink, int W, int H, const int box[4],
                              const dg_ink_context *ctx, float *out, float *ctx_out) {
  if (!ctx || !ctx->map || !ctx_out) return dg_error(DG_ERR_ARG, "preprocess: null context");
  return recipe_map(ink, W, H, box, out, ctx, ctx_out);
}
