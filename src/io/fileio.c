/* fileio.c: whole-file reads with a size cap, and atomic writes (temporary
 * file in the same folder, flush, fsync, rename) so that a crash or a full
 * disk never leaves a half-written model or report behind. A process killed
 * mid-write leaves its temporary file (NAME.tmpPID); the next successful
 * write of NAME removes those whose process is gone. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifndef _WIN32
#include <dirent.h>
#include <signal.h>
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

/* Remove PATH.tmpPID files left by processes that no longer exist (a
 * kill -9 or a power cut during a write). A PID that is alive, ours
 * included, keeps its file: it may be writing it now. */
static void remove_stale_temps(const char *path) {
#if !defined(_WIN32) && !defined(__EMSCRIPTEN__)
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  size_t dl = slash ? (size_t)(slash - path) : 0, bl = strlen(base);
  char *dir = malloc(dl + 2);
  if (!dir) return;
  if (slash) memcpy(dir, path, dl ? dl : 1), dir[dl ? dl : 1] = '\0';
  else strcpy(dir, ".");
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      const char *n = e->d_name;
      if (strncmp(n, base, bl) != 0 || strncmp(n + bl, ".tmp", 4) != 0) continue;
      const char *digits = n + bl + 4;
      char *end;
      long pid = strtol(digits, &end, 10);
      if (end == digits || *end || pid <= 0 || pid == (long)getpid()) continue;
      if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
      size_t fl = strlen(dir) + 1 + strlen(n) + 1;
      char *full = malloc(fl);
      if (!full) break;
      snprintf(full, fl, "%s/%s", dir, n);
      remove(full);
      free(full);
    }
    closedir(d);
  }
  free(dir);
#else
  (void)path;
#endif
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
  remove_stale_temps(path);
  return DG_OK;
}
