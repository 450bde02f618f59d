#!/usr/bin/env bash
# ms/frame of every preset and built-in scene at 720p and 1080p, one thread, release build, with the
# per-stage breakdown (fields, glyph blit, blend + tonemap/feedback/transitions, shaders).
# Reports only; asserts nothing. The bench target is benches/presets.rs (`cargo bench --bench presets
# -- NAME` times only the presets whose name contains NAME); arguments are passed on to it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -q --bench presets -- "$@" 2>/dev/null | grep '^|'
