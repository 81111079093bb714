//! The mailbox library of pullmail: what c-client was to UW imapd.
//!
//! The servers open mailboxes by name through a [`store::Store`], which applies the
//! name policy ([`names`]) and hands out [`mailbox::Mailbox`] handles. A handle
//! works the same on every format; the format's framing rules are a
//! [`driver::Driver`] (mbox, MMDF), and one scanner ([`scan`]) and one writer serve
//! both.
//!
//! # On disk
//! Files stay what UW imapd, Postfix, procmail, mutt and alpine read and write:
//! RFC 4155 mbox or MMDF, flags in `Status` / `X-Status` / `X-Keywords`, UIDs in
//! `X-UID`, and UIDVALIDITY, the last UID and the keyword list in the `X-IMAP`
//! header of UW's "FOLDER INTERNAL DATA" pseudo-message (read also from
//! `X-IMAPbase` in the first message). Those fields are bookkeeping ([`header`]): never
//! served, never counted in RFC822.SIZE, removed from appended messages so that mail
//! cannot forge them through APPEND. A message's INTERNALDATE is its From_ line's date.
//!
//! # Locking
//! A writer takes, in the order MTAs do, a dot-lock (`NAME.lock`, NFS-safe, through
//! the setgid `dotlockfile` helper where the spool directory is not ours; broken when
//! its pid is gone or after five minutes), an fcntl lock (Linux OFD locks, which
//! conflict with the POSIX locks of procmail, Postfix and Exim) and an flock; a reader
//! takes only a shared fcntl lock. Locks are held only while the file is read or
//! written, never for a whole session, so deliveries go on while mailboxes are open.
//!
//! # Many sessions on one mailbox
//! There is no "kiss of death": any number of sessions may have one mailbox open
//! read-write, and each sees what the others do.
//! - Every write (checkpoint, expunge, append) first takes the writer's locks and
//!   re-reads what changed, so no session ever writes from a stale view. Pending flag
//!   changes are merged onto what the file now says (a three-way merge against what the
//!   session last read), so two sessions' STOREs both survive.
//! - A session finds changes by `stat`: a file that only grew, with its known messages
//!   still where they were, is read from the old end (new mail); anything else —
//!   including a rewrite by another pullmail session, which always changes the file's
//!   modification time and bumps a generation number in the shared state file — is
//!   re-read whole, keeping UIDs from `X-UID`. Differences come back from
//!   [`mailbox::Mailbox::sync`] as events (EXPUNGE, EXISTS, FETCH FLAGS). While
//!   expunges may not be reported (RFC 3501 §7.4.1), messages another session removed
//!   stay in the numbering as expunged until the next `sync`.
//! - A message without an `X-UID` gets its UID by one deterministic rule that every
//!   session applies to the same file (the next number after the last UID, in file
//!   order), so sessions agree on new mail's UIDs before any has written them. The
//!   last UID that a write records (`X-IMAP`, the state file) is therefore only what
//!   the file holds, never the UIDs derived for mail whose `X-UID` that write leaves
//!   unwritten: counting them would make every later reader derive them anew, one
//!   higher.
//! - \Recent goes to exactly one session: the highest UID already handed out as
//!   \Recent is kept, under flock, in a small per-mailbox state file in the user's
//!   state directory (`~/.pullmail`), and written to the file as `Status: O` whenever
//!   the message's header is written anyway.
//! - Reading never writes. A checkpoint writes only changed flags and keywords (and
//!   expunges); UIDs of new mail and \Recent claims need no write, because every
//!   session derives the same UIDs and the state file keeps the claims. A spool file
//!   no IMAP server has touched (as Postfix leaves it) opens in one read; its
//!   UIDVALIDITY is agreed in the state file, and the first write that reaches its
//!   messages puts UIDVALIDITY and every UID in the file (UW did that at open).
//! - Every change (flags or keywords, an expunge, new mail), whoever made it, gets a
//!   modification sequence (RFC 7162) that survives sessions: a record per mailbox
//!   in the state directory ([`modseq`]) that each session compares with the file
//!   under the mailbox lock whenever it has read it, so a change found is a change
//!   at the next modseq. Losing the record costs one "everything changed".
//!
//! # Crash safety
//! The spool directory is not writable by users, and an MTA may have the file open,
//! so rewrites happen in place, made crash-safe by a redo journal ([`journal`]): the
//! new octets are written to the state directory and fsynced before the mailbox is
//! touched; recovery at the next lock finishes an interrupted rewrite, even when mail
//! was appended after the crash. Space for growth is reserved before the commit, so a
//! full disk or quota fails the operation with the mailbox as it was. Appends go through
//! the same journal, all or nothing.
//!
//! # Scale
//! Opening is one streaming pass with a 1 MiB window; per message about a hundred
//! octets of metadata stay in memory, and message text is read on demand with pread.
//! For a mailbox of 1,000 messages or more, what the pass found is saved as an index
//! in the state directory; the next open of the same file (inode, size, modification
//! time to the nanosecond, generation), or of it with only new mail at its end, reads
//! the index (and the new tail) instead; a session that wrote the file saves the index
//! again when it closes the mailbox (if nobody wrote after it), so that a client coming
//! back after its own or another's changes opens without a scan. An APPEND to a file that is exactly as the
//! last APPEND left it (an append point in the state file) adds at its end without
//! reading it. The reads of one command share one shared lock (at most 256 reads or
//! 20 ms, never across output that may block).
//!
//! # Damage
//! Garbage before the first message, between messages, or NUL runs are skipped with a
//! log line and kept, as they are, by every rewrite; a message cut short is served as
//! far as it goes.
//!
//! # Forged bookkeeping
//! An MTA delivers whatever headers a sender wrote, so `X-IMAP`, `X-IMAPbase` and
//! `X-UID` in the file are hints ([`uid`]): a UID is taken from them only when it is
//! non-zero, leaves UIDNEXT a number, is above the UID before it and within the last
//! UID the mailbox (its own `X-IMAP`, or the state file) has assigned; a base is taken
//! only from the pseudo-message or the first message. Anything else is ignored for
//! that message, which gets the next UID. When the UIDs are really used up, the
//! mailbox gets a new UIDVALIDITY, agreed in the state file, and is numbered from 1
//! (RFC 3501 §2.3.1.1); the next write puts that in the file. APPEND strips the
//! fields from what it stores.
//!
//! # Known limits
//! - `Status` / `X-Status` flags of delivered mail are trusted as UW trusted them, and
//!   a forged `X-IMAP` or `X-IMAPbase` in the first message of an empty spool is taken
//!   as the mailbox's (within the bounds above): a UIDVALIDITY of the sender's choice,
//!   for a mailbox that held nothing.
//! - A rewrite by another program (not pullmail) that keeps the file's size and lands in
//!   the same clock tick as the session's last look would go unnoticed until the next
//!   change. The index and the append point extend that trust across sessions; a
//!   program that rewrites the file and then sets its modification time back to the
//!   nanosecond with the same size is caught only if it moved sampled messages.
mod binary;
pub mod driver;
pub mod error;
pub mod flags;
pub mod format;
pub mod fromline;
pub mod header;
pub mod journal;
pub mod list;
pub mod lock;
pub mod mailbox;
pub mod modseq;
pub mod names;
pub mod regular;
pub mod render;
pub mod scan;
pub mod state;
pub mod store;
pub mod subscriptions;
pub mod uid;
