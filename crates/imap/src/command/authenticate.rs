//! AUTHENTICATE (RFC 3501 §6.2.2): a SASL exchange of `+ challenge` lines and
//! base64 response lines ([`daemon::sasl::negotiate`], shared with POP3 AUTH),
//! ending in the same login as LOGIN. An initial response in the command (RFC
//! 4959) is taken when given.

use daemon::sasl::negotiate;

use super::login::enter;
use super::Outcome;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;

pub(crate) fn run<H: Host>(s: &mut Session<H>, mechanism: &str, initial: Option<&[u8]>) -> Outcome {
    let offered = s.host.mechanisms();
    let server_name = s.server_name.clone();
    let result = negotiate(&offered, mechanism, initial, &server_name, |challenge| {
        s.out.extend_from_slice(b"+ ");
        s.out.extend_from_slice(challenge.as_bytes());
        s.out.extend_from_slice(b"\r\n");
        s.read_line()
    });
    match result {
        Ok(credentials) => enter(s, credentials, "AUTHENTICATE"),
        // The client's mistakes are answered; the session goes on.
        Err(
            e @ (daemon::Error::UnsupportedMechanism
            | daemon::Error::SaslMalformed
            | daemon::Error::SaslCancelled),
        ) => Reply::daemon_error(&e).into(),
        // A lost connection, a timeout, a signal while waiting for a response.
        Err(e) => Outcome::End(e),
    }
}
