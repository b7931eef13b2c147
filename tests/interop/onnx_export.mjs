/* onnx_export.mjs: digits -> ONNX against ONNX Runtime (issue 20).
 *
 * Every shipped model (models/*.safetensors) is exported by the C exporter
 * (dg_onnx_export_mem through onnx_tool), run by onnxruntime-web (npm,
 * WebAssembly backend, one thread) on the first 1,000 MNIST test images,
 * and compared with the probabilities digits itself gives for the same
 * images (dg_net_predict through onnx_tool): every probability within
 * 1e-4, and the same accuracy. Nets of other shapes (every layer kind the
 * architecture language has (leaky ReLU, global average pooling, conv
 * padding of any size too), batch norm after dense layers, a dense layer
 * straight after a convolution, no softmax at the end, softmax over
 * channels, another batch-norm epsilon, input normalisation) are made
 * with random weights and compared the same way. `digits convert` writes
 * the same bytes as the exporter called directly, and its way back (the
 * importer) gives a net with the same probabilities, settings and
 * metadata.
 *
 * Environment (ctest sets it; defaults relative to the repository):
 * ONNX_TOOL (tests/interop/onnx_tool.c, built), DIGITS_MODELS, DIGITS_DATA,
 * DIGITS_TMP, ONNX_IMAGES (how many test images, default 1000).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { env, floats, testLabels } from './lib/files.mjs';

const N = Number(process.env.ONNX_IMAGES || 1000);
const TOL = 1e-4;

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

let dir, images, labels;

function tool(...args) {
  const r = spawnSync(env.tool, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `onnx_tool ${args.join(' ')}: ${r.stderr}`);
}



function argmax(p, row, k) {
  let best = 0;
  for (let j = 1; j < k; j++) if (p[row * k + j] > p[row * k + best]) best = j;
  return best;
}

/* ONNX Runtime on the exported file against digits' probabilities. */
async function compare(model, name) {
  const onnx = join(dir, `${name}.onnx`), want = join(dir, `${name}.probs`);
  tool('export', model, onnx);
  tool('probs', model, env.data, String(N), want);
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(onnx)));
  assert.deepEqual(session.inputNames, ['input']);
  assert.deepEqual(session.outputNames, ['probs']);
  /* the number verifier of pieces takes 2 channels (the digit, the ink
   * around it): each image in both, as onnx_tool probs gives it (NCHW
   * here); the window reader 28x36: each image centred */
  const [, c, h, w] = session.inputMetadata?.[0]?.shape ?? [N, name === 'verifier' ? 2 : 1, 28, 28];
  const pad = (w - 28) / 2, x = new Float32Array(N * c * h * w);
  for (let i = 0; i < N; i++)
    for (let j = 0; j < c; j++)
      for (let v = 0; v < 28; v++)
        x.set(images.subarray(i * 784 + v * 28, i * 784 + v * 28 + 28), ((i * c + j) * h + v) * w + pad);
  const input = new ort.Tensor('float32', x, [N, c, h, w]);
  const out = (await session.run({ input })).probs;
  await session.release();
  const ref = floats(want), k = ref.length / N;
  assert.deepEqual(out.dims, [N, k], `${name}: output shape`);
  let maxDiff = 0, at = 0, accOrt = 0, accDigits = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(out.data[i] - ref[i]);
    if (!(d <= maxDiff)) maxDiff = d, at = i; // NaN counts as a failure
  }
  for (let i = 0; i < N; i++) {
    accOrt += argmax(out.data, i, k) === labels[i];
    accDigits += argmax(ref, i, k) === labels[i];
  }
  console.log(`${name}: max |ONNX Runtime - digits| = ${maxDiff.toExponential(2)}; ` +
              `accuracy ${(100 * accOrt / N).toFixed(1)}% vs ${(100 * accDigits / N).toFixed(1)}% ` +
              `on ${N} test images`);
  assert.ok(maxDiff <= TOL, `${name}: probability ${at} differs by ${maxDiff} (> ${TOL}): ` +
                            `ONNX Runtime ${out.data[at]}, digits ${ref[at]}`);
  assert.equal(accOrt, accDigits, `${name}: the same accuracy`);
  return { accOrt, k };
}

/* digits convert: MODEL -> .onnx is the exporter's bytes; .onnx -> back
 * to a model file computes what MODEL computes. */
function roundTrip(model, name) {
  const viaCli = join(dir, `${name}.cli.onnx`), back = join(dir, `${name}.back.safetensors`);
  const run = (...a) => {
    const r = spawnSync(env.digits, a, { encoding: 'utf8' });
    assert.equal(r.status, 0, `digits ${a.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  run('convert', model, viaCli);
  assert.ok(readFileSync(viaCli).equals(readFileSync(join(dir, `${name}.onnx`))),
            `${name}: digits convert writes the exporter's bytes`);
  run('convert', viaCli, back);
  /* the training metadata comes back from metadata_props */
  const meta = (f) => JSON.parse(run('info', '--json', f)).metadata;
  const was = meta(model), now = meta(back);
  assert.match(now.converted_from, /^ONNX \(opset 13, producer "digits"\)$/);
  delete now.converted_from, delete was.converted_from;
  assert.deepEqual(now, was, `${name}: the metadata comes back`);
  tool('probs', back, env.data, String(N), join(dir, `${name}.back.probs`));
  const a = floats(join(dir, `${name}.probs`)), b = floats(join(dir, `${name}.back.probs`));
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  console.log(`${name}: safetensors -> ONNX -> safetensors: max difference ${d.toExponential(2)}`);
  assert.ok(d <= 1e-6, `${name}: the round trip computes the same (max difference ${d})`);
}

before(() => {
  assert.ok(existsSync(env.tool), `onnx_tool is built: ${env.tool}`);
  mkdirSync(env.tmp, { recursive: true });
  dir = mkdtempSync(join(env.tmp, 'onnx-export-'));
  tool('images', env.data, String(N), join(dir, 'images.bin'));
  images = floats(join(dir, 'images.bin'));
  labels = testLabels(env.data, N);
  assert.equal(images.length, N * 784);
});

after(() => dir && rmSync(dir, { recursive: true, force: true }));

const shipped = readdirSync(env.models).filter((f) => f.endsWith('.safetensors')).sort();

test('every shipped model is here', () => {
  for (const m of ['logreg', 'mlp', 'mlp50', 'mlp-dropout', 'lenet5', 'cnn', 'cnn-aug', 'default'])
    assert.ok(shipped.includes(`${m}.safetensors`), `models/${m}.safetensors`);
});

for (const file of shipped) {
  const name = basename(file, '.safetensors');
  test(`${name}: ONNX Runtime gives digits' probabilities`, async () => {
    const { accOrt } = await compare(join(env.models, file), name);
    assert.ok(accOrt / N > 0.9, `${name}: a trained model reads most digits`);
    roundTrip(join(env.models, file), name);
  });
}

/* Random nets through every layer kind and shape the exporter handles. */
const specs = {
  'avgpool-sigmoid-tanh-bn':
    'input 28 28 1; conv 4 3 same; bn; tanh; avgpool 2; conv 6 3 valid; sigmoid; ' +
    'maxpool 3; flatten; dense 16; bn; relu; dropout 0.3; dense 10; softmax',
  'dense-after-conv-no-softmax': 'input 28 28 1; conv 3 5 valid; relu; maxpool 2; dense 10',
  'softmax-over-channels-2x2': 'input 28 28 1; conv 5 3 valid; maxpool 13; softmax',
  'softmax-over-channels-1x1': 'input 28 28 1; conv 10 14 valid; maxpool 15; softmax',
  'bn-first': 'input 28 28 1; bn; conv 2 3 same; relu; flatten; dense 10',
  'leakyrelu-gap': 'input 28 28 1; conv 8 3 same; leakyrelu 0.1; maxpool 2; conv 10 3 valid; gap; softmax',
  'conv-pad-even-kernel': 'input 28 28 1; conv 4 4 pad 2; relu; conv 6 3 pad 1; maxpool 2; flatten; dense 10',
  'gap-dense': 'input 28 28 1; conv 6 5 valid; bn; leakyrelu 0.3; gap; flatten; dense 10',
  /* the net's settings: a batch-norm epsilon far from the default, and
   * MNIST's input normalisation (BatchNormalization's epsilon, Sub + Div) */
  'eps-0.1-normalized': ['input 28 28 1; conv 4 3 valid; bn; relu; maxpool 2; flatten; dense 10',
                          '0.1', '0.1307', '0.3081'],
};
for (const [name, spec] of Object.entries(specs)) {
  test(`random net ${name}: ONNX Runtime gives digits' probabilities`, async () => {
    const model = join(dir, `${name}.safetensors`);
    const [arch, ...settings] = Array.isArray(spec) ? spec : [spec];
    tool('random', arch, '7', model, ...settings);
    const { k } = await compare(model, name);
    assert.equal(k, name.endsWith('2x2') ? 20 : 10);
    if (settings.length) roundTrip(model, name);
  });
}

test('bad arguments and files get a status and a message', () => {
  tool('errors'); // null net, buffer or length: DG_ERR_ARG, outputs untouched
  const missing = join(dir, 'missing.safetensors');
  let r = spawnSync(env.tool, ['export', missing, join(dir, 'x.onnx')], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /missing\.safetensors/);
  assert.ok(!existsSync(join(dir, 'x.onnx')), 'nothing written');
  const notModel = join(dir, 'images.bin'); // raw floats, not a model file
  r = spawnSync(env.tool, ['export', notModel, join(dir, 'y.onnx')], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /images\.bin: model header/);
  assert.ok(!existsSync(join(dir, 'y.onnx')), 'nothing written');
});
