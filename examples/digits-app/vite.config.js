// vite.config.js: relative asset URLs (the build works from any sub-path);
// the package left out of the dev server's dependency pre-bundling, so
// that its `new URL('./digits-simd.wasm', import.meta.url)` stays beside
// the module (vite build needs nothing).
export default {
  base: './',
  optimizeDeps: { exclude: ['digits-recognizer'] },
};
