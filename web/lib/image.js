/* image.js: the image sources predict accepts, turned into RGBA pixels
 * {data, width, height} (what the core reads). Pixels pass through as they
 * are (ImageData or any {data, width, height}); a canvas with a 2D context
 * is read directly; every other source the browser can draw (a WebGL
 * canvas, an OffscreenCanvas, an ImageBitmap, an <img>, a <video>, a
 * VideoFrame) is drawn onto a scratch canvas and read back; a Blob or File
 * is decoded by the browser (createImageBitmap) first. Drawn sources larger
 * than the core's image caps are scaled down to fit them; pixels given as
 * they are are never resized (the core rejects them with a clear error). */

import { ImageLimits, Status } from './constants.js';
import { DigitsError } from './errors.js';

const bad = (message) => new DigitsError(message, Status.ARG);

/* Is x pixels already ({data, width, height}, ImageData among them)? Any
 * object with a data field counts: the core validates the rest. */
export function isPixels(x) {
  return x != null && typeof x === 'object' && 'data' in x;
}

/* Is x a Blob (a File among them): bytes for the browser to decode? */
export function isBlob(x) {
  return typeof Blob === 'function' && x instanceof Blob;
}

const is = (x, name) => typeof globalThis[name] === 'function' && x instanceof globalThis[name];

/* The natural size of a drawable source, or null if x is none. */
function sourceSize(x) {
  if (is(x, 'HTMLImageElement')) return [x.naturalWidth, x.naturalHeight];
  if (is(x, 'HTMLVideoElement')) return [x.videoWidth, x.videoHeight];
  if (is(x, 'VideoFrame')) return [x.displayWidth, x.displayHeight];
  if (is(x, 'HTMLCanvasElement') || is(x, 'OffscreenCanvas') || is(x, 'ImageBitmap') ||
      is(x, 'SVGImageElement'))
    return [x.width?.baseVal?.value ?? x.width, x.height?.baseVal?.value ?? x.height];
  return null;
}

/* A 2D context for w x h pixels that are read back often. */
function scratchContext(w, h) {
  const canvas = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(w, h)
    : globalThis.document?.createElement('canvas');
  if (!canvas) throw bad('image: no canvas to draw on here (not a browser?)');
  canvas.width = w;
  canvas.height = h;
  return canvas.getContext('2d', { willReadFrequently: true });
}

/* Pixels of a drawable source of natural size w x h, scaled to fit the
 * core's caps if larger. */
function drawPixels(src, w, h) {
  if (!(w >= 1 && h >= 1))
    throw bad(`image: the source is ${w}x${h} pixels (not loaded yet, or empty)`);
  const s = Math.min(1, ImageLimits.maxDim / Math.max(w, h),
                     Math.sqrt(ImageLimits.maxPixels / (w * h)));
  const W = Math.max(1, Math.floor(w * s)), H = Math.max(1, Math.floor(h * s));
  const ctx = scratchContext(W, H);
  ctx.drawImage(src, 0, 0, W, H);
  return ctx.getImageData(0, 0, W, H);
}

/* Pixels of any source but a Blob or a not yet decoded <img>, at once.
 * DigitsError (bad argument) for what is no image, or an empty one. */
export function toPixelsSync(src) {
  if (isPixels(src)) return src;
  const size = sourceSize(src);
  if (!size)
    throw bad('image: expected ImageData, {data, width, height}, a canvas, an OffscreenCanvas, ' +
              'an ImageBitmap, an <img>, a video frame, or a Blob');
  if (is(src, 'HTMLCanvasElement') || is(src, 'OffscreenCanvas')) {
    /* a 2D canvas is read as it is; a WebGL or bitmap canvas has no 2D
     * context (null) and is drawn instead */
    let ctx = null;
    try {
      ctx = src.getContext('2d');
    } catch { /* a canvas whose control was transferred: draw it */ }
    if (ctx && size[0] >= 1 && size[1] >= 1) return ctx.getImageData(0, 0, size[0], size[1]);
  }
  return drawPixels(src, size[0], size[1]);
}

/* Pixels of any accepted source; a Blob is decoded by the browser, an <img>
 * awaited until decoded. DigitsError: bad argument (no image source, an
 * empty one), format error (bytes or an <img> the browser cannot decode). */
export async function toPixels(src) {
  if (isBlob(src)) {
    if (typeof createImageBitmap !== 'function')
      throw bad('image: decoding a Blob needs createImageBitmap (a browser)');
    let bmp;
    try {
      bmp = await createImageBitmap(src);
    } catch (e) {
      throw new DigitsError(`image: the browser cannot decode this ${src.type || 'Blob'} ` +
                            `(${src.size} bytes): ${e.message}`, Status.FORMAT);
    }
    try {
      return drawPixels(bmp, bmp.width, bmp.height);
    } finally {
      bmp.close();
    }
  }
  if (is(src, 'HTMLImageElement') && !(src.complete && src.naturalWidth > 0)) {
    try {
      await src.decode();
    } catch (e) {
      throw new DigitsError(`image: <img src="${String(src.currentSrc || src.src).slice(0, 200)}"> ` +
                            `cannot be decoded: ${e.message}`, Status.FORMAT);
    }
  }
  return toPixelsSync(src);
}
