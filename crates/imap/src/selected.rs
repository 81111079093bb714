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
    /// CONDSTORE and QRESYNC as the session has them (RFC 7162).
    pub enabled: crate::modseq::Enabled,
    /// UIDs expunged and not yet announced by VANISHED (QRESYNC).
    vanished: Vec<Uid>,
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
            enabled: crate::modseq::Enabled::default(),
            vanished: Vec::new(),
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
        self.flush_vanished(out);
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
        if self.contexts.is_empty() && !self.enabled.qresync {
            Vec::new()
        } else {
            self.mailbox.uid_iter().collect()
        }
    }

    /// [`Selected::expunged`], first taking the message out of the search
    /// contexts (REMOVEFROM before EXPUNGE); `before` is the
    /// [`Selected::numbering_snapshot`], kept in step. (With live contexts, a
    /// mass expunge moves the snapshot's tail once per message.)
    ///
    /// With QRESYNC the message is named by its UID, in a VANISHED response
    /// (RFC 7162 §3.2.10) that [`Selected::flush_vanished`] sends for all of them.
    pub fn expunged_from(&mut self, out: &mut Vec<u8>, seq: SeqNumber, before: &mut Vec<Uid>) {
        let i = seq.get() as usize - 1;
        let mut uid = None;
        if i < before.len() {
            let u = before.remove(i);
            crate::context::expunging(self, out, seq, u);
            uid = Some(u);
        }
        match uid {
            Some(u) if self.enabled.qresync => {
                if seq.get() <= self.exists {
                    self.vanished.push(u);
                    self.exists -= 1;
                }
            }
            _ => self.expunged(out, seq),
        }
    }

    /// `* VANISHED uids` for the expunges [`Selected::expunged_from`] held back.
    pub fn flush_vanished(&mut self, out: &mut Vec<u8>) {
        if self.vanished.is_empty() {
            return;
        }
        let mut uids = std::mem::take(&mut self.vanished);
        uids.sort_unstable();
        let runs = crate::modseq::uid_runs(&uids);
        untagged(out, &format!("VANISHED {}", crate::modseq::runs_text(&runs)));
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

    /// `* seq FETCH (FLAGS (...) [UID n])`; with CONDSTORE always the UID, and the
    /// MODSEQ (RFC 7162 §3.1).
    pub fn fetch_flags(&self, out: &mut Vec<u8>, seq: SeqNumber, numbering: Numbering) {
        let Some(info) = self.mailbox.info(seq) else {
            return;
        };
        out.extend_from_slice(format!("* {seq} FETCH (FLAGS ").as_bytes());
        let names = self.mailbox.keywords().names_of(info.keywords);
        respond::flag_list(out, info.flags, &names, info.recent);
        if numbering.is_uid() || self.enabled.condstore {
            out.extend_from_slice(format!(" UID {}", info.uid).as_bytes());
        }
        if self.enabled.condstore {
            out.extend_from_slice(format!(" MODSEQ ({})", info.modseq).as_bytes());
        }
        out.extend_from_slice(b")\r\n");
    }

    /// `* seq FETCH (UID n MODSEQ (m))`: a message's new modseq, for a change the
    /// client made without asking for its flags back (STORE .SILENT, a FETCH that
    /// set \Seen), once CONDSTORE is on (RFC 7162 §3.1.3).
    pub fn fetch_modseq(&self, out: &mut Vec<u8>, seq: SeqNumber) {
        if let Some(info) = self.mailbox.info(seq) {
            untagged(
                out,
                &format!("{seq} FETCH (UID {} MODSEQ ({}))", info.uid, info.modseq),
            );
        }
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
