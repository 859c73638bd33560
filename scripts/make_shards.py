#!/usr/bin/env python3
"""Turns an image folder into tar shards in the WebDataset layout, for `--data 'OUT-{000000..N}.tar'`.

Usage: python3 scripts/make_shards.py DIR OUT_PREFIX [--per-shard N] [--seed S]
Each sample is a member KEY.<ext> (the image file's bytes, unchanged: .jpg, .jpeg, .png or .webp)
and, when DIR has class sub-folders, KEY.cls holding the class index as text (classes in sorted
order, as torchvision's ImageFolder numbers them). KEY is class/stem with dots made underscores
(WebDataset splits a key from its extension at the first dot). Samples are shuffled with the seed
before they are cut into shards of N (default 1000), so each shard holds a mix of classes.
Writes OUT_PREFIX-000000.tar, ... and prints the --data pattern that names them all.
Standard library only (Debian's python3).
"""
import argparse, io, os, random, sys, tarfile

ap = argparse.ArgumentParser()
ap.add_argument("folder"); ap.add_argument("prefix")
ap.add_argument("--per-shard", type=int, default=1000); ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
if a.per_shard < 1:
    sys.exit("make_shards: --per-shard must be at least 1")
exts = {".jpg", ".jpeg", ".png", ".webp"}
classes = sorted(d for d in os.listdir(a.folder) if os.path.isdir(os.path.join(a.folder, d)))
samples, skipped = [], 0
for root, dirs, files in os.walk(a.folder, followlinks=False):
    dirs.sort()
    rel = os.path.relpath(root, a.folder)
    top = None if rel == "." else rel.split(os.sep)[0]
    for f in sorted(files):
        stem, ext = os.path.splitext(f)
        if ext.lower() not in exts:
            skipped += 1
            continue
        key = (stem if rel == "." else rel.replace(os.sep, "/") + "/" + stem).replace(".", "_")
        samples.append((key, os.path.join(root, f), ext.lower(), classes.index(top) if top in classes else None))
if not samples:
    sys.exit(f"make_shards: no .jpg, .jpeg, .png or .webp images under {a.folder}")
random.Random(a.seed).shuffle(samples)
os.makedirs(os.path.dirname(os.path.abspath(a.prefix)), exist_ok=True)
count = (len(samples) + a.per_shard - 1) // a.per_shard
for s in range(count):
    path = f"{a.prefix}-{s:06d}.tar"
    with tarfile.open(path + ".part", "w", format=tarfile.USTAR_FORMAT) as tar:
        for key, src, ext, label in samples[s * a.per_shard:(s + 1) * a.per_shard]:
            tar.add(src, arcname=key + ext)
            if label is not None:
                data = str(label).encode()
                info = tarfile.TarInfo(key + ".cls"); info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    os.replace(path + ".part", path)
print(f"make_shards: {len(samples)} images in {count} shards ({skipped} other files left out); "
      f"--data '{a.prefix}-{{000000..{count - 1:06d}}}.tar'")
