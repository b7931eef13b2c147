/* fuzz_image.c: libFuzzer target for image files: stb_image through
 * image.c (PNG, JPEG, BMP, GIF, PGM/PPM, with its size caps and the extra
 * checks image.c adds in front of stb), then the preprocessing that turns
 * any decoded picture into the network's 28x28 input.
 *
 * A decoded image must respect the caps (DG_IMAGE_MAX_DIM per side,
 * DG_IMAGE_MAX_PIXELS) and have the bytes it claims (the last one is read,
 * which ASan checks); the 28x28 input must be finite, in [0, 1]. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "digits.h"

#define FAIL() abort()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *px = (uint8_t *)(uintptr_t)1;
  int w = -7, h = -7, c = -7;
  int st = dg_image_decode(data, size, &px, &w, &h, &c);
  if (st != DG_OK) {
    if (st != DG_ERR_FORMAT && st != DG_ERR_NOMEM) FAIL();
    if (!dg_last_error()[0]) FAIL();
    if (px != (uint8_t *)(uintptr_t)1 || w != -7 || h != -7 || c != -7) FAIL();
    return 0;
  }
  if (!px || w < 1 || h < 1 || c < 1 || c > 4) FAIL();
  if (w > DG_IMAGE_MAX_DIM || h > DG_IMAGE_MAX_DIM ||
      (uint64_t)w * (uint64_t)h > DG_IMAGE_MAX_PIXELS)
    FAIL();
  volatile uint8_t last = px[(size_t)w * h * c - 1];
  (void)last;
  float out[28 * 28];
  st = dg_preprocess(px, w, h, c, out);
  if (st == DG_OK) {
    for (int i = 0; i < 28 * 28; i++)
      if (!(out[i] >= 0.0f && out[i] <= 1.0f)) FAIL();
  } else if (st != DG_ERR_EMPTY && st != DG_ERR_UNCERTAIN) {
    FAIL();
  }
  free(px);
  return 0;
}
