//! # imap — pullmail's IMAP4rev1 engine (RFC 3501) and its extensions
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
//! capability list is built), [`settings`] (what the configuration decides about
//! the extensions), [`watch`] (inotify for IDLE), [`utf7`] (modified UTF-7
//! mailbox names), [`encode`] (commands back to octets, for clients and
//! round-trip tests).
//!
//! ## Extensions
//! UW imapd's set — IDLE (RFC 2177), NAMESPACE (2342), UIDPLUS (4315),
//! LITERAL+ or, configured, LITERAL- (7888), UNSELECT (3691), CHILDREN (3348),
//! MULTIAPPEND (3502), SORT and THREAD=ORDEREDSUBJECT / THREAD=REFERENCES (5256),
//! ESEARCH (4731), WITHIN (5032), SASL-IR (4959), BINARY (3516), I18NLEVEL=1
//! (5255), and, when the configuration names referrals, LOGIN-REFERRALS (2221)
//! and MAILBOX-REFERRALS (2193) — and what UW never had: MOVE (6851), ENABLE
//! (5161), ID (2971), SPECIAL-USE (6154), LIST-EXTENDED (5258), LIST-STATUS
//! (5819), SEARCHRES (5182), CATENATE (4469), NOTIFY (5465; [`notify`]), CONDSTORE and QRESYNC (7162; [`modseq`]), URLAUTH (4467) and URLAUTH=BINARY (5524),
//! QUOTA (9208, read only), STATUS=SIZE (8438), APPENDLIMIT (7889), COMPRESS=DEFLATE
//! (4978, where the host can compress). Each command has its module under [`command`];
//! the capability list names exactly these.
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
//! - APPEND, COPY and MOVE answer with RFC 4315 APPENDUID / COPYUID codes.
//! - MOVE is a committed, fsynced copy, then an expunge of exactly the moved
//!   messages: a crash leaves a message in the source, the destination or both.
//! - IDLE pushes changes within a quarter second where inotify works (a second
//!   where not); the autologout does not apply during IDLE, keep-alives do.
//! - SORT and THREAD compare strings decomposed and case-folded (I18NLEVEL=1),
//!   as UW did; their answers match UW's on the conformance corpus.
//! - ENABLE switches on CONDSTORE and QRESYNC (RFC 7162; [`modseq`]); the
//!   modseqs are the mailbox library's and outlive sessions, so a client that
//!   comes back with SELECT (QRESYNC ...) is told only what changed.
//! - Only the personal namespace has mailboxes: the other users' and shared
//!   prefixes, when configured, are announced by NAMESPACE, but the mailbox name
//!   policy refuses names starting with `#`.
//!
//! ## Limits
//! `max_command_length` of the configuration bounds a command's line text and
//! the literals of every command but APPEND; `max_literal_size` bounds an APPEND
//! message, and all messages of one MULTIAPPEND together. Search keys nest at most
//! [`parse::MAX_DEPTH`] deep. A SASL exchange takes at most eight round trips.
//! LIST patterns, ENABLE names and SORT keys are at most 64 per command; ID takes
//! RFC 2971's 30 fields. One IDLE lasts at most a day.

// Unsafe code only in `watch` (inotify), which allows it for itself.
#![deny(unsafe_code)]

pub mod capability;
pub mod command;
pub mod context;
pub mod encode;
pub mod host;
pub mod modseq;
pub mod notify;
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
