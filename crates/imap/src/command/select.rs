//! SELECT and EXAMINE (RFC 3501 §6.3.1, §6.3.2). Selecting closes the mailbox
//! selected before, even when the new one cannot be opened, and says so with
//! `* OK [CLOSED]` (RFC 7162 §3.2.11) before anything about the new one.
//!
//! Every successful SELECT says the mailbox's HIGHESTMODSEQ (RFC 7162 §3.1.2.1:
//! modseqs are kept for every mailbox here, so there is no NOMODSEQ). The
//! CONDSTORE parameter switches CONDSTORE on; the QRESYNC parameter (§3.2.5),
//! once ENABLE QRESYNC was given, adds what changed since the client's modseq:
//! `* VANISHED (EARLIER)` for what was expunged, then a FETCH of the flags of
//! every message changed, both within the UIDs the client knows.

use mailbox::mailbox::Mode;

use super::user_store;
use crate::host::Host;
use crate::modseq;
use crate::respond::{self, untagged, Reply};
use crate::selected::Selected;
use crate::session::Session;
use crate::types::{Numbering, SelectParams};

pub(crate) fn run<H: Host>(s: &mut Session<H>, name: &str, examine: bool, params: &SelectParams) -> Reply {
    let what = if examine { "EXAMINE" } else { "SELECT" };
    if params.qresync.is_some() && !s.enabled.qresync {
        // RFC 7162 §3.2.5: BAD without ENABLE QRESYNC.
        return Reply::bad(format!("{what} QRESYNC not allowed: ENABLE QRESYNC first"));
    }
    if s.selected.is_some() {
        s.deselect();
        untagged(&mut s.out, "OK [CLOSED] Previous mailbox closed");
    }
    if params.condstore {
        s.enabled.condstore = true;
    }
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
    let mut sel = Selected::new(mailbox, name.to_string(), read_only);
    sel.enabled = s.enabled;
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
    modseq::highest_modseq(out, mb);
    if let Some(q) = &params.qresync {
        // A client whose UIDVALIDITY is not the mailbox's starts afresh: nothing
        // it knew holds, and the responses above are all it gets (§3.2.5).
        if q.uid_validity == mb.uid_validity() {
            let scope = modseq::uid_scope(mb, q.known_uids.as_ref());
            let gone = modseq::vanished_since(mb, q.modseq.get(), &scope, q.seq_match.as_ref());
            modseq::vanished_earlier(out, &gone);
            for seq in mb.seq_numbers() {
                let Some(info) = mb.info(seq) else { continue };
                if info.modseq > q.modseq
                    && crate::types::SequenceSet::contains_in(&scope, info.uid.get())
                {
                    sel.fetch_flags(out, seq, Numbering::Uid);
                }
            }
        }
    }
    s.selected = Some(sel);
    if read_only {
        Reply::ok_code("READ-ONLY", format!("{what} completed"))
    } else {
        Reply::ok_code("READ-WRITE", format!("{what} completed"))
    }
}
