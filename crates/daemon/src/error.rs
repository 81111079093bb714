//! One error type for the crate; every variant knows the protocol answer it becomes.
//!
//! The answer texts are fixed strings on purpose: what went wrong in detail goes
//! to syslog, never to the client, so that a remote peer learns nothing about which
//! accounts exist or how the host is configured (RFC 5530 asks for the same).

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::config::ConfigError;
use crate::signals::Signal;

/// Everything that can go wrong around a protocol session.
#[derive(Debug)]
pub enum Error {
    /// The configuration file could not be read or has a bad value.
    Config(ConfigError),
    /// The command line was wrong; the text says how.
    Usage(String),
    /// No input within the idle timeout (UW's "Autologout").
    IdleTimeout,
    /// The peer closed the connection or it broke.
    ConnectionLost,
    /// SIGHUP, SIGTERM or SIGINT arrived: save state, say goodbye, exit.
    Signal(Signal),
    /// A command line longer than the configured limit.
    LineTooLong,
    /// Other I/O error on the connection.
    Io(io::Error),
    /// The TLS certificate or key could not be loaded.
    TlsSetup { path: PathBuf, reason: String },
    /// The TLS handshake or a TLS record failed.
    Tls(String),
    /// STARTTLS/STLS on a connection that already has TLS.
    TlsAlreadyActive,
    /// STARTTLS/STLS when no certificate is configured or it failed to load.
    TlsUnavailable,
    /// Wrong user name or password (also used for unknown users: no oracle).
    AuthenticationFailed,
    /// Plaintext password on an unprotected, non-loopback connection.
    PlaintextDisallowed,
    /// Login as uid 0 and the configuration does not allow it.
    RootLoginRefused,
    /// The account stage (expired, locked, not allowed for this service) refused.
    AccountRefused,
    /// The configured number of failed logins was reached: close the connection.
    TooManyFailures,
    /// More input before login than `login_input_limit` allows: close the connection.
    TooMuchBeforeLogin,
    /// PAM, the passwd database or the secrets file is not usable right now.
    AuthUnavailable(String),
    /// A SASL mechanism we do not offer (or not on this connection).
    UnsupportedMechanism,
    /// The client answered a SASL challenge with "*".
    SaslCancelled,
    /// A SASL response that is not valid base64 or not the mechanism's syntax.
    SaslMalformed,
    /// Setting the user's groups, gid or uid failed, or root could be regained.
    PrivilegeDrop(String),
    /// A trusted proxy's connection did not start with a valid PROXY protocol
    /// header; nothing is answered (the peer does not speak IMAP or POP yet).
    ProxyHeader(String),
}

/// What an IMAP server answers for an error, if it answers at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapStatus {
    /// Tagged `NO`.
    No,
    /// Tagged `BAD`.
    Bad,
    /// Untagged `BYE`, then the connection closes.
    Bye,
}

/// The IMAP answer: status, optional response code (RFC 5530) and human text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImapAnswer {
    pub status: ImapStatus,
    pub code: Option<&'static str>,
    pub text: &'static str,
}

/// The POP3 answer: always `-ERR`, an optional RFC 3206 / RFC 2449 code, the text,
/// and whether the connection closes afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PopAnswer {
    pub code: Option<&'static str>,
    pub text: &'static str,
    pub close: bool,
}

impl Error {
    /// Maps an I/O error from [`crate::Transport`] to the session event it means.
    pub fn from_io(err: io::Error) -> Error {
        if let Some(sig) = err.get_ref().and_then(|e| e.downcast_ref::<Signal>()) {
            return Error::Signal(*sig);
        }
        if err
            .get_ref()
            .is_some_and(|e| e.is::<crate::transport::LineTooLong>())
        {
            return Error::LineTooLong;
        }
        if err
            .get_ref()
            .is_some_and(|e| e.is::<crate::transport::TooMuchBeforeLogin>())
        {
            return Error::TooMuchBeforeLogin;
        }
        match err.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Error::IdleTimeout,
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected => Error::ConnectionLost,
            io::ErrorKind::InvalidData => Error::Tls(err.to_string()),
            _ => Error::Io(err),
        }
    }

    /// The exit status of a server that stops on this error (sysexits.h).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 64,
            Error::Config(_) | Error::TlsSetup { .. } => 78,
            Error::ConnectionLost | Error::IdleTimeout | Error::Signal(_) => 0,
            _ => 1,
        }
    }

    /// True when the session cannot go on after this error.
    pub fn closes_connection(&self) -> bool {
        match self.imap_answer() {
            None => true,
            Some(a) => a.status == ImapStatus::Bye,
        }
    }

    /// The IMAP answer, or `None` when nothing can be said (the connection is gone).
    pub fn imap_answer(&self) -> Option<ImapAnswer> {
        use ImapStatus::*;
        let a = |status, code, text| Some(ImapAnswer { status, code, text });
        match self {
            Error::Config(_) | Error::Usage(_) => {
                a(Bye, Some("UNAVAILABLE"), "Server misconfigured")
            }
            Error::IdleTimeout => a(Bye, None, "Autologout; idle for too long"),
            Error::ConnectionLost => None,
            Error::Signal(_) => a(Bye, None, "Server shutting down"),
            Error::LineTooLong => a(Bye, Some("TOOBIG"), "Command line too long"),
            Error::Io(_) => a(Bye, Some("SERVERBUG"), "I/O error"),
            Error::TlsSetup { .. } | Error::TlsUnavailable => a(
                No,
                Some("UNAVAILABLE"),
                "TLS is not available on this server",
            ),
            Error::Tls(_) => None,
            Error::TlsAlreadyActive => a(Bad, None, "TLS is already active"),
            Error::AuthenticationFailed | Error::RootLoginRefused => {
                a(No, Some("AUTHENTICATIONFAILED"), "Authentication failed")
            }
            Error::PlaintextDisallowed => a(
                No,
                Some("PRIVACYREQUIRED"),
                "Plaintext authentication disallowed without TLS",
            ),
            Error::AccountRefused => a(No, Some("CONTACTADMIN"), "Account not available"),
            Error::TooManyFailures => a(Bye, None, "Too many login failures"),
            Error::TooMuchBeforeLogin => a(Bye, Some("TOOBIG"), "Too much input before login"),
            Error::AuthUnavailable(_) => a(
                No,
                Some("UNAVAILABLE"),
                "Authentication temporarily unavailable",
            ),
            Error::UnsupportedMechanism => a(No, None, "Unsupported authentication mechanism"),
            Error::SaslCancelled => a(Bad, None, "Authentication cancelled"),
            Error::SaslMalformed => a(Bad, None, "Invalid authentication response"),
            Error::PrivilegeDrop(_) => a(Bye, Some("SERVERBUG"), "Cannot start session"),
            Error::ProxyHeader(_) => None,
        }
    }

    /// The POP3 answer, or `None` when nothing can be said (the connection is gone).
    pub fn pop_answer(&self) -> Option<PopAnswer> {
        let a = |code, text, close| Some(PopAnswer { code, text, close });
        match self {
            Error::Config(_) | Error::Usage(_) => a(Some("SYS/PERM"), "Server misconfigured", true),
            Error::IdleTimeout => a(None, "Autologout; idle for too long", true),
            Error::ConnectionLost | Error::Tls(_) => None,
            Error::Signal(_) => a(None, "Server shutting down", true),
            Error::LineTooLong => a(None, "Command line too long", true),
            Error::Io(_) => a(Some("SYS/TEMP"), "I/O error", true),
            Error::TlsSetup { .. } | Error::TlsUnavailable => a(
                Some("SYS/TEMP"),
                "TLS is not available on this server",
                false,
            ),
            Error::TlsAlreadyActive => a(None, "TLS is already active", false),
            Error::AuthenticationFailed | Error::RootLoginRefused => {
                a(Some("AUTH"), "Authentication failed", false)
            }
            Error::PlaintextDisallowed => a(
                Some("AUTH"),
                "Plaintext authentication disallowed without TLS",
                false,
            ),
            Error::AccountRefused => a(Some("SYS/PERM"), "Account not available", false),
            Error::TooManyFailures => a(None, "Too many login failures", true),
            Error::TooMuchBeforeLogin => a(None, "Too much input before login", true),
            Error::AuthUnavailable(_) => a(
                Some("SYS/TEMP"),
                "Authentication temporarily unavailable",
                false,
            ),
            Error::UnsupportedMechanism => a(None, "Unsupported authentication mechanism", false),
            Error::SaslCancelled => a(None, "Authentication cancelled", false),
            Error::SaslMalformed => a(None, "Invalid authentication response", false),
            Error::PrivilegeDrop(_) => a(Some("SYS/PERM"), "Cannot start session", true),
            Error::ProxyHeader(_) => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => write!(f, "{e}"),
            Error::Usage(s) => write!(f, "usage: {s}"),
            Error::IdleTimeout => f.write_str("idle timeout"),
            Error::ConnectionLost => f.write_str("connection lost"),
            Error::Signal(s) => write!(f, "killed by signal {}", s.name()),
            Error::LineTooLong => f.write_str("command line too long"),
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::TlsSetup { path, reason } => {
                write!(f, "TLS setup failed: {}: {reason}", path.display())
            }
            Error::Tls(s) => write!(f, "TLS failure: {s}"),
            Error::TlsAlreadyActive => f.write_str("TLS already active"),
            Error::TlsUnavailable => f.write_str("TLS not available"),
            Error::AuthenticationFailed => f.write_str("authentication failed"),
            Error::PlaintextDisallowed => f.write_str("plaintext authentication disallowed"),
            Error::RootLoginRefused => f.write_str("root login refused"),
            Error::AccountRefused => f.write_str("account refused"),
            Error::TooManyFailures => f.write_str("too many login failures"),
            Error::TooMuchBeforeLogin => f.write_str("too much input before login"),
            Error::AuthUnavailable(s) => write!(f, "authentication unavailable: {s}"),
            Error::UnsupportedMechanism => f.write_str("unsupported SASL mechanism"),
            Error::SaslCancelled => f.write_str("SASL exchange cancelled"),
            Error::SaslMalformed => f.write_str("malformed SASL response"),
            Error::PrivilegeDrop(s) => write!(f, "privilege drop failed: {s}"),
            Error::ProxyHeader(s) => write!(f, "PROXY protocol header refused: {s}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Config(e) => Some(e),
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Error {
        Error::Config(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::from_io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_to_session_events() {
        let timed_out = io::Error::new(io::ErrorKind::TimedOut, "idle");
        assert!(matches!(Error::from_io(timed_out), Error::IdleTimeout));
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "eof");
        assert!(matches!(Error::from_io(eof), Error::ConnectionLost));
        let sig = io::Error::other(Signal::Term);
        assert!(matches!(Error::from_io(sig), Error::Signal(Signal::Term)));
    }

    #[test]
    fn failed_and_refused_logins_look_the_same_to_the_client() {
        let failed = Error::AuthenticationFailed.imap_answer();
        assert_eq!(failed, Error::RootLoginRefused.imap_answer());
        assert_eq!(failed.unwrap().code, Some("AUTHENTICATIONFAILED"));
        assert_eq!(
            Error::AuthenticationFailed.pop_answer().unwrap().code,
            Some("AUTH")
        );
    }

    #[test]
    fn fatal_errors_close_the_connection() {
        assert!(Error::TooManyFailures.closes_connection());
        assert!(Error::ConnectionLost.closes_connection());
        assert!(Error::IdleTimeout.pop_answer().unwrap().close);
        assert!(!Error::AuthenticationFailed.closes_connection());
        assert_eq!(
            Error::TlsAlreadyActive.imap_answer().unwrap().status,
            ImapStatus::Bad
        );
    }
}
