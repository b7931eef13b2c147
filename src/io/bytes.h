/* bytes.h: a growing byte buffer, the one every in-memory writer appends
 * to (model file headers, ONNX messages, the test generators' PNG and
 * JPEG files). A failed allocation or a total over DG_BYTES_MAX sets oom,
 * which stays set: the writer checks once, at the end. Internal to src/io
 * and the tests. */
#ifndef DG_BYTES_H
#define DG_BYTES_H

#include <stddef.h>
#include <stdint.h>

#define DG_BYTES_MAX ((size_t)2000000000) /* protobuf's 2 GiB message cap */

typedef struct {
  uint8_t *p; /* n bytes written, cap allocated; free(p) when done */
  size_t n, cap;
  int oom;
} dg_bytes;

/* Append the n bytes at s (nothing once oom is set). */
void dg_bytes_put(dg_bytes *b, const void *s, size_t n);

#endif
