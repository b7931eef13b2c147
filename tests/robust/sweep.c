/* sweep.c (ctest robust_sweep, and robust_sweep_asan under ASan + UBSan):
 * the library against every single-bit flip and every truncation of small
 * model, idx (raw and gzip) and image files, plus the odd-but-valid images
 * (1x1, 20000x20000, 16-bit PNG, Adobe CMYK JPEG, an empty drawing) and the
 * regressions of the fuzzing findings. Each damaged input must either load
 * or fail with DG_ERR_FORMAT and a message, never crash or read out of
 * bounds; the CMYK and 16-bit pictures of an MNIST digit must be read as
 * that digit by the shipped default model. Inputs are made here (gen_lib.c),
 * nothing big is committed. */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "gen_lib.h"
#include "harness.h"
#include "stb_image_write.h" /* declarations; the implementation is image.c */

/* Load b[0, n): a status, and on success a digest of what was read. */
typedef int (*load_fn)(const uint8_t *b, size_t n, void *user, uint64_t *digest);

static uint64_t fnv(const void *p, size_t n, uint64_t h) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

/* ---- loaders under test: status of one attempt ------------------------------ */

static int load_model(const uint8_t *b, size_t n, void *user, uint64_t *digest) {
  dg_net *net = NULL;
  dg_blob *ex = NULL;
  int nex = 0;
  int st = dg_model_load_mem(&net, b, n, &ex, &nex);
  if (st == DG_OK) {
    /* a model that loads holds finite weights only */
    for (int i = 0; i < dg_net_tensor_count(net); i++) {
      const dg_tensor *t = dg_net_tensor(net, i);
      for (size_t k = 0; k < t->size; k++)
        if (!(t->data[k] > -INFINITY && t->data[k] < INFINITY)) st = 99;
      *digest = fnv(t->data, t->size * sizeof(float), *digest);
    }
    dg_blobs_free(ex, nex);
    dg_net_free(net);
  }
  (void)user;
  return st;
}

static int load_idx(const uint8_t *b, size_t n, void *user, uint64_t *digest) {
  uint8_t *d = NULL;
  int c, h, w;
  int st = dg_idx_parse(b, n, *(const int *)user, &d, &c, &h, &w);
  if (st == DG_OK) *digest = fnv(d, (size_t)c * h * w, fnv(&c, sizeof c, *digest));
  free(d);
  return st;
}

static int load_image(const uint8_t *b, size_t n, void *user, uint64_t *digest) {
  uint8_t *px = NULL;
  int w, h, c;
  int st = dg_image_decode(b, n, &px, &w, &h, &c);
  if (st == DG_OK) {
    int dims[3] = {w, h, c};
    *digest = fnv(px, (size_t)w * h * c, fnv(dims, sizeof dims, *digest));
    float out[784];
    int pst = dg_preprocess(px, w, h, c, out);
    if (pst != DG_OK && pst != DG_ERR_EMPTY && pst != DG_ERR_UNCERTAIN) st = 98;
    free(px);
  }
  (void)user;
  return st;
}

/* Every single-bit flip of b[from, to) and every truncation. A flip may
 * give another valid file (a changed pixel or weight: these formats have
 * no checksum), else it must fail with DG_ERR_FORMAT and a message. A
 * truncated file must fail the same way, unless what it lost was not read
 * anyway (a GIF's trailer byte): then it must read exactly as the whole. */
static void sweep(const char *what, const uint8_t *b, size_t n, size_t from,
                  size_t to, load_fn load, void *user) {
  uint8_t *c = malloc(n ? n : 1);
  if (!c) return;
  size_t flips = 0, caught = 0, cuts = 0, bad = 0;
  uint64_t whole = 0xcbf29ce484222325ull, dg;
  CHECK(load(b, n, user, &whole) == DG_OK);
  if (to > n) to = n;
  for (size_t i = from; i < to; i++)
    for (int bit = 0; bit < 8; bit++) {
      memcpy(c, b, n);
      c[i] ^= (uint8_t)(1 << bit);
      dg_error(DG_OK, "%s", "");
      int st = load(c, n, user, &dg);
      flips++;
      if (st == DG_ERR_FORMAT && dg_last_error()[0]) caught++;
      else if (st != DG_OK && bad++ < 3)
        CHECK_MSG(0, "%s: flip of bit %d of byte %zu: status %d (%s)", what, bit, i, st,
                  dg_last_error());
    }
  for (size_t k = 0; k < n; k++) {
    /* an exact-size copy, so ASan sees a read past the cut */
    uint8_t *t = malloc(k ? k : 1);
    memcpy(t, b, k);
    dg_error(DG_OK, "%s", "");
    dg = 0xcbf29ce484222325ull;
    int st = load(t, k, user, &dg);
    free(t);
    if (st == DG_ERR_FORMAT && dg_last_error()[0]) cuts++;
    else if (!(st == DG_OK && dg == whole) && bad++ < 3)
      CHECK_MSG(0, "%s: cut to %zu of %zu bytes: status %d (%s)", what, k, n, st,
                dg_last_error());
  }
  CHECK(bad == 0);
  fprintf(stderr, "  %-28s %5zu bytes: %6zu bit flips (%zu refused, the rest load), "
          "%zu of %zu truncations refused\n", what, n, flips, caught, cuts, n);
  free(c);
}

/* ---- the sweeps ---------------------------------------------------------------- */

static uint64_t rd64(const uint8_t *b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
  return v;
}

static void test_model_sweep(void) {
  size_t n = 0;
  uint8_t *b = gen_model("input 6 6 1; conv 2 3 same; bn; relu; maxpool 2; flatten; "
                         "dense 3; softmax", 5, &n);
  CHECK(b != NULL);
  if (!b) return;
    /* all of it; a flip in the header may give another valid file: the
   * letter case of a layer name (read case-blind), a renamed metadata key
   * (the checksum's own: then nothing is checked) */
  size_t hend = 8 + (size_t)rd64(b);
  sweep("model (conv+bn, F32)", b, n, 0, n, load_model, NULL);
  /* a flip anywhere in the weights is caught: by the CRC-32 in the
   * metadata (over the architecture and the weights), or first as a NaN
   * or infinity */
  uint8_t *c = malloc(n);
  size_t missed = 0;
  for (size_t i = hend; c && i < n; i++)
    for (int bit = 0; bit < 8; bit++) {
      memcpy(c, b, n);
      c[i] ^= (uint8_t)(1 << bit);
      dg_net *net = NULL;
      int st = dg_model_load_mem(&net, c, n, NULL, NULL);
      const char *e = dg_last_error();
      if (!(st == DG_ERR_FORMAT && (strstr(e, "model file is damaged: the CRC-32") ||
                                    strstr(e, "is NaN") || strstr(e, "is infinite"))) &&
          missed++ < 3)
        CHECK_MSG(0, "flip of bit %d of weight byte %zu: status %d (%s)", bit, i - hend, st, e);
      dg_net_free(net);
    }
  CHECK(missed == 0);
  free(c);
  /* a checksum that is not one */
  char *crc = memmem(b, hend, "\"crc32\":\"", 9);
  CHECK(crc != NULL);
  if (crc) {
    memcpy(crc + 9, "0000000g", 8);
    dg_net *net = NULL;
    CHECK_FAIL(dg_model_load_mem(&net, b, n, NULL, NULL), DG_ERR_FORMAT,
               "\"crc32\" is \"0000000g\", not 8 hex digits");
  }
  free(b);
}

static void test_idx_sweep(void) {
  uint8_t img[3 * 4 * 5], lab[7] = {1, 2, 3, 4, 5, 6, 7};
  for (size_t i = 0; i < sizeof img; i++) img[i] = (uint8_t)(i * 37);
  uint32_t id[3] = {3, 4, 5}, ld[1] = {7};
  int three = 3, one = 1;
  for (int gz = 0; gz < 2; gz++) {
    size_t n = 0;
    uint8_t *b = gen_idx(3, id, img, sizeof img, gz, &n);
    CHECK(b != NULL);
    if (b) sweep(gz ? "idx images, gzip" : "idx images, raw", b, n, 0, n, load_idx, &three);
    free(b);
    b = gen_idx(1, ld, lab, sizeof lab, gz, &n);
    CHECK(b != NULL);
    if (b) sweep(gz ? "idx labels, gzip" : "idx labels, raw", b, n, 0, n, load_idx, &one);
    free(b);
  }
}

typedef struct {
  uint8_t *p;
  size_t n;
} mem;

static void mem_put(void *ctx, void *data, int size) {
  mem *m = ctx;
  uint8_t *p = realloc(m->p, m->n + (size_t)size);
  if (!p) return;
  memcpy(p + m->n, data, (size_t)size);
  m->p = p, m->n += (size_t)size;
}

/* A 12x10 test card: a dark bar on light paper, with some colour. */
static int card(int x, int y, int k, void *user) {
  (void)user;
  if (x < 0) return -1;
  int ink = x >= 5 && x <= 6 && y >= 2 && y <= 8;
  return ink ? 20 + 10 * k : 230 - 5 * k;
}

static void test_image_sweep(void) {
  size_t n = 0;
  uint8_t *b = gen_png(12, 10, 2, 8, card, NULL, &n);
  if (b) sweep("PNG 8-bit RGB", b, n, 0, n, load_image, NULL);
  free(b);
  b = gen_png(12, 10, 0, 16, card, NULL, &n);
  if (b) sweep("PNG 16-bit gray", b, n, 0, n, load_image, NULL);
  free(b);
  b = gen_jpeg(16, 16, 4, card, NULL, &n);
  if (b) sweep("JPEG CMYK (Adobe)", b, n, 0, n, load_image, NULL);
  free(b);
  uint8_t rgb[12 * 10 * 3];
  for (int i = 0; i < 12 * 10; i++)
    for (int k = 0; k < 3; k++) rgb[i * 3 + k] = (uint8_t)card(i % 12, i / 12, k, NULL);
  mem m = {0};
  stbi_write_jpg_to_func(mem_put, &m, 12, 10, 3, rgb, 80);
  if (m.p) sweep("JPEG YCbCr (stb_image_write)", m.p, m.n, 0, m.n, load_image, NULL);
  free(m.p);
  m = (mem){0};
  stbi_write_bmp_to_func(mem_put, &m, 12, 10, 3, rgb);
  if (m.p) sweep("BMP 24-bit", m.p, m.n, 0, 64, load_image, NULL);
  free(m.p);
  const char *pgm = "P5\n4 3\n255\n\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0";
  sweep("PGM", (const uint8_t *)pgm, strlen(pgm), 0, strlen(pgm), load_image, NULL);
  uint8_t *gif = NULL;
  size_t gl = 0;
  if (dg_file_read(dg_test_path("DIGITS_TESTDATA", "tiny.gif"), 1 << 20, &gif, &gl) == DG_OK)
    sweep("GIF", gif, gl, 0, gl, load_image, NULL);
  free(gif);
}

/* ---- odd but valid pictures ------------------------------------------------------ */

typedef struct {
  int w, h;
  const uint8_t *digit; /* 28x28, ink 255; NULL = blank */
  int kind;             /* 'g' gray, 'k' CMYK */
} pic;

static int pic_px(int x, int y, int k, void *user) {
  const pic *p = user;
  if (x < 0) return p->digit ? (int)((long long)y * 28 / p->h) : 0;
  int ink = p->digit ? p->digit[(long long)y * 28 / p->h * 28 + (long long)x * 28 / p->w] : 0;
  if (p->kind == 'k') return k < 3 ? 255 : 255 - ink;
  return 255 - ink;
}

static dg_net *g_model;

/* The digit the default model reads in a decoded picture, or -1. */
static int read_digit(const uint8_t *file, size_t n, int *channels) {
  uint8_t *px = NULL;
  int w, h, c;
  if (dg_image_decode(file, n, &px, &w, &h, &c) != DG_OK) {
    CHECK_MSG(0, "decode: %s", dg_last_error());
    return -1;
  }
  *channels = c;
  float in[784], probs[10];
  int st = dg_preprocess(px, w, h, c, in);
  free(px);
  if (st != DG_OK || !g_model || dg_net_predict(g_model, in, 1, probs) != DG_OK) return -1;
  int best = 0;
  for (int i = 1; i < 10; i++)
    if (probs[i] > probs[best]) best = i;
  return best;
}

static void test_odd_images(void) {
  const char *data = dg_test_mnist();
  uint8_t digit[784];
  int label = -1;
  CHECK_MSG(data && gen_mnist_digit(data, 0, digit, &label) == 0, "MNIST test digit 0");
  size_t n = 0;
  uint8_t *px = NULL;
  int w, h, c, ch = 0;

  /* 1x1: decodes; no ink in it */
  pic blank = {1, 1, NULL, 'g'};
  uint8_t *b = gen_png(1, 1, 0, 8, pic_px, &blank, &n);
  CHECK_OK(dg_image_decode(b, n, &px, &w, &h, &c));
  CHECK(w == 1 && h == 1 && c == 1);
  float in[784];
  if (px) CHECK_FAIL(dg_preprocess(px, w, h, c, in), DG_ERR_EMPTY, "no ink");
  free(px), px = NULL;
  free(b);
  /* an empty drawing: a transparent canvas, and white paper */
  static uint8_t canvas[280 * 280 * 4];
  CHECK_FAIL(dg_preprocess(canvas, 280, 280, 4, in), DG_ERR_EMPTY, "no ink");
  memset(canvas, 255, sizeof canvas);
  CHECK_FAIL(dg_preprocess(canvas, 280, 280, 4, in), DG_ERR_EMPTY, "no ink");

  /* 20000 x 20000: a real PNG (1-bit, 90 KB), refused before decoding */
  pic huge = {20000, 20000, NULL, 'g'};
  b = gen_png(20000, 20000, 0, 1, pic_px, &huge, &n);
  CHECK(b && n < 200000);
  if (b)
    CHECK_FAIL(dg_image_decode(b, n, &px, &w, &h, &c), DG_ERR_FORMAT,
               "PNG image of 20000x20000 is too large (limits: 16384 per side");
  free(b);
  if (label < 0) return;

  /* 16-bit PNG of the digit: read as 8-bit, the right digit */
  pic d16 = {280, 280, digit, 'g'};
  b = gen_png(280, 280, 0, 16, pic_px, &d16, &n);
  if (b) CHECK_MSG(read_digit(b, n, &ch) == label && ch == 1, "16-bit PNG read as another digit");
  free(b);
  /* Adobe CMYK JPEG of the digit (black ink on the K plate): RGB, right digit */
  pic cmyk = {224, 224, digit, 'k'};
  b = gen_jpeg(224, 224, 4, pic_px, &cmyk, &n);
  if (b) CHECK_MSG(read_digit(b, n, &ch) == label && ch == 3, "CMYK JPEG read as another digit");
  free(b);
}

/* ---- regressions of fuzzing (and review) findings ---------------------------------------------- */

static void test_regressions(void) {
  uint8_t *px = (uint8_t *)1;
  int w = -1, h = -1, c = -1;
  /* stb_image's PNM header numbers overflowed an int (UB) */
  const char *p = "P5 99999999999999999999 1 255\n\x01";
  CHECK_FAIL(dg_image_decode(p, strlen(p), &px, &w, &h, &c), DG_ERR_FORMAT,
             "PNM image too large: a side of more than 4294967295 pixels");
  p = "P5 4294967296 1 255\n\x01";
  CHECK_FAIL(dg_image_decode(p, strlen(p), &px, &w, &h, &c), DG_ERR_FORMAT,
             "a side of more than 4294967295 pixels");
  p = "P5 4294967295 1 255\n\x01";
  CHECK_FAIL(dg_image_decode(p, strlen(p), &px, &w, &h, &c), DG_ERR_FORMAT,
             "PNM image of 4294967295x1 is too large");
  p = "P5888888888888888888888888\n6 4\n255\n";
  CHECK_FAIL(dg_image_decode(p, strlen(p), &px, &w, &h, &c), DG_ERR_FORMAT, "too large");
  p = "P6 2 2 65536\n0123456789ab";
  CHECK_FAIL(dg_image_decode(p, strlen(p), &px, &w, &h, &c), DG_ERR_FORMAT,
             "maximum value 65536 is not in 1..65535");
  p = "P5 2 2 0\n0123";
  CHECK_FAIL(dg_image_decode(p, strlen(p), &px, &w, &h, &c), DG_ERR_FORMAT,
             "maximum value 0");
  p = "P5 2 x 255\n0123";
  CHECK_FAIL(dg_image_decode(p, strlen(p), &px, &w, &h, &c), DG_ERR_FORMAT,
             "corrupt PNM image: the header");
  /* a JPEG behind 0xFF fill bytes skipped the Huffman table check */
  uint8_t *b = NULL;
  size_t n = 0;
  const char *f = dg_test_path("DIGITS_SRC",
                               "tests/fuzz/corpus/image/regress-jpeg-fill-bytes-huffman.jpg");
  CHECK_OK(dg_file_read(f, 1 << 20, &b, &n));
  if (b)
    CHECK_FAIL(dg_image_decode(b, n, &px, &w, &h, &c), DG_ERR_FORMAT,
               "a Huffman table has more than 256 symbols");
  free(b);
  /* a 429-byte BMP declaring 1792x8197 pixels decoded to a black picture
   * (stb fills missing rows with zeros; found by fuzzing as a slow input) */
  f = dg_test_path("DIGITS_SRC", "tests/fuzz/corpus/image/regress-bmp-missing-rows.bmp");
  CHECK_OK(dg_file_read(f, 1 << 20, &b, &n));
  if (b)
    CHECK_FAIL(dg_image_decode(b, n, &px, &w, &h, &c), DG_ERR_FORMAT,
               "truncated BMP: its pixels end at byte 58756218 but the file has 429");
  free(b);
  CHECK(px == (uint8_t *)1 && w == -1 && h == -1 && c == -1);

  /* a 120-byte model file naming a net of a billion weights made the loader
   * allocate and initialise 4 GB before finding its tensors missing */
  f = dg_test_path("DIGITS_SRC",
                   "tests/fuzz/corpus/model/regress-huge-arch-tiny-file.safetensors");
  CHECK_OK(dg_file_read(f, 1 << 20, &b, &n));
  dg_net *net = NULL;
  if (b)
    CHECK_FAIL(dg_model_load_mem(&net, b, n, NULL, NULL), DG_ERR_FORMAT,
               "has 1073741888 weights, more than the file's 0 bytes of tensor data");
  free(b);
  CHECK(net == NULL);

  /* a net whose layers' outputs add up to GBs per sample: a 200 KB model
   * file of 60 wide layers took 0.7 GB to predict one image */
  f = dg_test_path("DIGITS_SRC",
                   "tests/fuzz/corpus/model/regress-wide-activations.safetensors");
  CHECK_OK(dg_file_read(f, 1 << 20, &b, &n));
  if (b)
    CHECK_FAIL(dg_model_load_mem(&net, b, n, NULL, NULL), DG_ERR_FORMAT,
               "the layers' outputs add up to more than 32M values per sample");
  free(b);
  CHECK(net == NULL);
}

int main(void) {
  const char *m = dg_test_path("DIGITS_SRC", "models/default.safetensors");
  if (dg_model_load(&g_model, m, NULL, NULL) != DG_OK) {
    fprintf(stderr, "robust_sweep: %s\n", dg_last_error());
    g_model = NULL;
  }
  CHECK(g_model != NULL);
  RUN(test_model_sweep);
  RUN(test_idx_sweep);
  RUN(test_image_sweep);
  RUN(test_odd_images);
  RUN(test_regressions);
  dg_net_free(g_model);
  return dg_test_finish();
}
