//! Issue 7, integrity: a kept clip is reused only while it is byte for byte the file that was
//! rendered and checked; a bad join names the clips that do not add up; a full disk is named
//! as such, in the clip and in the join; `--workers` above the memory cap and a disk too small
//! for the plan are warned about; an ffmpeg that never started is told apart. Real farm, real
//! worker processes, real ffmpeg and ffprobe.

mod common;
use common::*;
use farm::manifest::{ClipState, Manifest};
use std::path::{Path, PathBuf};

fn args<'a>(plan: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["run", plan];
    a.extend_from_slice(TINY);
    a.extend_from_slice(extra);
    a
}

/// Three clips: 12 + 24 + 12 frames at 12 fps; `a` and `c` have the same length and settings.
const PLAN: &str = "output: out.mp4\nseed: 9\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n  - {id: b, scene: plasma, duration: 2}\n  - {id: c, scene: plasma, duration: 1, params: {hue: 0.3}}\n";
const TOTAL: u64 = 48;

fn work(s: &Scratch) -> PathBuf {
    common::work_dir(&s.path().join("plan.yaml"))
}

fn clip(s: &Scratch, id: &str) -> PathBuf {
    work(s).join("clips").join(format!("{id}.mp4"))
}

fn load_manifest(s: &Scratch) -> Manifest {
    let m = common::records(&work(s));
    assert!(!m.clips.is_empty(), "there are records");
    m
}

/// Render PLAN once, keeping the clips; the frames' MD5s of the good video.
fn first_run(s: &Scratch) -> Vec<String> {
    s.write("plan.yaml", PLAN);
    let o = s.run(&args("plan.yaml", &["--keep"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    let md5 = framemd5(&s.path().join("out.mp4"));
    assert_eq!(md5.len() as u64, TOTAL);
    md5
}

#[test]
fn a_kept_clip_with_300_bytes_overwritten_is_rendered_again() {
    let s = Scratch::new("overwrite300");
    let good = first_run(&s);
    let p = clip(&s, "b");
    let mut bytes = std::fs::read(&p).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 300].fill(0x5A);
    std::fs::write(&p, &bytes).unwrap();
    let o = s.run(&args("plan.yaml", &["--keep"]), &[], LIMIT);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(
            "b: render (file does not check out: file changed since it was rendered (digest mismatch))"
        ),
        "{err}"
    );
    assert!(
        err.contains("reuse a") && err.contains("reuse c") && err.contains("farm: start b"),
        "{err}"
    );
    assert_eq!(
        framemd5(&s.path().join("out.mp4")),
        good,
        "the video is right"
    );
}

#[test]
fn a_clip_copied_over_another_is_rendered_again_and_status_does_not_claim_reuse() {
    let s = Scratch::new("copyover");
    let good = first_run(&s);
    std::fs::copy(clip(&s, "c"), clip(&s, "a")).unwrap();
    // `farm status` only looks at sizes (cheap), but must not call this clip reusable.
    let st = s.run(
        &["status", "plan.yaml", TINY[0], TINY[1], TINY[2], TINY[3]],
        &[],
        LIMIT,
    );
    let out = stdout(&st);
    let line = out
        .lines()
        .find(|l| l.starts_with("a "))
        .unwrap_or_default();
    assert!(
        line.contains("render (file does not check out: file changed since it was rendered"),
        "{out}"
    );
    let o = s.run(&args("plan.yaml", &["--keep"]), &[], LIMIT);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("a: render (file does not check out: file changed since it was rendered"),
        "{err}"
    );
    assert!(
        err.contains("farm: start a") && err.contains("reuse c"),
        "{err}"
    );
    assert_eq!(
        framemd5(&s.path().join("out.mp4")),
        good,
        "no duplicated frames"
    );
}

#[test]
fn a_manifest_without_digests_loads_but_its_clips_are_rendered_again() {
    let s = Scratch::new("olddigest");
    let good = first_run(&s);
    // What a farm from before digests left: the same records, no digest, no size.
    let mut m = load_manifest(&s);
    for r in m.clips.values_mut() {
        assert!(r.digest.is_some() && r.bytes.is_some(), "{r:?}");
        r.digest = None;
        r.bytes = None;
    }
    m.save(&work(&s).join("state")).unwrap();
    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        !err.contains("is damaged"),
        "an old manifest is not damaged: {err}"
    );
    assert!(err.contains("no content digest recorded"), "{err}");
    assert!(!err.contains("farm: reuse"), "{err}");
    assert_eq!(framemd5(&s.path().join("out.mp4")), good);
}

#[test]
fn a_join_whose_count_is_wrong_names_the_clip_and_its_only_command() {
    let s = Scratch::new("badjoin");
    let good = first_run(&s);
    // b (24 frames) over a (12), and the manifest made to vouch for it (digest and size via the
    // library, which also rewrites the checksum line): the reuse check passes, the join cannot.
    std::fs::copy(clip(&s, "b"), clip(&s, "a")).unwrap();
    let (bytes, digest) = farm::manifest::file_stamp(&clip(&s, "a")).unwrap();
    let mut m = load_manifest(&s);
    let rec = m.clips.get_mut("a").unwrap();
    rec.bytes = Some(bytes);
    rec.digest = Some(digest);
    m.save(&work(&s).join("state")).unwrap();
    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("reuse a"), "the forged record passed: {err}");
    assert!(
        err.contains("the joined video has 60 frames, expected 48"),
        "{err}"
    );
    assert!(err.contains("clip 'a': 24 packets, expected 12"), "{err}");
    assert!(
        !err.contains("clip 'b'") && !err.contains("clip 'c'"),
        "{err}"
    );
    assert!(
        err.contains(
            "re-render them with: farm run plan.yaml --quality draft --resolution 160x96 --only a"
        ),
        "{err}"
    );
    // The old video is untouched, and no temporary is left beside it.
    assert_eq!(framemd5(&s.path().join("out.mp4")), good);
    let names: Vec<String> = std::fs::read_dir(s.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("partial")), "{names:?}");
    // The clip that did not add up is no longer done: a plain run renders it and succeeds.
    assert_eq!(load_manifest(&s).clips["a"].state, ClipState::Failed);
    let o = s.run(&args("plan.yaml", &[]), &[], LIMIT);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("farm: start a") && err.contains("reuse b"),
        "{err}"
    );
    assert_eq!(framemd5(&s.path().join("out.mp4")), good);
}

/// A tmpfs of `bytes` mounted at `dir` for the guard's life; None (after saying so) when this
/// machine does not let us mount.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, bytes: u64) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let st = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status();
        if st.is_ok_and(|s| s.success()) {
            Some(Tmpfs(dir.to_path_buf()))
        } else {
            eprintln!("SKIPPED: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)");
            None
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// The disk fills while ffmpeg writes the clip's trailer (its index, `moov`): every frame fits,
/// the trailer does not. ffmpeg 5.1 exits 0 then; the clip must fail, naming the full disk, and
/// must not be recorded done.
#[test]
fn a_disk_that_fills_during_the_clip_trailer_fails_the_clip_naming_the_full_disk() {
    let s = Scratch::new("trailerfull");
    s.write(
        "plan.yaml",
        "output: out.mp4\nseed: 4\nsegments:\n  - {id: a, scene: plasma, duration: 2}\n",
    );
    let o = s.run(&args("plan.yaml", &["--keep"]), &[], LIMIT);
    assert!(o.status.success(), "{}", stderr(&o));
    // The same render writes the same bytes. A tmpfs at clips/ one page short of the file: the
    // frames (written in 32 KiB blocks before the trailer, all below the last page) fit, the
    // trailer does not.
    let size = std::fs::metadata(clip(&s, "a")).unwrap().len();
    let room = (size - 1) / 4096 * 4096;
    assert!(
        room >= 8192,
        "a clip of {size} bytes is too small for this test"
    );
    let Some(_disk) = Tmpfs::mount(&work(&s).join("clips"), room) else {
        return;
    };
    let o = s.run(&args("plan.yaml", &["--retries", "0"]), &[], LIMIT);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("clip 'a' failed: ffmpeg could not write the clip: Error writing trailer of"),
        "{err}"
    );
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains("--only a") && !err.contains("cannot be joined") && !err.contains("moov"),
        "{err}"
    );
    assert!(!err.contains("Done:"), "{err}");
    let left: Vec<_> = std::fs::read_dir(work(&s).join("clips"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        left.is_empty(),
        "nothing is left as if it were a clip: {left:?}"
    );
    assert_eq!(load_manifest(&s).clips["a"].state, ClipState::Failed);
}

/// The clips fit in the work dir, the output's own disk is too small: ffmpeg's join exits 0
/// after `Error writing trailer ... No space left on device`; the run must say that, and that
/// it was the join.
#[test]
fn a_disk_that_fills_during_the_join_names_the_full_disk_and_the_join() {
    let s = Scratch::new("joinfull");
    let full = s.path().join("full");
    let Some(_disk) = Tmpfs::mount(&full, 16 * 1024) else {
        return;
    };
    s.write(
        "plan.yaml",
        &PLAN.replace("output: out.mp4", "output: full/out.mp4"),
    );
    let o = s.run(&args("plan.yaml", &["--retries", "0"]), &[], LIMIT);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains("the join could not write"),
        "names the stage: {err}"
    );
    assert!(!err.contains("moov atom not found"), "{err}");
    let left: Vec<_> = std::fs::read_dir(&full)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "no output or temporary left: {left:?}");
    // Every clip is done and kept: once there is room, only the join is left to do.
    let m = load_manifest(&s);
    assert!(
        m.clips.values().all(|r| r.state == ClipState::Done),
        "{m:?}"
    );
}

/// An "ffmpeg" that writes a clip, exits 0 and logs nothing wrong, but whose clip is short (a
/// wrapper that runs the real ffmpeg, then cuts its output to 5 frames): a clip is done only
/// when its index (read in-process, as ffprobe would) holds every frame.
#[test]
fn a_clip_that_ffprobe_finds_short_is_failed_not_done() {
    let s = Scratch::new("shortclip");
    s.write(
        "plan.yaml",
        "output: out.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n",
    );
    let o = run_with_ffmpeg(
        &s,
        "short-ffmpeg",
        "#!/bin/bash\nset -e\nout=\"${@: -1}\"\nffmpeg \"$@\"\nffmpeg -v error -y -i \"$out\" -c copy -frames:v 5 -f mp4 \"$out.cut\"\nmv \"$out.cut\" \"$out\"\n",
        &["--retries", "0"],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "clip 'a' failed: ffmpeg finished, but the clip does not check out: 5 frames (want 12)"
        ),
        "{err}"
    );
    assert!(err.contains("--only a"), "{err}");
    assert_eq!(load_manifest(&s).clips["a"].state, ClipState::Failed);
    assert!(!clip(&s, "a").exists());
}

/// The soundtrack is encoded ahead by its own ffmpeg: when that fails, the run fails at the
/// join naming the soundtrack's log and quoting it, the output is not written, the clips are
/// kept for the next run, and no ffmpeg is left behind.
#[test]
fn a_soundtrack_that_cannot_be_encoded_fails_the_join_naming_its_log() {
    let s = Scratch::new("badsoundtrack");
    let made = std::process::Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg("sine=f=440:d=1")
        .arg(s.path().join("track.wav"))
        .status()
        .expect("ffmpeg runs");
    assert!(made.success());
    s.write(
        "plan.yaml",
        "output: out.mp4\naudio: track.wav\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n  - {id: b, scene: plasma, duration: 1}\n",
    );
    let o = run_with_ffmpeg(
        &s,
        "no-aac-ffmpeg",
        "#!/bin/bash\ncase \"${@: -1}\" in *soundtrack.m4a) echo 'simulated: no AAC encoder here' >&2; exit 1;; esac\nexec ffmpeg \"$@\"\n",
        &[],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("simulated: no AAC encoder here") && err.contains("soundtrack.log"),
        "{err}"
    );
    assert!(!s.path().join("out.mp4").exists());
    assert!(clip(&s, "a").exists() && clip(&s, "b").exists(), "{err}");
    let left = std::process::Command::new("pgrep")
        .args(["-f", s.path().to_str().unwrap()])
        .output()
        .expect("pgrep runs");
    assert!(
        String::from_utf8_lossy(&left.stdout).trim().is_empty(),
        "processes left: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}

/// An "ffmpeg" that exits 0 and logs nothing wrong, but whose clip is truncated: its last 2000
/// bytes cut, with the index `moov` that ffmpeg writes last, or (`faststart`: the index first)
/// its media data cut while its index is whole. Both are refused, saying the file is truncated.
#[test]
fn a_truncated_clip_is_failed_not_done() {
    for (name, faststart, why) in [
        ("cutmoov", false, "the 'mdat' box at byte"),
        ("cutmdat", true, "bytes past the end of the file"),
    ] {
        let s = Scratch::new(name);
        s.write(
            "plan.yaml",
            "output: out.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 1}\n",
        );
        let remux = if faststart {
            "ffmpeg -v error -y -i \"$out\" -c copy -movflags +faststart -f mp4 \"$out.fs\"\nmv \"$out.fs\" \"$out\"\n"
        } else {
            ""
        };
        let o = run_with_ffmpeg(
            &s,
            "cut-ffmpeg",
            &format!(
                "#!/bin/bash\nset -e\nout=\"${{@: -1}}\"\nffmpeg \"$@\"\n{remux}truncate -s -2000 \"$out\"\n"
            ),
            &["--retries", "0"],
        );
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains("clip 'a' failed: ffmpeg finished, but the clip does not check out")
                && err.contains("the file is truncated")
                && err.contains(why),
            "{name}: {err}"
        );
        assert!(err.contains("--only a"), "{name}: {err}");
        assert_eq!(load_manifest(&s).clips["a"].state, ClipState::Failed);
        assert!(!clip(&s, "a").exists());
        assert!(!s.path().join("out.mp4").exists());
    }
}

/// Run `plan.yaml` (with `extra` flags) with `FARM_FFMPEG` set to a script `name` holding
/// `script` (written into the scratch folder and made executable).
fn run_with_ffmpeg(s: &Scratch, name: &str, script: &str, extra: &[&str]) -> std::process::Output {
    let wrapper = s.write(name, script);
    make_executable(&wrapper);
    s.run(
        &args("plan.yaml", extra),
        &[("FARM_FFMPEG", wrapper.to_str().unwrap())],
        LIMIT,
    )
}

fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn an_ffmpeg_whose_command_is_not_found_could_not_start() {
    let s = Scratch::new("ffmpeg127");
    s.write(
        "plan.yaml",
        "output: out.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 0.5}\n",
    );
    let o = run_with_ffmpeg(
        &s,
        "ffmpeg",
        "#!/bin/sh\nexec /nonexistent/bin/ffmpeg \"$@\"\n",
        &[],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("clip 'a' failed: ffmpeg could not start: exited with 127 before reading any frame: the command was not found"),
        "{err}"
    );
    assert!(
        err.contains("/nonexistent/bin/ffmpeg"),
        "shows what the shell said: {err}"
    );
    assert!(!err.contains("frames were written"), "{err}");
    assert!(!err.contains("farm: retry"), "retrying cannot help: {err}");
}

#[test]
fn an_ffmpeg_that_cannot_be_executed_could_not_start() {
    let s = Scratch::new("ffmpegnoexec");
    s.write(
        "plan.yaml",
        "output: out.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 0.5}\n",
    );
    // Executable bits, but an interpreter that does not exist: exec fails with ENOENT.
    let bad = s.write("ffmpeg", "#!/nonexistent/interpreter\n");
    make_executable(&bad);
    let o = s.run(
        &args("plan.yaml", &[]),
        &[("FARM_FFMPEG", bad.to_str().unwrap())],
        LIMIT,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "clip 'a' failed: ffmpeg could not start: {}: No such file or directory",
            bad.display()
        )),
        "{err}"
    );
    assert!(!err.contains("farm: retry"), "{err}");
}

#[test]
fn workers_above_the_memory_cap_are_warned_about_with_the_numbers() {
    let s = Scratch::new("memcap");
    s.write("plan.yaml", PLAN);
    // 64 workers of about 8.5 GB each at 8192x8192: over any machine these tests run on.
    let o = s.run(
        &[
            "check",
            "plan.yaml",
            "--quality",
            "production",
            "--resolution",
            "8192x8192",
            "--workers",
            "64",
        ],
        &[],
        LIMIT,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("farm: warning: --workers 64 is above the memory cap: 64 workers x about"),
        "{err}"
    );
    assert!(
        err.contains("MB each (renderer + x264 veryfast at 8192x8192)")
            && err.contains("MB of memory available")
            && err.contains("the cap (60% of available memory / the per-worker estimate) is"),
        "{err}"
    );
    // Within the cap: nothing to say.
    let o = s.run(
        &[
            "check",
            "plan.yaml",
            TINY[0],
            TINY[1],
            TINY[2],
            TINY[3],
            "--workers",
            "1",
        ],
        &[],
        LIMIT,
    );
    assert!(!stderr(&o).contains("memory cap"), "{}", stderr(&o));
}

#[test]
fn check_estimates_disk_use() {
    let s = Scratch::new("diskestimate");
    s.write("plan.yaml", PLAN);
    let o = s.run(
        &["check", "plan.yaml", "--quality", "production"],
        &[],
        LIMIT,
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}{out}", stderr(&o));
    let line = out
        .lines()
        .find(|l| l.starts_with("disk: clips about "))
        .unwrap_or_else(|| panic!("no estimate: {out}"));
    assert!(
        line.contains("MB in ") && line.contains("output about"),
        "{line}"
    );
    assert!(out.contains(" free on the file system of "), "{out}");
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

#[test]
fn check_warns_when_the_disk_is_smaller_than_the_estimate() {
    let s = Scratch::new("disksmall");
    let small = s.path().join("small");
    let Some(_disk) = Tmpfs::mount(&small, 1024 * 1024) else {
        return;
    };
    // A minute at 1080p: about 190 MB by the model, on a 1 MB disk.
    std::fs::write(
        small.join("plan.yaml"),
        "output: out.mp4\nsegments:\n  - {id: a, scene: plasma, duration: 60}\n",
    )
    .unwrap();
    let o = s.run(
        &["check", "small/plan.yaml", "--quality", "production"],
        &[],
        LIMIT,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "a warning, not an error: {err}");
    assert!(
        err.contains("farm: warning: the work dir and the output share a file system with")
            && err.contains("free, but the clips and the output need about"),
        "{err}"
    );
}
