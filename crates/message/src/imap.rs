//! IMAP string syntax for response data (RFC 3501 §4.3, §4.5; RFC 3516 §4.2).
//!
//! The choice between a quoted string and a literal follows UW imapd: a
//! string is quoted unless it holds an octet that a quoted string cannot
//! carry (NUL, CR, LF, `"`, `\`, or any 8-bit octet); then it is sent as a
//! literal `{n}\r\n...`. UW never escapes inside a quoted string, and neither
//! do we, so what a client sees is byte-for-byte what UW sent.

/// True when `s` can be sent as a quoted string without escapes.
pub fn quotable(s: &[u8]) -> bool {
    s.iter().all(|&c| QUOTABLE[usize::from(c)])
}

/// Octets a quoted string may carry as they are.
static QUOTABLE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 1;
    while c < 0x80 {
        t[c] = !matches!(c as u8, b'\r' | b'\n' | b'"' | b'\\');
        c += 1;
    }
    t
};

/// Appends `s` as a quoted string or, when it cannot be quoted, a literal.
/// A NUL, which no IMAP4rev1 string may hold, is sent as 0x80, the octet UW's
/// mailbox store puts in its place.
pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    if quotable(s) {
        out.push(b'"');
        out.extend_from_slice(s);
        out.push(b'"');
    } else if s.contains(&0) {
        let v: Vec<u8> = s.iter().map(|&c| if c == 0 { 0x80 } else { c }).collect();
        write_literal(out, &v);
    } else {
        write_literal(out, s);
    }
}

/// Appends `NIL` for `None`, else [`write_string`].
pub fn write_nstring(out: &mut Vec<u8>, s: Option<&[u8]>) {
    match s {
        Some(s) => write_string(out, s),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// Appends a synchronizing-form server literal `{n}\r\n` + data.
pub fn write_literal(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'{');
    write_number(out, s.len() as u64);
    out.extend_from_slice(b"}\r\n");
    out.extend_from_slice(s);
}

/// Appends a literal8 `~{n}\r\n` + data (RFC 3516), required when the data
/// contains NUL octets.
pub fn write_literal8(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'~');
    write_literal(out, s);
}

/// Appends a decimal number.
pub(crate) fn write_number(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        write_string(&mut v, x);
        v
    }

    #[test]
    fn plain_text_is_quoted() {
        assert_eq!(s(b"Alice Archer"), b"\"Alice Archer\"");
        assert_eq!(s(b""), b"\"\"");
    }

    #[test]
    fn specials_force_a_literal() {
        assert_eq!(s(b"a \"q\""), b"{5}\r\na \"q\"");
        assert_eq!(s(b"back\\slash"), b"{10}\r\nback\\slash");
        assert_eq!(s(b"two\r\nlines"), b"{10}\r\ntwo\r\nlines");
        assert_eq!(s("Grüße".as_bytes()), "{7}\r\nGrüße".as_bytes());
        assert_eq!(s(b"nul\0"), b"{4}\r\nnul\x80");
    }

    #[test]
    fn numbers_and_quotable_octets() {
        for n in [0u64, 7, 10, 99, 12_345, u64::MAX] {
            let mut v = Vec::new();
            write_number(&mut v, n);
            assert_eq!(v, n.to_string().as_bytes());
        }
        for c in 0..=255u8 {
            let plain = c != 0 && c != b'\r' && c != b'\n' && c != b'"' && c != b'\\' && c < 0x80;
            assert_eq!(quotable(&[b'a', c]), plain, "octet {c}");
        }
    }

    #[test]
    fn nstring_and_literal8() {
        let mut v = Vec::new();
        write_nstring(&mut v, None);
        v.push(b' ');
        write_literal8(&mut v, b"\0\x01");
        assert_eq!(v, b"NIL ~{2}\r\n\0\x01");
    }
}
