//! APPEND and COPY: new messages framed for the file and added at its end through
//! the journal, all or nothing.

use super::*;

impl Mailbox {
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
        // Until the file's X-IMAP says so, the state file keeps the new last UID.
        self.last_uid = self.last_uid.max(last);
        let (uid_validity, last_uid) = (self.uid_validity, self.last_uid);
        self.state
            .update(|s| {
                if s.uid_validity == uid_validity {
                    s.last_uid = s.last_uid.max(last_uid);
                }
            })
            .unwrap_or_else(|e| {
                // Harmless: the UID rule gives the appended messages the same UIDs.
                (self.ctx.log)(&format!("{}: cannot update state: {e}", self.path.display()))
            });
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
}
