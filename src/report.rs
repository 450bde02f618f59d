//! Progress for people: indicatif bars on a terminal, plain lines elsewhere.
//!
//! The reporter consumes [`Report`]s and never changes the run's state. Without a terminal
//! (CI, a pipe, a file) indicatif draws nothing at all, so [`Plain`] prints one line per clip
//! start, finish and failure, and progress at most every few seconds per clip.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Something worth telling the user about a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// A line of set-up information (hardware, settings).
    Info(String),
    /// The run begins: clips to render (id, frames), and the worker count.
    Begin {
        /// Clips that will be rendered, with their frame counts.
        clips: Vec<(String, u64)>,
        /// Workers that will run at once.
        workers: usize,
    },
    /// A finished clip from an earlier run is reused.
    Reused {
        /// Clip id.
        id: String,
        /// Its frames.
        frames: u64,
    },
    /// A clip started rendering.
    Started {
        /// Clip id.
        id: String,
    },
    /// Frames done of a clip.
    Progress {
        /// Clip id.
        id: String,
        /// Frames done.
        frames: u64,
    },
    /// A clip finished.
    Finished {
        /// Clip id.
        id: String,
        /// Frames.
        frames: u64,
        /// Wall time of the clip in seconds.
        secs: f64,
    },
    /// A clip failed.
    Failed {
        /// Clip id.
        id: String,
        /// Why.
        error: String,
    },
    /// A clip failed and will be tried again in a fresh worker.
    Retry {
        /// Clip id.
        id: String,
        /// The coming attempt (2 for the first retry).
        attempt: u32,
        /// Attempts allowed in all.
        of: u32,
        /// Backoff before it, seconds.
        secs: f64,
        /// Why the last attempt failed.
        error: String,
    },
    /// All clips are rendered; joining starts.
    Joining {
        /// How many clips.
        clips: usize,
    },
}

/// Consumes reports.
pub trait Reporter {
    /// Handle one report.
    fn report(&mut self, r: &Report);
    /// Print a line that is not a progress update (kept above any bars).
    fn line(&mut self, s: &str);
    /// The run is over: tidy the display.
    fn finish(&mut self);
}

/// Bars on a terminal, plain lines otherwise.
pub fn auto() -> Box<dyn Reporter> {
    if std::io::stderr().is_terminal() {
        Box::new(Bars::new())
    } else {
        Box::new(Plain::new())
    }
}

/// indicatif: one bar per running clip and a total bar.
pub struct Bars {
    multi: MultiProgress,
    total: Option<ProgressBar>,
    bars: HashMap<String, (ProgressBar, u64)>,
    frames: HashMap<String, u64>,
}

impl Default for Bars {
    fn default() -> Self {
        Self::new()
    }
}

impl Bars {
    /// Draw on stderr.
    pub fn new() -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            total: None,
            bars: HashMap::new(),
            frames: HashMap::new(),
        }
    }
}

/// `{fps}`: frames per second with one decimal (indicatif's `{per_sec}` prints ten digits).
fn with_fps(style: ProgressStyle) -> ProgressStyle {
    style.with_key(
        "fps",
        |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.1} fps", s.per_sec());
        },
    )
}

fn clip_style() -> ProgressStyle {
    with_fps(
        ProgressStyle::with_template(
            "{prefix:>16.bold} [{bar:30.cyan/blue}] {pos:>6}/{len:6} frames {fps:>9} ETA {eta:>4}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    )
}

impl Reporter for Bars {
    fn report(&mut self, r: &Report) {
        match r {
            Report::Info(s) => self.line(s),
            Report::Begin { clips, .. } => {
                let total: u64 = clips.iter().map(|c| c.1).sum();
                self.frames = clips.iter().cloned().collect();
                let bar = self.multi.add(ProgressBar::new(total));
                bar.set_style(with_fps(
                    ProgressStyle::with_template("{prefix:>16.bold} [{bar:30.green/white}] {pos:>6}/{len:6} frames {fps:>9} ETA {eta:>4} {msg}")
                        .expect("valid template")
                        .progress_chars("=> "),
                ));
                bar.set_prefix("total");
                bar.enable_steady_tick(Duration::from_millis(250));
                self.total = Some(bar);
            }
            Report::Reused { id, frames } => {
                self.line(&format!("reuse   {id} ({frames} frames, already rendered)"))
            }
            Report::Started { id } => {
                let len = self.frames.get(id).copied().unwrap_or(0);
                let bar = match &self.total {
                    Some(t) => self.multi.insert_before(t, ProgressBar::new(len)),
                    None => self.multi.add(ProgressBar::new(len)),
                };
                bar.set_style(clip_style());
                bar.set_prefix(short(id, 16));
                self.bars.insert(id.clone(), (bar, 0));
            }
            Report::Progress { id, frames } => {
                if let Some((bar, done)) = self.bars.get_mut(id) {
                    let delta = frames.saturating_sub(*done);
                    *done = (*done).max(*frames);
                    bar.set_position(*frames);
                    if let Some(t) = &self.total {
                        t.inc(delta);
                    }
                }
            }
            Report::Finished { id, frames, secs } => {
                if let Some((bar, done)) = self.bars.remove(id) {
                    if let Some(t) = &self.total {
                        t.inc(frames.saturating_sub(done));
                    }
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                self.line(&format!(
                    "done    {id}: {frames} frames in {secs:.1} s ({:.1} fps)",
                    *frames as f64 / secs.max(1e-9)
                ));
            }
            Report::Failed { id, error } => {
                if let Some((bar, done)) = self.bars.remove(id) {
                    // The total no longer expects this clip's remaining frames.
                    if let Some(t) = &self.total {
                        let len = t.length().unwrap_or(0);
                        let rest = self
                            .frames
                            .get(id)
                            .copied()
                            .unwrap_or(0)
                            .saturating_sub(done);
                        t.set_length(len.saturating_sub(rest));
                    }
                    bar.abandon();
                    self.multi.remove(&bar);
                }
                self.line(&format!("FAILED  {id}: {error}"));
            }
            Report::Retry {
                id,
                attempt,
                of,
                secs,
                error,
            } => {
                if let Some((bar, done)) = self.bars.remove(id) {
                    // The attempt's frames will be rendered again.
                    if let Some(t) = &self.total {
                        t.set_position(t.position().saturating_sub(done));
                    }
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                self.line(&format!(
                    "retry   {id} (attempt {attempt} of {of}, in {secs:.1} s): {error}"
                ));
            }
            Report::Joining { clips } => {
                if let Some(t) = &self.total {
                    t.set_message(format!("joining {clips} clips"));
                }
            }
        }
    }

    fn line(&mut self, s: &str) {
        let _ = self.multi.println(s);
    }

    fn finish(&mut self) {
        for (_, (bar, _)) in self.bars.drain() {
            bar.abandon();
        }
        if let Some(t) = self.total.take() {
            t.finish_and_clear();
        }
    }
}

/// Plain lines on stderr, for CI, pipes and files.
pub struct Plain {
    frames: HashMap<String, u64>,
    last: HashMap<String, (Instant, Instant)>,
    every: Duration,
}

impl Default for Plain {
    fn default() -> Self {
        Self::new()
    }
}

impl Plain {
    /// Progress lines at most every 2 seconds per clip.
    pub fn new() -> Plain {
        Plain {
            frames: HashMap::new(),
            last: HashMap::new(),
            every: Duration::from_secs(2),
        }
    }
}

impl Reporter for Plain {
    fn report(&mut self, r: &Report) {
        match r {
            Report::Info(s) => self.line(s),
            Report::Begin { clips, workers } => {
                let total: u64 = clips.iter().map(|c| c.1).sum();
                self.frames = clips.iter().cloned().collect();
                self.line(&format!(
                    "farm: rendering {} clips ({total} frames) with {workers} workers",
                    clips.len()
                ));
            }
            Report::Reused { id, frames } => self.line(&format!(
                "farm: reuse {id} ({frames} frames, already rendered)"
            )),
            Report::Started { id } => {
                let now = Instant::now();
                self.last.insert(id.clone(), (now, now));
                let n = self.frames.get(id).copied().unwrap_or(0);
                self.line(&format!("farm: start {id} ({n} frames)"));
            }
            Report::Progress { id, frames } => {
                let total = self.frames.get(id).copied().unwrap_or(0);
                if let Some((start, last)) = self.last.get_mut(id)
                    && last.elapsed() >= self.every
                    && *frames < total
                {
                    *last = Instant::now();
                    let fps = *frames as f64 / start.elapsed().as_secs_f64().max(1e-9);
                    let pct = 100.0 * *frames as f64 / total.max(1) as f64;
                    let line =
                        format!("farm: {id} {frames}/{total} frames ({pct:.0}%, {fps:.1} fps)");
                    self.line(&line);
                }
            }
            Report::Finished { id, frames, secs } => {
                self.last.remove(id);
                self.line(&format!(
                    "farm: done {id}: {frames} frames in {secs:.1} s ({:.1} fps)",
                    *frames as f64 / secs.max(1e-9)
                ));
            }
            Report::Failed { id, error } => {
                self.last.remove(id);
                self.line(&format!("farm: FAILED {id}: {error}"));
            }
            Report::Retry {
                id,
                attempt,
                of,
                secs,
                error,
            } => {
                self.last.remove(id);
                self.line(&format!(
                    "farm: retry {id} (attempt {attempt} of {of}, in {secs:.1} s): {error}"
                ));
            }
            Report::Joining { clips } => self.line(&format!("farm: joining {clips} clips")),
        }
    }

    fn line(&mut self, s: &str) {
        to_stderr(s);
    }

    fn finish(&mut self) {}
}

/// Write a line to stderr, ignoring errors: a closed pipe (`farm run p.yaml 2>&1 | head -2`)
/// or a full disk must not stop the run, and `eprintln!` would panic on them.
pub fn to_stderr(s: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{s}");
}

/// Write a line to stdout, ignoring errors (a closed pipe: `farm status p.yaml | head -1`).
pub fn to_stdout(s: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{s}");
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// Print a log file's lines to stderr as it grows, until `stop` is set (then print the rest).
/// The file may not exist yet, and may be recreated (a retry starts a new log).
pub fn follow_log(
    path: std::path::PathBuf,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    use std::io::{Read, Seek, SeekFrom};
    std::thread::spawn(move || {
        let mut offset = 0u64;
        let mut pending = Vec::new();
        loop {
            let done = stop.load(std::sync::atomic::Ordering::SeqCst);
            if let Ok(mut f) = std::fs::File::open(&path) {
                let len = f.metadata().map(|m| m.len()).unwrap_or(0);
                if len < offset {
                    offset = 0; // recreated
                    pending.clear();
                }
                if len > offset && f.seek(SeekFrom::Start(offset)).is_ok() {
                    let mut buf = Vec::new();
                    if f.take(len - offset).read_to_end(&mut buf).is_ok() {
                        offset += buf.len() as u64;
                        pending.extend_from_slice(&buf);
                        while let Some(i) = pending.iter().position(|&b| b == b'\n' || b == b'\r') {
                            let line: Vec<u8> = pending.drain(..=i).collect();
                            let text = String::from_utf8_lossy(&line[..line.len() - 1]);
                            if !text.trim().is_empty() {
                                to_stderr(&format!("  | {text}"));
                            }
                        }
                    }
                }
            }
            if done {
                if !pending.is_empty() {
                    to_stderr(&format!("  | {}", String::from_utf8_lossy(&pending)));
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
}
