// tests/package/api.mjs: the module's API for other pages, in headless
// Chromium against web/lib as served by web/serve.mjs: every image source
// predict takes reads the same drawn 1; what is no image, and bytes the
// browser cannot decode, are DigitsErrors with their codes; { worker: true }
// recognizers and trainers give what the main thread gives; dispose() and
// Symbol.dispose free, later calls throw a clear error; assets found by
// default (the default model), through wasmBase and through wasm;
// readNumber reads the same number from a canvas, a Blob, ImageData and in
// a worker, and refuses what is no image.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer, launch } from '../browser/lib/harness.mjs';

describe('module API in Chromium', () => {
  let srv = null, b = null, page = null;
  before(async () => {
    srv = await startServer();
    b = await launch();
    page = b.page;
    await page.goto(`${srv.url}?sw=0`);
    await page.waitForSelector('html[data-ready="1"]', { timeout: 30000 });
    /* a 1 drawn on a 200x200 canvas, and helpers, in the page */
    await page.evaluate(async () => {
      const c = document.createElement('canvas');
      c.width = c.height = 200;
      const g = c.getContext('2d');
      g.fillStyle = '#fff';
      g.fillRect(0, 0, 200, 200);
      g.fillStyle = '#000';
      g.fillRect(90, 30, 18, 140);
      const d = await import('/lib/digits.js');
      const code = async (f) => {
        try {
          await f();
          return 'resolved';
        } catch (e) {
          return e instanceof d.DigitsError ? `${e.codeName}: ${e.message}` : `${e.name}: ${e.message}`;
        }
      };
      Object.assign(window, { one: c, d, code });
    });
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  test('every image source reads the same 1 (default model, no options)', async () => {
    const got = await page.evaluate(async () => {
      const r = await d.createRecognizer();
      const ctx = one.getContext('2d');
      const blob = await new Promise((res) => one.toBlob(res, 'image/png'));
      const off = new OffscreenCanvas(200, 200);
      off.getContext('2d').drawImage(one, 0, 0);
      const img = new Image();
      img.src = one.toDataURL();          /* not decoded yet: predict waits */
      const id = ctx.getImageData(0, 0, 200, 200);
      const sources = {
        ImageData: id,
        pixels: { data: new Uint8Array(id.data.buffer.slice(0)), width: 200, height: 200 },
        canvas: one, OffscreenCanvas: off, ImageBitmap: await createImageBitmap(one),
        img, Blob: blob, File: new File([blob], 'one.png', { type: 'image/png' }),
        VideoFrame: new VideoFrame(one, { timestamp: 0 }),
      };
      const out = {};
      for (const [k, s] of Object.entries(sources)) {
        const p = await r.predict(s);
        out[k] = [p.digit, Number(p.confidence.toFixed(4))];
      }
      out.predictSync = [r.predictSync(one).digit];
      out.syncBlob = await code(() => r.predictSync(blob));
      out.model = r.info().archName ?? r.info().arch.slice(0, 5);
      r.dispose();
      return out;
    });
    const ref = got.ImageData;
    assert.equal(ref[0], 1, `ImageData reads 1: ${JSON.stringify(got)}`);
    for (const k of ['pixels', 'canvas', 'OffscreenCanvas', 'ImageBitmap', 'img', 'Blob', 'File', 'VideoFrame'])
      assert.deepEqual(got[k], ref, `${k} reads what ImageData reads`);
    assert.deepEqual(got.predictSync, [1]);
    assert.match(got.syncBlob, /^bad argument: image: expected/, 'predictSync(Blob): a clear error');
  });

  test('no image, undecodable bytes, a broken <img>: DigitsErrors with their codes', async () => {
    const got = await page.evaluate(async () => {
      const r = await d.createRecognizer();
      const broken = new Image();
      broken.src = '/no-such-image.png';
      const out = {
        number: await code(() => r.predict(42)),
        nul: await code(() => r.predict(null)),
        text: await code(() => r.predict(new Blob(['not an image'], { type: 'image/png' }))),
        broken: await code(() => r.predict(broken)),
        empty: await code(() => r.predict(new OffscreenCanvas(0, 0))),
        after: (await r.predict(one)).digit,
      };
      r.dispose();
      return out;
    });
    assert.match(got.number, /^bad argument: image: expected ImageData/);
    assert.match(got.nul, /^bad argument: /);
    assert.match(got.text, /^format error: image: the browser cannot decode this image\/png/);
    assert.match(got.broken, /^format error: image: <img src=.*no-such-image\.png/);
    assert.match(got.empty, /^bad argument: /);
    assert.equal(got.after, 1, 'still reads after the errors');
  });

  test('dispose() and Symbol.dispose: memory freed once, later calls a clear error', async () => {
    const got = await page.evaluate(async () => {
      const r = await d.createRecognizer();
      r.dispose();
      r.dispose();                      /* again: no-op */
      const s = await d.createRecognizer();
      s[Symbol.dispose]();
      const t = await d.createTrainer({ arch: 'mlp' });
      const f = t.fit(new Float32Array(784 * 4), [1, 2, 3, 4], { epochs: 1, batch: 2 });
      t.dispose();                      /* its run goes first */
      return {
        predict: await code(() => r.predict(one)), info: await code(() => r.info()),
        symbol: await code(() => s.predict(one)), trainer: await code(() => t.trainBatch(new Float32Array(784), [1])),
        fit: await code(() => f.step()), variant: r.variant, disposed: r.disposed,
      };
    });
    assert.match(got.predict, /^bad argument: recognizer: used after dispose\(\)$/);
    assert.match(got.info, /^bad argument: recognizer: used after dispose\(\)$/);
    assert.match(got.symbol, /^bad argument: recognizer: used after dispose\(\)$/);
    assert.match(got.trainer, /^bad argument: trainer: used after dispose\(\)$/);
    assert.match(got.fit, /^bad argument: fit: used after dispose\(\)$/);
    assert.ok(got.variant === 'relaxed' && got.disposed === true, 'what it was stays readable');
  });

  test('{ worker: true }: the same readings in a Web Worker, dispose() ends it', async () => {
    const got = await page.evaluate(async () => {
      const local = await d.createRecognizer();
      const w = await d.createRecognizer({ worker: true });
      const blob = await new Promise((res) => one.toBlob(res, 'image/png'));
      const id = one.getContext('2d').getImageData(0, 0, 200, 200);
      const [a, b1, c] = await Promise.all([w.predict(one), w.predict(blob), w.predict(id)]);
      const l = await local.predict(one);
      const info = await w.info();
      const out = {
        same: [a, b1, c].every((p) => p.digit === l.digit && Math.abs(p.confidence - l.confidence) < 1e-6),
        digit: a.digit, probs: a.probs instanceof Float32Array && a.probs.length === 10,
        variant: w.variant, arch: info.arch === local.info().arch, idKept: id.data.length === 200 * 200 * 4,
        bad: await code(() => w.predict(42)),
        format: await code(() => w.predict(new Blob(['x'], { type: 'image/png' }))),
      };
      const pending = w.predict(one);
      w.dispose();
      out.pending = await code(() => pending);
      out.after = await code(() => w.predict(one));
      out.sync = await code(() => w.predictSync(one));
      local.dispose();
      return out;
    });
    assert.ok(got.same && got.digit === 1 && got.probs, `worker readings = main-thread readings: ${JSON.stringify(got)}`);
    assert.ok(got.variant === 'relaxed' && got.arch && got.idKept, JSON.stringify(got));
    assert.match(got.bad, /^bad argument: image: expected/);
    assert.match(got.format, /^format error: image: the browser cannot decode/);
    assert.match(got.pending, /^bad argument: recognizer: used after dispose\(\)$/, 'a pending call rejects');
    assert.match(got.after, /^bad argument: recognizer: used after dispose\(\)$/);
    assert.match(got.sync, /^bad argument: predictSync: not with \{ worker: true \}/);
  });

  test('readNumber: three 1s read as 111 from every kind of source, in a worker too', async () => {
    const got = await page.evaluate(async () => {
      const c = document.createElement('canvas');
      c.width = 600;
      c.height = 200;
      const g = c.getContext('2d');
      g.fillStyle = '#fff';
      g.fillRect(0, 0, 600, 200);
      g.fillStyle = '#000';
      for (const x of [120, 290, 460]) g.fillRect(x, 30, 18, 140);
      const blob = await new Promise((res) => c.toBlob(res, 'image/png'));
      const id = c.getContext('2d').getImageData(0, 0, 600, 200);
      const r = await d.createRecognizer();
      const w = await d.createRecognizer({ worker: true });
      const reads = [await r.readNumber(c), await r.readNumber(blob), r.readNumberSync(id),
                     await w.readNumber(c), await w.readNumber(blob)];
      const blank = await r.readNumber(new ImageData(50, 50));
      const out = {
        numbers: reads.map((n) => n.number),
        boxes: reads.map((n) => JSON.stringify(n.digits.map((x) => x.box))),
        conf: reads.map((n) => n.confidence),
        blank: [blank.number, blank.digits.length],
        bad: await code(() => r.readNumber(42)),
        wbad: await code(() => w.readNumber(null)),
        syncBlob: await code(() => r.readNumberSync(blob)),
        wsync: await code(() => w.readNumberSync(c)),
      };
      r.dispose();
      w.dispose();
      return out;
    });
    assert.deepEqual(got.numbers, ['111', '111', '111', '111', '111'], JSON.stringify(got));
    assert.ok(new Set(got.boxes).size === 1 && new Set(got.conf).size === 1,
              `the same boxes and confidence from every source: ${JSON.stringify(got)}`);
    assert.deepEqual(got.blank, [null, 0], 'a blank image: number null');
    assert.match(got.bad, /^bad argument: image: expected/);
    assert.match(got.wbad, /^bad argument: image: expected/);
    assert.match(got.syncBlob, /^bad argument: image: expected/);
    assert.match(got.wsync, /^bad argument: readNumberSync: not with \{ worker: true \}/);
  });

  test('createTrainer({ worker: true }): batches and a fit run in the worker; its model loads', async () => {
    const got = await page.evaluate(async () => {
      const n = 64, x = new Float32Array(n * 784), y = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        y[i] = i % 2;           /* a vertical bar is a 1, a horizontal bar a 0 */
        for (let k = 4; k < 24; k++) x[i * 784 + (y[i] ? k * 28 + 14 : 14 * 28 + k)] = 1;
      }
      const t = await d.createTrainer({ worker: true, arch: 'mlp', lr: 1e-2 });
      const first = await t.trainBatch(x, y);
      const f = await t.fit(x, y, { epochs: 3, batch: 16 });
      let epochs = 0, last = null;
      while (await f.beginEpoch()) {
        while ((await f.step()) > 0);
        last = await f.endEpoch();
        epochs++;
      }
      await f.finish();
      f.dispose();
      await t.setLearningRate(1e-3);
      const ev = await t.evaluate(x, y);
      const bytes = await t.saveModel({ note: 'worker' });
      t.dispose();
      const r = await d.createRecognizer({ model: bytes });
      const out = { first: Number.isFinite(first.loss), epochs, lastLoss: last.loss, acc: ev.accuracy,
                    lr: t.lr, arch: r.info().arch.includes('dense 128'), note: r.info().metadata.note,
                    after: await code(() => t.trainBatch(x, y)) };
      r.dispose();
      return out;
    });
    assert.ok(got.first && got.epochs === 3 && got.acc > 0.9, `trains in the worker: ${JSON.stringify(got)}`);
    assert.ok(got.arch && got.note === 'worker' && got.lr === 1e-3, JSON.stringify(got));
    assert.match(got.after, /^bad argument: trainer: used after dispose\(\)$/);
  });

  test('assets: wasmBase, wasm URLs, a missing worker file and model are clear errors', async () => {
    const got = await page.evaluate(async () => {
      const a = await d.createRecognizer({ wasmBase: '/build/', simd: false });
      const b2 = await d.createRecognizer({ wasm: { simd: '/build/digits-simd.wasm' } });
      const out = {
        base: a.variant, given: b2.variant, same: (await a.predict(one)).digit === (await b2.predict(one)).digit,
        noWorker: await code(() => d.createRecognizer({ worker: true, workerUrl: '/no-such-worker.js' })),
        noModel: await code(() => d.createRecognizer({ model: '/models/none.safetensors' })),
        noBuild: await code(() => d.createRecognizer({ wasm: { plain: '/x.wasm' }, simd: true })),
        shared: await code(() => d.createRecognizer({ worker: true, module: {} })),
      };
      a.dispose();
      b2.dispose();
      return out;
    });
    assert.ok(got.base === 'plain' && got.given === 'simd' && got.same, JSON.stringify(got));
    assert.match(got.noWorker, /^i\/o error: worker: /);
    assert.match(got.noModel, /^i\/o error: .*none\.safetensors: HTTP 404/);
    assert.match(got.noBuild, /^bad argument: wasm: no URL for the simd build/);
    assert.match(got.shared, /^bad argument: worker: a module cannot be shared/);
  });

  test('no console errors but the expected 404s', () => {
    assert.deepEqual(b.errors.filter((e) => !/404|Not Found/.test(e)), []);
  });
});
