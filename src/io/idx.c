/* idx.c: MNIST-style idx files (raw or gzip) into datasets.
 *
 * An idx file is a 4-byte magic (0, 0, type 0x08 = unsigned byte, number of
 * dimensions), one big-endian uint32 per dimension, then the bytes. Labels
 * are 0x00000801 (n), images 0x00000803 (n, h, w).
 *
 * Everything a file declares is checked against hard caps (DG_IDX_MAX_ITEMS,
 * DG_IDX_MAX_DIM, IDX_MAX_BYTES) with overflow-checked arithmetic before
 * anything is allocated. Gzip input is inflated in memory in two steps: the
 * header first, then straight into a buffer of exactly the declared size, so
 * a small "zip bomb" cannot make us allocate more than the header promises
 * and the promise itself is capped. Parsing from memory works in WASM too;
 * gzip support there is optional (DG_NO_ZLIB compiles it out).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef DG_NO_ZLIB
#include <zlib.h>
#endif

#include "digits.h"

/* Largest payload we accept: MNIST train images are 47 MB, EMNIST byclass
 * about 640 MB. Also keeps every size below 2^31 for 32-bit WASM. */
#define IDX_MAX_BYTES ((size_t)1 << 30)
/* Largest file we read from disk (compressed or not). */
#define IDX_MAX_FILE (IDX_MAX_BYTES + 64)

typedef struct {
  int ndims;
  uint32_t dims[3];
  size_t header_bytes;  /* 4 + 4 * ndims */
  size_t data_bytes;    /* product of dims */
} idx_header;

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         (uint32_t)p[3];
}

static const char *kind_name(int dims) {
  return dims == 1 ? "labels" : "images";
}

/* Validate the magic word (4 bytes). */
static int check_magic(const char *name, const uint8_t *p, int expect_dims) {
  uint32_t magic = be32(p);
  uint32_t want = 0x800u | (uint32_t)expect_dims;
  if (p[0] != 0 || p[1] != 0)
    return dg_error(DG_ERR_FORMAT,
                    "%s: bad magic 0x%08X: not an idx file (expected 0x%08X "
                    "for %s)",
                    name, (unsigned)magic, (unsigned)want,
                    kind_name(expect_dims));
  if (p[2] != 0x08)
    return dg_error(DG_ERR_FORMAT,
                    "%s: idx element type 0x%02X is not supported, only "
                    "unsigned bytes (0x08) (magic 0x%08X)",
                    name, p[2], (unsigned)magic);
  if (p[3] != expect_dims)
    return dg_error(DG_ERR_FORMAT,
                    "%s: wrong dimension count: the file has %d dimension%s "
                    "(magic 0x%08X), expected %d for %s (magic 0x%08X)",
                    name, p[3], p[3] == 1 ? "" : "s", (unsigned)magic,
                    expect_dims, kind_name(expect_dims), (unsigned)want);
  return DG_OK;
}

/* Parse and cap the dimensions (p holds 4 * expect_dims bytes after the
 * magic). */
static int check_dims(const char *name, const uint8_t *p, int expect_dims,
                      idx_header *hd) {
  hd->ndims = expect_dims;
  hd->header_bytes = 4 + 4 * (size_t)expect_dims;
  hd->dims[1] = hd->dims[2] = 1;
  for (int i = 0; i < expect_dims; i++) hd->dims[i] = be32(p + 4 * i);
  const char *what = kind_name(expect_dims);
  if (hd->dims[0] == 0)
    return dg_error(DG_ERR_FORMAT, "%s: header says 0 %s: the file is empty",
                    name, what);
  if (hd->dims[0] > DG_IDX_MAX_ITEMS)
    return dg_error(DG_ERR_FORMAT,
                    "%s: header says %lu %s, over the limit of %d", name,
                    (unsigned long)hd->dims[0], what, DG_IDX_MAX_ITEMS);
  if (expect_dims == 3) {
    if (hd->dims[1] == 0 || hd->dims[2] == 0 || hd->dims[1] > DG_IDX_MAX_DIM ||
        hd->dims[2] > DG_IDX_MAX_DIM)
      return dg_error(DG_ERR_FORMAT,
                      "%s: header says images of %lux%lu: each side must be "
                      "1..%d",
                      name, (unsigned long)hd->dims[1],
                      (unsigned long)hd->dims[2], DG_IDX_MAX_DIM);
  }
  /* n <= 1e7 and h*w <= 2^24 fit in 64 bits; check against the byte cap
   * in 64-bit arithmetic so 32-bit size_t cannot wrap. */
  uint64_t per = (uint64_t)hd->dims[1] * hd->dims[2];
  uint64_t total = (uint64_t)hd->dims[0] * per;
  if (total > IDX_MAX_BYTES)
    return dg_error(DG_ERR_FORMAT,
                    "%s: header says %lu %s of %lux%lu (%llu bytes), over the "
                    "limit of %zu bytes",
                    name, (unsigned long)hd->dims[0], what,
                    (unsigned long)hd->dims[1], (unsigned long)hd->dims[2],
                    (unsigned long long)total, (size_t)IDX_MAX_BYTES);
  hd->data_bytes = (size_t)total;
  return DG_OK;
}

/* "60000 images of 28x28 (47040000 bytes)" */
static void describe(char *b, size_t n, const idx_header *hd) {
  if (hd->ndims == 3)
    snprintf(b, n, "%lu images of %lux%lu (%zu bytes)",
             (unsigned long)hd->dims[0], (unsigned long)hd->dims[1],
             (unsigned long)hd->dims[2], hd->data_bytes);
  else
    snprintf(b, n, "%lu labels (%zu bytes)", (unsigned long)hd->dims[0],
             hd->data_bytes);
}

static int check_args(const void *buf, int expect_dims, uint8_t **data,
                      int *count, int *h, int *w) {
  if (!buf || !data || !count || !h || !w)
    return dg_error(DG_ERR_ARG, "idx parse: null argument");
  if (expect_dims != 1 && expect_dims != 3)
    return dg_error(DG_ERR_ARG,
                    "idx parse: expect_dims must be 1 (labels) or 3 (images), "
                    "not %d",
                    expect_dims);
  return DG_OK;
}

static void set_out(const idx_header *hd, uint8_t *d, uint8_t **data,
                    int *count, int *h, int *w) {
  *data = d;
  *count = (int)hd->dims[0];
  *h = (int)hd->dims[1];
  *w = (int)hd->dims[2];
}

static int parse_raw(const char *name, const uint8_t *p, size_t len,
                     int expect_dims, uint8_t **data, int *count, int *h,
                     int *w) {
  idx_header hd;
  int st;
  if (len == 0)
    return dg_error(DG_ERR_FORMAT, "%s: empty file (0 bytes), expected an "
                    "idx %s file", name, kind_name(expect_dims));
  if (len < 4)
    return dg_error(DG_ERR_FORMAT,
                    "%s: truncated: %zu bytes is too short for an idx header",
                    name, len);
  if ((st = check_magic(name, p, expect_dims))) return st;
  size_t hb = 4 + 4 * (size_t)expect_dims;
  if (len < hb)
    return dg_error(DG_ERR_FORMAT,
                    "%s: truncated: the header needs %zu bytes but the file "
                    "has %zu",
                    name, hb, len);
  if ((st = check_dims(name, p + 4, expect_dims, &hd))) return st;
  size_t have = len - hb;
  char desc[128];
  describe(desc, sizeof desc, &hd);
  if (have < hd.data_bytes)
    return dg_error(DG_ERR_FORMAT,
                    "%s: truncated: header says %s but %zu bytes follow", name,
                    desc, have);
  if (have > hd.data_bytes)
    return dg_error(DG_ERR_FORMAT,
                    "%s: header says %s but %zu bytes follow (%zu extra)", name,
                    desc, have, have - hd.data_bytes);
  uint8_t *d = malloc(hd.data_bytes);
  if (!d)
    return dg_error(DG_ERR_NOMEM, "%s: out of memory for %zu bytes", name,
                    hd.data_bytes);
  memcpy(d, p + hb, hd.data_bytes);
  set_out(&hd, d, data, count, h, w);
  return DG_OK;
}

#ifndef DG_NO_ZLIB
/* Inflate until dst is full or the stream ends. Returns the zlib status of
 * the last call; *got is the number of bytes written. */
static int inflate_into(z_stream *zs, uint8_t *dst, size_t n, size_t *got) {
  int zr = Z_OK;
  size_t done = 0;
  while (done < n) {
    /* avail_out is a uInt: feed at most 1 GiB per call */
    size_t chunk = n - done;
    if (chunk > (1u << 30)) chunk = 1u << 30;
    zs->next_out = dst + done;
    zs->avail_out = (uInt)chunk;
    zr = inflate(zs, Z_NO_FLUSH);
    done += chunk - zs->avail_out;
    if (zr == Z_STREAM_END) break;
    if (zr != Z_OK) break;
  }
  *got = done;
  return zr;
}

static int gz_error(const char *name, z_stream *zs, int zr) {
  if (zr == Z_BUF_ERROR || zr == Z_OK)
    return dg_error(DG_ERR_FORMAT,
                    "%s: truncated gzip stream (it ends before the data does)",
                    name);
  if (zr == Z_MEM_ERROR)
    return dg_error(DG_ERR_NOMEM, "%s: out of memory inflating gzip", name);
  return dg_error(DG_ERR_FORMAT, "%s: corrupt gzip stream: %s", name,
                  zs->msg ? zs->msg : "inflate failed");
}

static int parse_gzip(const char *name, const uint8_t *p, size_t len,
                      int expect_dims, uint8_t **data, int *count, int *h,
                      int *w) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (len > (1u << 31))
    return dg_error(DG_ERR_FORMAT, "%s: gzip file too large", name);
  zs.next_in = (Bytef *)p;
  zs.avail_in = (uInt)len;
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    return dg_error(DG_ERR_NOMEM, "%s: cannot initialise zlib", name);
  uint8_t head[16];
  size_t hb = 4 + 4 * (size_t)expect_dims, got = 0;
  idx_header hd;
  uint8_t *d = NULL;
  int st;
  /* the magic alone first, so a wrong file type gets the right message */
  int zr = inflate_into(&zs, head, 4, &got);
  if (got < 4) {
    if (zr == Z_STREAM_END)
      st = dg_error(DG_ERR_FORMAT,
                    "%s: truncated: the gzip data holds only %zu bytes, too "
                    "short for an idx header",
                    name, got);
    else
      st = gz_error(name, &zs, zr);
    goto fail;
  }
  if ((st = check_magic(name, head, expect_dims))) goto fail;
  zr = inflate_into(&zs, head + 4, hb - 4, &got);
  if (got < hb - 4) {
    if (zr == Z_STREAM_END)
      st = dg_error(DG_ERR_FORMAT,
                    "%s: truncated: the header needs %zu bytes but the "
                    "uncompressed data has %zu",
                    name, hb, 4 + got);
    else
      st = gz_error(name, &zs, zr);
    goto fail;
  }
  if ((st = check_dims(name, head + 4, expect_dims, &hd))) goto fail;
  d = malloc(hd.data_bytes);
  if (!d) {
    st = dg_error(DG_ERR_NOMEM, "%s: out of memory for %zu bytes", name,
                  hd.data_bytes);
    goto fail;
  }
  zr = inflate_into(&zs, d, hd.data_bytes, &got);
  if (got < hd.data_bytes) {
    char desc[128];
    describe(desc, sizeof desc, &hd);
    if (zr == Z_STREAM_END)
      st = dg_error(DG_ERR_FORMAT,
                    "%s: truncated: header says %s but %zu bytes follow", name,
                    desc, got);
    else
      st = gz_error(name, &zs, zr);
    goto fail;
  }
  /* The stream must end here; running it to the end also checks the CRC. */
  if (zr != Z_STREAM_END) {
    uint8_t extra[256];
    size_t more = 0;
    zr = inflate_into(&zs, extra, sizeof extra, &more);
    if (more > 0) {
      char desc[128];
      describe(desc, sizeof desc, &hd);
      st = dg_error(DG_ERR_FORMAT,
                    "%s: header says %s but more data follows", name, desc);
      goto fail;
    }
    if (zr != Z_STREAM_END) {
      st = gz_error(name, &zs, zr);
      goto fail;
    }
  }
  inflateEnd(&zs);
  set_out(&hd, d, data, count, h, w);
  return DG_OK;
fail:
  free(d);
  inflateEnd(&zs);
  return st;
}
#endif

static int parse_named(const char *name, const void *buf, size_t len,
                       int expect_dims, uint8_t **data, int *count, int *h,
                       int *w) {
  int st = check_args(buf, expect_dims, data, count, h, w);
  if (st) return st;
  const uint8_t *p = buf;
  if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
#ifndef DG_NO_ZLIB
    return parse_gzip(name, p, len, expect_dims, data, count, h, w);
#else
    return dg_error(DG_ERR_FORMAT,
                    "%s: gzip-compressed, and this build has no zlib: "
                    "decompress it first",
                    name);
#endif
  }
  return parse_raw(name, p, len, expect_dims, data, count, h, w);
}

int dg_idx_parse(const void *buf, size_t len, int expect_dims, uint8_t **data,
                 int *count, int *h, int *w) {
  return parse_named("idx data", buf, len, expect_dims, data, count,
                     h, w);
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int dg_idx_read(const char *path, int expect_dims, uint8_t **data, int *count,
                int *h, int *w) {
  if (!path) return dg_error(DG_ERR_ARG, "idx read: null path");
  int st = check_args("", expect_dims, data, count, h, w);
  if (st) return st;
  size_t pl = strlen(path);
  char *gz = malloc(pl + 4);
  if (!gz) return dg_error(DG_ERR_NOMEM, "%s: out of memory", path);
  memcpy(gz, path, pl);
  memcpy(gz + pl, ".gz", 4);
  const char *use = path;
  if (!file_exists(path)) {
    if (!file_exists(gz)) {
      st = dg_error(DG_ERR_IO, "%s: no such file (also tried %s)", path, gz);
      free(gz);
      return st;
    }
    use = gz;
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  st = dg_file_read(use, IDX_MAX_FILE, &buf, &len);
  if (st == DG_OK) {
    st = parse_named(use, buf, len, expect_dims, data, count, h, w);
    free(buf);
  }
  free(gz);
  return st;
}

/* Find the first existing file among the usual names of one split's images
 * or labels; out gets the path without ".gz" if only the .gz exists (the
 * reader adds it back). */
static int find_split_file(const char *dir, const char *split,
                           const char *kind, int dims, char *out, size_t n) {
  /* train-images-idx3-ubyte, train-images.idx3-ubyte */
  static const char *const fmts[] = {"%s/%s-%s-idx%d-ubyte",
                                     "%s/%s-%s.idx%d-ubyte"};
  char gz[1200];
  for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
    snprintf(out, n, fmts[i], dir, split, kind, dims);
    snprintf(gz, sizeof gz, "%s.gz", out);
    if (file_exists(out) || file_exists(gz)) return DG_OK;
  }
  return dg_error(DG_ERR_IO,
                  "%s: no %s %s file (looked for %s-%s-idx%d-ubyte and "
                  "%s-%s.idx%d-ubyte, with or without .gz)",
                  dir, split, kind, split, kind, dims, split, kind, dims);
}

int dg_dataset_load(dg_dataset *ds, const char *dir, const char *split) {
  if (!ds || !dir || !split)
    return dg_error(DG_ERR_ARG, "dataset load: null argument");
  if (strcmp(split, "test") == 0) split = "t10k";
  if (strcmp(split, "train") != 0 && strcmp(split, "t10k") != 0)
    return dg_error(DG_ERR_ARG,
                    "dataset load: split must be \"train\" or \"t10k\", not "
                    "\"%s\"",
                    split);
  if (strlen(dir) > 900)
    return dg_error(DG_ERR_ARG, "dataset load: folder name too long");
  struct stat sb;
  if (stat(dir, &sb) != 0)
    return dg_error(DG_ERR_IO, "%s: %s", dir, strerror(errno));
  if (!S_ISDIR(sb.st_mode))
    return dg_error(DG_ERR_IO, "%s: not a folder (expected one holding the "
                    "idx files)", dir);

  char ipath[1024], lpath[1024];
  int st;
  if ((st = find_split_file(dir, split, "images", 3, ipath, sizeof ipath)))
    return st;
  if ((st = find_split_file(dir, split, "labels", 1, lpath, sizeof lpath)))
    return st;

  uint8_t *img = NULL, *lab = NULL;
  int n = 0, h = 0, w = 0, nl = 0, lh = 0, lw = 0;
  if ((st = dg_idx_read(ipath, 3, &img, &n, &h, &w))) return st;
  if ((st = dg_idx_read(lpath, 1, &lab, &nl, &lh, &lw))) {
    free(img);
    return st;
  }
  if (n != nl) {
    st = dg_error(DG_ERR_FORMAT,
                  "%s: image/label count mismatch: %d images but %d labels "
                  "(%s)",
                  dir, n, nl, lpath);
    goto fail;
  }
  for (int i = 0; i < n; i++) {
    if (lab[i] > 9) {
      st = dg_error(DG_ERR_FORMAT,
                    "%s: label %d at index %d is not a class 0..9", lpath,
                    lab[i], i);
      goto fail;
    }
  }
  size_t total = (size_t)n * (size_t)h * (size_t)w;
  if (total > SIZE_MAX / sizeof(float)) {
    st = dg_error(DG_ERR_NOMEM, "%s: too many pixels for this machine", ipath);
    goto fail;
  }
  float *f = malloc(total * sizeof(float));
  if (!f) {
    st = dg_error(DG_ERR_NOMEM, "%s: out of memory for %d images of %dx%d",
                  ipath, n, h, w);
    goto fail;
  }
  for (size_t i = 0; i < total; i++) f[i] = img[i] * (1.0f / 255.0f);
  free(img);
  ds->n = n;
  ds->h = h;
  ds->w = w;
  ds->images = f;
  ds->labels = lab;
  return DG_OK;
fail:
  free(img);
  free(lab);
  return st;
}

void dg_dataset_free(dg_dataset *ds) {
  if (!ds) return;
  free(ds->images);
  free(ds->labels);
  memset(ds, 0, sizeof *ds);
}

int dg_dataset_slice(dg_dataset *dst, const dg_dataset *src, int from,
                     int count) {
  if (!dst || !src) return dg_error(DG_ERR_ARG, "dataset slice: null argument");
  if (dst == src)
    return dg_error(DG_ERR_ARG, "dataset slice: dst and src must differ");
  if (from < 0 || count < 1 || from > src->n || count > src->n - from)
    return dg_error(DG_ERR_ARG,
                    "dataset slice: images [%d, %d + %d) out of range for a "
                    "dataset of %d",
                    from, from, count, src->n);
  size_t per = (size_t)src->h * (size_t)src->w;
  float *im = malloc((size_t)count * per * sizeof(float));
  uint8_t *lab = malloc((size_t)count);
  if (!im || !lab) {
    free(im);
    free(lab);
    return dg_error(DG_ERR_NOMEM, "dataset slice: out of memory for %d images",
                    count);
  }
  memcpy(im, src->images + (size_t)from * per, (size_t)count * per * sizeof(float));
  memcpy(lab, src->labels + from, (size_t)count);
  dst->n = count;
  dst->h = src->h;
  dst->w = src->w;
  dst->images = im;
  dst->labels = lab;
  return DG_OK;
}
