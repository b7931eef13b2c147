// tests/browser/lib/photos.mjs: photos for the browser tests of the page's
// photo and camera paths (photo.mjs, camera.mjs).
//   - photoGen(cond, k): one synthetic phone photo from the photos
//     generator (`photo_gen --one COND K FILE`, tests/photos/), with its
//     label, when the binary is built ($DIGITS_PHOTO_GEN or build/photo_gen);
//   - composePhoto(page, opts): a photo composed here in the page's canvas
//     (one of docs/examples/drawn-N.png as pen ink on shaded paper, ruled
//     lines, noise, JPEG), so the tests run before and beside photo_gen;
//   - withExifOrientation(jpeg, n): the same JPEG with an EXIF Orientation
//     tag (what a phone writes instead of rotating the pixels);
//   - y4m(rgba, w, h): one frame of YUV4MPEG2 (C420jpeg) for Chromium's
//     fake camera (--use-file-for-fake-video-capture).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './harness.mjs';

/* ---- the photos generator ---- */

/* Path of photo_gen, or null when it is not built. */
export function photoGenPath() {
  const cands = [process.env.DIGITS_PHOTO_GEN, path.join(ROOT, 'build', 'photo_gen')];
  return cands.find((p) => p && fs.existsSync(p)) ?? null;
}

/* One photo from photo_gen into dir: {file, label, box, size, bytes}.
 * photo_gen prints "FILE label=N condition=C k=K source=S box=x,y,w,h
 * size=WxH quality=Q"; box is the digit's ink in the photo's pixels (null
 * if not printed). null when the generator is not built; throws when it
 * fails. */
export function photoGen(cond, k, dir) {
  const bin = photoGenPath();
  if (!bin) return null;
  const file = path.join(dir, `${cond}-${k}.jpg`);
  const r = spawnSync(bin, ['--one', cond, String(k), file], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) throw new Error(`photo_gen --one ${cond} ${k}: ${r.stderr || r.status}`);
  const out = `${r.stdout}`.slice(file.length);
  const label = /\blabel=(\d)\b/.exec(out);
  if (!label) throw new Error(`photo_gen --one ${cond} ${k}: no label in "${r.stdout.trim()}"`);
  const box = /\bbox=(\d+),(\d+),(\d+),(\d+)/.exec(out);
  const size = /\bsize=(\d+)x(\d+)/.exec(out);
  if (!fs.existsSync(file)) throw new Error(`photo_gen --one ${cond} ${k}: ${file} not written`);
  return { file, label: Number(label[1]), box: box ? box.slice(1).map(Number) : null,
           size: size ? size.slice(1).map(Number) : null, bytes: fs.readFileSync(file) };
}

/* ---- photos composed in the page ---- */

/* A photo of docs/examples/drawn-<digit>.png written on paper, as JPEG
 * bytes (Buffer). opts: digit, width, height, box [x, y, size] of the
 * digit's 280x280 cell in the photo, shade (0..1: light falling off across
 * the page), ruled (line spacing in px, 0 for none), rotate (quarter turns
 * counter-clockwise of the stored pixels, for EXIF tests), ink colour,
 * blank (no digit), second ({digit, box}: another digit elsewhere), quality,
 * type ('image/jpeg' | 'image/png'). */
export async function composePhoto(page, opts) {
  const o = { digit: 7, width: 1600, height: 1200, box: null, shade: 0.35, ruled: 0,
              rotate: 0, ink: '#1b2a6b', blank: false, quality: 0.85, type: 'image/jpeg',
              ...opts };
  o.box ??= [Math.round(o.width * 0.4), Math.round(o.height * 0.25), Math.round(o.height * 0.5)];
  const drawn = (d) => fs.readFileSync(path.join(ROOT, 'docs', 'examples', `drawn-${d}.png`))
    .toString('base64');
  const png = drawn(o.digit), png2 = o.second ? drawn(o.second.digit) : null;
  const b64 = await page.evaluate(async ({ o, png, png2 }) => {
    const bitmap = (b64) => createImageBitmap(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))],
                                                       { type: 'image/png' }));
    const W = o.width, H = o.height;
    const c = new OffscreenCanvas(W, H);
    const g = c.getContext('2d');
    /* paper: warm white, darker towards one corner (a lamp to the side) */
    const grad = g.createLinearGradient(0, 0, W, H);
    grad.addColorStop(0, 'rgb(246 243 234)');
    grad.addColorStop(1, `rgb(${[246, 243, 234].map((v) => Math.round(v * (1 - o.shade))).join(' ')})`);
    g.fillStyle = grad;
    g.fillRect(0, 0, W, H);
    if (o.ruled) {
      g.strokeStyle = 'rgb(150 180 220)';
      g.lineWidth = Math.max(2, H / 500);
      for (let y = o.ruled / 2; y < H; y += o.ruled) {
        g.beginPath();
        g.moveTo(0, y);
        g.lineTo(W, y);
        g.stroke();
      }
    }
    /* a drawing as ink: its dark pixels become alpha of the ink colour */
    const write = (digit, [x, y, s]) => {
      const m = new OffscreenCanvas(s, s);
      const mg = m.getContext('2d');
      mg.drawImage(digit, 0, 0, s, s);
      const d = mg.getImageData(0, 0, s, s);
      const ink = [1, 3, 5].map((i) => parseInt(o.ink.slice(i, i + 2), 16));
      for (let i = 0; i < d.data.length; i += 4) {
        const a = 255 - d.data[i];
        d.data[i] = ink[0]; d.data[i + 1] = ink[1]; d.data[i + 2] = ink[2]; d.data[i + 3] = a;
      }
      mg.putImageData(d, 0, 0);
      g.drawImage(m, x, y);
    };
    if (!o.blank) write(await bitmap(png), o.box);
    if (png2) write(await bitmap(png2), o.second.box);
    /* sensor noise, deterministic */
    const img = g.getImageData(0, 0, W, H);
    let seed = 12345;
    for (let i = 0; i < img.data.length; i += 4) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const n = ((seed >>> 16) % 13) - 6;
      for (let k = 0; k < 3; k++) img.data[i + k] = Math.max(0, Math.min(255, img.data[i + k] + n));
    }
    g.putImageData(img, 0, 0);
    /* stored rotated: quarter turns counter-clockwise */
    let out = c;
    const q = ((o.rotate % 4) + 4) % 4;
    if (q) {
      const odd = q % 2 === 1;
      out = new OffscreenCanvas(odd ? H : W, odd ? W : H);
      const og = out.getContext('2d');
      og.translate(out.width / 2, out.height / 2);
      og.rotate((-q * Math.PI) / 2);
      og.drawImage(c, -W / 2, -H / 2);
    }
    const blob = await out.convertToBlob({ type: o.type, quality: o.quality });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, { o, png, png2 });
  return Buffer.from(b64, 'base64');
}

/* ---- EXIF ---- */

/* jpeg with an APP1 Exif segment right after SOI holding one IFD0 entry,
 * Orientation (0x0112, SHORT) = n: 6 means "rotate 90 degrees clockwise
 * to display", which undoes pixels stored a quarter turn counter-clockwise. */
export function withExifOrientation(jpeg, n) {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  const tiff = Buffer.from([
    0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00,   /* "II", 42, IFD0 at 8 */
    0x01, 0x00,                                       /* one entry */
    0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,   /* 0x0112 SHORT x1 */
    n & 0xff, 0x00, 0x00, 0x00,                       /* value, padded */
    0x00, 0x00, 0x00, 0x00,                           /* no next IFD */
  ]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const len = body.length + 2;
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, len >> 8, len & 0xff]), body]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

/* ---- the fake camera's file ---- */

/* One 4:2:0 frame of RGBA (w, h even) as a YUV4MPEG2 file, full-range
 * BT.601 (JPEG) coefficients, chroma averaged over each 2x2 block. */
export function y4m(rgba, w, h) {
  if (w % 2 || h % 2) throw new Error('y4m: even sizes only');
  const Y = Buffer.alloc(w * h), U = Buffer.alloc((w / 2) * (h / 2)), V = Buffer.alloc(U.length);
  const clamp = (v) => Math.max(0, Math.min(255, Math.round(v)));
  for (let i = 0; i < w * h; i++) {
    const r = rgba[i * 4], g = rgba[i * 4 + 1], b = rgba[i * 4 + 2];
    Y[i] = clamp(0.299 * r + 0.587 * g + 0.114 * b);
  }
  for (let y = 0; y < h; y += 2) {
    for (let x = 0; x < w; x += 2) {
      let r = 0, g = 0, b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const i = ((y + dy) * w + x + dx) * 4;
        r += rgba[i]; g += rgba[i + 1]; b += rgba[i + 2];
      }
      r /= 4; g /= 4; b /= 4;
      const j = (y / 2) * (w / 2) + x / 2;
      U[j] = clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
      V[j] = clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
    }
  }
  const head = Buffer.from(`YUV4MPEG2 W${w} H${h} F30:1 Ip A1:1 C420jpeg\nFRAME\n`, 'latin1');
  return Buffer.concat([head, Y, U, V]);
}

/* The RGBA of a w x h camera frame filled by the photo `bytes` (scaled to
 * cover the frame, times zoom), with the photo's point at (cx, cy)
 * (fractions of its size) at the frame's centre as far as the photo
 * reaches: what a phone held over the paper sees. The page's camera guide
 * reads the central 70% of the frame's shorter side. */
export async function cameraFrame(page, bytes, { w = 640, h = 480, zoom = 1, cx = 0.5, cy = 0.5 } = {}) {
  const b64 = await page.evaluate(async ({ b64, w, h, zoom, cx, cy }) => {
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bmp = await createImageBitmap(new Blob([bin]));
    const c = new OffscreenCanvas(w, h);
    const g = c.getContext('2d', { willReadFrequently: true });
    const s = Math.max(w / bmp.width, h / bmp.height) * zoom;
    const dw = bmp.width * s, dh = bmp.height * s;
    const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
    const dx = clamp(w / 2 - cx * dw, w - dw, 0), dy = clamp(h / 2 - cy * dh, h - dh, 0);
    g.imageSmoothingQuality = 'high';
    g.drawImage(bmp, dx, dy, dw, dh);
    const d = g.getImageData(0, 0, w, h).data;
    let s2 = '';
    for (let i = 0; i < d.length; i += 0x8000) s2 += String.fromCharCode(...d.subarray(i, i + 0x8000));
    return btoa(s2);
  }, { b64: Buffer.from(bytes).toString('base64'), w, h, zoom, cx, cy });
  return new Uint8Array(Buffer.from(b64, 'base64'));
}
