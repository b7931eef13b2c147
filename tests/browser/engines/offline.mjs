// tests/browser/engines/offline.mjs ENGINE: offline in one engine (firefox
// or webkit; Chromium's run is tests/browser/offline.mjs): the service
// worker installs and controls the page, then the test's server is stopped
// and the page reloaded: it loads, picks its build and reads a drawn 7
// from the cache alone. Exit 77 without the engine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { requireEngine, openSession, closeSession, openPage, draw, reading, waitFor, label }
  from '../lib/page-kit.mjs';

const ENGINE = requireEngine();

describe(`offline in ${ENGINE}`, () => {
  let s = null, d = null, build = null;
  before(async () => {
    s = await openSession(ENGINE, { width: 1024, height: 768 });
    d = s.d;
  });
  after(() => closeSession(s));

  test('the service worker installs and controls the page', async () => {
    await openPage(d, s.srv.url);
    console.log(`     ${label(d)}`);
    build = await d.evaluate(() => document.documentElement.dataset.build);
    await waitFor(d, () => document.documentElement.dataset.offlineReady === '1', null,
                  { timeout: 60000, what: 'the service worker to install' });
    /* the first load may finish before the worker claims it */
    await openPage(d, s.srv.url);
    await waitFor(d, () => navigator.serviceWorker.controller !== null, null,
                  { timeout: 20000, what: 'a controlling service worker' });
  });

  test('server stopped: a reload still loads and predicts', async () => {
    await s.srv.stop();
    const down = await fetch(s.srv.url).then(() => 'up', () => 'down');
    assert(down === 'down', 'the server still answers');
    await openPage(d, s.srv.url);
    const b = await d.evaluate(() => document.documentElement.dataset.build);
    assert(b === build, `build ${b}, online it was ${build}`);
    await draw(d, 7);
    const r = await reading(d);
    assert(r.digit === 7, `offline: ${JSON.stringify(r)}`);
  });

  test('no console errors', () => {
    assert(d.errors.length === 0, d.errors.join('\n'));
  });
});
