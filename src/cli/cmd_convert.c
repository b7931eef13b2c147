/* cmd_convert.c: `digits convert IN OUT [--normalize MEAN STD]`: between
 * model formats by extension (.onnx -> .safetensors through the importer,
 * .safetensors -> .onnx through the exporter), and .safetensors ->
 * .safetensors to set the input normalisation. Writes are atomic. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CONVERT_MAX_FILE ((size_t)1 << 30)

static int has_ext(const char *path, const char *ext) {
  size_t n = strlen(path), e = strlen(ext);
  return n > e && !strcmp(path + n - e, ext);
}

/* A float argument: 1, or 0 if it is not a whole finite number. */
static int parse_float(const char *s, float *out) {
  char *end;
  float v = strtof(s, &end);
  if (!*s || *end || v != v || v - v != 0) return 0;
  *out = v;
  return 1;
}

static int load_any(const char *in, dg_net **net) {
  if (!has_ext(in, ".onnx")) return dg_model_load(net, in, NULL, NULL);
  uint8_t *buf;
  size_t len;
  int st = dg_file_read(in, CONVERT_MAX_FILE, &buf, &len);
  if (st) return st;
  st = dg_onnx_import_mem(net, buf, len);
  free(buf);
  return st;
}

static int save_any(const char *out, const dg_net *net) {
  if (!has_ext(out, ".onnx")) return dg_model_save(net, out, NULL, 0);
  uint8_t *buf;
  size_t len;
  int st = dg_onnx_export_mem(net, &buf, &len);
  if (st) return st;
  st = dg_file_write_atomic(out, buf, len);
  free(buf);
  return st;
}

int cmd_convert(int argc, char **argv) {
  cli_args a;
  cli_args_init(&a, argc, argv);
  const char *flag, *pos, *in = NULL, *out = NULL;
  float mean = 0, std = 1;
  int norm = 0;
  while (cli_args_next(&a, &flag, &pos)) {
    if (flag && !strcmp(flag, "--normalize")) {
      const char *m = cli_args_value(&a);
      if (!m) return CLI_USAGE;
      if (a.i >= a.argc)
        return cli_usage("convert", "--normalize needs MEAN and STD");
      const char *s = a.argv[a.i++];
      if (!parse_float(m, &mean) || !parse_float(s, &std) || !(std > 0))
        return cli_usage("convert", "--normalize MEAN STD: numbers with STD > 0, "
                         "got \"%s\" \"%s\"", m, s);
      norm = 1;
      continue;
    }
    if (flag)
      return cli_usage("convert", "unknown option \"%s\" (see 'digits help "
                       "convert')", flag);
    if (out) return cli_usage("convert", "expected IN and OUT, got more");
    if (in) out = pos;
    else in = pos;
  }
  if (!in || !out) return cli_usage("convert", "expected IN and OUT files");
  const char *exts[2] = {in, out};
  for (int k = 0; k < 2; k++)
    if (!has_ext(exts[k], ".onnx") && !has_ext(exts[k], ".safetensors"))
      return cli_usage("convert", "\"%s\": the format comes from the "
                       "extension, .onnx or .safetensors", exts[k]);
  if (has_ext(in, ".onnx") && has_ext(out, ".onnx"))
    return cli_usage("convert", "both files are .onnx: nothing to convert");
  if (!strcmp(in, out)) return cli_usage("convert", "IN and OUT are the same file");
  dg_net *net = NULL;
  if (load_any(in, &net)) return cli_fail_lib("convert", in);
  if (norm && dg_net_set_input_norm(net, mean, std)) {
    dg_net_free(net);
    return cli_fail_lib("convert", "--normalize");
  }
  int st = save_any(out, net);
  dg_net_free(net);
  if (st) return cli_fail_lib("convert", out);
  return CLI_OK;
}
