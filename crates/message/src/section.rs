//! Section addressing for `BODY[...]`, `BODY.PEEK[...]` and `BINARY[...]`
//! (RFC 3501 §6.4.5, RFC 3516), and partial fetches `<origin.octets>`.

use std::borrow::Cow;

use crate::imap::{quotable, write_literal, write_literal8, write_string};

/// What part of the addressed body a section wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionKind {
    /// `BODY[]` or `BODY[1.2]`: the whole message, or a part's content.
    Full,
    /// `HEADER`: a message's header, with its blank line.
    Header,
    /// `HEADER.FIELDS (names)`.
    HeaderFields(Vec<Vec<u8>>),
    /// `HEADER.FIELDS.NOT (names)`.
    HeaderFieldsNot(Vec<Vec<u8>>),
    /// `TEXT`: a message's text.
    Text,
    /// `MIME`: a part's MIME header (needs a part path).
    Mime,
}

/// A section: a part path (`1.2` is `[1, 2]`; empty for the whole message)
/// and what to take there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Part numbers, each at least 1.
    pub path: Vec<u32>,
    /// The section text.
    pub kind: SectionKind,
}

/// Why a section specification could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionSyntaxError;

impl std::fmt::Display for SectionSyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid section specification")
    }
}

impl std::error::Error for SectionSyntaxError {}

impl Section {
    /// The whole message (`BODY[]`).
    pub fn full() -> Section {
        Section {
            path: Vec::new(),
            kind: SectionKind::Full,
        }
    }

    /// Builds a section from a path and a kind.
    pub fn new(path: Vec<u32>, kind: SectionKind) -> Section {
        Section { path, kind }
    }

    /// Parses the text between the brackets, e.g. `1.2.HEADER.FIELDS (From
    /// To)`, `TEXT`, `3.MIME`, `` (empty). A convenience for tests and tools;
    /// the IMAP command parser builds sections itself.
    pub fn parse(spec: &[u8]) -> Result<Section, SectionSyntaxError> {
        let s = std::str::from_utf8(spec).map_err(|_| SectionSyntaxError)?;
        let (head, list) = match s.find(' ') {
            Some(i) => (&s[..i], Some(s[i..].trim())),
            None => (s, None),
        };
        let mut path = Vec::new();
        let mut rest = head;
        while !rest.is_empty() && rest.as_bytes()[0].is_ascii_digit() {
            let end = rest.find('.').unwrap_or(rest.len());
            let n: u32 = rest[..end].parse().map_err(|_| SectionSyntaxError)?;
            if n == 0 || path.len() >= 64 {
                return Err(SectionSyntaxError);
            }
            path.push(n);
            let had_dot = end < rest.len();
            rest = if had_dot { &rest[end + 1..] } else { "" };
            if had_dot && rest.is_empty() {
                return Err(SectionSyntaxError);
            }
        }
        let names = || -> Result<Vec<Vec<u8>>, SectionSyntaxError> {
            let l = list.ok_or(SectionSyntaxError)?;
            let inner = l
                .strip_prefix('(')
                .and_then(|l| l.strip_suffix(')'))
                .ok_or(SectionSyntaxError)?;
            let v: Vec<Vec<u8>> = inner
                .split_ascii_whitespace()
                .map(|n| n.trim_matches('"').as_bytes().to_vec())
                .collect();
            if v.is_empty() {
                return Err(SectionSyntaxError);
            }
            Ok(v)
        };
        let kind = match rest.to_ascii_uppercase().as_str() {
            "" if list.is_none() => SectionKind::Full,
            "HEADER" if list.is_none() => SectionKind::Header,
            "TEXT" if list.is_none() => SectionKind::Text,
            "MIME" if list.is_none() && !path.is_empty() => SectionKind::Mime,
            "HEADER.FIELDS" => SectionKind::HeaderFields(names()?),
            "HEADER.FIELDS.NOT" => SectionKind::HeaderFieldsNot(names()?),
            _ => return Err(SectionSyntaxError),
        };
        Ok(Section { path, kind })
    }

    /// The section as echoed in a FETCH response, e.g. `1.HEADER.FIELDS
    /// (FROM TO)` (field names upper-cased, as UW does).
    pub fn to_imap(&self) -> String {
        let mut s: Vec<String> = self.path.iter().map(u32::to_string).collect();
        let fields = |names: &Vec<Vec<u8>>| {
            names
                .iter()
                .map(|n| String::from_utf8_lossy(n).to_ascii_uppercase())
                .collect::<Vec<_>>()
                .join(" ")
        };
        match &self.kind {
            SectionKind::Full => {}
            SectionKind::Header => s.push("HEADER".into()),
            SectionKind::Text => s.push("TEXT".into()),
            SectionKind::Mime => s.push("MIME".into()),
            SectionKind::HeaderFields(n) => s.push(format!("HEADER.FIELDS ({})", fields(n))),
            SectionKind::HeaderFieldsNot(n) => s.push(format!("HEADER.FIELDS.NOT ({})", fields(n))),
        }
        s.join(".")
    }
}

/// A partial fetch `<origin.octets>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partial {
    /// First octet wanted (0-based).
    pub origin: u64,
    /// Most octets wanted.
    pub octets: u64,
}

impl Partial {
    /// The wanted range of `data` (RFC 3501 §6.4.5): empty when `origin` is
    /// past the end, cut short at the end.
    pub fn apply<'d>(&self, data: &'d [u8]) -> &'d [u8] {
        let len = data.len() as u64;
        if self.origin >= len {
            return &[];
        }
        let end = self.origin.saturating_add(self.octets).min(len);
        &data[self.origin as usize..end as usize]
    }
}

/// How UW imapd sends a section's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Quoted when possible, else a literal (BODY[], parts, HEADER, MIME).
    Auto,
    /// Always a literal, `{0}` included (TEXT).
    Literal,
    /// BINARY: `""` when empty, literal8 when it has NUL, else a literal.
    Binary,
}

/// Section data ready to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionData<'a> {
    /// The octets.
    pub data: Cow<'a, [u8]>,
    /// How to send them.
    pub form: Form,
}

impl<'a> SectionData<'a> {
    /// Applies a partial range. The form is kept: an empty TEXT range is
    /// still `{0}`, as UW sends it; others become `""`.
    pub fn partial(self, p: Partial) -> SectionData<'a> {
        let data: Cow<'a, [u8]> = match self.data {
            Cow::Borrowed(b) => Cow::Borrowed(p.apply(b)),
            Cow::Owned(v) => Cow::Owned(p.apply(&v).to_vec()),
        };
        let form = self.form;
        SectionData { data, form }
    }

    /// Appends the value as UW imapd sends it.
    pub fn write_imap(&self, out: &mut Vec<u8>) {
        let d: &[u8] = &self.data;
        match self.form {
            Form::Auto => write_string(out, d),
            Form::Literal => write_literal(out, d),
            Form::Binary if d.is_empty() => out.extend_from_slice(b"\"\""),
            Form::Binary if d.contains(&0) => write_literal8(out, d),
            Form::Binary => write_literal(out, d),
        }
    }

    /// The value as bytes.
    pub fn to_imap(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.data.len() + 16);
        self.write_imap(&mut v);
        v
    }

    /// True when [`SectionData::write_imap`] sends a quoted string.
    pub fn is_quoted(&self) -> bool {
        match self.form {
            Form::Auto => quotable(&self.data),
            Form::Binary => self.data.is_empty(),
            Form::Literal => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_specs() {
        assert_eq!(Section::parse(b"").unwrap(), Section::full());
        assert_eq!(
            Section::parse(b"1.2.MIME").unwrap(),
            Section::new(vec![1, 2], SectionKind::Mime)
        );
        assert_eq!(
            Section::parse(b"3").unwrap(),
            Section::new(vec![3], SectionKind::Full)
        );
        assert_eq!(
            Section::parse(b"HEADER.FIELDS (FROM Subject)").unwrap(),
            Section::new(
                vec![],
                SectionKind::HeaderFields(vec![b"FROM".to_vec(), b"Subject".to_vec()])
            )
        );
        assert_eq!(Section::parse(b"2.text").unwrap().kind, SectionKind::Text);
        for bad in [
            &b"MIME"[..],
            b"0",
            b"1.",
            b"HEADER.FIELDS",
            b"HEADER.FIELDS ()",
            b"BOGUS",
            b"1..2",
        ] {
            assert!(
                Section::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn echo_form() {
        let s = Section::parse(b"1.HEADER.FIELDS.NOT (received x-a)").unwrap();
        assert_eq!(s.to_imap(), "1.HEADER.FIELDS.NOT (RECEIVED X-A)");
        assert_eq!(Section::parse(b"4.2").unwrap().to_imap(), "4.2");
    }

    #[test]
    fn partial_ranges() {
        let p = Partial {
            origin: 10,
            octets: 50,
        };
        assert_eq!(p.apply(b"0123456789abc"), b"abc");
        assert_eq!(p.apply(b"0123456789"), b"");
        assert_eq!(
            Partial {
                origin: 0,
                octets: 2
            }
            .apply(b"abc"),
            b"ab"
        );
        assert_eq!(
            Partial {
                origin: u64::MAX,
                octets: u64::MAX
            }
            .apply(b"abc"),
            b""
        );
    }

    #[test]
    fn forms() {
        let d = |b: &'static [u8], form| SectionData {
            data: Cow::Borrowed(b),
            form,
        };
        assert_eq!(d(b"abc", Form::Auto).to_imap(), b"\"abc\"");
        assert_eq!(d(b"", Form::Literal).to_imap(), b"{0}\r\n");
        assert_eq!(d(b"abc", Form::Binary).to_imap(), b"{3}\r\nabc");
        assert_eq!(d(b"a\0", Form::Binary).to_imap(), b"~{2}\r\na\0");
        assert_eq!(d(b"", Form::Binary).to_imap(), b"\"\"");
        assert_eq!(
            d(b"0123456789", Form::Literal)
                .partial(Partial {
                    origin: 10,
                    octets: 5
                })
                .to_imap(),
            b"{0}\r\n"
        );
        assert_eq!(
            d(b"012345678", Form::Literal)
                .partial(Partial {
                    origin: 10,
                    octets: 5
                })
                .to_imap(),
            b"{0}\r\n"
        );
        assert_eq!(
            d(b"012345678", Form::Auto)
                .partial(Partial {
                    origin: 10,
                    octets: 5
                })
                .to_imap(),
            b"\"\""
        );
    }
}
