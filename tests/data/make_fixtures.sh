#!/bin/sh
# make_fixtures.sh: regenerate the small committed fixtures in tests/data.
#   preprocess_input.pgm  a 64x48 anti-aliased "4", dark ink on light paper
#                         (the input of test_preprocess's golden test)
#   tiny.gif              an 8x6 GIF89a, 4-colour palette, written with
#                         uncompressed LZW (a clear code before the code size
#                         would grow), for test_image
# Needs python3 only. preprocess_golden.txt is the output of dg_preprocess on
# preprocess_input.pgm; rewrite it with
#   DIGITS_REGEN_GOLDEN=1 DIGITS_TESTDATA=tests/data build/test_preprocess
set -eu
cd "$(dirname "$0")"
python3 - <<'PY'
import math, struct

# ---- preprocess_input.pgm: thick strokes with exact-ish coverage ----------
W, H = 64, 48
segs = [((30, 6), (14, 30)), ((14, 30), (44, 30)), ((36, 10), (35, 43))]
R = 3.2   # stroke half width, px
def dist(px, py, a, b):
    ax, ay = a; bx, by = b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)
px = bytearray()
for y in range(H):
    for x in range(W):
        cov = 0
        for sy in range(4):          # 4x4 supersampling
            for sx in range(4):
                qx, qy = x + (sx + 0.5) / 4, y + (sy + 0.5) / 4
                if min(dist(qx, qy, a, b) for a, b in segs) <= R:
                    cov += 1
        paper, ink = 235, 40
        px.append(round(paper - (paper - ink) * cov / 16))
with open("preprocess_input.pgm", "wb") as f:
    f.write(b"P5\n%d %d\n255\n" % (W, H))
    f.write(bytes(px))

# ---- tiny.gif -----------------------------------------------------------
GW, GH = 8, 6
pal = [(0, 0, 0), (255, 255, 255), (255, 0, 0), (0, 0, 255)]
idx = [(x + y) % 4 if 1 <= x <= 6 and 1 <= y <= 4 else 1
       for y in range(GH) for x in range(GW)]
min_code = 2                      # 2-bit colour indices
clear, eoi = 1 << min_code, (1 << min_code) + 1
codes = []
for i, v in enumerate(idx):       # clear every 2 codes: size stays 3 bits
    if i % 2 == 0:
        codes.append(clear)
    codes.append(v)
codes.append(eoi)
bits, nbits, out = 0, 0, bytearray()
for c in codes:
    bits |= c << nbits
    nbits += 3
    while nbits >= 8:
        out.append(bits & 255); bits >>= 8; nbits -= 8
if nbits:
    out.append(bits & 255)
g = bytearray(b"GIF89a")
g += struct.pack("<HHBBB", GW, GH, 0x80 | 0x01, 0, 0)   # global table, 4 colours
for r, gg, b in pal:
    g += bytes((r, gg, b))
g += b"\x2c" + struct.pack("<HHHHB", 0, 0, GW, GH, 0)   # image descriptor
g += bytes((min_code,))
for i in range(0, len(out), 255):
    blk = out[i:i + 255]
    g += bytes((len(blk),)) + blk
g += b"\x00\x3b"
with open("tiny.gif", "wb") as f:
    f.write(g)
PY
echo "wrote preprocess_input.pgm tiny.gif"
