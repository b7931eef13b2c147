// tests/browser/install.mjs: installs that last (issue 22), in headless
// Chromium: the manifest's fields (lang, screenshots with their real sizes
// and form factors, shortcuts, the dark colours), the opaque 180x180
// apple-touch-icon, the Install button on a (synthetic) beforeinstallprompt
// calling prompt() and going away, the iOS "Add to Home Screen" hint shown
// once with an iPhone user agent (and never elsewhere or from the home
// screen), navigator.storage.persist() asked when an example is saved with
// its answer shown (granted, not granted, unsupported), the saved model and
// examples listed with their sizes and the site's total, and the #train
// shortcut opening the training panel.
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { launch, openPage, openSession, closeSession, drawMouse } from './lib/harness.mjs';

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 ' +
  '(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/* {width, height, colorType, chunks} of a PNG */
function pngInfo(buf) {
  assert(buf.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])), 'not a PNG');
  const chunks = [];
  for (let p = 8; p < buf.length;) {
    const n = buf.readUInt32BE(p);
    chunks.push({ type: buf.toString('ascii', p + 4, p + 8), data: buf.subarray(p + 8, p + 8 + n) });
    p += 12 + n;
  }
  const h = chunks[0].data;
  return { width: h.readUInt32BE(0), height: h.readUInt32BE(4), depth: h[8], colorType: h[9], chunks };
}

describe('browser install', () => {
  let session = null, srv = null, b = null, page = null;
  before(async () => {
    session = await openSession();
    ({ srv, b, page } = session);
  });
  after(() => closeSession(session));
  const get = async (url) => {
    const r = await page.request.get(new URL(url, srv.url).href);
    assert(r.ok(), `${url}: HTTP ${r.status()}`);
    return r;
  };

  test('manifest: lang, screenshots, shortcuts, dark colours', async () => {
    const m = await (await get('manifest.webmanifest')).json();
    assert.equal(m.lang, 'en');
    assert(/^#[0-9a-f]{6}$/i.test(m.background_color), 'background_color');
    const dark = m.user_preferences?.color_scheme?.dark;
    assert(dark && /^#[0-9a-f]{6}$/i.test(dark.background_color) && dark.background_color !== m.background_color,
           `a dark background_color: ${JSON.stringify(dark)}`);
    const forms = new Set();
    for (const s of m.screenshots) {
      const info = pngInfo(Buffer.from(await (await get(s.src)).body()));
      assert.equal(s.sizes, `${info.width}x${info.height}`, `${s.src}: sizes`);
      assert.equal(s.type, 'image/png');
      assert(s.form_factor === 'wide' ? info.width > info.height : info.height > info.width,
             `${s.src}: form_factor ${s.form_factor} for ${s.sizes}`);
      assert(s.label, `${s.src}: label`);
      forms.add(s.form_factor);
    }
    assert.deepEqual([...forms].sort(), ['narrow', 'wide']);
    const names = m.shortcuts.map((s) => s.short_name);
    assert.deepEqual(names, ['Draw', 'Train']);
    for (const s of m.shortcuts) {
      assert(s.name && new URL(s.url, srv.url).href.startsWith(new URL(m.scope, srv.url).href),
             `shortcut ${s.name}: ${s.url} inside the scope`);
      for (const i of s.icons) await get(i.src);
    }
    const metas = await page.evaluate(() => [...document.querySelectorAll('meta[name="theme-color"]')]
      .map((e) => e.media));
    assert(metas.includes('(prefers-color-scheme: dark)'), `theme-color metas: ${metas}`);
  });

  test('apple-touch-icon: 180x180, opaque', async () => {
    const href = await page.evaluate(() => document.querySelector('link[rel="apple-touch-icon"]')?.href);
    assert(href, 'no apple-touch-icon link');
    const buf = Buffer.from(await (await get(href)).body());
    const info = pngInfo(buf);
    assert.equal(`${info.width}x${info.height}`, '180x180');
    assert(info.colorType === 2 && info.depth === 8, `colour type ${info.colorType}: RGB without alpha expected`);
    assert(!info.chunks.some((c) => c.type === 'tRNS'), 'a tRNS chunk makes a colour transparent');
    /* the pixels decode, and the corners are the theme colour (full bleed) */
    const raw = zlib.inflateSync(Buffer.concat(info.chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
    assert.equal(raw.length, 180 * (180 * 3 + 1));
    assert.deepEqual([...raw.subarray(1, 4)], [37, 99, 235], 'top-left pixel');
  });

  test('the manifest shortcuts: #train opens the training panel, #draw is the pad', async () => {
    await openPage(page, `${srv.url}#train`);
    await page.waitForFunction(() => document.getElementById('train-panel')?.open === true, null,
                               { timeout: 10000 });
    assert(await page.evaluate(() => !!document.getElementById('draw')), 'no #draw');
  });

  test('Install: hidden, shown on beforeinstallprompt, prompt() on click, then gone', async () => {
    /* headless Chromium may fire a real one once the page is installable:
     * a fresh browser with that event kept from the page first */
    const c = await launch();
    try {
      await c.context.addInitScript(() => addEventListener('beforeinstallprompt',
                                                           (e) => e.stopImmediatePropagation(), true));
      await openPage(c.page, `${srv.url}?sw=0`);
      await c.page.waitForTimeout(1000);
      assert(await c.page.isHidden('[data-testid="install"]'), 'Install shown with no install event');
    } finally {
      await c.close();
    }
    await openPage(page, srv.url);
    const prevented = await page.evaluate(() => {
      const e = new Event('beforeinstallprompt', { cancelable: true });
      window.prompted = 0;
      e.prompt = () => { window.prompted++; return Promise.resolve({ outcome: 'accepted' }); };
      e.userChoice = Promise.resolve({ outcome: 'accepted' });
      dispatchEvent(e);
      return e.defaultPrevented;
    });
    assert(prevented, 'the browser mini-infobar was not prevented');
    assert(await page.isVisible('[data-testid="install"]'), 'Install not shown');
    await page.click('[data-testid="install"]');
    assert.equal(await page.evaluate(() => window.prompted), 1, 'prompt() not called once');
    assert(await page.isHidden('[data-testid="install"]'), 'Install still shown after prompting');
    await page.click('body', { position: { x: 5, y: 5 } });
    assert.equal(await page.evaluate(() => window.prompted), 1);
  });

  test('iOS: the Add to Home Screen hint shows once, and not elsewhere', async () => {
    assert(await page.isHidden('[data-testid="ios-hint"]'), 'hint shown in desktop Chromium');
    const ios = await launch({ userAgent: IPHONE, viewport: { width: 390, height: 844 }, isMobile: true,
                              hasTouch: true });
    try {
      await openPage(ios.page, srv.url);
      assert(await ios.page.isVisible('[data-testid="ios-hint"]'), 'no hint on an iPhone');
      assert(/Add to Home Screen/.test(await ios.page.textContent('[data-testid="ios-hint"]')));
      await ios.page.click('[data-testid="ios-hint-close"]');
      assert(await ios.page.isHidden('[data-testid="ios-hint"]'), '× does not dismiss it');
      await openPage(ios.page, srv.url);
      assert(await ios.page.isHidden('[data-testid="ios-hint"]'), 'shown a second time');
      /* started from the home screen: never */
      await ios.page.evaluate(() => localStorage.clear());
      await ios.context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'standalone',
                                                                  { get: () => true }));
      await openPage(ios.page, srv.url);
      assert(await ios.page.isHidden('[data-testid="ios-hint"]'), 'shown in standalone mode');
      assert.deepEqual(ios.errors, []);
    } finally {
      await ios.close();
    }
  });

  test('saving an example asks for persistent storage and shows the answer', async () => {
    await openPage(page, srv.url);
    await page.click('[data-testid="personal-panel"] > summary');
    await drawMouse(page, 7);
    await page.click('[data-testid="label-7"]');
    await page.waitForFunction(() => document.documentElement.dataset.persist, null, { timeout: 10000 });
    const p = await page.evaluate(() => document.documentElement.dataset.persist);
    assert(['granted', 'not granted'].includes(p), `persist: ${p}`);
    const toast = await page.textContent('#toast-text');
    assert(new RegExp(p === 'granted' ? 'is persistent' : 'is not persistent').test(toast), toast);
    assert(await page.isVisible('#toast'), 'the answer is not shown');
  });

  test('the answer, granted or unsupported', async () => {
    for (const [stub, want, text] of [
      [() => { StorageManager.prototype.persist = () => Promise.resolve(true); }, 'granted', /is persistent/],
      [() => { delete StorageManager.prototype.persist; }, 'unsupported', /cannot make storage persistent/],
    ]) {
      const c = await launch();
      try {
        await c.context.addInitScript(stub);
        await openPage(c.page, srv.url);
        await c.page.click('[data-testid="personal-panel"] > summary');
        await drawMouse(c.page, 1);
        await c.page.click('[data-testid="label-1"]');
        await c.page.waitForFunction(() => document.documentElement.dataset.persist, null, { timeout: 10000 });
        assert.equal(await c.page.evaluate(() => document.documentElement.dataset.persist), want);
        assert(text.test(await c.page.textContent('#toast-text')), await c.page.textContent('#toast-text'));
      } finally {
        await c.close();
      }
    }
  });

  test('saved work is listed with sizes and the site total', async () => {
    /* one more example (two now) and a saved model of 40,000 bytes */
    await drawMouse(page, 1);
    await page.click('[data-testid="label-1"]');
    await page.evaluate(() => import('./store.js').then((s) => s.saveModel({
      bytes: new Uint8Array(40000), name: 'test net', arch: 'mlp', testAccuracy: 0.9,
      date: new Date().toISOString() })));
    await page.click('[data-testid="saved-panel"] > summary');
    await page.waitForFunction(() => document.querySelector('[data-testid="saved-examples"]') &&
                               document.querySelector('[data-testid="saved-model"]') &&
                               /KB/.test(document.querySelector('[data-testid="storage-total"]').textContent),
                               null, { timeout: 10000 });
    const rows = await page.$$eval('[data-testid="saved-list"] li', (li) => li.map((e) => ({
      id: e.dataset.testid, bytes: Number(e.dataset.bytes), text: e.textContent })));
    const model = rows.find((r) => r.id === 'saved-model'), ex = rows.find((r) => r.id === 'saved-examples');
    assert(model.bytes >= 40000 && model.bytes < 41000 && /test net/.test(model.text) &&
           /39\.\d KB|40\.\d KB/.test(model.text), JSON.stringify(model));
    assert(/^2 personal examples/.test(ex.text) && ex.bytes >= 2 * 784 && ex.bytes < 2 * 784 + 400 &&
           new RegExp(`${(ex.bytes / 1024).toFixed(1)} KB`).test(ex.text), JSON.stringify(ex));
    const total = await page.textContent('[data-testid="storage-total"]');
    const used = Number(/uses ([\d.]+) KB/.exec(total)?.[1]);
    assert(used * 1024 >= 40000, `the site total (navigator.storage.estimate): ${total}`);
    assert(/persistent/.test(await page.textContent('[data-testid="persist-status"]')), 'persist status');
  });

  test('no console errors', () => {
    assert.deepEqual(b.errors, []);
  });
});
