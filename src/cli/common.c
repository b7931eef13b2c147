/* common.c: helpers shared by the verbs: error lines, strict argument
 * parsing, default-model lookup, model ensembles, quoting and dates. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cli_argc;
char **cli_argv;

int cli_msg(int status, const char *verb, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("digits: ", stderr);
  if (verb) fprintf(stderr, "%s: ", verb);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return status;
}

int cli_fail_lib(const char *verb, const char *what) {
  const char *e = dg_last_error();
  if (!e || !*e) e = "unknown error";
  if (what && *what && !strstr(e, what))
    return cli_fail(verb, "%s: %s", what, e);
  return cli_fail(verb, "%s", e);
}

/* ---- argument scanning ---------------------------------------------------- */

void cli_args_init(cli_args *a, int argc, char **argv) {
  memset(a, 0, sizeof *a);
  a->verb = argv[0];
  a->argc = argc;
  a->argv = argv;
  a->i = 1;
}

int cli_args_next(cli_args *a, const char **flag, const char **pos) {
  *flag = NULL;
  *pos = NULL;
  a->flag = NULL;
  a->inline_value = NULL;
  while (a->i < a->argc) {
    const char *s = a->argv[a->i++];
    if (!a->no_more_flags && strcmp(s, "--") == 0) {
      a->no_more_flags = 1;
      continue;
    }
    if (!a->no_more_flags && s[0] == '-' && s[1] != '\0') {
      const char *eq = strchr(s, '=');
      if (eq && s[1] == '-') {
        size_t len = (size_t)(eq - s);
        if (len >= sizeof a->flagbuf) len = sizeof a->flagbuf - 1;
        memcpy(a->flagbuf, s, len);
        a->flagbuf[len] = '\0';
        a->flag = a->flagbuf;
        a->inline_value = eq + 1;
      } else {
        a->flag = s;
      }
      *flag = a->flag;
      return 1;
    }
    *pos = s;
    return 1;
  }
  return 0;
}

const char *cli_args_value(cli_args *a) {
  if (a->inline_value) return a->inline_value;
  if (a->i >= a->argc) {
    cli_usage(a->verb, "%s needs a value", a->flag);
    return NULL;
  }
  return a->argv[a->i++];
}

int cli_args_no_value(cli_args *a) {
  if (a->inline_value)
    return cli_usage(a->verb, "%s takes no value, got \"%s\"", a->flag,
                     a->inline_value);
  return 0;
}

int cli_parse_int(const char *verb, const char *flag, const char *s, long min,
                  long max, long *out) {
  char *end = NULL;
  errno = 0;
  long v = s && *s ? strtol(s, &end, 10) : 0;
  if (!s || !*s || *end != '\0' || errno == ERANGE || v < min || v > max) {
    const char *what = min == 1 ? "a positive integer"
                       : min == 0 ? "a non-negative integer"
                                  : "an integer";
    if (s && *s && end && *end == '\0' && errno != ERANGE)
      return cli_usage(verb, "%s needs %s from %ld to %ld, got \"%s\"", flag,
                       what, min, max, s);
    return cli_usage(verb, "%s needs %s, got \"%s\"", flag, what, s ? s : "");
  }
  *out = v;
  return 0;
}

int cli_parse_float(const char *verb, const char *flag, const char *s,
                    double min, double max, double *out) {
  char *end = NULL;
  errno = 0;
  double v = s && *s ? strtod(s, &end) : 0;
  if (!s || !*s || *end != '\0' || errno == ERANGE || !isfinite(v))
    return cli_usage(verb, "%s needs a number, got \"%s\"", flag, s ? s : "");
  if (v < min || v > max)
    return cli_usage(verb, "%s needs a number from %g to %g, got \"%s\"", flag,
                     min, max, s);
  *out = v;
  return 0;
}

/* ---- models ----------------------------------------------------------------- */

static int is_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The folder of the running program into buf (no trailing slash); 0 ok. */
static int exe_dir(char *buf, size_t cap) {
  ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
  if (n <= 0) return -1;
  buf[n] = '\0';
  char *slash = strrchr(buf, '/');
  if (!slash) return -1;
  *slash = '\0';
  return 0;
}

/* Where `cmake --install` puts the models, relative to the program's
 * folder (CMakeLists.txt passes the real relative path). */
#ifndef DG_MODELS_REL
#define DG_MODELS_REL "../share/digits/models"
#endif

/* FILE in ./models/, in models/ beside the build folder, or in the
 * installed models folder beside the program: 0 and its path in buf. */
static int find_model_file(const char *file, char *buf, size_t cap) {
  snprintf(buf, cap, "models/%s", file);
  if (is_file(buf)) return 0;
  char exe[PATH_MAX];
  if (exe_dir(exe, sizeof exe) == 0) {
    char *slash = strrchr(exe, '/'); /* the folder's parent (of build/) */
    if (slash) {
      *slash = '\0';
      snprintf(buf, cap, "%s/models/%s", exe, file);
      if (is_file(buf)) return 0;
      *slash = '/';
    }
    snprintf(buf, cap, "%s/" DG_MODELS_REL "/%s", exe, file);
    if (is_file(buf)) return 0;
  }
  return -1;
}

int cli_default_model(const char *verb, char *buf, size_t cap) {
  const char *env = getenv("DIGITS_MODEL");
  if (env && *env) {
    snprintf(buf, cap, "%s", env);
    return 0; /* an explicit choice: let loading report if it is missing */
  }
  if (find_model_file("default.safetensors", buf, cap) == 0) return 0;
  return cli_fail(verb,
                  "no model given and no default model found (tried "
                  "$DIGITS_MODEL, ./models/default.safetensors, models/ beside "
                  "the build folder and the installed " DG_MODELS_REL "/ beside "
                  "the program); use --model FILE");
}

int cli_default_verifier(int i, char *buf, size_t cap) {
  const char *env = getenv("DIGITS_VERIFIER");
  if (env && *env) {
    snprintf(buf, cap, "%s", env);
    return i ? -1 : 0;
  }
  static const char *const names[CLI_VERIFIERS] = {"verifier.safetensors",
                                                   "verifier2.safetensors",
                                                   "verifier3.safetensors"};
  if (i < 0 || i >= CLI_VERIFIERS || find_model_file(names[0], buf, cap)) return -1;
  if (i == 0) return 0;
  char *slash = strrchr(buf, '/'); /* the others beside the first */
  if (!slash || (size_t)(slash - buf) + 2 + strlen(names[i]) > cap) return -1;
  snprintf(slash, cap - (size_t)(slash - buf), "/%s", names[i]);
  return is_file(buf) ? 0 : -1;
}

int cli_models_load(const char *verb, cli_models *m, const char **paths,
                    int n, int threads) {
  char def[PATH_MAX + 64];
  const char *one[1];
  memset(m, 0, sizeof *m);
  if (n == 0) {
    if (cli_default_model(verb, def, sizeof def)) return CLI_FAIL;
    one[0] = def;
    paths = one;
    n = 1;
  }
  m->nets = calloc((size_t)n, sizeof *m->nets);
  m->paths = calloc((size_t)n, sizeof *m->paths);
  if (!m->nets || !m->paths) {
    cli_models_free(m);
    return cli_fail(verb, "out of memory");
  }
  for (int i = 0; i < n; i++) {
    m->paths[i] = strdup(paths[i]);
    if (!m->paths[i]) {
      cli_models_free(m);
      return cli_fail(verb, "out of memory");
    }
    m->n = i + 1;
    if (dg_model_load(&m->nets[i], paths[i], NULL, NULL) != DG_OK) {
      cli_fail_lib(verb, paths[i]);
      cli_models_free(m);
      return CLI_FAIL;
    }
    int in = dg_net_input_size(m->nets[i]), out = dg_net_output_size(m->nets[i]);
    if (in != 28 * 28 || out != 10) {
      cli_fail(verb, "%s: the model takes %d inputs and gives %d outputs; "
               "expected 784 (28x28) and 10", paths[i], in, out);
      cli_models_free(m);
      return CLI_FAIL;
    }
    if (threads > 0) dg_net_set_threads(m->nets[i], threads);
  }
  return 0;
}

void cli_models_free(cli_models *m) {
  if (!m) return;
  for (int i = 0; i < m->n; i++) {
    if (m->nets) dg_net_free(m->nets[i]);
    if (m->paths) free((void *)m->paths[i]);
  }
  free(m->nets);
  free(m->paths);
  memset(m, 0, sizeof *m);
}

int cli_models_predict(cli_models *m, const float *x, int n, float *probs) {
  if (m->n == 1) return dg_net_predict(m->nets[0], x, n, probs);
  float *tmp = malloc((size_t)n * 10 * sizeof *tmp); /* (n, 10) */
  if (!tmp) return dg_error(DG_ERR_NOMEM, "ensemble: out of memory");
  memset(probs, 0, (size_t)n * 10 * sizeof *probs);
  for (int k = 0; k < m->n; k++) {
    int st = dg_net_predict(m->nets[k], x, n, tmp);
    if (st != DG_OK) {
      free(tmp);
      return st;
    }
    for (size_t j = 0; j < (size_t)n * 10; j++) probs[j] += tmp[j];
  }
  for (size_t j = 0; j < (size_t)n * 10; j++) probs[j] /= (float)m->n;
  free(tmp);
  return DG_OK;
}

/* ---- data ------------------------------------------------------------------------ */

int cli_data_load(const char *verb, const char *path, const char *split,
                  dg_dataset *ds, dg_data_kind *kind) {
  dg_data_kind k;
  memset(ds, 0, sizeof *ds);
  if (dg_data_load(ds, path, split, &k) != DG_OK) return cli_fail_lib(verb, path);
  if (kind) *kind = k;
  if (ds->h != 28 || ds->w != 28) {
    cli_fail(verb, "%s: images are %dx%d, the networks need 28x28", path,
             ds->h, ds->w);
    dg_dataset_free(ds);
    return CLI_FAIL;
  }
  return 0;
}

const char *cli_data_label(dg_data_kind kind, const char *split) {
  return kind == DG_DATA_IMAGES ? "image folder"
         : kind == DG_DATA_CSV  ? "CSV"
                                : split;
}

int cli_read_stdin(size_t max, uint8_t **buf, size_t *len) {
  size_t cap = 1 << 16, n = 0;
  uint8_t *b = malloc(cap);
  if (!b) return dg_error(DG_ERR_NOMEM, "standard input: out of memory");
  for (;;) {
    if (n == cap) {
      if (cap > max) break;
      uint8_t *nb = realloc(b, cap * 2);
      if (!nb) {
        free(b);
        return dg_error(DG_ERR_NOMEM, "standard input: out of memory");
      }
      b = nb, cap *= 2;
    }
    size_t got = fread(b + n, 1, cap - n, stdin);
    n += got;
    if (got == 0) break;
  }
  if (ferror(stdin)) {
    free(b);
    return dg_error(DG_ERR_IO, "standard input: read error");
  }
  if (n > max) {
    free(b);
    return dg_error(DG_ERR_FORMAT, "standard input: larger than the %zu-byte "
                    "limit", max);
  }
  *buf = b;
  *len = n;
  return DG_OK;
}

/* ---- output helpers ------------------------------------------------------------- */

void cli_shell_quote(char *buf, size_t cap, const char *s) {
  size_t len = strlen(buf);
  int plain = *s != '\0';
  for (const char *p = s; *p; p++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                "0123456789-_./=:,+@%", *p))
      plain = 0;
#define PUT(c)                       \
  do {                               \
    if (len + 1 < cap) buf[len++] = (c); \
  } while (0)
  if (plain) {
    for (const char *p = s; *p; p++) PUT(*p);
  } else {
    /* single quotes; an embedded ' becomes '\'' */
    PUT('\'');
    for (const char *p = s; *p; p++) {
      if (*p == '\'') {
        PUT('\'');
        PUT('\\');
        PUT('\'');
        PUT('\'');
      } else {
        PUT(*p);
      }
    }
    PUT('\'');
  }
#undef PUT
  buf[len < cap ? len : cap - 1] = '\0';
}

void cli_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
      case '"': fputs("\\\"", f); break;
      case '\\': fputs("\\\\", f); break;
      case '\n': fputs("\\n", f); break;
      case '\r': fputs("\\r", f); break;
      case '\t': fputs("\\t", f); break;
      default:
        if (*p < 0x20)
          fprintf(f, "\\u%04x", *p);
        else
          fputc(*p, f);
    }
  }
  fputc('"', f);
}

const char *cli_thousands(char *buf, size_t cap, unsigned long long v) {
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "%llu", v), o = 0;
  for (int i = 0; i < n && (size_t)o + 2 < cap; i++) {
    if (i > 0 && (n - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = tmp[i];
  }
  buf[o] = '\0';
  return buf;
}

void cli_iso_date(char *buf, size_t cap) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cli_mkdirs(const char *path) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return dg_error(DG_ERR_IO, "%s: path too long", path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return dg_error(DG_ERR_IO, "%s: cannot create folder: %s", buf,
                        strerror(errno));
      *p = c;
      if (c == '\0') break;
    }
  }
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return dg_error(DG_ERR_IO, "%s: not a folder", path);
  return DG_OK;
}
