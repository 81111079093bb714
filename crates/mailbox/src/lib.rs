//! The mailbox library of pullmail (modules landing).
pub mod error;
pub mod format;
pub mod lock;
pub mod names;
