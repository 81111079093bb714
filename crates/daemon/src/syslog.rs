//! Logging to syslog, facility mail, the program name as identity, with the pid.
//!
//! Lines follow UW's (`Login user=fred host=[192.0.2.1]`), so existing log
//! watchers (fail2ban's `uw-imapd` filter among them) keep working. Everything a
//! client chose (user names) is cleaned of control characters and cut to 80
//! characters; no event carries a password, so none can be logged.

use std::ffi::CString;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use crate::peer::Peer;
use crate::signals::Signal;

/// Syslog priority of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
    Info,
    Debug,
}

impl Level {
    fn priority(self) -> libc::c_int {
        match self {
            Level::Error => libc::LOG_ERR,
            Level::Warning => libc::LOG_WARNING,
            Level::Notice => libc::LOG_NOTICE,
            Level::Info => libc::LOG_INFO,
            Level::Debug => libc::LOG_DEBUG,
        }
    }
}

static IDENT: OnceLock<CString> = OnceLock::new();
static STDERR: AtomicBool = AtomicBool::new(false);

/// Opens the log as `program[pid]` in facility mail; with `debug`, every line
/// (debug ones included) is also written to standard error.
pub fn open(program: &str, debug: bool) {
    STDERR.store(debug, Ordering::SeqCst);
    let clean: String = program.chars().filter(|c| c.is_ascii_graphic()).collect();
    let ident = IDENT.get_or_init(|| CString::new(clean).unwrap_or_default());
    // SAFETY: ident lives in a static for the rest of the process, as openlog(3)
    // requires (it keeps the pointer).
    unsafe {
        libc::openlog(
            ident.as_ptr(),
            libc::LOG_PID | libc::LOG_NDELAY,
            libc::LOG_MAIL,
        )
    };
}

/// Writes one line.
pub fn log(level: Level, message: &str) {
    if STDERR.load(Ordering::SeqCst) {
        eprintln!(
            "{}: {message}",
            IDENT
                .get()
                .and_then(|i| i.to_str().ok())
                .unwrap_or("pullmail")
        );
    }
    if level == Level::Debug && !STDERR.load(Ordering::SeqCst) {
        return;
    }
    let text = c_text(message);
    // SAFETY: the format is a constant "%s" and the argument a valid C string, so
    // no client text is ever interpreted as a format.
    unsafe {
        libc::syslog(
            libc::LOG_MAIL | level.priority(),
            c"%s".as_ptr(),
            text.as_ptr(),
        )
    };
}

/// The message as syslog(3) takes it: a C string, so a NUL octet (which client
/// text can carry) becomes `?` instead of cutting the line short.
fn c_text(message: &str) -> CString {
    CString::new(message.replace('\0', "?")).unwrap_or_default()
}

/// Writes one event at its level.
pub fn event(event: &Event<'_>) {
    log(event.level(), &event.to_string());
}

/// What happens in a session that the administrator wants to see.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// A successful login with a password or SASL mechanism.
    Login {
        user: &'a str,
        mechanism: &'a str,
        peer: Peer,
    },
    /// Started by a user from a shell: no login needed (IMAP PREAUTH).
    Preauth {
        user: &'a str,
        peer: Peer,
    },
    /// A failed login; `reason` is for the log only, never for the client.
    LoginFailed {
        user: &'a str,
        mechanism: &'a str,
        peer: Peer,
        reason: &'a str,
    },
    /// The attempt limit was reached and the connection is closed.
    TooManyFailures {
        user: &'a str,
        peer: Peer,
    },
    Logout {
        user: Option<&'a str>,
        peer: Peer,
    },
    Autologout {
        user: Option<&'a str>,
        peer: Peer,
    },
    ConnectionLost {
        user: Option<&'a str>,
        peer: Peer,
    },
    Killed {
        signal: Signal,
        user: Option<&'a str>,
        peer: Peer,
    },
    /// TLS is up; `discarded` bytes that arrived before the handshake were dropped.
    Tls {
        peer: Peer,
        description: &'a str,
        discarded: usize,
    },
}

impl Event<'_> {
    pub fn level(&self) -> Level {
        match self {
            Event::LoginFailed { .. } | Event::TooManyFailures { .. } => Level::Notice,
            Event::Tls { discarded, .. } if *discarded > 0 => Level::Notice,
            Event::Tls { .. } => Level::Debug,
            _ => Level::Info,
        }
    }
}

struct Clean<'a>(&'a str);

/// At most 80 characters (UW's `%.80s`), control characters as `?`.
impl fmt::Display for Clean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars().take(80) {
            let c = if c.is_control() { '?' } else { c };
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

fn who(user: Option<&str>) -> Clean<'_> {
    Clean(user.unwrap_or("???"))
}

impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Login {
                user,
                mechanism,
                peer,
            } => {
                write!(
                    f,
                    "Login user={} auth={} host={peer}",
                    Clean(user),
                    Clean(mechanism)
                )
            }
            Event::Preauth { user, peer } => {
                write!(f, "Preauthenticated user={} host={peer}", Clean(user))
            }
            Event::LoginFailed {
                user,
                mechanism,
                peer,
                reason,
            } => write!(
                f,
                "Login failed user={} auth={} host={peer} reason={}",
                Clean(user),
                Clean(mechanism),
                Clean(reason)
            ),
            Event::TooManyFailures { user, peer } => {
                write!(
                    f,
                    "Excessive login failures user={} host={peer}",
                    Clean(user)
                )
            }
            Event::Logout { user, peer } => write!(f, "Logout user={} host={peer}", who(*user)),
            Event::Autologout { user, peer } => {
                write!(f, "Autologout user={} host={peer}", who(*user))
            }
            Event::ConnectionLost { user, peer } => {
                write!(
                    f,
                    "Unexpected client disconnect user={} host={peer}",
                    who(*user)
                )
            }
            Event::Killed { signal, user, peer } => {
                write!(f, "Killed ({signal}) user={} host={peer}", who(*user))
            }
            Event::Tls {
                peer,
                description,
                discarded,
            } => {
                write!(f, "TLS started host={peer} {}", Clean(description))?;
                if *discarded > 0 {
                    write!(f, " discarded={discarded} bytes sent before the handshake")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> Peer {
        Peer {
            remote: Some("192.0.2.9:4000".parse().unwrap()),
            local: None,
        }
    }

    #[test]
    fn lines_look_like_uw() {
        let e = Event::Login {
            user: "fred",
            mechanism: "PLAIN",
            peer: peer(),
        };
        assert_eq!(e.to_string(), "Login user=fred auth=PLAIN host=[192.0.2.9]");
        let e = Event::Autologout {
            user: None,
            peer: Peer::local_process(),
        };
        assert_eq!(e.to_string(), "Autologout user=??? host=local");
        let e = Event::Killed {
            signal: Signal::Hup,
            user: Some("fred"),
            peer: peer(),
        };
        assert_eq!(e.to_string(), "Killed (SIGHUP) user=fred host=[192.0.2.9]");
    }

    #[test]
    fn client_text_cannot_forge_log_lines() {
        let user = "x\nLogin user=root host=[127.0.0.1]";
        let e = Event::LoginFailed {
            user,
            mechanism: "LOGIN",
            peer: peer(),
            reason: "bad",
        };
        let line = e.to_string();
        assert!(!line.contains('\n'));
        assert!(line.starts_with("Login failed user=x?Login"));
        let long = "a".repeat(500);
        let e = Event::TooManyFailures {
            user: &long,
            peer: peer(),
        };
        assert!(e.to_string().len() < 150);
    }

    #[test]
    fn a_nul_in_client_text_does_not_cut_the_line() {
        let text = c_text("Login failed user=a\0b host=[192.0.2.9]");
        assert_eq!(text.to_str(), Ok("Login failed user=a?b host=[192.0.2.9]"));
    }
}
