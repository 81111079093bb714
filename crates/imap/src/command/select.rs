//! SELECT and EXAMINE (RFC 3501 §6.3.1, §6.3.2). Selecting closes the mailbox
//! selected before, even when the new one cannot be opened.

use mailbox::mailbox::Mode;

use super::user_store;
use crate::host::Host;
use crate::respond::{self, untagged, Reply};
use crate::selected::Selected;
use crate::session::Session;

pub(crate) fn run<H: Host>(s: &mut Session<H>, name: &str, examine: bool) -> Reply {
    s.deselect();
    let what = if examine { "EXAMINE" } else { "SELECT" };
    let mode = if examine {
        Mode::ReadOnly
    } else {
        Mode::ReadWrite
    };
    let store = user_store!(s);
    if let Err(r) = super::ensure_inbox(store, name) {
        return r;
    }
    let mailbox = match store.open(name, mode) {
        Ok(m) => m,
        Err(e) => return Reply::mailbox_error(what, &e),
    };
    let read_only = examine || mailbox.is_read_only();
    let sel = Selected::new(mailbox, name.to_string(), read_only);
    let mb = &sel.mailbox;
    let out = &mut s.out;
    untagged(out, &format!("{} EXISTS", mb.count()));
    untagged(out, &format!("{} RECENT", mb.recent_count()));
    untagged(
        out,
        &format!("OK [UIDVALIDITY {}] UID validity status", mb.uid_validity()),
    );
    untagged(
        out,
        &format!("OK [UIDNEXT {}] Predicted next UID", mb.uid_next()),
    );
    untagged(out, &respond::mailbox_flags(mb.keywords()));
    untagged(
        out,
        &format!(
            "OK [{}] Permanent flags",
            respond::permanent_flags(mb.keywords(), read_only)
        ),
    );
    if let Some(n) = mb.first_unseen() {
        untagged(out, &format!("OK [UNSEEN {n}] First unseen message"));
    }
    s.selected = Some(sel);
    if read_only {
        Reply::ok_code("READ-ONLY", format!("{what} completed"))
    } else {
        Reply::ok_code("READ-WRITE", format!("{what} completed"))
    }
}
