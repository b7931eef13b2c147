/* test_image.c: decoding PNG, JPEG, BMP, GIF and PGM (fixtures made at test
 * time with stb_image_write, PGM by hand, GIF committed in tests/data), and
 * rejecting truncated, garbage, empty and absurdly large images without
 * allocating for them. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "digits.h"
#include "harness.h"
#include "stb_image_write.h"  /* declarations; the implementation is image.c */

#define W 37
#define H 23

static uint8_t g_px[W * H * 4];  /* a test pattern, (H, W, 4) */

static void make_pattern(void) {
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      uint8_t *p = g_px + 4 * (y * W + x);
      p[0] = (uint8_t)(x * 255 / (W - 1));
      p[1] = (uint8_t)(y * 255 / (H - 1));
      p[2] = (uint8_t)((x + y) % 2 ? 200 : 30);
      p[3] = (uint8_t)(x < W / 2 ? 255 : 128);
    }
}

static uint8_t *slurp(const char *path, size_t *len) {
  uint8_t *b = NULL;
  if (dg_file_read(path, 1 << 24, &b, len) != DG_OK) return NULL;
  return b;
}

static int spit(const char *path, const void *b, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(b, 1, n, f);
  return fclose(f) == 0 && w == n ? 0 : -1;
}

/* pattern reduced to c channels */
static void pattern_channels(uint8_t *out, int c) {
  for (int i = 0; i < W * H; i++)
    for (int k = 0; k < c; k++) {
      int src = c == 2 && k == 1 ? 3 : k;  /* gray + alpha */
      out[i * c + k] = g_px[i * 4 + src];
    }
}

static void test_png_roundtrip(void) {
  uint8_t buf[W * H * 4];
  for (int c = 1; c <= 4; c++) {
    pattern_channels(buf, c);
    char name[64];
    snprintf(name, sizeof name, "pattern%d.png", c);
    const char *path = dg_test_path("DIGITS_TMP", name);
    CHECK_OK(dg_image_write_png(path, buf, W, H, c));
    uint8_t *px = NULL;
    int w = 0, h = 0, ch = 0;
    CHECK_OK(dg_image_load(path, &px, &w, &h, &ch));
    CHECK(w == W && h == H && ch == c);
    if (px) CHECK(memcmp(px, buf, (size_t)W * H * c) == 0);
    free(px);
  }
  CHECK_FAIL(dg_image_write_png(dg_test_path("DIGITS_TMP", "x.png"), buf, 0,
                                5, 1),
             DG_ERR_ARG, "0x5");
  CHECK_FAIL(dg_image_write_png(dg_test_path("DIGITS_TMP", "x.png"), buf, 4,
                                4, 5),
             DG_ERR_ARG, "5 channels");
  CHECK_FAIL(dg_image_write_png(dg_test_path("DIGITS_TMP", "no/such/dir/x.png"),
                                buf, 4, 4, 1),
             DG_ERR_IO, "no/such/dir/x.png");
}

static void test_other_formats(void) {
  uint8_t rgb[W * H * 3];
  pattern_channels(rgb, 3);
  const char *bmp = dg_test_path("DIGITS_TMP", "pattern.bmp");
  const char *jpg = dg_test_path("DIGITS_TMP", "pattern.jpg");
  CHECK(stbi_write_bmp(bmp, W, H, 3, rgb) != 0);
  CHECK(stbi_write_jpg(jpg, W, H, 3, rgb, 95) != 0);
  uint8_t *px = NULL;
  int w, h, c;
  CHECK_OK(dg_image_load(bmp, &px, &w, &h, &c));
  CHECK(w == W && h == H && c == 3);
  if (px) CHECK(memcmp(px, rgb, sizeof rgb) == 0);
  free(px);
  px = NULL;
  CHECK_OK(dg_image_load(jpg, &px, &w, &h, &c));
  CHECK(w == W && h == H && c == 3);
  if (px) {
    /* lossy: close on average */
    double d = 0;
    for (size_t i = 0; i < sizeof rgb; i++) d += abs(px[i] - rgb[i]);
    d /= sizeof rgb;
    CHECK_MSG(d < 12, "JPEG mean abs error %.2f", d);
  }
  free(px);

  /* binary PGM by hand, from memory */
  uint8_t pgm[64];
  int n = snprintf((char *)pgm, sizeof pgm, "P5\n# comment\n3 2\n255\n");
  for (int i = 0; i < 6; i++) pgm[n + i] = (uint8_t)(i * 40);
  px = NULL;
  CHECK_OK(dg_image_decode(pgm, (size_t)n + 6, &px, &w, &h, &c));
  CHECK(w == 3 && h == 2 && c == 1 && px && px[5] == 200);
  free(px);

  /* GIF: the committed hand-made fixture (tests/data/make_fixtures.sh) */
  px = NULL;
  CHECK_OK(dg_image_load(dg_test_path("DIGITS_TESTDATA", "tiny.gif"), &px, &w,
                         &h, &c));
  CHECK(w == 8 && h == 6 && c == 4);
  if (px) {
    /* corner is palette entry 1 (white), (1,1) is entry 2 (red) */
    CHECK(px[0] == 255 && px[1] == 255 && px[2] == 255 && px[3] == 255);
    const uint8_t *p = px + 4 * (1 * 8 + 1);
    CHECK(p[0] == 255 && p[1] == 0 && p[2] == 0);
  }
  free(px);

  /* the golden preprocessing input is a PGM too */
  px = NULL;
  CHECK_OK(dg_image_load(dg_test_path("DIGITS_TESTDATA",
                                      "preprocess_input.pgm"),
                         &px, &w, &h, &c));
  CHECK(w == 64 && h == 48 && c == 1);
  free(px);
}

/* A 16-bit gray PNG written by hand (stored deflate blocks via zlib-free
 * "no compression" would need a CRC; use stb's zlib instead). */
static uint32_t crc32_(const uint8_t *p, size_t n, uint32_t c) {
  c = ~c;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return ~c;
}

static size_t put_chunk(uint8_t *o, const char *type, const uint8_t *d,
                        uint32_t n) {
  o[0] = (uint8_t)(n >> 24);
  o[1] = (uint8_t)(n >> 16);
  o[2] = (uint8_t)(n >> 8);
  o[3] = (uint8_t)n;
  memcpy(o + 4, type, 4);
  if (n) memcpy(o + 8, d, n);
  uint32_t c = crc32_(o + 4, n + 4, 0);
  o[8 + n] = (uint8_t)(c >> 24);
  o[9 + n] = (uint8_t)(c >> 16);
  o[10 + n] = (uint8_t)(c >> 8);
  o[11 + n] = (uint8_t)c;
  return 12 + n;
}

/* PNG with the given IHDR; the image data is a zlib stream of stored
 * blocks holding raw (filter 0) scanlines. */
static size_t make_png(uint8_t *o, uint32_t w, uint32_t h, int depth,
                       int color, const uint8_t *raw, size_t rawlen) {
  static const uint8_t sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  memcpy(o, sig, 8);
  size_t n = 8;
  uint8_t ihdr[13] = {(uint8_t)(w >> 24), (uint8_t)(w >> 16),
                      (uint8_t)(w >> 8),  (uint8_t)w,
                      (uint8_t)(h >> 24), (uint8_t)(h >> 16),
                      (uint8_t)(h >> 8),  (uint8_t)h,
                      (uint8_t)depth,     (uint8_t)color, 0, 0, 0};
  n += put_chunk(o + n, "IHDR", ihdr, 13);
  if (raw) {
    uint8_t z[1024];
    size_t zn = 0;
    z[zn++] = 0x78;
    z[zn++] = 0x01;
    z[zn++] = 1;  /* final stored block */
    z[zn++] = (uint8_t)rawlen;
    z[zn++] = (uint8_t)(rawlen >> 8);
    z[zn++] = (uint8_t)~rawlen;
    z[zn++] = (uint8_t)(~rawlen >> 8);
    memcpy(z + zn, raw, rawlen);
    zn += rawlen;
    uint32_t a = 1, b = 0;  /* adler32 */
    for (size_t i = 0; i < rawlen; i++) {
      a = (a + raw[i]) % 65521;
      b = (b + a) % 65521;
    }
    uint32_t ad = b << 16 | a;
    z[zn++] = (uint8_t)(ad >> 24);
    z[zn++] = (uint8_t)(ad >> 16);
    z[zn++] = (uint8_t)(ad >> 8);
    z[zn++] = (uint8_t)ad;
    n += put_chunk(o + n, "IDAT", z, (uint32_t)zn);
  }
  n += put_chunk(o + n, "IEND", NULL, 0);
  return n;
}

static void test_png16(void) {
  /* 3x2 gray, 16 bits: each row is a filter byte then 3 big-endian words */
  uint8_t raw[2 * 7];
  uint16_t vals[6] = {0, 0x1234, 0x8000, 0xFFFF, 0x00FF, 0xFF00};
  for (int y = 0; y < 2; y++) {
    raw[y * 7] = 0;
    for (int x = 0; x < 3; x++) {
      raw[y * 7 + 1 + 2 * x] = (uint8_t)(vals[y * 3 + x] >> 8);
      raw[y * 7 + 2 + 2 * x] = (uint8_t)vals[y * 3 + x];
    }
  }
  uint8_t png[512];
  size_t n = make_png(png, 3, 2, 16, 0, raw, sizeof raw);
  uint8_t *px = NULL;
  int w, h, c;
  CHECK_OK(dg_image_decode(png, n, &px, &w, &h, &c));
  CHECK(w == 3 && h == 2 && c == 1);
  if (px) {
    /* 16 -> 8 bits keeps the high byte */
    CHECK(px[0] == 0 && px[1] == 0x12 && px[2] == 0x80 && px[3] == 0xFF &&
          px[4] == 0x00 && px[5] == 0xFF);
  }
  free(px);
}

static void test_rejects(void) {
  uint8_t *px = (uint8_t *)1;
  int w = -3, h = -3, c = -3;
  /* zero-byte file */
  const char *empty = dg_test_path("DIGITS_TMP", "empty.png");
  CHECK(spit(empty, "", 0) == 0);
  CHECK_FAIL(dg_image_load(empty, &px, &w, &h, &c), DG_ERR_FORMAT,
             "empty.png: empty file (0 bytes)");
  /* missing file, directory */
  CHECK_FAIL(dg_image_load(dg_test_path("DIGITS_TMP", "nope.png"), &px, &w,
                           &h, &c),
             DG_ERR_IO, "nope.png");
  CHECK_FAIL(dg_image_load(dg_test_path("DIGITS_TMP", "."), &px, &w, &h, &c),
             DG_ERR_IO, "directory");
  /* garbage bytes */
  uint8_t junk[300];
  for (int i = 0; i < 300; i++) junk[i] = (uint8_t)(i * 7 + 3);
  CHECK_FAIL(dg_image_decode(junk, sizeof junk, &px, &w, &h, &c),
             DG_ERR_FORMAT, "not a readable image");
  /* truncated PNG and JPEG */
  size_t len = 0;
  uint8_t *b = slurp(dg_test_path("DIGITS_TMP", "pattern3.png"), &len);
  CHECK(b != NULL);
  if (b) {
    CHECK_FAIL(dg_image_decode(b, len / 2, &px, &w, &h, &c), DG_ERR_FORMAT,
               "image");
    CHECK_FAIL(dg_image_decode(b, 20, &px, &w, &h, &c), DG_ERR_FORMAT,
               "image");
    free(b);
  }
  b = slurp(dg_test_path("DIGITS_TMP", "pattern.bmp"), &len);
  if (b) {
    CHECK_FAIL(dg_image_decode(b, 30, &px, &w, &h, &c), DG_ERR_FORMAT,
               "image");
    free(b);
  }
  /* huge declared dimensions: headers only, rejected before decoding */
  uint8_t png[256];
  size_t n = make_png(png, 100000, 100000, 8, 0, NULL, 0);
  CHECK_FAIL(dg_image_decode(png, n, &px, &w, &h, &c), DG_ERR_FORMAT,
             "too large");
  n = make_png(png, 16000, 16000, 8, 6, NULL, 0);  /* under 16384 per side */
  CHECK_FAIL(dg_image_decode(png, n, &px, &w, &h, &c), DG_ERR_FORMAT,
             "too large");
  const char *pgm = "P5\n100000 100000\n255\n";
  CHECK_FAIL(dg_image_decode(pgm, strlen(pgm), &px, &w, &h, &c),
             DG_ERR_FORMAT, "too large");
  pgm = "P5\n16000 16000\n255\n";  /* 256 Mpixels: over the pixel cap */
  CHECK_FAIL(dg_image_decode(pgm, strlen(pgm), &px, &w, &h, &c),
             DG_ERR_FORMAT, "16000x16000 is too large");
  /* a valid header with too little data */
  pgm = "P5\n30 30\n255\nabc";
  CHECK_FAIL(dg_image_decode(pgm, strlen(pgm), &px, &w, &h, &c),
             DG_ERR_FORMAT, "cannot decode 30x30");
  CHECK_FAIL(dg_image_decode(NULL, 5, &px, &w, &h, &c), DG_ERR_ARG, "null");
  /* outputs untouched on failure */
  CHECK(px == (uint8_t *)1 && w == -3 && h == -3 && c == -3);
}

/* Decoded images feed the preprocessor: a PNG of an RGBA canvas drawing. */
static void test_decode_preprocess(void) {
  static uint8_t canvas[120 * 100 * 4];
  memset(canvas, 0, sizeof canvas);  /* transparent */
  for (int y = 20; y < 90; y++)
    for (int x = 55; x < 65; x++) canvas[4 * (y * 120 + x) + 3] = 255;
  const char *path = dg_test_path("DIGITS_TMP", "one.png");
  CHECK_OK(dg_image_write_png(path, canvas, 120, 100, 4));
  uint8_t *px = NULL;
  int w, h, c;
  CHECK_OK(dg_image_load(path, &px, &w, &h, &c));
  if (!px) return;
  float out[784];
  CHECK_OK(dg_preprocess(px, w, h, c, out));
  free(px);
  double m = 0, my = 0;
  for (int i = 0; i < 784; i++) {
    m += out[i];
    my += out[i] * (i / 28);
  }
  CHECK_MSG(m > 20 && fabs(my / m - 14) <= 0.5 + 1e-6, "mass %.2f, row centre %.2f",
            m, my / m);
}

int main(void) {
  make_pattern();
  mkdir(dg_test_path("DIGITS_TMP", ""), 0755);
  RUN(test_png_roundtrip);
  RUN(test_other_formats);
  RUN(test_png16);
  RUN(test_rejects);
  RUN(test_decode_preprocess);
  return dg_test_finish();
}
