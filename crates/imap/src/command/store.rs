//! STORE and UID STORE (RFC 3501 §6.4.6): FLAGS, +FLAGS, -FLAGS, and .SILENT.
//! New keywords are announced with FLAGS and PERMANENTFLAGS first (as UW does);
//! the changes reach the file at the end of the command, so other sessions see
//! them at their next command. Messages that another session expunged (and this
//! one may not report yet, RFC 3501 §7.4.1) are passed over and the rest change:
//! the answer is OK, as a flag on a message that is gone is nothing the client can
//! miss (RFC 2180 §4.2.1 allows either; a NO reads as "nothing changed").
//!
//! CONDSTORE (RFC 7162 §3.1.3): with `(UNCHANGEDSINCE n)` a message whose modseq
//! is above `n` is left as it is and named in `OK [MODIFIED set]`; what others
//! changed is caught up with first (and reported), so `n` is compared with the
//! modseqs of now. Once CONDSTORE is on, the changes are written before the
//! answer, whose FETCH responses carry the new MODSEQ (with .SILENT, only that).
//! The comparison and the write are not one atomic step: a change another
//! session writes between them is merged with this one, as any two STOREs are.

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
    unchanged_since: Option<u64>,
    mode: StoreMode,
    silent: bool,
    flags: &[Flag],
) -> Reply {
    let (system, keywords) = match split_flags(flags) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if unchanged_since.is_some() && s.selected.is_some() {
        crate::modseq::enable_condstore(s);
    }
    let condstore = s.enabled.condstore;
    let host = &s.host;
    let log = |m: &str| host.log(m);
    let sel = selected_mailbox!(s);
    if sel.read_only {
        return Reply::no_code("READ-ONLY", "STORE not allowed: the mailbox is read-only");
    }
    if unchanged_since.is_some() {
        let _ = sel.report(&mut s.out, numbering.is_uid(), numbering, &log);
    }
    let Some(seqs) = sel.resolve(set, numbering) else {
        return Reply::bad("Invalid message sequence number");
    };
    let keywords: Vec<&str> = keywords.iter().map(String::as_str).collect();
    let mut done = Vec::with_capacity(seqs.len());
    let mut changed_seqs = Vec::new();
    let mut modified: Vec<u32> = Vec::new();
    for seq in seqs {
        if let Some(limit) = unchanged_since {
            if let Some(info) = sel.mailbox.info(seq) {
                if info.modseq.get() > limit {
                    modified.push(if numbering.is_uid() {
                        info.uid.get()
                    } else {
                        seq.get()
                    });
                    continue;
                }
            }
        }
        match sel.mailbox.store(seq, mode.op(), system, &keywords) {
            Ok(changed) => {
                sel.dirty |= changed;
                if changed {
                    changed_seqs.push(seq);
                }
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
    if condstore && sel.dirty {
        if let Err(e) = sel.write_back() {
            log(&format!(
                "{}: writing flags back failed: {e}",
                sel.mailbox.path().display()
            ));
        }
    }
    // After the write-back: writing merges what other sessions wrote meanwhile,
    // keywords they defined included, and the FETCH answers below may show them
    // (imaptest stress: 'Keyword used without being in FLAGS').
    sel.report_keywords(&mut s.out);
    if !silent {
        for seq in done {
            sel.fetch_flags(&mut s.out, seq, numbering);
        }
    } else if condstore {
        for seq in changed_seqs {
            sel.fetch_modseq(&mut s.out, seq);
        }
    }
    if !modified.is_empty() {
        modified.sort_unstable();
        return Reply::ok_code(
            format!("MODIFIED {}", SequenceSet::compact(&modified)),
            "Conditional STORE failed",
        );
    }
    Reply::ok("STORE completed")
}
