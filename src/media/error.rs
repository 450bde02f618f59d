//! [`MediaError`]: why an ffmpeg or ffprobe step failed, as data. Each variant's `Display` is
//! the message farm prints (and always printed, word for word); callers match on the variant
//! instead of comparing strings (an interrupted join is [`MediaError::JoinStopped`]).

use super::logs::describe_status;
use std::path::PathBuf;
use std::process::ExitStatus;

/// The error of a probe stopped by a stop signal (SIGINT, SIGTERM, ...).
pub const PROBE_STOPPED: &str = "interrupted while ffprobe was reading the file";

/// The error of a join stopped by a stop signal.
pub const JOIN_STOPPED: &str = "the join was interrupted";

/// Why a probe, a join or an audio decode failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MediaError {
    /// ffmpeg or ffprobe could not be started.
    #[error("cannot run {}: {reason}", program.display())]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The operating system's words.
        reason: String,
    },
    /// Waiting for ffmpeg failed.
    #[error("cannot wait for ffmpeg: {0}")]
    Wait(String),
    /// A file farm writes for ffmpeg (the concat list, a log) could not be written.
    #[error("cannot write {}: {reason}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's words.
        reason: String,
    },
    /// A stop signal ended a probe.
    #[error("{PROBE_STOPPED}")]
    ProbeStopped,
    /// A probe ran past its limit ([`super::probe_limit`]) and was killed.
    #[error("probe stage: ffprobe did not finish reading {} within {secs:.0} s and was killed", path.display())]
    ProbeTimeout {
        /// The file.
        path: PathBuf,
        /// How long it ran, in seconds.
        secs: f64,
    },
    /// ffprobe exited with an error.
    #[error("ffprobe cannot read {}: {stderr}", path.display())]
    Probe {
        /// The file.
        path: PathBuf,
        /// What ffprobe said (trimmed).
        stderr: String,
    },
    /// The file has no video stream.
    #[error("{} has no video stream", path.display())]
    NoVideo {
        /// The file.
        path: PathBuf,
    },
    /// The file has no audio stream ffprobe can read.
    #[error("{} has no audio stream", path.display())]
    NoAudio {
        /// The file.
        path: PathBuf,
    },
    /// A clip is not what the encoder settings say it must be (every difference, in order).
    #[error("{}", join_mismatches(.0))]
    Mismatch(Vec<Mismatch>),
    /// A stop signal ended the join.
    #[error("{JOIN_STOPPED}")]
    JoinStopped,
    /// The join wrote nothing for the stall limit and was killed.
    #[error("join stage: ffmpeg (concat) wrote nothing for {secs:.0} s (stalled) and was killed; log {}", log.display())]
    JoinStalled {
        /// How long it was silent, in seconds.
        secs: f64,
        /// The join's log.
        log: PathBuf,
    },
    /// The join ran past its limit ([`super::join_limit`]) and was killed.
    #[error("join stage: ffmpeg (concat) did not finish within {secs:.0} s and was killed; log {}", log.display())]
    JoinTimeout {
        /// How long it ran, in seconds.
        secs: f64,
        /// The join's log.
        log: PathBuf,
    },
    /// The join's ffmpeg exited with an error.
    #[error("ffmpeg join failed ({}){}; log {}:\n    {}", describe_status(status), cause.as_ref().map(|c| format!(": {c}")).unwrap_or_default(), log.display(), tail.join("\n    "))]
    JoinExit {
        /// How it ended.
        status: ExitStatus,
        /// The line of its log that says why (a write error first), if any.
        cause: Option<String>,
        /// The join's log.
        log: PathBuf,
        /// The last lines of the log.
        tail: Vec<String>,
    },
    /// ffmpeg exited 0 but its log shows the output could not be written (a full disk: ffmpeg
    /// 5.1 exits 0 when it cannot write the trailer, and the file has no index).
    #[error("the join could not write {}: {line} (ffmpeg exited 0, but the file is incomplete); log {}", out.display(), log.display())]
    JoinWrite {
        /// The output.
        out: PathBuf,
        /// ffmpeg's line (`Error writing trailer of ...: No space left on device`).
        line: String,
        /// The join's log.
        log: PathBuf,
    },
    /// An audio decode was asked to start at a time that is not a number of seconds >= 0.
    #[error("audio {}: `from` must be a number of seconds >= 0 (got {from})", path.display())]
    AudioFrom {
        /// The soundtrack.
        path: PathBuf,
        /// The start asked for.
        from: f64,
    },
    /// The soundtrack has no audio stream.
    #[error("audio {}: the file has no audio stream (ffmpeg: {line})", path.display())]
    AudioNoStream {
        /// The soundtrack.
        path: PathBuf,
        /// ffmpeg's line.
        line: String,
    },
    /// The soundtrack is an empty file.
    #[error("audio {}: the file is empty (ffmpeg: {line})", path.display())]
    AudioEmptyFile {
        /// The soundtrack.
        path: PathBuf,
        /// ffmpeg's line.
        line: String,
    },
    /// ffmpeg could not decode the soundtrack.
    #[error("audio {}: ffmpeg cannot decode it ({}): {line}", path.display(), describe_status(status))]
    AudioDecode {
        /// The soundtrack.
        path: PathBuf,
        /// How ffmpeg ended.
        status: ExitStatus,
        /// ffmpeg's line.
        line: String,
    },
    /// ffmpeg's decoded samples could not be read from its pipe.
    #[error("audio {}: cannot read ffmpeg's output: {reason}", path.display())]
    AudioRead {
        /// The soundtrack.
        path: PathBuf,
        /// The operating system's words.
        reason: String,
    },
    /// Nothing was decoded: the stream is empty, or ends before `from`.
    #[error("audio {}: {}{}", path.display(), match from { Some(f) => format!("nothing to decode after `from` {f} s: the track ends before that"), None => "the audio stream is empty".to_string() }, duration.as_ref().map(|d| format!(" (ffmpeg: Duration: {d})")).unwrap_or_default())]
    AudioNothing {
        /// The soundtrack.
        path: PathBuf,
        /// The start asked for, when it was past 0.
        from: Option<f64>,
        /// The duration ffmpeg reported, as it wrote it.
        duration: Option<String>,
    },
}

impl MediaError {
    /// Whether a stop signal ended the step (a probe or the join), rather than a fault.
    pub fn is_interrupted(&self) -> bool {
        matches!(self, MediaError::ProbeStopped | MediaError::JoinStopped)
    }
}

impl From<MediaError> for String {
    fn from(e: MediaError) -> String {
        e.to_string()
    }
}

/// One way a probed clip differs from what it must be.
#[derive(Debug, Clone, PartialEq)]
pub enum Mismatch {
    /// Not H.264.
    Codec(String),
    /// Another frame size (got, want).
    Size((u32, u32), (u32, u32)),
    /// Not yuv420p.
    PixelFormat(String),
    /// Another frame rate (got as a fraction, want).
    Rate((u32, u32), u32),
    /// Another frame count (got, want).
    Frames(u64, u64),
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Codec(c) => write!(f, "codec {c} (want h264)"),
            Mismatch::Size((w, h), (ww, wh)) => write!(f, "size {w}x{h} (want {ww}x{wh})"),
            Mismatch::PixelFormat(p) => write!(f, "pixel format {p} (want yuv420p)"),
            Mismatch::Rate((n, d), want) => write!(f, "frame rate {n}/{d} (want {want})"),
            Mismatch::Frames(got, want) => write!(f, "{got} frames (want {want})"),
        }
    }
}

fn join_mismatches(m: &[Mismatch]) -> String {
    m.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn messages_are_the_ones_farm_always_printed() {
        let p = PathBuf::from("/w/a.mp4");
        let log = PathBuf::from("/w/join.log");
        assert_eq!(MediaError::JoinStopped.to_string(), JOIN_STOPPED);
        assert_eq!(MediaError::ProbeStopped.to_string(), PROBE_STOPPED);
        assert!(MediaError::JoinStopped.is_interrupted());
        assert!(!MediaError::NoVideo { path: p.clone() }.is_interrupted());
        assert_eq!(
            MediaError::ProbeTimeout {
                path: p.clone(),
                secs: 20.4
            }
            .to_string(),
            "probe stage: ffprobe did not finish reading /w/a.mp4 within 20 s and was killed"
        );
        let exit = MediaError::JoinExit {
            status: ExitStatus::from_raw(1 << 8),
            cause: Some("Error writing trailer of /w/o.mp4: No space left on device".into()),
            log: log.clone(),
            tail: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            exit.to_string(),
            "ffmpeg join failed (exit status 1): Error writing trailer of /w/o.mp4: No space left on device; log /w/join.log:\n    a\n    b"
        );
        let no_cause = MediaError::JoinExit {
            status: ExitStatus::from_raw(9),
            cause: None,
            log,
            tail: vec![],
        };
        assert!(
            no_cause
                .to_string()
                .starts_with("ffmpeg join failed (killed by signal 9 (SIGKILL; "),
            "{no_cause}"
        );
        assert_eq!(
            MediaError::AudioNothing {
                path: p.clone(),
                from: Some(3.5),
                duration: Some("00:00:02.00".into())
            }
            .to_string(),
            "audio /w/a.mp4: nothing to decode after `from` 3.5 s: the track ends before that (ffmpeg: Duration: 00:00:02.00)"
        );
        assert_eq!(
            MediaError::AudioNothing {
                path: p.clone(),
                from: None,
                duration: None
            }
            .to_string(),
            "audio /w/a.mp4: the audio stream is empty"
        );
        assert_eq!(
            MediaError::Mismatch(vec![
                Mismatch::Size((640, 180), (320, 180)),
                Mismatch::PixelFormat("yuv444p".into()),
                Mismatch::Frames(20, 24),
            ])
            .to_string(),
            "size 640x180 (want 320x180), pixel format yuv444p (want yuv420p), 20 frames (want 24)"
        );
        assert_eq!(
            String::from(MediaError::Spawn {
                program: "/x/ffprobe".into(),
                reason: "No such file or directory (os error 2)".into()
            }),
            "cannot run /x/ffprobe: No such file or directory (os error 2)"
        );
    }
}
