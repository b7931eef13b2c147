#!/usr/bin/env bash
# fashion.sh: the training code on a second real dataset in the same idx
# format (Debian's dataset-fashion-mnist, gzip-compressed): short mlp and
# cnn runs learn (well above chance) and eval reads the .gz test split. The
# full cnn run (10 epochs, 92.43%) is in the README; it takes too long here.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
F=${DIGITS_FASHION:-/usr/share/datasets/fashion-mnist}
[ -f "$F/train-images-idx3-ubyte.gz" ] || fail "Fashion-MNIST not installed at $F (apt-get install dataset-fashion-mnist)"

run "$DIGITS" train --data "$F" --arch mlp --epochs 1 --limit 6000 --val 1000 \
    --lr 0.002 --seed 3 --out "$T/fashion.safetensors"
expect_rc 0 "train on Fashion-MNIST"
expect_out '^epoch 1/1 '
acc=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$OUT")
[ -n "$acc" ] || fail "no test accuracy line"
awk -v a="$acc" 'BEGIN { exit !(a >= 75) }' || fail "Fashion-MNIST accuracy $acc% < 75%"

run "$DIGITS" eval --model "$T/fashion.safetensors" --data "$F"
expect_rc 0 "eval on Fashion-MNIST"
expect_out 'accuracy .*\(([0-9]+)/10000\)'

# The cnn run under the sanitizers takes minutes (mostly the 10,000-image
# test pass); the sanitizer build runs the mlp part only.
if [[ "$DIGITS" == *_asan ]]; then
  echo "fashion mlp, 1 epoch on 5,000 images: $acc% (cnn run skipped under the sanitizers)"
  echo "2 passed, 0 failed"
  exit 0
fi
run "$DIGITS" train --data "$F" --arch cnn --epochs 1 --limit 3000 --val 500 \
    --lr 0.002 --seed 3 --out "$T/fashion-cnn.safetensors"
expect_rc 0 "train the cnn on Fashion-MNIST"
cacc=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$OUT")
[ -n "$cacc" ] || fail "no test accuracy line for the cnn"
awk -v a="$cacc" 'BEGIN { exit !(a >= 40) }' || fail "Fashion-MNIST cnn accuracy $cacc% < 40%"

echo "fashion mlp, 1 epoch on 5,000 images: $acc%; cnn, 1 epoch on 2,500 images: $cacc%"
echo "3 passed, 0 failed"
