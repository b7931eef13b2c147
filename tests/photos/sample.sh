#!/usr/bin/env bash
# sample.sh (ctest photos_sample): a fixed small sample of the photo test set
# (PER images of every condition, 2 of the 12-megapixel "large" ones) read
# through the real pipeline, held to accuracy floors.
# usage: sample.sh PHOTO_GEN PHOTO_EVAL OUTDIR PER MIN_ACC MIN_COND_ACC
set -euo pipefail
gen=$1 eval=$2 out=$3 per=$4 min_acc=$5 min_cond=$6
rm -rf "$out"
"$gen" "$out" --per "$per" --count large=2
"$eval" "$out/manifest.csv" --min-acc "$min_acc" --min-cond-acc "$min_cond" \
  --sheet "$out/sheet.png" --sheet-pick wrong --misses
