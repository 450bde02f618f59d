//! `farm frame`: render one frame of a clip to a PNG (a test frame).

use super::args::SettingsArgs;
use super::common::{load, settings_for};
use crate::coordinator::soundtrack::CacheUse;
use crate::hw::Hardware;

use std::path::Path;

pub(super) fn cmd_frame(plan_path: &Path, id: &str, at: f64, out: &Path, a: &SettingsArgs) -> i32 {
    // Refuse a name the PNG cannot go to before anything is rendered or touched.
    if !out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
    {
        eprintln!(
            "error: -o {}: farm frame writes PNG only; give a file name ending in .png",
            out.display()
        );
        return 2;
    }
    if out.is_dir() {
        eprintln!("error: -o {}: is a folder", out.display());
        return 2;
    }
    let plan = match load(plan_path) {
        Ok(p) => p,
        Err(c) => return c,
    };
    // A clip of a beat-cut run (`<id>-<n>`) is found among the clips, below.
    if plan.segment(crate::clip::unchunked_id(id)).is_none() && plan.cut.is_none() {
        let ids: Vec<&str> = plan.segments.iter().map(|s| s.id.as_str()).collect();
        eprintln!(
            "error: the plan has no clip '{id}'; its clips are: {}",
            ids.join(", ")
        );
        return 2;
    }
    let hw = Hardware::detect();
    let s = match settings_for(&hw, Some(&plan), a) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let track = match super::common::soundtrack(&plan, &s, &hw, CacheUse::ReadWrite) {
        Ok(t) => t,
        Err(code) => return code,
    };
    // The same spec `farm run` hashes and sends to the clip's worker: a chunk's (`intro#2`,
    // `--at` from its start), or the whole clip's (`intro`, whatever its chunks).
    let specs = if id.contains(crate::clip::CHUNK_SEP) {
        crate::clip::specs(&plan, &s, track.as_ref())
    } else {
        crate::clip::unchunked_specs(&plan, &s, track.as_ref())
    };
    let Some(spec) = (match specs {
        Ok(v) => v.into_iter().find(|c| c.id == id),
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    }) else {
        eprintln!("error: the plan has no clip '{id}'");
        return 2;
    };
    let clip_frames = spec.frames;
    let index = (spec.first
        + ((at.max(0.0) * s.frame.fps as f64).round() as u64).min(clip_frames - 1))
        as u32;
    let mut r = match spec.renderer() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let mut buf = vec![0u8; s.frame.width as usize * s.frame.height as usize * 3];
    for i in 0..=index {
        r.render_frame(i, &mut buf);
    }
    let mean = buf.iter().map(|&b| b as u64).sum::<u64>() as f64 / buf.len() as f64;
    let max = buf.iter().copied().max().unwrap_or(0);
    if let Err(e) = write_png(out, &buf, s.frame.width, s.frame.height) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return 1;
    }
    println!(
        "{}: clip '{id}' frame {index} ({at:.2} s), mean brightness {mean:.1}, max {max}",
        out.display()
    );
    0
}

/// Write an RGB PNG to a temporary file beside `out` (tempfile: a fresh name, removed on any
/// error), then rename it over `out`: an existing file is replaced only by a complete PNG.
fn write_png(out: &Path, rgb: &[u8], width: u32, height: u32) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.partial-"))
        .suffix(".png")
        // Like any new file (the umask applies), not tempfile's private 0600.
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(|e| e.to_string())?;
    let mut w = std::io::BufWriter::new(tmp.as_file());
    image::write_buffer_with_format(
        &mut w,
        rgb,
        width,
        height,
        image::ExtendedColorType::Rgb8,
        image::ImageFormat::Png,
    )
    .map_err(|e| e.to_string())?;
    w.flush().map_err(|e| e.to_string())?;
    drop(w);
    tmp.as_file().sync_all().map_err(|e| e.to_string())?;
    tmp.persist(out).map_err(|e| e.error.to_string())?;
    Ok(())
}
