//! STARTTLS (RFC 3501 §6.2.1): the OK goes out in the clear, then the handshake;
//! the session drops anything the client pipelined behind the command.

use super::Outcome;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;

pub(crate) fn run<H: Host>(s: &mut Session<H>) -> Outcome {
    if s.host.is_tls() {
        return Reply::bad("TLS is already active").into();
    }
    if !s.host.can_start_tls() {
        return Reply::no_code("UNAVAILABLE", "TLS is not available on this server").into();
    }
    Outcome::StartTls(Reply::ok("Begin TLS negotiation now"))
}
