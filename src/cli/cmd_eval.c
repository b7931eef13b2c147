/* cmd_eval.c: `digits eval`: a model (or an averaging ensemble) on the t10k
 * test split: accuracy, loss, per-class P/R/F1, the confusion matrix, and
 * optionally an HTML report (report.c). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_MODELS 64

static void print_results(const dg_metrics *m) {
  printf("accuracy  %.2f%%  (%d/%d)\n", 100.0 * dg_metrics_accuracy(m),
         m->correct, m->n);
  printf("loss      %.4f\n\n", dg_metrics_loss(m));

  printf("class  precision  recall      f1  support\n");
  double sp = 0, sr = 0, sf = 0;
  for (int c = 0; c < m->k; c++) {
    double p, r, f;
    int64_t support = 0;
    for (int j = 0; j < m->k; j++) support += m->confusion[c][j];
    dg_metrics_class(m, c, &p, &r, &f);
    sp += p, sr += r, sf += f;
    printf("%5d  %9.4f  %6.4f  %6.4f  %7lld\n", c, p, r, f, (long long)support);
  }
  printf("%5s  %9.4f  %6.4f  %6.4f  %7d\n\n", "macro", sp / m->k, sr / m->k,
         sf / m->k, m->n);

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

int cmd_eval(int argc, char **argv) {
  const char *verb = "eval";
  cli_args a;
  const char *flag, *pos, *v;
  const char *model_paths[MAX_MODELS];
  const char *data = NULL, *report = NULL;
  int nmodels = 0, rc = 0;
  long limit = 0, threads = 0;
  cli_args_init(&a, argc, argv);
  while (!rc && cli_args_next(&a, &flag, &pos)) {
    if (pos) {
      rc = cli_usage(verb, "unexpected argument \"%s\"", pos);
    } else if (strcmp(flag, "--model") == 0 || strcmp(flag, "-m") == 0) {
      if (!(v = cli_args_value(&a))) rc = CLI_USAGE;
      else if (nmodels == MAX_MODELS)
        rc = cli_usage(verb, "at most %d --model flags", MAX_MODELS);
      else model_paths[nmodels++] = v;
    } else if (strcmp(flag, "--data") == 0) {
      if (!(data = cli_args_value(&a))) rc = CLI_USAGE;
    } else if (strcmp(flag, "--report") == 0) {
      if (!(report = cli_args_value(&a))) rc = CLI_USAGE;
    } else if (strcmp(flag, "--limit") == 0) {
      if (!(v = cli_args_value(&a))) rc = CLI_USAGE;
      else rc = cli_parse_int(verb, flag, v, 1, DG_IDX_MAX_ITEMS, &limit);
    } else if (strcmp(flag, "--threads") == 0) {
      if (!(v = cli_args_value(&a))) rc = CLI_USAGE;
      else rc = cli_parse_int(verb, flag, v, 1, 1024, &threads);
    } else {
      rc = cli_usage(verb, "unknown option \"%s\" (see 'digits help eval')", flag);
    }
  }
  if (rc) return rc;
  if (!data) return cli_usage(verb, "--data DIR is required");

  cli_models models;
  if (cli_models_load(verb, &models, model_paths, nmodels, (int)threads))
    return CLI_FAIL;
  dg_dataset ds = {0};
  float *probs = NULL, *tmp = NULL;
  if (dg_dataset_load(&ds, data, "t10k") != DG_OK) {
    rc = cli_fail_lib(verb, data);
    goto done;
  }
  if (ds.h != 28 || ds.w != 28) {
    rc = cli_fail(verb, "%s: images are %dx%d, the networks need 28x28", data,
                  ds.h, ds.w);
    goto done;
  }
  if (limit > 0 && limit < ds.n) {
    dg_dataset cut = {0};
    if (dg_dataset_slice(&cut, &ds, 0, (int)limit) != DG_OK) {
      rc = cli_fail_lib(verb, data);
      goto done;
    }
    dg_dataset_free(&ds);
    ds = cut;
  }
  probs = calloc((size_t)ds.n * 10, sizeof *probs); /* (n, 10) mean */
  tmp = malloc((size_t)ds.n * 10 * sizeof *tmp);    /* (n, 10) one model */
  if (!probs || !tmp) {
    rc = cli_fail(verb, "out of memory");
    goto done;
  }
  dg_metrics m;
  for (int i = 0; i < models.n; i++) {
    dg_metrics mi;
    if (dg_evaluate(models.nets[i], &ds, &mi, tmp) != DG_OK) {
      rc = cli_fail_lib(verb, models.paths[i]);
      goto done;
    }
    if (models.n > 1)
      printf("model %-40s accuracy %.2f%%  loss %.4f\n", models.paths[i],
             100.0 * dg_metrics_accuracy(&mi), dg_metrics_loss(&mi));
    for (size_t j = 0; j < (size_t)ds.n * 10; j++) probs[j] += tmp[j];
  }
  for (size_t j = 0; j < (size_t)ds.n * 10; j++) probs[j] /= (float)models.n;
  dg_metrics_reset(&m, 10);
  dg_metrics_add(&m, probs, ds.labels, ds.n);

  if (models.n == 1)
    printf("model     %s\n", models.paths[0]);
  else
    printf("ensemble  %d models, probabilities averaged\n", models.n);
  printf("data      %s (t10k, %d images)\n", data, ds.n);
  print_results(&m);

  if (report) {
    cli_report r = {&ds, probs, &m, &models, data};
    if (cli_report_write(report, &r) != DG_OK) {
      rc = cli_fail_lib(verb, report);
      goto done;
    }
    printf("\nreport    %s/index.html\n", report);
  }
  rc = CLI_OK;
done:
  free(probs);
  free(tmp);
  dg_dataset_free(&ds);
  cli_models_free(&models);
  return rc;
}
