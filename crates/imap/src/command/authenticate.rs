//! AUTHENTICATE (RFC 3501 §6.2.2): a SASL exchange of `+ challenge` lines and
//! base64 response lines, ending in the same login as LOGIN. An initial response in
//! the command (RFC 4959) is taken when given.

use daemon::sasl::{decode_response, encode_challenge, Exchange, Step};
use daemon::Mechanism;

use super::login::enter;
use super::Outcome;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;

/// Challenges one exchange may take; PLAIN needs one, LOGIN two, CRAM-MD5 one.
const MAX_ROUNDS: usize = 8;

pub(crate) fn run<H: Host>(s: &mut Session<H>, mechanism: &str, initial: Option<&[u8]>) -> Outcome {
    let offered = s.host.mechanisms();
    let Some(mech) = Mechanism::from_name(mechanism).filter(|m| offered.contains(m)) else {
        return Reply::daemon_error(&daemon::Error::UnsupportedMechanism).into();
    };
    let initial = match initial.map(decode_response).transpose() {
        Ok(i) => i,
        Err(e) => return Reply::daemon_error(&e).into(),
    };
    let mut exchange = Exchange::new(mech, &s.server_name);
    let mut step = exchange.start(initial.as_deref());
    for _ in 0..MAX_ROUNDS {
        match step {
            Err(e) => return Reply::daemon_error(&e).into(),
            Ok(Step::Done(credentials)) => return enter(s, credentials, "AUTHENTICATE"),
            Ok(Step::Challenge(c)) => {
                s.out.extend_from_slice(b"+ ");
                s.out.extend_from_slice(encode_challenge(&c).as_bytes());
                s.out.extend_from_slice(b"\r\n");
                let line = match s.read_line() {
                    Ok(l) => l,
                    Err(e @ daemon::Error::SaslMalformed) => return Reply::daemon_error(&e).into(),
                    Err(e) => return Outcome::End(e),
                };
                step = decode_response(&line).and_then(|r| exchange.step(&r));
            }
        }
    }
    Reply::bad("Authentication took too many steps").into()
}
