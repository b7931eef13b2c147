/* compare_node.mjs: bench/compare_wasm.mjs under Node; one JSON row per line.
 * usage: node --experimental-wasm-relaxed-simd bench/compare_node.mjs
 *        --base-module FILE --base-wasm DIR [--pairs N] [--max-pairs N]
 *        [--quick] [--archs a,b] [--no-train]
 * The head is this tree (web/lib/digits.js, web/build/); the baseline its
 * own module (FILE: its web/lib/digits.js or web/digits.js) and builds. */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runCompare } from './compare_wasm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const baseModule = opt('--base-module'), baseWasm = opt('--base-wasm');
if (!baseModule || !baseWasm) {
  process.stderr.write('usage: compare_node.mjs --base-module FILE --base-wasm DIR [...]\n');
  process.exit(2);
}
const builds = [
  { digits: await import(pathToFileURL(resolve(baseModule)).href), wasmBase: resolve(baseWasm) + '/' },
  { digits: await import(pathToFileURL(join(root, 'web', 'lib', 'digits.js')).href),
    wasmBase: join(root, 'web', 'build') + '/' },
];
const results = await runCompare({
  builds, target: 'node', modelBytes: readFileSync(join(root, 'models', 'default.safetensors')),
  archs: opt('--archs') ? opt('--archs').split(',') : undefined,
  trainArchs: args.includes('--no-train') ? [] : undefined,
  pairs: Number(opt('--pairs', 25)), maxPairs: Number(opt('--max-pairs', 75)),
  quick: args.includes('--quick'), log: (s) => process.stderr.write(`  node: ${s}\n`),
});
for (const r of results) console.log(JSON.stringify(r));
