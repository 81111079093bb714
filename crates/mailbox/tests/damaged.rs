//! Damaged mailbox files: each opens with what can be recovered, the session log
//! says what was skipped, and no rewrite destroys the damage — its octets stay in
//! the file, for a person (or a better tool) to look at, while the messages around
//! it stay readable.
//!
//! The damage is what crashes, full disks and careless tools leave: a last message
//! cut short, a file not ending in a newline, an MMDF message without its closing
//! delimiter, junk before the first message, runs of NUL octets (a file system
//! that extended a file but never wrote its blocks), a header without the blank
//! line, huge header lines; and files that are not mailboxes at all.

mod common;
use common::*;

use std::fs;
use std::path::PathBuf;

use mailbox::error::Error;
use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::mailbox::{Mailbox, Mode, StoreOp};

const D: &str = "\x01\x01\x01\x01\n";

/// One message as Postfix delivers it (LF, blank line after it), numbered `n`.
fn delivered(n: usize) -> String {
    format!(
        "From sender{n}@example.org  Mon Nov 23 03:0{}:51 2026\n\
         Return-Path: <sender{n}@example.org>\n\
         From: sender{n}@example.org\n\
         To: bob@example.com\n\
         Subject: message {n}\n\
         \n\
         Body of message {n}.\n\
         >From a quoted line.\n\
         \n",
        n % 10
    )
}

/// The same message in MMDF, as UW writes it (with a From_ line).
fn delivered_mmdf(n: usize) -> String {
    let m = delivered(n);
    format!("{D}{}{D}", m.strip_suffix('\n').unwrap())
}

/// A UW-style mbox: the pseudo-message and messages 1..=n with UIDs and status,
/// so that opening it writes nothing and the damage is first touched by a rewrite.
fn uw_file(n: usize) -> String {
    let mut s = String::from(
        "From MAILER-DAEMON Mon Nov 23 03:10:12 2026\n\
         Date: Mon, 23 Nov 2026 03:10:12 +0000\n\
         From: Mail System Internal Data <MAILER-DAEMON@mail.example.org>\n\
         Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n\
         Message-ID: <1795432212@mail.example.org>\n",
    );
    s += &format!("X-IMAP: 1795000000 {n:010}\nStatus: RO\n\nInternal data.\n\n");
    for i in 1..=n {
        s += &uw_message(i);
    }
    s
}

fn uw_message(i: usize) -> String {
    delivered(i).replacen(
        &format!("Subject: message {i}\n\n"),
        &format!(
            "Subject: message {i}\nStatus: O\nX-Status: \nX-Keywords:                 \nX-UID: {i}\n\n"
        ),
        1,
    )
}

/// What a damaged file must give.
struct Case<'a> {
    format: Format,
    file: Vec<u8>,
    /// The messages that must be recovered, by their `message N` subject.
    subjects: &'a [usize],
    /// Octet strings of damage that every rewrite must keep in the file.
    keep: &'a [&'a [u8]],
    /// What the log must mention.
    logged: &'a [&'a str],
}

fn subject_of(mb: &mut Mailbox, seq: u32) -> Option<usize> {
    let h = String::from_utf8_lossy(&mb.header(seqno(seq)).unwrap()).into_owned();
    let at = h.find("Subject: message ")? + "Subject: message ".len();
    h[at..].split("\r\n").next()?.parse().ok()
}

fn check_readable(mb: &mut Mailbox, subjects: &[usize], what: &str) {
    assert_eq!(
        mb.count() as usize,
        subjects.len(),
        "{what}: messages recovered"
    );
    for (i, &n) in subjects.iter().enumerate() {
        let seq = i as u32 + 1;
        assert_eq!(subject_of(mb, seq), Some(n), "{what}: message {seq}");
        let whole = mb.message(seqno(seq)).unwrap();
        let header = mb.header(seqno(seq)).unwrap();
        let text = mb.text(seqno(seq)).unwrap();
        assert_eq!([header, text].concat(), whole, "{what}: message {seq}");
        let info = mb.info(seqno(seq)).unwrap();
        assert_eq!(
            info.rfc822_size,
            whole.len() as u64,
            "{what}: size of {seq}"
        );
        assert!(
            find(&whole, b"\0").is_none(),
            "{what}: NULs served in {seq}"
        );
    }
}

fn has_all(file: &[u8], keep: &[&[u8]]) -> bool {
    keep.iter().all(|k| find(file, k).is_some())
}

/// Opens, checks what was recovered and logged; then a STORE on the last message,
/// \Deleted on the first and EXPUNGE (a rewrite of everything after the first
/// message), close; the damage is still in the file and the rest reads the same.
/// (No new keyword: one that does not fit the X-IMAP line makes a new
/// pseudo-message, which `garbage_*_new_pseudo_message` test on their own.)
fn run(case: Case, what: &str) -> (Env, PathBuf) {
    let env = Env::new();
    let p = env.install("box", &case.file);
    let mut mb = env.open(&p);
    assert_eq!(mb.format(), case.format, "{what}: format");
    check_readable(&mut mb, case.subjects, what);
    let log = env.logged().join("\n");
    for l in case.logged {
        assert!(log.contains(l), "{what}: log lacks {l:?}:\n{log}");
    }
    let file = fs::read(&p).unwrap();
    assert!(has_all(&file, case.keep), "{what}: damage lost at open");
    let texts: Vec<Vec<u8>> = (1..=mb.count()).map(|s| mb.text(seqno(s)).unwrap()).collect();

    let n = mb.count();
    assert!(n >= 2, "{what}: the test needs two messages");
    mb.store(seqno(n), StoreOp::Add, Flags::FLAGGED, &[]).unwrap();
    mb.store(seqno(1), StoreOp::Add, Flags::DELETED, &[]).unwrap();
    assert_eq!(mb.expunge(None).unwrap(), vec![1]);
    mb.close().unwrap();
    let file = fs::read(&p).unwrap();
    assert!(
        has_all(&file, case.keep),
        "{what}: damage lost by the rewrite:\n{}",
        String::from_utf8_lossy(&file)
    );

    let mut again = env.open(&p);
    check_readable(
        &mut again,
        &case.subjects[1..],
        &format!("{what}, reopened"),
    );
    let last = again.count();
    assert!(again.info(seqno(last)).unwrap().flags.contains(Flags::FLAGGED));
    for (i, t) in texts[1..].iter().enumerate() {
        let now = again.text(seqno(i as u32 + 1)).unwrap();
        assert!(
            now.starts_with(t) && now.len() <= t.len() + 2,
            "{what}: text of message {} changed:\n{:?}\n{:?}",
            i + 2,
            String::from_utf8_lossy(t),
            String::from_utf8_lossy(&now)
        );
    }
    again.close().unwrap();
    (env, p)
}

#[test]
fn truncated_last_message() {
    let cut = "From sender3@example.org  Mon Nov 23 03:03:51 2026\n\
               From: sender3@example.org\nSubject: message 3\n\nThe delivery was cut sh";
    let file = format!("{}{}{cut}", delivered(1), delivered(2));
    run(
        Case {
            format: Format::Mbox,
            file: file.into_bytes(),
            subjects: &[1, 2, 3],
            keep: &[b"\n\nThe delivery was cut sh"],
            logged: &["is cut short"],
        },
        "truncated last message",
    );
}

#[test]
fn truncated_in_the_header() {
    let cut = "From sender3@example.org  Mon Nov 23 03:03:51 2026\n\
               From: sender3@example.org\nSubject: message 3\nReceived: from mx.exa";
    let file = format!("{}{}{cut}", uw_file(2), "");
    run(
        Case {
            format: Format::Mbox,
            file: file.into_bytes(),
            subjects: &[1, 2, 3],
            keep: &[b"\nReceived: from mx.exa"],
            logged: &["is cut short"],
        },
        "truncated in the header",
    );
}

#[test]
fn file_ending_without_newline() {
    let mut file = uw_file(3);
    assert!(file.ends_with(".\n\n"));
    file.truncate(file.len() - 2);
    let (_env, p) = run(
        Case {
            format: Format::Mbox,
            file: file.into_bytes(),
            subjects: &[1, 2, 3],
            keep: &[b">From a quoted line."],
            logged: &["is cut short"],
        },
        "no final newline",
    );
    // Our rewrite ends the message properly.
    assert!(fs::read(p).unwrap().ends_with(b">From a quoted line.\n\n"));
}

#[test]
fn garbage_before_the_first_message() {
    let junk = "This is not mail.\nIt was here before the first delivery.\n\n";
    for (style, file) in [
        (
            "postfix",
            format!("{junk}{}{}{}", delivered(1), delivered(2), delivered(3)),
        ),
        ("uw", format!("{junk}{}", uw_file(3))),
    ] {
        run(
            Case {
                format: Format::Mbox,
                file: file.into_bytes(),
                subjects: &[1, 2, 3],
                keep: &[junk.as_bytes()],
                logged: &[&format!(
                    "skipped {} octets of garbage outside any message at offset 0",
                    junk.len()
                )],
            },
            &format!("garbage first ({style})"),
        );
    }
}

/// Thirty keywords do not fit the room left in the X-IMAP line: the session
/// writes a new pseudo-message.
fn define_many_keywords(env: &Env, p: &std::path::Path) {
    let mut mb = env.open(p);
    let many: Vec<String> = (0..30).map(|i| format!("Keyword{i:02}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    mb.store(seqno(1), StoreOp::Add, Flags::EMPTY, &many).unwrap();
    mb.close().unwrap();
}

/// Junk before the first message of a file no IMAP server had seen: our first
/// rewrite puts the new pseudo-message before it, and it must stay junk — also
/// when a later rewrite writes the pseudo-message anew.
#[test]
fn garbage_survives_a_new_pseudo_message() {
    let junk = "This is not mail.\nIt was here before the first delivery.\n\n";
    let file = format!("{junk}{}{}", delivered(1), delivered(2));
    let env = Env::new();
    let p = env.install("box", file.as_bytes());
    env.open(&p).close().unwrap();
    assert!(find(&fs::read(&p).unwrap(), junk.as_bytes()).is_some());
    define_many_keywords(&env, &p);
    let after = fs::read(&p).unwrap();
    assert!(
        find(&after, junk.as_bytes()).is_some(),
        "junk lost:\n{}",
        String::from_utf8_lossy(&after)
    );
    let mut mb = env.open(&p);
    check_readable(&mut mb, &[1, 2], "after the new pseudo-message");
    assert_eq!(mb.keywords().names().len(), 30);
}

/// Junk before UW's pseudo-message, and a rewrite that writes a new one: the
/// pseudo-message must stay hidden and the mailbox's UIDVALIDITY and UIDs intact,
/// in the session that wrote it and after.
#[test]
fn garbage_before_uw_pseudo_message_and_a_new_pseudo_message() {
    let junk = "This is not mail.\n\n";
    let env = Env::new();
    let p = env.install("box", format!("{junk}{}", uw_file(3)).as_bytes());
    let mut mb = env.open(&p);
    let many: Vec<String> = (0..30).map(|i| format!("Keyword{i:02}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    mb.store(seqno(1), StoreOp::Add, Flags::EMPTY, &many).unwrap();
    mb.checkpoint().unwrap();
    check_readable(
        &mut mb,
        &[1, 2, 3],
        "the session that wrote a new pseudo-message",
    );
    mb.store(seqno(2), StoreOp::Add, Flags::SEEN, &[]).unwrap();
    mb.close().unwrap();
    let after = fs::read(&p).unwrap();
    assert!(find(&after, junk.as_bytes()).is_some());
    assert!(find(&after, b"X-IMAP: 1795000000 0000000003 Keyword00").is_some());
    let mut mb = env.open(&p);
    check_readable(&mut mb, &[1, 2, 3], "after the new pseudo-message");
    assert_eq!(uid_list(&mb), [1, 2, 3]);
    assert_eq!(mb.uid_validity(), 1_795_000_000);
    assert_eq!(mb.keywords().names().len(), 30);
}

/// A crash on a file system with delayed allocation: the first delivery's blocks
/// read as NULs, and the rest of that message follows them.
#[test]
fn nul_run_at_the_start() {
    let mut file = vec![0u8; 4096];
    file.extend_from_slice(b"ge that was lost.\n\n");
    file.extend_from_slice(uw_file(3).as_bytes());
    run(
        Case {
            format: Format::Mbox,
            file,
            subjects: &[1, 2, 3],
            keep: &[&[0u8; 4096], b"ge that was lost.\n"],
            logged: &["skipped 4115 octets of NUL octets at offset 0"],
        },
        "NULs first",
    );
}

/// The NUL blocks end right where a message begins.
#[test]
fn nul_run_at_the_start_then_a_message() {
    let mut file = vec![0u8; 4096];
    file.extend_from_slice(delivered(1).as_bytes());
    file.extend_from_slice(delivered(2).as_bytes());
    run(
        Case {
            format: Format::Mbox,
            file,
            subjects: &[1, 2],
            keep: &[&[0u8; 4096]],
            logged: &["skipped 4096 octets of NUL octets at offset 0"],
        },
        "NULs, then a From_ line",
    );
}

/// A delivery lost in a crash (NULs where it should be), and the MTA's next
/// delivery appended right after them.
#[test]
fn nul_run_between_messages() {
    let mut file = uw_file(2).into_bytes();
    let at = file.len();
    file.extend_from_slice(&[0u8; 3000]);
    file.extend_from_slice(delivered(3).as_bytes());
    file.extend_from_slice(delivered(4).as_bytes());
    run(
        Case {
            format: Format::Mbox,
            file,
            subjects: &[1, 2, 3, 4],
            keep: &[&[0u8; 3000]],
            logged: &[&format!("skipped 3000 octets of NUL octets at offset {at}")],
        },
        "NULs between messages",
    );
}

/// What a crash leaves at the end: the file grew, its last blocks never written.
#[test]
fn nul_run_at_the_end() {
    let good = uw_file(3).into_bytes();
    let mut file = good.clone();
    file.extend_from_slice(&[0u8; 4096]);
    let (env, p) = run(
        Case {
            format: Format::Mbox,
            file: file.clone(),
            subjects: &[1, 2, 3],
            keep: &[&[0u8; 4096]],
            logged: &[&format!(
                "skipped 4096 octets of NUL octets at offset {}",
                good.len()
            )],
        },
        "NULs last",
    );
    // The message before the NULs is whole: not cut short, same text as without.
    let log = env.logged().join("\n");
    assert!(!log.contains("cut short"), "{log}");
    let env2 = Env::new();
    let clean = env2.install("clean", &good);
    let mut a = env2.open_read_only(&clean);
    let q = env.path("q");
    fs::write(&q, &file).unwrap();
    let mut b = env.open_read_only(&q);
    assert_eq!(snapshot(&mut a), snapshot(&mut b));
    // The next delivery after the NULs is found, by a session that was open and
    // by a new one.
    let mut open = env.open(&p);
    let mut f = fs::OpenOptions::new().append(true).open(&p).unwrap();
    std::io::Write::write_all(&mut f, delivered(4).as_bytes()).unwrap();
    drop(f);
    open.sync().unwrap();
    check_readable(&mut open, &[2, 3, 4], "delivery after NULs, open session");
    check_readable(
        &mut env.open(&p),
        &[2, 3, 4],
        "delivery after NULs, new session",
    );
}

#[test]
fn mmdf_nul_runs() {
    let mut file = vec![0u8; 2048];
    file.extend_from_slice(delivered_mmdf(1).as_bytes());
    file.extend_from_slice(&[0u8; 100]);
    file.extend_from_slice(delivered_mmdf(2).as_bytes());
    file.extend_from_slice(delivered_mmdf(3).as_bytes());
    file.extend_from_slice(&[0u8; 4096]);
    run(
        Case {
            format: Format::Mmdf,
            file,
            subjects: &[1, 2, 3],
            keep: &[&[0u8; 2048], &[0u8; 100], &[0u8; 4096]],
            logged: &["skipped 2048 octets of NUL octets at offset 0"],
        },
        "MMDF with NULs",
    );
}

#[test]
fn mmdf_message_without_closing_delimiter() {
    let mut file = format!("{}{}", delivered_mmdf(1), delivered_mmdf(2));
    let last = delivered_mmdf(3);
    file += last.strip_suffix(D).unwrap();
    let (_env, p) = run(
        Case {
            format: Format::Mmdf,
            file: file.into_bytes(),
            subjects: &[1, 2, 3],
            keep: &[b"Body of message 3.\n>From a quoted line.\n"],
            logged: &["is cut short"],
        },
        "MMDF without closing delimiter",
    );
    assert!(fs::read(p).unwrap().ends_with(D.as_bytes()));
}

#[test]
fn header_without_blank_line() {
    // Message 2 is all header and runs into the next From_ line; message 3's
    // header runs into its text with no blank line between them.
    let file = format!(
        "{}From sender2@example.org  Mon Nov 23 03:02:51 2026\n\
         From: sender2@example.org\nSubject: message 2\nTo: bob@example.com\n\
         From sender3@example.org  Mon Nov 23 03:03:51 2026\n\
         From: sender3@example.org\nSubject: message 3\nNo blank line before this text.\n\n\
         {}",
        delivered(1),
        delivered(4)
    );
    run(
        Case {
            format: Format::Mbox,
            file: file.into_bytes(),
            subjects: &[1, 2, 3, 4],
            keep: &[
                b"Subject: message 2\nTo: bob@example.com\n",
                b"No blank line before this text.\n",
            ],
            logged: &[],
        },
        "header without blank line",
    );
}

#[test]
fn empty_file() {
    for format in [Format::Mbox, Format::Mmdf] {
        let mut env = Env::new();
        env.ctx.default_format = format;
        let p = env.install("box", b"");
        let mut mb = env.open(&p);
        assert_eq!((mb.count(), mb.format()), (0, format));
        assert!(mb.damage().is_empty());
        assert!(env.logged().is_empty(), "{:?}", env.logged());
        let uv = mb.uid_validity();
        assert_eq!(mb.checkpoint().map(|_| ()).ok(), Some(()));
        mb.close().unwrap();
        let mb = env.open(&p);
        assert_eq!(
            (mb.count(), mb.format(), mb.uid_validity()),
            (0, format, uv)
        );
        let ro = Mailbox::open(&env.install("ro", b""), Mode::ReadOnly, &env.ctx).unwrap();
        assert_eq!(ro.count(), 0);
    }
}

#[test]
fn huge_header_lines() {
    // A 3 MiB header line (more than the scanner's window), a 20 KiB bookkeeping
    // line (longer than the scanner reads values of), a 2 KiB From_ lookalike.
    let huge = format!("X-Huge: {}\n", "a".repeat(3 << 20));
    let long_status = format!("X-Keywords: {}\n", "k".repeat(20 << 10));
    let long_from = format!("From {} Mon Nov 23 03:06:51 2026\n", "x".repeat(2048));
    let m2 = delivered(2).replacen("Subject:", &format!("{huge}Subject:"), 1);
    let m3 = delivered(3).replacen("Subject:", &format!("{long_status}Subject:"), 1);
    let m4 = delivered(4).replacen(">From a quoted line.\n", &long_from, 1);
    let file = format!("{}{m2}{m3}{m4}", delivered(1));
    let env = Env::new();
    let p = env.install("peek", file.as_bytes());
    let mut mb = env.open_read_only(&p);
    assert_eq!(mb.count(), 4);
    let h2 = mb.header(seqno(2)).unwrap();
    assert!(find(&h2, format!("{}\r\n", huge.trim_end()).as_bytes()).is_some());
    assert!(find(&mb.header(seqno(3)).unwrap(), b"X-Keywords").is_none());
    assert!(find(&mb.text(seqno(4)).unwrap(), &long_from.as_bytes()[..100]).is_some());
    drop(mb);
    run(
        Case {
            format: Format::Mbox,
            file: file.clone().into_bytes(),
            subjects: &[1, 2, 3, 4],
            keep: &[huge.as_bytes(), long_from.as_bytes()],
            logged: &[],
        },
        "huge header lines",
    );
}

#[test]
fn not_a_mailbox() {
    let env = Env::new();
    let cases: [(&str, &[u8]); 4] = [
        ("diary", b"Dear diary,\nFrom today on I keep notes.\n"),
        ("png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01"),
        (
            "eml",
            b"From: alice@example.org\nSubject: a saved message\n\nhi\n",
        ),
        (
            "lookalike",
            b"notes\nFrom here to there\nFrom alice Mon Nov 99 03:06:51 2026\n",
        ),
    ];
    for (name, bytes) in cases {
        let p = env.install(name, bytes);
        for mode in [Mode::ReadWrite, Mode::ReadOnly] {
            match Mailbox::open(&p, mode, &env.ctx) {
                Err(Error::NotAMailbox(q)) => assert_eq!(q, p),
                Err(e) => panic!("{name}: {e}"),
                Ok(mb) => panic!("{name}: opened with {} messages", mb.count()),
            }
        }
        assert_eq!(fs::read(&p).unwrap(), bytes, "{name}: changed");
    }
    let dir = env.path("dir");
    fs::create_dir(&dir).unwrap();
    assert!(matches!(
        Mailbox::open(&dir, Mode::ReadOnly, &env.ctx),
        Err(Error::NotAMailbox(_))
    ));
    assert!(Mailbox::open(&dir, Mode::ReadWrite, &env.ctx).is_err());
}

/// A NUL run longer than the scanner's window (1 MiB) before a delivery.
#[test]
fn long_nul_run_between_messages() {
    let mut file = uw_file(2).into_bytes();
    let run_len = (3 << 20) + 5;
    file.extend(std::iter::repeat_n(0u8, run_len));
    file.extend_from_slice(delivered(3).as_bytes());
    let env = Env::new();
    let p = env.install("box", &file);
    let mut mb = env.open(&p);
    check_readable(&mut mb, &[1, 2, 3], "3 MiB of NULs");
    assert_eq!(mb.damage().len(), 1);
    assert_eq!(mb.damage()[0].len, run_len as u64);
}

/// The only delivery of a spool file, after the NULs of a lost one: the file
/// starts with NULs and has no line that starts `From `.
#[test]
fn nul_run_then_the_only_message() {
    let mut file = vec![0u8; 4096];
    file.extend_from_slice(delivered(1).as_bytes());
    let env = Env::new();
    let p = env.install("box", &file);
    let mut mb = env.open(&p);
    check_readable(&mut mb, &[1], "NULs, then one message");
    assert_eq!(mb.damage().len(), 1);
}
