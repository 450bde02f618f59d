//! A short measured calibration for `--quality auto`: how long does one frame of this plan
//! take at production settings on this machine (render + encode)? The seed used a constant
//! (180 ms); a constant is wrong by an order of magnitude for a Rust renderer and depends on the
//! encoder preset and the machine.

use crate::hw::Hardware;
use crate::media::{Encoder, EncoderSettings};
use crate::plan::Plan;
use crate::profile::Profile;
use crate::render::{FrameSpec, Renderer};
use std::time::Instant;

/// Frames rendered and encoded by the calibration.
const FRAMES: u32 = 8;

/// Seconds per frame for one worker at `profile`'s settings, measured on the plan's first
/// segment; None when it cannot be measured (no ffmpeg, the scene does not build).
pub fn seconds_per_frame(plan: &Plan, profile: &Profile, hw: &Hardware) -> Option<f64> {
    let ffmpeg = hw.ffmpeg.as_ref()?;
    let seg = plan.segments.first()?;
    let frame = FrameSpec {
        width: profile.width,
        height: profile.height,
        fps: profile.fps,
        grid_scale: profile.grid_scale,
        shader_level: profile.shaders,
        particles_max: profile.particles_max,
    };
    let mut r = Renderer::new(&frame, &seg.scene, 0).ok()?;
    let dir = tempfile::tempdir().ok()?;
    let enc = EncoderSettings {
        width: frame.width,
        height: frame.height,
        fps: frame.fps,
        preset: profile.preset,
        crf: profile.crf,
        threads: crate::profile::x264_threads(hw.cpus, hw.cpu_workers(), profile, usize::MAX).0,
    };
    let mut e = Encoder::spawn(
        ffmpeg,
        &enc,
        &dir.path().join("calibration.mp4"),
        &dir.path().join("calibration.log"),
    )
    .ok()?;
    let mut buf = vec![0u8; frame.width as usize * frame.height as usize * 3];
    let t = Instant::now();
    for i in 0..FRAMES {
        r.render_frame(i, &mut buf);
        e.write_frame(&buf).ok()?;
    }
    e.finish().ok().filter(|s| s.success())?;
    Some(t.elapsed().as_secs_f64() / FRAMES as f64)
}
