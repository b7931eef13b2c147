/* cmd_train.c: `digits train`: load data, build (or resume) a network,
 * train with a progress bar and per-epoch summary lines, evaluate on the
 * test set, store metadata and save the model. Ctrl-C / SIGTERM stop the
 * loop at the next progress call, which leaves a checkpoint to resume. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int sig) { stop_signal = sig; }

typedef struct {
  int tty;            /* stderr is a terminal: draw the bar */
  int batch_size;
  double last_draw;   /* cli_now() of the last bar redraw */
  int bar_shown;
  int epochs_done;
  float last_lr;
} progress_state;

static void clear_bar(progress_state *s) {
  if (s->bar_shown) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
    s->bar_shown = 0;
  }
}

static int on_progress(const dg_progress *p, void *user) {
  progress_state *s = user;
  if (p->done) {
    clear_bar(s);
    s->epochs_done = p->epoch;
    s->last_lr = p->lr;
    printf("epoch %d/%d  loss %.4f  acc %.2f%%", p->epoch, p->epochs,
           (double)p->loss, 100.0 * p->acc);
    if (!isnan(p->val_loss))
      printf("  val_loss %.4f  val_acc %.2f%%", (double)p->val_loss,
             100.0 * p->val_acc);
    printf("  lr %g  %.1fs%s\n", (double)p->lr, p->seconds,
           p->improved ? "  *" : "");
    fflush(stdout);
  } else if (s->tty) {
    double now = cli_now();
    if (now - s->last_draw >= 0.1 || p->batch == p->batches) {
      s->last_draw = now;
      int width = 24;
      int filled = p->batches > 0 ? (int)((double)p->batch * width / p->batches) : 0;
      if (filled > width) filled = width;
      char bar[32];
      for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
      bar[width] = '\0';
      double ips = p->seconds > 0 ? p->batch * (double)s->batch_size / p->seconds : 0;
      fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %d/%d  loss %.4f  acc %.2f%%  %.0f img/s",
              p->epoch, p->epochs, bar, p->batch, p->batches, (double)p->loss,
              100.0 * p->acc, ips);
      fflush(stderr);
      s->bar_shown = 1;
    }
  }
  return stop_signal != 0;
}

typedef struct {
  const char *data, *test, *arch, *out, *resume, *checkpoint, *init, *keep;
  long epochs, batch, seed, patience, val, limit, threads;
  double lr, weight_decay, thickness, ema, norm_mean, norm_std;
  const char *schedule;
  int norm;                 /* --normalize MEAN STD */
  int have_val, have_lr, have_epochs, have_batch, have_seed, have_patience, have_threads;
  int augment;
  dg_opt_kind optimizer;
} train_args;

static int parse(int argc, char **argv, train_args *t) {
  cli_args a;
  const char *flag, *pos, *v;
  const char *verb = "train";
  memset(t, 0, sizeof *t);
  t->val = 5000;
  t->optimizer = DG_OPT_ADAM;
  cli_args_init(&a, argc, argv);
  while (cli_args_next(&a, &flag, &pos)) {
    int rc = 0;
    if (pos)
      return cli_usage(verb, "unexpected argument \"%s\"", pos);
    if (strcmp(flag, "--augment") == 0) {
      if ((rc = cli_args_no_value(&a))) return rc;
      t->augment = 1;
      continue;
    }
    if (strcmp(flag, "--normalize") == 0) { /* two values */
      if (!(v = cli_args_value(&a))) return CLI_USAGE;
      if (a.i >= a.argc) return cli_usage(verb, "--normalize needs MEAN and STD");
      if ((rc = cli_parse_float(verb, "--normalize MEAN", v, -1e6, 1e6, &t->norm_mean)) ||
          (rc = cli_parse_float(verb, "--normalize STD", a.argv[a.i++], 1e-6, 1e6,
                                &t->norm_std)))
        return rc;
      t->norm = 1;
      continue;
    }
    /* every other flag takes a value */
    static const char *const known[] = {
        "--data", "--arch", "--epochs", "--batch", "--lr", "--optimizer",
        "--seed", "--patience", "--out", "--resume", "--threads", "--val",
        "--limit", "--weight-decay", "--checkpoint", "--schedule",
        "--augment-thickness", "--init", "--keep", "--ema", "--test", NULL};
    int ok = 0;
    for (int i = 0; known[i]; i++) ok |= strcmp(flag, known[i]) == 0;
    if (!ok)
      return cli_usage(verb, "unknown option \"%s\" (see 'digits help train')",
                       flag);
    if (!(v = cli_args_value(&a))) return CLI_USAGE;
    if (strcmp(flag, "--data") == 0) t->data = v;
    else if (strcmp(flag, "--test") == 0) t->test = v;
    else if (strcmp(flag, "--arch") == 0) t->arch = v;
    else if (strcmp(flag, "--out") == 0) t->out = v;
    else if (strcmp(flag, "--resume") == 0) t->resume = v;
    else if (strcmp(flag, "--init") == 0) t->init = v;
    else if (strcmp(flag, "--keep") == 0) {
      if (strcmp(v, "best") && strcmp(v, "last"))
        rc = cli_usage(verb, "--keep must be best or last, got \"%s\"", v);
      t->keep = v;
    }
    else if (strcmp(flag, "--checkpoint") == 0) t->checkpoint = v;
    else if (strcmp(flag, "--epochs") == 0)
      rc = cli_parse_int(verb, flag, v, 1, 100000, &t->epochs), t->have_epochs = 1;
    else if (strcmp(flag, "--batch") == 0)
      rc = cli_parse_int(verb, flag, v, 1, 65536, &t->batch), t->have_batch = 1;
    else if (strcmp(flag, "--seed") == 0)
      rc = cli_parse_int(verb, flag, v, 0, 2147483647L, &t->seed), t->have_seed = 1;
    else if (strcmp(flag, "--patience") == 0)
      rc = cli_parse_int(verb, flag, v, 0, 100000, &t->patience), t->have_patience = 1;
    else if (strcmp(flag, "--threads") == 0)
      rc = cli_parse_int(verb, flag, v, 1, 1024, &t->threads), t->have_threads = 1;
    else if (strcmp(flag, "--val") == 0)
      rc = cli_parse_int(verb, flag, v, 0, DG_IDX_MAX_ITEMS, &t->val), t->have_val = 1;
    else if (strcmp(flag, "--limit") == 0)
      rc = cli_parse_int(verb, flag, v, 1, DG_IDX_MAX_ITEMS, &t->limit);
    else if (strcmp(flag, "--lr") == 0)
      rc = cli_parse_float(verb, flag, v, 1e-9, 100, &t->lr), t->have_lr = 1;
    else if (strcmp(flag, "--schedule") == 0) {
      if (strcmp(v, "plateau") && strcmp(v, "cosine"))
        rc = cli_usage(verb, "--schedule must be plateau or cosine, got \"%s\"", v);
      t->schedule = v;
    } else if (strcmp(flag, "--augment-thickness") == 0)
      rc = cli_parse_float(verb, flag, v, 0, 3, &t->thickness), t->augment = 1;
    else if (strcmp(flag, "--ema") == 0)
      rc = cli_parse_float(verb, flag, v, 0, 0.999999, &t->ema);
    else if (strcmp(flag, "--weight-decay") == 0)
      rc = cli_parse_float(verb, flag, v, 0, 10, &t->weight_decay);
    else if (strcmp(flag, "--optimizer") == 0) {
      if (strcmp(v, "adam") == 0) t->optimizer = DG_OPT_ADAM;
      else if (strcmp(v, "sgd") == 0) t->optimizer = DG_OPT_SGD;
      else rc = cli_usage(verb, "--optimizer needs adam or sgd, got \"%s\"", v);
    }
    if (rc) return rc;
  }
  /* --resume FILE may hold --data (see merge_resume_options) */
  if (!t->data && !t->resume)
    return cli_usage(verb, "--data DIR is required (an MNIST folder, a folder of "
                   "class folders 0..9 or a CSV file)");
  if (!t->arch && !t->resume && !t->init)
    return cli_usage(verb, "--arch NAME is required (or --resume FILE or --init FILE)");
  if (t->init && (t->arch || t->resume))
    return cli_usage(verb, "--init FILE takes the architecture from FILE: "
                     "no --arch or --resume with it");
  if (t->norm && !t->arch)
    return cli_usage(verb, "--normalize is for a new network (--arch): a model "
                     "file keeps its own");
  return 0;
}

/* ---- the run's options in its checkpoints -----------------------------------
 *
 * Every checkpoint stores the options its run was started with (metadata
 * "train_options": flags and values separated by tabs). `--resume FILE` starts from
 * them and lets the command line override any: `digits train --resume
 * m.ckpt` alone continues the run as it was, and an option that would make
 * the resumed run differ from an uninterrupted one is said out loud. */

/* The flags whose value shapes the run (not --epochs, which a resume may
 * raise, nor --threads, which never changes results, nor file names). */
static int shapes_run(const char *flag) {
  static const char *const f[] = {"--batch", "--lr", "--optimizer", "--schedule",
                                  "--augment", "--augment-thickness", "--ema",
                                  "--keep", "--patience", "--val", "--limit",
                                  "--weight-decay", NULL};
  for (int i = 0; f[i]; i++)
    if (strcmp(flag, f[i]) == 0) return 1;
  return 0;
}

static void opt_add(char *buf, size_t n, const char *flag, const char *value) {
  size_t len = strlen(buf);
  snprintf(buf + len, n - len, "%s%s%s%s", len ? "\t" : "", flag,
           value ? "\t" : "", value ? value : "");
}

static void opt_addf(char *buf, size_t n, const char *flag, const char *fmt,
                     double v) {
  char value[64];
  snprintf(value, sizeof value, fmt, v);
  opt_add(buf, n, flag, value);
}

/* The effective options of a run, tokens separated by tabs; 0 if a path
 * holds a tab or a newline (then nothing is stored and a resume needs the
 * options again). */
static int options_text(const train_args *t, const dg_train_opts *o,
                        const char *out, const char *ckpt, char *buf, size_t n) {
  const char *paths[4] = {t->data, out, ckpt, t->test};
  for (int i = 0; i < 4; i++)
    if (paths[i] && strpbrk(paths[i], "\t\n")) return 0;
  buf[0] = '\0';
  opt_add(buf, n, "--data", t->data);
  if (t->test) opt_add(buf, n, "--test", t->test);
  opt_addf(buf, n, "--epochs", "%.0f", o->epochs);
  opt_addf(buf, n, "--batch", "%.0f", o->batch);
  opt_add(buf, n, "--optimizer", o->optimizer == DG_OPT_SGD ? "sgd" : "adam");
  opt_addf(buf, n, "--lr", "%.7g", o->lr);
  opt_add(buf, n, "--schedule", o->cosine ? "cosine" : "plateau");
  if (o->augment && o->aug.thickness > 0)
    opt_addf(buf, n, "--augment-thickness", "%.7g", o->aug.thickness);
  else if (o->augment)
    opt_add(buf, n, "--augment", NULL);
  if (o->ema > 0) opt_addf(buf, n, "--ema", "%.7g", o->ema);
  opt_add(buf, n, "--keep", o->keep_last ? "last" : "best");
  opt_addf(buf, n, "--patience", "%.0f", o->patience);
  opt_addf(buf, n, "--val", "%.0f", o->val_count);
  if (t->limit > 0) opt_addf(buf, n, "--limit", "%.0f", (double)t->limit);
  opt_addf(buf, n, "--weight-decay", "%.7g", o->weight_decay);
  opt_add(buf, n, "--out", out);
  /* a checkpoint named apart from --out stays apart; else it follows
   * --out, also when a resume gives a new one */
  if (t->checkpoint) opt_add(buf, n, "--checkpoint", ckpt);
  return strlen(buf) + 1 < n;
}

/* The value `flag` has in a token list (argv-like, from index `from`), or
 * NULL; "" for a flag without a value. The last occurrence wins. */
static const char *token_value(char **tok, int ntok, int from, const char *flag) {
  const char *v = NULL;
  for (int i = from; i < ntok; i++) {
    const char *eq = strchr(tok[i], '=');
    size_t len = eq ? (size_t)(eq - tok[i]) : strlen(tok[i]);
    if (tok[i][0] != '-' || strlen(flag) != len || strncmp(tok[i], flag, len))
      continue;
    if (eq) v = eq + 1;
    else if (strcmp(flag, "--augment") == 0) v = "";
    else if (i + 1 < ntok) v = tok[++i];
  }
  return v;
}

static char *resume_text, **resume_tok; /* merge_resume_options' tokens */

/* Re-parse the command line after the options stored in the checkpoint
 * that --resume names. Returns 0 (t updated, or untouched when the file
 * has none) or a CLI status. */
static int merge_resume_options(int argc, char **argv, train_args *t) {
  dg_net *ck = NULL;
  if (dg_model_load(&ck, t->resume, NULL, NULL) != DG_OK)
    return cli_fail_lib("train", t->resume);
  const char *stored = dg_net_meta_get(ck, "train_options");
  if (!stored) {
    dg_net_free(ck);
    return 0;
  }
  char *text = strdup(stored);
  int cap = argc + 64, n = 0;
  char **tok = malloc((size_t)cap * sizeof *tok);
  if (!text || !tok) {
    free(text), free(tok), dg_net_free(ck);
    return cli_fail("train", "out of memory");
  }
  tok[n++] = argv[0];
  for (char *line = text, *next; line && *line && n < cap - argc; line = next) {
    next = strchr(line, '\t');
    if (next) *next++ = '\0';
    tok[n++] = line;
  }
  int first_user = n;
  for (int i = 1; i < argc; i++) tok[n++] = argv[i];
  dg_net_free(ck);
  /* t will point into text and tok: they live until cmd_train returns */
  resume_text = text;
  resume_tok = tok;
  /* what the checkpoint's state decides, an option cannot change */
  const char *opt_was = token_value(tok, first_user, 1, "--optimizer");
  const char *opt_now = token_value(tok, n, first_user, "--optimizer");
  if (opt_was && opt_now && strcmp(opt_was, opt_now) != 0)
    return cli_usage("train", "--optimizer %s: the run in %s uses %s, and its "
                     "checkpoint holds that optimizer's state (start from its "
                     "weights with --init FILE instead)", opt_now, t->resume,
                     opt_was);
  const char *sched = token_value(tok, n, 1, "--schedule");
  const char *lr_was = token_value(tok, first_user, 1, "--lr");
  const char *lr_now = token_value(tok, n, first_user, "--lr");
  if (lr_now && lr_was && strcmp(lr_was, lr_now) != 0 &&
      !(sched && strcmp(sched, "cosine") == 0))
    return cli_usage("train", "--lr %s: a resumed run with the plateau schedule "
                     "goes on at its checkpoint's rate (start from the weights "
                     "with --init FILE --lr %s instead)", lr_now, lr_now);
  /* say which of the given options change the run */
  for (int i = first_user; i < n; i++) {
    if (tok[i][0] != '-') continue;
    char flag[32];
    snprintf(flag, sizeof flag, "%.*s", (int)strcspn(tok[i], "="), tok[i]);
    if (!shapes_run(flag)) continue;
    const char *was = token_value(tok, first_user, 1, flag);
    const char *now = token_value(tok, n, first_user, flag);
    if (!now || (was && strcmp(was, now) == 0)) continue;
    if (was)
      fprintf(stderr, "digits: train: note: %s %s instead of the interrupted "
              "run's %s: the resumed run will not match an uninterrupted one\n",
              flag, now, was);
    else
      fprintf(stderr, "digits: train: note: %s%s%s was not set in the "
              "interrupted run: the resumed run will not match an uninterrupted "
              "one\n", flag, *now ? " " : "", now);
  }
  return parse(n, tok, t);
}

/* A name for files: the arch name if it is a named architecture. */
static const char *arch_file_name(const char *arch) {
  return arch && dg_arch_spec(arch) ? arch : "model";
}

/* True if the folder that would hold path exists. */
static int dir_exists_for(const char *path) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash) return 1; /* the current folder */
  if (slash == dir) slash[1] = '\0';
  else *slash = '\0';
  struct stat st;
  return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static void set_meta_num(dg_net *net, const char *key, const char *fmt, double v) {
  char buf[64];
  snprintf(buf, sizeof buf, fmt, v);
  dg_net_meta_set(net, key, buf);
}

/* One run of `digits train`: what the steps below fill in and share. */
typedef struct {
  train_args t;
  dg_net *net;
  char arch_name[256];
  char out[1024], ckpt[1100];
  dg_dataset train, test;   /* test.n == 0: no test set */
  dg_data_kind kind;        /* of --data */
  dg_train_opts o;
  progress_state ps;
  double seconds;           /* of dg_train */
} train_run;

/* The usage error for an --arch that does not build. */
static int bad_arch(const char *arch) {
  if (!dg_arch_spec(arch) && !strchr(arch, ';')) {
    char names[512] = "";
    for (const char *const *n = dg_arch_names(); n && *n; n++) {
      if (names[0]) strncat(names, ", ", sizeof names - strlen(names) - 1);
      strncat(names, *n, sizeof names - strlen(names) - 1);
    }
    return cli_usage("train", "unknown architecture \"%s\" (known: %s)", arch,
                     names);
  }
  return cli_usage("train", "bad architecture spec: %s", dg_last_error());
}

/* Clear a model's metadata for fine-tuning: its history is not ours, but
 * where it came from is kept as init and init_command. */
static void meta_reset_for_init(dg_net *net, const char *init) {
  char *base_cmd = dg_net_meta_get(net, "command") ? strdup(dg_net_meta_get(net, "command")) : NULL;
  while (dg_net_meta_count(net) > 0) {
    const char *k = NULL;
    dg_net_meta_at(net, 0, &k, NULL);
    dg_net_meta_del(net, k);
  }
  dg_net_meta_set(net, "init", init);
  if (base_cmd) dg_net_meta_set(net, "init_command", base_cmd);
  free(base_cmd);
}

/* The network first (an unknown architecture is a usage error): new from
 * --arch, the weights of --init, or the checkpoint of --resume. */
static int make_net(train_run *r) {
  train_args *t = &r->t;
  if (t->arch) {
    if (dg_net_new(&r->net, t->arch, (uint64_t)(t->have_seed ? t->seed : 1)) != DG_OK)
      return bad_arch(t->arch);
    if (t->norm &&
        dg_net_set_input_norm(r->net, (float)t->norm_mean, (float)t->norm_std) != DG_OK)
      return cli_fail_lib("train", "--normalize");
    snprintf(r->arch_name, sizeof r->arch_name, "%s", t->arch);
    return 0;
  }
  const char *from = t->init ? t->init : t->resume;
  if (dg_model_load(&r->net, from, NULL, NULL) != DG_OK)
    return cli_fail_lib("train", from);
  const char *n = dg_net_meta_get(r->net, "arch_name");
  snprintf(r->arch_name, sizeof r->arch_name, "%s", n ? n : dg_net_arch(r->net));
  if (t->init) meta_reset_for_init(r->net, t->init);
  return 0;
}

/* The net's shape, the output and checkpoint names, the thread count. */
static int check_net_and_paths(train_run *r) {
  train_args *t = &r->t;
  int nin = dg_net_input_size(r->net), nout = dg_net_output_size(r->net);
  if (nin != 28 * 28 || nout != 10)
    return cli_usage("train", "architecture \"%s\" takes %d inputs and gives %d "
                     "outputs; MNIST needs 784 and 10", r->arch_name, nin, nout);
  if (t->out)
    snprintf(r->out, sizeof r->out, "%s", t->out);
  else
    snprintf(r->out, sizeof r->out, "%s.safetensors", arch_file_name(r->arch_name));
  if (t->checkpoint)
    snprintf(r->ckpt, sizeof r->ckpt, "%s", t->checkpoint);
  else
    snprintf(r->ckpt, sizeof r->ckpt, "%s.ckpt", r->out);
  /* the output folder must exist before hours of training, not after */
  if (!dir_exists_for(r->out))
    return cli_fail("train", "%s: the folder for the model file does not exist", r->out);
  /* threads default to the machine's cores: results do not depend on them */
  if (!t->have_threads) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    t->threads = n < 1 ? 1 : n > 64 ? 64 : n;
  }
  dg_net_set_threads(r->net, (int)t->threads);
  return 0;
}

/* Data: the training split (optionally cut), and the test set up front so
 * that a missing file fails before hours of training, not after: --test,
 * else the t10k split of an idx folder; an image folder or a CSV has none
 * without --test (validation is then the only held-out figure). */
static int load_data(train_run *r) {
  train_args *t = &r->t;
  const char *verb = "train";
  if (cli_data_load(verb, t->data, "train", &r->train, &r->kind)) return CLI_FAIL;
  if (t->limit > 0 && t->limit < r->train.n) {
    dg_dataset cut = {0};
    if (dg_dataset_slice(&cut, &r->train, 0, (int)t->limit) != DG_OK)
      return cli_fail_lib(verb, t->data);
    dg_dataset_free(&r->train);
    r->train = cut;
  }
  const char *test = t->test ? t->test : r->kind == DG_DATA_IDX ? t->data : NULL;
  if (test && cli_data_load(verb, test, "t10k", &r->test, NULL)) return CLI_FAIL;
  /* the default 5000 validation images would swallow a small --limit */
  if (!t->have_val && r->train.n < 4 * t->val) t->val = r->train.n / 10;
  if (t->val >= r->train.n)
    return cli_usage(verb, "--val %ld leaves no training images (%d in %s%s)",
                     t->val, r->train.n, t->data, t->limit ? " after --limit" : "");
  return 0;
}

/* The loop's options from the flags, stored in the net's metadata too
 * (checkpoints carry where they came from, so --resume alone works). */
static void set_options(train_run *r) {
  const train_args *t = &r->t;
  dg_train_opts *o = &r->o;
  *o = dg_train_defaults();
  if (t->have_epochs) o->epochs = (int)t->epochs;
  if (t->have_batch) o->batch = (int)t->batch;
  o->optimizer = t->optimizer;
  if (t->have_lr) o->lr = (float)t->lr;
  else if (t->optimizer == DG_OPT_SGD) o->lr = 0.01f;
  o->weight_decay = (float)t->weight_decay;
  o->ema = (float)t->ema;
  o->augment = t->augment;
  o->aug.thickness = (float)t->thickness;
  o->cosine = t->schedule && !strcmp(t->schedule, "cosine");
  o->keep_last = t->keep && !strcmp(t->keep, "last");
  if (t->have_seed) o->seed = (uint64_t)t->seed;
  if (t->have_patience) o->patience = (int)t->patience;
  o->threads = (int)t->threads;
  o->val_count = (int)t->val;
  o->checkpoint = r->ckpt;
  o->resume = t->resume;
  char opts[4096];
  if (options_text(t, o, r->out, r->ckpt, opts, sizeof opts))
    dg_net_meta_set(r->net, "train_options", opts);
  dg_net_meta_set(r->net, "arch_name", r->arch_name);
  dg_net_meta_set(r->net, "dataset", t->data);
  if (t->test) dg_net_meta_set(r->net, "test_dataset", t->test);
  /* a resumed run keeps the seed it started with unless told otherwise */
  const char *old_seed = dg_net_meta_get(r->net, "seed");
  if (t->resume && !t->have_seed && old_seed)
    o->seed = strtoull(old_seed, NULL, 10);
  else
    set_meta_num(r->net, "seed", "%.0f", (double)o->seed);
  r->ps.tty = isatty(STDERR_FILENO);
  r->ps.batch_size = o->batch;
  o->progress = on_progress;
  o->user = &r->ps;
}

static void print_start(const train_run *r) {
  const dg_train_opts *o = &r->o;
  char params[32];
  cli_thousands(params, sizeof params, dg_net_param_count(r->net));
  if (r->t.resume)
    printf("resuming %s (%s params) from %s on %s: %d images (%d for "
           "validation), up to epoch %d\n", r->arch_name, params, r->t.resume,
           r->t.data, r->train.n, o->val_count, o->epochs);
  else
    printf("training %s (%s params) on %s%s: %d images (%d for validation), "
           "%d epoch%s, batch %d, %s lr %g%s\n",
           r->arch_name, params, r->t.data,
           r->kind == DG_DATA_IMAGES ? " (image folder)"
           : r->kind == DG_DATA_CSV  ? " (CSV)" : "",
           r->train.n, o->val_count, o->epochs,
           o->epochs == 1 ? "" : "s", o->batch,
           o->optimizer == DG_OPT_ADAM ? "adam" : "sgd", (double)o->lr,
           o->augment ? ", augmented" : "");
  if (r->test.n == 0)
    printf("no test set: give --test DIR|CSV to measure one; the validation "
           "figures are the only held-out ones\n");
  fflush(stdout);
}

/* dg_train with the first SIGINT/SIGTERM stopping it cleanly at the next
 * progress call (a second one kills the program the usual way). */
static int run_training(train_run *r) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  print_start(r);
  double t0 = cli_now();
  int st = dg_train(r->net, &r->train, &r->o);
  r->seconds = cli_now() - t0;
  clear_bar(&r->ps);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (st == DG_ERR_STOPPED) {
    int done = r->ps.epochs_done;
    fprintf(stderr, "digits: train: stopped by %s after %d epoch%s; checkpoint "
            "in %s (continue with --resume %s)\n",
            stop_signal == SIGTERM ? "SIGTERM" : "Ctrl-C", done,
            done == 1 ? "" : "s", r->ckpt, r->ckpt);
    return 128 + (stop_signal ? (int)stop_signal : SIGINT);
  }
  if (st != DG_OK) return cli_fail_lib("train", NULL);
  /* early stopping and best-weight restoring are the loop's; say so */
  const char *best = dg_net_meta_get(r->net, "best_epoch");
  if (r->ps.epochs_done == 0 && r->t.resume)
    printf("nothing to train: %s has already run %d epochs (raise --epochs to "
           "continue)\n", r->t.resume, r->o.epochs);
  else if (r->ps.epochs_done < r->o.epochs)
    printf("stopped early after epoch %d: no validation-loss gain for %d "
           "epochs\n", r->ps.epochs_done, r->o.patience);
  if (best && atoi(best) != r->ps.epochs_done)
    printf("kept the weights of epoch %s (best validation loss)\n", best);
  return 0;
}

/* Test-set figures (when there is a test set) and where the model came
 * from into its metadata, then the model file. */
static int evaluate_and_save(train_run *r) {
  dg_metrics m;
  dg_net *net = r->net;
  if (r->test.n > 0 && dg_evaluate(net, &r->test, &m, NULL) != DG_OK)
    return cli_fail_lib("train", "test set");
  char cmd[4096] = "", date[32];
  for (int i = 0; i < cli_argc; i++) {
    if (i) strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
    cli_shell_quote(cmd, sizeof cmd, cli_argv[i]);
  }
  cli_iso_date(date, sizeof date);
  dg_net_meta_set(net, "arch_name", r->arch_name);
  dg_net_meta_set(net, "dataset", r->t.data);
  if (r->test.n > 0) {
    set_meta_num(net, "test_accuracy", "%.4f", dg_metrics_accuracy(&m));
    set_meta_num(net, "test_loss", "%.4f", dg_metrics_loss(&m));
  } else {
    dg_net_meta_del(net, "test_accuracy");
    dg_net_meta_del(net, "test_loss");
  }
  set_meta_num(net, "epochs", "%.0f", r->ps.epochs_done);
  set_meta_num(net, "train_seconds", "%.1f", r->seconds);
  set_meta_num(net, "train_images", "%.0f", r->train.n - r->o.val_count);
  dg_net_meta_set(net, "date", date);
  dg_net_meta_set(net, "command", cmd);
  if (dg_model_save(net, r->out, NULL, 0) != DG_OK)
    return cli_fail_lib("train", r->out);
  if (r->test.n > 0)
    printf("test accuracy %.2f%%  test loss %.4f  (%d images)  %.1fs\n",
           100.0 * dg_metrics_accuracy(&m), dg_metrics_loss(&m), m.n, r->seconds);
  else
    printf("no test set (give --test DIR|CSV)  %.1fs\n", r->seconds);
  printf("saved %s\n", r->out);
  return CLI_OK;
}

int cmd_train(int argc, char **argv) {
  train_run r;
  memset(&r, 0, sizeof r);
  int rc = parse(argc, argv, &r.t);
  if (rc) return rc;
  if (r.t.resume && (rc = merge_resume_options(argc, argv, &r.t))) goto done;
  if (!r.t.data) {
    rc = cli_usage("train", "--data DIR is required (%s does not say which "
                   "data its run used)", r.t.resume);
    goto done;
  }
  if (!(rc = make_net(&r)) && !(rc = check_net_and_paths(&r)) &&
      !(rc = load_data(&r))) {
    set_options(&r);
    rc = run_training(&r);
    if (!rc) rc = evaluate_and_save(&r);
  }
done:
  dg_dataset_free(&r.train);
  dg_dataset_free(&r.test);
  dg_net_free(r.net);
  free(resume_text), free(resume_tok);
  resume_text = NULL, resume_tok = NULL;
  return rc;
}
