#!/usr/bin/env bash
# Representation quality of a training setting, over seeds: trains CONFIG for BUDGET with seeds
# 0..SEEDS-1, evaluates each final checkpoint with `ijepa eval knn` (and `eval linear` with
# QUALITY_LINEAR=1) on fixed splits, and prints one table row: setting, steps done, wall time per
# run, k-NN mean +- sd (and each seed's), linear mean +- sd, RankMe; each seed's figures (with the
# final JEPA loss and the label-free SIGReg statistic) go to QUALITY_TSV (appended) for correlations.
#
# Usage: bench/quality.sh CONFIG BUDGET SEEDS [key=value ...]
#   BUDGET: N (steps) or Nm (minutes of training, then stopped as Ctrl-C stops it)
#   QUALITY_REFERENCE: a checkout of facebookresearch/ijepa: also trains the reference code under
#   the same budget, seeds and keys (bench/reference_train.py, /usr/bin/python3) and prints its row
#   below ours; QUALITY_REFERENCE_BF16=1 runs it under torch.autocast("cpu", bfloat16);
#   QUALITY_ROWS=reference prints only the reference's row (default: ours, then the reference's).
#   QUALITY_DB: k-NN database size, the first N training images (default 20000); queries: the
#   10,000 test images. QUALITY_OUT: keep the runs there (default: a temp folder).
#   QUALITY_DATA: another data spec for our runs (the reference row trains on Fashion-MNIST only).
#   QUALITY_FIRST_SEED: seeds FIRST..FIRST+SEEDS-1 instead of 0..SEEDS-1 (more seeds of a row later).
#   IJEPA: the program (default build/release/app/ijepa; a copy keeps a long run on one build).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n 2,19p "$0"; exit 2; }
config=$1 budget=$2 seeds=$3
shift 3
ijepa=${IJEPA:-build/release/app/ijepa}
[ -x "$ijepa" ] || scripts/build.sh release
out=${QUALITY_OUT:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${QUALITY_OUT:-}" ] || trap 'rm -rf "$out"' EXIT
db=${QUALITY_DB:-20000}
tsv=${QUALITY_TSV:-/dev/null}
threads=$(nproc)

# Trains one seed of ours: RUN SEED [key=value ...]; prints "steps jepa_loss sigreg_stat checkpoint
# config" (config: - for the one the checkpoint carries).
train_ours() {
  local run=$1 seed=$2
  shift 2
  local args=(train -c "$config" --data "${QUALITY_DATA:-fashion-mnist}" --out "$run" --threads "$threads" --final-knn 0 -q
    meta.seed="$seed" "$@")
  # The context encoder's online probe costs 3-5% of the steps at 30 minutes: off, so rows stay
  # comparable with those measured before it (a binary from before it has no such option).
  ! $ijepa train --help | grep -q -- --context-probe || args+=(--context-probe false)
  if [[ $budget == *m ]]; then
    timeout -s INT "$(( ${budget%m} * 60 ))" $ijepa "${args[@]}" >"$run.log" 2>&1 || true
  else
    $ijepa "${args[@]}" --max-steps "$budget" >"$run.log" 2>&1
  fi
  local csv
  csv=$(ls "$run"/*_r0.csv)
  echo "$(( $(wc -l <"$csv") - 1 ))" "$(tail -n 1 "$csv" | cut -d, -f14)" \
    "$(awk -F, 'NR > 1 && $16 != "" { s = $16 } END { print s == "" ? "nan" : s }' "$csv")" "$(ls "$run"/*-latest.pth.tar)" -
}

# Trains one seed of the reference code: RUN SEED [key=value ...]; prints as train_ours.
train_reference() {
  local run=$1 seed=$2
  shift 2
  local limit=(--steps "$budget")
  [[ $budget != *m ]] || limit=(--minutes "${budget%m}")
  local bf16=()
  [ "${QUALITY_REFERENCE_BF16:-0}" != 1 ] || bf16=(--bf16)
  "${PYTHON:-/usr/bin/python3}" bench/reference_train.py "$QUALITY_REFERENCE" "$config" "$run" "${limit[@]}" \
    --seed "$seed" --threads "$threads" "${bf16[@]}" "$@" >"$run.log" 2>&1 || { tail -n 5 "$run.log" >&2; return 1; }
  sed -n 's/^reference: \([0-9]*\) steps in .* final loss \([0-9.na]*\).*/\1 \2 nan/p' "$run.log" | tail -n 1 |
    tr '\n' ' '
  echo "$run/jepa-latest.pth.tar $run/params-ijepa.yaml"
}

stats() { printf '%s\n' "$@" | awk '$1 != "nan" { n++; s += $1; q += $1 * $1 } END { if (!n) { print "-"; exit } m = s / n; sd = n > 1 ? sqrt((q - n * m * m) / (n - 1)) : 0; printf "%.1f +- %.1f", m, sd }'; }

# One table row: LABEL TRAINER [key=value ...], TRAINER train_ours or train_reference.
row() {
  local label=$1 trainer=$2
  shift 2
  local knn=() linear=() steps=() walls=() rankme=() seed
  local first=${QUALITY_FIRST_SEED:-0}
  for ((seed = first; seed < first + seeds; ++seed)); do
    local run start=$SECONDS trained n jepa stat ck cfg
    run="$out/$(printf '%s' "$label" | tr -c 'A-Za-z0-9._=-' '_')-s$seed"
    rm -rf "$run"
    trained=$($trainer "$run" "$seed" "$@")
    read -r n jepa stat ck cfg <<<"$trained"
    local model=(--checkpoint "$ck")
    [ "$cfg" = - ] || model+=(--config "$cfg")
    walls+=($((SECONDS - start))) steps+=("$n")
    local evaluated k r l=nan
    evaluated=$($ijepa eval knn "${model[@]}" --limit-train "$db" --threads "$threads" -q)
    k=$(sed -n 's/^knn: .* top-1 \([0-9.]*\)%.*/\1/p' <<<"$evaluated")
    r=$(sed -n 's/^rankme (test): \([0-9.]*\),.*/\1/p' <<<"$evaluated")
    if [ "${QUALITY_LINEAR:-0}" = 1 ]; then
      l=$($ijepa eval linear "${model[@]}" --limit-train "$db" --threads "$threads" -q |
        sed -n 's/^linear: weight decay .* top-1 \([0-9.]*\)%.*/\1/p')
    fi
    knn+=("$k") rankme+=("$r") linear+=("$l")
    printf '%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$seed" "$n" "$k" "$l" "$r" "$jepa" "$stat" >>"$tsv"
    echo "quality: $label seed $seed: $n steps in ${walls[-1]} s, k-NN $k%, linear $l%, RankMe $r, JEPA loss $jepa, SIGReg stat $stat" >&2
  done
  printf '| %s | %s | %s s | %s (%s) | %s | %s |\n' "$label" "$(stats "${steps[@]}")" "$(stats "${walls[@]}")" \
    "$(stats "${knn[@]}")" "$(IFS=/; echo "${knn[*]}")" "$(stats "${linear[@]}")" "$(stats "${rankme[@]}")"
}

label="$(basename "$config" .yaml)${*:+ $*}"
[ "${QUALITY_ROWS:-}" = reference ] || row "$label" train_ours "$@"
if [ -n "${QUALITY_REFERENCE:-}" ]; then
  [ "${QUALITY_REFERENCE_BF16:-0}" = 1 ] && kind="reference code, bf16 autocast" || kind="reference code, fp32"
  row "$label ($kind)" train_reference "$@"
fi
