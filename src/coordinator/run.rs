//! A run: preflight (checks, the work dir's lock, its folders), deciding, dispatching, and for
//! `farm run` the join. `farm run` ([`run`]) and `farm render` ([`render_one`]) share one path
//! ([`begin`], then [`render_clips`]); they differ in which clips they render and whether they
//! join.

use crate::coordinator::decide::{Decision, decide, load_manifest, verify_files};
use crate::coordinator::layout::{self, Layout};
use crate::coordinator::manifest_writer::{Change, ManifestWriter};
use crate::coordinator::soundtrack::{self, CacheUse};
use crate::coordinator::types::{
    Clip, FailedClip, Policy, RunError, RunOptions, RunSummary, Tools, clips_of,
};
use crate::coordinator::{dispatch, join, lock, pool};
use crate::manifest::ClipState;
use crate::media;
use crate::plan::Plan;
use crate::procs::Interrupts;
use crate::profile::RenderSettings;
use crate::report::{Report, Reporter};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

/// Take the work dir's lock for a run or a render: at once, or (`wait`) after saying who
/// holds it and waiting for them.
fn take_lock(
    layout: &Layout,
    wait: bool,
    rep: &mut dyn Reporter,
) -> Result<lock::WorkLock, RunError> {
    let err = |e: lock::LockError| match e {
        lock::LockError::Interrupted => RunError::Interrupted,
        e => RunError::Setup(e.to_string()),
    };
    match lock::WorkLock::acquire(layout, lock::Wait::No) {
        Err(lock::LockError::Held { holder, .. }) if wait => {
            rep.line(&format!(
                "farm: waiting for the work dir's lock, held by {}",
                holder.describe()
            ));
            lock::WorkLock::acquire(layout, lock::Wait::Yes).map_err(err)
        }
        r => r.map_err(err),
    }
}

fn medians(xs: &[(f64, f64)]) -> Option<(f64, f64)> {
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (!xs.is_empty()).then(|| {
        (
            med(xs.iter().map(|x| x.0).collect()),
            med(xs.iter().map(|x| x.1).collect()),
        )
    })
}

/// Everything that can be checked before a worker starts, creating nothing (`farm check`
/// runs exactly these checks; `farm run` runs them, then [`prepare`]).
pub fn preflight_checks(plan: &Plan, tools: &Tools, layout: &Layout) -> Result<(), RunError> {
    // User fonts must load here, not in a worker.
    if let Some(seg) = plan.segments.first().filter(|_| !plan.fonts.is_empty()) {
        crate::render::missing_glyphs(&seg.scene)
            .map_err(|e| RunError::Setup(format!("fonts: {e}")))?;
    }
    if let Some(a) = &plan.audio {
        let secs =
            media::probe_audio(&tools.ffprobe, a).map_err(|e| {
                match crate::procs::interrupts() {
                    Interrupts::None => RunError::Setup(format!("audio: {e}")),
                    Interrupts::Once | Interrupts::Twice => RunError::Interrupted,
                }
            })?;
        // ffmpeg seeks past the end without a word (and decodes a stray frame or none).
        if plan.audio_from > 0.0 && plan.audio_from >= secs {
            return Err(RunError::Setup(format!(
                "audio: {}: `from: {}` is past the end of the track ({secs:.2} s)",
                a.display(),
                plan.audio_from
            )));
        }
    }
    layout.check_creatable().map_err(RunError::Setup)?;
    let out_dir = plan.output.parent().unwrap_or(Path::new("/"));
    layout::writable(out_dir).map_err(|e| RunError::Setup(format!("the output folder: {e}")))?;
    Ok(())
}

/// Mark the work dir as farm's, create its folders and the output's folder. Called with the
/// work dir's lock held ([`lock_work_dir`]).
fn prepare(plan: &Plan, layout: &Layout) -> Result<(), RunError> {
    layout.init(&plan.path).map_err(RunError::Setup)?;
    let out_dir = plan.output.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(out_dir).map_err(|e| {
        RunError::Setup(format!(
            "cannot create the output folder {}: {e}",
            out_dir.display()
        ))
    })?;
    let probe = out_dir.join(format!(".farm-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| {
        RunError::Setup(format!(
            "the output folder {} is not writable: {e}",
            out_dir.display()
        ))
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Create the work dir's root (refusing a symlinked or foreign one) and take its lock.
fn lock_work_dir(
    layout: &Layout,
    wait: bool,
    rep: &mut dyn Reporter,
) -> Result<lock::WorkLock, RunError> {
    layout.create_root().map_err(RunError::Setup)?;
    take_lock(layout, wait, rep)
}

/// `farm clean plan.yaml`: remove the plan's work dir, if farm made it (its marker), and
/// `.farm/` when that leaves it empty. The plan file need not parse.
pub fn clean(plan_path: &Path) -> Result<(Layout, layout::Removal), RunError> {
    let layout = Layout::for_plan_file(plan_path);
    if std::fs::symlink_metadata(&layout.work).is_err() {
        return Ok((layout, layout::Removal::Nothing));
    }
    // Only a work dir farm made gets a lock file; then no run may lose it mid-way.
    layout.check_ours().map_err(RunError::Setup)?;
    let _lock = match lock::WorkLock::acquire(&layout, lock::Wait::No) {
        Ok(l) => l,
        Err(lock::LockError::Held { holder, .. }) => {
            return Err(RunError::Setup(format!(
                "a run is in progress in {} ({}); not removed",
                layout.work.display(),
                holder.describe()
            )));
        }
        Err(e) => return Err(RunError::Setup(e.to_string())),
    };
    let removal = layout.remove().map_err(RunError::Setup)?;
    Ok((layout, removal))
}

/// The clips `ids` name: a clip's own id, or the id of a clip cut into chunks (`intro` names
/// `intro#1`, `intro#2`, ...); an error lists the ids that name none.
fn check_ids(clips: &[Clip], ids: &[String]) -> Result<HashSet<String>, RunError> {
    let mut forced = HashSet::new();
    let mut unknown = Vec::new();
    for id in ids {
        let named: Vec<&Clip> = clips
            .iter()
            .filter(|c| c.id == *id || crate::clip::unchunked_id(&c.id) == id)
            .collect();
        if named.is_empty() {
            unknown.push(id.as_str());
        }
        forced.extend(named.into_iter().map(|c| c.id.clone()));
    }
    if !unknown.is_empty() {
        let all: Vec<&str> = clips.iter().map(|c| c.id.as_str()).collect();
        return Err(RunError::Setup(format!(
            "no clip named {} in the plan; its clips are: {}",
            unknown.join(", "),
            all.join(", ")
        )));
    }
    Ok(forced)
}

/// What both `farm run` and `farm render` start with: the plan's clips, the clips asked for,
/// the work dir, and its lock (held until this drops).
struct Begun {
    clips: Vec<Clip>,
    forced: HashSet<String>,
    layout: Layout,
    _lock: lock::WorkLock,
}

/// The shared start of a run: the clips and their hashes, the ids asked for (`ids`), signal
/// handlers (installed here, once per process), the executable workers run, and preflight.
fn begin(
    plan: &Plan,
    settings: &RenderSettings,
    tools: &Tools,
    ids: &[String],
    opts: &RunOptions,
    rep: &mut dyn Reporter,
) -> Result<Begun, RunError> {
    let layout = Layout::of(plan);
    crate::procs::install_signal_handlers();
    pool::open_self_exe().map_err(RunError::Setup)?;
    preflight_checks(plan, tools, &layout)?;
    // The soundtrack first: beat cuts place clips on its beats, reactive clips get its rows.
    let track = soundtrack::features(
        plan,
        settings.frame.fps,
        tools,
        &layout,
        CacheUse::ReadWrite,
        rep,
    )?;
    let clips = clips_of(plan, settings, track.as_ref())?;
    let forced = check_ids(&clips, ids)?;
    let lock = lock_work_dir(&layout, opts.wait_lock, rep)?;
    prepare(plan, &layout)?;
    Ok(Begun {
        clips,
        forced,
        layout,
        _lock: lock,
    })
}

/// Render what is missing, failed or stale (plus `--only` clips), then join, verify and clean up.
pub fn run(
    plan: &Plan,
    settings: &RenderSettings,
    tools: &Tools,
    opts: &RunOptions,
    rep: &mut dyn Reporter,
) -> Result<RunSummary, RunError> {
    let only = opts.only.clone().unwrap_or_default();
    let b = begin(plan, settings, tools, &only, opts, rep)?;
    for (p, pid) in join::remove_stale_partials(&plan.output) {
        rep.line(&format!(
            "farm: removed {}, left by the join of farm process {pid}, which is gone",
            p.display()
        ));
    }
    crate::timing::mark("preflight, lock, work dir");
    let enc = crate::clip::encoder_settings(settings);
    // The concat's ffmpeg starts once the first clip is handed to a worker: it loads while the
    // clips render, and waits for its list (see `join`). Dropped with the run when it fails.
    let mut started: Option<join::StartedJoin> = None;
    let mut start = || {
        started = join::start(
            plan,
            &b.clips,
            tools,
            &b.layout,
            &enc,
            opts.policy.stall_timeout,
        );
    };
    let rendered = render_clips(
        settings,
        tools,
        &b,
        false,
        &opts.policy,
        rep,
        Some(&mut start),
    );
    let Rendered {
        failed,
        reused,
        checks,
        mut manifest,
        startup_ms,
    } = rendered?;
    crate::timing::mark("clips rendered and checked");
    let (clips, layout) = (&b.clips, &b.layout);
    if let Some(failed) = failed {
        let ids: Vec<&str> = failed.iter().map(|f| f.id.as_str()).collect();
        let rerun = format!(
            "{} --only {}",
            opts.rerun,
            media::shell_quote(&ids.join(","))
        );
        rep.finish();
        return Err(RunError::Failed {
            clips: failed,
            rerun,
        });
    }
    rep.report(&Report::Joining { clips: clips.len() });
    let t_join = Instant::now();
    let joined = join::join(
        plan,
        clips,
        tools,
        layout,
        &enc,
        checks,
        &opts.rerun,
        opts.policy.stall_timeout,
        &mut manifest,
        started.take(),
    );
    rep.finish();
    if let Err(e) = joined {
        manifest.flush(true, rep);
        return Err(e);
    }
    let keep = opts.keep || std::env::var("KEEP_INTERMEDIATES").is_ok_and(|v| v == "1");
    let cleaned = !keep
        && match join::cleanup(&plan.output, layout) {
            Ok(()) => true,
            Err(e) => {
                rep.line(&format!("farm: warning: intermediates kept: {e}"));
                false
            }
        };
    crate::timing::mark("cleaned up");
    Ok(RunSummary {
        output: Some(plan.output.clone()),
        frames: clips.iter().map(|c| c.frames).sum(),
        rendered: clips.len() - reused,
        reused,
        cleaned,
        join_secs: t_join.elapsed().as_secs_f64(),
        startup_ms: medians(&startup_ms),
    })
}

/// `farm render plan ID`: render one clip (always), record it, do not join.
pub fn render_one(
    plan: &Plan,
    settings: &RenderSettings,
    tools: &Tools,
    id: &str,
    opts: &RunOptions,
    rep: &mut dyn Reporter,
) -> Result<RunSummary, RunError> {
    let b = begin(plan, settings, tools, &[id.to_string()], opts, rep)?;
    // Decide only for this clip; the others are left as they are.
    let Rendered { failed, checks, .. } =
        render_clips(settings, tools, &b, true, &opts.policy, rep, None)?;
    rep.finish();
    if let Some(failed) = failed {
        return Err(RunError::Failed {
            clips: failed,
            rerun: format!("{} {}", opts.rerun, media::shell_quote(id)),
        });
    }
    if let Some(Err(e)) = checks.get(id) {
        return Err(RunError::Join(format!(
            "clip '{id}' finished but does not check out: {e}"
        )));
    }
    Ok(RunSummary {
        output: None,
        frames: b
            .clips
            .iter()
            .filter(|c| c.id == id)
            .map(|c| c.frames)
            .sum(),
        rendered: 1,
        reused: 0,
        cleaned: false,
        join_secs: 0.0,
        startup_ms: None,
    })
}

/// What rendering left: failures (None when every clip rendered), reuse count, checks
/// of finished clips, the manifest, and start-up times (worker spawn + handshake, renderer set-up).
struct Rendered {
    failed: Option<Vec<FailedClip>>,
    reused: usize,
    checks: HashMap<String, Result<(), String>>,
    manifest: ManifestWriter,
    startup_ms: Vec<(f64, f64)>,
}

/// Decide, then render what must be rendered. For `farm run` every clip not reused is rendered;
/// with `only_forced` (`farm render`) only the forced clips, and the others are left alone.
/// `on_started` is called once the first clip is handed to a worker (see
/// [`dispatch::dispatch`]); not when nothing is rendered.
fn render_clips(
    settings: &RenderSettings,
    tools: &Tools,
    b: &Begun,
    only_forced: bool,
    policy: &Policy,
    rep: &mut dyn Reporter,
    on_started: Option<&mut dyn FnMut()>,
) -> Result<Rendered, RunError> {
    let (clips, layout) = (&b.clips[..], &b.layout);
    let forced: HashSet<&str> = b.forced.iter().map(String::as_str).collect();
    let mut m = load_manifest(layout, rep);
    // Records of clips the plan no longer has are dropped.
    let ids: HashSet<&str> = clips.iter().map(|c| c.id.as_str()).collect();
    m.clips.retain(|id, _| ids.contains(id.as_str()));
    // A done clip passed its check when it was rendered; it is reused only while its file is
    // byte for byte that file (size and BLAKE3 as recorded).
    let decisions = decide(clips, &m, &forced, |cands| {
        verify_files(layout, &m, cands, true)
    });
    if crate::procs::interrupts().any() {
        return Err(RunError::Interrupted); // the probes were stopped: their verdicts mean nothing
    }
    let mut manifest = ManifestWriter::new(m, layout);
    let mut todo = Vec::new();
    let mut checks = HashMap::new();
    let mut reused = 0;
    for (c, d) in clips.iter().zip(&decisions) {
        if only_forced && *d != Decision::Forced {
            continue; // farm render: leave the other clips alone
        }
        if *d == Decision::Reuse {
            rep.report(&Report::Reused {
                id: c.id.clone(),
                frames: c.frames,
            });
            checks.insert(c.id.clone(), Ok(()));
            reused += 1;
            continue;
        }
        if !matches!(d, Decision::Forced | Decision::Missing) {
            rep.line(&format!("farm: {}: {}", c.id, d.word()));
        }
        // A clip being rendered has no file until it is done: an old one must not pass for it.
        let old = layout.clip(&c.id);
        match std::fs::remove_file(&old) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(RunError::Setup(format!(
                    "cannot remove the old clip {}: {e}",
                    old.display()
                )));
            }
        }
        manifest.set(c, ClipState::Pending, Change::None);
        todo.push(c.index);
    }
    manifest.flush(true, rep);
    if todo.is_empty() {
        return Ok(Rendered {
            failed: None,
            reused,
            checks,
            manifest,
            startup_ms: Vec::new(),
        });
    }
    let list: Vec<(String, u64)> = todo
        .iter()
        .map(|&i| (clips[i].id.clone(), clips[i].frames))
        .collect();
    rep.report(&Report::Begin {
        clips: list,
        workers: settings.workers.min(todo.len()).max(1),
    });
    let cx = dispatch::Context {
        tools,
        layout,
        clips,
        policy,
        workers: settings.workers,
    };
    let out = dispatch::dispatch(&cx, todo, &mut manifest, rep, on_started);
    if out.interrupted {
        rep.finish();
        return Err(RunError::Interrupted);
    }
    checks.extend(out.checks);
    // In plan order, whatever order they failed in.
    let failed = (!out.failed.is_empty()).then_some(out.failed);
    Ok(Rendered {
        failed,
        reused,
        checks,
        manifest,
        startup_ms: out.startup_ms,
    })
}
