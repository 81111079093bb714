//! The fast SEARCH matcher against the straightforward one it replaced:
//! canonical text (NFKD then upper case, character by character through the
//! general normalizer), base64 decoding, and BODY/TEXT matching over
//! generated messages with mixed charsets and transfer encodings. Inputs are
//! generated from a fixed seed, so a failure repeats.

use message::charset::to_utf8;
use message::encoded_word::{decode_header_value, Raw8bit};
use message::text::{canonical, contains_ci, Needle};
use message::transfer::{decode_base64, decode_quoted_printable};
use message::{BodyPart, Message, Nested};
use unicode_normalization::UnicodeNormalization;

// ---- the reference: the code before the fast path ----------------------

fn old_canonical(s: &str) -> String {
    s.nfkd().flat_map(char::to_uppercase).collect()
}

fn old_contains_ci(haystack: &str, needle: &str) -> bool {
    needle.is_empty() || old_canonical(haystack).contains(&old_canonical(needle))
}

fn old_b64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

fn old_decode_base64(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut acc: u32 = 0;
    let mut n = 0;
    for &c in data {
        if c == b'=' {
            break;
        }
        let Some(v) = old_b64_value(c) else { continue };
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    out
}

fn old_to_utf8_lossy(charset: &[u8], bytes: &[u8]) -> String {
    to_utf8(charset, bytes).unwrap_or_else(|| String::from_utf8_lossy(bytes).into_owned())
}

fn old_collect(bytes: &[u8], b: &BodyPart, out: &mut Vec<String>) {
    match &b.nested {
        Nested::Multipart(parts) => parts.iter().for_each(|p| old_collect(bytes, p, out)),
        Nested::Message(m) => {
            out.push(decode_header_value(m.header.of(bytes), Raw8bit::Replace));
            old_collect(bytes, &m.body, out);
        }
        Nested::None => {
            let raw = b.content.of(bytes);
            let enc = b.encoding.to_ascii_uppercase();
            let decoded = match enc.as_slice() {
                b"7BIT" | b"8BIT" | b"BINARY" | b"" => raw.to_vec(),
                b"BASE64" => old_decode_base64(raw),
                b"QUOTED-PRINTABLE" => decode_quoted_printable(raw),
                _ => raw.to_vec(),
            };
            let charset = b.param("CHARSET").unwrap_or(b"US-ASCII");
            out.push(old_to_utf8_lossy(charset, &decoded));
        }
    }
}

fn old_body_matches(m: &Message<'_>, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let needle = old_canonical(needle);
    let mut texts = Vec::new();
    old_collect(m.bytes(), m.body(), &mut texts);
    texts.iter().any(|t| old_canonical(t).contains(&needle))
}

fn old_text_matches(m: &Message<'_>, needle: &str) -> bool {
    old_contains_ci(
        &decode_header_value(m.header_bytes(), Raw8bit::Replace),
        needle,
    ) || old_body_matches(m, needle)
}

// ---- generated inputs ---------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// Pieces that stress the folding: ASCII in both cases, fullwidth and
/// mathematical letters, ligatures, precomposed and decomposed accents,
/// combining marks in and out of canonical order, characters whose
/// decomposition starts with a non-starter, characters that upper-case to
/// several, Hangul, CJK, a supplementary-plane letter, U+FFFD.
const PIECES: &[&str] = &[
    "z",
    "Z",
    "e",
    "E",
    "p",
    "P",
    "l",
    "i",
    "n",
    "zeppelin",
    "ZEPPELIN",
    "Zepp",
    "elin",
    " ",
    "\r\n",
    "fi",
    "FI",
    "ss",
    "SS",
    "a",
    "A",
    "\u{ff3a}",
    "\u{ff45}",
    "\u{ff50}",
    "\u{fb01}",
    "\u{fb00}",
    "\u{fb03}",
    "\u{fb05}",
    "\u{e9}",
    "e\u{301}",
    "\u{301}",
    "\u{316}",
    "\u{327}",
    "\u{308}",
    "\u{345}",
    "\u{344}",
    "\u{f73}",
    "\u{1d15e}",
    "\u{df}",
    "\u{17f}",
    "\u{aa}",
    "\u{2122}",
    "\u{2026}",
    "\u{a8}",
    "\u{b4}",
    "\u{130}",
    "\u{390}",
    "\u{1f80}",
    "\u{d55c}",
    "\u{65e5}",
    "\u{1d419}",
    "\u{fffd}",
    "\u{c5}",
    "\u{212b}",
    "\u{3392}",
    "\u{2460}",
    "\u{1e9e}",
    "\u{149}",
    "\u{1c4}",
    "\u{1c6}",
    "\u{5d0}",
    "\u{5b4}",
    "\u{5b0}",
    "\u{e49}",
    "\u{e38}",
    "\u{430}",
    "\u{419}",
    "\u{439}",
];

fn text(rng: &mut Rng, max: usize) -> String {
    let n = rng.below(max + 1);
    (0..n).map(|_| *rng.pick(PIECES)).collect()
}

#[test]
fn canonical_matches_the_general_normalizer() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for _ in 0..20_000 {
        let s = text(&mut rng, 12);
        assert_eq!(canonical(&s), old_canonical(&s), "{s:?}");
    }
    // Every character of the Basic Multilingual Plane, alone and after a
    // base letter and before a combining mark.
    for cp in 0..0x1_0000u32 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        for s in [
            c.to_string(),
            format!("a{c}\u{316}\u{301}"),
            format!("{c}{c}x"),
        ] {
            assert_eq!(canonical(&s), old_canonical(&s), "U+{cp:04X}");
        }
    }
}

#[test]
fn contains_ci_matches_the_reference() {
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    for _ in 0..20_000 {
        let hay = text(&mut rng, 16);
        let needle = text(&mut rng, 3);
        let want = old_contains_ci(&hay, &needle);
        assert_eq!(contains_ci(&hay, &needle), want, "{hay:?} / {needle:?}");
        assert_eq!(
            needle.is_empty() || Needle::new(&needle).found_in(&hay, &mut b"junk".to_vec()),
            want
        );
    }
}

#[test]
fn base64_matches_the_reference() {
    let mut rng = Rng(0x5eed_1234_abcd_0003);
    let alphabet = b"ABCXYZabcxyz0189+/=\r\n \t*-\x80\xff";
    for _ in 0..20_000 {
        let n = rng.below(120);
        // Junk now often, now rarely, so that long clean runs occur too.
        let junk = 2 + rng.below(60);
        let data: Vec<u8> = (0..n)
            .map(|_| {
                if rng.below(junk) == 0 {
                    *rng.pick(alphabet)
                } else {
                    *rng.pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                }
            })
            .collect();
        assert_eq!(decode_base64(&data), old_decode_base64(&data), "{data:?}");
    }
}

/// Every single-byte charset, with random octets: folding straight from
/// the octets gives what converting to UTF-8 first gives.
#[test]
fn single_byte_charsets_match_the_reference() {
    let charsets = [
        "ibm866",
        "iso-8859-2",
        "iso-8859-3",
        "iso-8859-4",
        "iso-8859-5",
        "iso-8859-6",
        "iso-8859-7",
        "iso-8859-8",
        "iso-8859-8-i",
        "iso-8859-10",
        "iso-8859-13",
        "iso-8859-14",
        "iso-8859-15",
        "iso-8859-16",
        "koi8-r",
        "koi8-u",
        "macintosh",
        "windows-874",
        "windows-1250",
        "windows-1251",
        "windows-1252",
        "windows-1253",
        "windows-1254",
        "windows-1255",
        "windows-1256",
        "windows-1257",
        "windows-1258",
        "x-mac-cyrillic",
        "x-user-defined",
        "us-ascii",
        "iso-8859-1",
        "utf-8",
        "koi8",
    ];
    let mut rng = Rng(0x5eed_1234_abcd_0005);
    let mut scratch = Vec::new();
    for cs in charsets {
        for _ in 0..2_000 {
            let mut gen = |n: usize| -> Vec<u8> {
                (0..rng.below(n))
                    .map(|_| match rng.below(3) {
                        0 => *rng.pick(b"aeEfiIsSzZ \r\n"),
                        _ => 0x80 | rng.next() as u8,
                    })
                    .collect()
            };
            let hay = gen(30);
            let needle_bytes = gen(4);
            let needle = old_to_utf8_lossy(cs.as_bytes(), &needle_bytes);
            let hay_text = old_to_utf8_lossy(cs.as_bytes(), &hay);
            let want = old_contains_ci(&hay_text, &needle);
            let n = Needle::new(&needle);
            assert_eq!(
                needle.is_empty() || n.found_in_charset(cs.as_bytes(), &hay, &mut scratch),
                want,
                "{cs} {hay:?} / {needle_bytes:?}"
            );
            // A needle from the text itself, so that some are found.
            if hay_text.chars().count() > 3 {
                let sub: String = hay_text.chars().skip(1).take(3).collect();
                assert!(
                    Needle::new(&sub).found_in_charset(cs.as_bytes(), &hay, &mut scratch)
                        == old_contains_ci(&hay_text, &sub),
                    "{cs} {hay:?} / {sub:?}"
                );
            }
        }
    }
}

/// Longer texts, so that single-byte charsets are searched both by
/// windows around the octets that can give the needle and by folding
/// everything (where such octets are many).
#[test]
fn long_single_byte_texts_match_the_reference() {
    let charsets = [
        "windows-1252",
        "iso-8859-1",
        "koi8-r",
        "windows-1258",
        "x-user-defined",
    ];
    let snippets: &[&[u8]] = &[
        b"zep",
        b"ZEPPELIN",
        b"pel",
        b"lin ",
        b"\x8e",
        b"\x9e",
        b"\x99",
        b"tm",
        b"TM",
        b"the ",
        b"pp",
        b"\xe9",
        b"e\xcc",
        b"\xbc",
        b"\xc6",
        b"ss",
        b"\xdf",
        b"\r\n",
        b"\xa0",
    ];
    let needles = [
        "zeppelin",
        "ZEPP",
        "tm",
        "\u{2122}",
        "p",
        "pp",
        "\u{e9}",
        "e\u{301}",
        "\u{fb01}",
        "1\u{2044}4",
        "SS",
        "\u{df}",
        "the",
        "ETM",
        "z\u{30c}",
        "\u{17d}e",
        " ",
    ];
    let mut rng = Rng(0x5eed_1234_abcd_0006);
    let mut scratch = Vec::new();
    for _ in 0..600 {
        let cs = *rng.pick(&charsets);
        let len = rng.below(3000);
        let binary = rng.below(2) == 0;
        let mut hay = Vec::with_capacity(len);
        while hay.len() < len {
            if binary {
                hay.push(rng.next() as u8);
            } else if rng.below(4) == 0 {
                let s: &&[u8] = rng.pick(snippets);
                hay.extend_from_slice(s);
            } else {
                hay.push(*rng.pick(b"abcdefghijklmnopqrstuvwxyz "));
            }
        }
        let text = old_to_utf8_lossy(cs.as_bytes(), &hay);
        for needle in needles {
            assert_eq!(
                Needle::new(needle).found_in_charset(cs.as_bytes(), &hay, &mut scratch),
                old_contains_ci(&text, needle),
                "{cs} {hay:?} / {needle:?}"
            );
        }
        let chars: Vec<char> = text.chars().collect();
        if chars.len() > 8 {
            let at = rng.below(chars.len() - 8);
            let sub: String = chars[at..at + 1 + rng.below(7)].iter().collect();
            assert_eq!(
                Needle::new(&sub).found_in_charset(cs.as_bytes(), &hay, &mut scratch),
                old_contains_ci(&text, &sub),
                "{cs} {hay:?} / {sub:?}"
            );
        }
    }
}

fn base64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (k, chunk) in data.chunks(3).enumerate() {
        if k > 0 && k % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let w = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(w >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn qp(data: &[u8]) -> String {
    let mut out = String::new();
    for &c in data {
        if c == b'=' || !(0x20..0x7f).contains(&c) {
            out.push_str(&format!("={c:02X}"));
        } else {
            out.push(c as char);
        }
    }
    out
}

/// Encodes `s` in `charset` where it can; other characters become `?`, the
/// raw bytes of UTF-8, or whatever the charset makes of them: any bytes
/// will do, the point is that both matchers decode them the same way.
fn encode(charset: &str, s: &str) -> Vec<u8> {
    match encoding_rs::Encoding::for_label(charset.as_bytes()) {
        Some(enc) if charset != "x-unknown" => enc.encode(s).0.into_owned(),
        _ => s.as_bytes().to_vec(),
    }
}

fn part(rng: &mut Rng) -> Vec<u8> {
    let charset = *rng.pick(&[
        "",
        "utf-8",
        "UTF-8",
        "iso-8859-1",
        "windows-1252",
        "koi8-r",
        "iso-8859-7",
        "iso-2022-jp",
        "shift_jis",
        "x-unknown",
        "us-ascii",
        "windows-1258",
        "windows-1255",
        "iso-8859-8",
        "x-user-defined",
    ]);
    let body = text(rng, 20);
    let mut bytes = encode(charset, &body);
    if rng.below(5) == 0 {
        // Raw binary, as in an attachment.
        bytes.extend((0..rng.below(40)).map(|_| rng.next() as u8));
    }
    let (cte, data) = match rng.below(4) {
        0 => ("base64", base64(&bytes).into_bytes()),
        1 => ("quoted-printable", qp(&bytes).into_bytes()),
        2 => ("8bit", bytes),
        _ => ("x-uuencode", bytes),
    };
    let mut out = Vec::new();
    if charset.is_empty() {
        out.extend_from_slice(b"Content-Type: application/octet-stream\r\n");
    } else {
        out.extend_from_slice(
            format!("Content-Type: text/plain; charset={charset}\r\n").as_bytes(),
        );
    }
    out.extend_from_slice(format!("Content-Transfer-Encoding: {cte}\r\n\r\n").as_bytes());
    out.extend_from_slice(&data);
    out
}

fn message(rng: &mut Rng, depth: usize) -> Vec<u8> {
    let subject = match rng.below(3) {
        0 => format!(
            "=?utf-8?b?{}?=",
            base64(text(rng, 6).as_bytes()).replace("\r\n", "")
        ),
        1 => format!(
            "=?iso-8859-1?q?{}?=",
            qp(&encode("iso-8859-1", &text(rng, 6)))
        ),
        _ => String::from_utf8_lossy(&encode("utf-8", &text(rng, 6))).into_owned(),
    };
    let mut out = format!("From: A <a@b>\r\nSubject: {subject}\r\n").into_bytes();
    match rng.below(if depth > 2 { 1 } else { 3 }) {
        0 => out.extend(part(rng)),
        1 => {
            out.extend_from_slice(b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
            for _ in 0..1 + rng.below(3) {
                out.extend_from_slice(b"--b\r\n");
                out.extend(part(rng));
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"--b--\r\n");
        }
        _ => {
            out.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
            out.extend(message(rng, depth + 1));
        }
    }
    out
}

#[test]
fn body_and_text_match_the_reference() {
    let mut rng = Rng(0x5eed_1234_abcd_0004);
    let fixed = [
        "zeppelin", "ZEP", "fi", "\u{fb01}", "e\u{301}", "\u{e9}", "SS", "A", "\u{316}",
    ];
    for _ in 0..3_000 {
        let bytes = message(&mut rng, 0);
        let m = Message::parse(&bytes);
        let mut old_texts = Vec::new();
        old_collect(m.bytes(), m.body(), &mut old_texts);
        assert_eq!(m.body_texts(), old_texts);
        for k in 0..4 {
            let needle = if k == 0 {
                (*rng.pick(&fixed)).to_owned()
            } else {
                text(&mut rng, 2)
            };
            let ctx = || format!("{:?} / {needle:?}", String::from_utf8_lossy(&bytes));
            assert_eq!(
                m.body_matches(&needle),
                old_body_matches(&m, &needle),
                "{}",
                ctx()
            );
            assert_eq!(
                m.text_matches(&needle),
                old_text_matches(&m, &needle),
                "{}",
                ctx()
            );
        }
    }
}
