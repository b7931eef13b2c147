/* pad_bench.mjs: the page's own predict path, timed in any engine
 * (bench/page.html?only=pad, opened by bench/engines.mjs): a 7 drawn with
 * pointer events on web/draw.js's Pad, then what app.js does for each
 * reading of one digit (readDigit), `await recognizer.predict(
 * pad.digitSnapshot(FIT))`: the box round the strokes painted afresh on a
 * canvas, the ink's longer side FIT px (draw.js; the pad here is 280x280),
 * getImageData, preprocessing and the network in WebAssembly through
 * web/lib/digits.js with the default model. Where the recognizer reads
 * numbers (issue 23), also what app.js's readPad does at a stroke's end:
 * the whole pad's snapshot at SNAPSHOT's scale, readNumber, then predict
 * for a lone digit as above (reading_ms).
 *
 * Firefox and WebKit coarsen performance.now() (to 1 ms or 20 us when
 * cross-origin isolated): every sample times `per` calls in a row and the
 * row reports ms per call; reps samples, median and min-max. The same
 * samples time the recognizer call alone (predict_ms), the snapshot being
 * taken once before them, and recognizer.predict on the whole 280x280
 * pad's pixels (canvas_ms: what a page that hands it its canvas gets).
 *
 * runPadBench({digits, Pad, size, fit, canvas, target, modelBytes, reps, per, quick})
 *   -> [{kind: 'engine-predict', target, build, ms, min, max, predict_ms,
 *        canvas_ms, reading_ms, digit, confidence, per, reps, resolution_ms}]
 */

/* A 7 drawn on the pad as the mouse draws it: pointer events on the canvas
 * every 0.02 of its box (the Pad turns them into its own units). */
const SEVEN = [[0.28, 0.22], [0.72, 0.22], [0.58, 0.45], [0.46, 0.82]];
function drawSeven(canvas) {
  const r = canvas.getBoundingClientRect();
  const at = ([x, y]) => ({ clientX: r.left + x * r.width, clientY: r.top + y * r.height });
  const ev = (type, p) => canvas.dispatchEvent(new PointerEvent(type, {
    ...at(p), pointerId: 1, pointerType: 'mouse', button: 0, buttons: 1, isPrimary: true,
    bubbles: true, cancelable: true }));
  ev('pointerdown', SEVEN[0]);
  for (let i = 1; i < SEVEN.length; i++) {
    const [x0, y0] = SEVEN[i - 1], [x1, y1] = SEVEN[i];
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / 0.02));
    for (let k = 1; k <= n; k++) ev('pointermove', [x0 + ((x1 - x0) * k) / n, y0 + ((y1 - y0) * k) / n]);
  }
  ev('pointerup', SEVEN.at(-1));
}

function summarize(v) {
  const s = [...v].sort((a, b) => a - b), n = s.length;
  return { med: n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2, min: s[0], max: s[n - 1] };
}

/* the smallest step performance.now() takes here (ms) */
function resolution() {
  let best = Infinity;
  for (let i = 0; i < 20; i++) {
    const a = performance.now();
    let b = a;
    while (b === a) b = performance.now();
    best = Math.min(best, b - a);
  }
  return best;
}

export async function runPadBench({ digits, Pad, size = 140, fit = 28, canvas, target, modelBytes, reps = 15,
                                    per = 50, quick = false, log = () => {} }) {
  const r = await digits.createRecognizer({ model: modelBytes, wasmBase: new URL('../web/build/', import.meta.url) });
  const pad = new Pad(canvas);
  drawSeven(canvas);
  if (pad.isEmpty()) throw new Error('pad_bench: the pointer events drew nothing on the pad');
  const whole = async () => r.predict(pad.digitSnapshot(fit, size));
  const img = pad.digitSnapshot(fit, size);
  const alone = async () => r.predict(img);
  const whole280 = pad.snapshot(280);  /* a copy: the pad reuses its snapshot's image */
  const canvasImg = new ImageData(whole280.data.slice(), whole280.width, whole280.height);
  const onCanvas = async () => r.predict(canvasImg);
  const hasNumber = typeof r.readNumber === 'function';
  const reading = async () => {
    await r.readNumber(pad.snapshot(size));
    return whole();
  };
  /* warm-up: the engine tiers the hot code up */
  const warmMs = quick ? 100 : 400;
  for (let t0 = performance.now(); performance.now() - t0 < warmMs;) {
    await whole();
    await alone();
    await onCanvas();
    if (hasNumber) await reading();
  }
  const n = quick ? 3 : reps, ms = [], ams = [], cms = [], rms = [];
  const batch = async (fn, into) => {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) await fn();
    into.push((performance.now() - t0) / per);
  };
  let res = null;
  for (let s = 0; s < n; s++) {
    await batch(async () => { res = await whole(); }, ms);
    await batch(alone, ams);
    await batch(onCanvas, cms);
    if (hasNumber) await batch(reading, rms);
  }
  const w = summarize(ms), a = summarize(ams);
  log(`${target} pad predict ${w.med.toFixed(3)} ms (recognizer alone ${a.med.toFixed(3)} ms), read ${res.digit}` +
      (hasNumber ? `; the page's reading ${summarize(rms).med.toFixed(3)} ms` : ''));
  const row = { kind: 'engine-predict', target, build: r.variant, ms: w.med, min: w.min, max: w.max,
                predict_ms: a.med, canvas_ms: summarize(cms).med,
                reading_ms: hasNumber ? summarize(rms).med : null, digit: res.digit, confidence: res.confidence, per, reps: n, resolution_ms: resolution() };
  r.dispose();
  return [row];
}
