/* train-worker.js: a module Web Worker that owns the training WebAssembly
 * instance (through digits.js createTrainer) so the page never waits on a
 * batch. Messages in (from train.js):
 *   {type:'init', simd, warm}                which build to use ('relaxed'/true/false/'auto'),
 *                                            networks to warm up (arch specs)
 *   {type:'file', buf}                       the subset file (subset.js; an ArrayBuffer or a
 *                                            Blob): checked, decompressed here
 *   {type:'start', arch, epochs, batch, lr, seed}
 *   {type:'pause'} {type:'resume'} {type:'stop'}
 *   {type:'finetune', model, examples:[{label, pixels}], epochs, lr, seed}
 * Messages out:
 *   {type:'ready', ntrain, nval, ntest}      data decoded (ntrain: the digits that train; nval more validate)
 *   {type:'state', state}                    'running' | 'paused' | 'idle'
 *   {type:'progress', ...}                   at most every PROGRESS_MS while training
 *   {type:'epoch', ...}                      validation and test accuracy, confusion matrix,
 *                                            a grid of guesses (partial: true after a stop
 *                                            inside an epoch, or with bestEpoch when the
 *                                            best validation epoch's weights came back)
 *   {type:'done', bytes, ...}                the trained model (.safetensors)
 *   {type:'finetuned', bytes, before, after, testBefore, testAfter}
 *   {type:'error', message}
 * Training runs the C epoch loop (digits.js Fit) one batch per call into
 * WASM and yields to the message loop every few milliseconds, so pause and
 * stop take effect between batches.
 *
 * Warm-up: V8 runs WebAssembly first in its baseline tier (about 10x slower
 * here) and compiles a function with its optimizing tier only once it has
 * run hot, in the background. Left to the first epoch, that took its first
 * second or so (mlp: 1.3-1.7 s for the first epoch, 0.7 s for the next).
 * So on 'init', while the subset downloads and decompresses, the worker
 * trains each network of the panel for two small batches of zeros on a
 * throwaway net: every hot kernel then gets compiled before 'start'. It
 * stops as soon as real work arrives.
 */
import { createTrainer, loadModule } from './lib/digits.js';
import { decodeSubset } from './lib/subset.js';

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

/* xorshift32, seeded: fine-tuning's mixes are reproducible */
function rng(seed) {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
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
  const B = 8, x = new Float32Array(2 * B * 784), labels = new Uint8Array(2 * B);
  for (const arch of archs) {
    if (job) return;
    let t = null, f = null;
    try {
      t = await createTrainer({ arch, module: m, lr: 1e-3 });
      f = t.fit(x, labels, { epochs: 1, batch: B });
      f.beginEpoch();
      for (let i = 0; i < 2 && !job; i++) {
        f.step();
        await yieldNow();
      }
    } catch {
      /* a warm-up failure changes nothing: training reports its own errors */
    } finally {
      f?.free();
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

/* One epoch of fit, a batch per call: progress messages at most every
 * PROGRESS_MS (the chart's points average the batches since the last),
 * pause and stop honoured between batches; ntrain samples an epoch.
 * Returns {seen, ms, stopped};
 * ms is wall-clock time, pauses excluded, yields included. */
async function runEpoch(fit, epoch, ntrain) {
  let seen = 0, ms = 0, posted = { loss: 0, acc: 0, seen: 0 };
  let lastPost = performance.now(), lastYield = lastPost;
  const start = lastPost, paused0 = job.pausedMs, points = [];
  const report = (t1) => {
    const p = fit.progress(), lossSum = p.loss * p.seen, accSum = p.accuracy * p.seen;
    const n = p.seen - posted.seen;
    if (n > 0)
      points.push({ x: epoch + p.seen / ntrain, loss: (lossSum - posted.loss) / n,
                    acc: (accSum - posted.acc) / n });
    posted = { loss: lossSum, acc: accSum, seen: p.seen };
    post({ type: 'progress', epoch, epochs: p.epochs, step: p.batch, steps: p.batches, seen,
           ntrain: ntrain, loss: p.loss, acc: p.accuracy, ips: seen / (ms / 1000),
           points: points.splice(0) });
    lastPost = t1;
  };
  for (;;) {
    if (performance.now() - lastYield >= YIELD_MS) {
      if (await checkpoint()) return { seen, ms, stopped: true };
      lastYield = performance.now();
    }
    const n = fit.step();
    const t1 = performance.now();
    ms = t1 - start - (job.pausedMs - paused0);
    if (n === 0) break;
    seen += n;
    if (t1 - lastPost >= PROGRESS_MS) report(t1);
  }
  if (seen > posted.seen) report(performance.now());
  return { seen, ms, stopped: false };
}

/* How many of the subset's training digits validate (the last ones). */
function validationCount(ntrain) {
  return Math.floor(ntrain / 11);
}

/* Train a new network on the subset with the C epoch loop (Trainer.fit):
 * the last of every eleven training digits validates (1,000 of the
 * subset's 11,000, so an epoch still trains on 10,000); the learning rate
 * halves after 3 epochs without a validation gain, 5 stop the run, and
 * the best validation epoch's weights are kept. After each epoch the test
 * digits are evaluated for the panel. */
async function train({ arch, epochs, batch, lr, seed = 1, archLabel }) {
  const trainer = await createTrainer({ arch, lr, seed, module: await module() });
  const valCount = validationCount(data.ntrain), ntrain = data.ntrain - valCount;
  const B = Math.max(1, Math.min(batch, ntrain));
  let fit;
  try {
    fit = trainer.fit(data.trainX, data.trainLabels, { epochs, batch: B, valCount });
  } catch (e) {
    trainer.free();
    throw e;
  }
  let trainMs = 0, totalSeen = 0, last = null, epochDone = 0, stopped = false;
  post({ type: 'state', state: 'running' });
  try {
    while (!job.stopped && fit.beginEpoch()) {
      const epoch = epochDone;
      const r = await runEpoch(fit, epoch, ntrain);
      trainMs += r.ms;
      totalSeen += r.seen;
      if (r.stopped) {
        stopped = r.seen > 0;
        break;
      }
      const p = fit.endEpoch();
      last = { ...evaluate(trainer), epoch, partial: false, trainLoss: p.loss, trainAcc: p.accuracy,
               valLoss: p.valLoss, valAccuracy: p.valAccuracy, lr: p.lr, improved: p.improved,
               ips: r.seen / (r.ms / 1000), seconds: r.ms / 1000 };
      epochDone = epoch + 1;
      post({ type: 'epoch', ...last });
    }
    if (stopped) {
      /* stopped inside an epoch: the test numbers describe the final weights */
      last = { ...evaluate(trainer), epoch: epochDone, partial: true, ips: totalSeen / (trainMs / 1000) };
      post({ type: 'epoch', ...last });
    } else if (!job.stopped && epochDone > 0) {
      const { bestEpoch } = fit.finish();
      if (bestEpoch !== epochDone) {
        /* an earlier epoch validated better: its weights are the result */
        last = { ...evaluate(trainer), epoch: epochDone, partial: true, bestEpoch,
                 ips: totalSeen / (trainMs / 1000) };
        post({ type: 'epoch', ...last });
      }
    }
  } finally {
    fit.free();
  }
  const accuracy = last?.testAccuracy ?? null;
  const bytes = trainer.saveModel({
    arch_name: archLabel || arch,
    test_accuracy: accuracy == null ? '' : accuracy.toFixed(4),
    test_data: `MNIST subset, ${data.ntest} test images (web/build/mnist-subset.bin)`,
    train_data: `MNIST subset, ${ntrain} training images (${valCount} more validate)`,
    trained_in: 'browser (web/train-worker.js)',
    epochs: String(totalSeen / ntrain), batch: String(B), lr: String(lr), seed: String(seed),
    date: new Date().toISOString(),
  });
  trainer.free();
  post({ type: 'done', bytes, testAccuracy: accuracy, arch: archLabel || arch, stopped: job.stopped,
         images: totalSeen, seconds: trainMs / 1000, ips: totalSeen / (trainMs / 1000),
         bestEpoch: last?.bestEpoch ?? null }, [bytes.buffer]);
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

/* Set fields of the job in progress and let a paused one go on. */
function wake(fields) {
  if (!job) return;
  Object.assign(job, fields);
  job.wake?.();
  job.wake = null;
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

/* The subset file (an ArrayBuffer, or a Blob from the page's cache). */
async function loadFile(buf) {
  const s = await decodeSubset(new Uint8Array(buf instanceof Blob ? await buf.arrayBuffer() : buf));
  data = { ...s, trainX: toFloats(s.trainImages), testX: toFloats(s.testImages) };
  const nval = validationCount(s.ntrain);
  post({ type: 'ready', ntrain: s.ntrain - nval, nval, ntest: s.ntest });
}

self.onmessage = ({ data: msg }) => {
  switch (msg.type) {
    case 'init':
      simd = msg.simd;
      if (msg.warm?.length) warmUp(msg.warm);
      break;
    case 'file':
      loadFile(msg.buf).catch((e) => post({ type: 'data-error', message: e.message }));
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
      wake({ paused: false });
      break;
    case 'stop':
      wake({ stopped: true });
      break;
    default:
      post({ type: 'error', message: `unknown message ${msg.type}` });
  }
};
