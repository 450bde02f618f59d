//! Disk use: how much a plan's clips and output will take, and whether the file systems of
//! the work dir and the output have that much free (`farm check`).
//!
//! The estimate is a bits-per-pixel model of x264 on farm's own frames:
//!
//! ```text
//! bits per pixel per frame = k(preset) * 2^((23 - crf) / 6) * sqrt(518400 / (width * height))
//! ```
//!
//! (`518400` = 960x540, capped at 2x for tiny frames.) Measured here with `farm run
//! segments.example.yaml --keep` (5 clips, 15.5 s, ffmpeg 5.1 / x264 164), summing the clips:
//!
//! | settings | measured bits/pixel | model |
//! |---|---|---|
//! | 960x540 ultrafast CRF 23 | 0.98 | 1.00 |
//! | 960x540 superfast CRF 23 | 0.83 | 0.85 |
//! | 960x540 veryfast CRF 23 | 0.59 | 0.60 |
//! | 960x540 medium CRF 23 | 0.63 | 0.65 |
//! | 960x540 ultrafast CRF 26 (draft) | 0.74 | 0.71 |
//! | 1280x720 ultrafast CRF 20 (preview) | 1.01 | 1.06 |
//! | 1920x1080 veryfast CRF 18.5 (production) | 0.53 | 0.50 |
//!
//! x264 roughly doubles its bitrate for every 6 CRF steps down, and larger frames of the same
//! art cost fewer bits per pixel. Single clips vary about 2x either way (a quote card 0.35,
//! a zooming tunnel 1.47 at draft), so this is a rough figure: enough to see that a 10-minute 4K
//! plan does not fit in 2 GB, not an exact size.

use std::path::{Path, PathBuf};

/// Bits per pixel of one frame at CRF 23, 960x540, by x264 preset (measured, see above).
fn preset_factor(preset: &str) -> f64 {
    match preset {
        "ultrafast" => 1.0,
        "superfast" => 0.85,
        "veryfast" => 0.6,
        _ => 0.65, // faster .. placebo: medium measured 0.63
    }
}

/// Estimated bytes of `frames` frames of H.264 at this size, CRF and preset.
pub fn video_bytes(width: u32, height: u32, frames: u64, crf: f32, preset: &str) -> u64 {
    let px = width as f64 * height as f64;
    let size = (518_400.0 / px).sqrt().min(2.0);
    let bpp = preset_factor(preset) * 2f64.powf((23.0 - crf as f64) / 6.0) * size;
    (bpp * px * frames as f64 / 8.0).ceil() as u64
}

/// Bytes of the soundtrack in the output: AAC at 192 kb/s for the video's length.
pub fn audio_bytes(seconds: f64) -> u64 {
    (192_000.0 / 8.0 * seconds).ceil() as u64
}

/// A file system a run writes to.
#[derive(Debug, Clone, PartialEq)]
pub struct Space {
    /// The existing folder that was measured (the nearest existing ancestor of the path).
    pub at: PathBuf,
    /// Bytes free for an unprivileged user (`f_bavail * f_frsize`).
    pub free: u64,
    /// The file system's id (`f_fsid`), to tell whether two paths share one.
    pub fs: u64,
}

/// Free space of the file system that holds `path` (or would: the nearest existing ancestor).
pub fn space(path: &Path) -> Option<Space> {
    let at = path.ancestors().find(|p| p.is_dir())?.to_path_buf();
    let st = rustix::fs::statvfs(&at).ok()?;
    Some(Space {
        free: st.f_bavail.saturating_mul(st.f_frsize),
        fs: st.f_fsid,
        at,
    })
}

/// `12.3 MB`, `1.5 GB`, `640 KB`.
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} KB", (b / 1e3).ceil())
    }
}

/// What `farm check` says about disk use: lines to print, and warnings (free space below the
/// estimate). `clips` bytes go to `work`, `output` bytes to `out_dir`; while the join runs both
/// exist, so on one file system they must fit together.
pub fn report(clips: u64, output: u64, work: &Path, out_dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut lines = vec![format!(
        "disk: clips about {} in {}, output about {} in {} (a rough estimate from resolution, frames, CRF and preset)",
        human(clips),
        work.display(),
        human(output),
        out_dir.display()
    )];
    let mut warnings = Vec::new();
    let (Some(w), Some(o)) = (space(work), space(out_dir)) else {
        lines.push("disk: cannot read the free space of these folders".to_string());
        return (lines, warnings);
    };
    if w.fs == o.fs {
        lines.push(format!(
            "disk: {} free on the file system of {} (work dir and output)",
            human(w.free),
            w.at.display()
        ));
        if w.free < clips + output {
            warnings.push(format!(
                "the work dir and the output share a file system with {} free, but the clips and the output need about {} ({} + {}) while the video is joined",
                human(w.free),
                human(clips + output),
                human(clips),
                human(output)
            ));
        }
    } else {
        lines.push(format!(
            "disk: {} free for the work dir ({}), {} free for the output ({})",
            human(w.free),
            w.at.display(),
            human(o.free),
            o.at.display()
        ));
        if w.free < clips {
            warnings.push(format!(
                "the work dir's file system ({}) has {} free, but the clips need about {}",
                w.at.display(),
                human(w.free),
                human(clips)
            ));
        }
        if o.free < output {
            warnings.push(format!(
                "the output's file system ({}) has {} free, but the video needs about {}",
                o.at.display(),
                human(o.free),
                human(output)
            ));
        }
    }
    (lines, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_matches_its_measurements() {
        // The measured totals of segments.example.yaml (see the module docs), within 10%.
        let near = |est: u64, measured: f64| (est as f64 / measured - 1.0).abs() < 0.1;
        assert!(near(
            video_bytes(960, 540, 186, 26.0, "ultrafast"),
            8_943_413.0
        ));
        assert!(near(
            video_bytes(960, 540, 186, 23.0, "veryfast"),
            7_164_585.0
        ));
        assert!(near(
            video_bytes(1280, 720, 233, 20.0, "ultrafast"),
            27_105_265.0
        ));
        assert!(near(
            video_bytes(1920, 1080, 372, 18.5, "veryfast"),
            51_545_642.0
        ));
        // More frames, more bytes; a lower CRF, more bytes.
        assert!(
            video_bytes(640, 360, 200, 23.0, "veryfast")
                > video_bytes(640, 360, 100, 23.0, "veryfast")
        );
        assert!(
            video_bytes(640, 360, 100, 18.0, "veryfast")
                > video_bytes(640, 360, 100, 23.0, "veryfast")
        );
        assert_eq!(audio_bytes(10.0), 240_000);
    }

    #[test]
    fn free_space_is_measured_at_the_nearest_existing_folder() {
        let d = tempfile::tempdir().unwrap();
        let s = space(&d.path().join("not/yet/there")).unwrap();
        assert_eq!(s.at, d.path());
        assert!(s.free > 0);
        let (lines, warnings) = report(1, 1, &d.path().join(".farm/p"), d.path());
        assert!(lines[1].contains("work dir and output"), "{lines:?}");
        assert!(warnings.is_empty());
        let (_, warnings) = report(u64::MAX / 4, 1, &d.path().join(".farm/p"), d.path());
        assert!(warnings[0].contains("need about"), "{warnings:?}");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(640_000), "640 KB");
        assert_eq!(human(12_300_000), "12.3 MB");
        assert_eq!(human(1_500_000_000), "1.5 GB");
    }
}
