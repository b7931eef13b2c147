/* infer.mjs: tests/test_infer.c under Node as WebAssembly SIMD and relaxed
 * SIMD: the one-image inference kernels against their scalar references,
 * and the network's small-batch path against its batched path (packed
 * weights following weight changes). build.sh links it from the objects of
 * web/build/digits-simd.wasm and digits-relaxed.wasm, so this checks the
 * kernels exactly as the browser runs them. */
import { runCTestWasm } from './lib/harness.mjs';

runCTestWasm('test_infer');
