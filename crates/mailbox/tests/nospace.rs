//! A full disk (or quota, or file size limit) leaves the mailbox exactly as it was:
//! expunge, checkpoint and append fail with `NoSpace` before touching the file.
//! Unprivileged: a child process under RLIMIT_FSIZE (writes past it fail with EFBIG).
//! As root: a real 1 MiB tmpfs that fills up (ENOSPC).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use mailbox::error::Error;
use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::mailbox::{AppendMessage, Context, Mailbox, Mode, StoreOp};

fn ctx_for(dir: &Path) -> Context {
    let mut ctx = Context::new(dir, "tester");
    ctx.lock.dotlock_helper = None;
    ctx.lock.wait = Duration::from_secs(10);
    ctx
}

fn body(i: usize, size: usize) -> Vec<u8> {
    let mut m = format!("Subject: m{i}\r\n\r\n").into_bytes();
    while m.len() < size {
        m.extend_from_slice(format!("filler line for message {i}\r\n").as_bytes());
    }
    m
}

/// A mailbox of `n` messages of `size` octets, everything written back.
fn build(path: &Path, ctx: &Context, n: usize, size: usize) {
    Mailbox::create(path, Format::Mbox, ctx).unwrap();
    let mut mb = Mailbox::open(path, Mode::ReadWrite, ctx).unwrap();
    let bodies: Vec<Vec<u8>> = (0..n).map(|i| body(i, size)).collect();
    let msgs: Vec<AppendMessage> = bodies
        .iter()
        .map(|b| AppendMessage {
            bytes: b,
            flags: Flags::EMPTY,
            keywords: vec![],
            internal_date: None,
        })
        .collect();
    mb.append(&msgs).unwrap();
    mb.close().unwrap();
}

/// Tries an append and an expunge; each must fail with NoSpace.
fn attempt_writes(path: &Path, ctx: &Context) {
    let mut mb = Mailbox::open(path, Mode::ReadWrite, ctx).unwrap();
    let big = body(99, 600_000);
    let m = AppendMessage {
        bytes: &big,
        flags: Flags::EMPTY,
        keywords: vec![],
        internal_date: None,
    };
    let r = mb.append(&[m]);
    assert!(matches!(r, Err(Error::NoSpace)), "append: {r:?}");
    assert_eq!(mb.count(), 10, "nothing appended in the session either");
    mb.store(mailbox::uid::SeqNumber::MIN, StoreOp::Add, Flags::DELETED, &[]).unwrap();
    let r = mb.expunge(None);
    assert!(matches!(r, Err(Error::NoSpace)), "expunge: {r:?}");
    assert_eq!(mb.count(), 10, "nothing expunged in the session either");
}

/// Compares files without printing megabytes when they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a == b
}

fn no_journal_left(state: &Path) {
    if let Ok(rd) = std::fs::read_dir(state) {
        for e in rd {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            if name.contains("journal") {
                // The journal file stays for the next rewrite, its header cleared.
                assert!(name.ends_with(".journal"), "journal left behind: {name}");
                let head = std::fs::read(e.path()).unwrap();
                assert!(head.iter().take(8).all(|&b| b == 0), "journal left pending: {name}");
            }
        }
    }
}

#[test]
#[ignore = "the child process of the file size limit test, run by it"]
fn nospace_child() {
    let Ok(path) = std::env::var("NOSPACE_CHILD_MAILBOX") else {
        panic!("nospace_child runs only as the child of file_size_limit_leaves_mailbox_untouched");
    };
    let path = PathBuf::from(path);
    let ctx = ctx_for(path.parent().unwrap());
    let limit: u64 = std::env::var("NOSPACE_CHILD_LIMIT")
        .unwrap()
        .parse()
        .unwrap();
    // SAFETY: plain libc calls on this process's own limits and signal disposition.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let rl = libc::rlimit {
            rlim_cur: limit,
            rlim_max: limit,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &rl), 0);
    }
    attempt_writes(&path, &ctx);
    println!("NOSPACE-CHILD-OK");
}

#[test]
fn file_size_limit_leaves_mailbox_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx_for(dir.path());
    let path = dir.path().join("box");
    build(&path, &ctx, 10, 50_000);
    let before = std::fs::read(&path).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "nospace_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("NOSPACE_CHILD_MAILBOX", &path)
        // The mailbox can be read; a journal of most of it cannot be written.
        .env("NOSPACE_CHILD_LIMIT", (before.len() as u64 / 2).to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("NOSPACE-CHILD-OK"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        same(&std::fs::read(&path).unwrap(), &before),
        "mailbox changed"
    );
    no_journal_left(&ctx.state_dir);
    // And with room again, the same expunge works.
    let mut mb = Mailbox::open(&path, Mode::ReadWrite, &ctx).unwrap();
    mb.store(mailbox::uid::SeqNumber::MIN, StoreOp::Add, Flags::DELETED, &[]).unwrap();
    assert_eq!(mb.expunge(None).unwrap(), vec![1]);
}

#[test]
fn full_file_system_leaves_mailbox_untouched() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        testkit::skip(
            "full_file_system_leaves_mailbox_untouched",
            "needs root to mount a tmpfs",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let ok = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=1m",
            "pullmail-test",
            mnt.to_str().unwrap(),
        ])
        .status();
    if !ok.is_ok_and(|s| s.success()) {
        testkit::skip(
            "full_file_system_leaves_mailbox_untouched",
            "cannot mount a tmpfs here",
        );
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mnt.clone());
    let ctx = ctx_for(&mnt);
    let path = mnt.join("box");
    build(&path, &ctx, 10, 50_000);
    // Fill most of what is left so that a journal of the mailbox cannot be written.
    let filler = mnt.join("filler");
    let free = {
        // SAFETY: statvfs writes into the struct we own.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        let c = std::ffi::CString::new(mnt.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
        st.f_bavail * st.f_frsize
    };
    std::fs::write(&filler, vec![b'x'; free.saturating_sub(100_000) as usize]).unwrap();
    let before = std::fs::read(&path).unwrap();
    attempt_writes(&path, &ctx);
    assert!(
        same(&std::fs::read(&path).unwrap(), &before),
        "mailbox changed"
    );
    no_journal_left(&ctx.state_dir);
}
