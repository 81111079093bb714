//! Charset conversion to UTF-8 (for SEARCH), via `encoding_rs`: UTF-8,
//! US-ASCII, ISO-8859-x, Windows-125x, KOI8-R/U, ISO-2022-JP, Shift_JIS,
//! EUC-JP, EUC-KR, GBK/GB2312, Big5 and the other WHATWG labels.

use std::borrow::Cow;

use encoding_rs::Encoding;

/// The encoding a charset name stands for.
pub(crate) fn encoding(charset: &[u8]) -> Option<&'static Encoding> {
    lookup(charset)
}

fn lookup(charset: &[u8]) -> Option<&'static Encoding> {
    let label = charset.trim_ascii();
    // RFC 2231 language suffix on encoded-word charsets: "utf-8*en".
    let label = match label.iter().position(|&c| c == b'*') {
        Some(i) => &label[..i],
        None => label,
    };
    Encoding::for_label_no_replacement(label).or_else(|| {
        // Labels WHATWG lacks but mail uses.
        let l = label.to_ascii_lowercase();
        match l.as_slice() {
            b"ansi_x3.4-1968" | b"iso646-us" | b"ascii" | b"us" => Some(encoding_rs::WINDOWS_1252),
            b"utf8" => Some(encoding_rs::UTF_8),
            _ => None,
        }
    })
}

/// True when `charset` names a charset we can convert.
pub fn is_known(charset: &[u8]) -> bool {
    lookup(charset).is_some()
}

/// Converts `bytes` in `charset` to UTF-8; `None` for an unknown charset.
/// Malformed sequences become U+FFFD.
pub fn to_utf8(charset: &[u8], bytes: &[u8]) -> Option<String> {
    let enc = lookup(charset)?;
    Some(enc.decode_without_bom_handling(bytes).0.into_owned())
}

/// Like [`to_utf8`], but an unknown charset is read as UTF-8.
pub fn to_utf8_lossy(charset: &[u8], bytes: &[u8]) -> String {
    decode_lossy(charset, bytes).into_owned()
}

/// Like [`to_utf8_lossy`], borrowing `bytes` when they are already the
/// UTF-8 text (ASCII in an ASCII-compatible charset, valid UTF-8).
pub fn decode_lossy<'b>(charset: &[u8], bytes: &'b [u8]) -> Cow<'b, str> {
    match lookup(charset) {
        Some(enc) => enc.decode_without_bom_handling(bytes).0,
        None => String::from_utf8_lossy(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_mail_charsets() {
        assert_eq!(to_utf8(b"ISO-8859-1", b"caf\xe9").unwrap(), "café");
        assert_eq!(to_utf8(b"windows-1252", b"\x80").unwrap(), "€");
        assert_eq!(
            to_utf8(b"koi8-r", b"\xf0\xd2\xc9\xd7\xc5\xd4").unwrap(),
            "Привет"
        );
        assert_eq!(to_utf8(b"iso-8859-15", b"\xa4").unwrap(), "€");
        assert_eq!(to_utf8(b"us-ascii", b"abc").unwrap(), "abc");
        assert_eq!(to_utf8(b"UTF-8", "é".as_bytes()).unwrap(), "é");
        assert_eq!(
            to_utf8(b"iso-2022-jp", b"\x1b$B$3$s\x1b(B").unwrap(),
            "こん"
        );
        assert!(to_utf8(b"x-unknown", b"x").is_none());
        assert_eq!(to_utf8_lossy(b"x-unknown", b"x\xff"), "x\u{fffd}");
    }
}
