/* test_grad.c: gradient checks by central differences for every layer kind
 * and the losses (cross-entropy, CTC), with respect to parameters and
 * inputs. Built twice by CMake:
 * against the SIMD kernels (test_grad) and the scalar reference kernels
 * (test_grad_scalar). Points where a probe crosses a kink (a ReLU input
 * changes sign, a max-pool picks another element) are detected exactly from
 * the layers' activation pattern and skipped; every check also asserts that
 * the gradient is not all zero. White-box: it reads layer records (nn.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "harness.h"
#include "kernels/kernels.h"
#include "nn/nn.h"

#define SEED 1234

/* A hash of which side of each kink the last forward was on: (leaky)
 * ReLU signs and max-pool choices. */
static uint64_t pattern(const dg_net *net) {
  uint64_t h = 1469598103934665603ull;
  for (int i = 0; i < net->nlayers; i++) {
    const dg_layer *l = &net->layers[i];
    size_t total = l->out_size * (size_t)net->n;
    /* a ReLU in front of a maxpool may not be stored (bn, relu and pool
     * run as one pass); the pool's choices and signs show its kinks */
    if (l->kind == DG_L_RELU && i + 1 < net->nlayers &&
        net->layers[i + 1].kind == DG_L_MAXPOOL)
      continue;
    for (size_t j = 0; j < total; j++) {
      uint64_t v;
      if (l->kind == DG_L_RELU || l->kind == DG_L_LEAKYRELU) v = l->out[j] > 0;
      else if (l->kind == DG_L_MAXPOOL) v = (uint64_t)l->arg[j] * 2 + (l->out[j] > 0);
      else break;
      h = (h ^ v) * 1099511628211ull;
    }
  }
  return h;
}

/* Loss of the net on (x, y) with a fixed dropout stream; *pat gets the
 * kink pattern. */
static double loss_at(dg_net *net, const float *x, const uint8_t *y, int n,
                      uint64_t *pat) {
  dg_rng rng;
  dg_rng_seed(&rng, SEED);
  float loss = 0;
  if (dg_net_forward(net, x, n, 1, &rng)) return NAN;
  if (pat) *pat = pattern(net);
  if (dg_net_backward(net, y, &loss)) return NAN;
  return loss;
}

/* Compare analytic and numeric derivatives of the loss wrt the floats at p
 * (count of them), sampling at most max_points. Returns points checked. */
static int check_points(dg_net *net, float *x, const uint8_t *y, int n,
                        float *p, const float *analytic, size_t count,
                        int max_points, double tol, const char *what,
                        double *max_abs_grad) {
  const float h = 1e-2f;
  uint64_t base, pp, pm;
  loss_at(net, x, y, n, &base);
  size_t stride = count > (size_t)max_points ? count / max_points : 1;
  int checked = 0, bad = 0;
  for (size_t i = 0; i < count; i += stride) {
    float keep = p[i];
    p[i] = keep + h;
    double lp = loss_at(net, x, y, n, &pp);
    p[i] = keep - h;
    double lm = loss_at(net, x, y, n, &pm);
    p[i] = keep;
    if (pp != base || pm != base) continue; /* a kink between the probes */
    double num = (lp - lm) / (2 * h);
    double a = analytic[i];
    double scale = fmax(fmax(fabs(num), fabs(a)), 1e-2);
    checked++;
    if (fabs(a) > *max_abs_grad) *max_abs_grad = fabs(a);
    if (fabs(num - a) > tol * scale) {
      if (bad++ < 5)
        fprintf(stderr, "  %s[%zu]: analytic %.6g numeric %.6g\n", what, i, a,
                num);
    }
  }
  CHECK_MSG(bad == 0, "%s: %d of %d derivatives disagree", what, bad, checked);
  return checked;
}

/* Winograd's path for the nets gradcheck builds: -1 as the target's
 * default, else off (0) or on (1). */
static int grad_winograd = -1;

static void gradcheck(const char *spec, int n, double tol) {
  dg_net *net = NULL;
  int st = dg_net_new(&net, spec, 7);
  CHECK_MSG(st == DG_OK, "%s: %s", spec, dg_last_error());
  if (st) return;
  if (grad_winograd >= 0) dg_net_set_winograd(net, grad_winograd);
  CHECK_OK(dg_net_want_input_grad(net, 1));
  int in = dg_net_input_size(net), k = dg_net_output_size(net);
  float *x = malloc(sizeof(float) * in * n);
  uint8_t *y = malloc(n);
  dg_rng rng;
  dg_rng_seed(&rng, 99);
  for (int i = 0; i < in * n; i++) x[i] = 2 * dg_rng_uniform(&rng) - 1;
  for (int i = 0; i < n; i++) y[i] = (uint8_t)dg_rng_below(&rng, (uint32_t)k);
  /* make biases non-zero so that ReLUs see both signs */
  float *params = dg_net_params(net);
  size_t np = dg_net_param_count(net);
  for (size_t i = 0; i < np; i++) params[i] += 0.1f * (dg_rng_uniform(&rng) - 0.5f);

  double l0 = loss_at(net, x, y, n, NULL);
  CHECK_MSG(isfinite(l0), "%s: loss %g", spec, l0);
  float *g = malloc(sizeof(float) * (np ? np : 1));
  float *gx = malloc(sizeof(float) * in * n);
  memcpy(g, dg_net_grads(net), sizeof(float) * np);
  memcpy(gx, dg_net_input_grad(net), sizeof(float) * in * n);

  double maxg = 0, maxgx = 0;
  int pts = 0;
  for (int t = 0; t < dg_net_tensor_count(net); t++) {
    const dg_tensor *tt = dg_net_tensor(net, t);
    if (!tt->trainable) continue;
    size_t off = (size_t)(tt->data - params);
    pts += check_points(net, x, y, n, tt->data, g + off, tt->size, 60, tol,
                        tt->name, &maxg);
  }
  int ptsx = check_points(net, x, y, n, x, gx, (size_t)in * n, 60, tol,
                          "input", &maxgx);
  CHECK_MSG(np == 0 || (pts > 0 && maxg > 1e-4), "%s: %d param points, max |g| %g",
            spec, pts, maxg);
  CHECK_MSG(ptsx > 0 && maxgx > 1e-5, "%s: %d input points, max |g| %g", spec,
            ptsx, maxgx);
  fprintf(stderr, "  %-60.60s %4d param + %3d input points ok\n", spec, pts, ptsx);
  free(x), free(y), free(g), free(gx);
  dg_net_free(net);
}

static void test_dense(void) {
  gradcheck("input 1 1 7; dense 5", 3, 2e-2);
  gradcheck("input 1 1 7; dense 5; softmax", 3, 2e-2);
  gradcheck("input 3 2 2; dense 4", 2, 2e-2); /* dense on a non-flat input */
}
static void test_conv(void) {
  gradcheck("input 6 5 3; conv 4 3 valid; flatten; dense 3", 2, 2e-2);
  gradcheck("input 7 6 2; conv 3 5 same; flatten; dense 3", 2, 2e-2);
  gradcheck("input 5 5 1; conv 2 1 valid; flatten; dense 3", 2, 2e-2);
  gradcheck("input 5 6 2; conv 3 3 pad 2; flatten; dense 3", 2, 2e-2);
  gradcheck("input 6 5 2; conv 3 4 pad 1; flatten; dense 3", 2, 2e-2);
}
/* 3x3 convolutions by Winograd (winograd.c: forward, weight and input
 * gradients), which natively only run when asked for: 16 channels both
 * ways, a whole AVX-512 vector. */
static void test_conv_winograd(void) {
  int was = grad_winograd;
  grad_winograd = 1;
  CHECK(dg_wino_applies(&(dg_exec){.threads = 1, .winograd = 1}, 16, 16, 3));
  gradcheck("input 6 6 16; conv 16 3 same; flatten; dense 3", 2, 2e-2);
  gradcheck("input 7 5 16; conv 16 3 valid; relu; flatten; dense 3", 2, 2e-2);
  gradcheck("input 5 6 16; conv 16 3 pad 2; flatten; dense 3", 2, 2e-2);
  grad_winograd = was;
}
static void test_pool(void) {
  gradcheck("input 6 6 3; maxpool 2; flatten; dense 3", 2, 2e-2);
  gradcheck("input 7 6 2; maxpool 3; flatten; dense 3", 2, 2e-2);
  gradcheck("input 6 7 2; avgpool 2; flatten; dense 3", 2, 2e-2);
  gradcheck("input 5 4 3; gap; flatten; dense 3", 2, 2e-2);
  gradcheck("input 6 6 2; conv 4 3 same; gap; dense 3; softmax", 2, 2e-2);
}
static void test_activations(void) {
  gradcheck("input 1 1 8; dense 6; relu; dense 3", 4, 2e-2);
  gradcheck("input 1 1 8; dense 6; sigmoid; dense 3", 4, 2e-2);
  gradcheck("input 1 1 8; dense 6; tanh; dense 3", 4, 2e-2);
  gradcheck("input 1 1 6; dense 5; softmax; dense 3", 3, 2e-2);
  gradcheck("input 1 1 6; relu; dense 3", 3, 2e-2); /* relu first */
  gradcheck("input 1 1 8; dense 6; leakyrelu 0.1; dense 3", 4, 2e-2);
  gradcheck("input 4 4 2; conv 3 3 same; leakyrelu 0.3; flatten; dense 3", 2, 2e-2);
}
static void test_batchnorm(void) {
  gradcheck("input 1 1 6; dense 5; bn; dense 3", 4, 3e-2);
  gradcheck("input 4 4 2; conv 3 3 same; bn; flatten; dense 3", 3, 3e-2);
  gradcheck("input 3 3 2; bn; flatten; dense 3", 3, 3e-2); /* bn first */
  /* bn + relu + maxpool: the pool masks the gradient for both */
  gradcheck("input 6 6 2; conv 3 3 same; bn; relu; maxpool 2; flatten; dense 3",
            3, 3e-2);
  gradcheck("input 1 1 6; dense 5; bn; relu; dense 3", 4, 3e-2);
  gradcheck("input 6 7 2; bn; relu; maxpool 3; flatten; dense 3", 3, 3e-2);
}
static void test_dropout_flatten(void) {
  gradcheck("input 1 1 8; dropout 0.3; dense 3", 3, 2e-2);
  gradcheck("input 2 2 3; flatten; dropout 0.5; dense 4; softmax", 3, 2e-2);
}
static void test_small_cnn(void) {
  gradcheck("input 8 8 1; conv 4 3 same; bn; relu; conv 4 3 valid; relu; "
            "maxpool 2; dropout 0.25; flatten; dense 6; relu; dropout 0.5; "
            "dense 3; softmax",
            3, 3e-2);
}

static void test_loss(void) {
  /* d loss / d logits against central differences, in double */
  float logits[2 * 4] = {0.3f, -1.2f, 2.0f, 0.1f, -0.5f, 0.5f, 0.0f, 1.5f};
  uint8_t labels[2] = {2, 0};
  float d[8], loss;
  CHECK_OK(dg_softmax_xent(logits, labels, 2, 4, NULL, d, &loss));
  for (int i = 0; i < 8; i++) {
    float keep = logits[i], lp, lm;
    logits[i] = keep + 1e-2f;
    dg_softmax_xent(logits, labels, 2, 4, NULL, NULL, &lp);
    logits[i] = keep - 1e-2f;
    dg_softmax_xent(logits, labels, 2, 4, NULL, NULL, &lm);
    logits[i] = keep;
    CHECK_NEAR(d[i], (lp - lm) / 2e-2, 2e-3);
  }
  /* stable for huge logits: no overflow, the right answer */
  float big[3] = {1000.0f, -1000.0f, 999.0f}, p[3];
  uint8_t l0 = 0;
  CHECK_OK(dg_softmax_xent(big, &l0, 1, 3, p, NULL, &loss));
  CHECK(isfinite(loss));
  CHECK_NEAR(loss, log(1 + exp(-1.0)), 1e-5);
  CHECK_NEAR(p[0] + p[1] + p[2], 1.0, 1e-6);
  uint8_t bad = 3;
  CHECK_FAIL(dg_softmax_xent(big, &bad, 1, 3, NULL, NULL, &loss), DG_ERR_ARG,
             "out of range");
}

/* CTC: the probability against every path summed by brute force, the
 * gradient against central differences, the cases it must refuse. */
static int ctc_collapse(const int *path, int T, int blank, int *out) {
  int n = 0;
  for (int t = 0; t < T; t++)
    if (path[t] != blank && (t == 0 || path[t] != path[t - 1])) out[n++] = path[t];
  return n;
}

static void test_ctc(void) {
  enum { T = 5, K = 3, BLANK = 2 };
  dg_rng rng;
  dg_rng_seed(&rng, 5);
  float z[T * K], d[T * K], loss;
  for (int i = 0; i < T * K; i++) z[i] = 3 * dg_rng_uniform(&rng) - 1.5f;
  const uint8_t seqs[3][2] = {{0, 1}, {1, 1}, {0, 0}};
  for (int q = 0; q < 3; q++) {
    CHECK_OK(dg_ctc_loss(z, T, K, BLANK, seqs[q], 2, d, &loss));
    double p[T][K], total = 0;
    for (int t = 0; t < T; t++) {
      double s = 0;
      for (int j = 0; j < K; j++) s += exp(z[t * K + j]);
      for (int j = 0; j < K; j++) p[t][j] = exp(z[t * K + j]) / s;
    }
    int path[T], out[T];
    for (int code = 0; code < 243; code++) {  /* 3^5 paths */
      double pr = 1;
      for (int t = 0, c = code; t < T; t++, c /= 3) path[t] = c % 3, pr *= p[t][path[t]];
      if (ctc_collapse(path, T, BLANK, out) == 2 && out[0] == seqs[q][0] && out[1] == seqs[q][1])
        total += pr;
    }
    CHECK_NEAR(exp(-loss), total, 1e-5);
    for (int i = 0; i < T * K; i++) {
      float keep = z[i], lp, lm;
      z[i] = keep + 1e-2f;
      dg_ctc_loss(z, T, K, BLANK, seqs[q], 2, NULL, &lp);
      z[i] = keep - 1e-2f;
      dg_ctc_loss(z, T, K, BLANK, seqs[q], 2, NULL, &lm);
      z[i] = keep;
      CHECK_NEAR(d[i], (lp - lm) / 2e-2, 2e-3);
    }
  }
  /* no labels: every row blank */
  CHECK_OK(dg_ctc_loss(z, T, K, BLANK, NULL, 0, d, &loss));
  double lb = 0;
  for (int t = 0; t < T; t++) {
    double s = 0;
    for (int j = 0; j < K; j++) s += exp(z[t * K + j]);
    lb -= log(exp(z[t * K + BLANK]) / s);
  }
  CHECK_NEAR(loss, lb, 1e-4);
  const uint8_t rep[3] = {1, 1, 1}, bl[1] = {BLANK}, big[1] = {7};
  CHECK_FAIL(dg_ctc_loss(z, 4, K, BLANK, rep, 3, d, &loss), DG_ERR_ARG, "cannot read");
  CHECK_OK(dg_ctc_loss(z, 5, K, BLANK, rep, 3, d, &loss));  /* 1 _ 1 _ 1 */
  CHECK_FAIL(dg_ctc_loss(z, T, K, BLANK, bl, 1, d, &loss), DG_ERR_ARG, "blank");
  CHECK_FAIL(dg_ctc_loss(z, T, K, BLANK, big, 1, d, &loss), DG_ERR_ARG, "not below");
}

/* dg_net_backward_grad given softmax cross-entropy's gradient on the
 * logits gives dg_net_backward's parameter gradients. */
static void test_backward_grad(void) {
  dg_net *net = NULL;
  CHECK_OK(dg_net_new(&net, "input 6 6 1; conv 3 3 valid; relu; flatten; dense 4; softmax", 3));
  enum { N = 5 };
  float x[N * 36], dz[N * 4];
  uint8_t y[N];
  dg_rng rng;
  dg_rng_seed(&rng, 8);
  for (int i = 0; i < N * 36; i++) x[i] = dg_rng_uniform(&rng);
  for (int i = 0; i < N; i++) y[i] = (uint8_t)dg_rng_below(&rng, 4);
  const size_t np = dg_net_param_count(net);
  float *g = malloc(sizeof(float) * np);
  float loss;
  CHECK_FAIL(dg_net_backward_grad(net, dz), DG_ERR_ARG, "no forward pass");
  CHECK_OK(dg_net_forward(net, x, N, 1, &rng));
  CHECK_OK(dg_net_backward(net, y, &loss));
  memcpy(g, dg_net_grads(net), sizeof(float) * np);
  const float *p = dg_net_output(net);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < 4; j++) dz[i * 4 + j] = (p[i * 4 + j] - (j == y[i])) / N;
  CHECK_OK(dg_net_backward_grad(net, dz));
  double worst = 0, most = 0;
  for (size_t i = 0; i < np; i++) {
    worst = fmax(worst, fabs(g[i] - dg_net_grads(net)[i]));
    most = fmax(most, fabs(g[i]));
  }
  CHECK_MSG(worst < 1e-6 && most > 1e-3, "backward_grad differs by %g (largest %g)", worst, most);
  dz[3] = NAN;
  CHECK_FAIL(dg_net_backward_grad(net, dz), DG_ERR_NUMERIC, "diverged");
  CHECK_FAIL(dg_net_backward_grad(net, NULL), DG_ERR_ARG, "null");
  free(g);
  dg_net_free(net);
}

int main(void) {
  RUN(test_loss);
  RUN(test_ctc);
  RUN(test_backward_grad);
  RUN(test_dense);
  RUN(test_conv);
  RUN(test_conv_winograd);
  RUN(test_pool);
  RUN(test_activations);
  RUN(test_batchnorm);
  RUN(test_dropout_flatten);
  RUN(test_small_cnn);
  return dg_test_finish();
}
