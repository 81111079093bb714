//! Sequence sets (RFC 3501 §9 `sequence-set`): message numbers or UIDs, with `*`
//! for the largest in use and ranges in either order.

/// What a command's message numbers are: sequence numbers, or UIDs in its `UID` form
/// (RFC 3501 §6.4.8). One value through parsing, resolving and answering, so that a
/// `true` passed for "with UID FETCH items" cannot stand for "these are UIDs".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbering {
    Sequence,
    Uid,
}

impl Numbering {
    pub fn is_uid(self) -> bool {
        self == Numbering::Uid
    }
}

/// A number in a set: a value (never 0) or `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqNumber {
    Value(u32),
    Largest,
}

impl SeqNumber {
    fn resolve(self, largest: u32) -> u32 {
        match self {
            SeqNumber::Value(n) => n,
            SeqNumber::Largest => largest,
        }
    }
}

/// `a` or `a:b` (`a` and `b` in any order; `a:a` for a single number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqRange(pub SeqNumber, pub SeqNumber);

/// A list of ranges, as the client wrote it. The parser never makes an empty one
/// except for `$` (RFC 5182 `seq-last-command`, the saved search result): an empty
/// list is `$` ([`SequenceSet::SAVED`]), resolved by the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceSet(pub Vec<SeqRange>);

impl SequenceSet {
    /// `$`: the result of the last `SEARCH RETURN (SAVE)`.
    pub const SAVED: SequenceSet = SequenceSet(Vec::new());

    /// Whether this is `$`.
    pub fn is_saved(&self) -> bool {
        self.0.is_empty()
    }

    /// A list of numbers as sorted, merged intervals.
    pub fn compact_intervals<N: Copy + Into<u32>>(numbers: &[N]) -> Vec<(u32, u32)> {
        let mut v: Vec<u32> = numbers.iter().map(|&n| n.into()).collect();
        v.sort_unstable();
        v.dedup();
        let mut out: Vec<(u32, u32)> = Vec::new();
        for n in v {
            match out.last_mut() {
                Some(last) if n == last.1.saturating_add(1) => last.1 = n,
                _ => out.push((n, n)),
            }
        }
        out
    }

    /// The compact form of a list of numbers (`1:3,7`), sorted and merged; what
    /// ESEARCH ALL and COPYUID send.
    pub fn compact<N: Copy + Into<u32>>(numbers: &[N]) -> String {
        let parts: Vec<String> = SequenceSet::compact_intervals(numbers)
            .into_iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}:{b}")
                }
            })
            .collect();
        parts.join(",")
    }

    /// The set as sorted, merged, inclusive intervals, with `*` standing for `largest`.
    /// For UIDs, `largest` is the highest UID in use (RFC 3501 §6.4.8: `n:*` always
    /// includes it, even when `n` is higher); on an empty mailbox `*` is 0 and matches
    /// nothing.
    pub fn intervals(&self, largest: u32) -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> = self
            .0
            .iter()
            .map(|r| {
                let (a, b) = (r.0.resolve(largest), r.1.resolve(largest));
                (a.min(b), a.max(b))
            })
            .collect();
        v.sort_unstable();
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            match out.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        out
    }

    /// Whether `n` is in the set (intervals from [`SequenceSet::intervals`]).
    pub fn contains_in(intervals: &[(u32, u32)], n: u32) -> bool {
        let i = intervals.partition_point(|&(_, b)| b < n);
        intervals.get(i).is_some_and(|&(a, _)| a <= n)
    }

    /// Message sequence numbers of a non-UID command: every number must exist
    /// (`1..=count`); `None` when one does not (the client gets BAD).
    pub fn message_numbers(&self, count: u32) -> Option<Vec<u32>> {
        if count == 0 {
            return None;
        }
        let intervals = self.intervals(count);
        if intervals.iter().any(|&(a, b)| a == 0 || b > count) {
            return None;
        }
        Some(intervals.into_iter().flat_map(|(a, b)| a..=b).collect())
    }

    /// Whether the set is a single `*` or uses `*` anywhere.
    pub fn uses_largest(&self) -> bool {
        self.0
            .iter()
            .any(|r| r.0 == SeqNumber::Largest || r.1 == SeqNumber::Largest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SeqNumber::*;

    fn set(v: &[(SeqNumber, SeqNumber)]) -> SequenceSet {
        SequenceSet(v.iter().map(|&(a, b)| SeqRange(a, b)).collect())
    }

    #[test]
    fn ranges_merge_and_reverse() {
        let s = set(&[
            (Value(5), Value(3)),
            (Value(7), Value(7)),
            (Value(6), Largest),
        ]);
        assert_eq!(s.intervals(10), vec![(3, 10)]);
        assert_eq!(s.message_numbers(10).unwrap(), (3..=10).collect::<Vec<_>>());
        assert_eq!(s.message_numbers(6), None, "7 does not exist");
    }

    #[test]
    fn uid_star_beyond_the_top_still_includes_the_top() {
        let s = set(&[(Value(50), Largest)]);
        let iv = s.intervals(20);
        assert_eq!(iv, vec![(20, 50)]);
        assert!(SequenceSet::contains_in(&iv, 20));
        assert!(!SequenceSet::contains_in(&iv, 19));
    }

    #[test]
    fn compact_ranges() {
        assert_eq!(SequenceSet::compact(&[5u32, 1, 2, 3, 9, 10, 7]), "1:3,5,7,9:10");
        assert_eq!(SequenceSet::compact::<u32>(&[]), "");
        assert_eq!(SequenceSet::compact(&[4u32, 4]), "4");
    }

    #[test]
    fn star_in_an_empty_mailbox_is_an_error_for_sequence_numbers() {
        assert_eq!(set(&[(Largest, Largest)]).message_numbers(0), None);
    }
}
