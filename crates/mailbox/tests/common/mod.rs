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
    mb.append(&[m]).unwrap()[0]
}

/// What a client would see of every message: UID, flags, keywords, the whole text.
pub fn snapshot(mb: &mut Mailbox) -> Vec<(u32, Flags, Vec<String>, Vec<u8>)> {
    (1..=mb.count())
        .map(|seq| {
            let info = mb.info(seq).unwrap();
            let kws = mb
                .keywords()
                .names_of(info.keywords)
                .into_iter()
                .map(str::to_string)
                .collect();
            (info.uid, info.flags, kws, mb.message(seq).unwrap())
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
