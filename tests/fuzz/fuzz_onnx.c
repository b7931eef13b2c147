/* fuzz_onnx.c: libFuzzer target for ONNX files (io/onnx_parse.c,
 * io/onnx_read.c, io/pb.c): the bytes go to dg_onnx_import_mem as they
 * are, protobuf framing, graph, attributes, shape arithmetic and tensors
 * alike.
 *
 * Beyond "no crash, no out-of-bounds access, no leak" it checks what the
 * importer promises: a failure is DG_ERR_FORMAT or DG_ERR_NOMEM with a
 * message and the output NULL (digits.h); a success is a net that exports to
 * ONNX and imports again with the same metadata, and (when small enough to
 * be quick) predicts.
 * Any broken promise aborts, which libFuzzer and the replay
 * (replay_main.c) report as a finding. The seeds (tests/fuzz/corpus/onnx/)
 * are small PyTorch exports and a graph in tf2onnx's layout
 * (tools/onnx_fixtures.py --seeds) and exports of digits' own. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"

#define FAIL() abort()

static void check_reexport(const dg_net *net) {
  uint8_t *buf = NULL;
  size_t len = 0;
  if (dg_onnx_export_mem(net, &buf, &len) != DG_OK) FAIL();
  dg_net *back = NULL;
  if (dg_onnx_import_mem(&back, buf, len) != DG_OK) FAIL();
  if (dg_net_input_size(back) != dg_net_input_size(net) ||
      dg_net_output_size(back) != dg_net_output_size(net) ||
      dg_net_meta_count(back) != dg_net_meta_count(net))
    FAIL();
  for (int i = 0; i < dg_net_meta_count(net); i++) { /* metadata_props back */
    const char *k = NULL, *v = NULL, *w;
    if (dg_net_meta_at(net, i, &k, &v) != DG_OK || !(w = dg_net_meta_get(back, k))) FAIL();
    if (strcmp(k, "converted_from") && strcmp(v, w)) FAIL();
  }
  dg_net_free(back);
  free(buf);
}

/* One forward pass on a fixed input: any status is fine, but a failure
 * has a message, and no crash or UB. */
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
  int st = dg_onnx_import_mem(&net, data, size);
  if (st != DG_OK) {
    if (st != DG_ERR_FORMAT && st != DG_ERR_NOMEM) FAIL();
    if (!dg_last_error()[0]) FAIL();
    if (net) FAIL();
    return 0;
  }
  if (!net) FAIL();
  if (dg_net_param_count(net) <= 200000) check_reexport(net);
  check_predict(net);
  dg_net_free(net);
  return 0;
}
