/* fuzz_idx.c: libFuzzer target for idx files (idx.c), raw and gzip.
 *
 * Each input is parsed as it is, as labels and as images (a gzip file is
 * recognised by its magic, so gzip seeds are fuzzed at the deflate level),
 * then gzip-compressed here and parsed again, so that mutations of the idx
 * header and data also reach the reader through zlib with a valid stream.
 * A success must describe a buffer that is really there (the last byte is
 * read, which ASan checks); a failure sets a message and leaves the outputs
 * alone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "digits.h"

#define FAIL() abort()

static void parse(const uint8_t *p, size_t n, int dims) {
  uint8_t *out = (uint8_t *)(uintptr_t)1;
  int count = -7, h = -7, w = -7;
  int st = dg_idx_parse(p, n, dims, &out, &count, &h, &w);
  if (st != DG_OK) {
    if (st != DG_ERR_FORMAT && st != DG_ERR_NOMEM) FAIL();
    if (!dg_last_error()[0]) FAIL();
    if (out != (uint8_t *)(uintptr_t)1 || count != -7 || h != -7 || w != -7)
      FAIL();
    return;
  }
  if (!out || count < 1 || h < 1 || w < 1) FAIL();
  if (dims == 1 && (h != 1 || w != 1)) FAIL();
  size_t total = (size_t)count * (size_t)h * (size_t)w;
  volatile uint8_t last = out[total - 1];
  (void)last;
  free(out);
}

/* gzip (RFC 1952) of p into a new buffer, or NULL. */
static uint8_t *gzip(const uint8_t *p, size_t n, size_t *len) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return NULL;
  uLong cap = deflateBound(&zs, (uLong)n) + 32;
  uint8_t *out = malloc(cap);
  if (!out) {
    deflateEnd(&zs);
    return NULL;
  }
  zs.next_in = (Bytef *)p;
  zs.avail_in = (uInt)n;
  zs.next_out = out;
  zs.avail_out = (uInt)cap;
  int zr = deflate(&zs, Z_FINISH);
  *len = zs.total_out;
  deflateEnd(&zs);
  if (zr != Z_STREAM_END) {
    free(out);
    return NULL;
  }
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  parse(data, size, 1);
  parse(data, size, 3);
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) return 0;
  size_t gl = 0;
  uint8_t *gz = gzip(data, size, &gl);
  if (!gz) FAIL();
  parse(gz, gl, 1);
  parse(gz, gl, 3);
  free(gz);
  return 0;
}
