//! Stage timestamps of a run, for measuring where its fixed costs go: with `FARM_TIMING=1`
//! the coordinator prints `farm timing: <ms since start> <stage>` on stderr at each stage
//! (preflight, workers started, the join's ffmpeg started ahead, each clip finished and
//! checked, concat, verification, cleanup). `scripts/bench-fixed.sh` reads these lines. Without the variable nothing is
//! printed and a mark costs one relaxed atomic load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

/// The variable that turns the stage lines on (`1`).
pub const TIMING_ENV: &str = "FARM_TIMING";

static START: OnceLock<Instant> = OnceLock::new();
/// 0: not asked yet, 1: off, 2: on.
static ON: AtomicU8 = AtomicU8::new(0);

fn on() -> bool {
    match ON.load(Ordering::Relaxed) {
        0 => {
            let on = std::env::var(TIMING_ENV).is_ok_and(|v| v == "1");
            ON.store(if on { 2 } else { 1 }, Ordering::Relaxed);
            on
        }
        v => v == 2,
    }
}

/// Start the clock (the first call wins; [`mark`] starts it too).
pub fn start() {
    START.get_or_init(Instant::now);
}

/// Milliseconds since [`start`].
pub fn elapsed_ms() -> f64 {
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// Print `farm timing: <ms> <stage>` when [`TIMING_ENV`] is `1`.
pub fn mark(stage: &str) {
    if on() {
        eprintln!("farm timing: {:8.1} {stage}", elapsed_ms());
    }
}
