/* pixels.h: runs of identical pixels, found fast (internal to the
 * library). Drawings are mostly long runs of equal pixels (paper, solid
 * strokes); preprocess.c and ink.c skip them a SIMD compare at a time. */
#ifndef DG_PIXELS_H
#define DG_PIXELS_H

#include <stdint.h>
#include <string.h>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

/* A pixel's bytes as one number: drawings are long runs of identical
 * pixels (paper, solid strokes), so the scans below compute luminance and
 * ink only when the pixel differs from the previous one. Exact: the same
 * bytes give the same values. */
static inline uint32_t px_key(const uint8_t *p, const int c) {
  uint32_t k = 0;
  if (c == 4) {
    memcpy(&k, p, 4); /* one load; byte order does not matter here */
    return k;
  }
  for (int j = 0; j < c; j++) k |= (uint32_t)p[j] << (8 * j);
  return k;
}

/* The end of the run of pixels with key `key` that starts at x: the first
 * x' in [x, end) whose key differs, or end. Drawings are long runs (paper,
 * solid strokes): after two single steps (short runs of anti-aliased
 * edges), RGBA rows are compared 16 pixels per step with SIMD where the
 * target has it, then 4 at a time with the first difference taken from the
 * comparison's bit mask; else 2 per 64-bit word; gray rows 8 per word. */
static inline int run_end(const uint8_t *row, int x, const int end,
                          const int c, const uint32_t key) {
  for (int i = 0; i < 2; i++, x++)
    if (x >= end || px_key(row + (size_t)x * c, c) != key) return x;
  if (c == 4) {
#if defined(__wasm_simd128__)
#define NE4(q) wasm_v128_xor(wasm_v128_load(p + 16 * (q)), r)
    const v128_t r = wasm_i32x4_splat((int32_t)key);
    for (; x + 16 <= end; x += 16) {
      const uint8_t *p = row + (size_t)x * 4;
      if (wasm_v128_any_true(wasm_v128_or(wasm_v128_or(NE4(0), NE4(1)),
                                          wasm_v128_or(NE4(2), NE4(3)))))
        break;
    }
    for (; x + 4 <= end; x += 4) {
      int same = wasm_i32x4_bitmask(
          wasm_i32x4_eq(wasm_v128_load(row + (size_t)x * 4), r));
      if (same != 0xf) return x + __builtin_ctz(~same);
    }
#undef NE4
#elif defined(__SSE2__)
#define NE4(q) _mm_xor_si128(_mm_loadu_si128((const __m128i *)p + (q)), r)
    const __m128i r = _mm_set1_epi32((int32_t)key);
    for (; x + 16 <= end; x += 16) {
      const uint8_t *p = row + (size_t)x * 4;
      __m128i d = _mm_or_si128(_mm_or_si128(NE4(0), NE4(1)),
                               _mm_or_si128(NE4(2), NE4(3)));
      if (_mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())) != 0xffff)
        break;
    }
    for (; x + 4 <= end; x += 4) {
      int same = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(
          _mm_loadu_si128((const __m128i *)(row + (size_t)x * 4)), r)));
      if (same != 0xf) return x + __builtin_ctz(~same);
    }
#undef NE4
#else
    const uint64_t r2 = (uint64_t)key << 32 | key; /* both halves: any order */
    for (; x + 2 <= end; x += 2) {
      uint64_t a;
      memcpy(&a, row + (size_t)x * 4, 8);
      if (a != r2) break;
    }
#endif
  } else if (c == 1) {
    const uint64_t r8 = (uint64_t)key * 0x0101010101010101u;
    for (; x + 8 <= end; x += 8) {
      uint64_t a;
      memcpy(&a, row + x, 8);
      if (a != r8) break;
    }
  }
  while (x < end && px_key(row + (size_t)x * c, c) == key) x++;
  return x;
}

/* A box of pixels, inclusive: [x0, x1] x [y0, y1] (x1 < 0: empty). */
typedef struct {
  int x0, y0, x1, y1;
} px_box;

/* The box of the pixels of (h, w, c) whose key differs from ref, a run of
 * equal pixels at a time. on_run (NULL: none) sees the first pixel of each
 * such run: preprocess.c takes the luminance range on the way. Always
 * inlined, so a constant c and on_run cost no call per run. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline px_box diff_box(const uint8_t *px, int w, int h, const int c,
                              const uint32_t ref,
                              void (*on_run)(void *ctx, const uint8_t *p,
                                             const int c),
                              void *ctx) {
  px_box b = {w, h, -1, -1};
  for (int y = 0; y < h; y++) {
    const uint8_t *row = px + (size_t)y * w * c;
    int first = -1, last = -1;
    for (int x = 0; x < w;) {
      uint32_t key = px_key(row + (size_t)x * c, c);
      int e = run_end(row, x, w, c, key);
      if (key != ref) {
        if (on_run) on_run(ctx, row + (size_t)x * c, c);
        if (first < 0) first = x;
        last = e - 1;
      }
      x = e;
    }
    if (first < 0) continue;
    if (first < b.x0) b.x0 = first;
    if (last > b.x1) b.x1 = last;
    if (y < b.y0) b.y0 = y;
    b.y1 = y;
  }
  return b;
}

#endif
