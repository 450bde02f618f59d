#!/usr/bin/env bash
# Fixed costs of a run (reported, never asserted): 120 frames of 1280x720 `--quality preview`
# in 4 clips of plasma, 2 workers, medians of N runs (default 3). Prints one markdown table row
# per figure (`| figure | value | target |`), for scripts/bench.sh.
#   start-up:  from exec to the first clip's start line (`farm: start ...`);
#   tail:      from the last clip's done line (`farm: done ...`: its file is in place and
#              checked) to the exit: the concat, the verification, the cleanup;
#   fixed:     start-up + tail (what is not rendering);
# and, from the coordinator's own stage lines (FARM_TIMING=1, see src/timing.rs), the stages of
# the tail: the last check, the concat, the verification, the cleanup.
# Lines are timestamped as they arrive, so the figures come from any farm binary: FARM=path
# measures another build (e.g. the one before a change) the same way.
# Usage: scripts/bench-fixed.sh [--runs N]
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
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cat > "$TMP/p4.yaml" <<'YAML'
output: p4.mp4
quality: preview
resolution: 1280x720
seed: 1
segments:
  - {id: a, scene: plasma, duration: 2}
  - {id: b, scene: plasma, duration: 2}
  - {id: c, scene: plasma, duration: 2}
  - {id: d, scene: plasma, duration: 2}
YAML
for i in $(seq "$RUNS"); do
  rm -f "$TMP/p4.mp4"
  t0=$(date +%s.%N)
  { FARM_TIMING=1 "$FARM" run "$TMP/p4.yaml" --workers 2 2>&1 || echo "FAILED $?"; } |
    while IFS= read -r line; do echo "$(date +%s.%N) $line"; done > "$TMP/run-$i.log"
  echo "$(date +%s.%N) EXIT" >> "$TMP/run-$i.log"
  echo "$t0" > "$TMP/run-$i.t0"
done
python3 - "$TMP" "$RUNS" <<'PY'
import sys, statistics
tmp, runs = sys.argv[1], int(sys.argv[2])
fig = {}
def add(k, v):
    fig.setdefault(k, []).append(v)
for i in range(1, runs + 1):
    t0 = float(open(f"{tmp}/run-{i}.t0").read())
    lines = [l.rstrip("\n").split(" ", 1) for l in open(f"{tmp}/run-{i}.log")]
    lines = [(float(t), s) for t, s in lines]
    if any(s.startswith("FAILED") for _, s in lines):
        sys.exit("farm run failed:\n" + "\n".join(s for _, s in lines))
    end = lines[-1][0]
    start = min(t for t, s in lines if s.startswith("farm: start "))
    done = max(t for t, s in lines if s.startswith("farm: done "))
    add("start-up (exec to first clip start)", (start - t0) * 1000)
    add("tail (last clip in place to exit)", (end - done) * 1000)
    add("fixed costs (start-up + tail)", (start - t0 + end - done) * 1000)
    st = {}
    for _, s in lines:
        if s.startswith("farm timing:"):
            ms, stage = s[len("farm timing:"):].split(None, 1)
            st.setdefault(stage, float(ms))
    if st:
        checked = max(v for k, v in st.items() if k.startswith("clip ") and k.endswith(" checked"))
        rendered = st.get("every clip rendered")
        cs = st.get("concat start (early)", st.get("concat start"))
        ce, ve, cl = st.get("concat end"), st.get("verified"), st.get("cleaned up")
        if None not in (rendered, cs, ce, ve, cl):
            add("stage: last clip's check (after every clip is in place)", checked - rendered)
            add("stage: concat (ffmpeg -c copy)", ce - cs)
            add("stage: concat after the checks (list written to its ffmpeg)", max(0.0, ce - max(checked, cs)))
            add("stage: verification of the output", ve - ce)
            add("stage: rename + cleanup", cl - ve)
targets = {"fixed costs (start-up + tail)": "< 150 ms"}
for k, v in fig.items():
    print(f"| {k}, 4 clips of 720p preview, median of {len(v)} | {statistics.median(v):.0f} ms | {targets.get(k, '-')} |")
PY
