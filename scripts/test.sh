#!/usr/bin/env bash
# The test suite: unit tests and end-to-end tests with real worker processes and real ffmpeg.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-ffmpeg.sh
cargo test "$@"
