// web/tools/make-icons.mjs: draws the app icons (a handwritten "7" on a
// small white pad) and writes them as PNG into web/icons/. Run by hand when
// the design changes; the PNGs are committed (a few KB each).
//
//   node web/tools/make-icons.mjs
//
// "any" icons have rounded transparent corners; "maskable" ones are full
// bleed with the drawing inside the central 80% safe zone, since launchers
// cut them to a circle or squircle. apple-touch-icon.png (180x180, what iOS
// puts on the home screen) is full bleed and opaque: an RGB PNG without
// alpha, since iOS draws transparent pixels black and rounds the corners
// itself.
//
//   node web/tools/make-icons.mjs --screenshots
//
// also copies the README's screenshots (docs/screenshot-desktop.png and
// docs/screenshot-phone.png, made by web/tools/screenshots.mjs) to
// web/icons/screenshot-{wide,narrow}.png for the manifest's "screenshots"
// and prints their sizes (the manifest states them). Shapes are signed-distance capsules and
// rounded boxes, antialiased by 4x4 supersampling; PNG by png.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng } from './png.mjs';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'icons');
const BG = [37, 99, 235];     // theme colour, #2563eb
const PAD = [255, 255, 255];
const INK = [17, 24, 39];     // #111827

// RGBA pixels -> PNG; opaque: RGB without the alpha channel
function png(rgba, size, opaque = false) {
  if (!opaque) return encodePng(rgba, size, size, 4, 9);
  const rgb = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i++) rgba.copy(rgb, i * 3, i * 4, i * 4 + 3);
  return encodePng(rgb, size, size, 3, 9);
}

// distance from p to segment ab
function segDist(px, py, ax, ay, bx, by) {
  const dx = bx - ax, dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}
// signed distance to a rounded box centred at (cx, cy), half size h, radius r
function boxDist(px, py, cx, cy, h, r) {
  const qx = Math.abs(px - cx) - h + r, qy = Math.abs(py - cy) - h + r;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}

// the "7": a slightly rising bar, then a gently curved downstroke (unit coords)
function sevenPolyline() {
  const pts = [[0.30, 0.31], [0.50, 0.295], [0.69, 0.285]];
  // quadratic from the corner down to the foot
  const p0 = [0.69, 0.285], c = [0.55, 0.48], p1 = [0.47, 0.73];
  for (let i = 1; i <= 16; i++) {
    const t = i / 16, u = 1 - t;
    pts.push([u * u * p0[0] + 2 * u * t * c[0] + t * t * p1[0],
              u * u * p0[1] + 2 * u * t * c[1] + t * t * p1[1]]);
  }
  return pts;
}

// colour at unit point (x, y): [r, g, b], or null outside the icon.
// maskable: full bleed, content scaled by s (0.8: the safe zone)
function shade(x, y, maskable, s = maskable ? 0.8 : 1) {
  const ux = 0.5 + (x - 0.5) / s, uy = 0.5 + (y - 0.5) / s;
  if (!maskable && boxDist(x, y, 0.5, 0.5, 0.5, 0.22) > 0) return null;
  if (segDistPoly(ux, uy) < 0.055) return INK;
  if (boxDist(ux, uy, 0.5, 0.51, 0.31, 0.06) < 0) return PAD;
  return BG;
}
const SEVEN = sevenPolyline();
function segDistPoly(x, y) {
  let d = Infinity;
  for (let i = 1; i < SEVEN.length; i++)
    d = Math.min(d, segDist(x, y, ...SEVEN[i - 1], ...SEVEN[i]));
  return d;
}

function render(size, maskable, scale, opaque = false) {
  const buf = Buffer.alloc(size * size * 4);
  const SS = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let j = 0; j < SS; j++) {
        for (let i = 0; i < SS; i++) {
          const c = shade((x + (i + 0.5) / SS) / size, (y + (j + 0.5) / SS) / size, maskable, scale);
          if (!c) continue;
          r += c[0]; g += c[1]; b += c[2]; a += 1;
        }
      }
      const o = (y * size + x) * 4;
      if (a) {
        buf[o] = Math.round(r / a);
        buf[o + 1] = Math.round(g / a);
        buf[o + 2] = Math.round(b / a);
      }
      buf[o + 3] = Math.round((255 * a) / (SS * SS));
    }
  }
  if (opaque && buf.some((v, i) => i % 4 === 3 && v !== 255)) throw new Error('not opaque');
  return png(buf, size, opaque);
}

// width and height of a PNG file, from its IHDR
function pngSize(file) {
  const b = fs.readFileSync(file);
  if (b.readUInt32BE(12) !== 0x49484452) throw new Error(`${file}: not a PNG`);
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

fs.mkdirSync(OUT, { recursive: true });
for (const size of [192, 512]) {
  for (const maskable of [false, true]) {
    const name = `${maskable ? 'maskable' : 'icon'}-${size}.png`;
    const data = render(size, maskable);
    fs.writeFileSync(path.join(OUT, name), data);
    console.log(`web/icons/${name}: ${data.length} bytes`);
  }
}
{
  const data = render(180, true, 0.9, true);
  fs.writeFileSync(path.join(OUT, 'apple-touch-icon.png'), data);
  console.log(`web/icons/apple-touch-icon.png: ${data.length} bytes, opaque`);
}
if (process.argv.includes('--screenshots')) {
  const docs = path.join(OUT, '..', '..', 'docs');
  for (const [from, to] of [['screenshot-desktop.png', 'screenshot-wide.png'],
                            ['screenshot-phone.png', 'screenshot-narrow.png']]) {
    fs.copyFileSync(path.join(docs, from), path.join(OUT, to));
    console.log(`web/icons/${to}: ${pngSize(path.join(OUT, to)).join('x')} (docs/${from})`);
  }
}
