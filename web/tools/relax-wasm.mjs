/* relax-wasm.mjs IN.wasm [OUT.wasm]: give a module built by emcc 3.1.6
 * with -mrelaxed-simd the standard encoding of relaxed SIMD.
 *
 * Debian's emcc 3.1.6 (LLVM 14, binaryen 108) compiles relaxed SIMD's fused
 * multiply-add (__builtin_wasm_fma_f32x4) to the proposal's prototype
 * opcode 0xfd 0xaf; the standard gave f32x4.relaxed_madd 0xfd 0x105, the
 * one engines accept (Chromium 114+, Firefox 120+, Node 22+; Node 20 with
 * --experimental-wasm-relaxed-simd). Both are a*b + c on the stack values
 * a, b, c and both LEB128 opcodes take two bytes, so the rewrite is in
 * place. Every instruction of the code section is decoded (a byte search
 * could hit an immediate) and the module is otherwise left as it is; any
 * other prototype relaxed opcode would stay, for validation (the build
 * validates the result) to refuse. Prints how many instructions it
 * rewrote (and how many were already standard: a second run is a no-op);
 * with no OUT it only counts. Exit status 1 with a message on
 * anything it cannot decode. */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';

const OLD_MADD = 0xaf, NEW_MADD = 0x105;

class Reader {
  constructor(bytes, pos, end) { this.b = bytes; this.p = pos; this.end = end; }
  byte() {
    if (this.p >= this.end) throw new Error(`unexpected end at byte ${this.p}`);
    return this.b[this.p++];
  }
  /* unsigned (or, skipping only, signed) LEB128; returns the value */
  leb(maxBytes = 10) {
    let v = 0, mul = 1;
    for (let i = 0; i < maxBytes; i++) {
      const x = this.byte();
      v += (x & 0x7f) * mul;
      mul *= 128;
      if (!(x & 0x80)) return v;
    }
    throw new Error(`LEB128 longer than ${maxBytes} bytes at byte ${this.p}`);
  }
  skip(n) {
    if (this.p + n > this.end) throw new Error(`unexpected end at byte ${this.p}`);
    this.p += n;
  }
  memarg() { this.leb(5); this.leb(10); }
}

const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);

/* decode one function body's instructions, patching as it goes; counts
 * into c.rewritten and c.standard (already f32x4.relaxed_madd) */
function body(r, bytes, c) {
  for (let groups = r.leb(5); groups > 0; groups--) { r.leb(5); r.byte(); }
  while (r.p < r.end) {
    const at = r.p, op = r.byte();
    if (op === 0x02 || op === 0x03 || op === 0x04) {       /* block loop if */
      const t = bytes[r.p];
      if (t === 0x40 || VALTYPES.has(t)) r.byte(); else r.leb(5);
    } else if (op === 0x0c || op === 0x0d || (op >= 0x20 && op <= 0x26) ||
               op === 0x10 || op === 0x12 || op === 0xd2 || op === 0x3f || op === 0x40) {
      r.leb(5);
    } else if (op === 0x0e) {                               /* br_table */
      for (let k = r.leb(5); k >= 0; k--) r.leb(5);
    } else if (op === 0x11 || op === 0x13) {                /* call_indirect */
      r.leb(5); r.leb(5);
    } else if (op === 0x1c) {                               /* select t* */
      r.skip(r.leb(5));
    } else if (op >= 0x28 && op <= 0x3e) {                  /* loads, stores */
      r.memarg();
    } else if (op === 0x41 || op === 0x42) {                /* i32/i64.const */
      r.leb(10);
    } else if (op === 0x43) { r.skip(4);
    } else if (op === 0x44) { r.skip(8);
    } else if (op === 0xd0) { r.byte();                     /* ref.null t */
    } else if (op === 0xfc) {
      const sub = r.leb(5);
      if (sub <= 7) { /* saturating truncations */
      } else if (sub === 8 || sub === 12 || sub === 14) { r.leb(5); r.leb(5);
      } else if (sub === 10) { r.leb(5); r.leb(5);
      } else if (sub === 9 || sub === 11 || sub === 13 || (sub >= 15 && sub <= 17)) { r.leb(5);
      } else throw new Error(`unknown 0xfc ${sub} at byte ${at}`);
    } else if (op === 0xfd) {
      const subAt = r.p, sub = r.leb(5);
      if (sub <= 0x0b || sub === 0x5c || sub === 0x5d) r.memarg();
      else if (sub === 0x0c || sub === 0x0d) r.skip(16);     /* const, shuffle */
      else if (sub >= 0x15 && sub <= 0x22) r.byte();         /* lanes */
      else if (sub >= 0x54 && sub <= 0x5b) { r.memarg(); r.byte(); }
      else if (sub === OLD_MADD) {
        if (r.p - subAt !== 2) throw new Error(`odd encoding of 0xfd ${sub} at byte ${at}`);
        bytes[subAt] = 0x80 | (NEW_MADD & 0x7f);
        bytes[subAt + 1] = NEW_MADD >> 7;
        c.rewritten++;
      } else if (sub === NEW_MADD) { /* already standard: a second run changes nothing */
        c.standard++;
      } else if (sub > 0xff) throw new Error(`unexpected SIMD opcode 0x${sub.toString(16)} at byte ${at}`);
    } else if (op === 0xfe || (op >= 0x06 && op <= 0x0a) || op === 0x18 || op === 0x19) {
      throw new Error(`opcode 0x${op.toString(16)} (atomics or exceptions) at byte ${at}: not expected in this build`);
    } else if (op > 0xc4 && op !== 0xd1) {
      throw new Error(`unknown opcode 0x${op.toString(16)} at byte ${at}`);
    }
    /* everything else (control without immediates, numeric ops) has none */
  }
  if (r.p !== r.end) throw new Error('function body overruns its size');
}

export function relax(bytes) {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 ||
      bytes[3] !== 0x6d || bytes[4] !== 1)
    throw new Error('not a WebAssembly module (version 1)');
  const r = new Reader(bytes, 8, bytes.length);
  const c = { rewritten: 0, standard: 0 };
  let code = false;
  while (r.p < r.end) {
    const id = r.byte(), size = r.leb(5), end = r.p + size;
    if (end > bytes.length) throw new Error(`section ${id} runs past the end`);
    if (id === 10) {
      code = true;
      const s = new Reader(bytes, r.p, end);
      for (let f = s.leb(5); f > 0; f--) {
        const len = s.leb(5);
        body(new Reader(bytes, s.p, s.p + len), bytes, c);
        s.skip(len);
      }
      if (s.p !== end) throw new Error('code section size mismatch');
    }
    r.p = end;
  }
  if (!code) throw new Error('no code section');
  return c;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [inp, out] = process.argv.slice(2);
  if (!inp) {
    console.error('usage: node relax-wasm.mjs IN.wasm [OUT.wasm]');
    process.exit(2);
  }
  try {
    const bytes = new Uint8Array(readFileSync(inp));
    const n = relax(bytes);
    if (out) {
      writeFileSync(`${out}.tmp`, bytes);
      renameSync(`${out}.tmp`, out);
    }
    console.log(`relax-wasm: ${inp}: ${n.rewritten} fused multiply-adds rewritten, ` +
                `${n.standard} already standard${out ? ` -> ${out}` : ''}`);
  } catch (e) {
    console.error(`relax-wasm: ${inp}: ${e.message}`);
    process.exit(1);
  }
}
