/* test_infer.c: the one-image inference kernels (kernels_infer.c) against
 * their scalar references on odd shapes (channel tails, images smaller
 * than a tile, same and valid padding, fused 2 x 2 pooling with odd
 * sizes), nothing written outside the output; and the network's
 * small-batch path (batch 1 and > 1) against its batched path, including
 * the packed weights following every change of the weights.
 *
 * build.sh also links this file for WebAssembly SIMD (tests/wasm/infer.mjs
 * runs it), so the kernels are checked as the browser runs them. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "harness.h"
#include "kernels/kernels.h"
#include "kernels/kernels_infer.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static float rnd(void) { /* uniform in [-1, 1) */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (float)((uint32_t)(rng_state >> 32) >> 8) / 8388608.0f - 1.0f;
}

static float *rnd_buf(size_t n) {
  float *p = malloc((n ? n : 1) * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = rnd();
  return p;
}

static float *abs_copy(const float *s, size_t n) {
  float *p = malloc((n ? n : 1) * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = fabsf(s[i]);
  return p;
}

#define GUARD 8
#define SENTINEL 12345.0f

/* |fast - ref| <= 1e-6 * (terms + 2) * scale (scale: the same sums on
 * absolute values, plus 2^-20); the GUARD floats after n untouched. */
static int near_ref(const float *fast, const float *ref, const float *scale,
                    size_t n, int terms, const char *what) {
  for (size_t i = 0; i < n; i++) {
    double tol = 1e-6 * (terms + 2) * (fabs(scale[i]) + 1.0 / 1048576.0);
    if (!(fabs((double)fast[i] - ref[i]) <= tol)) {
      fprintf(stderr, "  %s: element %zu: %.9g, ref %.9g\n", what, i, fast[i],
              ref[i]);
      return 0;
    }
  }
  for (size_t i = n; i < n + GUARD; i++)
    if (fast[i] != SENTINEL) {
      fprintf(stderr, "  %s: wrote past the output (element %zu)\n", what, i);
      return 0;
    }
  return 1;
}

static void test_conv(void) {
  static const struct { int h, w, c, f, k, pad; } shapes[] = {
      {28, 28, 1, 6, 5, 2},  {28, 28, 1, 24, 5, 0}, {28, 28, 1, 32, 3, 0},
      {14, 14, 6, 16, 5, 0}, {12, 12, 24, 48, 3, 1}, {6, 6, 48, 96, 3, 0},
      {9, 7, 3, 5, 3, 1},    {7, 9, 2, 13, 3, 0},  {5, 5, 1, 1, 5, 2},
      {3, 3, 4, 9, 3, 0},    {1, 1, 3, 7, 1, 0},    {2, 5, 5, 17, 1, 0},
      {11, 6, 1, 33, 3, 1},  {6, 11, 7, 8, 5, 2},  {4, 4, 3, 4, 3, 1},
      {10, 10, 64, 64, 3, 0}, {13, 13, 1, 7, 5, 0}, {8, 3, 9, 3, 3, 0},
  };
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
    int h = shapes[i].h, w = shapes[i].w, c = shapes[i].c, f = shapes[i].f;
    int k = shapes[i].k, pad = shapes[i].pad;
    int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
    size_t nin = (size_t)h * w * c, nw = (size_t)k * k * c * f;
    float *x = rnd_buf(nin), *wt = rnd_buf(nw), *bias = rnd_buf(f);
    float *ax = abs_copy(x, nin), *aw = abs_copy(wt, nw), *ab = abs_copy(bias, f);
    float *packed = malloc(dg_infer_conv_packed_size(c, f, k) * sizeof(float));
    float *work = malloc((dg_infer_conv_work(h, w, c, pad) + 1) * sizeof(float));
    dg_infer_conv_pack(wt, bias, c, f, k, packed);
    for (int pool = 0; pool <= 2; pool += 2)
      for (int relu = 0; relu < 2; relu++) {
        int p = pool ? 2 : 1;
        size_t nout = (size_t)(oh / p) * (ow / p) * f;
        float *of = malloc((nout + GUARD) * sizeof(float));
        float *orf = malloc((nout + 1) * sizeof(float));
        float *sc = malloc((nout + 1) * sizeof(float));
        for (size_t j = 0; j < nout + GUARD; j++) of[j] = SENTINEL;
        dg_infer_conv(x, h, w, c, packed, f, k, pad, relu, pool, of, work);
        dg_infer_conv_ref(x, h, w, c, wt, bias, f, k, pad, relu, pool, orf);
        dg_infer_conv_ref(ax, h, w, c, aw, ab, f, k, pad, 0, pool, sc);
        CHECK_MSG(near_ref(of, orf, sc, nout, k * k * c, "conv"),
                  "conv shape %zu (%dx%dx%d, f %d, k %d, pad %d) relu %d pool %d",
                  i, h, w, c, f, k, pad, relu, pool);
        free(of), free(orf), free(sc);
      }
    free(x), free(wt), free(bias), free(ax), free(aw), free(ab);
    free(packed), free(work);
  }
}

static void test_dense(void) {
  static const int is[] = {1, 2, 3, 7, 84, 400, 1536};
  static const int us[] = {1, 3, 4, 5, 8, 10, 16, 17, 33, 120};
  for (size_t a = 0; a < sizeof is / sizeof *is; a++)
    for (size_t b = 0; b < sizeof us / sizeof *us; b++) {
      int I = is[a], U = us[b];
      float *x = rnd_buf(I), *w = rnd_buf((size_t)I * U), *bias = rnd_buf(U);
      float *ax = abs_copy(x, I), *aw = abs_copy(w, (size_t)I * U),
            *ab = abs_copy(bias, U);
      float *packed = malloc(dg_infer_dense_packed_size(I, U) * sizeof(float));
      dg_infer_dense_pack(w, bias, I, U, packed);
      float *yf = malloc((U + GUARD) * sizeof(float)), *yr = rnd_buf(U),
            *sc = rnd_buf(U);
      for (int relu = 0; relu < 2; relu++) {
        for (int j = 0; j < U + GUARD; j++) yf[j] = SENTINEL;
        dg_infer_dense(x, I, packed, U, relu, yf);
        dg_infer_dense_ref(x, I, w, bias, U, relu, yr);
        dg_infer_dense_ref(ax, I, aw, ab, U, 0, sc);
        CHECK_MSG(near_ref(yf, yr, sc, U, I, "dense"), "dense %dx%d relu %d",
                  I, U, relu);
      }
      free(x), free(w), free(bias), free(ax), free(aw), free(ab);
      free(packed), free(yf), free(yr), free(sc);
    }
}

/* Probabilities of batches of 1 and 3 (the small-batch path) against the
 * same inputs in a batch of 9 (the batched path). */
static int same_as_batched(dg_net *net, const float *x, const char *what) {
  int in = dg_net_input_size(net), k = dg_net_output_size(net), n = 9, ok = 1;
  float *pb = malloc(sizeof(float) * n * k), *ps = malloc(sizeof(float) * 3 * k);
  CHECK_OK(dg_net_predict(net, x, n, pb));
  for (int i = 0; i < n; i++) {
    CHECK_OK(dg_net_predict(net, x + (size_t)i * in, 1, ps));
    for (int j = 0; j < k; j++)
      if (!(fabsf(ps[j] - pb[i * k + j]) <= 1e-5f)) ok = 0;
  }
  for (int i = 0; i + 3 <= n; i += 3) {
    CHECK_OK(dg_net_predict(net, x + (size_t)i * in, 3, ps));
    for (int j = 0; j < 3 * k; j++)
      if (!(fabsf(ps[j] - pb[i * k + j]) <= 1e-5f)) ok = 0;
  }
  if (!ok) fprintf(stderr, "  %s: small batches differ from the batched path\n", what);
  free(pb), free(ps);
  return ok;
}

static void test_net_paths(void) {
  static const char *specs[] = {
      "lenet5", "cnn", "digitnet", "mlp", "logreg",
      /* bn without ReLU, pool 3 (not fused), avgpool, sigmoid, dense + bn,
       * same padding with channels, a pool after a bn with no conv */
      "input 15 13 2; conv 5 3 same; bn; maxpool 2; conv 7 3 valid; relu; "
      "maxpool 3; flatten; dense 9; bn; relu; dense 4; softmax",
      "input 10 10 3; conv 6 5 same; sigmoid; avgpool 2; conv 9 3 same; tanh; "
      "flatten; dense 5",
      "input 9 9 1; conv 3 3 valid; relu; bn; maxpool 2; flatten; dropout 0.3; "
      "dense 6; relu; dense 3",
  };
  for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
    dg_net *net = NULL;
    CHECK_OK(dg_net_new(&net, specs[s], 7 + s));
    if (!net) continue;
    /* running statistics away from (0, 1), biases away from 0 */
    float *st = dg_net_state(net), *pr = dg_net_params(net);
    for (size_t i = 0; i < dg_net_state_count(net); i++) st[i] = 0.5f + 0.5f * rnd();
    for (size_t i = 0; i < dg_net_param_count(net); i++) pr[i] += 0.05f * rnd();
    int in = dg_net_input_size(net);
    float *x = rnd_buf((size_t)9 * in);
    for (int i = 0; i < 9 * in; i++) x[i] = 0.5f * (x[i] + 1);
    CHECK_MSG(same_as_batched(net, x, specs[s]), "%s", specs[s]);
    /* the packed copies follow a change of the weights */
    int k = dg_net_output_size(net);
    float *p0 = malloc(sizeof(float) * k), *p1 = malloc(sizeof(float) * k);
    CHECK_OK(dg_net_predict(net, x, 1, p0));
    pr = dg_net_params(net);
    for (size_t i = 0; i < dg_net_param_count(net); i++) pr[i] *= -1.5f;
    CHECK_OK(dg_net_predict(net, x, 1, p1));
    int changed = 0;
    for (int j = 0; j < k; j++) changed |= p0[j] != p1[j];
    CHECK_MSG(changed, "%s: a weight change left predictions alone", specs[s]);
    CHECK_MSG(same_as_batched(net, x, specs[s]), "%s after a change", specs[s]);
    /* and a training step */
    dg_rng rng;
    dg_rng_seed(&rng, 3);
    uint8_t labels[4] = {0, 1, 2, 0};
    dg_optim opt;
    CHECK_OK(dg_optim_init(&opt, DG_OPT_SGD, 0.5f, net));
    CHECK_OK(dg_train_step(net, &opt, x, labels, 4, NULL, &rng, NULL));
    dg_optim_free(&opt);
    CHECK_MSG(same_as_batched(net, x, specs[s]), "%s after training", specs[s]);
    free(x), free(p0), free(p1);
    dg_net_free(net);
  }
}

/* Winograd (on by default in WebAssembly, off natively) against the
 * direct kernels: the same nets' probabilities at batches 1 (the
 * small-batch path, transformed weights packed once) and 9. */
static void test_net_winograd(void) {
  static const char *specs[] = {
      "cnn", "digitnet",
      ("input 9 8 16; conv 16 3 same; bn; relu; conv 32 3 valid; relu; "
       "flatten; dense 5")};
  for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
    dg_net *net[2] = {NULL, NULL};
    float *p[2][2];
    int in = 0, k = 0;
    float *x = NULL;
    for (int on = 0; on < 2; on++) {
      CHECK_OK(dg_net_new(&net[on], specs[s], 11));
      if (!net[on]) goto done;
      dg_net_set_winograd(net[on], on);
      float *st = dg_net_state(net[on]);
      for (size_t i = 0; i < dg_net_state_count(net[on]); i++)
        st[i] = 0.5f + 0.5f * (float)(i * 37 % 17) / 17; /* the same in both */
      in = dg_net_input_size(net[on]), k = dg_net_output_size(net[on]);
      if (!x) {
        x = rnd_buf((size_t)9 * in);
        for (int i = 0; i < 9 * in; i++) x[i] = 0.5f * (x[i] + 1);
      }
      p[on][0] = malloc(sizeof(float) * k);
      p[on][1] = malloc(sizeof(float) * 9 * k);
      CHECK_OK(dg_net_predict(net[on], x, 1, p[on][0]));
      CHECK_OK(dg_net_predict(net[on], x, 9, p[on][1]));
    }
    float d = 0;
    for (int j = 0; j < k; j++) d = fmaxf(d, fabsf(p[0][0][j] - p[1][0][j]));
    for (int j = 0; j < 9 * k; j++) d = fmaxf(d, fabsf(p[0][1][j] - p[1][1][j]));
    CHECK_MSG(d <= 1e-5f, "%s: Winograd and direct differ by %g", specs[s], d);
    for (int on = 0; on < 2; on++) free(p[on][0]), free(p[on][1]);
  done:
    free(x);
    dg_net_free(net[0]), dg_net_free(net[1]);
  }
}

int main(void) {
  RUN(test_conv);
  RUN(test_dense);
  RUN(test_net_paths);
  RUN(test_net_winograd);
  return dg_test_finish();
}
