#!/usr/bin/env bash
# Runs `ijepa bench` and the reference step (bench/reference_bench.py) on the same machine, same
# config and thread count, interleaved, and prints the throughput ratios (ours / reference): of the
# medians, and per round (each round runs all back to back, so they share the machine's state). On
# CPU the reference runs twice per round: in fp32, and under torch.autocast("cpu", bfloat16) (what a
# Python user turns on); our path (fp32 or bf16, precision.h) is the one `ijepa bench` names.
# Usage: bench/compare.sh REFERENCE_CHECKOUT [CONFIG] [THREADS] [STEPS] [ROUNDS] [DEVICE]
# On a GPU: bench/compare.sh REF configs/bench_vit_base_224.yaml 0 20 3 cuda (bf16, as the issue asks).
# IJEPA (default build/release/app/ijepa) and PYTHON (default /usr/bin/python3) pick the programs;
# COMPARE_KEYS: key=value overrides for ours (e.g. meta.use_bfloat16=false for our fp32 path); with
# COMPARE_WHAT=train also `ijepa train` options (--diagnostics-every 0: no online probes, which the
# reference does not run). The programs' allocator: LD_PRELOAD=libtcmalloc_minimal.so.4 before the
# command gives the reference the one ours links (the ratio then compares the programs alone).
# COMPARE_BF16: 1 runs the reference's autocast round, 0 skips it; by default it runs on a CPU with
# avx512_bf16 or amx_bf16 only (elsewhere PyTorch emulates bf16, ~50x slower than fp32).
# COMPARE_WHAT=train times whole training runs with the loaders instead of the step on synthetic
# tensors: `ijepa train` on Fashion-MNIST (default options: probes, checkpoints and logs included)
# against bench/reference_train.py (the reference's loader, masks and step), STEPS steps each, CPU
# only; both print images per second after their first two steps, data waits included.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=$1; config=${2:-configs/bench_vit_tiny_32.yaml}; threads=${3:-2}; steps=${4:-10}; rounds=${5:-2}; device=${6:-cpu}
what=${COMPARE_WHAT:-step}
[ "$what" = step ] || [ "$what" = train ] || { echo "compare.sh: COMPARE_WHAT must be step or train" >&2; exit 2; }
[ "$what" = step ] || [ "$device" = cpu ] || { echo "compare.sh: COMPARE_WHAT=train runs on cpu only" >&2; exit 2; }
runs=$(mktemp -d); trap 'rm -rf "$runs"' EXIT
# The program's lines go on to stderr (through cat: tee /dev/stderr would reopen, and truncate, a log file).
ips() { tee >(cat >&2) | sed -n 's/.* \([0-9.]*\) img\/s.*/\1/p' | tail -n 1; }
reference() {
  if [ "$what" = train ]; then
    rm -rf "$runs/reference"
    "${PYTHON:-/usr/bin/python3}" bench/reference_train.py "$ref" "$config" "$runs/reference" --steps "$steps" \
      --threads "$threads" "$@" 2>/dev/null | ips
  else
    "${PYTHON:-/usr/bin/python3}" bench/reference_bench.py "$ref" "$config" --threads "$threads" --steps "$steps" --warmup 2 \
      --device "$device" "$@" 2>/dev/null | ips
  fi
}
run_ours() {
  local ijepa=${IJEPA:-build/release/app/ijepa}
  if [ "$what" = train ]; then
    rm -rf "$runs/ours"
    # shellcheck disable=SC2086 # COMPARE_KEYS is a list of overrides
    "$ijepa" train --config "$config" --data fashion-mnist --out "$runs/ours" ${COMPARE_KEYS:-} --threads "$threads" \
      --max-steps "$steps" --final-knn 0 -q 2>&1 | ips
  else
    # shellcheck disable=SC2086 # COMPARE_KEYS is a list of overrides
    "$ijepa" bench --config "$config" ${COMPARE_KEYS:-} --threads "$threads" --steps "$steps" --warmup 2 \
      --device "$device" 2>/dev/null | ips
  fi
}
# OpenBLAS: ours restarts with the kernels of the CPU's instruction set (core/cpu_blas.h); the
# reference gets the same ones, so that the ratio compares the programs and not OpenBLAS's CPU
# detection. COMPARE_REFERENCE_BLAS=own leaves it OpenBLAS's own choice (as a Python user runs it).
core=$("${IJEPA:-build/release/app/ijepa}" --version | sed -n 's/.*OpenBLAS \([A-Za-z0-9]*\) kernels.*/\1/p')
if [ -n "$core" ] && [ "${COMPARE_REFERENCE_BLAS:-same}" = same ]; then export OPENBLAS_CORETYPE=$core; fi
bf16_round=${COMPARE_BF16:-$(grep -q -w -E 'avx512_bf16|amx_bf16' /proc/cpuinfo && echo 1 || echo 0)}
[ "$device" = cpu ] || bf16_round=0
ours=(); fp32=(); bf16=()
for _ in $(seq "$rounds"); do
  ours+=("$(run_ours)")
  fp32+=("$(reference)")
  [ "$bf16_round" != 1 ] || bf16+=("$(reference --bf16)")
done
python3 - "${ours[*]}" "${fp32[*]}" "${bf16[*]:-}" <<'PY'
import sys, statistics as s
o = [float(x) for x in sys.argv[1].split()]
for name, arg in (("reference", sys.argv[2]), ("reference under CPU bf16 autocast", sys.argv[3])):
    t = [float(x) for x in arg.split()]
    if not t:
        continue
    r = [a / b for a, b in zip(o, t)]
    print(f"ijepa {s.median(o):.1f} img/s, {name} {s.median(t):.1f} img/s (medians of {len(o)}): ratio "
          f"{s.median(o)/s.median(t):.2f}x; per round {' '.join(f'{x:.2f}' for x in r)}, median {s.median(r):.2f}x, "
          f"worst {min(r):.2f}x")
PY
