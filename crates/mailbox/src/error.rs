//! Errors of the mailbox library, each knowing the protocol answer it becomes.
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in the mailbox library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The mailbox name is refused by the name policy.
    #[error("invalid mailbox name: {0}")]
    BadName(#[from] crate::names::NameError),
    /// No mailbox of that name exists.
    #[error("no such mailbox: {0}")]
    NoSuchMailbox(String),
    /// CREATE or RENAME onto a name that exists.
    #[error("mailbox already exists: {0}")]
    AlreadyExists(String),
    /// The file exists but is not in a format we know.
    #[error("not a mailbox in a known format: {}", .0.display())]
    NotAMailbox(PathBuf),
    /// CREATE or RENAME of a name below a mailbox file: a file holds no mailboxes
    /// (RFC 3501 §6.3.3 lets a server refuse such names).
    #[error("cannot create {0}: a mailbox file above it cannot hold other mailboxes")]
    NoInferiors(String),
    /// The mailbox was opened read-only.
    #[error("mailbox is read-only")]
    ReadOnly,
    /// The message was expunged by another session and cannot be read.
    #[error("message has been expunged")]
    Expunged,
    /// No such message in this session's view.
    #[error("no such message")]
    NoSuchMessage,
    /// Disk full or quota exceeded; nothing was changed.
    #[error("not enough disk space; mailbox unchanged")]
    NoSpace,
    /// The file is locked by someone else for too long.
    #[error("mailbox is locked: {0}")]
    Locked(#[from] crate::lock::LockError),
    /// The mailbox's UIDs were reset (UIDVALIDITY changed) by someone else before a
    /// write that names messages by UID; nothing was written.
    #[error("mailbox UIDs were reset by another program; nothing changed")]
    UidValidityChanged,
    /// More new messages than UIDs left even after renumbering (RFC 3501 §2.3.1.1);
    /// nothing was written.
    #[error("no UIDs left for that many messages")]
    UidsExhausted,
    /// The operation is not allowed on this mailbox (e.g. deleting INBOX).
    #[error("operation not permitted: {0}")]
    NotPermitted(&'static str),
    /// A message given to append is not acceptable (empty, or bad date).
    #[error("invalid message: {0}")]
    BadMessage(&'static str),
    /// Any other I/O error.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

impl Error {
    /// The RFC 5530 / RFC 3501 response code an IMAP server puts in its NO answer.
    pub fn imap_code(&self) -> Option<&'static str> {
        match self {
            Error::NoSuchMailbox(_) => Some("TRYCREATE"),
            Error::AlreadyExists(_) => Some("ALREADYEXISTS"),
            Error::BadName(_) => Some("CANNOT"),
            Error::NotAMailbox(_) => Some("CANNOT"),
            Error::NoInferiors(_) => Some("CANNOT"),
            Error::ReadOnly => Some("READ-ONLY"),
            Error::Expunged => Some("EXPUNGEISSUED"),
            Error::UidValidityChanged => None,
            Error::UidsExhausted => Some("LIMIT"),
            Error::NoSuchMessage => Some("NONEXISTENT"),
            Error::NoSpace => Some("OVERQUOTA"),
            Error::Locked(_) => Some("INUSE"),
            Error::NotPermitted(_) => Some("NOPERM"),
            Error::BadMessage(_) => Some("PARSE"),
            Error::Io(_) => Some("SERVERBUG"),
        }
    }

    /// The RFC 2449 / RFC 3206 response code a POP3 server puts in its -ERR answer.
    pub fn pop3_code(&self) -> Option<&'static str> {
        match self {
            Error::Locked(_) => Some("IN-USE"),
            Error::NoSpace | Error::Io(_) | Error::UidValidityChanged => Some("SYS/TEMP"),
            Error::NotAMailbox(_) | Error::BadName(_) => Some("SYS/PERM"),
            _ => None,
        }
    }

    /// Maps an I/O error, turning "disk full" and "quota exceeded" into [`Error::NoSpace`].
    pub fn from_write(e: io::Error) -> Error {
        match e.raw_os_error() {
            Some(libc::ENOSPC) | Some(libc::EDQUOT) | Some(libc::EFBIG) => Error::NoSpace,
            _ => Error::Io(e),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
