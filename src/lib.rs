//! `farm`: a render farm for ASCII-art video.
//!
//! A YAML plan of segments is rendered clip by clip, each clip in its own worker process with its
//! own renderer, seed and ffmpeg encoder; the coordinator joins the clips with ffmpeg's concat
//! demuxer. See README.md for the user's view and DESIGN notes in each module.

pub mod render;
