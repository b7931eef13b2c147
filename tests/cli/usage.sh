#!/usr/bin/env bash
# usage.sh (ctest cli_usage): usage errors exit 2 with one clear line on
# stderr and nothing on stdout; help and --version work.
set -euo pipefail
source "$(dirname "$0")/lib.bash"

# usage_error PATTERN CMD...: exit 2, one stderr line matching PATTERN.
usage_error() {
  local pat=$1
  shift
  run "$DIGITS" "$@"
  expect_rc 2 "digits $*"
  expect_one_line_err
  expect_err "$pat"
  [ ! -s "$OUT" ] || fail "stdout not empty for a usage error: digits $*"
}

D=${DIGITS_DATA:-/nonexistent}

# no arguments: the overview on stderr and status 2
run "$DIGITS"
expect_rc 2 "no arguments"
expect_err "usage: digits"
expect_err "no verb"

run "$DIGITS" --help
expect_rc 0 "--help"
expect_out "usage: digits VERB"
for v in predict train eval info; do
  run "$DIGITS" help "$v"
  expect_rc 0 "help $v"
  expect_out "usage: digits $v"
  run "$DIGITS" "$v" --help
  expect_rc 0 "$v --help"
  expect_out "usage: digits $v"
done
run "$DIGITS" help train
expect_out -- "--epochs N"
expect_out "architectures:.*logreg"

run "$DIGITS" --version
expect_rc 0 "--version"
expect_out "^digits [0-9]+\.[0-9]+"
expect_out "simd="

usage_error 'unknown verb "frobnicate"' frobnicate
usage_error 'unknown option "--bogus"' --bogus
usage_error 'unknown verb "nope"' help nope
usage_error 'train: unknown option "--frob"' train --data "$D" --arch logreg --frob
usage_error 'train: --data needs a value' train --arch logreg --data
usage_error 'train: --data DIR is required' train --arch logreg
usage_error 'train: --arch NAME is required' train --data "$D"
usage_error '^digits: train: --epochs needs a positive integer, got "abc"$' \
  train --data "$D" --arch logreg --epochs abc
usage_error 'train: --epochs needs a positive integer.*got "0"' \
  train --data "$D" --arch logreg --epochs 0
usage_error 'train: --epochs needs a positive integer.*got "-3"' \
  train --data "$D" --arch logreg --epochs -3
usage_error 'train: --epochs needs a positive integer, got "2x"' \
  train --data "$D" --arch logreg --epochs=2x
usage_error 'train: --batch needs a positive integer, got ""' \
  train --data "$D" --arch logreg --batch ""
usage_error 'train: --lr needs a number, got "fast"' \
  train --data "$D" --arch logreg --lr fast
usage_error 'train: --lr needs a number, got "nan"' \
  train --data "$D" --arch logreg --lr nan
usage_error 'train: --optimizer needs adam or sgd, got "rmsprop"' \
  train --data "$D" --arch logreg --optimizer rmsprop
usage_error 'train: --augment takes no value' \
  train --data "$D" --arch logreg --augment=yes
usage_error 'train: unexpected argument "extra"' \
  train --data "$D" --arch logreg extra
usage_error 'train: unknown architecture "nosuch" \(known: .*logreg' \
  train --data "$D" --arch nosuch
usage_error 'train: architecture ".*" takes 784 inputs and gives 7 outputs' \
  train --data "$D" --arch 'input 28 28 1; flatten; dense 7; softmax'
usage_error 'train: bad architecture spec: ' \
  train --data "$D" --arch 'input 28 28 1; flatten; dense x; softmax'
usage_error 'predict: no image files given' predict
usage_error 'predict: --model needs a value' predict --model
usage_error 'predict: --json takes no value' predict --json=1 x.png
usage_error 'predict: --threads needs a positive integer, got "many"' \
  predict --threads many x.png
usage_error 'eval: --data DIR is required' eval --model m.safetensors
usage_error 'eval: --limit needs a positive integer, got "ten"' \
  eval --data "$D" --limit ten
usage_error 'info: no model file given' info
usage_error 'info: expected one model file' info a.safetensors b.safetensors
usage_error 'info: unknown option "--verbose"' info --verbose a.safetensors

echo "cli_usage: ok"
