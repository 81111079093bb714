//! QUOTA (RFC 9208) against the kernel's own disk quotas, as root: two small
//! ext4 images with user quotas on (mkfs.ext4 -O quota, mounted usrquota), loop
//! mounted over the test's spool and home, limits set with setquota(8). imapd,
//! run as the user after the privilege drop, reports the numbers repquota(8)
//! shows, one root per filesystem, and refuses an APPEND and a COPY that would
//! go past the hard limit with NO [OVERQUOTA], leaving the mailbox and the
//! usage exactly as they were.
//!
//! Needs root, loop devices and a kernel with ext4 quota support (CONFIG_QUOTA
//! and CONFIG_QFMT_V2); skips loudly without them. Everything is mounted in the
//! test's temporary directory and unmounted when the test ends, failed or not.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{program, skip, Env};

const TEST: &str = "kernel_quotas_are_reported_and_enforced";

/// A loop mount, unmounted (and its loop device freed) when dropped.
struct Mount {
    point: PathBuf,
}

impl Drop for Mount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.point)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Busy (a server still has a file open): detach now, gone at last close.
            let _ = Command::new("umount").arg("-l").arg(&self.point).status();
        }
    }
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "{cmd:?}: {}\n{text}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Whether the running kernel says it was built without quota formats.
fn kernel_lacks_quota() -> Option<String> {
    let config = run(Command::new("zcat").arg("/proc/config.gz")).ok()?;
    ["CONFIG_QUOTA", "CONFIG_QFMT_V2"]
        .iter()
        .find(|k| config.lines().any(|l| l == format!("# {k} is not set")))
        .map(|k| format!("{k} is not set in /proc/config.gz (ext4 quotas need it)"))
}

/// Makes a 16 MiB ext4 image with the quota feature and mounts it on `point`
/// with user quotas enforced.
fn quota_mount(dir: &Path, name: &str, point: &Path) -> Result<Mount, String> {
    let image = dir.join(format!("{name}.img"));
    std::fs::File::create(&image)
        .and_then(|f| f.set_len(16 << 20))
        .map_err(|e| e.to_string())?;
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-O", "quota", "-E", "quotatype=usrquota"])
        .arg(&image))?;
    run(Command::new("mount")
        .args(["-o", "loop,usrquota"])
        .arg(&image)
        .arg(point))?;
    Ok(Mount {
        point: point.to_path_buf(),
    })
}

/// The user's (used, soft, hard) KiB on the filesystem at `point`, by repquota.
fn repquota(point: &Path, uid: u32) -> (u64, u64, u64) {
    let out = run(Command::new("repquota").args(["-n", "-u"]).arg(point)).unwrap();
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("#{uid} ")))
        .unwrap_or_else(|| panic!("uid {uid} not in repquota:\n{out}"));
    let n: Vec<u64> = line
        .split_whitespace()
        .skip(2)
        .take(3)
        .map(|w| w.parse().unwrap())
        .collect();
    (n[0], n[1], n[2])
}

#[test]
fn kernel_quotas_are_reported_and_enforced() {
    if !support::is_root() {
        skip(TEST, "needs root: loop mounts and setquota");
        return;
    }
    for p in [
        "mkfs.ext4",
        "setquota",
        "repquota",
        "mount",
        "umount",
        "zcat",
    ] {
        if program(p).is_none() {
            skip(
                TEST,
                &format!("{p} is missing (packages e2fsprogs, quota, mount, gzip)"),
            );
            return;
        }
    }
    if !Path::new("/dev/loop-control").exists() {
        skip(TEST, "no loop devices (/dev/loop-control)");
        return;
    }
    let Some(env) = Env::new(TEST, "") else {
        return;
    };
    assert!(env.root);
    let spool = env.inbox.parent().unwrap().to_path_buf();
    let images = tempfile::tempdir().unwrap();
    let mounts = match (
        quota_mount(images.path(), "spool", &spool),
        quota_mount(images.path(), "home", &env.home),
    ) {
        (Ok(a), Ok(b)) => vec![a, b],
        (a, b) => {
            let why = [a.err(), b.err()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n");
            if let Some(kernel) = kernel_lacks_quota() {
                testkit::unavailable(TEST, &kernel);
                return;
            }
            panic!("mounting ext4 with user quotas failed:\n{why}");
        }
    };
    for point in [&spool, &env.home] {
        env.give(point);
        std::fs::create_dir_all(point.join("mail")).unwrap();
        env.give(&point.join("mail"));
    }
    // INBOX: 1200 KiB hard, the home: 3000 KiB hard (soft limits below them).
    for (point, soft, hard) in [(&spool, "1000", "1200"), (&env.home, "2500", "3000")] {
        run(Command::new("setquota")
            .args(["-u", &env.uid.to_string(), soft, hard, "0", "0"])
            .arg(point))
        .unwrap();
    }
    env.deliver(&env.inbox, 1, 20, "mbox");
    let server = env.start(&[]);
    let mut c = server.connect();
    c.line();
    let quoted = env.password.replace('\\', "\\\\").replace('"', "\\\"");
    let r = c.cmd(&format!("l1 LOGIN {} \"{quoted}\"", env.user));
    assert!(
        r.contains("l1 OK") && r.contains(" QUOTA QUOTA=RES-STORAGE "),
        "{r}"
    );

    // The numbers are the kernel's, as repquota shows them.
    let (used, _, hard) = repquota(&spool, env.uid);
    assert_eq!(hard, 1200);
    let r = c.cmd("q1 GETQUOTAROOT INBOX");
    assert_eq!(
        r,
        format!(
            "* QUOTAROOT \"INBOX\" \"spool\"\r\n* QUOTA \"spool\" (STORAGE {used} 1200)\r\n\
             q1 OK GETQUOTAROOT completed\r\n"
        ),
        "{}",
        env.log_text()
    );
    assert!(c.cmd("c1 CREATE box").contains("c1 OK"));
    let (home_used, _, _) = repquota(&env.home, env.uid);
    let r = c.cmd("q2 GETQUOTAROOT box");
    assert_eq!(
        r,
        format!(
            "* QUOTAROOT \"box\" \"home\"\r\n* QUOTA \"home\" (STORAGE {home_used} 3000)\r\n\
             q2 OK GETQUOTAROOT completed\r\n"
        )
    );
    assert!(c
        .cmd("q3 GETQUOTA spool")
        .contains(&format!("* QUOTA \"spool\" (STORAGE {used} 1200)")));
    assert!(c
        .cmd("q4 SETQUOTA spool (STORAGE 99999)")
        .contains("q4 NO [NOPERM]"));
    eprintln!("{TEST}: spool {used} of 1200 KiB, home {home_used} of 3000 KiB");

    // An APPEND past the hard limit: refused, INBOX and usage as they were.
    let before = std::fs::read(&env.inbox).unwrap();
    let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(1_400_000));
    c.send(format!("a1 APPEND INBOX {{{}+}}\r\n", big.len()).as_bytes());
    c.send(big.as_bytes());
    c.send(b"\r\n");
    let r = c.until_tagged("a1");
    assert!(r.starts_with("a1 NO [OVERQUOTA]"), "{r}");
    assert_eq!(
        std::fs::read(&env.inbox).unwrap(),
        before,
        "INBOX unchanged"
    );
    assert_eq!(repquota(&spool, env.uid).0, used, "usage unchanged");
    // One that fits is stored, and the usage grows.
    let small = "Subject: small\r\n\r\nfits\r\n";
    let r = c.cmd(&format!("a2 APPEND INBOX {{{}+}}\r\n{small}", small.len()));
    assert!(r.contains("a2 OK [APPENDUID"), "{r}");
    assert!(repquota(&spool, env.uid).0 >= used);

    // A COPY of a message the home has room for but the spool has not.
    let r = c.cmd(&format!("a3 APPEND box {{{}+}}\r\n{big}", big.len()));
    assert!(r.contains("a3 OK"), "{r}");
    let before = std::fs::read(&env.inbox).unwrap();
    let spool_used = repquota(&spool, env.uid).0;
    assert!(c.cmd("s1 SELECT box").contains("s1 OK"));
    let r = c.cmd("c2 COPY 1 INBOX");
    assert!(r.contains("c2 NO [OVERQUOTA]"), "{r}");
    assert_eq!(
        std::fs::read(&env.inbox).unwrap(),
        before,
        "INBOX unchanged"
    );
    assert_eq!(repquota(&spool, env.uid).0, spool_used, "usage unchanged");
    assert!(c.cmd("z1 LOGOUT").contains("z1 OK"));
    drop(server);
    drop(mounts);
}
