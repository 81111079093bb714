//! CANCELUPDATE (RFC 5267 §4.2): ends the search contexts the named tags made.
//! A tag with no live context is an error of the client's (BAD), and then none
//! is cancelled.

use super::selected_mailbox;
use crate::host::Host;
use crate::respond::{clean_text, Reply};
use crate::session::Session;

pub(crate) fn run<H: Host>(s: &mut Session<H>, tags: &[String]) -> Reply {
    let sel = selected_mailbox!(s);
    if let Some(unknown) = tags
        .iter()
        .find(|t| !sel.contexts.iter().any(|c| &c.tag == *t))
    {
        return Reply::bad(format!(
            "No search context has the tag {}",
            clean_text(unknown)
        ));
    }
    sel.contexts.retain(|c| !tags.contains(&c.tag));
    Reply::ok("CANCELUPDATE completed")
}
