#!/usr/bin/env bash
# Compiles core/ and the CLI (syntax only, nothing is linked) against another LibTorch's headers,
# e.g. the include/ folder of a PyTorch 2.x wheel, to check the compat layer (core/compat.h) where
# that LibTorch cannot be installed. Usage:
#   scripts/check-headers.sh TORCH_INCLUDE_DIR [-DIJEPA_WITH_CUDA -DIJEPA_WITH_NCCL -DUSE_C10D_NCCL ...]
# CUDA headers are taken from /usr/local/cuda/include when present; gloo's from the system.
set -uo pipefail
inc=${1:?usage: scripts/check-headers.sh TORCH_INCLUDE_DIR [-DDEFINE ...]}; shift
cd "$(dirname "$0")/.."
flags=(-std=c++20 -fsyntax-only -fopenmp -Wall -Wextra -D_GLIBCXX_USE_CXX11_ABI=1
       -DUSE_DISTRIBUTED -DUSE_C10D_GLOO "$@" -I.
       -isystem "$inc/torch/csrc/api/include" -isystem /usr/local/cuda/include)
[ "$(realpath "$inc")" = /usr/include ] || flags+=(-isystem "$inc") # already a system folder
echo "LibTorch headers $(grep -o '"[0-9][^"]*"' "$inc/torch/csrc/api/include/torch/version.h" | head -1)"
failed=0
for f in core/*.cpp core/*/*.cpp app/ijepa/*.cpp; do
  if out=$(g++ "${flags[@]}" "$f" 2>&1); then
    [ -z "$out" ] && echo "ok    $f" || { echo "warn  $f"; grep -m5 'warning' <<<"$out"; }
  else
    echo "FAIL  $f"; grep -m8 'error' <<<"$out"; failed=1
  fi
done
exit $failed
