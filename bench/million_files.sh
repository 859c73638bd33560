#!/usr/bin/env bash
# Listing a folder of ImageNet's size and layout: 1,000 class folders of 1,000 files each (hard
# links to one small JPEG per class, so it takes directory entries, not space), then `ijepa bench data` on it: the
# listing's time and resident memory, and a few batches drawn from it.
# Usage: bench/million_files.sh DIR [CLASSES] [PER_CLASS]   (DIR is made; default 1000 x 1000)
set -euo pipefail
dir=${1:?usage: bench/million_files.sh DIR [CLASSES] [PER_CLASS]}
classes=${2:-1000}
per=${3:-1000}
ijepa=${IJEPA:-build/release/app/ijepa}
if [ ! -d "$dir" ]; then
  start=$SECONDS
  /usr/bin/python3 - "$dir" "$classes" "$per" <<'PY'
import os, sys
from PIL import Image
root, classes, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(root)
seeds = root.rstrip("/") + ".seeds"  # beside the folder, not in it; one per class (ext4 allows 65,000 links)
os.makedirs(seeds, exist_ok=True)
for c in range(classes):
    seed = os.path.join(seeds, f"{c}.jpg")
    Image.new("RGB", (500, 375), (c % 256, 90, 60)).save(seed, quality=90)
    d = os.path.join(root, f"n{c:08d}")
    os.mkdir(d)
    for i in range(per):
        os.link(seed, os.path.join(d, f"n{c:08d}_{i}.JPEG"))
PY
  echo "million_files: made $classes x $per links in $((SECONDS - start)) s"
fi
sync
echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true # a cold listing where allowed (root)
/usr/bin/time -f "million_files: peak resident %M KB, %e s in all" \
  "$ijepa" bench data --config configs/photos_224.yaml --data "$dir" --batches 5 --warmup 1 2>&1 | grep -v '^  batch'
