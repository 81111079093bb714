//! A parsed message: its bytes plus the cached structure, and what IMAP
//! asks of it (ENVELOPE, BODYSTRUCTURE, BODY, sections, BINARY, SEARCH text).

use std::borrow::Cow;

use crate::address::address_list_text;
use crate::body::{BodyPart, Nested, Parser, Span};
use crate::charset::decode_lossy;
use crate::encoded_word::{decode_header_value, Raw8bit};
use crate::envelope::Envelope;
use crate::error::Error;
use crate::header::{filter_fields, split_header, Header};
use crate::section::{Form, Section, SectionData, SectionKind};
use crate::text::{contains_ci, Needle};
use crate::transfer::TransferEncoding;

/// Everything parsed from a message, as plain owned data: what a mailbox
/// cache stores so that reopening needs no reparse (see
/// [`Message::with_structure`]). Offsets refer to the message bytes it was
/// built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Structure {
    /// Length of the header, blank line included.
    pub header_len: usize,
    /// The ENVELOPE.
    pub envelope: Envelope,
    /// The body tree.
    pub body: BodyPart,
}

impl Structure {
    /// Parses `bytes` (CRLF line ends expected; see the crate docs).
    pub fn parse(bytes: &[u8]) -> Structure {
        let header_len = split_header(bytes);
        let envelope = Envelope::parse(&bytes[..header_len]);
        let body = Parser::new(bytes).message_body(
            Span::new(0, header_len),
            Span::new(header_len, bytes.len()),
            0,
        );
        Structure {
            header_len,
            envelope,
            body,
        }
    }
}

/// A message borrowed from the mailbox, with its structure.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    bytes: &'a [u8],
    structure: Cow<'a, Structure>,
}

/// One text SEARCH BODY looks in.
enum PartText<'t> {
    /// Already UTF-8 (the header of an encapsulated message).
    Utf8(&'t str),
    /// Octets in a charset (a leaf part, its transfer encoding removed).
    Encoded(&'t [u8], &'t [u8]),
}

/// Where a section path leads.
struct Target<'s> {
    part: &'s BodyPart,
}

impl<'a> Message<'a> {
    /// Parses a message. Never fails: any octets give some structure.
    pub fn parse(bytes: &'a [u8]) -> Message<'a> {
        Message {
            bytes,
            structure: Cow::Owned(Structure::parse(bytes)),
        }
    }

    /// Wraps bytes with a structure parsed from the very same bytes earlier
    /// (a cache hit). Offsets in a structure of other bytes give wrong
    /// sections, never a panic.
    pub fn with_structure(bytes: &'a [u8], structure: &'a Structure) -> Message<'a> {
        Message {
            bytes,
            structure: Cow::Borrowed(structure),
        }
    }

    /// The message octets.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The parsed structure.
    pub fn structure(&self) -> &Structure {
        &self.structure
    }

    /// The structure, owned, for caching.
    pub fn into_structure(self) -> Structure {
        self.structure.into_owned()
    }

    /// The header octets, blank line included (`RFC822.HEADER`, `BODY[HEADER]`).
    pub fn header_bytes(&self) -> &'a [u8] {
        self.bytes
            .get(..self.structure.header_len)
            .unwrap_or(self.bytes)
    }

    /// The text octets (RFC822.TEXT, `BODY[TEXT]`).
    pub fn text_bytes(&self) -> &'a [u8] {
        self.bytes
            .get(self.structure.header_len..)
            .unwrap_or_default()
    }

    /// The parsed header fields.
    pub fn header(&self) -> Header<'a> {
        Header::parse(self.header_bytes())
    }

    /// RFC822.SIZE: the octet count.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    /// The ENVELOPE.
    pub fn envelope(&self) -> &Envelope {
        &self.structure.envelope
    }

    /// The top body part.
    pub fn body(&self) -> &BodyPart {
        &self.structure.body
    }

    /// The ENVELOPE value, e.g. `("date" "subject" ...)`.
    pub fn envelope_imap(&self) -> Vec<u8> {
        self.structure.envelope.to_imap()
    }

    /// The BODYSTRUCTURE value.
    pub fn bodystructure_imap(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.structure.body.write_imap(&mut v, true);
        v
    }

    /// The BODY value (no extension data).
    pub fn body_imap(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.structure.body.write_imap(&mut v, false);
        v
    }

    /// Follows a part path the way c-client's `mail_body` does: a number
    /// picks a part of a multipart, or must be 1 for a non-multipart; a
    /// message/rfc822 part is entered when more numbers follow.
    fn resolve(&self, path: &[u32]) -> Option<Target<'_>> {
        let mut b = &self.structure.body;
        for (k, &n) in path.iter().enumerate() {
            if n == 0 {
                return None;
            }
            if let Nested::Multipart(parts) = &b.nested {
                b = parts.get(n as usize - 1)?;
            } else if n != 1 {
                return None;
            }
            if k + 1 < path.len() {
                match &b.nested {
                    Nested::Message(m) => b = &m.body,
                    Nested::Multipart(_) => {}
                    Nested::None => return None,
                }
            }
        }
        Some(Target { part: b })
    }

    /// Whether the part path names a part (the way [`Message::section`] follows it).
    pub fn has_part(&self, path: &[u32]) -> bool {
        self.resolve(path).is_some()
    }

    fn span(&self, s: Span) -> &'a [u8] {
        s.of(self.bytes)
    }

    /// The data of `BODY[section]`. A path that leads nowhere, or HEADER/TEXT
    /// on a part that is not a message/rfc822, gives empty data, as UW does.
    pub fn section(&self, section: &Section) -> SectionData<'a> {
        let auto = |d: &'a [u8]| SectionData {
            data: Cow::Borrowed(d),
            form: Form::Auto,
        };
        let empty = || auto(&[]);
        let (header, text): (&'a [u8], &'a [u8]) = if section.path.is_empty() {
            (self.header_bytes(), self.text_bytes())
        } else {
            match &section.kind {
                SectionKind::Full | SectionKind::Mime => (&[], &[]),
                _ => match self.resolve(&section.path).and_then(|t| t.part.message()) {
                    Some(m) => (self.span(m.header), self.span(m.text)),
                    None => return empty(),
                },
            }
        };
        match &section.kind {
            SectionKind::Full if section.path.is_empty() => auto(self.bytes),
            SectionKind::Full => match self.resolve(&section.path) {
                Some(t) => auto(self.span(t.part.content)),
                None => empty(),
            },
            SectionKind::Mime => match self.resolve(&section.path) {
                Some(t) => auto(self.span(t.part.mime_header)),
                None => empty(),
            },
            SectionKind::Header => auto(header),
            SectionKind::Text => SectionData {
                data: Cow::Borrowed(text),
                form: Form::Literal,
            },
            SectionKind::HeaderFields(names) => SectionData {
                data: Cow::Owned(filter_fields(header, names, false)),
                form: Form::Auto,
            },
            SectionKind::HeaderFieldsNot(names) => SectionData {
                data: Cow::Owned(filter_fields(header, names, true)),
                form: Form::Auto,
            },
        }
    }

    /// The data of `BINARY[path]` (RFC 3516): the part's content with its
    /// transfer encoding removed. An empty path is the whole message.
    /// [`Error::UnknownCte`] for an encoding we cannot decode (the server
    /// answers `NO [UNKNOWN-CTE]`).
    pub fn binary(&self, path: &[u32]) -> Result<SectionData<'a>, Error> {
        if path.is_empty() {
            return Ok(SectionData {
                data: Cow::Borrowed(self.bytes),
                form: Form::Binary,
            });
        }
        let Some(t) = self.resolve(path) else {
            return Ok(SectionData {
                data: Cow::Borrowed(&[]),
                form: Form::Binary,
            });
        };
        let raw = self.span(t.part.content);
        let data = match TransferEncoding::from_name(&t.part.encoding) {
            TransferEncoding::Identity => Cow::Borrowed(raw),
            TransferEncoding::Unknown => return Err(Error::UnknownCte),
            enc => Cow::Owned(enc.decode(raw).unwrap_or_default()),
        };
        Ok(SectionData {
            data,
            form: Form::Binary,
        })
    }

    /// `BINARY.SIZE[path]`.
    pub fn binary_size(&self, path: &[u32]) -> Result<usize, Error> {
        self.binary(path).map(|d| d.data.len())
    }

    // ---- SEARCH -------------------------------------------------------

    /// The decoded (RFC 2047) values of every field called `name`, for
    /// SEARCH HEADER/SUBJECT. Raw 8-bit octets become U+FFFD, as in UW.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.header()
            .get_all(name)
            .map(|f| decode_header_value(&f.unfolded(), Raw8bit::Replace))
            .collect()
    }

    /// SEARCH HEADER `name` `needle`: some field `name` contains `needle`
    /// (case-insensitive; an empty needle matches any such field).
    pub fn header_matches(&self, name: &str, needle: &str) -> bool {
        self.header_values(name)
            .iter()
            .any(|v| contains_ci(v, needle))
    }

    /// SEARCH FROM/TO/CC/BCC: the address list, written out as RFC 5322
    /// text with names decoded, contains `needle`. `field` is one of
    /// `from`, `to`, `cc`, `bcc`, `sender`, `reply-to`.
    pub fn address_matches(&self, field: &str, needle: &str) -> bool {
        let e = &self.structure.envelope;
        let list = match field.to_ascii_lowercase().as_str() {
            "from" => &e.from,
            "to" => &e.to,
            "cc" => &e.cc,
            "bcc" => &e.bcc,
            "sender" => &e.sender,
            "reply-to" => &e.reply_to,
            _ => return false,
        };
        if list.is_empty() {
            return false;
        }
        let text = decode_header_value(&address_list_text(list), Raw8bit::Replace);
        contains_ci(&text, needle)
    }

    /// The decoded text of every body part, in order, for SEARCH BODY: leaf
    /// parts with their transfer encoding removed and their charset
    /// converted to UTF-8, and the header of each encapsulated message.
    pub fn body_texts(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.any_text(&self.structure.body, &mut |t| {
            out.push(match t {
                PartText::Utf8(s) => s.to_owned(),
                PartText::Encoded(charset, bytes) => decode_lossy(charset, bytes).into_owned(),
            });
            false
        });
        out
    }

    /// Calls `f` on each text of [`Message::body_texts`] in order, until it
    /// answers true; true if it did.
    fn any_text(&self, b: &BodyPart, f: &mut dyn FnMut(PartText<'_>) -> bool) -> bool {
        match &b.nested {
            Nested::Multipart(parts) => parts.iter().any(|p| self.any_text(p, f)),
            Nested::Message(m) => {
                f(PartText::Utf8(&decode_header_value(
                    self.span(m.header),
                    Raw8bit::Replace,
                ))) || self.any_text(&m.body, f)
            }
            Nested::None => {
                let raw = self.span(b.content);
                let decoded = match TransferEncoding::from_name(&b.encoding) {
                    TransferEncoding::Identity | TransferEncoding::Unknown => Cow::Borrowed(raw),
                    enc => Cow::Owned(enc.decode(raw).unwrap_or_default()),
                };
                let charset = b.param("CHARSET").unwrap_or(b"US-ASCII");
                f(PartText::Encoded(charset, &decoded))
            }
        }
    }

    /// SEARCH BODY.
    pub fn body_matches(&self, needle: &str) -> bool {
        if needle.is_empty() {
            return true;
        }
        self.body_contains(&Needle::new(needle), &mut Vec::new())
    }

    fn body_contains(&self, needle: &Needle, scratch: &mut Vec<u8>) -> bool {
        self.any_text(&self.structure.body, &mut |t| match t {
            PartText::Utf8(s) => needle.found_in(s, scratch),
            PartText::Encoded(charset, bytes) => needle.found_in_charset(charset, bytes, scratch),
        })
    }

    /// SEARCH TEXT: header or body.
    pub fn text_matches(&self, needle: &str) -> bool {
        if needle.is_empty() {
            return true;
        }
        let needle = Needle::new(needle);
        let mut scratch = Vec::new();
        needle.found_in(
            &decode_header_value(self.header_bytes(), Raw8bit::Replace),
            &mut scratch,
        ) || self.body_contains(&needle, &mut scratch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &[u8] = b"From: A <a@b>\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nd=E9j=E0 vu\r\n--x\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--x\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n--x--\r\n";

    #[test]
    fn sections_address_parts_and_nested_messages() {
        let m = Message::parse(M);
        let get = |s: &str| {
            m.section(&Section::parse(s.as_bytes()).unwrap())
                .data
                .into_owned()
        };
        assert_eq!(get("1"), b"d=E9j=E0 vu");
        assert!(get("1.MIME").starts_with(b"Content-Type: text/plain"));
        assert_eq!(get("2"), b"Subject: inner\r\n\r\ninner body");
        assert_eq!(get("2.HEADER"), b"Subject: inner\r\n\r\n");
        assert_eq!(get("2.TEXT"), b"inner body");
        assert_eq!(get("2.1"), b"inner body");
        assert_eq!(get("2.1.MIME"), b"");
        assert_eq!(get("2.HEADER.FIELDS (SUBJECT)"), b"Subject: inner\r\n\r\n");
        assert_eq!(get("1.HEADER"), b"");
        assert_eq!(get("9"), b"");
        assert_eq!(get("1.1"), b"");
        assert_eq!(get("HEADER.FIELDS (FROM)"), b"From: A <a@b>\r\n\r\n");
        assert_eq!(get(""), M);
    }

    #[test]
    fn binary_decodes_or_reports_unknown_cte() {
        let m = Message::parse(M);
        assert_eq!(&*m.binary(&[1]).unwrap().data, b"d\xe9j\xe0 vu");
        assert_eq!(m.binary(&[3]), Err(Error::UnknownCte));
        assert_eq!(m.binary_size(&[2]).unwrap(), 28);
    }

    #[test]
    fn search_helpers_decode() {
        let m = Message::parse(M);
        assert!(m.header_matches("subject", "CAFÉ"));
        assert!(m.address_matches("from", "a <a@B>"));
        assert!(!m.address_matches("cc", ""));
        assert!(m.body_matches("DÉJÀ"));
        assert!(m.body_matches("inner"));
        assert!(m.text_matches("boundary=x"));
        assert!(!m.body_matches("boundary=x"));
    }

    #[test]
    fn cached_structure_gives_the_same_answers() {
        let s = Structure::parse(M);
        let m = Message::with_structure(M, &s);
        assert_eq!(
            m.bodystructure_imap(),
            Message::parse(M).bodystructure_imap()
        );
    }
}
