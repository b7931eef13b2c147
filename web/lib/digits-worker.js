/* digits-worker.js: the Web Worker behind createRecognizer({ worker: true })
 * and createTrainer({ worker: true }) (remote.js is the other side and
 * describes the messages). It owns one WebAssembly instance and the objects
 * made in it, numbered; it answers each call with the method's value or the
 * error it threw. Typed arrays in an answer (probabilities, model bytes)
 * are transferred, not copied. */

import { Fit, createRecognizer, createTrainer } from './digits.js';
import { METHODS, errorToMessage } from './remote.js';

const objects = new Map(); /* number -> [kind, object] */
let next = 1;

function register(kind, object) {
  const n = next++;
  objects.set(n, [kind, object]);
  return n;
}

/* The buffers of the typed arrays in value (itself, or one level down),
 * when each spans its whole buffer (so nothing else is moved with it). */
function transferables(value) {
  const out = new Set();
  const add = (v) => {
    if (ArrayBuffer.isView(v) && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength)
      out.add(v.buffer);
  };
  add(value);
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value))
    Object.values(value).forEach(add);
  return [...out];
}

async function create(kind, options) {
  const o = kind === 'recognizer' ? await createRecognizer(options)
    : kind === 'trainer' ? await createTrainer(options) : null;
  if (!o) throw new TypeError(`worker: cannot create "${kind}"`);
  const fields = { simd: o.simd, variant: o.variant, buildInfo: o.buildInfo };
  if (kind === 'trainer') fields.lr = o.lr;
  return { target: register(kind, o), fields };
}

async function call(target, method, args) {
  const entry = objects.get(target);
  if (!entry) throw new TypeError(`worker: no object ${target} (disposed?)`);
  const [kind, o] = entry;
  if (method === 'dispose') {
    objects.delete(target);
    return o.dispose();
  }
  const allowed = METHODS[kind].includes(method) ||
    (kind === 'recognizer' && (method === 'predict' || method === 'readNumber')) || (kind === 'trainer' && method === 'fit');
  if (!allowed) throw new TypeError(`worker: ${kind} has no method "${method}"`);
  const value = await o[method](...args);
  return value instanceof Fit ? { remote: register('fit', value) } : value;
}

self.onmessage = async (e) => {
  const { id, target, method, args } = e.data;
  try {
    const value = method === 'create' ? await create(target, args[0])
      : await call(target, method, args);
    self.postMessage({ id, ok: true, value }, transferables(value));
  } catch (err) {
    self.postMessage({ id, ok: false, error: errorToMessage(err) });
  }
};
