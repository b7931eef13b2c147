// tests/browser/engines/phone.mjs ENGINE: small screens and missing
// features in one engine (chromium, firefox or webkit). At 375x553 (an
// iPhone SE with its browser bars) and 360x640 the digit and its
// confidence are on screen while the pad is drawn on, without scrolling;
// with OffscreenCanvas, DecompressionStream, relaxed SIMD or all SIMD taken
// away by the init script (lib/test-init.js) the page still reads a drawn
// 7, on the build that is left. One browser for the file; exit 77 without
// the engine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { requireEngine, openSession, closeSession, openPage, draw, reading, clearPad, label }
  from '../lib/page-kit.mjs';
import { SHAPES } from '../lib/harness.mjs';

const ENGINE = requireEngine();
const TOUCH = ENGINE !== 'webkit';
const BUILD = { chromium: 'relaxed', firefox: 'relaxed', webkit: 'simd' }[ENGINE];

/* Where the digit and confidence are seen: the corner copy over the pad
 * where shown, else the reading panel; each box and whether it is inside
 * the viewport. */
const seen = (inFrame) => {
  const f = inFrame ? document.getElementById('f') : null;
  const document_ = f ? f.contentDocument : document, win = f ? f.contentWindow : window;
  const { innerWidth, innerHeight, scrollY, getComputedStyle } = win;
  const vis = (el) => el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden' &&
    Number(getComputedStyle(el).opacity) > 0.5;
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return { top: Math.round(r.top), bottom: Math.round(r.bottom), left: Math.round(r.left),
             right: Math.round(r.right) };
  };
  const inView = (b) => b.top >= 0 && b.left >= 0 && b.bottom <= innerHeight && b.right <= innerWidth;
  const q = (id) => document_.querySelector(`[data-testid="${id}"]`);
  const corner = q('pad-reading'), big = q('prediction'), conf = q('confidence');
  const pad = box(q('pad'));
  const out = { viewport: [innerWidth, innerHeight], scrollY, pad, padInView: inView(pad) };
  if (vis(corner)) {
    const b = box(corner);
    Object.assign(out, { where: 'corner', text: corner.textContent, box: b, ok: inView(b) });
  } else {
    const b1 = box(big), b2 = box(conf);
    Object.assign(out, { where: 'panel', text: `${big.textContent} ${conf.textContent}`, box: b1,
                         ok: inView(b1) && inView(b2) });
  }
  return out;
};

/* The page in a w x h iframe at (0, 0) of a blank page of the same origin. */
async function inIframe(d, url, w, h) {
  await d.goto(`${url}manifest.webmanifest`);
  await d.evaluate(([src, fw, fh]) => new Promise((resolve) => {
    document.documentElement.innerHTML = '<body style="margin:0"></body>';
    const f = document.createElement('iframe');
    f.id = 'f';
    f.style.cssText = `border:0;display:block;width:${fw}px;height:${fh}px`;
    f.src = src;
    document.body.append(f);
    const wait = () => (f.contentDocument?.documentElement.dataset.ready === '1' ? resolve()
      : setTimeout(wait, 50));
    wait();
  }), [`${url}?sw=0`, w, h]);
}

/* Draw a digit with the mouse on the iframe's pad; its settled reading. */
async function drawInFrame(d, digit) {
  const b = await d.evaluate(() => {
    const r = document.getElementById('f').contentDocument.querySelector('[data-testid="pad"]')
      .getBoundingClientRect();
    return { x: r.left, y: r.top, width: r.width, height: r.height };
  });
  for (const line of SHAPES[digit])
    await d.stroke(line.map(([x, y]) => [b.x + x * b.width, b.y + y * b.height]));
  await new Promise((r) => setTimeout(r, 500));
  return d.evaluate(() => {
    const el = document.getElementById('f').contentDocument.querySelector('[data-testid="prediction"]');
    return { state: el.dataset.state, digit: el.dataset.digit === '' ? null : Number(el.dataset.digit) };
  });
}

describe(`phone-sized page in ${ENGINE}`, () => {
  let s = null, d = null;
  before(async () => {
    s = await openSession(ENGINE, { width: 375, height: 553, touch: TOUCH, dpr: 2 });
    d = s.d;
    await openPage(d, s.srv.url);
    console.log(`     ${label(d)}`);
  });
  after(() => closeSession(s));

  for (const [w, h] of [[375, 553], [360, 640]]) {
    test(`${w}x${h}: digit and confidence on screen while drawing`, async () => {
      await d.resize(w, h);
      await openPage(d, s.srv.url);
      /* WebKitGTK's MiniBrowser window is at least ~447 px wide: there the
       * page is measured in a w x h iframe at the top left (its own
       * viewport for the media queries) */
      const inFrame = await d.evaluate(() => innerWidth) > w;
      if (inFrame) await inIframe(d, s.srv.url, w, h);
      else await clearPad(d);
      /* the layout does not change when the finger lifts: measured after */
      const r = inFrame ? await drawInFrame(d, 7) : (await draw(d, 7, { touch: TOUCH }), await reading(d));
      const m = await d.evaluate(seen, inFrame);
      const b = m.pad;
      console.log(`     ${w}x${h}${inFrame ? ' (iframe)' : ''}: pad ${m.pad.top}-${m.pad.bottom}, reading (${m.where}) ` +
                  `at y ${m.box.top}-${m.box.bottom}: "${m.text}"`);
      assert(r.digit === 7, `reads ${JSON.stringify(r)}`);
      assert(m.viewport[0] === w && m.viewport[1] === h, `viewport ${m.viewport}`);
      assert(m.scrollY === 0 && m.padInView, `scrolled ${m.scrollY}, pad ${JSON.stringify(m.pad)}`);
      assert(m.ok, `the reading is off screen: ${JSON.stringify(m)}`);
      assert(/7/.test(m.text) && /%/.test(m.text), `shown: "${m.text}"`);
      assert(b.right - b.left > 200, `pad ${JSON.stringify(b)}`);
    });
  }

  const CASES = [['OffscreenCanvas', BUILD], ['DecompressionStream', BUILD],
                 ['relaxed', 'simd'], ['simd', 'plain']];
  for (const [what, build] of CASES) {
    test(`without ${what}: the ${build} build reads a drawn 7`, async () => {
      await openPage(d, `${s.srv.url}?without=${what}`);
      const [gone, b] = await d.evaluate(() => [window.__digits.gone,
                                                document.documentElement.dataset.build]);
      if (what !== 'relaxed' || ENGINE !== 'webkit')
        assert(gone.includes(what), `${what} was not removed (${gone})`);
      assert(b === build, `build ${b}`);
      await clearPad(d);
      await draw(d, 7);
      const r = await reading(d);
      assert(r.digit === 7, `without ${what}: ${JSON.stringify(r)}`);
    });
  }

  test('no console errors', () => {
    assert(d.errors.length === 0, d.errors.join('\n'));
  });
});
