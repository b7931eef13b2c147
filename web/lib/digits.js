/* digits.js: the one way into the WebAssembly build of the digits core, for
 * the page, a training worker, the Node tests and other people's pages (the
 * npm package, tools/pack.mjs; ES2022, no dependencies). It owns every
 * access to the module's memory. docs/api.md is its reference.
 *
 *   const r = await createRecognizer();          // the default model
 *   const { digit, confidence, probs, input, empty, uncertain, box, ms } =
 *     await r.predict(canvas);    // or ImageData, an <img>, a Blob, ...
 *   const { number, confidence, digits } = await r.readNumber(canvas);  // "417"
 *   r.dispose();
 *
 *   const t = await createTrainer({ arch: 'mlp', lr: 1e-3 });
 *   const { loss, accuracy } = t.trainBatch(x, labels);   // one batch per call
 *   const bytes = t.saveModel({ note: 'trained in the browser' });
 *
 * The module is a standalone .wasm (no Emscripten JS glue): this file
 * compiles it (streaming in browsers, from disk under Node), supplies its one
 * import and calls the exports of src/wasm/api.c. Its files are found
 * through assets.js (URLs bundlers understand) unless the caller says where;
 * { worker: true } runs all of it in a Web Worker (remote.js). Three builds exist,
 * digits-relaxed.wasm (SIMD with fused multiply-add), digits-simd.wasm and
 * digits-plain.wasm; 'auto' picks the relaxed one where the engine validates
 * relaxed SIMD, else SIMD where it validates SIMD and is not Safari 16.x
 * (which reports SIMD but computes some of its operations wrongly), else
 * plain.
 *
 * Errors from C become thrown DigitsError objects carrying the C message,
 * the status code and its name.
 */

import { defaultModelUrl, defaultVerifierUrls, wasmUrls } from './assets.js';
import {
  ImageLimits, NetInfo, NumberDigit, NumberLimits, NumberResult, Optimizer, PreprocessInfo, Status,
} from './constants.js';
import { DISPOSE, DigitsError, disposedError } from './errors.js';
import { host } from './host.js';
import { toPixels, toPixelsSync } from './image.js';
import { createRemote } from './remote.js';

/* The C values (status codes, caps, ids, struct layouts), generated from the
 * headers at build time (cmake/constants.c); Status is part of this API. */
export * as constants from './constants.js';
export { DigitsError, Status };

const IS_NODE = typeof globalThis.process === 'object' &&
  globalThis.process.versions?.node != null;

/* What a disposed object holds instead of its module: any use throws. */
function goneModule(what) {
  return new Proxy({}, { get() { throw disposedError(what); } });
}

/* Image limits of dg_preprocess (DG_IMAGE_MAX_DIM, DG_IMAGE_MAX_PIXELS). */
const MAX_DIM = ImageLimits.maxDim;
const MAX_PIXELS = ImageLimits.maxPixels;
const INPUT = 28 * 28;
/* Pixel buffers above this (bytes: a 2-megapixel RGBA image) are freed
 * after the call instead of kept for the next one. */
const BIG_SCRATCH = 8 << 20;

/* The C struct of int32 fields at ptr, read by its layout in constants.js:
 * {field: number, or an array for a field of several ints}. */
function readStruct(mod, ptr, layout) {
  const v = mod.i32(ptr, layout.bytes >> 2), out = {};
  for (const [name, [offset, count]] of Object.entries(layout.fields)) {
    const i = offset >> 2;
    out[name] = count === 1 ? v[i] : Array.from(v.subarray(i, i + count));
  }
  return out;
}

/* predict's info (dg_preprocess_info) -> an object; box null when empty. */
function readInfo(p) {
  const box = p.box[2] > 0 && p.box[3] > 0 ? p.box : null;
  return { box, scale: p.scale, photo: p.photo === 1, darkInk: p.darkInk === 1,
           kept: p.kept, dropped: p.dropped, lines: p.lines, candidates: p.candidates };
}

/* ---- feature detection ------------------------------------------------- */

/* The smallest module that needs SIMD: one function returning v128.const 0.
 * Hand-assembled: header, type section (() -> v128), function section,
 * code section (no locals; 0xfd 0x0c = v128.const, 16 zero bytes; end). */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c,
  ...new Array(16).fill(0), 0x0b,
]);

/* The smallest module that needs relaxed SIMD: f32x4.relaxed_madd of three
 * v128.const 0 (0xfd 0x85 0x02, the standard opcode). Exported for
 * web/tools/validate-wasm.mjs. */
const ZERO_V128 = [0xfd, 0x0c, ...new Array(16).fill(0)];
export const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x3d, 0x01, 0x3b, 0x00, ...ZERO_V128, ...ZERO_V128, ...ZERO_V128,
  0xfd, 0x85, 0x02, 0x0b,
]);

/* Does this engine validate WebAssembly SIMD? */
export function simdSupported() {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/* Does it validate relaxed SIMD (Chromium 114+, Firefox 120+, Node 22+)? */
export function relaxedSupported() {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/* Safari 16.x (macOS, or any browser on iOS 16, which are all WebKit)
 * accepts SIMD modules but mis-computes some operations: use the plain
 * build there. */
export function simdBroken(userAgent = globalThis.navigator?.userAgent ?? '') {
  const ua = String(userAgent);
  if (/Chrome\/|Chromium\/|Edg\/|Firefox\/|Android/.test(ua)) return false;
  if (/Version\/16\.\d+(\.\d+)?( Mobile\/\S+)? Safari\//.test(ua)) return true;
  return /\((iPhone|iPad|iPod);.* OS 16_\d/.test(ua) && /AppleWebKit\//.test(ua);
}

/* Whether 'auto' chooses a SIMD build here. */
export function preferSimd(userAgent) {
  return simdSupported() && !simdBroken(userAgent);
}

/* The builds: relaxed SIMD (simd128 plus fused multiply-add), simd128,
 * and plain WebAssembly. */
const BUILDS = Object.freeze({
  relaxed: 'digits-relaxed.wasm', simd: 'digits-simd.wasm', plain: 'digits-plain.wasm',
});

/* Which build 'auto' chooses here: 'relaxed', 'simd' or 'plain'. */
export function preferredBuild(userAgent) {
  if (!preferSimd(userAgent)) return 'plain';
  return relaxedSupported() ? 'relaxed' : 'simd';
}

/* ---- fetching bytes, in browsers and under Node ------------------------ */

/* Node's fs/promises, url and path, for file: URLs and paths: set by the
 * package's Node entry (digits-node.js), else found through
 * process.getBuiltinModule (Node 20.16+, 22.3+) when this file is imported
 * directly. This file imports no node: module, so bundlers for the browser
 * meet none; null outside Node. */
function nodeHost() {
  if (!IS_NODE) return null;
  if (!host.fs && typeof globalThis.process.getBuiltinModule === 'function') {
    const get = (name) => globalThis.process.getBuiltinModule(name);
    Object.assign(host, { fs: get('node:fs/promises'), url: get('node:url'), path: get('node:path') });
  }
  if (!host.fs)
    throw new DigitsError('reading files under this Node needs the package\'s Node entry ' +
                          '(import it by its package name, or digits-node.js)', Status.IO);
  return host;
}

/* A URL from a URL, a URL string, or (Node) a file path; relative strings
 * are relative to the page (browser) or the working directory (Node). */
async function toUrl(ref, dir = false) {
  if (ref instanceof URL) return ref;
  let s = String(ref);
  if (dir && !s.endsWith('/')) s += '/';
  if (/^[a-z][a-z0-9+.-]*:/i.test(s) && !/^[a-z]:[\\/]/i.test(s)) return new URL(s);
  if (IS_NODE) {
    const { url, path } = nodeHost();
    const u = url.pathToFileURL(path.resolve(s));
    if (dir && !u.pathname.endsWith('/')) u.pathname += '/';
    return u;
  }
  return new URL(s, globalThis.document?.baseURI ?? globalThis.location?.href ??
                 import.meta.url);
}

async function fetchBytes(url) {
  if (url.protocol === 'file:' && IS_NODE) {
    try {
      return new Uint8Array(await nodeHost().fs.readFile(url));
    } catch (e) {
      if (e instanceof DigitsError) throw e;
      throw new DigitsError(`${url.pathname}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`,
                            Status.IO);
    }
  }
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new DigitsError(`${url}: ${e.message}`, Status.IO);
  }
  if (!res.ok) throw new DigitsError(`${url}: HTTP ${res.status}`, Status.IO);
  return new Uint8Array(await res.arrayBuffer());
}

/* ONNX (a protobuf ModelProto: field 1, ir_version, first: byte 0x08)
 * rather than safetensors (an 8-byte header length, then the JSON's '{'). */
function isOnnx(bytes) {
  return bytes.length > 8 && bytes[0] === 0x08 && bytes[8] !== 0x7b;
}

/* Bytes of a model given as bytes, a URL or a path. */
async function modelBytes(src) {
  if (src instanceof Uint8Array) return src;
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  if (ArrayBuffer.isView(src)) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  if (typeof src === 'string' || src instanceof URL) return fetchBytes(await toUrl(src));
  throw new TypeError('model: expected a URL, a path or bytes');
}

const compiled = new Map(); /* url -> Promise<WebAssembly.Module> */

async function compileFrom(url) {
  if (url.protocol !== 'file:' && typeof WebAssembly.compileStreaming === 'function') {
    try {
      return await WebAssembly.compileStreaming(fetch(url));
    } catch (e) {
      /* a server without application/wasm: compile from bytes below */
      if (!(e instanceof TypeError)) throw e;
    }
  }
  return WebAssembly.compile(await fetchBytes(url));
}

/* compileFrom, with a page's Content-Security-Policy that forbids
 * WebAssembly named as the cause. */
async function compile(url) {
  try {
    return await compileFrom(url);
  } catch (e) {
    if (e instanceof DigitsError || !/unsafe-eval|Content Security Policy/i.test(e?.message)) throw e;
    throw new DigitsError(`${url}: the page's Content-Security-Policy blocks WebAssembly: its ` +
                          `script-src must allow 'wasm-unsafe-eval' (${e.message})`, Status.IO);
  }
}

/* ---- the module ---------------------------------------------------------- */

/* The URL of one build: from wasm ({relaxed, simd, plain}: URLs or paths
 * of each), else wasmBase (their folder), else assets.js. */
async function buildUrl(variant, wasm, wasmBase) {
  if (wasm != null) {
    if (wasm[variant] == null)
      throw new DigitsError(`wasm: no URL for the ${variant} build`, Status.ARG);
    return toUrl(wasm[variant]);
  }
  if (wasmBase != null) return new URL(BUILDS[variant], await toUrl(wasmBase, true));
  return wasmUrls()[variant];
}

/* Load (and compile once per URL) one of the builds. simd: 'auto' (the
 * best this engine runs well, preferredBuild; among the builds given in
 * wasm, if given), 'relaxed', true (simd128) or false (plain); wasm: the
 * URL of each build ({relaxed, simd, plain}, for bundlers that hand out
 * asset URLs); wasmBase: folder (URL or path) of the builds. */
export async function loadModule({ simd = 'auto', wasmBase, wasm } = {}) {
  let variant = simd === 'auto' ? preferredBuild()
    : simd === 'relaxed' ? 'relaxed' : simd === true ? 'simd' : simd === false ? 'plain' : null;
  if (variant === null)
    throw new TypeError(`simd: expected 'auto', 'relaxed', true or false, not ${simd}`);
  if (simd === 'auto' && wasm != null) /* the best build given */
    variant = ['relaxed', 'simd', 'plain'].slice(['relaxed', 'simd', 'plain'].indexOf(variant))
      .find((v) => wasm[v] != null) ?? variant;
  if (variant !== 'plain' && !simdSupported())
    throw new DigitsError('this engine has no WebAssembly SIMD', Status.ARG);
  if (variant === 'relaxed' && !relaxedSupported())
    throw new DigitsError('this engine has no relaxed WebAssembly SIMD', Status.ARG);
  const url = await buildUrl(variant, wasm, wasmBase);
  const key = url.href;
  if (!compiled.has(key)) {
    const p = compile(url);
    compiled.set(key, p);
    p.catch(() => compiled.delete(key));
  }
  const module = await compiled.get(key);
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    imports[imp.module] ??= {};
    /* the only import of a standalone build; views are made per call, so
     * growth needs no action */
    imports[imp.module][imp.name] = imp.name === 'emscripten_notify_memory_growth'
      ? () => {}
      : () => { throw new Error(`digits.js: unexpected import ${imp.module}.${imp.name}`); };
  }
  const instance = await WebAssembly.instantiate(module, imports);
  return new DigitsModule(instance, variant, url);
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/* One instance of the core. Low level: most code wants createRecognizer or
 * createTrainer. Its methods throw DigitsError on failure. */
export class DigitsModule {
  constructor(instance, variant, url) {
    this.exports = instance.exports;
    this.memory = instance.exports.memory;
    this.exports._initialize?.();
    /** which build: 'relaxed', 'simd' or 'plain' */
    this.variant = variant;
    /** true for the SIMD builds (relaxed and simd) */
    this.simd = variant !== 'plain';
    this.url = url;
    this.buildInfo = this.string(this.exports.build_info()).trim();
    this.scratch = new Map(); /* role -> {ptr, bytes} */
  }

  /* Whole-memory views, remade when the memory has grown (growth detaches
   * the old buffer): the per-call paths copy through them without making
   * new view objects. */
  heap() {
    const b = this.memory.buffer;
    if (b !== this.heapBuffer) {
      this.heapBuffer = b;
      this.heapU8 = new Uint8Array(b);
      this.heapF32 = new Float32Array(b);
    }
    return this;
  }

  u8(ptr, n) { return new Uint8Array(this.memory.buffer, ptr, n); }
  f32(ptr, n) { return new Float32Array(this.memory.buffer, ptr, n); }
  i32(ptr, n) { return new Int32Array(this.memory.buffer, ptr, n); }

  /* A copy of n floats at ptr (4-aligned). */
  floats(ptr, n) { return this.heap().heapF32.slice(ptr >> 2, (ptr >> 2) + n); }

  string(ptr) {
    if (!ptr) return null;
    const mem = new Uint8Array(this.memory.buffer);
    let end = ptr;
    while (mem[end] !== 0) end++;
    return dec.decode(mem.subarray(ptr, end));
  }

  malloc(bytes) {
    const p = this.exports.malloc(Math.max(1, bytes));
    if (!p) throw new DigitsError(`out of memory (${bytes} bytes)`, Status.NOMEM);
    return p;
  }

  free(ptr) { if (ptr) this.exports.free(ptr); }

  /* A reusable buffer of at least `bytes` for one role (reallocated when
   * too small). Valid until the next scratch() of the same role. */
  scratchBuf(role, bytes) {
    const s = this.scratch.get(role);
    if (s && s.bytes >= bytes) return s.ptr;
    if (s) this.free(s.ptr);
    const n = Math.max(bytes, 64);
    const ptr = this.malloc(n);
    this.scratch.set(role, { ptr, bytes: n });
    return ptr;
  }

  /* Free every scratch buffer and let go of the instance, so that its
   * memory can be collected (WebAssembly memory cannot be returned
   * otherwise); the module is unusable afterwards. */
  dispose() {
    if (!this.exports) return;
    for (const role of [...this.scratch.keys()]) this.dropScratch(role);
    this.exports = this.memory = this.heapBuffer = this.heapU8 = this.heapF32 = null;
  }

  /* Free one role's scratch buffer (the next scratchBuf allocates anew). */
  dropScratch(role) {
    const s = this.scratch.get(role);
    if (!s) return;
    this.free(s.ptr);
    this.scratch.delete(role);
  }

  /* Copy bytes or floats into a scratch buffer; returns its pointer. */
  put(role, data) {
    const ptr = this.scratchBuf(role, data.byteLength); /* malloc: 8-aligned */
    const h = this.heap();
    /* same element type both sides: a plain memory copy */
    if (data instanceof Float32Array) h.heapF32.set(data, ptr >> 2);
    else if (data instanceof Uint8Array) h.heapU8.set(data, ptr);
    else h.heapU8.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), ptr);
    return ptr;
  }

  /* A NUL-terminated copy of a string (caller frees). */
  cstring(s) {
    const b = enc.encode(String(s));
    const p = this.malloc(b.length + 1);
    const m = this.u8(p, b.length + 1);
    m.set(b);
    m[b.length] = 0;
    return p;
  }

  /* Throw the C error for a negative status; else return it. */
  check(st) {
    if (st >= 0) return st;
    const msg = this.string(this.exports.last_error()) || 'unknown failure';
    throw new DigitsError(msg, st, this.string(this.exports.status_name(st)));
  }

  /* Names of the built-in architectures ("mlp", "cnn", ...). */
  archNames() {
    const names = [];
    for (let i = 0, p; (p = this.exports.arch_name(i)); i++) names.push(this.string(p));
    return names;
  }

  /* Parse model bytes into a Net (DigitsError with the C message if bad):
   * a digits model file, or an ONNX model converted by the C importer
   * (`digits convert`'s), told apart by isOnnx. */
  loadNet(bytes) {
    if (!(bytes instanceof Uint8Array)) bytes = new Uint8Array(bytes);
    if (bytes.length === 0) throw new DigitsError('model: empty file', Status.FORMAT);
    const p = this.malloc(bytes.length);
    try {
      this.u8(p, bytes.length).set(bytes);
      const load = isOnnx(bytes) ? this.exports.onnx_load : this.exports.model_load;
      const h = this.check(load(p, bytes.length));
      return new Net(this, h, bytes.length);
    } finally {
      this.free(p);
    }
  }

  /* A new Net from an architecture name or spec with weights from seed. */
  newNet(arch, seed = 1) {
    const s = this.cstring(arch);
    try {
      return new Net(this, this.check(this.exports.net_new(s, seed >>> 0)), 0);
    } finally {
      this.free(s);
    }
  }

  /* Preprocess pixels (channels 1..4) to the 28x28 input, or null if empty. */
  preprocess({ data, width, height }, channels = 4) {
    const px = checkImage(data, width, height, channels);
    const x = this.put('pixels', px);
    const out = this.scratchBuf('input', INPUT * 4);
    const st = this.exports.preprocess(x, width, height, channels, out);
    if (st === Status.EMPTY) return null;
    this.check(st);
    return this.floats(out, INPUT);
  }
}

/* Validate an image's size before anything is copied or allocated. */
function checkImage(data, width, height, channels = 4) {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 ||
      width > MAX_DIM || height > MAX_DIM || width * height > MAX_PIXELS)
    throw new DigitsError(`image: cannot use a ${width}x${height} image (1..${MAX_DIM} per side, ` +
                          `at most ${MAX_PIXELS} pixels)`, Status.ARG);
  if (!ArrayBuffer.isView(data) || data.BYTES_PER_ELEMENT !== 1)
    throw new DigitsError('image: data must be bytes (Uint8ClampedArray or Uint8Array)',
                          Status.ARG);
  if (data.length !== width * height * channels)
    throw new DigitsError(`image: ${data.length} bytes for ${width}x${height}x${channels} ` +
                          `(expected ${width * height * channels})`, Status.ARG);
  return data;
}

function checkFloats(x, what) {
  if (!(x instanceof Float32Array)) {
    if (Array.isArray(x) || ArrayBuffer.isView(x)) return Float32Array.from(x);
    throw new DigitsError(`${what}: expected a Float32Array`, Status.ARG);
  }
  return x;
}

/* ---- networks -------------------------------------------------------------- */

/* A network inside a module: inference, evaluation, description, saving. */
export class Net {
  constructor(mod, handle, bytes) {
    this.mod = mod;
    this.handle = handle;
    /** size of the model file it came from (0 for a new net) */
    this.bytes = bytes;
    const p = mod.scratchBuf('info', NetInfo.bytes);
    mod.check(mod.exports.net_info(handle, p));
    const ni = readStruct(mod, p, NetInfo);
    this.inputSize = ni.inputSize;
    this.outputSize = ni.outputSize;
    this.takesImage = ni.takesImage === 1;
  }

  h() {
    if (!this.handle) throw new DigitsError('net: used after free()', Status.ARG);
    return this.handle;
  }

  /* arch, params, state, layers [{name, kind, shape, params}], metadata. */
  info() {
    const m = this.mod, e = m.exports, h = this.h();
    const ints = m.scratchBuf('info', Math.max(NetInfo.bytes, 5 * 4));
    m.check(e.net_info(h, ints));
    const { params, state, layers: layerCount } = readStruct(m, ints, NetInfo);
    const names = m.scratchBuf('names', 8);
    const layers = [];
    for (let i = 0; i < layerCount; i++) {
      m.check(e.net_layer(h, i, names, ints));
      const [np, nk] = m.i32(names, 2);
      const [oh, ow, oc, lp, ls] = m.i32(ints, 5);
      layers.push({ name: m.string(np), kind: m.string(nk), shape: [oh, ow, oc],
                    params: lp, state: ls });
    }
    const metadata = {};
    const kv = m.scratchBuf('names', 8);
    for (let i = 0, n = e.net_meta_count(h); i < n; i++) {
      m.check(e.net_meta_at(h, i, kv));
      const [k, v] = m.i32(kv, 2);
      metadata[m.string(k)] = m.string(v);
    }
    const acc = Number.parseFloat(metadata.test_accuracy);
    return {
      arch: m.string(e.net_arch(h)), archName: metadata.arch_name ?? null,
      params, state, layerCount, layers, inputSize: this.inputSize,
      outputSize: this.outputSize, bytes: this.bytes,
      testAccuracy: Number.isFinite(acc) ? acc : null, metadata,
    };
  }

  /* One metadata value, or null. */
  meta(key) {
    const m = this.mod, k = m.cstring(key);
    try {
      return m.string(m.exports.net_meta_get(this.h(), k));
    } finally {
      m.free(k);
    }
  }

  /* Set metadata entries from an object of strings. */
  setMeta(entries) {
    const m = this.mod;
    for (const [key, value] of Object.entries(entries)) {
      const k = m.cstring(key), v = m.cstring(value);
      try {
        m.check(m.exports.net_meta_set(this.h(), k, v));
      } finally {
        m.free(k);
        m.free(v);
      }
    }
  }

  result(digit, probsPtr, input, t0, info = null) {
    const probs = this.mod.floats(probsPtr, this.outputSize);
    return { digit, confidence: probs[digit], probs, input, empty: false, uncertain: false,
             box: info?.box ?? null, photo: info?.photo ?? false, info,
             ms: performance.now() - t0 };
  }

  /* An RGBA image {data, width, height} checked (for the call named what)
   * and copied into the module: {px (its pointer), width, height}. */
  pixelsIn(what, image) {
    if (!image || typeof image !== 'object')
      throw new DigitsError(`${what}: expected an ImageData or {data, width, height}`,
                            Status.ARG);
    const { data, width, height } = image;
    checkImage(data, width, height, 4);
    return { px: this.mod.put('pixels', data), width, height };
  }

  /* After the call: a photo leaves a big pixel buffer behind: give it back
   * to malloc so other buffers can reuse the space (WebAssembly memory
   * never shrinks). */
  pixelsDone(image) {
    if (image.data.length > BIG_SCRATCH) this.mod.dropScratch('pixels');
  }

  /* Canvas or photo pixels {data, width, height} (RGBA) -> result:
   * {digit, confidence, probs, input, empty, uncertain, box, photo, info, ms}.
   * No usable ink gives {digit: null, empty: true}; several digit-sized
   * shapes with no clear winner {digit: null, uncertain: true}: the page
   * says so rather than guess. box is [x, y, w, h] of the ink read, in the
   * image's pixels (null when nothing was found); photo is true when the
   * paper's illumination was estimated and divided out. */
  predictImage(image) {
    const t0 = performance.now();
    const m = this.mod, h = this.h();
    const { px, width, height } = this.pixelsIn('predict', image);
    const probs = m.scratchBuf('probs', this.outputSize * 4);
    const inp = m.scratchBuf('input', INPUT * 4);
    const ip = m.scratchBuf('pinfo', PreprocessInfo.bytes);
    const st = m.exports.predict(h, px, width, height, probs, inp, ip);
    const input = m.floats(inp, INPUT);
    const info = readInfo(readStruct(m, ip, PreprocessInfo));
    this.pixelsDone(image);
    if (st === Status.EMPTY || st === Status.UNCERTAIN)
      return { digit: null, confidence: 0, probs: new Float32Array(this.outputSize), input,
               empty: st === Status.EMPTY, uncertain: st === Status.UNCERTAIN,
               box: info.box, photo: info.photo, info, ms: performance.now() - t0 };
    return this.result(m.check(st), probs, input, t0, info);
  }

  /* Canvas or photo pixels {data, width, height} (RGBA) -> the number
   * written there (read_number, dg_read_number): {number, confidence,
   * digits: [{digit, confidence, box: [x, y, w, h], uncertain, probs}],
   * photo, split, truncated, ms}. number is the digits as a string, left to
   * right, or null when there is no ink (digits [], confidence 0); the
   * number's confidence is its weakest digit's; uncertain marks a digit
   * read with less than NumberLimits.unsure. One digit reads exactly as
   * predictImage. verifier: a Net of 11 outputs (Recognizer.loadVerifier),
   * an array of up to NumberLimits.maxVerifiers such Nets (window readers,
   * their readings averaged) or null. */
  readNumber(image, verifier = null) {
    const t0 = performance.now();
    const m = this.mod, h = this.h();
    const { px, width, height } = this.pixelsIn('readNumber', image);
    const max = NumberLimits.maxDigits;
    const out = m.scratchBuf('number', NumberResult.bytes);
    const cp = m.scratchBuf('nconf', (1 + max) * 4);
    const pp = m.scratchBuf('nprobs', max * 10 * 4);
    const vs = verifier == null ? [] : Array.isArray(verifier) ? verifier : [verifier];
    if (vs.length > NumberLimits.maxVerifiers)
      throw new DigitsError(`readNumber: at most ${NumberLimits.maxVerifiers} verifiers, not ` +
                            `${vs.length}`, Status.ARG);
    const vp = m.scratchBuf('nverifiers', NumberLimits.maxVerifiers * 4);
    m.i32(vp, vs.length).set(vs.map((v) => v.h()));
    const n = m.check(m.exports.read_number(h, vp, vs.length, px, width, height, out, cp, pp));
    this.pixelsDone(image);
    const r = readStruct(m, out, NumberResult);
    const conf = m.floats(cp, 1 + n), probs = m.floats(pp, n * 10);
    const v = m.i32(out, NumberResult.bytes >> 2), base = NumberResult.fields.digits[0] >> 2;
    const f = NumberDigit.fields, stride = NumberDigit.bytes >> 2;
    const digits = [];
    for (let i = 0; i < n; i++) {
      const at = (name, k = 0) => v[base + i * stride + (f[name][0] >> 2) + k];
      digits.push({ digit: at('digit'), confidence: conf[1 + i],
                    box: [at('box'), at('box', 1), at('box', 2), at('box', 3)],
                    uncertain: at('unsure') === 1, probs: probs.slice(i * 10, i * 10 + 10) });
    }
    return { number: n ? digits.map((d) => d.digit).join('') : null,
             confidence: n ? conf[0] : 0, digits, photo: r.photo === 1, split: r.split,
             truncated: r.truncated === 1, ms: performance.now() - t0 };
  }

  /* One input of inputSize floats (a 28x28 digit, ink = 1) -> result; its
   * input is x itself (a copy only if x was not a Float32Array). */
  predictInput(x) {
    const t0 = performance.now();
    x = checkFloats(x, 'predictInput');
    if (x.length !== this.inputSize)
      throw new DigitsError(`predictInput: ${x.length} floats, the model takes ${this.inputSize}`,
                            Status.ARG);
    const m = this.mod;
    const xp = m.put('batch', x);
    const probs = m.scratchBuf('probs', this.outputSize * 4);
    const digit = m.check(m.exports.predict_input(this.h(), xp, probs));
    return this.result(digit, probs, x, t0);
  }

  /* n inputs (n * inputSize floats) -> probabilities (n * outputSize),
   * in chunks of `batch` calls. */
  predictBatch(x, { batch = 256 } = {}) {
    x = checkFloats(x, 'predictBatch');
    const I = this.inputSize, K = this.outputSize, n = x.length / I;
    if (!Number.isInteger(n))
      throw new DigitsError(`predictBatch: ${x.length} floats is not a multiple of ${I}`,
                            Status.ARG);
    const m = this.mod, out = new Float32Array(n * K);
    for (let i = 0; i < n; i += batch) {
      const b = Math.min(batch, n - i);
      const xp = m.put('batch', x.subarray(i * I, (i + b) * I));
      const pp = m.scratchBuf('bprobs', b * K * 4);
      m.check(m.exports.predict_batch(this.h(), xp, b, pp));
      out.set(m.f32(pp, b * K), i * K);
    }
    return out;
  }

  /* Mean loss and accuracy on n inputs with labels (dropout off);
   * {probs: true} also returns the probabilities. */
  evaluate(x, labels, { batch = 256, probs = false } = {}) {
    x = checkFloats(x, 'evaluate');
    if (!ArrayBuffer.isView(labels)) labels = Uint8Array.from(labels ?? []);
    const I = this.inputSize, K = this.outputSize, n = labels.length;
    if (x.length !== n * I)
      throw new DigitsError(`evaluate: ${x.length} floats for ${n} labels of ${I} inputs`,
                            Status.ARG);
    const m = this.mod, all = probs ? new Float32Array(n * K) : null;
    let loss = 0, correct = 0;
    for (let i = 0; i < n; i += batch) {
      const b = Math.min(batch, n - i);
      const xp = m.put('batch', x.subarray(i * I, (i + b) * I));
      const lp = m.put('labels', Uint8Array.from(labels.subarray(i, i + b)));
      const pp = m.scratchBuf('bprobs', b * K * 4);
      const sp = m.scratchBuf('stats', 8);
      m.check(m.exports.eval_batch(this.h(), xp, lp, b, pp, sp));
      const [l, c] = m.f32(sp, 2);
      loss += l;
      correct += c;
      if (all) all.set(m.f32(pp, b * K), i * K);
    }
    return { loss: n ? loss / n : NaN, accuracy: n ? correct / n : NaN, n, correct,
             probs: all };
  }

  /* The model file (safetensors) as bytes, after setting metadata. */
  save(meta = {}) {
    this.setMeta(meta);
    const m = this.mod;
    const lenp = m.scratchBuf('len', 4);
    const buf = m.check(m.exports.model_save(this.h(), lenp));
    const len = m.i32(lenp, 1)[0];
    const bytes = m.u8(buf, len).slice();
    m.free(buf);
    return bytes;
  }

  free() {
    if (this.handle) this.mod.exports.net_free(this.handle);
    this.handle = 0;
  }
}

/* ---- the recognizer: what the drawing page uses ---------------------------- */

export class Recognizer {
  /* mod: the module it runs in; owned: free the module too on dispose() */
  constructor(mod, { owned = false } = {}) {
    this.mod = mod;
    this.net = null;
    this.verifiers = [];
    this.owned = owned;
    /** true if a SIMD build is in use */
    this.simd = mod.simd;
    /** which build is in use: 'relaxed', 'simd' or 'plain' */
    this.variant = mod.variant;
    /** the core's build string (SIMD path, compiler) */
    this.buildInfo = mod.buildInfo;
    this.disposed = false;
  }

  /* Replace the model (URL, path or bytes of a digits model file or of an
   * ONNX model, converted here). On failure the old model stays and the
   * promise rejects with the C message. */
  async loadModel(src) {
    this.net = await this.loadNetFor(src, this.net, 10, 'model', 'a digit model');
    return this.info();
  }

  /* Load the number verifier readNumber reads touching digits with (URL,
   * path or bytes; 11 outputs and 28x28, 28x28x2 or 28x36 inputs,
   * docs/numbers.md), or an array of up to NumberLimits.maxVerifiers
   * window readers (28x36 inputs) whose readings are averaged; default the
   * packaged three; null: none. On failure the old ones stay. -> true if a
   * verifier is in use. */
  async loadVerifier(src = defaultVerifierUrls()) {
    this.live();
    const srcs = src === null ? [] : Array.isArray(src) ? src : [src];
    if (srcs.length > NumberLimits.maxVerifiers)
      throw new DigitsError(`verifier: at most ${NumberLimits.maxVerifiers} verifiers, not ` +
                            `${srcs.length}`, Status.ARG);
    /* fetched side by side; if any fails, the others are freed */
    const inputs = srcs.length > 1 ? [28 * 36] : [784, 2 * 784, 28 * 36];
    const kind = srcs.length > 1 ? 'a window reader averaged with others' : 'a number verifier';
    const got = await Promise.allSettled(srcs.map((s) => this.loadNetFor(s, null, 11, 'verifier',
                                                                          kind, inputs)));
    const nets = got.filter((g) => g.status === 'fulfilled').map((g) => g.value);
    const failed = got.find((g) => g.status === 'rejected');
    if (failed) {
      for (const n of nets) n.free();
      throw failed.reason;
    }
    for (const n of this.verifiers) n.free();
    this.verifiers = nets;
    return nets.length > 0;
  }

  /* The network in src, which must take 28x28 (or one of `inputs` floats)
   * and give `outputs`, in place of old (freed); on failure old stays and
   * a DigitsError names what. */
  async loadNetFor(src, old, outputs, what, kind, inputs = [784]) {
    this.live();
    const bytes = await modelBytes(src);
    const net = this.live().loadNet(bytes);
    if (!inputs.includes(net.inputSize) || net.outputSize !== outputs) {
      net.free();
      const takes = inputs.length > 1 ? '28x28, 28x28x2 or 28x36'
        : inputs[0] === 784 ? '28x28' : '28x36';
      throw new DigitsError(`${what}: takes ${net.inputSize} inputs and gives ${net.outputSize} ` +
                            `outputs; ${kind} takes ${takes} and gives ${outputs}`, Status.FORMAT);
    }
    old?.free();
    return net;
  }

  /* The module, or a DigitsError once disposed. */
  live() {
    if (this.disposed) throw disposedError('recognizer');
    return this.mod;
  }

  need() {
    this.live();
    if (!this.net) throw new DigitsError('no model loaded', Status.ARG);
    return this.net;
  }

  info() { return this.need().info(); }

  /* An image -> {digit, confidence, probs, input, empty, uncertain, box,
   * photo, info, ms} (Net.predictImage). The image: ImageData or
   * {data, width, height} (RGBA), a canvas (HTMLCanvasElement or
   * OffscreenCanvas), an ImageBitmap, an <img>, a video frame, or a Blob or
   * File the browser decodes (image.js). */
  async predict(image) {
    this.need();
    return this.predictSync(await toPixels(image));
  }

  /* The same at once, for every source but a Blob or an <img> not yet
   * decoded. */
  predictSync(image) {
    const net = this.need();
    return net.predictImage(toPixelsSync(image));
  }

  /* The number written in an image (the same sources as predict) ->
   * {number, confidence, digits: [{digit, confidence, box, uncertain,
   * probs}], photo, split, truncated, ms} (Net.readNumber); number null
   * when there is no ink. */
  async readNumber(image) {
    this.need();
    return this.readNumberSync(await toPixels(image));
  }

  /* The same at once, for the sources predictSync takes. */
  readNumberSync(image) {
    return this.need().readNumber(toPixelsSync(image), this.verifiers);
  }

  /* A 28x28 float input (an MNIST digit) -> the same result shape. */
  async predictInput(x) { return this.need().predictInput(x); }
  predictInputSync(x) { return this.need().predictInput(x); }

  predictBatch(x, opts) { return this.need().predictBatch(x, opts); }
  evaluate(x, labels, opts) { return this.need().evaluate(x, labels, opts); }

  /* The current model as file bytes. */
  saveModel(meta) { return this.need().save(meta); }

  /* Free the model's memory in the module (and the module, if this
   * recognizer loaded it); any later call throws a DigitsError. Again is a
   * no-op. */
  dispose() {
    if (this.disposed) return;
    this.net?.free();
    for (const n of this.verifiers) n.free();
    this.net = null;
    this.verifiers = [];
    if (this.owned) this.mod.dispose();
    this.mod = null;
    this.disposed = true;
  }

  [DISPOSE]() { this.dispose(); }

  /* The same as dispose(). */
  free() { this.dispose(); }
}

/* The number verifier createRecognizer loads: the one given (null: none);
 * if none is given, the packaged one along with the packaged model (a page
 * that gives its own model URL, as bundlers without new URL(...,
 * import.meta.url) need, gives the verifier's too, or loads it later). */
function verifierSource(model, verifier) {
  if (verifier !== undefined) return verifier;
  return model == null ? defaultVerifierUrls() : null;
}

/* Create a recognizer: model (URL, path or bytes; default the packaged
 * default model, assets.js), verifier (the same for the number verifier;
 * default the packaged one when model is not given; null: none;
 * loadVerifier later), simd ('auto' | 'relaxed' | true | false),
 * wasm ({relaxed, simd, plain}: URL of each build) or wasmBase (their
 * folder), module (share an existing DigitsModule); worker: true runs it
 * in a Web Worker (workerUrl: where digits-worker.js is, if moved), every
 * method then returning a promise. */
export async function createRecognizer(options = {}) {
  const { model, verifier, simd = 'auto', wasmBase, wasm, module, worker = false } = options;
  if (worker) return createRemote('recognizer', await remoteOptions(options, true));
  const mod = module ?? await loadModule({ simd, wasmBase, wasm });
  const r = new Recognizer(mod, { owned: !module });
  try {
    await r.loadModel(model ?? defaultModelUrl());
    const v = verifierSource(model, verifier);
    if (v != null) await r.loadVerifier(v);
  } catch (e) {
    r.dispose();
    throw e;
  }
  return r;
}

/* ---- training: one call per batch ------------------------------------------- */

const OPTIMIZERS = Optimizer; /* { sgd, adam }: trainer_new's ids */

/* Trains a Net in place. Each trainBatch is one short call into WASM, so
 * the engine optimizes the hot code and a worker can pause between calls. */
export class Trainer {
  /* owned: free the module too on dispose() */
  constructor(mod, net, { optimizer = 'adam', lr = 1e-3, weightDecay = 0, seed = 1,
                          augment = false, owned = false } = {}) {
    if (!(optimizer in OPTIMIZERS))
      throw new DigitsError(`trainer: optimizer must be adam or sgd, not ${optimizer}`,
                            Status.ARG, 'bad argument');
    this.mod = mod;
    this.net = net;
    this.handle = mod.check(mod.exports.trainer_new(net.h(), OPTIMIZERS[optimizer], lr,
                                                    weightDecay, seed >>> 0));
    this.lr = lr;
    this.owned = owned;
    this.fits = new Set(); /* runs to end before the trainer */
    this.simd = mod.simd;
    this.variant = mod.variant;
    this.buildInfo = mod.buildInfo;
    if (augment) this.setAugment(augment);
  }

  h() {
    if (!this.handle) throw disposedError('trainer');
    return this.handle;
  }

  setLearningRate(lr) {
    this.mod.check(this.mod.exports.trainer_set_lr(this.h(), lr));
    this.lr = lr;
  }

  /* false, true (Keras defaults: 10 deg, 0.1 zoom/shift/shear) or
   * {rotate, zoom, shift, shear, thickness}. */
  setAugment(opts) {
    const o = opts === true ? {} : opts || {};
    this.mod.check(this.mod.exports.trainer_set_augment(
      this.h(), opts ? 1 : 0, o.rotate ?? 10, o.zoom ?? 0.1, o.shift ?? 0.1, o.shear ?? 0.1,
      o.thickness ?? 0));
  }

  /* One step on x (n * inputSize floats) and labels (n): {loss, accuracy}
   * of the batch before the update. */
  trainBatch(x, labels) {
    x = checkFloats(x, 'trainBatch');
    const n = labels.length, I = this.net.inputSize, m = this.mod;
    if (n < 1 || x.length !== n * I)
      throw new DigitsError(`trainBatch: ${x.length} floats for ${n} labels of ${I} inputs`,
                            Status.ARG, 'bad argument');
    const xp = m.put('batch', x);
    const lp = m.put('labels', labels instanceof Uint8Array ? labels : Uint8Array.from(labels));
    const sp = m.scratchBuf('stats', 8);
    m.check(m.exports.train_batch(this.h(), xp, lp, n, sp));
    const [loss, accuracy] = m.f32(sp, 2);
    return { loss, accuracy };
  }

  /* The augmentation training applies, on n 28x28 inputs (for display). */
  augment(x) {
    x = checkFloats(x, 'augment');
    const n = x.length / INPUT, m = this.mod;
    if (!Number.isInteger(n) || n < 1)
      throw new DigitsError('augment: expected n * 784 floats', Status.ARG, 'bad argument');
    const xp = m.put('batch', x);
    const out = m.scratchBuf('augmented', x.byteLength);
    m.check(m.exports.augment(this.h(), xp, out, n));
    return m.f32(out, x.length).slice();
  }

  /* A run of epochs (the C epoch loop: shuffling, validation on the last
   * valCount samples, learning-rate reduction on plateau, early stopping
   * after `patience` epochs without a validation gain, the best weights
   * back at the end) over n samples x (n * inputSize floats) and labels
   * (n), with this trainer's optimizer settings, augmentation and seed.
   * Driven one call at a time: see Fit. */
  fit(x, labels, { epochs = 1, batch = 32, valCount = 0, patience = 5 } = {}) {
    x = checkFloats(x, 'fit');
    const n = labels.length, I = this.net.inputSize;
    if (n < 1 || x.length !== n * I)
      throw new DigitsError(`fit: ${x.length} floats for ${n} labels of ${I} inputs`,
                            Status.ARG, 'bad argument');
    const f = new Fit(this, x, labels, { epochs, batch, valCount, patience });
    this.fits.add(f);
    return f;
  }

  evaluate(x, labels, opts) { return this.net.evaluate(x, labels, opts); }
  predictBatch(x, opts) { return this.net.predictBatch(x, opts); }
  predictInput(x) { return this.net.predictInput(x); }
  info() { return this.net.info(); }

  /* The trained model as .safetensors bytes (loads in `digits eval`). */
  saveModel(meta = {}) { return this.net.save(meta); }

  /* Free the trainer and its network (and the module, if this trainer
   * loaded it); any later call throws a DigitsError. */
  dispose() {
    if (!this.handle) return;
    for (const f of [...this.fits]) {
      f.dispose();
      f.mod = goneModule('fit');
    }
    this.mod.exports.trainer_free(this.handle);
    this.handle = 0;
    this.net.free();
    if (this.owned) this.mod.dispose();
    this.mod = this.net.mod = goneModule('trainer');
  }

  [DISPOSE]() { this.dispose(); }

  /* The same as dispose(). */
  free() { this.dispose(); }
}

/* fit_progress's floats, in order (src/wasm/api.c). */
const PROGRESS_FIELDS = ['epoch', 'epochs', 'batch', 'batches', 'loss', 'accuracy', 'valLoss',
                         'valAccuracy', 'lr', 'seconds', 'done', 'improved', 'seen',
                         'batchLoss', 'batchAccuracy'];

/* A training run in WASM memory (its data copied in once), driven by the
 * caller so that every call is short and a worker can answer messages in
 * between:
 *   while (f.beginEpoch()) { while (f.step()) {...}  f.endEpoch(); }
 *   f.finish(); f.free();
 * progress() reads the figures of the last call. */
export class Fit {
  constructor(trainer, x, labels, { epochs, batch, valCount, patience }) {
    const m = trainer.mod, n = labels.length;
    this.mod = m;
    this.trainer = trainer;
    this.handle = 0;
    this.xp = m.malloc(x.byteLength);
    this.lp = m.malloc(n);
    this.out = m.malloc(PROGRESS_FIELDS.length * 4);
    try {
      m.heap().heapF32.set(x, this.xp >> 2);
      m.heapU8.set(labels instanceof Uint8Array ? labels : Uint8Array.from(labels), this.lp);
      this.handle = m.check(m.exports.fit_new(trainer.h(), this.xp, this.lp, n, epochs, batch,
                                              valCount, patience));
    } catch (e) {
      this.free();
      throw e;
    }
  }

  h() {
    if (!this.handle) throw disposedError('fit');
    return this.handle;
  }

  /* Start the next epoch: false when the run is over (all epochs, or
   * stopped early). */
  beginEpoch() { return this.mod.check(this.mod.exports.fit_begin_epoch(this.h())) === 1; }

  /* One batch: its sample count, 0 when the epoch has no batch left. */
  step() { return this.mod.check(this.mod.exports.fit_step(this.h())); }

  /* Validation, schedule and early stopping at an epoch's end: progress(). */
  endEpoch() {
    this.mod.check(this.mod.exports.fit_end_epoch(this.h()));
    return this.progress();
  }

  /* The best validation epoch's weights back in the net: {bestEpoch,
   * epochsRun}. */
  finish() {
    this.mod.check(this.mod.exports.fit_finish(this.h()));
    const net = this.trainer.net;
    return { bestEpoch: Number(net.meta('best_epoch')), epochsRun: Number(net.meta('epochs_run')) };
  }

  /* {epoch (from 1), epochs, batch, batches, loss, accuracy, valLoss,
   * valAccuracy (NaN before an epoch's end), lr, done, improved, seen,
   * batchLoss, batchAccuracy} */
  progress() {
    const m = this.mod;
    m.check(m.exports.fit_progress(this.h(), this.out));
    const v = m.heap().heapF32, o = this.out >> 2, r = {};
    PROGRESS_FIELDS.forEach((k, i) => { r[k] = v[o + i]; });
    r.done = r.done === 1;
    r.improved = r.improved === 1;
    return r;
  }

  /* Free the run's copy of the data (the trainer stays; disposing the
   * trainer disposes its runs first). */
  dispose() {
    if (this.handle) this.mod.exports.fit_free(this.handle);
    this.handle = 0;
    for (const p of [this.xp, this.lp, this.out]) this.mod.free(p);
    this.xp = this.lp = this.out = 0;
    this.trainer.fits.delete(this);
  }

  [DISPOSE]() { this.dispose(); }

  /* The same as dispose(). */
  free() { this.dispose(); }
}

/* Create a trainer: a new net of arch (name or spec) from seed, or a loaded
 * model to fine-tune (model: URL, path or bytes); optimizer 'adam'|'sgd',
 * lr, weightDecay, augment; simd/wasm/wasmBase/module/worker as for
 * createRecognizer. */
export async function createTrainer(options = {}) {
  const { arch = 'mlp', model, seed = 1, optimizer = 'adam', lr = 1e-3, weightDecay = 0,
          augment = false, simd = 'auto', wasmBase, wasm, module, worker = false } = options;
  if (worker) return createRemote('trainer', await remoteOptions(options, false));
  const mod = module ?? await loadModule({ simd, wasmBase, wasm });
  let net = null;
  try {
    net = model != null ? mod.loadNet(await modelBytes(model)) : mod.newNet(arch, seed);
    return new Trainer(mod, net, { optimizer, lr, weightDecay, seed, augment, owned: !module });
  } catch (e) {
    net?.free();
    if (!module) mod.dispose();
    throw e;
  }
}

/* createRecognizer's or createTrainer's options for a worker: every URL
 * absolute (resolved here, against the page and assets.js), the model as a
 * URL string or bytes (the default model's URL when defaultModel). */
async function remoteOptions({ model, verifier, wasmBase, wasm, module, worker, ...rest },
                             defaultModel) {
  if (module != null)
    throw new DigitsError('worker: a module cannot be shared with a worker (drop the module option)',
                          Status.ARG);
  const urls = {};
  for (const v of Object.keys(BUILDS))
    if (wasm == null || wasm[v] != null) urls[v] = (await buildUrl(v, wasm, wasmBase)).href;
  const given = model;
  if (model == null && defaultModel) model = defaultModelUrl();
  const place = async (m) => (typeof m === 'string' || m instanceof URL ? (await toUrl(m)).href
    : Array.isArray(m) ? Promise.all(m.map(place)) : m != null ? modelBytes(m) : m);
  model = await place(model);
  if (!defaultModel) return { ...rest, model, wasm: urls };
  return { ...rest, model, verifier: await place(verifierSource(given, verifier)), wasm: urls };
}
