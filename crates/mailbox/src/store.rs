//! The user's mailboxes as a whole: the namespace operations of IMAP (CREATE,
//! DELETE, RENAME, LIST, LSUB, SUBSCRIBE, STATUS, APPEND to a closed mailbox) on top
//! of the name policy, the drivers and the subscription file. Every name goes
//! through [`NamePolicy::resolve`] first; nothing here takes a path from a client.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::flags::Flags;
use crate::list::{self, ListEntry};
use crate::mailbox::{AppendMessage, Context, Mailbox, Mode};
use crate::names::{NamePolicy, ResolvedName};
use crate::subscriptions::Subscriptions;
use crate::uid::{ModSeq, SeqNumber, Uid, Uidvalidity};

/// What STATUS reports (RFC 3501 §6.3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxStatus {
    pub messages: u32,
    pub recent: u32,
    pub uid_next: Uid,
    pub uid_validity: Uidvalidity,
    pub unseen: u32,
    /// HIGHESTMODSEQ (RFC 7162 §3.1.2.1).
    pub highest_modseq: ModSeq,
    /// The sum of the messages' RFC822.SIZE (STATUS SIZE, RFC 8438).
    pub size: u64,
}

/// One user's mailboxes.
pub struct Store {
    policy: NamePolicy,
    ctx: Context,
}

impl Store {
    pub fn new(policy: NamePolicy, ctx: Context) -> Store {
        Store { policy, ctx }
    }

    pub fn policy(&self) -> &NamePolicy {
        &self.policy
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Resolves a mailbox name through the policy.
    pub fn resolve(&self, name: &str) -> Result<ResolvedName> {
        Ok(self.policy.resolve(name)?)
    }

    /// Opens a mailbox by name (SELECT, EXAMINE).
    pub fn open(&self, name: &str, mode: Mode) -> Result<Mailbox> {
        self.open_resolved(&self.resolve(name)?, mode)
    }

    fn open_resolved(&self, r: &ResolvedName, mode: Mode) -> Result<Mailbox> {
        if r.hierarchy_only || r.path.is_dir() {
            return Err(Error::NotAMailbox(r.path.clone()));
        }
        Mailbox::open(&r.path, mode, &self.ctx).map_err(|e| match e {
            Error::NoSuchMailbox(_) => Error::NoSuchMailbox(r.name.clone()),
            e => e,
        })
    }

    /// Creates a mailbox (or, for a name ending in `/`, a hierarchy holder), with the
    /// directories above it, in the configured default format.
    pub fn create(&self, name: &str) -> Result<()> {
        let r = self.resolve(name)?;
        if r.is_inbox {
            return Err(Error::AlreadyExists(r.name));
        }
        if r.path.exists() {
            return Err(Error::AlreadyExists(r.name));
        }
        self.check_no_file_above(&r)?;
        if let Some(parent) = r.path.parent() {
            create_dirs(parent)?;
        }
        if r.hierarchy_only {
            return create_dirs(&r.path);
        }
        Mailbox::create(&r.path, self.ctx.default_format, &self.ctx).map_err(|e| match e {
            Error::AlreadyExists(_) => Error::AlreadyExists(r.name.clone()),
            e => e,
        })
    }

    /// Deletes a mailbox, or an empty hierarchy holder. INBOX cannot be deleted, nor
    /// a holder that still has mailboxes under it (RFC 3501 §6.3.4).
    pub fn delete(&self, name: &str) -> Result<()> {
        let r = self.resolve(name)?;
        if r.is_inbox {
            return Err(Error::NotPermitted("INBOX cannot be deleted"));
        }
        let meta =
            fs::symlink_metadata(&r.path).map_err(|_| Error::NoSuchMailbox(r.name.clone()))?;
        if meta.is_dir() {
            return match fs::remove_dir(&r.path) {
                Ok(()) => Ok(()),
                Err(e)
                    if e.kind() == io::ErrorKind::DirectoryNotEmpty
                        || e.raw_os_error() == Some(libc::ENOTEMPTY) =>
                {
                    Err(Error::NotPermitted("name has inferior hierarchical names"))
                }
                Err(e) => Err(e.into()),
            };
        }
        if !meta.is_file() {
            return Err(Error::NotAMailbox(r.path));
        }
        // Only files that are mailboxes: DELETE must not become "remove any file".
        Mailbox::open(&r.path, Mode::ReadOnly, &self.ctx)?;
        fs::remove_file(&r.path)?;
        crate::state::forget(&self.ctx.state_dir, &r.path);
        Ok(())
    }

    /// Renames a mailbox or a whole hierarchy. Renaming INBOX moves its messages into
    /// a new mailbox of the new name and leaves INBOX empty (RFC 3501 §6.3.5).
    pub fn rename(&self, old: &str, new: &str) -> Result<()> {
        let from = self.resolve(old)?;
        let to = self.resolve(new)?;
        if to.is_inbox {
            return Err(Error::AlreadyExists(to.name));
        }
        if fs::symlink_metadata(&to.path).is_ok() {
            return Err(Error::AlreadyExists(to.name));
        }
        self.check_no_file_above(&to)?;
        if let Some(parent) = to.path.parent() {
            create_dirs(parent)?;
        }
        if from.is_inbox {
            return self.rename_inbox(&to);
        }
        match fs::symlink_metadata(&from.path) {
            Err(_) => return Err(Error::NoSuchMailbox(from.name)),
            // A FIFO, socket or device under a mailbox name is not a mailbox to move.
            Ok(meta) if !meta.is_file() && !meta.is_dir() && !meta.is_symlink() => {
                return Err(Error::NotAMailbox(from.path))
            }
            Ok(_) => {}
        }
        if to.path.starts_with(&from.path) {
            return Err(Error::NotPermitted("cannot rename a mailbox into itself"));
        }
        fs::rename(&from.path, &to.path)?;
        // The state of each renamed mailbox (UIDVALIDITY, \Recent claims, index) is
        // keyed by its path: the old paths' state goes, so that a mailbox created
        // later under an old name starts afresh; the new paths start afresh too.
        let state_dir = &self.ctx.state_dir;
        crate::state::forget(state_dir, &from.path);
        crate::state::forget(state_dir, &to.path);
        if fs::symlink_metadata(&to.path).is_ok_and(|m| m.is_dir()) {
            for (old, new) in renamed_files(&from.path, &to.path) {
                crate::state::forget(state_dir, &old);
                crate::state::forget(state_dir, &new);
            }
        }
        Ok(())
    }

    /// A name below a mailbox file (`box/sub` where `box` is a file) cannot be made:
    /// [`Error::NoInferiors`], not the I/O error mkdir(2) would give.
    fn check_no_file_above(&self, r: &ResolvedName) -> Result<()> {
        let root = self.policy.root();
        for dir in r.path.ancestors().skip(1) {
            if dir == root || !dir.starts_with(&root) {
                break;
            }
            if fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
                return Err(Error::NoInferiors(r.name.clone()));
            }
        }
        Ok(())
    }

    fn rename_inbox(&self, to: &ResolvedName) -> Result<()> {
        let mut inbox = self.open("INBOX", Mode::ReadWrite)?;
        if inbox.is_read_only() {
            return Err(Error::ReadOnly);
        }
        Mailbox::create(&to.path, self.ctx.default_format, &self.ctx)?;
        let mut dest = Mailbox::open(&to.path, Mode::Append, &self.ctx)?;
        let seqs: Vec<SeqNumber> = inbox
            .seq_numbers()
            .filter(|&s| inbox.info(s).is_some_and(|i| !i.expunged))
            .collect();
        let moved = inbox.copy_to(&seqs, &mut dest)?;
        dest.close()?;
        // Only what was copied leaves INBOX: mail delivered meanwhile stays.
        let uids: Vec<Uid> = moved.iter().map(|(src, _)| *src).collect();
        for &uid in &uids {
            if let Some(seq) = inbox.seq_of_uid(uid) {
                inbox.store(seq, crate::mailbox::StoreOp::Add, Flags::DELETED, &[])?;
            }
        }
        inbox.expunge(Some(&uids))?;
        inbox.close()
    }

    /// LIST (RFC 3501 §6.3.8).
    pub fn list(&self, reference: &str, pattern: &str) -> Result<Vec<ListEntry>> {
        list::list(&self.policy, reference, pattern)
    }

    /// LSUB (RFC 3501 §6.3.9).
    pub fn lsub(&self, reference: &str, pattern: &str) -> Result<Vec<ListEntry>> {
        Ok(list::lsub(
            &self.subscriptions().list()?,
            reference,
            pattern,
        ))
    }

    pub fn subscriptions(&self) -> Subscriptions {
        Subscriptions::new(&self.policy.home)
    }

    /// SUBSCRIBE: the name must pass the policy (it need not exist, RFC 3501 §6.3.6).
    pub fn subscribe(&self, name: &str) -> Result<()> {
        let r = self.resolve(name)?;
        Ok(self.subscriptions().subscribe(&r.name)?)
    }

    pub fn unsubscribe(&self, name: &str) -> Result<()> {
        let canonical = self
            .resolve(name)
            .map(|r| r.name)
            .unwrap_or_else(|_| name.to_string());
        self.subscriptions().unsubscribe(&canonical)
    }

    /// STATUS, without selecting (and without taking \Recent from anyone).
    pub fn status(&self, name: &str) -> Result<MailboxStatus> {
        let mb = self.open(name, Mode::ReadOnly)?;
        let count = mb.count();
        let unseen = mb
            .seq_numbers()
            .filter(|&s| mb.info(s).is_some_and(|i| !i.flags.contains(Flags::SEEN)))
            .count() as u32;
        let size = mb
            .seq_numbers()
            .filter_map(|s| mb.info(s))
            .map(|i| i.rfc822_size)
            .sum();
        Ok(MailboxStatus {
            messages: count,
            recent: mb.recent_count(),
            uid_next: mb.uid_next(),
            uid_validity: mb.uid_validity(),
            unseen,
            highest_modseq: mb.highest_modseq(),
            size,
        })
    }

    /// APPEND to a mailbox by name; all or nothing. Returns UIDVALIDITY and the UIDs
    /// (RFC 4315 APPENDUID). A missing mailbox is [`Error::NoSuchMailbox`], which
    /// IMAP answers with `[TRYCREATE]`.
    pub fn append(
        &self,
        name: &str,
        messages: &[AppendMessage],
    ) -> Result<(Uidvalidity, Vec<Uid>)> {
        let r = self.resolve(name)?;
        if !r.hierarchy_only && r.path.is_file() {
            if let Some(done) = Mailbox::append_quick(&r.path, &self.ctx, messages)? {
                return Ok(done);
            }
        }
        let mut mb = self.open_resolved(&r, Mode::Append)?;
        if mb.is_read_only() {
            return Err(Error::ReadOnly);
        }
        let uids = mb.append(messages)?;
        let uv = mb.uid_validity();
        mb.close()?;
        Ok((uv, uids))
    }
}

fn create_dirs(dir: &Path) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.recursive(true).create(dir).map_err(Error::from_write)
}

/// The (old, new) paths of the files under a directory renamed from `from` to `to`
/// (a bounded walk: at most a few levels and entries, as mailbox hierarchies go).
fn renamed_files(from: &Path, to: &Path) -> Vec<(PathBuf, PathBuf)> {
    const MAX_DEPTH: usize = 16;
    const MAX_ENTRIES: usize = 100_000;
    let mut out = Vec::new();
    let mut dirs = vec![(PathBuf::new(), 0usize)];
    while let Some((rel, depth)) = dirs.pop() {
        let Ok(entries) = fs::read_dir(to.join(&rel)) else {
            continue;
        };
        for e in entries.flatten() {
            if out.len() >= MAX_ENTRIES {
                return out;
            }
            let rel = rel.join(e.file_name());
            match e.file_type() {
                Ok(t) if t.is_dir() && depth < MAX_DEPTH => dirs.push((rel, depth + 1)),
                Ok(t) if t.is_file() => out.push((from.join(&rel), to.join(&rel))),
                _ => {}
            }
        }
    }
    out
}
