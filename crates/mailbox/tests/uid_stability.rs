//! UIDs never change under pullmail's own hands (issue 15): whatever several sessions
//! and an MTA do to one mailbox, a session never sees a message vanish that is still
//! there, never sees a UID change, and never gets a UIDVALIDITY change.

mod common;
use common::*;

use std::io::Write;
use std::path::Path;

use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::mailbox::{Event, Mailbox, StoreOp};

const FORMATS: [Format; 2] = [Format::Mbox, Format::Mmdf];

/// Appends one message the way an MTA does (no bookkeeping fields).
fn mta_deliver(path: &Path, format: Format, n: usize) {
    let body = format!("From: mta@example.org\nSubject: delivered {n}\n\nbody {n}\n");
    let text = match format {
        Format::Mmdf => format!("\x01\x01\x01\x01\nFrom mta@example.org  Mon Jan  1 00:00:00 2024\n{body}\x01\x01\x01\x01\n"),
        _ => format!("From mta@example.org  Mon Jan  1 00:00:00 2024\n{body}\n"),
    };
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn no_uidvalidity_change(events: &[Event]) {
    assert!(!events.contains(&Event::UidValidityChanged), "{events:?}");
}

/// Messages another session expunged stay in a session's numbering (as ghosts) while
/// it may not report expunges; their offsets are those of the old file. New mail
/// after that must not make the live messages behind the ghosts look expunged too
/// (they vanished from the session, and the next full read found them again with
/// UIDs below newer ones: "the mailbox was rewritten by another program").
#[test]
fn new_mail_behind_ghosts_keeps_every_live_message() {
    for format in FORMATS {
        let env = Env::new();
        let p = env.create("box", format);
        let mut a = env.open(&p);
        for n in 1..=4 {
            append_plain(&mut a, n);
        }
        let mut b = env.open(&p);
        for seq in [2, 3] {
            b.store(seqno(seq), StoreOp::Add, Flags::DELETED, &[]).unwrap();
        }
        b.expunge(None).unwrap();
        // A, in a FETCH: the expunges are noticed but not reported.
        no_uidvalidity_change(&a.sync_without_expunge().unwrap());
        assert_eq!(uid_list(&a), vec![1, 2, 3, 4], "{format:?}");
        // New mail, from the MTA and through another session.
        mta_deliver(&p, format, 5);
        no_uidvalidity_change(&a.sync_without_expunge().unwrap());
        append_plain(&mut b, 6);
        no_uidvalidity_change(&a.sync_without_expunge().unwrap());
        assert_eq!(uid_list(&a), vec![1, 2, 3, 4, 5, 6], "{format:?}");
        assert!(!a.info(seqno(4)).unwrap().expunged, "{format:?}: UID 4 is still there");
        let events = a.sync().unwrap();
        no_uidvalidity_change(&events);
        assert_eq!(uid_list(&a), vec![1, 4, 5, 6], "{format:?}: {events:?}");
        // A write by the session itself, with ghosts in front of what it rewrites.
        no_uidvalidity_change(&b.sync().unwrap());
        b.store(seqno(2), StoreOp::Add, Flags::DELETED, &[]).unwrap();
        b.expunge(None).unwrap();
        no_uidvalidity_change(&a.sync_without_expunge().unwrap());
        a.store(seqno(4), StoreOp::Add, Flags::FLAGGED, &["$Tag"]).unwrap();
        a.checkpoint().unwrap();
        no_uidvalidity_change(&a.sync().unwrap());
        assert_eq!(uid_list(&a), vec![1, 5, 6], "{format:?}");
        let c = env.open(&p);
        assert_eq!(uid_list(&c), vec![1, 5, 6]);
        assert!(c.info(seqno(3)).unwrap().flags.contains(Flags::FLAGGED));
    }
}

/// Everything expunged, then new mail (from the MTA and by APPEND), in a mailbox
/// whose UIDs were until then only in the messages (no pseudo-message yet): UIDs go
/// on from the last one, and every session agrees.
#[test]
fn all_expunged_then_new_mail_continues_the_uids() {
    for format in FORMATS {
        let mut env = Env::new();
        // An empty spool is in the site's format, the one its MTA delivers in.
        env.ctx.default_format = format;
        let p = env.path("spool");
        std::fs::write(&p, b"").unwrap();
        let mut a = env.open(&p);
        let uv = a.uid_validity();
        append_plain(&mut a, 1);
        append_plain(&mut a, 2);
        let mut b = env.open(&p);
        assert_eq!((b.uid_validity(), uid_list(&b)), (uv, vec![1, 2]), "{format:?}");
        for seq in [1, 2] {
            b.store(seqno(seq), StoreOp::Add, Flags::DELETED, &[]).unwrap();
        }
        b.expunge(None).unwrap();
        let c = env.open(&p);
        assert_eq!((c.uid_validity(), c.uid_next().get()), (uv, 3));
        mta_deliver(&p, format, 3);
        no_uidvalidity_change(&a.sync().unwrap());
        assert_eq!(uid_list(&a), vec![3], "{format:?}");
        append_plain(&mut b, 4);
        no_uidvalidity_change(&a.sync().unwrap());
        assert_eq!((a.uid_validity(), uid_list(&a)), (uv, vec![3, 4]));
        let d = env.open(&p);
        assert_eq!((d.uid_validity(), uid_list(&d)), (uv, vec![3, 4]));
    }
}

/// Sessions that keep a mailbox open see the same UIDs as a new one at every step of
/// a mixed run (a small deterministic version of the stress test in imapd's tests).
#[test]
fn sessions_agree_on_uids_through_a_mixed_run() {
    mixed_run(0);
}

/// The same from a spool of 1,000 messages no IMAP server has numbered: the opens
/// use and save the mailbox index, and the first writes number the spool.
#[test]
fn sessions_agree_on_uids_through_a_mixed_run_with_the_index() {
    mixed_run(1000);
}

fn mixed_run(initial: usize) {
    for format in FORMATS {
        let mut env = Env::new();
        // An empty spool is in the site's format, the one its MTA delivers in.
        env.ctx.default_format = format;
        let p = env.path("spool");
        std::fs::write(&p, b"").unwrap();
        for n in 0..initial {
            mta_deliver(&p, format, 100_000 + n);
        }
        let mut sessions: Vec<Mailbox> = (0..3).map(|_| env.open(&p)).collect();
        let uv = sessions[0].uid_validity();
        if initial > 0 {
            assert!(env.open(&p).opened_from_index(), "{format:?}: the index is used");
        }
        let mut next = 1;
        for round in 0..40usize {
            let who = round % 3;
            match round % 5 {
                0 => {
                    mta_deliver(&p, format, next);
                    next += 1;
                }
                1 | 3 => {
                    append_plain(&mut sessions[who], next);
                    next += 1;
                }
                2 => {
                    let s = &mut sessions[who];
                    s.sync_without_expunge().unwrap();
                    if s.count() > 0 {
                        let seq = seqno(1 + (round as u32 * 7) % s.count());
                        let _ = s.store(seq, StoreOp::Add, Flags::DELETED, &[]);
                    }
                }
                _ => {
                    sessions[who].expunge(None).unwrap();
                }
            }
            let fresh = env.open(&p);
            eprintln!("round {round} who {who} op {} fresh {:?}", round % 5, uid_list(&fresh));
            for (i, s) in sessions.iter_mut().enumerate() {
                let events = if round % 2 == 0 { s.sync() } else { s.sync_without_expunge() };
                let events = events.unwrap();
                eprintln!("  session {i}: {events:?} -> {:?} ghosts {:?}", uid_list(s), s.seq_numbers().filter_map(|q| s.info(q)).filter(|m| m.expunged).map(|m| m.uid.get()).collect::<Vec<_>>());
                no_uidvalidity_change(&events);
                assert_eq!(s.uid_validity(), uv);
                let live: Vec<u32> = s
                    .seq_numbers()
                    .filter_map(|q| s.info(q))
                    .filter(|m| !m.expunged)
                    .map(|m| m.uid.get())
                    .collect();
                assert_eq!(live, uid_list(&fresh), "{format:?} round {round} session {i}");
            }
        }
    }
}

/// New mail from the MTA has no `X-UID`: every session derives its UID from the last
/// UID the mailbox recorded. A write that records that number must not count the
/// derived UIDs of mail it did not write (a STORE patched in place before it, or the
/// first open of a spool): the next reader would derive them one higher. Sessions
/// then saw a message's UID change ("delivered.5 had UID 27, now 28").
#[test]
fn derived_uids_of_unwritten_mail_do_not_move_when_others_write() {
    for format in FORMATS {
        let mut env = Env::new();
        env.ctx.default_format = format;
        let p = env.create("box", format);
        let mut a = env.open(&p);
        for n in 1..=3 {
            append_plain(&mut a, n);
        }
        mta_deliver(&p, format, 4);
        no_uidvalidity_change(&a.sync().unwrap());
        assert_eq!(uid_list(&a), vec![1, 2, 3, 4], "{format:?}");
        // Another session changes a flag before the new mail (an in-place patch).
        let mut b = env.open(&p);
        b.store(seqno(1), StoreOp::Add, Flags::SEEN, &[]).unwrap();
        b.checkpoint().unwrap();
        no_uidvalidity_change(&a.sync().unwrap());
        assert_eq!(uid_list(&a), vec![1, 2, 3, 4], "{format:?}: the new mail's UID moved");
        assert_eq!(uid_list(&env.open(&p)), vec![1, 2, 3, 4]);
        // And after more mail and another patch, a new session and the old agree.
        mta_deliver(&p, format, 5);
        b.sync().unwrap();
        b.store(seqno(2), StoreOp::Add, Flags::FLAGGED, &[]).unwrap();
        b.checkpoint().unwrap();
        no_uidvalidity_change(&a.sync().unwrap());
        assert_eq!(uid_list(&a), vec![1, 2, 3, 4, 5], "{format:?}");
        assert_eq!(uid_list(&env.open(&p)), vec![1, 2, 3, 4, 5]);
        assert_eq!(append_plain(&mut b, 6), 6);
    }
}

/// A spool no IMAP server has written (as Postfix leaves it): a first open agrees its
/// UIDVALIDITY in the state file, and must not record the UIDs it derived, or a
/// running session's next full read derives different ones.
#[test]
fn the_first_open_of_a_spool_records_no_derived_uids() {
    for format in FORMATS {
        let mut env = Env::new();
        env.ctx.default_format = format;
        let p = env.path("spool");
        std::fs::write(&p, b"").unwrap();
        for n in 1..=3 {
            mta_deliver(&p, format, n);
        }
        let mut a = env.open(&p);
        assert_eq!(uid_list(&a), vec![1, 2, 3], "{format:?}");
        let b = env.open(&p);
        assert_eq!(uid_list(&b), vec![1, 2, 3]);
        // The same text put back as a new file (what an editor or `cp` leaves): the
        // running session reads it all again and must number it as the first open did.
        let copy = env.path("spool.new");
        std::fs::copy(&p, &copy).unwrap();
        std::fs::rename(&copy, &p).unwrap();
        mta_deliver(&p, format, 4);
        no_uidvalidity_change(&a.sync().unwrap());
        assert_eq!(uid_list(&a), vec![1, 2, 3, 4], "{format:?}");
        assert_eq!(uid_list(&env.open(&p)), vec![1, 2, 3, 4]);
    }
}
