#!/usr/bin/env bash
# Representation quality of a training setting, over seeds: trains CONFIG for BUDGET with seeds
# 0..SEEDS-1, evaluates each final checkpoint with `ijepa eval knn` (and `eval linear` with
# QUALITY_LINEAR=1) on fixed splits, and prints one table row: setting, steps done, wall time per
# run, k-NN mean +- sd, linear mean +- sd, RankMe, the final JEPA loss and the label-free SIGReg
# statistic; each seed's figures go to QUALITY_TSV (appended) for correlations across runs.
#
# Usage: bench/quality.sh CONFIG BUDGET SEEDS [key=value ...]
#   BUDGET: N (steps) or Nm (minutes of training, then stopped as Ctrl-C stops it)
#   QUALITY_DB: k-NN database size, the first N training images (default 20000); queries: the
#   10,000 test images. QUALITY_OUT: keep the runs there (default: a temp folder). Trains on
#   Fashion-MNIST (QUALITY_DATA: another data spec).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n 2,13p "$0"; exit 2; }
config=$1 budget=$2 seeds=$3
shift 3
ijepa=build/release/app/ijepa
[ -x $ijepa ] || scripts/build.sh release
out=${QUALITY_OUT:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${QUALITY_OUT:-}" ] || trap 'rm -rf "$out"' EXIT
db=${QUALITY_DB:-20000}
tsv=${QUALITY_TSV:-/dev/null}
label="$(basename "$config" .yaml)${*:+ $*}"
knn=() linear=() steps=() walls=() rankme=()
for ((seed = 0; seed < seeds; ++seed)); do
  run="$out/$(printf '%s' "$label" | tr -c 'A-Za-z0-9._=-' '_')-s$seed"
  rm -rf "$run"
  start=$SECONDS
  args=(train -c "$config" --data "${QUALITY_DATA:-fashion-mnist}" --out "$run" --threads "$(nproc)" --final-knn 0 -q
    meta.seed=$seed "$@")
  if [[ $budget == *m ]]; then
    timeout -s INT "$(( ${budget%m} * 60 ))" $ijepa "${args[@]}" >"$run.log" 2>&1 || true
  else
    $ijepa "${args[@]}" --max-steps "$budget" >"$run.log" 2>&1
  fi
  walls+=($((SECONDS - start)))
  csv=$(ls "$run"/*_r0.csv)
  steps+=($(( $(wc -l <"$csv") - 1 ))) # one row a step, from a fresh run
  last=$(tail -n 1 "$csv")
  jepa=$(echo "$last" | cut -d, -f14)
  stat=$(awk -F, 'NR > 1 && $16 != "" { s = $16 } END { print s }' "$csv")
  ck=$(ls "$run"/*-latest.pth.tar)
  evaluated=$($ijepa eval knn --checkpoint "$ck" --limit-train "$db" --threads "$(nproc)" -q)
  k=$(sed -n 's/^knn: .* top-1 \([0-9.]*\)%.*/\1/p' <<<"$evaluated")
  r=$(sed -n 's/^rankme (test): \([0-9.]*\),.*/\1/p' <<<"$evaluated")
  knn+=("$k") rankme+=("$r")
  l=nan
  if [ "${QUALITY_LINEAR:-0}" = 1 ]; then
    l=$($ijepa eval linear --checkpoint "$ck" --limit-train "$db" --threads "$(nproc)" -q | sed -n 's/^linear: weight decay .* top-1 \([0-9.]*\)%.*/\1/p')
  fi
  linear+=("$l")
  printf '%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$seed" "${steps[-1]}" "$k" "$l" "$r" "$jepa" "$stat" >>"$tsv"
  echo "quality: $label seed $seed: ${steps[-1]} steps in ${walls[-1]} s, k-NN $k%, linear $l%, RankMe $r, JEPA loss $jepa, SIGReg stat $stat" >&2
done
stats() { printf '%s\n' "$@" | awk '$1 != "nan" { n++; s += $1; q += $1 * $1 } END { if (!n) { print "-"; exit } m = s / n; sd = n > 1 ? sqrt((q - n * m * m) / (n - 1)) : 0; printf "%.1f +- %.1f", m, sd }'; }
printf '| %s | %s | %s s | %s (%s) | %s | %s |\n' "$label" "$(stats "${steps[@]}")" "$(stats "${walls[@]}")" \
  "$(stats "${knn[@]}")" "$(IFS=/; echo "${knn[*]}")" "$(stats "${linear[@]}")" "$(stats "${rankme[@]}")"
