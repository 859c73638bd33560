#!/usr/bin/env bash
# Renders screenshots of the workbench mid-training under Xvfb: the main window and each view
# (masks, loss and probe, signals, collapse, schedules, throughput, embeddings, config editor) into
# docs/screenshots. The window trains the shipped config on all of Fashion-MNIST for one full epoch
# (470 steps, diagnostics every 50; about 9 minutes on 2 cores), takes the current weights into the
# embedding browser, saves the images and quits. Usage: scripts/screenshots.sh [OUT] [workbench
# options...], e.g. scripts/screenshots.sh docs/screenshots/sigreg --set loss.sigreg_weight=0.003
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
out=${1:-docs/screenshots}
shift || true
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT
xvfb-run -a -s "-screen 0 1600x1000x24" build/release/app/workbench/ijepa-workbench \
  --screenshots "$out" --screenshot-steps 470 --diagnostics-every 50 --runs "$runs" --threads "$(nproc)" "$@"
