//! CAPABILITY, LOGOUT (RFC 3501 §6.1; NOOP needs no code: the session reports
//! changes after every command).

use super::Outcome;
use crate::host::Host;
use crate::respond::{untagged, Reply};
use crate::session::Session;

pub(crate) fn capability<H: Host>(s: &mut Session<H>) -> Reply {
    let caps = s.capabilities();
    untagged(&mut s.out, &format!("CAPABILITY {caps}"));
    Reply::ok("CAPABILITY completed")
}

pub(crate) fn logout<H: Host>(s: &mut Session<H>) -> Outcome {
    s.deselect();
    let text = format!(
        "BYE {} IMAP4rev1 server terminating connection",
        s.server_name
    );
    untagged(&mut s.out, &text);
    Outcome::Logout(Reply::ok("LOGOUT completed"))
}
