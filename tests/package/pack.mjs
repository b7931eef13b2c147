// tests/package/pack.mjs: the npm package as a web developer gets it.
// tools/pack.mjs packs the tarball (what `./build.sh pack` does); its file
// list and package.json are checked; the example app (examples/digits-app)
// is copied to a scratch folder, installs the tarball offline (it has no
// dependencies), type-checks with `tsc --noEmit` (with
// tests/package/types-check.ts, the whole API as a user calls it), builds
// with Vite and with esbuild, and each build, served under a sub-path,
// reads a 7 drawn on its canvas in headless Chromium with the default
// model, on the main thread and with { worker: true }; so does the Vite
// dev server serving the app as it is. Under Node the
// package's name resolves to its Node entry, which reads files by path.
// Runs after ./build.sh build; `node tests/package/pack.mjs` alone works.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, launch, drawMouse } from '../browser/lib/harness.mjs';
import { serveStatic } from './lib/static.mjs';

/* The packed tarball's size limit (it was 695 KB: 3 builds 845 KB and the
 * model 363 KB, compressed; 1 MiB until the number reader's three window
 * readers, 704 KB raw and about 616 KB compressed, made it 1,178,914 bytes). */
const MAX_PACKED = 1.25 * (1 << 20);
const BIN = path.join(ROOT, 'node_modules', '.bin');
const tmpBase = process.env.DIGITS_TMP || os.tmpdir();
fs.mkdirSync(tmpBase, { recursive: true });
const tmp = fs.mkdtempSync(path.join(tmpBase, 'package-'));
/* kept for a look when a test failed */
process.on('exit', () => { if (!process.exitCode) fs.rmSync(tmp, { recursive: true, force: true }); });

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300000, ...opts });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  return { ok: r.status === 0, out, status: r.status };
}

/* The 7 of the browser tests drawn on the app's pad: the app's reading. */
async function readSeven(page) {
  await drawMouse(page, 7);
  await page.waitForFunction(() => document.querySelector('[data-testid="prediction"]').dataset.state !== 'empty',
                             null, { timeout: 20000 });
  return page.locator('[data-testid="prediction"]').evaluate((el) => ({
    digit: el.dataset.digit === '' ? null : Number(el.dataset.digit),
    confidence: Number(el.dataset.confidence), status: document.querySelector('#status').textContent,
  }));
}

describe('npm package', () => {
  let tgz = null, pkg = null, app = null, browser = null;
  before(() => {
    const r = run(process.execPath, [path.join(ROOT, 'tools', 'pack.mjs'), 'pack', '--out', tmp]);
    console.log(r.out.trim().split('\n').slice(-1)[0]);
    assert.ok(r.ok, `tools/pack.mjs pack fails:\n${r.out}`);
    tgz = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    assert.ok(tgz, `no tarball in ${tmp}`);
    tgz = path.join(tmp, tgz);
    pkg = JSON.parse(fs.readFileSync(path.join(tmp, 'pkg', 'package.json'), 'utf8'));
    app = path.join(tmp, 'app');
    fs.cpSync(path.join(ROOT, 'examples', 'digits-app'), app, {
      recursive: true, filter: (f) => !/node_modules|dist/.test(path.relative(ROOT, f)),
    });
    fs.copyFileSync(path.join(ROOT, 'tests', 'package', 'types-check.ts'),
                    path.join(app, 'src', 'types-check.ts'));
  });
  after(async () => { await browser?.close(); });

  test('the tarball: modules, types, the three builds, the model and the number verifier, README, LICENSE; nothing else', () => {
    const r = run('tar', ['-tzvf', tgz]);
    assert.ok(r.ok, r.out);
    const files = r.out.trim().split('\n').map((l) => l.trim().split(/\s+/).at(-1));
    for (const need of ['digits.js', 'digits-node.js', 'digits-worker.js', 'digits.d.ts', 'constants.js',
                        'digits-relaxed.wasm', 'digits-simd.wasm', 'digits-plain.wasm',
                        'default.safetensors', 'verifier.safetensors', 'verifier2.safetensors',
                        'verifier3.safetensors', 'README.md',
                        'LICENSE', 'package.json'])
      assert.ok(files.includes(`package/${need}`), `package/${need} is in the tarball: ${files.join(' ')}`);
    const odd = files.filter((f) => !/^package\/([\w-]+\.(js|d\.ts|wasm)|(default|verifier[23]?)\.safetensors|README\.md|LICENSE|package\.json)$/.test(f));
    assert.deepEqual(odd, [], 'nothing but modules, types, builds, the model and the docs');
    assert.ok(!files.some((f) => /test|\.c$|\.mjs$|\.map$/.test(f)), 'no tests, C or tools');
    const size = fs.statSync(tgz).size;
    console.log(`tarball ${path.basename(tgz)}: ${files.length} files, ${size} bytes`);
    assert.ok(size < MAX_PACKED, `the tarball is under ${MAX_PACKED} bytes: ${size}`);
  });

  test('package.json: name, version, module type, export conditions, no side effects, files', () => {
    assert.ok(pkg.name === 'digits-recognizer' && /^\d+\.\d+\.\d+/.test(pkg.version), `${pkg.name}@${pkg.version}`);
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.sideEffects, false);
    const dot = pkg.exports['.'];
    assert.deepEqual(Object.keys(dot), ['types', 'browser', 'node', 'default'], 'conditions, types first');
    assert.ok(dot.browser === './digits.js' && dot.node === './digits-node.js' && dot.default === './digits.js');
    for (const f of ['digits-simd.wasm', 'default.safetensors', 'verifier.safetensors',
                     'verifier2.safetensors', 'verifier3.safetensors', 'digits-worker.js'])
      assert.ok(pkg.exports[`./${f}`] && pkg.files.includes(f), `${f} exported and listed`);
  });

  test('the browser entry and what it imports have no node: module', () => {
    for (const f of fs.readdirSync(path.join(tmp, 'pkg')).filter((n) => n.endsWith('.js') && n !== 'digits-node.js')) {
      const src = fs.readFileSync(path.join(tmp, 'pkg', f), 'utf8');
      assert.ok(!/\bfrom\s+['"]node:|import\(\s*['"]node:|require\(/.test(src), `${f} imports nothing of Node`);
    }
    const r = run(path.join(BIN, 'esbuild'), [path.join(tmp, 'pkg', 'digits.js'), '--bundle',
                                              '--platform=browser', '--format=esm', '--outfile=/dev/null']);
    assert.ok(r.ok, `esbuild bundles the browser entry for the browser:\n${r.out}`);
  });

  test('installs from the tarball offline', () => {
    const r = run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-save', tgz], { cwd: app });
    assert.ok(r.ok, `npm install ${tgz}:\n${r.out}`);
    assert.ok(fs.existsSync(path.join(app, 'node_modules', 'digits-recognizer', 'digits-simd.wasm')));
  });

  test('types: every runtime export declared, tsc --noEmit passes on the app and the API check', async () => {
    const dts = fs.readFileSync(path.join(app, 'node_modules', 'digits-recognizer', 'digits.d.ts'), 'utf8');
    const declared = new Set([...dts.matchAll(/^export declare (?:function|const|class) (\w+)/gm)].map((m) => m[1]));
    const runtime = Object.keys(await import(path.join(app, 'node_modules', 'digits-recognizer', 'digits.js')));
    assert.deepEqual([...declared].sort(), runtime.sort(), 'digits.d.ts declares exactly the exports');
    const r = run(path.join(BIN, 'tsc'), ['--noEmit', '-p', app], { cwd: app });
    assert.ok(r.ok, `tsc --noEmit:\n${r.out}`);
    /* and a wrong call is an error */
    const bad = path.join(app, 'src', 'bad.ts');
    fs.writeFileSync(bad, "import { createRecognizer } from 'digits-recognizer';\n" +
                          "export const p = createRecognizer().then((r) => r.predict('seven'));\n");
    const r2 = run(path.join(BIN, 'tsc'), ['--noEmit', '-p', app], { cwd: app });
    fs.rmSync(bad);
    assert.ok(!r2.ok && /bad\.ts.*TS2345/s.test(r2.out), `tsc rejects predict('seven'):\n${r2.out}`);
  });

  test('Vite builds the app, the builds, model and worker among its assets', () => {
    const r = run(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build',
                                     '--outDir', 'dist-vite', '--logLevel', 'warn'], { cwd: app });
    assert.ok(r.ok, `vite build:\n${r.out}`);
    const assets = fs.readdirSync(path.join(app, 'dist-vite', 'assets'));
    for (const re of [/^digits-relaxed-.*\.wasm$/, /^digits-simd-.*\.wasm$/, /^digits-plain-.*\.wasm$/,
                      /^default-.*\.safetensors$/, /^digits-worker-.*\.js$/])
      assert.ok(assets.some((f) => re.test(f)), `${re} among ${assets.join(' ')}`);
  });

  test('esbuild builds the app (file loader for the builds and the model, the worker an entry)', () => {
    const out = path.join(app, 'dist-esbuild');
    const r = run(path.join(BIN, 'esbuild'), [
      'src/main-esbuild.ts', 'node_modules/digits-recognizer/digits-worker.js', '--bundle', '--format=esm',
      '--entry-names=[name]', '--asset-names=[name]-[hash]', `--outdir=${out}`,
      '--loader:.wasm=file', '--loader:.safetensors=file', '--log-level=warning'], { cwd: app });
    assert.ok(r.ok, `esbuild:\n${r.out}`);
    fs.copyFileSync(path.join(app, 'esbuild.html'), path.join(out, 'index.html'));
    const files = fs.readdirSync(out);
    for (const re of [/^main-esbuild\.js$/, /^digits-worker\.js$/, /^digits-simd-.*\.wasm$/, /^default-.*\.safetensors$/])
      assert.ok(files.some((f) => re.test(f)), `${re} among ${files.join(' ')}`);
  });

  for (const [bundler, dir] of [['Vite', 'dist-vite'], ['esbuild', 'dist-esbuild']]) {
    for (const worker of [false, true]) {
      test(`${bundler} build under /some/sub/path/ in Chromium${worker ? ', { worker: true }' : ''}: reads a drawn 7`, async () => {
        const srv = await serveStatic(path.join(app, dir), '/some/sub/path/');
        try {
          browser ??= await launch();
          browser.errors.length = 0;
          const page = browser.page;
          await page.goto(`${srv.url}${worker ? '?worker' : ''}`);
          await page.waitForSelector('html[data-ready="1"]', { timeout: 30000 });
          const got = await readSeven(page);
          assert.ok(got.digit === 7 && got.confidence > 0.5, `reads 7: ${JSON.stringify(got)}`);
          assert.equal(page.workers().length > 0, worker, `a worker runs the network only with { worker: true }`);
          const build = await page.evaluate(() => document.documentElement.dataset.build);
          assert.equal(build, 'relaxed', 'Chromium gets the relaxed-SIMD build');
          const missing = srv.log.filter(([st]) => st !== 200).map(([, p]) => p);
          assert.deepEqual(missing, [], 'every request found, all under the sub-path');
          assert.deepEqual(browser.errors, [], 'no console errors');
          await page.goto('about:blank');
        } finally {
          await srv.stop();
        }
      });
    }
  }

  test("a Content-Security-Policy with 'wasm-unsafe-eval' (docs/api.md's) is enough; without it, a clear error", async () => {
    const ok = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'";
    const strict = "script-src 'self'; worker-src 'self'; connect-src 'self'";
    browser ??= await launch();
    const page = browser.page;
    for (const [csp, worker] of [[ok, false], [ok, true], [strict, false]]) {
      const srv = await serveStatic(path.join(app, 'dist-vite'), '/', { 'content-security-policy': csp });
      try {
        browser.errors.length = 0;
        await page.goto(`${srv.url}${worker ? '?worker' : ''}`);
        if (csp === ok) {
          await page.waitForSelector('html[data-ready="1"]', { timeout: 30000 });
          const got = await readSeven(page);
          assert.ok(got.digit === 7, `under the CSP${worker ? ', worker' : ''}: reads 7: ${JSON.stringify(got)}`);
          assert.deepEqual(browser.errors, [], 'no CSP violation');
        } else {
          await page.waitForFunction(() => /Cannot start/.test(document.querySelector('#status').textContent),
                                     null, { timeout: 20000 });
          const msg = await page.locator('#status').textContent();
          assert.match(msg, /i\/o error: .*Content-Security-Policy blocks WebAssembly.*'wasm-unsafe-eval'/,
                       'a DigitsError that names the missing source');
        }
        await page.goto('about:blank');
      } finally {
        await srv.stop();
      }
    }
  });

  test('the Vite dev server serves the app as it is: reads a drawn 7, also with { worker: true }', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
                                           '--host', '127.0.0.1', '--port', '5173'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error(`vite did not start in 30 s:\n${text}`)), 30000);
        const see = (d) => {
          text += d;
          const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(text.replace(/\x1b\[[0-9;]*m/g, ''));
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        };
        child.stdout.on('data', see);
        child.stderr.on('data', see);
        child.on('exit', (code) => reject(new Error(`vite exited (${code}):\n${text}`)));
      });
      browser ??= await launch();
      browser.errors.length = 0;
      const page = browser.page;
      for (const q of ['', '?worker']) {
        await page.goto(`${url}${q}`);
        await page.waitForSelector('html[data-ready="1"]', { timeout: 60000 });
        const got = await readSeven(page);
        assert.ok(got.digit === 7, `vite dev${q}: reads 7: ${JSON.stringify(got)}`);
      }
      assert.deepEqual(browser.errors, [], 'no console errors');
      await page.goto('about:blank');
    } finally {
      child.kill();
    }
  });

  test('Node: the package name resolves to the Node entry, which reads models by path', () => {
    const script = `
      import { createRecognizer, DigitsError } from 'digits-recognizer';
      const r = await createRecognizer();
      const w = 40, h = 40, data = new Uint8ClampedArray(w * h * 4).fill(255);
      for (let y = 6; y < 34; y++) for (let x = 18; x < 22; x++) data.fill(0, (y * w + x) * 4, (y * w + x) * 4 + 3);
      const one = await r.predict({ data, width: w, height: h });
      await r.loadModel(${JSON.stringify(path.join(ROOT, 'models', 'mlp.safetensors'))});
      let code = null;
      try { await r.loadModel('no-such.safetensors'); } catch (e) { code = e instanceof DigitsError && e.codeName; }
      console.log(JSON.stringify({ digit: one.digit, arch: r.info().archName, code }));
      r.dispose();`;
    const r = run(process.execPath, ['--input-type=module', '-e', script], { cwd: app });
    assert.ok(r.ok, `node:\n${r.out}`);
    const got = JSON.parse(r.out.trim().split('\n').at(-1));
    assert.deepEqual(got, { digit: 1, arch: 'mlp', code: 'i/o error' });
  });
});
