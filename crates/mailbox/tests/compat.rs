//! On-disk compatibility: mailbox files as UW imapd, Postfix `local`, procmail,
//! mutt, alpine and MMDF delivery write them open unchanged, show what those
//! programs meant (UIDs, flags, keywords, dates, text), survive our rewrites with
//! every untouched octet in place, and what we write reads back the same.
//!
//! The fixtures are in `tests/fixtures/` (made by `gen.py` there). Expected text
//! comes from a second, deliberately simple reader in `common` (RFC 4155's
//! default splitting rule), not from the crate's scanner.

mod common;
use common::*;

use std::fs;
use std::path::{Path, PathBuf};

use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::fromline::InternalDate;
use mailbox::mailbox::{Mailbox, StoreOp};

const SEEN: Flags = Flags::SEEN;
const ANSWERED: Flags = Flags::ANSWERED;
const FLAGGED: Flags = Flags::FLAGGED;
const DELETED: Flags = Flags::DELETED;
const DRAFT: Flags = Flags::DRAFT;
const NONE: Flags = Flags::EMPTY;

/// How the internal date of a message is expected to come out.
#[derive(Debug, Clone, Copy)]
enum When {
    /// The From_ line names its zone: exactly this instant and offset.
    At(i64, i16),
    /// A From_ line without a zone is local time (c-client): the wall clock must
    /// read this, whatever the zone of the machine running the test.
    Local(i64),
    /// No From_ line at all (plain MMDF): when the file came to be (its birth
    /// time, or its modification time where the file system keeps none).
    FileBirth,
}

#[derive(Debug, Clone)]
struct Expect {
    uid: u32,
    flags: Flags,
    keywords: Vec<&'static str>,
    when: When,
    recent: bool,
}

fn e(
    uid: u32,
    flags: Flags,
    keywords: &'static [&'static str],
    when: When,
    recent: bool,
) -> Expect {
    Expect {
        uid,
        flags,
        keywords: keywords.to_vec(),
        when,
        recent,
    }
}

/// A fixed modification time for fixtures, in the past.
const FIXTURE_MTIME: i64 = 1_795_000_000;

/// The date a message without a From_ line gets: the file's birth time.
fn birth(p: &Path) -> i64 {
    let m = fs::metadata(p).unwrap();
    let t = m.created().or_else(|_| m.modified()).unwrap();
    t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn install_fixture(env: &Env, name: &str) -> PathBuf {
    let p = env.install(name, &fixture(name));
    set_mtime(&p, FIXTURE_MTIME);
    p
}

fn set_mtime(p: &Path, ts: i64) {
    let f = fs::OpenOptions::new().write(true).open(p).unwrap();
    f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(ts as u64))
        .unwrap();
}

fn keywords_of(mb: &Mailbox, seq: u32) -> Vec<String> {
    let k = mb.info(seqno(seq)).unwrap().keywords;
    mb.keywords()
        .names_of(k)
        .into_iter()
        .map(str::to_string)
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn check_date(got: InternalDate, when: When, what: &str) {
    match when {
        When::At(ts, off) => assert_eq!(
            got,
            InternalDate {
                timestamp: ts,
                offset_minutes: off
            },
            "{what}"
        ),
        When::Local(wall) => assert_eq!(
            got.timestamp + got.offset_minutes as i64 * 60,
            wall,
            "{what}: the wall clock of a zone-less From_ line is local time"
        ),
        When::FileBirth => panic!("{what}: FileBirth is resolved by cycle()"),
    }
}

/// The messages of a file as the reference reader sees them, without UW's
/// pseudo-message.
fn reference(file: &[u8], format: Format) -> Vec<RawMessage> {
    let all = split(file, format);
    let mut out: Vec<RawMessage> = Vec::new();
    for (i, m) in all.into_iter().enumerate() {
        if m.is_pseudo() {
            assert_eq!(i, 0, "a pseudo-message that is not first is a message");
            continue;
        }
        out.push(m);
    }
    out
}

/// Checks everything a client sees of an open mailbox against expectations and
/// the reference reading of `file`.
fn check_view(mb: &mut Mailbox, file: &[u8], format: Format, want: &[Expect], what: &str) {
    let msgs = reference(file, format);
    assert_eq!(
        msgs.len(),
        want.len(),
        "{what}: reference reader disagrees with the test"
    );
    assert_eq!(mb.count() as usize, want.len(), "{what}: message count");
    assert_eq!(
        uid_list(mb),
        want.iter().map(|w| w.uid).collect::<Vec<_>>(),
        "{what}: UIDs"
    );
    for (i, (w, m)) in want.iter().zip(&msgs).enumerate() {
        let seq = i as u32 + 1;
        let what = format!("{what}, message {seq} (UID {})", w.uid);
        let info = mb.info(seqno(seq)).unwrap();
        assert_eq!(info.flags, w.flags, "{what}: flags");
        assert_eq!(
            sorted(keywords_of(mb, seq)),
            sorted(w.keywords.iter().map(|s| s.to_string()).collect()),
            "{what}: keywords"
        );
        check_date(info.internal_date, w.when, &what);
        let whole = mb.message(seqno(seq)).unwrap();
        let header = mb.header(seqno(seq)).unwrap();
        let text = mb.text(seqno(seq)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&whole),
            String::from_utf8_lossy(&m.served()),
            "{what}: served text"
        );
        assert_eq!(
            [header.clone(), text].concat(),
            whole,
            "{what}: header + text"
        );
        assert_eq!(info.rfc822_size, whole.len() as u64, "{what}: RFC822.SIZE");
        assert_eq!(info.header_size, header.len() as u64, "{what}: header size");
        assert!(
            header.ends_with(b"\r\n\r\n"),
            "{what}: header ends with its blank line"
        );
        for line in header.split(|&b| b == b'\n') {
            assert!(
                !is_bookkeeping(line),
                "{what}: bookkeeping served: {line:?}"
            );
        }
        assert!(
            !crlf_is_broken(&whole),
            "{what}: served text has a bare LF or a doubled CR"
        );
        assert!(
            find(&whole, b"FOLDER INTERNAL DATA").is_none(),
            "{what}: the pseudo-message is never shown"
        );
    }
}

fn crlf_is_broken(s: &[u8]) -> bool {
    s.iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || s[i - 1] != b'\r'))
        || find(s, b"\r\r\n").is_some()
}

fn check_recent(mb: &Mailbox, want: &[Expect], what: &str) {
    let got: Vec<bool> = (1..=mb.count())
        .map(|s| mb.info(seqno(s)).unwrap().recent)
        .collect();
    let w: Vec<bool> = want.iter().map(|w| w.recent).collect();
    assert_eq!(
        got, w,
        "{what}: \\Recent (Status: O means some session had it)"
    );
}

/// Whether the message as found in the fixture is one our rewrite must copy octet
/// for octet: it already has its UID on disk and is marked old, and the session
/// does not change it.
fn stays_byte_identical(m: &RawMessage, touched: bool) -> bool {
    !touched
        && header_value(&m.text, "X-UID").is_some()
        && header_value(&m.text, "Status").is_some_and(|s| s.contains('O'))
}

/// The whole compatibility cycle for one fixture:
/// open and check; STORE on message 1 (\Flagged and a new keyword), \Deleted on
/// message 2 when there are three or more, EXPUNGE, close; then the file, as the
/// reference reader sees it, keeps every message octet outside the bookkeeping
/// fields (and untouched messages entirely), and reopens with the same view; and
/// copies into new mbox and MMDF files read back identically.
fn cycle(name: &str, format: Format, uid_validity: Option<u32>, want: &[Expect]) {
    let env = Env::new();
    let p = install_fixture(&env, name);
    let original = fs::read(&p).unwrap();
    let orig_msgs = reference(&original, format);
    let born = birth(&p);
    let want: Vec<Expect> = want
        .iter()
        .map(|w| {
            let mut w = w.clone();
            if let When::FileBirth = w.when {
                w.when = When::At(born, 0);
            }
            w
        })
        .collect();
    let want = &want[..];

    // A read-only open sees the same, and writes nothing.
    {
        let mut ro = env.open_read_only(&p);
        assert!(ro.is_read_only());
        assert_eq!(ro.format(), format, "{name}: format");
        check_view(
            &mut ro,
            &original,
            format,
            want,
            &format!("{name} read-only"),
        );
        drop(ro);
        assert_eq!(
            fs::read(&p).unwrap(),
            original,
            "{name}: a read-only open wrote"
        );
    }

    let mut mb = env.open(&p);
    assert!(!mb.is_read_only());
    assert_eq!(mb.format(), format);
    if let Some(uv) = uid_validity {
        assert_eq!(mb.uid_validity(), uv, "{name}: UIDVALIDITY from the file");
    }
    let uv = mb.uid_validity();
    assert!(uv.get() > 0);
    // The session may have written its UIDVALIDITY at open (a file no IMAP server
    // had seen); the view must be the same either way.
    let at_open = fs::read(&p).unwrap();
    check_view(&mut mb, &at_open, format, want, name);
    check_recent(&mb, want, name);
    assert!(mb.damage().is_empty(), "{name}: no damage in a good file");
    assert!(env.logged().is_empty(), "{name}: logged {:?}", env.logged());
    let uid_next = mb.uid_next().get();
    assert!(uid_next > want.last().map(|w| w.uid).unwrap_or(0));

    // The session's changes.
    let mut after: Vec<Expect> = want.to_vec();
    for w in &mut after {
        w.recent = false;
    }
    mb.store(seqno(1), StoreOp::Add, FLAGGED, &["Checked"]).unwrap();
    after[0].flags = after[0].flags.union(FLAGGED);
    after[0].keywords.push("Checked");
    let mut touched = vec![false; want.len()];
    touched[0] = true;
    if want.len() >= 3 {
        mb.store(seqno(2), StoreOp::Add, DELETED, &[]).unwrap();
        after[1].flags = after[1].flags.union(DELETED);
        touched[1] = true;
    }
    let doomed: Vec<bool> = after.iter().map(|w| w.flags.contains(DELETED)).collect();
    let expected_gone: Vec<u32> = {
        let mut v = Vec::new();
        let mut removed = 0;
        for (i, d) in doomed.iter().enumerate() {
            if *d {
                v.push(i as u32 + 1 - removed);
                removed += 1;
            }
        }
        v
    };
    let gone = mb.expunge(None).unwrap();
    assert_eq!(gone, expected_gone, "{name}: EXPUNGE responses");
    mb.close().unwrap();

    let kept: Vec<usize> = (0..want.len()).filter(|&i| !doomed[i]).collect();
    let after: Vec<Expect> = kept.iter().map(|&i| after[i].clone()).collect();

    // The file as another program would read it.
    let written = fs::read(&p).unwrap();
    let new_msgs = reference(&written, format);
    assert_eq!(
        new_msgs.len(),
        kept.len(),
        "{name}: messages on disk after the rewrite"
    );
    for (n, &i) in kept.iter().enumerate() {
        let (old, new) = (&orig_msgs[i], &new_msgs[n]);
        // Framing is kept; a plain MMDF message may gain a From_ line to hold its date.
        let gained_from_line = old.opening == b"\x01\x01\x01\x01\n"
            && new.opening.starts_with(&old.opening)
            && new.opening[old.opening.len()..].starts_with(b"From ");
        assert!(
            old.opening == new.opening || gained_from_line,
            "{name}: UID {}: framing kept: {:?} -> {:?}",
            want[i].uid,
            String::from_utf8_lossy(&old.opening),
            String::from_utf8_lossy(&new.opening)
        );
        assert_eq!(
            String::from_utf8_lossy(&strip_bookkeeping(&new.text)),
            String::from_utf8_lossy(&strip_bookkeeping(&old.text)),
            "{name}: UID {}: every octet but the bookkeeping kept",
            want[i].uid
        );
        if stays_byte_identical(old, touched[i] || want[i].recent) {
            assert_eq!(
                String::from_utf8_lossy(&new.text),
                String::from_utf8_lossy(&old.text),
                "{name}: UID {}: untouched message rewritten",
                want[i].uid
            );
        }
        assert_eq!(
            header_value(&new.text, "X-UID"),
            Some(want[i].uid.to_string()),
            "{name}: UID {} on disk",
            want[i].uid
        );
    }
    if format == Format::Mbox {
        let pseudo = split_mbox(&written);
        assert!(
            pseudo.first().is_some_and(RawMessage::is_pseudo),
            "{name}: we keep (or write) the pseudo-message first"
        );
    }

    // Reopen: the same view, minus \Recent.
    let mut again = env.open(&p);
    assert_eq!(again.uid_validity(), uv, "{name}: UIDVALIDITY kept");
    assert_eq!(again.uid_next().get(), uid_next, "{name}: UIDNEXT kept");
    check_view(
        &mut again,
        &written,
        format,
        &after,
        &format!("{name} reopened"),
    );
    check_recent(&again, &after, &format!("{name} reopened"));
    // A session that changes nothing writes nothing.
    again.close().unwrap();
    assert_eq!(
        fs::read(&p).unwrap(),
        written,
        "{name}: idle session rewrote the file"
    );

    // What we write (in either format) reads back the same.
    let mut src = env.open(&p);
    let seqs: Vec<_> = src.seq_numbers().collect();
    for dest_format in [Format::Mbox, Format::Mmdf] {
        let dest_path = env.create(&format!("copy.{}", dest_format.name()), dest_format);
        let mut dest = env.open(&dest_path);
        src.copy_to(&seqs, &mut dest).unwrap();
        dest.close().unwrap();
        let mut dest = env.open(&dest_path);
        let copied_file = fs::read(&dest_path).unwrap();
        let copied: Vec<Expect> = after
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let mut c = w.clone();
                c.uid = i as u32 + 1;
                c
            })
            .collect();
        let what = format!("{name} copied to {}", dest_format.name());
        check_view(&mut dest, &copied_file, dest_format, &copied, &what);
        for seq in 1..=src.count() {
            // Only `From ` quoting may differ: an mbox append quotes every body
            // line starting `From ` (as UW's does), MMDF none.
            let a = unquote(&src.message(seqno(seq)).unwrap());
            let b = unquote(&dest.message(seqno(seq)).unwrap());
            assert_eq!(
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b),
                "{what}: message {seq}"
            );
        }
    }
}

fn unquote(s: &[u8]) -> Vec<u8> {
    let t = String::from_utf8_lossy(s).replace("\r\n>From ", "\r\nFrom ");
    t.into_bytes()
}

#[test]
fn uw_imapd_mbox_with_pseudo_message() {
    cycle(
        "uw-pseudo.mbox",
        Format::Mbox,
        Some(1_795_000_000),
        &[
            e(
                2,
                SEEN.union(ANSWERED),
                &["$Forwarded"],
                When::At(1_795_105_800, -480),
                false,
            ),
            e(
                5,
                FLAGGED.union(DELETED),
                &["Project", "$Junk"],
                When::At(1_795_196_709, 0),
                false,
            ),
            e(7, DRAFT, &[], When::At(1_795_232_700, 330), true),
            e(9, SEEN, &[], When::At(1_795_404_599, -210), false),
        ],
    );
}

#[test]
fn uw_imapd_keeps_uid_state_and_keyword_order() {
    let env = Env::new();
    let p = install_fixture(&env, "uw-pseudo.mbox");
    let mb = env.open(&p);
    assert_eq!(mb.uid_next().get(), 10, "X-IMAP says the last UID is 9");
    assert_eq!(mb.keywords().names(), ["$Forwarded", "Project", "$Junk"]);
    assert_eq!(mb.recent_count(), 1);
    assert_eq!(mb.first_unseen(), Some(seqno(2)));
}

#[test]
fn uw_imapd_mbox_with_x_imapbase_in_first_message() {
    cycle(
        "uw-imapbase.mbox",
        Format::Mbox,
        Some(1_795_000_000),
        &[
            e(10, SEEN, &["Project"], When::At(1_795_105_800, -480), false),
            e(12, FLAGGED, &[], When::At(1_795_196_709, 0), false),
        ],
    );
    let env = Env::new();
    let p = install_fixture(&env, "uw-imapbase.mbox");
    let mb = env.open(&p);
    assert_eq!(mb.uid_next().get(), 13, "X-IMAPbase says the last UID is 12");
}

#[test]
fn postfix_local_delivery() {
    cycle(
        "postfix.mbox",
        Format::Mbox,
        None,
        &[
            e(1, NONE, &[], When::Local(utc(2026, 11, 23, 3, 6, 51)), true),
            e(2, NONE, &[], When::Local(utc(2026, 11, 23, 4, 0, 0)), true),
            e(3, NONE, &[], When::Local(utc(2026, 11, 24, 12, 0, 5)), true),
        ],
    );
}

/// Postfix keeps delivering into a file we rewrote: its next message (appended
/// with its own conventions) gets the next UID, and ours stay.
#[test]
fn postfix_delivers_after_our_rewrite() {
    let env = Env::new();
    let p = install_fixture(&env, "postfix.mbox");
    let mut mb = env.open(&p);
    let uids = uid_list(&mb);
    mb.store(seqno(1), StoreOp::Add, SEEN, &[]).unwrap();
    mb.close().unwrap();
    let delivery = b"From dave@example.in  Wed Nov 25 08:00:00 2026\n\
Return-Path: <dave@example.in>\n\
Delivered-To: bob@example.com\n\
Subject: one more\n\
\n\
>From Postfix with love.\n\
\n";
    let mut f = fs::OpenOptions::new().append(true).open(&p).unwrap();
    std::io::Write::write_all(&mut f, delivery).unwrap();
    drop(f);
    let mut mb = env.open(&p);
    assert_eq!(uid_list(&mb), [uids.clone(), vec![4]].concat());
    assert!(mb.info(seqno(1)).unwrap().flags.contains(SEEN));
    assert_eq!(
        mb.message(seqno(4)).unwrap(),
        crlf(
            &delivery["From dave@example.in  Wed Nov 25 08:00:00 2026\n".len()..delivery.len() - 1]
        )
    );
    assert!(mb.info(seqno(4)).unwrap().recent);
}

#[test]
fn procmail_delivery() {
    cycle(
        "procmail.mbox",
        Format::Mbox,
        None,
        &[
            e(1, NONE, &[], When::Local(utc(2026, 11, 22, 10, 0, 0)), true),
            e(2, NONE, &[], When::Local(utc(2026, 11, 22, 10, 5, 0)), true),
            e(
                3,
                NONE,
                &[],
                When::Local(utc(2026, 11, 22, 10, 10, 0)),
                true,
            ),
        ],
    );
}

/// A message stored with CRLF line ends is served without doubled CRs and
/// counted as it is served.
#[test]
fn procmail_crlf_message_is_served_as_stored() {
    let env = Env::new();
    let p = install_fixture(&env, "procmail.mbox");
    let mut mb = env.open_read_only(&p);
    let want: &[u8] = b"From: Grace <grace@example.com>\r\nTo: dev@lists.example.org\r\n\
Subject: [dev] written on a CRLF system\r\n\r\nLine one.\r\nLine two.\r\n";
    assert_eq!(mb.message(seqno(2)).unwrap(), want);
    assert_eq!(mb.info(seqno(2)).unwrap().rfc822_size, want.len() as u64);
    assert_eq!(mb.text(seqno(2)).unwrap(), b"Line one.\r\nLine two.\r\n");
}

#[test]
fn mutt_rewritten_mailbox() {
    cycle(
        "mutt.mbox",
        Format::Mbox,
        None,
        &[
            e(
                1,
                SEEN.union(ANSWERED),
                &[],
                When::Local(utc(2026, 11, 18, 14, 20, 0)),
                false,
            ),
            e(
                2,
                FLAGGED,
                &[],
                When::Local(utc(2026, 11, 18, 15, 0, 0)),
                false,
            ),
            e(3, NONE, &[], When::Local(utc(2026, 11, 19, 7, 0, 0)), true),
        ],
    );
}

/// mutt's Content-Length and Lines are message fields like any other: shown,
/// counted, kept; a wrong Content-Length does not move a message boundary.
#[test]
fn mutt_content_length_is_shown_and_ignored() {
    let env = Env::new();
    let p = install_fixture(&env, "mutt.mbox");
    let mut mb = env.open_read_only(&p);
    assert_eq!(mb.count(), 3);
    let h = String::from_utf8(mb.header(seqno(2)).unwrap()).unwrap();
    assert!(
        h.contains("\r\nContent-Length: 5\r\nLines: 1\r\n\r\n"),
        "{h}"
    );
    let t = String::from_utf8(mb.text(seqno(2)).unwrap()).unwrap();
    assert_eq!(
        t,
        "This Content-Length is wrong; the message ends at the next From_ line.\r\n\
>From quoted by mutt.\r\n"
    );
}

#[test]
fn alpine_mailbox_with_pseudo_message() {
    cycle(
        "alpine.mbox",
        Format::Mbox,
        Some(1_795_366_800),
        &[
            e(1, SEEN, &[], When::At(1_794_934_800, -480), false),
            e(3, NONE, &[], When::At(1_794_940_200, -480), false),
        ],
    );
}

#[test]
fn uw_mmdf_with_from_lines_and_extra_newline() {
    cycle(
        "uw.mmdf",
        Format::Mmdf,
        Some(1_795_000_000),
        &[
            e(
                2,
                SEEN.union(FLAGGED),
                &["Project"],
                When::At(1_795_105_800, -480),
                false,
            ),
            e(4, NONE, &[], When::At(1_795_196_709, 0), false),
        ],
    );
    // The newline UW adds before the closing delimiter is part of the message
    // (conformance README, deviation 5): read as UW reads it.
    let env = Env::new();
    let p = install_fixture(&env, "uw.mmdf");
    let mut mb = env.open_read_only(&p);
    assert!(mb.text(seqno(2)).unwrap().ends_with(b"Second.\r\n\r\n"));
    assert!(mb.text(seqno(1)).unwrap().starts_with(b"From the top"));
}

#[test]
fn plain_mmdf_without_from_lines() {
    cycle(
        "plain.mmdf",
        Format::Mmdf,
        None,
        &[
            e(1, NONE, &[], When::FileBirth, true),
            e(2, NONE, &[], When::FileBirth, true),
        ],
    );
}

/// INTERNALDATE is fixed for the life of a message (RFC 3501 §2.3.3). A plain
/// MMDF message has no From_ line, so its date is the file's birth when first
/// seen; a rewrite must keep that date (by writing it a From_ line), not let it
/// drift with the file's times.
#[test]
fn plain_mmdf_internal_date_survives_a_rewrite() {
    let env = Env::new();
    let p = install_fixture(&env, "plain.mmdf");
    let born = birth(&p);
    let mut mb = env.open(&p);
    let d1 = mb.info(seqno(1)).unwrap().internal_date;
    assert_eq!(d1.timestamp, born);
    mb.store(seqno(1), StoreOp::Add, SEEN, &[]).unwrap();
    mb.close().unwrap();
    set_mtime(&p, FIXTURE_MTIME + 86_400);
    let mb = env.open(&p);
    assert_eq!(mb.info(seqno(1)).unwrap().internal_date, d1, "touched message");
    assert_eq!(mb.info(seqno(2)).unwrap().internal_date, d1, "untouched message");
    let written = fs::read(&p).unwrap();
    for m in split_mmdf(&written).iter().filter(|m| !m.is_pseudo()) {
        assert!(m.opening.starts_with(b"\x01\x01\x01\x01\nFrom "), "{m:?}");
    }
}

#[test]
fn from_line_variants() {
    let pst = |h: i64, m: i64, s: i64| When::At(utc(2026, 11, 23, h, m, s) + 8 * 3600, -480);
    let local = |h: i64, m: i64, s: i64| When::Local(utc(2026, 11, 23, h, m, s));
    let want: Vec<Expect> = [
        local(3, 6, 51),                                 // ctime, no zone
        local(3, 6, 0),                                  // no seconds
        pst(3, 6, 51),                                   // UW: zone after year
        pst(3, 6, 0),                                    // no seconds, zone after year
        pst(3, 6, 51),                                   // numeric zone before year
        pst(3, 6, 51),                                   // SysV: zone name before year
        pst(3, 6, 0),                                    // SysV without seconds
        pst(3, 6, 51),                                   // emacs: zone name after year
        When::At(utc(2026, 11, 23, 11, 6, 51), 0),       // GMT, remote from
        local(3, 6, 51),                                 // uucp bang path, remote from
        When::At(utc(2026, 11, 2, 3, 6, 51) - 3600, 60), // space-padded day
        local(3, 6, 51),                                 // Postfix's two spaces
        When::At(utc(2026, 11, 23, 11, 6, 51), 0),       // UTC after year
    ]
    .into_iter()
    .enumerate()
    .map(|(i, w)| e(i as u32 + 1, NONE, &[], w, true))
    .collect();
    cycle("from-lines.mbox", Format::Mbox, None, &want);
}

/// Body lines that start `From ` but are no From_ line stay in their message, in
/// mbox files written by others and in what we write.
#[test]
fn from_lookalikes_do_not_split_messages() {
    let env = Env::new();
    let p = install_fixture(&env, "postfix.mbox");
    let mut mb = env.open_read_only(&p);
    let t = String::from_utf8(mb.text(seqno(1)).unwrap()).unwrap();
    assert!(t.contains("\r\n>From what I hear"), "{t}");
    assert!(
        t.contains("\r\n>>From a quoted quote.\r\nFrom here on nothing"),
        "{t}"
    );
    let h = String::from_utf8(mb.header(seqno(3)).unwrap()).unwrap();
    assert!(
        h.contains("Subject: Status: RO is not a status field here\r\n"),
        "{h}"
    );
    assert!(
        h.contains("X-Status-Report: a field that only starts like X-Status\r\n"),
        "{h}"
    );
}

// ---- The UW conformance corpus (tests/conformance/, see its README.md). ----

const HOST: &str = "mail.example.org";
const CORPUS_UIDVALIDITY: u32 = 1_704_067_200;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance")
}

fn corpus(name: &str) -> Vec<u8> {
    let p = corpus_dir().join(name);
    fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Replaces the corpus's normalisation tokens in a mailbox file with plausible
/// values, only where the README says they stand.
fn denormalise(file: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(file.len());
    for line in file.split_inclusive(|&b| b == b'\n') {
        let l = String::from_utf8_lossy(line);
        let fixed = if l == "From MAILER-DAEMON NOW\n" {
            "From MAILER-DAEMON Mon Jan 29 10:00:00 2024\n".to_string()
        } else if l == "Date: NOW\n" {
            "Date: Mon, 29 Jan 2024 10:00:00 +0000\n".to_string()
        } else if l == "Message-ID: <NOW@HOSTNAME>\n" {
            format!("Message-ID: <1706522400@{HOST}>\n")
        } else if l == "From: Mail System Internal Data <MAILER-DAEMON@HOSTNAME>\n" {
            format!("From: Mail System Internal Data <MAILER-DAEMON@{HOST}>\n")
        } else if let Some(rest) = l.strip_prefix("X-IMAP: UIDVALIDITY ") {
            format!("X-IMAP: {CORPUS_UIDVALIDITY:010} {rest}")
        } else if let Some(rest) = l.strip_prefix("From uwtest@HOSTNAME ") {
            format!("From uwtest@{HOST} {rest}")
        } else {
            out.extend_from_slice(line);
            continue;
        };
        out.extend_from_slice(fixed.as_bytes());
    }
    out
}

/// What ipop3d said: STAT, and per message (UID, LIST size).
struct Pop3 {
    count: usize,
    total: u64,
    uids: Vec<u32>,
    sizes: Vec<u64>,
}

fn pop3_answers(name: &str) -> Pop3 {
    let text = String::from_utf8(corpus(name)).unwrap();
    let section = |cmd: &str| -> Vec<String> {
        let start = text.find(&format!("C: {cmd}\r\n")).unwrap() + cmd.len() + 5;
        let rest = &text[start..];
        let end = rest.find("\r\nC: ").unwrap_or(rest.len());
        rest[..end].split("\r\n").map(str::to_string).collect()
    };
    let stat = section("STAT");
    let mut w = stat[0].split_whitespace().skip(1);
    let count: usize = w.next().unwrap().parse().unwrap();
    let total: u64 = w.next().unwrap().parse().unwrap();
    let pairs = |cmd: &str| -> Vec<(usize, String)> {
        section(cmd)[1..]
            .iter()
            .take_while(|l| *l != ".")
            .map(|l| {
                let (n, v) = l.split_once(' ').unwrap();
                (n.parse().unwrap(), v.to_string())
            })
            .collect()
    };
    let uidl = pairs("UIDL");
    let list = pairs("LIST");
    for (i, ((a, _), (b, _))) in uidl.iter().zip(&list).enumerate() {
        assert_eq!((*a, *b), (i + 1, i + 1));
    }
    Pop3 {
        count,
        total,
        uids: uidl
            .iter()
            .map(|(_, v)| {
                let hex = v.strip_prefix("UIDVALIDITY").expect("normalised UIDL");
                u32::from_str_radix(hex, 16).unwrap()
            })
            .collect(),
        sizes: list.iter().map(|(_, v)| v.parse().unwrap()).collect(),
    }
}

/// UW's ipop3d counts a `Status: RO` / `Status:  O` line it inserts (README,
/// deviation 6); the stored message has none, so we do not count it.
const UW_POP3_STATUS_LINE: u64 = 12;

/// The flags each message had when the session ended, from replaying the STORE
/// commands of `mbox-after.uw`, checked against every FETCH FLAGS answer there,
/// and the UIDs left after its EXPUNGE.
fn flags_after(uw: &str) -> Vec<(u32, Flags, Vec<String>)> {
    let text = String::from_utf8(corpus(uw)).unwrap();
    let mut state: Vec<(u32, Flags, Vec<String>)> = Vec::new();
    let mut expunged = Vec::new();
    let parse_list = |s: &str| -> (Flags, Vec<String>) {
        let inner = s.trim().trim_start_matches('(').trim_end_matches(')');
        let mut f = Flags::EMPTY;
        let mut k = Vec::new();
        for w in inner.split_whitespace() {
            if w.eq_ignore_ascii_case("\\Recent") {
                continue;
            }
            match Flags::from_imap_name(w) {
                Some(x) => f.insert(x),
                None => k.push(w.to_string()),
            }
        }
        (f, k)
    };
    for line in text.split("\r\n") {
        if let Some(rest) = line.strip_prefix("C: ") {
            let mut words = rest.splitn(3, ' ');
            let _tag = words.next();
            let cmd = words.next().unwrap_or("");
            let args = words.next().unwrap_or("");
            if cmd.eq_ignore_ascii_case("APPEND") {
                let n = state.len() as u32 + 1;
                state.push((n, Flags::EMPTY, Vec::new()));
            } else if cmd.eq_ignore_ascii_case("STORE") {
                let (set, rest) = args.split_once(' ').unwrap();
                let (item, list) = rest.split_once(' ').unwrap();
                let (f, k) = parse_list(list);
                let seqs: Vec<usize> = match set.split_once(':') {
                    Some((a, b)) => (a.parse().unwrap()..=b.parse().unwrap()).collect(),
                    None => vec![set.parse().unwrap()],
                };
                for s in seqs {
                    let m = &mut state[s - 1];
                    match item
                        .trim_end_matches(".SILENT")
                        .to_ascii_uppercase()
                        .as_str()
                    {
                        "+FLAGS" => {
                            m.1 = m.1.union(f);
                            for x in &k {
                                if !m.2.contains(x) {
                                    m.2.push(x.clone());
                                }
                            }
                        }
                        "-FLAGS" => {
                            m.1 = m.1.difference(f);
                            m.2.retain(|x| !k.contains(x));
                        }
                        "FLAGS" => {
                            m.1 = f;
                            m.2 = k.clone();
                        }
                        other => panic!("unexpected STORE item {other}"),
                    }
                }
            }
        } else if let Some(rest) = line.strip_prefix("* ") {
            let (n, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            if let Some(list) = rest.strip_prefix("FETCH (FLAGS ") {
                let (f, mut k) = parse_list(list.trim_end_matches(')'));
                let n: usize = n.parse().unwrap();
                let mut mine = state[n - 1].2.clone();
                mine.sort();
                k.sort();
                assert_eq!(
                    (state[n - 1].1, mine),
                    (f, k),
                    "{uw}: replay of message {n}"
                );
            } else if rest == "EXPUNGE" {
                expunged.push(n.parse::<usize>().unwrap());
            }
        }
    }
    for n in expunged {
        state.remove(n - 1);
    }
    state
}

/// The corpus message for a UID: UIDs were given in APPEND order, which is the
/// order of `messages/NNN.eml`.
fn corpus_messages() -> Vec<Vec<u8>> {
    let mut names: Vec<PathBuf> = fs::read_dir(corpus_dir().join("messages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    names.sort();
    names.iter().map(|p| fs::read(p).unwrap()).collect()
}

/// A corpus message as UW's store keeps and serves it: CRs dropped, NUL as 0x80,
/// lines starting `From ` quoted in mbox, Ctrl-A octets dropped in MMDF, CRLF
/// on the wire; UW's MMDF append adds
/// one newline before the closing delimiter (README, deviation 5).
fn stored_then_served(eml: &[u8], format: Format) -> Vec<u8> {
    let mut lf: Vec<u8> = eml
        .iter()
        .filter(|&&b| b != b'\r')
        .map(|&b| if b == 0 { 0x80 } else { b })
        .collect();
    if !lf.ends_with(b"\n") {
        lf.push(b'\n');
    }
    let mut out = Vec::with_capacity(lf.len() + 64);
    for line in lf.split_inclusive(|&b| b == b'\n') {
        match format {
            Format::Mbox if line.starts_with(b"From ") => out.push(b'>'),
            // UW's MMDF store drops every Ctrl-A (089, 097), so that no line of a
            // message can be taken for a delimiter.
            Format::Mmdf => {
                out.extend(line.iter().filter(|&&b| b != 1));
                continue;
            }
            _ => {}
        }
        out.extend_from_slice(line);
    }
    if format == Format::Mmdf {
        out.push(b'\n');
    }
    crlf(&out)
}

fn conformance_file(name: &str, pop3: &str, format: Format) {
    let env = Env::new();
    let file = denormalise(&corpus(name));
    let p = env.install(name, &file);
    let mut mb = env.open(&p);
    assert_eq!(mb.format(), format);
    assert!(mb.damage().is_empty(), "{:?}", env.logged());
    assert_eq!(mb.uid_validity(), CORPUS_UIDVALIDITY);
    assert_eq!(mb.uid_next().get(), 66, "{name}: X-IMAP last UID 65");
    assert_eq!(mb.keywords().names(), ["$Forwarded", "Project"]);

    let pop = pop3_answers(pop3);
    assert_eq!(mb.count() as usize, pop.count, "{name}: STAT count");
    assert_eq!(uid_list(&mb), pop.uids, "{name}: UIDL");
    let sizes: Vec<u64> = (1..=mb.count())
        .map(|s| mb.info(seqno(s)).unwrap().rfc822_size)
        .collect();
    let want: Vec<u64> = pop.sizes.iter().map(|s| s - UW_POP3_STATUS_LINE).collect();
    assert_eq!(sizes, want, "{name}: LIST sizes less UW's Status line");
    assert_eq!(
        sizes.iter().sum::<u64>(),
        pop.total - UW_POP3_STATUS_LINE * pop.count as u64,
        "{name}: STAT octets"
    );

    let flags = flags_after(&name.replace(".mbox", ".uw").replace(".mmdf", ".uw"));
    let emls = corpus_messages();
    assert_eq!(flags.len(), mb.count() as usize);
    for (i, (uid, f, k)) in flags.iter().enumerate() {
        let seq = i as u32 + 1;
        let info = mb.info(seqno(seq)).unwrap();
        assert_eq!(info.uid, *uid, "{name}: seq {seq}");
        assert_eq!(info.flags, *f, "{name}: UID {uid} flags");
        assert!(!info.recent, "{name}: UID {uid}: Status O, not recent");
        assert_eq!(
            sorted(keywords_of(&mb, seq)),
            sorted(k.clone()),
            "{name}: UID {uid} keywords"
        );
        let served = mb.message(seqno(seq)).unwrap();
        let want = stored_then_served(&emls[*uid as usize - 1], format);
        assert_eq!(
            String::from_utf8_lossy(&served),
            String::from_utf8_lossy(&want),
            "{name}: UID {uid} text"
        );
        assert_eq!(info.rfc822_size, served.len() as u64);
    }

    // The three RETRs of the POP3 session, less UW's Status line.
    let text = corpus(pop3);
    for n in [1u32, 54, 63] {
        let cmd = format!("C: RETR {n}\r\n");
        let at = find(&text, cmd.as_bytes()).unwrap() + cmd.len();
        let reply = &text[at..];
        let data_at = find(reply, b"\r\n").unwrap() + 2;
        let end = find(&reply[data_at..], b"\r\n.\r\n").unwrap() + 2;
        let mut data = reply[data_at..data_at + end].to_vec();
        let status = find(&data, b"\r\nStatus: ").unwrap() + 2;
        data.drain(status..status + UW_POP3_STATUS_LINE as usize);
        // POP3 dot-stuffing.
        let data = String::from_utf8_lossy(&data).replace("\r\n..", "\r\n.");
        let served = mb.message(seqno(n)).unwrap();
        assert_eq!(String::from_utf8_lossy(&served), data, "{name}: RETR {n}");
    }

    // Nothing changed: nothing written (UW left every message Status: O).
    mb.close().unwrap();
    assert_eq!(
        fs::read(&p).unwrap(),
        file,
        "{name}: idle session rewrote UW's file"
    );

    // A STORE and an EXPUNGE: the other messages keep every octet.
    let mut mb = env.open(&p);
    let before = snapshot(&mut mb);
    mb.store(seqno(5), StoreOp::Add, DELETED, &[]).unwrap();
    mb.store(seqno(10), StoreOp::Replace, SEEN, &["Reviewed"]).unwrap();
    assert_eq!(mb.expunge(None).unwrap(), vec![5]);
    mb.close().unwrap();
    let written = fs::read(&p).unwrap();
    let old = reference(&file, format);
    let new = reference(&written, format);
    assert_eq!(new.len(), old.len() - 1);
    for (i, o) in old.iter().enumerate() {
        if i == 4 {
            continue;
        }
        let n = &new[if i < 4 { i } else { i - 1 }];
        if i == 9 {
            assert_eq!(strip_bookkeeping(&n.text), strip_bookkeeping(&o.text));
        } else {
            assert_eq!(n, o, "{name}: message {} changed on disk", i + 1);
        }
    }
    let mut mb = env.open(&p);
    let mut want = before;
    want.remove(4);
    want[8].1 = SEEN;
    want[8].2 = vec!["Reviewed".into()];
    assert_eq!(snapshot(&mut mb), want);
}

#[test]
fn uw_conformance_mbox_after_session() {
    conformance_file("mbox-after.mbox", "pop3.uw", Format::Mbox);
}

#[test]
fn uw_conformance_mmdf_after_session() {
    conformance_file("mmdf-after.mmdf", "pop3-mmdf.uw", Format::Mmdf);
}

/// 087 has body lines `From `, `>From ` and a full From_ lookalike: UW stored
/// it quoted (RFC822.SIZE 454 -> 456), and it is one message, not two.
#[test]
fn uw_conformance_from_lines_in_body() {
    let env = Env::new();
    let file = denormalise(&corpus("mbox-after.mbox"));
    let p = env.install("c.mbox", &file);
    let mut mb = env.open_read_only(&p);
    let emls = corpus_messages();
    let uid = 1 + emls
        .iter()
        .position(|m| find(m, b"\nFrom ").is_some())
        .unwrap() as u32;
    let seq = mb.seq_of_uid(common::uid(uid)).unwrap();
    let m = mb.message(seq).unwrap();
    assert!(find(&m, b"\r\n>From ").is_some());
    assert_eq!(
        m.len(),
        crlf(&emls[uid as usize - 1]).len() + count_from_lines(&emls[uid as usize - 1])
    );
}

fn count_from_lines(eml: &[u8]) -> usize {
    eml.split(|&b| b == b'\n')
        .filter(|l| l.starts_with(b"From "))
        .count()
}
