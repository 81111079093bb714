//! Search and sort contexts (RFC 5267 §4, CONTEXT=SEARCH and CONTEXT=SORT): a
//! `SEARCH` or `SORT` with `RETURN (UPDATE)` whose result the server keeps
//! current, telling the client with `* ESEARCH (TAG "t") ADDTO (position set)`
//! and `REMOVEFROM (position set)` when messages start or stop matching,
//! whoever changed them: this session, another one, the MTA (all found by
//! [`crate::selected::Selected::report`], which ends every command and runs in
//! IDLE). A SEARCH result has no order beyond the numbers' own: its position is
//! always 0. A SORT result's positions are 1-based places in the sorted list:
//! a REMOVEFROM names where the messages were (with the earlier removals of the
//! same update already applied), an ADDTO where they are in the new result.
//!
//! A context is kept as its program and its result as UIDs, so that expunges
//! renumber nothing in it. A message expunged while in a result is taken out
//! with a REMOVEFROM sent before its EXPUNGE, in the numbering the client has
//! then. A session has at most [`MAX_CONTEXTS`]; each is searched (and sorted)
//! again after every command: memory is the UIDs of its result, no message text.

use mailbox::uid::{SeqNumber, Uid};

use crate::command::search::{compact_in_order, no_update};
use crate::respond::{self, untagged};
use crate::selected::Selected;
use crate::types::{Numbering, SearchKey, SearchReturn, SequenceSet, SortCriterion};

/// Live contexts per session; an UPDATE beyond them is answered without one
/// (`* NO [NOUPDATE "tag"]`, RFC 5267 §4.2).
pub const MAX_CONTEXTS: usize = 5;

/// One live context.
#[derive(Debug, Clone)]
pub struct Context {
    /// The tag of the command that made it; ESEARCH updates name it.
    pub tag: String,
    /// The UID forms answer UIDs, the others message numbers.
    pub numbering: Numbering,
    pub charset: Option<String>,
    pub keys: Vec<SearchKey>,
    /// The sort criteria of a SORT context; `None` for a SEARCH context.
    pub sort: Option<Vec<SortCriterion>>,
    /// The result: ascending for a SEARCH context, in sort order for a SORT one.
    pub uids: Vec<Uid>,
}

/// Keeps `context` when its command asked for UPDATE alone or with ALL and
/// there is room; else says NOUPDATE (the result was given once). MIN, MAX,
/// COUNT, SAVE and PARTIAL with UPDATE are answered without updates, which the
/// RFC allows (§4.2). A context with a live tag replaces it.
pub fn keep(sel: &mut Selected, out: &mut Vec<u8>, ret: &[SearchReturn], context: Context) {
    let plain = ret
        .iter()
        .all(|o| matches!(o, SearchReturn::Update | SearchReturn::All));
    sel.contexts.retain(|c| c.tag != context.tag);
    if !plain {
        no_update(out, &context.tag, "Only ALL results are kept current");
    } else if sel.contexts.len() >= MAX_CONTEXTS {
        no_update(
            out,
            &context.tag,
            "Too many contexts; this result is not kept current",
        );
    } else {
        sel.contexts.push(context);
    }
}

/// `* ESEARCH (TAG "t") [UID] what (position set ...)`.
fn line(out: &mut Vec<u8>, c: &Context, what: &str, groups: &[(usize, Vec<u32>)]) {
    let mut l = b"ESEARCH (TAG ".to_vec();
    respond::string(&mut l, c.tag.as_bytes());
    l.push(b')');
    if c.numbering.is_uid() {
        l.extend_from_slice(b" UID");
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(pos, numbers)| {
            let set = if c.sort.is_some() {
                compact_in_order(numbers)
            } else {
                SequenceSet::compact(numbers)
            };
            format!("{pos} {set}")
        })
        .collect();
    l.extend_from_slice(format!(" {what} ({})", parts.join(" ")).as_bytes());
    untagged(out, &String::from_utf8_lossy(&l));
}

/// Before `* seq EXPUNGE` of the message with `uid`: takes it out of each result
/// holding it, with a REMOVEFROM in the numbering the client has now.
pub fn expunging(sel: &mut Selected, out: &mut Vec<u8>, seq: SeqNumber, uid: Uid) {
    let mut contexts = std::mem::take(&mut sel.contexts);
    for c in &mut contexts {
        let at = if c.sort.is_some() {
            c.uids.iter().position(|u| *u == uid)
        } else {
            c.uids.binary_search(&uid).ok()
        };
        if let Some(i) = at {
            c.uids.remove(i);
            let n = if c.numbering.is_uid() {
                uid.get()
            } else {
                seq.get()
            };
            let pos = if c.sort.is_some() { i + 1 } else { 0 };
            line(out, c, "REMOVEFROM", &[(pos, vec![n])]);
        }
    }
    sel.contexts = contexts;
}

/// Runs of consecutive members of `list` that `pick` selects, each with its
/// 1-based position: in `list` itself (additions), or among the members kept
/// before it (`removing`).
fn runs(list: &[Uid], pick: impl Fn(&Uid) -> bool, removing: bool) -> Vec<(usize, Vec<Uid>)> {
    let mut out: Vec<(usize, Vec<Uid>)> = Vec::new();
    let mut kept = 0;
    let mut last_picked = false;
    for (i, u) in list.iter().enumerate() {
        if pick(u) {
            // Removals are placed in the list as it is once the earlier ones
            // are gone; additions at their place in the new list.
            let pos = if removing { kept + 1 } else { i + 1 };
            match out.last_mut() {
                Some(run) if last_picked => run.1.push(*u),
                _ => out.push((pos, vec![*u])),
            }
            last_picked = true;
        } else {
            kept += 1;
            last_picked = false;
        }
    }
    out
}

/// Searches (and sorts) each context again and reports the difference.
pub fn refresh(sel: &mut Selected, out: &mut Vec<u8>) {
    if sel.contexts.is_empty() {
        return;
    }
    let mut contexts = std::mem::take(&mut sel.contexts);
    for c in &mut contexts {
        let now: Vec<Uid> = match &c.sort {
            None => match crate::command::search::matching(sel, c.charset.as_deref(), &c.keys) {
                Ok(found) => found.hits.iter().map(|h| h.info.uid).collect(),
                Err(_) => continue, // the charset was checked when it was made
            },
            Some(criteria) => {
                match crate::command::sort::sorted_uids(
                    sel,
                    c.charset.as_deref(),
                    &c.keys,
                    criteria,
                ) {
                    Some(v) => v,
                    None => continue,
                }
            }
        };
        let number = |u: &Uid| -> Option<u32> {
            if c.numbering.is_uid() {
                Some(u.get())
            } else {
                sel.mailbox.seq_of_uid(*u).map(SeqNumber::get)
            }
        };
        let numbered = |groups: Vec<(usize, Vec<Uid>)>, sorted: bool| -> Vec<(usize, Vec<u32>)> {
            groups
                .into_iter()
                .map(|(pos, us)| {
                    (
                        if sorted { pos } else { 0 },
                        us.iter().filter_map(number).collect::<Vec<u32>>(),
                    )
                })
                .filter(|(_, ns)| !ns.is_empty())
                .collect()
        };
        let sorted = c.sort.is_some();
        let (mut old_set, mut now_set) = (c.uids.clone(), now.clone());
        old_set.sort_unstable();
        now_set.sort_unstable();
        let gone = runs(&c.uids, |u| now_set.binary_search(u).is_err(), true);
        let new = runs(&now, |u| old_set.binary_search(u).is_err(), false);
        let (gone, new) = if sorted {
            (numbered(gone, true), numbered(new, true))
        } else {
            // One group each: a search result is a set.
            let flat = |g: Vec<(usize, Vec<Uid>)>| {
                let all: Vec<Uid> = g.into_iter().flat_map(|(_, v)| v).collect();
                if all.is_empty() {
                    Vec::new()
                } else {
                    vec![(0, all)]
                }
            };
            (numbered(flat(gone), false), numbered(flat(new), false))
        };
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

#[cfg(test)]
mod tests {
    use super::runs;
    use mailbox::uid::Uid;

    fn uids(v: &[u32]) -> Vec<Uid> {
        v.iter().filter_map(|&n| Uid::new(n)).collect()
    }

    #[test]
    fn runs_of_neighbours_with_their_positions() {
        let list = uids(&[5, 4, 3, 2, 1]);
        let pick = |u: &Uid| [4, 3, 1].contains(&u.get());
        // Removing 4 and 3 from the second place leaves 5, 2, 1: then 1 is third.
        assert_eq!(
            runs(&list, pick, true),
            vec![(2, uids(&[4, 3])), (3, uids(&[1]))]
        );
        // Added, they are at their places in the list.
        assert_eq!(
            runs(&list, pick, false),
            vec![(2, uids(&[4, 3])), (5, uids(&[1]))]
        );
        assert!(runs(&list, |_| false, true).is_empty());
    }
}
