/* test_idx.c: idx parsing (raw and gzip), the real MNIST files, and one
 * specific message for each kind of malformed file. Gzip copies and broken
 * files are made at test time under DIGITS_TMP. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "digits.h"
#include "harness.h"

/* Build an idx buffer: magic bytes, dims, then payload bytes (pattern). */
static size_t make_idx(uint8_t *b, uint8_t type, int ndims,
                       const uint32_t *dims, size_t payload) {
  b[0] = 0;
  b[1] = 0;
  b[2] = type;
  b[3] = (uint8_t)ndims;
  size_t o = 4;
  for (int i = 0; i < ndims; i++) {
    b[o++] = (uint8_t)(dims[i] >> 24);
    b[o++] = (uint8_t)(dims[i] >> 16);
    b[o++] = (uint8_t)(dims[i] >> 8);
    b[o++] = (uint8_t)dims[i];
  }
  for (size_t i = 0; i < payload; i++) b[o + i] = (uint8_t)(i % 10);
  return o + payload;
}

static int write_file(const char *path, const void *b, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(b, 1, n, f);
  return fclose(f) == 0 && w == n ? 0 : -1;
}

static int write_gz(const char *path, const void *b, size_t n) {
  gzFile g = gzopen(path, "wb6");
  if (!g) return -1;
  int w = gzwrite(g, b, (unsigned)n);
  return gzclose(g) == Z_OK && w == (int)n ? 0 : -1;
}

/* gzip a buffer in memory (for corrupting it). */
static uint8_t *gzip_mem(const uint8_t *b, size_t n, size_t *out_len) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return NULL;
  size_t cap = deflateBound(&zs, n) + 64;
  uint8_t *o = malloc(cap);
  zs.next_in = (Bytef *)b;
  zs.avail_in = (uInt)n;
  zs.next_out = o;
  zs.avail_out = (uInt)cap;
  int r = deflate(&zs, Z_FINISH);
  *out_len = cap - zs.avail_out;
  deflateEnd(&zs);
  if (r != Z_STREAM_END) {
    free(o);
    return NULL;
  }
  return o;
}

static void test_small_valid(void) {
  uint8_t b[64];
  uint32_t dims[3] = {2, 3, 4};
  size_t n = make_idx(b, 8, 3, dims, 24);
  uint8_t *d = NULL;
  int c = 0, h = 0, w = 0;
  CHECK_OK(dg_idx_parse(b, n, 3, &d, &c, &h, &w));
  CHECK(c == 2 && h == 3 && w == 4);
  CHECK(d && d[0] == 0 && d[23] == 3);
  free(d);

  uint32_t ld[1] = {5};
  n = make_idx(b, 8, 1, ld, 5);
  d = NULL;
  CHECK_OK(dg_idx_parse(b, n, 1, &d, &c, &h, &w));
  CHECK(c == 5 && h == 1 && w == 1 && d && d[4] == 4);
  free(d);

  /* gzip in memory parses identically */
  size_t gl = 0;
  uint8_t *g = gzip_mem(b, n, &gl);
  CHECK(g != NULL);
  d = NULL;
  CHECK_OK(dg_idx_parse(g, gl, 1, &d, &c, &h, &w));
  CHECK(c == 5 && d && memcmp(d, b + 8, 5) == 0);
  free(d);
  free(g);
}

static void test_malformed_mem(void) {
  uint8_t b[256];
  uint8_t *d = (uint8_t *)1;  /* must stay untouched on failure */
  int c = -7, h = -7, w = -7;
  uint32_t dims[3] = {2, 28, 28};

  /* bad magic */
  size_t n = make_idx(b, 8, 3, dims, 0);
  b[0] = 0x12;
  CHECK_FAIL(dg_idx_parse(b, n, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "bad magic 0x12000803");
  /* element type other than unsigned byte */
  n = make_idx(b, 0x0D, 3, dims, 0);
  CHECK_FAIL(dg_idx_parse(b, n, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "type 0x0D");
  /* wrong dimension count: a labels file where images are expected */
  uint32_t ld[1] = {3};
  n = make_idx(b, 8, 1, ld, 3);
  CHECK_FAIL(dg_idx_parse(b, n, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "wrong dimension count: the file has 1 dimension");
  n = make_idx(b, 8, 3, dims, 0);
  CHECK_FAIL(dg_idx_parse(b, n, 1, &d, &c, &h, &w), DG_ERR_FORMAT,
             "expected 1 for labels");
  /* truncated data */
  dims[0] = 60000;
  n = make_idx(b, 8, 3, dims, 100);
  CHECK_FAIL(dg_idx_parse(b, n, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "truncated: header says 60000 images of 28x28 (47040000 bytes) "
             "but 100 bytes follow");
  /* truncated header */
  CHECK_FAIL(dg_idx_parse(b, 9, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "header needs 16 bytes");
  CHECK_FAIL(dg_idx_parse(b, 3, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "too short");
  /* extra bytes */
  dims[0] = 1;
  dims[1] = dims[2] = 2;
  n = make_idx(b, 8, 3, dims, 5);
  CHECK_FAIL(dg_idx_parse(b, n, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "(1 extra)");
  /* absurd sizes, rejected before allocating */
  dims[0] = 1u << 31;
  dims[1] = dims[2] = 28;
  n = make_idx(b, 8, 3, dims, 0);
  CHECK_FAIL(dg_idx_parse(b, n, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "header says 2147483648 images, over the limit");
  dims[0] = 10;
  dims[1] = 100000;
  n = make_idx(b, 8, 3, dims, 0);
  CHECK_FAIL(dg_idx_parse(b, n, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "images of 100000x28");
  dims[0] = 10000000;
  dims[1] = dims[2] = 4096;
  n = make_idx(b, 8, 3, dims, 0);
  CHECK_FAIL(dg_idx_parse(b, n, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "over the limit of 1073741824 bytes");
  dims[0] = 0;
  n = make_idx(b, 8, 3, dims, 0);
  CHECK_FAIL(dg_idx_parse(b, n, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "header says 0 images");
  /* empty buffer */
  CHECK_FAIL(dg_idx_parse(b, 0, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "empty file (0 bytes)");
  CHECK_FAIL(dg_idx_parse(b, 10, 2, &d, &c, &h, &w), DG_ERR_ARG,
             "expect_dims");
  CHECK_FAIL(dg_idx_parse(NULL, 10, 3, &d, &c, &h, &w), DG_ERR_ARG, "null");
  CHECK(d == (uint8_t *)1 && c == -7 && h == -7 && w == -7);
}

static void test_malformed_gzip(void) {
  uint8_t b[1024];
  uint32_t dims[3] = {1, 28, 28};
  size_t n = make_idx(b, 8, 3, dims, 784);
  size_t gl = 0;
  uint8_t *g = gzip_mem(b, n, &gl);
  uint8_t *d = NULL;
  int c, h, w;
  CHECK(g != NULL);
  if (!g) return;
  CHECK_OK(dg_idx_parse(g, gl, 3, &d, &c, &h, &w));
  CHECK(d && memcmp(d, b + 16, 784) == 0);
  free(d);
  d = NULL;
  /* truncated stream */
  CHECK_FAIL(dg_idx_parse(g, gl / 2, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "truncated gzip stream");
  /* corrupt deflate data: an invalid block type right after the header */
  uint8_t *bad = malloc(gl);
  memcpy(bad, g, gl);
  bad[10] = 0xFF;
  CHECK_FAIL(dg_idx_parse(bad, gl, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "corrupt gzip stream");
  /* a CRC mismatch only shows at the end of the stream */
  memcpy(bad, g, gl);
  bad[gl - 6] ^= 0xFF;
  CHECK_FAIL(dg_idx_parse(bad, gl, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "corrupt gzip stream: incorrect data check");
  free(bad);
  free(g);
  /* gzip of a file with a bad magic reports the magic, not gzip */
  b[3] = 9;
  g = gzip_mem(b, n, &gl);
  CHECK_FAIL(dg_idx_parse(g, gl, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "wrong dimension count");
  free(g);
  /* gzip of a truncated idx file */
  b[3] = 3;
  g = gzip_mem(b, 100, &gl);
  CHECK_FAIL(dg_idx_parse(g, gl, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "truncated: header says 1 images of 28x28 (784 bytes) but 84");
  free(g);
  /* gzip declaring an absurd count: rejected before allocating */
  dims[0] = 1u << 31;
  n = make_idx(b, 8, 3, dims, 0);
  g = gzip_mem(b, n, &gl);
  CHECK_FAIL(dg_idx_parse(g, gl, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "over the limit");
  free(g);
  /* gzip of an empty file */
  g = gzip_mem(b, 0, &gl);
  CHECK_FAIL(dg_idx_parse(g, gl, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "only 0 bytes");
  free(g);
  CHECK(d == NULL);
}

static void test_files(void) {
  uint8_t *d = NULL;
  int c, h, w;
  char dir[1100];
  snprintf(dir, sizeof dir, "%s", dg_test_path("DIGITS_TMP", "idx_files"));
  mkdir(dir, 0755);
  char p[1200];
  /* zero-byte file */
  snprintf(p, sizeof p, "%s/empty-idx3-ubyte", dir);
  CHECK(write_file(p, "", 0) == 0);
  CHECK_FAIL(dg_idx_read(p, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "empty-idx3-ubyte: empty file (0 bytes)");
  /* directory instead of a file */
  snprintf(p, sizeof p, "%s/adir", dir);
  mkdir(p, 0755);
  CHECK_FAIL(dg_idx_read(p, 3, &d, &c, &h, &w), DG_ERR_IO, "is a directory");
  /* missing: names both tries */
  snprintf(p, sizeof p, "%s/missing", dir);
  CHECK_FAIL(dg_idx_read(p, 3, &d, &c, &h, &w), DG_ERR_IO,
             "missing.gz");
  /* PATH.gz is found when PATH is absent, and the message names it */
  uint8_t b[128];
  uint32_t dims[3] = {2, 3, 3};
  size_t n = make_idx(b, 8, 3, dims, 10);
  snprintf(p, sizeof p, "%s/short-idx3-ubyte.gz", dir);
  CHECK(write_gz(p, b, n) == 0);
  snprintf(p, sizeof p, "%s/short-idx3-ubyte", dir);
  CHECK_FAIL(dg_idx_read(p, 3, &d, &c, &h, &w), DG_ERR_FORMAT,
             "short-idx3-ubyte.gz: truncated: header says 2 images of 3x3 "
             "(18 bytes) but 10 bytes follow");
  CHECK(d == NULL);

  /* datasets: label > 9, count mismatch, missing folder */
  uint32_t id[3] = {3, 2, 2}, ld[1] = {3};
  n = make_idx(b, 8, 3, id, 12);
  snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", dir);
  CHECK(write_file(p, b, n) == 0);
  n = make_idx(b, 8, 1, ld, 3);
  b[8 + 1] = 12;
  snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte", dir);
  CHECK(write_file(p, b, n) == 0);
  dg_dataset ds = {0};
  CHECK_FAIL(dg_dataset_load(&ds, dir, "train"), DG_ERR_FORMAT,
             "label 12 at index 1");
  ld[0] = 4;
  n = make_idx(b, 8, 1, ld, 4);
  CHECK(write_file(p, b, n) == 0);
  CHECK_FAIL(dg_dataset_load(&ds, dir, "train"), DG_ERR_FORMAT,
             "count mismatch: 3 images but 4 labels");
  CHECK(ds.images == NULL && ds.n == 0);
  /* the dotted name variant, gzipped */
  ld[0] = 3;
  n = make_idx(b, 8, 1, ld, 3);
  CHECK(write_file(p, b, n) == 0);
  CHECK_OK(dg_dataset_load(&ds, dir, "train"));
  CHECK(ds.n == 3 && ds.h == 2 && ds.w == 2 && ds.labels[2] == 2);
  CHECK_NEAR(ds.images[1], 1.0 / 255, 1e-7);
  dg_dataset_free(&ds);
  CHECK(ds.images == NULL);
  n = make_idx(b, 8, 3, id, 12);
  snprintf(p, sizeof p, "%s/t10k-images.idx3-ubyte.gz", dir);
  CHECK(write_gz(p, b, n) == 0);
  n = make_idx(b, 8, 1, ld, 3);
  snprintf(p, sizeof p, "%s/t10k-labels.idx1-ubyte", dir);
  CHECK(write_file(p, b, n) == 0);
  CHECK_OK(dg_dataset_load(&ds, dir, "t10k"));
  CHECK(ds.n == 3);
  dg_dataset_free(&ds);
  CHECK_FAIL(dg_dataset_load(&ds, dir, "valid"), DG_ERR_ARG, "split");
  snprintf(p, sizeof p, "%s/nothere", dir);
  CHECK_FAIL(dg_dataset_load(&ds, p, "train"), DG_ERR_IO, "nothere");
  snprintf(p, sizeof p, "%s/adir", dir);
  CHECK_FAIL(dg_dataset_load(&ds, p, "train"), DG_ERR_IO,
             "no train images file");
}

static void test_mnist(void) {
  const char *dir = dg_test_mnist();
  if (!dir) {
    fprintf(stderr, "DIGITS_DATA not set: skipping the real MNIST checks\n");
    return;
  }
  dg_dataset te = {0}, tr = {0};
  CHECK_OK(dg_dataset_load(&te, dir, "t10k"));
  CHECK(te.n == 10000 && te.h == 28 && te.w == 28);
  if (te.n == 10000) {
    CHECK(te.labels[0] == 7 && te.labels[1] == 2 && te.labels[2] == 1 &&
          te.labels[3] == 0 && te.labels[4] == 4);
    int counts[10] = {0};
    for (int i = 0; i < te.n; i++) counts[te.labels[i]]++;
    CHECK(counts[1] == 1135 && counts[5] == 892);
    float mx = 0;
    for (int i = 0; i < 784; i++) mx = te.images[i] > mx ? te.images[i] : mx;
    CHECK_NEAR(mx, 1.0, 1e-6);
  }
  CHECK_OK(dg_dataset_load(&tr, dir, "train"));
  CHECK(tr.n == 60000 && tr.h == 28 && tr.w == 28);
  if (tr.n == 60000) CHECK(tr.labels[0] == 5 && tr.labels[1] == 0);

  /* slices */
  dg_dataset s = {0};
  CHECK_OK(dg_dataset_slice(&s, &te, 9990, 10));
  CHECK(s.n == 10 && s.labels[0] == te.labels[9990]);
  CHECK(memcmp(s.images, te.images + 9990 * 784, 10 * 784 * sizeof(float)) == 0);
  dg_dataset_free(&s);
  CHECK_FAIL(dg_dataset_slice(&s, &te, 9995, 10), DG_ERR_ARG, "out of range");
  CHECK_FAIL(dg_dataset_slice(&s, &te, -1, 1), DG_ERR_ARG, "out of range");

  /* the same bytes gzipped parse identically */
  char src[1200], gz[1200];
  snprintf(src, sizeof src, "%s/t10k-images-idx3-ubyte", dir);
  snprintf(gz, sizeof gz, "%s", dg_test_path("DIGITS_TMP", "t10k-images-idx3-ubyte.gz"));
  uint8_t *raw = NULL, *a = NULL, *b = NULL;
  size_t len = 0;
  int c1, h1, w1, c2, h2, w2;
  CHECK_OK(dg_file_read(src, 100u << 20, &raw, &len));
  if (raw) {
    CHECK(write_gz(gz, raw, len) == 0);
    CHECK_OK(dg_idx_parse(raw, len, 3, &a, &c1, &h1, &w1));
    CHECK_OK(dg_idx_read(gz, 3, &b, &c2, &h2, &w2));
    CHECK(a && b && c1 == c2 && h1 == h2 && w1 == w2 && c1 == 10000);
    if (a && b) CHECK(memcmp(a, b, (size_t)c1 * h1 * w1) == 0);
    /* truncated real file: the classic message */
    CHECK_FAIL(dg_idx_parse(raw, 16 + 1000, 3, &a, &c1, &h1, &w1),
               DG_ERR_FORMAT,
               "truncated: header says 10000 images of 28x28 (7840000 bytes) "
               "but 1000 bytes follow");
    free(a);
    free(b);
    free(raw);
  }
  dg_dataset_free(&te);
  dg_dataset_free(&tr);
}

static void test_fashion(void) {
  /* Fashion-MNIST from Debian's dataset-fashion-mnist, if installed */
  const char *dir = "/usr/share/datasets/fashion-mnist";
  struct stat sb;
  if (stat(dir, &sb) != 0) return;
  dg_dataset ds = {0};
  CHECK_OK(dg_dataset_load(&ds, dir, "t10k"));
  CHECK(ds.n == 10000 && ds.h == 28 && ds.w == 28);
  dg_dataset_free(&ds);
}

int main(void) {
  RUN(test_small_valid);
  RUN(test_malformed_mem);
  RUN(test_malformed_gzip);
  RUN(test_files);
  RUN(test_mnist);
  RUN(test_fashion);
  return dg_test_finish();
}
