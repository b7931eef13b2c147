/* test_number.c: dg_read_number's segmentation golden tests (issue 23):
 * an empty image, a lone digit read exactly as predict reads it, left to
 * right order at varied baselines, a digit in two pieces, a touching pair
 * split, a touching pair cut inside a three-digit number, a 5's flag apart
 * joining its 5, a slanted "1" beside a slanted digit kept apart, and bad
 * arguments; with the shipped verifier
 * (models/verifier.safetensors): lone digits still exactly as predict,
 * touching pairs that overlap more (the network alone reads "66" as 6,
 * "94" as 4) read right, and a network of 10 outputs refused as verifier.
 * Digits are MNIST test digits scaled 3x (gray, dark ink on white), read
 * by the shipped default model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "harness.h"
#include "number_lib.h"
#include "preprocess/number.h"

#define S 3  /* scale of each MNIST digit */

static dg_dataset t10k;
static dg_net *net, *verifier, *verifier2, *verifier3;

static int net_classify(void *user, const float *x, int n, float *probs) {
  return dg_net_predict((dg_net *)user, x, n, probs);
}

/* A white gray image w x h. */
static uint8_t *blank(int w, int h) {
  uint8_t *px = malloc((size_t)w * h);
  memset(px, 255, (size_t)w * h);
  return px;
}

/* t10k digit idx drawn 3x at (x, y), darkening (min) what is there; rows
 * [cut0, cut1) of the source left out (cut0 = cut1: none). */
static void put(uint8_t *px, int w, int idx, int x, int y, int cut0, int cut1) {
  const float *img = t10k.images + (size_t)idx * 784;
  for (int v = 0; v < 28 * S; v++)
    for (int u = 0; u < 28 * S; u++) {
      if (v / S >= cut0 && v / S < cut1) continue;
      int g = 255 - (int)(img[(v / S) * 28 + u / S] * 255 + 0.5f);
      uint8_t *p = &px[(size_t)(y + v) * w + x + u];
      if (g < *p) *p = (uint8_t)g;
    }
}

/* The first t10k index of label d at or after `from`. */
static int find(int d, int from) {
  for (int i = from; i < t10k.n; i++)
    if (t10k.labels[i] == d) return i;
  return 0;
}

/* Read px (w x h gray, then freed) into *num and check its text. */
static void check_reads(uint8_t *px, int w, int h, const char *text, dg_number *num) {
  CHECK_OK(dg_read_number(net, px, w, h, 1, num));
  CHECK_MSG(strcmp(num->text, text) == 0, "read \"%s\", expected \"%s\"", num->text, text);
  free(px);
}

static void test_empty(void) {
  uint8_t *px = blank(300, 120);
  dg_number num;
  CHECK_OK(dg_read_number(net, px, 300, 120, 1, &num));
  CHECK(num.n == 0 && num.text[0] == '\0' && num.confidence == 0);
  free(px);
}

/* Each digit alone reads exactly as predict reads it, with verifier (or
 * none: NULL). */
static void check_lone_digits(dg_net *ver, int from) {
  const int w = 200, h = 140;
  for (int d = 0; d < 10; d++) {
    uint8_t *px = blank(w, h);
    put(px, w, find(d, from), 40 + d * 5, 20, 0, 0);
    float x[784], probs[10];
    dg_number num;
    CHECK_OK(dg_preprocess(px, w, h, 1, x));
    CHECK_OK(dg_net_predict(net, x, 1, probs));
    CHECK_OK(dg_read_number_verified(px, w, h, 1, net_classify, net, ver, &num));
    CHECK(num.n == 1);
    CHECK(memcmp(num.digits[0].probs, probs, sizeof probs) == 0);
    CHECK(num.confidence == num.digits[0].confidence);
    free(px);
  }
}

static void test_lone_digit_unchanged(void) {
  check_lone_digits(NULL, 0);
  /* and through dg_read_number itself */
  uint8_t *px = blank(200, 140);
  put(px, 200, find(3, 0), 50, 20, 0, 0);
  dg_number a, b;
  CHECK_OK(dg_read_number(net, px, 200, 140, 1, &a));
  CHECK_OK(dg_read_number_verified(px, 200, 140, 1, net_classify, net, NULL, &b));
  CHECK(a.n == 1 && b.n == 1 && memcmp(a.digits[0].probs, b.digits[0].probs, sizeof a.digits[0].probs) == 0);
  free(px);
}

static void test_order(void) {
  /* 3 0 7 5 drawn out of order, on baselines 0..12 px apart */
  const int w = 460, h = 130, labels[4] = {3, 0, 7, 5}, order[4] = {2, 0, 3, 1};
  uint8_t *px = blank(w, h);
  for (int k = 0; k < 4; k++) {
    int i = order[k];
    put(px, w, find(labels[i], 100), 10 + i * 105, 10 + (i * 7) % 13, 0, 0);
  }
  dg_number num;
  CHECK_OK(dg_read_number(net, px, w, h, 1, &num));
  CHECK_MSG(strcmp(num.text, "3075") == 0, "read \"%s\"", num.text);
  for (int i = 1; i < num.n; i++) CHECK(num.digits[i].box[0] > num.digits[i - 1].box[0]);
  float weakest = 1;
  for (int i = 0; i < num.n; i++)
    weakest = num.digits[i].confidence < weakest ? num.digits[i].confidence : weakest;
  CHECK(num.confidence == weakest);
  /* boxes in the image's pixels: each digit's box inside its own slot */
  for (int i = 0; i < num.n; i++)
    CHECK(num.digits[i].box[0] >= 10 + i * 105 && num.digits[i].box[0] + num.digits[i].box[2] <= 10 + i * 105 + 84);
  free(px);
}

static void test_merged_pieces(void) {
  /* a 4 cut into two pieces (source rows 14-15 left out) beside a 1 */
  const int w = 260, h = 120;
  uint8_t *px = blank(w, h);
  put(px, w, find(4, 0), 10, 10, 14, 16);
  put(px, w, find(1, 0), 130, 10, 0, 0);
  dg_number num;
  check_reads(px, w, h, "41", &num);
  CHECK(num.split == 0);
}

/* Number k of the set (number_lib.c: length, spacing, background, seed)
 * is text and reads as text, with verifier ver (NULL: none). */
static void check_set_n(int len, int sp, int bg, int k, uint64_t seed, dg_net *const *ver,
                        int nver, const char *text, const char *read) {
  number_image im;
  CHECK_OK(number_render(&t10k, len, sp, bg, k, seed, &im));
  CHECK(strcmp(im.text, text) == 0);
  dg_number num;
  CHECK_OK(dg_read_number_readers(im.px, im.w, im.h, im.c, net_classify, net, ver, nver, &num));
  CHECK_MSG(strcmp(num.text, read) == 0, "read \"%s\", expected \"%s\"", num.text, read);
  number_free(&im);
}
static void check_set(int len, int sp, int bg, int k, uint64_t seed, dg_net *ver,
                      const char *text) {
  check_set_n(len, sp, bg, k, seed, ver ? &ver : NULL, ver ? 1 : 0, text, text);
}

static void test_slanted_ones(void) {
  /* tightly spaced numbers of the set (number_lib.c, seed 5) where a
   * slanted "1" stands a few pixels from a slanted neighbour: its box
   * lies nearly all within the neighbour's, but with the slant taken out
   * they are apart, so the 1 is a digit of its own (by boxes alone
   * these read "6", "29", "5910") */
  const struct { int len, k; const char *text; } cases[] = {
      {2, 87, "16"}, {3, 103, "251"}, {5, 20, "59110"}};
  for (int i = 0; i < 3; i++)
    check_set(cases[i].len, NS_TIGHT, NB_CANVAS, cases[i].k, 5, NULL, cases[i].text);
}

static void test_touching_pair(void) {
  /* a 2 and a 6 whose strokes overlap: one component, split in two */
  const int w = 220, h = 120;
  uint8_t *px = blank(w, h);
  put(px, w, find(2, 0), 10, 10, 0, 0);
  put(px, w, find(6, 0), 10 + 20 * S, 10, 0, 0);
  dg_number num;
  check_reads(px, w, h, "26", &num);
  CHECK(num.split == 1);
}

static void test_touching_three(void) {
  /* 2 0 7 placed 16 source columns (48 px) apart: strokes touch, so a
   * touching pair is cut inside a three-digit number; left to right */
  const int w = 260, h = 120, labels[3] = {2, 0, 7};
  uint8_t *px = blank(w, h);
  for (int i = 0; i < 3; i++) put(px, w, find(labels[i], 0), 10 + i * 16 * S, 10, 0, 0);
  dg_number num;
  check_reads(px, w, h, "207", &num);
  CHECK_MSG(num.split >= 1, "split %d", num.split);
  for (int i = 1; i < num.n; i++)
    CHECK(num.digits[i].box[0] + num.digits[i].box[2] > num.digits[i - 1].box[0] + num.digits[i - 1].box[2]);
}

static void test_flag_apart(void) {
  /* a 5 whose flag (source rows up to 8) stands apart, beside a 2: the
   * flag joins its 5, not read as a digit of its own */
  const int w = 260, h = 140, i5 = find(5, 0);
  uint8_t *px = blank(w, h);
  put(px, w, i5, 10, 30, 0, 9);   /* the 5 without its top rows */
  put(px, w, i5, 10 + 2 * S, 30 - 4 * S, 9, 28);  /* the top rows, apart */
  put(px, w, find(2, 0), 130, 30, 0, 0);
  dg_number num;
  check_reads(px, w, h, "52", &num);
  CHECK(num.split == 0);
}

static void test_verifier_lone_digit(void) { check_lone_digits(verifier, 100); }

static void test_verifier_touching(void) {
  /* pairs placed `off` source columns apart (3x): strokes overlap */
  const struct { int a, b, off; const char *text; } c[] = {
    {6, 6, 14, "66"}, {6, 6, 15, "66"}, {9, 4, 12, "94"}, {3, 8, 13, "38"}, {2, 3, 15, "23"}};
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    const int w = 220, h = 120;
    uint8_t *px = blank(w, h);
    put(px, w, find(c[i].a, 0), 10, 10, 0, 0);
    put(px, w, find(c[i].b, 1), 10 + c[i].off * S, 10, 0, 0);
    dg_number num;
    CHECK_OK(dg_read_number_verified(px, w, h, 1, net_classify, net, verifier, &num));
    CHECK_MSG(strcmp(num.text, c[i].text) == 0, "%d%d at %d: read \"%s\"", c[i].a, c[i].b,
              c[i].off, num.text);
    free(px);
  }
}

static void test_window_narrow_pairs(void) {
  /* touching pairs of the set (number_lib.c, seed 101) narrower than 0.9x
   * their height, or read by the network surely as one digit (a "66" as
   * a 6 at 0.997, a "15" as a 5): the window centred on their ink does
   * not read that digit, so all their windows are read */
  const struct { int bg, k; const char *text; } c[] = {
      {NB_CANVAS, 3, "66"}, {NB_CANVAS, 11, "61"}, {NB_CANVAS, 26, "19"},
      {NB_PHOTO, 6, "15"},  {NB_PHOTO, 17, "19"},  {NB_PHOTO, 24, "49"}};
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
    check_set(2, NS_TOUCHING, c[i].bg, c[i].k, 101, verifier, c[i].text);
}

static void test_window_digit_once(void) {
  /* spaced numbers of the set (seed 5) with a wide digit whose windows
   * read as two digits side by side ("55599" for the 9 of "609", "556666"
   * for the last 6 of "656"): two digits have a window of none between
   * them */
  const struct { int len, k; const char *text; } c[] = {{3, 79, "609"}, {3, 87, "656"}};
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
    check_set(c[i].len, NS_ORDINARY, NB_CANVAS, c[i].k, 5, verifier, c[i].text);
}

static void test_photo_not_a_box(void) {
  /* a tight "1777" on photo paper (number_lib.c, seed 101): the 1, the
   * 7s' bars and the last 7's stem lie along three sides of its box, and
   * were erased as a box drawn around a digit ("71") */
  check_set(4, NS_TIGHT, NB_PHOTO, 28, 101, NULL, "1777");
}

static void test_loose_ink(void) {
  /* MNIST test digit 6597, a 0 whose left side is faint dots and dashes,
   * in an ordinary "9301" (number_lib.c, seed 23): without the faint ink
   * and specks inside its box (add_loose_ink) it reads as a 7 ("9371") */
  check_set(4, NS_ORDINARY, NB_CANVAS, 44, 23, verifier, "9301");
  check_set(6, NS_ORDINARY, NB_CANVAS, 18, 23, verifier, "838360");
}

static void test_window_keeps_fragment(void) {
  /* MNIST test digit 9702, a 5 whose flag is a piece apart reaching over
   * the next digit, in an ordinary "24759" (number_lib.c, seed 23): the
   * cuts read the body and the flag as a 5; the windows read the body
   * alone as one digit and their reading of it, a 3, took the flag's
   * place ("24739") */
  check_set(5, NS_ORDINARY, NB_CANVAS, 0, 23, verifier, "24759");
}

static void test_window_min_run(void) {
  /* a window of a stray digit between two (touching "861", number_lib.c
   * seed 101: ..88888...1.66666....11111.. read "8161") or after the last
   * ("464": ...444444....1.... read "4641"): a digit's run lasts at least
   * WIN_RUN windows */
  check_set(3, NS_TOUCHING, NB_CANVAS, 39, 101, verifier, "861");
  check_set(3, NS_TOUCHING, NB_CANVAS, 5, 101, verifier, "464");
}

static void test_window_probe(void) {
  /* touching pairs whose 1 the probe window missed: the window of the
   * pair's own 28x28 input read "41" as a 4 and "71" as a 7 at 0.99 or
   * more, so their windows were not read (number_lib.c seed 5) */
  check_set(2, NS_TOUCHING, NB_PHOTO, 81, 5, verifier, "41");
  check_set(2, NS_TOUCHING, NB_PHOTO, 99, 5, verifier, "71");
}

/* "417" (26 source px apart) with a pen-thick line (6 px) under it:
 * touching the digits, 6 px below them, across the whole image, and a
 * box drawn around instead. The line joined every digit into one piece
 * (read "4" or "11"); the box rule still takes the box. */
static void test_rule_under(void) {
  const int w = 2 * 26 * S + 28 * S + 40, h = 28 * S + 40;
  const int idx[3] = {find(4, 0), find(1, 0), find(7, 0)};
  dg_net *all[3] = {verifier, verifier2, verifier3};
  for (int k = 0; k < 4; k++) {
    uint8_t *px = blank(w, h);
    for (int i = 0; i < 3; i++) put(px, w, idx[i], 20 + i * 26 * S, 12, 0, 0);
    const int y0 = k == 1 ? 12 + 26 * S : 12 + 24 * S, x0 = k == 2 ? 0 : 14,
              x1 = k == 2 ? w : w - 14;
    if (k < 3)
      for (int y = y0; y < y0 + 2 * S; y++)
        for (int x = x0; x < x1; x++) px[(size_t)y * w + x] = 20;
    else
      for (int y = 4; y < h - 4; y++)
        for (int x = 4; x < w - 4; x++)
          if (y < 10 || y >= h - 10 || x < 10 || x >= w - 10) px[(size_t)y * w + x] = 20;
    dg_number num;
    CHECK_OK(dg_read_number_readers(px, w, h, 1, net_classify, net, all, 3, &num));
    CHECK_MSG(strcmp(num.text, "417") == 0, "case %d read \"%s\"", k, num.text);
    free(px);
  }
}

static void test_window_readers_averaged(void) {
  /* touching numbers (number_lib.c seed 101) the first shipped window
   * reader alone misreads ("01" read "001", "1884" read "884", "4473" read
   * "4423") and the first two, and all three, read right, their windows'
   * probabilities averaged */
  const struct { int len, k; const char *text, *alone; } cases[] = {
      {2, 23, "01", "001"}, {4, 20, "1884", "884"}, {4, 29, "4473", "4423"}};
  dg_net *all[3] = {verifier, verifier2, verifier3};
  for (int i = 0; i < 3; i++) {
    const int len = cases[i].len, k = cases[i].k;
    const char *text = cases[i].text;
    check_set_n(len, NS_TOUCHING, NB_CANVAS, k, 101, all, 1, text, cases[i].alone);
    check_set_n(len, NS_TOUCHING, NB_CANVAS, k, 101, all, 2, text, text);
    check_set_n(len, NS_TOUCHING, NB_CANVAS, k, 101, all, 3, text, text);
  }
}

/* Verifiers of pieces (784 inputs, or 1568: the piece and the ink around
 * it), here untrained (random weights): lone digits still read exactly as
 * predict, and a touching pair reads without error as one to three
 * digits. */
static void test_piece_verifiers(void) {
  const char *arch[2] = {"input 28 28 1; flatten; dense 11; softmax",
                         "input 28 28 2; conv 4 5 valid; relu; flatten; dense 11; softmax"};
  for (int k = 0; k < 2; k++) {
    dg_net *ver;
    CHECK_OK(dg_net_new(&ver, arch[k], 7 + k));
    check_lone_digits(ver, 300);
    const int w = 220, h = 120;
    uint8_t *px = blank(w, h);
    put(px, w, find(6, 0), 10, 10, 0, 0);
    put(px, w, find(6, 1), 10 + 14 * S, 10, 0, 0);
    dg_number num;
    CHECK_OK(dg_read_number_verified(px, w, h, 1, net_classify, net, ver, &num));
    CHECK_MSG(num.n >= 1 && num.n <= 3, "%d digits", num.n);
    free(px);
    dg_net_free(ver);
  }
}

static void test_verifier_refused(void) {
  dg_number num;
  uint8_t *px = blank(40, 40);
  CHECK_FAIL(dg_read_number_verified(px, 40, 40, 1, net_classify, net, net, &num), DG_ERR_ARG,
             "11 outputs");
  /* averaged: window readers only, at most DG_NUMBER_MAX_VERIFIERS */
  dg_net *piece;
  CHECK_OK(dg_net_new(&piece, "input 28 28 1; flatten; dense 11; softmax", 3));
  dg_net *mixed[2] = {verifier, piece}, *five[5] = {verifier, verifier, verifier, verifier,
                                                    verifier};
  CHECK_FAIL(dg_read_number_readers(px, 40, 40, 1, net_classify, net, mixed, 2, &num),
             DG_ERR_ARG, "verifier 2 is not");
  mixed[0] = piece, mixed[1] = verifier;
  CHECK_FAIL(dg_read_number_readers(px, 40, 40, 1, net_classify, net, mixed, 2, &num),
             DG_ERR_ARG, "verifier 1 is not");
  CHECK_FAIL(dg_read_number_readers(px, 40, 40, 1, net_classify, net, five, 5, &num),
             DG_ERR_ARG, "not 5");
  CHECK_FAIL(dg_read_number_readers(px, 40, 40, 1, net_classify, net, NULL, 2, &num),
             DG_ERR_ARG, "verifiers");
  dg_net_free(piece);
  free(px);
}

/* A strip as the window reader sees it (dg_number_strip), copied by
 * strip_sink with the centre of its ink and, through dg_number_strip_u,
 * the mean strip column of the source pixels of ink. */
typedef struct {
  const uint8_t *px;
  int w, h, n;
  float strip[DG_STRIP_H * 200];
  int sw;
  double slant, ink_u, map_u;
  int rows[2];
} strip_seen;

static void strip_sink(void *user, const dg_number_strip *s) {
  strip_seen *q = user;
  q->n++;
  if (s->w > 200) return;
  q->sw = s->w, q->slant = s->s;
  memcpy(q->strip, s->px, sizeof(float) * DG_STRIP_H * s->w);
  double m = 0, mu = 0;
  q->rows[0] = DG_STRIP_H, q->rows[1] = -1;
  for (int v = 0; v < DG_STRIP_H; v++)
    for (int u = 0; u < s->w; u++) {
      const float a = s->px[v * s->w + u];
      m += a, mu += a * (u + 0.5);
      if (a > 0.2f) q->rows[0] = v < q->rows[0] ? v : q->rows[0], q->rows[1] = v > q->rows[1] ? v : q->rows[1];
    }
  q->ink_u = mu / m;
  double n = 0, su = 0;
  for (int y = 0; y < q->h; y++)
    for (int x = 0; x < q->w; x++) {
      const double a = (255 - q->px[y * q->w + x]) / 255.0;
      double u;
      if (a < 0.3 || !dg_number_strip_u(s, x + 0.5, y + 0.5, &u)) continue;
      n += a, su += a * u;
    }
  q->map_u = su / n;
}

/* Two touching 0s, upright and sheared by `shear` (x moves right by shear
 * per row up): their group's strip is DG_STRIP_DIGIT rows of ink centred
 * in DG_STRIP_H, DG_STRIP_PAD empty columns each side, its ink where
 * dg_number_strip_u puts the source's ink, and the slant taken out: the
 * sheared strip is the upright one. */
static void draw_pair(uint8_t *px, int w, double shear) {
  const int a = find(0, 0), b = find(0, a + 1);
  for (int k = 0; k < 2; k++) {
    const float *img = t10k.images + (size_t)(k ? b : a) * 784;
    for (int v = 0; v < 28 * S; v++)
      for (int u = 0; u < 28 * S; u++) {
        const int x = 30 + k * 16 * S + u + (int)floor(shear * (42 - v) + 0.5), y = 20 + v;
        const int g = 255 - (int)(img[(v / S) * 28 + u / S] * 255 + 0.5f);
        if (x >= 0 && x < w && g < px[y * w + x]) px[y * w + x] = (uint8_t)g;
      }
  }
}

static void test_strip(void) {
  const int w = 260, h = 130;
  static strip_seen seen[2];
  for (int k = 0; k < 2; k++) {
    uint8_t *px = blank(w, h);
    draw_pair(px, w, k ? 0.3 : 0);
    strip_seen *q = &seen[k];
    q->px = px, q->w = w, q->h = h;
    const dg_number_opts o = {.classify = net_classify, .user = net, .strip = strip_sink, .stuser = q};
    dg_number num;
    CHECK_OK(dg_read_number_opts(px, w, h, 1, &o, &num));
    CHECK_MSG(q->n == 1 && q->sw > 0, "%d strips, %d wide", q->n, q->sw);
    if (q->sw <= 0) { free(px); return; }
    /* ink rows: the digits' height, centred */
    const int top = (DG_STRIP_H - DG_STRIP_DIGIT) / 2;
    CHECK_MSG(abs(q->rows[0] - top) <= 1 && abs(q->rows[1] - (top + DG_STRIP_DIGIT - 1)) <= 1,
              "ink rows %d-%d", q->rows[0], q->rows[1]);
    for (int v = 0; v < DG_STRIP_H; v++)
      for (int u = 0; u < DG_STRIP_PAD - 1; u++)
        CHECK(q->strip[v * q->sw + u] == 0 && q->strip[v * q->sw + q->sw - 1 - u] == 0);
    CHECK_MSG(fabs(q->ink_u - q->map_u) < 1.0, "strip ink at %.2f, source ink maps to %.2f",
              q->ink_u, q->map_u);
    free(px);
  }
  /* slant: x per row down; the shear leans the pair right, x -0.3 per row
   * down (group_slant, pooled over windows of the two 0s, sees -0.2 of it) */
  const double ds = seen[1].slant - seen[0].slant;
  CHECK_MSG(ds < -0.15 && ds > -0.4, "slants %.3f %.3f", seen[0].slant, seen[1].slant);
  CHECK_MSG(abs(seen[0].sw - seen[1].sw) <= 2, "widths %d %d", seen[0].sw, seen[1].sw);
  /* the sheared pair's strip is the upright one's (aligned on their ink) */
  const int d = (int)floor(seen[1].ink_u - seen[0].ink_u + 0.5);
  double dot = 0, n0 = 0, n1 = 0;
  for (int v = 0; v < DG_STRIP_H; v++)
    for (int u = 0; u < seen[0].sw; u++) {
      const int u1 = u + d;
      const double a = seen[0].strip[v * seen[0].sw + u];
      const double b = u1 >= 0 && u1 < seen[1].sw ? seen[1].strip[v * seen[1].sw + u1] : 0;
      dot += a * b, n0 += a * a, n1 += b * b;
    }
  CHECK_MSG(dot / sqrt(n0 * n1) > 0.9, "upright and sheared strips correlate %.3f",
            dot / sqrt(n0 * n1));
}

/* Wavy lines far wider than a number (60x as wide as high: past WIN_MAX,
 * not read by windows) and 19x (read by them): read with the shipped
 * verifier (a window reader) without error, at most DG_NUMBER_MAX
 * digits. */
static void test_verifier_scribble(void) {
  const int w = 1900, h = 90;
  for (int k = 0; k < 2; k++) {
    uint8_t *px = blank(w, h);
    const int amp = k ? 28 : 14, x1 = k ? 60 + 20 * 2 * amp : w - 40;
    for (int x = 40; x < x1; x++) {
      const int y = 45 + (int)(amp * sin(x / 9.0));
      for (int dy = -2; dy <= 2; dy++) px[(y + dy) * w + x] = 0;
    }
    dg_number num;
    CHECK_OK(dg_read_number_verified(px, w, h, 1, net_classify, net, verifier, &num));
    CHECK(num.n <= DG_NUMBER_MAX && strlen(num.text) == (size_t)num.n);
    free(px);
  }
}

static void test_bad_args(void) {
  dg_number num;
  uint8_t px[4] = {0};
  CHECK_FAIL(dg_read_number(net, NULL, 2, 2, 1, &num), DG_ERR_ARG, "number");
  CHECK_FAIL(dg_read_number(net, px, 2, 2, 5, &num), DG_ERR_ARG, "channels");
  CHECK_FAIL(dg_read_number(net, px, 0, 2, 1, &num), DG_ERR_ARG, "0x2");
  CHECK_FAIL(dg_read_number(NULL, px, 2, 2, 1, &num), DG_ERR_ARG, "null");
}

int main(void) {
  const char *data = dg_test_mnist();
  const char *model = getenv("DIGITS_MODEL");
  if (!model) model = dg_test_path("DIGITS_SRC", "models/default.safetensors");
  const char *ver = dg_test_path("DIGITS_SRC", "models/verifier.safetensors");
  const char *ver2 = dg_test_path("DIGITS_SRC", "models/verifier2.safetensors");
  const char *ver3 = dg_test_path("DIGITS_SRC", "models/verifier3.safetensors");
  if (!data || dg_dataset_load(&t10k, data, "t10k") != DG_OK ||
      dg_model_load(&net, model, NULL, NULL) != DG_OK ||
      dg_model_load(&verifier, ver, NULL, NULL) != DG_OK ||
      dg_model_load(&verifier2, ver2, NULL, NULL) != DG_OK ||
      dg_model_load(&verifier3, ver3, NULL, NULL) != DG_OK) {
    fprintf(stderr, "test_number: needs MNIST and %s: %s\n", model, dg_last_error());
    return 1;
  }
  RUN(test_empty);
  RUN(test_lone_digit_unchanged);
  RUN(test_order);
  RUN(test_merged_pieces);
  RUN(test_slanted_ones);
  RUN(test_touching_pair);
  RUN(test_touching_three);
  RUN(test_flag_apart);
  RUN(test_verifier_lone_digit);
  RUN(test_verifier_touching);
  RUN(test_window_narrow_pairs);
  RUN(test_window_digit_once);
  RUN(test_photo_not_a_box);
  RUN(test_loose_ink);
  RUN(test_window_keeps_fragment);
  RUN(test_window_min_run);
  RUN(test_window_probe);
  RUN(test_window_readers_averaged);
  RUN(test_rule_under);
  RUN(test_piece_verifiers);
  RUN(test_verifier_refused);
  RUN(test_strip);
  RUN(test_verifier_scribble);
  RUN(test_bad_args);
  dg_net_free(net);
  dg_net_free(verifier);
  dg_net_free(verifier2);
  dg_net_free(verifier3);
  dg_dataset_free(&t10k);
  return dg_test_finish();
}
