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

#endif
