#!/usr/bin/env bash
# UI responsiveness while training: the workbench trains the shipped Fashion-MNIST config on all
# cores while a 5 ms timer on the UI thread measures how late it fires (the event loop's stalls),
# showing each tab in turn.
# Goal: the largest delay stays under 50 ms. First, the redraw time of a loss curve with 100,000
# and 1,000,000 points. Usage: bench/ui_responsiveness.sh [SECONDS] (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
bin=build/release/app/workbench/ijepa-workbench
[ -x "$bin" ] || scripts/build.sh release
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  if command -v xvfb-run >/dev/null; then
    exec xvfb-run -a -s "-screen 0 1600x1000x24" "$0" "$@"
  fi
  export QT_QPA_PLATFORM=offscreen
fi
"$bin" --bench-plot 100000
"$bin" --bench-plot 1000000
# Every tab in turn, with the learning signals (probe, spectrum, loss map) updated every 10 steps.
"$bin" --bench-ui "$seconds" --runs "$runs" --threads "$(nproc)" --diagnostics-every 10
