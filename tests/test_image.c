/* test_image.c: decoding PNG, JPEG, BMP, GIF and PGM (fixtures made at test
 * time with stb_image_write, PGM by hand, GIF committed in tests/data), and
 * rejecting truncated, garbage, empty and absurdly large images without
 * allocating for them; JPEG EXIF orientation (APP1 segments crafted here,
 * both byte orders, every orientation, and malformed ones ignored). */
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

/* ---- EXIF orientation --------------------------------------------------- */

/* A growable byte buffer for stbi_write_jpg_to_func and for splicing. */
typedef struct {
  uint8_t b[16384];
  size_t n;
} bytes;

static void bytes_put(void *ctx, void *data, int size) {
  bytes *m = ctx;
  if (size > 0 && m->n + (size_t)size <= sizeof m->b) {
    memcpy(m->b + m->n, data, (size_t)size);
    m->n += (size_t)size;
  }
}

/* The stored picture: 3 x 2 blocks of 8x8 pixels (24x16), letters
 *   a b c
 *   d e f
 * as grays 20, 60, 100, 140, 180, 220. Blocks on JPEG's 8x8 grid come back
 * within a few levels at quality 95. */
#define EB 8
static const int g_letter_gray[6] = {20, 60, 100, 140, 180, 220};

static void exif_jpeg(bytes *out, const int *grays) {
  static uint8_t px[2 * EB][3 * EB][3];
  for (int y = 0; y < 2 * EB; y++)
    for (int x = 0; x < 3 * EB; x++)
      for (int k = 0; k < 3; k++)
        px[y][x][k] = (uint8_t)grays[(y / EB) * 3 + x / EB];
  out->n = 0;
  CHECK(stbi_write_jpg_to_func(bytes_put, out, 3 * EB, 2 * EB, 3, px, 95));
  CHECK(out->n > 20 && out->b[0] == 0xFF && out->b[1] == 0xD8);
}

static void exif_base_jpeg(bytes *out) { exif_jpeg(out, g_letter_gray); }

/* How each orientation is shown (the EXIF chart): rows of letters. */
static const char *const g_shown[9] = {
    NULL,     "abc/def", "cba/fed", "fed/cba", "def/abc",
    "ad/be/cf", "da/eb/fc", "fc/eb/da", "cf/be/ad"};

/* An APP1 Exif segment (marker included) into seg; returns its size.
 * le: byte order; the IFD holds `pre` other entries, then orientation
 * (tag 0x0112) with the given type, count and value; ifd: the IFD0 offset
 * to write (0: the right one, 8); entries: the entry count to write (-1:
 * the real one); cut: bytes to drop from the end of the segment. */
typedef struct {
  int le, pre, type, count, value;
  uint32_t ifd;
  int entries, cut;
} exif_spec;

/* TIFF integers in the spec's byte order */
static size_t put16(uint8_t *t, size_t n, int le, unsigned v) {
  t[n] = (uint8_t)(le ? v : v >> 8);
  t[n + 1] = (uint8_t)(le ? v >> 8 : v);
  return n + 2;
}

static size_t put32(uint8_t *t, size_t n, int le, uint32_t v) {
  n = put16(t, n, le, le ? v & 0xFFFF : v >> 16);
  return put16(t, n, le, le ? v >> 16 : v & 0xFFFF);
}

static size_t exif_segment(uint8_t *seg, exif_spec e) {
  uint8_t t[256];
  size_t n = 0;
  t[n++] = e.le ? 'I' : 'M';
  t[n++] = e.le ? 'I' : 'M';
  n = put16(t, n, e.le, 42);
  n = put32(t, n, e.le, e.ifd ? e.ifd : 8);
  n = put16(t, n, e.le, e.entries >= 0 ? (unsigned)e.entries : (unsigned)e.pre + 1);
  for (int i = 0; i < e.pre; i++) {  /* other tags first (LONG 72) */
    n = put16(t, n, e.le, 0x011A + (unsigned)i);
    n = put16(t, n, e.le, 4);
    n = put32(t, n, e.le, 1);
    n = put32(t, n, e.le, 72);
  }
  n = put16(t, n, e.le, 0x0112);
  n = put16(t, n, e.le, (unsigned)e.type);
  n = put32(t, n, e.le, (uint32_t)e.count);
  n = put16(t, n, e.le, (unsigned)e.value);
  n = put16(t, n, e.le, 0);
  n = put32(t, n, e.le, 0);  /* no next IFD */
  n -= (size_t)e.cut;
  size_t len = 2 + 6 + n;
  seg[0] = 0xFF, seg[1] = 0xE1, seg[2] = (uint8_t)(len >> 8),
  seg[3] = (uint8_t)len;
  memcpy(seg + 4, "Exif\0\0", 6);
  memcpy(seg + 10, t, n);
  return 2 + len;
}

static exif_spec exif_ok(int value, int le) {
  exif_spec e = {le, 0, 3, 1, value, 0, -1, 0};
  return e;
}

/* jpeg with seg spliced in at byte `at` (2: right after SOI; 20: after
 * stb's APP0 JFIF segment) */
static void splice(bytes *out, const bytes *jpeg, size_t at, const uint8_t *seg,
                   size_t sn) {
  memcpy(out->b, jpeg->b, at);
  memcpy(out->b + at, seg, sn);
  memcpy(out->b + at + sn, jpeg->b + at, jpeg->n - at);
  out->n = jpeg->n + sn;
}

/* Decode and compare with the shown layout (rows of letters, '/'
 * between rows): each block's centre within JPEG's tolerance. */
static int check_shown(const bytes *jpeg, const char *layout, const char *what) {
  uint8_t *px = NULL;
  int w = 0, h = 0, c = 0, bad = 0;
  int st = dg_image_decode(jpeg->b, jpeg->n, &px, &w, &h, &c);
  CHECK_MSG(st == DG_OK, "%s: %s", what, dg_last_error());
  if (st != DG_OK) return 1;
  int cols = (int)(strchr(layout, '/') - layout);
  int rows = ((int)strlen(layout) + 1) / (cols + 1);
  CHECK_MSG(w == cols * EB && h == rows * EB, "%s: %dx%d, expected %dx%d", what,
            w, h, cols * EB, rows * EB);
  if (w == cols * EB && h == rows * EB)
    for (int r = 0; r < rows; r++)
      for (int q = 0; q < cols; q++) {
        int want = g_letter_gray[layout[r * (cols + 1) + q] - 'a'];
        /* the middle 4x4 of the block, all channels */
        for (int y = r * EB + 2; y < r * EB + 6; y++)
          for (int x = q * EB + 2; x < q * EB + 6; x++)
            for (int k = 0; k < c; k++)
              if (abs(px[((size_t)y * w + x) * c + k] - want) > 8) bad++;
      }
  CHECK_MSG(bad == 0, "%s: %d pixel values off the layout %s", what, bad, layout);
  free(px);
  return bad;
}

static void test_exif_orientations(void) {
  bytes base, j;
  exif_base_jpeg(&base);
  CHECK(dg_image_exif_orientation(base.b, base.n) == 1);
  check_shown(&base, g_shown[1], "no Exif");
  uint8_t seg[512];
  for (int le = 0; le <= 1; le++)
    for (int o = 1; o <= 8; o++)
      for (int at = 2; at <= 20; at += 18) {
        exif_spec e = exif_ok(o, le);
        e.pre = at == 20 ? 2 : 0;  /* other tags before it, too */
        size_t sn = exif_segment(seg, e);
        splice(&j, &base, (size_t)at, seg, sn);
        char what[96];
        snprintf(what, sizeof what, "orientation %d, %s, APP1 at byte %d", o,
                 le ? "II" : "MM", at);
        CHECK_MSG(dg_image_exif_orientation(j.b, j.n) == o, "%s: read %d", what,
                  dg_image_exif_orientation(j.b, j.n));
        check_shown(&j, g_shown[o], what);
      }
  /* through a file as well (dg_image_load) */
  size_t sn = exif_segment(seg, exif_ok(6, 1));
  splice(&j, &base, 2, seg, sn);
  const char *path = dg_test_path("DIGITS_TMP", "exif6.jpg");
  CHECK(spit(path, j.b, j.n) == 0);
  uint8_t *px = NULL;
  int w = 0, h = 0, c = 0;
  CHECK_OK(dg_image_load(path, &px, &w, &h, &c));
  CHECK(w == 2 * EB && h == 3 * EB);
  free(px);
}

/* Malformed Exif is ignored (the picture as stored), never an error. */
static void test_exif_malformed(void) {
  bytes base, j;
  exif_base_jpeg(&base);
  uint8_t seg[512];
  struct {
    const char *what;
    exif_spec e;
  } cases[] = {
      {"value 0", {1, 0, 3, 1, 0, 0, -1, 0}},
      {"value 9", {0, 0, 3, 1, 9, 0, -1, 0}},
      {"value 65535", {1, 0, 3, 1, 0xFFFF, 0, -1, 0}},
      {"type LONG", {1, 0, 4, 1, 6, 0, -1, 0}},
      {"type ASCII", {0, 0, 2, 1, 6, 0, -1, 0}},
      {"count 2", {1, 0, 3, 2, 6, 0, -1, 0}},
      {"count 0", {1, 0, 3, 0, 6, 0, -1, 0}},
      {"IFD offset past the segment", {1, 0, 3, 1, 6, 0xFFFFFFF0u, -1, 0}},
      {"IFD offset 2^31", {0, 0, 3, 1, 6, 0x80000000u, -1, 0}},
      {"IFD offset inside the header", {1, 0, 3, 1, 6, 4, -1, 0}},
      {"IFD offset at the last byte", {1, 0, 3, 1, 6, 25, -1, 0}},
      {"entry count 0", {1, 0, 3, 1, 6, 0, 0, 0}},
      {"entry count 65535, one entry there", {1, 1, 3, 1, 6, 0, 65535, 16}},
      {"entry cut in its value", {1, 0, 3, 1, 6, 0, -1, 7}},
      {"entry cut in its tag", {0, 0, 3, 1, 6, 0, -1, 15}},
      {"IFD count cut", {1, 0, 3, 1, 6, 0, -1, 17}},
      {"TIFF header only", {1, 0, 3, 1, 6, 0, -1, 18}},
      {"half a TIFF header", {0, 0, 3, 1, 6, 0, -1, 22}},
      {"no TIFF at all", {1, 0, 3, 1, 6, 0, -1, 26}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t sn = exif_segment(seg, cases[i].e);
    splice(&j, &base, 2, seg, sn);
    CHECK_MSG(dg_image_exif_orientation(j.b, j.n) == 1, "%s: read %d",
              cases[i].what, dg_image_exif_orientation(j.b, j.n));
    check_shown(&j, g_shown[1], cases[i].what);
  }
  /* wrong byte order mark, wrong magic, "Exif" without its two NULs */
  size_t sn = exif_segment(seg, exif_ok(6, 1));
  const struct {
    const char *what;
    size_t at;
    uint8_t v;
  } pokes[] = {{"byte order IM", 11, 'M'}, {"magic 43", 12, 43},
               {"Exif\\0x", 9, 'x'}, {"APP2, not APP1", 1, 0xE2}};
  for (size_t i = 0; i < sizeof pokes / sizeof pokes[0]; i++) {
    uint8_t s2[512];
    memcpy(s2, seg, sn);
    s2[pokes[i].at] = pokes[i].v;
    splice(&j, &base, 2, s2, sn);
    CHECK_MSG(dg_image_exif_orientation(j.b, j.n) == 1, "%s", pokes[i].what);
    check_shown(&j, g_shown[1], pokes[i].what);
  }
  /* an XMP APP1 first, then Exif: the Exif one counts; of two Exif
   * segments, the first */
  uint8_t xmp[64] = {0xFF, 0xE1, 0, 32};
  memcpy(xmp + 4, "http://ns.adobe.com/xap/1.0/\0\0", 30);
  bytes k;
  splice(&k, &base, 2, seg, sn);
  splice(&j, &k, 2, xmp, 34);
  CHECK(dg_image_exif_orientation(j.b, j.n) == 6);
  check_shown(&j, g_shown[6], "XMP, then Exif 6");
  uint8_t seg3[512];
  size_t sn3 = exif_segment(seg3, exif_ok(3, 0));
  splice(&j, &k, 2 + sn, seg3, sn3);
  CHECK(dg_image_exif_orientation(j.b, j.n) == 6);
  check_shown(&j, g_shown[6], "Exif 6, then Exif 3");
  /* an APP1 length past the end of the file: no orientation read; the
   * JPEG itself is broken */
  uint8_t cut[64];
  memcpy(cut, k.b, 2 + 12);
  cut[2 + 2] = 0x40;  /* length 0x40xx */
  CHECK(dg_image_exif_orientation(cut, 2 + 12) == 1);
  uint8_t *px = (uint8_t *)1;
  int w = -1, h = -1, c = -1;
  CHECK(dg_image_decode(cut, 2 + 12, &px, &w, &h, &c) == DG_ERR_FORMAT);
  CHECK(px == (uint8_t *)1 && w == -1);
  /* not a JPEG, nothing, NULL */
  CHECK(dg_image_exif_orientation("\x89PNG\r\n\x1a\n", 8) == 1);
  CHECK(dg_image_exif_orientation("", 0) == 1);
  CHECK(dg_image_exif_orientation(NULL, 100) == 1);
  /* every prefix of an Exif JPEG and every bit of its Exif segment
   * flipped: an orientation in 1..8 and a decode that succeeds or is
   * refused cleanly (under ASan in test_image_asan) */
  int range_bad = 0, status_bad = 0;
  for (size_t n = 0; n <= k.n; n++) {
    int o = dg_image_exif_orientation(k.b, n);
    if (o != 1 && o != 6) range_bad++;
  }
  for (size_t bit = 0; bit < sn * 8; bit++) {
    memcpy(j.b, k.b, k.n);
    j.n = k.n;
    j.b[2 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    int o = dg_image_exif_orientation(j.b, j.n);
    if (o < 1 || o > 8) range_bad++;
    uint8_t *q = NULL;
    int st = dg_image_decode(j.b, j.n, &q, &w, &h, &c);
    if (st != DG_OK && st != DG_ERR_FORMAT) status_bad++;
    if (st == DG_OK) {
      int ok_dims = (o >= 5 ? w == 2 * EB && h == 3 * EB : w == 3 * EB && h == 2 * EB);
      if (!ok_dims) status_bad++;
    }
    free(q);
  }
  CHECK_MSG(range_bad == 0, "%d orientations out of range", range_bad);
  CHECK_MSG(status_bad == 0, "%d decodes with a wrong status or size", status_bad);
}

/* A JPEG cut anywhere says so: "truncated JPEG" (stb's own messages for
 * these were "Corrupt JPEG", a Huffman table "past its segment", even "Not
 * a PNG"), and one with bytes after its end marker still reads. */
static void test_jpeg_truncated(void) {
  bytes j;
  exif_base_jpeg(&j);
  int bad = 0;
  uint8_t *px = NULL;
  int w, h, c;
  for (size_t k = 3; k < j.n; k++) {
    int st = dg_image_decode(j.b, k, &px, &w, &h, &c);
    if (!(st == DG_ERR_FORMAT && strstr(dg_last_error(), "truncated JPEG")) && bad++ < 3)
      CHECK_MSG(0, "cut at %zu of %zu: status %d: %s", k, j.n, st, dg_last_error());
  }
  CHECK_MSG(bad == 0, "%d cuts not reported as truncated", bad);
  CHECK_FAIL(dg_image_decode(j.b, j.n / 2, &px, &w, &h, &c), DG_ERR_FORMAT,
             "image: truncated JPEG: ");
  CHECK_FAIL(dg_image_decode(j.b, j.n - 1, &px, &w, &h, &c), DG_ERR_FORMAT,
             "inside the image data");
  memcpy(j.b + j.n, "trailing", 8);
  CHECK_OK(dg_image_decode(j.b, j.n + 8, &px, &w, &h, &c));
  free(px);
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

/* `test_image --exif-seeds DIR`: write the EXIF seeds of the image fuzz
 * corpus (tests/fuzz/corpus/image/exif-*.jpg) with the builders above. */
static int write_exif_seeds(const char *dir) {
  bytes base, j, k;
  /* one dark stroke on light paper (a "1"), so that the seeds also go on
   * into preprocessing as one shape */
  static const int stroke[6] = {235, 40, 235, 235, 40, 235};
  exif_jpeg(&base, stroke);
  uint8_t seg[512], seg2[512];
  struct {
    const char *name;
    exif_spec e;
    size_t at;
  } seeds[] = {
      {"exif-3-be.jpg", {0, 0, 3, 1, 3, 0, -1, 0}, 2},
      {"exif-6-le.jpg", {1, 0, 3, 1, 6, 0, -1, 0}, 2},
      {"exif-7-le-after-app0.jpg", {1, 2, 3, 1, 7, 0, -1, 0}, 20},
      {"exif-8-be.jpg", {0, 1, 3, 1, 8, 0, -1, 0}, 2},
      {"exif-bad-ifd-offset.jpg", {1, 0, 3, 1, 6, 0xFFFFFFF0u, -1, 0}, 2},
      {"exif-count-65535-cut.jpg", {1, 1, 3, 1, 6, 0, 65535, 16}, 2},
      {"exif-value-9.jpg", {0, 0, 3, 1, 9, 0, -1, 0}, 2},
  };
  int bad = 0;
  char path[4096];
  for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
    size_t sn = exif_segment(seg, seeds[i].e);
    splice(&j, &base, seeds[i].at, seg, sn);
    snprintf(path, sizeof path, "%s/%s", dir, seeds[i].name);
    bad |= spit(path, j.b, j.n);
  }
  /* an XMP APP1 before an Exif one (orientation 6) */
  uint8_t xmp[64] = {0xFF, 0xE1, 0, 32};
  memcpy(xmp + 4, "http://ns.adobe.com/xap/1.0/\0\0", 30);
  size_t sn = exif_segment(seg2, exif_ok(6, 0));
  splice(&k, &base, 2, seg2, sn);
  splice(&j, &k, 2, xmp, 34);
  snprintf(path, sizeof path, "%s/exif-xmp-then-exif-6.jpg", dir);
  bad |= spit(path, j.b, j.n);
  if (bad) fprintf(stderr, "test_image: cannot write the seeds into %s\n", dir);
  return bad ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--exif-seeds")) return write_exif_seeds(argv[2]);
  make_pattern();
  mkdir(dg_test_path("DIGITS_TMP", ""), 0755);
  RUN(test_png_roundtrip);
  RUN(test_other_formats);
  RUN(test_png16);
  RUN(test_rejects);
  RUN(test_exif_orientations);
  RUN(test_exif_malformed);
  RUN(test_jpeg_truncated);
  RUN(test_decode_preprocess);
  return dg_test_finish();
}
