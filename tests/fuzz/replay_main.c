/* replay_main.c: a main() for the fuzz targets without libFuzzer, so that a
 * plain gcc + ASan/UBSan build replays their corpora in ctest (no clang
 * needed). Every argument is a file or a folder; each file (folders: every
 * regular file inside, in name order, not recursive) is read whole and fed
 * to LLVMFuzzerTestOneInput once. A finding aborts (the targets' own checks)
 * or is reported by the sanitizers, and the run fails. An argument that
 * yields no file at all is an error too, so an emptied corpus cannot pass
 * silently. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return -1;
  }
  size_t cap = 4096, n = 0, got;
  uint8_t *b = malloc(cap);
  while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      uint8_t *nb = realloc(b, cap *= 2);
      if (!nb) free(b);
      b = nb;
    }
  }
  int err = ferror(f);
  fclose(f);
  if (!b || err) {
    fprintf(stderr, "%s: cannot read\n", path);
    free(b);
    return -1;
  }
  /* an exact-size copy, so ASan sees a read one byte past the input */
  uint8_t *exact = malloc(n ? n : 1);
  if (!exact) return -1;
  memcpy(exact, b, n);
  free(b);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files run from one argument, or -1 on an error. */
static int run_arg(const char *arg) {
  struct stat st;
  if (stat(arg, &st) != 0) {
    perror(arg);
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) return run_file(arg) == 0 ? 1 : -1;
  DIR *d = opendir(arg);
  if (!d) {
    perror(arg);
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **nn = realloc(names, cap * sizeof *names);
      if (!nn) break;
      names = nn;
    }
    size_t len = strlen(arg) + strlen(e->d_name) + 2;
    names[n] = malloc(len);
    if (!names[n]) break;
    snprintf(names[n], len, "%s/%s", arg, e->d_name);
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, by_name);
  int runs = 0, bad = 0;
  for (size_t i = 0; i < n; i++) {
    if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
      if (run_file(names[i]) == 0) runs++;
      else bad = 1;
    }
    free(names[i]);
  }
  free(names);
  return bad ? -1 : runs;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE|DIR...  (replays a fuzz corpus)\n", argv[0]);
    return 2;
  }
  int total = 0;
  for (int i = 1; i < argc; i++) {
    int n = run_arg(argv[i]);
    if (n < 0) return 1;
    if (n == 0) {
      fprintf(stderr, "%s: no input files\n", argv[i]);
      return 1;
    }
    total += n;
  }
  printf("%s: replayed %d inputs, no finding\n", argv[0], total);
  return 0;
}
