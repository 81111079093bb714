//! A seeded, deterministic generator of realistic mailbox files, for benchmarks and
//! stress tests.
//!
//! ```text
//! cargo run --release -p mailbox --example gen -- --format mbox|mmdf --messages N --seed S [--style mixed|uw|postfix] OUT
//! ```
//!
//! What it writes, message by message, straight to `OUT` through a buffered writer
//! (memory stays at one message, whatever N is):
//! - sizes from about 1 KB to 2 MB on a log-normal distribution (median ~3.5 KB,
//!   long tail) tuned so that 100,000 messages make about 1 GiB;
//! - plain text, multipart/alternative (text + HTML), multipart/mixed with base64
//!   attachments, and forwarded message/rfc822 parts, chosen by size as real mail is
//!   (the big ones carry attachments);
//! - body lines beginning `From ` (written `>From ` in mbox, as delivery agents do);
//! - `--style mixed` (the default): UW's "FOLDER INTERNAL DATA" pseudo-message with
//!   `X-IMAP`, the first 90% of messages with UW's `Status`/`X-Status`/`X-Keywords`/
//!   `X-UID` fields (mostly read), the last 10% fresh Postfix deliveries without them;
//!   `--style uw`: all messages stamped; `--style postfix`: none, and no
//!   pseudo-message, as a spool file that no IMAP server has opened yet.
//!
//! The same arguments give the same file, byte for byte.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

// ---------------------------------------------------------------------------------
// Randomness: SplitMix64, enough for test data and stable across platforms.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5851_f42d_4c95_7f2d)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-300);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------------
// Word lists.

const FIRST: &[&str] = &[
    "Alice", "Bob", "Carol", "David", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
    "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Yuki", "Zoe",
    "Ahmed", "Bruno", "Chen", "Dmitri", "Elena", "Fatima", "Gustav", "Hana", "Ines", "Jonas",
    "Kwame", "Lucia", "Mateo", "Noor", "Oskar", "Priya", "Quentin", "Rosa",
];
const LAST: &[&str] = &[
    "Smith",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Martin",
    "Bernard",
    "Dubois",
    "Schmidt",
    "Schneider",
    "Rossi",
    "Russo",
    "Tanaka",
    "Suzuki",
    "Kim",
    "Lee",
    "Nguyen",
    "Silva",
    "Santos",
    "Kowalski",
    "Novak",
    "Horvat",
    "Jensen",
    "Hansen",
    "Virtanen",
    "Murphy",
    "O'Brien",
    "MacLeod",
    "Okafor",
    "Mensah",
    "Haddad",
    "Cohen",
    "Levi",
    "Patel",
    "Singh",
];
const DOMAINS: &[&str] = &[
    "example.org",
    "example.com",
    "example.net",
    "mail.example.edu",
    "lists.example.org",
    "cs.example.edu",
    "corp.example.com",
    "example.co.uk",
    "example.de",
    "example.fr",
];
const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "is",
    "it",
    "that",
    "for",
    "on",
    "with",
    "as",
    "was",
    "be",
    "at",
    "this",
    "have",
    "from",
    "or",
    "by",
    "not",
    "but",
    "what",
    "all",
    "were",
    "when",
    "we",
    "there",
    "can",
    "an",
    "your",
    "which",
    "their",
    "said",
    "if",
    "will",
    "each",
    "about",
    "how",
    "up",
    "out",
    "them",
    "then",
    "she",
    "many",
    "some",
    "so",
    "these",
    "would",
    "other",
    "into",
    "has",
    "more",
    "her",
    "two",
    "like",
    "see",
    "could",
    "no",
    "make",
    "than",
    "first",
    "been",
    "its",
    "who",
    "now",
    "people",
    "my",
    "over",
    "down",
    "only",
    "way",
    "find",
    "use",
    "may",
    "long",
    "little",
    "very",
    "after",
    "mailbox",
    "server",
    "message",
    "folder",
    "schedule",
    "meeting",
    "report",
    "budget",
    "release",
    "patch",
    "review",
    "deadline",
    "quarter",
    "invoice",
    "travel",
    "project",
    "customer",
    "support",
    "ticket",
    "deploy",
    "backup",
    "network",
    "library",
    "kernel",
    "thanks",
    "please",
    "attached",
    "agenda",
    "minutes",
    "question",
    "answer",
    "draft",
    "tomorrow",
    "yesterday",
    "Monday",
    "Friday",
    "office",
    "lunch",
    "conference",
    "paper",
    "student",
    "course",
    "exam",
    "grade",
    "lecture",
    "seminar",
    "proposal",
    "contract",
    "update",
    "status",
    "issue",
    "version",
    "install",
    "configure",
    "password",
    "account",
];
const SUBJECT_START: &[&str] = &[
    "Re: ",
    "Re: ",
    "Re: ",
    "Fwd: ",
    "",
    "",
    "",
    "",
    "",
    "[announce] ",
    "[dev] ",
    "AW: ",
    "Re: Re: ",
];
const SUBJECT_TOPIC: &[&str] = &[
    "meeting on Thursday",
    "quarterly report",
    "budget for next year",
    "patch for the",
    "build failure",
    "lunch?",
    "travel plans",
    "your invoice",
    "conference deadline",
    "minutes of the last meeting",
    "server maintenance tonight",
    "question about",
    "draft proposal",
    "exam schedule",
    "release notes",
    "backup failed",
    "new account",
    "password reset",
    "photos from the trip",
    "contract renewal",
    "weekly status",
];
const ATTACHMENTS: &[(&str, &str)] = &[
    ("report.pdf", "application/pdf"),
    ("slides.pdf", "application/pdf"),
    ("IMG_{}.jpg", "image/jpeg"),
    ("scan_{}.png", "image/png"),
    (
        "budget.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "minutes.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("logs-{}.tar.gz", "application/gzip"),
    ("data.zip", "application/zip"),
    ("invite.ics", "text/calendar"),
];
const MAILERS: &[&str] = &[
    "Mozilla Thunderbird 115.4.1",
    "Apple Mail (2.3731.700.6)",
    "Microsoft Outlook 16.0",
    "Mutt/2.2.9 (2022-11-12)",
    "Alpine 2.26 (DEB 649 2022-06-02)",
    "Roundcube Webmail/1.6.5",
];
const ZONES: &[i64] = &[
    -480, -420, -300, -240, 0, 0, 60, 60, 120, 330, 480, 540, 600,
];
const KEYWORDS: &[&str] = &["$Forwarded", "$Junk", "NonJunk", "Project"];

// ---------------------------------------------------------------------------------
// Dates.

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn civil(ts: i64) -> (i64, usize, i64, usize, i64, i64, i64) {
    let days = ts.div_euclid(86400);
    let secs = ts.rem_euclid(86400);
    let (y, m, d) = mailbox::fromline::civil_from_days(days);
    let wday = (days + 4).rem_euclid(7) as usize;
    (
        y,
        m as usize - 1,
        d as i64,
        wday,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
    )
}

/// ctime(3) order, as delivery agents write the From_ line (UTC, no zone).
fn ctime(ts: i64) -> String {
    let (y, mo, d, wd, h, mi, s) = civil(ts);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        WEEKDAYS[wd], MONTHS[mo], d, h, mi, s, y
    )
}

/// RFC 5322 `Date:` in the sender's zone.
fn rfc5322(ts: i64, zone_min: i64) -> String {
    let (y, mo, d, wd, h, mi, s) = civil(ts + zone_min * 60);
    let sign = if zone_min < 0 { '-' } else { '+' };
    let z = zone_min.abs();
    format!(
        "{}, {} {} {} {:02}:{:02}:{:02} {}{:02}{:02}",
        WEEKDAYS[wd],
        d,
        MONTHS[mo],
        y,
        h,
        mi,
        s,
        sign,
        z / 60,
        z % 60
    )
}

// ---------------------------------------------------------------------------------
// Output.

/// A message being written: every body line goes through [`Out::line`], which quotes
/// `From ` for mbox.
struct Out<W: Write> {
    w: W,
    quote_from: bool,
    written: u64,
}

impl<W: Write> Out<W> {
    fn raw(&mut self, b: &[u8]) -> io::Result<()> {
        self.written += b.len() as u64;
        self.w.write_all(b)
    }
    /// One line without its LF.
    fn line(&mut self, l: &[u8]) -> io::Result<()> {
        if self.quote_from && l.starts_with(b"From ") {
            self.raw(b">")?;
        }
        self.raw(l)?;
        self.raw(b"\n")
    }
    fn lines(&mut self, text: &[u8]) -> io::Result<()> {
        for l in text.split(|&b| b == b'\n') {
            self.line(l)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------
// Content.

struct Person {
    name: String,
    addr: String,
}

fn person(rng: &mut Rng) -> Person {
    let f = *rng.pick(FIRST);
    let l = *rng.pick(LAST);
    let d = *rng.pick(DOMAINS);
    let local = match rng.below(3) {
        0 => format!(
            "{}.{}",
            f.to_lowercase(),
            l.to_lowercase().replace('\'', "")
        ),
        1 => format!(
            "{}{}",
            &f[..1].to_lowercase(),
            l.to_lowercase().replace('\'', "")
        ),
        _ => f.to_lowercase(),
    };
    let name = if l.contains('\'') {
        format!("\"{f} {l}\"")
    } else {
        format!("{f} {l}")
    };
    Person {
        name,
        addr: format!("{local}@{d}"),
    }
}

fn subject(rng: &mut Rng) -> String {
    let mut s = String::from(*rng.pick(SUBJECT_START));
    if rng.chance(0.05) {
        // An RFC 2047 encoded word, as non-ASCII subjects arrive.
        s.push_str("=?UTF-8?Q?R=C3=A9union_=C3=A0_");
        s.push_str(&rng.range(8, 18).to_string());
        s.push_str("h?=");
        return s;
    }
    s.push_str(rng.pick::<&str>(SUBJECT_TOPIC));
    if rng.chance(0.3) {
        s.push(' ');
        s.push_str(rng.pick::<&str>(WORDS));
    }
    s
}

/// Paragraphs of wrapped text, about `budget` octets, LF line ends, no final LF.
fn text(rng: &mut Rng, budget: usize, from_lines: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(budget + 100);
    let mut line_len = 0usize;
    let mut sentence_start = true;
    let mut words_in_para = 0;
    let para_len = rng.range(30, 120);
    while out.len() < budget {
        if line_len == 0 && rng.chance(0.01) {
            // A quoted line from an earlier message.
            out.extend_from_slice(b"> ");
            line_len = 2;
        }
        if line_len == 0 && from_lines && rng.chance(0.004) {
            // The line that mbox must quote.
            out.extend_from_slice(b"From ");
            line_len = 5;
            sentence_start = false;
        }
        let w = *rng.pick(WORDS);
        if line_len + w.len() + 1 > 72 {
            out.push(b'\n');
            line_len = 0;
        } else if line_len > 0 {
            out.push(b' ');
            line_len += 1;
        }
        if sentence_start {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase().to_string().bytes());
                out.extend_from_slice(c.as_str().as_bytes());
            }
            sentence_start = false;
        } else {
            out.extend_from_slice(w.as_bytes());
        }
        line_len += w.len();
        words_in_para += 1;
        if rng.chance(0.08) {
            out.push(if rng.chance(0.85) { b'.' } else { b'?' });
            line_len += 1;
            sentence_start = true;
        }
        if words_in_para >= para_len && sentence_start {
            out.extend_from_slice(b"\n\n");
            line_len = 0;
            words_in_para = 0;
        }
    }
    if !sentence_start {
        out.push(b'.');
    }
    while out.last() == Some(&b'\n') {
        out.pop();
    }
    out
}

fn html_of(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 5 / 4 + 200);
    out.extend_from_slice(
        b"<!DOCTYPE html>\n<html>\n<head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\"></head>\n<body>\n",
    );
    for para in text
        .split(|&b| b == b'\n')
        .collect::<Vec<_>>()
        .split(|l| l.is_empty())
    {
        if para.is_empty() {
            continue;
        }
        out.extend_from_slice(b"<p>");
        for (i, l) in para.iter().enumerate() {
            if i > 0 {
                out.push(b'\n');
            }
            for &c in *l {
                match c {
                    b'<' => out.extend_from_slice(b"&lt;"),
                    b'>' => out.extend_from_slice(b"&gt;"),
                    b'&' => out.extend_from_slice(b"&amp;"),
                    _ => out.push(c),
                }
            }
        }
        out.extend_from_slice(b"</p>\n");
    }
    out.extend_from_slice(b"</body>\n</html>");
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `n` octets of pseudo-random "file content" as base64 in 76-column lines.
fn base64_body<W: Write>(out: &mut Out<W>, rng: &mut Rng, n: usize) -> io::Result<()> {
    let mut line = [0u8; 76];
    let mut left = n;
    while left > 0 {
        let take = left.min(57);
        let mut raw = [0u8; 57];
        for chunk in raw[..take].chunks_mut(8) {
            let v = rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        let mut o = 0;
        for g in raw[..take].chunks(3) {
            let b = [g[0], *g.get(1).unwrap_or(&0), *g.get(2).unwrap_or(&0)];
            let v = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            line[o] = B64[(v >> 18) as usize & 63];
            line[o + 1] = B64[(v >> 12) as usize & 63];
            line[o + 2] = if g.len() > 1 {
                B64[(v >> 6) as usize & 63]
            } else {
                b'='
            };
            line[o + 3] = if g.len() > 2 {
                B64[v as usize & 63]
            } else {
                b'='
            };
            o += 4;
        }
        out.line(&line[..o])?;
        left -= take;
    }
    Ok(())
}

fn boundary(rng: &mut Rng) -> String {
    format!("=_{:016x}{:08x}", rng.next_u64(), rng.below(1 << 32))
}

/// What kind of body a message of a given size gets.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Plain,
    Alternative,
    Attachment,
    Forward,
}

fn kind_for(rng: &mut Rng, size: usize) -> Kind {
    let r = rng.unit();
    if size < 12 * 1024 {
        match r {
            r if r < 0.72 => Kind::Plain,
            r if r < 0.94 => Kind::Alternative,
            r if r < 0.98 => Kind::Attachment,
            _ => Kind::Forward,
        }
    } else if size < 48 * 1024 {
        match r {
            r if r < 0.25 => Kind::Plain,
            r if r < 0.50 => Kind::Alternative,
            r if r < 0.92 => Kind::Attachment,
            _ => Kind::Forward,
        }
    } else if r < 0.92 {
        Kind::Attachment
    } else {
        Kind::Forward
    }
}

/// The whole message size: log-normal, median ~3.5 KB, sigma 1.5, cut to [1 KB, 2 MB].
/// Tuned so the mean is ~10.7 KB: 100,000 messages make about 1 GiB.
fn message_size(rng: &mut Rng) -> usize {
    let s = 3550.0 * (1.5 * rng.normal()).exp();
    s.clamp(1000.0, 2.0 * 1024.0 * 1024.0) as usize
}

struct Headers {
    from: Person,
    to: Person,
    date: i64,
    zone: i64,
    subject: String,
    msgid: String,
}

fn write_common_headers<W: Write>(
    out: &mut Out<W>,
    rng: &mut Rng,
    h: &Headers,
    received: bool,
) -> io::Result<()> {
    if received {
        let hops = rng.range(1, 4);
        let mut t = h.date + hops as i64 * 2;
        for hop in 0..hops {
            let id = rng.next_u64();
            let (by, from) = if hop == 0 {
                ("mx.example.com", "mail-relay.example.net")
            } else {
                ("mail-relay.example.net", "smtp.example.org")
            };
            out.raw(
                format!(
                    "Received: from {from} ({from} [192.0.2.{}])\n\tby {by} (Postfix) with ESMTPS id {:X}\n\tfor <{}>; {}\n",
                    rng.range(1, 254),
                    id & 0xff_ffff_ffff,
                    h.to.addr,
                    rfc5322(t, 0)
                )
                .as_bytes(),
            )?;
            t -= 2;
        }
        if rng.chance(0.4) {
            out.raw(
                format!(
                    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={};\n\ts=sel1; t={}; bh={:016x}{:016x}=;\n\th=From:To:Subject:Date:Message-ID;\n\tb={:016x}{:016x}{:016x}{:016x}\n\t {:016x}{:016x}{:016x}{:016x}\n",
                    h.from.addr.split('@').nth(1).unwrap_or("example.org"),
                    h.date,
                    rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64(),
                    rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64(),
                    rng.next_u64(), rng.next_u64()
                )
                .as_bytes(),
            )?;
        }
    }
    out.raw(format!("Date: {}\n", rfc5322(h.date, h.zone)).as_bytes())?;
    out.raw(format!("From: {} <{}>\n", h.from.name, h.from.addr).as_bytes())?;
    out.raw(format!("To: {} <{}>\n", h.to.name, h.to.addr).as_bytes())?;
    if rng.chance(0.2) {
        let cc = person(rng);
        out.raw(format!("Cc: {} <{}>\n", cc.name, cc.addr).as_bytes())?;
    }
    out.raw(format!("Subject: {}\n", h.subject).as_bytes())?;
    out.raw(format!("Message-ID: {}\n", h.msgid).as_bytes())?;
    if h.subject.starts_with("Re:") {
        out.raw(
            format!(
                "In-Reply-To: <{:x}@{}>\nReferences: <{:x}@{}>\n",
                rng.next_u64(),
                rng.pick(DOMAINS),
                rng.next_u64(),
                rng.pick(DOMAINS)
            )
            .as_bytes(),
        )?;
    }
    if rng.chance(0.6) {
        out.raw(format!("User-Agent: {}\n", rng.pick(MAILERS)).as_bytes())?;
    }
    out.raw(b"MIME-Version: 1.0\n")
}

fn new_headers(rng: &mut Rng, date: i64, to: &Person) -> Headers {
    let from = person(rng);
    let dom = from
        .addr
        .split('@')
        .nth(1)
        .unwrap_or("example.org")
        .to_string();
    Headers {
        msgid: format!("<{:x}.{:x}@{}>", date, rng.next_u64() & 0xffff_ffff, dom),
        from,
        to: Person {
            name: to.name.clone(),
            addr: to.addr.clone(),
        },
        date,
        zone: *rng.pick(ZONES),
        subject: subject(rng),
    }
}

/// Writes the MIME headers and body of a message (or of a message/rfc822 part) of
/// about `budget` octets of body.
fn write_body<W: Write>(
    out: &mut Out<W>,
    rng: &mut Rng,
    kind: Kind,
    budget: usize,
    h: &Headers,
    depth: u32,
) -> io::Result<()> {
    let from_lines = rng.chance(0.3);
    match kind {
        Kind::Plain => {
            let qp = rng.chance(0.1);
            out.raw(b"Content-Type: text/plain; charset=UTF-8; format=flowed\n")?;
            out.raw(if qp {
                &b"Content-Transfer-Encoding: quoted-printable\n\n"[..]
            } else {
                &b"Content-Transfer-Encoding: 7bit\n\n"[..]
            })?;
            let mut t = text(rng, budget, from_lines);
            if qp {
                t.extend_from_slice(b"\n\nMerci et =C3=A0 bient=C3=B4t,");
            }
            out.lines(&t)?;
            out.line(b"")?;
            out.line(b"-- ")?;
            out.line(h.from.name.trim_matches('"').as_bytes())
        }
        Kind::Alternative => {
            let b = boundary(rng);
            out.raw(
                format!("Content-Type: multipart/alternative; boundary=\"{b}\"\n\n").as_bytes(),
            )?;
            out.line(b"This is a multi-part message in MIME format.")?;
            let t = text(rng, budget * 4 / 10, from_lines);
            out.line(format!("--{b}").as_bytes())?;
            out.raw(
                b"Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 7bit\n\n",
            )?;
            out.lines(&t)?;
            out.line(format!("--{b}").as_bytes())?;
            out.raw(
                b"Content-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: 7bit\n\n",
            )?;
            out.lines(&html_of(&t))?;
            out.line(format!("--{b}--").as_bytes())
        }
        Kind::Attachment => {
            let b = boundary(rng);
            out.raw(format!("Content-Type: multipart/mixed; boundary=\"{b}\"\n\n").as_bytes())?;
            out.line(b"This is a multi-part message in MIME format.")?;
            let note = (rng.range(200, 1500) as usize).min(budget / 2);
            out.line(format!("--{b}").as_bytes())?;
            out.raw(
                b"Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 7bit\n\n",
            )?;
            out.lines(&text(rng, note, from_lines))?;
            out.line(b"")?;
            let files = if budget > 64 * 1024 && rng.chance(0.3) {
                rng.range(2, 3)
            } else {
                1
            };
            let per = budget.saturating_sub(note + 300 * files as usize) / files as usize;
            for _ in 0..files {
                let (name, ctype) = *rng.pick(ATTACHMENTS);
                let name = name.replace("{}", &rng.range(1000, 9999).to_string());
                out.line(format!("--{b}").as_bytes())?;
                out.raw(
                    format!(
                        "Content-Type: {ctype}; name=\"{name}\"\nContent-Disposition: attachment; filename=\"{name}\"\nContent-Transfer-Encoding: base64\n\n"
                    )
                    .as_bytes(),
                )?;
                // base64: 4 octets per 3, plus an LF per 76 columns.
                base64_body(out, rng, (per * 57 / 77).max(1))?;
            }
            out.line(format!("--{b}--").as_bytes())
        }
        Kind::Forward => {
            let b = boundary(rng);
            out.raw(format!("Content-Type: multipart/mixed; boundary=\"{b}\"\n\n").as_bytes())?;
            out.line(b"This is a multi-part message in MIME format.")?;
            out.line(format!("--{b}").as_bytes())?;
            out.raw(b"Content-Type: text/plain; charset=UTF-8\n\n")?;
            let n = rng.range(80, 400) as usize;
            out.lines(&text(rng, n, false))?;
            out.line(b"")?;
            out.line(format!("--{b}").as_bytes())?;
            out.raw(b"Content-Type: message/rfc822\nContent-Disposition: inline\n\n")?;
            let inner_to = Person {
                name: h.from.name.clone(),
                addr: h.from.addr.clone(),
            };
            let earlier = h.date - rng.range(3600, 86400 * 30) as i64;
            let inner = new_headers(rng, earlier, &inner_to);
            let received = depth == 0 && rng.chance(0.5);
            write_common_headers(out, rng, &inner, received)?;
            let inner_budget = budget.saturating_sub(1200);
            let inner_kind = match kind_for(rng, inner_budget) {
                Kind::Forward if depth > 0 => Kind::Plain,
                k => k,
            };
            write_body(out, rng, inner_kind, inner_budget, &inner, depth + 1)?;
            out.line(format!("--{b}--").as_bytes())
        }
    }
}

// ---------------------------------------------------------------------------------
// The mailbox.

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Mixed,
    Uw,
    Postfix,
}

struct Args {
    mmdf: bool,
    messages: u64,
    seed: u64,
    style: Style,
    out: String,
}

fn usage() -> String {
    "usage: gen --format mbox|mmdf --messages N --seed S [--style mixed|uw|postfix] OUT".into()
}

fn parse_args() -> Result<Args, String> {
    let mut a = std::env::args().skip(1);
    let (mut fmt, mut n, mut seed, mut style, mut out) = (None, None, 1u64, Style::Mixed, None);
    while let Some(x) = a.next() {
        match x.as_str() {
            "--format" => fmt = a.next(),
            "--messages" => n = a.next().and_then(|v| v.parse().ok()),
            "--seed" => seed = a.next().and_then(|v| v.parse().ok()).ok_or_else(usage)?,
            "--style" => {
                style = match a.next().as_deref() {
                    Some("mixed") => Style::Mixed,
                    Some("uw") => Style::Uw,
                    Some("postfix") => Style::Postfix,
                    _ => return Err(usage()),
                }
            }
            "-h" | "--help" => return Err(usage()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{}", usage())),
            _ => out = Some(x),
        }
    }
    let mmdf = match fmt.as_deref() {
        Some("mbox") => false,
        Some("mmdf") => true,
        _ => return Err(usage()),
    };
    Ok(Args {
        mmdf,
        messages: n.ok_or_else(usage)?,
        seed,
        style,
        out: out.ok_or_else(usage)?,
    })
}

const MMDF_DELIM: &[u8] = b"\x01\x01\x01\x01\n";
/// 2015-01-05 09:00 UTC: where the mailbox's history begins.
const EPOCH: i64 = 1_420_448_400;

fn run(a: &Args) -> io::Result<(u64, u64)> {
    let mut rng = Rng::new(a.seed);
    let file = File::create(&a.out)?;
    let mut out = Out {
        w: BufWriter::with_capacity(1 << 20, file),
        quote_from: !a.mmdf,
        written: 0,
    };
    let owner = Person {
        name: "Pat Tester".into(),
        addr: "pat@example.com".into(),
    };
    // Messages arrive on average every 50 minutes, whatever N is.
    let stamped = match a.style {
        Style::Mixed => a.messages * 9 / 10,
        Style::Uw => a.messages,
        Style::Postfix => 0,
    };
    let uid_validity = EPOCH as u64 + a.seed % 100_000;
    // The keywords in use make the X-IMAP list; draw them up front.
    let mut keyword_use = [false; 4];
    for k in keyword_use.iter_mut() {
        *k = rng.chance(0.8);
    }
    if a.style != Style::Postfix {
        if a.mmdf {
            out.raw(MMDF_DELIM)?;
        }
        let t = EPOCH + a.messages as i64 * 3000;
        out.raw(format!("From MAILER-DAEMON {}\n", ctime(t)).as_bytes())?;
        out.raw(format!("Date: {}\n", rfc5322(t, 0)).as_bytes())?;
        out.raw(b"From: Mail System Internal Data <MAILER-DAEMON@mail.example.com>\n")?;
        out.raw(b"Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n")?;
        out.raw(format!("Message-ID: <{t}@mail.example.com>\n").as_bytes())?;
        let mut imap = format!("X-IMAP: {uid_validity:010} {stamped:010}");
        for (i, k) in KEYWORDS.iter().enumerate() {
            if keyword_use[i] {
                imap.push(' ');
                imap.push_str(k);
            }
        }
        out.raw(imap.as_bytes())?;
        out.raw(b"\nStatus: RO\n\n")?;
        out.raw(
            b"This text is part of the internal format of your mail folder, and is not\n\
a real message.  It is created automatically by the mail system software.\n\
If deleted, important folder data will be lost, and it will be re-created\n\
with the data reset to initial values.\n",
        )?;
        out.raw(if a.mmdf { MMDF_DELIM } else { b"\n" })?;
    }
    let mut t = EPOCH;
    for i in 0..a.messages {
        t += rng.range(60, 6000) as i64;
        let size = message_size(&mut rng);
        let kind = kind_for(&mut rng, size);
        let h = new_headers(&mut rng, t, &owner);
        let is_stamped = i < stamped;
        let arrival = t + rng.range(1, 90) as i64;
        if a.mmdf {
            out.raw(MMDF_DELIM)?;
        }
        let start = out.written;
        // UW writes one space, Postfix `local` two.
        let sep = if is_stamped { " " } else { "  " };
        let sender = if rng.chance(0.01) {
            "MAILER-DAEMON".to_string()
        } else {
            h.from.addr.clone()
        };
        out.raw(format!("From {sender}{sep}{}\n", ctime(arrival)).as_bytes())?;
        if !is_stamped {
            out.raw(
                format!(
                    "Return-Path: <{sender}>\nX-Original-To: {0}\nDelivered-To: {0}\n",
                    owner.addr
                )
                .as_bytes(),
            )?;
        }
        write_common_headers(&mut out, &mut rng, &h, true)?;
        let header_len = (out.written - start) as usize;
        // MIME headers, the body and (maybe) the status fields: the rest of the budget.
        let body_budget = size.saturating_sub(header_len + 250).max(100);
        // UW's status fields go at the end of the header, after the MIME fields that
        // write_body starts with: render this one message, then splice them in before
        // its blank line. Only one message is ever held in memory.
        let mut buf = Out {
            w: Vec::with_capacity(size + 1024),
            quote_from: out.quote_from,
            written: 0,
        };
        write_body(&mut buf, &mut rng, kind, body_budget, &h, 0)?;
        let body = buf.w;
        let blank = memchr::memmem::find(&body, b"\n\n")
            .map(|p| p + 1)
            .unwrap_or(0);
        out.raw(&body[..blank])?;
        if is_stamped {
            let seen = rng.chance(0.93);
            let mut x = String::new();
            if rng.chance(0.12) {
                x.push('A');
            }
            if rng.chance(0.03) {
                x.push('F');
            }
            let mut kws = String::new();
            if rng.chance(0.04) {
                let k = rng.below(4) as usize;
                if keyword_use[k] {
                    kws.push(' ');
                    kws.push_str(KEYWORDS[k]);
                }
            }
            out.raw(
                format!(
                    "Status: {}O\nX-Status: {x}\nX-Keywords:{kws}\nX-UID: {}\n",
                    if seen { "R" } else { "" },
                    i + 1
                )
                .as_bytes(),
            )?;
        }
        out.raw(&body[blank..])?;
        out.raw(if a.mmdf { MMDF_DELIM } else { b"\n" })?;
    }
    out.w.flush()?;
    Ok((a.messages, out.written))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let t = std::time::Instant::now();
    match run(&args) {
        Ok((n, bytes)) => {
            eprintln!(
                "gen: {} messages, {} octets ({:.1} MiB, {:.0} octets/message) in {:.1} s -> {}",
                n,
                bytes,
                bytes as f64 / 1048576.0,
                bytes as f64 / n.max(1) as f64,
                t.elapsed().as_secs_f64(),
                args.out
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen: {}: {e}", args.out);
            ExitCode::FAILURE
        }
    }
}
