#!/usr/bin/env python3
"""Times the reference's training data path (facebookresearch/ijepa) on an image folder, for
bench/loader.sh: torchvision's ImageFolder with the reference's make_transforms (RandomResizedCrop,
ToTensor, Normalize) and its MaskCollator, in a torch DataLoader with `workers` processes, as
src/datasets/imagenet1k.py builds it (shuffled, drop_last, persistent workers).

Usage: /usr/bin/python3 bench/reference_loader.py REFERENCE_CHECKOUT CONFIG.yaml DIR WORKERS [BATCHES] [WARMUP]
Prints a last line: `reference data: X img/s`.
"""
import sys, time
import torch
import torchvision
import yaml

ref, config, folder, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
batches = int(sys.argv[5]) if len(sys.argv) > 5 else 20
warmup = int(sys.argv[6]) if len(sys.argv) > 6 else 2
sys.path.insert(0, ref)
import logging
logging.disable(logging.INFO)
from src.masks.multiblock import MaskCollator
from src.transforms import make_transforms

cfg = yaml.safe_load(open(config))
d, mk = cfg["data"], cfg["mask"]
torch.set_num_threads(1)  # each worker process decodes on one thread, as in the reference's runs
collator = MaskCollator(input_size=d["crop_size"], patch_size=mk["patch_size"], pred_mask_scale=mk["pred_mask_scale"],
                        enc_mask_scale=mk["enc_mask_scale"], aspect_ratio=mk["aspect_ratio"], nenc=mk["num_enc_masks"],
                        npred=mk["num_pred_masks"], allow_overlap=mk["allow_overlap"], min_keep=mk["min_keep"])
dataset = torchvision.datasets.ImageFolder(folder, transform=make_transforms(crop_size=d["crop_size"], crop_scale=d["crop_scale"]))
loader = torch.utils.data.DataLoader(dataset, batch_size=d["batch_size"], shuffle=True, collate_fn=collator,
                                     num_workers=workers, drop_last=True, persistent_workers=workers > 0,
                                     pin_memory=False)
it = iter(loader)
done = 0
while done < warmup + batches:
    if done == warmup:
        start = time.monotonic()
    try:
        next(it)
    except StopIteration:  # a small folder: the next epoch (not counted as a batch)
        it = iter(loader)
        continue
    done += 1
seconds = time.monotonic() - start
print(f"reference data: {batches * d['batch_size'] / seconds:.1f} img/s ({batches} batches of {d['batch_size']} in {seconds:.2f} s, {workers} workers)")
