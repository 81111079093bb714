//! mailbox and list-mailbox (RFC 3501 §9), decoded from modified UTF-7.

use super::core::{astring, is_atom_char, string};
use super::{ErrorKind, Fail, PResult, Parser};
use crate::utf7;

fn decode(p: &mut Parser<'_>, at: usize, wire: &[u8]) -> PResult<String> {
    let n = p.names;
    p.names += 1;
    match utf7::decode(wire) {
        Ok(name) => Ok(name),
        Err(_) if p.invalid_names.is_some() => {
            p.invalid_names.get_or_insert_with(Vec::new).push(n);
            Ok(String::from_utf8_lossy(wire).into_owned())
        }
        Err(e) => Err(Fail {
            kind: ErrorKind::MailboxEncoding(e),
            at,
        }),
    }
}

/// mailbox = "INBOX" / astring; INBOX in any case is INBOX.
pub(crate) fn mailbox(p: &mut Parser<'_>) -> PResult<String> {
    let at = p.pos;
    let wire = astring(p)?;
    if wire.eq_ignore_ascii_case(b"INBOX") {
        p.names += 1;
        return Ok("INBOX".to_string());
    }
    decode(p, at, &wire)
}

fn is_list_char(b: u8) -> bool {
    is_atom_char(b) || matches!(b, b'%' | b'*' | b']')
}

/// list-mailbox = 1*list-char / string
pub(crate) fn list_mailbox(p: &mut Parser<'_>) -> PResult<String> {
    let at = p.pos;
    let wire = match p.peek() {
        Some(b'"' | b'{') => string(p)?,
        _ => {
            let start = p.pos;
            while p.peek().is_some_and(is_list_char) {
                p.pos += 1;
            }
            if p.pos == start {
                return p.fail("a mailbox pattern");
            }
            std::borrow::Cow::Borrowed(&p.input[start..p.pos])
        }
    };
    decode(p, at, &wire)
}
