/* import.mjs: PyTorch -> ONNX -> digits against ONNX Runtime (issue 20).
 *
 * Every good fixture of tests/data/onnx/ (fixtures.json; made by
 * tools/onnx_fixtures.py from networks trained briefly in PyTorch; keras_op15
 * is written with onnx.helper in the layout tf2onnx gives a Keras CNN) is
 * converted by `digits convert` (with --normalize MEAN STD where the
 * fixture expects normalised input), and on the first 1,000 MNIST test
 * images digits' probabilities (dg_net_predict through onnx_tool, raw 0..1
 * images: the converted model normalises) are compared with onnxruntime-web's
 * on the ONNX file itself (given the images normalised by the test, as the
 * PyTorch user would; logits and log-probabilities turned into
 * probabilities): every probability within 1e-4, the accuracies within 0.05
 * points. The hostile fixtures each get their one-line message and no file
 * (tests/cli/convert.sh covers an exporter-made truncated file and Selu).
 *
 * Environment (ctest sets it; defaults relative to the repository):
 * DIGITS, ONNX_TOOL, DIGITS_DATA, DIGITS_TMP, DIGITS_TESTDATA.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { env, floats, testLabels } from '../interop/lib/files.mjs';

const N = 1000;
const TOL = 1e-4;
const ACC_POINTS = 0.05;

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

let dir, images, labels;

function run(cmd, ...args) {
  return spawnSync(cmd, args, { encoding: 'utf8' });
}



/* Rows of k scores as probabilities: softmax of logits, exp of log-probs. */
function toProbs(data, k, kind) {
  if (kind === 'probs') return data;
  const p = new Float64Array(data.length);
  for (let r = 0; r < data.length / k; r++) {
    const row = data.subarray(r * k, r * k + k);
    const m = kind === 'logits' ? Math.max(...row) : 0;
    let s = 0;
    for (let j = 0; j < k; j++) s += p[r * k + j] = Math.exp(row[j] - m);
    if (kind === 'logits') for (let j = 0; j < k; j++) p[r * k + j] /= s;
  }
  return p;
}

function accuracy(p, k) {
  let right = 0;
  for (let i = 0; i < N; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
    right += best === labels[i];
  }
  return right / N;
}

before(() => {
  for (const f of [env.digits, env.tool]) assert.ok(existsSync(f), `built: ${f}`);
  mkdirSync(env.tmp, { recursive: true });
  dir = mkdtempSync(join(env.tmp, 'onnx-import-'));
  const r = run(env.tool, 'images', env.data, String(N), join(dir, 'images.bin'));
  assert.equal(r.status, 0, r.stderr);
  images = floats(join(dir, 'images.bin'));
  labels = testLabels(env.data, N);
  assert.equal(images.length, N * 784);
});

after(() => dir && rmSync(dir, { recursive: true, force: true }));

const fixtures = JSON.parse(readFileSync(join(env.fixtures, 'fixtures.json'), 'utf8'));

test('the fixtures cover the opsets and the networks', () => {
  const files = fixtures.map((f) => f.file);
  for (const op of [9, 13, 15, 17, 21]) assert.ok(files.some((f) => f.endsWith(`_op${op}.onnx`)), `opset ${op}`);
  for (const net of ['mlp', 'lenet', 'bncnn', 'viewcnn', 'actcnn', 'gapcnn', 'nhwc', 'nhwcmlp', 'keras', 'permcnn'])
    assert.ok(files.some((f) => f.startsWith(`${net}_`)), net);
});

for (const fx of fixtures) {
  test(`${fx.file}: digits convert, then ONNX Runtime's probabilities`, async () => {
    const onnx = join(env.fixtures, fx.file);
    const model = join(dir, fx.file.replace(/\.onnx$/, '.safetensors'));
    const norm = fx.normalize ? ['--normalize', ...fx.normalize.map(String)] : [];
    let r = run(env.digits, 'convert', onnx, model, ...norm);
    assert.equal(r.status, 0, `digits convert ${fx.file}: ${r.stderr}`);
    const want = join(dir, `${fx.file}.probs`);
    r = run(env.tool, 'probs', model, env.data, String(N), want);
    assert.equal(r.status, 0, r.stderr);
    const ref = floats(want), k = ref.length / N;
    assert.equal(k, 10);

    let input = images;
    if (fx.normalize) {
      const [mean, std] = fx.normalize;
      input = images.map((v) => (v - mean) / std);
    }
    /* one channel: the same floats in every layout */
    const dims = { nchw: [N, 1, 28, 28], nhwc: [N, 28, 28, 1], flat: [N, 784] }[fx.input || 'nchw'];
    const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(onnx)));
    const out = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, dims) }))[session.outputNames[0]];
    await session.release();
    assert.deepEqual(out.dims, [N, k]);
    const got = toProbs(out.data, k, fx.output);

    let maxDiff = 0, at = 0;
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(got[i] - ref[i]);
      if (!(d <= maxDiff)) maxDiff = d, at = i; // NaN counts as a failure
    }
    const accOrt = accuracy(got, k), accDigits = accuracy(ref, k);
    console.log(`${fx.file}: max |ONNX Runtime - digits| = ${maxDiff.toExponential(2)}; accuracy ` +
                `${(100 * accOrt).toFixed(1)}% (ONNX Runtime) vs ${(100 * accDigits).toFixed(1)}% ` +
                `(digits), PyTorch ${(100 * fx.torch_accuracy).toFixed(1)}%, on ${N} test images`);
    assert.ok(maxDiff <= TOL, `probability ${at} differs by ${maxDiff} (> ${TOL}): ` +
                              `ONNX Runtime ${got[at]}, digits ${ref[at]}`);
    assert.ok(Math.abs(100 * (accOrt - accDigits)) <= ACC_POINTS, 'accuracies within 0.05 points');
    assert.ok(Math.abs(accOrt - fx.torch_accuracy) <= 0.0005, 'ONNX Runtime reads as PyTorch did');
    assert.ok(accDigits > 0.85, 'a trained model reads most digits');
  });
}

const bad = {
  'bad_bitflip.onnx': /bad_bitflip\.onnx: ONNX file is malformed: .*truncated or corrupted/,
  'bad_truncated.onnx': /bad_truncated\.onnx: ONNX file is malformed: .*truncated or corrupted/,
  'bad_conv_stride2.onnx': /ONNX node "[^"]*Conv" \(Conv\): strides 2 are not supported/,
  'bad_conv_pads.onnx': /ONNX node "[^"]*Conv" \(Conv\): asymmetric pads are not supported/,
  'bad_lstm.onnx': /ONNX node "[^"]*" \((\w+)\): operator \1 is not supported \(nor .*LSTM/,
  'bad_transpose.onnx': /ONNX node "[^"]*Transpose" \(Transpose\): perm \[0,1,3,2\] is not supported here: it leaves \[N,C,W,H\] data and node "[^"]*Conv" \(Conv\) needs \[N,C,H,W\]/,
};
for (const [file, message] of Object.entries(bad)) {
  test(`${file}: one clear line, nothing written`, () => {
    const out = join(dir, `${file}.safetensors`);
    const r = run(env.digits, 'convert', join(env.fixtures, file), out);
    assert.equal(r.status, 1);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.ok(!existsSync(out), 'nothing written');
  });
}
