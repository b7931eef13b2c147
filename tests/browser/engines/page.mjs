// tests/browser/engines/page.mjs ENGINE: the drawing page in one engine
// (chromium, firefox or webkit; argv[2] or $DIGITS_ENGINE), through the
// driver in ../lib/engines.mjs: the build the engine picks, mouse- and
// touch-drawn digits (touch where the driver sends it), the same
// probabilities as native `digits predict` within 1e-4 on the pad's pixels,
// the random MNIST digit, the model switch, a corrupted model upload,
// Ctrl+Z/Escape ignored inside fields, the live region quiet while drawing.
// One browser for the whole file; exit 77 (skipped) without the engine.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from '../lib/harness.mjs';
import { requireEngine, openSession, closeSession, openPage, draw, reading, click,
         clearPad, waitFor, label } from '../lib/page-kit.mjs';

const ENGINE = requireEngine();
const DIGITS = process.env.DIGITS || path.join(ROOT, 'build', 'digits');
/* what each engine here picks: Chromium 114+ and Firefox 120+ validate
 * relaxed SIMD, WebKitGTK 2.50 does not */
const BUILD = { chromium: 'relaxed', firefox: 'relaxed', webkit: 'simd' };
const TOUCH = ENGINE !== 'webkit';   /* WebKitWebDriver sends no touch on GTK */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'digits-engine-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

describe(`page in ${ENGINE}`, () => {
  let s = null, d = null;
  before(async () => {
    s = await openSession(ENGINE, { width: 1280, height: 800, touch: TOUCH });
    d = s.d;
    await openPage(d, s.srv.url);
    console.log(`     ${label(d)}`);
  });
  after(() => closeSession(s));

  test(`picks the ${BUILD[ENGINE]} build`, async () => {
    const [build, badge] = await d.evaluate(() => [document.documentElement.dataset.build,
      document.querySelector('[data-testid="build"]').textContent]);
    assert(build === BUILD[ENGINE], `${label(d)}: data-build=${build}, badge "${badge}"`);
  });

  for (const digit of [1, 7, 0]) {
    test(`mouse-drawn ${digit} reads as ${digit}`, async () => {
      await clearPad(d);
      await draw(d, digit);
      const r = await reading(d);
      assert(r.digit === digit && r.state === 'sure', `drew ${digit}: ${JSON.stringify(r)}`);
      const pointer = await d.evaluate(() => document.getElementById('pad').dataset.pointer);
      assert(pointer === 'mouse', `pointer type ${pointer}`);
    });
  }

  test('touch-drawn 7 and 4 read correctly', { skip: TOUCH ? false : 'no touch input in this driver' },
       async () => {
    for (const digit of [7, 4]) {
      await clearPad(d);
      await draw(d, digit, { touch: true });
      const r = await reading(d);
      assert(r.digit === digit, `touch ${digit}: ${JSON.stringify(r)}`);
    }
    const [pointer, scrolled] = await d.evaluate(() => [document.getElementById('pad').dataset.pointer,
                                                         scrollY]);
    assert(pointer === 'touch' && scrolled === 0, `pointer ${pointer}, scrolled ${scrolled}`);
  });

  test('probabilities equal native digits predict within 1e-4', async () => {
    await clearPad(d);
    await draw(d, 7);
    /* the pad's pixels through the page's module (the build it picks) */
    const got = await d.evaluate(async () => {
      const c = document.getElementById('pad');
      const img = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      const { createRecognizer } = await import('./lib/digits.js');
      const r = await createRecognizer({ model: 'models/default.safetensors' });
      const res = await r.predict(img);
      const rgb = [];
      for (let i = 0; i < img.data.length; i += 4) rgb.push(img.data[i], img.data[i + 1], img.data[i + 2]);
      return { w: c.width, h: c.height, rgb, probs: Array.from(res.probs), variant: r.variant };
    });
    const file = path.join(tmp, 'pad.ppm');
    fs.writeFileSync(file, Buffer.concat([Buffer.from(`P6\n${got.w} ${got.h}\n255\n`), Buffer.from(got.rgb)]));
    const run = spawnSync(DIGITS, ['predict', '--json', '--model',
                                   path.join(ROOT, 'models', 'default.safetensors'), file], { encoding: 'utf8' });
    assert(run.status === 0, `digits predict: ${run.stderr}`);
    const native = JSON.parse(run.stdout.trim().split('\n')[0]).probs;
    const diff = Math.max(...native.map((p, i) => Math.abs(p - got.probs[i])));
    console.log(`     ${got.variant} build vs native on a ${got.w}x${got.h} pad: max |diff| ${diff.toExponential(2)}`);
    assert(got.variant === BUILD[ENGINE], `module picked ${got.variant}`);
    assert(diff <= 1e-4, `max difference ${diff}`);
    const shown = await reading(d);
    assert(shown.digit === native.indexOf(Math.max(...native)), `page shows ${shown.digit}`);
  });

  test('random MNIST digit matches its label in at least 8 of 10', async () => {
    let ok = 0;
    const seen = [];
    for (let i = 0; i < 10; i++) {
      const before = await d.evaluate(() => window.__digits.readings);
      await click(d, 'random');
      await waitFor(d, (n) => window.__digits.readings > n, before, { what: 'a reading of the sample' });
      const r = await reading(d);
      const lab = Number(await d.evaluate(() => document.querySelector('[data-testid="sample-label"]').dataset.label));
      if (r.digit === lab) ok++;
      seen.push(`${lab}->${r.digit}`);
    }
    assert(ok >= 8, `${ok}/10 matched: ${seen.join(' ')}`);
  });

  test('model switch: another model loads and reads a 7, then back', async () => {
    const n = await d.evaluate(() => document.querySelectorAll('[data-testid="model"] option').length);
    assert(n >= 2, `${n} models in the chooser`);
    const m0 = await d.evaluate(() => document.documentElement.dataset.model);
    await d.evaluate(() => {
      const s = document.querySelector('[data-testid="model"]');
      s.value = '1';
      s.dispatchEvent(new Event('change'));
    });
    await waitFor(d, (m) => document.documentElement.dataset.model !== m, m0, { what: 'the switch' });
    await clearPad(d);
    await draw(d, 7);
    const r = await reading(d);
    assert(r.digit === 7, `with ${await d.evaluate(() => document.documentElement.dataset.model)}: ${JSON.stringify(r)}`);
    await d.evaluate(() => {
      const s = document.querySelector('[data-testid="model"]');
      s.value = '0';
      s.dispatchEvent(new Event('change'));
    });
    await waitFor(d, (m) => document.documentElement.dataset.model === m, m0, { what: 'back to the default' });
  });

  test('a corrupted model upload is refused and the pad keeps its model', async () => {
    const good = fs.readFileSync(path.join(ROOT, 'models', 'default.safetensors'));
    const file = path.join(tmp, 'cut.safetensors');
    fs.writeFileSync(file, good.subarray(0, Math.floor(good.length / 2)));
    const m0 = await d.evaluate(() => document.documentElement.dataset.model);
    await d.evaluate(() => { document.querySelector('[data-testid="train-panel"]').open = true; });
    await d.setFiles('[data-testid="model-file"]', file);
    const note = await waitFor(d, () => {
      const t = document.querySelector('[data-testid="train-note"]').textContent;
      return t.startsWith('Cannot load cut.safetensors') ? t : null;
    }, null, { timeout: 15000, what: 'the refusal' });
    console.log(`     ${note}`);
    assert(/truncated|size|bytes|offset/i.test(note), `note: ${note}`);
    assert(await d.evaluate(() => document.documentElement.dataset.model) === m0, 'the model changed');
    await d.evaluate(() => scrollTo(0, 0));
    await clearPad(d);
    await draw(d, 7);
    assert((await reading(d)).digit === 7, 'the pad no longer reads');
  });

  test('Ctrl+Z and Escape inside a number field leave the pad alone', async () => {
    await clearPad(d);
    await draw(d, 4);
    await d.evaluate(() => {
      document.querySelector('[data-testid="train-panel"]').open = true;
      const f = document.querySelector('[data-testid="train-epochs"]');
      f.focus();
      f.select();
    });
    await d.key('z', { ctrl: true });
    await d.key('Escape');
    const r = await reading(d);
    assert(r.digit === 4 && !(await d.evaluate(() => document.getElementById('undo').disabled)),
           `typing in the field changed the pad: ${JSON.stringify(r)}`);
    await d.evaluate(() => document.activeElement.blur());
    await d.key('Escape');
    await waitFor(d, () => document.querySelector('[data-testid="prediction"]').dataset.state === 'empty',
                  null, { timeout: 5000, what: 'Escape outside a field to clear the pad' });
  });

  test('the live region speaks once per stroke, not while drawing', async () => {
    await d.evaluate(() => scrollTo(0, 0));
    await clearPad(d);
    await d.evaluate(() => {
      const el = document.querySelector('[data-testid="announce"]');
      window.__said = [];
      new MutationObserver(() => window.__said.push(el.textContent))
        .observe(el, { childList: true, characterData: true, subtree: true });
    });
    await draw(d, 4);   /* two strokes, many readings */
    await new Promise((r) => setTimeout(r, 300));
    const [said, readings, live] = await d.evaluate(() => [window.__said, window.__digits.readings,
      document.querySelector('[data-testid="prediction"]').getAttribute('aria-live')]);
    assert(live === null, `the big digit is itself live (aria-live=${live})`);
    /* the clear before may still be said; then one line per stroke at most */
    const strokes = said.filter((t) => t !== 'Pad empty.');
    assert(strokes.length >= 1 && strokes.length <= 2 && /^4, /.test(strokes.at(-1)),
           `announced ${said.length}x: ${JSON.stringify(said)} (${readings} readings so far)`);
  });

  test('no console errors', () => {
    assert(d.errors.length === 0, d.errors.join('\n'));
  });
});
