/* number.h: the number reader's inside view (number.c), for the tool that
 * trains its verifier (tests/numbers/verifier_train.c) and for the ways
 * in (dg_read_number, dg_read_number_ex). Not part of digits.h's API. */
#ifndef DG_NUMBER_H
#define DG_NUMBER_H

#include "digits.h"

/* A candidate's ink as the reader cut it: map (h, w) of ink 0..1 whose
 * pixel (u, v) covers the source image's pixels from (ox + (x0 + u) f,
 * oy + (y0 + v) f), f x f of them. */
typedef struct {
  const float *map;
  int x0, y0, w, h;
  int f, ox, oy;
  /* all the ink around it in its input's frame (784; NULL unless the
   * verifier takes it or opts.context asks) */
  const float *context;
} dg_number_ink;

/* Every candidate digit the reader reads: its MNIST-style input (784
 * floats), its ink's box in the source image's pixels (x, y, w, h) and
 * that ink. */
typedef void (*dg_number_sink_fn)(void *user, const float *x, const int box[4],
                                  const dg_number_ink *ink);

/* A wide group's strip (the window reader's view): its ink alone, the
 * slant taken out, DG_STRIP_DIGIT px per the group's height, DG_STRIP_H
 * rows, DG_STRIP_PAD empty columns each side: px (DG_STRIP_H, w). Its
 * windows are DG_STRIP_H x DG_WIN_W columns of it, centred every column
 * from DG_STRIP_PAD to w - DG_STRIP_PAD. dg_number_strip_u maps a point of
 * the source image into it. */
#define DG_STRIP_H DG_NUMBER_WIN_H
#define DG_STRIP_DIGIT 20
#define DG_STRIP_PAD 18
#define DG_WIN_W DG_NUMBER_WIN_W
typedef struct {
  const float *px;
  int w;
  double k, lo, yc, s;        /* work x = lo + (u - PAD) / k + s (y - yc) */
  int f, ox, oy;              /* work pixel (x, y): source (ox + x f, oy + y f) */
  const uint8_t *mask;        /* (mh, mw) at work (mx, my): the group's ink */
  int mx, my, mw, mh;
} dg_number_strip;
typedef void (*dg_number_strip_fn)(void *user, const dg_number_strip *s);

/* The strip column of source point (sx, sy) into *u; 1 when the point is
 * the group's ink. */
int dg_number_strip_u(const dg_number_strip *s, double sx, double sy, double *u);
/* Window t of a strip px (DG_STRIP_H, w), centred on column
 * DG_STRIP_PAD + t, into out (DG_STRIP_H x DG_WIN_W). */
void dg_number_strip_window(const float *px, int w, int t, float *out);

typedef struct {
  dg_classify_fn classify;  /* the digits' network: (n, 784) -> (n, 10) */
  void *user;
  /* optional: a verifier (n, 784) -> (n, 11), its last class "not one
   * digit" (two touching digits, a part of one, a neighbour's piece);
   * with verify_context, (n, 1568): 28x28x2, each pixel the candidate's
   * input then all the ink there (its neighbours' too) */
  dg_classify_fn verify;
  void *vuser;
  int verify_context;
  int context;              /* the sink gets the context too */
  dg_number_sink_fn sink;   /* optional */
  void *suser;
  /* optional: the window reader (n, DG_STRIP_H x DG_WIN_W) -> (n, 11):
   * the digit centred in a window of a wide group's strip, or none (class
   * 10); with it, a group at least WIN_RATIO x its height wide is read
   * by its windows, not cut */
  dg_classify_fn window;
  void *wuser;
  /* optional: the window reader of the probes (one window: is a group
   * the digit the network reads it as); NULL: window */
  dg_classify_fn probe;
  void *puser;
  dg_number_strip_fn strip; /* optional: every strip of a group at least
                             * STRIP_RATIO x its height wide */
  void *stuser;
} dg_number_opts;

/* The verifier's part of o by its kind (dg_read_number_verified): verify
 * for one of 784 or 1568 inputs, window for one of DG_STRIP_H x DG_WIN_W;
 * NULL: neither. DG_ERR_ARG for a network of other sizes. */
int dg_number_opts_verifier(dg_number_opts *o, dg_net *verifier);

/* The same for n verifiers (dg_read_number_readers): one as above; two
 * or more (at most DG_NUMBER_MAX_VERIFIERS) must all be window readers:
 * window averages their probabilities (through *avg, which must outlive
 * o), the probes read with the first alone. */
typedef struct {
  dg_net *const *nets;
  int n;
} dg_number_avg;
int dg_number_opts_verifiers(dg_number_opts *o, dg_net *const *verifiers, int n,
                             dg_number_avg *avg);

/* A candidate's input x and its context ctx (784 each) as the verifier of
 * 28x28x2 takes them: out (1568), each pixel x then ctx. */
void dg_number_two_channels(const float *x, const float *ctx, float *out);

int dg_read_number_opts(const uint8_t *pixels, int width, int height,
                        int channels, const dg_number_opts *o, dg_number *out);

#endif
