// tests/browser/camera.mjs (ctest browser_camera): the page's live camera
// in headless Chromium (issue 18, "The page"):
//   - Chromium's fake camera plays a Y4M made from a photo (one of the
//     photos generator's when it is built, else one composed here): the
//     Camera button opens the view, the shutter reads the square inside the
//     guide, and data-digit equals the photo's label;
//   - camera permission denied (no fake UI, prompts denied): a clear
//     message in [photo-message], and a drawing on the pad still reads;
//   - no camera at all (permission granted, no device): "No camera found",
//     and the pad still reads.
// node:test: `node --test-name-pattern=REGEX` runs some; exit status 1 on failure.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ARGS, startServer, launch, openPage, drawMouse, reading }
  from './lib/harness.mjs';
import { photoGen, composePhoto, cameraFrame, y4m } from './lib/photos.mjs';

const sel = (id) => `[data-testid="${id}"]`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'digits-camera-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const FAKE = ['--use-fake-device-for-media-stream'];

/* Click Camera and wait until it opened or failed: the panel's data-camera. */
async function openCamera(page) {
  await page.click(sel('camera'));
  await page.waitForFunction(() => document.querySelector('[data-testid="photo-panel"]')
    .dataset.camera !== 'opening', null, { timeout: 20000 });
  return page.getAttribute(sel('photo-panel'), 'data-camera');
}

/* After a failed open: the message, and the pad still reads a drawn 7. */
async function padStillWorks(page) {
  assert(await page.isHidden(sel('camera-view')), 'the camera view stays over the pad');
  await drawMouse(page, 7);
  const r = await reading(page);
  assert(r.digit === 7 && r.state === 'sure', `drawn 7 after the camera failed: ${JSON.stringify(r)}`);
}

/* The fake camera's file: a photo filling a 640x480 frame, as a Y4M in
 * tmp: {label, source, video}. */
async function makeVideo() {
  let label = 3, source = 'composed';
  const b = await launch();
  try {
    /* the first clean photo of a digit with some shape to it (not 0, 1 or 7) */
    let photo = null;
    try {
      for (let k = 0; k < 20 && (!photo || [0, 1, 7].includes(photo.label)); k++)
        photo = photoGen('clean', k, tmp);
    } catch (e) {
      console.log(`     photo_gen failed (${e.message}); using a composed photo`);
      photo = null;
    }
    let bytes, aim = {};
    if (photo) {
      ({ label, bytes } = photo);
      source = `photo_gen ${path.basename(photo.file, '.jpg')}`;
      if (photo.box && photo.size) {
        /* held over the digit: its centre in the middle of the frame, its
         * longer side about half the guide's (0.7 * 480) */
        const [x, y, w, h] = photo.box, [W, H] = photo.size;
        const cover = Math.max(640 / W, 480 / H);
        aim = { cx: (x + w / 2) / W, cy: (y + h / 2) / H,
                zoom: Math.max(1, (0.5 * 336) / (Math.max(w, h) * cover)) };
      }
    } else {
      bytes = await composePhoto(b.page, { digit: label, ruled: 60, shade: 0.4 });
    }
    const frame = await cameraFrame(b.page, bytes, { w: 640, h: 480, ...aim });
    const video = path.join(tmp, 'camera.y4m');
    fs.writeFileSync(video, y4m(frame, 640, 480));
    return { label, source, video };
  } finally {
    await b.close();
  }
}

describe('browser camera', () => {
  let srv = null, b = null, label, source, video;
  before(async () => {
    srv = await startServer();
    ({ label, source, video } = await makeVideo());
  });
  after(async () => {
    await b?.close();
    await srv?.stop();
  });

  test('fake camera: the shutter reads the photo\'s label', async (t) => {
    t.diagnostic(`${source}, label ${label}`);
    await b?.close();
    b = await launch({ args: [...ARGS, ...FAKE, '--use-fake-ui-for-media-stream',
                              `--use-file-for-fake-video-capture=${video}`] });
    const page = b.page;
    await openPage(page, srv.url);
    const state = await openCamera(page);
    assert(state === 'open', `camera ${state}: ${await page.textContent(sel('photo-message'))}`);
    assert(await page.isVisible(sel('camera-video')), 'no video shown');
    const size = await page.locator(sel('camera-video')).evaluate((v) => [v.videoWidth, v.videoHeight]);
    assert(size[0] === 640 && size[1] === 480, `video ${size}`);
    await page.waitForFunction(() => document.querySelector('[data-testid="camera-video"]')
      .currentTime > 0.2, null, { timeout: 10000 });
    await page.click(sel('shutter'));
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="photo-panel"]')
      .dataset.reads || 0) > 0, null, { timeout: 20000 });
    const r = await reading(page);
    assert(r.digit === label && r.state === 'sure', `camera frame read as ${JSON.stringify(r)}`);
    /* the guide's square was read (70% of 480), and the camera let go */
    const shot = await page.getAttribute(sel('photo'), 'data-size');
    assert(shot === '336x336', `read a ${shot} region, not the guide's 336x336`);
    assert(await page.isHidden(sel('camera-view')), 'camera view still open after the shutter');
    const live = await page.locator(sel('camera-video')).evaluate((v) => v.srcObject !== null);
    assert(!live, 'the camera stream is still attached');
    /* and back to drawing */
    await drawMouse(page, 1);
    const p = await reading(page);
    assert(p.digit === 1, `drawn 1 after the camera: ${JSON.stringify(p)}`);
    assert(b.errors.length === 0, b.errors.join('\n'));
    await b.close();
    b = null;
  });

  test('camera permission denied: a clear message, the pad keeps working', async () => {
    await b?.close();
    b = await launch({ args: [...ARGS, ...FAKE, '--deny-permission-prompts'] });
    const page = b.page;
    await openPage(page, srv.url);
    const state = await openCamera(page);
    const msg = await page.textContent(sel('photo-message'));
    assert(state === 'error-denied', `camera ${state}: "${msg}"`);
    assert(/Camera permission denied/.test(msg) && /pad still works/.test(msg), `message "${msg}"`);
    await padStillWorks(page);
    assert(/Camera permission denied/.test(await page.textContent(sel('photo-message'))),
           'the message went away while drawing');
    assert(b.errors.length === 0, b.errors.join('\n'));
    await b.close();
    b = null;
  });

  test('no camera: "No camera found", the pad keeps working', async (t) => {
    await b?.close();
    b = await launch({ args: [...ARGS, '--use-fake-ui-for-media-stream'] });
    const page = b.page;
    await openPage(page, srv.url);
    const devices = await page.evaluate(async () =>
      (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput').length);
    const state = await openCamera(page);
    if (devices > 0 && state === 'open') {
      return t.skip('this machine has a camera: the no-camera case cannot be checked here');
    }
    const msg = await page.textContent(sel('photo-message'));
    assert(state === 'error-none' && /No camera found/.test(msg), `camera ${state}: "${msg}"`);
    await padStillWorks(page);
    assert(b.errors.length === 0, b.errors.join('\n'));
  });
});
