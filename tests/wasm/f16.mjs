/* f16.mjs: models/f16.mjs, which ships mlp-dropout as F16: its rounding
 * (to nearest, ties to even, subnormals, the largest finite value), its
 * refusal of values F16 cannot hold, and a model it writes that the native
 * loader reads with the same predictions as the F32 original. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, env, scratch } from './lib/harness.mjs';

const tool = join(ROOT, 'models/f16.mjs');
const { toHalf } = await import(pathToFileURL(tool).href);

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
  assert.ok(r.status === 0, `f16.mjs converts logreg: ${r.stderr}`);
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
  assert.ok(e.status === 1 && /^f16: .*bad\.safetensors: /.test(e.stderr),
            `a broken file: exit 1 with a message: ${e.stderr}`);
});
