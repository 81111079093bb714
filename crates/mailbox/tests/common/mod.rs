//! Shared helpers for the mailbox integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::fromline::InternalDate;
use mailbox::mailbox::{AppendMessage, Context, Mailbox, Mode};

pub struct Env {
    pub dir: tempfile::TempDir,
    pub ctx: Context,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let mut ctx = Context::new(dir.path(), "tester");
        ctx.hostname = "test.example".into();
        // Tests run unprivileged in temp dirs: no setgid helper needed.
        ctx.lock.dotlock_helper = None;
        ctx.lock.wait = std::time::Duration::from_secs(20);
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        ctx.log = Arc::new(move |s: &str| l.lock().unwrap().push(s.to_string()));
        Env { dir, ctx, log }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn create(&self, name: &str, format: Format) -> PathBuf {
        let p = self.path(name);
        Mailbox::create(&p, format, &self.ctx).unwrap();
        p
    }

    pub fn open(&self, p: &Path) -> Mailbox {
        Mailbox::open(p, Mode::ReadWrite, &self.ctx).unwrap()
    }

    pub fn logged(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

pub fn date(ts: i64, off: i16) -> InternalDate {
    InternalDate {
        timestamp: ts,
        offset_minutes: off,
    }
}

/// A small message in CRLF, as a client would APPEND it.
pub fn msg(n: usize) -> Vec<u8> {
    format!(
        "From: sender{n}@example.org\r\nTo: rcpt@example.com\r\nSubject: message {n}\r\nMessage-ID: <{n}@example.org>\r\n\r\nBody of message {n}.\r\nFrom the start of a line.\r\n\r\nLast line {n}.\r\n"
    )
    .into_bytes()
}

pub fn append_plain(mb: &mut Mailbox, n: usize) -> u32 {
    let bytes = msg(n);
    let m = AppendMessage {
        bytes: &bytes,
        flags: Flags::EMPTY,
        keywords: vec![],
        internal_date: Some(date(1_700_000_000 + n as i64, 60)),
    };
    mb.append(&[m]).unwrap()[0].get()
}

/// What a client would see of every message: UID, flags, keywords, the whole text.
pub fn snapshot(mb: &mut Mailbox) -> Vec<(u32, Flags, Vec<String>, Vec<u8>)> {
    (1..=mb.count())
        .map(|seq| {
            let info = mb.info(seqno(seq)).unwrap();
            let kws = mb
                .keywords()
                .names_of(info.keywords)
                .into_iter()
                .map(str::to_string)
                .collect();
            (
                info.uid.get(),
                info.flags,
                kws,
                mb.message(seqno(seq)).unwrap(),
            )
        })
        .collect()
}

/// The expected text of `msg(n)` as served: `From ` quoted by mbox, not by MMDF.
pub fn served(n: usize, format: Format) -> Vec<u8> {
    let m = String::from_utf8(msg(n)).unwrap();
    match format {
        Format::Mbox => m.replace("\r\nFrom the", "\r\n>From the").into_bytes(),
        Format::Mmdf => m.into_bytes(),
    }
}

// ---- Helpers of compat.rs and damaged.rs: an independent reference reader. ----
//
// These do not use the crate's scanner: they split files by the plain RFC 4155 /
// MMDF rules, so that a test compares the library with a second, simple reading.

/// A fixture file from `tests/fixtures/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

impl Env {
    /// Writes `bytes` as the mailbox file `name` and returns its path.
    pub fn install(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub fn open_read_only(&self, p: &Path) -> Mailbox {
        Mailbox::open(p, Mode::ReadOnly, &self.ctx).unwrap()
    }
}

/// Stored LF text as served: every bare LF becomes CRLF.
pub fn crlf(stored: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(stored.len() + stored.len() / 16);
    for (i, &b) in stored.iter().enumerate() {
        if b == b'\n' && (i == 0 || stored[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Whether a header line is one of the mailbox's bookkeeping fields.
pub fn is_bookkeeping(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
    matches!(
        name.as_str(),
        "status" | "x-status" | "x-keywords" | "x-uid" | "x-imap" | "x-imapbase"
    )
}

/// A stored message with its bookkeeping fields (and their continuation lines)
/// taken out of the header; the rest is left exactly as it is.
pub fn strip_bookkeeping(stored: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(stored.len());
    let mut in_header = true;
    let mut skipping = false;
    for line in stored.split_inclusive(|&b| b == b'\n') {
        if in_header {
            if line == b"\n" || line == b"\r\n" {
                in_header = false;
            } else {
                let continuation = line[0] == b' ' || line[0] == b'\t';
                if !continuation {
                    skipping = is_bookkeeping(line);
                }
                if skipping {
                    continue;
                }
            }
        }
        out.extend_from_slice(line);
    }
    out
}

/// The value of the first header field `name` (case-insensitive) of a stored message.
pub fn header_value(stored: &[u8], name: &str) -> Option<String> {
    for line in stored.split(|&b| b == b'\n') {
        if line.is_empty() || line == b"\r" {
            return None;
        }
        let l = String::from_utf8_lossy(line);
        if let Some((n, v)) = l.split_once(':') {
            if n.eq_ignore_ascii_case(name) {
                return Some(v.trim().to_string());
            }
        }
    }
    None
}

/// One message of a file as the reference reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// What frames the message before its header: the From_ line (mbox), or the
    /// MMDF delimiter and any From_ line after it.
    pub opening: Vec<u8>,
    /// The stored message text, header and body, without framing.
    pub text: Vec<u8>,
}

impl RawMessage {
    pub fn is_pseudo(&self) -> bool {
        header_value(&self.text, "Subject").as_deref()
            == Some("DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA")
    }
    /// What a client is served: bookkeeping left out, CRLF line ends.
    pub fn served(&self) -> Vec<u8> {
        crlf(&strip_bookkeeping(&self.text))
    }
}

/// Whether a line looks like a From_ line to a simple reader: `From `, a time and
/// a four-digit year among its words.
fn looks_like_from_line(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    let words: Vec<&[u8]> = rest
        .split(|&b| b == b' ')
        .filter(|w| !w.is_empty())
        .collect();
    let time = words.iter().any(|w| {
        w.len() >= 4 && w.contains(&b':') && w.iter().all(|&b| b.is_ascii_digit() || b == b':')
    });
    let year = words.iter().any(|w| {
        w.len() == 4 && w.iter().all(u8::is_ascii_digit) && (w[0] == b'1' || w[0] == b'2')
    });
    time && year
}

/// Splits an mbox by RFC 4155's default rule: a From_ line at the start of the
/// file or after a blank line opens a message; that blank line separates
/// messages and belongs to neither.
pub fn split_mbox(file: &[u8]) -> Vec<RawMessage> {
    let mut starts = Vec::new();
    let mut at = 0;
    let mut prev_blank = true;
    while at < file.len() {
        let end = file[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| at + i + 1)
            .unwrap_or(file.len());
        let line = &file[at..end];
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        if prev_blank && looks_like_from_line(body) {
            starts.push((at, end));
        }
        prev_blank = line == b"\n";
        at = end;
    }
    let mut out = Vec::new();
    for (i, &(s, hdr)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map(|&(n, _)| n).unwrap_or(file.len());
        let mut text = file[hdr..end].to_vec();
        if text.ends_with(b"\n\n") {
            text.pop();
        }
        out.push(RawMessage {
            opening: file[s..hdr].to_vec(),
            text,
        });
    }
    out
}

/// Splits an MMDF file: messages between pairs of `^A^A^A^A` lines; a From_ line
/// right after the opening delimiter is framing, not text.
pub fn split_mmdf(file: &[u8]) -> Vec<RawMessage> {
    const D: &[u8] = b"\x01\x01\x01\x01\n";
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = find(&file[at..], D) {
        let open = at + i;
        let mut hdr = open + D.len();
        if file[hdr..].starts_with(b"From ") {
            hdr += file[hdr..].iter().position(|&b| b == b'\n').unwrap() + 1;
        }
        let close = hdr + find_line(&file[hdr..], D).expect("closing delimiter");
        out.push(RawMessage {
            opening: file[open..hdr].to_vec(),
            text: file[hdr..close].to_vec(),
        });
        at = close + D.len();
    }
    out
}

pub fn split(file: &[u8], format: Format) -> Vec<RawMessage> {
    match format {
        Format::Mbox => split_mbox(file),
        Format::Mmdf => split_mmdf(file),
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The first occurrence of `line` at the start of a line of `hay`.
fn find_line(hay: &[u8], line: &[u8]) -> Option<usize> {
    if hay.starts_with(line) {
        return Some(0);
    }
    let mut n = Vec::with_capacity(line.len() + 1);
    n.push(b'\n');
    n.extend_from_slice(line);
    find(hay, &n).map(|i| i + 1)
}

/// Seconds since the epoch of a UTC wall-clock time.
pub fn utc(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> i64 {
    mailbox::fromline::days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
}

/// Sequence number `n` (tests name messages by plain numbers).
pub fn seqno(n: u32) -> mailbox::uid::SeqNumber {
    mailbox::uid::SeqNumber::new(n).expect("sequence numbers start at 1")
}

/// UID `n`.
pub fn uid(n: u32) -> mailbox::uid::Uid {
    mailbox::uid::Uid::new(n).expect("UIDs start at 1")
}

/// The UIDs of a mailbox as plain numbers, for comparing with lists of them.
pub fn uid_list(mb: &Mailbox) -> Vec<u32> {
    mb.uid_iter().map(u32::from).collect()
}
