//! Hardware probe: CPUs we may use, memory we may use, and where ffmpeg is.
//!
//! CPUs come from `std::thread::available_parallelism`, which honours the affinity mask and
//! cgroup CPU quotas (a container limited to 2 CPUs on a 64-core host reports 2). Memory comes
//! from sysinfo, clamped by the cgroup memory limit when there is one.

use std::path::PathBuf;
use sysinfo::System;

/// What the machine offers this run.
#[derive(Debug, Clone, PartialEq)]
pub struct Hardware {
    /// CPUs this process may run on (affinity and cgroup quota applied).
    pub cpus: usize,
    /// Total memory in bytes (the cgroup limit if lower).
    pub mem_total: u64,
    /// Memory available now in bytes (the cgroup's free memory if lower).
    pub mem_available: u64,
    /// The cgroup memory limit, when one applies.
    pub cgroup_mem_limit: Option<u64>,
    /// Operating system name.
    pub platform: String,
    /// CPU architecture.
    pub arch: String,
    /// The ffmpeg executable, if found.
    pub ffmpeg: Option<PathBuf>,
    /// The ffprobe executable, if found.
    pub ffprobe: Option<PathBuf>,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

impl Hardware {
    /// Probe the machine.
    pub fn detect() -> Hardware {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let (mut mem_total, mut mem_available, cgroup) = match System::new() {
            Ok(mut sys) => {
                sys.refresh_memory();
                (
                    sys.total_memory(),
                    sys.available_memory(),
                    sys.cgroup_limits(),
                )
            }
            Err(_) => (0, 0, None),
        };
        let cgroup_mem_limit = cgroup.as_ref().map(|c| c.total_memory).filter(|&t| t > 0);
        if let Some(c) = cgroup {
            if c.total_memory > 0 && c.total_memory < mem_total {
                mem_total = c.total_memory;
            }
            if c.total_memory > 0 && c.free_memory < mem_available {
                mem_available = c.free_memory;
            }
        }
        if mem_total == 0 {
            // The reference guide's fallback for a platform we cannot read: assume 8 GB.
            mem_total = 8 * 1024 * 1024 * 1024;
        }
        if mem_available == 0 {
            mem_available = mem_total;
        }
        Hardware {
            cpus,
            mem_total,
            mem_available,
            cgroup_mem_limit,
            platform: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            ffmpeg: find_tool("ffmpeg", "FARM_FFMPEG"),
            ffprobe: find_tool("ffprobe", "FARM_FFPROBE"),
        }
    }

    /// Total memory in GiB.
    pub fn mem_gb(&self) -> f64 {
        self.mem_total as f64 / GIB
    }

    /// Available memory in GiB.
    pub fn mem_available_gb(&self) -> f64 {
        self.mem_available as f64 / GIB
    }

    /// The reference guide's worker count from CPUs alone: >= 16 cores -> cores - 2; >= 4 -> cores - 1;
    /// else max(1, cores) (leave a core or two for the OS and the encoders).
    pub fn cpu_workers(&self) -> usize {
        workers_for_cpus(self.cpus)
    }

    /// One line for the start-up log and `farm hw`.
    pub fn summary(&self) -> String {
        let cg = match self.cgroup_mem_limit {
            Some(l) => format!(" (cgroup limit {:.1}GB)", l as f64 / GIB),
            None => String::new(),
        };
        format!(
            "Hardware: {} cores, {:.1}GB RAM ({:.1}GB available){}, {} {}, ffmpeg {}",
            self.cpus,
            self.mem_gb(),
            self.mem_available_gb(),
            cg,
            self.platform,
            self.arch,
            match &self.ffmpeg {
                Some(p) => p.display().to_string(),
                None => "NOT FOUND".to_string(),
            }
        )
    }
}

/// The reference guide's formula: cores >= 16 -> cores - 2; >= 4 -> cores - 1; else max(1, cores).
pub fn workers_for_cpus(cpus: usize) -> usize {
    if cpus >= 16 {
        cpus - 2
    } else if cpus >= 4 {
        cpus - 1
    } else {
        cpus.max(1)
    }
}

/// Find an executable: `$ENV_VAR` if set (used as given), else the first match on `PATH`.
pub fn find_tool(name: &str, env_var: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_worker_formula() {
        assert_eq!(workers_for_cpus(0), 1);
        assert_eq!(workers_for_cpus(1), 1);
        assert_eq!(workers_for_cpus(2), 2);
        assert_eq!(workers_for_cpus(3), 3);
        assert_eq!(workers_for_cpus(4), 3);
        assert_eq!(workers_for_cpus(8), 7);
        assert_eq!(workers_for_cpus(15), 14);
        assert_eq!(workers_for_cpus(16), 14);
        assert_eq!(workers_for_cpus(64), 62);
    }

    #[test]
    fn detect_reports_something_sane() {
        let hw = Hardware::detect();
        assert!(hw.cpus >= 1);
        assert!(hw.mem_total > 0 && hw.mem_available <= hw.mem_total.max(hw.mem_available));
        assert!(hw.summary().starts_with("Hardware: "));
    }
}
