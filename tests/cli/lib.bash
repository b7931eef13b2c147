# lib.bash: helpers shared by the CLI tests (sourced by tests/cli/*.sh; not
# a test itself). Environment from ctest: DIGITS (the program), DIGITS_DATA
# (MNIST folder), DIGITS_TMP (scratch under the build folder), DIGITS_SRC.
: "${DIGITS:?DIGITS must be the path of the built digits program}"
: "${DIGITS_TMP:=${TMPDIR:-/tmp}}"
export LC_ALL=C
mkdir -p "$DIGITS_TMP"
T=$(mktemp -d "$DIGITS_TMP/$(basename "$0" .sh).XXXXXX")
# keep the scratch folder only when the test failed, for a look afterwards
NB=
trap 'st=$?; if [ -n "$NB" ]; then chmod -R u+rwX "$NB"; rm -rf "$NB"; fi
      if [ $st -eq 0 ]; then rm -rf "$T"; else echo "scratch kept: $T" >&2; fi' EXIT

OUT=$T/stdout
ERR=$T/stderr
RC=0

fail() {
  echo "FAIL: $*" >&2
  if [ -s "$OUT" ]; then sed -n '1,25s/^/  stdout| /p' "$OUT" >&2; fi
  if [ -s "$ERR" ]; then sed -n '1,10s/^/  stderr| /p' "$ERR" >&2; fi
  exit 1
}

# run CMD...: run it, keeping stdout, stderr and the exit status in RC.
run() {
  set +e
  "$@" >"$OUT" 2>"$ERR"
  RC=$?
  set -e
  if [ "$RC" -ge 128 ]; then fail "crashed (status $RC): $*"; fi
}

expect_rc() { [ "$RC" -eq "$1" ] || fail "expected exit status $1, got $RC: ${2:-}"; }
expect_err() { grep -Eq -- "$1" "$ERR" || fail "stderr lacks /$1/"; }
expect_out() { grep -Eq -- "$1" "$OUT" || fail "stdout lacks /$1/"; }
# A failure reported as exactly one line on stderr, starting "digits: ".
expect_one_line_err() {
  [ "$(wc -l <"$ERR")" -eq 1 ] || fail "expected one line on stderr, got $(wc -l <"$ERR")"
  grep -q '^digits: ' "$ERR" || fail "stderr line does not start with 'digits: '"
}

# as_nobody FILE...: for the permission cases. As root, file permissions do
# not stop reads or writes, so those cases run the program as nobody (uid
# 65534): AS becomes the command prefix, and since the clone may sit under a
# folder nobody cannot enter (mktemp -d makes 0700 ones), the program and
# FILE... are copied to NB, a fresh world-readable folder in /tmp, where
# NB_DIGITS is the program. Not root: AS is empty and NB the scratch folder.
# Returns 1 (the caller says skipped) when nobody cannot run the copy.
as_nobody() {
  AS=()
  if [ "$(id -u)" -ne 0 ]; then
    NB_DIGITS=$DIGITS
    NB=$(mktemp -d "$T/nb.XXXXXX")
    cp -r "$@" "$NB/"
    return 0
  fi
  command -v setpriv >/dev/null || fail "setpriv (util-linux) is needed as root"
  AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  NB=$(mktemp -d /tmp/digits-nobody.XXXXXX)
  chmod 755 "$NB"
  NB_DIGITS=$NB/$(basename "$DIGITS")
  cp "$DIGITS" "$NB_DIGITS"
  cp -r "$@" "$NB/"
  chmod -R a+rX "$NB"
  "${AS[@]}" "$NB_DIGITS" --version >/dev/null 2>&1
}

need_data() {
  [ -n "${DIGITS_DATA:-}" ] && { [ -e "$DIGITS_DATA/t10k-images-idx3-ubyte" ] ||
    [ -e "$DIGITS_DATA/t10k-images-idx3-ubyte.gz" ]; } ||
    fail "MNIST data missing in DIGITS_DATA='${DIGITS_DATA:-}' (run ./build.sh deps)"
}

# is_png FILE: true if FILE starts with the 8-byte PNG signature.
is_png() {
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
}

# train_tiny OUT [ARGS]: a logistic regression on 3000 images, 1 epoch
# (Adam at lr 0.01: 40 steps at the default 0.001 stay near 74%).
train_tiny() {
  local out=$1
  shift
  run "$DIGITS" train --data "$DIGITS_DATA" --arch logreg --epochs 1 \
    --limit 3000 --val 500 --seed 7 --lr 0.01 --out "$out" "$@"
  expect_rc 0 "training a tiny model"
  [ -s "$out" ] || fail "model file $out missing after training"
}

# mnist_bytes FILE OFFSET COUNT: bytes of an idx file (raw or .gz) as decimals.
mnist_bytes() {
  local f=$1
  if [ -e "$f" ]; then
    od -An -v -tu1 -j "$2" -N "$3" "$f"
  else
    gzip -dc "$f.gz" | od -An -v -tu1 -j "$2" -N "$3"
  fi
}

# mnist_label I: the label of test image I.
mnist_label() {
  mnist_bytes "$DIGITS_DATA/t10k-labels-idx1-ubyte" $((8 + $1)) 1 | tr -d ' \n'
}

# mnist_pgm I OUT: test image I as a binary PGM, magnified 10x to 280x280 and
# inverted to dark ink on white paper, the way a scan or a drawing looks.
# Values are kept >= 1 so that no NUL byte has to go through awk.
mnist_pgm() {
  mnist_bytes "$DIGITS_DATA/t10k-images-idx3-ubyte" $((16 + $1 * 784)) 784 |
    awk 'BEGIN { n = 0 }
         { for (i = 1; i <= NF; i++) a[n++] = $i }
         END {
           printf "P5\n280 280\n255\n"
           for (y = 0; y < 280; y++)
             for (x = 0; x < 280; x++) {
               v = 255 - a[int(y / 10) * 28 + int(x / 10)]
               if (v < 1) v = 1
               printf "%c", v
             }
         }' >"$2"
}

# blank_pgm OUT: a 64x64 white page.
blank_pgm() {
  awk 'BEGIN { printf "P5\n64 64\n255\n"; for (i = 0; i < 64 * 64; i++) printf "%c", 255 }' >"$1"
}

# pgm_to_png IN.pgm OUT.png [transparent]: re-encode an 8-bit binary PGM as
# an RGBA PNG with node's zlib: opaque gray, or (with "transparent") black
# ink whose alpha is the darkness on a fully transparent page, the way a
# canvas drawing arrives. Returns 1 without node.
pgm_to_png() {
  command -v node >/dev/null || return 1
  node -e '
    const fs = require("fs"), zlib = require("zlib");
    const [inp, out, mode] = process.argv.slice(1);
    const b = fs.readFileSync(inp);
    const m = b.toString("latin1").match(/^P5\s+(\d+)\s+(\d+)\s+255\s/);
    const w = +m[1], h = +m[2], px = b.subarray(m[0].length);
    const raw = Buffer.alloc(h * (1 + 4 * w));
    for (let y = 0; y < h; y++) {
      raw[y * (1 + 4 * w)] = 0;  /* filter: none */
      for (let x = 0; x < w; x++) {
        const v = px[y * w + x], o = y * (1 + 4 * w) + 1 + 4 * x;
        if (mode === "transparent") raw.set([0, 0, 0, 255 - v], o);
        else raw.set([v, v, v, 255], o);
      }
    }
    const crcTable = Array.from({length: 256}, (_, n) => {
      for (let k = 0; k < 8; k++) n = n & 1 ? 0xedb88320 ^ (n >>> 1) : n >>> 1;
      return n >>> 0;
    });
    const crc = (buf) => {
      let c = 0xffffffff;
      for (const x of buf) c = crcTable[(c ^ x) & 255] ^ (c >>> 8);
      return (c ^ 0xffffffff) >>> 0;
    };
    const chunk = (type, data) => {
      const len = Buffer.alloc(4), sum = Buffer.alloc(4);
      len.writeUInt32BE(data.length);
      const td = Buffer.concat([Buffer.from(type, "latin1"), data]);
      sum.writeUInt32BE(crc(td));
      return Buffer.concat([len, td, sum]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
    ihdr[8] = 8; ihdr[9] = 6;  /* 8-bit RGBA */
    fs.writeFileSync(out, Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)),
      chunk("IEND", Buffer.alloc(0))]));
  ' "$1" "$2" "${3:-}"
}
