//! Search contexts (RFC 5267 §4, CONTEXT=SEARCH): a `SEARCH RETURN (UPDATE)`
//! whose result the server keeps current, telling the client with
//! `* ESEARCH (TAG "t") ADDTO (0 set)` and `REMOVEFROM (0 set)` when messages
//! start or stop matching, whoever changed them: this session, another one, the
//! MTA (all found by [`crate::selected::Selected::report`], which ends every
//! command and runs in IDLE). The position is 0: a SEARCH result has no order
//! beyond the numbers' own (§4.3).
//!
//! A context is kept as its search program and its result as UIDs, so that
//! expunges renumber nothing in it. A message expunged while in a result is
//! taken out with a REMOVEFROM sent before its EXPUNGE, in the numbering the
//! client has then. A session has at most [`MAX_CONTEXTS`]; each is searched
//! again after every command (memory: the UIDs of its result, no message text).

use mailbox::uid::{SeqNumber, Uid};

use crate::respond::{self, untagged};
use crate::selected::Selected;
use crate::types::{Numbering, SearchKey, SequenceSet};

/// Live contexts per session; an UPDATE beyond them is answered without one
/// (`OK [NOUPDATE "tag"]`, RFC 5267 §4.2).
pub const MAX_CONTEXTS: usize = 5;

/// One live search context.
#[derive(Debug, Clone)]
pub struct Context {
    /// The tag of the SEARCH that made it; ESEARCH updates name it.
    pub tag: String,
    /// UID SEARCH answers UIDs, SEARCH message numbers.
    pub numbering: Numbering,
    pub charset: Option<String>,
    pub keys: Vec<SearchKey>,
    /// The result, ascending.
    pub uids: Vec<Uid>,
}

fn line(out: &mut Vec<u8>, c: &Context, what: &str, numbers: &[u32]) {
    let mut l = b"ESEARCH (TAG ".to_vec();
    respond::string(&mut l, c.tag.as_bytes());
    l.push(b')');
    if c.numbering.is_uid() {
        l.extend_from_slice(b" UID");
    }
    l.extend_from_slice(format!(" {what} (0 {})", SequenceSet::compact(numbers)).as_bytes());
    untagged(out, &String::from_utf8_lossy(&l));
}

/// Before `* seq EXPUNGE` of the message with `uid`: takes it out of each result
/// holding it, with a REMOVEFROM in the numbering the client has now.
pub fn expunging(sel: &mut Selected, out: &mut Vec<u8>, seq: SeqNumber, uid: Uid) {
    let mut contexts = std::mem::take(&mut sel.contexts);
    for c in &mut contexts {
        if let Ok(i) = c.uids.binary_search(&uid) {
            c.uids.remove(i);
            let n = if c.numbering.is_uid() {
                uid.get()
            } else {
                seq.get()
            };
            line(out, c, "REMOVEFROM", &[n]);
        }
    }
    sel.contexts = contexts;
}

/// Searches each context again and reports the difference.
pub fn refresh(sel: &mut Selected, out: &mut Vec<u8>) {
    if sel.contexts.is_empty() {
        return;
    }
    let mut contexts = std::mem::take(&mut sel.contexts);
    for c in &mut contexts {
        let Ok(found) = crate::command::search::matching(sel, c.charset.as_deref(), &c.keys) else {
            continue; // the charset was checked when the context was made
        };
        let now: Vec<Uid> = found.hits.iter().map(|h| h.info.uid).collect();
        let number = |u: &Uid| -> Option<u32> {
            if c.numbering.is_uid() {
                Some(u.get())
            } else {
                sel.mailbox.seq_of_uid(*u).map(SeqNumber::get)
            }
        };
        let gone: Vec<u32> = c
            .uids
            .iter()
            .filter(|u| now.binary_search(u).is_err())
            .filter_map(number)
            .collect();
        let new: Vec<u32> = now
            .iter()
            .filter(|u| c.uids.binary_search(u).is_err())
            .filter_map(number)
            .collect();
        if !gone.is_empty() {
            line(out, c, "REMOVEFROM", &gone);
        }
        if !new.is_empty() {
            line(out, c, "ADDTO", &new);
        }
        c.uids = now;
    }
    // A search of text batches its reads under one shared lock; this runs after
    // the command's own batch ended, so it must end its own, or a later write by
    // this process (APPEND to this mailbox) would wait for it forever.
    sel.mailbox.release_read_lock();
    sel.contexts = contexts;
}
