/* layer_gap.c: global average pooling, forward and backward side by side:
 * the mean of each channel over the whole image, (H, W, C) -> (1, 1, C). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

/* in (N, H, W, C) NHWC -> out (N, C) */
static void gap_forward(dg_net *net, dg_step *s, const float *in, int n,
                        dg_rng *rng) {
  const dg_layer *l = s->l;
  size_t hw = (size_t)l->ih * l->iw, C = (size_t)l->ic;
  float inv = 1.0f / (float)hw;
  for (int b = 0; b < n; b++) {
    const float *x = in + (size_t)b * hw * C;
    float *y = l->out + (size_t)b * C;
    memset(y, 0, C * sizeof(float));
    for (size_t p = 0; p < hw; p++)
      for (size_t c = 0; c < C; c++) y[c] += x[p * C + c];
    for (size_t c = 0; c < C; c++) y[c] *= inv;
  }
}

/* din (N, H, W, C) = dout (N, C) / (H * W) at every position */
static void gap_backward(dg_net *net, dg_step *s, const float *in, float *din,
                         int n) {
  const dg_layer *l = s->l;
  size_t hw = (size_t)l->ih * l->iw, C = (size_t)l->ic;
  float inv = 1.0f / (float)hw;
  if (!din) return;
  for (int b = 0; b < n; b++) {
    const float *dy = l->dout + (size_t)b * C;
    float *dx = din + (size_t)b * hw * C;
    for (size_t p = 0; p < hw; p++)
      for (size_t c = 0; c < C; c++) dx[p * C + c] = dy[c] * inv;
  }
}

const dg_op dg_op_gap = {"gap", gap_forward, gap_backward, NULL, NULL, NULL};

/* ---- the layer kind ---------------------------------------------------------- */

static const char *gap_args(dg_layer *l, char **tok, int nt, int *h, int *w,
                            int *c) {
  *h = *w = 1;
  return nt != 1 ? "takes no arguments" : NULL;
}

const dg_layer_type dg_layer_gap = {"gap", "globalavgpool",
                                    "GlobalAveragePooling2D", gap_args, NULL,
                                    NULL, &dg_op_gap, 0};
