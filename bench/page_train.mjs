/* page_train.mjs: the page's training panel driven the same way in every
 * engine (a driver of tests/browser/lib/engines.mjs): bench/browser_train.mjs
 * and bench/engines.mjs both train through these.
 *
 *   await openPanel(d);                          the panel open, the subset ready
 *   const r = await trainEpoch(d, 'mlp');        one epoch in the page's worker
 *     -> {arch, batch, images, seconds, ips, wall, accuracy}
 *
 * The worker measures its epoch (wall clock, batch preparation, messages
 * and yields included, the test evaluation after it excluded) and the note
 * says "N images in S s of training (I images/s)"; images/s over the whole
 * epoch, so an engine's coarse performance.now() does not matter. "wall"
 * is click -> done, timed in the page (evaluation of 2,000 test digits,
 * the model file and the hand-over to the pad included).
 */
import { waitFor } from '../tests/browser/lib/page-kit.mjs';

/* Open the training panel and wait for the 10,000-image subset. */
export async function openPanel(d, { timeout = 120000 } = {}) {
  await waitFor(d, () => document.querySelector('[data-testid="train-panel"]') !== null, null,
                { what: 'the training panel' });
  await d.evaluate(() => {
    const p = document.querySelector('[data-testid="train-panel"]');
    if (!p.open) p.querySelector('summary').click();
  });
  const state = await waitFor(d, () => {
    const v = document.querySelector('[data-testid="train-panel"]').dataset.data;
    return v === 'ready' || v === 'error' ? v : null;
  }, null, { timeout, what: 'the training subset' });
  if (state !== 'ready') throw new Error('the training subset did not load');
}

/* The networks the panel offers (option values). */
export const offeredArchs = (d) => d.evaluate(() =>
  [...document.querySelectorAll('[data-testid="train-arch"] option')].map((o) => o.value));

/* One epoch of arch at the panel's default batch size and learning rate. */
export async function trainEpoch(d, arch, { timeout = 300000 } = {}) {
  const batch = await d.evaluate((a) => {
    const set = (id, v) => {
      const el = document.querySelector(`[data-testid="${id}"]`);
      el.value = v;
      el.dispatchEvent(new Event(el.tagName === 'SELECT' ? 'change' : 'input', { bubbles: true }));
    };
    set('train-arch', a);
    set('train-epochs', '1');
    const panel = document.querySelector('[data-testid="train-panel"]');
    const done0 = Number(panel.dataset.done ?? 0), t0 = performance.now();
    window.__benchTrain = null;
    new MutationObserver((_, obs) => {
      if (Number(panel.dataset.done ?? 0) <= done0) return;
      obs.disconnect();
      window.__benchTrain = {
        wall: (performance.now() - t0) / 1000, ips: Number(panel.dataset.ips),
        accuracy: Number(document.querySelector('[data-testid="test-accuracy"]').dataset.value),
        note: document.querySelector('[data-testid="train-note"]').textContent,
      };
    }).observe(panel, { attributes: true, attributeFilter: ['data-done'] });
    document.querySelector('[data-testid="train-start"]').click();
    return Number(document.querySelector('[data-testid="train-batch"]').value);
  }, arch);
  /* a run that fails says so in the note: no waiting for the timeout */
  const res = await waitFor(d, () => window.__benchTrain || (/^(Training failed|The training worker failed)/
    .test(document.querySelector('[data-testid="train-note"]').textContent) &&
    { error: document.querySelector('[data-testid="train-note"]').textContent }),
  null, { timeout, what: `an epoch of ${arch}` });
  if (res.error) throw new Error(`${arch}: ${res.error}`);
  /* "... N images in S s of training ..." from the finishing note */
  const m = /([\d,]+) images in ([\d.]+) s of training/.exec(res.note);
  const images = m ? Number(m[1].replace(/,/g, '')) : 10000;
  return { arch, batch, images, seconds: images / res.ips, ips: res.ips, wall: res.wall,
           accuracy: res.accuracy };
}
