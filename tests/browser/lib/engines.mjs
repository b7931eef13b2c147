// tests/browser/lib/engines.mjs: one small page driver over three engines,
// so a test body runs unchanged in Chromium, Firefox and WebKit:
//
//   chromium  Debian chromium through playwright-core (CDP)
//   firefox   Debian firefox-esr through puppeteer-core (WebDriver BiDi)
//   webkit    WebKitGTK's MiniBrowser through Debian's WebKitWebDriver and
//             selenium-webdriver (WebDriver classic), on an Xvfb display of
//             its own when $DISPLAY is unset
//
//   const d = await openEngine('firefox', { width: 1280, height: 800, touch: false });
//   await d.goto(url); await d.evaluate((a) => a + 1, 1);
//   await d.stroke([[x, y], ...], { touch }); await d.key('z', { ctrl: true });
//   await d.setFiles('#photo-file', file); await d.resize(360, 640);
//   d.errors; await d.close();
//   await d.cdp?.('Emulation.setCPUThrottlingRate', { rate: 4 });  (Chromium only;
//   d.cdpOn?.('Tracing.dataCollected', (e) => ...) for its events)
//
// Coordinates are CSS pixels in the viewport. evaluate takes a function and
// one JSON argument and returns its (awaited) JSON result in every engine.
// Init scripts are not a driver feature (WebDriver classic has none): the
// tests serve a copy of web/ whose index.html loads one first (page-kit.mjs).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ENGINES = ['chromium', 'firefox', 'webkit'];
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver';
const MINIBROWSER = process.env.MINIBROWSER ||
  '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/* Why an engine cannot run here, or null. */
export function missing(engine) {
  const need = { chromium: [CHROMIUM], firefox: [FIREFOX],
                 webkit: [WEBKIT_DRIVER, MINIBROWSER] }[engine];
  if (!need) return `unknown engine "${engine}" (expected ${ENGINES.join(', ')})`;
  const gone = need.filter((f) => !fs.existsSync(f));
  if (engine === 'webkit' && !process.env.DISPLAY &&
      spawnSync('sh', ['-c', 'command -v Xvfb'], { stdio: 'ignore' }).status !== 0)
    gone.push('Xvfb');
  return gone.length ? `${engine}: ${gone.join(', ')} not installed` : null;
}

/* A function and its argument as an expression string. */
const call = (fn, arg) => `(${fn})(${JSON.stringify(arg ?? null)})`;

/* polylines through points, every `step` px */
function densify(pts, step = 6) {
  const out = [pts[0]];
  for (let i = 1; i < pts.length; i++) {
    const [x0, y0] = pts[i - 1], [x1, y1] = pts[i];
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / step));
    for (let k = 1; k <= n; k++) out.push([x0 + ((x1 - x0) * k) / n, y0 + ((y1 - y0) * k) / n]);
  }
  return out.map(([x, y]) => [Math.round(x), Math.round(y)]);
}

async function chromiumDriver(o) {
  const { chromium } = await import('playwright-core');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'digits-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: o.width, height: o.height }, hasTouch: !!o.touch, isMobile: !!o.touch,
    deviceScaleFactor: o.dpr ?? 1,
  });
  const page = context.pages()[0] ?? await context.newPage();
  let cdp = null;
  const d = {
    engine: 'chromium', version: context.browser()?.version() ?? '', touch: !!o.touch, errors: [],
    goto: (url) => page.goto(url),
    evaluate: (fn, arg) => page.evaluate(call(fn, arg)),
    key: (key, { ctrl } = {}) => page.keyboard.press(ctrl ? `Control+${key}` : key),
    setFiles: (sel, file) => page.setInputFiles(sel, file),
    async stroke(pts, { touch } = {}) {
      pts = densify(pts);
      if (!touch) {
        await page.mouse.move(...pts[0]);
        await page.mouse.down();
        for (const p of pts.slice(1)) await page.mouse.move(...p);
        return page.mouse.up();
      }
      const cdp = await context.newCDPSession(page);
      const tp = ([x, y]) => [{ x, y, radiusX: 4, radiusY: 4, force: 1, id: 1 }];
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: tp(pts[0]) });
      for (const p of pts.slice(1))
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: tp(p) });
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      await cdp.detach();
    },
    resize: (width, height) => page.setViewportSize({ width, height }),
    setOffline: (off) => context.setOffline(off),
    /* a DevTools Protocol command on the page (Chromium only) */
    async cdp(method, params) {
      cdp ??= await context.newCDPSession(page);
      return cdp.send(method, params);
    },
    async cdpOn(event, handler) {
      cdp ??= await context.newCDPSession(page);
      cdp.on(event, handler);
    },
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  page.on('console', (m) => { if (m.type() === 'error') d.errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => d.errors.push(`pageerror: ${e.message}`));
  return d;
}

async function firefoxDriver(o) {
  const puppeteer = (await import('puppeteer-core')).default;
  const browser = await puppeteer.launch({
    browser: 'firefox', executablePath: FIREFOX, headless: true,
    defaultViewport: { width: o.width, height: o.height, hasTouch: !!o.touch,
                       isMobile: false, deviceScaleFactor: o.dpr ?? 1 },
    extraPrefsFirefox: { 'dom.serviceWorkers.testing.enabled': true },
  });
  const page = (await browser.pages())[0] ?? await browser.newPage();
  await page.setViewport({ width: o.width, height: o.height, hasTouch: !!o.touch,
                           deviceScaleFactor: o.dpr ?? 1 });
  const version = (await browser.version()).replace(/^\D+/, '');
  const d = {
    engine: 'firefox', version, touch: !!o.touch, errors: [],
    goto: (url) => page.goto(url),
    evaluate: (fn, arg) => page.evaluate(call(fn, arg)),
    async key(key, { ctrl } = {}) {
      if (ctrl) await page.keyboard.down('Control');
      await page.keyboard.press(key);
      if (ctrl) await page.keyboard.up('Control');
    },
    async setFiles(sel, file) {
      const h = await page.$(sel);
      await h.uploadFile(file);
    },
    async stroke(pts, { touch } = {}) {
      pts = densify(pts);
      if (!touch) {
        await page.mouse.move(...pts[0]);
        await page.mouse.down();
        for (const p of pts.slice(1)) await page.mouse.move(...p);
        return page.mouse.up();
      }
      const t = await page.touchscreen.touchStart(...pts[0]);
      for (const p of pts.slice(1)) await t.move(...p);
      await t.end();
    },
    resize: (width, height) => page.setViewport({ width, height, hasTouch: !!o.touch,
                                                  deviceScaleFactor: o.dpr ?? 1 }),
    setOffline: null,
    close: () => browser.close().catch(() => {}),
  };
  page.on('console', (m) => { if (m.type() === 'error') d.errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => d.errors.push(`pageerror: ${e.message}`));
  return d;
}

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  }).on('error', reject);
});

/* Xvfb on a display it picks itself (-displayfd): {display, stop()} */
function startXvfb() {
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1600x1200x24', '-nolisten', 'tcp'],
                      { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdio[3].on('data', (b) => {
      out += b;
      if (out.includes('\n')) resolve({ display: `:${out.trim()}`, stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (c) => reject(new Error(`Xvfb exited (${c})`)));
  });
}

/* WebKitWebDriver on a free port: {url, stop()} */
async function startWebKitDriver(env) {
  const port = await freePort();
  const child = spawn(WEBKIT_DRIVER, [`--port=${port}`], { env, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${url}/status`).then((r) => r.ok, () => false);
    if (ok) return { url, stop: () => child.kill('SIGTERM') };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  throw new Error('WebKitWebDriver did not start in 10 s');
}

async function webkitDriver(o) {
  const { Builder, Origin } = await import('selenium-webdriver');
  const xvfb = process.env.DISPLAY ? null : await startXvfb();
  const env = { ...process.env, ...(xvfb ? { DISPLAY: xvfb.display } : {}) };
  const wd = await startWebKitDriver(env);
  const driver = await new Builder().usingServer(wd.url).withCapabilities({
    browserName: 'MiniBrowser',
    'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
  }).build();
  const caps = await driver.getCapabilities();
  const d = {
    engine: 'webkit', version: String(caps.get('browserVersion') ?? ''), touch: false, errors: [],
    goto: (url) => driver.get(url),
    evaluate: (fn, arg) => driver.executeAsyncScript(
      `const done = arguments[arguments.length - 1];
       Promise.resolve().then(() => ${call(fn, arg)})
         .then((v) => done({ v: v === undefined ? null : v }), (e) => done({ e: String(e && e.stack || e) }));`)
      .then((r) => {
        if (r && r.e) throw new Error(`in page: ${r.e}`);
        return r?.v;
      }),
    async key(key, { ctrl } = {}) {
      const { Key } = await import('selenium-webdriver');
      const k = { Escape: Key.ESCAPE, Enter: Key.ENTER }[key] ?? key;
      const a = driver.actions();
      if (ctrl) a.keyDown(Key.CONTROL);
      a.sendKeys(k);
      if (ctrl) a.keyUp(Key.CONTROL);
      await a.perform();
    },
    async setFiles(sel, file) {
      const { By } = await import('selenium-webdriver');
      await driver.findElement(By.css(sel)).sendKeys(file);
    },
    async stroke(pts) {
      pts = densify(pts);
      const a = driver.actions().move({ x: pts[0][0], y: pts[0][1], origin: Origin.VIEWPORT, duration: 0 })
        .press();
      for (const [x, y] of pts.slice(1)) a.move({ x, y, origin: Origin.VIEWPORT, duration: 0 });
      await a.release().perform();
    },
    setOffline: null,
    async close() {
      await driver.quit().catch(() => {});
      wd.stop();
      xvfb?.stop();
    },
  };
  /* the window's outer size so that the viewport is width x height */
  d.resize = async (width, height) => {
    await driver.manage().window().setRect({ width, height });
    const inner = await d.evaluate(() => [innerWidth, innerHeight]);
    await driver.manage().window().setRect({ width: 2 * width - inner[0], height: 2 * height - inner[1] });
  };
  await d.resize(o.width, o.height);
  return d;
}

/* A fresh browser of that engine with one page, viewport width x height
 * (CSS px), touch input where the engine's driver sends it. */
export async function openEngine(engine, { width = 1280, height = 800, touch = false, dpr } = {}) {
  const why = missing(engine);
  if (why) throw new Error(why);
  const make = { chromium: chromiumDriver, firefox: firefoxDriver, webkit: webkitDriver }[engine];
  return make({ width, height, touch, dpr });
}
