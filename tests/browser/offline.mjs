// tests/browser/offline.mjs: the installable web app in headless Chromium.
// The service worker installs and controls the page; a changed worker is
// offered as "Update available", and Reload switches to it and deletes the
// old version's cache; with the network off (context offline and the
// server stopped) a reload still loads, predicts, shows the offline badge,
// and ?simd=0 still gets its plain build. Of the three .wasm builds only
// the one this browser picks (relaxed) is precached; the plain build is
// cached when ?simd=0 first fetches it online. Serves a copy of web/ so the test
// can change sw.js. Prints "N passed, N failed"; exit status 1 on failure.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, startServer, launch, openPage, drawMouse, reading }
  from './lib/harness.mjs';

const web = fs.mkdtempSync(path.join(os.tmpdir(), 'digits-web-'));
fs.cpSync(path.join(ROOT, 'web'), web, { recursive: true });
process.on('exit', () => fs.rmSync(web, { recursive: true, force: true }));
const models = path.join(ROOT, 'models');

const swVersion = (page) => page.evaluate(() => new Promise((resolve) => {
  const ch = new MessageChannel();
  ch.port1.onmessage = (e) => resolve(e.data);
  navigator.serviceWorker.controller.postMessage({ type: 'VERSION' }, [ch.port2]);
}));

describe('browser offline', () => {
  let srv = null, b = null, page = null, port = null, v1 = null;
  before(async () => {
    assert(fs.existsSync(path.join(web, 'sw.js')), 'web/sw.js is missing: run ./build.sh build');
    srv = await startServer({ web, models });
    port = new URL(srv.url).port;
    b = await launch();
    page = b.page;
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  test('service worker installs, precaches and controls the page', async () => {
    await openPage(page, srv.url);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null &&
                               document.documentElement.dataset.offlineReady === '1',
                               null, { timeout: 30000 });
    v1 = await swVersion(page);
    const names = await page.evaluate(() => caches.keys());
    assert(names.includes(`digits-precache-${v1}`), `caches: ${names.join(', ')}`);
    const n = await page.evaluate((name) => caches.open(name).then((c) => c.keys())
      .then((k) => k.map((r) => new URL(r.url).pathname)), `digits-precache-${v1}`);
    for (const need of ['/index.html', '/app.js', '/lib/digits.js', '/build/digits-relaxed.wasm',
                        '/models/default.safetensors', '/manifest.webmanifest', '/icons/icon-512.png',
                        '/icons/apple-touch-icon.png', '/lib/digits-worker.js'])
      assert(n.includes(need), `${need} not precached (${n.join(' ')})`);
    for (const not of ['/build/digits-simd.wasm', '/build/digits-plain.wasm', '/lib/digits-node.js',
                       '/build/mnist-subset.bin', '/icons/screenshot-wide.png'])
      assert(!n.includes(not), `${not} precached`);
  });

  test('manifest is served with its type and is complete', async () => {
    const res = await page.request.get(`${srv.url}manifest.webmanifest`);
    assert(/application\/manifest\+json/.test(res.headers()['content-type']), 'manifest type');
    const m = await res.json();
    const sizes = m.icons.map((i) => `${i.sizes}/${i.purpose}`);
    for (const s of ['192x192/any', '512x512/any', '192x192/maskable', '512x512/maskable'])
      assert(sizes.includes(s), `icon ${s} missing`);
    assert(m.display === 'standalone' && m.theme_color && m.short_name && m.start_url && m.scope,
           'manifest fields');
    const w = await page.request.get(`${srv.url}build/digits-simd.wasm`);
    assert(w.headers()['content-type'] === 'application/wasm', 'wasm type');
  });

  test('a new worker is offered as an update; Reload switches and cleans up', async () => {
    const file = path.join(web, 'sw.js');
    const src = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, src.replace(/const VERSION = "[^"]+";/, 'const VERSION = "test-v2";'));
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r.update()));
    await page.waitForFunction(() => !document.getElementById('toast').hidden &&
      /Update available/.test(document.getElementById('toast').textContent), null,
      { timeout: 20000 });
    await Promise.all([page.waitForEvent('load', { timeout: 20000 }),
                       page.click('[data-testid="update-reload"]')]);
    await page.waitForSelector('html[data-ready="1"]');
    const v2 = await swVersion(page);
    assert(v2 === 'test-v2', `controller version ${v2}`);
    await page.waitForFunction(() => caches.keys().then((k) =>
      !k.some((n) => n.startsWith('digits-precache-') && n !== 'digits-precache-test-v2')));
  });

  test('online, ?simd=0 fetches the plain build once; the worker keeps it', async () => {
    await openPage(page, `${srv.url}?simd=0`);
    assert(await page.getAttribute('html', 'data-simd') === '0', 'not the plain build');
    await page.waitForFunction(() => caches.keys().then((k) => Promise.all(k.map((n) => caches.open(n)
      .then((c) => c.match('build/digits-plain.wasm'))))).then((r) => r.some(Boolean)), null,
                               { timeout: 10000 });
  });

  test('offline: reload still loads and predicts', async () => {
    await b.context.setOffline(true);
    await srv.stop();
    srv = null;
    await openPage(page, `http://127.0.0.1:${port}/`);
    const badge = await page.isVisible('[data-testid="network"]');
    assert(badge, 'offline badge not shown');
    const build = await page.getAttribute('html', 'data-build');
    assert(build === 'relaxed', `offline: the relaxed-SIMD build from the cache, not ${build}`);
    await drawMouse(page, 7);
    const r = await reading(page);
    assert(r.digit === 7, `offline: ${JSON.stringify(r)}`);
  });

  test('offline: ?simd=0 gets the plain build and predicts', async () => {
    await openPage(page, `http://127.0.0.1:${port}/?simd=0`);
    assert(await page.getAttribute('html', 'data-simd') === '0', 'not the plain build');
    await drawMouse(page, 1);
    const r = await reading(page);
    assert(r.digit === 1, `offline plain: ${JSON.stringify(r)}`);
  });

  test('offline: random MNIST digit works', async () => {
    await page.click('[data-testid="random"]');
    /* the sample set loads (from the cache) after the click: wait for it */
    await page.waitForFunction(
      () => document.querySelector('[data-testid="sample-label"]')?.getAttribute('data-label'),
      null, { timeout: 15000 }).catch(() => {});
    const label = await page.getAttribute('[data-testid="sample-label"]', 'data-label');
    assert(label, 'no sample label');
  });

  test('no console errors', async () => {
    /* the offline reloads log failed network requests for nothing: only
     * page errors and our own errors count */
    const errors = b.errors.filter((e) => !/net::ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e));
    assert(errors.length === 0, errors.join('\n'));
  });
});
