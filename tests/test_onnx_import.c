/* test_onnx_import.c: dg_onnx_import_mem on files of our own exporter
 * (every layer kind, the settings, predictions bit for bit), and on hostile
 * bytes: truncated, bit-flipped, an unsupported operator, odd sizes. The
 * PyTorch fixtures against onnxruntime are tests/onnx/. */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "harness.h"

static const char *const archs[] = {
    "input 28 28 1; conv 6 5 same; relu; maxpool 2; conv 16 5 valid; relu; "
    "maxpool 2; flatten; dense 120; relu; dense 10; softmax",
    "input 12 12 1; conv 4 3 valid; bn; relu; avgpool 2; flatten; bn; dense 7; "
    "tanh",
    "input 28 28 1; flatten; dense 32; sigmoid; dropout 0.5; dense 10",
    "input 10 10 2; conv 3 3 same; relu; flatten; dense 5; softmax",
    "input 28 28 1; conv 4 3 pad 2; leakyrelu 0.1; maxpool 2; conv 8 5 pad 1; "
    "bn; relu; gap; flatten; dense 10; softmax",
    "input 16 16 1; conv 6 4 pad 3; leakyrelu 0.3; avgpool 2; conv 8 3 pad 1; "
    "gap; dense 10",
};

static void export(dg_net *net, uint8_t **buf, size_t *len) {
  *buf = NULL;
  CHECK_OK(dg_onnx_export_mem(net, buf, len));
}

static void test_round_trip(void) {
  for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
    dg_net *net = NULL, *back = NULL;
    CHECK_OK(dg_net_new(&net, archs[a], 7 + a));
    if (!net) continue;
    float *st = dg_net_state(net);
    for (size_t i = 0; i < dg_net_state_count(net); i++) st[i] = 0.5f + 0.01f * (i % 7);
    if (a == 1) CHECK_OK(dg_net_set_bn_eps(net, 1e-5f));
    if (a == 2) CHECK_OK(dg_net_set_input_norm(net, 0.1307f, 0.3081f));
    uint8_t *buf;
    size_t len;
    export(net, &buf, &len);
    CHECK_OK(dg_onnx_import_mem(&back, buf, len));
    if (back) {
      int n = 9, in = dg_net_input_size(net), k = dg_net_output_size(net);
      float *x = malloc(sizeof(float) * n * in), *p = malloc(sizeof(float) * n * k),
            *q = malloc(sizeof(float) * n * k);
      dg_rng r;
      dg_rng_seed(&r, a);
      for (int i = 0; i < n * in; i++) x[i] = dg_rng_uniform(&r);
      CHECK_OK(dg_net_predict(net, x, n, p));
      CHECK_OK(dg_net_predict(back, x, n, q));
      double md = 0;
      for (int i = 0; i < n * k; i++) md = fmax(md, fabs(p[i] - q[i]));
      CHECK_MSG(md <= 1e-6, "arch %zu: max diff %g", a, md);
      CHECK(dg_net_bn_eps(back) == dg_net_bn_eps(net));
      float m = 0, s = 0;
      CHECK(dg_net_input_norm(back, &m, &s) == dg_net_input_norm(net, NULL, NULL));
      if (a == 2) CHECK(m == 0.1307f && s == 0.3081f);
      free(x), free(p), free(q);
    }
    dg_net_free(back);
    free(buf);
    dg_net_free(net);
  }
}

static void test_hostile(void) {
  dg_net *net = NULL, *back = NULL;
  CHECK_OK(dg_net_new(&net, archs[0], 3));
  uint8_t *buf;
  size_t len;
  export(net, &buf, &len);
  CHECK_FAIL(dg_onnx_import_mem(NULL, buf, len), DG_ERR_ARG, "null");
  CHECK_FAIL(dg_onnx_import_mem(&back, buf, len / 2), DG_ERR_FORMAT, "ONNX");
  CHECK_FAIL(dg_onnx_import_mem(&back, "\x08\x07", 2), DG_ERR_FORMAT, "no graph");
  CHECK_FAIL(dg_onnx_import_mem(&back, "\xff\xff\xff", 3), DG_ERR_FORMAT,
             "not valid protobuf");
  CHECK_FAIL(dg_onnx_import_mem(&back, "", 0), DG_ERR_FORMAT, "no graph");
  uint8_t *relu = memmem(buf, len, "Relu", 4);
  CHECK(relu != NULL);
  if (relu) {
    memcpy(relu, "Selu", 4);
    CHECK_FAIL(dg_onnx_import_mem(&back, buf, len), DG_ERR_FORMAT,
               "(Selu): operator Selu is not supported");
    memcpy(relu, "Relu", 4);
  }
  float *w0 = dg_net_tensor(net, 0)->data, keep = w0[0];
  w0[0] = 1234.5f; /* a value to find in the exported bytes */
  uint8_t *nanbuf;
  size_t nanlen;
  export(net, &nanbuf, &nanlen);
  w0[0] = keep;
  const float marker = 1234.5f, nan = NAN;
  uint8_t *at = nanbuf ? memmem(nanbuf, nanlen, &marker, 4) : NULL;
  CHECK(at != NULL);
  if (at) {
    memcpy(at, &nan, 4);
    CHECK_FAIL(dg_onnx_import_mem(&back, nanbuf, nanlen), DG_ERR_FORMAT,
               "value 0 is not finite");
  }
  free(nanbuf);
  dg_rng r;
  dg_rng_seed(&r, 11);
  int ok = 0;
  for (size_t cut = 0; cut < len; cut += 1 + len / 500) { /* none crash */
    back = NULL;
    if (dg_onnx_import_mem(&back, buf, cut) == DG_OK) ok++;
    dg_net_free(back);
  }
  CHECK_MSG(ok == 0, "%d truncated files imported", ok);
  for (int f = 0; f < 2000; f++) {
    size_t at = dg_rng_below(&r, (uint32_t)len);
    uint8_t bit = (uint8_t)(1u << dg_rng_below(&r, 8));
    buf[at] ^= bit;
    back = NULL;
    int st = dg_onnx_import_mem(&back, buf, len);
    CHECK(st == DG_OK ? back != NULL : back == NULL && dg_last_error()[0]);
    dg_net_free(back);
    buf[at] ^= bit;
  }
  back = NULL;
  CHECK_OK(dg_onnx_import_mem(&back, buf, len)); /* restored */
  dg_net_free(back);
  free(buf);
  dg_net_free(net);
}

int main(void) {
  RUN(test_round_trip);
  RUN(test_hostile);
  return dg_test_finish();
}
