//! MIME header fields (RFC 2045, 2183, 3066, 2557): Content-Type with its
//! parameters, Content-Transfer-Encoding, -ID, -Description, -MD5,
//! -Disposition, -Language and -Location, parsed with c-client's rules so
//! that BODYSTRUCTURE matches UW imapd:
//!
//! - type, subtype, parameter names, encoding, disposition type and language
//!   tags are upper-cased; parameter values are unquoted;
//! - a parameter without a value gets `MISSING_PARAMETER_VALUE`;
//! - parsing of a parameter list stops at the first octet that does not fit
//!   (`foo/bar/baz; a=b` has no parameters);
//! - RFC 2231 parameters are passed through undecoded;
//! - the first Content-Type that yields a subtype or a parameter wins, and so
//!   does the first of each other field.
//!
//! Content-Description is unstructured (RFC 2045 §8) and is kept verbatim;
//! UW strips a leading `( ... )` as if it were a comment, which is wrong.

use crate::header::{unfold_cow, Fields};
use crate::lex::{parse_word, skip_ws, unquote, upper, TSPECIALS};

/// A parameter list: upper-cased names with unquoted values, in order.
pub type Params = Vec<(Vec<u8>, Vec<u8>)>;

/// Value given to a parameter that has none (c-client's choice).
pub const MISSING_PARAMETER_VALUE: &[u8] = b"MISSING_PARAMETER_VALUE";

/// Content-Disposition: upper-cased type and its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Disposition {
    /// e.g. `ATTACHMENT`, `INLINE`.
    pub kind: Vec<u8>,
    /// e.g. `FILENAME`.
    pub params: Params,
}

/// The Content-* fields of one header.
#[derive(Debug, Clone, Default)]
pub(crate) struct ContentFields {
    pub media_type: Option<Vec<u8>>,
    pub subtype: Option<Vec<u8>>,
    pub params: Params,
    pub encoding: Option<Vec<u8>>,
    pub id: Option<Vec<u8>>,
    pub description: Option<Vec<u8>>,
    pub md5: Option<Vec<u8>>,
    pub disposition: Option<Disposition>,
    pub language: Option<Vec<Vec<u8>>>,
    pub location: Option<Vec<u8>>,
}

impl ContentFields {
    /// The Content-* fields of raw header bytes.
    pub fn parse(header: &[u8]) -> ContentFields {
        let mut c = ContentFields::default();
        for f in Fields::starting_with(header, b"content-") {
            if f.name.len() > 8 && f.name[..8].eq_ignore_ascii_case(b"content-") {
                c.add(&f.name[8..], &unfold_cow(f.value));
            }
        }
        c
    }

    fn add(&mut self, which: &[u8], value: &[u8]) {
        let s = value;
        let start = skip_ws(s, 0);
        let is = |n: &str| which.eq_ignore_ascii_case(n.as_bytes());
        if is("type") {
            if self.subtype.is_none() && self.params.is_empty() {
                self.parse_type(s, start);
            }
        } else if is("transfer-encoding") {
            if self.encoding.is_none() {
                if let Some((a, b)) = parse_word(s, start, TSPECIALS) {
                    self.encoding = Some(upper(&s[a..b]));
                }
            }
        } else if is("id") {
            self.id.get_or_insert_with(|| s[start..].to_vec());
        } else if is("description") {
            self.description.get_or_insert_with(|| s.to_vec());
        } else if is("md5") {
            self.md5.get_or_insert_with(|| s[start..].to_vec());
        } else if is("location") {
            self.location.get_or_insert_with(|| s[start..].to_vec());
        } else if is("disposition") {
            if self.disposition.is_none() {
                if let Some((a, b)) = parse_word(s, start, TSPECIALS) {
                    let mut d = Disposition {
                        kind: upper(&s[a..b]),
                        params: Vec::new(),
                    };
                    parse_params(s, skip_ws(s, b), &mut d.params);
                    self.disposition = Some(d);
                }
            }
        } else if is("language") && self.language.is_none() {
            let mut tags = Vec::new();
            let mut i = start;
            while let Some((a, b)) = parse_word(s, i, TSPECIALS) {
                tags.push(upper(&s[a..b]));
                let j = skip_ws(s, b);
                if s.get(j) == Some(&b',') {
                    i = j + 1;
                } else {
                    break;
                }
            }
            if !tags.is_empty() {
                self.language = Some(tags);
            }
        }
    }

    fn parse_type(&mut self, s: &[u8], start: usize) {
        let Some((a, b)) = parse_word(s, start, TSPECIALS) else {
            return;
        };
        self.media_type = Some(upper_unquoted(&s[a..b]));
        let mut i = skip_ws(s, b);
        if s.get(i) == Some(&b'/') {
            match parse_word(s, i + 1, TSPECIALS) {
                Some((a, b)) => {
                    self.subtype = Some(upper_unquoted(&s[a..b]));
                    i = skip_ws(s, b);
                }
                None => i = skip_ws(s, i + 1),
            }
        }
        parse_params(s, i, &mut self.params);
    }
}

/// c-client `rfc822_parse_parameter`: `; name=value` pairs from `s[i..]`.
pub(crate) fn parse_params(s: &[u8], mut i: usize, params: &mut Params) {
    const MAX_PARAMS: usize = 256;
    while s.get(i) == Some(&b';') && params.len() < MAX_PARAMS {
        let Some((a, b)) = parse_word(s, i + 1, TSPECIALS) else {
            return;
        };
        let name = upper(&s[a..b]);
        let mut t = skip_ws(s, b);
        let mut value = None;
        if s.get(t) == Some(&b'=') {
            match parse_word(s, t + 1, TSPECIALS) {
                Some((va, vb)) => {
                    value = Some(unquote(&s[va..vb]));
                    t = skip_ws(s, vb);
                }
                None => {
                    params.push((name, MISSING_PARAMETER_VALUE.to_vec()));
                    return;
                }
            }
        }
        params.push((
            name,
            value.unwrap_or_else(|| MISSING_PARAMETER_VALUE.to_vec()),
        ));
        i = t;
    }
}

/// [`unquote`] then upper-case, in one copy.
fn upper_unquoted(s: &[u8]) -> Vec<u8> {
    let mut v = unquote(s);
    v.make_ascii_uppercase();
    v
}

/// Case-insensitive parameter lookup.
pub fn param<'p>(params: &'p Params, name: &str) -> Option<&'p [u8]> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| v.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(v: &str) -> ContentFields {
        let mut c = ContentFields::default();
        c.add(b"Type", v.as_bytes());
        c
    }

    #[test]
    fn type_subtype_and_params() {
        let c = ct(r#"Text/Html; Charset="ISO-8859-1"; format = flowed"#);
        assert_eq!(c.media_type.unwrap(), b"TEXT");
        assert_eq!(c.subtype.unwrap(), b"HTML");
        assert_eq!(
            c.params,
            vec![
                (b"CHARSET".to_vec(), b"ISO-8859-1".to_vec()),
                (b"FORMAT".to_vec(), b"flowed".to_vec())
            ]
        );
    }

    #[test]
    fn comments_and_quoted_specials() {
        let c = ct(
            r#"multipart/mixed (outer comment); boundary="=_part;boundary?(x)" ; charset = us-ascii"#,
        );
        assert_eq!(
            param(&c.params, "boundary").unwrap(),
            b"=_part;boundary?(x)"
        );
        assert_eq!(param(&c.params, "CHARSET").unwrap(), b"us-ascii");
    }

    #[test]
    fn missing_values_and_bad_tails() {
        let c = ct(r#"application/octet-stream; name=unquoted.bin; empty=""; novalue="#);
        assert_eq!(param(&c.params, "empty").unwrap(), b"");
        assert_eq!(
            param(&c.params, "novalue").unwrap(),
            MISSING_PARAMETER_VALUE
        );
        let c = ct("foo/bar/baz; a=b");
        assert_eq!(c.subtype.unwrap(), b"BAR");
        assert!(c.params.is_empty());
        let c = ct("image/; name=x.png");
        assert!(c.subtype.is_none());
        assert_eq!(param(&c.params, "name").unwrap(), b"x.png");
        assert!(ct("; charset=us-ascii").media_type.is_none());
    }

    #[test]
    fn disposition_and_language() {
        let mut c = ContentFields::default();
        c.add(
            b"disposition",
            br#"attachment; filename="back\\slash.txt"; x-flag"#,
        );
        c.add(b"language", b"en, de");
        let d = c.disposition.unwrap();
        assert_eq!(d.kind, b"ATTACHMENT");
        assert_eq!(d.params[0].1, br"back\slash.txt");
        assert_eq!(
            d.params[1],
            (b"X-FLAG".to_vec(), MISSING_PARAMETER_VALUE.to_vec())
        );
        assert_eq!(c.language.unwrap(), vec![b"EN".to_vec(), b"DE".to_vec()]);
    }
}
