// tests/browser/engines/number.mjs ENGINE: the pad reads numbers (issue
// 23) in one engine (firefox or webkit; Chromium's run is
// tests/browser/number.mjs): "417" drawn with the mouse on the desktop's
// wide pad, and with touch on a 360x640 phone where the driver sends
// touch, reads back as 417 with a box around each digit; one 7 still
// reads as one digit. One browser for the file; exit 77 without the engine.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkNumber, numberLines, numberShown, padAspect } from '../lib/harness.mjs';
import { requireEngine, useSession, openPage, draw, drawLines, reading, clearPad, waitFor }
  from '../lib/page-kit.mjs';

const ENGINE = requireEngine();
const TOUCH = ENGINE !== 'webkit';   /* WebKitWebDriver sends no touch on GTK */

/* Draw text as a number on the pad; what the page shows once it settles. */
async function drawNumber(d, text, opts) {
  await drawLines(d, numberLines(text, await d.evaluate(padAspect)), opts);
  await waitFor(d, () => document.querySelector('[data-testid="prediction"]').dataset.number, null,
                { timeout: 10000, what: 'a number shown' }).catch(() => {});
  return d.evaluate(numberShown);
}

describe(`numbers on the pad in ${ENGINE}`, () => {
  const ctx = useSession(ENGINE, { width: 1280, height: 800, touch: TOUCH });

  test('one 7 on the wide pad reads as one digit', async () => {
    const { d } = ctx;
    await clearPad(d);
    await draw(d, 7);
    const r = await reading(d);
    const boxes = await d.evaluate(() => document.querySelectorAll('.digit-box').length);
    assert(r.digit === 7 && r.state === 'sure' && boxes === 0, `one 7: ${JSON.stringify(r)}, ${boxes} boxes`);
  });

  test('417 drawn with the mouse reads as 417', async () => {
    const { d } = ctx;
    await clearPad(d);
    const got = await drawNumber(d, '417');
    console.log(`     mouse, pad ${got.pad.w}x${got.pad.h}: ${got.number}`);
    checkNumber(`${ENGINE} mouse`, got, '417');
  });

  test('417 drawn with touch on a 360x640 phone reads as 417',
       { skip: TOUCH ? false : 'no touch input in this driver' }, async () => {
    const { d, s } = ctx;
    await d.resize(360, 640);
    await openPage(d, s.srv.url);
    const got = await drawNumber(d, '417', { touch: true });
    console.log(`     touch 360x640, pad ${got.pad.w}x${got.pad.h}: ${got.number}`);
    checkNumber(`${ENGINE} touch`, got, '417');
  });

  test('no console errors', () => {
    assert(ctx.d.errors.length === 0, ctx.d.errors.join('\n'));
  });
});
