/* onnx_load.mjs: an ONNX model loads straight into the WebAssembly module
 * (issue 20: the page's "Load a model file" takes .onnx), in every build.
 * Recognizer.loadModel(bytes of a .onnx file) converts it with the C
 * importer (src/wasm/api.c onnx_load -> dg_onnx_import_mem, the code
 * behind `digits convert`): on 200 MNIST test images its probabilities
 * are those of the native `digits convert` output loaded in the same build
 * (bit for bit) and within 1e-4 of onnxruntime-web on the ONNX file; a
 * converted net saves as a digits file; an unsupported operator and a
 * truncated file reject with the importer's message and keep the model. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-web';
import { describeBuilds, digits, env, maxAbsDiff, mnist, native, rejects, scratch } from './lib/harness.mjs';

const N = 200;
const onnxDir = join(env.testdata, 'onnx');
const fixtures = JSON.parse(readFileSync(join(onnxDir, 'fixtures.json'), 'utf8'))
  .filter((f) => ['lenet_op13.onnx', 'actcnn_op9.onnx', 'gapcnn_op17.onnx', 'nhwc_op13.onnx',
                  'bncnn_op17.onnx'].includes(f.file));
const tmp = scratch('onnx-load');
const { x } = mnist('t10k', N);

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

/* onnxruntime-web's probabilities for the first N images (the fixture's
 * input layout and normalisation; logits and log-probabilities as
 * probabilities). */
async function oracle(fx, bytes) {
  const input = fx.normalize ? x.map((v) => (v - fx.normalize[0]) / fx.normalize[1]) : x;
  const dims = { nchw: [N, 1, 28, 28], nhwc: [N, 28, 28, 1], flat: [N, 784] }[fx.input || 'nchw'];
  const s = await ort.InferenceSession.create(bytes);
  const out = (await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', input, dims) }))[s.outputNames[0]];
  await s.release();
  const p = new Float32Array(out.data.length);
  for (let r = 0; r < N; r++) {
    const row = out.data.subarray(r * 10, r * 10 + 10);
    const m = fx.output === 'logits' ? Math.max(...row) : 0;
    let sum = 0;
    for (let j = 0; j < 10; j++) sum += p[r * 10 + j] = fx.output === 'probs' ? row[j] : Math.exp(row[j] - m);
    if (fx.output === 'logits') for (let j = 0; j < 10; j++) p[r * 10 + j] /= sum;
  }
  return p;
}

test('the fixtures are there', () => assert.equal(fixtures.length, 5));

describeBuilds({}, (name, ctx) => {
  for (const fx of fixtures) {
    test(`${fx.file}: loaded as ONNX = digits convert's file, and ONNX Runtime`, async () => {
      const bytes = new Uint8Array(readFileSync(join(onnxDir, fx.file)));
      const converted = join(tmp, `${name}-${fx.file}.safetensors`);
      const norm = fx.normalize ? ['--normalize', ...fx.normalize.map(String)] : [];
      assert.equal(native(['convert', join(onnxDir, fx.file), converted]).status, 0);
      const info = await ctx.rec.loadModel(bytes);
      assert.match(info.metadata?.converted_from ?? '', /ONNX \(opset/);
      const got = await ctx.rec.predictBatch(x);
      await ctx.rec.loadModel(new Uint8Array(readFileSync(converted)));
      assert.deepEqual(await ctx.rec.predictBatch(x), got, 'the same net as digits convert makes');
      if (fx.normalize) {
        /* the ONNX file expects normalised input; the converted net is
         * told so by --normalize, as a user would */
        assert.equal(native(['convert', join(onnxDir, fx.file), converted, ...norm]).status, 0);
        await ctx.rec.loadModel(new Uint8Array(readFileSync(converted)));
      }
      const d = maxAbsDiff(await ctx.rec.predictBatch(x), await oracle(fx, bytes));
      console.log(`${name} ${fx.file}: max |ONNX Runtime - digits (WebAssembly)| = ${d.toExponential(2)}`);
      assert.ok(d <= 1e-4, `max diff ${d}`);
    });
  }

  test('a loaded ONNX model saves as a digits model file', async () => {
    await ctx.rec.loadModel(new Uint8Array(readFileSync(join(onnxDir, 'lenet_op13.onnx'))));
    const want = await ctx.rec.predictBatch(x.subarray(0, 784 * 8));
    const saved = await ctx.rec.saveModel();
    assert.equal(Number(new DataView(saved.buffer, saved.byteOffset).getUint8(8)), 0x7b, 'safetensors');
    await ctx.rec.loadModel(saved);
    assert.deepEqual(await ctx.rec.predictBatch(x.subarray(0, 784 * 8)), want);
  });

  test('unsupported and truncated ONNX files reject with the importer\'s message', async () => {
    await ctx.rec.loadModel(new Uint8Array(readFileSync(join(onnxDir, 'lenet_op13.onnx'))));
    const before = await ctx.rec.predictBatch(x.subarray(0, 784));
    const isFormat = (re) => (e) => e instanceof digits.DigitsError && e.code === digits.Status.FORMAT &&
                                    re.test(e.message);
    await rejects(() => ctx.rec.loadModel(new Uint8Array(readFileSync(join(onnxDir, 'bad_lstm.onnx')))),
                  'LSTM', isFormat(/operator \w+ is not supported \(nor .*LSTM/));
    await rejects(() => ctx.rec.loadModel(new Uint8Array(readFileSync(join(onnxDir, 'bad_conv_stride2.onnx')))),
                  'stride 2', isFormat(/\(Conv\): strides 2 are not supported/));
    await rejects(() => ctx.rec.loadModel(new Uint8Array(readFileSync(join(onnxDir, 'bad_truncated.onnx')))),
                  'truncated', isFormat(/ONNX file is malformed/));
    assert.deepEqual(await ctx.rec.predictBatch(x.subarray(0, 784)), before, 'the model stayed');
  });
});
