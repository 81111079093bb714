//! The maildrop under other writers: mail delivered by an MTA during a POP
//! session (crates/mailbox/tests/support/deliver.py: dot-lock + POSIX lock,
//! append) is not shown and survives the update; a message expunged by an IMAP
//! session meanwhile is reported as gone; a file rewritten with new UIDs makes
//! the update refuse rather than delete by stale UIDs.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use mailbox::flags::Flags;
use mailbox::mailbox::{Mode, StoreOp};
use pop::{Error, MailSettings, Maildrop};
use support::*;

fn deliver_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mailbox/tests/support/deliver.py")
}

fn have_python() -> bool {
    Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status()
        .is_ok_and(|s| s.success())
}

fn deliver(path: &Path, first: u32, count: u32, pause: &str) -> std::process::Child {
    Command::new("python3")
        .arg(deliver_script())
        .arg(path)
        .arg(first.to_string())
        .arg(count.to_string())
        .arg(pause)
        .spawn()
        .unwrap()
}

fn store(f: &Fixture) -> mailbox::store::Store {
    let host = f.host(vec![]);
    MailSettings::new(&f.config, &host.account(USER)).store(pop::maildrop::no_log())
}

fn subjects(f: &Fixture) -> Vec<String> {
    f.contents(USER).into_iter().map(|(s, _)| s).collect()
}

#[test]
fn mail_delivered_during_the_session_is_not_shown_and_survives_the_update() {
    if !have_python() {
        testkit::skip("mail_delivered_during_the_session_is_not_shown_and_survives_the_update", "python3 is needed for deliver.py");
        return;
    }
    let f = Fixture::new();
    f.write_mbox(USER, &[M1, M2]);
    let store = store(&f);
    let mut drop = Maildrop::open(&store, "INBOX").unwrap();
    assert_eq!(drop.len(), 2);
    let first = drop.retrieve(1).unwrap();
    assert_eq!(first, crlf(M1).into_bytes());

    assert!(deliver(&f.spool(USER), 1, 3, "0").wait().unwrap().success());
    // Reading notices the grown file, but the session's view does not change.
    let second = drop.retrieve(2).unwrap();
    assert_eq!(second, crlf(M2).into_bytes());
    assert_eq!(drop.stat().0, 2);
    assert!(matches!(drop.entry(3), Err(Error::NoSuchMessage)));

    drop.delete(1).unwrap();
    drop.delete(2).unwrap();
    let update = drop.commit().unwrap();
    assert_eq!((update.deleted, update.remaining), (2, 0));
    assert_eq!(
        subjects(&f),
        ["delivered 1", "delivered 2", "delivered 3"],
        "only what this session deleted is gone"
    );
}

#[test]
fn deliveries_racing_the_update_are_never_lost() {
    if !have_python() {
        testkit::skip("deliveries_racing_the_update_are_never_lost", "python3 is needed for deliver.py");
        return;
    }
    let f = Fixture::new();
    let many: Vec<String> = (0..40)
        .map(|i| format!("From: x@example.org\nSubject: old {i}\n\nbody {i}\n"))
        .collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    f.write_mbox(USER, &refs);
    let store = store(&f);
    let mut drop = Maildrop::open(&store, "INBOX").unwrap();
    for n in 1..=drop.len() {
        drop.retrieve(n).unwrap();
        drop.delete(n).unwrap();
    }
    let mut mta = deliver(&f.spool(USER), 1, 30, "0.002");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let update = drop.commit().unwrap();
    assert_eq!(update.deleted, 40);
    assert!(mta.wait().unwrap().success());
    let left = subjects(&f);
    let want: Vec<String> = (1..=30).map(|i| format!("delivered {i}")).collect();
    assert_eq!(left, want);
}

#[test]
fn a_message_expunged_by_an_imap_session_meanwhile_is_gone_not_wrong() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1, M2, M3]);
    let store = store(&f);
    let mut drop = Maildrop::open(&store, "INBOX").unwrap();

    let mut imap = store.open("INBOX", Mode::ReadWrite).unwrap();
    imap.store(mailbox::uid::SeqNumber::new(2).unwrap(), StoreOp::Add, Flags::DELETED, &[]).unwrap();
    imap.expunge(None).unwrap();
    imap.close().unwrap();

    assert!(matches!(drop.retrieve(2), Err(Error::MessageVanished)));
    assert_eq!(drop.listed().map(|(n, _)| n).collect::<Vec<_>>(), [1, 3]);
    assert_eq!(drop.retrieve(3).unwrap(), crlf(M3).into_bytes());
    drop.delete(3).unwrap();
    drop.commit().unwrap();
    assert_eq!(f.contents(USER), [("one".to_string(), false)]);
}

#[test]
fn an_update_after_a_rewrite_with_new_uids_deletes_nothing() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1, M2]);
    let store = store(&f);
    let mut drop = Maildrop::open(&store, "INBOX").unwrap();
    drop.delete(1).unwrap();
    // Another program rewrites the file from scratch: UIDVALIDITY changes.
    let other = "From MAILER-DAEMON Mon Jan  1 10:00:00 2024\nSubject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\nX-IMAP: 1234567890 0000000002\n\ninternal\n\nFrom a@example.org Mon Jan  1 10:00:00 2024\nSubject: new one\nX-UID: 1\n\nx\n\nFrom a@example.org Mon Jan  1 10:00:00 2024\nSubject: new two\nX-UID: 2\n\ny\n\n";
    std::fs::write(f.spool(USER), other).unwrap();
    let err = drop.commit().unwrap_err();
    assert!(
        matches!(&err, Error::UpdateFailed(e) if matches!(**e, Error::MailboxChanged)),
        "{err:?}"
    );
    assert_eq!(subjects(&f), ["new one", "new two"]);
}

#[test]
fn seen_goes_only_to_retrieved_messages_and_rset_takes_it_back() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1, M2, M3]);
    let store = store(&f);
    let mut drop = Maildrop::open(&store, "INBOX").unwrap();
    drop.retrieve(1).unwrap();
    drop.reset();
    drop.retrieve(2).unwrap();
    drop.top(3).unwrap();
    assert_eq!(drop.last(), 3);
    let update = drop.commit().unwrap();
    assert_eq!((update.deleted, update.seen), (0, 1));
    let seen: Vec<bool> = f.contents(USER).into_iter().map(|(_, s)| s).collect();
    assert_eq!(seen, [false, true, false]);

    // LAST starts at the highest message already seen.
    let drop = Maildrop::open(&store, "INBOX").unwrap();
    assert_eq!(drop.last(), 2);
}

#[test]
fn mmdf_messages_appended_without_separator_keep_their_size() {
    // MMDF stores an APPENDed message as given (plus a final line end), so POP3
    // STAT, LIST and RETR give the size the client appended, not 2 more.
    let mut f = Fixture::new();
    f.config.set("new_mailbox_format", "mmdf").unwrap();
    std::fs::write(f.spool(USER), b"").unwrap();
    let store = store(&f);
    let forms: [&[u8]; 4] = [
        b"Subject: header only\r\n",
        b"Subject: no final line end",
        b"Subject: s\r\n\r\nbody\r\n",
        b"Subject: s\r\n\r\nbody",
    ];
    let msgs: Vec<mailbox::mailbox::AppendMessage> = forms
        .iter()
        .map(|b| mailbox::mailbox::AppendMessage {
            bytes: b,
            flags: Flags::EMPTY,
            keywords: Vec::new(),
            internal_date: None,
        })
        .collect();
    store.append("INBOX", &msgs).unwrap();
    assert!(std::fs::read(f.spool(USER)).unwrap().starts_with(b"\x01\x01\x01\x01\n"));
    let mut drop = Maildrop::open(&store, "INBOX").unwrap();
    let want: Vec<Vec<u8>> = forms
        .iter()
        .map(|b| {
            let mut v = b.to_vec();
            if !v.ends_with(b"\r\n") {
                v.extend_from_slice(b"\r\n");
            }
            v
        })
        .collect();
    assert_eq!(drop.stat(), (4, want.iter().map(|w| w.len() as u64).sum()));
    for (i, w) in want.iter().enumerate() {
        assert_eq!(drop.entry(i as u32 + 1).unwrap().size, w.len() as u64);
        assert_eq!(&drop.retrieve(i as u32 + 1).unwrap(), w);
    }
}
