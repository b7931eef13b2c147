/* compact.mjs: models/compact.mjs, which ships mlp-dropout as F16 and the
 * default model with I8 weights: its F16 rounding (to nearest, ties to
 * even, subnormals, the largest finite value), its refusal of values F16
 * cannot hold, its per-channel I8 quantization, and models it writes that
 * the native loader reads with the same predictions as the F32 original. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, env, scratch } from './lib/harness.mjs';

const tool = join(ROOT, 'models/compact.mjs');
const { toHalf, quantize } = await import(pathToFileURL(tool).href);

test('rounding to F16', () => {
  for (const [x, h, what] of [
    [0, 0x0000, 'zero'], [-0, 0x8000, 'negative zero'], [1, 0x3c00, 'one'], [-2, 0xc000, '-2'],
    [65504, 0x7bff, 'the largest finite F16'], [6.103515625e-05, 0x0400, 'the smallest normal'],
    [5.960464477539063e-08, 0x0001, 'the smallest subnormal'],
    [2.9802322387695312e-08, 0x0000, 'half the smallest subnormal: tie to even (0)'],
    [4.470348358154297e-08, 0x0001, '0.75 of the smallest subnormal: up'],
    [1.00048828125, 0x3c00, '1 + half an ulp: tie to even (down)'],
    [1.00146484375, 0x3c02, '1 + 1.5 ulp: tie to even (up)'],
    [0.1, 0x2e66, '0.1'],
  ]) assert.ok(toHalf(x) === h, `${what} -> 0x${h.toString(16)}: got 0x${toHalf(x).toString(16)}`);
});

test('values F16 cannot hold are refused', () => {
  for (const x of [70000, -1e6, Infinity, NaN])
    assert.throws(() => toHalf(x), /does not fit F16/, `${x} refused`);
});

test('a small model through it: half the bytes, the same digits', () => {
  const tmp = scratch('f16');
  const src = join(env.models, 'logreg.safetensors'), out = join(tmp, 'logreg16.safetensors');
  const r = spawnSync(process.execPath, [tool, src, out], { encoding: 'utf8' });
  assert.ok(r.status === 0, `compact.mjs converts logreg: ${r.stderr}`);
  const a = readFileSync(src).length, b = readFileSync(out).length;
  assert.ok(b < a * 0.55, `to about half the size: ${a} -> ${b} bytes`);
  const info = spawnSync(env.digits, ['info', out], { encoding: 'utf8' });
  assert.ok(info.status === 0 && /storage: F16/.test(info.stdout) && /test_accuracy/.test(info.stdout),
            `digits info reads it, metadata kept: ${info.stderr}`);
  const pred = (m) => spawnSync(env.digits, ['predict', '--model', m, ...['drawn-0.png', 'drawn-7.png']
    .map((f) => join(ROOT, 'docs/examples', f))], { encoding: 'utf8' }).stdout.split('\n')
    .map((l) => l.split('\t')[1]).join(',');
  assert.ok(pred(src) === pred(out) && pred(out).length > 2,
            `the same predictions as F32: ${pred(src)} vs ${pred(out)}`);

  const bad = join(tmp, 'bad.safetensors');
  writeFileSync(bad, Buffer.from('not a model at all'));
  const e = spawnSync(process.execPath, [tool, bad, join(tmp, 'never.safetensors')], { encoding: 'utf8' });
  assert.ok(e.status === 1 && /^compact: .*bad\.safetensors: /.test(e.stderr),
            `a broken file: exit 1 with a message: ${e.stderr}`);
});

test('I8 per output channel: the last axis, symmetric, an all-zero channel kept', () => {
  /* shape [2, 3]: channels are the columns */
  const [q, scale] = quantize([1, -0.5, 0, -2, 0.25, 0], 3);
  const s = new Float32Array(scale.buffer, scale.byteOffset, 3);
  assert.deepEqual(Array.from(s), [Math.fround(2 / 127), Math.fround(0.5 / 127), 1]);
  assert.deepEqual(Array.from(new Int8Array(q.buffer, q.byteOffset, 6)), [64, -127, 0, -127, 64, 0]);
});

test('a CNN through --int8: a quarter of the bytes, the same digits, the native loader reads it', () => {
  const tmp = scratch('i8');
  const src = join(env.models, 'lenet5.safetensors'), out = join(tmp, 'lenet5-i8.safetensors');
  const r = spawnSync(process.execPath, [tool, '--int8', src, out], { encoding: 'utf8' });
  assert.ok(r.status === 0, `compact.mjs --int8 converts lenet5: ${r.stderr}`);
  const a = readFileSync(src).length, b = readFileSync(out).length;
  assert.ok(b < a * 0.3, `to about a quarter of the size: ${a} -> ${b} bytes`);
  const head = JSON.parse(readFileSync(out).subarray(8, 8 + Number(readFileSync(out).readBigUInt64LE(0))));
  const i8 = Object.keys(head).filter((k) => head[k].dtype === 'I8');
  assert.ok(i8.length >= 4 && i8.every((k) => head[`${k}.scale`]?.dtype === 'F32'),
            `every weight I8 with its scales: ${i8.join(', ')}`);
  const info = spawnSync(env.digits, ['info', out], { encoding: 'utf8' });
  assert.ok(info.status === 0 && /storage: I8/.test(info.stdout), `digits info reads it: ${info.stderr}`);
  const pred = (m) => spawnSync(env.digits, ['predict', '--model', m, ...['drawn-0.png', 'drawn-7.png']
    .map((f) => join(ROOT, 'docs/examples', f))], { encoding: 'utf8' }).stdout.split('\n')
    .map((l) => l.split('\t')[1]).join(',');
  assert.ok(pred(src) === pred(out) && pred(out).length > 2,
            `the same predictions as F32: ${pred(src)} vs ${pred(out)}`);
});
