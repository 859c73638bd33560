#!/usr/bin/env bash
# Installs what is missing, builds, runs the whole test suite, then a short fuzz run of the
# checkpoint unpickler (clang + libFuzzer + ASan). IJEPA_FUZZ_SECONDS=0 skips the fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
ctest --preset release -j "$(nproc)"
if [ "${IJEPA_FUZZ_SECONDS:-60}" != "0" ]; then
  scripts/fuzz.sh "${IJEPA_FUZZ_SECONDS:-60}"
fi
