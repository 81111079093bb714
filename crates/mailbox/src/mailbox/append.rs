//! APPEND and COPY: new messages framed for the file and added at its end through
//! the journal, all or nothing.

use super::*;
use crate::state::AppendPoint;

/// What is stored with a new message besides its text.
struct NewMessage {
    flags: Flags,
    keywords: Vec<String>,
    internal_date: Option<InternalDate>,
}

impl NewMessage {
    /// What to store of each message to append, and its text ready for `driver`'s
    /// files (a message that cannot be stored fails here, before any lock).
    fn prepare(
        messages: &[AppendMessage],
        driver: &dyn Driver,
    ) -> Result<(Vec<NewMessage>, Texts<'static>)> {
        let texts = messages
            .iter()
            .map(|m| render::prepare(m.bytes, driver))
            .collect::<Result<_>>()?;
        let metas = messages
            .iter()
            .map(|m| NewMessage {
                flags: m.flags,
                keywords: m.keywords.clone(),
                internal_date: m.internal_date,
            })
            .collect();
        Ok((metas, Texts::Prepared(texts)))
    }
}

/// Where the texts of the new messages come from.
enum Texts<'t> {
    /// Prepared before the lock was taken (APPEND: the client's literals are in
    /// memory anyway, and a bad one fails before anything is locked).
    Prepared(Vec<render::Prepared>),
    /// Read one at a time while they are written (COPY), so that memory holds one
    /// message, not all of them.
    Read(&'t mut dyn FnMut(usize) -> Result<Vec<u8>>),
}

impl Mailbox {
    /// Appends messages, all or nothing (MULTIAPPEND), and returns their UIDs.
    pub fn append(&mut self, messages: &[AppendMessage]) -> Result<Vec<Uid>> {
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        let (metas, texts) = NewMessage::prepare(messages, self.driver)?;
        self.append_with(&metas, texts)
    }

    fn append_with(&mut self, messages: &[NewMessage], texts: Texts) -> Result<Vec<Uid>> {
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        let lock = self.write_lock()?;
        self.recover_locked()?;
        if self.changed()? || self.state.read().generation != self.generation {
            self.refresh_locked(false)?;
        }
        // Every message's keywords at once, all or nothing: a refused APPEND defines
        // none of them (as a refused STORE does not).
        let all: Vec<&str> = messages
            .iter()
            .flat_map(|m| m.keywords.iter().map(String::as_str))
            .collect();
        if self.keywords.intern_all(&all).is_none() {
            return Err(Error::BadMessage(
                "keyword not accepted (invalid, or 64 already defined)",
            ));
        }
        let mut keyword_sets = Vec::with_capacity(messages.len());
        for m in messages {
            let names: Vec<String> = m
                .keywords
                .iter()
                .filter_map(|k| self.keywords.index(k))
                .map(|i| self.keywords.names()[i].clone())
                .collect();
            keyword_sets.push(names);
        }
        if Uid::range_after(self.last_uid, messages.len()).is_none() {
            // No UIDs left for these under this UIDVALIDITY: a new one, every message
            // renumbered (and rewritten below), as RFC 3501 §2.3.1.1 wants.
            self.renumber_locked();
        }
        // By the UID rule, the new UIDs follow those of messages without an `X-UID`
        // only once theirs are written: write them first (a tail rewrite from the first
        // such message, usually the last few deliveries).
        if self.needs_write() || self.messages.iter().any(|m| !m.has(GHOST) && !m.has(UID_ON_DISK)) {
            self.write_back_locked(WritePlan {
                persist_uids: true,
                ..WritePlan::default()
            })?;
        }
        let len = self.file.metadata()?.len();
        let (first_uid, last) = self.write_appended(messages, texts, &keyword_sets, len)?;
        // Pick the new messages up as any session would.
        let keep = self.messages.len();
        let prev = self.messages.last().map(|m| m.uid);
        let scanned = self.scan_from(len, prev)?;
        self.merge(scanned, keep, false)?;
        self.stamp = Stamp::of(&self.file.metadata()?);
        self.note_modseqs();
        drop(lock);
        Ok(Uid::span(first_uid, last).collect())
    }

    /// Numbers the session's messages afresh under a new UIDVALIDITY, for the write
    /// that follows to put in the file (the caller holds the write lock). The session
    /// must end: its client knows the old UIDs ([`Event::UidValidityChanged`]).
    pub(super) fn renumber_locked(&mut self) {
        let uid_validity = self.agree_new_uid_validity(self.uid_validity);
        (self.ctx.log)(&format!(
            "{}: UIDs of UIDVALIDITY {} are exhausted: renumbered under {uid_validity}",
            self.path.display(),
            self.uid_validity.map_or(0, Uidvalidity::get)
        ));
        // Messages others expunged are gone from the file already; the session ends.
        self.messages.retain(|m| !m.has(GHOST));
        let last = sync::renumber(&mut self.messages);
        let keywords = self.disk_base.take().map(|b| b.keywords).unwrap_or_default();
        self.disk_base = Some(ImapBase {
            uid_validity,
            last_uid: last,
            keywords,
        });
        self.uid_validity = Some(uid_validity);
        self.last_uid = last;
        self.renumbered = true;
        self.pending.push(Event::UidValidityChanged);
    }

    /// APPEND without reading the mailbox: possible when the state file's
    /// [`AppendPoint`] shows the file exactly as the last APPEND left it (nobody has
    /// written it since). Returns the UIDVALIDITY and the new UIDs, or `None` when
    /// the full way ([`Mailbox::open`] and [`Mailbox::append`]) must be taken.
    pub fn append_quick(
        path: &Path,
        ctx: &Context,
        messages: &[AppendMessage],
    ) -> Result<Option<(Uidvalidity, Vec<Uid>)>> {
        let Some(point) = StateFile::new(&ctx.state_dir, path).read().appendable else {
            return Ok(None);
        };
        let (file, read_only) = match open_file(path, Mode::Append) {
            Ok(f) => f,
            Err(_) => return Ok(None),
        };
        let meta = file.metadata()?;
        if read_only || !meta.is_file() || !unchanged_since(&point, &Stamp::of(&meta)) {
            return Ok(None);
        }
        let Some(format) = detect_format(&file, meta.len(), ctx.default_format) else {
            return Ok(None);
        };
        let (metas, texts) = NewMessage::prepare(messages, driver::driver(format))?;
        let mut mb = Mailbox::unread(path, file, format, ctx, Stamp::of(&meta));
        let lock = mb.write_lock()?;
        // Under the lock, everything again: the journal (a crashed rewrite is the full
        // way's to finish), the state, the file, and that the last message is there.
        if journal::pending(&ctx.state_dir, path) {
            return Ok(None);
        }
        let shared = mb.state.read();
        let stamp = Stamp::of(&mb.file.metadata()?);
        if shared.appendable != Some(point)
            || shared.generation != point.generation
            || !unchanged_since(&point, &stamp)
            || !mb.opens_at(point.last_start)
        {
            return Ok(None);
        }
        mb.stamp = stamp;
        mb.generation = shared.generation;
        mb.uid_validity = shared.uid_validity;
        let mut last_uid = Some(point.last_uid);
        if let Some((a, b)) = point.imap_base {
            mb.pseudo = Some(Pseudo {
                start: 0,
                next: 0,
                value: Some((a, b)),
            });
            let Some(base) = mb.reread_imap_base()? else {
                return Ok(None);
            };
            for k in &base.keywords {
                mb.keywords.intern(k);
            }
            if shared.uid_validity.is_some_and(|v| v != base.uid_validity) {
                return Ok(None);
            }
            mb.uid_validity = Some(base.uid_validity);
            last_uid = last_uid.max(base.last_uid);
            mb.disk_base = Some(base);
        }
        let Some(uid_validity) = mb.uid_validity else {
            return Ok(None);
        };
        if shared.uid_validity == mb.uid_validity {
            last_uid = last_uid.max(shared.last_uid);
        }
        if Uid::range_after(last_uid, messages.len()).is_none() {
            // The UID space is used up: renumbering is the full way's.
            return Ok(None);
        }
        mb.last_uid = last_uid;
        // Keywords new to the mailbox change its X-IMAP list: the full way's job.
        let mut keyword_sets = Vec::with_capacity(messages.len());
        for m in &metas {
            let mut names = Vec::new();
            for k in &m.keywords {
                match mb.keywords.index(k) {
                    Some(i) => names.push(mb.keywords.names()[i].clone()),
                    None => return Ok(None),
                }
            }
            keyword_sets.push(names);
        }
        let (first, last) = mb.write_appended(&metas, texts, &keyword_sets, stamp.size)?;
        drop(lock);
        Ok(Some((uid_validity, Uid::span(first, last).collect())))
    }

    /// Writes prepared messages after `len` through the journal with the next UIDs,
    /// keeps the `X-IMAP` last UID (in place, when it fits) and the state file up to
    /// date, and records the [`AppendPoint`] for the next APPEND. The caller holds the
    /// write lock, and every message already in the file has its UID written.
    fn write_appended(
        &mut self,
        messages: &[NewMessage],
        mut texts: Texts,
        keyword_sets: &[Vec<String>],
        len: u64,
    ) -> Result<(Uid, Uid)> {
        let (first_uid, last) =
            Uid::range_after(self.last_uid, messages.len()).ok_or(Error::UidsExhausted)?;
        let Some(uid_validity) = self.uid_validity else {
            return Err(Error::UidsExhausted);
        };
        let mut rw = Rewrite::begin(&self.ctx.state_dir.clone(), &self.path, &self.file, len)?;
        let mut imap_base = None;
        if let Some(Pseudo {
            value: Some((a, b)),
            ..
        }) = self.pseudo
        {
            let base = ImapBase {
                uid_validity,
                last_uid: Some(last),
                keywords: self.keywords.names().to_vec(),
            };
            let mut v = header::render_imap_base(&base);
            if v.len() <= (b - a) as usize {
                v.resize((b - a) as usize, b' ');
                rw.patch(a, v);
            }
            imap_base = Some((a, b));
        }
        rw.start_tail(len);
        let mut last_offset = 0;
        let from_sender = format!("{}@{}", self.ctx.user, self.ctx.hostname);
        let written = (|| -> Result<()> {
            let mut offset = 0u64;
            for (i, m) in messages.iter().enumerate() {
                let read;
                let p = match &mut texts {
                    Texts::Prepared(all) => &all[i],
                    Texts::Read(next) => {
                        read = render::prepare(&next(i)?, self.driver)?;
                        &read
                    }
                };
                // Within first_uid..=last, which range_after checked.
                let Some(uid) = Uid::new(first_uid.get().saturating_add(i as u32)) else {
                    return Err(Error::UidsExhausted);
                };
                let kws: Vec<&str> = keyword_sets[i].iter().map(String::as_str).collect();
                let block = header::render_status(m.flags, false, &kws, uid, None);
                let date = m.internal_date.unwrap_or_else(fromline::now);
                let from_line = fromline::format_line(&from_sender, date);
                // Piece by piece: a large message is not copied once more here.
                let len = render::frame_pieces(self.driver, &from_line, p, &block, |piece| {
                    rw.write(piece)
                })?;
                last_offset = offset;
                offset += len;
            }
            Ok(())
        })();
        if let Err(e) = written {
            rw.abandon();
            return Err(e);
        }
        rw.commit()?;
        self.wrote = true;
        self.touch_times(len)?;
        // Until the file's X-IMAP says so, the state file keeps the new last UID.
        self.last_uid = self.last_uid.max(Some(last));
        let last_uid = last;
        let now = Stamp::of(&self.file.metadata()?);
        self.state
            .update(|s| {
                if s.uid_validity == Some(uid_validity) {
                    s.last_uid = s.last_uid.max(Some(last_uid));
                }
                s.appendable = (s.uid_validity.is_none_or(|v| v == uid_validity))
                    .then_some(AppendPoint {
                        generation: s.generation,
                        ino: now.ino,
                        size: now.size,
                        mtime: now.mtime,
                        mtime_ns: now.mtime_ns,
                        last_start: len + last_offset,
                        last_uid,
                        imap_base,
                    });
            })
            .unwrap_or_else(|e| {
                // Harmless: the UID rule gives the appended messages the same UIDs.
                (self.ctx.log)(&format!("{}: cannot update state: {e}", self.path.display()))
            });
        Ok((first_uid, last))
    }

    /// Copies messages (by sequence number) into another open mailbox, of any format,
    /// with their flags, keywords and internal dates; all or nothing. Returns the
    /// (source UID, destination UID) pairs for COPYUID.
    ///
    /// The texts are read one at a time while the destination is written, so memory
    /// holds one message at a time — except when the destination is this same file,
    /// whose write lock would shut out the reads: then they are read first.
    pub fn copy_to(&mut self, seqs: &[SeqNumber], dest: &mut Mailbox) -> Result<Vec<(Uid, Uid)>> {
        let mut infos = Vec::with_capacity(seqs.len());
        let mut metas = Vec::with_capacity(seqs.len());
        for &seq in seqs {
            let info = self.info(seq).ok_or(Error::NoSuchMessage)?;
            if info.expunged {
                return Err(Error::Expunged);
            }
            metas.push(NewMessage {
                flags: info.flags,
                keywords: self
                    .keywords
                    .names_of(info.keywords)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
                internal_date: Some(info.internal_date),
            });
            infos.push(info);
        }
        let same_file = {
            let (a, b) = (self.file.metadata()?, dest.file.metadata()?);
            a.dev() == b.dev() && a.ino() == b.ino()
        };
        let uids = if same_file {
            let mut texts = Vec::with_capacity(seqs.len());
            for &seq in seqs {
                texts.push(self.message(seq)?);
            }
            let mut next = |i: usize| Ok(std::mem::take(&mut texts[i]));
            dest.append_with(&metas, Texts::Read(&mut next))?
        } else {
            self.batch_reads();
            let mut next = |i: usize| {
                let text = self.message(seqs[i])?;
                // The UIDs must be the ones reported: a message moved under us fails.
                match self.info(seqs[i]) {
                    Some(now) if now.uid == infos[i].uid => Ok(text),
                    _ => Err(Error::Expunged),
                }
            };
            let uids = dest.append_with(&metas, Texts::Read(&mut next));
            self.release_read_lock();
            uids?
        };
        Ok(infos.iter().map(|i| i.uid).zip(uids).collect())
    }
}

/// Whether the file is still the one an [`AppendPoint`] describes.
fn unchanged_since(point: &AppendPoint, now: &Stamp) -> bool {
    point.ino == now.ino
        && point.size == now.size
        && point.mtime == now.mtime
        && point.mtime_ns == now.mtime_ns
}
