#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs (when run as root), or says which are missing.
# Used by scripts/run.sh and scripts/test.sh; safe to run again (installs only what is missing).
set -euo pipefail

packages=(
  cmake ninja-build g++ clang pkg-config unzip
  libtorch-dev libopenblas0-openmp          # LibTorch 1.13 (CPU); OpenBLAS with OpenMP (else ~30x slower)
  libblas-dev                               # links the CPU attention kernel to the BLAS LibTorch uses
  libyaml-cpp-dev libcli11-dev libspdlog-dev nlohmann-json3-dev zlib1g-dev
  libgtest-dev libgmock-dev
  libopencv-dev                             # image decoding (core/imageio)
  libjpeg62-turbo-dev                       # JPEG region-of-interest decoding (core/imageio/jpeg_region.cpp)
  qt6-base-dev libqcustomplot-dev           # the workbench GUI
  xvfb xauth fonts-dejavu-core              # screenshots and GUI runs without a display
  dpkg-dev desktop-file-utils appstream     # .deb packages (CPack) and their metadata checks
  libgloo-dev                               # c10d Gloo (multi-process CPU training)
  libgoogle-perftools-dev                   # tcmalloc: the programs' allocator (faster steps)
  python3-torch python3-yaml                # the reference-compatibility test and benchmarks
  help2man                                  # the man pages, from the programs' --help (docs/CMakeLists.txt)
  python3-torchvision                       # the reference's own data transforms (bench/reference_train.py)
  dataset-fashion-mnist                     # the built-in data set
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
