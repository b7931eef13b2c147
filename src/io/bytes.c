/* bytes.c: see bytes.h. */
#include "io/bytes.h"

#include <stdlib.h>
#include <string.h>

void dg_bytes_put(dg_bytes *b, const void *s, size_t n) {
  if (b->oom || !n) return;
  if (n > DG_BYTES_MAX || b->n + n > DG_BYTES_MAX) {
    b->oom = 1;
    return;
  }
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n) cap *= 2; /* below 2 * DG_BYTES_MAX: no overflow */
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p, b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
}
