//! `farm`: a render farm for ASCII-art video.
//!
//! A YAML plan of segments is rendered clip by clip, each clip in its own worker process with its
//! own renderer, seed and ffmpeg encoder; the coordinator joins the clips with ffmpeg's concat
//! demuxer. Modules, top to bottom (arrows point down, never back up):
//!
//! - [`cli`]: commands -> library calls; nothing else knows about argv.
//! - [`slurm`]: a plan as a Slurm job array (scripts, submitting, waiting, `squeue`).
//! - [`coordinator`]: the dispatcher: which clips, which workers, events in, join out.
//! - [`worker`]: the executor: one clip = renderer + encoder; speaks only events.
//! - [`report`]: bars or plain lines; consumes reports, never drives the run.
//! - [`events`]: the messages between coordinator and workers.
//! - [`clip`]: one clip's spec (built once; hashed, sent to the worker, rendered by `farm frame`).
//! - [`plan`]: parse and validate the YAML plan.
//! - [`hw`], [`profile`], [`calibrate`]: hardware probe; quality profiles -> render settings.
//! - [`choices`]: quality, aspect, x264 preset (closed vocabularies of the settings; a leaf).
//! - [`media`]: ffmpeg/ffprobe (the only place that spawns them).
//! - [`mp4index`]: an MP4's index read in-process (what ffprobe says of a clip, without a process).
//! - [`audio`]: audio features, tempo and beats of a soundtrack, and their cache.
//! - [`path_bytes`]: paths as bytes in serde (a leaf, used by the messages and the specs).
//! - [`procs`]: signals, child process groups, waits with limits (used by media and coordinator).
//! - [`disk`]: disk-use estimate and free space (`farm check`).
//! - [`timing`]: stage timestamps of a run (`FARM_TIMING=1`), for measuring fixed costs.
//! - [`render`]: glyph atlas, grids, scenes, shaders; knows nothing of processes or plans.

pub mod audio;
pub mod calibrate;
pub mod choices;
pub mod cli;
pub mod clip;
pub mod coordinator;
pub mod disk;
pub mod events;
pub mod features;
pub mod hw;
pub mod manifest;
pub mod media;
pub mod mp4index;
pub mod path_bytes;
pub mod plan;
pub mod procs;
pub mod profile;
pub mod render;
pub mod report;
pub mod slurm;
pub mod timing;
pub mod vocab;
pub mod worker;

#[cfg(test)]
mod tests {
    /// `scripts/module-cycles.py` finds no module of the crate that imports another which imports
    /// it back (there were cycles in coordinator, render, plan and audio).
    #[test]
    fn crate_has_no_import_cycles() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = match std::process::Command::new("python3")
            .arg(root.join("scripts/module-cycles.py"))
            .output()
        {
            Ok(o) => o,
            Err(e) => {
                eprintln!("skipped: python3 is not available ({e})");
                return;
            }
        };
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("no import cycles"), "{text}");
    }
}
