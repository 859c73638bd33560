#!/usr/bin/env bash
# Runs `ijepa bench` and the reference step (bench/reference_bench.py) on the same machine, same
# config and thread count, interleaved, and prints the throughput ratio (ours / reference): of the
# medians, and per round (each round runs both back to back, so it shares the machine's state).
# Usage: bench/compare.sh REFERENCE_CHECKOUT [CONFIG] [THREADS] [STEPS] [ROUNDS] [DEVICE]
# On a GPU: bench/compare.sh REF configs/bench_vit_base_224.yaml 0 20 3 cuda (bf16, as the issue asks).
# IJEPA (default build/release/app/ijepa) and PYTHON (default /usr/bin/python3) pick the programs.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=$1; config=${2:-configs/bench_vit_tiny_32.yaml}; threads=${3:-2}; steps=${4:-10}; rounds=${5:-2}; device=${6:-cpu}
ours=(); theirs=()
for r in $(seq "$rounds"); do
  o=$("${IJEPA:-build/release/app/ijepa}" bench --config "$config" --threads "$threads" --steps "$steps" --warmup 2 --device "$device" 2>/dev/null | tee /dev/stderr | sed -n 's/.* \([0-9.]*\) img\/s.*/\1/p')
  t=$("${PYTHON:-/usr/bin/python3}" bench/reference_bench.py "$ref" "$config" --threads "$threads" --steps "$steps" --warmup 2 --device "$device" 2>/dev/null | tee /dev/stderr | sed -n 's/.* \([0-9.]*\) img\/s.*/\1/p')
  ours+=("$o"); theirs+=("$t")
done
python3 - "${ours[*]}" "${theirs[*]}" <<'PY'
import sys, statistics as s
o = [float(x) for x in sys.argv[1].split()]; t = [float(x) for x in sys.argv[2].split()]
r = [a / b for a, b in zip(o, t)]
print(f"ijepa {s.median(o):.1f} img/s, reference {s.median(t):.1f} img/s (medians of {len(o)}): ratio {s.median(o)/s.median(t):.2f}x; "
      f"per round {' '.join(f'{x:.2f}' for x in r)}, median {s.median(r):.2f}x, worst {min(r):.2f}x")
PY
