#!/usr/bin/env bash
# cmake/wasm-post.sh IN.wasm OUT.wasm [--relaxed]: delivers a linked module
# to OUT atomically (a temporary file, then rename: pages and tests reading
# OUT never see half a file). With --relaxed, first gives the relaxed-SIMD
# instructions emcc 3.1.6 writes with the proposal's prototype opcodes,
# which no engine accepts any more, the standard encoding
# (web/tools/relax-wasm.mjs), and checks that the result validates
# (web/tools/validate-wasm.mjs; its exit status 3: this Node cannot check).
set -euo pipefail
in=$1 out=$2 tools=$(dirname "$0")/../web/tools
tmp=${out%.wasm}.tmp.wasm
cp "$in" "$tmp"
if [ "${3:-}" = --relaxed ]; then
  node "$tools/relax-wasm.mjs" "$tmp" "$tmp" >/dev/null
  rc=0
  node "$tools/validate-wasm.mjs" --relaxed "$tmp" || rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 3 ] || { rm -f "$tmp"; exit 1; }
fi
mv "$tmp" "$out"
