/* number_bench.mjs: reading a number in the browser (issue 23's target: a
 * 6-digit number on a 1200x400 canvas in under 3 ms in Chromium), run by
 * bench/page.html (bench/browser.mjs; --only-number alone).
 *
 * The number: the first six MNIST test digits of the page's sample
 * (web/build/mnist-sample.bin), dark on white, each drawn smoothly scaled
 * into a 150-px cell, 30 px apart, on a 1200x400 canvas. The call timed is
 * the page's: recognizer.readNumberSync(ImageData) (the pixels copied into
 * WebAssembly memory, dg_read_number, the result read back), ms per call by
 * wasm_bench.mjs's timeCalls (warm-up, then the median of reps samples).
 *
 *   runNumberBench({digits, target, wasmBase, modelBytes, sampleBytes, reps, quick, log})
 *     -> [{kind: 'number', target, build, width, height, digits, ms, min, max, read, want}]
 *   numberSection(rows, {p, f, range}) writes its part of bench/results.md
 */
import { timeCalls } from './wasm_bench.mjs';

const W = 1200, H = 400, N = 6, CELL = 150, GAP = 30, WARM_MS = 1500;

/* The first n digits of the page's MNIST sample (DGMS: magic, count at 8,
 * rows at 12, cols at 16, then the labels, then the 28x28 images). */
function sampleDigits(bytes, n) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = dv.getUint32(8, true), px = dv.getUint32(12, true) * dv.getUint32(16, true);
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== 'DGMS' || px !== 784 || count < n)
    throw new Error('mnist-sample.bin: not a sample of 28x28 digits');
  return Array.from({ length: n }, (_, i) => ({
    label: bytes[20 + i], image: bytes.subarray(20 + count + i * px, 20 + count + (i + 1) * px),
  }));
}

/* The number's canvas pixels (ImageData) and its digits as a string. */
export function numberCanvas(sampleBytes) {
  const ds = sampleDigits(sampleBytes, N);
  const c = new OffscreenCanvas(W, H), g = c.getContext('2d', { willReadFrequently: true });
  g.fillStyle = '#fff';
  g.fillRect(0, 0, W, H);
  g.imageSmoothingEnabled = true;
  g.imageSmoothingQuality = 'high';
  const x0 = (W - N * CELL - (N - 1) * GAP) / 2, y0 = (H - CELL) / 2;
  ds.forEach((d, i) => {
    const small = new ImageData(28, 28);
    for (let k = 0; k < 784; k++) {
      small.data[4 * k] = small.data[4 * k + 1] = small.data[4 * k + 2] = 255 - d.image[k];
      small.data[4 * k + 3] = 255;
    }
    const s = new OffscreenCanvas(28, 28);
    s.getContext('2d').putImageData(small, 0, 0);
    g.drawImage(s, x0 + i * (CELL + GAP), y0, CELL, CELL);
  });
  return { image: g.getImageData(0, 0, W, H), want: ds.map((d) => d.label).join('') };
}

export async function runNumberBench({ digits, target, wasmBase, modelBytes, verifierBytes = null,
                                       sampleBytes, reps = 15, quick = false, log = () => {} }) {
  const { image, want } = numberCanvas(sampleBytes);
  const rec = await digits.createRecognizer({ model: modelBytes, verifier: verifierBytes, wasmBase });
  try {
    const t0 = performance.now();
    const first = rec.readNumberSync(image);
    const firstMs = performance.now() - t0;
    /* WARM_MS of calls first: until then the code is V8's baseline
     * compiler's (10-17 ms a call here), and timeCalls' 150 ms would
     * size its samples on that code (2 calls a sample) */
    const t = timeCalls(() => rec.readNumberSync(image),
                        { reps, minMs: quick ? 5 : 20, warmMs: quick ? 300 : WARM_MS });
    log(`number ${W}x${H}, ${N} digits (${rec.variant}): ${t.med.toFixed(3)} ms, read ${first.number}, ` +
        `drawn ${want}`);
    return [{ kind: 'number', target, build: rec.variant, width: W, height: H, digits: N, ms: t.med,
              min: t.min, max: t.max, reps, first_ms: firstMs, read: first.number, want, split: first.split,
              confidence: first.confidence }];
  } finally {
    rec.dispose();
  }
}

/* bench/results.md's section (bench/report.mjs): p prints a line, f a
 * number, range a row's "ms (min–max)". */
export function numberSection(rows, { p, f, range }) {
  const rs = rows.filter((r) => r.kind === 'number');
  p(`## Reading a number: ${N} digits on a ${W}×${H} canvas (ms)`);
  p();
  if (!rs.length) {
    p('- not measured in this run');
    p();
    return;
  }
  p(`bench/number_bench.mjs: the first ${N} digits of the page's MNIST test sample (web/build/mnist-sample.bin), dark on white, each smoothly scaled into a ${CELL}-px cell ${GAP} px apart on a ${W}×${H} canvas; \`recognizer.readNumberSync(imageData)\` (pixels into WebAssembly memory, \`dg_read_number\` with the default model and the three window readers, as the page's number reader reads, the result read back) per call, median of the samples after ${WARM_MS / 1000} s of warm-up (min–max; until V8 has optimized the module the calls take 10-17 ms), and the very first call alone. Target (issue 23): under 3 ms in Chromium.`);
  p();
  p('| target | build | ms (min–max) | first call (ms) | read | drawn | target < 3 ms |');
  p('|---|---|---|---|---|---|---|');
  for (const r of rs)
    p(`| ${r.target} | ${r.build} | ${range(r)} | ${r.first_ms != null ? f(r.first_ms) : ''} | ${r.read ?? 'null'} (confidence ${f(r.confidence)}) | ${r.want} | ${r.target === 'chromium' ? (r.ms < 3 ? 'met' : '**not met**') : ''} |`);
  p();
}
