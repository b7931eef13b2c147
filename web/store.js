/* store.js: what the page keeps in IndexedDB (database "digits"), so it
 * survives reloads and works offline:
 *   models    key "trained" -> {bytes: Uint8Array (.safetensors), name, arch,
 *             testAccuracy, date}: the model saved from the training panel
 *   examples  auto id -> {id, label (0..9), pixels: Uint8Array(784) (the
 *             recogniser's preprocessed 28x28 input, 255 = ink), date}
 * Every call opens the database once (cached) and returns a promise.
 * Saving a model or examples also asks the browser to keep the site's
 * storage (navigator.storage.persist(), not awaited) and announces the answer as a
 * "digits:saved" event on document: detail {kind: 'model'|'examples',
 * persist: 'granted'|'not granted'|'unsupported'} (install.js shows it).
 */

const DB = 'digits';
const DB_VERSION = 1;
let opening = null;

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export function openStore() {
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') return reject(new Error('IndexedDB is not available'));
    const r = indexedDB.open(DB, DB_VERSION);
    r.onupgradeneeded = () => {
      const db = r.result;
      if (!db.objectStoreNames.contains('models')) db.createObjectStore('models');
      if (!db.objectStoreNames.contains('examples'))
        db.createObjectStore('examples', { keyPath: 'id', autoIncrement: true });
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
  opening.catch(() => { opening = null; });
  return opening;
}

async function tx(store, mode, fn) {
  const db = await openStore();
  const t = db.transaction(store, mode);
  const done = new Promise((resolve, reject) => {
    t.oncomplete = resolve;
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error ?? new Error('IndexedDB transaction aborted'));
  });
  const [result] = await Promise.all([fn(t.objectStore(store)), done]);
  return result;
}

/* ---- persistent storage ---- */

/* StorageManager's persist() or persisted() as 'granted', 'not granted'
 * or 'unsupported' (the browser has no such call). */
async function persistAnswer(method) {
  const sm = globalThis.navigator?.storage;
  if (typeof sm?.[method] !== 'function') return 'unsupported';
  try {
    return (await sm[method]()) ? 'granted' : 'not granted';
  } catch {
    return 'not granted';
  }
}

/* Ask the browser to keep the site's storage. */
export const askPersist = () => persistAnswer('persist');
/* What persist() answered before, without asking again. */
export const persisted = () => persistAnswer('persisted');

/* {usage, quota} in bytes from navigator.storage.estimate(), or null. */
export async function estimate() {
  const sm = globalThis.navigator?.storage;
  if (typeof sm?.estimate !== 'function') return null;
  try {
    const { usage = 0, quota = 0 } = await sm.estimate();
    return { usage, quota };
  } catch {
    return null;
  }
}

/* After a save: ask for persistence without waiting for the answer (a
 * browser may ask the user, as Firefox does), then announce it. */
function saved(kind, result) {
  askPersist().then((persist) => globalThis.document?.dispatchEvent(
    new CustomEvent('digits:saved', { detail: { kind, persist } })));
  return result;
}

/* Bytes a record holds: its typed arrays and strings (IndexedDB's own
 * overhead comes on top; estimate() includes it). */
function recordBytes(v) {
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (typeof v === 'string') return v.length;
  if (v && typeof v === 'object') return Object.values(v).reduce((n, x) => n + recordBytes(x), 0);
  return 8;
}

/* {model: {name, arch, bytes} | null, examples: {count, bytes}} */
export async function savedSizes() {
  const m = await loadModel();
  const ex = await listExamples();
  return {
    model: m ? { name: m.name, arch: m.arch, bytes: recordBytes(m) } : null,
    examples: { count: ex.length, bytes: ex.reduce((n, e) => n + recordBytes(e), 0) },
  };
}

/* ---- the saved model ---- */

export const saveModel = (m) => tx('models', 'readwrite', (s) => req(s.put(m, 'trained')))
  .then((r) => saved('model', r));
export const loadModel = () => tx('models', 'readonly', (s) => req(s.get('trained')));
export const deleteModel = () => tx('models', 'readwrite', (s) => req(s.delete('trained')));

/* ---- personal examples ---- */

/* Store one example; returns its id. */
export function addExample(label, pixels) {
  if (!Number.isInteger(label) || label < 0 || label > 9) throw new Error(`label ${label}: 0..9 expected`);
  if (!(pixels instanceof Uint8Array) || pixels.length !== 784) throw new Error('pixels: 784 bytes expected');
  return tx('examples', 'readwrite', (s) => req(s.add({ label, pixels, date: new Date().toISOString() })))
    .then((id) => saved('examples', id));
}

export const listExamples = () => tx('examples', 'readonly', (s) => req(s.getAll()));
export const deleteExample = (id) => tx('examples', 'readwrite', (s) => req(s.delete(id)));
export const clearExamples = () => tx('examples', 'readwrite', (s) => req(s.clear()));

/* A preprocessed input (floats, ink = 1) as stored bytes. */
export function toPixels(input) {
  const p = new Uint8Array(784);
  for (let i = 0; i < 784; i++) p[i] = Math.round(Math.max(0, Math.min(1, input[i])) * 255);
  return p;
}

/* ---- export / import: one JSON file ---- */

function b64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

function unb64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/* Examples -> the export file's text. */
export function exportExamples(list) {
  return JSON.stringify({
    format: 'digits-examples', version: 1, size: [28, 28],
    examples: list.map((e) => ({ label: e.label, date: e.date, pixels: b64(e.pixels) })),
  });
}

/* An export file's text -> [{label, pixels, date}], validated. */
export function parseExamples(text) {
  let j;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new Error(`not a JSON file (${e.message})`);
  }
  if (j?.format !== 'digits-examples' || j.version !== 1 || !Array.isArray(j.examples))
    throw new Error('not a digits examples file (format "digits-examples", version 1)');
  return j.examples.map((e, i) => {
    const pixels = typeof e.pixels === 'string' ? unb64(e.pixels) : null;
    if (!Number.isInteger(e.label) || e.label < 0 || e.label > 9 || pixels?.length !== 784)
      throw new Error(`example ${i + 1}: needs a label 0..9 and 784 pixels`);
    return { label: e.label, pixels, date: typeof e.date === 'string' ? e.date : new Date().toISOString() };
  });
}

/* Add many examples in one transaction; returns how many. */
export function importExamples(list) {
  return tx('examples', 'readwrite', async (s) => {
    for (const e of list) s.add({ label: e.label, pixels: e.pixels, date: e.date });
    return list.length;
  }).then((n) => saved('examples', n));
}
