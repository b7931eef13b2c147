/* number.h: the number reader's inside view (number.c), for the tool that
 * trains its verifier (tests/numbers/verifier_train.c) and for the ways
 * in (dg_read_number, dg_read_number_ex). Not part of digits.h's API. */
#ifndef DG_NUMBER_H
#define DG_NUMBER_H

#include "digits.h"

/* Every candidate digit the reader reads: its MNIST-style input (784
 * floats) and its ink's box in the source image's pixels (x, y, w, h). */
typedef void (*dg_number_sink_fn)(void *user, const float *x, const int box[4]);

typedef struct {
  dg_classify_fn classify;  /* the digits' network: (n, 784) -> (n, 10) */
  void *user;
  /* optional: a verifier (n, 784) -> (n, 11), its last class "not one
   * digit" (two touching digits, a part of one, a neighbour's piece) */
  dg_classify_fn verify;
  void *vuser;
  dg_number_sink_fn sink;   /* optional */
  void *suser;
} dg_number_opts;

int dg_read_number_opts(const uint8_t *pixels, int width, int height,
                        int channels, const dg_number_opts *o, dg_number *out);

#endif
