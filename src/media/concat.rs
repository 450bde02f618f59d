//! The join: clips in a concat list, joined by ffmpeg's concat demuxer (stream copy), with the
//! soundtrack muxed in. The list goes to ffmpeg on its stdin, so that its ffmpeg can be started
//! ahead ([`spawn_join`]) and be loaded by the time the clips are ready ([`PendingJoin`]); the
//! soundtrack is encoded to AAC by a second ffmpeg started with it, beside the rendering, and
//! copied by the join (`Soundtrack`).

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

/// Join clips with the concat demuxer (stream copy). With audio: AAC 192k (encoded ahead by
/// its own ffmpeg into the list's folder, `soundtrack.m4a`, and copied), padded with silence
/// when short and cut when long, the output's length fixed to frames / fps.
pub fn join(j: &Join) -> Result<(), MediaError> {
    spawn_join(j)?.finish(j)
}

/// A join's ffmpeg, started ahead ([`spawn_join`]): it has loaded and waits on its stdin for
/// the concat list, which [`PendingJoin::finish`] writes once every clip is known good.
/// Dropped unfinished, its process group is killed and it is reaped; it has written nothing
/// (ffmpeg opens its output only after its inputs, and the list never came).
///
/// Started ahead because an ffmpeg start costs 110-160 ms of wall time on the 2-core machine
/// (loading 215 shared libraries), all of it in the run's tail when the join starts after the
/// last clip; ahead, it overlaps the rendering (`scripts/bench-fixed.sh`, 4 clips of 720p
/// preview: the concat after the last check 243 ms -> ~40 ms).
pub struct PendingJoin {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    _group: procs::Group,
    /// The list as written to ffmpeg's stdin.
    list_text: String,
    /// The soundtrack's encoder, when there is one ([`spawn_soundtrack`]).
    audio: Option<Soundtrack>,
    done: bool,
}

impl Drop for PendingJoin {
    fn drop(&mut self) {
        if !self.done {
            // Killed before its stdin closes: an empty list must not start a join.
            procs::kill_and_reap(&mut self.child);
            drop(self.stdin.take());
        }
    }
}

/// The soundtrack encoded ahead: its section of the track (from `audio_from`, padded with
/// silence or cut to the video's length) as AAC 192k in `out`, which the join then copies.
///
/// Ahead because AAC encoding is the slowest part of a join with a soundtrack, and it needs
/// nothing the clips make: measured on the quick start's plan (16.5 s of Opus at 48 kHz,
/// 2-core machine), the join took 2.2 s of which the AAC encode alone 2.2 s (1.3 s of CPU), the
/// concat with the audio copied 0.24 s. Started with the join's ffmpeg (once every worker has
/// its first clip), it runs beside the rendering instead of after it.
struct Soundtrack {
    child: std::process::Child,
    _group: procs::Group,
    out: PathBuf,
    log: PathBuf,
    secs: f64,
    /// Reaped by [`Soundtrack::wait`] (whatever its end).
    reaped: bool,
}

impl Drop for Soundtrack {
    fn drop(&mut self) {
        if !self.reaped {
            // The join is gone (a clip failed, the run stopped, the join's own ffmpeg could
            // not start): its soundtrack has no use, and no process may outlive the run.
            procs::kill_and_reap(&mut self.child);
        }
    }
}

/// Start encoding the soundtrack section of `j` into `out` (log: `log`).
fn spawn_soundtrack(
    j: &Join,
    audio: &Path,
    out: &Path,
    log: &Path,
) -> Result<Soundtrack, MediaError> {
    let secs = j.frames as f64 / j.fps.max(1) as f64;
    let mut args: Vec<OsString> = ["-hide_banner", "-nostdin", "-nostats", "-y"]
        .iter()
        .map(OsString::from)
        .collect();
    if j.audio_from > 0.0 {
        // An input seek: the soundtrack starts at `from`, as the analysis did.
        args.extend(["-ss".into(), format!("{:.6}", j.audio_from).into()]);
    }
    args.extend(["-i".into(), audio.as_os_str().to_owned()]);
    args.extend(
        [
            "-map", "0:a:0", "-vn", "-c:a", "aac", "-b:a", "192k", "-af", "apad",
        ]
        .map(OsString::from),
    );
    // apad makes the stream endless; -t fixes its length to the video's.
    args.extend(["-t".into(), format!("{secs:.6}").into()]);
    args.extend(["-f", "mp4"].map(OsString::from));
    args.push(out.as_os_str().to_owned());
    let (child, group) =
        spawn_ffmpeg(j, &args, &command_line(j.ffmpeg, &args), log, Stdio::null())?;
    Ok(Soundtrack {
        child,
        _group: group,
        out: out.to_path_buf(),
        log: log.to_path_buf(),
        secs,
        reaped: false,
    })
}

impl Soundtrack {
    /// Wait for the encode, with the join's limits; Ok once `out` is written whole.
    fn wait(&mut self, stall: Duration) -> Result<(), MediaError> {
        let total = join_limit(0, self.secs);
        let r = wait_for(&mut self.child, total, &self.out, &self.log, stall);
        // procs::wait reaps the child (having killed it, when it stops it) before it returns.
        self.reaped = true;
        r
    }
}

/// Start one of the join's ffmpegs with `args`, its log opened with `first_line` and given its
/// stderr. ffmpeg runs in `j.dir`: a relative program path must not change meaning. Its own
/// process group, killed with the coordinator (PR_SET_PDEATHSIG: spawn from a thread that
/// outlives it), on a stop signal, when it writes nothing for `stall`, or past `join_limit`.
fn spawn_ffmpeg(
    j: &Join,
    args: &[OsString],
    first_line: &str,
    log: &Path,
    stdin: Stdio,
) -> Result<(std::process::Child, procs::Group), MediaError> {
    let logf = open_log(log, first_line).map_err(|e| MediaError::Write {
        path: log.to_path_buf(),
        reason: e.to_string(),
    })?;
    let program = std::path::absolute(j.ffmpeg).unwrap_or_else(|_| j.ffmpeg.to_path_buf());
    let child = procs::isolate(Command::new(program).args(args).current_dir(j.dir))
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(Stdio::from(logf))
        .spawn()
        .map_err(|e| MediaError::Spawn {
            program: j.ffmpeg.to_path_buf(),
            reason: e.to_string(),
        })?;
    let group = procs::Group::of(&child);
    Ok((child, group))
}

/// Wait for one of the join's ffmpegs, writing `out` with its stderr in `log`: killed past
/// `total` or when neither changes for `stall`; its exit status and log made into errors
/// (ffmpeg 5.1 exits 0 when it cannot write the trailer: the write error in the log says so).
fn wait_for(
    child: &mut std::process::Child,
    total: Duration,
    out: &Path,
    log: &Path,
    stall: Duration,
) -> Result<(), MediaError> {
    let limits = procs::Limits {
        total,
        progress: Some((&|| write_mark(out, log), stall)),
    };
    let st = match procs::wait(child, &limits) {
        Ok(st) => st,
        Err(procs::Stopped::Interrupted) => return Err(MediaError::JoinStopped),
        Err(procs::Stopped::Stalled(d)) => {
            return Err(MediaError::JoinStalled {
                secs: d.as_secs_f64(),
                log: log.to_path_buf(),
            });
        }
        Err(procs::Stopped::TimedOut(d)) => {
            return Err(MediaError::JoinTimeout {
                secs: d.as_secs_f64(),
                log: log.to_path_buf(),
            });
        }
        Err(procs::Stopped::Io(e)) => return Err(MediaError::Wait(e.to_string())),
    };
    let written = write_error(log);
    if !st.success() {
        return Err(MediaError::JoinExit {
            status: st,
            cause: written.or_else(|| first_error(log)),
            log: log.to_path_buf(),
            tail: log_tail(log, 8),
        });
    }
    if let Some(line) = written {
        return Err(MediaError::JoinWrite {
            out: out.to_path_buf(),
            line,
            log: log.to_path_buf(),
        });
    }
    Ok(())
}

/// Start the join's ffmpeg: the concat demuxer reads its list from stdin (`pipe:0`), each entry
/// `file:<path relative to dir>`, the only protocols allowed being `file` and `pipe`. Nothing
/// is written (not even the list) before [`PendingJoin::finish`].
pub fn spawn_join(j: &Join) -> Result<PendingJoin, MediaError> {
    let list_rel = j.list.strip_prefix(j.dir).unwrap_or(j.list);
    let list_dir = list_rel.parent().unwrap_or(Path::new(""));
    let mut list = String::new();
    for c in j.clips {
        // Relative to the work dir (where ffmpeg runs), through the list's own folder.
        let entry = list_dir.join(c);
        list.push_str(&concat_line(Path::new(&format!(
            "file:{}",
            entry.display()
        ))));
    }
    let mut args: Vec<OsString> = [
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-y",
        "-protocol_whitelist",
        "file,pipe",
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        "pipe:0",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    let mut audio = None;
    if let Some(a) = j.audio {
        // The soundtrack is encoded by its own ffmpeg, started now beside this one; the join
        // copies it (the concat's input only opens once the list comes, and the list comes
        // after the encode is done: see `finish`).
        let out = j.list.with_file_name("soundtrack.m4a");
        let log = j.log.with_file_name("soundtrack.log");
        let track = spawn_soundtrack(j, a, &out, &log)?;
        let rel = out.strip_prefix(j.dir).unwrap_or(&out).to_path_buf();
        audio = Some(track);
        args.extend(["-i".into(), rel.into_os_string()]);
        args.extend(
            [
                "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "copy",
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
    // The log's first line replays the join from the work dir: the list is in `list`.
    let replay = format!(
        "{} < {}",
        command_line(j.ffmpeg, &args),
        super::quote::shell_quote_os(list_rel.as_os_str())
    );
    let (mut child, group) = spawn_ffmpeg(j, &args, &replay, j.log, Stdio::piped())?;
    Ok(PendingJoin {
        stdin: child.stdin.take(),
        child,
        _group: group,
        list_text: list,
        audio,
        done: false,
    })
}

impl PendingJoin {
    /// Write the list (to `j.list`, for the record, and to ffmpeg's stdin), close the stdin and
    /// wait for the join (`j` as given to [`spawn_join`]).
    pub fn finish(mut self, j: &Join) -> Result<(), MediaError> {
        if let Some(a) = &mut self.audio {
            a.wait(j.stall)?;
        }
        std::fs::write(j.list, &self.list_text).map_err(|e| MediaError::Write {
            path: j.list.to_path_buf(),
            reason: e.to_string(),
        })?;
        {
            use std::io::Write;
            let mut stdin = self.stdin.take().expect("finished once");
            // A write error means ffmpeg is gone: its exit status and log say why.
            let _ = stdin.write_all(self.list_text.as_bytes());
        }
        self.done = true;
        let child = &mut self.child;
        let clip_bytes: u64 = j
            .clips
            .iter()
            .filter_map(|c| std::fs::metadata(j.list.parent().unwrap_or(j.dir).join(c)).ok())
            .map(|m| m.len())
            .sum();
        // The soundtrack is encoded already (copied here): the limit is the clips' alone.
        wait_for(child, join_limit(clip_bytes, 0.0), j.out, j.log, j.stall)
    }
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
