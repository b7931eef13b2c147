// tests/browser/train.mjs: the training panel (web/train.js, train-worker.js)
// in headless Chromium: the subset loads when the panel opens; one epoch of
// mlp reaches >= 90% test accuracy while the progress bar, images/s and
// the curves update; the trained model becomes the pad's model; the small
// CNN trains with pause and resume; the downloaded .safetensors gives the
// same accuracy in native `digits eval` on the same 2,000 test images;
// the saved model and personal examples survive a reload with the network
// off, and fine-tuning works there; examples export and import; a
// truncated or corrupted subset file gives a clear error and Retry
// recovers. Prints the in-browser training speed (images/s) of mlp and the
// small CNN (never asserted). node:test: `node --test-name-pattern=REGEX`
// runs some; exit status 1 on failure.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { ROOT, launch, openPage, drawMouse, reading, openSession, closeSession }
  from './lib/harness.mjs';
import { checkSubset, splitSubset } from '../../web/lib/subset.js';

const DIGITS = process.env.DIGITS || path.join(ROOT, 'build', 'digits');
const SUBSET = path.join(process.env.DIGITS_WASM || path.join(ROOT, 'web', 'build'), 'mnist-subset.bin');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'digits-train-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const speeds = {};

const sel = (id) => `[data-testid="${id}"]`;
/* the panels are below the pad: scroll it back before drawing */
async function draw(page, digit) {
  await page.evaluate(() => scrollTo(0, 0));
  await page.click(sel('clear'));
  await drawMouse(page, digit);
}
const data = (page, id, key) => page.locator(sel(id)).evaluate((el, k) => el.dataset[k] ?? null, key);

async function openTraining(page) {
  await page.waitForSelector(sel('train-panel'));
  await page.click(`${sel('train-panel')} > summary`);
  await page.waitForFunction(() => ['ready', 'error'].includes(
    document.querySelector('[data-testid="train-panel"]').dataset.data), null, { timeout: 60000 });
}

/* Start a run and wait for it to finish: {accuracy, correct, ips} */
async function trainRun(page, { arch, epochs = 1, batch = '32', lr = '0.001' }, during) {
  const doneBefore = Number(await data(page, 'train-panel', 'done') ?? 0);
  await page.selectOption(sel('train-arch'), arch);
  await page.fill(sel('train-epochs'), String(epochs));
  await page.selectOption(sel('train-batch'), batch);
  await page.selectOption(sel('train-lr'), lr);
  await page.click(sel('train-start'));
  if (during) await during();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="train-panel"]')
    .dataset.done ?? 0) > n, doneBefore, { timeout: 240000, polling: 200 });
  return {
    accuracy: Number(await data(page, 'test-accuracy', 'value')),
    correct: Number(await data(page, 'test-accuracy', 'correct')),
    text: await page.textContent(sel('test-accuracy')),
    valAccuracy: Number(await data(page, 'val-accuracy', 'value')),
    valText: await page.textContent(sel('val-accuracy')),
    ips: Number(await data(page, 'train-panel', 'ips')),
    epochIps: Number(await data(page, 'images-per-second', 'epochValue')),
  };
}

describe('browser train', () => {
  let srv = null, b = null, b2 = null, page = null, mlp = null;
  before(async () => {
    ({ srv, b, page } = await openSession());
  });
  after(async () => {
    await closeSession({ srv, b }, b2);
    if (speeds.mlp || speeds.cnn)
      console.log(`in-browser training speed (headless Chromium, ${process.env.DIGITS_SIMD === '0' ? 'plain' : 'SIMD'}): ` +
                  `mlp ${speeds.mlp?.ips ?? '?'} images/s (first epoch), ${speeds.mlpWarm ?? '?'} (second), small CNN ${speeds.cnn?.ips ?? '?'} images/s ` +
                  '(targets: one 10,000-image epoch of mlp < 1 s, of the small CNN < 10 s)');
  });

  test('opening the panel loads the subset (10,000 + 2,000 digits)', async () => {
    const before = await page.evaluate(() => performance.getEntriesByType('resource')
      .filter((e) => e.name.includes('mnist-subset')).length);
    assert(before === 0, 'the subset was fetched before the panel opened');
    await openTraining(page);
    const status = await page.textContent(sel('data-status'));
    assert(/10,000 training and 2,000 test/.test(status), `status: ${status}`);
    assert(!(await page.isDisabled(sel('train-start'))), 'start stays disabled');
  });

  test('one epoch of mlp: >= 90% test accuracy, progress and curves update', async () => {
    await page.evaluate(() => {
      window.__long = [];
      new PerformanceObserver((l) => window.__long.push(...l.getEntries().map((e) => e.duration)))
        .observe({ type: 'longtask' });
    });
    const seen = new Set();
    mlp = await trainRun(page, { arch: 'mlp' }, async () => {
      for (let i = 0; i < 40; i++) {
        const v = await page.evaluate(() => document.querySelector('[data-testid="train-progress"]').value);
        seen.add(v);
        if (await data(page, 'train-panel', 'state') === 'idle') break;
        await page.waitForTimeout(50);
      }
    });
    const long = await page.evaluate(() => window.__long);
    speeds.mlp = mlp;
    console.log(`mlp: test accuracy ${mlp.text}, ${mlp.ips} images/s (${(10000 / mlp.ips).toFixed(2)} s per epoch); ` +
                `main-thread long tasks while training: ${long.length ? long.map(Math.round).join(', ') + ' ms' : 'none'}`);
    assert(mlp.accuracy >= 0.9 && /^\d+\.\d%$/.test(mlp.text), `test accuracy ${mlp.text}`);
    /* the C epoch loop validates on the last tenth of the training digits */
    assert(mlp.valAccuracy >= 0.85 && /^\d+\.\d%$/.test(mlp.valText),
           `validation accuracy ${mlp.valText}`);
    assert(seen.size >= 2 || mlp.ips > 10000, `progress values seen: ${[...seen].join(' ')}`);
    const points = Number(await data(page, 'train-chart', 'points'));
    assert(points >= 1, `chart points ${points}`);
    assert(await data(page, 'confusion', 'total') === '2000', 'confusion matrix total');
    assert(await data(page, 'test-grid', 'wrong') !== null, 'grid of guesses drawn');
    const ips = await page.textContent(sel('images-per-second'));
    assert(/[\d,]+ images\/s/.test(ips), `images/s "${ips}"`);
  });

  test('the trained model is the pad\'s model at once; one click back to default', async () => {
    const m = await page.getAttribute('html', 'data-model');
    assert(m === 'trained in browser', `pad model ${m}`);
    await draw(page, 7);
    const r = await reading(page);
    assert(r.digit !== null, `trained model reads ${JSON.stringify(r)}`);
    await page.click(sel('use-default'));
    await page.waitForFunction(() => document.documentElement.dataset.model === 'default');
    await page.selectOption(sel('model'), { label: (await page.locator(`${sel('model')} option`)
      .allTextContents()).find((s) => s.startsWith('trained in browser')) });
    await page.waitForFunction(() => document.documentElement.dataset.model === 'trained in browser');
  });

  test('the downloaded model gives the same accuracy in native digits eval', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click(sel('model-download'))]);
    const file = path.join(tmp, 'trained.safetensors');
    await dl.saveAs(file);
    const h = checkSubset(new Uint8Array(fs.readFileSync(SUBSET)));
    const s = splitSubset(h, new Uint8Array(zlib.gunzipSync(h.payload)));
    const dir = path.join(tmp, 'data');
    fs.mkdirSync(dir);
    const idx = (name, dims, bytes) => {
      const head = Buffer.alloc(4 + 4 * dims.length);
      head[2] = 8;
      head[3] = dims.length;
      dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
      fs.writeFileSync(path.join(dir, name), Buffer.concat([head, Buffer.from(bytes)]));
    };
    for (const split of ['train', 't10k']) {
      idx(`${split}-images-idx3-ubyte`, [s.ntest, 28, 28], s.testImages);
      idx(`${split}-labels-idx1-ubyte`, [s.ntest], s.testLabels);
    }
    const ev = spawnSync(DIGITS, ['eval', '--model', file, '--data', dir], { encoding: 'utf8' });
    const m = /accuracy\s+([\d.]+)%\s+\((\d+)\/(\d+)\)/.exec(ev.stdout);
    assert(ev.status === 0 && m, `digits eval failed: ${ev.stderr}${ev.stdout}`);
    console.log(`native digits eval: ${m[1]}% (${m[2]}/${m[3]}); page: ${mlp.text} (${mlp.correct}/2000)`);
    assert(Number(m[3]) === 2000 && Math.abs(Number(m[2]) - mlp.correct) <= 1,
           `native ${m[2]}/${m[3]} vs page ${mlp.correct}/2000`);
  });

  test('small CNN: pause holds, resume continues, the epoch finishes', async () => {
    const cnn = await trainRun(page, { arch: 'small-cnn' }, async () => {
      await page.waitForFunction(() => Number(document.querySelector('[data-testid="train-progress"]')
        .dataset.step ?? 0) > 20, null, { timeout: 60000 });
      await page.click(sel('train-pause'));
      await page.waitForFunction(() => document.querySelector('[data-testid="train-panel"]')
        .dataset.state === 'paused');
      const step = await data(page, 'train-progress', 'step');
      await page.waitForTimeout(700);
      const still = await data(page, 'train-progress', 'step');
      assert(step === still, `progress moved while paused: ${step} -> ${still}`);
      assert(!(await page.isDisabled(sel('train-resume'))), 'resume disabled while paused');
      await page.click(sel('train-resume'));
      await page.waitForFunction((s0) => document.querySelector('[data-testid="train-progress"]')
        .dataset.step !== s0, step, { timeout: 30000 });
    });
    speeds.cnn = cnn;
    console.log(`small CNN: test accuracy ${cnn.text}, ${cnn.ips} images/s (${(10000 / cnn.ips).toFixed(1)} s per epoch)`);
    assert(cnn.accuracy > 0.8, `small CNN test accuracy ${cnn.text}`);
  });

  test('speed: a second mlp epoch once the engine has warmed up (reported only)', async () => {
    const r = await trainRun(page, { arch: 'mlp', epochs: 2 });
    speeds.mlpWarm = r.epochIps;
    console.log(`mlp, epoch 2 of 2: ${r.epochIps} images/s (${(10000 / r.epochIps).toFixed(2)} s per epoch), test ${r.text}`);
    assert(r.accuracy >= 0.9, `two epochs of mlp: ${r.text}`);
    assert(r.valAccuracy >= 0.9, `two epochs of mlp, validation: ${r.valText}`);
  });

  test('stop ends a run early and the pad gets that model', async () => {
    const r = await trainRun(page, { arch: 'mlp', epochs: 5 }, async () => {
      await page.waitForFunction(() => Number(document.querySelector('[data-testid="train-progress"]')
        .dataset.step ?? 0) > 10, null, { timeout: 60000 });
      await page.click(sel('train-stop'));
    });
    const epochs = Number(await data(page, 'train-panel', 'epochs') ?? 0);
    assert(r.accuracy > 0.5 && epochs < 5, `stopped run: ${r.text}, ${epochs} epochs done`);
    const note = await page.textContent(sel('train-note'));
    assert(/^Stopped/.test(note), `note "${note}"`);
  });

  test('save the model, store personal examples, export and import', async () => {
    await page.click(sel('model-save'));
    await page.waitForFunction(() => document.querySelector('[data-testid="train-panel"]').dataset.saved === '1');
    await page.click(`${sel('personal-panel')} > summary`);
    for (const d of [7, 1]) {
      await draw(page, d);
      await reading(page);
      await page.waitForSelector(`${sel(`label-${d}`)}:not([disabled])`);
      await page.click(sel(`label-${d}`));
    }
    await page.waitForFunction(() => document.querySelector('[data-testid="personal-panel"]').dataset.count === '2');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click(sel('examples-export'))]);
    const file = path.join(tmp, 'examples.json');
    await dl.saveAs(file);
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert(j.examples.length === 2 && j.examples.map((e) => e.label).join() === '7,1', 'exported labels');
    await page.setInputFiles(sel('examples-import'), file);
    await page.waitForFunction(() => document.querySelector('[data-testid="personal-panel"]').dataset.count === '4');
    /* delete one again */
    await page.locator(`${sel('example-list')} li button`).first().click();
    await page.waitForFunction(() => document.querySelector('[data-testid="personal-panel"]').dataset.count === '3');
  });

  test('offline reload: saved model and examples are there; fine-tuning works', async () => {
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null &&
      document.documentElement.dataset.offlineReady === '1', null, { timeout: 30000 });
    await b.context.setOffline(true);
    await openPage(page, srv.url);
    await page.waitForFunction(() => document.querySelector('[data-testid="train-panel"]')?.dataset.storeChecked === '1');
    const options = await page.locator(`${sel('model')} option`).allTextContents();
    const saved = options.find((s) => s.startsWith('saved in browser'));
    assert(saved, `options: ${options.join(' | ')}`);
    await page.selectOption(sel('model'), { label: saved });
    await page.waitForFunction(() => document.documentElement.dataset.model === 'saved in browser');
    await draw(page, 1);
    const r = await reading(page);
    assert(r.digit !== null, `saved model reads ${JSON.stringify(r)}`);
    await page.click(`${sel('personal-panel')} > summary`);
    await page.waitForFunction(() => document.querySelector('[data-testid="personal-panel"]').dataset.count === '3');
    await page.click(sel('finetune'));
    await page.waitForFunction(() => document.querySelector('[data-testid="finetune-result"]').dataset.after,
                               null, { timeout: 120000 });
    const res = await page.textContent(sel('finetune-result'));
    console.log(`fine-tune (offline): ${res}`);
    const after = Number(await data(page, 'finetune-result', 'after'));
    assert(after >= 0.66, `accuracy on own examples after fine-tuning: ${res}`);
    assert(await page.getAttribute('html', 'data-model') === 'fine-tuned', 'pad uses the fine-tuned model');
    await b.context.setOffline(false);
  });

  test('a truncated or corrupted subset file gives a clear message; Retry recovers', async () => {
    b2 = await launch();
    const full = fs.readFileSync(SUBSET);
    const corrupt = Buffer.from(full);
    corrupt[corrupt.length >> 1] ^= 0x55;
    let mode = 'truncate';
    await b2.context.route('**/mnist-subset.bin', (route) => route.fulfill({
      status: 200, contentType: 'application/octet-stream',
      body: mode === 'truncate' ? full.subarray(0, full.length >> 1) : mode === 'corrupt' ? corrupt : full }));
    await openPage(b2.page, `${srv.url}?sw=0`);
    await openTraining(b2.page);
    const msg = await b2.page.textContent(sel('data-status'));
    assert(/Cannot load the training data: .*truncated/.test(msg), `message "${msg}"`);
    assert(await b2.page.isVisible(sel('data-retry')), 'no Retry button');
    assert(await b2.page.isDisabled(sel('train-start')), 'start enabled without data');
    mode = 'corrupt';
    await b2.page.click(sel('data-retry'));
    await b2.page.waitForFunction(() => /checksum/.test(document.querySelector('[data-testid="data-status"]')
      .textContent), null, { timeout: 60000 });
    mode = 'full';
    await b2.page.click(sel('data-retry'));
    await b2.page.waitForFunction(() => document.querySelector('[data-testid="train-panel"]').dataset.data === 'ready',
                                  null, { timeout: 60000 });
  });

  test('no console errors', async () => {
    const errors = [...b.errors, ...(b2?.errors ?? [])].filter((e) => !/net::ERR_INTERNET_DISCONNECTED/.test(e));
    assert(errors.length === 0, errors.join('\n'));
  });
});
