//! Several sessions on one mailbox, all read-write, seeing each other's changes; and
//! deliveries by another process (dot-lock + POSIX fcntl, as procmail and Postfix do)
//! while sessions read, rewrite and expunge: nothing is lost.

mod common;
use common::*;

use std::path::Path;
use std::process::Command;

use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::mailbox::{Event, Mailbox, Mode, StoreOp};

fn deliver(
    path: &Path,
    first: usize,
    count: usize,
    pause: f64,
    format: Format,
) -> std::process::Child {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/deliver.py");
    Command::new("python3")
        .arg(script)
        .arg(path)
        .arg(first.to_string())
        .arg(count.to_string())
        .arg(pause.to_string())
        .arg(format.name())
        .spawn()
        .expect("python3 runs the delivery agent")
}

/// The delivery agent is a python3 script; without python3 the delivery tests skip.
fn have_python(test: &str) -> bool {
    let ok = Command::new("python3")
        .arg("-c")
        .arg("import fcntl")
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        testkit::skip(test, "python3 is not installed (make test installs it when run as root)");
    }
    ok
}

fn subjects(mb: &mut Mailbox) -> Vec<String> {
    (1..=mb.count())
        .map(|s| {
            let h = String::from_utf8(mb.header(seqno(s)).unwrap()).unwrap();
            h.lines()
                .find_map(|l| l.strip_prefix("Subject: "))
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[test]
fn two_sessions_see_each_others_flags_expunges_and_appends() {
    let env = Env::new();
    let p = env.create("box", Format::Mbox);
    let mut a = env.open(&p);
    for n in 0..4 {
        append_plain(&mut a, n);
    }
    a.checkpoint().unwrap();
    let mut b = env.open(&p);
    assert_eq!(uid_list(&b), vec![1, 2, 3, 4]);

    // Flags set in both, written by both: the file ends up with the union.
    a.store(seqno(1), StoreOp::Add, Flags::SEEN, &[]).unwrap();
    b.store(seqno(1), StoreOp::Add, Flags::FLAGGED, &["Todo"]).unwrap();
    a.checkpoint().unwrap();
    b.checkpoint().unwrap();
    let ev = a.sync().unwrap();
    assert!(
        ev.contains(&Event::FlagsChanged { seq: seqno(1), uid: uid(1) }),
        "{ev:?}"
    );
    let info = a.info(seqno(1)).unwrap();
    assert!(info.flags.contains(Flags::SEEN) && info.flags.contains(Flags::FLAGGED));
    assert_eq!(a.keywords().names_of(info.keywords), ["Todo"]);

    // B expunges; A hears of it at its next sync.
    b.store(seqno(2), StoreOp::Add, Flags::DELETED, &[]).unwrap();
    assert_eq!(b.expunge(None).unwrap(), vec![2]);
    assert_eq!(a.sync().unwrap(), vec![Event::Expunge(seqno(2)), Event::Exists(3)]);
    assert_eq!(uid_list(&a), vec![1, 3, 4]);

    // A appends; B sees the new message with the same UID.
    let uid = append_plain(&mut a, 10);
    let ev = b.sync().unwrap();
    assert!(ev.contains(&Event::Exists(4)), "{ev:?}");
    assert_eq!(uid_list(&b), vec![1, 3, 4, uid]);
    assert_eq!(b.message(seqno(4)).unwrap(), a.message(seqno(4)).unwrap());
}

#[test]
fn expunge_by_another_session_waits_while_expunges_may_not_be_reported() {
    let env = Env::new();
    let p = env.create("box", Format::Mmdf);
    let mut a = env.open(&p);
    for n in 0..3 {
        append_plain(&mut a, n);
    }
    a.checkpoint().unwrap();
    let mut b = env.open(&p);
    a.store(seqno(2), StoreOp::Add, Flags::DELETED, &[]).unwrap();
    a.expunge(None).unwrap();
    // During FETCH/STORE/SEARCH (RFC 3501 §7.4.1) B keeps the numbering.
    assert_eq!(b.sync_without_expunge().unwrap(), vec![]);
    assert_eq!(b.count(), 3);
    assert!(b.info(seqno(2)).unwrap().expunged);
    assert!(matches!(b.message(seqno(2)), Err(mailbox::error::Error::Expunged)));
    assert_eq!(b.message(seqno(3)).unwrap(), served(2, Format::Mmdf));
    // Its own rewrite while holding the ghost does not resurrect it.
    b.store(seqno(1), StoreOp::Add, Flags::ANSWERED, &[]).unwrap();
    b.checkpoint().unwrap();
    assert_eq!(b.sync().unwrap(), vec![Event::Expunge(seqno(2)), Event::Exists(2)]);
    let mut c = env.open(&p);
    assert_eq!(uid_list(&c), vec![1, 3]);
    assert!(c.info(seqno(1)).unwrap().flags.contains(Flags::ANSWERED));
    assert_eq!(c.message(seqno(2)).unwrap(), served(2, Format::Mmdf));
}

#[test]
fn ten_sessions_keep_working_read_write() {
    let env = Env::new();
    let p = env.create("box", Format::Mbox);
    let mut sessions: Vec<Mailbox> = (0..10).map(|_| env.open(&p)).collect();
    assert!(sessions.iter().all(|s| !s.is_read_only()));
    for (i, s) in sessions.iter_mut().enumerate() {
        append_plain(s, i);
    }
    for s in sessions.iter_mut() {
        s.sync().unwrap();
        assert_eq!(s.count(), 10);
    }
    for (i, s) in sessions.iter_mut().enumerate() {
        let seq = i as u32 + 1;
        s.store(seqno(seq), StoreOp::Add, Flags::SEEN, &[]).unwrap();
        s.checkpoint().unwrap();
    }
    let recent: u32 = sessions.iter().map(|s| s.recent_count()).sum();
    assert_eq!(
        recent, 10,
        "each new message is \\Recent in exactly one session"
    );
    for s in sessions.iter_mut() {
        s.sync().unwrap();
        assert!((1..=10).all(|q| s.info(seqno(q)).unwrap().flags.contains(Flags::SEEN)));
        assert_eq!(uid_list(s), (1..=10).collect::<Vec<_>>());
    }
}

#[test]
fn delivery_during_session_appears_and_survives_expunge() {
    if !have_python("delivery_during_session_appears_and_survives_expunge") {
        return;
    }
    for format in [Format::Mbox, Format::Mmdf] {
        let env = Env::new();
        let p = env.create("box", format);
        let mut s = env.open(&p);
        append_plain(&mut s, 1);
        append_plain(&mut s, 2);
        s.checkpoint().unwrap();
        assert!(deliver(&p, 100, 3, 0.0, format).wait().unwrap().success());
        let ev = s.sync().unwrap();
        assert!(ev.contains(&Event::Exists(5)), "{ev:?}");
        assert_eq!(uid_list(&s), vec![1, 2, 3, 4, 5]);
        let text = String::from_utf8(s.message(seqno(4)).unwrap()).unwrap();
        assert!(
            text.contains("Subject: delivered 101\r\n")
                && text.ends_with(">From a quoted line.\r\n"),
            "{text:?}"
        );
        s.store(seqno(1), StoreOp::Add, Flags::DELETED, &[]).unwrap();
        s.expunge(None).unwrap();
        s.close().unwrap();
        let mut again = env.open(&p);
        assert_eq!(uid_list(&again), vec![2, 3, 4, 5], "{format:?}");
        assert_eq!(
            subjects(&mut again),
            [
                "message 2",
                "delivered 100",
                "delivered 101",
                "delivered 102"
            ]
        );
    }
}

#[test]
fn deliveries_racing_rewrites_lose_nothing() {
    if !have_python("deliveries_racing_rewrites_lose_nothing") {
        return;
    }
    for format in [Format::Mbox, Format::Mmdf] {
        let env = Env::new();
        let p = env.create("box", format);
        let mut s = env.open(&p);
        for n in 0..20 {
            append_plain(&mut s, n);
        }
        let mut mta = deliver(&p, 1000, 60, 0.002, format);
        let mut other = env.open(&p);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut rounds = 0;
        while mta.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
            s.sync().unwrap();
            other.sync().unwrap();
            let n = s.count();
            for seq in 1..=n {
                s.store(seqno(seq), StoreOp::Add, Flags::SEEN, &[]).unwrap();
            }
            // Expunge one of our own messages each round while mail keeps coming.
            if let Some(seq) = (1..=n).find(|&q| subjects_of(&mut s, q).starts_with("message ")) {
                s.store(seqno(seq), StoreOp::Add, Flags::DELETED, &[]).unwrap();
                s.expunge(None).unwrap();
            } else {
                s.checkpoint().unwrap();
            }
            if other.count() > 0 {
                other
                    .store(seqno(other.count()), StoreOp::Add, Flags::FLAGGED, &[])
                    .unwrap();
                other.checkpoint().unwrap();
            }
            rounds += 1;
        }
        assert!(mta.wait().unwrap().success());
        s.sync().unwrap();
        s.close().unwrap();
        other.close().unwrap();
        let mut check = Mailbox::open(&p, Mode::ReadOnly, &env.ctx).unwrap();
        assert!(check.damage().is_empty(), "{:?}", check.damage());
        let delivered: Vec<String> = subjects(&mut check)
            .into_iter()
            .filter(|s| s.starts_with("delivered"))
            .collect();
        let want: Vec<String> = (1000..1060).map(|n| format!("delivered {n}")).collect();
        assert_eq!(delivered, want, "{format:?} after {rounds} rounds");
        let uids = uid_list(&check);
        assert!(uids.windows(2).all(|w| w[0] < w[1]));
    }
}

fn subjects_of(mb: &mut Mailbox, seq: u32) -> String {
    let h = String::from_utf8(mb.header(seqno(seq)).unwrap()).unwrap();
    h.lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or("")
        .to_string()
}

#[test]
fn expunge_after_uids_were_reset_elsewhere_deletes_nothing() {
    let env = Env::new();
    let p = env.create("box", Format::Mbox);
    let mut a = env.open(&p);
    for n in 0..3 {
        append_plain(&mut a, n);
    }
    a.store(seqno(2), StoreOp::Add, Flags::DELETED, &[]).unwrap();
    // Another program starts the mailbox's UIDs afresh (a new UIDVALIDITY).
    let text = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
    let uv = format!("{:010}", a.uid_validity());
    let reset = text.replacen(&format!("X-IMAP: {uv}"), "X-IMAP: 0000000007", 1);
    assert_ne!(reset, text);
    std::fs::write(&p, &reset).unwrap();
    let r = a.expunge(None);
    assert!(matches!(r, Err(mailbox::error::Error::UidValidityChanged)), "{r:?}");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), reset, "nothing may be written");
    assert!(a.sync().unwrap().contains(&Event::UidValidityChanged));
}

#[test]
fn exists_found_during_an_expunge_counts_what_is_left() {
    if !have_python("exists_found_during_an_expunge_counts_what_is_left") {
        return;
    }
    let env = Env::new();
    let p = env.create("box", Format::Mbox);
    let mut a = env.open(&p);
    for n in 0..3 {
        append_plain(&mut a, n);
    }
    a.sync().unwrap();
    assert!(deliver(&p, 1, 2, 0.0, Format::Mbox).wait().unwrap().success());
    a.store(seqno(1), StoreOp::Add, Flags::DELETED, &[]).unwrap();
    assert_eq!(a.expunge(None).unwrap(), vec![1]);
    let ev = a.sync().unwrap();
    assert_eq!(ev, vec![Event::Exists(4)], "{ev:?}");
    assert_eq!(a.count(), 4);
}

/// A mailbox that another session keeps growing and shrinking (an APPEND, then the
/// EXPUNGE of what it appended) opens every time: the open looks at the file's first
/// octets under a shared lock, at the length they have then, so it never reads past
/// an end a cut just moved and takes the file for "not a mailbox".
#[test]
fn opening_while_another_session_appends_and_expunges_never_fails() {
    let env = Env::new();
    let p = env.create("box", Format::Mbox);
    let mut w = env.open(&p);
    append_plain(&mut w, 0);
    w.checkpoint().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (ctx, path, halt) = (env.ctx.clone(), p.clone(), stop.clone());
    let reader = std::thread::spawn(move || {
        let mut opened = 0;
        while !halt.load(std::sync::atomic::Ordering::Relaxed) {
            match Mailbox::open(&path, Mode::ReadOnly, &ctx) {
                Ok(mb) => assert!(mb.count() >= 1),
                Err(e) => panic!("open #{opened} failed: {e}"),
            }
            opened += 1;
        }
        opened
    });
    for n in 1..=60 {
        append_plain(&mut w, n);
        let last = w.count();
        w.store(seqno(last), StoreOp::Add, Flags::DELETED, &[]).unwrap();
        assert_eq!(w.expunge(None).unwrap(), vec![seqno(last)]);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let opened = reader.join().unwrap();
    assert!(opened > 0);
}
