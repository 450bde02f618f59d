#!/usr/bin/env bash
# ms/frame of every preset and built-in scene at 720p and 1080p, one thread, release build, with the
# per-stage breakdown (fields, glyph blit, blend + tonemap/feedback/transitions, shaders).
# Reports only; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --lib -- --ignored --nocapture --test-threads=1 bench_presets 2>/dev/null | grep '^|'
