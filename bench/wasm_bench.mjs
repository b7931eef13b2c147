/* wasm_bench.mjs: the WebAssembly half of bench/run, the same code under
 * Node (bench/node_bench.mjs) and in headless Chromium (bench/page.html).
 * Everything goes through web/lib/digits.js, as the page does.
 *
 * runWasmBench({digits, modelBytes, archs, reps, quick})
 *   -> [{kind, target, arch, batch, mode, ms, min, max, mflop}, ...]
 * kinds: 'peak' (GFLOP/s of the loops of peak.mjs: loop muladd, fma, mul,
 * add), 'predict' (ms per call), 'train' (images/s of forward + backward +
 * Adam).
 */
import { FLOPS, peakFunction } from './peak.mjs';


/* The canvas bench_native.c draws: 280x280 white RGBA with a black ring. */
export function drawCanvas() {
  const w = 280, h = 280, data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const d = Math.sqrt((x - 140) * (x - 140) + (y - 135) * (y - 135));
      const v = Math.abs(d - 80) < 14 ? 0 : 255, p = (y * w + x) * 4;
      data[p] = data[p + 1] = data[p + 2] = v;
      data[p + 3] = 255;
    }
  return { data, width: w, height: h };
}

/* Deterministic uniform [0, 1) numbers. */
export function randoms(n, seed = 1) {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = s / 4294967296;
  }
  return out;
}

function summarize(v) {
  const s = [...v].sort((a, b) => a - b), n = s.length;
  const med = n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { med, min: s[0], max: s[n - 1] };
}

/* The process's CPU time in ms where the engine tells it (Node), else null. */
const cpuNow = typeof globalThis.process?.cpuUsage === 'function'
  ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; } : () => null;

/* ms per call of fn: calls per sample calibrated to ~minMs, reps samples,
 * after a warm-up long enough for V8 to tier the hot code up. Under Node
 * also cpu: the median CPU time per call, which a machine shared with other
 * work inflates far less than wall time (bench/report.mjs takes same-engine
 * ratios from it). */
export function timeCalls(fn, { reps = 15, minMs = 20, warmMs = 150 } = {}) {
  let t0 = performance.now();
  while (performance.now() - t0 < warmMs) fn();
  let inner = 1;
  for (;;) {
    t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    if (performance.now() - t0 > minMs || inner > 1 << 20) break;
    inner *= 2;
  }
  const ms = [], cpu = [];
  for (let r = 0; r < reps; r++) {
    const c0 = cpuNow();
    t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    ms.push((performance.now() - t0) / inner);
    if (c0 != null) cpu.push((cpuNow() - c0) / inner);
  }
  return { ...summarize(ms), cpu: cpu.length ? summarize(cpu).med : null };
}

/* Forward flops of one image: 2 x multiply-adds of dense and conv layers. */
export function netMflop(info) {
  let f = 0;
  for (const l of info.layers)
    if (l.kind === 'Dense' || l.kind === 'Conv2D')
      f += 2 * (l.params - l.shape[2]) * l.shape[0] * l.shape[1];
  return f * 1e-6;
}

/* Predict rows for one build: ms per call of the network alone and of the
 * whole predict from the canvas, per arch and batch. */
function predictRows(results, { mod, target, archs, modelBytes, canvas, opt, log, batches }) {
  for (const arch of archs) {
    const net = arch === 'default' ? mod.loadNet(modelBytes) : mod.newNet(arch, 1);
    const mflop = netMflop(net.info());
    for (const batch of batches) {
      const x = randoms(784 * batch, 7);
      const netFn = batch === 1 ? () => net.predictInput(x)
                                : () => net.predictBatch(x, { batch: 64 });
      const canvasFn = batch === 1 ? () => net.predictImage(canvas) : () => {
        for (let b = 0; b < batch; b++) x.set(mod.preprocess(canvas), b * 784);
        net.predictBatch(x, { batch: 64 });
      };
      for (const [mode, fn] of [['net', netFn], ['canvas', canvasFn]]) {
        const t = timeCalls(fn, opt);
        results.push({ kind: 'predict', target, build: mod.variant, arch, batch, mode, ms: t.med, min: t.min,
                       max: t.max, cpu_ms: t.cpu, mflop: mflop * batch });
        log(`${target} ${arch} b${batch} ${mode} ${t.med.toFixed(4)} ms`);
      }
    }
    net.free();
  }
}

export async function runWasmBench({ digits, target, wasmBase, peak = true, modelBytes,
                                     archs = ['logreg', 'mlp', 'lenet5', 'cnn', 'default'],
                                     trainArchs = ['mlp', 'cnn'], reps = 15, quick = false,
                                     log = () => {} }) {
  const results = [];
  const opt = quick ? { reps: 3, minMs: 5, warmMs: 30 } : { reps, minMs: 25, warmMs: 200 };

  /* (a) the SIMD limit: mul+add (simd128), fused (relaxed SIMD), and the
   * mul-only / add-only loops that show which one binds */
  for (const loop of peak ? ['muladd', 'fma', 'mul', 'add'] : []) {
    const fn = await peakFunction(loop), iters = 100000, chains = 12;
    if (!fn) {
      results.push({ kind: 'peak', target, loop, error: 'not available in this engine' });
      log(`peak ${loop}: not available`);
      continue;
    }
    const t = timeCalls(() => fn(iters, loop === 'mul' ? 1 : 0.999, 0.001), opt);
    const gf = (ms) => iters * chains * FLOPS[loop] / ms * 1e-6;
    results.push({ kind: 'peak', target, loop, gflops: gf(t.med), min: gf(t.max), max: gf(t.min) });
    log(`peak ${loop} ${gf(t.med).toFixed(1)} GFLOP/s`);
  }

  /* (b) predict latency: the network on 28x28 inputs, and the whole
   * predict from a 280x280 canvas (preprocess + network), with the build
   * the page picks here (relaxed SIMD where the engine has it); then
   * batch 1 with the simd128 build too, as target TARGET-simd128 */
  const mod = await digits.loadModule({ simd: 'auto', wasmBase });
  log(`build ${mod.variant}`);
  const canvas = drawCanvas();
  predictRows(results, { mod, target, archs, modelBytes, canvas, opt, log, batches: [1, 64] });
  if (mod.variant === 'relaxed') {
    const m128 = await digits.loadModule({ simd: true, wasmBase });
    predictRows(results, { mod: m128, target: `${target}-simd128`, archs, modelBytes, canvas, opt,
                           log, batches: [1] });
  }

  /* (d) training throughput, one thread */
  for (const arch of trainArchs) {
    for (const batch of [32, 128]) {
      const tr = await digits.createTrainer({ arch, module: mod, optimizer: 'adam', lr: 1e-4 });
      const pool = 4, x = randoms(784 * batch * pool, 3);
      const labels = Uint8Array.from(randoms(batch * pool, 5), (v) => Math.floor(v * 10));
      let it = 0;
      const step = () => {
        const b = it++ % pool;
        tr.trainBatch(x.subarray(b * batch * 784, (b + 1) * batch * 784),
                      labels.subarray(b * batch, (b + 1) * batch));
      };
      const t = timeCalls(step, quick ? { reps: 3, minMs: 20, warmMs: 50 }
                                      : { reps: Math.min(reps, 7), minMs: 150, warmMs: 400 });
      results.push({ kind: 'train', target, build: mod.variant, arch, batch, threads: 1, ips: batch / t.med * 1e3,
                     min: batch / t.max * 1e3, max: batch / t.min * 1e3,
                     cpu_ips: t.cpu ? batch / t.cpu * 1e3 : null });
      log(`train ${arch} b${batch} ${(batch / t.med * 1e3).toFixed(0)} img/s`);
      tr.free();
    }
  }
  return results;
}
