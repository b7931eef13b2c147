// tests/browser/engines/train.mjs ENGINE: training in one engine (firefox
// or webkit; Chromium's run is tests/browser/train.mjs): the panel loads
// the subset, one epoch of mlp in the worker reaches >= 90% test accuracy,
// the trained model reads the pad, "Save in this browser" puts it in
// IndexedDB and after a reload it is listed and reads a drawn 7. One
// browser for the file; exit 77 without the engine.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { requireEngine, useSession, openPage, draw, reading, click, clearPad,
         waitFor, label } from '../lib/page-kit.mjs';

const ENGINE = requireEngine();
const ds = (id, key) => (a) => document.querySelector(`[data-testid="${a[0]}"]`)?.dataset[a[1]] ?? null;

describe(`training in ${ENGINE}`, () => {
  const ctx = useSession(ENGINE, { width: 1280, height: 800 });
  let d = null;
  before(() => { d = ctx.d; });

  test('the panel loads the subset', async () => {
    await waitFor(d, () => document.querySelector('[data-testid="train-panel"]') !== null, null,
                  { what: 'the training panel' });
    await d.evaluate(() => document.querySelector('[data-testid="train-panel"] > summary').click());
    const state = await waitFor(d, () => {
      const v = document.querySelector('[data-testid="train-panel"]').dataset.data;
      return ['ready', 'error'].includes(v) ? v : null;
    }, null, { timeout: 60000, what: 'the subset' });
    const status = await d.evaluate(() => document.querySelector('[data-testid="data-status"]').textContent);
    assert(state === 'ready' && /10,000 training and 2,000 test/.test(status), `${state}: ${status}`);
  });

  test('one epoch of mlp in the worker: >= 90% test accuracy', async () => {
    const done0 = Number(await d.evaluate(ds(), ['train-panel', 'done']) ?? 0);
    await d.evaluate(() => {
      const set = (id, v) => {
        const el = document.querySelector(`[data-testid="${id}"]`);
        el.value = v;
        el.dispatchEvent(new Event(el.tagName === 'SELECT' ? 'change' : 'input', { bubbles: true }));
      };
      set('train-arch', 'mlp');
      set('train-epochs', '1');
      set('train-batch', '32');
      set('train-lr', '0.001');
    });
    const t0 = Date.now();
    await click(d, 'train-start');
    await waitFor(d, (n) => Number(document.querySelector('[data-testid="train-panel"]').dataset.done ?? 0) > n,
                  done0, { timeout: 240000, what: 'the epoch to finish' });
    const wall = (Date.now() - t0) / 1000;
    const acc = Number(await d.evaluate(ds(), ['test-accuracy', 'value']));
    const ips = Number(await d.evaluate(ds(), ['train-panel', 'ips']));
    /* performance.now() is coarse here: the page's images/s is over a whole
     * epoch (10,000 images), and the wall time is Node's */
    console.log(`     ${label(d)}: mlp epoch, test accuracy ${(acc * 100).toFixed(1)}%, ` +
                `${Math.round(ips)} images/s, ${wall.toFixed(1)} s from Start to done`);
    assert(acc >= 0.9, `test accuracy ${acc}`);
    const model = await d.evaluate(() => document.documentElement.dataset.model);
    assert(model === 'trained in browser', `pad model ${model}`);
    await d.evaluate(() => scrollTo(0, 0));
    await clearPad(d);
    await draw(d, 7);
    const r = await reading(d);
    assert(r.digit !== null, `the trained model reads ${JSON.stringify(r)}`);
  });

  test('saved in IndexedDB, listed and used after a reload', async () => {
    await click(d, 'model-save');
    await waitFor(d, () => document.querySelector('[data-testid="train-panel"]').dataset.saved === '1',
                  null, { timeout: 15000, what: 'the save' });
    await openPage(d, ctx.s.srv.url);
    await waitFor(d, () => document.querySelector('[data-testid="train-panel"]')?.dataset.storeChecked === '1',
                  null, { what: 'the saved-model check' });
    const i = await d.evaluate(() => [...document.querySelectorAll('[data-testid="model"] option')]
      .findIndex((o) => o.textContent.startsWith('saved in browser')));
    assert(i >= 0, 'the saved model is not in the chooser after the reload');
    await d.evaluate((k) => {
      const sel = document.querySelector('[data-testid="model"]');
      sel.value = String(k);
      sel.dispatchEvent(new Event('change'));
    }, i);
    await waitFor(d, () => document.documentElement.dataset.model === 'saved in browser', null,
                  { what: 'the saved model in use' });
    await clearPad(d);
    await draw(d, 7);
    const r = await reading(d);
    assert(r.digit === 7, `the saved model reads ${JSON.stringify(r)}`);
  });

  test('no console errors', () => {
    assert(d.errors.length === 0, d.errors.join('\n'));
  });
});
