#!/usr/bin/env bash
# Makes a small folder of natural photos for trying the workbench on real images: the colour photos
# scikit-image ships in Debian's python3-skimage (astronaut, cat, coffee, camera man, motorcycles,
# rocket, grass, gravel, brick, coins, moon, Hubble deep field, retina), cut into 128x128 tiles
# (at most 30 from each, 225 images). Needs apt (the package is downloaded, not installed) and ImageMagick.
# Usage: scripts/photo_folder.sh OUT
set -euo pipefail
out=${1:?usage: scripts/photo_folder.sh OUT}
command -v magick >/dev/null || dpkg -s imagemagick >/dev/null 2>&1 || apt-get install -y --no-install-recommends imagemagick
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download python3-skimage >/dev/null 2>&1) || { apt-get update >/dev/null; (cd "$work" && apt-get download python3-skimage >/dev/null); }
dpkg -x "$work"/python3-skimage_*.deb "$work/x"
data=$(find "$work/x" -type d -path "*skimage/data" | head -1)
mkdir -p "$out"
for name in astronaut chelsea coffee camera motorcycle_left motorcycle_right rocket grass gravel brick coins moon \
            hubble_deep_field retina; do
  src=$(ls "$data/$name".* | head -1)
  /usr/bin/convert "$src" -crop 128x128 +repage "$work/tile_%03d.png"
  kept=0
  for t in "$work"/tile_*.png; do
    if [ $kept -lt 30 ] && [ "$(/usr/bin/identify -format '%wx%h' "$t")" = "128x128" ]; then
      mv "$t" "$out/${name}_$(basename "$t" .png | cut -d_ -f2).png"
      kept=$((kept + 1))
    fi
  done
  rm -f "$work"/tile_*.png
done
echo "photo folder: $(ls "$out" | wc -l) images of 128x128 in $out"
