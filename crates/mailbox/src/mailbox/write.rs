//! The one write path: lock, catch up, plan in-place patches and a tail, commit
//! through the journal, re-read what moved (CHECK, EXPUNGE, close).

use super::*;

impl Mailbox {
    /// Writes pending flag changes back to the file (RFC 3501 CHECK).
    pub fn checkpoint(&mut self) -> Result<()> {
        if self.read_only || !self.needs_write() {
            return Ok(());
        }
        self.write_back(WritePlan::default()).map(|_| ())
    }

    /// Whether the session knows something that only the file can keep: changed flags
    /// or keywords, or keywords defined since `X-IMAP` was written. New UIDs and \Recent
    /// claims alone are kept by the UID rule and the state file, so reading a mailbox
    /// never makes a checkpoint rewrite it.
    pub(super) fn needs_write(&self) -> bool {
        let new_keywords = self.pseudo.is_some()
            && self
                .disk_base
                .as_ref()
                .is_some_and(|b| b.keywords.as_slice() != self.keywords.names());
        new_keywords
            || self
                .messages
                .iter()
                .any(|m| !m.has(GHOST) && m.flags_dirty())
    }

    /// Removes the messages marked \Deleted (all of them, or only those whose UID is
    /// in `uids`, for UID EXPUNGE) and returns their sequence numbers in the order of
    /// RFC 3501 EXPUNGE responses (each relative to the ones before it).
    pub fn expunge(&mut self, uids: Option<&[Uid]>) -> Result<Vec<SeqNumber>> {
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        let selected: Option<std::collections::HashSet<Uid>> =
            uids.map(|u| u.iter().copied().collect());
        let pick = move |m: &Meta| {
            m.flags.contains(Flags::DELETED) && selected.as_ref().is_none_or(|s| s.contains(&m.uid))
        };
        self.write_back(WritePlan {
            expunge: Some(&pick),
            ..WritePlan::default()
        })
    }

    /// Writes back and closes the mailbox. A session that wrote the file leaves the
    /// mailbox index describing the file as it left it, so that the next open (a
    /// client coming back, RFC 7162 QRESYNC) reads the index instead of every message.
    pub fn close(mut self) -> Result<()> {
        self.checkpoint()?;
        if self.wrote {
            self.save_index_at_close();
        }
        Ok(())
    }

    /// Saves the index when the session's view is exactly the file: under the
    /// shared lock, nobody having written since this session did (else the next
    /// open scans, as it would have anyway).
    fn save_index_at_close(&mut self) {
        if !index::worth_an_index(self.messages.len()) {
            return;
        }
        let Ok(_lock) = ReadLock::acquire(&self.file, &self.ctx.lock) else {
            return;
        };
        let shared = self.state.read();
        if !matches!(self.changed(), Ok(false)) || shared.generation != self.generation {
            return;
        }
        self.save_index(index::rule_input(&shared, self.disk_base.as_ref()));
    }

    pub(super) fn write_lock(&mut self) -> Result<WriteLock> {
        // Our own shared lock would end silently under the exclusive one (same open
        // file description); give it up first.
        self.lease = None;
        let turn = self
            .ctx
            .state_dir
            .join(format!("{}.writer", crate::state::path_key(&self.path)));
        let lock = WriteLock::acquire_in_turn(&self.path, &self.file, &self.ctx.lock, &turn)?;
        if let Some(why) = lock.dotlock_unavailable() {
            (self.ctx.log)(&format!(
                "{}: no dot-lock ({why}); relying on kernel locks",
                self.path.display()
            ));
        }
        Ok(lock)
    }

    pub(super) fn recover_locked(&mut self) -> Result<()> {
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

    /// Records a rewrite in the shared state: the generation others compare, and the
    /// last UID (which the file's `X-IMAP` may not hold yet).
    pub(super) fn bump_generation(&mut self) {
        let (uid_validity, last_uid) = (self.uid_validity, self.recorded_last_uid());
        let recorded = self.state.update(|s| {
            s.generation += 1;
            if uid_validity.is_some() && s.uid_validity == uid_validity {
                s.last_uid = s.last_uid.max(last_uid);
            }
        });
        if let Err(e) = recorded {
            (self.ctx.log)(&format!(
                "{}: cannot update state: {e}",
                self.path.display()
            ));
        }
    }

    /// The last UID that may be recorded for others (the state file, `X-IMAP`): UIDs
    /// assigned and written, not those the UID rule derived for messages whose
    /// `X-UID` is not written yet. Every session derives those from the recorded
    /// number (the next after it, in file order); counting them would make the next
    /// reader derive them one higher, and the message's UID would change.
    pub(super) fn recorded_last_uid(&self) -> Option<Uid> {
        match self
            .messages
            .iter()
            .find(|m| !m.has(GHOST) && !m.has(UID_ON_DISK))
        {
            Some(m) => Uid::new(m.uid.get() - 1),
            None => self.last_uid,
        }
    }

    /// The one write path: lock, catch up with others, plan patches and a tail, commit
    /// through the journal, re-read what moved. `expunge` picks messages to remove.
    pub(super) fn write_back(&mut self, plan: WritePlan) -> Result<Vec<SeqNumber>> {
        let lock = self.write_lock()?;
        self.recover_locked()?;
        if self.changed()? || self.state.read().generation != self.generation {
            self.refresh_locked(false)?;
        }
        if plan.expunge.is_some() && self.pending.contains(&Event::UidValidityChanged) {
            // The messages the caller chose by UID are not the ones those UIDs name now.
            return Err(Error::UidValidityChanged);
        }
        let result = self.write_back_locked(plan);
        drop(lock);
        result
    }

    pub(super) fn write_back_locked(&mut self, plan: WritePlan) -> Result<Vec<SeqNumber>> {
        let expunge = plan.expunge;
        let len = self.file.metadata()?.len();
        let mut desired = ImapBase {
            uid_validity: self.uid_validity(),
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
        let first_start = live.first().map(|&i| self.messages[i].start).unwrap_or(len);
        // Where the tail must start: the first octet whose position changes.
        let mut tail: Option<u64> = None;
        let mut patches: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut patch_owner: Vec<u64> = Vec::new();
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
            // A new pseudo-message goes where the first message is: damage before it
            // stays in front, where the scanner keeps it apart (and the pseudo-message
            // stays the first message). Only when asked, or when the tail reaches the
            // first message anyway (below).
            None if plan.force_pseudo => tail = Some(first_start),
            None => {}
        }
        if self.renumbered {
            // New UIDs under a new UIDVALIDITY: the whole mailbox is written again, a
            // fresh pseudo-message first, so that no old X-UID is left for a reader to
            // trust beside the new X-IMAP.
            tail = Some(
                self.pseudo
                    .map_or(first_start, |p| p.start.min(first_start)),
            );
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
            if m.flags_dirty() || (plan.persist_uids && !m.has(UID_ON_DISK)) {
                if m.span_len == 0 {
                    tail = Some(m.start);
                    break;
                }
                let block = self.status_block(m, Some(m.span_len as usize));
                if block.len() == m.span_len as usize {
                    patches.push((m.span_start, block));
                    patch_owner.push(m.start);
                } else {
                    tail = Some(m.start);
                    break;
                }
            }
        }
        // The UID rule needs messages without an `X-UID` to come after all that have
        // one. Once anything is written from the first such message on, they are all
        // written (for a spool no IMAP server has touched, that first write is the one
        // that puts its UIDVALIDITY and UIDs in the file).
        if let Some(first) = live
            .iter()
            .map(|&i| &self.messages[i])
            .find(|m| !m.has(UID_ON_DISK))
            .map(|m| m.start)
        {
            if tail.is_some_and(|t| t >= first) || patch_owner.iter().any(|&s| s >= first) {
                tail = Some(tail.map_or(first, |t| t.min(first)));
            }
        }
        if let Some(t) = tail {
            patches.retain(|(off, _)| *off < t);
        }
        // The last UID the file records: what it will hold, not UIDs derived for mail
        // whose X-UID this write leaves unwritten (they are derived from this number).
        if let Some(m) = live
            .iter()
            .map(|&i| &self.messages[i])
            .find(|m| !m.has(UID_ON_DISK) && tail.is_none_or(|t| m.start < t))
        {
            desired.last_uid = Uid::new(m.uid.get() - 1);
            if let Some(Pseudo {
                value: Some((a, _)),
                ..
            }) = self.pseudo
            {
                // Same width (fixed-width numbers): the planned patch keeps its length.
                if let Some(patch) = patches.iter_mut().find(|(off, _)| *off == a) {
                    let width = patch.1.len();
                    let mut v = header::render_imap_base(&desired);
                    v.resize(width, b' ');
                    patch.1 = v;
                }
            }
        }
        // Which messages a patch rewrote (by their start), for the bookkeeping below.
        let patched_starts: Vec<u64> = patch_owner
            .into_iter()
            .filter(|&start| tail.is_none_or(|t| start < t))
            .collect();
        let state_dir = self.ctx.state_dir.clone();
        let mut rw = Rewrite::begin(&state_dir, &self.path, &self.file, len)?;
        for (off, bytes) in patches {
            rw.patch(off, bytes);
        }
        let fresh_pseudo = match (tail, self.pseudo) {
            (Some(t), Some(p)) => p.start >= t,
            (Some(t), None) => t <= first_start,
            (None, _) => false,
        };
        if let Some(t) = tail {
            rw.start_tail(t);
            if fresh_pseudo {
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
        self.wrote = true;
        // Messages removed: in RFC 3501 order.
        let mut expunged = Vec::new();
        let mut kept = 0usize;
        let mut index = 0usize;
        self.messages.retain(|_| {
            let gone = doomed[index];
            index += 1;
            if gone {
                expunged.extend(SeqNumber::from_index(kept));
            } else {
                kept += 1;
            }
            !gone
        });
        // An EXISTS queued before this expunge (new mail found by the catch-up) must give
        // the count after it.
        if !expunged.is_empty() && self.pending.iter().any(|e| matches!(e, Event::Exists(_))) {
            self.pending.retain(|e| !matches!(e, Event::Exists(_)));
            self.pending.push(Event::Exists(self.messages.len() as u32));
        }
        // The file now says what the session knows of the messages it wrote: the ones
        // patched (their whole block), and everything in the tail (re-read below).
        let tail_from = applied.tail_start.unwrap_or(u64::MAX);
        for m in &mut self.messages {
            if m.has(GHOST) {
                continue;
            }
            let patched = m.start < tail_from && patched_starts.binary_search(&m.start).is_ok();
            if patched || m.start >= tail_from {
                m.disk_flags = m.flags;
                m.disk_keywords = m.keywords;
            }
            if patched || m.start >= tail_from {
                // Written with its UID (the tail writes every message's block afresh
                // when its UID was not on disk).
                m.set(UID_ON_DISK, true);
            }
            if patched && m.has(CLAIMED) {
                m.set(DISK_OLD, true);
            }
        }
        if self.pseudo.is_some() || fresh_pseudo {
            self.disk_base = Some(desired);
        }
        self.touch_times(applied.new_len)?;
        self.bump_generation();
        self.generation = self.state.read().generation;
        // Re-read what moved, keeping session state by UID.
        if let Some(t) = applied.tail_start {
            let (keep, prev) = self.kept_before(t);
            // A new pseudo-message is only recognised by a scan from the start.
            let (out, keep) = if fresh_pseudo {
                (self.scan_from(0, None)?, 0)
            } else {
                (self.scan_from(t, prev)?, keep)
            };
            let pending = std::mem::take(&mut self.pending);
            // Ghosts after the tail are gone from the file already; the merge keeps them
            // as ghosts (no expunge allowed here) so the client is told later.
            self.merge(out, keep, false)?;
            self.pending = pending;
        }
        self.stamp = Stamp::of(&self.file.metadata()?);
        self.note_modseqs();
        Ok(expunged)
    }

    pub(super) fn status_block(&self, m: &Meta, fit: Option<usize>) -> Vec<u8> {
        let names = self.keywords.names_of(m.keywords);
        let old = m.has(DISK_OLD) || m.has(CLAIMED);
        header::render_status(m.flags, old, &names, m.uid, fit)
    }

    /// Writes one kept message into the tail: opening and body as they were, the
    /// header as it was or with a fresh bookkeeping block.
    pub(super) fn write_message(&self, rw: &mut Rewrite, m: &Meta) -> Result<()> {
        let opening_only = self.driver.closing().is_some()
            && m.header_start - m.start == self.driver.opening().len() as u64;
        if opening_only {
            // MMDF without a From_ line: give it one, so its date stays put.
            let sender = format!("{}@{}", self.ctx.user, self.ctx.hostname);
            let mut out = Vec::new();
            self.driver
                .write_opening(&mut out, &fromline::format_line(&sender, m.date));
            rw.write(&out)?;
        } else {
            rw.copy_from_file(m.start, m.header_start - m.start)?;
            // A file cut right after a From_ line (a delivery that stopped there)
            // leaves the line without its end: the header written next would
            // join it, unmaking the message and gluing its header onto the
            // message before (found by fuzzing).
            if m.header_start > m.start {
                let mut last = [0u8; 1];
                self.file.read_exact_at(&mut last, m.header_start - 1)?;
                if last[0] != b'\n' {
                    rw.write(b"\n")?;
                }
            }
        }
        let blank_len = m.blank_len as u64;
        let rewrite_header = m.header_stale() || m.span_len == 0 || m.has(TRUNCATED);
        if rewrite_header {
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
            // A header without a blank line (a message that is all header) stays
            // without one: adding it would change the message as served, and its
            // RFC822.SIZE, behind the client's back (found by fuzzing).
            rw.write(&out)?;
            if blank_len > 0 {
                rw.copy_from_file(fields_end, blank_len)?;
            }
        } else {
            rw.copy_from_file(m.header_start, m.body_start - m.header_start)?;
        }
        rw.copy_from_file(m.body_start, m.text_end - m.body_start)?;
        // A text cut short gets its final line end; a message that is all header,
        // rewritten above, has it already (else it would gain a blank line).
        let ends_in_header = rewrite_header && m.body_start >= m.text_end;
        if m.text_end > m.header_start && !ends_in_header {
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
    pub(super) fn touch_times(&self, _len: u64) -> Result<()> {
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
}
