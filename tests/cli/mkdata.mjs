// mkdata.mjs: small datasets in the layouts `--data` takes besides the idx
// folder, made deterministically from MNIST (used by tests/cli/datasets.sh;
// not a test itself). Training sets come from MNIST's training images, test
// sets from its test images, so nothing is evaluated on what trained it.
//
//   node mkdata.mjs MNIST_DIR OUT_DIR
//
// OUT_DIR/images-train/D/*.{png,bmp,pgm}  train images [0, 600): PNG, BMP
//   and PGM in turn, dark ink on white paper for two in three, magnified 2x
//   for one in four (predict's preprocessing reads them all)
// OUT_DIR/images-test/D/...               test images [0, 300), the same way
// OUT_DIR/train.csv   label,pixel0..pixel783: train images [1000, 3000)
// OUT_DIR/test.csv    the same layout: test images [300, 800)
// OUT_DIR/kaggle-test.csv  pixel0..pixel783 (no label): test images [800, 830)
// OUT_DIR/kaggle-labels.txt  their labels, one a line
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { encodePng } from '../../web/tools/png.mjs';

const [mnist, out] = process.argv.slice(2);
if (!mnist || !out) {
  console.error('usage: node mkdata.mjs MNIST_DIR OUT_DIR');
  process.exit(2);
}

function readIdx(name) {
  const p = path.join(mnist, name);
  if (fs.existsSync(p)) return fs.readFileSync(p);
  return zlib.gunzipSync(fs.readFileSync(p + '.gz'));
}

function split(prefix) {
  const im = readIdx(`${prefix}-images-idx3-ubyte`);
  const lb = readIdx(`${prefix}-labels-idx1-ubyte`);
  return {
    image: (i) => im.subarray(16 + i * 784, 16 + (i + 1) * 784),
    label: (i) => lb[8 + i],
  };
}

// 8-bit gray PNG
const png = (px, w, h) => encodePng(px, w, h, 1);

// 24-bit BMP, bottom-up rows padded to 4 bytes
function bmp(px, w, h) {
  const row = (w * 3 + 3) & ~3, size = 54 + row * h;
  const b = Buffer.alloc(size);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(size, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(row * h, 34);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = px[(h - 1 - y) * w + x], o = 54 + y * row + 3 * x;
      b[o] = b[o + 1] = b[o + 2] = v;
    }
  return b;
}

function pgm(px, w, h) {
  return Buffer.concat([Buffer.from(`P5\n${w} ${h}\n255\n`, 'latin1'), px]);
}

// image i as a file the way a user might have it
function picture(img, i) {
  const dark = i % 3 !== 2, zoom = i % 4 === 3 ? 2 : 1, w = 28 * zoom;
  const px = Buffer.alloc(w * w);
  for (let y = 0; y < w; y++)
    for (let x = 0; x < w; x++) {
      const v = img[Math.floor(y / zoom) * 28 + Math.floor(x / zoom)];
      px[y * w + x] = dark ? 255 - v : v;
    }
  const kind = ['png', 'bmp', 'pgm'][i % 3];
  const enc = { png, bmp, pgm }[kind];
  return { ext: kind, bytes: enc(px, w, w) };
}

function folder(dir, set, from, to) {
  for (let d = 0; d < 10; d++) fs.mkdirSync(path.join(dir, String(d)), { recursive: true });
  for (let i = from; i < to; i++) {
    const { ext, bytes } = picture(set.image(i), i);
    fs.writeFileSync(path.join(dir, String(set.label(i)), `img${String(i).padStart(5, '0')}.${ext}`), bytes);
  }
}

function csv(file, set, from, to, labelled) {
  const head = Array.from({ length: 784 }, (_, k) => `pixel${k}`);
  const lines = [(labelled ? ['label', ...head] : head).join(',')];
  for (let i = from; i < to; i++) {
    const px = Array.from(set.image(i));
    lines.push((labelled ? [set.label(i), ...px] : px).join(','));
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

const train = split('train'), test = split('t10k');
fs.mkdirSync(out, { recursive: true });
folder(path.join(out, 'images-train'), train, 0, 600);
folder(path.join(out, 'images-test'), test, 0, 300);
csv(path.join(out, 'train.csv'), train, 1000, 3000, true);
csv(path.join(out, 'test.csv'), test, 300, 800, true);
csv(path.join(out, 'kaggle-test.csv'), test, 800, 830, false);
const labels = [];
for (let i = 800; i < 830; i++) labels.push(test.label(i));
fs.writeFileSync(path.join(out, 'kaggle-labels.txt'), labels.join('\n') + '\n');
