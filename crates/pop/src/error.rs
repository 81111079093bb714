//! One error type for both engines; every variant knows the answer it becomes.
//!
//! POP3 answers `-ERR [CODE] text` (response codes from RFC 2449 §8 and RFC 3206),
//! POP2 answers `- text`. The texts are fixed: details (paths, errno, PAM's
//! reasons) go to syslog, never to the client.

use std::fmt;

/// A command line the parser refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntaxError {
    /// An empty line.
    Empty,
    /// Not a keyword of the protocol.
    UnknownCommand,
    /// A required argument is missing; names it.
    MissingArgument(&'static str),
    /// More arguments than the command takes.
    TooManyArguments,
    /// A message number or line count that is not a decimal number.
    BadNumber,
    /// NUL, other control characters or invalid UTF-8 where text is expected.
    BadCharacters,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyntaxError::Empty => f.write_str("Null command"),
            SyntaxError::UnknownCommand => f.write_str("Unknown command"),
            SyntaxError::MissingArgument(what) => write!(f, "Missing {what} argument"),
            SyntaxError::TooManyArguments => f.write_str("Too many arguments"),
            SyntaxError::BadNumber => f.write_str("Invalid number argument"),
            SyntaxError::BadCharacters => f.write_str("Invalid characters in command"),
        }
    }
}

/// Everything that can go wrong in a POP session.
#[derive(Debug)]
pub enum Error {
    /// The line does not parse.
    Syntax(SyntaxError),
    /// A command of the protocol that is not valid in the current state.
    WrongState,
    /// PASS without a USER just before it.
    NeedUser,
    /// A command line longer than the limit; the session goes on.
    LineTooLong,
    /// Too many bad commands: the client is not speaking POP. Closes.
    TooManyErrors,
    /// Too many commands in one session. Closes.
    TooManyCommands,
    /// No message of that number in this session's view.
    NoSuchMessage,
    /// DELE, RETR, ... of a message marked deleted in this session.
    MessageDeleted,
    /// Another session (IMAP) expunged the message after this one started.
    MessageVanished,
    /// The mailbox was rewritten with new UIDs by another program: deletions by
    /// UID would hit the wrong messages, so nothing is applied.
    MailboxChanged,
    /// Another POP session holds the maildrop (RFC 2449 `[IN-USE]`). Closes.
    InUse,
    /// The maildrop could be opened only read-only: DELE is refused.
    ReadOnly,
    /// The command exists but is not offered here (APOP without a secrets file).
    NotAvailable(&'static str),
    /// The maildrop could not be opened after login. Closes: the process is the
    /// user now and cannot log in anyone else.
    MaildropUnavailable(mailbox::error::Error),
    /// The UPDATE state failed; the maildrop is as it was before QUIT.
    UpdateFailed(Box<Error>),
    /// Reading a message or another mailbox operation failed.
    Mailbox(mailbox::error::Error),
    /// The connection, login, TLS or a signal (see [`daemon::Error::pop_answer`]).
    Daemon(daemon::Error),
}

/// What the client is told: `-ERR [code] text` in POP3, `- text` in POP2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub code: Option<&'static str>,
    pub text: String,
    /// The connection closes after this answer.
    pub close: bool,
}

impl Answer {
    fn new(code: Option<&'static str>, text: impl Into<String>, close: bool) -> Answer {
        Answer {
            code,
            text: text.into(),
            close,
        }
    }

    /// The POP3 line without CRLF: `-ERR [CODE] text`.
    pub fn pop3_line(&self) -> String {
        match self.code {
            Some(code) => format!("-ERR [{code}] {}", self.text),
            None => format!("-ERR {}", self.text),
        }
    }
}

impl Error {
    /// The answer, or `None` when nobody is left to hear it (connection lost).
    pub fn answer(&self) -> Option<Answer> {
        let a = |code, text: &str, close| Some(Answer::new(code, text, close));
        match self {
            Error::Syntax(e) => Some(Answer::new(None, e.to_string(), false)),
            Error::WrongState => a(None, "Command not valid in this state", false),
            Error::NeedUser => a(None, "PASS must follow USER", false),
            Error::LineTooLong => a(None, "Command line too long", false),
            Error::TooManyErrors => a(None, "Too many bad commands, closing", true),
            Error::TooManyCommands => a(Some("SYS/TEMP"), "Too many commands, closing", true),
            Error::NoSuchMessage => a(None, "No such message", false),
            Error::MessageDeleted => a(None, "Message already deleted", false),
            Error::MessageVanished => a(None, "Message was removed by another session", false),
            Error::MailboxChanged => a(
                Some("SYS/TEMP"),
                "Mailbox was rewritten by another program",
                false,
            ),
            Error::InUse => a(
                Some("IN-USE"),
                "Maildrop is in use by another POP session",
                true,
            ),
            Error::ReadOnly => a(Some("SYS/PERM"), "Maildrop is read-only", false),
            Error::NotAvailable(what) => Some(Answer::new(None, *what, false)),
            Error::MaildropUnavailable(e) => {
                let (code, text) = mailbox_answer(e);
                Some(Answer::new(
                    code,
                    format!("Unable to open maildrop: {text}"),
                    true,
                ))
            }
            Error::UpdateFailed(e) => {
                let code = e.answer().and_then(|a| a.code).or(Some("SYS/TEMP"));
                a(code, "Update failed, maildrop unchanged", true)
            }
            Error::Mailbox(e) => {
                let (code, text) = mailbox_answer(e);
                a(code, text, false)
            }
            Error::Daemon(e) => e.pop_answer().map(|p| Answer::new(p.code, p.text, p.close)),
        }
    }

    /// Whether this error counts toward the bad-command limit: the client sent
    /// something that is not POP, rather than asking for something that failed.
    pub fn is_protocol_error(&self) -> bool {
        matches!(
            self,
            Error::Syntax(_) | Error::WrongState | Error::NeedUser | Error::LineTooLong
        )
    }

    /// Whether the session ends after this error.
    pub fn closes(&self) -> bool {
        self.answer().is_none_or(|a| a.close)
    }
}

fn mailbox_answer(e: &mailbox::error::Error) -> (Option<&'static str>, &'static str) {
    use mailbox::error::Error as M;
    let text = match e {
        M::Locked(_) => "Mailbox is locked by another process",
        M::NoSpace => "Not enough disk space",
        M::NotAMailbox(_) => "Not a mailbox in a known format",
        M::BadName(_) => "Invalid mailbox name",
        M::NoSuchMailbox(_) => "No such mailbox",
        M::ReadOnly => "Maildrop is read-only",
        M::Expunged => "Message was removed by another session",
        M::NoSuchMessage => "No such message",
        M::UidValidityChanged => "Maildrop was reset by another program; nothing deleted",
        M::AlreadyExists(_)
        | M::NotPermitted(_)
        | M::NoInferiors(_)
        | M::BadMessage(_)
        | M::UidsExhausted => {
            "Operation not permitted"
        }
        M::Io(_) => "I/O error",
    };
    (e.pop3_code(), text)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Syntax(e) => write!(f, "syntax: {e}"),
            Error::MaildropUnavailable(e) => write!(f, "cannot open maildrop: {e}"),
            Error::UpdateFailed(e) => write!(f, "update failed: {e}"),
            Error::Mailbox(e) => write!(f, "{e}"),
            Error::Daemon(e) => write!(f, "{e}"),
            other => match other.answer() {
                Some(a) => f.write_str(&a.text),
                None => f.write_str("error"),
            },
        }
    }
}

impl std::error::Error for Error {}

impl From<SyntaxError> for Error {
    fn from(e: SyntaxError) -> Error {
        Error::Syntax(e)
    }
}

impl From<daemon::Error> for Error {
    fn from(e: daemon::Error) -> Error {
        Error::Daemon(e)
    }
}

impl From<std::io::Error> for Error {
    /// Errors writing to or reading from the client.
    fn from(e: std::io::Error) -> Error {
        Error::Daemon(daemon::Error::from_io(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_carry_rfc_2449_and_3206_codes() {
        assert_eq!(
            Error::InUse.answer().unwrap().pop3_line(),
            "-ERR [IN-USE] Maildrop is in use by another POP session"
        );
        assert!(Error::InUse.closes());
        let auth = Error::Daemon(daemon::Error::AuthenticationFailed);
        assert_eq!(
            auth.answer().unwrap().pop3_line(),
            "-ERR [AUTH] Authentication failed"
        );
        assert!(!auth.closes());
        let temp = Error::Mailbox(mailbox::error::Error::NoSpace);
        assert_eq!(temp.answer().unwrap().code, Some("SYS/TEMP"));
        let perm = Error::MaildropUnavailable(mailbox::error::Error::NotAMailbox("/x".into()));
        let answer = perm.answer().unwrap();
        assert_eq!(answer.code, Some("SYS/PERM"));
        assert!(
            answer.close && !answer.text.contains("/x"),
            "no paths to clients"
        );
    }

    #[test]
    fn protocol_errors_count_and_do_not_close() {
        for e in [
            Error::Syntax(SyntaxError::UnknownCommand),
            Error::LineTooLong,
            Error::WrongState,
        ] {
            assert!(e.is_protocol_error() && !e.closes(), "{e:?}");
        }
        assert!(!Error::NoSuchMessage.is_protocol_error());
        assert!(Error::TooManyErrors.closes());
        assert!(Error::Daemon(daemon::Error::ConnectionLost)
            .answer()
            .is_none());
    }
}
