/* infer.mjs: tests/test_infer.c under Node as WebAssembly SIMD: the
 * one-image inference kernels against their scalar references, and the
 * network's small-batch path against its batched path (packed weights
 * following weight changes). build.sh links it
 * (build/wasm-tests/test_infer.js) from the objects of
 * web/build/digits-simd.wasm, so this checks the kernels exactly as the
 * browser runs them. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { check, env, run } from './lib/harness.mjs';

const js = join(dirname(env.digits), 'wasm-tests', 'test_infer.js');

await run(async () => {
  if (!check(existsSync(js), 'the WASM inference tests are built', `${js} is missing (./build.sh build)`))
    return;
  const r = spawnSync(process.execPath, [js], { encoding: 'utf8', timeout: 600000 });
  const out = `${r.stdout}${r.stderr}`.trim().split('\n');
  console.log(out.slice(-3).join('\n'));
  check(r.status === 0, 'test_infer passes in WebAssembly',
        `exit status ${r.status}${r.error ? ` (${r.error.message})` : ''}\n${out.slice(-20).join('\n')}`);
});
