//! ffprobe: what a video or audio file holds, and whether a clip is what it must be.

use super::encoder::EncoderSettings;
use super::error::{MediaError, Mismatch};
use crate::procs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// What ffprobe says about a video file's first video stream.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// Codec name (`h264`).
    pub codec: String,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Pixel format (`yuv420p`).
    pub pix_fmt: String,
    /// Frame rate as a fraction (`r_frame_rate`).
    pub fps: (u32, u32),
    /// Frames (counted packets, or decoded frames with `count_frames`).
    pub frames: u64,
    /// Container duration in seconds, if known.
    pub duration: Option<f64>,
    /// Whether the file has an audio stream.
    pub has_audio: bool,
}

/// Every probe may take this long, plus [`PROBE_SECS_PER_BYTE`] for each byte of the file.
pub const PROBE_BASE: Duration = Duration::from_secs(20);
/// A probe reads every packet: one extra second per 20 MB (a slow disk reads faster than that).
pub const PROBE_SECS_PER_BYTE: f64 = 1.0 / 20e6;

/// Longest an ffprobe of `path` may run (time this process was running): [`PROBE_BASE`] plus
/// one second per 20 MB of the file.
pub fn probe_limit(path: &Path) -> Duration {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    PROBE_BASE + Duration::from_secs_f64(bytes as f64 * PROBE_SECS_PER_BYTE)
}

/// Run ffprobe on `path` in a process group of its own (see [`crate::procs`]): a stop signal
/// kills it ([`MediaError::ProbeStopped`], whose message is [`super::PROBE_STOPPED`]), and so does running past [`probe_limit`] (an error naming the
/// probe stage).
fn run_probe(ffprobe: &Path, args: &[&str], path: &Path) -> Result<String, MediaError> {
    let limit = probe_limit(path);
    let out = procs::output(
        Command::new(ffprobe)
            .args(["-v", "error"])
            .args(args)
            .arg(path),
        limit,
    )
    .map_err(|e| match e {
        procs::Stopped::Interrupted => MediaError::ProbeStopped,
        procs::Stopped::TimedOut(d) | procs::Stopped::Stalled(d) => MediaError::ProbeTimeout {
            path: path.to_path_buf(),
            secs: d.as_secs_f64(),
        },
        procs::Stopped::Io(e) => MediaError::Spawn {
            program: ffprobe.to_path_buf(),
            reason: e.to_string(),
        },
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(MediaError::Probe {
            path: path.to_path_buf(),
            stderr: err.trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Probe a video: codec, size, pixel format, rate and frame count. `count_frames` decodes
/// every frame (exact, slow); otherwise packets are counted (exact for our H.264 streams, fast).
pub fn probe_video(
    ffprobe: &Path,
    path: &Path,
    count_frames: bool,
) -> Result<VideoInfo, MediaError> {
    let count = if count_frames {
        "-count_frames"
    } else {
        "-count_packets"
    };
    let text = run_probe(
        ffprobe,
        &[
            count,
            "-show_entries",
            "stream=codec_type,codec_name,width,height,pix_fmt,r_frame_rate,nb_read_packets,nb_read_frames:format=duration",
            "-of",
            "default",
        ],
        path,
    )?;
    let mut info = VideoInfo {
        codec: String::new(),
        width: 0,
        height: 0,
        pix_fmt: String::new(),
        fps: (0, 1),
        frames: 0,
        duration: None,
        has_audio: false,
    };
    let mut seen_video = false;
    // ffprobe prints each stream as a [STREAM] block; fields come in its own order.
    for block in text.split("[/STREAM]") {
        let fields: Vec<(&str, &str)> = block.lines().filter_map(|l| l.split_once('=')).collect();
        let get = |k: &str| fields.iter().find(|(fk, _)| *fk == k).map(|(_, v)| *v);
        if let Some(d) = get("duration") {
            info.duration = d.parse().ok();
        }
        match get("codec_type") {
            Some("audio") => info.has_audio = true,
            Some("video") if !seen_video => {
                seen_video = true;
                info.codec = get("codec_name").unwrap_or_default().to_string();
                info.width = get("width").and_then(|v| v.parse().ok()).unwrap_or(0);
                info.height = get("height").and_then(|v| v.parse().ok()).unwrap_or(0);
                info.pix_fmt = get("pix_fmt").unwrap_or_default().to_string();
                if let Some((n, d)) = get("r_frame_rate").and_then(|v| v.split_once('/')) {
                    info.fps = (n.parse().unwrap_or(0), d.parse().unwrap_or(1));
                }
                let key = if count_frames {
                    "nb_read_frames"
                } else {
                    "nb_read_packets"
                };
                info.frames = get(key).and_then(|v| v.parse().ok()).unwrap_or(0);
            }
            _ => {}
        }
    }
    if !seen_video {
        return Err(MediaError::NoVideo {
            path: path.to_path_buf(),
        });
    }
    Ok(info)
}

/// Check a probed clip against what it must be; the reason when it is not.
pub fn check_clip(info: &VideoInfo, s: &EncoderSettings, frames: u64) -> Result<(), MediaError> {
    let mut wrong = Vec::new();
    if info.codec != "h264" {
        wrong.push(Mismatch::Codec(info.codec.clone()));
    }
    if (info.width, info.height) != (s.width, s.height) {
        wrong.push(Mismatch::Size(
            (info.width, info.height),
            (s.width, s.height),
        ));
    }
    if info.pix_fmt != "yuv420p" {
        wrong.push(Mismatch::PixelFormat(info.pix_fmt.clone()));
    }
    if info.fps.1 == 0 || info.fps.0 as u64 != s.fps as u64 * info.fps.1 as u64 {
        wrong.push(Mismatch::Rate(info.fps, s.fps));
    }
    if info.frames != frames {
        wrong.push(Mismatch::Frames(info.frames, frames));
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(MediaError::Mismatch(wrong))
    }
}

/// Probe many videos at once (up to `jobs` ffprobe processes at a time; ffprobe's start-up
/// dominates for small clips), counting packets.
pub fn probe_videos(
    ffprobe: &Path,
    paths: &[&Path],
    jobs: usize,
) -> Vec<Result<VideoInfo, MediaError>> {
    let mut out: Vec<Result<VideoInfo, MediaError>> =
        vec![Err(MediaError::ProbeStopped); paths.len()];
    let jobs = jobs.clamp(1, 16);
    for (chunk_in, chunk_out) in paths.chunks(jobs).zip(out.chunks_mut(jobs)) {
        std::thread::scope(|scope| {
            for (path, slot) in chunk_in.iter().zip(chunk_out.iter_mut()) {
                scope.spawn(move || *slot = probe_video(ffprobe, path, false));
            }
        });
    }
    out
}

/// Probe many clips at once (see [`probe_videos`]) and check each against `s` and its expected
/// frame count.
pub fn check_clips(
    ffprobe: &Path,
    clips: &[(PathBuf, u64)],
    s: &EncoderSettings,
    jobs: usize,
) -> Vec<Result<(), MediaError>> {
    let paths: Vec<&Path> = clips.iter().map(|(p, _)| p.as_path()).collect();
    probe_videos(ffprobe, &paths, jobs)
        .into_iter()
        .zip(clips)
        .map(|(r, (_, frames))| r.and_then(|i| check_clip(&i, s, *frames)))
        .collect()
}

/// Does this file have an audio stream ffprobe can read?
pub fn probe_audio(ffprobe: &Path, path: &Path) -> Result<f64, MediaError> {
    let text = run_probe(
        ffprobe,
        &[
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=codec_type:format=duration",
            "-of",
            "default=noprint_wrappers=1",
        ],
        path,
    )?;
    if !text.contains("codec_type=audio") {
        return Err(MediaError::NoAudio {
            path: path.to_path_buf(),
        });
    }
    let dur = text
        .lines()
        .find_map(|l| l.strip_prefix("duration="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    Ok(dur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::EncoderSettings;

    #[test]
    fn clip_check_names_every_mismatch() {
        let s = EncoderSettings {
            width: 320,
            height: 180,
            fps: 12,
            preset: crate::choices::X264Preset::Ultrafast,
            crf: 20.0,
            threads: 1,
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
        let e = check_clip(&bad, &s, 24).unwrap_err().to_string();
        assert!(
            e.contains("size") && e.contains("yuv444p") && e.contains("20 frames"),
            "{e}"
        );
    }
}
