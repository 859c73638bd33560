#!/usr/bin/env bash
# Installs what is missing, builds, runs the whole test suite; then the unit, parity and CLI tests
# again in the ASan + UBSan build (preset "asan": core, CLI and tests, no Qt; about 13 minutes on
# 2 cores) and a short run of every fuzzer (clang + libFuzzer + ASan; scripts/fuzz.sh).
# IJEPA_ASAN=0 skips the sanitizer run, IJEPA_FUZZ_SECONDS=0 the fuzz run (default 40: the
# unpickler 40 s, the six other fuzzers 13 s each; CI took 39 min with 60).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
ctest --preset release -j "$(nproc)"
if [ "${IJEPA_ASAN:-1}" != "0" ]; then
  start=$SECONDS
  scripts/build.sh asan
  ctest --preset asan -j "$(nproc)"
  echo "test: the ASan + UBSan build and run took $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s"
fi
if [ "${IJEPA_FUZZ_SECONDS:-40}" != "0" ]; then
  scripts/fuzz.sh "${IJEPA_FUZZ_SECONDS:-40}"
fi
