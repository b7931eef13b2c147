/* number_lib.h: the number test set (issue 23, docs/numbers.md): numbers
 * of 2-8 digits composed from MNIST TEST digits (t10k only), each image a
 * pure function of (length, spacing, background, k, seed). */
#ifndef NUMBER_LIB_H
#define NUMBER_LIB_H

#include <stdint.h>

#include "digits.h"

enum { NS_ORDINARY = 0, NS_TIGHT = 1, NS_TOUCHING = 2, NS_SPACINGS = 3 };
enum { NB_CANVAS = 0, NB_PHOTO = 1, NB_BACKGROUNDS = 2 };
#define NUMBER_MIN_LEN 2
#define NUMBER_MAX_LEN 8

extern const char *const number_spacing_names[NS_SPACINGS];
extern const char *const number_background_names[NB_BACKGROUNDS];

/* One rendered number: RGBA pixels (canvas) or RGB (photo). */
typedef struct {
  uint8_t *px;          /* (h, w, c) number_free() */
  uint8_t *owner;       /* (h, w) the digit whose ink is strongest there
                         * (index + 1; 0: under 0.3 of ink) */
  int w, h, c;
  int len;
  char text[NUMBER_MAX_LEN + 1];
  int src[NUMBER_MAX_LEN];   /* t10k indices */
  int box[NUMBER_MAX_LEN][4];
} number_image;

/* Render number k of (len, spacing, background) from the t10k set. */
int number_render(const dg_dataset *t10k, int len, int spacing, int background,
                  int k, uint64_t seed, number_image *out);
void number_free(number_image *im);

#endif
