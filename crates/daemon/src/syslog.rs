//! Logging to syslog, facility mail, the program name as identity, with the pid.
//!
//! Lines follow UW's (`Login user=fred host=[192.0.2.1]`), so existing log
//! watchers keep working: the failed-login and excessive-failure lines match
//! Debian's stock fail2ban filter `uwimap-auth` (`Login failed user=\S* auth=\S*
//! host=...[ADDRESS]` with the address last on the line), so their reason goes on a
//! line of its own. Everything a client chose (user names, mechanisms) is cut to 80
//! characters and escaped ([`Escaped`]): no control character, no white space (which
//! would let a user name such as `a b` slip past the filter's `user=\S*`), and no
//! event carries a password, so none can be logged.

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
    /// A failed login (the line fail2ban counts).
    LoginFailed {
        user: &'a str,
        mechanism: &'a str,
        peer: Peer,
    },
    /// Why the login before failed; for the log only, never for the client.
    LoginFailureReason {
        user: &'a str,
        peer: Peer,
        reason: &'a str,
    },
    /// The attempt limit was reached and the connection is closed.
    TooManyFailures {
        user: &'a str,
        mechanism: &'a str,
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
    /// A trusted proxy's PROXY header named the client: `peer` is that
    /// client, `peer.proxy` the proxy. Ties the proxy's own log to ours.
    Proxied {
        peer: Peer,
        version: u8,
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
            Event::LoginFailureReason { .. } => Level::Info,
            Event::Tls { discarded, .. } if *discarded > 0 => Level::Notice,
            Event::Tls { .. } => Level::Debug,
            _ => Level::Info,
        }
    }
}

/// Client text for a `key=value` field: at most 80 characters (UW's `%.80s`);
/// backslash, white space and control characters written `\xHH` (`\u{HHHH}` past
/// Latin-1), so the value is one `\S+` run that cannot forge or split a line.
struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars().take(80) {
            if c == '\\' || c.is_whitespace() || c.is_control() {
                match u32::from(c) {
                    n @ 0..=0xff => write!(f, "\\x{n:02x}")?,
                    n => write!(f, "\\u{{{n:04x}}}")?,
                }
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
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

fn who(user: Option<&str>) -> Escaped<'_> {
    Escaped(user.unwrap_or("???"))
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
                    Escaped(user),
                    Escaped(mechanism)
                )
            }
            Event::Preauth { user, peer } => {
                write!(f, "Preauthenticated user={} host={peer}", Escaped(user))
            }
            Event::LoginFailed {
                user,
                mechanism,
                peer,
            } => write!(
                f,
                "Login failed user={} auth={} host={peer}",
                Escaped(user),
                Escaped(mechanism),
            ),
            Event::LoginFailureReason { user, peer, reason } => write!(
                f,
                "Login failure reason={} user={} host={peer}",
                Clean(reason),
                Escaped(user),
            ),
            // The words fail2ban's uwimap-auth filter knows this line by.
            Event::TooManyFailures {
                user,
                mechanism,
                peer,
            } => write!(
                f,
                "Login excessive login failures user={} auth={} host={peer}",
                Escaped(user),
                Escaped(mechanism),
            ),
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
            Event::Proxied { peer, version } => {
                write!(f, "Proxied connection host={peer} proxy=")?;
                match peer.proxy {
                    Some(proxy) => write!(f, "[{}]", proxy.ip())?,
                    None => f.write_str("local")?,
                }
                write!(f, " protocol=PROXYv{version}")
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
            proxy: None,
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
        };
        let line = e.to_string();
        assert!(!line.contains('\n'));
        assert_eq!(
            line,
            "Login failed user=x\\x0aLogin\\x20user=root\\x20host=[127.0.0.1] auth=LOGIN host=[192.0.2.9]"
        );
        let long = "a".repeat(500);
        let e = Event::TooManyFailures {
            user: &long,
            mechanism: "PLAIN",
            peer: peer(),
        };
        assert!(e.to_string().len() < 150);
    }

    /// What fail2ban's uwimap-auth filter needs: `user=\S* auth=\S* host=...[IP]`
    /// at the end of the line, whatever the user name (the real filter runs over
    /// real servers' lines in bin/imapd/tests/fail2ban.rs).
    #[test]
    fn failure_lines_keep_the_shape_fail2ban_reads() {
        for user in ["a b", "a\tb", "a\u{a0}b\u{2003}c", "\\x20", "", "é"] {
            for line in [
                Event::LoginFailed {
                    user,
                    mechanism: "AUTH PLAIN",
                    peer: peer(),
                }
                .to_string(),
                Event::TooManyFailures {
                    user,
                    mechanism: "LOGIN",
                    peer: peer(),
                }
                .to_string(),
            ] {
                let rest = line
                    .strip_prefix("Login failed user=")
                    .or_else(|| line.strip_prefix("Login excessive login failures user="))
                    .unwrap();
                let fields: Vec<&str> = rest.split(' ').collect();
                assert_eq!(fields.len(), 3, "{line}");
                assert!(fields[1].starts_with("auth="), "{line}");
                assert_eq!(fields[2], "host=[192.0.2.9]", "{line}");
                assert!(!line.chars().any(|c| c.is_whitespace() && c != ' '), "{line}");
            }
        }
        assert_eq!(Escaped("a b\\é\u{2003}").to_string(), "a\\x20b\\x5cé\\u{2003}");
    }

    #[test]
    fn a_nul_in_client_text_does_not_cut_the_line() {
        let text = c_text("Login failed user=a\0b host=[192.0.2.9]");
        assert_eq!(text.to_str(), Ok("Login failed user=a?b host=[192.0.2.9]"));
    }
}
