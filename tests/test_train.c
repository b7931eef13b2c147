/* test_train.c: the training loop on real MNIST: learning happens (a small
 * MLP, one epoch on 10,000 images, >= 90% on 2,000 test images), resume is
 * exact (interrupted mid-epoch and resumed gives the same bytes as one
 * uninterrupted run, with and without a weight average), threads do not
 * change results, the weight average is what it says, divergence is caught
 * and early stopping keeps the best weights; the epoch loop driven a call
 * at a time (dg_fit, as the page's worker does) gives dg_train's bytes. */
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "harness.h"

static dg_dataset train_all, test_all, train10k, test2k;

static int load(void) {
  const char *dir = dg_test_mnist();
  if (!dir) return 0;
  int st = dg_dataset_load(&train_all, dir, "train");
  CHECK_MSG(st == DG_OK, "%s", dg_last_error());
  if (st) return 0;
  st = dg_dataset_load(&test_all, dir, "t10k");
  CHECK_MSG(st == DG_OK, "%s", dg_last_error());
  if (st) return 0;
  CHECK_OK(dg_dataset_slice(&train10k, &train_all, 0, 10000));
  CHECK_OK(dg_dataset_slice(&test2k, &test_all, 0, 2000));
  return 1;
}

static void test_learns(void) {
  dg_net *net = NULL;
  CHECK_OK(dg_net_new(&net, "mlp", 1));
  dg_train_opts o = dg_train_defaults();
  o.epochs = 1;
  o.batch = 32;
  o.lr = 2e-3f;
  o.val_count = 0;
  CHECK_OK(dg_train(net, &train10k, &o));
  dg_metrics m;
  CHECK_OK(dg_evaluate(net, &test2k, &m, NULL));
  double acc = dg_metrics_accuracy(&m);
  fprintf(stderr, "  mlp, 1 epoch on 10,000 images: %.2f%% on 2,000 test images\n",
          100 * acc);
  CHECK_MSG(acc >= 0.90, "accuracy %.4f", acc);
  CHECK(dg_net_meta_get(net, "history") != NULL);
  dg_net_free(net);
}

/* Stop after `stop_at` progress calls (0 = never). */
typedef struct {
  int calls, stop_at;
} stopper;
static int stop_cb(const dg_progress *p, void *user) {
  stopper *s = user;
  (void)p;
  return s->stop_at && ++s->calls == s->stop_at;
}

static uint8_t *model_bytes(dg_net *net, size_t *len) {
  uint8_t *buf = NULL;
  /* drop run-specific timing so that bytes compare */
  dg_net_meta_del(net, "history");
  dg_net_meta_del(net, "train_seconds");
  CHECK_OK(dg_model_save_mem(net, NULL, 0, &buf, len));
  return buf;
}

static void resume_exact(float ema) {
  dg_dataset small;
  CHECK_OK(dg_dataset_slice(&small, &train_all, 0, 3000));
  const char *arch = "input 28 28 1; conv 4 3 same; bn; relu; maxpool 2; "
                     "dropout 0.25; flatten; dense 10; softmax";
  dg_train_opts o = dg_train_defaults();
  o.epochs = 2, o.batch = 50, o.val_count = 500, o.augment = 1, o.ema = ema;
  /* uninterrupted */
  dg_net *a = NULL;
  CHECK_OK(dg_net_new(&a, arch, 3));
  CHECK_OK(dg_train(a, &small, &o));
  size_t la = 0, lb = 0;
  uint8_t *ba = model_bytes(a, &la);
  /* stopped in the middle of epoch 2 (calls: 50 batches + 1 end per epoch),
   * then resumed from the checkpoint */
  dg_net *b = NULL;
  CHECK_OK(dg_net_new(&b, arch, 3));
  stopper s = {0, 51 + 20};
  o.progress = stop_cb, o.user = &s;
  o.checkpoint = dg_test_path("DIGITS_TMP", "resume.ckpt");
  CHECK_FAIL(dg_train(b, &small, &o), DG_ERR_STOPPED, "stopped at epoch 2 batch 20");
  dg_net_free(b);
  CHECK_OK(dg_net_new(&b, arch, 99)); /* other init: resume must overwrite */
  o.progress = NULL;
  o.resume = o.checkpoint;
  CHECK_OK(dg_train(b, &small, &o));
  uint8_t *bb = model_bytes(b, &lb);
  CHECK_MSG(la == lb && ba && bb && !memcmp(ba, bb, la),
            "resumed model differs from the uninterrupted one (ema %g)", ema);
  free(ba), free(bb);
  dg_net_free(a), dg_net_free(b);
  /* a checkpoint with an average is refused without one, and vice versa */
  CHECK_OK(dg_net_new(&b, arch, 3));
  o.ema = ema > 0 ? 0 : 0.9f;
  CHECK_FAIL(dg_train(b, &small, &o), DG_ERR_ARG, "--ema");
  o.ema = ema;
  dg_net_free(b);
  /* a checkpoint of another architecture is refused */
  dg_net *c = NULL;
  CHECK_OK(dg_net_new(&c, "logreg", 1));
  CHECK_FAIL(dg_train(c, &small, &o), DG_ERR_FORMAT, "another architecture");
  dg_net_free(c);
  dg_dataset_free(&small);
}

static void test_resume_exact(void) { resume_exact(0); }
static void test_resume_exact_ema(void) { resume_exact(0.99f); }

/* The average changes what is returned, never the training path: the live
 * weights of a run with --ema (in its checkpoint) are the weights of the
 * same run without it, and the result is the average kept next to them. */
static void test_ema(void) {
  dg_dataset small;
  CHECK_OK(dg_dataset_slice(&small, &train_all, 0, 2000));
  dg_train_opts o = dg_train_defaults();
  o.epochs = 2, o.batch = 50, o.val_count = 0, o.keep_last = 1;
  dg_net *plain = NULL, *avg = NULL, *ck = NULL;
  CHECK_OK(dg_net_new(&plain, "mlp50", 4));
  CHECK_OK(dg_train(plain, &small, &o));
  CHECK_OK(dg_net_new(&avg, "mlp50", 4));
  o.ema = 0.95f;
  o.checkpoint = dg_test_path("DIGITS_TMP", "ema.ckpt");
  CHECK_OK(dg_train(avg, &small, &o));
  dg_blob *blobs = NULL;
  int nb = 0;
  CHECK_OK(dg_model_load(&ck, o.checkpoint, &blobs, &nb));
  size_t np = dg_net_param_count(plain);
  CHECK(ck && !memcmp(dg_net_params(ck), dg_net_params(plain), np * sizeof(float)));
  CHECK(memcmp(dg_net_params(avg), dg_net_params(plain), np * sizeof(float)));
  int found = 0;
  for (int i = 0; i < nb; i++)
    if (!strcmp(blobs[i].name, "__train.ema")) {
      found = 1;
      CHECK(blobs[i].size >= np &&
            !memcmp(blobs[i].data, dg_net_params(avg), np * sizeof(float)));
    }
  CHECK_MSG(found, "no __train.ema in the checkpoint");
  /* and the average is a good model: on test images within a point */
  dg_metrics m1, m2;
  CHECK_OK(dg_evaluate(plain, &test2k, &m1, NULL));
  CHECK_OK(dg_evaluate(avg, &test2k, &m2, NULL));
  CHECK_MSG(dg_metrics_accuracy(&m2) > dg_metrics_accuracy(&m1) - 0.01,
            "average %.4f, live %.4f", dg_metrics_accuracy(&m2),
            dg_metrics_accuracy(&m1));
  dg_blobs_free(blobs, nb);
  dg_net_free(plain), dg_net_free(avg), dg_net_free(ck);
  dg_dataset_free(&small);
}

static void test_threads_same_model(void) {
  dg_dataset small;
  CHECK_OK(dg_dataset_slice(&small, &train_all, 0, 2000));
  uint8_t *bytes[2];
  size_t len[2];
  for (int t = 0; t < 2; t++) {
    dg_net *net = NULL;
    CHECK_OK(dg_net_new(&net, "lenet5", 5));
    dg_train_opts o = dg_train_defaults();
    o.epochs = 1, o.batch = 64, o.val_count = 200, o.threads = t + 1;
    CHECK_OK(dg_train(net, &small, &o));
    bytes[t] = model_bytes(net, &len[t]);
    dg_net_free(net);
  }
  CHECK_MSG(len[0] == len[1] && !memcmp(bytes[0], bytes[1], len[0]),
            "1 and 2 threads trained different models");
  free(bytes[0]), free(bytes[1]);
  dg_dataset_free(&small);
}

static void test_divergence_caught(void) {
  dg_dataset small;
  CHECK_OK(dg_dataset_slice(&small, &train_all, 0, 2000));
  dg_net *net = NULL;
  CHECK_OK(dg_net_new(&net, "mlp", 1));
  float *before = malloc(sizeof(float) * dg_net_param_count(net));
  memcpy(before, dg_net_params(net), sizeof(float) * dg_net_param_count(net));
  dg_train_opts o = dg_train_defaults();
  o.epochs = 3, o.val_count = 200, o.optimizer = DG_OPT_SGD, o.lr = 1e6f;
  CHECK_FAIL(dg_train(net, &small, &o), DG_ERR_NUMERIC, "diverged");
  /* the best weights so far (here: the initial ones) are kept, finite */
  const float *p = dg_net_params(net);
  int finite = 1;
  for (size_t i = 0; i < dg_net_param_count(net); i++) finite &= isfinite(p[i]);
  CHECK(finite);
  free(before);
  dg_net_free(net);
  dg_dataset_free(&small);
}

static void test_early_stopping(void) {
  /* a tiny training set and a large learning rate overfit at once: early
   * stopping ends the run before the epoch limit and keeps the best epoch */
  dg_dataset small;
  CHECK_OK(dg_dataset_slice(&small, &train_all, 0, 700));
  dg_net *net = NULL;
  CHECK_OK(dg_net_new(&net, "mlp-dropout", 1));
  dg_train_opts o = dg_train_defaults();
  o.epochs = 40, o.val_count = 500, o.patience = 2, o.lr_patience = 1;
  o.batch = 16;
  CHECK_OK(dg_train(net, &small, &o));
  const char *run = dg_net_meta_get(net, "epochs_run");
  const char *best = dg_net_meta_get(net, "best_epoch");
  CHECK(run && best);
  if (run && best) {
    CHECK_MSG(atoi(run) < 40, "ran %s epochs", run);
    CHECK(atoi(best) == atoi(run) - 2);
  }
  /* the kept weights are the best epoch's: validation loss matches */
  dg_dataset val = {500, 28, 28, small.images + 200 * 784, small.labels + 200};
  dg_metrics m;
  CHECK_OK(dg_evaluate(net, &val, &m, NULL));
  const char *vl = dg_net_meta_get(net, "val_loss");
  CHECK(vl != NULL);
  if (vl) CHECK_NEAR(dg_metrics_loss(&m), atof(vl), 1e-4);
  dg_net_free(net);
  dg_dataset_free(&small);
}

/* dg_fit driven by hand, batch by batch, with a plateau and early stop
 * reached, equals dg_train with the same options, byte for byte. */
static void test_fit_by_hand(void) {
  dg_dataset small;
  CHECK_OK(dg_dataset_slice(&small, &train_all, 0, 1500));
  dg_train_opts o = dg_train_defaults();
  o.epochs = 12, o.batch = 50, o.lr = 2e-2f, o.val_count = 500;
  o.patience = 2, o.lr_patience = 1, o.augment = 1;
  uint8_t *bytes[2] = {NULL, NULL};
  size_t len[2] = {0, 0};
  int epochs_seen = 0, batches_seen = 0;
  for (int run = 0; run < 2; run++) {
    dg_net *net = NULL;
    CHECK_OK(dg_net_new(&net, "input 28 28 1; flatten; dense 32; relu; dropout 0.2; "
                        "dense 10; softmax", 5));
    if (run == 0) {
      CHECK_OK(dg_train(net, &small, &o));
    } else {
      dg_fit *f = NULL;
      dg_progress p;
      CHECK_OK(dg_fit_new(&f, net, &small, &o));
      while (f && dg_fit_begin_epoch(f, &p) > 0) {
        int n;
        while ((n = dg_fit_step(f, &p)) > 0) {
          batches_seen++;
          CHECK(n <= o.batch);
        }
        CHECK_MSG(n == 0 && p.batch == p.batches && p.seen == 1000, "step: %d", n);
        CHECK_OK(dg_fit_end_epoch(f, &p));
        CHECK(p.done && p.val_acc > 0.5f);
        epochs_seen++;
      }
      CHECK_OK(dg_fit_finish(f));
      dg_fit_free(f);
    }
    bytes[run] = model_bytes(net, &len[run]);
    dg_net_free(net);
  }
  CHECK_MSG(epochs_seen < o.epochs, "no early stop in %d epochs", epochs_seen);
  CHECK_MSG(batches_seen == epochs_seen * 20, "%d batches in %d epochs", batches_seen,
            epochs_seen);
  CHECK_MSG(len[0] == len[1] && !memcmp(bytes[0], bytes[1], len[0]),
            "dg_fit by hand and dg_train differ");
  free(bytes[0]), free(bytes[1]);
  dg_dataset_free(&small);
}

int main(void) {
  if (!load()) {
    fprintf(stderr, "MNIST not found (DIGITS_DATA): run ./build.sh test\n");
    return 1;
  }
  RUN(test_learns);
  RUN(test_resume_exact);
  RUN(test_resume_exact_ema);
  RUN(test_ema);
  RUN(test_threads_same_model);
  RUN(test_divergence_caught);
  RUN(test_early_stopping);
  RUN(test_fit_by_hand);
  dg_dataset_free(&train_all), dg_dataset_free(&test_all);
  dg_dataset_free(&train10k), dg_dataset_free(&test2k);
  return dg_test_finish();
}
