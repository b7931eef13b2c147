/* number.c: reading a number, several digits side by side (issue 23).
 *
 *   1. ink: the same preprocessing as one digit (ink.c: paper, polarity,
 *      photo illumination, lines, boxes, specks), but every digit-sized
 *      group kept (dg_ink_find_all), on a map of at most NUMBER_WORK px a
 *      side for flat paper;
 *   2. pieces: 8-connected components of the map's ink; specks dropped;
 *   3. digits: pieces of one digit merged (a 5's flag, a 7's bar, a broken
 *      4 or 8: their horizontal extents overlap, or a small piece nearly
 *      touches a big one); fragments far smaller than the digits (a dash,
 *      a dot) dropped;
 *   4. touching digits: a group wider than WIDE x its height is cut along
 *      lines of its slant at the minima of its ink profile; every run of
 *      segments between candidate cuts is read by the network and the
 *      segmentation of the highest score (log-confidences, a penalty per
 *      extra digit and for digits too wide) wins, "no cut" included;
 *   5. each digit alone through the MNIST recipe on its own box
 *      (dg_preprocess_map), left to right. A lone digit is read by
 *      dg_preprocess_ex on the whole image, exactly as predict reads it.
 *
 * Work-map buffers are allocated once per call; no prints, no globals.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "preprocess/ink.h"

/* flat paper (drawings): the ink map's longest side at most */
#define NUMBER_WORK 512
/* pieces considered (the biggest), and candidate cuts per group */
#define MAX_PIECES 1024
#define MAX_CUTS 6
/* a group wider than this x its height may hold touching digits */
#define WIDE 0.9
/* below SURE_WIDE x its height, a group read with SURE_ONE is one digit */
#define SURE_WIDE 1.25
#define SURE_ONE 0.9f
/* and below SURER_WIDE x its height, one read with SURER_ONE */
#define SURER_WIDE 1.6
#define SURER_ONE 0.99f
/* pieces are connected through ink of at least this; weaker ink (an
 * anti-aliased or blurred edge) joins the piece it touches */
#define STRONG 0.3f
/* score: a digit's own penalty (fewer digits preferred), and per unit of
 * width / height above WIDE_OK */
#define SEG_COST 1.0
#define WIDE_OK 0.95
#define WIDE_COST 8.0

typedef struct {
  int x0, y0, x1, y1;  /* inclusive box, work pixels */
  int area;
  double mass;
  int root;            /* union-find parent (merged pieces) */
  int drop;
} piece;

/* A digit: the pixels of group g whose u = x - s (y - yc) is in [ua, ub). */
typedef struct {
  int g;
  double s, yc, ua, ub;
  double ds;           /* the group's slant: uw is the width along it */
  double uw;
  int box[4];          /* work pixels (x, y, w, h) of its ink */
  float x[784];        /* (28, 28) the network's input */
  float probs[10];
} seg;

typedef struct {
  const uint8_t *px;
  int w, h, c;
  dg_classify_fn classify;
  void *user;
  dg_ink ink;
  int W, H;
  int32_t *lab;        /* (H, W) piece label + 1, 0: none */
  piece *ps;
  int np;
  double hmed;         /* the digits' typical height (work pixels) */
  seg *segs;           /* the digits found */
  int ns, cap;
  int splits;
} reader;

static int find_root(piece *ps, int a) {
  while (ps[a].root != a) a = ps[a].root = ps[ps[a].root].root;
  return a;
}

/* 8-connected components of ink > 0 into r->lab and r->ps (stack fill). */
static int label_pieces(reader *r) {
  const int W = r->W, H = r->H;
  const size_t N = (size_t)W * H;
  const float *ink = r->ink.ink;
  r->lab = calloc(N, sizeof(int32_t));
  int32_t *stack = malloc(N * sizeof(int32_t));
  int cap = 64;
  r->ps = malloc(sizeof(piece) * (size_t)cap);
  if (!r->lab || !stack || !r->ps) {
    free(stack);
    return dg_error(DG_ERR_NOMEM, "number: out of memory for a %dx%d map", W, H);
  }
  int n = 0;
  for (size_t i0 = 0; i0 < N; i0++) {
    if (ink[i0] < STRONG || r->lab[i0]) continue;
    if (n == cap) {
      piece *p = realloc(r->ps, sizeof(piece) * (size_t)(cap *= 2));
      if (!p) { free(stack); return dg_error(DG_ERR_NOMEM, "number: out of memory"); }
      r->ps = p;
    }
    piece *q = &r->ps[n];
    *q = (piece){W, H, -1, -1, 0, 0, n, 0};
    size_t sp = 0;
    stack[sp++] = (int32_t)i0;
    r->lab[i0] = n + 1;
    while (sp) {
      const int32_t i = stack[--sp];
      const int x = i % W, y = i / W;
      q->area++, q->mass += ink[i];
      if (x < q->x0) q->x0 = x;
      if (x > q->x1) q->x1 = x;
      if (y < q->y0) q->y0 = y;
      if (y > q->y1) q->y1 = y;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          const int xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
          const size_t j = (size_t)yy * W + xx;
          if (ink[j] >= STRONG && !r->lab[j]) r->lab[j] = n + 1, stack[sp++] = (int32_t)j;
        }
    }
    n++;
  }
  free(stack);
  r->np = n;
  /* weak ink to a labelled neighbour (two passes: edges two pixels wide) */
  for (int pass = 0; pass < 2; pass++) {
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        const size_t i = (size_t)y * W + x;
        if (ink[i] <= 0 || r->lab[i]) continue;
        for (int k = 0; k < 4 && !r->lab[i]; k++) {
          const int xx = x + (k == 0) - (k == 1), yy = y + (k == 2) - (k == 3);
          if (xx >= 0 && yy >= 0 && xx < W && yy < H) {
            const int32_t l = r->lab[(size_t)yy * W + xx];
            if (l > 0) r->lab[i] = -l;  /* not yet a source this pass */
          }
        }
      }
    /* the sign marked this pass's pixels */
    for (size_t i = 0; i < N; i++) r->lab[i] = r->lab[i] < 0 ? -r->lab[i] : r->lab[i];
  }
  return DG_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Specks out; the digits' typical height: the median height of the
 * pieces at least half as tall as the tallest. */
static int drop_specks(reader *r) {
  int amax = 0, hmax = 0;
  for (int i = 0; i < r->np; i++) amax = r->ps[i].area > amax ? r->ps[i].area : amax;
  for (int i = 0; i < r->np; i++) {
    piece *q = &r->ps[i];
    int bw = q->x1 - q->x0 + 1, bh = q->y1 - q->y0 + 1;
    q->drop = q->area * 50 < amax || (bw < 3 && bh < 3 && amax > 8);
    if (!q->drop && bh > hmax) hmax = bh;
  }
  double *hs = malloc(sizeof(double) * (size_t)(r->np + 1));
  if (!hs) return dg_error(DG_ERR_NOMEM, "number: out of memory");
  int k = 0;
  for (int i = 0; i < r->np; i++) {
    const piece *q = &r->ps[i];
    if (!q->drop && (q->y1 - q->y0 + 1) * 2 >= hmax) hs[k++] = q->y1 - q->y0 + 1;
  }
  qsort(hs, (size_t)k, sizeof(double), cmp_double);
  r->hmed = k ? hs[k / 2] : 1;
  free(hs);
  return DG_OK;
}

/* Whether pieces a and b (boxes) belong to one digit. */
static int same_digit(const piece *a, const piece *b, double hmed) {
  int ha = a->y1 - a->y0 + 1, hb = b->y1 - b->y0 + 1;
  int wa = a->x1 - a->x0 + 1, wb = b->x1 - b->x0 + 1;
  int hm = ha > hb ? ha : hb, hn = ha < hb ? ha : hb, wn = wa < wb ? wa : wb;
  int gx = a->x0 > b->x1 ? a->x0 - b->x1 : b->x0 > a->x1 ? b->x0 - a->x1 : 0;
  int gy = a->y0 > b->y1 ? a->y0 - b->y1 : b->y0 > a->y1 ? b->y0 - a->y1 : 0;
  int ox = (a->x1 < b->x1 ? a->x1 : b->x1) - (a->x0 > b->x0 ? a->x0 : b->x0) + 1;
  /* stacked: most of the narrower one's extent shared, one of them short
   * (a broken 4 or 8, a 5's flag) or nearly all shared */
  if (ox * 2 >= wn && gy * 2 <= hm && (hn < 0.7 * hmed || ox * 5 >= wn * 4))
    return 1;
  /* a small piece nearly touching (a 7's bar, a flag off to the side) */
  return hn < 0.45 * hmed && gx <= hmed / 10 && gy <= hmed / 10 &&
         (wa < wb ? wa : wb) < 0.45 * hmed;
}

/* Merge pieces of one digit (union-find over the kept pieces). */
static void merge_pieces(reader *r) {
  int live[MAX_PIECES], nl = 0;
  for (int i = 0; i < r->np; i++)
    if (!r->ps[i].drop) {
      if (nl < MAX_PIECES) live[nl++] = i;
      else r->ps[i].drop = 1;
    }
  for (int changed = 1; changed;) {
    changed = 0;
    for (int p = 0; p < nl; p++)
      for (int q = p + 1; q < nl; q++) {
        int a = find_root(r->ps, live[p]), b = find_root(r->ps, live[q]);
        if (a == b) continue;
        piece *A = &r->ps[a], *B = &r->ps[b];
        if (!same_digit(A, B, r->hmed)) continue;
        if (b < a) { int t = a; a = b; b = t; A = &r->ps[a]; B = &r->ps[b]; }
        B->root = a;  /* the group's box and mass live in its root */
        if (B->x0 < A->x0) A->x0 = B->x0;
        if (B->y0 < A->y0) A->y0 = B->y0;
        if (B->x1 > A->x1) A->x1 = B->x1;
        if (B->y1 > A->y1) A->y1 = B->y1;
        A->area += B->area, A->mass += B->mass;
        changed = 1;
      }
  }
}

/* The segment's pixels: ink box into sg->box, the 28x28 input into sg->x.
 * Returns DG_ERR_EMPTY when it holds no ink. */
static int seg_input(const reader *r, seg *sg, double *mass) {
  const piece *G = &r->ps[sg->g];
  int x0 = r->W, y0 = r->H, x1 = -1, y1 = -1;
  double m = 0, w0 = 1e9, w1 = -1e9;
  for (int y = G->y0; y <= G->y1; y++)
    for (int x = G->x0; x <= G->x1; x++) {
      const size_t i = (size_t)y * r->W + x;
      if (!r->lab[i] || find_root(r->ps, r->lab[i] - 1) != sg->g) continue;
      const double u = x - sg->s * (y - sg->yc);
      if (u < sg->ua || u >= sg->ub) continue;
      m += r->ink.ink[i];
      const double d = x - sg->ds * (y - sg->yc);
      if (d < w0) w0 = d;
      if (d > w1) w1 = d;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  if (mass) *mass = m;
  if (x1 < x0) return DG_ERR_EMPTY;
  const int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  float *map = calloc((size_t)bw * bh, sizeof(float));
  if (!map) return dg_error(DG_ERR_NOMEM, "number: out of memory");
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) {
      const size_t i = (size_t)y * r->W + x;
      if (!r->lab[i] || find_root(r->ps, r->lab[i] - 1) != sg->g) continue;
      const double u = x - sg->s * (y - sg->yc);
      if (u >= sg->ua && u < sg->ub)
        map[(size_t)(y - y0) * bw + (x - x0)] = r->ink.ink[i];
    }
  sg->box[0] = x0, sg->box[1] = y0, sg->box[2] = bw, sg->box[3] = bh;
  sg->uw = w1 - w0 + 1;
  const int whole[4] = {0, 0, bw, bh};
  int st = dg_preprocess_map(map, bw, bh, whole, sg->x);
  free(map);
  return st;
}

static int push_seg(reader *r, const seg *sg) {
  if (r->ns == r->cap) {
    int cap = r->cap ? r->cap * 2 : 16;
    seg *p = realloc(r->segs, sizeof(seg) * (size_t)cap);
    if (!p) return dg_error(DG_ERR_NOMEM, "number: out of memory");
    r->segs = p, r->cap = cap;
  }
  r->segs[r->ns++] = *sg;
  return DG_OK;
}


/* The slant of group g's ink: x drifts by s per row down (least squares
 * of x on y), kept within +-0.6. */
static double group_slant(const reader *r, int g) {
  const piece *G = &r->ps[g];
  double m = 0, mx = 0, my = 0, mxy = 0, myy = 0;
  for (int y = G->y0; y <= G->y1; y++)
    for (int x = G->x0; x <= G->x1; x++) {
      const size_t i = (size_t)y * r->W + x;
      if (!r->lab[i] || find_root((piece *)r->ps, r->lab[i] - 1) != g) continue;
      const double v = r->ink.ink[i];
      m += v, mx += v * x, my += v * y, mxy += v * x * y, myy += v * y * y;
    }
  if (m <= 0) return 0;
  const double vy = myy / m - (my / m) * (my / m);
  if (vy <= 0) return 0;
  double s = (mxy / m - (mx / m) * (my / m)) / vy;
  return s > 0.6 ? 0.6 : s < -0.6 ? -0.6 : s;
}

/* Candidate cuts of group g along lines of slant s (u = x - s (y - yc)):
 * the deepest local minima of its ink profile (smoothed over 3 columns),
 * away from its ends and from each other, sorted by u. Returns K. */
static int find_cuts(const reader *r, int g, double s, double yc, double *cut) {
  const piece *G = &r->ps[g];
  const int gh = G->y1 - G->y0 + 1;
  const double umin = G->x0 - fabs(s) * gh, umax = G->x1 + fabs(s) * gh;
  const int nb = (int)(umax - umin) + 2;
  double *prof = calloc((size_t)nb * 2, sizeof(double)), *sm = prof + nb;
  if (!prof) return dg_error(DG_ERR_NOMEM, "number: out of memory");
  double lo = 1e9, hi = -1e9;
  for (int y = G->y0; y <= G->y1; y++)
    for (int x = G->x0; x <= G->x1; x++) {
      const size_t i = (size_t)y * r->W + x;
      if (!r->lab[i] || find_root((piece *)r->ps, r->lab[i] - 1) != g) continue;
      const double u = x - s * (y - yc);
      prof[(int)(u - umin)] += r->ink.ink[i];
      if (u < lo) lo = u;
      if (u > hi) hi = u;
    }
  for (int k = 0; k < nb; k++)
    sm[k] = prof[k] + (k > 0 ? prof[k - 1] : 0) + (k + 1 < nb ? prof[k + 1] : 0);
  const double margin = 0.15 * gh, sep = 0.15 * gh;
  int K = 0;
  for (int pass = 0; pass < MAX_CUTS; pass++) {
    int best = -1;
    for (int k = 1; k + 1 < nb; k++) {
      const double u = umin + k + 0.5;
      if (u < lo + margin || u > hi - margin) continue;
      if (sm[k] > sm[k - 1] || sm[k] > sm[k + 1]) continue;  /* not a minimum */
      int near = 0;
      for (int j = 0; j < K && !near; j++) near = fabs(cut[j] - u) < sep;
      if (!near && (best < 0 || sm[k] < sm[best])) best = k;
    }
    if (best < 0) break;
    cut[K++] = umin + best + 0.5;
  }
  free(prof);
  qsort(cut, (size_t)K, sizeof(double), cmp_double);
  return K;
}

/* The score of reading segment sg as a digit: its log-confidence, a
 * digit's cost, and penalties for one too wide or too short to be one. */
static double seg_score(const reader *r, const seg *sg) {
  double c = 0;
  for (int k = 0; k < 10; k++) c = sg->probs[k] > c ? sg->probs[k] : c;
  double sc = log(c > 1e-9 ? c : 1e-9) - SEG_COST;
  const double ratio = sg->uw / sg->box[3];
  if (ratio > WIDE_OK) sc -= WIDE_COST * (ratio - WIDE_OK);
  if (sg->box[3] < 0.55 * r->hmed) sc -= 3;
  return sc;
}

/* Every run of segments between cuts read in one batch, then the best
 * segmentation by dynamic programming. Returns its score, the chosen
 * segments in out[] (*nout of them). */
static int best_cuts(reader *r, int g, double s, double ds, double yc,
                     const double *cut, int K, seg *out, int *nout,
                     double *score) {
  const piece *G = &r->ps[g];
  enum { NC = MAX_CUTS + 2, NS = NC * (NC - 1) / 2 };
  double c[NC];
  c[0] = -1e9, c[K + 1] = 1e9;
  for (int k = 0; k < K; k++) c[k + 1] = cut[k];
  seg *cand = malloc(sizeof(seg) * NS);
  float *x = malloc(sizeof(float) * 784 * NS), *p = malloc(sizeof(float) * 10 * NS);
  int at[NC][NC], n = 0, st = DG_OK;
  if (!cand || !x || !p) st = dg_error(DG_ERR_NOMEM, "number: out of memory");
  for (int i = 0; i <= K && !st; i++)
    for (int j = i + 1; j <= K + 1 && !st; j++) {
      at[i][j] = -1;
      seg *sg = &cand[n];
      *sg = (seg){.g = g, .s = s, .yc = yc, .ua = c[i], .ub = c[j], .ds = ds};
      double m = 0;
      st = seg_input(r, sg, &m);
      if (st == DG_ERR_EMPTY || (st == DG_OK && m < 0.05 * G->mass)) {
        st = DG_OK;
        continue;
      }
      if (st) break;
      memcpy(x + (size_t)n * 784, sg->x, sizeof(float) * 784);
      at[i][j] = n++;
    }
  if (!st && n) st = r->classify(r->user, x, n, p);
  double best[NC];
  int from[NC];
  for (int j = 0; j <= K + 1; j++) best[j] = -1e18, from[j] = -1;
  best[0] = 0;
  for (int j = 1; !st && j <= K + 1; j++)
    for (int i = 0; i < j; i++) {
      if (at[i][j] < 0 || best[i] <= -1e18) continue;
      seg *sg = &cand[at[i][j]];
      memcpy(sg->probs, p + (size_t)at[i][j] * 10, sizeof(float) * 10);
      const double v = best[i] + seg_score(r, sg);
      if (v > best[j]) best[j] = v, from[j] = i;
    }
  *nout = 0;
  *score = best[K + 1];
  for (int j = K + 1; !st && j > 0 && from[j] >= 0; j = from[j])
    out[(*nout)++] = cand[at[from[j]][j]];
  free(cand), free(x), free(p);
  return st;
}

/* Step 4: group g cut into the digits the network is surest of (along
 * vertical lines or the group's slant, whichever scores better). */
static int split_group(reader *r, int g) {
  const piece *G = &r->ps[g];
  const double yc = 0.5 * (G->y0 + G->y1), s1 = group_slant(r, g);
  const double slants[2] = {0, s1};
  seg chosen[MAX_CUTS + 1], trial[MAX_CUTS + 1];
  int nch = 0, st = DG_OK;
  double best = -1e18;
  for (int t = 0; t < (fabs(s1) > 0.05 ? 2 : 1) && !st; t++) {
    double cut[MAX_CUTS], score;
    int K = find_cuts(r, g, slants[t], yc, cut), nt = 0;
    if (K < 0) return K;
    st = best_cuts(r, g, slants[t], s1, yc, cut, K, trial, &nt, &score);
    if (!st && nt > 0 && score > best) {
      best = score, nch = nt;
      memcpy(chosen, trial, sizeof(seg) * (size_t)nt);
    }
  }
  for (int i = 0; i < nch && !st; i++) st = push_seg(r, &chosen[i]);
  if (nch > 1) r->splits += nch - 1;
  return st;
}

static int cmp_seg_x(const void *a, const void *b) {
  const seg *p = a, *q = b;
  double ca = p->box[0] + 0.5 * p->box[2], cb = q->box[0] + 0.5 * q->box[2];
  return (ca > cb) - (ca < cb);
}

/* Steps 3-5 on the labelled map: every group's digits into r->segs, read. */
static int find_digits(reader *r) {
  int st = drop_specks(r);
  if (st) return st;
  merge_pieces(r);
  for (int i = 0; i < r->np && st == DG_OK; i++) {
    const piece *G = &r->ps[i];
    if (G->drop || G->root != i) continue;
    const int gw = G->x1 - G->x0 + 1, gh = G->y1 - G->y0 + 1;
    if (gh < 0.4 * r->hmed && gw < 0.4 * r->hmed) continue;  /* a dot, a dash */
    seg sg = {.g = i, .s = 0, .yc = 0.5 * (G->y0 + G->y1), .ua = -1e9,
              .ub = 1e9, .probs = {-1}, .ds = group_slant(r, i)};
    st = seg_input(r, &sg, NULL);
    if (st == DG_OK && sg.uw > WIDE * gh) {
      /* a little wide and read surely as one digit: one digit */
      float p[10], best = 0;
      if (sg.uw < SURER_WIDE * gh && (st = r->classify(r->user, sg.x, 1, p)) == DG_OK)
        for (int k = 0; k < 10; k++) best = p[k] > best ? p[k] : best;
      if (st == DG_OK && (best >= SURER_ONE || (best >= SURE_ONE && sg.uw < SURE_WIDE * gh))) {
        memcpy(sg.probs, p, sizeof p);
        st = push_seg(r, &sg);
        continue;
      }
      if (st == DG_OK) st = split_group(r, i);
      continue;
    }
    if (st == DG_ERR_EMPTY) { st = DG_OK; continue; }
    if (st == DG_OK) st = push_seg(r, &sg);
  }
  if (st) return st;
  qsort(r->segs, (size_t)r->ns, sizeof(seg), cmp_seg_x);
  /* the digits not read yet (unsplit groups), in one batch */
  float *x = malloc(sizeof(float) * 784 * (size_t)(r->ns + 1));
  float *p = malloc(sizeof(float) * 10 * (size_t)(r->ns + 1));
  int *idx = malloc(sizeof(int) * (size_t)(r->ns + 1)), k = 0;
  if (!x || !p || !idx) st = dg_error(DG_ERR_NOMEM, "number: out of memory");
  for (int i = 0; !st && i < r->ns; i++)
    if (r->segs[i].probs[0] < 0) {
      memcpy(x + (size_t)k * 784, r->segs[i].x, sizeof(float) * 784);
      idx[k++] = i;
    }
  if (!st && k) st = r->classify(r->user, x, k, p);
  for (int j = 0; !st && j < k; j++)
    memcpy(r->segs[idx[j]].probs, p + (size_t)j * 10, sizeof(float) * 10);
  free(x), free(p), free(idx);
  return st;
}

static void fill_digit(dg_number_digit *d, const float *probs, const int box[4]) {
  int best = 0;
  for (int k = 1; k < 10; k++)
    if (probs[k] > probs[best]) best = k;
  d->digit = best;
  d->confidence = probs[best];
  memcpy(d->probs, probs, sizeof d->probs);
  memcpy(d->box, box, sizeof d->box);
  d->unsure = !(probs[best] >= DG_NUMBER_UNSURE);
}

/* A work-map box in the source image's pixels. */
static void source_box(const reader *r, const int b[4], int out[4]) {
  const int f = r->ink.f > 0 ? r->ink.f : 1;
  int x = r->ink.ox + b[0] * f, y = r->ink.oy + b[1] * f;
  int bw = b[2] * f, bh = b[3] * f;
  out[0] = x, out[1] = y;
  out[2] = x + bw > r->w ? r->w - x : bw;
  out[3] = y + bh > r->h ? r->h - y : bh;
}

/* One digit found: read as predict reads the whole image, when that
 * preprocessing agrees there is one digit. 1 if done. */
static int lone_digit(reader *r, dg_number *out, int *st) {
  float x[784], probs[10];
  dg_preprocess_info info;
  if (dg_preprocess_ex(r->px, r->w, r->h, r->c, x, &info) != DG_OK) return 0;
  if ((*st = r->classify(r->user, x, 1, probs)) != DG_OK) return 1;
  fill_digit(&out->digits[0], probs, info.box);
  return 1;
}

static int result(reader *r, dg_number *out) {
  int st = DG_OK;
  const int lone = r->ns == 1 && r->splits == 0;
  if (!(lone && lone_digit(r, out, &st))) {
    for (int i = 0; i < r->ns && i < DG_NUMBER_MAX; i++) {
      int box[4];
      source_box(r, r->segs[i].box, box);
      fill_digit(&out->digits[i], r->segs[i].probs, box);
    }
  }
  if (st) return st;
  out->n = r->ns < DG_NUMBER_MAX ? r->ns : DG_NUMBER_MAX;
  out->truncated = r->ns > DG_NUMBER_MAX;
  out->split = r->splits;
  out->confidence = out->n ? 1 : 0;
  for (int i = 0; i < out->n; i++) {
    out->text[i] = (char)('0' + out->digits[i].digit);
    if (out->digits[i].confidence < out->confidence)
      out->confidence = out->digits[i].confidence;
  }
  out->text[out->n] = '\0';
  return DG_OK;
}

int dg_read_number_ex(const uint8_t *pixels, int width, int height,
                      int channels, dg_classify_fn classify, void *user,
                      dg_number *out) {
  if (!out || !classify)
    return dg_error(DG_ERR_ARG, "number: null argument");
  if (!pixels || channels < 1 || channels > 4 || width < 1 || height < 1 ||
      width > DG_IMAGE_MAX_DIM || height > DG_IMAGE_MAX_DIM ||
      (uint64_t)width * (uint64_t)height > DG_IMAGE_MAX_PIXELS)
    return dg_error(DG_ERR_ARG, "number: image of %dx%d with %d channels: "
                    "each side 1..%d, at most %u pixels, 1..4 channels",
                    width, height, channels, DG_IMAGE_MAX_DIM,
                    (unsigned)DG_IMAGE_MAX_PIXELS);
  memset(out, 0, sizeof *out);
  int st;
  reader r = {.px = pixels, .w = width, .h = height, .c = channels,
              .classify = classify, .user = user};
  st = dg_ink_find_all(pixels, width, height, channels, NUMBER_WORK, &r.ink);
  if (st == DG_ERR_EMPTY) return DG_OK;  /* no ink: no digits */
  r.W = r.ink.W, r.H = r.ink.H;
  out->photo = r.ink.photo;
  if (st == DG_OK) st = label_pieces(&r);
  if (st == DG_OK) st = find_digits(&r);
  if (st == DG_OK) st = result(&r, out);
  dg_ink_free(&r.ink);
  free(r.lab), free(r.ps), free(r.segs);
  return st;
}

static int net_classify(void *user, const float *x, int n, float *probs) {
  return dg_net_predict((dg_net *)user, x, n, probs);
}

int dg_read_number(dg_net *net, const uint8_t *pixels, int width, int height,
                   int channels, dg_number *out) {
  if (!net) return dg_error(DG_ERR_ARG, "number: null network");
  return dg_read_number_ex(pixels, width, height, channels, net_classify, net,
                           out);
}
