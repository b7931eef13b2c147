#!/usr/bin/env bash
# datasets_errors.sh (ctest cli_datasets_errors): hostile CSV files and
# image folders given to --data (issue 20): each gets one line on stderr
# naming the file (and the line and column of a CSV) and exit status 1,
# never a crash or a long wait.
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

# the header and N rows of a valid labelled CSV (label = row % 10, pixels 0)
header() {
  printf 'label'
  for ((k = 0; k < 784; k++)); do printf ',pixel%d' "$k"; done
  printf '\n'
}
zeros=$(printf ',0%.0s' $(seq 784))
row() { printf '%d%s\n' "$1" "$zeros"; }
C=$T/good.csv
{ header; for i in 1 2 3 4 5 6 7 8 9 0 1 2; do row "$i"; done; } >"$C"
M=$T/m.safetensors
run "$DIGITS" train --data "$C" --arch logreg --epochs 1 --val 2 --out "$M"
expect_rc 0 "train on a small valid CSV"

# eval_and_train PATTERN FILE: both verbs fail on FILE with PATTERN
eval_and_train() {
  failure "$1" eval --model "$M" --data "$2"
  failure "$1" train --data "$2" --arch logreg --epochs 1 --out "$T/x.safetensors"
  [ ! -e "$T/x.safetensors" ] || fail "a model was written from bad data $2"
}

# ---- CSV files
: >"$T/empty.csv"
eval_and_train 'empty\.csv: empty file' "$T/empty.csv"
printf '\n\n  \n' >"$T/blank.csv"
eval_and_train 'blank\.csv: empty file' "$T/blank.csv"
header >"$T/header-only.csv"
eval_and_train 'header-only\.csv: no data rows' "$T/header-only.csv"
# a row one field short, on line 4
{ header; row 1; row 2; printf '3%s\n' "${zeros#,0}"; } >"$T/short.csv"
eval_and_train 'short\.csv: line 4 has 784 columns, expected 785' "$T/short.csv"
# not a number, out of range, negative, a fraction, a bad label
{ header; row 1; printf '2,0,0,0,abc%s\n' "${zeros:0:$((2 * 780))}"; } >"$T/word.csv"
eval_and_train 'word\.csv: line 3, column 5 \(pixel3\): "abc" is not an integer 0\.\.255' "$T/word.csv"
{ header; printf '2,256%s\n' "${zeros:2}"; } >"$T/big.csv"
eval_and_train 'big\.csv: line 2, column 2 \(pixel0\): "256" is not an integer 0\.\.255' "$T/big.csv"
{ header; printf '2,-1%s\n' "${zeros:2}"; } >"$T/neg.csv"
eval_and_train 'neg\.csv: line 2, column 2 \(pixel0\): "-1"' "$T/neg.csv"
{ header; printf '2,0.5%s\n' "${zeros:2}"; } >"$T/frac.csv"
eval_and_train 'frac\.csv: line 2, column 2 \(pixel0\): "0\.5"' "$T/frac.csv"
{ header; row 12; } >"$T/label.csv"
eval_and_train 'label\.csv: line 2, column 1 \(label\): "12" is not a digit 0\.\.9' "$T/label.csv"
# a 20-digit number does not overflow into range
{ header; printf '2,99999999999999999999%s\n' "${zeros:2}"; } >"$T/huge.csv"
eval_and_train 'huge\.csv: line 2, column 2 \(pixel0\): "9999' "$T/huge.csv"
# absurd sizes: a 200 kB line, a header of 100000 columns
{ header; head -c 200000 /dev/zero | tr '\0' 7; printf '\n'; } >"$T/longline.csv"
eval_and_train 'longline\.csv: line 2 is longer than 65536 bytes' "$T/longline.csv"
{ printf 'label'; printf ',p%.0s' $(seq 20000); printf '\n'; } >"$T/wide.csv"
eval_and_train 'wide\.csv: line 1: the header has 20001 columns, expected 785' "$T/wide.csv"
# no header: the first row fixes the layout; a few columns is no layout
printf '1,2,3\n4,5,6\n' >"$T/three.csv"
eval_and_train 'three\.csv: line 1: the first row has 3 columns' "$T/three.csv"
# binary data (an idx file given as a CSV)
f=$DIGITS_DATA/t10k-labels-idx1-ubyte
if [ -e "$f" ]; then cp "$f" "$T/idx.csv"; else gzip -dc "$f.gz" >"$T/idx.csv"; fi
eval_and_train 'idx\.csv: binary data, not a CSV' "$T/idx.csv"
# the unlabelled (Kaggle test) layout cannot train or evaluate
{ printf 'pixel0'; for ((k = 1; k < 784; k++)); do printf ',pixel%d' "$k"; done
  printf '\n'; printf '0%s\n' "${zeros:2}"; } >"$T/nolabel.csv"
eval_and_train 'nolabel\.csv: 784 columns and no label column' "$T/nolabel.csv"
eval_and_train 'missing\.csv: No such file' "$T/missing.csv"
# --test is checked before training starts
failure 'nope\.csv' train --data "$C" --test "$T/nope.csv" --arch logreg --out "$T/x.safetensors"
[ ! -e "$T/x.safetensors" ] || fail "a model was written without its test set"

# ---- image folders
mnist_pgm 0 "$T/seven.pgm"
mkdir -p "$T/imgs/7" "$T/imgs/3"
cp "$T/seven.pgm" "$T/imgs/7/a.pgm"
cp "$T/seven.pgm" "$T/imgs/7/b.pgm"
printf 'not really a PNG' >"$T/imgs/3/bad.png"
eval_and_train 'imgs/3/bad\.png' "$T/imgs"
rm "$T/imgs/3/bad.png"
blank_pgm "$T/imgs/3/white.pgm"
eval_and_train 'imgs/3/white\.pgm: empty image: no ink found' "$T/imgs"
rm "$T/imgs/3/white.pgm"
: >"$T/imgs/3/zero.png"
eval_and_train 'imgs/3/zero\.png: empty file' "$T/imgs"
rm "$T/imgs/3/zero.png"
# other files are ignored, not read
printf 'notes\n' >"$T/imgs/3/README.txt"
run "$DIGITS" eval --model "$M" --data "$T/imgs"
expect_rc 0 "an image folder with a text file in it"
expect_out "\(image folder, 2 images\)"
# class folders without images
mkdir -p "$T/noimgs/0" "$T/noimgs/1"
printf 'x' >"$T/noimgs/1/list.txt"
eval_and_train 'noimgs: the class folders hold no images' "$T/noimgs"

echo "cli_datasets_errors: ok"
