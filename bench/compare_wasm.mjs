/* compare_wasm.mjs: the WebAssembly half of bench/compare, the same code under
 * Node (bench/compare_node.mjs) and in headless Chromium
 * (bench/compare.html). Two builds of the project, each through its own JS
 * module and its own .wasm files, loaded side by side in one engine; every
 * row is timed for both with the samples alternating (base, head, head,
 * base, ...), so what disturbs the machine during a row disturbs both.
 *
 * runCompare({builds: [base, head], target, modelBytes, photo, pairs,
 *             maxPairs, quick, log})
 *   builds[i]: {digits (the module namespace), wasmBase}
 *   -> [{kind, target, variant, arch, batch, mode, per, base: [ms...], head: [ms...]}]
 * Samples are ms per call, or per image for training (per: 'image'); a
 * row whose 3% verdict is still open after `pairs` pairs gets more, up to
 * maxPairs (compare_stats.mjs). */
import { drawCanvas, randoms } from './wasm_bench.mjs';
import { pairStats } from './compare_stats.mjs';

const now = () => performance.now();
/* the process's CPU time in ms where the engine tells it (Node), else null */
const cpuNow = typeof globalThis.process?.cpuUsage === 'function'
  ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; } : () => null;

/* Paired samples of fns[0] (base) and fns[1] (head), ms per call: a warm-up
 * of both (V8 tiers the hot code up), calls per sample calibrated on the
 * base to ~minMs and the same for the head (equal work), then pairs.
 * Returns [base, head] wall-clock samples, and under Node cpu: the same
 * for the process's CPU time (less inflated by other work on the machine). */
function samplePairs(fns, { pairs, maxPairs, minMs, warmMs }) {
  for (const t0 = now(); now() - t0 < 2 * warmMs;) fns[0](), fns[1]();
  let inner = 1;
  for (;;) {
    const t0 = now();
    for (let i = 0; i < inner; i++) fns[0]();
    if (now() - t0 > minMs || inner > 1 << 20) break;
    inner *= 2;
  }
  const s = [[], []], cpu = [[], []];
  const one = (k) => {
    const c0 = cpuNow(), t0 = now();
    for (let i = 0; i < inner; i++) fns[k]();
    s[k].push((now() - t0) / inner);
    if (c0 != null) cpu[k].push((cpuNow() - c0) / inner);
  };
  let want = pairs;
  for (;;) {
    while (s[0].length < want) {
      const order = s[0].length % 2 ? [1, 0] : [0, 1];
      one(order[0]), one(order[1]);
    }
    if (want >= maxPairs || !pairStats(s[0], s[1]).open) break;
    want = Math.min(maxPairs, want + Math.max(5, pairs >> 1));
  }
  s.cpu = cpu[0].length ? cpu : null;
  return s;
}

function pushRow(results, key, s, log, scale = 1) {
  const [base, head] = s.map((v) => v.map((x) => x * scale));
  const st = pairStats(base, head);
  const cpu = s.cpu ? { base_cpu: s.cpu[0].map((x) => x * scale), head_cpu: s.cpu[1].map((x) => x * scale) } : {};
  results.push({ ...key, base, head, ...cpu });
  log(`${Object.values(key).join(' ')}: base ${st.base.med.toPrecision(4)} head ${st.head.med.toPrecision(4)}` +
      ` ms, ${(100 * st.change).toFixed(1)}% (${st.n} pairs)`);
}

/* Predict rows: the network alone on 28x28 inputs and the whole predict
 * from a 280x280 canvas, batch 1 and 64, as wasm_bench.mjs times them. */
function predictRows(results, { mods, target, archs, batches, modelBytes, opt, log }) {
  const canvas = drawCanvas();
  for (const arch of archs) {
    const nets = mods.map((m) => arch === 'default' ? m.loadNet(modelBytes) : m.newNet(arch, 1));
    for (const batch of batches) {
      const x = randoms(784 * batch, 7);
      for (const mode of ['net', 'canvas']) {
        const fns = nets.map((net, i) => mode === 'net'
          ? (batch === 1 ? () => net.predictInput(x) : () => net.predictBatch(x, { batch: 64 }))
          : (batch === 1 ? () => net.predictImage(canvas) : () => {
              for (let b = 0; b < batch; b++) x.set(mods[i].preprocess(canvas), b * 784);
              net.predictBatch(x, { batch: 64 });
            }));
        pushRow(results, { kind: 'predict', target, variant: mods[1].variant, arch, batch, mode },
                samplePairs(fns, opt), log);
      }
    }
    for (const net of nets) net.free();
  }
}

/* Training rows: images/s of forward + backward + Adam, one thread. */
async function trainRows(results, { builds, mods, target, archs, opt, log }) {
  for (const arch of archs)
    for (const batch of [32, 128]) {
      const trs = await Promise.all(builds.map((b, i) =>
        b.digits.createTrainer({ arch, module: mods[i], optimizer: 'adam', lr: 1e-4 })));
      const pool = 4, x = randoms(784 * batch * pool, 3);
      const labels = Uint8Array.from(randoms(batch * pool, 5), (v) => Math.floor(v * 10));
      const fns = trs.map((tr) => {
        let it = 0;
        return () => {
          const b = it++ % pool;
          tr.trainBatch(x.subarray(b * batch * 784, (b + 1) * batch * 784),
                        labels.subarray(b * batch, (b + 1) * batch));
        };
      });
      pushRow(results, { kind: 'train', target, variant: mods[1].variant, arch, batch, threads: 1, per: 'image' },
              samplePairs(fns, { ...opt, minMs: opt.quick ? 20 : 150, warmMs: opt.quick ? 50 : 400 }),
              log, 1 / batch);
      for (const tr of trs) tr.free();
    }
}

export async function runCompare({ builds, target, modelBytes, photo = null,
                                   archs = ['logreg', 'mlp', 'lenet5', 'cnn', 'default'],
                                   trainArchs = ['mlp', 'cnn'], pairs = 25, maxPairs = 75,
                                   quick = false, log = () => {} }) {
  const results = [];
  const opt = { pairs, maxPairs: Math.max(pairs, maxPairs), quick,
                minMs: quick ? 5 : 25, warmMs: quick ? 30 : 200 };
  const load = (simd) => Promise.all(builds.map((b) => b.digits.loadModule({ simd, wasmBase: b.wasmBase })));
  const mods = await load('auto');
  if (mods[0].variant !== mods[1].variant)
    throw new Error(`the builds differ: base ${mods[0].variant}, head ${mods[1].variant}`);
  log(`build ${mods[1].variant}`);
  /* the first row would otherwise pay for the engine's start (tiering,
   * the page still settling): a warm-up of both builds first */
  const canvas = drawCanvas();
  for (const t0 = now(); now() - t0 < (quick ? 300 : 1500);) for (const m of mods) m.preprocess(canvas);
  predictRows(results, { mods, target, archs, batches: [1, 64], modelBytes, opt, log });
  if (mods[1].variant === 'relaxed')
    predictRows(results, { mods: await load(true), target: `${target}-simd128`, archs, batches: [1],
                           modelBytes, opt, log });
  await trainRows(results, { builds, mods, target, archs: trainArchs, opt, log });
  /* the photo's whole preprocessing as the page calls it (the copy of the
   * pixels into WASM memory and the C call), one call per sample */
  if (photo) {
    const fns = mods.map((m) => () => m.preprocess(photo.img, 4));
    pushRow(results, { kind: 'preprocess', target, variant: mods[1].variant, channels: 4,
                       width: photo.width, height: photo.height },
            samplePairs(fns, { ...opt, minMs: 0, warmMs: quick ? 150 : 600 }), log);
    for (const m of mods) m.dropScratch('pixels');
  }
  return results;
}
