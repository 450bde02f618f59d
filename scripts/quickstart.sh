#!/usr/bin/env bash
# From a fresh Debian machine with Rust to a rendered segments.example.yaml:
# installs ffmpeg if missing, builds farm (release), renders the example at draft quality.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-ffmpeg.sh
cargo build --release
./target/release/farm run segments.example.yaml --quality draft "$@"
