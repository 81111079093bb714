//! # message — RFC 5322 and MIME for pullmail's IMAP server
//!
//! Pure functions over message bytes (no I/O): header parsing, addresses,
//! the IMAP `ENVELOPE`, `BODYSTRUCTURE` and `BODY`, body sections and
//! partial fetches, `BINARY` decoding, SEARCH text matching, dates, and the
//! RFC 5256 base subject and threading for SORT/THREAD. Answers match UW
//! imapd 2007f byte for byte, except where UW breaks an RFC (see
//! `tests/conformance/uw-deviations.tsv`); the golden tests in
//! `tests/conformance.rs` hold this crate to that.
//!
//! ## Line ends: give it CRLF
//!
//! RFC 3501 sizes and line counts are in CRLF terms. This crate counts the
//! octets it is given and counts a line per LF, so **pass messages with CRLF
//! line ends**, as the mailbox library hands them out. Bare-LF input is
//! parsed just as well (nothing fails), but sizes are then LF-based. Use
//! [`to_crlf`] to convert stored LF text.
//!
//! ## Use
//!
//! ```
//! use message::{Message, Section, Partial};
//!
//! let raw = b"From: Alice <alice@example.org>\r\nSubject: Hi\r\n\r\nHello\r\n";
//! let msg = Message::parse(raw);
//!
//! // FETCH ENVELOPE / BODYSTRUCTURE / BODY: the value after the item name.
//! assert_eq!(
//!     msg.envelope_imap(),
//!     br#"(NIL "Hi" (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) NIL NIL NIL NIL NIL)"#
//! );
//! assert_eq!(
//!     msg.bodystructure_imap(),
//!     br#"("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 7 1 NIL NIL NIL NIL)"#
//! );
//!
//! // FETCH BODY[TEXT]<0.3>: the server writes `BODY[TEXT]<0> ` then this.
//! let data = msg.section(&Section::parse(b"TEXT").unwrap()).partial(Partial { origin: 0, octets: 3 });
//! assert_eq!(data.to_imap(), b"{3}\r\nHel");
//!
//! // BINARY[1]
//! assert_eq!(&*msg.binary(&[1]).unwrap().data, b"Hello\r\n");
//! ```
//!
//! What the server does with each FETCH item:
//!
//! | item | call |
//! | --- | --- |
//! | `ENVELOPE` | [`Message::envelope_imap`] |
//! | `BODYSTRUCTURE` / `BODY` | [`Message::bodystructure_imap`] / [`Message::body_imap`] |
//! | `BODY[s]<o.n>`, `BODY.PEEK[...]` | [`Message::section`], [`SectionData::partial`], [`SectionData::write_imap`]; echo the section with [`Section::to_imap`] |
//! | `BINARY[p]`, `BINARY.SIZE[p]` | [`Message::binary`] (`Err(Error::UnknownCte)` is `NO [UNKNOWN-CTE]`), [`Message::binary_size`] |
//! | `RFC822.SIZE`, `RFC822.HEADER`, `RFC822.TEXT` | [`Message::size`], [`Message::header_bytes`], [`Message::text_bytes`] |
//! | `INTERNALDATE` | [`DateTime::to_imap`] (quote it) |
//!
//! The data of every section is sent the way UW sends it ([`section::Form`]):
//! quoted when it can be, else a literal; `TEXT` always as a literal;
//! `BINARY` as `""` when empty and as a literal8 `~{n}` when it holds NUL.
//!
//! SEARCH: [`Message::header_matches`] (HEADER, SUBJECT),
//! [`Message::address_matches`] (FROM, TO, CC, BCC), [`Message::body_matches`]
//! (BODY), [`Message::text_matches`] (TEXT); [`date::parse_date`] for
//! SENTBEFORE/SENTON/SENTSINCE ([`DateTime::local_date`]) and SORT DATE.
//! SORT/THREAD: [`thread::base_subject`], [`thread::references`],
//! [`thread::references_thread`], [`thread::ordered_subject`].
//!
//! ## Caching
//!
//! [`Structure`] (header length, [`Envelope`], [`BodyPart`] tree with byte
//! offsets) is plain owned data. Store it beside the mailbox and rebuild a
//! [`Message`] with [`Message::with_structure`] without reparsing.
//!
//! ## Untrusted input and limits
//!
//! Any octets parse; nothing panics. Nesting of multiparts and
//! message/rfc822 is followed to [`body::MAX_DEPTH`] levels, a message has at
//! most [`body::MAX_PARTS`] parts, an address field at most
//! [`address::MAX_ADDRESSES`] addresses and groups nest at most
//! [`address::MAX_GROUP_DEPTH`] deep, a parameter list has at most 256
//! parameters. So structures and their IMAP renderings are bounded by a
//! small multiple of the message size.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
pub mod body;
pub mod charset;
pub mod date;
pub mod encoded_word;
pub mod envelope;
mod error;
pub mod header;
pub mod imap;
mod lex;
mod message;
pub mod mime;
pub mod reencode;
pub mod section;
pub mod text;
pub mod thread;
pub mod transfer;

pub use address::Address;
pub use body::{BodyPart, Encapsulated, Nested, Span};
pub use date::{parse_date, parse_internaldate, Date, DateTime};
pub use envelope::Envelope;
pub use error::Error;
pub use header::{Field, Header};
pub use message::{Message, Structure};
pub use section::{Partial, Section, SectionData, SectionKind};
pub use text::contains_ci;

use std::borrow::Cow;

/// Converts bare LF line ends to CRLF (a CR already before an LF is kept,
/// so CRLF input comes back borrowed and unchanged).
pub fn to_crlf(bytes: &[u8]) -> Cow<'_, [u8]> {
    let bare = bytes
        .iter()
        .enumerate()
        .filter(|&(i, &c)| c == b'\n' && (i == 0 || bytes[i - 1] != b'\r'))
        .count();
    if bare == 0 {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + bare);
    for (i, &c) in bytes.iter().enumerate() {
        if c == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_crlf_only_touches_bare_lf() {
        assert!(matches!(to_crlf(b"a\r\nb"), Cow::Borrowed(_)));
        assert_eq!(&*to_crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        assert_eq!(&*to_crlf(b"\n"), b"\r\n");
    }
}
