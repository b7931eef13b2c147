/* simd.h: the small SIMD vocabulary the fast kernels (kernels.c) are written
 * against, one implementation per target, chosen at compile time:
 *
 *   DG_FORCE_SCALAR defined  -> scalar (width 1), for testing the fallback
 *   __AVX512F__              -> "avx512"      16 floats, FMA
 *   __AVX2__ && __FMA__      -> "avx2+fma"     8 floats, FMA
 *   __SSE2__ (x86-64)        -> "sse2"         4 floats, mul+add
 *   __wasm_relaxed_simd__    -> "wasm relaxed" 4 floats, relaxed SIMD's
 *                                              f32x4.relaxed_madd (fused on
 *                                              CPUs with FMA, mul+add else)
 *   __wasm_simd128__         -> "wasm simd128" 4 floats, mul+add (simd128
 *                                              has no fused multiply-add)
 *   otherwise                -> "scalar"       1 float
 *
 * Vocabulary (dg_vf is the vector of DG_VW floats):
 *   dg_vload(p) dg_vstore(p, v)   unaligned load/store of DG_VW floats
 *   dg_vset1(x) dg_vzero()        broadcast, all zeros
 *   dg_vadd dg_vsub dg_vmul dg_vdiv   lane-wise a+b, a-b, a*b, a/b
 *   dg_vsqrt(a)                   lane-wise square root (correctly rounded)
 *   dg_vfma(a, b, c)              a*b + c (fused where the target has it)
 *   dg_vmax(a, b)                 lane-wise (a > b) ? a : b, so that
 *                                 dg_vmax(x, 0) is exactly the reference ReLU
 *                                 (NaN -> 0, -0 -> +0) on every target
 *   dg_vkeep_pos(y, d)            lane-wise (y > 0) ? d : 0 (ReLU backward)
 *   dg_vselect_gt(a, b, x, y)     lane-wise (a > b) ? x : y (false on NaN)
 *   dg_vhsum(v)                   sum of the lanes (order is target specific)
 *   dg_vcopy_n(d, s, n)           d[i] = s[i] for i < n, 0 < n < DG_VW (tails
 *                                 of short runs without a call to memcpy)
 *   dg_vaddto_n(d, s, n)          d[i] += s[i] for i < n, 0 < n < DG_VW
 *   dg_vload_n(p, n)              the first n lanes from p, zeros above;
 *   dg_vstore_n(p, v, n)          the first n lanes of v to p; 0 < n < DG_VW
 *                                 (nothing past p[n-1] is touched)
 *   dg_vtranspose(r)              transpose the DG_VW x DG_VW block held in
 *                                 r[0..DG_VW) (row q in r[q]), in place
 *
 * The kernel files (kernels.c, kernels_infer.c, winograd.c) include this
 * header; nothing here is public API.
 */
#ifndef DG_SIMD_H
#define DG_SIMD_H

/* Loop and inlining hints of the kernels: DG_UNROLL unrolls a fixed-size
 * loop fully (what keeps a register tile in registers), DG_NOUNROLL keeps
 * a loop rolled, DG_INLINE inlines a tile function at every call (its
 * width a constant there). */
#define DG_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define DG_UNROLL DG_PRAGMA(unroll)
#define DG_NOUNROLL DG_PRAGMA(unroll 1)
#elif defined(__GNUC__)
#define DG_UNROLL DG_PRAGMA(GCC unroll 16)
#define DG_NOUNROLL DG_PRAGMA(GCC unroll 1)
#else
#define DG_UNROLL
#define DG_NOUNROLL
#endif
#if defined(__GNUC__)
#define DG_INLINE static inline __attribute__((always_inline))
#else
#define DG_INLINE static inline
#endif

#if defined(DG_FORCE_SCALAR)
#define DG_SIMD_SCALAR 1
#elif defined(__AVX512F__)
#define DG_SIMD_AVX512 1
#elif defined(__AVX2__) && defined(__FMA__)
#define DG_SIMD_AVX2 1
#elif defined(__SSE2__) || defined(_M_X64)
#define DG_SIMD_SSE2 1
#elif defined(__wasm_simd128__)
#define DG_SIMD_WASM 1
#else
#define DG_SIMD_SCALAR 1
#endif

/* ---- x86: what AVX-512F, AVX2 and SSE2 share ------------------------------ */
#if defined(DG_SIMD_AVX512) || defined(DG_SIMD_AVX2)
#include <immintrin.h>
#elif defined(DG_SIMD_SSE2)
#include <emmintrin.h>
#endif
#if defined(DG_SIMD_AVX512) || defined(DG_SIMD_AVX2) || defined(DG_SIMD_SSE2)
/* The lane-wise basics: the same instructions at each width, the
 * intrinsics' prefix P (_mm512, _mm256, _mm) the only difference, but for
 * the multiply-add FMA (of a, b, c). vmaxps returns its second operand
 * when either is NaN: (a > b) ? a : b. */
#define DG_X86_BASICS(P, V, FMA)                                               \
  typedef V dg_vf;                                                             \
  static inline dg_vf dg_vfma(dg_vf a, dg_vf b, dg_vf c) { return FMA; }       \
  static inline dg_vf dg_vload(const float *p) { return P##_loadu_ps(p); }     \
  static inline void dg_vstore(float *p, dg_vf v) { P##_storeu_ps(p, v); }     \
  static inline dg_vf dg_vset1(float x) { return P##_set1_ps(x); }             \
  static inline dg_vf dg_vzero(void) { return P##_setzero_ps(); }              \
  static inline dg_vf dg_vadd(dg_vf a, dg_vf b) { return P##_add_ps(a, b); }   \
  static inline dg_vf dg_vmul(dg_vf a, dg_vf b) { return P##_mul_ps(a, b); }   \
  static inline dg_vf dg_vsub(dg_vf a, dg_vf b) { return P##_sub_ps(a, b); }   \
  static inline dg_vf dg_vdiv(dg_vf a, dg_vf b) { return P##_div_ps(a, b); }   \
  static inline dg_vf dg_vsqrt(dg_vf a) { return P##_sqrt_ps(a); }             \
  static inline dg_vf dg_vmax(dg_vf a, dg_vf b) { return P##_max_ps(a, b); }
/* The sum of the lanes of a 128-bit vector (SSE2's dg_vhsum) and of a
 * 256-bit one (AVX2's): the last steps of every x86 dg_vhsum. */
static inline float dg_hsum4(__m128 s4) {
  s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  s4 = _mm_add_ss(s4, _mm_shuffle_ps(s4, s4, 1));
  return _mm_cvtss_f32(s4);
}
#if defined(DG_SIMD_AVX512) || defined(DG_SIMD_AVX2)
static inline float dg_hsum8(__m256 s8) {
  return dg_hsum4(_mm_add_ps(_mm256_castps256_ps128(s8),
                             _mm256_extractf128_ps(s8, 1)));
}
#endif
#endif

/* ---- AVX-512F ----------------------------------------------------------- */
#if defined(DG_SIMD_AVX512)
#define DG_SIMD_NAME "avx512"
#define DG_VW 16
DG_X86_BASICS(_mm512, __m512, _mm512_fmadd_ps(a, b, c))
static inline dg_vf dg_vkeep_pos(dg_vf y, dg_vf d) {
  __mmask16 m = _mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_GT_OQ);
  return _mm512_maskz_mov_ps(m, d);
}
static inline dg_vf dg_vselect_gt(dg_vf a, dg_vf b, dg_vf x, dg_vf y) {
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ), y, x);
}
static inline void dg_vcopy_n(float *d, const float *s, int n) {
  __mmask16 m = (__mmask16)((1u << n) - 1);
  _mm512_mask_storeu_ps(d, m, _mm512_maskz_loadu_ps(m, s));
}
static inline void dg_vaddto_n(float *d, const float *s, int n) {
  __mmask16 m = (__mmask16)((1u << n) - 1);
  _mm512_mask_storeu_ps(
      d, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, d), _mm512_maskz_loadu_ps(m, s)));
}
static inline dg_vf dg_vload_n(const float *p, int n) {
  return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
}
static inline void dg_vstore_n(float *p, dg_vf v, int n) {
  _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), v);
}
/* Four block-swap stages (8, 4, 2, 1): stage s exchanges, between rows i
 * and i+s, the lanes whose column bit s differs from the row bit s. */
static inline void dg_vtranspose(dg_vf r[16]) {
  for (int s = 8; s >= 1; s >>= 1) {
    int lo_i[16], hi_i[16];
    for (int l = 0; l < 16; l++) {
      lo_i[l] = (l & s) ? 16 + l - s : l;
      hi_i[l] = (l & s) ? 16 + l : l + s;
    }
    __m512i il = _mm512_loadu_si512(lo_i), ih = _mm512_loadu_si512(hi_i);
    for (int i = 0; i < 16; i++) {
      if (i & s) continue;
      __m512 a = r[i], b = r[i + s];
      r[i] = _mm512_permutex2var_ps(a, il, b);
      r[i + s] = _mm512_permutex2var_ps(a, ih, b);
    }
  }
}
static inline float dg_vhsum(dg_vf v) {
  __m256 lo = _mm512_castps512_ps256(v);
  __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  return dg_hsum8(_mm256_add_ps(lo, hi));
}

/* ---- AVX2 + FMA --------------------------------------------------------- */
#elif defined(DG_SIMD_AVX2)
#define DG_SIMD_NAME "avx2+fma"
#define DG_VW 8
DG_X86_BASICS(_mm256, __m256, _mm256_fmadd_ps(a, b, c))
static inline dg_vf dg_vkeep_pos(dg_vf y, dg_vf d) {
  return _mm256_and_ps(_mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GT_OQ), d);
}
static inline dg_vf dg_vselect_gt(dg_vf a, dg_vf b, dg_vf x, dg_vf y) {
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_GT_OQ));
}
static inline __m256i dg_vmask_n(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline void dg_vcopy_n(float *d, const float *s, int n) {
  __m256i m = dg_vmask_n(n);
  _mm256_maskstore_ps(d, m, _mm256_maskload_ps(s, m));
}
static inline void dg_vaddto_n(float *d, const float *s, int n) {
  __m256i m = dg_vmask_n(n);
  _mm256_maskstore_ps(
      d, m, _mm256_add_ps(_mm256_maskload_ps(d, m), _mm256_maskload_ps(s, m)));
}
static inline dg_vf dg_vload_n(const float *p, int n) {
  return _mm256_maskload_ps(p, dg_vmask_n(n));
}
static inline void dg_vstore_n(float *p, dg_vf v, int n) {
  _mm256_maskstore_ps(p, dg_vmask_n(n), v);
}
/* Block swaps of 4 (128-bit halves), 2 (pairs), 1 (single lanes). */
static inline void dg_vtranspose(dg_vf r[8]) {
  for (int i = 0; i < 4; i++) {
    __m256 a = r[i], b = r[i + 4];
    r[i] = _mm256_permute2f128_ps(a, b, 0x20);
    r[i + 4] = _mm256_permute2f128_ps(a, b, 0x31);
  }
  for (int i = 0; i < 8; i++) {
    if (i & 2) continue;
    __m256 a = r[i], b = r[i + 2];
    r[i] = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 2] = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 8; i += 2) {
    __m256 a = r[i], b = r[i + 1];
    r[i] = _mm256_blend_ps(a, _mm256_moveldup_ps(b), 0xAA);
    r[i + 1] = _mm256_blend_ps(_mm256_movehdup_ps(a), b, 0xAA);
  }
}
static inline float dg_vhsum(dg_vf v) { return dg_hsum8(v); }

/* ---- SSE2 --------------------------------------------------------------- */
#elif defined(DG_SIMD_SSE2)
#define DG_SIMD_NAME "sse2"
#define DG_VW 4
DG_X86_BASICS(_mm, __m128, _mm_add_ps(_mm_mul_ps(a, b), c))
static inline dg_vf dg_vkeep_pos(dg_vf y, dg_vf d) {
  return _mm_and_ps(_mm_cmpgt_ps(y, _mm_setzero_ps()), d);
}
static inline dg_vf dg_vselect_gt(dg_vf a, dg_vf b, dg_vf x, dg_vf y) {
  __m128 m = _mm_cmpgt_ps(a, b);
  return _mm_or_ps(_mm_and_ps(m, x), _mm_andnot_ps(m, y));
}
static inline void dg_vtranspose(dg_vf r[4]) {
  _MM_TRANSPOSE4_PS(r[0], r[1], r[2], r[3]);
}
static inline float dg_vhsum(dg_vf v) { return dg_hsum4(v); }

/* ---- WebAssembly simd128 ------------------------------------------------ */
#elif defined(DG_SIMD_WASM)
#include <wasm_simd128.h>
#if defined(__wasm_relaxed_simd__)
#define DG_SIMD_NAME "wasm relaxed"
#else
#define DG_SIMD_NAME "wasm simd128"
#endif
#define DG_VW 4
typedef v128_t dg_vf;
static inline dg_vf dg_vload(const float *p) { return wasm_v128_load(p); }
static inline void dg_vstore(float *p, dg_vf v) { wasm_v128_store(p, v); }
static inline dg_vf dg_vset1(float x) { return wasm_f32x4_splat(x); }
static inline dg_vf dg_vzero(void) { return wasm_f32x4_splat(0.0f); }
static inline dg_vf dg_vadd(dg_vf a, dg_vf b) { return wasm_f32x4_add(a, b); }
static inline dg_vf dg_vmul(dg_vf a, dg_vf b) { return wasm_f32x4_mul(a, b); }
static inline dg_vf dg_vsub(dg_vf a, dg_vf b) { return wasm_f32x4_sub(a, b); }
static inline dg_vf dg_vdiv(dg_vf a, dg_vf b) { return wasm_f32x4_div(a, b); }
static inline dg_vf dg_vsqrt(dg_vf a) { return wasm_f32x4_sqrt(a); }
/* Relaxed: emcc 3.1.6 (LLVM 14) names the fused multiply-add by its
 * prototype builtin and opcode (a*b + c, the arguments in stack order);
 * the build rewrites the opcode to the standard f32x4.relaxed_madd
 * (web/tools/relax-wasm.mjs). Where the engine does not fuse, the result
 * is that of mul+add, within the tolerance the tests allow for FMA. */
static inline dg_vf dg_vfma(dg_vf a, dg_vf b, dg_vf c) {
#if defined(__wasm_relaxed_simd__)
  return __builtin_wasm_fma_f32x4(a, b, c);
#else
  return wasm_f32x4_add(wasm_f32x4_mul(a, b), c);
#endif
}
/* pmax(b, a) is (b < a) ? a : b, i.e. (a > b) ? a : b, like x86 maxps;
 * f32x4.max would propagate NaN instead. */
static inline dg_vf dg_vmax(dg_vf a, dg_vf b) { return wasm_f32x4_pmax(b, a); }
static inline dg_vf dg_vkeep_pos(dg_vf y, dg_vf d) {
  return wasm_v128_and(wasm_f32x4_gt(y, wasm_f32x4_splat(0.0f)), d);
}
static inline dg_vf dg_vselect_gt(dg_vf a, dg_vf b, dg_vf x, dg_vf y) {
  return wasm_v128_bitselect(x, y, wasm_f32x4_gt(a, b));
}
/* Block swaps of 2 (pairs) then 1 (single lanes). */
static inline void dg_vtranspose(dg_vf r[4]) {
  for (int i = 0; i < 2; i++) {
    v128_t a = r[i], b = r[i + 2];
    r[i] = wasm_i32x4_shuffle(a, b, 0, 1, 4, 5);
    r[i + 2] = wasm_i32x4_shuffle(a, b, 2, 3, 6, 7);
  }
  for (int i = 0; i < 4; i += 2) {
    v128_t a = r[i], b = r[i + 1];
    r[i] = wasm_i32x4_shuffle(a, b, 0, 4, 2, 6);
    r[i + 1] = wasm_i32x4_shuffle(a, b, 1, 5, 3, 7);
  }
}
static inline float dg_vhsum(dg_vf v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/* ---- scalar fallback ---------------------------------------------------- */
#else
#include <math.h>
#define DG_SIMD_NAME "scalar"
#define DG_VW 1
typedef float dg_vf;
static inline dg_vf dg_vload(const float *p) { return *p; }
static inline void dg_vstore(float *p, dg_vf v) { *p = v; }
static inline dg_vf dg_vset1(float x) { return x; }
static inline dg_vf dg_vzero(void) { return 0.0f; }
static inline dg_vf dg_vadd(dg_vf a, dg_vf b) { return a + b; }
static inline dg_vf dg_vmul(dg_vf a, dg_vf b) { return a * b; }
static inline dg_vf dg_vsub(dg_vf a, dg_vf b) { return a - b; }
static inline dg_vf dg_vdiv(dg_vf a, dg_vf b) { return a / b; }
static inline dg_vf dg_vsqrt(dg_vf a) { return sqrtf(a); }
static inline dg_vf dg_vfma(dg_vf a, dg_vf b, dg_vf c) { return a * b + c; }
static inline dg_vf dg_vmax(dg_vf a, dg_vf b) { return a > b ? a : b; }
static inline dg_vf dg_vkeep_pos(dg_vf y, dg_vf d) { return y > 0 ? d : 0.0f; }
static inline dg_vf dg_vselect_gt(dg_vf a, dg_vf b, dg_vf x, dg_vf y) {
  return a > b ? x : y;
}
static inline float dg_vhsum(dg_vf v) { return v; }
static inline void dg_vtranspose(dg_vf r[1]) { (void)r; }
static inline void dg_vcopy_n(float *d, const float *s, int n) {
  (void)d, (void)s, (void)n; /* n < DG_VW = 1: never called */
}
static inline void dg_vaddto_n(float *d, const float *s, int n) {
  (void)d, (void)s, (void)n;
}
static inline dg_vf dg_vload_n(const float *p, int n) {
  (void)p, (void)n; /* n < DG_VW = 1: never called */
  return 0.0f;
}
static inline void dg_vstore_n(float *p, dg_vf v, int n) {
  (void)p, (void)v, (void)n;
}
#endif

/* ---- the lane tails of the width-4 targets (SSE2, WebAssembly) ---------- */
#if defined(DG_SIMD_SSE2) || defined(DG_SIMD_WASM)
/* Width-4 targets: n is 1..3, written out (a loop here would be turned
 * into a memcpy call, the cost this exists to avoid). */
static inline void dg_vcopy_n(float *d, const float *s, int n) {
  d[0] = s[0];
  if (n > 1) d[1] = s[1];
  if (n > 2) d[2] = s[2];
}
static inline void dg_vaddto_n(float *d, const float *s, int n) {
  d[0] += s[0];
  if (n > 1) d[1] += s[1];
  if (n > 2) d[2] += s[2];
}
static inline dg_vf dg_vload_n(const float *p, int n) {
  float t[4] = {p[0], n > 1 ? p[1] : 0.0f, n > 2 ? p[2] : 0.0f, 0.0f};
  return dg_vload(t);
}
static inline void dg_vstore_n(float *p, dg_vf v, int n) {
  float t[4];
  dg_vstore(t, v);
  p[0] = t[0];
  if (n > 1) p[1] = t[1];
  if (n > 2) p[2] = t[2];
}
#endif

#endif
