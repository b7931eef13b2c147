/* remote.js: createRecognizer / createTrainer with { worker: true }. The
 * module runs in a Web Worker of its own (digits-worker.js) and the objects
 * handed back here forward each method call to it as a message: the same
 * API with every method returning a promise, and the main thread never runs
 * the network. Images are turned into pixels here (a canvas or an <img>
 * cannot cross to a worker) except Blobs, which the worker decodes; our own
 * pixel copies are transferred, not copied. dispose() terminates the worker,
 * which frees all of its memory at once.
 *
 * The protocol, one message each way per call:
 *   -> {id, target, method, args}   target: 'recognizer' | 'trainer' with
 *                                   method 'create', else an object's number
 *   <- {id, ok: true, value} | {id, ok: false, error: {name, message, code,
 *                                                      codeName}}
 * A value {remote: n} is an object living in the worker (a Fit). */

import { Status } from './constants.js';
import { DISPOSE, DigitsError, disposedError } from './errors.js';
import { isBlob, toPixels } from './image.js';

/* The methods each kind forwards as they are (predict, readNumber, fit and dispose
 * have their own), also the worker's list of what may be called. */
export const METHODS = Object.freeze({
  recognizer: ['loadModel', 'loadVerifier', 'info', 'predictInput', 'predictBatch', 'evaluate',
               'saveModel'],
  trainer: ['setLearningRate', 'setAugment', 'trainBatch', 'augment', 'evaluate', 'predictBatch',
            'predictInput', 'info', 'saveModel'],
  fit: ['beginEpoch', 'step', 'endEpoch', 'finish', 'progress'],
});

/* An error as it crosses from the worker, and back into an Error. */
export function errorToMessage(e) {
  return { name: e?.name ?? 'Error', message: String(e?.message ?? e), code: e?.code,
           codeName: e?.codeName };
}

function messageToError(m) {
  if (m.name === 'DigitsError') return new DigitsError(m.message, m.code, m.codeName);
  const E = { TypeError, RangeError }[m.name] ?? Error;
  return new E(m.message);
}

/* The worker: at workerUrl if given, else digits-worker.js beside this file
 * (the literal form bundlers recognize and bundle as a worker). */
function startWorker(workerUrl) {
  if (typeof Worker !== 'function')
    throw new DigitsError('worker: true needs Web Workers (a browser)', Status.ARG);
  if (workerUrl != null) return new Worker(workerUrl, { type: 'module', name: 'digits' });
  return new Worker(new URL('./digits-worker.js', import.meta.url), { type: 'module', name: 'digits' });
}

/* Calls to one worker and their answers. */
class Channel {
  constructor(worker) {
    this.worker = worker;
    this.next = 1;
    this.pending = new Map(); /* id -> {resolve, reject} */
    this.closed = null;       /* the error every call gets once closed */
    worker.onmessage = (e) => {
      const { id, ok, value, error } = e.data;
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (ok) p.resolve(value);
      else p.reject(messageToError(error));
    };
    worker.onerror = (e) => {
      e.preventDefault?.();
      this.fail(new DigitsError(`worker: ${e.message || 'digits-worker.js failed to load ' +
                                '(is it served, as JavaScript?)'}`, Status.IO));
    };
    worker.onmessageerror = () =>
      this.fail(new DigitsError('worker: a message could not be read', Status.IO));
  }

  call(target, method, args, transfer = []) {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, target, method, args }, transfer);
    });
  }

  /* Reject every pending and later call with err. */
  fail(err) {
    this.closed ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  close(err) {
    this.fail(err);
    this.worker.terminate();
  }
}

/* An object in the worker: kind's methods forwarded, each a promise. */
class Remote {
  constructor(channel, target, what) {
    this.channel = channel;
    this.target = target;
    this.what = what;
    this.disposed = false;
  }

  call(method, args, transfer) {
    if (this.disposed) return Promise.reject(disposedError(this.what));
    return this.channel.call(this.target, method, args, transfer);
  }

  [DISPOSE]() { this.dispose(); }

  /* The same as dispose(). */
  free() { this.dispose(); }
}

/* kind's methods on cls, but for those cls defines itself. */
function forward(cls, kind) {
  for (const m of METHODS[kind].filter((name) => !Object.hasOwn(cls.prototype, name)))
    Object.defineProperty(cls.prototype, m, {
      value: function (...args) { return this.call(m, args); }, writable: true, configurable: true,
    });
}

/* A training run in the worker (Trainer.fit). */
export class RemoteFit extends Remote {
  /* Free the run's data in the worker (the trainer stays). */
  dispose() {
    if (this.disposed) return;
    this.disposed = true;
    this.channel.call(this.target, 'dispose', []).catch(() => {});
  }
}
forward(RemoteFit, 'fit');

/* What both kinds share: the build fields, and dispose() ending the
 * worker. */
class RemoteRoot extends Remote {
  constructor(channel, target, what, fields) {
    super(channel, target, what);
    Object.assign(this, fields);
  }

  /* Terminate the worker (all its memory goes with it); pending and later
   * calls reject with a DigitsError. */
  dispose() {
    if (this.disposed) return;
    this.disposed = true;
    this.channel.close(disposedError(this.what));
  }
}

/* createRecognizer({ worker: true }): Recognizer's methods, as promises. */
export class RemoteRecognizer extends RemoteRoot {
  /* An image -> the same result as Recognizer.predict. */
  predict(image) { return this.withImage('predict', image); }

  /* An image -> the same result as Recognizer.readNumber. */
  readNumber(image) { return this.withImage('readNumber', image); }

  /* Call method with an image as its pixels (a Blob as it is: the worker
   * decodes it). */
  async withImage(method, image) {
    if (this.disposed) throw disposedError(this.what);
    if (isBlob(image)) return this.call(method, [image]);
    const px = await toPixels(image);
    /* pixels we made (from a canvas, an <img>, ...) move to the worker */
    const own = px !== image && ArrayBuffer.isView(px.data);
    return this.call(method, [{ data: px.data, width: px.width, height: px.height }],
                     own ? [px.data.buffer] : []);
  }

  /* predictSync does not exist across a worker: predict. */
  predictSync() {
    throw new DigitsError('predictSync: not with { worker: true } (use predict)', Status.ARG);
  }

  /* Nor readNumberSync: readNumber. */
  readNumberSync() {
    throw new DigitsError('readNumberSync: not with { worker: true } (use readNumber)',
                          Status.ARG);
  }
}
forward(RemoteRecognizer, 'recognizer');

/* createTrainer({ worker: true }): Trainer's methods, as promises. */
export class RemoteTrainer extends RemoteRoot {
  async setLearningRate(lr) {
    await this.call('setLearningRate', [lr]);
    this.lr = lr;
  }

  /* A training run in the worker: a RemoteFit (Fit's methods, as
   * promises). */
  async fit(x, labels, opts) {
    const { remote } = await this.call('fit', [x, labels, opts]);
    return new RemoteFit(this.channel, remote, 'fit');
  }
}
forward(RemoteTrainer, 'trainer');

/* Start a worker and create a kind ('recognizer' or 'trainer') in it from
 * options whose URLs are absolute (digits.js remoteOptions); workerUrl:
 * where digits-worker.js is, if not beside this file. */
export async function createRemote(kind, { workerUrl, ...options }) {
  const channel = new Channel(startWorker(workerUrl));
  try {
    const { target, fields } = await channel.call(kind, 'create', [options]);
    return kind === 'recognizer'
      ? new RemoteRecognizer(channel, target, 'recognizer', fields)
      : new RemoteTrainer(channel, target, 'trainer', fields);
  } catch (e) {
    channel.close(e);
    throw e;
  }
}
