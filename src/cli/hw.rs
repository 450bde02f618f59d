//! `farm hw`: the detected hardware and the render settings it leads to.

use super::args::SettingsArgs;
use super::common::{load, settings_for, warn_memory};
use crate::hw::Hardware;
use crate::profile;
use std::path::Path;

pub(super) fn cmd_hw(plan_path: Option<&Path>, a: &SettingsArgs) -> i32 {
    let plan = match plan_path.map(load).transpose() {
        Ok(p) => p,
        Err(c) => return c,
    };
    let hw = Hardware::detect();
    match settings_for(&hw, plan.as_ref(), a) {
        Ok(s) => {
            warn_memory(&hw, &s, a);
            println!("{}", hw.summary());
            println!("{}", s.summary());
            println!(
                "worker footprint estimate: {:.0} MB (renderer + x264 {})",
                profile::worker_footprint_mb(s.frame.width, s.frame.height, s.preset),
                s.preset
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
