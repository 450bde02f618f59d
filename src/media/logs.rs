//! What a process and its log say: exit statuses in words, the tail of a log, the line that
//! names what went wrong, write errors, and an encoder that never started.

use std::fs::File;
use std::io::{self, BufRead, Write};
use std::path::Path;
use std::process::ExitStatus;

/// Open a log file whose first line is `cmdline`; the returned handle continues after it.
pub(super) fn open_log(log: &Path, cmdline: &str) -> io::Result<File> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = File::create(log)?;
    writeln!(f, "{cmdline}")?;
    f.flush()?;
    Ok(f)
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

#[cfg(test)]
mod tests {
    use super::*;

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
