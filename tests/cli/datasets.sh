#!/usr/bin/env bash
# datasets.sh (ctest cli_datasets): --data in the other layouts (issue 20):
# a folder of class folders 0..9 of images and a CSV in Kaggle's Digit
# Recognizer layout, made from MNIST by mkdata.mjs (training sets from the
# training images, test sets from the test images). Train one short epoch
# of logreg and mlp on each, evaluate each model on both kinds, eval --json.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
need_data
command -v node >/dev/null || fail "node is needed to make the datasets"

D=$T/d
node "$(dirname "$0")/mkdata.mjs" "$DIGITS_DATA" "$D" || fail "mkdata.mjs failed"
[ -d "$D/images-train/7" ] && [ -s "$D/train.csv" ] || fail "mkdata.mjs made no data"
num='[0-9]+\.[0-9]+'

# accuracy_over FLOOR: the eval text's accuracy (percent) is above FLOOR
accuracy_over() {
  local acc
  acc=$(sed -n 's/^accuracy  *\([0-9.]*\)%.*/\1/p' "$OUT")
  [ -n "$acc" ] || fail "no accuracy line"
  awk -v a="$acc" -v f="$1" 'BEGIN { exit !(a > f) }' || fail "accuracy $acc% not above $1%"
}
# test_accuracy_over FLOOR: the same for train's "test accuracy" line
test_accuracy_over() {
  local acc
  acc=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$OUT")
  [ -n "$acc" ] || fail "no test accuracy line"
  awk -v a="$acc" -v f="$1" 'BEGIN { exit !(a > f) }' || fail "test accuracy $acc% not above $1%"
}

# ---- train on an image folder without a test set: said so, no test figures
run "$DIGITS" train --data "$D/images-train" --arch logreg --epochs 1 --lr 0.01 \
  --seed 3 --out "$T/folder-logreg.safetensors"
expect_rc 0 "train on an image folder"
expect_out "^training logreg .* on .*images-train \(image folder\): 600 images \(60 for validation\)"
expect_out "^no test set: give --test DIR\|CSV"
expect_out "^epoch 1/1  loss $num  acc $num%  val_loss $num  val_acc $num%"
grep -q '^test accuracy' "$OUT" && fail "a test accuracy without a test set"
run "$DIGITS" info "$T/folder-logreg.safetensors"
expect_out "^  dataset: .*images-train$"
grep -q 'test_accuracy' "$OUT" && fail "test_accuracy stored without a test set"

# the same run again gives the same model (the folder's order is fixed)
run "$DIGITS" train --data "$D/images-train" --arch logreg --epochs 1 --lr 0.01 \
  --seed 3 --out "$T/again.safetensors"
expect_rc 0 "train on an image folder again"
cmp <("$DIGITS" predict --csv "$D/test.csv" --model "$T/folder-logreg.safetensors") \
    <("$DIGITS" predict --csv "$D/test.csv" --model "$T/again.safetensors") ||
  fail "two runs on the same image folder gave different models"

# ---- image folder with an image-folder test set; mlp
run "$DIGITS" train --data "$D/images-train" --test "$D/images-test" --arch mlp \
  --epochs 1 --lr 0.01 --seed 3 --out "$T/folder-mlp.safetensors"
expect_rc 0 "train mlp on an image folder with --test"
expect_out "^test accuracy $num%  test loss $num  \(300 images\)"
test_accuracy_over 60
run "$DIGITS" info "$T/folder-mlp.safetensors"
expect_out "^  test_dataset: .*images-test$"
expect_out "^  test_accuracy: 0\.[0-9]+$"

# ---- CSV: logreg with a CSV test set, mlp with an image-folder test set
run "$DIGITS" train --data "$D/train.csv" --test "$D/test.csv" --arch logreg \
  --epochs 1 --lr 0.01 --seed 3 --out "$T/csv-logreg.safetensors"
expect_rc 0 "train logreg on a CSV"
expect_out "^training logreg .* on .*train\.csv \(CSV\): 2000 images \(200 for validation\)"
expect_out "^test accuracy $num%  test loss $num  \(500 images\)"
test_accuracy_over 70
run "$DIGITS" train --data "$D/train.csv" --test "$D/images-test" --arch mlp \
  --epochs 1 --lr 0.01 --seed 3 --out "$T/csv-mlp.safetensors"
expect_rc 0 "train mlp on a CSV"
expect_out "\(300 images\)"
test_accuracy_over 70
# an idx folder as --test: its t10k files
run "$DIGITS" train --data "$D/train.csv" --test "$DIGITS_DATA" --arch logreg \
  --epochs 1 --lr 0.01 --seed 3 --out "$T/csv-idx.safetensors"
expect_rc 0 "train on a CSV, test on the idx folder"
expect_out "\(10000 images\)"
test_accuracy_over 70

# ---- eval: every model on both kinds
for m in folder-logreg folder-mlp csv-logreg csv-mlp; do
  run "$DIGITS" eval --model "$T/$m.safetensors" --data "$D/images-test"
  expect_rc 0 "eval $m on the image folder"
  expect_out "^data +.*images-test \(image folder, 300 images\)$"
  accuracy_over 50
  run "$DIGITS" eval --model "$T/$m.safetensors" --data "$D/test.csv"
  expect_rc 0 "eval $m on the CSV"
  expect_out "^data +.*test\.csv \(CSV, 500 images\)$"
  accuracy_over 50
done
run "$DIGITS" eval --model "$T/csv-logreg.safetensors" --data "$D/test.csv" --limit 100
expect_out "\(CSV, 100 images\)"

# the shipped default model reads the folder through predict's
# preprocessing (dark ink on white, 2x, three formats) and the CSV as it is
DEF=${DIGITS_SRC:-}/models/default.safetensors
if [ -f "$DEF" ]; then
  run "$DIGITS" eval --model "$DEF" --data "$D/images-test"
  expect_rc 0 "default model on the image folder"
  accuracy_over 97
  run "$DIGITS" eval --model "$DEF" --data "$D/test.csv"
  accuracy_over 97
fi

# a CSV with a byte order mark, CRLF line ends and a quoted header reads
# the same as the plain one
{ printf '\357\273\277'; sed 's/$/\r/; 1s/label/"label"/' "$D/test.csv"; } >"$T/crlf.csv"
run "$DIGITS" eval --model "$T/csv-logreg.safetensors" --data "$D/test.csv"
plain=$(grep '^accuracy' "$OUT")
run "$DIGITS" eval --model "$T/csv-logreg.safetensors" --data "$T/crlf.csv"
expect_rc 0 "eval on a CRLF CSV with a BOM"
[ "$(grep '^accuracy' "$OUT")" = "$plain" ] || fail "CRLF/BOM CSV reads differently"

# ---- eval --json: one object with the expected keys, consistent figures
run "$DIGITS" eval --json --model "$T/csv-mlp.safetensors" --model "$T/folder-mlp.safetensors" \
  --data "$D/images-test"
expect_rc 0 "eval --json"
[ "$(wc -l <"$OUT")" -eq 1 ] || fail "eval --json printed more than one line"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const need = ["data", "data_kind", "split", "models", "count", "correct", "accuracy",
                "loss", "classes", "macro", "confusion", "report"];
  for (const k of need) if (!(k in r)) throw new Error("no key " + k);
  if (r.data_kind !== "images" || r.count !== 300) throw new Error("data_kind/count");
  if (r.models.length !== 2 || !r.models.every((m) => m.file && m.accuracy > 0.5))
    throw new Error("models");
  if (r.classes.length !== 10) throw new Error("classes");
  for (const c of r.classes)
    for (const k of ["class", "precision", "recall", "f1", "support"])
      if (typeof c[k] !== "number") throw new Error("class key " + k);
  const sum = r.confusion.flat().reduce((a, b) => a + b, 0);
  const diag = r.confusion.reduce((a, row, i) => a + row[i], 0);
  if (r.confusion.length !== 10 || sum !== 300 || diag !== r.correct)
    throw new Error("confusion matrix");
  if (Math.abs(r.accuracy - r.correct / r.count) > 1e-6) throw new Error("accuracy");
' "$OUT" || fail "eval --json output"
run "$DIGITS" eval --json --model "$T/csv-mlp.safetensors" --data "$DIGITS_DATA" --limit 200
expect_rc 0 "eval --json on idx"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (r.data_kind !== "idx" || r.split !== "t10k" || r.count !== 200) throw new Error("idx");
' "$OUT" || fail "eval --json on the idx folder"

echo "cli_datasets: ok"
