#!/usr/bin/env bash
# cmake/wasm-cc.sh OPT EMCC ARGS...: the compiler launcher of the
# WebAssembly build (cmake/wasm.cmake): compiles one C file as CMake asked
# (ARGS: flags, -o OBJECT, -c SOURCE, the depfile flags) in three steps.
#
# Why: clang optimizes an always_inline function on its own before inlining
# it. The kernels' tiles take their width as such a parameter (a constant at
# every call): optimized with it unknown, their accumulator arrays stayed in
# linear memory, loaded and stored on every step (gcc, natively, inlines
# first). So the file goes to unoptimized bitcode, LLVM's opt inlines the
# always_inline calls and then runs -O3, and emcc compiles that to code
# without optimizing it again.
set -euo pipefail
opt=$1 cc=$2
shift 2
obj= bc=() cg=()  # bc: the bitcode step's args; cg: the code generation's
while [ $# -gt 0 ]; do
  case $1 in
    -o) obj=$2; bc+=(-o "$2.bc"); shift ;;
    -c) bc+=(-c "$2"); shift ;;
    -MT|-MF|-isystem) bc+=("$1" "$2"); shift ;;   # depfile, headers:
    -MD|-MMD|-I*) bc+=("$1") ;;                   # the bitcode step only
    *) bc+=("$1"); cg+=("$1") ;;
  esac
  shift
done
[ -n "$obj" ] || { echo "wasm-cc.sh: no -o OBJECT" >&2; exit 2; }
"$cc" "${bc[@]}" -Xclang -disable-llvm-passes -emit-llvm
"$opt" -passes='always-inline,default<O3>' "$obj.bc" -o "$obj.opt.bc"
"$cc" "${cg[@]}" -Xclang -disable-llvm-optzns -c "$obj.opt.bc" -o "$obj"
