#!/usr/bin/env bash
# Builds the fuzzers with clang (preset "fuzz": libFuzzer + ASan + UBSan) and runs them: the
# checkpoint unpickler for N seconds (default 60, seeded with the fixtures' pickles), then for N/3
# seconds each the YAML config reader (seeded with the shipped configs and misspelt ones), the .npy reader (a written
# .npy), the Fashion-MNIST IDX/gzip reader, image decoding, the tar shard reader and the
# safetensors reader (seeds in tests/fixtures/fuzz/).
# Fails on any crash, leak or undefined behaviour, printing the end of that fuzzer's log.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
short=$(( seconds / 3 > 5 ? seconds / 3 : 5 ))
targets=(unpickler config npy idx image tar safetensors)
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${targets[@]/#/fuzz_}"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1

corpus=build/fuzz/corpus
mkdir -p "$corpus"-{unpickler,config,npy,idx,image,tar,safetensors}
for f in ../shared/fixtures/official-tiny/checkpoint.pth.tar ../shared/fixtures/official-tiny/reference.pt tests/fixtures/train_step.pt; do
  [ -f "$f" ] && unzip -p "$f" '*/data.pkl' > "$corpus-unpickler/seed-$(basename "$f").pkl" || true
done
cp configs/*.yaml tests/fixtures/fuzz/config/* "$corpus-config/"
/usr/bin/python3 -c "import numpy; numpy.save('$corpus-npy/seed.npy', numpy.arange(6, dtype='float32').reshape(2, 3))"
cp tests/fixtures/fuzz/idx/* "$corpus-idx/"
cp tests/fixtures/fuzz/image/* "$corpus-image/"
cp tests/fixtures/fuzz/tar/* "$corpus-tar/"
cp tests/fixtures/fuzz/safetensors/* "$corpus-safetensors/"

for target in "${targets[@]}"; do
  secs=$short max_len=16384
  [ "$target" = unpickler ] && secs=$seconds max_len=65536
  echo "fuzz: running the $target fuzzer for ${secs}s"
  log=build/fuzz/$target.log
  if ! build/fuzz/tests/fuzz/fuzz_$target -max_total_time="$secs" -max_len=$max_len -rss_limit_mb=4096 \
      -print_final_stats=1 "$corpus-$target" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz: the $target fuzzer failed (whole log: $log)"
    exit 1
  fi
  grep -E "^(Done |stat::peak_rss_mb)" "$log"
done
