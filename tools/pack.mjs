// tools/pack.mjs: the npm package and the static page, from what
// ./build.sh build left in web/ and models/.
//
//   node tools/pack.mjs pack [--out DIR]   (./build.sh pack; DIR: build/)
//   node tools/pack.mjs dist [--out DIR]   (./build.sh dist; DIR: build/dist/)
//
// pack: assembles DIR/pkg/ (the ES modules digits.js, digits-node.js and
// digits-worker.js reach, the type declarations, the three .wasm builds,
// the default model, README.md, LICENSE, package.json) and runs `npm pack`
// on it into DIR/NAME-VERSION.tgz. Everything lies flat beside the modules;
// assets.js is the one file changed on the way, its URLs pointed there.
// The package's own README and LICENSE are tools/pack/.
//
// dist: the page as static files for any host and any sub-path: what the
// service worker precaches (web/tools/build-sw.mjs precacheFiles), the
// service worker itself, and what the page fetches on demand (the training
// subset, the models of build/models.json). Every URL in the page is
// relative, so the folder works wherever it is served.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LIB = path.join(ROOT, 'web', 'lib');
const WASM = path.join(ROOT, 'web', 'build');
const MODEL = path.join(ROOT, 'models', 'default.safetensors');
const VERIFIERS = ['verifier.safetensors', 'verifier2.safetensors', 'verifier3.safetensors'];

export const NAME = 'digits-recognizer';
/* the package's entry modules; the modules they import come along */
const ENTRIES = ['digits.js', 'digits-node.js', 'digits-worker.js'];
const BUILDS = ['digits-relaxed.wasm', 'digits-simd.wasm', 'digits-plain.wasm'];

class PackError extends Error {}
/* a path as printed: relative to the working directory when inside it */
const shown = (p) => (path.relative(process.cwd(), p).startsWith('..') ? p : path.relative(process.cwd(), p));
const fail = (msg) => { throw new PackError(msg); };
const need = (file, hint = 'run ./build.sh build first') =>
  fs.existsSync(file) || fail(`${path.relative(ROOT, file)} is missing: ${hint}`);

/* The web/lib modules reachable from the entries through relative
 * imports (static `import ... from './x.js'` and `export ... from`). */
export function moduleFiles() {
  const seen = new Set(), todo = [...ENTRIES];
  while (todo.length) {
    const f = todo.pop();
    if (seen.has(f)) continue;
    need(path.join(LIB, f), f === 'constants.js' ? 'run ./build.sh build first' : 'a module is missing');
    seen.add(f);
    const src = fs.readFileSync(path.join(LIB, f), 'utf8');
    for (const m of src.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'\.\/([\w.-]+\.js)'/gms))
      todo.push(m[1]);
  }
  return [...seen].sort();
}

/* assets.js with its URLs beside the module: '../build/x.wasm' and
 * '../../models/NAME.safetensors' (the default model, the number
 * verifiers) become './x.wasm' and './NAME.safetensors'. */
function packagedAssets(src) {
  let out = src, n = 0;
  out = out.replace(/'\.\.\/build\/(digits-[a-z]+\.wasm)'/g, (_, f) => { n++; return `'./${f}'`; });
  out = out.replace(/'\.\.\/\.\.\/models\/(default|verifier[23]?)\.safetensors'/g, (_, f) => { n++; return `'./${f}.safetensors'`; });
  if (n !== BUILDS.length + 4 || /'\.\.\//.test(out))
    fail(`web/lib/assets.js: expected ${BUILDS.length + 4} asset URLs to rewrite, found ${n}`);
  return out;
}

function packageJson(files) {
  const root = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const self = (f) => `./${f}`;
  return {
    name: NAME,
    version: root.version,
    description: 'Handwritten digit recognition in the browser: a small neural network in ' +
      'WebAssembly (SIMD), with its default model, for any web page',
    keywords: ['handwriting', 'digits', 'mnist', 'ocr', 'webassembly', 'wasm', 'simd',
               'neural-network', 'canvas'],
    license: root.license,
    type: 'module',
    main: './digits.js',
    types: './digits.d.ts',
    exports: {
      '.': {
        types: './digits.d.ts',
        browser: './digits.js',
        node: './digits-node.js',
        default: './digits.js',
      },
      './digits-worker.js': './digits-worker.js',
      ...Object.fromEntries(BUILDS.map((f) => [self(f), self(f)])),
      './default.safetensors': './default.safetensors',
      './verifier.safetensors': './verifier.safetensors',
      './verifier2.safetensors': './verifier2.safetensors',
      './verifier3.safetensors': './verifier3.safetensors',
      './package.json': './package.json',
    },
    sideEffects: false,
    files: files.filter((f) => !['package.json', 'README.md', 'LICENSE'].includes(f)),
    engines: { node: '>=20' },
  };
}

/* DIR/pkg/ assembled; returns its file names. */
function assemble(pkg) {
  fs.rmSync(pkg, { recursive: true, force: true });
  fs.mkdirSync(pkg, { recursive: true });
  const files = [];
  const put = (name, data) => {
    fs.writeFileSync(path.join(pkg, name), data);
    files.push(name);
  };
  for (const f of moduleFiles()) {
    const src = fs.readFileSync(path.join(LIB, f), 'utf8');
    put(f, f === 'assets.js' ? packagedAssets(src) : src);
  }
  need(path.join(LIB, 'digits.d.ts'), 'a module is missing');
  put('digits.d.ts', fs.readFileSync(path.join(LIB, 'digits.d.ts')));
  for (const f of BUILDS) {
    need(path.join(WASM, f));
    put(f, fs.readFileSync(path.join(WASM, f)));
  }
  need(MODEL, 'the shipped default model is missing');
  put('default.safetensors', fs.readFileSync(MODEL));
  for (const v of VERIFIERS) {
    need(path.join(ROOT, 'models', v), 'a shipped number verifier is missing');
    put(v, fs.readFileSync(path.join(ROOT, 'models', v)));
  }
  for (const f of ['README.md', 'LICENSE']) put(f, fs.readFileSync(path.join(ROOT, 'tools', 'pack', f)));
  const json = packageJson(files.slice().sort());
  put('package.json', `${JSON.stringify(json, null, 2)}\n`);
  return json;
}

function pack(out) {
  const pkg = path.join(out, 'pkg');
  const json = assemble(pkg);
  const r = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out, pkg],
                      { encoding: 'utf8', cwd: out });
  if (r.status !== 0) fail(`npm pack failed:\n${r.stderr || r.stdout}`);
  const [info] = JSON.parse(r.stdout);
  const tgz = path.join(out, info.filename);
  for (const f of info.files) console.log(`${String(f.size).padStart(9)}  ${f.path}`);
  console.log(`pack: ${shown(tgz)}: ${json.name}@${json.version}, ` +
              `${info.files.length} files, ${info.size} bytes packed, ${info.unpackedSize} unpacked`);
  return tgz;
}

/* ---- dist -------------------------------------------------------------- */

/* web/sw.js, rebuilt if any file it precaches is newer. */
async function serviceWorker() {
  const { precacheFiles } = await import(path.join(ROOT, 'web', 'tools', 'build-sw.mjs'));
  const sw = path.join(ROOT, 'web', 'sw.js');
  const files = precacheFiles();
  const src = path.join(ROOT, 'web', 'sw-src.js');
  const stale = !fs.existsSync(sw) || [...files.map(([, f]) => f), src]
    .some((f) => fs.statSync(f).mtimeMs > fs.statSync(sw).mtimeMs);
  if (stale) {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'web', 'tools', 'build-sw.mjs')],
                        { stdio: 'inherit' });
    if (r.status !== 0) fail('web/tools/build-sw.mjs failed');
  }
  return precacheFiles();
}

async function dist(out) {
  need(path.join(WASM, 'models.json'));
  const files = await serviceWorker();
  const list = new Map(files); /* URL relative to the page -> file */
  list.set('sw.js', path.join(ROOT, 'web', 'sw.js'));
  list.set('build/mnist-subset.bin', path.join(WASM, 'mnist-subset.bin'));
  const { models } = JSON.parse(fs.readFileSync(path.join(WASM, 'models.json'), 'utf8'));
  for (const m of models) list.set(m.file, path.join(ROOT, m.file));
  fs.rmSync(out, { recursive: true, force: true });
  let bytes = 0;
  for (const [url, file] of list) {
    need(file);
    const dest = path.join(out, ...url.split('/'));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(file, dest);
    bytes += fs.statSync(dest).size;
  }
  console.log(`dist: ${shown(out)}: ${list.size} files, ` +
              `${(bytes / 1048576).toFixed(1)} MiB; serve it as static files from any path ` +
              '(.wasm as application/wasm)');
}

async function main(argv) {
  const [verb, ...rest] = argv;
  let out = null;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--out' && i + 1 < rest.length) out = path.resolve(rest[++i]);
    else fail(`bad argument "${rest[i]}" (usage: node tools/pack.mjs pack|dist [--out DIR])`);
  }
  if (verb === 'pack') {
    out ??= path.join(ROOT, 'build');
    fs.mkdirSync(out, { recursive: true });
    pack(out);
  } else if (verb === 'dist') {
    await dist(out ?? path.join(ROOT, 'build', 'dist'));
  } else fail('usage: node tools/pack.mjs pack|dist [--out DIR]');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`pack.mjs: ${e instanceof PackError ? e.message : e.stack}`);
    process.exit(1);
  });
}
