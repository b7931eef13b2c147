/* train/fit.h: the state of the epoch loop, shared by fit.c (the loop) and
 * checkpoint.c (saving and resuming it); not a public header. */
#ifndef DG_TRAIN_FIT_H
#define DG_TRAIN_FIT_H

#include "digits.h"

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

struct dg_fit {
  dg_net *net;               /* borrowed */
  dg_train_opts o;           /* a copy; its strings are borrowed */
  dg_dataset train, val;     /* borrowed images: the first ntrain, the rest */
  dg_optim opt;
  loop_state s;
  int batches;               /* per epoch */
  int early;                 /* early stopping ended the run */
  int *perm;                 /* (ntrain) this epoch's order */
  float *xb;                 /* (batch, in) gathered batch */
  float *xa;                 /* (batch, in) its augmented copy */
  uint8_t *yb;               /* (batch) */
  float *best;               /* (nparams + nstate) */
  float *ema, *live;         /* (nparams + nstate) each, with o->ema only */
  size_t np, ns;
  double t0;                 /* start of this epoch's timing */
  double epoch_seconds;      /* this epoch so far, at the last batch */
};

#endif
