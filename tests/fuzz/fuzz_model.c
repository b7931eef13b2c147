/* fuzz_model.c: libFuzzer target for model files (model_io.c): the bytes go
 * to dg_model_load_mem as they are, header JSON, shapes, offsets and
 * values alike, with the checkpoint blobs asked for too.
 *
 * Beyond "no crash, no out-of-bounds access, no leak" it checks what the
 * loader promises: a failure sets a message and leaves the outputs alone; a
 * success is a model that saves and loads again to the same bytes, and
 * (when small enough to be quick) predicts. Any broken promise aborts, which
 * libFuzzer and the replay (replay_main.c) report as a finding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"

#define FAIL() abort()

static void check_roundtrip(dg_net *net, const dg_blob *extra, int nextra) {
  uint8_t *a = NULL, *b = NULL;
  size_t la = 0, lb = 0;
  if (dg_model_save_mem(net, extra, nextra, &a, &la) != DG_OK) FAIL();
  dg_net *back = NULL;
  dg_blob *bx = NULL;
  int nbx = 0;
  if (dg_model_load_mem(&back, a, la, &bx, &nbx) != DG_OK) FAIL();
  if (nbx != nextra) FAIL();
  if (dg_model_save_mem(back, bx, nbx, &b, &lb) != DG_OK) FAIL();
  if (la != lb || memcmp(a, b, la) != 0) FAIL();
  free(a);
  free(b);
  dg_blobs_free(bx, nbx);
  dg_net_free(back);
}

/* One forward pass on a fixed input: any status is fine (an architecture may
 * not end in class scores the CLI wants), but no crash or UB. */
static void check_predict(dg_net *net) {
  int in = dg_net_input_size(net), out = dg_net_output_size(net);
  if (in < 1 || out < 1 || in > 4096 || dg_net_param_count(net) > 200000) return;
  float *x = malloc(sizeof(float) * (size_t)in);
  float *p = malloc(sizeof(float) * (size_t)out);
  if (!x || !p) FAIL();
  for (int i = 0; i < in; i++) x[i] = (float)(i % 7) / 7.0f;
  int st = dg_net_predict(net, x, 1, p);
  if (st != DG_OK && !dg_last_error()[0]) FAIL();
  free(x);
  free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dg_net *net = (dg_net *)(uintptr_t)1;
  dg_blob *extra = (dg_blob *)(uintptr_t)1;
  int nextra = -7;
  int st = dg_model_load_mem(&net, data, size, &extra, &nextra);
  if (st != DG_OK) {
    /* a clear error, outputs untouched */
    if (st != DG_ERR_FORMAT && st != DG_ERR_NOMEM) FAIL();
    if (!dg_last_error()[0]) FAIL();
    if (net != (dg_net *)(uintptr_t)1 || extra != (dg_blob *)(uintptr_t)1 ||
        nextra != -7)
      FAIL();
    return 0;
  }
  if (!net || nextra < 0 || (nextra > 0 && !extra)) FAIL();
  check_roundtrip(net, extra, nextra);
  check_predict(net);
  dg_blobs_free(extra, nextra);
  dg_net_free(net);
  return 0;
}
