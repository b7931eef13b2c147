#!/usr/bin/env bash
# number.sh (ctest cli_number): `digits predict --number` (issue 23): the
# test picture of a 4 (64x48) three times side by side reads "444" in both
# formats (TSV: FILE, NUMBER, CONFIDENCE; JSON: number, confidence, digits
# with boxes left to right); the lone 4 reads as plain predict reads it; a
# blank picture is "no digits found" (exit 1, JSON number null); --number
# with --csv is a usage error. The verifier: the same readings with
# --no-verifier and with --verifier FILE here; a verifier that is not one
# (10 outputs) or is missing is a one-line error; --verifier without
# --number, or with --no-verifier, is a usage error. Two window readers
# averaged: a touching "01" of the number set that the first alone reads
# "001" reads "01" with the first two (--verifier twice) and by default
# (the three shipped window readers); $DIGITS_VERIFIER is
# the one verifier; more than four, or a verifier of pieces among them,
# is refused.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
IMG=$DIGITS_SRC/tests/data/preprocess_input.pgm

# PGM helpers in node: three copies side by side (10 px apart), and a blank
node -e '
const fs = require("fs");
const b = fs.readFileSync(process.argv[1]);
const [w, h] = [64, 48], px = b.subarray(b.length - w * h);
const W = 3 * w + 20, out = Buffer.alloc(W * h, 235);
for (let k = 0; k < 3; k++)
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) out[y * W + k * (w + 10) + x] = px[y * w + x];
fs.writeFileSync(process.argv[2], Buffer.concat([Buffer.from(`P5\n${W} ${h}\n255\n`), out]));
fs.writeFileSync(process.argv[3], Buffer.concat([Buffer.from(`P5\n${w} ${h}\n255\n`), Buffer.alloc(w * h, 240)]));
' "$IMG" "$T/444.pgm" "$T/blank.pgm"

run "$DIGITS" predict --number "$T/444.pgm"; expect_rc 0
expect_out $'^.*/444\.pgm\t444\t[01]\.[0-9]{4}$'
[ "$(wc -l <"$OUT")" -eq 1 ] || fail "one line per image"

run "$DIGITS" predict --number --json "$T/444.pgm" "$IMG"; expect_rc 0
head -1 "$OUT" >"$T/a.json"
node -e '
const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const ok = j.number === "444" && j.digits.length === 3 && j.confidence > 0.5 &&
  j.digits.every(d => d.digit === 4 && d.box.length === 4 && d.box[2] > 10) &&
  j.digits[0].box[0] < j.digits[1].box[0] && j.digits[1].box[0] < j.digits[2].box[0] &&
  j.confidence === Math.min(...j.digits.map(d => d.confidence));
if (!ok) { console.error("bad JSON", JSON.stringify(j)); process.exit(1); }
' "$T/a.json" || fail "--number --json of 444.pgm"
tail -1 "$OUT" | grep -q '"number":"4"' || fail "the lone 4"
one=$(tail -1 "$OUT" | sed 's/.*"digits":\[{"digit":4,"confidence":\([0-9.]*\).*/\1/')
run "$DIGITS" predict --json "$IMG"; expect_rc 0
expect_out "\"confidence\":$one"

run "$DIGITS" predict --number --json "$T/blank.pgm" "$T/444.pgm"; expect_rc 1
expect_err 'blank.pgm: no digits found'
head -1 "$OUT" | grep -q '"number":null' || fail "blank: number null"
tail -1 "$OUT" | grep -q '"number":"444"' || fail "the file after a blank one"

run "$DIGITS" predict --number --csv x.csv; expect_rc 2
expect_err '--number'

# the verifier (models/verifier.safetensors by default)
V=$DIGITS_SRC/models/verifier.safetensors
for opt in --no-verifier "--verifier $V"; do
  # shellcheck disable=SC2086
  run "$DIGITS" predict --number $opt "$T/444.pgm" "$IMG"; expect_rc 0 "$opt"
  head -1 "$OUT" | grep -q $'\t444\t' || fail "444 with $opt"
  tail -1 "$OUT" | grep -q $'\t4\t' || fail "the lone 4 with $opt"
done
run "$DIGITS" predict --number --verifier "$DIGITS_SRC/models/mlp.safetensors" "$T/444.pgm"
expect_rc 1; expect_one_line_err; expect_err 'verifier takes 784 inputs \(28x28\), 1568 \(28x28x2\) or 1008 \(28x36 windows\) and gives 11 outputs'
run "$DIGITS" predict --number --verifier "$T/none.safetensors" "$T/444.pgm"
expect_rc 1; expect_one_line_err; expect_err 'none.safetensors'
run "$DIGITS" predict --verifier "$V" "$IMG"; expect_rc 2; expect_err 'go with --number'
run "$DIGITS" predict --number --verifier "$V" --no-verifier "$IMG"; expect_rc 2; expect_err 'not both'

# window readers averaged (the number: number_eval's set, seed 101)
V2=$DIGITS_SRC/models/verifier2.safetensors
mkdir -p "$T/set"
"$(dirname "$DIGITS")/number_eval" --per 24 --seed 101 --lens 2-2 --write "$T/set" >/dev/null ||
  fail "number_eval --write"
N01=$T/set/n2-touching-canvas-23.png
grep -q '^n2-touching-canvas-23.png,01,' "$T/set/manifest.csv" || fail "the set's touching 01"
for opt in "" "--verifier $V --verifier $V2"; do
  # shellcheck disable=SC2086
  run "$DIGITS" predict --number $opt "$N01"; expect_rc 0 "$opt"
  expect_out $'\t01\t'
done
run "$DIGITS" predict --number --verifier "$V" "$N01"; expect_rc 0; expect_out $'\t001\t'
DIGITS_VERIFIER=$V run "$DIGITS" predict --number "$N01"; expect_rc 0; expect_out $'\t001\t'
run "$DIGITS" predict --number --verifier "$V" --verifier "$V" --verifier "$V" --verifier "$V" \
  --verifier "$V2" "$N01"
expect_rc 2; expect_err 'at most 4 --verifier'
run "$DIGITS" predict --number --verifier "$V" --verifier "$DIGITS_SRC/tests/data/v1-tiny.safetensors" "$N01"
expect_rc 1; expect_one_line_err; expect_err 'verifiers averaged must be window readers'
