#!/usr/bin/env bash
# Scaling of a run (reported, never asserted). Prints one markdown table row per figure
# (`| figure | value | target |`), for scripts/bench.sh:
#   throughput of 2 workers / 1 worker, medians of N alternated runs (default 3), for a
#     renderer-bound plan (draft 960x540, 4 clips of mandala, the heaviest preset, 48 frames
#     each) and an encoder-bound one (production at 1280x720: 2 clips of plasma, 96 frames each);
#     beside each, the cores one worker already keeps busy (the run's CPU / its wall time, from
#     /usr/bin/time, children included) and so the ceiling of the ratio on this machine: one
#     worker is already parallel (its renderer beside its x264, and x264 on 2 threads), so 2
#     workers on 2 cores can add at most cores / busy;
#   the worker's own peak RSS at 1920x1080 (production, x264 excluded: the worker's getrusage,
#     reported in its Finished event and printed with FARM_TIMING=1);
#   a 4K clip (max profile, 3840x2160, 10 frames): the renderer's share of the run's CPU,
#     worker CPU / (worker CPU + its x264's CPU), both from the worker's getrusage.
# The machine is shared: compare figures of one run of the script, not across runs.
# Usage: scripts/bench-scaling.sh [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "${FARM:-}" ]; then
  bash scripts/ensure-ffmpeg.sh >/dev/null
  cargo build --release -q
  FARM="$(pwd)/target/release/farm"
fi
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null 2>&1 || { echo "bench-scaling needs /usr/bin/time (Debian package time)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
plan() { # name quality resolution clips seconds scene
  { echo "output: $1.mp4"; echo "quality: $2"; echo "resolution: $3"; echo "seed: 1"; echo "segments:"
    for i in $(seq "$4"); do echo "  - {id: c$i, scene: ${6:-plasma}, duration: $5}"; done; } > "$TMP/$1.yaml"
}
plan draft draft 960x540 4 4 mandala
plan prod production 1280x720 2 4
plan rss production 1920x1080 1 1
plan max max 3840x2160 1 0.334
run() { # plan workers -> "wall cpu" seconds (cpu: user + sys of farm and its children); the
        # run's stderr in $TMP/last.log
  rm -rf "$TMP/.farm" "$TMP/$1.mp4"
  /usr/bin/time -f "%e %U %S" -o "$TMP/time" env FARM_TIMING=1 "$FARM" run "$TMP/$1.yaml" --workers "$2" \
    2>"$TMP/last.log" || { cat "$TMP/last.log" >&2; exit 1; }
  awk '{print $1, $2 + $3}' "$TMP/time"
}
median() { sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
CORES=$(nproc)
for p in draft prod; do
  : > "$TMP/$p.1"; : > "$TMP/$p.2"
  for _ in $(seq "$RUNS"); do
    run "$p" 1 >> "$TMP/$p.1"
    run "$p" 2 >> "$TMP/$p.2"
  done
  w1=$(cut -d' ' -f1 "$TMP/$p.1" | median); w2=$(cut -d' ' -f1 "$TMP/$p.2" | median)
  busy=$(awk '{print $2 / $1}' "$TMP/$p.1" | median)
  label=$([ "$p" = draft ] && echo "renderer-bound: draft 960x540, 4 clips of mandala, 48 frames each" || echo "encoder-bound: production 1280x720, 2 clips of plasma, 96 frames each")
  echo "| throughput 2 workers / 1 worker, $label (median wall ${w1} s / ${w2} s; one worker keeps $(printf %.2f "$busy") of $CORES cores busy, so the ceiling here is $(awk "BEGIN{printf \"%.2fx\", $CORES / $busy}")) | $(awk "BEGIN{printf \"%.2fx\", $w1 / $w2}") | >= 1.9x |"
done
run rss 1 >/dev/null
rss=$(sed -n 's/.*worker max RSS \([0-9.]*\) MB.*/\1/p' "$TMP/last.log" | sort -g | tail -1)
echo "| worker peak RSS at 1920x1080 (production, x264 excluded) | ${rss} MB | < 64 MB |"
run max 1 >/dev/null
read -r wcpu ecpu < <(sed -n 's/.*worker CPU \([0-9]*\) ms, encoder CPU \([0-9]*\) ms.*/\1 \2/p' "$TMP/last.log" | head -1)
echo "| renderer's share of the run's CPU, 4K max profile, 10 frames (worker ${wcpu} ms, x264 ${ecpu} ms) | $(awk "BEGIN{printf \"%.1f%%\", 100 * $wcpu / ($wcpu + $ecpu)}") | < 10% |"
