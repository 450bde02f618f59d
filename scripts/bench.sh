#!/usr/bin/env bash
# Benchmarks (reported, never asserted). Every figure is measured in this one run, each as a
# ratio against its anchor measured in the same run, so that the ratios compare like with like
# on a shared machine. Prints the figures as they come, then one markdown table (the one in
# docs/renderer.md) with the machine it ran on.
#   (a) renderer alone: plasma (two grid layers + bloom + vignette + grain), 1080p and 720p, one
#       core, beside the Python reference (ref_render.py --no-encode) doing the same work;
#   (b) `farm run` against ffmpeg alone encoding the same frames with the same x264 settings and
#       parallelism, fed rgb24 (as the reference pipeline does) and yuv420p (as farm's workers
#       do): 240 frames of 720p production in 2 clips, and 120 frames of 720p preview in 4 clips
#       (fixed costs dominate), 2 workers, medians of 3 alternating runs;
#   (c) end to end against the Python reference: 240 frames of 1080p, 2 workers, 2 clips, with
#       the SSIM of each output against a lossless (crf 0) encode of its own frames;
#   (d) every shipped preset at 1080p, one core (scripts/bench-presets.sh);
#   (e) fixed costs and scaling (scripts/bench-fixed.sh, scripts/bench-scaling.sh).
# Usage: scripts/bench.sh [--no-python] [--frames N] [--skip a,b,c,d,e]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=1
FRAMES=48
SKIP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-python) PY=0 ;;
    --frames) FRAMES="$2"; shift ;;
    --skip) SKIP="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
skip() { case ",$SKIP," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
bash scripts/ensure-ffmpeg.sh
cargo build --release -q
FARM="$ROOT/target/release/farm"
# The Python reference render script (docs/reference-pipeline.md); skipped when absent.
REF="${FARM_REF_RENDER:-$ROOT/../shared/baseline/ref_render.py}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
TABLE=()
row() { TABLE+=("| $1 | $2 | $3 |"); echo "  => $1: $2 (target $3)"; }
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
ratio() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }
json() { python3 -c "import json,sys;print(json.load(sys.stdin)['$1'])"; }

if [ "$PY" = 1 ] && [ -f "$REF" ]; then
  if ! python3 -c 'import numpy, PIL' 2>/dev/null; then
    pip install -q numpy pillow >/dev/null 2>&1 || echo "(cannot install numpy/pillow: skipping the Python reference)"
  fi
  if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ]; then
    (apt-get install -y -qq fonts-dejavu-core >/dev/null 2>&1 || true)
  fi
  python3 -c 'import numpy, PIL' 2>/dev/null || PY=0
else
  PY=0
fi
# OPENBLAS_* variables slow numpy on some machines here; unset them for the reference only.
ref() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 "$REF" "$@"; }

if ! skip a; then
  echo "== (a) renderer alone, one core, $FRAMES frames after warm-up"
  for size in 1920x1080 1280x720; do
    out=$(taskset -c 0 "$FARM" bench-render --size "$size" --frames "$FRAMES")
    yuv=$(taskset -c 0 "$FARM" bench-render --size "$size" --frames "$FRAMES" --yuv)
    echo "farm   $size: $out"
    echo "farm   $size with the fused yuv420p conversion: $yuv"
    ms=$(echo "$out" | json ms_per_frame)
    label="renderer alone, plasma (2 layers + bloom + vignette + grain), ${size#*x}p, one core"
    if [ "$PY" = 1 ]; then
      w=${size%x*}; h=${size#*x}
      taskset -c 0 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 "$REF" --width "$w" --height "$h" \
        --frames 12 --no-encode --stats-json "$TMP/ref-$size.json" 2>/dev/null
      pyms=$(python3 -c "import json;print(json.load(open('$TMP/ref-$size.json'))['ms_per_frame_in_worker_loop'])")
      echo "python $size: $pyms ms/frame"
      row "$label" "$ms ms ($(ratio "$pyms" "$ms")x the Python reference's $(printf %.0f "$pyms") ms); with the yuv conversion $(echo "$yuv" | json ms_per_frame) ms" "<= 3.0 ms (1080p)"
    else
      row "$label" "$ms ms; with the yuv conversion $(echo "$yuv" | json ms_per_frame) ms" "<= 3.0 ms (1080p)"
    fi
  done
fi

# run_vs_ffmpeg QUALITY FRAMES CLIPS PRESET CRF LABEL TARGET (PRESET and CRF: the profile's, see
# src/profile.rs): farm run of CLIPS plasma clips of
# 1280x720 against ffmpeg alone encoding the same number of frames (CLIPS encoders, 2 at once).
run_vs_ffmpeg() {
  local quality=$1 frames=$2 clips=$3 preset=$4 crf=$5 label=$6 target=$7
  local per=$((frames / clips)) secs
  secs=$(awk "BEGIN{print $per / 24}")
  {
    echo "output: run.mp4"; echo "quality: $quality"; echo "resolution: 1280x720"; echo "seed: 1"; echo "segments:"
    for i in $(seq 1 "$clips"); do echo "  - {id: c$i, scene: plasma, duration: $secs, shaders: [bloom, vignette, grain]}"; done
  } > "$TMP/run.yaml"
  "$FARM" bench-render --size 1280x720 --frames "$per" --raw-out "$TMP/raw.rgb" >/dev/null
  "$FARM" bench-render --size 1280x720 --frames "$per" --raw-out "$TMP/raw.yuv" --yuv >/dev/null
  # One run first: its start-up line says which x264 thread count farm chose; ffmpeg alone
  # gets the same.
  "$FARM" run "$TMP/run.yaml" --workers 2 2>"$TMP/farm.log" || { cat "$TMP/farm.log"; exit 1; }
  local threads
  threads=$(grep -o 'x264 threads [0-9]*' "$TMP/farm.log" | head -1 | grep -o '[0-9]*$' || true)
  local targs=()
  [ -n "$threads" ] && targs=(-threads "$threads")
  enc() { # enc FMT RAW OUT
    ffmpeg -hide_banner -loglevel error -y -f rawvideo -pix_fmt "$1" -s 1280x720 -r 24 -i "$2" \
      -c:v libx264 -preset "$preset" -crf "$crf" "${targs[@]}" -pix_fmt yuv420p "$3"
  }
  alone() { # alone FMT RAW: CLIPS encoders, two at a time, like two workers
    local i pids=()
    for i in $(seq 1 "$clips"); do
      enc "$1" "$2" "$TMP/e$i.mp4" & pids+=($!)
      if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
    done
    wait
  }
  local F=() R=() Y=() t0 t1 rep
  for rep in 1 2 3; do
    t0=$(now); "$FARM" run "$TMP/run.yaml" --workers 2 2>"$TMP/farm.log" || { cat "$TMP/farm.log"; exit 1; }; t1=$(now)
    F+=("$(awk "BEGIN{print $t1 - $t0}")")
    t0=$(now); alone rgb24 "$TMP/raw.rgb"; t1=$(now); R+=("$(awk "BEGIN{print $t1 - $t0}")")
    t0=$(now); alone yuv420p "$TMP/raw.yuv"; t1=$(now); Y+=("$(awk "BEGIN{print $t1 - $t0}")")
  done
  local f r y
  f=$(median "${F[@]}"); r=$(median "${R[@]}"); y=$(median "${Y[@]}")
  echo "farm run: ${F[*]} s; ffmpeg alone from rgb24: ${R[*]} s; from yuv420p: ${Y[*]} s (x264 threads ${threads:-auto})"
  grep -m1 -o 'x264 threads.*' "$TMP/farm.log" | sed 's/^/start-up line: /' || true
  row "whole run / ffmpeg alone (rgb24), $label" "$(ratio "$f" "$r") ($(printf %.2f "$f") s vs $(printf %.2f "$r") s)" "$target"
  row "whole run / ffmpeg alone (yuv420p), $label" "$(ratio "$f" "$y") ($(printf %.2f "$f") s vs $(printf %.2f "$y") s)" "(the floor)"
}

if ! skip b; then
  echo "== (b) whole run against ffmpeg alone"
  run_vs_ffmpeg production 240 2 veryfast 17.5 "240 frames 720p production, 2 clips, 2 workers" "<= 0.95"
  run_vs_ffmpeg preview 120 4 ultrafast 20 "120 frames 720p preview, 4 clips, 2 workers" "<= 1.10"
fi

if ! skip c && [ "$PY" = 1 ]; then
  echo "== (c) end to end against the Python reference: 240 frames of 1080p, 2 workers, 2 clips"
  cat > "$TMP/e2e.yaml" <<'YAML'
output: e2e.mp4
quality: production
resolution: 1920x1080
seed: 1
segments:
  - {id: a, scene: plasma, duration: 5, shaders: [bloom, vignette, grain]}
  - {id: b, scene: plasma, duration: 5, shaders: [bloom, vignette, grain]}
YAML
  sed 's/^output: e2e.mp4/output: e2e-lossless.mp4/' "$TMP/e2e.yaml" > "$TMP/e2e-lossless.yaml"
  t0=$(now); "$FARM" run "$TMP/e2e.yaml" --workers 2 2>"$TMP/e2e.log" || { cat "$TMP/e2e.log"; exit 1; }; t1=$(now)
  farm_s=$(awk "BEGIN{print $t1 - $t0}")
  t0=$(now); ref --width 1920 --height 1080 --frames 240 --workers 2 --clips 2 --out "$TMP/py.mp4" 2>/dev/null; t1=$(now)
  py_s=$(awk "BEGIN{print $t1 - $t0}")
  # Lossless encodes of each pipeline's own frames (crf 0; ultrafast only to save time).
  "$FARM" run "$TMP/e2e-lossless.yaml" --workers 2 --crf 0 --preset ultrafast 2>/dev/null
  ref --width 1920 --height 1080 --frames 240 --workers 2 --clips 2 --crf 0 --preset ultrafast --out "$TMP/py-lossless.mp4" 2>/dev/null
  ssim() { ffmpeg -hide_banner -i "$1" -i "$2" -lavfi ssim -f null - 2>&1 | grep -o 'All:[0-9.]*' | cut -d: -f2; }
  fs=$(ssim "$TMP/e2e.mp4" "$TMP/e2e-lossless.mp4"); ps=$(ssim "$TMP/py.mp4" "$TMP/py-lossless.mp4")
  echo "farm: $farm_s s, SSIM $fs; python: $py_s s, SSIM $ps"
  row "end to end against the Python reference, 240 frames 1080p, 2 workers, 2 clips" "$(ratio "$py_s" "$farm_s")x faster ($(printf %.1f "$farm_s") s vs $(printf %.1f "$py_s") s; SSIM $fs vs $ps)" ">= 6x, SSIM >= Python's"
fi

if ! skip d; then
  echo "== (d) every shipped preset at 1080p, one core"
  taskset -c 0 bash scripts/bench-presets.sh 2>/dev/null | tee "$TMP/presets.md" | grep -E '^\| (preset|---)|1920x1080'
  # The presets (scenes/*.yaml) and the built-in scenes (`scene:NAME`), each with its own row.
  for kind in presets scenes; do
    if [ "$kind" = presets ]; then sel() { grep 1920x1080 "$TMP/presets.md" | grep -v '| scene:'; }; label="shipped presets (scenes/*.yaml)"
    else sel() { grep 1920x1080 "$TMP/presets.md" | grep '| scene:'; }; label="built-in scenes"; fi
    n=$(sel | wc -l)
    slowest=$(sel | awk -F'|' '{gsub(/ /,"",$2); gsub(/ /,"",$4); print $4, $2}' | sort -g | tail -1)
    fastest=$(sel | awk -F'|' '{gsub(/ /,"",$4); print $4}' | sort -g | head -1)
    over=$(sel | awk -F'|' '{gsub(/ /,"",$2); gsub(/ /,"",$4); if ($4 + 0 > 8) printf "%s %s, ", $2, $4}')
    nover=$(sel | awk -F'|' '{gsub(/ /,"",$4); if ($4 + 0 > 8) c++} END{print c + 0}')
    row "$label, 1080p, one core ($n)" "$fastest to ${slowest% *} ms (slowest ${slowest#* }); over 8 ms: $nover${over:+ (${over%, })}" "every one <= 8 ms"
  done
fi

if ! skip e; then
  for s in scripts/bench-fixed.sh scripts/bench-scaling.sh; do
    [ -f "$s" ] || continue
    echo "== (e) $s"
    while IFS= read -r line; do
      case "$line" in
        "| figure "*|"|---"*) ;;
        "| "*) TABLE+=("$line"); echo "  => $line" ;;
        *) echo "$line" ;;
      esac
    done < <(bash "$s")
  done
fi

echo
echo "== the table (docs/renderer.md)"
echo "Measured $(date -u +%Y-%m-%d) on $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, by scripts/bench.sh."
echo
echo "| figure | measured | target |"
echo "|---|---|---|"
printf '%s\n' "${TABLE[@]}"
