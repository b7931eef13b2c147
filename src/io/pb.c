/* pb.c: the protobuf wire-format reader (pb.h). Hostile input: a length is
 * compared with the bytes left before anything points past it, varints stop
 * at 10 bytes, and groups (deprecated, unused by ONNX) are refused. */
#include "io/pb.h"

#include <string.h>

dg_pb dg_pb_over(const void *p, size_t len) {
  dg_pb r;
  r.p = p;
  r.end = p ? r.p + len : r.p; /* no arithmetic on a null pointer (UB) */
  return r;
}

int dg_pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
  uint64_t x = 0;
  const uint8_t *q = *p;
  for (int i = 0; i < 10; i++) {
    if (q >= end) return 0;
    uint8_t b = *q++;
    if (i == 9 && b > 1) return 0; /* over 64 bits */
    x |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *p = q, *v = x;
      return 1;
    }
  }
  return 0;
}

int dg_pb_next(dg_pb *r, dg_pb_field *f) {
  if (r->p >= r->end) return 0;
  uint64_t key;
  if (!dg_pb_varint(&r->p, r->end, &key)) return -1;
  if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff) return -1;
  f->field = (uint32_t)(key >> 3);
  f->wire = (int)(key & 7);
  f->v = 0, f->data = NULL, f->len = 0;
  size_t left;
  switch (f->wire) {
    case DG_PB_VARINT: return dg_pb_varint(&r->p, r->end, &f->v) ? 1 : -1;
    case DG_PB_I64:
    case DG_PB_I32: {
      size_t n = f->wire == DG_PB_I64 ? 8 : 4;
      if ((size_t)(r->end - r->p) < n) return -1;
      for (size_t i = 0; i < n; i++) f->v |= (uint64_t)r->p[i] << (8 * i);
      f->data = r->p, f->len = n;
      r->p += n;
      return 1;
    }
    case DG_PB_LEN:
      if (!dg_pb_varint(&r->p, r->end, &f->v)) return -1;
      left = (size_t)(r->end - r->p);
      if (f->v > left) return -1;
      f->data = r->p, f->len = (size_t)f->v;
      r->p += f->len;
      return 1;
    default: return -1; /* groups (3, 4) and 6, 7 */
  }
}

float dg_pb_float(const dg_pb_field *f) {
  uint32_t u = (uint32_t)f->v;
  float x;
  memcpy(&x, &u, 4);
  return x;
}
