/* pb.h: a protobuf wire-format reader (pb.c) for the ONNX importer: fields
 * one at a time from a byte range, every length checked against the bytes
 * that are left, nothing allocated. Not part of the public API. */
#ifndef DG_PB_H
#define DG_PB_H

#include <stddef.h>
#include <stdint.h>

enum { DG_PB_VARINT = 0, DG_PB_I64 = 1, DG_PB_LEN = 2, DG_PB_I32 = 5 };

/* The bytes still to read. */
typedef struct {
  const uint8_t *p, *end;
} dg_pb;

/* One field: number, wire type, and its value (varint, or the fixed
 * 32/64-bit bits) or bytes (LEN: data, len inside the reader's range). */
typedef struct {
  uint32_t field;
  int wire;
  uint64_t v;
  const uint8_t *data;
  size_t len;
} dg_pb_field;

/* A reader over len bytes at p. */
dg_pb dg_pb_over(const void *p, size_t len);
/* The next field into *f: 1, 0 at the end, or -1 when the bytes are not
 * wire format (a varint over 10 bytes, a length past the end, field 0, a
 * group or an unknown wire type). */
int dg_pb_next(dg_pb *r, dg_pb_field *f);
/* A varint at *p (before end) into *v, advancing *p: 1, or 0 if malformed. */
int dg_pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);
/* A field's 32-bit float (wire I32). */
float dg_pb_float(const dg_pb_field *f);

#endif
