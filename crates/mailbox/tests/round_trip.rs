//! Append, reopen, and everything a client saw is still there: bytes, flags,
//! keywords, UIDs, dates — for both formats.

mod common;
use common::*;

use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::mailbox::{AppendMessage, Event, Mailbox, Mode, StoreOp};

fn round_trip(format: Format) {
    let env = Env::new();
    let p = env.create("box", format);
    let mut mb = env.open(&p);
    assert_eq!(mb.count(), 0);
    let uv = mb.uid_validity();
    assert!(uv.get() > 0);
    let bodies: Vec<Vec<u8>> = (0..5).map(msg).collect();
    let msgs: Vec<AppendMessage> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| AppendMessage {
            bytes: b,
            flags: if i % 2 == 0 {
                Flags::SEEN
            } else {
                Flags::FLAGGED.union(Flags::ANSWERED)
            },
            keywords: if i == 3 {
                vec!["$Forwarded".into(), "Project".into()]
            } else {
                vec![]
            },
            internal_date: Some(date(1_700_000_000 + i as i64 * 3600, -480)),
        })
        .collect();
    let uids = mb.append(&msgs).unwrap();
    assert_eq!(uids, vec![1, 2, 3, 4, 5]);
    assert_eq!(mb.count(), 5);
    for (i, n) in (0..5).enumerate() {
        let seq = i as u32 + 1;
        assert_eq!(mb.message(seqno(seq)).unwrap(), served(n, format));
        let info = mb.info(seqno(seq)).unwrap();
        assert_eq!(info.rfc822_size, served(n, format).len() as u64);
        assert_eq!(
            info.internal_date,
            date(1_700_000_000 + i as i64 * 3600, -480)
        );
    }
    mb.store(seqno(2), StoreOp::Add, Flags::DELETED, &["Urgent"])
        .unwrap();
    mb.store(seqno(1), StoreOp::Remove, Flags::SEEN, &[]).unwrap();
    let before = snapshot(&mut mb);
    mb.close().unwrap();

    let mut again = env.open(&p);
    assert_eq!(again.uid_validity(), uv);
    assert_eq!(again.uid_next().get(), 6);
    assert_eq!(snapshot(&mut again), before);
    assert_eq!(again.format(), format);
    // Nothing is \Recent any more: the first session had them.
    assert_eq!(again.recent_count(), 0);
    let k = again.info(seqno(4)).unwrap().keywords;
    assert_eq!(again.keywords().names_of(k), ["$Forwarded", "Project"]);

    // Expunge keeps the UIDs of the others.
    let gone = again.expunge(None).unwrap();
    assert_eq!(gone, vec![2]);
    assert_eq!(uid_list(&again), vec![1, 3, 4, 5]);
    let after = snapshot(&mut again);
    again.close().unwrap();
    let mut third = env.open(&p);
    assert_eq!(snapshot(&mut third), after);
    assert_eq!(third.uid_next().get(), 6);
    // A new message after an expunge never reuses a UID.
    assert_eq!(append_plain(&mut third, 9), 6);
}

#[test]
fn mbox_round_trip() {
    round_trip(Format::Mbox);
}

#[test]
fn mmdf_round_trip() {
    round_trip(Format::Mmdf);
}

#[test]
fn file_is_what_uw_writes() {
    let env = Env::new();
    let p = env.create("box", Format::Mbox);
    let mut mb = env.open(&p);
    append_plain(&mut mb, 1);
    mb.close().unwrap();
    let text = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
    assert!(text.starts_with("From MAILER-DAEMON "), "{text}");
    assert!(text.contains("Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"));
    assert!(text.contains("\nX-IMAP: "));
    assert!(
        text.contains("\nFrom tester@test.example Tue Nov 14 23:13:21 2023 +0100\n"),
        "{text}"
    );
    assert!(text.contains("\nX-UID: 1\n"));
    assert!(text.contains("\n>From the start of a line.\n"));
    assert!(text.ends_with("Last line 1.\n\n"));
}

#[test]
fn appended_messages_are_recent_for_one_session_only() {
    let env = Env::new();
    let p = env.create("box", Format::Mbox);
    let mut a = env.open(&p);
    append_plain(&mut a, 1);
    let mut b = env.open(&p);
    let mut c = env.open(&p);
    let recent = a.recent_count() + b.recent_count() + c.recent_count();
    assert_eq!(recent, 1);
    append_plain(&mut b, 2);
    let ev_a = a.sync().unwrap();
    let ev_c = c.sync().unwrap();
    assert!(ev_a.contains(&Event::Exists(2)), "{ev_a:?}");
    assert!(ev_c.contains(&Event::Exists(2)));
    let recent2: Vec<bool> = [&a, &b, &c]
        .iter()
        .map(|m| m.info(seqno(2)).unwrap().recent)
        .collect();
    assert_eq!(recent2.iter().filter(|r| **r).count(), 1, "{recent2:?}");
}

#[test]
fn copy_between_formats_keeps_text_flags_keywords_and_dates() {
    let env = Env::new();
    let src_path = env.create("src", Format::Mbox);
    let dst_path = env.create("dst", Format::Mmdf);
    let mut src = env.open(&src_path);
    for n in 0..3 {
        append_plain(&mut src, n);
    }
    src.store(seqno(
        2),
        StoreOp::Add,
        Flags::FLAGGED.union(Flags::SEEN),
        &["$Label1"],
    )
    .unwrap();
    let mut dst = Mailbox::open(&dst_path, Mode::Append, &env.ctx).unwrap();
    let pairs = src.copy_to(&[seqno(1), seqno(2), seqno(3)], &mut dst).unwrap();
    assert_eq!(pairs, vec![(uid(1), uid(1)), (uid(2), uid(2)), (uid(3), uid(3))]);
    dst.close().unwrap();
    let mut dst = env.open(&dst_path);
    for seq in 1..=3 {
        // mbox quoted the From line on the way in; the quote is message text now.
        assert_eq!(dst.message(seqno(seq)).unwrap(), src.message(seqno(seq)).unwrap());
        assert_eq!(
            dst.info(seqno(seq)).unwrap().internal_date,
            src.info(seqno(seq)).unwrap().internal_date
        );
    }
    let info = dst.info(seqno(2)).unwrap();
    assert_eq!(info.flags, Flags::FLAGGED.union(Flags::SEEN));
    assert_eq!(dst.keywords().names_of(info.keywords), ["$Label1"]);
    assert!(std::fs::read(&dst_path)
        .unwrap()
        .starts_with(b"\x01\x01\x01\x01\n"));
}

#[test]
fn flag_changes_are_written_at_checkpoint_not_per_store() {
    let env = Env::new();
    let p = env.create("box", Format::Mbox);
    let mut mb = env.open(&p);
    append_plain(&mut mb, 1);
    mb.checkpoint().unwrap();
    let before = std::fs::read(&p).unwrap();
    for f in [Flags::SEEN, Flags::FLAGGED, Flags::ANSWERED] {
        mb.store(seqno(1), StoreOp::Add, f, &[]).unwrap();
    }
    assert_eq!(
        std::fs::read(&p).unwrap(),
        before,
        "STORE wrote to the file"
    );
    mb.checkpoint().unwrap();
    let after = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
    assert!(after.contains("Status: RO\nX-Status: FA\n"), "{after}");
    // The status block had room: the file kept its length (rewritten in place).
    assert_eq!(after.len(), before.len());
}

#[test]
fn copy_into_the_same_file_reads_first_and_keeps_everything() {
    for format in [Format::Mbox, Format::Mmdf] {
        let env = Env::new();
        let p = env.create("box", format);
        let mut src = env.open(&p);
        for n in 0..3 {
            append_plain(&mut src, n);
        }
        // A second handle on the same file as the destination: its write lock would
        // shut out reads made while it is held.
        let mut dst = Mailbox::open(&p, Mode::Append, &env.ctx).unwrap();
        let pairs = src.copy_to(&[seqno(1), seqno(3)], &mut dst).unwrap();
        assert_eq!(pairs, vec![(uid(1), uid(4)), (uid(3), uid(5))], "{format:?}");
        dst.close().unwrap();
        src.sync().unwrap();
        assert_eq!(uid_list(&src), vec![1, 2, 3, 4, 5]);
        assert_eq!(src.message(seqno(4)).unwrap(), src.message(seqno(1)).unwrap());
        assert_eq!(src.message(seqno(5)).unwrap(), src.message(seqno(3)).unwrap());
    }
}

#[test]
fn copy_of_a_message_expunged_meanwhile_writes_nothing() {
    let env = Env::new();
    let src_path = env.create("src", Format::Mbox);
    let dst_path = env.create("dst", Format::Mbox);
    let mut src = env.open(&src_path);
    for n in 0..3 {
        append_plain(&mut src, n);
    }
    src.checkpoint().unwrap();
    // Another session expunges message 3 after this one numbered it.
    let mut other = env.open(&src_path);
    other.store(seqno(3), StoreOp::Add, Flags::DELETED, &[]).unwrap();
    other.expunge(None).unwrap();
    other.close().unwrap();
    let before = std::fs::read(&dst_path).unwrap();
    let mut dst = Mailbox::open(&dst_path, Mode::Append, &env.ctx).unwrap();
    assert!(src.copy_to(&[seqno(1), seqno(2), seqno(3)], &mut dst).is_err());
    dst.close().unwrap();
    assert_eq!(std::fs::read(&dst_path).unwrap(), before);
    assert_eq!(env.open(&dst_path).count(), 0);
    let journals: Vec<_> = std::fs::read_dir(&env.ctx.state_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("journal"))
        .filter(|n| {
            // The journal file stays for the next rewrite; only a pending one counts.
            let head = std::fs::read(env.ctx.state_dir.join(n)).unwrap_or_default();
            !n.ends_with(".journal") || head.iter().take(8).any(|&b| b != 0)
        })
        .collect();
    assert!(journals.is_empty(), "{journals:?}");
}
