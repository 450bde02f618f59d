//! Unit tests of the analysis on PCM made here (no ffmpeg).
