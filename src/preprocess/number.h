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
} dg_number_opts;

int dg_read_number_opts(const uint8_t *pixels, int width, int height,
                        int channels, const dg_number_opts *o, dg_number *out);

#endif
