/* diverge.c (ctest robust_diverge, and robust_diverge_asan): training that
 * goes to NaN in the middle of its second epoch (every weight turned into
 * NaN after batch 3, as an overflowing update would leave them) stops at
 * the next batch with DG_ERR_NUMERIC and a message naming the epoch and
 * batch; the net then holds the best weights so far (epoch 1's, finite),
 * and the checkpoint written at the end of epoch 1 is untouched on disk
 * and holds those same weights. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "harness.h"

typedef struct {
  dg_net *net;
  const char *ckpt;
  uint8_t *saved;  /* the checkpoint's bytes when the NaNs came */
  size_t saved_len;
  int poisoned;
} watch;

static int on_progress(const dg_progress *p, void *user) {
  watch *w = user;
  if (!p->done && p->epoch == 2 && p->batch == 3 && !w->poisoned) {
    CHECK_OK(dg_file_read(w->ckpt, 1 << 26, &w->saved, &w->saved_len));
    float *x = dg_net_params(w->net);
    for (size_t i = 0; i < dg_net_param_count(w->net); i++) x[i] = NAN;
    w->poisoned = 1;
  }
  return 0;
}

static void test_nan_mid_epoch(void) {
  dg_dataset all, small;
  const char *data = dg_test_mnist();
  CHECK_MSG(data && dg_dataset_load(&all, data, "train") == DG_OK, "MNIST: %s",
            dg_last_error());
  if (!data) return;
  CHECK_OK(dg_dataset_slice(&small, &all, 0, 1500));
  dg_dataset_free(&all);
  dg_net *net = NULL;
  CHECK_OK(dg_net_new(&net, "input 28 28 1; conv 4 3 same; bn; relu; maxpool 2; "
                            "flatten; dropout 0.2; dense 10; softmax", 4));
  if (!net) return;
  const char *ckpt = dg_test_path("DIGITS_TMP", "robust_diverge.ckpt");
  remove(ckpt);
  watch w = {net, ckpt, NULL, 0, 0};
  dg_train_opts o = dg_train_defaults();
  o.epochs = 3, o.batch = 50, o.val_count = 500, o.threads = 1;
  o.checkpoint = ckpt, o.progress = on_progress, o.user = &w;
  CHECK_FAIL(dg_train(net, &small, &o), DG_ERR_NUMERIC,
             "training diverged at epoch 2 batch 4 (loss nan); kept the best weights so far");
  CHECK(w.poisoned);

  /* the net holds epoch 1's weights again: finite, and those of the checkpoint */
  const float *x = dg_net_params(net);
  size_t n = dg_net_param_count(net), bad = 0;
  for (size_t i = 0; i < n; i++) bad += !isfinite(x[i]);
  CHECK_MSG(bad == 0, "%zu of %zu weights are not finite after the stop", bad, n);
  dg_net *back = NULL;
  dg_blob *ex = NULL;
  int nex = 0;
  CHECK_OK(dg_model_load(&back, ckpt, &ex, &nex));
  if (back) {
    CHECK(dg_net_param_count(back) == n);
    CHECK_MSG(!memcmp(dg_net_params(back), x, n * sizeof(float)),
              "the kept weights are not the epoch-1 checkpoint's");
    CHECK(!strncmp(dg_net_meta_get(back, "train_state") ? dg_net_meta_get(back, "train_state")
                                                        : "", "epoch=1 batch=0", 15));
  }
  dg_blobs_free(ex, nex);
  dg_net_free(back);

  /* the checkpoint on disk is the one epoch 1 wrote, byte for byte */
  uint8_t *now = NULL;
  size_t now_len = 0;
  CHECK_OK(dg_file_read(ckpt, 1 << 26, &now, &now_len));
  CHECK(w.saved && now && now_len == w.saved_len && !memcmp(now, w.saved, now_len));
  free(now);
  free(w.saved);
  remove(ckpt);
  dg_net_free(net);
  dg_dataset_free(&small);
}

int main(void) {
  RUN(test_nan_mid_epoch);
  return dg_test_finish();
}
