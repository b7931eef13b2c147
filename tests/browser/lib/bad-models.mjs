// tests/browser/lib/bad-models.mjs: the model uploads the robustness tests
// (tests/browser/robustness.mjs, engines/robustness.mjs) feed the page.
// good: a model file with a checksum, made by the WASM build under Node
// (the shipped models predate the checksum); uploads: [name, bytes, the
// message the page must give] for a flipped weight bit, a truncated file,
// a picture and an empty file.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './harness.mjs';

export async function badModels(wasmBase = process.env.DIGITS_WASM || path.join(ROOT, 'web', 'build')) {
  const { createTrainer } = await import(pathToFileURL(path.join(ROOT, 'web', 'lib', 'digits.js')).href);
  const trainer = await createTrainer({ arch: 'logreg', seed: 3, wasmBase });
  const good = trainer.saveModel({ note: 'robustness test' });
  trainer.free();
  const hdr = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true));
  const flipped = good.slice();
  flipped[8 + hdr + 1234] ^= 0x10;  /* one bit of one weight */
  const uploads = [
    ['flipped.safetensors', flipped, /model file is damaged: the CRC-32 of its architecture and weights is/],
    ['truncated.safetensors', good.subarray(0, good.length >> 1), /data_offsets .* out of range/],
    ['picture.safetensors', fs.readFileSync(path.join(ROOT, 'docs', 'examples', 'drawn-7.png')),
     /model header length \d+ is absurd/],
    ['empty.safetensors', new Uint8Array(0), /empty/],
  ];
  return { good, uploads };
}
