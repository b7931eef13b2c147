/* onnx_model.h: an ONNX ModelProto as onnx_parse.c indexes it (names and
 * tensors point into the caller's bytes, counts capped before anything is
 * allocated) and the helpers the converter (onnx_read.c) uses to read it.
 * Internal to src/io. */
#ifndef DG_ONNX_MODEL_H
#define DG_ONNX_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define OX_MAX_NODES 4096
#define OX_MAX_INITS 4096
#define OX_MAX_IO 16          /* inputs or outputs of a node */
#define OX_MAX_DIMS 8
#define OX_MAX_VALUES (1 << 26) /* floats in one tensor (256 MB) */
#define OX_MAX_NAME 512
#define OX_OPSET_MIN 9
#define OX_OPSET_MAX 21

enum { OX_FLOAT = 1, OX_INT64 = 7 };

typedef struct {
  const uint8_t *p;
  size_t n;
} ox_str;

typedef struct {
  ox_str name;
  int dtype, ndim;
  int64_t dims[OX_MAX_DIMS];
  size_t count;          /* product of dims */
  const uint8_t *msg;    /* the TensorProto, read again for its values */
  size_t len;
} ox_tensor;

typedef struct {
  ox_str op, name, domain;
  ox_str in[OX_MAX_IO], out[OX_MAX_IO];
  int nin, nout;
  const uint8_t *msg;    /* the NodeProto, read again for attributes */
  size_t len;
  ox_tensor value;       /* Constant: its "value" */
} ox_node;

typedef struct {
  int opset;
  ox_node *nodes;
  int nnodes;
  ox_tensor *inits;
  int ninits;
  ox_str input, output;  /* the data input (not an initializer), output */
  const uint8_t *input_type;
  size_t input_type_len;
  ox_str producer;
  const uint8_t *msg;    /* the ModelProto, read again for metadata_props */
  size_t len;
} ox_model;

/* An attribute of a node, found by name. */
typedef struct {
  int type;               /* 1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 7 INTS */
  float f;
  int64_t i;
  int64_t ints[OX_MAX_DIMS];
  int nints;
  ox_str s;
  const uint8_t *t;       /* TENSOR: the TensorProto */
  size_t tlen;
} ox_attr;

/* ---- reading it (onnx_parse.c) --------------------------------------------- */

/* The ModelProto in buf: the default domain's opset (9..21), the graph's
 * nodes, initializers, one data input and one output (m->nodes and
 * m->inits allocated; the caller frees them, also on failure). */
int ox_parse_model(ox_model *m, const uint8_t *buf, size_t len);
/* The data input's shape: [N, C, H, W], [N, H, W, 1] (Keras' one-channel
 * images: *nhwc set) or [N, F] (*flat set), float. */
int ox_input_shape(const ox_model *m, int *h, int *w, int *c, int *flat,
                   int *nhwc);
/* Each metadata_props entry of the model in turn to each(ctx, key,
 * value) until it returns non-zero (that status is returned). */
int ox_model_props(const ox_model *m, int (*each)(void *ctx, ox_str k, ox_str v),
                   void *ctx);
/* A tensor's values as floats (FLOAT, or INT64 converted) into *out: a
 * new array of t->count, checked finite; a status. */
int ox_tensor_values(const ox_tensor *t, float **out);
/* Node attribute `want` into *a: 1 found, 0 not, or an error status. Every
 * attribute of the node must be among `known` (space-separated). */
int ox_node_attr(const ox_node *nd, const char *want, const char *known,
                 ox_attr *a);
/* "ONNX node "conv1" (Conv): ...": DG_ERR_FORMAT with that message. */
int ox_node_err(const ox_node *nd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* A name printable in a message (buf of 64): at most 60 characters,
 * others as '?'. */
const char *ox_shown(ox_str s, char *buf);
int ox_str_eq(ox_str s, const char *c);
int ox_str_same(ox_str a, ox_str b);

#endif
