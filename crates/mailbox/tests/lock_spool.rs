//! Dot-locking in a spool directory the user cannot write: Debian's `/var/mail` is
//! `root:mail 2775`, so an unprivileged session must go through the setgid helper
//! `dotlockfile(1)` (liblockfile-bin).
//!
//! These tests need root (to build such a directory and to become `nobody`), the helper
//! and `setpriv(1)`; without them they print why and pass. The unprivileged half runs
//! in a child process: this same test binary, copied where `nobody` can execute it and
//! started through `setpriv --reuid=nobody --regid=nogroup --clear-groups`, running only
//! [`spool_child`] with its instructions in the environment.
use std::ffi::CString;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use mailbox::lock::{dotlock_path, DotLock, DotLockOutcome, LockConfig, LockError, WriteLock};

/// Names the child's task; its absence means "not a child".
const CHILD_MODE: &str = "PULLMAIL_LOCK_SPOOL_CHILD";
const CHILD_MAILBOX: &str = "PULLMAIL_LOCK_SPOOL_MAILBOX";
const HELPER: &str = "/usr/bin/dotlockfile";

struct Spool {
    _top: tempfile::TempDir,
    exe: PathBuf,
    mailbox: PathBuf,
    nobody_uid: u32,
    mail_gid: u32,
}

/// A `root:mail 2775` spool holding `nobody`'s mailbox, or `None` (after saying why)
/// where the test cannot run.
fn spool(test: &str) -> Option<Spool> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        testkit::skip(test, "needs root to build a root:mail 2775 spool and become nobody");
        return None;
    }
    match fs::metadata(HELPER) {
        Ok(meta) if meta.mode() & 0o2000 != 0 => {}
        _ => {
            testkit::skip(
                test,
                &format!("{HELPER} (liblockfile-bin) is not installed setgid"),
            );
            return None;
        }
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        testkit::skip(test, "setpriv (util-linux) is not installed");
        return None;
    }
    let (Some(nobody_uid), Some(nogroup_gid), Some(mail_gid)) =
        (user_id("nobody"), group_id("nogroup"), group_id("mail"))
    else {
        testkit::skip(test, "user nobody, group nogroup or group mail missing");
        return None;
    };
    let top = tempfile::tempdir().unwrap();
    fs::set_permissions(top.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let exe = top.path().join("lock_spool_child");
    {
        let _no_fork = FORK.lock().unwrap_or_else(|e| e.into_inner());
        fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let dir = top.path().join("spool");
    fs::create_dir(&dir).unwrap();
    std::os::unix::fs::chown(&dir, Some(0), Some(mail_gid)).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o2775)).unwrap();
    let mailbox = dir.join("nobody");
    fs::write(&mailbox, b"From a@b Thu Jan  1 00:00:00 1970\n\nhi\n").unwrap();
    std::os::unix::fs::chown(&mailbox, Some(nobody_uid), Some(nogroup_gid)).unwrap();
    fs::set_permissions(&mailbox, fs::Permissions::from_mode(0o600)).unwrap();
    Some(Spool {
        _top: top,
        exe,
        mailbox,
        nobody_uid,
        mail_gid,
    })
}

fn user_id(name: &str) -> Option<u32> {
    let name = CString::new(name).ok()?;
    // SAFETY: getpwnam gets a valid C string; the result is read at once, before any
    // other passwd call in this thread could overwrite the static buffer.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    // SAFETY: a non-null result points at a valid struct passwd.
    (!pw.is_null()).then(|| unsafe { (*pw).pw_uid })
}

fn group_id(name: &str) -> Option<u32> {
    let name = CString::new(name).ok()?;
    // SAFETY: as in user_id, for struct group.
    let gr = unsafe { libc::getgrnam(name.as_ptr()) };
    // SAFETY: a non-null result points at a valid struct group.
    (!gr.is_null()).then(|| unsafe { (*gr).gr_gid })
}

/// How long the parent waits for any one line from the child before failing the test.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// A child test process and its output, line by line.
struct ChildRun {
    child: Child,
    lines: Receiver<String>,
}

/// Held while a copy of the test binary is open for writing, and while a child is
/// started: a child forked by another test's thread at that moment would inherit
/// the open descriptor until its exec, and an exec of the copy meanwhile fails
/// with ETXTBSY ("Text file busy") — which made these tests fail now and then
/// under load, with a child that printed nothing.
static FORK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Starts the child as nobody, in `mode`, on the spool's mailbox.
fn start_child(spool: &Spool, mode: &str) -> ChildRun {
    let _no_fork = FORK.lock().unwrap_or_else(|e| e.into_inner());
    let mut child = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(&spool.exe)
        .args(["--ignored", "--exact", "spool_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_MODE, mode)
        .env(CHILD_MAILBOX, &spool.mailbox)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    ChildRun { child, lines }
}

impl ChildRun {
    /// Waits for the child to print `word` (libtest may have put "test spool_child ... "
    /// in front of it on the same line) and returns what follows it.
    fn expect(&mut self, word: &str) -> String {
        let mut seen = String::new();
        loop {
            match self.lines.recv_timeout(CHILD_TIMEOUT) {
                Ok(line) => {
                    if let Some(at) = line.find(word) {
                        return line[at + word.len()..].trim().to_string();
                    }
                    seen.push_str(&line);
                    seen.push('\n');
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("child did not say {word} in time; its output:\n{seen}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("child ended before saying {word}; its output:\n{seen}")
                }
            }
        }
    }

    fn say(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
    }

    fn finish(mut self) {
        drop(self.child.stdin.take());
        let rest: Vec<String> = self.lines.iter().collect();
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "child failed: {status}; output:\n{}",
            rest.join("\n")
        );
    }
}

impl Drop for ChildRun {
    fn drop(&mut self) {
        // After a failed assertion, do not leave a child waiting on us.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn unprivileged_user_dotlocks_a_root_mail_spool_through_dotlockfile() {
    let test = "unprivileged_user_dotlocks_a_root_mail_spool_through_dotlockfile";
    let Some(spool) = spool(test) else { return };
    let lock_file = dotlock_path(&spool.mailbox);
    let mut child = start_child(&spool, "hold");
    let child_pid = child.expect("HELD");

    // The helper made NAME.lock for nobody, with the child's pid inside.
    let meta = fs::metadata(&lock_file).expect("NAME.lock exists while the child holds it");
    assert_eq!(meta.uid(), spool.nobody_uid);
    assert_eq!(meta.gid(), spool.mail_gid);
    assert_eq!(fs::read_to_string(&lock_file).unwrap().trim(), child_pid);

    // Nobody else gets it meanwhile: not we, not dotlockfile.
    let quick = LockConfig {
        wait: Duration::from_millis(300),
        ..LockConfig::default()
    };
    assert!(matches!(
        DotLock::acquire(&spool.mailbox, &quick),
        Err(LockError::Timeout {
            what: "dot-lock",
            ..
        })
    ));
    let status = Command::new(HELPER)
        .args(["-l", "-r", "0", "-q"])
        .arg(&lock_file)
        .status()
        .unwrap();
    assert_eq!(
        status.code(),
        Some(4),
        "dotlockfile should find the lock busy"
    );

    child.say("release");
    child.expect("RELEASED");
    child.finish();
    assert!(!lock_file.exists(), "NAME.lock removed on release");
}

#[test]
fn unprivileged_user_waits_for_a_spool_dotlock_held_by_another() {
    let test = "unprivileged_user_waits_for_a_spool_dotlock_held_by_another";
    let Some(spool) = spool(test) else { return };
    // Held by root here, as an MTA would hold it while delivering.
    let DotLockOutcome::Held(lock) =
        DotLock::acquire(&spool.mailbox, &LockConfig::default()).unwrap()
    else {
        panic!("root could not dot-lock the spool");
    };
    let mut child = start_child(&spool, "busy");
    child.expect("TIMEOUT");
    child.finish();
    drop(lock);
    assert!(!dotlock_path(&spool.mailbox).exists());
}

#[test]
fn unprivileged_user_without_the_helper_falls_back_to_kernel_locks() {
    let test = "unprivileged_user_without_the_helper_falls_back_to_kernel_locks";
    let Some(spool) = spool(test) else { return };
    let mut child = start_child(&spool, "nohelper");
    child.expect("FELL BACK");
    child.finish();
    assert!(!dotlock_path(&spool.mailbox).exists());
}

/// Writers of one mailbox that queue for their turn pass the helper's dot-lock from
/// one to the next (one `dotlockfile -l` and one `-u` for both), but not beyond
/// `HANDOVER_CHAIN`, and never leave it behind.
#[test]
fn queued_writers_pass_the_helpers_dotlock_on() {
    let test = "queued_writers_pass_the_helpers_dotlock_on";
    let Some(spool) = spool(test) else { return };
    let mut child = start_child(&spool, "handover");
    child.expect("HANDED OVER");
    child.finish();
    assert!(!dotlock_path(&spool.mailbox).exists());
}

/// The unprivileged half of the tests above; does nothing unless started by them.
#[test]
#[ignore = "the unprivileged child of the spool tests, run by them"]
fn spool_child() {
    let Ok(mode) = std::env::var(CHILD_MODE) else {
        panic!("spool_child runs only as the unprivileged child of the spool tests");
    };
    let mailbox = PathBuf::from(std::env::var_os(CHILD_MAILBOX).unwrap());
    // SAFETY: geteuid has no preconditions and cannot fail.
    assert_ne!(
        unsafe { libc::geteuid() },
        0,
        "the child must run unprivileged"
    );
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&mailbox)
        .unwrap();
    let lock_file = dotlock_path(&mailbox);
    match mode.as_str() {
        "hold" => {
            let cfg = LockConfig {
                wait: Duration::from_secs(10),
                ..LockConfig::default()
            };
            let lock = WriteLock::acquire(&mailbox, &file, &cfg).unwrap();
            assert!(lock.dotlock_held(), "{:?}", lock.dotlock_unavailable());
            assert!(lock_file.exists());
            println!("HELD {}", std::process::id());
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).unwrap();
            drop(lock);
            assert!(!lock_file.exists());
            println!("RELEASED");
        }
        "busy" => {
            let cfg = LockConfig {
                wait: Duration::from_millis(700),
                ..LockConfig::default()
            };
            match WriteLock::acquire(&mailbox, &file, &cfg) {
                Err(LockError::Timeout {
                    what: "dot-lock", ..
                }) => println!("TIMEOUT"),
                Err(e) => panic!("expected a dot-lock timeout, got {e}"),
                Ok(_) => panic!("got a dot-lock another process holds"),
            }
        }
        "nohelper" => {
            for helper in [Some(Path::new("/nonexistent/dotlockfile")), None] {
                let cfg = LockConfig {
                    wait: Duration::from_secs(2),
                    dotlock_helper: helper.map(Path::to_path_buf),
                    ..LockConfig::default()
                };
                let lock = WriteLock::acquire(&mailbox, &file, &cfg).unwrap();
                assert!(!lock.dotlock_held());
                let why = lock.dotlock_unavailable().expect("a reason to log");
                assert!(why.contains("cannot create a dot-lock"), "{why}");
                assert!(!lock_file.exists());
            }
            println!("FELL BACK");
        }
        "handover" => {
            let tmp = tempfile::tempdir().unwrap();
            let log = tmp.path().join("helper.log");
            let helper = tmp.path().join("helper");
            fs::write(
                &helper,
                format!("#!/bin/sh\necho \"$1\" >> {}\nexec {HELPER} \"$@\"\n", log.display()),
            )
            .unwrap();
            fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
            let cfg = LockConfig {
                wait: Duration::from_secs(10),
                dotlock_helper: Some(helper),
                ..LockConfig::default()
            };
            let turn = tmp.path().join("box.writer");
            let inode = || fs::metadata(&lock_file).map(|m| m.ino()).ok();
            for (hold, want) in [(100, "-l\n-u\n"), (400, "-l\n-u\n-l\n-u\n")] {
                let _ = fs::remove_file(&log);
                let a = WriteLock::acquire_in_turn(&mailbox, &file, &cfg, &turn).unwrap();
                assert!(a.dotlock_held(), "{:?}", a.dotlock_unavailable());
                let first = inode();
                let (m, c, t) = (mailbox.clone(), cfg.clone(), turn.clone());
                let b = std::thread::spawn(move || {
                    let file = OpenOptions::new().read(true).write(true).open(&m).unwrap();
                    let lock = WriteLock::acquire_in_turn(&m, &file, &c, &t).unwrap();
                    let held = (lock.dotlock_held(), fs::metadata(dotlock_path(&m)).map(|m| m.ino()).ok());
                    drop(lock);
                    held
                });
                std::thread::sleep(Duration::from_millis(hold));
                drop(a);
                let (held, second) = b.join().unwrap();
                assert!(held);
                assert!(!lock_file.exists(), "left behind after {hold} ms");
                assert_eq!(fs::read_to_string(&log).unwrap(), want, "held {hold} ms");
                if hold < 250 {
                    assert_eq!(first, second, "the same lock file passed on");
                }
            }
            println!("HANDED OVER");
        }
        other => panic!("unknown child mode {other}"),
    }
}
