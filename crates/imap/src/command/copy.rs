//! COPY and UID COPY (RFC 3501 §6.4.7): all or nothing, flags and internal dates
//! kept; a missing destination is `NO [TRYCREATE]`.

use mailbox::mailbox::Mode;

use super::selected_mailbox;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;
use crate::types::SequenceSet;

pub(crate) fn run<H: Host>(s: &mut Session<H>, uid: bool, set: &SequenceSet, name: &str) -> Reply {
    let Some(store) = s.store.as_ref() else {
        return Reply::bad("Not authenticated");
    };
    let sel = selected_mailbox!(s);
    let Some(seqs) = sel.resolve(set, uid) else {
        return Reply::bad("Invalid message sequence number");
    };
    if seqs.is_empty() {
        return Reply::ok("COPY completed");
    }
    if let Err(r) = super::ensure_inbox(store, name) {
        return r;
    }
    let mut dest = match store.open(name, Mode::Append) {
        Ok(d) => d,
        Err(e) => return Reply::mailbox_error("COPY", &e),
    };
    if dest.is_read_only() {
        return Reply::no_code("READ-ONLY", "COPY failed: the destination is read-only");
    }
    let pairs = match sel.mailbox.copy_to(&seqs, &mut dest) {
        Ok(p) => p,
        Err(e) => return Reply::mailbox_error("COPY", &e),
    };
    let uid_validity = dest.uid_validity();
    if let Err(e) = dest.close() {
        return Reply::mailbox_error("COPY", &e);
    }
    // RFC 4315 COPYUID, harmless to clients that do not know it.
    let (src, dst): (Vec<String>, Vec<String>) = pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unzip();
    Reply::ok_code(
        format!("COPYUID {uid_validity} {} {}", src.join(","), dst.join(",")),
        "COPY completed",
    )
}
