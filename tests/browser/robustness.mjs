// tests/browser/robustness.mjs (ctest browser_robustness): the page against
// bad input, in headless Chromium (the browser rows of docs/robustness.md):
//   - an empty drawing: no guess, "Draw a digit.", and the API's empty: true;
//   - a gigantic canvas: a 4K screen at 3x pixel density still reads a
//     drawn digit; a 4096x4096 ImageData is read; sizes over the limits
//     (20000x20000, 16385 wide, 0 high) are refused with a clear error
//     before anything is copied, and the page goes on working;
//   - a corrupted model upload (a flipped weight bit, a truncated file, a
//     picture, an empty file): "Cannot load NAME: <the C message>", the
//     pad keeps its model and the chooser does not list the bad file;
//   - IndexedDB unavailable (removed before the page starts): drawing and
//     reading work, the saved-model and personal-example parts say that
//     storage is unavailable instead of failing silently.
// node:test: `node --test-name-pattern=REGEX` runs some; exit status 1 on failure.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, launch, openPage, drawMouse, reading, openSession, closeSession }
  from './lib/harness.mjs';
import { badModels } from './lib/bad-models.mjs';

const WASM = process.env.DIGITS_WASM || path.join(ROOT, 'web', 'build');
const sel = (id) => `[data-testid="${id}"]`;

const { good, uploads: UPLOADS } = await badModels(WASM);

describe('browser robustness', () => {
  let srv = null, b = null, big = null, noidb = null, page = null;
  before(async () => {
    ({ srv, b, page } = await openSession());
  });
  after(async () => {
    await closeSession({ srv, b }, noidb, big);
  });

  test('an empty drawing gives no guess', async () => {
    await page.click(sel('clear'));
    const r = await reading(page);
    assert(r.state === 'empty' && r.digit === null && r.text === '', `got ${JSON.stringify(r)}`);
    const msg = await page.textContent('#msg');
    assert(/Draw a digit/.test(msg), `message "${msg}"`);
    /* the API on a blank canvas, transparent and white */
    const res = await page.evaluate(async () => {
      const { createRecognizer } = await import('/lib/digits.js');
      const r = await createRecognizer({ model: '/models/default.safetensors', wasmBase: '/build/' });
      const clear = await r.predict({ data: new Uint8ClampedArray(280 * 280 * 4), width: 280, height: 280 });
      const white = await r.predict({ data: new Uint8ClampedArray(280 * 280 * 4).fill(255), width: 280, height: 280 });
      r.free();
      return [clear.empty, clear.digit, white.empty, white.digit];
    });
    assert(JSON.stringify(res) === '[true,null,true,null]', `API on blank canvases: ${JSON.stringify(res)}`);
  });

  test('gigantic canvases: read when within the limits, refused with a message beyond', async () => {
    const res = await page.evaluate(async () => {
      const { createRecognizer } = await import('/lib/digits.js');
      const r = await createRecognizer({ model: '/models/default.safetensors', wasmBase: '/build/' });
      const out = {};
      /* a 7 drawn on a 4096x4096 canvas (64 MB of RGBA) */
      const c = new OffscreenCanvas(4096, 4096);
      const g = c.getContext('2d', { willReadFrequently: true });
      g.fillStyle = '#fff';
      g.fillRect(0, 0, 4096, 4096);
      g.strokeStyle = '#000';
      g.lineWidth = 300;
      g.lineCap = 'round';
      g.beginPath();
      g.moveTo(1100, 900); g.lineTo(3000, 900); g.lineTo(2300, 1900); g.lineTo(1800, 3300);
      g.stroke();
      const t0 = performance.now();
      const p = await r.predict(g.getImageData(0, 0, 4096, 4096));
      out.big = { digit: p.digit, ms: Math.round(performance.now() - t0) };
      for (const [w, h] of [[20000, 20000], [16385, 1], [4096, 0], [20000, 4000]]) {
        try {
          await r.predict({ data: new Uint8ClampedArray(16), width: w, height: h });
          out[`${w}x${h}`] = 'accepted';
        } catch (e) {
          out[`${w}x${h}`] = `${e.name}: ${e.message}`;
        }
      }
      /* and still fine afterwards */
      out.after = (await r.predict(g.getImageData(0, 0, 4096, 4096))).digit;
      r.free();
      return out;
    });
    assert(res.big.digit === 7, `4096x4096 canvas read as ${res.big.digit}`);
    for (const k of ['20000x20000', '16385x1', '4096x0', '20000x4000'])
      assert(/^DigitsError: image: cannot use a \d+x\d+ image \(1\.\.16384 per side, at most 67108864 pixels\)$/.test(res[k]),
             `${k}: ${res[k]}`);
    assert(res.after === 7, `after the refusals: ${res.after}`);
    console.log(`     4096x4096 canvas predicted in ${res.big.ms} ms`);
  });

  test('a 4K screen at 3x density: the pad still reads what is drawn', async () => {
    big = await launch({ viewport: { width: 3840, height: 2160 }, deviceScaleFactor: 3 });
    await openPage(big.page, srv.url);
    const size = await big.page.locator(sel('pad')).evaluate((c) => [c.width, c.height]);
    assert(size[0] >= 1000, `pad backing store ${size}`);
    await drawMouse(big.page, 7);
    const r = await reading(big.page);
    assert(r.digit === 7, `pad of ${size.join('x')} px read ${JSON.stringify(r)}`);
    assert(big.errors.length === 0, big.errors.join('\n'));
  });

  for (const [name, bytes, want] of UPLOADS) {
    test(`a corrupted model upload (${name}) is refused and the pad keeps its model`, async () => {
      await page.evaluate(() => scrollTo(0, 0));
      const before = await page.getAttribute('html', 'data-model');
      const options = await page.locator(`${sel('model')} option`).count();
      await page.setInputFiles(sel('model-file'), { name, mimeType: 'application/octet-stream',
                                                    buffer: Buffer.from(bytes) });
      await page.waitForFunction((n) => document.querySelector('[data-testid="train-note"]')
        .textContent.startsWith(`Cannot load ${n}`), name, { timeout: 10000 });
      const note = await page.textContent(sel('train-note'));
      assert(want.test(note), `note: "${note}"`);
      console.log(`     ${note}`);
      assert(await page.getAttribute('html', 'data-model') === before, 'the model changed');
      assert(await page.locator(`${sel('model')} option`).count() === options,
             'the bad model is in the chooser');
      await page.click(sel('clear'));
      await drawMouse(page, 7);
      const r = await reading(page);
      assert(r.digit === 7, `after the bad upload the pad reads ${JSON.stringify(r)}`);
    });
  }

  test('a good upload after the bad ones is used', async () => {
    await page.setInputFiles(sel('model-file'), { name: 'good.safetensors',
      mimeType: 'application/octet-stream', buffer: Buffer.from(good) });
    await page.waitForFunction(() => document.querySelector('[data-testid="train-note"]')
      .textContent.startsWith('Loaded good.safetensors'), null, { timeout: 10000 });
    assert(await page.getAttribute('html', 'data-model') === 'good', 'the good model is not in use');
  });

  test('no console errors', async () => {
    assert(b.errors.length === 0, b.errors.join('\n'));
  });

  test('IndexedDB unavailable: the pad works, storage says it is unavailable', async () => {
    noidb = await launch();
    await noidb.context.addInitScript(() => {
      Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });
    });
    const p = noidb.page;
    await openPage(p, srv.url);
    assert(await p.evaluate(() => typeof indexedDB) === 'undefined', 'indexedDB still there');
    await drawMouse(p, 7);
    const r = await reading(p);
    assert(r.digit === 7, `pad read ${JSON.stringify(r)}`);
    /* the saved-model check at start */
    await p.waitForFunction(() => document.querySelector('[data-testid="train-panel"]')
      ?.dataset.storeChecked === '1', null, { timeout: 10000 });
    const note = await p.textContent(sel('train-note'));
    assert(/Saved model unavailable: IndexedDB is not available/.test(note), `note: "${note}"`);
    /* storing an example of the drawing */
    await p.click(`${sel('personal-panel')} > summary`);
    await p.click(sel('label-7'));
    await p.waitForFunction(() => /IndexedDB is not available/.test(
      document.querySelector('[data-testid="finetune-result"]').textContent), null, { timeout: 10000 });
    const res = await p.textContent(sel('finetune-result'));
    assert(/^(Cannot store the example|Examples unavailable): IndexedDB is not available/.test(res),
           `examples: "${res}"`);
    console.log(`     ${note}\n     ${res}`);
    assert(await p.textContent(sel('example-count')) === '0', 'an example was counted');
    const pageErrors = noidb.errors.filter((e) => e.startsWith('pageerror'));
    assert(pageErrors.length === 0, pageErrors.join('\n'));
  });
});
