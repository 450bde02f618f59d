#!/usr/bin/env bash
# Benchmarks (reported, never asserted). Everything is measured in this one run, so the ratios
# compare like with like on a shared machine.
#   (a) renderer alone: ms/frame for plasma (two grid layers + bloom + vignette + grain) at
#       1280x720 and 1920x1080 on one thread, beside the Python reference (ref_render.py
#       --no-encode) doing the same work;
#   (b) `farm run` wall time for a 240-frame 720p plan (2 clips, 2 workers) against ffmpeg alone
#       encoding the same 240 frames (raw, pre-rendered) with the same settings and parallelism;
#   (c) joining 100 clips;
#   (d) with --stages: ms/frame per stage of plasma and quote at 720p, 1080p and 4K (the bench
#       target benches/render.rs, `cargo bench --bench render -- full_chain`).
# Usage: scripts/bench.sh [--no-python] [--frames N] [--stages]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=1
FRAMES=48
STAGES=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-python) PY=0 ;;
    --frames) FRAMES="$2"; shift ;;
    --stages) STAGES=1 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
bash scripts/ensure-ffmpeg.sh
cargo build --release -q
FARM="$ROOT/target/release/farm"
# The Python reference render script (docs/reference-pipeline.md); skipped when absent.
REF="${FARM_REF_RENDER:-$ROOT/../shared/baseline/ref_render.py}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "== (a) renderer alone, one thread, $FRAMES frames after warm-up"
for size in 1280x720 1920x1080; do
  echo "farm   $size: $(taskset -c 0 "$FARM" bench-render --size "$size" --frames "$FRAMES")"
done
if [ "$PY" = 1 ] && [ -f "$REF" ]; then
  if ! python3 -c 'import numpy, PIL' 2>/dev/null; then
    pip install -q numpy pillow >/dev/null 2>&1 || echo "(cannot install numpy/pillow: skipping the Python reference)"
  fi
  if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ]; then
    (apt-get install -y -qq fonts-dejavu-core >/dev/null 2>&1 || true)
  fi
  if python3 -c 'import numpy, PIL' 2>/dev/null; then
    for size in 1280x720 1920x1080; do
      w=${size%x*}; h=${size#*x}
      # OPENBLAS_* variables slow numpy on some machines here; unset them for this command only.
      env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE taskset -c 0 python3 "$REF" --width "$w" --height "$h" \
        --frames 12 --no-encode --stats-json "$TMP/ref-$size.json" 2>/dev/null
      python3 -c "import json;d=json.load(open('$TMP/ref-$size.json'));print('python $size: {\"ms_per_frame\": %.1f, \"stages\": %s}' % (d['ms_per_frame_in_worker_loop'], {k: round(v,1) for k,v in d['stage_ms_per_frame'].items()}))"
    done
  fi
fi

echo "== (b) whole run, 240 frames of 1280x720@24 (veryfast crf 18.5), 2 clips, 2 workers"
cat > "$TMP/bench.yaml" <<'YAML'
output: bench.mp4
quality: production
resolution: 1280x720
seed: 1
segments:
  - {id: a, scene: plasma, duration: 5, shaders: [bloom, vignette, grain]}
  - {id: b, scene: plasma, duration: 5, shaders: [bloom, vignette, grain]}
YAML
# The same frames, pre-rendered, for ffmpeg alone (two encoders at once, like two workers).
"$FARM" bench-render --size 1280x720 --frames 120 --raw-out "$TMP/raw.rgb" >/dev/null
enc() { ffmpeg -hide_banner -loglevel error -y -f rawvideo -pix_fmt rgb24 -s 1280x720 -r 24 -i "$TMP/raw.rgb" \
  -c:v libx264 -preset veryfast -crf 18.5 -pix_fmt yuv420p "$1"; }
now() { date +%s.%N; }
FARM_T=(); FF_T=()
# Alternate the two, three times each, and compare medians: the machine is shared and noisy.
for rep in 1 2 3; do
  t0=$(now)
  "$FARM" run "$TMP/bench.yaml" --workers 2 2>"$TMP/farm.log" || { cat "$TMP/farm.log"; exit 1; }
  t1=$(now)
  FARM_T+=("$(awk "BEGIN{print $t1 - $t0}")")
  t0=$(now)
  enc "$TMP/e1.mp4" & p1=$!
  enc "$TMP/e2.mp4" & p2=$!
  wait $p1 $p2
  t1=$(now)
  FF_T+=("$(awk "BEGIN{print $t1 - $t0}")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
farm_s=$(median "${FARM_T[@]}")
ff_s=$(median "${FF_T[@]}")
echo "farm run runs: ${FARM_T[*]}   ffmpeg alone runs: ${FF_T[*]}"
printf 'median farm run: %.2f s   ffmpeg alone: %.2f s   ratio farm/ffmpeg: %.2f (target <= 1.15)\n' "$farm_s" "$ff_s" "$(awk "BEGIN{print $farm_s / $ff_s}")"
grep -o 'worker start [0-9]* ms, renderer set-up [0-9]* ms' "$TMP/farm.log" | sed 's/^/start-up (720p): /' || true

echo "== (c) joining 100 clips (one frame each, 320x180): check + concat + verify"
{ echo "output: many.mp4"; echo "segments:"; for i in $(seq -w 1 100); do echo "  - {id: c$i, scene: plasma, duration: 0.0417}"; done; } > "$TMP/many.yaml"
"$FARM" run "$TMP/many.yaml" --quality production --resolution 320x180 --workers 2 2>"$TMP/many.log" || { cat "$TMP/many.log"; exit 1; }
grep -o 'Done:.*' "$TMP/many.log" | sed 's/^Done: [^ ]* //'

if [ "$STAGES" = 1 ]; then
  echo "== (d) renderer per stage, one thread (benches/render.rs)"
  taskset -c 0 cargo bench -q --bench render -- full_chain 2>/dev/null | grep -v '^=='
fi
