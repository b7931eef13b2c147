/* onnx_read.c: ONNX -> net (placeholder until the importer lands). */
#include "digits.h"

int dg_onnx_import_mem(dg_net **out, const void *buf, size_t len) {
  (void)buf;
  (void)len;
  if (out) *out = NULL;
  return dg_error(DG_ERR_FORMAT, "ONNX import is not implemented yet");
}
