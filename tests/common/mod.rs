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
        let mut cmd = Command::new(farm());
        cmd.args(args)
            .current_dir(self.path())
            .env("FARM_TEST_TAG", &self.tag)
            .env_remove("KEEP_INTERMEDIATES");
        for (k, v) in env {
            cmd.env(k, v);
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
                unsafe { libc_kill(pid as i32, 9) };
                kill_tagged(&self.tag);
                panic!("farm {args:?} did not finish within {limit:?}");
            }
        };
        assert_no_leftovers(&self.tag);
        out
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
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
        unsafe { libc_kill(pid, 9) };
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
