/* kernels.mjs: tests/test_kernels.c under Node as WebAssembly SIMD: every
 * fast kernel against the scalar reference on odd shapes, every GEMM route,
 * determinism. build.sh links it (build/wasm-tests/test_kernels.js) from the
 * same objects as web/build/digits-simd.wasm, so this checks the kernels
 * exactly as the browser runs them, including the WebAssembly-only code in
 * src/kernels.c and the build's own optimization pipeline. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { check, env, run } from './lib/harness.mjs';

const js = join(dirname(env.digits), 'wasm-tests', 'test_kernels.js');

await run(async () => {
  if (!check(existsSync(js), 'the WASM kernel tests are built', `${js} is missing (./build.sh build)`))
    return;
  const r = spawnSync(process.execPath, [js], { encoding: 'utf8', timeout: 600000 });
  const out = `${r.stdout}${r.stderr}`.trim().split('\n');
  console.log(out.slice(-3).join('\n'));
  check(r.status === 0, 'test_kernels passes in WebAssembly',
        `exit status ${r.status}${r.error ? ` (${r.error.message})` : ''}\n${out.slice(-20).join('\n')}`);
});
