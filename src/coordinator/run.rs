//! A run: preflight (checks, the work dir's lock, its folders), deciding, dispatching, and for
//! `farm run` the join. `farm run` ([`run`]), `farm join` (the same with
//! [`RunOptions::join_only`]) and `farm render` ([`render_one`]) share one path ([`begin`], then
//! [`render_clips`]); they differ in which clips they render, whether they join, and how they
//! lock: a run or a join holds the work dir alone, a render holds it shared with the renders of
//! other clips (a Slurm array's tasks) and its own clip alone (see [`lock`]).

use crate::coordinator::decide::{Decision, decide, load_manifest, verify_files};
use crate::coordinator::layout::{self, Layout};
use crate::coordinator::manifest_writer::{Change, ManifestWriter};
use crate::coordinator::soundtrack::{self, CacheUse};
use crate::coordinator::types::{
    Clip, FailedClip, RunError, RunOptions, RunSummary, Target, Tools, clips_of, plan_digest,
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

/// Which locks a command takes (see [`lock`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Locking {
    /// The work dir alone (`farm run`, `farm join`).
    Whole,
    /// The work dir shared, and each clip rendered alone (`farm render`).
    Clips,
}

/// Take a lock (`take`) at once, or (`wait`) after saying who holds it and waiting for them.
fn take_lock(
    wait: bool,
    rep: &mut dyn Reporter,
    take: impl Fn(lock::Wait) -> Result<lock::WorkLock, lock::LockError>,
) -> Result<lock::WorkLock, RunError> {
    let err = |e: lock::LockError| match e {
        lock::LockError::Interrupted => RunError::Interrupted,
        e => RunError::Setup(e.to_string()),
    };
    match take(lock::Wait::No) {
        Err(lock::LockError::Held { clip, holder, .. }) if wait => {
            let which = match clip {
                None => "the work dir's lock".to_string(),
                Some(id) => format!("the lock of clip '{id}'"),
            };
            rep.line(&format!(
                "farm: waiting for {which}, held by {}",
                holder.describe()
            ));
            take(lock::Wait::Yes).map_err(err)
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

/// Create the work dir's root (refusing a symlinked or foreign one) and take its lock, and
/// with [`Locking::Clips`] the locks of the clips `ids`.
fn lock_work_dir(
    layout: &Layout,
    plan_path: &Path,
    locking: Locking,
    ids: &[&str],
    wait: bool,
    rep: &mut dyn Reporter,
) -> Result<Vec<lock::WorkLock>, RunError> {
    layout.create_root().map_err(RunError::Setup)?;
    let mut held = Vec::new();
    match locking {
        Locking::Whole => held.push(take_lock(wait, rep, |w| {
            lock::WorkLock::acquire(layout, w)
        })?),
        Locking::Clips => {
            held.push(take_lock(wait, rep, |w| {
                lock::WorkLock::acquire_shared(layout, w)
            })?);
            // The marker before anything else goes in (the clips' locks are in `locks/`): a
            // work dir holding more than its lock and no marker is not farm's (`usable`).
            layout.init(plan_path).map_err(RunError::Setup)?;
            for id in ids {
                held.push(take_lock(wait, rep, |w| {
                    lock::WorkLock::acquire_clip(layout, id, w)
                })?);
            }
        }
    }
    Ok(held)
}

/// `farm clean plan.yaml`: remove the plan's work dir, if farm made it (its marker), and
/// `.farm/` when that leaves it empty; `farm slurm`'s folder beside it goes too. The plan file
/// need not parse.
pub fn clean(plan_path: &Path) -> Result<(Layout, layout::Removal), RunError> {
    let layout = Layout::for_plan_file(plan_path);
    if std::fs::symlink_metadata(&layout.work).is_err() {
        layout.remove_slurm_dir().map_err(RunError::Setup)?;
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
    layout.remove_slurm_dir().map_err(RunError::Setup)?;
    let removal = layout.remove().map_err(RunError::Setup)?;
    Ok((layout, removal))
}

/// The clips `ids` name: a clip's own id, or the id of a clip cut into chunks (`intro` names
/// `intro#1`, `intro#2`, ...); an error lists the ids that name none.
pub fn check_ids(clips: &[Clip], ids: &[String]) -> Result<HashSet<String>, RunError> {
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
    _locks: Vec<lock::WorkLock>,
}

/// The shared start of a run: the clips and their hashes, the ids asked for (`ids`), signal
/// handlers (installed here, once per process), the executable workers run, and preflight.
fn begin(
    plan: &Plan,
    settings: &RenderSettings,
    tools: &Tools,
    targets: &[Target],
    locking: Locking,
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
    if let Some(want) = &opts.plan_digest {
        let have = plan_digest(&clips);
        if *want != have {
            return Err(RunError::Setup(format!(
                "the plan's clips are not those this job was submitted for (clip digest {have}, the job's script expects {want}): the plan, a file it reads or the settings changed since `farm slurm` wrote it; submit again with `farm slurm`"
            )));
        }
    }
    let ids = targets
        .iter()
        .map(|t| match t {
            Target::Id(id) => Ok(id.clone()),
            Target::Index(i) => clips.get(*i).map(|c| c.id.clone()).ok_or_else(|| {
                RunError::Setup(format!(
                    "no clip with index {i}: the plan has {} clips (indices 0 to {})",
                    clips.len(),
                    clips.len().saturating_sub(1)
                ))
            }),
        })
        .collect::<Result<Vec<String>, RunError>>()?;
    let forced = check_ids(&clips, &ids)?;
    let mut order: Vec<&str> = forced.iter().map(String::as_str).collect();
    order.sort_unstable(); // one order for every process: no two wait on each other
    let locks = lock_work_dir(&layout, &plan.path, locking, &order, opts.wait_lock, rep)?;
    prepare(plan, &layout)?;
    Ok(Begun {
        clips,
        forced,
        layout,
        _locks: locks,
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
    let only: Vec<Target> = (opts.only.iter().flatten().cloned())
        .map(Target::Id)
        .collect();
    let b = begin(plan, settings, tools, &only, Locking::Whole, opts, rep)?;
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
    let scope = if opts.join_only {
        Scope::None
    } else {
        Scope::All
    };
    let rendered = render_clips(settings, tools, &b, scope, opts, rep, Some(&mut start));
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

/// `farm render plan ID` (or `--index I`): render one clip (a segment cut into chunks: all
/// of them), always; record it, do not join.
pub fn render_one(
    plan: &Plan,
    settings: &RenderSettings,
    tools: &Tools,
    target: &Target,
    opts: &RunOptions,
    rep: &mut dyn Reporter,
) -> Result<RunSummary, RunError> {
    let b = begin(
        plan,
        settings,
        tools,
        std::slice::from_ref(target),
        Locking::Clips,
        opts,
        rep,
    )?;
    let mut ids: Vec<&str> = b.forced.iter().map(String::as_str).collect();
    ids.sort_unstable();
    // Decide only for these clips; the others are left as they are.
    let Rendered { failed, checks, .. } =
        render_clips(settings, tools, &b, Scope::Forced, opts, rep, None)?;
    rep.finish();
    if let Some(failed) = failed {
        return Err(RunError::Failed {
            clips: failed,
            rerun: opts.rerun.clone(),
        });
    }
    for id in &ids {
        if let Some(Err(e)) = checks.get(*id) {
            return Err(RunError::Join(format!(
                "clip '{id}' finished but does not check out: {e}"
            )));
        }
    }
    Ok(RunSummary {
        output: None,
        frames: b
            .clips
            .iter()
            .filter(|c| b.forced.contains(&c.id))
            .map(|c| c.frames)
            .sum(),
        rendered: ids.len(),
        reused: 0,
        cleaned: false,
        join_secs: 0.0,
        startup_ms: None,
    })
}

/// Which clips [`render_clips`] may render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Every clip not reused (`farm run`).
    All,
    /// Only the forced clips; the others are left alone (`farm render`).
    Forced,
    /// None: a clip that is not done fails the join (`farm join`).
    None,
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

/// Decide, then render what must be rendered ([`Scope`]). `on_started` is called once the
/// first clip is handed to a worker (see [`dispatch::dispatch`]); not when nothing is rendered.
fn render_clips(
    settings: &RenderSettings,
    tools: &Tools,
    b: &Begun,
    scope: Scope,
    opts: &RunOptions,
    rep: &mut dyn Reporter,
    on_started: Option<&mut dyn FnMut()>,
) -> Result<Rendered, RunError> {
    let (clips, layout, policy) = (&b.clips[..], &b.layout, &opts.policy);
    let forced: HashSet<&str> = b.forced.iter().map(String::as_str).collect();
    let m = load_manifest(layout, rep)?;
    if scope == Scope::All {
        // Records of clips the plan no longer has go (this run holds the work dir alone).
        let ids: HashSet<&str> = clips.iter().map(|c| c.id.as_str()).collect();
        for id in m.clips.keys().filter(|id| !ids.contains(id.as_str())) {
            let _ = std::fs::remove_file(layout.record(id));
        }
    }
    // A done clip passed its check when it was rendered; it is reused only while its file is
    // byte for byte that file (size and BLAKE3 as recorded).
    let decisions = decide(clips, &m, &forced, |cands| {
        verify_files(layout, &m, cands, true)
    });
    if crate::procs::interrupts().any() {
        return Err(RunError::Interrupted); // the probes were stopped: their verdicts mean nothing
    }
    if scope == Scope::None {
        let missing: Vec<FailedClip> = clips
            .iter()
            .zip(&decisions)
            .filter(|(_, d)| **d != Decision::Reuse)
            .map(|(c, d)| {
                let log = layout.log(&c.id);
                let why = m.clips.get(&c.id).and_then(|r| r.error.clone());
                FailedClip {
                    id: c.id.clone(),
                    error: match why {
                        Some(e) => format!("not done ({}): {e}", d.word()),
                        None => format!("not done ({})", d.word()),
                    },
                    tail: media::log_tail(&log, dispatch::TAIL_LINES),
                    log,
                }
            })
            .collect();
        if !missing.is_empty() {
            return Ok(Rendered {
                failed: Some(missing),
                reused: 0,
                checks: HashMap::new(),
                manifest: ManifestWriter::new(m, layout),
                startup_ms: Vec::new(),
            });
        }
    }
    let mut manifest = ManifestWriter::new(m, layout);
    let mut todo = Vec::new();
    let mut checks = HashMap::new();
    let mut reused = 0;
    for (c, d) in clips.iter().zip(&decisions) {
        if scope == Scope::Forced && *d != Decision::Forced {
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
