//! `make demo`: the mailbox library at work, until the servers exist.
//!
//! In a temporary directory: an mbox and an MMDF mailbox, a few messages appended,
//! flags set, one message expunged, UIDs stable across a reopen, a copy between the
//! formats, and the first lines of the mbox file, in the format UW imapd writes.
//!
//! ```text
//! cargo run --release -q -p mailbox --example demo
//! ```

use std::path::Path;

use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::fromline::InternalDate;
use mailbox::mailbox::{AppendMessage, Context, Mailbox, Mode, StoreOp};

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

const MESSAGES: &[(&str, &str, &str, i64)] = &[
    (
        "Alice Martin <alice@example.org>",
        "Minutes of Tuesday's meeting",
        "Hi all,\r\n\r\nThe minutes are below. Next meeting on Thursday.\r\n\r\nFrom now on we meet in room 4.\r\n\r\nAlice\r\n",
        1_736_150_400,
    ),
    (
        "Bob Jones <bob@example.net>",
        "Re: build failure on arm64",
        "> Does it still fail?\r\n\r\nFixed in the last commit, the linker flags were wrong.\r\n",
        1_736_157_600,
    ),
    (
        "MAILER-DAEMON@example.com",
        "Undelivered Mail Returned to Sender",
        "This is the mail system at host example.com.\r\n\r\nI'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients.\r\n",
        1_736_164_800,
    ),
    (
        "Carol Dubois <carol@example.fr>",
        "Lunch on Friday?",
        "Hi Pat,\r\n\r\nThe new place on Main Street, at noon?\r\n\r\nCarol\r\n",
        1_736_172_000,
    ),
];

fn message(from: &str, subject: &str, body: &str, date: i64) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Pat Tester <pat@example.com>\r\nSubject: {subject}\r\n\
         Date: {}\r\nMessage-ID: <{date}.demo@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}",
        rfc5322(date)
    )
    .into_bytes()
}

fn rfc5322(ts: i64) -> String {
    // format_date gives "Www Mmm dd hh:mm:ss yyyy +zzzz".
    let d = mailbox::fromline::format_date(InternalDate {
        timestamp: ts,
        offset_minutes: 60,
    });
    let p: Vec<&str> = d.split_ascii_whitespace().collect();
    format!("{}, {} {} {} {} {}", p[0], p[2], p[1], p[4], p[3], p[5])
}

/// The `Subject:` of a message as served (CRLF header).
fn subject(header: &[u8]) -> String {
    let text = String::from_utf8_lossy(header);
    text.split("\r\n")
        .find_map(|l| {
            l.get(..8)
                .filter(|n| n.eq_ignore_ascii_case("subject:"))
                .map(|_| l[8..].trim().to_string())
        })
        .unwrap_or_default()
}

fn list(title: &str, mb: &mut Mailbox) -> AnyResult<()> {
    println!(
        "\n{title}: {} ({}), {} messages, UIDVALIDITY {}, UIDNEXT {}",
        mb.path().file_name().unwrap_or_default().to_string_lossy(),
        mb.format().name(),
        mb.count(),
        mb.uid_validity(),
        mb.uid_next()
    );
    println!("  seq  UID  size  flags                        subject");
    for seq in 1..=mb.count() {
        let info = mb.info(sq(seq)).ok_or("no such message")?;
        let mut flags: Vec<String> = info.flags.imap_names().map(str::to_string).collect();
        if info.recent {
            flags.push("\\Recent".into());
        }
        flags.extend(
            mb.keywords()
                .names_of(info.keywords)
                .into_iter()
                .map(str::to_string),
        );
        let subj = subject(&mb.header(sq(seq))?);
        println!(
            "  {seq:>3}  {:>3}  {:>4}  {:<28} {}",
            info.uid,
            info.rfc822_size,
            flags.join(" "),
            subj
        );
    }
    Ok(())
}

fn show_file(path: &Path, lines: usize) -> AnyResult<()> {
    let text = std::fs::read(path)?;
    let text = String::from_utf8_lossy(&text);
    println!(
        "\nThe first {lines} lines of {} ({} octets on disk; ^A is Ctrl-A):",
        path.file_name().unwrap_or_default().to_string_lossy(),
        text.len()
    );
    for l in text.lines().take(lines) {
        println!("  | {}", l.replace('\x01', "^A"));
    }
    Ok(())
}

fn main() -> AnyResult<()> {
    let dir = tempfile::tempdir()?;
    let mut ctx = Context::new(dir.path(), "pat");
    ctx.hostname = "mail.example.com".into();
    // Everything lives in a private temporary directory we can write: no setgid
    // helper is needed for the dot-locks, whoever runs the demo.
    ctx.lock.dotlock_helper = None;
    println!("pullmail mailbox library demo, in {}", dir.path().display());
    println!("(the IMAP and POP servers are not built yet; this is the library beneath them)");

    let mbox = dir.path().join("INBOX");
    let mmdf = dir.path().join("archive");
    Mailbox::create(&mbox, Format::Mbox, &ctx)?;
    Mailbox::create(&mmdf, Format::Mmdf, &ctx)?;

    let mut inbox = Mailbox::open(&mbox, Mode::ReadWrite, &ctx)?;
    let texts: Vec<Vec<u8>> = MESSAGES
        .iter()
        .map(|&(f, s, b, d)| message(f, s, b, d))
        .collect();
    let appends: Vec<AppendMessage> = texts
        .iter()
        .zip(MESSAGES)
        .map(|(t, m)| AppendMessage {
            bytes: t,
            flags: Flags::EMPTY,
            keywords: vec![],
            internal_date: Some(InternalDate {
                timestamp: m.3 + 30,
                offset_minutes: 60,
            }),
        })
        .collect();
    let uids = inbox.append(&appends)?;
    println!(
        "\nAPPEND of {} messages to INBOX -> UIDs {uids:?}",
        uids.len()
    );
    list("INBOX after append", &mut inbox)?;

    inbox.store(sq(1), StoreOp::Add, Flags::SEEN, &[])?;
    inbox.store(sq(2), StoreOp::Add, Flags::SEEN.union(Flags::ANSWERED), &[])?;
    inbox.store(sq(3), StoreOp::Add, Flags::DELETED, &[])?;
    inbox.store(sq(4), StoreOp::Add, Flags::FLAGGED, &["$Important"])?;
    inbox.checkpoint()?;
    println!("\nSTORE: 1 \\Seen, 2 \\Seen \\Answered, 3 \\Deleted, 4 \\Flagged $Important; CHECK");
    list("INBOX with flags", &mut inbox)?;

    let gone = inbox.expunge(None)?;
    println!("\nEXPUNGE -> expunged sequence numbers {gone:?}");
    let before = inbox.uids();
    let uid_validity = inbox.uid_validity();
    inbox.close()?;

    let mut inbox = Mailbox::open(&mbox, Mode::ReadWrite, &ctx)?;
    list("INBOX reopened", &mut inbox)?;
    println!(
        "  UIDs before close {before:?}, after reopen {:?}; UIDVALIDITY {}: {}",
        inbox.uids(),
        inbox.uid_validity(),
        if before == inbox.uids() && uid_validity == inbox.uid_validity() {
            "stable"
        } else {
            "CHANGED"
        }
    );

    let mut archive = Mailbox::open(&mmdf, Mode::ReadWrite, &ctx)?;
    let pairs = inbox.copy_to(&[sq(1), sq(2), sq(3)], &mut archive)?;
    println!(
        "\nCOPY 1:3 INBOX (mbox) -> archive (MMDF): COPYUID pairs (source, destination) {pairs:?}"
    );
    list("archive", &mut archive)?;
    archive.close()?;
    inbox.close()?;

    show_file(&mbox, 30)?;
    show_file(&mmdf, 8)?;
    println!("\nDone; the temporary directory is removed.");
    Ok(())
}

/// Sequence number `n` (the examples count messages from 1).
fn sq(n: u32) -> mailbox::uid::SeqNumber {
    mailbox::uid::SeqNumber::new(n).unwrap_or(mailbox::uid::SeqNumber::MIN)
}
