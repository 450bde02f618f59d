//! Audio decode: a soundtrack to mono f32 samples through ffmpeg's pipe.

use super::error::MediaError;
use std::io;
use std::path::Path;
use std::process::{Command, Stdio};

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
) -> Result<Vec<f32>, MediaError> {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let file = || path.to_path_buf();
    if !from.is_finite() || from < 0.0 {
        return Err(MediaError::AudioFrom { path: file(), from });
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
    let mut child = cmd.spawn().map_err(|e| MediaError::Spawn {
        program: ffmpeg.to_path_buf(),
        reason: e.to_string(),
    })?;
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
    let status = status.map_err(|e| MediaError::Wait(e.to_string()))?;
    if !status.success() {
        let line = decode_error_line(&stderr, path);
        if line.contains("matches no streams") {
            return Err(MediaError::AudioNoStream { path: file(), line });
        }
        if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) {
            return Err(MediaError::AudioEmptyFile { path: file(), line });
        }
        return Err(MediaError::AudioDecode {
            path: file(),
            status,
            line,
        });
    }
    read.map_err(|e| MediaError::AudioRead {
        path: file(),
        reason: e.to_string(),
    })?;
    if bytes.len() < 4 {
        let duration = stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix("Duration: "))
            .and_then(|d| d.split(',').next())
            .map(str::to_string);
        return Err(MediaError::AudioNothing {
            path: file(),
            from: (from > 0.0).then_some(from),
            duration,
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
