#!/usr/bin/env bash
# What each shader costs the encoder. Renders the same plasma frames once with no shader and once
# per shader (and per cheaper variant), encodes each set with x264 exactly as a production clip is
# encoded (libx264 veryfast, CRF 18.5, yuv420p) but on one thread (-threads 1) so that the times
# compare, and prints a markdown table:
#   shader | render ms/frame | encode ms/frame | encode time vs none | bits/frame | size vs none
# Encode time is ffmpeg's CPU time (user + sys; the best of --repeat runs), divided by the frames.
# Bits are the raw H.264 stream (no container).
#
# Usage: scripts/shader-cost.sh [--size 1280x720] [--frames 48] [--repeat 2] [--only a,b]
#                               [--no-variants]
# Named shaders use their defaults (`farm bench-render --shaders NAME`); variants with parameters
# go through the example `examples/shader_cost_frames.rs` (the chain as YAML, read by the plan).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=1280x720
FRAMES=48
REPEAT=2
ONLY=""
VARIANTS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE="$2"; shift ;;
    --frames) FRAMES="$2"; shift ;;
    --repeat) REPEAT="$2"; shift ;;
    --only) ONLY="$2"; shift ;;
    --no-variants) VARIANTS=0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
bash scripts/ensure-ffmpeg.sh
cargo build --release -q
FARM="$(pwd)/target/release/farm"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The shader list, from the renderer itself (the error message of an unknown name lists them).
if [ -n "$ONLY" ]; then
  NAMES=$(echo "$ONLY" | tr ',' ' ')
else
  NAMES=$( ("$FARM" bench-render --size 64x36 --frames 1 --shaders '?' 2>&1 || true) | sed -n 's/.*; shaders: //p' | tr -d ',')
fi
# Cheaper variants and variants with parameters: "label|YAML chain".
VARIANT_LIST=(
  'grain hold 3|[{grain: {hold: 3}}]'
  'grain hold 6|[{grain: {hold: 6}}]'
  'grain bright|[{grain: {mode: bright}}]'
  'grain bright hold 3|[{grain: {mode: bright, hold: 3}}]'
  'grain amt 4|[{grain: {amt: 4}}]'
  'static hold 4|[{static: {hold: 4}}]'
  'glitch_bands hold 6|[{glitch_bands: {hold: 6}}]'
  'block_glitch hold 6|[{block_glitch: {hold: 6}}]'
  'data_bend hold 6|[{data_bend: {hold: 6}}]'
  'wave_distort speed 0|[{wave_distort: {speed: 0}}]'
  'bloom,vignette (default look)|[bloom, vignette]'
  'bloom,vignette,grain (seed chain)|[bloom, vignette, grain]'
  'bloom,vignette,grain hold 3|[bloom, vignette, {grain: {hold: 3}}]'
)

# encode RAW -> "cpu_seconds bytes" (best CPU time of $REPEAT runs)
encode() {
  local raw="$1" best="" bytes=0 i
  for ((i = 0; i < REPEAT; i++)); do
    /usr/bin/time -f "%U %S" -o "$TMP/time" ffmpeg -nostdin -v error -y -f rawvideo -pix_fmt rgb24 \
      -s "$SIZE" -r 24 -i "$raw" -c:v libx264 -preset veryfast -crf 18.5 -pix_fmt yuv420p \
      -threads 1 -f h264 "$TMP/out.264"
    local cpu
    cpu=$(awk '{print $1 + $2}' "$TMP/time")
    if [ -z "$best" ] || awk -v a="$cpu" -v b="$best" 'BEGIN{exit !(a < b)}'; then best=$cpu; fi
    bytes=$(stat -c %s "$TMP/out.264")
  done
  echo "$best $bytes"
}

BASE_ENC=""
BASE_BYTES=""
row() { # label render_ms raw
  local label="$1" render_ms="$2" raw="$3" enc cpu bytes
  enc=$(encode "$raw")
  cpu=${enc% *}
  bytes=${enc#* }
  if [ -z "$BASE_ENC" ]; then BASE_ENC=$cpu; BASE_BYTES=$bytes; fi
  awk -v l="$label" -v r="$render_ms" -v c="$cpu" -v b="$bytes" -v n="$FRAMES" \
    -v bc="$BASE_ENC" -v bb="$BASE_BYTES" 'BEGIN {
      printf "| %s | %.2f | %.1f | %.2fx | %.0f k | %.2fx |\n", l, r, c * 1000 / n, c / bc, b * 8 / n / 1000, b / bb
    }'
  rm -f "$raw"
}

echo "Shader cost at $SIZE, $FRAMES frames of plasma (frames 0..$((FRAMES - 1))), x264 veryfast CRF 18.5, yuv420p, one thread; $(date -u +%Y-%m-%d)"
echo
echo "| shader | render ms/frame (whole frame) | encode ms/frame | encode time vs none | bits/frame | size vs none |"
echo "|---|---|---|---|---|---|"
bench() { # name raw -> render ms/frame
  "$FARM" bench-render --size "$SIZE" --frames "$FRAMES" --shaders "$1" --raw-out "$2" |
    sed -n 's/.*"ms_per_frame":\([0-9.]*\).*/\1/p'
}
ms=$(bench '' "$TMP/none.raw")
row "(none)" "$ms" "$TMP/none.raw"
for name in $NAMES; do
  ms=$(bench "$name" "$TMP/$name.raw")
  row "$name" "$ms" "$TMP/$name.raw"
done
if [ "$VARIANTS" = 1 ]; then
  cargo build --release -q --example shader_cost_frames
  for v in "${VARIANT_LIST[@]}"; do
    label=${v%%|*}
    chain=${v#*|}
    out=$(target/release/examples/shader_cost_frames "$chain" "$TMP/v.raw" "$SIZE" "$FRAMES" |
      sed -n 's/.*COST {"ms_per_frame":\([0-9.]*\).*/\1/p')
    row "$label" "$out" "$TMP/v.raw"
  done
fi
