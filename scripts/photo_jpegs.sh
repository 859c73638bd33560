#!/usr/bin/env bash
# Makes a folder of natural-photo JPEGs at camera-like size for data-path benchmarks and the 224 px
# config: random 4:3 crops of the colour photos scikit-image ships in Debian's python3-skimage, one
# class folder per photo, resized to WIDTHxHEIGHT (default 500x375) and saved at quality 90 with
# PIL (python3-pil). Deterministic (seed 0). Needs apt (the package is downloaded, not installed).
# Usage: scripts/photo_jpegs.sh OUT [COUNT] [WIDTHxHEIGHT]     (COUNT default 2000)
set -euo pipefail
out=${1:?usage: scripts/photo_jpegs.sh OUT [COUNT] [WIDTHxHEIGHT]}
count=${2:-2000}
size=${3:-500x375}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download python3-skimage >/dev/null 2>&1) || { apt-get update >/dev/null; (cd "$work" && apt-get download python3-skimage >/dev/null); }
dpkg -x "$work"/python3-skimage_*.deb "$work/x"
data=$(find "$work/x" -type d -path "*skimage/data" | head -1)
/usr/bin/python3 - "$data" "$out" "$count" "$size" <<'PY'
import os, random, sys
from PIL import Image
data, out, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
w, h = (int(v) for v in size.split("x"))
names = ["astronaut", "chelsea", "coffee", "motorcycle_left", "motorcycle_right", "rocket", "retina",
         "hubble_deep_field", "immunohistochemistry", "colorwheel"]
photos = {}
for n in names:
    for ext in (".png", ".jpg"):
        p = os.path.join(data, n + ext)
        if os.path.exists(p):
            photos[n] = Image.open(p).convert("RGB")
rng = random.Random(0)
for i in range(count):
    name = list(photos)[i % len(photos)]
    img = photos[name]
    cw = rng.randint(img.width // 3, img.width)
    ch = min(img.height, int(cw * h / w))
    cw = int(ch * w / h)
    x, y = rng.randint(0, img.width - cw), rng.randint(0, img.height - ch)
    os.makedirs(os.path.join(out, name), exist_ok=True)
    img.crop((x, y, x + cw, y + ch)).resize((w, h), Image.BILINEAR).save(
        os.path.join(out, name, f"{name}_{i:06d}.jpg"), quality=90)
print(f"photo jpegs: {count} images of {w}x{h} in {len(photos)} class folders under {out}")
PY
