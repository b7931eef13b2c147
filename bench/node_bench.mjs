/* node_bench.mjs: bench/wasm_bench.mjs under Node; one JSON result per line.
 * usage: node [--experimental-wasm-relaxed-simd] bench/node_bench.mjs
 *        [--quick] [--reps N] [--archs a,b] [--no-train] [--no-peak]
 *        [--wasm-base DIR]
 * (--wasm-base: the .wasm builds from DIR instead of web/build, to compare
 * builds)
 * (Node 20 needs the flag to run relaxed SIMD: the FMA peak loop and
 * digits-relaxed.wasm, which the benchmark then measures as the build the
 * page picks, with simd128 beside it at batch 1) */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWasmBench } from './wasm_bench.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const ri = args.indexOf('--reps');
const reps = ri >= 0 ? Number(args[ri + 1]) : 15;
const ai = args.indexOf('--archs');
const wi = args.indexOf('--wasm-base');
const digits = await import(join(root, 'web', 'lib', 'digits.js'));

const results = await runWasmBench({
  digits, target: 'node', wasmBase: wi >= 0 ? args[wi + 1] : join(root, 'web', 'build'),
  modelBytes: readFileSync(join(root, 'models', 'default.safetensors')),
  archs: ai >= 0 ? args[ai + 1].split(',') : undefined,
  trainArchs: args.includes('--no-train') ? [] : undefined,
  peak: !args.includes('--no-peak'),
  reps, quick, log: (s) => process.stderr.write(`  node: ${s}\n`),
});
for (const r of results) console.log(JSON.stringify(r));
