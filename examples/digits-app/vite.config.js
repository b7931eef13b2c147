// vite.config.js: relative URLs in the build, so that it works from any
// sub-path. The package itself needs no configuration: Vite follows its
// new URL('./digits-simd.wasm', import.meta.url) in `vite build` and in
// the dev server alike.
export default {
  base: './',
};
