/* cmd_predict.c: `digits predict`: image files -> preprocess -> network(s)
 * -> one line per image (TSV or JSON). A bad file is reported and skipped. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_MODELS 64

/* Read, preprocess and classify one image; probs (10). Prints the error and
 * returns non-zero on failure. */
static int predict_one(cli_models *models, const char *path, float *probs) {
  uint8_t *pixels = NULL;
  int w = 0, h = 0, c = 0;
  float x[28 * 28]; /* (28, 28) */
  if (dg_image_load(path, &pixels, &w, &h, &c) != DG_OK)
    return cli_fail_lib("predict", path);
  int st = dg_preprocess(pixels, w, h, c, x);
  free(pixels);
  if (st == DG_ERR_EMPTY)
    return cli_fail("predict", "%s: empty image: no ink found (%dx%d)", path, w,
                    h);
  if (st != DG_OK) return cli_fail_lib("predict", path);
  if (cli_models_predict(models, x, 1, probs) != DG_OK)
    return cli_fail_lib("predict", path);
  for (int k = 0; k < 10; k++)
    if (!isfinite(probs[k]))
      return cli_fail("predict", "%s: the model gave a non-finite probability",
                      path);
  return 0;
}

int cmd_predict(int argc, char **argv) {
  cli_args a;
  const char *flag, *pos;
  const char *model_paths[MAX_MODELS];
  int nmodels = 0, json = 0;
  long threads = 1;
  const char **files = calloc((size_t)argc, sizeof *files);
  int nfiles = 0;
  if (!files) return cli_fail("predict", "out of memory");
  cli_args_init(&a, argc, argv);
  int rc = 0;
  while (!rc && cli_args_next(&a, &flag, &pos)) {
    const char *v;
    if (pos) {
      files[nfiles++] = pos;
    } else if (strcmp(flag, "--model") == 0 || strcmp(flag, "-m") == 0) {
      if (!(v = cli_args_value(&a))) rc = CLI_USAGE;
      else if (nmodels == MAX_MODELS)
        rc = cli_usage("predict", "at most %d --model flags", MAX_MODELS);
      else model_paths[nmodels++] = v;
    } else if (strcmp(flag, "--json") == 0) {
      rc = cli_args_no_value(&a);
      json = 1;
    } else if (strcmp(flag, "--threads") == 0) {
      if (!(v = cli_args_value(&a))) rc = CLI_USAGE;
      else rc = cli_parse_int("predict", flag, v, 1, 1024, &threads);
    } else {
      rc = cli_usage("predict", "unknown option \"%s\" (see 'digits help predict')",
                     flag);
    }
  }
  if (!rc && nfiles == 0)
    rc = cli_usage("predict", "no image files given");
  cli_models models;
  if (!rc) rc = cli_models_load("predict", &models, model_paths, nmodels,
                                (int)threads);
  if (rc) {
    free(files);
    return rc;
  }
  int failed = 0;
  for (int i = 0; i < nfiles; i++) {
    float probs[10];
    if (predict_one(&models, files[i], probs) != 0) {
      failed = 1;
      continue;
    }
    int best = 0;
    for (int k = 1; k < 10; k++)
      if (probs[k] > probs[best]) best = k;
    if (json) {
      fputs("{\"file\":", stdout);
      cli_json_string(stdout, files[i]);
      printf(",\"digit\":%d,\"confidence\":%.6f,\"probs\":[", best,
             (double)probs[best]);
      for (int k = 0; k < 10; k++)
        printf("%s%.6f", k ? "," : "", (double)probs[k]);
      fputs("]}\n", stdout);
    } else {
      printf("%s\t%d\t%.4f\n", files[i], best, (double)probs[best]);
    }
    fflush(stdout); /* keep stdout and stderr lines in order */
  }
  cli_models_free(&models);
  free(files);
  return failed ? CLI_FAIL : CLI_OK;
}
