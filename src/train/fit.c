/* fit.c: the one epoch loop, driven a call at a time: shuffled
 * mini-batches (augmentation optional) through dg_train_step, validation on
 * the tail of the training set, learning-rate reduction on plateau or a
 * cosine decay, early stopping that restores the best weights. dg_train
 * (train.c) drives it natively, with checkpoints (checkpoint.c) between
 * calls; the page's worker drives it batch by batch through wasm/api.c, so
 * the engine optimises the hot code and the worker answers messages
 * between batches. The loop itself touches no files.
 *
 * With o->ema, an exponential moving average of the weights (Polyak
 * averaging) is kept next to the live ones; it is what validation sees, what
 * the best snapshot stores and what the run returns. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digits.h"
#include "train/fit.h"

/* Seconds on a monotonic clock. The WebAssembly module imports no clock
 * (the page times its epochs itself), so there it reads 0. */
static double now_seconds(void) {
#ifdef __wasm__
  return 0;
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
#endif
}

/* Append one epoch's figures to the "history" metadata (a JSON array). */
static int history_append(dg_net *net, const dg_progress *p) {
  const char *old = dg_net_meta_get(net, "history");
  char item[256];
  snprintf(item, sizeof item,
           "{\"epoch\":%d,\"loss\":%.5f,\"acc\":%.5f,\"val_loss\":%.5f,"
           "\"val_acc\":%.5f,\"lr\":%.3g,\"seconds\":%.2f}",
           p->epoch, p->loss, p->acc, isfinite(p->val_loss) ? p->val_loss : -1,
           isfinite(p->val_acc) ? p->val_acc : -1, p->lr, p->seconds);
  size_t ol = old ? strlen(old) : 0;
  char *s = malloc(ol + strlen(item) + 4);
  if (!s) return dg_error(DG_ERR_NOMEM, "train: out of memory");
  if (ol >= 2) {
    memcpy(s, old, ol - 1); /* drop the closing ']' */
    sprintf(s + ol - 1, ",%s]", item);
  } else {
    sprintf(s, "[%s]", item);
  }
  int st = dg_net_meta_set(net, "history", s);
  free(s);
  return st;
}

/* ---- weights: live, average, best ------------------------------------------- */

/* The net's weights and BN statistics to/from a (nparams + nstate) buffer. */
static void weights_get(dg_fit *f, float *to) {
  memcpy(to, dg_net_params(f->net), f->np * sizeof(float));
  memcpy(to + f->np, dg_net_state(f->net), f->ns * sizeof(float));
}
static void weights_set(dg_fit *f, const float *from) {
  memcpy(dg_net_params(f->net), from, f->np * sizeof(float));
  memcpy(dg_net_state(f->net), from + f->np, f->ns * sizeof(float));
}
/* The best snapshot: of the average when there is one, else of the net. */
static void snapshot(dg_fit *f) {
  if (f->ema) memcpy(f->best, f->ema, (f->np + f->ns) * sizeof(float));
  else weights_get(f, f->best);
}
static void restore(dg_fit *f) { weights_set(f, f->best); }

/* ema = d ema + (1 - d) net after optimizer step t (1, 2, ...); the decay
 * ramps up from 0.1 so that early weights do not linger in the average. */
static void ema_update(dg_fit *f, float decay, int64_t t) {
  float d = fminf(decay, (float)(1 + t) / (float)(10 + t)), e = 1 - d;
  const float *p = dg_net_params(f->net), *q = dg_net_state(f->net);
  float *a = f->ema, *b = f->ema + f->np;
  for (size_t i = 0; i < f->np; i++) a[i] = d * a[i] + e * p[i];
  for (size_t i = 0; i < f->ns; i++) b[i] = d * b[i] + e * q[i];
}

/* ---- setting up --------------------------------------------------------------- */

static int check_args(dg_net *net, const dg_dataset *train,
                      const dg_train_opts *o) {
  int in = dg_net_input_size(net), k = dg_net_output_size(net);
  if (train->h * train->w != in)
    return dg_error(DG_ERR_ARG, "train: images are %dx%d, the model expects %d values",
                    train->h, train->w, in);
  if (o->epochs < 1 || o->batch < 1 || !(o->lr > 0))
    return dg_error(DG_ERR_ARG, "train: epochs, batch and lr must be positive");
  if (o->val_count < 0 || o->val_count >= train->n)
    return dg_error(DG_ERR_ARG,
                    "train: %d validation images leave none of %d to train on",
                    o->val_count, train->n);
  for (int i = 0; i < train->n; i++)
    if (train->labels[i] >= k)
      return dg_error(DG_ERR_ARG, "train: label %d of image %d, but the model has %d classes",
                      train->labels[i], i, k);
  return DG_OK;
}

/* The buffers of a run of o on net; NOMEM if any is missing. */
static int alloc_buffers(dg_fit *f) {
  size_t in = (size_t)dg_net_input_size(f->net), B = (size_t)f->o.batch;
  size_t w = f->np + f->ns + 1;
  f->perm = malloc(sizeof(int) * (size_t)f->train.n);
  f->xb = malloc(sizeof(float) * B * in);
  f->xa = f->o.augment ? malloc(sizeof(float) * B * in) : NULL;
  f->yb = malloc(B);
  f->best = malloc(sizeof(float) * w);
  if (f->o.ema > 0) {
    f->ema = malloc(sizeof(float) * w);
    f->live = malloc(sizeof(float) * w);
  }
  if (!f->perm || !f->xb || (f->o.augment && !f->xa) || !f->yb || !f->best ||
      (f->o.ema > 0 && (!f->ema || !f->live)))
    return dg_error(DG_ERR_NOMEM, "train: out of memory");
  return DG_OK;
}

int dg_fit_new(dg_fit **out, dg_net *net, const dg_dataset *train,
               const dg_train_opts *o) {
  if (!out || !net || !train || !o)
    return dg_error(DG_ERR_ARG, "train: null argument");
  int st = check_args(net, train, o);
  if (st) return st;
  dg_fit *f = calloc(1, sizeof *f);
  if (!f) return dg_error(DG_ERR_NOMEM, "train: out of memory");
  int in = dg_net_input_size(net), ntrain = train->n - o->val_count;
  f->net = net;
  f->o = *o;
  f->train = (dg_dataset){ntrain, train->h, train->w, train->images, train->labels};
  f->val = (dg_dataset){o->val_count, train->h, train->w,
                        train->images + (size_t)ntrain * in, train->labels + ntrain};
  f->np = dg_net_param_count(net), f->ns = dg_net_state_count(net);
  f->batches = (ntrain + o->batch - 1) / o->batch;
  dg_net_set_threads(net, o->threads);
  st = dg_net_reserve(net, o->batch);
  if (!st) st = dg_optim_init(&f->opt, o->optimizer, o->lr, net);
  if (!st) st = alloc_buffers(f);
  if (st) {
    dg_fit_free(f);
    return st;
  }
  f->opt.weight_decay = o->weight_decay;
  if (f->ema) weights_get(f, f->ema);
  snapshot(f);
  dg_rng_seed(&f->s.epoch_rng, o->seed);
  f->s.lr = o->lr;
  f->s.best_val_loss = INFINITY;
  *out = f;
  return DG_OK;
}

void dg_fit_free(dg_fit *f) {
  if (!f) return;
  dg_optim_free(&f->opt);
  free(f->perm), free(f->xb), free(f->xa), free(f->yb);
  free(f->best), free(f->ema), free(f->live);
  free(f);
}

/* ---- an epoch ------------------------------------------------------------------ */

int dg_fit_begin_epoch(dg_fit *f, dg_progress *p) {
  if (!f || !p) return dg_error(DG_ERR_ARG, "train: null argument");
  loop_state *s = &f->s;
  if (s->epoch >= f->o.epochs || f->early) return 0;
  /* the epoch's shuffle comes from the generator state at its start */
  dg_rng shuffle = s->epoch_rng;
  int n = f->train.n;
  for (int i = 0; i < n; i++) f->perm[i] = i;
  for (int i = n - 1; i > 0; i--) {
    int j = (int)dg_rng_below(&shuffle, (uint32_t)(i + 1));
    int t = f->perm[i];
    f->perm[i] = f->perm[j], f->perm[j] = t;
  }
  if (s->batch == 0) s->rng = shuffle, s->loss_sum = 0, s->seen = s->correct = 0;
  f->opt.lr = s->lr;
  f->t0 = now_seconds();
  f->epoch_seconds = 0;
  memset(p, 0, sizeof *p);
  p->epoch = s->epoch + 1, p->epochs = f->o.epochs, p->batches = f->batches;
  p->val_loss = p->val_acc = NAN;
  return 1;
}

/* Batch s->batch of this epoch's order into xb, yb: its sample count. */
static int gather(dg_fit *f) {
  int in = dg_net_input_size(f->net), B = f->o.batch;
  int from = f->s.batch * B, nb = f->train.n - from < B ? f->train.n - from : B;
  for (int i = 0; i < nb; i++) {
    int k = f->perm[from + i];
    memcpy(f->xb + (size_t)i * in, f->train.images + (size_t)k * in,
           sizeof(float) * in);
    f->yb[i] = f->train.labels[k];
  }
  return nb;
}

int dg_fit_step(dg_fit *f, dg_progress *p) {
  if (!f || !p) return dg_error(DG_ERR_ARG, "train: null argument");
  loop_state *s = &f->s;
  const dg_train_opts *o = &f->o;
  if (s->batch >= f->batches) return 0;
  int nb = gather(f);
  if (o->cosine) {
    /* cosine decay by global step: smooth, and resumes exactly */
    double t = (double)(s->epoch * f->batches + s->batch) /
               ((double)o->epochs * f->batches);
    s->lr = (float)(o->min_lr + 0.5 * (o->lr - o->min_lr) *
                                    (1 + cos(3.14159265358979 * t)));
    f->opt.lr = s->lr;
  }
  dg_step_aug aug = {&o->aug, f->train.h, f->train.w, f->xa};
  dg_step_result r;
  int st = dg_train_step(f->net, &f->opt, f->xb, f->yb, nb,
                         o->augment ? &aug : NULL, &s->rng, &r);
  if (st == DG_ERR_NUMERIC) {
    restore(f);
    return dg_error(DG_ERR_NUMERIC,
                    "training diverged at epoch %d batch %d (loss %g); kept the "
                    "best weights so far (try a lower --lr)",
                    s->epoch + 1, s->batch + 1, r.loss);
  }
  if (st) return st;
  if (f->ema) ema_update(f, o->ema, f->opt.step);
  s->correct += r.correct;
  s->loss_sum += (double)r.loss * nb;
  s->seen += nb;
  s->batch++;
  f->epoch_seconds = now_seconds() - f->t0;
  p->batch = s->batch;
  p->seen = (int)s->seen;
  p->loss = (float)(s->loss_sum / s->seen);
  p->acc = (float)s->correct / (float)s->seen;
  p->batch_loss = r.loss;
  p->batch_acc = (float)r.correct / (float)nb;
  p->lr = s->lr;
  p->seconds = f->epoch_seconds;
  return nb;
}

void dg_fit_stop(dg_fit *f) {
  if (!f) return;
  f->s.seconds += f->epoch_seconds;
  f->epoch_seconds = 0;
}

/* Validation loss and accuracy into p (of the average with o->ema), and
 * what they mean: a new best (snapshot), or a bad epoch (plateau rule). */
static int validate(dg_fit *f, dg_progress *p) {
  loop_state *s = &f->s;
  const dg_train_opts *o = &f->o;
  if (f->val.n == 0) {
    snapshot(f);
    s->best_epoch = s->epoch + 1;
    p->improved = 1;
    return DG_OK;
  }
  dg_metrics vm;
  if (f->ema) weights_get(f, f->live), weights_set(f, f->ema);
  int st = dg_evaluate(f->net, &f->val, &vm, NULL);
  if (f->ema) weights_set(f, f->live);
  if (st) return st;
  p->val_loss = (float)dg_metrics_loss(&vm);
  p->val_acc = (float)dg_metrics_accuracy(&vm);
  if (!isfinite(p->val_loss)) {
    restore(f);
    return dg_error(DG_ERR_NUMERIC, "validation loss is %g at epoch %d; kept "
                    "the best weights so far", p->val_loss, s->epoch + 1);
  }
  if (p->val_loss < s->best_val_loss - 1e-5f) {
    s->best_val_loss = p->val_loss;
    s->best_epoch = s->epoch + 1;
    s->bad_epochs = s->plateau = 0;
    p->improved = 1;
    snapshot(f);
  } else {
    s->bad_epochs++;
    if (++s->plateau >= o->lr_patience && o->lr_patience > 0 && !o->cosine) {
      s->lr = fmaxf(s->lr * o->lr_factor, o->min_lr);
      s->plateau = 0;
    }
  }
  return DG_OK;
}

int dg_fit_end_epoch(dg_fit *f, dg_progress *p) {
  if (!f || !p) return dg_error(DG_ERR_ARG, "train: null argument");
  loop_state *s = &f->s;
  s->epoch_rng = s->rng;
  s->batch = 0;
  p->seconds = now_seconds() - f->t0;
  s->seconds += p->seconds;
  f->epoch_seconds = 0;
  p->done = 1;
  int st = validate(f, p);
  if (!st) st = history_append(f->net, p);
  if (st) return st;
  f->early = f->o.patience > 0 && s->bad_epochs >= f->o.patience;
  s->epoch++;
  return DG_OK;
}

/* ---- the end of a run ------------------------------------------------------------- */

static int set_meta_fmt(dg_net *net, const char *key, const char *fmt,
                        double v) {
  char buf[64];
  snprintf(buf, sizeof buf, fmt, v);
  return dg_net_meta_set(net, key, buf);
}

int dg_fit_finish(dg_fit *f) {
  if (!f) return dg_error(DG_ERR_ARG, "train: null argument");
  loop_state *s = &f->s;
  if (f->o.keep_last) {
    s->best_epoch = s->epoch;
    if (f->ema) weights_set(f, f->ema);
  } else {
    restore(f);
  }
  int st = set_meta_fmt(f->net, "best_epoch", "%.0f", s->best_epoch);
  if (!st) st = set_meta_fmt(f->net, "epochs_run", "%.0f", s->epoch);
  if (!st) st = set_meta_fmt(f->net, "train_seconds", "%.2f", s->seconds);
  if (!st && f->val.n > 0)
    st = set_meta_fmt(f->net, "val_loss", "%.6f", s->best_val_loss);
  return st;
}
