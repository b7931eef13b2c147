/* verifier_train.c: trains the number reader's verifier (issue 23,
 * docs/numbers.md), a network of 11 classes that says, for a piece the
 * reader would read as one digit, which digit it is or that it is "not
 * one digit" (class 10): two touching digits, a part of one, a piece with
 * a neighbour's stroke.
 *
 *   verifier_train --data DIR --model FILE --out FILE [--numbers N]
 *                  [--epochs E] [--arch SPEC] [--seed S] [--threads T]
 *                  [--verifier FILE] [--neg-every K] [--labels box|ink]
 *                  [--context 0|1] [--kind piece|window|ctc] [--init FILE]
 *                  [--lr X] [--batch N] [--touching Q]
 *
 * The pieces come from numbers composed by number_lib.c from MNIST
 * TRAINING digits (train-*, never t10k): numbers of 2-8 digits of every
 * spacing and background, the first 50,000 training digits for training,
 * the last 10,000 for the validation numbers (--val, kept apart by the
 * trainer as its last images). Each is read by the reader with --model's
 * network (and with --verifier, an earlier verifier: the reader then cuts
 * as it does when it has one), and every candidate it reads (its
 * MNIST-style input, box and ink) is labelled by its box against the
 * composed digits' boxes (label_by_box), or with --labels ink by the
 * digits' ink it holds (label_by_ink); of the "not one digit" pieces,
 * every K-th is kept (--neg-every, 1). With --context 1 each piece comes
 * with all the ink around it in its frame, a second channel (28x28x2:
 * the architecture's input "28 28 2"). With --kind window it trains the
 * window reader instead (input "28 36 1"): every window of every strip
 * of a group at least STRIP_RATIO x its height wide, labelled by the
 * composed digits' centres (strip_sink); about half its numbers touch,
 * and with --touching Q (1-4, 1 by default) Q quarters of them touch
 * whatever else the cycle of spacings says. With --kind ctc it trains the
 * same network on whole strips by the CTC loss (dg_ctc_loss: the
 * network places each digit itself; none is the blank), from --init's
 * weights (a window reader) or from scratch, --batch (windows) for
 * Adam. Every kind starts from --init's weights when given, at --lr
 * (1e-3). The shipped verifier is a window reader (docs/numbers.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "number_lib.h"
#include "preprocess/number.h"

#define DEFAULT_ARCH                                                          \
  "input 28 28 1; conv 8 5 valid; relu; maxpool 2; conv 16 5 valid; relu; " \
  "maxpool 2; flatten; dense 11; softmax"

typedef struct {
  float *x;
  uint8_t *y;
  int n, cap;
  const number_image *im;  /* the number being read */
  double all[NUMBER_MAX_LEN + 1];  /* its digits' strong ink (px) */
  int skipped;
  long negs;      /* "not one digit" pieces seen; every neg_every-th kept */
  int neg_every;
  int by_ink;     /* --labels ink */
  int d;          /* floats a piece: 784, or 1568 with --context */
  long far;       /* windows centred on no digit seen (--kind window) */
  /* --kind ctc: whole strips, each with the digits it holds in order */
  float **sx;     /* (DG_STRIP_H, sw[i]) */
  int *sw, *sl;   /* widths; first label of each in lab */
  uint8_t *sn, *lab;
  int ns, scap, nlab, lcap;
  int ctc;
  int touching;        /* window numbers: quarters touching (--touching) */
} pieces;

static double overlap(double a0, double a1, double b0, double b1) {
  const double lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
  return hi > lo ? hi - lo : 0;
}

/* The label of a candidate of box b in the number im by the composed
 * digits' boxes (--labels box, the shipped verifier's): the digit when it
 * covers at least 3/4 of one digit's width and is at least 4/5 that
 * digit; 10 when it covers half or more of two digits or under half of
 * any; -1 (left out) between. */
static int label_by_box(const number_image *im, const int b[4]) {
  const double c0 = b[0], c1 = b[0] + b[2];
  int best = -1, halves = 0;
  double bestf = 0;
  for (int i = 0; i < im->len; i++) {
    const double g0 = im->box[i][0], g1 = im->box[i][0] + im->box[i][2];
    const double ov = overlap(c0, c1, g0, g1), f = ov / (g1 - g0);
    if (f >= 0.5) halves++;
    if (f > bestf) bestf = f, best = i;
  }
  if (halves >= 2 || bestf < 0.5) return 10;
  const double g0 = im->box[best][0], g1 = im->box[best][0] + im->box[best][2];
  if (bestf >= 0.75 && overlap(c0, c1, g0, g1) >= 0.8 * (c1 - c0)) return im->text[best] - '0';
  return -1;
}

/* The label of a candidate (its ink) in the number im (--labels ink), by
 * how much of each composed digit's strong ink it holds (the renderer's
 * owner map): the digit when it holds at least COVER of one digit and
 * at most SLIGHT of any other (a neighbour's sliver); 10 when it holds
 * under HALF of every digit (a part of one) or at least TWO of a second
 * (two digits); -1 (left out) between. */
#define COVER 0.8
#define SLIGHT 0.15
#define HALF 0.5
#define TWO 0.35
static int label_by_ink(const number_image *im, const double *all, const dg_number_ink *ink) {
  double got[NUMBER_MAX_LEN + 1] = {0};
  const int f = ink->f;
  for (int v = 0; v < ink->h; v++)
    for (int u = 0; u < ink->w; u++) {
      if (ink->map[(size_t)v * ink->w + u] < 0.3f) continue;
      const int x = ink->ox + (ink->x0 + u) * f + f / 2, y = ink->oy + (ink->y0 + v) * f + f / 2;
      if (x < 0 || y < 0 || x >= im->w || y >= im->h) continue;
      got[im->owner[(size_t)y * im->w + x]] += (double)f * f;
    }
  int best = 0;
  double c1 = 0, c2 = 0;
  for (int i = 1; i <= im->len; i++) {
    const double c = all[i] > 0 ? got[i] / all[i] : 0;
    if (c > c1) c2 = c1, c1 = c, best = i;
    else if (c > c2) c2 = c;
  }
  if (c1 >= COVER && c2 <= SLIGHT) return im->text[best - 1] - '0';
  if (c1 < HALF || c2 >= TWO) return 10;
  return -1;
}

static float *grow(pieces *p) {
  if (p->n == p->cap) {
    const int cap = p->cap ? 2 * p->cap : 65536;
    float *nx = realloc(p->x, sizeof(float) * p->d * (size_t)cap);
    if (nx) p->x = nx;
    uint8_t *ny = realloc(p->y, (size_t)cap);
    if (ny) p->y = ny;
    if (!nx || !ny) { fprintf(stderr, "verifier_train: out of memory\n"); exit(2); }
    p->cap = cap;
  }
  return p->x + (size_t)p->n * p->d;
}

static void sink(void *user, const float *x, const int box[4], const dg_number_ink *ink) {
  pieces *p = user;
  const int y = p->by_ink ? label_by_ink(p->im, p->all, ink) : label_by_box(p->im, box);
  if (y < 0 || (y == 10 && p->negs++ % p->neg_every)) { p->skipped++; return; }
  float *row = grow(p);
  if (p->d == 784) memcpy(row, x, sizeof(float) * 784);
  else dg_number_two_channels(x, ink->context, row);
  p->y[p->n++] = (uint8_t)y;
}

/* The composed digits of the number im in strip s: a digit's centre
 * (cu, strip columns) is the mean strip column of its ink, and it counts
 * (its digit in lab, *nm of them) when most of that ink is the group's. */
static void strip_digits(const number_image *im, const dg_number_strip *s, double *cu,
                         int *lab, int *nm) {
  int m = 0;
  for (int i = 0; i < im->len; i++) {
    long all = 0, in = 0;
    double su = 0;
    const int *b = im->box[i];
    for (int y = b[1]; y < b[1] + b[3]; y++)
      for (int x = b[0]; x < b[0] + b[2]; x++) {
        if (x < 0 || y < 0 || x >= im->w || y >= im->h || im->owner[(size_t)y * im->w + x] != i + 1)
          continue;
        double u;
        in += dg_number_strip_u(s, x + 0.5, y + 0.5, &u);
        all++, su += u;
      }
    if (all && 2 * in >= all) cu[m] = su / all, lab[m++] = im->text[i] - '0';
  }
  *nm = m;
}

/* --kind window: the windows of a strip, labelled by the composed digits
 * of the group (strip_digits); a window centred within WIN_ON columns
 * of it (and 0.3 of the way to the next centre) is that digit, any other
 * none (10): a window a little off a digit's centre must not read as a
 * digit (left out of training, such windows read as stray digits between
 * two). Windows of none further than WIN_NEAR columns from a centre:
 * every WIN_KEEP-th kept. */
#define WIN_ON 3.0
#define WIN_NEAR 10.0
#define WIN_KEEP 6
static void strip_sink(void *user, const dg_number_strip *s) {
  pieces *p = user;
  double cu[NUMBER_MAX_LEN];
  int lab[NUMBER_MAX_LEN], m = 0;
  strip_digits(p->im, s, cu, lab, &m);
  if (!m) return;
  const int T = s->w - 2 * DG_STRIP_PAD + 1;
  for (int t = 0; t < T; t++) {
    const double c = DG_STRIP_PAD + t;
    int j = 0;
    for (int i = 1; i < m; i++) j = fabs(c - cu[i]) < fabs(c - cu[j]) ? i : j;
    double gap = 1e9;
    for (int i = 0; i < m; i++)
      if (i != j && fabs(cu[i] - cu[j]) < gap) gap = fabs(cu[i] - cu[j]);
    const double d = fabs(c - cu[j]);
    const int y = d <= fmin(WIN_ON, 0.3 * gap) ? lab[j] : 10;
    if (y == 10 && d > WIN_NEAR && p->far++ % WIN_KEEP) { p->skipped++; continue; }
    dg_number_strip_window(s->px, s->w, t, grow(p));
    p->y[p->n++] = (uint8_t)y;
  }
}

/* --kind ctc: the strip kept whole with the digits whose ink is mostly
 * the group's, in the order of their centres (as strip_sink finds them);
 * a strip of no digit is a lesson too (every window none). */
static void ctc_sink(void *user, const dg_number_strip *s) {
  pieces *p = user;
  const number_image *im = p->im;
  double cu[NUMBER_MAX_LEN];
  int lab[NUMBER_MAX_LEN], m = 0;
  strip_digits(im, s, cu, lab, &m);
  if (s->w - 2 * DG_STRIP_PAD + 1 < 2 * m + 1) { p->skipped++; return; }
  for (int i = 1; i < m; i++)  /* by centre */
    for (int j = i; j > 0 && cu[j] < cu[j - 1]; j--) {
      double t = cu[j]; cu[j] = cu[j - 1], cu[j - 1] = t;
      int q = lab[j]; lab[j] = lab[j - 1], lab[j - 1] = q;
    }
  if (p->ns == p->scap) {
    p->scap = p->scap ? 2 * p->scap : 4096;
    p->sx = realloc(p->sx, sizeof(float *) * p->scap);
    p->sw = realloc(p->sw, sizeof(int) * p->scap);
    p->sl = realloc(p->sl, sizeof(int) * p->scap);
    p->sn = realloc(p->sn, (size_t)p->scap);
    if (!p->sx || !p->sw || !p->sl || !p->sn) { fprintf(stderr, "verifier_train: out of memory\n"); exit(2); }
  }
  if (p->nlab + m > p->lcap) {
    p->lcap = p->lcap ? 2 * p->lcap : 65536;
    if (!(p->lab = realloc(p->lab, (size_t)p->lcap))) { fprintf(stderr, "verifier_train: out of memory\n"); exit(2); }
  }
  float *px = malloc(sizeof(float) * DG_STRIP_H * (size_t)s->w);
  if (!px) { fprintf(stderr, "verifier_train: out of memory\n"); exit(2); }
  memcpy(px, s->px, sizeof(float) * DG_STRIP_H * (size_t)s->w);
  p->sx[p->ns] = px, p->sw[p->ns] = s->w, p->sl[p->ns] = p->nlab, p->sn[p->ns] = (uint8_t)m;
  for (int i = 0; i < m; i++) p->lab[p->nlab++] = (uint8_t)lab[i];
  p->ns++;
}

/* The windows of strip i into x (T rows of DG_STRIP_H x DG_WIN_W). */
static int strip_windows(const pieces *p, int i, float *x) {
  const int T = p->sw[i] - 2 * DG_STRIP_PAD + 1;
  for (int t = 0; t < T; t++)
    dg_number_strip_window(p->sx[i], p->sw[i], t, x + (size_t)t * DG_STRIP_H * DG_WIN_W);
  return T;
}

/* Best path decoding (argmax per window, repeats merged, none dropped)
 * of T windows' probabilities into out; its length. */
static int greedy(const float *pr, int T, uint8_t *out, int max) {
  int n = 0, prev = 10;
  for (int t = 0; t < T; t++) {
    int b = 0;
    for (int k = 1; k < 11; k++) b = pr[(size_t)t * 11 + k] > pr[(size_t)t * 11 + b] ? k : b;
    if (b != 10 && b != prev && n < max) out[n++] = (uint8_t)b;
    prev = b;
  }
  return n;
}

/* The validation strips (from ntrain on) read by best path decoding:
 * the share read right, printed. x and pr: room for a strip's windows
 * and their probabilities. */
static void ctc_validate(dg_net *ver, const pieces *p, int ntrain, float *x, float *pr) {
  long right = 0;
  for (int i = ntrain; i < p->ns; i++) {
    const int T = strip_windows(p, i, x);
    uint8_t got[DG_NUMBER_MAX + 2];
    if (dg_net_predict(ver, x, T, pr)) { fprintf(stderr, "verifier_train: %s\n", dg_last_error()); exit(2); }
    const int g = greedy(pr, T, got, DG_NUMBER_MAX + 1);
    right += g == p->sn[i] && !memcmp(got, p->lab + p->sl[i], (size_t)g);
  }
  printf("validation strips read right %.2f%% (%d)\n",
         100.0 * right / (p->ns - ntrain > 0 ? p->ns - ntrain : 1), p->ns - ntrain);
  fflush(stdout);
}

/* --kind ctc: Adam on the CTC loss of whole strips (dg_ctc_loss, none
 * the blank), batches of about `batch` windows, cosine decay from lr;
 * strips [0, ntrain) train, the rest validate: the share read right by
 * best path decoding after each epoch. */
static void train_ctc(dg_net *ver, const pieces *p, int ntrain, int epochs, float lr,
                      int batch, uint64_t seed) {
  const int D = DG_STRIP_H * DG_WIN_W;
  int Tmax = 0;
  for (int i = 0; i < p->ns; i++) Tmax = p->sw[i] - 2 * DG_STRIP_PAD + 1 > Tmax ? p->sw[i] - 2 * DG_STRIP_PAD + 1 : Tmax;
  const int cap = batch + Tmax;
  float *x = malloc(sizeof(float) * (size_t)cap * D), *lg = malloc(sizeof(float) * 11 * (size_t)cap);
  float *dz = malloc(sizeof(float) * 11 * (size_t)cap);
  int *order = malloc(sizeof(int) * (size_t)(ntrain + 1)), *start = malloc(sizeof(int) * (size_t)(cap + 1));
  dg_optim opt;
  if (!x || !lg || !dz || !order || !start || dg_optim_init(&opt, DG_OPT_ADAM, lr, ver)) {
    fprintf(stderr, "verifier_train: out of memory\n");
    exit(2);
  }
  dg_rng rng;
  dg_rng_seed(&rng, seed);
  printf("before: ");
  ctc_validate(ver, p, ntrain, x, lg);
  for (int i = 0; i < ntrain; i++) order[i] = i;
  long steps = 0, total = 0;
  for (int i = 0; i < ntrain; i++) total += p->sw[i] - 2 * DG_STRIP_PAD + 1;
  const long all = (long)epochs * (total / batch + 1);
  for (int e = 0; e < epochs; e++) {
    for (int i = ntrain - 1; i > 0; i--) {
      const int j = (int)dg_rng_below(&rng, (uint32_t)(i + 1)), t = order[i];
      order[i] = order[j], order[j] = t;
    }
    double lsum = 0;
    long lcount = 0;
    for (int i = 0; i < ntrain;) {
      int n = 0, b = 0;
      while (i < ntrain && (n < batch || !b)) start[b++] = n, n += strip_windows(p, order[i++], x + (size_t)n * D);
      start[b] = n;
      opt.lr = (float)(1e-5 + 0.5 * (lr - 1e-5) * (1 + cos(3.14159265358979 * (double)steps++ / all)));
      if (dg_net_forward(ver, x, n, 1, &rng)) { fprintf(stderr, "verifier_train: %s\n", dg_last_error()); exit(2); }
      const float *pr = dg_net_output(ver);
      for (int r = 0; r < 11 * n; r++) lg[r] = logf(fmaxf(pr[r], 1e-30f));
      for (int q = 0; q < b; q++) {
        const int si = order[i - b + q], T = start[q + 1] - start[q];
        float loss;
        if (dg_ctc_loss(lg + (size_t)start[q] * 11, T, 11, 10, p->lab + p->sl[si], p->sn[si],
                        dz + (size_t)start[q] * 11, &loss)) {
          memset(dz + (size_t)start[q] * 11, 0, sizeof(float) * 11 * T);
          continue;
        }
        lsum += loss, lcount++;
        for (int r = start[q] * 11; r < start[q + 1] * 11; r++) dz[r] /= b;
      }
      if (dg_net_backward_grad(ver, dz)) { fprintf(stderr, "verifier_train: %s\n", dg_last_error()); exit(2); }
      dg_optim_step(&opt, ver);
    }
    printf("epoch %d: ctc loss %.4f, ", e + 1, lsum / (lcount ? lcount : 1));
    ctc_validate(ver, p, ntrain, x, lg);
  }
  dg_optim_free(&opt);
  free(x), free(lg), free(dz), free(order), free(start);
}

static int net_classify(void *user, const float *x, int n, float *probs) {
  return dg_net_predict((dg_net *)user, x, n, probs);
}

/* The pieces of count numbers composed from digits [from, from + n) of
 * train, numbered k0.. (each number a function of k and seed). */
static void collect(dg_net *net, dg_net *ver, const dg_dataset *train, int from, int n,
                    int k0, int count, uint64_t seed, pieces *p) {
  dg_dataset part = {n, train->h, train->w, train->images + (size_t)from * 784,
                     train->labels + from};
  dg_number_opts o = {.classify = net_classify, .user = net,
                      .context = p->d == 2 * 784,
                      .sink = p->d == DG_STRIP_H * DG_WIN_W ? NULL : sink, .suser = p,
                      .strip = p->ctc ? ctc_sink : p->d == DG_STRIP_H * DG_WIN_W ? strip_sink : NULL,
                      .stuser = p};
  if (dg_number_opts_verifier(&o, ver)) {
    fprintf(stderr, "verifier_train: %s\n", dg_last_error());
    exit(2);
  }
  for (int k = k0; k < k0 + count; k++) {
    number_image im;
    const int len = NUMBER_MIN_LEN + k % (NUMBER_MAX_LEN - NUMBER_MIN_LEN + 1);
    const int sp = p->d == DG_STRIP_H * DG_WIN_W && (k / 7) % 4 >= 4 - p->touching
                       ? NS_TOUCHING : (k / 7) % NS_SPACINGS;
    const int bg = (k / 21) % NB_BACKGROUNDS;
    if (number_render(&part, len, sp, bg, k, seed, &im)) {
      fprintf(stderr, "verifier_train: render failed\n");
      exit(2);
    }
    p->im = &im;
    memset(p->all, 0, sizeof p->all);
    for (size_t i = 0; i < (size_t)im.w * im.h; i++) p->all[im.owner[i]] += 1;
    dg_number num;
    if (dg_read_number_opts(im.px, im.w, im.h, im.c, &o, &num)) {
      fprintf(stderr, "verifier_train: %s\n", dg_last_error());
      exit(2);
    }
    number_free(&im);
  }
}

/* --kind piece or window: dg_train on the pieces (or windows), the
 * last p->n - ntrain of them validating. */
static int train_pieces(dg_net *ver, pieces *p, int ntrain, int epochs, float lr, int threads,
                         uint64_t seed) {
  dg_dataset set = {p->n, 28, p->d / 28, p->x, p->y};  /* 28 rows: pieces and windows */
  dg_train_opts o = dg_train_defaults();
  o.epochs = epochs;
  o.lr = lr;
  o.val_count = p->n - ntrain;
  o.seed = seed;
  o.threads = threads;
  o.cosine = 1;
  o.patience = epochs;
  if (dg_train(ver, &set, &o)) {
    fprintf(stderr, "verifier_train: %s\n", dg_last_error());
    return 2;
  }
  return 0;
}

/* The validation pieces: accuracy and how "not one digit" is told
 * apart, read in chunks (a batch of all would need gigabytes). */
static int report(dg_net *ver, const pieces *p, int ntrain) {
  const int d = p->d;
  float *pr = malloc(sizeof(float) * 11 * (size_t)(p->n - ntrain));
  if (!pr) return 2;
  for (int i = ntrain; i < p->n; i += 4096) {
    const int m = p->n - i < 4096 ? p->n - i : 4096;
    if (dg_net_predict(ver, p->x + (size_t)i * d, m, pr + (size_t)(i - ntrain) * 11)) {
      free(pr);
      return 2;
    }
  }
  long right = 0, rej_n = 0, rej_hit = 0, dig_n = 0, dig_rej = 0;
  for (int i = ntrain; i < p->n; i++) {
    const float *q = pr + (size_t)(i - ntrain) * 11;
    int best = 0;
    for (int k = 1; k < 11; k++) best = q[k] > q[best] ? k : best;
    right += best == p->y[i];
    if (p->y[i] == 10) rej_n++, rej_hit += q[10] >= 0.5f;
    else dig_n++, dig_rej += q[10] >= 0.5f;
  }
  printf("validation pieces: %.2f%% right; not one digit found %.2f%% (%ld); "
         "digits called not one %.2f%% (%ld)\n", 100.0 * right / (p->n - ntrain),
         100.0 * rej_hit / (rej_n ? rej_n : 1), rej_n, 100.0 * dig_rej / (dig_n ? dig_n : 1), dig_n);
  free(pr);
  return 0;
}

int main(int argc, char **argv) {
  const char *data = NULL, *model = NULL, *out = NULL, *arch = DEFAULT_ARCH, *prev = NULL;
  int numbers = 20000, epochs = 4, threads = 0, neg_every = 1, by_ink = 0, context = 0, window = 0;
  int ctc = 0, batch = 512, touching = 1;
  float lr = 1e-3f;
  const char *init = NULL;
  uint64_t seed = 9001;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) { fprintf(stderr, "verifier_train: %s needs a value\n", a); return 2; }
    i++;
    if (!strcmp(a, "--data")) data = v;
    else if (!strcmp(a, "--model")) model = v;
    else if (!strcmp(a, "--out")) out = v;
    else if (!strcmp(a, "--verifier")) prev = v;
    else if (!strcmp(a, "--neg-every")) neg_every = atoi(v);
    else if (!strcmp(a, "--context")) context = atoi(v);
    else if (!strcmp(a, "--kind")) {
      if (strcmp(v, "piece") && strcmp(v, "window") && strcmp(v, "ctc")) {
        fprintf(stderr, "verifier_train: --kind piece, window or ctc, not %s\n", v);
        return 2;
      }
      window = strcmp(v, "piece") != 0, ctc = !strcmp(v, "ctc");
    }
    else if (!strcmp(a, "--init")) init = v;
    else if (!strcmp(a, "--lr")) lr = (float)atof(v);
    else if (!strcmp(a, "--batch")) batch = atoi(v);
    else if (!strcmp(a, "--labels")) {
      if (strcmp(v, "box") && strcmp(v, "ink")) {
        fprintf(stderr, "verifier_train: --labels box or ink, not %s\n", v);
        return 2;
      }
      by_ink = !strcmp(v, "ink");
    }
    else if (!strcmp(a, "--arch")) arch = v;
    else if (!strcmp(a, "--numbers")) numbers = atoi(v);
    else if (!strcmp(a, "--epochs")) epochs = atoi(v);
    else if (!strcmp(a, "--threads")) threads = atoi(v);
    else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--touching")) touching = atoi(v);
    else { fprintf(stderr, "verifier_train: unknown option %s\n", a); return 2; }
  }
  if (!data || !model || !out || numbers < 10 || epochs < 1 || neg_every < 1 || batch < 1 ||
      !(lr > 0) || touching < 1 || touching > 4) {
    fprintf(stderr, "usage: verifier_train --data DIR --model FILE --out FILE "
                    "[--numbers N] [--epochs E] [--arch SPEC] [--seed S] [--threads T] "
                    "[--verifier FILE] [--neg-every K] [--labels box|ink] [--context 0|1] "
                    "[--kind piece|window|ctc] [--init FILE] [--lr X] [--batch N] [--touching Q]\n");
    return 2;
  }
  dg_dataset train;
  dg_net *net = NULL, *ver = NULL, *old = NULL;
  if (dg_dataset_load(&train, data, "train") || dg_model_load(&net, model, NULL, NULL) ||
      (prev && dg_model_load(&old, prev, NULL, NULL)) ||
      (init ? dg_model_load(&ver, init, NULL, NULL) : dg_net_new(&ver, arch, seed))) {
    fprintf(stderr, "verifier_train: %s\n", dg_last_error());
    return 2;
  }
  const int d = window ? DG_STRIP_H * DG_WIN_W : context ? 2 * 784 : 784;
  if (dg_net_output_size(ver) != 11 || dg_net_input_size(ver) != d) {
    fprintf(stderr, "verifier_train: the architecture takes %d inputs and gives %d outputs, "
            "not %d and 11\n", dg_net_input_size(ver), dg_net_output_size(ver), d);
    return 2;
  }
  pieces p = {.neg_every = neg_every, .by_ink = by_ink, .d = d, .ctc = ctc, .touching = touching};
  const int nval = numbers / 10;
  collect(net, old, &train, 0, 50000, 0, numbers, seed, &p);
  const int ntrain = ctc ? p.ns : p.n;
  collect(net, old, &train, 50000, 10000, numbers, nval, seed, &p);
  if (ctc) {
    printf("strips: %d from %d numbers (%d train, %d validation), %d left out; %d digits\n",
           p.ns, numbers + nval, ntrain, p.ns - ntrain, p.skipped, p.nlab);
    fflush(stdout);
    dg_net_set_threads(ver, threads);
    train_ctc(ver, &p, ntrain, epochs, lr, batch, seed);
  } else {
    long per[11] = {0};
    for (int i = 0; i < p.n; i++) per[p.y[i]]++;
    printf("pieces: %d from %d numbers (%d train, %d validation), %d left out; "
           "not one digit %ld\n", p.n, numbers + nval, ntrain, p.n - ntrain, p.skipped, per[10]);
    fflush(stdout);
    if (train_pieces(ver, &p, ntrain, epochs, lr, threads, seed)) return 2;
  }
  if (dg_model_save(ver, out, NULL, 0)) {
    fprintf(stderr, "verifier_train: %s\n", dg_last_error());
    return 2;
  }
  printf("saved %s\n", out);
  fflush(stdout);
  if (!ctc && report(ver, &p, ntrain)) return 2;
  for (int i = 0; i < p.ns; i++) free(p.sx[i]);
  free(p.sx), free(p.sw), free(p.sl), free(p.sn), free(p.lab);
  free(p.x), free(p.y);
  dg_net_free(ver), dg_net_free(net), dg_net_free(old);
  dg_dataset_free(&train);
  return 0;
}
