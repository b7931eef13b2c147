/* onnx_write.c: net -> ONNX (placeholder until the exporter lands). */
#include "digits.h"

int dg_onnx_export_mem(const dg_net *net, uint8_t **buf, size_t *len) {
  (void)net;
  if (buf) *buf = NULL;
  if (len) *len = 0;
  return dg_error(DG_ERR_ARG, "ONNX export is not implemented yet");
}
