// tests/browser/lib/harness.mjs: shared by the browser tests (this folder
// is not globbed by ctest): start web/serve.mjs on a free port, launch
// Debian's Chromium through playwright-core with a fresh profile, draw
// strokes on the pad with mouse or touch, and read what the page shows.
// The tests themselves are node:test tests (node:assert/strict): a file
// is one describe() whose before() starts the server and the browser and
// whose after() closes them; `node --test-name-pattern=REGEX FILE` runs
// some of its tests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = process.env.DIGITS_SRC ||
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                     '--disable-component-update', '--disable-sync', '--no-first-run'];

/* web/serve.mjs on a free port: {url, stop()} */
export async function startServer({ web, models } = {}) {
  const args = [path.join(ROOT, 'web', 'serve.mjs'), '--port', '0'];
  if (web) args.push('--web', web);
  if (models) args.push('--models', models);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('serve.mjs did not start in 10 s')), 10000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`serve.mjs exited (${code})`)));
  });
  return {
    url,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.on('exit', resolve);
      child.kill('SIGTERM');
    }),
  };
}

/* A persistent context in a fresh profile: {context, page, close()}.
 * Console errors and page errors are collected in .errors. */
export async function launch(options = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'digits-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, args: ARGS, headless: true,
    viewport: { width: 1280, height: 800 }, ...options,
  });
  const errors = [];
  const watch = (page) => {
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  };
  context.on('page', watch);
  context.pages().forEach(watch);
  const page = context.pages()[0] ?? await context.newPage();
  return {
    context, page, errors,
    close: async () => {
      await context.close().catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/* Load the page and wait until the recogniser is ready. */
export async function openPage(page, url) {
  await page.goto(url);
  await page.waitForSelector('html[data-ready="1"]', { timeout: 30000 });
}

/* A test file's server and browser with the page open and ready (launch
 * options as launch takes them): {srv, b, page}. */
export async function openSession(options) {
  const srv = await startServer();
  const b = await launch(options);
  await openPage(b.page, srv.url);
  return { srv, b, page: b.page };
}

/* Close what a file opened: extra browsers first (any may be null), then
 * the session's browser and server. */
export async function closeSession(session, ...extra) {
  for (const x of extra) await x?.close();
  await session?.b?.close();
  await session?.srv?.stop();
}

/* Strokes of a few digits in pad coordinates (0..1): lists of polylines. */
export const SHAPES = {
  1: [[[0.52, 0.18], [0.5, 0.5], [0.48, 0.82]]],
  7: [[[0.28, 0.22], [0.72, 0.22], [0.58, 0.45], [0.46, 0.82]]],
  0: [ellipse(0.5, 0.5, 0.2, 0.3, 40)],
  4: [[[0.42, 0.18], [0.3, 0.58], [0.72, 0.58]], [[0.62, 0.3], [0.62, 0.85]]],
};
function ellipse(cx, cy, rx, ry, n) {
  const pts = [];
  for (let i = 0; i <= n; i++) {
    const a = -Math.PI / 2 + (i / n) * Math.PI * 2;
    pts.push([cx + rx * Math.cos(a), cy + ry * Math.sin(a)]);
  }
  return pts;
}

/* The digits of `text` (each in SHAPES) side by side in pad coordinates,
 * for a pad of width/height `aspect`: SHAPES scaled into cells spread
 * over the pad's width, with clear gaps between them. */
export function numberLines(text, aspect = 1) {
  const half = Math.max(1, aspect) / 2;
  const step = Math.min(0.55, 0.64 * half), cell = Math.min(0.6, step);
  const lines = [];
  [...text].forEach((ch, k) => {
    const dx = (k - (text.length - 1) / 2) * step;
    for (const line of SHAPES[ch])
      lines.push(line.map(([x, y]) => [0.5 + dx + (x - 0.5) * cell, 0.5 + (y - 0.5) * cell]));
  });
  return lines;
}

/* In the page (any driver's evaluate): the pad's width / height. */
export function padAspect() {
  const r = document.querySelector('[data-testid="pad"]').getBoundingClientRect();
  return r.width / r.height;
}

/* In the page: what it shows for a number: the reading's state, number
 * and text, the corner copy, and the boxes over the pad (px from its
 * top left). */
export function numberShown() {
  const el = document.querySelector('[data-testid="prediction"]');
  const pad = document.querySelector('[data-testid="pad"]').getBoundingClientRect();
  const boxes = [...document.querySelectorAll('[data-testid="pad-boxes"] .digit-box')].map((b) => {
    const r = b.getBoundingClientRect();
    return { digit: b.dataset.digit, uncertain: b.dataset.uncertain, label: b.textContent,
             x: r.left - pad.left, y: r.top - pad.top, w: r.width, h: r.height };
  });
  return { state: el.dataset.state, number: el.dataset.number ?? null, text: el.textContent,
           corner: document.querySelector('[data-testid="pad-reading"]').textContent,
           pad: { w: pad.width, h: pad.height }, boxes };
}

/* The number shown (numberShown) is `want`: each digit boxed inside the
 * pad, left to right and apart, its label its reading. */
export function checkNumber(what, got, want) {
  assert(got.state === 'number' && got.number === want && got.text === want,
         `${what}: drew ${want}, the page shows ${JSON.stringify(got)}`);
  assert(got.boxes.map((b) => b.digit).join('') === want, `${what}: boxes ${JSON.stringify(got.boxes)}`);
  got.boxes.forEach((b, i) => {
    assert(b.x >= -1 && b.y >= -1 && b.x + b.w <= got.pad.w + 1 && b.y + b.h <= got.pad.h + 1 &&
           b.w > 4 && b.h > 10, `${what}: box ${i} inside the pad: ${JSON.stringify(b)}`);
    if (i) assert(b.x > got.boxes[i - 1].x + got.boxes[i - 1].w, `${what}: boxes apart, in order`);
    assert(b.label.startsWith(b.digit), `${what}: box ${i}'s label "${b.label}"`);
  });
}

/* polyline -> points every `step` (pad units) */
function densify(line, step = 0.02) {
  const out = [line[0]];
  for (let i = 1; i < line.length; i++) {
    const [x0, y0] = line[i - 1], [x1, y1] = line[i];
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / step));
    for (let k = 1; k <= n; k++) out.push([x0 + ((x1 - x0) * k) / n, y0 + ((y1 - y0) * k) / n]);
  }
  return out;
}

/* Pad coordinates -> viewport px: (0..1, 0..1) is the pad's centred
 * square (the whole pad when it is square; a wide pad has room left and
 * right, below 0 and above 1), as draw.js keeps drawings. */
export async function padBox(page) {
  const b = await page.locator('[data-testid="pad"]').boundingBox();
  const s = Math.min(b.width, b.height), cx = b.x + b.width / 2, cy = b.y + b.height / 2;
  return (p) => [cx + (p[0] - 0.5) * s, cy + (p[1] - 0.5) * s];
}

/* Draw a digit from SHAPES with the mouse. */
export const drawMouse = (page, digit) => drawLines(page, SHAPES[digit]);

/* Draw a digit from SHAPES with touch events (CDP; the context needs
 * hasTouch: true). */
export const drawTouch = (page, digit) => drawLines(page, SHAPES[digit], { touch: true });

/* Draw polylines in pad coordinates with the mouse, or with touch. */
export async function drawLines(page, lines, { touch = false } = {}) {
  const at = await padBox(page);
  if (!touch) {
    for (const line of lines) {
      const pts = densify(line).map(at);
      await page.mouse.move(...pts[0]);
      await page.mouse.down();
      for (const p of pts.slice(1)) await page.mouse.move(...p);
      await page.mouse.up();
    }
    return;
  }
  const cdp = await page.context().newCDPSession(page);
  for (const line of lines) {
    const pts = densify(line).map(at);
    const tp = ([x, y]) => [{ x, y, radiusX: 4, radiusY: 4, force: 1, id: 1 }];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: tp(pts[0]) });
    for (const p of pts.slice(1))
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: tp(p) });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  }
  await cdp.detach();
}

/* The shown reading once the pad has settled:
 * {state: 'empty'|'sure'|'unsure', digit, confidence, text}. */
export async function reading(page) {
  await page.waitForTimeout(150);  /* a frame or two for the live update */
  return page.locator('[data-testid="prediction"]').evaluate((el) => ({
    state: el.dataset.state, digit: el.dataset.digit === '' ? null : Number(el.dataset.digit),
    confidence: Number(el.dataset.confidence ?? 0), text: el.textContent,
  }));
}
