/* kernels.c: the fast kernels of kernels.h, written once against simd.h.
 *
 * Owns: the packed, register-blocked GEMM (dense layers), the implicit-GEMM
 * convolution (forward, weight and input gradients), batch norm (statistics,
 * scale+shift, backward, and its fusions with ReLU and max pooling),
 * pooling, bias, ReLU, dropout, the optimizer updates, how many threads a
 * call uses under its dg_exec (and the tuner), and the name of the
 * compiled SIMD path. Winograd's convolutions are winograd.c's; conv.c
 * chooses between the two.
 *
 * Determinism: threads only ever split *output* elements between them. The
 * K reduction of every output element runs in one fixed order (depth blocks
 * fixed by K, in ascending order, each one FMA chain inside one microkernel
 * call, then one C update), and every route an element can take when the
 * output is cut differently (full or edge tile, packed or in-place B) does
 * exactly that arithmetic. Reductions over a batch (weight gradients, batch
 * statistics) sum fixed chunks set by the shapes alone into partials that
 * are combined in ascending order. So 1 and N threads give bit-identical
 * results.
 *
 * Loops over those outputs are scheduled dynamically, in chunks: on cores
 * shared with other work, a thread that is descheduled holds up one chunk
 * instead of a fixed half of the loop. Which thread takes a chunk never
 * changes its arithmetic, and neither does how many threads a call uses:
 * threads_for picks that from the call's size and from how recent calls
 * fared with and without the team (see there). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/kernels.h"
#include "kernels/simd.h"
#include "kernels/tile.h"

/* OpenMP pragmas that vanish (without -Wunknown-pragmas noise) when the
 * build has no OpenMP, e.g. the WASM builds. */
#ifdef _OPENMP
#define DG_OMP(x) DG_PRAGMA(omp x)
#else
#define DG_OMP(x)
#endif

#define DG_TLS _Thread_local

#ifndef DG_WINOGRAD_DEFAULT /* Winograd where it applies: in WebAssembly
                             * (one thread), not natively (see winograd.c) */
#if defined(__wasm__)
#define DG_WINOGRAD_DEFAULT 1
#else
#define DG_WINOGRAD_DEFAULT 0
#endif
#endif

/* WebAssembly: the GEMM's paths as separate functions. V8 compiles a
 * function with its optimizing tier only once it runs hot, in the
 * background, and the time grows with its size: dg_gemm with every path
 * inlined kept a first in-browser epoch in the baseline tier for a
 * noticeable part of it (docs/performance.md). Natively nothing changes. */
#if defined(__wasm__)
#define DG_WASM_NOINLINE __attribute__((noinline))
#else
#define DG_WASM_NOINLINE
#endif

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

/* ---- threads ------------------------------------------------------------ */

const char *dg_kernels_simd(void) { return DG_SIMD_NAME; }

float *dg_alloc_floats(size_t n) {
  if (n == 0 || n > (SIZE_MAX - 63) / sizeof(float)) return NULL;
  size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63; /* a multiple of
                                                            the alignment */
  return aligned_alloc(64, bytes);
}

dg_exec dg_exec_default(void) {
  dg_exec ex = {1, DG_WINOGRAD_DEFAULT, NULL, 0};
  return ex;
}

/* Threads worth using for `work` multiply-adds (or element operations):
 * forking a team costs a few microseconds, so small calls stay serial. The
 * choice can depend on anything: it never changes the arithmetic.
 *
 * With a tuner (each network's plan has one), it also depends on how the
 * calls fare. Every parallel region waits for all its threads, so when
 * another process keeps one of the cores busy, a region waits for the
 * scheduler to give a thread its turn (a time slice, milliseconds), and a
 * team of 2 can run at half the speed of 1 thread. So calls run in one of
 * two modes, the team or one thread, for stretches of calls (mixing them
 * per call would make the team pay for waking its sleeping threads every
 * time): after TUNE_RUN calls in one mode, TUNE_TRY calls try the other,
 * and the mode whose calls were faster continues. Each call, keyed by its
 * plan step (dg_exec.site) and size, keeps its time in each mode in a
 * small table; the modes are compared on the calls timed in both. A
 * call's time runs from its threads_for to the next one's (a kernel's
 * threads_for comes first in it, and training repeats the same sequence of
 * calls), so only threads_for reads the clock. The stretch before the next
 * try doubles while the mode stays (up to 64 times), so a quiet machine
 * spends little time trying one thread. */
static int clamp_threads(int t) { return t < 1 ? 1 : t > 256 ? 256 : t; }

#if defined(_OPENMP)
#define TUNE_SLOTS 256
#define TUNE_TRY 64
#define TUNE_RUN (16 * TUNE_TRY)
typedef struct {
  int site;       /* 1 + the plan step of the call; 0 = free */
  double work;    /* the call's size */
  double t[2];    /* average seconds: 1 thread, the team; 0 = unmeasured */
} tune_slot;
struct dg_tuner {
  tune_slot tab[TUNE_SLOTS];
  tune_slot *prev;   /* the call being timed, if any */
  int prev_team;     /* whether it ran with the team */
  double t0;         /* when it started */
  int team;          /* the mode */
  int trying;        /* in a stretch that tries the other mode */
  long left;         /* calls left in this stretch */
  long run;          /* length of the next stretch in the mode */
};

dg_tuner *dg_tuner_new(void) {
  dg_tuner *t = calloc(1, sizeof *t);
  if (t) t->team = 1, t->left = t->run = TUNE_RUN;
  return t;
}

static tune_slot *tune_slot_for(dg_tuner *tune, int site, double work) {
  uint64_t h = ((uint64_t)work + (uint64_t)site) * 0x9E3779B97F4A7C15ull;
  h = (h ^ h >> 31) * 0xBF58476D1CE4E5B9ull;
  tune_slot *sl = NULL;
  for (int i = 0; i < 4 && !sl; i++) { /* its slot, or a free one */
    tune_slot *q = &tune->tab[((h >> 40) + i) % TUNE_SLOTS];
    if (!q->site || (q->site == site && q->work == work)) sl = q;
  }
  if (!sl) sl = &tune->tab[(h >> 40) % TUNE_SLOTS]; /* full: evict */
  if (sl->site != site || sl->work != work) {
    memset(sl, 0, sizeof *sl);
    sl->site = site, sl->work = work;
  }
  return sl;
}

/* After a try: the mode whose calls took less time, on the calls timed in
 * both modes. */
static void tune_decide(dg_tuner *tune) {
  double one = 0, team = 0;
  for (int i = 0; i < TUNE_SLOTS; i++) {
    const tune_slot *q = &tune->tab[i];
    if (q->site && q->t[0] > 0 && q->t[1] > 0) one += q->t[0], team += q->t[1];
  }
  int best = team <= one;
  tune->run = best == tune->team ? (tune->run < 64 * TUNE_RUN ? 2 * tune->run
                                                              : tune->run)
                                 : TUNE_RUN;
  tune->team = best;
}

static int threads_for(const dg_exec *ex, double work,
                       double min_work_per_thread) {
  int nt = clamp_threads(ex->threads);
  if (nt > 1 && work < min_work_per_thread * 2) nt = 1;
  dg_tuner *tune = ex->tuner;
  if (!tune) return nt;
  if (nt == 1 && !tune->prev) return 1;
  double now = omp_get_wtime();
  if (tune->prev) { /* the previous tuned call ends here */
    double dt = now - tune->t0, *t = &tune->prev->t[tune->prev_team];
    if (*t > 0 && dt > 4 * *t) dt = 4 * *t; /* a pause, not the kernel */
    *t = *t > 0 ? 0.5 * *t + 0.5 * dt : dt;
    tune->prev = NULL;
  }
  if (nt == 1) return 1;
  if (--tune->left <= 0) { /* the end of a stretch */
    if (tune->trying) tune_decide(tune);
    tune->trying = !tune->trying;
    tune->left = tune->trying ? TUNE_TRY : tune->run;
  }
  int team = tune->team ^ tune->trying;
  /* the first calls of a stretch wake threads up or let them go idle:
   * not timed */
  long done = (tune->trying ? TUNE_TRY : tune->run) - tune->left;
  tune->prev = done >= 8 ? tune_slot_for(tune, 1 + ex->site, work) : NULL;
  tune->prev_team = team, tune->t0 = now;
  return team ? nt : 1;
}
#else
struct dg_tuner {
  int unused;
};
dg_tuner *dg_tuner_new(void) { return calloc(1, sizeof(dg_tuner)); }
static int threads_for(const dg_exec *ex, double work,
                       double min_work_per_thread) {
  (void)ex, (void)work, (void)min_work_per_thread, (void)clamp_threads;
  return 1;
}
#endif

void dg_tuner_free(dg_tuner *t) { free(t); }

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
DG_WASM_NOINLINE
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
DG_WASM_NOINLINE
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




/* The C update after one KC block, from the accumulator tile acc (MR, NR):
 *   first block, beta == 0:  C = alpha*acc           (old C never read)
 *   first block, beta != 0:  C = alpha*acc + beta*C
 *   later blocks:            C = alpha*acc + C
 * Edge tiles (mr < MR or nr < NR) go through a full-size scratch tile with
 * exactly the same vector operations, so an element's value never depends on
 * where the tile boundaries fall. */
DG_INLINE void tile_update(const dg_vf *acc, float *restrict c, int ldc,
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
          dg_vstore(cp + (size_t)r * ldt + v * DG_VW,
                    dg_vmul(va, acc[r * NV + v]));
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
        dg_vstore(q, dg_vfma(va, acc[r * NV + v], old));
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
DG_WASM_NOINLINE
static void ukernel_packed(int kc, const float *restrict a,
                           const float *restrict b, int bs, float *restrict c,
                           int ldc, int mr, int nr, float alpha, float beta,
                           int first) {
  const float *ar[MR]; /* a[p * MR + r] is ar[r][p * MR] */
  DG_UNROLL
  for (int r = 0; r < MR; r++) ar[r] = a + r;
  dg_vf acc[MR * NV];
  dg_tile_zero(MR, NV, NV, acc);
  for (int p = 0; p < kc; p++, b += bs)
    dg_tile_step(MR, NV, NV, acc, ar, (size_t)p * MR, b);
  tile_update(acc, c, ldc, mr, nr, alpha, beta, first);
}

/* The same microkernel reading A (M,K) in place: MR row pointers, each
 * walked along p. Packing A would cost a strided shuffle per element, as
 * much as the arithmetic when N is small; the MR rows of one KC block
 * (MR x KC floats) stay in L1 across the sweep over B anyway. Rows past mr
 * re-read row 0 and are discarded, so the arithmetic is identical. */
DG_WASM_NOINLINE
static void ukernel_rows(int kc, const float *a, int lda,
                         const float *restrict b, int bs, float *restrict c,
                         int ldc, int mr, int nr, float alpha, float beta,
                         int first) {
  const float *ar[MR];
  DG_UNROLL
  for (int r = 0; r < MR; r++) ar[r] = a + (size_t)(r < mr ? r : 0) * lda;
  dg_vf acc[MR * NV];
  dg_tile_zero(MR, NV, NV, acc);
  dg_tile_steps(MR, NV, NV, acc, ar, kc, b, bs, 1);
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
DG_WASM_NOINLINE
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
DG_WASM_NOINLINE
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
 * instead of arrays: clang kept the array form's tile in linear memory (its
 * stores index acc by the run-time row count m), and the batch-1 dense
 * layer ran ~8x slower than a plain loop. A narrow single row (V <= 2) is
 * one mul+add latency per step of p, so it sums even and odd p apart and
 * adds the two at the end (rounding differs from the one chain natively). */
/* One row of small_nn_tile's 4 x V step: lo += a * b0, and hi += a * b1
 * if V > 1 (the row's two named accumulators). */
DG_INLINE void nn_row_step(const int V, float a, dg_vf b0, dg_vf b1,
                           dg_vf *lo, dg_vf *hi) {
  dg_vf av = dg_vset1(a);
  *lo = dg_vfma(av, b0, *lo);
  if (V > 1) *hi = dg_vfma(av, b1, *hi);
}

DG_INLINE void small_nn_tile(const int R, const int V, const float *const *arow,
                             size_t astep, int K, const float *b, int ldb,
                             float *c, int ldc, int m, float alpha,
                             float beta) {
  const dg_vf z = dg_vzero();
  dg_vf c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
  const float *a0 = arow[0], *a1 = arow[R > 1 ? 1 : 0];
  const float *a2 = arow[R > 2 ? 2 : 0], *a3 = arow[R > 3 ? 3 : 0];
  int p0 = 0;
  if (R == 1 && V <= 2) { /* c0, c1 even p; c4, c5 odd p */
    for (; p0 + 2 <= K; p0 += 2) {
      const float *bp = b + (size_t)p0 * ldb;
      dg_vf av = dg_vset1(a0[(size_t)p0 * astep]);
      dg_vf aw = dg_vset1(a0[(size_t)(p0 + 1) * astep]);
      c0 = dg_vfma(av, dg_vload(bp), c0);
      c4 = dg_vfma(aw, dg_vload(bp + ldb), c4);
      if (V > 1) {
        c1 = dg_vfma(av, dg_vload(bp + DG_VW), c1);
        c5 = dg_vfma(aw, dg_vload(bp + ldb + DG_VW), c5);
      }
    }
  }
  for (int p = p0; p < K; p++) {
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
      dg_vf b0 = dg_vload(bp), b1 = V > 1 ? dg_vload(bp + DG_VW) : z;
      nn_row_step(V, a0[q], b0, b1, &c0, &c1);
      nn_row_step(V, a1[q], b0, b1, &c2, &c3);
      nn_row_step(V, a2[q], b0, b1, &c4, &c5);
      nn_row_step(V, a3[q], b0, b1, &c6, &c7);
    }
  }
  if (R == 1 && V <= 2) c0 = dg_vadd(c0, c4), c1 = dg_vadd(c1, c5);
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
  dg_vf acc[SM * 8];
  dg_tile_zero(R, V, 8, acc);
  for (int p = 0; p < K; p++)
    dg_tile_step(R, V, 8, acc, arow, p * astep, b + (size_t)p * ldb);
  float t[8 * DG_VW]; /* one row of the block */
  for (int r = 0; r < m; r++) {
    for (int v = 0; v < V; v++) dg_vstore(t + v * DG_VW, acc[r * 8 + v]);
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
DG_WASM_NOINLINE
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
          int p = 0;
#if defined(DG_SIMD_WASM)
          /* four partial sums: one chain is a mul+add latency per step */
          float s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
          for (; p + 4 <= K; p += 4) {
            const float *bp = B + (size_t)p * ldb + j0 + jj;
            acc += arow[r][p * astep] * bp[0];
            s1 += arow[r][(p + 1) * astep] * bp[ldb];
            s2 += arow[r][(p + 2) * astep] * bp[2 * (size_t)ldb];
            s3 += arow[r][(p + 3) * astep] * bp[3 * (size_t)ldb];
          }
          acc = (acc + s1) + (s2 + s3);
#endif
          for (; p < K; p++)
            acc += arow[r][p * astep] * B[(size_t)p * ldb + j0 + jj];
          small_update(c + (size_t)r * ldc + jj, acc, alpha, beta);
        }
    }
  }
}

/* tb, !ta: C(i,j) is a dot product of two contiguous rows of length K; four
 * rows of B at a time share each load of A. */
DG_WASM_NOINLINE
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

void dg_gemm(const dg_exec *ex, int ta, int tb, int M, int N, int K, float alpha, const float *A,
             int lda, const float *B, int ldb, float beta, float *C, int ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  int nt = threads_for(ex, (double)M * N * K, 1 << 19); /* a few microseconds each */
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

/* ---- convolution: implicit GEMM ------------------------------------------- */

/* The three products of a convolution layer are GEMMs on the im2col matrix
 * A (n*oh*ow, k*k*c). The row of A for output pixel (b, oy, ox) is k runs
 * of k*c contiguous floats of the zero-padded input, one per kernel row,
 * wp*c apart, so the microkernels below read A in place through row
 * pointers and A is never written: im2col wrote and re-read k*k floats per
 * input float, which cost more than the arithmetic on them.
 *
 *   forward  out (pixels, f) = A (pixels, kkc) @ wt (kkc, f) (+ bias, ReLU)
 *   weights  dw (kkc, f)     = A^T (kkc, pixels) @ dy (pixels, f)
 *   input    din             = adjoint of A applied to dy @ wt^T (f, kkc),
 *                              each tile of dy @ wt^T added straight into
 *                              the image (col2im fused into the epilogue)
 *
 * Determinism: the forward splits output pixels between threads and the
 * input gradient whole images; the weight gradient sums fixed groups of
 * images (CONV_GROUPS, set by the batch size alone) into partials that are
 * added in ascending order. No result depends on the thread count. */

static inline int round_up(int x, int m) { return (x + m - 1) / m * m; }

/* Vectors in a column tile when rem columns are left: NV while more than
 * NV-1 vectors' worth remain, else one. A tile may run past rem: the
 * operands it reads are then zero-padded to whole vectors. */
static inline int tile_nv(int rem) { return rem > (NV - 1) * DG_VW ? NV : 1; }

/* The input gradient's tile (see conv_gi_tile), also the weight
 * gradient's for wide layers: GI_MR pixels x GI_NV vectors. */
#if defined(DG_SIMD_AVX512) && !defined(DG_GEMM_MR)
#define GI_MR 6
#define GI_NV 4
#else
#define GI_MR MR
#define GI_NV NV
#endif
#define GW_NVMAX (GI_NV > NV ? GI_NV : NV) /* widest conv tile */

/* Images per weight-gradient partial: the batch is cut into at most this
 * many groups, whatever the thread count. */
#define CONV_GROUPS 16
/* Floats of dy per block of the weight gradient (16 KB, half of L1; see
 * dg_conv2d_grad_w): 128 pixels of 32 channels, 64 of 64. */
#define CONV_GW_FLOATS 4096
/* Pixel tiles per block of the input gradient: up to CONV_GI_TILES, and
 * their rows of dy within CONV_GI_FLOATS (16 KB, half of L1). */
#define CONV_GI_TILES 16
#define CONV_GI_FLOATS 4096
static int conv_groups(int n) { return n < CONV_GROUPS ? n : CONV_GROUPS; }

/* dst (n, h+2p, w+2p, c) = in (n, h, w, c) framed by p zeros. */
void dg_pad_images(const float *in, int n, int h, int w, int c, int p,
                   float *dst, int nt) {
  int hp = h + 2 * p, wp = w + 2 * p;
  size_t row = (size_t)wp * c;
  (void)nt;
  DG_OMP(parallel for schedule(static) num_threads(nt) if (nt > 1))
  for (int b = 0; b < n; b++) {
    float *d = dst + (size_t)b * hp * row;
    const float *s = in + (size_t)b * h * w * c;
    memset(d, 0, (size_t)p * row * sizeof(float));
    for (int y = 0; y < h; y++) {
      float *dr = d + (size_t)(y + p) * row;
      memset(dr, 0, (size_t)p * c * sizeof(float));
      memcpy(dr + (size_t)p * c, s + (size_t)y * w * c,
             (size_t)w * c * sizeof(float));
      memset(dr + (size_t)(p + w) * c, 0, (size_t)p * c * sizeof(float));
    }
    memset(d + (size_t)(h + p) * row, 0, (size_t)p * row * sizeof(float));
  }
}

/* The convolutions' scratch: the images framed by pad zeros at *wk, which
 * moves past them (the images themselves when pad is 0). */
static const float *padded_images(const float *in, int n, int h, int w,
                                  int c, int pad, float **wk, int nt) {
  if (!pad) return in;
  float *d = *wk;
  dg_pad_images(in, n, h, w, c, pad, d, nt);
  *wk += (size_t)n * (h + 2 * pad) * (w + 2 * pad) * c;
  return d;
}

/* m (rows, f) with its rows widened to fp >= f columns by zeros, at *wk,
 * which moves past them (m itself when fp == f). */
static const float *widened_rows(const float *m, size_t rows, int f, int fp,
                                 float **wk) {
  if (fp == f) return m;
  float *d = *wk;
  for (size_t i = 0; i < rows; i++) {
    memcpy(d + i * fp, m + i * f, (size_t)f * sizeof(float));
    memset(d + i * fp + f, 0, (size_t)(fp - f) * sizeof(float));
  }
  *wk += rows * fp;
  return d;
}

size_t dg_conv2d_direct_work(int n, int h, int w, int c, int f, int k, int pad) {
  size_t hp = (size_t)h + 2 * pad, wp = (size_t)w + 2 * pad;
  if (n <= 0 || hp < (size_t)k || wp < (size_t)k) return 0;
  size_t oh = hp - k + 1, ow = wp - k + 1;
  size_t kkc = (size_t)k * k * c, fp = (size_t)round_up(f, DG_VW);
  size_t padded = pad ? (size_t)n * hp * wp * c : 0;
  size_t fwd = padded + (fp != (size_t)f ? kkc * fp : 0);
  size_t gw = padded + (size_t)conv_groups(n) * (kkc + 1) * fp + kkc +
              (fp != (size_t)f ? (size_t)n * oh * ow * fp : 0);
  size_t gi = padded + (size_t)f * k * round_up(k * c, DG_VW);
  size_t m = fwd > gw ? fwd : gw;
  m = m > gi ? m : gi;
  return m;
}

/* Forward tile: rows a[r] (R output pixels, R <= MR), k runs of kc floats
 * ss apart; b (kkc, ldb) the weights at this tile's first column. One FMA
 * chain per element over (run, position) ascending, then + bias, ReLU.
 * R x nv is MR x NV, or GI_MR x GI_NV for layers whose filters come in
 * whole GI_NV-vector tiles (AVX-512: 6 x 4, fewer broadcasts). */
DG_INLINE void conv_fwd_tile(const int R, const int nv, const float *const *a,
                             int k, int kc, size_t ss, const float *b, int ldb,
                             float *out, int ldo, int mr, int ncols,
                             const float *bias, int relu) {
  dg_vf acc[MR * GW_NVMAX];
  dg_tile_window(R, nv, GW_NVMAX, acc, a, k, kc, ss, b, ldb, 1);
  DG_UNROLL
  for (int r = 0; r < R; r++) {
    if (r >= mr) continue;
    dg_tile_store(nv, acc + r * GW_NVMAX, bias, relu, out + (size_t)r * ldo,
                  ncols);
  }
}

/* Forward tile for one input channel (first layers): MR consecutive
 * pixels of an output row, so for every tap the MR inputs are p[0..MR)
 * from one pointer. The same arithmetic as conv_fwd_tile (the window in
 * order, then + bias, ReLU). */
DG_INLINE void conv_fwd_c1_tile(const int nv, const float *p, int k, size_t ss,
                                const float *b, int ldb, float *out, int ldo,
                                int ncols, const float *bias, int relu) {
  dg_vf acc[MR][NV];
  dg_tile_zero(MR, nv, NV, &acc[0][0]);
  for (int ky = 0; ky < k; ky++) {
    const float *pr = p + ky * ss;
    DG_UNROLL4
    for (int kx = 0; kx < k; kx++, b += ldb) {
      dg_vf bv[NV];
      DG_UNROLL
      for (int v = 0; v < nv; v++) bv[v] = dg_vload(b + v * DG_VW);
      DG_UNROLL
      for (int r = 0; r < MR; r++) {
        dg_vf av = dg_vset1(pr[kx + r]);
        DG_UNROLL
        for (int v = 0; v < nv; v++) acc[r][v] = dg_vfma(av, bv[v], acc[r][v]);
      }
    }
  }
  dg_vf zero = dg_vzero();
  DG_UNROLL
  for (int r = 0; r < MR; r++) {
    float *o = out + (size_t)r * ldo;
    if (ncols == nv * DG_VW) {
      DG_UNROLL
      for (int v = 0; v < nv; v++) {
        dg_vf x = dg_vadd(acc[r][v], dg_vload(bias + v * DG_VW));
        dg_vstore(o + v * DG_VW, relu ? dg_vmax(x, zero) : x);
      }
    } else { /* the same arithmetic on partial vectors */
      DG_UNROLL
      for (int v = 0; v < nv; v++) {
        int cnt = ncols - v * DG_VW;
        if (cnt <= 0) continue;
        if (cnt > DG_VW) cnt = DG_VW;
        dg_vf x = dg_vadd(acc[r][v], cnt == DG_VW ? dg_vload(bias + v * DG_VW)
                                                  : dg_vload_n(bias + v * DG_VW, cnt));
        x = relu ? dg_vmax(x, zero) : x;
        if (cnt == DG_VW)
          dg_vstore(o + v * DG_VW, x);
        else
          dg_vstore_n(o + v * DG_VW, x, cnt);
      }
    }
  }
}

void dg_conv2d_direct(const dg_exec *ex, const float *in, int n, int h, int w, int c, const float *wt,
               const float *bias, int f, int k, int pad, int relu, float *out,
               float *work) {
  int hp = h + 2 * pad, wp = w + 2 * pad, oh = hp - k + 1, ow = wp - k + 1;
  if (n <= 0 || oh <= 0 || ow <= 0 || f <= 0) return;
  int kc = k * c, kkc = k * kc, fp = round_up(f, DG_VW), opix = oh * ow;
  int M = n * opix, tiles = (M + MR - 1) / MR;
  int nt = threads_for(ex, (double)M * f * kkc, 1 << 20);
  float *wk = work;
  const float *src = padded_images(in, n, h, w, c, pad, &wk, nt);
  const float *B = widened_rows(wt, (size_t)kkc, f, fp, &wk); /* (kkc, fp) */
  size_t ss = (size_t)wp * c;
  (void)nt;
  if (c == 1 && ow >= MR) {
    /* tiles along output rows; a row's last tile is shifted left to end at
     * the row's end (its overlap recomputes the same values) */
    int rt = (ow + MR - 1) / MR;
    DG_OMP(parallel for schedule(dynamic, 8) num_threads(nt) if (nt > 1))
    for (int row = 0; row < n * oh; row++) {
      int b = row / oh, oy = row % oh;
      for (int t = 0; t < rt; t++) {
        int ox = imin(t * MR, ow - MR);
        const float *p = src + ((size_t)b * hp + oy) * wp + ox;
        float *o = out + ((size_t)row * ow + ox) * f;
        for (int j = 0; j < f;) {
          int nv = tile_nv(f - j), nc = imin(nv * DG_VW, f - j);
          if (nv == NV)
            conv_fwd_c1_tile(NV, p, k, ss, B + j, fp, o + j, f, nc, bias + j,
                             relu);
          else
            conv_fwd_c1_tile(1, p, k, ss, B + j, fp, o + j, f, nc, bias + j,
                             relu);
          j += nv * DG_VW;
        }
      }
    }
    return;
  }
  /* tile rows: the wide tile's where all of f is in wide tiles */
  int wide = GI_NV > NV && f % (GI_NV * DG_VW) == 0;
  int R = wide ? GI_MR : MR;
  tiles = (M + R - 1) / R;
  DG_OMP(parallel for schedule(dynamic, 32) num_threads(nt) if (nt > 1))
  for (int t = 0; t < tiles; t++) {
    int m0 = t * R, mr = imin(R, M - m0);
    const float *a[MR]; /* rows past mr repeat row 0 and are dropped */
    /* (image, row, column) of pixel m0, then stepped: no division per row */
    int b = m0 / opix, oy = m0 % opix / ow, ox = m0 % ow;
    for (int r = 0; r < R; r++) {
      a[r] = r < mr ? src + (((size_t)b * hp + oy) * wp + ox) * c : a[0];
      if (++ox == ow) {
        ox = 0;
        if (++oy == oh) oy = 0, b++;
      }
    }
    float *o = out + (size_t)m0 * f;
    if (wide) {
      for (int j = 0; j < f; j += GI_NV * DG_VW)
        conv_fwd_tile(GI_MR, GI_NV, a, k, kc, ss, B + j, fp, o + j, f, mr,
                      GI_NV * DG_VW, bias + j, relu);
      continue;
    }
    for (int j = 0; j < f;) {
      int nv = tile_nv(f - j), nc = imin(nv * DG_VW, f - j);
      if (nv == NV)
        conv_fwd_tile(MR, NV, a, k, kc, ss, B + j, fp, o + j, f, mr, nc,
                      bias + j, relu);
      else
        conv_fwd_tile(MR, 1, a, k, kc, ss, B + j, fp, o + j, f, mr, nc,
                      bias + j, relu);
      j += nv * DG_VW;
    }
  }
}

/* Weight-gradient tiles: R rows of dw x nv vectors, R x nv <= MR x
 * GW_NVMAX. With 64 or more filters in whole GI_NV-vector tiles, AVX-512
 * takes the input gradient's 6 x 4 shape (a third fewer broadcasts per
 * multiply-add); otherwise MR x NV. */

/* Weight-gradient tile: rows kk0..kk0+R of dw against nv vectors of
 * columns, summed over one image's pixels (oy, ox ascending): A's entry is
 * p[off[r]] for the pixel's window start p, or p[off[0] + r] when the MR
 * rows lie in one run (contig). Then the group partial pw (row stride ldp)
 * is set (first image) or added to. */
DG_INLINE void conv_gw_tile(const int R, const int nv, const int contig,
                            const float *img, int nimg, size_t isz, int oh,
                            int ow, size_t ss, int c, const int *off,
                            const float *dy, int ldd, float *pw, int ldp,
                            int mr, int first) {
  dg_vf acc[MR * GW_NVMAX];
  dg_tile_zero(R, nv, GW_NVMAX, acc);
  int o[MR];
  DG_UNROLL
  for (int r = 0; r < R; r++) o[r] = contig ? r : off[r];
  if (contig) img += off[0]; /* then the R entries are p[0..R) */
  for (int i = 0; i < nimg; i++)
  for (int oy = 0; oy < oh; oy++) {
    const float *p = img + i * isz + (size_t)oy * ss;
    DG_UNROLL4
    for (int ox = 0; ox < ow; ox++, p += c, dy += ldd) {
      const float *x[MR];
      DG_UNROLL
      for (int r = 0; r < R; r++) x[r] = p + o[r];
      dg_tile_step(R, nv, GW_NVMAX, acc, x, 0, dy);
    }
  }
  DG_UNROLL
  for (int r = 0; r < R; r++) {
    if (r >= mr) continue;
    float *q = pw + (size_t)r * ldp;
    const dg_vf *ar = acc + r * GW_NVMAX;
    DG_UNROLL
    for (int v = 0; v < nv; v++)
      dg_vstore(q + v * DG_VW,
                first ? ar[v] : dg_vadd(dg_vload(q + v * DG_VW), ar[v]));
  }
}

/* The bias gradient of images b..b+nbi-1 of dy (opix rows of fp each):
 * each image's pixels in two chains (even, odd), then added to the group's
 * partial pb (set by its first image, b0). */
static void gw_bias(const float *D, int b, int nbi, int b0, int opix, int fp,
                    float *pb) {
  for (int bi = b; bi < b + nbi; bi++) {
    const float *dyp = D + (size_t)bi * opix * fp;
    for (int j = 0; j < fp; j += DG_VW) {
      dg_vf s0 = dg_vzero(), s1 = dg_vzero();
      const float *q = dyp + j;
      int i = 0;
      for (; i + 2 <= opix; i += 2, q += 2 * (size_t)fp) {
        s0 = dg_vadd(s0, dg_vload(q));
        s1 = dg_vadd(s1, dg_vload(q + fp));
      }
      if (i < opix) s0 = dg_vadd(s0, dg_vload(q));
      s0 = dg_vadd(s0, s1);
      dg_vstore(pb + j, bi == b0 ? s0 : dg_vadd(dg_vload(pb + j), s0));
    }
  }
}

/* dw (kkc, f), db (f) = the G partials (psz floats apart: kkc rows of fp,
 * then the bias row) added in ascending order. */
static void gw_reduce(const float *part, int G, size_t psz, int kkc, int f,
                      int fp, float *dw, float *db) {
  float t[DG_VW];
  for (int i = 0; i <= kkc; i++) {
    float *d = i < kkc ? dw + (size_t)i * f : db;
    const float *p0 = part + (size_t)i * fp;
    for (int j = 0; j < f; j += DG_VW) {
      dg_vf s = dg_vload(p0 + j);
      for (int g = 1; g < G; g++) s = dg_vadd(s, dg_vload(p0 + g * psz + j));
      if (j + DG_VW <= f) {
        dg_vstore(d + j, s);
      } else {
        dg_vstore(t, s);
        dg_vcopy_n(d + j, t, f - j);
      }
    }
  }
}

void dg_conv2d_direct_grad_w(const dg_exec *ex, const float *in, const float *dy, int n, int h, int w,
                      int c, int f, int k, int pad, float *dw, float *db,
                      float *work) {
  int hp = h + 2 * pad, wp = w + 2 * pad, oh = hp - k + 1, ow = wp - k + 1;
  int kc = k * c, kkc = k * kc, fp = round_up(f, DG_VW);
  if (f <= 0 || oh <= 0 || ow <= 0) return;
  if (n <= 0) {
    memset(dw, 0, (size_t)kkc * f * sizeof(float));
    memset(db, 0, (size_t)f * sizeof(float));
    return;
  }
  int opix = oh * ow, G = conv_groups(n);
  int nt = threads_for(ex, (double)n * opix * f * kkc, 1 << 20);
  float *wk = work;
  const float *src = padded_images(in, n, h, w, c, pad, &wk, nt);
  const float *D = widened_rows(dy, (size_t)n * opix, f, fp, &wk); /* (n*opix, fp) */
  float *part = wk; /* (G, kkc + 1, fp): dw rows, then the db row */
  size_t ss = (size_t)wp * c, psz = (size_t)(kkc + 1) * fp;
  /* offset of each window entry (ky, kx, ch) from the window's start */
  int *kofs = (int *)(part + G * psz);
  for (int kk = 0; kk < kkc; kk++)
    kofs[kk] = (int)((kk / kc) * ss + kk % kc);
  int wide = GI_NV > NV && f % (GI_NV * DG_VW) == 0;
  int R = wide ? GI_MR : MR; /* rows per tile */
  int contig = kc % R == 0, nmt = (kkc + R - 1) / R;
  int gpix = imax(16, CONV_GW_FLOATS / fp);
  size_t isz = (size_t)hp * wp * c;
  int ntg = imin(nt, G);
  (void)ntg;
  DG_OMP(parallel for schedule(dynamic, 1) num_threads(ntg) if (ntg > 1))
  for (int g = 0; g < G; g++) {
    int b0 = (int)((long long)g * n / G), b1 = (int)((long long)(g + 1) * n / G);
    float *pw = part + g * psz, *pb = pw + (size_t)kkc * fp;
    int nbi = 1;
    for (int b = b0; b < b1; b += nbi) {
      /* blocks of about gpix pixels, whose dy and input rows stay
       * in L1 while every tile of dw sweeps them: rows of one image, or
       * several whole small images */
      nbi = opix >= gpix ? 1 : imin(gpix / opix, b1 - b);
      int yb = nbi > 1 ? oh : imax(1, gpix / ow);
      const float *img = src + (size_t)b * isz;
      const float *dyi = D + (size_t)b * opix * fp;
      for (int y0 = 0; y0 < oh; y0 += yb) {
        int ny = imin(yb, oh - y0), first = b == b0 && y0 == 0;
        const float *imb = img + (size_t)y0 * ss;
        const float *dyb = dyi + (size_t)y0 * ow * fp;
        for (int mt = 0; mt < nmt; mt++) {
          int kk0 = mt * R, mr = imin(R, kkc - kk0), off[MR];
          for (int r = 0; r < R; r++) off[r] = kofs[kk0 + (r < mr ? r : 0)];
          float *q = pw + (size_t)kk0 * fp;
          if (wide) {
            for (int j = 0; j < f; j += GI_NV * DG_VW)
              if (contig)
                conv_gw_tile(GI_MR, GI_NV, 1, imb, nbi, isz, ny, ow, ss, c,
                             off, dyb + j, fp, q + j, fp, mr, first);
              else
                conv_gw_tile(GI_MR, GI_NV, 0, imb, nbi, isz, ny, ow, ss, c,
                             off, dyb + j, fp, q + j, fp, mr, first);
            continue;
          }
          for (int j = 0; j < f;) {
            int nv = tile_nv(f - j);
            if (nv == NV && contig)
              conv_gw_tile(MR, NV, 1, imb, nbi, isz, ny, ow, ss, c, off,
                           dyb + j, fp, q + j, fp, mr, first);
            else if (nv == NV)
              conv_gw_tile(MR, NV, 0, imb, nbi, isz, ny, ow, ss, c, off,
                           dyb + j, fp, q + j, fp, mr, first);
            else if (contig)
              conv_gw_tile(MR, 1, 1, imb, nbi, isz, ny, ow, ss, c, off,
                           dyb + j, fp, q + j, fp, mr, first);
            else
              conv_gw_tile(MR, 1, 0, imb, nbi, isz, ny, ow, ss, c, off,
                           dyb + j, fp, q + j, fp, mr, first);
            j += nv * DG_VW;
          }
        }
      }
      gw_bias(D, b, nbi, b0, opix, fp, pb);
    }
  }
  gw_reduce(part, G, psz, kkc, f, fp, dw, db);
}

/* Input-gradient tiles: GI_MR pixels x up to GI_NV vectors. The reduction
 * is only f long (32 for the cnn's second layer), so a tile's fixed costs
 * (its row pointers, the add into the image) weigh more than in the other
 * products: AVX-512 takes 6 x 4 vectors (24 of its 32 registers) instead
 * of 8 x 2, a third fewer broadcasts per multiply-add and half the tiles.
 * Elsewhere the GEMM's tile. */
/* vectors in a tile with rem columns left: GI_NV, 2 or 1 (whole tiles
 * cover round_up(rem, DG_VW) columns, zero-padded) */
static inline int gi_tile_nv(int rem) {
  return rem > (GI_NV - 1) * DG_VW ? GI_NV : rem > DG_VW ? 2 : 1;
}

/* Input-gradient tile: nv vectors of columns of dy (rows a[r]) @ wt^T (b:
 * (f, nv*DG_VW), packed), one FMA chain over f per element, then the first
 * ncols lanes of each row added into the image at d[r]. */
DG_INLINE void conv_gi_tile(const int nv, const float *const *a, int f,
                            const float *b, float *const *d, int mr,
                            int ncols) {
  dg_vf acc[GI_MR * GI_NV];
  dg_tile_zero(GI_MR, nv, GI_NV, acc);
  dg_tile_steps(GI_MR, nv, GI_NV, acc, a, f, b, nv * DG_VW, 1);
  DG_UNROLL
  for (int r = 0; r < GI_MR; r++) {
    if (r >= mr) continue;
    DG_UNROLL
    for (int v = 0; v < nv; v++) {
      int cnt = ncols - v * DG_VW;
      float *q = d[r] + v * DG_VW;
      dg_vf x = acc[r * GI_NV + v];
      if (cnt >= DG_VW) {
        dg_vstore(q, dg_vadd(dg_vload(q), x));
      } else if (cnt > 0) {
        dg_vstore_n(q, dg_vadd(dg_vload_n(q, cnt), x), cnt);
      }
    }
  }
}

void dg_conv2d_direct_grad_in(const dg_exec *ex, const float *dy, const float *wt, int n, int h, int w,
                       int c, int f, int k, int pad, float *din, float *work) {
  int hp = h + 2 * pad, wp = w + 2 * pad, oh = hp - k + 1, ow = wp - k + 1;
  if (n <= 0 || oh <= 0 || ow <= 0 || c <= 0) return;
  int kc = k * c, segw = round_up(kc, DG_VW), opix = oh * ow;
  /* wt^T, tile by tile: for run s and the tile at column q0 of the run,
   * (f, nv*DG_VW) at wtt + (s*segw + q0)*f, zero past the run's end */
  float *wtt = work;
  for (int s = 0; s < k; s++)
    for (int q0 = 0; q0 < kc;) {
      int nv = gi_tile_nv(kc - q0), tw = nv * DG_VW;
      float *blk = wtt + ((size_t)s * segw + q0) * f;
      for (int p = 0; p < f; p++)
        for (int j = 0; j < tw; j++)
          blk[(size_t)p * tw + j] =
              q0 + j < kc ? wt[((size_t)s * kc + q0 + j) * f + p] : 0.0f;
      q0 += tw;
    }
  float *dpad = pad ? work + (size_t)f * k * segw : NULL; /* (n, hp, wp, c) */
  size_t ss = (size_t)wp * c, isz = (size_t)hp * wp * c;
  int nt = threads_for(ex, (double)n * opix * f * k * kc, 1 << 20);
  int ntile = (opix + GI_MR - 1) / GI_MR;
  int tpb = imax(1, imin(CONV_GI_TILES, CONV_GI_FLOATS / (GI_MR * f)));
  if (nt > n) nt = n;
  (void)nt;
  DG_OMP(parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1))
  for (int b = 0; b < n; b++) {
    float *img = pad ? dpad + b * isz : din + b * isz;
    memset(img, 0, isz * sizeof(float));
    const float *dyi = dy + (size_t)b * opix * f;
    /* blocks of tiles whose dy rows stay in L1 while every block of wt^T
     * (from L2) is applied to each of them in turn */
    for (int t0 = 0; t0 < ntile; t0 += tpb) {
      int nb = imin(tpb, ntile - t0);
      const float *a[CONV_GI_TILES][GI_MR];
      float *base[CONV_GI_TILES][GI_MR];
      int oy = t0 * GI_MR / ow, ox = t0 * GI_MR % ow; /* then stepped */
      for (int t = 0; t < nb; t++) {
        int m0 = (t0 + t) * GI_MR, mr = imin(GI_MR, opix - m0);
        for (int r = 0; r < GI_MR; r++) {
          a[t][r] = r < mr ? dyi + (size_t)(m0 + r) * f : a[t][0];
          base[t][r] = r < mr ? img + ((size_t)oy * wp + ox) * c : base[t][0];
          if (r < mr && ++ox == ow) ox = 0, oy++;
        }
      }
      for (int s = 0; s < k; s++)
        for (int q0 = 0; q0 < kc;) {
          int nv = gi_tile_nv(kc - q0), nc = imin(nv * DG_VW, kc - q0);
          const float *blk = wtt + ((size_t)s * segw + q0) * f;
          for (int t = 0; t < nb; t++) {
            int mr = imin(GI_MR, opix - (t0 + t) * GI_MR);
            float *d[GI_MR];
            for (int r = 0; r < GI_MR; r++) d[r] = base[t][r] + s * ss + q0;
            if (nv == GI_NV)
              conv_gi_tile(GI_NV, a[t], f, blk, d, mr, nc);
            else if (nv == 2)
              conv_gi_tile(2, a[t], f, blk, d, mr, nc);
            else
              conv_gi_tile(1, a[t], f, blk, d, mr, nc);
          }
          q0 += nv * DG_VW;
        }
    }
    if (pad) {
      float *o = din + (size_t)b * h * w * c;
      for (int y = 0; y < h; y++)
        memcpy(o + (size_t)y * w * c, img + ((size_t)(y + pad) * wp + pad) * c,
               (size_t)w * c * sizeof(float));
    }
  }
}

/* ---- batch norm ------------------------------------------------------------ */

/* A (rows, c) array is walked flat in blocks of P = lcm(c, DG_VW) floats
 * (rp = P/c rows), so each vector of a block holds the same channels in the
 * same lanes whatever c is, and per-channel values are tiled over a block
 * once. Shapes whose block would pass BN_MAXP floats (c > BN_MAXP, or an
 * odd lcm) take the reference path. Statistics are summed over chunks of
 * about BN_CHUNK floats (whole blocks), which stay in L1 for their second
 * pass; the chunking depends on rows and c only. */
#define BN_MAXP 2048
#define BN_CHUNK 8192

typedef struct {
  int P, rp;             /* floats and rows per block */
  size_t cr, nchunks;    /* rows per chunk, chunks */
} bn_plan;

static bn_plan bn_plan_for(size_t rows, int c) {
  bn_plan b = {0, 0, 0, 0};
  int P = c;
  while (P % DG_VW && P <= BN_MAXP) P += c;
  if (P % DG_VW || P > BN_MAXP) return b; /* P == 0: reference path */
  b.P = P;
  b.rp = P / c;
  b.cr = (size_t)(BN_CHUNK / P > 1 ? BN_CHUNK / P : 1) * b.rp;
  b.nchunks = (rows + b.cr - 1) / b.cr;
  return b;
}

size_t dg_bn_work(size_t rows, int c) {
  bn_plan b = bn_plan_for(rows, c);
  return b.nchunks * 2 * (size_t)(c > 0 ? c : 0);
}

static void bn_tile(const float *v, int c, int P, float *vp) {
  for (int i = 0; i < P; i++) vp[i] = v[i % c];
}

/* out[j] = sum over the rp rows of a block of acc (P) at channel j, in
 * row order. */
static void bn_fold(const float *acc, int c, int rp, float *out) {
  for (int j = 0; j < c; j++) {
    float s = acc[j];
    for (int i = 1; i < rp; i++) s += acc[i * c + j];
    out[j] = s;
  }
}

/* One chunk's statistics: the sum S (c) and M2 (c) = sum (x - S/n)^2 over
 * n rows that start at a block boundary; two chains per vector (even and
 * odd blocks), added at the end, then the rows past the last whole block. */
static void bn_chunk_stats(const float *x, size_t n, int c, int P, int rp,
                           float *S, float *M2) {
  float acc[BN_MAXP], mp[BN_MAXP], mean[BN_MAXP];
  size_t nb = n / rp, tail = n - nb * rp;
  const float *xt = x + nb * P;
  for (int pass = 0; pass < 2; pass++) {
    for (int j = 0; j < P; j += DG_VW) {
      dg_vf s0 = dg_vzero(), s1 = dg_vzero();
      const float *p = x + j;
      size_t b = 0;
      if (pass == 0) {
        for (; b + 2 <= nb; b += 2, p += 2 * P) {
          s0 = dg_vadd(s0, dg_vload(p));
          s1 = dg_vadd(s1, dg_vload(p + P));
        }
        if (b < nb) s0 = dg_vadd(s0, dg_vload(p));
      } else {
        dg_vf m = dg_vload(mp + j); /* -mean: x + (-m) is x - m exactly */
        for (; b + 2 <= nb; b += 2, p += 2 * P) {
          dg_vf d0 = dg_vadd(dg_vload(p), m), d1 = dg_vadd(dg_vload(p + P), m);
          s0 = dg_vfma(d0, d0, s0);
          s1 = dg_vfma(d1, d1, s1);
        }
        if (b < nb) {
          dg_vf d0 = dg_vadd(dg_vload(p), m);
          s0 = dg_vfma(d0, d0, s0);
        }
      }
      dg_vstore(acc + j, dg_vadd(s0, s1));
    }
    float *out = pass == 0 ? S : M2;
    bn_fold(acc, c, rp, out);
    for (size_t r = 0; r < tail; r++)
      for (int j = 0; j < c; j++) {
        float v = xt[r * c + j];
        if (pass == 0) {
          out[j] += v;
        } else {
          float d = v + mean[j];
          out[j] += d * d;
        }
      }
    if (pass == 0) {
      for (int j = 0; j < c; j++) mean[j] = -(S[j] / (float)n);
      bn_tile(mean, c, P, mp);
    }
  }
}

void dg_bn_stats(const dg_exec *ex, const float *x, size_t rows, int c, float *mean, float *var,
                 float *work) {
  bn_plan b = bn_plan_for(rows, c);
  if (!b.P || !rows) {
    dg_bn_stats_ref(x, rows, c, mean, var);
    return;
  }
  int nt = threads_for(ex, (double)rows * c, 1 << 16);
  (void)nt;
  DG_OMP(parallel for schedule(dynamic, 4) num_threads(nt) if (nt > 1))
  for (long long k = 0; k < (long long)b.nchunks; k++) {
    size_t r0 = (size_t)k * b.cr, n = rows - r0 < b.cr ? rows - r0 : b.cr;
    float *S = work + (size_t)k * 2 * c;
    bn_chunk_stats(x + r0 * c, n, c, b.P, b.rp, S, S + c);
  }
  /* Chan et al.: merge (count, mean, M2) chunk by chunk, in double */
  for (int j = 0; j < c; j++) {
    double N = 0, m = 0, M2 = 0;
    for (size_t k = 0; k < b.nchunks; k++) {
      const float *S = work + k * 2 * c;
      double nk = (double)(rows - k * b.cr < b.cr ? rows - k * b.cr : b.cr);
      double mk = S[j] / nk, d = mk - m, Nn = N + nk;
      m += d * nk / Nn;
      M2 += S[c + j] + d * d * N * nk / Nn;
      N = Nn;
    }
    mean[j] = (float)m;
    var[j] = (float)(M2 / N);
  }
}

void dg_scale_shift(const dg_exec *ex, const float *x, size_t rows, int c, const float *scale,
                    const float *shift, int relu, float *y) {
  bn_plan b = bn_plan_for(rows, c);
  if (!b.P) {
    dg_scale_shift_ref(x, rows, c, scale, shift, relu, y);
    return;
  }
  float sp[BN_MAXP], hp[BN_MAXP];
  bn_tile(scale, c, b.P, sp);
  bn_tile(shift, c, b.P, hp);
  long long nb = (long long)(rows / b.rp);
  int nt = threads_for(ex, (double)rows * c, 1 << 17);
  (void)nt;
  DG_OMP(parallel for schedule(dynamic, 1024) num_threads(nt) if (nt > 1))
  for (long long k = 0; k < nb; k++) {
    const float *xp = x + (size_t)k * b.P;
    float *yp = y + (size_t)k * b.P;
    for (int j = 0; j < b.P; j += DG_VW) {
      dg_vf v = dg_vfma(dg_vload(xp + j), dg_vload(sp + j), dg_vload(hp + j));
      dg_vstore(yp + j, relu ? dg_vmax(v, dg_vzero()) : v);
    }
  }
  size_t done = (size_t)nb * b.rp;
  dg_scale_shift_ref(x + done * c, rows - done, c, scale, shift, relu,
                     y + done * c);
}

void dg_bn_grad(const dg_exec *ex, const float *x, const float *dy, const float *y, size_t rows,
                int c, const float *mean, const float *invstd,
                const float *gamma, float *dgamma, float *dbeta, float *dx,
                float *work) {
  bn_plan b = bn_plan_for(rows, c);
  if (!b.P || !rows) {
    dg_bn_grad_ref(x, dy, y, rows, c, mean, invstd, gamma, dgamma, dbeta,
                       dx);
    return;
  }
  int P = b.P, rp = b.rp;
  float mp[BN_MAXP], ip[BN_MAXP];
  for (int j = 0; j < c; j++) mp[j] = -mean[j];
  bn_tile(mp, c, P, mp);
  bn_tile(invstd, c, P, ip);
  int nt = threads_for(ex, (double)rows * c, 1 << 16);
  (void)nt;
  /* sums of g and g*xhat per chunk */
  DG_OMP(parallel for schedule(dynamic, 4) num_threads(nt) if (nt > 1))
  for (long long k = 0; k < (long long)b.nchunks; k++) {
    size_t r0 = (size_t)k * b.cr, n = rows - r0 < b.cr ? rows - r0 : b.cr;
    size_t nb = n / rp, tail = n - nb * rp;
    float acc[2][BN_MAXP];
    float *S = work + (size_t)k * 2 * c;
    const float *xc = x + r0 * c, *dc = dy + r0 * c, *yc = y ? y + r0 * c : NULL;
    for (int j = 0; j < P; j += DG_VW) {
      dg_vf sg = dg_vzero(), sx = dg_vzero();
      dg_vf m = dg_vload(mp + j), is = dg_vload(ip + j);
      for (size_t bb = 0; bb < nb; bb++) {
        size_t o = bb * P + j;
        dg_vf g = dg_vload(dc + o);
        if (yc) g = dg_vkeep_pos(dg_vload(yc + o), g);
        dg_vf xh = dg_vmul(dg_vadd(dg_vload(xc + o), m), is);
        sg = dg_vadd(sg, g);
        sx = dg_vfma(g, xh, sx);
      }
      dg_vstore(acc[0] + j, sg);
      dg_vstore(acc[1] + j, sx);
    }
    bn_fold(acc[0], c, rp, S);
    bn_fold(acc[1], c, rp, S + c);
    for (size_t r = nb * rp; r < nb * rp + tail; r++)
      for (int j = 0; j < c; j++) {
        size_t o = r * c + j;
        float g = yc && !(yc[o] > 0.0f) ? 0.0f : dc[o];
        S[j] += g;
        S[c + j] += g * ((xc[o] + mp[j]) * ip[j]);
      }
  }
  for (int j = 0; j < c; j++) {
    double sg = 0, sx = 0;
    for (size_t k = 0; k < b.nchunks; k++) {
      sg += work[k * 2 * c + j];
      sx += work[k * 2 * c + c + j];
    }
    dbeta[j] = (float)sg;
    dgamma[j] = (float)sx;
  }
  if (!dx) return;
  /* dx = a*g - (a*dgamma/rows)*xhat - a*dbeta/rows, a = gamma*invstd */
  float k1[BN_MAXP], k2[BN_MAXP], k3[BN_MAXP];
  for (int j = 0; j < c; j++) {
    float a = gamma[j] * invstd[j];
    k1[j] = a;
    k2[j] = -a * dgamma[j] / (float)rows;
    k3[j] = -a * dbeta[j] / (float)rows;
  }
  size_t nb = rows / rp, done = nb * rp;
  for (size_t r = done; r < rows; r++) /* rows past the last whole block */
    for (int j = 0; j < c; j++) {
      size_t o = r * c + j;
      float g = y && !(y[o] > 0.0f) ? 0.0f : dy[o];
      float xh = (x[o] + mp[j]) * ip[j];
      dx[o] = k1[j] * g + (k2[j] * xh + k3[j]);
    }
  bn_tile(k1, c, P, k1);
  bn_tile(k2, c, P, k2);
  bn_tile(k3, c, P, k3);
  DG_OMP(parallel for schedule(dynamic, 1024) num_threads(nt) if (nt > 1))
  for (long long bb = 0; bb < (long long)nb; bb++) {
    size_t o0 = (size_t)bb * P;
    for (int j = 0; j < P; j += DG_VW) {
      size_t o = o0 + j;
      dg_vf g = dg_vload(dy + o);
      if (y) g = dg_vkeep_pos(dg_vload(y + o), g);
      dg_vf xh = dg_vmul(dg_vadd(dg_vload(x + o), dg_vload(mp + j)),
                         dg_vload(ip + j));
      dg_vf t = dg_vfma(dg_vload(k2 + j), xh, dg_vload(k3 + j));
      dg_vstore(dx + o, dg_vfma(dg_vload(k1 + j), g, t));
    }
  }
}

/* ---- pooling --------------------------------------------------------------- */

/* Channels are innermost, so a window is p*p runs of c contiguous floats,
 * compared a vector of channels at a time in the reference's order:
 * dg_vmax(v, best) is its "v > best ? v : best" and the position moves on
 * the same comparison, so out and arg match it exactly. bn = 0 pools x
 * itself (dg_maxpool); bn = 1 pools v = x * scale + shift, ReLU'd if relu,
 * computed as read (the vector arithmetic of dg_scale_shift), and keeps
 * the chosen x in xk if xk (dg_scale_shift_maxpool). One pooled row. */
DG_INLINE void maxpool_row(const int bn, int row, const float *x, int h,
                           int w, int c, const float *scale,
                           const float *shift, int relu, int p, float *out,
                           float *arg, float *xk) {
  int oh = h / p, ow = w / p, cv = c / DG_VW * DG_VW;
  int b = row / oh, oy = row % oh;
  for (int ox = 0; ox < ow; ox++) {
    size_t o = ((size_t)row * ow + ox) * c;
    const float *x0 = x + (((size_t)b * h + oy * p) * w + ox * p) * c;
    for (int ch = 0; ch < c; ch += DG_VW) {
      int cnt = ch < cv ? DG_VW : c - ch; /* a partial last vector */
      dg_vf sc = dg_vzero(), sh = dg_vzero();
      if (bn) {
        sc = cnt == DG_VW ? dg_vload(scale + ch) : dg_vload_n(scale + ch, cnt);
        sh = cnt == DG_VW ? dg_vload(shift + ch) : dg_vload_n(shift + ch, cnt);
      }
      dg_vf best = dg_vzero(), pos = dg_vzero(), bx = dg_vzero();
      for (int dy = 0; dy < p; dy++)
        for (int dx = 0; dx < p; dx++) {
          const float *xp = x0 + ((size_t)dy * w + dx) * c + ch;
          dg_vf xv = cnt == DG_VW ? dg_vload(xp) : dg_vload_n(xp, cnt);
          dg_vf v = xv;
          if (bn) v = dg_vfma(xv, sc, sh);
          if (bn && relu) v = dg_vmax(v, dg_vzero());
          if (dy == 0 && dx == 0) {
            best = v, bx = xv;
            continue;
          }
          pos = dg_vselect_gt(v, best, dg_vset1((float)(dy * p + dx)), pos);
          if (bn) bx = dg_vselect_gt(v, best, xv, bx);
          best = dg_vmax(v, best);
        }
      if (cnt == DG_VW) {
        dg_vstore(out + o + ch, best);
        dg_vstore(arg + o + ch, pos);
        if (bn && xk) dg_vstore(xk + o + ch, bx);
      } else {
        dg_vstore_n(out + o + ch, best, cnt);
        dg_vstore_n(arg + o + ch, pos, cnt);
        if (bn && xk) dg_vstore_n(xk + o + ch, bx, cnt);
      }
    }
  }
}

/* maxpool_row over the n * (h / p) pooled rows, bn = 0 without scale,
 * shift (dg_maxpool), bn = 1 with them. Each value of bn has a loop (and
 * a parallel region) of its own, so the row's tests of bn fold away. */
static void maxpool_rows(const dg_exec *ex, int bn, const float *x, int n,
                         int h, int w, int c, const float *scale,
                         const float *shift, int relu, int p, float *out,
                         float *arg, float *xk) {
  int oh = h / p, ow = w / p;
  if (n <= 0 || oh <= 0 || ow <= 0 || c <= 0) return;
  int rows = n * oh;
  int nt = threads_for(ex, (double)rows * ow * p * p * c, 1 << 16);
  (void)nt;
  if (bn) {
    DG_OMP(parallel for schedule(dynamic, 16) num_threads(nt) if (nt > 1))
    for (int row = 0; row < rows; row++)
      maxpool_row(1, row, x, h, w, c, scale, shift, relu, p, out, arg, xk);
  } else {
    DG_OMP(parallel for schedule(dynamic, 16) num_threads(nt) if (nt > 1))
    for (int row = 0; row < rows; row++)
      maxpool_row(0, row, x, h, w, c, NULL, NULL, 0, p, out, arg, NULL);
  }
}

void dg_maxpool(const dg_exec *ex, const float *in, int n, int h, int w, int c, int p, float *out,
                float *arg) {
  maxpool_rows(ex, 0, in, n, h, w, c, NULL, NULL, 0, p, out, arg, NULL);
}

/* dg_maxpool's loop on y = relu(x * scale + shift), computed as read. */
void dg_scale_shift_maxpool(const dg_exec *ex, const float *x, int n, int h, int w, int c,
                            const float *scale, const float *shift, int relu,
                            int p, float *out, float *arg, float *xk) {
  maxpool_rows(ex, 1, x, n, h, w, c, scale, shift, relu, p, out, arg, xk);
}

/* a[o..], b[o..], c[o..]: cnt lanes each, whole vectors when cnt is DG_VW
 * (one test for the three). */
DG_INLINE void load3(const float *a, const float *b, const float *c, size_t o,
                     int cnt, dg_vf *va, dg_vf *vb, dg_vf *vc) {
  if (cnt == DG_VW) {
    *va = dg_vload(a + o), *vb = dg_vload(b + o), *vc = dg_vload(c + o);
  } else {
    *va = dg_vload_n(a + o, cnt), *vb = dg_vload_n(b + o, cnt);
    *vc = dg_vload_n(c + o, cnt);
  }
}

size_t dg_maxpool_bn_work(int n, int h, int w, int c, int p) {
  (void)w;
  return ((size_t)n * (h / p) * 2 + 5) * (size_t)(c > 0 ? c : 0);
}

void dg_maxpool_bn_grad(const dg_exec *ex, const float *dout, const float *out, const float *arg,
                        const float *xk, const float *x, int n, int h, int w,
                        int c, int p, const float *mean, const float *invstd,
                        const float *gamma, float *dgamma, float *dbeta,
                        float *dx, float *work) {
  int oh = h / p, ow = w / p, prows = n * oh;
  size_t rows = (size_t)n * h * w, wc = (size_t)w * c;
  if (n <= 0 || c <= 0) return;
  float *nm = work + (size_t)prows * 2 * c, *is = nm + c, *k1 = is + c,
        *k2 = k1 + c, *k3 = k2 + c;
  for (int j = 0; j < c; j++) nm[j] = -mean[j], is[j] = invstd[j];
  int nt = threads_for(ex, (double)rows * c, 1 << 16);
  (void)nt;
  /* sums of g and g*xhat, one pooled row at a time, from pooled arrays */
  DG_OMP(parallel for schedule(dynamic, 16) num_threads(nt) if (nt > 1))
  for (int pr = 0; pr < prows; pr++) {
    float *S = work + (size_t)pr * 2 * c;
    size_t orow = (size_t)pr * ow * c;
    for (int ch = 0; ch < c; ch += DG_VW) {
      int cnt = c - ch < DG_VW ? c - ch : DG_VW;
      dg_vf m = cnt == DG_VW ? dg_vload(nm + ch) : dg_vload_n(nm + ch, cnt);
      dg_vf iv = cnt == DG_VW ? dg_vload(is + ch) : dg_vload_n(is + ch, cnt);
      dg_vf sg = dg_vzero(), sx = dg_vzero();
      for (int ox = 0; ox < ow; ox++) {
        size_t o = orow + (size_t)ox * c + ch;
        dg_vf g, xv, ov;
        load3(dout, xk, out, o, cnt, &g, &xv, &ov);
        g = dg_vkeep_pos(ov, g);
        sg = dg_vadd(sg, g);
        sx = dg_vfma(g, dg_vmul(dg_vadd(xv, m), iv), sx);
      }
      if (cnt == DG_VW) {
        dg_vstore(S + ch, sg);
        dg_vstore(S + c + ch, sx);
      } else {
        dg_vstore_n(S + ch, sg, cnt);
        dg_vstore_n(S + c + ch, sx, cnt);
      }
    }
  }
  for (int j = 0; j < c; j++) {
    double sg = 0, sx = 0;
    for (int pr = 0; pr < prows; pr++) {
      sg += work[(size_t)pr * 2 * c + j];
      sx += work[(size_t)pr * 2 * c + c + j];
    }
    dbeta[j] = (float)sg;
    dgamma[j] = (float)sx;
  }
  if (!dx) return;
  for (int j = 0; j < c; j++) {
    float a = gamma[j] * invstd[j];
    k1[j] = a;
    k2[j] = -a * dgamma[j] / (float)rows;
    k3[j] = -a * dbeta[j] / (float)rows;
  }
  /* dx = k1*g + k2*xhat + k3, every cell; g from the pooled gradient,
   * read once per window; rows and columns past the last whole window
   * have g = 0 */
  int xrows = n * h;
  DG_OMP(parallel for schedule(dynamic, 32) num_threads(nt) if (nt > 1))
  for (int row = 0; row < xrows; row++) {
    int b = row / h, y = row % h, oy = y / p, dyc = y % p;
    const float *xr = x + (size_t)row * wc;
    float *d = dx + (size_t)row * wc;
    size_t orow = ((size_t)b * oh + (oy < oh ? oy : 0)) * ow * c;
    int wx = oy < oh ? ow * p : 0; /* columns inside windows */
    for (int ch = 0; ch < c; ch += DG_VW) {
      int cnt = c - ch < DG_VW ? c - ch : DG_VW;
      dg_vf m, iv, a1, a2, a3, z = dg_vzero();
      if (cnt == DG_VW) {
        m = dg_vload(nm + ch), iv = dg_vload(is + ch), a1 = dg_vload(k1 + ch);
        a2 = dg_vload(k2 + ch), a3 = dg_vload(k3 + ch);
      } else {
        m = dg_vload_n(nm + ch, cnt), iv = dg_vload_n(is + ch, cnt);
        a1 = dg_vload_n(k1 + ch, cnt), a2 = dg_vload_n(k2 + ch, cnt);
        a3 = dg_vload_n(k3 + ch, cnt);
      }
      for (int xx = 0; xx < w; xx++) {
        size_t i = (size_t)xx * c + ch;
        dg_vf g = z;
        if (xx < wx) {
          size_t o = orow + (size_t)(xx / p) * c + ch;
          dg_vf gv, av, ov;
          load3(dout, arg, out, o, cnt, &gv, &av, &ov);
          float k = (float)(dyc * p + xx % p);
          g = dg_vselect_gt(av, dg_vset1(k - 0.5f),
                            dg_vselect_gt(dg_vset1(k + 0.5f), av,
                                          dg_vkeep_pos(ov, gv), z), z);
        }
        dg_vf xv = cnt == DG_VW ? dg_vload(xr + i) : dg_vload_n(xr + i, cnt);
        dg_vf r = dg_vfma(a1, g, dg_vfma(a2, dg_vmul(dg_vadd(xv, m), iv), a3));
        if (cnt == DG_VW)
          dg_vstore(d + i, r);
        else
          dg_vstore_n(d + i, r, cnt);
      }
    }
  }
}

/* Each input row is written once, in full: the window cell k of a pooled
 * value gets (arg == k) ? g : 0, with arg == k tested as k - 0.5 < arg <
 * k + 0.5 (arg holds small whole numbers). No zeroing pass, no scatter. */
void dg_maxpool_backward(const dg_exec *ex, const float *dout, const float *out, const float *arg,
                         int n, int h, int w, int c, int p, float *din) {
  int oh = h / p, ow = w / p;
  if (n <= 0 || h <= 0 || w <= 0 || c <= 0) return;
  int rows = n * h, cv = c / DG_VW * DG_VW;
  int nt = threads_for(ex, (double)rows * w * c, 1 << 16);
  (void)nt;
  DG_OMP(parallel for schedule(dynamic, 32) num_threads(nt) if (nt > 1))
  for (int row = 0; row < rows; row++) {
    int b = row / h, y = row % h, oy = y / p, dy = y % p;
    float *d = din + (size_t)row * w * c; /* (w, c) */
    if (oy >= oh) {
      memset(d, 0, (size_t)w * c * sizeof(float));
      continue;
    }
    size_t orow = ((size_t)b * oh + oy) * ow * c;
    for (int ox = 0; ox < ow; ox++) {
      const float *g = dout + orow + (size_t)ox * c;
      const float *a = arg + orow + (size_t)ox * c;
      const float *m = out ? out + orow + (size_t)ox * c : NULL;
      for (int dx = 0; dx < p; dx++) {
        float *dd = d + ((size_t)ox * p + dx) * c;
        float k = (float)(dy * p + dx);
        dg_vf lo = dg_vset1(k - 0.5f), hi = dg_vset1(k + 0.5f), z = dg_vzero();
        for (int ch = 0; ch < c; ch += DG_VW) {
          int cnt = ch < cv ? DG_VW : c - ch;
          dg_vf gv, av;
          if (cnt == DG_VW) {
            gv = dg_vload(g + ch), av = dg_vload(a + ch);
            if (m) gv = dg_vkeep_pos(dg_vload(m + ch), gv);
          } else {
            gv = dg_vload_n(g + ch, cnt), av = dg_vload_n(a + ch, cnt);
            if (m) gv = dg_vkeep_pos(dg_vload_n(m + ch, cnt), gv);
          }
          dg_vf d = dg_vselect_gt(av, lo, dg_vselect_gt(hi, av, gv, z), z);
          if (cnt == DG_VW)
            dg_vstore(dd + ch, d);
          else
            dg_vstore_n(dd + ch, d, cnt);
        }
      }
    }
    if (ow * p < w)
      memset(d + (size_t)ow * p * c, 0, (size_t)(w - ow * p) * c * sizeof(float));
  }
}

void dg_avgpool(const dg_exec *ex, const float *in, int n, int h, int w, int c, int p,
                float *out) {
  int oh = h / p, ow = w / p;
  if (n <= 0 || oh <= 0 || ow <= 0 || c <= 0) return;
  int rows = n * oh;
  float inv = 1.0f / (float)(p * p);
  int cv = c / DG_VW * DG_VW;
  int nt = threads_for(ex, (double)rows * ow * p * p * c, 1 << 16);
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
void dg_avgpool_backward(const dg_exec *ex, const float *dout, int n, int h, int w, int c, int p,
                         float *din) {
  int oh = h / p, ow = w / p;
  if (n <= 0 || h <= 0 || w <= 0 || c <= 0) return;
  float inv = 1.0f / (float)(p * p);
  int rows = n * h;
  int nt = threads_for(ex, (double)rows * w * c, 1 << 16);
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

void dg_bias_add(const dg_exec *ex, float *y, const float *b, size_t rows, int c) {
  if (c <= 0) return;
  int nt = threads_for(ex, (double)rows * c, 1 << 17);
  (void)nt;
  DG_OMP(parallel for schedule(dynamic, 64) num_threads(nt) if (nt > 1))
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
void dg_bias_grad(const dg_exec *ex, const float *dy, size_t rows, int c, float *db) {
  if (c <= 0) return;
  const int CW = 4 * DG_VW;
  int nchunks = (c + CW - 1) / CW;
  int nt = threads_for(ex, (double)rows * c, 1 << 17);
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
void dg_relu(const dg_exec *ex, const float *x, float *y, size_t n) {
  int nt = threads_for(ex, (double)n, 1 << 18);
  long long nv = (long long)(n / DG_VW);
  (void)nt;
  DG_OMP(parallel for schedule(dynamic, 2048) num_threads(nt) if (nt > 1))
  for (long long i = 0; i < nv; i++)
    dg_vstore(y + i * DG_VW, dg_vmax(dg_vload(x + i * DG_VW), dg_vzero()));
  for (size_t i = (size_t)nv * DG_VW; i < n; i++)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void dg_relu_backward(const dg_exec *ex, const float *y, const float *dy, float *dx, size_t n) {
  int nt = threads_for(ex, (double)n, 1 << 18);
  long long nv = (long long)(n / DG_VW);
  (void)nt;
  DG_OMP(parallel for schedule(dynamic, 2048) num_threads(nt) if (nt > 1))
  for (long long i = 0; i < nv; i++)
    dg_vstore(dx + i * DG_VW,
              dg_vkeep_pos(dg_vload(y + i * DG_VW), dg_vload(dy + i * DG_VW)));
  for (size_t i = (size_t)nv * DG_VW; i < n; i++)
    dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* ---- optimizers -------------------------------------------------------------- */

/* Element-wise, so threads may split anywhere; the tail past the last
 * whole vector runs the same lane arithmetic through a padded vector. */
void dg_adam(const dg_exec *ex, float *p, const float *g, float *m, float *v, size_t n, float lr,
             float b1, float b2, float eps, float r1, float r2, float decay) {
  dg_vf vb1 = dg_vset1(b1), vc1 = dg_vset1(1 - b1), vb2 = dg_vset1(b2),
        vc2 = dg_vset1(1 - b2), veps = dg_vset1(eps), vr1 = dg_vset1(r1),
        vr2 = dg_vset1(r2), vlr = dg_vset1(lr), vdec = dg_vset1(decay);
  long long nv = (long long)(n / DG_VW);
  int nt = threads_for(ex, (double)n * 8, 1 << 18);
  (void)nt;
  DG_OMP(parallel for schedule(dynamic, 1024) num_threads(nt) if (nt > 1))
  for (long long i = 0; i <= nv; i++) {
    size_t o = (size_t)i * DG_VW;
    int cnt = i < nv ? DG_VW : (int)(n - o);
    if (cnt == 0) continue;
    float tp[DG_VW], tg[DG_VW], tm[DG_VW], tv[DG_VW];
    float *pp = p + o, *mp = m + o, *vp = v + o;
    const float *gp = g + o;
    if (cnt < DG_VW) {
      for (int j = 0; j < DG_VW; j++) {
        int in = j < cnt;
        tp[j] = in ? pp[j] : 0, tg[j] = in ? gp[j] : 0;
        tm[j] = in ? mp[j] : 0, tv[j] = in ? vp[j] : 0;
      }
      pp = tp, gp = tg, mp = tm, vp = tv;
    }
    dg_vf gv = dg_vload(gp), pv = dg_vload(pp);
    dg_vf mv = dg_vfma(vb1, dg_vload(mp), dg_vmul(vc1, gv));
    dg_vf vv = dg_vfma(vb2, dg_vload(vp), dg_vmul(dg_vmul(vc2, gv), gv));
    dg_vf step = dg_vdiv(dg_vmul(mv, vr1),
                         dg_vadd(dg_vsqrt(dg_vmul(vv, vr2)), veps));
    pv = dg_vsub(pv, dg_vmul(vlr, dg_vfma(vdec, pv, step)));
    dg_vstore(mp, mv);
    dg_vstore(vp, vv);
    dg_vstore(pp, pv);
    if (cnt < DG_VW)
      for (int j = 0; j < cnt; j++)
        p[o + j] = tp[j], m[o + j] = tm[j], v[o + j] = tv[j];
  }
}

void dg_sgd(const dg_exec *ex, float *p, const float *g, float *m, size_t n, float lr, float mu,
            float decay) {
  dg_vf vmu = dg_vset1(mu), vlr = dg_vset1(lr), vld = dg_vset1(lr * decay);
  long long nv = (long long)(n / DG_VW);
  int nt = threads_for(ex, (double)n * 4, 1 << 18);
  (void)nt;
  DG_OMP(parallel for schedule(dynamic, 1024) num_threads(nt) if (nt > 1))
  for (long long i = 0; i < nv; i++) {
    size_t o = (size_t)i * DG_VW;
    dg_vf mv = dg_vsub(dg_vmul(vmu, dg_vload(m + o)),
                       dg_vmul(vlr, dg_vload(g + o)));
    dg_vf pv = dg_vload(p + o);
    dg_vstore(m + o, mv);
    dg_vstore(p + o, dg_vadd(pv, dg_vsub(mv, dg_vmul(vld, pv))));
  }
  size_t o = (size_t)nv * DG_VW;
  dg_sgd_ref(p + o, g + o, m + o, n - o, lr, mu, decay);
}

/* ---- dropout ---------------------------------------------------------------- */

#if defined(__GNUC__)
/* dg_dropout_mask_ref for DROP_LANES whole chunks at once. Each chunk's
 * xorshift128+ is a serial chain (about 5 cycles a draw), so the chunks
 * run side by side in the 64-bit lanes of a vector; the draws, and so the
 * masks, are exactly the reference's. */
#define DROP_LANES 8
typedef uint64_t drop_u64v __attribute__((vector_size(8 * DROP_LANES)));

static uint64_t drop_splitmix(uint64_t *x) { /* as kernels_ref.c */
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* mask (DROP_LANES * DG_DROPOUT_CHUNK) for chunks j0, j0+1, ... */
static void dropout_mask_lanes(float *mask, size_t j0, float rate,
                               uint64_t seed) {
  float keep = 1.0f / (1.0f - rate);
  uint32_t thr = (uint32_t)ceilf(rate * 16777216.0f);
  drop_u64v s0, s1;
  for (int l = 0; l < DROP_LANES; l++) {
    uint64_t x = seed ^ (j0 + l) * 0xD1B54A32D192ED03ull;
    s0[l] = drop_splitmix(&x);
    s1[l] = drop_splitmix(&x) | 1;
  }
  uint32_t kb;
  memcpy(&kb, &keep, sizeof kb);
  drop_u64v vkeep = s0 * 0 + kb, vthr = s0 * 0 + thr;
  enum { STEPS = 64 };
  drop_u64v r[STEPS]; /* per draw: lane l's two mask floats, as bits */
  for (int i0 = 0; i0 < DG_DROPOUT_CHUNK / 2; i0 += STEPS) {
    for (int i = 0; i < STEPS; i++) {
      drop_u64v a = s0, b = s1, v = a + b;
      s0 = b;
      a ^= a << 23;
      s1 = a ^ b ^ (a >> 18) ^ (b >> 5);
      /* without branches (the tests are coin flips): the first float
       * (low half) from bits 40-63, the second from bits 8-31 */
      drop_u64v k0 = (drop_u64v)((v >> 40) >= vthr) & vkeep;
      drop_u64v k1 = (drop_u64v)((v >> 8 & 0xFFFFFF) >= vthr) & vkeep;
      r[i] = k0 | k1 << 32;
    }
    for (int l = 0; l < DROP_LANES; l++) {
      float *mk = mask + (size_t)l * DG_DROPOUT_CHUNK + 2 * i0;
      for (int i = 0; i < STEPS; i++) {
        uint64_t v = r[i][l];
        memcpy(mk + 2 * i, &v, sizeof v);
      }
    }
  }
}
#else
#define DROP_LANES 1
#endif

void dg_dropout(const dg_exec *ex, const float *x, float *y, float *mask, size_t n, float rate,
                uint64_t seed) {
  /* work items: DROP_LANES chunks each (the last may be shorter) */
  long long nc = (long long)((n + DG_DROPOUT_CHUNK - 1) / DG_DROPOUT_CHUNK);
  long long ng = (nc + DROP_LANES - 1) / DROP_LANES;
  int nt = threads_for(ex, (double)n * 8, 1 << 16);
  (void)nt;
  DG_OMP(parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1))
  for (long long gi = 0; gi < ng; gi++) {
    size_t i0 = (size_t)gi * DROP_LANES * DG_DROPOUT_CHUNK;
    size_t len = (size_t)DROP_LANES * DG_DROPOUT_CHUNK;
    if (len > n - i0) len = n - i0;
#if DROP_LANES > 1
    if (len == (size_t)DROP_LANES * DG_DROPOUT_CHUNK)
      dropout_mask_lanes(mask + i0, i0 / DG_DROPOUT_CHUNK, rate, seed);
    else
#endif
      dg_dropout_mask_ref(mask + i0, i0, len, rate, seed);
    size_t i = 0;
    for (; i + DG_VW <= len; i += DG_VW)
      dg_vstore(y + i0 + i,
                dg_vmul(dg_vload(x + i0 + i), dg_vload(mask + i0 + i)));
    for (; i < len; i++) y[i0 + i] = x[i0 + i] * mask[i0 + i];
  }
}

void dg_mul(const dg_exec *ex, const float *a, const float *b, float *y, size_t n) {
  long long nv = (long long)(n / DG_VW);
  int nt = threads_for(ex, (double)n, 1 << 18);
  (void)nt;
  DG_OMP(parallel for schedule(dynamic, 2048) num_threads(nt) if (nt > 1))
  for (long long i = 0; i < nv; i++)
    dg_vstore(y + i * DG_VW,
              dg_vmul(dg_vload(a + i * DG_VW), dg_vload(b + i * DG_VW)));
  for (size_t i = (size_t)nv * DG_VW; i < n; i++) y[i] = a[i] * b[i];
}
