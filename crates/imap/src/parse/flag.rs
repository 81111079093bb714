//! flag, flag-list (RFC 3501 §9).

use super::core::atom;
use super::{PResult, Parser};
use crate::types::Flag;

pub(crate) fn flag(p: &mut Parser<'_>) -> PResult<Flag> {
    if p.eat(b'\\') {
        let name = atom(p)?;
        let name = String::from_utf8_lossy(name).into_owned();
        return Ok(match name.to_ascii_lowercase().as_str() {
            "seen" => Flag::Seen,
            "answered" => Flag::Answered,
            "flagged" => Flag::Flagged,
            "deleted" => Flag::Deleted,
            "draft" => Flag::Draft,
            _ => Flag::Extension(name),
        });
    }
    let name = atom(p)?;
    Ok(Flag::Keyword(String::from_utf8_lossy(name).into_owned()))
}

/// "(" [flag *(SP flag)] ")"
pub(crate) fn flag_list(p: &mut Parser<'_>) -> PResult<Vec<Flag>> {
    p.expect(b'(', "a flag list")?;
    let mut out = Vec::new();
    if p.eat(b')') {
        return Ok(out);
    }
    loop {
        out.push(flag(p)?);
        if p.eat(b')') {
            return Ok(out);
        }
        p.sp()?;
    }
}

/// flag *(SP flag), as STORE also accepts without parentheses.
pub(crate) fn flags_bare(p: &mut Parser<'_>) -> PResult<Vec<Flag>> {
    let mut out = vec![flag(p)?];
    while p.eat(b' ') {
        out.push(flag(p)?);
    }
    Ok(out)
}
