//! BENCHMARKS.md: the tables, the targets of issue 9 and UW's figures beside ours.
//! Every number printed comes from the run, except the targets and UW imapd
//! 2007f's figures, which are quoted from issue 9 and labelled so.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use crate::corpus::Format;
use crate::machine::Machine;
use crate::ops::{Floor, Row};

/// Every run of one row.
#[derive(Default)]
pub struct RowResult {
    pub times: Vec<Duration>,
    /// The highest peak RSS of the server over the runs, KiB.
    pub hwm_kib: u64,
    /// False if any run's peak RSS is only a lower bound.
    pub exact: bool,
}

/// One mailbox size and format.
pub struct SetResult {
    pub messages: usize,
    pub format: Format,
    pub octets: u64,
    pub rows: BTreeMap<Row, RowResult>,
    pub floors: BTreeMap<Floor, Vec<Duration>>,
    pub failures: Vec<String>,
    pub load_before: String,
    pub load_after: String,
    pub elapsed: Duration,
}

pub struct Report {
    pub machine: Machine,
    pub date: String,
    pub runs: usize,
    pub budget: Duration,
    pub quick: bool,
    pub runs_as: String,
    pub work_dir: String,
    pub command: String,
    pub sets: Vec<SetResult>,
}

pub struct Stats {
    pub median: Duration,
    pub min: Duration,
    pub max: Duration,
}

pub fn stats(v: &[Duration]) -> Option<Stats> {
    let mut v = v.to_vec();
    v.sort();
    Some(Stats {
        median: *v.get(v.len() / 2)?,
        min: *v.first()?,
        max: *v.last()?,
    })
}

pub fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn octets(n: u64) -> String {
    format!("{:.1} MiB", n as f64 / 1048576.0)
}

/// 100000 -> "100,000".
pub fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl SetResult {
    pub fn title(&self) -> String {
        format!(
            "{} messages, {} ({}, {} octets)",
            count(self.messages),
            self.format.label(),
            octets(self.octets),
            self.octets
        )
    }

    pub fn median(&self, row: Row) -> Option<Duration> {
        stats(&self.rows.get(&row)?.times).map(|s| s.median)
    }

    pub fn floor_median(&self, floor: Floor) -> Option<Duration> {
        stats(self.floors.get(&floor)?).map(|s| s.median)
    }

    /// Median over the median of the row's floor.
    pub fn ratio(&self, row: Row) -> Option<f64> {
        let f = self.floor_median(row.floor()?)?;
        Some(self.median(row)?.as_secs_f64() / f.as_secs_f64())
    }

    pub fn rss(&self, row: Row) -> Option<String> {
        let r = self.rows.get(&row)?;
        (r.hwm_kib > 0).then(|| format!("{}{}", if r.exact { "" } else { "≥ " }, mib(r.hwm_kib)))
    }

    /// The Markdown table.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "| operation | runs | median | min | max | floor | × floor | server peak RSS |"
        );
        let _ = writeln!(t, "|---|---:|---:|---:|---:|---|---:|---:|");
        for (floor, times) in &self.floors {
            if let Some(s) = stats(times) {
                let _ = writeln!(
                    t,
                    "| *floor: {}* | {} | {} | {} | {} | | | |",
                    floor.label(),
                    times.len(),
                    duration(s.median),
                    duration(s.min),
                    duration(s.max)
                );
            }
        }
        for (row, r) in &self.rows {
            let Some(s) = stats(&r.times) else { continue };
            let (floor, ratio) = match (row.floor(), self.ratio(*row)) {
                (Some(f), Some(x)) => (f.short().to_string(), format!("{x:.2}×")),
                _ => ("—".to_string(), "—".to_string()),
            };
            let _ = writeln!(
                t,
                "| {} | {} | {} | {} | {} | {floor} | {ratio} | {} |",
                row.label(),
                r.times.len(),
                duration(s.median),
                duration(s.min),
                duration(s.max),
                self.rss(*row).unwrap_or_else(|| "—".into())
            );
        }
        t
    }
}

/// Issue 17's target at 20,000 messages: a client's reconnect with QRESYNC.
fn reconnect_target(out: &mut String, sets: &[&SetResult]) {
    let _ = writeln!(out, "## Reconnect with QRESYNC at 20,000 messages\n");
    let _ = writeln!(
        out,
        "The target is quoted from issue 17; the figures are this run's medians.\n"
    );
    let _ = write!(out, "| target (issue 17) |");
    for s in sets {
        let _ = write!(out, " {} |", s.format.label());
    }
    let _ = write!(out, "\n|---|");
    for _ in sets {
        let _ = write!(out, "---|");
    }
    let _ = write!(
        out,
        "\n| start → SELECT INBOX (QRESYNC ...) after 10 flag changes and 2 expunges ≤ 10 ms |"
    );
    for s in sets {
        let text = match s.median(Row::QresyncSelect) {
            Some(d) => format!(
                "{}: {}",
                duration(d),
                if d <= Duration::from_millis(10) { "met" } else { "**missed**" }
            ),
            None => "not measured".into(),
        };
        let _ = write!(out, " {text} |");
    }
    let _ = writeln!(out, "\n");
}

/// The targets of issue 9 at 100,000 messages (quoted), against what was measured.
fn targets(out: &mut String, sets: &[&SetResult]) {
    let _ = writeln!(out, "## Targets at 100,000 messages\n");
    let _ = writeln!(
        out,
        "The targets are quoted from issue 9 (SORT PARTIAL: issue 18); the figures beside them are this run's medians.\n"
    );
    let _ = write!(out, "| target (issue 9) |");
    for s in sets {
        let _ = write!(out, " {} |", s.format.label());
    }
    let _ = write!(out, "\n|---|");
    for _ in sets {
        let _ = write!(out, "---|");
    }
    let _ = writeln!(out);
    let verdict = |ok: bool| if ok { "met" } else { "**missed**" };
    type Check = Box<dyn Fn(&SetResult) -> Option<String>>;
    let checks: Vec<(&str, Check)> = vec![
        (
            "PREAUTH + SELECT ≤ 1.5 × one read of the file",
            Box::new(move |s: &SetResult| {
                let x = s.ratio(Row::Select)?;
                let mut text = format!(
                    "{x:.2}× ({} against {}): {}",
                    duration(s.median(Row::Select)?),
                    duration(s.floor_median(Floor::Read)?),
                    verdict(x <= 1.5)
                );
                if let (Some(y), Some(d)) = (s.ratio(Row::SelectScan), s.median(Row::SelectScan)) {
                    let _ = write!(
                        text,
                        "; without the index (first open) {y:.2}× ({}): {}",
                        duration(d),
                        verdict(y <= 1.5)
                    );
                }
                Some(text)
            }),
        ),
        (
            "peak RSS ≤ 64 MiB, whatever the operation",
            Box::new(move |s: &SetResult| {
                let (row, r) = s.rows.iter().max_by_key(|(_, r)| r.hwm_kib)?;
                Some(format!(
                    "{}{} at most ({}): {}",
                    if r.exact { "" } else { "≥ " },
                    mib(r.hwm_kib),
                    row.label(),
                    verdict(r.hwm_kib <= 64 * 1024)
                ))
            }),
        ),
        (
            "FETCH 1:* (FLAGS) ≤ 1 s",
            Box::new(move |s: &SetResult| {
                let d = s.median(Row::FetchFlags)?;
                Some(format!(
                    "{}: {}",
                    duration(d),
                    verdict(d <= Duration::from_secs(1))
                ))
            }),
        ),
        (
            "EXPUNGE of one message near the start ≤ 2 × one copy of the file",
            Box::new(move |s: &SetResult| {
                let x = s.ratio(Row::Expunge)?;
                Some(format!(
                    "{x:.2}× ({} against {}): {}",
                    duration(s.median(Row::Expunge)?),
                    duration(s.floor_median(Floor::Copy)?),
                    verdict(x <= 2.0)
                ))
            }),
        ),
        (
            "SORT RETURN (PARTIAL 1:50) (REVERSE ARRIVAL), index warm, ≤ 50 ms",
            Box::new(move |s: &SetResult| {
                let d = s.median(Row::SortPartial)?;
                Some(format!(
                    "{}: {}",
                    duration(d),
                    verdict(d <= Duration::from_millis(50))
                ))
            }),
        ),
        (
            "start to greeting ≤ 5 ms",
            Box::new(move |s: &SetResult| {
                let d = s.median(Row::Greeting)?;
                let mut text = format!(
                    "{} PREAUTH: {}",
                    duration(d),
                    verdict(d <= Duration::from_millis(5))
                );
                if let Some(r) = s.median(Row::GreetingRoot) {
                    let _ = write!(
                        text,
                        "; {} as root: {}",
                        duration(r),
                        verdict(r <= Duration::from_millis(5))
                    );
                }
                Some(text)
            }),
        ),
    ];
    for (label, check) in &checks {
        let _ = write!(out, "| {label} |");
        for s in sets {
            let _ = write!(
                out,
                " {} |",
                check(s).unwrap_or_else(|| "not measured".into())
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out);
}

/// UW imapd 2007f on a 20,000-message, 77 MB mbox, warm cache, as quoted in issue
/// 9: (row, seconds, MB of RSS, what UW was asked).
const UW_2007F: &[(Row, f64, f64, &str)] = &[
    (Row::Select, 0.12, 8.0, "SELECT"),
    (Row::SelectScan, 0.12, 8.0, "SELECT"),
    (
        Row::FetchFlagsEnvelope,
        0.60,
        32.0,
        "FETCH 1:* (FLAGS ENVELOPE)",
    ),
    (Row::SearchBody, 1.83, 42.0, "SEARCH BODY \"word\""),
    (Row::PopStat, 0.16, 20.0, "POP3 STAT"),
    (Row::PopStatUidl, 0.18, 20.0, "POP3 UIDL"),
    (Row::PopRetr, 0.57, 20.0, "POP3 RETR of all"),
];

fn against_uw(out: &mut String, sets: &[&SetResult]) {
    let _ = writeln!(out, "## Against UW imapd 2007f at 20,000 messages\n");
    let _ = writeln!(
        out,
        "UW's figures are **quoted from issue 9, not measured here**: UW imapd 2007f on a \
         20,000-message, 77 MB mbox with a warm page cache, \"on this kind of machine\" (the \
         POP3 RSS of 20 MB is given once for the POP3 session). The aim is half of each. \
         Our generator's 20,000 messages are larger than UW's test mailbox \
         ({}), so every operation that reads message text reads more octets here.\n",
        sets.iter()
            .map(|s| format!("{}: {}", s.format.label(), octets(s.octets)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = write!(out, "| operation | UW 2007f (quoted) | aim: half |");
    for s in sets {
        let _ = write!(out, " pullmail {} | |", s.format.label());
    }
    let _ = write!(out, "\n|---|---:|---:|");
    for _ in sets {
        let _ = write!(out, "---:|---|");
    }
    let _ = writeln!(out);
    for &(row, secs, mb, what) in UW_2007F {
        let ours = if row.label() == what {
            String::new()
        } else {
            format!(" (ours: {})", row.label())
        };
        let _ = write!(
            out,
            "| {what}{ours} | {secs:.2} s, {mb:.0} MB | {:.3} s, {:.0} MB |",
            secs / 2.0,
            mb / 2.0
        );
        for s in sets {
            match (s.median(row), s.rows.get(&row)) {
                (Some(d), Some(r)) => {
                    let time_ok = d.as_secs_f64() <= secs / 2.0;
                    let rss_ok = (r.hwm_kib as f64 / 1024.0) <= mb / 2.0;
                    let _ = write!(
                        out,
                        " {}, {} | {} |",
                        duration(d),
                        s.rss(row).unwrap_or_default(),
                        match (time_ok, rss_ok) {
                            (true, true) => "met".to_string(),
                            (false, true) => "**time missed**".to_string(),
                            (true, false) => "**RSS missed**".to_string(),
                            (false, false) => "**both missed**".to_string(),
                        }
                    );
                }
                _ => {
                    let _ = write!(out, " not measured | |");
                }
            }
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out);
}

pub fn markdown(r: &Report) -> String {
    let m = &r.machine;
    let mut out = String::new();
    let _ = writeln!(out, "# pullmail benchmarks\n");
    let _ = writeln!(
        out,
        "Written by `{}` on {}. Every figure here was measured in that run, except the \
         targets and UW imapd 2007f's figures, which are quoted from issue 9 and say so. \
         Regenerate with `make bench`; the method is in `bench/src/main.rs`.\n",
        r.command, r.date
    );
    let _ = writeln!(out, "## Machine and conditions\n");
    let _ = writeln!(out, "- CPU: {} ({} logical cores)", m.cpu, m.cores);
    let _ = writeln!(out, "- RAM: {}; kernel {}; {}", m.ram, m.kernel, m.os);
    let _ = writeln!(out, "- Work directory: `{}`, {}", r.work_dir, m.filesystem);
    let _ = writeln!(
        out,
        "- pullmail commit {}, built by {} (release profile)",
        m.commit, m.rustc
    );
    let _ = writeln!(
        out,
        "- Servers: the release `imapd` and `ipop3d`, one process per session with the \
         session on stdin/stdout pipes (1 MiB pipe buffers, the size a loopback TCP \
         connection's buffers grow to), as inetd runs them; started as `posix_spawn` does (a \
         vfork-style clone, then exec, so that the bench's own size costs nothing), as {}. The \
         user, home and spool come from a passwd of the bench's own through nss_wrapper \
         (LD_PRELOAD); no TLS certificate is configured, and no syslog daemon listens.",
        r.runs_as
    );
    let _ = writeln!(
        out,
        "- Page cache warm: each mailbox is read once before its table, and every copy the \
         bench makes is fsynced before it is used, so no write-back of it overlaps a timing."
    );
    let budget = if r.budget == Duration::MAX {
        String::new()
    } else {
        format!(
            " An operation whose runs add up to {} in one table is not run again (it always \
             runs once); the runs column says how many it got.",
            duration(r.budget)
        )
    };
    let _ = writeln!(
        out,
        "- {} run{} of every operation, in rounds: each round measures the floors, then every \
         operation once, so that floors and servers share the same conditions. Median, min and \
         max over the runs; \"× floor\" is median over the floor's median; peak RSS is the \
         highest of the runs.{budget}",
        r.runs,
        if r.runs == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        out,
        "- The machine is shared: other engineers' builds may run meanwhile. The load average \
         (1, 5, 15 min) at the start and end of each table is printed under it; a max far \
         above its median is such a disturbance.\n"
    );
    let _ = writeln!(out, "## What is measured\n");
    let _ = writeln!(
        out,
        "- Mailboxes from `crates/mailbox/examples/gen.rs` (seed 1, style mixed: UW's \
         pseudo-message, 90% of messages with UW status fields, 10% fresh Postfix deliveries), \
         plain, multipart/alternative, base64 attachments and message/rfc822, 1 KB to 2 MB \
         long-tailed. The rare word `zeppelin` is planted in 5 messages spread over the \
         mailbox; both SEARCHes must return exactly their UIDs.\n\
         - Start → greeting and start → SELECT are timed from before fork to the greeting or \
         the tagged OK; POP3 STAT and STAT + UIDL from before fork to the answer (login and \
         maildrop open included). Every other row times the command alone, in a session that \
         has already selected INBOX (IMAP) or logged in (POP3), from its first octet sent to \
         its last answer read; STORE + CLOSE is both commands, DELE + QUIT is up to QUIT's \
         answer, which ipop3d sends after writing the mailbox back.\n\
         - SELECT is measured twice. \"start → PREAUTH + SELECT INBOX\" finds the \
         mailbox index that the last session left in `~/.pullmail` (as a server does whenever \
         nobody else rewrote the file since; new mail at the end is read on top of it); the \
         \"no index\" row removes it first, so the open reads every message in one pass, as \
         the first open of a mailbox does and as UW imapd did every time.\n\
         - Each session is a new server process, so its peak RSS (the server's own VmHWM, \
         read while the kernel holds it in exit) covers the operation and the SELECT or login \
         before it.\n\
         - Operations that change INBOX (STORE + CLOSE, EXPUNGE, APPEND, DELE + QUIT, and RETR, \
         whose QUIT sets \\Seen) run on a fresh copy of the mailbox with the user's \
         `~/.pullmail` state restored; copying is not timed. APPEND sends 1,000 Postfix-style \
         messages (seed 2) to INBOX with LITERAL+ in one pipeline; COPY copies the last 1,000 \
         messages to an empty `~/mail/copied`; RETR and DELE are pipelined (CAPA PIPELINING).\n\
         - The floors: one sequential read of the mailbox file (1 MiB buffer) for the read \
         paths; one copy of it (read, write a new file, fsync) for the rewrite paths; for \
         APPEND, the 1,000 messages written to a new file one at a time with an fsync after \
         each (an APPEND must be on disk before its OK); for COPY, one copy of the copied \
         messages' octets with one fsync.\n\
         - Every answer is checked: tagged OK, one FETCH per message, exactly one EXPUNGE (of \
         10) and then one message fewer with UID 11 at 10, SEARCH UNSEEN empty after STORE + \
         CLOSE, STATUS counts after APPEND and COPY, RETR octets equal to STAT's, STAT 0 0 \
         after DELE + QUIT (the checks that need a new session run in the first round), \
         and after 10 flag changes and 2 expunges by another client, SELECT (QRESYNC ...) \
         answers exactly the two UIDs in VANISHED (EARLIER) and a FETCH of each changed \
         message.\n"
    );
    let big: Vec<&SetResult> = r.sets.iter().filter(|s| s.messages == 100_000).collect();
    if !big.is_empty() {
        targets(&mut out, &big);
    }
    let mid: Vec<&SetResult> = r.sets.iter().filter(|s| s.messages == 20_000).collect();
    if !mid.is_empty() {
        against_uw(&mut out, &mid);
        reconnect_target(&mut out, &mid);
    }
    let _ = writeln!(out, "## Results\n");
    for s in &r.sets {
        let _ = writeln!(out, "### {}\n", s.title());
        out.push_str(&s.table());
        let _ = writeln!(
            out,
            "\nLoad average {} at the start, {} at the end; {} for this table.\n",
            s.load_before,
            s.load_after,
            duration(s.elapsed)
        );
        if !s.failures.is_empty() {
            let _ = writeln!(out, "Failures:\n");
            for f in &s.failures {
                let _ = writeln!(out, "- {f}");
            }
            let _ = writeln!(out);
        }
    }
    out
}
