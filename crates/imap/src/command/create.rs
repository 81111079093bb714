//! CREATE (RFC 3501 §6.3.3): a trailing `/` makes a hierarchy holder; the name
//! policy decides what may be created.

use super::user_store;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;

pub(crate) fn run<H: Host>(s: &mut Session<H>, name: &str) -> Reply {
    match user_store!(s).create(name) {
        Ok(()) => Reply::ok("CREATE completed"),
        Err(e) => Reply::mailbox_error("CREATE", &e),
    }
}
