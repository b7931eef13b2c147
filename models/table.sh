#!/usr/bin/env bash
# models/table.sh: the table of shipped models for models/README.md, read
# from each file's own metadata with `digits info` (run from the repo root
# after ./build.sh build).
set -euo pipefail
cd "$(dirname "$0")/.."
D=${DIGITS:-build/digits}
echo "| model | arch | params | file | epochs (best) | train time | test acc | test loss |"
echo "|---|---|---|---|---|---|---|---|"
for name in logreg mlp50 mlp mlp-dropout lenet5 cnn cnn-aug default; do
  f=models/$name.safetensors
  [ -f "$f" ] || continue
  info=$("$D" info "$f")
  get() { sed -n "s/^  $1: //p" <<<"$info"; }
  params=$(sed -n 's/^Total params: \([0-9,]*\).*/\1/p' <<<"$info")
  size=$(stat -c %s "$f" | awk '{ printf "%.0f KB", $1 / 1024 }')
  secs=$(get train_seconds | awk '{ printf "%d min %02d s", $1 / 60, $1 % 60 }')
  acc=$(get test_accuracy | awk '{ printf "%.2f%%", 100 * $1 }')
  echo "| \`$name\` | $(get arch_name) | $params | $size | $(get epochs_run) ($(get best_epoch)) | $secs | $acc | $(get test_loss) |"
done
echo
echo "Commands (from each file's metadata):"
echo
echo '```'
for name in logreg mlp50 mlp mlp-dropout lenet5 cnn cnn-aug default; do
  f=models/$name.safetensors
  [ -f "$f" ] && "$D" info "$f" | sed -n 's/^  command: //p'
done
echo '```'
