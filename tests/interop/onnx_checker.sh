#!/usr/bin/env bash
# onnx_checker.sh: every shipped model's ONNX export passes the ONNX
# project's own checker (onnx.checker.check_model with full_check, which
# also runs shape inference) from Debian's python3-onnx, and says what the
# contract says: opset 13, IR version 7, input "input" [N,1,28,28] and
# output "probs" [N,10] with the batch dimension symbolic ([N,11] for the
# number verifiers, models/verifier.safetensors, verifier2 and verifier3,
# whose input is [N,2,28,28] or a window reader's [N,1,28,36]), the
# architecture in the
# metadata. Skipped (exit 77) where python3-onnx is not installed.
set -euo pipefail
. "$(dirname "$0")/lib.bash"
interop_need "import onnx" python3-onnx onnx-checker

files=()
for m in "$MODELS"/*.safetensors; do
  name=$(basename "$m" .safetensors)
  "$TOOL" export "$m" "$dir/$name.onnx"
  files+=("$dir/$name.onnx")
done
# a file that is not ONNX must fail the checker, so the check can fail
printf 'not a protobuf' > "$dir/broken.onnx"

"$PY" - "${files[@]}" <<'EOF'
import sys
import onnx

def dims(vi):
    return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]

failed = 0
for path in sys.argv[1:]:
    m = onnx.load(path)
    try:
        onnx.checker.check_model(m, full_check=True)
        assert m.ir_version == 7, m.ir_version
        assert [(o.domain, o.version) for o in m.opset_import] == [("", 13)]
        g = m.graph
        assert [i.name for i in g.input] == ["input"], [i.name for i in g.input]
        assert [o.name for o in g.output] == ["probs"]
        # the number verifier: 28x28x2 (a piece, the ink around it) or a
        # window reader's 28x36 windows
        ver = path.endswith(("/verifier.onnx", "/verifier2.onnx", "/verifier3.onnx"))
        shapes = [(2, 28, 28), (1, 28, 36)] if ver else [(1, 28, 28)]
        d = dims(g.input[0])
        assert d[0] == "N" and tuple(d[1:]) in shapes, d
        want = 11 if ver else 10
        assert dims(g.output[0]) == ["N", want], dims(g.output[0])
        meta = {p.key: p.value for p in m.metadata_props}
        assert meta.get("arch", "").startswith(f"input {d[2]} {d[3]} {d[1]}"), meta.get("arch")
        print(f"ok {path.split('/')[-1]}: {len(g.node)} nodes, "
              f"{' '.join(sorted({n.op_type for n in g.node}))}")
    except Exception as e:  # report every file, then fail
        failed += 1
        print(f"FAIL {path}: {e}")
sys.exit(1 if failed else 0)
EOF

if "$PY" -c 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]))' \
     "$dir/broken.onnx" 2>/dev/null; then
  echo "FAIL: the checker accepted a file that is not ONNX"
  exit 1
fi
echo "ok: the checker refuses a file that is not ONNX"
