/* errors.mjs: what goes wrong is reported, never guessed, in every build
 * (relaxed SIMD, SIMD, plain).
 * Corrupt and truncated model bytes reject with the C message (the same one
 * the native CLI prints) and keep the previous model; an empty canvas gives
 * empty: true and no digit; absurd image sizes, wrong buffers and a freed
 * recognizer are rejected before any memory is touched; the SIMD detection
 * and the Safari 16 rule behave. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { RELAXED, ROOT, describeBuilds, digits, env, native, rejects, scratch } from './lib/harness.mjs';

const model = join(env.models, 'default.safetensors');
const isErr = (code) => (e) => e instanceof digits.DigitsError && e.code === code && e.message.length > 5;

/* A canvas with a vertical bar (a "1") on transparent paper. */
function bar(w, h) {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = Math.floor(h * 0.2); y < Math.floor(h * 0.8); y++)
    for (let x = Math.floor(w * 0.45); x < Math.floor(w * 0.55); x++) data[(y * w + x) * 4 + 3] = 255;
  return { data, width: w, height: h };
}

const tmp = scratch('errors');
const good = new Uint8Array(readFileSync(model));

/* corrupt files: the messages match the native CLI's */
const hdr = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true));
const flip = good.slice();
flip[8 + 2] = 0x7b; /* break the JSON header */
const CORRUPT = {
  'truncated in the data': good.subarray(0, good.length - 100),
  'truncated in the header': good.subarray(0, 8 + Math.floor(hdr / 2)),
  'eight bytes': good.subarray(0, 8),
  'three bytes': good.subarray(0, 3),
  'broken JSON': flip,
  'not a model': new TextEncoder().encode('<!doctype html><title>404</title>'.padEnd(400, ' ')),
};

/* absurd sizes and wrong buffers */
const BAD_IMAGES = [
  ['0x0', { data: new Uint8ClampedArray(0), width: 0, height: 0 }],
  ['100000x100000', { data: new Uint8ClampedArray(16), width: 100000, height: 100000 }],
  ['20000x1', { data: new Uint8ClampedArray(80000), width: 20000, height: 1 }],
  ['-4x-4', { data: new Uint8ClampedArray(64), width: -4, height: -4 }],
  ['2.5x4', { data: new Uint8ClampedArray(40), width: 2.5, height: 4 }],
  ['length != w*h*4', { data: new Uint8ClampedArray(28 * 28 * 3), width: 28, height: 28 }],
  ['floats', { data: new Float32Array(28 * 28 * 4), width: 28, height: 28 }],
  ['a plain array', { data: new Array(28 * 28 * 4).fill(0), width: 28, height: 28 }],
  ['strings', { data: new Uint8ClampedArray(16), width: '2', height: '2' }],
  ['null', null],
];

describeBuilds({ model }, (name, ctx, simd) => {

  test('bad model bytes reject with the CLI\'s message and keep the previous model', async () => {
    const before = ctx.rec.info();
    for (const [what, bytes] of Object.entries(CORRUPT)) {
      const e = await rejects(() => ctx.rec.loadModel(bytes), `${name}: ${what} model rejects`,
                              isErr(digits.Status.FORMAT));
      const f = join(tmp, `bad-${what.replace(/ /g, '-')}.safetensors`);
      writeFileSync(f, bytes);
      const r = native(['info', f]);
      assert.ok(r.status !== 0 && r.stderr.includes(e.message), `${name}: ${what}: same message as the CLI: ` +
                `wasm "${e.message}" / cli "${r.stderr.trim()}"`);
    }
    await rejects(() => ctx.rec.loadModel(new Uint8Array(0)), `${name}: empty model rejects`,
                  isErr(digits.Status.FORMAT));
    await rejects(() => ctx.rec.loadModel(join(tmp, 'missing.safetensors')), `${name}: missing file rejects`,
                  (e) => e.code === digits.Status.IO && /no such file/.test(e.message));
    await rejects(() => ctx.rec.loadModel(42), `${name}: a number is not a model`, (e) => e instanceof TypeError);
    /* a valid file of a net that does not read 28x28 digits */
    const mod = await digits.loadModule({ simd, wasmBase: env.wasm });
    const odd = mod.newNet('input 8 8 1; flatten; dense 10; softmax', 3);
    await rejects(() => ctx.rec.loadModel(odd.save()), `${name}: 8x8 model rejects`, isErr(digits.Status.FORMAT));
    odd.free();
    assert.ok(ctx.rec.info().arch === before.arch, `${name}: a failed load keeps the previous model`);
  });

  test('empty canvases read as empty, a bar as 1', async () => {
    const w = 120, h = 90;
    const blank = (fill) => ({ data: new Uint8ClampedArray(w * h * 4).fill(fill), width: w, height: h });
    const noise = blank(255);
    for (let i = 0; i < noise.data.length; i += 4) noise.data[i] = noise.data[i + 1] = noise.data[i + 2] = 250 + (i % 5);
    for (const [what, img] of [['transparent', blank(0)], ['white', blank(255)], ['faint noise', noise]]) {
      const r = await ctx.rec.predict(img);
      assert.ok(r.empty === true && r.digit === null && r.confidence === 0, `${name}: ${what} canvas is empty: ` +
                JSON.stringify({ empty: r.empty, digit: r.digit }));
      assert.ok(r.probs.length === 10 && r.input.length === 784 && r.input.every((v) => v === 0),
                `${name}: ${what}: zero input and probs`);
    }
    const one = await ctx.rec.predict(bar(w, h));
    assert.ok(one.empty === false && one.digit === 1, `${name}: a bar reads as 1: ${one.digit}`);
  });

  test('absurd sizes and wrong buffers are rejected cleanly', async () => {
    for (const [what, img] of BAD_IMAGES)
      await rejects(() => ctx.rec.predict(img), `${name}: ${what} image rejects`, isErr(digits.Status.ARG));
    await rejects(() => ctx.rec.predictInput(new Float32Array(100)), `${name}: 100 floats reject`,
                  isErr(digits.Status.ARG));
    const again = await ctx.rec.predict(bar(40, 40));
    assert.ok(again.digit === 1, `${name}: still predicts after the rejections`);
  });

  test('predict after free rejects', async () => {
    ctx.rec.free();
    const freed = ctx.rec;
    ctx.rec = null;
    await rejects(() => freed.predict(bar(40, 40)), `${name}: predict after free rejects`,
                  isErr(digits.Status.ARG));
  });
});

describe('feature detection', () => {
  const ua = {
    safari164: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.4 Safari/605.1.15',
    safari166: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6.1 Safari/605.1.15',
    ios16: 'Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.5 Mobile/15E148 Safari/604.1',
    ios16chrome: 'Mozilla/5.0 (iPhone; CPU iPhone OS 16_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/112.0.5615.46 Mobile/15E148 Safari/604.1',
    safari17: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
    chrome: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    android: 'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36',
    firefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
  };

  test('Node 20 validates the SIMD probe', () => {
    assert.ok(digits.simdSupported() === true, 'Node 20 validates the SIMD probe');
  });

  test('the Safari 16 rule', () => {
    for (const k of ['safari164', 'safari166', 'ios16', 'ios16chrome'])
      assert.ok(digits.simdBroken(ua[k]) === true, `plain build on ${k}`);
    for (const k of ['safari17', 'chrome', 'android', 'firefox'])
      assert.ok(digits.simdBroken(ua[k]) === false, `SIMD allowed on ${k}`);
    assert.ok(digits.preferredBuild(ua.safari166) === 'plain', 'preferredBuild: plain on Safari 16');
  });

  test(`simd: 'auto' picks the ${RELAXED ? 'relaxed-SIMD' : 'SIMD'} build here`, async () => {
    assert.ok(digits.relaxedSupported() === RELAXED, 'the relaxed-SIMD probe agrees with the harness');
    const auto = await digits.createRecognizer({ model, wasmBase: env.wasm });
    assert.ok(auto.variant === (RELAXED ? 'relaxed' : 'simd') && auto.simd === true,
              `simd: 'auto' picks the ${RELAXED ? 'relaxed-SIMD' : 'SIMD'} build here: ${auto.variant}`);
    auto.free();
  });

  /* an engine without relaxed SIMD: this process, or (when it runs with
   * the flag) a Node without it */
  const withFlag = process.execArgv.includes('--experimental-wasm-relaxed-simd');
  test("without relaxed SIMD: 'auto' picks simd128, simd: 'relaxed' rejects", {
    skip: RELAXED && !withFlag && 'this Node has relaxed SIMD without a flag: no engine without it to ask',
  }, () => {
    const noRelaxed = `import * as d from ${JSON.stringify(pathToFileURL(join(ROOT, 'web/lib/digits.js')).href)};
      const wasmBase = ${JSON.stringify(env.wasm)};
      const m = await d.loadModule({ wasmBase });
      let code = 'resolved';
      try { await d.loadModule({ simd: 'relaxed', wasmBase }); } catch (e) { code = e.codeName; }
      console.log(JSON.stringify({ probe: d.relaxedSupported(), auto: m.variant, code }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', noRelaxed], { encoding: 'utf8' });
    const got = r.status === 0 ? JSON.parse(r.stdout) : { error: r.stderr };
    assert.ok(got.probe === false && got.auto === 'simd' && got.code === 'bad argument',
              `without relaxed SIMD: 'auto' picks simd128, simd: 'relaxed' rejects: ${JSON.stringify(got)}`);
  });

  test('bad loadModule options reject', async () => {
    await rejects(() => digits.loadModule({ simd: 'yes', wasmBase: env.wasm }), "simd: 'yes' rejects",
                  (e) => e instanceof TypeError);
    await rejects(() => digits.loadModule({ simd: false, wasmBase: join(tmp, 'nowhere') }),
                  'a missing wasm folder rejects', (e) => e.code === digits.Status.IO);
  });
});
