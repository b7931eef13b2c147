/* test_net.c: the network record: named architectures and their parameter
 * counts (the seed projects' figures), spec errors, inference invariants
 * (batch of n = n batches of 1), thread-count determinism, optimizers. */
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "harness.h"

static size_t params_of(const char *arch, size_t *state) {
  dg_net *net = NULL;
  int st = dg_net_new(&net, arch, 1);
  CHECK_MSG(st == DG_OK, "%s: %s", arch, dg_last_error());
  if (st) return 0;
  size_t n = dg_net_param_count(net);
  if (state) *state = dg_net_state_count(net);
  dg_net_free(net);
  return n;
}

static void test_named_archs(void) {
  size_t state = 0;
  CHECK(params_of("logreg", NULL) == 7850);
  CHECK(params_of("mlp50", NULL) == 42310);
  CHECK(params_of("mlp", NULL) == 109386);
  CHECK(params_of("mlp-dropout", NULL) == 669706);
  CHECK(params_of("lenet5", NULL) == 61706);
  /* the Keras CNN table: 330,346 total, 330,154 trainable, 192 not */
  CHECK(params_of("cnn", &state) == 330154);
  CHECK(state == 192);
  CHECK(params_of("cnn-aug", NULL) == 330154);
  for (const char *const *n = dg_arch_names(); *n; n++) {
    CHECK_MSG(dg_arch_spec(*n) != NULL, "%s", *n);
    CHECK(params_of(*n, NULL) > 0);
  }
  /* the stored spec is normalised and round-trips */
  dg_net *a = NULL, *b = NULL;
  CHECK_OK(dg_net_new(&a, "cnn", 1));
  CHECK_OK(dg_net_new(&b, dg_net_arch(a), 1));
  if (a && b) CHECK(!strcmp(dg_net_arch(a), dg_net_arch(b)));
  dg_layer_info li;
  CHECK_OK(dg_net_layer_info(a, 0, &li));
  CHECK(li.out_h == 26 && li.out_w == 26 && li.out_c == 32 && li.params == 320);
  CHECK_OK(dg_net_layer_info(a, 1, &li));
  CHECK(!strcmp(li.kind, "BatchNormalization") && li.params == 64 && li.state == 64);
  CHECK(dg_net_tensor_find(a, "conv1.weight") != NULL);
  CHECK(dg_net_tensor_find(a, "bn2.running_var") != NULL);
  const dg_tensor *t = dg_net_tensor_find(a, "conv1.weight");
  CHECK(t && t->ndim == 4 && t->shape[0] == 3 && t->shape[2] == 1 && t->shape[3] == 32);
  dg_net_free(a);
  dg_net_free(b);
}

static void test_spec_errors(void) {
  dg_net *net = NULL;
  CHECK_FAIL(dg_net_new(&net, "mpl", 1), DG_ERR_ARG, "unknown architecture 'mpl'");
  CHECK_FAIL(dg_net_new(&net, "input 28 28 1; dense 10; wobble", 1), DG_ERR_FORMAT,
             "unknown layer 'wobble'");
  CHECK_FAIL(dg_net_new(&net, "dense abc", 1), DG_ERR_FORMAT, "unit count");
  CHECK_FAIL(dg_net_new(&net, "input 4 4 1; conv 3 5 valid", 1), DG_ERR_FORMAT,
             "kernel larger than input");
  CHECK_FAIL(dg_net_new(&net, "conv 3 4 same", 1), DG_ERR_FORMAT, "odd kernel");
  CHECK_FAIL(dg_net_new(&net, "dense 10; input 28 28 1", 1), DG_ERR_FORMAT,
             "must come first");
  CHECK_FAIL(dg_net_new(&net, "input 28 28 1; dropout 1.5", 1), DG_ERR_FORMAT,
             "rate");
  CHECK_FAIL(dg_net_new(&net, "input 28 28 1; relu 3", 1), DG_ERR_FORMAT,
             "no arguments");
  CHECK_FAIL(dg_net_new(&net, "input 28 28 1; ;", 1), DG_ERR_FORMAT, "no layers");
  CHECK_FAIL(dg_net_new(&net, "conv 3 3 pad 3", 1), DG_ERR_FORMAT, "0 to KERNEL-1");
  CHECK_FAIL(dg_net_new(&net, "conv 3 3 pads 1", 1), DG_ERR_FORMAT, "0 to KERNEL-1");
  CHECK_FAIL(dg_net_new(&net, "conv 3 3 pad -1", 1), DG_ERR_FORMAT, "0 to KERNEL-1");
  CHECK_FAIL(dg_net_new(&net, "conv 3 3 wide", 1), DG_ERR_FORMAT, "'pad P'");
  CHECK_FAIL(dg_net_new(&net, "input 28 28 1; leakyrelu", 1), DG_ERR_FORMAT, "slope");
  CHECK_FAIL(dg_net_new(&net, "input 28 28 1; leakyrelu 1.5", 1), DG_ERR_FORMAT, "slope");
  CHECK_FAIL(dg_net_new(&net, "input 28 28 1; leakyrelu nan", 1), DG_ERR_FORMAT, "slope");
  CHECK_FAIL(dg_net_new(&net, "input 28 28 1; gap 2", 1), DG_ERR_FORMAT, "no arguments");
  CHECK_FAIL(dg_net_new(&net, "input 99999 1 1; dense 2", 1), DG_ERR_FORMAT,
             "input");
  CHECK_FAIL(dg_net_new(&net, "input 64 64 2; flatten", 1), DG_ERR_FORMAT,
             "class scores");
  CHECK(net == NULL);
}

static float *random_inputs(int n, int size, uint64_t seed) {
  float *x = malloc(sizeof(float) * n * size);
  dg_rng r;
  dg_rng_seed(&r, seed);
  for (int i = 0; i < n * size; i++) x[i] = dg_rng_uniform(&r);
  return x;
}

static void test_batch_invariance(void) {
  const char *archs[] = {"mlp", "lenet5", "cnn"};
  for (int a = 0; a < 3; a++) {
    dg_net *net = NULL;
    CHECK_OK(dg_net_new(&net, archs[a], 3));
    int n = 7, in = dg_net_input_size(net), k = dg_net_output_size(net);
    float *x = random_inputs(n, in, 5), *pb = malloc(sizeof(float) * n * k),
          *p1 = malloc(sizeof(float) * k);
    CHECK_OK(dg_net_predict(net, x, n, pb));
    for (int i = 0; i < n; i++) {
      CHECK_OK(dg_net_predict(net, x + (size_t)i * in, 1, p1));
      double s = 0;
      for (int j = 0; j < k; j++) {
        CHECK_NEAR(p1[j], pb[i * k + j], 1e-5);
        s += p1[j];
      }
      CHECK_NEAR(s, 1.0, 1e-5);
    }
    free(x), free(pb), free(p1);
    dg_net_free(net);
  }
}

/* conv with "pad P", leaky ReLU and global average pooling against a
 * plain double-precision forward written here (NHWC, HWIO, (in,out)), in
 * a batch of 5 and image by image (the small-batch plan). */
static void reference_forward(const dg_net *net, const float *x, double *out) {
  const float *cw = dg_net_tensor(net, 0)->data, *cb = dg_net_tensor(net, 1)->data;
  const float *dw = dg_net_tensor(net, 2)->data, *db = dg_net_tensor(net, 3)->data;
  enum { H = 6, W = 5, C = 2, F = 3, K = 3, P = 2, OH = H + 2 * P - K + 1,
         OW = W + 2 * P - K + 1, U = 4 };
  double g[F] = {0};
  for (int oy = 0; oy < OH; oy++)
    for (int ox = 0; ox < OW; ox++)
      for (int f = 0; f < F; f++) {
        double a = cb[f];
        for (int ky = 0; ky < K; ky++)
          for (int kx = 0; kx < K; kx++) {
            int y = oy + ky - P, xx = ox + kx - P;
            if (y < 0 || y >= H || xx < 0 || xx >= W) continue;
            for (int c = 0; c < C; c++)
              a += (double)x[(y * W + xx) * C + c] * cw[((ky * K + kx) * C + c) * F + f];
          }
        g[f] += (a > 0 ? a : 0.2 * a) / (OH * OW);
      }
  for (int u = 0; u < U; u++) {
    out[u] = db[u];
    for (int f = 0; f < F; f++) out[u] += g[f] * dw[f * U + u];
  }
}

static void test_new_kinds_forward(void) {
  dg_net *net = NULL;
  CHECK_OK(dg_net_new(&net, "input 6 5 2; conv 3 3 pad 2; leakyrelu 0.2; gap; dense 4", 9));
  if (!net) return;
  CHECK(!strcmp(dg_net_arch(net),
                "input 6 5 2; conv 3 3 pad 2; leakyrelu 0.2; gap; dense 4"));
  dg_layer_info li;
  CHECK_OK(dg_net_layer_info(net, 0, &li));
  CHECK(li.out_h == 8 && li.out_w == 7 && li.out_c == 3);
  CHECK_OK(dg_net_layer_info(net, 2, &li));
  CHECK(!strcmp(li.kind, "GlobalAveragePooling2D") && li.out_h == 1 && li.out_c == 3);
  for (int i = 0; i < 2; i++) { /* a bias, so padded borders are not 0 */
    float *b = dg_net_tensor(net, 2 * i + 1)->data;
    for (int j = 0; j < 3 + i; j++) b[j] = 0.1f * (float)(j - 1);
  }
  int n = 5, in = dg_net_input_size(net);
  float *x = random_inputs(n, in, 11);
  for (int i = 0; i < n * in; i++) x[i] -= 0.5f; /* leaky side too */
  CHECK_OK(dg_net_forward(net, x, n, 0, NULL));
  float batch[5 * 4];
  memcpy(batch, dg_net_output(net), sizeof batch);
  for (int i = 0; i < n; i++) {
    double ref[4];
    reference_forward(net, x + (size_t)i * in, ref);
    CHECK_OK(dg_net_forward(net, x + (size_t)i * in, 1, 0, NULL));
    for (int u = 0; u < 4; u++) {
      CHECK_NEAR(batch[i * 4 + u], ref[u], 1e-5);
      CHECK_NEAR(dg_net_output(net)[u], ref[u], 1e-5);
    }
  }
  free(x);
  dg_net_free(net);
  /* the canonical spec: same or valid where they say it */
  CHECK_OK(dg_net_new(&net, "input 8 8 1; conv 2 3 pad 1; conv 2 4 pad 0; "
                            "globalavgpool; leakyrelu 0.01", 1));
  if (net)
    CHECK(!strcmp(dg_net_arch(net), "input 8 8 1; conv 2 3 same; conv 2 4 valid; "
                                    "gap; leakyrelu 0.01"));
  dg_net_free(net);
}

/* One training step on 1 and 2 threads gives identical bytes. */
static void test_thread_determinism(void) {
  const char *archs[] = {"mlp", "cnn", "digitnet"};
  for (int a = 0; a < 3; a++) {
    float *g[2] = {NULL, NULL};
    size_t np = 0;
    for (int t = 0; t < 2; t++) {
      dg_net *net = NULL;
      CHECK_OK(dg_net_new(&net, archs[a], 11));
      dg_net_set_threads(net, t + 1);
      int n = 33, in = dg_net_input_size(net);
      float *x = random_inputs(n, in, 8);
      uint8_t y[33];
      for (int i = 0; i < n; i++) y[i] = (uint8_t)(i % 10);
      dg_rng r;
      dg_rng_seed(&r, 4);
      float loss;
      CHECK_OK(dg_net_forward(net, x, n, 1, &r));
      CHECK_OK(dg_net_backward(net, y, &loss));
      np = dg_net_param_count(net);
      g[t] = malloc(sizeof(float) * np);
      memcpy(g[t], dg_net_grads(net), sizeof(float) * np);
      free(x);
      dg_net_free(net);
    }
    CHECK_MSG(!memcmp(g[0], g[1], sizeof(float) * np),
              "%s: gradients differ between 1 and 2 threads", archs[a]);
    free(g[0]), free(g[1]);
  }
}

/* Both optimizers bring a one-layer softmax regression's loss down. */
static void test_optimizers(void) {
  for (int kind = 0; kind < 2; kind++) {
    dg_net *net = NULL;
    CHECK_OK(dg_net_new(&net, "input 1 1 4; dense 3; softmax", 2));
    dg_optim o;
    CHECK_OK(dg_optim_init(&o, (dg_opt_kind)kind, kind ? 0.05f : 0.1f, net));
    o.weight_decay = 1e-4f;
    float x[6 * 4] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0,
                      1, .1f, 0, 0, 0, 1, .2f, 0, .1f, 0, 1, 0};
    uint8_t y[6] = {0, 1, 2, 0, 1, 2};
    float first = 0, loss = 0;
    dg_rng r;
    dg_rng_seed(&r, 1);
    for (int it = 0; it < 200; it++) {
      dg_step_result res;
      CHECK_OK(dg_train_step(net, &o, x, y, 6, NULL, &r, &res));
      loss = res.loss;
      if (it == 0) first = loss;
    }
    CHECK_MSG(loss < 0.1f * first, "optimizer %d: loss %g -> %g", kind, first, loss);
    dg_optim_free(&o);
    dg_net_free(net);
  }
  dg_optim o;
  dg_net *net = NULL;
  CHECK_OK(dg_net_new(&net, "logreg", 1));
  CHECK_FAIL(dg_optim_init(&o, DG_OPT_ADAM, 0.0f, net), DG_ERR_ARG, "learning rate");
  dg_net_free(net);
}

static void test_meta(void) {
  dg_net *net = NULL;
  CHECK_OK(dg_net_new(&net, "logreg", 1));
  CHECK_OK(dg_net_meta_set(net, "a", "1"));
  CHECK_OK(dg_net_meta_set(net, "b", "2"));
  CHECK_OK(dg_net_meta_set(net, "a", "3"));
  CHECK(dg_net_meta_count(net) == 2);
  CHECK(!strcmp(dg_net_meta_get(net, "a"), "3"));
  dg_net_meta_del(net, "a");
  CHECK(dg_net_meta_get(net, "a") == NULL && dg_net_meta_count(net) == 1);
  dg_net_free(net);
  dg_net_free(NULL);
}

int main(void) {
  RUN(test_named_archs);
  RUN(test_spec_errors);
  RUN(test_batch_invariance);
  RUN(test_new_kinds_forward);
  RUN(test_thread_determinism);
  RUN(test_optimizers);
  RUN(test_meta);
  return dg_test_finish();
}
