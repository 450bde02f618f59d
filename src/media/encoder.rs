//! The clip encoder: x264 settings, its argument list, the ffmpeg process reading raw yuv420p
//! frames on a pipe ([`Encoder`]) and the writer thread that feeds it ([`QueuedEncoder`]).
//!
//! The frames arrive already converted (`render::yuv`, by the worker): ffmpeg runs no swscale,
//! the pipe carries 1.5 bytes a pixel instead of 3, and the stream is tagged with the matrix
//! the conversion used ([`EncoderSettings::matrix`]: BT.709 from 720 lines up, SMPTE 170M
//! below, limited range).
//!
//! x264 gets an explicit `-threads` ([`EncoderSettings::threads`], chosen by
//! `profile::x264_threads` from the cores, never from `--workers`: the encoded bytes depend on
//! it), not its own 1.5 x cores per encoder, which oversubscribes a machine running a worker
//! per core.

use super::logs::open_log;
use super::quote::command_line;
use crate::choices::X264Preset;
use crate::render::yuv::{Matrix, yuv420p_len};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};

/// x264 settings of one clip encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderSettings {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// x264 preset (serialised as its word).
    pub preset: X264Preset,
    /// x264 CRF.
    pub crf: f32,
    /// x264 threads (`-threads`), at least 1. The encoded bytes depend on it, so it never
    /// depends on `--workers` (see `profile::x264_threads`); it is left out of the clip's hash
    /// (a clip encoded with another thread count is the same clip: `clip::ClipSpec::content_hash`).
    pub threads: u32,
}

impl EncoderSettings {
    /// The colour matrix the frames are converted with and the stream is tagged with.
    pub fn matrix(&self) -> Matrix {
        Matrix::for_height(self.height)
    }

    /// Bytes of one frame on the encoder's pipe (yuv420p).
    pub fn frame_len(&self) -> usize {
        yuv420p_len(self.width as usize, self.height as usize)
    }
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
        "yuv420p",
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
        s.preset.name().to_string(),
    ]);
    a.extend(["-crf".into(), fmt_num(s.crf)]);
    a.extend(["-threads".into(), s.threads.max(1).to_string()]);
    let m = s.matrix().ffmpeg_name();
    a.extend([
        "-pix_fmt".into(),
        "yuv420p".into(),
        "-colorspace".into(),
        m.into(),
        "-color_primaries".into(),
        m.into(),
        "-color_trc".into(),
        m.into(),
        "-color_range".into(),
        "tv".into(),
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

/// A running x264 encoder reading raw yuv420p frames on stdin.
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
            frame_len: s.frame_len(),
        })
    }

    /// The encoder's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Write one frame. A dead encoder shows up here as a broken pipe.
    pub fn write_frame(&mut self, frame: &[u8]) -> io::Result<()> {
        assert_eq!(
            frame.len(),
            self.frame_len,
            "frame size does not match the encoder"
        );
        match &mut self.stdin {
            Some(w) => w.write_all(frame),
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
    let _ = rustix::pipe::fcntl_setpipe_size(w, 1 << 20);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoder_always_writes_yuv420p() {
        let s = EncoderSettings {
            width: 320,
            height: 180,
            fps: 12,
            preset: X264Preset::Ultrafast,
            crf: 18.5,
            threads: 1,
        };
        let a = encoder_args(&s, Path::new("/tmp/x.mp4.partial"));
        assert!(a.windows(2).any(|w| w == ["-threads", "1"]));
        let i = a.iter().rposition(|x| x == "-pix_fmt").unwrap();
        assert_eq!(a[i + 1], "yuv420p");
        assert!(a.windows(2).any(|w| w == ["-crf", "18.5"]));
        // Input and output are yuv420p (no swscale), tagged with the SD matrix at 180 lines...
        assert_eq!(a.iter().filter(|x| *x == "yuv420p").count(), 2);
        for tag in ["-colorspace", "-color_primaries", "-color_trc"] {
            assert!(a.windows(2).any(|w| w == [tag, "smpte170m"]), "{tag}");
        }
        assert!(a.windows(2).any(|w| w == ["-color_range", "tv"]));
        // ...and BT.709 from 720 lines up.
        let hd = EncoderSettings {
            height: 720,
            width: 1280,
            ..s
        };
        let a = encoder_args(&hd, Path::new("/tmp/x.mp4.partial"));
        assert!(a.windows(2).any(|w| w == ["-colorspace", "bt709"]));
        assert_eq!(hd.frame_len(), 1280 * 720 * 3 / 2);
        assert!(
            a.windows(2).any(|w| w == ["-f", "mp4"]),
            "explicit muxer for a .partial name"
        );
    }
}
