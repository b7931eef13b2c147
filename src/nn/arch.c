/* arch.c: the architecture language and the named architectures.
 *
 * A spec is a list of layers separated by ';' (or newlines):
 *   input H W C | dense U | conv F K [same|valid|pad P] | maxpool P |
 *   avgpool P | gap | relu | leakyrelu ALPHA | sigmoid | tanh | softmax |
 *   bn | dropout RATE | flatten
 * e.g. "input 28 28 1; flatten; dense 128; relu; dense 10; softmax".
 * The spec is stored in model files, so a file describes its own network.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

/* The seed projects' networks, by name (see README, "Architectures"). */
static const struct {
  const char *name, *spec;
} named[] = {
    /* Keras dense 784 -> 10 (the seed used sigmoid; softmax is the right
     * output for one-of-ten and trains the same weights) */
    {"logreg", "input 28 28 1; flatten; dense 10; softmax"},
    /* 784-50-50-10 */
    {"mlp50",
     "input 28 28 1; flatten; dense 50; relu; dense 50; relu; dense 10; "
     "softmax"},
    /* 784-128-64-10, the "Simple MLP" */
    {"mlp",
     "input 28 28 1; flatten; dense 128; relu; dense 64; relu; dense 10; "
     "softmax"},
    /* Keras' classic mnist_mlp: 512-512 with dropout 0.2 */
    {"mlp-dropout",
     "input 28 28 1; flatten; dense 512; relu; dropout 0.2; dense 512; relu; "
     "dropout 0.2; dense 10; softmax"},
    /* LeNet-5 layer sizes (6@5x5 same, 16@5x5, 120, 84) with ReLU and max
     * pooling, as the Keras reproductions train it: 61,706 parameters */
    {"lenet5",
     "input 28 28 1; conv 6 5 same; relu; maxpool 2; conv 16 5 valid; relu; "
     "maxpool 2; flatten; dense 120; relu; dense 84; relu; dense 10; softmax"},
    /* the 330,346-parameter Keras CNN of the seed, layer for layer */
    {"cnn",
     "input 28 28 1; conv 32 3 valid; bn; relu; conv 32 3 valid; relu; "
     "maxpool 2; dropout 0.25; conv 64 3 valid; bn; relu; conv 64 3 valid; "
     "relu; maxpool 2; dropout 0.25; flatten; dense 256; relu; dropout 0.5; "
     "dense 10; softmax"},
    /* the web page's default: a compact all-convolutional design (about
     * 11 MFLOP, 89k parameters) that keeps the cnn's accuracy at a third
     * of its work, so that a phone predicts as the user draws (timings:
     * docs/performance.md) */
    {"digitnet",
     "input 28 28 1; conv 24 5 valid; bn; relu; maxpool 2; conv 48 3 same; "
     "bn; relu; conv 48 3 same; bn; relu; maxpool 2; conv 96 3 valid; bn; "
     "relu; flatten; dropout 0.4; dense 10; softmax"},
    {NULL, NULL}};

static const char *const *names_list(void) {
  static const char *list[sizeof named / sizeof named[0]];
  if (!list[0])
    for (int i = 0; named[i].name; i++) list[i] = named[i].name;
  return list;
}

const char *const *dg_arch_names(void) { return names_list(); }

const char *dg_arch_spec(const char *name) {
  if (!name) return NULL;
  for (int i = 0; named[i].name; i++)
    if (!strcmp(named[i].name, name)) return named[i].spec;
  /* "cnn-aug" is the cnn trained with augmentation: same network */
  if (!strcmp(name, "cnn-aug")) return dg_arch_spec("cnn");
  return NULL;
}

int dg_arch_int(const char *tok, int lo, int hi, int *out) {
  char *end;
  long v = strtol(tok, &end, 10);
  if (end == tok || *end || v < lo || v > hi) return 0;
  *out = (int)v;
  return 1;
}

static int shape_error(const dg_layer *l, int idx, const char *what) {
  return dg_error(DG_ERR_FORMAT, "architecture: layer %d (%s): %s", idx + 1,
                  dg_layer_types[l->kind]->keyword, what);
}

/* A layer's arguments (tok[1..nt-1]) into l, and the shape it outputs
 * into (*h, *w, *c) (its input shape on entry), by its type; layer n of
 * the spec. */
static int layer_args(dg_layer *l, int n, char **tok, int nt, int *h, int *w,
                      int *c) {
  const dg_layer_type *type = dg_layer_types[l->kind];
  const char *bad = type->args ? type->args(l, tok, nt, h, w, c)
                    : nt != 1 ? "takes no arguments" : NULL;
  return bad ? shape_error(l, n, bad) : DG_OK;
}

int dg_arch_parse(dg_net *net, const char *spec) {
  char buf[4096];
  if (!spec || !*spec) return dg_error(DG_ERR_ARG, "architecture: empty spec");
  if (strlen(spec) >= sizeof buf)
    return dg_error(DG_ERR_FORMAT, "architecture: spec longer than %zu bytes",
                    sizeof buf - 1);
  strcpy(buf, spec);
  int h = 28, w = 28, c = 1, n = 0, counts[DG_L_KINDS] = {0};
  size_t total = 0;  /* output values of all layers, per sample */
  int first = 1;
  char *save_layer = NULL;
  for (char *item = strtok_r(buf, ";\n", &save_layer); item;
       item = strtok_r(NULL, ";\n", &save_layer)) {
    char *tok[8];
    int nt = 0;
    char *save_tok = NULL;
    for (char *t = strtok_r(item, " \t\r", &save_tok); t && nt < 8;
         t = strtok_r(NULL, " \t\r", &save_tok))
      tok[nt++] = t;
    if (nt == 0) continue;
    for (char *p = tok[0]; *p; p++) *p = (char)tolower((unsigned char)*p);
    if (!strcmp(tok[0], "input")) {
      if (!first)
        return dg_error(DG_ERR_FORMAT, "architecture: 'input' must come first");
      if (nt != 4 || !dg_arch_int(tok[1], 1, 4096, &h) ||
          !dg_arch_int(tok[2], 1, 4096, &w) || !dg_arch_int(tok[3], 1, 4096, &c))
        return dg_error(DG_ERR_FORMAT,
                        "architecture: 'input' needs H W C (1..4096)");
      first = 0;
      continue;
    }
    first = 0;
    int kind = -1;
    for (int k = 0; k < DG_L_KINDS; k++) {
      const dg_layer_type *type = dg_layer_types[k];
      if (!strcmp(tok[0], type->keyword) ||
          (type->alias && !strcmp(tok[0], type->alias)))
        kind = k;
    }
    if (kind < 0)
      return dg_error(DG_ERR_FORMAT, "architecture: unknown layer '%s'",
                      tok[0]);
    if (n == DG_MAX_LAYERS)
      return dg_error(DG_ERR_FORMAT, "architecture: more than %d layers",
                      DG_MAX_LAYERS);
    dg_layer *l = &net->layers[n];
    memset(l, 0, sizeof *l);
    l->kind = (dg_layer_kind)kind;
    l->t0 = -1;
    l->ih = h, l->iw = w, l->ic = c;
    l->in_size = (size_t)h * w * c;
    snprintf(l->name, sizeof l->name, "%s%d", dg_layer_types[kind]->keyword,
             ++counts[kind]);
    int st = layer_args(l, n, tok, nt, &h, &w, &c);
    if (st != DG_OK) return st;
    l->oh = h, l->ow = w, l->oc = c;
    l->out_size = (size_t)h * w * c;
    if (l->out_size > (1u << 24))
      return shape_error(l, n, "output larger than 16M values per sample");
    /* and all outputs together: a net's buffers are a few times this per
     * sample, so a small model file of many wide layers could otherwise
     * ask for gigabytes to predict one image; the largest named net needs
     * about 0.1M */
    total += l->out_size;
    if (total > (1u << 25))
      return shape_error(l, n, "the layers' outputs add up to more than 32M "
                               "values per sample");
    n++;
  }
  if (n == 0) return dg_error(DG_ERR_FORMAT, "architecture: no layers");
  net->nlayers = n;
  /* the input shape is the first layer's */
  net->in_h = net->layers[0].ih, net->in_w = net->layers[0].iw;
  net->in_c = net->layers[0].ic;
  if (net->layers[n - 1].out_size > 4096)
    return dg_error(DG_ERR_FORMAT,
                    "architecture: output of %zu values; expected class scores",
                    net->layers[n - 1].out_size);
  return DG_OK;
}
