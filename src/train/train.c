/* train.c: the training loop: shuffled mini-batches (with optional
 * augmentation), Adam or SGD, validation on the tail of the training set,
 * learning-rate reduction on plateau, early stopping that restores the best
 * weights, a checkpoint after every epoch (and when stopped), and resume.
 *
 * With o->ema, an exponential moving average of the weights (Polyak
 * averaging) is kept next to the live ones; it is what validation sees, what
 * the best snapshot stores and what the run returns.
 *
 * Resume is exact: a checkpoint holds the weights, the optimizer moments,
 * the best weights so far (and the average), and the loop state (epoch, batch, generator
 * states) as metadata, so an interrupted and resumed run computes the same
 * numbers as an uninterrupted one. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digits.h"

dg_train_opts dg_train_defaults(void) {
  dg_train_opts o;
  memset(&o, 0, sizeof o);
  o.epochs = 10;
  o.batch = 64;
  o.lr = 1e-3f;
  o.optimizer = DG_OPT_ADAM;
  o.aug = dg_augment_default();
  o.seed = 1;
  o.patience = 5;
  o.lr_patience = 3;
  o.lr_factor = 0.5f;
  o.min_lr = 1e-5f;
  o.val_count = 5000;
  o.threads = 1;
  return o;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int dg_evaluate(dg_net *net, const dg_dataset *ds, dg_metrics *m, float *probs) {
  if (!net || !ds || !m) return dg_error(DG_ERR_ARG, "evaluate: null argument");
  int in = dg_net_input_size(net), k = dg_net_output_size(net);
  if (ds->h * ds->w != in)
    return dg_error(DG_ERR_ARG, "evaluate: images are %dx%d, the model expects %d values",
                    ds->h, ds->w, in);
  dg_metrics_reset(m, k);
  enum { B = 250 };
  float *p = probs ? NULL : malloc(sizeof(float) * B * k);
  if (!probs && !p) return dg_error(DG_ERR_NOMEM, "evaluate: out of memory");
  int st = DG_OK;
  for (int i = 0; i < ds->n && !st; i += B) {
    int nb = ds->n - i < B ? ds->n - i : B;
    float *out = probs ? probs + (size_t)i * k : p;
    st = dg_net_predict(net, ds->images + (size_t)i * in, nb, out);
    if (!st) dg_metrics_add(m, out, ds->labels + i, nb);
  }
  free(p);
  return st;
}

/* Everything the loop carries between batches, saved in checkpoints. */
typedef struct {
  int epoch, batch;          /* next epoch / next batch within it */
  dg_rng epoch_rng;          /* generator before this epoch's shuffle */
  dg_rng rng;                /* generator now (dropout, augmentation) */
  float lr, best_val_loss;
  int bad_epochs, plateau, best_epoch;
  double loss_sum;           /* this epoch so far */
  int64_t seen, correct;
  double seconds;            /* training time of all finished epochs */
} loop_state;

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

typedef struct {
  dg_net *net;
  dg_optim *opt;
  float *best;               /* (nparams + nstate) */
  float *ema, *live;         /* (nparams + nstate) each, with o->ema only */
  size_t np, ns;
} train_ctx;

static int save_checkpoint(train_ctx *c, const char *path, const loop_state *s) {
  char buf[512];
  state_format(s, buf, sizeof buf);
  int st = dg_net_meta_set(c->net, "train_state", buf);
  if (st) return st;
  dg_blob blobs[4] = {{"__train.adam_m", c->opt->m, c->np},
                      {"__train.adam_v", c->opt->v, c->np},
                      {"__train.best", c->best, c->np + c->ns},
                      {"__train.ema", c->ema, c->np + c->ns}};
  char step[32];
  snprintf(step, sizeof step, "%" PRId64, c->opt->step);
  st = dg_net_meta_set(c->net, "train_step", step);
  if (!st) st = dg_model_save(c->net, path, blobs, c->ema ? 4 : 3);
  dg_net_meta_del(c->net, "train_state");
  dg_net_meta_del(c->net, "train_step");
  return st;
}

static int load_checkpoint(train_ctx *c, const char *path, loop_state *s) {
  dg_net *ck = NULL;
  dg_blob *blobs = NULL;
  int nb = 0;
  int st = dg_model_load(&ck, path, &blobs, &nb);
  if (st) return st;
  const char *ts = dg_net_meta_get(ck, "train_state");
  const char *step = dg_net_meta_get(ck, "train_step");
  if (strcmp(dg_net_arch(ck), dg_net_arch(c->net)))
    st = dg_error(DG_ERR_FORMAT, "%s: checkpoint of another architecture (%s)",
                  path, dg_net_arch(ck));
  else if (!ts || !step || !state_parse(s, ts))
    st = dg_error(DG_ERR_FORMAT, "%s: not a training checkpoint (no train_state)",
                  path);
  int found = 0;
  for (int i = 0; !st && i < nb; i++) {
    float *dst = NULL;
    size_t want = 0;
    if (!strcmp(blobs[i].name, "__train.adam_m")) dst = c->opt->m, want = c->np;
    if (!strcmp(blobs[i].name, "__train.adam_v")) dst = c->opt->v, want = c->np;
    if (!strcmp(blobs[i].name, "__train.best")) dst = c->best, want = c->np + c->ns;
    if (!strcmp(blobs[i].name, "__train.ema")) {
      if (!c->ema) {
        st = dg_error(DG_ERR_ARG, "%s: the run was trained with --ema; resume "
                      "it with the same --ema", path);
        break;
      }
      dst = c->ema, want = c->np + c->ns;
    }
    if (!dst) continue;
    if (blobs[i].size != want) {
      st = dg_error(DG_ERR_FORMAT, "%s: %s has %zu values, expected %zu", path,
                    blobs[i].name, blobs[i].size, want);
      break;
    }
    memcpy(dst, blobs[i].data, want * sizeof(float));
    found++;
  }
  if (!st && found < 3)
    st = dg_error(DG_ERR_FORMAT, "%s: checkpoint lacks optimizer state", path);
  else if (!st && c->ema && found != 4)
    st = dg_error(DG_ERR_ARG, "%s: the run was trained without --ema; resume "
                  "it without --ema", path);
  if (!st) {
    c->opt->step = strtoll(step, NULL, 10);
    st = dg_net_copy_weights(c->net, ck);
    const char *h = dg_net_meta_get(ck, "history");
    if (!st && h) st = dg_net_meta_set(c->net, "history", h);
  }
  dg_blobs_free(blobs, nb);
  dg_net_free(ck);
  return st;
}

/* The net's weights and BN statistics to/from a (nparams + nstate) buffer. */
static void weights_get(train_ctx *c, float *to) {
  memcpy(to, dg_net_params(c->net), c->np * sizeof(float));
  memcpy(to + c->np, dg_net_state(c->net), c->ns * sizeof(float));
}
static void weights_set(train_ctx *c, const float *from) {
  memcpy(dg_net_params(c->net), from, c->np * sizeof(float));
  memcpy(dg_net_state(c->net), from + c->np, c->ns * sizeof(float));
}
/* The best snapshot: of the average when there is one, else of the net. */
static void snapshot(train_ctx *c) {
  if (c->ema) memcpy(c->best, c->ema, (c->np + c->ns) * sizeof(float));
  else weights_get(c, c->best);
}
static void restore(train_ctx *c) { weights_set(c, c->best); }

/* ema = d ema + (1 - d) net after optimizer step t (1, 2, ...); the decay
 * ramps up from 0.1 so that early weights do not linger in the average. */
static void ema_update(train_ctx *c, float decay, int64_t t) {
  float d = fminf(decay, (float)(1 + t) / (float)(10 + t)), e = 1 - d;
  const float *p = dg_net_params(c->net), *q = dg_net_state(c->net);
  float *a = c->ema, *b = c->ema + c->np;
  for (size_t i = 0; i < c->np; i++) a[i] = d * a[i] + e * p[i];
  for (size_t i = 0; i < c->ns; i++) b[i] = d * b[i] + e * q[i];
}

static int argmax(const float *p, int k) {
  int b = 0;
  for (int j = 1; j < k; j++)
    if (p[j] > p[b]) b = j;
  return b;
}

int dg_train(dg_net *net, const dg_dataset *train, const dg_train_opts *o) {
  if (!net || !train || !o) return dg_error(DG_ERR_ARG, "train: null argument");
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
  int ntrain = train->n - o->val_count, B = o->batch;
  dg_dataset val = {o->val_count, train->h, train->w,
                    train->images + (size_t)ntrain * in, train->labels + ntrain};
  dg_net_set_threads(net, o->threads);
  int st = dg_net_reserve(net, B);
  if (st) return st;

  dg_optim opt;
  st = dg_optim_init(&opt, o->optimizer, o->lr, net);
  if (st) return st;
  opt.weight_decay = o->weight_decay;
  train_ctx c = {net, &opt, NULL, NULL, NULL, dg_net_param_count(net),
                 dg_net_state_count(net)};
  int *perm = malloc(sizeof(int) * ntrain);
  float *xb = malloc(sizeof(float) * B * in);
  uint8_t *yb = malloc(B);
  c.best = malloc(sizeof(float) * (c.np + c.ns + 1));
  if (o->ema > 0) {
    c.ema = malloc(sizeof(float) * (c.np + c.ns + 1));
    c.live = malloc(sizeof(float) * (c.np + c.ns + 1));
  }
  if (!perm || !xb || !yb || !c.best || (o->ema > 0 && (!c.ema || !c.live))) {
    st = dg_error(DG_ERR_NOMEM, "train: out of memory");
    goto done;
  }
  if (c.ema) weights_get(&c, c.ema);
  snapshot(&c);

  loop_state s;
  memset(&s, 0, sizeof s);
  dg_rng_seed(&s.epoch_rng, o->seed);
  s.lr = o->lr;
  s.best_val_loss = INFINITY;
  s.best_epoch = 0;
  if (o->resume) {
    st = load_checkpoint(&c, o->resume, &s);
    if (st) goto done;
  }
  int batches = (ntrain + B - 1) / B;
  dg_metrics vm;
  for (; s.epoch < o->epochs; s.epoch++) {
    /* the epoch's shuffle comes from the generator state at its start */
    dg_rng shuffle = s.epoch_rng;
    for (int i = 0; i < ntrain; i++) perm[i] = i;
    for (int i = ntrain - 1; i > 0; i--) {
      int j = (int)dg_rng_below(&shuffle, (uint32_t)(i + 1));
      int t = perm[i];
      perm[i] = perm[j], perm[j] = t;
    }
    if (s.batch == 0) s.rng = shuffle, s.loss_sum = 0, s.seen = s.correct = 0;
    opt.lr = s.lr;
    double t0 = now_seconds();
    dg_progress p = {0};
    p.epoch = s.epoch + 1, p.epochs = o->epochs, p.batches = batches;
    p.val_loss = p.val_acc = NAN;
    for (; s.batch < batches; s.batch++) {
      int from = s.batch * B, nb = ntrain - from < B ? ntrain - from : B;
      for (int i = 0; i < nb; i++) {
        const float *img = train->images + (size_t)perm[from + i] * in;
        if (o->augment)
          dg_augment(img, xb + (size_t)i * in, train->h, train->w, &o->aug, &s.rng);
        else
          memcpy(xb + (size_t)i * in, img, sizeof(float) * in);
        yb[i] = train->labels[perm[from + i]];
      }
      if (o->cosine) {
        /* cosine decay by global step: smooth, and resumes exactly */
        double t = (double)(s.epoch * batches + s.batch) / ((double)o->epochs * batches);
        s.lr = (float)(o->min_lr + 0.5 * (o->lr - o->min_lr) * (1 + cos(3.14159265358979 * t)));
        opt.lr = s.lr;
      }
      float loss;
      st = dg_net_forward(net, xb, nb, 1, &s.rng);
      if (!st) st = dg_net_backward(net, yb, &loss);
      if (st == DG_ERR_NUMERIC) {
        restore(&c);
        st = dg_error(DG_ERR_NUMERIC,
                      "training diverged at epoch %d batch %d (loss %g); kept the "
                      "best weights so far (try a lower --lr)",
                      s.epoch + 1, s.batch + 1, loss);
        goto done;
      }
      if (st) goto done;
      dg_optim_step(&opt, net);
      if (c.ema) ema_update(&c, o->ema, opt.step);
      const float *out = dg_net_output(net);
      for (int i = 0; i < nb; i++) s.correct += argmax(out + (size_t)i * k, k) == yb[i];
      s.loss_sum += (double)loss * nb;
      s.seen += nb;
      p.batch = s.batch + 1;
      p.loss = (float)(s.loss_sum / s.seen);
      p.acc = (float)s.correct / (float)s.seen;
      p.lr = s.lr;
      p.seconds = now_seconds() - t0;
      if (o->progress && o->progress(&p, o->user)) {
        s.batch++;
        s.seconds += p.seconds;
        if (o->checkpoint) {
          st = save_checkpoint(&c, o->checkpoint, &s);
          if (st) goto done;
        }
        st = dg_error(DG_ERR_STOPPED, "training stopped at epoch %d batch %d%s%s",
                      s.epoch + 1, s.batch, o->checkpoint ? "; checkpoint in " : "",
                      o->checkpoint ? o->checkpoint : "");
        goto done;
      }
    }
    /* end of epoch: validate, schedule, checkpoint */
    s.epoch_rng = s.rng;
    s.batch = 0;
    p.seconds = now_seconds() - t0;
    s.seconds += p.seconds;
    p.done = 1;
    if (val.n > 0) {
      if (c.ema) weights_get(&c, c.live), weights_set(&c, c.ema);
      st = dg_evaluate(net, &val, &vm, NULL);
      if (c.ema) weights_set(&c, c.live);
      if (st) goto done;
      p.val_loss = (float)dg_metrics_loss(&vm);
      p.val_acc = (float)dg_metrics_accuracy(&vm);
      if (!isfinite(p.val_loss)) {
        restore(&c);
        st = dg_error(DG_ERR_NUMERIC, "validation loss is %g at epoch %d; kept "
                      "the best weights so far", p.val_loss, s.epoch + 1);
        goto done;
      }
      if (p.val_loss < s.best_val_loss - 1e-5f) {
        s.best_val_loss = p.val_loss;
        s.best_epoch = s.epoch + 1;
        s.bad_epochs = s.plateau = 0;
        p.improved = 1;
        snapshot(&c);
      } else {
        s.bad_epochs++;
        if (++s.plateau >= o->lr_patience && o->lr_patience > 0 && !o->cosine) {
          s.lr = fmaxf(s.lr * o->lr_factor, o->min_lr);
          s.plateau = 0;
        }
      }
    } else {
      snapshot(&c);
      s.best_epoch = s.epoch + 1;
      p.improved = 1;
    }
    st = history_append(net, &p);
    if (st) goto done;
    int stop = o->progress && o->progress(&p, o->user);
    int early = o->patience > 0 && s.bad_epochs >= o->patience;
    s.epoch++;
    if (o->checkpoint) {
      st = save_checkpoint(&c, o->checkpoint, &s);
      if (st) goto done;
    }
    s.epoch--;
    if (stop) {
      st = dg_error(DG_ERR_STOPPED, "training stopped after epoch %d", s.epoch + 1);
      goto done;
    }
    if (early) {
      s.epoch++;
      break;
    }
  }
  if (o->keep_last) {
    s.best_epoch = s.epoch;
    if (c.ema) weights_set(&c, c.ema);
  } else {
    restore(&c);
  }
  {
    char buf[64];
    snprintf(buf, sizeof buf, "%d", s.best_epoch);
    st = dg_net_meta_set(net, "best_epoch", buf);
    snprintf(buf, sizeof buf, "%d", s.epoch);
    if (!st) st = dg_net_meta_set(net, "epochs_run", buf);
    snprintf(buf, sizeof buf, "%.2f", s.seconds);
    if (!st) st = dg_net_meta_set(net, "train_seconds", buf);
    if (!st && val.n > 0) {
      snprintf(buf, sizeof buf, "%.6f", s.best_val_loss);
      st = dg_net_meta_set(net, "val_loss", buf);
    }
  }
done:
  dg_optim_free(&opt);
  free(perm), free(xb), free(yb), free(c.best), free(c.ema), free(c.live);
  return st;
}
