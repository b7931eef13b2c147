/* wasm_peak.c: the WebAssembly SIMD limit for bench/run: twelve independent
 * f32x4 mul+add chains (WASM has no fused multiply-add), nothing but
 * registers. Built by bench/run with emcc -O3 -msimd128 into a standalone
 * module exporting peak(iters, mul, add) -> a checksum (mul and add come
 * from the caller so the compiler cannot fold the loop); flops = iters * 96.
 * Called many times with a bounded loop so V8 tiers it up (see DESIGN.md). */
#include <wasm_simd128.h>

#define STEP(a) a = wasm_f32x4_add(wasm_f32x4_mul(a, m), c)

__attribute__((export_name("peak"))) float peak(int iters, float mul, float add) {
  v128_t a0 = wasm_f32x4_splat(1.000f), a1 = wasm_f32x4_splat(1.001f);
  v128_t a2 = wasm_f32x4_splat(1.002f), a3 = wasm_f32x4_splat(1.003f);
  v128_t a4 = wasm_f32x4_splat(1.004f), a5 = wasm_f32x4_splat(1.005f);
  v128_t a6 = wasm_f32x4_splat(1.006f), a7 = wasm_f32x4_splat(1.007f);
  v128_t a8 = wasm_f32x4_splat(1.008f), a9 = wasm_f32x4_splat(1.009f);
  v128_t a10 = wasm_f32x4_splat(1.010f), a11 = wasm_f32x4_splat(1.011f);
  v128_t m = wasm_f32x4_splat(mul), c = wasm_f32x4_splat(add);
  for (int i = 0; i < iters; i++) {
    STEP(a0), STEP(a1), STEP(a2), STEP(a3), STEP(a4), STEP(a5);
    STEP(a6), STEP(a7), STEP(a8), STEP(a9), STEP(a10), STEP(a11);
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(a0, a1),
                                           wasm_f32x4_add(a2, a3)),
                            wasm_f32x4_add(wasm_f32x4_add(a4, a5),
                                           wasm_f32x4_add(a6, a7)));
  s = wasm_f32x4_add(s, wasm_f32x4_add(wasm_f32x4_add(a8, a9),
                                       wasm_f32x4_add(a10, a11)));
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 3);
}
