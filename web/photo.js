/* photo.js: the page's second way in besides the pad: a photo or an image
 * file (take a picture, choose a file, drag and drop onto the pad, paste
 * from the clipboard) or a frame from the live camera. It decodes the image
 * with its EXIF orientation applied, hands the pixels to the recogniser at
 * full size (the C core downscales early, and reads finer detail from the
 * original than from a resample made here), and shows the photo in the
 * pad's square with the region that was read.
 *
 *   const photo = mountPhoto(elements, { read(imageData) -> result, show(result) });
 *   photo.hideShot();   // the pad is in use again
 *   photo.reread();     // the same photo again (another model)
 *
 * The camera view reads the square inside its guide frame, not the whole
 * frame: the user aims the digit into it, and the table, hands and other
 * writing around it never reach the recogniser.
 *
 * Every failure (camera denied or missing, a file that does not decode)
 * ends in a sentence in the message element; the pad is never blocked.
 */

import { offCanvas } from './draw.js';

/* Limits of the C core (DG_IMAGE_MAX_DIM, DG_IMAGE_MAX_PIXELS): larger
 * images are drawn downscaled first. */
const MAX_DIM = 16384;
const MAX_PIXELS = 64 * 1024 * 1024;
/* A canvas this large works everywhere (iOS Safari's limit); used only when
 * a larger one fails to give its pixels. */
const SAFE_CANVAS_PIXELS = 4096 * 4096;
/* The camera guide: this share of the shorter side of what is visible. */
const GUIDE = 0.7;


/* ---- decoding ---- */

/* A blob -> {image, width, height, close()} with the EXIF orientation
 * applied. createImageBitmap first (off the main thread in most engines);
 * an <img> where it is missing, refuses the options bag, or cannot decode
 * a format that <img> can (Safari's HEIC). */
export async function decodeImage(blob) {
  let first = null;
  if (typeof createImageBitmap === 'function') {
    try {
      const bmp = await createImageBitmap(blob, { imageOrientation: 'from-image' });
      return { image: bmp, width: bmp.width, height: bmp.height, close: () => bmp.close() };
    } catch (e) {
      first = e;
    }
  }
  const url = URL.createObjectURL(blob);
  try {
    const img = new Image();
    img.decoding = 'async';
    img.src = url;
    await img.decode();  /* <img> applies EXIF orientation (CSS image-orientation: from-image) */
    if (!img.naturalWidth || !img.naturalHeight) throw new Error('the image has no pixels');
    return { image: img, width: img.naturalWidth, height: img.naturalHeight, close() {} };
  } catch (e) {
    throw new Error(first?.message || e.message || 'cannot decode');
  } finally {
    URL.revokeObjectURL(url);
  }
}

/* The size to hand to the core: the image's own, or downscaled to fit the
 * core's caps (aspect kept). */
export function fitCaps(w, h, maxPixels = MAX_PIXELS) {
  const s = Math.min(1, MAX_DIM / w, MAX_DIM / h, Math.sqrt(maxPixels / (w * h)));
  if (s >= 1) return [w, h];
  return [Math.max(1, Math.floor(w * s)), Math.max(1, Math.floor(h * s))];
}

/* RGBA pixels of a decoded image (ImageData), at full size within the
 * caps. A canvas the engine cannot allocate (a phone's canvas limit) is
 * retried at a size every engine allows. */
export function pixelsOf(src, sx = 0, sy = 0, sw = src.width, sh = src.height) {
  for (const limit of [MAX_PIXELS, SAFE_CANVAS_PIXELS]) {
    const [w, h] = fitCaps(sw, sh, limit);
    try {
      const ctx = offCanvas(w, h).getContext('2d', { willReadFrequently: true });
      if (!ctx) continue;
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(src.image ?? src, sx, sy, sw, sh, 0, 0, w, h);
      return ctx.getImageData(0, 0, w, h);
    } catch (e) {
      if (limit === SAFE_CANVAS_PIXELS) throw e;
    }
  }
  throw new Error('the browser cannot make a canvas for this image');
}

/* ---- what the core found, in words ---- */

function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/* "4000×3000 photo; 2 ruled lines and 5 specks left out" */
export function describe(kind, img, res) {
  const parts = [`${kind} ${img.width}×${img.height}`];
  const i = res.info;
  if (i) {
    const out = [];
    if (i.lines) out.push(plural(i.lines, 'straight line'));
    if (i.dropped) out.push(plural(i.dropped, 'other mark'));
    if (out.length) parts.push(`${out.join(' and ')} left out`);
    if (i.photo) parts.push('paper shading removed');
  }
  if (res.box) parts.push('the box shows what was read');
  return `${parts.join('; ')}.`;
}

/* Why the camera did not open, for a person. */
export function cameraMessage(e) {
  switch (e?.name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
      return ['denied', 'Camera permission denied. Allow the camera for this site in the ' +
              "browser's settings, or take or choose a photo instead. The pad still works."];
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return ['none', 'No camera found. Choose a photo instead; the pad still works.'];
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return ['busy', 'The camera is busy or failed to start (another app may be using it).'];
    case 'SecurityError':
      return ['blocked', 'The camera is blocked on this page (it needs https).'];
    default:
      return ['error', `Cannot open the camera: ${e?.message || e}`];
  }
}

/* ---- the shot: the photo in the pad's square, the region read ---- */

/* Draw src (anything drawImage takes, w x h) contained in canvas, the
 * region outside box (in src's pixels, scaled by boxScale) dimmed and the
 * box outlined. */
function drawShot(canvas, src, w, h, box, boxScale, accent) {
  const r = canvas.getBoundingClientRect();
  const dpr = Math.min(window.devicePixelRatio || 1, 3);
  canvas.width = Math.max(1, Math.round(r.width * dpr));
  canvas.height = Math.max(1, Math.round(r.height * dpr));
  const ctx = canvas.getContext('2d');
  const s = Math.min(canvas.width / w, canvas.height / h);
  const dw = w * s, dh = h * s, ox = (canvas.width - dw) / 2, oy = (canvas.height - dh) / 2;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(src, ox, oy, dw, dh);
  if (!box) return null;
  const k = s * boxScale, pad = 2 * dpr;
  const b = [ox + box[0] * k - pad, oy + box[1] * k - pad, box[2] * k + 2 * pad, box[3] * k + 2 * pad];
  ctx.fillStyle = 'rgb(0 0 0 / 0.35)';
  ctx.beginPath();
  ctx.rect(ox, oy, dw, dh);
  ctx.rect(...b);
  ctx.fill('evenodd');
  ctx.lineWidth = 2.5 * dpr;
  ctx.strokeStyle = accent;
  ctx.strokeRect(...b);
  return b.map((v) => Math.round(v / dpr));
}

/* ---- mounting ---- */

/* The accent colour of the page's theme, for the outline of the region read. */
const accentOf = (el) => getComputedStyle(el.shot).getPropertyValue('--accent').trim() || '#2563eb';

/* Draw a shot (its preview) on the shot canvas with the region read; the
 * drawn outline in CSS pixels, or null. */
function paintShot(el, shot, box) {
  return drawShot(el.shotCanvas, shot.preview, shot.preview.width, shot.preview.height, box,
                  shot.preview.width / shot.pixels.width, accentOf(el));
}

/* The panel's visible status: the message sentence and its kind, the state,
 * and the count of finished reads (tests wait on it). */
function panelStatus(el) {
  return {
    message(text, kind = '') {
      el.message.textContent = text;
      el.message.dataset.kind = kind;
    },
    state(state) { el.panel.dataset.state = state; },
    bumpReads() {
      el.panel.dataset.reads = String(Number(el.panel.dataset.reads || 0) + 1);
    },
  };
}

/* The preview of a decoded image: at most 1024 px a side, enough for the
 * pad's square. */
function previewOf(img) {
  const ps = Math.min(1, 1024 / Math.max(img.width, img.height));
  const preview = offCanvas(Math.max(1, Math.round(img.width * ps)),
                             Math.max(1, Math.round(img.height * ps)));
  const pctx = preview.getContext('2d');
  pctx.imageSmoothingQuality = 'high';
  pctx.drawImage(img.image, 0, 0, preview.width, preview.height);
  return preview;
}

/* Reading shots: readShot(my, shot) puts pixels through the recogniser and
 * shows the shot and the reading; readBlob(blob, name) decodes a file, a
 * dropped or a pasted image first. reads: {seq (the newest read; older ones
 * are dropped), last ({preview, pixels, kind} of the shown photo)}. */
function shotReader(el, hooks, status, reads) {
  async function readShot(my, shot) {
    status.state('reading');
    if (!hooks.ready()) {
      status.state('error');
      status.message('The recogniser is still loading; try again in a moment.', 'not-ready');
      return;
    }
    const res = await hooks.read(shot.pixels);
    if (my !== reads.seq) return;
    reads.last = shot;
    hooks.show(res);
    el.shot.hidden = false;
    const drawn = paintShot(el, shot, res.box);
    el.shotCanvas.dataset.box = res.box ? res.box.join(',') : '';
    el.shotCanvas.dataset.drawnBox = drawn ? drawn.join(',') : '';
    /* what was handed to the core, and its early downscale (for tests) */
    el.shotCanvas.dataset.size = `${shot.pixels.width}x${shot.pixels.height}`;
    el.shotCanvas.dataset.scale = String(res.info?.scale ?? '');
    el.panel.dataset.ms = String(Math.round(performance.now() - shot.t0));
    status.message(describe(shot.kind, shot.pixels, res),
                   res.uncertain ? 'uncertain' : res.empty ? 'empty' : 'read');
    status.bumpReads();
    status.state('done');
  }

  async function readBlob(blob, name = blob.name || 'the image') {
    const my = ++reads.seq, t0 = performance.now();
    status.state('reading');
    status.message(`Reading ${name}…`, 'busy');
    let img;
    try {
      img = await decodeImage(blob);
    } catch {
      if (my !== reads.seq) return;
      status.state('error');
      status.message(`Cannot read ${name} as an image: the file is damaged or in a format this ` +
                     'browser cannot decode (try a JPEG or PNG). The pad still works.', 'decode');
      status.bumpReads();
      return;
    }
    try {
      if (my !== reads.seq) return;
      const pixels = pixelsOf(img);
      await readShot(my, { preview: previewOf(img), pixels, kind: 'Photo', t0 });
    } catch (e) {
      status.state('error');
      status.message(`Cannot read ${name}: ${e.message}`, 'error');
      status.bumpReads();
    } finally {
      img.close();
    }
  }

  return { readShot, readBlob };
}

function firstImage(files) {
  return [...(files ?? [])].find((f) => f.type.startsWith('image/')) ?? files?.[0] ?? null;
}

/* The ways a file comes in: the two file inputs, drag and drop onto the
 * pad (and the photo controls), and paste. */
function listenForFiles(el, readBlob) {
  for (const input of [el.take, el.file]) {
    input.addEventListener('change', () => {
      const f = input.files?.[0];
      input.value = '';  /* the same file again fires change again */
      if (f) readBlob(f);
    });
  }

  const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  for (const target of [el.wrap, el.panel]) {
    target.addEventListener('dragover', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      el.wrap.classList.add('drop');
    });
    target.addEventListener('dragleave', () => el.wrap.classList.remove('drop'));
    target.addEventListener('drop', (e) => {
      el.wrap.classList.remove('drop');
      if (!hasFiles(e)) return;
      e.preventDefault();
      const f = firstImage(e.dataTransfer.files);
      if (f) readBlob(f, f.name || 'the dropped image');
    });
  }

  /* an image on the clipboard (text pastes are left alone) */
  document.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files ?? [])].filter((f) => f.type.startsWith('image/'));
    if (!files.length) return;
    e.preventDefault();
    readBlob(files[0], 'the pasted image');
  });
}

/* The square inside the guide, in the video's pixels: the view shows the
 * centred square of the frame (object-fit: cover in a square) and the
 * guide is GUIDE of it. */
function guideCrop(vw, vh) {
  const side = Math.max(1, Math.round(GUIDE * Math.min(vw, vh)));
  return [Math.round((vw - side) / 2), Math.round((vh - side) / 2), side, side];
}

/* The live camera: the Camera button opens it, the shutter reads the guide's
 * square (readFrame(pixels canvas, ImageData, t0)), and it closes on Close,
 * Escape, a hidden page or after a shot. Returns stopCamera. */
function mountCamera(el, status, readFrame) {
  let stream = null;      /* the camera's MediaStream while open */
  const canCamera = typeof navigator.mediaDevices?.getUserMedia === 'function';
  el.cameraButton.hidden = !canCamera;

  function stopCamera() {
    stream?.getTracks().forEach((t) => t.stop());
    stream = null;
    el.video.srcObject = null;
    el.cameraView.hidden = true;
    el.shutter.disabled = true;
    el.panel.dataset.camera = 'closed';
  }

  async function openCamera() {
    if (stream) return;
    el.panel.dataset.camera = 'opening';
    status.message('Opening the camera…', 'busy');
    try {
      if (!canCamera) throw Object.assign(new Error('no camera API'), { name: 'NotFoundError' });
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: 'environment' }, width: { ideal: 1920 },
                 height: { ideal: 1080 } },
      });
      el.video.srcObject = stream;
      el.cameraView.hidden = false;
      await el.video.play();
      if (!el.video.videoWidth)
        await new Promise((resolve) => el.video.addEventListener('loadedmetadata', resolve,
                                                                 { once: true }));
      el.shutter.disabled = false;
      el.panel.dataset.camera = 'open';
      status.message('Put the digit inside the frame and press Take.', 'camera');
      el.shutter.focus({ preventScroll: true });
    } catch (e) {
      stopCamera();
      const [kind, text] = cameraMessage(e);
      el.panel.dataset.camera = `error-${kind}`;
      status.message(text, `camera-${kind}`);
    }
  }

  function shutter() {
    const t0 = performance.now();
    const v = el.video, vw = v.videoWidth, vh = v.videoHeight;
    if (!stream || !vw || !vh) return;
    const [x, y, w, h] = guideCrop(vw, vh);
    const frame = offCanvas(w, h);
    const ctx = frame.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(v, x, y, w, h, 0, 0, w, h);
    const pixels = ctx.getImageData(0, 0, w, h);
    stopCamera();
    readFrame(frame, pixels, t0);
  }

  el.cameraButton.addEventListener('click', () => (stream ? stopCamera() : openCamera()));
  el.shutter.addEventListener('click', shutter);
  el.cameraClose.addEventListener('click', () => {
    stopCamera();
    status.message('', '');
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && stream) stopCamera();
  });
  /* give the camera back when the page is hidden (tab switch, phone locked) */
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden || !stream) return;
    stopCamera();
    status.message('The camera closed while the page was hidden; press Camera to open it again.',
                   'camera-closed');
  });
  return stopCamera;
}

/* el: {wrap (the pad's square), shot, shotCanvas, shotClose, take, file,
 * cameraButton, cameraView, video, shutter, cameraClose, message, panel};
 * hooks: {ready() -> bool, read(ImageData) -> Promise<result>,
 * show(result)}. */
export function mountPhoto(el, hooks) {
  const status = panelStatus(el);
  const reads = { seq: 0, last: null };
  const { readShot, readBlob } = shotReader(el, hooks, status, reads);
  listenForFiles(el, readBlob);
  const stopCamera = mountCamera(el, status, (frame, pixels, t0) => {
    readShot(++reads.seq, { preview: frame, pixels, kind: 'Camera frame', t0 }).catch((e) => {
      status.state('error');
      status.message(`Cannot read the camera frame: ${e.message}`, 'error');
      status.bumpReads();
    });
  });

  el.shotClose.addEventListener('click', () => hooks.close?.());
  /* redraw the shot when the pad's square changes size */
  new ResizeObserver(() => {
    if (!el.shot.hidden && reads.last) {
      const box = el.shotCanvas.dataset.box ? el.shotCanvas.dataset.box.split(',').map(Number) : null;
      paintShot(el, reads.last, box);
    }
  }).observe(el.wrap);

  return {
    /* the pad is in use again: hide the photo, drop a read under way;
     * a message about a failure stays until the next photo */
    hideShot() {
      el.shot.hidden = true;
      reads.last = null;
      reads.seq++;
      if (el.panel.dataset.state === 'reading') status.state('');
      if (['read', 'empty', 'uncertain', 'busy'].includes(el.message.dataset.kind ?? ''))
        status.message('', '');
    },
    /* read the shown photo again (the model changed) */
    reread() {
      return reads.last ? readShot(++reads.seq, { ...reads.last, t0: performance.now() }) : Promise.resolve();
    },
    get shown() { return !el.shot.hidden; },
    stopCamera,
    readBlob,
  };
}
