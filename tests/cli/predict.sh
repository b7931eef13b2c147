#!/usr/bin/env bash
# predict.sh (ctest cli_predict): digits drawn as dark ink on white paper
# (MNIST test images magnified to 280x280 PGM) are read back; --json is
# valid; bad, missing and empty files are reported while the rest go on.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
need_data

M=$T/logreg.safetensors
train_tiny "$M" --limit 10000 --val 1000

# the first eight test images: 7 2 1 0 4 1 4 9
files=()
labels=()
for i in 0 1 2 3 4 5 6 7; do
  mnist_pgm "$i" "$T/digit$i.pgm"
  files+=("$T/digit$i.pgm")
  labels+=("$(mnist_label "$i")")
done

run "$DIGITS" predict --model "$M" "${files[@]}"
expect_rc 0 "predict"
[ "$(wc -l <"$OUT")" -eq 8 ] || fail "expected 8 lines"
right=0
for i in 0 1 2 3 4 5 6 7; do
  line=$(sed -n "$((i + 1))p" "$OUT")
  [[ "$line" =~ ^"${files[$i]}"$'\t'([0-9])$'\t'(0\.[0-9]{4}|1\.0000)$ ]] ||
    fail "line $((i + 1)) not FILE<TAB>DIGIT<TAB>CONFIDENCE: $line"
  [ "${BASH_REMATCH[1]}" = "${labels[$i]}" ] && right=$((right + 1))
done
[ "$right" -ge 6 ] || fail "only $right of 8 digits read correctly (labels ${labels[*]})"

# the same digits as PNG files (opaque RGBA, and ink on a transparent page
# as a canvas gives it) read the same as the PGM files
if pgm_to_png "${files[0]}" "$T/digit0.png" && pgm_to_png "${files[0]}" "$T/digit0t.png" transparent; then
  is_png "$T/digit0.png" || fail "the test's PNG writer is broken"
  pgm_digit=$(sed -n 1p "$OUT" | cut -f2)
  run "$DIGITS" predict --model "$M" "$T/digit0.png" "$T/digit0t.png"
  expect_rc 0 "predict PNG"
  [ "$(cut -f2 "$OUT" | tr '\n' ' ')" = "$pgm_digit $pgm_digit " ] ||
    fail "PNG files read differently from the PGM (digit $pgm_digit)"
else
  echo "note: node missing, PNG inputs not tested" >&2
fi

# --json: one valid object per line, 10 probabilities summing to 1
run "$DIGITS" predict --model "$M" --json "${files[@]:0:3}"
expect_rc 0 "predict --json"
[ "$(wc -l <"$OUT")" -eq 3 ] || fail "expected 3 JSON lines"
if command -v node >/dev/null; then
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
    for (const l of lines) {
      const o = JSON.parse(l);
      const s = o.probs.reduce((a, b) => a + b, 0);
      if (typeof o.file !== "string" || !Number.isInteger(o.digit) ||
          o.probs.length !== 10 || Math.abs(s - 1) > 1e-3 ||
          o.probs[o.digit] !== Math.max(...o.probs) ||
          Math.abs(o.confidence - o.probs[o.digit]) > 1e-6)
        throw new Error("bad object: " + l);
    }' "$OUT" || fail "--json output is not what it should be"
else
  expect_out '^\{"file":"[^"]+","digit":[0-9],"confidence":[0-9.]+,"probs":\[([0-9.e-]+,){9}[0-9.e-]+\]\}$'
fi

# a missing file and a garbage file between good ones: both reported, the
# good ones still predicted, status 1
printf 'this is not an image at all\n%.0s' 1 2 3 4 5 >"$T/garbage.png"
run "$DIGITS" predict --model "$M" "${files[0]}" "$T/missing.png" "$T/garbage.png" "${files[1]}"
expect_rc 1 "predict with bad files"
[ "$(wc -l <"$OUT")" -eq 2 ] || fail "expected the 2 good files on stdout"
expect_out "^${files[0]}"$'\t'
expect_out "^${files[1]}"$'\t'
[ "$(wc -l <"$ERR")" -eq 2 ] || fail "expected one stderr line per bad file"
expect_err "^digits: predict: .*missing\.png"
expect_err "^digits: predict: .*garbage\.png"

# a blank page says it is empty
blank_pgm "$T/blank.pgm"
run "$DIGITS" predict --model "$M" "$T/blank.pgm" "${files[2]}"
expect_rc 1 "predict of a blank page"
expect_err "blank\.pgm: empty"
[ "$(wc -l <"$OUT")" -eq 1 ] || fail "the good file after the blank one was not predicted"

# an ensemble of the same model twice gives the same answer
run "$DIGITS" predict --model "$M" "${files[0]}"
single=$(cut -f2,3 "$OUT")
run "$DIGITS" predict --model "$M" --model "$M" "${files[0]}"
expect_rc 0 "ensemble predict"
[ "$(cut -f2,3 "$OUT")" = "$single" ] || fail "ensemble of one model twice differs"

# default model: $DIGITS_MODEL
DIGITS_MODEL=$M run "$DIGITS" predict "${files[0]}"
expect_rc 0 "predict with DIGITS_MODEL"
[ "$(cut -f2,3 "$OUT")" = "$single" ] || fail "DIGITS_MODEL gave another answer"
# no model anywhere: a clear error (only checkable when none ships)
if [ ! -e "$(dirname "$(dirname "$DIGITS")")/models/default.safetensors" ]; then
  (cd "$T" && unset DIGITS_MODEL && run "$DIGITS" predict "${files[0]}" &&
    expect_rc 1 "predict without any model" && expect_one_line_err &&
    expect_err "no default model")
fi

echo "cli_predict: ok"
