//! EXPUNGE (RFC 3501 §6.4.3): first what others changed, then this session's
//! own expunges, each as `* n EXPUNGE`.

use super::selected_mailbox;
use crate::host::Host;
use crate::respond::{untagged, Reply};
use crate::session::Session;

pub(crate) fn run<H: Host>(s: &mut Session<H>) -> Reply {
    let host = &s.host;
    let log = |m: &str| host.log(m);
    let sel = selected_mailbox!(s);
    if sel.read_only {
        return Reply::no_code("READ-ONLY", "EXPUNGE not allowed: the mailbox is read-only");
    }
    if sel.report(&mut s.out, true, false, &log).is_err() {
        return Reply::no("EXPUNGE failed: the mailbox changed under the session");
    }
    match sel.mailbox.expunge(None) {
        Ok(seqs) => {
            for seq in seqs {
                untagged(&mut s.out, &format!("{seq} EXPUNGE"));
                sel.exists = sel.exists.saturating_sub(1);
            }
            sel.dirty = false;
            Reply::ok("EXPUNGE completed")
        }
        Err(e) => Reply::mailbox_error("EXPUNGE", &e),
    }
}
