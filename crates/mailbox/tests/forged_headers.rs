//! Bookkeeping headers in delivered mail (`X-IMAP`, `X-IMAPbase`, `X-UID`) are hints,
//! never authority (issue 14): anyone can mail them, and an MTA delivers them as they
//! come. A UID or last UID that would exhaust or wrap the UID space counts for nothing
//! (the message gets the next UID); when the space is really used up, a new
//! UIDVALIDITY and every message renumbered (RFC 3501 §2.3.1.1), agreed by every
//! session. Each form, first and later in the file, in mbox and MMDF, and through
//! APPEND.

mod common;
use common::*;

use std::path::Path;

use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::mailbox::{AppendMessage, Event, Mailbox, Mode, StoreOp};

const FORMATS: [Format; 2] = [Format::Mbox, Format::Mmdf];

/// Writes messages (header lines, body) framed as an MTA delivers them.
fn delivered(path: &Path, format: Format, messages: &[(&str, &str)]) {
    let mut text = String::new();
    for (i, (header, body)) in messages.iter().enumerate() {
        let from = format!("From a@example.org  Mon Jan  1 00:00:{:02} 2024\n", i % 60);
        match format {
            Format::Mmdf => text.push_str(&format!("\x01\x01\x01\x01\n{from}{header}\n{body}\x01\x01\x01\x01\n")),
            _ => text.push_str(&format!("{from}{header}\n{body}\n")),
        }
    }
    std::fs::write(path, text).unwrap();
}

fn subjects(mb: &mut Mailbox) -> Vec<String> {
    (1..=mb.count())
        .map(|seq| {
            let h = String::from_utf8(mb.header(seqno(seq)).unwrap()).unwrap();
            h.lines()
                .find_map(|l| l.strip_prefix("Subject: "))
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

/// The reproduction of issue 14: all three messages had UID 4294967295, UIDNEXT was 0,
/// and a UID EXPUNGE of that UID took all three.
#[test]
fn forged_imapbase_and_uid_in_the_first_message_are_ignored() {
    for format in FORMATS {
        let env = Env::new();
        let p = env.path("inbox");
        delivered(
            &p,
            format,
            &[
                ("Subject: m1\nX-IMAPbase: 1 4294967295\nX-UID: 4294967295\n", "b\n"),
                ("Subject: m2\n", "b\n"),
                ("Subject: m3\n", "b\n"),
            ],
        );
        let mut a = env.open(&p);
        assert_eq!(uid_list(&a), vec![1, 2, 3], "{format:?}");
        assert_eq!(a.uid_next().get(), 4);
        assert_ne!(a.uid_validity(), 0);
        let mut b = Mailbox::open(&p, Mode::ReadOnly, &env.ctx).unwrap();
        assert_eq!((b.uid_validity(), uid_list(&b)), (a.uid_validity(), vec![1, 2, 3]));
        // Expunging one message by UID expunges that one only.
        a.store(seqno(2), StoreOp::Add, Flags::DELETED, &[]).unwrap();
        assert_eq!(a.expunge(Some(&[uid(2)])).unwrap(), vec![2]);
        assert_eq!(uid_list(&a), vec![1, 3]);
        assert_eq!(subjects(&mut a), ["m1", "m3"]);
        b.sync().unwrap();
        assert_eq!(uid_list(&b), vec![1, 3]);
        let uv = a.uid_validity();
        a.close().unwrap();
        let mut c = env.open(&p);
        assert_eq!((c.uid_validity(), uid_list(&c), c.uid_next().get()), (uv, vec![1, 3], 4));
        // New mail follows.
        assert_eq!(append_plain(&mut c, 4), 4);
    }
}

/// A pseudo-message whose `X-IMAP` leaves one UID: the messages after it cannot all
/// have one, so the mailbox gets a new UIDVALIDITY and is numbered from 1 — the same
/// in every session, and in the file after the next write.
#[test]
fn an_exhausting_x_imap_pseudo_message_renumbers_under_a_new_uidvalidity() {
    for format in FORMATS {
        let env = Env::new();
        let p = env.path("inbox");
        delivered(
            &p,
            format,
            &[
                (
                    "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\nX-IMAP: 12345 4294967294\n",
                    "x\n",
                ),
                ("Subject: m2\n", "b\n"),
                ("Subject: m3\n", "b\n"),
            ],
        );
        let mut a = env.open(&p);
        let uv = a.uid_validity();
        assert_ne!(uv, 12345, "{format:?}");
        assert_eq!((uid_list(&a), a.uid_next().get()), (vec![1, 2], 3));
        assert_eq!(subjects(&mut a), ["m2", "m3"]);
        let mut b = env.open(&p);
        assert_eq!((b.uid_validity(), uid_list(&b)), (uv, vec![1, 2]), "sessions agree");
        // The first write puts the new numbering in the file, whole.
        a.store(seqno(1), StoreOp::Add, Flags::SEEN, &[]).unwrap();
        a.checkpoint().unwrap();
        let text = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
        assert!(text.contains(&format!("X-IMAP: {uv:010} 0000000002")), "{text}");
        assert!(!text.contains("4294967294"), "{text}");
        assert_eq!(text.matches("\nX-UID: ").count(), 2, "{text}");
        assert!(b.sync().unwrap().iter().all(|e| *e != Event::UidValidityChanged));
        assert_eq!(uid_list(&b), vec![1, 2]);
        assert!(b.info(seqno(1)).unwrap().flags.contains(Flags::SEEN));
        a.close().unwrap();
        b.close().unwrap();
        let mut c = env.open(&p);
        assert_eq!((c.uid_validity(), uid_list(&c), c.uid_next().get()), (uv, vec![1, 2], 3));
        assert_eq!(append_plain(&mut c, 3), 3);
    }
}

/// Forged fields in a message that is not the first: `X-UID` beyond what the mailbox
/// has assigned, and `X-IMAPbase` / `X-IMAP` (even in a would-be pseudo-message) are
/// never the mailbox's; each message gets the next UID, and UIDVALIDITY stays.
#[test]
fn forged_fields_in_later_messages_are_ignored() {
    for format in FORMATS {
        let env = Env::new();
        let p = env.create("box", format);
        let mut a = env.open(&p);
        let uv = a.uid_validity();
        append_plain(&mut a, 1);
        a.close().unwrap();
        // Deliveries after it, as an MTA appends them.
        let mut tail = Vec::new();
        let later = [
            ("Subject: f1\nX-UID: 4294967295\n", "b\n"),
            ("Subject: f2\nX-IMAPbase: 1 4294967290\nX-UID: 4294967290\n", "b\n"),
            (
                "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\nX-IMAP: 99 4294967294\n",
                "x\n",
            ),
            ("Subject: f4\nX-UID: 3\n", "b\n"),
        ];
        let scratch = env.path("scratch");
        delivered(&scratch, format, &later);
        tail.extend(std::fs::read(&scratch).unwrap());
        let mut file = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        std::io::Write::write_all(&mut file, &tail).unwrap();
        drop(file);
        let mut b = env.open(&p);
        assert_eq!(b.uid_validity(), uv, "{format:?}");
        assert_eq!((uid_list(&b), b.uid_next().get()), (vec![1, 2, 3, 4, 5], 6));
        // A session that had it open before the delivery sees the same.
        a = env.open(&p);
        assert_eq!((a.uid_validity(), uid_list(&a)), (uv, vec![1, 2, 3, 4, 5]));
        assert_eq!(append_plain(&mut b, 6), 6);
        a.sync().unwrap();
        assert_eq!(uid_list(&a), vec![1, 2, 3, 4, 5, 6]);
        // And after a rewrite, in a new session.
        a.store(seqno(2), StoreOp::Add, Flags::FLAGGED, &[]).unwrap();
        a.close().unwrap();
        let c = env.open(&p);
        assert_eq!((c.uid_validity(), uid_list(&c), c.uid_next().get()), (uv, vec![1, 2, 3, 4, 5, 6], 7));
    }
}

/// A session with the mailbox open while the forged messages arrive numbers them as a
/// new session does.
#[test]
fn forged_fields_arriving_while_a_session_is_open_get_the_next_uids() {
    for format in FORMATS {
        let env = Env::new();
        let p = env.path("inbox");
        delivered(&p, format, &[("Subject: m1\n", "b\n")]);
        let mut a = env.open(&p);
        let uv = a.uid_validity();
        let scratch = env.path("scratch");
        delivered(
            &scratch,
            format,
            &[("Subject: m2\nX-IMAPbase: 7 4294967295\nX-UID: 4294967295\n", "b\n"), ("Subject: m3\nX-UID: 4294967294\n", "b\n")],
        );
        let tail = std::fs::read(&scratch).unwrap();
        let mut file = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        std::io::Write::write_all(&mut file, &tail).unwrap();
        drop(file);
        let events = a.sync().unwrap();
        assert!(!events.contains(&Event::UidValidityChanged), "{format:?}: {events:?}");
        assert_eq!((a.uid_validity(), uid_list(&a), a.uid_next().get()), (uv, vec![1, 2, 3], 4));
        let b = env.open(&p);
        assert_eq!((b.uid_validity(), uid_list(&b)), (uv, vec![1, 2, 3]));
    }
}

/// Through APPEND, the fields are removed from the message (so mail cannot forge
/// them), and the UIDs go on from the mailbox's own.
#[test]
fn appended_bookkeeping_fields_are_stripped() {
    for format in FORMATS {
        let env = Env::new();
        let p = env.create("box", format);
        let mut a = env.open(&p);
        let uv = a.uid_validity();
        let forged = [
            &b"X-IMAPbase: 1 4294967295\r\nX-UID: 4294967295\r\nSubject: a1\r\n\r\nb\r\n"[..],
            b"Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\r\nX-IMAP: 12345 4294967294\r\n\r\nx\r\n",
            b"Subject: a3\r\nX-UID: 2\r\nStatus: RO\r\n\r\nb\r\n",
        ];
        let messages: Vec<AppendMessage> = forged
            .iter()
            .map(|bytes| AppendMessage {
                bytes,
                flags: Flags::EMPTY,
                keywords: vec![],
                internal_date: None,
            })
            .collect();
        assert_eq!(a.append(&messages).unwrap(), vec![1, 2, 3], "{format:?}");
        assert_eq!(a.append(&messages[..1]).unwrap(), vec![4]);
        let text = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
        assert!(!text.contains("4294967295") && !text.contains("12345"), "{text}");
        a.close().unwrap();
        let b = env.open(&p);
        assert_eq!((b.uid_validity(), uid_list(&b), b.uid_next().get()), (uv, vec![1, 2, 3, 4], 5));
        assert!(!b.info(seqno(3)).unwrap().flags.contains(Flags::SEEN));
    }
}

/// A mailbox whose own `X-IMAP` (as another server wrote it) leaves fewer UIDs than an
/// APPEND needs: a new UIDVALIDITY, everything renumbered and written, then the new
/// messages; an open session learns that its UIDs changed.
#[test]
fn an_append_past_the_last_uid_renumbers_everything() {
    for format in FORMATS {
        let env = Env::new();
        let p = env.path("inbox");
        delivered(
            &p,
            format,
            &[
                (
                    "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\nX-IMAP: 12345 4294967293\n",
                    "x\n",
                ),
                ("Subject: m1\nX-UID: 4294967292\n", "b\n"),
                ("Subject: m2\nX-UID: 4294967293\n", "b\n"),
            ],
        );
        let mut watcher = env.open(&p);
        assert_eq!((watcher.uid_validity().get(), uid_list(&watcher)), (12345, vec![4294967292, 4294967293]));
        assert_eq!(watcher.uid_next().get(), 4294967294);
        let mut a = Mailbox::open(&p, Mode::Append, &env.ctx).unwrap();
        let two = [msg(3), msg(4)];
        let messages: Vec<AppendMessage> = two
            .iter()
            .map(|bytes| AppendMessage {
                bytes,
                flags: Flags::EMPTY,
                keywords: vec![],
                internal_date: None,
            })
            .collect();
        assert_eq!(a.append(&messages).unwrap(), vec![3, 4], "{format:?}");
        let uv = a.uid_validity();
        assert_ne!(uv, 12345);
        assert!(watcher.sync().unwrap().contains(&Event::UidValidityChanged));
        let mut b = env.open(&p);
        assert_eq!((b.uid_validity(), uid_list(&b), b.uid_next().get()), (uv, vec![1, 2, 3, 4], 5));
        assert_eq!(subjects(&mut b), ["m1", "m2", "message 3", "message 4"]);
        let text = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
        assert!(!text.contains("429496729"), "{text}");
    }
}

/// `X-IMAPbase` in the first message (UW without a pseudo-message, Dovecot) that
/// leaves too few UIDs: renumbered under a new UIDVALIDITY, and the first write puts a
/// pseudo-message in front and drops the old field.
#[test]
fn an_exhausting_x_imapbase_in_the_first_message_renumbers() {
    for format in FORMATS {
        let env = Env::new();
        let p = env.path("inbox");
        delivered(
            &p,
            format,
            &[
                ("Subject: m1\nX-IMAPbase: 5 4294967294\nX-UID: 4294967294\n", "b\n"),
                ("Subject: m2\n", "b\n"),
            ],
        );
        let mut a = env.open(&p);
        let uv = a.uid_validity();
        assert_ne!(uv, 5, "{format:?}");
        assert_eq!((uid_list(&a), a.uid_next().get()), (vec![1, 2], 3));
        a.store(seqno(2), StoreOp::Add, Flags::SEEN, &[]).unwrap();
        a.close().unwrap();
        let text = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
        assert!(!text.contains("X-IMAPbase") && !text.contains("4294967294"), "{text}");
        let b = env.open(&p);
        assert_eq!((b.uid_validity(), uid_list(&b)), (uv, vec![1, 2]));
    }
}
