//! SASL mechanisms as transport-free state machines: PLAIN (RFC 4616), LOGIN
//! (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195) and GSSAPI (RFC 4752,
//! Kerberos V5 through [`crate::gssapi`]).
//!
//! [`negotiate`] is the one exchange both engines run (IMAP AUTHENTICATE, POP3
//! AUTH): the engine only frames the wire — sends `+ BASE64` its way and returns
//! the client's line — and [`negotiate`] decodes it ([`decode_response`]), feeds
//! [`Exchange::step`], and encodes the next challenge ([`encode_challenge`])
//! until the exchange yields [`Credentials`], which
//! [`crate::Authenticator::login`] checks. A new mechanism lives here only.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::error::Error;

/// Longest decoded SASL response we accept. Passwords and digests are a few
/// dozen bytes; a Kerberos ticket carries an Active Directory PAC that grows with
/// the user's groups, and Windows' long-standing default token limit
/// (MaxTokenSize) is 12,000 bytes. Its base64 line still fits POP3's 16 KiB lines.
pub const MAX_RESPONSE: usize = 12_000;

/// A SASL mechanism pullmail offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
    CramMd5,
    Gssapi,
}

impl Mechanism {
    /// The registered name, as in `AUTH=PLAIN`.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::Gssapi => "GSSAPI",
        }
    }

    /// Mechanism names are case-insensitive (RFC 4422 §3.1).
    pub fn from_name(name: &str) -> Option<Mechanism> {
        [
            Mechanism::Plain,
            Mechanism::Login,
            Mechanism::CramMd5,
            Mechanism::Gssapi,
        ]
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
    /// GSSAPI: the Kerberos principal the security context proved, and the
    /// user it asks to be (its authorization identity, else the principal's
    /// local name). `refused` holds why the exchange failed, if it did, so the
    /// failure is logged and counted as any other.
    Gssapi {
        principal: String,
        user: String,
        refused: Option<String>,
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
            | Credentials::Apop { user, .. }
            | Credentials::Gssapi { user, .. } => user,
        }
    }

    /// The command or mechanism, for the log.
    pub fn via(&self) -> &'static str {
        match self {
            Credentials::Password { via, .. } => via,
            Credentials::CramMd5 { .. } => "CRAM-MD5",
            Credentials::Apop { .. } => "APOP",
            Credentials::Gssapi { .. } => "GSSAPI",
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
    /// Taking the client's context tokens.
    GssToken(crate::gssapi::Context),
    /// The context is up and its last token sent; the client answers empty.
    GssEmpty(crate::gssapi::Context),
    /// The security layer offer is sent; the client's wrapped choice comes next.
    GssLayer(crate::gssapi::Context),
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
            (Mechanism::Gssapi, initial) => {
                self.state = State::GssToken(crate::gssapi::Context::new());
                match initial {
                    Some(r) if !r.is_empty() => self.step(r),
                    // RFC 4752 §3.1: the client's first token comes after an empty challenge.
                    _ => Ok(Step::Challenge(Vec::new())),
                }
            }
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
            State::GssToken(context) => Ok(self.gss_token(context, response)),
            // RFC 4752 §3.1: whatever the client sent after the context's last token
            // carries nothing; the security layer offer follows.
            State::GssEmpty(context) => Ok(self.gss_offer(context)),
            State::GssLayer(context) => Ok(Step::Done(gss_choice(&context, response))),
            State::Start | State::Finished => Err(Error::SaslMalformed),
        }
    }
}

impl Exchange {
    fn gss_token(&mut self, mut context: crate::gssapi::Context, token: &[u8]) -> Step {
        use crate::gssapi::Accepted;
        match context.accept(token) {
            Err(e) => Step::Done(gss_refused(e.to_string())),
            Ok(Accepted::Continue(out)) => {
                self.state = State::GssToken(context);
                Step::Challenge(out)
            }
            Ok(Accepted::Complete(out)) if !out.is_empty() => {
                self.state = State::GssEmpty(context);
                Step::Challenge(out)
            }
            Ok(Accepted::Complete(_)) => self.gss_offer(context),
        }
    }

    /// RFC 4752 §3.1: the wrapped four octets offering only "no security layer"
    /// (bit 1) with a maximum message size of 0; TLS is the confidentiality layer.
    fn gss_offer(&mut self, context: crate::gssapi::Context) -> Step {
        match context.wrap(&[GSS_NO_SECURITY_LAYER, 0, 0, 0]) {
            Ok(token) => {
                self.state = State::GssLayer(context);
                Step::Challenge(token)
            }
            Err(e) => Step::Done(gss_refused(e.to_string())),
        }
    }
}

/// The "no security layer" bit of RFC 4752 §3.1.
const GSS_NO_SECURITY_LAYER: u8 = 1;

/// The client's unwrapped answer: the chosen layer, three octets of size, and
/// the authorization identity (possibly empty).
fn gss_choice(context: &crate::gssapi::Context, token: &[u8]) -> Credentials {
    let principal = match context.client_name() {
        Ok(p) => p,
        Err(e) => return gss_refused(e.to_string()),
    };
    let refuse = |reason: &str| Credentials::Gssapi {
        principal: principal.clone(),
        user: principal.clone(),
        refused: Some(reason.to_string()),
    };
    let message = match context.unwrap(token) {
        Ok(m) => m,
        Err(e) => return refuse(&e.to_string()),
    };
    if message.len() < 4 || message[0] != GSS_NO_SECURITY_LAYER {
        return refuse("client chose a security layer that was not offered");
    }
    let user = match text(&message[4..]) {
        Ok(authzid) if !authzid.is_empty() => authzid,
        Ok(_) => match crate::gssapi::local_name(&principal) {
            Ok(name) => name,
            Err(e) => return refuse(&e.to_string()),
        },
        Err(_) => return refuse("authorization identity is not text"),
    };
    Credentials::Gssapi {
        principal,
        user,
        refused: None,
    }
}

/// A refusal before anyone is known: the log says `user=???`, as UW's did.
fn gss_refused(reason: String) -> Credentials {
    Credentials::Gssapi {
        principal: String::new(),
        user: "???".into(),
        refused: Some(reason),
    }
}

/// Challenges one exchange may take: PLAIN needs one, LOGIN two, CRAM-MD5 one,
/// GSSAPI (Kerberos V5) three.
pub const MAX_ROUNDS: usize = 8;

/// Runs one SASL exchange: the mechanism the client named, if `offered`; its
/// initial response (RFC 4959, RFC 5034) when given, still base64; then
/// `challenge` sends each encoded challenge as the protocol frames it and
/// returns the client's response line. Ends in the credentials to check, or in
/// [`Error::UnsupportedMechanism`], [`Error::SaslMalformed`] (also after
/// [`MAX_ROUNDS`] challenges), [`Error::SaslCancelled`], or the error
/// `challenge` returned (a lost connection, a timeout).
pub fn negotiate(
    offered: &[Mechanism],
    name: &str,
    initial: Option<&[u8]>,
    server_name: &str,
    mut challenge: impl FnMut(&str) -> Result<Vec<u8>, Error>,
) -> Result<Credentials, Error> {
    let mechanism = Mechanism::from_name(name)
        .filter(|m| offered.contains(m))
        .ok_or(Error::UnsupportedMechanism)?;
    let initial = initial.map(decode_response).transpose()?;
    let mut exchange = Exchange::new(mechanism, server_name);
    let mut step = exchange.start(initial.as_deref())?;
    for _ in 0..MAX_ROUNDS {
        match step {
            Step::Done(credentials) => return Ok(credentials),
            Step::Challenge(c) => {
                let line = challenge(&encode_challenge(&c))?;
                step = exchange.step(&decode_response(&line)?)?;
            }
        }
    }
    Err(Error::SaslMalformed)
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
        assert_eq!(Mechanism::from_name("gssapi"), Some(Mechanism::Gssapi));
        assert_eq!(Mechanism::from_name("SCRAM-SHA-1"), None);
    }

    #[test]
    fn negotiate_runs_an_exchange_over_any_wire() {
        let offered = [Mechanism::Plain, Mechanism::Login];
        let mut sent = Vec::new();
        let mut answers = ["dGlt", "c2VjcmV0"].into_iter();
        let creds = negotiate(&offered, "login", None, "host", |c| {
            sent.push(c.to_string());
            Ok(answers.next().unwrap().as_bytes().to_vec())
        })
        .unwrap();
        assert_eq!(sent, ["VXNlcm5hbWU6", "UGFzc3dvcmQ6"]);
        assert_eq!((creds.user(), creds.via()), ("tim", "LOGIN"));
        // Initial response, no challenge.
        let creds = negotiate(&offered, "PLAIN", Some(b"AHRpbQBwdw=="), "h", |_| {
            panic!("no challenge expected")
        })
        .unwrap();
        assert_eq!(creds.user(), "tim");
        // Not offered, cancelled, the wire's own error.
        let no = |_: &str| -> Result<Vec<u8>, Error> { panic!() };
        assert!(matches!(
            negotiate(&offered, "CRAM-MD5", None, "h", no),
            Err(Error::UnsupportedMechanism)
        ));
        assert!(matches!(
            negotiate(&offered, "PLAIN", None, "h", |_| Ok(b"*".to_vec())),
            Err(Error::SaslCancelled)
        ));
        assert!(matches!(
            negotiate(&offered, "PLAIN", None, "h", |_| Err(Error::ConnectionLost)),
            Err(Error::ConnectionLost)
        ));
    }

    #[test]
    fn gssapi_waits_for_a_token_and_turns_a_bad_one_into_a_counted_refusal() {
        let mut ex = Exchange::new(Mechanism::Gssapi, "host");
        // An empty initial response (SASL-IR `=`) gets the empty challenge.
        assert_eq!(ex.start(Some(b"")).unwrap(), Step::Challenge(Vec::new()));
        // Not a GSS token (and no acceptor credential in a unit test): the
        // exchange ends in credentials that the authenticator refuses and counts.
        let Credentials::Gssapi { refused, user, .. } = done(ex.step(b"\x60\x01junk").unwrap())
        else {
            panic!()
        };
        assert!(refused.is_some() && user == "???");
        assert!(ex.step(b"more").is_err());
    }
}
