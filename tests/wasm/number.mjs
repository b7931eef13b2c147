/* number.mjs: readNumber (issue 23), the read_number export over
 * dg_read_number, in every build. A three-digit number composed from MNIST
 * test digits (dark ink on light paper, spaced apart) reads as
 * `digits predict --number --json` reads the same picture as a PGM: the
 * same digits, the same boxes to the pixel, confidences within 1e-5. A
 * lone digit reads as predict does; a blank image gives number null; bad
 * input throws a DigitsError (from JS, and from C through the export).
 * The number verifier (models/verifier.safetensors): two 6s whose strokes
 * overlap read as "66" with it, as `digits predict --number --verifier`
 * reads them (the same boxes and confidences), and as `--no-verifier`
 * reads them without it (loadVerifier(null)); an overlapping 2 and 6 read
 * "216" with the first window reader alone and "26" with both averaged
 * (loadVerifier([verifier, verifier2]), as --verifier twice); a model of 10 outputs is
 * refused as a verifier and the loaded one stays. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  describeBuilds, digits, env, grayToRgba, mnist, native, rejects, scratch, writePgm,
} from './lib/harness.mjs';

const model = join(env.models, 'default.safetensors');
const verifier = join(env.models, 'verifier.safetensors');
const verifier2 = join(env.models, 'verifier2.safetensors');
const TOL = 1e-5;

/* MNIST test digits (white on black, 28x28) side by side on white paper,
 * each scaled by `scale` (nearest neighbour), `gap` pixels apart. */
function compose(indices, { scale = 3, gap = 16, margin = 20 } = {}) {
  const t = mnist('t10k', Math.max(...indices) + 1);
  const s = 28 * scale;
  const width = 2 * margin + indices.length * s + (indices.length - 1) * gap;
  const height = 2 * margin + s;
  const gray = new Uint8Array(width * height).fill(255);
  indices.forEach((k, j) => {
    const x0 = margin + j * (s + gap);
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++)
        gray[(margin + y) * width + x0 + x] =
          255 - t.pixels[k * 784 + Math.floor(y / scale) * 28 + Math.floor(x / scale)];
  });
  return { gray, width, height, label: [...indices].map((k) => t.labels[k]).join('') };
}

/* Two MNIST test digits (first of label a, first of label b from index
 * 1) scaled 3x on white, the second `off` source columns right of the
 * first: their strokes overlap (darker wins). */
function overlapping(a, b, off) {
  const t = mnist('t10k', 200);
  const first = (d, from) => { for (let i = from; ; i++) if (t.labels[i] === d) return i; };
  const width = 220, height = 120, gray = new Uint8Array(width * height).fill(255);
  [[first(a, 0), 10], [first(b, 1), 10 + off * 3]].forEach(([k, x0]) => {
    for (let y = 0; y < 84; y++)
      for (let x = 0; x < 84; x++) {
        const g = 255 - t.pixels[k * 784 + Math.floor(y / 3) * 28 + Math.floor(x / 3)];
        const i = (10 + y) * width + x0 + x;
        gray[i] = Math.min(gray[i], g);
      }
  });
  return { gray, width, height };
}

/* t10k images 0, 1, 2 are a 7, a 2 and a 1 */
const three = compose([0, 1, 2]);
const one = compose([0]);
const blank = { gray: new Uint8Array(200 * 100).fill(255), width: 200, height: 100 };
const rgba = (p) => ({ data: grayToRgba(p.gray), width: p.width, height: p.height });

const tmp = scratch('number');
const sixes = overlapping(6, 6, 14), twoSix = overlapping(2, 6, 14);
const files = { three: join(tmp, 'three.pgm'), one: join(tmp, 'one.pgm'), sixes: join(tmp, 'sixes.pgm'),
                twoSix: join(tmp, 'two-six.pgm') };
writePgm(files.twoSix, twoSix.width, twoSix.height, twoSix.gray);
writePgm(files.three, three.width, three.height, three.gray);
writePgm(files.sixes, sixes.width, sixes.height, sixes.gray);
writePgm(files.one, one.width, one.height, one.gray);
let nat = null;

test('native predict --number --json reads the composed number', () => {
  const r = native(['predict', '--number', '--json', '--model', model, files.three]);
  assert.ok(r.status === 0, `native --number: exit status ${r.status}: ${r.stderr}`);
  nat = JSON.parse(r.stdout.trim());
  assert.ok(nat.number === three.label, `native reads ${three.label}: ${r.stdout}`);
});

const natSixes = {}, natTwoSix = {};
test('native: two overlapping 6s read "66" with the verifier', () => {
  for (const [k, opt] of [['with', ['--verifier', verifier]], ['without', ['--no-verifier']],
                          ['both', ['--verifier', verifier, '--verifier', verifier2]]]) {
    const r = native(['predict', '--number', '--json', '--model', model, ...opt, files.sixes]);
    assert.ok(r.status === 0, `native ${k}: exit status ${r.status}: ${r.stderr}`);
    natSixes[k] = JSON.parse(r.stdout.trim());
  }
  assert.ok(natSixes.with.number === '66', `with the verifier: ${natSixes.with.number}`);
  assert.ok(natSixes.without.number !== '66', `without: ${natSixes.without.number}`);
  assert.ok(natSixes.both.number === '66', `with both window readers: ${natSixes.both.number}`);
  /* an overlapping 2 and 6 the first window reader alone reads "216" */
  for (const [k, opt] of [['one', ['--verifier', verifier]],
                          ['both', ['--verifier', verifier, '--verifier', verifier2]]]) {
    const r = native(['predict', '--number', '--json', '--model', model, ...opt, files.twoSix]);
    assert.ok(r.status === 0, `native ${k}: exit status ${r.status}: ${r.stderr}`);
    natTwoSix[k] = JSON.parse(r.stdout.trim());
  }
  assert.ok(natTwoSix.one.number === '216', `the first alone: ${natTwoSix.one.number}`);
  assert.ok(natTwoSix.both.number === '26', `both: ${natTwoSix.both.number}`);
});

/* res (readNumber) against a native --json reading n */
function sameAsNative(b, res, n) {
  assert.ok(res.number === n.number && res.digits.length === n.digits.length,
            `${b}: ${res.number}, native ${n.number}`);
  res.digits.forEach((d, i) => {
    assert.deepEqual(d.box, n.digits[i].box, `${b}: digit ${i}'s box`);
    assert.ok(Math.abs(d.confidence - n.digits[i].confidence) <= TOL,
              `${b}: digit ${i}'s confidence ${d.confidence}, native ${n.digits[i].confidence}`);
  });
}

describeBuilds({ model }, (b, ctx) => {
  test('the verifier: as the CLI with and without it; a 10-output model refused', async () => {
    assert.ok(natSixes.with, `${b}: the native readings exist`);
    assert.equal(await ctx.rec.loadVerifier(verifier), true);
    sameAsNative(`${b} with the verifier`, await ctx.rec.readNumber(rgba(sixes)), natSixes.with);
    await rejects(() => ctx.rec.loadVerifier(model), `${b}: the digit model as verifier`,
                  (e) => e instanceof digits.DigitsError && /gives 11/.test(e.message));
    sameAsNative(`${b} still with it`, await ctx.rec.readNumber(rgba(sixes)), natSixes.with);
    assert.equal(await ctx.rec.loadVerifier(null), false);
    sameAsNative(`${b} without`, await ctx.rec.readNumber(rgba(sixes)), natSixes.without);
  });

  test('two window readers averaged: as the CLI with --verifier twice; a mix refused', async () => {
    assert.ok(natSixes.both, `${b}: the native reading exists`);
    assert.equal(await ctx.rec.loadVerifier([verifier, verifier2]), true);
    sameAsNative(`${b} with both`, await ctx.rec.readNumber(rgba(sixes)), natSixes.both);
    sameAsNative(`${b} 2 and 6 with both`, await ctx.rec.readNumber(rgba(twoSix)), natTwoSix.both);
    assert.equal(await ctx.rec.loadVerifier(verifier), true);
    sameAsNative(`${b} 2 and 6 with one`, await ctx.rec.readNumber(rgba(twoSix)), natTwoSix.one);
    assert.equal(await ctx.rec.loadVerifier([verifier, verifier2]), true);
    await rejects(() => ctx.rec.loadVerifier([verifier, model]), `${b}: a digit model among them`,
                  (e) => e instanceof digits.DigitsError && /window reader averaged/.test(e.message));
    await rejects(() => ctx.rec.loadVerifier(Array(5).fill(verifier)), `${b}: five`,
                  (e) => e instanceof digits.DigitsError && /at most 4 verifiers/.test(e.message));
    sameAsNative(`${b} still with both`, await ctx.rec.readNumber(rgba(sixes)), natSixes.both);
    assert.throws(() => ctx.rec.net.readNumber(rgba(sixes), Array(5).fill(ctx.rec.verifiers[0])),
                  (e) => e instanceof digits.DigitsError && /at most 4 verifiers/.test(e.message));
    assert.equal(await ctx.rec.loadVerifier(null), false);
  });

  test('a three-digit number: the same digits, boxes and confidences as the CLI', async () => {
    assert.ok(nat, `${b}: the native reading exists`);
    const res = await ctx.rec.readNumber(rgba(three));
    assert.ok(res.number === nat.number, `${b}: number ${res.number}, native ${nat.number}`);
    assert.ok(res.digits.length === nat.digits.length, `${b}: ${res.digits.length} digits, ` +
              `native ${nat.digits.length}`);
    assert.ok(Math.abs(res.confidence - nat.confidence) <= TOL,
              `${b}: confidence ${res.confidence}, native ${nat.confidence}`);
    res.digits.forEach((d, i) => {
      const n = nat.digits[i];
      assert.ok(d.digit === n.digit, `${b}: digit ${i}: ${d.digit}, native ${n.digit}`);
      assert.deepEqual(d.box, n.box, `${b}: digit ${i}'s box ${d.box}, native ${n.box}`);
      assert.ok(Math.abs(d.confidence - n.confidence) <= TOL,
                `${b}: digit ${i}'s confidence ${d.confidence}, native ${n.confidence}`);
      assert.ok(d.uncertain === n.unsure, `${b}: digit ${i} uncertain ${d.uncertain}`);
      assert.ok(d.probs.length === 10 && d.probs[d.digit] === d.confidence,
                `${b}: digit ${i}'s probs hold its confidence`);
    });
    assert.ok(res.photo === nat.photo && res.split === nat.split,
              `${b}: photo ${res.photo}/${nat.photo}, split ${res.split}/${nat.split}`);
  });

  test('a lone digit reads as predict', async () => {
    const [p, n] = [await ctx.rec.predict(rgba(one)), await ctx.rec.readNumber(rgba(one))];
    assert.ok(n.number === String(p.digit) && n.digits.length === 1,
              `${b}: lone digit: readNumber ${n.number}, predict ${p.digit}`);
    assert.ok(n.digits[0].confidence === p.confidence && n.confidence === p.confidence,
              `${b}: the same confidence: ${n.digits[0].confidence} vs ${p.confidence}`);
    assert.deepEqual(Array.from(n.digits[0].probs), Array.from(p.probs), `${b}: the same probs`);
    assert.deepEqual(n.digits[0].box, p.box, `${b}: the same box`);
  });

  test('a blank image: number null', async () => {
    const res = await ctx.rec.readNumber(rgba(blank));
    assert.ok(res.number === null && res.digits.length === 0 && res.confidence === 0,
              `${b}: blank: ${JSON.stringify(res)}`);
  });

  test('bad input: a DigitsError', async () => {
    const isArg = (e) => e instanceof digits.DigitsError && e.code === digits.Status.ARG;
    await rejects(() => ctx.rec.readNumber({ data: new Uint8Array(10), width: 5, height: 5 }),
                  `${b}: 10 bytes for 5x5`, (e) => isArg(e) && /10 bytes for 5x5x4/.test(e.message));
    await rejects(() => ctx.rec.readNumber(42), `${b}: a number`, isArg);
    assert.throws(() => ctx.rec.readNumberSync({ data: new Uint8Array(0), width: 0, height: 0 }),
                  (e) => isArg(e) && /0x0/.test(e.message), `${b}: 0x0 image`);
    /* the export itself refuses a null image with the C message */
    const m = ctx.rec.mod;
    const out = m.scratchBuf('t-number', digits.constants.NumberResult.bytes);
    const st = m.exports.read_number(ctx.rec.net.h(), 0, 0, 0, 10, 10, out, out, out);
    assert.throws(() => m.check(st), (e) => isArg(e) && /number: null argument/.test(e.message),
                  `${b}: read_number with no pixels: status ${st}`);
  });
});
