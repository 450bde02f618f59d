//! The join: check every clip, concat them (stream copy, audio muxed), verify the result,
//! move it into place, clean up.
//!
//! Fixed costs, measured on the 2-core machine (`scripts/bench-fixed.sh`, 4 clips of 720p
//! preview, where a process start of ffprobe or ffmpeg costs 110-160 ms, most of it loading
//! ffmpeg's 215 shared libraries):
//! - clips and the joined video are checked in-process ([`crate::mp4index`]: the MP4's index,
//!   under a millisecond) instead of by ffprobe: the last clip's check 156 ms -> ~1 ms, the
//!   output's verification 126 ms -> ~1 ms. ffprobe stays for outputs that are not MP4/MOV
//!   (Matroska), which the index reader does not read;
//! - the concat's ffmpeg starts ahead ([`StartedJoin`], started by `farm run` as soon as the
//!   first clip is handed to a worker): it loads while the clips render and waits for its list
//!   on stdin, which [`join`] writes only once every clip passed its check; so the concat
//!   after the checks is its stream copy alone (243 ms -> ~40 ms). A clip that fails, or a run
//!   that stops, kills and reaps it before it has written anything.
//!
//! The output is still renamed into place only after its own verification.

use super::layout::Layout;
use super::manifest_writer::{Change, ManifestWriter};
use super::types::{Clip, RunError, Tools};
use crate::manifest::ClipState;
use crate::media::{self, EncoderSettings, Join};
use crate::plan::Plan;
use crate::procs::Interrupts;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Whether the output is read in-process ([`crate::mp4index`]): MP4 and MOV.
fn reads_in_process(out: &Path) -> bool {
    matches!(media::muxer_for(out), "mp4" | "mov")
}

/// Check every clip (using `checks` already made, probing the rest), then join, verify and
/// rename. `rerun` is the command that re-renders clips, for the error message; the join is
/// killed when it writes nothing for `stall`. When the joined video's frame count is wrong,
/// every clip's packets are counted: the clips that do not add up are named (with the `--only`
/// command) and recorded failed in `manifest`, so that the next run renders them again.
#[allow(clippy::too_many_arguments)]
pub fn join(
    plan: &Plan,
    clips: &[Clip],
    tools: &Tools,
    layout: &Layout,
    enc: &EncoderSettings,
    mut checks: HashMap<String, Result<(), String>>,
    rerun: &str,
    stall: std::time::Duration,
    manifest: &mut ManifestWriter,
    started: Option<StartedJoin>,
) -> Result<(), RunError> {
    let probed: Vec<Result<(), String>> = clips
        .iter()
        .filter(|c| !checks.contains_key(&c.id))
        .map(|c| crate::mp4index::check_clip(&layout.clip(&c.id), enc, c.frames))
        .collect();
    if crate::procs::interrupts().any() {
        return Err(RunError::Interrupted);
    }
    let mut probed = probed.into_iter();
    let bad: Vec<(&str, String)> = clips
        .iter()
        .filter_map(|c| {
            let r = checks
                .remove(&c.id)
                .unwrap_or_else(|| probed.next().expect("one result per clip not yet checked"));
            r.err().map(|e| {
                (
                    c.id.as_str(),
                    format!("  clip '{}' ({}): {e}", c.id, layout.clip(&c.id).display()),
                )
            })
        })
        .collect();
    if !bad.is_empty() {
        let lines: Vec<&str> = bad.iter().map(|(_, l)| l.as_str()).collect();
        let ids: Vec<&str> = bad.iter().map(|(id, _)| *id).collect();
        return Err(RunError::Join(format!(
            "{} clips cannot be joined (the concat demuxer would corrupt the video):\n{}\nre-render them with: {rerun} --only {}",
            bad.len(),
            lines.join("\n"),
            media::shell_quote(&ids.join(","))
        )));
    }

    let total: u64 = clips.iter().map(|c| c.frames).sum();
    let out = &plan.output;
    let out_dir = out.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(out_dir).map_err(|e| {
        RunError::Join(format!(
            "cannot create the output folder {}: {e}",
            out_dir.display()
        ))
    })?;
    let tmp = partial_output(out, std::process::id());
    let clip_paths: Vec<PathBuf> = clips.iter().map(|c| layout.clip(&c.id)).collect();
    let mut stopped = false;
    crate::timing::mark("concat start");
    let concat = match started {
        Some(s) => s.finish(),
        None => Concat::of(plan, clips, tools, layout, enc, stall).run(),
    };
    crate::timing::mark("concat end");
    let joined = concat
        .map_err(|e| {
            stopped = e.is_interrupted();
            String::from(e)
        })
        .and_then(|()| {
            verify_output(&tools.ffprobe, &tmp, enc, total, plan.audio.is_some()).map_err(|e| {
                match e {
                    Verify::Frames(got) => {
                        let counted: Vec<Result<media::VideoInfo, String>> = clip_paths
                            .iter()
                            .map(|p| {
                                crate::mp4index::read(p)
                                    .map(|i| i.video)
                                    .map_err(|e| format!("cannot read {}: {e}", p.display()))
                            })
                            .collect();
                        let per_clip: Vec<(&str, u64, Result<u64, String>)> = clips
                            .iter()
                            .zip(counted)
                            .map(|(c, r)| (c.id.as_str(), c.frames, r.map(|i| i.frames)))
                            .collect();
                        let (msg, bad) =
                            frame_count_message(got, total, &per_clip, rerun, &layout.join_log());
                        for c in clips.iter().filter(|c| bad.contains(&c.id.as_str())) {
                            manifest.set(
                                c,
                                ClipState::Failed,
                                Change::Error(
                                    "its packets did not add up in the joined video".into(),
                                ),
                            );
                        }
                        msg
                    }
                    Verify::Other(e) => e,
                }
            })
        })
        .and_then(|()| {
            crate::timing::mark("verified");
            std::fs::rename(&tmp, out)
                .map_err(|e| format!("cannot move the video into place at {}: {e}", out.display()))
        });
    if let Err(e) = joined {
        let _ = std::fs::remove_file(&tmp);
        // A join stopped by a signal failed because of it: the typed error or the interrupt
        // state says so, never its message.
        return Err(match crate::procs::interrupts() {
            Interrupts::None if !stopped => RunError::Join(e),
            _ => RunError::Interrupted,
        });
    }
    Ok(())
}

/// The concat of a run, owned, so that its ffmpeg can be started ahead ([`start`]).
struct Concat {
    ffmpeg: PathBuf,
    dir: PathBuf,
    entries: Vec<PathBuf>,
    list: PathBuf,
    audio: Option<PathBuf>,
    audio_from: f64,
    frames: u64,
    fps: u32,
    tmp: PathBuf,
    log: PathBuf,
    stall: std::time::Duration,
}

impl Concat {
    fn of(
        plan: &Plan,
        clips: &[Clip],
        tools: &Tools,
        layout: &Layout,
        enc: &EncoderSettings,
        stall: std::time::Duration,
    ) -> Concat {
        Concat {
            ffmpeg: tools.ffmpeg.clone(),
            dir: layout.work.clone(),
            entries: clips.iter().map(|c| layout.concat_entry(&c.id)).collect(),
            list: layout.concat_list(),
            audio: plan.audio.clone(),
            audio_from: plan.audio_from,
            frames: clips.iter().map(|c| c.frames).sum(),
            fps: enc.fps,
            tmp: partial_output(&plan.output, std::process::id()),
            log: layout.join_log(),
            stall,
        }
    }

    fn run(&self) -> Result<(), media::MediaError> {
        media::join(&self.join())
    }

    fn join(&self) -> Join<'_> {
        Join {
            ffmpeg: &self.ffmpeg,
            dir: &self.dir,
            clips: &self.entries,
            list: &self.list,
            audio: self.audio.as_deref(),
            audio_from: self.audio_from,
            frames: self.frames,
            fps: self.fps,
            out: &self.tmp,
            log: &self.log,
            stall: self.stall,
        }
    }
}

/// The concat's ffmpeg, started ahead ([`start`]) and waiting for its list; [`join`] finishes
/// it. Dropped unfinished (a clip failed, the run stopped), its ffmpeg is killed and reaped,
/// having written nothing.
pub struct StartedJoin {
    pending: media::PendingJoin,
    concat: Concat,
}

impl StartedJoin {
    fn finish(self) -> Result<(), media::MediaError> {
        let StartedJoin { pending, concat } = self;
        pending.finish(&concat.join())
    }
}

/// Start the concat's ffmpeg now, waiting on its stdin for the list; None when it cannot be
/// started (the join then starts it afresh and says why). Call it from the thread that will
/// finish the join: the ffmpeg dies with the thread that started it (`PR_SET_PDEATHSIG`).
pub fn start(
    plan: &Plan,
    clips: &[Clip],
    tools: &Tools,
    layout: &Layout,
    enc: &EncoderSettings,
    stall: std::time::Duration,
) -> Option<StartedJoin> {
    let concat = Concat::of(plan, clips, tools, layout, enc, stall);
    let pending = media::spawn_join(&concat.join()).ok()?;
    crate::timing::mark("concat's ffmpeg started (waiting for its list)");
    Some(StartedJoin { pending, concat })
}

/// The join's temporary name for `out`, as (folder, prefix, suffix): the file is
/// `<folder>/<prefix><PID><suffix>`, i.e. `.farm-<hash of the output's file name>-PID.partial.EXT`
/// beside the output (in the same folder, so that the rename is atomic). Always short, however
/// long the output's name is (which preflight checks against the file system's limit). The one
/// place that knows the pattern: [`partial_output`] writes it, [`partial_pid`] reads it back.
fn partial_parts(out: &Path) -> (PathBuf, String, String) {
    use std::os::unix::ffi::OsStrExt;
    let dir = out.parent().unwrap_or(Path::new("/")).to_path_buf();
    let name = out.file_name().unwrap_or_default();
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("mp4");
    let hash = blake3::hash(name.as_bytes()).to_hex();
    (
        dir,
        format!(".farm-{}-", &hash[..12]),
        format!(".partial.{ext}"),
    )
}

/// The temporary file a join by process `pid` writes `out` under before it is verified.
pub fn partial_output(out: &Path, pid: u32) -> PathBuf {
    let (dir, prefix, suffix) = partial_parts(out);
    dir.join(format!("{prefix}{pid}{suffix}"))
}

/// The pid in `file_name` when it is exactly a join's temporary name for `out`.
pub fn partial_pid(out: &Path, file_name: &std::ffi::OsStr) -> Option<u32> {
    let (_, prefix, suffix) = partial_parts(out);
    let pid = file_name
        .to_str()?
        .strip_prefix(&prefix)?
        .strip_suffix(&suffix)?;
    if pid.is_empty() || pid.len() > 10 || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Remove the temporary outputs of `out` left by joins whose farm process is gone (a
/// coordinator killed during its join): only regular files named exactly by [`partial_output`]
/// for `out`, and only when their pid is not a live farm process. Returns (file, pid) of each
/// file removed.
pub fn remove_stale_partials(out: &Path) -> Vec<(PathBuf, u32)> {
    let (dir, _, _) = partial_parts(out);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for e in entries.flatten() {
        let Some(pid) = partial_pid(out, &e.file_name()) else {
            continue;
        };
        let path = e.path();
        let regular = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file());
        if regular && !crate::procs::is_live_farm(pid) && std::fs::remove_file(&path).is_ok() {
            removed.push((path, pid));
        }
    }
    removed
}

/// Why a joined file is not right.
enum Verify {
    /// It has this many frames, not the plan's.
    Frames(u64),
    /// Anything else, in words.
    Other(String),
}

/// The joined file must have every frame, the right size, and audio when the plan has it, as
/// long as the video (within [`audio_slack`]). Read in-process for MP4/MOV ([`crate::mp4index`],
/// which also refuses a truncated file), with ffprobe for other containers.
fn verify_output(
    ffprobe: &Path,
    p: &Path,
    enc: &EncoderSettings,
    frames: u64,
    audio: bool,
) -> Result<(), Verify> {
    let (info, audio_secs) = if reads_in_process(p) {
        let i = crate::mp4index::read(p).map_err(|e| {
            Verify::Other(format!(
                "the joined video {} is not right: {e}",
                p.display()
            ))
        })?;
        (i.video, i.audio_secs)
    } else {
        let i = media::probe_video(ffprobe, p, false).map_err(|e| Verify::Other(e.into()))?;
        (i, None)
    };
    if info.frames != frames {
        return Err(Verify::Frames(info.frames));
    }
    if (info.width, info.height) != (enc.width, enc.height) {
        return Err(Verify::Other(format!(
            "the joined video is {}x{}, expected {}x{}",
            info.width, info.height, enc.width, enc.height
        )));
    }
    if audio && !info.has_audio {
        return Err(Verify::Other(
            "the joined video has no audio stream".to_string(),
        ));
    }
    if let Some(a) = audio_secs.filter(|_| audio) {
        let want = frames as f64 / f64::from(enc.fps.max(1));
        if (a - want).abs() > audio_slack(enc.fps) {
            return Err(Verify::Other(format!(
                "the joined video's audio lasts {a:.3} s, its video {want:.3} s"
            )));
        }
    }
    Ok(())
}

/// How far the joined audio's length may be from the video's: the AAC encoder ends on a whole
/// frame of 1024 samples (23 ms at 44.1 kHz) and the mux cuts at the video's end, so two video
/// frames, and at least 0.1 s.
fn audio_slack(fps: u32) -> f64 {
    (2.0 / f64::from(fps.max(1))).max(0.1)
}

/// The message for a joined video with `joined` frames instead of `expected`, from each clip's
/// (id, expected frames, counted packets): the clips whose packets do not add up, and the
/// command that re-renders them (`<rerun> --only a,b`). Returns the message and those clips.
pub fn frame_count_message<'a>(
    joined: u64,
    expected: u64,
    per_clip: &[(&'a str, u64, Result<u64, String>)],
    rerun: &str,
    join_log: &Path,
) -> (String, Vec<&'a str>) {
    let mut lines = Vec::new();
    let mut bad = Vec::new();
    for (id, want, got) in per_clip {
        let why = match got {
            Ok(n) if n == want => continue,
            Ok(n) => format!("{n} packets, expected {want}"),
            Err(e) => e.clone(),
        };
        lines.push(format!("  clip '{id}': {why}"));
        bad.push(*id);
    }
    let head = format!("the joined video has {joined} frames, expected {expected}");
    if bad.is_empty() {
        return (
            format!(
                "{head}; every clip has its frames, so the join itself lost or added some: see {}, then run again",
                join_log.display()
            ),
            bad,
        );
    }
    let msg = format!(
        "{head}; {} of the clips do not add up (their files changed after they were checked):\n{}\nre-render them with: {rerun} --only {}",
        bad.len(),
        lines.join("\n"),
        media::shell_quote(&bad.join(","))
    );
    (msg, bad)
}

/// Remove the work dir once the output is in place, non-trivial (over 1000 bytes) and was read
/// by ffprobe (the join verified it before the rename); `.farm/` goes too when it is empty.
/// Only a folder farm made is removed ([`Layout::remove`]); the reason otherwise.
pub fn cleanup(out: &Path, layout: &Layout) -> Result<(), String> {
    if !std::fs::metadata(out).is_ok_and(|m| m.len() > 1000) {
        return Err(format!(
            "{} is missing or too small to trust",
            out.display()
        ));
    }
    layout.remove().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partial_output_name_is_short_and_recognised() {
        let long = format!("/v/{}.mp4", "a".repeat(251));
        let out = Path::new(&long);
        let tmp = partial_output(out, 4_294_967_295);
        assert_eq!(tmp.parent(), out.parent());
        let name = tmp.file_name().unwrap();
        assert!(name.len() < 50, "{}", name.to_string_lossy());
        assert!(name.to_string_lossy().starts_with(".farm-"));
        assert!(name.to_string_lossy().ends_with(".partial.mp4"));
        assert_eq!(partial_pid(out, name), Some(4_294_967_295));
        let other = partial_output(Path::new("/v/b.mp4"), 7);
        assert_eq!(partial_pid(out, other.file_name().unwrap()), None);
        assert_eq!(partial_pid(out, std::ffi::OsStr::new("x.mp4")), None);
        let mkv = partial_output(Path::new("/v/o.MKV"), 3);
        assert!(mkv.to_string_lossy().ends_with("-3.partial.MKV"));
    }

    #[test]
    fn the_partial_pattern_reads_back_only_its_own_names() {
        use std::ffi::OsStr;
        let out = Path::new("/v/my film.mp4");
        let p = partial_output(out, 4242);
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        assert_eq!(partial_pid(out, p.file_name().unwrap()), Some(4242));
        let (prefix, suffix) = name.split_once("4242").unwrap();
        for other in [
            format!("{prefix}{suffix}"),
            format!("{prefix}12x{suffix}"),
            format!("{prefix}-1{suffix}"),
            format!("{prefix}12.partial.mkv"),
            format!("{prefix}99999999999{suffix}"),
            partial_output(Path::new("/v/other.mp4"), 12)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_string(),
            "my film.mp4".to_string(),
        ] {
            assert_eq!(partial_pid(out, OsStr::new(&other)), None, "{other}");
        }
    }

    #[test]
    fn stale_partials_of_dead_processes_go_and_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("o.mp4");
        // A pid that is surely not running: a child that has exited and been reaped.
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let dead = c.id();
        c.wait().unwrap();
        let stale = partial_output(&out, dead);
        let mine = partial_output(&out, std::process::id());
        let other_output = partial_output(&d.path().join("p.mp4"), dead);
        for f in [&stale, &mine, &other_output, &out] {
            std::fs::write(f, b"x").unwrap();
        }
        std::fs::create_dir(partial_output(&out, dead + 1)).ok();
        let removed = remove_stale_partials(&out);
        assert_eq!(removed, vec![(stale.clone(), dead)]);
        assert!(!stale.exists());
        assert!(mine.exists() && other_output.exists() && out.exists());
    }

    #[test]
    fn a_bad_join_count_names_the_clips_that_do_not_add_up() {
        let per_clip = [
            ("a", 12, Ok(24)),
            ("b", 24, Ok(24)),
            (
                "it's c",
                12,
                Err("ffprobe cannot read /w/c.mp4: moov atom not found".into()),
            ),
            ("d", 24, Ok(24)),
        ];
        let (msg, bad) = frame_count_message(
            60,
            72,
            &per_clip,
            "farm run p.yaml --quality draft",
            Path::new("/w/run/join.log"),
        );
        assert_eq!(bad, vec!["a", "it's c"]);
        assert!(
            msg.starts_with("the joined video has 60 frames, expected 72; 2 of the clips"),
            "{msg}"
        );
        assert!(msg.contains("  clip 'a': 24 packets, expected 12"), "{msg}");
        assert!(
            msg.contains("  clip 'it's c': ffprobe cannot read /w/c.mp4: moov atom not found"),
            "{msg}"
        );
        assert!(
            msg.ends_with(
                "re-render them with: farm run p.yaml --quality draft --only \"a,it's c\""
            ),
            "{msg}"
        );
        assert!(!msg.contains("'b'") && !msg.contains("'d'"), "{msg}");
    }

    #[test]
    fn a_bad_join_count_with_every_clip_right_blames_the_join() {
        let per_clip = [("a", 12, Ok(12)), ("b", 24, Ok(24))];
        let (msg, bad) = frame_count_message(
            7,
            36,
            &per_clip,
            "farm run p.yaml",
            Path::new("/w/run/join.log"),
        );
        assert!(bad.is_empty());
        assert!(
            msg.contains("has 7 frames, expected 36")
                && msg.contains("the join itself")
                && msg.contains("see /w/run/join.log,"),
            "{msg}"
        );
        assert!(!msg.contains("--only"), "{msg}");
    }
}
