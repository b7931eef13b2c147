/* photo_bench.mjs: preprocessing a 12-megapixel photo in the browser
 * (issue 18), run by bench/page.html in headless Chromium. The photo is a
 * JPEG that bench/run made (photo_gen's `--one large 0`, or bench_native's
 * procedural one): decoded in the page as the page's photo control does it
 * (createImageBitmap with the EXIF orientation, drawn to a canvas, read
 * back as RGBA), then the page's own module (web/lib/digits.js, the build it
 * picks here) preprocesses the full-size pixels, repeated, median.
 *
 * runPhotoBench({digits, target, wasmBase, url, source, reps, quick, log})
 *   -> [{kind: 'preprocess', target, build, channels: 4, width, height,
 *        ms, min, max (DigitsModule.preprocess: the copy of the 48 MB of
 *        pixels into WASM memory and the C call), c_ms, c_min, c_max (the
 *        exported C call alone, pixels already in memory), decode_ms,
 *        status, source}]
 */
function summarize(v) {
  const s = [...v].sort((a, b) => a - b), n = s.length;
  return { med: n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2, min: s[0], max: s[n - 1] };
}

/* The photo at url as the page's photo control reads it: RGBA pixels of
 * createImageBitmap (EXIF orientation applied) drawn to a canvas. */
export async function decodePhoto(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`photo_bench: ${url}: HTTP ${res.status}`);
  const blob = await res.blob();
  const t0 = performance.now();
  const bmp = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  const { width, height } = bmp;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bmp, 0, 0);
  const img = ctx.getImageData(0, 0, width, height);
  const decodeMs = performance.now() - t0;
  bmp.close();
  return { img, width, height, decodeMs };
}

export async function runPhotoBench({ digits, target, wasmBase, url, source = '', reps = 15,
                                      quick = false, log = () => {} }) {
  const { img, width, height, decodeMs } = await decodePhoto(url);
  log(`photo ${width}x${height} decoded to RGBA in ${decodeMs.toFixed(0)} ms`);

  const mod = await digits.loadModule({ simd: 'auto', wasmBase });
  let status = 'ok', st = 0;
  const whole = () => {
    try {
      if (mod.preprocess(img, 4) === null) status = 'empty';
    } catch (e) {
      status = e.statusName || String(e.message || e);
    }
  };
  /* the C call alone, on the pixels the last whole call left in WASM
   * memory (DigitsModule.preprocess copies them into its 'pixels' buffer) */
  const out = mod.scratchBuf('input', 784 * 4);
  const cOnly = () => {
    const x = mod.scratchBuf('pixels', width * height * 4);
    st = mod.exports.preprocess(x, width, height, 4, out);
  };
  /* each call takes tens of ms: one call per sample, the two kinds
   * alternating so that both see the same machine (it is shared), after
   * a warm-up long enough for V8 to optimize the hot code (a call that
   * loops for long may otherwise run in the baseline tier) */
  const reps_ = quick ? 3 : reps, warmMs = quick ? 150 : 600;
  for (const t0w = performance.now(); performance.now() - t0w < warmMs;) whole(), cOnly();
  const tw = [], tc = [];
  for (let r = 0; r < reps_; r++) {
    let t1 = performance.now();
    whole();
    tw.push(performance.now() - t1);
    t1 = performance.now();
    cOnly();
    tc.push(performance.now() - t1);
  }
  const t = summarize(tw), c = summarize(tc);
  log(`preprocess ${width}x${height} RGBA: ${t.med.toFixed(1)} ms (${status}); the C call alone ` +
      `${c.med.toFixed(1)} ms (status ${st})`);
  mod.dropScratch('pixels');
  return [{ kind: 'preprocess', target, build: mod.variant, channels: 4, width, height,
            ms: t.med, min: t.min, max: t.max, c_ms: c.med, c_min: c.min, c_max: c.max,
            decode_ms: decodeMs, reps: reps_, status, c_status: st, source }];
}
