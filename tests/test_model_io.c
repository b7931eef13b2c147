/* test_model_io.c: model files (safetensors). Round trips (memory, file,
 * extra blobs) are bit-exact and saving is deterministic; every corruption
 * class fails with DG_ERR_FORMAT (or DG_ERR_IO for file system problems) and a
 * message naming the problem, leaving the out-parameters untouched; the
 * committed version-1 file tests/data/v1-tiny.safetensors loads forever.
 *
 * `test_model_io --write-v1-tiny PATH` regenerates that fixture (only ever
 * needed once: the point of the fixture is that it never changes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "harness.h"

#define SPEC "input 28 28 1; conv 4 3 same; bn; relu; maxpool 2; flatten; dense 10; softmax"
#define TINY_SPEC \
  "input 28 28 1; conv 2 3 same; bn; relu; maxpool 4; flatten; dense 10; softmax"

static const char CMDLINE[] =
    "digits train --arch \"cnn\" --out 'my model.safetensors' C:\\models\\x "
    "tab\there\nnewline ctl\x01 \x1f caf\xc3\xa9";

/* ---- helpers ---------------------------------------------------------------- */

static dg_net *make_net(const char *spec, uint64_t seed) {
  dg_net *net = NULL;
  int st = dg_net_new(&net, spec, seed);
  CHECK_MSG(st == DG_OK, "dg_net_new: %s", dg_last_error());
  if (st != DG_OK) return NULL;
  /* state tensors too (running statistics start as 0/1 otherwise) */
  for (int i = 0; i < dg_net_tensor_count(net); i++) {
    const dg_tensor *t = dg_net_tensor(net, i);
    for (size_t k = 0; k < t->size; k++)
      t->data[k] = sinf((float)(i * 1000 + (int)k) * 0.37f) * (float)(i + 1);
  }
  CHECK_OK(dg_net_meta_set(net, "command", CMDLINE));
  CHECK_OK(dg_net_meta_set(net, "we\"ird\\key", "v"));
  CHECK_OK(dg_net_meta_set(net, "accuracy", "0.9912"));
  CHECK_OK(dg_net_meta_set(net, "empty", ""));
  return net;
}

static int has(const uint8_t *b, size_t n, const char *s) {
  size_t m = strlen(s);
  for (size_t i = 0; i + m <= n; i++)
    if (!memcmp(b + i, s, m)) return 1;
  return 0;
}

static uint64_t rd64(const uint8_t *b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
  return v;
}
static void wr64(uint8_t *b, uint64_t v) {
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
}

/* A file from a header text and data bytes. */
static uint8_t *assemble(const char *hdr, size_t hlen, const uint8_t *data,
                         size_t dlen, size_t *len) {
  uint8_t *b = malloc(8 + hlen + dlen + 1);
  wr64(b, hlen);
  memcpy(b + 8, hdr, hlen);
  if (dlen) memcpy(b + 8 + hlen, data, dlen);
  *len = 8 + hlen + dlen;
  return b;
}

/* The file with the first occurrence of `from` in the header replaced. */
static uint8_t *mutate(const uint8_t *b, size_t len, const char *from,
                       const char *to, size_t *olen) {
  size_t hl = (size_t)rd64(b);
  char *h = malloc(hl + 1);
  memcpy(h, b + 8, hl);
  h[hl] = 0;
  char *p = strstr(h, from);
  CHECK_MSG(p != NULL, "mutate: \"%s\" not in header", from);
  if (!p) {
    free(h);
    *olen = len;
    uint8_t *c = malloc(len);
    memcpy(c, b, len);
    return c;
  }
  size_t nf = strlen(from), nt = strlen(to), nh = hl - nf + nt;
  char *n = malloc(nh + 1);
  memcpy(n, h, (size_t)(p - h));
  memcpy(n + (p - h), to, nt);
  memcpy(n + (p - h) + nt, p + nf, hl - (size_t)(p - h) - nf);
  uint8_t *r = assemble(n, nh, b + 8 + hl, len - 8 - hl, olen);
  free(h);
  free(n);
  return r;
}

/* Load from an exact-size heap copy (so that sanitizers see over-reads) and
 * check that the out-parameters are untouched on failure. */
static int load_copy(const uint8_t *b, size_t len, dg_net **keep) {
  uint8_t *c = malloc(len ? len : 1);
  if (len) memcpy(c, b, len);
  dg_net *sentinel = (dg_net *)(uintptr_t)0x1234, *net = sentinel;
  dg_blob *bs = (dg_blob *)(uintptr_t)0x5678, *blobs = bs;
  int nb = -77;
  int st = dg_model_load_mem(&net, c, len, &blobs, &nb);
  free(c);
  if (st != DG_OK) {
    CHECK(net == sentinel && blobs == bs && nb == -77);
    CHECK(dg_last_error()[0] != 0);
    return st;
  }
  dg_blobs_free(blobs, nb);
  if (keep)
    *keep = net;
  else
    dg_net_free(net);
  return st;
}

static uint8_t *save(const dg_net *net, size_t *len) {
  uint8_t *b = NULL;
  *len = 0;
  CHECK_OK(dg_model_save_mem(net, NULL, 0, &b, len));
  return b;
}

static size_t tensor_offset(const dg_net *net, int i) {
  size_t off = 0;
  for (int k = 0; k < i; k++) off += dg_net_tensor(net, k)->size * 4;
  return off;
}

static void shape_text(char *b, size_t cap, const dg_tensor *t, int reverse) {
  size_t n = (size_t)snprintf(b, cap, "[");
  for (int d = 0; d < t->ndim; d++)
    n += (size_t)snprintf(b + n, cap - n, d ? ",%d" : "%d",
                          t->shape[reverse ? t->ndim - 1 - d : d]);
  snprintf(b + n, cap - n, "]");
}

static int same_nets(const dg_net *a, const dg_net *b) {
  int ok = dg_net_tensor_count(a) == dg_net_tensor_count(b) &&
           !strcmp(dg_net_arch(a), dg_net_arch(b));
  for (int i = 0; ok && i < dg_net_tensor_count(a); i++) {
    const dg_tensor *x = dg_net_tensor(a, i), *y = dg_net_tensor(b, i);
    ok = !strcmp(x->name, y->name) && x->size == y->size && x->ndim == y->ndim &&
         !memcmp(x->shape, y->shape, sizeof x->shape) &&
         !memcmp(x->data, y->data, x->size * 4);
  }
  for (int i = 0; ok && i < dg_net_meta_count(a); i++) {
    const char *k, *v, *w;
    dg_net_meta_at(a, i, &k, &v);
    w = dg_net_meta_get(b, k);
    ok = w && !strcmp(v, w);
  }
  return ok;
}

/* A broken copy of the good file must fail with this code and message. */
#define CHECK_MUTANT(good, glen, from, to, code, substr)           \
  do {                                                             \
    size_t ml_;                                                    \
    uint8_t *m_ = mutate(good, glen, from, to, &ml_);              \
    CHECK_FAIL(load_copy(m_, ml_, NULL), code, substr);            \
    free(m_);                                                      \
  } while (0)

#define CHECK_HEADER(hdr, data, dlen, code, substr)                \
  do {                                                             \
    size_t hl_ = strlen(hdr), fl_;                                 \
    uint8_t *f_ = assemble(hdr, hl_, data, dlen, &fl_);            \
    CHECK_FAIL(load_copy(f_, fl_, NULL), code, substr);            \
    free(f_);                                                      \
  } while (0)

/* ---- round trips -------------------------------------------------------------- */

static void test_roundtrip_mem(void) {
  dg_net *net = make_net(SPEC, 42), *back = NULL;
  if (!net) return;
  size_t len, len2;
  uint8_t *b = save(net, &len);
  CHECK(len > 8);
  uint64_t hl = rd64(b);
  CHECK((8 + hl) % 8 == 0);
  CHECK(b[8] == '{');
  CHECK(has(b + 8, hl, "\"format\":\"digits\""));
  CHECK(has(b + 8, hl, "\"format_version\":\"1\""));
  CHECK(has(b + 8, hl, "--arch \\\"cnn\\\""));
  CHECK(has(b + 8, hl, "ctl\\u0001"));
  CHECK_OK(load_copy(b, len, &back));
  if (back) {
    CHECK(same_nets(net, back));
    CHECK(same_nets(back, net));
    CHECK(dg_net_meta_get(back, "command") &&
          !strcmp(dg_net_meta_get(back, "command"), CMDLINE));
    CHECK(dg_net_meta_get(back, "we\"ird\\key") != NULL);
    CHECK(dg_net_meta_get(back, "format") == NULL);  /* reserved, not copied */
    CHECK(dg_net_meta_count(back) == dg_net_meta_count(net));
    uint8_t *b2 = save(back, &len2);
    CHECK(len2 == len && !memcmp(b, b2, len));  /* deterministic */
    free(b2);
    dg_net_free(back);
  }
  /* and the same net saved twice */
  uint8_t *b3 = save(net, &len2);
  CHECK(len2 == len && !memcmp(b, b3, len));
  free(b3);
  free(b);
  dg_net_free(net);
}

static void test_roundtrip_file(void) {
  dg_net *net = make_net(SPEC, 3), *back = NULL;
  if (!net) return;
  const char *path = dg_test_path("DIGITS_TMP", "mio_roundtrip.safetensors");
  CHECK_OK(dg_model_save(net, path, NULL, 0));
  CHECK_OK(dg_model_save(net, path, NULL, 0));  /* overwrite in place */
  CHECK_OK(dg_model_load(&back, path, NULL, NULL));
  if (back) {
    CHECK(same_nets(net, back));
    dg_net_free(back);
  }
  remove(path);
  dg_net_free(net);
}

static void test_extra_blobs(void) {
  dg_net *net = make_net(SPEC, 5), *back = NULL;
  if (!net) return;
  float m[7], v[3];
  for (int i = 0; i < 7; i++) m[i] = (float)i * 0.5f - 1;
  for (int i = 0; i < 3; i++) v[i] = 1e-30f * (float)(i + 1);
  dg_blob ex[3] = {{"__adam.m", m, 7}, {"__adam.v", v, 3}, {"__empty", NULL, 0}};
  uint8_t *b = NULL;
  size_t len = 0;
  CHECK_OK(dg_model_save_mem(net, ex, 3, &b, &len));
  dg_blob *got = NULL;
  int n = 0;
  CHECK_OK(dg_model_load_mem(&back, b, len, &got, &n));
  CHECK(n == 3);
  if (back && n == 3) {
    CHECK(same_nets(net, back));
    for (int i = 0; i < 3; i++) {
      CHECK(!strcmp(got[i].name, ex[i].name));
      CHECK(got[i].size == ex[i].size);
      CHECK(!got[i].size || !memcmp(got[i].data, ex[i].data, got[i].size * 4));
    }
  }
  dg_blobs_free(got, n);
  dg_net_free(back);
  back = NULL;
  /* without extra: skipped */
  CHECK_OK(dg_model_load_mem(&back, b, len, NULL, NULL));
  dg_net_free(back);
  back = NULL;
  /* no blobs in the file: empty result */
  uint8_t *p = save(net, &len);
  got = (dg_blob *)(uintptr_t)1;
  n = -1;
  CHECK_OK(dg_model_load_mem(&back, p, len, &got, &n));
  CHECK(got == NULL && n == 0);
  dg_net_free(back);
  free(p);
  /* a blob must be 1-D */
  {
    size_t blen = 0;
    CHECK_OK(dg_model_save_mem(net, ex, 3, &p, &blen));
    CHECK_MUTANT(p, blen, "\"__adam.v\":{\"dtype\":\"F32\",\"shape\":[3]",
                 "\"__adam.v\":{\"dtype\":\"F32\",\"shape\":[3,1]", DG_ERR_FORMAT,
                 "expected 1-D");
    free(p);
  }
  /* bad blobs on save */
  dg_blob bad1[1] = {{"adam.m", m, 7}};
  dg_blob bad2[2] = {{"__x", m, 7}, {"__x", v, 3}};
  dg_blob bad3[1] = {{"__metadata__", m, 7}};
  p = NULL;
  CHECK_FAIL(dg_model_save_mem(net, bad1, 1, &p, &len), DG_ERR_ARG, "must start with");
  CHECK_FAIL(dg_model_save_mem(net, bad2, 2, &p, &len), DG_ERR_ARG, "given twice");
  CHECK_FAIL(dg_model_save_mem(net, bad3, 1, &p, &len), DG_ERR_ARG, "__metadata__");
  m[2] = NAN;
  CHECK_FAIL(dg_model_save_mem(net, ex, 1, &p, &len), DG_ERR_NUMERIC,
             "\"__adam.m\": element 2 is NaN");
  CHECK(p == NULL);
  free(b);
  dg_net_free(net);
}

/* ---- corruption classes --------------------------------------------------------- */

static void test_truncated(void) {
  dg_net *net = make_net(SPEC, 1);
  if (!net) return;
  size_t len;
  uint8_t *b = save(net, &len);
  size_t hend = 8 + (size_t)rd64(b);
  int all = 1;
  for (size_t n = 0; n <= hend; n++) {
    int st = load_copy(b, n, NULL);
    if (st != DG_ERR_FORMAT) {
      CHECK_MSG(0, "truncated to %zu bytes: status %d (%s)", n, st, dg_last_error());
      all = 0;
      break;
    }
  }
  CHECK(all);
  CHECK_FAIL(load_copy(b, 0, NULL), DG_ERR_FORMAT, "too short");
  CHECK_FAIL(load_copy(b, 7, NULL), DG_ERR_FORMAT, "too short");
  CHECK_FAIL(load_copy(b, 8, NULL), DG_ERR_FORMAT, "beyond the end");
  CHECK_FAIL(load_copy(b, hend - 1, NULL), DG_ERR_FORMAT, "beyond the end");
  CHECK_FAIL(load_copy(b, hend, NULL), DG_ERR_FORMAT, "out of range");
  size_t cuts[] = {hend + 1, hend + 4, hend + 5, (hend + len) / 2, len - 4, len - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
    CHECK_FAIL(load_copy(b, cuts[i], NULL), DG_ERR_FORMAT, "data_offsets");
  free(b);
  dg_net_free(net);
}

static void test_bad_header_length(void) {
  dg_net *net = make_net(SPEC, 1);
  if (!net) return;
  size_t len;
  uint8_t *b = save(net, &len);
  uint64_t hl = rd64(b);
  wr64(b, (uint64_t)1 << 40);
  CHECK_FAIL(load_copy(b, len, NULL), DG_ERR_FORMAT, "is absurd");
  wr64(b, UINT64_MAX);
  CHECK_FAIL(load_copy(b, len, NULL), DG_ERR_FORMAT, "is absurd");
  wr64(b, 100000001);
  CHECK_FAIL(load_copy(b, len, NULL), DG_ERR_FORMAT, "is absurd");
  wr64(b, len - 7);
  CHECK_FAIL(load_copy(b, len, NULL), DG_ERR_FORMAT, "goes beyond the end of the file");
  wr64(b, 0);
  CHECK_FAIL(load_copy(b, len, NULL), DG_ERR_FORMAT, "not a JSON object");
  wr64(b, hl - 1);  /* cuts the final padding/brace: data no longer lines up */
  CHECK(load_copy(b, len, NULL) == DG_ERR_FORMAT);
  wr64(b, hl);
  CHECK_OK(load_copy(b, len, NULL));
  free(b);
  dg_net_free(net);
}

static void test_bad_json(void) {
  dg_net *net = make_net(SPEC, 1);
  if (!net) return;
  size_t len;
  uint8_t *b = save(net, &len);
  static const uint8_t four[4];
  CHECK_MUTANT(b, len, "{\"__metadata__\"", "[\"__metadata__\"", DG_ERR_FORMAT,
               "not a JSON object");
  CHECK_MUTANT(b, len, "\"format\":", "\"format\" ", DG_ERR_FORMAT, "not valid JSON");
  CHECK_MUTANT(b, len, "\"format\":\"digits\"", "\"format\":digits", DG_ERR_FORMAT,
               "not valid JSON");
  CHECK_MUTANT(b, len, "\"format\":\"digits\"", "\"format\":\"dig\\qits\"", DG_ERR_FORMAT,
               "not valid JSON");
  CHECK_MUTANT(b, len, "\"format\":\"digits\"", "\"format\":\"digits\"  x", DG_ERR_FORMAT,
               "not valid JSON");
  CHECK_HEADER("{\"__metadata__\":{\"format\":\"digits\"}", four, 0, DG_ERR_FORMAT,
               "not valid JSON (truncated");
  CHECK_HEADER("{\"__metadata__\":{}} {}", four, 0, DG_ERR_FORMAT, "more than one value");
  CHECK_HEADER("{\"__metadata__\":{}}}", four, 0, DG_ERR_FORMAT, "not valid JSON");
  CHECK_HEADER("{\"__metadata__\":{}} x", four, 0, DG_ERR_FORMAT, "not valid JSON");
  CHECK_HEADER("   ", four, 0, DG_ERR_FORMAT, "not a JSON object");
  CHECK_HEADER("{\"__metadata__\":[]}", four, 0, DG_ERR_FORMAT,
               "\"__metadata__\" is not an object");
  CHECK_HEADER("{\"__metadata__\":{\"format\":1}}", four, 0, DG_ERR_FORMAT,
               "metadata \"format\" is not a string");
  CHECK_HEADER("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", four, 0, DG_ERR_FORMAT,
               "\"a\" appears twice");
  CHECK_HEADER("{\"__metadata__\":{},\"__metadata__\":{}}", four, 0, DG_ERR_FORMAT,
               "appears twice");
  /* a NUL byte inside the header */
  {
    size_t hl = (size_t)rd64(b);
    uint8_t *c = malloc(len);
    memcpy(c, b, len);
    c[8 + hl / 2] = 0;
    CHECK_FAIL(load_copy(c, len, NULL), DG_ERR_FORMAT, "not valid JSON");
    free(c);
  }
  /* string escapes: the good ones decode, the bad ones are named */
  {
    size_t ml;
    uint8_t *m = mutate(b, len, "\"format\":\"digits\"",
                        "\"format\":\"digits\",\"note\":\"caf\\u00e9 \\ud83d\\ude00 "
                        "\\/ \\\"q\\\" \\b\\f\\r\\t\\n\\\\\"",
                        &ml);
    dg_net *back = NULL;
    CHECK_OK(load_copy(m, ml, &back));
    const char *note = back ? dg_net_meta_get(back, "note") : NULL;
    CHECK(note && !strcmp(note, "caf\xc3\xa9 \xf0\x9f\x98\x80 / \"q\" \b\f\r\t\n\\"));
    dg_net_free(back);
    free(m);
  }
  CHECK_MUTANT(b, len, "\"format\":\"digits\"", "\"format\":\"digits\",\"n\":\"\\ud83d\"",
               DG_ERR_FORMAT, "lone high surrogate");
  CHECK_MUTANT(b, len, "\"format\":\"digits\"", "\"format\":\"digits\",\"n\":\"\\ude00x\"",
               DG_ERR_FORMAT, "lone low surrogate");
  CHECK_MUTANT(b, len, "\"format\":\"digits\"", "\"format\":\"digits\",\"n\":\"a\\u0000\"",
               DG_ERR_FORMAT, "\\u0000");
  CHECK_MUTANT(b, len, "\"format\":\"digits\"", "\"format\":\"digits\",\"n\":\"a\tb\"",
               DG_ERR_FORMAT, "raw control character");
  free(b);
  dg_net_free(net);
}

static void test_bad_format(void) {
  dg_net *net = make_net(SPEC, 1);
  if (!net) return;
  size_t len;
  uint8_t *b = save(net, &len);
  static const uint8_t four[4];
  CHECK_MUTANT(b, len, "\"format\":\"digits\"", "\"format\":\"keras\"", DG_ERR_FORMAT,
               "not a digits model file: format is \"keras\"");
  CHECK_MUTANT(b, len, "\"format\":\"digits\"", "\"formax\":\"digits\"", DG_ERR_FORMAT,
               "metadata has no \"format\"");
  CHECK_HEADER("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", four, 4,
               DG_ERR_FORMAT, "not a digits model file: no \"__metadata__\"");
  CHECK_MUTANT(b, len, "\"format_version\":\"1\"", "\"format_version\":\"7\"", DG_ERR_FORMAT,
               "model format version 7 is newer than this program (1)");
  CHECK_MUTANT(b, len, "\"format_version\":\"1\"", "\"format_version\":\"12345678901\"",
               DG_ERR_FORMAT, "not a version number");
  CHECK_MUTANT(b, len, "\"format_version\":\"1\"", "\"format_version\":\"1.0\"",
               DG_ERR_FORMAT, "not a version number");
  CHECK_MUTANT(b, len, "\"format_version\":\"1\"", "\"format_version\":\"\"", DG_ERR_FORMAT,
               "not a version number");
  CHECK_MUTANT(b, len, "\"format_version\":\"1\"", "\"format_versio\":\"1\"", DG_ERR_FORMAT,
               "no \"format_version\"");
  CHECK_MUTANT(b, len, "\"arch\":", "\"arcx\":", DG_ERR_FORMAT, "no \"arch\"");
  CHECK_MUTANT(b, len, "\"arch\":\"input", "\"arch\":\"bogus 3; input", DG_ERR_FORMAT,
               "unknown layer");
  CHECK_MUTANT(b, len, "\"arch\":\"input", "\"arch\":\"bogus 3; input", DG_ERR_FORMAT,
               "model architecture \"bogus 3; input");
  free(b);
  dg_net_free(net);
}

static void test_bad_tensors(void) {
  dg_net *net = make_net(SPEC, 1);
  if (!net) return;
  size_t len;
  uint8_t *b = save(net, &len);
  int nt = dg_net_tensor_count(net);
  const dg_tensor *t0 = dg_net_tensor(net, 0);
  char from[256], to[256], msg[256], s1[64], s2[64];

  /* unknown dtype */
  CHECK_MUTANT(b, len, "\"dtype\":\"F32\"", "\"dtype\":\"I64\"", DG_ERR_FORMAT,
               "dtype \"I64\" is not supported");
  CHECK_MUTANT(b, len, "\"dtype\":\"F32\"", "\"dtype\":\"BF16\"", DG_ERR_FORMAT,
               "dtype \"BF16\" is not supported");
  CHECK_MUTANT(b, len, "\"dtype\":\"F32\"", "\"dtype\":32", DG_ERR_FORMAT,
               "a dtype is not a string");

  /* wrong shape: reversed dimensions (same size, so only the shape is wrong) */
  shape_text(s1, sizeof s1, t0, 0);
  shape_text(s2, sizeof s2, t0, 1);
  CHECK(strcmp(s1, s2) != 0);
  snprintf(from, sizeof from, "\"%s\":{\"dtype\":\"F32\",\"shape\":%s", t0->name, s1);
  snprintf(to, sizeof to, "\"%s\":{\"dtype\":\"F32\",\"shape\":%s", t0->name, s2);
  snprintf(msg, sizeof msg, "tensor \"%s\": shape %s, expected %s", t0->name, s2, s1);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, msg);
  /* one dimension too many, negative, too large, not a number */
  snprintf(to, sizeof to, "\"%s\":{\"dtype\":\"F32\",\"shape\":[1,%s", t0->name, s1 + 1);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "expected [");
  snprintf(to, sizeof to, "\"%s\":{\"dtype\":\"F32\",\"shape\":[-1,%s", t0->name, s1 + 1);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "not a non-negative integer");
  snprintf(to, sizeof to, "\"%s\":{\"dtype\":\"F32\",\"shape\":[1.5,%s", t0->name, s1 + 1);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "not a non-negative integer");
  snprintf(to, sizeof to, "\"%s\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999999,%s",
           t0->name, s1 + 1);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "not a non-negative integer");
  snprintf(to, sizeof to,
           "\"%s\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296]",
           t0->name);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "is too large");
  snprintf(to, sizeof to, "\"%s\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1]",
           t0->name);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "9 dimensions");
  snprintf(to, sizeof to, "\"%s\":{\"dtype\":\"F32\",\"shape\":\"4\"", t0->name);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "\"shape\" is not an array");

  /* entry fields */
  snprintf(from, sizeof from, "\"%s\":{\"dtype\":\"F32\",", t0->name);
  snprintf(to, sizeof to, "\"%s\":{\"dtype\":\"F32\",\"colour\":\"red\",", t0->name);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "unknown field \"colour\"");
  snprintf(to, sizeof to, "\"%s\":{\"dtype\":\"F32\",\"dtype\":\"F32\",", t0->name);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "\"dtype\" given twice");
  snprintf(to, sizeof to, "\"%s\":{\"dtypo\":\"F32\",", t0->name);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "unknown field \"dtypo\"");
  snprintf(from, sizeof from, "\"%s\":{", t0->name);
  snprintf(to, sizeof to, "\"%s\":7,\"x\":{", t0->name);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "entry is not an object");

  /* unknown and missing tensors */
  snprintf(from, sizeof from, "\"%s\":", t0->name);
  CHECK_MUTANT(b, len, from, "\"zzz.weight\":", DG_ERR_FORMAT,
               "unknown tensor \"zzz.weight\"");
  int i1 = -1, i2 = -1; /* two 1-D tensors of the same size */
  for (int i = 0; i < nt && i2 < 0; i++)
    for (int j = i + 1; j < nt && i2 < 0; j++)
      if (dg_net_tensor(net, i)->ndim == 1 && dg_net_tensor(net, j)->ndim == 1 &&
          dg_net_tensor(net, i)->size == dg_net_tensor(net, j)->size)
        i1 = i, i2 = j;
  CHECK(i2 >= 0);
  if (i2 >= 0) {
    const dg_tensor *a = dg_net_tensor(net, i1), *c = dg_net_tensor(net, i2);
    snprintf(from, sizeof from, "\"%s\":", c->name);
    snprintf(msg, sizeof msg, "tensor \"%s\" is missing", c->name);
    CHECK_MUTANT(b, len, from, "\"__moved\":", DG_ERR_FORMAT, msg);
    snprintf(to, sizeof to, "\"%s\":", a->name);
    snprintf(msg, sizeof msg, "tensor \"%s\" appears twice", a->name);
    CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, msg);
    /* overlap: c stored at a's bytes (and then a gap where c was) */
    size_t ao = tensor_offset(net, i1), co = tensor_offset(net, i2);
    snprintf(from, sizeof from, "\"data_offsets\":[%zu,%zu]", co, co + c->size * 4);
    snprintf(to, sizeof to, "\"data_offsets\":[%zu,%zu]", ao, ao + a->size * 4);
    CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "overlap");
  }

  /* offsets */
  size_t n0 = t0->size * 4, dl = tensor_offset(net, nt);
  const dg_tensor *tl = dg_net_tensor(net, nt - 1);
  size_t lo = tensor_offset(net, nt - 1);
  snprintf(from, sizeof from, "\"data_offsets\":[0,%zu]", n0);
  snprintf(to, sizeof to, "\"data_offsets\":[%zu,0]", n0);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "end before they begin");
  snprintf(to, sizeof to, "\"data_offsets\":[0,%zu]", n0 - 4);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "needs");
  snprintf(to, sizeof to, "\"data_offsets\":[0,%zu,3]", n0);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "is not [begin, end]");
  snprintf(to, sizeof to, "\"data_offsets\":[0,18446744073709551615]");
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "out of range");
  snprintf(from, sizeof from, "\"data_offsets\":[%zu,%zu]", lo, dl);
  snprintf(to, sizeof to, "\"data_offsets\":[%zu,%zu]", lo + 4, dl + 4);
  CHECK_MUTANT(b, len, from, to, DG_ERR_FORMAT, "out of range");
  (void)tl;
  {
    /* trailing bytes, and a gap (the last tensor moved 4 bytes on) */
    uint8_t *c = malloc(len + 4);
    memcpy(c, b, len);
    memset(c + len, 0, 4);
    CHECK_FAIL(load_copy(c, len + 4, NULL), DG_ERR_FORMAT,
               "4 trailing bytes after the last tensor are not covered");
    size_t ml;
    uint8_t *m = mutate(c, len + 4, from, to, &ml);
    CHECK_FAIL(load_copy(m, ml, NULL), DG_ERR_FORMAT, "are not covered by any tensor");
    free(m);
    free(c);
  }

  /* NaN and infinite weights, named by tensor and element */
  int big = 0;
  for (int i = 0; i < nt; i++)
    if (dg_net_tensor(net, i)->size > dg_net_tensor(net, big)->size) big = i;
  const dg_tensor *tb = dg_net_tensor(net, big);
  size_t el = tb->size > 1234 ? 1234 : tb->size - 1;
  size_t at = 8 + (size_t)rd64(b) + tensor_offset(net, big) + el * 4;
  const uint32_t bits[4] = {0x7fc00000u, 0xffc00001u, 0x7f800000u, 0xff800000u};
  for (int k = 0; k < 4; k++) {
    uint8_t *c = malloc(len);
    memcpy(c, b, len);
    for (int q = 0; q < 4; q++) c[at + q] = (uint8_t)(bits[k] >> (8 * q));
    snprintf(msg, sizeof msg, "tensor \"%s\": element %zu is %s", tb->name, el,
             k < 2 ? "NaN" : "infinite");
    CHECK_FAIL(load_copy(c, len, NULL), DG_ERR_FORMAT, msg);
    free(c);
  }
  /* ... and refused on save */
  float keep = tb->data[el];
  tb->data[el] = INFINITY;
  uint8_t *p = NULL;
  size_t pl;
  snprintf(msg, sizeof msg, "tensor \"%s\": element %zu is infinite", tb->name, el);
  CHECK_FAIL(dg_model_save_mem(net, NULL, 0, &p, &pl), DG_ERR_NUMERIC, msg);
  tb->data[el] = keep;
  free(b);
  dg_net_free(net);
}

static void test_files(void) {
  dg_net *net = (dg_net *)(uintptr_t)0x99;
  CHECK_FAIL(dg_model_load(&net, dg_test_path("DIGITS_TMP", "no-such-model.safetensors"),
                           NULL, NULL),
             DG_ERR_IO, "No such file");
  CHECK_FAIL(dg_model_load(&net, dg_test_path("DIGITS_TMP", "."), NULL, NULL), DG_ERR_IO,
             "directory");
  CHECK(net == (dg_net *)(uintptr_t)0x99);
  /* a corrupt file names its path */
  const char *path = dg_test_path("DIGITS_TMP", "mio_short.safetensors");
  CHECK_OK(dg_file_write_atomic(path, "abc", 3));
  CHECK_FAIL(dg_model_load(&net, path, NULL, NULL), DG_ERR_FORMAT,
             "mio_short.safetensors: model file too short");
  remove(path);
  dg_net *ok = make_net(SPEC, 1);
  if (ok) {
    CHECK_FAIL(dg_model_save(ok, dg_test_path("DIGITS_TMP", "no/such/dir/m.safetensors"),
                             NULL, 0),
               DG_ERR_IO, "no/such/dir/m.safetensors");
    dg_net_free(ok);
  }
  CHECK_FAIL(dg_model_load_mem(NULL, "", 0, NULL, NULL), DG_ERR_ARG, "null");
  CHECK_FAIL(dg_model_save_mem(NULL, NULL, 0, NULL, NULL), DG_ERR_ARG, "null");
  dg_blobs_free(NULL, 0);
}

/* A header of our own: the metadata of net, then put_entry's entries, then
 * "}". */
static size_t put_meta(char *h, size_t cap, const dg_net *net) {
  return (size_t)snprintf(h, cap,
                          "{\"__metadata__\":{\"format\":\"digits\",\"format_version\":"
                          "\"1\",\"arch\":\"%s\"}", dg_net_arch(net));
}
static size_t put_entry(char *h, size_t hl, size_t cap, const char *name, const char *dtype,
                        const char *shape, size_t begin, size_t end) {
  return hl + (size_t)snprintf(h + hl, cap - hl,
                               ",\"%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":"
                               "[%zu,%zu]}", name, dtype, shape, begin, end);
}

/* F16 files (as other tools may export) load with exact conversion. */
static void test_f16(void) {
  dg_net *net = make_net(SPEC, 1);
  if (!net) return;
  static const struct {
    uint16_t h;
    float f;
  } tab[] = {{0x0000, 0.0f},     {0x8000, -0.0f},          {0x3c00, 1.0f},
             {0xc000, -2.0f},    {0x3800, 0.5f},           {0x7bff, 65504.0f},
             {0x0001, 5.9604644775390625e-8f}, {0x03ff, 6.0975551605224609375e-5f},
             {0x0400, 6.103515625e-5f},        {0x3555, 0.333251953125f}};
  const int nt_ = (int)(sizeof tab / sizeof tab[0]);
  size_t cap = 1 << 16, hl = 0, total = 0;
  char *h = malloc(cap);
  hl = put_meta(h, cap, net);
  for (int i = 0; i < dg_net_tensor_count(net); i++) {
    const dg_tensor *t = dg_net_tensor(net, i);
    char s[64];
    shape_text(s, sizeof s, t, 0);
    hl = put_entry(h, hl, cap, t->name, "F16", s, total, total + t->size * 2);
    total += t->size * 2;
  }
  hl += (size_t)snprintf(h + hl, cap - hl, "}");
  uint8_t *data = malloc(total), *p = data;
  for (int i = 0; i < dg_net_tensor_count(net); i++)
    for (size_t k = 0; k < dg_net_tensor(net, i)->size; k++, p += 2) {
      uint16_t v = tab[(k + (size_t)i) % (size_t)nt_].h;
      p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
    }
  size_t len;
  uint8_t *f = assemble(h, hl, data, total, &len);
  dg_net *back = NULL;
  CHECK_OK(load_copy(f, len, &back));
  int exact = back != NULL;
  for (int i = 0; exact && i < dg_net_tensor_count(back); i++) {
    const dg_tensor *t = dg_net_tensor(back, i);
    for (size_t k = 0; k < t->size; k++) {
      float want = tab[(k + (size_t)i) % (size_t)nt_].f;
      if (memcmp(&t->data[k], &want, 4)) exact = 0;
    }
  }
  CHECK(exact);
  dg_net_free(back);
  /* an infinite half */
  f[8 + hl + 2] = 0x00, f[8 + hl + 3] = 0x7c;
  CHECK_FAIL(load_copy(f, len, NULL), DG_ERR_FORMAT, "element 1 is infinite");
  f[8 + hl + 2] = 0x01;
  CHECK_FAIL(load_copy(f, len, NULL), DG_ERR_FORMAT, "element 1 is NaN");
  free(f);
  free(data);
  free(h);
  dg_net_free(net);
}

/* I8 weights (models/compact.mjs --int8): each value q x its channel's
 * scale (the last axis), exactly; every other tensor F32. Then the ways
 * such a file can be wrong. */
static void test_i8(void) {
  dg_net *net = make_net(SPEC, 1);
  if (!net) return;
  size_t cap = 1 << 16, hl = 0, total = 0;
  char *h = malloc(cap);
  uint8_t *data = malloc(1 << 20);
  hl = put_meta(h, cap, net);
  for (int i = 0; i < dg_net_tensor_count(net); i++) {
    const dg_tensor *t = dg_net_tensor(net, i);
    char s[64];
    shape_text(s, sizeof s, t, 0);
    size_t c = (size_t)t->shape[t->ndim - 1], n = t->ndim >= 2 ? t->size : t->size * 4;
    hl = put_entry(h, hl, cap, t->name, t->ndim >= 2 ? "I8" : "F32", s, total, total + n);
    if (t->ndim < 2) {
      memcpy(data + total, t->data, n);
      total += n;
      continue;
    }
    for (size_t k = 0; k < t->size; k++) data[total + k] = (uint8_t)(int8_t)((int)(k * 7 % 255) - 127);
    total += n;
    char sn[96], ss[32];
    snprintf(sn, sizeof sn, "%s.scale", t->name);
    snprintf(ss, sizeof ss, "[%zu]", c);
    hl = put_entry(h, hl, cap, sn, "F32", ss, total, total + 4 * c);
    for (size_t k = 0; k < c; k++) {
      float v = ldexpf(1.0f, -(int)(k % 5)) * (float)(i + 1);
      memcpy(data + total + 4 * k, &v, 4);
    }
    total += 4 * c;
  }
  hl += (size_t)snprintf(h + hl, cap - hl, "}");
  size_t len;
  uint8_t *f = assemble(h, hl, data, total, &len);
  dg_net *back = NULL;
  CHECK_OK(load_copy(f, len, &back));
  int exact = back != NULL, quantized = 0;
  for (int i = 0; exact && i < dg_net_tensor_count(back); i++) {
    const dg_tensor *t = dg_net_tensor(back, i), *o = dg_net_tensor(net, i);
    size_t c = (size_t)t->shape[t->ndim - 1];
    quantized += t->ndim >= 2;
    for (size_t k = 0; k < t->size; k++) {
      float want = t->ndim < 2 ? o->data[k]
                   : (float)((int)(k * 7 % 255) - 127) * ldexpf(1.0f, -(int)(k % c % 5)) * (float)(i + 1);
      if (memcmp(&t->data[k], &want, 4)) exact = 0;
    }
  }
  CHECK(exact && quantized == 2);
  dg_net_free(back);

  /* the scales missing (renamed into an extra blob), of the wrong size or
   * dtype, NaN; I8 for a 1-D tensor */
  const dg_tensor *w = dg_net_tensor(net, 0);
  char from[160], to[160], msg[200];
  snprintf(from, sizeof from, "\"%s.scale\"", w->name);
  snprintf(to, sizeof to, "\"__%s.scale\"", w->name);
  snprintf(msg, sizeof msg, "tensor \"%s\": I8 without its scales \"%s.scale\"", w->name, w->name);
  CHECK_MUTANT(f, len, from, to, DG_ERR_FORMAT, msg);
  snprintf(from, sizeof from, "\"%s.scale\":{\"dtype\":\"F32\"", w->name);
  snprintf(to, sizeof to, "\"%s.scale\":{\"dtype\":\"I8\"", w->name);
  CHECK_MUTANT(f, len, from, to, DG_ERR_FORMAT, "expected F32 or F16");
  snprintf(from, sizeof from, "\"%s.scale\":{\"dtype\":\"F32\",\"shape\":[", w->name);
  snprintf(to, sizeof to, "\"%s.scale\":{\"dtype\":\"F32\",\"shape\":[1,", w->name);
  CHECK_MUTANT(f, len, from, to, DG_ERR_FORMAT, "(one per channel of the last axis)");
  snprintf(from, sizeof from, "\"%s\":{\"dtype\":\"F32\"", dg_net_tensor(net, 1)->name);
  snprintf(to, sizeof to, "\"%s\":{\"dtype\":\"I8\"", dg_net_tensor(net, 1)->name);
  CHECK_MUTANT(f, len, from, to, DG_ERR_FORMAT, "I8 is for weights of 2 or more dimensions");
  size_t at = 8 + hl + w->size;        /* the first scale */
  f[at + 3] = 0x7f, f[at + 2] = 0xc0;  /* a NaN */
  snprintf(msg, sizeof msg, "tensor \"%s.scale\": element 0 is NaN", w->name);
  CHECK_FAIL(load_copy(f, len, NULL), DG_ERR_FORMAT, msg);
  free(f);
  free(data);
  free(h);
  dg_net_free(net);
}

/* ---- the version-1 fixture ---------------------------------------------------------- */

/* Values of the fixture, exactly representable: tensor i, element k. */
static float tiny_value(int i, size_t k) {
  return (float)(i + 1) * 0.25f + (float)(k % 7) * 0.125f - 0.5f;
}

static int write_v1_tiny(const char *path) {
  dg_net *net = NULL;
  if (dg_net_new(&net, TINY_SPEC, 1) != DG_OK) {
    fprintf(stderr, "%s\n", dg_last_error());
    return 1;
  }
  for (int i = 0; i < dg_net_tensor_count(net); i++) {
    const dg_tensor *t = dg_net_tensor(net, i);
    for (size_t k = 0; k < t->size; k++) t->data[k] = tiny_value(i, k);
  }
  dg_net_meta_set(net, "command", "test_model_io --write-v1-tiny \"tiny\"");
  dg_net_meta_set(net, "note", "version-1 fixture: must load forever");
  float best[3] = {1.5f, -2.25f, 0.0f};
  dg_blob ex[1] = {{"__best_val_loss", best, 3}};
  int st = dg_model_save(net, path, ex, 1);
  if (st) fprintf(stderr, "%s\n", dg_last_error());
  dg_net_free(net);
  return st ? 1 : 0;
}

static void test_v1_tiny(void) {
  const char *path = dg_test_path("DIGITS_TESTDATA", "v1-tiny.safetensors");
  dg_net *net = NULL;
  dg_blob *ex = NULL;
  int nex = 0;
  CHECK_OK(dg_model_load(&net, path, &ex, &nex));
  if (!net) return;
  CHECK(!strcmp(dg_net_arch(net), TINY_SPEC));
  CHECK(dg_net_tensor_count(net) >= 5);
  int exact = 1;
  for (int i = 0; i < dg_net_tensor_count(net); i++) {
    const dg_tensor *t = dg_net_tensor(net, i);
    for (size_t k = 0; k < t->size; k++)
      if (t->data[k] != tiny_value(i, k)) exact = 0;
  }
  CHECK(exact);
  /* a few values spelled out */
  const dg_tensor *t0 = dg_net_tensor(net, 0);
  CHECK(t0->data[0] == -0.25f && t0->data[6] == 0.5f && t0->data[7] == -0.25f);
  const dg_tensor *tl = dg_net_tensor(net, dg_net_tensor_count(net) - 1);
  CHECK(tl->size > 0);
  CHECK(dg_net_meta_get(net, "command") &&
        !strcmp(dg_net_meta_get(net, "command"), "test_model_io --write-v1-tiny \"tiny\""));
  CHECK(nex == 1);
  if (nex == 1) {
    CHECK(!strcmp(ex[0].name, "__best_val_loss") && ex[0].size == 3 &&
          ex[0].data[0] == 1.5f && ex[0].data[1] == -2.25f && ex[0].data[2] == 0.0f);
  }
  dg_blobs_free(ex, nex);
  /* probabilities come out (the net is usable, not just filled) */
  float x[28 * 28], probs[10];
  for (int i = 0; i < 28 * 28; i++) x[i] = (float)(i % 28) / 28.0f;
  if (dg_net_output_size(net) == 10 && dg_net_input_size(net) == 28 * 28) {
    CHECK_OK(dg_net_predict(net, x, 1, probs));
    float s = 0;
    for (int i = 0; i < 10; i++) s += probs[i];
    CHECK_NEAR(s, 1.0, 1e-5);
  }
  dg_net_free(net);
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--write-v1-tiny")) return write_v1_tiny(argv[2]);
  RUN(test_roundtrip_mem);
  RUN(test_roundtrip_file);
  RUN(test_extra_blobs);
  RUN(test_truncated);
  RUN(test_bad_header_length);
  RUN(test_bad_json);
  RUN(test_bad_format);
  RUN(test_bad_tensors);
  RUN(test_files);
  RUN(test_f16);
  RUN(test_i8);
  RUN(test_v1_tiny);
  return dg_test_finish();
}
