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

use crate::procs;
use serde::{Deserialize, Serialize};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::Duration;

/// x264 settings of one clip encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderSettings {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// x264 preset.
    pub preset: String,
    /// x264 CRF.
    pub crf: f32,
}

/// ffmpeg's container name for an output extension.
pub fn muxer_for(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("mkv") => "matroska",
        Some("mov") => "mov",
        _ => "mp4",
    }
}

/// The encoder's argument list (without the program name). Paths go as they are (bytes), so a
/// folder whose name is not UTF-8 works.
pub fn encoder_args(s: &EncoderSettings, out: &Path) -> Vec<OsString> {
    let mut a: Vec<String> = [
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "info",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.push(format!("{}x{}", s.width, s.height));
    a.extend([
        "-r".into(),
        s.fps.to_string(),
        "-i".into(),
        "pipe:0".into(),
        "-an".into(),
    ]);
    a.extend([
        "-c:v".into(),
        "libx264".into(),
        "-preset".into(),
        s.preset.clone(),
    ]);
    a.extend(["-crf".into(), fmt_num(s.crf)]);
    a.extend([
        "-pix_fmt".into(),
        "yuv420p".into(),
        "-f".into(),
        muxer_for(out).into(),
    ]);
    let mut a: Vec<OsString> = a.into_iter().map(OsString::from).collect();
    a.push(out.as_os_str().to_owned());
    a
}

fn fmt_num(x: f32) -> String {
    if x.fract() == 0.0 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Quote one word for a POSIX shell (only for showing commands to a user; we never run a shell).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A command line as a user could paste it into a shell (bytes that are not UTF-8 shown as
/// U+FFFD).
pub fn command_line(program: &Path, args: &[impl AsRef<OsStr>]) -> String {
    std::iter::once(program.display().to_string())
        .chain(
            args.iter()
                .map(|a| a.as_ref().to_string_lossy().into_owned()),
        )
        .map(|w| shell_quote(&w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Open a log file whose first line is `cmdline`; the returned handle continues after it.
fn open_log(log: &Path, cmdline: &str) -> io::Result<File> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = File::create(log)?;
    writeln!(f, "{cmdline}")?;
    f.flush()?;
    Ok(f)
}

/// A running x264 encoder reading raw rgb24 frames on stdin.
pub struct Encoder {
    child: Child,
    stdin: Option<ChildStdin>,
    frame_len: usize,
}

impl Encoder {
    /// Start ffmpeg writing `out`, with its stderr appended to `log` after the command line.
    pub fn spawn(
        ffmpeg: &Path,
        s: &EncoderSettings,
        out: &Path,
        log: &Path,
    ) -> io::Result<Encoder> {
        let args = encoder_args(s, out);
        let logf = open_log(log, &command_line(ffmpeg, &args))?;
        let mut child = Command::new(ffmpeg)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::from(logf))
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", ffmpeg.display())))?;
        let stdin = child.stdin.take();
        if let Some(w) = &stdin {
            grow_pipe(w);
        }
        Ok(Encoder {
            child,
            stdin,
            frame_len: s.width as usize * s.height as usize * 3,
        })
    }

    /// The encoder's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Write one frame. A dead encoder shows up here as a broken pipe.
    pub fn write_frame(&mut self, rgb: &[u8]) -> io::Result<()> {
        assert_eq!(
            rgb.len(),
            self.frame_len,
            "frame size does not match the encoder"
        );
        match &mut self.stdin {
            Some(w) => w.write_all(rgb),
            None => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "encoder input already closed",
            )),
        }
    }

    /// Close stdin and wait for ffmpeg to finish the file.
    pub fn finish(mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        self.child.wait()
    }

    /// Stop the encoder now and reap it (for a failed or abandoned clip).
    pub fn kill(mut self) -> Option<ExitStatus> {
        drop(self.stdin.take());
        let _ = self.child.kill();
        self.child.wait().ok()
    }

    /// Wait for an encoder whose pipe broke, to learn how it ended.
    pub fn wait_dead(mut self) -> Option<ExitStatus> {
        drop(self.stdin.take());
        // It is already exiting (its end of the pipe is closed); give it a moment, then kill.
        for _ in 0..100 {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.kill()
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // Never leave a zombie or an orphaned ffmpeg behind.
        if self.stdin.take().is_some() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Ask for a 1 MiB pipe (the default is 64 KiB): a 720p frame is 2.7 MB, and every refill of a
/// small pipe costs a pair of context switches. Best effort: the kernel may refuse.
fn grow_pipe(w: &ChildStdin) {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a file descriptor we own; F_SETPIPE_SZ takes an int and touches no memory.
    unsafe {
        libc::fcntl(w.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20);
    }
}

/// An encoder fed by its own writer thread through a short queue of frames, so that rendering
/// the next frames overlaps with ffmpeg's start-up and with the pipe writes. Frame buffers are
/// recycled: the queue holds at most `depth` frames and no frame is allocated per frame.
pub struct QueuedEncoder {
    full: Option<crossbeam_channel::Sender<Vec<u8>>>,
    empty: crossbeam_channel::Receiver<Vec<u8>>,
    writer: Option<std::thread::JoinHandle<(Encoder, io::Result<()>)>>,
    pid: u32,
}

impl QueuedEncoder {
    /// Start the writer thread with `depth` frame buffers of `frame_len` bytes.
    pub fn new(mut enc: Encoder, depth: usize) -> QueuedEncoder {
        let depth = depth.max(1);
        let frame_len = enc.frame_len;
        let pid = enc.pid();
        let (full_tx, full_rx) = crossbeam_channel::bounded::<Vec<u8>>(depth);
        let (empty_tx, empty_rx) = crossbeam_channel::bounded::<Vec<u8>>(depth + 1);
        for _ in 0..=depth {
            empty_tx
                .send(vec![0u8; frame_len])
                .expect("room for every buffer");
        }
        let writer = std::thread::spawn(move || {
            for buf in full_rx {
                if let Err(e) = enc.write_frame(&buf) {
                    return (enc, Err(e));
                }
                let _ = empty_tx.send(buf);
            }
            (enc, Ok(()))
        });
        QueuedEncoder {
            full: Some(full_tx),
            empty: empty_rx,
            writer: Some(writer),
            pid,
        }
    }

    /// The encoder's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// A buffer to render the next frame into; None once the writer has stopped (a write
    /// failed: [`QueuedEncoder::close`] tells why). Blocks while the encoder is behind.
    pub fn buffer(&self) -> Option<Vec<u8>> {
        self.empty.recv().ok()
    }

    /// Queue a rendered frame; false once the writer has stopped.
    pub fn submit(&self, frame: Vec<u8>) -> bool {
        self.full.as_ref().is_some_and(|tx| tx.send(frame).is_ok())
    }

    /// Flush the queue and stop the writer: the encoder back, with the first write error if any.
    pub fn close(mut self) -> (Encoder, io::Result<()>) {
        drop(self.full.take());
        let writer = self.writer.take().expect("closed once");
        match writer.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        }
    }
}

/// Describe an exit status in words: "exit status 1", "killed by signal 9 (SIGKILL)".
pub fn describe_status(st: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = st.code() {
        format!("exit status {code}")
    } else if let Some(sig) = st.signal() {
        let hint = if sig == libc::SIGKILL {
            "; the out-of-memory killer or a person sent it"
        } else {
            ""
        };
        format!("killed by signal {sig} ({}{hint})", signal_name(sig))
    } else {
        format!("{st}")
    }
}

/// The usual name of a signal number.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        _ => "signal",
    }
}

/// The last `n` lines of a log file (carriage-return progress lines are split too).
pub fn log_tail(path: &Path, n: usize) -> Vec<String> {
    let Ok(f) = File::open(path) else {
        return Vec::new();
    };
    let mut ring = std::collections::VecDeque::with_capacity(n + 1);
    for line in io::BufReader::new(f).split(b'\n').map_while(Result::ok) {
        let text = String::from_utf8_lossy(&line);
        for part in text.split('\r').filter(|s| !s.trim().is_empty()) {
            ring.push_back(part.trim_end().to_string());
            if ring.len() > n {
                ring.pop_front();
            }
        }
    }
    ring.into()
}

/// The line of an ffmpeg log that best says what went wrong (a line naming a file wins):
/// e.g. `Error writing trailer of /x/b.mp4.partial: No space left on device`.
pub fn first_error(path: &Path) -> Option<String> {
    const MARKS: &[&str] = &[
        "Error",
        "error",
        "No space left",
        "Permission denied",
        "Invalid",
        "No such file",
        "Cannot",
        "cannot",
        "Killed",
    ];
    let text = std::fs::read_to_string(path).ok()?;
    let candidates: Vec<&str> = text
        .lines()
        .skip(1) // the command line
        .flat_map(|l| l.split('\r'))
        .map(str::trim)
        .filter(|l| {
            !l.starts_with("farm worker")
                && !l.contains("Conversion failed")
                && MARKS.iter().any(|m| l.contains(m))
        })
        .collect();
    candidates
        .iter()
        .find(|l| l.contains('/'))
        .or(candidates.first())
        .map(|l| l.to_string())
}

/// What ffmpeg writes to its log when its output could not be written. ffmpeg 5.1 logs
/// `Error writing trailer of X: No space left on device` and still exits 0, so a log is scanned
/// even after a clean exit.
const WRITE_ERRORS: &[&str] = &[
    "Error writing trailer",
    "Error closing file",
    "Could not write header",
    "av_interleaved_write_frame()",
    "to the muxer",
    "No space left on device",
    "Disk quota exceeded",
    "File too large",
    "Read-only file system",
    "Input/output error",
    "Broken pipe",
];

/// The line of an ffmpeg log that says its output could not be written, if there is one
/// (`No space left on device` first, then a line naming a file): e.g.
/// `Error writing trailer of /w/clips/b.mp4.partial: No space left on device`.
pub fn write_error(path: &Path) -> Option<String> {
    let text = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&text);
    let hits: Vec<&str> = text
        .lines()
        .skip(1) // the command line
        .flat_map(|l| l.split('\r'))
        .map(str::trim)
        .filter(|l| !l.starts_with("farm ") && WRITE_ERRORS.iter().any(|m| l.contains(m)))
        .collect();
    let full = |l: &&&str| l.contains("No space left on device");
    hits.iter()
        .filter(full)
        .find(|l| l.contains('/'))
        .or_else(|| hits.iter().find(full))
        .or_else(|| hits.iter().find(|l| l.contains('/')))
        .or(hits.first())
        .map(|l| l.to_string())
}

/// When an encoder ended without ever opening its input (its log has no `Input #0` line: the
/// program named as ffmpeg is not ffmpeg, or is a script whose command was not found), why, in
/// words: "exited with 127 before reading any frame: the command was not found (sh: 1: exec:
/// /x: not found)". `None` when ffmpeg did run.
pub fn never_started(st: &ExitStatus, log: &Path) -> Option<String> {
    let text = std::fs::read(log).ok()?;
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("farm "))
        .collect();
    if lines.iter().any(|l| l.starts_with("Input #")) {
        return None;
    }
    let what = match st.code() {
        Some(127) => "the command was not found",
        Some(126) => "the command could not be executed",
        _ => return None,
    };
    let said = lines.last().map(|l| format!(" ({l})")).unwrap_or_default();
    Some(format!(
        "exited with {} before reading any frame: {what}{said}",
        st.code().unwrap_or_default()
    ))
}

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

/// The error of a probe stopped by a stop signal (SIGINT, SIGTERM, ...).
pub const PROBE_STOPPED: &str = "interrupted while ffprobe was reading the file";

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
/// kills it ([`PROBE_STOPPED`]), and so does running past [`probe_limit`] (an error naming the
/// probe stage).
fn run_probe(ffprobe: &Path, args: &[&str], path: &Path) -> Result<String, String> {
    let limit = probe_limit(path);
    let out = procs::output(
        Command::new(ffprobe)
            .args(["-v", "error"])
            .args(args)
            .arg(path),
        limit,
    )
    .map_err(|e| match e {
        procs::Stopped::Interrupted => PROBE_STOPPED.to_string(),
        procs::Stopped::TimedOut(d) | procs::Stopped::Stalled(d) => format!(
            "probe stage: ffprobe did not finish reading {} within {:.0} s and was killed",
            path.display(),
            d.as_secs_f64()
        ),
        procs::Stopped::Io(e) => format!("cannot run {}: {e}", ffprobe.display()),
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "ffprobe cannot read {}: {}",
            path.display(),
            err.trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Probe a video: codec, size, pixel format, rate and frame count. `count_frames` decodes
/// every frame (exact, slow); otherwise packets are counted (exact for our H.264 streams, fast).
pub fn probe_video(ffprobe: &Path, path: &Path, count_frames: bool) -> Result<VideoInfo, String> {
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
        return Err(format!("{} has no video stream", path.display()));
    }
    Ok(info)
}

/// Check a probed clip against what it must be; the reason when it is not.
pub fn check_clip(info: &VideoInfo, s: &EncoderSettings, frames: u64) -> Result<(), String> {
    let mut wrong = Vec::new();
    if info.codec != "h264" {
        wrong.push(format!("codec {} (want h264)", info.codec));
    }
    if (info.width, info.height) != (s.width, s.height) {
        wrong.push(format!(
            "size {}x{} (want {}x{})",
            info.width, info.height, s.width, s.height
        ));
    }
    if info.pix_fmt != "yuv420p" {
        wrong.push(format!("pixel format {} (want yuv420p)", info.pix_fmt));
    }
    if info.fps.1 == 0 || info.fps.0 as u64 != s.fps as u64 * info.fps.1 as u64 {
        wrong.push(format!(
            "frame rate {}/{} (want {})",
            info.fps.0, info.fps.1, s.fps
        ));
    }
    if info.frames != frames {
        wrong.push(format!("{} frames (want {frames})", info.frames));
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join(", "))
    }
}

/// Probe many videos at once (up to `jobs` ffprobe processes at a time; ffprobe's start-up
/// dominates for small clips), counting packets.
pub fn probe_videos(
    ffprobe: &Path,
    paths: &[&Path],
    jobs: usize,
) -> Vec<Result<VideoInfo, String>> {
    let mut out: Vec<Result<VideoInfo, String>> = vec![Err(String::new()); paths.len()];
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
) -> Vec<Result<(), String>> {
    let paths: Vec<&Path> = clips.iter().map(|(p, _)| p.as_path()).collect();
    probe_videos(ffprobe, &paths, jobs)
        .into_iter()
        .zip(clips)
        .map(|(r, (_, frames))| r.and_then(|i| check_clip(&i, s, *frames)))
        .collect()
}

/// Does this file have an audio stream ffprobe can read?
pub fn probe_audio(ffprobe: &Path, path: &Path) -> Result<f64, String> {
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
        return Err(format!("{} has no audio stream", path.display()));
    }
    let dur = text
        .lines()
        .find_map(|l| l.strip_prefix("duration="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    Ok(dur)
}

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

/// The error of a join stopped by a stop signal.
pub const JOIN_STOPPED: &str = "the join was interrupted";

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
pub fn join(j: &Join) -> Result<(), String> {
    let mut list = String::new();
    for c in j.clips {
        list.push_str(&concat_line(c));
    }
    std::fs::write(j.list, list).map_err(|e| format!("cannot write {}: {e}", j.list.display()))?;
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
    let logf = open_log(j.log, &command_line(j.ffmpeg, &args))
        .map_err(|e| format!("cannot write {}: {e}", j.log.display()))?;
    // ffmpeg runs in `dir`: a relative program path must not change meaning. Its own process
    // group, killed with the coordinator (PR_SET_PDEATHSIG), on a stop signal, when it writes
    // nothing for `stall`, or past `join_limit`.
    let program = std::path::absolute(j.ffmpeg).unwrap_or_else(|_| j.ffmpeg.to_path_buf());
    let mut child = procs::isolate(Command::new(program).args(&args).current_dir(j.dir))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(logf))
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", j.ffmpeg.display()))?;
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
        Err(procs::Stopped::Interrupted) => return Err(JOIN_STOPPED.to_string()),
        Err(procs::Stopped::Stalled(d)) => {
            return Err(format!(
                "join stage: ffmpeg (concat) wrote nothing for {:.0} s (stalled) and was killed; log {}",
                d.as_secs_f64(),
                j.log.display()
            ));
        }
        Err(procs::Stopped::TimedOut(d)) => {
            return Err(format!(
                "join stage: ffmpeg (concat) did not finish within {:.0} s and was killed; log {}",
                d.as_secs_f64(),
                j.log.display()
            ));
        }
        Err(procs::Stopped::Io(e)) => return Err(format!("cannot wait for ffmpeg: {e}")),
    };
    let written = write_error(j.log);
    if !st.success() {
        let tail = log_tail(j.log, 8).join("\n    ");
        let cause = written
            .or_else(|| first_error(j.log))
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        return Err(format!(
            "ffmpeg join failed ({}){cause}; log {}:\n    {tail}",
            describe_status(&st),
            j.log.display()
        ));
    }
    if let Some(e) = written {
        // ffmpeg 5.1 exits 0 when it cannot write the trailer: the file has no index (moov).
        return Err(format!(
            "the join could not write {}: {e} (ffmpeg exited 0, but the file is incomplete); log {}",
            j.out.display(),
            j.log.display()
        ));
    }
    Ok(())
}

/// Decode the first audio stream of `path` to mono f32 samples at `rate` Hz, starting `from`
/// seconds in: `ffmpeg -ss FROM -i PATH -map 0:a:0 -ac 1 -ar RATE -f f32le pipe:1`, read from
/// the pipe (nothing touches the disk). Any channel layout is mixed down by ffmpeg and any
/// sample rate resampled. ffmpeg runs in its own process group, like the workers, so that a
/// terminal's Ctrl-C reaches farm only. The error names the file and quotes ffmpeg's own line.
pub fn decode_audio_mono(
    ffmpeg: &Path,
    path: &Path,
    from: f64,
    rate: u32,
) -> Result<Vec<f32>, String> {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let name = path.display();
    if !from.is_finite() || from < 0.0 {
        return Err(format!(
            "audio {name}: `from` must be a number of seconds >= 0 (got {from})"
        ));
    }
    let mut cmd = Command::new(ffmpeg);
    cmd.args(["-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"]);
    if from > 0.0 {
        cmd.arg("-ss").arg(format!("{from:.6}"));
    }
    cmd.arg("-i")
        .arg(path)
        .args(["-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar"])
        .arg(rate.to_string())
        .args(["-c:a", "pcm_f32le", "-f", "f32le", "pipe:1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", ffmpeg.display()))?;
    // stderr on its own thread, so that neither pipe can fill up and stall ffmpeg; at most
    // 1 MiB of it is kept (a damaged file can make ffmpeg complain for every packet).
    let mut err = child.stderr.take().expect("stderr is piped");
    let err_thread = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let _ = (&mut err).take(1 << 20).read_to_end(&mut kept);
        let _ = io::copy(&mut err, &mut io::sink());
        kept
    });
    let mut bytes = Vec::new();
    let read = child
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_end(&mut bytes);
    let status = child.wait();
    let stderr = String::from_utf8_lossy(&err_thread.join().unwrap_or_default()).into_owned();
    let status = status.map_err(|e| format!("cannot wait for ffmpeg: {e}"))?;
    if !status.success() {
        let line = decode_error_line(&stderr, path);
        if line.contains("matches no streams") {
            return Err(format!(
                "audio {name}: the file has no audio stream (ffmpeg: {line})"
            ));
        }
        if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) {
            return Err(format!("audio {name}: the file is empty (ffmpeg: {line})"));
        }
        return Err(format!(
            "audio {name}: ffmpeg cannot decode it ({}): {line}",
            describe_status(&status)
        ));
    }
    read.map_err(|e| format!("audio {name}: cannot read ffmpeg's output: {e}"))?;
    if bytes.len() < 4 {
        let dur = stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix("Duration: "))
            .and_then(|d| d.split(',').next())
            .map(|d| format!(" (ffmpeg: Duration: {d})"))
            .unwrap_or_default();
        return Err(if from > 0.0 {
            format!(
                "audio {name}: nothing to decode after `from` {from} s: the track ends before that{dur}"
            )
        } else {
            format!("audio {name}: the audio stream is empty{dur}")
        });
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// The line of a failed decode's stderr that says what went wrong: one naming the file, else
/// one with an error word, else the last line.
fn decode_error_line(stderr: &str, path: &Path) -> String {
    const MARKS: &[&str] = &[
        "Error",
        "error",
        "Invalid",
        "No such file",
        "matches no streams",
        "Permission denied",
    ];
    let name = path.display().to_string();
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let marked = |l: &&&str| MARKS.iter().any(|m| l.contains(m));
    lines
        .iter()
        .find(|l| l.contains(&name) && marked(l))
        .or_else(|| lines.iter().find(marked))
        .or(lines.last())
        .map(|l| l.to_string())
        .unwrap_or_else(|| "no message".to_string())
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
