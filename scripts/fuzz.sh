#!/usr/bin/env bash
# Builds the fuzzers with clang (preset "fuzz": libFuzzer + ASan + UBSan) and runs them: the
# checkpoint unpickler for N seconds (default 60, seeded with the fixtures' pickles), the YAML
# config reader and the .npy reader for N/3 seconds each (seeded with the shipped configs and a
# written .npy). Fails on any crash.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzz_unpickler fuzz_config fuzz_npy
corpus=build/fuzz/corpus
mkdir -p "$corpus"
for f in ../shared/fixtures/official-tiny/checkpoint.pth.tar ../shared/fixtures/official-tiny/reference.pt tests/fixtures/train_step.pt; do
  [ -f "$f" ] && unzip -p "$f" '*/data.pkl' > "$corpus/seed-$(basename "$f").pkl" || true
done
echo "fuzz: running the unpickler fuzzer for ${seconds}s"
ASAN_OPTIONS=detect_leaks=1 build/fuzz/tests/fuzz/fuzz_unpickler -max_total_time="$seconds" -max_len=65536 \
  -rss_limit_mb=4096 -print_final_stats=1 "$corpus" 2>&1 | tail -n 12

short=$(( seconds / 3 > 5 ? seconds / 3 : 5 ))
mkdir -p build/fuzz/corpus-config build/fuzz/corpus-npy
cp configs/*.yaml build/fuzz/corpus-config/
/usr/bin/python3 -c "import numpy; numpy.save('build/fuzz/corpus-npy/seed.npy', numpy.arange(6, dtype='float32').reshape(2, 3))"
for target in config npy; do
  echo "fuzz: running the $target fuzzer for ${short}s"
  ASAN_OPTIONS=detect_leaks=1 build/fuzz/tests/fuzz/fuzz_$target -max_total_time="$short" -max_len=16384 \
    -rss_limit_mb=4096 -print_final_stats=1 build/fuzz/corpus-$target 2>&1 | tail -n 4
done
