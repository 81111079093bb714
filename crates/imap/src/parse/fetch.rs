//! FETCH items: fetch-att, section, partial (RFC 3501 §9; BINARY from RFC 3516 §6).

use super::core::{astring, number, nz_number, upper_word};
use super::{PResult, Parser};
use crate::types::{FetchAttribute, FetchItems, Section, SectionKind};

/// "ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")"
pub(crate) fn fetch_items(p: &mut Parser<'_>) -> PResult<FetchItems> {
    if p.eat(b'(') {
        let mut items = vec![fetch_att(p)?];
        while p.eat(b' ') {
            items.push(fetch_att(p)?);
        }
        p.expect(b')', "')' closing the FETCH items")?;
        return Ok(FetchItems::List(items));
    }
    let at = p.pos;
    let macro_ = match upper_word(p)?.as_str() {
        "ALL" => Some(FetchItems::All),
        "FULL" => Some(FetchItems::Full),
        "FAST" => Some(FetchItems::Fast),
        _ => None,
    };
    if let Some(m) = macro_ {
        return Ok(m);
    }
    p.pos = at;
    Ok(FetchItems::List(vec![fetch_att(p)?]))
}

pub(crate) fn fetch_att(p: &mut Parser<'_>) -> PResult<FetchAttribute> {
    let at = p.pos;
    let name = upper_word(p)?;
    let bracket = p.peek() == Some(b'[');
    Ok(match (name.as_str(), bracket) {
        ("ENVELOPE", false) => FetchAttribute::Envelope,
        ("FLAGS", false) => FetchAttribute::Flags,
        ("INTERNALDATE", false) => FetchAttribute::InternalDate,
        ("RFC822", false) => FetchAttribute::Rfc822,
        ("RFC822.HEADER", false) => FetchAttribute::Rfc822Header,
        ("RFC822.SIZE", false) => FetchAttribute::Rfc822Size,
        ("RFC822.TEXT", false) => FetchAttribute::Rfc822Text,
        ("BODY", false) => FetchAttribute::Body,
        ("BODYSTRUCTURE", false) => FetchAttribute::BodyStructure,
        ("UID", false) => FetchAttribute::Uid,
        ("MODSEQ", false) => FetchAttribute::ModSeq,
        ("BODY" | "BODY.PEEK", true) => {
            let section = section(p)?;
            let partial = partial(p)?;
            FetchAttribute::BodySection {
                peek: name == "BODY.PEEK",
                section,
                partial,
            }
        }
        ("BINARY" | "BINARY.PEEK", true) => {
            let path = section_binary(p)?;
            let partial = partial(p)?;
            FetchAttribute::Binary {
                peek: name == "BINARY.PEEK",
                path,
                partial,
            }
        }
        ("BINARY.SIZE", true) => FetchAttribute::BinarySize {
            path: section_binary(p)?,
        },
        _ => {
            p.pos = at;
            return p.fail("a FETCH item");
        }
    })
}

/// section-part = nz-number *("." nz-number); stops before "." followed by a letter.
fn section_part(p: &mut Parser<'_>) -> PResult<Vec<u32>> {
    let mut path = vec![nz_number(p)?];
    while p.peek() == Some(b'.') && p.input.get(p.pos + 1).is_some_and(u8::is_ascii_digit) {
        p.pos += 1;
        if path.len() >= 64 {
            return p.fail("a shorter part path");
        }
        path.push(nz_number(p)?);
    }
    Ok(path)
}

/// section = "[" [section-spec] "]"
pub(crate) fn section(p: &mut Parser<'_>) -> PResult<Section> {
    p.expect(b'[', "'[' opening a section")?;
    if p.eat(b']') {
        return Ok(Section::full());
    }
    let path = if p.peek().is_some_and(|b| b.is_ascii_digit()) {
        let path = section_part(p)?;
        if p.eat(b']') {
            return Ok(Section::new(path, SectionKind::Full));
        }
        p.expect(b'.', "'.' before a section text")?;
        path
    } else {
        Vec::new()
    };
    let at = p.pos;
    let kind = match upper_word(p)?.as_str() {
        "HEADER" => SectionKind::Header,
        "TEXT" => SectionKind::Text,
        "MIME" if !path.is_empty() => SectionKind::Mime,
        "HEADER.FIELDS" => {
            p.sp()?;
            SectionKind::HeaderFields(header_list(p)?)
        }
        "HEADER.FIELDS.NOT" => {
            p.sp()?;
            SectionKind::HeaderFieldsNot(header_list(p)?)
        }
        _ => {
            p.pos = at;
            return p.fail("HEADER, HEADER.FIELDS, TEXT or MIME");
        }
    };
    p.expect(b']', "']' closing a section")?;
    Ok(Section::new(path, kind))
}

/// header-list = "(" header-fld-name *(SP header-fld-name) ")"
fn header_list(p: &mut Parser<'_>) -> PResult<Vec<Vec<u8>>> {
    p.expect(b'(', "a list of header field names")?;
    let mut names = Vec::new();
    loop {
        let at = p.pos;
        let name = astring(p)?.into_owned();
        // A field name is printable ASCII without ':' (RFC 5322 ftext).
        if name.is_empty() || !name.iter().all(|&b| (33..127).contains(&b) && b != b':') {
            p.pos = at;
            return p.fail("a header field name");
        }
        names.push(name);
        if p.eat(b')') {
            return Ok(names);
        }
        p.sp()?;
    }
}

/// section-binary = "[" [section-part] "]"
fn section_binary(p: &mut Parser<'_>) -> PResult<Vec<u32>> {
    p.expect(b'[', "'[' opening a section")?;
    if p.eat(b']') {
        return Ok(Vec::new());
    }
    let path = section_part(p)?;
    p.expect(b']', "']' closing a section")?;
    Ok(path)
}

/// "<" number "." nz-number ">"
fn partial(p: &mut Parser<'_>) -> PResult<Option<(u32, u32)>> {
    if !p.eat(b'<') {
        return Ok(None);
    }
    let origin = number(p)?;
    p.expect(b'.', "'.' in a partial range")?;
    let octets = nz_number(p)?;
    p.expect(b'>', "'>' closing a partial range")?;
    Ok(Some((origin, octets)))
}
