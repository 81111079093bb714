//! sequence-set = (seq-number / seq-range) *("," sequence-set)

use super::core::nz_number;
use super::{PResult, Parser};
use crate::types::{SeqNumber, SeqRange, SequenceSet};

fn seq_number(p: &mut Parser<'_>) -> PResult<SeqNumber> {
    if p.eat(b'*') {
        return Ok(SeqNumber::Largest);
    }
    nz_number(p).map(SeqNumber::Value)
}

/// sequence-set, or `$` (RFC 5182 `seq-last-command`), which stands alone.
pub(crate) fn sequence_set(p: &mut Parser<'_>) -> PResult<SequenceSet> {
    if p.eat(b'$') {
        return Ok(SequenceSet::SAVED);
    }
    let mut ranges = Vec::new();
    loop {
        let a = seq_number(p)?;
        let b = if p.eat(b':') { seq_number(p)? } else { a };
        ranges.push(SeqRange(a, b));
        if !p.eat(b',') {
            break;
        }
    }
    Ok(SequenceSet(ranges))
}

/// Whether a sequence set starts here (for search keys).
pub(crate) fn starts_sequence(p: &Parser<'_>) -> bool {
    p.peek()
        .is_some_and(|b| b == b'*' || b == b'$' || b.is_ascii_digit())
}
