//! The session's side of the modseq record ([`crate::modseq`]): after every look at
//! the file that leaves the view exactly the file (open, a re-read, a write), the
//! record is brought up to it and the messages take their modseqs from it.

use super::*;
use crate::modseq::{self, FileStamp, Record, Seen};

impl Mailbox {
    /// Brings the modseq record up to the file as the session now sees it and takes
    /// every message's modseq, HIGHESTMODSEQ and the expunge history from it. The
    /// caller holds a lock on the file, and the view is the file (a scan, merge or
    /// write just happened under that lock): a record is only ever brought up to the
    /// file as it is, so two sessions cannot pull it different ways.
    pub(super) fn note_modseqs(&mut self) {
        let Some(uid_validity) = self.uid_validity else {
            return;
        };
        let seen = || -> Vec<Seen> {
            self.messages
                .iter()
                .filter(|m| !m.has(GHOST))
                .map(|m| Seen {
                    uid: m.uid,
                    digest: if m.disk_keywords == 0 {
                        m.disk_flags.bits() as u64
                    } else {
                        modseq::digest(m.disk_flags.bits(), &self.keywords.names_of(m.disk_keywords))
                    },
                })
                .collect()
        };
        let live = self.messages.iter().filter(|m| !m.has(GHOST)).count();
        let stamp = FileStamp {
            dev: self.stamp.dev,
            ino: self.stamp.ino,
            size: self.stamp.size,
            mtime: self.stamp.mtime,
            mtime_ns: self.stamp.mtime_ns,
            generation: self.generation,
        };
        let known = self.highest_modseq;
        let record = self.modseqs.update(|old| match old {
            // The record was brought up to this very file (the usual open): as it is.
            Some(r)
                if r.uid_validity == uid_validity
                    && r.stamp == stamp
                    && r.messages.len() == live
                    && known.is_none_or(|k| r.highest >= k) =>
            {
                (r, false)
            }
            Some(mut r) if r.uid_validity == uid_validity && known.is_none_or(|k| r.highest >= k) => {
                let before = r.stamp;
                let changed = r.reconcile(&seen(), stamp);
                let write = changed || before != stamp;
                (r, write)
            }
            // Lost, damaged, of another numbering, or behind what this session
            // already said: everything changed, past anything that was there.
            other => {
                let at_least = other.map(|r| r.highest).max(known);
                (Record::fresh(uid_validity, at_least, &seen(), stamp), true)
            }
        });
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                (self.ctx.log)(&format!(
                    "{}: cannot keep modseqs: {e}",
                    self.path.display()
                ));
                // Without the record, a change this session cannot rule out is every
                // message changed at a new modseq, with no history.
                Record::fresh(uid_validity, known, &seen(), stamp)
            }
        };
        let mut entries = record.messages.iter().peekable();
        for m in self.messages.iter_mut().filter(|m| !m.has(GHOST)) {
            while entries.next_if(|e| e.uid < m.uid).is_some() {}
            if let Some(e) = entries.next_if(|e| e.uid == m.uid) {
                m.modseq = e.modseq.get();
            }
        }
        self.highest_modseq = Some(record.highest);
        self.history = record.history;
        self.history_floor = record.floor;
    }

    /// A message's modseq: from the record, or HIGHESTMODSEQ for one the record has
    /// not seen (a message expunged elsewhere and kept for the numbering).
    pub(super) fn modseq_of(&self, m: &Meta) -> ModSeq {
        ModSeq::new(m.modseq).unwrap_or_else(|| self.highest_modseq())
    }

    /// HIGHESTMODSEQ (RFC 7162 §3.1.2.1) as of the last look at the file.
    pub fn highest_modseq(&self) -> ModSeq {
        self.highest_modseq.unwrap_or(ModSeq::MIN)
    }

    /// The modseq of message `seq`.
    pub fn modseq(&self, seq: SeqNumber) -> Option<ModSeq> {
        self.messages.get(seq.index()).map(|m| self.modseq_of(m))
    }

    /// The UIDs expunged after modseq `since`, as ascending runs (QRESYNC's VANISHED
    /// (EARLIER), RFC 7162 §3.2.5.1); `None` when the kept history does not reach
    /// back that far, so that only a superset can be given.
    pub fn vanished_since(&self, since: ModSeq) -> Option<Vec<(Uid, Uid)>> {
        Record::vanished_since(&self.history, self.history_floor, since)
    }
}
