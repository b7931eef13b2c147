/* kernels.mjs: tests/test_kernels.c under Node as WebAssembly SIMD and
 * relaxed SIMD: every fast kernel against the scalar reference on odd
 * shapes, every GEMM route, determinism. build.sh links it from the same
 * objects as web/build/digits-simd.wasm and digits-relaxed.wasm, so this
 * checks the kernels exactly as the browser runs them, including the
 * WebAssembly-only code in src/kernels/kernels.c and the build's own optimization
 * pipeline. */
import { runCTestWasm } from './lib/harness.mjs';

runCTestWasm('test_kernels');
