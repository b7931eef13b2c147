/* digits.h: the public C API of the digits network core.
 *
 * One prefix (dg_), status codes instead of prints or exits, the caller owns
 * what it creates (_new/_free; _free(NULL) is fine). Tensors are row-major
 * float32; images are NHWC: (N, H, W, C), a 28x28 digit is (28, 28, 1).
 * Dimension letters: N batch, H height, W width, C channels, K kernel size.
 */
#ifndef DIGITS_H
#define DIGITS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status ------------------------------------------------------------ */

enum {
  DG_OK = 0,
  DG_ERR_ARG = -1,      /* bad argument from the caller */
  DG_ERR_NOMEM = -2,    /* allocation failed or size over a hard cap */
  DG_ERR_IO = -3,       /* open/read/write/rename failed */
  DG_ERR_FORMAT = -4,   /* a file or buffer is malformed */
  DG_ERR_EMPTY = -5,    /* an image with no ink */
  DG_ERR_NUMERIC = -6,  /* NaN or infinity where numbers must be finite */
  DG_ERR_STOPPED = -7,  /* a caller asked the work to stop */
  DG_ERR_UNCERTAIN = -8, /* several digit-sized shapes, no clear winner */
};

/* The message of the last failure on this thread ("" if none). */
const char *dg_last_error(void);
/* Set the last-error message (printf style) and return code. */
int dg_error(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* A short name for a status code ("format error", ...). */
const char *dg_status_name(int code);
/* What this build compiled in: SIMD path, threads, compiler. */
const char *dg_build_info(void);

/* ---- random numbers (xoshiro128+ style, state passed in) ---------------- */

typedef struct { uint64_t s[2]; } dg_rng;
/* Seed a generator; the same seed gives the same sequence everywhere. */
void dg_rng_seed(dg_rng *r, uint64_t seed);
/* Next 32 random bits. */
uint32_t dg_rng_u32(dg_rng *r);
/* Uniform float in [0, 1). */
float dg_rng_uniform(dg_rng *r);
/* Standard normal float (Box-Muller). */
float dg_rng_normal(dg_rng *r);
/* Uniform integer in [0, n). */
uint32_t dg_rng_below(dg_rng *r, uint32_t n);

/* ---- datasets (idx.c) --------------------------------------------------- */

/* A labelled set of 28x28 (or HxW) grayscale images as floats in 0..1. */
typedef struct {
  int n, h, w;        /* n images of h x w */
  float *images;      /* (n, h, w) */
  uint8_t *labels;    /* (n) */
} dg_dataset;

/* Hard caps checked before allocating anything a file asks for. */
#define DG_IDX_MAX_ITEMS 10000000
#define DG_IDX_MAX_DIM 4096

/* Parse an idx file from memory (raw or gzip). On success *data is a new
 * buffer of *count items of *h x *w bytes (labels: h = w = 1). */
int dg_idx_parse(const void *buf, size_t len, int expect_dims, uint8_t **data,
                 int *count, int *h, int *w);
/* Read one idx file from path, trying PATH and PATH.gz. */
int dg_idx_read(const char *path, int expect_dims, uint8_t **data, int *count,
                int *h, int *w);
/* Load images + labels of one split ("train" or "t10k") from DIR. */
int dg_dataset_load(dg_dataset *ds, const char *dir, const char *split);
/* Free a dataset's buffers (not the struct). */
void dg_dataset_free(dg_dataset *ds);
/* Keep images [from, from+count) of src in dst (copies; count >= 1 and
 * dst != src, else DG_ERR_ARG). */
int dg_dataset_slice(dg_dataset *dst, const dg_dataset *src, int from, int count);

/* ---- datasets in other layouts (dataset.c, csv.c, dataset_dir.c) -------- */

/* What a --data path holds. */
typedef enum {
  DG_DATA_IDX = 0,     /* a folder with the MNIST idx files (split chosen) */
  DG_DATA_IMAGES = 1,  /* a folder of class folders 0..9 holding images */
  DG_DATA_CSV = 2,     /* a CSV file: [label,]pixel0..pixel783, 0..255 */
} dg_data_kind;

/* Caps for image folders and CSV files, checked before allocating. */
#define DG_DATA_MAX_IMAGES 1000000
#define DG_CSV_MAX_BYTES ((size_t)1 << 30)

/* The kind of path: a file is a CSV; a folder with idx image files (train
 * or t10k) is idx; else a folder with any of the class folders 0..9 is an
 * image folder; else idx (whose loader then says which files are missing). */
int dg_data_kind_of(const char *path, dg_data_kind *kind);
/* A short name of a kind: "idx", "images", "csv". */
const char *dg_data_kind_name(dg_data_kind kind);
/* Load a labelled dataset of 28x28 images from any kind of path: idx (the
 * split "train" or "t10k"), an image folder or a CSV (all of it; split
 * ignored). kind (may be NULL) gets what was found. */
int dg_data_load(dg_dataset *ds, const char *path, const char *split,
                 dg_data_kind *kind);
/* Parse a CSV in the layout of Kaggle's "Digit Recognizer" from memory:
 * an optional header line, then one row per image of 785 fields (label
 * 0..9, then 784 pixels 0..255, 28x28 row-major, white ink on black) or
 * 784 (pixels only). need_labels: 1 refuses the unlabelled layout; with 0
 * a file without labels gives ds->labels = NULL. has_labels (may be NULL)
 * says which layout it was. name prefixes every message, which names the
 * line and column at fault. */
int dg_csv_parse(dg_dataset *ds, const void *buf, size_t len, const char *name,
                 int need_labels, int *has_labels);
/* The same from a file (at most DG_CSV_MAX_BYTES). */
int dg_csv_load(dg_dataset *ds, const char *path, int need_labels,
                int *has_labels);
/* Load DIR/0/ ... DIR/9/ (PNG, JPEG, BMP, GIF, PGM/PPM; other files and
 * hidden ones ignored): each image through dg_preprocess_ex, as predict
 * reads it. The order is fixed (names sorted, then shuffled with a fixed
 * seed) so that every class reaches the validation tail. An image that
 * cannot be read or holds no single digit fails the load, naming it.
 * Native only (the WASM build has no image decoder: DG_ERR_ARG). */
int dg_image_dir_load(dg_dataset *ds, const char *dir);

/* ---- preprocessing (preprocess.c) ---------------------------------------- */

/* Hard caps for images from outside (files, canvases). */
#define DG_IMAGE_MAX_DIM 16384
#define DG_IMAGE_MAX_PIXELS (64u * 1024u * 1024u)

/* What dg_preprocess_ex found and did. Boxes are in the source image's
 * pixels (x, y, w, h). Filled on success and on DG_ERR_EMPTY /
 * DG_ERR_UNCERTAIN (box then covers the candidates, or is all zero). */
typedef struct {
  int box[4];      /* the ink that was read as the digit */
  int scale;       /* early downscale factor (1: the image as given) */
  int photo;       /* 0: flat paper (a drawing), 1: paper illumination
                    * estimated and normalised (a photo or scan) */
  int dark_ink;    /* 1: ink darker than the paper */
  int kept;        /* ink components kept as the digit */
  int dropped;     /* components dropped (specks, shadows, edges) */
  int lines;       /* straight lines removed (ruled, grid, margin, box) */
  int candidates;  /* digit-sized shapes seen (> 1 with DG_ERR_UNCERTAIN) */
} dg_preprocess_info;

/* Turn any image (channels 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; 8-bit) into
 * an MNIST-style 28x28 input, for drawings and photos alike: paper
 * illumination estimated and divided out, ink polarity, ink vs paper by an
 * adaptive threshold, lines / boxes / specks dropped by connected
 * components, then crop to the digit, longest side to 20 px keeping aspect
 * (area averaging), centre of mass at pixel index (14,14) by whole-pixel
 * placement (the MNIST recipe), floats 0..1 with ink = 1. Transparent
 * pixels read as white paper. Big images are downscaled first.
 * Returns DG_ERR_EMPTY for an image with no usable ink, DG_ERR_UNCERTAIN
 * when several digit-sized shapes compete. out: (28*28). */
int dg_preprocess(const uint8_t *pixels, int width, int height, int channels,
                  float *out);
/* The same, also saying what was found (info may be NULL). */
int dg_preprocess_ex(const uint8_t *pixels, int width, int height,
                     int channels, float *out, dg_preprocess_info *info);

/* ---- images from files (image.c; native only) ---------------------------- */

/* Decode PNG/JPEG/BMP/GIF/PGM from memory into 8-bit pixels with the file's
 * channel count; caps on dimensions before allocating. free() the result.
 * stb_image is compiled only inside image.c (five formats, extra checks):
 * call these, never stbi_* directly. */
int dg_image_decode(const void *buf, size_t len, uint8_t **pixels, int *w,
                    int *h, int *channels);
/* Same from a file path. */
int dg_image_load(const char *path, uint8_t **pixels, int *w, int *h,
                  int *channels);
/* A JPEG's EXIF orientation (1..8; 1 when the bytes are not a JPEG, have no
 * Exif APP1 segment or a malformed one). dg_image_decode and dg_image_load
 * already apply it: their pixels are upright, w and h swapped for 5..8. */
int dg_image_exif_orientation(const void *buf, size_t len);
/* Write 8-bit pixels as PNG (atomic: temp file + rename). */
int dg_image_write_png(const char *path, const uint8_t *pixels, int w, int h,
                       int channels);
/* Write 8-bit pixels as JPEG at quality 1..100 (atomic, as above). */
int dg_image_write_jpeg(const char *path, const uint8_t *pixels, int w, int h,
                        int channels, int quality);

/* ---- augmentation (augment.c) -------------------------------------------- */

typedef struct {
  float rotate_deg;  /* max |rotation|, degrees (10) */
  float zoom;        /* max |zoom - 1| (0.1) */
  float shift;       /* max |shift| as a fraction of the side (0.1) */
  float shear;       /* max |shear| (0.1, as tan of the shear angle) */
  float thickness;   /* max dilation/erosion radius in px (0 = off); the
                        stroke width changes by up to twice that */
} dg_augment_opts;

/* The classic Keras ImageDataGenerator settings (10 deg, 0.1, 0.1, 0.1). */
dg_augment_opts dg_augment_default(void);
/* One random affine warp with bilinear sampling: in, out (h, w); in != out. */
void dg_augment(const float *in, float *out, int h, int w,
                const dg_augment_opts *o, dg_rng *rng);

/* ---- the network (net.c, arch.c, layers) --------------------------------- */

typedef struct dg_net dg_net;

/* The spec string of a named architecture ("mlp", "cnn", ...), or NULL. */
const char *dg_arch_spec(const char *name);
/* Names of all named architectures, NULL-terminated. */
const char *const *dg_arch_names(void);

/* Build a network from an architecture name or spec string, e.g.
 * "input 28 28 1; flatten; dense 128; relu; dense 10; softmax".
 * Weights are initialised from seed (He/Glorot uniform). */
int dg_net_new(dg_net **out, const char *arch, uint64_t seed);
/* Free a network (NULL is fine). */
void dg_net_free(dg_net *net);
/* Make room for batches of up to n samples (allocates; not on the hot path). */
int dg_net_reserve(dg_net *net, int n);
/* Threads used by forward/backward (1 = none). Results are identical for
 * any thread count (see kernels.c). */
void dg_net_set_threads(dg_net *net, int threads);
/* 3x3 convolutions by Winograd's minimal filtering where the shape allows:
 * on by default in WebAssembly (one thread), off natively. */
void dg_net_set_winograd(dg_net *net, int on);

/* Batch norm's epsilon for the whole net: 1e-3 (Keras') unless set, in
 * [1e-12, 1]; PyTorch's is 1e-5. Stored in model files ("bn_eps"). */
float dg_net_bn_eps(const dg_net *net);
int dg_net_set_bn_eps(dg_net *net, float eps);
/* Input normalisation (x - mean) / std applied to the input of every
 * forward (predict, eval, training): 1 and *mean, *std (may be NULL) if
 * set, else 0. Stored in model files ("input_mean", "input_std"). */
int dg_net_input_norm(const dg_net *net, float *mean, float *std);
/* Set it (finite, std > 0), or DG_ERR_ARG. */
int dg_net_set_input_norm(dg_net *net, float mean, float std);

/* Input and output sizes per sample. */
int dg_net_input_size(const dg_net *net);   /* e.g. 784 */
int dg_net_output_size(const dg_net *net);  /* e.g. 10 */
/* Number of layers, total trainable parameters, non-trainable state. */
int dg_net_layer_count(const dg_net *net);
size_t dg_net_param_count(const dg_net *net);
size_t dg_net_state_count(const dg_net *net);
/* The architecture spec string the net was built from (normalised). */
const char *dg_net_arch(const dg_net *net);

/* Describe layer i for summaries: name ("conv1"), kind ("conv2d"), output
 * shape (h, w, c; dense has h = w = 1) and parameter count. */
typedef struct {
  const char *name, *kind;
  int out_h, out_w, out_c;
  size_t params, state;
} dg_layer_info;
int dg_net_layer_info(const dg_net *net, int i, dg_layer_info *info);

/* Inference: x (n, input_size) -> probs (n, output_size). Batch norm uses
 * running statistics, dropout is off. Reserves as needed. */
int dg_net_predict(dg_net *net, const float *x, int n, float *probs);

/* Training step pieces. forward with train=1 keeps what backward needs. */
int dg_net_forward(dg_net *net, const float *x, int n, int train, dg_rng *rng);
/* Output of the last forward: (n, output_size), probabilities if the net
 * ends in softmax. */
const float *dg_net_output(const dg_net *net);
/* Softmax cross-entropy of the last forward against labels, mean over n;
 * then backward: fills the parameter gradients (overwritten, not summed). */
int dg_net_backward(dg_net *net, const uint8_t *labels, float *loss);
/* Backward from a loss of the caller's: dlogits (n, output_size) is its
 * gradient on the logits (before the final softmax, if the net ends in
 * one), already divided by whatever the loss averages over. */
int dg_net_backward_grad(dg_net *net, const float *dlogits);

/* Also compute d(loss)/d(input) in backward (off by default; for gradient
 * checks and saliency). The gradient of the last backward, (n, input_size),
 * or NULL when off. */
int dg_net_want_input_grad(dg_net *net, int on);
const float *dg_net_input_grad(const dg_net *net);

/* Flat parameter / gradient / state arrays (kann style: one loop for the
 * optimizer, save and copy). The net keeps packed copies of its weights
 * for small-batch inference; these calls (and dg_net_tensor*) mark them
 * stale, so write through a pointer before the next predict or fetch it
 * again. */
float *dg_net_params(dg_net *net);
float *dg_net_grads(dg_net *net);
float *dg_net_state(dg_net *net);
/* Copy all parameters and state from src to dst (same architecture). */
int dg_net_copy_weights(dg_net *dst, const dg_net *src);

/* Named tensors of the net, for model files: params first, then state. */
typedef struct {
  const char *name;  /* "conv1.weight", "bn1.running_mean" */
  int ndim, shape[4];
  float *data;
  size_t size;
  int trainable;     /* 0 for running statistics */
  int decay;         /* 1 if weight decay applies (weights, not biases/bn) */
} dg_tensor;
int dg_net_tensor_count(const dg_net *net);
const dg_tensor *dg_net_tensor(const dg_net *net, int i);
const dg_tensor *dg_net_tensor_find(const dg_net *net, const char *name);

/* String metadata carried by the net into model files. */
int dg_net_meta_set(dg_net *net, const char *key, const char *value);
const char *dg_net_meta_get(const dg_net *net, const char *key);
/* Remove a key (absent keys are fine). */
void dg_net_meta_del(dg_net *net, const char *key);
int dg_net_meta_count(const dg_net *net);
int dg_net_meta_at(const dg_net *net, int i, const char **key,
                   const char **value);

/* ---- loss and optimizers (loss.c, optim.c) -------------------------------- */

/* Stable softmax cross-entropy over n rows of k logits with sparse labels.
 * probs (n,k) and dlogits (n,k) may be NULL; dlogits is d(mean loss). */
int dg_softmax_xent(const float *logits, const uint8_t *labels, int n, int k,
                    float *probs, float *dlogits, float *loss);
/* Connectionist temporal classification (Graves et al. 2006) of one
 * sequence: T rows of k logits (a softmax per row inside), class `blank`
 * the "nothing here" of each row, labels (L, none of them blank) the
 * sequence the rows must read, in order, each as one or more rows with
 * blanks anywhere and between two equal labels. *loss = -log P(labels);
 * dlogits (T,k, may be NULL) its gradient on the logits. DG_ERR_ARG when
 * T rows cannot hold the labels. */
int dg_ctc_loss(const float *logits, int T, int k, int blank, const uint8_t *labels,
                int L, float *dlogits, float *loss);

typedef enum { DG_OPT_SGD = 0, DG_OPT_ADAM = 1 } dg_opt_kind;
typedef struct {
  dg_opt_kind kind;
  float lr, momentum;         /* SGD: momentum (0.9) */
  float beta1, beta2, eps;    /* Adam (0.9, 0.999, 1e-8) */
  float weight_decay;         /* decoupled (AdamW style), 0 = off */
  size_t n;                   /* parameters */
  float *m, *v;               /* (n) each; v unused by SGD */
  int64_t step;
} dg_optim;
/* Allocate optimizer state for net's parameters. */
int dg_optim_init(dg_optim *o, dg_opt_kind kind, float lr, const dg_net *net);
void dg_optim_free(dg_optim *o);
/* One update of net's params from net's grads. */
void dg_optim_step(dg_optim *o, dg_net *net);

/* ---- model files (model_io.c): safetensors + metadata --------------------- */

/* Extra named float arrays a checkpoint carries beside the weights
 * (optimizer moments, best weights). Names start with "__". */
typedef struct {
  const char *name;
  float *data;
  size_t size;
} dg_blob;

/* Serialize net (+ extra blobs) to a new buffer; free() it. */
int dg_model_save_mem(const dg_net *net, const dg_blob *extra, int nextra,
                      uint8_t **buf, size_t *len);
/* Write atomically: a temporary file beside PATH, fsync, rename.
 * Errors: DG_ERR_NUMERIC for NaN/Inf weights, DG_ERR_ARG for bad blobs,
 * DG_ERR_IO for the file system. */
int dg_model_save(const dg_net *net, const char *path, const dg_blob *extra,
                  int nextra);
/* Parse a model buffer: builds the net from its stored architecture and
 * fills every tensor, validating all of it. If extra != NULL, blobs named
 * "__..." are returned there (free with dg_blobs_free). Every problem in
 * the bytes is DG_ERR_FORMAT with a message naming it; a missing file or a
 * directory is DG_ERR_IO. Reads F32 and F16 tensors. */
int dg_model_load_mem(dg_net **out, const void *buf, size_t len,
                      dg_blob **extra, int *nextra);
int dg_model_load(dg_net **out, const char *path, dg_blob **extra,
                  int *nextra);
void dg_blobs_free(dg_blob *b, int n);

/* ---- ONNX (io/onnx_read.c, io/onnx_write.c) ---------------------------------- */

/* Convert an ONNX model (protobuf bytes) into a net: the operators
 * MNIST-class networks export to (docs/model-format.md lists them). Any
 * operator, attribute or shape outside that set is DG_ERR_FORMAT with one
 * line naming the node, its operator and what is unsupported; *out is then
 * NULL. Hostile input: every size is checked before it is allocated. */
int dg_onnx_import_mem(dg_net **out, const void *buf, size_t len);
/* Serialise net as an ONNX model (opset 13, input "input" [N,1,28,28]
 * float 0..1, output "probs" [N,10]) into a new buffer; free() it. */
int dg_onnx_export_mem(const dg_net *net, uint8_t **buf, size_t *len);

/* ---- files (fileio.c) ------------------------------------------------------ */

/* Read a whole file (cap: max bytes). free() the buffer. */
int dg_file_read(const char *path, size_t max, uint8_t **buf, size_t *len);
/* Write a whole file atomically (temp file, flush, fsync, rename). */
int dg_file_write_atomic(const char *path, const void *buf, size_t len);

/* ---- metrics (metrics.c) ---------------------------------------------------- */

typedef struct {
  int k;                    /* classes in the confusion matrix (at most 10) */
  int stride;               /* classes: probabilities per prediction */
  int n, correct;
  double loss_sum;
  int64_t confusion[10][10];/* [true][predicted] */
} dg_metrics;
void dg_metrics_reset(dg_metrics *m, int k);
/* Add n predictions (probs (n,k)) against labels. */
void dg_metrics_add(dg_metrics *m, const float *probs, const uint8_t *labels,
                    int n);
double dg_metrics_accuracy(const dg_metrics *m);
double dg_metrics_loss(const dg_metrics *m);
/* Precision, recall, F1 of class c (0 when undefined). */
void dg_metrics_class(const dg_metrics *m, int c, double *precision,
                      double *recall, double *f1);

/* ---- training loop (train.c) ------------------------------------------------ */

typedef struct {
  int epoch, epochs;
  int batch, batches;       /* progress within the epoch */
  float loss, acc;          /* running training figures this epoch */
  float val_loss, val_acc;  /* after an epoch (NaN before) */
  float lr;
  double seconds;           /* this epoch so far */
  int done;                 /* 1 when this call ends an epoch */
  int improved;             /* val loss improved at this epoch end */
  int seen;                 /* samples trained on this epoch so far */
  float batch_loss, batch_acc; /* the last batch's own figures */
} dg_progress;

/* Called often within an epoch and once at its end; return non-zero to stop
 * (the loop checkpoints and returns DG_ERR_STOPPED). */
typedef int (*dg_progress_fn)(const dg_progress *p, void *user);

typedef struct {
  int epochs, batch;
  float lr;
  dg_opt_kind optimizer;
  float weight_decay;
  int augment;
  dg_augment_opts aug;
  uint64_t seed;
  int patience;             /* early stopping (epochs without val loss gain) */
  int lr_patience;          /* plateau epochs before lr *= lr_factor */
  int keep_last;            /* 1: keep the last epoch's weights, not the
                               best validation epoch's */
  int cosine;               /* 1: cosine decay from lr to min_lr over all
                               epochs, per batch (plateau rule off) */
  float lr_factor, min_lr;
  float ema;                /* 0: off; else decay of an exponential moving
                               average of the weights (and BN statistics)
                               after every step; validation, the best
                               snapshot and the result use the average */
  int val_count;            /* last val_count training images validate */
  int threads;
  const char *checkpoint;   /* written atomically each epoch (NULL = none) */
  const char *resume;       /* checkpoint to continue from (NULL = none) */
  dg_progress_fn progress;
  void *user;
} dg_train_opts;

/* What a training step does to its inputs first: augmentation with opts,
 * images h x w, into buf (n, h, w) floats. */
typedef struct {
  const dg_augment_opts *opts;
  int h, w;
  float *buf;
} dg_step_aug;

/* What one training step measured (before its update). */
typedef struct {
  float loss;               /* mean cross-entropy of the batch */
  int correct;              /* samples whose top class is the label */
} dg_step_result;

/* One training step, the only place the sequence is written: x (n, input
 * size) augmented when aug != NULL, forward (dropout on), loss, backward,
 * optimizer update; r (may be NULL) gets the batch's loss and correct
 * count. DG_ERR_NUMERIC leaves the weights un-updated. */
int dg_train_step(dg_net *net, dg_optim *opt, const float *x,
                  const uint8_t *labels, int n, const dg_step_aug *aug,
                  dg_rng *rng, dg_step_result *r);

/* Sensible defaults (Adam 1e-3, batch 64, 10 epochs, patience 5, ...). */
dg_train_opts dg_train_defaults(void);
/* Train net on train (the last val_count images validate); restores the best
 * weights at the end; records history in the net's metadata. */
int dg_train(dg_net *net, const dg_dataset *train, const dg_train_opts *o);
/* The epoch loop of dg_train, driven one call at a time (by dg_train, and
 * by the page's worker one batch per call into WebAssembly):
 *   dg_fit_new; while (dg_fit_begin_epoch(f, &p) > 0) {
 *     while (dg_fit_step(f, &p) > 0) ...;  dg_fit_end_epoch(f, &p); }
 *   dg_fit_finish(f); dg_fit_free(f);
 * Shuffling, validation on the tail of the data, the learning-rate
 * schedule and early stopping are the loop's; o's progress callback,
 * checkpoint and resume are the driver's (dg_fit_save, dg_fit_resume). */
typedef struct dg_fit dg_fit;
/* Check and set up a run on train (borrowed until dg_fit_free). */
int dg_fit_new(dg_fit **out, dg_net *net, const dg_dataset *train,
               const dg_train_opts *o);
/* Free a loop (NULL is fine); the net and data stay the caller's. */
void dg_fit_free(dg_fit *f);
/* Start the next epoch (shuffle): 1, or 0 when the run is over (all epochs
 * done, or stopped early); p is reset for the epoch. */
int dg_fit_begin_epoch(dg_fit *f, dg_progress *p);
/* One batch: its sample count, 0 when the epoch has no batch left, or a
 * status; p gets the running figures. */
int dg_fit_step(dg_fit *f, dg_progress *p);
/* End the epoch: validation, schedule, best snapshot, history, early
 * stopping; p gets the epoch's figures. */
int dg_fit_end_epoch(dg_fit *f, dg_progress *p);
/* Stop inside an epoch: its time so far is counted (save then, and a
 * resume continues at the next batch). */
void dg_fit_stop(dg_fit *f);
/* Write the run's checkpoint (weights, optimizer, best weights, loop
 * state) atomically to path (checkpoint.c; native only). */
int dg_fit_save(dg_fit *f, const char *path);
/* Continue from a checkpoint of the same run: call right after dg_fit_new. */
int dg_fit_resume(dg_fit *f, const char *path);
/* After the last epoch: the best weights back (or the last ones with
 * o->keep_last) and the run's metadata (best_epoch, epochs_run, ...). */
int dg_fit_finish(dg_fit *f);

/* Evaluate net on a dataset into metrics (probs optional: (n,k)). */
int dg_evaluate(dg_net *net, const dg_dataset *ds, dg_metrics *m, float *probs);

/* ---- numbers: several digits side by side (preprocess/number.c) --------- */

/* The most digits one number holds (more: the first ones, truncated = 1). */
#define DG_NUMBER_MAX 32
/* A digit read with less confidence than this is marked unsure. */
#define DG_NUMBER_UNSURE 0.75f

/* One digit of a number: its reading and where it is. */
typedef struct {
  int digit;         /* 0..9 */
  float confidence;  /* its probability */
  float probs[10];   /* the network's ten probabilities */
  int box[4];        /* its ink in the source image's pixels (x, y, w, h) */
  int unsure;        /* 1 when confidence < DG_NUMBER_UNSURE */
} dg_number_digit;

/* A number read from an image, left to right. */
typedef struct {
  int n;                           /* digits (0: no ink, nothing read) */
  char text[DG_NUMBER_MAX + 1];    /* the digits as a string ("" when none) */
  float confidence;                /* the weakest digit's (0 when n == 0) */
  int photo;                       /* 1: read through the photo path */
  int split;                       /* touching digits that were split apart */
  int truncated;                   /* more than DG_NUMBER_MAX digits */
  dg_number_digit digits[DG_NUMBER_MAX];
} dg_number;

/* A classifier for the reader: x (n, 784) MNIST-style inputs -> probs
 * (n, 10); a status. Lets callers average an ensemble. */
typedef int (*dg_classify_fn)(void *user, const float *x, int n,
                              float *probs);

/* Read every digit of an image (pixels as dg_preprocess takes them): ink
 * components after the same preprocessing as a digit (photos included),
 * pieces of one digit merged, touching digits split where the network is
 * surest, left to right; each digit through the MNIST recipe on its own
 * box. An image of one digit reads exactly as dg_preprocess + the network;
 * an image without ink gives n = 0 and DG_OK. */
int dg_read_number_ex(const uint8_t *pixels, int width, int height,
                      int channels, dg_classify_fn classify, void *user,
                      dg_number *out);
/* The same with one network (dg_net_predict). */
int dg_read_number(dg_net *net, const uint8_t *pixels, int width, int height,
                   int channels, dg_number *out);
/* dg_read_number_ex with the number verifier (models/verifier.safetensors,
 * made by tests/numbers/verifier_train.c), a network of 11 outputs, one of:
 * - 784 inputs (or 1568: 28x28x2, the piece and the ink around it), the
 *   last output "not one digit", trained on the pieces the reader cuts
 *   from numbers of MNIST training digits: it tells two touching digits
 *   read as one, or a part of a digit, from a digit, and its digit classes
 *   join the network's for the pieces of a number;
 * - DG_NUMBER_WIN_H x DG_NUMBER_WIN_W inputs, a window reader: for a
 *   window of a wide group of ink (its slant taken out, its height scaled
 *   to 20 px), the digit centred in it or none (the last output); a group
 *   at least 0.5 x its height wide is read window by window, not cut,
 *   unless it is not much wider than a digit and one window centred on it
 *   reads the network's digit (then it is that digit, as read whole).
 * A lone digit still reads exactly as dg_preprocess + the network.
 * verifier NULL: no verifier. */
#define DG_NUMBER_WIN_H 28
#define DG_NUMBER_WIN_W 36
int dg_read_number_verified(const uint8_t *pixels, int width, int height,
                            int channels, dg_classify_fn classify, void *user,
                            dg_net *verifier, dg_number *out);
/* The same with n verifiers (0 to DG_NUMBER_MAX_VERIFIERS): one is
 * dg_read_number_verified's; two or more must all be window readers, and
 * a group is read by their probabilities averaged, window by window
 * (models/verifier.safetensors, verifier2.safetensors and
 * verifier3.safetensors, three window readers taught apart, read touching
 * numbers better together than any alone: docs/numbers.md); the probe that tells a group is one
 * digit reads with the first alone. DG_ERR_ARG for any other mix. */
#define DG_NUMBER_MAX_VERIFIERS 4
int dg_read_number_readers(const uint8_t *pixels, int width, int height,
                           int channels, dg_classify_fn classify, void *user,
                           dg_net *const *verifiers, int n, dg_number *out);

#ifdef __cplusplus
}
#endif
#endif
