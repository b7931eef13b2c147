/* compact.mjs [--mantissa N | --int8] IN OUT: a model file stored smaller.
 * By default its F32 tensors are rounded to F16 (to nearest, ties to even),
 * half the size. --mantissa N (1..10, default 10: all of F16's) first
 * rounds each value to N mantissa bits (to nearest even), leaving F16's
 * low 10-N bits zero: the file is as large, but gzip and brotli compress it
 * further. --int8: every weight of 2+ dimensions becomes I8, quantized
 * symmetrically per output channel (the last axis: scale = largest |w| of
 * the channel / 127, q = round(w / scale)), with its scales as the F32
 * tensor "NAME.scale" beside it; the other tensors (biases, batch-norm
 * statistics) become F16 (docs/model-format.md; the default model).
 * Metadata is kept, with "storage" added to say so and "crc32" (when the
 * file has one) recomputed for the new bytes. Refuses values beyond F16's
 * range rather than turning them into infinities.
 *   node models/compact.mjs models/mlp-dropout.safetensors models/mlp-dropout.safetensors
 *   node models/compact.mjs --int8 runs/default-f32.safetensors models/default.safetensors */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);

/* x (a float32) rounded to n mantissa bits, to nearest even. */
export function roundMantissa(x, n) {
  if (n >= 23 || !Number.isFinite(x)) return x;
  f32[0] = x;
  const drop = 23 - n, b = u32[0], half = 2 ** (drop - 1), rest = b % 2 ** drop;
  let r = b - rest;
  if (rest > half || (rest === half && Math.floor(b / 2 ** drop) % 2)) r += 2 ** drop;
  u32[0] = r;
  return f32[0];
}

/* IEEE 754 binary16 bits of x (a float32), rounded to nearest even. */
export function toHalf(x) {
  f32[0] = x;
  const b = u32[0], sign = (b >>> 16) & 0x8000, exp = (b >>> 23) & 0xff, man = b & 0x7fffff;
  if (exp === 0xff || Math.abs(x) >= 65520) throw new Error(`value ${x} does not fit F16`);
  const e = exp - 127 + 15;
  if (e >= 1) {                                     /* normal */
    let h = (e << 10) | (man >>> 13);
    const rest = man & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
    return sign | h;
  }
  if (e < -10) return sign;                         /* rounds to zero */
  const m = man | 0x800000, shift = 14 - e;         /* subnormal */
  let h = m >>> shift;
  const rest = m & ((1 << shift) - 1), half = 1 << (shift - 1);
  if (rest > half || (rest === half && (h & 1))) h++;
  return sign | h;
}

/* F16 bytes of F32 values, each first rounded to `mantissa` bits. */
function halves(values, mantissa) {
  const h = Buffer.alloc(values.length * 2);
  values.forEach((x, i) => h.writeUInt16LE(toHalf(mantissa < 10 ? roundMantissa(x, mantissa) : x), 2 * i));
  return h;
}

/* [q (I8 bytes), scales (F32 bytes)] of values shaped [..., C]. */
export function quantize(values, channels) {
  const peak = new Float32Array(channels);
  values.forEach((x, i) => { peak[i % channels] = Math.max(peak[i % channels], Math.abs(x)); });
  const scale = Float32Array.from(peak, (m) => (m > 0 ? m / 127 : 1));
  const q = Buffer.alloc(values.length);
  values.forEach((x, i) => q.writeInt8(Math.max(-127, Math.min(127, Math.round(x / scale[i % channels]))), i));
  return [q, Buffer.from(scale.buffer)];
}

/* The output file's tensors: [name, dtype, shape, bytes]. */
function convert(name, t, bytes, { mantissa, int8 }) {
  if (t.dtype === 'F16') return [[name, 'F16', t.shape, bytes]];
  if (t.dtype !== 'F32') throw new Error(`tensor ${name}: dtype ${t.dtype}`);
  const values = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(4 * i));
  if (!int8 || t.shape.length < 2 || name.startsWith('__')) return [[name, 'F16', t.shape, halves(values, mantissa)]];
  const c = t.shape[t.shape.length - 1], [q, scale] = quantize(values, c);
  return [[name, 'I8', t.shape, q], [`${name}.scale`, 'F32', [c], scale]];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2), opt = { mantissa: 10, int8: false };
  if (args[0] === '--mantissa') {
    opt.mantissa = Number(args[1]);
    args.splice(0, 2);
  } else if (args[0] === '--int8') {
    opt.int8 = true;
    args.splice(0, 1);
  }
  const [inp, out] = args;
  const { mantissa } = opt;
  if (!inp || !out || args.length !== 2 || !Number.isInteger(mantissa) || mantissa < 1 || mantissa > 10) {
    console.error('usage: node models/compact.mjs [--mantissa 1..10 | --int8] IN.safetensors OUT.safetensors');
    process.exit(2);
  }
  try {
    const b = readFileSync(inp);
    const n = Number(b.readBigUInt64LE(0));
    if (n <= 0 || 8 + n > b.length) throw new Error('not a safetensors file');
    const head = JSON.parse(b.subarray(8, 8 + n).toString('utf8'));
    const data = b.subarray(8 + n), outHead = {}, blobs = [];
    let off = 0;
    for (const [name, t] of Object.entries(head)) {
      if (name === '__metadata__') {
        outHead[name] = { ...t, storage: opt.int8
          ? 'I8 weights per output channel, F16 biases and statistics (models/compact.mjs --int8, from the F32 training output)'
          : mantissa === 10 ? 'F16 (models/compact.mjs, from the F32 training output)'
          : `F16 with ${mantissa} mantissa bits (models/compact.mjs --mantissa ${mantissa}, from the F32 training output)` };
        continue;
      }
      const [s, e] = t.data_offsets;
      for (const [nm, dtype, shape, bytes] of convert(name, t, data.subarray(s, e), opt)) {
        outHead[nm] = { dtype, shape, data_offsets: [off, off + bytes.length] };
        blobs.push(bytes);
        off += bytes.length;
      }
    }
    /* the loader's check: CRC-32 of the arch string, then every tensor byte */
    const meta = outHead.__metadata__;
    if (meta?.crc32 !== undefined) {
      if (typeof meta.arch !== 'string') throw new Error('crc32 without an arch string');
      meta.crc32 = crc32(Buffer.concat(blobs), crc32(meta.arch)).toString(16).padStart(8, '0');
    }
    let json = JSON.stringify(outHead);
    json += ' '.repeat((8 - (json.length % 8)) % 8);  /* data 8-byte aligned */
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    writeFileSync(`${out}.tmp`, Buffer.concat([len, Buffer.from(json), ...blobs]));
    renameSync(`${out}.tmp`, out);
    console.log(`compact: ${inp} (${b.length} bytes) -> ${out} (${8 + Buffer.byteLength(json) + off} bytes)`);
  } catch (e) {
    console.error(`compact: ${inp}: ${e.message}`);
    process.exit(1);
  }
}
