/* wasm/api.c: the exports of the WebAssembly module, a thin layer over the
 * C library for web/lib/digits.js (the only code that calls them).
 *
 * Conventions (the ABI between this file and digits.js):
 *   - every fallible call returns an int: >= 0 success (a digit, a count or
 *     a handle), < 0 a DG_ERR_* status; last_error() then holds the message;
 *   - handles (nets, trainers, saved buffers) are pointers into linear
 *     memory; the module's memory is capped at 2 GB, so a valid pointer is
 *     always a positive int and cannot be mistaken for a status;
 *   - buffers are malloc'd and free'd by JS through the exported malloc and
 *     free; sizes are in elements unless named _bytes;
 *   - each call does a bounded amount of work (one image, one batch): V8
 *     optimizes functions that are called many times, while one long-running
 *     call can stay in the slow baseline tier (docs/performance.md).
 * No globals besides the library's last-error message and one result slot
 * for model_save's length.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "wasm/abi.h"

/* Exported: every non-static function here, listed in src/wasm/exports.txt;
 * DG_EXPORT only marks them for the reader. */
#define DG_EXPORT

/* ---- status and build -------------------------------------------------- */

/* The message of the last failure. */
DG_EXPORT const char *last_error(void) { return dg_last_error(); }

/* A short name for a status code. */
DG_EXPORT const char *status_name(int code) { return dg_status_name(code); }

/* What was compiled in ("simd=wasm simd128 threads=none compiler=clang ..."). */
DG_EXPORT const char *build_info(void) { return dg_build_info(); }

/* Name of architecture i, or NULL past the end. */
DG_EXPORT const char *arch_name(int i) {
  const char *const *names = dg_arch_names();
  for (int k = 0; names[k]; k++)
    if (k == i) return names[k];
  return NULL;
}

/* ---- nets: load, create, describe, free --------------------------------- */

/* Load a model file from bytes: a net handle or a status. */
DG_EXPORT int model_load(const uint8_t *buf, int len) {
  if (!buf || len <= 0)
    return dg_error(DG_ERR_FORMAT, "model: empty buffer");
  dg_net *net = NULL;
  int st = dg_model_load_mem(&net, buf, (size_t)len, NULL, NULL);
  if (st) return st;
  return (int)(uintptr_t)net;
}

/* Convert an ONNX model from bytes (dg_onnx_import_mem, the code behind
 * `digits convert`): a net handle or a status. */
DG_EXPORT int onnx_load(const uint8_t *buf, int len) {
  if (!buf || len <= 0)
    return dg_error(DG_ERR_FORMAT, "ONNX model: empty buffer");
  dg_net *net = NULL;
  int st = dg_onnx_import_mem(&net, buf, (size_t)len);
  if (st) return st;
  return (int)(uintptr_t)net;
}

/* A new net from an architecture name or spec, weights from seed. */
DG_EXPORT int net_new(const char *arch, uint32_t seed) {
  if (!arch) return dg_error(DG_ERR_ARG, "net: no architecture");
  dg_net *net = NULL;
  int st = dg_net_new(&net, arch, seed);
  if (st) return st;
  return (int)(uintptr_t)net;
}

DG_EXPORT void net_free(dg_net *net) { dg_net_free(net); }

/* The sizes of a net into *out (wasm/abi.h; JS reads it by the field
 * offsets generated into web/lib/constants.js). */
DG_EXPORT int net_info(const dg_net *net, dg_wasm_net_info *out) {
  if (!net || !out) return dg_error(DG_ERR_ARG, "net_info: null argument");
  out->params = (int32_t)dg_net_param_count(net);
  out->state = (int32_t)dg_net_state_count(net);
  out->layers = dg_net_layer_count(net);
  out->input_size = dg_net_input_size(net);
  out->output_size = dg_net_output_size(net);
  out->takes_image = out->input_size == 28 * 28;
  return DG_OK;
}

/* The net's normalised architecture spec. */
DG_EXPORT const char *net_arch(const dg_net *net) {
  return net ? dg_net_arch(net) : NULL;
}

/* Layer i for summaries: name and kind returned through names (2 pointers),
 * shape and counts through out (5 ints: h, w, c, params, state). */
DG_EXPORT int net_layer(const dg_net *net, int i, const char **names,
                        int *out) {
  dg_layer_info li;
  if (!names || !out) return dg_error(DG_ERR_ARG, "net_layer: null argument");
  int st = dg_net_layer_info(net, i, &li);
  if (st) return st;
  names[0] = li.name, names[1] = li.kind;
  out[0] = li.out_h, out[1] = li.out_w, out[2] = li.out_c;
  out[3] = (int)li.params, out[4] = (int)li.state;
  return DG_OK;
}

/* Metadata: count, entry i (key and value through kv, 2 pointers), lookup
 * by key (NULL if absent), set (a status). */
DG_EXPORT int net_meta_count(const dg_net *net) {
  return net ? dg_net_meta_count(net) : 0;
}
DG_EXPORT int net_meta_at(const dg_net *net, int i, const char **kv) {
  if (!net || !kv) return dg_error(DG_ERR_ARG, "meta: null argument");
  return dg_net_meta_at(net, i, &kv[0], &kv[1]);
}
DG_EXPORT const char *net_meta_get(const dg_net *net, const char *key) {
  return net && key ? dg_net_meta_get(net, key) : NULL;
}
DG_EXPORT int net_meta_set(dg_net *net, const char *key, const char *value) {
  return dg_net_meta_set(net, key, value);
}

/* ---- prediction ----------------------------------------------------------- */

static int argmax(const float *p, int k) {
  int best = 0;
  for (int i = 1; i < k; i++)
    if (p[i] > p[best]) best = i;
  return best;
}

static int check_probs(const float *p, int n) {
  for (int i = 0; i < n; i++)
    if (!isfinite(p[i]))
      return dg_error(DG_ERR_NUMERIC, "predict: the model gave a non-finite "
                                      "probability");
  return DG_OK;
}

/* dg_preprocess_info as 11 ints, copied whole: digits.js reads it by the
 * field offsets generated into web/lib/constants.js. */
enum { DG_INFO_INTS = 11 };
_Static_assert(sizeof(dg_preprocess_info) == DG_INFO_INTS * sizeof(int32_t),
               "dg_preprocess_info changed size: update DG_INFO_INTS");
static void info_out(const dg_preprocess_info *pi, int32_t *out) {
  memcpy(out, pi, sizeof *pi);
}

/* Classify one 28x28 input (784 floats, ink = 1): the digit or a status.
 * probs: (output size), normally 10. */
DG_EXPORT int predict_input(dg_net *net, const float *x, float *probs) {
  if (!net || !x || !probs)
    return dg_error(DG_ERR_ARG, "predict: null argument");
  int st = dg_net_predict(net, x, 1, probs);
  int k = dg_net_output_size(net);
  if (!st) st = check_probs(probs, k);
  return st ? st : argmax(probs, k);
}

/* The browser's entry point: canvas pixels rgba (height, width, 4) bytes ->
 * preprocess -> network -> probs (10); the digit or a status
 * (DG_ERR_EMPTY for an image without ink, DG_ERR_UNCERTAIN when several
 * digit-sized shapes compete). input (784 floats, may be NULL) receives the
 * 28x28 picture the network saw (blank when nothing was read). info (11 ints,
 * may be NULL) receives what preprocessing found, in dg_preprocess_info's
 * order: box x, y, w, h (source pixels), scale, photo, dark_ink, kept,
 * dropped, lines, candidates; it is filled on success and on EMPTY and
 * UNCERTAIN (all zero on other failures), so the page can draw the region
 * it read even when it declines to guess. */
DG_EXPORT int predict(dg_net *net, const uint8_t *rgba, int width, int height,
                      float *probs, float *input, int32_t *info) {
  if (info) memset(info, 0, sizeof(int32_t) * DG_INFO_INTS);
  if (!net || !rgba || !probs)
    return dg_error(DG_ERR_ARG, "predict: null argument");
  if (dg_net_input_size(net) != 28 * 28)
    return dg_error(DG_ERR_ARG, "predict: the model takes %d inputs, not a "
                    "28x28 image", dg_net_input_size(net));
  float x[28 * 28];
  dg_preprocess_info pi;
  memset(&pi, 0, sizeof pi);
  int st = dg_preprocess_ex(rgba, width, height, 4, x, &pi);
  if (info && (st == DG_OK || st == DG_ERR_EMPTY || st == DG_ERR_UNCERTAIN))
    info_out(&pi, info);
  if (input && st == DG_OK) memcpy(input, x, sizeof x);
  if (input && (st == DG_ERR_EMPTY || st == DG_ERR_UNCERTAIN))
    memset(input, 0, sizeof x); /* shown blank */
  if (st) return st;
  return predict_input(net, x, probs);
}

static int net_classify(void *user, const float *x, int n, float *probs) {
  return dg_net_predict((dg_net *)user, x, n, probs);
}

/* A number: canvas pixels rgba (height, width, 4) bytes -> every digit
 * side by side (dg_read_number_readers with the nverifiers verifiers at
 * verifiers, 0 and 0 for none: pieces merged, touching digits split, left
 * to right; one digit reads exactly as predict). out (wasm/abi.h) receives
 * the digits and boxes, conf (1 + DG_NUMBER_MAX) the number's confidence
 * then each digit's, probs (DG_NUMBER_MAX, 10) each digit's ten
 * probabilities; returns the digit count (0: no ink) or a status. */
_Static_assert(DG_WASM_NUMBER_MAX == DG_NUMBER_MAX,
               "wasm/abi.h's DG_WASM_NUMBER_MAX must be DG_NUMBER_MAX");
DG_EXPORT int read_number(dg_net *net, dg_net *const *verifiers, int nverifiers,
                          const uint8_t *rgba,
                          int width, int height, dg_wasm_number *out,
                          float *conf, float *probs) {
  if (!net || !rgba || !out || !conf || !probs)
    return dg_error(DG_ERR_ARG, "number: null argument");
  if (dg_net_input_size(net) != 28 * 28 || dg_net_output_size(net) != 10)
    return dg_error(DG_ERR_ARG, "number: the model takes %d inputs and gives "
                    "%d outputs, not a 28x28 image and 10 digits",
                    dg_net_input_size(net), dg_net_output_size(net));
  dg_number num; /* about 2 kB: on the stack, like predict's input */
  int st = dg_read_number_readers(rgba, width, height, 4, net_classify, net,
                                  verifiers, nverifiers, &num);
  if (st == DG_OK) {
    memset(out, 0, sizeof *out);
    out->n = num.n, out->photo = num.photo;
    out->split = num.split, out->truncated = num.truncated;
    conf[0] = num.confidence;
    for (int i = 0; i < num.n; i++) {
      const dg_number_digit *d = &num.digits[i];
      out->digits[i].digit = d->digit;
      memcpy(out->digits[i].box, d->box, sizeof d->box);
      out->digits[i].unsure = d->unsure;
      conf[1 + i] = d->confidence;
      memcpy(probs + (size_t)i * 10, d->probs, sizeof d->probs);
    }
    st = check_probs(probs, num.n * 10);
  }
  return st == DG_OK ? num.n : st;
}

/* Only the preprocessing: rgba (height, width, channels) -> out (784). */
DG_EXPORT int preprocess(const uint8_t *pixels, int width, int height,
                         int channels, float *out) {
  return dg_preprocess(pixels, width, height, channels, out);
}

/* Classify n inputs x (n, input size) -> probs (n, output size). */
DG_EXPORT int predict_batch(dg_net *net, const float *x, int n, float *probs) {
  if (!net || !x || !probs || n < 1)
    return dg_error(DG_ERR_ARG, "predict: bad argument");
  int st = dg_net_predict(net, x, n, probs);
  return st ? st : check_probs(probs, n * dg_net_output_size(net));
}

/* Loss and accuracy of one batch: x (n, input size), labels (n);
 * out (2 floats): summed cross-entropy, number correct. probs
 * (n, output size) may be NULL. Dropout off, batch norm running stats. */
DG_EXPORT int eval_batch(dg_net *net, const float *x, const uint8_t *labels,
                         int n, float *probs, float *out) {
  if (!net || !x || !labels || !out || n < 1)
    return dg_error(DG_ERR_ARG, "evaluate: bad argument");
  int k = dg_net_output_size(net);
  float *p = probs;
  if (!p && !(p = malloc(sizeof(float) * (size_t)n * k)))
    return dg_error(DG_ERR_NOMEM, "evaluate: out of memory");
  int st = dg_net_predict(net, x, n, p);
  if (!st) {
    double loss = 0;
    int correct = 0;
    for (int i = 0; i < n; i++) {
      if (labels[i] >= k) {
        st = dg_error(DG_ERR_ARG, "evaluate: label %d of sample %d is not "
                      "below %d", labels[i], i, k);
        break;
      }
      const float *r = p + (size_t)i * k;
      loss -= log(r[labels[i]] > 1e-12f ? r[labels[i]] : 1e-12f);
      correct += argmax(r, k) == labels[i];
    }
    out[0] = (float)loss, out[1] = (float)correct;
  }
  if (p != probs) free(p);
  return st;
}

/* ---- saving ------------------------------------------------------------------ */

/* Serialize a net to a new buffer (a pointer, free it with free) and its
 * length through len; or a status. */
DG_EXPORT int model_save(const dg_net *net, int *len) {
  if (!net || !len) return dg_error(DG_ERR_ARG, "save: null argument");
  uint8_t *buf = NULL;
  size_t n = 0;
  int st = dg_model_save_mem(net, NULL, 0, &buf, &n);
  if (st) return st;
  if (n > 0x7fffffff) {
    free(buf);
    return dg_error(DG_ERR_NOMEM, "save: model too large");
  }
  *len = (int)n;
  return (int)(uintptr_t)buf;
}

/* ---- training: one call per batch ------------------------------------------ */

typedef struct {
  dg_net *net;           /* borrowed: the caller frees it after the trainer */
  dg_optim opt;
  dg_rng rng;            /* dropout and augmentation */
  uint32_t seed;         /* of rng, for the runs fit_new starts */
  int augment;
  dg_augment_opts aug;
  float *xa;             /* (cap, input size) augmented copy of a batch */
  int cap;
} trainer;

/* A trainer for net: optimizer 0 SGD (momentum 0.9) or 1 Adam, learning
 * rate, decoupled weight decay, seed of its random numbers. */
DG_EXPORT int trainer_new(dg_net *net, int optimizer, float lr,
                          float weight_decay, uint32_t seed) {
  if (!net) return dg_error(DG_ERR_ARG, "trainer: no net");
  if (optimizer != DG_OPT_SGD && optimizer != DG_OPT_ADAM)
    return dg_error(DG_ERR_ARG, "trainer: unknown optimizer %d", optimizer);
  if (!(weight_decay >= 0) || !isfinite(weight_decay))
    return dg_error(DG_ERR_ARG, "trainer: weight decay must be >= 0");
  trainer *t = calloc(1, sizeof *t);
  if (!t) return dg_error(DG_ERR_NOMEM, "trainer: out of memory");
  int st = dg_optim_init(&t->opt, (dg_opt_kind)optimizer, lr, net);
  if (st) {
    free(t);
    return st;
  }
  t->opt.weight_decay = weight_decay;
  t->net = net;
  t->seed = seed;
  dg_rng_seed(&t->rng, seed);
  t->aug = dg_augment_default();
  return (int)(uintptr_t)t;
}

DG_EXPORT void trainer_free(trainer *t) {
  if (!t) return;
  dg_optim_free(&t->opt);
  free(t->xa);
  free(t);
}

/* Change the learning rate (schedules live in JS). */
DG_EXPORT int trainer_set_lr(trainer *t, float lr) {
  if (!t || !(lr > 0) || !isfinite(lr))
    return dg_error(DG_ERR_ARG, "trainer: learning rate must be > 0");
  t->opt.lr = lr;
  return DG_OK;
}

/* Augmentation of training batches: on/off and the largest rotation
 * (degrees), zoom, shift, shear and stroke-thickness change. */
DG_EXPORT int trainer_set_augment(trainer *t, int on, float rotate_deg,
                                  float zoom, float shift, float shear,
                                  float thickness) {
  if (!t) return dg_error(DG_ERR_ARG, "trainer: null");
  float v[5] = {rotate_deg, zoom, shift, shear, thickness};
  for (int i = 0; i < 5; i++)
    if (!(v[i] >= 0) || !isfinite(v[i]))
      return dg_error(DG_ERR_ARG, "augment: limits must be finite and >= 0");
  t->augment = on != 0;
  t->aug.rotate_deg = rotate_deg, t->aug.zoom = zoom, t->aug.shift = shift;
  t->aug.shear = shear, t->aug.thickness = thickness;
  return DG_OK;
}

static int reserve(trainer *t, int n) {
  if (n <= t->cap) return DG_OK;
  size_t in = (size_t)dg_net_input_size(t->net);
  float *xa = realloc(t->xa, sizeof(float) * in * (size_t)n);
  if (!xa) return dg_error(DG_ERR_NOMEM, "trainer: out of memory");
  t->xa = xa, t->cap = n;
  return DG_OK;
}

/* One training step on x (n, input size) with labels (n): dg_train_step
 * (augmentation when on, forward with dropout, backward, optimizer update).
 * out (2 floats): mean loss, accuracy of the batch before the update. */
DG_EXPORT int train_batch(trainer *t, const float *x, const uint8_t *labels,
                          int n, float *out) {
  if (!t || !x || !labels || !out || n < 1)
    return dg_error(DG_ERR_ARG, "train: bad argument");
  dg_step_aug aug = {&t->aug, 28, 28, NULL};
  if (t->augment) {
    int st = reserve(t, n);
    if (st) return st;
    aug.buf = t->xa;
  }
  dg_step_result r;
  int st = dg_train_step(t->net, &t->opt, x, labels, n, t->augment ? &aug : NULL,
                         &t->rng, &r);
  if (st == DG_ERR_NUMERIC)
    return dg_error(DG_ERR_NUMERIC, "training diverged (loss %g); try a lower "
                    "learning rate", r.loss);
  if (st) return st;
  out[0] = r.loss;
  out[1] = (float)r.correct / (float)n;
  return DG_OK;
}

/* Augment n 28x28 images in -> out with the trainer's limits and random
 * numbers (for showing what training sees). */
DG_EXPORT int augment(trainer *t, const float *in, float *out, int n) {
  if (!t || !in || !out || n < 1 || in == out)
    return dg_error(DG_ERR_ARG, "augment: bad argument");
  for (int i = 0; i < n; i++)
    dg_augment(in + (size_t)i * 784, out + (size_t)i * 784, 28, 28, &t->aug,
               &t->rng);
  return DG_OK;
}

/* ---- training runs: the epoch loop of fit.c, one call per batch ------------ */

typedef struct {
  dg_fit *fit;
  dg_progress p;         /* the figures of the last call */
} fit_run;

/* A run of epochs over n inputs x (n, input size) with labels (n), both
 * borrowed until fit_free; the last val_count validate. The trainer gives
 * the net, the optimizer kind, learning rate, weight decay, augmentation
 * and seed (the run has its own optimizer state and random numbers);
 * patience: epochs without a validation gain before stopping (0: never).
 * Returns a handle or a status. */
DG_EXPORT int fit_new(trainer *t, const float *x, const uint8_t *labels, int n,
                      int epochs, int batch, int val_count, int patience) {
  if (!t || !x || !labels || n < 1)
    return dg_error(DG_ERR_ARG, "fit: bad argument");
  int in = dg_net_input_size(t->net), square = in == 28 * 28;
  dg_dataset ds = {n, square ? 28 : 1, square ? 28 : in, (float *)x,
                   (uint8_t *)labels};
  dg_train_opts o = dg_train_defaults();
  o.epochs = epochs, o.batch = batch, o.val_count = val_count;
  o.patience = patience;
  o.optimizer = t->opt.kind, o.lr = t->opt.lr;
  o.weight_decay = t->opt.weight_decay;
  o.augment = t->augment, o.aug = t->aug;
  o.seed = t->seed;
  fit_run *r = calloc(1, sizeof *r);
  if (!r) return dg_error(DG_ERR_NOMEM, "fit: out of memory");
  int st = dg_fit_new(&r->fit, t->net, &ds, &o);
  if (st) {
    free(r);
    return st;
  }
  return (int)(uintptr_t)r;
}

DG_EXPORT void fit_free(fit_run *r) {
  if (!r) return;
  dg_fit_free(r->fit);
  free(r);
}

/* Start the next epoch: 1, or 0 when the run is over (its epochs done or
 * stopped early). */
DG_EXPORT int fit_begin_epoch(fit_run *r) {
  return r ? dg_fit_begin_epoch(r->fit, &r->p) : dg_error(DG_ERR_ARG, "fit: null");
}

/* One batch: its sample count, 0 when the epoch has no batch left. */
DG_EXPORT int fit_step(fit_run *r) {
  return r ? dg_fit_step(r->fit, &r->p) : dg_error(DG_ERR_ARG, "fit: null");
}

/* End the epoch: validation, learning-rate schedule, best weights, early
 * stopping. */
DG_EXPORT int fit_end_epoch(fit_run *r) {
  return r ? dg_fit_end_epoch(r->fit, &r->p) : dg_error(DG_ERR_ARG, "fit: null");
}

/* After the last epoch: the best validation epoch's weights back in the
 * net, and the run's metadata (best_epoch, epochs_run, val_loss). */
DG_EXPORT int fit_finish(fit_run *r) {
  return r ? dg_fit_finish(r->fit) : dg_error(DG_ERR_ARG, "fit: null");
}

/* The figures of the last call, as 15 floats in this order: epoch (from
 * 1), epochs, batch (done in this epoch), batches, loss, accuracy (running,
 * this epoch), val_loss, val_accuracy (NaN before the epoch's end), lr,
 * seconds (0 in WebAssembly), done (1 at an epoch's end), improved, seen,
 * batch_loss, batch_accuracy. */
DG_EXPORT int fit_progress(const fit_run *r, float *out) {
  if (!r || !out) return dg_error(DG_ERR_ARG, "fit: null argument");
  const dg_progress *p = &r->p;
  float v[15] = {(float)p->epoch, (float)p->epochs, (float)p->batch,
                 (float)p->batches, p->loss, p->acc, p->val_loss, p->val_acc,
                 p->lr, (float)p->seconds, (float)p->done, (float)p->improved,
                 (float)p->seen, p->batch_loss, p->batch_acc};
  memcpy(out, v, sizeof v);
  return DG_OK;
}
