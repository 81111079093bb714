//! The mailbox index in ~/.pullmail: an open that uses it sees exactly what a full
//! scan sees, and it is not used once the file changed in any other way than new
//! mail at its end.

mod common;
use common::*;

use std::io::Write;
use std::path::{Path, PathBuf};

use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::mailbox::StoreOp;

const COUNT: usize = 1_200;

/// A spool of `COUNT` messages as other programs leave it: the first half with UW
/// status fields and UIDs (no X-IMAP: its pseudo-message never written), the rest
/// fresh deliveries without any.
fn spool(format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    for n in 0..COUNT {
        let status = if n < COUNT / 2 {
            format!("Status: RO\nX-Status: F\nX-Keywords: Work\nX-UID: {}\n", n + 1)
        } else {
            String::new()
        };
        let body = format!("Subject: message {n}\n{status}\nbody {n}\n>From quoted\n");
        match format {
            Format::Mbox => {
                out.extend_from_slice(b"From someone@example.org Mon Nov 23 07:00:00 2026\n");
                out.extend_from_slice(body.as_bytes());
                out.push(b'\n');
            }
            Format::Mmdf => {
                out.extend_from_slice(b"\x01\x01\x01\x01\n");
                out.extend_from_slice(body.as_bytes());
                out.extend_from_slice(b"\x01\x01\x01\x01\n");
            }
        }
    }
    out
}

fn index_files(env: &Env) -> Vec<PathBuf> {
    std::fs::read_dir(&env.ctx.state_dir)
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "index"))
                .collect()
        })
        .unwrap_or_default()
}

/// What a read-only open sees, and what it sees with no index to use.
/// What a read-only open sees, whether it used the index, and what it sees without.
fn seen_with_and_without_index(env: &Env, p: &Path) -> (Vec<Snapshot>, bool, Vec<Snapshot>) {
    let (with, used) = seen(env, p);
    let without = seen_without_index(env, p);
    (with, used, without)
}

/// What a read-only open sees, and whether it used the index.
fn seen(env: &Env, p: &Path) -> (Vec<Snapshot>, bool) {
    let mut mb = env.open_read_only(p);
    let used = mb.opened_from_index();
    (snapshot(&mut mb), used)
}

fn seen_without_index(env: &Env, p: &Path) -> Vec<Snapshot> {
    let saved: Vec<(PathBuf, Vec<u8>)> = index_files(env)
        .into_iter()
        .map(|f| {
            let b = std::fs::read(&f).unwrap();
            std::fs::remove_file(&f).unwrap();
            (f, b)
        })
        .collect();
    let mut mb = env.open_read_only(p);
    assert!(!mb.opened_from_index());
    let without = snapshot(&mut mb);
    for (f, b) in saved {
        std::fs::write(f, b).unwrap();
    }
    without
}

type Snapshot = (u32, Flags, Vec<String>, Vec<u8>);

fn uid_next(env: &Env, p: &Path) -> u32 {
    env.open_read_only(p).uid_next().get()
}

#[test]
fn an_open_through_the_index_sees_what_a_scan_sees() {
    for format in [Format::Mbox, Format::Mmdf] {
        let env = Env::new();
        let p = env.install("box", &spool(format));
        // The first read-write open scans, writes UIDVALIDITY to the state, and saves
        // the index; the state change makes the next open scan once more.
        let first = snapshot(&mut env.open(&p));
        assert_eq!(first.len(), COUNT);
        assert_eq!(index_files(&env).len(), 1, "{format:?}");
        let (with, used, without) = seen_with_and_without_index(&env, &p);
        assert!(!used, "the state changed since the index was saved");
        assert_eq!(with, without, "{format:?}");
        // (Which UIDs the unnumbered half gets is the UID rule's business; that the
        // index agrees with a scan is this test's.)
        assert_eq!(with[0].2, ["Work"]);
        assert!(with[0].1.contains(Flags::SEEN) && with[0].1.contains(Flags::FLAGGED));
        let (with, used, without) = seen_with_and_without_index(&env, &p);
        assert!(used, "{format:?}");
        assert_eq!(with, without, "{format:?}");
        let next = uid_next(&env, &p);
        assert!(next > with[COUNT - 1].0);

        // New mail at the end: the index, then a scan of the tail only.
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        match format {
            Format::Mbox => f.write_all(b"From late@example.org Mon Nov 23 08:00:00 2026\nSubject: late\n\nlate body\n\n"),
            Format::Mmdf => f.write_all(b"\x01\x01\x01\x01\nSubject: late\n\nlate body\n\x01\x01\x01\x01\n"),
        }
        .unwrap();
        drop(f);
        let (with, used, without) = seen_with_and_without_index(&env, &p);
        assert!(used, "{format:?}");
        assert_eq!(with, without, "{format:?}");
        assert_eq!(with.len(), COUNT + 1);
        assert_eq!(with[COUNT].0, next);
        assert!(String::from_utf8_lossy(&with[COUNT].3).contains("late body"));

        // A session's rewrite (flags) that ends without a close (a killed server):
        // the index no longer describes the file.
        let mut s = env.open(&p);
        s.store(seqno(4), StoreOp::Add, Flags::ANSWERED, &[]).unwrap();
        s.checkpoint().unwrap();
        drop(s);
        let (with, used, without) = seen_with_and_without_index(&env, &p);
        assert!(!used, "{format:?}");
        assert_eq!(with, without, "{format:?}");
        // ... and the scan that found that out saved a new one.
        assert!(seen(&env, &p).1);

        // A session's rewrite (flags, expunge) that closes the mailbox leaves the
        // index describing the file as it left it: the next open needs no scan.
        let mut s = env.open(&p);
        s.store(seqno(3), StoreOp::Remove, Flags::FLAGGED, &[]).unwrap();
        s.store(seqno(2), StoreOp::Add, Flags::DELETED, &[]).unwrap();
        s.expunge(None).unwrap();
        s.close().unwrap();
        let (with, used, without) = seen_with_and_without_index(&env, &p);
        assert!(used, "{format:?}");
        assert_eq!(with, without, "{format:?}");
        assert_eq!(with.len(), COUNT);
        // Another session wrote after it and did not close: no index is saved over
        // the file that one left.
        let mut a = env.open(&p);
        let mut b = env.open(&p);
        a.store(seqno(5), StoreOp::Add, Flags::ANSWERED, &[]).unwrap();
        a.checkpoint().unwrap();
        b.store(seqno(6), StoreOp::Add, Flags::ANSWERED, &[]).unwrap();
        b.checkpoint().unwrap();
        drop(b);
        a.close().unwrap();
        assert!(!seen(&env, &p).1, "{format:?}");
        assert!(seen(&env, &p).1);
        assert_eq!(with[1].3, without[1].3);
        assert!(String::from_utf8_lossy(&with[1].3).contains("Subject: message 2\r\n"));
        assert!(!with[1].1.contains(Flags::FLAGGED));
    }
}

#[test]
fn an_index_that_does_not_check_out_is_ignored() {
    let env = Env::new();
    let p = env.install("box", &spool(Format::Mbox));
    drop(env.open(&p));
    drop(env.open(&p));
    let index = index_files(&env).pop().unwrap();
    let good = std::fs::read(&index).unwrap();
    let (expected, used) = seen(&env, &p);
    assert!(used);

    // Torn, or one octet changed: the checksum fails.
    std::fs::write(&index, &good[..good.len() / 2]).unwrap();
    assert_eq!(seen(&env, &p), (expected.clone(), false));
    let mut flipped = good.clone();
    flipped[good.len() / 3] ^= 0x20;
    std::fs::write(&index, &flipped).unwrap();
    assert_eq!(seen(&env, &p), (expected.clone(), false));

    // The file changed in place behind pullmail's back, keeping its size and
    // modification time (the worst case): the messages no longer open where the
    // index says, which the sampled openings catch.
    std::fs::write(&index, &good).unwrap();
    let meta = std::fs::metadata(&p).unwrap();
    let mut bytes = std::fs::read(&p).unwrap();
    // Shift every message after the first by one octet (a header one octet longer,
    // the blank line before the next message one shorter).
    let text = String::from_utf8(bytes.clone()).unwrap();
    let first_end = text.find("\n\nFrom ").unwrap();
    bytes.insert(first_end, b'x');
    let last_blank = bytes.len() - 1;
    bytes.remove(last_blank);
    std::fs::write(&p, &bytes).unwrap();
    let mtime = meta.modified().unwrap();
    std::fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    assert_eq!(std::fs::metadata(&p).unwrap().len(), meta.len());
    let (now, used) = seen(&env, &p);
    assert!(!used);
    assert_eq!(now, seen_without_index(&env, &p));
    assert!(String::from_utf8_lossy(&now[1].3).contains("Subject: message 1\r\n"));
}

#[test]
fn small_mailboxes_have_no_index() {
    let env = Env::new();
    let p = env.create("box", Format::Mbox);
    let mut s = env.open(&p);
    for n in 0..10 {
        append_plain(&mut s, n);
    }
    s.close().unwrap();
    drop(env.open(&p));
    assert!(index_files(&env).is_empty());
}

/// A spool as Postfix leaves it: no pseudo-message, no status fields, no UIDs.
fn postfix_spool(count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for n in 0..count {
        out.extend_from_slice(
            format!("From mta@example.org Mon Nov 23 07:00:00 2026\nSubject: fresh {n}\n\nbody {n}\n\n")
                .as_bytes(),
        );
    }
    out
}

#[test]
fn new_mail_through_the_index_keeps_uidvalidity_and_recent_for_one_session() {
    let env = Env::new();
    let p = env.install("box", &postfix_spool(COUNT));
    let first = env.open(&p);
    let uid_validity = first.uid_validity();
    assert_eq!(first.recent_count(), COUNT as u32);
    drop(first);
    drop(env.open_read_only(&p));
    let (_, used) = seen(&env, &p);
    assert!(used);

    let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
    f.write_all(b"From mta@example.org Mon Nov 23 08:00:00 2026\nSubject: late\n\nlate\n\n")
        .unwrap();
    drop(f);
    // UIDVALIDITY is a time in seconds: a new one would differ from here on.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let a = env.open(&p);
    assert!(a.opened_from_index());
    assert_eq!(a.uid_validity(), uid_validity);
    assert_eq!(a.count(), COUNT as u32 + 1);
    assert_eq!(uid_list(&a), (1..=COUNT as u32 + 1).collect::<Vec<_>>());
    // Only the new message is \Recent, and only for the first session to see it.
    assert_eq!(a.recent_count(), 1);
    assert!(a.info(seqno(COUNT as u32 + 1)).unwrap().recent);
    let b = env.open(&p);
    assert_eq!(b.uid_validity(), uid_validity);
    assert_eq!(b.recent_count(), 0);
    drop(a);
    drop(b);
    let (with, used, without) = seen_with_and_without_index(&env, &p);
    assert!(used);
    assert_eq!(with, without);
}

#[test]
fn delete_and_rename_take_the_index_with_them() {
    use mailbox::names::NamePolicy;
    use mailbox::store::Store;
    let env = Env::new();
    let home = env.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let policy = NamePolicy::new("tester", home.clone(), env.dir.path().join("spool"), None);
    let mut ctx = env.ctx.clone();
    ctx.state_dir = home.join(".pullmail");
    let store = Store::new(policy, ctx.clone());
    let indexes = || {
        std::fs::read_dir(&ctx.state_dir)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "index")
                })
                .count()
            })
            .unwrap_or(0)
    };
    for name in ["big", "other"] {
        std::fs::write(home.join(name), postfix_spool(COUNT)).unwrap();
        drop(store.open(name, mailbox::mailbox::Mode::ReadOnly).unwrap());
    }
    assert_eq!(indexes(), 2);
    store.delete("big").unwrap();
    assert_eq!(indexes(), 1);
    store.rename("other", "renamed").unwrap();
    assert_eq!(indexes(), 0);
    drop(store.open("renamed", mailbox::mailbox::Mode::ReadOnly).unwrap());
    assert_eq!(indexes(), 1);
}
