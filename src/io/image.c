/* image.c: image files in and out (native builds only), through Debian's
 * header-only stb_image / stb_image_write, whose implementations live here.
 *
 * Decoding asks stbi_info_from_memory for the dimensions first and checks
 * them against DG_IMAGE_MAX_DIM / DG_IMAGE_MAX_PIXELS before anything is
 * decoded, so a small file declaring 100000x100000 pixels costs nothing.
 * stb_image itself is also built with STBI_MAX_DIMENSIONS and only the
 * formats we need (PNG, JPEG, BMP, GIF, PNM), which keeps its attack surface
 * small. 16-bit PNGs come out as 8-bit. A JPEG's EXIF orientation (a
 * phone's way of saying "this photo was taken sideways") is read by a small
 * bounds-checked TIFF reader and applied while the pixels are copied out of
 * stb, so every caller gets the picture upright, as a browser shows it.
 * Define DG_NO_STB_IMAGE (the WASM build, where the browser decodes images)
 * to compile this file to nothing.
 */
#ifndef DG_NO_STB_IMAGE

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wtype-limits"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#endif
#endif

#define STB_IMAGE_IMPLEMENTATION
#define STBI_MAX_DIMENSIONS DG_IMAGE_MAX_DIM
#define STBI_NO_STDIO
#define STBI_FAILURE_USERMSG
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_PNM
#include "stb_image.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "stb_image_write.h"

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* largest image file we read: far above any sane PNG/JPEG of 64 Mpixels */
#define IMAGE_MAX_FILE ((size_t)256 << 20)

static const char *reason(void) {
  const char *r = stbi_failure_reason();
  return r ? r : "unknown error";
}

/* The offset just past a JPEG's start-of-image marker, or 0. stb_image
 * takes any number of 0xFF fill bytes before the D8 (a file of FF FF FF D8
 * is a JPEG to it), so the checks below must too: that path once let a bad
 * Huffman table past them (found by fuzzing). */
static size_t jpeg_soi_end(const uint8_t *p, size_t n) {
  size_t i = 1;
  if (n < 3 || p[0] != 0xFF) return 0;
  while (i < n && p[i] == 0xFF) i++;
  return i < n && p[i] == 0xD8 ? i + 1 : 0;
}

/* Which format the bytes claim to be (for messages and the checks below
 * that stb leaves out), or NULL. */
static const char *sniff(const uint8_t *p, size_t n) {
  if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) return "PNG";
  if (jpeg_soi_end(p, n)) return "JPEG";
  if (n >= 2 && p[0] == 'B' && p[1] == 'M') return "BMP";
  if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
    return "GIF";
  if (n >= 2 && p[0] == 'P' && (p[1] == '5' || p[1] == '6')) return "PNM";
  return NULL;
}

/* The header of a binary PNM (P5/P6): magic, width, height, maxval
 * (comments allowed), then exactly one whitespace byte before the pixels.
 * Debian's stb_image 2.27 reads these numbers into an int without an
 * overflow check (signed overflow, undefined behaviour, on a header like
 * "P5 99999999999 1 255": found by fuzzing), so they are read here first,
 * saturating, and checked before stb sees them. */
typedef struct {
  uint64_t w, h, maxval;
  size_t data;  /* offset of the first pixel byte */
} pnm_head;

/* 1 if p holds a well-formed header (values not yet range-checked). */
static int pnm_parse(const uint8_t *p, size_t n, pnm_head *hd) {
  uint64_t v[3];
  size_t i = 2;
  for (int field = 0; field < 3; field++) {
    for (;;) {  /* whitespace and comments */
      while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
                       p[i] == '\r' || p[i] == '\v' || p[i] == '\f'))
        i++;
      if (i < n && p[i] == '#') {
        while (i < n && p[i] != '\n' && p[i] != '\r') i++;
        continue;
      }
      break;
    }
    if (i >= n || p[i] < '0' || p[i] > '9') return 0;
    v[field] = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
      if (v[field] < ((uint64_t)1 << 40)) v[field] = v[field] * 10 + (p[i] - '0');
  }
  if (i >= n) return 0;
  hd->w = v[0], hd->h = v[1], hd->maxval = v[2];
  hd->data = i + 1;
  return 1;
}

/* Debian's stb_image 2.27 trusts the symbol counts of a JPEG Huffman table
 * (DHT) and writes past its 256-entry arrays when they sum to more (found
 * by fuzzing with UBSan; newer stb checks this). Walk the JPEG segments the
 * way stb does first and refuse such tables. Returns 0 if one is found. */
static int jpeg_tables_ok(const uint8_t *p, size_t n) {
  size_t i = jpeg_soi_end(p, n);
  while (i + 4 <= n) {
    if (p[i] != 0xFF) { i++; continue; }  /* stb resyncs on the next 0xFF */
    uint8_t m = p[i + 1];
    if (m == 0xFF) { i++; continue; }  /* fill byte */
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { i += 2; continue; }
    if (m == 0xD9) return 1;  /* end of image */
    size_t len = (size_t)p[i + 2] << 8 | p[i + 3];
    if (len < 2) return 1;
    size_t end = i + 2 + len;
    if (end > n) end = n;
    if (m == 0xC4) {
      size_t j = i + 4;
      while (j < end) {
        if (j + 17 > end) return 0;
        unsigned sum = 0;
        for (int k = 1; k <= 16; k++) sum += p[j + k];
        /* too many symbols, or a table running past its segment (where
         * stb would go on reading the next segment as table data) */
        if (sum > 256 || j + 17 + sum > end) return 0;
        j += 17 + sum;
      }
    }
    i = i + 2 + len;
    if (m == 0xDA) {  /* entropy-coded data: skip to the next real marker */
      while (i + 1 < n && !(p[i] == 0xFF && p[i + 1] != 0 &&
                            !(p[i + 1] >= 0xD0 && p[i + 1] <= 0xD7)))
        i++;
    }
  }
  return 1;
}

/* Whether a JPEG is all there, walking its segments as stb does (resync on
 * the next 0xFF, entropy-coded data skipped to the next real marker): NULL
 * if an end-of-image marker is reached, else what is missing. stb itself
 * refuses such files too, but with a message that does not say "cut short"
 * ("Corrupt JPEG", or a Huffman table "past its segment", or even "Not a
 * PNG", the last format it tried). A file whose structure is broken in
 * other ways passes here and is left to the other checks and to stb. */
static const char *jpeg_truncated(const uint8_t *p, size_t n) {
  size_t i = jpeg_soi_end(p, n);
  int scan = 0;
  while (i + 2 <= n) {
    if (p[i] != 0xFF) { i++; continue; }
    uint8_t m = p[i + 1];
    if (m == 0xFF) { i++; continue; }
    if (m == 0xD9) return NULL;
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { i += 2; continue; }
    if (i + 4 > n) break;
    size_t len = (size_t)p[i + 2] << 8 | p[i + 3];
    if (len < 2) return NULL;  /* malformed, not short: stb says so */
    if (len > n - i - 2) return "a segment runs past the end of the file";
    i += 2 + len;
    if (m == 0xDA) {
      scan = 1;
      while (i + 1 < n && !(p[i] == 0xFF && p[i + 1] != 0 &&
                            !(p[i + 1] >= 0xD0 && p[i + 1] <= 0xD7)))
        i++;
    }
  }
  return scan ? "the file ends inside the image data, before its end marker"
              : "the file ends before the image data";
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

/* ---- EXIF orientation ---------------------------------------------------- */

/* The TIFF structure inside a JPEG's APP1 "Exif\0\0" segment: a byte-order
 * mark ("II" little-endian, "MM" big-endian), 42, the offset of IFD0, then
 * IFD0: a 16-bit entry count and 12-byte entries (tag, type, count, value).
 * Orientation is tag 0x0112, one SHORT, 1..8. Everything here comes from
 * the file: every offset is checked against the segment's end before it is
 * read, nothing is followed twice (IFD0 only, no chains), and anything odd
 * means "no orientation", never an error: the picture itself is fine. */
typedef struct {
  const uint8_t *p;  /* the TIFF header */
  size_t n;          /* bytes from p to the end of the APP1 segment */
  int le;            /* little-endian ("II") */
} tiff_view;

static unsigned tiff16(const tiff_view *t, size_t at) {
  const uint8_t *q = t->p + at;
  return t->le ? (unsigned)q[0] | (unsigned)q[1] << 8
               : (unsigned)q[0] << 8 | (unsigned)q[1];
}

static uint32_t tiff32(const tiff_view *t, size_t at) {
  const uint8_t *q = t->p + at;
  return t->le ? le32(q) : be32(q);
}

/* Orientation 1..8 from a TIFF block of n bytes, or 0. */
static int tiff_orientation(const uint8_t *p, size_t n) {
  tiff_view t = {p, n, 0};
  if (n < 8) return 0;
  if (p[0] == 'I' && p[1] == 'I') t.le = 1;
  else if (!(p[0] == 'M' && p[1] == 'M')) return 0;
  if (tiff16(&t, 2) != 42) return 0;
  uint32_t ifd = tiff32(&t, 4);
  if (ifd < 8 || ifd > n || n - ifd < 2) return 0;
  unsigned count = tiff16(&t, ifd);
  size_t e = (size_t)ifd + 2;
  for (unsigned i = 0; i < count && n - e >= 12; i++, e += 12) {
    if (tiff16(&t, e) != 0x0112) continue;
    /* SHORT, one value, stored in the first two bytes of the value field */
    if (tiff16(&t, e + 2) != 3 || tiff32(&t, e + 4) != 1) return 0;
    unsigned v = tiff16(&t, e + 8);
    return v >= 1 && v <= 8 ? (int)v : 0;
  }
  return 0;
}

int dg_image_exif_orientation(const void *buf, size_t len) {
  const uint8_t *p = buf;
  if (!p) return 1;
  size_t i = jpeg_soi_end(p, len);
  if (!i) return 1;
  /* the segments before the image data (SOS); APP1 may come anywhere
   * among them, and only the first Exif one counts */
  while (i + 4 <= len) {
    if (p[i] != 0xFF) return 1;  /* not a marker where one must be */
    uint8_t m = p[i + 1];
    if (m == 0xFF) { i++; continue; }  /* fill byte */
    if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { i += 2; continue; }
    if (m == 0xD9 || m == 0xDA) return 1;  /* end of image, start of scan */
    size_t seg = (size_t)p[i + 2] << 8 | p[i + 3];
    if (seg < 2 || seg > len - i - 2) return 1;  /* runs past the file */
    const uint8_t *d = p + i + 4;
    size_t dn = seg - 2;
    if (m == 0xE1 && dn >= 6 && memcmp(d, "Exif\0\0", 6) == 0) {
      int o = tiff_orientation(d + 6, dn - 6);
      return o ? o : 1;
    }
    i += 2 + seg;
  }
  return 1;
}

/* Copy w x h pixels of c channels from src (as stored) to dst upright for
 * EXIF orientation o (dst is h x w for 5..8). For an upright pixel (X, Y)
 * the stored one is: 1 (X, Y); 2 mirrored (w-1-X, Y); 3 turned 180
 * (w-1-X, h-1-Y); 4 flipped (X, h-1-Y); 5 transposed (Y, X); 6 turned 90
 * clockwise to view (Y, h-1-X); 7 transverse (w-1-Y, h-1-X); 8 turned 90
 * counter-clockwise to view (w-1-Y, X). */
static void orient_copy(uint8_t *dst, const uint8_t *src, int w, int h, int c,
                        int o) {
  const int ow = o >= 5 ? h : w, oh = o >= 5 ? w : h;
  if (o < 2 || o > 8) {
    memcpy(dst, src, (size_t)w * h * c);
    return;
  }
  for (int Y = 0; Y < oh; Y++) {
    uint8_t *d = dst + (size_t)Y * ow * c;
    for (int X = 0; X < ow; X++, d += c) {
      int x, y;
      switch (o) {
        case 2: x = w - 1 - X, y = Y; break;
        case 3: x = w - 1 - X, y = h - 1 - Y; break;
        case 4: x = X, y = h - 1 - Y; break;
        case 5: x = Y, y = X; break;
        case 6: x = Y, y = h - 1 - X; break;
        case 7: x = w - 1 - Y, y = h - 1 - X; break;
        default: x = w - 1 - Y, y = X; break;  /* 8 */
      }
      memcpy(d, src + ((size_t)y * w + x) * c, (size_t)c);
    }
  }
}

/* PNG chunks must fit in the file: stb would otherwise grow its buffer to
 * a chunk's declared length (up to 2 GB) before noticing the data is not
 * there. Returns 0 if a chunk runs past the end. */
static int png_chunks_fit(const uint8_t *p, size_t n) {
  size_t i = 8;
  while (i + 8 <= n) {
    uint32_t len = be32(p + i);
    if ((uint64_t)len + 12 > n - i) return 0;
    if (memcmp(p + i + 4, "IEND", 4) == 0) return 1;
    i += 12 + (size_t)len;
  }
  return 1;  /* stb reports a missing IEND / short chunk header itself */
}

/* A GIF's first image (the one stb_image decodes) must be all there: stb
 * ends its LZW decoding quietly at the end of the buffer and returns the
 * picture with the missing part blank (found by the truncation sweep in
 * tests/robust/sweep.c). Walks the blocks up to the end of the first
 * image's data. Returns 0 if the file ends before that. */
static int gif_complete(const uint8_t *p, size_t n) {
  size_t i = 13;  /* signature (6) and logical screen descriptor (7) */
  if (n < i) return 0;
  if (p[10] & 0x80) i += 3 * ((size_t)2 << (p[10] & 7));  /* global colours */
  for (;;) {
    if (i >= n) return 0;
    uint8_t b = p[i++];
    if (b == 0x21) {          /* extension: label, then sub-blocks */
      i++;
    } else if (b == 0x2C) {   /* image: descriptor, colours, code size */
      if (i + 9 > n) return 0;
      uint8_t flags = p[i + 8];
      i += 9;
      if (flags & 0x80) i += 3 * ((size_t)2 << (flags & 7));
      i++;
    } else {
      return 1;  /* trailer or garbage: stb says what is wrong */
    }
    for (;;) {                /* data sub-blocks up to a zero length */
      if (i >= n) return 0;
      uint8_t len = p[i++];
      if (len == 0) break;
      i += len;
    }
    if (b == 0x2C) return 1;
  }
}

/* Bytes an uncompressed BMP needs up to the end of its last pixel row
 * (rows padded to 4 bytes, starting at the header's data offset), or 0 if
 * the header is not one stb decodes (stb then says why). stb fills the
 * pixels of missing rows with zeros: a 429-byte file declaring 1792x8197
 * pixels decoded to a black picture, read as a "2" (found by fuzzing: it
 * was slow). The file-size field of the header is no help: it is part of
 * what is being checked. */
static uint64_t bmp_need(const uint8_t *p, size_t n) {
  if (n < 26) return 0;
  uint32_t hsz = le32(p + 14);
  uint64_t w, h, bpp, compress = 0;
  if (hsz == 12) {
    w = (uint64_t)(p[18] | p[19] << 8);
    h = (uint64_t)(p[20] | p[21] << 8);
    bpp = (uint64_t)(p[24] | p[25] << 8);
  } else {
    if (n < 34) return 0;
    w = le32(p + 18);
    int64_t sh = (int32_t)le32(p + 22);
    h = (uint64_t)(sh < 0 ? -sh : sh);
    bpp = (uint64_t)(p[28] | p[29] << 8);
    compress = le32(p + 30);
  }
  if (compress != 0 && compress != 3) return 0;
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32) return 0;
  if (w == 0 || h == 0 || w > DG_IMAGE_MAX_DIM || h > DG_IMAGE_MAX_DIM) return 0;
  uint64_t stride = (w * bpp + 31) / 32 * 4, row = (w * bpp + 7) / 8;
  return (uint64_t)le32(p + 10) + stride * (h - 1) + row;
}

static int too_large(const char *name, const char *fmt, uint64_t w,
                     uint64_t h) {
  return dg_error(DG_ERR_FORMAT,
                  "%s: %s image of %llux%llu is too large (limits: %d per "
                  "side, %u pixels)",
                  name, fmt, (unsigned long long)w, (unsigned long long)h,
                  DG_IMAGE_MAX_DIM, (unsigned)DG_IMAGE_MAX_PIXELS);
}

static int dims_ok(uint64_t w, uint64_t h) {
  return w >= 1 && h >= 1 && w <= DG_IMAGE_MAX_DIM && h <= DG_IMAGE_MAX_DIM &&
         w * h <= DG_IMAGE_MAX_PIXELS;
}

/* What stb would not say, or would say too late, checked on the file's
 * own header before stb sees it: a PNG's dimensions and chunks, a PNM's
 * header numbers (into *pnm), a GIF's first image, a BMP's size, a JPEG's
 * end and Huffman tables. */
static int check_header(const char *name, const uint8_t *p, size_t len,
                        const char *fmt, pnm_head *pnm) {
  /* PNG: the IHDR dimensions, before stb (whose own checks would be
   * reported as "unknown type" by stbi_info) */
  if (fmt && strcmp(fmt, "PNG") == 0 && len >= 24 &&
      memcmp(p + 12, "IHDR", 4) == 0 && !dims_ok(be32(p + 16), be32(p + 20)))
    return too_large(name, fmt, be32(p + 16), be32(p + 20));
  if (fmt && strcmp(fmt, "PNG") == 0 && !png_chunks_fit(p, len))
    return dg_error(DG_ERR_FORMAT,
                    "%s: truncated PNG: a chunk runs past the end of the "
                    "file (%zu bytes)",
                    name, len);
  /* PNM: the header's numbers, before stb parses them */
  if (fmt && strcmp(fmt, "PNM") == 0) {
    if (!pnm_parse(p, len, pnm))
      return dg_error(DG_ERR_FORMAT,
                      "%s: corrupt PNM image: the header is not \"P5|P6 width "
                      "height maxval\"",
                      name);
    if (pnm->w > UINT32_MAX || pnm->h > UINT32_MAX)
      return dg_error(DG_ERR_FORMAT,
                      "%s: PNM image too large: a side of more than %lu pixels "
                      "(limits: %d per side, %u pixels)",
                      name, (unsigned long)UINT32_MAX, DG_IMAGE_MAX_DIM,
                      (unsigned)DG_IMAGE_MAX_PIXELS);
    if (!dims_ok(pnm->w, pnm->h)) return too_large(name, fmt, pnm->w, pnm->h);
    if (pnm->maxval < 1 || pnm->maxval > 65535)
      return dg_error(DG_ERR_FORMAT,
                      "%s: corrupt PNM image: maximum value %llu is not in "
                      "1..65535",
                      name, (unsigned long long)pnm->maxval);
  }
  if (fmt && strcmp(fmt, "GIF") == 0 && !gif_complete(p, len))
    return dg_error(DG_ERR_FORMAT,
                    "%s: truncated GIF: the file ends inside its first image "
                    "(%zu bytes)",
                    name, len);
  /* BMP: the header's file size (stb fills missing pixels with zeros) */
  if (fmt && strcmp(fmt, "BMP") == 0 && len >= 6) {
    uint32_t fs = (uint32_t)p[2] | (uint32_t)p[3] << 8 |
                  (uint32_t)p[4] << 16 | (uint32_t)p[5] << 24;
    if (fs > len)
      return dg_error(DG_ERR_FORMAT,
                      "%s: truncated BMP: the header says %lu bytes but the "
                      "file has %zu",
                      name, (unsigned long)fs, len);
    uint64_t need = bmp_need(p, len);
    if (need > len)
      return dg_error(DG_ERR_FORMAT,
                      "%s: truncated BMP: its pixels end at byte %llu but the "
                      "file has %zu",
                      name, (unsigned long long)need, len);
  }
  const char *cut = fmt && strcmp(fmt, "JPEG") == 0 ? jpeg_truncated(p, len) : NULL;
  if (cut)
    return dg_error(DG_ERR_FORMAT, "%s: truncated JPEG: %s (%zu bytes)", name,
                    cut, len);
  if (fmt && strcmp(fmt, "JPEG") == 0 && !jpeg_tables_ok(p, len))
    return dg_error(DG_ERR_FORMAT,
                    "%s: corrupt JPEG image: a Huffman table has more than "
                    "256 symbols or runs past its segment (or the file)",
                    name);
  return DG_OK;
}

/* stb's own look at the header (*iw, *ih, *ic), its failures named, the
 * size capped, and a PNM's pixel bytes counted (stb does not notice them
 * missing). */
static int check_info(const char *name, const void *buf, size_t len,
                      const char *fmt, const pnm_head *pnm, int *iw, int *ih,
                      int *ic) {
  if (!stbi_info_from_memory(buf, (int)len, iw, ih, ic)) {
    const char *r = reason();
    if (strstr(r, "too large") || strstr(r, "Very large"))
      return dg_error(DG_ERR_FORMAT,
                      "%s: %s image too large (limits: %d per side, %u "
                      "pixels): %s",
                      name, fmt ? fmt : "an", DG_IMAGE_MAX_DIM,
                      (unsigned)DG_IMAGE_MAX_PIXELS, r);
    if (fmt)
      return dg_error(DG_ERR_FORMAT, "%s: corrupt or unsupported %s image: %s",
                      name, fmt, r);
    return dg_error(DG_ERR_FORMAT,
                    "%s: not a readable image (PNG, JPEG, BMP, GIF or "
                    "binary PGM/PPM expected)",
                    name);
  }
  if (!dims_ok((uint64_t)*iw, (uint64_t)*ih))
    return too_large(name, fmt ? fmt : "an", (uint64_t)*iw, (uint64_t)*ih);
  /* PNM: stb does not notice missing pixel bytes */
  if (fmt && strcmp(fmt, "PNM") == 0) {
    if ((uint64_t)*iw != pnm->w || (uint64_t)*ih != pnm->h)
      return dg_error(DG_ERR_FORMAT,
                      "%s: corrupt PNM image: unreadable header (%dx%d vs "
                      "%llux%llu)",
                      name, *iw, *ih, (unsigned long long)pnm->w,
                      (unsigned long long)pnm->h);
    size_t need = (size_t)*iw * *ih * *ic * (pnm->maxval > 255 ? 2 : 1);
    if (len - pnm->data < need)
      return dg_error(DG_ERR_FORMAT,
                      "%s: cannot decode %dx%d PNM image: truncated: %zu "
                      "pixel bytes expected, %zu present",
                      name, *iw, *ih, need, len - pnm->data);
  }
  return DG_OK;
}

static int decode_named(const char *name, const void *buf, size_t len,
                        uint8_t **pixels, int *w, int *h, int *channels) {
  if (!buf || !pixels || !w || !h || !channels)
    return dg_error(DG_ERR_ARG, "image decode: null argument");
  if (len == 0) return dg_error(DG_ERR_FORMAT, "%s: empty file (0 bytes)", name);
  if (len > INT_MAX)
    return dg_error(DG_ERR_FORMAT, "%s: file too large (%zu bytes)", name, len);
  const uint8_t *p = buf;
  const char *fmt = sniff(p, len);
  pnm_head pnm = {0, 0, 0, 0};
  int iw = 0, ih = 0, ic = 0;
  int st = check_header(name, p, len, fmt, &pnm);
  if (st == DG_OK) st = check_info(name, buf, len, fmt, &pnm, &iw, &ih, &ic);
  if (st != DG_OK) return st;
  int dw = 0, dh = 0, dc = 0;
  stbi_uc *px = stbi_load_from_memory(buf, (int)len, &dw, &dh, &dc, 0);
  if (!px)
    return dg_error(DG_ERR_FORMAT, "%s: cannot decode %dx%d %s image: %s",
                    name, iw, ih, fmt ? fmt : "", reason());
  if (dw != iw || dh != ih || dc < 1 || dc > 4) {
    stbi_image_free(px);
    return dg_error(DG_ERR_FORMAT,
                    "%s: decoder disagrees with the header (%dx%dx%d vs "
                    "%dx%d)",
                    name, dw, dh, dc, iw, ih);
  }
  /* stbi_image_free is free() with the default allocator, as documented in
   * digits.h; copy into our own buffer anyway so that holds regardless,
   * turned upright on the way for a JPEG with an EXIF orientation */
  size_t n = (size_t)dw * dh * dc;
  uint8_t *out = malloc(n);
  if (!out) {
    stbi_image_free(px);
    return dg_error(DG_ERR_NOMEM, "%s: out of memory for a %dx%d image", name,
                    dw, dh);
  }
  int o = fmt && strcmp(fmt, "JPEG") == 0 ? dg_image_exif_orientation(p, len) : 1;
  orient_copy(out, px, dw, dh, dc, o);
  stbi_image_free(px);
  *pixels = out;
  *w = o >= 5 ? dh : dw;
  *h = o >= 5 ? dw : dh;
  *channels = dc;
  return DG_OK;
}

int dg_image_decode(const void *buf, size_t len, uint8_t **pixels, int *w,
                    int *h, int *channels) {
  return decode_named("image", buf, len, pixels, w, h, channels);
}

int dg_image_load(const char *path, uint8_t **pixels, int *w, int *h,
                  int *channels) {
  if (!path) return dg_error(DG_ERR_ARG, "image load: null path");
  uint8_t *buf = NULL;
  size_t len = 0;
  int st = dg_file_read(path, IMAGE_MAX_FILE, &buf, &len);
  if (st) return st;
  st = decode_named(path, buf, len, pixels, w, h, channels);
  free(buf);
  return st;
}

typedef struct {
  uint8_t *b;
  size_t n, cap;
  int failed;
} membuf;

static void membuf_put(void *ctx, void *data, int size) {
  membuf *m = ctx;
  if (m->failed || size <= 0) return;
  if (m->n + (size_t)size > m->cap) {
    size_t cap = m->cap ? m->cap : 4096;
    while (cap < m->n + (size_t)size) cap *= 2;
    uint8_t *nb = realloc(m->b, cap);
    if (!nb) {
      m->failed = 1;
      return;
    }
    m->b = nb;
    m->cap = cap;
  }
  memcpy(m->b + m->n, data, (size_t)size);
  m->n += (size_t)size;
}

/* Encode pixels as PNG (quality 0) or JPEG (quality 1..100) into memory,
 * then write the file atomically. */
static int write_encoded(const char *path, const uint8_t *pixels, int w,
                         int h, int channels, int quality) {
  const char *kind = quality ? "JPEG" : "PNG";
  if (!path || !pixels)
    return dg_error(DG_ERR_ARG, "%s write: null argument", kind);
  if (channels < 1 || channels > 4)
    return dg_error(DG_ERR_ARG, "%s: %d channels, expected 1..4", path,
                    channels);
  if (w < 1 || h < 1 || w > DG_IMAGE_MAX_DIM || h > DG_IMAGE_MAX_DIM ||
      (uint64_t)w * (uint64_t)h > DG_IMAGE_MAX_PIXELS)
    return dg_error(DG_ERR_ARG, "%s: cannot write a %dx%d image", path, w, h);
  membuf m = {NULL, 0, 0, 0};
  int ok = quality
               ? stbi_write_jpg_to_func(membuf_put, &m, w, h, channels, pixels,
                                        quality)
               : stbi_write_png_to_func(membuf_put, &m, w, h, channels, pixels,
                                        w * channels);
  if (!ok || m.failed || m.n == 0) {
    free(m.b);
    return dg_error(DG_ERR_NOMEM, "%s: %s encoding of %dx%d failed", path,
                    kind, w, h);
  }
  int st = dg_file_write_atomic(path, m.b, m.n);
  free(m.b);
  return st;
}

int dg_image_write_png(const char *path, const uint8_t *pixels, int w, int h,
                       int channels) {
  return write_encoded(path, pixels, w, h, channels, 0);
}

int dg_image_write_jpeg(const char *path, const uint8_t *pixels, int w, int h,
                        int channels, int quality) {
  if (quality < 1 || quality > 100)
    return dg_error(DG_ERR_ARG, "%s: JPEG quality %d, expected 1..100",
                    path ? path : "JPEG write", quality);
  return write_encoded(path, pixels, w, h, channels, quality);
}

#else
/* WASM build: images come from the browser's canvas, not from files. */
typedef int dg_image_c_is_empty;
#endif
