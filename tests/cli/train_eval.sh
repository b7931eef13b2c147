#!/usr/bin/env bash
# train_eval.sh (ctest cli_train_eval): train a tiny model end to end, then
# info, eval (text and --report), ensembles and --resume.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
need_data

M=$T/logreg.safetensors
train_tiny "$M"
num='[0-9]+\.[0-9]+'
expect_out "^epoch 1/1  loss $num  acc $num%  val_loss $num  val_acc $num%  lr [0-9.e+-]+  $num"s
expect_out "^test accuracy $num%"
[ -s "$M.ckpt" ] || fail "no checkpoint $M.ckpt"
ls "$T" | grep -q '\.tmp' && fail "temporary files left in $T"

# ---- info
run "$DIGITS" info "$M"
expect_rc 0 "info"
expect_out "Layer \(type\) +Output Shape +Param #"
expect_out "\(None, 10\) +7,850"
expect_out "^Total params: 7,850"
expect_out "^Trainable params: 7,850"
expect_out "^Non-trainable params: 0"
expect_out "^File size: [0-9,]+ bytes"
expect_out "^Metadata:"
expect_out "^  arch_name: logreg$"
expect_out "^  dataset: "
expect_out "^  test_accuracy: 0\.[0-9]+$"
expect_out "^  test_loss: $num$"
expect_out "^  epochs: 1$"
expect_out "^  seed: 7$"
expect_out "^  date: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
expect_out "^  command: .*digits(_asan)? train --data .* --arch logreg --epochs 1 --limit 3000"
expect_out "^  train_seconds: $num$"

# ---- eval: accuracy above the bar, P/R/F1 table, confusion matrix
run "$DIGITS" eval --model "$M" --data "$DIGITS_DATA"
expect_rc 0 "eval"
acc=$(sed -n 's/^accuracy  *\([0-9.]*\)%.*/\1/p' "$OUT")
[ -n "$acc" ] || fail "no accuracy line"
awk -v a="$acc" 'BEGIN { exit !(a > 80) }' || fail "accuracy $acc% not above 80%"
expect_out "^loss +$num$"
expect_out "^class +precision +recall +f1 +support$"
for c in 0 1 2 3 4 5 6 7 8 9; do
  expect_out "^ +$c +0\.[0-9]{4} +0\.[0-9]{4} +0\.[0-9]{4} +[0-9]+$"
done
expect_out "^confusion matrix \(rows: true digit, columns: predicted\)"
# the ten confusion rows add up to the number of test images
total=$(awk '/^confusion matrix/ { on = 1; next }
             on && NF == 11 && $1 ~ /^[0-9]$/ { for (i = 2; i <= NF; i++) s += $i; rows++ }
             END { print rows ":" s }' "$OUT")
[ "$total" = "10:10000" ] || fail "confusion matrix rows:sum = $total, wanted 10:10000"

run "$DIGITS" eval --model "$M" --data "$DIGITS_DATA" --limit 1000
expect_rc 0 "eval --limit"
expect_out "\(t10k, 1000 images\)"

# ---- report
R=$T/report
run "$DIGITS" eval --model "$M" --data "$DIGITS_DATA" --limit 2000 --report "$R"
expect_rc 0 "eval --report"
[ -s "$R/index.html" ] || fail "no $R/index.html"
is_png "$R/confusion.png" || fail "confusion.png is not a PNG"
n=0
for f in "$R"/miss_*.png; do
  is_png "$f" || fail "$f is not a PNG"
  n=$((n + 1))
done
[ "$n" -ge 1 ] && [ "$n" -le 100 ] || fail "$n misclassified pictures, wanted 1..100"
# every picture the page links to exists
for src in $(grep -o 'src="[^"]*"' "$R/index.html" | sed 's/src="//; s/"$//'); do
  [ -f "$R/$src" ] || fail "index.html links to missing $src"
done
grep -q '<table' "$R/index.html" || fail "report has no tables"
grep -q 'precision' "$R/index.html" || fail "report has no P/R/F1 table"
grep -q '</html>' "$R/index.html" || fail "report HTML is incomplete"
ls "$R" | grep -q '\.tmp' && fail "temporary files left in the report folder"
if grep -q '^  history: ' <("$DIGITS" info "$M"); then
  grep -q '<polyline' "$R/index.html" || fail "model has a history but the report has no curves"
fi

# a model trained without validation: its curves have no validation line
# (absent values are stored as -1) and no axis below zero
M0=$T/noval.safetensors
train_tiny "$M0" --val 0 --epochs 2
R0=$T/report-noval
run "$DIGITS" eval --model "$M0" --data "$DIGITS_DATA" --limit 500 --report "$R0"
expect_rc 0 "eval --report of a model trained with --val 0"
grep -q '<polyline' "$R0/index.html" || fail "no curves for a model trained with --val 0"
grep -q 'validation</text>' "$R0/index.html" &&
  fail "report draws a validation line for a model trained with --val 0"
grep -q 'text-anchor="end">-[0-9]' "$R0/index.html" &&
  fail "report's curve axes go below zero (absent validation values plotted)"

# ---- ensemble of two models
M2=$T/logreg2.safetensors
train_tiny "$M2" --seed 8
run "$DIGITS" eval --model "$M" --model "$M2" --data "$DIGITS_DATA" --limit 1000
expect_rc 0 "ensemble eval"
expect_out "^ensemble  2 models"
expect_out "^accuracy  $num%"

# ---- resume: a 1-epoch checkpoint continued to 2 epochs runs epoch 2 only
M3=$T/resumed.safetensors
run "$DIGITS" train --data "$DIGITS_DATA" --arch logreg --epochs 2 --limit 3000 \
  --val 500 --seed 7 --resume "$M.ckpt" --out "$M3"
expect_rc 0 "train --resume"
expect_out "^epoch 2/2 "
grep -q "^epoch 1/2 " "$OUT" && fail "--resume ran epoch 1 again"
[ -s "$M3" ] || fail "no model after --resume"
run "$DIGITS" info "$M3"
expect_out "^  epochs: 2$"

# --resume without --arch takes the architecture from the checkpoint
run "$DIGITS" train --data "$DIGITS_DATA" --epochs 2 --limit 3000 --val 500 \
  --resume "$M.ckpt" --out "$T/resumed2.safetensors"
expect_rc 0 "train --resume without --arch"
expect_out "^epoch 2/2 "

# ---- Ctrl-C: stops cleanly with status 130 and a checkpoint to resume
MI=$T/int.safetensors
"$DIGITS" train --data "$DIGITS_DATA" --arch logreg --epochs 100000 --limit 3000 \
  --val 500 --out "$MI" >"$T/int.out" 2>"$T/int.err" &
pid=$!
for _ in $(seq 300); do
  grep -q '^epoch 1/' "$T/int.out" && break
  sleep 0.1
done
kill -INT "$pid"
set +e
wait "$pid"
RC=$?
set -e
OUT=$T/int.out ERR=$T/int.err
expect_rc 130 "train interrupted by SIGINT"
expect_one_line_err
expect_err "stopped by Ctrl-C after [0-9]+ epochs?; checkpoint in .*int\.safetensors\.ckpt"
[ -s "$MI.ckpt" ] || fail "no checkpoint after Ctrl-C"
[ ! -e "$MI" ] || fail "an interrupted run saved a final model"
last=$(sed -n 's|^epoch \([0-9]*\)/.*|\1|p' "$T/int.out" | tail -n 1)
OUT=$T/stdout ERR=$T/stderr
run "$DIGITS" train --data "$DIGITS_DATA" --limit 3000 --val 500 \
  --resume "$MI.ckpt" --epochs $((last + 1)) --out "$MI"
expect_rc 0 "resume after Ctrl-C"
expect_out "^epoch $((last + 1))/$((last + 1)) "
[ -s "$MI" ] || fail "no model after resuming the interrupted run"

echo "cli_train_eval: ok"
