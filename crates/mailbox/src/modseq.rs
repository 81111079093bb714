//! Modification sequences that outlive sessions (CONDSTORE and QRESYNC, RFC 7162).
//!
//! Neither mbox nor MMDF has room for a per-message change counter, and other
//! programs (mutt, procmail, UW imapd) change flags without knowing of one. So the
//! counter lives beside the mailbox, in the user's state directory: one record per
//! mailbox (`KEY.modseq`, KEY as for the state file) saying, for the file as pullmail
//! last saw it (its stamp and generation), each message's UID, modseq and a digest of
//! its flags and keywords, the mailbox's HIGHESTMODSEQ, and a bounded history of
//! expunged UIDs with the modseq of their expunge.
//!
//! Whoever changed the file, the next pullmail session that reads it (under the
//! mailbox lock, with a view that is exactly the file) compares what it read with
//! the record: a message whose digest differs or that is new gets the next modseq,
//! a UID that is gone joins the history at it. All changes one look finds share
//! one new modseq. A session that finds the record describing the file as it is
//! only reads it.
//!
//! Losing the record (or a torn write: the checksum fails) costs one "everything
//! changed" at a fresh modseq, never a step back: a fresh record starts from the
//! clock in microseconds, and every later change adds one, so a counter that
//! started from the clock stays below the clock unless more than a million changes
//! a second were made for as long as it has existed. The history then starts at that
//! modseq: asked about changes since before it, QRESYNC answers with a superset
//! (RFC 7162 §3.2.5.1 allows it).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use crate::binary::{fnv, put_u32, put_u64, Reader};
use crate::regular;
use crate::uid::{ModSeq, Uid, Uidvalidity};

const MAGIC: &[u8; 8] = b"PMMODSQ1";
/// The expunge history keeps at most this many runs of UIDs (16 octets each).
pub const HISTORY_RUNS: usize = 8192;
/// A larger record is not ours.
const MAX_RECORD_SIZE: u64 = 256 << 20;

/// One message as the record knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub uid: Uid,
    pub modseq: ModSeq,
    /// [`digest`] of its flags and keywords.
    pub digest: u64,
}

/// UIDs `first..=last` were expunged at `modseq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vanished {
    pub first: Uid,
    pub last: Uid,
    pub modseq: ModSeq,
}

/// What the file the record describes looked like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileStamp {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: i64,
    pub mtime_ns: i64,
    pub generation: u64,
}

/// The record of one mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub uid_validity: Uidvalidity,
    pub highest: ModSeq,
    /// The history is complete for expunges after this modseq; before it, only a
    /// superset can be given.
    pub floor: ModSeq,
    pub stamp: FileStamp,
    /// By ascending UID.
    pub messages: Vec<Entry>,
    /// In the order they happened (ascending modseq).
    pub history: Vec<Vanished>,
}

/// A message as a session read it from the file, for [`Record::reconcile`].
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    pub uid: Uid,
    pub digest: u64,
}

/// The digest of flags (the bits of [`crate::flags::Flags`]) and keyword names: equal
/// digests mean unchanged. Keyword order does not matter.
pub fn digest(flags: u8, keywords: &[&str]) -> u64 {
    if keywords.is_empty() {
        return flags as u64;
    }
    let mut names: Vec<&str> = keywords.to_vec();
    names.sort_unstable();
    let mut h: u64 = 0xcbf29ce484222325;
    for n in names {
        for &b in n.as_bytes().iter().chain(b"\0") {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    (h << 8) | flags as u64 | 1 << 63
}

/// The first modseq of a record made from nothing: the time in microseconds, above
/// `at_least` (see the module docs).
pub fn fresh_modseq(at_least: Option<ModSeq>) -> ModSeq {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(1);
    let clock = ModSeq::new(micros.min(ModSeq::MAX.get() / 2)).unwrap_or(ModSeq::MIN);
    match at_least.and_then(ModSeq::next) {
        Some(m) if m > clock => m,
        _ => clock,
    }
}

impl Record {
    /// A record for a mailbox seen for the first time (or whose record was lost):
    /// every message changed at one fresh modseq, no history before it.
    pub fn fresh(
        uid_validity: Uidvalidity,
        at_least: Option<ModSeq>,
        seen: &[Seen],
        stamp: FileStamp,
    ) -> Record {
        let m = fresh_modseq(at_least);
        Record {
            uid_validity,
            highest: m,
            floor: m,
            stamp,
            messages: seen
                .iter()
                .map(|s| Entry {
                    uid: s.uid,
                    modseq: m,
                    digest: s.digest,
                })
                .collect(),
            history: Vec::new(),
        }
    }

    /// Brings the record up to the file a session has just read (`seen`, ascending
    /// UIDs, every message in the file): what changed gets the next modseq, what is
    /// gone joins the history at it. Returns whether anything changed.
    pub fn reconcile(&mut self, seen: &[Seen], stamp: FileStamp) -> bool {
        // Exhausted (not within any lifetime, see the module docs): the change is
        // recorded at the last modseq, which is then no longer strictly newer.
        let next = self.highest.next().unwrap_or(self.highest);
        let mut changed = false;
        let mut messages = Vec::with_capacity(seen.len());
        let mut gone: Vec<Uid> = Vec::new();
        let mut old = self.messages.iter().peekable();
        for s in seen {
            while let Some(o) = old.next_if(|o| o.uid < s.uid) {
                gone.push(o.uid);
            }
            let modseq = match old.next_if(|o| o.uid == s.uid) {
                Some(o) if o.digest == s.digest => o.modseq,
                _ => {
                    changed = true;
                    next
                }
            };
            messages.push(Entry {
                uid: s.uid,
                modseq,
                digest: s.digest,
            });
        }
        gone.extend(old.map(|o| o.uid));
        if !gone.is_empty() {
            changed = true;
            self.note_vanished(&gone, next);
        }
        self.messages = messages;
        self.stamp = stamp;
        if changed {
            self.highest = next;
        }
        changed
    }

    /// Adds expunged UIDs (ascending) to the history as runs, dropping the oldest
    /// runs past [`HISTORY_RUNS`] (the floor moves up to them).
    fn note_vanished(&mut self, uids: &[Uid], at: ModSeq) {
        for &u in uids {
            match self.history.last_mut() {
                Some(v) if v.modseq == at && v.last.next() == Some(u) => v.last = u,
                _ => self.history.push(Vanished {
                    first: u,
                    last: u,
                    modseq: at,
                }),
            }
        }
        if self.history.len() > HISTORY_RUNS {
            let drop = self.history.len() - HISTORY_RUNS;
            for v in self.history.drain(..drop) {
                self.floor = self.floor.max(v.modseq);
            }
        }
    }

    /// The UIDs expunged after `since`, as runs; `None` when the history does not
    /// reach back that far (then only a superset can be given).
    pub fn vanished_since(
        history: &[Vanished],
        floor: ModSeq,
        since: ModSeq,
    ) -> Option<Vec<(Uid, Uid)>> {
        if since < floor {
            return None;
        }
        let mut runs: Vec<(Uid, Uid)> = history
            .iter()
            .filter(|v| v.modseq > since)
            .map(|v| (v.first, v.last))
            .collect();
        runs.sort_unstable();
        Some(runs)
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96 + self.messages.len() * 20 + self.history.len() * 16);
        out.extend_from_slice(MAGIC);
        put_u32(&mut out, self.uid_validity.get());
        let s = &self.stamp;
        for v in [
            self.highest.get(),
            self.floor.get(),
            s.dev,
            s.ino,
            s.size,
            s.mtime as u64,
            s.mtime_ns as u64,
            s.generation,
            self.messages.len() as u64,
            self.history.len() as u64,
        ] {
            put_u64(&mut out, v);
        }
        for e in &self.messages {
            put_u32(&mut out, e.uid.get());
            put_u64(&mut out, e.modseq.get());
            put_u64(&mut out, e.digest);
        }
        for v in &self.history {
            put_u32(&mut out, v.first.get());
            put_u32(&mut out, v.last.get());
            put_u64(&mut out, v.modseq.get());
        }
        let sum = fnv(&out);
        put_u64(&mut out, sum);
        out
    }

    /// The record in `bytes`, if they are one (magic, checksum, sizes, order).
    pub fn decode(bytes: &[u8]) -> Option<Record> {
        let (body, sum) = bytes.split_at(bytes.len().checked_sub(8)?);
        if u64::from_le_bytes(sum.try_into().ok()?) != fnv(body) {
            return None;
        }
        let mut r = Reader(body);
        if r.take(8)? != MAGIC {
            return None;
        }
        let uid_validity = Uidvalidity::new(r.u32()?)?;
        let highest = ModSeq::new(r.u64()?)?;
        let floor = ModSeq::new(r.u64()?)?;
        let stamp = FileStamp {
            dev: r.u64()?,
            ino: r.u64()?,
            size: r.u64()?,
            mtime: r.u64()? as i64,
            mtime_ns: r.u64()? as i64,
            generation: r.u64()?,
        };
        let count = usize::try_from(r.u64()?).ok()?;
        let runs = usize::try_from(r.u64()?).ok()?;
        if count.checked_mul(20)?.checked_add(runs.checked_mul(16)?)? != r.0.len()
            || runs > HISTORY_RUNS
        {
            return None;
        }
        let mut messages = Vec::with_capacity(count);
        for _ in 0..count {
            let e = Entry {
                uid: Uid::new(r.u32()?)?,
                modseq: ModSeq::new(r.u64()?)?,
                digest: r.u64()?,
            };
            if e.modseq > highest || messages.last().is_some_and(|p: &Entry| p.uid >= e.uid) {
                return None;
            }
            messages.push(e);
        }
        let mut history = Vec::with_capacity(runs);
        for _ in 0..runs {
            let v = Vanished {
                first: Uid::new(r.u32()?)?,
                last: Uid::new(r.u32()?)?,
                modseq: ModSeq::new(r.u64()?)?,
            };
            if v.first > v.last || v.modseq > highest {
                return None;
            }
            history.push(v);
        }
        (floor <= highest).then_some(Record {
            uid_validity,
            highest,
            floor,
            stamp,
            messages,
            history,
        })
    }
}

/// The record file of one mailbox, read and written in place under flock.
#[derive(Debug, Clone)]
pub struct RecordFile {
    path: PathBuf,
}

impl RecordFile {
    pub fn new(state_dir: &Path, mailbox: &Path) -> RecordFile {
        RecordFile {
            path: state_dir.join(format!("{}.modseq", crate::state::path_key(mailbox))),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the record, lets `change` bring it up to date (it gets what was there:
    /// `None` when missing or damaged), and writes what it returns back when it says
    /// so, all under an exclusive lock. Returns the record as it now is.
    pub fn update(
        &self,
        change: impl FnOnce(Option<Record>) -> (Record, bool),
    ) -> io::Result<Record> {
        if let Some(dir) = self.path.parent() {
            crate::state::create_private_dir(dir)?;
        }
        let f = regular::open_with(
            &self.path,
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600),
            libc::O_NOFOLLOW,
        )?;
        let _guard = Flock::new(&f)?;
        let mut bytes = Vec::new();
        (&f).take(MAX_RECORD_SIZE).read_to_end(&mut bytes)?;
        let (record, write) = change(Record::decode(&bytes));
        if write {
            let bytes = record.encode();
            (&f).seek(SeekFrom::Start(0))?;
            (&f).write_all(&bytes)?;
            f.set_len(bytes.len() as u64)?;
        }
        Ok(record)
    }
}

/// An exclusive flock held for the life of the value.
struct Flock<'f>(&'f File);

impl<'f> Flock<'f> {
    fn new(f: &'f File) -> io::Result<Flock<'f>> {
        loop {
            // SAFETY: flock on a descriptor we hold a reference to.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(Flock(f));
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

impl Drop for Flock<'_> {
    fn drop(&mut self) {
        // SAFETY: unlocking a descriptor we still hold.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(n: u32) -> Uid {
        Uid::new(n).unwrap()
    }
    fn seen(list: &[(u32, u64)]) -> Vec<Seen> {
        list.iter()
            .map(|&(u, d)| Seen {
                uid: uid(u),
                digest: d,
            })
            .collect()
    }

    #[test]
    fn changes_get_the_next_modseq_and_expunges_join_the_history() {
        let v = Uidvalidity::new(9).unwrap();
        let mut r = Record::fresh(
            v,
            None,
            &seen(&[(1, 0), (2, 0), (3, 0), (4, 0)]),
            FileStamp::default(),
        );
        let m0 = r.highest;
        assert!(r.messages.iter().all(|e| e.modseq == m0));
        assert!(!r.reconcile(
            &seen(&[(1, 0), (2, 0), (3, 0), (4, 0)]),
            FileStamp::default()
        ));
        assert_eq!(r.highest, m0);
        // 2 flagged, 3 and 4 expunged, 5 arrived.
        assert!(r.reconcile(&seen(&[(1, 0), (2, 4), (5, 0)]), FileStamp::default()));
        let m1 = r.highest;
        assert_eq!(m0.next(), Some(m1));
        let by_uid: Vec<(u32, u64)> = r
            .messages
            .iter()
            .map(|e| (e.uid.get(), e.modseq.get()))
            .collect();
        assert_eq!(by_uid, [(1, m0.get()), (2, m1.get()), (5, m1.get())]);
        assert_eq!(
            Record::vanished_since(&r.history, r.floor, m0),
            Some(vec![(uid(3), uid(4))])
        );
        assert_eq!(
            Record::vanished_since(&r.history, r.floor, m1),
            Some(vec![])
        );
        // Before the record began: no exact answer.
        assert_eq!(
            Record::vanished_since(&r.history, r.floor, ModSeq::MIN),
            None
        );
    }

    #[test]
    fn keyword_order_does_not_change_the_digest() {
        assert_eq!(digest(1, &["a", "b"]), digest(1, &["b", "a"]));
        assert_ne!(digest(1, &["a"]), digest(1, &[]));
        assert_ne!(digest(1, &["a"]), digest(3, &["a"]));
        assert_ne!(digest(0, &["ab"]), digest(0, &["a", "b"]));
    }

    #[test]
    fn records_round_trip_and_damage_is_no_record() {
        let dir = tempfile::tempdir().unwrap();
        let f = RecordFile::new(dir.path(), Path::new("/var/mail/x"));
        let v = Uidvalidity::new(3).unwrap();
        let mut r = Record::fresh(v, None, &seen(&[(1, 0), (2, 1)]), FileStamp::default());
        r.reconcile(
            &seen(&[(2, 1)]),
            FileStamp {
                size: 9,
                ..FileStamp::default()
            },
        );
        let written = r.clone();
        f.update(|old| {
            assert_eq!(old, None);
            (written, true)
        })
        .unwrap();
        let back = f.update(|old| (old.unwrap(), false)).unwrap();
        assert_eq!(back, r);
        let mut bytes = std::fs::read(f.path()).unwrap();
        bytes[20] ^= 1;
        assert_eq!(Record::decode(&bytes), None);
        assert_eq!(Record::decode(b"short"), None);
    }

    #[test]
    fn history_is_bounded_and_the_floor_follows() {
        let v = Uidvalidity::new(3).unwrap();
        let all: Vec<(u32, u64)> = (1..=2 * HISTORY_RUNS as u32 + 10).map(|u| (u, 0)).collect();
        let mut r = Record::fresh(v, None, &seen(&all), FileStamp::default());
        let start = r.highest;
        // Every other UID, one at a time: one run each.
        let mut left = all.clone();
        for u in (1..=HISTORY_RUNS as u32 + 5).map(|i| 2 * i) {
            left.retain(|&(x, _)| x != u);
            r.reconcile(&seen(&left), FileStamp::default());
        }
        assert_eq!(r.history.len(), HISTORY_RUNS);
        assert!(r.floor > start);
        assert_eq!(Record::vanished_since(&r.history, r.floor, start), None);
        let recent = Record::vanished_since(&r.history, r.floor, r.floor).unwrap();
        assert_eq!(recent.len(), HISTORY_RUNS);
    }

    #[test]
    fn a_fresh_record_starts_above_what_was_there() {
        let big = ModSeq::new(u64::MAX / 4).unwrap();
        assert_eq!(fresh_modseq(Some(big)), big.next().unwrap());
        let clock = fresh_modseq(None);
        assert!(clock.get() > 1_700_000_000_000_000);
        assert!(fresh_modseq(Some(ModSeq::MIN)) >= clock);
    }
}
