/* wasm/abi.h: the structs that src/wasm/api.c fills for JS. Their field
 * offsets are not copied into JS by hand: cmake/constants.c prints them
 * (compiled for wasm32, the module's own layout) into the generated
 * web/lib/constants.js, which web/lib/digits.js reads them by. Fields are
 * int32 only, so JS reads every struct through one Int32Array. */
#ifndef DG_WASM_ABI_H
#define DG_WASM_ABI_H

#include <stdint.h>

/* net_info's answer: the sizes of a net. */
typedef struct {
  int32_t params;       /* trainable parameters */
  int32_t state;        /* non-trainable state (batch-norm statistics) */
  int32_t layers;       /* layer count */
  int32_t input_size;   /* floats per sample in, e.g. 784 */
  int32_t output_size;  /* floats per sample out, e.g. 10 */
  int32_t takes_image;  /* 1 if the input is one 28x28 image (what predict's
                           preprocessing makes) */
} dg_wasm_net_info;

/* read_number's answer for one digit of a number. */
typedef struct {
  int32_t digit;        /* 0..9 */
  int32_t box[4];       /* its ink in the image's pixels: x, y, w, h */
  int32_t unsure;       /* 1 when its confidence is below DG_NUMBER_UNSURE */
} dg_wasm_number_digit;

/* read_number's answer: the digits left to right (dg_number without the
 * floats, which read_number writes beside it). DG_WASM_NUMBER_MAX is
 * DG_NUMBER_MAX (api.c checks). */
#define DG_WASM_NUMBER_MAX 32
typedef struct {
  int32_t n;            /* digits read (0: no ink) */
  int32_t photo;        /* 1: read through the photo path */
  int32_t split;        /* touching digits split apart */
  int32_t truncated;    /* more than DG_NUMBER_MAX digits: the first kept */
  dg_wasm_number_digit digits[DG_WASM_NUMBER_MAX];
} dg_wasm_number;

#endif
