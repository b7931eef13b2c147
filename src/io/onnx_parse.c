/* onnx_parse.c: an ONNX file's protobuf messages, read with the
 * wire-format reader of pb.c: the ModelProto's opsets, then the
 * GraphProto's nodes, initializers, input and output, indexed in place
 * (names and tensors point into the caller's buffer; counts capped before
 * the arrays are allocated); tensors' values and nodes' attributes on
 * demand. What the graph means is onnx_read.c's business. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "io/onnx_model.h"
#include "io/pb.h"

/* ---- errors --------------------------------------------------------------- */

/* A name printable in a message: at most 60 characters, others as '?'. */
const char *ox_shown(ox_str s, char *buf) {
  size_t n = s.n < 60 ? s.n : 60;
  for (size_t i = 0; i < n; i++)
    buf[i] = s.p[i] >= 32 && s.p[i] < 127 ? (char)s.p[i] : '?';
  buf[n] = 0;
  return buf;
}

int ox_node_err(const ox_node *nd, const char *fmt, ...) {
  char msg[300], a[64], b[64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return dg_error(DG_ERR_FORMAT, "ONNX node \"%s\" (%s): %s",
                  nd->name.n ? ox_shown(nd->name, a) : "(unnamed)",
                  ox_shown(nd->op, b), msg);
}

static int bad_wire(const char *what) {
  return dg_error(DG_ERR_FORMAT, "ONNX file is malformed: %s is not valid "
                  "protobuf (truncated or corrupted?)", what);
}

int ox_str_eq(ox_str s, const char *c) {
  return s.n == strlen(c) && !memcmp(s.p, c, s.n);
}
int ox_str_same(ox_str a, ox_str b) {
  return a.n == b.n && (!a.n || !memcmp(a.p, b.p, a.n));
}

/* ---- messages ------------------------------------------------------------- */

/* Repeated int64 (packed or not) of field `field` in msg into v (at most
 * cap): the count, or -1 (malformed, too many). */
static int read_ints(const uint8_t *msg, size_t len, uint32_t field,
                     int64_t *v, int cap) {
  dg_pb r = dg_pb_over(msg, len);
  dg_pb_field f;
  int n = 0, st;
  while ((st = dg_pb_next(&r, &f)) > 0) {
    if (f.field != field) continue;
    if (f.wire == DG_PB_VARINT) {
      if (n >= cap) return -1;
      v[n++] = (int64_t)f.v;
    } else if (f.wire == DG_PB_LEN) {
      const uint8_t *p = f.data, *end = f.data + f.len;
      uint64_t x;
      while (p < end) {
        if (n >= cap || !dg_pb_varint(&p, end, &x)) return -1;
        v[n++] = (int64_t)x;
      }
    } else {
      return -1;
    }
  }
  return st < 0 ? -1 : n;
}

/* A reader over msg, which is also kept (*keep, *keep_len) to be read
 * again on demand: a tensor's values, a node's attributes. */
static dg_pb kept_msg(const uint8_t *msg, size_t len, const uint8_t **keep,
                      size_t *keep_len) {
  *keep = msg, *keep_len = len;
  return dg_pb_over(msg, len);
}

/* A TensorProto's header: name, type, dims, value count (into *t, which
 * the caller zeroed: the graph's arrays are calloc'd). */
static int parse_tensor(const uint8_t *msg, size_t len, ox_tensor *t) {
  dg_pb r = kept_msg(msg, len, &t->msg, &t->len);
  dg_pb_field f;
  int st;
  while ((st = dg_pb_next(&r, &f)) > 0) {
    if (f.field == 2 && f.wire == DG_PB_VARINT) t->dtype = (int)f.v;
    else if (f.field == 8 && f.wire == DG_PB_LEN) t->name = (ox_str){f.data, f.len};
    else if (f.field == 14 && f.wire == DG_PB_VARINT && f.v == 1)
      return dg_error(DG_ERR_FORMAT, "ONNX tensor: external data is not "
                      "supported (save the model with its weights inside)");
  }
  if (st < 0) return bad_wire("a tensor");
  t->ndim = read_ints(msg, len, 1, t->dims, OX_MAX_DIMS);
  if (t->ndim < 0)
    return dg_error(DG_ERR_FORMAT, "ONNX tensor: malformed or over %d dims",
                    OX_MAX_DIMS);
  uint64_t count = 1; /* 64 bits: size_t is 32 in WebAssembly */
  for (int d = 0; d < t->ndim; d++) {
    if (t->dims[d] < 0 || t->dims[d] > OX_MAX_VALUES ||
        (count *= (uint64_t)t->dims[d]) > OX_MAX_VALUES)
      return dg_error(DG_ERR_FORMAT, "ONNX tensor: dims out of range (over "
                      "%d values)", OX_MAX_VALUES);
  }
  t->count = (size_t)count;
  return DG_OK;
}

/* A tensor's values as floats (FLOAT, or INT64 converted) into *out: a
 * new array of t->count, checked finite; a status. */
int ox_tensor_values(const ox_tensor *t, float **out) {
  char nb[64];
  if (t->dtype != OX_FLOAT && t->dtype != OX_INT64)
    return dg_error(DG_ERR_FORMAT, "ONNX tensor \"%s\": data type %d (only "
                    "float32 and int64 are supported)", ox_shown(t->name, nb),
                    t->dtype);
  size_t esz = t->dtype == OX_FLOAT ? 4 : 8, n = 0;
  float *v = malloc((t->count ? t->count : 1) * sizeof(float));
  if (!v) return dg_error(DG_ERR_NOMEM, "ONNX tensor: out of memory");
  uint32_t listed = t->dtype == OX_FLOAT ? 4 : 7;
  dg_pb r = dg_pb_over(t->msg, t->len);
  dg_pb_field f;
  int st, raw = 0;
  while ((st = dg_pb_next(&r, &f)) > 0) {
    if (f.field == 9 && f.wire == DG_PB_LEN) {
      if (f.len != t->count * esz || n) goto bad;
      for (size_t i = 0; i < t->count; i++) {
        const uint8_t *b = f.data + i * esz;
        uint64_t u = 0;
        for (size_t k = 0; k < esz; k++) u |= (uint64_t)b[k] << (8 * k);
        uint32_t u32 = (uint32_t)u;
        if (esz == 4) memcpy(&v[i], &u32, 4);
        else v[i] = (float)(int64_t)u;
      }
      raw = 1;
    } else if (f.field == listed && !raw) {
      /* f.data is NULL unless the field has bytes (no arithmetic on it) */
      const uint8_t *p = f.data, *end = f.len ? f.data + f.len : f.data;
      if (f.wire == DG_PB_LEN && esz == 4) {
        if (f.len % 4 || f.len / 4 > t->count - n) goto bad;
        for (; p < end; p += 4) {
          dg_pb_field one = {.v = (uint64_t)p[0] | (uint64_t)p[1] << 8 |
                                  (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24};
          v[n++] = dg_pb_float(&one);
        }
      } else if (f.wire == DG_PB_LEN) {
        uint64_t x;
        while (p < end) {
          if (n >= t->count || !dg_pb_varint(&p, end, &x)) goto bad;
          v[n++] = (float)(int64_t)x;
        }
      } else if ((f.wire == DG_PB_I32 && esz == 4) ||
                 (f.wire == DG_PB_VARINT && esz == 8)) {
        if (n >= t->count) goto bad;
        v[n++] = esz == 4 ? dg_pb_float(&f) : (float)(int64_t)f.v;
      } else {
        goto bad;
      }
    }
  }
  if (st < 0 || (!raw && n != t->count)) goto bad;
  for (size_t i = 0; i < t->count; i++)
    if (!isfinite(v[i])) {
      free(v);
      return dg_error(DG_ERR_FORMAT, "ONNX tensor \"%s\": value %zu is not "
                      "finite", ox_shown(t->name, nb), i);
    }
  *out = v;
  return DG_OK;
bad:
  free(v);
  return dg_error(DG_ERR_FORMAT, "ONNX tensor \"%s\": its data does not hold "
                  "the %zu values its dims say", ox_shown(t->name, nb), t->count);
}


static int parse_attr(const uint8_t *msg, size_t len, ox_str *name,
                      ox_attr *a) {
  memset(a, 0, sizeof *a);
  memset(name, 0, sizeof *name);
  dg_pb r = dg_pb_over(msg, len);
  dg_pb_field f;
  int st;
  while ((st = dg_pb_next(&r, &f)) > 0) {
    if (f.field == 1 && f.wire == DG_PB_LEN) *name = (ox_str){f.data, f.len};
    else if (f.field == 20 && f.wire == DG_PB_VARINT) a->type = (int)f.v;
    else if (f.field == 2 && f.wire == DG_PB_I32) a->f = dg_pb_float(&f);
    else if (f.field == 3 && f.wire == DG_PB_VARINT) a->i = (int64_t)f.v;
    else if (f.field == 4 && f.wire == DG_PB_LEN) a->s = (ox_str){f.data, f.len};
    else if (f.field == 5 && f.wire == DG_PB_LEN) a->t = f.data, a->tlen = f.len;
  }
  if (st < 0) return -1;
  a->nints = read_ints(msg, len, 8, a->ints, OX_MAX_DIMS);
  return a->nints < 0 ? -1 : 0;
}

/* Node attribute `want` into *a: 1 found, 0 not, or an error status. Every
 * attribute of the node must be among `known` (space-separated). */
int ox_node_attr(const ox_node *nd, const char *want, const char *known,
                     ox_attr *a) {
  dg_pb r = dg_pb_over(nd->msg, nd->len);
  dg_pb_field f;
  int st, found = 0;
  ox_attr tmp;
  ox_str name;
  while ((st = dg_pb_next(&r, &f)) > 0) {
    if (f.field != 5 || f.wire != DG_PB_LEN) continue;
    if (parse_attr(f.data, f.len, &name, &tmp) < 0)
      return ox_node_err(nd, "malformed attribute");
    char nb[64];
    const char *k = known;
    int ok = 0;
    while (*k && !ok) {
      size_t w = strcspn(k, " ");
      ok = name.n == w && !memcmp(name.p, k, w);
      k += w + (k[w] == ' ');
    }
    if (!ok)
      return ox_node_err(nd, "attribute \"%s\" is not supported", ox_shown(name, nb));
    if (ox_str_eq(name, want)) *a = tmp, found = 1;
  }
  if (st < 0) return ox_node_err(nd, "malformed attributes");
  return found;
}

/* ---- the model and its graph ---------------------------------------------- */

/* A NodeProto: inputs, outputs, name, operator, domain (into *nd, zeroed
 * by the caller), and a Constant's value. */
static int parse_node(const uint8_t *msg, size_t len, ox_node *nd) {
  dg_pb r = kept_msg(msg, len, &nd->msg, &nd->len);
  dg_pb_field f;
  int st;
  while ((st = dg_pb_next(&r, &f)) > 0) {
    if (f.wire != DG_PB_LEN) continue;
    ox_str s = {f.data, f.len};
    if (f.field == 1 || f.field == 2) {
      int *n = f.field == 1 ? &nd->nin : &nd->nout;
      if (*n >= OX_MAX_IO) return bad_wire("a node with over 16 inputs or outputs");
      (f.field == 1 ? nd->in : nd->out)[(*n)++] = s;
    } else if (f.field == 3) nd->name = s;
    else if (f.field == 4) nd->op = s;
    else if (f.field == 7) nd->domain = s;
  }
  if (st < 0) return bad_wire("a node");
  if (!nd->op.n || nd->op.n > 64) return bad_wire("a node without an operator");
  if (nd->domain.n && !ox_str_eq(nd->domain, "ai.onnx"))
    return ox_node_err(nd, "operators of domain \"%.*s\" are not supported",
                    (int)(nd->domain.n < 40 ? nd->domain.n : 40),
                    (const char *)nd->domain.p);
  if (!ox_str_eq(nd->op, "Constant")) return DG_OK;
  ox_attr a;
  int got = ox_node_attr(nd, "value", "value", &a);
  if (got < 0) return got;
  if (!got || !a.t) return ox_node_err(nd, "needs a \"value\" tensor");
  st = parse_tensor(a.t, a.tlen, &nd->value);
  if (st) return st;
  if (nd->nout != 1) return ox_node_err(nd, "needs one output");
  nd->value.name = nd->out[0];
  return DG_OK;
}

/* The graph's nodes and initializers (counted, capped, then read), its one
 * data input and its one output. */
static int parse_graph(ox_model *m, const uint8_t *msg, size_t len) {
  dg_pb r = dg_pb_over(msg, len);
  dg_pb_field f;
  int st, nn = 0, ni = 0, nout = 0;
  while ((st = dg_pb_next(&r, &f)) > 0) {
    nn += f.field == 1, ni += f.field == 5, nout += f.field == 12;
    if (nn > OX_MAX_NODES || ni > OX_MAX_INITS)
      return dg_error(DG_ERR_FORMAT, "ONNX graph: over %d nodes or %d "
                      "initializers", OX_MAX_NODES, OX_MAX_INITS);
  }
  if (st < 0) return bad_wire("the graph");
  if (nout != 1)
    return dg_error(DG_ERR_FORMAT, "ONNX graph has %d outputs (1 is supported)",
                    nout);
  m->nodes = calloc(nn ? nn : 1, sizeof *m->nodes);
  m->inits = calloc(ni ? ni : 1, sizeof *m->inits);
  if (!m->nodes || !m->inits)
    return dg_error(DG_ERR_NOMEM, "ONNX graph: out of memory");
  r = dg_pb_over(msg, len);
  while (dg_pb_next(&r, &f) > 0) {
    if (f.wire != DG_PB_LEN) continue;
    if (f.field == 1 && (st = parse_node(f.data, f.len, &m->nodes[m->nnodes++])))
      return st;
    if (f.field == 5 && (st = parse_tensor(f.data, f.len, &m->inits[m->ninits++])))
      return st;
    if (f.field == 12) {
      dg_pb v = dg_pb_over(f.data, f.len);
      dg_pb_field g;
      while ((st = dg_pb_next(&v, &g)) > 0)
        if (g.field == 1 && g.wire == DG_PB_LEN) m->output = (ox_str){g.data, g.len};
      if (st < 0) return bad_wire("the graph's output");
    }
  }
  int data = 0;
  r = dg_pb_over(msg, len);
  while (dg_pb_next(&r, &f) > 0) { /* initializers may be listed as inputs */
    if (f.field != 11 || f.wire != DG_PB_LEN) continue;
    dg_pb v = dg_pb_over(f.data, f.len);
    dg_pb_field g;
    ox_str name = {NULL, 0};
    const uint8_t *type = NULL;
    size_t tlen = 0;
    while ((st = dg_pb_next(&v, &g)) > 0) {
      if (g.field == 1 && g.wire == DG_PB_LEN) name = (ox_str){g.data, g.len};
      if (g.field == 2 && g.wire == DG_PB_LEN) type = g.data, tlen = g.len;
    }
    if (st < 0) return bad_wire("a graph input");
    int init = 0;
    for (int i = 0; i < m->ninits && !init; i++) init = ox_str_same(m->inits[i].name, name);
    if (init) continue;
    data++;
    m->input = name, m->input_type = type, m->input_type_len = tlen;
  }
  if (data != 1)
    return dg_error(DG_ERR_FORMAT, "ONNX graph has %d data inputs (1 is "
                    "supported)", data);
  return DG_OK;
}

/* ModelProto: the default domain's opset (9..21), the graph. */
int ox_parse_model(ox_model *m, const uint8_t *buf, size_t len) {
  dg_pb r = kept_msg(buf, len, &m->msg, &m->len);
  dg_pb_field f;
  const uint8_t *graph = NULL;
  size_t glen = 0;
  int st;
  while ((st = dg_pb_next(&r, &f)) > 0) {
    if (f.field == 7 && f.wire == DG_PB_LEN) graph = f.data, glen = f.len;
    if (f.field == 2 && f.wire == DG_PB_LEN) m->producer = (ox_str){f.data, f.len};
    if (f.field != 8 || f.wire != DG_PB_LEN) continue;
    dg_pb o = dg_pb_over(f.data, f.len);
    dg_pb_field g;
    ox_str domain = {NULL, 0};
    int64_t version = 0;
    while ((st = dg_pb_next(&o, &g)) > 0) {
      if (g.field == 1 && g.wire == DG_PB_LEN) domain = (ox_str){g.data, g.len};
      if (g.field == 2 && g.wire == DG_PB_VARINT) version = (int64_t)g.v;
    }
    if (st < 0) return bad_wire("an opset");
    if (!domain.n || ox_str_eq(domain, "ai.onnx")) {
      if (version < OX_OPSET_MIN || version > OX_OPSET_MAX)
        return dg_error(DG_ERR_FORMAT, "ONNX opset %lld is not supported "
                        "(%d to %d are)", (long long)version, OX_OPSET_MIN,
                        OX_OPSET_MAX);
      m->opset = (int)version;
    }
  }
  if (st < 0) return bad_wire("the model");
  if (!graph)
    return dg_error(DG_ERR_FORMAT, "not an ONNX model: no graph (truncated, "
                    "or another kind of file?)");
  if (!m->opset)
    return dg_error(DG_ERR_FORMAT, "ONNX model has no opset of the default "
                    "domain");
  return parse_graph(m, graph, glen);
}

int ox_model_props(const ox_model *m, int (*each)(void *ctx, ox_str k, ox_str v),
                   void *ctx) {
  dg_pb r = dg_pb_over(m->msg, m->len);
  dg_pb_field f, g;
  int st;
  while ((st = dg_pb_next(&r, &f)) > 0) {
    if (f.field != 14 || f.wire != DG_PB_LEN) continue; /* StringStringEntryProto */
    dg_pb e = dg_pb_over(f.data, f.len);
    ox_str kv[2] = {{NULL, 0}, {NULL, 0}};
    while ((st = dg_pb_next(&e, &g)) > 0)
      if ((g.field == 1 || g.field == 2) && g.wire == DG_PB_LEN)
        kv[g.field - 1] = (ox_str){g.data, g.len};
    if (st < 0) return bad_wire("the model's metadata");
    if ((st = each(ctx, kv[0], kv[1]))) return st;
  }
  return st < 0 ? bad_wire("the model") : DG_OK;
}

/* The data input's shape: [N, C, H, W], [N, H, W, 1] (Keras' one-channel
 * images: *nhwc set) or [N, F], float. */
int ox_input_shape(const ox_model *m, int *h, int *w, int *c, int *flat,
                       int *nhwc) {
  int64_t dims[OX_MAX_DIMS];
  int nd = 0, elem = 0, st;
  dg_pb r = dg_pb_over(m->input_type, m->input_type_len);
  dg_pb_field f, g, d, e;
  while ((st = dg_pb_next(&r, &f)) > 0) {
    if (f.field != 1 || f.wire != DG_PB_LEN) continue; /* tensor_type */
    dg_pb t = dg_pb_over(f.data, f.len);
    while ((st = dg_pb_next(&t, &g)) > 0) {
      if (g.field == 1 && g.wire == DG_PB_VARINT) elem = (int)g.v;
      if (g.field != 2 || g.wire != DG_PB_LEN) continue; /* shape */
      dg_pb s = dg_pb_over(g.data, g.len);
      while ((st = dg_pb_next(&s, &d)) > 0) {
        if (d.field != 1 || d.wire != DG_PB_LEN) continue;
        if (nd >= OX_MAX_DIMS) return bad_wire("the input's shape");
        dims[nd] = -1; /* symbolic */
        dg_pb v = dg_pb_over(d.data, d.len);
        while ((st = dg_pb_next(&v, &e)) > 0)
          if (e.field == 1 && e.wire == DG_PB_VARINT) dims[nd] = (int64_t)e.v;
        if (st < 0) return bad_wire("the input's shape");
        nd++;
      }
      if (st < 0) return bad_wire("the input's shape");
    }
    if (st < 0) return bad_wire("the input's type");
  }
  if (st < 0) return bad_wire("the input's type");
  if (elem != OX_FLOAT)
    return dg_error(DG_ERR_FORMAT, "ONNX input: element type %d (float32 is "
                    "supported)", elem);
  for (int k = 1; k < nd; k++)
    if (dims[k] < 1 || dims[k] > 4096)
      return dg_error(DG_ERR_FORMAT, "ONNX input: dimension %d is %lld (fixed "
                      "sizes 1..4096 are supported)", k, (long long)dims[k]);
  *flat = nd == 2;
  *nhwc = nd == 4 && dims[3] == 1 && dims[1] > 1;
  if (nd == 4 && *nhwc) {
    *h = (int)dims[1], *w = (int)dims[2], *c = 1;
  } else if (nd == 4) {
    *c = (int)dims[1], *h = (int)dims[2], *w = (int)dims[3];
  } else if (nd == 2) {
    int F = (int)dims[1];
    *c = 1, *h = F == 784 ? 28 : 1, *w = F == 784 ? 28 : F;
  } else {
    return dg_error(DG_ERR_FORMAT, "ONNX input has %d dimensions ([N,C,H,W], "
                    "[N,H,W,1] or [N,F] are supported)", nd);
  }
  if ((int64_t)*c * *h * *w > (1 << 24))
    return dg_error(DG_ERR_FORMAT, "ONNX input is too large");
  return DG_OK;
}
