#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs I-JEPA on the built-in data.
# Until the workbench GUI and `ijepa train` land, this samples masks (runs/masks.png) and runs a
# short headless training benchmark with a progress read-out.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
bin=build/release/app/ijepa
mkdir -p runs
"$bin" masks --config configs/bench_vit_tiny_32.yaml --batches 20 --png runs/masks.png --json runs/masks.json
echo "masks: runs/masks.png, runs/masks.json"
"$bin" bench --config configs/bench_vit_tiny_32.yaml --steps 5 --warmup 1 --threads "$(nproc)"
