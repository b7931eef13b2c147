// tests/browser/page.mjs: the drawing page in headless Chromium: digits
// drawn with the mouse and with touch are read correctly, clear and undo,
// the random MNIST digit matches its label most of the time, the model
// chooser switches model, ?simd=0 uses the plain build, and the page logs
// no console errors. node:test: `node --test-name-pattern=REGEX`
// runs some; exit status 1 on failure.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launch, openPage, drawMouse, drawTouch, reading, openSession, closeSession }
  from './lib/harness.mjs';

describe('browser page', () => {
  let srv = null, b = null, tb = null, page = null;
  before(async () => {
    ({ srv, b, page } = await openSession({ viewport: { width: 1280, height: 800 } }));
  });
  after(async () => {
    await closeSession({ srv, b }, tb);
  });

  test('empty pad shows no guess', async () => {
    const r = await reading(page);
    assert(r.state === 'empty' && r.digit === null && r.text === '', `got ${JSON.stringify(r)}`);
  });

  test('uses the relaxed-SIMD build by default here (Chromium 114+)', async () => {
    const simd = await page.getAttribute('html', 'data-simd');
    const build = await page.getAttribute('html', 'data-build');
    const badge = await page.textContent('[data-testid="build"]');
    assert(simd === '1' && build === 'relaxed' && /SIMD\+FMA/.test(badge),
           `data-simd=${simd}, data-build=${build}, badge "${badge}"`);
  });

  for (const d of [1, 7, 0]) {
    test(`mouse-drawn ${d} reads as ${d}`, async () => {
      await page.click('[data-testid="clear"]');
      await drawMouse(page, d);
      const r = await reading(page);
      assert(r.digit === d && r.state === 'sure', `drew ${d}, page shows ${JSON.stringify(r)}`);
      const pointer = await page.getAttribute('[data-testid="pad"]', 'data-pointer');
      assert(pointer === 'mouse', `pointer type ${pointer}`);
    });
  }

  test('bars and the 28x28 input follow the reading', async () => {
    const top = await page.locator('#bars li.top').getAttribute('data-digit');
    assert(top === '0', `top bar ${top}`);
    const ink = await page.locator('[data-testid="input"]').evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
      let lo = 255, hi = 0;
      for (let i = 0; i < d.length; i += 4) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }
      return hi - lo;
    });
    assert(ink > 128, `input canvas contrast ${ink}`);
  });

  test('a guess under 60% is shown as "?" with the best guess small', async () => {
    /* a flat dash: whatever the model makes of it, the display must follow the rule */
    await page.click('[data-testid="clear"]');
    const box = await page.locator('[data-testid="pad"]').boundingBox();
    await page.mouse.move(box.x + 0.3 * box.width, box.y + 0.5 * box.height);
    await page.mouse.down();
    await page.mouse.move(box.x + 0.7 * box.width, box.y + 0.5 * box.height, { steps: 12 });
    await page.mouse.up();
    const r = await reading(page);
    if (r.confidence < 0.6)
      assert(r.state === 'unsure' && r.text === `?${r.digit}`, `unsure shown as ${JSON.stringify(r)}`);
    else
      assert(r.state === 'sure' && r.text === String(r.digit), `sure shown as ${JSON.stringify(r)}`);
  });

  test('the pad\'s snapshots, read round the ink only, equal the whole canvas read', async () => {
    /* a Pad of its own on a 2:1 canvas: strokes in the middle, at each
     * edge and corner, past the edge, a dot, an MNIST digit, a full pad.
     * snapshot(): the whole pad; digitSnapshot() at the same scale: the
     * box round the ink, paper round it, every ink pixel of the whole pad
     * in it; at FIT: no larger than FIT px and its margins */
    const bad = await page.evaluate(async () => {
      const { FIT, Pad } = await import('./draw.js');
      const c = document.createElement('canvas');
      c.style.cssText = 'width:600px;height:300px;position:fixed;left:0;top:0';
      document.body.append(c);
      const pad = new Pad(c);
      const line = (x0, y0, x1, y1) => ({ kind: 'stroke', pts: [x0, y0, (x0 + x1) / 2, (y0 + y1) / 2, x1, y1] });
      const digit = { kind: 'digit', size: 28, bytes: Uint8Array.from({ length: 784 }, (_, i) => (i * 37) % 256) };
      const cases = [[line(-0.1, -0.3, 0.1, 0.3)], [line(-1, -0.5, -0.9, 0.5)], [line(0.9, -0.5, 1, 0.5)],
        [line(-1.2, -0.6, -0.8, -0.4)], [line(0.8, 0.4, 1.3, 0.7)], [line(-0.2, 0, -0.2, 0)],
        [line(-1, 0.45, 1, 0.5)], [digit], [line(-1, -0.5, 1, 0.5), line(-1, 0.5, 1, -0.5)]];
      const out = [];
      pad.items = [];
      const bg = new Uint32Array(pad.snapshot(280).data.buffer)[0];
      for (const items of cases) {
        const what = JSON.stringify(items).slice(0, 80);
        pad.items = items;
        const img = pad.snapshot(280);
        const { width: W, height: H } = img;
        const full = new Uint32Array(pad.snapCtx.getImageData(0, 0, W, H).data.buffer);
        const px = new Uint32Array(img.data.buffer);
        const diff = px.findIndex((v, i) => v !== full[i]);
        if (diff >= 0) out.push(`${what}: snapshot, pixel ${diff}`);
        const part = pad.digitSnapshot(Infinity, 280), box = pad.inkBox(W, H);
        const m = (part.width - box.w) / 2, got = new Uint32Array(part.data.buffer);
        /* the same picture, up to a stroke's anti-aliasing where the pad's
         * edge clips it */
        const near = (a, b) => [0, 8, 16, 24].every((k) => Math.abs(((a >>> k) & 255) - ((b >>> k) & 255)) <= 8);
        let bad = '';
        for (let y = 0; y < H && !bad; y++)
          for (let x = 0; x < W && !bad; x++) {
            const u = x - box.x + m, v = y - box.y + m;
            const inside = u >= 0 && v >= 0 && u < part.width && v < part.height;
            if (inside ? !near(got[v * part.width + u], full[y * W + x]) : full[y * W + x] !== bg)
              bad = `pixel (${x}, ${y}) of the pad`;
          }
        for (let v = 0; v < part.height && !bad; v++)
          for (let u = 0; u < part.width && !bad; u++) {
            const x = u + box.x - m, y = v + box.y - m;
            if ((x < 0 || y < 0 || x >= W || y >= H) && got[v * part.width + u] !== bg)
              bad = `pixel (${u}, ${v}) beyond the pad is not paper`;
          }
        if (m !== 2 || part.height !== box.h + 2 * m) bad ||= `${part.width}x${part.height} for a ${box.w}x${box.h} box`;
        if (bad) out.push(`${what}: digitSnapshot, ${bad}`);
        /* at FIT: the ink at most FIT px and its anti-aliasing a side */
        const small = pad.digitSnapshot(FIT), sp = new Uint32Array(small.data.buffer);
        let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
        sp.forEach((v, i) => {
          if (v === bg) return;
          const x = i % small.width, y = (i - x) / small.width;
          x0 = Math.min(x0, x), y0 = Math.min(y0, y), x1 = Math.max(x1, x), y1 = Math.max(y1, y);
        });
        if (x1 - x0 + 1 > FIT + 2 || y1 - y0 + 1 > FIT + 2 || x0 < 2 || y0 < 2 ||
            x1 >= small.width - 2 || y1 >= small.height - 2)
          out.push(`${what}: digitSnapshot(FIT): ink in (${x0}, ${y0})-(${x1}, ${y1}) of ${small.width}x${small.height}`);
      }
      c.remove();
      return out;
    });
    assert.deepEqual(bad, []);
  });

  test('undo removes the last stroke, clear empties the pad', async () => {
    await page.click('[data-testid="clear"]');
    await drawMouse(page, 4);             /* two strokes */
    let r = await reading(page);
    assert(r.digit === 4, `drew 4, got ${JSON.stringify(r)}`);
    await page.click('[data-testid="undo"]');
    r = await reading(page);
    assert(r.state !== 'empty', 'one stroke left, but the pad reads empty');
    await page.click('[data-testid="clear"]');
    r = await reading(page);
    assert(r.state === 'empty' && r.text === '', `after clear: ${JSON.stringify(r)}`);
    assert(await page.isDisabled('[data-testid="undo"]'), 'undo enabled on an empty pad');
  });

  test('keyboard: Escape clears, buttons are focusable', async () => {
    await drawMouse(page, 1);
    await page.keyboard.press('Escape');
    const r = await reading(page);
    assert(r.state === 'empty', `after Escape: ${JSON.stringify(r)}`);
    await page.focus('[data-testid="random"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid="sample-label"]').dataset.label !== '');
  });

  test('random MNIST digit matches its label in at least 8 of 10', async () => {
    let ok = 0;
    const seen = [];
    for (let i = 0; i < 10; i++) {
      await page.click('[data-testid="random"]');
      const label = Number(await page.getAttribute('[data-testid="sample-label"]', 'data-label'));
      const r = await reading(page);
      if (r.digit === label) ok++;
      seen.push(`${label}->${r.digit}`);
    }
    assert(ok >= 8, `${ok}/10 matched: ${seen.join(' ')}`);
  });

  test('model chooser lists the shipped models and switches', async (t) => {
    const options = await page.locator('[data-testid="model"] option').allTextContents();
    assert(options.length >= 1 && /%/.test(options[0]) && /kB|MB/.test(options[0]),
           `options: ${options.join(' | ')}`);
    if (options.length < 2) return t.skip('only one model shipped: no switch to check');
    const before = await page.getAttribute('html', 'data-model');
    const info0 = await page.textContent('[data-testid="model-info"]');
    await page.selectOption('[data-testid="model"]', '1');
    await page.waitForFunction((b0) => document.documentElement.dataset.model !== b0, before);
    const info1 = await page.textContent('[data-testid="model-info"]');
    assert(info1 !== info0 && /parameters/.test(info1), `model info "${info0}" -> "${info1}"`);
    await page.click('[data-testid="clear"]');
    await drawMouse(page, 7);
    const r = await reading(page);
    assert(r.digit === 7, `with ${await page.getAttribute('html', 'data-model')}: ${JSON.stringify(r)}`);
    await page.selectOption('[data-testid="model"]', '0');
    await page.waitForFunction((b0) => document.documentElement.dataset.model === b0, before);
  });

  test('?simd=1 uses the simd128 build and still predicts', async () => {
    await openPage(page, `${srv.url}?simd=1`);
    const build = await page.getAttribute('html', 'data-build');
    const badge = await page.textContent('[data-testid="build"]');
    assert(build === 'simd' && badge.trim() === 'WASM SIMD', `data-build=${build}, badge "${badge}"`);
    await drawMouse(page, 7);
    const r = await reading(page);
    assert(r.digit === 7, `simd128 build: ${JSON.stringify(r)}`);
  });

  test('?simd=0 uses the plain build and still predicts', async () => {
    await openPage(page, `${srv.url}?simd=0`);
    const simd = await page.getAttribute('html', 'data-simd');
    const badge = await page.textContent('[data-testid="build"]');
    assert(simd === '0' && /plain/.test(badge), `data-simd=${simd}, badge "${badge}"`);
    await drawMouse(page, 7);
    const r = await reading(page);
    assert(r.digit === 7, `plain build: ${JSON.stringify(r)}`);
  });

  test('touch-drawn digits read correctly (hasTouch context)', async () => {
    tb = await launch({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2,
                        hasTouch: true, isMobile: true });
    await openPage(tb.page, srv.url);
    for (const d of [1, 7, 0]) {
      await tb.page.click('[data-testid="clear"]');
      await drawTouch(tb.page, d);
      const r = await reading(tb.page);
      assert(r.digit === d, `touch ${d}: ${JSON.stringify(r)}`);
    }
    const pointer = await tb.page.getAttribute('[data-testid="pad"]', 'data-pointer');
    assert(pointer === 'touch', `pointer type ${pointer}`);
    const scrolled = await tb.page.evaluate(() => scrollY);
    assert(scrolled === 0, `the page scrolled by ${scrolled} px while drawing`);
  });

  test('no console errors', async () => {
    const errors = [...b.errors, ...(tb?.errors ?? [])];
    assert(errors.length === 0, errors.join('\n'));
  });
});
