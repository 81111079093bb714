//! CHECK (RFC 3501 §6.4.1): write everything back now.

use super::selected_mailbox;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;

pub(crate) fn run<H: Host>(s: &mut Session<H>) -> Reply {
    let sel = selected_mailbox!(s);
    if sel.read_only {
        return Reply::ok("CHECK completed");
    }
    match sel.mailbox.checkpoint() {
        Ok(()) => {
            sel.dirty = false;
            Reply::ok("CHECK completed")
        }
        Err(e) => Reply::mailbox_error("CHECK", &e),
    }
}
