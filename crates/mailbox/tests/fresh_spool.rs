//! A spool file no IMAP server has written to yet (what Postfix leaves): opening and
//! reading it never rewrites it; its UIDVALIDITY and UIDs are agreed through the state
//! file until a rewrite that reaches the first message puts them in the file.

mod common;
use common::*;

use std::path::Path;

use mailbox::flags::Flags;
use mailbox::mailbox::{AppendMessage, Mailbox, Mode, StoreOp};

/// Messages as Postfix `local` delivers them: no bookkeeping fields at all.
fn postfix_spool(path: &Path, n: usize) {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "From sender{i}@example.org  Mon Nov 23 03:06:{:02} 2026\nFrom: sender{i}@example.org\nSubject: spool {i}\n\nbody {i}\n>From quoted\n\n",
            i % 60
        ));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn opening_and_reading_write_nothing() {
    let env = Env::new();
    let p = env.path("spool");
    postfix_spool(&p, 5);
    let before = std::fs::read(&p).unwrap();
    let mut a = env.open(&p);
    let uv = a.uid_validity();
    assert_eq!(uid_list(&a), vec![1, 2, 3, 4, 5]);
    assert_eq!(a.recent_count(), 5);
    for seq in 1..=5 {
        a.message(seqno(seq)).unwrap();
    }
    a.checkpoint().unwrap();
    let mut b = env.open(&p);
    assert_eq!((b.uid_validity(), uid_list(&b)), (uv, vec![1, 2, 3, 4, 5]), "sessions agree");
    assert_eq!(b.recent_count(), 0, "\\Recent went to the first session only");
    b.sync().unwrap();
    a.close().unwrap();
    b.close().unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), before, "the spool was rewritten");
}

#[test]
fn the_first_store_writes_uids_and_uidvalidity_then_stores_are_in_place() {
    let env = Env::new();
    let p = env.path("spool");
    postfix_spool(&p, 6);
    let mut a = env.open(&p);
    let uv = a.uid_validity();
    a.store(seqno(5), StoreOp::Add, Flags::SEEN, &[]).unwrap();
    let m5 = a.message(seqno(5)).unwrap();
    a.checkpoint().unwrap();
    let text = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
    assert!(text.contains(&format!("X-IMAP: {uv:010} 0000000006")), "{text}");
    assert_eq!(text.matches("\nX-UID: ").count(), 6);
    // From now on a STORE is a patch of the message's own bookkeeping block.
    let len = text.len();
    a.store(seqno(2), StoreOp::Add, Flags::FLAGGED, &[]).unwrap();
    a.close().unwrap();
    assert_eq!(std::fs::read(&p).unwrap().len(), len);
    let mut b = env.open(&p);
    assert_eq!((b.uid_validity(), uid_list(&b)), (uv, vec![1, 2, 3, 4, 5, 6]));
    assert!(b.info(seqno(5)).unwrap().flags.contains(Flags::SEEN));
    assert!(b.info(seqno(2)).unwrap().flags.contains(Flags::FLAGGED));
    assert_eq!(b.message(seqno(5)).unwrap(), m5);
    // A delivery now gets the next UID, not one that was handed out before.
    let mut text = std::fs::read(&p).unwrap();
    text.extend_from_slice(b"From late@example.org  Mon Nov 23 04:00:00 2026\nSubject: late\n\nlate\n\n");
    std::fs::write(&p, text).unwrap();
    b.sync().unwrap();
    assert_eq!(uid_list(&b), vec![1, 2, 3, 4, 5, 6, 7]);
}

#[test]
fn expunge_of_the_first_message_puts_uidvalidity_in_the_file() {
    let env = Env::new();
    let p = env.path("spool");
    postfix_spool(&p, 4);
    let mut a = env.open(&p);
    let uv = a.uid_validity();
    a.store(seqno(1), StoreOp::Add, Flags::DELETED, &[]).unwrap();
    assert_eq!(a.expunge(None).unwrap(), vec![1]);
    a.close().unwrap();
    let text = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
    assert!(text.contains(&format!("X-IMAP: {uv:010} 0000000004")), "{text}");
    // Now the file alone is enough: without the state file the UIDs are the same.
    std::fs::remove_dir_all(&env.ctx.state_dir).unwrap();
    let b = Mailbox::open(&p, Mode::ReadOnly, &env.ctx).unwrap();
    assert_eq!((b.uid_validity(), uid_list(&b)), (uv, vec![2, 3, 4]));
}

#[test]
fn append_to_a_fresh_spool_follows_the_delivered_messages() {
    let env = Env::new();
    let p = env.path("spool");
    postfix_spool(&p, 3);
    let mut a = env.open(&p);
    let body = msg(1);
    let uids = a
        .append(&[AppendMessage { bytes: &body, flags: Flags::EMPTY, keywords: vec![], internal_date: None }])
        .unwrap();
    assert_eq!(uids, vec![4]);
    a.close().unwrap();
    let b = env.open(&p);
    assert_eq!(uid_list(&b), vec![1, 2, 3, 4]);
}

#[test]
fn losing_the_state_file_changes_uidvalidity_never_the_meaning_of_a_uid() {
    let env = Env::new();
    let p = env.path("spool");
    postfix_spool(&p, 5);
    let mut a = env.open(&p);
    let uv = a.uid_validity();
    a.store(seqno(4), StoreOp::Add, Flags::DELETED, &[]).unwrap();
    a.expunge(None).unwrap();
    a.close().unwrap();
    std::fs::remove_dir_all(&env.ctx.state_dir).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = env.open(&p);
    let uids = uid_list(&b);
    assert!(uids.windows(2).all(|w| w[0] < w[1]));
    // UID 5 (written into the file) cannot be trusted without the last UID: either it
    // is kept under the old UIDVALIDITY, or UIDVALIDITY changes.
    assert!(b.uid_validity() != uv || uids == vec![1, 2, 3, 5], "{uids:?} under the same UIDVALIDITY");
}

#[test]
fn a_handle_opened_after_an_expunge_keeps_the_uids_and_an_append_renumbers_nothing() {
    let env = Env::new();
    let p = env.path("spool");
    postfix_spool(&p, 5);
    let mut a = env.open(&p);
    let uv = a.uid_validity();
    a.store(seqno(2), StoreOp::Add, Flags::DELETED, &[]).unwrap();
    a.expunge(None).unwrap();
    // The X-UIDs in the file are 1, 3, 4, 5 now, without X-IMAP: the state file
    // vouches for them (IMAP APPEND and COPY open such a second handle).
    let mut b = env.open(&p);
    assert_eq!((b.uid_validity(), uid_list(&b)), (uv, vec![1, 3, 4, 5]));
    let body = msg(9);
    let uids = b
        .append(&[AppendMessage { bytes: &body, flags: Flags::EMPTY, keywords: vec![], internal_date: None }])
        .unwrap();
    assert_eq!(uids, vec![6]);
    b.close().unwrap();
    let ev = a.sync().unwrap();
    assert!(!ev.contains(&mailbox::mailbox::Event::UidValidityChanged), "{ev:?}");
    assert_eq!(uid_list(&a), vec![1, 3, 4, 5, 6]);
    assert_eq!(env.open(&p).uids(), vec![1, 3, 4, 5, 6]);
}

#[test]
fn after_expunging_the_last_message_a_delivery_gets_the_same_uid_in_every_handle() {
    let env = Env::new();
    let p = env.path("spool");
    postfix_spool(&p, 4);
    let mut a = env.open(&p);
    a.store(seqno(4), StoreOp::Add, Flags::DELETED, &[]).unwrap();
    a.expunge(None).unwrap();
    let mut text = std::fs::read(&p).unwrap();
    text.extend_from_slice(b"From x@example.org  Mon Nov 23 04:00:00 2026\nSubject: new\n\none\n\n");
    std::fs::write(&p, text).unwrap();
    a.sync().unwrap();
    let b = env.open(&p);
    assert_eq!(uid_list(&a), vec![1, 2, 3, 5]);
    assert_eq!((b.uid_validity(), uid_list(&b)), (a.uid_validity(), uid_list(&a)));
}

#[test]
fn two_sessions_on_a_fresh_spool_agree_through_rewrites_and_deliveries() {
    let env = Env::new();
    let p = env.path("spool");
    postfix_spool(&p, 4);
    let mut a = env.open(&p);
    let mut b = env.open(&p);
    let mut text = std::fs::read(&p).unwrap();
    text.extend_from_slice(b"From x@example.org  Mon Nov 23 04:00:00 2026\nSubject: new 1\n\none\n\n");
    text.extend_from_slice(b"From y@example.org  Mon Nov 23 04:00:01 2026\nSubject: new 2\n\ntwo\n\n");
    std::fs::write(&p, text).unwrap();
    a.sync().unwrap();
    a.store(seqno(2), StoreOp::Add, Flags::DELETED, &[]).unwrap();
    a.store(seqno(6), StoreOp::Add, Flags::FLAGGED, &[]).unwrap();
    a.expunge(None).unwrap();
    let ev = b.sync().unwrap();
    assert!(ev.contains(&mailbox::mailbox::Event::Expunge(seqno(2))), "{ev:?}");
    assert_eq!(uid_list(&b), vec![1, 3, 4, 5, 6]);
    assert_eq!(uid_list(&a), uid_list(&b));
    assert!(b.info(seqno(5)).unwrap().flags.contains(Flags::FLAGGED));
    for seq in 1..=5 {
        assert_eq!(a.message(seqno(seq)).unwrap(), b.message(seqno(seq)).unwrap());
    }
    let c = env.open(&p);
    assert_eq!((c.uid_validity(), uid_list(&c)), (a.uid_validity(), vec![1, 3, 4, 5, 6]));
}
