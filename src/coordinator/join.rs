//! The join: check every clip, concat them (stream copy, audio muxed), verify the result,
//! move it into place, clean up.

use super::{Clip, Layout, RunError, Tools};
use crate::media::{self, EncoderSettings, Join};
use crate::plan::Plan;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// ffprobe processes at once when checking clips here.
const PROBE_JOBS: usize = 8;

/// Check every clip (using `checks` already made, probing the rest), then join, verify and
/// rename. `rerun` is the command that re-renders clips, for the error message.
pub fn join(
    plan: &Plan,
    clips: &[Clip],
    tools: &Tools,
    layout: &Layout,
    enc: &EncoderSettings,
    mut checks: HashMap<String, Result<(), String>>,
    rerun: &str,
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
    .and_then(|()| verify_output(&tools.ffprobe, &tmp, enc, total, plan.audio.is_some()))
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

/// The joined file must have every frame, the right size, and audio when the plan has it.
fn verify_output(
    ffprobe: &Path,
    p: &Path,
    enc: &EncoderSettings,
    frames: u64,
    audio: bool,
) -> Result<(), String> {
    let info = media::probe_video(ffprobe, p, false)?;
    if info.frames != frames {
        return Err(format!(
            "the joined video has {} frames, expected {frames}",
            info.frames
        ));
    }
    if (info.width, info.height) != (enc.width, enc.height) {
        return Err(format!(
            "the joined video is {}x{}, expected {}x{}",
            info.width, info.height, enc.width, enc.height
        ));
    }
    if audio && !info.has_audio {
        return Err("the joined video has no audio stream".to_string());
    }
    Ok(())
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
