/* validate-wasm.mjs [--relaxed] FILE.wasm...: do these modules validate in
 * this Node's V8? Exit status 0 if all do, 1 (with V8's message) if one
 * does not, 3 if --relaxed was asked and this Node has no relaxed SIMD at
 * all (nothing could be checked).
 *
 * --relaxed: the modules use relaxed SIMD (the build's digits-relaxed.wasm,
 * after web/tools/relax-wasm.mjs); Node 20 is run again with the flag that
 * enables it (relaxed-node.mjs). */
import { readFileSync } from 'node:fs';
import { withRelaxedSimd } from './relaxed-node.mjs';

const args = process.argv.slice(2);
const relaxed = args[0] === '--relaxed';
const files = relaxed ? args.slice(1) : args;
if (files.length === 0) {
  console.error('usage: node validate-wasm.mjs [--relaxed] FILE.wasm...');
  process.exit(2);
}
if (relaxed && !withRelaxedSimd()) {
  console.error(`validate-wasm: this Node (${process.version}) has no relaxed SIMD: not checked`);
  process.exit(3);
}

let bad = 0;
for (const f of files) {
  try {
    new WebAssembly.Module(readFileSync(f));
  } catch (e) {
    console.error(`validate-wasm: ${f}: ${e.message}`);
    bad++;
  }
}
process.exit(bad ? 1 : 0);
