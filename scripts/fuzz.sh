#!/usr/bin/env bash
# Builds the unpickler fuzzer with clang (preset "fuzz": libFuzzer + ASan + UBSan) and runs it
# for N seconds (default 60) from a corpus seeded with the fixtures' pickles. Fails on any crash.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzz_unpickler
corpus=build/fuzz/corpus
mkdir -p "$corpus"
for f in ../shared/fixtures/official-tiny/checkpoint.pth.tar ../shared/fixtures/official-tiny/reference.pt tests/fixtures/train_step.pt; do
  [ -f "$f" ] && unzip -p "$f" '*/data.pkl' > "$corpus/seed-$(basename "$f").pkl" || true
done
echo "fuzz: running the unpickler fuzzer for ${seconds}s"
ASAN_OPTIONS=detect_leaks=1 build/fuzz/tests/fuzz/fuzz_unpickler -max_total_time="$seconds" -max_len=65536 \
  -rss_limit_mb=4096 -print_final_stats=1 "$corpus" 2>&1 | tail -n 12
