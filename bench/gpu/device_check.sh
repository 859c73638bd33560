#!/usr/bin/env bash
# The GPU check in one call of a device machine (an NVIDIA GPU with PyTorch, CUDA's toolkit, CMake and
# ninja, no OpenCV C++, no network). Two steps:
#   bench/gpu/device_check.sh fetch REFERENCE_CHECKOUT   here: Debian's .debs of the header/small
#       libraries the core needs (yaml-cpp, nlohmann-json, CLI11, gloo's headers) into bench/gpu/debs,
#       and a copy of the reference into bench/gpu/ijepa-ref (both ignored by git; carry them)
#   bench/gpu/device_check.sh run                        there: builds core/ + `ijepa bench` against the
#       machine's LibTorch (bench/gpu/CMakeLists.txt), then benchmarks against the reference on CUDA
#       (bench/compare.sh), our fp32 step, and a profiler trace of ours (bench/trace_summary.py).
set -uo pipefail
cd "$(dirname "$0")"
here=$PWD root=$(cd ../.. && pwd)
if [ "${1:-}" = fetch ]; then
  mkdir -p debs && (cd debs && apt-get download libyaml-cpp-dev libyaml-cpp0.7 nlohmann-json3-dev libcli11-dev libgloo-dev)
  rm -rf ijepa-ref && cp -r "${2:?usage: device_check.sh fetch REFERENCE_CHECKOUT}" ijepa-ref
  exit
fi
out=${OUT:-/tmp/gpu-out}; mkdir -p "$out" /tmp/deps
nvidia-smi -L; python3 -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda)"
for f in debs/*.deb; do dpkg -x "$f" /tmp/deps; done
prefix=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")
start=$(date +%s)
cmake -S . -B /tmp/ijepa-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix;/tmp/deps/usr" \
  -DCMAKE_CXX_FLAGS="-isystem /tmp/deps/usr/include" -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" >"$out/configure.log" 2>&1 \
  || { tail -40 "$out/configure.log"; exit 1; }
cmake --build /tmp/ijepa-gpu -j "$(nproc)" >"$out/build.log" 2>&1 || { grep -m20 error "$out/build.log"; exit 1; }
echo "built in $(( $(date +%s) - start )) s"
export LD_LIBRARY_PATH=/tmp/deps/usr/lib/x86_64-linux-gnu IJEPA=/tmp/ijepa-gpu/ijepa PYTHON=python3
cd "$root"
base=configs/bench_vit_base_224.yaml
$IJEPA bench -c $base --device cuda --steps 10 --warmup 3 meta.use_bfloat16=false 2>/dev/null
$IJEPA bench -c $base --device cuda --steps 3 --warmup 3 --trace /tmp/trace.json 2>/dev/null && bench/trace_summary.py /tmp/trace.json
timeout 150 bench/compare.sh "$here/ijepa-ref" $base 0 20 3 cuda 2>&1 | grep -v "step "
