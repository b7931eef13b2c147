/* subset.js: the browser-training MNIST subset file (web/build/mnist-subset.bin),
 * written at build time by web/tools/pack-subset.mjs and read by the page
 * (train.js) and the tests. No dependencies; runs in browsers and Node.
 *
 * Layout, all little-endian:
 *   0  "DGSB"   magic
 *   4  u32      version (1)
 *   8  u32      ntrain         training images
 *  12  u32      ntest          test images
 *  16  u32      rows, cols (28, 28)
 *  24  u32      flags          bit 0: payload is gzip-compressed
 *  28  u32      stored         payload bytes in this file
 *  32  u32      raw            payload bytes once decompressed
 *  36  u32      checksum       FNV-1a (32-bit) of the stored payload
 *  40  payload  ntrain labels, ntest labels, ntrain*rows*cols pixels,
 *               ntest*rows*cols pixels (uint8, MNIST polarity: 255 = ink)
 *
 * The checksum covers the bytes as stored, so a truncated or corrupted
 * download is caught before anything is decompressed.
 */

export const MAGIC = 'DGSB';
export const VERSION = 1;
export const HEADER = 40;
export const FLAG_GZIP = 1;

/* FNV-1a, 32 bits, over bytes. */
export function fnv1a(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/* A failure to read the subset file, with a message for people. */
export class SubsetError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SubsetError';
  }
}

/* Check the header and checksum of a whole file (Uint8Array). Returns
 * {ntrain, ntest, rows, cols, gzip, raw, payload (the stored bytes)}. */
export function checkSubset(buf, name = 'mnist-subset.bin') {
  if (buf.length < HEADER)
    throw new SubsetError(`${name}: only ${buf.length} bytes, not even a header (truncated download?)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = String.fromCharCode(buf[0], buf[1], buf[2], buf[3]);
  if (magic !== MAGIC) throw new SubsetError(`${name}: not a digits subset file (magic "${magic}")`);
  const u = (o) => dv.getUint32(o, true);
  const version = u(4);
  if (version !== VERSION) throw new SubsetError(`${name}: version ${version}, this page reads ${VERSION}`);
  const h = { ntrain: u(8), ntest: u(12), rows: u(16), cols: u(20), gzip: (u(24) & FLAG_GZIP) !== 0,
              stored: u(28), raw: u(32), checksum: u(36) };
  if (h.rows !== 28 || h.cols !== 28) throw new SubsetError(`${name}: ${h.rows}x${h.cols} images, expected 28x28`);
  if (h.ntrain < 1 || h.ntest < 1 || h.ntrain + h.ntest > 100000)
    throw new SubsetError(`${name}: bad counts ${h.ntrain} + ${h.ntest}`);
  if (h.raw !== (h.ntrain + h.ntest) * (1 + 784))
    throw new SubsetError(`${name}: payload size ${h.raw} does not match the counts`);
  if (buf.length - HEADER < h.stored)
    throw new SubsetError(`${name}: truncated, ${buf.length.toLocaleString('en')} of ` +
                          `${(HEADER + h.stored).toLocaleString('en')} bytes`);
  if (buf.length - HEADER > h.stored)
    throw new SubsetError(`${name}: ${buf.length - HEADER - h.stored} unexpected bytes at the end`);
  const payload = buf.subarray(HEADER, HEADER + h.stored);
  const sum = fnv1a(payload);
  if (sum !== h.checksum)
    throw new SubsetError(`${name}: checksum mismatch (corrupted download: ` +
                          `${sum.toString(16)} instead of ${h.checksum.toString(16)})`);
  return { ...h, payload };
}

/* Split a decompressed payload into {ntrain, ntest, trainLabels, testLabels,
 * trainImages, testImages} (views, uint8). */
export function splitSubset(h, raw) {
  if (raw.length !== h.raw)
    throw new SubsetError(`mnist-subset.bin: payload is ${raw.length} bytes, expected ${h.raw}`);
  const P = h.rows * h.cols;
  let o = 0;
  const take = (n) => raw.subarray(o, (o += n));
  const trainLabels = take(h.ntrain), testLabels = take(h.ntest);
  const trainImages = take(h.ntrain * P), testImages = take(h.ntest * P);
  for (const l of [trainLabels, testLabels])
    for (let i = 0; i < l.length; i++)
      if (l[i] > 9) throw new SubsetError(`mnist-subset.bin: label ${l[i]} out of range`);
  return { ntrain: h.ntrain, ntest: h.ntest, trainLabels, testLabels, trainImages, testImages };
}

/* Browser: a checked file -> the split subset (gzip via DecompressionStream). */
export async function decodeSubset(buf, name) {
  const h = checkSubset(buf, name);
  let raw = h.payload;
  if (h.gzip) {
    if (typeof DecompressionStream !== 'function')
      throw new SubsetError('this browser cannot decompress the training data (no DecompressionStream)');
    try {
      const stream = new Blob([h.payload]).stream().pipeThrough(new DecompressionStream('gzip'));
      raw = new Uint8Array(await new Response(stream).arrayBuffer());
    } catch (e) {
      throw new SubsetError(`${name ?? 'mnist-subset.bin'}: cannot decompress (${e.message})`);
    }
  }
  return splitSubset(h, raw);
}
