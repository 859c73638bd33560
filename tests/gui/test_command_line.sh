#!/usr/bin/env bash
# ijepa-workbench's command line without a display (no DISPLAY, no WAYLAND_DISPLAY, no Qt platform
# set): --help and --version print and exit 0; an unknown option or a number out of range exits 1
# naming it, before any window is needed. Then a stop signal while training (offscreen).
# Usage: test_command_line.sh IJEPA_WORKBENCH_BINARY
set -euo pipefail
bin=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
run() { env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM "$bin" "$@"; }
out=$(run --help) || fail "--help without a display exited $?"
grep -q "Usage: ijepa-workbench" <<<"$out" || fail "--help: $out"
grep -q -- "--threads <VALUE> *torch threads for training, 0..256" <<<"$out" || fail "--help shows the ranges: $out"
run --version | grep -q "^ijepa-workbench [0-9]" || fail "--version"
for bad in "--threads 1000" "--threads -1" "--limit abc" "--max-steps -5" "--checkpoint-every 1.5" \
           "--diagnostics-every 1e13" "--screenshot-steps 0" "--bench-ui 0"; do
  rc=0; err=$(run $bad 2>&1) || rc=$?
  [ $rc -eq 1 ] || fail "'$bad' should exit 1, got $rc: $err"
  grep -q -- "${bad%% *}" <<<"$err" || fail "'$bad' should name ${bad%% *}: $err"
done
rc=0; err=$(run --bogus 2>&1) || rc=$?
[ $rc -eq 1 ] && grep -q "bogus" <<<"$err" || fail "--bogus: exit $rc: $err"
# A stop signal (kill, a closed terminal, a scheduler) ends a training window the way closing it
# does: after the current step, with a checkpoint of it, exit 0, no question asked.
runs=$(mktemp -d); trap 'rm -rf "$runs"' EXIT
QT_QPA_PLATFORM=offscreen "$bin" --start --runs "$runs" --threads 2 --limit 256 --diagnostics-every 0 \
  --checkpoint-every 1000 --set meta.embed_dim=64 --set meta.depth=2 --set meta.num_heads=2 --set meta.pred_depth=1 \
  --set meta.pred_emb_dim=32 --set data.batch_size=32 --set optimization.epochs=100 >"$runs/log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  csv=$(ls "$runs"/*/jepa_r0.csv 2>/dev/null | head -n 1 || true)
  [ -n "$csv" ] && [ "$(wc -l < "$csv")" -ge 3 ] && break
  sleep 0.2
done
kill -HUP "$pid"
rc=0; wait "$pid" || rc=$?
[ $rc -eq 0 ] || fail "SIGHUP while training: exit $rc: $(tail -n 3 "$runs/log")"
grep -q "stopping after this step (a checkpoint is written)" "$runs/log" || fail "SIGHUP message: $(tail -n 3 "$runs/log")"
[ -s "$(dirname "$csv")/jepa-latest.pth.tar" ] || fail "no checkpoint after SIGHUP"
grep -q '"status": "stopped"' "$(dirname "$csv")/run.json" || fail "run.json after SIGHUP: $(cat "$(dirname "$csv")/run.json")"
echo "test_command_line: ok"
