/* cmake/constants.c: prints web/lib/constants.js, the ES module of every C
 * value web/lib/digits.js needs (status codes and names, image caps,
 * optimizer ids, augmentation defaults, layer kinds, the layouts of the
 * structs src/wasm/api.c fills), so none is typed twice. Built with emcc
 * and run under Node by cmake/wasm.cmake at build time: the struct offsets
 * are those of wasm32, the module's own ABI. tests/wasm/constants.mjs runs
 * it again and fails if the file differs from what it prints.
 *
 *   node constants.js > web/lib/constants.js
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "nn/nn.h"
#include "wasm/abi.h"

typedef struct {
  const char *name; /* C name, e.g. DG_ERR_ARG */
  long value;
} named;

/* C name -> JS key: the prefix (else DG_) dropped, then upper or lower
 * case: DG_ERR_ARG -> ARG, DG_OK -> OK, DG_OPT_ADAM -> adam. */
static void key(char *out, const char *c_name, const char *prefix, int upper) {
  size_t n = strlen(prefix);
  if (strncmp(c_name, prefix, n) == 0) c_name += n;
  else if (strncmp(c_name, "DG_", 3) == 0) c_name += 3;
  for (; *c_name; c_name++)
    *out++ = (char)(upper ? toupper((unsigned char)*c_name)
                          : tolower((unsigned char)*c_name));
  *out = 0;
}

static void print_enum(const char *js, const named *v, int n,
                       const char *prefix, int upper) {
  char k[64];
  printf("export const %s = Object.freeze({\n", js);
  for (int i = 0; i < n; i++) {
    key(k, v[i].name, prefix, upper);
    printf("  %s: %ld,\n", k, v[i].value);
  }
  printf("});\n\n");
}

/* The shortest decimal that reads back as the same float. */
static void print_float(const char *name, float f) {
  char s[32];
  for (int digits = 6; digits <= 9; digits++) {
    snprintf(s, sizeof s, "%.*g", digits, (double)f);
    if ((float)strtod(s, NULL) == f) break;
  }
  printf("  %s: %s,\n", name, s);
}

/* ---- struct layouts ------------------------------------------------------ */

/* One int32 field (or array of int32) of a struct JS reads. */
typedef struct {
  const char *name; /* C field name, snake_case */
  size_t offset, bytes;
} field;

/* A field JS reads as int32: I32 of an int32_t field, I32A of an int32_t
 * array (checked through its first element), RAW of anything else (an
 * array of int32-only structs JS reads by their own layout). A field of
 * another type is a compile error (a negative array size). */
#define INT32_ONLY(e) \
  (0 * sizeof(char[_Generic((e), int32_t: 1, default: -1)]))
#define RAW(T, f) {#f, offsetof(T, f), sizeof(((T *)0)->f)}
#define I32(T, f) {#f, offsetof(T, f) + INT32_ONLY(((T *)0)->f), sizeof(((T *)0)->f)}
#define I32A(T, f) {#f, offsetof(T, f) + INT32_ONLY(((T *)0)->f[0]), sizeof(((T *)0)->f)}

/* snake_case -> camelCase (input_size -> inputSize). */
static void camel(char *out, const char *s) {
  for (int up = 0; *s; s++) {
    if (*s == '_') {
      up = 1;
      continue;
    }
    *out++ = up ? (char)toupper((unsigned char)*s) : *s;
    up = 0;
  }
  *out = 0;
}

/* {bytes, fields: {name: [byte offset, int32 count]}} */
static void print_layout(const char *js, const char *c_type, size_t bytes,
                         const field *f, int n) {
  char k[64];
  printf("/* %s, %zu bytes: each field's [byte offset, int32 count]. */\n",
         c_type, bytes);
  printf("export const %s = Object.freeze({\n  bytes: %zu,\n"
         "  fields: Object.freeze({\n", js, bytes);
  for (int i = 0; i < n; i++) {
    camel(k, f[i].name);
    printf("    %s: [%zu, %zu],\n", k, f[i].offset, f[i].bytes / 4);
  }
  printf("  }),\n});\n\n");
}

#define LAYOUT(js, what, T, fields) \
  print_layout(js, what, sizeof(T), fields, (int)(sizeof fields / sizeof *fields))

static void layouts(void) {
  typedef dg_wasm_net_info N;
  const field net[] = {I32(N, params), I32(N, state), I32(N, layers), I32(N, input_size),
                       I32(N, output_size), I32(N, takes_image)};
  LAYOUT("NetInfo", "net_info's dg_wasm_net_info", N, net);

  typedef dg_preprocess_info P;
  const field pre[] = {I32A(P, box), I32(P, scale), I32(P, photo), I32(P, dark_ink),
                       I32(P, kept), I32(P, dropped), I32(P, lines), I32(P, candidates)};
  LAYOUT("PreprocessInfo", "predict's info, dg_preprocess_info", P, pre);

  typedef dg_wasm_number R;
  const field num[] = {I32(R, n), I32(R, photo), I32(R, split), I32(R, truncated),
                       RAW(R, digits)};
  LAYOUT("NumberResult", "read_number's dg_wasm_number", R, num);

  typedef dg_wasm_number_digit D;
  const field dig[] = {I32(D, digit), I32A(D, box), I32(D, unsure)};
  LAYOUT("NumberDigit", "one of its digits, dg_wasm_number_digit", D, dig);
}

/* ---- the module ------------------------------------------------------------ */

#define NAMED(c) {#c, (long)(c)}

int main(void) {
  printf("/* constants.js: GENERATED at build time by cmake/constants.c from "
         "src/digits.h,\n * src/nn/nn.h and src/wasm/abi.h (./build.sh build). "
         "Not committed; do not edit. */\n\n");

  const named status[] = {
      NAMED(DG_OK),         NAMED(DG_ERR_ARG),     NAMED(DG_ERR_NOMEM),
      NAMED(DG_ERR_IO),     NAMED(DG_ERR_FORMAT),  NAMED(DG_ERR_EMPTY),
      NAMED(DG_ERR_NUMERIC), NAMED(DG_ERR_STOPPED), NAMED(DG_ERR_UNCERTAIN),
  };
  int ns = (int)(sizeof status / sizeof *status);
  printf("/* Status codes: 0 ok, negative a failure (DG_OK, DG_ERR_*). */\n");
  print_enum("Status", status, ns, "DG_ERR_", 1);
  printf("/* Each status code's name (dg_status_name). */\n"
         "export const StatusName = Object.freeze({\n");
  for (int i = 0; i < ns; i++)
    printf("  '%ld': '%s',\n", status[i].value, dg_status_name((int)status[i].value));
  printf("});\n\n");

  printf("/* Hard caps on images from outside (DG_IMAGE_MAX_*). */\n"
         "export const ImageLimits = Object.freeze({\n"
         "  maxDim: %ld,\n  maxPixels: %ld,\n});\n\n",
         (long)DG_IMAGE_MAX_DIM, (long)DG_IMAGE_MAX_PIXELS);

  printf("/* Numbers (dg_read_number): the most digits one holds, the "
         "confidence\n * below which a digit is marked unsure, and the most "
         "verifiers averaged. */\n"
         "export const NumberLimits = Object.freeze({\n  maxDigits: %d,\n",
         DG_NUMBER_MAX);
  print_float("unsure", DG_NUMBER_UNSURE);
  printf("  maxVerifiers: %d,\n", DG_NUMBER_MAX_VERIFIERS);
  printf("});\n\n");

  const named optim[] = {NAMED(DG_OPT_SGD), NAMED(DG_OPT_ADAM)};
  printf("/* Optimizer ids of trainer_new (dg_opt_kind). */\n");
  print_enum("Optimizer", optim, (int)(sizeof optim / sizeof *optim), "DG_OPT_", 0);

  dg_augment_opts a = dg_augment_default();
  printf("/* Augmentation limits of dg_augment_default (degrees, fractions, "
         "px). */\nexport const AugmentDefaults = Object.freeze({\n");
  print_float("rotate", a.rotate_deg);
  print_float("zoom", a.zoom);
  print_float("shift", a.shift);
  print_float("shear", a.shear);
  print_float("thickness", a.thickness);
  printf("});\n\n");

  /* nn.h's one table of kinds, in dg_layer_kind's order */
  static const dg_layer_type *const kinds[] = {
#define KIND(kind, type) &type,
      DG_LAYER_KINDS(KIND)
#undef KIND
  };
  printf("/* Layer kinds by id (dg_layer_kind): the spec keyword and the name "
         "net_layer reports. */\nexport const LayerKinds = Object.freeze([\n");
  for (int i = 0; i < DG_L_KINDS; i++)
    printf("  Object.freeze({ keyword: '%s', name: '%s' }),\n",
           kinds[i]->keyword, kinds[i]->name);
  printf("]);\n\n");

  layouts();
  return ferror(stdout) ? 1 : 0;
}
