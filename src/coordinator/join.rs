//! The join: check every clip, concat them (stream copy, audio muxed), verify the result,
//! move it into place, clean up.

use super::{Clip, Layout, ManifestWriter, RunError, Tools};
use crate::manifest::ClipState;
use crate::media::{self, EncoderSettings, Join};
use crate::plan::Plan;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// ffprobe processes at once when checking clips here.
const PROBE_JOBS: usize = 8;

/// Check every clip (using `checks` already made, probing the rest), then join, verify and
/// rename. `rerun` is the command that re-renders clips, for the error message. When the joined
/// video's frame count is wrong, every clip's packets are counted: the clips that do not add up
/// are named (with the `--only` command) and recorded failed in `manifest`, so that the next
/// run renders them again.
#[allow(clippy::too_many_arguments)]
pub fn join(
    plan: &Plan,
    clips: &[Clip],
    tools: &Tools,
    layout: &Layout,
    enc: &EncoderSettings,
    mut checks: HashMap<String, Result<(), String>>,
    rerun: &str,
    manifest: &mut ManifestWriter,
) -> Result<(), RunError> {
    let rest: Vec<(PathBuf, u64)> = clips
        .iter()
        .filter(|c| !checks.contains_key(&c.id))
        .map(|c| (layout.clip(&c.id), c.frames))
        .collect();
    let probed = media::check_clips(&tools.ffprobe, &rest, enc, PROBE_JOBS);
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
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = out
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "mp4".into());
    let tmp = out_dir.join(format!(".{name}.partial-{}.{ext}", std::process::id()));
    let clip_paths: Vec<PathBuf> = clips.iter().map(|c| layout.clip(&c.id)).collect();
    let joined = media::join(&Join {
        ffmpeg: &tools.ffmpeg,
        clips: &clip_paths,
        list: &layout.work.join("concat.txt"),
        audio: plan.audio.as_deref(),
        frames: total,
        fps: enc.fps,
        out: &tmp,
        log: &layout.work.join("logs").join("join.log"),
        stop: &|| super::pool::signals() > 0,
    })
    .and_then(|()| {
        verify_output(&tools.ffprobe, &tmp, enc, total, plan.audio.is_some()).map_err(|e| match e {
            Verify::Frames(got) => {
                let paths: Vec<&Path> = clip_paths.iter().map(PathBuf::as_path).collect();
                let counted = media::probe_videos(&tools.ffprobe, &paths, PROBE_JOBS);
                let per_clip: Vec<(&str, u64, Result<u64, String>)> = clips
                    .iter()
                    .zip(counted)
                    .map(|(c, r)| (c.id.as_str(), c.frames, r.map(|i| i.frames)))
                    .collect();
                let (msg, bad) = frame_count_message(got, total, &per_clip, rerun);
                for c in clips.iter().filter(|c| bad.contains(&c.id.as_str())) {
                    manifest.set(c, ClipState::Failed, |r| {
                        r.error = Some("its packets did not add up in the joined video".into())
                    });
                }
                msg
            }
            Verify::Other(e) => e,
        })
    })
    .and_then(|()| {
        std::fs::rename(&tmp, out)
            .map_err(|e| format!("cannot move the video into place at {}: {e}", out.display()))
    });
    if let Err(e) = joined {
        let _ = std::fs::remove_file(&tmp);
        return Err(if e == media::JOIN_STOPPED {
            RunError::Interrupted
        } else {
            RunError::Join(e)
        });
    }
    Ok(())
}

/// Why a joined file is not right.
enum Verify {
    /// It has this many frames, not the plan's.
    Frames(u64),
    /// Anything else, in words.
    Other(String),
}

/// The joined file must have every frame, the right size, and audio when the plan has it.
fn verify_output(
    ffprobe: &Path,
    p: &Path,
    enc: &EncoderSettings,
    frames: u64,
    audio: bool,
) -> Result<(), Verify> {
    let info = media::probe_video(ffprobe, p, false).map_err(Verify::Other)?;
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
    Ok(())
}

/// The message for a joined video with `joined` frames instead of `expected`, from each clip's
/// (id, expected frames, counted packets): the clips whose packets do not add up, and the
/// command that re-renders them (`<rerun> --only a,b`). Returns the message and those clips.
pub fn frame_count_message<'a>(
    joined: u64,
    expected: u64,
    per_clip: &[(&'a str, u64, Result<u64, String>)],
    rerun: &str,
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
                "{head}; every clip has its frames, so the join itself lost or added some: see logs/join.log, then run again"
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
/// by ffprobe (the join verified it before the rename). `.farm/` goes too when it is empty.
pub fn cleanup(out: &Path, work: &Path) -> bool {
    if !std::fs::metadata(out).is_ok_and(|m| m.len() > 1000) {
        return false;
    }
    let ok = std::fs::remove_dir_all(work).is_ok();
    if let Some(parent) = work.parent() {
        let _ = std::fs::remove_dir(parent);
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let (msg, bad) = frame_count_message(60, 72, &per_clip, "farm run p.yaml --quality draft");
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
                "re-render them with: farm run p.yaml --quality draft --only 'a,it'\\''s c'"
            ),
            "{msg}"
        );
        assert!(!msg.contains("'b'") && !msg.contains("'d'"), "{msg}");
    }

    #[test]
    fn a_bad_join_count_with_every_clip_right_blames_the_join() {
        let per_clip = [("a", 12, Ok(12)), ("b", 24, Ok(24))];
        let (msg, bad) = frame_count_message(7, 36, &per_clip, "farm run p.yaml");
        assert!(bad.is_empty());
        assert!(
            msg.contains("has 7 frames, expected 36") && msg.contains("the join itself"),
            "{msg}"
        );
        assert!(!msg.contains("--only"), "{msg}");
    }
}
