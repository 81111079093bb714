//! The mailbox library of pullmail (modules landing).
pub mod error;
pub mod format;
pub mod list;
pub mod lock;
pub mod names;
pub mod driver;
pub mod flags;
pub mod fromline;
pub mod header;
pub mod journal;
pub mod scan;
pub mod state;
pub mod subscriptions;
