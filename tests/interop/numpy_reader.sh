#!/usr/bin/env bash
# numpy_reader.sh: tools/digits_numpy.py, the NumPy-only reference reader
# and forward pass of the model format, agrees with digits: on the first
# 1,000 MNIST test images every probability within 1e-4 of what digits
# computes (dg_net_predict, as `digits predict` and `eval` do) for the
# shipped models (F32 and the F16 mlp-dropout) and for random nets through
# the other layer kinds and a net with its own batch-norm epsilon and input
# normalisation; the whole test set's accuracy equals the CLI's
# `digits eval --json` for logreg and mlp; a file that is not a digits model
# is refused. Skipped (exit 77) where Debian's python3-numpy is missing.
set -euo pipefail
. "$(dirname "$0")/lib.bash"
interop_need 'import numpy' python3-numpy numpy-reader

shipped logreg mlp50 mlp-dropout lenet5 cnn default
random \
  'input 28 28 1; conv 4 3 same; bn; tanh; avgpool 2; conv 6 3 valid; sigmoid; maxpool 3; flatten; dense 16; bn; relu; dropout 0.3; dense 10; softmax' \
  'input 28 28 1; conv 3 5 valid; relu; maxpool 2; dense 10' \
  'input 28 28 1; conv 8 3 same; leakyrelu 0.1; maxpool 2; conv 10 3 valid; gap; softmax' \
  'input 28 28 1; conv 4 4 pad 2; relu; conv 6 3 pad 1; maxpool 2; flatten; dense 10' \
  'input 28 28 1; conv 5 3 valid; maxpool 13; softmax'
settings
for name in logreg mlp; do
  "$DIGITS" eval --model "$MODELS/$name.safetensors" --data "$DATA" --json \
    > "$dir/$name.eval.json"
done

"$PY" - "$ROOT/tools" "$DATA" "$N" "$dir" "$MODELS" "${pairs[@]}" <<'EOF'
import json, sys
import numpy as np
tools, data, n, tmp, models, rest = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6:]
sys.path.insert(0, tools)
import digits_numpy as dn

failed = 0
x, y = dn.mnist_test(data, n)
for model_path, probs_path in zip(rest[::2], rest[1::2]):
    model = dn.load(model_path)
    got = dn.predict(model, x)
    want = np.fromfile(probs_path, dtype="<f4").reshape(n, -1)
    diff = float(np.abs(got - want).max()) if got.shape == want.shape else float("inf")
    same = int((got.argmax(1) == want.argmax(1)).sum())
    name = model_path.split("/")[-1]
    # random nets may have near ties; trained ones must read the same digits
    ok = diff <= 1e-4 and (same == n or not model_path.startswith(models))
    failed += not ok
    print(f"{'ok' if ok else 'FAIL'} {name}: max |numpy - digits| = {diff:.2e}, "
          f"same digit on {same}/{n}, accuracy {100 * (got.argmax(1) == y).mean():.1f}%")

# the whole test set against the CLI's eval
xa, ya = dn.mnist_test(data)
for name in ("logreg", "mlp"):
    cli = json.load(open(f"{tmp}/{name}.eval.json"))
    got = dn.predict(dn.load(f"{models}/{name}.safetensors"), xa)
    correct = int((got.argmax(1) == ya).sum())
    ok = correct == cli["correct"] and cli["count"] == len(ya)
    failed += not ok
    print(f"{'ok' if ok else 'FAIL'} {name}: {correct}/{len(ya)} right in NumPy, "
          f"digits eval: {cli['correct']}/{cli['count']}")

# not a model: refused with a FormatError
open(f"{tmp}/bad.safetensors", "wb").write(b"\x10\0\0\0\0\0\0\0" + b'{"a":{"b":1}}   ')
try:
    dn.load(f"{tmp}/bad.safetensors")
    failed += 1
    print("FAIL: a file without __metadata__ was read as a model")
except dn.FormatError as e:
    print(f"ok: refused: {e}")
sys.exit(1 if failed else 0)
EOF
