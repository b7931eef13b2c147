/* browser.mjs: bench/page.html in headless Chromium (playwright-core from the
 * top-level node_modules, Debian's /usr/bin/chromium); one JSON result per
 * line. bench/static.mjs serves the repository (cross-origin isolated:
 * performance.now() at 5 us). usage: node bench/browser.mjs [--quick] [--reps N] [--archs a,b]
 * [--no-train] [--no-peak] [--wasm-base DIR] (DIR's .wasm builds served as
 * web/build's, to compare builds) [--photo FILE [--photo-source TEXT]]
 * (FILE, a photo under the repository, preprocessed at full size by
 * bench/photo_bench.mjs) [--only-photo] (that alone: no first load, no
 * predict or training) [--only-number] (bench/number_bench.mjs alone: a
 * 6-digit number read from a 1200x400 canvas) [--compare-module FILE --compare-wasm DIR
 * [--pairs N] [--max-pairs N]] (bench/compare.html instead: this tree's
 * build against the baseline's module FILE and .wasm builds in DIR, both
 * under the repository; no first load)
 * First (unless --wasm-base) the page's first load: web/index.html in a
 * fresh profile with service workers blocked, every response until the page
 * is ready and the network idle, raw and gzip -9 sizes -> {kind: 'firstload'} */
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { join, relative, resolve, sep } from 'node:path';
import { precacheFiles } from '../web/tools/build-sw.mjs';
import { ROOT as root, serveRepo } from './static.mjs';

const { chromium } = createRequire(join(root, 'package.json'))('playwright-core');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const ri = args.indexOf('--reps');
const reps = ri >= 0 ? Number(args[ri + 1]) : 15;
/* --archs a,b (predict only these), --no-train, --no-peak: focused runs */
const ai = args.indexOf('--archs');
const extra = (ai >= 0 ? `&archs=${encodeURIComponent(args[ai + 1])}` : '') +
  (args.includes('--no-train') ? '&train=0' : '') + (args.includes('--no-peak') ? '&peak=0' : '');

/* --photo FILE: served from the repository root */
const phi = args.indexOf('--photo'), psi = args.indexOf('--photo-source');
const onlyPhoto = args.includes('--only-photo');
const onlyNumber = args.includes('--only-number');
const photoQuery = phi >= 0
  ? `&photo=${encodeURIComponent('/' + relative(root, resolve(args[phi + 1])).split(sep).join('/'))}` +
    (psi >= 0 ? `&source=${encodeURIComponent(args[psi + 1])}` : '') + (onlyPhoto ? '&only=photo' : '')
  : onlyNumber ? '&only=number' : '';

/* --compare-module FILE --compare-wasm DIR: served from the repository root */
const urlOf = (file) => '/' + relative(root, resolve(file)).split(sep).join('/');
const cmi = args.indexOf('--compare-module'), cwi = args.indexOf('--compare-wasm');
const pairsQuery = ['--pairs', '--max-pairs'].map((k, j) => args.indexOf(k) >= 0
  ? `&${['pairs', 'maxPairs'][j]}=${Number(args[args.indexOf(k) + 1])}` : '').join('');
const comparePage = cmi >= 0 && cwi >= 0
  ? `/bench/compare.html?base=${encodeURIComponent(urlOf(args[cmi + 1]))}` +
    `&baseWasm=${encodeURIComponent(urlOf(args[cwi + 1]) + '/')}&quick=${quick ? 1 : 0}${pairsQuery}${extra}` +
    (phi >= 0 ? `&photo=${encodeURIComponent(urlOf(args[phi + 1]))}` : '')
  : null;
const wi = args.indexOf('--wasm-base');
const wasmDir = wi >= 0 ? args[wi + 1] : null;
const srv = await serveRepo({ wasmDir });
const port = srv.port;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const gz = (b) => gzipSync(b, { level: 9 }).length;

/* What a first visit downloads before the pad reads a drawing. */
async function firstLoad() {
  const ctx = await browser.newContext({ serviceWorkers: 'block' });
  const page = await ctx.newPage(), bodies = [];
  const say = (s) => process.stderr.write(`  first load: ${s}\n`);
  page.on('console', (m) => say(m.text()));
  page.on('pageerror', (e) => say(e.message));
  page.on('response', (r) => {
    if (r.status() !== 200) say(`${r.status()} ${r.url()}`);
    bodies.push(r.body().then((b) => ({
      path: new URL(r.url()).pathname.replace(/^\/web\//, ''), status: r.status(), raw: b.length, gzip: gz(b),
    })).catch(() => null));
  });
  await page.goto(`http://127.0.0.1:${port}/web/index.html?sw=0`);
  await page.waitForSelector('html[data-ready="1"]', { state: 'attached', timeout: 60000 });
  await page.waitForLoadState('networkidle');
  /* a file asked for twice (the icon: <link rel=icon> and the pad's image)
   * comes from the browser's cache the second time: counted once */
  const seen = new Set();
  const files = (await Promise.all(bodies)).filter((f) => f && f.status === 200 && !seen.has(f.path) &&
                                                   seen.add(f.path));
  await ctx.close();
  /* everything the service worker precaches (the list build-sw.mjs writes) */
  const pre = await Promise.all(precacheFiles().map(async ([, file]) => {
    const b = await readFile(file);
    return { raw: b.length, gzip: gz(b) };
  }));
  const sum = (a, k) => a.reduce((s, v) => s + v[k], 0);
  return { kind: 'firstload', target: 'chromium', files, raw: sum(files, 'raw'), gzip: sum(files, 'gzip'),
           precache: { files: pre.length, raw: sum(pre, 'raw'), gzip: sum(pre, 'gzip') } };
}

let code = 0;
try {
  if (!wasmDir && !onlyPhoto && !onlyNumber && !comparePage) console.log(JSON.stringify(await firstLoad()));
  const page = await browser.newPage();
  page.on('console', (m) => process.stderr.write(`  chromium: ${m.text()}\n`));
  await page.goto(`http://127.0.0.1:${port}` +
    (comparePage ?? `/bench/page.html?reps=${reps}&quick=${quick ? 1 : 0}${extra}${photoQuery}`));
  await page.waitForFunction(() => window.benchResults || window.benchError,
                             null, { timeout: comparePage ? 3600000 : 600000, polling: 500 });
  const err = await page.evaluate(() => window.benchError);
  if (err) throw new Error(err);
  for (const r of await page.evaluate(() => window.benchResults)) console.log(JSON.stringify(r));
} catch (e) {
  process.stderr.write(`browser.mjs: ${e.message}\n`);
  code = 1;
} finally {
  await browser.close();
  srv.close();
}
process.exit(code);
