//! The POP3 and POP2 engines of pullmail: `ipop3d` and `ipop2d` are a `main`
//! around [`pop3::serve`] and [`pop2::serve`].
//!
//! Both engines are generic over a [`Host`]: the connection (any `BufRead +
//! Write`), TLS, login and logging. [`DaemonHost`] is the real process (fd 0/1,
//! PAM, privilege drop, syslog); [`memory::MemoryHost`] runs transcripts in
//! memory. Mail comes from the `mailbox` library through a [`Maildrop`].
//!
//! # What a POP session promises
//! - The message list is fixed at login; numbers never change in a session.
//!   Mail delivered meanwhile is not shown and never touched.
//! - DELE and RETR mark messages in memory only. At QUIT, `\Seen` for what was
//!   retrieved and one expunge of exactly the deleted UIDs go to the mailbox in
//!   one crash-safe rewrite. A dropped connection, an autologout, a signal or a
//!   kill applies nothing (RFC 1939 §6).
//! - One POP session per maildrop at a time: a second gets `-ERR [IN-USE]`
//!   ([`lock`]). IMAP sessions and deliveries go on meanwhile.
//! - UIDL is UW's: UIDVALIDITY and UID as 8 hex digits each, the same whichever
//!   server last wrote the file.
//! - Sizes are the real CRLF sizes of what RETR sends (UW added a made-up
//!   `Status:` line; see `tests/conformance/README.md`, deviation 6).
//! - Bad input gets `-ERR` and the session goes on; over-long lines are read
//!   to their end and refused. [`pop3::MAX_BAD_IN_A_ROW`] bad commands in a row
//!   (or [`pop3::MAX_BAD_TOTAL`] in all) close the connection.
//!
//! # Started by a user from a shell
//! Not started as root, a server cannot log anyone in; it already is the user
//! who started it (the daemon's "preauth" mode, IMAP's `PREAUTH`). POP3 has no
//! such greeting, so ipop3d says in its greeting whom it serves and accepts
//! USER/PASS, APOP and AUTH for that user name with any password or digest —
//! the process can become no one else, so a password would protect nothing.
//! Other names are refused; the plaintext policy (no passwords in the clear
//! over a non-loopback connection without TLS) still applies. ipop2d does the
//! same for HELO. So `socat TCP-LISTEN:1110,bind=127.0.0.1,fork EXEC:ipop3d`
//! run by a user lets any POP3 client on that host read that user's mail.

pub mod dot;
pub mod error;
pub mod host;
pub mod line;
pub mod lock;
pub mod maildrop;
pub mod memory;
pub mod pop2;
pub mod pop3;

pub use error::{Answer, Error, SyntaxError};
pub use host::{DaemonHost, End, Host, Outcome};
pub use maildrop::{MailSettings, Maildrop};
