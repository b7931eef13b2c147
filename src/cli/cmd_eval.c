/* cmd_eval.c: `digits eval`: a model (or an averaging ensemble) on a
 * dataset (the t10k split of an idx folder, an image folder or a labelled
 * CSV): accuracy, loss, per-class P/R/F1, the confusion matrix, as text or
 * one JSON object, and optionally an HTML report (report.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_MODELS 64

/* One class's precision, recall, F1 and support; or their macro means. */
typedef struct {
  double p, r, f;
  int64_t support;
} class_row;

static void class_rows(const dg_metrics *m, class_row *rows, class_row *macro) {
  *macro = (class_row){0, 0, 0, m->n};
  for (int c = 0; c < m->k; c++) {
    class_row *row = &rows[c];
    row->support = 0;
    for (int j = 0; j < m->k; j++) row->support += m->confusion[c][j];
    dg_metrics_class(m, c, &row->p, &row->r, &row->f);
    macro->p += row->p, macro->r += row->r, macro->f += row->f;
  }
  macro->p /= m->k, macro->r /= m->k, macro->f /= m->k;
}

static void print_results(const dg_metrics *m) {
  printf("accuracy  %.2f%%  (%d/%d)\n", 100.0 * dg_metrics_accuracy(m),
         m->correct, m->n);
  printf("loss      %.4f\n\n", dg_metrics_loss(m));

  printf("class  precision  recall      f1  support\n");
  class_row rows[10], macro;
  class_rows(m, rows, &macro);
  for (int c = 0; c < m->k; c++)
    printf("%5d  %9.4f  %6.4f  %6.4f  %7lld\n", c, rows[c].p, rows[c].r,
           rows[c].f, (long long)rows[c].support);
  printf("%5s  %9.4f  %6.4f  %6.4f  %7d\n\n", "macro", macro.p, macro.r,
         macro.f, m->n);

  printf("confusion matrix (rows: true digit, columns: predicted)\n");
  printf("true\\pred");
  for (int j = 0; j < m->k; j++) printf(" %5d", j);
  putchar('\n');
  for (int i = 0; i < m->k; i++) {
    printf("%9d", i);
    for (int j = 0; j < m->k; j++) printf(" %5lld", (long long)m->confusion[i][j]);
    putchar('\n');
  }
}

/* A number for JSON: null when not finite (a model giving NaN). */
static const char *jnum(char *buf, size_t cap, double v) {
  if (!isfinite(v)) return "null";
  snprintf(buf, cap, "%.6f", v);
  return buf;
}

/* eval --json: one object with everything the text shows. */
static void print_json(const dg_metrics *m, const cli_models *models,
                       const dg_metrics *each, const char *data,
                       dg_data_kind kind, const char *report) {
  printf("{\"data\":");
  cli_json_string(stdout, data);
  printf(",\"data_kind\":\"%s\",\"split\":", dg_data_kind_name(kind));
  if (kind == DG_DATA_IDX) printf("\"t10k\"");
  else printf("null");
  printf(",\"models\":[");
  for (int i = 0; i < models->n; i++) {
    printf("%s{\"file\":", i ? "," : "");
    cli_json_string(stdout, models->paths[i]);
    char b1[32], b2[32];
    printf(",\"accuracy\":%s,\"loss\":%s}",
           jnum(b1, sizeof b1, dg_metrics_accuracy(&each[i])),
           jnum(b2, sizeof b2, dg_metrics_loss(&each[i])));
  }
  char b1[32], b2[32], b3[32];
  printf("],\"count\":%d,\"correct\":%d,\"accuracy\":%s,\"loss\":%s", m->n,
         m->correct, jnum(b1, sizeof b1, dg_metrics_accuracy(m)),
         jnum(b2, sizeof b2, dg_metrics_loss(m)));
  printf(",\"classes\":[");
  class_row rows[10], macro;
  class_rows(m, rows, &macro);
  for (int c = 0; c < m->k; c++) {
    printf("%s{\"class\":%d,\"precision\":%s,", c ? "," : "", c,
           jnum(b1, sizeof b1, rows[c].p));
    printf("\"recall\":%s,\"f1\":%s,\"support\":%lld}",
           jnum(b2, sizeof b2, rows[c].r), jnum(b3, sizeof b3, rows[c].f),
           (long long)rows[c].support);
  }
  printf("],\"macro\":{\"precision\":%s,", jnum(b1, sizeof b1, macro.p));
  printf("\"recall\":%s,\"f1\":%s}", jnum(b2, sizeof b2, macro.r),
         jnum(b3, sizeof b3, macro.f));
  printf(",\"confusion\":[");
  for (int i = 0; i < m->k; i++) {
    printf("%s[", i ? "," : "");
    for (int j = 0; j < m->k; j++)
      printf("%s%lld", j ? "," : "", (long long)m->confusion[i][j]);
    putchar(']');
  }
  printf("],\"report\":");
  if (report) {
    char idx[4200];
    snprintf(idx, sizeof idx, "%s/index.html", report);
    cli_json_string(stdout, idx);
  } else {
    printf("null");
  }
  printf("}\n");
}

typedef struct {
  const char *model_paths[MAX_MODELS];
  const char *data, *report;
  int nmodels, json;
  long limit, threads;
} eval_args;

static int parse(int argc, char **argv, eval_args *e) {
  const char *verb = "eval";
  cli_args a;
  const char *flag, *pos, *v;
  int rc = 0;
  memset(e, 0, sizeof *e);
  cli_args_init(&a, argc, argv);
  while (!rc && cli_args_next(&a, &flag, &pos)) {
    if (pos) {
      rc = cli_usage(verb, "unexpected argument \"%s\"", pos);
    } else if (strcmp(flag, "--model") == 0 || strcmp(flag, "-m") == 0) {
      if (!(v = cli_args_value(&a))) rc = CLI_USAGE;
      else if (e->nmodels == MAX_MODELS)
        rc = cli_usage(verb, "at most %d --model flags", MAX_MODELS);
      else e->model_paths[e->nmodels++] = v;
    } else if (strcmp(flag, "--data") == 0) {
      if (!(e->data = cli_args_value(&a))) rc = CLI_USAGE;
    } else if (strcmp(flag, "--report") == 0) {
      if (!(e->report = cli_args_value(&a))) rc = CLI_USAGE;
    } else if (strcmp(flag, "--json") == 0) {
      rc = cli_args_no_value(&a);
      e->json = 1;
    } else if (strcmp(flag, "--limit") == 0) {
      if (!(v = cli_args_value(&a))) rc = CLI_USAGE;
      else rc = cli_parse_int(verb, flag, v, 1, DG_IDX_MAX_ITEMS, &e->limit);
    } else if (strcmp(flag, "--threads") == 0) {
      if (!(v = cli_args_value(&a))) rc = CLI_USAGE;
      else rc = cli_parse_int(verb, flag, v, 1, 1024, &e->threads);
    } else {
      rc = cli_usage(verb, "unknown option \"%s\" (see 'digits help eval')", flag);
    }
  }
  if (!rc && !e->data)
    rc = cli_usage(verb, "--data DIR is required (an MNIST folder, a folder of "
                   "class folders 0..9 or a CSV file)");
  return rc;
}

/* The data (cut to --limit). */
static int load(const eval_args *e, dg_dataset *ds, dg_data_kind *kind) {
  if (cli_data_load("eval", e->data, "t10k", ds, kind)) return CLI_FAIL;
  if (e->limit > 0 && e->limit < ds->n) {
    dg_dataset cut = {0};
    if (dg_dataset_slice(&cut, ds, 0, (int)e->limit) != DG_OK)
      return cli_fail_lib("eval", e->data);
    dg_dataset_free(ds);
    *ds = cut;
  }
  return 0;
}

int cmd_eval(int argc, char **argv) {
  const char *verb = "eval";
  eval_args e;
  int rc = parse(argc, argv, &e);
  if (rc) return rc;
  cli_models models;
  if (cli_models_load(verb, &models, e.model_paths, e.nmodels, (int)e.threads))
    return CLI_FAIL;
  dg_dataset ds = {0};
  dg_data_kind kind = DG_DATA_IDX;
  float *probs = NULL, *tmp = NULL;
  dg_metrics m, each[MAX_MODELS];
  if ((rc = load(&e, &ds, &kind))) goto done;
  probs = calloc((size_t)ds.n * 10, sizeof *probs); /* (n, 10) mean */
  tmp = malloc((size_t)ds.n * 10 * sizeof *tmp);    /* (n, 10) one model */
  if (!probs || !tmp) {
    rc = cli_fail(verb, "out of memory");
    goto done;
  }
  for (int i = 0; i < models.n; i++) {
    if (dg_evaluate(models.nets[i], &ds, &each[i], tmp) != DG_OK) {
      rc = cli_fail_lib(verb, models.paths[i]);
      goto done;
    }
    if (models.n > 1 && !e.json)
      printf("model %-40s accuracy %.2f%%  loss %.4f\n", models.paths[i],
             100.0 * dg_metrics_accuracy(&each[i]), dg_metrics_loss(&each[i]));
    for (size_t j = 0; j < (size_t)ds.n * 10; j++) probs[j] += tmp[j];
  }
  for (size_t j = 0; j < (size_t)ds.n * 10; j++) probs[j] /= (float)models.n;
  dg_metrics_reset(&m, 10);
  dg_metrics_add(&m, probs, ds.labels, ds.n);

  if (!e.json) {
    if (models.n == 1)
      printf("model     %s\n", models.paths[0]);
    else
      printf("ensemble  %d models, probabilities averaged\n", models.n);
    printf("data      %s (%s, %d images)\n", e.data, cli_data_label(kind, "t10k"),
           ds.n);
    print_results(&m);
  }
  if (e.report) {
    cli_report r = {&ds, probs, &m, &models, e.data};
    if (cli_report_write(e.report, &r) != DG_OK) {
      rc = cli_fail_lib(verb, e.report);
      goto done;
    }
    if (!e.json) printf("\nreport    %s/index.html\n", e.report);
  }
  if (e.json) print_json(&m, &models, each, e.data, kind, e.report);
  rc = CLI_OK;
done:
  free(probs);
  free(tmp);
  dg_dataset_free(&ds);
  cli_models_free(&models);
  return rc;
}
