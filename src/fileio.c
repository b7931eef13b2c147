/* fileio.c: whole-file reads with a size cap, and atomic writes (temporary
 * file in the same folder, flush, fsync, rename) so that a crash or a full
 * disk never leaves a half-written model or report behind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifndef _WIN32
#include <unistd.h>
#endif

#include "digits.h"

int dg_file_read(const char *path, size_t max, uint8_t **buf, size_t *len) {
  struct stat st;
  if (!path || !buf || !len) return dg_error(DG_ERR_ARG, "file read: null argument");
  if (stat(path, &st) != 0)
    return dg_error(DG_ERR_IO, "%s: %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode))
    return dg_error(DG_ERR_IO, "%s: is a directory, expected a file", path);
  FILE *f = fopen(path, "rb");
  if (!f) return dg_error(DG_ERR_IO, "%s: %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  uint8_t *b = malloc(cap);
  if (!b) {
    fclose(f);
    return dg_error(DG_ERR_NOMEM, "%s: out of memory", path);
  }
  for (;;) {
    if (n == cap) {
      if (cap > max) break;
      size_t ncap = cap * 2;
      uint8_t *nb = realloc(b, ncap);
      if (!nb) {
        free(b);
        fclose(f);
        return dg_error(DG_ERR_NOMEM, "%s: out of memory", path);
      }
      b = nb;
      cap = ncap;
    }
    size_t got = fread(b + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    free(b);
    return dg_error(DG_ERR_IO, "%s: read error", path);
  }
  if (n > max) {
    free(b);
    return dg_error(DG_ERR_FORMAT, "%s: larger than the %zu-byte limit", path, max);
  }
  *buf = b;
  *len = n;
  return DG_OK;
}

int dg_file_write_atomic(const char *path, const void *buf, size_t len) {
  if (!path || (!buf && len)) return dg_error(DG_ERR_ARG, "file write: null argument");
  size_t pl = strlen(path);
  char *tmp = malloc(pl + 32);
  if (!tmp) return dg_error(DG_ERR_NOMEM, "%s: out of memory", path);
#ifndef _WIN32
  snprintf(tmp, pl + 32, "%s.tmp%ld", path, (long)getpid());
#else
  snprintf(tmp, pl + 32, "%s.tmp", path);
#endif
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    int e = errno;
    free(tmp);
    return dg_error(DG_ERR_IO, "%s: cannot create: %s", path, strerror(e));
  }
  int ok = fwrite(buf, 1, len, f) == len;
  ok = fflush(f) == 0 && ok;
#ifndef _WIN32
  ok = fsync(fileno(f)) == 0 && ok;
#endif
  int e = errno;
  ok = fclose(f) == 0 && ok;
  if (!ok) {
    remove(tmp);
    free(tmp);
    return dg_error(DG_ERR_IO, "%s: write failed: %s", path, strerror(e));
  }
  if (rename(tmp, path) != 0) {
    e = errno;
    remove(tmp);
    free(tmp);
    return dg_error(DG_ERR_IO, "%s: rename failed: %s", path, strerror(e));
  }
  free(tmp);
  return DG_OK;
}
