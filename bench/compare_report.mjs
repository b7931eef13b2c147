/* compare_report.mjs: bench/build/compare.jsonl (bench/compare) -> the table
 * of two builds side by side, per row: baseline and head medians (min-max),
 * the change (median of the paired ratios), its ~95% interval, and a flag on rows more than 3% slower.
 * usage: node bench/compare_report.mjs COMPARE.jsonl [--out FILE]
 *          [--base TEXT] [--head TEXT] [--base-bench FILE] [--reps N]
 *          [--rounds N] [--max-rounds N] [--seconds S] [--busy-before PCT]
 *          [--load-after L]
 *        node bench/compare_report.mjs COMPARE.jsonl --pending
 *          (the bench_native command lines of the native rows whose 3%
 *          verdict is still open, one per line: bench/compare runs them
 *          another round)
 * Input lines: native ones, one per bench_native run ({build: 'base' |
 * 'head', round, args, ...its result}), paired by round; WASM ones with the
 * paired samples of both builds ({base: [...], head: [...]}). */
import { readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { LIMIT, pairStats } from './compare_stats.mjs';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const lines = readFileSync(args[0], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const sh = (c) => { try { return execSync(c, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return '?'; } };

/* ---- rows: paired samples of time per unit (ms per call, per image) ---- */
const arch = (a) => a && a.endsWith('.safetensors') ? a.replace(/^.*\//, '').replace(/\.safetensors$/, '') : a;
const keyOf = (r) => [r.kind, r.target, arch(r.arch), r.batch, r.mode, r.threads, r.channels]
  .map((v) => v ?? '').join('|');
const rows = new Map();
const row = (r) => {
  const k = keyOf(r);
  if (!rows.has(k)) rows.set(k, { ...r, arch: arch(r.arch), key: k, base: [], head: [], base_cpu: [], head_cpu: [],
                                   rounds: new Map() });
  return rows.get(k);
};
for (const r of lines) {
  if (Array.isArray(r.base)) {
    const o = row(r);
    o.base.push(...r.base), o.head.push(...r.head);
    if (r.base_cpu) o.base_cpu.push(...r.base_cpu), o.head_cpu.push(...r.head_cpu);
  } else if (r.build === 'base' || r.build === 'head') {
    /* bench_native: ms per call, or images/s for training; the thread's
     * CPU time where it gives it (single-thread runs) */
    const o = row(r), v = r.kind === 'train' ? 1000 / r.ips : r.ms;
    const c = r.kind === 'train' ? (r.cpu_ips ? 1000 / r.cpu_ips : null) : r.cpu_ms;
    if (!Number.isFinite(v)) continue;
    o.per = r.kind === 'train' ? 'image' : undefined;
    if (!o.rounds.has(r.round)) o.rounds.set(r.round, {});
    const p = o.rounds.get(r.round);
    p[r.build] = v, p[`${r.build}_cpu`] = c;
  }
}
for (const o of rows.values()) {
  for (const p of [...o.rounds.keys()].sort((a, b) => a - b).map((k) => o.rounds.get(k)))
    if (p.base != null && p.head != null) {
      o.base.push(p.base), o.head.push(p.head);
      if (p.base_cpu && p.head_cpu) o.base_cpu.push(p.base_cpu), o.head_cpu.push(p.head_cpu);
    }
  o.stats = o.base.length ? pairStats(o.base, o.head) : null;
  o.cpu = o.base_cpu.length && o.base_cpu.length === o.base.length ? pairStats(o.base_cpu, o.head_cpu) : null;
}
const measured = [...rows.values()].filter((o) => o.stats);

if (args.includes('--pending')) {
  const open = new Set(measured.filter((o) => o.target === 'native' && o.stats.open).map((o) => o.args));
  for (const a of open) if (a) console.log(a);
  process.exit(0);
}

/* ---- the table ---- */
const f = (x) => !Number.isFinite(x) ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2)
  : x.toPrecision(3);
const pc = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}%`;
/* training rows are shown as images/s (the samples are ms per image) */
const cell = (o, s) => o.per === 'image' ? `${f(1000 / s.med)} (${f(1000 / s.max)}–${f(1000 / s.min)})`
  : `${f(s.med)} (${f(s.min)}–${f(s.max)})`;
const what = (o) => o.kind === 'predict' ? `predict ${o.arch}, batch ${o.batch}, ${o.mode === 'net' ? '28×28' : 'canvas'}`
  : o.kind === 'train' ? `train ${o.arch}, batch ${o.batch}, ${o.threads ?? 1} thread${(o.threads ?? 1) > 1 ? 's' : ''}`
  : o.kind === 'preprocess' ? `preprocess 4000×3000 photo, ${o.channels === 3 ? 'RGB' : 'RGBA'}` : o.key;
const slower = measured.filter((o) => o.stats.change > LIMIT);

const out = [];
const p = (s = '') => out.push(s);
p('# digits: two builds compared');
p();
p(`Produced by \`bench/compare\` (\`./build.sh bench --baseline REV\`), one run, the same machine.`);
p();
p(`- baseline: ${opt('--base', '?')}; head: ${opt('--head', '?')}`);
p(`- date: ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC; CPU: ${(readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || '?'}, ${sh('nproc')} logical cores; node ${process.version}; ${sh('/usr/bin/chromium --version')}`);
p(`- CPU busy just before the first measurement: ${opt('--busy-before', '?')}% (all cores, over 3 s); load average (1 min) after: ${opt('--load-after', '?')}; run took ${opt('--seconds', '?')} s`);
{
  /* other work before the run (the load average after counts the run's
   * own two-thread rows) */
  const load = Number(opt('--busy-before')) / 100 * Number(sh('nproc'));
  if (load > 0.5)
    p(`- **the machine was busy (load ${load.toFixed(1)} on ${sh('nproc')} cores): wall-clock samples spread widely and a 3% verdict needs a quiet machine; the CPU-time column holds better. Re-run when it is quiet before quoting.**`);
}
p(`- native: each build's libdigitscore.a linked into ${opt('--base-bench', 'bench/bench_native.c') === 'bench/bench_native.c' ? "this tree's bench/bench_native.c" : `bench_native (the baseline's own source, ${opt('--base-bench')}, for the baseline)`}; one run per row and build, ${opt('--reps', '?')} samples each, its median one sample here; ${opt('--rounds', '?')} rounds (up to ${opt('--max-rounds', '?')} for rows still open), the build that goes first swapped every round`);
p('- WebAssembly: both builds\' modules (each its own JS module and .wasm) in one Node process, and in one Chromium page, the samples of a row alternating base/head (equal calls per sample); the build each engine picks (relaxed SIMD in both here), simd128 beside it at batch 1');
p('- not compared: the machine peaks (no code of ours), TensorFlow.js, the in-browser training panel (one cold epoch per run: minutes per row for a 3% verdict) and the time to 99% accuracy; bench/results.md has them for the head');
p();
p(`Each figure: median (min–max) in ms per call, or images/s for training. Change: head against baseline in time, + slower: the median of the ratios of paired samples (each pair taken back to back); the interval is its ~95% one. **Flagged: more than ${100 * LIMIT}% slower.** A row whose interval still straddled ${100 * LIMIT}% got more samples, up to the limit; "open" marks one where it still does. The verdict is on wall-clock time; "CPU time" is the change in the CPU time the process (Node) or the thread (native, one thread) spent, which other work on a busy machine inflates far less: where the two disagree on a busy machine, trust the CPU time and re-run when it is quiet.`);
p();
p(slower.length ? `**${slower.length} of ${measured.length} rows more than ${100 * LIMIT}% slower:** ${slower.map((o) => `${o.target} ${what(o)} (${pc(o.stats.change)})`).join('; ')}.`
  : `**No row more than ${100 * LIMIT}% slower** (${measured.length} rows; the largest slowdown ${measured.length ? pc(Math.max(...measured.map((o) => o.stats.change))) : '–'}).`);
p();
const order = ['native', 'node', 'node-simd128', 'chromium', 'chromium-simd128'];
const targets = [...new Set(measured.map((o) => o.target))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
for (const t of targets) {
  const rs = measured.filter((o) => o.target === t);
  const v = rs.find((o) => o.variant)?.variant;
  p(`## ${t}${v ? ` (digits-${v}.wasm)` : ''}`);
  p();
  p('| row | baseline | head | change | ~95% interval | CPU time | samples | |');
  p('|---|---|---|---|---|---|---|---|');
  for (const o of rs) {
    const s = o.stats;
    const flag = s.change > LIMIT ? `**> ${100 * LIMIT}% slower**` : '';
    p(`| ${what(o)} | ${cell(o, s.base)} | ${cell(o, s.head)} | ${pc(s.change)} | ${pc(s.lo)} … ${pc(s.hi)} | ${o.cpu ? pc(o.cpu.change) : ''} | ${s.n} | ${[flag, s.open ? 'open' : ''].filter(Boolean).join(', ')} |`);
  }
  p();
}
const md = out.join('\n') + '\n';
if (opt('--out')) writeFileSync(opt('--out'), md);
process.stdout.write(md);
