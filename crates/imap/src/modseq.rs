//! CONDSTORE and QRESYNC (RFC 7162): what the session has switched on, and the
//! answers that tell a client what changed since a modseq it knew.
//!
//! The modseqs themselves are the mailbox library's ([`mailbox::modseq`]): every
//! change, by this session, another one or another program, has one, and they
//! survive sessions. Here they become wire responses: `MODSEQ (n)` in FETCH,
//! `[HIGHESTMODSEQ n]`, and `VANISHED (EARLIER)` from the library's expunge
//! history, or, where that history no longer reaches, the superset RFC 7162
//! §3.2.5.1 allows: every UID the client named that is not in the mailbox (less
//! what its sequence match data shows to be still in place).

use mailbox::mailbox::Mailbox;
use mailbox::uid::{ModSeq, Uid};

use crate::host::Host;
use crate::respond::untagged;
use crate::session::Session;
use crate::types::SequenceSet;

/// What the client has switched on, for the rest of the connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enabled {
    /// FETCH responses carry UID and MODSEQ (RFC 7162 §3.1).
    pub condstore: bool,
    /// VANISHED instead of EXPUNGE, and SELECT's QRESYNC parameter (§3.2.3).
    pub qresync: bool,
}

/// Switches CONDSTORE on, for ENABLE or a CONDSTORE enabling command (RFC 7162
/// §3.1). The first time, with a mailbox selected, the client is told its
/// HIGHESTMODSEQ, which the SELECT that opened it did not need to say.
pub(crate) fn enable_condstore<H: Host>(s: &mut Session<H>) {
    if s.enabled.condstore {
        return;
    }
    s.enabled.condstore = true;
    if let Some(sel) = s.selected.as_mut() {
        sel.enabled.condstore = true;
        highest_modseq(&mut s.out, &sel.mailbox);
    }
}

/// `* OK [HIGHESTMODSEQ n]` (RFC 7162 §3.1.2.1).
pub(crate) fn highest_modseq(out: &mut Vec<u8>, mb: &Mailbox) {
    untagged(
        out,
        &format!("OK [HIGHESTMODSEQ {}] Highest", mb.highest_modseq()),
    );
}

/// UID runs as a sequence set (`3:5,9`); the runs ascending and apart.
pub(crate) fn runs_text(runs: &[(u32, u32)]) -> String {
    let mut out = String::new();
    for &(a, b) in runs {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&a.to_string());
        if b > a {
            out.push(':');
            out.push_str(&b.to_string());
        }
    }
    out
}

/// UIDs (ascending) as runs.
pub(crate) fn uid_runs(uids: &[Uid]) -> Vec<(u32, u32)> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for u in uids.iter().map(|u| u.get()) {
        match runs.last_mut() {
            Some((_, b)) if b.checked_add(1) == Some(u) => *b = u,
            Some((_, b)) if *b >= u => {}
            _ => runs.push((u, u)),
        }
    }
    runs
}

/// The intersection of two lists of ascending, disjoint runs.
fn intersect(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        if lo <= hi {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Sorts and merges runs that touch or overlap.
fn normalize(mut runs: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    runs.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(runs.len());
    for (a, b) in runs {
        match out.last_mut() {
            Some((_, hi)) if a <= hi.saturating_add(1) => *hi = (*hi).max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// The UIDs a set names, as runs, reaching up to the last UID ever assigned (so
/// that `*` covers messages expunged after the highest one left).
pub(crate) fn uid_scope(mb: &Mailbox, set: Option<&SequenceSet>) -> Vec<(u32, u32)> {
    let last = mb.uid_next().get().saturating_sub(1);
    if last == 0 {
        return Vec::new();
    }
    match set {
        None => vec![(1, last)],
        Some(set) => normalize(
            set.intervals(last)
                .into_iter()
                .filter_map(|(a, b)| (a <= last).then_some((a, b.min(last))))
                .collect(),
        ),
    }
}

/// The UIDs within `scope` expunged after `since` (a mod-sequence-valzer): exactly,
/// from the library's history, or, where it does not reach back so far, every UID
/// of `scope` not in the mailbox, above the highest UID that `seq_match` shows to
/// be still at its message number (none below it can have gone: mail only
/// arrives at the end).
pub(crate) fn vanished_since(
    mb: &Mailbox,
    since: u64,
    scope: &[(u32, u32)],
    seq_match: Option<&(SequenceSet, SequenceSet)>,
) -> Vec<(u32, u32)> {
    if let Some(exact) = ModSeq::new(since).and_then(|m| mb.vanished_since(m)) {
        let runs = normalize(exact.iter().map(|(a, b)| (a.get(), b.get())).collect());
        return intersect(&runs, scope);
    }
    let floor = seq_match.map_or(0, |m| still_in_place(mb, m));
    let mut out = Vec::new();
    let present: Vec<u32> = mb.uid_iter().map(Uid::get).collect();
    for &(a, b) in scope {
        let a = a.max(floor.saturating_add(1));
        if a > b {
            continue;
        }
        // The gaps between the UIDs present in a..=b.
        let mut next = a;
        let start = present.partition_point(|&u| u < a);
        for &u in present[start..].iter().take_while(|&&u| u <= b) {
            if u > next {
                out.push((next, u - 1));
            }
            next = u.saturating_add(1);
        }
        if next <= b && next >= a {
            out.push((next, b));
        }
    }
    out
}

/// The highest UID of the client's sequence match data that is still at the
/// message number the client had it at (0: none), RFC 7162 §3.2.5.2. Data whose
/// two sets differ in size, or that is larger than the mailbox, is ignored.
fn still_in_place(mb: &Mailbox, (seqs, uids): &(SequenceSet, SequenceSet)) -> u32 {
    let count = mb.count();
    let limit = count as usize + 1;
    let (Some(seqs), Some(uids)) = (expand(seqs, count, limit), expand(uids, u32::MAX, limit)) else {
        return 0;
    };
    if seqs.len() != uids.len() {
        return 0;
    }
    seqs.iter()
        .zip(&uids)
        .filter(|&(&seq, &uid)| {
            Uid::new(uid)
                .and_then(|u| mb.seq_of_uid(u))
                .is_some_and(|s| s.get() == seq)
        })
        .map(|(_, &uid)| uid)
        .max()
        .unwrap_or(0)
}

/// The numbers of a set in its order, if there are at most `limit`.
fn expand(set: &SequenceSet, largest: u32, limit: usize) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for (a, b) in set.intervals(largest) {
        if (b - a) as usize >= limit || out.len() + (b - a) as usize >= limit {
            return None;
        }
        out.extend(a..=b);
    }
    Some(out)
}

/// `* VANISHED (EARLIER) set`, when there is anything in it.
pub(crate) fn vanished_earlier(out: &mut Vec<u8>, runs: &[(u32, u32)]) {
    if !runs.is_empty() {
        untagged(out, &format!("VANISHED (EARLIER) {}", runs_text(runs)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_and_intersect() {
        let u = |v: &[u32]| v.iter().map(|&n| Uid::new(n).unwrap()).collect::<Vec<_>>();
        assert_eq!(uid_runs(&u(&[1, 2, 3, 5, 7, 8])), [(1, 3), (5, 5), (7, 8)]);
        assert_eq!(runs_text(&[(1, 3), (5, 5)]), "1:3,5");
        assert_eq!(intersect(&[(1, 10), (20, 30)], &[(5, 25)]), [(5, 10), (20, 25)]);
        assert_eq!(normalize(vec![(5, 6), (1, 2), (3, 4), (9, 9)]), [(1, 6), (9, 9)]);
    }
}
