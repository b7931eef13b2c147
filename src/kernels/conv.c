/* conv.c: the convolution entry points (kernels.h): each runs Winograd's
 * path (winograd.c) when the caller's dg_exec asks for it and the shape
 * allows, else the direct product (kernels.c). The choice is made here and
 * nowhere else, so neither kernel file calls the other's convolutions. */
#include <string.h>

#include "kernels/kernels.h"

size_t dg_conv2d_work(int n, int h, int w, int c, int f, int k, int pad) {
  size_t m = dg_conv2d_direct_work(n, h, w, c, f, k, pad);
  if (m && dg_wino_shape(c, f, k)) { /* whatever a dg_exec says */
    size_t wn = dg_wino_work(n, h, w, c, f, pad);
    m = m > wn ? m : wn;
  }
  return m;
}

void dg_conv2d(const dg_exec *ex, const float *in, int n, int h, int w, int c,
               const float *wt, const float *bias, int f, int k, int pad,
               int relu, float *out, float *work) {
  int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
  if (n <= 0 || oh <= 0 || ow <= 0 || f <= 0) return;
  if (dg_wino_applies(ex, c, f, k))
    dg_wino_conv2d(in, n, h, w, c, wt, bias, f, pad, relu, out, work);
  else
    dg_conv2d_direct(ex, in, n, h, w, c, wt, bias, f, k, pad, relu, out, work);
}

void dg_conv2d_grad_w(const dg_exec *ex, const float *in, const float *dy,
                      int n, int h, int w, int c, int f, int k, int pad,
                      float *dw, float *db, float *work) {
  int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
  if (f <= 0 || oh <= 0 || ow <= 0) return;
  if (n > 0 && dg_wino_applies(ex, c, f, k))
    dg_wino_conv2d_grad_w(in, dy, n, h, w, c, f, pad, dw, db, work);
  else /* n <= 0 too: it zeroes dw and db */
    dg_conv2d_direct_grad_w(ex, in, dy, n, h, w, c, f, k, pad, dw, db, work);
}

void dg_conv2d_grad_in(const dg_exec *ex, const float *dy, const float *wt,
                       int n, int h, int w, int c, int f, int k, int pad,
                       float *din, float *work) {
  int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
  if (n <= 0 || oh <= 0 || ow <= 0 || c <= 0) return;
  if (dg_wino_applies(ex, c, f, k))
    dg_wino_conv2d_grad_in(dy, wt, n, h, w, c, f, pad, din, work);
  else
    dg_conv2d_direct_grad_in(ex, dy, wt, n, h, w, c, f, k, pad, din, work);
}
