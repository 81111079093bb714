//! The lexical core of RFC 3501 §9: atoms, quoted strings, literals, astrings,
//! numbers, and keywords.

use std::borrow::Cow;

use super::{PResult, Parser};
use crate::types::Tag;

/// ATOM-CHAR: any CHAR except atom-specials `( ) { SP CTL % * " \ ]`.
pub fn is_atom_char(b: u8) -> bool {
    (0x21..0x7f).contains(&b)
        && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
}

/// ASTRING-CHAR: ATOM-CHAR or `]`.
pub fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

/// A tag octet: ASTRING-CHAR except `+`.
pub fn is_tag_char(b: u8) -> bool {
    is_astring_char(b) && b != b'+'
}

pub(crate) fn tag(p: &mut Parser<'_>) -> PResult<Tag> {
    let start = p.pos;
    while p.peek().is_some_and(is_tag_char) {
        p.pos += 1;
    }
    if p.pos == start {
        return p.fail("a tag");
    }
    // Tag octets are ASCII, so this is valid UTF-8.
    let s = String::from_utf8_lossy(&p.input[start..p.pos]).into_owned();
    Ok(Tag(s))
}

/// 1*ATOM-CHAR.
pub(crate) fn atom<'a>(p: &mut Parser<'a>) -> PResult<&'a [u8]> {
    let start = p.pos;
    while p.peek().is_some_and(is_atom_char) {
        p.pos += 1;
    }
    if p.pos == start {
        return p.fail("an atom");
    }
    Ok(&p.input[start..p.pos])
}

/// A keyword-like word: letters, digits, `.` and `-` (command names, FETCH items,
/// search keys); compared case-insensitively by the caller.
pub(crate) fn word<'a>(p: &mut Parser<'a>) -> PResult<&'a [u8]> {
    let start = p.pos;
    while p
        .peek()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        p.pos += 1;
    }
    if p.pos == start {
        return p.fail("a keyword");
    }
    Ok(&p.input[start..p.pos])
}

/// A word, upper-cased.
pub(crate) fn upper_word(p: &mut Parser<'_>) -> PResult<String> {
    Ok(String::from_utf8_lossy(word(p)?).to_ascii_uppercase())
}

/// number: 1*DIGIT within 32 bits.
pub(crate) fn number(p: &mut Parser<'_>) -> PResult<u32> {
    let start = p.pos;
    let mut n: u64 = 0;
    while let Some(d) = p.peek().filter(u8::is_ascii_digit) {
        n = n * 10 + u64::from(d - b'0');
        if n > u64::from(u32::MAX) {
            return p.fail("a number below 2^32");
        }
        p.pos += 1;
    }
    if p.pos == start {
        return p.fail("a number");
    }
    Ok(n as u32)
}

/// mod-sequence-valzer (RFC 7162 §7): 1*DIGIT, at most 2^63 - 1, zero allowed.
pub(crate) fn mod_sequence_valzer(p: &mut Parser<'_>) -> PResult<u64> {
    let start = p.pos;
    let mut n: u64 = 0;
    while let Some(d) = p.peek().filter(u8::is_ascii_digit) {
        n = match n.checked_mul(10).and_then(|n| n.checked_add(u64::from(d - b'0'))) {
            Some(n) if n <= i64::MAX as u64 => n,
            _ => return p.fail("a mod-sequence below 2^63"),
        };
        p.pos += 1;
    }
    if p.pos == start {
        return p.fail("a mod-sequence");
    }
    Ok(n)
}

/// mod-sequence-value (RFC 7162 §7): a non-zero mod-sequence.
pub(crate) fn mod_sequence_value(p: &mut Parser<'_>) -> PResult<mailbox::uid::ModSeq> {
    let at = p.pos;
    match mailbox::uid::ModSeq::new(mod_sequence_valzer(p)?) {
        Some(m) => Ok(m),
        None => {
            p.pos = at;
            p.fail("a non-zero mod-sequence")
        }
    }
}

/// nz-number: a number other than 0.
pub(crate) fn nz_number(p: &mut Parser<'_>) -> PResult<u32> {
    let at = p.pos;
    let n = number(p)?;
    if n == 0 {
        p.pos = at;
        return p.fail("a non-zero number");
    }
    Ok(n)
}

/// quoted: DQUOTE *QUOTED-CHAR DQUOTE; `\` escapes only `"` and `\`.
pub(crate) fn quoted(p: &mut Parser<'_>) -> PResult<Vec<u8>> {
    p.expect(b'"', "a quoted string")?;
    let mut out = Vec::new();
    loop {
        match p.peek() {
            None => return p.fail("the end of a quoted string"),
            Some(b'"') => {
                p.pos += 1;
                return Ok(out);
            }
            Some(b'\\') => {
                p.pos += 1;
                match p.peek() {
                    Some(c @ (b'"' | b'\\')) => out.push(c),
                    _ => return p.fail("\\\" or \\\\ after a backslash"),
                }
                p.pos += 1;
            }
            Some(0 | b'\r' | b'\n') => return p.fail("a quoted string without CR, LF or NUL"),
            Some(c) => {
                out.push(c);
                p.pos += 1;
            }
        }
    }
}

/// literal: `{n}` or `{n+}`, the line end, then `n` octets. `allow_nul` for message
/// data (APPEND); other literals may not hold NUL (CHAR8).
pub(crate) fn literal<'a>(p: &mut Parser<'a>, allow_nul: bool) -> PResult<&'a [u8]> {
    p.expect(b'{', "a literal")?;
    let n = number(p)? as usize;
    p.eat(b'+');
    p.expect(b'}', "'}' closing a literal size")?;
    if !p.eat(b'\r') {
        // A bare LF is tolerated; the receiver found the marker either way.
    }
    p.expect(b'\n', "a line end after a literal size")?;
    let end = p.pos.checked_add(n).filter(|&e| e <= p.input.len());
    let Some(end) = end else {
        return p.fail("literal data of the announced size");
    };
    let data = &p.input[p.pos..end];
    if !allow_nul && data.contains(&0) {
        return p.fail("a literal without NUL");
    }
    p.pos = end;
    Ok(data)
}

/// literal8 (RFC 3516): `~{n}` or `~{n+}`, the line end, then `n` octets of any
/// value.
pub(crate) fn literal8<'a>(p: &mut Parser<'a>) -> PResult<&'a [u8]> {
    p.expect(b'~', "a literal8")?;
    literal(p, true)
}

/// nstring: string / NIL.
pub(crate) fn nstring<'a>(p: &mut Parser<'a>) -> PResult<Option<Cow<'a, [u8]>>> {
    if p.input[p.pos..].len() >= 3 && p.input[p.pos..p.pos + 3].eq_ignore_ascii_case(b"NIL") {
        p.pos += 3;
        return Ok(None);
    }
    string(p).map(Some)
}

/// string: quoted / literal.
pub(crate) fn string<'a>(p: &mut Parser<'a>) -> PResult<Cow<'a, [u8]>> {
    match p.peek() {
        Some(b'"') => Ok(Cow::Owned(quoted(p)?)),
        Some(b'{') => Ok(Cow::Borrowed(literal(p, false)?)),
        _ => p.fail("a string"),
    }
}

/// astring: 1*ASTRING-CHAR / string.
pub(crate) fn astring<'a>(p: &mut Parser<'a>) -> PResult<Cow<'a, [u8]>> {
    match p.peek() {
        Some(b'"' | b'{') => string(p),
        _ => {
            let start = p.pos;
            while p.peek().is_some_and(is_astring_char) {
                p.pos += 1;
            }
            if p.pos == start {
                return p.fail("an atom or a string");
            }
            Ok(Cow::Borrowed(&p.input[start..p.pos]))
        }
    }
}

/// An astring that must be UTF-8 (user names, passwords, charsets).
pub(crate) fn astring_utf8(p: &mut Parser<'_>) -> PResult<String> {
    let at = p.pos;
    let s = astring(p)?;
    match String::from_utf8(s.into_owned()) {
        Ok(s) => Ok(s),
        Err(_) => {
            p.pos = at;
            p.fail("UTF-8 text")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on<'a, T>(
        s: &'a [u8],
        f: impl FnOnce(&mut Parser<'a>) -> PResult<T>,
    ) -> PResult<(T, usize)> {
        let mut p = Parser::new(s);
        f(&mut p).map(|v| (v, p.pos))
    }

    #[test]
    fn strings() {
        assert_eq!(on(b"\"a\\\"b\\\\\"", quoted).unwrap().0, b"a\"b\\");
        assert!(on(b"\"a\\b\"", quoted).is_err());
        assert!(on(b"\"abc", quoted).is_err());
        assert_eq!(
            on(b"{3}\r\nabcdef", |p| literal(p, false)).unwrap(),
            (&b"abc"[..], 8)
        );
        assert_eq!(on(b"{3+}\nabc", |p| literal(p, false)).unwrap().0, b"abc");
        assert!(on(b"{4}\r\nabc", |p| literal(p, false)).is_err());
        assert!(on(b"{1}\r\n\0", |p| literal(p, false)).is_err());
        assert_eq!(&*on(b"ab]c d", astring).unwrap().0, b"ab]c");
        assert!(on(b"(x", astring).is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(on(b"4294967295", number).unwrap().0, u32::MAX);
        assert!(on(b"4294967296", number).is_err());
        assert!(on(b"0", nz_number).is_err());
        assert_eq!(on(b"007", nz_number).unwrap().0, 7);
    }
}
