/* dataset_dir.c: a labelled dataset from a folder of images, one class
 * folder per digit (DIR/0/x.png, ..., DIR/9/y.jpg), each image read the
 * way `digits predict` reads it (dg_image_load + dg_preprocess_ex), so a
 * network trains and is evaluated on the inputs it will see.
 *
 * The file list is capped (DG_DATA_MAX_IMAGES) before any pixel buffer is
 * allocated; each image is capped by image.c. The order is fixed: names
 * sorted within each class, then shuffled with a fixed seed, so runs are
 * reproducible and the validation tail of training holds every class.
 * Native only: the WASM build has no image decoder (DG_NO_STB_IMAGE).
 */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"

#ifndef DG_NO_STB_IMAGE
#include <dirent.h>
#include <strings.h>
#include <sys/stat.h>

/* the fixed shuffle of the file list */
#define DIR_SHUFFLE_SEED 20u

typedef struct {
  char *path;
  uint8_t label;
} dir_item;

typedef struct {
  const char *dir;
  dir_item *items;
  size_t n, cap;
  int classes;            /* class folders found */
} dir_list;

/* The extensions predict's decoder reads (case-insensitive). */
static int is_image_name(const char *name) {
  static const char *const ext[] = {".png", ".jpg", ".jpeg", ".bmp", ".gif",
                                    ".pgm", ".ppm", ".pnm", NULL};
  const char *dot = strrchr(name, '.');
  if (!dot || name[0] == '.') return 0;
  for (int i = 0; ext[i]; i++)
    if (strcasecmp(dot, ext[i]) == 0) return 1;
  return 0;
}

static int list_add(dir_list *l, const char *path, int label) {
  if (l->n >= DG_DATA_MAX_IMAGES)
    return dg_error(DG_ERR_FORMAT, "%s: more than %d images", l->dir,
                    DG_DATA_MAX_IMAGES);
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    dir_item *ni = realloc(l->items, cap * sizeof *ni);
    if (!ni) return dg_error(DG_ERR_NOMEM, "%s: out of memory", l->dir);
    l->items = ni;
    l->cap = cap;
  }
  char *copy = strdup(path);
  if (!copy) return dg_error(DG_ERR_NOMEM, "%s: out of memory", l->dir);
  l->items[l->n++] = (dir_item){copy, (uint8_t)label};
  return DG_OK;
}

/* Add the image files of DIR/label; a missing class folder is fine. */
static int list_class(dir_list *l, int label) {
  char sub[4096], path[4096];
  if (snprintf(sub, sizeof sub, "%s/%d", l->dir, label) >= (int)sizeof sub)
    return dg_error(DG_ERR_ARG, "%s: path too long", l->dir);
  struct stat st;
  if (stat(sub, &st) != 0 || !S_ISDIR(st.st_mode)) return DG_OK;
  DIR *d = opendir(sub);
  if (!d) return dg_error(DG_ERR_IO, "%s: %s", sub, strerror(errno));
  l->classes++;
  int rc = DG_OK;
  struct dirent *e;
  while (!rc && (e = readdir(d))) {
    if (!is_image_name(e->d_name)) continue;
    if (snprintf(path, sizeof path, "%s/%s", sub, e->d_name) >= (int)sizeof path) {
      rc = dg_error(DG_ERR_ARG, "%s/%.40s...: path too long", sub, e->d_name);
      break;
    }
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    rc = list_add(l, path, label);
  }
  closedir(d);
  return rc;
}

static int by_label_then_path(const void *a, const void *b) {
  const dir_item *x = a, *y = b;
  if (x->label != y->label) return x->label < y->label ? -1 : 1;
  return strcmp(x->path, y->path);
}

static void list_free(dir_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->items[i].path);
  free(l->items);
}

/* One image file into out (28*28) through predict's preprocessing. */
static int read_one(const char *path, float *out) {
  uint8_t *px = NULL;
  int w = 0, h = 0, c = 0;
  int st = dg_image_load(path, &px, &w, &h, &c);
  if (st) {
    const char *e = dg_last_error();
    if (strstr(e, path)) return st;
    return dg_error(st, "%s: %s", path, e);
  }
  dg_preprocess_info info;
  st = dg_preprocess_ex(px, w, h, c, out, &info);
  free(px);
  if (st == DG_ERR_EMPTY)
    return dg_error(st, "%s: empty image: no ink found (%dx%d)", path, w, h);
  if (st == DG_ERR_UNCERTAIN)
    return dg_error(st, "%s: uncertain: %d digit-sized shapes and none stands "
                    "out (%dx%d)", path, info.candidates, w, h);
  if (st) return dg_error(st, "%s: %s", path, dg_last_error());
  return DG_OK;
}

/* The sorted, shuffled list of DIR's images. */
static int list_images(dir_list *l) {
  for (int c = 0; c < 10; c++) {
    int st = list_class(l, c);
    if (st) return st;
  }
  if (l->classes == 0)
    return dg_error(DG_ERR_FORMAT, "%s: no class folders 0..9 (an image "
                    "folder holds DIR/0/*.png ... DIR/9/*.png)", l->dir);
  if (l->n == 0)
    return dg_error(DG_ERR_FORMAT, "%s: the class folders hold no images "
                    "(PNG, JPEG, BMP, GIF, PGM)", l->dir);
  qsort(l->items, l->n, sizeof *l->items, by_label_then_path);
  dg_rng rng;
  dg_rng_seed(&rng, DIR_SHUFFLE_SEED);
  for (size_t i = l->n - 1; i > 0; i--) {
    size_t j = dg_rng_below(&rng, (uint32_t)(i + 1));
    dir_item t = l->items[i];
    l->items[i] = l->items[j];
    l->items[j] = t;
  }
  return DG_OK;
}

int dg_image_dir_load(dg_dataset *ds, const char *dir) {
  if (!ds || !dir) return dg_error(DG_ERR_ARG, "image folder: null argument");
  dir_list l = {dir, NULL, 0, 0, 0};
  int st = list_images(&l);
  float *im = NULL;
  uint8_t *lab = NULL;
  if (!st) {
    im = malloc(l.n * 28 * 28 * sizeof *im); /* (n, 28, 28) */
    lab = malloc(l.n);                       /* (n) */
    if (!im || !lab)
      st = dg_error(DG_ERR_NOMEM, "%s: out of memory for %zu images", dir, l.n);
  }
  for (size_t i = 0; !st && i < l.n; i++) {
    st = read_one(l.items[i].path, im + i * 28 * 28);
    lab[i] = l.items[i].label;
  }
  if (!st) *ds = (dg_dataset){(int)l.n, 28, 28, im, lab};
  else free(im), free(lab);
  list_free(&l);
  return st;
}

#else /* DG_NO_STB_IMAGE */

int dg_image_dir_load(dg_dataset *ds, const char *dir) {
  (void)ds;
  return dg_error(DG_ERR_ARG, "%s: image folders are not read in this build "
                  "(no image decoder)", dir ? dir : "");
}

#endif
