/* cmd_predict.c: `digits predict`: image files (or standard input, "-")
 * -> preprocess -> network(s) -> one line per image (TSV or JSON); --csv
 * FILE: Kaggle's test layout in, its submission (ImageId,Label) out. A bad file is reported and skipped
 * (with --json it still gets a line, with "digit":null and the error, so
 * the output stays one line per image). --save-input DIR writes the 28x28
 * input each image became, as a picture a person can look at. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_MODELS 64
/* `digits predict -`: the most bytes read from standard input */
#define STDIN_MAX_BYTES ((size_t)64 << 20)
/* --csv: rows through the network at a time */
#define CSV_CHUNK 256
/* --save-input pictures: the 28x28 input magnified this many times
 * (nearest neighbour: each input pixel a SAVE_ZOOM x SAVE_ZOOM square) */
#define SAVE_ZOOM 10
#define SAVE_SIDE (28 * SAVE_ZOOM)

/* What became of one image. */
typedef struct {
  int status;               /* DG_OK or the failing DG_ERR_* */
  const char *reason;       /* on failure: "empty", "uncertain", "unreadable",
                             * "failed" (the model or --save-input) */
  char msg[1024];           /* on failure: the message, without the file */
  int w, h;                 /* decoded size (0 if not decoded) */
  int have_info;            /* preprocessing ran: info is valid */
  dg_preprocess_info info;
  float x[28 * 28];         /* (28, 28) the network's input */
  float probs[10];
  char saved[PATH_MAX];     /* --save-input file written, or "" */
} result;

/* --save-input: the folder and the names used so far in this run. */
typedef struct {
  const char *dir;
  char **names;
  int n;
} save_ctx;

/* msg = the last library error without a leading "PATH: " (the file is
 * named separately in every output). */
static void lib_message(result *r, const char *path) {
  const char *e = dg_last_error();
  if (!e || !*e) e = "unknown error";
  if (strcmp(path, "-") == 0) /* decoding from memory names "image" */
    path = strncmp(e, "image: ", 7) == 0 ? "image" : "standard input";
  size_t n = strlen(path);
  if (strncmp(e, path, n) == 0 && e[n] == ':' && e[n + 1] == ' ') e += n + 2;
  snprintf(r->msg, sizeof r->msg, "%s", e);
}

/* DIR/<image's file name without its extension>.png, "-2", "-3", ... when
 * an earlier image of this run took that name. 0 ok, else non-zero with
 * r->msg set. */
static int save_name(save_ctx *s, const char *path, char *out, size_t cap,
                     result *r) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (strcmp(path, "-") == 0) base = "stdin";
  char stem[NAME_MAX + 1];
  snprintf(stem, sizeof stem, "%s", *base ? base : "image");
  char *dot = strrchr(stem, '.');
  if (dot && dot != stem) *dot = '\0';
  for (int k = 1; k < 100000; k++) {
    char name[NAME_MAX + 32];
    if (k == 1) snprintf(name, sizeof name, "%s.png", stem);
    else snprintf(name, sizeof name, "%s-%d.png", stem, k);
    int taken = 0;
    for (int i = 0; i < s->n && !taken; i++) taken = !strcmp(s->names[i], name);
    if (taken) continue;
    char *copy = strdup(name);
    if (!copy) break;
    s->names[s->n++] = copy;
    if (snprintf(out, cap, "%s/%s", s->dir, name) >= (int)cap) {
      snprintf(r->msg, sizeof r->msg, "--save-input: path too long in %s",
               s->dir);
      return -1;
    }
    return 0;
  }
  snprintf(r->msg, sizeof r->msg, "--save-input: out of memory");
  return -1;
}

/* The 28x28 input as a SAVE_SIDE x SAVE_SIDE gray PNG, ink white on black
 * as the network sees it (MNIST's own polarity). */
static int save_input(save_ctx *s, const char *path, result *r) {
  char out[PATH_MAX];
  if (save_name(s, path, out, sizeof out, r)) return -1;
  static uint8_t px[SAVE_SIDE * SAVE_SIDE]; /* (280, 280) */
  for (int y = 0; y < SAVE_SIDE; y++)
    for (int x = 0; x < SAVE_SIDE; x++) {
      float v = r->x[(y / SAVE_ZOOM) * 28 + x / SAVE_ZOOM];
      v = v < 0 ? 0 : v > 1 ? 1 : v;
      px[y * SAVE_SIDE + x] = (uint8_t)lrintf(v * 255.0f);
    }
  if (dg_image_write_png(out, px, SAVE_SIDE, SAVE_SIDE, 1) != DG_OK) {
    snprintf(r->msg, sizeof r->msg, "--save-input: %s", dg_last_error());
    return -1;
  }
  snprintf(r->saved, sizeof r->saved, "%s", out);
  return 0;
}

/* Decode an image file, or standard input when path is "-". */
static int load_image(const char *path, uint8_t **pixels, int *w, int *h,
                      int *c) {
  if (strcmp(path, "-") != 0) return dg_image_load(path, pixels, w, h, c);
  uint8_t *buf = NULL;
  size_t len = 0;
  int st = cli_read_stdin(STDIN_MAX_BYTES, &buf, &len);
  if (st) return st;
  if (len == 0) {
    free(buf);
    return dg_error(DG_ERR_FORMAT, "standard input: empty (no image bytes)");
  }
  st = dg_image_decode(buf, len, pixels, w, h, c);
  free(buf);
  return st;
}

/* Read, preprocess and classify one image into r. 0 ok, else non-zero
 * with r->status, r->reason and r->msg set. */
static int predict_one(cli_models *models, save_ctx *save, const char *path,
                       result *r) {
  uint8_t *pixels = NULL;
  int c = 0;
  r->status = load_image(path, &pixels, &r->w, &r->h, &c);
  if (r->status != DG_OK) {
    r->reason = "unreadable";
    lib_message(r, path);
    return -1;
  }
  r->status = dg_preprocess_ex(pixels, r->w, r->h, c, r->x, &r->info);
  r->have_info = 1;
  free(pixels);
  if (r->status == DG_ERR_EMPTY) {
    r->reason = "empty";
    snprintf(r->msg, sizeof r->msg, "empty image: no ink found (%dx%d)", r->w,
             r->h);
    return -1;
  }
  if (r->status == DG_ERR_UNCERTAIN) {
    r->reason = "uncertain";
    snprintf(r->msg, sizeof r->msg,
             "uncertain: %d digit-sized shapes and none stands out (%dx%d); "
             "give an image of one digit",
             r->info.candidates, r->w, r->h);
    return -1;
  }
  if (r->status != DG_OK) {
    r->reason = "unreadable";
    lib_message(r, path);
    return -1;
  }
  r->reason = "failed";
  if (save->dir && save_input(save, path, r)) {
    r->status = DG_ERR_IO;
    return -1;
  }
  if ((r->status = cli_models_predict(models, r->x, 1, r->probs)) != DG_OK) {
    lib_message(r, path);
    return -1;
  }
  for (int k = 0; k < 10; k++)
    if (!isfinite(r->probs[k])) {
      r->status = DG_ERR_NUMERIC;
      snprintf(r->msg, sizeof r->msg,
               "the model gave a non-finite probability");
      return -1;
    }
  return 0;
}

/* The fields every JSON line shares after "file": the box read (in the
 * upright image's pixels) and whether the photo path was taken. */
static void json_info(const result *r) {
  if (!r->have_info) return;
  const int *b = r->info.box;
  if (b[2] > 0 && b[3] > 0)
    printf(",\"box\":[%d,%d,%d,%d]", b[0], b[1], b[2], b[3]);
  else
    fputs(",\"box\":null", stdout);
  printf(",\"photo\":%s", r->info.photo ? "true" : "false");
}

static void print_result(const char *path, const result *r, int ok,
                         int json) {
  if (!json) {
    int best = 0;
    for (int k = 1; k < 10; k++)
      if (r->probs[k] > r->probs[best]) best = k;
    if (ok) printf("%s\t%d\t%.4f\n", path, best, (double)r->probs[best]);
    return;
  }
  fputs("{\"file\":", stdout);
  cli_json_string(stdout, path);
  if (ok) {
    int best = 0;
    for (int k = 1; k < 10; k++)
      if (r->probs[k] > r->probs[best]) best = k;
    printf(",\"digit\":%d,\"confidence\":%.6f,\"probs\":[", best,
           (double)r->probs[best]);
    for (int k = 0; k < 10; k++)
      printf("%s%.6f", k ? "," : "", (double)r->probs[k]);
    putchar(']');
  } else {
    fputs(",\"digit\":null,\"confidence\":0,\"probs\":null,\"error\":",
          stdout);
    cli_json_string(stdout, r->msg);
    printf(",\"reason\":\"%s\"", r->reason);
    if (r->status == DG_ERR_UNCERTAIN)
      printf(",\"candidates\":%d", r->info.candidates);
  }
  json_info(r);
  if (r->saved[0]) {
    fputs(",\"input\":", stdout);
    cli_json_string(stdout, r->saved);
  }
  fputs("}\n", stdout);
}

/* --csv FILE (or - for standard input): Kaggle's test layout in, the
 * submission out: "ImageId,Label", then one row per image, ImageId from 1.
 * The pixels are MNIST's already (centred 28x28, white on black), so they
 * go to the network as they are, as eval reads a CSV. */
static int predict_csv(cli_models *models, const char *path) {
  const char *verb = "predict";
  dg_dataset ds = {0};
  int st;
  if (strcmp(path, "-") == 0) {
    uint8_t *buf = NULL;
    size_t len = 0;
    st = cli_read_stdin(DG_CSV_MAX_BYTES, &buf, &len);
    if (!st) st = dg_csv_parse(&ds, buf, len, "standard input", 0, NULL);
    free(buf);
  } else {
    st = dg_csv_load(&ds, path, 0, NULL);
  }
  if (st) return cli_fail_lib(verb, strcmp(path, "-") ? path : NULL);
  float probs[CSV_CHUNK * 10]; /* (CSV_CHUNK, 10) */
  printf("ImageId,Label\n");
  for (int i = 0; i < ds.n && !st; i += CSV_CHUNK) {
    int n = ds.n - i < CSV_CHUNK ? ds.n - i : CSV_CHUNK;
    st = cli_models_predict(models, ds.images + (size_t)i * 784, n, probs);
    for (int j = 0; j < n && !st; j++) {
      int best = 0;
      for (int k = 1; k < 10; k++)
        if (probs[j * 10 + k] > probs[j * 10 + best]) best = k;
      if (!isfinite(probs[j * 10 + best]))
        st = dg_error(DG_ERR_NUMERIC, "row %d: the model gave a non-finite "
                      "probability", i + j + 1);
      else
        printf("%d,%d\n", i + j + 1, best);
    }
  }
  dg_dataset_free(&ds);
  return st ? cli_fail_lib(verb, path) : CLI_OK;
}

/* --number: the classifier dg_read_number_ex calls (the models' mean). */
static int models_classify(void *user, const float *x, int n, float *probs) {
  return cli_models_predict((cli_models *)user, x, n, probs);
}

/* --number: read every digit of one image; prints its line (TSV only on
 * success; JSON always) and returns 0, or non-zero after the message. */
static int number_one(cli_models *models, dg_net *const *verifiers, int nver,
                      const char *path, int json, dg_number *num) {
  uint8_t *pixels = NULL;
  int w = 0, h = 0, c = 0;
  const char *name = strcmp(path, "-") ? path : "standard input";
  int st = load_image(path, &pixels, &w, &h, &c);
  if (st == DG_OK) {
    st = dg_read_number_readers(pixels, w, h, c, models_classify, models, verifiers, nver, num);
    free(pixels);
  }
  result r;
  r.msg[0] = '\0';
  if (st != DG_OK) lib_message(&r, path);
  else if (num->n == 0)
    snprintf(r.msg, sizeof r.msg, "no digits found (%dx%d)", w, h);
  const int ok = st == DG_OK && num->n > 0;
  if (!ok) cli_fail("predict", "%s: %s", name, r.msg);
  fflush(stderr);
  if (!json) {
    if (ok) printf("%s\t%s\t%.4f\n", path, num->text, (double)num->confidence);
    return !ok;
  }
  fputs("{\"file\":", stdout);
  cli_json_string(stdout, path);
  if (ok) printf(",\"number\":\"%s\",\"confidence\":%.6f,\"digits\":[",
                 num->text, (double)num->confidence);
  else fputs(",\"number\":null,\"confidence\":0,\"digits\":[", stdout);
  for (int i = 0; ok && i < num->n; i++) {
    const dg_number_digit *d = &num->digits[i];
    printf("%s{\"digit\":%d,\"confidence\":%.6f,\"box\":[%d,%d,%d,%d],"
           "\"unsure\":%s}", i ? "," : "", d->digit, (double)d->confidence,
           d->box[0], d->box[1], d->box[2], d->box[3],
           d->unsure ? "true" : "false");
  }
  putchar(']');
  if (ok) printf(",\"photo\":%s,\"split\":%d", num->photo ? "true" : "false",
                 num->split);
  if (!ok) {
    fputs(",\"error\":", stdout);
    cli_json_string(stdout, r.msg);
    printf(",\"reason\":\"%s\"", st == DG_OK ? "empty" : "unreadable");
  }
  fputs("}\n", stdout);
  return !ok;
}

typedef struct {
  const char *model_paths[MAX_MODELS];
  int nmodels, json, nfiles, number, no_verifier, nverifiers;
  const char *verifiers[DG_NUMBER_MAX_VERIFIERS];
  long threads;
  const char **files;
  const char *csv;
} predict_args;

static int parse(int argc, char **argv, predict_args *p, save_ctx *save) {
  cli_args a;
  const char *flag, *pos, *v;
  int rc = 0, stdin_used = 0;
  cli_args_init(&a, argc, argv);
  while (!rc && cli_args_next(&a, &flag, &pos)) {
    if (pos) {
      if (strcmp(pos, "-") == 0 && stdin_used++)
        rc = cli_usage("predict", "\"-\" (standard input) given twice");
      p->files[p->nfiles++] = pos;
    } else if (strcmp(flag, "--model") == 0 || strcmp(flag, "-m") == 0) {
      if (!(v = cli_args_value(&a))) rc = CLI_USAGE;
      else if (p->nmodels == MAX_MODELS)
        rc = cli_usage("predict", "at most %d --model flags", MAX_MODELS);
      else p->model_paths[p->nmodels++] = v;
    } else if (strcmp(flag, "--json") == 0) {
      rc = cli_args_no_value(&a);
      p->json = 1;
    } else if (strcmp(flag, "--number") == 0) {
      rc = cli_args_no_value(&a);
      p->number = 1;
    } else if (strcmp(flag, "--verifier") == 0) {
      if (!(v = cli_args_value(&a))) rc = CLI_USAGE;
      else if (p->nverifiers == DG_NUMBER_MAX_VERIFIERS)
        rc = cli_usage("predict", "at most %d --verifier flags", DG_NUMBER_MAX_VERIFIERS);
      else p->verifiers[p->nverifiers++] = v;
    } else if (strcmp(flag, "--no-verifier") == 0) {
      rc = cli_args_no_value(&a);
      p->no_verifier = 1;
    } else if (strcmp(flag, "--csv") == 0) {
      if (!(v = cli_args_value(&a))) rc = CLI_USAGE;
      else p->csv = v;
    } else if (strcmp(flag, "--save-input") == 0) {
      if (!(v = cli_args_value(&a))) rc = CLI_USAGE;
      else if (!*v) rc = cli_usage("predict", "--save-input needs a folder");
      else save->dir = v;
    } else if (strcmp(flag, "--threads") == 0) {
      if (!(v = cli_args_value(&a))) rc = CLI_USAGE;
      else rc = cli_parse_int("predict", flag, v, 1, 1024, &p->threads);
    } else {
      rc = cli_usage("predict", "unknown option \"%s\" (see 'digits help predict')",
                     flag);
    }
  }
  if (rc) return rc;
  if (p->csv && (p->nfiles || p->json || save->dir))
    return cli_usage("predict", "--csv FILE prints ImageId,Label rows: no IMAGE "
                     "arguments, --json or --save-input with it");
  if (p->number && (p->csv || save->dir))
    return cli_usage("predict", "--number reads whole numbers from IMAGE "
                     "files: not with --csv or --save-input");
  if ((p->nverifiers || p->no_verifier) && !p->number)
    return cli_usage("predict", "--verifier and --no-verifier go with --number");
  if (p->nverifiers && p->no_verifier)
    return cli_usage("predict", "--verifier FILE or --no-verifier, not both");
  if (!p->csv && p->nfiles == 0)
    return cli_usage("predict", "no image files given");
  return 0;
}

/* One verifier from path into *out: 0, or non-zero after the message. */
static int load_verifier(const char *path, int several, dg_net **out) {
  if (dg_model_load(out, path, NULL, NULL) != DG_OK) return cli_fail_lib("predict", path);
  const int in = dg_net_input_size(*out), win = DG_NUMBER_WIN_H * DG_NUMBER_WIN_W;
  if ((in != 784 && in != 2 * 784 && in != win) || dg_net_output_size(*out) != 11 ||
      (several && in != win)) {
    if (several)
      cli_fail("predict", "%s: verifiers averaged must be window readers (%d inputs, %dx%d, "
               "and 11 outputs), not %d and %d", path, win, DG_NUMBER_WIN_H, DG_NUMBER_WIN_W,
               in, dg_net_output_size(*out));
    else
      cli_fail("predict", "%s: a verifier takes 784 inputs (28x28), 1568 (28x28x2) or %d "
               "(%dx%d windows) and gives 11 outputs, not %d and %d", path, win,
               DG_NUMBER_WIN_H, DG_NUMBER_WIN_W, in, dg_net_output_size(*out));
    dg_net_free(*out);
    *out = NULL;
    return CLI_FAIL;
  }
  return 0;
}

/* --number's verifiers into v (their count into *n): every --verifier
 * FILE, else models/verifier.safetensors, verifier2.safetensors and
 * verifier3.safetensors where the default model is looked for, those
 * there up to the first missing (none with --no-verifier). 0, or non-zero
 * after the message (none kept). */
static int load_verifiers(const predict_args *p, dg_net **v, int *n) {
  char def[CLI_VERIFIERS][PATH_MAX + 64];
  const char *paths[DG_NUMBER_MAX_VERIFIERS];
  int m = p->nverifiers;
  *n = 0;
  if (p->no_verifier) return 0;
  for (int i = 0; i < m; i++) paths[i] = p->verifiers[i];
  for (int i = 0; !p->nverifiers && i < CLI_VERIFIERS && !cli_default_verifier(i, def[i], sizeof def[i]);
       i++)
    paths[m++] = def[i];
  for (int i = 0; i < m; i++) {
    if (load_verifier(paths[i], m > 1, &v[i])) {
      while (i--) dg_net_free(v[i]);
      return CLI_FAIL;
    }
  }
  *n = m;
  return 0;
}

int cmd_predict(int argc, char **argv) {
  predict_args p;
  memset(&p, 0, sizeof p);
  p.threads = 1;
  p.files = calloc((size_t)argc, sizeof *p.files);
  char **names = calloc((size_t)argc, sizeof *names);
  save_ctx save = {NULL, names, 0};
  if (!p.files || !names) {
    free(p.files);
    free(names);
    return cli_fail("predict", "out of memory");
  }
  int rc = parse(argc, argv, &p, &save);
  if (!rc && save.dir && cli_mkdirs(save.dir) != DG_OK)
    rc = cli_fail("predict", "--save-input: %s", dg_last_error());
  cli_models models;
  if (!rc) rc = cli_models_load("predict", &models, p.model_paths, p.nmodels,
                                (int)p.threads);
  if (rc) {
    free(p.files);
    free(names);
    return rc;
  }
  int failed = 0;
  dg_net *verifiers[DG_NUMBER_MAX_VERIFIERS];
  int nver = 0;
  if (p.number && load_verifiers(&p, verifiers, &nver)) {
    cli_models_free(&models);
    free(p.files);
    free(names);
    return CLI_FAIL;
  }
  result *r = p.csv || p.number ? NULL : malloc(sizeof *r);
  dg_number *num = p.number ? malloc(sizeof *num) : NULL;
  if (p.csv) failed = predict_csv(&models, p.csv);
  else if (p.number && !num) failed = cli_fail("predict", "out of memory");
  for (int i = 0; num && i < p.nfiles; i++) {
    failed |= number_one(&models, verifiers, nver, p.files[i], p.json, num);
    fflush(stdout);
  }
  free(num);
  for (int i = 0; i < nver; i++) dg_net_free(verifiers[i]);
  if (!p.csv && !p.number && !r) failed = cli_fail("predict", "out of memory");
  for (int i = 0; r && i < p.nfiles; i++) {
    memset(r, 0, sizeof *r);
    const char *f = p.files[i];
    int ok = predict_one(&models, &save, f, r) == 0;
    if (!ok) {
      failed = 1;
      cli_fail("predict", "%s: %s", strcmp(f, "-") ? f : "standard input",
               r->msg);
      fflush(stderr);
    }
    print_result(f, r, ok, p.json);
    fflush(stdout); /* keep stdout and stderr lines in order */
  }
  free(r);
  cli_models_free(&models);
  for (int i = 0; i < save.n; i++) free(save.names[i]);
  free(names);
  free(p.files);
  return failed ? CLI_FAIL : CLI_OK;
}
