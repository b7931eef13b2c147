// tests/package/types-check.ts: the package's public API as a TypeScript
// user writes it, type-checked (never run) by tests/package/pack.mjs with
// `tsc --noEmit` inside the example app after installing the tarball. Each
// line marked as an expected error must be one: if the types let it
// through (a missing or `any` declaration), tsc reports the unused
// directive and the test fails.
import {
  createRecognizer, createTrainer, loadModule, DigitsError, Status, constants,
  simdSupported, relaxedSupported, simdBroken, preferSimd, preferredBuild, RELAXED_PROBE,
  Recognizer, Trainer, Fit, Net, DigitsModule,
} from 'digits-recognizer';
import type {
  Build, ImageSource, ModelInfo, Prediction, RemoteRecognizer, RemoteTrainer, RemoteFit,
  Evaluation, FitProgress, NumberReading, NumberDigit,
} from 'digits-recognizer';

export async function everything(canvas: HTMLCanvasElement, img: HTMLImageElement,
                                 file: File, bitmap: ImageBitmap): Promise<void> {
  const r: Recognizer = await createRecognizer();
  const sources: ImageSource[] = [canvas, img, file, bitmap, new OffscreenCanvas(28, 28),
                                  new ImageData(28, 28),
                                  { data: new Uint8ClampedArray(16), width: 2, height: 2 }];
  for (const s of sources) {
    const p: Prediction = await r.predict(s);
    const d: number | null = p.digit;
    const probs: Float32Array = p.probs;
    void [d, probs, p.confidence, p.empty, p.uncertain, p.box?.[0], p.info?.photo, p.ms];
  }
  r.predictSync(canvas);
  // @ts-expect-error a Blob needs decoding: predict, not predictSync
  r.predictSync(file);
  // @ts-expect-error not an image
  await r.predict(42);
  // @ts-expect-error the result's digit may be null
  const notNull: number = (await r.predict(canvas)).digit;
  void notNull;
  const num: NumberReading = await r.readNumber(file);
  const first: NumberDigit | undefined = num.digits[0];
  void [num.number, num.confidence, num.split, first?.digit, first?.box[2], first?.uncertain,
        first?.probs[0], r.readNumberSync(canvas).ms, constants.NumberLimits.maxDigits];
  // @ts-expect-error number is null when the image has no ink
  const numberText: string = (await r.readNumber(canvas)).number;
  void numberText;
  // @ts-expect-error a Blob needs decoding: readNumber, not readNumberSync
  r.readNumberSync(file);

  const info: ModelInfo = r.info();
  void [info.arch, info.params, info.layers[0]?.shape, info.testAccuracy, info.metadata['seed']];
  const build: Build = r.variant;
  void [build, r.simd, r.buildInfo];
  await r.loadModel('/models/mlp.safetensors');
  await r.loadModel(new Uint8Array(8));
  const x = new Float32Array(784);
  const e: Evaluation = r.evaluate(x, [3]);
  void [e.accuracy, r.predictBatch(x), await r.predictInput(x), r.predictInputSync(x)];
  const bytes: Uint8Array = r.saveModel({ note: 'types' });
  void bytes;
  r.dispose();
  r[Symbol.dispose]();
  {
    using scoped = await createRecognizer({ simd: false, wasmBase: '/assets/' });
    void scoped;
  }
  await createRecognizer({ wasm: { simd: '/a.wasm', plain: new URL('https://x/b.wasm') },
                           model: new URL('https://x/m.safetensors') });
  // @ts-expect-error simd takes 'auto' | 'relaxed' | boolean
  await createRecognizer({ simd: 'fast' });
  // @ts-expect-error a module cannot go to a worker
  await createRecognizer({ worker: true, module: await loadModule() });

  const w: RemoteRecognizer = await createRecognizer({ worker: true, workerUrl: '/w.js' });
  const wp: Prediction = await w.predict(canvas);
  const wn: NumberReading = await w.readNumber(canvas);
  void wn;
  const wi: ModelInfo = await w.info();
  const wb: Float32Array = await w.predictBatch(x);
  void [wp, wi, wb];
  // @ts-expect-error in a worker, info() is a promise
  const notInfo: ModelInfo = w.info();
  void notInfo;
  w.dispose();

  const t: Trainer = await createTrainer({ arch: 'mlp', lr: 1e-3, optimizer: 'sgd', augment: { rotate: 5 } });
  const { loss, accuracy } = t.trainBatch(x, new Uint8Array([1]));
  void [loss, accuracy];
  t.setLearningRate(1e-4);
  t.setAugment(true);
  const f: Fit = t.fit(x, [1], { epochs: 1, batch: 1 });
  while (f.beginEpoch()) {
    while (f.step() > 0);
    const pr: FitProgress = f.endEpoch();
    void pr.valAccuracy;
  }
  void f.finish().bestEpoch;
  f.dispose();
  void [t.augment(x), t.info(), t.saveModel(), t.net.inputSize];
  // @ts-expect-error optimizer is adam or sgd
  await createTrainer({ optimizer: 'rmsprop' });
  t.dispose();

  const rt: RemoteTrainer = await createTrainer({ worker: true, arch: 'cnn' });
  await rt.trainBatch(x, [1]);
  const rf: RemoteFit = await rt.fit(x, [1]);
  void (await rf.beginEpoch());
  rf.dispose();
  rt.dispose();

  const m: DigitsModule = await loadModule({ simd: 'auto' });
  const n: Net = m.newNet('mlp', 1);
  void [m.archNames(), n.info(), m.preprocess({ data: new Uint8Array(4), width: 1, height: 1 })];

  try {
    await createRecognizer({ model: 'missing.safetensors' });
  } catch (err) {
    if (err instanceof DigitsError && err.code === Status.IO) void err.codeName;
  }
  void [constants.ImageLimits.maxDim, constants.StatusName[String(Status.ARG)],
        simdSupported(), relaxedSupported(), simdBroken(''), preferSimd(), preferredBuild(),
        RELAXED_PROBE.length];
}
