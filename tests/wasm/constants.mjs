/* constants.mjs: web/lib/constants.js, the C values web/lib/digits.js
 * uses, is what cmake/constants.c prints from the headers now (not stale,
 * not edited by hand), and the values agree with what every build does:
 * status names from status_name, the net_info and predict-info layouts
 * read back sizes that the net's layers and the image confirm. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { BUILDS, ROOT, buildName, digits, env } from './lib/harness.mjs';

const C = digits.constants;

test('web/lib/constants.js is what cmake/constants.c prints from the headers', () => {
  const gen = join(dirname(env.digits), 'wasm-tests', 'gen_constants.js');
  assert.ok(existsSync(gen), `${gen} is missing (./build.sh build)`);
  const r = spawnSync(process.execPath, [gen], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const file = readFileSync(join(ROOT, 'web/lib/constants.js'), 'utf8');
  assert.equal(file, r.stdout, 'web/lib/constants.js differs from the C values: run ./build.sh build');
});

test('the wrapper exports the generated values', () => {
  assert.equal(digits.Status, C.Status);
  assert.equal(C.Status.OK, 0);
  for (const [name, code] of Object.entries(C.Status))
    if (name !== 'OK') assert.ok(code < 0, `${name}: ${code}`);
  assert.deepEqual(Object.keys(C.Optimizer), ['sgd', 'adam']);
  assert.ok(C.ImageLimits.maxDim > 0 && C.ImageLimits.maxPixels > 0);
});

/* A canvas with a vertical bar (a "1") on transparent paper. */
function bar(w, h) {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 20; y < 80; y++)
    for (let x = 45; x < 55; x++) data[(y * w + x) * 4 + 3] = 255;
  return { data, width: w, height: h };
}

for (const simd of BUILDS) {
  describe(buildName(simd), () => {
    test('status names are the module\'s', async () => {
      const mod = await digits.loadModule({ simd, wasmBase: env.wasm });
      for (const code of Object.values(C.Status))
        assert.equal(mod.string(mod.exports.status_name(code)), C.StatusName[code]);
      const e = new digits.DigitsError('x', C.Status.FORMAT);
      assert.equal(e.codeName, mod.string(mod.exports.status_name(C.Status.FORMAT)));
    });

    test('net_info read by its generated layout', async () => {
      const mod = await digits.loadModule({ simd, wasmBase: env.wasm });
      const net = mod.newNet('mlp', 1);
      try {
        const info = net.info();
        assert.equal(net.inputSize, 784);
        assert.equal(net.outputSize, 10);
        assert.equal(net.takesImage, true);
        assert.equal(info.layerCount, info.layers.length);
        assert.ok(info.layerCount > 0);
        assert.equal(info.params, info.layers.reduce((s, l) => s + l.params, 0));
        assert.equal(info.params, 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10);
        const kinds = new Set(C.LayerKinds.map((k) => k.name));
        for (const l of info.layers) assert.ok(kinds.has(l.kind), l.kind);
      } finally {
        net.free();
      }
    });

    test('predict\'s info read by its generated layout', async () => {
      const r = await digits.createRecognizer({ simd, wasmBase: env.wasm,
                                                model: join(env.models, 'default.safetensors') });
      try {
        const res = r.predictSync(bar(100, 100));
        assert.equal(res.digit, 1);
        assert.deepEqual(res.box, [45, 20, 10, 60]);
        assert.equal(res.info.photo, false);
        assert.ok(res.info.kept >= 1 && res.info.candidates >= 1 && res.info.scale === 1);
      } finally {
        r.free();
      }
    });
  });
}
