/* kernels_infer.h: inference kernels for one image at a time (batch 1, and
 * small batches image by image), where the batched kernels of kernels.h
 * spend more on per-call setup than on arithmetic: a direct convolution
 * and a dense GEMV that read weights packed once per model (a following
 * batch norm folded in), with bias, ReLU and a 2 x 2 max pool in their
 * epilogue (a batch norm is folded into the weights by the caller before
 * packing). Each has a scalar reference (_ref, the specification) that
 * reads the weights in their model layout; tests compare the two.
 *
 * Packed layouts are private to kernels_infer.c: callers size them with
 * the _packed_size calls and fill them with the _pack calls.
 */
#ifndef DG_KERNELS_INFER_H
#define DG_KERNELS_INFER_H

#include <stddef.h>

/* 1 if dg_infer_conv is the faster way to run this layer for one image
 * on this target (else the batched dg_conv2d of kernels.h is). */
int dg_infer_conv_preferred(int c, int f, int k);
/* Floats of a packed conv layer: weights (k, k, c, f) and bias (f). */
size_t dg_infer_conv_packed_size(int c, int f, int k);
/* packed <- wt (k, k, c, f) and bias (f). */
void dg_infer_conv_pack(const float *wt, const float *bias, int c, int f,
                        int k, float *packed);
/* Floats of workspace dg_infer_conv needs (the zero-padded image). */
size_t dg_infer_conv_work(int h, int w, int c, int pad);
/* One image in (h, w, c) -> out (oh, ow, f) = conv + bias, ReLU if relu;
 * with pool = 2, out is the 2 x 2 max pool of that, (oh/2, ow/2, f)
 * (floor). pad = (k-1)/2 for same, 0 for valid; stride 1. */
void dg_infer_conv(const float *in, int h, int w, int c, const float *packed,
                   int f, int k, int pad, int relu, int pool, float *out,
                   float *work);
/* The same from the unpacked weights. */
void dg_infer_conv_ref(const float *in, int h, int w, int c, const float *wt,
                       const float *bias, int f, int k, int pad, int relu,
                       int pool, float *out);

/* Floats of a packed dense layer: weights (i, u) and bias (u). */
size_t dg_infer_dense_packed_size(int i, int u);
void dg_infer_dense_pack(const float *w, const float *bias, int i, int u,
                         float *packed);
/* y (u) = x (i) @ w (i, u) + bias, ReLU if relu. */
void dg_infer_dense(const float *x, int i, const float *packed, int u,
                    int relu, float *y);
void dg_infer_dense_ref(const float *x, int i, const float *w,
                        const float *bias, int u, int relu, float *y);

#endif
