#!/usr/bin/env bash
# predict_csv.sh (ctest cli_predict_csv): results out (issue 20): predict
# --csv prints Kaggle's submission format exactly, predict - reads one image
# from standard input, info --json is one object with the expected keys.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
need_data
command -v node >/dev/null || fail "node is needed to make the data"

D=$T/d
node "$(dirname "$0")/mkdata.mjs" "$DIGITS_DATA" "$D" || fail "mkdata.mjs failed"
M=$T/m.safetensors
run "$DIGITS" train --data "$D/train.csv" --arch logreg --epochs 1 --lr 0.01 \
  --seed 5 --out "$M"
expect_rc 0 "train on the CSV"

# ---- predict --csv: the header, then ImageId from 1 and a digit, nothing else
run "$DIGITS" predict --model "$M" --csv "$D/kaggle-test.csv"
expect_rc 0 "predict --csv"
[ ! -s "$ERR" ] || fail "predict --csv wrote to stderr"
[ "$(head -n 1 "$OUT")" = "ImageId,Label" ] || fail "first line is not ImageId,Label"
[ "$(wc -l <"$OUT")" -eq 31 ] || fail "expected 31 lines (header + 30 rows)"
grep -q $'\r' "$OUT" && fail "carriage returns in the output"
awk -F, 'NR > 1 && !($0 ~ /^[0-9]+,[0-9]$/ && $1 == NR - 1) { exit 1 }' "$OUT" ||
  fail "rows are not ImageId,Label with ImageId 1, 2, 3, ..."
# the labels are the model's readings: mostly the true ones
right=$(tail -n +2 "$OUT" | cut -d, -f2 | paste -d' ' - "$D/kaggle-labels.txt" |
  awk '$1 == $2 { n++ } END { print n + 0 }')
[ "$right" -ge 20 ] || fail "only $right of 30 rows read right"
cp "$OUT" "$T/sub.csv"

# the same from standard input; a labelled file (label column ignored)
run "$DIGITS" predict --model "$M" --csv - <"$D/kaggle-test.csv"
expect_rc 0 "predict --csv -"
cmp -s "$OUT" "$T/sub.csv" || fail "--csv - differs from --csv FILE"
run "$DIGITS" predict --model "$M" --csv "$D/test.csv"
expect_rc 0 "predict --csv on a labelled file"
[ "$(wc -l <"$OUT")" -eq 501 ] || fail "expected 501 lines for the labelled CSV"
# an ensemble gives the same format
run "$DIGITS" predict --model "$M" --model "$M" --csv "$D/kaggle-test.csv"
cmp -s "$OUT" "$T/sub.csv" || fail "an ensemble of one model twice differs"

# bad input: one line, status 1; usage errors: status 2
printf 'pixel0,pixel1\n1,2\n' >"$T/bad.csv"
run "$DIGITS" predict --model "$M" --csv "$T/bad.csv"
expect_rc 1 "predict --csv on a bad file"
expect_one_line_err
expect_err 'bad\.csv: line 1: the header has 2 columns'
run "$DIGITS" predict --model "$M" --csv "$T/missing.csv"
expect_rc 1 "predict --csv on a missing file"
expect_err 'missing\.csv'
mnist_pgm 0 "$T/seven.pgm"
for extra in "$T/seven.pgm" --json "--save-input=$T/s"; do
  run "$DIGITS" predict --model "$M" --csv "$D/kaggle-test.csv" "$extra"
  expect_rc 2 "--csv with $extra"
  expect_err 'predict: --csv FILE prints ImageId,Label rows'
done

# ---- predict -: one image from standard input, as the same file reads
run "$DIGITS" predict --model "$M" "$T/seven.pgm"
expect_rc 0 "predict a file"
want=$(cut -f2- "$OUT")
run "$DIGITS" predict --model "$M" - <"$T/seven.pgm"
expect_rc 0 "predict -"
[ "$(cat "$OUT")" = "-	$want" ] || fail "predict - gave '$(cat "$OUT")', the file '$want'"
pgm_to_png "$T/seven.pgm" "$T/seven.png"
run "$DIGITS" predict --model "$M" --json - <"$T/seven.png"
expect_rc 0 "predict --json - with a PNG"
expect_out '^\{"file":"-","digit":[0-9],'
run "$DIGITS" predict --model "$M" --save-input "$T/seen" - <"$T/seven.pgm"
is_png "$T/seen/stdin.png" || fail "--save-input with - did not write stdin.png"
run "$DIGITS" predict --model "$M" - </dev/null
expect_rc 1 "predict - with nothing on stdin"
expect_err '^digits: predict: standard input: empty'
run "$DIGITS" predict --model "$M" - <<<"hello, not an image"
expect_rc 1 "predict - with text on stdin"
expect_err '^digits: predict: standard input: not a readable image'
run bash -c 'head -c 70000000 /dev/zero | "$0" predict --model "$1" -' "$DIGITS" "$M"
expect_rc 1 "predict - with 70 MB on stdin"
expect_err 'standard input: larger than the 67108864-byte limit'
run "$DIGITS" predict --model "$M" - - <"$T/seven.pgm"
expect_rc 2 "predict - -"
expect_err 'given twice'

# ---- info --json
run "$DIGITS" info --json "$M"
expect_rc 0 "info --json"
[ "$(wc -l <"$OUT")" -eq 1 ] || fail "info --json printed more than one line"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const k of ["file", "file_size", "architecture", "layers", "total_params",
                   "trainable_params", "non_trainable_params", "metadata"])
    if (!(k in r)) throw new Error("no key " + k);
  if (r.total_params !== 7850 || r.trainable_params !== 7850) throw new Error("params");
  const sum = r.layers.reduce((a, l) => a + l.params, 0);
  if (sum !== r.total_params) throw new Error("layer params do not add up");
  for (const l of r.layers)
    if (!l.name || !l.kind || !Array.isArray(l.output_shape) || l.output_shape[0] !== null)
      throw new Error("layer " + JSON.stringify(l));
  const last = r.layers[r.layers.length - 1].output_shape;
  if (last.length !== 2 || last[1] !== 10) throw new Error("output shape " + last);
  if (r.metadata.arch_name !== "logreg" || !/train\.csv$/.test(r.metadata.dataset))
    throw new Error("metadata " + JSON.stringify(r.metadata));
' "$OUT" || fail "info --json output"
run "$DIGITS" info --json=yes "$M"
expect_rc 2 "info --json=yes"

echo "cli_predict_csv: ok"
