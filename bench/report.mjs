/* report.mjs: bench/build/results.jsonl -> bench/results.md (and stdout).
 * usage: node bench/report.mjs RESULTS.jsonl [--quick 0|1] [--seconds S]
 *        [--load-before "a b c"] [--load-after "a b c"] [--build DIR]
 *        [--only ort] [--only engines|number [--note TEXT]]
 * --only ort: the run's header and the onnxruntime-web section alone
 * (a run of only bench/node_bench.mjs and bench/ort_bench.mjs), into
 * bench/build/results-ort.md and stdout; results.md is left alone.
 * --only engines: the section "Engines and a throttled phone" alone (a run
 * of bench/engines.mjs), put in place in bench/results.md with its targets
 * and TEXT as a note on the conditions; --only number the same for
 * "Reading a number" (bench/browser.mjs --only-number). */
import { readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberSection } from './number_bench.mjs';

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
/* The peak a target's %peak is against: natively the FMA loop; in WASM the
 * relaxed-SIMD FMA loop where the engine runs it (the machine's limit),
 * else the simd128 mul+add loop. */
/* natively measured twice (first, and again beside the kernels): the higher */
const nativePeaks = rows.filter((r) => r.kind === 'peak' && r.target === 'native' && r.gflops);
const peakRow = (t) => t === 'native' ? nativePeaks.reduce((a, r) => !a || r.gflops > a.gflops ? r : a, null)
  : [find({ kind: 'peak', target: t, loop: 'fma' }), find({ kind: 'peak', target: t, loop: 'muladd' })]
    .find((r) => r?.gflops);
const peak = (t) => peakRow(t)?.gflops;
const gf = (r) => r ? r.mflop / r.ms : null;            /* MFLOP / ms = GFLOP/s */
const pct = (r, t) => r && peak(t) ? `${(100 * gf(r) / peak(t)).toFixed(0)}%` : '–';
const ratio = (a, b) => a && b ? `${(a / b).toFixed(1)}×` : '–';
/* How many times faster ours (o) is than a peer (t), both under Node: from
 * CPU time per call where both have it (a busy machine inflates it far less
 * than wall time, and both were measured minutes apart), else wall time. */
const faster = (t, o) => t && o ? (t.cpu_ms && o.cpu_ms ? t.cpu_ms / o.cpu_ms : t.ms / o.ms) : null;
const fasterIps = (o, t) => o && t?.ips ? (o.cpu_ips && t.cpu_ips ? o.cpu_ips / t.cpu_ips : o.ips / t.ips) : null;
const x = (v) => v == null ? '–' : `${v.toFixed(1)}×`;

const out = [];
const p = (s = '') => out.push(s);
p('# digits: benchmark results');
p();
const onlyOrt = opt('--only', null) === 'ort';
p(onlyOrt ? 'Produced by a run of bench/node_bench.mjs (its predict rows: `--no-train --no-peak`) and bench/ort_bench.mjs alone, one after the other; `./build.sh bench` measures the same rows within the whole benchmark.'
  : `Produced by \`./build.sh bench\` (bench/run${quick ? ' --quick: a smoke run, figures not for quoting' : ''}). What the figures mean, why the code is fast and earlier runs: docs/performance.md.`);
p();
p(`- date: ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC`);
p(`- CPU: ${cpu}, ${sh('nproc')} logical cores`);
p(`- compilers: ${sh('cc --version | head -1')}; ${sh('emcc --version | head -1').replace(/ \(Emscripten[^)]*\)/, '').replace(/ \(\)$/, '')}; node ${process.version}; ${sh('/usr/bin/chromium --version')}`);
p(`- native SIMD path: ${sh(`${opt('--build', 'build')}/digits --version 2>/dev/null | head -1`) || '?'}`);
const busy = opt('--busy-before', null);
p(`- CPU busy just before the first measurement: ${busy ?? '?'}% (all cores, over 3 s); load average (1, 5, 15 min) before: ${opt('--load-before', '?')}${onlyOrt ? '' : ' (it still counts the build just run)'}, after: ${opt('--load-after', '?')}; run took ${opt('--seconds', '?')} s`);
/* other work running now, not the load average's memory of the build */
const lb = busy != null ? Number(busy) / 100 * Number(sh('nproc')) : Number(String(opt('--load-before', '0')).split(' ')[0]);
if (lb > 0.5)
  p(`- **the machine was busy (${busy != null ? `${busy}% of the CPU` : `load ${lb}`} on ${sh('nproc')} cores before the run): wall-clock figures are pessimistic and noisy; ratios measured in the same run hold better than absolute values. Re-run on a quiet machine before quoting.**`);
p();
p('Times are medians of repeated samples (min–max in brackets); each sample times enough calls for ~25 ms. GFLOP/s counts the multiply-adds of dense and convolution layers (×2), per target against the peak measured in the same run. In WebAssembly the 3×3 convolutions with 8 or more channels both ways (cnn conv2-4, the default model\'s) run by Winograd\'s minimal filtering (src/kernels/winograd.c), 2.25 times fewer multiplies than the direct product: their GFLOP/s and %peak are effective rates, counted as the direct product, and can pass 100%.');
p();
/* onnxruntime-web on the ONNX exports (bench/ort_bench.mjs) beside
 * digits' WASM under the same Node: the table and the two targets of
 * issue 6 that compare with it, both from rows of this run. */
const ortRow = (arch, batch) => find({ kind: 'predict', target: 'ort-wasm', arch, batch, mode: 'net' });
const nodeRow = (arch, batch) => find({ kind: 'predict', target: 'node', arch, batch, mode: 'net' });
function ortSection() {
  const any = rows.find((r) => r.target === 'ort-wasm');
  p('## onnxruntime-web on the same networks (ONNX exports, ms per call)');
  p();
  if (!any) {
    p('- not measured in this run (--no-ort, or bench/node_modules/onnxruntime-web missing)');
    p();
    return;
  }
  p(`onnxruntime-web ${any.version ?? '?'} (bench/package.json) under the same Node as digits' WASM rows: the wasm execution provider, one thread, default graph optimisations, \`session.run\` awaited and the probabilities read. Its models are the shipped models/NAME.safetensors exported to ONNX by digits' own exporter (src/io/onnx_write.c) at bench time; digits runs the same layer shapes (random weights for the named ones, the shipped file for default), the build the page picks. "digits faster" is the ratio of the median CPU times per call (of the wall-clock medians where a row has no CPU time).`);
  p();
  p('| net | batch | digits WASM (node) ms | onnxruntime-web ms | digits CPU ms | onnxruntime-web CPU ms | digits faster |');
  p('|---|---|---|---|---|---|---|');
  for (const arch of archs)
    for (const batch of [1, 64]) {
      const w = nodeRow(arch, batch), o = ortRow(arch, batch);
      p(`| ${arch} | ${batch} | ${range(w)} | ${o?.error ? `failed: ${o.error}` : range(o)} | ${f(w?.cpu_ms)} | ${f(o?.cpu_ms)} | ${x(faster(o, w))} |`);
    }
  p();
}
function ortTargets(T) {
  for (const arch of ['mlp', 'lenet5']) {
    const w = nodeRow(arch, 1), o = ortRow(arch, 1), r = faster(o, w);
    T(`WASM forward, batch 1, ${arch}: ≥ 2× faster than onnxruntime-web (measured in this run, Node, one thread)`,
      r ? `${x(r)} (${w.cpu_ms && o.cpu_ms ? `CPU time: ${f(w.cpu_ms)} vs ${f(o.cpu_ms)} ms; ` : ''}wall: ${f(w.ms)} vs ${f(o.ms)} ms)` : '–',
      r ? r >= 2 : null);
  }
}
const archs = ['logreg', 'mlp', 'lenet5', 'cnn', 'default'];
/* issue 22: the page in Chromium, Firefox and WebKit, and Chromium with
 * its main thread throttled 4x (bench/engines.mjs) */
const ENGINE_TARGETS = ['chromium', 'firefox', 'webkit', 'chromium-4x'];
const PHASES = [['first stroke', 'drawing'], ['panel opened', 'the data'], ['mlp epoch', 'mlp epoch'],
                ['small-cnn epoch', 'small-CNN epoch']];
function engineFigures() {
  const et = (t) => rows.filter((r) => r.kind === 'engine-train' && r.target === t);
  const epoch = (t, arch) => {
    const rs = et(t).filter((r) => r.arch === arch), s = rs.map((r) => r.seconds * 10000 / r.images);
    return rs.length ? { med: med(s), min: Math.min(...s), max: Math.max(...s), n: rs.length,
                         acc: med(rs.map((r) => r.accuracy)) } : null;
  };
  const lt = rows.filter((r) => r.kind === 'longtasks');
  return { et, epoch, lt, pred: (t) => find({ kind: 'engine-predict', target: t }),
           skip: (t) => find({ kind: 'engine-skip', target: t }) };
}
function enginesSection() {
  const { epoch, lt, pred, skip } = engineFigures();
  p('## Engines and a throttled phone');
  p();
  if (!rows.some((r) => r.kind?.startsWith('engine') || r.kind === 'longtasks')) {
    p('- not measured in this run (--no-browser, or bench/engines.mjs failed)');
    p();
    return;
  }
  p('bench/engines.mjs, the same steps in each engine through one driver (tests/browser/lib/engines.mjs: Debian\'s Chromium by playwright-core, Firefox ESR by puppeteer-core over WebDriver BiDi, WebKitGTK\'s MiniBrowser by selenium-webdriver on its own Xvfb), the repository served cross-origin isolated. "Whole predict" is the page\'s own path for each reading of one digit (app.js readDigit): a 7 drawn with pointer events on web/draw.js\'s 280×280 Pad, then `await recognizer.predict(pad.digitSnapshot(FIT))` (the box round the strokes painted afresh on a canvas, the ink\'s longer side 28 px, its pixels read back, preprocessing and the default model in WebAssembly); "recognizer alone" times the same call on pixels read once (preprocessing and network from the snapshot\'s pixels); "the page\'s reading" is what app.js does at a stroke\'s end since the pad reads numbers (issue 23): the whole pad\'s snapshot at 140 px, `readNumber`, then `predict` for a lone digit as above. Firefox and WebKit coarsen performance.now() (the step it takes is shown), so every sample times 50 calls and the figures are per call: median of the samples (min–max). The epochs are the page\'s training panel (one epoch over the 10,000-image subset in its Web Worker, batch 32, the worker\'s own clock over the whole epoch), median of the runs (min–max). "Chromium 4×" is Chromium with DevTools CPU throttling at 4 (`Emulation.setCPUThrottlingRate`: the page\'s main thread slowed 4 times, a mid-range phone); it does not slow the training worker\'s thread.');
  p();
  p('| engine | version | build | whole predict ms | recognizer alone ms | the page\'s reading ms | timer step ms | mlp epoch s | small-CNN epoch s | test accuracy (mlp, small CNN) |');
  p('|---|---|---|---|---|---|---|---|---|---|');
  const ep = (e) => e ? `${f(e.med, 2)} (${f(e.min, 2)}–${f(e.max, 2)}, ${e.n} run${e.n > 1 ? 's' : ''})` : '–';
  for (const t of ENGINE_TARGETS) {
    const r = pred(t), s = skip(t), m = epoch(t, 'mlp'), c = epoch(t, 'small-cnn');
    const name = t === 'chromium-4x' ? 'chromium, CPU 4× slower' : t;
    if (!r && s) { p(`| ${name} | not measured: ${s.why} | | | | | | | | |`); continue; }
    if (!r && !m) continue;
    p(`| ${name} | ${r?.version ?? '?'} | ${r?.build ?? '?'} | ${range(r)} | ${f(r?.predict_ms)} | ${f(r?.reading_ms)} | ${f(r?.resolution_ms)} | ${ep(m)} | ${ep(c)} | ${m ? `${(100 * m.acc).toFixed(1)}%` : '–'}, ${c ? `${(100 * c.acc).toFixed(1)}%` : '–'} |`);
  }
  p();
  p('**Long main-thread tasks, Chromium at 4×.** Each run: a fresh page, PerformanceObservers on `longtask` (every task over 50 ms) and `long-animation-frame` (the scripts behind it), a 7 drawn with the mouse, the training panel opened (the subset fetched, checked and decompressed), one epoch of mlp, then one of the small CNN, each to the end of its test evaluation and hand-over to the pad. Per phase: tasks over 50 ms and the longest; Firefox and WebKit have no `longtask` entries: n/a there.');
  p();
  p(`| run | tasks > 50 ms | longest ms | ${PHASES.map(([, l]) => l).join(' | ')} | the longest task's scripts |`);
  p(`|---|---|---|${PHASES.map(() => '---').join('|')}|---|`);
  for (const r of lt) {
    const cell = (ph) => {
      const ts = r.tasks.filter((e) => e.phase === ph);
      return ts.length ? `${ts.length}, ≤ ${Math.round(Math.max(...ts.map((e) => e.dur)))}` : '0';
    };
    const top = r.tasks.reduce((a, e) => !a || e.dur > a.dur ? e : a, null);
    const who = top?.scripts?.length ? top.scripts.map((s) => `${s.fn || s.invoker} (${s.src}, ${s.dur} ms)`).join('; ')
      : top ? 'no script (style, layout, paint or the browser\'s own work)' : '';
    p(`| ${r.run} | ${r.over50} | ${Math.round(r.longest)} | ${PHASES.map(([ph]) => cell(ph)).join(' | ')} | ${who} |`);
  }
  for (const t of ['firefox', 'webkit'])
    if (pred(t)) p(`| ${t} | n/a | n/a |${PHASES.map(() => ' n/a |').join('')} no longtask entries in this engine |`);
  p();
  const mt = find({ kind: 'maintasks' });
  if (!mt) return;
  p(`**The same steps by CPU time.** A long task's wall time counts the time its thread waited for a core, so a machine busy with other work (and the throttling, which stretches what it measures) inflates it; the thread CPU time of each main-thread task does not. bench/engines.mjs runs the steps once more in Chromium unthrottled under a DevTools trace (bench/trace_tasks.mjs): per phase, the tasks, their CPU time, the longest task and ${mt.rate}× it (the task on a CPU ${mt.rate} times slower), and how many tasks would pass 50 ms there.`);
  p();
  p(`| phase | tasks | CPU ms, all | longest task, CPU ms | ×${mt.rate} | tasks over 50 ms at ${mt.rate}× |`);
  p('|---|---|---|---|---|---|');
  for (const [ph, label] of PHASES) {
    const x = mt.phases.find((q) => q.name === ph);
    if (x) p(`| ${label} | ${x.n} | ${f(x.cpu, 1)} | ${f(x.max, 1)} | ${f(mt.rate * x.max, 0)} | ${x.over} |`);
  }
  p();
  p('The longest tasks by CPU time (ms) and what ran in them (callbacks, the functions named in the trace, CPU ms each; a reading\'s WebAssembly runs in promise continuations the trace does not name):');
  p();
  /* the 4 longest, then the longest of each other phase */
  const shown = mt.tasks.slice(0, 4);
  for (const [ph] of PHASES) {
    const t = mt.tasks.find((q) => q.phase === ph);
    if (t && !shown.includes(t)) shown.push(t);
  }
  for (const t of shown) p(`- ${f(t.cpu, 1)} ms CPU (${f(t.wall, 1)} ms wall) in ${PHASES.find(([ph]) => ph === t.phase)?.[1] ?? t.phase}: ${t.what || '–'}`);
  p();
}
function engineTargets(T) {
  const { lt, pred } = engineFigures();
  const r = pred('chromium-4x');
  const canvasMs = r?.canvas_ms ?? r?.predict_ms;
  T('predict from a 280×280 canvas\'s pixels (recognizer.predict), Chromium at 4× CPU throttling: < 2 ms',
    r ? `${f(canvasMs)} ms` : '–', r ? canvasMs < 2 : null);
  T('the same with the pad\'s snapshot (draw pixels → predict), Chromium at 4×: < 2 ms',
    r ? `${f(r.ms)} ms${r.reading_ms ? ` (the page\'s reading with readNumber: ${f(r.reading_ms)} ms)` : ''}` : '–', r ? r.ms < 2 : null);
  const mt = find({ kind: 'maintasks' });
  if (mt) {
    const over = mt.phases.reduce((a, q) => a + q.over, 0), max = Math.max(...mt.phases.map((q) => q.max));
    T(`the same, estimated from CPU time (${mt.rate}× each main-thread task's CPU time, unthrottled trace)`,
      `longest ${f(mt.rate * max, 0)} ms; ${over} tasks over 50 ms (${mt.phases.map((q) => `${PHASES.find(([ph]) => ph === q.name)?.[1] ?? q.name} ${q.over}`).join(', ')})`,
      max * mt.rate <= 50);
  }
  const worst = lt.length ? Math.max(...lt.map((x) => x.longest)) : null;
  T('no main-thread task over 50 ms from the first stroke to the end of an epoch of training, Chromium at 4×',
    lt.length ? `${lt.filter((x) => x.over50 === 0).length} of ${lt.length} runs clean; longest ${f(worst, 0)} ms (${lt.map((x) => x.over50).join(', ')} tasks over 50 ms)` : '–',
    lt.length ? worst <= 50 : null);
}
if (onlyOrt) {
  ortSection();
  p('| target | measured | |');
  p('|---|---|---|');
  ortTargets((what, value, ok) => p(`| ${what} | ${value} | ${ok == null ? '–' : ok ? 'met' : '**not met**'} |`));
  p();
  const md = out.join('\n') + '\n';
  writeFileSync(join(here, 'build', 'results-ort.md'), md);
  process.stdout.write(md);
  process.exit(0);
}
p('## Machine peak (single core)');
p();
p('WASM loops are hand-assembled (bench/peak.mjs): 12 independent f32x4 accumulators, one step each per iteration. `mul+add` is all that simd128 offers (the ceiling of digits-simd.wasm); `fma` is `f32x4.relaxed_madd` (relaxed SIMD), one fused instruction, which digits-relaxed.wasm uses (emcc 3.1.6 emits its prototype encoding; web/tools/relax-wasm.mjs rewrites it to the standard one) and the page picks where the engine has it. `mul` and `add` alone reaching the same vector operations per second as `mul+add` shows the mul+add loop is bound by the FP ports (on this CPU each 128-bit mul or add takes one of the two FMA ports), not by its dependency chains.');
p();
p('| target | loop | GFLOP/s (min–max) | vector ops/ns |');
p('|---|---|---|---|');
{
  const cell = (r) => `${f(r.gflops)} (${f(r.min)}–${f(r.max)})`;
  p(`| native | FMA, 12 independent chains (bench/bench_native.c)${nativePeaks.length > 1 ? '; at the start and again before the kernels, %peak against the higher' : ''} | ${nativePeaks.length ? nativePeaks.map(cell).join('; ') : '–'} | |`);
}
for (const t of ['node', 'chromium'])
  for (const [loop, what] of [['muladd', 'f32x4 mul+add (simd128)'], ['fma', 'f32x4.relaxed_madd (relaxed SIMD)'],
                              ['mul', 'f32x4.mul only'], ['add', 'f32x4.add only']]) {
    const r = find({ kind: 'peak', target: t, loop });
    const per = loop === 'mul' || loop === 'add' ? 4 : 8;
    const cell = !r ? '–' : r.error ? r.error : `${f(r.gflops)} (${f(r.min)}–${f(r.max)})`;
    p(`| ${t} | ${what} | ${cell} | ${r?.gflops ? (r.gflops / per * (loop === 'muladd' ? 2 : 1)).toFixed(2) : ''} |`);
  }
p();
const pm = (t) => find({ kind: 'peak', target: t, loop: 'muladd' })?.gflops;
p(`%peak below is against the native FMA peak natively and against the relaxed-SIMD FMA peak in WASM (the machine's limit there${pm('chromium') && peak('chromium') ? `; the simd128 mul+add ceiling of digits-simd.wasm is ${(100 * pm('chromium') / peak('chromium')).toFixed(0)}% of it in Chromium` : ''}).`);
p();
const builds = [...new Set(rows.filter((r) => r.kind === 'predict' && (r.target === 'node' || r.target === 'chromium'))
  .map((r) => `${r.target}: ${r.build ?? 'simd'}`))].join(', ') || '–';
p('## Predict latency: the network alone on 28×28 inputs (ms per call)');
p();
p('`default` is the shipped models/default.safetensors (arch digitnet). Ours: native = C library (one thread), node/chromium = WASM through web/lib/digits.js, the build the page picks (' + builds + '; relaxed = digits-relaxed.wasm, relaxed SIMD FMA). tfjs: same layer shapes, random weights, under the same Node; tfjs-wasm is @tensorflow/tfjs-backend-wasm (SIMD, 1 thread). The last two columns: how many times faster ours (WASM, Node) is, from the median CPU time per call of each (less disturbed by other work on the machine than the wall-clock times shown).');
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
    p(`| ${arch} | ${batch} | ${f(mf, 2)} | ${range(n)} | ${f(gf(n), 1)} | ${pct(n, 'native')} | ${range(w)} | ${f(gf(w), 1)} | ${pct(w, 'node')} | ${range(c)} | ${f(gf(c), 1)} | ${pct(c, 'chromium')} | ${range(tw)} | ${range(tc)} | ${x(faster(tw, w))} | ${x(faster(tc, w))} |`);
  }
p();
ortSection();
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
/* issue 18: one 12-megapixel photo, native (RGB, RGBA) and in Chromium */
const ppRows = rows.filter((r) => r.kind === 'preprocess');
const ppNative = (c) => ppRows.find((r) => r.target === 'native' && r.channels === c);
const ppChromium = ppRows.find((r) => r.target === 'chromium');
p('## Preprocessing a 12-megapixel photo (4000×3000)');
p();
if (ppRows.length) {
  const r0 = ppRows[0];
  p(`The photo: ${r0.source || 'bench/build/photo-large.jpg'} (bench/build/photo-large.jpg), decoded once; then \`dg_preprocess_ex\` on the full-size pixels, one call per sample after warm-up calls (median of ${r0.reps ?? '?'}, min–max). Natively: the RGB pixels the JPEG decodes to, and the same pixels as RGBA. In Chromium: the page's module (web/lib/digits.js, ${ppChromium ? `the ${ppChromium.build} build` : 'the build it picks'}) on the RGBA pixels of \`createImageBitmap\` drawn to a canvas${ppChromium ? ` (decoding took ${f(ppChromium.decode_ms, 0)} ms, not counted)` : ''}: the whole call (the 48 MB copied into WebAssembly memory, then C) and the C call alone. "Found" is what preprocessing reported: the box read (x, y, w, h in the photo's pixels) and the early downscale factor.`);
  p();
  p('| target | pixels | ms (min–max) | C call alone | CPU ms | found |');
  p('|---|---|---|---|---|---|');
  const found = (r) => r.box ? `${r.status}, box [${r.box.join(', ')}], scale ${r.scale}${r.photo ? ', photo path' : ''}` : (r.status ?? '–');
  for (const c of [3, 4]) {
    const r = ppNative(c);
    if (r) p(`| native | ${r.width}×${r.height} ${c === 3 ? 'RGB' : 'RGBA'} | ${range(r)} | | ${f(r.cpu_ms)} | ${found(r)} |`);
  }
  if (ppChromium) {
    const r = ppChromium;
    p(`| chromium | ${r.width}×${r.height} RGBA | ${range(r)} | ${f(r.c_ms)} (${f(r.c_min)}–${f(r.c_max)}) | | ${r.status}${r.c_status ? ` (C status ${r.c_status})` : ''} |`);
  }
} else {
  p('- not measured in this run');
}
p();
/* issue 23: a 6-digit number read from a 1200x400 canvas in Chromium */
const numLines = [out.length];
numberSection(rows, { p, f, range });
numLines.push(out.length);
if (rows.some((r) => r.kind === 'predict' && r.target.endsWith('-simd128'))) {
  p('## WASM builds side by side: relaxed SIMD (FMA) vs simd128 (mul+add), batch 1 (ms)');
  p();
  p('The same calls in the same run with digits-relaxed.wasm (what the page loads where the engine has relaxed SIMD) and digits-simd.wasm (the fallback; Safari and Firefox before relaxed SIMD).');
  p();
  p('| net | input | node relaxed | node simd128 | speed-up | chromium relaxed | chromium simd128 | speed-up |');
  p('|---|---|---|---|---|---|---|---|');
  for (const arch of archs)
    for (const mode of ['net', 'canvas']) {
      const q = { kind: 'predict', arch, batch: 1, mode };
      const nr = find({ ...q, target: 'node' }), ns = find({ ...q, target: 'node-simd128' });
      const cr = find({ ...q, target: 'chromium' }), cs = find({ ...q, target: 'chromium-simd128' });
      p(`| ${arch} | ${mode === 'net' ? '28×28' : 'canvas'} | ${range(nr)} | ${range(ns)} | ${ratio(ns?.ms, nr?.ms)} | ${range(cr)} | ${range(cs)} | ${ratio(cs?.ms, cr?.ms)} |`);
    }
  p();
}
const fl = find({ kind: 'firstload' });
if (fl) {
  p('## First load of the page');
  p();
  p('bench/browser.mjs opens web/index.html in a fresh Chromium profile with service workers blocked and records every response until the page is ready to read a drawing (`html[data-ready="1"]`); sizes are the bodies as served (raw) and gzip -9 of each (what a compressing server sends). The service worker then precaches the rest for offline use (the other two WASM builds, the training worker, the manifest and icons); that is not part of the first load.');
  p();
  p('| file | raw KB | gzip KB |');
  p('|---|---|---|');
  for (const fr of fl.files) p(`| ${fr.path} | ${f(fr.raw / 1024, 1)} | ${f(fr.gzip / 1024, 1)} |`);
  p(`| **total (${fl.files.length} files)** | **${f(fl.raw / 1024, 1)}** | **${f(fl.gzip / 1024, 1)}** |`);
  if (fl.precache) p(`\nEverything the service worker precaches: ${fl.precache.files} files, ${f(fl.precache.raw / 1024, 1)} KB raw, ${f(fl.precache.gzip / 1024, 1)} KB gzip.`);
  p();
}
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
    p(`| ${arch} | ${batch} | ${ips(n1)} | ${ips(n2)} | ${ratio(n2?.ips, n1?.ips)} | ${ips(w)} | ${ips(c)} | ${ips(tw)} | ${ips(tc)} | ${x(fasterIps(w, tw))} |`);
  }
p();
p('## Native kernels (one thread, the training step\'s products at batch 128)');
p();
p('bench_native kernels: each product a training step runs, alone, timed in thread CPU time; GFLOP/s counts its multiply-adds ×2 (a valid 3×3 convolution\'s forward, weight gradient and input gradient each do the same number), %peak against the native FMA peak above. conv1 has no input gradient in training (the image needs none); with one input channel its products are 1.5% of the cnn\'s arithmetic, and the target below counts conv2-4 and the dense layer.');
p();
p('| layer | forward GF/s | %peak | weight gradient GF/s | %peak | input gradient GF/s | %peak | ms (fwd / grad_w / grad_in) |');
p('|---|---|---|---|---|---|---|---|');
const kr = rows.filter((r) => r.kind === 'kernel' && r.target === 'native');
const kpct = (r) => r && peak('native') ? `${(100 * r.gflops / peak('native')).toFixed(0)}%` : '–';
for (const layer of [...new Set(kr.map((r) => r.layer))]) {
  const k = (op) => kr.find((r) => r.layer === layer && r.op === op);
  const c = ['forward', 'grad_w', 'grad_in'].map(k);
  p(`| ${layer} | ${c.map((r) => `${f(r?.gflops, 1)} | ${kpct(r)}`).join(' | ')} | ${c.map((r) => f(r?.ms, 2)).join(' / ')} |`);
}
if (!kr.length) p('| (not measured in this run) | | | | | | | |');
p();
p('## Training in the browser (the page\'s training panel, headless Chromium)');
p();
p('bench/browser_train.mjs opens web/index.html, opens the training panel and trains one epoch over the 10,000-image MNIST subset for each network the panel offers, at its default batch size and learning rate, in the page\'s Web Worker, each in a new training run from a cold start (V8 compiles the hot code while the first epoch runs). The epoch time is the worker\'s own measure (batches, their preparation, progress messages and yields); "click to done" adds the test evaluation on 2,000 digits, the model file and the hand-over to the pad. Median over the runs (min–max).');
p();
p('| network | batch | runs | images/s | one epoch, 10,000 images (s) | click to done (s) | test accuracy | target |');
p('|---|---|---|---|---|---|---|---|');
const bt = rows.filter((r) => r.kind === 'browser-train');
const med = (v) => { const x = [...v].sort((a, b) => a - b), n = x.length; return n % 2 ? x[(n - 1) >> 1] : (x[n / 2 - 1] + x[n / 2]) / 2; };
const btArchs = [...new Set(bt.map((r) => r.arch))];
const BT_TARGET = { mlp: 1, 'small-cnn': 10 };
const btEpoch = {};
for (const arch of btArchs) {
  const rs = bt.filter((r) => r.arch === arch), sec = rs.map((r) => r.seconds * 10000 / r.images);
  btEpoch[arch] = med(sec);
  const tgt = BT_TARGET[arch] ? `< ${BT_TARGET[arch]} s: ${med(sec) < BT_TARGET[arch] ? 'met' : 'not met'}` : '';
  p(`| ${arch} | ${rs[0].batch} | ${rs.length} | ${f(med(rs.map((r) => r.ips)))} (${f(Math.min(...rs.map((r) => r.ips)))}–${f(Math.max(...rs.map((r) => r.ips)))}) | ${f(med(sec), 2)} (${f(Math.min(...sec), 2)}–${f(Math.max(...sec), 2)}) | ${f(med(rs.map((r) => r.wall)), 2)} | ${(100 * med(rs.map((r) => r.accuracy))).toFixed(1)}% | ${tgt} |`);
}
if (!bt.length) p('| (not measured in this run) | | | | | | | |');
p();
const engLines = [out.length];
enginesSection();
engLines.push(out.length);
p('## Time to 99.0% MNIST test accuracy (native)');
p();
const accRuns = rows.filter((r) => r.kind === 'accuracy' && r.target === 'native');
if (accRuns.length) {
  p('The recipe is in bench/run (why this one, and what else was tried). Wall clock of `digits train` (data loading, 2 epochs, validation and test evaluation included), one run per seed; the trained model does not depend on the thread count, only its time does.');
  p();
  p('| seed | seconds | test accuracy | load (1 min) | command |');
  p('|---|---|---|---|---|');
  for (const r of accRuns)
    p(`| ${r.seed ?? '–'} | ${f(r.seconds, 1)} | ${r.accuracy ?? '?'}%${r.accuracy != null && r.accuracy >= 99.0 ? '' : ' (below 99.0%)'} | ${r.load ?? '–'} | \`${r.command}\` |`);
} else {
  p('- not measured in this run (--quick or --no-accuracy)');
}
p();
/* ---- the targets of issue 6 (performance), issue 5 (training in the
 * browser) and issue 18 (photos), met or not, from the figures above ---- */
p('## Targets (issues 5, 6, 18 and 22)');
p();
p('| target | measured | |');
p('|---|---|---|');
const T = (what, value, ok) => p(`| ${what} | ${value} | ${ok == null ? '–' : ok ? 'met' : '**not met**'} |`);
const pr = (t, arch, batch, mode = 'net') => find({ kind: 'predict', target: t, arch, batch, mode });
for (const arch of ['logreg', 'mlp', 'lenet5']) {
  const w = pr('node', arch, 1), c = pr('chromium', arch, 1), tw = pr('tfjs-wasm', arch, 1);
  const r = faster(tw, w);
  T(`WASM forward, batch 1, ${arch}: ≥ 3× faster than tfjs-wasm`,
    r ? `${x(r)} (Node, ${w.cpu_ms && tw.cpu_ms ? `CPU time: ${f(w.cpu_ms)} vs ${f(tw.cpu_ms)} ms; wall: ` : ''}${f(w.ms)} vs ${f(tw.ms)} ms; Chromium ${f(c?.ms)} ms)` : '–',
    r ? r >= 3 : null);
}
ortTargets(T);
{
  const c = pr('chromium', 'cnn', 1), w = pr('node', 'cnn', 1);
  T('WASM forward, batch 1, cnn: ≥ 60% of the measured WASM SIMD peak',
    c ? `${pct(c, 'chromium')} in Chromium (${f(c.ms)} ms), ${pct(w, 'node')} in Node (${f(w?.ms)} ms) (of the FMA peak, effective rates: conv2-4 by Winograd; ${pm('chromium') ? (100 * gf(c) / pm('chromium')).toFixed(0) : '–'}% of the mul+add ceiling)` : '–',
    c && peak('chromium') ? gf(c) / peak('chromium') >= 0.6 : null);
  const d = pr('chromium', 'default', 1, 'canvas');
  T('default model, whole predict from a 280×280 canvas, Chromium: < 1 ms median', d ? `${f(d.ms)} ms` : '–', d ? d.ms < 1 : null);
}
{
  const tr = (t, arch, batch, threads) => find({ kind: 'train', target: t, arch, batch, ...(threads ? { threads } : {}) });
  const w = tr('node', 'mlp', 128), tw = tr('tfjs-wasm', 'mlp', 128);
  const rt = fasterIps(w, tw);
  T('WASM training, mlp: ≥ 3× tfjs-wasm images/s (batch 128)', rt ? `${x(rt)} (Node${w.cpu_ips && tw.cpu_ips ? ', from CPU time' : ''}; wall: ${f(w.ips)} vs ${f(tw.ips)} images/s)` : '–', rt ? rt >= 3 : null);
  const cn = [tr('node', 'cnn', 32), tr('node', 'cnn', 128), tr('chromium', 'cnn', 32), tr('chromium', 'cnn', 128)].filter((r) => r?.ips);
  const best = cn.length ? Math.max(...cn.map((r) => r.ips)) : null;
  T('WASM training, cnn: ≥ 400 images/s', best ? `${f(best)} images/s (best of Node/Chromium, batch 32/128)` : '–', best ? best >= 400 : null);
  const n1 = tr('native', 'cnn', 128, 1), n2 = tr('native', 'cnn', 128, 2), m1 = tr('native', 'mlp', 128, 1), m2 = tr('native', 'mlp', 128, 2);
  T('native training, cnn, 2 threads: ≥ 1,800 images/s', n2 ? `${f(n2.ips)}` : '–', n2 ? n2.ips >= 1800 : null);
  T('native training, two threads ≥ 1.7× one (cnn, batch 128)', n1 && n2 ? ratio(n2.ips, n1.ips) : '–', n1 && n2 ? n2.ips / n1.ips >= 1.7 : null);
  const mb = [m1, m2].filter(Boolean).map((r) => r.ips);
  /* conv1 (one input channel, 1.5% of the cnn's arithmetic) is shown in
   * the table above but is not one of the main kernels */
  const kr = rows.filter((r) => r.kind === 'kernel' && r.target === 'native' && !r.layer.includes('conv1'));
  const kmin = kr.length && peak('native') ? kr.reduce((a, r) => r.gflops < a.gflops ? r : a) : null;
  T('native convolution and dense kernels (cnn conv2-4 and mlp dense: forward, weight and input gradients; batch 128, one thread): ≥ 50% of the FMA peak',
    kmin ? `lowest ${kpct(kmin)} (${kmin.layer} ${kmin.op}); ${kr.filter((r) => r.gflops >= 0.5 * peak('native')).length} of ${kr.length} at ≥ 50%` : '–',
    kmin ? kmin.gflops >= 0.5 * peak('native') : null);
  T('native training, mlp: ≥ 100,000 images/s', mb.length ? f(Math.max(...mb)) : '–', mb.length ? Math.max(...mb) >= 100000 : null);
}
{
  /* the median time over the seeds, and every seed at 99.0% or more */
  const acc = rows.filter((r) => r.kind === 'accuracy' && r.target === 'native');
  const ts = med(acc.map((r) => r.seconds)), amin = Math.min(...acc.map((r) => r.accuracy ?? 0));
  T('time to 99.0% test accuracy, native, 2 threads: < 30 s',
    acc.length ? `${f(ts, 1)} s median over ${acc.length} seed${acc.length > 1 ? 's' : ''} (${f(Math.min(...acc.map((r) => r.seconds)), 1)}–${f(Math.max(...acc.map((r) => r.seconds)), 1)} s); test accuracy ${acc.map((r) => `${r.accuracy ?? '?'}%`).join(', ')}` : '–',
    acc.length ? ts < 30 && amin >= 99 : null);
}
T('first load of the page (HTML, JS, CSS, WASM, default model): < 500 KB compressed', fl ? `${f(fl.gzip / 1024, 1)} KB gzip (${fl.files.length} files, ${f(fl.raw / 1024, 1)} KB raw)` : '–', fl ? fl.gzip < 500 * 1024 : null);
T('in-browser training, one epoch of mlp over 10,000 images: < 1 s', btEpoch.mlp ? `${f(btEpoch.mlp, 2)} s` : '–', btEpoch.mlp ? btEpoch.mlp < 1 : null);
T('in-browser training, one epoch of the small CNN: < 10 s', btEpoch['small-cnn'] ? `${f(btEpoch['small-cnn'], 2)} s` : '–', btEpoch['small-cnn'] ? btEpoch['small-cnn'] < 10 : null);
{
  /* issue 18: a 4000x3000 photo's whole preprocessing; a run that did not
   * read a digit (empty, uncertain) stopped early: not counted as met */
  const n3 = ppNative(3), n4 = ppNative(4), c = ppChromium;
  const okRead = (r) => r && r.status === 'ok';
  const worst = n3 && n4 ? Math.max(n3.ms, n4.ms) : (n3 || n4)?.ms;
  T('preprocessing a 4000×3000 photo, native: ≤ 30 ms',
    n3 || n4 ? `${n3 ? `RGB ${f(n3.ms)} ms` : ''}${n3 && n4 ? ', ' : ''}${n4 ? `RGBA ${f(n4.ms)} ms` : ''}${[n3, n4].every((r) => !r || okRead(r)) ? '' : ` (status ${(n3 || n4).status})`}` : '–',
    n3 || n4 ? worst <= 30 && [n3, n4].every((r) => !r || okRead(r)) : null);
  T('preprocessing a 4000×3000 photo, Chromium (RGBA, the page\'s module): ≤ 60 ms',
    c ? `${f(c.ms)} ms (the C call alone ${f(c.c_ms)} ms)${okRead(c) ? '' : ` (status ${c.status})`}` : '–',
    c ? c.ms <= 60 && okRead(c) : null);
}
engineTargets(T);
p();
/* --only engines: this section alone (a run of bench/engines.mjs), with
 * its targets and when and where it was measured, put in place of the
 * section in bench/results.md (the rest of the file is left as it is) */
/* Section lines [a, b) of out with a line on when and where it was
 * measured (by `command`, alone) and tail, put in place of the section of
 * the same heading in bench/results.md (before `before` when it has none;
 * the rest of the file left as it is), and to stdout. */
function putSection([a, b], command, tail = []) {
  const sec = out.slice(a, b);
  const load = sh('cut -d" " -f1-3 /proc/loadavg');
  const when = `Measured by ${command} alone, ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC, ${cpu}, ${sh('nproc')} cores, load average ${load} at the end${opt('--note', '') ? `: ${opt('--note', '')}` : ''}. The next full \`./build.sh bench\` measures these rows within its own run and rewrites this section.`;
  const text = [sec[0], '', when, ...sec.slice(1), ...tail, ''].join('\n');
  const file = join(here, 'results.md'), old = readFileSync(file, 'utf8');
  const at = old.indexOf(`\n${sec[0]}\n`);
  const next = at >= 0 ? old.indexOf('\n## ', at + 1) : old.indexOf('\n## Time to 99.0%');
  const md = at >= 0 ? old.slice(0, at + 1) + text + old.slice(next + 1)
    : next >= 0 ? old.slice(0, next + 1) + text + '\n' + old.slice(next + 1) : `${old}\n${text}`;
  writeFileSync(file, md);
  process.stdout.write(text);
  process.exit(0);
}
if (opt('--only', null) === 'engines') {
  const tail = ['| target | measured | |', '|---|---|---|'];
  engineTargets((what, value, ok) => tail.push(`| ${what} | ${value} | ${ok == null ? '–' : ok ? 'met' : '**not met**'} |`));
  putSection(engLines, 'a run of bench/engines.mjs (`node bench/engines.mjs > R.jsonl; node bench/report.mjs R.jsonl --only engines`)', tail);
}
/* --only number: "Reading a number" alone (a run of bench/browser.mjs
 * --only-number) */
if (opt('--only', null) === 'number')
  putSection(numLines, 'a run of bench/browser.mjs (`node bench/browser.mjs --only-number > R.jsonl; node bench/report.mjs R.jsonl --only number`)');
const md = out.join('\n') + '\n';
if (!quick) writeFileSync(join(here, 'results.md'), md);
else writeFileSync(join(here, 'build', 'results-quick.md'), md);
process.stdout.write(md);
