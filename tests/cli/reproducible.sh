#!/usr/bin/env bash
# reproducible.sh (ctest cli_reproducible): the same command with the same
# seed trains the same model: every tensor byte is identical, on one thread
# and on two, with augmentation, dropout, batch norm and a weight average;
# only the metadata's date and timings differ.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
need_data

# tensor_bytes FILE: the safetensors data section (after the 8-byte length
# and the JSON header).
tensor_bytes() {
  local n
  n=$(od -An -t u8 -N 8 "$1" | tr -d ' ')
  tail -c +$((9 + n)) "$1"
}
# meta FILE: `digits info` without what names the file or measures time:
# the file name, the command line and the --out of the stored options (they
# name the output), the date and the seconds (per epoch in the history, and
# in all).
meta() {
  "$DIGITS" info "$1" | grep -Ev '^Model: |^  (date|train_seconds|command):' |
    sed -E 's/"seconds":[0-9.]+/"seconds":-/g; s/--out\t[^\t]*/--out -/'
}

ARCH="input 28 28 1; conv 4 3 same; bn; relu; maxpool 2; dropout 0.25; flatten; dense 10; softmax"
for t in 1 1 2; do
  n=$((${n:-0} + 1))
  run "$DIGITS" train --data "$DIGITS_DATA" --arch "$ARCH" --epochs 2 --limit 1500 \
    --val 300 --augment-thickness 1 --ema 0.99 --seed 11 --threads $t --out "$T/m$n.safetensors"
  expect_rc 0 "training run $n (threads $t)"
done
for n in 2 3; do
  cmp -s <(tensor_bytes "$T/m1.safetensors") <(tensor_bytes "$T/m$n.safetensors") ||
    fail "run $n's tensors differ from run 1's"
  diff <(meta "$T/m1.safetensors") <(meta "$T/m$n.safetensors") >/dev/null ||
    fail "run $n's metadata differs beyond date and timings"
done
[ "$(tensor_bytes "$T/m1.safetensors" | wc -c)" -gt 20000 ] || fail "tensor section too small"

# a different seed gives a different model (the comparison can fail)
run "$DIGITS" train --data "$DIGITS_DATA" --arch "$ARCH" --epochs 2 --limit 1500 \
  --val 300 --augment-thickness 1 --ema 0.99 --seed 12 --threads 1 --out "$T/m4.safetensors"
expect_rc 0 "training with another seed"
cmp -s <(tensor_bytes "$T/m1.safetensors") <(tensor_bytes "$T/m4.safetensors") &&
  fail "another seed gave the same tensors"
echo "ok: same seed, same tensor bytes on 1 and 2 threads"
