#!/usr/bin/env bash
# Throughput of `ijepa train` on real data (Fashion-MNIST through the threaded loader, crops and
# masks included) against `ijepa bench` on synthetic tensors, same config and threads, one after
# the other. Goal (issue 4): real within 10% of synthetic.
# Usage: bench/train_vs_synthetic.sh [CONFIG] [STEPS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-configs/fashion_mnist.yaml}; steps=${2:-20}; threads=${3:-$(nproc)}
bin=build/release/app/ijepa
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
synthetic=$("$bin" bench -c "$config" --threads "$threads" --steps "$steps" --warmup 2 2>/dev/null |
            sed -n 's/.* \([0-9.]*\) img\/s.*/\1/p')
real=$("$bin" train -c "$config" --data fashion-mnist --out "$out" --max-steps $((steps + 2)) --threads "$threads" \
       --image-every 0 -q 2>&1 | sed -n 's/.*, \([0-9.]*\) img\/s.*/\1/p')
echo "synthetic (ijepa bench): $synthetic img/s"
echo "real data (ijepa train): $real img/s"
python3 -c "print('real / synthetic: %.3f' % ($real / $synthetic))"
