//! Modified UTF-7 for mailbox names (RFC 3501 §5.1.3).
//!
//! Printable US-ASCII other than `&` stands for itself; `&` is `&-`; anything else
//! is UTF-16 in a modified base64 (`,` for `/`, no padding) between `&` and `-`.
//! Decoding is strict, so that every name has exactly one spelling on the wire:
//! a shifted run must not encode printable ASCII, must not follow another one
//! directly, must end in `-`, must leave only zero padding bits, and must hold
//! whole, correctly paired UTF-16 units. Octets above 0x7e and control characters
//! may not appear unencoded.

use std::fmt;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Why a name is not valid modified UTF-7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf7Error(&'static str);

impl fmt::Display for Utf7Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mailbox name is not modified UTF-7: {}", self.0)
    }
}

impl std::error::Error for Utf7Error {}

fn is_direct(c: u32) -> bool {
    (0x20..=0x7e).contains(&c)
}

/// Encodes a UTF-8 name for the wire.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    let mut run: Vec<u16> = Vec::new();
    for c in name.chars() {
        if is_direct(c as u32) {
            flush(&mut out, &mut run);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut out, &mut run);
    out
}

fn flush(out: &mut String, run: &mut Vec<u16>) {
    if run.is_empty() {
        return;
    }
    out.push('&');
    let mut bits: u32 = 0;
    let mut n = 0;
    for unit in run.drain(..) {
        bits = (bits << 16) | u32::from(unit);
        n += 16;
        while n >= 6 {
            n -= 6;
            out.push(ALPHABET[((bits >> n) & 63) as usize] as char);
        }
        bits &= (1 << n) - 1;
    }
    if n > 0 {
        out.push(ALPHABET[((bits << (6 - n)) & 63) as usize] as char);
    }
    out.push('-');
}

fn value(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b',' => 63,
        _ => return None,
    } as u32)
}

/// Decodes a name from the wire into UTF-8.
pub fn decode(wire: &[u8]) -> Result<String, Utf7Error> {
    let mut out = String::with_capacity(wire.len());
    let mut i = 0;
    let mut after_shift = false;
    while i < wire.len() {
        let b = wire[i];
        if b != b'&' {
            if !is_direct(u32::from(b)) {
                return Err(Utf7Error("unencoded octet outside printable ASCII"));
            }
            out.push(b as char);
            i += 1;
            after_shift = false;
            continue;
        }
        i += 1;
        if wire.get(i) == Some(&b'-') {
            out.push('&');
            i += 1;
            after_shift = false;
            continue;
        }
        if after_shift {
            return Err(Utf7Error("two encoded runs side by side"));
        }
        let mut bits: u32 = 0;
        let mut n = 0;
        let mut units: Vec<u16> = Vec::new();
        loop {
            let Some(&c) = wire.get(i) else {
                return Err(Utf7Error("encoded run without its closing '-'"));
            };
            i += 1;
            if c == b'-' {
                break;
            }
            let v = value(c).ok_or(Utf7Error("invalid character in an encoded run"))?;
            bits = (bits << 6) | v;
            n += 6;
            if n >= 16 {
                n -= 16;
                units.push((bits >> n) as u16);
                bits &= (1 << n) - 1;
            }
        }
        if n >= 6 || bits != 0 {
            return Err(Utf7Error("encoded run with leftover bits"));
        }
        if units.is_empty() {
            return Err(Utf7Error("empty encoded run"));
        }
        for c in char::decode_utf16(units) {
            let c = c.map_err(|_| Utf7Error("unpaired UTF-16 surrogate"))?;
            if is_direct(c as u32) {
                return Err(Utf7Error("printable ASCII inside an encoded run"));
            }
            out.push(c);
        }
        after_shift = true;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_3501_example() {
        // §5.1.3: "~peter/mail/台北/日本語"
        let name = "~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}";
        let wire = "~peter/mail/&U,BTFw-/&ZeVnLIqe-";
        assert_eq!(encode(name), wire);
        assert_eq!(decode(wire.as_bytes()).unwrap(), name);
    }

    #[test]
    fn ampersand_and_umlauts() {
        assert_eq!(encode("A&B"), "A&-B");
        assert_eq!(decode(b"A&-B").unwrap(), "A&B");
        assert_eq!(encode("Entwürfe"), "Entw&APw-rfe");
        assert_eq!(decode(b"Entw&APw-rfe").unwrap(), "Entwürfe");
        assert_eq!(encode("😀"), "&2D3eAA-");
        assert_eq!(decode(b"&2D3eAA-").unwrap(), "😀");
    }

    #[test]
    fn non_canonical_spellings_are_refused() {
        for bad in [
            &b"&AGE-"[..],  // 'a' encoded
            b"&APw-&APw-",  // adjacent runs
            b"&APw",        // unterminated
            b"&APx-",       // leftover bits
            b"&2D0-",       // lone high surrogate
            b"caf\xc3\xa9", // raw 8-bit
            b"tab\there",   // raw control
            b"&-&",         // '&' at the end
            b"&*-",         // bad base64
        ] {
            assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn round_trips_over_many_characters() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let len = (seed % 12) as usize;
            let mut s = String::new();
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let c = match seed % 4 {
                    0 => char::from_u32((seed >> 8) as u32 % 0x5f + 0x20),
                    1 => char::from_u32((seed >> 8) as u32 % 0x300 + 0x80),
                    2 => char::from_u32((seed >> 8) as u32 % 0x10000 + 0x10000),
                    _ => Some('&'),
                };
                if let Some(c) = c {
                    s.push(c);
                }
            }
            let wire = encode(&s);
            assert!(wire.bytes().all(|b| is_direct(u32::from(b))));
            assert_eq!(decode(wire.as_bytes()).unwrap(), s);
            assert_eq!(encode(&decode(wire.as_bytes()).unwrap()), wire);
        }
    }
}
