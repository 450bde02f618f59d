//! The coordinator: decides which clips to render (the manifest and the plan say what is
//! missing, failed or stale), runs them on worker processes ([`dispatch`]), and joins them
//! when every clip succeeded ([`join`]).
//!
//! # Map
//!
//! - [`types`]: what a run is given and returns ([`Tools`], [`Policy`], [`RunOptions`],
//!   [`RunSummary`], [`RunError`], [`FailedClip`]) and the plan's [`Clip`]s (each a
//!   [`crate::clip::ClipSpec`] with its hash). A leaf: the other files use it, it uses none.
//! - [`layout`]: the one owner of every path in the work dir ([`Layout`]).
//! - [`decide`]: which clips to render ([`Decision`]), and `farm status` ([`status`]).
//! - [`manifest_writer`]: the manifest as the run changes it ([`ManifestWriter`]).
//! - [`run`]: `farm run`, `farm render` and `farm join`: preflight, lock, decide, dispatch, join.
//! - [`dispatch`]: the loop; its logic is the pure state machine [`dispatch::machine`].
//! - [`pool`]: worker processes: spawn + handshake, stop, kill, reap.
//! - [`join`]: clip checks, concat + audio, verification, cleanup.
//! - [`lock`]: the work dir's lock (one farm process per work dir at a time, or `farm render`s
//!   of different clips side by side) and the clips' locks.
//!
//! Submodules import each other only through the module that defines a type, never through
//! this one (no import cycles: `scripts/module-cycles.py --under coordinator`).
//!
//! # A clip's lifecycle
//!
//! Each clip of a run is a [`dispatch::machine::Run`]; its manifest state follows:
//!
//! ```text
//!   queued ──▶ starting ──▶ running ──▶ checking ──▶ done
//!     ▲           │            │           │
//!     │           └────────────┴─────┬─────┘  (spawn/send failed, crash, stall, bad file)
//!     │                              ▼
//!     └──── retry-waiting ◀── retryable and attempts left?  ── no ──▶ failed
//!
//!   a stop signal: starting/running ──▶ interrupted; checking gets its verdict (a second
//!   signal: interrupted too); queued and retry-waiting clips stay pending for the next run.
//! ```

pub mod decide;
pub mod dispatch;
pub mod join;
pub mod layout;
pub mod lock;
pub mod manifest_writer;
pub mod pool;
pub mod run;
pub mod soundtrack;
pub mod types;

pub use decide::{Decision, StatusRow, status};
pub use dispatch::TAIL_LINES;
pub use layout::Layout;
pub use manifest_writer::ManifestWriter;
pub use run::{check_ids, clean, preflight_checks, render_one, run};
pub use types::{
    Clip, FailedClip, Policy, RunError, RunOptions, RunSummary, Target, Tools, clips_of,
    plan_digest,
};
