/* photo_info.mjs: what predict() says besides the digit (issue 18), in every
 * build: box ([x, y, w, h] of the ink read, in the image's pixels), photo
 * (paper illumination divided out), the counts of dg_preprocess_info, and
 * the two ways of declining to guess: empty (no ink) and uncertain (several
 * digit-sized shapes, digit null, a blank input). The same pictures as PGM
 * through `digits predict --json` give the same box, photo flag and verdict,
 * since both run dg_preprocess_ex. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeBuilds, digits, env, native, scratch, writePgm } from './lib/harness.mjs';

const model = join(env.models, 'default.safetensors');

/* A gray picture w x h: paper from bg(x, y), dark rectangles [x, y, w, h]. */
function picture(w, h, rects, bg = () => 250) {
  const g = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) g[y * w + x] = bg(x, y);
  for (const [x0, y0, rw, rh] of rects)
    for (let y = y0; y < y0 + rh; y++) for (let x = x0; x < x0 + rw; x++) g[y * w + x] = 20;
  return { gray: g, width: w, height: h };
}

const rgba = ({ gray, width, height }) => {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < gray.length; i++) {
    data[i * 4] = data[i * 4 + 1] = data[i * 4 + 2] = gray[i];
    data[i * 4 + 3] = 255;
  }
  return { data, width, height };
};

const CASES = {
  /* a "1" on flat paper, as a drawing: the box is the bar exactly */
  bar: { pic: picture(300, 200, [[120, 40, 12, 120]]), box: [120, 40, 12, 120], photo: false },
  /* the same on paper lit from one side: read as a photo */
  lit: { pic: picture(600, 400, [[300, 100, 20, 200]], (x) => Math.round(250 - x * 0.25)),
         box: [300, 100, 20, 200], photo: true },
  /* two digit-sized strokes far apart: no clear winner */
  two: { pic: picture(400, 200, [[60, 40, 12, 120], [320, 40, 12, 120]]), uncertain: true },
  /* blank paper */
  blank: { pic: picture(300, 200, []), empty: true },
};

const tmp = scratch('photo-info');
const files = {};
for (const [name, c] of Object.entries(CASES)) {
  files[name] = join(tmp, `${name}.pgm`);
  writePgm(files[name], c.pic.width, c.pic.height, c.pic.gray);
}
let nat = new Map();   /* file -> the CLI's JSON line */

test('native predict --json: a line per image', () => {
  const r = native(['predict', '--json', '--model', model, ...Object.values(files)]);
  const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  nat = new Map(lines.map((o) => [o.file, o]));
  assert.ok(nat.size === Object.keys(CASES).length, 'native predict --json: a line per image: ' +
            `${nat.size} lines; stderr ${r.stderr}`);
});

/* What predict() says about one case, then the CLI on the same pixels:
 * the same verdict, box and path. */
function checkCase(what, c, res, n) {
  const i = res.info;
  assert.ok(i && Number.isInteger(i.kept) && Number.isInteger(i.candidates) && i.scale >= 1,
            `${what}: info has the counts: ${JSON.stringify(i)}`);
  if (c.empty) {
    assert.ok(res.empty && !res.uncertain && res.digit === null && res.box === null,
              `${what}: empty, no digit, no box: ${JSON.stringify(res.info)}`);
  } else if (c.uncertain) {
    assert.ok(res.uncertain && !res.empty && res.digit === null, `${what}: uncertain, no digit: ` +
              `digit ${res.digit}, empty ${res.empty}, uncertain ${res.uncertain}`);
    assert.ok(i.candidates > 1, `${what}: more than one candidate: ${i.candidates}`);
    assert.ok(res.input.every((v) => v === 0), `${what}: the input shown is blank`);
  } else {
    assert.ok(res.digit === 1 && !res.empty && !res.uncertain, `${what}: reads 1: ${res.digit}`);
    assert.ok(JSON.stringify(res.box) === JSON.stringify(c.box), `${what}: box is the bar: ` +
              `${JSON.stringify(res.box)}, want ${JSON.stringify(c.box)}`);
    assert.ok(res.photo === c.photo, `${what}: photo ${c.photo}: ${res.photo}`);
    assert.ok(i.kept >= 1 && i.candidates >= 1, `${what}: one shape kept: ${JSON.stringify(i)}`);
  }
  assert.ok(n != null, `${what}: native line present`);
  assert.ok(n.digit === res.digit, `${what}: native digit ${n.digit}: wasm ${res.digit}`);
  if (res.box) {
    assert.ok(JSON.stringify(n.box) === JSON.stringify(res.box), `${what}: native box: ` +
              `${JSON.stringify(n.box)} vs ${JSON.stringify(res.box)}`);
    assert.ok(Boolean(n.photo) === res.photo, `${what}: native photo flag: ${n.photo}`);
  }
}

describeBuilds({ model }, (b, ctx) => {
  for (const [name, c] of Object.entries(CASES)) {
    test(name, async () => {
      checkCase(`${b}: ${name}`, c, await ctx.rec.predict(rgba(c.pic)), nat.get(files[name]));
    });
  }
  /* a plain 28x28 input has no box (predictInput skips preprocessing) */
  test('predictInput has box null', async () => {
    const raw = await ctx.rec.predictInput(new Float32Array(784));
    assert.ok(raw.box === null && raw.uncertain === false, `${b}: predictInput has box null`);
  });
});
