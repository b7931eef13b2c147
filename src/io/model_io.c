/* model_io.c: model files, read and written as safetensors.
 *
 * Layout: an 8-byte little-endian header length, a JSON header padded with
 * spaces so that the data starts 8-byte aligned, then the raw little-endian
 * tensor bytes. The header's "__metadata__" object carries "format":
 * "digits", "format_version", "arch" (the spec string the net is rebuilt
 * from) and the net's own string metadata; every other key is a tensor:
 * first the net's tensors in net order (params, then state), then the extra
 * "__..." blobs of a checkpoint (optimizer moments, best weights).
 *
 * "crc32" in the metadata is the CRC-32 (IEEE, as zip and PNG), as 8 hex
 * digits, of the "arch" string followed by all tensor bytes: safetensors
 * has no checksum of its own, and a flipped bit in a weight, or in the
 * architecture ("input 28 28" -> "input 29 28" still loads), is otherwise
 * a valid file that computes something else. Saving always writes it;
 * loading checks it when present (files of other tools, and ours from
 * before it existed, have none).
 *
 * Saving is deterministic (same net, same bytes). Loading parses the header
 * with jsmn and validates everything before it hands out a net: structure,
 * format and version, architecture, dtypes, shapes against the architecture,
 * offsets (in range, sized right, no overlap, no gap, no trailing bytes) and
 * finiteness of every value. F32 is written; F32, F16 and I8 are read (F16
 * so that half-size models exported by other tools load too). An I8 tensor
 * (2+ dims, quantized per output channel: the last axis) comes with an F32
 * or F16 tensor "NAME.scale" of one value per channel, value = q x scale
 * (docs/model-format.md; models/compact.mjs writes them).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "io/bytes.h"
#include "nn/nn.h" /* dg_arch_parse: an architecture's size before building it */

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#define MIO_FORMAT "digits"
#define MIO_VERSION 1
#define MIO_MAX_HEADER 100000000u /* the safetensors reference cap */
#define MIO_MAX_TOKENS (1 << 20)
#define MIO_MAX_META 4096
#define MIO_MAX_DIMS 8
#define MIO_MAX_FILE ((size_t)1 << 30)
#define MIO_BIG_NET ((uint64_t)1 << 20) /* values: 4 MB of F32 */

/* ---- small helpers --------------------------------------------------------- */

static int host_is_le(void) {
  const uint32_t one = 1;
  uint8_t b;
  memcpy(&b, &one, 1);
  return b == 1;
}

/* The file's own keys, and the net's settings (written from the net). */
static int is_reserved_key(const char *k) {
  return !strcmp(k, "format") || !strcmp(k, "format_version") ||
         !strcmp(k, "arch") || !strcmp(k, "crc32") || !strcmp(k, "bn_eps") ||
         !strcmp(k, "input_mean") || !strcmp(k, "input_std");
}

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of n bytes, continuing
 * from crc (0 to start). The table is built per call: 2 KB of work, no
 * globals, the same natively and in WASM (where there is no zlib). */
static uint32_t crc32_of(uint32_t crc, const uint8_t *p, size_t n) {
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  crc = ~crc;
  for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/* The file's "crc32": of the architecture string, then all tensor bytes. */
static uint32_t model_crc(const char *arch, const uint8_t *data, size_t n) {
  return crc32_of(crc32_of(0, (const uint8_t *)arch, strlen(arch)), data, n);
}

/* dg_error() formats into the last-error buffer, so a message that wraps the
 * previous one must copy it first. */
static int wrap_error(int code, const char *ctx) {
  char prev[400];
  snprintf(prev, sizeof prev, "%s", dg_last_error());
  return dg_error(code, "%s: %s", ctx, prev);
}

/* ---- writing --------------------------------------------------------------- */

/* The header is written into a dg_bytes (io/bytes.h; oom sticky). */
typedef dg_bytes sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n) { dg_bytes_put(b, s, n); }

static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void sb_printf(sbuf *b, const char *fmt, ...) {
  char tmp[96];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof tmp) {
    b->oom = 1; /* only used for numbers; cannot happen */
    return;
  }
  sb_putn(b, tmp, (size_t)n);
}

/* A JSON string literal: quotes, backslashes and control characters escaped;
 * other bytes (UTF-8 included) pass through. */
static void sb_json_string(sbuf *b, const char *s) {
  sb_putn(b, "\"", 1);
  const char *run = s;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    const char *esc = NULL;
    char u[8];
    switch (c) {
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\t': esc = "\\t"; break;
      case '\b': esc = "\\b"; break;
      case '\f': esc = "\\f"; break;
      default:
        if (c < 0x20) {
          snprintf(u, sizeof u, "\\u%04x", c);
          esc = u;
        }
    }
    if (esc) {
      sb_putn(b, run, (size_t)(s - run));
      sb_puts(b, esc);
      run = s + 1;
    }
  }
  sb_putn(b, run, (size_t)(s - run));
  sb_putn(b, "\"", 1);
}

/* Index of the first NaN or infinity in x, or -1; *nan says which. Bit tests
 * rather than isnan() so that fast-math builds cannot optimise them away. */
static long long first_nonfinite(const float *x, size_t n, int *nan) {
  for (size_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &x[i], 4);
    if (((u >> 23) & 0xff) == 0xff) {
      *nan = (u & 0x7fffff) != 0;
      return (long long)i;
    }
  }
  return -1;
}

static void put_f32s(uint8_t *p, const float *x, size_t n) {
  if (host_is_le()) {
    if (n) memcpy(p, x, n * 4);
    return;
  }
  for (size_t i = 0; i < n; i++, p += 4) {
    uint32_t u;
    memcpy(&u, &x[i], 4);
    p[0] = (uint8_t)u, p[1] = (uint8_t)(u >> 8);
    p[2] = (uint8_t)(u >> 16), p[3] = (uint8_t)(u >> 24);
  }
}

static void sb_tensor(sbuf *b, const char *name, int ndim, const int *shape,
                      size_t n1, size_t begin, size_t end) {
  sb_putn(b, ",", 1);
  sb_json_string(b, name);
  sb_puts(b, ":{\"dtype\":\"F32\",\"shape\":[");
  if (shape)
    for (int d = 0; d < ndim; d++) sb_printf(b, d ? ",%d" : "%d", shape[d]);
  else
    sb_printf(b, "%zu", n1);
  sb_printf(b, "],\"data_offsets\":[%zu,%zu]}", begin, end);
}

/* The net's settings as metadata; %.9g gives back the same float. */
static void sb_settings(sbuf *h, const dg_net *net) {
  sb_printf(h, ",\"bn_eps\":\"%.9g\"", dg_net_bn_eps(net));
  float mean, std;
  if (dg_net_input_norm(net, &mean, &std))
    sb_printf(h, ",\"input_mean\":\"%.9g\",\"input_std\":\"%.9g\"", mean,
              std);
}

int dg_model_save_mem(const dg_net *net, const dg_blob *extra, int nextra,
                      uint8_t **buf, size_t *len) {
  if (!net || !buf || !len || nextra < 0 || (nextra > 0 && !extra))
    return dg_error(DG_ERR_ARG, "model save: null or negative argument");
  const char *arch = dg_net_arch(net);
  if (!arch || !*arch)
    return dg_error(DG_ERR_ARG, "model save: the net has no architecture");
  int nt = dg_net_tensor_count(net);
  size_t total = 0; /* data bytes */
  int nan;
  long long bad;
  for (int i = 0; i < nt; i++) {
    const dg_tensor *t = dg_net_tensor(net, i);
    if (!t || !t->name || !t->name[0] || (!t->data && t->size) || t->ndim < 0 ||
        t->ndim > 4)
      return dg_error(DG_ERR_ARG, "model save: tensor %d is malformed", i);
    size_t prod = 1;
    for (int d = 0; d < t->ndim; d++) prod *= (size_t)(t->shape[d] > 0 ? t->shape[d] : 0);
    if (prod != t->size)
      return dg_error(DG_ERR_ARG,
                      "model save: tensor \"%s\": shape holds %zu values, "
                      "size is %zu", t->name, prod, t->size);
    if ((bad = first_nonfinite(t->data, t->size, &nan)) >= 0)
      return dg_error(DG_ERR_NUMERIC,
                      "model save: tensor \"%s\": element %lld is %s", t->name,
                      bad, nan ? "NaN" : "infinite");
    if (t->size > (((size_t)-1) - total) / 4)
      return dg_error(DG_ERR_NOMEM, "model save: model too large");
    total += t->size * 4;
  }
  for (int i = 0; i < nextra; i++) {
    const dg_blob *e = &extra[i];
    if (!e->name || strncmp(e->name, "__", 2) || !e->name[2] ||
        !strcmp(e->name, "__metadata__"))
      return dg_error(DG_ERR_ARG,
                      "model save: extra blob %d: name \"%s\" must start with "
                      "\"__\" (and not be \"__metadata__\")",
                      i, e->name ? e->name : "(null)");
    if (!e->data && e->size)
      return dg_error(DG_ERR_ARG, "model save: extra blob \"%s\" has no data",
                      e->name);
    for (int j = 0; j < i; j++)
      if (!strcmp(extra[j].name, e->name))
        return dg_error(DG_ERR_ARG, "model save: extra blob \"%s\" given twice",
                        e->name);
    if ((bad = first_nonfinite(e->data, e->size, &nan)) >= 0)
      return dg_error(DG_ERR_NUMERIC,
                      "model save: extra blob \"%s\": element %lld is %s",
                      e->name, bad, nan ? "NaN" : "infinite");
    if (e->size > (((size_t)-1) - total) / 4)
      return dg_error(DG_ERR_NOMEM, "model save: model too large");
    total += e->size * 4;
  }

  /* header: metadata first, then tensors in order, offsets ascending */
  sbuf h = {0};
  sb_puts(&h, "{\"__metadata__\":{\"format\":\"" MIO_FORMAT "\",\"format_version\":");
  sb_printf(&h, "\"%d\",\"arch\":", MIO_VERSION);
  sb_json_string(&h, arch);
  sb_puts(&h, ",\"crc32\":\"");
  size_t crc_at = h.n; /* 8 hex digits, filled in once the data is written */
  sb_puts(&h, "00000000\"");
  sb_settings(&h, net);
  int nm = dg_net_meta_count(net);
  for (int i = 0; i < nm; i++) {
    const char *k = NULL, *v = NULL;
    if (dg_net_meta_at(net, i, &k, &v) != DG_OK || !k || !v) continue;
    if (is_reserved_key(k)) continue; /* written above from the net itself */
    sb_putn(&h, ",", 1);
    sb_json_string(&h, k);
    sb_putn(&h, ":", 1);
    sb_json_string(&h, v);
  }
  sb_putn(&h, "}", 1);
  size_t off = 0;
  for (int i = 0; i < nt; i++) {
    const dg_tensor *t = dg_net_tensor(net, i);
    sb_tensor(&h, t->name, t->ndim, t->shape, 0, off, off + t->size * 4);
    off += t->size * 4;
  }
  for (int i = 0; i < nextra; i++) {
    sb_tensor(&h, extra[i].name, 1, NULL, extra[i].size, off,
              off + extra[i].size * 4);
    off += extra[i].size * 4;
  }
  sb_putn(&h, "}", 1);
  while (!h.oom && (8 + h.n) % 8) sb_putn(&h, " ", 1);
  if (h.oom || h.n > MIO_MAX_HEADER || total > ((size_t)-1) - 8 - h.n) {
    free(h.p);
    return dg_error(DG_ERR_NOMEM, "model save: out of memory for the header");
  }

  size_t n = 8 + h.n + total;
  uint8_t *out = malloc(n);
  if (!out) {
    free(h.p);
    return dg_error(DG_ERR_NOMEM, "model save: out of memory (%zu bytes)", n);
  }
  uint64_t hl = h.n;
  for (int i = 0; i < 8; i++) out[i] = (uint8_t)(hl >> (8 * i));
  memcpy(out + 8, h.p, h.n);
  free(h.p);
  uint8_t *p = out + 8 + hl;
  for (int i = 0; i < nt; i++) {
    const dg_tensor *t = dg_net_tensor(net, i);
    put_f32s(p, t->data, t->size);
    p += t->size * 4;
  }
  for (int i = 0; i < nextra; i++) {
    put_f32s(p, extra[i].data, extra[i].size);
    p += extra[i].size * 4;
  }
  char hex[9];
  snprintf(hex, sizeof hex, "%08x", model_crc(arch, out + 8 + hl, total));
  memcpy(out + 8 + crc_at, hex, 8);
  *buf = out;
  *len = n;
  return DG_OK;
}

int dg_model_save(const dg_net *net, const char *path, const dg_blob *extra,
                  int nextra) {
  if (!path) return dg_error(DG_ERR_ARG, "model save: null path");
  uint8_t *buf;
  size_t len;
  int st = dg_model_save_mem(net, extra, nextra, &buf, &len);
  if (st != DG_OK) return wrap_error(st, path);
  st = dg_file_write_atomic(path, buf, len); /* its message names the path */
  free(buf);
  return st;
}

/* ---- reading: JSON tokens -------------------------------------------------- */

typedef struct mio_entry {
  char *name;
  char *dtype;
  int ndim;
  uint64_t shape[MIO_MAX_DIMS];
  uint64_t begin, end, nelem;
  int elsize;            /* 4 (F32), 2 (F16) or 1 (I8), after the dtype check */
  int order;             /* position in the file */
  const dg_tensor *t;    /* the net tensor it fills, or NULL for a blob */
  struct mio_entry *scale; /* an I8 tensor's scales ("NAME.scale") */
  int is_scale;          /* this is another entry's scales */
} mio_entry;

typedef struct {
  char *key, *value;
} mio_kv;

typedef struct {
  const char *js;        /* the header text (not NUL-terminated) */
  jsmntok_t *tok;
  int ntok;
  const uint8_t *data;   /* the tensor bytes after the header */
  size_t dlen;
  const char *arch;      /* the "arch" metadata (a value in kv) */
  mio_entry *e;
  int ne;
  mio_kv *kv;
  int nkv;
  dg_net *net;
  dg_blob *blobs;
  int nblobs;
} mio_load;

static void load_cleanup(mio_load *L) {
  for (int i = 0; i < L->ne; i++) free(L->e[i].name), free(L->e[i].dtype);
  for (int i = 0; i < L->nkv; i++) free(L->kv[i].key), free(L->kv[i].value);
  free(L->e);
  free(L->kv);
  free(L->tok);
  dg_net_free(L->net);
  dg_blobs_free(L->blobs, L->nblobs);
}

/* The index just past token i and everything inside it, or -1. */
static int tok_skip(const mio_load *L, int i) {
  int pending = 1;
  while (pending > 0) {
    if (i >= L->ntok || L->tok[i].size < 0) return -1;
    pending += L->tok[i].size - 1;
    i++;
  }
  return i;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int hex4(const char *s, int left) {
  if (left < 4) return -1;
  int v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(s[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/* Unescape JSON string token i into a new NUL-terminated string. The result
 * is never longer than the escaped text (\uXXXX is 6 bytes for at most 3 of
 * UTF-8, a surrogate pair 12 for 4). */
static int tok_string(const mio_load *L, int i, char **out, const char *what) {
  const jsmntok_t *t = &L->tok[i];
  if (t->type != JSMN_STRING)
    return dg_error(DG_ERR_FORMAT, "model header: %s is not a string", what);
  const char *s = L->js + t->start;
  int n = t->end - t->start;
  char *o = malloc((size_t)n + 1), *q = o;
  if (!o) return dg_error(DG_ERR_NOMEM, "model header: out of memory");
  const char *why = NULL;
  for (int k = 0; k < n && !why; k++) {
    unsigned char c = (unsigned char)s[k];
    if (c < 0x20) {
      why = "a raw control character";
      break;
    }
    if (c != '\\') {
      *q++ = (char)c;
      continue;
    }
    if (++k >= n) {
      why = "a dangling backslash";
      break;
    }
    switch (s[k]) {
      case '"': *q++ = '"'; break;
      case '\\': *q++ = '\\'; break;
      case '/': *q++ = '/'; break;
      case 'b': *q++ = '\b'; break;
      case 'f': *q++ = '\f'; break;
      case 'n': *q++ = '\n'; break;
      case 'r': *q++ = '\r'; break;
      case 't': *q++ = '\t'; break;
      case 'u': {
        long cp = hex4(s + k + 1, n - k - 1);
        if (cp < 0) {
          why = "a bad \\u escape";
          break;
        }
        k += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
          why = "a lone low surrogate";
          break;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          int lo = (k + 2 < n && s[k + 1] == '\\' && s[k + 2] == 'u')
                       ? hex4(s + k + 3, n - k - 3)
                       : -1;
          if (lo < 0xDC00 || lo > 0xDFFF) {
            why = "a lone high surrogate";
            break;
          }
          k += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (cp == 0) {
          why = "\\u0000";
          break;
        }
        if (cp < 0x80) {
          *q++ = (char)cp;
        } else if (cp < 0x800) {
          *q++ = (char)(0xC0 | (cp >> 6));
          *q++ = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          *q++ = (char)(0xE0 | (cp >> 12));
          *q++ = (char)(0x80 | ((cp >> 6) & 0x3F));
          *q++ = (char)(0x80 | (cp & 0x3F));
        } else {
          *q++ = (char)(0xF0 | (cp >> 18));
          *q++ = (char)(0x80 | ((cp >> 12) & 0x3F));
          *q++ = (char)(0x80 | ((cp >> 6) & 0x3F));
          *q++ = (char)(0x80 | (cp & 0x3F));
        }
        break;
      }
      default:
        why = "an unknown escape";
    }
  }
  if (why) {
    free(o);
    return dg_error(DG_ERR_FORMAT, "model header: %s contains %s", what, why);
  }
  *q = 0;
  *out = o;
  return DG_OK;
}

/* A non-negative JSON integer token (no sign, fraction or exponent). */
static int tok_u64(const mio_load *L, int i, uint64_t *v) {
  const jsmntok_t *t = &L->tok[i];
  if (t->type != JSMN_PRIMITIVE) return 0;
  const char *s = L->js + t->start;
  int n = t->end - t->start;
  if (n < 1 || n > 20 || (n > 1 && s[0] == '0')) return 0;
  uint64_t x = 0;
  for (int k = 0; k < n; k++) {
    if (s[k] < '0' || s[k] > '9') return 0;
    unsigned d = (unsigned)(s[k] - '0');
    if (x > (UINT64_MAX - d) / 10) return 0;
    x = x * 10 + d;
  }
  *v = x;
  return 1;
}

static void shape_str(char *b, size_t cap, const uint64_t *s, int nd) {
  size_t n = 0;
  n += (size_t)snprintf(b, cap, "[");
  for (int d = 0; d < nd && n < cap; d++)
    n += (size_t)snprintf(b + n, cap - n, d ? ",%llu" : "%llu",
                          (unsigned long long)s[d]);
  if (n < cap) snprintf(b + n, cap - n, "]");
}

/* ---- reading: header structure --------------------------------------------- */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}
static int cmp_entry_begin(const void *a, const void *b) {
  const mio_entry *x = *(const mio_entry *const *)a, *y = *(const mio_entry *const *)b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return x->order - y->order;
}

/* Names must be unique: n records of `stride` bytes, each with its name
 * (a char *) at byte `at`, what they are called in the error ("tensor").
 * Sorting a copy of the pointers keeps a header of many tensors n log n. */
static int check_unique(const void *recs, int n, size_t stride, size_t at,
                        const char *what) {
  const char **v = malloc(((size_t)n + 1) * sizeof *v), *dup = NULL;
  if (!v) return dg_error(DG_ERR_NOMEM, "model header: out of memory");
  for (int k = 0; k < n; k++)
    memcpy(&v[k], (const char *)recs + (size_t)k * stride + at, sizeof *v);
  qsort(v, (size_t)n, sizeof *v, cmp_str);
  for (int k = 1; k < n && !dup; k++)
    if (!strcmp(v[k - 1], v[k])) dup = v[k];
  int st = dup ? dg_error(DG_ERR_FORMAT, "model header: %s \"%.80s\" appears twice",
                          what, dup)
               : DG_OK;
  free(v);
  return st;
}

static const char *meta_get(const mio_load *L, const char *key) {
  for (int i = 0; i < L->nkv; i++)
    if (!strcmp(L->kv[i].key, key)) return L->kv[i].value;
  return NULL;
}

/* "__metadata__": an object of string values, unique keys. */
static int parse_meta(mio_load *L, int i) {
  const jsmntok_t *t = &L->tok[i];
  if (t->type != JSMN_OBJECT)
    return dg_error(DG_ERR_FORMAT, "model header: \"__metadata__\" is not an object");
  if (t->size > MIO_MAX_META)
    return dg_error(DG_ERR_FORMAT, "model header: %d metadata entries (limit %d)",
                    t->size, MIO_MAX_META);
  L->kv = calloc((size_t)t->size + 1, sizeof *L->kv);
  if (!L->kv) return dg_error(DG_ERR_NOMEM, "model header: out of memory");
  int j = i + 1, st;
  for (int k = 0; k < t->size; k++) {
    if (j < 0 || j + 1 >= L->ntok || L->tok[j].size != 1)
      return dg_error(DG_ERR_FORMAT, "model header is not valid JSON: a metadata key without a value");
    mio_kv *kv = &L->kv[L->nkv];
    if ((st = tok_string(L, j, &kv->key, "a metadata key")) != DG_OK) return st;
    L->nkv++;
    if (L->tok[j + 1].type != JSMN_STRING)
      return dg_error(DG_ERR_FORMAT, "model header: metadata \"%.80s\" is not a string",
                      kv->key);
    char what[120];
    snprintf(what, sizeof what, "metadata \"%.80s\"", kv->key);
    if ((st = tok_string(L, j + 1, &kv->value, what)) != DG_OK) return st;
    j = tok_skip(L, j + 1);
  }
  return check_unique(L->kv, L->nkv, sizeof *L->kv, offsetof(mio_kv, key),
                      "metadata key");
}

/* One tensor entry: {"dtype": S, "shape": [N...], "data_offsets": [B, E]}. */
static int parse_entry(mio_load *L, mio_entry *e, int i) {
  const jsmntok_t *t = &L->tok[i];
  const char *nm = e->name;
  if (t->type != JSMN_OBJECT)
    return dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": entry is not an object", nm);
  int j = i + 1, st, have_shape = 0, have_off = 0;
  for (int k = 0; k < t->size; k++) {
    if (j < 0 || j + 1 >= L->ntok || L->tok[j].size != 1)
      return dg_error(DG_ERR_FORMAT, "model header is not valid JSON: tensor \"%.80s\" has a key without a value", nm);
    char *key;
    if ((st = tok_string(L, j, &key, "a tensor field name")) != DG_OK) return st;
    int v = j + 1;
    const jsmntok_t *vt = &L->tok[v];
    if (!strcmp(key, "dtype")) {
      free(key);
      if (e->dtype)
        return dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": \"dtype\" given twice", nm);
      if ((st = tok_string(L, v, &e->dtype, "a dtype")) != DG_OK) return st;
    } else if (!strcmp(key, "shape")) {
      free(key);
      if (have_shape++)
        return dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": \"shape\" given twice", nm);
      if (vt->type != JSMN_ARRAY)
        return dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": \"shape\" is not an array", nm);
      if (vt->size > MIO_MAX_DIMS)
        return dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": %d dimensions (at most %d)", nm,
                        vt->size, MIO_MAX_DIMS);
      e->ndim = vt->size;
      for (int d = 0; d < vt->size; d++)
        if (v + 1 + d >= L->ntok || !tok_u64(L, v + 1 + d, &e->shape[d]))
          return dg_error(DG_ERR_FORMAT,
                          "tensor \"%.80s\": shape entry %d is not a non-negative integer",
                          nm, d);
    } else if (!strcmp(key, "data_offsets")) {
      free(key);
      if (have_off++)
        return dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": \"data_offsets\" given twice", nm);
      if (vt->type != JSMN_ARRAY || vt->size != 2 || v + 2 >= L->ntok ||
          !tok_u64(L, v + 1, &e->begin) || !tok_u64(L, v + 2, &e->end))
        return dg_error(DG_ERR_FORMAT,
                        "tensor \"%.80s\": \"data_offsets\" is not [begin, end]", nm);
    } else {
      st = dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": unknown field \"%.40s\"", nm, key);
      free(key);
      return st;
    }
    j = tok_skip(L, v);
  }
  if (!e->dtype) return dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": no \"dtype\"", nm);
  if (!have_shape) return dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": no \"shape\"", nm);
  if (!have_off)
    return dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": no \"data_offsets\"", nm);
  return DG_OK;
}

/* Tokenize the header and check that it is one JSON object and nothing else
 * but the space padding. */
static int parse_json(mio_load *L, size_t hlen) {
  jsmn_parser p;
  size_t k = 0;
  while (k < hlen && (L->js[k] == ' ' || L->js[k] == '\t' || L->js[k] == '\n' ||
                      L->js[k] == '\r'))
    k++;
  if (k == hlen || L->js[k] != '{')
    return dg_error(DG_ERR_FORMAT, "model header is not a JSON object");
  jsmn_init(&p);
  int n = jsmn_parse(&p, L->js, hlen, NULL, 0);
  if (n < 0)
    return dg_error(DG_ERR_FORMAT, "model header is not valid JSON (%s near byte %u)",
                    n == JSMN_ERROR_PART ? "truncated" : "bad character", p.pos);
  if (n > MIO_MAX_TOKENS)
    return dg_error(DG_ERR_FORMAT, "model header has %d JSON tokens (limit %d)", n,
                    MIO_MAX_TOKENS);
  if (n < 1) return dg_error(DG_ERR_FORMAT, "model header is not a JSON object");
  L->tok = malloc((size_t)n * sizeof *L->tok);
  if (!L->tok) return dg_error(DG_ERR_NOMEM, "model header: out of memory");
  jsmn_init(&p);
  int m = jsmn_parse(&p, L->js, hlen, L->tok, (unsigned)n);
  if (m < 0)
    return dg_error(DG_ERR_FORMAT, "model header is not valid JSON (%s near byte %u)",
                    m == JSMN_ERROR_PART ? "truncated" : "bad character", p.pos);
  L->ntok = m;
  if (m < 1 || L->tok[0].type != JSMN_OBJECT)
    return dg_error(DG_ERR_FORMAT, "model header is not a JSON object");
  if (tok_skip(L, 0) != m)
    return dg_error(DG_ERR_FORMAT, "model header is not valid JSON (more than one value)");
  for (size_t b = (size_t)L->tok[0].end; b < hlen; b++)
    if (L->js[b] != ' ' && L->js[b] != '\t' && L->js[b] != '\n' && L->js[b] != '\r')
      return dg_error(DG_ERR_FORMAT,
                      "model header is not valid JSON (unexpected byte 0x%02x at %zu after "
                      "the object)", (unsigned char)L->js[b], b);
  return DG_OK;
}

/* ---- reading: values --------------------------------------------------------- */

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
  if (exp == 0x1f) {
    u = sign | 0x7f800000u | (man << 13);
  } else if (exp == 0) {
    if (man == 0) {
      u = sign;
    } else { /* subnormal: renormalise */
      uint32_t s = 0;
      while (!(man & 0x400)) man <<= 1, s++;
      u = sign | ((113 - s) << 23) | ((man & 0x3ff) << 13);
    }
  } else {
    u = sign | ((exp + 112) << 23) | (man << 13);
  }
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static int decode(const mio_entry *e, const uint8_t *data, float *dst);

/* An I8 tensor: each value times its channel's scale (the last axis). */
static int decode_i8(const mio_entry *e, const uint8_t *data, float *dst) {
  const mio_entry *se = e->scale;
  float *sc = malloc(se->nelem ? (size_t)se->nelem * sizeof *sc : 1);
  if (!sc) return dg_error(DG_ERR_NOMEM, "model load: out of memory");
  int st = decode(se, data, sc);
  for (uint64_t i = 0; st == DG_OK && dst && i < e->nelem; i++)
    dst[i] = (float)(int8_t)data[e->begin + i] * sc[i % se->nelem];
  free(sc);
  return st;
}

/* Decode one tensor's bytes (at data + its begin) into dst (NULL: check
 * only), refusing NaN/inf. */
static int decode(const mio_entry *e, const uint8_t *data, float *dst) {
  if (e->elsize == 1) return decode_i8(e, data, dst);
  const uint8_t *p = data + e->begin;
  for (uint64_t i = 0; i < e->nelem; i++) {
    int bad = 0, nan = 0;
    float f;
    if (e->elsize == 4) {
      const uint8_t *q = p + i * 4;
      uint32_t u = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
                   (uint32_t)q[3] << 24;
      bad = ((u >> 23) & 0xff) == 0xff, nan = (u & 0x7fffff) != 0;
      memcpy(&f, &u, 4);
    } else {
      uint16_t h = (uint16_t)(p[i * 2] | p[i * 2 + 1] << 8);
      bad = ((h >> 10) & 0x1f) == 0x1f, nan = (h & 0x3ff) != 0;
      f = half_to_float(h);
    }
    if (bad)
      return dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": element %llu is %s", e->name,
                      (unsigned long long)i, nan ? "NaN" : "infinite");
    if (dst) dst[i] = f;
  }
  return DG_OK;
}

/* ---- reading: the whole file --------------------------------------------------- */

/* Values (parameters and state) of an architecture, counted from its parsed
 * layers without allocating them; 0 if it does not parse (dg_net_new then
 * says why). The loader compares this with the size of the file's data
 * before building the net: a 120-byte file naming a net of a billion
 * weights made it allocate and initialise 4 GB before noticing that the
 * tensors were missing (found in review; tests/robust/sweep.c). The count
 * is of the tensors each layer's type declares, which net.c creates. */
static uint64_t arch_values(const char *arch) {
  const char *spec = dg_arch_spec(arch);
  dg_net *tmp = calloc(1, sizeof *tmp);
  uint64_t n = 0;
  if (!tmp) return 0;
  if (dg_arch_parse(tmp, spec ? spec : arch) == DG_OK)
    for (int i = 0; i < tmp->nlayers; i++) {
      const dg_layer *l = &tmp->layers[i];
      const dg_layer_type *type = dg_layer_types[l->kind];
      dg_tensor_spec t[4];
      int nt = type->tensors ? type->tensors(l, t) : 0;
      for (int j = 0; j < nt; j++) {
        uint64_t size = 1;
        for (int d = 0; d < t[j].ndim; d++) size *= (uint64_t)t[j].shape[d];
        n += size;
      }
    }
  free(tmp);
  dg_error(DG_OK, "%s", ""); /* a parse failure is reported by dg_net_new */
  return n;
}

/* The 8-byte header length, checked against the file; sets the header
 * text and the tensor data that follows it. */
static int split_file(mio_load *L, const uint8_t *b, size_t len, size_t *hlen) {
  if (len < 8)
    return dg_error(DG_ERR_FORMAT,
                    "model file too short (%zu bytes; a safetensors file starts with "
                    "an 8-byte header length)", len);
  uint64_t hl = 0;
  for (int i = 7; i >= 0; i--) hl = hl << 8 | b[i];
  if (hl > MIO_MAX_HEADER)
    return dg_error(DG_ERR_FORMAT,
                    "model header length %llu is absurd (limit %u bytes): not a model "
                    "file?", (unsigned long long)hl, MIO_MAX_HEADER);
  if (hl > len - 8)
    return dg_error(DG_ERR_FORMAT,
                    "model header length %llu goes beyond the end of the file (%zu bytes): "
                    "truncated?", (unsigned long long)hl, len);
  *hlen = (size_t)hl;
  L->js = (const char *)b + 8;
  L->data = b + 8 + *hlen;
  L->dlen = len - 8 - *hlen;
  return DG_OK;
}

/* Pass 1 over the top-level keys: *meta is the token of "__metadata__"'s
 * value, found before any tensor is looked at so that a foreign file is
 * named as such first. */
static int find_meta(const mio_load *L, int *meta) {
  int j = 1;
  *meta = -1;
  for (int k = 0; k < L->tok[0].size; k++) {
    if (j < 0 || j + 1 >= L->ntok || L->tok[j].size != 1 || L->tok[j].type != JSMN_STRING)
      return dg_error(DG_ERR_FORMAT, "model header is not valid JSON: a key without a value");
    int n = L->tok[j].end - L->tok[j].start;
    if (n == 12 && !memcmp(L->js + L->tok[j].start, "__metadata__", 12)) {
      if (*meta >= 0)
        return dg_error(DG_ERR_FORMAT, "model header: \"__metadata__\" appears twice");
      *meta = j + 1;
    }
    j = tok_skip(L, j + 1);
  }
  if (*meta < 0)
    return dg_error(DG_ERR_FORMAT, "not a digits model file: no \"__metadata__\" in the header");
  return DG_OK;
}

/* "format_version": a plain decimal number no newer than ours. */
static int check_version(const char *ver) {
  uint64_t v = 0;
  size_t n = strlen(ver), k;
  for (k = 0; k < n && k < 9 && ver[k] >= '0' && ver[k] <= '9'; k++)
    v = v * 10 + (uint64_t)(ver[k] - '0');
  if (n == 0 || k != n || v == 0 || (n > 1 && ver[0] == '0'))
    return dg_error(DG_ERR_FORMAT,
                    "model format_version \"%.40s\" is not a version number", ver);
  if (v > MIO_VERSION)
    return dg_error(DG_ERR_FORMAT,
                    "model format version %llu is newer than this program (%d)",
                    (unsigned long long)v, MIO_VERSION);
  return DG_OK;
}

/* The metadata says this is one of our files, of a version we read, with
 * an architecture (L->arch). */
static int check_meta(mio_load *L) {
  const char *fmt = meta_get(L, "format");
  if (!fmt)
    return dg_error(DG_ERR_FORMAT, "not a digits model file: metadata has no \"format\"");
  if (strcmp(fmt, MIO_FORMAT))
    return dg_error(DG_ERR_FORMAT,
                    "not a digits model file: format is \"%.60s\", expected \"" MIO_FORMAT
                    "\"", fmt);
  const char *ver = meta_get(L, "format_version");
  if (!ver) return dg_error(DG_ERR_FORMAT, "model metadata has no \"format_version\"");
  int st = check_version(ver);
  if (st != DG_OK) return st;
  L->arch = meta_get(L, "arch");
  if (!L->arch || !*L->arch)
    return dg_error(DG_ERR_FORMAT, "model metadata has no \"arch\" (architecture)");
  return DG_OK;
}

/* The net the architecture describes, with fresh weights to overwrite. A
 * big net (over a million values) must have its bytes in the file, 2 per
 * value at least (F16), before we build it; small ones go on to the tensor
 * checks, which say more precisely what is wrong. */
static int build_net(mio_load *L) {
  const char *arch = L->arch;
  uint64_t need = arch_values(arch);
  if (need > MIO_BIG_NET && need > L->dlen / 2)
    return dg_error(DG_ERR_FORMAT,
                    "model architecture \"%.100s\" has %llu weights, more than "
                    "the file's %zu bytes of tensor data can hold",
                    arch, (unsigned long long)need, L->dlen);
  int st = dg_net_create(&L->net, arch, 0, 0);
  if (st != DG_OK) {
    L->net = NULL;
    char ctx[160];
    snprintf(ctx, sizeof ctx, "model architecture \"%.100s\"", arch);
    return wrap_error(st == DG_ERR_NOMEM ? st : DG_ERR_FORMAT, ctx);
  }
  return DG_OK;
}

/* Pass 2: every top-level key but "__metadata__" (token meta) is a tensor
 * entry; names are unique. */
static int parse_entries(mio_load *L, int meta) {
  int st, j = 1;
  L->e = calloc((size_t)L->tok[0].size, sizeof *L->e);
  if (!L->e) return dg_error(DG_ERR_NOMEM, "model header: out of memory");
  for (int k = 0; k < L->tok[0].size; k++) {
    if (j + 1 != meta) {
      mio_entry *e = &L->e[L->ne];
      if ((st = tok_string(L, j, &e->name, "a tensor name")) != DG_OK) return st;
      e->order = L->ne++;
      if ((st = parse_entry(L, e, j + 1)) != DG_OK) return st;
    }
    j = tok_skip(L, j + 1);
  }
  return check_unique(L->e, L->ne, sizeof *L->e, offsetof(mio_entry, name),
                      "tensor");
}

/* The I8 entry whose scales e is ("NAME.scale" beside an I8 "NAME", NAME
 * a tensor of the net), or NULL. The net is asked first: a file of many
 * "*.scale" entries then costs no scan of the entries each. */
static mio_entry *is_scale_of(const mio_load *L, const mio_entry *e) {
  char owner[256];
  size_t n = strlen(e->name);
  if (n <= 6 || n - 6 >= sizeof owner || strcmp(e->name + n - 6, ".scale")) return NULL;
  memcpy(owner, e->name, n - 6);
  owner[n - 6] = 0;
  if (!dg_net_tensor_find(L->net, owner)) return NULL;
  for (int k = 0; k < L->ne; k++) {
    mio_entry *o = &L->e[k];
    if (o != e && o->name && strlen(o->name) == n - 6 && !strncmp(o->name, e->name, n - 6) &&
        !strcmp(o->dtype, "I8"))
      return o;
  }
  return NULL;
}

/* An I8 entry: a tensor of the net with 2+ dimensions, and its scales, one
 * F32 or F16 value per channel of the last axis. */
static int pair_scale(const mio_load *L, mio_entry *e) {
  char s1[160];
  if (e->elsize != 1) return DG_OK;
  if (!e->t || e->ndim < 2)
    return dg_error(DG_ERR_FORMAT,
                    "tensor \"%.80s\": I8 is for weights of 2 or more dimensions, quantized "
                    "per output channel", e->name);
  for (int k = 0; k < L->ne && !e->scale; k++)
    if (L->e[k].is_scale && is_scale_of(L, &L->e[k]) == e) e->scale = &L->e[k];
  mio_entry *se = e->scale;
  if (!se)
    return dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": I8 without its scales \"%.80s.scale\"",
                    e->name, e->name);
  if (se->elsize == 1 || se->ndim != 1 || se->shape[0] != e->shape[e->ndim - 1]) {
    shape_str(s1, sizeof s1, se->shape, se->ndim);
    return dg_error(DG_ERR_FORMAT,
                    "tensor \"%.80s\": %s %s, expected F32 or F16 [%llu] (one per channel "
                    "of the last axis)", se->name, se->dtype, s1,
                    (unsigned long long)e->shape[e->ndim - 1]);
  }
  return DG_OK;
}

/* One entry against the architecture: a dtype we read, a shape whose size
 * fits, and either a tensor of the net with exactly its shape or a 1-D
 * extra blob ("__..."; counted in *nblobs). */
static int check_entry(const mio_load *L, mio_entry *e, int *nblobs) {
  char s1[160], s2[160];
  if (!strcmp(e->dtype, "F32")) {
    e->elsize = 4;
  } else if (!strcmp(e->dtype, "F16")) {
    e->elsize = 2;
  } else if (!strcmp(e->dtype, "I8")) {
    e->elsize = 1;
  } else {
    return dg_error(DG_ERR_FORMAT,
                    "tensor \"%.80s\": dtype \"%.20s\" is not supported (F32, F16 or I8)",
                    e->name, e->dtype);
  }
  e->nelem = 1;
  for (int d = 0; d < e->ndim; d++) {
    if (e->shape[d] && e->nelem > (UINT64_MAX / 4) / e->shape[d]) {
      shape_str(s1, sizeof s1, e->shape, e->ndim);
      return dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": shape %s is too large", e->name, s1);
    }
    e->nelem *= e->shape[d];
  }
  e->t = dg_net_tensor_find(L->net, e->name);
  if (!e->t && (e->is_scale = is_scale_of(L, e) != NULL)) return DG_OK;
  if (e->t) {
    uint64_t want[MIO_MAX_DIMS];
    int same = e->t->ndim == e->ndim;
    for (int d = 0; d < e->t->ndim && d < MIO_MAX_DIMS; d++) {
      want[d] = (uint64_t)(e->t->shape[d] > 0 ? e->t->shape[d] : 0);
      if (same && want[d] != e->shape[d]) same = 0;
    }
    if (!same) {
      shape_str(s1, sizeof s1, e->shape, e->ndim);
      shape_str(s2, sizeof s2, want, e->t->ndim);
      return dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": shape %s, expected %s", e->name,
                      s1, s2);
    }
    if (e->nelem != e->t->size)
      return dg_error(DG_ERR_FORMAT, "tensor \"%.80s\": the net holds %zu values, not %llu",
                      e->name, e->t->size, (unsigned long long)e->nelem);
    return DG_OK;
  }
  if (strncmp(e->name, "__", 2))
    return dg_error(DG_ERR_FORMAT,
                    "unknown tensor \"%.80s\" (not part of architecture \"%.100s\")",
                    e->name, L->arch);
  (*nblobs)++;
  if (e->ndim != 1) {
    shape_str(s1, sizeof s1, e->shape, e->ndim);
    return dg_error(DG_ERR_FORMAT, "extra blob \"%.80s\": shape %s, expected 1-D",
                    e->name, s1);
  }
  return DG_OK;
}

/* Every entry checked in file order, each I8 tensor paired with its
 * scales, then every tensor of the net found. */
static int check_entries(mio_load *L, int *nblobs) {
  int st;
  *nblobs = 0;
  for (int k = 0; k < L->ne; k++)
    if ((st = check_entry(L, &L->e[k], nblobs)) != DG_OK) return st;
  for (int k = 0; k < L->ne; k++)
    if ((st = pair_scale(L, &L->e[k])) != DG_OK) return st;
  int nt = dg_net_tensor_count(L->net);
  for (int i = 0; i < nt; i++) {
    const dg_tensor *t = dg_net_tensor(L->net, i);
    int found = 0;
    for (int k = 0; k < L->ne && !found; k++) found = L->e[k].t == t;
    if (!found)
      return dg_error(DG_ERR_FORMAT,
                      "tensor \"%.80s\" is missing (architecture \"%.100s\" needs it)",
                      t->name, L->arch);
  }
  return DG_OK;
}

/* One entry's data_offsets: in range and sized for its shape and dtype. */
static int check_range(const mio_load *L, const mio_entry *e) {
  char s1[160];
  unsigned long long eb = e->begin, ee = e->end;
  if (ee < eb)
    return dg_error(DG_ERR_FORMAT,
                    "tensor \"%.80s\": data_offsets [%llu,%llu] end before they begin",
                    e->name, eb, ee);
  if (ee > L->dlen)
    return dg_error(DG_ERR_FORMAT,
                    "tensor \"%.80s\": data_offsets [%llu,%llu] out of range (the data is "
                    "%zu bytes)", e->name, eb, ee, L->dlen);
  if (ee - eb != e->nelem * (uint64_t)e->elsize) {
    shape_str(s1, sizeof s1, e->shape, e->ndim);
    return dg_error(DG_ERR_FORMAT,
                    "tensor \"%.80s\": data_offsets [%llu,%llu] hold %llu bytes, shape %s "
                    "of %s needs %llu", e->name, eb, ee, ee - eb, s1, e->dtype,
                    (unsigned long long)(e->nelem * (uint64_t)e->elsize));
  }
  return DG_OK;
}

/* Offsets: each in range and sized right, then together tiling the data
 * exactly (no overlap, no gap, no trailing bytes). */
static int check_offsets(const mio_load *L) {
  int st;
  for (int k = 0; k < L->ne; k++)
    if ((st = check_range(L, &L->e[k])) != DG_OK) return st;
  const mio_entry **idx = malloc(((size_t)L->ne + 1) * sizeof *idx);
  if (!idx) return dg_error(DG_ERR_NOMEM, "model header: out of memory");
  for (int k = 0; k < L->ne; k++) idx[k] = &L->e[k];
  qsort(idx, (size_t)L->ne, sizeof *idx, cmp_entry_begin);
  uint64_t pos = 0;
  st = DG_OK;
  for (int k = 0; k < L->ne && st == DG_OK; k++) {
    const mio_entry *e = idx[k];
    if (e->begin < pos)
      st = dg_error(DG_ERR_FORMAT, "tensors \"%.80s\" and \"%.80s\" overlap in the data",
                    idx[k - 1]->name, e->name);
    else if (e->begin > pos)
      st = dg_error(DG_ERR_FORMAT,
                    "%llu bytes before tensor \"%.80s\" are not covered by any tensor",
                    (unsigned long long)(e->begin - pos), e->name);
    pos = e->end;
  }
  free(idx);
  if (st != DG_OK) return st;
  if (pos != L->dlen)
    return dg_error(DG_ERR_FORMAT,
                    "%llu trailing bytes after the last tensor are not covered by any "
                    "tensor", (unsigned long long)(L->dlen - pos));
  return DG_OK;
}

/* Values: into the net's tensors, and into new blobs when the caller wants
 * the extras (else the blobs are only checked for NaN and infinity). */
static int read_values(mio_load *L, int want_extra, int nblobs) {
  int st;
  if (want_extra && nblobs) {
    L->blobs = calloc((size_t)nblobs, sizeof *L->blobs);
    if (!L->blobs) return dg_error(DG_ERR_NOMEM, "model load: out of memory");
  }
  for (int k = 0; k < L->ne; k++) {
    mio_entry *e = &L->e[k];
    float *dst = NULL;
    if (e->is_scale) continue; /* read with its tensor */
    if (e->t) {
      dst = e->t->data;
    } else if (L->blobs) {
      float *v = malloc(e->nelem ? (size_t)e->nelem * 4 : 1);
      if (!v) return dg_error(DG_ERR_NOMEM, "model load: out of memory");
      if ((st = decode(e, L->data, v)) != DG_OK) {
        free(v);
        return st;
      }
      dg_blob *bl = &L->blobs[L->nblobs++];
      bl->name = e->name; /* ownership moves to the blob */
      e->name = NULL;
      bl->data = v;
      bl->size = (size_t)e->nelem;
      continue;
    }
    if ((st = decode(e, L->data, dst)) != DG_OK) return st;
  }
  return DG_OK;
}

/* The checksum, when the file has one. */
static int check_crc(const mio_load *L) {
  const char *crc = meta_get(L, "crc32");
  if (!crc) return DG_OK;
  char want[9];
  snprintf(want, sizeof want, "%08x", model_crc(L->arch, L->data, L->dlen));
  if (strlen(crc) != 8 || strspn(crc, "0123456789abcdef") != 8)
    return dg_error(DG_ERR_FORMAT,
                    "model metadata \"crc32\" is \"%.40s\", not 8 hex digits", crc);
  if (strcmp(crc, want))
    return dg_error(DG_ERR_FORMAT,
                    "model file is damaged: the CRC-32 of its architecture and "
                    "weights is %s, the header says %s", want, crc);
  return DG_OK;
}

/* A setting's value: a whole finite number, or 0. */
static int meta_float(const char *v, float *out) {
  char *end;
  if (!v || !*v || strlen(v) > 40) return 0;
  float x = strtof(v, &end);
  if (*end || end == v || x != x || x - x != 0) return 0;
  *out = x;
  return 1;
}

/* The net's settings from the metadata: "bn_eps" (absent: 1e-3, older
 * files), "input_mean" and "input_std" (both or neither). */
static int apply_settings(mio_load *L) {
  const char *eps = meta_get(L, "bn_eps"), *mean = meta_get(L, "input_mean"),
             *std = meta_get(L, "input_std");
  float e, m, s;
  if (eps && (!meta_float(eps, &e) || dg_net_set_bn_eps(L->net, e) != DG_OK))
    return dg_error(DG_ERR_FORMAT,
                    "model metadata \"bn_eps\" is \"%.40s\", not a number in "
                    "[1e-12, 1]", eps);
  if (!mean != !std)
    return dg_error(DG_ERR_FORMAT, "model metadata has \"%s\" without \"%s\"",
                    mean ? "input_mean" : "input_std",
                    mean ? "input_std" : "input_mean");
  if (mean && (!meta_float(mean, &m) || !meta_float(std, &s) ||
               dg_net_set_input_norm(L->net, m, s) != DG_OK))
    return dg_error(DG_ERR_FORMAT,
                    "model metadata \"input_mean\" \"%.40s\", \"input_std\" "
                    "\"%.40s\": not numbers (std > 0)", mean, std);
  return DG_OK;
}

/* The file's own metadata onto the net (the reserved keys are the file's). */
static int copy_meta(mio_load *L) {
  for (int k = 0; k < L->nkv; k++) {
    if (is_reserved_key(L->kv[k].key)) continue;
    int st = dg_net_meta_set(L->net, L->kv[k].key, L->kv[k].value);
    if (st != DG_OK) {
      char ctx[120];
      snprintf(ctx, sizeof ctx, "model metadata \"%.80s\"", L->kv[k].key);
      return wrap_error(st, ctx);
    }
  }
  return DG_OK;
}

/* The whole file, in the order that names a problem most precisely: the
 * header's structure, what file it is, the architecture, each tensor's
 * entry, the offsets, the values (a NaN, an infinity), then the checksum. */
static int load(mio_load *L, const uint8_t *b, size_t len, int want_extra) {
  size_t hlen = 0;
  int st, meta, nblobs;
  if ((st = split_file(L, b, len, &hlen)) != DG_OK) return st;
  if ((st = parse_json(L, hlen)) != DG_OK) return st;
  if ((st = find_meta(L, &meta)) != DG_OK) return st;
  if ((st = parse_meta(L, meta)) != DG_OK) return st;
  if ((st = check_meta(L)) != DG_OK) return st;
  if ((st = build_net(L)) != DG_OK) return st;
  if ((st = parse_entries(L, meta)) != DG_OK) return st;
  if ((st = check_entries(L, &nblobs)) != DG_OK) return st;
  if ((st = check_offsets(L)) != DG_OK) return st;
  if ((st = read_values(L, want_extra, nblobs)) != DG_OK) return st;
  if ((st = check_crc(L)) != DG_OK) return st;
  if ((st = apply_settings(L)) != DG_OK) return st;
  return copy_meta(L);
}

int dg_model_load_mem(dg_net **out, const void *buf, size_t len,
                      dg_blob **extra, int *nextra) {
  if (!out || (!buf && len) || (extra && !nextra))
    return dg_error(DG_ERR_ARG, "model load: null argument");
  mio_load L;
  memset(&L, 0, sizeof L);
  int st = load(&L, buf, len, extra != NULL);
  if (st == DG_OK) {
    *out = L.net;
    L.net = NULL;
    if (extra) {
      *extra = L.blobs;
      *nextra = L.nblobs;
      L.blobs = NULL;
      L.nblobs = 0;
    }
  }
  load_cleanup(&L);
  return st;
}

int dg_model_load(dg_net **out, const char *path, dg_blob **extra,
                  int *nextra) {
  if (!path || !out || (extra && !nextra))
    return dg_error(DG_ERR_ARG, "model load: null argument");
  uint8_t *buf;
  size_t len;
  int st = dg_file_read(path, MIO_MAX_FILE, &buf, &len);
  if (st != DG_OK) return st; /* its message names the path */
  st = dg_model_load_mem(out, buf, len, extra, nextra);
  free(buf);
  if (st != DG_OK) return wrap_error(st, path);
  return DG_OK;
}

void dg_blobs_free(dg_blob *b, int n) {
  if (!b) return;
  for (int i = 0; i < n; i++) {
    free((char *)b[i].name);
    free(b[i].data);
  }
  free(b);
}
