//! The selected mailbox and what the client has been told about it.
//!
//! After every command the session calls [`Selected::report`], which finds what
//! other processes changed ([`Mailbox::sync`]) and says so in the order RFC 3501
//! wants: EXPUNGE for each message gone, EXISTS when the count changed, RECENT when
//! the \Recent count changed, FLAGS and PERMANENTFLAGS when the keyword list grew,
//! and FETCH FLAGS for messages whose flags someone else changed. During FETCH,
//! STORE and SEARCH (not their UID forms) no EXPUNGE may be sent (§7.4.1): then
//! messages expunged elsewhere stay in the numbering until a later command.
//!
//! The counts come from the mailbox after the sync, not from the events' numbers:
//! events queued while this session wrote (a rewrite catches up with others first)
//! may carry counts from before its own expunges.

use mailbox::mailbox::{Event, Mailbox};
use mailbox::uid::{SeqNumber, Uid};

use crate::respond::{self, untagged};
use crate::types::Numbering;

/// The mailbox of the Selected state.
pub struct Selected {
    pub mailbox: Mailbox,
    /// The name as the client gave it (decoded).
    pub name: String,
    /// EXAMINE, or a file this user may not write.
    pub read_only: bool,
    /// The message count the client knows (its last EXISTS, less EXPUNGEs since).
    pub exists: u32,
    /// The last RECENT sent.
    pub recent: u32,
    /// How many keywords the last FLAGS named.
    pub keywords: usize,
    /// Flags changed in memory and not yet written to the file.
    pub dirty: bool,
    /// The UIDs changed under the session; it must end.
    pub invalid: bool,
    /// `$`: the UIDs the last `SEARCH RETURN (SAVE)` found (RFC 5182), kept as UIDs
    /// so that expunges take messages out of it.
    pub saved: Vec<Uid>,
    /// Live search contexts (RFC 5267 §4), at most [`crate::context::MAX_CONTEXTS`].
    pub contexts: Vec<crate::context::Context>,
    /// Whether a report tells of other sessions' flag changes; false while NOTIFY
    /// pushes changes for a client that did not ask for FlagChange (RFC 5465).
    pub report_flags: bool,
}

/// The mailbox's UIDs changed under the session (RFC 3501 §2.3.1.1): it must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UidValidityChanged;

impl Selected {
    pub fn new(mailbox: Mailbox, name: String, read_only: bool) -> Selected {
        Selected {
            exists: mailbox.count(),
            recent: mailbox.recent_count(),
            keywords: mailbox.keywords().names().len(),
            mailbox,
            name,
            read_only,
            dirty: false,
            invalid: false,
            saved: Vec::new(),
            contexts: Vec::new(),
            report_flags: true,
        }
    }

    /// Writes flag changes back so that other sessions see them at their next
    /// command; a failure is logged by the caller and retried later.
    pub fn write_back(&mut self) -> Result<(), mailbox::error::Error> {
        if !self.dirty || self.read_only {
            return Ok(());
        }
        self.mailbox.checkpoint()?;
        self.dirty = false;
        Ok(())
    }

    /// Announces new keywords (UW sends FLAGS and PERMANENTFLAGS again).
    pub fn report_keywords(&mut self, out: &mut Vec<u8>) {
        let table = self.mailbox.keywords();
        if table.names().len() != self.keywords {
            self.keywords = table.names().len();
            untagged(out, &respond::mailbox_flags(table));
            untagged(
                out,
                &format!(
                    "OK [{}] Permanent flags",
                    respond::permanent_flags(table, self.read_only)
                ),
            );
        }
    }

    /// Finds and reports changes (see the module docs). During UID commands
    /// (`numbering`) FETCH responses carry the UID. Sync failures are logged through
    /// `log` and reported as an untagged NO; the session goes on.
    pub fn report(
        &mut self,
        out: &mut Vec<u8>,
        allow_expunge: bool,
        numbering: Numbering,
        log: &dyn Fn(&str),
    ) -> Result<(), UidValidityChanged> {
        self.report_changes(out, allow_expunge, numbering, log, true)
    }

    /// [`Selected::report`], with EXISTS and RECENT left for a later report when
    /// `counts` is false (MOVE into the selected mailbox: its expunges come first,
    /// then the copy's EXISTS, which is what clients and imaptest expect).
    pub fn report_changes(
        &mut self,
        out: &mut Vec<u8>,
        allow_expunge: bool,
        numbering: Numbering,
        log: &dyn Fn(&str),
        counts: bool,
    ) -> Result<(), UidValidityChanged> {
        if self.invalid {
            return Err(UidValidityChanged);
        }
        // The UIDs in the client's numbering, so that an expunged message in a
        // search context is named before its EXPUNGE (only with live contexts).
        let mut before = if allow_expunge {
            self.numbering_snapshot()
        } else {
            Vec::new()
        };
        let events = if allow_expunge {
            self.mailbox.sync()
        } else {
            self.mailbox.sync_without_expunge()
        };
        let events = match events {
            Ok(e) => e,
            Err(e) => {
                log(&format!(
                    "{}: checking for changes failed: {e}",
                    self.mailbox.path().display()
                ));
                untagged(out, "NO Checking the mailbox for changes failed");
                return Ok(());
            }
        };
        let mut changed_uids = Vec::new();
        for e in events {
            match e {
                Event::Expunge(seq) => self.expunged_from(out, seq, &mut before),
                Event::Exists(_) => {}
                Event::FlagsChanged { uid, .. } => changed_uids.push(uid),
                Event::UidValidityChanged => {
                    self.invalid = true;
                    return Err(UidValidityChanged);
                }
            }
        }
        if counts {
            self.report_counts(out);
        }
        self.report_keywords(out);
        if !self.report_flags {
            changed_uids.clear();
        }
        changed_uids.sort_unstable();
        changed_uids.dedup();
        for uid in changed_uids {
            if let Some(seq) = self.mailbox.seq_of_uid(uid) {
                self.fetch_flags(out, seq, numbering);
            }
        }
        crate::context::refresh(self, out);
        Ok(())
    }

    /// The UIDs in the client's numbering, when search contexts need them to name
    /// the messages about to be expunged (empty without live contexts).
    pub fn numbering_snapshot(&self) -> Vec<Uid> {
        if self.contexts.is_empty() {
            Vec::new()
        } else {
            self.mailbox.uid_iter().collect()
        }
    }

    /// [`Selected::expunged`], first taking the message out of the search
    /// contexts (REMOVEFROM before EXPUNGE); `before` is the
    /// [`Selected::numbering_snapshot`], kept in step. (With live contexts, a
    /// mass expunge moves the snapshot's tail once per message.)
    pub fn expunged_from(&mut self, out: &mut Vec<u8>, seq: SeqNumber, before: &mut Vec<Uid>) {
        let i = seq.get() as usize - 1;
        if i < before.len() {
            let uid = before.remove(i);
            crate::context::expunging(self, out, seq, uid);
        }
        self.expunged(out, seq)
    }

    /// `* seq EXPUNGE` for a message the client knows of. Mail arrives at the end, so
    /// a number beyond the client's count names a message that came and went between
    /// two reports (or that this session's own EXPUNGE found on arrival, marked
    /// \Deleted by its sender): the client never heard of it, and telling it would
    /// name a message it does not have (RFC 3501 §7.4.1 numbers EXPUNGE within what
    /// the client was told). The EXISTS that follows gives the count without it.
    pub fn expunged(&mut self, out: &mut Vec<u8>, seq: SeqNumber) {
        if seq.get() <= self.exists {
            untagged(out, &format!("{seq} EXPUNGE"));
            self.exists -= 1;
        }
    }

    /// EXISTS and RECENT, when they differ from what the client knows.
    pub fn report_counts(&mut self, out: &mut Vec<u8>) {
        let count = self.mailbox.count();
        let recent = self.mailbox.recent_count();
        if count != self.exists {
            untagged(out, &format!("{count} EXISTS"));
            self.exists = count;
        }
        if recent != self.recent {
            untagged(out, &format!("{recent} RECENT"));
            self.recent = recent;
        }
    }

    /// `* seq FETCH (FLAGS (...) [UID n])`.
    pub fn fetch_flags(&self, out: &mut Vec<u8>, seq: SeqNumber, numbering: Numbering) {
        let Some(info) = self.mailbox.info(seq) else {
            return;
        };
        out.extend_from_slice(format!("* {seq} FETCH (FLAGS ").as_bytes());
        let names = self.mailbox.keywords().names_of(info.keywords);
        respond::flag_list(out, info.flags, &names, info.recent);
        if numbering.is_uid() {
            out.extend_from_slice(format!(" UID {}", info.uid).as_bytes());
        }
        out.extend_from_slice(b")\r\n");
    }

    /// Resolves a sequence set of a command to message sequence numbers, in order.
    /// `None` for a non-UID set naming a message that does not exist (BAD). UIDs
    /// that do not exist are skipped (RFC 3501 §6.4.8).
    pub fn resolve(&self, set: &crate::types::SequenceSet, numbering: Numbering) -> Option<Vec<SeqNumber>> {
        if set.is_saved() {
            // `$` names what is left of the saved messages, whatever the command.
            let mut seqs: Vec<SeqNumber> = self
                .saved
                .iter()
                .filter_map(|&u| self.mailbox.seq_of_uid(u))
                .collect();
            seqs.sort_unstable();
            return Some(seqs);
        }
        let count = self.mailbox.count();
        if !numbering.is_uid() {
            let numbers = set.message_numbers(count)?;
            return Some(numbers.into_iter().filter_map(SeqNumber::new).collect());
        }
        let largest = self.mailbox.uid_iter().last().map_or(0, Uid::get);
        let intervals = set.intervals(largest);
        Some(
            self.mailbox
                .uid_iter()
                .zip(self.mailbox.seq_numbers())
                .filter(|&(u, _)| crate::types::SequenceSet::contains_in(&intervals, u.get()))
                .map(|(_, seq)| seq)
                .collect(),
        )
    }
}
