#!/usr/bin/env bash
# errors.sh (ctest cli_errors): missing or corrupt model files and data give
# one clear line on stderr and exit status 1, never a crash.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
need_data

# failure PATTERN CMD...: status 1 and one stderr line matching PATTERN.
failure() {
  local pat=$1
  shift
  run "$DIGITS" "$@"
  expect_rc 1 "digits $*"
  expect_one_line_err
  expect_err "$pat"
}

M=$T/logreg.safetensors
train_tiny "$M"
mnist_pgm 0 "$T/seven.pgm"

# ---- model files
failure 'nope\.safetensors' info "$T/nope.safetensors"
failure 'nope\.safetensors' predict --model "$T/nope.safetensors" "$T/seven.pgm"
failure 'nope\.safetensors' eval --model "$T/nope.safetensors" --data "$DIGITS_DATA"
failure 'safetensors|director|file' info "$T"
size=$(wc -c <"$M")
for cut in $((size / 2)) $((size - 1)) 7 0; do
  head -c "$cut" "$M" >"$T/cut.safetensors"
  failure 'cut\.safetensors' info "$T/cut.safetensors"
  failure 'cut\.safetensors' predict --model "$T/cut.safetensors" "$T/seven.pgm"
done
printf 'hello, I am not a model\n' >"$T/text.safetensors"
failure 'text\.safetensors' info "$T/text.safetensors"
# a header length far beyond the file
{ printf '\377\377\377\377\377\377\377\177'; printf '{}'; } >"$T/huge.safetensors"
failure 'huge\.safetensors' info "$T/huge.safetensors"
failure 'nope\.ckpt' train --data "$DIGITS_DATA" --resume "$T/nope.ckpt"
failure 'nonexistent' train --data "$DIGITS_DATA" --arch logreg --out "$T/nonexistent/m.safetensors"

# a final model is not a checkpoint; a checkpoint of another architecture
failure 'logreg\.safetensors.*checkpoint' train --data "$DIGITS_DATA" --limit 3000 \
  --resume "$M"
failure 'checkpoint.*architecture|architecture.*checkpoint' train --data "$DIGITS_DATA" --limit 3000 \
  --arch mlp50 --resume "$M.ckpt"

# ---- data folders
failure 'nodata' train --data "$T/nodata" --arch logreg --epochs 1
failure 'nodata' eval --model "$M" --data "$T/nodata"

# truncated idx files: the test images cut short, the training images too
mkdir "$T/trunc"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [ -e "$DIGITS_DATA/$f" ]; then cat "$DIGITS_DATA/$f"; else gzip -dc "$DIGITS_DATA/$f.gz"; fi >"$T/trunc/$f"
done
head -c 5000 "$T/trunc/t10k-images-idx3-ubyte" >"$T/t" && mv "$T/t" "$T/trunc/t10k-images-idx3-ubyte"
failure 't10k-images' eval --model "$M" --data "$T/trunc"
head -c 100000 "$T/trunc/train-images-idx3-ubyte" >"$T/t" && mv "$T/t" "$T/trunc/train-images-idx3-ubyte"
failure 'train-images' train --data "$T/trunc" --arch logreg --epochs 1
# a labels file of the wrong kind (images where labels belong)
mkdir "$T/swapped"
cp "$T/trunc/t10k-labels-idx1-ubyte" "$T/swapped/t10k-images-idx3-ubyte"
cp "$T/trunc/t10k-labels-idx1-ubyte" "$T/swapped/t10k-labels-idx1-ubyte"
failure 't10k' eval --model "$M" --data "$T/swapped"

# ---- a report folder that cannot be created
touch "$T/afile"
failure 'afile' eval --model "$M" --data "$DIGITS_DATA" --limit 100 --report "$T/afile/sub"

echo "cli_errors: ok"
