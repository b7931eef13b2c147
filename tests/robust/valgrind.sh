#!/usr/bin/env bash
# valgrind.sh MODE (ctest valgrind_predict, valgrind_eval, valgrind_train):
# the CLI under valgrind's memcheck: no invalid read or write, no use of
# uninitialised memory, no definite or indirect leak. MODE is
#   predict  two drawings with the shipped default model, then the same with
#            a bad file among them (the error path: status 1, no error)
#   eval     the default model on 20 test images (a small idx folder made
#            here), with --report (PNG and HTML writing)
#   train    one epoch of a small CNN (conv, batch norm, pooling, dropout,
#            dense) on 256 images, batch 64, with checkpoint and final save
# Environment from ctest: DIGITS (a build without AVX-512, which valgrind
# cannot run), VALGRIND, DIGITS_SUPP (suppressions), DIGITS_DATA, DIGITS_SRC.
set -euo pipefail
source "$DIGITS_SRC/tests/cli/lib.bash"
need_data
mode=${1:?usage: valgrind.sh predict|eval|train}
: "${VALGRIND:=valgrind}"

# vg STATUS CMD...: CMD under memcheck must exit with STATUS; a memcheck
# error makes it exit 99 instead, so the two cannot be confused.
vg() {
  local want=$1
  shift
  run "$VALGRIND" -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect \
    --suppressions="$DIGITS_SUPP" "$@"
  [ "$RC" -ne 99 ] || fail "memcheck found errors in: $*"
  expect_rc "$want" "$*"
  if grep -q '^==[0-9]*==' "$ERR"; then fail "valgrind printed a report"; fi
}

# small_split SPLIT N DIR: the first N images and labels of an MNIST split.
small_split() {
  local split=$1 n=$2 dir=$3 f src hb per
  for f in images-idx3-ubyte labels-idx1-ubyte; do
    src=$DIGITS_DATA/$split-$f
    if [ ! -e "$src" ]; then
      gzip -dc "$src.gz" >"$T/raw"
      src=$T/raw
    fi
    hb=8 per=1
    [ "$f" = images-idx3-ubyte ] && hb=16 per=784
    {
      head -c 4 "$src"   # magic
      printf "$(printf '\\%03o' $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255)))"
      dd if="$src" bs=64k iflag=skip_bytes,count_bytes skip=8 count=$((hb - 8)) 2>/dev/null
      dd if="$src" bs=64k iflag=skip_bytes,count_bytes skip="$hb" count=$((n * per)) 2>/dev/null
    } >"$dir/$split-$f"
  done
}

MODEL=$DIGITS_SRC/models/default.safetensors
case $mode in
  predict)
    vg 0 "$DIGITS" predict --model "$MODEL" "$DIGITS_SRC/docs/examples/drawn-7.png" \
      "$DIGITS_SRC/docs/examples/drawn-3.png"
    expect_out 'drawn-7\.png	7	'
    printf 'not an image' >"$T/bad.png"
    vg 1 "$DIGITS" predict --json --model "$MODEL" "$T/bad.png" \
      "$DIGITS_SRC/docs/examples/drawn-1.png"
    expect_err 'bad\.png'
    expect_out '"digit":1'
    ;;
  eval)
    mkdir "$T/data"
    small_split t10k 20 "$T/data"
    vg 0 "$DIGITS" eval --model "$MODEL" --data "$T/data" --report "$T/report"
    expect_out '\(t10k, 20 images\)'
    [ -s "$T/report/index.html" ] || fail "no report"
    ;;
  train)
    mkdir "$T/data"
    small_split train 256 "$T/data"
    small_split t10k 64 "$T/data"
    vg 0 "$DIGITS" train --data "$T/data" --arch "input 28 28 1; conv 4 3 same; bn; relu; maxpool 2; dropout 0.25; flatten; dense 10; softmax" \
      --epochs 1 --batch 64 --val 64 --threads 1 --seed 3 --augment \
      --out "$T/m.safetensors"
    expect_out '^epoch 1/1 '
    [ -s "$T/m.safetensors" ] && [ -s "$T/m.safetensors.ckpt" ] || fail "no model or checkpoint"
    ;;
  *) fail "unknown mode $mode" ;;
esac
echo "valgrind_$mode: ok"
