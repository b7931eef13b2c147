/* number.c: reading a number, several digits side by side (issue 23).
 *
 *   1. ink: the same preprocessing as one digit (ink.c: paper, polarity,
 *      photo illumination, lines, boxes, specks), but every digit-sized
 *      group kept (dg_ink_find_all), on a map of at most NUMBER_WORK px a
 *      side for flat paper;
 *   2. pieces: 8-connected components of the map's strong ink, weak edges
 *      joined to the piece they touch; specks dropped;
 *   3. groups: pieces of one digit merged (a 5's flag, a 7's bar, a broken
 *      4 or 8: their horizontal extents overlap, or a small piece nearly
 *      touches a big one); dots and dashes far smaller than the digits
 *      dropped;
 *   4. atoms: a group wider than WIDE x its height (measured along its
 *      slant: its digits' own, pooled over windows as wide as it is high)
 *      may hold touching digits. Cut candidates start every CUT_STEP x its
 *      height: straight lines along its slant, and paths through the least
 *      ink near such a line (bending around a stroke that overlaps its
 *      neighbour's); the cheapest distinct ones are kept, one per
 *      CUT_EVERY x its height of width. The pieces between cuts, and the
 *      other groups, are the atoms, left to right group by group. When a
 *      group is cut and a verifier reads, steps 4-5 run for VARIANTS cut
 *      sets (paths tilted either way, or started half a step on) and the
 *      number keeps the partition of the highest score;
 *   5. digits: every run of neighbouring atoms that could be one digit (at
 *      most MAX_RUN atoms and RUN_W x the digits' height wide, separate
 *      groups only when one is a small fragment close to the other; and
 *      every whole group) is read by the network in one batch, the
 *      neighbour's slivers that a cut left on its edge removed first;
 *      dynamic programming keeps the partition of the atoms with the
 *      highest score: each digit's log-probability with a width prior for
 *      its class (deskewed width over height, from MNIST training digits),
 *      less a digit's cost and a penalty for width beyond a digit's; whole
 *      groups read surely and not much wider than a digit stay one.
 *      With a verifier (dg_read_number_verified: 11 classes, the last
 *      "not one digit", trained on such pieces of numbers of MNIST training
 *      digits), pieces a cut made and groups wide enough to hold two digits
 *      are also read by it: a group it rejects is cut, its rejection lowers
 *      a digit's score, and a cut piece reads with both networks' digit
 *      probabilities. A verifier of 28x28x2 inputs (the shipped one) also
 *      sees all the ink around the candidate, in the candidate's own frame
 *      (dg_preprocess_map_context): the rest of a digit a cut went
 *      through, a neighbour's stroke it left out;
 *   5b. with a window reader instead (dg_read_number_verified given a net
 *      of 28x36 inputs, the shipped verifier.safetensors), a group at
 *      least WIN_RATIO x its height wide is not cut: its strip (its ink
 *      alone, slant out, DG_STRIP_DIGIT px to its height) is read window
 *      by window, each the digit centred in it or none, and the best path
 *      through those readings gives its digits (window_digits); a group
 *      not much wider than a digit is first read by one window, its own
 *      MNIST-style input (probe_input), then the window centred on its
 *      strip's ink (probe_one), and by all its windows only when neither
 *      reads the network's digit;
 *   6. each digit alone through the MNIST recipe on its own box
 *      (dg_preprocess_map), left to right. A lone digit is read by
 *      dg_preprocess_ex on the whole image, exactly as predict reads it.
 *
 * No prints, no globals.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "preprocess/ink.h"
#include "preprocess/number.h"

/* flat paper (drawings): the ink map's longest side at most */
#define NUMBER_WORK 512
/* pieces considered (the biggest); candidate cuts per group at most */
#define MAX_PIECES 1024
#define MAX_CUTS 48
/* a group wider than this x its height may hold touching digits; one cut
 * candidate per CUT_EVERY x its height of width, at least CUT_SEP x its
 * height apart and from its ends, paths tried every CUT_STEP x its height;
 * with a verifier, twice as many (FINE: it tells a half digit from one) */
#define WIDE 0.9
#define CUT_EVERY 0.3
#define CUT_SEP 0.15
#define CUT_STEP 0.1
#define FINE 0.5
/* cut sets tried, the number's partition of the highest score kept: paths
 * along the group's slant, then tilted by -CUT_TILT and +CUT_TILT, then
 * along it again started half a step on */
#define VARIANTS 4
#define CUT_TILT 0.25
static const struct { double tilt, shift; } cut_sets[VARIANTS] = {
    {0, 0}, {-CUT_TILT, 0}, {CUT_TILT, 0}, {0, 0.5}};
/* cut paths: within CUT_BAND x the height of the straight line, a cost of
 * CUT_OFF per pixel off it per row and CUT_BEND per pixel of bend */
#define CUT_BAND 0.25
#define CUT_OFF 0.005
#define CUT_BEND 0.1
/* pieces are connected through ink of at least this; weaker ink (an
 * anti-aliased or blurred edge) joins the piece it touches */
#define STRONG 0.3f
/* a digit: at most MAX_RUN atoms, deskewed width at most RUN_W x the
 * digits' height; separate groups join when the smaller is shorter than
 * JOIN_H x the height and the gap is at most JOIN_GAP x the height */
#define MAX_RUN 6
/* the longest run read (a whole group: its cuts and one) */
#define SPAN (MAX_CUTS + 1)
#define RUN_W 1.5
#define JOIN_H 0.7
#define JOIN_GAP 0.2
/* a part left by a cut on a piece's edge, lighter than SLIVER x its ink,
 * is the neighbour's: removed */
#define SLIVER 0.15
/* score: a digit's own cost (fewer digits preferred); its class's width
 * prior, weighted PRIOR_W (too wide) or PRIOR_WL (too narrow) squared
 * beyond PRIOR_Z / PRIOR_ZL standard deviations; WIDE_COST per unit of
 * width / height above WIDE_OK whatever the class; a digit much shorter
 * than the others; an atom left out */
#define SEG_COST 0.7
#define PRIOR_W 0.5
#define PRIOR_Z 1.5
#define PRIOR_WL 0.5
#define PRIOR_ZL 1.5
#define WIDE_OK 0.95
#define WIDE_COST 4.0
#define SHORT_H 0.55
#define SHORT_COST 3.0
#define SKIP_COST 30.0
/* a whole group read with SURE_ONE below SURE_WIDE x its height, or with
 * SURER_ONE below SURER_WIDE, is one digit (SURE_BONUS) */
#define SURE_ONE 0.9
#define SURE_WIDE 1.1
#define SURER_ONE 0.99
#define SURER_WIDE 1.6
#define SURE_BONUS 10.0
/* with a verifier: VER_W x log(1 - its "not one digit") in a digit's
 * score; a whole group is sure to be one digit only when that is below
 * VER_SURE */
#define VER_W 2.5
#define VER_SURE 0.7
#define VER_MIX 0.7
/* candidates verified: pieces a cut made, and whole groups at least this
 * wide (deskewed width / height) */
#define VER_RATIO 0.9

/* log(deskewed width / height) of MNIST training digits per class: mean
 * and standard deviation (ink >= 0.3, width along the digit's own slant) */
static const double prior_mu[10] = {-0.160, -1.402, -0.152, -0.357, -0.284,
                                    -0.253, -0.374, -0.287, -0.395, -0.417};
static const double prior_sd[10] = {0.215, 0.324, 0.229, 0.215, 0.224,
                                    0.218, 0.256, 0.237, 0.233, 0.231};

typedef struct {
  int x0, y0, x1, y1;  /* inclusive box, work pixels */
  int area;
  double mass;
  int root;            /* union-find parent (merged pieces) */
  int drop;
  double m[5];         /* strong ink's moments: sum 1, x, y, xy, yy */
  double u0, u1;       /* its extent across, the number's slant taken out */
} piece;

/* A part of a group between two cuts (or a whole group). */
typedef struct {
  int g;               /* its group (root piece) */
  int x0, y0, x1, y1;  /* inclusive box, work pixels */
  double mass, cx;     /* ink, its centre's x */
  double gx;           /* its group's centre's x */
  double s;            /* its group's slant */
  int id;              /* its index before ordering */
} atom;

/* A digit: the atoms [a, b). */
typedef struct {
  int a, b;
  int box[4];          /* work pixels (x, y, w, h) of its ink */
  double ratio;        /* deskewed width / height */
  float probs[10];
  float rej;           /* the verifier's "not one digit" (0 without one) */
  int g;               /* its (first atom's) group */
} seg;

typedef struct {
  const uint8_t *px;
  int w, h, c;
  const dg_number_opts *o;
  dg_classify_fn classify;
  void *user;
  dg_ink ink;
  int W, H;
  int32_t *lab;        /* (H, W) piece label + 1, 0: none */
  piece *ps;
  int np;
  double hmed;         /* the digits' typical height (work pixels) */
  int32_t *am;         /* (H, W) atom index, -1: none */
  atom *at;
  int na, acap;
  seg *pre;            /* (np) each group read whole, by group (a < 0: none) */
  float *pin;          /* with a window reader, their MNIST-style inputs (784 each), */
  int *pk;             /* (np) group g's at pin + pk[g] * 784 */
  seg *segs;           /* the digits found */
  int ns, cap;
  int splits;
  int variant;         /* the cut set tried (find_cuts) */
  double score;        /* the chosen partition's */
  int *wn;             /* (np) window reader's digits by group, -1: not read */
  seg *wrep;           /* (np, DG_NUMBER_MAX) their digits */
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
    *q = (piece){W, H, -1, -1, 0, 0, n, 0, {0}, 0, 0};
    size_t sp = 0;
    stack[sp++] = (int32_t)i0;
    r->lab[i0] = n + 1;
    while (sp) {
      const int32_t i = stack[--sp];
      const int x = i % W, y = i / W;
      q->area++, q->mass += ink[i];
      q->m[0]++, q->m[1] += x, q->m[2] += y, q->m[3] += (double)x * y, q->m[4] += (double)y * y;
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

/* The slant of the number's digits (x drifts by s per row down, within
 * +-0.6), pooled over the pieces at least half the typical height, and
 * every piece's extent across with it taken out (u0, u1): a slanted "1"
 * beside a slanted digit shares most of its box's width, not its u. */
static void piece_extents(reader *r) {
  double cxy = 0, cyy = 0, s = 0;
  for (int i = 0; i < r->np; i++) {
    const piece *q = &r->ps[i];
    if (q->drop || q->y1 - q->y0 + 1 < 0.5 * r->hmed || q->m[0] < 2) continue;
    cxy += q->m[3] - q->m[1] * q->m[2] / q->m[0], cyy += q->m[4] - q->m[2] * q->m[2] / q->m[0];
  }
  if (cyy > 0) s = cxy / cyy;
  s = s > 0.6 ? 0.6 : s < -0.6 ? -0.6 : s;
  for (int i = 0; i < r->np; i++) r->ps[i].u0 = 1e30, r->ps[i].u1 = -1e30;
  for (int y = 0; y < r->H; y++)
    for (int x = 0; x < r->W; x++) {
      const size_t i = (size_t)y * r->W + x;
      if (r->lab[i] <= 0 || r->ink.ink[i] < STRONG) continue;
      piece *q = &r->ps[r->lab[i] - 1];
      const double u = x - s * y;
      q->u0 = u < q->u0 ? u : q->u0, q->u1 = u > q->u1 ? u : q->u1;
    }
}

/* Whether pieces a and b (boxes, extents across u) belong to one digit. */
static int same_digit(const piece *a, const piece *b, double hmed) {
  int ha = a->y1 - a->y0 + 1, hb = b->y1 - b->y0 + 1;
  int wa = a->x1 - a->x0 + 1, wb = b->x1 - b->x0 + 1;
  int hm = ha > hb ? ha : hb, hn = ha < hb ? ha : hb, wn = wa < wb ? wa : wb;
  int gx = a->x0 > b->x1 ? a->x0 - b->x1 : b->x0 > a->x1 ? b->x0 - a->x1 : 0;
  int gy = a->y0 > b->y1 ? a->y0 - b->y1 : b->y0 > a->y1 ? b->y0 - a->y1 : 0;
  int ox = (a->x1 < b->x1 ? a->x1 : b->x1) - (a->x0 > b->x0 ? a->x0 : b->x0) + 1;
  /* two tall pieces: nearly all the narrower's u shared too (not a
   * slanted "1" beside a slanted digit) */
  const double ua = a->u1 - a->u0 + 1, ub = b->u1 - b->u0 + 1;
  const double ou = (a->u1 < b->u1 ? a->u1 : b->u1) - (a->u0 > b->u0 ? a->u0 : b->u0) + 1;
  const int tall_ok = ou * 5 >= (ua < ub ? ua : ub) * 4;
  /* stacked: most of the narrower one's extent shared, one of them short
   * (a broken 4 or 8, a 5's flag) or nearly all shared */
  if (ox * 2 >= wn && gy * 2 <= hm && (hn < 0.7 * hmed || (ox * 5 >= wn * 4 && tall_ok)))
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
        A->u0 = B->u0 < A->u0 ? B->u0 : A->u0, A->u1 = B->u1 > A->u1 ? B->u1 : A->u1;
        A->area += B->area, A->mass += B->mass;
        changed = 1;
      }
  }
}

static int nomem(void) { return dg_error(DG_ERR_NOMEM, "number: out of memory"); }

/* The group of work pixel i (its root piece), -1 when none; roots are
 * flattened once the pieces are merged. */
static int group_of(const reader *r, size_t i) {
  const int32_t l = r->lab[i];
  return l > 0 ? r->ps[l - 1].root : -1;
}

/* The slant of group g's ink: x drifts by s per row down, kept within
 * +-0.6. Least squares of x on y within windows about as wide as the
 * group is high, pooled: in a group of several digits, the digits' own
 * slant, not the drift of their baselines along the number. */
static double group_slant(const reader *r, int g) {
  const piece *G = &r->ps[g];
  const int gh = G->y1 - G->y0 + 1, gw = G->x1 - G->x0 + 1;
  const int nw = gw > gh ? (int)((double)gw / gh + 0.5) : 1;
  double cxy = 0, cyy = 0;
  for (int k = 0; k < nw; k++) {
    const int a = G->x0 + (int)((double)k * gw / nw), b = G->x0 + (int)((double)(k + 1) * gw / nw);
    double m = 0, mx = 0, my = 0, mxy = 0, myy = 0;
    for (int y = G->y0; y <= G->y1; y++)
      for (int x = a; x < b; x++) {
        const size_t i = (size_t)y * r->W + x;
        if (group_of(r, i) != g) continue;
        const double v = r->ink.ink[i];
        m += v, mx += v * x, my += v * y, mxy += v * x * y, myy += v * y * y;
      }
    if (m <= 0) continue;
    cxy += mxy - mx * my / m, cyy += myy - my * my / m;
  }
  if (cyy <= 0) return 0;
  const double s = cxy / cyy;
  return s > 0.6 ? 0.6 : s < -0.6 ? -0.6 : s;
}

/* The cut of group g near the line u = u0 (slant s): one x per row, the
 * path through the least ink of g within B pixels of the line (dynamic programming row by row, bends and distance from the line
 * cost a little) into xc, its cost into *cost. Pixels at x >= xc[y - y0]
 * lie right of it. */
static int cut_path(const reader *r, int g, double s, double yc, double u0,
                    int B, double *xc, double *cost) {
  const piece *G = &r->ps[g];
  const int gh = G->y1 - G->y0 + 1;
  const int nd = 2 * B + 1;
  float *c = malloc(sizeof(float) * (size_t)gh * nd);
  signed char *from = malloc((size_t)gh * nd);
  if (!c || !from) {
    free(c), free(from);
    return nomem();
  }
  for (int y = 0; y < gh; y++) {
    const int yy = G->y0 + y;
    for (int k = 0; k < nd; k++) {
      const int x = (int)floor(u0 + (k - B) + s * (yy - yc) + 0.5);
      float v = (float)(CUT_OFF * abs(k - B));
      if (x >= G->x0 && x <= G->x1 && group_of(r, (size_t)yy * r->W + x) == g)
        v += r->ink.ink[(size_t)yy * r->W + x];
      float best = y > 0 ? 1e30f : 0;
      int be = 0;
      for (int e = -1; y > 0 && e <= 1; e++) {
        if (k + e < 0 || k + e >= nd) continue;
        const float t = c[(size_t)(y - 1) * nd + k + e] + (e ? (float)CUT_BEND : 0);
        if (t < best) best = t, be = e;
      }
      c[(size_t)y * nd + k] = v + best;
      from[(size_t)y * nd + k] = (signed char)be;
    }
  }
  int k = 0;
  for (int j = 1; j < nd; j++)
    if (c[(size_t)(gh - 1) * nd + j] < c[(size_t)(gh - 1) * nd + k]) k = j;
  *cost = c[(size_t)(gh - 1) * nd + k];
  for (int y = gh - 1; y >= 0; y--) {
    xc[y] = u0 + (k - B) + s * (G->y0 + y - yc);
    k += from[(size_t)y * nd + k];
  }
  free(c), free(from);
  return DG_OK;
}

/* The cuts of group g (slant s, u = x - s (y - yc)) when its width along
 * the slant passes WIDE x its height: paths (within CUT_BAND x its height
 * of their line) and straight lines along the slant started every
 * CUT_STEP x its height; the cheapest kept, each on average CUT_SEP x its
 * height from the others and from the ends, one per CUT_EVERY x its
 * height of width; into xc (K rows of gh), left to right. Returns K (0:
 * not wide) or a status < 0. */
static int find_cuts(const reader *r, int g, double s, double yc, double *xc) {
  const piece *G = &r->ps[g];
  const int gh = G->y1 - G->y0 + 1;
  double lo = 1e9, hi = -1e9;
  for (int y = G->y0; y <= G->y1; y++)
    for (int x = G->x0; x <= G->x1; x++) {
      if (group_of(r, (size_t)y * r->W + x) != g) continue;
      const double u = x - s * (y - yc);
      lo = u < lo ? u : lo, hi = u > hi ? u : hi;
    }
  const double f = r->o->verify ? FINE : 1;
  const double uw = hi - lo + 1, sep = f * CUT_SEP * gh, step = fmax(1, f * CUT_STEP * gh);
  int maxk = uw > WIDE * gh && gh >= SHORT_H * r->hmed ? (int)(uw / (f * CUT_EVERY * gh)) : 0;
  if (maxk > MAX_CUTS) maxk = MAX_CUTS;
  const int ns = maxk ? (int)((hi - lo - 2 * sep) / step) + 1 : 0, nc = 2 * ns;
  if (ns <= 0) return 0;
  double *path = malloc(sizeof(double) * (size_t)nc * (gh + 2));
  if (!path) return nomem();
  double *cost = path + (size_t)nc * gh, *mu = cost + nc;
  int st = DG_OK, K = 0, chosen[MAX_CUTS];
  const int band = (int)(CUT_BAND * gh + 0.5) > 2 ? (int)(CUT_BAND * gh + 0.5) : 2;
  for (int j = 0; j < nc && !st; j++) {  /* paths, then straight lines */
    double *p = path + (size_t)j * gh;
    const double u0 = lo + sep + (j % ns + cut_sets[r->variant].shift) * step;
    st = cut_path(r, g, s + (j < ns ? cut_sets[r->variant].tilt : 0), yc, u0, j < ns ? band : 0, p, &cost[j]);
    mu[j] = 0;
    for (int y = 0; y < gh; y++) mu[j] += (p[y] - s * (G->y0 + y - yc)) / gh;
  }
  while (!st && K < maxk) {
    int best = -1;
    for (int j = 0; j < nc; j++) {
      int near = mu[j] < lo + sep || mu[j] > hi - sep;
      for (int k = 0; k < K && !near; k++) {
        if (fabs(mu[j] - mu[chosen[k]]) >= sep) continue;  /* a bound of d */
        const double *p = path + (size_t)j * gh, *q = path + (size_t)chosen[k] * gh;
        double d = 0;
        for (int y = 0; y < gh; y++) d += fabs(p[y] - q[y]) / gh;
        near = d < sep;
      }
      if (!near && (best < 0 || cost[j] < cost[best])) best = j;
    }
    if (best < 0) break;
    chosen[K++] = best;
  }
  for (int k = 1; k < K; k++)  /* by position */
    for (int j = k; j > 0 && mu[chosen[j]] < mu[chosen[j - 1]]; j--) {
      const int t = chosen[j];
      chosen[j] = chosen[j - 1], chosen[j - 1] = t;
    }
  for (int k = 0; k < K && !st; k++)
    memcpy(xc + (size_t)k * gh, path + (size_t)chosen[k] * gh, sizeof(double) * gh);
  free(path);
  return st ? st : K;
}

/* Step 4 for group g: its cuts (when cut) and its atoms (one more than
 * the cuts; identical cuts leave empty atoms, dropped later) into r->at
 * and r->am. */
static int add_group_atoms(reader *r, int g, int cut) {
  const piece *G = &r->ps[g];
  const int gh = G->y1 - G->y0 + 1;
  const double yc = 0.5 * (G->y0 + G->y1), s = group_slant(r, g);
  double *xc = malloc(sizeof(double) * (size_t)MAX_CUTS * gh);
  if (!xc) return nomem();
  const int K = cut ? find_cuts(r, g, s, yc, xc) : 0;
  if (K < 0) { free(xc); return K; }
  /* cuts do not cross: each at or right of the one before */
  for (int k = 1; k < K; k++)
    for (int y = 0; y < gh; y++)
      if (xc[(size_t)k * gh + y] < xc[(size_t)(k - 1) * gh + y])
        xc[(size_t)k * gh + y] = xc[(size_t)(k - 1) * gh + y];
  if (r->na + K + 1 > r->acap) {
    const int cap = 2 * (r->na + K + 1) + 16;
    atom *p = realloc(r->at, sizeof(atom) * (size_t)cap);
    if (!p) { free(xc); return nomem(); }
    r->at = p, r->acap = cap;
  }
  const int base = r->na;
  for (int k = 0; k <= K; k++)
    r->at[base + k] = (atom){g, r->W, r->H, -1, -1, 0, 0, 0, s, 0};
  for (int y = G->y0; y <= G->y1; y++)
    for (int x = G->x0; x <= G->x1; x++) {
      const size_t i = (size_t)y * r->W + x;
      if (group_of(r, i) != g) continue;
      int k = 0;
      while (k < K && x >= xc[(size_t)k * gh + (y - G->y0)]) k++;
      atom *A = &r->at[base + k];
      r->am[i] = base + k;
      A->mass += r->ink.ink[i], A->cx += r->ink.ink[i] * x;
      if (x < A->x0) A->x0 = x;
      if (x > A->x1) A->x1 = x;
      if (y < A->y0) A->y0 = y;
      if (y > A->y1) A->y1 = y;
    }
  r->na += K + 1;
  free(xc);
  return DG_OK;
}

static int cmp_atom_x(const void *a, const void *b) {
  const atom *p = a, *q = b;
  if (p->gx != q->gx) return (p->gx > q->gx) - (p->gx < q->gx);
  return (p->id > q->id) - (p->id < q->id);
}

/* Atoms without ink out, the others ordered left to right: groups by
 * their centre's x, a group's atoms in the order of its cuts (so they
 * stay neighbours); the atom map renumbered. */
static int order_atoms(reader *r) {
  int *to = malloc(sizeof(int) * (size_t)(r->na + 1)), n = 0;
  if (!to) return nomem();
  for (int a0 = 0, a1; a0 < r->na; a0 = a1) {
    double m = 0, mx = 0;
    for (a1 = a0; a1 < r->na && r->at[a1].g == r->at[a0].g; a1++)
      m += r->at[a1].mass, mx += r->at[a1].cx;
    for (int a = a0; a < a1; a++) r->at[a].gx = m > 0 ? mx / m : 0;
  }
  for (int a = 0; a < r->na; a++) {
    atom *A = &r->at[a];
    to[a] = -1;
    if (A->mass <= 0) continue;
    A->cx /= A->mass;
    A->id = a;
    r->at[n++] = *A;
  }
  qsort(r->at, (size_t)n, sizeof(atom), cmp_atom_x);
  for (int a = 0; a < n; a++) to[r->at[a].id] = a;
  for (size_t i = 0; i < (size_t)r->W * r->H; i++)
    if (r->am[i] >= 0) r->am[i] = to[r->am[i]];
  r->na = n;
  free(to);
  return DG_OK;
}

/* Whether work pixel i (of atom am[i]) touches an atom of its own group
 * outside [a, b): it lies on a cut's edge. */
static int on_cut(const reader *r, size_t i, int a, int b) {
  const int x = (int)(i % r->W), y = (int)(i / r->W), g = r->at[r->am[i]].g;
  for (int dy = -1; dy <= 1; dy++)
    for (int dx = -1; dx <= 1; dx++) {
      const int xx = x + dx, yy = y + dy;
      if (xx < 0 || yy < 0 || xx >= r->W || yy >= r->H) continue;
      const int32_t n = r->am[(size_t)yy * r->W + xx];
      if (n >= 0 && (n < a || n >= b) && r->at[n].g == g) return 1;
    }
  return 0;
}

/* A cut digit carries slivers of its neighbour: the parts of map (bw, bh;
 * work pixel (x0, y0) at its origin) on a cut's edge lighter than SLIVER
 * x its ink are cleared (the heaviest part always stays). Only pixels of
 * an end atom cut from its group can lie on a cut's edge. */
static int remove_slivers(const reader *r, const seg *sg, float *map, int x0,
                          int y0, int bw, int bh) {
  const size_t N = (size_t)bw * bh;
  const int ca = sg->a > 0 && r->at[sg->a - 1].g == r->at[sg->a].g ? sg->a : -1;
  const int cb = sg->b < r->na && r->at[sg->b].g == r->at[sg->b - 1].g ? sg->b - 1 : -1;
  int32_t *cl = calloc(N, sizeof(int32_t)), *stack = malloc(sizeof(int32_t) * N);
  int n = 0, cap = 64, st = DG_OK;
  double *mass = malloc(sizeof(double) * (size_t)cap), total = 0;
  char *touch = malloc((size_t)cap);
  if (!cl || !stack || !mass || !touch) st = nomem();
  for (size_t i0 = 0; !st && i0 < N; i0++) {
    if (map[i0] <= 0 || cl[i0]) continue;
    if (n + 1 == cap) {
      double *m2 = realloc(mass, sizeof(double) * (size_t)(cap *= 2));
      char *t2 = m2 ? realloc(touch, (size_t)cap) : NULL;
      if (m2) mass = m2;
      if (t2) touch = t2;
      if (!t2) { st = nomem(); break; }
    }
    size_t sp = 0;
    stack[sp++] = (int32_t)i0, cl[i0] = ++n, mass[n] = 0, touch[n] = 0;
    while (sp) {
      const int32_t i = stack[--sp];
      const int x = i % bw, y = i / bw;
      const size_t w = (size_t)(y0 + y) * r->W + x0 + x;
      mass[n] += map[i], total += map[i];
      if (!touch[n] && (r->am[w] == ca || r->am[w] == cb) && on_cut(r, w, sg->a, sg->b))
        touch[n] = 1;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          const int xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= bw || yy >= bh) continue;
          const size_t j = (size_t)yy * bw + xx;
          if (map[j] > 0 && !cl[j]) cl[j] = n, stack[sp++] = (int32_t)j;
        }
    }
  }
  int big = 1;
  for (int k = 2; !st && k <= n; k++) big = mass[k] > mass[big] ? k : big;
  for (size_t i = 0; !st && i < N; i++)
    if (cl[i] && cl[i] != big && touch[cl[i]] && mass[cl[i]] < SLIVER * total)
      map[i] = 0;
  free(cl), free(stack), free(mass), free(touch);
  return st;
}

static void source_box(const reader *r, const int b[4], int out[4]);

/* A candidate's input, box and ink (map, bw x bh at work pixel (x0, y0))
 * to the sink, if any. */
static void to_sink(const reader *r, const float *x, const float *cx, const seg *sg,
                    const float *map, int x0, int y0, int bw, int bh) {
  if (!r->o->sink) return;
  int b[4];
  source_box(r, sg->box, b);
  const dg_number_ink ink = {map, x0, y0, bw, bh, r->ink.f > 0 ? r->ink.f : 1,
                             r->ink.ox, r->ink.oy, cx};
  r->o->sink(r->o->suser, x, b, &ink);
}

/* Whether candidates' inputs come with their context (the verifier's
 * second channel). */
static int wants_context(const reader *r) {
  return (r->o->verify && r->o->verify_context) || (r->o->sink && r->o->context);
}

/* The loose ink in a whole group's box (x0, y0)-(x1, y1) into its map
 * (origin at (x0, y0)): faint ink that touches no stroke and the specks
 * that lie wholly inside it. They are the digit's: a thin stroke drawn
 * broken (a 0 of MNIST's dots and dashes reads as a 7 without them). */
static void add_loose_ink(const reader *r, float *map, int x0, int y0, int x1, int y1) {
  const int bw = x1 - x0 + 1;
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) {
      const size_t i = (size_t)y * r->W + x;
      const int32_t l = r->lab[i];
      if (r->am[i] >= 0 || r->ink.ink[i] <= 0) continue;
      const piece *q = l ? &r->ps[l - 1] : NULL;
      if (!q || (q->drop && q->x0 >= x0 && q->x1 <= x1 && q->y0 >= y0 && q->y1 <= y1))
        map[(size_t)(y - y0) * bw + (x - x0)] = r->ink.ink[i];
    }
}

/* Whether atoms [a, b) are whole groups (no cut at either end). */
static int uncut(const reader *r, int a, int b) {
  return (a == 0 || r->at[a - 1].g != r->at[a].g) &&
         (b == r->na || r->at[b].g != r->at[b - 1].g);
}

/* The digit sg (atoms [a, b)): its ink (slivers of a cut neighbour out),
 * box, deskewed width / height, and its 28x28 input into input (784);
 * with ctx (784), all the ink around it in the same frame into ctx.
 * DG_ERR_EMPTY: no ink. */
static int seg_input(const reader *r, seg *sg, float *input, float *ctx) {
  int x0 = r->W, y0 = r->H, x1 = -1, y1 = -1;
  for (int a = sg->a; a < sg->b; a++) {
    const atom *A = &r->at[a];
    x0 = A->x0 < x0 ? A->x0 : x0, y0 = A->y0 < y0 ? A->y0 : y0;
    x1 = A->x1 > x1 ? A->x1 : x1, y1 = A->y1 > y1 ? A->y1 : y1;
  }
  if (x1 < x0) return DG_ERR_EMPTY;
  const int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  float *map = calloc((size_t)bw * bh, sizeof(float));
  if (!map) return nomem();
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) {
      const size_t i = (size_t)y * r->W + x;
      if (r->am[i] >= sg->a && r->am[i] < sg->b)
        map[(size_t)(y - y0) * bw + (x - x0)] = r->ink.ink[i];
    }
  const int cut = !uncut(r, sg->a, sg->b);
  if (!cut) add_loose_ink(r, map, x0, y0, x1, y1);
  int st = cut ? remove_slivers(r, sg, map, x0, y0, bw, bh) : DG_OK;
  /* what is left: its box; its own slant from the strong ink's moments */
  int kx0 = bw, ky0 = bh, kx1 = -1, ky1 = -1;
  double m = 0, mx = 0, my = 0, mxy = 0, myy = 0;
  for (int y = 0; y < bh && !st; y++)
    for (int x = 0; x < bw; x++) {
      const float v = map[(size_t)y * bw + x];
      if (v <= 0) continue;
      kx0 = x < kx0 ? x : kx0, kx1 = x > kx1 ? x : kx1;
      ky0 = y < ky0 ? y : ky0, ky1 = y > ky1 ? y : ky1;
      if (v >= STRONG) m += v, mx += v * x, my += v * y, mxy += v * x * y, myy += v * y * y;
    }
  if (!st && (kx1 < 0 || m <= 0)) st = DG_ERR_EMPTY;
  if (st) { free(map); return st; }
  const double vy = myy / m - (my / m) * (my / m);
  double s = vy > 0 ? (mxy / m - (mx / m) * (my / m)) / vy : 0;
  s = s > 0.6 ? 0.6 : s < -0.6 ? -0.6 : s;
  double w0 = 1e9, w1 = -1e9, h0 = 1e9, h1 = -1e9;
  for (int y = ky0; y <= ky1; y++)
    for (int x = kx0; x <= kx1; x++) {
      if (map[(size_t)y * bw + x] < STRONG) continue;
      const double u = x - s * (y - my / m);
      w0 = u < w0 ? u : w0, w1 = u > w1 ? u : w1;
      h0 = y < h0 ? y : h0, h1 = y > h1 ? y : h1;
    }
  sg->ratio = (w1 - w0 + 1) / (h1 - h0 + 1);
  sg->box[0] = x0 + kx0, sg->box[1] = y0 + ky0;
  sg->box[2] = kx1 - kx0 + 1, sg->box[3] = ky1 - ky0 + 1;
  const int kept[4] = {kx0, ky0, kx1 - kx0 + 1, ky1 - ky0 + 1};
  const dg_ink_context around = {r->ink.ink, r->W, r->H, x0, y0};
  st = ctx ? dg_preprocess_map_context(map, bw, bh, kept, &around, input, ctx)
           : dg_preprocess_map(map, bw, bh, kept, input);
  if (!st) to_sink(r, input, ctx, sg, map, x0, y0, bw, bh);
  free(map);
  return st;
}

/* Whether atoms [a, b) (b > a + 1) may be one digit: separate groups only
 * when the smaller is a fragment close to the other, and not too wide. */
static int run_ok(const reader *r, int a, int b) {
  int x0 = r->W, y0 = r->H, x1 = -1, y1 = -1;
  for (int j = a; j < b; j++) {
    const atom *A = &r->at[j];
    x0 = A->x0 < x0 ? A->x0 : x0, y0 = A->y0 < y0 ? A->y0 : y0;
    x1 = A->x1 > x1 ? A->x1 : x1, y1 = A->y1 > y1 ? A->y1 : y1;
    if (j == a || A->g == r->at[j - 1].g) continue;
    const piece *P = &r->ps[r->at[j - 1].g], *Q = &r->ps[A->g];
    const int hp = P->y1 - P->y0 + 1, hq = Q->y1 - Q->y0 + 1;
    const int gap = Q->x0 > P->x1 ? Q->x0 - P->x1 : P->x0 > Q->x1 ? P->x0 - Q->x1 : 0;
    if ((hp < hq ? hp : hq) >= JOIN_H * r->hmed || gap > JOIN_GAP * r->hmed) return 0;
  }
  return (x1 - x0 + 1) - fabs(r->at[a].s) * (y1 - y0 + 1) <= RUN_W * r->hmed;
}

/* Whether atoms [a, b) are a candidate digit. */
static int run_wanted(const reader *r, int a, int b) {
  return b == a + 1 || (b - a <= MAX_RUN && run_ok(r, a, b)) ||
         (uncut(r, a, b) && r->at[a].g == r->at[b - 1].g);
}

/* Whether sg is read surely and is not much wider than a digit. */
static int sure_one(const seg *sg) {
  if (sg->rej >= VER_SURE) return 0;
  float c = 0;
  for (int k = 0; k < 10; k++) c = sg->probs[k] > c ? sg->probs[k] : c;
  return (c >= SURER_ONE && sg->ratio < SURER_WIDE) || (c >= SURE_ONE && sg->ratio < SURE_WIDE);
}

/* The window reader (opts.window): a group at least WIN_RATIO x its
 * height wide (deskewed; a touching "41" is narrower than a 0) is read by
 * the windows of its strip, one every column; the best path through the
 * windows' readings (digit or none), WIN_ENTER for each digit begun, a
 * digit's run at least WIN_RUN windows long and a window of none between
 * two digits, gives its digits; a group the
 * network reads surely as one digit stays one unless that path beats the
 * best of one digit by WIN_ONE. Strips go to the sink from STRIP_RATIO (a
 * wide single digit is a lesson too). */
#define WIN_RATIO 0.5
#define STRIP_RATIO 0.6
#define WIN_ENTER 0.5
#define WIN_RUN 2
#define WIN_ONE 2.0
/* a group narrower than WIN_SURE x its height is one digit when the
 * window centred on it reads the network's digit at WIN_PROBE_P or more:
 * its other windows are not read, so spaced digits cost one window each */
#define WIN_SURE 1.1
#define WIN_PROBE_P 0.999
/* a group wider than WIN_MAX x its height (a rule, a scribble; more than
 * DG_NUMBER_MAX digits) is not read by windows: it would cost a window
 * per column */
#define WIN_MAX 40.0

/* Ink of group g at work point (x, y) (pixel centres at integers),
 * bilinear; mask (the group's box) says which pixels are g's. */
static double group_ink(const reader *r, const dg_number_strip *st, double x, double y) {
  const int x0 = (int)floor(x), y0 = (int)floor(y);
  const double fx = x - x0, fy = y - y0;
  double v = 0;
  for (int dy = 0; dy <= 1; dy++)
    for (int dx = 0; dx <= 1; dx++) {
      const int xx = x0 + dx - st->mx, yy = y0 + dy - st->my;
      if (xx < 0 || yy < 0 || xx >= st->mw || yy >= st->mh || !st->mask[(size_t)yy * st->mw + xx])
        continue;
      v += (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy) *
           r->ink.ink[(size_t)(yy + st->my) * r->W + xx + st->mx];
    }
  return v;
}

/* Group g's strip (dg_number_strip) into *st; free st->px and st->mask. */
static int make_strip(const reader *r, int g, dg_number_strip *st) {
  const piece *G = &r->ps[g];
  const int gw = G->x1 - G->x0 + 1, gh = G->y1 - G->y0 + 1;
  const double s = group_slant(r, g), yc = 0.5 * (G->y0 + G->y1 + 1);
  uint8_t *m = malloc((size_t)gw * gh);
  if (!m) return nomem();
  double lo = 1e18, hi = -1e18;
  for (int y = G->y0; y <= G->y1; y++)
    for (int x = G->x0; x <= G->x1; x++) {
      const int in = group_of(r, (size_t)y * r->W + x) == g;
      m[(size_t)(y - G->y0) * gw + (x - G->x0)] = (uint8_t)in;
      if (!in) continue;
      const double u = x + 0.5 - s * (y + 0.5 - yc);
      lo = u - 0.5 < lo ? u - 0.5 : lo, hi = u + 0.5 > hi ? u + 0.5 : hi;
    }
  const double k = (double)DG_STRIP_DIGIT / gh;
  const int w = (int)ceil((hi - lo) * k) + 2 * DG_STRIP_PAD;
  float *px = calloc((size_t)DG_STRIP_H * w, sizeof(float));
  if (!px) { free(m); return nomem(); }
  *st = (dg_number_strip){px, w, k, lo, yc, s, r->ink.f > 0 ? r->ink.f : 1, r->ink.ox,
                          r->ink.oy, m, G->x0, G->y0, gw, gh};
  int n = (int)ceil(1 / k);
  n = n < 1 ? 1 : n > 6 ? 6 : n;
  /* samples that read no pixel of the group's box stay 0: the rows and
   * columns whose samples all fall 1 px or more outside it are skipped */
  const double bx0 = G->x0 - 0.5, bx1 = G->x1 + 1.5, by0 = G->y0 - 0.5, by1 = G->y1 + 1.5;
  for (int v = 0; v < DG_STRIP_H; v++) {
    const double ya = yc + (v + 0.5 / n - 0.5 * DG_STRIP_H) / k,
                 yb = yc + (v + (n - 0.5) / n - 0.5 * DG_STRIP_H) / k;
    if (yb <= by0 || ya >= by1) continue;
    const double sa = s * (ya - yc), sb = s * (yb - yc);
    for (int u = 0; u < w; u++) {
      const double xa = lo + (u + 0.5 / n - DG_STRIP_PAD) / k + (sa < sb ? sa : sb),
                   xb = lo + (u + (n - 0.5) / n - DG_STRIP_PAD) / k + (sa < sb ? sb : sa);
      if (xb <= bx0 || xa >= bx1) continue;
      double acc = 0;
      for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
          const double yw = yc + (v + (a + 0.5) / n - 0.5 * DG_STRIP_H) / k;
          const double xw = lo + (u + (b + 0.5) / n - DG_STRIP_PAD) / k + s * (yw - yc);
          acc += group_ink(r, st, xw - 0.5, yw - 0.5);
        }
      px[(size_t)v * w + u] = (float)(acc / (n * n));
    }
  }
  return DG_OK;
}

int dg_number_strip_u(const dg_number_strip *s, double sx, double sy, double *u) {
  const double xw = (sx - s->ox) / s->f, yw = (sy - s->oy) / s->f;
  *u = (xw - s->s * (yw - s->yc) - s->lo) * s->k + DG_STRIP_PAD;
  const int x = (int)floor(xw) - s->mx, y = (int)floor(yw) - s->my;
  return x >= 0 && y >= 0 && x < s->mw && y < s->mh && s->mask[(size_t)y * s->mw + x];
}

/* The best path through T windows' readings p (T, 11) into state (T: 0-9
 * a digit, 10 none); returns its score. Each digit begun costs WIN_ENTER
 * and lasts at least WIN_RUN windows: a digit is centred in several, and
 * a run of one window was a stray ("464" read "4641"). A digit follows
 * only none or itself: windows are taught that between two digits'
 * centres is none, and a digit's windows reading as two digits side by
 * side ("000555" for a 0) was a wide digit read twice. The path's states
 * (WIN_STATES: V and bp hold T x WIN_STATES): (digit, windows into its
 * run, counted up to WIN_RUN) and none, last. */
#define WIN_STATES (10 * WIN_RUN + 1)
static double window_path(const float *p, int T, double *V, short *bp, signed char *state) {
  const int S = WIN_STATES, none = S - 1;
  for (int t = 0; t < T; t++) {
    const double *prev = t ? V + (size_t)(t - 1) * S : NULL;
    for (int s = 0; s < S; s++) {
      const int c = s == none ? 10 : s / WIN_RUN, k = s % WIN_RUN;
      double best = -1e300;
      int from = -1;
      if (s == none) {  /* from none or a run long enough */
        best = t ? prev[none] : 0, from = t ? none : -1;
        for (int q = WIN_RUN - 1; t && q < none; q += WIN_RUN)
          if (prev[q] > best) best = prev[q], from = q;
      } else if (!t) {
        if (k == 0) best = -WIN_ENTER;  /* a digit begun */
      } else {  /* begun after none, or on in its run (its last count stays) */
        if (k == 0) best = prev[none] - WIN_ENTER, from = none;
        else best = prev[s - 1], from = s - 1;
        if (k == WIN_RUN - 1 && prev[s] > best) best = prev[s], from = s;
      }
      V[(size_t)t * S + s] = best + log(fmax(p[(size_t)t * 11 + c], 1e-9f));
      bp[(size_t)t * S + s] = (short)from;
    }
  }
  int s = none;
  const double *last = V + (size_t)(T - 1) * S;
  for (int q = WIN_RUN - 1; q < none; q += WIN_RUN) s = last[q] > last[s] ? q : s;
  const double score = last[s];
  for (int t = T - 1; t >= 0; t--) {
    state[t] = (signed char)(s == none ? 10 : s / WIN_RUN);
    s = bp[(size_t)t * S + s];
  }
  return score;
}

/* How much the best path (score best) beats the best path of one digit:
 * none throughout but for the run of one digit that gains most, at least
 * WIN_RUN windows long as window_path's runs are (or all T, if fewer). */
static double beats_one(const float *p, int T, double best) {
  const int W = T < WIN_RUN ? T : WIN_RUN;
  double none = 0, gain = -1e300;
  for (int t = 0; t < T; t++) none += log(fmax(p[(size_t)t * 11 + 10], 1e-9f));
  for (int d = 0; d < 10; d++) {
    /* the run [i, t] gains S[t + 1] - S[i] (S: prefix sums of its windows'
     * log p(d) / p(none)); lo, the least S[i] for i <= t + 1 - W */
    double S[WIN_RUN + 1], lo = 1e300;
    S[0] = 0;
    for (int t = 0; t < T; t++) {
      const double x = log(fmax(p[(size_t)t * 11 + d], 1e-9f)) -
                       log(fmax(p[(size_t)t * 11 + 10], 1e-9f));
      const double next = S[t % (WIN_RUN + 1)] + x;
      if (t + 1 - W >= 0) lo = fmin(lo, S[(t + 1 - W) % (WIN_RUN + 1)]);
      S[(t + 1) % (WIN_RUN + 1)] = next;
      if (lo < 1e299) gain = fmax(gain, next - lo);
    }
  }
  return best - (none + gain - WIN_ENTER);
}

/* The digits on the path (states per window, state[t]) into out (at most
 * max) and *n: each a run of one digit's state, centred (cu, strip
 * columns) where its windows' probabilities weigh, read as its strongest
 * window reads it. */
static void path_digits(const float *p, const signed char *state, int T, int g, seg *out,
                        double *cu, int max, int *n) {
  int peak[DG_NUMBER_MAX + 1];
  double wsum[DG_NUMBER_MAX + 1];
  for (int t = 0; t < T; t++) {
    const int s = state[t];
    if (s == 10) continue;
    if (t == 0 || state[t - 1] != s) {
      if (*n == max) break;
      cu[*n] = 0, wsum[*n] = 0, peak[*n] = t, (*n)++;
    }
    const int i = *n - 1;
    const double wgt = p[(size_t)t * 11 + s];
    cu[i] += wgt * (DG_STRIP_PAD + t), wsum[i] += wgt;
    if (wgt > p[(size_t)peak[i] * 11 + s]) peak[i] = t;
  }
  for (int i = 0; i < *n; i++) {
    seg *sg = &out[i];
    cu[i] /= wsum[i] > 0 ? wsum[i] : 1;
    const float *q = p + (size_t)peak[i] * 11;
    const double sum = 1.0 - q[10] > 1e-6 ? 1.0 - q[10] : 1e-6;
    for (int k = 0; k < 10; k++) sg->probs[k] = (float)(q[k] / sum);
    sg->a = sg->b = -1, sg->g = g, sg->rej = 0, sg->ratio = 1;
  }
}

/* The n digits' boxes (work pixels): the group's ink (st->mask) between
 * the midpoints of their centres cu. */
static void path_boxes(const reader *r, const dg_number_strip *st, const double *cu, seg *out,
                       int n) {
  for (int i = 0; i < n; i++)
    out[i].box[0] = r->W, out[i].box[1] = r->H, out[i].box[2] = -1, out[i].box[3] = -1;
  for (int y = 0; y < st->mh; y++)
    for (int xx = 0; xx < st->mw; xx++) {
      if (!st->mask[(size_t)y * st->mw + xx]) continue;
      const int wx = xx + st->mx, wy = y + st->my;
      const double u = (wx + 0.5 - st->s * (wy + 0.5 - st->yc) - st->lo) * st->k + DG_STRIP_PAD;
      int i = 0;
      while (i + 1 < n && u >= 0.5 * (cu[i] + cu[i + 1])) i++;
      int *b = out[i].box;
      b[0] = wx < b[0] ? wx : b[0], b[1] = wy < b[1] ? wy : b[1];
      b[2] = wx > b[2] ? wx : b[2], b[3] = wy > b[3] ? wy : b[3];
    }
  for (int i = 0; i < n; i++) {
    int *b = out[i].box;
    if (b[2] < b[0]) b[0] = b[1] = 0, b[2] = b[3] = 1;
    else b[2] = b[2] - b[0] + 1, b[3] = b[3] - b[1] + 1;
  }
}

/* The digits of group g read by its windows into out (at most max), as
 * segs left to right; their number into *n (0: none found). A group the
 * network reads surely as one digit stays one (*n = 1) unless the best
 * path beats the best path of one digit by WIN_ONE. */
static int window_digits(reader *r, int g, const dg_number_strip *st, seg *out, int max,
                         int *n) {
  const int T = st->w - 2 * DG_STRIP_PAD + 1, D = DG_STRIP_H * DG_WIN_W;
  *n = 0;
  if (T < 1) return DG_OK;
  float *x = malloc(sizeof(float) * (size_t)D * T), *p = malloc(sizeof(float) * 11 * (size_t)T);
  double *V = malloc(sizeof(double) * WIN_STATES * (size_t)T);
  short *bp = malloc(sizeof(short) * WIN_STATES * (size_t)T);
  signed char *state = malloc((size_t)T);
  int rc = x && p && V && bp && state ? DG_OK : nomem();
  for (int t = 0; !rc && t < T; t++) dg_number_strip_window(st->px, st->w, t, x + (size_t)t * D);
  if (!rc) rc = r->o->window(r->o->wuser, x, T, p);
  if (!rc) {
    const double best = window_path(p, T, V, bp, state);
    if (sure_one(&r->pre[g]) && beats_one(p, T, best) < WIN_ONE) {
      *n = 1;
    } else {
      double cu[DG_NUMBER_MAX + 1];
      path_digits(p, state, T, g, out, cu, max, n);
      path_boxes(r, st, cu, out, *n);
    }
  }
  free(x), free(p), free(V), free(bp), free(state);
  return rc;
}

/* Whether window x reads group g as the digit the network reads it as,
 * at WIN_PROBE_P or more (*one). */
static int probe_window(reader *r, int g, const float *x, int *one) {
  float p[11];
  const int rc = r->o->probe ? r->o->probe(r->o->puser, x, 1, p)
                             : r->o->window(r->o->wuser, x, 1, p);
  int d = 0;
  for (int k = 1; k < 10; k++) d = r->pre[g].probs[k] > r->pre[g].probs[d] ? k : d;
  *one = !rc && p[d] >= WIN_PROBE_P;
  return rc;
}

/* Whether group g (strip st) is the digit the network reads it as by
 * the window centred on its ink (*one). */
static int probe_one(reader *r, int g, const dg_number_strip *st, int *one) {
  const int T = st->w - 2 * DG_STRIP_PAD + 1;
  double su = 0, sm = 0;
  for (int v = 0; v < DG_STRIP_H; v++)
    for (int u = 0; u < st->w; u++) {
      const float a = st->px[(size_t)v * st->w + u];
      su += (u + 0.5) * a, sm += a;
    }
  int t = (int)floor((sm > 0 ? su / sm : 0.5 * st->w) - DG_STRIP_PAD + 0.5);
  t = t < 0 ? 0 : t >= T ? T - 1 : t;
  *one = 0;
  if (T < 1) return DG_OK;
  float x[DG_STRIP_H * DG_WIN_W];
  dg_number_strip_window(st->px, st->w, t, x);
  return probe_window(r, g, x, one);
}

/* The same for the window made of group g's MNIST-style input (28x28,
 * its longer side 20 px, centred by mass: for a group narrower than high
 * the strip's scale and centre, its slant left in), no strip needed. */
static int probe_input(reader *r, int g, int *one) {
  float x[DG_STRIP_H * DG_WIN_W] = {0};
  for (int v = 0; v < 28; v++)
    memcpy(x + v * DG_WIN_W + (DG_WIN_W - 28) / 2, r->pin + (size_t)r->pk[g] * 784 + v * 28,
           sizeof(float) * 28);
  return probe_window(r, g, x, one);
}

/* Step 4b, every group wide enough: its strip to the sink; with a window
 * reader, its digits (r->wn, r->wrep by group, r->wn[g] < 0 when not
 * read). */
static int find_windows(reader *r) {
  if (!r->o->window && !r->o->strip) return DG_OK;
  int st = DG_OK;
  r->wn = malloc(sizeof(int) * (size_t)(r->np + 1));
  r->wrep = malloc(sizeof(seg) * (size_t)r->np * DG_NUMBER_MAX + 1);
  if (!r->wn || !r->wrep) return nomem();
  for (int g = 0; !st && g < r->np; g++) {
    const piece *G = &r->ps[g];
    r->wn[g] = -1;
    if (G->drop || G->root != g || r->pre[g].a < 0) continue;
    if (G->y1 - G->y0 + 1 < SHORT_H * r->hmed) continue;
    const double ratio = r->pre[g].ratio;
    const int sink = r->o->strip && ratio >= STRIP_RATIO;
    int read = r->o->window && ratio >= WIN_RATIO && ratio <= WIN_MAX;
    const int probe = read && ratio < WIN_SURE;
    if (!sink && !read) continue;
    int one = 0;
    if (probe) {  /* first the network's own input as the window: no strip */
      if ((st = probe_input(r, g, &one))) break;
      read = !one;
      if (!sink && !read) continue;
    }
    dg_number_strip k;
    if ((st = make_strip(r, g, &k))) break;
    if (probe && read) st = probe_one(r, g, &k, &one), read = !one;
    if (sink && !st) r->o->strip(r->o->stuser, &k);
    int n = 0;
    if (read && !st) st = window_digits(r, g, &k, r->wrep + (size_t)g * DG_NUMBER_MAX, DG_NUMBER_MAX, &n);
    if (!st && n == 1) r->wrep[(size_t)g * DG_NUMBER_MAX] = r->pre[g];
    if (read && !st) r->wn[g] = n;
    free((void *)k.px), free((void *)k.mask);
  }
  return st;
}

/* The window reader's digits in place of those the cuts found (a group
 * read as one digit keeps the network's reading of it whole, or the
 * cuts' when they read it with a fragment of another group). */
static int replace_windows(reader *r) {
  if (!r->wn) return DG_OK;
  int st = DG_OK, total = 0;
  int *nrep = malloc(sizeof(int) * (size_t)(r->np + 1));
  if (!nrep) return nomem();
  for (int g = 0; g < r->np; g++) nrep[g] = r->wn[g] > 0 ? r->wn[g] : -1;
  for (int i = 0; i < r->ns; i++) {
    const seg *sg = &r->segs[i];
    if (nrep[sg->g] != 1 || (i > 0 && r->segs[i - 1].g == sg->g) ||
        (i + 1 < r->ns && r->segs[i + 1].g == sg->g))
      continue;
    int more = 0;  /* a group the windows read as one digit, which the cuts
                    * read as one with another group's fragment (a 5's
                    * flag apart): the cuts' reading */
    for (int a = sg->a; a >= 0 && a < sg->b; a++) more |= r->at[a].g != sg->g;
    if (more) nrep[sg->g] = -1;
  }
  for (int g = 0; g < r->np; g++) total += nrep[g] > 0 ? nrep[g] : 0;
  if (total) {
    seg *out = malloc(sizeof(seg) * (size_t)(r->ns + total + 1));
    int m = 0;
    if (!out) st = nomem();
    for (int i = 0; !st && i < r->ns; i++) {  /* the cuts' splits out */
      const int g = r->segs[i].g;
      if (nrep[g] > 0 && i > 0 && r->segs[i - 1].g == g) r->splits--;
    }
    for (int i = 0; !st && i < r->ns; i++) {
      const int g = r->segs[i].g, n = nrep[g];
      if (n < 0) { out[m++] = r->segs[i]; continue; }
      if (n == 0) continue;  /* put already */
      memcpy(out + m, r->wrep + (size_t)g * DG_NUMBER_MAX, sizeof(seg) * n);
      m += n, r->splits += n - 1, nrep[g] = 0;
    }
    if (!st) free(r->segs), r->segs = out, r->ns = m, r->cap = r->ns + total + 1;
  }
  free(nrep);
  return st;
}


/* The score of reading sg as one digit: the best of its classes'
 * log-probability with that class's width prior, less a digit's cost and
 * a penalty when much shorter than the digits. */
static double seg_score(const reader *r, const seg *sg) {
  double best = -1e18;
  const double lr = log(sg->ratio > 1e-3 ? sg->ratio : 1e-3);
  for (int k = 0; k < 10; k++) {
    const double z = (lr - prior_mu[k]) / prior_sd[k];
    const double zh = z - PRIOR_Z, zl = -z - PRIOR_ZL;
    const double v = log(sg->probs[k] > 1e-9f ? sg->probs[k] : 1e-9f) -
                     (zh > 0 ? PRIOR_W * zh * zh : 0) - (zl > 0 ? PRIOR_WL * zl * zl : 0);
    best = v > best ? v : best;
  }
  best -= SEG_COST;
  if (r->o->verify) best += VER_W * log(1.0 - sg->rej + 1e-4);
  /* whole groups (a digit and its fragment) read surely: one digit */
  if (uncut(r, sg->a, sg->b) && sure_one(sg)) best += SURE_BONUS;
  if (sg->ratio > WIDE_OK) best -= WIDE_COST * (sg->ratio - WIDE_OK);
  if (sg->box[3] < SHORT_H * r->hmed) best -= SHORT_COST;
  return best;
}

static int push_seg(reader *r, const seg *sg) {
  if (r->ns == r->cap) {
    int cap = r->cap ? r->cap * 2 : 16;
    seg *p = realloc(r->segs, sizeof(seg) * (size_t)cap);
    if (!p) return nomem();
    r->segs = p, r->cap = cap;
  }
  r->segs[r->ns++] = *sg;
  return DG_OK;
}

/* The chosen partition (from[b]: the start of the digit ending at atom b,
 * or -1 - a when atoms [a, b) were left out) into r->segs, left to right. */
static int keep_chosen(reader *r, const int *from, const int *idx, const seg *cand) {
  int *ends = malloc(sizeof(int) * (size_t)(r->na + 1)), n = 0, st = DG_OK;
  if (!ends) return nomem();
  for (int b = r->na; b > 0; b = from[b] >= 0 ? from[b] : -1 - from[b])
    if (from[b] >= 0) ends[n++] = b;
  for (int k = n - 1; k >= 0 && !st; k--) {
    const int b = ends[k], a = from[b];
    const seg *sg = &cand[idx[a * SPAN + (b - a - 1)]];
    if (a > 0 && r->at[a - 1].g == r->at[a].g) r->splits++;
    st = push_seg(r, sg);
  }
  free(ends);
  return st;
}

/* The verifier's (n, 11) for the inputs with want[i] into *v (with its
 * context cx when it takes it), a row not verified with v[10] = -1 (NULL
 * without a verifier). */
static int verify_batch(const reader *r, const float *x, const float *cx, int n,
                        const char *want, float **v) {
  *v = NULL;
  if (!r->o->verify || n == 0) return DG_OK;
  const int two = r->o->verify_context, d = two ? 2 * 784 : 784;
  int m = 0;
  for (int i = 0; i < n; i++) m += want[i] != 0;
  float *out = malloc(sizeof(float) * 11 * (size_t)n);
  float *xs = malloc(sizeof(float) * d * (size_t)(m + 1)), *vs = malloc(sizeof(float) * 11 * (size_t)(m + 1));
  int st = out && xs && vs ? DG_OK : nomem();
  for (int i = 0, j = 0; !st && i < n; i++) {
    if (!want[i]) continue;
    float *row = xs + (size_t)j++ * d;
    const float *xi = x + (size_t)i * 784;
    if (!two) memcpy(row, xi, sizeof(float) * 784);
    else dg_number_two_channels(xi, cx + (size_t)i * 784, row);
  }
  if (!st && m) st = r->o->verify(r->o->vuser, xs, m, vs);
  for (int i = 0, j = 0; !st && i < n; i++) {
    if (want[i]) memcpy(out + (size_t)i * 11, vs + (size_t)j++ * 11, sizeof(float) * 11);
    else out[(size_t)i * 11 + 10] = -1;
  }
  free(xs), free(vs);
  if (st) free(out);
  else *v = out;
  return st;
}

void dg_number_strip_window(const float *px, int w, int t, float *out) {
  for (int v = 0; v < DG_STRIP_H; v++)
    memcpy(out + (size_t)v * DG_WIN_W, px + (size_t)v * w + t, sizeof(float) * DG_WIN_W);
}

void dg_number_two_channels(const float *x, const float *ctx, float *out) {
  for (int k = 0; k < 784; k++) out[2 * k] = x[k], out[2 * k + 1] = ctx[k];
}

/* Whether a candidate is worth the verifier: a piece a cut made, or one
 * wide enough to hold two digits (a narrower group is never cut, so what
 * the verifier says of it changes nothing but the time). */
static int want_verify(const reader *r, const seg *sg) {
  return !uncut(r, sg->a, sg->b) || sg->ratio >= VER_RATIO;
}

/* A candidate's probabilities with the verifier's (v: its 11, NULL for
 * none): the rejection into sg->rej, the digits' as the normalised
 * geometric mean of the network's and the verifier's own (it was trained
 * on pieces as the reader cuts them, a neighbour's slivers and all). */
static void take_verifier(seg *sg, const float *v, int cut) {
  if (v && v[10] < 0) v = NULL;  /* not verified */
  sg->rej = v ? v[10] : 0;
  if (!v || !cut || VER_MIX <= 0) return;
  double q[10], sum = 0;
  const double dv = 1.0 - v[10] > 1e-6 ? 1.0 - v[10] : 1e-6;
  for (int k = 0; k < 10; k++) {
    const double a = sg->probs[k] > 1e-9f ? sg->probs[k] : 1e-9, b = v[k] / dv > 1e-9 ? v[k] / dv : 1e-9;
    q[k] = exp((1 - VER_MIX) * log(a) + VER_MIX * log(b));
    sum += q[k];
  }
  for (int k = 0; k < 10; k++) sg->probs[k] = (float)(q[k] / sum);
}

/* Step 5: every run of atoms that may be a digit (up to MAX_RUN atoms,
 * run_ok; and every whole group) read in one batch, then the partition of
 * the highest score by dynamic programming. */
static int read_atoms(reader *r) {
  const int na = r->na;
  if (na == 0) return DG_OK;
  int n = 0, st = DG_OK;
  for (int a = 0; a < na; a++)
    for (int b = a + 1; b <= na && b <= a + SPAN; b++) n += run_wanted(r, a, b);
  int *idx = malloc(sizeof(int) * (size_t)na * SPAN), *xi = malloc(sizeof(int) * (size_t)n);
  seg *cand = malloc(sizeof(seg) * (size_t)n);
  float *x = malloc(sizeof(float) * 784 * (size_t)n), *p = malloc(sizeof(float) * 10 * (size_t)n);
  float *cx = wants_context(r) ? malloc(sizeof(float) * 784 * (size_t)n) : NULL;
  double *best = malloc(sizeof(double) * (size_t)(na + 1));
  int *from = malloc(sizeof(int) * (size_t)(na + 1)), m = 0;
  if (!idx || !xi || !cand || !x || !p || !best || !from || (wants_context(r) && !cx)) st = nomem();
  n = 0;
  for (int a = 0; a < na && !st; a++)
    for (int b = a + 1; b <= a + SPAN && !st; b++) {
      idx[a * SPAN + (b - a - 1)] = -1;
      if (b > na || !run_wanted(r, a, b)) continue;
      seg *sg = &cand[n];
      const seg *pre = r->pre ? &r->pre[r->at[a].g] : NULL;
      if (b == a + 1 && uncut(r, a, b) && pre && pre->a >= 0) {
        *sg = *pre, xi[n] = -1;  /* an uncut group, read already */
      } else {
        sg->a = a, sg->b = b;
        st = seg_input(r, sg, x + (size_t)m * 784, cx ? cx + (size_t)m * 784 : NULL);
        if (st == DG_ERR_EMPTY) { st = DG_OK; continue; }
        if (st) break;
        xi[n] = m++;
      }
      sg->a = a, sg->b = b, sg->g = r->at[a].g;
      idx[a * SPAN + (b - a - 1)] = n++;
    }
  float *v = NULL;
  char *want = malloc((size_t)m + 1);
  if (!st && !want) st = nomem();
  for (int k = 0; !st && k < n; k++)
    if (xi[k] >= 0) want[xi[k]] = (char)want_verify(r, &cand[k]);
  if (!st && m) st = r->classify(r->user, x, m, p);
  if (!st) st = verify_batch(r, x, cx, m, want, &v);
  free(want), free(cx);
  for (int k = 0; !st && k < n; k++)
    if (xi[k] >= 0) {
      memcpy(cand[k].probs, p + (size_t)xi[k] * 10, sizeof(float) * 10);
      take_verifier(&cand[k], v ? v + (size_t)xi[k] * 11 : NULL, !uncut(r, cand[k].a, cand[k].b));
    }
  free(v);
  for (int b = 0; !st && b <= na; b++) {
    best[b] = b ? best[b - 1] - SKIP_COST : 0, from[b] = -b;  /* atom b-1 left out */
    for (int a = b - 1; b && a >= 0 && a >= b - SPAN; a--) {
      const int c = idx[a * SPAN + (b - a - 1)];
      if (c < 0) continue;
      const double v = best[a] + seg_score(r, &cand[c]);
      if (v > best[b]) best[b] = v, from[b] = a;
    }
  }
  if (!st) r->score = best[na], st = keep_chosen(r, from, idx, cand);
  free(idx), free(xi), free(cand), free(x), free(p), free(best), free(from);
  return st;
}

/* Step 4a: every group read whole (its one atom, nothing cut yet) into
 * r->pre, by group. */
static int read_wholes(reader *r) {
  float *x = malloc(sizeof(float) * 784 * (size_t)(r->na + 1));
  float *p = malloc(sizeof(float) * 10 * (size_t)(r->na + 1));
  float *cx = wants_context(r) ? malloc(sizeof(float) * 784 * (size_t)(r->na + 1)) : NULL;
  int *gi = malloc(sizeof(int) * (size_t)(r->na + 1)), n = 0, st = DG_OK;
  r->pre = malloc(sizeof(seg) * (size_t)(r->np + 1));
  if (!x || !p || !gi || !r->pre || (wants_context(r) && !cx)) st = nomem();
  for (int i = 0; !st && i < r->np; i++) r->pre[i].a = -1;
  for (int a = 0; !st && a < r->na; a++) {
    seg sg = {.a = a, .b = a + 1, .g = r->at[a].g};
    st = seg_input(r, &sg, x + (size_t)n * 784, cx ? cx + (size_t)n * 784 : NULL);
    if (st == DG_ERR_EMPTY) { st = DG_OK; continue; }
    if (!st) r->pre[r->at[a].g] = sg, gi[n++] = r->at[a].g;
  }
  float *v = NULL;
  char *want = malloc((size_t)n + 1);
  if (!st && !want) st = nomem();
  for (int k = 0; !st && k < n; k++) want[k] = (char)want_verify(r, &r->pre[gi[k]]);
  if (!st && n) st = r->classify(r->user, x, n, p);
  if (!st) st = verify_batch(r, x, cx, n, want, &v);
  free(want), free(cx);
  for (int k = 0; !st && k < n; k++) {
    seg *sg = &r->pre[gi[k]];
    memcpy(sg->probs, p + (size_t)k * 10, sizeof(float) * 10);
    take_verifier(sg, v ? v + (size_t)k * 11 : NULL, 0);
  }
  if (!st && r->o->window) {  /* the inputs, kept for the window probes */
    if (!(r->pk = malloc(sizeof(int) * (size_t)(r->np + 1)))) st = nomem();
    for (int k = 0; !st && k < n; k++) r->pk[gi[k]] = k;
    if (!st) r->pin = x, x = NULL;
  }
  free(x), free(p), free(gi), free(v);
  return st;
}

/* The groups' atoms, each group cut when cut(r, g) (pass 0: none). */
static int make_atoms(reader *r, int pass) {
  int st = DG_OK;
  r->na = 0;
  for (size_t i = 0; i < (size_t)r->W * r->H; i++) r->am[i] = -1;
  for (int i = 0; i < r->np && st == DG_OK; i++) {
    const piece *G = &r->ps[i];
    if (G->drop || G->root != i) continue;
    const int gw = G->x1 - G->x0 + 1, gh = G->y1 - G->y0 + 1;
    if (gh < 0.4 * r->hmed && gw < 0.4 * r->hmed) continue;  /* a dot, a dash */
    st = add_group_atoms(r, i, pass && r->pre[i].a >= 0 && !sure_one(&r->pre[i]));
  }
  return st ? st : order_atoms(r);
}

/* Steps 4-5 for each cut set in turn (wholes: the atoms of the groups
 * uncut), the partition of the highest score kept in r->segs. More sets
 * than one only with a verifier, which keeps spurious pieces (a flag
 * apart, half a 3) from scoring as digits; none when no group is cut. */
static int read_cut_sets(reader *r, int wholes) {
  const int sets = r->o->verify ? VARIANTS : 1;
  seg *best = NULL;
  int nbest = 0, cbest = 0, sbest = 0, st = DG_OK, cut = 0;
  double score = 0;
  for (int v = 0; v < sets && st == DG_OK; v++) {
    r->variant = v, r->ns = 0, r->splits = 0;
    st = make_atoms(r, 1);
    if (v == 0) cut = r->na > wholes;
    if (st == DG_OK) st = read_atoms(r);
    if (st == DG_OK && (v == 0 || r->score > score)) {  /* keep it: swap */
      seg *t = best;
      const int c = cbest;
      best = r->segs, cbest = r->cap, nbest = r->ns, sbest = r->splits, score = r->score;
      r->segs = t, r->cap = c;
    }
    if (!cut) break;
  }
  free(r->segs);
  r->segs = best, r->cap = cbest, r->ns = nbest, r->splits = sbest;
  return st;
}

/* Steps 3-5 on the labelled map: every group read whole, those not read
 * surely as one digit cut, every digit into r->segs, read. */
static int find_digits(reader *r) {
  int st = drop_specks(r);
  if (st) return st;
  piece_extents(r);
  merge_pieces(r);
  for (int i = 0; i < r->np; i++) r->ps[i].root = find_root(r->ps, i);
  if (!(r->am = malloc(sizeof(int32_t) * (size_t)r->W * r->H))) return nomem();
  st = make_atoms(r, 0);
  const int wholes = r->na;
  if (st == DG_OK) st = read_wholes(r);
  if (!st) st = find_windows(r);
  if (!st) st = read_cut_sets(r, wholes);
  return st ? st : replace_windows(r);
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
  const dg_number_opts o = {.classify = classify, .user = user};
  return dg_read_number_opts(pixels, width, height, channels, &o, out);
}

int dg_read_number_opts(const uint8_t *pixels, int width, int height,
                        int channels, const dg_number_opts *o, dg_number *out) {
  if (!out || !o || !o->classify)
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
  reader r = {.px = pixels, .w = width, .h = height, .c = channels, .o = o,
              .classify = o->classify, .user = o->user};
  st = dg_ink_find_all(pixels, width, height, channels, NUMBER_WORK, &r.ink);
  if (st == DG_ERR_EMPTY) return DG_OK;  /* no ink: no digits */
  r.W = r.ink.W, r.H = r.ink.H;
  out->photo = r.ink.photo;
  if (st == DG_OK) st = label_pieces(&r);
  if (st == DG_OK) st = find_digits(&r);
  if (st == DG_OK) st = result(&r, out);
  dg_ink_free(&r.ink);
  free(r.lab), free(r.ps), free(r.segs), free(r.am), free(r.at), free(r.pre);
  free(r.wn), free(r.wrep), free(r.pin), free(r.pk);
  return st;
}

static int net_classify(void *user, const float *x, int n, float *probs) {
  return dg_net_predict((dg_net *)user, x, n, probs);
}

int dg_number_opts_verifier(dg_number_opts *o, dg_net *verifier) {
  o->verify = NULL, o->vuser = NULL, o->verify_context = 0, o->window = NULL, o->wuser = NULL;
  o->probe = NULL, o->puser = NULL;
  if (!verifier) return DG_OK;
  const int in = dg_net_input_size(verifier);
  const int win = in == DG_STRIP_H * DG_WIN_W;
  if ((in != 784 && in != 2 * 784 && !win) || dg_net_output_size(verifier) != 11)
    return dg_error(DG_ERR_ARG, "number: a verifier takes 784 inputs (28x28), 1568 "
                    "(28x28x2: a digit and what lies around it) or %d (%dx%d windows) "
                    "and gives 11 outputs, not %d and %d", DG_STRIP_H * DG_WIN_W, DG_STRIP_H,
                    DG_WIN_W, in, dg_net_output_size(verifier));
  if (win) o->window = net_classify, o->wuser = verifier;
  else o->verify = net_classify, o->vuser = verifier, o->verify_context = in == 2 * 784;
  return DG_OK;
}

/* The window readers' probabilities averaged: (n, 11) each. */
static int avg_classify(void *user, const float *x, int n, float *probs) {
  const dg_number_avg *a = user;
  float *q = malloc(sizeof(float) * 11 * (size_t)(n > 0 ? n : 1));
  if (!q) return nomem();
  int st = dg_net_predict(a->nets[0], x, n, probs);
  for (int m = 1; !st && m < a->n; m++) {
    st = dg_net_predict(a->nets[m], x, n, q);
    for (size_t i = 0; !st && i < 11 * (size_t)n; i++) probs[i] += q[i];
  }
  for (size_t i = 0; !st && i < 11 * (size_t)n; i++) probs[i] /= (float)a->n;
  free(q);
  return st;
}

int dg_number_opts_verifiers(dg_number_opts *o, dg_net *const *verifiers, int n,
                             dg_number_avg *avg) {
  if (n < 0 || n > DG_NUMBER_MAX_VERIFIERS || (n && !verifiers))
    return dg_error(DG_ERR_ARG, "number: 0 to %d verifiers, not %d", DG_NUMBER_MAX_VERIFIERS, n);
  int st = dg_number_opts_verifier(o, n ? verifiers[0] : NULL);
  if (st || n < 2) return st;
  for (int m = 0; m < n; m++)
    if (!verifiers[m] || dg_net_input_size(verifiers[m]) != DG_STRIP_H * DG_WIN_W ||
        dg_net_output_size(verifiers[m]) != 11)
      return dg_error(DG_ERR_ARG, "number: verifiers averaged must all be window readers "
                      "(%dx%d inputs, 11 outputs); verifier %d is not", DG_STRIP_H, DG_WIN_W,
                      m + 1);
  *avg = (dg_number_avg){verifiers, n};
  o->probe = o->window, o->puser = o->wuser;
  o->window = avg_classify, o->wuser = avg;
  return DG_OK;
}

int dg_read_number_readers(const uint8_t *pixels, int width, int height,
                           int channels, dg_classify_fn classify, void *user,
                           dg_net *const *verifiers, int n, dg_number *out) {
  dg_number_opts o = {.classify = classify, .user = user};
  dg_number_avg avg;
  const int st = dg_number_opts_verifiers(&o, verifiers, n, &avg);
  return st ? st : dg_read_number_opts(pixels, width, height, channels, &o, out);
}

int dg_read_number_verified(const uint8_t *pixels, int width, int height,
                            int channels, dg_classify_fn classify, void *user,
                            dg_net *verifier, dg_number *out) {
  return dg_read_number_readers(pixels, width, height, channels, classify, user,
                                verifier ? &verifier : NULL, verifier ? 1 : 0, out);
}

int dg_read_number(dg_net *net, const uint8_t *pixels, int width, int height,
                   int channels, dg_number *out) {
  if (!net) return dg_error(DG_ERR_ARG, "number: null network");
  return dg_read_number_ex(pixels, width, height, channels, net_classify, net,
                           out);
}
