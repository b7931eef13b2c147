#!/usr/bin/env bash
# predict_images.sh (ctest cli_predict_images): what `digits predict` says
# about each image besides the digit (issue 18). --save-input writes the
# 28x28 input as a 280x280 PNG that decodes back to an MNIST-style picture
# and reads as the same digit; --json gives box and photo for every image
# and a "digit":null line for the ones it cannot read; an empty page, two
# digits side by side (uncertain), a truncated JPEG, a zero-byte file and a
# PNG declaring absurd dimensions each get one clear stderr line and exit
# status 1 while the other images are still read; a JPEG's EXIF orientation
# reaches the box. Needs node (PNG writing and reading, JSON checks).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
need_data
command -v node >/dev/null || fail "node is needed (PNG and JSON checks)"
: "${DIGITS_SRC:?DIGITS_SRC must be the source folder}"

M=$DIGITS_SRC/models/default.safetensors
if [ ! -s "$M" ]; then
  M=$T/logreg.safetensors
  train_tiny "$M" --limit 10000 --val 1000
fi
CORPUS=$DIGITS_SRC/tests/fuzz/corpus/image

# ---- tools: PNG writing/reading and JSON checks in node ----------------------
cat >"$T/tools.cjs" <<'EOF'
const fs = require("fs"), zlib = require("zlib");
const [cmd, ...a] = process.argv.slice(2);
const crcTable = Array.from({length: 256}, (_, n) => {
  for (let k = 0; k < 8; k++) n = n & 1 ? 0xedb88320 ^ (n >>> 1) : n >>> 1;
  return n >>> 0;
});
const crc = (b) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 255] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
const chunk = (type, data) => {
  const len = Buffer.alloc(4), sum = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, "latin1"), data]);
  sum.writeUInt32BE(crc(td));
  return Buffer.concat([len, td, sum]);
};
const SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const ihdr = (w, h, color) => {
  const b = Buffer.alloc(13);
  b.writeUInt32BE(w, 0); b.writeUInt32BE(h, 4); b[8] = 8; b[9] = color;
  return chunk("IHDR", b);
};
function readPgm(f) {
  const b = fs.readFileSync(f);
  const m = b.toString("latin1").match(/^P5\s+(\d+)\s+(\d+)\s+255\s/);
  return { w: +m[1], h: +m[2], px: b.subarray(m[0].length) };
}
function writeGrayPng(f, w, h, px) {
  const raw = Buffer.alloc(h * (w + 1));
  for (let y = 0; y < h; y++) px.copy(raw, y * (w + 1) + 1, y * w, (y + 1) * w);
  fs.writeFileSync(f, Buffer.concat([SIG, ihdr(w, h, 0), chunk("IDAT", zlib.deflateSync(raw)),
                                     chunk("IEND", Buffer.alloc(0))]));
}
/* 8-bit PNG (gray, gray+alpha, RGB, RGBA) -> {w, h, c, px}, any filters */
function readPng(f) {
  const b = fs.readFileSync(f);
  if (!b.subarray(0, 8).equals(SIG)) throw new Error(`${f}: not a PNG`);
  let i = 8, w, h, c, idat = [];
  while (i < b.length) {
    const n = b.readUInt32BE(i), t = b.toString("latin1", i + 4, i + 8), d = b.subarray(i + 8, i + 8 + n);
    if (t === "IHDR") {
      w = d.readUInt32BE(0); h = d.readUInt32BE(4);
      if (d[8] !== 8 || d[12] !== 0) throw new Error(`${f}: depth ${d[8]}, interlace ${d[12]}`);
      c = { 0: 1, 4: 2, 2: 3, 6: 4 }[d[9]];
    } else if (t === "IDAT") idat.push(d);
    i += 12 + n;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat)), s = w * c, px = Buffer.alloc(w * h * c);
  for (let y = 0; y < h; y++) {
    const ft = raw[y * (s + 1)], row = raw.subarray(y * (s + 1) + 1, (y + 1) * (s + 1));
    for (let x = 0; x < s; x++) {
      const A = x >= c ? px[y * s + x - c] : 0, B = y ? px[(y - 1) * s + x] : 0,
            C = x >= c && y ? px[(y - 1) * s + x - c] : 0;
      let p = row[x];
      if (ft === 1) p += A; else if (ft === 2) p += B; else if (ft === 3) p += (A + B) >> 1;
      else if (ft === 4) { const q = A + B - C, pa = Math.abs(q - A), pb = Math.abs(q - B), pc = Math.abs(q - C);
                           p += pa <= pb && pa <= pc ? A : pb <= pc ? B : C; }
      px[y * s + x] = p & 255;
    }
  }
  return { w, h, c, px };
}
/* a saved input: 280x280 gray, 10x10 squares -> the 28x28 floats */
function input28(f) {
  const { w, h, c, px } = readPng(f);
  if (w !== 280 || h !== 280 || c !== 1) throw new Error(`${f}: ${w}x${h}x${c}, expected 280x280 gray`);
  const x = new Float64Array(784);
  for (let y = 0; y < 280; y++)
    for (let i = 0; i < 280; i++) {
      const v = px[y * 280 + i], top = px[(y - y % 10) * 280 + (i - i % 10)];
      if (v !== top) throw new Error(`${f}: pixel (${i},${y}) differs within its 10x10 square`);
      x[Math.floor(y / 10) * 28 + Math.floor(i / 10)] = v / 255;
    }
  return x;
}
const lines = (f) => fs.readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const die = (m) => { console.error(m); process.exit(1); };
switch (cmd) {
  case "pgm2png": { const p = readPgm(a[0]); writeGrayPng(a[1], p.w, p.h, p.px); break; }
  case "side": {  /* two PGMs of one height side by side, with a gap -> PNG */
    const p = readPgm(a[0]), q = readPgm(a[1]), gap = +a[3], w = p.w + gap + q.w, h = p.h;
    const px = Buffer.alloc(w * h, 255);
    for (let y = 0; y < h; y++) {
      p.px.copy(px, y * w, y * p.w, (y + 1) * p.w);
      q.px.copy(px, y * w + p.w + gap, y * q.w, (y + 1) * q.w);
    }
    writeGrayPng(a[2], w, h, px);
    break;
  }
  case "blank": writeGrayPng(a[0], +a[1], +a[2], Buffer.alloc(+a[1] * +a[2], 255)); break;
  case "hugepng":  /* a valid-looking header declaring W x H, a few bytes of data */
    fs.writeFileSync(a[0], Buffer.concat([SIG, ihdr(+a[1], +a[2], 2),
      chunk("IDAT", zlib.deflateSync(Buffer.alloc(64))), chunk("IEND", Buffer.alloc(0))]));
    break;
  case "check-input": {  /* FILE: a saved input is an MNIST-style digit */
    const x = input28(a[0]);
    let m = 0, mx = 0, my = 0, border = 0;
    for (let i = 0; i < 784; i++) {
      m += x[i]; mx += x[i] * (i % 28); my += x[i] * Math.floor(i / 28);
      const r = Math.floor(i / 28), q = i % 28;
      if (r < 2 || r > 25 || q < 2 || q > 25) border += x[i];
    }
    if (m < 20) die(`${a[0]}: nearly blank (ink mass ${m.toFixed(1)})`);
    if (border > 3) die(`${a[0]}: ink on the border (${border.toFixed(1)}): not white on black, centred?`);
    if (Math.abs(mx / m - 14) > 1.5 || Math.abs(my / m - 14) > 1.5)
      die(`${a[0]}: centre of mass (${(mx / m).toFixed(2)}, ${(my / m).toFixed(2)}), expected near (14, 14)`);
    break;
  }
  case "input-diff": {  /* A B: mean absolute difference of two saved inputs */
    const x = input28(a[0]), y = input28(a[1]);
    let d = 0;
    for (let i = 0; i < 784; i++) d += Math.abs(x[i] - y[i]);
    console.log((d / 784).toFixed(4));
    break;
  }
  case "field": {  /* JSONL FILE KEY: the value of KEY on the line of FILE */
    const o = lines(a[0]).find((o) => o.file === a[1]);
    if (!o) die(`no line for ${a[1]}`);
    console.log(JSON.stringify(o[a[2]]));
    break;
  }
  case "check-json": {  /* JSONL W H: every line a good read with box and photo inside W x H */
    for (const o of lines(a[0])) {
      const b = o.box;
      if (!Number.isInteger(o.digit) || o.probs.length !== 10 || typeof o.photo !== "boolean" ||
          !Array.isArray(b) || b.length !== 4 || !b.every(Number.isInteger) ||
          b[0] < 0 || b[1] < 0 || b[2] < 1 || b[3] < 1 || b[0] + b[2] > +a[1] || b[1] + b[3] > +a[2])
        die(`bad object: ${JSON.stringify(o)}`);
    }
    break;
  }
  case "check-failed": {  /* JSONL FILE REASON: FILE's line says digit null for REASON */
    const o = lines(a[0]).find((o) => o.file === a[1]);
    if (!o) die(`no line for ${a[1]}`);
    if (o.digit !== null || o.confidence !== 0 || o.probs !== null || o.reason !== a[2] ||
        typeof o.error !== "string" || !o.error)
      die(`${a[1]}: expected digit null, reason ${a[2]}: ${JSON.stringify(o)}`);
    break;
  }
  default: die(`tools.cjs: unknown command ${cmd}`);
}
EOF
tool() { node "$T/tools.cjs" "$@"; }

# the first four MNIST test digits (7 2 1 0) as 280x280 dark-on-white PGMs;
# the first one again as a PNG under the same file name in another folder
files=()
for i in 0 1 2 3; do
  mnist_pgm "$i" "$T/digit$i.pgm"
  files+=("$T/digit$i.pgm")
done
mkdir -p "$T/other"
tool pgm2png "$T/digit0.pgm" "$T/other/digit0.png"

# ---- --save-input: folder created, one PNG per image, names from the files ---
S=$T/inputs/sub
run "$DIGITS" predict --model "$M" --save-input "$S" "${files[@]}" "$T/other/digit0.png"
expect_rc 0 "predict --save-input"
[ "$(wc -l <"$OUT")" -eq 5 ] || fail "expected 5 TSV lines with --save-input"
for n in digit0 digit1 digit2 digit3 digit0-2; do
  [ -s "$S/$n.png" ] || fail "--save-input did not write $S/$n.png"
  is_png "$S/$n.png" || fail "$S/$n.png is not a PNG"
  [ "$(od -An -tu1 -j16 -N8 "$S/$n.png" | tr -s ' ' | sed 's/^ //')" = "0 0 1 24 0 0 1 24" ] ||
    fail "$S/$n.png is not 280x280"
  tool check-input "$S/$n.png" || fail "$S/$n.png is not an MNIST-style input"
done
[ "$(ls "$S" | wc -l)" -eq 5 ] || fail "expected exactly 5 files in $S: $(ls "$S")"
# the same pixels under two names: the same input
[ "$(tool input-diff "$S/digit0.png" "$S/digit0-2.png")" = "0.0000" ] ||
  fail "digit0.pgm and other/digit0.png gave different inputs"
# a saved input read back through predict: the same digit, and (being an
# MNIST-style picture already) nearly the same input again
run "$DIGITS" predict --model "$M" --json --save-input "$T/again" "${files[0]}"
expect_rc 0 "predict --json --save-input"
first=$(tool field "$OUT" "${files[0]}" digit)
[ "$(tool field "$OUT" "${files[0]}" input)" = "\"$T/again/digit0.png\"" ] ||
  fail "--json does not name the saved input"
run "$DIGITS" predict --model "$M" --json --save-input "$T/again2" "$T/again/digit0.png"
expect_rc 0 "predict of a saved input"
[ "$(tool field "$OUT" "$T/again/digit0.png" digit)" = "$first" ] ||
  fail "the saved input reads as another digit than its image ($first)"
d=$(tool input-diff "$T/again/digit0.png" "$T/again2/digit0.png")
awk -v d="$d" 'BEGIN { exit !(d < 0.03) }' ||
  fail "a saved input preprocessed again changed by $d on average"
# a file where the folder should be: one line, status 1, nothing predicted
: >"$T/afile"
run "$DIGITS" predict --model "$M" --save-input "$T/afile/x" "${files[0]}"
expect_rc 1 "--save-input under a file"
expect_one_line_err
expect_err "save-input.*afile"

# ---- --json: box and photo on every line, inside the image -----------------
run "$DIGITS" predict --model "$M" --json "${files[@]}"
expect_rc 0 "predict --json"
[ "$(wc -l <"$OUT")" -eq 4 ] || fail "expected 4 JSON lines"
tool check-json "$OUT" 280 280 || fail "--json lines lack a good box or photo"
expect_out '"photo":false'  # flat white paper: a drawing, not a photo

# ---- empty and uncertain -------------------------------------------------------
tool blank "$T/blank.png" 300 200
# two digits of the same size side by side, a digit's width apart: no single
# digit to read. TEST NAME for the preprocessing: cli_predict_images
# ("uncertain"); it needs dg_preprocess_ex's DG_ERR_UNCERTAIN.
tool side "$T/digit0.pgm" "$T/digit2.pgm" "$T/two.png" 140
run "$DIGITS" predict --model "$M" "$T/blank.png" "${files[1]}" "$T/two.png" "${files[2]}"
expect_rc 1 "predict with an empty and an uncertain image"
[ "$(wc -l <"$OUT")" -eq 2 ] || fail "expected the 2 good files on stdout (TSV)"
expect_out "^${files[1]}"$'\t'
expect_out "^${files[2]}"$'\t'
[ "$(wc -l <"$ERR")" -eq 2 ] || fail "expected one stderr line per unread image"
expect_err "^digits: predict: .*blank\.png: empty image"
expect_err "^digits: predict: .*two\.png: uncertain: [2-9] digit-sized shapes"
# --json: a line for every image, in order; the unread ones say why
run "$DIGITS" predict --model "$M" --json "$T/blank.png" "${files[1]}" "$T/two.png"
expect_rc 1 "predict --json with an empty and an uncertain image"
[ "$(wc -l <"$OUT")" -eq 3 ] || fail "--json: expected a line per image"
[ "$(sed -n 2p "$OUT" | grep -c "\"file\":\"${files[1]}\"")" -eq 1 ] || fail "--json lines out of order"
tool check-failed "$OUT" "$T/blank.png" empty || fail "--json: blank page"
tool check-failed "$OUT" "$T/two.png" uncertain || fail "--json: two digits"
expect_out '"candidates":[2-9]'

# ---- broken files: one line each, the others still read ---------------------
head -c "$(($(wc -c <"$CORPUS/stbiw.jpg") / 2))" "$CORPUS/stbiw.jpg" >"$T/cut.jpg"
: >"$T/zero.png"
tool hugepng "$T/huge.png" 100000 100000
run "$DIGITS" predict --model "$M" "$T/cut.jpg" "${files[0]}" "$T/zero.png" "$T/huge.png" "${files[3]}"
expect_rc 1 "predict with broken files"
[ "$(wc -l <"$OUT")" -eq 2 ] || fail "expected the 2 good files on stdout"
expect_out "^${files[0]}"$'\t'
expect_out "^${files[3]}"$'\t'
[ "$(wc -l <"$ERR")" -eq 3 ] || fail "expected one stderr line per broken file"
expect_err "^digits: predict: .*cut\.jpg: .*JPEG"
expect_err "^digits: predict: .*zero\.png: empty file \(0 bytes\)"
expect_err "^digits: predict: .*huge\.png: .*100000x100000 is too large"
run "$DIGITS" predict --model "$M" --json "$T/cut.jpg" "$T/zero.png" "$T/huge.png" "${files[3]}"
expect_rc 1 "predict --json with broken files"
[ "$(wc -l <"$OUT")" -eq 4 ] || fail "--json: expected a line per image"
for f in cut.jpg zero.png huge.png; do
  tool check-failed "$OUT" "$T/$f" unreadable || fail "--json: $f"
done

# ---- EXIF orientation: the box is in the upright picture --------------------
# exif-*.jpg: a 24x16 picture with one 8-px-wide bar across its height,
# tagged 3 (upside down: still a vertical bar) or 6 (sideways: upright it is
# a 16x24 picture with a horizontal bar)
run "$DIGITS" predict --model "$M" --json "$CORPUS/exif-3-be.jpg" "$CORPUS/exif-6-le.jpg"
expect_rc 0 "predict of EXIF JPEGs"
[ "$(tool field "$OUT" "$CORPUS/exif-3-be.jpg" box)" = "[8,0,8,16]" ] ||
  fail "orientation 3: box $(tool field "$OUT" "$CORPUS/exif-3-be.jpg" box), expected [8,0,8,16]"
[ "$(tool field "$OUT" "$CORPUS/exif-6-le.jpg" box)" = "[0,8,16,8]" ] ||
  fail "orientation 6: box $(tool field "$OUT" "$CORPUS/exif-6-le.jpg" box), expected [0,8,16,8]"

echo "cli_predict_images: ok"
