// web/tools/png.mjs: a PNG encoder for the repository's scripts (the icons
// of make-icons.mjs, the test images of tests/cli/mkdata.mjs): 8-bit gray,
// RGB or RGBA rows, filter "none", deflated by node's zlib. Deterministic:
// the same pixels give the same bytes.
import zlib from 'node:zlib';

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
const COLOR_TYPE = { 1: 0, 3: 2, 4: 6 };  // channels -> PNG colour type
// CRC-32 of the chunks (written out: zlib.crc32 is newer than Debian's node)
const CRC = new Uint32Array(256).map((_, n) => {
  for (let k = 0; k < 8; k++) n = n & 1 ? 0xedb88320 ^ (n >>> 1) : n >>> 1;
  return n >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(td.length + 8);
  out.writeUInt32BE(data.length, 0);
  td.copy(out, 4);
  out.writeUInt32BE(crc32(td), td.length + 4);
  return out;
}

// pixels: a Buffer of h rows of w * channels bytes (channels 1, 3 or 4).
export function encodePng(pixels, w, h, channels, level = zlib.constants.Z_DEFAULT_COMPRESSION) {
  if (!(channels in COLOR_TYPE)) throw new Error(`encodePng: ${channels} channels (1, 3 or 4)`);
  const stride = w * channels;
  if (pixels.length < stride * h) throw new Error('encodePng: fewer pixels than w * h');
  const raw = Buffer.alloc(h * (stride + 1));  // each row: filter byte 0, then the row
  for (let y = 0; y < h; y++)
    Buffer.from(pixels.buffer, pixels.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;  // bits per channel
  ihdr[9] = COLOR_TYPE[channels];
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr),
                        chunk('IDAT', zlib.deflateSync(raw, { level })),
                        chunk('IEND', Buffer.alloc(0))]);
}
