#!/usr/bin/env bash
# Did a change alter the look? Renders one test frame (`farm frame`, RGB PNG) of every shipped
# preset and built-in scene with two farm binaries and compares the decoded pixels: identical,
# or the share of bytes that differ, the largest difference and the PSNR. The PNGs stay in the
# output folder, side by side (NAME.old.png, NAME.new.png), to be looked at.
# Usage: scripts/compare-looks.sh OLD_FARM NEW_FARM [--at S] [--resolution WxH] [--out DIR]
# e.g. build the old binary from a commit with `git worktree add /tmp/old <commit>` and
# `cargo build --release` there, then compare it with target/release/farm.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
[ $# -ge 2 ] || { sed -n 2,8p "$0"; exit 2; }
OLD=$(realpath "$1"); NEW=$(realpath "$2"); shift 2
AT=2.5
RES=1920x1080
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --at) AT="$2"; shift ;;
    --resolution) RES="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/looks.XXXXXX)
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
bash scripts/ensure-ffmpeg.sh >/dev/null
python3 -c "import numpy, PIL" 2>/dev/null || pip install -q numpy pillow >/dev/null 2>&1 || true
SCENES="plasma quote layers rings tunnel fbm matrix-rain fire starfield particles ticker life voronoi spectrum scope attractor"
{
  echo "seed: 7"
  echo "output: looks.mp4"
  echo "segments:"
  for f in "$ROOT"/scenes/*.yaml; do
    n=$(basename "$f" .yaml)
    echo "  - {id: $n, scene: $n, duration: 4, text: FARM RENDERS ASCII}"
  done
  for n in $SCENES; do echo "  - {id: scene-$n, scene: $n, duration: 4, text: FARM RENDERS ASCII}"; done
} > "$OUT/looks.yaml"
cp -r "$ROOT/scenes" "$OUT/"
ids=$(sed -n 's/^  - {id: \([^,]*\),.*/\1/p' "$OUT/looks.yaml")
rgb() { ffmpeg -hide_banner -loglevel error -i "$1" -f rawvideo -pix_fmt rgb24 -; }
echo "| clip | $RES at ${AT} s, production | old vs new |"
echo "|---|---|---|"
same=0; differ=0
for id in $ids; do
  "$OLD" frame "$OUT/looks.yaml" "$id" --at "$AT" -o "$OUT/$id.old.png" --resolution "$RES" --quality production >/dev/null
  "$NEW" frame "$OUT/looks.yaml" "$id" --at "$AT" -o "$OUT/$id.new.png" --resolution "$RES" --quality production >/dev/null
  if cmp -s <(rgb "$OUT/$id.old.png") <(rgb "$OUT/$id.new.png"); then
    echo "| $id | identical pixels | - |"; same=$((same + 1))
  else
    stats=$(python3 - "$OUT/$id.old.png" "$OUT/$id.new.png" <<'PY'
import sys, math
import numpy as np
from PIL import Image
a = np.asarray(Image.open(sys.argv[1]).convert("RGB"), dtype=np.int32)
b = np.asarray(Image.open(sys.argv[2]).convert("RGB"), dtype=np.int32)
d = np.abs(a - b)
mse = float((d * d).mean())
psnr = "inf" if mse == 0 else f"{10 * math.log10(255 * 255 / mse):.1f} dB"
print(f"{100 * float((d > 0).mean()):.2f}% of bytes differ, largest {int(d.max())}, PSNR {psnr}")
PY
)
    echo "| $id | differs | $stats |"; differ=$((differ + 1))
  fi
done
echo
echo "$same identical, $differ different; PNGs in $OUT"
