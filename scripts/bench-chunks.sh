#!/usr/bin/env bash
# Chunks (issue 11), reported, never asserted:
#  1. a 60 s single-segment plan (draft, plasma) on 1 and 2 workers, unchunked (chunk: 0) and
#     chunked (chunk: 10): wall time and the speed-up of 2 workers over 1;
#  2. the replay overhead of each stateful scene: a 20 s segment at 1 worker, chunk: 0 against
#     chunk: 5, CPU seconds (farm + workers + ffmpeg) more per frame replayed.
#
#   bash scripts/bench-chunks.sh [--quality Q]    (FARM=path/to/farm to bench another build)
set -euo pipefail
cd "$(dirname "$0")/.."
quality=draft
[ "${1:-}" = --quality ] && quality="$2"
bash scripts/ensure-ffmpeg.sh
if [ -z "${FARM:-}" ]; then
    cargo build --release -q
    FARM="$PWD/target/release/farm"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

plan() { # name scene seconds chunk
    cat >"$work/$1.yaml" <<EOF
output: $1.mp4
seed: 3
chunk: $4
segments:
  - {id: long, scene: $2, duration: $3}
EOF
}

# wall seconds and CPU seconds of farm and what it waited for (its workers and their ffmpegs)
run() { # plan workers
    /usr/bin/time -f "%e %U %S" -o "$work/time" \
        "$FARM" run "$work/$1.yaml" --quality "$quality" --workers "$2" >/dev/null 2>"$work/err" \
        || { cat "$work/err" >&2; exit 1; }
    awk '{printf "%s %s\n", $1, $2 + $3}' "$work/time"
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), quality $quality"
echo
echo "60 s of plasma, one segment"
printf '%-14s %10s %10s %10s\n' chunk "1 worker" "2 workers" speed-up
for c in 0 10; do
    plan "p$c" plasma 60 "$c"
    read -r w1 _ < <(run "p$c" 1)
    read -r w2 _ < <(run "p$c" 2)
    printf '%-14s %9.2fs %9.2fs %9.2fx\n' "chunk: $c" "$w1" "$w2" "$(echo "$w1 / $w2" | bc -l)"
done

echo
echo "replay overhead, 20 s segment, 1 worker, chunk: 5 against chunk: 0"
fps="$("$FARM" run "$work/p0.yaml" --quality "$quality" --dry-run 2>&1 | sed -n 's/.*@\([0-9]*\)fps.*/\1/p' | head -1)"
per=$((5 * fps))
replayed=$((per * (0 + 1 + 2 + 3)))
printf '%-14s %10s %10s %14s\n' scene "cpu whole" "cpu chunks" "ms/replayed"
for scene in particles life mandala swarm tunnel; do
    plan "s0" "$scene" 20 0
    plan "s5" "$scene" 20 5
    read -r _ c0 < <(run s0 1)
    read -r _ c5 < <(run s5 1)
    printf '%-14s %9.2fs %9.2fs %14.2f\n' "$scene" "$c0" "$c5" \
        "$(echo "($c5 - $c0) * 1000 / $replayed" | bc -l)"
done
echo "($replayed frames replayed in the chunked render: chunks of $per frames at $fps fps;"
echo " the figure also carries the chunks' own worker and encoder starts)"
