//! The job scripts of `farm slurm`, as text (pure: nothing here runs or writes anything).
//!
//! - `render-K.sbatch`: a job array, task `t` renders one clip with `farm render PLAN --index I`
//!   (`I` = the array's first clip + `t`, or the `t`-th of a list when the clips asked for are
//!   not consecutive). Task ids stay below the cluster's `MaxArraySize`: a plan with more clips
//!   gets several arrays, and with `--max-parallel K` each waits for the one before
//!   (`afterany`), so that no more than K tasks run at once in all.
//! - `join.sbatch`: `farm join PLAN`, then its exit status written to `join-<job>.rc` (renamed
//!   into place) for `farm slurm --wait`.
//! - `submit.sh`: submits the arrays (`sbatch --parsable`), then the join with
//!   `--dependency=afterok:<job>_0:<job>_1:...`: by task id, since `afterok` on a whole array
//!   stays unsatisfied even after a failed task is re-run; `--kill-on-invalid-dep=yes` ends a
//!   join that can never run instead of leaving it pending. If a submission fails, what it had
//!   submitted is cancelled. It prints `array <job> <tasks>` and `join <job>` lines.
//!
//! Paths are shell-quoted into variables (a project folder may hold spaces, apostrophes or
//! bytes that are not UTF-8); options that `#SBATCH` lines carry (partition, time, memory) are
//! checked to be single plain words, and paths (output, chdir) go on sbatch's command line,
//! where the shell quotes them, never in a `#SBATCH` line.

use crate::media::{shell_quote, shell_quote_os};
use std::path::PathBuf;

/// Slurm's default `MaxArraySize` (task ids 0 to 1000).
pub const DEFAULT_MAX_ARRAY_SIZE: usize = 1001;

/// What the scripts are for.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The job name (`farm-<plan stem>`; see [`job_name`]).
    pub name: String,
    /// The farm executable every task runs (on a path every node sees).
    pub farm: PathBuf,
    /// The plan (absolute).
    pub plan: PathBuf,
    /// The folder the jobs run in (the plan's).
    pub chdir: PathBuf,
    /// Where the scripts, Slurm's logs and the join's result go.
    pub dir: PathBuf,
    /// The settings flags every `farm render` and `farm join` gets (words, unquoted).
    pub args: Vec<String>,
    /// The digest of the plan's clips the tasks must find (`coordinator::plan_digest`).
    pub digest: String,
    /// The clip indices to render (chunks counted), ascending, no repeats; none: only the join
    /// (every clip is done).
    pub indices: Vec<usize>,
    /// At most this many tasks at once (`%K`).
    pub max_parallel: Option<u32>,
    /// The cluster's `MaxArraySize`.
    pub max_array_size: usize,
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time`.
    pub time: Option<String>,
    /// `--mem`.
    pub mem: Option<String>,
    /// CPUs per task (`--cpus-per-task`; also each task's x264 threads).
    pub cpus: u32,
    /// The command that re-renders clips, for the join's message when some are not done.
    pub rerun: String,
}

/// One render array's script.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayScript {
    /// File name (`render-K.sbatch`).
    pub file: String,
    /// Its text.
    pub text: String,
    /// The clip indices its tasks render, task 0 first.
    pub indices: Vec<usize>,
}

/// Every script of a submission.
#[derive(Debug, Clone, PartialEq)]
pub struct Scripts {
    /// The render arrays.
    pub arrays: Vec<ArrayScript>,
    /// `join.sbatch`.
    pub join: String,
    /// `submit.sh`.
    pub submit: String,
}

/// `farm-<stem>`, with every character outside `[A-Za-z0-9._-]` made `_` (a job name shows in
/// `squeue` and must not need quoting).
pub fn job_name(stem: &str) -> String {
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    format!("farm-{clean}")
}

/// A value of an `#SBATCH` line: one plain word (`[A-Za-z0-9_.:,+=@-]`), or why not.
fn sbatch_word(what: &str, v: &str) -> Result<String, String> {
    let ok = !v.is_empty()
        && v.len() <= 200
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:,+=@-".contains(c));
    if ok {
        Ok(v.to_string())
    } else {
        Err(format!(
            "--{what} '{}': must be one word of letters, digits and _.:,+=@- (as Slurm writes it, e.g. {})",
            v.escape_debug(),
            match what {
                "time" => "2:00:00 or 1-12:00:00",
                "mem" => "4G",
                _ => "gpu,batch",
            }
        ))
    }
}

/// A path as a comment shows it (on one line).
fn shown(p: &std::path::Path) -> String {
    p.display().to_string().replace(['\n', '\r'], " ")
}

/// The `#SBATCH` lines every job shares.
fn common_lines(s: &Spec) -> Result<String, String> {
    let mut t = format!("#SBATCH --cpus-per-task={}\n", s.cpus);
    for (what, v) in [
        ("partition", &s.partition),
        ("time", &s.time),
        ("mem", &s.mem),
    ] {
        if let Some(v) = v {
            t.push_str(&format!("#SBATCH --{what}={}\n", sbatch_word(what, v)?));
        }
    }
    Ok(t)
}

fn words(args: &[String]) -> String {
    args.iter()
        .map(|a| format!(" {}", shell_quote(a)))
        .collect()
}

/// The scripts of `s`.
pub fn generate(s: &Spec) -> Result<Scripts, String> {
    if s.indices.windows(2).any(|w| w[0] >= w[1]) {
        return Err("clip indices must ascend without repeats".into());
    }
    if s.max_array_size < 2 {
        return Err(format!(
            "MaxArraySize {} leaves no room for an array",
            s.max_array_size
        ));
    }
    if s.max_parallel == Some(0) {
        return Err("--max-parallel must be at least 1".into());
    }
    let common = common_lines(s)?;
    let vars = format!(
        "FARM={}\nPLAN={}\n",
        shell_quote_os(s.farm.as_os_str()),
        shell_quote_os(s.plan.as_os_str())
    );
    let flags = words(&s.args);
    // Task ids go from 0 to MaxArraySize - 1.
    let per = s.max_array_size - 1;
    let mut arrays = Vec::new();
    for (k, group) in s.indices.chunks(per).enumerate() {
        let n = group.len();
        let throttle = s.max_parallel.map(|p| format!("%{p}")).unwrap_or_default();
        let consecutive = group.windows(2).all(|w| w[1] == w[0] + 1);
        let index = if consecutive {
            format!(
                "# Task t renders clip {} + t.\nINDEX=$(({} + SLURM_ARRAY_TASK_ID))\n",
                group[0], group[0]
            )
        } else {
            let list: Vec<String> = group.iter().map(usize::to_string).collect();
            format!(
                "# Task t renders the t-th clip of this list.\nCLIPS=({})\nINDEX=${{CLIPS[$SLURM_ARRAY_TASK_ID]}}\n",
                list.join(" ")
            )
        };
        let text = format!(
            "#!/bin/bash\n\
             # farm: renders clips {first}..{last} of {plan} ({n} tasks), one clip per task.\n\
             # Written by `farm slurm`; submitted by submit.sh (which gives --output and --chdir).\n\
             #SBATCH --job-name={name}\n\
             #SBATCH --array=0-{top}{throttle}\n\
             {common}\
             set -euo pipefail\n\
             {vars}\
             {index}\
             exec \"$FARM\" render \"$PLAN\" --index \"$INDEX\" --plan-digest {digest} --workers 1 --x264-threads {cpus}{flags}\n",
            first = group[0],
            last = group[n - 1],
            plan = shown(&s.plan),
            name = s.name,
            top = n - 1,
            digest = s.digest,
            cpus = s.cpus,
        );
        arrays.push(ArrayScript {
            file: format!("render-{k}.sbatch"),
            text,
            indices: group.to_vec(),
        });
    }
    let join = format!(
        "#!/bin/bash\n\
         # farm: joins the clips of {plan} once every render task succeeded.\n\
         # Written by `farm slurm`; submitted by submit.sh.\n\
         #SBATCH --job-name={name}-join\n\
         {common}\
         {vars}\
         DIR={dir}\n\
         \"$FARM\" join \"$PLAN\" --plan-digest {digest} --x264-threads {cpus}{flags} --rerun {rerun}\n\
         rc=$?\n\
         # The result, for `farm slurm --wait` (written aside, then renamed into place).\n\
         printf '%s\\n' \"$rc\" > \"$DIR/join-$SLURM_JOB_ID.rc.tmp\" && mv -f \"$DIR/join-$SLURM_JOB_ID.rc.tmp\" \"$DIR/join-$SLURM_JOB_ID.rc\"\n\
         exit \"$rc\"\n",
        plan = shown(&s.plan),
        name = s.name,
        dir = shell_quote_os(s.dir.as_os_str()),
        digest = s.digest,
        cpus = s.cpus,
        rerun = shell_quote(&s.rerun),
    );
    let mut submit = format!(
        "#!/bin/bash\n\
         # farm: submits the render array(s) of {plan}, then the join, which runs once\n\
         # every render task succeeded. Written by `farm slurm`; run it from any folder.\n\
         set -euo pipefail\n\
         DIR={dir}\n\
         CHDIR={chdir}\n\
         submitted=()\n\
         # A submission that fails half-way cancels what it had submitted.\n\
         trap 'if [ ${{#submitted[@]}} -gt 0 ]; then scancel \"${{submitted[@]}}\" || true; fi' ERR\n\
         mkdir -p \"$DIR/logs\"\n\
         deps=\"\"\n\
         prev=\"\"\n",
        plan = shown(&s.plan),
        dir = shell_quote_os(s.dir.as_os_str()),
        chdir = shell_quote_os(s.chdir.as_os_str()),
    );
    for a in &arrays {
        // With a throttle, one array at a time: the throttle then holds for all of them.
        let after = if s.max_parallel.is_some() {
            "${prev:+--dependency=afterany:$prev} "
        } else {
            ""
        };
        submit.push_str(&format!(
            "job=$(sbatch --parsable {after}--chdir=\"$CHDIR\" --output=\"$DIR/logs/render-%A_%a.out\" \"$DIR/{file}\")\n\
             job=${{job%%;*}}\n\
             submitted+=(\"$job\")\n\
             prev=$job\n\
             echo \"array $job {n}\"\n\
             for t in $(seq 0 {top}); do deps+=\":${{job}}_$t\"; done\n",
            file = a.file,
            n = a.indices.len(),
            top = a.indices.len() - 1,
        ));
    }
    submit.push_str(
        "join=$(sbatch --parsable --kill-on-invalid-dep=yes ${deps:+--dependency=\"afterok$deps\"} --chdir=\"$CHDIR\" --output=\"$DIR/logs/join-%j.out\" \"$DIR/join.sbatch\")\n\
         join=${join%%;*}\n\
         submitted+=(\"$join\")\n\
         echo \"join $join\"\n",
    );
    Ok(Scripts {
        arrays,
        join,
        submit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    fn spec(n: usize) -> Spec {
        Spec {
            name: job_name("my plan"),
            farm: "/opt/farm/bin/farm".into(),
            plan: "/data/it's a project/plan.yaml".into(),
            chdir: "/data/it's a project".into(),
            dir: "/data/it's a project/.farm/plan-0123.slurm".into(),
            args: vec!["--quality".into(), "draft".into()],
            digest: "0123456789abcdef".into(),
            indices: (0..n).collect(),
            max_parallel: None,
            max_array_size: DEFAULT_MAX_ARRAY_SIZE,
            partition: None,
            time: None,
            mem: None,
            cpus: 2,
            rerun: "farm slurm '/data/it'\\''s a project/plan.yaml' --submit".into(),
        }
    }

    /// Run `script` in bash with `vars` set and the `sbatch`/`scancel` of `bin` first on the
    /// PATH; its stdout.
    fn bash(script: &str, vars: &[(&str, &str)], bin: &Path) -> String {
        let mut c = Command::new("bash");
        c.arg("-c").arg(script);
        for (k, v) in vars {
            c.env(k, v);
        }
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = c.env("PATH", path).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn one_array_with_its_range_throttle_and_options() {
        let mut s = spec(12);
        s.max_parallel = Some(3);
        s.partition = Some("render".into());
        s.time = Some("1-02:00:00".into());
        s.mem = Some("4G".into());
        let g = generate(&s).unwrap();
        assert_eq!(g.arrays.len(), 1);
        let a = &g.arrays[0].text;
        for line in [
            "#SBATCH --job-name=farm-my_plan\n",
            "#SBATCH --array=0-11%3\n",
            "#SBATCH --cpus-per-task=2\n",
            "#SBATCH --partition=render\n",
            "#SBATCH --time=1-02:00:00\n",
            "#SBATCH --mem=4G\n",
            "INDEX=$((0 + SLURM_ARRAY_TASK_ID))\n",
            "PLAN=\"/data/it's a project/plan.yaml\"\n",
            "exec \"$FARM\" render \"$PLAN\" --index \"$INDEX\" --plan-digest 0123456789abcdef --workers 1 --x264-threads 2 --quality draft\n",
        ] {
            assert!(a.contains(line), "{line:?} not in:\n{a}");
        }
        assert!(g.join.contains("#SBATCH --mem=4G\n"), "{}", g.join);
        // No path is ever in an #SBATCH line.
        for t in [a, &g.join] {
            for l in t.lines().filter(|l| l.starts_with("#SBATCH")) {
                assert!(!l.contains('/') && !l.contains('\''), "{l}");
            }
        }
    }

    #[test]
    fn a_plan_over_max_array_size_is_split_and_the_join_waits_for_every_task() {
        let mut s = spec(25);
        s.max_array_size = 11; // task ids 0..=9
        let g = generate(&s).unwrap();
        let sizes: Vec<usize> = g.arrays.iter().map(|a| a.indices.len()).collect();
        assert_eq!(sizes, [10, 10, 5]);
        assert!(g.arrays[1].text.contains("#SBATCH --array=0-9\n"));
        assert!(
            g.arrays[1]
                .text
                .contains("INDEX=$((10 + SLURM_ARRAY_TASK_ID))\n")
        );
        assert!(g.arrays[2].text.contains("#SBATCH --array=0-4\n"));
        assert!(
            g.arrays[2]
                .text
                .contains("INDEX=$((20 + SLURM_ARRAY_TASK_ID))\n")
        );
        // Run submit.sh against a fake sbatch that records its arguments.
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("calls");
        let sbatch = d.path().join("sbatch");
        std::fs::write(
            &sbatch,
            format!(
                "#!/bin/bash\nn=$(( $(cat {c}.n 2>/dev/null || echo 100) + 1 )); echo $n > {c}.n\nprintf '%s\\n' \"$@\" >> {c}\necho \"$n;cluster\"\n",
                c = log.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&sbatch, std::fs::Permissions::from_mode(0o755)).unwrap();
        s.dir = d.path().join("it's slurm");
        let g = generate(&s).unwrap();
        let out = bash(&g.submit, &[], d.path());
        assert_eq!(out, "array 101 10\narray 102 10\narray 103 5\njoin 104\n");
        let calls = std::fs::read_to_string(&log).unwrap();
        let dep = calls
            .lines()
            .find(|l| l.starts_with("--dependency=afterok"))
            .unwrap();
        let mut want = "--dependency=afterok".to_string();
        for (job, n) in [(101, 10), (102, 10), (103, 5)] {
            for t in 0..n {
                want.push_str(&format!(":{job}_{t}"));
            }
        }
        assert_eq!(dep, want, "every task by its id");
        assert!(calls.contains("--kill-on-invalid-dep=yes\n"));
        assert!(
            calls.contains(&format!(
                "--output={}/logs/render-%A_%a.out\n",
                s.dir.display()
            )),
            "the path with an apostrophe reaches sbatch whole:\n{calls}"
        );
        assert!(
            !calls.contains("afterany"),
            "no throttle: all arrays at once"
        );
    }

    #[test]
    fn with_a_throttle_split_arrays_run_one_after_another() {
        let mut s = spec(15);
        s.max_array_size = 11;
        s.max_parallel = Some(4);
        let g = generate(&s).unwrap();
        assert!(g.arrays[0].text.contains("#SBATCH --array=0-9%4\n"));
        assert!(g.submit.contains("${prev:+--dependency=afterany:$prev} "));
    }

    #[test]
    fn clips_that_are_not_consecutive_are_listed() {
        let mut s = spec(0);
        s.indices = vec![3, 7, 8];
        let g = generate(&s).unwrap();
        let a = &g.arrays[0].text;
        assert!(a.contains("#SBATCH --array=0-2\n"), "{a}");
        assert!(a.contains("CLIPS=(3 7 8)\n"), "{a}");
        // The list picks the right clip for each task.
        let d = tempfile::tempdir().unwrap();
        for (t, want) in [("0", "3"), ("2", "8")] {
            let line = a.lines().find(|l| l.starts_with("INDEX=")).unwrap();
            let got = bash(
                &format!("CLIPS=(3 7 8)\n{line}\necho $INDEX"),
                &[("SLURM_ARRAY_TASK_ID", t)],
                d.path(),
            );
            assert_eq!(got.trim(), want);
        }
    }

    /// What the shell makes of the quoted paths and flags is exactly the bytes given.
    #[test]
    fn paths_with_spaces_apostrophes_and_odd_bytes_survive_the_shell() {
        use std::os::unix::ffi::OsStrExt;
        let mut s = spec(1);
        s.plan = PathBuf::from(std::ffi::OsStr::from_bytes(
            b"/data/a b/it's \"x\" $HOME `id`\xff/plan.yaml",
        ));
        s.args = vec!["--resolution".into(), "160x96".into()];
        let g = generate(&s).unwrap();
        let d = tempfile::tempdir().unwrap();
        let vars: String = g.arrays[0]
            .text
            .lines()
            .filter(|l| l.starts_with("PLAN=") || l.starts_with("FARM="))
            .collect::<Vec<_>>()
            .join("\n");
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!("{vars}\nprintf '%s' \"$PLAN\""))
            .current_dir(d.path())
            .output()
            .unwrap();
        assert_eq!(out.stdout, s.plan.as_os_str().as_bytes());
        bash(
            &format!("bash -n <<'EOF'\n{}\nEOF", g.submit),
            &[],
            d.path(),
        );
        bash(&format!("bash -n <<'EOF'\n{}\nEOF", g.join), &[], d.path());
    }

    #[test]
    fn options_that_are_not_one_plain_word_are_refused() {
        for (p, t, m) in [
            (Some("a b"), None, None),
            (None, Some("1:00\n#SBATCH --x"), None),
            (None, None, Some("4G'")),
            (Some(""), None, None),
        ] {
            let mut s = spec(2);
            s.partition = p.map(str::to_string);
            s.time = t.map(str::to_string);
            s.mem = m.map(str::to_string);
            let e = generate(&s).unwrap_err();
            assert!(e.contains("must be one word"), "{e}");
        }
        let mut s = spec(2);
        s.max_parallel = Some(0);
        assert!(generate(&s).is_err());
        // Nothing to render: the join alone, with no dependency.
        let g = generate(&spec(0)).unwrap();
        assert!(g.arrays.is_empty());
        assert!(
            g.submit.contains("${deps:+--dependency=\"afterok$deps\"}"),
            "{}",
            g.submit
        );
        assert_eq!(job_name("a b/c'd"), "farm-a_b_c_d");
    }
}
