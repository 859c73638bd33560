#!/usr/bin/env bash
# ijepa sweep as a user runs it: a 2-setting x 2-seed grid on Fashion-MNIST (tiny budget), killed
# with SIGKILL mid-way and continued by the same command; its table against figures computed
# separately (each trial's ijepa eval knn, the means and sds, the steps in each CSV);
# --print-commands lines that run as they are; --collect; a changed plan refused; bad axes named.
# Usage: test_sweep.sh IJEPA_BINARY
set -euo pipefail
bin=$1
tmp=$(mktemp -d); trap 'kill -9 $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cfg=$(dirname "$0")/../../configs/fashion_mnist.yaml
sweep=(sweep -c "$cfg" --data fashion-mnist --limit 256 --budget 8 --seeds 2 --threads 2 --eval-train 400 --eval-test 200
  --baseline optimization.lr=0.001 data.batch_size=32 meta.model_name=vit_tiny optimization.lr=0.001,0.003)

# Killed (SIGKILL, no goodbye) once the first trial has a checkpoint; the same command continues.
"$bin" "${sweep[@]}" --out "$tmp/s" >"$tmp/first.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  ls "$tmp"/s/s01-*-seed0/jepa-latest.pth.tar >/dev/null 2>&1 && break
  sleep 0.2
done
kill -9 $pid
wait $pid 2>/dev/null || true
sleep 2 # the trial's own SIGINT (PR_SET_PDEATHSIG) lets it write its checkpoint and exit
"$bin" "${sweep[@]}" --out "$tmp/s" >"$tmp/out.txt" 2>"$tmp/err.txt" || fail "continue: $(cat "$tmp/err.txt")"
grep -q "continuing the sweep" "$tmp/err.txt" || fail "no continuation: $(cat "$tmp/err.txt")"

# Every trial ran its 8 steps once: 8 CSV rows, steps 1..8 (none lost or repeated by the kill).
for run in "$tmp"/s/s0*-seed*; do
  rows=$(($(wc -l <"$run"/jepa_r0.csv) - 1))
  [ "$rows" -eq 8 ] || fail "$run: $rows CSV rows, not 8"
done

# The table's figures are the trials' own: k-NN from ijepa eval knn on each checkpoint, mean and
# sample sd over the seeds; Welch's t for the non-baseline setting.
python3 - "$bin" "$tmp/s" <<'PY' || fail "results.tsv against separate figures"
import csv, math, subprocess, sys, glob, re
bin, sweep = sys.argv[1], sys.argv[2]
rows = {r["setting"]: r for r in csv.DictReader(open(sweep + "/results.tsv"), delimiter="\t")}
assert set(rows) == {"lr=0.001", "lr=0.003"}, rows.keys()
knn = {}
for setting, prefix in (("lr=0.001", "s01"), ("lr=0.003", "s02")):
    for run in sorted(glob.glob(f"{sweep}/{prefix}-*-seed*")):
        out = subprocess.run([bin, "eval", "knn", "--checkpoint", run + "/jepa-latest.pth.tar", "-q", "--threads", "2",
                              "--limit-train", "400", "--limit-test", "200"], capture_output=True, text=True, check=True).stdout
        knn.setdefault(setting, []).append(float(re.search(r"top-1 ([0-9.]+)%", out).group(1)) / 100)
def mean_sd(v):
    m = sum(v) / len(v)
    return m, math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))
for setting, values in knn.items():
    m, sd = mean_sd(values)
    r = rows[setting]
    assert abs(float(r["knn_mean"]) - m) < 1e-6, (setting, r["knn_mean"], m)
    assert abs(float(r["knn_sd"]) - sd) < 1e-6, (setting, r["knn_sd"], sd)
    assert float(r["steps"]) == 8 and int(r["trials"]) == 2
assert rows["lr=0.001"]["baseline"] == "yes"
(ma, sa), (mb, sb) = mean_sd(knn["lr=0.003"]), mean_sd(knn["lr=0.001"])
if sa + sb > 0:
    t = (ma - mb) / math.sqrt(sa * sa / 2 + sb * sb / 2)
    assert abs(float(rows["lr=0.003"]["welch_t"]) - t) < 1e-4 * max(1, abs(t)), (rows["lr=0.003"]["welch_t"], t)
    assert abs(float(rows["lr=0.003"]["knn_diff_points"]) - 100 * (ma - mb)) < 1e-4
for r in rows.values():
    assert float(r["rankme_mean"]) > 1 and float(r["loss_mean"]) > 0 and r["verdict"], r
PY
grep -q "lr=0.001 (baseline)" "$tmp/out.txt" || fail "printed table: $(cat "$tmp/out.txt")"

# A rerun with nothing left to do changes nothing; another plan into the same folder is refused.
before=$(md5sum "$tmp"/s/s01-*-seed0/jepa-latest.pth.tar)
"$bin" "${sweep[@]}" --out "$tmp/s" >/dev/null 2>&1 || fail "a finished sweep's rerun"
[ "$before" = "$(md5sum "$tmp"/s/s01-*-seed0/jepa-latest.pth.tar)" ] || fail "a finished trial was trained again"
err=$("$bin" sweep -c "$cfg" --budget 8 --out "$tmp/s" optimization.lr=0.001,0.01 2>&1) && fail "another plan accepted"
grep -q "holds another sweep" <<<"$err" || fail "another plan: $err"

# --print-commands: one ijepa train line per trial; run as printed (here: one), then --collect.
"$bin" "${sweep[@]}" --out "$tmp/p" --print-commands >"$tmp/cmds.txt" 2>/dev/null
[ "$(wc -l <"$tmp/cmds.txt")" -eq 4 ] || fail "print-commands: $(cat "$tmp/cmds.txt")"
grep -q -- "--resume-if-any" "$tmp/cmds.txt" || fail "print-commands lines are not re-runnable"
line=$(head -n 1 "$tmp/cmds.txt")
eval "${line/#ijepa/\"\$bin\"}" >/dev/null 2>&1 || fail "a printed line did not run: $line"
eval "${line/#ijepa/\"\$bin\"}" >/dev/null 2>&1 || fail "a printed line did not run twice: $line"
"$bin" sweep --collect "$tmp/p" --eval-train 400 --eval-test 200 --threads 2 >"$tmp/collect.txt" 2>&1 || fail "collect: $(cat "$tmp/collect.txt")"
grep -q "lr=0.001" "$tmp/collect.txt" || fail "collect table: $(cat "$tmp/collect.txt")"

# Halving without labels (a folder of noise PNGs, no class folders), two trials at a time: 3 settings,
# rungs at 2, 4 and 8 steps; the trials of the settings dropped stop at their rung, the chosen
# setting's run all 8 steps, and the summary says which and why.
mkdir -p "$tmp/flat"
python3 - "$tmp/flat" <<'PY'
import sys, zlib, struct
def png(path, seed):  # a 32x32 grey PNG of noise, no libraries needed
    import random
    r = random.Random(seed)
    raw = b"".join(b"\0" + bytes(r.randrange(256) for _ in range(32)) for _ in range(32))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 0, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for i in range(96):
    png(f"{sys.argv[1]}/img{i:03d}.png", i)
PY
"$bin" sweep -c "$cfg" --data "$tmp/flat" --budget 8 --seeds 1 --threads 2 --parallel 2 --halving --criterion loss --out "$tmp/h" \
  data.batch_size=16 optimization.lr=0.0005,0.001,0.004 >"$tmp/h.txt" 2>"$tmp/h.err" || fail "halving: $(cat "$tmp/h.err")"
grep -q "^chosen: lr=" "$tmp/h.txt" || fail "halving chose nothing: $(cat "$tmp/h.txt")"
chosen=$(sed -n 's/^chosen: \(lr=[0-9.]*\),.*/\1/p' "$tmp/h.txt")
full=0
for run in "$tmp"/h/s0*-seed0; do
  rows=$(($(wc -l <"$run"/jepa_r0.csv) - 1))
  case "$run" in
    *"-$chosen-"*) [ "$rows" -eq 8 ] || fail "the chosen $run ran $rows steps, not 8" ;;
    *) [ "$rows" -lt 8 ] || fail "the dropped $run ran all $rows steps" ;;
  esac
  [ "$rows" -lt 8 ] || full=$((full + 1))
done
[ "$full" -eq 1 ] || fail "$full settings ran the whole budget"
[ "$(grep -c "rung" "$tmp/h.txt")" -ge 3 ] || fail "the summary does not say why: $(cat "$tmp/h.txt")"

# Bad axes and options are named before anything runs.
expect() { local fragment=$1 err; shift; err=$("$bin" "$@" 2>&1) && fail "'$*' should fail"; grep -q -- "$fragment" <<<"$err" || fail "'$*' should name $fragment: $err"; }
expect "optimization.lrr" sweep --budget 8 --out "$tmp/x" optimization.lrr=0.1,0.2
expect "did you mean" sweep --budget 8 --out "$tmp/x" optimization.lrr=0.1,0.2
expect "needs --random" sweep --budget 8 --out "$tmp/x" optimization.lr=0.001:0.01
expect "--budget" sweep --budget 10x --out "$tmp/x" optimization.lr=0.001,0.01
expect "--halving" sweep --budget 5m --halving --out "$tmp/x" optimization.lr=0.001,0.01
expect "matches 0" sweep --budget 8 --baseline optimization.lr=0.5 --out "$tmp/x" optimization.lr=0.001,0.01
expect "--criterion" sweep --budget 8 --halving --criterion knn --out "$tmp/x" optimization.lr=0.001,0.01
echo "sweep CLI: all checks passed"
