//! Mailbox-name policy (being written).

/// Why a mailbox name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("empty mailbox name")]
    Empty,
}
