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
use crate::regular;
use crate::render;
use crate::scan::{self, Damage, Scanned};
use crate::state::{SharedState, StateFile};
use crate::modseq::{RecordFile, Vanished};
use crate::uid::{ModSeq, SeqNumber, Uid, Uidvalidity};

mod append;
mod index;
mod modseqs;
mod sync;
mod write;

pub use index::{remove_index, seal_index_for_fuzzing};

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
    Expunge(SeqNumber),
    /// The mailbox now holds this many messages.
    Exists(u32),
    /// Another session changed this message's flags.
    FlagsChanged { seq: SeqNumber, uid: Uid },
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
    pub uid: Uid,
    pub flags: Flags,
    pub recent: bool,
    pub keywords: KeywordSet,
    pub internal_date: InternalDate,
    /// RFC822.SIZE: header (bookkeeping left out) and body, in CRLF octets.
    pub rfc822_size: u64,
    pub header_size: u64,
    /// Expunged by another session but not yet reported (RFC 3501 §7.4.1).
    pub expunged: bool,
    /// The modification sequence of its flags as the file has them (RFC 7162).
    pub modseq: ModSeq,
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
    uid: Uid,
    flags: Flags,
    disk_flags: Flags,
    bits: u8,
    blank_len: u8,
    keywords: KeywordSet,
    disk_keywords: KeywordSet,
    /// Its modseq (RFC 7162), from the modseq record; 0 until a look at the record.
    modseq: u64,
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
    /// Whether the session changed flags or keywords that the file does not have yet:
    /// the only thing that makes a checkpoint write.
    fn flags_dirty(&self) -> bool {
        self.flags != self.disk_flags || self.keywords != self.disk_keywords
    }
    /// Whether the header's bookkeeping block says less than the session knows: also
    /// a UID not yet written, or `O` not yet written for a \Recent message. Made good
    /// whenever the message is written anyway, never on its own (the UID rule and
    /// the state file already keep these facts).
    fn header_stale(&self) -> bool {
        self.flags_dirty() || !self.has(UID_ON_DISK) || (self.has(CLAIMED) && !self.has(DISK_OLD))
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
    /// Known once the open has read the file or the state (absent only before).
    uid_validity: Option<Uidvalidity>,
    /// The highest UID assigned (UIDNEXT - 1), if any.
    last_uid: Option<Uid>,
    /// What the file's `X-IMAP` says (absent: never written by an IMAP server).
    disk_base: Option<ImapBase>,
    pseudo: Option<Pseudo>,
    damage: Vec<Damage>,
    stamp: Stamp,
    generation: u64,
    pending: Vec<Event>,
    /// The shared lock that recent reads took and that the next few may keep using.
    lease: Option<ReadLease>,
    /// Whether reads may keep their lock for the next ones ([`Mailbox::batch_reads`]).
    batching: bool,
    /// Whether the open used the mailbox index ([`Mailbox::opened_from_index`]).
    from_index: bool,
    /// The UIDs in memory are a renumbering (UID space exhausted) that the file does not
    /// say yet: the next write rewrites every message and the `X-IMAP` value.
    renumbered: bool,
    /// The modseq record ([`crate::modseq`]).
    modseqs: RecordFile,
    /// HIGHESTMODSEQ as of the last look at the record.
    highest_modseq: Option<ModSeq>,
    /// The expunge history then, and the modseq from which it is complete.
    history: Vec<Vanished>,
    history_floor: ModSeq,
    /// This session has written the file, so the mailbox index (if any) describes
    /// it as it was: [`Mailbox::close`] saves it again.
    wrote: bool,
}

/// A shared lock kept across consecutive reads (a FETCH of many messages), so that
/// each read costs one `pread`, not a lock, a stat, an unlock and the descriptors
/// around them. It is given up after [`LEASE_READS`] reads or [`LEASE_TIME`], before
/// any write or sync (whose locks on the same descriptor would silently end it), and
/// by [`Mailbox::release_read_lock`] when the command is done or before output that
/// may block, so that deliveries never wait on an idle or slow client.
struct ReadLease {
    _lock: ReadLock,
    taken: std::time::Instant,
    reads: u32,
}

const LEASE_READS: u32 = 256;
const LEASE_TIME: std::time::Duration = std::time::Duration::from_millis(20);

/// The result of scanning (part of) the file.
struct ScanOutcome {
    messages: Vec<Meta>,
    base: Option<ImapBase>,
    pseudo: Option<Pseudo>,
    damage: Vec<Damage>,
    /// The last UID assigned before the scan's messages (`X-IMAP`, or the state file).
    floor: Option<Uid>,
    /// What the UID rule read of the shared state ([`index::rule_input`]).
    rule: Option<Uid>,
    /// The file's UIDs were exhausted and the scan numbered the messages afresh under
    /// a new UIDVALIDITY (`base` says which), which the file does not say yet.
    renumbered: bool,
}

/// What a write-back must do besides writing changed flags.
#[derive(Clone, Copy, Default)]
struct WritePlan<'a> {
    /// Messages to remove.
    expunge: Option<&'a dyn Fn(&Meta) -> bool>,
    /// Write the UID of every message that has none on disk yet (before an APPEND,
    /// whose new UIDs must come after them by the UID rule).
    persist_uids: bool,
    /// Write a pseudo-message if there is none (a new mailbox's UIDVALIDITY).
    force_pseudo: bool,
}

impl Mailbox {
    /// A handle on `file` that has read nothing of it yet: no messages, no UIDs, no
    /// locks; read-write, not taking \Recent.
    fn unread(path: &Path, file: File, format: Format, ctx: &Context, stamp: Stamp) -> Mailbox {
        Mailbox {
            path: path.to_path_buf(),
            driver: driver::driver(format),
            read_only: false,
            claims_recent: false,
            state: StateFile::new(&ctx.state_dir, path),
            ctx: ctx.clone(),
            file,
            messages: Vec::new(),
            keywords: KeywordTable::default(),
            uid_validity: None,
            last_uid: None,
            disk_base: None,
            pseudo: None,
            damage: Vec::new(),
            stamp,
            generation: 0,
            pending: Vec::new(),
            lease: None,
            batching: false,
            from_index: false,
            renumbered: false,
            modseqs: RecordFile::new(&ctx.state_dir, path),
            highest_modseq: None,
            history: Vec::new(),
            history_floor: ModSeq::MAX,
            wrote: false,
        }
    }

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
        // Another session may be rewriting the first octets right now: look under a
        // shared lock. A crash in the middle of such a rewrite is finished first.
        let detect = |file: &File| -> Result<Option<Format>> {
            let _lock = ReadLock::acquire(file, &ctx.lock)?;
            Ok(detect_format(file, file.metadata()?.len(), ctx.default_format))
        };
        let detected = detect(&file)?;
        let pending = detected.is_none() && journal::pending(&ctx.state_dir, path);
        if detected.is_none() && !pending {
            return Err(Error::NotAMailbox(path.to_path_buf()));
        }
        let format = detected.unwrap_or(ctx.default_format);
        let mut mb = Mailbox::unread(path, file, format, ctx, Stamp::of(&meta));
        mb.read_only = read_only;
        mb.claims_recent = mode == Mode::ReadWrite && !read_only;
        mb.finish_interrupted_rewrite()?;
        if pending {
            let format = detect(&mb.file)?.ok_or_else(|| Error::NotAMailbox(path.to_path_buf()))?;
            mb.driver = driver::driver(format);
        }
        {
            let _lock = ReadLock::acquire(&mb.file, &mb.ctx.lock)?;
            let shared = mb.state.read();
            mb.generation = shared.generation;
            mb.stamp = Stamp::of(&mb.file.metadata()?);
            mb.from_index = mb.open_from_index(&shared)?;
            if !mb.from_index {
                let out = mb.scan_from(0, None)?;
                let rule = out.rule;
                mb.install_full(out);
                mb.save_index(rule);
            }
            mb.agree_uid_validity();
            mb.note_modseqs();
        }
        mb.log_damage();
        mb.claim_recent(0);
        mb.pending.clear();
        Ok(mb)
    }

    /// The UIDVALIDITY of a mailbox whose file does not say it.
    fn agree_uid_validity(&mut self) {
        if self.disk_base.is_none() {
            // A mailbox no IMAP server has written to (a fresh spool file): its
            // UIDVALIDITY lives in the shared state file, created once under its lock, so
            // every session agrees, and goes into the file with the first rewrite that
            // reaches its first message. Opening never rewrites a whole mailbox.
            let recorded = self.recorded_last_uid();
            let ctx = &self.ctx;
            let uid_validity = self
                .state
                .update(|s| {
                    if s.uid_validity.is_none() {
                        s.uid_validity = Some(new_uid_validity(ctx));
                        s.last_uid = s.last_uid.max(recorded);
                    }
                    s.uid_validity
                })
                .ok()
                .flatten()
                .unwrap_or_else(|| new_uid_validity(ctx));
            self.uid_validity = Some(uid_validity);
        }
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
            // Whatever the state directory kept of an earlier mailbox of this name
            // (deleted by another program) is not this one's.
            Ok(_) => crate::state::forget(&ctx.state_dir, path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Error::AlreadyExists(path.display().to_string()))
            }
            Err(e) => return Err(Error::from_write(e)),
        }
        let mut c = ctx.clone();
        c.default_format = format;
        let written = Mailbox::open(path, Mode::Append, &c).and_then(|mut mb| {
            mb.write_back(WritePlan {
                force_pseudo: true,
                ..WritePlan::default()
            })
        });
        if let Err(e) = written {
            let _ = fs::remove_file(path);
            return Err(e);
        }
        Ok(())
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
    /// Whether the open found what it needed in the mailbox index instead of reading
    /// every message (diagnostics).
    pub fn opened_from_index(&self) -> bool {
        self.from_index
    }
    /// The number of messages (EXISTS), including ones expunged elsewhere and not yet
    /// reported.
    pub fn count(&self) -> u32 {
        self.messages.len() as u32
    }
    pub fn uid_validity(&self) -> Uidvalidity {
        // Every open sets it (from the file, the state file, or afresh).
        self.uid_validity.unwrap_or(Uidvalidity::MIN)
    }
    /// UIDNEXT (RFC 3501 §2.3.1.1): one more than the last UID assigned.
    pub fn uid_next(&self) -> Uid {
        Uid::next_after(self.last_uid)
    }
    pub fn keywords(&self) -> &KeywordTable {
        &self.keywords
    }
    pub fn recent_count(&self) -> u32 {
        self.messages.iter().filter(|m| m.has(RECENT)).count() as u32
    }
    /// Sequence number of the first message without \Seen (for `[UNSEEN n]`).
    pub fn first_unseen(&self) -> Option<SeqNumber> {
        self.messages
            .iter()
            .position(|m| !m.flags.contains(Flags::SEEN))
            .and_then(SeqNumber::from_index)
    }
    /// Stretches of the file that are not messages (kept as they are).
    pub fn damage(&self) -> &[Damage] {
        &self.damage
    }

    /// What the session knows of message `seq`.
    pub fn info(&self, seq: SeqNumber) -> Option<MessageInfo> {
        let m = self.messages.get(seq.index())?;
        Some(MessageInfo {
            uid: m.uid,
            flags: m.flags,
            recent: m.has(RECENT),
            keywords: m.keywords,
            internal_date: m.date,
            rfc822_size: m.header_crlf + m.body_crlf,
            header_size: m.header_crlf,
            expunged: m.has(GHOST),
            modseq: self.modseq_of(m),
        })
    }

    /// The sequence numbers of all messages, 1 to [`Mailbox::count`].
    pub fn seq_numbers(&self) -> impl Iterator<Item = SeqNumber> + '_ {
        (0..self.messages.len()).map_while(SeqNumber::from_index)
    }

    /// The UIDs of all messages, in sequence order, without allocating.
    pub fn uid_iter(&self) -> impl Iterator<Item = Uid> + '_ {
        self.messages.iter().map(|m| m.uid)
    }

    /// The UIDs of all messages, in sequence order.
    pub fn uids(&self) -> Vec<Uid> {
        self.messages.iter().map(|m| m.uid).collect()
    }

    /// The sequence number of a UID.
    pub fn seq_of_uid(&self, uid: Uid) -> Option<SeqNumber> {
        self.messages
            .binary_search_by_key(&uid, |m| m.uid)
            .ok()
            .and_then(SeqNumber::from_index)
    }

    /// The message header as served: CRLF line ends, bookkeeping fields left out,
    /// ending with the blank line when the message has one.
    pub fn header(&mut self, seq: SeqNumber) -> Result<Vec<u8>> {
        let (raw, _) = self.read_part(seq, Part::Header)?;
        Ok(render::served_header(&raw))
    }

    /// The message body (RFC 3501 TEXT) as CRLF text.
    pub fn text(&mut self, seq: SeqNumber) -> Result<Vec<u8>> {
        let (raw, _) = self.read_part(seq, Part::Text)?;
        let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
        render::lf_to_crlf(&mut out, &raw, 0);
        Ok(out)
    }

    /// The whole message (RFC 3501 BODY[]) as CRLF text.
    pub fn message(&mut self, seq: SeqNumber) -> Result<Vec<u8>> {
        let (raw, split) = self.read_part(seq, Part::Whole)?;
        let mut out = render::served_header(&raw[..split]);
        render::lf_to_crlf(&mut out, &raw[split..], 0);
        Ok(out)
    }

    /// Reads stored octets of message `seq` under a shared lock, first catching up
    /// with any rewrite by someone else so that the offsets are right. Returns the
    /// octets and, for the whole message, where its body starts in them.
    fn read_part(&mut self, seq: SeqNumber, part: Part) -> Result<(Vec<u8>, usize)> {
        let read = self.read_part_locked(seq, part);
        if !self.batching {
            self.lease = None;
        }
        read
    }

    fn read_part_locked(&mut self, seq: SeqNumber, part: Part) -> Result<(Vec<u8>, usize)> {
        self.lease_read_lock()?;
        let m = self
            .messages
            .get(seq.index())
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

    /// Holds the shared lock for one more read: the lease's, while it lasts, or a new
    /// one, after which the file is checked for changes by others (under the lease
    /// nobody can have changed it).
    fn lease_read_lock(&mut self) -> Result<()> {
        if let Some(lease) = &mut self.lease {
            if lease.reads < LEASE_READS && lease.taken.elapsed() < LEASE_TIME {
                lease.reads += 1;
                return Ok(());
            }
        }
        self.lease = None;
        let lock = ReadLock::acquire(&self.file, &self.ctx.lock)?;
        if self.changed()? {
            self.refresh_locked(false)?;
        }
        self.lease = Some(ReadLease {
            _lock: lock,
            taken: std::time::Instant::now(),
            reads: 1,
        });
        Ok(())
    }

    /// Lets the reads that follow share one shared lock (see [`ReadLease`]) until
    /// [`Mailbox::release_read_lock`]: for a command that reads many messages.
    /// Without it each read locks for itself, so that a handle never holds a lock
    /// between calls that another handle in the same process may need.
    pub fn batch_reads(&mut self) {
        self.batching = true;
    }

    /// Gives up the shared lock that recent reads kept and ends the batch. Servers
    /// call it when a command is done and before writing output that may block.
    pub fn release_read_lock(&mut self) {
        self.lease = None;
        self.batching = false;
    }

    /// Changes the flags of message `seq`; written back at the next checkpoint.
    /// Keywords that are new to the mailbox are defined (up to 64). Returns whether
    /// anything changed.
    pub fn store(
        &mut self,
        seq: SeqNumber,
        op: StoreOp,
        flags: Flags,
        keywords: &[&str],
    ) -> Result<bool> {
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        let set: KeywordSet = if op == StoreOp::Remove {
            // Removing a keyword the mailbox does not have defines nothing.
            keywords
                .iter()
                .filter_map(|k| self.keywords.index(k))
                .fold(0, |set, i| set | 1 << i)
        } else {
            self.keywords.intern_all(keywords).ok_or(Error::BadMessage(
                "keyword not accepted (invalid, or 64 already defined)",
            ))?
        };
        let m = self
            .messages
            .get_mut(seq.index())
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
/// (per user, never the same twice: [`crate::state::allocate_uid_validity`]).
fn new_uid_validity(ctx: &Context) -> Uidvalidity {
    let n = crate::state::allocate_uid_validity(&ctx.state_dir, fromline::now().timestamp as u32);
    Uidvalidity::new(n).unwrap_or(Uidvalidity::MIN)
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

/// Opens a mailbox file; anything but a regular file is [`Error::NotAMailbox`] at
/// once, without blocking (see [`crate::regular`]).
fn open_file(path: &Path, mode: Mode) -> Result<(File, bool)> {
    let refused = |e: io::Error| -> Error {
        if e.kind() == io::ErrorKind::NotFound {
            Error::NoSuchMailbox(path.display().to_string())
        } else if regular::is_not_regular(&e) {
            Error::NotAMailbox(path.to_path_buf())
        } else {
            e.into()
        }
    };
    let ro = || -> Result<(File, bool)> {
        regular::open_read(path).map(|f| (f, true)).map_err(refused)
    };
    match mode {
        Mode::ReadOnly => ro(),
        Mode::ReadWrite | Mode::Append => {
            match regular::open(path, OpenOptions::new().read(true).write(true)) {
                Ok(f) => Ok((f, false)),
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => ro(),
                Err(e) => Err(refused(e)),
            }
        }
    }
}

/// The format of an open file: from its first octets, or — when damage precedes the
/// first message — from the first message boundary in its first 64 KiB.
fn detect_format(file: &File, len: u64, default: Format) -> Option<Format> {
    // No lock is held yet: another session's expunge may shrink the file after `len`
    // was taken, so read what is there (a file's first octets say its format whatever
    // a rewrite does to the rest) instead of failing the open as "not a mailbox".
    let mut head = vec![0u8; len.min(65536) as usize];
    let mut got = 0;
    while got < head.len() {
        match file.read_at(&mut head[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    head.truncate(got);
    match format::detect(&head) {
        Detected::Empty => Some(default),
        Detected::Format(f) => Some(f),
        Detected::Unknown => {
            // Damage first: the first From_ line may follow a newline or, where a crash
            // lost a delivery, a run of NULs.
            let from_line_at = |i: usize| {
                let line = &head[i..];
                let end = memchr::memchr(b'\n', line).unwrap_or(line.len());
                fromline::parse(&line[..end]).is_some()
            };
            let mbox = memchr::memmem::find_iter(&head, b"\nFrom ").any(|i| from_line_at(i + 1))
                || memchr::memmem::find_iter(&head, b"\0From ").any(|i| from_line_at(i + 1));
            if memchr::memmem::find(&head, b"\n\x01\x01\x01\x01\n").is_some()
                || memchr::memmem::find(&head, b"\0\x01\x01\x01\x01\n").is_some()
            {
                Some(Format::Mmdf)
            } else if mbox {
                Some(Format::Mbox)
            } else if head.iter().all(|&b| b == 0) {
                // Nothing but NULs (what a crash can leave of a spool file): an empty
                // mailbox whose damage is kept, so the user's INBOX still opens.
                Some(default)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The length is taken before any lock; an expunge may shrink the file before
    /// the first octets are read. Stress runs answered SELECT with "not a mailbox".
    #[test]
    fn format_detection_survives_a_file_that_shrank() {
        let dir = tempfile::tempdir().unwrap();
        for (text, format) in [
            (&b"\x01\x01\x01\x01\nFrom a@b  Mon Jan  1 00:00:00 2024\nSubject: x\n\nb\n\x01\x01\x01\x01\n"[..], Format::Mmdf),
            (b"From a@b  Mon Jan  1 00:00:00 2024\nSubject: x\n\nb\n\n", Format::Mbox),
        ] {
            let p = dir.path().join("box");
            fs::write(&p, text).unwrap();
            let f = File::open(&p).unwrap();
            let stale = text.len() as u64 + 4096;
            assert_eq!(detect_format(&f, stale, Format::Mbox), Some(format));
            assert_eq!(detect_format(&f, 0, Format::Mmdf), Some(Format::Mmdf));
        }
    }
}
