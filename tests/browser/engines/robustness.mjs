// tests/browser/engines/robustness.mjs ENGINE: the page against bad input
// in one engine (firefox or webkit here; Chromium's run, with a few
// Chromium-only cases more, is tests/browser/robustness.mjs), through the
// driver in ../lib/engines.mjs:
//   - an empty drawing gives no guess, and the API says empty on blank
//     canvases (transparent and white);
//   - absurd image sizes are refused with the DigitsError that names the
//     limits, and a large canvas within them is still read;
//   - corrupted model uploads (a flipped weight bit, a truncated file, a
//     picture, an empty file) each give "Cannot load NAME: <the C message>",
//     the pad keeps its model and the chooser does not list the bad file;
//     a good upload afterwards is used;
//   - without IndexedDB the pad reads and storage says it is unavailable.
// One browser for the whole file; exit 77 (skipped) without the engine.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { badModels } from '../lib/bad-models.mjs';
import { requireEngine, useSession, openPage, draw, reading, click, clearPad, waitFor }
  from '../lib/page-kit.mjs';

const ENGINE = requireEngine();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'digits-robust-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const { good, uploads: UPLOADS } = await badModels();
const file = (name, bytes) => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, bytes);
  return p;
};
const noteOf = (d) => d.evaluate(() => document.querySelector('[data-testid="train-note"]').textContent);

describe(`robustness in ${ENGINE}`, () => {
  const ctx = useSession(ENGINE, { width: 1280, height: 800 });
  let d = null;
  before(() => { d = ctx.d; });

  test('an empty drawing gives no guess; blank canvases are empty', async () => {
    await clearPad(d);
    const r = await reading(d);
    assert(r.state === 'empty' && r.digit === null && r.text === '', `got ${JSON.stringify(r)}`);
    const msg = await d.evaluate(() => document.getElementById('msg').textContent);
    assert(/Draw a digit/.test(msg), `message "${msg}"`);
    const res = await d.evaluate(async () => {
      const { createRecognizer } = await import('./lib/digits.js');
      const r = await createRecognizer({ model: 'models/default.safetensors' });
      const clear = await r.predict({ data: new Uint8ClampedArray(280 * 280 * 4), width: 280, height: 280 });
      const white = await r.predict({ data: new Uint8ClampedArray(280 * 280 * 4).fill(255),
                                      width: 280, height: 280 });
      r.free();
      return JSON.stringify([clear.empty, clear.digit, white.empty, white.digit]);
    });
    assert(res === '[true,null,true,null]', `API on blank canvases: ${res}`);
  });

  test('absurd sizes are refused with a message; a 2048x2048 canvas is read', async () => {
    const res = await d.evaluate(async () => {
      const { createRecognizer } = await import('./lib/digits.js');
      const r = await createRecognizer({ model: 'models/default.safetensors' });
      const c = document.createElement('canvas');
      c.width = c.height = 2048;
      const g = c.getContext('2d', { willReadFrequently: true });
      g.fillStyle = '#fff';
      g.fillRect(0, 0, 2048, 2048);
      g.strokeStyle = '#000';
      g.lineWidth = 150;
      g.lineCap = 'round';
      g.beginPath();
      g.moveTo(550, 450); g.lineTo(1500, 450); g.lineTo(1150, 950); g.lineTo(900, 1650);
      g.stroke();
      const out = { big: (await r.predict(c)).digit };
      for (const [w, h] of [[20000, 20000], [16385, 1], [4096, 0], [20000, 4000]]) {
        try {
          await r.predict({ data: new Uint8ClampedArray(16), width: w, height: h });
          out[`${w}x${h}`] = 'accepted';
        } catch (e) {
          out[`${w}x${h}`] = `${e.name}: ${e.message}`;
        }
      }
      out.after = (await r.predict(c)).digit;
      r.free();
      return out;
    });
    assert(res.big === 7, `2048x2048 canvas read as ${res.big}`);
    for (const k of ['20000x20000', '16385x1', '4096x0', '20000x4000'])
      assert(/^DigitsError: image: cannot use a \d+x\d+ image \(1\.\.16384 per side, at most 67108864 pixels\)$/.test(res[k]),
             `${k}: ${res[k]}`);
    assert(res.after === 7, `after the refusals: ${res.after}`);
  });

  for (const [name, bytes, want] of UPLOADS) {
    test(`a corrupted model upload (${name}) is refused and the pad keeps its model`, async () => {
      const [m0, options] = await d.evaluate(() => {
        document.querySelector('[data-testid="train-panel"]').open = true;
        return [document.documentElement.dataset.model,
                document.querySelectorAll('[data-testid="model"] option').length];
      });
      await d.setFiles('[data-testid="model-file"]', file(name, bytes));
      const note = await waitFor(d, (n) => {
        const t = document.querySelector('[data-testid="train-note"]').textContent;
        return t.startsWith(`Cannot load ${n}`) ? t : null;
      }, name, { timeout: 15000, what: `the refusal of ${name}` });
      console.log(`     ${note}`);
      assert(want.test(note), `note: "${note}"`);
      const [m1, options1] = await d.evaluate(() => [document.documentElement.dataset.model,
        document.querySelectorAll('[data-testid="model"] option').length]);
      assert(m1 === m0, `the model changed: ${m0} -> ${m1}`);
      assert(options1 === options, 'the bad model is in the chooser');
      await d.evaluate(() => scrollTo(0, 0));
      await clearPad(d);
      await draw(d, 7);
      const r = await reading(d);
      assert(r.digit === 7, `after the bad upload the pad reads ${JSON.stringify(r)}`);
    });
  }

  test('a good upload after the bad ones is used', async () => {
    await d.setFiles('[data-testid="model-file"]', file('good.safetensors', good));
    await waitFor(d, () => document.querySelector('[data-testid="train-note"]').textContent
      .startsWith('Loaded good.safetensors'), null, { timeout: 15000, what: 'the good upload' });
    assert(await d.evaluate(() => document.documentElement.dataset.model) === 'good',
           'the good model is not in use');
  });

  test('no console errors', () => {
    assert(d.errors.length === 0, d.errors.join('\n'));
  });

  test('IndexedDB unavailable: the pad works, storage says it is unavailable', async () => {
    await openPage(d, `${ctx.s.srv.url}?without=indexedDB`);
    const gone = await d.evaluate(() => [typeof indexedDB, window.__digits.gone.join(',')]);
    assert(gone[0] === 'undefined' && /indexedDB/.test(gone[1]), `indexedDB still there: ${gone}`);
    await draw(d, 7);
    const r = await reading(d);
    assert(r.digit === 7, `pad read ${JSON.stringify(r)}`);
    await waitFor(d, () => document.querySelector('[data-testid="train-panel"]')?.dataset.storeChecked === '1',
                  null, { timeout: 10000, what: 'the saved-model check' });
    const note = await noteOf(d);
    assert(/Saved model unavailable: IndexedDB is not available/.test(note), `note: "${note}"`);
    await d.evaluate(() => { document.querySelector('[data-testid="personal-panel"]').open = true; });
    await click(d, 'label-7');
    const res = await waitFor(d, () => {
      const t = document.querySelector('[data-testid="finetune-result"]').textContent;
      return /IndexedDB is not available/.test(t) ? t : null;
    }, null, { timeout: 10000, what: 'the example refusal' });
    assert(/^(Cannot store the example|Examples unavailable): IndexedDB is not available/.test(res),
           `examples: "${res}"`);
    console.log(`     ${note}\n     ${res}`);
    const count = await d.evaluate(() => document.querySelector('[data-testid="example-count"]').textContent);
    assert(count === '0', `an example was counted: ${count}`);
    const pageErrors = d.errors.filter((e) => e.startsWith('pageerror'));
    assert(pageErrors.length === 0, pageErrors.join('\n'));
  });
});
