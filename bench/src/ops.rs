//! The measured operations of issue 9. Each runs in a server process of its own,
//! so that the peak RSS of that process belongs to that operation (and to the
//! SELECT or login in front of it), and checks what it measured: the tagged OK,
//! the number of answers, what SEARCH found, what RETR brought. A check that fails
//! is an error, never a timing.
//!
//! What is timed: for the greeting and SELECT, from before fork to the greeting or
//! the tagged OK; for POP3 STAT and STAT + UIDL, from before fork to the answer
//! (login and opening the maildrop included, as a client sees it); for everything
//! else, the command alone, from its first octet sent to its last answer read, in a
//! session that has already selected INBOX (IMAP) or logged in (POP3).

use std::time::{Duration, Instant};

use crate::corpus::{AppendSet, Corpus, BATCH, RARE_WORD};
use crate::imap::Imap;
use crate::pop::Pop;
use crate::server::{Exit, Start, World};
use crate::Error;

/// A line of the result tables.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord, Hash)]
pub enum Row {
    Greeting,
    GreetingRoot,
    Select,
    SelectScan,
    FetchFlags,
    FetchEnvelope,
    FetchFlagsEnvelope,
    FetchBodystructure,
    SearchText,
    SearchBody,
    SortPartial,
    QresyncSelect,
    StoreClose,
    Expunge,
    Append,
    Copy,
    PopStat,
    PopStatUidl,
    PopRetr,
    PopDeleQuit,
}

/// What a row is compared with.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord, Hash)]
pub enum Floor {
    /// One sequential read of the mailbox file.
    Read,
    /// One copy of the mailbox file, with fsync.
    Copy,
    /// The APPEND set written to a new file one message at a time, each with
    /// fsync: an APPEND is answered OK only once its message is on disk.
    AppendEach,
    /// One copy of the octets of the messages COPY copies, with fsync.
    CopySet,
}

impl Floor {
    pub const ALL: [Floor; 4] = [Floor::Read, Floor::Copy, Floor::AppendEach, Floor::CopySet];

    pub fn label(self) -> &'static str {
        match self {
            Floor::Read => "one read of the mailbox file",
            Floor::Copy => "one copy of the mailbox file (read + write + fsync)",
            Floor::AppendEach => "the 1,000 appended messages written one by one, fsync after each",
            Floor::CopySet => "one copy of the 1,000 copied messages' octets (fsync)",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Floor::Read => "read",
            Floor::Copy => "copy",
            Floor::AppendEach => "1,000 × (write + fsync)",
            Floor::CopySet => "copy of COPY set",
        }
    }
}

impl Row {
    pub fn label(self) -> &'static str {
        match self {
            Row::Greeting => "start → greeting (`* PREAUTH`)",
            Row::GreetingRoot => "start → greeting as root (`* OK`, inetd's way)",
            Row::Select => "start → PREAUTH + SELECT INBOX",
            Row::SelectScan => {
                "start → PREAUTH + SELECT INBOX, no index (a first open: every message read)"
            }
            Row::FetchFlags => "FETCH 1:* (FLAGS)",
            Row::FetchEnvelope => "FETCH 1:* (ENVELOPE)",
            Row::FetchFlagsEnvelope => "FETCH 1:* (FLAGS ENVELOPE)",
            Row::FetchBodystructure => "FETCH 1:* (BODYSTRUCTURE)",
            Row::SearchText => "UID SEARCH TEXT (rare word)",
            Row::SearchBody => "UID SEARCH BODY (rare word)",
            Row::SortPartial => "SORT RETURN (PARTIAL 1:50) (REVERSE ARRIVAL) US-ASCII ALL",
            Row::QresyncSelect => {
                "start → PREAUTH + ENABLE QRESYNC + SELECT INBOX (QRESYNC ...) after 10 flag changes and 2 expunges"
            }
            Row::StoreClose => "STORE 1:* +FLAGS (\\Seen) + CLOSE",
            Row::Expunge => "EXPUNGE of message 10",
            Row::Append => "APPEND of 1,000 messages (LITERAL+, pipelined)",
            Row::Copy => "COPY of the last 1,000 messages",
            Row::PopStat => "POP3 start → USER/PASS → STAT",
            Row::PopStatUidl => "POP3 start → STAT + UIDL",
            Row::PopRetr => "POP3 RETR of every message (pipelined)",
            Row::PopDeleQuit => "POP3 DELE of every message + QUIT",
        }
    }

    pub fn floor(self) -> Option<Floor> {
        match self {
            // The target is absolute (issue 18: a client's first page of a big
            // mailbox), and the answer is 50 numbers whatever the file's size.
            // So is a client's reconnect (issue 17): its answer is the 12 changes.
            Row::Greeting | Row::GreetingRoot | Row::SortPartial | Row::QresyncSelect => None,
            Row::StoreClose | Row::Expunge | Row::PopDeleQuit => Some(Floor::Copy),
            Row::Append => Some(Floor::AppendEach),
            Row::Copy => Some(Floor::CopySet),
            _ => Some(Floor::Read),
        }
    }
}

/// One server session of the bench; one or two rows come out of it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    Greeting,
    GreetingRoot,
    Select,
    SelectScan,
    Fetch(Row),
    Search(Row),
    SortPartial,
    Qresync,
    StoreClose,
    Expunge,
    Append,
    Copy,
    PopStatUidl,
    PopRetr,
    PopDeleQuit,
}

impl Op {
    /// Every operation, in the order of a round. The ones that leave INBOX as it
    /// was come first, so a round copies the mailbox as rarely as it can.
    pub fn all(root: bool) -> Vec<Op> {
        let mut ops = vec![Op::Greeting];
        if root {
            ops.push(Op::GreetingRoot);
        }
        ops.extend([
            Op::Select,
            Op::SelectScan,
            Op::Fetch(Row::FetchFlags),
            Op::Fetch(Row::FetchEnvelope),
            Op::Fetch(Row::FetchFlagsEnvelope),
            Op::Fetch(Row::FetchBodystructure),
            Op::Search(Row::SearchText),
            Op::Search(Row::SearchBody),
            Op::SortPartial,
            Op::Copy,
            Op::PopStatUidl,
            Op::PopRetr,
            Op::Qresync,
            Op::StoreClose,
            Op::Expunge,
            Op::Append,
            Op::PopDeleQuit,
        ]);
        ops
    }

    /// Whether the operation changes INBOX (so it needs a fresh copy first).
    /// POP3 RETR does too, at QUIT (\Seen on what was retrieved); the bench
    /// notices any change to INBOX anyway.
    pub fn changes_inbox(self) -> bool {
        matches!(
            self,
            Op::Qresync | Op::StoreClose | Op::Expunge | Op::Append | Op::PopDeleQuit
        )
    }

    pub fn name(self) -> String {
        match self {
            Op::Fetch(r) | Op::Search(r) => r.label().to_string(),
            other => format!("{other:?}"),
        }
    }

    /// The name `--ops` knows it by.
    pub fn key(self) -> &'static str {
        match self {
            Op::Greeting => "greeting",
            Op::GreetingRoot => "greeting-root",
            Op::Select => "select",
            Op::SelectScan => "select-scan",
            Op::Fetch(Row::FetchFlags) => "fetch-flags",
            Op::Fetch(Row::FetchEnvelope) => "fetch-envelope",
            Op::Fetch(Row::FetchFlagsEnvelope) => "fetch-flags-envelope",
            Op::Fetch(_) => "fetch-bodystructure",
            Op::Search(Row::SearchText) => "search-text",
            Op::Search(_) => "search-body",
            Op::SortPartial => "sort-partial",
            Op::Qresync => "qresync",
            Op::StoreClose => "store-close",
            Op::Expunge => "expunge",
            Op::Append => "append",
            Op::Copy => "copy",
            Op::PopStatUidl => "pop-stat-uidl",
            Op::PopRetr => "pop-retr",
            Op::PopDeleQuit => "pop-dele-quit",
        }
    }
}

/// What one session measured.
pub struct Sample {
    pub times: Vec<(Row, Duration)>,
    pub exit: Exit,
}

pub struct Context<'a> {
    pub world: &'a World,
    pub corpus: &'a Corpus,
    pub append: &'a AppendSet,
    /// Run the deeper checks that cost a session of their own (first round).
    pub verify: bool,
}

fn sample(times: Vec<(Row, Duration)>, exit: Exit) -> Sample {
    Sample { times, exit }
}

fn selected(cx: &Context) -> Result<Imap, Error> {
    let (mut imap, _) = Imap::start(cx.world, Start::Preauth)?;
    imap.select(cx.corpus.messages)?;
    Ok(imap)
}

fn expect<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), Error> {
    if got == want {
        Ok(())
    } else {
        Err(Error::new(format!(
            "{what}: got {got:?}, expected {want:?}"
        )))
    }
}

/// The numbers of an `* ESEARCH (TAG "x") PARTIAL (1:50 SET)` answer, in the
/// set's order (a sorted result is listed in sort order, ranges included).
fn partial_numbers(answer: &str) -> Result<Vec<usize>, Error> {
    let bad = || Error::new(format!("not a PARTIAL answer: {answer}"));
    let rest = &answer[answer.find(" PARTIAL (").ok_or_else(bad)? + 10..];
    let inner = rest.strip_suffix(')').ok_or_else(bad)?;
    let set = inner.split_once(' ').ok_or_else(bad)?.1;
    let mut out = Vec::new();
    for part in set.split(',') {
        let number = |s: &str| s.parse::<usize>().map_err(|_| bad());
        match part.split_once(':') {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b)?);
                if a <= b {
                    out.extend(a..=b);
                } else {
                    out.extend((b..=a).rev());
                }
            }
            None => out.push(number(part)?),
        }
    }
    Ok(out)
}

pub fn run(op: Op, cx: &Context) -> Result<Sample, Error> {
    let n = cx.corpus.messages;
    match op {
        Op::Greeting | Op::GreetingRoot => {
            let (start, row) = if op == Op::Greeting {
                (Start::Preauth, Row::Greeting)
            } else {
                (Start::Root, Row::GreetingRoot)
            };
            let (imap, took) = Imap::start(cx.world, start)?;
            Ok(sample(vec![(row, took)], imap.logout()?))
        }
        Op::Select => {
            // As a server finds INBOX most of the time: with the index the last
            // session left (after a fresh copy of INBOX, this untimed session makes it).
            selected(cx)?.logout()?;
            let t = Instant::now();
            let imap = selected(cx)?;
            let took = t.elapsed();
            Ok(sample(vec![(Row::Select, took)], imap.logout()?))
        }
        Op::SelectScan => {
            cx.world.remove_indexes()?;
            let t = Instant::now();
            let imap = selected(cx)?;
            let took = t.elapsed();
            Ok(sample(vec![(Row::SelectScan, took)], imap.logout()?))
        }
        Op::Fetch(row) => {
            let items = match row {
                Row::FetchFlags => "FLAGS",
                Row::FetchEnvelope => "ENVELOPE",
                Row::FetchFlagsEnvelope => "FLAGS ENVELOPE",
                _ => "BODYSTRUCTURE",
            };
            let mut imap = selected(cx)?;
            let mut count = 0usize;
            let mut well_formed = true;
            let t = Instant::now();
            imap.command(&format!("FETCH 1:* ({items})"), |r| {
                if r.starts_with(b"* ") && memchr::memmem::find(r, b" FETCH (").is_some() {
                    count += 1;
                    well_formed &= r.ends_with(b")\r\n");
                }
            })?;
            let took = t.elapsed();
            expect(&format!("FETCH 1:* ({items}) answers"), count, n)?;
            expect("every FETCH answer ends in `)`", well_formed, true)?;
            Ok(sample(vec![(row, took)], imap.logout()?))
        }
        Op::Search(row) => {
            let key = if row == Row::SearchText {
                "TEXT"
            } else {
                "BODY"
            };
            let mut imap = selected(cx)?;
            let t = Instant::now();
            let found = imap.search(&format!("UID SEARCH {key} {RARE_WORD}"))?;
            let took = t.elapsed();
            expect(
                &format!("UID SEARCH {key} {RARE_WORD}"),
                found,
                cx.corpus.planted.clone(),
            )?;
            Ok(sample(vec![(row, took)], imap.logout()?))
        }
        Op::SortPartial => {
            // As a client pages a big mailbox newest first (RFC 5267 ESORT and
            // RFC 9394 PARTIAL): the index is warm, as `selected` leaves it.
            let mut imap = selected(cx)?;
            let mut partial = None;
            let t = Instant::now();
            imap.command(
                "SORT RETURN (PARTIAL 1:50) (REVERSE ARRIVAL) US-ASCII ALL",
                |r| {
                    if r.starts_with(b"* ESEARCH ") {
                        partial = Some(String::from_utf8_lossy(r).trim_end().to_string());
                    }
                },
            )?;
            let took = t.elapsed();
            let answer = partial.ok_or_else(|| Error::new("SORT RETURN (PARTIAL): no ESEARCH"))?;
            let first = n.saturating_sub(49).max(1);
            let want: Vec<usize> = (first..=n).rev().collect();
            expect(
                "SORT PARTIAL 1:50 (REVERSE ARRIVAL)",
                partial_numbers(&answer)?,
                want,
            )?;
            Ok(sample(vec![(Row::SortPartial, took)], imap.logout()?))
        }
        Op::Qresync => qresync(cx),
        Op::StoreClose => {
            let mut imap = selected(cx)?;
            let mut answers = 0usize;
            let t = Instant::now();
            imap.command("STORE 1:* +FLAGS (\\Seen)", |r| {
                if r.starts_with(b"* ") && memchr::memmem::find(r, b" FETCH (").is_some() {
                    answers += 1;
                }
            })?;
            imap.command("CLOSE", |_| {})?;
            let took = t.elapsed();
            if answers > n {
                return Err(Error::new(format!(
                    "STORE 1:*: {answers} FETCH answers for {n} messages"
                )));
            }
            let exit = imap.logout()?;
            if cx.verify {
                let mut check = selected(cx)?;
                let unseen = check.search("SEARCH UNSEEN")?;
                expect("after STORE + CLOSE, SEARCH UNSEEN", unseen, vec![])?;
                check.logout()?;
            }
            Ok(sample(vec![(Row::StoreClose, took)], exit))
        }
        Op::Expunge => {
            let mut imap = selected(cx)?;
            imap.command("STORE 10 +FLAGS.SILENT (\\Deleted)", |_| {})?;
            let mut gone = Vec::new();
            let t = Instant::now();
            imap.command("EXPUNGE", |r| {
                if let Some(x) = r
                    .strip_prefix(b"* ")
                    .and_then(|r| r.strip_suffix(b" EXPUNGE\r\n"))
                {
                    gone.push(String::from_utf8_lossy(x).to_string());
                }
            })?;
            let took = t.elapsed();
            expect("EXPUNGE answers", gone, vec!["10".to_string()])?;
            let exit = imap.logout()?;
            if cx.verify {
                let (mut check, _) = Imap::start(cx.world, Start::Preauth)?;
                check.select(n - 1)?;
                let uid = check.search("UID SEARCH 10")?;
                expect("after EXPUNGE, the UID of message 10", uid, vec![11])?;
                check.logout()?;
            }
            Ok(sample(vec![(Row::Expunge, took)], exit))
        }
        Op::Append => {
            let (mut imap, _) = Imap::start(cx.world, Start::Preauth)?;
            let mut wire =
                Vec::with_capacity(cx.append.messages.iter().map(|m| m.len() + 40).sum());
            for m in &cx.append.messages {
                let tag = imap.next_tag();
                wire.extend_from_slice(
                    format!("{tag} APPEND INBOX {{{}+}}\r\n", m.len()).as_bytes(),
                );
                wire.extend_from_slice(m);
                wire.extend_from_slice(b"\r\n");
            }
            let t = Instant::now();
            imap.pipeline(&wire, cx.append.messages.len())?;
            let took = t.elapsed();
            let exit = imap.logout()?;
            if cx.verify {
                let (mut check, _) = Imap::start(cx.world, Start::Preauth)?;
                let now = check.status_messages("INBOX")?;
                expect("after APPEND, STATUS INBOX (MESSAGES)", now, n + BATCH)?;
                check.logout()?;
            }
            Ok(sample(vec![(Row::Append, took)], exit))
        }
        Op::Copy => {
            let target = cx.world.mail_dir.join("copied");
            cx.world.empty_mailbox(&target)?;
            let mut imap = selected(cx)?;
            let first = n.saturating_sub(BATCH) + 1;
            let t = Instant::now();
            let ok = imap.command(&format!("COPY {first}:{n} copied"), |_| {})?;
            let took = t.elapsed();
            let exit = imap.logout()?;
            if cx.verify {
                let (mut check, _) = Imap::start(cx.world, Start::Preauth)?;
                let copied = check.status_messages("copied")?;
                expect(
                    &format!("after COPY ({ok}), STATUS copied (MESSAGES)"),
                    copied,
                    n - first + 1,
                )?;
                check.logout()?;
            }
            Ok(sample(vec![(Row::Copy, took)], exit))
        }
        Op::PopStatUidl => {
            let t = Instant::now();
            let (mut pop, _) = Pop::start(cx.world)?;
            pop.login()?;
            let (count, _) = pop.stat()?;
            let stat = t.elapsed();
            let listed = pop.uidl()?;
            let uidl = t.elapsed();
            expect("POP3 STAT messages", count, n)?;
            expect("POP3 UIDL lines", listed, n)?;
            Ok(sample(
                vec![(Row::PopStat, stat), (Row::PopStatUidl, uidl)],
                pop.quit()?,
            ))
        }
        Op::PopRetr => {
            let (mut pop, _) = Pop::start(cx.world)?;
            pop.login()?;
            let (count, octets) = pop.stat()?;
            expect("POP3 STAT messages", count, n)?;
            let t = Instant::now();
            let got = pop.retr_all(count)?;
            let took = t.elapsed();
            expect("POP3 octets of every RETR against STAT", got, octets)?;
            Ok(sample(vec![(Row::PopRetr, took)], pop.quit()?))
        }
        Op::PopDeleQuit => {
            let (mut pop, _) = Pop::start(cx.world)?;
            pop.login()?;
            let (count, _) = pop.stat()?;
            expect("POP3 STAT messages", count, n)?;
            let t = Instant::now();
            pop.dele_all_quit(count)?;
            let took = t.elapsed();
            let exit = pop.finish()?;
            if cx.verify {
                let (mut check, _) = Pop::start(cx.world)?;
                check.login()?;
                let left = check.stat()?;
                expect("after DELE of everything + QUIT, POP3 STAT", left, (0, 0))?;
                check.quit()?;
            }
            Ok(sample(vec![(Row::PopDeleQuit, took)], exit))
        }
    }
}

/// The number after `key` in a response line.
fn number_after(r: &[u8], key: &[u8]) -> Option<u64> {
    let at = memchr::memmem::find(r, key)? + key.len();
    let digits: Vec<u8> = r[at..].iter().take_while(|b| b.is_ascii_digit()).copied().collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

/// A client that knew INBOX (its UIDVALIDITY and HIGHESTMODSEQ) comes back after
/// another made 10 flag changes and 2 expunges (issue 17): timed from start to the
/// tagged OK of `SELECT INBOX (QRESYNC (...))`, whose answer must hold exactly the
/// two UIDs in VANISHED (EARLIER) and a FETCH of each of the 10 changed messages.
fn qresync(cx: &Context) -> Result<Sample, Error> {
    let n = cx.corpus.messages;
    let (mut a, _) = Imap::start(cx.world, Start::Preauth)?;
    a.command("ENABLE QRESYNC", |_| {})?;
    let (mut uid_validity, mut highest) = (None, None);
    a.command("SELECT INBOX", |r| {
        uid_validity = uid_validity.or(number_after(r, b"[UIDVALIDITY "));
        highest = highest.or(number_after(r, b"[HIGHESTMODSEQ "));
    })?;
    a.logout()?;
    let (Some(uid_validity), Some(highest)) = (uid_validity, highest) else {
        return Err(Error::new("SELECT INBOX: no UIDVALIDITY or HIGHESTMODSEQ"));
    };
    // Another client: a keyword on 10 messages spread over the mailbox (each its own
    // STORE, written at once), and the last two expunged.
    let mut b = selected(cx)?;
    let spread: Vec<String> = (1..=10).map(|i| (i * (n - 2) / 10).to_string()).collect();
    let mut changed = b.search(&format!("UID SEARCH {}", spread.join(",")))?;
    let mut gone = b.search(&format!("UID SEARCH {}:{n}", n - 1))?;
    for s in &spread {
        b.command(&format!("STORE {s} +FLAGS.SILENT ($Bench)"), |_| {})?;
    }
    b.command(&format!("STORE {}:{n} +FLAGS.SILENT (\\Deleted)", n - 1), |_| {})?;
    b.command("EXPUNGE", |_| {})?;
    b.logout()?;
    changed.sort_unstable();
    gone.sort_unstable();

    let t = Instant::now();
    let (mut c, _) = Imap::start(cx.world, Start::Preauth)?;
    c.command("ENABLE QRESYNC", |_| {})?;
    let mut vanished = Vec::new();
    let mut fetched = Vec::new();
    c.command(
        &format!("SELECT INBOX (QRESYNC ({uid_validity} {highest}))"),
        |r| {
            if let Some(set) = r.strip_prefix(b"* VANISHED (EARLIER) ") {
                vanished.push(String::from_utf8_lossy(set).trim_end().to_string());
            } else if r.starts_with(b"* ") && memchr::memmem::find(r, b" FETCH (").is_some() {
                fetched.extend(number_after(r, b"UID ").map(|u| u as u32));
            }
        },
    )?;
    let took = t.elapsed();
    let want_vanished = if gone.len() == 2 && gone[0] + 1 == gone[1] {
        format!("{}:{}", gone[0], gone[1])
    } else {
        gone.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
    };
    expect("VANISHED (EARLIER) after 2 expunges", vanished, vec![want_vanished])?;
    fetched.sort_unstable();
    expect("the UIDs of the FETCH answers after 10 flag changes", fetched, changed)?;
    Ok(sample(vec![(Row::QresyncSelect, took)], c.logout()?))
}
