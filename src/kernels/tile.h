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

/* DG_UNROLL4 unrolls a loop 4 times. It goes on the depth loops of
 * microkernels that walk several row pointers: each pointer costs an add
 * per step, and without unrolling those adds, not the FMAs, limit the loop
 * (they share the issue width). Not in WebAssembly: there clang hoists the
 * loads of all four steps to the top of the unrolled body (24 live vectors
 * for a 4 x 2 tile), and V8, which allocates registers in that order and
 * has 16 of them, spills accumulators to the stack on every step
 * (docs/performance.md has the figures; kernels_infer.c's loop found this
 * first). */
#if defined(__wasm__)
#define DG_UNROLL4 DG_NOUNROLL
#elif defined(__clang__)
#define DG_UNROLL4 DG_PRAGMA(unroll 4)
#elif defined(__GNUC__)
#define DG_UNROLL4 DG_PRAGMA(GCC unroll 4)
#else
#define DG_UNROLL4
#endif

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

/* n steps in order: acc[r][v] += x[r][q] * b[q * ldb + v * DG_VW ..] for
 * q < n. unroll4 (a constant): the loop under DG_UNROLL4, else rolled. */
DG_INLINE void dg_tile_steps(const int R, const int nv, const int ld,
                             dg_vf *acc, const float *const *x, int n,
                             const float *b, size_t ldb, const int unroll4) {
  if (unroll4) {
    DG_UNROLL4
    for (int q = 0; q < n; q++, b += ldb)
      dg_tile_step(R, nv, ld, acc, x, (size_t)q, b);
  } else {
    DG_NOUNROLL
    for (int q = 0; q < n; q++, b += ldb)
      dg_tile_step(R, nv, ld, acc, x, (size_t)q, b);
  }
}

/* A window: acc = the sum over runs s < k and positions q < kc of
 * (a[r] + s * ss)[q] times the weights b (ldb floats a step, the steps in
 * that order), one chain per element from zero. unroll4 as in
 * dg_tile_steps. */
DG_INLINE void dg_tile_window(const int R, const int nv, const int ld,
                              dg_vf *acc, const float *const *a, int k,
                              int kc, size_t ss, const float *b, size_t ldb,
                              const int unroll4) {
  dg_tile_zero(R, nv, ld, acc);
  for (int s = 0; s < k; s++, b += (size_t)kc * ldb) {
    const float *ar[16];
    DG_UNROLL
    for (int r = 0; r < R; r++) ar[r] = a[r] + s * ss;
    dg_tile_steps(R, nv, ld, acc, ar, kc, b, ldb, unroll4);
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
