//! The maildrop as a POP session sees it: the messages that were there at login,
//! numbered 1..n for the whole session, with this session's marks kept in memory
//! until QUIT.
//!
//! - **A snapshot.** The message list is taken once, when the maildrop opens.
//!   Mail delivered later is not shown (RFC 1939 numbers must not change in a
//!   session) and is never touched: every later step names messages by UID.
//!   Messages that already carry `\Deleted` (from an IMAP client) are left out,
//!   as UW's ipop3d did.
//! - **Nothing changes before QUIT.** DELE and RETR only mark the snapshot. At
//!   QUIT, [`Maildrop::commit`] sets `\Seen` on the retrieved messages and
//!   `\Deleted` on the deleted ones and removes exactly those UIDs in one
//!   expunge, through the mailbox library's crash-safe rewrite. A connection
//!   that breaks, times out or is killed applies nothing (RFC 1939 §6).
//! - **One POP session at a time** per maildrop, by the [`SessionLock`].

use std::path::PathBuf;
use std::sync::Arc;

use daemon::{Account, Config};
use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::lock::LockConfig;
use mailbox::mailbox::{Context, Event, Logger, Mailbox, Mode, StoreOp};
use mailbox::names::NamePolicy;
use mailbox::store::Store;
use mailbox::uid::{SeqNumber, Uid, Uidvalidity};

use crate::error::Error;
use crate::lock::SessionLock;

/// Where a user's mail is, from the daemon configuration and the passwd entry.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub user: String,
    pub home: PathBuf,
    pub inbox: PathBuf,
    pub mail_subdir: Option<PathBuf>,
    pub lock: LockConfig,
    pub format: Format,
}

impl MailSettings {
    pub fn new(config: &Config, account: &Account) -> MailSettings {
        let lock = LockConfig {
            dotlock_helper: config.dotlock_helper.clone(),
            ..LockConfig::default()
        };
        MailSettings {
            user: account.name.clone(),
            home: account.home.clone(),
            inbox: config.inbox_for(&account.name, &account.home),
            mail_subdir: (!config.mail_subdirectory.is_empty())
                .then(|| PathBuf::from(&config.mail_subdirectory)),
            lock,
            format: Format::from_name(&config.new_mailbox_format).unwrap_or(Format::Mbox),
        }
    }

    /// The user's mailboxes, with diagnostics going to `log`.
    pub fn store(&self, log: Logger) -> Store {
        let mut ctx = Context::new(&self.home, &self.user);
        ctx.lock = self.lock.clone();
        ctx.default_format = self.format;
        ctx.log = log;
        let policy = NamePolicy::new(
            &self.user,
            &self.home,
            &self.inbox,
            self.mail_subdir.clone(),
        );
        Store::new(policy, ctx)
    }
}

/// A logger that drops everything (tests).
pub fn no_log() -> Logger {
    Arc::new(|_| {})
}

/// One message of the snapshot and what this session did with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub uid: Uid,
    /// RFC822.SIZE as the mailbox library counts it: CRLF octets, bookkeeping
    /// headers left out; exactly what RETR sends before dot-stuffing.
    pub size: u64,
    pub deleted: bool,
    /// RETR sent it: it gets `\Seen` at QUIT.
    pub retrieved: bool,
    /// Expunged by another session meanwhile.
    pub gone: bool,
}

/// What QUIT did, for the log and the goodbye.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Update {
    pub deleted: usize,
    pub seen: usize,
    /// Messages left in the snapshot (not counting mail that arrived meanwhile).
    pub remaining: usize,
}

/// An open maildrop.
pub struct Maildrop {
    name: String,
    mailbox: Option<Mailbox>,
    _lock: SessionLock,
    /// Absent for a maildrop with no file (nothing to number).
    uid_validity: Option<Uidvalidity>,
    entries: Vec<Entry>,
    initial_last: u32,
    last: u32,
}

impl Maildrop {
    /// Locks and opens the mailbox `name` (INBOX for POP3). A missing INBOX is
    /// an empty maildrop, as in UW (the MTA creates the file at the first delivery).
    pub fn open(store: &Store, name: &str) -> Result<Maildrop, Error> {
        Maildrop::open_with(store, name, false)
    }

    /// Like [`Maildrop::open`], but any mailbox that does not exist is an empty
    /// maildrop (POP2 FOLD, which has no error answer).
    pub fn open_missing_ok(store: &Store, name: &str) -> Result<Maildrop, Error> {
        Maildrop::open_with(store, name, true)
    }

    fn open_with(store: &Store, name: &str, missing_ok: bool) -> Result<Maildrop, Error> {
        let resolved = store.resolve(name).map_err(Error::MaildropUnavailable)?;
        let lock = SessionLock::try_acquire(&store.context().state_dir, &resolved.path)
            .map_err(|e| Error::MaildropUnavailable(e.into()))?
            .ok_or(Error::InUse)?;
        let mailbox = match store.open(name, Mode::ReadWrite) {
            Ok(mb) => Some(mb),
            Err(mailbox::error::Error::NoSuchMailbox(_)) if resolved.is_inbox || missing_ok => None,
            Err(e) => return Err(Error::MaildropUnavailable(e)),
        };
        let mut drop = Maildrop {
            name: resolved.name,
            uid_validity: mailbox.as_ref().map(Mailbox::uid_validity),
            mailbox,
            _lock: lock,
            entries: Vec::new(),
            initial_last: 0,
            last: 0,
        };
        if let Some(mb) = &drop.mailbox {
            for seq in mb.seq_numbers() {
                let Some(info) = mb.info(seq) else { continue };
                if info.expunged || info.flags.contains(Flags::DELETED) {
                    continue;
                }
                drop.entries.push(Entry {
                    uid: info.uid,
                    size: info.rfc822_size,
                    deleted: false,
                    retrieved: false,
                    gone: false,
                });
                // RFC 1725 LAST starts at the highest message already seen (UW).
                if info.flags.contains(Flags::SEEN) {
                    drop.initial_last = drop.entries.len() as u32;
                }
            }
        }
        drop.last = drop.initial_last;
        Ok(drop)
    }

    /// The mailbox name (`INBOX`, or a POP2 folder).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many messages the snapshot has (deleted ones included).
    pub fn len(&self) -> u32 {
        self.entries.len() as u32
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn uid_validity(&self) -> Option<Uidvalidity> {
        self.uid_validity
    }

    pub fn is_read_only(&self) -> bool {
        self.mailbox.as_ref().is_some_and(|m| m.is_read_only())
    }

    /// The messages still listed: `(number, entry)` of those neither deleted in
    /// this session nor removed by another.
    pub fn listed(&self) -> impl Iterator<Item = (u32, &Entry)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.deleted && !e.gone)
            .map(|(i, e)| (i as u32 + 1, e))
    }

    /// STAT: listed messages and their total size.
    pub fn stat(&self) -> (usize, u64) {
        self.listed()
            .fold((0, 0), |(n, size), (_, e)| (n + 1, size + e.size))
    }

    /// The entry of message `n`, if it is listed.
    pub fn entry(&self, n: u32) -> Result<&Entry, Error> {
        let e = n
            .checked_sub(1)
            .and_then(|i| self.entries.get(i as usize))
            .ok_or(Error::NoSuchMessage)?;
        if e.gone {
            return Err(Error::NoSuchMessage);
        }
        if e.deleted {
            return Err(Error::MessageDeleted);
        }
        Ok(e)
    }

    /// The UIDL of message `n`: UIDVALIDITY and UID as 8 hex digits each, as UW's
    /// ipop3d wrote them, so that a client sees the same string whichever server
    /// last wrote the file.
    pub fn unique_id(&self, n: u32) -> Result<String, Error> {
        let e = self.entry(n)?;
        Ok(format!(
            "{:08x}{:08x}",
            self.uid_validity.map_or(0, Uidvalidity::get),
            e.uid.get()
        ))
    }

    /// RFC 1725 LAST: the highest message number accessed.
    pub fn last(&self) -> u32 {
        self.last
    }

    fn touch(&mut self, n: u32) {
        self.last = self.last.max(n);
    }

    /// RETR: the whole message as CRLF text; it will be marked `\Seen` at QUIT.
    pub fn retrieve(&mut self, n: u32) -> Result<Vec<u8>, Error> {
        let bytes = self.message(n)?;
        self.entries[n as usize - 1].retrieved = true;
        Ok(bytes)
    }

    /// The whole message as CRLF text, without marking it (POP2 READ, which
    /// announces the size that RETR then sends).
    pub fn message(&mut self, n: u32) -> Result<Vec<u8>, Error> {
        let bytes = self.read(n, |mb, seq| mb.message(seq))?;
        self.touch(n);
        Ok(bytes)
    }

    /// TOP: the header and the body as CRLF text, without marking anything.
    pub fn top(&mut self, n: u32) -> Result<(Vec<u8>, Vec<u8>), Error> {
        let header = self.read(n, |mb, seq| mb.header(seq))?;
        let text = self.read(n, |mb, seq| mb.text(seq))?;
        self.touch(n);
        Ok((header, text))
    }

    /// Reads from message `n` by its UID, so that mail delivered meanwhile (which
    /// the library may have noticed) cannot shift what is read.
    fn read(
        &mut self,
        n: u32,
        part: impl FnOnce(&mut Mailbox, SeqNumber) -> mailbox::error::Result<Vec<u8>>,
    ) -> Result<Vec<u8>, Error> {
        let uid = self.entry(n)?.uid;
        let uv = self.uid_validity;
        let mb = self.mailbox.as_mut().ok_or(Error::NoSuchMessage)?;
        let result = match mb.seq_of_uid(uid) {
            Some(seq) => part(mb, seq),
            None => Err(mailbox::error::Error::Expunged),
        };
        if Some(mb.uid_validity()) != uv {
            return Err(Error::MailboxChanged);
        }
        match result {
            Ok(bytes) => Ok(bytes),
            Err(mailbox::error::Error::Expunged) | Err(mailbox::error::Error::NoSuchMessage) => {
                self.entries[n as usize - 1].gone = true;
                Err(Error::MessageVanished)
            }
            Err(e) => Err(Error::Mailbox(e)),
        }
    }

    /// DELE: marks message `n`; nothing happens to the file before QUIT.
    pub fn delete(&mut self, n: u32) -> Result<(), Error> {
        self.entry(n)?;
        if self.is_read_only() {
            return Err(Error::ReadOnly);
        }
        self.entries[n as usize - 1].deleted = true;
        self.touch(n);
        Ok(())
    }

    /// RSET: forgets this session's deletions and retrievals (as UW did, which
    /// also took back the `\Seen` of RETR).
    pub fn reset(&mut self) {
        for e in &mut self.entries {
            e.deleted = false;
            e.retrieved = false;
        }
        self.last = self.initial_last;
    }

    /// Marks message `n` retrieved without reading it (POP2 ACKS of a message
    /// sent by RETR).
    pub fn mark_retrieved(&mut self, n: u32) -> Result<(), Error> {
        self.entry(n)?;
        self.entries[n as usize - 1].retrieved = true;
        Ok(())
    }

    /// The UPDATE state (RFC 1939 §6): `\Seen` for what was retrieved, then one
    /// expunge of exactly the UIDs deleted in this session. Mail that arrived
    /// during the session, and messages others flagged `\Deleted`, stay. On
    /// failure the mailbox is as it was before (the library's rewrite is all or
    /// nothing).
    pub fn commit(mut self) -> Result<Update, Error> {
        let fail = |e: Error| Error::UpdateFailed(Box::new(e));
        let mut update = Update {
            remaining: self.listed().count(),
            ..Update::default()
        };
        let Some(mut mb) = self.mailbox.take() else {
            return Ok(update);
        };
        let live = |e: &&Entry| !e.gone;
        let deleted: Vec<Uid> = self
            .entries
            .iter()
            .filter(live)
            .filter(|e| e.deleted)
            .map(|e| e.uid)
            .collect();
        let seen: Vec<Uid> = self
            .entries
            .iter()
            .filter(live)
            .filter(|e| e.retrieved && !e.deleted)
            .map(|e| e.uid)
            .collect();
        if mb.is_read_only() || (deleted.is_empty() && seen.is_empty()) {
            return Ok(update);
        }
        // UIDs name the messages only while UIDVALIDITY stands; catch a rewrite
        // by another program before choosing what to delete.
        let events = mb
            .sync_without_expunge()
            .map_err(|e| fail(Error::Mailbox(e)))?;
        if events.contains(&Event::UidValidityChanged) || Some(mb.uid_validity()) != self.uid_validity
        {
            return Err(fail(Error::MailboxChanged));
        }
        for (uids, flag) in [(&seen, Flags::SEEN), (&deleted, Flags::DELETED)] {
            for &uid in uids {
                let Some(seq) = mb.seq_of_uid(uid) else {
                    continue;
                };
                match mb.store(seq, StoreOp::Add, flag, &[]) {
                    Ok(_) => {}
                    // Expunged elsewhere meanwhile: nothing left to do for it.
                    Err(mailbox::error::Error::Expunged)
                    | Err(mailbox::error::Error::NoSuchMessage) => {}
                    Err(e) => return Err(fail(Error::Mailbox(e))),
                }
            }
        }
        if deleted.is_empty() {
            mb.checkpoint().map_err(|e| fail(Error::Mailbox(e)))?;
        } else {
            let removed = mb
                .expunge(Some(&deleted))
                .map_err(|e| fail(Error::Mailbox(e)))?;
            update.deleted = removed.len();
        }
        update.seen = seen.len();
        mb.close().map_err(|e| fail(Error::Mailbox(e)))?;
        Ok(update)
    }
}
