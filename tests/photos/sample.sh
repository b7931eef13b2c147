#!/usr/bin/env bash
# sample.sh (ctest photos_sample): a fixed small sample of the photo test set
# (PER images of every condition, 2 of the 12-megapixel "large" ones) read
# through the real pipeline, held to accuracy floors. The sample, its
# example sheet (misreads first) and the table stay in OUTDIR.
# usage: sample.sh PHOTO_GEN PHOTO_EVAL OUTDIR PER MIN_ACC MIN_COND_ACC [COND=X,...]
set -euo pipefail
gen=$1 eval=$2 out=$3 per=$4 min_acc=$5 min_cond=$6 floors=${7:-}
rm -rf "$out"
"$gen" "$out" --per "$per" --count large=2
args=(--min-acc "$min_acc" --min-cond-acc "$min_cond")
[[ -n $floors ]] && args+=(--cond-floor "$floors")
"$eval" "$out/manifest.csv" "${args[@]}" --sheet "$out/sheet.png" --sheet-pick wrong \
  --misses | tee "$out/table.md"
