/* report.mjs: bench/build/results.jsonl -> bench/results.md (and stdout).
 * usage: node bench/report.mjs RESULTS.jsonl [--quick 0|1] [--seconds S]
 *        [--load-before "a b c"] [--load-after "a b c"] [--build DIR] */
import { readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const rows = readFileSync(args[0], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const quick = opt('--quick', '0') === '1';
const sh = (c) => { try { return execSync(c, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return '?'; } };

const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || '?';
const find = (q) => rows.find((r) => Object.entries(q).every(([k, v]) => r[k] === v));
const f = (x, d = 3) => x == null || !Number.isFinite(x) ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(d);
const range = (r) => r ? `${f(r.ms)} (${f(r.min)}–${f(r.max)})` : '–';
const peak = (t) => find({ kind: 'peak', target: t })?.gflops;
const gf = (r) => r ? r.mflop / r.ms : null;            /* MFLOP / ms = GFLOP/s */
const pct = (r, t) => r && peak(t) ? `${(100 * gf(r) / peak(t)).toFixed(0)}%` : '–';
const ratio = (a, b) => a && b ? `${(a / b).toFixed(1)}×` : '–';

const out = [];
const p = (s = '') => out.push(s);
p('# digits: benchmark results');
p();
p(`Produced by \`./build.sh bench\` (bench/run${quick ? ' --quick: a smoke run, figures not for quoting' : ''}).`);
p();
p(`- date: ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC`);
p(`- CPU: ${cpu}, ${sh('nproc')} logical cores`);
p(`- compilers: ${sh('cc --version | head -1')}; ${sh('emcc --version | head -1').replace(/ \(Emscripten[^)]*\)/, '').replace(/ \(\)$/, '')}; node ${process.version}; ${sh('/usr/bin/chromium --version')}`);
p(`- native SIMD path: ${sh(`${opt('--build', 'build')}/digits --version 2>/dev/null | head -1`) || '?'}`);
p(`- load average (1, 5, 15 min) before: ${opt('--load-before', '?')}, after: ${opt('--load-after', '?')}; run took ${opt('--seconds', '?')} s`);
const lb = Number(String(opt('--load-before', '0')).split(' ')[0]);
if (lb > 1.0)
  p(`- **the machine was busy (load ${lb} on ${sh('nproc')} cores): wall-clock figures are pessimistic and noisy; ratios measured in the same run hold better than absolute values. Re-run on a quiet machine before quoting.**`);
p();
p('Times are medians of repeated samples (min–max in brackets); each sample times enough calls for ~25 ms. GFLOP/s counts the multiply-adds of dense and convolution layers (×2), per target against the peak measured in the same run.');
p();
p('## Machine peak (single core)');
p();
p('| target | GFLOP/s (min–max) | loop |');
p('|---|---|---|');
for (const [t, what] of [['native', 'FMA, 12 independent chains (bench/bench_native.c)'],
                         ['node', 'WASM SIMD f32x4 mul+add, 12 chains (bench/wasm_peak.c), Node'],
                         ['chromium', 'the same module in headless Chromium']]) {
  const r = find({ kind: 'peak', target: t });
  p(`| ${t} | ${r ? `${f(r.gflops)} (${f(r.min)}–${f(r.max)})` : '–'} | ${what} |`);
}
p();
const archs = ['logreg', 'mlp', 'lenet5', 'cnn', 'default'];
p('## Predict latency: the network alone on 28×28 inputs (ms per call)');
p();
p('`default` is the shipped models/default.safetensors (arch digitnet). Ours: native = C library (one thread), node/chromium = the WASM SIMD build through web/digits.js. tfjs: same layer shapes, random weights, under the same Node; tfjs-wasm is @tensorflow/tfjs-backend-wasm (SIMD, 1 thread). The last two columns: how many times faster ours (WASM, Node) is.');
p();
p('| net | batch | MFLOP | native ms | GF/s | %peak | node ms | GF/s | %peak | chromium ms | GF/s | %peak | tfjs-wasm ms | tfjs-cpu ms | vs tfjs-wasm | vs tfjs-cpu |');
p('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const arch of archs)
  for (const batch of [1, 64]) {
    const q = { kind: 'predict', arch, batch, mode: 'net' };
    const n = find({ ...q, target: 'native' }), w = find({ ...q, target: 'node' });
    const c = find({ ...q, target: 'chromium' }), tw = find({ ...q, target: 'tfjs-wasm' });
    const tc = find({ ...q, target: 'tfjs-cpu' });
    const mf = (n || w || tw)?.mflop;
    p(`| ${arch} | ${batch} | ${f(mf, 2)} | ${range(n)} | ${f(gf(n), 1)} | ${pct(n, 'native')} | ${range(w)} | ${f(gf(w), 1)} | ${pct(w, 'node')} | ${range(c)} | ${f(gf(c), 1)} | ${pct(c, 'chromium')} | ${range(tw)} | ${range(tc)} | ${ratio(tw?.ms, w?.ms)} | ${ratio(tc?.ms, w?.ms)} |`);
  }
p();
p('## Whole predict from a 280×280 RGBA canvas (preprocess + network, ms)');
p();
p('The drawing is a ring ("0"), the same bytes on every target. Batch 64 = 64 canvases preprocessed, then one batch through the network.');
p();
p('| net | batch | native ms | node ms | chromium ms |');
p('|---|---|---|---|---|');
for (const arch of archs)
  for (const batch of [1, 64]) {
    const q = { kind: 'predict', arch, batch, mode: 'canvas' };
    p(`| ${arch} | ${batch} | ${range(find({ ...q, target: 'native' }))} | ${range(find({ ...q, target: 'node' }))} | ${range(find({ ...q, target: 'chromium' }))} |`);
  }
p();
p('## Training throughput (images/s, forward + backward + Adam, random data)');
p();
const ips = (r) => r ? (r.error ? `cannot: ${r.error}` : `${f(r.ips)} (${f(r.min)}–${f(r.max)})`) : '–';
p('| net | batch | native 1 thread | native 2 threads | 2t / 1t | WASM node | WASM chromium | tfjs-wasm | tfjs-cpu | WASM node / tfjs-wasm |');
p('|---|---|---|---|---|---|---|---|---|---|');
for (const arch of ['mlp', 'cnn'])
  for (const batch of [32, 128]) {
    const q = { kind: 'train', arch, batch };
    const n1 = find({ ...q, target: 'native', threads: 1 }), n2 = find({ ...q, target: 'native', threads: 2 });
    const w = find({ ...q, target: 'node' }), c = find({ ...q, target: 'chromium' });
    const tw = find({ ...q, target: 'tfjs-wasm' }), tc = find({ ...q, target: 'tfjs-cpu' });
    p(`| ${arch} | ${batch} | ${ips(n1)} | ${ips(n2)} | ${ratio(n2?.ips, n1?.ips)} | ${ips(w)} | ${ips(c)} | ${ips(tw)} | ${ips(tc)} | ${tw?.ips ? ratio(w?.ips, tw.ips) : '–'} |`);
  }
p();
p('## Time to 99.0% MNIST test accuracy (native)');
p();
const a = find({ kind: 'accuracy' });
if (a) {
  p(`- command: \`${a.command}\``);
  p(`- wall clock of the training: ${f(a.seconds, 1)} s; test accuracy ${a.accuracy ?? '?'}%${a.accuracy != null && a.accuracy >= 99.0 ? ' (reached 99.0%)' : ' (did not reach 99.0%)'}`);
} else {
  p('- not measured in this run (--quick or --no-accuracy)');
}
p();
const md = out.join('\n') + '\n';
if (!quick) writeFileSync(join(here, 'results.md'), md);
else writeFileSync(join(here, 'build', 'results-quick.md'), md);
process.stdout.write(md);
