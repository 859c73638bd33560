#!/usr/bin/env bash
# UI responsiveness while training: the workbench trains the shipped Fashion-MNIST config on all
# cores while a 5 ms timer on the UI thread measures how late it fires (the event loop's stalls),
# showing each tab in turn, with the attention and predictor views and the mask statistics updating
# and ten earlier runs overlaid in the Runs tab.
# Goal: the largest delay stays under 50 ms. First, the redraw time of a loss curve with 100,000
# and 1,000,000 points and of ten overlaid runs. Usage: bench/ui_responsiveness.sh [SECONDS] (default 60)
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
"$bin" --bench-plot 2000x10 # the runs overlay: ten runs of 2,000 points
# Ten earlier runs in the runs folder, overlaid in the Runs tab while one trains: a real run of a
# tiny model (2,000 steps, so thousands of points a curve) and nine copies of it.
"${bin%/workbench/ijepa-workbench}/ijepa" train --data fashion-mnist --out "$runs/past-01" --max-steps "${BENCH_RUN_STEPS:-2000}" \
  data.batch_size=16 data.crop_size=32 mask.patch_size=4 mask.min_keep=4 meta.embed_dim=64 meta.depth=2 \
  meta.num_heads=2 meta.pred_emb_dim=32 meta.pred_depth=1 optimization.epochs=1000 --diagnostics-every 100 \
  --final-knn false --checkpoint-every 1000 -q
for i in 02 03 04 05 06 07 08 09 10; do cp -r "$runs/past-01" "$runs/past-$i"; done
# Every tab in turn, with the learning signals (probe, spectrum, loss map) updated every 10 steps,
# the Seeing-inside views updating and the ten runs overlaid.
"$bin" --bench-ui "$seconds" --runs "$runs" --threads "$(nproc)" --diagnostics-every 10
