#!/usr/bin/env bash
# The main job: installs what is missing, builds, then
#  - with a display (DISPLAY or WAYLAND_DISPLAY set): opens the workbench on Fashion-MNIST with
#    configs/fashion_mnist.yaml (press Start; runs go to runs/workbench);
#  - without one (or IJEPA_HEADLESS=1): pretrains headless with a progress bar, logs, TensorBoard
#    events and checkpoints in runs/fashion-mnist; running it again continues that run.
# Extra arguments go to the program (e.g. --max-steps 100, --device cuda, key=value overrides for
# `ijepa train`; --start, --set key=value for the workbench).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "${IJEPA_HEADLESS:-0}" != 1 ]; then
  echo "run: opening the workbench on Fashion-MNIST (IJEPA_HEADLESS=1 trains headless instead)"
  exec build/release/app/workbench/ijepa-workbench --data fashion-mnist --config configs/fashion_mnist.yaml \
    --runs runs/workbench --threads "$(nproc)" "$@"
fi
bin=build/release/app/ijepa
out=runs/fashion-mnist
resume=()
[ -f "$out/jepa-latest.pth.tar" ] && resume=(--resume)
echo "run: ijepa train on Fashion-MNIST -> $out (TensorBoard: tensorboard --logdir $out/tb)"
exec "$bin" train --config configs/fashion_mnist.yaml --data fashion-mnist --out "$out" \
  --threads "$(nproc)" "${resume[@]}" "$@"
