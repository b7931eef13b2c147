#!/usr/bin/env bash
# convert.sh (ctest cli_convert): `digits convert` (issue 20): a shipped
# model to ONNX and back predicts the same digits with the same confidences;
# --normalize is stored and changes predictions; a truncated ONNX file, one
# with an unsupported operator, and usage errors each get one line and
# write nothing. `train --normalize` stores the normalisation the same way.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
M=$DIGITS_SRC/models/lenet5.safetensors
IMG=$DIGITS_SRC/tests/data/preprocess_input.pgm

run "$DIGITS" convert "$M" "$T/l5.onnx"; expect_rc 0
[ -s "$T/l5.onnx" ] || fail "no ONNX file written"
run "$DIGITS" convert "$T/l5.onnx" "$T/l5.safetensors"; expect_rc 0
run "$DIGITS" predict --json --model "$M" "$IMG"; expect_rc 0
want=$(sed 's/"file":"[^"]*"//' "$OUT")
run "$DIGITS" predict --json --model "$T/l5.safetensors" "$IMG"; expect_rc 0
[ "$(sed 's/"file":"[^"]*"//' "$OUT")" = "$want" ] || fail "round trip changed the prediction"
run "$DIGITS" info "$T/l5.safetensors"; expect_rc 0
expect_out 'converted_from: ONNX \(opset 13'

run "$DIGITS" convert "$M" "$T/n.safetensors" --normalize 0.5 0.25; expect_rc 0
grep -aq '"input_mean":"0.5","input_std":"0.25"' "$T/n.safetensors" || fail "normalisation not stored"
run "$DIGITS" predict --json --model "$T/n.safetensors" "$IMG"; expect_rc 0
[ "$(sed 's/"file":"[^"]*"//' "$OUT")" != "$want" ] || fail "--normalize changed nothing"

head -c 3000 "$T/l5.onnx" >"$T/cut.onnx"
run "$DIGITS" convert "$T/cut.onnx" "$T/cut.safetensors"; expect_rc 1
expect_one_line_err; expect_err 'cut.onnx: ONNX file is malformed.*truncated or corrupted'
[ ! -e "$T/cut.safetensors" ] || fail "a file was written for a truncated input"
LC_ALL=C sed 's/Relu/Selu/' "$T/l5.onnx" >"$T/selu.onnx"
run "$DIGITS" convert "$T/selu.onnx" "$T/selu.safetensors"; expect_rc 1
expect_one_line_err; expect_err 'ONNX node "relu1" \(Selu\): operator Selu is not supported'
[ ! -e "$T/selu.safetensors" ] || fail "a file was written for an unsupported operator"

run "$DIGITS" convert "$M" "$T/x.txt"; expect_rc 2; expect_one_line_err
run "$DIGITS" convert "$M" "$T/y.safetensors" --normalize 0 0; expect_rc 2
expect_err 'STD > 0'
run "$DIGITS" convert "$M"; expect_rc 2; expect_err 'expected IN and OUT'
run "$DIGITS" convert "$M" "$M"; expect_rc 2
# train --normalize: stored in the trained model and applied by predict
# (storing the identity instead changes the reading)
run "$DIGITS" train --data "$DIGITS_DATA" --arch mlp50 --epochs 1 --limit 2000 \
  --normalize 0.1307 0.3081 --out "$T/tn.safetensors" --threads 1; expect_rc 0
grep -aq '"input_mean":"0.130700007","input_std":"0.308099985"' "$T/tn.safetensors" ||
  fail "train --normalize not stored"
run "$DIGITS" predict --json --model "$T/tn.safetensors" "$IMG"; expect_rc 0
want=$(sed 's/"file":"[^"]*"//' "$OUT")
run "$DIGITS" convert "$T/tn.safetensors" "$T/tn1.safetensors" --normalize 0 1; expect_rc 0
run "$DIGITS" predict --json --model "$T/tn1.safetensors" "$IMG"; expect_rc 0
[ "$(sed 's/"file":"[^"]*"//' "$OUT")" != "$want" ] || fail "the stored normalisation changed nothing"
run "$DIGITS" train --data "$DIGITS_DATA" --resume "$T/tn.safetensors" --normalize 0 1
expect_rc 2; expect_err 'normalize is for a new network'
run "$DIGITS" train --data "$DIGITS_DATA" --arch mlp --normalize 0.1 0; expect_rc 2
expect_one_line_err; expect_err 'normalize STD needs a number from'
run "$DIGITS" train --data "$DIGITS_DATA" --arch mlp --normalize 0.1; expect_rc 2
expect_err 'needs MEAN and STD'
echo "convert: ok"
