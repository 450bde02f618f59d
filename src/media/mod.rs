//! ffmpeg and ffprobe: the encoder pipe, probing, the concat join and the audio mux.
//! The only module that spawns them; nothing here goes through a shell.
//!
//! Rules from the reference guide and from measurement:
//! - The encoder's stderr goes to the clip's log FILE, never a pipe (a pipe fills at 64 KB and
//!   deadlocks ffmpeg). The log's first line is the exact command, shell-quoted, to replay it.
//! - yuv420p always (4:4:4 is refused by many players), converted by the worker with a chosen
//!   matrix and tagged (`-colorspace/-color_primaries/-color_trc`, `-color_range tv`), so that
//!   players show the colours the renderer made.
//! - The concat demuxer silently corrupts inputs that differ in size, rate, codec or pixel
//!   format and still exits 0, so every clip is checked before a join (its MP4 index, read
//!   in-process by `crate::mp4index`; ffprobe here reads soundtracks and non-MP4 outputs).
//!
//! Map (one job each):
//! - [`encoder`]: [`EncoderSettings`], the encoder's arguments, [`Encoder`] (ffmpeg reading raw
//!   yuv420p on a pipe) and [`QueuedEncoder`] (its writer thread);
//! - [`probe`]: ffprobe of a video ([`VideoInfo`]) or a soundtrack, the clip check
//!   ([`check_clip`]), many probes at once;
//! - [`concat`]: the join ([`Join`], [`join`]; [`spawn_join`] starts its ffmpeg ahead, waiting
//!   for the list on its stdin): concat list, demuxer, audio mux, limits;
//! - [`audio`]: a soundtrack decoded to mono f32 samples ([`decode_audio_mono`]);
//! - [`error`]: [`MediaError`], why a probe, join or decode failed (its `Display` is the
//!   message farm prints);
//! - [`logs`]: exit statuses in words, log tails, the line that says what went wrong;
//! - [`quote`]: commands as a user could paste them into a shell.
//!
//! Callers use the names re-exported here (`media::probe_video`, `media::join`, ...).

pub mod audio;
pub mod concat;
pub mod encoder;
pub mod error;
pub mod logs;
pub mod probe;
pub mod quote;

pub use audio::decode_audio_mono;
pub use concat::{Join, PendingJoin, concat_line, join, join_limit, spawn_join};
pub use encoder::{Encoder, EncoderSettings, QueuedEncoder, encoder_args, muxer_for};
pub use error::{JOIN_STOPPED, MediaError, Mismatch, PROBE_STOPPED};
pub use logs::{describe_status, first_error, log_tail, never_started, signal_name, write_error};
pub use probe::{
    PROBE_BASE, PROBE_SECS_PER_BYTE, VideoInfo, check_clip, check_clips, probe_audio, probe_limit,
    probe_video, probe_videos,
};
pub use quote::{command_line, shell_quote, shell_quote_os};
