//! The MIME structure of a message: BODYSTRUCTURE and BODY (RFC 3501
//! §7.4.2), with the byte positions that section fetches need.
//!
//! Parsing follows UW c-client so that answers match UW imapd:
//!
//! - no Content-Type is TEXT/PLAIN; a text part with no parameters gets
//!   `CHARSET` US-ASCII (or X-UNKNOWN when the text has 8-bit octets or is
//!   base64/quoted-printable encoded, ISO-2022-JP when it starts a JIS escape);
//!   default subtypes are PLAIN, MIXED, RFC822, OCTET-STREAM, BASIC and
//!   UNKNOWN for the rest; parts of a multipart/digest default to
//!   MESSAGE/RFC822;
//! - a delimiter is a line that is exactly `--boundary`, optionally followed
//!   by `--`, then optional blanks; the line end before it belongs to it, so
//!   sizes and line counts exclude it; text after the close delimiter is
//!   ignored; a missing close delimiter ends the last part at the end of the
//!   body; a multipart without a boundary parameter or whose boundary never
//!   occurs has one empty TEXT/PLAIN part;
//! - a part's header runs to its first empty line; a part without an empty
//!   line is all header and has an empty body;
//! - sizes are octets and line counts are LF octets of the body, which are
//!   the RFC 3501 CRLF figures for CRLF input (see the crate docs);
//! - a transfer encoding on a multipart or message/rfc822 is ignored for
//!   parsing (the content is parsed as it is), as c-client does.
//!
//! Limits: nesting deeper than [`MAX_DEPTH`] is not followed (a multipart
//! there has one empty text part; a message/rfc822 there has an empty
//! envelope and an empty text body), and at most [`MAX_PARTS`] parts are
//! made per message (delimiters after that are content of the last part).
//! So the structure, and its rendering, stay proportional to the input.

use crate::envelope::Envelope;
use crate::header::{line_end, split_header};
use crate::imap::{write_nstring, write_number, write_string};
use crate::mime::{param, ContentFields, Disposition, Params};

/// Most nesting levels (multipart or message/rfc822) that are parsed.
pub const MAX_DEPTH: usize = 32;
/// Most body parts made for one message.
pub const MAX_PARTS: usize = 10_000;

/// A byte range in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Offset of the first octet.
    pub start: usize,
    /// Number of octets.
    pub len: usize,
}

impl Span {
    /// Range from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start,
            len: end.saturating_sub(start),
        }
    }

    /// Offset just past the last octet.
    pub fn end(&self) -> usize {
        self.start + self.len
    }

    /// The octets of this span in `msg` (empty if out of range).
    pub fn of<'m>(&self, msg: &'m [u8]) -> &'m [u8] {
        msg.get(self.start..self.end()).unwrap_or_default()
    }
}

/// What a body part contains besides its own octets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nested {
    /// A leaf part.
    None,
    /// The parts of a multipart, at least one.
    Multipart(Vec<BodyPart>),
    /// The message inside a message/rfc822 part.
    Message(Box<Encapsulated>),
}

/// A message/rfc822 part's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encapsulated {
    /// Its ENVELOPE.
    pub envelope: Envelope,
    /// Its header (with the blank line), for `n.HEADER`.
    pub header: Span,
    /// Its text, for `n.TEXT`.
    pub text: Span,
    /// Its body.
    pub body: BodyPart,
}

/// One body part: the fields of BODYSTRUCTURE plus where its bytes are.
/// Plain owned data, so it can be cached beside the mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyPart {
    /// Upper-case media type, e.g. `TEXT`.
    pub media_type: Vec<u8>,
    /// Upper-case subtype, e.g. `PLAIN`.
    pub subtype: Vec<u8>,
    /// Content-Type parameters.
    pub params: Params,
    /// Content-ID.
    pub id: Option<Vec<u8>>,
    /// Content-Description.
    pub description: Option<Vec<u8>>,
    /// Upper-case Content-Transfer-Encoding, `7BIT` by default.
    pub encoding: Vec<u8>,
    /// Body size in octets.
    pub size: usize,
    /// Body lines (text/* and message/rfc822).
    pub lines: usize,
    /// Content-MD5.
    pub md5: Option<Vec<u8>>,
    /// Content-Disposition.
    pub disposition: Option<Disposition>,
    /// Content-Language tags, upper-cased.
    pub language: Option<Vec<Vec<u8>>>,
    /// Content-Location.
    pub location: Option<Vec<u8>>,
    /// The part's MIME header, for `n.MIME`; empty for the top body of a
    /// message (its header is the message header).
    pub mime_header: Span,
    /// The part's body octets (after its MIME header).
    pub content: Span,
    /// Sub-parts or the encapsulated message.
    pub nested: Nested,
}

impl BodyPart {
    /// True for multipart/*.
    pub fn is_multipart(&self) -> bool {
        matches!(self.nested, Nested::Multipart(_))
    }

    /// The sub-parts of a multipart (empty otherwise).
    pub fn parts(&self) -> &[BodyPart] {
        match &self.nested {
            Nested::Multipart(p) => p,
            _ => &[],
        }
    }

    /// The encapsulated message of a message/rfc822 part.
    pub fn message(&self) -> Option<&Encapsulated> {
        match &self.nested {
            Nested::Message(m) => Some(m),
            _ => None,
        }
    }

    /// A Content-Type parameter (case-insensitive name).
    pub fn param(&self, name: &str) -> Option<&[u8]> {
        param(&self.params, name)
    }

    /// Appends the BODYSTRUCTURE (`extended`) or BODY value.
    pub fn write_imap(&self, out: &mut Vec<u8>, extended: bool) {
        out.push(b'(');
        if let Nested::Multipart(parts) = &self.nested {
            for p in parts {
                p.write_imap(out, extended);
            }
            out.push(b' ');
            write_string(out, &self.subtype);
            if extended {
                out.push(b' ');
                write_params(out, &self.params);
                self.write_tail(out);
            }
        } else {
            write_string(out, &self.media_type);
            out.push(b' ');
            write_string(out, &self.subtype);
            out.push(b' ');
            write_params(out, &self.params);
            out.push(b' ');
            write_nstring(out, self.id.as_deref());
            out.push(b' ');
            write_nstring(out, self.description.as_deref());
            out.push(b' ');
            write_string(out, &self.encoding);
            out.push(b' ');
            write_number(out, self.size as u64);
            if let Nested::Message(m) = &self.nested {
                out.push(b' ');
                m.envelope.write_imap(out);
                out.push(b' ');
                m.body.write_imap(out, extended);
                out.push(b' ');
                write_number(out, self.lines as u64);
            } else if self.media_type == b"TEXT" {
                out.push(b' ');
                write_number(out, self.lines as u64);
            }
            if extended {
                out.push(b' ');
                write_nstring(out, self.md5.as_deref());
                self.write_tail(out);
            }
        }
        out.push(b')');
    }

    /// disposition, language, location.
    fn write_tail(&self, out: &mut Vec<u8>) {
        out.push(b' ');
        match &self.disposition {
            Some(d) => {
                out.push(b'(');
                write_string(out, &d.kind);
                out.push(b' ');
                write_params(out, &d.params);
                out.push(b')');
            }
            None => out.extend_from_slice(b"NIL"),
        }
        out.push(b' ');
        match &self.language {
            Some(tags) => {
                out.push(b'(');
                for (i, t) in tags.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    write_string(out, t);
                }
                out.push(b')');
            }
            None => out.extend_from_slice(b"NIL"),
        }
        out.push(b' ');
        write_nstring(out, self.location.as_deref());
    }
}

fn write_params(out: &mut Vec<u8>, params: &Params) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (n, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write_string(out, n);
        out.push(b' ');
        write_string(out, v);
    }
    out.push(b')');
}

fn default_subtype(media_type: &[u8]) -> &'static [u8] {
    match media_type {
        b"TEXT" => b"PLAIN",
        b"MULTIPART" => b"MIXED",
        b"MESSAGE" => b"RFC822",
        b"APPLICATION" => b"OCTET-STREAM",
        b"AUDIO" => b"BASIC",
        _ => b"UNKNOWN",
    }
}

/// Builds body trees over one message's bytes.
pub(crate) struct Parser<'a> {
    msg: &'a [u8],
    parts: usize,
}

impl<'a> Parser<'a> {
    pub fn new(msg: &'a [u8]) -> Parser<'a> {
        Parser { msg, parts: 0 }
    }

    /// The top body of a message (or encapsulated message) whose header is
    /// `header` and whose text is `text`.
    pub fn message_body(&mut self, header: Span, text: Span, depth: usize) -> BodyPart {
        let cf = ContentFields::parse(header.of(self.msg));
        self.build(
            cf,
            Span::new(header.start, header.start),
            text,
            depth,
            false,
        )
    }

    fn build(
        &mut self,
        cf: ContentFields,
        mime_header: Span,
        content: Span,
        depth: usize,
        in_digest: bool,
    ) -> BodyPart {
        self.parts += 1;
        let (media_type, subtype) = match cf.media_type {
            Some(t) => {
                let st = cf.subtype.unwrap_or_else(|| default_subtype(&t).to_vec());
                (t, st)
            }
            None if in_digest => (b"MESSAGE".to_vec(), b"RFC822".to_vec()),
            None => (b"TEXT".to_vec(), b"PLAIN".to_vec()),
        };
        let encoding = cf.encoding.unwrap_or_else(|| b"7BIT".to_vec());
        let body = content.of(self.msg);
        let mut part = BodyPart {
            media_type,
            subtype,
            params: cf.params,
            id: cf.id,
            description: cf.description,
            encoding,
            size: content.len,
            lines: 0,
            md5: cf.md5,
            disposition: cf.disposition,
            language: cf.language,
            location: cf.location,
            mime_header,
            content,
            nested: Nested::None,
        };
        match part.media_type.as_slice() {
            b"TEXT" => {
                part.lines = count_lf(body);
                if part.params.is_empty() {
                    let charset = guess_charset(body, &part.encoding);
                    part.params.push((b"CHARSET".to_vec(), charset.to_vec()));
                }
            }
            b"MULTIPART" => {
                let digest = part.subtype == b"DIGEST";
                let mut parts = Vec::new();
                if depth < MAX_DEPTH {
                    if let Some(boundary) = part.param("BOUNDARY").map(<[u8]>::to_vec) {
                        for (start, end) in self.split(content, &boundary) {
                            let whole = Span::new(start, end);
                            let hlen = split_header(whole.of(self.msg));
                            let header = Span::new(start, start + hlen);
                            let cf = ContentFields::parse(header.of(self.msg));
                            parts.push(self.build(
                                cf,
                                header,
                                Span::new(start + hlen, end),
                                depth + 1,
                                digest,
                            ));
                        }
                    }
                }
                if parts.is_empty() {
                    let at = Span::new(content.end(), content.end());
                    parts.push(self.build(ContentFields::default(), at, at, depth + 1, false));
                }
                part.nested = Nested::Multipart(parts);
            }
            b"MESSAGE" if part.subtype == b"RFC822" => {
                part.lines = count_lf(body);
                let (header, text) = if depth < MAX_DEPTH {
                    let hlen = split_header(body);
                    (
                        Span::new(content.start, content.start + hlen),
                        Span::new(content.start + hlen, content.end()),
                    )
                } else {
                    let at = content.end();
                    (Span::new(at, at), Span::new(at, at))
                };
                let envelope = Envelope::parse(header.of(self.msg));
                let body = self.message_body(header, text, depth + 1);
                part.nested = Nested::Message(Box::new(Encapsulated {
                    envelope,
                    header,
                    text,
                    body,
                }));
            }
            _ => {}
        }
        part
    }

    /// Splits a multipart body into part ranges `(start, end)`.
    fn split(&self, content: Span, boundary: &[u8]) -> Vec<(usize, usize)> {
        let msg = self.msg;
        let mut out = Vec::new();
        let mut cur: Option<usize> = None;
        let end = content.end().min(msg.len());
        let start = content.start.min(end);
        let mut needle = Vec::with_capacity(boundary.len() + 2);
        needle.extend_from_slice(b"--");
        needle.extend_from_slice(boundary);
        let finder = memchr::memmem::Finder::new(&needle);
        // Delimiter lines start with `--boundary`: look only where that occurs
        // at the start of a line.
        let mut from = start;
        while let Some(i) = finder.find(&msg[from..end]) {
            let pos = from + i;
            if pos != start && msg[pos - 1] != b'\n' {
                from = pos + 1;
                continue;
            }
            let next = line_end(msg, pos).min(end);
            from = next;
            let Some(close) = delimiter(&msg[pos..next], boundary) else {
                continue;
            };
            if let Some(st) = cur {
                let mut e = pos;
                if e > st && msg[e - 1] == b'\n' {
                    e -= 1;
                    if e > st && msg[e - 1] == b'\r' {
                        e -= 1;
                    }
                }
                out.push((st, e));
            }
            if close || self.parts + out.len() >= MAX_PARTS {
                cur = None;
                break;
            }
            cur = Some(next);
        }
        if let Some(st) = cur {
            out.push((st, end));
        }
        out
    }
}

/// `Some(is_close)` when `line` (with its line end) is a delimiter line.
fn delimiter(line: &[u8], boundary: &[u8]) -> Option<bool> {
    let rest = line.strip_prefix(b"--")?.strip_prefix(boundary)?;
    let (close, rest) = match rest.strip_prefix(b"--") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    rest.iter()
        .all(|&c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        .then_some(close)
}

fn count_lf(s: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', s).count()
}

/// c-client's charset for a text part that has no parameters.
fn guess_charset(body: &[u8], encoding: &[u8]) -> &'static [u8] {
    // Only what comes before the first 8-bit octet can hold a JIS escape
    // that counts.
    let ascii = &body[..first_non_ascii(body)];
    for i in memchr::memchr_iter(0x1b, ascii) {
        if body.get(i + 1) == Some(&b'$') && matches!(body.get(i + 2), Some(b'B' | b'@')) {
            return b"ISO-2022-JP";
        }
    }
    if ascii.len() < body.len() {
        return b"X-UNKNOWN";
    }
    match encoding {
        b"7BIT" | b"8BIT" | b"BINARY" => b"US-ASCII",
        _ => b"X-UNKNOWN",
    }
}

/// Index of the first octet with the high bit set, or the length.
fn first_non_ascii(s: &[u8]) -> usize {
    let mut at = 0;
    for chunk in s.chunks(64) {
        if chunk.is_ascii() {
            at += chunk.len();
        } else {
            return at + chunk.iter().position(|c| !c.is_ascii()).unwrap_or(0);
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bs(msg: &[u8]) -> String {
        let hlen = split_header(msg);
        let mut p = Parser::new(msg);
        let b = p.message_body(Span::new(0, hlen), Span::new(hlen, msg.len()), 0);
        let mut out = Vec::new();
        b.write_imap(&mut out, true);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn no_content_type_is_us_ascii_text() {
        assert_eq!(
            bs(b"Subject: x\r\n\r\nhello\r\n"),
            r#"("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 7 1 NIL NIL NIL NIL)"#
        );
        assert!(bs(b"\r\n\xc3\xa9\r\n").contains("X-UNKNOWN"));
    }

    #[test]
    fn multipart_line_ends_belong_to_the_delimiter() {
        let m = b"Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\n\r\none\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>\r\n\r\n--b--\r\nepilogue\r\n";
        assert_eq!(
            bs(m),
            r#"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3 0 NIL NIL NIL NIL)("TEXT" "HTML" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 5 1 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "b") NIL NIL NIL)"#
        );
    }

    #[test]
    fn missing_boundary_gives_one_empty_part() {
        let m = b"Content-Type: multipart/alternative; boundary=nope\r\n\r\ntext\r\n";
        assert_eq!(
            bs(m),
            r#"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 0 0 NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "nope") NIL NIL NIL)"#
        );
    }

    #[test]
    fn digest_parts_default_to_rfc822() {
        let m = b"Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: s\r\n\r\nbody\r\n--d--\r\n";
        assert!(bs(m).starts_with(r#"(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 18 (NIL "s" "#));
    }

    #[test]
    fn delimiter_lines_must_be_exact() {
        assert_eq!(delimiter(b"--abc\r\n", b"abc"), Some(false));
        assert_eq!(delimiter(b"--abc-- \r\n", b"abc"), Some(true));
        assert_eq!(delimiter(b"--abcdef\r\n", b"abc"), None);
        assert_eq!(delimiter(b"--abc is text\r\n", b"abc"), None);
        assert_eq!(delimiter(b"--abc", b"abc"), Some(false));
    }

    /// The line-by-line splitter the boundary search replaced.
    fn split_by_lines(msg: &[u8], content: Span, boundary: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut cur: Option<usize> = None;
        let mut pos = content.start;
        let end = content.end();
        while pos < end {
            let next = line_end(msg, pos).min(end);
            if let Some(close) = delimiter(&msg[pos..next], boundary) {
                if let Some(st) = cur {
                    let mut e = pos;
                    if e > st && msg[e - 1] == b'\n' {
                        e -= 1;
                        if e > st && msg[e - 1] == b'\r' {
                            e -= 1;
                        }
                    }
                    out.push((st, e));
                }
                if close {
                    cur = None;
                    break;
                }
                cur = Some(next);
            }
            pos = next;
        }
        if let Some(st) = cur {
            out.push((st, end));
        }
        out
    }

    #[test]
    fn boundary_search_splits_like_the_line_scan() {
        let bodies: &[&[u8]] = &[
            b"--b\r\none\r\n--b\r\ntwo\r\n--b--\r\nepilogue",
            b"pre --b\r\nx--b\r\n--b\r\na\r\n--bb\r\n--b \r\nc\r\n--b-- x\r\n--b--",
            b"--b",
            b"--b\n\n--b\n--b\n",
            b"\n--b\r\n--b--\r\n--b\r\n",
            b"no delimiter at all\r\n-- b\r\n",
            b"--b\r\nunterminated",
        ];
        for &body in bodies {
            let p = Parser::new(body);
            for (a, b) in [
                (0, body.len()),
                (1, body.len()),
                (0, body.len().saturating_sub(3)),
            ] {
                let span = Span::new(a, b);
                assert_eq!(
                    p.split(span, b"b"),
                    split_by_lines(body, span, b"b"),
                    "{:?} {a}..{b}",
                    String::from_utf8_lossy(body)
                );
            }
        }
    }

    #[test]
    fn charset_guess_sees_escapes_before_8bit() {
        assert_eq!(guess_charset(b"plain\r\n", b"7BIT"), b"US-ASCII");
        assert_eq!(guess_charset(b"plain", b"BASE64"), b"X-UNKNOWN");
        assert_eq!(guess_charset(b"a\x1b$Bxx\xff", b"7BIT"), b"ISO-2022-JP");
        assert_eq!(guess_charset(b"a\xff\x1b$B", b"7BIT"), b"X-UNKNOWN");
        assert_eq!(guess_charset(b"a\x1b$", b"7BIT"), b"US-ASCII");
        assert_eq!(guess_charset(b"a\x1b\xff@", b"7BIT"), b"X-UNKNOWN");
        let mut long = vec![b'x'; 200];
        long[130] = 0xe9;
        assert_eq!(first_non_ascii(&long), 130);
        assert_eq!(first_non_ascii(&long[..130]), 130);
        assert_eq!(guess_charset(&long, b"7BIT"), b"X-UNKNOWN");
    }

    #[test]
    fn nesting_is_capped() {
        let mut m = Vec::new();
        for i in 0..(MAX_DEPTH + 10) {
            m.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
        let s = bs(&m);
        assert_eq!(s.matches("MIXED").count(), MAX_DEPTH + 1);
    }
}
