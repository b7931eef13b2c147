#!/usr/bin/env bash
# never_lose.sh (ctest robust_never_lose): training never loses work, and no
# write leaves a half-written file.
#   1. kill -9 in the middle of an epoch: the last checkpoint is intact and
#      --resume continues from it;
#   2. SIGTERM in the middle of an epoch, on one thread: the checkpoint it
#      leaves, resumed, ends with exactly the weights of an uninterrupted
#      run with the same seed (augmentation and dropout on);
#   3. a full disk (a real tmpfs with no room left when the test may mount
#      one, and a file size limit, ulimit -f, always): the write fails with a message,
#      the old model and checkpoint are unchanged, no temporary file stays;
#   4. a target folder that cannot be written (read-only to the user: as
#      root the program runs as "nobody" for this part): same;
#   5. training that diverges (NaN loss) stops with a message, status 1,
#      and leaves the previous model file as it was.
# Environment from ctest: DIGITS, DIGITS_DATA, DIGITS_SRC, DIGITS_TMP.
set -euo pipefail
source "$DIGITS_SRC/tests/cli/lib.bash"
need_data

# the same run each time: a small MLP with dropout, augmented, one thread.
# A checkpoint holds the weights, optimizer and loop state and the run's
# options: --resume alone continues the run; options given again override.
NET="input 28 28 1; flatten; dense 100; relu; dropout 0.3; dense 10; softmax"
ARGS=(--data "$DIGITS_DATA" --arch "$NET" --limit 20000 --val 2000
      --batch 32 --seed 11 --augment --threads 1)

# tensors FILE: the tensor bytes of a model file (after its JSON header),
# which hold the weights; the header also has dates and timings.
tensors() {
  local hl
  hl=$(od -An -tu8 -N8 "$1" | tr -d ' ')
  tail -c +$((9 + hl)) "$1"
}

# start_train LOG ARGS...: training in the background; PID in $BG.
start_train() {
  local log=$1
  shift
  "$DIGITS" "$@" >"$log.out" 2>"$log.err" &
  BG=$!
}

# wait_for FILE PATTERN: until FILE has a line matching PATTERN (30 s).
wait_for() {
  for _ in $(seq 600); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    kill -0 "$BG" 2>/dev/null || fail "training ended before /$2/ (see $1)"
    sleep 0.05
  done
  fail "no /$2/ in $1 after 30 s"
}

# ---- 1. kill -9 mid-epoch, then --resume -------------------------------------
K=$T/k.safetensors
start_train "$T/k" train "${ARGS[@]}" --epochs 3 --out "$K"
wait_for "$T/k.out" '^epoch 1/3 '
# the epoch line is printed just before the checkpoint is written: wait
# until it is there and loads, then kill in the middle of epoch 2
for _ in $(seq 200); do
  [ -s "$K.ckpt" ] && "$DIGITS" info "$K.ckpt" >/dev/null 2>&1 && break
  sleep 0.05
done
kill -KILL "$BG"
set +e
wait "$BG"
RC=$?
set -e
[ "$RC" -eq 137 ] || fail "kill -9: training exited with $RC, not 137 (finished too soon?)"
[ ! -e "$K" ] || fail "a killed run left a final model"
run "$DIGITS" info "$K.ckpt"
expect_rc 0 "the checkpoint left by kill -9 loads"
expect_out '^  train_state: '
# temporary files of killed writers (NAME.tmpPID) go with the next write of
# NAME; one of a live process (this shell's) stays, as does a foreign name
sleep 30 & DEAD=$!; kill -KILL $DEAD; wait $DEAD 2>/dev/null || true
echo partial > "$K.ckpt.tmp$DEAD"
echo partial > "$K.tmp$DEAD"
echo partial > "$K.ckpt.tmp$$"
echo mine > "$K.ckpt.tmpfile"
run "$DIGITS" train "${ARGS[@]}" --resume "$K.ckpt" --epochs 3 --out "$K"
expect_rc 0 "--resume after kill -9"
[ -e "$K.ckpt.tmp$DEAD" ] && fail "a dead writer's temporary checkpoint was left"
[ -e "$K.tmp$DEAD" ] && fail "a dead writer's temporary model was left"
[ -e "$K.ckpt.tmp$$" ] || fail "a live process's temporary file was removed"
[ -e "$K.ckpt.tmpfile" ] || fail "a file not named NAME.tmpPID was removed"
rm -f "$K.ckpt.tmp$$" "$K.ckpt.tmpfile"
grep -q '^epoch 1/3 ' "$OUT" && fail "--resume after kill -9 ran epoch 1 again"
expect_out '^epoch 3/3 '
[ -s "$K" ] || fail "no model after resuming"
echo "kill -9 mid-epoch: checkpoint intact, resumed to epoch 3"

# ---- 2. SIGTERM mid-epoch, resumed == uninterrupted (one thread) ----------------
A=$T/a.safetensors B=$T/b.safetensors
run "$DIGITS" train "${ARGS[@]}" --epochs 2 --out "$A"
expect_rc 0 "uninterrupted run"
start_train "$T/b" train "${ARGS[@]}" --epochs 2 --out "$B"
wait_for "$T/b.out" '^epoch 1/2 '
kill -TERM "$BG"  # epoch 2 has just begun: it stops after its next batch
set +e
wait "$BG"
RC=$?
set -e
[ "$RC" -eq 143 ] || fail "SIGTERM: training exited with $RC, not 143 (finished too soon?)"
OUT=$T/b.out ERR=$T/b.err
expect_one_line_err
expect_err 'stopped by SIGTERM after 1 epoch; checkpoint in .*b\.safetensors\.ckpt'
OUT=$T/stdout ERR=$T/stderr
run "$DIGITS" info "$B.ckpt"
expect_out '^  train_state: epoch=1 batch=[1-9]'  # in the middle of epoch 2
cp "$B.ckpt" "$T/b-copy.ckpt"
run "$DIGITS" train "${ARGS[@]}" --resume "$B.ckpt" --epochs 2 --out "$B"
expect_rc 0 "resume after SIGTERM"
expect_out '^epoch 2/2 '
cmp -s <(tensors "$A") <(tensors "$B") ||
  fail "interrupted + resumed weights differ from the uninterrupted run's"
for k in test_accuracy test_loss val_loss best_epoch; do
  a=$("$DIGITS" info "$A" | grep "^  $k: ") b=$("$DIGITS" info "$B" | grep "^  $k: ")
  [ -n "$a" ] && [ "$a" = "$b" ] || fail "$k: '$a' vs '$b'"
done
# the checkpoint knows its run's options: --resume alone gives the same weights
C=$T/c.safetensors
run "$DIGITS" train --resume "$T/b-copy.ckpt" --out "$C"
expect_rc 0 "resume with the options stored in the checkpoint"
expect_out '^resuming .* 20000 images \(2000 for validation\), up to epoch 2$'
expect_out '^epoch 2/2 '
[ -s "$ERR" ] && fail "resume with the stored options printed: $(cat "$ERR")"
cmp -s <(tensors "$A") <(tensors "$C") ||
  fail "resumed with the checkpoint's own options: weights differ from the uninterrupted run's"
# an option that changes the run is allowed, and said out loud
run "$DIGITS" train --resume "$T/b-copy.ckpt" --batch 64 --epochs 2 --out "$T/d.safetensors"
expect_rc 0 "resume with another --batch"
expect_err 'note: --batch 64 instead of the interrupted run.s 32: the resumed run will not match an uninterrupted one'
# what the checkpoint's state holds cannot change: refused, nothing trained
run "$DIGITS" train --resume "$T/b-copy.ckpt" --optimizer sgd --out "$T/e.safetensors"
expect_rc 2 "resume with another optimizer"
expect_err '--optimizer sgd: the run in .*b-copy\.ckpt uses adam.*--init'
run "$DIGITS" train --resume "$T/b-copy.ckpt" --lr 0.01 --out "$T/e.safetensors"
expect_rc 2 "resume with another rate under the plateau schedule"
expect_err '--lr 0.01: a resumed run with the plateau schedule goes on at its checkpoint.s rate'
[ -e "$T/e.safetensors" ] && fail "a refused resume wrote a model"
echo "SIGTERM mid-epoch + resume: the same weights as the uninterrupted run, with or without the options again"

# ---- 3. a full disk ------------------------------------------------------------
M=$T/m.safetensors
train_tiny "$M"
cp "$M" "$T/m.orig"
cp "$M.ckpt" "$T/ckpt.orig"
# expect_intact DIR: the old model and checkpoint unchanged, no temp file
expect_intact() {
  cmp -s "$1/m.safetensors" "$T/m.orig" || fail "the old model changed ($1)"
  cmp -s "$1/m.safetensors.ckpt" "$T/ckpt.orig" || fail "the old checkpoint changed ($1)"
  if ls "$1" | grep -q '\.tmp'; then fail "temporary file left in $1: $(ls "$1")"; fi
}
# (a) file size limit: writes past 32 KB fail with EFBIG (SIGXFSZ ignored)
run bash -c 'ulimit -f 32; trap "" XFSZ; exec "$@"' sh "$DIGITS" train \
  --data "$DIGITS_DATA" --arch logreg --epochs 1 --limit 3000 --val 500 --seed 9 \
  --out "$M"
expect_rc 1 "training with a 32 KB file size limit"
expect_one_line_err
expect_err 'm\.safetensors(\.ckpt)?: write failed: File too large'
expect_intact "$T"
echo "file size limit: write refused, old files intact"
# (b) a real full file system: a tmpfs in a private mount namespace, just
# big enough for the old model and checkpoint
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null &&
   unshare -m --propagation private true 2>/dev/null; then
  mkdir "$T/full"
  run unshare -m --propagation private bash -c '
    set -e
    mount -t tmpfs -o size="$7" tmpfs "$1"
    cp "$2" "$1/m.safetensors"
    cp "$3" "$1/m.safetensors.ckpt"
    set +e
    "$4" train --data "$5" --arch logreg --epochs 1 --limit 3000 --val 500 \
      --seed 9 --out "$1/m.safetensors" >"$1/out" 2>"$1/err"
    echo "rc=$?" >>"$1/err"
    df -k "$1" | tail -n 1 >>"$1/err"
    cmp -s "$1/m.safetensors" "$2" || echo "model changed" >>"$1/err"
    cmp -s "$1/m.safetensors.ckpt" "$3" || echo "checkpoint changed" >>"$1/err"
    ls "$1" | grep "\.tmp" >>"$1/err" && echo "temp file left" >>"$1/err"
    cp "$1/err" "$6"
  ' sh "$T/full" "$T/m.orig" "$T/ckpt.orig" "$DIGITS" "$DIGITS_DATA" "$T/full.err" \
    $((($(wc -c <"$T/m.orig") + $(wc -c <"$T/ckpt.orig")) / 1024 + 16))k
  expect_rc 0 "the tmpfs test script"
  ERR=$T/full.err
  expect_err '^digits: train: .*m\.safetensors(\.ckpt)?: write failed: No space left on device'
  expect_err '^rc=1$'
  if grep -Eq 'changed|temp file' "$ERR"; then fail "full disk: $(cat "$ERR")"; fi
  ERR=$T/stderr
  echo "full tmpfs: ENOSPC reported, old files intact"
else
  echo "full tmpfs: skipped (needs root and mount namespaces); the ulimit case ran"
fi

# ---- 4. a folder that cannot be written -----------------------------------------
# as root, permissions do not stop writes: that part runs as nobody, with the
# program and the data copied where nobody can reach them (as_nobody)
mkdir "$T/ro"
cp "$T/m.orig" "$T/ro/m.safetensors"
cp "$T/ckpt.orig" "$T/ro/m.safetensors.ckpt"
if as_nobody "$T/ro" "$DIGITS_DATA"; then
  RO=$NB/ro
  NB_DATA=$NB/$(basename "$DIGITS_DATA")
  chmod 555 "$RO"
  chmod 644 "$RO/"*
  run "${AS[@]}" "$NB_DIGITS" train --data "$NB_DATA" --arch logreg --epochs 1 \
    --limit 3000 --val 500 --seed 9 --out "$RO/m.safetensors"
  expect_rc 1 "training into a read-only folder"
  expect_one_line_err
  expect_err 'ro/m\.safetensors(\.ckpt)?: cannot create: Permission denied'
  expect_intact "$RO"
  # and reading: a file the user may not read
  chmod 000 "$RO/m.safetensors"
  run "${AS[@]}" "$NB_DIGITS" info "$RO/m.safetensors"
  expect_rc 1 "info on an unreadable file"
  expect_err 'm\.safetensors: Permission denied'
  chmod 755 "$RO"
  chmod 644 "$RO/m.safetensors"
  echo "read-only folder: write refused, old files intact; unreadable file refused"
else
  echo "read-only folder: skipped (user nobody cannot run a program in $NB)"
fi

# ---- 5. NaN loss ---------------------------------------------------------------
# a deep linear net at SGD lr 100 overflows within a few batches
cp "$T/m.orig" "$T/nan.safetensors"
run "$DIGITS" train --data "$DIGITS_DATA" --limit 3000 --val 500 --epochs 3 \
  --arch "input 28 28 1; flatten; dense 64; dense 64; dense 64; dense 10; softmax" \
  --optimizer sgd --lr 100 --out "$T/nan.safetensors"
expect_rc 1 "diverging training"
expect_one_line_err
expect_err 'training diverged at epoch 1 batch [0-9]+ \(loss [-+]?(nan|inf)\); kept the best weights so far'
cmp -s "$T/nan.safetensors" "$T/m.orig" || fail "a diverged run changed the model file"
echo "NaN loss: stopped with a message, old model intact"

echo "robust_never_lose: ok"
