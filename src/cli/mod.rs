//! Commands -> library calls. Nothing else knows about argv, and no other module uses clap.
//!
//! Map (one command, or one job, per file):
//! - `mod.rs` (this file): [`Cli`] and its subcommands, and [`main`] (the dispatch);
//! - `args`: the flags of the commands (clap `Args` types, value parsers; a leaf);
//! - `common`: what the commands share: loading the plan, the render settings from the flags
//!   and the plan, the re-run command line;
//! - [`run`]: `farm run`, `farm render` and `farm join`;
//! - [`slurm`]: `farm slurm` (the job scripts, submitting, waiting);
//! - [`status`]: `farm status` (the clip table);
//! - [`check`]: `farm check` (the plan report: clips, glyphs, disk);
//! - [`frame`]: `farm frame` (one frame to a PNG);
//! - [`audio`]: `farm audio` (tempo, beats, features of a track);
//! - [`clean`]: `farm clean`; [`hw`]: `farm hw`;
//! - [`bench`]: the hidden `farm bench-render` (ms/frame as one JSON object).
//!
//! Output never panics: in this module `println!` and `eprintln!` are the macros below, which
//! ignore write errors (a reader that went away, `farm run p.yaml 2>&1 | head -2`), where std's
//! would panic and end the run with status 101 in the middle of a render.

/// `println!` that ignores write errors (see the module doc).
macro_rules! println {
    ($($t:tt)*) => { $crate::report::to_stdout(&format!($($t)*)) };
}

/// `eprintln!` that ignores write errors (see the module doc).
macro_rules! eprintln {
    ($($t:tt)*) => { $crate::report::to_stderr(&format!($($t)*)) };
}

use clap::{Parser, Subcommand};

mod args;
mod audio;
mod bench;
mod check;
mod clean;
mod common;
mod frame;
mod hw;
mod run;
mod slurm;
mod status;
use args::{AudioArgs, BenchArgs, JoinArgs, RenderArgs, RunArgs, SettingsArgs, SlurmArgs};
use std::path::PathBuf;

/// farm: render ASCII-art video from a YAML plan of segments, one isolated worker process per
/// clip, joined with ffmpeg.
#[derive(Parser, Debug)]
#[command(name = "farm", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Render every clip of a plan, join them into the output, verify it and clean up.
    Run(RunArgs),
    /// Render one clip in the foreground with its log streamed (no join).
    Render(RenderArgs),
    /// Join the clips that every `farm render` (or a Slurm array) left: verify each, concat,
    /// mux the soundtrack, verify the output, clean up. Renders nothing.
    Join(JoinArgs),
    /// Write (and with --submit, submit) a Slurm job array that renders the plan's clips on a
    /// cluster, and a join job that runs once every one of them succeeded.
    Slurm(SlurmArgs),
    /// Each clip's state (done, failed, missing, stale), frames, time, attempts, log, and what
    /// the next `farm run` would do.
    Status {
        /// The plan file.
        plan: PathBuf,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Validate a plan (syntax, scenes, params, shaders, ffmpeg, audio) without rendering.
    Check {
        /// The plan file.
        plan: PathBuf,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Remove the plan's work dir (its clips, logs and manifest), if farm made it; the plan
    /// file need not parse.
    Clean {
        /// The plan file.
        plan: PathBuf,
    },
    /// Show the detected hardware and the render settings it leads to.
    Hw {
        /// Optionally a plan, whose length and keys feed the choice.
        plan: Option<PathBuf>,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// Render one frame of a clip to a PNG and print its mean brightness (a test frame).
    Frame {
        /// The plan file.
        plan: PathBuf,
        /// The clip id.
        id: String,
        /// Time within the clip, in seconds.
        #[arg(long, default_value_t = 0.0)]
        at: f64,
        /// Where to write the PNG (a name ending in .png; an existing file is replaced only
        /// by a complete frame).
        #[arg(short, long, default_value = "frame.png")]
        output: PathBuf,
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// What a visualizer reacts to in an audio file: tempo, beats and per-frame features.
    Audio(AudioArgs),
    /// Internal: a worker process (started by `farm run`).
    #[command(hide = true)]
    Worker {
        /// The coordinator's IPC server name.
        #[arg(long)]
        connect: String,
    },
    /// Internal: renderer benchmark (ms/frame on one thread, no encoding).
    #[command(hide = true)]
    BenchRender(BenchArgs),
}

/// Parse argv and run; returns the exit status.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Worker { connect } => crate::worker::main(&connect),
        Cmd::Run(a) => run::cmd_run(a),
        Cmd::Check { plan, settings } => check::cmd_check(&plan, &settings),
        Cmd::Render(a) => run::cmd_render(&a),
        Cmd::Join(a) => run::cmd_join(&a),
        Cmd::Slurm(a) => slurm::cmd_slurm(&a),
        Cmd::Status { plan, settings } => status::cmd_status(&plan, &settings),
        Cmd::Clean { plan } => clean::cmd_clean(&plan),
        Cmd::Hw { plan, settings } => hw::cmd_hw(plan.as_deref(), &settings),
        Cmd::Frame {
            plan,
            id,
            at,
            output,
            settings,
        } => frame::cmd_frame(&plan, &id, at, &output, &settings),
        Cmd::Audio(a) => audio::cmd_audio(&a),
        Cmd::BenchRender(b) => bench::cmd_bench(&b),
    }
}
