//! Content-Transfer-Encoding decoders (RFC 2045 §6.7, §6.8), lenient the
//! way c-client's `rfc822_qprint` and `rfc822_base64` are: they never fail on
//! bad input, they decode what they can.

/// The transfer encodings, by their upper-case BODYSTRUCTURE names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEncoding {
    /// 7BIT, 8BIT or BINARY: the octets are the data.
    Identity,
    /// BASE64.
    Base64,
    /// QUOTED-PRINTABLE.
    QuotedPrintable,
    /// Anything else (x-uuencode, typos...): cannot be decoded.
    Unknown,
}

impl TransferEncoding {
    /// Classifies an encoding name (case-insensitive).
    pub fn from_name(name: &[u8]) -> TransferEncoding {
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        if name.is_empty() || is("7BIT") || is("8BIT") || is("BINARY") {
            TransferEncoding::Identity
        } else if is("BASE64") {
            TransferEncoding::Base64
        } else if is("QUOTED-PRINTABLE") {
            TransferEncoding::QuotedPrintable
        } else {
            TransferEncoding::Unknown
        }
    }

    /// Decodes `data`; `None` for [`TransferEncoding::Unknown`].
    pub fn decode(self, data: &[u8]) -> Option<Vec<u8>> {
        match self {
            TransferEncoding::Identity => Some(data.to_vec()),
            TransferEncoding::Base64 => Some(decode_base64(data)),
            TransferEncoding::QuotedPrintable => Some(decode_quoted_printable(data)),
            TransferEncoding::Unknown => None,
        }
    }
}

/// Marks an octet outside the base64 alphabet in [`B64`].
const NOT_B64: u8 = 0xff;

/// The value of each octet as a base64 digit, or [`NOT_B64`].
const B64: [u8; 256] = {
    let mut t = [NOT_B64; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'/' as usize] = 63;
    t
};

/// Base64: octets outside the alphabet are skipped; decoding ends at the
/// padding; a trailing partial quantum yields the complete octets it holds.
pub fn decode_base64(data: &[u8]) -> Vec<u8> {
    // Never more than 3 octets per 4 digits, and 3 to spare: a store of 8
    // octets for 8 digits, or of 4 for 4, fits.
    let mut out = vec![0; data.len() / 4 * 3 + 3];
    let mut len = 0;
    let mut acc: u32 = 0;
    let mut n = 0;
    let mut i = 0;
    while i < data.len() {
        // Whole quanta of four digits at once, the common case.
        if n == 0 {
            // Eight digits, six octets: an eight-octet store, six kept.
            while let Some(q) = data.get(i..i + 8) {
                let mut w: u64 = 0;
                let mut bad = 0;
                for &c in q {
                    let v = B64[c as usize];
                    bad |= v;
                    w = w << 6 | u64::from(v & 0x3f);
                }
                if bad & 0x80 != 0 {
                    break;
                }
                out[len..len + 8].copy_from_slice(&(w << 16).to_be_bytes());
                len += 6;
                i += 8;
            }
            while let Some(&[a, b, c, d]) = data.get(i..i + 4) {
                let v = [a, b, c, d].map(|c| B64[c as usize]);
                if (v[0] | v[1] | v[2] | v[3]) & 0x80 != 0 {
                    break;
                }
                let w = u32::from(v[0]) << 18
                    | u32::from(v[1]) << 12
                    | u32::from(v[2]) << 6
                    | u32::from(v[3]);
                // Four octets stored, three kept: there is room (see above).
                out[len..len + 4].copy_from_slice(&(w << 8).to_be_bytes());
                len += 3;
                i += 4;
            }
            if i >= data.len() {
                break;
            }
        }
        let c = data[i];
        i += 1;
        if c == b'=' {
            break;
        }
        let v = B64[c as usize];
        if v == NOT_B64 {
            continue;
        }
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out[len..len + 3].copy_from_slice(&acc.to_be_bytes()[1..]);
            len += 3;
            acc = 0;
            n = 0;
        }
    }
    let tail: &[u8] = match n {
        2 => &[(acc >> 4) as u8],
        3 => &[(acc >> 10) as u8, (acc >> 2) as u8],
        _ => &[],
    };
    out[len..len + tail.len()].copy_from_slice(tail);
    out.truncate(len + tail.len());
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Quoted-printable: `=XX` (either case), soft line breaks (`=` then optional
/// blanks then a line end), trailing blanks before a line end dropped; a bad
/// `=` sequence is kept literally.
pub fn decode_quoted_printable(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    // Length of `out` up to its last significant (non-blank) octet.
    let mut sig = 0;
    let mut i = 0;
    while i < data.len() {
        let c = data[i];
        i += 1;
        match c {
            b'=' => {
                let mut j = i;
                while j < data.len() && matches!(data[j], b' ' | b'\t') {
                    j += 1;
                }
                if j >= data.len() && j > i {
                    // "=" plus blanks at the very end: a soft break.
                    i = j;
                    sig = out.len();
                } else if data.get(j) == Some(&b'\n')
                    || (data.get(j) == Some(&b'\r') && data.get(j + 1) == Some(&b'\n'))
                {
                    i = if data[j] == b'\r' { j + 2 } else { j + 1 };
                    sig = out.len();
                } else if let (Some(h), Some(l)) = (
                    data.get(i).and_then(|&c| hex(c)),
                    data.get(i + 1).and_then(|&c| hex(c)),
                ) {
                    out.push(h << 4 | l);
                    i += 2;
                    sig = out.len();
                } else if i >= data.len() {
                    sig = out.len();
                } else {
                    out.push(b'=');
                    sig = out.len();
                }
            }
            b' ' | b'\t' => out.push(c),
            b'\r' | b'\n' => {
                out.truncate(sig);
                out.push(c);
                sig = out.len();
            }
            _ => {
                out.push(c);
                sig = out.len();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_skips_junk() {
        assert_eq!(decode_base64(b"aGVs\r\nbG8=\r\n"), b"hello");
        assert_eq!(decode_base64(b"aGVsbG8"), b"hello");
        assert_eq!(decode_base64(b"a G*V s"), b"hel");
        assert_eq!(decode_base64(b"AA==trailing"), b"\0");
    }

    #[test]
    fn quoted_printable_rules() {
        assert_eq!(decode_quoted_printable(b"a=3Db=3db"), b"a=b=b");
        assert_eq!(decode_quoted_printable(b"soft=\r\nbreak"), b"softbreak");
        assert_eq!(decode_quoted_printable(b"pad=  \r\nx"), b"padx");
        assert_eq!(decode_quoted_printable(b"trail   \r\nx"), b"trail\r\nx");
        assert_eq!(decode_quoted_printable(b"sp=20\r\n"), b"sp \r\n");
        assert_eq!(decode_quoted_printable(b"bad=ZZ ok"), b"bad=ZZ ok");
        assert_eq!(decode_quoted_printable(b"end="), b"end");
    }

    #[test]
    fn encodings_by_name() {
        assert_eq!(
            TransferEncoding::from_name(b"base64"),
            TransferEncoding::Base64
        );
        assert_eq!(
            TransferEncoding::from_name(b"X-UUENCODE"),
            TransferEncoding::Unknown
        );
        assert_eq!(TransferEncoding::Unknown.decode(b"x"), None);
    }
}
