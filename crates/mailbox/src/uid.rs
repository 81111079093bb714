//! The numbers IMAP and POP3 name messages by, as types (RFC 3501 §2.3.1).
//!
//! A UID, a UIDVALIDITY and a message sequence number are all non-zero 32-bit
//! numbers on the wire, and all bare `u32` would let one pass for another, a zero
//! slip in, or `+ 1` wrap. Here each is its own type over [`NonZeroU32`]: zero cannot
//! be made, and the only successor operation is checked, so running out of numbers is
//! a value the caller must handle (for UIDs: a new UIDVALIDITY and renumbering,
//! RFC 3501 §2.3.1.1), never a wrap or a saturated duplicate. A [`ModSeq`]
//! (CONDSTORE, RFC 7162 §3.1) is the same idea over 63 bits.

use std::fmt;
use std::num::{NonZeroU32, NonZeroU64};

/// A message's unique identifier (RFC 3501 §2.3.1.1): strictly ascending in the
/// mailbox, never reused within one UIDVALIDITY.
///
/// Any non-zero number is a `Uid` (a client may name UID 4294967295), but only up to
/// [`Uid::MAX_ASSIGNED`] is ever given to a message, so that UIDNEXT, one more, is
/// still a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uid(NonZeroU32);

impl Uid {
    pub const MIN: Uid = Uid(NonZeroU32::MIN);
    /// The highest UID a message may have: UIDNEXT after it is 4294967295.
    pub const MAX_ASSIGNED: Uid = match NonZeroU32::new(u32::MAX - 1) {
        Some(n) => Uid(n),
        None => Uid(NonZeroU32::MIN),
    };

    /// The UID `n`; `None` for zero.
    pub const fn new(n: u32) -> Option<Uid> {
        match NonZeroU32::new(n) {
            Some(n) => Some(Uid(n)),
            None => None,
        }
    }

    /// The UID `n` when a message may have it (`1..=MAX_ASSIGNED`): what a UID read
    /// from a file must be before it is even considered.
    pub fn assignable(n: u32) -> Option<Uid> {
        Uid::new(n).filter(|u| *u <= Uid::MAX_ASSIGNED)
    }

    pub const fn get(self) -> u32 {
        self.0.get()
    }

    /// The UID after this one for a new message; `None` when the UID space is
    /// exhausted (RFC 3501 §2.3.1.1: then a new UIDVALIDITY is due).
    pub fn next(self) -> Option<Uid> {
        self.0.checked_add(1).map(Uid).filter(|u| *u <= Uid::MAX_ASSIGNED)
    }

    /// The first UID after `last` (none assigned: 1); `None` when exhausted.
    pub fn after(last: Option<Uid>) -> Option<Uid> {
        match last {
            Some(u) => u.next(),
            None => Some(Uid::MIN),
        }
    }

    /// UIDNEXT for a mailbox whose highest UID is `last` (RFC 3501 §2.3.1.1): always a
    /// number, since no assigned UID exceeds [`Uid::MAX_ASSIGNED`].
    pub fn next_after(last: Option<Uid>) -> Uid {
        match last {
            Some(u) => Uid(u.0.saturating_add(1)),
            None => Uid::MIN,
        }
    }

    /// The `count` UIDs after `last`, if they all fit: the first and the last.
    pub fn range_after(last: Option<Uid>, count: usize) -> Option<(Uid, Uid)> {
        let first = Uid::after(last)?;
        let more = u32::try_from(count.checked_sub(1)?).ok()?;
        let end = Uid::new(first.get().checked_add(more)?)?;
        (end <= Uid::MAX_ASSIGNED).then_some((first, end))
    }

    /// `first..=last` (for the UIDs of a MULTIAPPEND or COPY).
    pub fn span(first: Uid, last: Uid) -> impl Iterator<Item = Uid> {
        (first.get()..=last.get()).filter_map(Uid::new)
    }
}

/// A mailbox's UIDVALIDITY (RFC 3501 §2.3.1.1): UIDs are valid with it; a new one
/// says they all changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uidvalidity(NonZeroU32);

impl Uidvalidity {
    pub const MIN: Uidvalidity = Uidvalidity(NonZeroU32::MIN);

    /// The UIDVALIDITY `n`; `None` for zero (which RFC 3501 does not allow).
    pub const fn new(n: u32) -> Option<Uidvalidity> {
        match NonZeroU32::new(n) {
            Some(n) => Some(Uidvalidity(n)),
            None => None,
        }
    }

    pub const fn get(self) -> u32 {
        self.0.get()
    }
}

/// A message sequence number (RFC 3501 §2.3.1.2): the message's position, from 1,
/// which changes when messages before it are expunged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeqNumber(NonZeroU32);

impl SeqNumber {
    pub const MIN: SeqNumber = SeqNumber(NonZeroU32::MIN);

    /// The sequence number `n`; `None` for zero.
    pub const fn new(n: u32) -> Option<SeqNumber> {
        match NonZeroU32::new(n) {
            Some(n) => Some(SeqNumber(n)),
            None => None,
        }
    }

    /// The sequence number of the message at 0-based position `index`.
    pub fn from_index(index: usize) -> Option<SeqNumber> {
        SeqNumber::new(u32::try_from(index.checked_add(1)?).ok()?)
    }

    /// The 0-based position of the message.
    pub fn index(self) -> usize {
        self.0.get() as usize - 1
    }

    pub const fn get(self) -> u32 {
        self.0.get()
    }

    /// The next sequence number; `None` past 4294967295.
    pub fn next(self) -> Option<SeqNumber> {
        self.0.checked_add(1).map(SeqNumber)
    }
}

/// A modification sequence (RFC 7162 §3.1): a non-zero number below 2^63 that a
/// message gets whenever its flags or keywords change, and the mailbox whenever
/// anything in it changes (HIGHESTMODSEQ). Within one UIDVALIDITY it only grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModSeq(NonZeroU64);

impl ModSeq {
    pub const MIN: ModSeq = ModSeq(NonZeroU64::MIN);
    /// 2^63 - 1: `mod-sequence-value` is 63-bit (RFC 7162 §7).
    pub const MAX: ModSeq = match NonZeroU64::new(i64::MAX as u64) {
        Some(n) => ModSeq(n),
        None => ModSeq(NonZeroU64::MIN),
    };

    /// The modseq `n`; `None` for zero or past 2^63 - 1.
    pub const fn new(n: u64) -> Option<ModSeq> {
        match NonZeroU64::new(n) {
            Some(n) if n.get() <= i64::MAX as u64 => Some(ModSeq(n)),
            _ => None,
        }
    }

    pub const fn get(self) -> u64 {
        self.0.get()
    }

    /// The next modseq; `None` when the 63 bits are used up.
    pub fn next(self) -> Option<ModSeq> {
        self.0.checked_add(1).map(ModSeq).filter(|m| *m <= ModSeq::MAX)
    }
}

impl fmt::Display for ModSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<ModSeq> for u64 {
    fn from(n: ModSeq) -> u64 {
        n.0.get()
    }
}

/// Compares with a plain number (what tests and wire values are).
impl PartialEq<u64> for ModSeq {
    fn eq(&self, other: &u64) -> bool {
        self.0.get() == *other
    }
}

macro_rules! number_traits {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
        impl From<$t> for u32 {
            fn from(n: $t) -> u32 {
                n.0.get()
            }
        }
        impl TryFrom<u32> for $t {
            type Error = ZeroNumber;
            fn try_from(n: u32) -> Result<$t, ZeroNumber> {
                NonZeroU32::new(n).map(Self).ok_or(ZeroNumber)
            }
        }
        /// Compares with a plain number (what tests and wire values are).
        impl PartialEq<u32> for $t {
            fn eq(&self, other: &u32) -> bool {
                self.0.get() == *other
            }
        }
    };
}

number_traits!(Uid);
number_traits!(Uidvalidity);
number_traits!(SeqNumber);

/// Zero where RFC 3501 wants a non-zero number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZeroNumber;

impl fmt::Display for ZeroNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("zero is not a message number")
    }
}

impl std::error::Error for ZeroNumber {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_successor_is_checked_and_uidnext_stays_a_number() {
        assert_eq!(Uid::new(0), None);
        assert_eq!(Uid::after(None), Some(Uid::MIN));
        assert_eq!(Uid::new(7).and_then(Uid::next), Uid::new(8));
        assert_eq!(Uid::MAX_ASSIGNED.next(), None);
        assert_eq!(Uid::new(u32::MAX).and_then(Uid::next), None);
        assert_eq!(Uid::next_after(Some(Uid::MAX_ASSIGNED)), u32::MAX);
        assert_eq!(Uid::assignable(u32::MAX), None);
        assert_eq!(Uid::assignable(u32::MAX - 1), Some(Uid::MAX_ASSIGNED));
        assert_eq!(Uid::assignable(0), None);
    }

    #[test]
    fn uid_ranges_fit_or_are_none() {
        let u = |n| Uid::new(n).unwrap();
        assert_eq!(Uid::range_after(Some(u(4)), 3), Some((u(5), u(7))));
        assert_eq!(Uid::range_after(None, 1), Some((u(1), u(1))));
        assert_eq!(Uid::range_after(Some(u(4)), 0), None);
        assert_eq!(Uid::range_after(Some(u(u32::MAX - 3)), 2), Some((u(u32::MAX - 2), u(u32::MAX - 1))));
        assert_eq!(Uid::range_after(Some(u(u32::MAX - 3)), 3), None);
        assert_eq!(Uid::span(u(5), u(7)).collect::<Vec<_>>(), [5, 6, 7]);
    }

    #[test]
    fn sequence_numbers_and_positions() {
        assert_eq!(SeqNumber::from_index(0), Some(SeqNumber::MIN));
        assert_eq!(SeqNumber::new(3).map(SeqNumber::index), Some(2));
        assert_eq!(SeqNumber::new(u32::MAX).and_then(SeqNumber::next), None);
        assert_eq!(SeqNumber::try_from(0), Err(ZeroNumber));
        assert_eq!(Uidvalidity::new(0), None);
        assert_eq!(format!("{}", Uidvalidity::new(42).unwrap()), "42");
    }

    #[test]
    fn modseq_is_63_bit_and_its_successor_is_checked() {
        assert_eq!(ModSeq::new(0), None);
        assert_eq!(ModSeq::new(1), Some(ModSeq::MIN));
        assert_eq!(ModSeq::new(i64::MAX as u64), Some(ModSeq::MAX));
        assert_eq!(ModSeq::new(i64::MAX as u64 + 1), None);
        assert_eq!(ModSeq::MAX.next(), None);
        assert_eq!(ModSeq::new(41).and_then(ModSeq::next), ModSeq::new(42));
        assert_eq!(format!("{}", ModSeq::new(7).unwrap()), "7");
    }
}
