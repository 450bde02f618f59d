#!/bin/sh
# What audio bindings cost the renderer (reported, not asserted): ms/frame of a scene or preset
# without bindings, with its default bindings, and of a layers scene with 10 bindings.
# Usage: scripts/bench-bind.sh [SCENE_OR_PRESET] [FRAMES]   (defaults: rings 120)
set -eu
cd "$(dirname "$0")/.."
exec cargo run --quiet --release --example bind_bench -- "$@"
