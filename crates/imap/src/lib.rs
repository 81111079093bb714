//! # imap — pullmail's IMAP4rev1 engine (RFC 3501)
//!
//! Octets from the client flow one way through the crate:
//!
//! 1. [`receiver`] — framing. Finds where a command ends (lines and literals,
//!    `{n}`, LITERAL+ `{n+}`) with every size limit checked before anything is
//!    kept; oversize commands are thrown away as they arrive and answered with
//!    `[TOOBIG]`, so the session stays in step with the client.
//! 2. [`parse`] — a pure function from one command's octets to a typed
//!    [`types::Command`] (one file per grammar area), with errors that keep the tag.
//! 3. [`command`] — one module per command: checks the state (RFC 3501 §3),
//!    runs it against the mailbox library, writes untagged responses.
//! 4. [`session`] — the loop and the state machine over any [`host::Host`]
//!    (`Read + Write` plus login and TLS), reporting what other sessions and the
//!    MTA changed after every command ([`selected`]), obeying §7.4.1.
//!
//! Beside them: [`respond`] (response syntax), [`capability`] (the one place the
//! capability list is built), [`utf7`] (modified UTF-7 mailbox names), [`encode`]
//! (commands back to octets, for clients and round-trip tests).
//!
//! ```no_run
//! # fn main() -> Result<(), daemon::Error> {
//! use imap::{host::DaemonHost, receiver::Limits, session::Session};
//! let daemon = match daemon::Daemon::start(daemon::Service::Imap, std::env::args().skip(1))? {
//!     daemon::Startup::Run(d) => d,
//!     daemon::Startup::Exit(text) => { print!("{text}"); return Ok(()); }
//! };
//! let limits = Limits::from_config(&daemon.config);
//! let mut host = DaemonHost::new(daemon);
//! let session = if host.daemon.is_preauth() {
//!     let store = host.preauth()?;
//!     Session::preauthenticated(host, limits, store)
//! } else {
//!     Session::new(host, limits)
//! };
//! let (mut host, ending) = session.run();
//! # Ok(()) }
//! ```
//!
//! ## Behaviour worth knowing
//! - Flag changes (STORE, and FETCH setting \Seen) are written to the file at the
//!   end of the command that made them, so every other session — and the MTA's
//!   view of the file — has them at once; the mailbox library patches status
//!   headers in place, so this costs a few milliseconds.
//! - Mailbox names are modified UTF-7 on the wire and UTF-8 on disk (a folder
//!   `Entwürfe` is the file `~/mail/Entwürfe`). UW kept the wire form on disk, so a
//!   folder UW created with non-ASCII characters shows up under its mUTF-7 spelling.
//! - INBOX exists before the first delivery: a command that needs the spool file
//!   makes an empty one (when the spool directory lets the user).
//! - An APPEND that cannot succeed (wrong state, missing or refused mailbox) is
//!   answered before the client sends the message.
//! - UW's `CREATE "#driver.mmdf/NAME"` picks the format of a new mailbox.
//! - APPEND and COPY answer with RFC 4315 APPENDUID / COPYUID codes; UIDPLUS is
//!   advertised once UID EXPUNGE exists.
//!
//! ## Limits
//! `max_command_length` of the configuration bounds a command's line text and
//! the literals of every command but APPEND; `max_literal_size` bounds an APPEND
//! message. Search keys nest at most [`parse::MAX_DEPTH`] deep. A SASL exchange
//! takes at most eight round trips.

// Unsafe code only in `watch` (inotify), which allows it for itself.
#![deny(unsafe_code)]

pub mod capability;
pub mod command;
pub mod encode;
pub mod host;
pub mod parse;
pub mod receiver;
pub mod respond;
pub mod selected;
pub mod session;
pub mod settings;
pub mod types;
pub mod utf7;
pub mod watch;

pub use host::{DaemonHost, Host};
pub use receiver::Limits;
pub use session::{Ending, Session};
