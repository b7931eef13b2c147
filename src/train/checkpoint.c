/* checkpoint.c: a training run's checkpoint (dg_fit_save, dg_fit_resume):
 * a model file with the weights, the optimizer moments, the best weights
 * so far (and the weight average) as "__train." blobs, and the loop state
 * (epoch, batch, generator states, schedule) as metadata, so an
 * interrupted and resumed run computes the same numbers as an
 * uninterrupted one. Files only: dg_train uses it; the WebAssembly module
 * (which has no files) links it out. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "train/fit.h"

static void state_format(const loop_state *s, char *buf, size_t cap) {
  snprintf(buf, cap,
           "epoch=%d batch=%d erng=%016" PRIx64 ":%016" PRIx64
           " rng=%016" PRIx64 ":%016" PRIx64
           " lr=%.9g best=%.9g bad=%d plateau=%d best_epoch=%d loss_sum=%.17g "
           "seen=%" PRId64 " correct=%" PRId64 " seconds=%.3f",
           s->epoch, s->batch, s->epoch_rng.s[0], s->epoch_rng.s[1],
           s->rng.s[0], s->rng.s[1], s->lr, s->best_val_loss, s->bad_epochs,
           s->plateau, s->best_epoch, s->loss_sum, s->seen, s->correct,
           s->seconds);
}

static int state_parse(loop_state *s, const char *str) {
  int n = sscanf(str,
                 "epoch=%d batch=%d erng=%" SCNx64 ":%" SCNx64 " rng=%" SCNx64
                 ":%" SCNx64 " lr=%g best=%g bad=%d plateau=%d best_epoch=%d "
                 "loss_sum=%lg seen=%" SCNd64 " correct=%" SCNd64 " seconds=%lg",
                 &s->epoch, &s->batch, &s->epoch_rng.s[0], &s->epoch_rng.s[1],
                 &s->rng.s[0], &s->rng.s[1], &s->lr, &s->best_val_loss,
                 &s->bad_epochs, &s->plateau, &s->best_epoch, &s->loss_sum,
                 &s->seen, &s->correct, &s->seconds);
  return n == 15 && s->epoch >= 0 && s->batch >= 0 && s->lr > 0;
}

int dg_fit_save(dg_fit *f, const char *path) {
  if (!f || !path) return dg_error(DG_ERR_ARG, "checkpoint: null argument");
  char buf[512];
  state_format(&f->s, buf, sizeof buf);
  int st = dg_net_meta_set(f->net, "train_state", buf);
  if (st) return st;
  dg_blob blobs[4] = {{"__train.adam_m", f->opt.m, f->np},
                      {"__train.adam_v", f->opt.v, f->np},
                      {"__train.best", f->best, f->np + f->ns},
                      {"__train.ema", f->ema, f->np + f->ns}};
  char step[32];
  snprintf(step, sizeof step, "%" PRId64, f->opt.step);
  st = dg_net_meta_set(f->net, "train_step", step);
  if (!st) st = dg_model_save(f->net, path, blobs, f->ema ? 4 : 3);
  dg_net_meta_del(f->net, "train_state");
  dg_net_meta_del(f->net, "train_step");
  return st;
}

/* Copy a checkpoint's blobs into the loop's buffers. */
static int take_blobs(dg_fit *f, const char *path, const dg_blob *blobs,
                      int nb) {
  int found = 0;
  for (int i = 0; i < nb; i++) {
    float *dst = NULL;
    size_t want = 0;
    if (!strcmp(blobs[i].name, "__train.adam_m")) dst = f->opt.m, want = f->np;
    if (!strcmp(blobs[i].name, "__train.adam_v")) dst = f->opt.v, want = f->np;
    if (!strcmp(blobs[i].name, "__train.best")) dst = f->best, want = f->np + f->ns;
    if (!strcmp(blobs[i].name, "__train.ema")) {
      if (!f->ema)
        return dg_error(DG_ERR_ARG, "%s: the run was trained with --ema; resume "
                        "it with the same --ema", path);
      dst = f->ema, want = f->np + f->ns;
    }
    if (!dst) continue;
    if (blobs[i].size != want)
      return dg_error(DG_ERR_FORMAT, "%s: %s has %zu values, expected %zu", path,
                      blobs[i].name, blobs[i].size, want);
    memcpy(dst, blobs[i].data, want * sizeof(float));
    found++;
  }
  if (found < 3)
    return dg_error(DG_ERR_FORMAT, "%s: checkpoint lacks optimizer state", path);
  if (f->ema && found != 4)
    return dg_error(DG_ERR_ARG, "%s: the run was trained without --ema; resume "
                    "it without --ema", path);
  return DG_OK;
}

int dg_fit_resume(dg_fit *f, const char *path) {
  if (!f || !path) return dg_error(DG_ERR_ARG, "checkpoint: null argument");
  dg_net *ck = NULL;
  dg_blob *blobs = NULL;
  int nb = 0;
  int st = dg_model_load(&ck, path, &blobs, &nb);
  if (st) return st;
  const char *ts = dg_net_meta_get(ck, "train_state");
  const char *step = dg_net_meta_get(ck, "train_step");
  if (strcmp(dg_net_arch(ck), dg_net_arch(f->net)))
    st = dg_error(DG_ERR_FORMAT, "%s: checkpoint of another architecture (%s)",
                  path, dg_net_arch(ck));
  else if (!ts || !step || !state_parse(&f->s, ts))
    st = dg_error(DG_ERR_FORMAT, "%s: not a training checkpoint (no train_state)",
                  path);
  if (!st) st = take_blobs(f, path, blobs, nb);
  if (!st) {
    f->opt.step = strtoll(step, NULL, 10);
    st = dg_net_copy_weights(f->net, ck);
    const char *h = dg_net_meta_get(ck, "history");
    if (!st && h) st = dg_net_meta_set(f->net, "history", h);
  }
  dg_blobs_free(blobs, nb);
  dg_net_free(ck);
  return st;
}
