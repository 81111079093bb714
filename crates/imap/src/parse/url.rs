//! The IMAP URLs CATENATE takes (RFC 4469 §5): a message or part of this server,
//! in RFC 5092 syntax without scheme and host,
//!
//! ```text
//! "/" enc-mailbox [";UIDVALIDITY=" nz-number] "/;UID=" nz-number
//!     ["/;SECTION=" enc-section] ["/;PARTIAL=" number ["." nz-number]]
//! ```
//!
//! or relative to the selected mailbox (RFC 5092 §7.2: `;UID=20/;SECTION=1`).
//! Parameter names in any case; mailbox and section percent-decoded, the mailbox
//! as UTF-8 (RFC 5092 §3.2, not modified UTF-7). `imap://` URLs, URLAUTH and
//! anything else are not ours: `None`, which the command answers `BADURL`.

use message::{Partial, Section};

use super::Parser;

/// A message or part of one of the logged-in user's mailboxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapUrl {
    /// The mailbox, or `None` for the selected one.
    pub mailbox: Option<String>,
    pub uid_validity: Option<u32>,
    pub uid: u32,
    /// BODY[section]; the whole message when absent.
    pub section: Option<Section>,
    pub partial: Option<Partial>,
}

/// Parses `url`; `None` when it is not a URL of this form.
pub fn imap_url(url: &str) -> Option<ImapUrl> {
    let (mailbox, rest) = match url.strip_prefix('/') {
        Some(path) => {
            let semi = path.find(';')?;
            let name = &path[..semi];
            // "/INBOX/;UID=1": the slash ends the name when no UIDVALIDITY follows.
            let name = name.strip_suffix('/').unwrap_or(name);
            if name.is_empty() {
                return None;
            }
            let name = String::from_utf8(decode(name)?).ok()?;
            let name = if name.eq_ignore_ascii_case("INBOX") {
                "INBOX".to_string()
            } else {
                name
            };
            (Some(name), &path[semi..])
        }
        None if url.starts_with(';') => (None, url),
        None => return None,
    };
    let mut out = ImapUrl {
        mailbox,
        uid_validity: None,
        uid: 0,
        section: None,
        partial: None,
    };
    // ";UIDVALIDITY=n/;UID=n/;SECTION=s/;PARTIAL=a.b", in this order.
    let mut order = 0;
    for param in rest.split("/;") {
        let param = param.strip_prefix(';').unwrap_or(param);
        let (key, value) = param.split_once('=')?;
        let key = key.to_ascii_uppercase();
        let rank = match key.as_str() {
            "UIDVALIDITY" if out.mailbox.is_some() => 1,
            "UID" => 2,
            "SECTION" => 3,
            "PARTIAL" => 4,
            _ => return None,
        };
        if rank <= order {
            return None;
        }
        order = rank;
        match rank {
            1 => out.uid_validity = Some(nz_number(value)?),
            2 => out.uid = nz_number(value)?,
            3 => out.section = Some(section(&decode(value)?)?),
            _ => out.partial = Some(partial(value)?),
        }
    }
    (out.uid != 0).then_some(out)
}

/// Percent-decoding (RFC 3986 §2.1).
pub(crate) fn decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

fn number(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn nz_number(s: &str) -> Option<u32> {
    number(s).filter(|&n| n != 0)
}

/// The FETCH grammar of a section, inside its brackets.
fn section(text: &[u8]) -> Option<Section> {
    let mut wrapped = Vec::with_capacity(text.len() + 2);
    wrapped.push(b'[');
    wrapped.extend_from_slice(text);
    wrapped.push(b']');
    let mut p = Parser::new(&wrapped);
    let s = super::fetch::section(&mut p).ok()?;
    p.at_end().then_some(s)
}

/// partial-range = number ["." nz-number] (RFC 5092 §9): from an octet, to the end
/// or for so many.
fn partial(s: &str) -> Option<Partial> {
    let (origin, octets) = match s.split_once('.') {
        Some((o, n)) => (number(o)?, u64::from(nz_number(n)?)),
        None => (number(s)?, u64::MAX),
    };
    Some(Partial {
        origin: u64::from(origin),
        octets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use message::SectionKind;

    #[test]
    fn absolute_paths_with_every_parameter() {
        let u = imap_url("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME").unwrap();
        assert_eq!(u.mailbox.as_deref(), Some("Drafts"));
        assert_eq!(u.uid_validity, Some(385759045));
        assert_eq!(u.uid, 20);
        assert_eq!(u.section, Some(Section::new(vec![1], SectionKind::Mime)));
        assert_eq!(u.partial, None);
        let u = imap_url("/inbox/;uid=3/;partial=100000.1").unwrap();
        assert_eq!(u.mailbox.as_deref(), Some("INBOX"));
        assert_eq!((u.uid_validity, u.uid), (None, 3));
        assert_eq!(u.partial, Some(Partial { origin: 100000, octets: 1 }));
        let u = imap_url("/a%20b/c;UID=7/;SECTION=HEADER.FIELDS%20(From%20To)").unwrap();
        assert_eq!(u.mailbox.as_deref(), Some("a b/c"));
        assert!(
            matches!(&u.section, Some(s) if s.to_imap().eq_ignore_ascii_case("HEADER.FIELDS (From To)")),
            "{:?}",
            u.section
        );
        let u = imap_url(";UID=20/;SECTION=TEXT").unwrap();
        assert_eq!(u.mailbox, None);
        assert_eq!(u.section, Some(Section::new(vec![], SectionKind::Text)));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "imap://joe@example.com/INBOX/;UID=1",
            "/INBOX",
            "/INBOX/;UID=0",
            "/INBOX/;UID=x",
            "/;UID=1",
            "/INBOX/;SECTION=1/;UID=1",
            "/INBOX/;UID=1/;SECTION=BOGUS",
            "/INBOX/;UID=1/;URLAUTH=anonymous",
            ";UIDVALIDITY=1/;UID=1",
            "/IN%ZZBOX/;UID=1",
            "/INBOX/;UID=1/;PARTIAL=1.0",
            "",
        ] {
            assert_eq!(imap_url(bad), None, "{bad}");
        }
    }
}
