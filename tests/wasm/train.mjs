/* train.mjs: training in WASM, one call per batch, as the browser worker
 * will do it. For each build: 300 Adam batches of 64 of `mlp` on 6,000
 * MNIST training digits lower the loss and reach > 85% on 1,000 test
 * digits; the same seed gives the same losses again; the saved bytes load
 * in the native `digits info` and `digits eval` (same accuracy on the same
 * 1,000 digits, within one image, and the same loss within 1e-3), and back
 * into WASM for fine-tuning; augmentation changes the pictures but not
 * their size. Also reports training speed (images per second). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUILDS, buildName, check, digits, env, mnist, native, rejects, run, scratch, writeIdx,
} from './lib/harness.mjs';

const BATCH = 64, STEPS = 300, NTRAIN = 6000, NTEST = 1000;

/* Batch i of a fixed shuffle of the training set: {x, labels}. */
function batches(train, seed) {
  const perm = Uint32Array.from({ length: train.n }, (_, i) => i);
  let s = seed >>> 0 || 1;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  for (let i = train.n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const x = new Float32Array(BATCH * 784), labels = new Uint8Array(BATCH);
  return (step) => {
    for (let b = 0; b < BATCH; b++) {
      const k = perm[(step * BATCH + b) % train.n];
      x.set(train.x.subarray(k * 784, k * 784 + 784), b * 784);
      labels[b] = train.labels[k];
    }
    return { x, labels };
  };
}

function trainRun(trainer, next, steps) {
  const losses = [];
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const { x, labels } = next(i);
    const { loss, accuracy } = trainer.trainBatch(x, labels);
    if (!(loss >= 0 && accuracy >= 0 && accuracy <= 1)) throw new Error(`step ${i}: loss ${loss}`);
    losses.push(loss);
  }
  return { losses, seconds: (performance.now() - t0) / 1000 };
}

const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;

await run(async () => {
  const tmp = scratch('train');
  const train = mnist('train', NTRAIN);
  const test = mnist('t10k', NTEST);
  const dataDir = join(tmp, 'data');
  mkdirSync(dataDir);
  writeIdx(join(dataDir, 't10k-images-idx3-ubyte'), [test.n, 28, 28], test.pixels);
  writeIdx(join(dataDir, 't10k-labels-idx1-ubyte'), [test.n], test.labels);

  for (const simd of BUILDS) {
    const name = buildName(simd);
    const t = await digits.createTrainer({ arch: 'mlp', seed: 7, lr: 1e-3, simd, wasmBase: env.wasm });
    check(t.variant === name && t.simd === (name !== 'plain'), `${name}: build in use`);
    check(t.info().params === 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10, `${name}: mlp parameters`);
    const before = t.evaluate(test.x, test.labels);
    const { losses, seconds } = trainRun(t, batches(train, 1), STEPS);
    const first = mean(losses.slice(0, 20)), last = mean(losses.slice(-20));
    check(last < first * 0.5, `${name}: loss falls`, `${first.toFixed(3)} -> ${last.toFixed(3)}`);
    const after = t.evaluate(test.x, test.labels, { batch: 128 });
    check(after.accuracy > 0.85, `${name}: > 85% on ${NTEST} test digits`,
          `${(100 * after.accuracy).toFixed(1)}% (before ${(100 * before.accuracy).toFixed(1)}%)`);
    console.log(`${name}: loss ${first.toFixed(3)} -> ${last.toFixed(3)}, test ${(100 * after.accuracy).toFixed(1)}%, ` +
                `${Math.round((STEPS * BATCH) / seconds)} images/s`);

    /* the same seed and batches give the same numbers */
    const t2 = await digits.createTrainer({ arch: 'mlp', seed: 7, lr: 1e-3, module: t.mod });
    const r2 = trainRun(t2, batches(train, 1), 30);
    check(r2.losses.every((l, i) => l === losses[i]), `${name}: training is deterministic`);
    t2.free();

    /* saved bytes load natively */
    const bytes = t.saveModel({ note: 'trained by tests/wasm/train.mjs', test_accuracy: after.accuracy.toFixed(4) });
    check(t.net.meta('note') === 'trained by tests/wasm/train.mjs' && t.net.meta('absent') === null,
          `${name}: metadata set and read back`);
    const file = join(tmp, `mlp-${name}.safetensors`);
    writeFileSync(file, bytes);
    const info = native(['info', file]);
    check(info.status === 0 && /note: trained by tests\/wasm\/train\.mjs/.test(info.stdout),
          `${name}: native digits info reads the saved model`, info.stderr);
    check(/Total params: 109,386/.test(info.stdout), `${name}: native sees the parameter count`);
    const ev = native(['eval', '--model', file, '--data', dataDir]);
    const m = /accuracy\s+[\d.]+%\s+\((\d+)\/(\d+)\)/.exec(ev.stdout);
    const nloss = Number(/^loss\s+([\d.]+)/m.exec(ev.stdout)?.[1]);
    check(ev.status === 0 && m && Math.abs(Number(m[1]) - after.correct) <= 1,
          `${name}: native eval accuracy equals WASM's`, `${m?.[1]} vs ${after.correct}; ${ev.stderr}`);
    check(Math.abs(nloss - after.loss) < 1e-3, `${name}: native eval loss equals WASM's`, `${nloss} vs ${after.loss}`);

    /* fine-tuning a loaded model continues from its weights */
    const ft = await digits.createTrainer({ model: bytes, lr: 1e-4, module: t.mod, augment: true });
    const ftBefore = ft.evaluate(test.x, test.labels);
    check(Math.abs(ftBefore.loss - after.loss) < 1e-6, `${name}: loaded model evaluates the same`);
    trainRun(ft, batches(train, 2), 20);
    const ftAfter = ft.evaluate(test.x, test.labels);
    check(ftAfter.accuracy > 0.8, `${name}: fine-tuning with augmentation keeps the accuracy`,
          `${ftAfter.accuracy}`);
    const aug = ft.augment(test.x.subarray(0, 784 * 4));
    check(aug.length === 784 * 4 && aug.some((v, i) => Math.abs(v - test.x[i]) > 0.1),
          `${name}: augment changes the pictures`);
    const rec = await digits.createRecognizer({ model: ft.saveModel(), module: t.mod });
    check(rec.predictInputSync(test.x.subarray(0, 784)).digit === test.labels[0] ||
          ftAfter.accuracy < 0.9, `${name}: a recognizer uses the trained model`);
    rec.free();

    /* bad training calls */
    await rejects(() => t.trainBatch(new Float32Array(784 * 2), Uint8Array.of(1, 10)),
                  `${name}: label 10 rejects`, (e) => e.code === digits.Status.ARG);
    await rejects(() => t.trainBatch(new Float32Array(100), Uint8Array.of(1)),
                  `${name}: wrong input size rejects`, (e) => e.code === digits.Status.ARG);
    await rejects(() => t.setLearningRate(-1), `${name}: negative lr rejects`,
                  (e) => e.code === digits.Status.ARG);
    await rejects(() => digits.createTrainer({ arch: 'no-such-net', module: t.mod }),
                  `${name}: unknown architecture rejects`, (e) => e.code < 0 && /no-such-net/.test(e.message));
    await rejects(() => digits.createTrainer({ optimizer: 'rmsprop', module: t.mod }),
                  `${name}: unknown optimizer rejects`, (e) => e.code === digits.Status.ARG);
    check(t.mod.archNames().includes('mlp') && t.mod.archNames().includes('cnn'),
          `${name}: architecture names listed`);
    ft.free();
    t.free();
  }
});
