/* cli.h: what the verbs of the `digits` program share: argument parsing
 * with one-line usage errors, model lookup and ensembles, output helpers.
 * The CLI is the only code that prints or exits; the library never does. */
#ifndef DG_CLI_H
#define DG_CLI_H

#include <stdio.h>

#include "digits.h"

/* Exit statuses: usage errors (bad flags or values) and failures (files,
 * data, training). */
#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

/* The verbs; argv[0] is the verb name. */
int cmd_predict(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_convert(int argc, char **argv);

/* The whole command line as typed, for model metadata. */
extern int cli_argc;
extern char **cli_argv;

/* Print the help of a verb (NULL: the overview) to f. 0 if verb is known. */
int cli_help(FILE *f, const char *verb);

/* "digits: VERB: message" on stderr (verb NULL: none); returns status. */
int cli_msg(int status, const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same, returning CLI_USAGE (a usage error) or CLI_FAIL. */
#define cli_usage(verb, ...) cli_msg(CLI_USAGE, (verb), __VA_ARGS__)
#define cli_fail(verb, ...) cli_msg(CLI_FAIL, (verb), __VA_ARGS__)
/* A library failure: "digits: VERB: <last error>" (with what as context
 * when the message does not already name it); returns CLI_FAIL. */
int cli_fail_lib(const char *verb, const char *what);

/* ---- argument scanning ---------------------------------------------------- */

/* A cursor over argv. Flags may be given as "--flag VALUE" or
 * "--flag=VALUE"; "--" ends the flags. */
typedef struct {
  const char *verb;
  int argc, i;
  char **argv;
  const char *flag;   /* the current flag, without "=value" */
  char flagbuf[64];
  const char *inline_value;
  int no_more_flags;
} cli_args;

void cli_args_init(cli_args *a, int argc, char **argv);
/* Next argument. Returns 1 and sets *flag for a flag ("--x"), 1 with
 * *flag = NULL and *pos for a positional argument, 0 at the end. */
int cli_args_next(cli_args *a, const char **flag, const char **pos);
/* The value of the current flag; prints a usage error and returns NULL if
 * it is missing. */
const char *cli_args_value(cli_args *a);
/* Reject "--flag=value" on a flag that takes no value. 0 ok, else usage. */
int cli_args_no_value(cli_args *a);

/* Parse numbers strictly (the whole string, in range); on failure print
 * `digits: VERB: --flag needs ..., got "abc"` and return CLI_USAGE. */
int cli_parse_int(const char *verb, const char *flag, const char *s, long min,
                  long max, long *out);
int cli_parse_float(const char *verb, const char *flag, const char *s,
                    double min, double max, double *out);

/* ---- models ----------------------------------------------------------------- */

/* Find the default model: $DIGITS_MODEL, ./models/default.safetensors,
 * models/default.safetensors beside the executable's parent folder, then
 * the installed models (DG_MODELS_REL: share/digits/models relative to the
 * installed program's folder, so a moved prefix still works). Writes
 * the path into buf; returns 0, or prints an error and returns CLI_FAIL. */
int cli_default_model(const char *verb, char *buf, size_t cap);
/* The number verifiers' paths: i = 0, models/verifier.safetensors where
 * the default model is looked for (or $DIGITS_VERIFIER); i = 1 and 2,
 * verifier2.safetensors and verifier3.safetensors beside it (none with
 * $DIGITS_VERIFIER). 0, or -1 if there is none. */
#define CLI_VERIFIERS 3
int cli_default_verifier(int i, char *buf, size_t cap);

/* Several models used as one (probabilities averaged). */
typedef struct {
  int n;
  dg_net **nets;
  const char **paths;
} cli_models;
/* Load paths[0..n) (n = 0: the default model); checks they take 784 inputs
 * and give 10 outputs. Prints the error and returns CLI_FAIL on failure. */
int cli_models_load(const char *verb, cli_models *m, const char **paths,
                    int n, int threads);
void cli_models_free(cli_models *m);
/* probs (n, 10) = mean over models of each model's probabilities. */
int cli_models_predict(cli_models *m, const float *x, int n, float *probs);

/* ---- data ------------------------------------------------------------------------ */

/* Load a --data (or --test) PATH of any kind (dg_data_load: an idx folder's
 * split, an image folder, a labelled CSV) and check its images are 28x28.
 * kind may be NULL. Prints the error and returns CLI_FAIL on failure. */
int cli_data_load(const char *verb, const char *path, const char *split,
                  dg_dataset *ds, dg_data_kind *kind);
/* How a kind is named in output: the split for idx ("t10k"), "image
 * folder", "CSV". */
const char *cli_data_label(dg_data_kind kind, const char *split);
/* Read standard input whole (at most max bytes). free() the buffer. 0 ok,
 * else sets the last error ("standard input: ...") and returns a status. */
int cli_read_stdin(size_t max, uint8_t **buf, size_t *len);

/* ---- output helpers ------------------------------------------------------------- */

/* Append s quoted for a POSIX shell (only when needed) to buf. */
void cli_shell_quote(char *buf, size_t cap, const char *s);
/* Write s as a JSON string (with quotes) to f. */
void cli_json_string(FILE *f, const char *s);
/* 1234567 -> "1,234,567" into buf. */
const char *cli_thousands(char *buf, size_t cap, unsigned long long v);
/* Now as ISO 8601 UTC ("2024-05-01T12:00:00Z"). */
void cli_iso_date(char *buf, size_t cap);
/* Seconds from a monotonic clock. */
double cli_now(void);
/* mkdir -p. 0 ok, else sets the last error and returns DG_ERR_IO. */
int cli_mkdirs(const char *path);

/* ---- eval report (report.c) ------------------------------------------------------ */

typedef struct {
  const dg_dataset *ds;
  const float *probs;        /* (n, 10) */
  const dg_metrics *m;
  const cli_models *models;
  const char *data_dir;
} cli_report;
/* Write DIR/index.html and its PNG files (each atomically). */
int cli_report_write(const char *dir, const cli_report *r);

#endif
