/* fuzz_preprocess.c: libFuzzer target for dg_preprocess on raw pixels, the
 * path the browser takes (canvas RGBA bytes of any size go straight to it
 * through src/wasm/api.c, with no image decoder in front).
 *
 * Input layout: byte 0 picks the channel count (1..4), bytes 1-2 the width
 * (1..1024, little-endian); the rest are the pixels, as many whole rows as
 * there are (at least one). The 28x28 result must be finite, in [0, 1], or
 * the call says the picture is empty. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"

#define FAIL() abort()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4) return 0;
  int c = 1 + data[0] % 4;
  int w = 1 + (int)((data[1] | data[2] << 8) % 1024);
  size_t n = size - 3, row = (size_t)w * c;
  if (n < row) return 0;
  int h = (int)(n / row);
  /* an exact-size copy, so ASan sees any read past the last row */
  uint8_t *px = malloc(row * h);
  if (!px) FAIL();
  memcpy(px, data + 3, row * h);
  float out[28 * 28];
  int st = dg_preprocess(px, w, h, c, out);
  if (st == DG_OK) {
    for (int i = 0; i < 28 * 28; i++)
      if (!(out[i] >= 0.0f && out[i] <= 1.0f)) FAIL();
  } else if ((st != DG_ERR_EMPTY && st != DG_ERR_UNCERTAIN) || !dg_last_error()[0]) {
    FAIL();
  }
  free(px);
  return 0;
}
