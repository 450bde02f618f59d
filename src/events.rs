//! The messages between the coordinator and its workers: plain serde types, safe to send over
//! ipc-channel (paths travel as bytes: [`crate::path_bytes`]). Nothing here has behaviour; the coordinator decides, the worker executes.

use crate::clip::ClipSpec;
use ipc_channel::ipc::{IpcReceiver, IpcSender};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The first message a worker sends, over the coordinator's one-shot server.
#[derive(Serialize, Deserialize)]
pub enum Handshake {
    /// A worker is ready: here is where to send it jobs and where to hear from it.
    Hello {
        /// The worker's process id.
        pid: u32,
        /// Jobs go here.
        jobs: IpcSender<ToWorker>,
        /// Its events come from here.
        events: IpcReceiver<WorkerEvent>,
    },
    /// Sent by the coordinator itself to unblock `accept()` when the worker died before it
    /// connected (`accept` has no timeout).
    Abort,
}

/// Coordinator -> worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ToWorker {
    /// Render one clip.
    Render(Box<ClipJob>),
    /// No more work: exit.
    Shutdown,
}

/// Everything a worker needs to render one clip; it reads nothing else: the clip's spec (the
/// very value the manifest's hash is computed from) and where its files go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipJob {
    /// What to render and encode.
    pub spec: ClipSpec,
    /// The ffmpeg executable.
    #[serde(with = "crate::path_bytes")]
    pub ffmpeg: PathBuf,
    /// Where the finished clip goes (written as `partial`, then renamed).
    #[serde(with = "crate::path_bytes")]
    pub output: PathBuf,
    /// The name the clip is written under until its encoder has finished it.
    #[serde(with = "crate::path_bytes")]
    pub partial: PathBuf,
    /// The clip's log: ffmpeg's command line, then its stderr.
    #[serde(with = "crate::path_bytes")]
    pub log: PathBuf,
}

/// Time spent on a clip, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ClipTimings {
    /// Renderer set-up (glyph atlas, grids, caches).
    pub init_ms: f64,
    /// Rendering frames.
    pub render_ms: f64,
    /// Blocked writing frames to ffmpeg (the encoder was the bottleneck).
    pub write_ms: f64,
    /// Waiting for ffmpeg to finish after the last frame.
    pub drain_ms: f64,
    /// The whole clip.
    pub total_ms: f64,
    /// CPU time (user + system) of the worker process itself during the clip: the renderer,
    /// the conversion and the pipe writes, without its ffmpeg.
    pub worker_cpu_ms: f64,
    /// CPU time of the clip's ffmpeg (x264), reaped by the worker.
    pub encoder_cpu_ms: f64,
    /// Peak resident memory of the worker process so far (its ffmpeg excluded), KiB.
    pub worker_max_rss_kb: u64,
}

/// Brightness of one rendered frame (the reference guide's spot check, done on the frames themselves).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Brightness {
    /// Frame index within the clip.
    pub frame: u64,
    /// Mean of all rgb bytes (0..255).
    pub mean: f32,
    /// Brightest byte.
    pub max: u8,
}

impl Brightness {
    /// Measure an rgb24 frame.
    pub fn of(frame: u64, rgb: &[u8]) -> Brightness {
        let sum: u64 = rgb.iter().map(|&b| b as u64).sum();
        let max = rgb.iter().copied().max().unwrap_or(0);
        Brightness {
            frame,
            mean: sum as f32 / rgb.len().max(1) as f32,
            max,
        }
    }
}

/// Worker -> coordinator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WorkerEvent {
    /// The clip has started (renderer built, encoder running).
    Started {
        /// Clip id.
        id: String,
    },
    /// Frames written so far.
    Progress {
        /// Clip id.
        id: String,
        /// Frames done.
        frames: u64,
    },
    /// The clip is complete and its file is in place.
    Finished {
        /// Clip id.
        id: String,
        /// Frames written.
        frames: u64,
        /// Where the time went.
        timings: ClipTimings,
        /// Brightness of the first, middle and last frames.
        brightness: Vec<Brightness>,
        /// Size of the finished file in bytes.
        bytes: u64,
        /// BLAKE3 of the finished file (hex), for the manifest.
        digest: String,
    },
    /// The clip failed.
    Failed {
        /// Clip id.
        id: String,
        /// What went wrong, in words.
        error: String,
        /// False when retrying cannot help (the scene cannot be built).
        retryable: bool,
    },
}

impl WorkerEvent {
    /// The clip this event is about.
    pub fn id(&self) -> &str {
        match self {
            WorkerEvent::Started { id } | WorkerEvent::Progress { id, .. } => id,
            WorkerEvent::Finished { id, .. } | WorkerEvent::Failed { id, .. } => id,
        }
    }
}
