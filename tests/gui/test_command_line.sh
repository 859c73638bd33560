#!/usr/bin/env bash
# ijepa-workbench's command line without a display (no DISPLAY, no WAYLAND_DISPLAY, no Qt platform
# set): --help and --version print and exit 0; an unknown option or a number out of range exits 1
# naming it, before any window is needed. Usage: test_command_line.sh IJEPA_WORKBENCH_BINARY
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
echo "test_command_line: ok"
