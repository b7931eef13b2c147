/* peak.mjs: the WebAssembly SIMD limit, as hand-assembled modules (no
 * compiler between the loop and the engine). Each exports
 * peak(iters, mul, add) -> f32: `chains` independent f32x4 accumulators,
 * every iteration one step on each, nothing but registers; mul and add come
 * from the caller so nothing folds. Kinds, per step of an accumulator a:
 *
 *   muladd  a = a * m + c   f32x4.mul then f32x4.add: all that simd128 has
 *                           (8 flops)
 *   fma     a = a * m + c   f32x4.relaxed_madd, one instruction, fused on
 *                           x86 with FMA (relaxed SIMD: Chromium; Node 20
 *                           only with --experimental-wasm-relaxed-simd)
 *                           (8 flops)
 *   mul     a = a * m       (4 flops; m = 1 keeps a normal)
 *   add     a = a + c       (4 flops)
 *
 * mul-only and add-only reaching the same vector operations per second as
 * muladd shows the mul+add loop is limited by the FP ports, not by its
 * dependency chains (12 chains x 2 ops cover latency 4 x 2 ports). Of the
 * three builds of digits, digits-simd.wasm (simd128) can do no better than
 * muladd; digits-relaxed.wasm uses f32x4.relaxed_madd (emcc 3.1.6 emits its
 * pre-standard encoding, which web/tools/relax-wasm.mjs rewrites), so fma
 * is its ceiling and the machine's; digits-plain.wasm is scalar.
 */
const leb = (n) => {
  const o = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    o.push(b);
  } while (n);
  return o;
};
const f32 = (x) => [...new Uint8Array(new Float32Array([x]).buffer)];

/* local 0 iters (i32), 1 mul, 2 add (f32); 3 m, 4 c, 5.. accumulators (v128) */
const GET = 0x20, SET = 0x21, SIMD = 0xfd;
const SPLAT = [SIMD, 0x13], ADD = [SIMD, 0xe4, 0x01], MUL = [SIMD, 0xe6, 0x01];
const MADD = [SIMD, 0x85, 0x02]; /* f32x4.relaxed_madd (0x105): a * b + c */
const STEP = {
  muladd: (a) => [GET, a, GET, 3, ...MUL, GET, 4, ...ADD, SET, a],
  fma: (a) => [GET, a, GET, 3, GET, 4, ...MADD, SET, a],
  mul: (a) => [GET, a, GET, 3, ...MUL, SET, a],
  add: (a) => [GET, a, GET, 4, ...ADD, SET, a],
};
/* flops per step of one accumulator */
export const FLOPS = { muladd: 8, fma: 8, mul: 4, add: 4 };

/* The module's bytes for one kind. */
export function peakModule(kind, chains = 12) {
  const body = [1, chains + 2, 0x7b]; /* one local group: chains + 2 v128 */
  body.push(GET, 1, ...SPLAT, SET, 3, GET, 2, ...SPLAT, SET, 4);
  for (let k = 0; k < chains; k++) body.push(0x43, ...f32(1 + 0.001 * k), ...SPLAT, SET, 5 + k);
  body.push(0x03, 0x40); /* loop */
  for (let k = 0; k < chains; k++) body.push(...STEP[kind](5 + k));
  /* iters -= 1; br_if (iters != 0) to the loop; end */
  body.push(GET, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b);
  body.push(GET, 5);
  for (let k = 1; k < chains; k++) body.push(GET, 5 + k, ...ADD);
  body.push(SIMD, 0x1f, 0, 0x0b); /* f32x4.extract_lane 0; end */
  const sec = (id, bytes) => [id, ...leb(bytes.length), ...bytes];
  const name = [...'peak'].map((c) => c.charCodeAt(0));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...sec(1, [1, 0x60, 3, 0x7f, 0x7d, 0x7d, 1, 0x7d]), /* (i32 f32 f32) -> f32 */
    ...sec(3, [1, 0]),
    ...sec(7, [1, name.length, ...name, 0, 0]),
    ...sec(10, [1, ...leb(body.length), ...body]),
  ]);
}

/* peak(iters, mul, add) of one kind, or null where the engine lacks it. */
export async function peakFunction(kind, chains = 12) {
  try {
    const { instance } = await WebAssembly.instantiate(peakModule(kind, chains), {});
    return instance.exports.peak;
  } catch {
    return null;
  }
}
