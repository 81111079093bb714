//! What the report says about where it was measured: all read off the machine at
//! run time (/proc, the mount table, git, rustc), nothing assumed.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub ram: String,
    pub kernel: String,
    pub os: String,
    pub filesystem: String,
    pub commit: String,
    pub rustc: String,
}

fn first_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

fn output(cmd: &str, args: &[&str], dir: &Path) -> Option<String> {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The file system holding `path`: the longest mount point that contains it.
fn filesystem_of(path: &Path) -> String {
    let path = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mounts = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (dev, dir, kind, opts) = (f.next()?, f.next()?, f.next()?, f.next()?);
            path.starts_with(dir)
                .then_some((dir.len(), dev, dir, kind, opts))
        })
        .max_by_key(|m| m.0)
        .map(|(_, dev, dir, kind, opts)| {
            let opts: Vec<&str> = opts
                .split(',')
                .filter(|o| {
                    matches!(*o, "relatime" | "noatime" | "strictatime") || o.starts_with("data=")
                })
                .collect();
            format!("{kind} on {dev} (mounted at {dir}; {})", opts.join(","))
        })
        .unwrap_or_else(|| "unknown".to_string())
}

impl Machine {
    pub fn read(work: &Path, workspace: &Path) -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let ram = first_field(&meminfo, "MemTotal")
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map(|kib| format!("{:.1} GiB", kib / 1048576.0))
            .unwrap_or_else(|| "unknown".into());
        let os = fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                    .map(|v| v.trim_matches('"').to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let commit = output("git", &["rev-parse", "--short=12", "HEAD"], workspace)
            .map(|c| {
                let dirty = Command::new("git")
                    .args(["diff", "--quiet", "HEAD", "--", "crates", "bin", "bench"])
                    .current_dir(workspace)
                    .status()
                    .map(|s| !s.success())
                    .unwrap_or(false);
                if dirty {
                    format!("{c} (plus uncommitted changes in crates/, bin/ or bench/)")
                } else {
                    c
                }
            })
            .unwrap_or_else(|| "unknown".into());
        Machine {
            cpu: first_field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".into()),
            cores: cpuinfo
                .lines()
                .filter(|l| l.starts_with("processor"))
                .count(),
            ram,
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "unknown".into()),
            os,
            filesystem: filesystem_of(work),
            commit,
            rustc: output("rustc", &["--version"], workspace).unwrap_or_else(|| "unknown".into()),
        }
    }
}

/// The load averages (1, 5, 15 min) as /proc/loadavg gives them.
pub fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Now, as `YYYY-MM-DD HH:MM UTC`.
pub fn now_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}
