#!/usr/bin/env bash
# The main job: installs what is missing, builds, and pretrains I-JEPA on the built-in
# Fashion-MNIST with configs/fashion_mnist.yaml, headless, with a progress bar. Logs, TensorBoard
# events and checkpoints go to runs/fashion-mnist; running it again continues that run.
# Extra arguments go to `ijepa train` (e.g. --max-steps 100, --device cuda, key=value overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
bin=build/release/app/ijepa
out=runs/fashion-mnist
resume=()
[ -f "$out/jepa-latest.pth.tar" ] && resume=(--resume)
echo "run: ijepa train on Fashion-MNIST -> $out (TensorBoard: tensorboard --logdir $out/tb)"
exec "$bin" train --config configs/fashion_mnist.yaml --data fashion-mnist --out "$out" \
  --threads "$(nproc)" "${resume[@]}" "$@"
