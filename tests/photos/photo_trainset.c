/* photo_trainset.c: training data for photos. MNIST *training* digits
 * (never the test split, which the photo test set draws from) are put on
 * synthetic photos of paper by photo_lib, every condition but "large" in
 * turn, and read back through dg_preprocess_ex: the 28x28 inputs the
 * network will see from real photos. Written as an MNIST-format dataset
 * folder: the 60,000 original training digits followed by N photo ones,
 * and the original test split, so `digits train --data OUT` fine-tunes
 * on both and reports MNIST test accuracy.
 *
 *   photo_trainset OUT --data MNIST_DIR [--count N] [--seed S]
 *
 * Deterministic for a given N and seed (OpenMP threads each write their
 * own slots). Photos whose preprocessing finds no digit are replaced by
 * the next k of the same condition.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "digits.h"
#include "photo_lib.h"

static int write_idx(const char *path, const uint8_t *data, int n, int dims,
                     int h, int w) {
  FILE *f = fopen(path, "wb");
  if (!f) return dg_error(DG_ERR_IO, "%s: cannot write", path);
  uint8_t hd[16] = {0, 0, 8, (uint8_t)(dims == 3 ? 3 : 1)};
  uint32_t v[3] = {(uint32_t)n, (uint32_t)h, (uint32_t)w};
  for (int i = 0; i < dims; i++)
    for (int b = 0; b < 4; b++) hd[4 + 4 * i + b] = (uint8_t)(v[i] >> (24 - 8 * b));
  size_t sz = dims == 3 ? (size_t)n * h * w : (size_t)n;
  int ok = fwrite(hd, 1, 4 + 4 * dims, f) == (size_t)(4 + 4 * dims) &&
           fwrite(data, 1, sz, f) == sz;
  ok &= fclose(f) == 0;
  return ok ? DG_OK : dg_error(DG_ERR_IO, "%s: write failed", path);
}

int main(int argc, char **argv) {
  const char *out = NULL, *data = NULL;
  int count = 30000;
  uint64_t seed = 1000;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
    else if (!strcmp(argv[i], "--count") && i + 1 < argc) count = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
    else if (argv[i][0] != '-' && !out) out = argv[i];
    else {
      fprintf(stderr, "usage: photo_trainset OUT --data MNIST_DIR [--count N] [--seed S]\n");
      return 2;
    }
  }
  if (!out || !data || count < 1 || count > 1000000) {
    fprintf(stderr, "usage: photo_trainset OUT --data MNIST_DIR [--count N] [--seed S]\n");
    return 2;
  }
  mkdir(out, 0755);
  photo_set *set = NULL;
  if (photo_set_open_train(&set, data)) {
    fprintf(stderr, "photo_trainset: %s\n", dg_last_error());
    return 1;
  }
  char p[4096];
  uint8_t *img = NULL, *lab = NULL, *timg = NULL, *tlab = NULL;
  int n, h, w, nl, lh, lw, tn, tnl;
  snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", data);
  if (dg_idx_read(p, 3, &img, &n, &h, &w)) goto fail;
  snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte", data);
  if (dg_idx_read(p, 1, &lab, &nl, &lh, &lw)) goto fail;
  snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", data);
  if (dg_idx_read(p, 3, &timg, &tn, &h, &w)) goto fail;
  snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", data);
  if (dg_idx_read(p, 1, &tlab, &tnl, &lh, &lw)) goto fail;
  int total = n + count;
  uint8_t *all = malloc((size_t)total * 784), *alll = malloc((size_t)total);
  if (!all || !alll) return 1;
  memcpy(all, img, (size_t)n * 784);
  memcpy(alll, lab, (size_t)n);
  int conds[64], nc = 0;
  for (int c = 0; c < photo_cond_count(); c++)
    if (strcmp(photo_cond_name(c), "large")) conds[nc++] = c;
  int failed = 0;
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : failed)
  for (int i = 0; i < count; i++) {
    int c = conds[i % nc];
    /* even k: MNIST digits (the stroke glyphs are the test set's own) */
    for (int k = 2 * (i / nc);; k += 2 * ((count + nc - 1) / nc)) {
      uint8_t *rgb = NULL;
      photo_info info;
      if (photo_render(set, c, k, seed, &rgb, &info)) { failed++; break; }
      float x[784];
      int st = dg_preprocess_ex(rgb, info.w, info.h, 3, x, NULL);
      free(rgb);
      if (st) continue;
      for (int j = 0; j < 784; j++)
        all[(size_t)(n + i) * 784 + j] = (uint8_t)(x[j] * 255 + 0.5f);
      alll[n + i] = (uint8_t)info.label;
      break;
    }
  }
  if (failed) {
    fprintf(stderr, "photo_trainset: %d photos could not be rendered\n", failed);
    return 1;
  }
  int st = 0;
  snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", out);
  st |= write_idx(p, all, total, 3, 28, 28);
  snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte", out);
  st |= write_idx(p, alll, total, 1, 0, 0);
  snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", out);
  st |= write_idx(p, timg, tn, 3, 28, 28);
  snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", out);
  st |= write_idx(p, tlab, tnl, 1, 0, 0);
  if (st) goto fail;
  printf("%s: %d MNIST training digits + %d photo inputs, %d test digits\n",
         out, n, count, tn);
  return 0;
fail:
  fprintf(stderr, "photo_trainset: %s\n", dg_last_error());
  return 1;
}
