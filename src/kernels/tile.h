/* tile.h: the register tile of the SIMD convolution and dense kernels
 * (kernels.c, kernels_infer.c), written once against simd.h.
 *
 * A tile is R rows x nv vectors of accumulators, acc[r * ld + v]: zeroed,
 * updated by rank-one steps (one multiply-add chain per element, in the
 * order of the steps) and stored row by row with bias and ReLU. R, nv and
 * ld are constants at every call: with DG_INLINE and full unrolling the
 * array is scalarized and the tile stays in registers, as when each
 * kernel wrote these loops itself. */
#ifndef DG_KERNELS_TILE_H
#define DG_KERNELS_TILE_H

#include <stddef.h>

#include "kernels/simd.h"

/* acc[r][v] = 0 for r < R, v < nv. */
DG_INLINE void dg_tile_zero(const int R, const int nv, const int ld,
                            dg_vf *acc) {
  DG_UNROLL
  for (int r = 0; r < R; r++) {
    DG_UNROLL
    for (int v = 0; v < nv; v++) acc[r * ld + v] = dg_vzero();
  }
}

/* One step: acc[r][v] += x[r][q] * b[v * DG_VW ..] (nv vectors at b). */
DG_INLINE void dg_tile_step(const int R, const int nv, const int ld,
                            dg_vf *acc, const float *const *x, size_t q,
                            const float *b) {
  dg_vf bv[16];
  DG_UNROLL
  for (int v = 0; v < nv; v++) bv[v] = dg_vload(b + v * DG_VW);
  DG_UNROLL
  for (int r = 0; r < R; r++) {
    dg_vf av = dg_vset1(x[r][q]);
    DG_UNROLL
    for (int v = 0; v < nv; v++)
      acc[r * ld + v] = dg_vfma(av, bv[v], acc[r * ld + v]);
  }
}

/* One row of a tile: x[v] + bias, ReLU if relu, the first nc channels
 * stored at o (nv vectors; bias read no further than nc). */
DG_INLINE void dg_tile_store(const int nv, const dg_vf *x, const float *bias,
                             int relu, float *o, int nc) {
  dg_vf zero = dg_vzero();
  if (nc == nv * DG_VW) { /* whole vectors: no lane counts in the loop */
    DG_UNROLL
    for (int v = 0; v < nv; v++) {
      dg_vf y = dg_vadd(x[v], dg_vload(bias + v * DG_VW));
      dg_vstore(o + v * DG_VW, relu ? dg_vmax(y, zero) : y);
    }
    return;
  }
  DG_UNROLL
  for (int v = 0; v < nv; v++) {
    int cnt = nc - v * DG_VW;
    if (cnt <= 0) break;
    if (cnt > DG_VW) cnt = DG_VW;
    dg_vf b = cnt == DG_VW ? dg_vload(bias + v * DG_VW)
                           : dg_vload_n(bias + v * DG_VW, cnt);
    dg_vf y = dg_vadd(x[v], b);
    y = relu ? dg_vmax(y, zero) : y;
    if (cnt == DG_VW)
      dg_vstore(o + v * DG_VW, y);
    else
      dg_vstore_n(o + v * DG_VW, y, cnt);
  }
}

#endif
