/* browser_train.mjs: in-browser training speed as a person sees it (issue 5):
 * the real page (web/index.html, served by web/serve.mjs) in headless
 * Chromium, its training panel, one epoch over the 10,000-image subset per
 * run for each network the panel offers, at the panel's default batch size
 * and learning rate. The training worker measures each epoch (wall clock,
 * batch preparation, messages and yields included, the test evaluation
 * after it excluded); the page side also times click -> finished (the
 * evaluation of 2,000 test digits, the model save and the hand-over to the
 * pad included). One JSON line per run:
 *   {kind:'browser-train', target:'chromium', arch, batch, images, seconds,
 *    ips, wall, accuracy}
 * usage: node bench/browser_train.mjs [--quick] [--reps N] [--archs a,b]
 * Uses the test harness of tests/browser (server, Chromium, page load). */
import { launch, openPage, startServer } from '../tests/browser/lib/harness.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const ri = args.indexOf('--reps');
const reps = ri >= 0 ? Number(args[ri + 1]) : quick ? 1 : 3;
const ai = args.indexOf('--archs');
const sel = (id) => `[data-testid="${id}"]`;
const log = (s) => process.stderr.write(`  chromium train: ${s}\n`);

let srv = null, b = null, code = 0;
try {
  srv = await startServer();
  b = await launch();
  const page = b.page;
  await openPage(page, srv.url);
  await page.click(`${sel('train-panel')} > summary`);
  await page.waitForFunction(() => document.querySelector('[data-testid="train-panel"]')
    .dataset.data === 'ready', null, { timeout: 120000 });
  const offered = await page.locator(`${sel('train-arch')} option`)
    .evaluateAll((os) => os.map((o) => o.value));
  const archs = ai >= 0 ? args[ai + 1].split(',') : offered;
  const batch = await page.locator(sel('train-batch')).inputValue();
  await page.fill(sel('train-epochs'), '1');
  for (const arch of archs) {
    await page.selectOption(sel('train-arch'), arch);
    /* the slow networks once in a quick run, else reps times */
    const n = arch === 'mlp' || arch === 'logreg' ? Math.max(reps, 1) : quick ? 1 : reps;
    for (let r = 0; r < n; r++) {
      const res = await page.evaluate(() => new Promise((resolve) => {
        const panel = document.querySelector('[data-testid="train-panel"]');
        const done0 = Number(panel.dataset.done ?? 0), t0 = performance.now();
        new MutationObserver((_, obs) => {
          if (Number(panel.dataset.done ?? 0) <= done0) return;
          obs.disconnect();
          const acc = document.querySelector('[data-testid="test-accuracy"]');
          resolve({ wall: (performance.now() - t0) / 1000, accuracy: Number(acc.dataset.value),
                    ips: Number(panel.dataset.ips),
                    note: document.querySelector('[data-testid="train-note"]').textContent });
        }).observe(panel, { attributes: true, attributeFilter: ['data-done'] });
        document.querySelector('[data-testid="train-start"]').click();
      }));
      /* "... N images in S s of training ..." from the finishing note */
      const m = /([\d,]+) images in ([\d.]+) s of training/.exec(res.note);
      const images = m ? Number(m[1].replace(/,/g, '')) : 10000;
      const out = { kind: 'browser-train', target: 'chromium', arch, batch: Number(batch), images,
                    seconds: images / res.ips, ips: res.ips, wall: res.wall,
                    accuracy: res.accuracy };
      console.log(JSON.stringify(out));
      log(`${arch} b${batch}: ${Math.round(res.ips)} images/s, epoch ${out.seconds.toFixed(2)} s ` +
          `(click to done ${res.wall.toFixed(2)} s), test accuracy ${(res.accuracy * 100).toFixed(1)}%`);
    }
  }
  if (b.errors.length) log(`page errors: ${b.errors.join('; ')}`);
} catch (e) {
  process.stderr.write(`browser_train.mjs: ${e.stack || e.message}\n`);
  code = 1;
} finally {
  await b?.close();
  await srv?.stop();
}
process.exit(code);
