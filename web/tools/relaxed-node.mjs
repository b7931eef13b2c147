/* relaxed-node.mjs: run this Node script where relaxed WebAssembly SIMD
 * validates. Node 22+ has it; Node 20 only with the V8 flag
 * --experimental-wasm-relaxed-simd, which NODE_OPTIONS does not pass on.
 *
 *   import { withRelaxedSimd } from '.../web/tools/relaxed-node.mjs';
 *   const relaxed = withRelaxedSimd();
 *
 * returns true if this process runs relaxed SIMD; otherwise, if this Node
 * does with the flag, runs the same script again with it (stdio shared) and
 * exits with its status, never returning; otherwise returns false (an old
 * Node, or DIGITS_NO_RELAXED=1 in the environment: the caller goes on
 * without the relaxed build). */
import { spawnSync } from 'node:child_process';
import { RELAXED_PROBE, relaxedSupported } from '../lib/digits.js';

export const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';

export function withRelaxedSimd() {
  if (relaxedSupported()) return true;
  if (process.env.DIGITS_NO_RELAXED === '1' || process.execArgv.includes(RELAXED_FLAG))
    return false;
  const probe = `process.exit(WebAssembly.validate(new Uint8Array([${RELAXED_PROBE}])) ? 0 : 1)`;
  const ok = spawnSync(process.execPath, [RELAXED_FLAG, '-e', probe], { stdio: 'ignore' });
  if (ok.status !== 0) return false;
  const r = spawnSync(process.execPath, [RELAXED_FLAG, ...process.execArgv, ...process.argv.slice(1)],
                      { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
