/* cmd_info.c: `digits info [--json] FILE`: a Keras-style summary of a model
 * file: layers with output shapes and parameter counts, totals, file size
 * and every stored metadata entry; --json gives the same as one object. */
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static void rule(char c, int n) {
  for (int i = 0; i < n; i++) putchar(c);
  putchar('\n');
}

static const char *human_bytes(char *buf, size_t cap, double b) {
  if (b >= 1024.0 * 1024.0) snprintf(buf, cap, "%.2f MB", b / (1024.0 * 1024.0));
  else if (b >= 1024.0) snprintf(buf, cap, "%.2f KB", b / 1024.0);
  else snprintf(buf, cap, "%.0f B", b);
  return buf;
}

/* info --json: one object: file, file_size, architecture, layers (name,
 * kind, output_shape with null for the batch, params, trainable_params,
 * state), the totals and the metadata as strings. */
static void print_json(const char *path, long long fsize, dg_net *net) {
  printf("{\"file\":");
  cli_json_string(stdout, path);
  printf(",\"file_size\":%lld,\"architecture\":", fsize);
  cli_json_string(stdout, dg_net_arch(net));
  printf(",\"input_size\":%d,\"output_size\":%d,\"layers\":[",
         dg_net_input_size(net), dg_net_output_size(net));
  int n = dg_net_layer_count(net);
  for (int i = 0, first = 1; i < n; i++) {
    dg_layer_info li;
    if (dg_net_layer_info(net, i, &li) != DG_OK) continue;
    printf("%s{\"name\":", first ? "" : ",");
    first = 0;
    cli_json_string(stdout, li.name ? li.name : "");
    printf(",\"kind\":");
    cli_json_string(stdout, li.kind ? li.kind : "");
    if (li.out_h == 1 && li.out_w == 1)
      printf(",\"output_shape\":[null,%d]", li.out_c);
    else
      printf(",\"output_shape\":[null,%d,%d,%d]", li.out_h, li.out_w, li.out_c);
    printf(",\"params\":%zu,\"trainable_params\":%zu,\"state\":%zu}",
           li.params + li.state, li.params, li.state);
  }
  size_t params = dg_net_param_count(net), state = dg_net_state_count(net);
  printf("],\"total_params\":%zu,\"trainable_params\":%zu,"
         "\"non_trainable_params\":%zu,\"metadata\":{", params + state,
         params, state);
  int nm = dg_net_meta_count(net);
  for (int i = 0, first = 1; i < nm; i++) {
    const char *k = NULL, *v = NULL;
    if (dg_net_meta_at(net, i, &k, &v) != DG_OK || !k) continue;
    if (!first) putchar(',');
    first = 0;
    cli_json_string(stdout, k);
    putchar(':');
    cli_json_string(stdout, v ? v : "");
  }
  printf("}}\n");
}

int cmd_info(int argc, char **argv) {
  cli_args a;
  const char *flag, *pos, *path = NULL;
  int json = 0, rc;
  cli_args_init(&a, argc, argv);
  while (cli_args_next(&a, &flag, &pos)) {
    if (flag && strcmp(flag, "--json") == 0) {
      if ((rc = cli_args_no_value(&a))) return rc;
      json = 1;
      continue;
    }
    if (flag)
      return cli_usage("info", "unknown option \"%s\" (see 'digits help info')",
                       flag);
    if (path) return cli_usage("info", "expected one model file, got more");
    path = pos;
  }
  if (!path) return cli_usage("info", "no model file given");

  dg_net *net = NULL;
  if (dg_model_load(&net, path, NULL, NULL) != DG_OK)
    return cli_fail_lib("info", path);
  struct stat st;
  long long fsize = stat(path, &st) == 0 ? (long long)st.st_size : -1;
  if (json) {
    print_json(path, fsize, net);
    dg_net_free(net);
    return CLI_OK;
  }

  const int W = 72;
  char b1[32], b2[32], b3[32];
  printf("Model: %s\n", path);
  rule('_', W);
  printf("%-32s %-24s %14s\n", "Layer (type)", "Output Shape", "Param #");
  rule('=', W);
  int n = dg_net_layer_count(net);
  for (int i = 0; i < n; i++) {
    dg_layer_info li;
    if (dg_net_layer_info(net, i, &li) != DG_OK) continue;
    char name[64], shape[48];
    snprintf(name, sizeof name, "%s (%s)", li.name ? li.name : "?",
             li.kind ? li.kind : "?");
    if (li.out_h == 1 && li.out_w == 1)
      snprintf(shape, sizeof shape, "(None, %d)", li.out_c);
    else
      snprintf(shape, sizeof shape, "(None, %d, %d, %d)", li.out_h, li.out_w,
               li.out_c);
    printf("%-32s %-24s %14s\n", name, shape,
           cli_thousands(b1, sizeof b1, li.params + li.state));
    if (i + 1 < n) putchar('\n');
  }
  rule('=', W);
  size_t params = dg_net_param_count(net), state = dg_net_state_count(net);
  printf("Total params: %s (%s)\n", cli_thousands(b1, sizeof b1, params + state),
         human_bytes(b3, sizeof b3, 4.0 * (double)(params + state)));
  printf("Trainable params: %s (%s)\n", cli_thousands(b2, sizeof b2, params),
         human_bytes(b3, sizeof b3, 4.0 * (double)params));
  printf("Non-trainable params: %s (%s)\n", cli_thousands(b1, sizeof b1, state),
         human_bytes(b3, sizeof b3, 4.0 * (double)state));
  rule('_', W);
  if (fsize >= 0)
    printf("File size: %s bytes (%s)\n",
           cli_thousands(b1, sizeof b1, (unsigned long long)fsize),
           human_bytes(b3, sizeof b3, (double)fsize));
  printf("Architecture: %s\n", dg_net_arch(net));
  int nm = dg_net_meta_count(net);
  if (nm > 0) {
    printf("\nMetadata:\n");
    for (int i = 0; i < nm; i++) {
      const char *k = NULL, *v = NULL;
      if (dg_net_meta_at(net, i, &k, &v) == DG_OK && k)
        printf("  %s: %s\n", k, v ? v : "");
    }
  }
  dg_net_free(net);
  return CLI_OK;
}
