/* train.js: the training panel in the page's "extra" area. Opening it
 * fetches the MNIST subset (subset.js format; kept in the Cache API
 * "digits-data" for offline use) and hands the file to train-worker.js,
 * which checks, decompresses and trains on it; this file only draws:
 * controls, progress, images/s, a loss and accuracy chart, a grid of test
 * digits with guesses, a confusion-matrix heat map. A finished run becomes
 * the pad's model at once; it can be saved
 * in IndexedDB (store.js), downloaded as .safetensors, and any model file
 * can be loaded (an .onnx one is converted in WebAssembly by the C importer
 * and kept as the digits file it became). A second section labels drawings as personal examples and
 * fine-tunes the current model on them.
 *
 *   mountTrainPanel(host, app)   app: the page's hooks (see app.js)
 */
import * as store from './store.js';

const SUBSET_URL = new URL('./build/mnist-subset.bin', import.meta.url).href;
const DATA_CACHE = 'digits-data';
const FETCH_TIMEOUT = 60000;

export const ARCHS = {
  mlp: { label: 'mlp (784-128-64-10)', arch: 'mlp' },
  'small-cnn': { label: 'small CNN (conv 8, conv 16)',
                 arch: 'input 28 28 1; conv 8 5 valid; relu; maxpool 2; conv 16 5 valid; relu; ' +
                       'maxpool 2; flatten; dense 10; softmax' },
  lenet5: { label: 'lenet5', arch: 'lenet5' },
  logreg: { label: 'logreg (784-10)', arch: 'logreg' },
};

const pct = (p, d = 1) => (p == null ? '–' : `${(p * 100).toFixed(d)}%`);

const HTML = `
<details class="panel train" data-testid="train-panel" id="train-panel">
  <summary>Train a network in your browser</summary>
  <div class="data-status">
    <span id="tr-data" data-testid="data-status" aria-live="polite">The training data (10,000 MNIST digits) loads when you open this panel.</span>
    <button type="button" id="tr-retry" data-testid="data-retry" hidden>Retry</button>
  </div>
  <form class="tr-form" id="tr-form">
    <label>Network <select id="tr-arch" data-testid="train-arch">
      ${Object.entries(ARCHS).map(([k, a]) => `<option value="${k}">${a.label}</option>`).join('')}
    </select></label>
    <label>Epochs <input id="tr-epochs" data-testid="train-epochs" type="number" min="1" max="50" value="3"></label>
    <label>Batch <select id="tr-batch" data-testid="train-batch">
      ${[16, 32, 64, 128].map((b) => `<option${b === 32 ? ' selected' : ''}>${b}</option>`).join('')}
    </select></label>
    <label>Learning rate <select id="tr-lr" data-testid="train-lr">
      ${['0.0003', '0.001', '0.002', '0.005'].map((v) => `<option${v === '0.001' ? ' selected' : ''}>${v}</option>`).join('')}
    </select></label>
  </form>
  <div class="tr-buttons">
    <button type="button" id="tr-start" data-testid="train-start" class="primary" disabled>Start</button>
    <button type="button" id="tr-pause" data-testid="train-pause" disabled>Pause</button>
    <button type="button" id="tr-resume" data-testid="train-resume" disabled>Resume</button>
    <button type="button" id="tr-stop" data-testid="train-stop" disabled>Stop</button>
  </div>
  <div class="tr-stats">
    <progress id="tr-progress" data-testid="train-progress" max="1" value="0"></progress>
    <span id="tr-epoch" data-testid="train-epoch">epoch –</span>
    <span id="tr-ips" data-testid="images-per-second">– images/s</span>
    <span>validation accuracy <strong id="tr-val" data-testid="val-accuracy">–</strong></span>
    <span>test accuracy <strong id="tr-acc" data-testid="test-accuracy">–</strong></span>
  </div>
  <div class="tr-charts">
    <figure><canvas id="tr-chart" data-testid="train-chart" width="480" height="220" role="img"
      aria-label="Training curves"></canvas>
      <figcaption>training loss (orange), training accuracy (blue), test accuracy per epoch (dots)</figcaption></figure>
    <figure><canvas id="tr-grid" data-testid="test-grid" width="320" height="240" role="img"
      aria-label="Test digits and the network's guesses"></canvas>
      <figcaption>test digits and the network's guesses (red: wrong)</figcaption></figure>
    <figure><canvas id="tr-confusion" data-testid="confusion" width="240" height="240" role="img"
      aria-label="Confusion matrix"></canvas>
      <figcaption>confusion matrix (rows: true digit, columns: guess)</figcaption></figure>
  </div>
  <div class="tr-buttons">
    <button type="button" id="tr-default" data-testid="use-default">Back to the default model</button>
    <button type="button" id="tr-save" data-testid="model-save" disabled>Save in this browser</button>
    <button type="button" id="tr-download" data-testid="model-download" disabled>Download .safetensors</button>
    <label class="file">Load a model file <input type="file" id="tr-file" data-testid="model-file" accept=".safetensors,.onnx,application/octet-stream"></label>
  </div>
  <p class="note" id="tr-note" data-testid="train-note" aria-live="polite"></p>
</details>
<details class="panel personal" data-testid="personal-panel" id="personal-panel">
  <summary>Teach it your handwriting</summary>
  <p class="note">Draw a digit on the pad, then tap what it is. The guess is outlined: tap another digit to correct it.</p>
  <div class="labels" id="pe-labels">
    ${[...Array(10).keys()].map((d) => `<button type="button" data-label="${d}" data-testid="label-${d}" disabled>${d}</button>`).join('')}
  </div>
  <p class="note"><span id="pe-count" data-testid="example-count">0</span> examples stored in this browser.</p>
  <ul class="examples" id="pe-list" data-testid="example-list"></ul>
  <div class="tr-buttons">
    <button type="button" id="pe-export" data-testid="examples-export" disabled>Export</button>
    <label class="file">Import <input type="file" id="pe-import" data-testid="examples-import" accept=".json,application/json"></label>
    <label>Epochs <input id="pe-epochs" type="number" min="1" max="20" value="3"></label>
    <button type="button" id="pe-finetune" data-testid="finetune" class="primary" disabled>Fine-tune</button>
  </div>
  <p class="note" id="pe-result" data-testid="finetune-result" aria-live="polite"></p>
</details>`;

/* The panel's elements by role. */
function findElements(host) {
  const $ = (id) => host.querySelector(`#${id}`);
  return {
    panel: $('train-panel'), data: $('tr-data'), retry: $('tr-retry'), arch: $('tr-arch'),
    epochs: $('tr-epochs'), batch: $('tr-batch'), lr: $('tr-lr'), start: $('tr-start'),
    pause: $('tr-pause'), resume: $('tr-resume'), stop: $('tr-stop'), progress: $('tr-progress'),
    epoch: $('tr-epoch'), ips: $('tr-ips'), acc: $('tr-acc'), valAcc: $('tr-val'),
    chart: $('tr-chart'), grid: $('tr-grid'), confusion: $('tr-confusion'),
    useDefault: $('tr-default'), save: $('tr-save'), download: $('tr-download'),
    file: $('tr-file'), note: $('tr-note'), personal: $('personal-panel'),
    labels: $('pe-labels'), count: $('pe-count'), list: $('pe-list'), exp: $('pe-export'),
    imp: $('pe-import'), ftEpochs: $('pe-epochs'), finetune: $('pe-finetune'),
    ftResult: $('pe-result'),
  };
}

/* Offer bytes or a blob as a file download. */
function download(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

/* The panels' state and behaviour; the worker does the work. */
class TrainPanel {
  constructor(host, app) {
    host.insertAdjacentHTML('beforeend', HTML);
    this.app = app;
    this.ui = findElements(host);
    this.worker = null;
    this.dataState = 'none';   /* none | loading | ready | error */
    this.running = null;       /* 'train' | 'finetune' while the worker works */
    this.last = null;          /* {bytes, name, arch, testAccuracy} of the last result */
    this.curve = [];
    this.testPoints = [];
    this.epochs = 1;
    this.drawQueued = false;
    this.dataWaiters = [];
    /* Runs are seeded 1, 2, 3, ... in the order they start: the same
     * settings give the same network on every page load, as the CLI's
     * --seed does, and each run of a session starts differently. */
    this.runs = 0;
    this.examples = [];
    this.reading = null;       /* the pad's latest reading (app.js 'digits:reading') */
    this.wireData();
    this.wireTraining();
    this.wireModels();
    this.wirePersonal();
    this.setRunning(null);
    this.refreshExamples();
  }

  note(text) { this.ui.note.textContent = text; }

  /* ---- the worker ---- */

  getWorker() {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
    this.worker = w;
    w.postMessage({ type: 'init', simd: this.app.simdOption,
                    warm: Object.values(ARCHS).map((a) => a.arch) });
    const handlers = this.handlers();
    w.onmessage = ({ data: m }) => handlers[m.type]?.(m);
    w.onerror = (e) => {
      this.note(`The training worker failed: ${e.message ?? 'could not start'}`);
      this.setRunning(null);
    };
    return w;
  }

  handlers() {
    const ui = this.ui;
    return {
      ready: (m) => {
        this.dataState = 'ready';
        ui.data.textContent = `${m.ntrain.toLocaleString('en')} training and ` +
                              `${m.ntest.toLocaleString('en')} test digits ready ` +
                              `(${m.nval.toLocaleString('en')} more validate).`;
        ui.panel.dataset.data = 'ready';
        this.dataWaiters.splice(0).forEach((w) => w.resolve());
        this.setRunning(this.running);
      },
      'data-error': (m) => this.dataRefused(m.message),
      state: (m) => {
        ui.panel.dataset.state = m.state;
        if (m.state === 'idle') this.setRunning(null);
        else if (this.running === 'train') {
          ui.pause.disabled = m.state !== 'running';
          ui.resume.disabled = m.state !== 'paused';
        }
      },
      progress: (m) => this.onProgress(m),
      epoch: (m) => this.onEpoch(m),
      done: (m) => this.onDone(m),
      finetuned: async (m) => {
        const arch = m.arch || 'model';
        this.last = { bytes: m.bytes, name: 'fine-tuned', arch, testAccuracy: m.testAfter };
        ui.ftResult.textContent = `Your ${m.n} examples: ${pct(m.before)} → ${pct(m.after)}; ` +
          `MNIST test digits: ${pct(m.testBefore)} → ${pct(m.testAfter)}. The pad now uses the ` +
          'fine-tuned model.';
        ui.ftResult.dataset.before = m.before.toFixed(4);
        ui.ftResult.dataset.after = m.after.toFixed(4);
        await this.useResult(this.last);
      },
      'ft-progress': (m) => {
        ui.ftResult.textContent = `Fine-tuning… ${Math.round(m.done * 100)}%`;
      },
      error: (m) => {
        if (this.running === 'finetune') ui.ftResult.textContent = `Fine-tuning failed: ${m.message}`;
        else this.note(`Training failed: ${m.message}`);
      },
    };
  }

  onProgress(m) {
    const ui = this.ui;
    this.epochs = m.epochs;
    ui.progress.value = m.seen / m.ntrain;
    ui.progress.dataset.step = String(m.step);
    ui.epoch.textContent = `epoch ${m.epoch + 1}/${m.epochs} · loss ${m.loss.toFixed(3)} · ` +
                           `accuracy ${pct(m.acc)}`;
    ui.ips.textContent = `${Math.round(m.ips).toLocaleString('en')} images/s`;
    ui.ips.dataset.value = String(Math.round(m.ips));
    this.curve.push(...m.points);
    this.queueChart();
  }

  onEpoch(m) {
    const ui = this.ui;
    ui.acc.textContent = pct(m.testAccuracy);
    ui.acc.dataset.value = m.testAccuracy.toFixed(4);
    ui.acc.dataset.correct = String(m.correct);
    if (m.valAccuracy != null) {
      ui.valAcc.textContent = pct(m.valAccuracy);
      ui.valAcc.dataset.value = m.valAccuracy.toFixed(4);
    }
    if (!m.partial) {
      this.testPoints.push({ x: m.epoch + 1, acc: m.testAccuracy });
      ui.ips.dataset.epochValue = String(Math.round(m.ips));
      ui.panel.dataset.epochs = String(m.epoch + 1);
    }
    this.queueChart();
    later(() => drawGrid(ui.grid, m.grid));
    later(() => drawConfusion(ui.confusion, m.confusion));
    ui.chart.setAttribute('aria-label', `Training curves; test accuracy ${pct(m.testAccuracy)}`);
    ui.grid.setAttribute('aria-label', `${m.grid.labels.length} test digits, ` +
      `${m.grid.labels.filter((l, i) => l !== m.grid.guesses[i]).length} guessed wrong`);
    ui.confusion.setAttribute('aria-label', `Confusion matrix: ${m.correct} of ${m.n} test digits right`);
  }

  async onDone(m) {
    const ui = this.ui;
    this.last = { bytes: m.bytes, name: 'trained in browser', arch: m.arch,
                  testAccuracy: m.testAccuracy };
    const kept = m.bestEpoch ? ` It kept the weights of epoch ${m.bestEpoch} (best validation loss).` : '';
    this.note(`${m.stopped ? 'Stopped' : 'Finished'}: ${(m.images).toLocaleString('en')} images in ` +
              `${m.seconds.toFixed(1)} s of training (${Math.round(m.ips).toLocaleString('en')} ` +
              `images/s), test accuracy ${pct(m.testAccuracy)}.${kept} The pad now uses this network.`);
    ui.panel.dataset.ips = String(Math.round(m.ips));
    /* after the epoch's drawings, in a task of its own; done once the pad
     * uses the new network */
    await new Promise((resolve) => later(resolve));
    await this.useResult(this.last);
    ui.panel.dataset.done = String(Number(ui.panel.dataset.done ?? 0) + 1);
  }

  async useResult(r) {
    try {
      await this.app.useModel({ name: r.name, file: r.bytes, size: r.bytes.length, arch: r.arch,
                                test_accuracy: r.testAccuracy });
      this.ui.save.disabled = this.ui.download.disabled = false;
    } catch (e) {
      this.note(`Cannot use the trained model: ${e.message}`);
    }
  }

  setRunning(what) {
    const ui = this.ui;
    this.running = what;
    const ready = this.dataState === 'ready';
    ui.start.disabled = !ready || !!what;
    ui.pause.disabled = what !== 'train';
    ui.resume.disabled = true;
    ui.stop.disabled = !what;
    ui.finetune.disabled = !!what;
    for (const el of [ui.arch, ui.epochs, ui.batch, ui.lr]) el.disabled = !!what;
    if (!what) ui.panel.dataset.state = 'idle';
  }

  /* ---- the data: fetched once, validated, cached for offline use ---- */

  dataFailed(message) {
    const ui = this.ui;
    this.dataState = 'error';
    ui.panel.dataset.data = 'error';
    ui.data.textContent = `Cannot load the training data: ${message}`;
    ui.data.classList.add('bad');
    ui.retry.hidden = false;
    this.dataWaiters.splice(0).forEach((w) => w.reject(new Error(message)));
    this.setRunning(this.running);
  }

  /* The subset file from the network, as a Blob: the browser keeps its
   * bytes and the worker reads them (read here chunk by chunk, for a
   * progress figure, and joined, they held the main thread in long tasks
   * on a slow phone as the download ended). */
  async fetchSubset() {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT);
    try {
      const res = await fetch(SUBSET_URL, { signal: ctl.signal, cache: 'no-cache' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return await res.blob();
    } catch (e) {
      throw new Error(e.name === 'AbortError' ? `no answer in ${FETCH_TIMEOUT / 1000} s` :
                      `download failed (${e.message})`);
    } finally {
      clearTimeout(timer);
    }
  }

  /* The subset file from the cache, else the network (then cached):
   * {buf (a Blob), cached}. The worker checks and decompresses it (its
   * checksum and 9 MB inflated here held the main thread for hundreds of ms
   * on a slow phone); a file it refuses leaves the cache (dataRefused). */
  async subset() {
    const cache = 'caches' in self ? await caches.open(DATA_CACHE).catch(() => null) : null;
    const hit = await cache?.match(SUBSET_URL).catch(() => null);
    if (hit) return { buf: await hit.blob(), cached: true };
    const buf = await this.fetchSubset();
    await cache?.put(SUBSET_URL, new Response(buf, {
      headers: { 'content-type': 'application/octet-stream' } })).catch(() => {});
    return { buf, cached: false };
  }

  /* The worker refused the file: forget the cached copy; a copy that came
   * from the cache is downloaded again at once, a fresh download fails. */
  async dataRefused(message) {
    const cache = 'caches' in self ? await caches.open(DATA_CACHE).catch(() => null) : null;
    await cache?.delete(SUBSET_URL).catch(() => {});
    if (!this.fromCache) return this.dataFailed(message);
    this.fromCache = false;
    this.dataState = 'none';
    return this.loadData();
  }

  async loadData() {
    const ui = this.ui;
    if (this.dataState === 'loading' || this.dataState === 'ready') return;
    this.dataState = 'loading';
    ui.panel.dataset.data = 'loading';
    ui.retry.hidden = true;
    ui.data.classList.remove('bad');
    ui.data.textContent = 'Loading the training data…';
    const worker = this.getWorker();
    try {
      const { buf, cached } = await this.subset();
      this.fromCache = cached;
      worker.postMessage({ type: 'file', buf });
    } catch (e) {
      this.dataFailed(e.message);
    }
  }

  dataReady() {
    if (this.dataState === 'ready') return Promise.resolve();
    this.loadData();
    return new Promise((resolve, reject) => this.dataWaiters.push({ resolve, reject }));
  }

  wireData() {
    const ui = this.ui;
    ui.panel.addEventListener('toggle', () => { if (ui.panel.open) this.loadData(); });
    ui.retry.addEventListener('click', () => this.loadData());
  }

  /* ---- training controls ---- */

  wireTraining() {
    const ui = this.ui;
    ui.start.addEventListener('click', () => {
      const a = ARCHS[ui.arch.value];
      const ep = Math.max(1, Math.min(50, Math.round(Number(ui.epochs.value) || 1)));
      this.curve = [];
      this.testPoints = [];
      this.epochs = ep;
      for (const el of [ui.acc, ui.valAcc]) {
        el.textContent = '–';
        delete el.dataset.value;
      }
      ui.progress.value = 0;
      this.note('');
      this.setRunning('train');
      ui.panel.dataset.state = 'running';
      this.queueChart();
      this.getWorker().postMessage({
        type: 'start', arch: a.arch, archLabel: ui.arch.value, epochs: ep,
        batch: Number(ui.batch.value), lr: Number(ui.lr.value), seed: ++this.runs });
    });
    ui.pause.addEventListener('click', () => this.worker?.postMessage({ type: 'pause' }));
    ui.resume.addEventListener('click', () => this.worker?.postMessage({ type: 'resume' }));
    ui.stop.addEventListener('click', () => this.worker?.postMessage({ type: 'stop' }));
  }

  /* ---- models: default, save, download, load ---- */

  wireModels() {
    const ui = this.ui, app = this.app;
    const savedEntry = (m) => ({ name: 'saved in browser', file: m.bytes, size: m.bytes.length,
                                 arch: m.arch, test_accuracy: m.testAccuracy ?? null });
    ui.useDefault.addEventListener('click', () => app.useDefault());
    ui.save.addEventListener('click', async () => {
      const last = this.last;
      if (!last) return;
      try {
        await store.saveModel({ bytes: last.bytes, name: last.name, arch: last.arch,
                                testAccuracy: last.testAccuracy, date: new Date().toISOString() });
        app.addModel(savedEntry(last));
        this.note('Saved in this browser: it is in the model list after a reload, offline too.');
        ui.panel.dataset.saved = '1';
      } catch (e) {
        this.note(`Cannot save: ${e.message}`);
      }
    });
    ui.download.addEventListener('click', () => {
      if (!this.last) return;
      download(new Blob([this.last.bytes], { type: 'application/octet-stream' }),
               `digits-${String(this.last.arch).replace(/[^a-z0-9-]+/gi, '_').slice(0, 30)}.safetensors`);
    });
    ui.file.addEventListener('change', () => this.loadModelFile());
    store.loadModel().then((m) => {
      if (m?.bytes) app.addModel(savedEntry(m));
      ui.panel.dataset.storeChecked = '1';
    }).catch((e) => {
      ui.panel.dataset.storeChecked = '1';
      this.note(`Saved model unavailable: ${e.message}`);
    });
  }

  async loadModelFile() {
    const ui = this.ui, f = ui.file.files[0];
    ui.file.value = '';
    if (!f) return;
    try {
      let bytes = new Uint8Array(await f.arrayBuffer());
      const info = await this.app.useModel({ name: f.name.replace(/\.(safetensors|onnx)$/i, ''), file: bytes,
                                             size: bytes.length, arch: '', test_accuracy: null });
      if (/\.onnx$/i.test(f.name)) bytes = await this.app.modelBytes(); /* converted: saved as digits' */
      this.last = { bytes, name: f.name, arch: info?.archName ?? f.name,
                    testAccuracy: info?.testAccuracy ?? null };
      ui.save.disabled = ui.download.disabled = false;
      this.note(`Loaded ${f.name}: the pad uses it now.`);
    } catch (e) {
      this.note(`Cannot load ${f.name}: ${e.message}`);
    }
  }

  /* ---- charts ---- */

  queueChart() {
    if (this.drawQueued) return;
    this.drawQueued = true;
    later(() => {
      this.drawQueued = false;
      drawChart(this.ui.chart, this.curve, this.testPoints, this.epochs);
      this.ui.chart.dataset.points = String(this.curve.length);
    });
  }

  /* ---- personal examples ---- */

  async refreshExamples() {
    const ui = this.ui;
    try {
      this.examples = await store.listExamples();
    } catch (e) {
      ui.ftResult.textContent = `Examples unavailable: ${e.message}`;
      this.examples = [];
    }
    const examples = this.examples;
    ui.count.textContent = String(examples.length);
    ui.exp.disabled = examples.length === 0;
    ui.list.replaceChildren(...examples.slice().reverse().map((e) => this.exampleItem(e)));
    ui.personal.dataset.count = String(examples.length);
  }

  /* One stored example: its picture, its label, a delete button. */
  exampleItem(e) {
    const li = document.createElement('li');
    const c = document.createElement('canvas');
    c.width = c.height = 28;
    const ctx = c.getContext('2d'), img = ctx.createImageData(28, 28);
    drawDigit(img, e.pixels, 0, 0);
    ctx.putImageData(img, 0, 0);
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'quiet';
    b.textContent = '×';
    b.title = `Delete this ${e.label}`;
    b.setAttribute('aria-label', `Delete example ${e.label}`);
    b.addEventListener('click', async () => {
      await store.deleteExample(e.id);
      this.refreshExamples();
    });
    const s = document.createElement('span');
    s.textContent = String(e.label);
    li.append(c, s, b);
    return li;
  }

  wirePersonal() {
    const ui = this.ui;
    document.addEventListener('digits:reading', (e) => {
      const reading = this.reading = e.detail;
      const has = reading != null && reading.digit != null;  /* not empty, not uncertain */
      /* readings come many times a second while drawing: the buttons are
       * touched only when what they show changes */
      const shown = has ? reading.digit : -1;
      if (shown === this.shownGuess) return;
      this.shownGuess = shown;
      for (const b of ui.labels.children) {
        b.disabled = !has;
        b.classList.toggle('guess', has && Number(b.dataset.label) === reading.digit);
      }
    });
    ui.labels.addEventListener('click', (e) => this.storeExample(e));
    ui.exp.addEventListener('click', () => {
      download(new Blob([store.exportExamples(this.examples)], { type: 'application/json' }),
               'digits-examples.json');
    });
    ui.imp.addEventListener('change', async () => {
      const f = ui.imp.files[0];
      ui.imp.value = '';
      if (!f) return;
      try {
        const n = await store.importExamples(store.parseExamples(await f.text()));
        ui.ftResult.textContent = `Imported ${n} examples from ${f.name}.`;
        await this.refreshExamples();
      } catch (err) {
        ui.ftResult.textContent = `Cannot import ${f.name}: ${err.message}`;
      }
    });
    ui.finetune.addEventListener('click', () => this.finetune());
  }

  /* A tap on a label: the pad's reading stored as that digit. */
  async storeExample(e) {
    const b = e.target.closest('button[data-label]'), reading = this.reading;
    if (!b || !reading || reading.digit == null) return;
    const label = Number(b.dataset.label);
    try {
      await store.addExample(label, store.toPixels(reading.input));
      this.ui.ftResult.textContent = label === reading.digit ? `Stored as ${label}.`
        : `Stored as ${label} (the network read ${reading.digit}).`;
      this.app.clearPad();
      await this.refreshExamples();
    } catch (err) {
      this.ui.ftResult.textContent = `Cannot store the example: ${err.message}`;
    }
  }

  async finetune() {
    const ui = this.ui;
    if (this.running) return;
    if (!this.examples.length) {
      ui.ftResult.textContent = 'Store a few examples first: draw a digit and tap its label.';
      return;
    }
    ui.ftResult.textContent = 'Loading the training data…';
    try {
      await this.dataReady();
    } catch (err) {
      ui.ftResult.textContent = `Cannot fine-tune without the training data: ${err.message}`;
      return;
    }
    const model = this.app.modelBytes();
    this.setRunning('finetune');
    ui.ftResult.textContent = 'Fine-tuning…';
    const ep = Math.max(1, Math.min(20, Math.round(Number(ui.ftEpochs.value) || 3)));
    this.worker.postMessage({ type: 'finetune', model, epochs: ep, lr: 3e-4, seed: 1,
                              examples: this.examples.map((e) => ({ label: e.label, pixels: e.pixels })) },
                            [model.buffer]);
  }
}

export function mountTrainPanel(host, app) {
  const p = new TrainPanel(host, app);
  return { loadData: () => p.loadData() };
}

/* ---- drawing helpers (canvas 2D, no dependencies) ---- */

/* Drawing that can wait a moment runs one job per task, in order. At the
 * end of an epoch the chart, the grid of test digits, the confusion matrix
 * and the trained model's hand-over to the pad together held the main
 * thread for 50-100 ms at 4x CPU throttling (a mid-range phone); one at a
 * time, the page answers input between them. */
const jobs = [];
function later(fn) {
  if (jobs.push(fn) === 1) setTimeout(nextJob, 0);
}
function nextJob() {
  try {
    jobs[0]();
  } finally {
    jobs.shift();
    if (jobs.length) setTimeout(nextJob, 0);
  }
}

/* A colour of the page's style, read once per colour scheme: reading the
 * computed style after the panel changed made the browser recompute the
 * page's style on every drawing (a chart, each digit of the grid). */
const cssCache = new Map();
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => cssCache.clear());
function css(name, fallback) {
  if (!cssCache.has(name))
    cssCache.set(name, getComputedStyle(document.body).getPropertyValue(name).trim() || fallback);
  return cssCache.get(name);
}

/* A loss curve and accuracy curves on one canvas: loss on a left axis
 * scaled to its maximum, accuracies on a right axis 0..100%. */
function drawChart(c, curve, tests, epochs) {
  const W = 480, H = 220, dpr = Math.min(3, globalThis.devicePixelRatio || 1);
  if (c.width !== W * dpr) {
    c.width = W * dpr;
    c.height = H * dpr;
    c.style.width = `${W}px`;
  }
  const ctx = c.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const L = 36, R = 40, T = 10, B = 24, w = W - L - R, h = H - T - B;
  const fg = css('--muted', '#64748b'), grid = css('--border', '#cbd5e1');
  ctx.clearRect(0, 0, W, H);
  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  ctx.strokeStyle = grid;
  ctx.fillStyle = fg;
  const maxLoss = Math.max(0.5, ...curve.map((p) => p.loss));
  for (let i = 0; i <= 4; i++) {
    const y = T + (h * i) / 4;
    ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(L + w, y); ctx.stroke();
    ctx.textAlign = 'right';
    ctx.fillText((maxLoss * (1 - i / 4)).toFixed(2), L - 4, y + 4);
    ctx.textAlign = 'left';
    ctx.fillText(`${100 - 25 * i}%`, L + w + 4, y + 4);
  }
  ctx.textAlign = 'center';
  for (let e = 0; e <= epochs; e++) ctx.fillText(String(e), L + (w * e) / epochs, H - 8);
  const X = (x) => L + (w * x) / epochs;
  const line = (key, scale, color) => {
    if (!curve.length) return;
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    curve.forEach((p, i) => {
      const y = T + h * (1 - p[key] / scale);
      if (i) ctx.lineTo(X(p.x), y); else ctx.moveTo(X(p.x), y);
    });
    ctx.stroke();
  };
  line('loss', maxLoss, '#f97316');
  line('acc', 1, css('--accent', '#2563eb'));
  ctx.fillStyle = '#16a34a';
  for (const p of tests) {
    ctx.beginPath();
    ctx.arc(X(p.x), T + h * (1 - p.acc), 4, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillText(`${(p.acc * 100).toFixed(1)}%`, Math.min(X(p.x), L + w - 16), T + h * (1 - p.acc) + 16);
  }
}

/* One 28x28 digit (bytes, 255 = ink) into img at (x, y), ink dark on
 * light. */
function drawDigit(img, pixels, x, y) {
  const px = new Uint32Array(img.data.buffer);  /* RGBA, little-endian */
  for (let r = 0, i = 0; r < 28; r++)
    for (let o = (y + r) * img.width + x, end = o + 28; o < end; o++, i++)
      px[o] = (0xff000000 | ((255 - pixels[i]) * 0x010101)) >>> 0;
}

/* Test digits in a grid, each with the guess; wrong guesses in red. The
 * digits go to the canvas in one image (one per digit held the page for
 * tens of ms on a slow phone). */
function drawGrid(c, { images, labels, guesses }) {
  const ctx = c.getContext('2d'), n = labels.length, cols = 8, cw = 40, ch = 40;
  c.width = cols * cw;
  c.height = Math.ceil(n / cols) * ch;
  const img = ctx.createImageData(c.width, c.height);
  for (let i = 0; i < n; i++)
    drawDigit(img, images.subarray(i * 784, (i + 1) * 784), (i % cols) * cw + 2, Math.floor(i / cols) * ch + 2);
  ctx.putImageData(img, 0, 0);
  ctx.font = 'bold 11px system-ui, sans-serif';
  let wrong = 0;
  for (let i = 0; i < n; i++) {
    const x = (i % cols) * cw, y = Math.floor(i / cols) * ch;
    const bad = guesses[i] !== labels[i];
    wrong += bad;
    ctx.fillStyle = bad ? '#dc2626' : css('--muted', '#64748b');
    ctx.fillText(String(guesses[i]), x + 31, y + 14);
    if (bad) {
      ctx.strokeStyle = '#dc2626';
      ctx.lineWidth = 2;
      ctx.strokeRect(x + 1, y + 1, 30, 30);
      ctx.fillText(`(${labels[i]})`, x + 4, y + 39);
    }
  }
  c.dataset.wrong = String(wrong);
}

/* A 10x10 heat map; counts printed in the cells. */
function drawConfusion(c, m) {
  const ctx = c.getContext('2d'), S = 20, O = 20;
  c.width = c.height = O + 10 * S + 2;
  ctx.clearRect(0, 0, c.width, c.height);
  ctx.font = '10px system-ui, sans-serif';
  ctx.textAlign = 'center';
  const fg = css('--fg', '#0f172a');
  for (let t = 0; t < 10; t++) {
    let row = 0;
    for (let g = 0; g < 10; g++) row += m[t * 10 + g];
    ctx.fillStyle = fg;
    ctx.fillText(String(t), O / 2, O + t * S + 14);
    ctx.fillText(String(t), O + t * S + S / 2, 13);
    for (let g = 0; g < 10; g++) {
      const v = m[t * 10 + g], f = row ? v / row : 0;
      const a = t === g ? f : Math.min(1, f * 8);  /* errors are rare: stretch them */
      ctx.fillStyle = t === g ? `rgb(37 99 235 / ${a.toFixed(3)})` : `rgb(220 38 38 / ${a.toFixed(3)})`;
      ctx.fillRect(O + g * S, O + t * S, S - 1, S - 1);
      if (v) {
        ctx.fillStyle = a > 0.55 ? '#fff' : fg;
        ctx.fillText(String(v), O + g * S + S / 2, O + t * S + 14);
      }
    }
  }
  c.dataset.total = String(m.reduce((a, b) => a + b, 0));
}
