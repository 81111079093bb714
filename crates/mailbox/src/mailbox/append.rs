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
        if self.needs_write() || self.pseudo.is_none_or(|p| p.value.is_none()) {
            self.write_back_locked(None)?;
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
