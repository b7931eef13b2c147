#!/usr/bin/env bash
# install.sh (ctest cli_install): `cmake --install BUILD --prefix DIR` puts
# the program in DIR/bin and the shipped models in DIR/share/digits/models,
# where predict finds the default model without flags, from any folder, and
# still after the prefix is moved (issue 20).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
need_data
command -v cmake >/dev/null || fail "cmake is needed"

BUILD=$(dirname "$DIGITS")
[ -f "$BUILD/CMakeCache.txt" ] || fail "$BUILD is not a CMake build folder"
P=$T/prefix
run cmake --install "$BUILD" --prefix "$P"
expect_rc 0 "cmake --install"
[ -x "$P/bin/digits" ] || fail "no $P/bin/digits"
[ -s "$P/share/digits/models/default.safetensors" ] || fail "no installed default model"
for f in "${DIGITS_SRC:?}"/models/*.safetensors; do
  cmp -s "$f" "$P/share/digits/models/$(basename "$f")" ||
    fail "$(basename "$f") not installed as shipped"
done

mnist_pgm 0 "$T/seven.pgm"  # MNIST test image 0 is a 7
mkdir "$T/elsewhere"
# predict_from PREFIX: the installed program, run from a folder without
# models/, with no DIGITS_MODEL
predict_from() {
  set +e
  (cd "$T/elsewhere" && env -u DIGITS_MODEL "$1/bin/digits" predict "$T/seven.pgm") \
    >"$OUT" 2>"$ERR"
  RC=$?
  set -e
}
predict_from "$P"
expect_rc 0 "installed predict without --model"
expect_out "seven\.pgm	7	"

mv "$P" "$T/moved"
predict_from "$T/moved"
expect_rc 0 "predict from a moved prefix"
expect_out "seven\.pgm	7	"

rm -r "$T/moved/share"
predict_from "$T/moved"
expect_rc 1 "predict with the models removed"
expect_err "no default model found.*share/digits/models"

echo "cli_install: ok"
