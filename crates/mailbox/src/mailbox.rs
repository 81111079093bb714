//! The open mailbox: what a server session holds while a mailbox is selected.
//!
//! The handle keeps per-message metadata only (offsets, sizes, UID, flags); message
//! octets are read on demand under a shared lock. Changes made by other processes
//! are found by [`Mailbox::sync`] and come back as [`Event`]s; flag changes made
//! through the handle stay in memory until [`Mailbox::checkpoint`],
//! [`Mailbox::expunge`] or [`Mailbox::close`] write them back in one rewrite.
//!
//! Concurrency (the design in full is in the crate docs): any number of sessions may
//! hold one mailbox read-write. Each write takes the writer's locks, first re-reads
//! what others changed, merges its own pending flag changes onto that, and writes.
//! UIDs are what the file says (`X-UID`) or, for messages that have none yet, are
//! assigned by one deterministic rule that every session applies to the same file, so
//! two sessions agree on a new message's UID before either has written it.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::driver::{self, Driver};
use crate::error::{Error, Result};
use crate::flags::{Flags, KeywordSet, KeywordTable};
use crate::format::{self, Detected, Format};
use crate::fromline::{self, InternalDate};
use crate::header::{self, ImapBase};
use crate::journal::{self, Recovery, Rewrite};
use crate::lock::{LockConfig, ReadLock, WriteLock};
use crate::render;
use crate::scan::{self, Damage, Scanned};
use crate::state::StateFile;

/// Where diagnostics go (syslog in the servers). Never message text, never passwords.
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

/// What every open needs to know about its surroundings.
#[derive(Clone)]
pub struct Context {
    /// The user's private directory for journals and shared per-mailbox state.
    pub state_dir: PathBuf,
    pub lock: LockConfig,
    /// Written in the From_ lines of appended messages, as UW did (`user@host`).
    pub user: String,
    pub hostname: String,
    /// The format of mailboxes created from nothing.
    pub default_format: Format,
    pub log: Logger,
}

impl Context {
    /// A context with the defaults: state in `HOME/.pullmail`, mbox, no logging.
    pub fn new(home: &Path, user: &str) -> Context {
        Context {
            state_dir: home.join(".pullmail"),
            lock: LockConfig::default(),
            user: user.to_string(),
            hostname: hostname(),
            default_format: Format::Mbox,
            log: Arc::new(|_| {}),
        }
    }
}

/// The host name for From_ lines and the pseudo-message.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() octets into a buffer we own.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let name = if r == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    if name.is_empty() {
        "localhost".to_string()
    } else {
        name
    }
}

/// Read-write (SELECT) or read-only (EXAMINE, or a file we may not write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    ReadWrite,
    ReadOnly,
    /// Read-write for APPEND or COPY into a mailbox that is not selected: never takes
    /// \Recent, which belongs to the session that selects the mailbox.
    Append,
}

/// A change the session must report to its client, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The message with this sequence number is gone (numbers after it move down).
    Expunge(u32),
    /// The mailbox now holds this many messages.
    Exists(u32),
    /// Another session changed this message's flags.
    FlagsChanged { seq: u32, uid: u32 },
    /// UIDs could not be kept; the session must end (RFC 3501 §2.3.1.1).
    UidValidityChanged,
}

/// How STORE combines flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOp {
    Add,
    Remove,
    Replace,
}

/// A message to append.
#[derive(Debug, Clone)]
pub struct AppendMessage<'a> {
    /// The message as the client sent it (CRLF or LF line ends).
    pub bytes: &'a [u8],
    pub flags: Flags,
    pub keywords: Vec<String>,
    /// The INTERNALDATE; now when absent.
    pub internal_date: Option<InternalDate>,
}

/// What the session knows of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    pub uid: u32,
    pub flags: Flags,
    pub recent: bool,
    pub keywords: KeywordSet,
    pub internal_date: InternalDate,
    /// RFC822.SIZE: header (bookkeeping left out) and body, in CRLF octets.
    pub rfc822_size: u64,
    pub header_size: u64,
    /// Expunged by another session but not yet reported (RFC 3501 §7.4.1).
    pub expunged: bool,
}

// Meta::bits
const DISK_OLD: u8 = 1;
const RECENT: u8 = 2;
const GHOST: u8 = 4;
const UID_ON_DISK: u8 = 8;
const TRUNCATED: u8 = 16;
/// This session took \Recent for the message: the file must come to say `O`.
const CLAIMED: u8 = 32;

/// Per-message metadata kept in memory (about 100 octets).
#[derive(Debug, Clone)]
struct Meta {
    start: u64,
    header_start: u64,
    body_start: u64,
    text_end: u64,
    next: u64,
    header_crlf: u64,
    body_crlf: u64,
    /// The in-place patchable status block; `span_len == 0` when there is none.
    span_start: u64,
    span_len: u32,
    date: InternalDate,
    uid: u32,
    flags: Flags,
    disk_flags: Flags,
    bits: u8,
    blank_len: u8,
    keywords: KeywordSet,
    disk_keywords: KeywordSet,
}

impl Meta {
    fn has(&self, bit: u8) -> bool {
        self.bits & bit != 0
    }
    fn set(&mut self, bit: u8, on: bool) {
        if on {
            self.bits |= bit;
        } else {
            self.bits &= !bit;
        }
    }
    /// Whether the file does not yet say what the session knows.
    fn status_dirty(&self) -> bool {
        self.flags != self.disk_flags
            || self.keywords != self.disk_keywords
            || !self.has(UID_ON_DISK)
            || (self.has(CLAIMED) && !self.has(DISK_OLD))
    }
}

/// Where the pseudo-message is, and the `X-IMAP` value in it.
#[derive(Debug, Clone, Copy)]
struct Pseudo {
    start: u64,
    next: u64,
    value: Option<(u64, u64)>,
}

/// What identifies the file's content as we last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_ns: i64,
}

impl Stamp {
    fn of(m: &fs::Metadata) -> Stamp {
        Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.len(),
            mtime: m.mtime(),
            mtime_ns: m.mtime_nsec(),
        }
    }
}

/// An open mailbox.
pub struct Mailbox {
    path: PathBuf,
    file: File,
    driver: &'static dyn Driver,
    read_only: bool,
    /// Whether this session takes \Recent (false for EXAMINE, STATUS, APPEND).
    claims_recent: bool,
    ctx: Context,
    state: StateFile,
    messages: Vec<Meta>,
    keywords: KeywordTable,
    uid_validity: u32,
    /// The highest UID assigned (UIDNEXT - 1).
    last_uid: u32,
    /// What the file's `X-IMAP` says (absent: never written by an IMAP server).
    disk_base: Option<ImapBase>,
    pseudo: Option<Pseudo>,
    damage: Vec<Damage>,
    stamp: Stamp,
    generation: u64,
    pending: Vec<Event>,
}

/// The result of scanning (part of) the file.
struct ScanOutcome {
    messages: Vec<Meta>,
    base: Option<ImapBase>,
    pseudo: Option<Pseudo>,
    damage: Vec<Damage>,
}

impl Mailbox {
    /// Opens the mailbox file at `path`. A read-write open of a file we may not write
    /// falls back to read-only (as UW did), which [`Mailbox::is_read_only`] tells.
    pub fn open(path: &Path, mode: Mode, ctx: &Context) -> Result<Mailbox> {
        let (file, read_only) = open_file(path, mode)?;
        if read_only && mode != Mode::ReadOnly {
            (ctx.log)(&format!(
                "{}: no write access, opened read-only",
                path.display()
            ));
        }
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(Error::NotAMailbox(path.to_path_buf()));
        }
        let format = detect_format(&file, meta.len(), ctx.default_format)
            .ok_or_else(|| Error::NotAMailbox(path.to_path_buf()))?;
        let mut mb = Mailbox {
            path: path.to_path_buf(),
            driver: driver::driver(format),
            read_only,
            claims_recent: mode == Mode::ReadWrite && !read_only,
            state: StateFile::new(&ctx.state_dir, path),
            ctx: ctx.clone(),
            file,
            messages: Vec::new(),
            keywords: KeywordTable::default(),
            uid_validity: 0,
            last_uid: 0,
            disk_base: None,
            pseudo: None,
            damage: Vec::new(),
            stamp: Stamp::of(&meta),
            generation: 0,
            pending: Vec::new(),
        };
        if !read_only && journal::journal_path(&ctx.state_dir, path).exists() {
            let lock = mb.write_lock()?;
            mb.recover_locked()?;
            drop(lock);
        }
        {
            let _lock = ReadLock::acquire(&mb.file, &mb.ctx.lock)?;
            mb.generation = mb.state.read().generation;
            mb.stamp = Stamp::of(&mb.file.metadata()?);
            let out = mb.scan_from(0, 0)?;
            mb.install_full(out);
        }
        mb.log_damage();
        if mb.disk_base.is_none() {
            let shared = mb.state.read();
            mb.uid_validity = if shared.uid_validity != 0 {
                shared.uid_validity
            } else {
                new_uid_validity()
            };
            if !mb.read_only {
                // Persist UIDVALIDITY now: until it is in the file, another session
                // could pick a different one.
                mb.write_back(None)?;
            }
        }
        mb.claim_recent(0);
        mb.pending.clear();
        Ok(mb)
    }

    /// Creates an empty mailbox file (mode 0600) in `format` and writes its
    /// pseudo-message, so that its UIDVALIDITY exists from the start.
    pub fn create(path: &Path, format: Format, ctx: &Context) -> Result<()> {
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode_0600()
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Error::AlreadyExists(path.display().to_string()))
            }
            Err(e) => return Err(Error::from_write(e)),
        }
        let mut c = ctx.clone();
        c.default_format = format;
        let mb = Mailbox::open(path, Mode::Append, &c);
        if mb.is_err() {
            let _ = fs::remove_file(path);
        }
        mb?.close()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn format(&self) -> Format {
        self.driver.format()
    }
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }
    /// The number of messages (EXISTS), including ones expunged elsewhere and not yet
    /// reported.
    pub fn count(&self) -> u32 {
        self.messages.len() as u32
    }
    pub fn uid_validity(&self) -> u32 {
        self.uid_validity
    }
    pub fn uid_next(&self) -> u32 {
        self.last_uid + 1
    }
    pub fn keywords(&self) -> &KeywordTable {
        &self.keywords
    }
    pub fn recent_count(&self) -> u32 {
        self.messages.iter().filter(|m| m.has(RECENT)).count() as u32
    }
    /// Sequence number of the first message without \Seen (for `[UNSEEN n]`).
    pub fn first_unseen(&self) -> Option<u32> {
        self.messages
            .iter()
            .position(|m| !m.flags.contains(Flags::SEEN))
            .map(|i| i as u32 + 1)
    }
    /// Stretches of the file that are not messages (kept as they are).
    pub fn damage(&self) -> &[Damage] {
        &self.damage
    }

    /// What the session knows of message `seq` (1-based).
    pub fn info(&self, seq: u32) -> Option<MessageInfo> {
        let m = self.messages.get((seq as usize).checked_sub(1)?)?;
        Some(MessageInfo {
            uid: m.uid,
            flags: m.flags,
            recent: m.has(RECENT),
            keywords: m.keywords,
            internal_date: m.date,
            rfc822_size: m.header_crlf + m.body_crlf,
            header_size: m.header_crlf,
            expunged: m.has(GHOST),
        })
    }

    /// The UIDs of all messages, in sequence order.
    pub fn uids(&self) -> Vec<u32> {
        self.messages.iter().map(|m| m.uid).collect()
    }

    /// The sequence number of a UID.
    pub fn seq_of_uid(&self, uid: u32) -> Option<u32> {
        self.messages
            .binary_search_by_key(&uid, |m| m.uid)
            .ok()
            .map(|i| i as u32 + 1)
    }

    /// The message header as served: CRLF line ends, bookkeeping fields left out,
    /// ending with the blank line when the message has one.
    pub fn header(&mut self, seq: u32) -> Result<Vec<u8>> {
        let (raw, _) = self.read_part(seq, Part::Header)?;
        Ok(render::served_header(&raw))
    }

    /// The message body (RFC 3501 TEXT) as CRLF text.
    pub fn text(&mut self, seq: u32) -> Result<Vec<u8>> {
        let (raw, _) = self.read_part(seq, Part::Text)?;
        let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
        render::lf_to_crlf(&mut out, &raw, 0);
        Ok(out)
    }

    /// The whole message (RFC 3501 BODY[]) as CRLF text.
    pub fn message(&mut self, seq: u32) -> Result<Vec<u8>> {
        let (raw, split) = self.read_part(seq, Part::Whole)?;
        let mut out = render::served_header(&raw[..split]);
        render::lf_to_crlf(&mut out, &raw[split..], 0);
        Ok(out)
    }

    /// Reads stored octets of message `seq` under a shared lock, first catching up
    /// with any rewrite by someone else so that the offsets are right. Returns the
    /// octets and, for the whole message, where its body starts in them.
    fn read_part(&mut self, seq: u32, part: Part) -> Result<(Vec<u8>, usize)> {
        let _lock = ReadLock::acquire(&self.file, &self.ctx.lock)?;
        if self.changed()? {
            self.refresh_locked(false)?;
        }
        let m = self
            .messages
            .get((seq as usize).wrapping_sub(1))
            .ok_or(Error::NoSuchMessage)?;
        if m.has(GHOST) {
            return Err(Error::Expunged);
        }
        let (a, b) = match part {
            Part::Header => (m.header_start, m.body_start),
            Part::Text => (m.body_start, m.text_end),
            Part::Whole => (m.header_start, m.text_end),
        };
        let split = (m.body_start - m.header_start) as usize;
        let mut buf = vec![0u8; (b - a) as usize];
        self.file.read_exact_at(&mut buf, a)?;
        Ok((buf, split))
    }

    /// Finds changes made by other processes (new mail, flag changes, expunges) and
    /// returns them as events, with any noticed since the last call.
    pub fn sync(&mut self) -> Result<Vec<Event>> {
        self.sync_inner(true)
    }

    /// Like [`Mailbox::sync`], but messages expunged by others stay in the session
    /// (as expunged; their text can no longer be read) and no `Expunge` is returned,
    /// for the moments RFC 3501 §7.4.1 forbids EXPUNGE responses (FETCH, STORE,
    /// SEARCH).
    pub fn sync_without_expunge(&mut self) -> Result<Vec<Event>> {
        self.sync_inner(false)
    }

    fn sync_inner(&mut self, allow_expunge: bool) -> Result<Vec<Event>> {
        if self.changed()? || (allow_expunge && self.messages.iter().any(|m| m.has(GHOST))) {
            if !self.read_only && journal::journal_path(&self.ctx.state_dir, &self.path).exists() {
                let lock = self.write_lock()?;
                self.recover_locked()?;
                self.refresh_locked(allow_expunge)?;
                drop(lock);
            } else {
                let _lock = ReadLock::acquire(&self.file, &self.ctx.lock)?;
                self.refresh_locked(allow_expunge)?;
            }
        }
        Ok(std::mem::take(&mut self.pending))
    }

    /// Whether the file may differ from what the session last saw.
    fn changed(&self) -> Result<bool> {
        let now = match fs::metadata(&self.path) {
            Ok(m) => Stamp::of(&m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
            Err(e) => return Err(e.into()),
        };
        Ok(now != self.stamp)
    }

    /// Re-reads what changed; the caller holds a lock.
    fn refresh_locked(&mut self, allow_expunge: bool) -> Result<()> {
        let on_disk = match fs::metadata(&self.path) {
            Ok(m) => Stamp::of(&m),
            Err(_) => {
                // The mailbox was deleted or renamed away: everything is gone.
                self.reset_to_empty(allow_expunge);
                return Ok(());
            }
        };
        if on_disk.ino != self.stamp.ino || on_disk.dev != self.stamp.dev {
            let (file, _) = open_file(
                &self.path,
                if self.read_only {
                    Mode::ReadOnly
                } else {
                    Mode::ReadWrite
                },
            )?;
            self.file = file;
        }
        let current = Stamp::of(&self.file.metadata()?);
        let generation = self.state.read().generation;
        if current == self.stamp && generation == self.generation {
            if allow_expunge {
                self.reap_ghosts();
            }
            return Ok(());
        }
        let appended_only = current.ino == self.stamp.ino
            && current.size > self.stamp.size
            && generation == self.generation
            && self.tail_is_new_mail(self.stamp.size)?;
        let out = if appended_only {
            let from = self.resume_offset();
            let keep = self.messages.iter().take_while(|m| m.start < from).count();
            let prev = self.messages[..keep].last().map(|m| m.uid).unwrap_or(0);
            let out = self.scan_from(from, prev)?;
            self.merge(out, keep, allow_expunge)
        } else {
            let out = self.scan_from(0, 0)?;
            self.merge(out, 0, allow_expunge)
        };
        self.stamp = current;
        self.generation = generation;
        out
    }

    /// Where a tail scan resumes: the end of the last message, or its start when it
    /// was cut short (a delivery that was still being written).
    fn resume_offset(&self) -> u64 {
        match self.messages.iter().rev().find(|m| !m.has(GHOST)) {
            Some(m) if m.has(TRUNCATED) => m.start,
            Some(m) => m.next,
            None => self.pseudo.map(|p| p.next).unwrap_or(0),
        }
    }

    /// Whether the octets after `old_end` look like mail appended to an unchanged file:
    /// a message opens there, and the last message we know still opens where it did.
    fn tail_is_new_mail(&self, old_end: u64) -> Result<bool> {
        let mut head = [0u8; 5];
        if self.file.read_exact_at(&mut head, old_end).is_err()
            || !head.starts_with(&self.driver.opening()[..5])
        {
            return Ok(false);
        }
        if let Some(last) = self.messages.iter().rev().find(|m| !m.has(GHOST)) {
            if self.file.read_exact_at(&mut head, last.start).is_err()
                || !head.starts_with(&self.driver.opening()[..5])
            {
                return Ok(false);
            }
        }
        if let Some(p) = self.pseudo {
            if self.file.read_exact_at(&mut head, p.start).is_err()
                || !head.starts_with(&self.driver.opening()[..5])
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Scans from `from` (a message boundary) to the end; `prev` is the UID of the last
    /// message before `from`. Applies the UID rule and reads `X-IMAP` afresh.
    fn scan_from(&mut self, from: u64, prev: u32) -> Result<ScanOutcome> {
        let len = self.file.metadata()?.len();
        let mut metas = Vec::new();
        let mut pseudo = None;
        let mut base: Option<ImapBase> = None;
        // X-IMAP: from the scan when it starts at 0, else re-read in place.
        let disk_last = if from == 0 {
            None
        } else {
            self.reread_imap_base()?
        };
        let fallback = self.fallback_date();
        let mut table = std::mem::take(&mut self.keywords);
        let mut prev_uid = prev;
        let mut counter = 0u32;
        let mut last_on_disk = 0u32;
        let mut started = false;
        let damage = scan::scan(
            &self.file,
            len,
            self.driver,
            from,
            fallback,
            |s: Scanned| {
                if s.is_pseudo && from == 0 && !started && pseudo.is_none() {
                    pseudo = Some(Pseudo {
                        start: s.start,
                        next: s.next,
                        value: s.imap_base_span,
                    });
                    base = s.imap_base.clone();
                    return;
                }
                if !started {
                    started = true;
                    if from == 0 && base.is_none() {
                        // UW without a pseudo-message, or Dovecot: X-IMAPbase in the first message.
                        base = s.imap_base.clone();
                    }
                    let b = if from == 0 {
                        base.as_ref()
                    } else {
                        disk_last.as_ref()
                    };
                    if let Some(b) = b {
                        for k in &b.keywords {
                            table.intern(k);
                        }
                        last_on_disk = b.last_uid;
                    }
                    counter = last_on_disk.max(prev_uid);
                }
                let l = last_on_disk;
                let (uid, on_disk) = match s.status.uid {
                    Some(u) if u > prev_uid && u <= l => (u, true),
                    other => {
                        counter = counter.saturating_add(1);
                        (counter, other == Some(counter))
                    }
                };
                prev_uid = uid;
                let mut kw: KeywordSet = 0;
                for k in &s.status.keywords {
                    if let Some(i) = table.intern(k) {
                        kw |= 1 << i;
                    }
                }
                let mut bits = 0;
                if s.status.old {
                    bits |= DISK_OLD;
                }
                if on_disk {
                    bits |= UID_ON_DISK;
                }
                if s.truncated {
                    bits |= TRUNCATED;
                }
                let (span_start, span_len) = match s.status_span {
                    Some((a, b)) if b - a < u32::MAX as u64 => (a, (b - a) as u32),
                    _ => (0, 0),
                };
                metas.push(Meta {
                    start: s.start,
                    header_start: s.header_start,
                    body_start: s.body_start,
                    text_end: s.text_end,
                    next: s.next,
                    header_crlf: s.header_crlf,
                    body_crlf: s.body_crlf,
                    span_start,
                    span_len,
                    date: s.date,
                    uid,
                    flags: s.status.flags,
                    disk_flags: s.status.flags,
                    bits,
                    blank_len: s.blank_len,
                    keywords: kw,
                    disk_keywords: kw,
                });
            },
        )?;
        self.keywords = table;
        if from != 0 {
            base = disk_last;
            pseudo = self.pseudo;
        }
        Ok(ScanOutcome {
            messages: metas,
            base,
            pseudo,
            damage,
        })
    }

    /// The INTERNALDATE of a message whose framing carries none (MMDF without a From_
    /// line): the file's creation time, which in-place rewrites do not change (its
    /// modification time would make the date move at every rewrite). The next rewrite
    /// of such a message writes it a From_ line with this date.
    fn fallback_date(&self) -> InternalDate {
        let meta = self.file.metadata().ok();
        let t = meta
            .as_ref()
            .and_then(|m| m.created().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        let timestamp = t.map(|d| d.as_secs() as i64).unwrap_or(self.stamp.mtime);
        InternalDate { timestamp, offset_minutes: 0 }
    }

    /// Reads the `X-IMAP` value from the pseudo-message where the last scan found it.
    fn reread_imap_base(&self) -> Result<Option<ImapBase>> {
        let Some(Pseudo {
            value: Some((a, b)),
            ..
        }) = self.pseudo
        else {
            return Ok(self.disk_base.clone());
        };
        let mut buf = vec![0u8; (b - a) as usize];
        self.file.read_exact_at(&mut buf, a)?;
        Ok(header::parse_imap_base(&buf).or_else(|| self.disk_base.clone()))
    }

    /// Takes a whole-file scan as the session's view (at open).
    fn install_full(&mut self, out: ScanOutcome) {
        self.messages = out.messages;
        self.pseudo = out.pseudo;
        self.damage = out.damage;
        if let Some(b) = &out.base {
            self.uid_validity = b.uid_validity;
        }
        let disk_last = out.base.as_ref().map(|b| b.last_uid).unwrap_or(0);
        self.last_uid = self
            .messages
            .last()
            .map(|m| m.uid)
            .unwrap_or(0)
            .max(disk_last);
        self.disk_base = out.base;
    }

    /// Merges a scan of the file from message index `keep` on into the session's view.
    fn merge(&mut self, out: ScanOutcome, keep: usize, allow_expunge: bool) -> Result<()> {
        if keep == 0 {
            if let (Some(b), true) = (&out.base, self.uid_validity != 0) {
                if b.uid_validity != self.uid_validity {
                    self.pending.push(Event::UidValidityChanged);
                    self.install_full(out);
                    return Ok(());
                }
            }
            self.pseudo = out.pseudo;
            self.damage = out.damage;
        } else {
            let cut = self.messages.get(keep).map(|m| m.start).unwrap_or(u64::MAX);
            self.damage.retain(|d| d.offset < cut);
            self.damage.extend(out.damage);
        }
        if let Some(b) = &out.base {
            self.disk_base = Some(b.clone());
        }
        let old = self.messages.split_off(keep);
        let before = self.messages.len() + old.len();
        let mut fresh = out.messages.into_iter().peekable();
        let mut flag_changes: Vec<usize> = Vec::new();
        let mut expunges: Vec<u32> = Vec::new();
        for o in old {
            // Fresh messages with UIDs below this old one are not ours to insert.
            while let Some(f) = fresh.peek() {
                if f.uid < o.uid {
                    self.pending.push(Event::UidValidityChanged);
                    let _ = fresh.next();
                } else {
                    break;
                }
            }
            match fresh.peek() {
                Some(f) if f.uid == o.uid => {
                    let mut f = fresh.next().unwrap_or_else(|| o.clone());
                    let added = o.flags.difference(o.disk_flags);
                    let removed = o.disk_flags.difference(o.flags);
                    f.flags = f.disk_flags.union(added).difference(removed);
                    let kw_added = o.keywords & !o.disk_keywords;
                    let kw_removed = o.disk_keywords & !o.keywords;
                    f.keywords = (f.disk_keywords | kw_added) & !kw_removed;
                    f.set(RECENT, o.has(RECENT));
                    f.set(CLAIMED, o.has(CLAIMED));
                    if f.flags != o.flags || f.keywords != o.keywords {
                        flag_changes.push(self.messages.len());
                    }
                    self.messages.push(f);
                }
                _ => {
                    if allow_expunge {
                        expunges.push(self.messages.len() as u32 + 1);
                    } else {
                        let mut g = o;
                        g.set(GHOST, true);
                        self.messages.push(g);
                    }
                }
            }
        }
        let had = self.messages.len();
        let max_uid = self.messages.last().map(|m| m.uid).unwrap_or(0);
        for f in fresh {
            if f.uid <= max_uid {
                continue;
            }
            self.messages.push(f);
        }
        for seq in expunges {
            self.pending.push(Event::Expunge(seq));
        }
        let grown = self.messages.len() > had;
        if grown || self.messages.len() != before {
            self.pending.push(Event::Exists(self.messages.len() as u32));
        }
        let disk_last = self.disk_base.as_ref().map(|b| b.last_uid).unwrap_or(0);
        self.last_uid = self
            .last_uid
            .max(disk_last)
            .max(self.messages.last().map(|m| m.uid).unwrap_or(0));
        if grown {
            self.claim_recent(had);
        }
        for i in flag_changes {
            let m = &self.messages[i];
            self.pending.push(Event::FlagsChanged {
                seq: i as u32 + 1,
                uid: m.uid,
            });
        }
        Ok(())
    }

    /// Reports messages expunged by others that were kept while expunges could not be
    /// reported.
    fn reap_ghosts(&mut self) {
        if !self.messages.iter().any(|m| m.has(GHOST)) {
            return;
        }
        let mut kept = Vec::with_capacity(self.messages.len());
        for m in std::mem::take(&mut self.messages) {
            if m.has(GHOST) {
                self.pending.push(Event::Expunge(kept.len() as u32 + 1));
            } else {
                kept.push(m);
            }
        }
        self.messages = kept;
        self.pending.push(Event::Exists(self.messages.len() as u32));
    }

    fn reset_to_empty(&mut self, allow_expunge: bool) {
        if allow_expunge {
            for _ in 0..self.messages.len() {
                self.pending.push(Event::Expunge(1));
            }
            self.messages.clear();
        } else {
            for m in &mut self.messages {
                m.set(GHOST, true);
            }
        }
    }

    /// Gives this session \Recent for messages from index `from` on that no session
    /// has had yet (RFC 3501 §2.3.2: \Recent belongs to exactly one session).
    fn claim_recent(&mut self, from: usize) {
        let candidates: Vec<usize> = (from..self.messages.len())
            .filter(|&i| !self.messages[i].has(DISK_OLD) && !self.messages[i].has(GHOST))
            .collect();
        if candidates.is_empty() {
            return;
        }
        let uv = self.uid_validity;
        let top = self.messages.last().map(|m| m.uid).unwrap_or(0);
        let claimed_before = if !self.claims_recent {
            let s = self.state.read();
            if s.uid_validity == uv {
                s.recent_claimed
            } else {
                0
            }
        } else {
            self.state
                .update(|s| {
                    let before = if s.uid_validity == uv {
                        s.recent_claimed
                    } else {
                        0
                    };
                    s.uid_validity = uv;
                    s.recent_claimed = before.max(top);
                    before
                })
                .unwrap_or_else(|e| {
                    (self.ctx.log)(&format!(
                        "{}: cannot record \\Recent: {e}",
                        self.path.display()
                    ));
                    0
                })
        };
        let claims = self.claims_recent;
        for i in candidates {
            if self.messages[i].uid > claimed_before {
                self.messages[i].set(RECENT, true);
                self.messages[i].set(CLAIMED, claims);
            }
        }
    }

    /// Changes the flags of message `seq`; written back at the next checkpoint.
    /// Keywords that are new to the mailbox are defined (up to 64). Returns whether
    /// anything changed.
    pub fn store(
        &mut self,
        seq: u32,
        op: StoreOp,
        flags: Flags,
        keywords: &[&str],
    ) -> Result<bool> {
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        let mut set: KeywordSet = 0;
        for k in keywords {
            match self.keywords.intern(k) {
                Some(i) => set |= 1 << i,
                None if op == StoreOp::Remove => {}
                None => {
                    return Err(Error::BadMessage(
                        "keyword not accepted (invalid, or 64 already defined)",
                    ))
                }
            }
        }
        let m = self
            .messages
            .get_mut((seq as usize).wrapping_sub(1))
            .ok_or(Error::NoSuchMessage)?;
        if m.has(GHOST) {
            return Err(Error::Expunged);
        }
        let (f, k) = match op {
            StoreOp::Add => (m.flags.union(flags), m.keywords | set),
            StoreOp::Remove => (m.flags.difference(flags), m.keywords & !set),
            StoreOp::Replace => (flags, set),
        };
        let changed = f != m.flags || k != m.keywords;
        m.flags = f;
        m.keywords = k;
        Ok(changed)
    }

    /// Writes pending flag changes back to the file (RFC 3501 CHECK).
    pub fn checkpoint(&mut self) -> Result<()> {
        if self.read_only || !self.needs_write() {
            return Ok(());
        }
        self.write_back(None).map(|_| ())
    }

    fn needs_write(&self) -> bool {
        self.disk_base.as_ref().is_none_or(|b| {
            b.uid_validity != self.uid_validity
                || b.last_uid != self.last_uid
                || b.keywords.as_slice() != self.keywords.names()
        }) || self.pseudo.is_none()
            || self
                .messages
                .iter()
                .any(|m| !m.has(GHOST) && m.status_dirty())
    }

    /// Removes the messages marked \Deleted (all of them, or only those whose UID is
    /// in `uids`, for UID EXPUNGE) and returns their sequence numbers in the order of
    /// RFC 3501 EXPUNGE responses (each relative to the ones before it).
    pub fn expunge(&mut self, uids: Option<&[u32]>) -> Result<Vec<u32>> {
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        let selected: Option<std::collections::HashSet<u32>> =
            uids.map(|u| u.iter().copied().collect());
        let pick = move |m: &Meta| {
            m.flags.contains(Flags::DELETED) && selected.as_ref().is_none_or(|s| s.contains(&m.uid))
        };
        self.write_back(Some(&pick))
    }

    /// Writes back and closes the mailbox.
    pub fn close(mut self) -> Result<()> {
        self.checkpoint()
    }

    fn write_lock(&self) -> Result<WriteLock> {
        let lock = WriteLock::acquire(&self.path, &self.file, &self.ctx.lock)?;
        if let Some(why) = lock.dotlock_unavailable() {
            (self.ctx.log)(&format!(
                "{}: no dot-lock ({why}); relying on kernel locks",
                self.path.display()
            ));
        }
        Ok(lock)
    }

    fn recover_locked(&mut self) -> Result<()> {
        match journal::recover(&self.ctx.state_dir, &self.path, &self.file)? {
            Recovery::Clean => {}
            r => {
                (self.ctx.log)(&format!(
                    "{}: finished an interrupted rewrite: {r:?}",
                    self.path.display()
                ));
                self.bump_generation();
            }
        }
        Ok(())
    }

    fn bump_generation(&mut self) {
        if let Err(e) = self.state.update(|s| s.generation += 1) {
            (self.ctx.log)(&format!(
                "{}: cannot update state: {e}",
                self.path.display()
            ));
        }
    }

    /// The one write path: lock, catch up with others, plan patches and a tail, commit
    /// through the journal, re-read what moved. `expunge` picks messages to remove.
    fn write_back(&mut self, expunge: Option<&dyn Fn(&Meta) -> bool>) -> Result<Vec<u32>> {
        let lock = self.write_lock()?;
        self.recover_locked()?;
        if self.changed()? || self.state.read().generation != self.generation {
            self.refresh_locked(false)?;
        }
        let result = self.write_back_locked(expunge);
        drop(lock);
        result
    }

    fn write_back_locked(&mut self, expunge: Option<&dyn Fn(&Meta) -> bool>) -> Result<Vec<u32>> {
        let len = self.file.metadata()?.len();
        let desired = ImapBase {
            uid_validity: self.uid_validity,
            last_uid: self.last_uid,
            keywords: self.keywords.names().to_vec(),
        };
        let live: Vec<usize> = (0..self.messages.len())
            .filter(|&i| !self.messages[i].has(GHOST))
            .collect();
        let doomed: Vec<bool> = self
            .messages
            .iter()
            .map(|m| !m.has(GHOST) && expunge.is_some_and(|f| f(m)))
            .collect();
        // Where the tail must start: the first octet whose position changes.
        let mut tail: Option<u64> = None;
        let mut patches: Vec<(u64, Vec<u8>)> = Vec::new();
        let new_value = header::render_imap_base(&desired);
        match self.pseudo {
            Some(Pseudo {
                start,
                value: Some((a, b)),
                ..
            }) => {
                let old_len = (b - a) as usize;
                if new_value.len() <= old_len {
                    let mut v = new_value.clone();
                    v.resize(old_len, b' ');
                    patches.push((a, v));
                } else {
                    tail = Some(start);
                }
            }
            Some(Pseudo { start, .. }) => tail = Some(start),
            None => tail = Some(0),
        }
        for &i in &live {
            let m = &self.messages[i];
            if tail.is_some_and(|t| m.start >= t) {
                break;
            }
            if doomed[i] {
                tail = Some(m.start);
                break;
            }
            if m.status_dirty() {
                if m.span_len == 0 {
                    tail = Some(m.start);
                    break;
                }
                let block = self.status_block(m, Some(m.span_len as usize));
                if block.len() == m.span_len as usize {
                    patches.push((m.span_start, block));
                } else {
                    tail = Some(m.start);
                    break;
                }
            }
        }
        if let Some(t) = tail {
            patches.retain(|(off, _)| *off < t);
        }
        let state_dir = self.ctx.state_dir.clone();
        let mut rw = Rewrite::begin(&state_dir, &self.path, &self.file, len)?;
        for (off, bytes) in patches {
            rw.patch(off, bytes);
        }
        if let Some(t) = tail {
            rw.start_tail(t);
            if t == 0 || self.pseudo.is_some_and(|p| p.start >= t) {
                // A fresh pseudo-message, with room for the X-IMAP value to grow.
                let mut base = desired.clone();
                base.keywords = self.keywords.names().to_vec();
                let (from_line, mut body) =
                    header::render_pseudo_message(&base, fromline::now(), &self.ctx.hostname);
                pad_imap_value(&mut body);
                let mut out = Vec::new();
                self.driver.write_opening(&mut out, &from_line);
                out.extend_from_slice(&body);
                self.driver.write_closing(&mut out);
                rw.write(&out)?;
            }
            let skip_pseudo = self.pseudo.map(|p| (p.start, p.next));
            // Everything from t on, in file order: damage as it is, messages rewritten.
            let mut damage: Vec<Damage> = self
                .damage
                .iter()
                .filter(|d| d.offset >= t)
                .cloned()
                .collect();
            damage.sort_by_key(|d| d.offset);
            let mut di = 0;
            for &i in &live {
                let m = self.messages[i].clone();
                if m.start < t {
                    continue;
                }
                while di < damage.len() && damage[di].offset < m.start {
                    if skip_pseudo
                        .is_none_or(|(a, b)| !(damage[di].offset >= a && damage[di].offset < b))
                    {
                        rw.copy_from_file(damage[di].offset, damage[di].len)?;
                    }
                    di += 1;
                }
                if doomed[i] {
                    continue;
                }
                self.write_message(&mut rw, &m)?;
            }
            while di < damage.len() {
                rw.copy_from_file(damage[di].offset, damage[di].len)?;
                di += 1;
            }
        }
        let applied = rw.commit()?;
        // Messages removed: in RFC 3501 order.
        let mut expunged = Vec::new();
        let mut kept = Vec::with_capacity(self.messages.len());
        for (i, m) in std::mem::take(&mut self.messages).into_iter().enumerate() {
            if doomed[i] {
                expunged.push(kept.len() as u32 + 1);
            } else {
                kept.push(m);
            }
        }
        self.messages = kept;
        // The file now says what the session knows.
        for m in &mut self.messages {
            if !m.has(GHOST) {
                m.disk_flags = m.flags;
                m.disk_keywords = m.keywords;
                m.set(UID_ON_DISK, true);
                if m.has(CLAIMED) {
                    m.set(DISK_OLD, true);
                }
            }
        }
        self.disk_base = Some(desired);
        self.touch_times(applied.new_len)?;
        self.bump_generation();
        self.generation = self.state.read().generation;
        // Re-read what moved, keeping session state by UID.
        if let Some(t) = applied.tail_start {
            let keep = self
                .messages
                .iter()
                .take_while(|m| m.start < t && !m.has(GHOST))
                .count();
            let prev = self.messages[..keep].last().map(|m| m.uid).unwrap_or(0);
            let out = if t == 0 {
                self.scan_from(0, 0)?
            } else {
                self.scan_from(t, prev)?
            };
            let pending = std::mem::take(&mut self.pending);
            // Ghosts after the tail are gone from the file already; the merge keeps them
            // as ghosts (no expunge allowed here) so the client is told later.
            self.merge(out, keep, false)?;
            self.pending = pending;
        }
        self.stamp = Stamp::of(&self.file.metadata()?);
        Ok(expunged)
    }

    fn status_block(&self, m: &Meta, fit: Option<usize>) -> Vec<u8> {
        let names = self.keywords.names_of(m.keywords);
        let old = m.has(DISK_OLD) || m.has(CLAIMED);
        header::render_status(m.flags, old, &names, m.uid, fit)
    }

    /// Writes one kept message into the tail: opening and body as they were, the
    /// header as it was or with a fresh bookkeeping block.
    fn write_message(&self, rw: &mut Rewrite, m: &Meta) -> Result<()> {
        let opening_only = self.driver.closing().is_some()
            && m.header_start - m.start == self.driver.opening().len() as u64;
        if opening_only {
            // MMDF without a From_ line: give it one, so its date stays put.
            let sender = format!("{}@{}", self.ctx.user, self.ctx.hostname);
            let mut out = Vec::new();
            self.driver.write_opening(&mut out, &fromline::format_line(&sender, m.date));
            rw.write(&out)?;
        } else {
            rw.copy_from_file(m.start, m.header_start - m.start)?;
        }
        let blank_len = m.blank_len as u64;
        if m.status_dirty() || m.span_len == 0 || m.has(TRUNCATED) {
            let fields_end = m.body_start - blank_len;
            let mut raw = vec![0u8; (fields_end - m.header_start) as usize];
            self.file.read_exact_at(&mut raw, m.header_start)?;
            let mut out = Vec::with_capacity(raw.len() + 96);
            let mut skipping = false;
            for line in raw.split_inclusive(|&b| b == b'\n') {
                let continuation = line.first().is_some_and(|&b| b == b' ' || b == b'\t');
                if !continuation {
                    skipping = header::internal_field(line).is_some();
                }
                if !skipping {
                    out.extend_from_slice(line);
                }
            }
            if !out.is_empty() && !out.ends_with(b"\n") {
                out.push(b'\n');
            }
            out.extend_from_slice(&self.status_block(m, None));
            if blank_len == 0 {
                out.push(b'\n');
            }
            rw.write(&out)?;
            if blank_len > 0 {
                rw.copy_from_file(fields_end, blank_len)?;
            }
        } else {
            rw.copy_from_file(m.header_start, m.body_start - m.header_start)?;
        }
        rw.copy_from_file(m.body_start, m.text_end - m.body_start)?;
        if m.text_end > m.header_start {
            let mut last = [0u8; 1];
            self.file.read_exact_at(&mut last, m.text_end - 1)?;
            if last[0] != b'\n' {
                rw.write(b"\n")?;
            }
        }
        let mut closing = Vec::new();
        self.driver.write_closing(&mut closing);
        rw.write(&closing)
    }

    /// Sets the file times after a rewrite: the modification time must change even
    /// within one clock tick (other sessions detect rewrites by it), and the access
    /// time at least as new, so the mailbox does not look like it has new mail.
    fn touch_times(&self, _len: u64) -> Result<()> {
        let m = self.file.metadata()?;
        let old = (self.stamp.mtime, self.stamp.mtime_ns);
        let mut now = (m.mtime(), m.mtime_nsec());
        if now <= old {
            now = if old.1 >= 999_999_999 {
                (old.0 + 1, 0)
            } else {
                (old.0, old.1 + 1)
            };
        }
        let times = [
            libc::timespec {
                tv_sec: now.0 as libc::time_t,
                tv_nsec: now.1 as libc::c_long,
            },
            libc::timespec {
                tv_sec: now.0 as libc::time_t,
                tv_nsec: now.1 as libc::c_long,
            },
        ];
        // SAFETY: futimens on our open descriptor with a two-element array we own.
        unsafe {
            libc::futimens(self.file.as_raw_fd(), times.as_ptr());
        }
        Ok(())
    }

    /// Appends messages, all or nothing (MULTIAPPEND), and returns their UIDs.
    pub fn append(&mut self, messages: &[AppendMessage]) -> Result<Vec<u32>> {
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        let prepared: Vec<render::Prepared> = messages
            .iter()
            .map(|m| render::prepare(m.bytes, self.driver))
            .collect::<Result<_>>()?;
        let lock = self.write_lock()?;
        self.recover_locked()?;
        if self.changed()? || self.state.read().generation != self.generation {
            self.refresh_locked(false)?;
        }
        // New UIDs must follow every UID the file implies, so unwritten ones are
        // written first.
        let mut keyword_sets = Vec::with_capacity(messages.len());
        for m in messages {
            let mut names: Vec<String> = Vec::new();
            for k in &m.keywords {
                match self.keywords.intern(k) {
                    Some(i) => names.push(self.keywords.names()[i].clone()),
                    None => {
                        return Err(Error::BadMessage(
                            "keyword not accepted (invalid, or 64 already defined)",
                        ))
                    }
                }
            }
            keyword_sets.push(names);
        }
        if self.needs_write() || self.pseudo.is_none_or(|p| p.value.is_none()) {
            self.write_back_locked(None)?;
        }
        let len = self.file.metadata()?.len();
        let first_uid = self.last_uid + 1;
        let mut out = Vec::new();
        let from_sender = format!("{}@{}", self.ctx.user, self.ctx.hostname);
        for (i, (m, p)) in messages.iter().zip(&prepared).enumerate() {
            let uid = first_uid + i as u32;
            let kws: Vec<&str> = keyword_sets[i].iter().map(String::as_str).collect();
            let block = header::render_status(m.flags, false, &kws, uid, None);
            let date = m.internal_date.unwrap_or_else(fromline::now);
            let from_line = fromline::format_line(&from_sender, date);
            render::frame(&mut out, self.driver, &from_line, p, &block);
        }
        let last = first_uid + messages.len() as u32 - 1;
        let mut rw = Rewrite::begin(&self.ctx.state_dir.clone(), &self.path, &self.file, len)?;
        if let Some(Pseudo {
            value: Some((a, b)),
            ..
        }) = self.pseudo
        {
            let base = ImapBase {
                uid_validity: self.uid_validity,
                last_uid: last,
                keywords: self.keywords.names().to_vec(),
            };
            let mut v = header::render_imap_base(&base);
            if v.len() <= (b - a) as usize {
                v.resize((b - a) as usize, b' ');
                rw.patch(a, v);
            }
        }
        rw.start_tail(len);
        rw.write(&out)?;
        rw.commit()?;
        self.touch_times(len)?;
        // Pick the new messages up as any session would.
        let keep = self.messages.len();
        let prev = self.messages.last().map(|m| m.uid).unwrap_or(0);
        let scanned = self.scan_from(len, prev)?;
        self.merge(scanned, keep, false)?;
        self.stamp = Stamp::of(&self.file.metadata()?);
        drop(lock);
        Ok((first_uid..=last).collect())
    }

    /// Copies messages (by sequence number) into another open mailbox, of any format,
    /// with their flags, keywords and internal dates; all or nothing. Returns the
    /// (source UID, destination UID) pairs for COPYUID.
    pub fn copy_to(&mut self, seqs: &[u32], dest: &mut Mailbox) -> Result<Vec<(u32, u32)>> {
        let mut texts = Vec::with_capacity(seqs.len());
        let mut infos = Vec::with_capacity(seqs.len());
        for &seq in seqs {
            let info = self.info(seq).ok_or(Error::NoSuchMessage)?;
            texts.push(self.message(seq)?);
            infos.push(info);
        }
        let msgs: Vec<AppendMessage> = infos
            .iter()
            .zip(&texts)
            .map(|(info, text)| AppendMessage {
                bytes: text,
                flags: info.flags,
                keywords: self
                    .keywords
                    .names_of(info.keywords)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
                internal_date: Some(info.internal_date),
            })
            .collect();
        let uids = dest.append(&msgs)?;
        Ok(infos.iter().map(|i| i.uid).zip(uids).collect())
    }

    fn log_damage(&self) {
        for d in &self.damage {
            (self.ctx.log)(&format!(
                "{}: skipped {} octets of {} at offset {} (kept in the file)",
                self.path.display(),
                d.len,
                d.what,
                d.offset
            ));
        }
        for m in self.messages.iter().filter(|m| m.has(TRUNCATED)) {
            (self.ctx.log)(&format!(
                "{}: message UID {} at offset {} is cut short",
                self.path.display(),
                m.uid,
                m.start
            ));
        }
    }
}

/// Room left after the `X-IMAP` value so that new keywords usually fit in place.
const IMAP_VALUE_ROOM: usize = 64;

fn pad_imap_value(pseudo_body: &mut Vec<u8>) {
    if let Some(i) = memchr::memmem::find(pseudo_body, b"\nX-IMAP: ") {
        if let Some(eol) = memchr::memchr(b'\n', &pseudo_body[i + 1..]) {
            let at = i + 1 + eol;
            pseudo_body.splice(at..at, std::iter::repeat_n(b' ', IMAP_VALUE_ROOM));
        }
    }
}

/// A new UIDVALIDITY: the time, as UW chose it.
fn new_uid_validity() -> u32 {
    (fromline::now().timestamp as u32).max(1)
}

/// Which stored octets of a message to read.
#[derive(Clone, Copy)]
enum Part {
    Header,
    Text,
    Whole,
}

trait Mode0600 {
    fn mode_0600(&mut self) -> &mut Self;
}
impl Mode0600 for OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::mode(self, 0o600)
    }
}

fn open_file(path: &Path, mode: Mode) -> Result<(File, bool)> {
    let ro = || -> Result<(File, bool)> {
        match File::open(path) {
            Ok(f) => Ok((f, true)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(Error::NoSuchMailbox(path.display().to_string()))
            }
            Err(e) => Err(e.into()),
        }
    };
    match mode {
        Mode::ReadOnly => ro(),
        Mode::ReadWrite | Mode::Append => {
            match OpenOptions::new().read(true).write(true).open(path) {
                Ok(f) => Ok((f, false)),
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => ro(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    Err(Error::NoSuchMailbox(path.display().to_string()))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// The format of an open file: from its first octets, or — when damage precedes the
/// first message — from the first message boundary in its first 64 KiB.
fn detect_format(file: &File, len: u64, default: Format) -> Option<Format> {
    let mut head = vec![0u8; len.min(65536) as usize];
    file.read_exact_at(&mut head, 0).ok()?;
    match format::detect(&head) {
        Detected::Empty => Some(default),
        Detected::Format(f) => Some(f),
        Detected::Unknown => {
            let mbox = memchr::memmem::find_iter(&head, b"\nFrom ").any(|i| {
                let line = &head[i + 1..];
                let end = memchr::memchr(b'\n', line).unwrap_or(line.len());
                fromline::parse(&line[..end]).is_some()
            });
            if memchr::memmem::find(&head, b"\n\x01\x01\x01\x01\n").is_some() {
                Some(Format::Mmdf)
            } else if mbox {
                Some(Format::Mbox)
            } else {
                None
            }
        }
    }
}
