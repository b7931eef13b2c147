/* onnx_tool.c: the C side of the interop tests (the .mjs files beside it), on
 * the public API only:
 *   onnx_tool export MODEL OUT.onnx       dg_onnx_export_mem into a file
 *   onnx_tool probs MODEL DATA N OUT.bin  digits' probabilities of the first
 *                                         N MNIST test images (float32, N x K)
 *   onnx_tool images DATA N OUT.bin       those images as float32 0..1
 *   onnx_tool random SPEC SEED OUT [EPS [MEAN STD]]
 *                                         a net of any spec with random
 *                                         weights and batch-norm statistics
 *                                         (and that bn epsilon, that input
 *                                         normalisation)
 *   onnx_tool errors                      null arguments to the exporter: a
 *                                         status and message, outputs kept
 * Exit status 0 on success, 1 with one line on stderr on failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"

/* One line on stderr: what failed (NULL when the message names it). */
static int fail(const char *what) {
  if (what)
    fprintf(stderr, "onnx_tool: %s: %s\n", what, dg_last_error());
  else
    fprintf(stderr, "onnx_tool: %s\n", dg_last_error());
  return 1;
}

static int cmd_export(const char *model, const char *out) {
  dg_net *net;
  uint8_t *buf;
  size_t len;
  if (dg_model_load(&net, model, NULL, NULL)) return fail(NULL);
  int st = dg_onnx_export_mem(net, &buf, &len);
  dg_net_free(net);
  if (st) return fail("export");
  st = dg_file_write_atomic(out, buf, len);
  free(buf);
  return st ? fail(NULL) : 0;
}

static int load_test(dg_dataset *ds, const char *data, int n) {
  if (dg_dataset_load(ds, data, "t10k")) return fail(NULL);
  if (n < 1 || n > ds->n) {
    fprintf(stderr, "onnx_tool: N must be 1..%d\n", ds->n);
    return 1;
  }
  return 0;
}

static int write_floats(const char *path, const float *x, size_t n) {
  return dg_file_write_atomic(path, x, n * sizeof *x) ? fail(NULL) : 0;
}

static int cmd_probs(const char *model, const char *data, int n,
                     const char *out) {
  dg_net *net;
  dg_dataset ds = {0};
  if (dg_model_load(&net, model, NULL, NULL)) return fail(NULL);
  if (load_test(&ds, data, n)) {
    dg_net_free(net);
    return 1;
  }
  int k = dg_net_output_size(net), h = 28, w = 28, c = 1;
  sscanf(dg_net_arch(net), "input %d %d %d", &h, &w, &c);
  float *p = malloc((size_t)n * k * sizeof *p);
  /* a model of c channels (the number verifier of pieces: 2, the digit
   * and the ink around it) gets each image in every channel (NHWC); one
   * of wider inputs (the window reader's 28x36) each image centred */
  const int d = h * w * c, pad = (w - 28) / 2;
  float *x = d != 784 ? calloc((size_t)d * n, sizeof(float)) : ds.images;
  for (int i = 0; d != 784 && x && h == 28 && pad >= 0 && i < n; i++)
    for (int v = 0; v < 28; v++)
      for (int u = 0; u < 28; u++)
        for (int j = 0; j < c; j++)
          x[(size_t)i * d + ((size_t)v * w + u + pad) * c + j] = ds.images[(size_t)i * 784 + v * 28 + u];
  int st = p && x ? dg_net_predict(net, x, n, p) : DG_ERR_NOMEM;
  if (x != ds.images) free(x);
  int rc = st ? fail("predict") : write_floats(out, p, (size_t)n * k);
  free(p);
  dg_dataset_free(&ds);
  dg_net_free(net);
  return rc;
}

static int cmd_images(const char *data, int n, const char *out) {
  dg_dataset ds = {0};
  if (load_test(&ds, data, n)) return 1;
  int rc = write_floats(out, ds.images, (size_t)n * ds.h * ds.w);
  dg_dataset_free(&ds);
  return rc;
}

/* Random batch-norm statistics, so that a fresh net's batch norms do
 * something (they start as the identity). */
static void shake_bn(dg_net *net, dg_rng *r) {
  for (int i = 0; i < dg_net_tensor_count(net); i++) {
    const dg_tensor *t = dg_net_tensor(net, i);
    const char *dot = strrchr(t->name, '.');
    if (!dot || strncmp(t->name, "bn", 2)) continue;
    for (size_t j = 0; j < t->size; j++) {
      float u = dg_rng_uniform(r);
      if (!strcmp(dot, ".running_var") || !strcmp(dot, ".gamma"))
        t->data[j] = 0.5f + u;
      else
        t->data[j] = u - 0.5f;
    }
  }
}

/* argv: SPEC SEED OUT [EPS [MEAN STD]] */
static int cmd_random(int argc, char **argv) {
  dg_net *net;
  dg_rng r;
  const char *spec = argv[0], *out = argv[2];
  uint64_t s = strtoull(argv[1], NULL, 10);
  if (dg_net_new(&net, spec, s)) return fail(spec);
  if ((argc > 3 && dg_net_set_bn_eps(net, strtof(argv[3], NULL))) ||
      (argc > 5 && dg_net_set_input_norm(net, strtof(argv[4], NULL),
                                         strtof(argv[5], NULL)))) {
    dg_net_free(net);
    return fail("random");
  }
  dg_rng_seed(&r, s + 1);
  shake_bn(net, &r);
  dg_net_params(net); /* marks packed weights stale */
  int st = dg_model_save(net, out, NULL, 0);
  dg_net_free(net);
  return st ? fail(NULL) : 0;
}

static int cmd_errors(void) {
  dg_net *net;
  uint8_t *buf = (uint8_t *)&buf;
  size_t len = 12345;
  int bad = 0;
  if (dg_net_new(&net, "logreg", 1)) return fail("logreg");
  const struct {
    const dg_net *net;
    uint8_t **buf;
    size_t *len;
  } c[3] = {{NULL, &buf, &len}, {net, NULL, &len}, {net, &buf, NULL}};
  for (int i = 0; i < 3; i++) {
    int st = dg_onnx_export_mem(c[i].net, c[i].buf, c[i].len);
    if (st != DG_ERR_ARG || !strstr(dg_last_error(), "ONNX export: null") ||
        buf != (uint8_t *)&buf || len != 12345) {
      fprintf(stderr, "case %d: status %d, \"%s\"\n", i, st, dg_last_error());
      bad = 1;
    }
  }
  dg_net_free(net);
  if (!bad) printf("null arguments: DG_ERR_ARG, \"%s\"\n", dg_last_error());
  return bad;
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "";
  if (!strcmp(cmd, "export") && argc == 4) return cmd_export(argv[2], argv[3]);
  if (!strcmp(cmd, "probs") && argc == 6)
    return cmd_probs(argv[2], argv[3], atoi(argv[4]), argv[5]);
  if (!strcmp(cmd, "images") && argc == 5)
    return cmd_images(argv[2], atoi(argv[3]), argv[4]);
  if (!strcmp(cmd, "errors") && argc == 2) return cmd_errors();
  if (!strcmp(cmd, "random") && (argc == 5 || argc == 6 || argc == 8))
    return cmd_random(argc - 2, argv + 2);
  fprintf(stderr,
          "usage: onnx_tool export MODEL OUT.onnx | probs MODEL DATA N OUT |"
          " images DATA N OUT | random SPEC SEED OUT [EPS [MEAN STD]] |"
          " errors\n");
  return 2;
}
