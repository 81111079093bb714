//! RENAME (RFC 3501 §6.3.5). Renaming INBOX moves its messages to the new mailbox
//! and leaves INBOX empty (done by the store); renaming the selected mailbox other
//! than INBOX is refused, since the session holds it open by its path.

use super::user_store;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;

pub(crate) fn run<H: Host>(s: &mut Session<H>, from: &str, to: &str) -> Reply {
    let store = user_store!(s);
    if let (Some(sel), Ok(r)) = (&s.selected, store.resolve(from)) {
        if !r.is_inbox && sel.mailbox.path() == r.path {
            return Reply::no_code(
                "INUSE",
                "RENAME failed: the mailbox is selected; CLOSE it first",
            );
        }
    }
    match store.rename(from, to) {
        Ok(()) => Reply::ok("RENAME completed"),
        Err(e) => Reply::mailbox_error("RENAME", &e),
    }
}
