/* kernels.c: the fast kernels of kernels.h, written once against simd.h.
 *
 * Owns: the packed, register-blocked GEMM (the hot spot of dense and conv
 * layers, forward and backward), im2col/col2im, pooling, bias, ReLU, the
 * kernel thread count and the name of the compiled SIMD path.
 *
 * Determinism: threads only ever split *output* elements between them. The
 * K reduction of every output element runs in one fixed order (depth blocks
 * fixed by K, in ascending order, each one FMA chain inside one microkernel
 * call, then one C update), and every route an element can take when the
 * output is cut differently (full or edge tile, packed or in-place B) does
 * exactly that arithmetic. So 1 and N threads give bit-identical results.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels.h"
#include "simd.h"

/* OpenMP pragmas that vanish (without -Wunknown-pragmas noise) when the
 * build has no OpenMP, e.g. the WASM builds. */
#define DG_PRAGMA(x) _Pragma(#x)
#ifdef _OPENMP
#define DG_OMP(x) DG_PRAGMA(omp x)
#else
#define DG_OMP(x)
#endif

/* Full unrolling of the microkernel's fixed-size loops is what lets the
 * compiler keep the accumulator tile in registers. */
#if defined(__clang__)
#define DG_UNROLL DG_PRAGMA(unroll)
#elif defined(__GNUC__)
#define DG_UNROLL DG_PRAGMA(GCC unroll 16)
#else
#define DG_UNROLL
#endif

#define DG_TLS _Thread_local

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

/* ---- threads ------------------------------------------------------------ */

static int g_threads = 1;

void dg_kernels_set_threads(int threads) {
  g_threads = threads < 1 ? 1 : threads > 256 ? 256 : threads;
}

int dg_kernels_threads(void) {
#ifdef _OPENMP
  return g_threads;
#else
  return 1;
#endif
}

const char *dg_kernels_simd(void) { return DG_SIMD_NAME; }

/* Threads worth using for `work` multiply-adds (or element operations):
 * forking a team costs a few microseconds, so small calls stay serial. The
 * choice can depend on anything: it never changes the arithmetic. */
static int threads_for(double work, double min_work_per_thread) {
  int nt = dg_kernels_threads();
  if (nt > 1 && work < min_work_per_thread * 2) return 1;
  return nt;
}

/* ---- GEMM blocking ------------------------------------------------------- */

/* Microtile MR x NR (NR = NV vectors): as many accumulators as the register
 * file holds while leaving room for the B vectors and the A broadcast.
 * AVX-512 (32 zmm): 8x32 = 16 accumulators. AVX2 (16 ymm): 6x16 = 12.
 * SSE2/WASM (16 xmm, and no FMA so mul needs a temporary): 4x8 = 8.
 * Scalar: 4x4 = 16 scalars, which most targets can keep in registers. */
#if defined(DG_GEMM_MR) && defined(DG_GEMM_NV) /* tuning overrides */
#define MR DG_GEMM_MR
#define NV DG_GEMM_NV
#elif defined(DG_SIMD_AVX512)
#define MR 8
#define NV 2
#elif defined(DG_SIMD_AVX2)
#define MR 6
#define NV 2
#elif defined(DG_SIMD_SSE2) || defined(DG_SIMD_WASM)
#define MR 4
#define NV 2
#else
#define MR 4
#define NV 4
#endif
#define NR (NV * DG_VW)

/* KC: depth of one packed block. An A micro-panel (KC x MR floats, 8 KB on
 * AVX-512) stays in L1 while the microkernel streams B micro-panels from L2.
 * NC: columns of B packed at once (KC x NC floats = 512 KB, L2-sized).
 * MC: rows of A packed at once per work item. */
#ifndef DG_GEMM_KC
#define DG_GEMM_KC 256
#endif
#ifndef DG_GEMM_MCT
#define DG_GEMM_MCT 16
#endif
#define KC DG_GEMM_KC
#define NC 512
#define MC (MR * DG_GEMM_MCT)

/* Per-thread packing buffers, allocated on first use and kept for the
 * thread's life, so the hot path never allocates. */
static DG_TLS float *tls_apack; /* (MC/MR, KC, MR) packed A */
static DG_TLS float *tls_bpack; /* (NC/NR, KC, NR) packed B */

static float *tls_buffer(float **slot, size_t nfloats) {
  if (!*slot) {
    size_t bytes = (nfloats * sizeof(float) + 63) / 64 * 64;
    *slot = (float *)aligned_alloc(64, bytes);
  }
  return *slot;
}

/* Pack rows [i0, i0+mc) x depth [p0, p0+kc) of op(A) into micro-panels of
 * MR rows: dst (ceil(mc/MR), kc, MR), zero rows past mc so that the
 * microkernel never needs a row mask. */
static void pack_a(int ta, const float *A, int lda, int i0, int mc, int p0,
                   int kc, float *dst) {
  for (int ir = 0; ir < mc; ir += MR) {
    int mr = imin(MR, mc - ir);
    float *d = dst + (size_t)ir * kc; /* (kc, MR) */
    if (!ta) {
      /* A is (M,K): each row is contiguous in p; interleave MR rows. */
      for (int r = 0; r < mr; r++) {
        const float *s = A + (size_t)(i0 + ir + r) * lda + p0;
        for (int p = 0; p < kc; p++) d[p * MR + r] = s[p];
      }
      for (int r = mr; r < MR; r++)
        for (int p = 0; p < kc; p++) d[p * MR + r] = 0.0f;
    } else {
      /* A is (K,M): for each p the MR rows are already contiguous. */
      for (int p = 0; p < kc; p++) {
        const float *s = A + (size_t)(p0 + p) * lda + i0 + ir;
        float *dp = d + p * MR;
        int r = 0;
        for (; r < mr; r++) dp[r] = s[r];
        for (; r < MR; r++) dp[r] = 0.0f;
      }
    }
  }
}

/* Pack one micro-panel: columns [j, j+nr) x depth [p0, p0+kc) of op(B) into
 * d (kc, NR), zero columns past nr. */
static void pack_b_panel(int tb, const float *B, int ldb, int j, int nr,
                         int p0, int kc, float *d) {
  if (!tb) {
    /* B is (K,N): each p gives NR contiguous floats. */
    for (int p = 0; p < kc; p++) {
      const float *s = B + (size_t)(p0 + p) * ldb + j;
      float *dp = d + (size_t)p * NR;
      if (nr == NR) {
        DG_UNROLL
        for (int v = 0; v < NV; v++)
          dg_vstore(dp + v * DG_VW, dg_vload(s + v * DG_VW));
      } else {
        int c = 0;
        for (; c < nr; c++) dp[c] = s[c];
        for (; c < NR; c++) dp[c] = 0.0f;
      }
    }
  } else if (nr == NR) {
    /* B is (N,K): each column of op(B) is a contiguous row of B. Read
     * DG_VW rows x DG_VW depths as vectors and transpose them in registers;
     * a scalar transpose here costs as much as the arithmetic on it when M
     * is small. */
    int p = 0;
    for (; p + DG_VW <= kc; p += DG_VW) {
      DG_UNROLL
      for (int v = 0; v < NV; v++) {
        dg_vf r[DG_VW];
        const float *s = B + (size_t)(j + v * DG_VW) * ldb + p0 + p;
        for (int q = 0; q < DG_VW; q++) r[q] = dg_vload(s + (size_t)q * ldb);
        dg_vtranspose(r);
        for (int q = 0; q < DG_VW; q++)
          dg_vstore(d + (size_t)(p + q) * NR + v * DG_VW, r[q]);
      }
    }
    for (; p < kc; p++)
      for (int c = 0; c < NR; c++)
        d[(size_t)p * NR + c] = B[(size_t)(j + c) * ldb + p0 + p];
  } else {
    for (int c = 0; c < nr; c++) {
      const float *s = B + (size_t)(j + c) * ldb + p0;
      for (int p = 0; p < kc; p++) d[(size_t)p * NR + c] = s[p];
    }
    for (int c = nr; c < NR; c++)
      for (int p = 0; p < kc; p++) d[(size_t)p * NR + c] = 0.0f;
  }
}

#if defined(__GNUC__)
#define DG_INLINE static inline __attribute__((always_inline))
#else
#define DG_INLINE static inline
#endif

/* The C update after one KC block, from the accumulator tile acc (MR, NR):
 *   first block, beta == 0:  C = alpha*acc           (old C never read)
 *   first block, beta != 0:  C = alpha*acc + beta*C
 *   later blocks:            C = alpha*acc + C
 * Edge tiles (mr < MR or nr < NR) go through a full-size scratch tile with
 * exactly the same vector operations, so an element's value never depends on
 * where the tile boundaries fall. */
DG_INLINE void tile_update(dg_vf acc[MR][NV], float *restrict c, int ldc,
                           int mr, int nr, float alpha, float beta,
                           int first) {
  float tile[MR * NR]; /* (MR, NR) scratch for edge tiles */
  float *cp = c;
  int ldt = ldc;
  int full = mr == MR && nr == NR;
  int read_c = !(first && beta == 0.0f);
  if (!full) {
    cp = tile;
    ldt = NR;
    if (read_c)
      for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) tile[r * NR + j] = c[(size_t)r * ldc + j];
  }
  dg_vf va = dg_vset1(alpha);
  if (!read_c) {
    DG_UNROLL
    for (int r = 0; r < MR; r++) {
      DG_UNROLL
      for (int v = 0; v < NV; v++)
        if (full || r < mr)
          dg_vstore(cp + (size_t)r * ldt + v * DG_VW, dg_vmul(va, acc[r][v]));
    }
  } else {
    dg_vf vb = dg_vset1(first ? beta : 1.0f);
    DG_UNROLL
    for (int r = 0; r < MR; r++) {
      DG_UNROLL
      for (int v = 0; v < NV; v++) {
        if (!(full || r < mr)) continue;
        float *q = cp + (size_t)r * ldt + v * DG_VW;
        dg_vf old = first ? dg_vmul(vb, dg_vload(q)) : dg_vload(q);
        dg_vstore(q, dg_vfma(va, acc[r][v], old));
      }
    }
  }
  if (!full)
    for (int r = 0; r < mr; r++)
      for (int j = 0; j < nr; j++) c[(size_t)r * ldc + j] = tile[r * NR + j];
}

/* The microkernel on packed A: acc (MR, NR) = sum over p < kc of the outer
 * product a[p] (MR) x b[p] (NR), one FMA chain per element in ascending p.
 * b[p] is at b + p*bs: bs = NR for a packed panel, ldb for B read in place. */
static void ukernel_packed(int kc, const float *restrict a,
                           const float *restrict b, int bs, float *restrict c,
                           int ldc, int mr, int nr, float alpha, float beta,
                           int first) {
  dg_vf acc[MR][NV];
  DG_UNROLL
  for (int r = 0; r < MR; r++) {
    DG_UNROLL
    for (int v = 0; v < NV; v++) acc[r][v] = dg_vzero();
  }
  for (int p = 0; p < kc; p++) {
    dg_vf bv[NV];
    DG_UNROLL
    for (int v = 0; v < NV; v++) bv[v] = dg_vload(b + v * DG_VW);
    DG_UNROLL
    for (int r = 0; r < MR; r++) {
      dg_vf av = dg_vset1(a[r]);
      DG_UNROLL
      for (int v = 0; v < NV; v++) acc[r][v] = dg_vfma(av, bv[v], acc[r][v]);
    }
    a += MR;
    b += bs;
  }
  tile_update(acc, c, ldc, mr, nr, alpha, beta, first);
}

/* The same microkernel reading A (M,K) in place: MR row pointers, each
 * walked along p. Packing A would cost a strided shuffle per element, as
 * much as the arithmetic when N is small; the MR rows of one KC block
 * (MR x KC floats) stay in L1 across the sweep over B anyway. Rows past mr
 * re-read row 0 and are discarded, so the arithmetic is identical. */
static void ukernel_rows(int kc, const float *a, int lda,
                         const float *restrict b, int bs, float *restrict c,
                         int ldc, int mr, int nr, float alpha, float beta,
                         int first) {
  const float *ar[MR];
  DG_UNROLL
  for (int r = 0; r < MR; r++) ar[r] = a + (size_t)(r < mr ? r : 0) * lda;
  dg_vf acc[MR][NV];
  DG_UNROLL
  for (int r = 0; r < MR; r++) {
    DG_UNROLL
    for (int v = 0; v < NV; v++) acc[r][v] = dg_vzero();
  }
  for (int p = 0; p < kc; p++) {
    dg_vf bv[NV];
    DG_UNROLL
    for (int v = 0; v < NV; v++) bv[v] = dg_vload(b + v * DG_VW);
    DG_UNROLL
    for (int r = 0; r < MR; r++) {
      dg_vf av = dg_vset1(ar[r][p]);
      DG_UNROLL
      for (int v = 0; v < NV; v++) acc[r][v] = dg_vfma(av, bv[v], acc[r][v]);
    }
    b += bs;
  }
  tile_update(acc, c, ldc, mr, nr, alpha, beta, first);
}

/* C = beta*C (K == 0 or alpha == 0: A and B are not read). */
static void scale_c(int M, int N, float beta, float *C, int ldc) {
  for (int i = 0; i < M; i++) {
    float *c = C + (size_t)i * ldc;
    if (beta == 0.0f)
      memset(c, 0, (size_t)N * sizeof(float));
    else
      for (int j = 0; j < N; j++) c[j] *= beta;
  }
}

/* One thread's share of the packed path: C (M,N) for a rectangle of the
 * output, BLIS-style. For each NC-wide block of columns and each KC-deep
 * block of the reduction, B is packed once, then for each MC-row block A is
 * packed and the microkernel sweeps the tiles with its A micro-panel (MR x
 * KC) held in L1 while B micro-panels stream from L2. */
static void gemm_region(int ta, int tb, int M, int N, int K, float alpha,
                        const float *A, int lda, const float *B, int ldb,
                        float beta, float *C, int ldc, float *apack,
                        float *bpack) {
  /* Equal depth blocks (K = 784 -> 4 x 196, not 3 x 256 + 16): a short
   * last block would pay a full C update for little arithmetic. Depends
   * on K only, so the reduction order is fixed for a given call shape. */
  int nkb = (K + KC - 1) / KC;
  int kcb = (K + nkb - 1) / nkb;
  for (int jc = 0; jc < N; jc += NC) {
    int nc = imin(NC, N - jc);
    for (int pc = 0; pc < K; pc += kcb) {
      int kc = imin(kcb, K - pc);
      int first = pc == 0;
      /* With few rows, packing B costs as much as using it: full-width
       * panels of a (K,N) B are then read in place (same arithmetic). */
      int bdirect = !tb && M <= 4 * MR;
      for (int jr = 0; jr < nc; jr += NR)
        if (!bdirect || nc - jr < NR)
          pack_b_panel(tb, B, ldb, jc + jr, imin(NR, nc - jr), pc, kc,
                       bpack + (size_t)jr * kc); /* panel jr/NR: (kc, NR) */
      for (int ic = 0; ic < M; ic += MC) {
        int mc = imin(MC, M - ic);
        if (ta) pack_a(ta, A, lda, ic, mc, pc, kc, apack);
        for (int ir = 0; ir < mc; ir += MR) {
          const float *ap = apack + (size_t)ir * kc; /* (kc, MR) */
          const float *arow = A + (size_t)(ic + ir) * lda + pc;
          float *crow = C + (size_t)(ic + ir) * ldc + jc;
          int mr = imin(MR, mc - ir);
          for (int jr = 0; jr < nc; jr += NR) {
            int nr = imin(NR, nc - jr);
            const float *bp = bpack + (size_t)jr * kc;
            int bs = NR;
            if (bdirect && nr == NR) {
              bp = B + (size_t)pc * ldb + jc + jr;
              bs = ldb;
            }
            if (ta)
              ukernel_packed(kc, ap, bp, bs, crow + jr, ldc, mr, nr, alpha,
                             beta, first);
            else
              ukernel_rows(kc, arow, lda, bp, bs, crow + jr, ldc, mr, nr,
                           alpha, beta, first);
          }
        }
      }
    }
  }
}

/* The packed path. Threads split the output into rectangles (rows in
 * multiples of MR, or columns in multiples of NR when M is too short to
 * share), and each runs gemm_region on its own with its own packing
 * buffers: B is packed once per thread instead of once in total (a K*N cost
 * against M*N*K/threads of arithmetic), which buys a single fork/join per
 * call and no barriers inside, the thing that matters when cores are
 * shared with other processes. */
static void gemm_packed(int ta, int tb, int M, int N, int K, float alpha,
                        const float *A, int lda, const float *B, int ldb,
                        float beta, float *C, int ldc, int nt) {
  int mtiles = (M + MR - 1) / MR, ntiles = (N + NR - 1) / NR;
  /* rows per thread when splitting rows; columns per thread otherwise */
  int split_rows = mtiles >= 2 * nt || mtiles >= ntiles;
  int parts = imin(nt, split_rows ? mtiles : ntiles);
  int step = split_rows ? (mtiles + parts - 1) / parts * MR
                        : (ntiles + parts - 1) / parts * NR;
  (void)step;

  DG_OMP(parallel num_threads(parts) if (parts > 1))
  {
    int t = 0, nthr = 1;
#ifdef _OPENMP
    t = omp_get_thread_num();
    nthr = omp_get_num_threads();
#endif
    float *apack = tls_buffer(&tls_apack, (size_t)MC * KC);
    float *bpack = tls_buffer(&tls_bpack, (size_t)KC * NC);
    /* If the team came out smaller than asked, thread t takes parts
     * t, t+nthr, ... so every part is still done. */
    for (int part = t; part < parts; part += nthr) {
      int r0 = 0, r1 = M, c0 = 0, c1 = N;
      if (split_rows) {
        r0 = part * step;
        r1 = imin(M, r0 + step);
      } else {
        c0 = part * step;
        c1 = imin(N, c0 + step);
      }
      if (r0 >= r1 || c0 >= c1) continue;
      const float *Ap = ta ? A + r0 : A + (size_t)r0 * lda;
      const float *Bp = tb ? B + (size_t)c0 * ldb : B + c0;
      float *Cp = C + (size_t)r0 * ldc + c0;
      if (apack && bpack)
        gemm_region(ta, tb, r1 - r0, c1 - c0, K, alpha, Ap, lda, Bp, ldb,
                    beta, Cp, ldc, apack, bpack);
      else /* no buffers (out of memory): the slow exact path */
        dg_gemm_ref(ta, tb, r1 - r0, c1 - c0, K, alpha, Ap, lda, Bp, ldb,
                    beta, Cp, ldc);
    }
  }
}

/* Small-M path (batch-1 inference and the like): packing B would cost as
 * much as the whole product, so B is streamed in place. */
#define SM 4 /* M up to this takes the small path */

static void small_update(float *c, float acc, float alpha, float beta) {
  *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

#if defined(DG_SIMD_WASM)
/* The same tile for WebAssembly with named accumulators (R * V <= 8)
 * instead of arrays: clang turns the array form's fixed-size loops into
 * memset/memcpy calls before it unrolls them, and the tile then lives in
 * linear memory (the batch-1 dense layer ran ~8x slower than a plain loop).
 * Same arithmetic: one mul+add chain per element in ascending p. */
DG_INLINE void small_nn_tile(const int R, const int V, const float *const *arow,
                             size_t astep, int K, const float *b, int ldb,
                             float *c, int ldc, int m, float alpha,
                             float beta) {
  const dg_vf z = dg_vzero();
  dg_vf c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
  const float *a0 = arow[0], *a1 = arow[R > 1 ? 1 : 0];
  const float *a2 = arow[R > 2 ? 2 : 0], *a3 = arow[R > 3 ? 3 : 0];
  for (int p = 0; p < K; p++) {
    const float *bp = b + (size_t)p * ldb;
    size_t q = (size_t)p * astep;
    if (R == 1) { /* 1 x V, V <= 8: c0..c7 are the V vectors of the row */
      dg_vf av = dg_vset1(a0[q]);
      c0 = dg_vfma(av, dg_vload(bp), c0);
      if (V > 1) c1 = dg_vfma(av, dg_vload(bp + 1 * DG_VW), c1);
      if (V > 2) c2 = dg_vfma(av, dg_vload(bp + 2 * DG_VW), c2);
      if (V > 3) c3 = dg_vfma(av, dg_vload(bp + 3 * DG_VW), c3);
      if (V > 4) c4 = dg_vfma(av, dg_vload(bp + 4 * DG_VW), c4);
      if (V > 5) c5 = dg_vfma(av, dg_vload(bp + 5 * DG_VW), c5);
      if (V > 6) c6 = dg_vfma(av, dg_vload(bp + 6 * DG_VW), c6);
      if (V > 7) c7 = dg_vfma(av, dg_vload(bp + 7 * DG_VW), c7);
    } else { /* 4 x V, V <= 2: row r is c(2r), c(2r+1) */
      dg_vf b0 = dg_vload(bp), b1 = V > 1 ? dg_vload(bp + DG_VW) : z, av;
      av = dg_vset1(a0[q]);
      c0 = dg_vfma(av, b0, c0);
      if (V > 1) c1 = dg_vfma(av, b1, c1);
      av = dg_vset1(a1[q]);
      c2 = dg_vfma(av, b0, c2);
      if (V > 1) c3 = dg_vfma(av, b1, c3);
      av = dg_vset1(a2[q]);
      c4 = dg_vfma(av, b0, c4);
      if (V > 1) c5 = dg_vfma(av, b1, c5);
      av = dg_vset1(a3[q]);
      c6 = dg_vfma(av, b0, c6);
      if (V > 1) c7 = dg_vfma(av, b1, c7);
    }
  }
  float t[8 * DG_VW]; /* (R, 8 / R vectors) */
  dg_vstore(t + 0 * DG_VW, c0), dg_vstore(t + 1 * DG_VW, c1);
  dg_vstore(t + 2 * DG_VW, c2), dg_vstore(t + 3 * DG_VW, c3);
  dg_vstore(t + 4 * DG_VW, c4), dg_vstore(t + 5 * DG_VW, c5);
  dg_vstore(t + 6 * DG_VW, c6), dg_vstore(t + 7 * DG_VW, c7);
  for (int r = 0; r < m; r++)
    for (int j = 0; j < V * DG_VW; j++)
      small_update(c + (size_t)r * ldc + j, t[r * (8 / R) * DG_VW + j], alpha,
                   beta);
}
#else
/* !tb: an R x (V vectors) block of C at rows arow[0..R), columns b[0..):
 * each step of p broadcasts R values of op(A) against V vectors of one row
 * of B. R and V are constants at every call, so the loops unroll and the
 * accumulators live in registers. Only the first m rows are stored. */
DG_INLINE void small_nn_tile(const int R, const int V, const float *const *arow,
                             size_t astep, int K, const float *b, int ldb,
                             float *c, int ldc, int m, float alpha,
                             float beta) {
  dg_vf acc[SM][8];
  DG_UNROLL
  for (int r = 0; r < R; r++) {
    DG_UNROLL
    for (int v = 0; v < V; v++) acc[r][v] = dg_vzero();
  }
  for (int p = 0; p < K; p++) {
    const float *bp = b + (size_t)p * ldb;
    dg_vf bv[8];
    DG_UNROLL
    for (int v = 0; v < V; v++) bv[v] = dg_vload(bp + v * DG_VW);
    DG_UNROLL
    for (int r = 0; r < R; r++) {
      dg_vf av = dg_vset1(arow[r][p * astep]);
      DG_UNROLL
      for (int v = 0; v < V; v++) acc[r][v] = dg_vfma(av, bv[v], acc[r][v]);
    }
  }
  float t[8 * DG_VW]; /* one row of the block */
  for (int r = 0; r < m; r++) {
    for (int v = 0; v < V; v++) dg_vstore(t + v * DG_VW, acc[r][v]);
    for (int j = 0; j < V * DG_VW; j++)
      small_update(c + (size_t)r * ldc + j, t[j], alpha, beta);
  }
}

#endif

/* Rows in groups of 4 x 2 vectors (4 rows share each load of B), or, when
 * M < 4, one row against 8 vectors (a long contiguous read of each row of
 * B). Column tails: single vectors, then scalars. Every element is one
 * FMA chain in ascending p, and which code handles a column depends only
 * on N, so the column chunks can be split between threads. */
static void gemm_small_nn(int ta, int M, int N, int K, float alpha,
                          const float *A, int lda, const float *B, int ldb,
                          float beta, float *C, int ldc, int nt) {
  const int R = M >= 4 ? 4 : 1;
  const int CW = (M >= 4 ? 2 : 8) * DG_VW; /* columns per chunk */
  int nchunks = (N + CW - 1) / CW;
  size_t astep = ta ? (size_t)lda : 1;
  (void)nt;
  DG_OMP(parallel for schedule(static) num_threads(nt) if (nt > 1))
  for (int ch = 0; ch < nchunks; ch++) {
    int j0 = ch * CW, w = imin(CW, N - j0);
    for (int i0 = 0; i0 < M; i0 += R) {
      int m = imin(R, M - i0);
      /* op(A)(i0+r, p) = arow[r][p * astep]; missing rows re-read row i0 */
      const float *arow[SM];
      for (int r = 0; r < R; r++) {
        int i = i0 + (r < m ? r : 0);
        arow[r] = ta ? A + i : A + (size_t)i * lda;
      }
      float *c = C + (size_t)i0 * ldc + j0;
      const float *b = B + j0;
      int j = 0;
      if (w == CW) {
        if (R == 4)
          small_nn_tile(4, 2, arow, astep, K, b, ldb, c, ldc, m, alpha, beta);
        else
          small_nn_tile(1, 8, arow, astep, K, b, ldb, c, ldc, m, alpha, beta);
        continue;
      }
      for (; j + DG_VW <= w; j += DG_VW) {
        if (R == 4)
          small_nn_tile(4, 1, arow, astep, K, b + j, ldb, c + j, ldc, m, alpha,
                        beta);
        else
          small_nn_tile(1, 1, arow, astep, K, b + j, ldb, c + j, ldc, m, alpha,
                        beta);
      }
      for (int r = 0; r < m; r++)
        for (int jj = j; jj < w; jj++) {
          float acc = 0.0f;
          for (int p = 0; p < K; p++)
            acc += arow[r][p * astep] * B[(size_t)p * ldb + j0 + jj];
          small_update(c + (size_t)r * ldc + jj, acc, alpha, beta);
        }
    }
  }
}

/* tb, !ta: C(i,j) is a dot product of two contiguous rows of length K; four
 * rows of B at a time share each load of A. */
static void gemm_small_nt(int M, int N, int K, float alpha, const float *A,
                          int lda, const float *B, int ldb, float beta,
                          float *C, int ldc, int nt) {
  int ngroups = (N + 3) / 4;
  int kv = K / DG_VW * DG_VW;
  (void)nt;
  DG_OMP(parallel for schedule(static) num_threads(nt) if (nt > 1))
  for (int g = 0; g < ngroups; g++) {
    int j0 = g * 4, w = imin(4, N - j0);
    const float *brow[4];
    for (int q = 0; q < 4; q++) brow[q] = B + (size_t)(j0 + (q < w ? q : 0)) * ldb;
    for (int i = 0; i < M; i++) {
      const float *a = A + (size_t)i * lda;
      dg_vf acc[4] = {dg_vzero(), dg_vzero(), dg_vzero(), dg_vzero()};
      for (int p = 0; p < kv; p += DG_VW) {
        dg_vf av = dg_vload(a + p);
        DG_UNROLL
        for (int q = 0; q < 4; q++)
          acc[q] = dg_vfma(av, dg_vload(brow[q] + p), acc[q]);
      }
      for (int q = 0; q < w; q++) {
        float s = dg_vhsum(acc[q]);
        for (int p = kv; p < K; p++) s += a[p] * brow[q][p];
        small_update(C + (size_t)i * ldc + j0 + q, s, alpha, beta);
      }
    }
  }
}

void dg_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A,
             int lda, const float *B, int ldb, float beta, float *C, int ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  int nt = threads_for((double)M * N * K, 1 << 20);
  if (M <= SM && !tb) {
    gemm_small_nn(ta, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nt);
    return;
  }
  if (M <= SM && !ta) {
    gemm_small_nt(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nt);
    return;
  }
  gemm_packed(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nt);
}

/* ---- im2col / col2im ------------------------------------------------------ */

/* Runs here are short (k*c floats: 5 for a first layer, 72 for c = 24,
 * k = 3), so the tail is a partial vector, never a memcpy call. */
static inline void copy_floats(float *restrict d, const float *restrict s,
                               int n) {
  int i = 0;
  for (; i + DG_VW <= n; i += DG_VW) dg_vstore(d + i, dg_vload(s + i));
  if (i < n) dg_vcopy_n(d + i, s + i, n - i);
}

static inline void add_floats(float *restrict d, const float *restrict s,
                              int n) {
  int i = 0;
  for (; i + DG_VW <= n; i += DG_VW)
    dg_vstore(d + i, dg_vadd(dg_vload(d + i), dg_vload(s + i)));
  if (i < n) dg_vaddto_n(d + i, s + i, n - i);
}

/* For a kernel row, the window's columns ox-pad .. ox-pad+k-1 are one
 * contiguous run of k*c floats in NHWC, clipped at the image border: so each
 * (row, ky) is a zero head, one copy, a zero tail. */
void dg_im2col(const float *in, int n, int h, int w, int c, int k, int pad,
               float *out) {
  int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
  if (n <= 0 || oh <= 0 || ow <= 0) return;
  int kc = k * c, kkc = k * kc;
  int rows = n * oh;
  int nt = threads_for((double)rows * ow * kkc, 1 << 16);
  (void)nt;
  DG_OMP(parallel for schedule(static) num_threads(nt) if (nt > 1))
  for (int row = 0; row < rows; row++) {
    int b = row / oh, oy = row % oh;
    const float *img = in + (size_t)b * h * w * c; /* (h, w, c) */
    float *o = out + (size_t)row * ow * kkc;         /* (ow, k, k, c) */
    for (int ox = 0; ox < ow; ox++, o += kkc) {
      int ix0 = ox - pad;
      int lo = imax(0, -ix0), hi = imin(k, w - ix0); /* valid kx range */
      for (int ky = 0; ky < k; ky++) {
        int iy = oy + ky - pad;
        float *d = o + ky * kc;
        if (iy < 0 || iy >= h || hi <= lo) {
          memset(d, 0, (size_t)kc * sizeof(float));
          continue;
        }
        if (lo > 0) memset(d, 0, (size_t)lo * c * sizeof(float));
        copy_floats(d + lo * c, img + ((size_t)iy * w + ix0 + lo) * c,
                    (hi - lo) * c);
        if (hi < k) memset(d + hi * c, 0, (size_t)(k - hi) * c * sizeof(float));
      }
    }
  }
}

/* The adjoint: each (row, ky) run is added back. Images are independent, so
 * threads split the batch; within an image the additions into each element
 * happen in the reference order (oy, ox, ky, kx), so the result is exactly
 * dg_col2im_ref's. */
void dg_col2im(const float *col, int n, int h, int w, int c, int k, int pad,
               float *din) {
  int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
  if (n <= 0 || oh <= 0 || ow <= 0) return;
  int kc = k * c, kkc = k * kc;
  int nt = threads_for((double)n * oh * ow * kkc, 1 << 16);
  if (nt > n) nt = n;
  (void)nt;
  DG_OMP(parallel for schedule(static) num_threads(nt) if (nt > 1))
  for (int b = 0; b < n; b++) {
    float *img = din + (size_t)b * h * w * c; /* (h, w, c) */
    const float *o = col + (size_t)b * oh * ow * kkc;
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++, o += kkc) {
        int ix0 = ox - pad;
        int lo = imax(0, -ix0), hi = imin(k, w - ix0);
        if (hi <= lo) continue;
        for (int ky = 0; ky < k; ky++) {
          int iy = oy + ky - pad;
          if (iy < 0 || iy >= h) continue;
          add_floats(img + ((size_t)iy * w + ix0 + lo) * c, o + ky * kc + lo * c,
                     (hi - lo) * c);
        }
      }
  }
}

/* ---- pooling --------------------------------------------------------------- */

/* Channels are innermost, so a window is p*p runs of c contiguous floats;
 * the comparison order is the reference's, so out and arg match it exactly. */
void dg_maxpool(const float *in, int n, int h, int w, int c, int p, float *out,
                int *arg) {
  int oh = h / p, ow = w / p;
  if (n <= 0 || oh <= 0 || ow <= 0 || c <= 0) return;
  int rows = n * oh;
  int nt = threads_for((double)rows * ow * p * p * c, 1 << 16);
  (void)nt;
  DG_OMP(parallel for schedule(static) num_threads(nt) if (nt > 1))
  for (int row = 0; row < rows; row++) {
    int b = row / oh, oy = row % oh;
    for (int ox = 0; ox < ow; ox++) {
      size_t o = ((size_t)row * ow + ox) * c;
      float *best = out + o;
      int *bi = arg + o;
      size_t first = (((size_t)b * h + oy * p) * w + ox * p) * c;
      for (int ch = 0; ch < c; ch++) {
        best[ch] = in[first + ch];
        bi[ch] = (int)(first + ch);
      }
      for (int dy = 0; dy < p; dy++)
        for (int dx = 0; dx < p; dx++) {
          if (dy == 0 && dx == 0) continue;
          size_t base = (((size_t)b * h + oy * p + dy) * w + ox * p + dx) * c;
          const float *x = in + base;
          for (int ch = 0; ch < c; ch++)
            if (x[ch] > best[ch]) {
              best[ch] = x[ch];
              bi[ch] = (int)(base + ch);
            }
        }
    }
  }
}

/* A scatter through arg; serial because arg may (in general) route two
 * outputs to one input, and the sum order must stay fixed. */
void dg_maxpool_backward(const float *dout, const int *arg, size_t nout,
                         float *din) {
  for (size_t i = 0; i < nout; i++) din[arg[i]] += dout[i];
}

void dg_avgpool(const float *in, int n, int h, int w, int c, int p,
                float *out) {
  int oh = h / p, ow = w / p;
  if (n <= 0 || oh <= 0 || ow <= 0 || c <= 0) return;
  int rows = n * oh;
  float inv = 1.0f / (float)(p * p);
  int cv = c / DG_VW * DG_VW;
  int nt = threads_for((double)rows * ow * p * p * c, 1 << 16);
  (void)nt;
  DG_OMP(parallel for schedule(static) num_threads(nt) if (nt > 1))
  for (int row = 0; row < rows; row++) {
    int b = row / oh, oy = row % oh;
    for (int ox = 0; ox < ow; ox++) {
      float *o = out + ((size_t)row * ow + ox) * c;
      const float *x0 = in + (((size_t)b * h + oy * p) * w + ox * p) * c;
      /* Sum in the reference's (dy, dx) order, starting from 0. */
      for (int ch = 0; ch < cv; ch += DG_VW) {
        dg_vf s = dg_vzero();
        for (int dy = 0; dy < p; dy++)
          for (int dx = 0; dx < p; dx++)
            s = dg_vadd(s, dg_vload(x0 + ((size_t)dy * w + dx) * c + ch));
        dg_vstore(o + ch, dg_vmul(s, dg_vset1(inv)));
      }
      for (int ch = cv; ch < c; ch++) {
        float s = 0.0f;
        for (int dy = 0; dy < p; dy++)
          for (int dx = 0; dx < p; dx++) s += x0[((size_t)dy * w + dx) * c + ch];
        o[ch] = s * inv;
      }
    }
  }
}

/* Overwrites all of din (see dg_avgpool_backward_ref). */
void dg_avgpool_backward(const float *dout, int n, int h, int w, int c, int p,
                         float *din) {
  int oh = h / p, ow = w / p;
  if (n <= 0 || h <= 0 || w <= 0 || c <= 0) return;
  float inv = 1.0f / (float)(p * p);
  int rows = n * h;
  int nt = threads_for((double)rows * w * c, 1 << 16);
  (void)nt;
  DG_OMP(parallel for schedule(static) num_threads(nt) if (nt > 1))
  for (int row = 0; row < rows; row++) {
    int b = row / h, y = row % h, oy = y / p;
    float *d = din + (size_t)row * w * c; /* (w, c) */
    if (oy >= oh) {
      memset(d, 0, (size_t)w * c * sizeof(float));
      continue;
    }
    const float *g = dout + ((size_t)b * oh + oy) * ow * c; /* (ow, c) */
    for (int x = 0; x < ow * p; x++) {
      const float *gx = g + (size_t)(x / p) * c;
      float *dx = d + (size_t)x * c;
      int ch = 0;
      for (; ch + DG_VW <= c; ch += DG_VW)
        dg_vstore(dx + ch, dg_vmul(dg_vload(gx + ch), dg_vset1(inv)));
      for (; ch < c; ch++) dx[ch] = gx[ch] * inv;
    }
    if (ow * p < w)
      memset(d + (size_t)ow * p * c, 0, (size_t)(w - ow * p) * c * sizeof(float));
  }
}

/* ---- bias ------------------------------------------------------------------ */

void dg_bias_add(float *y, const float *b, size_t rows, int c) {
  if (c <= 0) return;
  int nt = threads_for((double)rows * c, 1 << 17);
  (void)nt;
  DG_OMP(parallel for schedule(static) num_threads(nt) if (nt > 1))
  for (long long r = 0; r < (long long)rows; r++) {
    float *yr = y + (size_t)r * c;
    int j = 0;
    for (; j + DG_VW <= c; j += DG_VW)
      dg_vstore(yr + j, dg_vadd(dg_vload(yr + j), dg_vload(b + j)));
    for (; j < c; j++) yr[j] += b[j];
  }
}

/* Columns in chunks of 4 vectors, rows in ascending order from 0: each db[j]
 * is summed in the reference's order, so the result matches it exactly.
 * Threads split the column chunks (only wide c benefits). */
void dg_bias_grad(const float *dy, size_t rows, int c, float *db) {
  if (c <= 0) return;
  const int CW = 4 * DG_VW;
  int nchunks = (c + CW - 1) / CW;
  int nt = threads_for((double)rows * c, 1 << 17);
  if (nt > nchunks) nt = nchunks;
  (void)nt;
  DG_OMP(parallel for schedule(static) num_threads(nt) if (nt > 1))
  for (int ch = 0; ch < nchunks; ch++) {
    int j0 = ch * CW, w = imin(CW, c - j0);
    if (w == CW) {
      dg_vf s[4] = {dg_vzero(), dg_vzero(), dg_vzero(), dg_vzero()};
      for (size_t r = 0; r < rows; r++) {
        const float *d = dy + r * c + j0;
        DG_UNROLL
        for (int v = 0; v < 4; v++) s[v] = dg_vadd(s[v], dg_vload(d + v * DG_VW));
      }
      for (int v = 0; v < 4; v++) dg_vstore(db + j0 + v * DG_VW, s[v]);
    } else {
      for (int j = j0; j < j0 + w; j++) db[j] = 0.0f;
      for (size_t r = 0; r < rows; r++)
        for (int j = j0; j < j0 + w; j++) db[j] += dy[r * c + j];
    }
  }
}

/* ---- ReLU ------------------------------------------------------------------- */

/* dg_vmax(x, 0) is (x > 0) ? x : 0 on every target, the reference's exact
 * definition (NaN -> 0). */
void dg_relu(const float *x, float *y, size_t n) {
  int nt = threads_for((double)n, 1 << 18);
  long long nv = (long long)(n / DG_VW);
  (void)nt;
  DG_OMP(parallel for schedule(static) num_threads(nt) if (nt > 1))
  for (long long i = 0; i < nv; i++)
    dg_vstore(y + i * DG_VW, dg_vmax(dg_vload(x + i * DG_VW), dg_vzero()));
  for (size_t i = (size_t)nv * DG_VW; i < n; i++)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void dg_relu_backward(const float *y, const float *dy, float *dx, size_t n) {
  int nt = threads_for((double)n, 1 << 18);
  long long nv = (long long)(n / DG_VW);
  (void)nt;
  DG_OMP(parallel for schedule(static) num_threads(nt) if (nt > 1))
  for (long long i = 0; i < nv; i++)
    dg_vstore(dx + i * DG_VW,
              dg_vkeep_pos(dg_vload(y + i * DG_VW), dg_vload(dy + i * DG_VW)));
  for (size_t i = (size_t)nv * DG_VW; i < n; i++)
    dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
