//! STORE and UID STORE (RFC 3501 §6.4.6): FLAGS, +FLAGS, -FLAGS, and .SILENT.
//! New keywords are announced with FLAGS and PERMANENTFLAGS first (as UW does);
//! the changes reach the file at the end of the command, so other sessions see
//! them at their next command. Messages that another session expunged (and this
//! one may not report yet, RFC 3501 §7.4.1) are passed over and the rest change:
//! the answer is OK, as a flag on a message that is gone is nothing the client can
//! miss (RFC 2180 §4.2.1 allows either; a NO reads as "nothing changed").

use super::append::split_flags;
use super::selected_mailbox;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;
use crate::types::{Flag, Numbering, SequenceSet, StoreMode};

pub(crate) fn run<H: Host>(
    s: &mut Session<H>,
    numbering: Numbering,
    set: &SequenceSet,
    mode: StoreMode,
    silent: bool,
    flags: &[Flag],
) -> Reply {
    let (system, keywords) = match split_flags(flags) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let sel = selected_mailbox!(s);
    let Some(seqs) = sel.resolve(set, numbering) else {
        return Reply::bad("Invalid message sequence number");
    };
    if sel.read_only {
        return Reply::no_code("READ-ONLY", "STORE not allowed: the mailbox is read-only");
    }
    let keywords: Vec<&str> = keywords.iter().map(String::as_str).collect();
    let mut done = Vec::with_capacity(seqs.len());
    for seq in seqs {
        match sel.mailbox.store(seq, mode.op(), system, &keywords) {
            Ok(changed) => {
                sel.dirty |= changed;
                done.push(seq);
            }
            Err(mailbox::error::Error::Expunged) => {}
            Err(mailbox::error::Error::BadMessage(_)) => {
                sel.report_keywords(&mut s.out);
                return Reply::no_code(
                    "LIMIT",
                    "STORE failed: no more keywords can be defined in this mailbox",
                );
            }
            Err(e) => return Reply::mailbox_error("STORE", &e),
        }
    }
    sel.report_keywords(&mut s.out);
    if !silent {
        for seq in done {
            sel.fetch_flags(&mut s.out, seq, numbering);
        }
    }
    Reply::ok("STORE completed")
}
