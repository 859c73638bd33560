#!/usr/bin/env bash
# Renders screenshots of the workbench mid-training under Xvfb: the main window and each view
# (masks, loss, collapse, schedules, throughput, embeddings, config editor) into docs/screenshots.
# The window trains on 4,096 Fashion-MNIST images with the shipped config for 45 steps, takes the
# current weights into the embedding browser, saves the images and quits.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
out=${1:-docs/screenshots}
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT
xvfb-run -a -s "-screen 0 1600x1000x24" build/release/app/workbench/ijepa-workbench \
  --screenshots "$out" --screenshot-steps 45 --diagnostics-every 10 --limit 4096 --runs "$runs" --threads "$(nproc)"
