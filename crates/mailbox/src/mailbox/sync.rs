//! Catching up with what other processes did to the file: stat, tail or full
//! re-scan, the deterministic UID rule, merging into the session's view, \Recent.

use super::*;

impl Mailbox {
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

    pub(super) fn sync_inner(&mut self, allow_expunge: bool) -> Result<Vec<Event>> {
        self.lease = None;
        if self.changed()? || (allow_expunge && self.messages.iter().any(|m| m.has(GHOST))) {
            self.finish_interrupted_rewrite()?;
            let _lock = ReadLock::acquire(&self.file, &self.ctx.lock)?;
            self.refresh_locked(allow_expunge)?;
        }
        Ok(std::mem::take(&mut self.pending))
    }

    /// Finishes a rewrite that a crashed process left half done, before anything is
    /// read: until then the file may hold a mix of old and new octets. A read-only
    /// session does it too, through a descriptor of its own, when the user may write
    /// the file (it is a repair, not a change); otherwise it can only say so.
    pub(super) fn finish_interrupted_rewrite(&mut self) -> Result<()> {
        let pending = || journal::pending(&self.ctx.state_dir, &self.path);
        if !pending() {
            return Ok(());
        }
        // A writer keeps its journal from commit to apply under its exclusive lock:
        // one seen without a lock is most likely a write going on right now, not an
        // interrupted one. Once a shared lock is granted no writer is at work, so a
        // journal still there is a crashed writer's. (Taking the write lock at once
        // would queue every reader that glimpsed a journal behind the writers.)
        {
            let _lock = ReadLock::acquire(&self.file, &self.ctx.lock)?;
            if !pending() {
                return Ok(());
            }
        }
        if !self.read_only {
            let lock = self.write_lock()?;
            self.recover_locked()?;
            drop(lock);
            return Ok(());
        }
        match regular::open(&self.path, OpenOptions::new().read(true).write(true)) {
            Ok(file) => {
                let lock = WriteLock::acquire(&self.path, &file, &self.ctx.lock)?;
                let done = journal::recover(&self.ctx.state_dir, &self.path, &file)?;
                drop(lock);
                if done != Recovery::Clean {
                    (self.ctx.log)(&format!(
                        "{}: finished an interrupted rewrite: {done:?}",
                        self.path.display()
                    ));
                    self.bump_generation();
                }
            }
            Err(e) => (self.ctx.log)(&format!(
                "{}: an interrupted rewrite awaits a read-write open ({e})",
                self.path.display()
            )),
        }
        Ok(())
    }

    /// Whether the file may differ from what the session last saw.
    pub(super) fn changed(&self) -> Result<bool> {
        let now = match fs::metadata(&self.path) {
            Ok(m) => Stamp::of(&m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
            Err(e) => return Err(e.into()),
        };
        Ok(now != self.stamp)
    }

    /// Re-reads what changed; the caller holds a lock.
    pub(super) fn refresh_locked(&mut self, allow_expunge: bool) -> Result<()> {
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
            && self.tail_is_new_mail(self.stamp.size);
        let out = if appended_only {
            let from = self.resume_offset();
            let (keep, prev) = self.kept_before(from);
            let out = self.scan_from(from, prev)?;
            self.merge(out, keep, allow_expunge)
        } else {
            let out = self.scan_from(0, None)?;
            self.merge(out, 0, allow_expunge)
        };
        self.stamp = current;
        self.generation = generation;
        out?;
        self.note_modseqs();
        Ok(())
    }

    /// How much of the session's view stays as it is when the file is read again from
    /// `at` on: every message before the first live one at or after `at`, and the UID
    /// of the last of them. Messages expunged by others but not yet reported (ghosts)
    /// are no longer in the file and keep the offsets of an older one, so only live
    /// messages say where the file's messages are: a ghost must not cut the kept
    /// part short (the live messages behind it, not in the tail, would look expunged,
    /// and come back at the next full read with UIDs below newer ones).
    pub(super) fn kept_before(&self, at: u64) -> (usize, Option<Uid>) {
        let keep = self
            .messages
            .iter()
            .position(|m| !m.has(GHOST) && m.start >= at)
            .unwrap_or(self.messages.len());
        (keep, self.messages[..keep].last().map(|m| m.uid))
    }

    /// Where a tail scan resumes: the end of the last message, or its start when it
    /// was cut short (a delivery that was still being written).
    pub(super) fn resume_offset(&self) -> u64 {
        match self.messages.iter().rev().find(|m| !m.has(GHOST)) {
            Some(m) if m.has(TRUNCATED) => m.start,
            Some(m) => m.next,
            None => self.pseudo.map(|p| p.next).unwrap_or(0),
        }
    }

    /// Whether the octets after `old_end` look like mail appended to an unchanged file:
    /// a message opens there, and the last message we know still opens where it did.
    pub(super) fn tail_is_new_mail(&self, old_end: u64) -> bool {
        let last = self.messages.iter().rev().find(|m| !m.has(GHOST));
        self.opens_at(old_end)
            && last.is_none_or(|m| self.opens_at(m.start))
            && self.pseudo.is_none_or(|p| self.opens_at(p.start))
    }

    /// Whether a message (its From_ line or MMDF delimiter) begins at `at`.
    pub(super) fn opens_at(&self, at: u64) -> bool {
        let mut head = [0u8; 5];
        self.file.read_exact_at(&mut head, at).is_ok()
            && head.starts_with(&self.driver.opening()[..5])
    }

    /// Scans from `from` (a message boundary) to the end; `prev` is the UID of the last
    /// message before `from`. Applies the UID rule and reads `X-IMAP` afresh.
    pub(super) fn scan_from(&mut self, from: u64, prev: Option<Uid>) -> Result<ScanOutcome> {
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
        let shared = self.state.read();
        // At open, a file without X-IMAP (a spool no rewrite has reached the first
        // message of) has the state file's UIDVALIDITY, so the X-UIDs an earlier
        // rewrite wrote are trusted up to its last UID, as running sessions trust
        // them; else, no longer dense after an expunge, they would be renumbered by
        // the next writer. Once one is, unnumbered messages follow that last UID,
        // as in running sessions; a spool never written keeps numbering from 1.
        let vouched = if from == 0 && self.uid_validity.is_none() && shared.uid_validity.is_some() {
            shared.last_uid
        } else {
            None
        };
        let mut vouched_used = false;
        let mut table = std::mem::take(&mut self.keywords);
        let mut prev_uid = prev;
        // The last UID given out so far (none: the next is 1).
        let mut counter: Option<Uid> = None;
        let mut last_on_disk: Option<Uid> = None;
        let mut started = false;
        let mut exhausted = false;
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
                    let uid_validity = b.map(|b| b.uid_validity).or(self.uid_validity);
                    if shared.uid_validity.is_some() && shared.uid_validity == uid_validity {
                        last_on_disk = last_on_disk.max(shared.last_uid);
                    }
                    counter = last_on_disk.max(prev_uid);
                }
                let l = last_on_disk;
                let trust = if base.is_none() { l.max(vouched) } else { l };
                // A UID from the file counts when it ascends and the mailbox has
                // assigned it (X-IMAP's or the state's last UID); else the next one.
                let (uid, on_disk) = match s.status.uid {
                    Some(u) if Some(u) > prev_uid && Some(u) <= l => (u, true),
                    Some(u) if Some(u) > prev_uid && Some(u) <= trust => {
                        vouched_used = true;
                        counter = counter.max(trust);
                        (u, true)
                    }
                    other => match Uid::after(counter) {
                        Some(u) => {
                            counter = Some(u);
                            (u, other == Some(u))
                        }
                        None => {
                            // No UID left under this UIDVALIDITY: renumbered below.
                            exhausted = true;
                            (counter.unwrap_or(Uid::MAX_ASSIGNED), false)
                        }
                    },
                };
                prev_uid = Some(uid);
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
                    modseq: 0,
                });
            },
        )?;
        self.keywords = table;
        if from != 0 {
            base = disk_last;
            pseudo = self.pseudo;
        }
        let mut floor = base.as_ref().and_then(|b| b.last_uid).max(last_on_disk);
        let uid_validity = base.as_ref().map(|b| b.uid_validity).or(self.uid_validity);
        if shared.uid_validity.is_some() && shared.uid_validity == uid_validity {
            floor = floor.max(shared.last_uid);
        }
        if vouched_used {
            floor = floor.max(vouched);
        }
        let rule = index::rule_input(&shared, base.as_ref());
        let mut out = ScanOutcome {
            messages: metas,
            base,
            pseudo,
            damage,
            floor,
            rule,
            renumbered: false,
        };
        if exhausted {
            if from != 0 {
                // Renumbering is of the whole mailbox: scan it all (the same rule over
                // the same file exhausts the same way).
                return self.scan_from(0, None);
            }
            let spent = out
                .base
                .as_ref()
                .map(|b| b.uid_validity)
                .or(self.uid_validity)
                .or(shared.uid_validity);
            self.renumber_outcome(&mut out, spent);
        }
        Ok(out)
    }

    /// The UID space of UIDVALIDITY `spent` is used up (RFC 3501 §2.3.1.1): agrees a
    /// new UIDVALIDITY in the state file (the first session to get here picks it,
    /// every other one finds it there) and returns it. What the state kept of the old
    /// numbering (\Recent claims, the last UID, the append point) goes with it.
    pub(super) fn agree_new_uid_validity(&self, spent: Option<Uidvalidity>) -> Uidvalidity {
        let fresh = || {
            let fresh = new_uid_validity(&self.ctx);
            if Some(fresh) == spent {
                Uidvalidity::new(fresh.get().wrapping_add(1)).unwrap_or(Uidvalidity::MIN)
            } else {
                fresh
            }
        };
        self.state
            .update(|s| {
                if s.uid_validity.is_none() || s.uid_validity == spent {
                    *s = SharedState {
                        uid_validity: Some(fresh()),
                        generation: s.generation,
                        ..SharedState::default()
                    };
                }
                s.uid_validity
            })
            .ok()
            .flatten()
            .unwrap_or_else(fresh)
    }

    /// Numbers a whole-file scan afresh, 1 to n in file order, under a new UIDVALIDITY:
    /// what every session derives from the same exhausted file. The file is made to
    /// say so by the next write, which rewrites it whole ([`Mailbox::renumbered`]).
    pub(super) fn renumber_outcome(&mut self, out: &mut ScanOutcome, spent: Option<Uidvalidity>) {
        let uid_validity = self.agree_new_uid_validity(spent);
        (self.ctx.log)(&format!(
            "{}: UIDs of UIDVALIDITY {} are exhausted: renumbered under {uid_validity}",
            self.path.display(),
            spent.map_or(0, Uidvalidity::get),
        ));
        let last = renumber(&mut out.messages);
        let keywords = out.base.take().map(|b| b.keywords).unwrap_or_default();
        // What the file will say once written; until then nothing in it is trusted.
        out.base = Some(ImapBase {
            uid_validity,
            last_uid: last,
            keywords,
        });
        out.floor = last;
        out.renumbered = true;
    }

    /// The INTERNALDATE of a message whose framing carries none (MMDF without a From_
    /// line): the file's creation time, which in-place rewrites do not change (its
    /// modification time would make the date move at every rewrite). The next rewrite
    /// of such a message writes it a From_ line with this date.
    pub(super) fn fallback_date(&self) -> InternalDate {
        let meta = self.file.metadata().ok();
        let t = meta
            .as_ref()
            .and_then(|m| m.created().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        let timestamp = t.map(|d| d.as_secs() as i64).unwrap_or(self.stamp.mtime);
        InternalDate {
            timestamp,
            offset_minutes: 0,
        }
    }

    /// Reads the `X-IMAP` value from the pseudo-message where the last scan found it.
    pub(super) fn reread_imap_base(&self) -> Result<Option<ImapBase>> {
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
    pub(super) fn install_full(&mut self, out: ScanOutcome) {
        self.renumbered = out.renumbered;
        self.messages = out.messages;
        // The scan grew the vector by doubling; what stays is about 112 octets a message.
        self.messages.shrink_to_fit();
        self.pseudo = out.pseudo;
        self.damage = out.damage;
        if let Some(b) = &out.base {
            self.uid_validity = Some(b.uid_validity);
        }
        let disk_last = out.base.as_ref().and_then(|b| b.last_uid);
        self.last_uid = self
            .messages
            .last()
            .map(|m| m.uid)
            .max(disk_last)
            .max(out.floor);
        self.disk_base = out.base;
    }

    /// Merges a scan of the file from message index `keep` on into the session's view.
    pub(super) fn merge(
        &mut self,
        out: ScanOutcome,
        keep: usize,
        allow_expunge: bool,
    ) -> Result<()> {
        // A renumbering is of the whole file, whatever the caller scanned for.
        let keep = if out.renumbered { 0 } else { keep };
        if keep == 0 {
            if let (Some(b), Some(uid_validity)) = (&out.base, self.uid_validity) {
                if b.uid_validity != uid_validity {
                    self.pending.push(Event::UidValidityChanged);
                    self.install_full(out);
                    return Ok(());
                }
            }
            self.pseudo = out.pseudo;
            self.damage = out.damage;
            self.renumbered = out.renumbered;
        } else {
            let cut = self.messages.get(keep).map(|m| m.start).unwrap_or(u64::MAX);
            self.damage.retain(|d| d.offset < cut);
            self.damage.extend(out.damage);
        }
        if let Some(b) = &out.base {
            self.disk_base = Some(b.clone());
        }
        let floor = out.floor;
        let old = if keep == 0 {
            std::mem::take(&mut self.messages)
        } else {
            self.messages.split_off(keep)
        };
        self.messages.reserve(out.messages.len().saturating_sub(old.len()) + old.len());
        let before = self.messages.len() + old.len();
        let mut fresh = out.messages.into_iter().peekable();
        let mut flag_changes: Vec<usize> = Vec::new();
        let mut expunges: Vec<SeqNumber> = Vec::new();
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
                        expunges.extend(SeqNumber::from_index(self.messages.len()));
                    } else {
                        let mut g = o;
                        g.set(GHOST, true);
                        self.messages.push(g);
                    }
                }
            }
        }
        let had = self.messages.len();
        let max_uid = self.messages.last().map(|m| m.uid);
        for f in fresh {
            if Some(f.uid) <= max_uid {
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
        let disk_last = self.disk_base.as_ref().and_then(|b| b.last_uid);
        self.last_uid = self
            .last_uid
            .max(disk_last)
            .max(floor)
            .max(self.messages.last().map(|m| m.uid));
        if grown {
            self.claim_recent(had);
        }
        for i in flag_changes {
            if let Some(seq) = SeqNumber::from_index(i) {
                let uid = self.messages[i].uid;
                self.pending.push(Event::FlagsChanged { seq, uid });
            }
        }
        Ok(())
    }

    /// Reports messages expunged by others that were kept while expunges could not be
    /// reported.
    pub(super) fn reap_ghosts(&mut self) {
        if !self.messages.iter().any(|m| m.has(GHOST)) {
            return;
        }
        let mut kept = Vec::with_capacity(self.messages.len());
        for m in std::mem::take(&mut self.messages) {
            if m.has(GHOST) {
                self.pending.extend(SeqNumber::from_index(kept.len()).map(Event::Expunge));
            } else {
                kept.push(m);
            }
        }
        self.messages = kept;
        self.pending.push(Event::Exists(self.messages.len() as u32));
    }

    pub(super) fn reset_to_empty(&mut self, allow_expunge: bool) {
        if allow_expunge {
            for _ in 0..self.messages.len() {
                self.pending.push(Event::Expunge(SeqNumber::MIN));
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
    pub(super) fn claim_recent(&mut self, from: usize) {
        let candidates: Vec<usize> = (from..self.messages.len())
            .filter(|&i| !self.messages[i].has(DISK_OLD) && !self.messages[i].has(GHOST))
            .collect();
        if candidates.is_empty() {
            return;
        }
        let uv = self.uid_validity;
        let top = self.messages.last().map(|m| m.uid);
        let claimed_before = if !self.claims_recent {
            let s = self.state.read();
            if s.uid_validity == uv {
                s.recent_claimed
            } else {
                None
            }
        } else {
            self.state
                .update(|s| {
                    let before = if s.uid_validity == uv {
                        s.recent_claimed
                    } else {
                        None
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
                    None
                })
        };
        let claims = self.claims_recent;
        for i in candidates {
            if Some(self.messages[i].uid) > claimed_before {
                self.messages[i].set(RECENT, true);
                self.messages[i].set(CLAIMED, claims);
            }
        }
    }
}

/// Numbers messages 1 to n in file order, none of them written yet; returns n's UID.
pub(super) fn renumber(messages: &mut [Meta]) -> Option<Uid> {
    let mut last = None;
    for m in messages.iter_mut() {
        let Some(uid) = Uid::after(last) else { break };
        m.uid = uid;
        m.set(UID_ON_DISK, false);
        last = Some(uid);
    }
    last
}
