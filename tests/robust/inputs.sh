#!/usr/bin/env bash
# inputs.sh (ctest robust_inputs, and robust_inputs_asan under ASan +
# UBSan): every class of bad input of docs/robustness.md fed to the CLI,
# made here at test time. Each must give exit status 1 and one clear line
# on stderr naming the file and the problem (never a crash, never a
# silent wrong answer); a bad image among good ones leaves the good ones
# predicted. The odd-but-valid pictures (16-bit PNG, CMYK JPEG of an MNIST
# digit) must be read as that digit.
# Environment from ctest: DIGITS, ROBUST_GEN (tests/robust/gen.c),
# DIGITS_DATA, DIGITS_SRC, DIGITS_TMP.
set -euo pipefail
source "$DIGITS_SRC/tests/cli/lib.bash"
need_data
GEN=${ROBUST_GEN:?ROBUST_GEN must be the robust_gen program}
MODEL=$DIGITS_SRC/models/default.safetensors
SEVEN=$DIGITS_SRC/docs/examples/drawn-7.png

# bad PATTERN CMD...: status 1, one stderr line matching PATTERN.
bad() {
  local pat=$1
  shift
  run "$DIGITS" "$@"
  expect_rc 1 "digits $*"
  expect_one_line_err
  expect_err "$pat"
}

# le64 N: N as 8 little-endian bytes.
le64() {
  local i
  for i in 0 1 2 3 4 5 6 7; do printf "\\$(printf '%03o' $(($1 >> (8 * i) & 255)))"; done
}

# st_file OUT HEADER [DATA_BYTES]: a safetensors file written by hand: the
# header padded with spaces to 8 bytes, then DATA_BYTES zero bytes.
st_file() {
  local h=$2 pad
  pad=$(((8 - ${#h} % 8) % 8))
  { le64 $((${#h} + pad)); printf '%s%*s' "$h" "$pad" ''; head -c "${3:-0}" /dev/zero; } >"$1"
}
META='"__metadata__":{"format":"digits","format_version":"1","arch":"input 1 1 1; flatten; dense 2"}'
W='"dense1.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}'
Bi='"dense1.bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}'

# full_images FILE: an MNIST file's bytes, raw or from its .gz
full_images() { if [ -e "$DIGITS_DATA/$1" ]; then cat "$DIGITS_DATA/$1"; else gzip -dc "$DIGITS_DATA/$1.gz"; fi; }

# ---- model files -----------------------------------------------------------------
st_file "$T/hand.st" "{$META,$W,$Bi}" 16
run "$DIGITS" info "$T/hand.st"
expect_rc 0 "the hand-made model (the base of the cases below)"

: >"$T/zero.st"
bad 'zero\.st: model file too short \(0 bytes' info "$T/zero.st"
size=$(wc -c <"$MODEL")
head -c $((size / 2)) "$MODEL" >"$T/half.st"
bad 'half\.st: tensor ".*": data_offsets .* out of range' info "$T/half.st"
bad 'half\.st' predict --model "$T/half.st" "$SEVEN"
# one flipped bit in a weight: caught by the checksum (in every file saved
# since it exists; the shipped models predate it and have none)
"$GEN" model "$T/crc.st" mlp 5
hl=$(od -An -tu8 -N8 "$T/crc.st" | tr -d ' ')
cp "$T/crc.st" "$T/flip.st"
at=$((8 + hl + 1000))
byte=$(od -An -tu1 -j "$at" -N1 "$T/crc.st" | tr -d ' ')
printf "\\$(printf '%03o' $((byte ^ 4)))" | dd of="$T/flip.st" bs=1 seek="$at" conv=notrunc 2>/dev/null
bad 'flip\.st: model file is damaged: the CRC-32 of its architecture and weights is [0-9a-f]{8}, the header says [0-9a-f]{8}' \
  info "$T/flip.st"
bad 'flip\.st: model file is damaged' predict --model "$T/flip.st" "$SEVEN"
{ le64 $((1 << 40)); tail -c +9 "$MODEL"; } >"$T/bighead.st"
bad 'bighead\.st: model header length 1099511627776 is absurd' info "$T/bighead.st"
# negative, huge and mismatched shapes, offsets past the end
st_file "$T/neg.st" "{$META,${W/\[1,2\]/[-1,2]},$Bi}" 16
bad 'neg\.st: .*"dense1\.weight".*not a non-negative integer' info "$T/neg.st"
st_file "$T/huge.st" "{$META,${W/\[1,2\]/[4294967296,4294967296,4294967296]},$Bi}" 16
bad 'huge\.st: tensor "dense1\.weight": shape \[4294967296,4294967296,4294967296\] is too large' \
  info "$T/huge.st"
st_file "$T/mismatch.st" "{$META,${W/\[1,2\]/[2,1]},$Bi}" 16
bad 'mismatch\.st: tensor "dense1\.weight": shape \[2,1\], expected \[1,2\]' info "$T/mismatch.st"
st_file "$T/short.st" "{$META,${W/\[0,8\]/[0,4]},$Bi}" 16
bad 'short\.st: tensor "dense1\.weight": data_offsets \[0,4\] hold 4 bytes, shape \[1,2\] of F32 needs 8' \
  info "$T/short.st"
st_file "$T/past.st" "{$META,$W,${Bi/\[8,16\]/[8,16000]}}" 16
bad 'past\.st: tensor "dense1\.bias": data_offsets \[8,16000\] out of range' info "$T/past.st"
# a 120-byte file naming a billion-weight net: refused at once
bad 'more than the file.s 0 bytes of tensor data' \
  info "$DIGITS_SRC/tests/fuzz/corpus/model/regress-huge-arch-tiny-file.safetensors"
# NaN and infinite weights (the checksum would catch them too: they are
# named first)
for kind in nan inf -inf; do
  "$GEN" poke "$T/crc.st" "$T/$kind.st" 4000 "$kind"
  want=NaN
  [ "$kind" = nan ] || want=infinite
  bad "$kind\\.st: tensor \".*\": element 1000 is $want" info "$T/$kind.st"
done
# wrong magic: a PNG, a text file, an idx file where a model belongs
bad 'drawn-7\.png: model header length [0-9]+ is absurd' info "$SEVEN"
printf 'hello, I am not a model\n' >"$T/text.st"
bad 'text\.st: model header length [0-9]+ is absurd' info "$T/text.st"
full_images t10k-labels-idx1-ubyte >"$T/labels.idx1"
bad 'labels\.idx1: model (header length [0-9]+ is absurd|header length [0-9]+ goes beyond)' \
  info "$T/labels.idx1"
# a folder, a missing file
mkdir "$T/dir.st"
bad 'dir\.st: is a directory, expected a file' info "$T/dir.st"
bad 'dir\.st: is a directory' predict --model "$T/dir.st" "$SEVEN"
bad 'nope\.st: No such file or directory' info "$T/nope.st"
echo "model files: ok"

# ---- idx data folders ----------------------------------------------------------
# mkdata NAME: a folder holding a copy of the real test images and labels,
# which the case then damages
mkdata() {
  mkdir "$T/$1"
  full_images t10k-labels-idx1-ubyte >"$T/$1/t10k-labels-idx1-ubyte"
  full_images t10k-images-idx3-ubyte >"$T/$1/t10k-images-idx3-ubyte"
}
IM=t10k-images-idx3-ubyte
mkdata zero
: >"$T/zero/$IM"
bad "zero/$IM: empty file \\(0 bytes\\), expected an idx images file" eval --model "$MODEL" --data "$T/zero"
mkdata trunc
head -c 5000 "$T/trunc/$IM" >"$T/t" && mv "$T/t" "$T/trunc/$IM"
bad "trunc/$IM: truncated: header says 10000 images of 28x28 \\(7840000 bytes\\) but 4984 bytes follow" \
  eval --model "$MODEL" --data "$T/trunc"
mkdata extra
printf 'xyz' >>"$T/extra/$IM"
bad "extra/$IM: header says 10000 images of 28x28 .* \\(3 extra\\)" eval --model "$MODEL" --data "$T/extra"
mkdata magic
printf '\001' | dd of="$T/magic/$IM" bs=1 seek=1 conv=notrunc 2>/dev/null
bad "magic/$IM: bad magic 0x00010803: not an idx file" eval --model "$MODEL" --data "$T/magic"
mkdata kind
cp "$T/kind/t10k-labels-idx1-ubyte" "$T/kind/$IM"
bad "kind/$IM: wrong dimension count: the file has 1 dimension" eval --model "$MODEL" --data "$T/kind"
mkdata many
"$GEN" idx "$T/many/$IM" 3 0xFFFFFFFF 28 28 0
bad "many/$IM: header says 4294967295 images, over the limit of 10000000" eval --model "$MODEL" --data "$T/many"
mkdata wide
"$GEN" idx "$T/wide/$IM" 3 10 100000 28 0
bad "wide/$IM: header says images of 100000x28: each side must be 1\\.\\.4096" eval --model "$MODEL" --data "$T/wide"
mkdata count
"$GEN" idx "$T/count/$IM" 3 500 28 28 $((500 * 784))
bad "count: image/label count mismatch: 500 images but 10000 labels" eval --model "$MODEL" --data "$T/count"
mkdata gz
gzip -c "$T/gz/$IM" >"$T/gz/$IM.gz"
rm "$T/gz/$IM"
gsize=$(wc -c <"$T/gz/$IM.gz")
byte=$(od -An -tu1 -j $((gsize / 2)) -N1 "$T/gz/$IM.gz" | tr -d ' ')
printf "\\$(printf '%03o' $((byte ^ 16)))" | dd of="$T/gz/$IM.gz" bs=1 seek=$((gsize / 2)) conv=notrunc 2>/dev/null
bad "gz/$IM\\.gz: (corrupt gzip stream|truncated|.*more data follows)" eval --model "$MODEL" --data "$T/gz"
mkdata gzcut
gzip -c "$T/gzcut/$IM" >"$T/full.gz"
head -c 20000 "$T/full.gz" >"$T/gzcut/$IM.gz"
rm "$T/gzcut/$IM"
bad "gzcut/$IM\\.gz: truncated gzip stream" eval --model "$MODEL" --data "$T/gzcut"
mkdata label
printf '\014' | dd of="$T/label/t10k-labels-idx1-ubyte" bs=1 seek=20 conv=notrunc 2>/dev/null
bad "label/t10k-labels-idx1-ubyte: label 12 at index 12 is not a class 0\\.\\.9" eval --model "$MODEL" --data "$T/label"
mkdata dir
rm "$T/dir/$IM" && mkdir "$T/dir/$IM"
bad "dir/$IM: is a directory, expected a file" eval --model "$MODEL" --data "$T/dir"
bad 'text\.st: not a folder' eval --model "$MODEL" --data "$T/text.st"
echo "idx files: ok"

# ---- images --------------------------------------------------------------------
label=$("$GEN" label "$DIGITS_DATA" 0)
"$GEN" png "$T/d16.png" 280 280 0 16 "$DIGITS_DATA" 0
"$GEN" jpeg "$T/cmyk.jpg" 224 224 4 "$DIGITS_DATA" 0
"$GEN" png "$T/one.png" 1 1 0 8
"$GEN" png "$T/blank.png" 300 200 6 8
"$GEN" png "$T/big.png" 20000 20000 0 1
[ "$(wc -c <"$T/big.png")" -lt 200000 ] || fail "the 20000x20000 PNG should be small"
: >"$T/zero.png"
head -c 1000 "$SEVEN" >"$T/cut.png"
cp "$SEVEN" "$T/flip.png"
printf '\377\377\377\377' | dd of="$T/flip.png" bs=1 seek=40 conv=notrunc 2>/dev/null
printf 'GIF89a, or so it says' >"$T/liar.gif"
mkdir "$T/dir.png"
run "$DIGITS" predict "$T/d16.png" "$T/cmyk.jpg" "$T/zero.png" "$T/cut.png" "$T/flip.png" \
  "$T/liar.gif" "$T/one.png" "$T/blank.png" "$T/big.png" "$T/dir.png" "$T/nope.png" "$SEVEN"
expect_rc 1 "predict with bad images among good ones"
expect_out "d16\\.png	$label	"
expect_out "cmyk\\.jpg	$label	"
expect_out "drawn-7\\.png	7	"
[ "$(wc -l <"$OUT")" -eq 3 ] || fail "expected 3 predictions, got $(wc -l <"$OUT")"
[ "$(wc -l <"$ERR")" -eq 9 ] || fail "expected 9 error lines, got $(wc -l <"$ERR")"
expect_err '^digits: predict: .*zero\.png: empty file \(0 bytes\)$'
expect_err '^digits: predict: .*cut\.png: truncated PNG: a chunk runs past the end of the file'
expect_err '^digits: predict: .*flip\.png: (corrupt or unsupported PNG image|cannot decode|.*too large)'
expect_err '^digits: predict: .*liar\.gif: corrupt or unsupported GIF image'
expect_err '^digits: predict: .*one\.png: empty image: no ink found \(1x1\)$'
expect_err '^digits: predict: .*blank\.png: empty image: no ink found \(300x200\)$'
expect_err '^digits: predict: .*big\.png: PNG image of 20000x20000 is too large \(limits: 16384 per side, 67108864 pixels\)$'
expect_err '^digits: predict: .*dir\.png: is a directory, expected a file$'
expect_err '^digits: predict: .*nope\.png: No such file or directory$'
echo "images: ok"

# ---- unreadable files (as root, permissions do not stop reads: run as nobody) ----
mkdata locked
if as_nobody "$SEVEN" "$MODEL" "$T/locked"; then
  cp "$SEVEN" "$NB/locked.png"
  cp "$MODEL" "$NB/locked.st"
  chmod 000 "$NB/locked.png" "$NB/locked.st" "$NB/locked/$IM"
  run "${AS[@]}" "$NB_DIGITS" predict --model "$NB/$(basename "$MODEL")" "$NB/locked.png" "$NB/drawn-7.png"
  expect_rc 1 "predict an unreadable image"
  expect_err '^digits: predict: .*locked\.png: Permission denied$'
  expect_out "drawn-7\\.png	7	"
  run "${AS[@]}" "$NB_DIGITS" info "$NB/locked.st"
  expect_rc 1 "info on an unreadable model"
  expect_err 'locked\.st: Permission denied'
  run "${AS[@]}" "$NB_DIGITS" eval --model "$NB/$(basename "$MODEL")" --data "$NB/locked"
  expect_rc 1 "eval on an unreadable idx file"
  expect_err "locked/$IM: Permission denied"
  echo "unreadable files: ok"
else
  echo "unreadable files: skipped (user nobody cannot run a program in $NB)"
fi

echo "robust_inputs: ok"
