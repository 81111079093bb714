//! APPEND without reading the mailbox (the state file's append point): taken only
//! while the file is exactly as the last APPEND left it, and giving the same UIDs,
//! X-IMAP and file as the full way.

mod common;
use common::*;

use std::io::Write;

use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::mailbox::{AppendMessage, Mailbox, Mode, StoreOp};

fn message(bytes: &[u8]) -> AppendMessage<'_> {
    AppendMessage {
        bytes,
        flags: Flags::SEEN,
        keywords: vec![],
        internal_date: Some(date(1_700_000_000, 0)),
    }
}

/// APPEND the way `Store::append` does: quick when it can, else open and append.
fn append(env: &Env, p: &std::path::Path, n: usize) -> (bool, u32) {
    let bytes = msg(n);
    let m = [message(&bytes)];
    if let Some((_, uids)) = Mailbox::append_quick(p, &env.ctx, &m).unwrap() {
        return (true, uids[0].get());
    }
    let mut mb = Mailbox::open(p, Mode::Append, &env.ctx).unwrap();
    let uid = mb.append(&m).unwrap()[0];
    mb.close().unwrap();
    (false, uid.get())
}

fn deliver_unnumbered(p: &std::path::Path, format: Format, subject: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(p).unwrap();
    let body = format!("Subject: {subject}\n\ndelivered\n");
    match format {
        Format::Mbox => write!(f, "From mta@example.org Mon Nov 23 07:00:00 2026\n{body}\n"),
        Format::Mmdf => write!(f, "\x01\x01\x01\x01\n{body}\x01\x01\x01\x01\n"),
    }
    .unwrap();
}

#[test]
fn quick_append_follows_the_full_way_and_gives_way_to_any_other_writer() {
    for format in [Format::Mbox, Format::Mmdf] {
        let env = Env::new();
        let p = env.create("box", format);
        // The first APPEND reads the file (no append point yet) and records one.
        assert_eq!(append(&env, &p, 1), (false, 1), "{format:?}");
        assert_eq!(append(&env, &p, 2), (true, 2), "{format:?}");
        assert_eq!(append(&env, &p, 3), (true, 3), "{format:?}");

        // A delivery: the file grew behind the point; the full way numbers it first.
        deliver_unnumbered(&p, format, "delivered 4");
        assert_eq!(append(&env, &p, 5), (false, 5), "{format:?}");
        assert_eq!(append(&env, &p, 6), (true, 6), "{format:?}");

        // A session's flag change rewrites in place: same size, new time.
        let mut s = env.open(&p);
        s.store(seqno(1), StoreOp::Add, Flags::FLAGGED, &[]).unwrap();
        s.checkpoint().unwrap();
        s.close().unwrap();
        assert_eq!(append(&env, &p, 7), (false, 7), "{format:?}");

        // An expunge: the file shrank.
        let mut s = env.open(&p);
        s.store(seqno(2), StoreOp::Add, Flags::DELETED, &[]).unwrap();
        s.expunge(None).unwrap();
        s.close().unwrap();
        assert_eq!(append(&env, &p, 8), (false, 8), "{format:?}");
        assert_eq!(append(&env, &p, 9), (true, 9), "{format:?}");

        // A keyword the mailbox has not defined changes X-IMAP: the full way.
        let bytes = msg(10);
        let mut m = message(&bytes);
        m.keywords = vec!["Project".into()];
        assert_eq!(Mailbox::append_quick(&p, &env.ctx, &[m.clone()]).unwrap(), None);
        let mut mb = Mailbox::open(&p, Mode::Append, &env.ctx).unwrap();
        assert_eq!(mb.append(&[m.clone()]).unwrap(), vec![10]);
        mb.close().unwrap();
        // Defined now, and the file unchanged since: quick.
        let (_, uids) = Mailbox::append_quick(&p, &env.ctx, &[m]).unwrap().unwrap();
        assert_eq!(uids, vec![11]);

        // A fresh full read agrees with everything the quick way said, the X-IMAP
        // value included (a new session's UIDNEXT).
        let mut check = Mailbox::open(&p, Mode::ReadOnly, &env.ctx).unwrap();
        assert_eq!(uid_list(&check), vec![1, 3, 4, 5, 6, 7, 8, 9, 10, 11], "{format:?}");
        assert_eq!(check.uid_next().get(), 12);
        assert!(check.damage().is_empty());
        let last = String::from_utf8(check.message(seqno(10)).unwrap()).unwrap();
        assert!(last.contains("Subject: message 10\r\n"), "{last}");
        let kw = check.keywords().names_of(check.info(seqno(10)).unwrap().keywords);
        assert_eq!(kw, ["Project"]);
        assert!(check.info(seqno(9)).unwrap().flags.contains(Flags::SEEN));
        let file = std::fs::read(&p).unwrap();
        assert!(find(&file, b"X-IMAP").is_some());
        let header = String::from_utf8_lossy(&file[..file.len().min(400)]).to_string();
        assert!(header.contains(" 0000000011"), "X-IMAP last UID not kept: {header}");
    }
}

#[test]
fn quick_append_is_seen_by_a_selected_session_as_new_mail() {
    let env = Env::new();
    let p = env.create("box", Format::Mbox);
    append(&env, &p, 1);
    let mut s = env.open(&p);
    assert_eq!(append(&env, &p, 2), (true, 2));
    let ev = s.sync().unwrap();
    assert!(ev.contains(&mailbox::mailbox::Event::Exists(2)), "{ev:?}");
    assert_eq!(uid_list(&s), vec![1, 2]);
    // The session's own write afterwards leaves both intact.
    s.store(seqno(2), StoreOp::Add, Flags::ANSWERED, &[]).unwrap();
    s.close().unwrap();
    let mut check = Mailbox::open(&p, Mode::ReadOnly, &env.ctx).unwrap();
    assert_eq!(uid_list(&check), vec![1, 2]);
    assert!(check.info(seqno(2)).unwrap().flags.contains(Flags::ANSWERED));
    let text = String::from_utf8(check.message(seqno(2)).unwrap()).unwrap();
    assert!(text.contains("Subject: message 2\r\n"));
}

#[test]
fn a_lost_or_garbled_state_file_only_costs_the_full_way() {
    let env = Env::new();
    let p = env.create("box", Format::Mbox);
    append(&env, &p, 1);
    append(&env, &p, 2);
    let state_dir = env.ctx.state_dir.clone();
    let states: Vec<_> = std::fs::read_dir(&state_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "state"))
        .collect();
    assert_eq!(states.len(), 1);
    let text = std::fs::read_to_string(&states[0]).unwrap();
    assert!(text.contains("\nappendable "), "{text}");
    // A point that names the wrong place for the last message is not trusted.
    let garbled: String = text
        .lines()
        .map(|l| {
            if let Some(rest) = l.strip_prefix("appendable ") {
                let mut f: Vec<String> = rest.split(' ').map(str::to_string).collect();
                f[5] = (f[5].parse::<u64>().unwrap() + 1).to_string();
                format!("appendable {}\n", f.join(" "))
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&states[0], garbled).unwrap();
    assert_eq!(append(&env, &p, 3), (false, 3));
    std::fs::remove_file(&states[0]).unwrap();
    assert_eq!(append(&env, &p, 4), (false, 4));
    assert_eq!(append(&env, &p, 5), (true, 5));
    let check = Mailbox::open(&p, Mode::ReadOnly, &env.ctx).unwrap();
    assert_eq!(uid_list(&check), vec![1, 2, 3, 4, 5]);
}
