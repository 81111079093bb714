//! LIST and LSUB (RFC 3501 §6.3.8, §6.3.9). `LIST "" ""` answers the hierarchy
//! delimiter; names go out in modified UTF-7 with \Noinferiors, \Noselect,
//! \Marked / \Unmarked and (RFC 3348) \HasChildren / \HasNoChildren.

use mailbox::list::ListEntry;

use super::user_store;
use crate::host::Host;
use crate::respond::{self, Reply};
use crate::session::Session;

pub(crate) fn list<H: Host>(s: &mut Session<H>, reference: &str, pattern: &str) -> Reply {
    if pattern.is_empty() {
        // The delimiter, and the root of the reference's hierarchy (§6.3.8).
        let root = reference.find('/').map_or("", |i| &reference[..=i]);
        s.out.extend_from_slice(b"* LIST (\\Noselect) \"/\" ");
        respond::mailbox_name(&mut s.out, root);
        s.out.extend_from_slice(b"\r\n");
        return Reply::ok("LIST completed");
    }
    let result = user_store!(s).list(reference, pattern);
    answer(s, "LIST", result)
}

pub(crate) fn lsub<H: Host>(s: &mut Session<H>, reference: &str, pattern: &str) -> Reply {
    let result = user_store!(s).lsub(reference, pattern);
    answer(s, "LSUB", result)
}

fn answer<H: Host>(
    s: &mut Session<H>,
    what: &str,
    result: Result<Vec<ListEntry>, mailbox::error::Error>,
) -> Reply {
    let entries = match result {
        Ok(e) => e,
        // A reference or pattern the policy refuses names nothing one may list.
        Err(mailbox::error::Error::BadName(_)) => Vec::new(),
        Err(e) => return Reply::mailbox_error(what, &e),
    };
    for e in entries {
        let a = &e.attributes;
        let mut attrs: Vec<&str> = Vec::new();
        if a.noinferiors {
            attrs.push("\\Noinferiors");
        }
        if a.noselect {
            attrs.push("\\Noselect");
        }
        if a.marked {
            attrs.push("\\Marked");
        }
        if a.unmarked {
            attrs.push("\\Unmarked");
        }
        if what == "LIST" && !a.noinferiors {
            attrs.push(if a.has_children {
                "\\HasChildren"
            } else {
                "\\HasNoChildren"
            });
        }
        s.out
            .extend_from_slice(format!("* {what} ({}) \"/\" ", attrs.join(" ")).as_bytes());
        respond::mailbox_name(&mut s.out, &e.name);
        s.out.extend_from_slice(b"\r\n");
    }
    Reply::ok(format!("{what} completed"))
}
