/* relax.mjs: web/tools/relax-wasm.mjs, the step that gives emcc 3.1.6's
 * relaxed-SIMD output the standard encoding, on a hand-assembled module:
 * the prototype fused multiply-add (0xfd 0xaf) becomes f32x4.relaxed_madd
 * (0xfd 0x105) and computes a*b + c; the same bytes inside a v128.const
 * immediate are left alone; a second run changes nothing; the shipped
 * digits-relaxed.wasm has only standard ones; truncated, foreign and
 * undecodable input is refused with a message (module and command line). */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { RELAXED, ROOT, env, scratch } from './lib/harness.mjs';

const tool = join(ROOT, 'web/tools/relax-wasm.mjs');
const { relax } = await import(pathToFileURL(tool).href);

const leb = (n) => { const o = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };
const section = (id, bytes) => [id, ...leb(bytes.length), ...bytes];
/* (f32 a, f32 b, f32 c) -> f32: lane 0 of madd(splat a, splat b, splat c),
 * after a dropped v128.const whose immediate holds 0xfd 0xaf 0x01 */
const MADD_AT = 12;   /* offset of the madd's opcode bytes in the body's code */
function module() {
  const code = [
    0x20, 0, 0xfd, 0x13, 0x20, 1, 0xfd, 0x13, 0x20, 2, 0xfd, 0x13,
    0xfd, 0xaf, 0x01,                                   /* prototype madd */
    0xfd, 0x1f, 0,                                      /* f32x4.extract_lane 0 */
    0xfd, 0x0c, 0xfd, 0xaf, 0x01, 0xfd, 0xaf, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x1a,                                               /* v128.const ..; drop */
    0x0b,
  ];
  const body = [0, ...code];                            /* no locals */
  return new Uint8Array([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 3, 0x7d, 0x7d, 0x7d, 1, 0x7d]),
    ...section(3, [1, 0]),
    ...section(7, [1, 1, 0x66, 0, 0]),                  /* export "f" */
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}
const codeStart = (bytes) => bytes.length - 38;         /* the body's code: the last 38 bytes */

const before = module();       /* the prototype encoding, never changed */
const m = Uint8Array.from(before);
let c = null;                 /* relax(m)'s counts */

test('one prototype madd rewritten, nothing else', () => {
  c = relax(m);
  assert.ok(c.rewritten === 1 && c.standard === 0, `one prototype madd rewritten: ${JSON.stringify(c)}`);
  const s = codeStart(m) + MADD_AT;
  assert.ok(m[s] === 0xfd && m[s + 1] === 0x85 && m[s + 2] === 0x02, 'as 0xfd 0x85 0x02 (0x105): ' +
            [...m.slice(s, s + 3)].map((b) => b.toString(16)).join(' '));
  const diff = [...m].map((b, i) => b !== before[i] ? i : -1).filter((i) => i >= 0);
  assert.ok(diff.length === 2 && diff[0] === s + 1,
            `nothing else changed (the v128.const immediate keeps its bytes): changed bytes ${diff}`);
  const again = relax(m);
  assert.ok(again.rewritten === 0 && again.standard === 1, `a second run is a no-op: ${JSON.stringify(again)}`);
});

test('the rewritten module validates and computes a*b + c', {
  skip: !RELAXED && 'no relaxed SIMD in this Node: validation and execution not checked',
}, async (t) => {
  if (!c) return t.skip('the rewrite above did not run');
  assert.ok(!WebAssembly.validate(before), 'the prototype encoding does not validate');
  assert.ok(WebAssembly.validate(m), 'the rewritten module validates');
  const { instance } = await WebAssembly.instantiate(m);
  const r = instance.exports.f(2, 3, 1);
  assert.ok(r === 7, `and computes a*b + c: f(2, 3, 1) = ${r}`);
});

/* the shipped build went through it */
test('digits-relaxed.wasm: only standard fused multiply-adds', () => {
  const shipped = new Uint8Array(readFileSync(join(env.wasm, 'digits-relaxed.wasm')));
  const sc = relax(shipped);
  assert.ok(sc.rewritten === 0 && sc.standard > 100,
            `digits-relaxed.wasm: only standard fused multiply-adds: ${JSON.stringify(sc)}`);
});

/* bad input: an error naming the problem, never a half-patched file */
test('bad input is refused with a message', () => {
  const refuses = (bytes, re, what) => assert.throws(() => relax(bytes), re, what);
  refuses(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), /not a WebAssembly module/, 'foreign bytes refused');
  refuses(before.slice(0, before.length - 10), /runs past the end|unexpected end/, 'a truncated module refused');
  refuses(before.slice(0, 8), /no code section/, 'a module without code refused');
  const bad = Uint8Array.from(before);
  bad[codeStart(bad)] = 0xf0;                           /* not an opcode */
  refuses(bad, /unknown opcode 0xf0/, 'an unknown opcode refused');
});

/* the command line: counts, writes, and exits 1 with a message */
test('the command line', () => {
  const tmp = scratch('relax');
  const inp = join(tmp, 'proto.wasm'), out = join(tmp, 'std.wasm');
  writeFileSync(inp, before);
  let r = spawnSync(process.execPath, [tool, inp, out], { encoding: 'utf8' });
  assert.ok(r.status === 0 && /1 fused multiply-adds rewritten, 0 already standard/.test(r.stdout),
            `CLI: rewrites and says so: ${r.status} ${r.stdout}${r.stderr}`);
  const want = Uint8Array.from(before);
  relax(want);
  assert.ok(Buffer.compare(readFileSync(out), Buffer.from(want)) === 0, 'CLI: writes the rewritten module');
  const trunc = join(tmp, 'trunc.wasm');
  writeFileSync(trunc, before.slice(0, 30));
  r = spawnSync(process.execPath, [tool, trunc, join(tmp, 'never.wasm')], { encoding: 'utf8' });
  assert.ok(r.status === 1 && r.stderr.includes('trunc.wasm') && !/at .*\.mjs:\d+/.test(r.stderr),
            `CLI: a truncated file exits 1 with a one-line message: ${r.status} ${r.stderr}`);
  let wrote = true;
  try { readFileSync(join(tmp, 'never.wasm')); } catch { wrote = false; }
  assert.ok(!wrote, 'CLI: and writes nothing');
});
