/* test_net_settings.c: the network-level settings (batch-norm epsilon,
 * input normalisation): their defaults, their checks, their effect on
 * predictions, and their round trip through model files. */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "harness.h"

#define BN_ARCH "input 8 8 1; conv 4 3 same; bn; relu; flatten; dense 10"

/* A model file's bytes with the first `from` replaced by `to` (same length). */
static uint8_t *patched(const uint8_t *buf, size_t len, const char *from,
                        const char *to) {
  if (strlen(from) != strlen(to)) return NULL;
  uint8_t *out = malloc(len);
  memcpy(out, buf, len);
  size_t n = strlen(from);
  for (size_t i = 0; i + n <= len; i++)
    if (!memcmp(out + i, from, n)) {
      memcpy(out + i, to, n);
      return out;
    }
  free(out);
  return NULL;
}

static void fill(float *x, int n, unsigned seed) {
  dg_rng r;
  dg_rng_seed(&r, seed);
  for (int i = 0; i < n; i++) x[i] = dg_rng_uniform(&r);
}

static void test_defaults_and_checks(void) {
  dg_net *net = NULL;
  CHECK_OK(dg_net_new(&net, BN_ARCH, 1));
  CHECK(dg_net_bn_eps(net) == 1e-3f);
  float m = 7, s = 7;
  CHECK(dg_net_input_norm(net, &m, &s) == 0);
  CHECK(m == 7 && s == 7);
  CHECK_FAIL(dg_net_set_bn_eps(net, 0), DG_ERR_ARG, "epsilon");
  CHECK_FAIL(dg_net_set_bn_eps(net, NAN), DG_ERR_ARG, "epsilon");
  CHECK_FAIL(dg_net_set_bn_eps(net, 2), DG_ERR_ARG, "epsilon");
  CHECK_FAIL(dg_net_set_input_norm(net, 0.1f, 0), DG_ERR_ARG, "normalisation");
  CHECK_FAIL(dg_net_set_input_norm(net, INFINITY, 1), DG_ERR_ARG,
             "normalisation");
  CHECK(dg_net_bn_eps(net) == 1e-3f && !dg_net_input_norm(net, NULL, NULL));
  CHECK_FAIL(dg_net_set_bn_eps(NULL, 1e-5f), DG_ERR_ARG, "null");
  dg_net_free(net);
}

/* A net with normalisation reads x as the same net without reads
 * (x - mean) / std, bit for bit; the epsilon changes batch norm's output. */
static void test_effect(void) {
  dg_net *a = NULL, *b = NULL;
  CHECK_OK(dg_net_new(&a, BN_ARCH, 3));
  CHECK_OK(dg_net_new(&b, BN_ARCH, 3));
  float *st = dg_net_state(a); /* running variance small: epsilon matters */
  for (size_t i = 0; i < dg_net_state_count(a); i++) st[i] = 1e-3f;
  CHECK_OK(dg_net_copy_weights(b, a));
  float x[5 * 64], xn[5 * 64], pa[50], pb[50];
  fill(x, 5 * 64, 9);
  for (int i = 0; i < 5 * 64; i++) xn[i] = (x[i] - 0.1307f) / 0.3081f;
  CHECK_OK(dg_net_predict(a, x, 5, pa)); /* buffers exist before the set */
  CHECK_OK(dg_net_set_input_norm(a, 0.1307f, 0.3081f));
  for (int n = 1; n <= 5; n += 4) { /* small-batch and batched plans */
    CHECK_OK(dg_net_predict(a, x, n, pa));
    CHECK_OK(dg_net_predict(b, xn, n, pb));
    CHECK(!memcmp(pa, pb, sizeof(float) * 10 * n));
  }
  CHECK_OK(dg_net_set_bn_eps(a, 1e-5f));
  CHECK_OK(dg_net_predict(a, x, 5, pa));
  double diff = 0;
  for (int i = 0; i < 50; i++) diff += fabs(pa[i] - pb[i]);
  CHECK_MSG(diff > 1e-3, "epsilon 1e-5 vs 1e-3 changed the output by %g", diff);
  CHECK_OK(dg_net_set_bn_eps(b, 1e-5f));
  CHECK_OK(dg_net_predict(b, xn, 5, pb));
  CHECK(!memcmp(pa, pb, sizeof pa));
  dg_net_free(a), dg_net_free(b);
}

static void test_file_round_trip(void) {
  dg_net *net = NULL, *back = NULL;
  CHECK_OK(dg_net_new(&net, BN_ARCH, 5));
  uint8_t *buf = NULL;
  size_t len = 0;
  CHECK_OK(dg_model_save_mem(net, NULL, 0, &buf, &len)); /* defaults */
  CHECK(memmem(buf, len, "\"bn_eps\":\"0.00100000005\"", 23) != NULL);
  CHECK(memmem(buf, len, "input_mean", 10) == NULL);
  free(buf);
  CHECK_OK(dg_net_set_bn_eps(net, 1e-5f));
  CHECK_OK(dg_net_set_input_norm(net, 0.1307f, 0.3081f));
  CHECK_OK(dg_model_save_mem(net, NULL, 0, &buf, &len));
  CHECK_OK(dg_model_load_mem(&back, buf, len, NULL, NULL));
  float m = 0, s = 0;
  CHECK(back && dg_net_bn_eps(back) == 1e-5f);
  CHECK(back && dg_net_input_norm(back, &m, &s) && m == 0.1307f &&
        s == 0.3081f);
  CHECK(back && dg_net_meta_get(back, "bn_eps") == NULL);
  dg_net_free(back);
  struct { const char *from, *to, *msg; } bad[] = {
      {"\"bn_eps\":\"9.99999975e-06\"", "\"bn_eps\":\"-9.9999997e-06\"", "bn_eps"},
      {"\"bn_eps\":\"9.99999975e-06\"", "\"bn_eps\":\"9.99999975e-0x\"", "bn_eps"},
      {"\"input_std\"", "\"input_sxd\"", "without \"input_std\""},
      {"\"input_std\":\"0.308", "\"input_std\":\"-0.30", "input_std"},
      {"\"input_mean\":\"0.1307", "\"input_mean\":\"nan   ", "input_mean"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t *p = patched(buf, len, bad[i].from, bad[i].to);
    CHECK_MSG(p != NULL, "no \"%s\" in the file", bad[i].from);
    if (!p) continue;
    back = NULL;
    CHECK_FAIL(dg_model_load_mem(&back, p, len, NULL, NULL), DG_ERR_FORMAT,
               bad[i].msg);
    CHECK(back == NULL);
    free(p);
  }
  free(buf);
  dg_net_free(net);
}

/* The version-1 file of tests/data (no settings): the defaults. */
static void test_old_file(void) {
  dg_net *net = NULL;
  CHECK_OK(dg_model_load(&net, dg_test_path("DIGITS_TESTDATA",
                                            "v1-tiny.safetensors"),
                         NULL, NULL));
  CHECK(net && dg_net_bn_eps(net) == 1e-3f);
  CHECK(net && !dg_net_input_norm(net, NULL, NULL));
  dg_net_free(net);
}

int main(void) {
  RUN(test_defaults_and_checks);
  RUN(test_effect);
  RUN(test_file_round_trip);
  RUN(test_old_file);
  return dg_test_finish();
}
