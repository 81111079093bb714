//! The mailbox library of pullmail (modules landing).
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
pub mod names;
pub mod render;
pub mod scan;
pub mod state;
pub mod store;
pub mod subscriptions;
