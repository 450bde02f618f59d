#!/usr/bin/env bash
# Audio analysis benchmark (reported, never asserted): decode + features + tempo + beats of a
# 5-minute track at 24 fps, `farm audio` beside librosa (librosa.load + STFT features +
# onset_strength + beat_track) on the same file, in the same run, on one core (taskset -c 0);
# then beat agreement with librosa (and aubio's aubiotrack, if installed) on real recordings
# from Debian's packages (CC BY-SA songs of fretsonfire-songs-muldjord, the frozen-bubble
# tracker tune of fb-music-high) and on the synthetic track.
# Usage: scripts/bench-audio.sh [--no-install]      FARM=path/to/farm to skip the release build
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
INSTALL=1
[ "${1:-}" = "--no-install" ] && INSTALL=0
bash scripts/ensure-ffmpeg.sh
if [ -z "${FARM:-}" ]; then
  cargo build --release -q
  FARM="$ROOT/target/release/farm"
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [ "$INSTALL" = 1 ]; then
  python3 -c 'import librosa' 2>/dev/null || pip install -q librosa >/dev/null 2>&1 || true
  [ -x /usr/bin/time ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1 || true
  command -v aubiotrack >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq aubio-tools >/dev/null 2>&1 || true
  [ -d /usr/share/games/fretsonfire/data/songs/muldjord ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fretsonfire-songs-muldjord >/dev/null 2>&1 || true
  [ -f /usr/share/games/frozen-bubble/snd/frozen-mainzik-2p.xm ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fb-music-high >/dev/null 2>&1 || true
fi

# A music-like 5-minute track at 124 BPM: kick on every beat, snare (noise) on 2 and 4, hi-hat
# eighths, a bass line changing every bar and an eight-note melody; stereo 44.1 kHz Vorbis.
P=$(python3 -c 'print(60/124)')
KICK="0.9*sin(2*PI*(50+80*exp(-40*mod(t,$P)))*mod(t,$P))*exp(-12*mod(t,$P))"
SNARE="0.5*(random(0)-0.5)*exp(-25*mod(t-$P,2*$P))*gte(t,$P)"
HAT="0.15*(random(1)-0.5)*exp(-120*mod(t,$P/2))"
BASS="0.35*sin(2*PI*55*pow(2,(between(mod(floor(t/(4*$P)),4),1,1)*5+between(mod(floor(t/(4*$P)),4),2,2)*7+between(mod(floor(t/(4*$P)),4),3,3)*3)/12)*t)"
MEL="0.12*sin(2*PI*440*pow(2,mod(floor(t/($P/2))*5,12)/12)*t)*exp(-3*mod(t,$P/2))"
ffmpeg -v error -y -f lavfi -i "aevalsrc='$KICK+$SNARE+$HAT+$BASS+$MEL|$KICK+$SNARE+$HAT+$BASS+$MEL':s=44100:d=300" \
  -c:a libvorbis -q:a 5 "$TMP/synth.ogg"

REAL=()
D=/usr/share/games/fretsonfire/data/songs/muldjord
if [ -d "$D" ]; then
  for s in armygeddon chaos_god internal_degeneration mutilated_mime; do
    # The game ships the backing track and the guitar apart: mix them back into the song.
    ffmpeg -v error -y -i "$D/$s/song.ogg" -i "$D/$s/guitar.ogg" -filter_complex amix=inputs=2:normalize=0 \
      -c:a libvorbis -q:a 5 "$TMP/$s.ogg" && REAL+=("$TMP/$s.ogg")
  done
fi
XM=/usr/share/games/frozen-bubble/snd/frozen-mainzik-2p.xm
if [ -f "$XM" ] && ffmpeg -v error -y -i "$XM" -c:a libvorbis -q:a 5 "$TMP/frozen-bubble.ogg" 2>/dev/null; then
  REAL+=("$TMP/frozen-bubble.ogg")
fi
# A 5-minute real recording for the timing, if there is one: the first song looped to 300 s.
if [ ${#REAL[@]} -gt 0 ]; then
  ffmpeg -v error -y -stream_loop 1 -i "${REAL[0]}" -t 300 -c:a libvorbis -q:a 5 "$TMP/real300.ogg"
fi

cat > "$TMP/lib.py" <<'PY'
import sys, time, json
import numpy as np, librosa
mode = sys.argv[1]
if mode == "time":
    # Warm numba's JIT (beat tracking) first on a second of noise: only the analysis is timed.
    librosa.beat.beat_track(y=np.random.default_rng(0).standard_normal(22050).astype(np.float32), sr=22050)
    t0, c0 = time.perf_counter(), time.process_time()
    y, sr = librosa.load(sys.argv[2], sr=22050, mono=True)
    hop = sr // 24
    S = np.abs(librosa.stft(y, n_fft=2 * hop, hop_length=hop))
    rms = librosa.feature.rms(S=S, frame_length=2 * hop, hop_length=hop)
    cent = librosa.feature.spectral_centroid(S=S, sr=sr)
    flat = librosa.feature.spectral_flatness(S=S)
    env = librosa.onset.onset_strength(y=y, sr=sr)
    tempo, beats = librosa.beat.beat_track(onset_envelope=env, sr=sr, units="time")
    # Wall and CPU seconds: CPU time does not grow when other work shares the core.
    print("%.3f %.3f" % (time.perf_counter() - t0, time.process_time() - c0))
else:
    y, sr = librosa.load(sys.argv[2], sr=22050, mono=True)
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    print(json.dumps({"tempo": float(np.atleast_1d(tempo)[0]), "beats": [float(b) for b in beats]}))
PY
cat > "$TMP/agree.py" <<'PY'
import sys, json
import numpy as np
name, ours_f, lib_f, aub_f = sys.argv[1:5]
ours = json.load(open(ours_f)); lib = json.load(open(lib_f))
a, l = np.array(ours["beats"]), np.array(lib["beats"])
def frac(x, y, shift=0.0):
    if len(x) == 0 or len(y) == 0: return 0.0
    return float(np.mean([np.min(np.abs(y - shift - v)) <= 0.070 for v in x]))
def offset(x, y):
    d = [y[np.argmin(np.abs(y - v))] - v for v in x] if len(y) else []
    d = [v for v in d if abs(v) < 0.1]
    return 1000 * float(np.median(d)) if d else float("nan")
line = (f"{name:<26} ours {ours['tempo']:6.1f} BPM ({ours['confidence']:.2f}) {len(a):4d} beats | "
        f"librosa {lib['tempo']:6.1f} {len(l):4d} | ours near librosa {frac(a, l):.2f}, librosa near ours {frac(l, a):.2f}, "
        f"median offset {offset(a, l):+.0f} ms; without librosa's 46 ms delay {frac(a, l, 0.0464):.2f} / {frac(l - 0.0464, a):.2f}")
if aub_f != "-":
    b = np.array([float(x) for x in open(aub_f).read().split()])
    line += f" | aubio {len(b):4d}: ours near aubio {frac(a, b):.2f}, aubio near ours {frac(b, a):.2f}, offset {offset(a, b):+.0f} ms"
print(line)
PY

have_librosa=0
python3 -c 'import librosa' 2>/dev/null && have_librosa=1
PYENV=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1)

median3() { python3 -c 'import sys; v=sorted(map(float, sys.argv[1:])); print("%.3f" % v[len(v)//2])' "$@"; }
# "WALL CPU" medians of 3 runs. farm's CPU time counts its ffmpeg decoder too (a waited-for
# child's time is in the parent's rusage).
time_farm() {
  local w=() c=()
  for _ in 1 2 3; do
    local out
    out=$( { /usr/bin/time -f "%e %U %S" taskset -c 0 "$FARM" audio "$1" --fps 24 --json >/dev/null; } 2>&1 | tail -1)
    w+=("$(echo "$out" | cut -d' ' -f1)")
    c+=("$(echo "$out" | awk '{print $2 + $3}')")
  done
  echo "$(median3 "${w[@]}") $(median3 "${c[@]}")"
}
time_librosa() {
  local w=() c=()
  for _ in 1 2 3; do
    local out
    out=$("${PYENV[@]}" taskset -c 0 python3 "$TMP/lib.py" time "$1" 2>/dev/null)
    w+=("${out% *}"); c+=("${out#* }")
  done
  echo "$(median3 "${w[@]}") $(median3 "${c[@]}")"
}

# The same track already at the analysis rate (mono f32 WAV, 22050 Hz): neither side has to
# decode a codec or resample, so this times the analysis itself.
ffmpeg -v error -y -i "$TMP/synth.ogg" -ac 1 -ar 22050 -c:a pcm_f32le "$TMP/synth-22k.wav"

echo "== decode + features + tempo + beats, 5 minutes at 24 fps, one core (median of 3)"
TIMED=("$TMP/synth.ogg" "$TMP/synth-22k.wav")
[ -f "$TMP/real300.ogg" ] && TIMED+=("$TMP/real300.ogg")
for f in "${TIMED[@]}"; do
  read -r fw fc <<<"$(time_farm "$f")"
  if [ "$have_librosa" = 1 ]; then
    read -r lw lc <<<"$(time_librosa "$f")"
    echo "$(basename "$f"): farm audio ${fw} s wall / ${fc} s CPU, librosa ${lw} s / ${lc} s (JIT warmed, imports excluded): $(python3 -c "print('%.1fx wall, %.1fx CPU' % ($lw / $fw, $lc / $fc))") faster"
  else
    echo "$(basename "$f"): farm audio ${fw} s wall / ${fc} s CPU (librosa not installed)"
  fi
done
# The floor no analysis can go below: ffmpeg alone decoding the track to the analysis format.
for f in "${TIMED[@]}"; do
  out=$( { /usr/bin/time -f "%e %U %S" taskset -c 0 ffmpeg -v error -i "$f" -ac 1 -ar 22050 -f f32le - >/dev/null; } 2>&1 | tail -1)
  echo "$(basename "$f"): ffmpeg decode alone $(echo "$out" | awk '{printf "%s s wall / %.2f s CPU", $1, $2 + $3}')"
done

echo "== beat agreement (within 70 ms)"
if [ "$have_librosa" = 1 ]; then
  for f in "$TMP/synth.ogg" "${REAL[@]}"; do
    n=$(basename "$f" .ogg)
    "$FARM" audio "$f" --json > "$TMP/$n.farm.json"
    "${PYENV[@]}" python3 "$TMP/lib.py" beats "$f" > "$TMP/$n.lib.json" 2>/dev/null
    aub="-"
    if command -v aubiotrack >/dev/null; then aubiotrack -i "$f" > "$TMP/$n.aubio.txt" 2>/dev/null && aub="$TMP/$n.aubio.txt"; fi
    python3 "$TMP/agree.py" "$n" "$TMP/$n.farm.json" "$TMP/$n.lib.json" "$aub"
  done
else
  echo "(librosa not installed: no agreement figures)"
fi
