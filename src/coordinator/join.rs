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
    let tmp = partial_output(out, std::process::id());
    let clips: Vec<PathBuf> = clips.iter().map(|c| layout.concat_entry(&c.id)).collect();
    let joined = media::join(&Join {
        ffmpeg: &tools.ffmpeg,
        dir: &layout.work,
        clips: &clips,
        list: &layout.concat_list(),
        audio: plan.audio.as_deref(),
        frames: total,
        fps: enc.fps,
        out: &tmp,
        log: &layout.join_log(),
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

/// The temporary name the join writes `out` under (in the same folder, so that the rename is
/// atomic): `.farm-<hash of the output's file name>-<pid>.partial.<ext>`. Always short, however
/// long the output's name is (which preflight checks against the file system's limit).
pub fn partial_output(out: &Path, pid: u32) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let dir = out.parent().unwrap_or(Path::new("/"));
    let name = out.file_name().unwrap_or_default();
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("mp4");
    let hash = blake3::hash(name.as_bytes()).to_hex();
    dir.join(format!(".farm-{}-{pid}.partial.{ext}", &hash[..12]))
}

/// The pid in a file name made by [`partial_output`] for `out`, if `file_name` is one.
pub fn partial_output_pid(out: &Path, file_name: &std::ffi::OsStr) -> Option<u32> {
    let zero = partial_output(out, 0);
    let (Some(want), Some(got)) = (
        zero.file_name().and_then(|n| n.to_str()),
        file_name.to_str(),
    ) else {
        return None;
    };
    let (prefix, suffix) = want.split_once("-0.")?;
    let pid = got
        .strip_prefix(prefix)?
        .strip_prefix('-')?
        .strip_suffix(suffix)?
        .strip_suffix('.')?;
    if pid.is_empty() || !pid.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
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
        assert_eq!(partial_output_pid(out, name), Some(4_294_967_295));
        let other = partial_output(Path::new("/v/b.mp4"), 7);
        assert_eq!(partial_output_pid(out, other.file_name().unwrap()), None);
        assert_eq!(partial_output_pid(out, std::ffi::OsStr::new("x.mp4")), None);
        let mkv = partial_output(Path::new("/v/o.MKV"), 3);
        assert!(mkv.to_string_lossy().ends_with("-3.partial.MKV"));
    }
}
