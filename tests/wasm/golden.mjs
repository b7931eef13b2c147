/* golden.mjs: both WASM builds reproduce the golden preprocessing output
 * (tests/data/preprocess_golden.txt, 784 numbers with 3 decimals, made by
 * the native dg_preprocess from preprocess_input.pgm; test_preprocess.c
 * checks the native side with the same tolerance, 0.002 per pixel). The
 * same picture as an RGBA canvas, given to predict(), shows the same input. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILDS, buildName, check, digits, env, grayToRgba, maxAbsDiff, readPgm, run } from './lib/harness.mjs';

const TOL = 0.002;

await run(async () => {
  const img = readPgm(join(env.testdata, 'preprocess_input.pgm'));
  const golden = readFileSync(join(env.testdata, 'preprocess_golden.txt'), 'utf8')
    .trim().split(/\s+/).map(Number);
  check(golden.length === 784 && golden.every(Number.isFinite), 'golden file has 784 numbers');
  const outs = [];
  for (const simd of BUILDS) {
    const name = buildName(simd);
    const mod = await digits.loadModule({ simd, wasmBase: env.wasm });
    const gray = mod.preprocess(img, 1);
    const d = maxAbsDiff(gray, golden);
    check(d <= TOL, `${name}: gray input reproduces the golden output`, `worst ${d}`);
    const rec = await digits.createRecognizer({ module: mod, model: join(env.models, 'default.safetensors') });
    const r = await rec.predict({ data: grayToRgba(img.data), width: img.width, height: img.height });
    const d2 = maxAbsDiff(r.input, golden);
    check(!r.empty && d2 <= TOL, `${name}: RGBA canvas gives the golden input`, `worst ${d2}`);
    check(maxAbsDiff(r.input, gray) <= 1e-6, `${name}: RGBA and gray agree`);
    check(r.digit === 4, `${name}: the golden "4" reads as 4`, `${r.digit}`);
    console.log(`${name}: worst |x - golden| = ${d.toFixed(5)}`);
    outs.push(gray);
    rec.free();
  }
  check(maxAbsDiff(outs[0], outs[1]) === 0, 'SIMD and plain preprocess identically');
});
