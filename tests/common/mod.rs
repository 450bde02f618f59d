//! Helpers for the end-to-end tests: real `farm` processes, real ffmpeg and ffprobe.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The farm binary under test.
pub fn farm() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_farm"))
}

/// A scratch folder; each test gets its own, with a tag that marks every process it starts.
pub struct Scratch {
    pub dir: tempfile::TempDir,
    pub tag: String,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix(&format!("farm-test-{name}-"))
            .tempdir()
            .unwrap();
        let tag = format!("{name}-{}-{:?}", std::process::id(), Instant::now());
        Scratch { dir, tag }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write a file under the scratch folder (parents created).
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Run farm with args (and extra env), killing it if it runs over `limit`: a hang fails the
    /// test instead of hanging the suite. Afterwards no process started by this run may remain.
    pub fn run(&self, args: &[&str], env: &[(&str, &str)], limit: Duration) -> Output {
        self.run_limited(args, env, limit, None)
    }

    /// The farm command, tagged, with a clean environment for the variables farm reads.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(farm());
        cmd.args(args)
            .current_dir(self.path())
            .env("FARM_TEST_TAG", &self.tag)
            .env_remove("KEEP_INTERMEDIATES")
            .env_remove("FARM_FAULT");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Like [`Scratch::run`], with the open-file limit (`ulimit -n`) set for farm and its children.
    pub fn run_limited(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        limit: Duration,
        nofile: Option<u64>,
    ) -> Output {
        let mut cmd = self.command(args, env);
        if let Some(n) = nofile {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let lim = libc::rlimit {
                        rlim_cur: n,
                        rlim_max: n,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("farm starts");
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let out = match rx.recv_timeout(limit) {
            Ok(o) => o.unwrap(),
            Err(_) => {
                unsafe { libc::kill(pid as i32, 9) };
                kill_tagged(&self.tag);
                panic!("farm {args:?} did not finish within {limit:?}");
            }
        };
        assert_no_leftovers(&self.tag);
        out
    }
}

/// A farm run going on in the background; its stderr goes to a file.
pub struct Running {
    pub child: std::process::Child,
    pub stderr_path: PathBuf,
    tag: String,
}

impl Scratch {
    /// Start farm without waiting for it.
    pub fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> Running {
        let stderr_path = self.path().join(format!(
            "farm-{}.stderr",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let f = std::fs::File::create(&stderr_path).unwrap();
        let child = self
            .command(args, env)
            .stdout(Stdio::null())
            .stderr(f)
            .spawn()
            .expect("farm starts");
        Running {
            child,
            stderr_path,
            tag: self.tag.clone(),
        }
    }
}

impl Running {
    /// What farm has printed so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Wait for farm to exit (killing everything after `limit`), then check nothing is left.
    pub fn wait(mut self, limit: Duration) -> (Option<i32>, String) {
        let t = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                assert_no_leftovers(&self.tag);
                return (st.code(), self.stderr());
            }
            if t.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                kill_tagged(&self.tag);
                panic!(
                    "farm did not finish within {limit:?}; it printed:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Send a signal to farm itself.
    pub fn signal(&self, sig: i32) {
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }
}

/// Wait until `cond` holds (polling), at most `limit`; false if it never did.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The pid of a tagged process whose command line contains `needle`.
pub fn find_process(tag: &str, needle: &str) -> Option<i32> {
    tagged_processes(tag)
        .into_iter()
        .find(|(_, cmd)| cmd.contains(needle))
        .map(|(pid, _)| pid)
}

/// The parent pid of a process.
pub fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Send a signal to a process.
pub fn kill(pid: i32, sig: i32) {
    unsafe { libc::kill(pid, sig) };
}

/// Processes whose environment carries `FARM_TEST_TAG=tag` (farm, its workers, their ffmpeg).
pub fn tagged_processes(tag: &str) -> Vec<(i32, String)> {
    let needle = format!("FARM_TEST_TAG={tag}");
    let mut found = Vec::new();
    let me = std::process::id() as i32;
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        if env.split(|&b| b == 0).any(|kv| kv == needle.as_bytes()) {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            // A zombie (state Z) still counts: it means somebody did not reap a child.
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            found.push((
                pid,
                format!(
                    "{cmd} [{}]",
                    stat.split(") ")
                        .nth(1)
                        .unwrap_or("?")
                        .chars()
                        .next()
                        .unwrap_or('?')
                ),
            ));
        }
    }
    found
}

fn kill_tagged(tag: &str) {
    for (pid, _) in tagged_processes(tag) {
        unsafe { libc::kill(pid, 9) };
    }
}

/// No process of this test may outlive its farm run (allowing a moment for exits to land).
pub fn assert_no_leftovers(tag: &str) {
    let t = Instant::now();
    loop {
        let left = tagged_processes(tag);
        if left.is_empty() {
            return;
        }
        if t.elapsed() > Duration::from_secs(5) {
            kill_tagged(tag);
            panic!("processes left behind: {left:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// ffprobe -count_frames: (decoded video frames, video duration in seconds).
pub fn count_frames(p: &Path) -> (u64, f64) {
    let o = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_entries",
            "stream=nb_read_frames,duration",
            "-of",
            "default=noprint_wrappers=1",
        ])
        .arg(p)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "ffprobe {}: {}",
        p.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("no {k} in {text}"))
            .to_string()
    };
    (
        get("nb_read_frames").parse().unwrap(),
        get("duration").parse().unwrap(),
    )
}

/// Duration of the first audio stream, if there is one.
pub fn audio_duration(p: &Path) -> Option<f64> {
    let o = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=duration,codec_name",
            "-of",
            "default=noprint_wrappers=1",
        ])
        .arg(p)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("duration="))
        .and_then(|v| v.parse().ok())
}

/// Decoded frames' MD5s (`ffmpeg -f framemd5`), without the header.
pub fn framemd5(p: &Path) -> Vec<String> {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(p)
        .args(["-map", "0:v", "-f", "framemd5", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Every decoded frame of `video` as rgb24 (`w x h`), decoded by ffmpeg (which reads the
/// stream's colour tags to pick its matrix).
#[allow(dead_code)]
pub fn frames_rgb(video: &Path, w: usize, h: usize) -> Vec<Vec<u8>> {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(video)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
        .chunks_exact(w * h * 3)
        .map(<[u8]>::to_vec)
        .collect()
}

/// Make a sine-wave audio file of `secs` seconds.
pub fn make_audio(p: &Path, secs: f64) {
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=440:duration={secs}"))
        .arg(p)
        .status()
        .unwrap();
    assert!(st.success());
}

/// A small, fast plan: draft quality, 12 fps; pass `--resolution 160x96` to keep frames tiny.
pub const TINY: &[&str] = &["--quality", "draft", "--resolution", "160x96"];

/// Generous limit for one run on a loaded 2-core CI machine.
pub const LIMIT: Duration = Duration::from_secs(180);

/// The work dir of the plan at `plan` (the library's own rule, so tests follow it).
pub fn work_dir(plan: &Path) -> PathBuf {
    farm::plan::work_dir_for(&std::path::absolute(plan).unwrap())
}

/// The text of every clip record in the work dir `work` (`state/*.yaml`), one after another
/// (empty when there are none).
#[allow(dead_code)]
pub fn state_text(work: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(work.join("state"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect()
}

/// The clip records of the work dir `work`; panics on a damaged one.
#[allow(dead_code)]
pub fn records(work: &Path) -> farm::manifest::Manifest {
    let l = farm::manifest::Manifest::load(&work.join("state")).expect("state/ reads");
    assert!(l.damaged.is_empty(), "damaged records: {:?}", l.damaged);
    l.manifest
}

/// Run farm with `cwd` as its working folder (a folder whose path may hold a newline or bytes
/// that are not UTF-8), killing it after `limit`; afterwards no process of this run may remain.
pub fn run_in(s: &Scratch, cwd: &Path, args: &[&str], limit: Duration) -> Output {
    let child = s
        .command(args, &[])
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("farm starts");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(limit) {
        Ok(o) => o.unwrap(),
        Err(_) => {
            unsafe { libc::kill(pid as i32, 9) };
            kill_tagged(&s.tag);
            panic!("farm {args:?} did not finish within {limit:?}");
        }
    };
    assert_no_leftovers(&s.tag);
    out
}

/// Every file under `dir` (symlinks not followed) with its bytes, skipping paths under any of
/// `except`: a snapshot to prove that a run touched nothing else.
pub fn snapshot(dir: &Path, except: &[PathBuf]) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| !except.iter().any(|x| e.path().starts_with(x)))
        .flatten()
        .filter(|e| !e.file_type().is_dir())
        .map(|e| {
            let bytes = if e.file_type().is_symlink() {
                use std::os::unix::ffi::OsStrExt;
                std::fs::read_link(e.path())
                    .unwrap()
                    .as_os_str()
                    .as_bytes()
                    .to_vec()
            } else {
                std::fs::read(e.path()).unwrap()
            };
            (e.path().to_path_buf(), bytes)
        })
        .collect()
}

impl Scratch {
    /// Like [`Scratch::spawn`], but running `program` (a copy of the farm binary, say) instead
    /// of the binary under test.
    pub fn spawn_program(&self, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Running {
        let stderr_path = self.path().join(format!(
            "farm-{}.stderr",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let f = std::fs::File::create(&stderr_path).unwrap();
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(self.path())
            .env("FARM_TEST_TAG", &self.tag)
            .env_remove("KEEP_INTERMEDIATES")
            .env_remove("FARM_FAULT");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::null()).stderr(f);
        // A program just written may be busy for a moment (ETXTBSY): another test's fork can
        // hold the writer's descriptor until its exec.
        let mut tries = 0;
        let child = loop {
            match cmd.spawn() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                r => break r.expect("farm starts"),
            }
        };
        Running {
            child,
            stderr_path,
            tag: self.tag.clone(),
        }
    }

    /// Write an executable shell script under the scratch folder.
    pub fn script(&self, rel: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.write(rel, &format!("#!/bin/sh\n{body}\n"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }
}

/// The path of a program on PATH (e.g. the real ffmpeg, for a wrapper script to call).
pub fn which(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} not on PATH"))
}
