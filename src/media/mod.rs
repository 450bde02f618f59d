//! ffmpeg and ffprobe: the encoder pipe, probing, the concat join and the audio mux.
//! The only module that spawns them; nothing here goes through a shell.
//!
//! Rules from the seed and from measurement:
//! - The encoder's stderr goes to the clip's log FILE, never a pipe (a pipe fills at 64 KB and
//!   deadlocks ffmpeg). The log's first line is the exact command, shell-quoted, to replay it.
//! - `-pix_fmt yuv420p` always: libx264 otherwise keeps 4:4:4 from rgb24 input, which many
//!   players refuse.
//! - The concat demuxer silently corrupts inputs that differ in size, rate, codec or pixel
//!   format and still exits 0, so every clip is probed before a join.
//!
//! Map (one job each):
//! - [`encoder`]: [`EncoderSettings`], the encoder's arguments, [`Encoder`] (ffmpeg reading raw
//!   rgb24 on a pipe) and [`QueuedEncoder`] (its writer thread);
//! - [`probe`]: ffprobe of a video ([`VideoInfo`]) or a soundtrack, the clip check
//!   ([`check_clip`]), many probes at once;
//! - [`concat`]: the join ([`Join`], [`join`]): concat list, demuxer, audio mux, limits;
//! - [`audio`]: a soundtrack decoded to mono f32 samples ([`decode_audio_mono`]);
//! - [`logs`]: exit statuses in words, log tails, the line that says what went wrong;
//! - [`quote`]: commands as a user could paste them into a shell.
//!
//! Callers use the names re-exported here (`media::probe_video`, `media::join`, ...).

pub mod audio;
pub mod concat;
pub mod encoder;
pub mod logs;
pub mod probe;
pub mod quote;

pub use audio::decode_audio_mono;
pub use concat::{JOIN_STOPPED, Join, concat_line, join, join_limit};
pub use encoder::{Encoder, EncoderSettings, QueuedEncoder, encoder_args, muxer_for};
pub use logs::{describe_status, first_error, log_tail, never_started, signal_name, write_error};
pub use probe::{
    PROBE_BASE, PROBE_SECS_PER_BYTE, PROBE_STOPPED, VideoInfo, check_clip, check_clips,
    probe_audio, probe_limit, probe_video, probe_videos,
};
pub use quote::{command_line, shell_quote};

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::ExitStatus;

    #[test]
    fn concat_lines_escape_quotes_and_keep_spaces() {
        assert_eq!(concat_line(Path::new("/a b/c.mp4")), "file '/a b/c.mp4'\n");
        assert_eq!(
            concat_line(Path::new("/x/it's.mp4")),
            "file '/x/it'\\''s.mp4'\n"
        );
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("plain-word_1.mp4"), "plain-word_1.mp4");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn encoder_always_writes_yuv420p() {
        let s = EncoderSettings {
            width: 320,
            height: 180,
            fps: 12,
            preset: "ultrafast".into(),
            crf: 18.5,
        };
        let a = encoder_args(&s, Path::new("/tmp/x.mp4.partial"));
        let i = a.iter().rposition(|x| x == "-pix_fmt").unwrap();
        assert_eq!(a[i + 1], "yuv420p");
        assert!(a.windows(2).any(|w| w == ["-crf", "18.5"]));
        assert!(
            a.windows(2).any(|w| w == ["-f", "mp4"]),
            "explicit muxer for a .partial name"
        );
    }

    #[test]
    fn clip_check_names_every_mismatch() {
        let s = EncoderSettings {
            width: 320,
            height: 180,
            fps: 12,
            preset: "ultrafast".into(),
            crf: 20.0,
        };
        let good = VideoInfo {
            codec: "h264".into(),
            width: 320,
            height: 180,
            pix_fmt: "yuv420p".into(),
            fps: (12, 1),
            frames: 24,
            duration: Some(2.0),
            has_audio: false,
        };
        assert!(check_clip(&good, &s, 24).is_ok());
        let bad = VideoInfo {
            width: 640,
            pix_fmt: "yuv444p".into(),
            frames: 20,
            ..good
        };
        let e = check_clip(&bad, &s, 24).unwrap_err();
        assert!(
            e.contains("size") && e.contains("yuv444p") && e.contains("20 frames"),
            "{e}"
        );
    }

    #[test]
    fn first_error_prefers_a_line_naming_a_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("l.log");
        std::fs::write(&p, "ffmpeg -i x error.mp4\nav_interleaved_write_frame(): No space left on device\nError writing trailer of /w/b.mp4.partial: No space left on device\nConversion failed!\n").unwrap();
        assert_eq!(
            first_error(&p).as_deref(),
            Some("Error writing trailer of /w/b.mp4.partial: No space left on device")
        );
        std::fs::write(&p, "cmd\nall good\n").unwrap();
        assert_eq!(first_error(&p), None);
    }

    #[test]
    fn log_tail_splits_carriage_returns() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("l.log");
        std::fs::write(&p, "cmd\nframe=1\rframe=2\rframe=3\nerror: boom\n").unwrap();
        assert_eq!(log_tail(&p, 2), vec!["frame=3", "error: boom"]);
        assert!(log_tail(&d.path().join("none"), 3).is_empty());
    }

    #[test]
    fn write_errors_are_found_even_when_ffmpeg_exited_0() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("l.log");
        // What ffmpeg 5.1 logs (and exits 0 after) when the disk fills during the trailer.
        std::fs::write(&p, "ffmpeg -i pipe:0 /w/clips/a.mp4.partial\nInput #0, rawvideo, from 'pipe:0':\n[libx264 @ 0x1] frame I:1 Avg QP:20.00 size: 1234\nError writing trailer of /w/clips/a.mp4.partial: No space left on device\nError closing file /w/clips/a.mp4.partial: No space left on device\n").unwrap();
        assert_eq!(
            write_error(&p).as_deref(),
            Some("Error writing trailer of /w/clips/a.mp4.partial: No space left on device")
        );
        std::fs::write(&p, "cmd /w/x\nav_interleaved_write_frame(): Broken pipe\n").unwrap();
        assert_eq!(
            write_error(&p).as_deref(),
            Some("av_interleaved_write_frame(): Broken pipe")
        );
        std::fs::write(&p, "cmd Error writing trailer No space left on device\nInput #0, rawvideo\n[libx264 @ 0x1] kb/s:331.06\nfarm worker 7: No space left on device\n").unwrap();
        assert_eq!(
            write_error(&p),
            None,
            "the command line and farm's own lines are not ffmpeg's"
        );
    }

    #[test]
    fn an_encoder_that_never_started_is_told_apart() {
        use std::os::unix::process::ExitStatusExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("l.log");
        std::fs::write(
            &p,
            "/x/ffmpeg -y out.mp4\n/x/ffmpeg: 2: exec: /nope/ffmpeg: not found\n",
        )
        .unwrap();
        let st = ExitStatus::from_raw(127 << 8);
        assert_eq!(
            never_started(&st, &p).as_deref(),
            Some(
                "exited with 127 before reading any frame: the command was not found (/x/ffmpeg: 2: exec: /nope/ffmpeg: not found)"
            )
        );
        let st126 = ExitStatus::from_raw(126 << 8);
        assert!(
            never_started(&st126, &p)
                .unwrap()
                .contains("could not be executed")
        );
        // ffmpeg ran (it opened its input): its own exit status stands.
        std::fs::write(&p, "cmd\nInput #0, rawvideo, from 'pipe:0':\n").unwrap();
        assert_eq!(never_started(&st, &p), None);
    }
}
