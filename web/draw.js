/* draw.js: the drawing pad. Owns a <canvas>, turns pointer input (mouse,
 * touch, pen) into smooth strokes and keeps the drawing as a list of items
 * in units of the pad's shorter side, from its centre, so it can be redrawn
 * at any size and shape (a square pad on a phone, a wide one for numbers in
 * landscape; turning the phone keeps the drawing's shape, centred), in
 * either colour scheme, and undone one item at a time.
 *
 *   const pad = new Pad(canvas, { onChange(kind) {} });  // 'draw' | 'end' | 'clear' | 'undo' | 'image'
 *   pad.clear(); pad.undo(); pad.setDigit(bytes28x28); pad.isEmpty();
 *   pad.snapshot(SNAPSHOT) -> ImageData of the drawing, its shorter side
 *                             SNAPSHOT px (the pad may reuse it: valid
 *                             until the next call)
 *   pad.digitSnapshot(FIT) -> ImageData of the box round the ink only, its
 *                             longer side FIT px: one digit's reading
 *
 * Strokes are quadratic curves through the midpoints of successive points,
 * about 1/14 of the pad's shorter side wide (an MNIST pen: ~2 px of a 28 px
 * digit, when one digit fills the height). Colours
 * come from the canvas's CSS custom properties --pad-bg and --ink; the
 * recogniser's preprocessing accepts dark-on-light and light-on-dark.
 */

const STROKE = 1 / 14;  /* stroke width as a fraction of the pad's shorter side */

/* The shorter side of the snapshot the page reads numbers from (app.js, and
 * bench/pad_bench.mjs for the page's own path): 5 times MNIST's 28, so a
 * digit's strokes are 10 px wide; a larger one costs more to read back. */
export const SNAPSHOT = 140;

/* The longer side of the ink in the snapshot one digit is read from
 * (digitSnapshot): MNIST's recipe scales the ink to 20 px anyway, and what
 * reading costs, the canvas read back and the recogniser's work on the ink,
 * grows with its pixels. Under 32 px a side the recogniser looks for no
 * ruled lines there, so a stroke as long as the digit, with the image no
 * larger than the digit, is never taken for one. */
export const FIT = 28;

/* px of paper round the ink in digitSnapshot: the recogniser finds the
 * paper on the image's border */
const MARGIN = 2;
/* px a stroke's anti-aliasing reaches beyond its pen */
const AA = 2;

/* A w x h canvas off screen: OffscreenCanvas where the engine has it (not
 * Safari before 16.4), else a detached <canvas>. */
export function offCanvas(w, h) {
  if (typeof OffscreenCanvas === 'function') return new OffscreenCanvas(w, h);
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  return c;
}

export class Pad {
  constructor(canvas, { onChange = () => {} } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.onChange = onChange;
    this.items = [];      /* {kind:'stroke', pts:[x,y,...]} | {kind:'digit', bytes, size} */
    this.active = null;   /* the stroke being drawn */
    this.pointerId = null;
    this.colors = { bg: '#fff', ink: '#000' };
    this.readColors();
    this.resize();
    new ResizeObserver(() => this.resize()).observe(canvas);
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
      this.readColors();
      this.redraw();
    });
    /* the box measured for a stroke is measured again after a scroll */
    addEventListener('scroll', () => { this.rect = null; }, { passive: true, capture: true });
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', (e) => this.up(e));
    canvas.addEventListener('pointercancel', (e) => this.up(e));
    /* no context menu or text selection from a long press on touch screens */
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  }

  readColors() {
    const cs = getComputedStyle(this.canvas);
    this.colors.bg = cs.getPropertyValue('--pad-bg').trim() || '#fff';
    this.colors.ink = cs.getPropertyValue('--ink').trim() || '#000';
  }

  /* Match the backing store to the displayed size times the pixel ratio. */
  resize() {
    const r = this.canvas.getBoundingClientRect();
    const dpr = Math.min(window.devicePixelRatio || 1, 3);
    const w = Math.max(1, Math.round(r.width * dpr));
    const h = Math.max(1, Math.round(r.height * dpr));
    this.rect = null;
    if (w === this.canvas.width && h === this.canvas.height) return;
    this.canvas.width = w;
    this.canvas.height = h;
    this.redraw();
  }

  isEmpty() { return this.items.length === 0 && !this.active; }
  canUndo() { return this.items.length > 0; }

  clear() {
    this.items = [];
    this.active = null;
    this.redraw();
    this.onChange('clear');
  }

  undo() {
    if (!this.items.length) return;
    this.items.pop();
    this.redraw();
    this.onChange('undo');
  }

  /* Replace the drawing with a 28x28 MNIST digit (bytes, 255 = ink),
   * scaled to the pad's centred square as MNIST frames it (20 px digit in
   * 28). */
  setDigit(bytes, size = 28) {
    this.items = [{ kind: 'digit', bytes, size }];
    this.active = null;
    this.redraw();
    this.onChange('image');
  }

  /* ---- pointer input ---- */

  /* A pointer's position in drawing units (the shorter side, from the
   * centre). During a stroke the pad's box is the one measured when it
   * began: measuring it on every move made the browser lay the page out
   * again inside the event whenever a reading had just changed it. */
  point(e) {
    const r = this.pointerId === null ? this.canvas.getBoundingClientRect()
      : (this.rect ??= this.canvas.getBoundingClientRect());
    const s = Math.min(r.width, r.height) || 1;
    return [(e.clientX - r.left - r.width / 2) / s, (e.clientY - r.top - r.height / 2) / s];
  }

  down(e) {
    if (this.pointerId !== null) return;          /* one stroke at a time */
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    e.preventDefault();
    this.pointerId = e.pointerId;
    this.canvas.dataset.pointer = e.pointerType;  /* last input kind, for tests */
    try { this.canvas.setPointerCapture(e.pointerId); } catch { /* synthetic events */ }
    this.rect = null;
    this.active = { kind: 'stroke', pts: this.point(e) };
    this.drawDot(this.active.pts[0], this.active.pts[1]);
    this.onChange('draw');
  }

  move(e) {
    if (e.pointerId !== this.pointerId || !this.active) return;
    e.preventDefault();
    const events = e.getCoalescedEvents?.() ?? [];
    for (const ev of events.length ? events : [e]) {
      const [x, y] = this.point(ev);
      const p = this.active.pts;
      const lx = p[p.length - 2], ly = p[p.length - 1];
      /* skip sub-pixel jitter */
      const s = frame(this.canvas.width, this.canvas.height).s;
      if (Math.abs(x - lx) * s < 0.75 && Math.abs(y - ly) * s < 0.75) continue;
      p.push(x, y);
      this.drawTail(p);
    }
    this.onChange('draw');
  }

  up(e) {
    if (e.pointerId !== this.pointerId) return;
    this.pointerId = null;
    this.rect = null;
    if (!this.active) return;
    this.items.push(this.active);
    this.active = null;
    this.redraw();  /* finish the last half-segment */
    this.onChange('end');
  }

  /* ---- rendering ---- */

  lineStyle(ctx, s) {
    ctx.lineWidth = s * STROKE;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = this.colors.ink;
    ctx.fillStyle = this.colors.ink;
  }

  drawDot(x, y, ctx = this.ctx, f = frame(this.canvas.width, this.canvas.height)) {
    this.lineStyle(ctx, f.s);
    ctx.beginPath();
    ctx.arc(f.x(x), f.y(y), (f.s * STROKE) / 2, 0, Math.PI * 2);
    ctx.fill();
  }

  /* While drawing: the newest piece, from the midpoint of the previous two
   * points, curving through the previous point, to the newest midpoint. */
  drawTail(p) {
    const ctx = this.ctx, f = frame(this.canvas.width, this.canvas.height);
    const n = p.length / 2;
    this.lineStyle(ctx, f.s);
    ctx.beginPath();
    if (n === 2) {
      ctx.moveTo(f.x(p[0]), f.y(p[1]));
      ctx.lineTo(f.x((p[0] + p[2]) / 2), f.y((p[1] + p[3]) / 2));
    } else {
      const i = (n - 3) * 2;
      ctx.moveTo(f.x((p[i] + p[i + 2]) / 2), f.y((p[i + 1] + p[i + 3]) / 2));
      ctx.quadraticCurveTo(f.x(p[i + 2]), f.y(p[i + 3]),
                           f.x((p[i + 2] + p[i + 4]) / 2), f.y((p[i + 3] + p[i + 5]) / 2));
    }
    ctx.stroke();
  }

  /* A whole stroke: straight to the first midpoint, quadratic curves
   * through the points, straight to the last point. */
  drawStroke(ctx, p, f) {
    const n = p.length / 2;
    if (n === 1) return this.drawDot(p[0], p[1], ctx, f);
    this.lineStyle(ctx, f.s);
    ctx.beginPath();
    ctx.moveTo(f.x(p[0]), f.y(p[1]));
    ctx.lineTo(f.x((p[0] + p[2]) / 2), f.y((p[1] + p[3]) / 2));
    for (let i = 2; i + 2 < p.length; i += 2) {
      ctx.quadraticCurveTo(f.x(p[i]), f.y(p[i + 1]),
                           f.x((p[i] + p[i + 2]) / 2), f.y((p[i + 1] + p[i + 3]) / 2));
    }
    ctx.lineTo(f.x(p[p.length - 2]), f.y(p[p.length - 1]));
    ctx.stroke();
  }

  /* A 28x28 digit as ink of the current colours, smoothly scaled into the
   * centred square. */
  drawDigit(ctx, { bytes, size }, f) {
    const ink = parseColor(this.colors.ink);
    const small = offCanvas(size, size);
    const sctx = small.getContext('2d');
    const img = sctx.createImageData(size, size);
    for (let i = 0; i < size * size; i++) {
      img.data[i * 4] = ink[0];
      img.data[i * 4 + 1] = ink[1];
      img.data[i * 4 + 2] = ink[2];
      img.data[i * 4 + 3] = bytes[i];
    }
    sctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(small, f.x(-0.5), f.y(-0.5), f.s, f.s);
  }

  paint(ctx, w, h) {
    ctx.fillStyle = this.colors.bg;
    ctx.fillRect(0, 0, w, h);
    this.paintItems(ctx, frame(w, h));
  }

  /* The drawing's items in frame f, over what is there. */
  paintItems(ctx, f) {
    for (const it of this.items) {
      if (it.kind === 'stroke') this.drawStroke(ctx, it.pts, f);
      else this.drawDigit(ctx, it, f);
    }
    if (this.active) this.drawStroke(ctx, this.active.pts, f);
  }

  redraw() {
    this.paint(this.ctx, this.canvas.width, this.canvas.height);
  }

  /* The drawing rendered afresh with the pad's shape, its shorter side
   * `size` px (not a resample of the screen), as the recogniser's input;
   * the image may be the one returned last time, rewritten. */
  snapshot(size = SNAPSHOT) {
    const [w, h] = this.paintSnap(size);
    const box = this.inkBox(w, h);
    if (!box || box.w * box.h > 0.5 * w * h) return this.snapCtx.getImageData(0, 0, w, h);
    /* Reading pixels back costs in proportion to their number, and a new
     * image's memory on first touch (each took 2-3 ms at 560x280 in
     * Chromium here): only the box round the ink is read, into the same
     * image each time, filled with the background colour read beside it. */
    const [bx, by] = box.x > 0 || box.y > 0 ? [0, 0]
      : box.w < w ? [box.w, 0] : [0, box.h];  /* a pixel outside the box */
    const bg = new Uint32Array(this.snapCtx.getImageData(bx, by, 1, 1).data.buffer)[0];
    if (this.snapImg?.width !== w || this.snapImg?.height !== h) this.snapImg = new ImageData(w, h);
    const img = this.snapImg;
    new Uint32Array(img.data.buffer).fill(bg);
    const part = this.snapCtx.getImageData(box.x, box.y, box.w, box.h).data;
    for (let r = 0; r < box.h; r++)
      img.data.set(part.subarray(r * box.w * 4, (r + 1) * box.w * 4), ((box.y + r) * w + box.x) * 4);
    return img;
  }

  /* One digit as the recogniser reads it: the drawing rendered afresh at
   * size px to the pad's shorter side, or smaller, so that the box round
   * its ink is at most fit px on its longer side (the pen in proportion),
   * and only that box, within the pad, with MARGIN px of paper round it.
   * A blank pad gives a blank image. */
  digitSnapshot(fit = FIT, size = SNAPSHOT) {
    const u = this.inkUnits();
    /* the ink's box within the pad, in drawing units */
    const cw = this.canvas.width, ch = this.canvas.height, s = Math.min(cw, ch) || 1;
    const long = u ? Math.max(Math.min(u.x1, cw / s / 2) - Math.max(u.x0, -cw / s / 2),
                              Math.min(u.y1, ch / s / 2) - Math.max(u.y0, -ch / s / 2)) : 0;
    const n = long > 0 ? Math.max(1, Math.round(Math.min(size, fit / long))) : size;
    const [W, H] = this.shape(n);
    const b = this.inkBox(W, H, u) ?? { x: W >> 1, y: H >> 1, w: 0, h: 0 };
    const w = b.w + 2 * MARGIN, h = b.h + 2 * MARGIN;
    if (!this.digitSnap || this.digitSnap.width < w || this.digitSnap.height < h) {
      this.digitSnap = offCanvas(Math.max(w, this.digitSnap?.width ?? 0),
                                 Math.max(h, this.digitSnap?.height ?? 0));
      this.digitCtx = this.digitSnap.getContext('2d', { willReadFrequently: true });
    }
    const ctx = this.digitCtx;
    ctx.fillStyle = this.colors.bg;
    ctx.fillRect(0, 0, w, h);
    ctx.save();
    ctx.translate(MARGIN - b.x, MARGIN - b.y);
    ctx.beginPath();
    ctx.rect(0, 0, W, H);  /* the pad's edge */
    ctx.clip();
    this.paintItems(ctx, frame(W, H));
    ctx.restore();
    return ctx.getImageData(0, 0, w, h);
  }

  /* The pad's [width, height] in px at n px to its shorter side. */
  shape(n) {
    const cw = this.canvas.width, ch = this.canvas.height;
    return cw >= ch ? [Math.round((n * cw) / ch), n] : [n, Math.round((n * ch) / cw)];
  }

  /* The drawing painted on the snapshot's canvas (made or remade for
   * size) -> its [w, h]. */
  paintSnap(size) {
    const [w, h] = this.shape(size);
    if (!this.snap || this.snap.width !== w || this.snap.height !== h) {
      this.snap = offCanvas(w, h);
      this.snapCtx = this.snap.getContext('2d', { willReadFrequently: true });
    }
    this.paint(this.snapCtx, w, h);
    return [w, h];
  }

  /* Make what snapshot(size) and digitSnapshot() keep (their canvases,
   * the image) and read a pixel back from each: a canvas's first read-back
   * and an image's first touch each cost milliseconds, better spent before
   * the first stroke. */
  prepare(size = SNAPSHOT) {
    const [w, h] = this.paintSnap(size);
    this.snapCtx.getImageData(0, 0, 1, 1);
    if (this.snapImg?.width !== w || this.snapImg?.height !== h) this.snapImg = new ImageData(w, h);
    this.snapImg.data.fill(255);
    this.digitSnapshot();
  }

  /* The pixels of a w x h paint() that can hold ink: {x, y, w, h}, or null
   * when there is nothing: the ink's box (u, in drawing units) and AA px
   * round it, within the canvas. */
  inkBox(w, h, u = this.inkUnits()) {
    if (!u) return null;
    const f = frame(w, h);
    const x0 = Math.max(0, Math.floor(f.x(u.x0) - AA)), y0 = Math.max(0, Math.floor(f.y(u.y0) - AA));
    const x1 = Math.min(w, Math.ceil(f.x(u.x1) + AA)), y1 = Math.min(h, Math.ceil(f.y(u.y1) + AA));
    return x1 > x0 && y1 > y0 ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : null;
  }

  /* The box round the ink in drawing units: {x0, y0, x1, y1}, or null
   * when there is none. A stroke's curves keep within its points' box
   * grown by half the pen; a digit fills the centred square. */
  inkUnits() {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    const add = (x, y, m) => {
      x0 = Math.min(x0, x - m); y0 = Math.min(y0, y - m);
      x1 = Math.max(x1, x + m); y1 = Math.max(y1, y + m);
    };
    for (const it of this.active ? [...this.items, this.active] : this.items) {
      if (it.kind !== 'stroke') {
        add(0, 0, 0.5);
        continue;
      }
      for (let i = 0; i < it.pts.length; i += 2) add(it.pts[i], it.pts[i + 1], STROKE / 2);
    }
    return x1 >= x0 ? { x0, y0, x1, y1 } : null;
  }
}

/* Drawing units -> pixels of a w x h surface: s px a unit, the origin at
 * its centre. */
function frame(w, h) {
  const s = Math.min(w, h), cx = w / 2, cy = h / 2;
  return { s, x: (u) => cx + u * s, y: (v) => cy + v * s };
}

/* '#rgb', '#rrggbb' or 'rgb(r, g, b)' -> [r, g, b] */
export function parseColor(s) {
  s = s.trim();
  let m = /^#([0-9a-f]{3})$/i.exec(s);
  if (m) return [...m[1]].map((c) => parseInt(c + c, 16));
  m = /^#([0-9a-f]{6})$/i.exec(s);
  if (m) return [0, 2, 4].map((i) => parseInt(m[1].slice(i, i + 2), 16));
  m = /rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/i.exec(s);
  if (m) return [+m[1], +m[2], +m[3]];
  return [0, 0, 0];
}
