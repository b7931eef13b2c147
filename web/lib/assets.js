/* assets.js: where digits.js finds its files by default: the three
 * WebAssembly builds, the default model and the number verifiers. Each is a literal
 * `new URL('...', import.meta.url)`, the form bundlers (Vite, webpack 5,
 * Rollup, Parcel) recognize: they copy the file into the build and put its
 * final URL here.
 *
 * In this repository the builds are in web/build/ and the model in models/;
 * the npm package (tools/pack.mjs) ships this file with the same URLs
 * pointing beside the module ('./digits-simd.wasm', './default.safetensors',
 * './verifier.safetensors', './verifier2.safetensors', './verifier3.safetensors'),
 * where it puts the files. */

/* {relaxed, simd, plain}: the URL of each build. */
export function wasmUrls() {
  return {
    relaxed: new URL('../build/digits-relaxed.wasm', import.meta.url),
    simd: new URL('../build/digits-simd.wasm', import.meta.url),
    plain: new URL('../build/digits-plain.wasm', import.meta.url),
  };
}

/* The URL of the default model (models/default.safetensors). */
export function defaultModelUrl() {
  return new URL('../../models/default.safetensors', import.meta.url);
}

/* The URLs of the number verifiers, three window readers whose readings
 * are averaged (models/verifier.safetensors, verifier2 and verifier3). */
export function defaultVerifierUrls() {
  return [new URL('../../models/verifier.safetensors', import.meta.url),
          new URL('../../models/verifier2.safetensors', import.meta.url),
          new URL('../../models/verifier3.safetensors', import.meta.url)];
}
