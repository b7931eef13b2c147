/* trace_tasks.mjs: the page's main-thread tasks by CPU time, from a
 * Chromium trace (DevTools Protocol Tracing through a driver of
 * tests/browser/lib/engines.mjs). A task's wall time on a machine shared
 * with other work counts the time its thread waited for a core; its thread
 * CPU time (the trace's tdur) does not, so 4 x CPU time is what the task
 * would take on a CPU 4 times slower, however busy the machine is.
 *
 *   await startTrace(d);  ... performance.mark('bench:NAME') in the page ...
 *   const tasks = mainTasks(await stopTrace(d));
 *     -> [{cpu, wall, phase, what}] (ms; phase: the last bench: mark before
 *        the task; what: the task's callbacks and the functions they ran)
 */
const CATEGORIES = ['toplevel', 'devtools.timeline', 'blink.user_timing'];

export async function startTrace(d) {
  d.traceEvents = [];
  if (!d.traceHooked) {
    await d.cdpOn('Tracing.dataCollected', (e) => d.traceEvents.push(...e.value));
    await d.cdpOn('Tracing.tracingComplete', () => d.traceDone?.());
    d.traceHooked = true;
  }
  await d.cdp('Tracing.start', { traceConfig: { includedCategories: CATEGORIES }, transferMode: 'ReportEvents' });
}

export async function stopTrace(d) {
  const done = new Promise((resolve) => { d.traceDone = resolve; });
  await d.cdp('Tracing.end');
  await done;
  return d.traceEvents;
}

/* what ran in a task: its callbacks and the functions they called */
const KINDS = { FireAnimationFrame: 'animation frame', HandlePostMessage: 'message', EventDispatch: 'event',
                TimerFire: 'timer', ParseHTML: 'HTML', FunctionCall: '', Layout: 'layout', Paint: 'paint',
                UpdateLayoutTree: 'style', 'V8.GC_SCAVENGER': 'GC', MajorGC: 'GC', MinorGC: 'GC' };
function describe(task, inside) {
  const parts = [];
  for (const e of inside.sort((a, b) => (b.tdur ?? b.dur) - (a.tdur ?? a.dur))) {
    /* the callbacks that took a tenth of the task, and any function named */
    if (!(e.name in KINDS) || (e.name !== 'FunctionCall' && (e.tdur ?? e.dur) < 0.1 * task.tdur)) continue;
    const data = e.args?.data ?? {};
    const fn = e.name === 'FunctionCall'
      ? `${data.functionName || '(anonymous)'} ${String(data.url ?? '').replace(/^.*\//, '')}:${(data.lineNumber ?? 0) + 1}`
      : `${KINDS[e.name]}${data.type ? ` ${data.type}` : ''}`;
    const s = `${fn} ${((e.tdur ?? e.dur) / 1000).toFixed(1)}`;
    if (!parts.includes(s)) parts.push(s);
    if (parts.length === 4) break;
  }
  return parts.join(', ');
}

/* The main thread's tasks from the first bench: mark to the last, by CPU
 * time, longest first. */
export function mainTasks(events) {
  const marks = events.filter((e) => e.name?.startsWith('bench:')).sort((a, b) => a.ts - b.ts);
  if (marks.length < 2) throw new Error('trace_tasks: no bench: marks in the trace');
  const main = (e) => e.pid === marks[0].pid && e.tid === marks[0].tid;
  const first = marks[0].ts, last = marks.at(-1).ts;
  const onMain = events.filter((e) => main(e) && e.ph === 'X' && e.ts >= first && e.ts <= last);
  const TASK = 'ThreadControllerImpl::RunTask';
  const tasks = onMain.filter((e) => e.name === TASK && e.tdur != null);
  const rest = onMain.filter((e) => e.name !== TASK).sort((a, b) => a.ts - b.ts);
  const from = (ts) => {  /* first event at or after ts */
    let lo = 0, hi = rest.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (rest[mid].ts < ts) lo = mid + 1; else hi = mid; }
    return lo;
  };
  return tasks.map((t) => {
    const inside = [];
    for (let i = from(t.ts); i < rest.length && rest[i].ts <= t.ts + t.dur; i++) inside.push(rest[i]);
    const phase = [...marks].reverse().find((m) => m.ts <= t.ts).name.slice(6);
    return { cpu: t.tdur / 1000, wall: t.dur / 1000, phase, what: describe(t, inside), at: (t.ts - first) / 1000 };
  }).sort((a, b) => b.cpu - a.cpu);
}
