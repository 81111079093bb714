//! SASL mechanisms as transport-free state machines: PLAIN (RFC 4616), LOGIN
//! (draft-murchison-sasl-login) and CRAM-MD5 (RFC 2195).
//!
//! The engine owns the wire: it reads a base64 line, gives it to
//! [`decode_response`], passes the bytes to [`Exchange::step`], and sends back
//! the next challenge (through [`encode_challenge`]) until the exchange yields
//! [`Credentials`], which [`crate::Authenticator::login`] checks.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::error::Error;

/// Longest decoded SASL response we accept; real ones are a few dozen bytes.
pub const MAX_RESPONSE: usize = 8192;

/// A SASL mechanism pullmail offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
    CramMd5,
}

impl Mechanism {
    /// The registered name, as in `AUTH=PLAIN`.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::CramMd5 => "CRAM-MD5",
        }
    }

    /// Mechanism names are case-insensitive (RFC 4422 §3.1).
    pub fn from_name(name: &str) -> Option<Mechanism> {
        [Mechanism::Plain, Mechanism::Login, Mechanism::CramMd5]
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }

    /// True when the password itself crosses the wire.
    pub fn is_plaintext(self) -> bool {
        matches!(self, Mechanism::Plain | Mechanism::Login)
    }
}

/// A password from the client: wiped on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(password: impl Into<String>) -> Password {
        Password(password.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

impl Drop for Password {
    fn drop(&mut self) {
        // SAFETY: writing zero bytes keeps the String valid UTF-8; the volatile
        // writes go to memory we own exclusively and keep the wipe from being
        // optimised away.
        unsafe {
            for b in self.0.as_bytes_mut() {
                std::ptr::write_volatile(b, 0);
            }
        }
    }
}

/// What a client proved it knows, ready to be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A user name and password: IMAP LOGIN, POP3 USER/PASS, SASL PLAIN/LOGIN.
    /// `via` names the command or mechanism for the log.
    Password {
        via: &'static str,
        authzid: Option<String>,
        user: String,
        password: Password,
    },
    /// CRAM-MD5: the challenge we sent and the hex digest the client returned.
    CramMd5 {
        user: String,
        challenge: String,
        digest: String,
    },
    /// POP3 APOP: the greeting's timestamp and the hex digest.
    Apop {
        user: String,
        timestamp: String,
        digest: String,
    },
}

impl Credentials {
    /// Credentials from a LOGIN-style command (IMAP LOGIN, POP3 USER/PASS).
    pub fn password(via: &'static str, user: &str, password: &str) -> Credentials {
        Credentials::Password {
            via,
            authzid: None,
            user: user.to_string(),
            password: Password::new(password),
        }
    }

    /// The user name claimed.
    pub fn user(&self) -> &str {
        match self {
            Credentials::Password { user, .. }
            | Credentials::CramMd5 { user, .. }
            | Credentials::Apop { user, .. } => user,
        }
    }

    /// The command or mechanism, for the log.
    pub fn via(&self) -> &'static str {
        match self {
            Credentials::Password { via, .. } => via,
            Credentials::CramMd5 { .. } => "CRAM-MD5",
            Credentials::Apop { .. } => "APOP",
        }
    }

    /// True when a password crosses the wire.
    pub fn is_plaintext(&self) -> bool {
        matches!(self, Credentials::Password { .. })
    }
}

/// The next thing to do in an exchange.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this challenge (raw bytes; the engine base64-encodes it).
    Challenge(Vec<u8>),
    /// The exchange is complete.
    Done(Credentials),
}

#[derive(Debug)]
enum State {
    Start,
    PlainWaiting,
    LoginUser,
    LoginPassword { user: String },
    CramWaiting { challenge: String },
    Finished,
}

/// One SASL exchange.
#[derive(Debug)]
pub struct Exchange {
    mechanism: Mechanism,
    server_name: String,
    state: State,
}

impl Exchange {
    /// A new exchange; `server_name` goes into the CRAM-MD5 challenge.
    pub fn new(mechanism: Mechanism, server_name: &str) -> Exchange {
        Exchange {
            mechanism,
            server_name: server_name.to_string(),
            state: State::Start,
        }
    }

    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// Begins, with the client's initial response if it sent one (RFC 4959
    /// `AUTHENTICATE PLAIN <base64>`, RFC 5034 `AUTH PLAIN <base64>`).
    pub fn start(&mut self, initial_response: Option<&[u8]>) -> Result<Step, Error> {
        if !matches!(self.state, State::Start) {
            return Err(Error::SaslMalformed);
        }
        match (self.mechanism, initial_response) {
            (Mechanism::Plain, None) => {
                self.state = State::PlainWaiting;
                Ok(Step::Challenge(Vec::new()))
            }
            (Mechanism::Plain, Some(r)) => {
                self.state = State::PlainWaiting;
                self.step(r)
            }
            (Mechanism::Login, None) => {
                self.state = State::LoginUser;
                Ok(Step::Challenge(b"Username:".to_vec()))
            }
            (Mechanism::Login, Some(r)) => {
                self.state = State::LoginUser;
                self.step(r)
            }
            (Mechanism::CramMd5, None) => {
                let challenge = crate::cram::new_challenge(&self.server_name);
                let bytes = challenge.clone().into_bytes();
                self.state = State::CramWaiting { challenge };
                Ok(Step::Challenge(bytes))
            }
            // RFC 2195: the server speaks first; an initial response is a protocol error.
            (Mechanism::CramMd5, Some(_)) => Err(Error::SaslMalformed),
        }
    }

    /// Takes the client's decoded response to the last challenge.
    pub fn step(&mut self, response: &[u8]) -> Result<Step, Error> {
        if response.len() > MAX_RESPONSE {
            return Err(Error::SaslMalformed);
        }
        match std::mem::replace(&mut self.state, State::Finished) {
            State::PlainWaiting => {
                // message = [authzid] NUL authcid NUL passwd (RFC 4616 §2)
                let mut parts = response.split(|&b| b == 0);
                let (Some(authzid), Some(user), Some(password), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(Error::SaslMalformed);
                };
                let authzid = text(authzid)?;
                Ok(Step::Done(Credentials::Password {
                    via: "PLAIN",
                    authzid: (!authzid.is_empty()).then_some(authzid),
                    user: text(user)?,
                    password: Password::new(text(password)?),
                }))
            }
            State::LoginUser => {
                self.state = State::LoginPassword {
                    user: text(response)?,
                };
                Ok(Step::Challenge(b"Password:".to_vec()))
            }
            State::LoginPassword { user } => Ok(Step::Done(Credentials::Password {
                via: "LOGIN",
                authzid: None,
                user,
                password: Password::new(text(response)?),
            })),
            State::CramWaiting { challenge } => {
                // response = user SP digest, digest 32 lower-case hex (RFC 2195 §2)
                let response = text(response)?;
                let (user, digest) = response.rsplit_once(' ').ok_or(Error::SaslMalformed)?;
                if digest.len() != 32
                    || !digest.bytes().all(|b| b.is_ascii_hexdigit())
                    || user.is_empty()
                {
                    return Err(Error::SaslMalformed);
                }
                Ok(Step::Done(Credentials::CramMd5 {
                    user: user.to_string(),
                    challenge,
                    digest: digest.to_string(),
                }))
            }
            State::Start | State::Finished => Err(Error::SaslMalformed),
        }
    }
}

/// User names and passwords must be UTF-8 without NUL or line breaks.
fn text(bytes: &[u8]) -> Result<String, Error> {
    let s = std::str::from_utf8(bytes).map_err(|_| Error::SaslMalformed)?;
    if s.bytes().any(|b| b == 0 || b == b'\r' || b == b'\n') {
        return Err(Error::SaslMalformed);
    }
    Ok(s.to_string())
}

/// Decodes one client response line (without CRLF): `*` cancels (RFC 4422 §3.5),
/// `=` is an empty initial response (RFC 4959), anything else must be base64.
pub fn decode_response(line: &[u8]) -> Result<Vec<u8>, Error> {
    let line = line
        .strip_suffix(b"\r\n")
        .or_else(|| line.strip_suffix(b"\n"))
        .unwrap_or(line);
    match line {
        b"*" => Err(Error::SaslCancelled),
        b"=" => Ok(Vec::new()),
        _ if line.len() > MAX_RESPONSE * 4 / 3 + 4 => Err(Error::SaslMalformed),
        _ => STANDARD.decode(line).map_err(|_| Error::SaslMalformed),
    }
}

/// Encodes a challenge for the wire (the engine adds `+ ` and CRLF).
pub fn encode_challenge(challenge: &[u8]) -> String {
    STANDARD.encode(challenge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(step: Step) -> Credentials {
        match step {
            Step::Done(c) => c,
            Step::Challenge(c) => panic!("unexpected challenge {c:?}"),
        }
    }

    #[test]
    fn plain_with_initial_response() {
        let mut ex = Exchange::new(Mechanism::Plain, "host");
        let raw = decode_response(b"AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n").unwrap();
        let creds = done(ex.start(Some(&raw)).unwrap());
        assert_eq!(
            creds,
            Credentials::Password {
                via: "PLAIN",
                authzid: None,
                user: "tim".into(),
                password: Password::new("tanstaaftanstaaf"),
            }
        );
        assert!(
            !format!("{creds:?}").contains("tanstaaf"),
            "passwords never print"
        );
    }

    #[test]
    fn plain_after_empty_challenge_with_authzid() {
        let mut ex = Exchange::new(Mechanism::Plain, "host");
        assert_eq!(ex.start(None).unwrap(), Step::Challenge(Vec::new()));
        let creds = done(ex.step(b"admin\0tim\0pw").unwrap());
        let Credentials::Password { authzid, user, .. } = creds else {
            panic!()
        };
        assert_eq!((authzid.as_deref(), user.as_str()), (Some("admin"), "tim"));
    }

    #[test]
    fn plain_rejects_malformed_messages() {
        for bad in [
            &b"tim\0pw"[..],
            b"\0tim\0pw\0extra",
            b"\0ti\xffm\0pw",
            b"\0tim\0p\nw",
        ] {
            let mut ex = Exchange::new(Mechanism::Plain, "host");
            assert!(
                matches!(ex.start(Some(bad)), Err(Error::SaslMalformed)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn login_asks_for_user_then_password() {
        let mut ex = Exchange::new(Mechanism::Login, "host");
        assert_eq!(
            ex.start(None).unwrap(),
            Step::Challenge(b"Username:".to_vec())
        );
        assert_eq!(
            ex.step(b"tim").unwrap(),
            Step::Challenge(b"Password:".to_vec())
        );
        let creds = done(ex.step(b"secret").unwrap());
        assert_eq!(creds.user(), "tim");
        assert_eq!(creds.via(), "LOGIN");
        assert!(ex.step(b"more").is_err());
    }

    #[test]
    fn cram_md5_exchange_gives_digest_for_checking() {
        let mut ex = Exchange::new(Mechanism::CramMd5, "mail.example");
        let Step::Challenge(challenge) = ex.start(None).unwrap() else {
            panic!()
        };
        let challenge = String::from_utf8(challenge).unwrap();
        assert!(challenge.ends_with("@mail.example>"));
        let digest = crate::cram::cram_md5_digest(b"secret", challenge.as_bytes());
        let creds = done(ex.step(format!("tim {digest}").as_bytes()).unwrap());
        assert_eq!(
            creds,
            Credentials::CramMd5 {
                user: "tim".into(),
                challenge,
                digest
            }
        );
        let mut ex = Exchange::new(Mechanism::CramMd5, "h");
        assert!(ex.start(Some(b"x")).is_err());
        ex.start(None).unwrap();
        assert!(ex.step(b"tim nothex").is_err());
    }

    #[test]
    fn responses_cancel_or_decode() {
        assert!(matches!(
            decode_response(b"*\r\n"),
            Err(Error::SaslCancelled)
        ));
        assert_eq!(decode_response(b"=").unwrap(), b"");
        assert!(matches!(
            decode_response(b"not base64!"),
            Err(Error::SaslMalformed)
        ));
        assert_eq!(encode_challenge(b"Username:"), "VXNlcm5hbWU6");
        assert_eq!(Mechanism::from_name("cram-md5"), Some(Mechanism::CramMd5));
        assert_eq!(Mechanism::from_name("GSSAPI"), None);
    }
}
