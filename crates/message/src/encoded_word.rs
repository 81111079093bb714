//! RFC 2047 encoded words, decoded to UTF-8 for SEARCH and SORT.
//!
//! ENVELOPE and BODYSTRUCTURE never decode them (RFC 3501 sends header text
//! as it is); this is only for matching and sort keys.

use crate::charset::to_utf8;
use crate::transfer::decode_base64;

/// What to do with raw 8-bit octets outside encoded words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raw8bit {
    /// Read them as UTF-8 (invalid sequences become U+FFFD): for display.
    Utf8,
    /// Replace each by U+FFFD: what UW's SEARCH does, so raw 8-bit header
    /// text never matches a non-ASCII search string.
    Replace,
    /// Keep each as an opaque character of its own, [`opaque_octet`]: text of
    /// an unknown charset, for sort keys that compare such octets as octets
    /// (RFC 5256 §2.1 decodes only encoded words; RFC 5051 §2).
    Opaque,
}

/// The character that stands for the raw octet `b` (0x80-0xFF) under
/// [`Raw8bit::Opaque`]: one of a private-use block, in octet order, which no
/// decomposition or case mapping changes and no decoded text contains.
pub fn opaque_octet(b: u8) -> char {
    char::from_u32(0xF700 + u32::from(b)).unwrap_or('\u{fffd}')
}

/// Decodes the encoded words in an (unfolded) header value. Words that are
/// malformed, use an unknown encoding letter or an unknown charset are left
/// as they are. White space between two adjacent encoded words is dropped.
pub fn decode_header_value(value: &[u8], raw: Raw8bit) -> String {
    let is_ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    let mut plain_start = 0;
    let mut after_word = false;
    while let Some(at) = memchr::memmem::find(&value[i..], b"=?") {
        i += at;
        if let Some((text, len)) = decode_word(&value[i..]) {
            let seg = &value[plain_start..i];
            if !(after_word && seg.iter().all(is_ws)) {
                push_raw(&mut out, seg, raw);
            }
            out.push_str(&text);
            i += len;
            plain_start = i;
            after_word = true;
        } else {
            i += 1;
        }
    }
    push_raw(&mut out, &value[plain_start..], raw);
    out
}

fn push_raw(out: &mut String, s: &[u8], raw: Raw8bit) {
    match raw {
        Raw8bit::Utf8 => out.push_str(&String::from_utf8_lossy(s)),
        Raw8bit::Opaque => {
            for run in s.split_inclusive(|c| !c.is_ascii()) {
                let (ascii, high) = match run.split_last() {
                    Some((&c, ascii)) if !c.is_ascii() => (ascii, Some(c)),
                    _ => (run, None),
                };
                out.push_str(std::str::from_utf8(ascii).unwrap_or_default());
                if let Some(c) = high {
                    out.push(opaque_octet(c));
                }
            }
        }
        Raw8bit::Replace => {
            for run in s.split_inclusive(|c| !c.is_ascii()) {
                let (ascii, high) = match run.split_last() {
                    Some((&c, ascii)) if !c.is_ascii() => (ascii, true),
                    _ => (run, false),
                };
                out.push_str(std::str::from_utf8(ascii).unwrap_or_default());
                if high {
                    out.push('\u{fffd}');
                }
            }
        }
    }
}

/// Decodes one encoded word at the start of `s`; returns its text and length.
fn decode_word(s: &[u8]) -> Option<(String, usize)> {
    // =?charset?X?text?=
    let body = s.strip_prefix(b"=?")?;
    let q1 = body.iter().position(|&c| c == b'?')?;
    let charset = &body[..q1];
    if charset.is_empty() || charset.iter().any(|&c| c <= b' ' || c >= 0x7f) {
        return None;
    }
    let enc = *body.get(q1 + 1)?;
    if body.get(q1 + 2) != Some(&b'?') {
        return None;
    }
    let text_start = q1 + 3;
    let rest = &body[text_start..];
    let close = rest.windows(2).position(|w| w == b"?=")?;
    let text = &rest[..close];
    if text.iter().any(|&c| c <= b' ' || c >= 0x7f) {
        return None;
    }
    let bytes = match enc {
        b'B' | b'b' => decode_base64(text),
        b'Q' | b'q' => decode_q(text),
        _ => return None,
    };
    let decoded = to_utf8(charset, &bytes)?;
    Some((decoded, 2 + text_start + close + 2))
}

fn decode_q(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let h = s.get(i + 1).and_then(|&c| (c as char).to_digit(16));
                let l = s.get(i + 2).and_then(|&c| (c as char).to_digit(16));
                if let (Some(h), Some(l)) = (h, l) {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                } else {
                    out.push(b'=');
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> String {
        decode_header_value(s.as_bytes(), Raw8bit::Utf8)
    }

    #[test]
    fn q_and_b_words() {
        assert_eq!(
            d("=?utf-8?q?Spesenabrechnung_=E2=80=93_Expenses?="),
            "Spesenabrechnung – Expenses"
        );
        assert_eq!(
            d("=?ISO-8859-1?q?D=E9claration_commune?="),
            "Déclaration commune"
        );
        assert_eq!(d("=?utf-8?b?RnLDpG5rIEdyw7xu?= <f@x>"), "Fränk Grün <f@x>");
    }

    #[test]
    fn adjacent_words_join_but_text_keeps_spaces() {
        assert_eq!(d("=?utf-8?q?a?= =?utf-8?q?b?="), "ab");
        assert_eq!(d("x =?utf-8?q?a?= y =?utf-8?q?b?="), "x a y b");
    }

    #[test]
    fn bad_words_stay_as_they_are() {
        assert_eq!(
            d("=?utf-8?x?bogus?= =?utf-8?q?unterminated"),
            "=?utf-8?x?bogus?= =?utf-8?q?unterminated"
        );
        assert_eq!(d("=?x-unknown?q?Mystery?="), "=?x-unknown?q?Mystery?=");
    }

    #[test]
    fn raw_8bit_policy() {
        assert_eq!(
            decode_header_value("Grüße".as_bytes(), Raw8bit::Utf8),
            "Grüße"
        );
        assert_eq!(
            decode_header_value("Grü".as_bytes(), Raw8bit::Replace),
            "Gr\u{fffd}\u{fffd}"
        );
    }

    /// The scan before it used memmem, as the reference.
    fn old_decode_header_value(value: &[u8], raw: Raw8bit) -> String {
        let is_ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
        let mut out = String::new();
        let mut i = 0;
        let mut plain_start = 0;
        let mut after_word = false;
        let push = |out: &mut String, s: &[u8]| match raw {
            Raw8bit::Utf8 => out.push_str(&String::from_utf8_lossy(s)),
            Raw8bit::Replace => {
                for &c in s {
                    out.push(if c < 0x80 { c as char } else { '\u{fffd}' });
                }
            }
            Raw8bit::Opaque => {
                for &c in s {
                    out.push(if c < 0x80 { c as char } else { opaque_octet(c) });
                }
            }
        };
        while i < value.len() {
            if value[i] == b'=' && value.get(i + 1) == Some(&b'?') {
                if let Some((text, len)) = decode_word(&value[i..]) {
                    let seg = &value[plain_start..i];
                    if !(after_word && seg.iter().all(is_ws)) {
                        push(&mut out, seg);
                    }
                    out.push_str(&text);
                    i += len;
                    plain_start = i;
                    after_word = true;
                    continue;
                }
            }
            i += 1;
        }
        push(&mut out, &value[plain_start..]);
        out
    }

    #[test]
    fn same_as_the_byte_by_byte_scan() {
        const PIECES: &[&[u8]] = &[
            b"=?",
            b"?=",
            b"=?utf-8?q?a=C3=A9?=",
            b"=?iso-8859-1?b?6Q==?=",
            b"=?x?q?y?=",
            b" ",
            b"\t",
            b"\r\n",
            b"a",
            b"Z",
            b"=",
            b"?",
            b"\xe9",
            b"\xc3\xa9",
            b"\xff",
            b"q",
            b"=?=?",
            b"=?utf-8?",
            b"_",
            b"=?utf-8?Q?z=",
            b"?b?",
        ];
        let mut seed: u64 = 0x1234_5678_9abc_def1;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let mut v = Vec::new();
            for _ in 0..next() % 12 {
                v.extend_from_slice(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            for raw in [Raw8bit::Utf8, Raw8bit::Replace, Raw8bit::Opaque] {
                assert_eq!(
                    decode_header_value(&v, raw),
                    old_decode_header_value(&v, raw),
                    "{v:?}"
                );
            }
        }
    }
}
