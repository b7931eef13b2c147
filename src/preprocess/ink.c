/* ink.c: which pixels of an image are the digit's ink, for drawings, scans
 * and photos of paper alike. The steps, in the work map (the image
 * downscaled early by an integer factor so a 12-megapixel photo costs
 * little more than a small one):
 *
 *   1. luminance, alpha composited over white paper;
 *   2. paper. Flat paper (half the border pixels with the same bytes: a
 *      drawing, an MNIST digit) is one level, and only the box of pixels
 *      that differ from it is looked at, on a map of at most 96 px a side.
 *      Anything else is a photo or a scan: its paper brightness is
 *      estimated at a scale larger than a stroke (a morphological closing,
 *      max then min filter over a window a fifth of the image, on a
 *      mean-pooled copy, then blurred) and divided out, so a gradient, a
 *      vignette or a shadow leaves paper at 1; ink is 1 - luminance /
 *      paper (the same for a stroke in the light and in the shadow).
 *      Polarity (dark ink on light paper, or light on dark) from the
 *      distribution's two tails;
 *   3. thresholds that adapt to the image: the paper's level and noise
 *      from the lower half of 1 - L/paper (ink never reaches it), the
 *      ink's contrast a high quantile; weak ink (a stroke's anti-aliased
 *      or blurred edge) is above the noise, strong ink above Otsu's level;
 *   4. straight lines that cross most of the image (ruled paper, squared
 *      paper, a margin) are found by a Hough transform that counts covered
 *      columns (or rows) over +-20 degrees, and checked: thin, straight
 *      (a least-squares fit of their runs); the short runs across each
 *      line are erased, the long ones (a stroke crossing it) kept;
 *   5. connected components of strong ink: specks are small; pieces that
 *      nearly touch, or overlap in x when both are strokes, are one group
 *      (a 5's flag, a broken 4); a group with three or four straight sides
 *      along its box is a box drawn around the digit (touching it or not)
 *      and its sides are erased like lines if ink is left inside; in
 *      photos, groups touching the border (the page's edge, a shadow's)
 *      compete only when nothing inside the frame is big enough. The
 *      biggest digit-sized group wins, unless another of similar size
 *      stands beside it (uncertain); drawings keep every piece but boxes
 *      and lines, as they always did;
 *   6. the kept ink: weak and strong ink within two pixels of the winner's
 *      strong ink.
 *
 * Sizes in the work map are bounded (DG_INK_WORK a side), so every buffer
 * is allocated once per call; the library never prints.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "preprocess/ink.h"
#include "preprocess/pixels.h"

/* Hough angles: +-LINE_DEG in steps of 1 degree; bins LINE_BIN px. */
#define LINE_DEG 20
#define LINE_BIN 3
/* a line across the image covers at least this share of it */
#define LINE_COVER 0.85
/* smallest contrast (1 - ink / paper) that counts as ink in a photo */
#define MIN_INK 0.08
/* ink below this fraction of the contrast is paper (as in drawings) */
#define INK_NOISE 0.1
/* pieces that take part in grouping at most (the biggest) */
#define MAX_PIECES 256


typedef struct {
  int x0, y0, x1, y1;  /* inclusive box */
  int area;            /* strong pixels */
  double mass;         /* sum of ink over them */
  int border;          /* touches the image's edge */
  int group;           /* cluster id after grouping */
  int drop;            /* 0 keep, 1 speck, 2 frame, 3 other */
} comp;

typedef struct {
  int W, H;
  uint8_t *mask;   /* (H, W) strong ink 1, else 0 */
  int32_t *lab;    /* (H, W) component label + 1, 0 = none */
  comp *cs;        /* components, index = label */
  int n;
} cc_map;

static inline float lum_f(const uint8_t *p, int c) {
  /* Rec. 601, alpha over white; 0..255 */
  switch (c) {
    case 1: return p[0];
    case 2: return (p[0] * p[1] + 255.0f * (255 - p[1])) * (1.0f / 255);
    case 3: return (p[0] * 299 + p[1] * 587 + p[2] * 114) * 0.001f;
    default: {
      float y = (p[0] * 299 + p[1] * 587 + p[2] * 114) * 0.001f;
      return (y * p[3] + 255.0f * (255 - p[3])) * (1.0f / 255);
    }
  }
}

/* Flat paper: at least half of the border pixels have exactly the bytes
 * of one corner (a drawing, an MNIST digit, a clean render; a digit may
 * touch the edge). Returns that pixel's offset + 1, or 0. A photo's paper
 * is never that uniform. */
static size_t flat_border(const uint8_t *px, int w, int h, int c) {
  const size_t corner[4] = {0, (size_t)(w - 1), (size_t)(h - 1) * w,
                            (size_t)h * w - 1};
  const size_t nb = w == 1 || h == 1 ? (size_t)w * h : 2 * (size_t)(w + h) - 4;
  for (int k = 0; k < 4; k++) {
    const uint8_t *ref = px + corner[k] * c;
    size_t same = 0;
    for (int x = 0; x < w; x++) {
      same += !memcmp(px + (size_t)x * c, ref, c);
      if (h > 1) same += !memcmp(px + ((size_t)(h - 1) * w + x) * c, ref, c);
    }
    for (int y = 1; y < h - 1; y++) {
      same += !memcmp(px + (size_t)y * w * c, ref, c);
      if (w > 1) same += !memcmp(px + ((size_t)y * w + w - 1) * c, ref, c);
    }
    if (same * 2 >= nb) return corner[k] + 1;
  }
  return 0;
}

/* The box (x, y, w, h) of the pixels whose bytes differ from ref; 0 if
 * there are none. A run of paper at a time (pixels.h). */
static inline int paper_box_c(const uint8_t *px, int w, int h, const int c,
                              const uint8_t *ref, int *bx, int *by, int *bw,
                              int *bh) {
  const px_box b = diff_box(px, w, h, c, px_key(ref, c), NULL, NULL);
  if (b.x1 < 0) return 0;
  *bx = b.x0, *by = b.y0, *bw = b.x1 - b.x0 + 1, *bh = b.y1 - b.y0 + 1;
  return 1;
}

static int paper_box(const uint8_t *px, int w, int h, int c,
                     const uint8_t *ref, int *bx, int *by, int *bw, int *bh) {
  switch (c) {
    case 1: return paper_box_c(px, w, h, 1, ref, bx, by, bw, bh);
    case 2: return paper_box_c(px, w, h, 2, ref, bx, by, bw, bh);
    case 3: return paper_box_c(px, w, h, 3, ref, bx, by, bw, bh);
    default: return paper_box_c(px, w, h, 4, ref, bx, by, bw, bh);
  }
}

/* A run of equal pixels of a row on flat paper (key pk, luminance pl):
 * [x, e) of luminance l, the next one found by advancing it. */
typedef struct {
  int x, e;
  float l;
} flat_run;

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void flat_next(const uint8_t *row, int w, const int c,
                             uint32_t pk, float pl, flat_run *r) {
  const uint8_t *p = row + (size_t)r->e * c;
  const uint32_t key = px_key(p, c);
  r->x = r->e;
  r->e = run_end(row, r->e, w, c, key);
  r->l = key == pk ? pl : lum_f(p, c);
}

/* One sampled source row (w pixels) added to the work row: block X's
 * samples X*f + o + j*st (j < ns, inside the block and the row) summed in
 * order into s, then row[X] += s, cnt[X] += samples, as pixel by pixel.
 * The row is read a run of equal pixels at a time: the blocks whose
 * samples all lie in one run (most of them, on paper) add the same s. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void flat_block_row(const uint8_t *srow, int w, const int c,
                                  uint32_t pk, float pl, int f, int st,
                                  int ns, int o, int W, float *row, int *cnt) {
  flat_run r = {0, 0, 0};
  const int span = o + (ns - 1) * st;  /* a block's last sample */
  for (int X = 0; X < W && X * f + o < w;) {
    while (X * f + o >= r.e) flat_next(srow, w, c, pk, pl, &r);
    if (X * f + span < r.e) { /* blocks X..Xe: every sample in this run */
      float s = 0;
      for (int j = 0; j < ns; j++) s += r.l;
      int Xe = (r.e - 1 - span) / f;
      if (Xe > W - 1) Xe = W - 1;
      for (; X <= Xe; X++) row[X] += s, cnt[X] += ns;
      continue;
    }
    float s = 0;
    int k = 0;
    for (int xx = X * f + o; xx < X * f + f && xx < w; xx += st, k++) {
      while (xx >= r.e) flat_next(srow, w, c, pk, pl, &r);
      s += r.l;
    }
    row[X] += s;
    cnt[X] += k;
    X++;
  }
}

/* Work-map luminance: the mean of each f x f block (sampled every st
 * pixels inside it when f is large: a 4000x3000 photo reads 1 pixel in 3
 * each way; strokes there are many pixels wide). flat (a constant at each
 * call): on flat paper (paper: its pixel), a row is read a run of equal
 * pixels at a time (flat_block_row), giving the same values summed in the
 * same order; else pixel by pixel (photos). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void work_lum_c(const uint8_t *px, size_t stride, int w, int h,
                              const int c, int f, int W, int H,
                              const uint8_t *paper, const int flat, float *L) {
  const uint32_t pk = flat ? px_key(paper, c) : 0;
  const float pl = flat ? lum_f(paper, c) : 0;
  if (f == 1 && !flat) {
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        L[(size_t)y * w + x] = lum_f(px + ((size_t)y * stride + x) * c, c);
    return;
  }
  if (f == 1) {
    for (int y = 0; y < h; y++) {
      const uint8_t *srow = px + (size_t)y * stride * c;
      float *row = L + (size_t)y * w;
      flat_run r = {0, 0, 0};
      while (r.e < w) {
        flat_next(srow, w, c, pk, pl, &r);
        for (int x = r.x; x < r.e; x++) row[x] = r.l;
      }
    }
    return;
  }
  int st = f / 3 > 1 ? f / 3 : 1;
  int ns = (f - 1) / st + 1, o = (f - 1 - (ns - 1) * st) / 2;
  for (int Y = 0; Y < H; Y++) {
    float *row = L + (size_t)Y * W;
    int cnt[DG_INK_WORK + 1];
    for (int X = 0; X < W; X++) row[X] = 0, cnt[X] = 0;
    for (int yy = Y * f + o; yy < Y * f + f && yy < h; yy += st) {
      const uint8_t *srow = px + (size_t)yy * stride * c;
      if (flat) {
        flat_block_row(srow, w, c, pk, pl, f, st, ns, o, W, row, cnt);
        continue;
      }
      for (int X = 0; X < W; X++) {
        float s = 0;
        int k = 0;
        for (int xx = X * f + o; xx < X * f + f && xx < w; xx += st, k++)
          s += lum_f(srow + (size_t)xx * c, c);
        row[X] += s;
        cnt[X] += k;
      }
    }
    for (int X = 0; X < W; X++) {
      if (!cnt[X]) { /* a last partial block past every sample: nearest */
        int yy = Y * f < h ? Y * f : h - 1, xx = X * f < w ? X * f : w - 1;
        row[X] = lum_f(px + ((size_t)yy * stride + xx) * c, c);
      } else {
        row[X] /= (float)cnt[X];
      }
    }
  }
}

/* work_lum_c for photos (flat = 0) and for flat paper (flat = 1, paper:
 * its pixel) with the channel count constant, so the inner loops have no
 * test in them; each in a function of its own (its registers allocated
 * for it alone: the photo's loop was slower sharing one with the flat
 * one). */
static void work_lum_photo(const uint8_t *px, size_t stride, int w, int h,
                           int c, int f, int W, int H, float *L) {
  switch (c) {
    case 1: work_lum_c(px, stride, w, h, 1, f, W, H, NULL, 0, L); break;
    case 2: work_lum_c(px, stride, w, h, 2, f, W, H, NULL, 0, L); break;
    case 3: work_lum_c(px, stride, w, h, 3, f, W, H, NULL, 0, L); break;
    default: work_lum_c(px, stride, w, h, 4, f, W, H, NULL, 0, L); break;
  }
}

static void work_lum_flat(const uint8_t *px, size_t stride, int w, int h,
                          int c, int f, int W, int H, const uint8_t *paper,
                          float *L) {
  switch (c) {
    case 1: work_lum_c(px, stride, w, h, 1, f, W, H, paper, 1, L); break;
    case 2: work_lum_c(px, stride, w, h, 2, f, W, H, paper, 1, L); break;
    case 3: work_lum_c(px, stride, w, h, 3, f, W, H, paper, 1, L); break;
    default: work_lum_c(px, stride, w, h, 4, f, W, H, paper, 1, L); break;
  }
}

/* 1-D running max (sign 1) or min (sign -1) over [i-r, i+r], n values at
 * stride s, in place via tmp (n floats). */
static void run_extreme(float *v, int n, int s, int r, int sign, float *tmp) {
  for (int i = 0; i < n; i++) tmp[i] = v[(size_t)i * s];
  for (int i = 0; i < n; i++) {
    int a = i - r < 0 ? 0 : i - r, b = i + r >= n ? n - 1 : i + r;
    float m = tmp[a];
    for (int j = a + 1; j <= b; j++)
      m = sign > 0 ? (tmp[j] > m ? tmp[j] : m) : (tmp[j] < m ? tmp[j] : m);
    v[(size_t)i * s] = m;
  }
}

/* 1-D mean over [i-r, i+r] (clipped at the ends), n values at stride s,
 * in place via tmp (n floats). */
static void box_blur(float *v, int n, int s, int r, float *tmp) {
  for (int i = 0; i < n; i++) tmp[i] = v[(size_t)i * s];
  double acc = 0;
  int a = 0, b = -1;
  for (int i = 0; i < n; i++) {
    int lo = i - r < 0 ? 0 : i - r, hi = i + r >= n ? n - 1 : i + r;
    while (b < hi) acc += tmp[++b];
    while (a < lo) acc -= tmp[a++];
    v[(size_t)i * s] = (float)(acc / (b - a + 1));
  }
}

/* Bilinear upsampling by g along one axis: pixel i's centre falls
 * between pooled cells *a and *b (clamped to the n cells), at the
 * returned fraction of the way to *b. */
static inline float up_coord(int i, int g, int n, int *a, int *b) {
  float si = (i + 0.5f) / g - 0.5f;
  int i0 = (int)floorf(si);
  *a = i0 < 0 ? 0 : i0, *b = i0 + 1 > n - 1 ? n - 1 : i0 + 1;
  if (*a > n - 1) *a = n - 1;
  return si - i0;
}

/* Paper brightness B (H, W) under dark ink: mean-pool to at most 160 px a
 * side, close (max filter, then min filter) with a window a fifth of the
 * image (wider than any stroke), then bilinear back up. Returns 0 or
 * DG_ERR_NOMEM. */
static int paper_level(const float *L, int W, int H, float *B) {
  int g = (int)ceil((W > H ? W : H) / 160.0);
  if (g < 1) g = 1;
  int Wp = (W + g - 1) / g, Hp = (H + g - 1) / g;
  int big = Wp > Hp ? Wp : Hp;
  float *P = malloc(sizeof(float) * ((size_t)Wp * Hp + big));
  if (!P) return dg_error(DG_ERR_NOMEM, "preprocess: out of memory");
  float *tmp = P + (size_t)Wp * Hp;
  for (int y = 0; y < Hp; y++)
    for (int x = 0; x < Wp; x++) {
      double s = 0;
      int n = 0;
      for (int yy = y * g; yy < y * g + g && yy < H; yy++)
        for (int xx = x * g; xx < x * g + g && xx < W; xx++, n++)
          s += L[(size_t)yy * W + xx];
      P[(size_t)y * Wp + x] = (float)(s / n);
    }
  int r = big / 10 > 1 ? big / 10 : 1;
  for (int pass = 0; pass < 2; pass++) {
    int sign = pass == 0 ? 1 : -1;
    for (int y = 0; y < Hp; y++) run_extreme(P + (size_t)y * Wp, Wp, 1, r, sign, tmp);
    for (int x = 0; x < Wp; x++) run_extreme(P + x, Hp, Wp, r, sign, tmp);
  }
  /* the closing is flat in steps of the window: a box blur of half its
   * width smooths them */
  int rb = r / 2 > 1 ? r / 2 : 1;
  for (int y = 0; y < Hp; y++) box_blur(P + (size_t)y * Wp, Wp, 1, rb, tmp);
  for (int x = 0; x < Wp; x++) box_blur(P + x, Hp, Wp, rb, tmp);
  for (int y = 0; y < H; y++) {
    int ya, yb;
    const float fy = up_coord(y, g, Hp, &ya, &yb);
    for (int x = 0; x < W; x++) {
      int xa, xb;
      const float fx = up_coord(x, g, Wp, &xa, &xb);
      float t = P[(size_t)ya * Wp + xa] * (1 - fx) + P[(size_t)ya * Wp + xb] * fx;
      float b = P[(size_t)yb * Wp + xa] * (1 - fx) + P[(size_t)yb * Wp + xb] * fx;
      B[(size_t)y * W + x] = t * (1 - fy) + b * fy;
    }
  }
  free(P);
  return 0;
}

/* The value below which a share q of the histogram's mass lies (bins of
 * width 1/nb over 0..1). */
static float quantile(const uint32_t *hist, int nb, uint64_t total, double q) {
  uint64_t want = (uint64_t)(q * (double)total), run = 0;
  for (int i = 0; i < nb; i++) {
    run += hist[i];
    if (run > want) return (i + 0.5f) / nb;
  }
  return 1;
}

/* Otsu's level over bins [lo, nb) of the histogram, as a value 0..1. */
static float otsu(const uint32_t *hist, int nb, int lo) {
  double sum = 0, n = 0;
  for (int i = lo; i < nb; i++) sum += (double)i * hist[i], n += hist[i];
  if (n <= 0) return (lo + 0.5f) / nb;
  double w0 = 0, s0 = 0, best = -1;
  int bi = lo;
  for (int i = lo; i < nb; i++) {
    w0 += hist[i];
    s0 += (double)i * hist[i];
    double w1 = n - w0;
    if (w0 <= 0 || w1 <= 0) continue;
    double m0 = s0 / w0, m1 = (sum - s0) / w1;
    double v = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (v > best) best = v, bi = i;
  }
  return (bi + 1.0f) / nb;
}

/* ---- connected components (8-connected, two passes, union-find) ---- */

static int32_t uf_find(int32_t *p, int32_t a) {
  while (p[a] != a) a = p[a] = p[p[a]];
  return a;
}

/* Pass 1: provisional labels of m->mask into m->lab, their equivalences
 * in par (cap entries; each set's root is its smallest label, whatever
 * the order of the unions). Along a run of ink the run's root is kept: a
 * pixel's left, upper-left and upper neighbours are the previous pixel's
 * or in its run, so only the upper-right one is new (and only when it
 * differs from the upper one). Returns the next unused label, or 0 when
 * par is full (cannot happen: a label per 2 px). */
static int32_t label_runs(cc_map *m, int32_t *par, size_t cap) {
  const int W = m->W, H = m->H;
  int32_t next = 1;
  par[0] = 0;
  for (int y = 0; y < H; y++) {
    const uint8_t *mrow = m->mask + (size_t)y * W;
    int32_t *row = m->lab + (size_t)y * W;
    const int32_t *up = y > 0 ? row - W : NULL;
    int32_t r = 0;  /* the root of the run at x - 1; 0: no ink there */
    for (int x = 0; x < W; x++) {
      if (!mrow[x]) {
        row[x] = r = 0;
        continue;
      }
      int32_t nb[3], k = 0;
      if (up) {
        if (!r && x > 0 && up[x - 1]) nb[k++] = up[x - 1];
        if (!r && up[x]) nb[k++] = up[x];
        if (x < W - 1 && up[x + 1] && !(r && up[x + 1] == up[x]))
          nb[k++] = up[x + 1];
      }
      if (!r && !k) {
        if ((size_t)next >= cap) return 0;
        par[next] = next;
        r = next++;
      }
      for (int j = 0; j < k; j++) {
        int32_t s = uf_find(par, nb[j]);
        if (!r) r = s;
        else if (s < r) par[r] = s, r = s;
        else if (s > r) par[s] = r;
      }
      row[x] = r;
    }
  }
  return next;
}

/* Pass 2: final labels (l = -par[provisional]) into m->lab and each
 * component's box, area and mass, a run of ink at a time (a run is one
 * component; its mass summed pixel by pixel in raster order). */
static void label_stats(cc_map *m, const int32_t *par, const float *ink) {
  const int W = m->W, H = m->H;
  for (int y = 0; y < H; y++) {
    int32_t *row = m->lab + (size_t)y * W;
    const float *irow = ink + (size_t)y * W;
    for (int x = 0; x < W; x++) {
      if (!row[x]) continue;
      const int32_t l = -par[row[x]];
      comp *q = &m->cs[l];
      double mass = q->mass;
      const int xa = x;
      for (; x < W && row[x]; x++) {
        row[x] = l;
        mass += irow[x];
      }
      q->mass = mass;
      q->area += x - xa;
      if (xa < q->x0) q->x0 = xa;
      if (x - 1 > q->x1) q->x1 = x - 1;
      if (y < q->y0) q->y0 = y;
      if (y > q->y1) q->y1 = y;
    }
  }
}

/* Label m->mask into m->lab and m->cs (mass from ink). */
static int label(cc_map *m, const float *ink) {
  const int W = m->W, H = m->H;
  size_t cap = (size_t)W * H / 2 + 2;
  int32_t *par = malloc(sizeof(int32_t) * cap);
  if (!par) return dg_error(DG_ERR_NOMEM, "preprocess: out of memory");
  const int32_t next = label_runs(m, par, cap);
  if (!next) {
    free(par);
    return dg_error(DG_ERR_NOMEM, "preprocess: too many components");
  }
  /* every label to its root (the smallest label of its set), then the
   * roots, in order, to -1, -2, ...: a non-root's root comes before it */
  for (int32_t a = 1; a < next; a++) par[a] = uf_find(par, a);
  int32_t n = 0;
  for (int32_t a = 1; a < next; a++)
    par[a] = par[a] == a ? -(++n) : par[par[a]];
  free(m->cs);
  m->cs = calloc((size_t)n + 1, sizeof(comp));
  if (!m->cs) {
    free(par);
    return dg_error(DG_ERR_NOMEM, "preprocess: out of memory");
  }
  m->n = n;
  for (int32_t a = 1; a <= n; a++) {
    comp *q = &m->cs[a];
    q->x0 = W, q->y0 = H, q->x1 = -1, q->y1 = -1;
  }
  label_stats(m, par, ink);
  for (int32_t a = 1; a <= n; a++) {
    comp *q = &m->cs[a];
    q->border = q->x0 == 0 || q->y0 == 0 || q->x1 == W - 1 || q->y1 == H - 1;
  }
  free(par);
  return 0;
}

/* ---- straight lines ------------------------------------------------- */

/* A view of the mask along lines: u runs along them (NU positions), v
 * across (NV); pixel (u, v) is mask[u * su + v * sv]. Horizontal lines:
 * u = x, v = y; vertical: u = y, v = x. */
typedef struct {
  uint8_t *mask;
  const int32_t *lab;  /* with sel: only pixels whose label has sel 1 */
  const uint8_t *sel;
  int NU, NV;
  size_t su, sv;
  int u0, u1, v0, v1;  /* region, inclusive */
} line_view;

typedef struct {
  float rho, tn;  /* v = rho + u * tn at the line's centre */
  int cover;
} line_t;

static inline int lv_on(const line_view *L, int u, int v) {
  size_t i = (size_t)u * L->su + (size_t)v * L->sv;
  return L->mask[i] && (!L->sel || L->sel[L->lab[i]]);
}

/* Straight lines covering at least min_cover positions of u in the
 * region, best first, at most maxl; returns how many. */
static int find_lines(const line_view *L, int min_cover, line_t *out,
                      int maxl) {
  const int NA = 2 * LINE_DEG + 1;
  float tn[2 * LINE_DEG + 1];
  for (int a = 0; a < NA; a++) tn[a] = (float)tan((a - LINE_DEG) * M_PI / 180);
  int du = L->u1 - L->u0 + 1;
  float off = du * tn[NA - 1] + 2 * LINE_BIN;  /* rho >= -off */
  int nb = (int)((L->v1 - L->v0 + 1 + 2 * off) / LINE_BIN) + 3;
  int32_t *cov = calloc((size_t)NA * nb * 2, sizeof(int32_t));
  if (!cov) return dg_error(DG_ERR_NOMEM, "preprocess: out of memory");
  int32_t *stamp = cov + (size_t)NA * nb;
  for (int u = L->u0; u <= L->u1; u++) {
    float uu = (float)(u - L->u0);
    for (int v = L->v0; v <= L->v1; v++) {
      if (!lv_on(L, u, v)) continue;
      for (int a = 0; a < NA; a++) {
        int b = (int)((v - L->v0 - uu * tn[a] + off) / LINE_BIN);
        int32_t *cv = cov + (size_t)a * nb, *st = stamp + (size_t)a * nb;
        for (int k = b - 1; k <= b + 1; k++)
          if (k >= 0 && k < nb && st[k] != u + 1) st[k] = u + 1, cv[k]++;
      }
    }
  }
  int n = 0;
  for (;;) {
    int best = min_cover - 1, ba = -1, bb = -1;
    for (int a = 0; a < NA; a++)
      for (int b = 0; b < nb; b++)
        if (cov[(size_t)a * nb + b] > best)
          best = cov[(size_t)a * nb + b], ba = a, bb = b;
    if (ba < 0 || n >= maxl) break;
    line_t ln;
    ln.tn = tn[ba];
    ln.rho = L->v0 + (bb + 0.5f) * LINE_BIN - off - L->u0 * tn[ba];
    ln.cover = best;
    out[n++] = ln;
    /* suppress this line's neighbourhood: bins within 3 (9 px), angles
     * within 3 degrees */
    for (int a = ba - 3; a <= ba + 3; a++)
      for (int b = bb - 3; b <= bb + 3; b++)
        if (a >= 0 && a < NA && b >= 0 && b < nb) cov[(size_t)a * nb + b] = 0;
  }
  free(cov);
  return n;
}

/* Check and erase a line found by find_lines: follow it along u (the
 * run across v nearest its predicted centre, within 5 px, the centre
 * tracking what it finds). It is a line if runs are found at min_cover
 * positions and their median length is at most thin_max px (a ruled line
 * is thin; a digit's stroke as long as that is thick). Then runs up to
 * the median + a margin are erased and longer ones (a stroke crossing
 * it) kept. Returns -1 if it is no line, else the pixels erased (0 when
 * dry). */
static long erase_line(line_view *L, const line_t *ln, int thin_max,
                       int min_cover, int dry) {
  int hist[64] = {0}, nrun = 0, tmax = 0;
  /* the centres of the thin runs (not strokes across the line), to see
   * that they lie on a straight line: an arc's sagitta leaves residues */
  enum { MAXU = 2 * DG_INK_WORK + 2 };
  float cu[MAXU], cv[MAXU];
  int nthin = 0;
  double fit_c = 0, fit_s = 0;
  long erased = 0;
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1) {
      int half = (nrun + 1) / 2, run = 0, med;
      for (med = 1; med < 63; med++)
        if ((run += hist[med]) >= half) break;
      if (nrun < min_cover || med > thin_max || nthin < 2) return -1;
      /* a least-squares line through the centres, fitted again to those
       * within 3 px of the first (a stroke touching the line pulls the
       * first fit); 85% of the centres must lie within
       * 1.5 + du/80 px of it */
      double icpt = 0, slope = 0;
      const int du = L->u1 - L->u0 + 1;
      const double tol = 1.5 + du / 80.0;
      int inl = 0;
      for (int it = 0; it < 2; it++) {
        double su = 0, sv = 0, suu = 0, suv = 0;
        int m = 0;
        for (int k = 0; k < nthin; k++) {
          if (it && fabs(cv[k] - (icpt + slope * cu[k])) > 3) continue;
          su += cu[k], sv += cv[k], suu += (double)cu[k] * cu[k], suv += (double)cu[k] * cv[k];
          m++;
        }
        if (m < 2) return -1;
        double den = m * suu - su * su;
        slope = den != 0 ? (m * suv - su * sv) / den : 0;
        icpt = (sv - slope * su) / m;
      }
      for (int k = 0; k < nthin; k++)
        inl += fabs(cv[k] - (icpt + slope * cu[k])) <= tol;
      if (inl * 20 < nthin * 17) return -1;
      if (dry) return 0;
      fit_c = icpt, fit_s = slope;
      tmax = med + (med / 2 > 2 ? med / 2 : 2);
    }
    for (int u = L->u0; u <= L->u1; u++) {
      /* pass 0 searches 5 px around the line found, pass 1 3 px around
       * the line fitted to its runs */
      float vc = pass == 0 ? ln->rho + u * ln->tn : (float)(fit_c + fit_s * u);
      int best = -1, c0 = (int)lrintf(vc), reach = pass == 0 ? 5 : 3;
      for (int d = 0; d <= reach && best < 0; d++) {
        int v1 = c0 - d, v2 = c0 + d;
        if (v1 >= L->v0 && v1 <= L->v1 && lv_on(L, u, v1)) best = v1;
        else if (v2 >= L->v0 && v2 <= L->v1 && lv_on(L, u, v2)) best = v2;
      }
      if (best < 0) continue;
      int va = best, vb = best;
      while (va > L->v0 && lv_on(L, u, va - 1)) va--;
      while (vb < L->v1 && lv_on(L, u, vb + 1)) vb++;
      int len = vb - va + 1;
      if (pass == 0) {
        hist[len < 63 ? len : 63]++;
        nrun++;
        if (len <= thin_max && nthin < MAXU)
          cu[nthin] = (float)u, cv[nthin++] = 0.5f * (va + vb);
      } else if (len <= tmax) {
        for (int v = va; v <= vb; v++)
          L->mask[(size_t)u * L->su + (size_t)v * L->sv] = 0;
        erased += len;
      }
    }
  }
  return erased;
}

/* Find and erase lines in both orientations inside box (x0..x1, y0..y1)
 * of mask, only among pixels whose label has sel 1 (NULL: all); lines cover at
 * least cover[0] columns (horizontal lines) or cover[1] rows (vertical). With edge_frac > 0 only
 * lines within that fraction of the box's edges count (the sides of a
 * box), and sides found are reported in *sides as bits (1 top, 2 bottom,
 * 4 left, 8 right); with dry set nothing is erased. Lines are at most
 * thin_max px thick. Returns the number of
 * lines erased (or found, when dry), or a negative status. */
static int lines_in(cc_map *m, const uint8_t *sel, int x0, int y0, int x1, int y1,
                    const int cover[2], int thin_max, double edge_frac,
                    int dry, int *sides) {
  line_t lines[64];
  float side_at[4] = {-1e9f, -1e9f, -1e9f, -1e9f};
  int total = 0;
  if (sides) *sides = 0;
  for (int o = 0; o < 2; o++) {
    line_view L = {m->mask, m->lab, sel, 0, 0, 0, 0, 0, 0, 0, 0};
    if (o == 0) { /* horizontal: u = x, v = y */
      L.su = 1, L.sv = (size_t)m->W;
      L.u0 = x0, L.u1 = x1, L.v0 = y0, L.v1 = y1;
    } else {
      L.su = (size_t)m->W, L.sv = 1;
      L.u0 = y0, L.u1 = y1, L.v0 = x0, L.v1 = x1;
    }
    const int dv = L.v1 - L.v0 + 1, min_cover = cover[o];
    /* cheap and exact: a line needs that many positions with ink at all */
    int occupied = 0;
    for (int u = L.u0; u <= L.u1; u++)
      for (int v = L.v0; v <= L.v1; v++)
        if (lv_on(&L, u, v)) { occupied++; break; }
    if (occupied < min_cover) continue;
    int n = find_lines(&L, min_cover, lines, 64);
    if (n < 0) return n;
    for (int i = 0; i < n; i++) {
      if (edge_frac > 0) {
        float vm = lines[i].rho + 0.5f * (L.u0 + L.u1) * lines[i].tn;
        int side = 0;
        if (vm - L.v0 <= edge_frac * dv) side = o == 0 ? 1 : 4;
        else if (L.v1 - vm <= edge_frac * dv) side = o == 0 ? 2 : 8;
        if (!side) continue;
        /* one side is one line: others there must be the same line seen
         * at another angle (a 7's bar below the top side is no side) */
        int si = side == 1 ? 0 : side == 2 ? 1 : side == 4 ? 2 : 3;
        if (side_at[si] > -1e8f && fabsf(vm - side_at[si]) > thin_max) continue;
        if (erase_line(&L, &lines[i], thin_max, min_cover, dry) < 0) continue;
        if (side_at[si] <= -1e8f) side_at[si] = vm;
        if (sides) *sides |= side;
      } else if (erase_line(&L, &lines[i], thin_max, min_cover, dry) < 0) {
        continue;
      }
      total++;
    }
  }
  return total;
}

/* ---- choosing the digit --------------------------------------------- */

static int cmp_int_desc(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x < y) - (x > y);
}


/* Groups of components that are pieces of one digit: boxes that overlap
 * or nearly touch (a gap under an eighth of the taller's height), or that
 * overlap in x by half the narrower one with a vertical gap under half
 * the taller's height if the smaller is a fifth of that height (a
 * stroke, not a dot). In photos a piece touching the border never
 * joins one inside (the table beyond the page is no 5's flag). */
static void group(comp *cs, int n, int flat) {
  int live[MAX_PIECES], nl = 0;  /* the pieces not dropped */
  for (int i = 1; i <= n; i++) {
    cs[i].group = i;
    if (!cs[i].drop && nl < MAX_PIECES) live[nl++] = i;
  }
  for (int changed = 1; changed;) {
    changed = 0;
    for (int p = 0; p < nl; p++) {
      for (int q = p + 1; q < nl; q++) {
        const int i = live[p], j = live[q];
        if (cs[i].group == cs[j].group) continue;
        const comp *a = &cs[i], *b = &cs[j];
        if (!flat && a->border != b->border) continue;  /* the page's edge */
        int ha = a->y1 - a->y0 + 1, hb = b->y1 - b->y0 + 1;
        int hm = ha > hb ? ha : hb;
        int gx = (a->x0 > b->x1 ? a->x0 - b->x1 : b->x0 > a->x1 ? b->x0 - a->x1 : 0);
        int gy = (a->y0 > b->y1 ? a->y0 - b->y1 : b->y0 > a->y1 ? b->y0 - a->y1 : 0);
        int ox = (a->x1 < b->x1 ? a->x1 : b->x1) - (a->x0 > b->x0 ? a->x0 : b->x0) + 1;
        int wa = a->x1 - a->x0 + 1, wb = b->x1 - b->x0 + 1;
        int wn = wa < wb ? wa : wb;
        /* the smaller piece's longest side, for the x-overlap rule: a
         * 5's flag is a stroke, a pen dot above a 0 is not */
        int ma = wa > ha ? wa : ha, mb = wb > hb ? wb : hb;
        int join = (gx <= hm / 8 && gy <= hm / 8) ||
                   (ox * 2 >= wn && gy * 2 <= hm && (ma < mb ? ma : mb) * 5 >= hm);
        if (!join) continue;
        int from = cs[j].group, to = cs[i].group;
        if (from < to) { int t = from; from = to; to = t; }
        for (int k = 0; k < nl; k++)
          if (cs[live[k]].group == from) cs[live[k]].group = to;
        changed = 1;
      }
    }
  }
}

/* ---- the whole -------------------------------------------------------- */

void dg_ink_free(dg_ink *ink) {
  if (!ink) return;
  free(ink->ink);
  ink->ink = NULL;
}

typedef struct {
  double mass;  /* weighted ink */
  int x0, y0, x1, y1;
  int border;
} grp;

/* One call of dg_ink_find: the image, the work map and its buffers. */
typedef struct {
  const uint8_t *px;
  int w, h, c;
  const uint8_t *paper;  /* flat paper's pixel, or NULL (a photo) */
  int flat;
  int W, H;              /* the work map */
  size_t N;              /* W * H */
  int IW, IH;            /* the whole image in work pixels (lines cross it) */
  float *L;              /* (H, W) luminance, then the free half of L's block */
  float *ink;            /* (H, W) ink 0..1 (the second half of L's block) */
  uint8_t *mask;         /* (H, W) strong ink */
  int32_t *lab;          /* (H, W) component labels */
  cc_map m;
  grp *gs;               /* groups, index = group id */
  dg_ink *out;
  int all;               /* dg_ink_find_all: every digit-sized group kept */
} ink_job;

static void job_free(ink_job *J) {
  free(J->L);
  free(J->mask);
  free(J->lab);
  free(J->m.cs);
  free(J->gs);
}

/* Step 1: the work map's size and buffers, and its luminance. Flat paper:
 * only the box of pixels that differ from it matters. */
static int job_init(ink_job *J, const uint8_t *px, int w, int h, int c,
                    dg_ink *out, int all_work) {
  memset(J, 0, sizeof *J);
  J->px = px, J->w = w, J->h = h, J->c = c, J->out = out;
  J->all = all_work > 0;
  const size_t flat_at = flat_border(px, w, h, c);
  J->flat = flat_at > 0;
  J->paper = J->flat ? px + (flat_at - 1) * c : NULL;
  int ox = 0, oy = 0, cw = w, ch = h;
  if (J->flat && !paper_box(px, w, h, c, J->paper, &ox, &oy, &cw, &ch))
    return dg_error(DG_ERR_EMPTY, "preprocess: no ink: the %dx%d image is "
                    "blank", w, h);
  const int big = cw > ch ? cw : ch,
            work = !J->flat ? DG_INK_WORK : J->all ? all_work : DG_INK_WORK_FLAT;
  const int f = (big + work - 1) / work;
  const int W = (cw + f - 1) / f, H = (ch + f - 1) / f;
  const size_t N = (size_t)W * H;
  J->W = W, J->H = H, J->N = N;
  J->IW = (w + f - 1) / f, J->IH = (h + f - 1) / f;
  out->W = W, out->H = H, out->f = f, out->ox = ox, out->oy = oy;
  J->L = malloc(sizeof(float) * N * 2);
  J->mask = malloc(N);
  J->lab = malloc(sizeof(int32_t) * N);
  J->m = (cc_map){W, H, J->mask, J->lab, NULL, 0};
  if (!J->L || !J->mask || !J->lab)
    return dg_error(DG_ERR_NOMEM, "preprocess: out of memory for a %dx%d map", W, H);
  J->ink = J->L + N;
  const uint8_t *src = px + ((size_t)oy * w + ox) * c;
  if (J->flat)
    work_lum_flat(src, (size_t)w, cw, ch, c, f, W, H, J->paper, J->L);
  else
    work_lum_photo(src, (size_t)w, cw, ch, c, f, W, H, J->L);
  return 0;
}

/* Step 2 on flat paper, as drawings always were read: the border is the
 * paper; ink is the direction with the larger excursion, relative to it. */
static int paper_flat(ink_job *J, float *lo_thr, float *contrast) {
  const float *L = J->L;
  float *ink = J->ink;
  const size_t N = J->N;
  float bg = lum_f(J->paper, J->c), lmin = bg, lmax = bg;
  for (size_t i = 0; i < N; i++) {
    if (L[i] < lmin) lmin = L[i];
    if (L[i] > lmax) lmax = L[i];
  }
  float de = bg - lmin, le = lmax - bg;
  J->out->dark = de > le || (de == le && bg * 2 >= 255);
  const float con = J->out->dark ? de : le;
  if (con < 10)
    return dg_error(DG_ERR_EMPTY, "preprocess: no ink: the %dx%d image is "
                    "blank (contrast %d/255)", J->w, J->h, (int)con);
  const int dark = J->out->dark;
  for (size_t i = 0; i < N; i++) {
    const float d = dark ? bg - L[i] : L[i] - bg;
    if (d <= 0) { /* paper (most of the map): no division */
      ink[i] = 0;
      continue;
    }
    const float v = d / con;
    ink[i] = v < INK_NOISE ? 0 : v > 1 ? 1 : v;
  }
  *contrast = 1;
  *lo_thr = INK_NOISE;
  return 0;
}

/* Step 2 in a photo: polarity from the luminance's two tails, the paper's
 * brightness divided out, then r = 1 - L / paper: 0 on paper up to its
 * noise (both ways), up to 1 on ink. The paper's own level and noise come
 * from the lower half of r, which ink never reaches: its median and the
 * distance down to the 16th percentile (one sigma for Gaussian noise). */
static int paper_photo(ink_job *J, float *lo_thr, float *contrast) {
  float *L = J->L, *ink = J->ink;
  const size_t N = J->N;
  J->out->photo = 1;
  uint32_t hl[256] = {0};
  for (size_t i = 0; i < N; i++) hl[(int)L[i] > 255 ? 255 : (int)L[i]]++;
  float med = quantile(hl, 256, N, 0.5) * 256, plo = quantile(hl, 256, N, 0.003) * 256,
        phi = quantile(hl, 256, N, 0.997) * 256;
  double dext = log((med + 8) / (plo + 8)), lext = log((phi + 8) / (med + 8));
  J->out->dark = dext >= 0.8 * lext;
  if (!J->out->dark)
    for (size_t i = 0; i < N; i++) L[i] = 255 - L[i];
  int st = paper_level(L, J->W, J->H, ink);
  if (st < 0) return st;
  enum { NR = 2048 };
  uint32_t hr[NR] = {0};
  for (size_t i = 0; i < N; i++) {
    float b = ink[i] < 1 ? 1 : ink[i];
    float r = 1 - L[i] / b;
    r = r < -1 ? -1 : r > 1 ? 1 : r;
    ink[i] = r;
    hr[(int)((r + 1) * 0.5f * (NR - 1))]++;
  }
  float pmed = quantile(hr, NR, N, 0.5) * 2 - 1, p16 = quantile(hr, NR, N, 0.16) * 2 - 1;
  float noise = pmed - p16;
  enum { NB = 1024 };
  uint32_t hd[NB] = {0};
  for (size_t i = 0; i < N; i++) {
    float v = ink[i] - pmed;
    ink[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    hd[(int)(ink[i] * (NB - 1))]++;
  }
  *contrast = quantile(hd, NB, N, 1 - (N / 2000 + 1) / (double)N);
  if (*contrast < MIN_INK)
    return dg_error(DG_ERR_EMPTY, "preprocess: no ink: nothing in the "
                    "%dx%d image is more than %d%% darker than the paper",
                    J->w, J->h, (int)(*contrast * 100 + 0.5));
  float lo = INK_NOISE * *contrast;
  if (lo < 3 * noise) lo = 3 * noise;
  if (lo > 0.5f * *contrast) lo = 0.5f * *contrast;
  for (size_t i = 0; i < N; i++)
    if (ink[i] < lo) ink[i] = 0;
  *lo_thr = lo;
  return 0;
}

/* Step 3: strong ink (the mask) by Otsu above the weak level; in drawings
 * every ink pixel is strong (their strokes are solid). */
static void strong_ink(ink_job *J, float lo_thr, float contrast) {
  enum { NB = 1024 };
  /* locals: the mask's byte stores could alias J's fields */
  const float *ink = J->ink;
  uint8_t *mask = J->mask;
  const size_t N = J->N;
  uint32_t hd[NB] = {0};
  if (!J->flat)
    for (size_t i = 0; i < N; i++) hd[(int)(ink[i] * (NB - 1))]++;
  float t = J->flat ? 1e-6f : otsu(hd, NB, (int)(lo_thr * (NB - 1)) + 1);
  float tmin = 0.25f * contrast, tmax = 0.6f * contrast;
  if (tmin < lo_thr) tmin = lo_thr;
  if (!J->flat) t = t < tmin ? tmin : t > tmax ? tmax : t;
  for (size_t i = 0; i < N; i++) mask[i] = ink[i] >= t;
}

/* Step 4: lines across the whole image, erased from the mask (a line must
 * cross LINE_COVER of the image: kept out of the way of a lone "1"). */
static int erase_lines(ink_job *J) {
  const int IW = J->IW, IH = J->IH;
  int thin = (IW > IH ? IW : IH) / 80 > 4 ? (IW > IH ? IW : IH) / 80 : 4;
  const int cover[2] = {(int)ceil(LINE_COVER * IW), (int)ceil(LINE_COVER * IH)};
  int nl = lines_in(&J->m, NULL, 0, 0, J->W - 1, J->H - 1, cover, thin, 0, 0, NULL);
  if (nl < 0) return nl;
  J->out->lines = nl;
  return 0;
}

/* Step 4b, numbers only (dg_ink_find_all): a rule under or over the
 * number (an underline, a form's line), as thick as a pen's stroke, which
 * the lines of step 4 leave (too thick, or not across the image) and
 * which joins every digit it touches into one piece. Rows whose longest
 * run of ink spans RULE_SPAN of the ink's width, in a band at most
 * RULE_THICK of the ink's height thick within RULE_EDGE of its bottom or
 * top, where the ink is at least RULE_WIDE times as wide as high: those
 * runs, and the run along them in the rows next to the band, are erased
 * (a stroke across the line loses the line's thickness). */
#define RULE_SPAN 0.7
#define RULE_THICK 0.2
#define RULE_EDGE 0.35
#define RULE_WIDE 1.2
#define RULE_LONG 2.0
static void longest_run(const uint8_t *row, int W, int *a, int *b) {
  *a = 0, *b = -1;
  for (int x = 0; x < W;) {
    if (!row[x]) { x++; continue; }
    int e = x;
    while (e + 1 < W && row[e + 1]) e++;
    if (e - x > *b - *a) *a = x, *b = e;
    x = e + 1;
  }
}

/* Whether columns a and b (each with the t next inward) both hold a
 * vertical run of ink RULE_SIDE of the ink's height V long: the band
 * between is a box's side, left to step 5's box rule. */
#define RULE_SIDE 0.6
static int box_sides(const ink_job *J, int a, int b, int t, int V) {
  int sides = 0;
  for (int k = 0; k < 2; k++) {
    int best = 0;
    for (int i = 0; i <= t; i++) {
      const int x = k ? b - i : a + i;
      if (x < 0 || x >= J->W) continue;
      for (int y = 0, run = 0; y < J->H; y++) {
        run = J->mask[(size_t)y * J->W + x] ? run + 1 : 0;
        best = run > best ? run : best;
      }
    }
    sides += best >= RULE_SIDE * V;
  }
  return sides == 2;
}

static int erase_rules(ink_job *J) {
  const int W = J->W, H = J->H;
  uint8_t *mask = J->mask;
  int X0 = W, X1 = -1, Y0 = H, Y1 = -1;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      if (mask[(size_t)y * W + x]) {
        X0 = x < X0 ? x : X0, X1 = x > X1 ? x : X1;
        Y0 = y < Y0 ? y : Y0, Y1 = y > Y1 ? y : Y1;
      }
  const int E = X1 - X0 + 1, V = Y1 - Y0 + 1;
  if (X1 < 0 || E < RULE_WIDE * V) return 0;
  const double span = RULE_SPAN * E > RULE_LONG * V ? RULE_SPAN * E : RULE_LONG * V;
  int *ra = malloc(sizeof(int) * 2 * (size_t)H);
  if (!ra) return dg_error(DG_ERR_NOMEM, "preprocess: out of memory");
  int *rb = ra + H, erased = 0;
  for (int y = 0; y < H; y++) longest_run(mask + (size_t)y * W, W, &ra[y], &rb[y]);
  const double thick = RULE_THICK * V > 2 ? RULE_THICK * V : 2;
  for (int y = Y0; y <= Y1;) {
    if (rb[y] - ra[y] + 1 < span) { y++; continue; }
    int e = y;  /* the band [y, e] */
    while (e + 1 <= Y1 && rb[e + 1] - ra[e + 1] + 1 >= span) e++;
    const int near_edge = e >= Y1 - RULE_EDGE * V || y <= Y0 + RULE_EDGE * V;
    int a = W, b = -1;  /* the band's span */
    for (int v = y; v <= e; v++) a = ra[v] < a ? ra[v] : a, b = rb[v] > b ? rb[v] : b;
    if (e - y + 1 <= thick && near_edge && !box_sides(J, a, b, (int)thick + 1, V)) {
      for (int v = y - 1; v <= e + 1; v++) {
        if (v < 0 || v >= H) continue;
        int x = ra[v], stop = rb[v];
        if (v < y || v > e) {  /* the band's edge rows: the run along it */
          longest_run(mask + (size_t)v * W, W, &x, &stop);
          if (stop - x + 1 < 0.5 * (b - a + 1)) continue;
          x = x > a ? x : a, stop = stop < b ? stop : b;
        }
        for (; x <= stop; x++) mask[(size_t)v * W + x] = 0;
      }
      erased++;
    }
    y = e + 1;
  }
  free(ra);
  J->out->lines += erased;
  return 0;
}

/* Step 5, specks: pieces a fiftieth of the biggest, or tiny; and beyond
 * the MAX_PIECES biggest pieces (grouping is quadratic: a noisy page's
 * hundreds of specks there are specks too). */
static int drop_specks(comp *cs, int n) {
  int amax = 0;
  for (int i = 1; i <= n; i++) amax = cs[i].area > amax ? cs[i].area : amax;
  for (int i = 1; i <= n; i++) {
    int bw = cs[i].x1 - cs[i].x0 + 1, bh = cs[i].y1 - cs[i].y0 + 1;
    if (cs[i].area * 50 < amax || (bw < 3 && bh < 3 && amax > 8))
      cs[i].drop = 1;
  }
  int alive = 0;
  for (int i = 1; i <= n; i++) alive += !cs[i].drop;
  if (alive <= MAX_PIECES) return 0;
  int *ar = malloc(sizeof(int) * (size_t)alive), k = 0;
  if (!ar) return dg_error(DG_ERR_NOMEM, "preprocess: out of memory");
  for (int i = 1; i <= n; i++)
    if (!cs[i].drop) ar[k++] = cs[i].area;
  qsort(ar, (size_t)k, sizeof(int), cmp_int_desc);
  int cut = ar[MAX_PIECES - 1];
  free(ar);
  for (int i = 1, kept = 0; i <= n; i++)
    if (!cs[i].drop && (cs[i].area < cut || (cs[i].area == cut && kept >= MAX_PIECES)))
      cs[i].drop = 1;
    else if (!cs[i].drop)
      kept++;
  return 0;
}

/* Drawings: a box is only a stroke around another one of the group. */
static int encloses(const comp *cs, const int *live, int nl, const uint8_t *sel) {
  int around = 0;
  for (int p = 0; p < nl && !around; p++)
    for (int q = 0; q < nl && sel[live[p]] && !around; q++) {
      const comp *a = &cs[live[p]], *b = &cs[live[q]];
      around = q != p && sel[live[q]] && b->x0 > a->x0 && b->x1 < a->x1 &&
               b->y0 > a->y0 && b->y1 < a->y1;
    }
  return around;
}

/* Step 5, a box drawn around the digit: group g (its pieces marked in
 * sel) is a sparse group with straight sides along three or four edges
 * of its box. Its sides are erased like lines; that stands only if ink is
 * left inside, away from the sides (else it was a square 0: the mask is
 * put back). *erased is set when the sides went. */
static int erase_box(ink_job *J, int g, const int *live, int nl, uint8_t *sel,
                     int *erased) {
  comp *cs = J->m.cs;
  const int W = J->W;
  for (int p = 0; p < nl; p++) sel[live[p]] = 0;
  int x0 = W, y0 = J->H, x1 = -1, y1 = -1;
  long area = 0;
  for (int p = 0; p < nl; p++) {
    const int i = live[p];
    sel[i] = cs[i].group == g;
    if (!sel[i]) continue;
    comp *q = &cs[i];
    x0 = q->x0 < x0 ? q->x0 : x0, y0 = q->y0 < y0 ? q->y0 : y0;
    x1 = q->x1 > x1 ? q->x1 : x1, y1 = q->y1 > y1 ? q->y1 : y1;
    area += q->area;
  }
  int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  if (!area || bw < 24 || bh < 24 || (double)area > 0.6 * bw * bh) return 0;
  /* drawings and numbers (dg_ink_find_all): only a box around something.
   * A tight "1777" in a photo has straight strokes along three sides of
   * its box (the 1, the 7s' bars, the last 7's stem) and none inside
   * another's box; a box drawn around a number holds it inside */
  if ((J->flat || J->all) && !encloses(cs, live, nl, sel)) return 0;
  int thin = (bw < bh ? bw : bh) / 8 > 3 ? (bw < bh ? bw : bh) / 8 : 3;
  const int cover[2] = {(int)ceil(0.7 * bw), (int)ceil(0.7 * bh)};
  int sides = 0;
  int k = lines_in(&J->m, sel, x0, y0, x1, y1, cover, thin, 0.25, 1, &sides);
  if (k < 0) return k;
  int ns = (sides & 1) + (sides >> 1 & 1) + (sides >> 2 & 1) + (sides >> 3 & 1);
  if (ns < 3) return 0;
  uint8_t *mask = J->mask, *save = malloc((size_t)bw * bh);
  if (!save) return dg_error(DG_ERR_NOMEM, "preprocess: out of memory");
  for (int y = 0; y < bh; y++)
    memcpy(save + (size_t)y * bw, mask + (size_t)(y0 + y) * W + x0, bw);
  k = lines_in(&J->m, sel, x0, y0, x1, y1, cover, thin, 0.25, 0, NULL);
  /* what is left, and how much of it lies inside, away from the sides (a
   * digit in a box; a flat 0's remains hug its box) */
  long left = 0, inside = 0;
  const int mx = bw * 3 / 20, my = bh * 3 / 20;
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) {
      size_t i = (size_t)y * W + x;
      int on = mask[i] && J->lab[i] && sel[J->lab[i]];
      left += on;
      inside += on && x > x0 + mx && x < x1 - mx && y > y0 + my && y < y1 - my;
    }
  if (k > 0 && left * 30 >= area && left * 5 <= area * 4 && inside * 2 >= left) {
    J->out->lines += k;
    *erased = 1;
  } else {
    for (int y = 0; y < bh; y++)
      memcpy(mask + (size_t)(y0 + y) * W + x0, save + (size_t)y * bw, bw);
  }
  free(save);
  return 0;
}

/* Step 5 on the labelled components: specks, groups, and boxes drawn
 * around the digit (one stroke or four, touching it or not), each box
 * erased followed by everything again on the new components (8 rounds at
 * most). */
static int pieces(ink_job *J) {
  int st = 0;
  for (int round = 0; st == 0; round++) {
    comp *cs = J->m.cs;
    const int n = J->m.n;
    if ((st = drop_specks(cs, n)) < 0) break;
    group(cs, n, J->flat);
    int erased = 0;
    uint8_t *sel = calloc((size_t)n + 1, 1);
    if (!sel) { st = dg_error(DG_ERR_NOMEM, "preprocess: out of memory"); break; }
    int live[MAX_PIECES], nl = 0;
    for (int i = 1; i <= n && nl < MAX_PIECES; i++)
      if (!cs[i].drop) live[nl++] = i;
    for (int gi = 0; gi < nl && !erased && round < 8 && st == 0; gi++) {
      const int g = live[gi];
      if (cs[g].group != g) continue;  /* not the group's first piece */
      st = erase_box(J, g, live, nl, sel, &erased);
    }
    free(sel);
    if (!erased || st < 0) break;
    if ((st = label(&J->m, J->ink)) < 0) break;
  }
  return st;
}

/* The groups' mass, box and border from their pieces (J->gs). */
static int make_groups(ink_job *J) {
  const comp *cs = J->m.cs;
  const int n = J->m.n;
  free(J->gs);
  J->gs = calloc((size_t)n + 1, sizeof(grp));
  if (!J->gs) return dg_error(DG_ERR_NOMEM, "preprocess: out of memory");
  grp *gs = J->gs;
  for (int g = 1; g <= n; g++) gs[g].x0 = J->W, gs[g].y0 = J->H, gs[g].x1 = gs[g].y1 = -1;
  for (int i = 1; i <= n; i++) {
    if (cs[i].drop) continue;
    grp *g = &gs[cs[i].group];
    g->mass += cs[i].mass;
    g->border |= cs[i].border;
    if (cs[i].x0 < g->x0) g->x0 = cs[i].x0;
    if (cs[i].y0 < g->y0) g->y0 = cs[i].y0;
    if (cs[i].x1 > g->x1) g->x1 = cs[i].x1;
    if (cs[i].y1 > g->y1) g->y1 = cs[i].y1;
  }
  return 0;
}

/* The digit-sized group of most ink (0: none; *bestm its mass). In
 * photos, groups touching the border (the page's edge and the table
 * beyond, a shadow's edge, a digit cut off) compete only when no group
 * inside the frame is a tenth of the image's side; then at a quarter of
 * their mass. */
static int pick_group(ink_job *J, double *bestm) {
  grp *gs = J->gs;
  const int n = J->m.n;
  int side = J->IW < J->IH ? J->IW : J->IH;
  int minside = side / 25 > 5 ? side / 25 : side / 5 < 5 ? side / 5 : 5;
  int inner_ok = 0;
  for (int g = 1; g <= n; g++) {
    if (gs[g].mass <= 0) continue;
    int gw = gs[g].x1 - gs[g].x0 + 1, gh = gs[g].y1 - gs[g].y0 + 1;
    int gm = gw > gh ? gw : gh;
    if (gm < minside) { gs[g].mass = 0; continue; }
    if (!gs[g].border && gm * 10 >= side) inner_ok = 1;
  }
  int best = 0;
  *bestm = 0;
  for (int g = 1; g <= n; g++) {
    if (gs[g].mass <= 0) continue;
    if (gs[g].border && !J->flat) {
      if (inner_ok) { gs[g].mass = 0; continue; }
      gs[g].mass *= 0.25;
    }
    if (gs[g].mass > *bestm) *bestm = gs[g].mass, best = g;
  }
  return best;
}

/* Competitors of the winner: as tall (60%), as heavy (35%) and beside it,
 * apart by a tenth of its height (the winner counts itself). */
static int count_candidates(const ink_job *J, int best, double bestm) {
  const grp *gs = J->gs, *gb = &gs[best];
  int bh = gb->y1 - gb->y0 + 1, ncand = 0;
  for (int g = 1; g <= J->m.n; g++) {
    if (gs[g].mass <= 0) continue;
    int gh = gs[g].y1 - gs[g].y0 + 1;
    int gap = gs[g].x0 > gb->x1 ? gs[g].x0 - gb->x1 : gb->x0 > gs[g].x1 ? gb->x0 - gs[g].x1 : -1;
    if (g == best || (gh * 10 >= bh * 6 && gs[g].mass >= 0.35 * bestm && gap * 10 >= bh))
      ncand++;
  }
  return ncand;
}

/* Step 6's choice: the winner's pieces are kept, and small pieces inside
 * its box. Drawings keep every piece but boxes and lines, as they always
 * did. */
static void keep_pieces(ink_job *J, int best) {
  const grp *gb = &J->gs[best];
  int kept = 0, dropped = 0;
  for (int i = 1; i <= J->m.n; i++) {
    comp *q = &J->m.cs[i];
    int in = q->x0 >= gb->x0 && q->x1 <= gb->x1 && q->y0 >= gb->y0 && q->y1 <= gb->y1;
    int group_ok = q->group == best || (J->all && J->gs[q->group].mass > 0);
    if ((!q->drop && (J->flat || group_ok)) || (q->drop == 1 && (in || J->flat))) {
      q->drop = 0, q->group = best, kept++;
    } else {
      q->drop = q->drop ? q->drop : 3, dropped++;
    }
  }
  J->out->kept = kept, J->out->dropped = dropped;
}

/* One attempt at steps 5-6 on the current mask. Returns 1 when nothing
 * digit-sized is left and lines were erased on the first attempt (the
 * caller tries again without erasing them), else a status. */
static int choose(ink_job *J, int attempt) {
  int st;
  if ((st = label(&J->m, J->ink)) < 0) return st;
  if ((st = pieces(J)) < 0) return st;
  if ((st = make_groups(J)) < 0) return st;
  double bestm;
  int best = pick_group(J, &bestm);
  if (!best) {
    if (attempt == 0 && J->out->lines > 0) return 1;
    return dg_error(DG_ERR_EMPTY, "preprocess: no ink: nothing digit-sized "
                    "stands out from the paper in the %dx%d image", J->w, J->h);
  }
  int ncand = count_candidates(J, best, bestm);
  J->out->candidates = ncand;
  int side = J->IW < J->IH ? J->IW : J->IH;
  if (ncand > 1 && side >= 16 && !J->all)  /* smaller: one digit, as always */
    return dg_error(DG_ERR_UNCERTAIN, "preprocess: %d digit-sized shapes in "
                    "the %dx%d image and no clear winner", ncand, J->w, J->h);
  keep_pieces(J, best);
  return 0;
}

/* Steps 4-6: lines erased, then the digit chosen; if lines took every
 * digit-sized shape, once more on the mask as it was before them. */
static int find_digit(ink_job *J) {
  uint8_t *mask0 = NULL;
  int st = 0;
  if (J->W >= 32 && J->H >= 32) {
    mask0 = malloc(J->N);
    if (!mask0) return dg_error(DG_ERR_NOMEM, "preprocess: out of memory");
    memcpy(mask0, J->mask, J->N);
    if ((st = erase_lines(J)) < 0 || (J->all && (st = erase_rules(J)) < 0)) {
      free(mask0);
      return st;
    }
  }
  st = choose(J, 0);
  if (st == 1) {
    memcpy(J->mask, mask0, J->N);  /* lines took everything: try without */
    J->out->lines = 0;
    st = choose(J, 1);
  }
  free(mask0);
  return st;
}

/* The ink's box when the caller reads the source itself (flat paper,
 * every piece kept): the components' box. */
static void components_box(const cc_map *m, int box[4]) {
  int x0 = m->W, y0 = m->H, x1 = -1, y1 = -1;
  for (int i = 1; i <= m->n; i++) {
    const comp *q = &m->cs[i];
    if (q->x0 < x0) x0 = q->x0;
    if (q->y0 < y0) y0 = q->y0;
    if (q->x1 > x1) x1 = q->x1;
    if (q->y1 > y1) y1 = q->y1;
  }
  box[0] = x0, box[1] = y0, box[2] = x1 - x0 + 1, box[3] = y1 - y0 + 1;
}

/* Step 6: the winner's strong pixels, grown by r px (horizontal then
 * vertical max), take the ink there; the rest of the map is cleared. The
 * ink map is handed over to out. */
static int kept_ink(ink_job *J) {
  const int W = J->W, H = J->H, r = W < 64 || H < 64 ? 1 : 2;
  uint8_t *mask = J->mask;
  float *ink = J->ink;
  for (size_t i = 0; i < J->N; i++)
    mask[i] = J->lab[i] && mask[i] && !J->m.cs[J->lab[i]].drop;
  uint8_t *tmp = (uint8_t *)J->lab;  /* labels no longer needed */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      uint8_t v = 0;
      for (int k = -r; k <= r && !v; k++)
        if (x + k >= 0 && x + k < W) v = mask[(size_t)y * W + x + k];
      tmp[(size_t)y * W + x] = v;
    }
  int x0 = W, y0 = H, x1 = -1, y1 = -1;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      uint8_t v = 0;
      for (int k = -r; k <= r && !v; k++)
        if (y + k >= 0 && y + k < H) v = tmp[(size_t)(y + k) * W + x];
      size_t i = (size_t)y * W + x;
      if (!v) { ink[i] = 0; continue; }
      if (ink[i] > 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  if (x1 < x0)
    return dg_error(DG_ERR_EMPTY, "preprocess: no ink left in the %dx%d image",
                    J->w, J->h);
  int *box = J->out->box;
  box[0] = x0, box[1] = y0, box[2] = x1 - x0 + 1, box[3] = y1 - y0 + 1;
  /* hand over the ink map (the first half of L's allocation is free) */
  memmove(J->L, ink, sizeof(float) * J->N);
  J->out->ink = J->L;
  J->L = NULL;
  return 0;
}

/* dg_ink_find, and with all_work > 0 dg_ink_find_all. */
static int ink_find(const uint8_t *px, int w, int h, int c, dg_ink *out,
                    int *flat_all, int all_work) {
  memset(out, 0, sizeof *out);
  *flat_all = 0;
  ink_job J;
  float lo_thr = 0, contrast = 0;
  int st = job_init(&J, px, w, h, c, out, all_work);
  if (st == 0)
    st = J.flat ? paper_flat(&J, &lo_thr, &contrast)
                : paper_photo(&J, &lo_thr, &contrast);
  if (st == 0) {
    strong_ink(&J, lo_thr, contrast);
    st = find_digit(&J);
  }
  if (st == 0) {
    if (J.flat && out->dropped == 0 && out->lines == 0 && !J.all) {
      components_box(&J.m, out->box);
      *flat_all = 1;
    } else {
      st = kept_ink(&J);
    }
  }
  job_free(&J);
  return st < 0 ? st : DG_OK;
}

int dg_ink_find(const uint8_t *px, int w, int h, int c, dg_ink *out,
                int *flat_all) {
  return ink_find(px, w, h, c, out, flat_all, 0);
}

int dg_ink_find_all(const uint8_t *px, int w, int h, int c, int work,
                    dg_ink *out) {
  int flat_all;
  if (work < 16 || work > DG_INK_WORK)
    return dg_error(DG_ERR_ARG, "preprocess: work size %d, expected 16..%d",
                    work, DG_INK_WORK);
  return ink_find(px, w, h, c, out, &flat_all, work);
}
