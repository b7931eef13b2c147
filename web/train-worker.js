/* train-worker.js: a module Web Worker that owns the training WebAssembly
 * instance (through digits.js createTrainer) so the page never waits on a
 * batch. Messages in (from train.js):
 *   {type:'init', simd, warm}                which build to use ('relaxed'/true/false/'auto'),
 *                                            networks to warm up (arch specs)
 *   {type:'data', ntrain, ntest, raw}        the decompressed subset payload (subset.js)
 *   {type:'start', arch, epochs, batch, lr, seed}
 *   {type:'pause'} {type:'resume'} {type:'stop'}
 *   {type:'finetune', model, examples:[{label, pixels}], epochs, lr, seed}
 * Messages out:
 *   {type:'ready', ntrain, ntest}            data decoded
 *   {type:'state', state}                    'running' | 'paused' | 'idle'
 *   {type:'progress', ...}                   at most every PROGRESS_MS while training
 *   {type:'epoch', ...}                      test accuracy, confusion matrix, a grid of guesses
 *   {type:'done', bytes, ...}                the trained model (.safetensors)
 *   {type:'finetuned', bytes, before, after, testBefore, testAfter}
 *   {type:'error', message}
 * Training runs one batch per call into WASM and yields to the message loop
 * every few milliseconds, so pause and stop take effect between batches.
 *
 * Warm-up: V8 runs WebAssembly first in its baseline tier (about 10x slower
 * here) and compiles a function with its optimizing tier only once it has
 * run hot, in the background. Left to the first epoch, that took its first
 * second or so (mlp: 1.3-1.7 s for the first epoch, 0.7 s for the next).
 * So on 'init', while the page downloads and decodes the subset, the worker
 * trains each network of the panel for two small batches of zeros on a
 * throwaway net: every hot kernel then gets compiled before 'start'. It
 * stops as soon as real work arrives.
 */
import { createTrainer, loadModule } from './lib/digits.js';
import { splitSubset } from './lib/subset.js';

const PROGRESS_MS = 100;   /* at most this often a progress message */
const YIELD_MS = 15;       /* work between looks at the message queue */
const GRID = 48;           /* test digits shown with their guesses */

let simd = 'auto';
let mod = null;            /* Promise<DigitsModule>: one for every trainer */
let data = null;           /* {ntrain, ntest, trainLabels, testLabels, trainImages, testImages,
                            * trainX, testX (floats 0..1, converted once: a batch is then a copy)} */
let job = null;            /* {paused, stopped, wake} while training or fine-tuning */

const post = (m, transfer) => self.postMessage(m, transfer ?? []);

/* Let queued messages (pause, stop) run: a MessageChannel round trip is not
 * clamped like setTimeout. */
const channel = new MessageChannel();
const wakers = [];         /* one per pending yield (training and warm-up may both wait) */
channel.port1.onmessage = () => wakers.shift()?.();
const yieldNow = () => new Promise((resolve) => {
  wakers.push(resolve);
  channel.port2.postMessage(0);
});

/* The one module instance (a promise, so concurrent callers share it). */
function module() {
  if (!mod) {
    mod = loadModule({ simd });
    mod.catch(() => { mod = null; }); /* a failed load is tried again next time */
  }
  return mod;
}

function toFloats(bytes) {
  const x = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) x[i] = bytes[i] * (1 / 255);
  return x;
}

/* xorshift32, seeded: shuffles are reproducible */
function rng(seed) {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

function shuffle(perm, rnd) {
  for (let i = perm.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = perm[i]; perm[i] = perm[j]; perm[j] = t;
  }
}

/* Between batches: honour pause (wait) and stop (true = stop now). */
async function checkpoint() {
  await yieldNow();
  if (job.paused && !job.stopped) {
    post({ type: 'state', state: 'paused' });
    const t0 = performance.now();
    await new Promise((resolve) => { job.wake = resolve; });
    job.pausedMs += performance.now() - t0;
    if (!job.stopped) post({ type: 'state', state: 'running' });
  }
  return job.stopped;
}

/* A few training steps of each network on zeros (see the header). */
async function warmUp(archs) {
  const m = await module();
  const B = 8, x = new Float32Array(B * 784), labels = new Uint8Array(B);
  for (const arch of archs) {
    if (job) return;
    let t = null;
    try {
      t = await createTrainer({ arch, module: m, lr: 1e-3 });
      for (let i = 0; i < 2 && !job; i++) {
        t.trainBatch(x, labels);
        await yieldNow();
      }
    } catch {
      /* a warm-up failure changes nothing: training reports its own errors */
    } finally {
      t?.free();
    }
  }
}

/* Test accuracy, loss, confusion matrix [true*10+guess] and the grid. */
function evaluate(trainer) {
  const { testX, testLabels, ntest, testImages } = data;
  const r = trainer.evaluate(testX, testLabels, { probs: true });
  const confusion = new Int32Array(100);
  const guesses = new Uint8Array(ntest);
  for (let i = 0; i < ntest; i++) {
    let best = 0;
    for (let k = 1; k < 10; k++) if (r.probs[i * 10 + k] > r.probs[i * 10 + best]) best = k;
    guesses[i] = best;
    confusion[testLabels[i] * 10 + best]++;
  }
  const n = Math.min(GRID, ntest);
  return {
    testAccuracy: r.accuracy, testLoss: r.loss, correct: r.correct, n: ntest, confusion,
    grid: { images: testImages.slice(0, n * 784), labels: testLabels.slice(0, n),
            guesses: guesses.slice(0, n) },
  };
}

async function train({ arch, epochs, batch, lr, seed = 1, archLabel }) {
  const trainer = await createTrainer({ arch, lr, seed, module: await module() });
  const { ntrain, trainLabels, trainX } = data;
  const B = Math.max(1, Math.min(batch, ntrain));
  const steps = Math.ceil(ntrain / B);
  const perm = Uint32Array.from({ length: ntrain }, (_, i) => i);
  const rnd = rng(seed * 7919 + 1);
  const xb = new Float32Array(B * 784), lb = new Uint8Array(B);
  let trainMs = 0, epochMs = 0, totalSeen = 0, last = null, epochDone = 0, dirty = false;
  post({ type: 'state', state: 'running' });
  outer:
  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffle(perm, rnd);
    epochMs = 0;
    let seen = 0, lossSum = 0, accSum = 0, winLoss = 0, winAcc = 0, winN = 0;
    let lastPost = performance.now(), lastYield = lastPost;
    const epochStart = lastPost, paused0 = job.pausedMs;
    const points = [];
    for (let step = 0; step < steps; step++) {
      const now = performance.now();
      if (now - lastYield >= YIELD_MS) {
        if (await checkpoint()) break outer;
        lastYield = performance.now();
      }
      const n = Math.min(B, ntrain - step * B);
      const x = n === B ? xb : xb.subarray(0, n * 784), l = n === B ? lb : lb.subarray(0, n);
      for (let b = 0; b < n; b++) {
        const k = perm[step * B + b];
        x.set(trainX.subarray(k * 784, k * 784 + 784), b * 784);
        l[b] = trainLabels[k];
      }
      const r = trainer.trainBatch(x, l);
      dirty = true;
      seen += n;
      totalSeen += n;
      lossSum += r.loss * n; accSum += r.accuracy * n;
      winLoss += r.loss * n; winAcc += r.accuracy * n; winN += n;
      const t1 = performance.now();
      /* wall-clock time of this epoch so far, pauses excluded, batch
       * preparation and yields included */
      epochMs = t1 - epochStart - (job.pausedMs - paused0);
      if (t1 - lastPost >= PROGRESS_MS || step === steps - 1) {
        points.push({ x: epoch + seen / ntrain, loss: winLoss / winN, acc: winAcc / winN });
        winLoss = winAcc = winN = 0;
        post({ type: 'progress', epoch, epochs, step: step + 1, steps, seen, ntrain,
               loss: lossSum / seen, acc: accSum / seen, ips: seen / (epochMs / 1000),
               points: points.splice(0) });
        lastPost = t1;
      }
    }
    trainMs += epochMs;
    last = { ...evaluate(trainer), epoch, partial: false, trainLoss: lossSum / seen,
             trainAcc: accSum / seen, ips: seen / (epochMs / 1000), seconds: epochMs / 1000 };
    epochDone = epoch + 1;
    dirty = false;
    post({ type: 'epoch', ...last });
  }
  if (dirty) {
    trainMs += epochMs;
    /* stopped inside an epoch: the test numbers describe the final weights */
    last = { ...evaluate(trainer), epoch: epochDone, partial: true, ips: totalSeen / (trainMs / 1000) };
    post({ type: 'epoch', ...last });
  }
  const accuracy = last?.testAccuracy ?? null;
  const bytes = trainer.saveModel({
    arch_name: archLabel || arch,
    test_accuracy: accuracy == null ? '' : accuracy.toFixed(4),
    test_data: `MNIST subset, ${data.ntest} test images (web/build/mnist-subset.bin)`,
    train_data: `MNIST subset, ${ntrain} training images`,
    trained_in: 'browser (web/train-worker.js)',
    epochs: String(totalSeen / ntrain), batch: String(B), lr: String(lr), seed: String(seed),
    date: new Date().toISOString(),
  });
  trainer.free();
  post({ type: 'done', bytes, testAccuracy: accuracy, arch: archLabel || arch, stopped: job.stopped,
         images: totalSeen, seconds: trainMs / 1000, ips: totalSeen / (trainMs / 1000) },
       [bytes.buffer]);
}

/* Fine-tune a model on personal examples mixed 1:3 with subset images. */
async function finetune({ model, examples, epochs = 3, lr = 3e-4, seed = 1 }) {
  const trainer = await createTrainer({ model, lr, seed, module: await module(), augment: true });
  const n = examples.length;
  const ex = new Float32Array(n * 784), exLabels = new Uint8Array(n);
  examples.forEach((e, i) => { ex.set(toFloats(e.pixels), i * 784); exLabels[i] = e.label; });
  const before = trainer.evaluate(ex, exLabels).accuracy;
  const testBefore = trainer.evaluate(data.testX, data.testLabels).accuracy;
  const OWN = 8, B = 32;
  const steps = Math.max(30, Math.ceil((n * 4) / OWN));
  const rnd = rng(seed * 104729 + 3);
  const xb = new Float32Array(B * 784), lb = new Uint8Array(B);
  const { ntrain, trainX, trainLabels } = data;
  let lastPost = 0, lastYield = performance.now();
  post({ type: 'state', state: 'running' });
  outer:
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let step = 0; step < steps; step++) {
      if (performance.now() - lastYield >= YIELD_MS) {
        if (await checkpoint()) break outer;
        lastYield = performance.now();
      }
      for (let b = 0; b < B; b++) {
        if (b < OWN) {
          const k = Math.floor(rnd() * n);
          xb.set(ex.subarray(k * 784, k * 784 + 784), b * 784);
          lb[b] = exLabels[k];
        } else {
          const k = Math.floor(rnd() * ntrain);
          xb.set(trainX.subarray(k * 784, k * 784 + 784), b * 784);
          lb[b] = trainLabels[k];
        }
      }
      trainer.trainBatch(xb, lb);
      if (performance.now() - lastPost >= PROGRESS_MS) {
        post({ type: 'ft-progress', done: (epoch * steps + step + 1) / (epochs * steps) });
        lastPost = performance.now();
      }
    }
  }
  const after = trainer.evaluate(ex, exLabels).accuracy;
  const testAfter = trainer.evaluate(data.testX, data.testLabels).accuracy;
  const bytes = trainer.saveModel({ fine_tuned: `${n} personal examples, ${epochs} epochs, lr ${lr}`,
                                    test_accuracy: testAfter.toFixed(4),
                                    date: new Date().toISOString() });
  const arch = trainer.info().metadata.arch_name ?? '';
  trainer.free();
  post({ type: 'finetuned', bytes, before, after, testBefore, testAfter, n, arch }, [bytes.buffer]);
}

async function run(fn, msg) {
  if (job) return post({ type: 'error', message: 'busy: stop the current run first' });
  if (!data) return post({ type: 'error', message: 'the training data is not loaded yet' });
  job = { paused: false, stopped: false, wake: null, pausedMs: 0 };
  try {
    await fn(msg);
  } catch (e) {
    post({ type: 'error', message: e.message });
  } finally {
    job = null;
    post({ type: 'state', state: 'idle' });
  }
}

self.onmessage = ({ data: msg }) => {
  switch (msg.type) {
    case 'init':
      simd = msg.simd;
      if (msg.warm?.length) warmUp(msg.warm);
      break;
    case 'data':
      try {
        const raw = new Uint8Array(msg.raw);
        const s = splitSubset({ ntrain: msg.ntrain, ntest: msg.ntest, rows: 28, cols: 28,
                                raw: raw.length }, raw);
        data = { ...s, trainX: toFloats(s.trainImages), testX: toFloats(s.testImages) };
        post({ type: 'ready', ntrain: s.ntrain, ntest: s.ntest });
      } catch (e) {
        post({ type: 'data-error', message: e.message });
      }
      break;
    case 'start':
      run(train, msg);
      break;
    case 'finetune':
      run(finetune, msg);
      break;
    case 'pause':
      if (job) job.paused = true;
      break;
    case 'resume':
      if (job) {
        job.paused = false;
        job.wake?.();
        job.wake = null;
      }
      break;
    case 'stop':
      if (job) {
        job.stopped = true;
        job.wake?.();
        job.wake = null;
      }
      break;
    default:
      post({ type: 'error', message: `unknown message ${msg.type}` });
  }
};
