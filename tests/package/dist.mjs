// tests/package/dist.mjs: the page as static files (tools/pack.mjs dist,
// what `./build.sh dist` does) served by a plain static server under
// /some/sub/path/ and nothing else: the page loads, reads a drawn 7, every
// request stays under the sub-path and is found; the service worker takes
// control, and with the network gone (browser offline, server stopped) a
// reload still loads and reads. Runs after ./build.sh build.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, launch, drawMouse, reading } from '../browser/lib/harness.mjs';
import { serveStatic } from './lib/static.mjs';

const PREFIX = '/some/sub/path/';
const tmpBase = process.env.DIGITS_TMP || os.tmpdir();
fs.mkdirSync(tmpBase, { recursive: true });
const out = fs.mkdtempSync(path.join(tmpBase, 'dist-'));
process.on('exit', () => { if (!process.exitCode) fs.rmSync(out, { recursive: true, force: true }); });

async function readSeven(page) {
  await page.click('[data-testid="clear"]');
  await drawMouse(page, 7);
  await page.waitForFunction(() => document.querySelector('[data-testid="prediction"]').dataset.state !== 'empty',
                             null, { timeout: 20000 });
  return reading(page);
}

describe('static dist under a sub-path', () => {
  let srv = null, b = null, page = null;
  before(async () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'tools', 'pack.mjs'), 'dist', '--out', out],
                        { encoding: 'utf8' });
    console.log(`${r.stdout}${r.stderr}`.trim());
    assert.ok(r.status === 0, 'tools/pack.mjs dist succeeds');
    srv = await serveStatic(out, PREFIX);
    b = await launch();
    page = b.page;
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  test('the folder: page, service worker, builds, models; no sources or tools', () => {
    for (const f of ['index.html', 'app.js', 'sw.js', 'manifest.webmanifest', 'lib/digits.js',
                     'build/digits-simd.wasm', 'build/digits-plain.wasm', 'build/digits-relaxed.wasm',
                     'build/models.json', 'build/mnist-subset.bin', 'models/default.safetensors'])
      assert.ok(fs.existsSync(path.join(out, f)), `${f} is in dist`);
    for (const f of ['sw-src.js', 'serve.mjs', 'tools', 'lib/digits.d.ts'])
      assert.ok(!fs.existsSync(path.join(out, f)), `${f} is not in dist`);
  });

  test('served under /some/sub/path/: loads and reads a drawn 7, every request under the prefix', async () => {
    await page.goto(srv.url);
    await page.waitForSelector('html[data-ready="1"]', { timeout: 30000 });
    const got = await readSeven(page);
    assert.ok(got.digit === 7, `reads 7: ${JSON.stringify(got)}`);
    const bad = srv.log.filter(([st, p]) => st !== 200 || !p.startsWith(PREFIX));
    assert.deepEqual(bad, [], 'every request found, under the sub-path');
  });

  test('offline after the first visit: the service worker serves the page', async () => {
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null &&
                               document.documentElement.dataset.offlineReady === '1',
                               null, { timeout: 30000 });
    const scope = await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r.scope));
    assert.equal(new URL(scope).pathname, PREFIX, 'the worker is scoped to the sub-path');
    await srv.stop();
    srv = null;
    await b.context.setOffline(true);
    await page.reload();
    await page.waitForSelector('html[data-ready="1"]', { timeout: 30000 });
    const got = await readSeven(page);
    assert.ok(got.digit === 7, `offline, reads 7: ${JSON.stringify(got)}`);
    await b.context.setOffline(false);
  });

  test('no console errors', () => {
    assert.deepEqual(b.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|net::/.test(e)), []);
  });
});
