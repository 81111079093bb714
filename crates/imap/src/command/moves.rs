//! MOVE and UID MOVE (RFC 6851): COPY, then UID EXPUNGE of exactly the moved
//! messages, answered as `* OK [COPYUID ...]`, the `* n EXPUNGE` lines, and the
//! tagged OK (§4.3: COPYUID cannot go in the tagged line, which comes after the
//! expunges).
//!
//! Mail is never lost: the copy is committed through the destination's journal
//! (fsynced) before anything in the source is touched, and the source's expunge is
//! a journalled rewrite of its own. A SIGKILL or power cut at any instant leaves
//! each message in the source, the destination, or both, never in neither
//! (`tests/move_crash.rs` kills sessions mid-MOVE to hold this). Messages the
//! user had marked `\Deleted` and did not move stay where they are.

use mailbox::flags::Flags;
use mailbox::mailbox::{Mode, StoreOp};

use super::copy::copyuid;
use super::selected_mailbox;
use crate::host::Host;
use crate::respond::{untagged, Reply};
use crate::session::Session;
use crate::types::{Numbering, SequenceSet};

pub(crate) fn run<H: Host>(s: &mut Session<H>, numbering: Numbering, set: &SequenceSet, name: &str) -> Reply {
    let host = &s.host;
    let log = |m: &str| host.log(m);
    let Some(store) = s.store.as_ref() else {
        return Reply::bad("Not authenticated");
    };
    let sel = selected_mailbox!(s);
    let Some(seqs) = sel.resolve(set, numbering) else {
        return Reply::bad("Invalid message sequence number");
    };
    if sel.read_only {
        return Reply::no_code(
            "READ-ONLY",
            "MOVE not allowed: the mailbox is read-only (COPY is)",
        );
    }
    if seqs.is_empty() {
        return Reply::ok("MOVE completed");
    }
    if let Err(r) = super::ensure_inbox(store, name) {
        return r;
    }
    let octets: u64 = seqs
        .iter()
        .filter_map(|&n| sel.mailbox.info(n))
        .map(|i| i.rfc822_size)
        .sum();
    if let Some(r) = super::quota::refuse(&s.host, store, "MOVE", name, seqs.len(), octets) {
        return r;
    }
    let mut dest = match store.open(name, Mode::Append) {
        Ok(d) => d,
        Err(e) => return Reply::mailbox_error("MOVE", &e),
    };
    if dest.is_read_only() {
        return Reply::no_code("READ-ONLY", "MOVE failed: the destination is read-only");
    }
    // 1. The copy, committed and fsynced before the source changes at all.
    let pairs = match sel.mailbox.copy_to(&seqs, &mut dest) {
        Ok(p) => p,
        Err(e) => return Reply::mailbox_error("MOVE", &e),
    };
    let uid_validity = dest.uid_validity();
    if let Err(e) = dest.close() {
        // The messages are in; only a flag write-back of the destination failed.
        log(&format!("MOVE: closing the destination failed: {e}"));
    }
    untagged(
        &mut s.out,
        &format!("OK [{}] Moved", copyuid(uid_validity, &pairs)),
    );
    // 2. What others changed first, so that our EXPUNGE numbers are the client's.
    // New messages (our copy, when the destination is this mailbox) are announced
    // after the expunges, by the report that ends every command.
    if sel.report_changes(&mut s.out, true, numbering, &log, false).is_err() {
        return Reply::no("MOVE failed: the mailbox changed under the session; messages were copied");
    }
    // 3. Expunge exactly the moved messages.
    let uids: Vec<mailbox::uid::Uid> = pairs.iter().map(|p| p.0).collect();
    let mut marked = Vec::new();
    for &u in &uids {
        let Some(seq) = sel.mailbox.seq_of_uid(u) else {
            continue;
        };
        let had = sel
            .mailbox
            .info(seq)
            .is_some_and(|i| i.flags.contains(Flags::DELETED));
        if !had && matches!(sel.mailbox.store(seq, StoreOp::Add, Flags::DELETED, &[]), Ok(true)) {
            marked.push(u);
        }
    }
    let mut before = sel.numbering_snapshot();
    match sel.mailbox.expunge(Some(&uids)) {
        Ok(expunged) => {
            for seq in expunged {
                sel.expunged_from(&mut s.out, seq, &mut before);
            }
            sel.flush_vanished(&mut s.out);
            sel.dirty = false;
            Reply::ok("MOVE completed")
        }
        Err(e) => {
            // Leave the source as the client knew it: the \Deleted was ours.
            for u in marked {
                if let Some(seq) = sel.mailbox.seq_of_uid(u) {
                    let _ = sel
                        .mailbox
                        .store(seq, StoreOp::Remove, Flags::DELETED, &[]);
                }
            }
            log(&format!(
                "{}: MOVE copied but could not expunge: {e}",
                sel.mailbox.path().display()
            ));
            Reply::mailbox_error("MOVE (the messages were copied, not removed)", &e)
        }
    }
}
