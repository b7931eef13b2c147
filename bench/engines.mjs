/* engines.mjs: the page in every engine and on a throttled "phone" (issue
 * 22); one JSON result per line, for bench/report.mjs's section "Engines
 * and a throttled phone". usage:
 *   node bench/engines.mjs [--quick] [--reps N] [--train-reps N]
 *        [--engines chromium,firefox,webkit] [--runs N] [--no-throttle]
 *
 * Each engine through one driver (tests/browser/lib/engines.mjs: Chromium
 * by playwright-core, Firefox by puppeteer-core over WebDriver BiDi, WebKitGTK
 * by selenium-webdriver under its own Xvfb), the repository served by
 * bench/static.mjs, and the same steps in each:
 *   - bench/page.html?only=pad (bench/pad_bench.mjs): the page's predict
 *     path, a 7 on web/draw.js's Pad -> digitSnapshot(FIT) ->
 *     recognizer.predict, timed 50 calls at a time (Firefox and WebKit
 *     coarsen performance.now())
 *     -> {kind: 'engine-predict', target: ENGINE, ...}
 *   - web/index.html?sw=0, the training panel, one epoch of mlp and of the
 *     small CNN in the page's worker, --train-reps times each (page_train.mjs)
 *     -> {kind: 'engine-train', target: ENGINE, arch, seconds, ips, ...}
 * Then Chromium with the DevTools CPU throttling at 4x
 * (Emulation.setCPUThrottlingRate: the page's main thread runs 4 times
 * slower, a mid-range phone): the same predict rows (target 'chromium-4x')
 * and --runs times: a fresh page, a PerformanceObserver on 'longtask' (and
 * 'long-animation-frame', which names the scripts), a 7 drawn with the
 * mouse, the panel opened, one epoch of mlp and one of the small CNN; every
 * main-thread task over 50 ms from the first stroke to the end of the last
 * epoch, with the phase it fell in -> {kind: 'longtasks', target:
 * 'chromium-4x', run, tasks, phases}. Before those, the same steps once
 * unthrottled under a DevTools trace: every main-thread task's CPU time,
 * which a machine busy with other work does not inflate as it does wall
 * time; 4x it is the task on the phone (bench/trace_tasks.mjs) ->
 * {kind: 'maintasks', target: 'chromium', phases, tasks}. An engine that is not installed gives
 * {kind: 'engine-skip', target, why}.
 */
import { ENGINES, missing, openEngine } from '../tests/browser/lib/engines.mjs';
import { openPage, padBox, waitFor } from '../tests/browser/lib/page-kit.mjs';
import { SHAPES } from '../tests/browser/lib/harness.mjs';
import { openPanel, trainEpoch } from './page_train.mjs';
import { serveRepo } from './static.mjs';
import { mainTasks, startTrace, stopTrace } from './trace_tasks.mjs';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const quick = args.includes('--quick');
const reps = Number(opt('--reps', quick ? 3 : 9));
const trainReps = Number(opt('--train-reps', quick ? 1 : 3));
const runs = Number(opt('--runs', quick ? 1 : 2));
const engines = opt('--engines', ENGINES.join(',')).split(',').filter(Boolean);
const RATE = 4;
const ARCHS = ['mlp', 'small-cnn'];
const log = (s) => process.stderr.write(`  engines: ${s}\n`);
const emit = (r) => console.log(JSON.stringify(r));

/* "firefox 153.8.0" etc.: the driver's version, else the user agent's */
async function version(d) {
  if (d.version) return d.version;
  const ua = await d.evaluate(() => navigator.userAgent);
  return (/(?:Chrome|Firefox|Version)\/([\d.]+)/.exec(ua) || [])[1] ?? '';
}

/* bench/page.html?only=pad in d -> its rows */
async function padRows(d, srv, target) {
  await d.goto(srv.url(`/bench/page.html?only=pad&target=${target}&reps=${reps}&quick=${quick ? 1 : 0}`));
  const done = await waitFor(d, () => window.benchResults || window.benchError ? true : null, null,
                             { timeout: 300000, what: 'bench/page.html?only=pad' });
  const err = done && await d.evaluate(() => window.benchError ?? null);
  if (err) throw new Error(err);
  return d.evaluate(() => window.benchResults);
}

/* The page ready, at the top, with the training panel closed. */
async function freshPage(d, srv) {
  await openPage(d, srv.url('/web/index.html?sw=0'));
  /* as a person finds it: the page idle after loading, its warm-up of the
   * recogniser done (app.js warmUp) */
  await waitFor(d, () => document.documentElement.dataset.warm === '1', null,
                { what: 'html[data-warm="1"]' });
  await d.evaluate(() => scrollTo(0, 0));
}

async function oneEngine(engine, srv) {
  const d = await openEngine(engine);
  try {
    const v = await version(d);
    const longtask = await d.evaluate(() => PerformanceObserver.supportedEntryTypes?.includes('longtask') ?? false);
    for (const r of await padRows(d, srv, engine)) emit({ ...r, version: v, longtask });
    await freshPage(d, srv);
    await openPanel(d);
    for (const arch of ARCHS)
      for (let k = 0; k < trainReps; k++) {
        const r = await trainEpoch(d, arch);
        emit({ kind: 'engine-train', target: engine, version: v, ...r });
        log(`${engine} ${v}: ${arch} epoch ${r.seconds.toFixed(2)} s (${Math.round(r.ips)} images/s), ` +
            `test accuracy ${(100 * r.accuracy).toFixed(1)}%`);
      }
    if (d.errors.length) log(`${engine} page errors: ${d.errors.join('; ')}`);
  } finally {
    await d.close();
  }
}

/* Long tasks and long animation frames from now on, in window.__bench. */
function observe() {
  const b = window.__bench = { tasks: [], frames: [], marks: [] };
  new PerformanceObserver((l) => {
    for (const e of l.getEntries())
      b.tasks.push({ start: e.startTime, dur: e.duration,
                     where: (e.attribution || []).map((a) => `${a.containerType || a.name}`).join(',') });
  }).observe({ type: 'longtask' });
  if (PerformanceObserver.supportedEntryTypes.includes('long-animation-frame'))
    new PerformanceObserver((l) => {
      for (const e of l.getEntries())
        b.frames.push({ start: e.startTime, dur: e.duration,
                        scripts: (e.scripts || []).sort((x, y) => y.duration - x.duration).slice(0, 3)
                          .map((s) => ({ dur: Math.round(s.duration), invoker: s.invoker,
                                         fn: s.sourceFunctionName,
                                         src: `${(s.sourceURL || '').replace(/^.*\//, '')}:${s.sourceCharPosition}` })) });
    }).observe({ type: 'long-animation-frame' });
  return true;
}
/* a phase starts: in window.__bench and as a trace mark (trace_tasks.mjs) */
const mark = (d, name) => d.evaluate((n) => {
  window.__bench.marks.push({ name: n, t: performance.now() });
  performance.mark(`bench:${n}`);
}, name);

/* A fresh page at the given CPU throttling rate, then a stroke, the panel,
 * an epoch of each network; before() runs just before the first stroke.
 * -> {got (window.__bench), train (the epochs' rows)} */
async function scenario(d, srv, { rate, before = async () => {} }) {
  await freshPage(d, srv);
  await d.cdp('Emulation.setCPUThrottlingRate', { rate });
  await d.evaluate(observe);
  const b = await padBox(d);
  await before();
  await mark(d, 'first stroke');
  for (const line of SHAPES[7])
    await d.stroke(line.map(([x, y]) => [b.x + x * b.width, b.y + y * b.height]));
  await waitFor(d, () => ['sure', 'unsure'].includes(
    document.querySelector('[data-testid="prediction"]').dataset.state), null, { what: 'a reading' });
  await mark(d, 'panel opened');
  await openPanel(d);
  const train = [];
  for (const arch of ARCHS) {
    await mark(d, `${arch} epoch`);
    train.push(await trainEpoch(d, arch));
  }
  await mark(d, 'end');
  return { got: await d.evaluate(() => window.__bench), train };
}

/* One throttled run: every long task from the first stroke to the end. */
async function throttledRun(d, srv, run) {
  const { got, train } = await scenario(d, srv, { rate: RATE });
  const phase = (t) => [...got.marks].reverse().find((m) => m.t <= t)?.name ?? 'before';
  const t0 = got.marks[0].t, end = got.marks.at(-1).t;
  const tasks = got.tasks.filter((e) => e.start >= t0 && e.start <= end).map((e) => ({
    ...e, phase: phase(e.start),
    scripts: got.frames.find((f) => f.start <= e.start + 1 && e.start <= f.start + f.dur)?.scripts ?? [],
  }));
  const phases = got.marks.slice(0, -1).map((m, i) => ({ name: m.name, ms: got.marks[i + 1].t - m.t }));
  const longest = tasks.reduce((a, e) => Math.max(a, e.dur), 0);
  log(`chromium ${RATE}x run ${run}: ${tasks.length} long tasks, longest ${longest.toFixed(0)} ms` +
      tasks.map((e) => `\n    ${e.dur.toFixed(0)} ms in "${e.phase}" ${JSON.stringify(e.scripts)}`).join(''));
  return { kind: 'longtasks', target: `chromium-${RATE}x`, rate: RATE, run, tasks, phases, longest,
           over50: tasks.filter((e) => e.dur > 50).length, train };
}

/* The same steps unthrottled under a trace: each main-thread task's CPU
 * time, which other work on the machine does not inflate (trace_tasks.mjs). */
async function tracedRun(d, srv) {
  await scenario(d, srv, { rate: 1, before: () => startTrace(d) });
  const tasks = mainTasks(await stopTrace(d));
  const phases = [...new Set(tasks.map((t) => t.phase))].map((name) => {
    const ts = tasks.filter((t) => t.phase === name);
    return { name, n: ts.length, cpu: ts.reduce((a, t) => a + t.cpu, 0), max: Math.max(...ts.map((t) => t.cpu)),
             over: ts.filter((t) => RATE * t.cpu > 50).length };
  });
  log(`chromium, traced: ${tasks.length} tasks; the longest by CPU time:` +
      tasks.slice(0, 8).map((t) => `\n    ${t.cpu.toFixed(1)} ms CPU (${t.wall.toFixed(1)} wall) in "${t.phase}": ${t.what}`).join(''));
  /* the 12 longest, and the 3 longest of each phase */
  const keep = new Set(tasks.slice(0, 12));
  for (const ph of phases) tasks.filter((t) => t.phase === ph.name).slice(0, 3).forEach((t) => keep.add(t));
  return { kind: 'maintasks', target: 'chromium', rate: RATE, phases, tasks: tasks.filter((t) => keep.has(t)) };
}

async function throttled(srv) {
  const d = await openEngine('chromium');
  try {
    const v = await version(d);
    emit({ ...await tracedRun(d, srv), version: v });
    await d.cdp('Emulation.setCPUThrottlingRate', { rate: RATE });
    for (const r of await padRows(d, srv, `chromium-${RATE}x`)) emit({ ...r, version: v, rate: RATE });
    for (let run = 1; run <= runs; run++) {
      const r = await throttledRun(d, srv, run);
      emit({ ...r, version: v });
      for (const t of r.train) emit({ kind: 'engine-train', target: `chromium-${RATE}x`, version: v, rate: RATE, ...t });
    }
  } finally {
    await d.close();
  }
}

let code = 0;
const srv = await serveRepo();
try {
  for (const engine of engines) {
    const why = missing(engine);
    if (why) {
      emit({ kind: 'engine-skip', target: engine, why });
      log(`skipped: ${why}`);
      continue;
    }
    try {
      await oneEngine(engine, srv);
    } catch (e) {
      emit({ kind: 'engine-skip', target: engine, why: `failed: ${e.message.split('\n')[0]}` });
      log(`${engine} failed: ${e.stack || e.message}`);
      code = 1;
    }
  }
  if (!args.includes('--no-throttle') && !missing('chromium')) {
    try {
      await throttled(srv);
    } catch (e) {
      emit({ kind: 'engine-skip', target: `chromium-${RATE}x`, why: `failed: ${e.message.split('\n')[0]}` });
      log(`throttled chromium failed: ${e.stack || e.message}`);
      code = 1;
    }
  }
} finally {
  srv.close();
}
process.exit(code);
