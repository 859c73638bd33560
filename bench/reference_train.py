#!/usr/bin/env python3
"""Trains the reference code (facebookresearch/ijepa) on Fashion-MNIST for a budget, for the quality
benchmark's reference row (bench/quality.sh with QUALITY_REFERENCE).

Usage: /usr/bin/python3 bench/reference_train.py REFERENCE_CHECKOUT CONFIG.yaml OUT
           (--steps N | --minutes M) [--seed S] [--threads T] [--bf16] [key=value ...]
The reference's own model, initialisation, optimiser and schedules (src.helper), masks
(src.masks.multiblock) and transforms (src.transforms: RandomResizedCrop, ToTensor, Normalize), and
src/train.py's step: target forward + layer_norm + apply_masks, context forward, predictor,
smooth-L1, backward, AdamW, the EMA loop. What differs: Fashion-MNIST (grey images as RGB) instead
of an ImageFolder, no DDP wrapper (one process), the seed from --seed (the reference fixes 0), a
budget in steps or wall-clock minutes (counted from the start, as `timeout` counts ours), and our
extensions of the schema: meta.embed_dim/depth/num_heads honoured, a `loss` section (SIGReg) left
out. --bf16 puts the forward passes under torch.autocast("cpu", bfloat16); without it the step is
fp32, as src/train.py on a CPU.
Writes OUT/params-ijepa.yaml, OUT/jepa_r0.csv and OUT/jepa-latest.pth.tar (the reference's keys),
and prints a last line: `reference: N steps in S s, final loss L`.
"""
import argparse, copy, csv, gzip, os, random, sys, time
import numpy as np
import torch
import yaml
from PIL import Image

START = time.monotonic()
ap = argparse.ArgumentParser()
ap.add_argument("ref"); ap.add_argument("config"); ap.add_argument("out")
budget = ap.add_mutually_exclusive_group(required=True)
budget.add_argument("--steps", type=int); budget.add_argument("--minutes", type=float)
ap.add_argument("--seed", type=int, default=0); ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--bf16", action="store_true"); ap.add_argument("overrides", nargs="*")
ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
a = ap.parse_intermixed_args()
sys.path.insert(0, a.ref)
import logging
logging.disable(logging.INFO)  # the reference logs its whole model
from src.helper import init_opt
from src.masks.multiblock import MaskCollator
from src.transforms import make_transforms
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_step import reference_model, reference_step

cfg = yaml.safe_load(open(a.config))
if cfg.pop("loss", None):  # our extension (SIGReg): the reference trains with its own loss
    print("reference_train: the config's loss section is ours; the reference trains without it", flush=True)
# Our mask extensions: the reference's behaviour is their default, anything else it cannot do.
OURS = {"mask.sampler": "multiblock", "mask.position_mode": "faithful", "mask.truncation": "prefix"}
for kv in a.overrides:
    key, _, value = kv.partition("=")
    section, _, name = key.partition(".")
    if section not in ("data", "mask", "meta", "optimization") or not name:
        sys.exit(f"reference_train: the reference has no key '{key}'")
    if key in OURS and yaml.safe_load(value) != OURS[key]:
        sys.exit(f"reference_train: '{key}' is ours; the reference only does {OURS[key]}")
    cfg[section][name] = yaml.safe_load(value)
d, m, mk, o = cfg["data"], cfg["meta"], cfg["mask"], cfg["optimization"]
m["seed"] = a.seed
os.makedirs(a.out, exist_ok=True)
yaml.safe_dump(cfg, open(os.path.join(a.out, "params-ijepa.yaml"), "w"))
if a.threads > 0:
    torch.set_num_threads(a.threads)
random.seed(a.seed); np.random.seed(a.seed); torch.manual_seed(a.seed)


def read_idx(path):
    with gzip.open(path) as f:
        raw = f.read()
    return np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)


class FashionMnist(torch.utils.data.Dataset):
    def __init__(self, transform):
        self.images, self.transform = read_idx(os.path.join(a.data, "train-images-idx3-ubyte.gz")), transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i]).convert("RGB")), 0


encoder, predictor = reference_model(cfg, torch.device("cpu"))
target = copy.deepcopy(encoder)
for p in target.parameters():
    p.requires_grad = False
collator = MaskCollator(input_size=d["crop_size"], patch_size=mk["patch_size"], pred_mask_scale=mk["pred_mask_scale"],
                        enc_mask_scale=mk["enc_mask_scale"], aspect_ratio=mk["aspect_ratio"], nenc=mk["num_enc_masks"],
                        npred=mk["num_pred_masks"], allow_overlap=mk["allow_overlap"], min_keep=mk["min_keep"])
dataset = FashionMnist(make_transforms(crop_size=d["crop_size"], crop_scale=d["crop_scale"]))
sampler = torch.utils.data.distributed.DistributedSampler(dataset, num_replicas=1, rank=0, shuffle=True, seed=a.seed)
loader = torch.utils.data.DataLoader(dataset, batch_size=d["batch_size"], sampler=sampler, collate_fn=collator,
                                     num_workers=d["num_workers"], drop_last=True, persistent_workers=d["num_workers"] > 0)
ipe = len(loader)
optimizer, _, scheduler, wd_scheduler = init_opt(
    encoder=encoder, predictor=predictor, wd=float(o["weight_decay"]), final_wd=float(o["final_weight_decay"]),
    start_lr=o["start_lr"], ref_lr=o["lr"], final_lr=o["final_lr"], iterations_per_epoch=ipe, warmup=o["warmup"],
    num_epochs=o["epochs"], ipe_scale=o["ipe_scale"], use_bfloat16=False)
total = int(ipe * o["epochs"] * o["ipe_scale"])
momentum = (o["ema"][0] + i * (o["ema"][1] - o["ema"][0]) / total for i in range(total + 1))
autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16)


def step(imgs, masks_enc, masks_pred):
    scheduler.step(); wd_scheduler.step()
    return float(reference_step(encoder, predictor, target, optimizer, imgs, masks_enc, masks_pred, next(momentum),
                                autocast))


def save(epoch, loss):
    state = {"encoder": encoder.state_dict(), "predictor": predictor.state_dict(),
             "target_encoder": target.state_dict(), "opt": optimizer.state_dict(), "scaler": None,
             "epoch": epoch, "loss": loss, "batch_size": d["batch_size"], "world_size": 1, "lr": o["lr"]}
    path = os.path.join(a.out, "jepa-latest.pth.tar")
    torch.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)


def out_of_budget(steps):
    if a.steps is not None:
        return steps >= a.steps
    return time.monotonic() - START >= a.minutes * 60


steps, loss, epoch = 0, float("nan"), 0
steady = None  # when the third step began: img/s over the rest, data waits included (as ijepa train's)
with open(os.path.join(a.out, "jepa_r0.csv"), "w", newline="") as f:
    log = csv.writer(f)
    log.writerow(["epoch", "itr", "loss", "mask-A", "mask-B", "time (ms)"])
    while epoch < o["epochs"] and not out_of_budget(steps):
        sampler.set_epoch(epoch)
        for itr, (udata, masks_enc, masks_pred) in enumerate(loader):
            t0 = time.monotonic()
            if steps == 2:
                steady = t0
            loss = step(udata[0], masks_enc, masks_pred)
            steps += 1
            log.writerow([epoch + 1, itr, f"{loss:.5f}", len(masks_enc[0][0]), len(masks_pred[0][0]),
                          int((time.monotonic() - t0) * 1000)])
            if out_of_budget(steps):
                break
        epoch += 1
        save(epoch, loss)
ips = (steps - 2) * d["batch_size"] / (time.monotonic() - steady) if steady and steps > 2 else float("nan")
print(f"reference: {steps} steps in {time.monotonic() - START:.0f} s, {ips:.1f} img/s (the first two steps excluded),"
      f" final loss {loss:.5f}{' (bf16 autocast)' if a.bf16 else ' (fp32)'}", flush=True)
