//! EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1): first what others
//! changed, then this session's own expunges, each as `* n EXPUNGE`. UID EXPUNGE
//! removes only the `\Deleted` messages whose UIDs are in the set. Once QRESYNC is
//! enabled, expunges are one `* VANISHED uids` instead (RFC 7162 §3.2.10).

use super::selected_mailbox;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;
use crate::types::{Numbering, SequenceSet};

pub(crate) fn run<H: Host>(s: &mut Session<H>, uid_set: Option<&SequenceSet>) -> Reply {
    let host = &s.host;
    let log = |m: &str| host.log(m);
    let sel = selected_mailbox!(s);
    if sel.read_only {
        return Reply::no_code("READ-ONLY", "EXPUNGE not allowed: the mailbox is read-only");
    }
    // The UIDs named now, before reporting others' changes renumbers anything.
    let uids: Option<Vec<mailbox::uid::Uid>> = match uid_set {
        None => None,
        Some(set) => match sel.resolve(set, Numbering::Uid) {
            Some(seqs) => Some(
                seqs.iter()
                    .filter_map(|&q| sel.mailbox.info(q).map(|i| i.uid))
                    .collect(),
            ),
            None => return Reply::bad("Invalid UID set"),
        },
    };
    // UID EXPUNGE is a UID command: its FETCH responses carry UIDs.
    let numbering = if uids.is_some() {
        Numbering::Uid
    } else {
        Numbering::Sequence
    };
    if sel.report(&mut s.out, true, numbering, &log).is_err() {
        return Reply::no("EXPUNGE failed: the mailbox changed under the session");
    }
    let mut before = sel.numbering_snapshot();
    match sel.mailbox.expunge(uids.as_deref()) {
        Ok(seqs) => {
            for seq in seqs {
                sel.expunged_from(&mut s.out, seq, &mut before);
            }
            sel.flush_vanished(&mut s.out);
            sel.dirty = false;
            Reply::ok("EXPUNGE completed")
        }
        Err(e) => Reply::mailbox_error("EXPUNGE", &e),
    }
}
