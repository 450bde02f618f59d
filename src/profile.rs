//! Quality profiles and overrides -> the settings of one run.
//!
//! The numbers are the reference guide's (see `docs/reference-pipeline.md`: draft / preview /
//! production / max / auto, aspect presets, `--quality --aspect --workers --resolution` and their
//! precedence), with two changes that
//! measurements on this kind of machine asked for:
//!
//! - **Encoder preset.** The reference guide's CRFs assume x264's default preset (medium). We encode with
//!   faster presets at a CRF that gives at least the same quality: veryfast at crf 17.5 beats
//!   medium at crf 20 (measured 2026-12-02, 120 frames of the reference plasma at 1080p, SSIM
//!   against a lossless encode of each pipeline's own frames: farm 0.9719, the Python reference
//!   at medium/20 0.9692; at veryfast/18.5 farm was 0.9665, under it) for the CPU of
//!   veryfast/18.5 within noise (whole runs, 3 alternating: 8.4-8.9 s vs 8.1-8.9 s) and 16% more
//!   bytes. Per profile: draft ultrafast/26, preview ultrafast/20, production
//!   veryfast/17.5, max medium/18; auto's low-end and downgraded profiles use veryfast at the
//!   reference guide's CRF minus 2.5. A plan's `preset`/`crf` or the flags
//!   `--preset`/`--crf` override these.
//! - **Memory cap counts the encoder.** The seed caps workers at 60% of memory divided by 150 MB;
//!   one x264 process alone peaks near 490 MB at 1080p (medium). We estimate a worker's footprint
//!   as renderer + encoder for the chosen size and preset (measured RSS, see [`worker_footprint_mb`]).

use crate::hw::Hardware;
use crate::render::{FrameSpec, ShaderLevel};

pub use crate::choices::{Aspect, Quality, X264Preset, parse_resolution};

/// One quality profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Name as shown to the user (`draft`, `auto: low-end -> 720p@15`, ...).
    pub name: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// x264 CRF.
    pub crf: f32,
    /// x264 preset.
    pub preset: X264Preset,
    /// A cap on the worker count (draft: 4).
    pub worker_cap: Option<usize>,
    /// Grid scale.
    pub grid_scale: f32,
    /// Shader level.
    pub shaders: ShaderLevel,
    /// Particle cap.
    pub particles_max: u32,
}

#[allow(clippy::too_many_arguments)]
fn p(
    name: &str,
    w: u32,
    h: u32,
    fps: u32,
    preset: X264Preset,
    crf: f32,
    cap: Option<usize>,
    gs: f32,
    sh: ShaderLevel,
    parts: u32,
) -> Profile {
    Profile {
        name: name.to_string(),
        width: w,
        height: h,
        fps,
        crf,
        preset,
        worker_cap: cap,
        grid_scale: gs,
        shaders: sh,
        particles_max: parts,
    }
}

/// The fixed profiles (auto is decided by [`resolve`]).
pub fn fixed_profile(q: Quality) -> Profile {
    use ShaderLevel::*;
    use X264Preset::{Medium, Ultrafast, Veryfast};
    match q {
        Quality::Draft => p(
            "draft",
            960,
            540,
            12,
            Ultrafast,
            26.0,
            Some(4),
            0.5,
            Minimal,
            200,
        ),
        Quality::Preview => p(
            "preview", 1280, 720, 15, Ultrafast, 20.0, None, 0.75, Standard, 500,
        ),
        Quality::Production | Quality::Auto => p(
            "production",
            1920,
            1080,
            24,
            Veryfast,
            17.5,
            None,
            1.0,
            Full,
            1200,
        ),
        Quality::Max => p("max", 3840, 2160, 30, Medium, 18.0, None, 2.0, Full, 3000),
    }
}

/// What the user asked for, flags merged over plan keys (flags win).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Quality (default auto).
    pub quality: Option<Quality>,
    /// Aspect (default landscape).
    pub aspect: Option<Aspect>,
    /// Explicit size; beats aspect.
    pub resolution: Option<(u32, u32)>,
    /// Explicit worker count; replaces the detected count (the draft cap still applies, as in the reference guide).
    pub workers: Option<usize>,
    /// x264 preset.
    pub preset: Option<X264Preset>,
    /// x264 CRF.
    pub crf: Option<f32>,
    /// Frames per second (beats the profile's).
    pub fps: Option<u32>,
}

/// Everything a run needs to know about how to render.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderSettings {
    /// The profile as chosen (before size/preset overrides).
    pub profile: Profile,
    /// Frame geometry and renderer knobs.
    pub frame: FrameSpec,
    /// x264 preset.
    pub preset: X264Preset,
    /// x264 CRF.
    pub crf: f32,
    /// Worker processes to run at once.
    pub workers: usize,
    /// Why the worker count is what it is (e.g. "3 by CPUs, capped by memory to 2").
    pub workers_reason: String,
    /// x264 threads per worker ([`x264_threads`]; [`RenderSettings::fit_threads`] sets it for a
    /// plan).
    pub x264_threads: u32,
    /// Why (`2 cores / 2 clips at once`).
    pub threads_reason: String,
}

impl RenderSettings {
    /// The reference guide's start-up line: `Render: 1280x720 @15fps, CRF 20, 2 workers`.
    pub fn summary(&self) -> String {
        format!(
            "Render: {}x{} @{}fps, CRF {} (x264 {}), {} workers ({}), x264 threads {} per worker ({}), quality {}, grid scale {}, shaders {}",
            self.frame.width,
            self.frame.height,
            self.frame.fps,
            self.crf,
            self.preset,
            self.workers,
            self.workers_reason,
            self.x264_threads,
            self.threads_reason,
            self.profile.name,
            self.frame.grid_scale,
            format!("{:?}", self.frame.shader_level).to_lowercase(),
        )
    }
}

/// x264 threads per worker, with why: the cores shared among the clips that can encode at
/// once on this machine, `cpus / min(clips, hardware workers)`, but at least 2 (and at most
/// the cores), where the hardware workers are the CPU rule's count (`hw_workers`) under the
/// profile's cap.
///
/// Never from `--workers` nor from the memory cap: x264's output bytes depend on its thread
/// count, and a clip must come out byte-identical whatever `--workers` is (and be reused from
/// run to run while the memory available changes). The thread count is in the clip's encoder
/// settings but not in its hash: a clip is reused whatever thread count encoded it (a Slurm
/// node's, another machine's). `--x264-threads N` sets it by hand.
///
/// Measured on the 2-core machine, 2 encoders at once (2 workers) on 120 pre-rendered frames
/// each, CPU seconds of both (user + system, which the shared machine's load skews less than
/// wall time), means of 2 runs: 720p veryfast CRF 18.5: auto (3 threads each) 11.45, 1 thread
/// 11.23, 2 threads 11.15; 540p ultrafast CRF 26: 1.59, 1.61, 1.73. Oversubscription costs no
/// CPU beyond the runs' noise (about 8%) here, while a clip that encodes alone (the last clip of a run, a plan with fewer
/// clips than cores) uses only one core with 1 thread: so 2 at least, and no more than the
/// cores' share above that (x264's own 1.5 x cores per encoder multiplies its frame buffers by
/// the worker count).
pub fn x264_threads(
    cpus: usize,
    hw_workers: usize,
    profile: &Profile,
    clips: usize,
) -> (u32, String) {
    let workers = profile
        .worker_cap
        .map_or(hw_workers, |c| hw_workers.min(c))
        .max(1);
    let at_once = workers.min(clips.max(1));
    let share = cpus / at_once;
    let n = share.max(2).min(cpus.max(1)) as u32;
    let what = if clips < workers { "clips" } else { "workers" };
    let why = if share >= 2 || cpus < 2 {
        format!("{cpus} cores / {at_once} {what} at once")
    } else {
        format!("{cpus} cores / {at_once} {what} at once, at least 2")
    };
    (n, why)
}

impl RenderSettings {
    /// Set the x264 threads for a plan of `clips` clips (its segments: a beat-cut run only adds
    /// clips) on `hw` ([`x264_threads`]).
    pub fn fit_threads(&mut self, hw: &Hardware, clips: usize) {
        (self.x264_threads, self.threads_reason) =
            x264_threads(hw.cpus, hw.cpu_workers(), &self.profile, clips);
    }
}

/// Estimated peak RSS in MB of one worker at this size and x264 preset: the renderer (canvases
/// and glyph atlases) plus its x264 process. Encoder figures were measured here with
/// `/usr/bin/time -f %M` on 1280x720 and 1920x1080 (ultrafast 90/121 MB, veryfast 162/284 MB,
/// medium 256/477 MB) and fitted as base + per-megapixel.
pub fn worker_footprint_mb(width: u32, height: u32, preset: X264Preset) -> f64 {
    use X264Preset::*;
    let mpx = width as f64 * height as f64 / 1e6;
    let (base, per_mpx) = match preset {
        Ultrafast => (65.0, 27.0),
        Superfast => (65.0, 60.0),
        Veryfast => (64.0, 106.0),
        Faster => (70.0, 150.0),
        Fast => (75.0, 170.0),
        Medium => (80.0, 192.0),
        Slow | Slower | Veryslow | Placebo => (90.0, 260.0),
    };
    let renderer = 24.0 + 20.0 * mpx;
    renderer + base + per_mpx * mpx
}

/// Worker count by memory: 60% of available memory / footprint (at least 1).
pub fn workers_by_memory(hw: &Hardware, width: u32, height: u32, preset: X264Preset) -> usize {
    let avail_mb = hw.mem_available as f64 / (1024.0 * 1024.0);
    ((avail_mb * 0.6 / worker_footprint_mb(width, height, preset)) as usize).max(1)
}

/// A warning when an explicit `--workers N` (`requested`) runs more workers than memory allows
/// (the cap that applies without the flag: [`workers_by_memory`]), with the numbers: workers,
/// the per-worker estimate, available memory and the cap. `None` when they fit.
pub fn memory_warning(
    hw: &Hardware,
    s: &RenderSettings,
    requested: Option<usize>,
) -> Option<String> {
    let requested = requested?;
    let (w, h) = (s.frame.width, s.frame.height);
    let cap = workers_by_memory(hw, w, h, s.preset);
    if s.workers <= cap {
        return None;
    }
    let each = worker_footprint_mb(w, h, s.preset);
    let avail = hw.mem_available as f64 / (1024.0 * 1024.0);
    Some(format!(
        "--workers {requested} is above the memory cap: {} workers x about {each:.0} MB each (renderer + x264 {} at {w}x{h}) = {:.0} MB, with {avail:.0} MB of memory available; the cap (60% of available memory / the per-worker estimate) is {cap} worker{}. Workers may be killed for lack of memory; use --workers {cap}, or leave --workers out",
        s.workers,
        s.preset,
        s.workers as f64 * each,
        if cap == 1 { "" } else { "s" },
    ))
}

/// Choose the settings of a run.
///
/// `total_seconds` is the plan's length; `calibrate` measures seconds per frame per worker at
/// production settings and is called only for `auto` on a machine that is not low-end (the
/// reference guide's fixed 180 ms estimate is replaced by a measurement).
pub fn resolve(
    hw: &Hardware,
    total_seconds: f64,
    ov: &Overrides,
    calibrate: impl FnOnce(&Profile) -> Option<f64>,
) -> RenderSettings {
    let quality = ov.quality.unwrap_or(Quality::Auto);
    let cpu_workers = ov.workers.unwrap_or_else(|| hw.cpu_workers()).max(1);
    let profile = if quality == Quality::Auto {
        auto_profile(hw, total_seconds, cpu_workers, calibrate)
    } else {
        fixed_profile(quality)
    };
    // Aspect preset before the manual resolution; resolution beats aspect (the reference guide's order).
    let aspect = ov.aspect.unwrap_or(Aspect::Landscape);
    let (mut w, mut h) = (profile.width, profile.height);
    if aspect != Aspect::Landscape && ov.resolution.is_none() {
        (w, h) = aspect.preset_size();
    }
    if let Some((rw, rh)) = ov.resolution {
        (w, h) = (rw, rh);
    }
    let preset = ov.preset.unwrap_or(profile.preset);
    let crf = ov.crf.unwrap_or(profile.crf);

    let (workers, reason) = match ov.workers {
        Some(n) => {
            let n = n.max(1);
            match profile.worker_cap {
                Some(cap) if n > cap => (
                    cap,
                    format!(
                        "--workers {n}, capped to {cap} by the {} profile",
                        profile.name
                    ),
                ),
                _ => (n, "--workers".to_string()),
            }
        }
        None => {
            let by_mem = workers_by_memory(hw, w, h, preset);
            let mut n = cpu_workers.min(by_mem);
            let mut why = format!("{cpu_workers} by CPUs");
            if by_mem < cpu_workers {
                why += &format!(
                    ", {by_mem} by memory ({:.0} MB each)",
                    worker_footprint_mb(w, h, preset)
                );
            }
            if let Some(cap) = profile.worker_cap
                && n > cap
            {
                n = cap;
                why += &format!(", {cap} by the {} profile", profile.name);
            }
            (n, why)
        }
    };
    let (x264_threads, threads_reason) =
        x264_threads(hw.cpus, hw.cpu_workers(), &profile, usize::MAX);
    RenderSettings {
        x264_threads,
        threads_reason,
        frame: FrameSpec {
            width: w,
            height: h,
            fps: ov.fps.unwrap_or(profile.fps),
            grid_scale: profile.grid_scale,
            shader_level: profile.shaders,
            particles_max: profile.particles_max,
        },
        preset,
        crf,
        workers,
        workers_reason: reason,
        profile,
    }
}

fn auto_profile(
    hw: &Hardware,
    total_seconds: f64,
    workers: usize,
    calibrate: impl FnOnce(&Profile) -> Option<f64>,
) -> Profile {
    use ShaderLevel::*;
    use X264Preset::Veryfast;
    if hw.mem_gb() < 4.0 || hw.cpus <= 2 {
        return p(
            "auto: low-end machine (<4 GB or <=2 cores) -> 720p@15",
            1280,
            720,
            15,
            Veryfast,
            20.5,
            None,
            0.75,
            Standard,
            500,
        );
    }
    let production = fixed_profile(Quality::Production);
    let n_frames = (total_seconds * 24.0).ceil();
    // The reference guide's constant (180 ms a frame at 1080p) only when a measurement is impossible.
    let spf = calibrate(&production).unwrap_or(0.18);
    let est_total_s = n_frames * spf / workers.max(1) as f64;
    if est_total_s > 3600.0 {
        return p(
            &format!(
                "auto: production estimated at {:.0} min -> 720p@24",
                est_total_s / 60.0
            ),
            1280,
            720,
            24,
            Veryfast,
            17.5,
            None,
            0.75,
            Standard,
            800,
        );
    }
    Profile {
        name: "auto: production".to_string(),
        ..production
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hw(cpus: usize, mem_gb: f64) -> Hardware {
        let b = (mem_gb * 1024.0 * 1024.0 * 1024.0) as u64;
        Hardware {
            cpus,
            mem_total: b,
            mem_available: b,
            cgroup_mem_limit: None,
            platform: "linux".into(),
            arch: "x86_64".into(),
            ffmpeg: None,
            ffprobe: None,
        }
    }

    fn no_cal(_: &Profile) -> Option<f64> {
        panic!("calibration must not run here")
    }

    #[test]
    fn fixed_profiles_match_the_seed() {
        let s = resolve(
            &hw(8, 32.0),
            10.0,
            &Overrides {
                quality: Some(Quality::Draft),
                ..Default::default()
            },
            no_cal,
        );
        assert_eq!((s.frame.width, s.frame.height, s.frame.fps), (960, 540, 12));
        assert_eq!(s.workers, 4, "draft caps at 4");
        assert_eq!(s.frame.grid_scale, 0.5);
        assert_eq!(s.frame.particles_max, 200);
        let s = resolve(
            &hw(8, 32.0),
            10.0,
            &Overrides {
                quality: Some(Quality::Preview),
                ..Default::default()
            },
            no_cal,
        );
        assert_eq!(
            (s.frame.width, s.frame.height, s.frame.fps, s.workers),
            (1280, 720, 15, 7)
        );
        let s = resolve(
            &hw(8, 32.0),
            10.0,
            &Overrides {
                quality: Some(Quality::Max),
                ..Default::default()
            },
            no_cal,
        );
        assert_eq!(
            (s.frame.width, s.frame.height, s.frame.fps),
            (3840, 2160, 30)
        );
        assert_eq!(s.frame.particles_max, 3000);
    }

    #[test]
    fn aspect_then_resolution_precedence() {
        let base = Overrides {
            quality: Some(Quality::Preview),
            aspect: Some(Aspect::Portrait),
            ..Default::default()
        };
        let s = resolve(&hw(4, 16.0), 1.0, &base, no_cal);
        assert_eq!(
            (s.frame.width, s.frame.height),
            (1080, 1920),
            "non-landscape aspect replaces the profile size"
        );
        let s = resolve(
            &hw(4, 16.0),
            1.0,
            &Overrides {
                resolution: Some((640, 360)),
                ..base.clone()
            },
            no_cal,
        );
        assert_eq!(
            (s.frame.width, s.frame.height),
            (640, 360),
            "resolution beats aspect"
        );
        let s = resolve(
            &hw(4, 16.0),
            1.0,
            &Overrides {
                aspect: Some(Aspect::Landscape),
                ..base
            },
            no_cal,
        );
        assert_eq!(
            (s.frame.width, s.frame.height),
            (1280, 720),
            "landscape keeps the profile size"
        );
    }

    #[test]
    fn auto_low_end_and_calibrated_downgrade() {
        let s = resolve(&hw(2, 24.0), 10.0, &Overrides::default(), no_cal);
        assert_eq!(
            (s.frame.width, s.frame.height, s.frame.fps),
            (1280, 720, 15)
        );
        let s = resolve(&hw(8, 2.0), 10.0, &Overrides::default(), no_cal);
        assert_eq!(
            (s.frame.width, s.frame.fps),
            (1280, 15),
            "under 4 GB is low-end"
        );
        // 8 cores -> 7 workers; 600 s * 24 = 14400 frames at 2 s a frame = 68 min > 1 h.
        let s = resolve(&hw(8, 32.0), 600.0, &Overrides::default(), |_| Some(2.0));
        assert_eq!(
            (s.frame.width, s.frame.height, s.frame.fps),
            (1280, 720, 24)
        );
        assert_eq!(s.frame.particles_max, 800);
        let s = resolve(&hw(8, 32.0), 600.0, &Overrides::default(), |_| Some(0.05));
        assert_eq!(
            (s.frame.width, s.frame.height, s.frame.fps),
            (1920, 1080, 24)
        );
    }

    #[test]
    fn x264_threads_follow_the_cores_not_the_worker_flag() {
        let prof = fixed_profile(Quality::Production);
        assert_eq!(x264_threads(2, 2, &prof, 4).0, 2, "at least 2");
        assert_eq!(x264_threads(1, 1, &prof, 4).0, 1, "at most the cores");
        assert_eq!(x264_threads(8, 7, &prof, 1).0, 8, "one clip: every core");
        assert_eq!(x264_threads(16, 15, &prof, 4).0, 4);
        // draft runs at most 4 workers: 16 cores / 4.
        let draft = fixed_profile(Quality::Draft);
        assert_eq!(x264_threads(16, 15, &draft, 100).0, 4);
        // The same on every --workers: resolve's count does not enter.
        let a = resolve(&hw(8, 32.0), 10.0, &Overrides::default(), |_| None);
        let ov = Overrides {
            workers: Some(1),
            ..Overrides::default()
        };
        let b = resolve(&hw(8, 32.0), 10.0, &ov, |_| None);
        assert_ne!(a.workers, b.workers);
        assert_eq!(a.x264_threads, b.x264_threads);
        assert!(a.summary().contains("x264 threads"), "{}", a.summary());
    }

    #[test]
    fn workers_override_and_memory_cap() {
        let s = resolve(
            &hw(8, 32.0),
            1.0,
            &Overrides {
                quality: Some(Quality::Production),
                workers: Some(3),
                ..Default::default()
            },
            no_cal,
        );
        assert_eq!(s.workers, 3);
        // 1 GB: 60% = 614 MB; a 1080p veryfast worker needs ~350 MB -> 1 worker.
        let s = resolve(
            &hw(8, 1.0),
            1.0,
            &Overrides {
                quality: Some(Quality::Production),
                ..Default::default()
            },
            no_cal,
        );
        assert_eq!(s.workers, 1);
        assert!(s.workers_reason.contains("memory"), "{}", s.workers_reason);
        // Medium at 1080p must count the encoder's ~490 MB, not the reference guide's 150 MB.
        assert!(worker_footprint_mb(1920, 1080, X264Preset::Medium) > 490.0);
    }

    #[test]
    fn preset_and_crf_overrides() {
        let ov = Overrides {
            quality: Some(Quality::Draft),
            preset: Some(X264Preset::Medium),
            crf: Some(30.0),
            ..Default::default()
        };
        let s = resolve(&hw(4, 16.0), 1.0, &ov, no_cal);
        assert_eq!((s.preset, s.crf), (X264Preset::Medium, 30.0));
    }

    #[test]
    fn workers_above_the_memory_cap_draw_a_warning_with_the_numbers() {
        let ov = |workers| Overrides {
            quality: Some(Quality::Production),
            resolution: Some((8192, 8192)),
            workers,
            ..Default::default()
        };
        let machine = hw(2, 23.0);
        let s = resolve(&machine, 10.0, &ov(Some(2)), no_cal);
        assert_eq!(s.workers, 2, "the flag is obeyed");
        let w = memory_warning(&machine, &s, Some(2)).expect("2 x 8 GB on 23 GB is over 60%");
        let each = worker_footprint_mb(8192, 8192, X264Preset::Veryfast);
        assert!(
            w.starts_with("--workers 2 is above the memory cap: 2 workers x about"),
            "{w}"
        );
        assert!(w.contains(&format!("{each:.0} MB each")), "{w}");
        assert!(
            w.contains("8192x8192") && w.contains("23552 MB of memory available"),
            "{w}"
        );
        assert!(
            w.contains("the cap (60% of available memory / the per-worker estimate) is 1 worker."),
            "{w}"
        );
        // Within the cap, or without the flag, nothing to say.
        assert_eq!(memory_warning(&machine, &s, None), None);
        let small = resolve(
            &machine,
            10.0,
            &Overrides {
                resolution: Some((640, 360)),
                ..ov(Some(2))
            },
            no_cal,
        );
        assert_eq!(memory_warning(&machine, &small, Some(2)), None);
    }
}
