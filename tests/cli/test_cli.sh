#!/usr/bin/env bash
# Drives the ijepa CLI as a user would: info on the reference checkpoint, masks JSON/PNG output,
# and clear non-zero exits for bad input. Usage: test_cli.sh IJEPA_BINARY SHARED_FIXTURES
set -euo pipefail
bin=$1; fixtures=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_exit CODE FRAGMENT CMD...: CMD must exit CODE with FRAGMENT in its message.
expect_exit() {
  local code=$1 fragment=$2 err rc=0; shift 2
  err=$("$@" 2>&1) || rc=$?
  [ $rc -eq "$code" ] || fail "'$*' should exit $code, got $rc: $err"
  grep -q -- "$fragment" <<<"$err" || fail "'$*' should name $fragment: $err"
}
# expect_error FRAGMENT CMD...: bad input, exit 2.
expect_error() { expect_exit 2 "$@"; }

out=$("$bin" info "$fixtures/official-tiny/checkpoint.pth.tar")
grep -q "width 64, depth 2, patch 8, grid 8x8" <<<"$out" || fail "info architecture: $out"
grep -q "116544 parameters" <<<"$out" || fail "info parameter count: $out"
grep -q "AdamW, 4 groups" <<<"$out" || fail "info optimiser: $out"

"$bin" masks --config "$fixtures/official-tiny/params-ijepa.yaml" --batches 3 --json "$tmp/m.json" --png "$tmp/m.png" >/dev/null
python3 - "$tmp/m.json" <<'PY' || fail "masks JSON layout"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["grid"] == [8, 8], d["grid"]
assert len(d["batches"]) == 3
for b in d["batches"]:
    assert len(b["enc"]) == 1 and len(b["enc"][0]) == 4          # [nenc][B][K]
    assert len(b["pred"]) == 4 and len(b["pred"][0]) == 4        # [npred][B][Kp]
    assert len({len(r) for m in b["pred"] for r in m}) == 1      # one length per batch
    assert all(0 <= i < 64 for m in b["enc"] + b["pred"] for r in m for i in r)
PY
[ "$(head -c 4 "$tmp/m.png" | tail -c 3)" = "PNG" ] || fail "masks PNG"

expect_error mask.min_keep "$bin" masks data.crop_size=32 mask.patch_size=4

# config show: the file's values with the overrides applied, read back as the same config; config
# keys: every key of the schema once, with its meaning; typos named as anywhere else.
"$bin" config show -c "$fixtures/official-tiny/params-ijepa.yaml" data.batch_size=7 >"$tmp/shown.yaml"
grep -q "^  batch_size: 7$" "$tmp/shown.yaml" || fail "config show lacks the override: $(cat "$tmp/shown.yaml")"
"$bin" config show -c "$tmp/shown.yaml" | cmp -s - "$tmp/shown.yaml" || fail "config show does not read back to itself"
keys=$("$bin" config keys)
[ "$(grep -c '^[a-z]*\.[a-z_0-9]* (' <<<"$keys")" -eq "$(python3 -c "import yaml,sys; print(sum(len(v) for v in yaml.safe_load(open(sys.argv[1])).values()))" "$tmp/shown.yaml")" ] ||
  fail "config keys does not list every key of config show once: $keys"
grep -q "^optimization.lr (number, default 0.001): peak learning rate" <<<"$keys" || fail "config keys: $keys"
expect_error "did you mean data.batch_size" "$bin" config show data.batch_szie=3

# bench --trace: a profiler trace of the timed steps, which bench/trace_summary.py reads.
tiny=$fixtures/official-tiny/params-ijepa.yaml
"$bin" bench --config "$tiny" --steps 2 --warmup 1 --threads 1 --trace "$tmp/trace.json" >/dev/null 2>&1
out=$(python3 "$(dirname "$0")/../../bench/trace_summary.py" "$tmp/trace.json")
grep -q "aten::addmm" <<<"$out" || fail "bench --trace summary: $out"
expect_exit 1 "its folder $tmp/missing does not exist" "$bin" bench --config "$tiny" --trace "$tmp/missing/trace.json"

# masks --stats: the sampler as a distribution, faithful beside corrected; the heat maps as a PNG.
out=$("$bin" masks --stats --config "$tiny" --batches 100 --heatmaps "$tmp/stats.png" \
      --compare mask.position_mode=corrected)
grep -q "context after truncation" <<<"$out" || fail "masks --stats table: $out"
edge=$(grep "last row/column is a target" <<<"$out")
awk '{ exit !($(NF-1) == 0 && $NF > 0.05) }' <<<"$edge" || fail "faithful never targets the last row/column, corrected does: $edge"
[ "$(head -c 4 "$tmp/stats.png" | tail -c 3)" = "PNG" ] || fail "masks --stats heat maps PNG"
# ... and the block sizes each setting can draw (an 8x8 grid makes [0.7, 1.0] one 7x7 context size).
out=$("$bin" masks --stats data.crop_size=32 mask.patch_size=4 mask.min_keep=4 mask.enc_mask_scale=[0.7,1.0] --batches 2)
grep -q "context 7x7 (one size over enc_mask_scale \[0.7, 1\])" <<<"$out" || fail "masks --stats block sizes: $out"
# viz: attention and predictor figures from the reference checkpoint with only the four options
# (its config is the params-ijepa.yaml beside it).
"$bin" viz attention --checkpoint "$fixtures/official-tiny/checkpoint.pth.tar" \
  --image "$fixtures/official-tiny/images/001.png" --out "$tmp/attn.png" >"$tmp/viz.log" || fail "viz attention: $(cat "$tmp/viz.log")"
[ "$(head -c 4 "$tmp/attn.png" | tail -c 3)" = "PNG" ] || fail "viz attention PNG"
"$bin" viz predictor --checkpoint "$fixtures/official-tiny/checkpoint.pth.tar" \
  --image "$fixtures/official-tiny/images/001.png" --out "$tmp/pred.png" >"$tmp/viz.log" || fail "viz predictor: $(cat "$tmp/viz.log")"
grep -q "mean cos(prediction, target)" "$tmp/viz.log" || fail "viz predictor summary: $(cat "$tmp/viz.log")"
"$bin" viz predictor --checkpoint "$fixtures/official-tiny/checkpoint.pth.tar" --image fashion-mnist:test#3 \
  --bank fashion-mnist:test --bank-images 50 --context 0,0,4,8 --target 5,1,2,3 --out "$tmp/pred2.png" >"$tmp/viz.log" \
  || fail "viz predictor with drawn blocks: $(cat "$tmp/viz.log")"
grep -q "context 32 patches, 1 target blocks" "$tmp/viz.log" || fail "drawn blocks: $(cat "$tmp/viz.log")"
expect_error "no such file" "$bin" viz attention --checkpoint "$fixtures/official-tiny/checkpoint.pth.tar" --image "$tmp/none.png" --out "$tmp/x.png"
expect_error "out of range" "$bin" viz attention --checkpoint "$fixtures/official-tiny/checkpoint.pth.tar" --image "$fixtures/official-tiny/images/001.png" --out "$tmp/x.png" --layer 5
expect_error "inside the 8x8 patch grid" "$bin" viz predictor --checkpoint "$fixtures/official-tiny/checkpoint.pth.tar" --image "$fixtures/official-tiny/images/001.png" --out "$tmp/x.png" --target 7,7,3,3

head -c 1000 "$fixtures/official-tiny/checkpoint.pth.tar" > "$tmp/cut.pth.tar"
expect_error cut.pth.tar "$bin" info "$tmp/cut.pth.tar"
# train: a short run on Fashion-MNIST writes the CSV, TensorBoard events (read back by an
# independent parser) and a checkpoint; bad input exits 2 naming the file or key.
train=("$bin" train --limit 64 data.batch_size=16 data.crop_size=32 mask.patch_size=4
       mask.min_keep=4 meta.embed_dim=64 meta.depth=2 meta.num_heads=2 meta.pred_emb_dim=32 meta.pred_depth=1
       optimization.epochs=1 --image-every 2 --diagnostics-images 200 --probe-database 500 --final-knn false -q)
"${train[@]}" --data fashion-mnist --out "$tmp/run" 2>"$tmp/train.log" || fail "train: $(cat "$tmp/train.log")"
grep -q "finished at iteration 4" "$tmp/train.log" || fail "train summary: $(cat "$tmp/train.log")"
[ "$(head -1 "$tmp/run/jepa_r0.csv")" = "epoch,itr,loss,mask-A,mask-B,time (ms),lr,wd,momentum,img/s,rankme,feat_std,probe_knn,jepa_loss,sigreg_loss,sigreg_stat,settings" ] || fail "CSV header"
[ "$(wc -l < "$tmp/run/jepa_r0.csv")" -eq 5 ] || fail "CSV rows"
events=$(python3 "$(dirname "$0")/../python/check_events.py" "$tmp"/run/tb/events.out.tfevents.*) || fail "event file"
grep -q "images 3 histograms 1" <<<"$events" || fail "mask images (2), the predictor's loss map (1) and the spectrum in TensorBoard: $events"
grep -q "probe/knn_top1 " <<<"$events" || fail "probe scalar in TensorBoard: $events"
grep -q "probe/knn_top1_context" <<<"$events" || fail "the context encoder's probe scalar in TensorBoard: $events"
# The online probe at the last step: a k-NN top-1 in the CSV's last column, above chance (10 classes).
tail -1 "$tmp/run/jepa_r0.csv" | awk -F, '{ exit !($13 > 0.1 && $13 <= 1) }' || fail "probe_knn: $(tail -1 "$tmp/run/jepa_r0.csv")"
/usr/bin/python3 - "$tmp/run/jepa-latest.pth.tar" <<'PY' || fail "checkpoint loads in PyTorch"
import sys, torch
c = torch.load(sys.argv[1], map_location="cpu")
assert c["epoch"] == 1 and c["ijepa"]["iteration"] == 4, (c["epoch"], c["ijepa"])
PY
expect_error "pass --resume" "${train[@]}" --data fashion-mnist --out "$tmp/run"
# Every file name a file system allows: a newline, a tab, a backslash, a leading dash, bytes that
# are not UTF-8, 240 characters; in the data, in --out and in a parent's path. Nothing reaches
# "internal error" (a JSON writer refused the bytes), and files.txt keeps one line per image.
names="$tmp/names"$'\xff'; mkdir -p "$names/cls_a" "$names/cls b"
i=0
for n in "plain" "with space" $'new\nline' "-dash" $'bad\xfe' 'back\slash' $'tab\there' "$(printf 'x%.0s' $(seq 240))"; do
  i=$((i + 1)); for c in cls_a "cls b"; do cp "$fixtures/official-tiny/images/00$((i % 4)).png" "$names/$c/$n.png"; done
done
"$bin" train -c "$tiny" --data "$names" --max-steps 2 --out "$names/run"$'\n' --final-knn false -q 2>"$tmp/names.log" \
  || fail "train on odd file names: $(cat "$tmp/names.log")"
"$bin" train -c "$tiny" --data "$names" --max-steps 3 --branch-from "$names/run"$'\n'/jepa-latest.pth.tar \
  --out "$tmp/names-branch" --final-knn false -q 2>"$tmp/names.log" || fail "branch from an odd path: $(cat "$tmp/names.log")"
/usr/bin/python3 -c "import json, sys; json.load(open(sys.argv[1]))" "$tmp/names-branch/run.json" || fail "run.json with a non-UTF-8 parent"
"$bin" embed --checkpoint "$fixtures/official-tiny/checkpoint.pth.tar" --data "$names" --out "$tmp/names-emb" --projector "$tmp/names-proj" -q >/dev/null \
  || fail "embed odd file names"
[ "$(wc -l < "$tmp/names-emb.files.txt")" -eq 16 ] || fail "files.txt: one line per image: $(cat "$tmp/names-emb.files.txt")"
grep -q 'new\\nline.png' "$tmp/names-emb.files.txt" || fail "files.txt escapes a newline"
[ "$(wc -l < "$tmp/names-proj/metadata.tsv")" -eq 17 ] || fail "metadata.tsv: one line per image and a header"
# Every checkpoint field a user's file can get wrong is a message naming the key (exit 2), never
# "internal error" or a run that diverges later: negative counters, NaN/inf or integer weights,
# an optimiser whose step is negative or whose state is missing, an unknown number format.
/usr/bin/python3 - "$tmp/run/jepa-latest.pth.tar" "$tmp/bad" <<'PY' || fail "writing the bad checkpoints"
import copy, os, sys, torch
c = torch.load(sys.argv[1], map_location="cpu")
os.makedirs(sys.argv[2], exist_ok=True)
first = next(iter(c["encoder"]))
state = next(iter(c["opt"]["state"]))
def bad(name, change):
    d = copy.deepcopy(c); change(d); torch.save(d, os.path.join(sys.argv[2], name + ".pth.tar"))
bad("epoch", lambda d: d.__setitem__("epoch", -5))
bad("iteration", lambda d: d["ijepa"].__setitem__("iteration", -7))
bad("nan", lambda d: d["encoder"][first].fill_(float("nan")))
bad("inf", lambda d: next(iter(d["target_encoder"].values())).fill_(float("inf")))
bad("long", lambda d: d["encoder"].__setitem__(first, d["encoder"][first].long()))
bad("step", lambda d: d["opt"]["state"][state].__setitem__("step", torch.tensor(-3.0)))
bad("moments", lambda d: d["opt"]["state"][state]["exp_avg_sq"].fill_(-1.0))
bad("opt", lambda d: d.__setitem__("opt", {}))
bad("precision", lambda d: d["ijepa"].__setitem__("precision", "fp8"))
PY
while read -r name fragment; do
  expect_error "$fragment" "${train[@]}" --data fashion-mnist --out "$tmp/bad/$name" --resume-from "$tmp/bad/$name.pth.tar" optimization.epochs=3
done <<CASES
epoch key 'epoch': -5
iteration key 'ijepa.iteration': -7
nan holds NaN or infinite values
inf key 'target_encoder': tensor
long holds Long values
step must be a finite count, 0 or more
moments holds negative values
opt key 'opt': optimiser state lacks
precision key 'ijepa.precision'
CASES
"$bin" info "$tmp/bad/opt.pth.tar" | grep -q "optimiser    unreadable" || fail "info on a checkpoint without optimiser state"
# --branch-from: a new run from that checkpoint with a changed setting, its parent recorded.
"${train[@]}" --data fashion-mnist --branch-from "$tmp/run/jepa-latest.pth.tar" --out "$tmp/branch" \
  optimization.epochs=2 optimization.lr=0.0005 2>"$tmp/branch.log" || fail "branch: $(cat "$tmp/branch.log")"
python3 - "$tmp/branch" "$tmp/run/jepa-latest.pth.tar" <<'PY' || fail "branch run.json"
import json, os, sys
meta = json.load(open(os.path.join(sys.argv[1], "run.json")))
assert meta["parent"] == os.path.abspath(sys.argv[2]) and meta["branch_step"] == 4, meta
assert meta["status"] == "finished", meta
assert meta["name"] == "run @4 epochs=2 lr=5e-04", meta["name"]  # its parent's name, step and changes
rows = open(os.path.join(sys.argv[1], "jepa_r0.csv")).read().splitlines()[1:]
assert [r.split(",")[:2] for r in rows] == [["2", "0"], ["2", "1"], ["2", "2"], ["2", "3"]], rows
PY
grep -Eq "^  lr: (0.0005|5(\.0+)?e-0?4)$" "$tmp/branch/params-ijepa.yaml" || fail "branch config: $(cat "$tmp/branch/params-ijepa.yaml")"
expect_error "the parent run's folder" "${train[@]}" --data fashion-mnist --branch-from "$tmp/run/jepa-latest.pth.tar" --out "$tmp/run"
expect_error "no such folder" "${train[@]}" --out "$tmp/r2" --data "$tmp/missing"
mkdir -p "$tmp/empty"; echo "text" > "$tmp/empty/readme.txt"
expect_error "no images" "${train[@]}" --out "$tmp/r2" --data "$tmp/empty"
expect_error "optimization.lr" "${train[@]}" --data fashion-mnist --out "$tmp/r2" optimization.lr=-1
expect_error "no checkpoint to resume" "${train[@]}" --data fashion-mnist --out "$tmp/r3" --resume
expect_error "no CUDA device" "${train[@]}" --data fashion-mnist --out "$tmp/r2" --device cuda
# Reliability: sizes no machine can train name the key; a second writer on a run folder is refused
# at once, naming the first; a full disk is a message and exit 5, with no temp file left.
expect_error "data.crop_size 100000" "${train[@]}" --data fashion-mnist --out "$tmp/big" data.crop_size=100000
"${train[@]}" --data fashion-mnist --out "$tmp/locked" optimization.epochs=200 --checkpoint-every 1000 2>/dev/null &
first=$!
for _ in $(seq 300); do [ -s "$tmp/locked/jepa_r0.csv" ] && break; sleep 0.1; done
expect_error "in use by another run (process $first)" "${train[@]}" --data fashion-mnist --out "$tmp/locked" --resume
kill -TERM $first; wait $first || true
[ -s "$tmp/locked/jepa-latest.pth.tar" ] || fail "the first writer's checkpoint"
mkdir -p "$tmp/full"
if mount -t tmpfs -o size=2m tmpfs "$tmp/full" 2>/dev/null; then
  expect_exit 5 "No space left on device" "${train[@]}" --data fashion-mnist --out "$tmp/full/run"
  ls "$tmp/full/run" | grep -q "tmp" && { umount "$tmp/full"; fail "a temp file was left on the full disk"; }
  umount "$tmp/full"
else
  echo "test_cli: no tmpfs mount here (not root?): the full-disk case is covered by test_checkpoint's injected failure"
fi
# A file-size limit (a scheduler's ulimit -f, or a disk that fills) cuts a log write short: exit 5
# naming the file, and the CSV and the event file hold whole rows and records only.
expect_exit 5 "cannot write: File too large" prlimit --fsize=4000 "$bin" train --data fashion-mnist --limit 1024 \
  data.batch_size=16 data.crop_size=32 mask.patch_size=4 mask.min_keep=4 meta.embed_dim=64 meta.depth=2 meta.num_heads=2 \
  meta.pred_emb_dim=32 meta.pred_depth=1 optimization.epochs=1 --max-steps 60 --checkpoint-every 1000 --image-every 0 \
  --final-knn false -q --out "$tmp/fsize"
python3 - "$tmp/fsize/jepa_r0.csv" <<'PY' || fail "rows cut short by the limit: $(tail -c 300 "$tmp/fsize/jepa_r0.csv")"
import sys
text = open(sys.argv[1]).read()
assert text.endswith("\n"), "torn last row"
rows = text.splitlines()
assert len(rows) > 5 and all(r.count(",") == 16 for r in rows), rows[-1]
PY
python3 "$(dirname "$0")/../python/check_events.py" "$tmp"/fsize/tb/events.out.tfevents.* >/dev/null || fail "event file after the limit"
# Data parallel (c10d Gloo): 2 local ranks; only rank 0 writes; the checkpoint records world_size 2.
rank=("$bin" train --data fashion-mnist --limit 64 --threads 1 data.batch_size=8 data.num_workers=1
      data.crop_size=32 mask.patch_size=4 mask.min_keep=4 meta.embed_dim=64 meta.depth=2 meta.num_heads=2
      meta.pred_emb_dim=32 meta.pred_depth=1 --final-knn false --diagnostics-images 100 --probe-database 200)
ddp=("${rank[@]}" --nproc 2)
"${ddp[@]}" --out "$tmp/ddp" --max-steps 3 >"$tmp/ddp.log" 2>&1 || { cat "$tmp/ddp.log"; fail "train --nproc 2"; }
grep -q "rank 1 of 2 (gloo)" "$tmp/ddp.log" || fail "rank 1 did not join: $(cat "$tmp/ddp.log")"
[ "$(grep -c 'reached its step limit' "$tmp/ddp.log")" = 1 ] || fail "not exactly one rank reported: $(cat "$tmp/ddp.log")"
[ "$(wc -l <"$tmp/ddp/jepa_r0.csv")" = 4 ] || fail "ddp CSV: $(cat "$tmp/ddp/jepa_r0.csv")"
/usr/bin/python3 -c "import sys, torch; c = torch.load(sys.argv[1], map_location='cpu'); assert c['world_size'] == 2 and c['epoch'] == 0, c.keys()" \
  "$tmp/ddp/jepa-latest.pth.tar" || fail "ddp checkpoint world_size"
# The same under PyTorch's own torchrun (Debian's python3-torch): its agent serves the c10d store
# (TORCHELASTIC_USE_AGENT_STORE), so no rank may bind MASTER_PORT itself. `-r 1 -t 1`: the default
# redirect setting of torch 1.13's launcher fails on Python 3.11.
port=$(python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
/usr/bin/python3 -m torch.distributed.run --nproc_per_node 2 --master_port "$port" -r 1 -t 1 --log_dir "$tmp/trlog" \
  --no_python "${rank[@]}" --max-steps 2 --out "$tmp/trun" >"$tmp/trun.log" 2>&1 || { cat "$tmp/trun.log"; fail "torchrun"; }
grep -q "rank 1 of 2 (gloo)" "$tmp/trun.log" || fail "torchrun: rank 1 did not join: $(cat "$tmp/trun.log")"
[ "$(wc -l <"$tmp/trun/jepa_r0.csv")" = 3 ] || fail "torchrun CSV: $(cat "$tmp/trun/jepa_r0.csv")"
# A rank that dies ends the others with a message instead of a hang.
"${ddp[@]}" --out "$tmp/ddp2" optimization.epochs=100000 >"$tmp/ddp2.log" 2>&1 &
launcher=$!
for _ in $(seq 100); do [ -s "$tmp/ddp2/jepa_r0.csv" ] && [ "$(wc -l <"$tmp/ddp2/jepa_r0.csv")" -gt 2 ] && break; sleep 0.2; done
rank1=$(pgrep -P "$launcher" | sort -n | tail -1)
kill -9 "$rank1"
start=$(date +%s)
set +e; wait "$launcher"; rc=$?; set -e
[ "$rc" -ne 0 ] || fail "launcher exited 0 after a rank died"
[ $(( $(date +%s) - start )) -lt 30 ] || fail "the other rank took more than 30 s to end"
grep -q "rank 1 was killed by signal 9" "$tmp/ddp2.log" || fail "no message about the dead rank: $(cat "$tmp/ddp2.log")"
# embed / eval: features from the checkpoint just trained, read back by NumPy; baselines; errors.
"$bin" embed --checkpoint "$tmp/run/jepa-latest.pth.tar" --data fashion-mnist:test --limit 50 --out "$tmp/emb" --patches -q >/dev/null
/usr/bin/python3 - "$tmp/emb" <<'PY' || fail "embed .npy files"
import sys, numpy as np
f = np.load(sys.argv[1] + ".npy"); l = np.load(sys.argv[1] + ".labels.npy")
assert f.shape == (50, 64) and f.dtype == np.float32, (f.shape, f.dtype)
assert l.shape == (50,) and l[0] == 9 and l[1] == 2, l[:2]
assert len(open(sys.argv[1] + ".files.txt").read().split()) == 50
assert np.isfinite(f).all()
p = np.load(sys.argv[1] + ".patches.npy")  # 8x8 patch tokens; the features are their mean
assert p.shape == (50, 64, 64), p.shape
assert np.abs(p.mean(1) - f).max() < 1e-5
PY
expect_error "needs an encoder" "$bin" embed --pixels --patches --out "$tmp/x" -q
# Export, then a new run from the export (--init-from), then the features of both agree: the
# run at step 0 is the exported encoder (its first checkpoint is after step 1, so compare embed
# of the export with embed of the source checkpoint); a file of another width is refused by key.
"$bin" export "$tmp/run/jepa-latest.pth.tar" --to hf --out "$tmp/hf" >/dev/null || fail "export --to hf"
"$bin" embed --checkpoint "$tmp/hf" --data fashion-mnist:test --limit 50 --out "$tmp/emb-hf" -q >/dev/null || fail "embed an export"
/usr/bin/python3 -c "import sys, numpy as np; a, b = (np.load(f) for f in sys.argv[1:3]); assert np.abs(a - b).max() < 1e-6, np.abs(a - b).max()" \
  "$tmp/emb.npy" "$tmp/emb-hf.npy" || fail "an export's features differ from its checkpoint's"
out=$("$bin" train --data fashion-mnist --limit 64 --out "$tmp/init" --init-from "$tmp/hf" --max-steps 1 -q \
  --diagnostics-every 0 -c "$tmp/run/params-ijepa.yaml" 2>&1) || fail "train --init-from: $out"
grep -q "initialised from $tmp/hf: encoder and target encoder (predictor fresh)" <<<"$out" || fail "no init message: $out"
expect_error "pos_embed" "$bin" train --data fashion-mnist --limit 64 --out "$tmp/init2" --init-from "$tmp/hf" --max-steps 1 -q \
  --diagnostics-every 0 -c "$tmp/run/params-ijepa.yaml" meta.embed_dim=32
# Thread counts have a bound, checked at parse time (thousands would hang LibTorch's pool).
for cmd in "train --data fashion-mnist" "bench" "bench data --data fashion-mnist" "eval knn --pixels" "embed --pixels --out x"; do
  err=$("$bin" $cmd --threads 1000 2>&1) && fail "$cmd --threads 1000 was accepted"
  grep -q "threads" <<<"$err" || fail "$cmd --threads 1000 should name --threads: $err"
done
# Every numeric option has a range, checked at parse time: exit 1 naming the option and the range
# (a negative count used to mean "all" or "the default" silently; huge ones hung or crashed).
ck=$fixtures/official-tiny/checkpoint.pth.tar img=$fixtures/official-tiny/images/001.png
while read -r value cmd; do
  rc=0; err=$("$bin" ${cmd//V/$value} 2>&1) || rc=$?
  opt=$(grep -o -- "--[a-z-]* V" <<<"$cmd" | cut -d' ' -f1)
  [ $rc -eq 1 ] && grep -q -- "$opt: Value $value not in range" <<<"$err" || fail "'${cmd//V/$value}': exit $rc: $err"
done <<OPTIONS
-7 bench --steps V
99999999999 bench --warmup V
-1 eval knn --pixels --limit-train V
-1 eval knn --pixels --limit-test V
2 eval knn --pixels --split V
0 eval knn --pixels --k V
-3 eval knn --pixels --layers V
0 eval linear --pixels --iterations V
-1 embed --pixels --out x --limit V
0 bench index --n V
70000 bench index --dim V
-1 bench index --queries V
-2 masks --batches V
-1 masks --iteration V
-1 train --data fashion-mnist --limit V
-1 train --data fashion-mnist --max-steps V
-1 train --data fashion-mnist --checkpoint-every V
0 train --data fashion-mnist --log-every V
200000 train --data fashion-mnist --diagnostics-images V
-1 train --data fashion-mnist --nproc V
-2 viz attention --checkpoint $ck --image $img --out x.png --head V
-5 viz attention --checkpoint $ck --image $img --out x.png --query V
0 viz predictor --checkpoint $ck --image $img --out x.png --bank-images V
OPTIONS
expect_error "more neighbours than --n 5" "$bin" bench index --n 5 --k 20
# Every path option given an empty name, a folder where a file goes, a file where a folder goes or
# a missing folder: exit 1 or 2 naming it, never "internal error".
mkdir -p "$tmp/adir"; : > "$tmp/afile"
expect_exit 1 "an empty name" "$bin" masks --png ""
expect_exit 1 "$tmp/adir is a folder" "$bin" masks --json "$tmp/adir"
expect_exit 1 "its folder $tmp/nope does not exist" "$bin" viz attention --checkpoint "$ck" --image "$img" --out "$tmp/nope/a.png"
expect_exit 1 "$tmp/afile is a file" "$bin" train --data fashion-mnist --out "$tmp/afile"
expect_error "cannot write the masks PNG" "$bin" masks --png "$tmp/masks.pngx"
expect_error "is a folder; --to safetensors writes a file" "$bin" export "$ck" --to safetensors --out "$tmp/adir"
expect_error "is a file; --to hf writes a folder" "$bin" export "$ck" --to hf --out "$tmp/afile"
expect_error "$tmp/adir: is a folder, not a file" "$bin" info "$tmp/adir"
expect_error "an empty name" "$bin" info ""
# Every command that builds a model or samples masks checks the memory first: a config no machine
# can hold names its keys (exit 2), it does not end in "can't allocate" (exit 3) or the OOM killer.
sed -e "s/crop_size: 64/crop_size: 100000/" -e "s/batch_size: 4/batch_size: 256/" "$tiny" > "$tmp/huge.yaml"
expect_error "data.crop_size gives a 12500x12500 patch grid" "$bin" masks -c "$tmp/huge.yaml"
expect_error "data.crop_size 100000" "$bin" bench -c "$tmp/huge.yaml" --steps 1
expect_error "data.crop_size 100000" "$bin" eval knn --checkpoint "$ck" -c "$tmp/huge.yaml" --limit-train 10 --limit-test 10
expect_error "data.crop_size 100000" "$bin" embed --checkpoint "$ck" -c "$tmp/huge.yaml" --out "$tmp/huge" --limit 5
expect_error "data.crop_size 100000" "$bin" export "$ck" -c "$tmp/huge.yaml" --to safetensors --out "$tmp/huge.safetensors"
expect_error "data.crop_size 100000" "$bin" viz predictor --checkpoint "$ck" -c "$tmp/huge.yaml" --image "$img" --out "$tmp/x.png"
# Embedding Projector export: 50 rows, a metadata header, a 8x8 sprite of 64-pixel thumbnails.
"$bin" embed --checkpoint "$tmp/run/jepa-latest.pth.tar" --data fashion-mnist:test --limit 50 --out "$tmp/emb2" \
  --projector "$tmp/proj" -q >/dev/null || fail "embed --projector"
/usr/bin/python3 - "$tmp/proj" "$tmp/emb" <<'PY' || fail "projector files"
import sys, struct, numpy as np
d = sys.argv[1]
t = np.loadtxt(d + "/tensors.tsv", delimiter="\t")
assert t.shape == (50, 64), t.shape
assert np.allclose(t, np.load(sys.argv[2] + ".npy"), atol=1e-4)
m = open(d + "/metadata.tsv").read().splitlines()
assert m[0] == "label\tfile" and len(m) == 51 and m[1].startswith("Ankle boot\t"), m[:2]
png = open(d + "/sprite.png", "rb").read(32)
w, h = struct.unpack(">II", png[16:24])
assert (w, h) == (8 * 64, 8 * 64), (w, h)
c = open(d + "/projector_config.pbtxt").read()
assert 'tensor_path: "tensors.tsv"' in c and "single_image_dim: 64" in c and "tensor_shape: 50" in c, c
PY
knn=$("$bin" eval knn --pixels --limit-train 1000 --limit-test 200 -q)
grep -q "knn: k=20 T=0.07 top-1" <<<"$knn" || fail "eval knn: $knn"
lin=$("$bin" eval linear --checkpoint "$tmp/run/jepa-latest.pth.tar" --limit-train 300 --limit-test 100 --iterations 20 -q)
grep -q "linear: weight decay" <<<"$lin" || fail "eval linear: $lin"
expect_error "exactly one of" "$bin" eval knn --pixels --random-init
# A reference checkpoint carries no config: the params-ijepa.yaml beside it is used, else --config.
cp "$fixtures/official-tiny/checkpoint.pth.tar" "$tmp/lone.pth.tar"
expect_error "pass --config" "$bin" embed --checkpoint "$tmp/lone.pth.tar" --out "$tmp/x" -q
"$bin" embed --checkpoint "$fixtures/official-tiny/checkpoint.pth.tar" -c "$fixtures/official-tiny/params-ijepa.yaml" \
  --data "$fixtures/official-tiny/images" --out "$tmp/ref" -q >/dev/null || fail "embed with a reference checkpoint"
expect_error "class sub-folders" "$bin" eval knn --pixels --train "$fixtures/official-tiny/images" --split 0.5
echo "cli: all checks passed"
