#!/usr/bin/env bash
# torch_recipe.sh: tools/digits_torch.py (the PyTorch recipe of
# docs/model-format.md) turns digits model files into nn.Modules whose
# probabilities on the first 1,000 MNIST test images are within 1e-4 of
# digits' own (dg_net_predict) and read the same digits: the shipped models
# and random nets whose batch norm sits after a flatten or whose output is
# a flattened spatial tensor (the NHWC reordering in both places), and one
# with its own batch-norm epsilon and input normalisation. Also:
# the port that ignores the flatten order (rows not reordered) reads far
# fewer digits, so the test would notice the reordering going missing.
# Skipped (exit 77) where Debian's python3-torch is not installed.
set -euo pipefail
. "$(dirname "$0")/lib.bash"
interop_need 'import torch, numpy' python3-torch torch-recipe

shipped logreg mlp-dropout lenet5 cnn default
random \
  'input 28 28 1; conv 4 3 same; bn; tanh; avgpool 2; conv 6 3 valid; sigmoid; maxpool 3; flatten; bn; dense 16; bn; relu; dropout 0.3; dense 10; softmax' \
  'input 28 28 1; conv 3 5 valid; relu; maxpool 2; dense 10' \
  'input 28 28 1; conv 8 3 same; leakyrelu 0.1; maxpool 2; conv 10 3 valid; gap; softmax' \
  'input 28 28 1; conv 4 4 pad 2; relu; conv 6 3 pad 1; maxpool 2; flatten; dense 10' \
  'input 28 28 1; conv 5 3 valid; maxpool 13; flatten; sigmoid'
settings

"$PY" - "$ROOT/tools" "$DATA" "$N" "$MODELS" "${pairs[@]}" <<'EOF'
import sys
import numpy as np
import torch
tools, data, n, models, rest = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
sys.path.insert(0, tools)
import digits_numpy as dn
import digits_torch as dt

torch.set_num_threads(1)
x, y = dn.mnist_test(data, n)
xt = torch.from_numpy(x).unsqueeze(1)  # NCHW
failed = 0
for model_path, probs_path in zip(rest[::2], rest[1::2]):
    net = dt.load(model_path)
    with torch.no_grad():
        got = net(xt).numpy()
    want = np.fromfile(probs_path, dtype="<f4").reshape(n, -1)
    diff = float(np.abs(got - want).max()) if got.shape == want.shape else float("inf")
    same = int((got.argmax(1) == want.argmax(1)).sum())
    ok = diff <= 1e-4 and (same == n or not model_path.startswith(models))
    failed += not ok
    print(f"{'ok' if ok else 'FAIL'} {model_path.split('/')[-1]}: max |torch - digits| = "
          f"{diff:.2e}, same digit on {same}/{n}")

# the trap: lenet5 with PyTorch's flatten order and the rows as stored
model = dn.load(f"{models}/lenet5.safetensors")
net = dt.build(model)
first = next(m for m in net if isinstance(m, torch.nn.Linear))
first.weight.data = torch.from_numpy(model["layers"][7]["t"]["weight"].T.copy())
with torch.no_grad():
    acc = float((net(xt).numpy().argmax(1) == y).mean())
ok = acc < 0.5
failed += not ok
print(f"{'ok' if ok else 'FAIL'} lenet5 ported without the NHWC reordering: {100 * acc:.1f}%")
sys.exit(1 if failed else 0)
EOF
