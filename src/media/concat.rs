//! The join: clips in a concat list, joined by ffmpeg's concat demuxer (stream copy), with the
//! soundtrack muxed in.

use super::encoder::muxer_for;
use super::error::MediaError;
use super::logs::{first_error, log_tail, open_log, write_error};
use super::quote::command_line;
use crate::procs;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// One line of a concat list: `file '<path>'`, with `'` escaped as `'\''`.
pub fn concat_line(path: &Path) -> String {
    format!(
        "file '{}'\n",
        path.display().to_string().replace('\'', r"'\''")
    )
}

/// What to join and how.
pub struct Join<'a> {
    /// ffmpeg.
    pub ffmpeg: &'a Path,
    /// The folder ffmpeg runs in (the work dir); `list` is relative to it, so that the project's
    /// path (which may hold a newline or bytes that are not UTF-8) is never written in the list.
    pub dir: &'a Path,
    /// Clips in order, relative to the list's folder (ids are safe: no control characters).
    pub clips: &'a [PathBuf],
    /// Where to write the concat list (inside `dir`).
    pub list: &'a Path,
    /// Soundtrack to mux, if any.
    pub audio: Option<&'a Path>,
    /// Where in the soundtrack the video starts, in seconds (0: its beginning).
    pub audio_from: f64,
    /// Total frames of the video.
    pub frames: u64,
    /// Frames per second.
    pub fps: u32,
    /// Output file (absolute; written by ffmpeg as given; the caller renames it into place).
    pub out: &'a Path,
    /// Log of the join (command line first).
    pub log: &'a Path,
    /// The join is killed when its output and log stay unchanged this long (active time).
    pub stall: Duration,
}

/// Longest a join may run (time this process was running), whatever its progress: two minutes,
/// plus one second per 2 MB of clips (stream copy), plus half a second per second of audio
/// (AAC encoding runs far faster than that).
pub fn join_limit(clip_bytes: u64, audio_secs: f64) -> Duration {
    Duration::from_secs(120)
        + Duration::from_secs_f64(clip_bytes as f64 / 2e6)
        + Duration::from_secs_f64(audio_secs.max(0.0) * 0.5)
}

/// A mark that changes whenever ffmpeg writes to `out` or `log` (sizes and modification times).
fn write_mark(out: &Path, log: &Path) -> u128 {
    let one = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| {
                let t = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                ((m.len() as u128) << 64) ^ t
            })
            .unwrap_or(0)
    };
    one(out).wrapping_mul(31).wrapping_add(one(log))
}

/// Join clips with the concat demuxer (stream copy). With audio: AAC 192k, padded with
/// silence when short and cut when long, the output's length fixed to frames / fps.
pub fn join(j: &Join) -> Result<(), MediaError> {
    let mut list = String::new();
    for c in j.clips {
        list.push_str(&concat_line(c));
    }
    std::fs::write(j.list, list).map_err(|e| MediaError::Write {
        path: j.list.to_path_buf(),
        reason: e.to_string(),
    })?;
    let list_arg = j.list.strip_prefix(j.dir).unwrap_or(j.list);
    let mut args: Vec<OsString> = [
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-y",
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    args.push(list_arg.as_os_str().to_owned());
    if let Some(a) = j.audio {
        if j.audio_from > 0.0 {
            // An input seek: the soundtrack starts at `from`, as the analysis did.
            args.extend(["-ss".into(), format!("{:.6}", j.audio_from).into()]);
        }
        args.extend(["-i".into(), a.as_os_str().to_owned()]);
        args.extend(
            [
                "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "192k",
                "-af", "apad",
            ]
            .map(OsString::from),
        );
        // A bare -shortest would cut the video when the audio is short; -t fixes the length.
        args.extend([
            "-t".into(),
            format!("{:.6}", j.frames as f64 / j.fps as f64).into(),
        ]);
    } else {
        args.extend(["-map", "0:v:0", "-c:v", "copy"].map(OsString::from));
    }
    args.extend(["-movflags", "+faststart", "-f", muxer_for(j.out)].map(OsString::from));
    if muxer_for(j.out) == "matroska" {
        // -movflags is for mp4/mov only; harmless elsewhere but keep the command honest.
        let i = args
            .iter()
            .position(|a| a == "-movflags")
            .expect("just added");
        args.drain(i..i + 2);
    }
    args.push(j.out.as_os_str().to_owned());
    let logf = open_log(j.log, &command_line(j.ffmpeg, &args)).map_err(|e| MediaError::Write {
        path: j.log.to_path_buf(),
        reason: e.to_string(),
    })?;
    // ffmpeg runs in `dir`: a relative program path must not change meaning. Its own process
    // group, killed with the coordinator (PR_SET_PDEATHSIG), on a stop signal, when it writes
    // nothing for `stall`, or past `join_limit`.
    let program = std::path::absolute(j.ffmpeg).unwrap_or_else(|_| j.ffmpeg.to_path_buf());
    let mut child = procs::isolate(Command::new(program).args(&args).current_dir(j.dir))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(logf))
        .spawn()
        .map_err(|e| MediaError::Spawn {
            program: j.ffmpeg.to_path_buf(),
            reason: e.to_string(),
        })?;
    let _group = procs::Group::of(&child);
    let clip_bytes: u64 = j
        .clips
        .iter()
        .filter_map(|c| std::fs::metadata(c).ok())
        .map(|m| m.len())
        .sum();
    let audio_secs = j.audio.map(|_| j.frames as f64 / j.fps.max(1) as f64);
    let limits = procs::Limits {
        total: join_limit(clip_bytes, audio_secs.unwrap_or(0.0)),
        progress: Some((&|| write_mark(j.out, j.log), j.stall)),
    };
    let st = match procs::wait(&mut child, &limits) {
        Ok(st) => st,
        Err(procs::Stopped::Interrupted) => return Err(MediaError::JoinStopped),
        Err(procs::Stopped::Stalled(d)) => {
            return Err(MediaError::JoinStalled {
                secs: d.as_secs_f64(),
                log: j.log.to_path_buf(),
            });
        }
        Err(procs::Stopped::TimedOut(d)) => {
            return Err(MediaError::JoinTimeout {
                secs: d.as_secs_f64(),
                log: j.log.to_path_buf(),
            });
        }
        Err(procs::Stopped::Io(e)) => return Err(MediaError::Wait(e.to_string())),
    };
    let written = write_error(j.log);
    if !st.success() {
        return Err(MediaError::JoinExit {
            status: st,
            cause: written.or_else(|| first_error(j.log)),
            log: j.log.to_path_buf(),
            tail: log_tail(j.log, 8),
        });
    }
    if let Some(line) = written {
        // ffmpeg 5.1 exits 0 when it cannot write the trailer: the file has no index (moov).
        return Err(MediaError::JoinWrite {
            out: j.out.to_path_buf(),
            line,
            log: j.log.to_path_buf(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_lines_escape_quotes_and_keep_spaces() {
        assert_eq!(concat_line(Path::new("/a b/c.mp4")), "file '/a b/c.mp4'\n");
        assert_eq!(
            concat_line(Path::new("/x/it's.mp4")),
            "file '/x/it'\\''s.mp4'\n"
        );
    }
}
