//! The IMAP ENVELOPE (RFC 3501 §7.4.2).
//!
//! Field rules follow UW c-client, checked against UW imapd's answers:
//! Date, Subject, In-Reply-To and Message-ID are the first such field's
//! unfolded value, sent as is (RFC 2047 words are not decoded); address
//! fields accumulate over repeated headers; Sender and Reply-To default to
//! From; with no From all three are NIL.

use crate::address::{parse_address_list, write_address_list, Address};
use crate::header::{unfold_cow, Field, Fields, Header};
use crate::imap::write_nstring;

/// An ENVELOPE, as plain owned data (cacheable).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    /// Date field body, raw.
    pub date: Option<Vec<u8>>,
    /// Subject field body, raw (encoded words left encoded).
    pub subject: Option<Vec<u8>>,
    /// From addresses.
    pub from: Vec<Address>,
    /// Sender addresses (From when the field is absent).
    pub sender: Vec<Address>,
    /// Reply-To addresses (From when the field is absent).
    pub reply_to: Vec<Address>,
    /// To addresses.
    pub to: Vec<Address>,
    /// Cc addresses.
    pub cc: Vec<Address>,
    /// Bcc addresses.
    pub bcc: Vec<Address>,
    /// In-Reply-To field body, raw.
    pub in_reply_to: Option<Vec<u8>>,
    /// Message-ID field body, raw.
    pub message_id: Option<Vec<u8>>,
}

impl Envelope {
    /// Builds the envelope of a parsed header.
    pub fn from_header(h: &Header<'_>) -> Envelope {
        Envelope::from_fields(h.fields().iter().copied())
    }

    /// Parses the envelope from raw header bytes.
    pub fn parse(header: &[u8]) -> Envelope {
        // Only lines that start like one of the envelope's field names.
        Envelope::from_fields(Fields::where_line(header, |line| {
            matches!(
                line[0].to_ascii_lowercase(),
                b'b' | b'c' | b'd' | b'f' | b'i' | b'm' | b'r' | b's' | b't'
            )
        }))
    }

    fn from_fields<'a>(fields: impl Iterator<Item = Field<'a>>) -> Envelope {
        let mut env = Envelope::default();
        for f in fields {
            let name = f.name;
            // Every envelope field name is 2 to 11 octets long.
            if !(2..=11).contains(&name.len()) {
                continue;
            }
            let first = |slot: &mut Option<Vec<u8>>| {
                if slot.is_none() {
                    *slot = Some(f.unfolded());
                }
            };
            let list = |list: &mut Vec<Address>| {
                parse_address_list(&unfold_cow(f.value), list);
            };
            if name.eq_ignore_ascii_case(b"date") {
                first(&mut env.date);
            } else if name.eq_ignore_ascii_case(b"subject") {
                first(&mut env.subject);
            } else if name.eq_ignore_ascii_case(b"message-id") {
                first(&mut env.message_id);
            } else if name.eq_ignore_ascii_case(b"in-reply-to") {
                first(&mut env.in_reply_to);
            } else if name.eq_ignore_ascii_case(b"from") {
                list(&mut env.from);
            } else if name.eq_ignore_ascii_case(b"sender") {
                list(&mut env.sender);
            } else if name.eq_ignore_ascii_case(b"reply-to") {
                list(&mut env.reply_to);
            } else if name.eq_ignore_ascii_case(b"to") {
                list(&mut env.to);
            } else if name.eq_ignore_ascii_case(b"cc") {
                list(&mut env.cc);
            } else if name.eq_ignore_ascii_case(b"bcc") {
                list(&mut env.bcc);
            }
        }
        // c-client copies From when Sender/Reply-To produced no address.
        if env.sender.is_empty() {
            env.sender = env.from.clone();
        }
        if env.reply_to.is_empty() {
            env.reply_to = env.from.clone();
        }
        env
    }

    /// Appends the ENVELOPE value `(date subject from sender reply-to to cc
    /// bcc in-reply-to message-id)`.
    pub fn write_imap(&self, out: &mut Vec<u8>) {
        out.push(b'(');
        write_nstring(out, self.date.as_deref());
        out.push(b' ');
        write_nstring(out, self.subject.as_deref());
        for list in [
            &self.from,
            &self.sender,
            &self.reply_to,
            &self.to,
            &self.cc,
            &self.bcc,
        ] {
            out.push(b' ');
            write_address_list(out, list);
        }
        out.push(b' ');
        write_nstring(out, self.in_reply_to.as_deref());
        out.push(b' ');
        write_nstring(out, self.message_id.as_deref());
        out.push(b')');
    }

    /// The ENVELOPE value as bytes.
    pub fn to_imap(&self) -> Vec<u8> {
        // Room for a typical envelope, so that it is not grown octet by octet.
        let mut v = Vec::with_capacity(512);
        self.write_imap(&mut v);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_header_is_all_nil() {
        assert_eq!(
            Envelope::parse(b"").to_imap(),
            b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"
        );
    }

    #[test]
    fn sender_and_reply_to_default_to_from() {
        let e = Envelope::parse(b"From: a@b\r\nSubject: hi\r\nSubject: second\r\n\r\n");
        assert_eq!(
            String::from_utf8(e.to_imap()).unwrap(),
            r#"(NIL "hi" ((NIL NIL "a" "b")) ((NIL NIL "a" "b")) ((NIL NIL "a" "b")) NIL NIL NIL NIL NIL)"#
        );
    }

    #[test]
    fn parsing_raw_bytes_agrees_with_the_parsed_header() {
        let h: &[u8] = b"Received: from x\r\n by y\r\nX-Mailer: m\r\nfrom: a@b\r\n  (c)\r\nSUBJECT: s\r\n\tt\r\nreply-to:\r\nTo: t@u,\r\n v@w\r\nbcc x@y\r\nMessage-ID: <i@d>\r\nIn-Reply-To: <j@d>\r\nDate: d\r\nCc: c@d\r\nSender: s@t\r\n\r\nTo: body@x\r\n";
        let e = Envelope::parse(h);
        assert_eq!(e, Envelope::from_header(&Header::parse(h)));
        assert_eq!(e.to.len(), 2);
        assert_eq!(e.subject.as_deref(), Some(&b"s t"[..]));
        assert_eq!(e.reply_to, e.from);
    }

    #[test]
    fn repeated_address_fields_accumulate() {
        let e = Envelope::parse(b"To: a@b\r\nTo: c@d\r\n\r\n");
        assert_eq!(e.to.len(), 2);
    }
}
