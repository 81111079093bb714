//! Mailbox locking (being written).

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("I/O error while locking: {0}")]
    Io(#[from] std::io::Error),
}
