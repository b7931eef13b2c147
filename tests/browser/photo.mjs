// tests/browser/photo.mjs (ctest browser_photo): the page reads photos, in
// headless Chromium (issue 18, "The page"):
//   - photos given through [data-testid=image-file] read as their labels:
//     photos of the photos generator (photo_gen --one COND K, when built)
//     and photos composed here (a drawn digit in pen on shaded, ruled,
//     noisy paper, JPEG), with the region read outlined on the photo, in
//     the photo's own pixels, and the 28x28 input shown;
//   - a 4000x3000 photo goes to WASM at full size and reads;
//   - EXIF orientation is respected (pixels stored a quarter turn off,
//     Orientation 6);
//   - blank paper gives "?" and a message, not a guess;
//   - a file that is not an image (random bytes named .jpg, an empty file)
//     gives a clear message and the pad still reads a drawing afterwards;
//   - drag and drop onto the pad, and paste, read the same way;
//   - the service worker precaches photo.js (offline use).
// node:test: `node --test-name-pattern=REGEX` runs some; exit status 1 on failure.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, openPage, drawMouse, reading, openSession, closeSession }
  from './lib/harness.mjs';
import { photoGen, photoGenPath, composePhoto, withExifOrientation } from './lib/photos.mjs';

const sel = (id) => `[data-testid="${id}"]`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'digits-photo-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/* What the page shows once the read counter has moved past `before`. */
async function outcome(page, before) {
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="photo-panel"]')
    .dataset.reads || 0) > n, before, { timeout: 20000 });
  const r = await reading(page);
  return page.evaluate((r) => {
    const c = document.querySelector('[data-testid="photo"]');
    const m = document.querySelector('[data-testid="photo-message"]');
    const input = document.querySelector('[data-testid="input"]').getContext('2d')
      .getImageData(0, 0, 28, 28).data;
    let lo = 255, hi = 0;
    for (let i = 0; i < input.length; i += 4) { lo = Math.min(lo, input[i]); hi = Math.max(hi, input[i]); }
    return { ...r, message: m.textContent, kind: m.dataset.kind, shown: !c.closest('figure').hidden,
             box: c.dataset.box ? c.dataset.box.split(',').map(Number) : null,
             size: c.dataset.size, scale: Number(c.dataset.scale), inputContrast: hi - lo };
  }, r);
}

const reads = (page) => page.evaluate(() =>
  Number(document.querySelector('[data-testid="photo-panel"]').dataset.reads || 0));

/* Give the page a file through the "Choose a file" input. */
async function give(page, name, buffer, mimeType = 'image/jpeg') {
  const before = await reads(page);
  await page.setInputFiles(sel('image-file'), { name, mimeType, buffer });
  return outcome(page, before);
}

/* Box a [x, y, w, h] inside the square cell [x, y, size] grown by m on
 * every side, and covering at least a fifth of its height (the ink, not a
 * speck of it). */
const inside = (a, [x, y, s], m) => a[0] >= x - m && a[1] >= y - m &&
  a[0] + a[2] <= x + s + m && a[1] + a[3] <= y + s + m && a[3] >= s / 5;

/* Intersection over union of two [x, y, w, h] boxes. */
function iou(a, b) {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  const i = Math.max(0, w) * Math.max(0, h);
  return i / (a[2] * a[3] + b[2] * b[3] - i);
}

describe('browser photo', () => {
  let srv = null, b = null, page = null;
  before(async () => {
    ({ srv, b, page } = await openSession());
  });
  after(async () => {
    await closeSession({ srv, b });
  });

  test('the Photo control: file input, camera button, message', async () => {
    const accept = await page.getAttribute(sel('image-file'), 'accept');
    const capture = await page.getAttribute(sel('image-capture'), 'capture');
    assert(accept === 'image/*' && capture === 'environment', `accept=${accept} capture=${capture}`);
    assert(await page.isVisible(sel('camera')), 'no camera button although getUserMedia exists');
    assert(await page.isHidden(sel('photo')), 'a photo is shown before any was given');
  });

  test('composed photos of 0-9 (pen on shaded, ruled paper, JPEG) read as their labels', async () => {
    const wrong = [];
    for (let d = 0; d <= 9; d++) {
      const cell = [700, 350, 480];
      const r = await give(page, `pen-${d}.jpg`, await composePhoto(page, { digit: d, ruled: 60, box: cell }));
      if (r.digit !== d || r.state !== 'sure') wrong.push(`${d}->${JSON.stringify(r)}`);
      else {
        assert(r.shown && r.size === '1600x1200', `photo ${d}: shown ${r.shown}, size ${r.size}`);
        /* the drawing's ink sits inside its 280-px cell scaled to 480 */
        assert(r.box && inside(r.box, cell, 4), `photo ${d}: box ${r.box} outside the cell ${cell}`);
        assert(r.inputContrast > 128, `photo ${d}: the 28x28 input shows no ink`);
      }
    }
    assert(wrong.length === 0, `misread: ${wrong.join('; ')}`);
  });

  const gen = photoGenPath();
  test(`photos of the generator read as their labels (${gen ?? 'photo_gen'})`, {
    skip: !gen && 'photo_gen is not built (DIGITS_PHOTO_GEN unset and no build/photo_gen)',
  }, async () => {
    const wrong = [];
    for (const [cond, k] of [['clean', 0], ['ruled', 1], ['squared', 2], ['shadow', 1], ['box', 0],
                             ['large', 0], ['rotation', 2], ['perspective', 2]]) {
      const p = photoGen(cond, k, tmp);
      const mime = p.file.endsWith('.png') ? 'image/png' : 'image/jpeg';
      const r = await give(page, path.basename(p.file), p.bytes, mime);
      if (r.digit !== p.label) wrong.push(`${cond} ${k}: label ${p.label}, page ${JSON.stringify(r)}`);
      else {
        assert(r.box && r.shown, `${cond} ${k}: no box drawn`);
        assert(!p.size || r.size === p.size.join('x'), `${cond} ${k}: handed over as ${r.size}`);
        /* the region read is the generator's ink box, in the photo's pixels */
        if (p.box) assert(iou(r.box, p.box) > 0.5, `${cond} ${k}: box ${r.box}, the ink is at ${p.box}`);
      }
    }
    assert(wrong.length === 0, wrong.join('; '));
  });

  test('a 4000x3000 photo goes to WASM at full size and reads; the box is in its pixels', async () => {
    const cell = [2700, 900, 1000];
    const jpeg = await composePhoto(page, { digit: 4, width: 4000, height: 3000, box: cell, quality: 0.8 });
    const r = await give(page, 'big.jpg', jpeg);
    assert(r.digit === 4, `read ${JSON.stringify(r)}`);
    assert(r.size === '4000x3000', `handed to WASM at ${r.size}`);
    assert(r.scale > 1, `the core did not downscale early (scale ${r.scale})`);
    assert(r.box && inside(r.box, cell, 8), `box ${r.box} not inside the digit's cell ${cell}`);
    const ms = await page.getAttribute(sel('photo-panel'), 'data-ms');
    console.log(`     4000x3000 JPEG (${(jpeg.length / 1e6).toFixed(1)} MB): decoded, read and shown in ${ms} ms`);
  });

  test('EXIF orientation is respected (pixels stored a quarter turn off, Orientation 6)', async () => {
    const misread = [];
    for (const d of [7, 3]) {
      const stored = await composePhoto(page, { digit: d, rotate: 1 });  /* 1200 wide, 1600 high */
      const r = await give(page, `exif-${d}.jpg`, withExifOrientation(stored, 6));
      assert(r.size === '1600x1200', `EXIF-rotated ${d} handed over as ${r.size}, not upright 1600x1200`);
      assert(r.digit === d, `EXIF-rotated ${d} read as ${JSON.stringify(r)}`);
      const raw = await give(page, `sideways-${d}.jpg`, stored);
      assert(raw.size === '1200x1600', `without EXIF: ${raw.size}`);
      if (raw.digit !== d) misread.push(d);
    }
    /* the check has teeth: sideways, at least one of them reads otherwise */
    assert(misread.length > 0, 'sideways 7 and 3 both still read right: this photo tests nothing');
  });

  test('blank paper: "?" and a message, no guess', async () => {
    const r = await give(page, 'blank.jpg', await composePhoto(page, { blank: true, ruled: 0 }));
    assert(r.digit === null && r.text === '?' && (r.state === 'none' || r.state === 'uncertain'),
           `blank paper: ${JSON.stringify(r)}`);
    assert(r.kind === 'empty' || r.kind === 'uncertain', `message kind ${r.kind}: ${r.message}`);
    const msg = await page.textContent('#msg');
    assert(/No digit found|More than one shape/.test(msg), `reading message "${msg}"`);
  });

  test('two digits far apart: "?" and "more than one shape", no guess', async () => {
    const r = await give(page, 'two.jpg', await composePhoto(page, {
      digit: 3, box: [150, 350, 480], second: { digit: 8, box: [970, 350, 480] } }));
    assert(r.digit === null && r.text === '?' && r.state === 'uncertain', `two digits: ${JSON.stringify(r)}`);
    assert(r.kind === 'uncertain', `message kind ${r.kind}: ${r.message}`);
    const msg = await page.textContent('#msg');
    assert(/More than one shape/.test(msg), `reading message "${msg}"`);
    assert(r.inputContrast === 0, 'the 28x28 input is not blank');
  });

  test('a file that is not an image: a clear message, and the pad still reads', async () => {
    const junk = Buffer.alloc(3000);
    for (let i = 0, s = 7; i < junk.length; i++) junk[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    for (const [name, bytes] of [['broken.jpg', junk], ['empty.png', Buffer.alloc(0)]]) {
      const r = await give(page, name, bytes, name.endsWith('.png') ? 'image/png' : 'image/jpeg');
      assert(r.kind === 'decode', `${name}: message kind ${r.kind}`);
      assert(r.message.includes(`Cannot read ${name} as an image`) && /pad still works/.test(r.message),
             `${name}: "${r.message}"`);
    }
    await drawMouse(page, 7);
    const r = await reading(page);
    assert(r.digit === 7 && r.state === 'sure', `drawing after a broken file: ${JSON.stringify(r)}`);
    assert(await page.isHidden(sel('photo')), 'the photo still covers the pad while drawing');
  });

  test('drawing after a photo goes back to the pad; Clear empties it', async () => {
    const r = await give(page, 'pen-2.jpg', await composePhoto(page, { digit: 2 }));
    assert(r.digit === 2 && r.shown, `photo: ${JSON.stringify(r)}`);
    assert(await page.isVisible(sel('photo')), 'photo not shown');
    await drawMouse(page, 1);
    let p = await reading(page);
    assert(p.digit === 1, `drawn 1 after the photo: ${JSON.stringify(p)}`);
    assert(await page.isHidden(sel('photo')), 'photo still shown after drawing');
    await give(page, 'pen-5.jpg', await composePhoto(page, { digit: 5 }));
    await page.click(sel('clear'));
    p = await reading(page);
    assert(p.state === 'empty' && p.text === '' && await page.isHidden(sel('photo')),
           `after Clear: ${JSON.stringify(p)}`);
  });

  /* A File made in the page from bytes, handed over as a drop or a paste. */
  const dispatch = (kind, name, bytes) => page.evaluate(({ kind, name, b64 }) => {
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bin], name, { type: 'image/jpeg' }));
    if (kind === 'drop') {
      const pad = document.querySelector('[data-testid="pad"]');
      for (const type of ['dragenter', 'dragover', 'drop'])
        pad.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    } else {
      document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true,
                                                               cancelable: true }));
    }
  }, { kind, name, b64: bytes.toString('base64') });

  test('an image dropped onto the pad is read', async () => {
    const before = await reads(page);
    await dispatch('drop', 'dropped-8.jpg', await composePhoto(page, { digit: 8, ruled: 50 }));
    const r = await outcome(page, before);
    assert(r.digit === 8 && r.shown, `dropped 8: ${JSON.stringify(r)}`);
  });

  test('an image pasted from the clipboard is read', async () => {
    const before = await reads(page);
    await dispatch('paste', 'image.jpg', await composePhoto(page, { digit: 6, shade: 0.5 }));
    const r = await outcome(page, before);
    assert(r.digit === 6 && r.shown, `pasted 6: ${JSON.stringify(r)}`);
  });

  test('without createImageBitmap the <img> fallback decodes, EXIF respected', async () => {
    const stored = await composePhoto(page, { digit: 7, rotate: 1 });
    const old = await b.context.newPage();
    try {
      await old.addInitScript(() => { delete window.createImageBitmap; });
      await openPage(old, srv.url);
      assert(await old.evaluate(() => typeof createImageBitmap) === 'undefined', 'not removed');
      let r = await give(old, 'exif-7.jpg', withExifOrientation(stored, 6));
      assert(r.digit === 7 && r.size === '1600x1200', `<img> path: ${JSON.stringify(r)}`);
      r = await give(old, 'broken.jpg', Buffer.from('not an image'));
      assert(r.kind === 'decode', `<img> path, broken file: ${r.kind} "${r.message}"`);
    } finally {
      await old.close();
    }
  });

  test('images past the core\'s caps are downscaled to fit them, others kept whole', async () => {
    const fits = await page.evaluate(async () => {
      const { fitCaps } = await import('/photo.js');
      return [[4000, 3000], [16384, 4096], [20000, 1000], [9000, 9000], [1, 40000]]
        .map(([w, h]) => fitCaps(w, h));
    });
    const want = [[4000, 3000], [16384, 4096], [16384, 819], [8192, 8192], [1, 16384]];
    assert(JSON.stringify(fits) === JSON.stringify(want), `fitCaps: ${JSON.stringify(fits)}`);
  });

  test('the service worker precaches photo.js', async () => {
    const sw = fs.readFileSync(path.join(ROOT, 'web', 'sw.js'), 'utf8');
    assert(/"photo\.js"/.test(sw), 'web/sw.js does not list photo.js (run ./build.sh build)');
  });

  test('no console errors', async () => {
    assert(b.errors.length === 0, b.errors.join('\n'));
  });
});
