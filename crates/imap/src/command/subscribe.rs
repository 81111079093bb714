//! SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.6, §6.3.7).

use super::user_store;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;

pub(crate) fn subscribe<H: Host>(s: &mut Session<H>, name: &str) -> Reply {
    match user_store!(s).subscribe(name) {
        Ok(()) => Reply::ok("SUBSCRIBE completed"),
        Err(e) => Reply::mailbox_error("SUBSCRIBE", &e),
    }
}

pub(crate) fn unsubscribe<H: Host>(s: &mut Session<H>, name: &str) -> Reply {
    match user_store!(s).unsubscribe(name) {
        Ok(()) => Reply::ok("UNSUBSCRIBE completed"),
        Err(e) => Reply::mailbox_error("UNSUBSCRIBE", &e),
    }
}
