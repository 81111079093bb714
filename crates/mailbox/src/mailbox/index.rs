//! The mailbox index: what a full scan of a large mailbox found, kept in the user's
//! state directory so that the next open of the unchanged file (or of the file with
//! only new mail after it) need not read every message again.
//!
//! It is trusted exactly as a running session trusts its own view between commands:
//! the file must be the same inode with the same size and modification time (to the
//! nanosecond) at the same pullmail generation, or have only grown by mail that opens
//! where the old end was. On top of that, sampled messages must still open where the
//! index says, and the state that the UID rule read must be the same. Anything else,
//! or a file that does not check out (torn, garbled, another version), is ignored and
//! the mailbox is scanned as if there were no index; losing it costs one scan.

use std::io::Write as _;

use super::*;
use crate::binary::{fnv, put_u32, put_u64, Reader};

/// Mailboxes with fewer messages are scanned in a few milliseconds: no index.
const INDEX_MIN_MESSAGES: usize = 1_000;

const MAGIC: &[u8; 8] = b"PMINDEX1";
/// The octets of one message's record.
const RECORD: usize = 10 * 8 + 4 + 4 + 2 + 3;
/// Messages whose opening is checked against the file before the index is used.
const SAMPLES: usize = 64;
/// A larger index file is not ours (a record is under 100 octets: 2.7 million
/// messages fit); it is ignored and the mailbox scanned.
const MAX_INDEX_SIZE: u64 = 256 << 20;

/// A loaded index: the scan it saved and the file it describes.
pub(super) struct Index {
    pub stamp: Stamp,
    pub generation: u64,
    pub outcome: ScanOutcome,
    pub keywords: KeywordTable,
}

/// Whether a mailbox of `messages` messages gets an index.
pub(super) fn worth_an_index(messages: usize) -> bool {
    messages >= INDEX_MIN_MESSAGES
}

/// The part of the shared state that the UID rule of a full scan depends on.
pub(super) fn rule_input(shared: &SharedState, base: Option<&ImapBase>) -> Option<Uid> {
    match base {
        Some(b) if shared.uid_validity == Some(b.uid_validity) => shared.last_uid,
        Some(_) => None,
        None if shared.uid_validity.is_some() => shared.last_uid,
        None => None,
    }
}

/// Removes the index of a mailbox that is deleted or renamed away (it could never
/// be used again; this only frees its space).
pub fn remove_index(ctx: &Context, mailbox: &Path) {
    let _ = fs::remove_file(index_path(ctx, mailbox));
}

fn index_path(ctx: &Context, mailbox: &Path) -> PathBuf {
    ctx.state_dir
        .join(format!("{}.index", crate::state::path_key(mailbox)))
}

/// Writes an index for `mailbox` whose magic, stamp (the file as it is now) and
/// checksum check out, around `rest` (everything after the stamp): for the fuzz
/// target that feeds [`Mailbox::open`] indexes that pass the first checks and are
/// anything after them.
#[doc(hidden)]
pub fn seal_index_for_fuzzing(ctx: &Context, mailbox: &Path, rest: &[u8]) -> io::Result<()> {
    let stamp = Stamp::of(&fs::metadata(mailbox)?);
    let mut out = MAGIC.to_vec();
    for v in [
        stamp.dev,
        stamp.ino,
        stamp.size,
        stamp.mtime as u64,
        stamp.mtime_ns as u64,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(rest);
    let sum = fnv(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    crate::state::create_private_dir(&ctx.state_dir)?;
    fs::write(index_path(ctx, mailbox), out)
}

impl Mailbox {
    /// Saves what the session knows of the file right after a scan, when it is worth
    /// it and exact: no damage, nothing cut short, no expunged messages, no change of
    /// flags made by the session yet. Failures are logged; the index is optional.
    pub(super) fn save_index(&self, rule: Option<Uid>) {
        if self.messages.len() < INDEX_MIN_MESSAGES
            || self.renumbered
            || !self.damage.is_empty()
            || self
                .messages
                .iter()
                .any(|m| m.has(TRUNCATED) || m.has(GHOST) || m.flags_dirty())
        {
            return;
        }
        let mut out = Vec::with_capacity(256 + self.messages.len() * RECORD);
        out.extend_from_slice(MAGIC);
        let s = &self.stamp;
        for v in [
            s.dev,
            s.ino,
            s.size,
            s.mtime as u64,
            s.mtime_ns as u64,
            self.generation,
        ] {
            put_u64(&mut out, v);
        }
        put_u32(&mut out, rule.map_or(0, Uid::get));
        put_u32(&mut out, self.last_uid.map_or(0, Uid::get));
        match &self.disk_base {
            Some(b) => {
                out.push(1);
                put_u32(&mut out, b.uid_validity.get());
                put_u32(&mut out, b.last_uid.map_or(0, Uid::get));
                put_names(&mut out, &b.keywords);
            }
            None => out.push(0),
        }
        match self.pseudo {
            Some(p) => {
                out.push(1);
                put_u64(&mut out, p.start);
                put_u64(&mut out, p.next);
                let (a, b) = p.value.map_or((0, 0), |v| v);
                out.push(p.value.is_some() as u8);
                put_u64(&mut out, a);
                put_u64(&mut out, b);
            }
            None => out.push(0),
        }
        put_names(&mut out, self.keywords.names());
        put_u64(&mut out, self.messages.len() as u64);
        for m in &self.messages {
            for v in [
                m.start,
                m.header_start,
                m.body_start,
                m.text_end,
                m.next,
                m.header_crlf,
                m.body_crlf,
                m.span_start,
                m.date.timestamp as u64,
                m.disk_keywords,
            ] {
                put_u64(&mut out, v);
            }
            put_u32(&mut out, m.span_len);
            put_u32(&mut out, m.uid.get());
            out.extend_from_slice(&m.date.offset_minutes.to_le_bytes());
            out.push(m.disk_flags.bits());
            out.push(m.bits & (DISK_OLD | UID_ON_DISK));
            out.push(m.blank_len);
        }
        let sum = fnv(&out);
        put_u64(&mut out, sum);
        if let Err(e) = write_atomically(&self.ctx, &index_path(&self.ctx, &self.path), &out) {
            (self.ctx.log)(&format!(
                "{}: cannot save the mailbox index: {e}",
                self.path.display()
            ));
        }
    }

    /// Loads the index of this mailbox if there is one that checks out against the
    /// current state (`rule` is what the UID rule would read now, given the base
    /// the index recorded).
    pub(super) fn load_index(&self, shared: &SharedState) -> Option<Index> {
        let bytes =
            regular::read_limited(&index_path(&self.ctx, &self.path), MAX_INDEX_SIZE).ok()?;
        let (body, sum) = bytes.split_at(bytes.len().checked_sub(8)?);
        if u64::from_le_bytes(sum.try_into().ok()?) != fnv(body) {
            return None;
        }
        let mut r = Reader(body);
        if r.take(8)? != MAGIC {
            return None;
        }
        let stamp = Stamp {
            dev: r.u64()?,
            ino: r.u64()?,
            size: r.u64()?,
            mtime: r.u64()? as i64,
            mtime_ns: r.u64()? as i64,
        };
        let generation = r.u64()?;
        let rule = Uid::new(r.u32()?);
        let last_uid = Uid::new(r.u32()?);
        let base = match r.u8()? {
            0 => None,
            _ => Some(ImapBase {
                uid_validity: Uidvalidity::new(r.u32()?)?,
                last_uid: Uid::new(r.u32()?),
                keywords: read_names(&mut r)?,
            }),
        };
        if rule_input(shared, base.as_ref()) != rule {
            return None;
        }
        let pseudo = match r.u8()? {
            0 => None,
            _ => {
                let (start, next) = (r.u64()?, r.u64()?);
                let has_value = r.u8()? != 0;
                let (a, b) = (r.u64()?, r.u64()?);
                Some(Pseudo {
                    start,
                    next,
                    value: has_value.then_some((a, b)),
                })
            }
        };
        let names = read_names(&mut r)?;
        let mut keywords = KeywordTable::default();
        for n in &names {
            keywords.intern(n);
        }
        if keywords.names() != names.as_slice() {
            return None;
        }
        let count = usize::try_from(r.u64()?).ok()?;
        if count.checked_mul(RECORD)? != r.0.len() {
            return None;
        }
        let mut messages = Vec::with_capacity(count);
        for _ in 0..count {
            let v: [u64; 10] = [
                r.u64()?,
                r.u64()?,
                r.u64()?,
                r.u64()?,
                r.u64()?,
                r.u64()?,
                r.u64()?,
                r.u64()?,
                r.u64()?,
                r.u64()?,
            ];
            let span_len = r.u32()?;
            let uid = Uid::new(r.u32()?)?;
            let offset_minutes = i16::from_le_bytes(r.take(2)?.try_into().ok()?);
            let flags = Flags::from_bits(r.u8()?);
            let bits = r.u8()?;
            let blank_len = r.u8()?;
            messages.push(Meta {
                start: v[0],
                header_start: v[1],
                body_start: v[2],
                text_end: v[3],
                next: v[4],
                header_crlf: v[5],
                body_crlf: v[6],
                span_start: v[7],
                span_len,
                date: InternalDate {
                    timestamp: v[8] as i64,
                    offset_minutes,
                },
                uid,
                flags,
                disk_flags: flags,
                bits,
                blank_len,
                keywords: v[9],
                disk_keywords: v[9],
                modseq: 0,
            });
        }
        // An index is saved only for a mailbox of at least INDEX_MIN_MESSAGES: one
        // that lists fewer is not one pullmail wrote, and one that lists none would
        // pass every sample (fuzzing: a sealed index of no messages for a file of
        // two gave an empty mailbox).
        if !r.0.is_empty()
            || !worth_an_index(messages.len())
            || !self.openings_hold(&messages, stamp.size)
        {
            return None;
        }
        Some(Index {
            stamp,
            generation,
            outcome: ScanOutcome {
                messages,
                base,
                pseudo,
                damage: Vec::new(),
                floor: last_uid,
                rule,
                renumbered: false,
            },
            keywords,
        })
    }

    /// Opens from the index when it describes this file as it is, or as it was before
    /// new mail was added at its end (then only that is scanned); returns whether it
    /// did. The caller holds the read lock and has set the stamp and generation.
    pub(super) fn open_from_index(&mut self, shared: &SharedState) -> Result<bool> {
        let Some(idx) = self.load_index(shared) else {
            return Ok(false);
        };
        let now = self.stamp;
        let was = idx.stamp;
        let same = was == now && idx.generation == self.generation;
        let grown = was.dev == now.dev
            && was.ino == now.ino
            && now.size > was.size
            && idx.generation == self.generation;
        if !(same || grown && self.opens_at(was.size))
            || idx.outcome.pseudo.is_some_and(|p| !self.opens_at(p.start))
        {
            return Ok(false);
        }
        self.keywords = idx.keywords;
        self.install_full(idx.outcome);
        if grown {
            if self.disk_base.is_none() {
                // The UIDVALIDITY a running session would have (see `Mailbox::open`),
                // so the tail gets the UIDs that session would give it.
                self.uid_validity = shared.uid_validity;
            }
            let from = self.resume_offset();
            let keep = self.messages.len();
            let prev = self.messages.last().map(|m| m.uid);
            let out = self.scan_from(from, prev)?;
            let rule = out.rule;
            // \Recent is for the open to claim, for all messages at once: the merge
            // must neither claim nor mark any.
            let claims = std::mem::replace(&mut self.claims_recent, false);
            let merged = self.merge(out, keep, false);
            self.claims_recent = claims;
            for m in &mut self.messages {
                m.set(RECENT, false);
                m.set(CLAIMED, false);
            }
            merged?;
            self.pending.clear();
            self.save_index(rule);
        }
        Ok(true)
    }

    /// Whether sampled messages of an index (and its last one) still open where it
    /// says, within the part of the file it describes.
    fn openings_hold(&self, messages: &[Meta], size: u64) -> bool {
        let step = (messages.len() / SAMPLES).max(1);
        let ordered = messages.windows(2).all(|w| w[0].next <= w[1].start);
        ordered
            && messages.last().is_none_or(|m| m.next <= size)
            && messages
                .iter()
                .step_by(step)
                .chain(messages.last())
                .all(|m| self.opens_at(m.start))
    }
}

fn write_atomically(ctx: &Context, path: &Path, bytes: &[u8]) -> io::Result<()> {
    crate::state::create_private_dir(&ctx.state_dir)?;
    let tmp = path.with_extension(format!("index.{}", std::process::id()));
    let written = (|| {
        let mut f = regular::open_with(
            &tmp,
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode_0600(),
            libc::O_NOFOLLOW,
        )?;
        f.write_all(bytes)?;
        // No fsync: a torn index fails its checksum and is only a lost shortcut.
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

fn put_names(out: &mut Vec<u8>, names: &[String]) {
    put_u32(out, names.len() as u32);
    for n in names {
        put_u32(out, n.len() as u32);
        out.extend_from_slice(n.as_bytes());
    }
}

/// A list of keyword names as `put_names` writes it (at most 64).
fn read_names(r: &mut Reader) -> Option<Vec<String>> {
    let n = r.u32()? as usize;
    if n > 64 {
        return None;
    }
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let len = r.u32()? as usize;
        v.push(String::from_utf8(r.take(len)?.to_vec()).ok()?);
    }
    Some(v)
}
