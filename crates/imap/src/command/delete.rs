//! DELETE (RFC 3501 §6.3.4). INBOX cannot be deleted (the store says so), nor the
//! mailbox this session has selected.

use super::user_store;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;

pub(crate) fn run<H: Host>(s: &mut Session<H>, name: &str) -> Reply {
    let store = user_store!(s);
    if let (Some(sel), Ok(r)) = (&s.selected, store.resolve(name)) {
        if sel.mailbox.path() == r.path {
            return Reply::no_code(
                "INUSE",
                "DELETE failed: the mailbox is selected; CLOSE it first",
            );
        }
    }
    match store.delete(name) {
        Ok(()) => Reply::ok("DELETE completed"),
        Err(e) => Reply::mailbox_error("DELETE", &e),
    }
}
