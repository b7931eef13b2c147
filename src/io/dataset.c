/* dataset.c: one entry point for every dataset layout the CLI's --data
 * takes: the MNIST idx folder (idx.c, the default), a folder of class
 * folders 0..9 holding images (dataset_dir.c), a CSV in Kaggle's layout
 * (csv.c). What a path holds is decided here and nowhere else. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "digits.h"

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* True if dir holds the images file of a split under one of its usual
 * names (as idx.c looks for it), raw or .gz. */
static int has_idx_images(const char *dir) {
  static const char *const names[] = {
      "train-images-idx3-ubyte", "train-images.idx3-ubyte",
      "t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"};
  char p[4200];
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    if (exists(p)) return 1;
    snprintf(p, sizeof p, "%s/%s.gz", dir, names[i]);
    if (exists(p)) return 1;
  }
  return 0;
}

static int has_class_folder(const char *dir) {
  char p[4200];
  for (int c = 0; c < 10; c++) {
    struct stat st;
    snprintf(p, sizeof p, "%s/%d", dir, c);
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) return 1;
  }
  return 0;
}

int dg_data_kind_of(const char *path, dg_data_kind *kind) {
  if (!path || !kind) return dg_error(DG_ERR_ARG, "data: null argument");
  if (strlen(path) > 4000) return dg_error(DG_ERR_ARG, "data: path too long");
  struct stat st;
  if (stat(path, &st) != 0)
    return dg_error(DG_ERR_IO, "%s: %s", path, strerror(errno));
  if (!S_ISDIR(st.st_mode)) {
    size_t n = strlen(path);
    if (n < 4 || strcasecmp(path + n - 4, ".csv") != 0)
      return dg_error(DG_ERR_IO,
                      "%s: not a folder (expected an MNIST idx folder, a "
                      "folder of class folders 0..9, or a .csv file)",
                      path);
    *kind = DG_DATA_CSV;
  } else if (!has_idx_images(path) && has_class_folder(path)) *kind = DG_DATA_IMAGES;
  else *kind = DG_DATA_IDX;
  return DG_OK;
}

const char *dg_data_kind_name(dg_data_kind kind) {
  return kind == DG_DATA_IMAGES ? "images" : kind == DG_DATA_CSV ? "csv" : "idx";
}

int dg_data_load(dg_dataset *ds, const char *path, const char *split,
                 dg_data_kind *kind) {
  dg_data_kind k;
  int st = dg_data_kind_of(path, &k);
  if (st) return st;
  if (kind) *kind = k;
  if (k == DG_DATA_CSV) return dg_csv_load(ds, path, 1, NULL);
  if (k == DG_DATA_IMAGES) return dg_image_dir_load(ds, path);
  return dg_dataset_load(ds, path, split);
}
