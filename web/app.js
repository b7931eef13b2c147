/* app.js: the page's shell. Wires the pad (draw.js) to the recogniser
 * (lib/digits.js, the only way into WebAssembly), shows the reading (digit,
 * confidence, bars, the 28x28 input; or, when the pad holds several digits
 * side by side, the number with each digit boxed on the pad and the unsure
 * ones marked), the model chooser, the random MNIST
 * digit button, online/offline state and the service worker's
 * "update available" prompt.
 *
 * Photos (photo.js: a file, a dropped or pasted image, the camera) are read
 * by the same recogniser and shown in the same reading; the photo takes the
 * pad's square until the pad is touched again.
 *
 * The training panel (train.js) mounts in the "extra" area once the
 * recogniser is ready and reaches the page through the hooks at the end
 * (use a trained model, list a saved one, back to the default); each new
 * reading is also announced as a "digits:reading" event on document.
 *
 * URL parameters: ?simd=0|1|relaxed forces a build (README.md), ?model=NAME
 * picks a shipped model.
 */
import { createRecognizer, preferredBuild } from './lib/digits.js';
import { FIT, Pad, SNAPSHOT, parseColor } from './draw.js';
import { mountPhoto } from './photo.js';
import { mountSaved } from './install.js';

const UNSURE = 0.6;        /* below this confidence the guess is shown as "?" */
const INTERVAL = 50;       /* ms between live predictions while drawing */

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

const ui = {
  pred: $('prediction'), conf: $('confidence'), msg: $('msg'), bars: $('bars'),
  input: $('input'), undo: $('undo'), clear: $('clear'), random: $('random'),
  model: $('model'), modelInfo: $('model-info'), build: $('build'), net: $('net'),
  sampleNote: $('sample-note'), hint: $('pad-hint'), error: $('error'), corner: $('pad-reading'),
  boxes: $('pad-boxes'),
};

/* The corner copy of the reading over the pad (shown on small screens). */
function showCorner(state, digit, conf) {
  ui.corner.dataset.state = state;
  ui.corner.firstElementChild.textContent = digit;
  ui.corner.lastElementChild.textContent = conf;
}

let recognizer = null;
let models = [];
let sample = null;           /* {labels, images, count, px} once fetched */
let busy = false, pending = false, lastRun = 0, frame = 0;
let midStroke = false;       /* the last pad change was a stroke still being drawn */
let photoShown = false;      /* the reading is a photo's, not the pad's */
let announceNext = false;    /* a stroke ended: say the next reading aloud */
let quietPad = false;        /* the pad is being cleared for a photo */

/* ---- reading display ---- */

function makeBars() {
  const frag = document.createDocumentFragment();
  for (let d = 0; d < 10; d++) {
    const li = document.createElement('li');
    li.dataset.digit = String(d);
    li.innerHTML = `<span class="d">${d}</span><span class="track"><span class="fill"></span></span>` +
                   '<span class="p">0%</span>';
    frag.append(li);
  }
  ui.bars.append(frag);
}

function pct(p) {
  return p >= 0.995 ? `${(p * 100).toFixed(0)}%` : `${(p * 100).toFixed(1)}%`;
}

function clearBars() {
  for (const li of ui.bars.children) {
    li.classList.remove('top');
    li.querySelector('.fill').style.transform = 'scaleX(0)';
    li.querySelector('.p').textContent = '';
  }
}

function showEmpty() {
  showBoxes(null);
  ui.pred.dataset.state = 'empty';
  ui.pred.dataset.digit = '';
  ui.pred.textContent = '';
  ui.conf.textContent = '';
  ui.msg.textContent = 'Draw a digit.';
  showCorner('empty', '', '');
  clearBars();
  drawInput(null);
}

/* A photo's reading: as the pad's, except that no ink and several
 * competing shapes show "?" and say what to do, since a photo that reads
 * as nothing is a result, not an empty pad. */
function showPhotoResult(res) {
  showBoxes(null);
  if (!res.empty && !res.uncertain) {
    showResult(res);
    if (ui.pred.dataset.state === 'sure') ui.msg.textContent = `The photo reads as ${res.digit}.`;
    return;
  }
  ui.pred.dataset.state = res.uncertain ? 'uncertain' : 'none';
  ui.pred.dataset.digit = '';
  ui.pred.dataset.confidence = '0';
  ui.pred.textContent = '?';
  ui.pred.setAttribute('aria-label', res.uncertain ? 'several shapes, no reading'
                                                   : 'no digit found');
  ui.conf.textContent = res.uncertain ? 'several candidates' : 'no digit found';
  showCorner('unsure', '?', '');
  ui.msg.textContent = res.uncertain
    ? 'More than one shape could be the digit: photograph one digit, closer, filling the frame.'
    : 'No digit found: write darker or photograph it closer, on plain paper.';
  clearBars();
  drawInput(res.input);
}

function showResult(res) {
  if (res.empty) return showEmpty();
  showBoxes(null);
  const { digit, confidence, probs } = res;
  const sure = confidence >= UNSURE;
  ui.pred.dataset.state = sure ? 'sure' : 'unsure';
  ui.pred.dataset.digit = String(digit);
  ui.pred.dataset.confidence = confidence.toFixed(4);
  if (sure) {
    ui.pred.textContent = String(digit);
    ui.conf.textContent = `${pct(confidence)} sure`;
    ui.msg.textContent = `Reads as ${digit}.`;
  } else {
    ui.pred.innerHTML = `?<small>${digit}</small>`;
    ui.conf.textContent = `unsure: maybe ${digit} (${pct(confidence)})`;
    ui.msg.textContent = 'Not sure what this is.';
  }
  ui.pred.setAttribute('aria-label', sure ? `${digit}, ${pct(confidence)} sure`
                                          : `unsure, maybe ${digit}`);
  showCorner(sure ? 'sure' : 'unsure', sure ? String(digit) : `?${digit}`, pct(confidence));
  for (const li of ui.bars.children) {
    const d = Number(li.dataset.digit);
    li.classList.toggle('top', d === digit);
    li.querySelector('.fill').style.transform = `scaleX(${Math.max(0, Math.min(1, probs[d]))})`;
    li.querySelector('.p').textContent = probs[d] >= 0.001 ? pct(probs[d]) : '';
  }
  drawInput(res.input);
}

/* Several digits (readNumber): the number, each digit boxed on the pad
 * with its reading, the unsure ones marked. */
function showNumber(num) {
  const { number, confidence, digits } = num;
  const unsure = digits.filter((d) => d.uncertain).map((d) => d.digit);
  ui.pred.dataset.state = 'number';
  ui.pred.dataset.digit = '';
  ui.pred.dataset.number = number;
  ui.pred.dataset.confidence = confidence.toFixed(4);
  ui.pred.style.setProperty('--n', String(digits.length));
  ui.pred.replaceChildren(...digits.map((d) => {
    const span = document.createElement('span');
    span.textContent = String(d.digit);
    if (d.uncertain) span.className = 'unsure';
    return span;
  }));
  ui.conf.textContent = unsure.length ? `${unsure.length} of ${digits.length} digits unsure`
    : `${pct(confidence)} sure`;
  ui.msg.textContent = unsure.length ? `Reads as ${number}; check the marked digits.`
    : `Reads as the number ${number}.`;
  ui.pred.setAttribute('aria-label', `the number ${number}` + (unsure.length
    ? `, unsure of ${unsure.length === 1 ? 'one digit' : `${unsure.length} digits`}`
    : `, ${pct(confidence)} sure`));
  showCorner(unsure.length ? 'unsure' : 'sure', number, pct(confidence));
  clearBars();
  drawInput(null);
  showBoxes(num);
}

/* A box over the pad around each digit of a number, with its reading
 * (num: readNumber's result with the snapshot's width and height; null
 * takes them away, and the number from the reading's data-number). */
function showBoxes(num) {
  if (!num) {
    if (ui.boxes.firstChild) ui.boxes.replaceChildren();
    delete ui.pred.dataset.number;
    return;
  }
  const pc = (v, of) => `${((v / of) * 100).toFixed(3)}%`;
  ui.boxes.replaceChildren(...num.digits.map((d) => {
    const [x, y, w, h] = d.box;
    const el = document.createElement('div');
    el.className = 'digit-box';
    el.dataset.digit = String(d.digit);
    el.dataset.uncertain = d.uncertain ? '1' : '0';
    el.style.left = pc(x, num.width);
    el.style.top = pc(y, num.height);
    el.style.width = pc(w, num.width);
    el.style.height = pc(h, num.height);
    const label = document.createElement('b');
    label.textContent = d.uncertain ? `${d.digit}?` : String(d.digit);
    el.append(label);
    return el;
  }));
}

/* The 28x28 input in the pad's colours (ink = 1), as the pad keeps them:
 * reading them from the style here made every reading recompute the
 * page's style, just changed by the reading shown. */
function drawInput(input) {
  const ctx = ui.input.getContext('2d');
  const bg = parseColor(pad.colors.bg), ink = parseColor(pad.colors.ink);
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = input ? Math.max(0, Math.min(1, input[i])) : 0;
    for (let c = 0; c < 3; c++) img.data[i * 4 + c] = Math.round(bg[c] + (ink[c] - bg[c]) * v);
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/* The live region says the shown reading: once per finished stroke,
 * clear, undo, sample or photo, never on the live updates while drawing. */
function announce() {
  announceNext = false;
  const el = $('announce');
  const st = ui.pred.dataset.state;
  el.textContent = st === 'empty' ? 'Pad empty.' : ui.pred.getAttribute('aria-label') ?? '';
}

/* ---- prediction scheduling: at most one per frame and per INTERVAL ----
 * A frame's callbacks and its rendering are one task: a reading run in
 * the frame, with the page's style, layout and paint after it, held the
 * main thread for 65-90 ms at 4x CPU throttling when a newly trained
 * network read the pad (its first readings run in the engine's baseline
 * tier). The frame only paces the readings; each runs in a task of its
 * own, and what it shows is drawn in the next frame. */

function schedule(now = false) {
  if (now) lastRun = 0;
  if (frame) return;
  frame = requestAnimationFrame(tick);
}

function tick(t) {
  frame = 0;
  if (busy) {
    pending = true;
    return;
  }
  if (t - lastRun < INTERVAL) {
    frame = requestAnimationFrame(tick);
    return;
  }
  lastRun = t;
  busy = true;
  setTimeout(run, 0);
}

async function run() {
  busy = true;
  try {
    if (!recognizer) return;
    if (photoShown) return await rereadPhoto();
    const res = pad.isEmpty() ? { empty: true } : await readPad(midStroke);
    if (!res) return;  /* mid-stroke with a number shown: it stays until the stroke ends */
    if (res.number != null) showNumber(res);
    else showResult(res);
    if (announceNext) announce();
    document.dispatchEvent(new CustomEvent('digits:reading', { detail: res }));
  } catch (e) {
    showError(`Prediction failed: ${e.message}`);
  } finally {
    busy = false;
    if (pending) {
      pending = false;
      schedule();
    }
  }
}

/* The pad's reading: the number when the drawing holds several digits
 * side by side (with the snapshot's size, for the boxes), else predict's,
 * exactly as for one digit. One shape cut into digits (touching digits)
 * counts as a number only when the reader is sure of them: a long dash or
 * a scribble is one unsure reading, not a row of guesses. While a stroke
 * is being drawn (live) only predict runs: a half-drawn stroke can cost
 * the number reader tens of ms (a long bar tried as many digits), so the
 * number is read when the stroke ends. */
async function readPad(live) {
  if (live) return ui.pred.dataset.state === 'number' ? null : readDigit();
  wantVerifier();
  const img = pad.snapshot(SNAPSHOT);
  const num = await readNumber(img);
  const oneShape = num.split === num.digits.length - 1;
  if (num.digits.length > 1 && !(oneShape && num.confidence < UNSURE))
    return { ...num, width: img.width, height: img.height };
  /* predict in a task of its own: the two readings in one made a long task
   * on a slow CPU (readNumber alone takes 15-35 ms at 4x throttling until
   * the engine has optimised it) */
  await new Promise((resolve) => setTimeout(resolve, 0));
  return readDigit();
}

/* The pad read as one digit: the number reader needs the whole pad at
 * SNAPSHOT's scale (digits side by side, lines across it), one digit only
 * its ink, FIT px on its longer side (draw.js). */
function readDigit() {
  return recognizer.predict(pad.digitSnapshot(FIT));
}

/* The number reader runs in a worker of its own (createRecognizer's
 * { worker: true }) with the same build and model as the pad's recogniser:
 * reading a drawing as a number tries cuts and reads many pieces when the
 * network is unsure, 50-100 ms on the main thread of a slow phone (4x CPU
 * throttling) with a network just trained. Until the worker is ready, or
 * if it cannot start, the recogniser reads the number itself. */
let reader = null, modelFile = null;

function readNumber(img) {
  return (reader ?? recognizer).readNumber(img);
}

/* The reader's verifiers (models/verifier.safetensors, verifier2 and
 * verifier3: three window readers averaged, 179 + 345 + 180 KiB) are
 * fetched when the first stroke ends, not with the page: a first visit
 * stays light. */
let verifierAsked = false;
function wantVerifier() {
  if (verifierAsked || !reader) return;
  verifierAsked = true;
  const urls = ['verifier', 'verifier2', 'verifier3'].map((v) => new URL(`models/${v}.safetensors`,
                                                            document.baseURI).href);
  reader.loadVerifier(urls).then(() => {
    document.documentElement.dataset.verifier = '1';
    if (!pad.isEmpty()) schedule(true);  /* read again with it */
  }, () => { verifierAsked = false; });
}

async function startReader(file) {
  try {
    const r = await createRecognizer({ worker: true, model: file, verifier: null,
                                       simd: appHooks.simdOption });
    if (modelFile !== file) await r.loadModel(modelFile);  /* switched meanwhile */
    reader = r;
  } catch {
    /* no worker here: the main thread reads numbers */
  }
}

/* The reader loads what the recogniser just loaded; one that fails to is
 * let go (the recogniser reads numbers again). */
async function readerLoad(file) {
  if (!reader) return;
  try {
    await reader.loadModel(file);
  } catch {
    reader.dispose();
    reader = null;
  }
}

/* ---- pad ---- */

const pad = new Pad($('pad'), {
  onChange(kind) {
    ui.undo.disabled = !pad.canUndo();
    ui.hint.hidden = !pad.isEmpty();
    if (quietPad) return;
    leavePhoto();
    if (kind !== 'image' && kind !== 'undo') setSampleNote(null);
    midStroke = kind === 'draw';
    if (midStroke) schedule();
    else {
      announceNext = true;
      schedule(true);
    }
  },
});

function setSampleNote(label) {
  ui.sampleNote.dataset.label = label == null ? '' : String(label);
  ui.sampleNote.textContent = label == null ? '' : `MNIST test digit, labelled ${label}.`;
}

ui.clear.addEventListener('click', () => pad.clear());
ui.undo.addEventListener('click', () => {
  pad.undo();
  if (pad.isEmpty()) setSampleNote(null);
});
/* a field being typed in keeps its own Ctrl+Z and Escape */
function typingIn(t) {
  return t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement ||
    (t instanceof HTMLInputElement && !['button', 'checkbox', 'radio', 'range', 'submit', 'reset',
                                        'file', 'color'].includes(t.type)) ||
    (t instanceof HTMLElement && t.isContentEditable);
}
document.addEventListener('keydown', (e) => {
  if (typingIn(e.target)) return;
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') {
    e.preventDefault();
    ui.undo.click();
  } else if (e.key === 'Escape') {
    pad.clear();
  }
});

/* ---- photos: files, drops, pastes, the camera (photo.js) ---- */

const photo = mountPhoto({
  wrap: $('pad').parentElement, shot: $('shot'), shotCanvas: $('shot-canvas'),
  shotClose: $('shot-close'), take: $('photo-take'), file: $('photo-file'),
  cameraButton: $('camera'), cameraView: $('camera-view'), video: $('camera-video'),
  shutter: $('shutter'), cameraClose: $('camera-close'), message: $('photo-message'),
  panel: $('photo'),
}, {
  ready: () => recognizer !== null,
  read: (img) => recognizer.predict(img),
  show(res) {
    /* the photo replaces the drawing: a pad cleared now starts fresh when
     * the user goes back to drawing */
    quietPad = true;
    try {
      if (!pad.isEmpty()) pad.clear();
    } finally {
      quietPad = false;
    }
    setSampleNote(null);
    photoShown = true;
    showPhotoResult(res);
    announce();
    document.dispatchEvent(new CustomEvent('digits:reading', { detail: res }));
    revealReading();
  },
  close: () => pad.clear(),
});

/* On a phone the reading sits under the pad: after a photo (the user's
 * own action, unlike drawing) bring it into view if it is off screen. */
function revealReading() {
  const r = ui.pred.getBoundingClientRect();
  if (r.top >= 0 && r.bottom <= innerHeight) return;
  const calm = matchMedia('(prefers-reduced-motion: reduce)').matches;
  ui.pred.scrollIntoView({ block: 'nearest', behavior: calm ? 'auto' : 'smooth' });
}

/* The pad is touched (or cleared): its reading takes over again. */
function leavePhoto() {
  photo.hideShot();
  photoShown = false;
}

/* Another model: read the shown photo with it. */
async function rereadPhoto() {
  try {
    await photo.reread();
  } catch (e) {
    showError(`Prediction failed: ${e.message}`);
  }
}

/* ---- random MNIST test digit ---- */

async function loadSample() {
  if (sample) return sample;
  const res = await fetch('build/mnist-sample.bin');
  if (!res.ok) throw new Error(`build/mnist-sample.bin: HTTP ${res.status}`);
  const buf = new Uint8Array(await res.arrayBuffer());
  const dv = new DataView(buf.buffer);
  if (buf.length < 20 || String.fromCharCode(...buf.subarray(0, 4)) !== 'DGMS')
    throw new Error('mnist-sample.bin: not a digit sample file');
  const count = dv.getUint32(8, true), rows = dv.getUint32(12, true), cols = dv.getUint32(16, true);
  const px = rows * cols;
  if (rows !== 28 || cols !== 28 || buf.length !== 20 + count + count * px)
    throw new Error('mnist-sample.bin: wrong size');
  sample = { count, px, labels: buf.subarray(20, 20 + count), images: buf.subarray(20 + count) };
  return sample;
}

let lastSample = -1;
ui.random.addEventListener('click', async () => {
  try {
    const s = await loadSample();
    let i;
    do i = Math.floor(Math.random() * s.count); while (i === lastSample && s.count > 1);
    lastSample = i;
    pad.setDigit(s.images.subarray(i * s.px, (i + 1) * s.px));
    ui.undo.disabled = !pad.canUndo();
    setSampleNote(s.labels[i]);
  } catch (e) {
    showError(`Cannot load MNIST digits: ${e.message}`);
  }
});

/* ---- models ---- */

function kb(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.round(n / 1e3)} kB`;
}

function describe(m) {
  const acc = m.test_accuracy == null ? 'accuracy unknown' : `${(m.test_accuracy * 100).toFixed(2)}%`;
  return `${m.name}${m.arch && m.arch !== m.name ? ` (${m.arch})` : ''}: ${acc}, ${kb(m.size)}`;
}

async function fillModelOptions() {
  ui.model.replaceChildren(...models.map((m, i) => {
    const o = document.createElement('option');
    o.value = String(i);
    o.textContent = describe(m);
    return o;
  }));
}

async function loadModels() {
  try {
    const res = await fetch('build/models.json');
    if (res.ok) models = (await res.json()).models ?? [];
  } catch { /* offline without cache: fall back to the default model */ }
  if (!models.length)
    models = [{ name: 'default', file: 'models/default.safetensors', size: 0, arch: '',
                test_accuracy: null }];
  fillModelOptions();
  const want = params.get('model');
  const i = Math.max(0, models.findIndex((m) => m.name === want));
  ui.model.value = String(i);
  return models[i];
}

function showModelInfo(m) {
  const info = recognizer.info();
  const acc = info.testAccuracy ?? m.test_accuracy;
  ui.modelInfo.textContent =
    `${info.archName ?? m.arch ?? 'model'} · ${info.params.toLocaleString('en')} parameters · ` +
    `${kb(info.bytes || m.size)} · test accuracy ${acc == null ? 'unknown' : `${(acc * 100).toFixed(2)}%`}`;
  document.documentElement.dataset.model = m.name;
}

ui.model.addEventListener('change', () => switchModel(Number(ui.model.value)).catch(() => {}));

/* Load models[i] into the recogniser; on failure the previous model stays
 * (and the promise rejects). */
async function switchModel(i) {
  const m = models[i];
  ui.model.value = String(i);
  const before = document.documentElement.dataset.model;
  ui.model.disabled = true;
  ui.modelInfo.textContent = `loading ${m.name}…`;
  try {
    await recognizer.loadModel(m.file);
    await warmNet();
    modelFile = m.file;
    await readerLoad(m.file);
    showModelInfo(m);
    hideError();
    schedule(true);
  } catch (e) {
    showError(`Cannot load model ${m.name}: ${e.message}`);
    const back = models.findIndex((x) => x.name === before);
    if (back >= 0) {
      ui.model.value = String(back);
      showModelInfo(models[back]);
    }
    throw e;
  } finally {
    ui.model.disabled = false;
  }
}

/* A network's own kernels start in the engine's baseline tier too: a new
 * network runs a batch of blank inputs a few times, each in a task of its
 * own, before it reads the pad (the first reading by a small CNN just
 * trained took 50-70 ms at 4x CPU throttling, in one task). */
async function warmNet(rounds = 3) {
  const x = new Float32Array(16 * recognizer.info().inputSize);
  for (let i = 0; i < rounds; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    recognizer.predictBatch(x);
  }
}

/* ---- hooks for the training panel (train.js) ---- */

/* Add or replace (by name) a model given as bytes in the chooser; returns its index. */
function addModel(entry) {
  let i = models.findIndex((m) => m.name === entry.name);
  if (i < 0) i = models.push(entry) - 1;
  else models[i] = entry;
  const keep = ui.model.value;
  fillModelOptions();
  ui.model.value = keep;
  return i;
}

const appHooks = {
  get simd() { return recognizer.simd; },
  /* the build in use, as loadModule's simd option (for the worker) */
  get simdOption() { return { relaxed: 'relaxed', simd: true, plain: false }[recognizer.variant]; },
  addModel,
  /* list the entry and make it the pad's model; a model that does not load
   * is taken off the list again and the promise rejects */
  async useModel(entry) {
    const had = models.some((m) => m.name === entry.name);
    const i = addModel(entry);
    try {
      await switchModel(i);
    } catch (e) {
      if (!had) {
        models.splice(i, 1);
        const keep = ui.model.value;
        fillModelOptions();
        ui.model.value = keep;
      }
      throw e;
    }
    return recognizer.info();
  },
  useDefault: () => switchModel(Math.max(0, models.findIndex((m) => m.name === 'default'))),
  modelBytes: () => recognizer.saveModel(),
  clearPad: () => pad.clear(),
};

async function mountPanel() {
  try {
    const { mountTrainPanel } = await import('./train.js');
    mountTrainPanel($('extra'), appHooks);
    mountSaved($('extra'));
  } catch (e) {
    showError(`Cannot start the training panel: ${e.message}`);
  }
}

/* ---- status, errors ---- */

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = false;
}
function hideError() {
  ui.error.hidden = true;
}

function updateOnline() {
  ui.net.hidden = navigator.onLine;
  document.documentElement.dataset.online = navigator.onLine ? '1' : '0';
}
addEventListener('online', updateOnline);
addEventListener('offline', updateOnline);

/* ---- service worker: offline use and the update prompt ---- */

function toast(text, action, onAction) {
  $('toast-text').textContent = text;
  const b = $('toast-action');
  b.hidden = !action;
  b.textContent = action || '';
  b.onclick = onAction;
  $('toast').hidden = false;
}
$('toast-close').addEventListener('click', () => { $('toast').hidden = true; });

async function registerSW() {
  if (!('serviceWorker' in navigator) || params.get('sw') === '0') return;
  let reg;
  try {
    /* the worker precaches only the build feature detection picks here
     * (not ?simd=0's: that one is cached when fetched) */
    reg = await navigator.serviceWorker.register(`sw.js?build=${preferredBuild()}`);
  } catch (e) {
    console.info(`service worker not registered: ${e.message}`);
    return;
  }
  if (!reg) return;  /* registration blocked (an automated browser) */
  let reloading = false;
  const offerUpdate = (worker) => {
    toast('Update available', 'Reload', () => {
      reloading = true;
      worker.postMessage({ type: 'SKIP_WAITING' });
    });
  };
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading) location.reload();
  });
  if (reg.waiting && navigator.serviceWorker.controller) offerUpdate(reg.waiting);
  reg.addEventListener('updatefound', () => {
    const w = reg.installing;
    w?.addEventListener('statechange', () => {
      if (w.state !== 'installed') return;
      if (navigator.serviceWorker.controller) offerUpdate(w);
      else {
        document.documentElement.dataset.offlineReady = '1';
        toast('Ready to work offline', null, null);
        setTimeout(() => { if ($('toast-action').hidden) $('toast').hidden = true; }, 4000);
      }
    });
  });
  navigator.serviceWorker.ready.then(() => {
    document.documentElement.dataset.offlineReady = '1';
  });
}

/* ---- start ---- */

async function main() {
  makeBars();
  showEmpty();
  updateOnline();
  const simdParam = params.get('simd');
  const simd = simdParam === '0' ? false : simdParam === '1' ? true
    : simdParam === 'relaxed' ? 'relaxed' : 'auto';
  const m = await loadModels();
  try {
    /* no verifier here: the reader worker reads numbers (startReader) */
    recognizer = await createRecognizer({ model: m.file, simd, verifier: null });
    modelFile = m.file;
  } catch (e) {
    showError(`Cannot start the recogniser: ${e.message}`);
    ui.build.textContent = 'not loaded';
    return;
  }
  document.documentElement.dataset.simd = recognizer.simd ? '1' : '0';
  document.documentElement.dataset.build = recognizer.variant;
  ui.build.textContent = { relaxed: 'WASM SIMD+FMA', simd: 'WASM SIMD', plain: 'WASM plain' }[
    recognizer.variant];
  ui.build.title = recognizer.buildInfo || ui.build.title;
  showModelInfo(m);
  ui.model.disabled = false;
  ui.random.disabled = false;
  document.documentElement.dataset.ready = '1';
  schedule(true);
  registerSW();
  mountPanel();
  startReader(m.file).then(() => warmUp());
}

/* WebAssembly starts in the engine's baseline tier and its functions are
 * compiled on their first call, then optimised once they have run enough:
 * the first reading of a drawing took 10-20 times a later one, and the
 * first dozen readings of the number reader 6 times (a long task at the end
 * of a stroke on a slow CPU). So while the page is idle after loading, the
 * pad's two readings run on made-up drawings (never shown; an "11" for the
 * number reader, a "1" FIT px high for predict, as readPad hands them), one
 * round per idle moment, while nothing is drawn and no reading is running,
 * until a round is no slower than the fastest so far (at least 3 rounds, at
 * most 16); html[data-warm="1"] when done. */
function warmUp(round = 0, best = Infinity) {
  const idle = globalThis.requestIdleCallback ?? ((f) => setTimeout(f, 50));
  idle(async () => {
    if (round >= 16 || busy || !pad.isEmpty() || photoShown) {
      document.documentElement.dataset.warm = '1';
      return;
    }
    if (round === 0) pad.prepare(SNAPSHOT);
    const s = SNAPSHOT;
    const eleven = bars(2 * s, s, [Math.round(0.79 * s), Math.round(1.18 * s)], Math.round(s / 20));
    const one = bars(FIT, 2 * FIT, [Math.round(FIT / 2) - 1], 3);
    const t0 = performance.now();
    try {
      await readNumber(eleven);
      await recognizer.predict(one);
    } catch {
      return;  /* a real reading reports errors */
    }
    const ms = performance.now() - t0;
    if (round >= 2 && ms <= 1.2 * best) {
      document.documentElement.dataset.warm = '1';
      return;
    }
    warmUp(round + 1, Math.min(best, ms));
  });
}

/* A w x h image of vertical bars on white paper, pen px wide, starting at
 * the columns xs, over the middle half of its height. */
function bars(w, h, xs, pen) {
  const img = new ImageData(w, h);
  img.data.fill(255);
  for (let y = Math.round(h / 4); y < Math.round((3 * h) / 4); y++)
    for (const x0 of xs)
      for (let x = x0; x < x0 + pen; x++) img.data.fill(0, (y * w + x) * 4, (y * w + x) * 4 + 3);
  return img;
}

main();
