/* train.c: training as one call (dg_train, what the CLI uses): the epoch
 * loop of fit.c driven to its end, resumed from and checkpointed to files
 * (checkpoint.c) after every epoch, with the caller's progress callback
 * after every batch and epoch (a non-zero answer stops the run with a
 * checkpoint); the options' defaults; evaluation of a dataset. */
#include <stdlib.h>
#include <string.h>

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

/* A stop asked for inside an epoch: a checkpoint there, DG_ERR_STOPPED. */
static int stop_inside(dg_fit *f, const dg_train_opts *o, const dg_progress *p) {
  dg_fit_stop(f);
  if (o->checkpoint) {
    int st = dg_fit_save(f, o->checkpoint);
    if (st) return st;
  }
  return dg_error(DG_ERR_STOPPED, "training stopped at epoch %d batch %d%s%s",
                  p->epoch, p->batch, o->checkpoint ? "; checkpoint in " : "",
                  o->checkpoint ? o->checkpoint : "");
}

/* Run the epochs of f, reporting to o's progress callback. */
static int run_epochs(dg_fit *f, const dg_train_opts *o) {
  dg_progress p;
  int st;
  while ((st = dg_fit_begin_epoch(f, &p)) > 0) {
    while ((st = dg_fit_step(f, &p)) > 0)
      if (o->progress && o->progress(&p, o->user)) return stop_inside(f, o, &p);
    if (st < 0 || (st = dg_fit_end_epoch(f, &p))) return st;
    int stop = o->progress && o->progress(&p, o->user);
    if (o->checkpoint && (st = dg_fit_save(f, o->checkpoint))) return st;
    if (stop)
      return dg_error(DG_ERR_STOPPED, "training stopped after epoch %d", p.epoch);
  }
  return st;
}

int dg_train(dg_net *net, const dg_dataset *train, const dg_train_opts *o) {
  dg_fit *f = NULL;
  int st = dg_fit_new(&f, net, train, o);
  if (st) return st;
  if (o->resume) st = dg_fit_resume(f, o->resume);
  if (!st) st = run_epochs(f, o);
  if (!st) st = dg_fit_finish(f);
  dg_fit_free(f);
  return st;
}
