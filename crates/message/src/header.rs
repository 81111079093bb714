//! Header blocks: splitting a message into header and text, splitting a
//! header into fields, unfolding, case-insensitive lookup, and the
//! `HEADER.FIELDS` / `HEADER.FIELDS.NOT` filter.
//!
//! Tolerant by design: bare LF line ends, 8-bit octets, NULs, lines without a
//! colon, a header with no blank line after it and a message with no body
//! never fail; a line without a colon is kept as a field with an empty name
//! so that the raw header bytes are still accounted for.

use std::borrow::Cow;

/// One header field: its name (before the colon, trailing blanks removed),
/// its raw bytes (name, value, continuation lines and the final line end)
/// and its raw value (after the colon, still folded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// Field name as written, e.g. `Subject`. Empty for a line without a colon.
    pub name: &'a [u8],
    /// The whole field as it appears in the message, line ends included.
    pub raw: &'a [u8],
    /// Everything after the colon, folded, line end included.
    pub value: &'a [u8],
}

impl Field<'_> {
    /// The value unfolded the way c-client does it: leading blanks after the
    /// colon dropped, each line end (CRLF or LF) that is followed by a blank
    /// removed, tabs turned into spaces, the final line end dropped. Trailing
    /// blanks are kept (UW sends them in ENVELOPE).
    pub fn unfolded(&self) -> Vec<u8> {
        unfold(self.value)
    }

    /// True when the name matches `name` ignoring ASCII case.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }
}

/// See [`Field::unfolded`].
pub fn unfold(value: &[u8]) -> Vec<u8> {
    unfold_cow(value).into_owned()
}

/// [`unfold`] without a copy when the value is one line with no tab, which is
/// what nearly every field is.
pub(crate) fn unfold_cow(value: &[u8]) -> Cow<'_, [u8]> {
    let line = match memchr::memchr(b'\n', value) {
        Some(p) if !matches!(value.get(p + 1), Some(b' ' | b'\t')) => {
            // The only line: drop its line end (a CR just before the LF too).
            let end = if p > 0 && value[p - 1] == b'\r' {
                p - 1
            } else {
                p
            };
            Some(&value[..end])
        }
        Some(_) => None,
        None => Some(value),
    };
    match line {
        Some(line) if memchr::memchr(b'\t', line).is_none() => {
            let lead = line.iter().take_while(|&&c| c == b' ').count();
            Cow::Borrowed(&line[lead..])
        }
        _ => Cow::Owned(unfold_slow(value)),
    }
}

fn unfold_slow(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    let n = value.len();
    while i < n {
        let c = value[i];
        match c {
            b'\r' if value.get(i + 1) == Some(&b'\n') => {}
            b'\n' => {
                if !matches!(value.get(i + 1), Some(b' ' | b'\t')) {
                    break;
                }
            }
            b'\t' => out.push(b' '),
            _ => out.push(c),
        }
        i += 1;
    }
    let lead = out.iter().take_while(|&&c| c == b' ').count();
    out.drain(..lead);
    out
}

/// A parsed header block.
#[derive(Debug, Clone, Default)]
pub struct Header<'a> {
    raw: &'a [u8],
    fields: Vec<Field<'a>>,
}

impl<'a> Header<'a> {
    /// Parses a header block: the bytes up to and including the blank line
    /// that ends it (see [`split_header`]). Anything after a blank line is
    /// ignored.
    pub fn parse(raw: &'a [u8]) -> Header<'a> {
        let mut fields = Vec::with_capacity(24);
        fields.extend(Fields::new(raw));
        Header { raw, fields }
    }

    /// The header bytes this was parsed from.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// All fields in order.
    pub fn fields(&self) -> &[Field<'a>] {
        &self.fields
    }

    /// The first field called `name` (ASCII case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.is(name))
    }

    /// Every field called `name`, in order.
    pub fn get_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Field<'a>> + 's {
        self.fields.iter().filter(move |f| f.is(name))
    }

    /// The unfolded value of the first field called `name`.
    pub fn value(&self, name: &str) -> Option<Vec<u8>> {
        self.get(name).map(Field::unfolded)
    }
}

/// The fields of a header block, in order, without collecting them (see
/// [`Header::parse`]): a field is a line and the lines after it that begin
/// with a blank; iteration stops at the blank line that ends the header.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    /// The fields of `raw` from its start.
    pub fn new(raw: &'a [u8]) -> Fields<'a> {
        Fields { raw, pos: 0 }
    }

    /// The fields whose first line passes `keep` (given the header from the
    /// start of that line), found by looking only at line starts: the other
    /// fields are skipped a line at a time without being split. Continuation
    /// lines are never offered to `keep`, as long as it refuses a leading blank.
    pub(crate) fn where_line(
        raw: &'a [u8],
        keep: impl Fn(&[u8]) -> bool + 'a,
    ) -> impl Iterator<Item = Field<'a>> + 'a {
        let mut pos = 0;
        std::iter::from_fn(move || loop {
            let rest = raw.get(pos..).filter(|r| !r.is_empty())?;
            if rest.starts_with(b"\n") || rest.starts_with(b"\r\n") {
                return None;
            }
            if keep(rest) {
                let mut one = Fields { raw, pos };
                let f = one.next();
                pos = one.pos;
                return f;
            }
            pos = line_end(raw, pos);
        })
    }

    /// The fields whose names start with `prefix` (ASCII case-insensitive,
    /// not empty, no leading blank), by [`Fields::where_line`].
    pub(crate) fn starting_with(
        raw: &'a [u8],
        prefix: &'static [u8],
    ) -> impl Iterator<Item = Field<'a>> + 'a {
        Fields::where_line(raw, move |line| {
            line.len() > prefix.len() && line[..prefix.len()].eq_ignore_ascii_case(prefix)
        })
        // A line without a colon is a field with no name.
        .filter(move |f| f.name.len() >= prefix.len())
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        let raw = self.raw;
        let pos = self.pos;
        if pos >= raw.len() {
            return None;
        }
        let first = line_end(raw, pos);
        let line = &raw[pos..first];
        if is_blank_line(line) {
            self.pos = raw.len();
            return None;
        }
        // Continuation lines widen the field.
        let mut end = first;
        while end < raw.len() && matches!(raw[end], b' ' | b'\t') {
            end = line_end(raw, end);
        }
        self.pos = end;
        let (name, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let mut nend = colon;
                while nend > 0 && matches!(line[nend - 1], b' ' | b'\t') {
                    nend -= 1;
                }
                (&line[..nend], &raw[pos + colon + 1..end])
            }
            None => (&line[..0], &raw[first..end]),
        };
        Some(Field {
            name,
            raw: &raw[pos..end],
            value,
        })
    }
}

/// Index just past the line that starts at `pos` (after its LF), or the end.
pub(crate) fn line_end(s: &[u8], pos: usize) -> usize {
    match memchr::memchr(b'\n', &s[pos..]) {
        Some(i) => pos + i + 1,
        None => s.len(),
    }
}

fn is_blank_line(line: &[u8]) -> bool {
    line == b"\r\n" || line == b"\n"
}

/// Splits message (or MIME part) bytes into header and body: the header runs
/// up to and including the first empty line; with no empty line, everything
/// is header and the body is empty. Returns the header length.
pub fn split_header(msg: &[u8]) -> usize {
    let blank_at = |i: usize| match msg.get(i) {
        Some(b'\n') => Some(i + 1),
        Some(b'\r') if msg.get(i + 1) == Some(&b'\n') => Some(i + 2),
        _ => None,
    };
    if let Some(end) = blank_at(0) {
        return end;
    }
    for lf in memchr::memchr_iter(b'\n', msg) {
        if let Some(end) = blank_at(lf + 1) {
            return end;
        }
    }
    msg.len()
}

/// The `HEADER.FIELDS` (`not == false`) or `HEADER.FIELDS.NOT` filter of RFC
/// 3501 §6.4.5, as c-client's `mail_filter` does it: each field whose name
/// (up to the colon or the first blank or control octet) is in `names`
/// (case-insensitive) is kept, or dropped for `.NOT`, with its continuation
/// lines; lines with no name, such as the blank line ending the header, are
/// always kept.
pub fn filter_fields(header: &[u8], names: &[Vec<u8>], not: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(header.len());
    let mut pos = 0;
    while pos < header.len() {
        // One field: this line plus the lines that begin with a blank.
        let mut end = line_end(header, pos);
        while end < header.len() && matches!(header[end], b' ' | b'\t') {
            end = line_end(header, end);
        }
        let name_len = header[pos..end]
            .iter()
            .take_while(|&&c| !matches!(c, b':' | b' ' | b'\t' | b'\r' | b'\n' | 0))
            .count();
        let name = &header[pos..pos + name_len];
        let keep = if name.is_empty() {
            true
        } else {
            let listed = names.iter().any(|n| n.eq_ignore_ascii_case(name));
            listed != not
        };
        if keep {
            out.extend_from_slice(&header[pos..end]);
        }
        pos = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &[u8] = b"Subject: a\r\n  b\tc \r\nFrom:x@y\r\nno colon here\r\nX-A : 1\r\n\r\n";

    #[test]
    fn fields_unfold_like_c_client() {
        let h = Header::parse(H);
        assert_eq!(h.fields().len(), 4);
        assert_eq!(h.value("subject").unwrap(), b"a  b c ");
        assert_eq!(h.value("FROM").unwrap(), b"x@y");
        assert_eq!(h.value("x-a").unwrap(), b"1");
        assert_eq!(h.fields()[2].name, b"");
        assert_eq!(h.get("Subject").unwrap().raw, b"Subject: a\r\n  b\tc \r\n");
    }

    #[test]
    fn bare_lf_and_missing_blank_line_are_tolerated() {
        let h = Header::parse(b"A: 1\nB: 2");
        assert_eq!(h.value("b").unwrap(), b"2");
        assert_eq!(split_header(b"A: 1\nB: 2"), 9);
        assert_eq!(split_header(b"A: 1\r\n\r\nbody"), 8);
        assert_eq!(split_header(b"\r\nbody"), 2);
        assert_eq!(split_header(b""), 0);
    }

    #[test]
    fn unfold_fast_path_agrees_with_the_slow_one() {
        let cases: &[&[u8]] = &[
            b"",
            b" a\r\n",
            b"  a b \r\n",
            b"\ta\r\n",
            b" a\r\n b\r\n",
            b" a\n\tb\n",
            b" a\rb\r\n",
            b" a\r",
            b"\r\n",
            b"\n",
            b" a\r\nnot folded\r\n",
            b" a\nb",
            b"   ",
            b" x\r\n \r\n",
        ];
        for &v in cases {
            assert_eq!(&*unfold_cow(v), unfold_slow(v).as_slice(), "{v:?}");
        }
        assert!(matches!(
            unfold_cow(b" one line\r\n"),
            Cow::Borrowed(b"one line")
        ));
    }

    #[test]
    fn fields_iterate_like_the_header_parses() {
        let raw: &[u8] = b" lead\r\n cont\r\nA: 1\r\n\t2\r\nnone\r\n more\r\nB:\r\n\r\nC: body";
        let f: Vec<Field> = Fields::new(raw).collect();
        assert_eq!(f.len(), 4);
        assert_eq!(f[0].name, b"");
        assert_eq!(f[0].raw, b" lead\r\n cont\r\n");
        assert_eq!(f[1].value, b" 1\r\n\t2\r\n");
        assert_eq!(f[2].name, b"");
        assert_eq!(f[2].value, b" more\r\n");
        assert_eq!(f[3].value, b"\r\n");
        assert_eq!(Header::parse(raw).fields(), f.as_slice());
        assert_eq!(split_header(raw), raw.len() - 7);
        assert_eq!(split_header(b"A: 1\n\nB"), 6);
        assert_eq!(split_header(b"A: 1\r\n\r"), 7);
    }

    #[test]
    fn fields_by_prefix_are_the_matching_fields() {
        let raw: &[u8] = b"Received: x\r\n content-type: no\r\nCONTENT-Type: a\r\n\tb\r\ncontent-nocolon\r\nContent-ID : <i>\r\n\r\nContent-X: after";
        let all: Vec<Field> = Fields::new(raw)
            .filter(|f| f.name.len() > 8 && f.name[..8].eq_ignore_ascii_case(b"content-"))
            .collect();
        let some: Vec<Field> = Fields::starting_with(raw, b"content-").collect();
        assert_eq!(some, all);
        assert_eq!(some.len(), 2);
        assert_eq!(some[0].raw, b"CONTENT-Type: a\r\n\tb\r\n");
        assert_eq!(Fields::starting_with(b"Content-", b"content-").count(), 0);
    }

    #[test]
    fn header_fields_filter_keeps_order_and_blank_line() {
        let h = b"Date: d\r\nFrom: f\r\n x\r\nTo: t\r\nSubject: s\r\n\r\n";
        let names = vec![b"SUBJECT".to_vec(), b"from".to_vec()];
        assert_eq!(
            filter_fields(h, &names, false),
            b"From: f\r\n x\r\nSubject: s\r\n\r\n"
        );
        assert_eq!(filter_fields(h, &names, true), b"Date: d\r\nTo: t\r\n\r\n");
        assert_eq!(filter_fields(h, &[b"nope".to_vec()], false), b"\r\n");
    }
}
