/* golden.mjs: every WASM build (relaxed, simd, plain) reproduces the
 * golden preprocessing output
 * (tests/data/preprocess_golden.txt, 784 numbers with 3 decimals, made by
 * the native dg_preprocess from preprocess_input.pgm; test_preprocess.c
 * checks the native side with the same tolerance, 0.002 per pixel). The
 * same picture as an RGBA canvas, given to predict(), shows the same input. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUILDS, buildName, digits, env, grayToRgba, maxAbsDiff, readPgm } from './lib/harness.mjs';

const TOL = 0.002;

const img = readPgm(join(env.testdata, 'preprocess_input.pgm'));
const golden = readFileSync(join(env.testdata, 'preprocess_golden.txt'), 'utf8')
  .trim().split(/\s+/).map(Number);
const outs = new Map();   /* build name -> its gray preprocessing output */

test('golden file has 784 numbers', () => {
  assert.ok(golden.length === 784 && golden.every(Number.isFinite), 'golden file has 784 numbers');
});

for (const simd of BUILDS) {
  const name = buildName(simd);
  test(`${name}: reproduces the golden preprocessing`, async () => {
    const mod = await digits.loadModule({ simd, wasmBase: env.wasm });
    const gray = mod.preprocess(img, 1);
    outs.set(name, gray);
    const d = maxAbsDiff(gray, golden);
    assert.ok(d <= TOL, `${name}: gray input reproduces the golden output: worst ${d}`);
    const rec = await digits.createRecognizer({ module: mod, model: join(env.models, 'default.safetensors') });
    try {
      const r = await rec.predict({ data: grayToRgba(img.data), width: img.width, height: img.height });
      const d2 = maxAbsDiff(r.input, golden);
      assert.ok(!r.empty && d2 <= TOL, `${name}: RGBA canvas gives the golden input: worst ${d2}`);
      assert.ok(maxAbsDiff(r.input, gray) <= 1e-6, `${name}: RGBA and gray agree`);
      assert.ok(r.digit === 4, `${name}: the golden "4" reads as 4: ${r.digit}`);
      console.log(`${name}: worst |x - golden| = ${d.toFixed(5)}`);
    } finally {
      rec.free();
    }
  });
}

test('SIMD and plain preprocess identically', (t) => {
  const [first, second] = [buildName(BUILDS[0]), buildName(BUILDS[1])];
  if (!outs.has(first) || !outs.has(second)) return t.skip('a build above did not run (filtered out or failed)');
  assert.ok(maxAbsDiff(outs.get(first), outs.get(second)) === 0, 'SIMD and plain preprocess identically');
});
