#!/usr/bin/env bash
# model_check.sh NAME TARGET: a shipped model (models/NAME.safetensors), or
# the ensemble (NAME = ensemble: the files listed in models/ensemble.txt,
# probabilities averaged), evaluated on the full MNIST test set, reaches
# TARGET percent; a single model also matches the test accuracy stored in
# its metadata within 0.05 points, and `digits info` describes it.
set -euo pipefail
name=$1 target=$2
cd "$DIGITS_SRC"
fail() { echo "FAIL: $name: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

args=()
if [ "$name" = ensemble ]; then
  while read -r f _; do
    case $f in ''|'#'*) continue ;; esac
    args+=(--model "$f")
  done < models/ensemble.txt
  [ ${#args[@]} -ge 4 ] || fail "models/ensemble.txt lists fewer than 2 models"
else
  model=models/$name.safetensors
  [ -f "$model" ] || fail "$model is missing"
  args=(--model "$model")
  info=$("$DIGITS" info "$model") || fail "digits info failed"
  grep -q 'Total params' <<<"$info" || fail "digits info shows no parameter total"
  stored=$(sed -n 's/^ *test_accuracy: *//p' <<<"$info")
  [ -n "$stored" ] || fail "no test_accuracy in the metadata"
fi
out=$("$DIGITS" eval "${args[@]}" --data "$DIGITS_DATA") || fail "digits eval failed"
read -r correct total < <(sed -n 's/^accuracy .*(\([0-9]*\)\/\([0-9]*\)).*/\1 \2/p' <<<"$out")
[ "${total:-0}" = 10000 ] || fail "evaluated ${total:-no} images, expected 10000"
acc=$(awk -v c="$correct" 'BEGIN { printf "%.2f", c / 100 }')
echo "$name: $acc% on the MNIST test set (target $target%)"
awk -v a="$correct" -v t="$target" 'BEGIN { exit !(a / 100 >= t) }' ||
  fail "accuracy $acc% is below the target $target%"
if [ -n "${stored:-}" ]; then
  awk -v a="$correct" -v s="$stored" 'BEGIN { d = a / 10000 - s; if (d < 0) d = -d; exit !(d <= 0.0005) }' ||
    fail "accuracy $acc% differs from the stored $stored"
  echo "stored test_accuracy $stored matches"
fi
echo "1 passed, 0 failed"
