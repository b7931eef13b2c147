/* gen_lib.c: see gen_lib.h. Small, self-written encoders: only what the
 * tests need (PNG with any size and depth, flat-block baseline JPEG with 1,
 * 3 or 4 components), so that odd inputs are made at test time. */
#include "gen_lib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "digits.h"
#include "io/bytes.h"

/* ---- bytes (io/bytes.h's buffer) ------------------------------------------ */

typedef dg_bytes bytes;

static void put(bytes *b, const void *s, size_t n) { dg_bytes_put(b, s, n); }

static void put8(bytes *b, int v) {
  uint8_t c = (uint8_t)v;
  put(b, &c, 1);
}

static void put16be(bytes *b, int v) {
  put8(b, v >> 8);
  put8(b, v);
}

static void put32be(bytes *b, uint32_t v) {
  uint8_t c[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                  (uint8_t)v};
  put(b, c, 4);
}

static uint8_t *finish(bytes *b, size_t *len) {
  if (b->oom) {
    free(b->p);
    return NULL;
  }
  *len = b->n;
  return b->p;
}

/* ---- PNG -------------------------------------------------------------------- */

static void png_chunk(bytes *b, const char *type, const uint8_t *data,
                      size_t n) {
  put32be(b, (uint32_t)n);
  put(b, type, 4);
  put(b, data, n);
  uLong crc = crc32(0, (const Bytef *)type, 4);
  if (n) crc = crc32(crc, data, (uInt)n);
  put32be(b, (uint32_t)crc);
}

/* Row y as PNG bytes: filter type 0 (none), then the packed samples. */
static void png_row(uint8_t *row, int w, int y, int ch, int depth,
                    gen_pixel_fn px, void *user) {
  size_t rowbytes = depth == 1 ? ((size_t)w + 7) / 8 : (size_t)w * ch * (depth / 8);
  memset(row, 0, rowbytes + 1);
  for (int x = 0; x < w; x++)
    for (int k = 0; k < ch; k++) {
      int v = px(x, y, k, user);
      size_t i = (size_t)x * ch + k;
      if (depth == 1) {
        if (v >= 128) row[1 + x / 8] |= (uint8_t)(0x80 >> (x % 8));
      } else if (depth == 8) {
        row[1 + i] = (uint8_t)v;
      } else {
        unsigned s = (unsigned)v * 257;
        row[1 + 2 * i] = (uint8_t)(s >> 8);
        row[2 + 2 * i] = (uint8_t)s;
      }
    }
}

uint8_t *gen_png(int w, int h, int color, int depth, gen_pixel_fn px,
                 void *user, size_t *len) {
  int ch = color == 0 ? 1 : color == 2 ? 3 : color == 4 ? 2 : 4;
  if (w < 1 || h < 1 || (depth != 1 && depth != 8 && depth != 16) ||
      (depth == 1 && color != 0))
    return NULL;
  size_t rowbytes = depth == 1 ? ((size_t)w + 7) / 8 : (size_t)w * ch * (depth / 8);
  uint8_t *row = calloc(rowbytes + 1, 1);
  bytes idat = {0}, out = {0};
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (!row || deflateInit(&zs, 6) != Z_OK) {
    free(row);
    return NULL;
  }
  uint8_t zbuf[1 << 15];
  int last_key = -1;
  for (int y = 0; y <= h && !idat.oom; y++) {
    if (y < h) {
      int key = px(-1, y, 0, user);
      if (key < 0 || key != last_key) png_row(row, w, y, ch, depth, px, user);
      last_key = key;
      zs.next_in = row;
      zs.avail_in = (uInt)(rowbytes + 1);
    }
    int flush = y < h ? Z_NO_FLUSH : Z_FINISH, zr;
    do {
      zs.next_out = zbuf;
      zs.avail_out = sizeof zbuf;
      zr = deflate(&zs, flush);
      put(&idat, zbuf, sizeof zbuf - zs.avail_out);
    } while (zs.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
  }
  deflateEnd(&zs);
  free(row);
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  put(&out, sig, 8);
  uint8_t ihdr[13] = {0};
  for (int i = 0; i < 4; i++) {
    ihdr[i] = (uint8_t)((uint32_t)w >> (24 - 8 * i));
    ihdr[4 + i] = (uint8_t)((uint32_t)h >> (24 - 8 * i));
  }
  ihdr[8] = (uint8_t)depth;
  ihdr[9] = (uint8_t)color;
  png_chunk(&out, "IHDR", ihdr, 13);
  png_chunk(&out, "IDAT", idat.p, idat.n);
  png_chunk(&out, "IEND", NULL, 0);
  int oom = idat.oom;
  free(idat.p);
  if (oom) out.oom = 1;
  return finish(&out, len);
}

/* ---- JPEG: flat 8x8 blocks, DC coefficients only ------------------------------- */

/* The DC luminance Huffman table of the JPEG standard (Annex K.3): code
 * lengths per category 0..11. */
static const uint8_t dc_bits[16] = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};

typedef struct {
  bytes *b;
  uint32_t acc;
  int nbits;
} bitw;

static void bits_put(bitw *w, uint32_t code, int n) {
  for (int i = n - 1; i >= 0; i--) {
    w->acc = w->acc << 1 | ((code >> i) & 1);
    if (++w->nbits == 8) {
      put8(w->b, (int)w->acc);
      if ((w->acc & 0xff) == 0xff) put8(w->b, 0);  /* byte stuffing */
      w->acc = 0, w->nbits = 0;
    }
  }
}

uint8_t *gen_jpeg(int w, int h, int n, gen_pixel_fn px, void *user,
                  size_t *len) {
  if (w < 8 || h < 8 || w % 8 || h % 8 || (n != 1 && n != 3 && n != 4)) return NULL;
  /* canonical codes of dc_bits */
  uint16_t code[12];
  uint8_t clen[12];
  {
    int c = 0, s = 0;
    for (int l = 1; l <= 16; l++, c <<= 1)
      for (int i = 0; i < dc_bits[l - 1]; i++, s++) code[s] = (uint16_t)c++, clen[s] = (uint8_t)l;
  }
  bytes b = {0};
  put16be(&b, 0xFFD8);                       /* SOI */
  if (n == 4) {                              /* Adobe APP14: transform 0 = CMYK */
    static const uint8_t adobe[12] = {'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0};
    put16be(&b, 0xFFEE);
    put16be(&b, 2 + 12);
    put(&b, adobe, 12);
  }
  put16be(&b, 0xFFDB);                       /* DQT: all ones */
  put16be(&b, 2 + 65);
  put8(&b, 0);
  for (int i = 0; i < 64; i++) put8(&b, 1);
  put16be(&b, 0xFFC0);                       /* SOF0 */
  put16be(&b, 8 + 3 * n);
  put8(&b, 8);
  put16be(&b, h);
  put16be(&b, w);
  put8(&b, n);
  for (int k = 0; k < n; k++) put8(&b, k + 1), put8(&b, 0x11), put8(&b, 0);
  put16be(&b, 0xFFC4);                       /* DHT: DC table 0 */
  put16be(&b, 2 + 1 + 16 + 12);
  put8(&b, 0x00);
  put(&b, dc_bits, 16);
  for (int i = 0; i < 12; i++) put8(&b, i);
  put16be(&b, 0xFFC4);                       /* DHT: AC table 0, only EOB */
  put16be(&b, 2 + 1 + 16 + 1);
  put8(&b, 0x10);
  put8(&b, 1);
  for (int i = 1; i < 16; i++) put8(&b, 0);
  put8(&b, 0x00);
  put16be(&b, 0xFFDA);                       /* SOS */
  put16be(&b, 6 + 2 * n);
  put8(&b, n);
  for (int k = 0; k < n; k++) put8(&b, k + 1), put8(&b, 0x00);
  put8(&b, 0), put8(&b, 63), put8(&b, 0);
  bitw bw = {&b, 0, 0};
  int pred[4] = {0};
  for (int by = 0; by < h / 8; by++)
    for (int bx = 0; bx < w / 8; bx++)
      for (int k = 0; k < n; k++) {
        int v = px(bx * 8, by * 8, k, user);
        int dc = 8 * (v - 128);  /* the DCT of a flat block, quantiser 1 */
        int diff = dc - pred[k], mag = diff < 0 ? -diff : diff, cat = 0;
        pred[k] = dc;
        while (mag >> cat) cat++;
        bits_put(&bw, code[cat], clen[cat]);
        if (cat) bits_put(&bw, (uint32_t)(diff < 0 ? diff - 1 : diff) & ((1u << cat) - 1), cat);
        bits_put(&bw, 0, 1);  /* EOB: the AC table's one code */
      }
  if (bw.nbits) bits_put(&bw, 0x7f, 8 - bw.nbits);  /* pad with ones */
  put16be(&b, 0xFFD9);                       /* EOI */
  return finish(&b, len);
}

/* ---- idx, gzip --------------------------------------------------------------- */

uint8_t *gen_gzip(const uint8_t *p, size_t n, size_t *len) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return NULL;
  uLong cap = deflateBound(&zs, (uLong)n) + 64;
  uint8_t *out = malloc(cap);
  if (!out) {
    deflateEnd(&zs);
    return NULL;
  }
  zs.next_in = (Bytef *)p;
  zs.avail_in = (uInt)n;
  zs.next_out = out;
  zs.avail_out = (uInt)cap;
  int zr = deflate(&zs, Z_FINISH);
  *len = zs.total_out;
  deflateEnd(&zs);
  if (zr != Z_STREAM_END) {
    free(out);
    return NULL;
  }
  return out;
}

uint8_t *gen_idx(int ndims, const uint32_t *dims, const uint8_t *data,
                 size_t nbytes, int gz, size_t *len) {
  bytes b = {0};
  put8(&b, 0), put8(&b, 0), put8(&b, 8), put8(&b, ndims);
  for (int i = 0; i < ndims; i++) put32be(&b, dims[i]);
  if (data) {
    put(&b, data, nbytes);
  } else {
    uint8_t z[256] = {0};
    for (size_t left = nbytes; left;) {
      size_t k = left < sizeof z ? left : sizeof z;
      put(&b, z, k);
      left -= k;
    }
  }
  size_t raw = 0;
  uint8_t *r = finish(&b, &raw);
  if (!r || !gz) {
    *len = raw;
    return r;
  }
  uint8_t *g = gen_gzip(r, raw, len);
  free(r);
  return g;
}

/* ---- models, MNIST -------------------------------------------------------------- */

uint8_t *gen_model(const char *arch, uint64_t seed, size_t *len) {
  dg_net *net = NULL;
  if (dg_net_new(&net, arch, seed) != DG_OK) return NULL;
  uint8_t *b = NULL;
  if (dg_model_save_mem(net, NULL, 0, &b, len) != DG_OK) b = NULL;
  dg_net_free(net);
  return b;
}

int gen_mnist_digit(const char *dir, int i, uint8_t px[784], int *label) {
  char path[1024];
  uint8_t *img = NULL, *lab = NULL;
  int n, h, w, nl, lh, lw;
  snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
  if (dg_idx_read(path, 3, &img, &n, &h, &w) != DG_OK) return -1;
  snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", dir);
  if (dg_idx_read(path, 1, &lab, &nl, &lh, &lw) != DG_OK || h != 28 || w != 28 ||
      i < 0 || i >= n || i >= nl) {
    free(img);
    free(lab);
    return -1;
  }
  memcpy(px, img + (size_t)i * 784, 784);
  *label = lab[i];
  free(img);
  free(lab);
  return 0;
}

uint8_t *gen_model_poke(const uint8_t *buf, size_t len, size_t at,
                        uint32_t bits) {
  if (len < 8) return NULL;
  uint64_t hl = 0;
  for (int i = 7; i >= 0; i--) hl = hl << 8 | buf[i];
  if (hl > len - 8 || at + 4 > len - 8 - hl) return NULL;
  uint8_t *c = malloc(len);
  if (!c) return NULL;
  memcpy(c, buf, len);
  for (int q = 0; q < 4; q++) c[8 + hl + at + q] = (uint8_t)(bits >> (8 * q));
  return c;
}

int gen_write(const char *path, const void *buf, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = len ? fwrite(buf, 1, len, f) : 0;
  return fclose(f) == 0 && w == len ? 0 : -1;
}
