#!/usr/bin/env bash
# The training data path against the reference's, on the same folder (or our shards against the
# folder they were made from), same crop, same batch, workers = threads, alternating rounds:
# `ijepa bench data` (decode, RandomResizedCrop, normalise, masks, batching) and
# bench/reference_loader.py (torchvision ImageFolder + the reference's make_transforms and
# MaskCollator in a torch DataLoader). Prints each round and the ratio of the medians.
# Usage: bench/loader.sh REFERENCE_CHECKOUT DIR [THREADS] [CONFIG] [BATCHES] [ROUNDS]
#   THREADS default: every logical CPU; CONFIG default configs/photos_224.yaml (batch 64, crop 224).
# LOADER_DATA=SHARDS times ours on SHARDS instead of DIR (the reference still reads DIR).
# IJEPA (default build/release/app/ijepa) and PYTHON (default /usr/bin/python3) pick the programs.
set -euo pipefail
ref=${1:?usage: bench/loader.sh REFERENCE_CHECKOUT DIR [THREADS] [CONFIG] [BATCHES] [ROUNDS]}
dir=${2:?usage: bench/loader.sh REFERENCE_CHECKOUT DIR [THREADS] [CONFIG] [BATCHES] [ROUNDS]}
threads=${3:-$(nproc)}
config=${4:-configs/photos_224.yaml}
batches=${5:-20}
rounds=${6:-3}
ijepa=${IJEPA:-build/release/app/ijepa}
python=${PYTHON:-/usr/bin/python3}
ours_data=${LOADER_DATA:-$dir}
echo "loader: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) logical CPUs, $threads threads, $config, $batches batches"
ours=(); theirs=()
for r in $(seq "$rounds"); do
  o=$("$ijepa" bench data --config "$config" --data "$ours_data" --threads "$threads" --batches "$batches" 2>/dev/null |
      sed -n 's/.*: \([0-9.]*\) img\/s$/\1/p')
  t=$("$python" bench/reference_loader.py "$ref" "$config" "$dir" "$threads" "$batches" | sed -n 's/^reference data: \([0-9.]*\) img\/s.*/\1/p')
  echo "round $r: ijepa $o img/s, reference $t img/s, ratio $(awk "BEGIN{printf \"%.2f\", $o/$t}")"
  ours+=("$o"); theirs+=("$t")
done
"$python" - "${ours[*]}" "${theirs[*]}" <<'PY'
import statistics as s, sys
o = [float(v) for v in sys.argv[1].split()]; t = [float(v) for v in sys.argv[2].split()]
print(f"ijepa {s.median(o):.1f} img/s, reference {s.median(t):.1f} img/s (medians of {len(o)}): ratio {s.median(o) / s.median(t):.2f}x")
PY
