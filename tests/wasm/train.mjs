/* train.mjs: training in WASM, one call per batch, as the browser worker
 * will do it. For each build: 300 Adam batches of 64 of `mlp` on 6,000
 * MNIST training digits lower the loss and reach > 85% on 1,000 test
 * digits; the same seed gives the same losses again; the saved bytes load
 * in the native `digits info` and `digits eval` (same accuracy on the same
 * 1,000 digits, within one image, and the same loss within 1e-3), and back
 * into WASM for fine-tuning; augmentation changes the pictures but not
 * their size; the C epoch loop (Trainer.fit) driven a batch per call runs
 * every batch, validates each epoch, keeps the best epoch and is
 * deterministic. Also reports training speed (images per second). */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BUILDS, buildName, digits, env, mnist, native, rejects, scratch, writeIdx,
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

/* Two epochs of the C epoch loop (Trainer.fit) on the training digits, a
 * batch per call: the steps, the last step's figures, every epoch end's
 * (validation loss and accuracy, lr), finish()'s, and the accuracy after. */
async function fitRun(mod, opts = {}) {
  const t = await digits.createTrainer({ arch: 'mlp', seed: 5, lr: 1e-3, module: mod, ...opts });
  const f = t.fit(train.x, train.labels, { epochs: 2, batch: BATCH, valCount: 1000 });
  try {
    const ends = [];
    let steps = 0, last = null, biggest = 0;
    while (f.beginEpoch()) {
      for (let n; (n = f.step()) > 0;) {
        steps++;
        biggest = Math.max(biggest, n);
      }
      last = f.progress();
      ends.push(f.endEpoch());
    }
    const finish = f.finish();
    return { ends, steps, last, biggest, finish, acc: t.evaluate(test1k.x, test1k.labels).accuracy };
  } finally {
    f.free();
    t.free();
  }
}

const tmp = scratch('train');
const train = mnist('train', NTRAIN);
const test1k = mnist('t10k', NTEST);
const dataDir = join(tmp, 'data');
mkdirSync(dataDir);
writeIdx(join(dataDir, 't10k-images-idx3-ubyte'), [test1k.n, 28, 28], test1k.pixels);
writeIdx(join(dataDir, 't10k-labels-idx1-ubyte'), [test1k.n], test1k.labels);

for (const simd of BUILDS) {
  const name = buildName(simd);
  describe(name, () => {
    let t, losses, after1, bytes;   /* the trainer, its losses, its test result, its saved model */
    before(async () => {
      t = await digits.createTrainer({ arch: 'mlp', seed: 7, lr: 1e-3, simd, wasmBase: env.wasm });
    });
    after(() => t?.free());

    test(`${STEPS} batches lower the loss and reach > 85%`, () => {
      assert.ok(t.variant === name && t.simd === (name !== 'plain'), `${name}: build in use`);
      assert.ok(t.info().params === 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10, `${name}: mlp parameters`);
      const before = t.evaluate(test1k.x, test1k.labels);
      const r = trainRun(t, batches(train, 1), STEPS);
      losses = r.losses;
      const first = mean(losses.slice(0, 20)), last = mean(losses.slice(-20));
      assert.ok(last < first * 0.5, `${name}: loss falls: ${first.toFixed(3)} -> ${last.toFixed(3)}`);
      after1 = t.evaluate(test1k.x, test1k.labels, { batch: 128 });
      assert.ok(after1.accuracy > 0.85, `${name}: > 85% on ${NTEST} test digits: ` +
                `${(100 * after1.accuracy).toFixed(1)}% (before ${(100 * before.accuracy).toFixed(1)}%)`);
      console.log(`${name}: loss ${first.toFixed(3)} -> ${last.toFixed(3)}, test ${(100 * after1.accuracy).toFixed(1)}%, ` +
                  `${Math.round((STEPS * BATCH) / r.seconds)} images/s`);
    });

    /* the same seed and batches give the same numbers */
    test('training is deterministic', async (c) => {
      if (!losses) return c.skip('the training run above did not run');
      const t2 = await digits.createTrainer({ arch: 'mlp', seed: 7, lr: 1e-3, module: t.mod });
      const r2 = trainRun(t2, batches(train, 1), 30);
      assert.ok(r2.losses.every((l, i) => l === losses[i]), `${name}: training is deterministic`);
      t2.free();
    });

    /* saved bytes load natively */
    test('the saved model loads in the native CLI with the same accuracy and loss', (c) => {
      if (!after1) return c.skip('the training run above did not finish');
      bytes = t.saveModel({ note: 'trained by tests/wasm/train.mjs', test_accuracy: after1.accuracy.toFixed(4) });
      assert.ok(t.net.meta('note') === 'trained by tests/wasm/train.mjs' && t.net.meta('absent') === null,
                `${name}: metadata set and read back`);
      const file = join(tmp, `mlp-${name}.safetensors`);
      writeFileSync(file, bytes);
      const info = native(['info', file]);
      assert.ok(info.status === 0 && /note: trained by tests\/wasm\/train\.mjs/.test(info.stdout),
                `${name}: native digits info reads the saved model: ${info.stderr}`);
      assert.ok(/Total params: 109,386/.test(info.stdout), `${name}: native sees the parameter count`);
      const ev = native(['eval', '--model', file, '--data', dataDir]);
      const m = /accuracy\s+[\d.]+%\s+\((\d+)\/(\d+)\)/.exec(ev.stdout);
      const nloss = Number(/^loss\s+([\d.]+)/m.exec(ev.stdout)?.[1]);
      assert.ok(ev.status === 0 && m && Math.abs(Number(m[1]) - after1.correct) <= 1,
                `${name}: native eval accuracy equals WASM's: ${m?.[1]} vs ${after1.correct}; ${ev.stderr}`);
      assert.ok(Math.abs(nloss - after1.loss) < 1e-3, `${name}: native eval loss equals WASM's: ${nloss} vs ${after1.loss}`);
    });

    /* fine-tuning a loaded model continues from its weights */
    test('fine-tuning a loaded model with augmentation', async (c) => {
      if (!bytes) return c.skip('no saved model from the test above');
      const ft = await digits.createTrainer({ model: bytes, lr: 1e-4, module: t.mod, augment: true });
      try {
        const ftBefore = ft.evaluate(test1k.x, test1k.labels);
        assert.ok(Math.abs(ftBefore.loss - after1.loss) < 1e-6, `${name}: loaded model evaluates the same`);
        trainRun(ft, batches(train, 2), 20);
        const ftAfter = ft.evaluate(test1k.x, test1k.labels);
        assert.ok(ftAfter.accuracy > 0.8, `${name}: fine-tuning with augmentation keeps the accuracy: ` +
                  `${ftAfter.accuracy}`);
        const aug = ft.augment(test1k.x.subarray(0, 784 * 4));
        assert.ok(aug.length === 784 * 4 && aug.some((v, i) => Math.abs(v - test1k.x[i]) > 0.1),
                  `${name}: augment changes the pictures`);
        const rec = await digits.createRecognizer({ model: ft.saveModel(), module: t.mod });
        assert.ok(rec.predictInputSync(test1k.x.subarray(0, 784)).digit === test1k.labels[0] ||
                  ftAfter.accuracy < 0.9, `${name}: a recognizer uses the trained model`);
        rec.free();
      } finally {
        ft.free();
      }
    });

    /* the C epoch loop, driven a batch per call */
    test('fit: every batch of two epochs, validation, the best epoch kept, deterministic',
         async () => {
      const fr = await fitRun(t.mod);
      assert.ok(fr.steps === 2 * Math.ceil((NTRAIN - 1000) / BATCH) && fr.biggest === BATCH &&
                fr.last.batch === fr.last.batches && fr.last.seen === NTRAIN - 1000,
                `${name}: fit runs every batch: ${fr.steps} steps, last ${JSON.stringify(fr.last)}`);
      assert.ok(fr.ends.length === 2 && fr.ends.every((e) => e.done && e.valAccuracy > 0.85 &&
                Number.isFinite(e.valLoss) && e.lr > 0),
                `${name}: fit validates each epoch: ${JSON.stringify(fr.ends)}`);
      assert.ok(fr.finish.epochsRun === 2 && fr.finish.bestEpoch >= 1 && fr.acc > 0.85,
                `${name}: fit finishes with the best epoch's weights: ${JSON.stringify(fr)}`);
      const fr2 = await fitRun(t.mod);
      assert.ok(fr2.ends.every((e, i) => e.valLoss === fr.ends[i].valLoss) && fr2.acc === fr.acc,
                `${name}: fit is deterministic`);
      const fra = await fitRun(t.mod, { augment: true });
      assert.ok(fra.ends[1].valAccuracy > 0.8 && fra.ends[1].valLoss !== fr.ends[1].valLoss,
                `${name}: fit with augmentation trains on other pictures: ${JSON.stringify(fra.ends[1])}`);
      await rejects(() => t.fit(train.x, train.labels, { valCount: NTRAIN }),
                    `${name}: fit without training samples rejects`, (e) => e.code === digits.Status.ARG);
      await rejects(() => t.fit(new Float32Array(784 * 2), Uint8Array.of(1, 10)),
                    `${name}: fit with label 10 rejects`, (e) => e.code === digits.Status.ARG);
    });

    /* bad training calls */
    test('bad training calls reject', async () => {
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
      assert.ok(t.mod.archNames().includes('mlp') && t.mod.archNames().includes('cnn'),
                `${name}: architecture names listed`);
    });
  });
}
