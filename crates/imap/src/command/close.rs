//! CLOSE (RFC 3501 §6.4.2): expunge silently (read-write only), close, and go back
//! to the authenticated state, even when the expunge fails.

use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;

pub(crate) fn run<H: Host>(s: &mut Session<H>) -> Reply {
    let Some(mut sel) = s.selected.take() else {
        return Reply::bad("No mailbox selected");
    };
    if sel.read_only {
        return Reply::ok("CLOSE completed");
    }
    let path = sel.mailbox.path().display().to_string();
    let expunged = sel.mailbox.expunge(None);
    let closed = sel.mailbox.close();
    match expunged.and(closed) {
        Ok(()) => Reply::ok("CLOSE completed"),
        Err(e) => {
            s.host.log(&format!("{path}: CLOSE: {e}"));
            Reply::mailbox_error("CLOSE", &e)
        }
    }
}

/// UNSELECT (RFC 3691): back to the authenticated state like CLOSE, but without
/// expunging; flag changes are written back.
pub(crate) fn unselect<H: Host>(s: &mut Session<H>) -> Reply {
    if s.selected.is_none() {
        return Reply::bad("No mailbox selected");
    }
    s.deselect();
    Reply::ok("UNSELECT completed")
}
