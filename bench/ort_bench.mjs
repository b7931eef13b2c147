/* ort_bench.mjs: onnxruntime-web (bench/package.json) on the ONNX exports
 * of the benchmark's networks, under the same Node as digits' WASM rows:
 * the wasm execution provider, one thread, default graph optimisations.
 * The .onnx files are the shipped models (models/NAME.safetensors)
 * exported by digits' own exporter at bench time (bench/run). One JSON
 * result per line, shaped like node_bench.mjs's predict rows (target
 * "ort-wasm", mode "net": the network alone on 28x28 inputs, the
 * probabilities copied out as digits returns them).
 * usage: node bench/ort_bench.mjs --models DIR [--quick] [--reps N]
 *        [--archs a,b] */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { randoms } from './wasm_bench.mjs';

const args = process.argv.slice(2);
const arg = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const quick = args.includes('--quick');
const reps = Number(arg('--reps', 15));
const dir = arg('--models', null);
const archs = arg('--archs', 'logreg,mlp,lenet5,cnn,default').split(',');
const log = (s) => process.stderr.write(`  ort: ${s}\n`);
if (!dir) {
  process.stderr.write('usage: node bench/ort_bench.mjs --models DIR [--quick] [--reps N] [--archs a,b]\n');
  process.exit(2);
}

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
function summarize(v) {
  const s = [...v].sort((a, b) => a - b), n = s.length;
  return { med: n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2, min: s[0], max: s[n - 1] };
}

/* timeCalls of wasm_bench.mjs for an async call (session.run is one):
 * warm-up, calls per sample calibrated to ~minMs, reps samples; also the
 * median CPU time per call. */
async function timeAsync(fn, { reps, minMs, warmMs }) {
  let t0 = performance.now();
  while (performance.now() - t0 < warmMs) await fn();
  let inner = 1;
  for (;;) {
    t0 = performance.now();
    for (let i = 0; i < inner; i++) await fn();
    if (performance.now() - t0 > minMs || inner > 1 << 20) break;
    inner *= 2;
  }
  const ms = [], cpu = [];
  for (let r = 0; r < reps; r++) {
    const c0 = cpuNow();
    t0 = performance.now();
    for (let i = 0; i < inner; i++) await fn();
    ms.push((performance.now() - t0) / inner);
    cpu.push((cpuNow() - c0) / inner);
  }
  return { ...summarize(ms), cpu: summarize(cpu).med };
}

const opt = quick ? { reps: 3, minMs: 5, warmMs: 30 } : { reps, minMs: 25, warmMs: 200 };
for (const arch of archs) {
  const file = join(dir, `${arch}.onnx`);
  let session;
  try {
    session = await ort.InferenceSession.create(new Uint8Array(readFileSync(file)),
                                                { executionProviders: ['wasm'] });
  } catch (e) {
    console.log(JSON.stringify({ kind: 'predict', target: 'ort-wasm', arch, error: String(e.message || e).slice(0, 160) }));
    log(`${arch}: ${e.message}`);
    continue;
  }
  for (const batch of [1, 64]) {
    const input = new ort.Tensor('float32', randoms(784 * batch, 7), [batch, 1, 28, 28]);
    const t = await timeAsync(async () => { (await session.run({ input })).probs.getData(); }, opt);
    console.log(JSON.stringify({ kind: 'predict', target: 'ort-wasm', version: ort.env.versions.web,
                                 arch, batch, mode: 'net', ms: t.med, min: t.min, max: t.max,
                                 cpu_ms: t.cpu }));
    log(`${arch} b${batch} ${t.med.toFixed(4)} ms`);
  }
  await session.release();
}
