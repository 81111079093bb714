//! What the tests of every pullmail crate share.
//!
//! # Skips
//! A test whose prerequisite is missing here (root, a Debian package, a kernel
//! feature) calls [`skip`] and returns. Outside CI that prints one line and counts
//! the skip: `make test` collects the lines in the file named by
//! `PULLMAIL_SKIP_LOG` and prints how many tests were skipped at its end. Where
//! every prerequisite is due — under CI (`CI=true`), or as root after `make deps`
//! installed the test packages (`make test` sets `PULLMAIL_NO_SKIP=1` then) — a
//! skip is a failure that names what is missing: a suite that silently tests less
//! is indistinguishable from one that passes.
#![deny(unsafe_code)]

use std::fs::OpenOptions;
use std::io::Write;

/// Whether a skip must fail the test instead.
pub fn skips_are_failures() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("PULLMAIL_NO_SKIP").is_ok_and(|v| v == "1")
}

/// Reports that `test` cannot run on this machine at all because its running
/// kernel lacks a feature that no package and no setting can add (it was built
/// without it, as `/proc/config.gz` shows); the caller then returns. Logged like
/// a skip, but not a failure under CI: the caller must have checked the kernel's
/// own word for it, never guessed from a failure.
pub fn unavailable(test: &str, why: &str) {
    let line = format!("SKIPPED {test}: this kernel cannot: {why}");
    let _ = writeln!(std::io::stderr(), "{line}");
    if let Some(log) = std::env::var_os("PULLMAIL_SKIP_LOG") {
        if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(log) {
            let _ = f.write_all(format!("{line}\n").as_bytes());
        }
    }
}

/// Reports that `test` cannot run here because of `why`; the caller then returns.
///
/// # Panics
/// When [`skips_are_failures`]: the prerequisite is missing where it must not be.
pub fn skip(test: &str, why: &str) {
    assert!(
        !skips_are_failures(),
        "{test} cannot run here: {why} (with CI=true or PULLMAIL_NO_SKIP=1 a skip is a failure)"
    );
    let line = format!("SKIPPED {test}: {why}");
    let _ = writeln!(std::io::stderr(), "{line}");
    if let Some(log) = std::env::var_os("PULLMAIL_SKIP_LOG") {
        // One write of one line with O_APPEND: lines of parallel tests do not mix.
        if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(log) {
            let _ = f.write_all(format!("{line}\n").as_bytes());
        }
    }
}

/// Removes the `/tmp/pam.X` directories that the processes `pids` left behind.
///
/// pam_wrapper (Debian's libpam-wrapper) gives each process that loads it such a
/// directory, holding a copy of the PAM configuration and the process's pid in
/// `pid`, and removes it when the process exits normally. A process that is killed
/// leaves it behind: the host's /tmp fills with them, and a later process that
/// finds one races others for the name (two can end up sharing one directory,
/// and the first to exit removes the other's configuration). So a test that
/// started such processes removes what those left, once they are gone; a
/// directory of a process still running, or of anyone else's, is not touched.
pub fn remove_pam_wrapper_dirs(pids: &[u32]) {
    let Ok(entries) = std::fs::read_dir("/tmp") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let ours = name
            .to_str()
            .is_some_and(|n| n.len() == 5 && n.starts_with("pam."));
        if !ours {
            continue;
        }
        let dir = entry.path();
        let Some(pid) = std::fs::read_to_string(dir.join("pid"))
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok())
        else {
            continue;
        };
        if pids.contains(&pid) && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// When a test ends: ends its servers' processes that are still running (a client
/// that never hung up keeps a session alive after its launcher is gone) and removes
/// the `/tmp/pam.X` directories pam_wrapper made for them, so the host's /tmp is as
/// the test found it. `log` holds the launcher's lines, which name each process it
/// started `... as PID N.`; only a process whose command line names `config`, the
/// test's own configuration, is killed.
#[allow(unsafe_code)]
pub fn end_test_servers(log: &[String], config: &std::path::Path) {
    let pids: Vec<u32> = log
        .iter()
        .filter_map(|l| l.split(" as PID ").nth(1))
        .filter_map(|p| p.trim_end_matches('.').parse().ok())
        .collect();
    let config = config.display().to_string();
    let running: Vec<u32> = pids
        .iter()
        .copied()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&config))
        })
        .collect();
    for &pid in &running {
        // SAFETY: kill(2) on a pid whose command line names this test's
        // configuration: one of this test's servers.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while running
        .iter()
        .any(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    remove_pam_wrapper_dirs(&pids);
}
