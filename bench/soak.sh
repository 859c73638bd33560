#!/usr/bin/env bash
# Soak: the shipped Fashion-MNIST config trained for N minutes headless (ijepa train), then N
# minutes in the workbench (every tab in turn, learning signals every 10 steps). Resident memory is
# sampled every SOAK_INTERVAL seconds (60); the least-squares slope after the warm-up (the first
# SOAK_WARMUP samples, default 2) and each minute's floor and peak must be flat, and the workbench's event-loop delay must stay under 50 ms in the LAST
# minute as well as overall. Usage: bench/soak.sh [MINUTES] (default 10); SOAK_PARTS=headless or
# gui runs one part. In the workbench the run is stopped, its checkpoint opened and training started
# again every SOAK_RESTART seconds (default 300; 0: never), on SOAK_DATA (default fashion-mnist; a
# photo folder for the day's use the second fault sweep described).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
interval=${SOAK_INTERVAL:-60}
warmup=${SOAK_WARMUP:-2}
parts=${SOAK_PARTS:-headless gui}
release=build/release/app
[ -x $release/ijepa ] && [ -x $release/workbench/ijepa-workbench ] || scripts/build.sh release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "soak: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $minutes min per part, RSS every ${interval}s"

rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }

# Samples the RSS of process $1 every $interval s for $minutes minutes into $2 ("seconds MB" lines).
sample() {
  local pid=$1 file=$2 t=0 end=$((minutes * 60))
  while [ "$t" -le "$end" ] && kill -0 "$pid" 2>/dev/null; do
    local mb
    mb=$(rss_mb "$pid")
    [ -n "$mb" ] && echo "$t $mb" >>"$file" # empty: the process has just ended
    sleep "$interval"
    t=$((t + interval))
  done
}

# Least-squares slope (MB per minute) of the samples after the warm-up, and the samples themselves.
report() {
  awk -v part="$1" -v warm="$warmup" '
    { t[NR] = $1 / 60; m[NR] = $2; all = all sprintf(" %.0f", $2) }
    END {
      n = 0; for (i = warm + 1; i <= NR; ++i) { n++; sx += t[i]; sy += m[i]; sxx += t[i] * t[i]; sxy += t[i] * m[i] }
      slope = n > 1 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0
      printf "soak %s: RSS MB per sample:%s\n", part, all
      printf "soak %s: RSS slope after %d warm-up samples: %+.2f MB/min over %d samples (%.0f -> %.0f MB)\n", part, warm, slope, n, m[warm + 1], m[NR]
      # Per minute: the floor (what stays allocated) and the peak (a step, a diagnostic, a checkpoint).
      for (i = 1; i <= NR; ++i) { k = int(t[i]); if (!(k in lo) || m[i] < lo[k]) lo[k] = m[i]; if (m[i] > hi[k]) hi[k] = m[i]; last = k }
      line = ""; for (k = 0; k <= last; ++k) if (k in lo) line = line sprintf(" %d:%.0f-%.0f", k, lo[k], hi[k])
      printf "soak %s: RSS floor-peak MB by minute:%s\n", part, line
    }' "$2"
}

if [[ " $parts " == *" headless "* ]]; then
  $release/ijepa train -c configs/fashion_mnist.yaml --data fashion-mnist --out "$work/headless" --threads "$(nproc)" \
    --final-knn 0 optimization.epochs=1000 >"$work/headless.log" 2>&1 &
  pid=$!
  sample "$pid" "$work/headless.rss"
  if ! kill -INT "$pid" 2>/dev/null; then
    cat "$work/headless.log"
    echo "soak: ijepa train ended before the soak did"
    exit 1
  fi
  wait "$pid" || true
  grep -E "^(run:|stopped|finished)|img/s" "$work/headless.log" | tail -n 2 || true
  report headless "$work/headless.rss"
fi

if [[ " $parts " == *" gui "* ]]; then
  gui=(env)
  if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    if command -v xvfb-run >/dev/null; then gui=(xvfb-run -a -s "-screen 0 1600x1000x24"); else export QT_QPA_PLATFORM=offscreen; fi
  fi
  "${gui[@]}" $release/workbench/ijepa-workbench --bench-ui $((minutes * 60)) --runs "$work/gui" \
    --bench-ui-restart "${SOAK_RESTART:-300}" --data "${SOAK_DATA:-fashion-mnist}" \
    --threads "$(nproc)" --diagnostics-every 10 --set optimization.epochs=1000 >"$work/gui.log" 2>&1 &
  sleep 2
  pid=$(pgrep -n -f "ijepa-workbench --bench-ui") || { cat "$work/gui.log"; exit 1; }
  sample "$pid" "$work/gui.rss"
  wait || true
  grep "^ui-bench" "$work/gui.log" | grep -v "^ui-bench: minute" || true
  grep -c "checkpoint opened, training again" "$work/gui.log" | sed 's/^/soak gui: restarts with a checkpoint opened: /' || true
  report gui "$work/gui.rss"
fi
