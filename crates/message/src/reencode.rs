//! Giving body parts a Content-Transfer-Encoding a store can hold exactly.
//!
//! RFC 3516 §4.3: a server that cannot keep binary content as it came MAY
//! store it under another transfer encoding, as long as `FETCH BINARY` gives
//! the decoded octets back. A mailbox file whose lines end in LF (mbox, MMDF)
//! cannot tell a bare LF from CRLF, and its readers treat NUL as damage, so
//! the leaf parts that would not survive are re-encoded as base64 here; every
//! other octet of the message stays as it is.

use crate::body::{BodyPart, Nested, Span};
use crate::header::split_header;
use crate::Message;

/// `msg` with every leaf part whose transfer encoding is an identity one
/// (7bit, 8bit, binary or none) and whose content `unsafe_content` rejects
/// re-encoded as base64 (its `Content-Transfer-Encoding` field replaced).
/// `None` when no part needed it.
pub fn base64_unsafe_parts(msg: &[u8], unsafe_content: &dyn Fn(&[u8]) -> bool) -> Option<Vec<u8>> {
    let m = Message::parse(msg);
    let header = Span::new(0, split_header(msg));
    let mut edits: Vec<(Span, Span)> = Vec::new();
    collect(m.body(), header, msg, unsafe_content, &mut edits);
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|(h, _)| h.start);
    let mut out = Vec::with_capacity(msg.len() + msg.len() / 3 + 64 * edits.len());
    let mut at = 0;
    for (header, content) in edits {
        out.extend_from_slice(&msg[at..header.start]);
        rewrite_header(&mut out, header.of(msg));
        encode_base64_lines(&mut out, content.of(msg));
        at = content.end();
    }
    out.extend_from_slice(&msg[at..]);
    Some(out)
}

/// Leaf parts to re-encode: (its header, its content). A leaf's header is its
/// MIME header, or, for the top body of a message, that message's header.
fn collect(
    part: &BodyPart,
    header: Span,
    msg: &[u8],
    unsafe_content: &dyn Fn(&[u8]) -> bool,
    edits: &mut Vec<(Span, Span)>,
) {
    match &part.nested {
        Nested::Multipart(parts) => {
            for p in parts {
                collect(p, p.mime_header, msg, unsafe_content, edits);
            }
        }
        Nested::Message(m) => collect(&m.body, m.header, msg, unsafe_content, edits),
        Nested::None => {
            let identity = matches!(
                part.encoding.as_slice(),
                b"7BIT" | b"8BIT" | b"BINARY" | b""
            );
            // A part without a header of its own cannot take the new field.
            let has_blank = header.of(msg).ends_with(b"\n");
            if identity && has_blank && header.end() <= part.content.start {
                let content = Span::new(part.content.start, part.content.end());
                if unsafe_content(content.of(msg)) {
                    edits.push((header, content));
                }
            }
        }
    }
}

/// The header without its Content-Transfer-Encoding field(s), with one saying
/// base64 just before the blank line.
fn rewrite_header(out: &mut Vec<u8>, header: &[u8]) {
    let blank = if header.ends_with(b"\r\n") { 2 } else { 1 };
    let (fields, blank_line) = header.split_at(header.len() - blank);
    let mut skipping = false;
    for line in fields.split_inclusive(|&b| b == b'\n') {
        let continuation = line.first().is_some_and(|&b| b == b' ' || b == b'\t');
        if !continuation {
            let name = b"content-transfer-encoding";
            skipping = line.len() > name.len()
                && line[..name.len()].eq_ignore_ascii_case(name)
                && line[name.len()..]
                    .iter()
                    .find(|&&b| b != b' ' && b != b'\t')
                    == Some(&b':');
        }
        if !skipping {
            out.extend_from_slice(line);
            if !line.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"Content-Transfer-Encoding: base64\r\n");
    out.extend_from_slice(blank_line);
}

/// RFC 2045 §6.8 base64 in lines of 76 characters, each ending in CRLF.
fn encode_base64_lines(out: &mut Vec<u8>, data: &[u8]) {
    const ALPHABET: &[u8; 64] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for line in data.chunks(57) {
        for group in line.chunks(3) {
            let b = [group[0], *group.get(1).unwrap_or(&0), *group.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
                if k <= group.len() {
                    out.push(ALPHABET[(n >> shift) as usize & 63]);
                } else {
                    out.push(b'=');
                }
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::decode_base64;

    fn has_nul(c: &[u8]) -> bool {
        c.contains(&0)
    }

    #[test]
    fn only_the_parts_that_need_it_are_re_encoded() {
        let msg = b"Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
pre\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b\r\n\
Content-Type: application/octet-stream\r\ncontent-transfer-encoding : binary\r\n (folded)\r\n\r\n\
\0-\xe4\n\r\n\n\r\n--b--\r\n";
        let out = base64_unsafe_parts(msg, &has_nul).unwrap();
        let m = Message::parse(&out);
        let parts = m.body().parts();
        assert_eq!(parts[0].encoding, b"7BIT");
        assert_eq!(parts[1].encoding, b"BASE64");
        assert_eq!(decode_base64(parts[1].content.of(&out)), b"\0-\xe4\n\r\n\n");
        assert!(!out.windows(6).any(|w| w.eq_ignore_ascii_case(b"binary")));
        assert!(out.starts_with(b"Subject: x\r\n"));
        assert!(out.ends_with(b"\r\n--b--\r\n"));
        assert_eq!(base64_unsafe_parts(b"Subject: x\r\n\r\nclean\r\n", &has_nul), None);
    }

    #[test]
    fn a_single_part_message_and_an_encapsulated_one() {
        let out = base64_unsafe_parts(b"Subject: x\n\n\0\0\0\0", &has_nul).unwrap();
        assert_eq!(out, b"Subject: x\nContent-Transfer-Encoding: base64\r\n\nAAAAAA==\r\n");
        let msg = b"Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\na\0b";
        let out = base64_unsafe_parts(msg, &has_nul).unwrap();
        assert_eq!(
            out,
            b"Content-Type: message/rfc822\r\n\r\nSubject: in\r\nContent-Transfer-Encoding: base64\r\n\r\nYQBi\r\n"
        );
        // Already encoded: left for the caller to judge.
        let qp = b"Content-Transfer-Encoding: quoted-printable\r\n\r\na\0b";
        assert_eq!(base64_unsafe_parts(qp, &has_nul), None);
    }

    #[test]
    fn base64_lines_are_76_characters() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut out = Vec::new();
        encode_base64_lines(&mut out, &data);
        assert!(out.split(|&b| b == b'\n').all(|l| l.len() <= 77));
        assert_eq!(decode_base64(&out), data);
    }
}
