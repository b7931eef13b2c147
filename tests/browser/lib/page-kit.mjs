// tests/browser/lib/page-kit.mjs: the drawing page through the engine
// driver (engines.mjs): a served copy of web/ whose index.html first runs
// tests/browser/lib/test-init.js (it takes features away as the URL's
// ?without= asks and records each reading), the page opened and ready,
// digits drawn in pad coordinates, the shown reading, buttons clicked.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ROOT, SHAPES, startServer } from './harness.mjs';
import { ENGINES, missing, openEngine } from './engines.mjs';

export { ENGINES, openEngine };

/* The engine a test file runs in: argv[2] or $DIGITS_ENGINE (default chromium). */
export function engineArg() {
  return process.argv[2] || process.env.DIGITS_ENGINE || 'chromium';
}

/* The engine a test file runs in, after checking it is installed: without
 * it the file says why and exits 77 (ctest's SKIP_RETURN_CODE). */
export function requireEngine() {
  const engine = engineArg();
  const why = missing(engine);
  if (why) {
    console.log(`SKIP: ${why}`);
    process.exit(77);
  }
  return engine;
}

/* A copy of web/ with the init script loaded first, served with models/:
 * {url, web, stop()}. */
export async function startTestServer() {
  const web = fs.mkdtempSync(path.join(os.tmpdir(), 'digits-web-'));
  fs.cpSync(path.join(ROOT, 'web'), web, { recursive: true });
  /* inline, so that the service worker's copy of index.html has it offline */
  const init = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'test-init.js'), 'utf8');
  const index = path.join(web, 'index.html');
  const html = fs.readFileSync(index, 'utf8');
  fs.writeFileSync(index, html.replace('<meta charset="utf-8">',
                                       () => `<meta charset="utf-8">\n  <script>${init}</script>`));
  const srv = await startServer({ web, models: path.join(ROOT, 'models') });
  return {
    url: srv.url, web,
    async stop() {
      await srv.stop();
      fs.rmSync(web, { recursive: true, force: true });
    },
  };
}

/* One file's server and browser: {srv, d}. */
export async function openSession(engine, opts) {
  const srv = await startTestServer();
  let d;
  try {
    d = await openEngine(engine, opts);
  } catch (e) {
    await srv.stop();
    throw e;
  }
  return { srv, d };
}

export async function closeSession(s) {
  await s?.d?.close();
  await s?.srv?.stop();
}

/* Wait until fn(arg) is truthy in the page; returns its value. */
export async function waitFor(d, fn, arg, { timeout = 30000, what = String(fn) } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await d.evaluate(fn, arg).catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/* In a describe(): before its tests a session in engine (openSession's
 * opts) with the page open and the engine's name logged, after them the
 * session closed. Returns {s, d}, filled in by the time the tests run. */
export function useSession(engine, opts) {
  const ctx = { s: null, d: null };
  before(async () => {
    ctx.s = await openSession(engine, opts);
    ctx.d = ctx.s.d;
    await openPage(ctx.d, ctx.s.srv.url);
    console.log(`     ${label(ctx.d)}`);
  });
  after(() => closeSession(ctx.s));
  return ctx;
}

/* Load the page and wait for the recogniser. */
export async function openPage(d, url) {
  await d.goto(url);
  await waitFor(d, () => document.documentElement.dataset.ready === '1', null,
                { what: 'html[data-ready="1"]' });
}

/* The pad's box in viewport CSS px. */
export const padBox = (d) => d.evaluate(() => {
  const r = document.querySelector('[data-testid="pad"]').getBoundingClientRect();
  return { x: r.left, y: r.top, width: r.width, height: r.height };
});

/* Draw a digit from SHAPES (mouse, or touch where asked); the reading that
 * follows the last stroke is awaited. */
export const draw = (d, digit, opts) => drawLines(d, SHAPES[digit], opts);

/* Draw polylines in pad coordinates (SHAPES' and harness numberLines':
 * 0..1 is the pad's centred square, all of a square pad); the reading
 * that follows the last stroke is awaited. */
export async function drawLines(d, lines, { touch = false } = {}) {
  const b = await padBox(d);
  const ups = await d.evaluate(() => window.__digits.ups);
  const sq = Math.min(b.width, b.height), cx = b.x + b.width / 2, cy = b.y + b.height / 2;
  for (const line of lines)
    await d.stroke(line.map(([x, y]) => [cx + (x - 0.5) * sq, cy + (y - 0.5) * sq]), { touch });
  const n = lines.length;
  await waitFor(d, (u) => window.__digits.ups >= u && window.__digits.readings > window.__digits.atUp,
                ups + n, { what: `${n} pointer-ups and a reading after the last` });
}

/* Click an element by test id (a DOM click: the same in every driver). */
export const click = (d, id) => d.evaluate((i) => {
  document.querySelector(`[data-testid="${i}"]`).click();
}, id);

/* The shown reading once the pad has settled:
 * {state, digit, confidence, text, probs (the last reading's, or null)}. */
export async function reading(d) {
  await new Promise((r) => setTimeout(r, 200));
  return d.evaluate(() => {
    const el = document.querySelector('[data-testid="prediction"]');
    return {
      state: el.dataset.state, digit: el.dataset.digit === '' ? null : Number(el.dataset.digit),
      confidence: Number(el.dataset.confidence ?? 0), text: el.textContent,
      probs: window.__digits.last,
    };
  });
}

/* Clear the pad and wait for the empty reading. */
export async function clearPad(d) {
  await click(d, 'clear');
  await waitFor(d, () => document.querySelector('[data-testid="prediction"]').dataset.state === 'empty',
                null, { what: 'an empty reading' });
}

/* The engine's name and version for messages: "firefox 153.8.0". */
export const label = (d) => `${d.engine} ${d.version}`.trim();
