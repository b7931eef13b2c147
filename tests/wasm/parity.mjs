/* parity.mjs: every WASM build (relaxed SIMD, SIMD, plain) classifies like
 * the native CLI. 200 MNIST test digits are written as PGM files and predicted by
 * `digits predict --json`; the same pictures as canvas RGBA go through
 * predict() in WASM: same preprocessing and network code, so the digits are
 * equal and the probabilities agree within 1e-4 (float rounding differs:
 * native uses FMA, the simd128 and plain builds have none). Raw 28x28 inputs (predictInput, no
 * preprocessing) are checked against `digits eval` on an idx file of the
 * same 200 digits (confusion matrix equal, loss within 2e-4, the CLI prints
 * 4 decimals), and each SIMD build against the plain one per image. */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  BUILDS, buildName, argmax, describeBuilds, digits, env, grayToRgba, maxAbsDiff, mnist, native, scratch, writeIdx,
  writePgm,
} from './lib/harness.mjs';

const N = 200, TOL = 1e-4;
const model = join(env.models, 'default.safetensors');

const tmp = scratch('parity');
const t = mnist('t10k', N);
const files = [];
for (let i = 0; i < t.n; i++) {
  const f = join(tmp, `d${String(i).padStart(3, '0')}.pgm`);
  writePgm(f, 28, 28, t.pixels.subarray(i * 784, (i + 1) * 784));
  files.push(f);
}
let want, nativeLoss, nativeConf;   /* native predict per file; native eval's loss and confusion */
const rawProbs = new Map();         /* build name -> probabilities of each raw input */

test('native predict and eval', () => {
  const r = native(['predict', '--json', '--model', model, ...files]);
  assert.ok(r.status === 0, `native predict succeeds: ${r.stderr}`);
  want = new Map(r.stdout.trim().split('\n').map((l) => JSON.parse(l))
    .map((o) => [o.file, o]));
  assert.ok(want.size === t.n, `native predicted ${t.n} files: ${want.size}`);

  /* native on raw inputs: eval on a 200-image t10k idx */
  const dir = join(tmp, 'raw');
  mkdirSync(dir);
  writeIdx(join(dir, 't10k-images-idx3-ubyte'), [t.n, 28, 28], t.pixels);
  writeIdx(join(dir, 't10k-labels-idx1-ubyte'), [t.n], t.labels);
  const ev = native(['eval', '--model', model, '--data', dir]);
  assert.ok(ev.status === 0, `native eval succeeds: ${ev.stderr}`);
  nativeLoss = Number(/^loss\s+([\d.]+)/m.exec(ev.stdout)?.[1]);
  nativeConf = ev.stdout.split('\n').filter((l) => /^\s+\d( +\d+){10}$/.test(l))
    .map((l) => l.trim().split(/ +/).slice(1).map(Number));
  assert.ok(nativeConf.length === 10, 'native eval prints a 10x10 confusion matrix');
});

describeBuilds({ model }, (name, ctx) => {

  test('build in use', () => {
    assert.ok(ctx.rec.variant === name && ctx.rec.simd === (name !== 'plain'), `${name}: build in use`);
    const path = { relaxed: 'simd=wasm relaxed', simd: 'simd=wasm simd128', plain: 'simd=scalar' };
    assert.ok(ctx.rec.buildInfo.includes(path[name]),
              `${name}: build info names the SIMD path: ${ctx.rec.buildInfo}`);
  });

  test('canvas RGBA through predict() equals native predict of the PGM', async (c) => {
    if (!want) return c.skip('native predict did not run');
    let digitBad = 0, worst = 0, worstFile = '';
    for (let i = 0; i < t.n; i++) {
      const img = { data: grayToRgba(t.pixels.subarray(i * 784, (i + 1) * 784)), width: 28, height: 28 };
      const got = await ctx.rec.predict(img);
      const w = want.get(files[i]);
      if (!w) continue;
      if (got.digit !== w.digit) digitBad++;
      const d = maxAbsDiff(got.probs, w.probs);
      if (d > worst) worst = d, worstFile = files[i];
      assert.ok(Math.abs(got.confidence - got.probs[got.digit]) < 1e-7 && !got.empty,
                `${name}: result fields consistent (${i})`);
      /* the preprocessed input fed back in gives the same answer */
      if (i % 20 === 0) {
        const again = await ctx.rec.predictInput(got.input);
        assert.ok(maxAbsDiff(again.probs, got.probs) === 0, `${name}: predictInput(input) == predict (${i})`);
      }
    }
    assert.ok(digitBad === 0, `${name}: digits equal native on ${t.n} images: ${digitBad} differ`);
    assert.ok(worst <= TOL, `${name}: probabilities within ${TOL} of native: worst ${worst} (${worstFile})`);
    console.log(`${name}: ${t.n} images, worst |p - native| = ${worst.toExponential(2)}`);
  });

  test('raw inputs: predictInput and evaluate equal native eval', (c) => {
    if (!nativeConf) return c.skip('native eval did not run');
    const probs = [];
    const conf = Array.from({ length: 10 }, () => new Array(10).fill(0));
    let loss = 0;
    for (let i = 0; i < t.n; i++) {
      const got = ctx.rec.predictInputSync(t.x.subarray(i * 784, (i + 1) * 784));
      probs.push(got.probs);
      conf[t.labels[i]][got.digit]++;
      loss -= Math.log(Math.max(got.probs[t.labels[i]], 1e-12));
    }
    loss /= t.n;
    rawProbs.set(name, probs);
    assert.ok(JSON.stringify(conf) === JSON.stringify(nativeConf),
              `${name}: confusion matrix on raw inputs equals native eval`);
    assert.ok(Math.abs(loss - nativeLoss) <= 2e-4, `${name}: loss on raw inputs equals native eval: ` +
              `${loss} vs ${nativeLoss}`);
    const ev2 = ctx.rec.evaluate(t.x, t.labels, { batch: 64, probs: true });
    assert.ok(Math.abs(ev2.loss - loss) < 1e-5, `${name}: evaluate() loss equals per-image loss: ` +
              `${ev2.loss} vs ${loss}`);
    const batchProbs = ctx.rec.predictBatch(t.x);
    let bworst = 0;
    for (let i = 0; i < t.n; i++)
      bworst = Math.max(bworst, maxAbsDiff(batchProbs.subarray(i * 10, i * 10 + 10), probs[i]));
    assert.ok(bworst <= 1e-5, `${name}: predictBatch equals predictInput: worst ${bworst}`);
    assert.ok(argmax(Array.from(ev2.probs.subarray(0, 10))) === argmax(Array.from(probs[0])),
              `${name}: evaluate probs`);
  });
});

for (const simd of BUILDS.slice(0, -1)) {
  const name = buildName(simd), plain = buildName(BUILDS.at(-1));
  test(`${name} and plain builds agree on raw inputs`, (c) => {
    if (!rawProbs.has(name) || !rawProbs.has(plain)) return c.skip('a build above did not run (filtered out or failed)');
    let cross = 0;
    for (let i = 0; i < t.n; i++) cross = Math.max(cross, maxAbsDiff(rawProbs.get(name)[i], rawProbs.get(plain)[i]));
    assert.ok(cross <= TOL, `${name} and plain builds agree on raw inputs: worst ${cross}`);
    console.log(`${name} vs plain on raw inputs: worst ${cross.toExponential(2)}`);
  });
}
