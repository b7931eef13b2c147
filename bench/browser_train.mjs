/* browser_train.mjs: in-browser training speed as a person sees it (issue 5):
 * the real page (web/index.html, served by web/serve.mjs) in headless
 * Chromium (or --engine), its training panel, one epoch over the 10,000-image subset per
 * run for each network the panel offers, at the panel's default batch size
 * and learning rate. The training worker measures each epoch (wall clock,
 * batch preparation, messages and yields included, the test evaluation
 * after it excluded); the page side also times click -> finished (the
 * evaluation of 2,000 test digits, the model save and the hand-over to the
 * pad included). One JSON line per run:
 *   {kind:'browser-train', target:'chromium', arch, batch, images, seconds,
 *    ips, wall, accuracy}
 * usage: node bench/browser_train.mjs [--quick] [--reps N] [--archs a,b]
 *        [--engine chromium|firefox|webkit]
 * The engine through tests/browser/lib/engines.mjs (target: its name), the
 * panel through bench/page_train.mjs, the page served by web/serve.mjs. */
import { startServer } from '../tests/browser/lib/harness.mjs';
import { openEngine, openPage } from '../tests/browser/lib/page-kit.mjs';
import { offeredArchs, openPanel, trainEpoch } from './page_train.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const ri = args.indexOf('--reps');
const reps = ri >= 0 ? Number(args[ri + 1]) : quick ? 1 : 3;
const ai = args.indexOf('--archs');
const ei = args.indexOf('--engine');
const engine = ei >= 0 ? args[ei + 1] : 'chromium';
const log = (s) => process.stderr.write(`  ${engine} train: ${s}\n`);

let srv = null, d = null, code = 0;
try {
  srv = await startServer();
  d = await openEngine(engine);
  await openPage(d, srv.url);
  await openPanel(d);
  const archs = ai >= 0 ? args[ai + 1].split(',') : await offeredArchs(d);
  for (const arch of archs) {
    /* the slow networks once in a quick run, else reps times */
    const n = arch === 'mlp' || arch === 'logreg' ? Math.max(reps, 1) : quick ? 1 : reps;
    for (let r = 0; r < n; r++) {
      const out = { kind: 'browser-train', target: engine, ...await trainEpoch(d, arch) };
      console.log(JSON.stringify(out));
      log(`${arch} b${out.batch}: ${Math.round(out.ips)} images/s, epoch ${out.seconds.toFixed(2)} s ` +
          `(click to done ${out.wall.toFixed(2)} s), test accuracy ${(out.accuracy * 100).toFixed(1)}%`);
    }
  }
  if (d.errors.length) log(`page errors: ${d.errors.join('; ')}`);
} catch (e) {
  process.stderr.write(`browser_train.mjs: ${e.stack || e.message}\n`);
  code = 1;
} finally {
  await d?.close();
  await srv?.stop();
}
process.exit(code);
