//! Canonical text for comparisons: c-client compares SEARCH strings and
//! SORT/THREAD subjects after decomposing (compatibility decomposition) and
//! case folding them (its `U8T_CANONICAL`), so `Déclaration` sorts before
//! `Duplicate` and a precomposed `é` matches a decomposed one.
//!
//! The canonical form is NFKD followed by upper-casing each character. Both
//! steps are computed piecewise, which gives exactly the same text:
//! upper-casing works character by character, and NFKD reorders combining
//! marks only within a run of non-starters (canonical combining class not 0),
//! so a string can be cut before any character whose decomposition begins
//! with a starter, or after one whose decomposition ends with one, and the
//! pieces decomposed separately. ASCII characters are their own
//! decomposition and are starters, so ASCII runs only need ASCII
//! upper-casing; a piece that is one other character uses that character's
//! canonical form, looked up in a table built per block of 256 code points
//! on first use; only a piece with several characters (a base followed by
//! combining marks) goes through the general normalizer. Text in a
//! single-byte charset (the US-ASCII default, read as windows-1252, of
//! every binary attachment) is folded straight from its octets with a
//! 256-entry table per charset, without converting it to UTF-8 first.
//! `tests/search_equivalence.rs` checks all this against the plain
//! character-by-character definition.

use std::sync::{Mutex, OnceLock};

use encoding_rs::Encoding;
use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::UnicodeNormalization;

use crate::charset;

/// The canonical form: NFKD, then upper case.
pub fn canonical(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    canonical_into(s, &mut out);
    // Only whole UTF-8 sequences are ever appended.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Appends the UTF-8 of the canonical form of `s` to `out`.
fn canonical_into(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let run = ascii_prefix_len(&bytes[i..]);
        if run > 0 {
            push_ascii_upper(out, &bytes[i..i + run]);
            i += run;
            continue;
        }
        // A piece that starts here (after ASCII, at the start, or at a
        // character whose decomposition begins with a starter) and runs up
        // to the next such character.
        let rest = &s[i..];
        let mut chars = rest.char_indices();
        let (_, first) = chars.next().unwrap_or((0, '\0'));
        let mut end = rest.len();
        let mut single = true;
        for (k, c) in chars {
            if starts_with_starter(c) {
                end = k;
                break;
            }
            single = false;
        }
        match lookup(first) {
            Some(folded) if single => out.extend_from_slice(folded.as_bytes()),
            _ => push_folded(out, &rest[..end]),
        }
        i += end;
    }
}

/// Appends the canonical form of `piece` computed by the general
/// normalizer.
fn push_folded(out: &mut Vec<u8>, piece: &str) {
    let mut buf = [0; 4];
    for c in piece.nfkd().flat_map(char::to_uppercase) {
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
}

/// Case-insensitive substring test on canonical text, the SEARCH
/// primitive. An empty needle matches.
pub fn contains_ci(haystack: &str, needle: &str) -> bool {
    needle.is_empty() || Needle::new(needle).found_in(haystack, &mut Vec::new())
}

/// A SEARCH string in canonical form, to look for in several texts.
#[derive(Debug, Clone)]
pub struct Needle {
    finder: memchr::memmem::Finder<'static>,
}

impl Needle {
    /// Prepares `needle`.
    pub fn new(needle: &str) -> Needle {
        Needle {
            finder: memchr::memmem::Finder::new(canonical(needle).as_bytes()).into_owned(),
        }
    }

    /// True when the canonical form of `haystack` contains the needle's
    /// (so an empty needle is found everywhere). `scratch` is working
    /// space, reused between calls to save allocations.
    pub fn found_in(&self, haystack: &str, scratch: &mut Vec<u8>) -> bool {
        if self.finder.needle().is_empty() {
            return true;
        }
        scratch.clear();
        scratch.reserve(haystack.len());
        canonical_into(haystack, scratch);
        self.found_in_canonical(scratch)
    }

    /// Like [`Needle::found_in`] on `bytes` in `charset`, converted as
    /// [`charset::decode_lossy`] does; text in a single-byte charset is
    /// folded straight from its octets.
    pub fn found_in_charset(&self, charset: &[u8], bytes: &[u8], scratch: &mut Vec<u8>) -> bool {
        if self.finder.needle().is_empty() {
            return true;
        }
        match charset::encoding(charset).and_then(ByteFold::of) {
            Some(fold) => match &fold.short {
                Some(short) => self.found_in_short(fold, short, bytes, scratch),
                None => self.found_in_folded(fold, bytes, scratch),
            },
            None => self.found_in(&charset::decode_lossy(charset, bytes), scratch),
        }
    }

    fn found_in_folded(&self, fold: &ByteFold, bytes: &[u8], scratch: &mut Vec<u8>) -> bool {
        scratch.clear();
        scratch.reserve(bytes.len());
        fold.canonical_into(bytes, scratch);
        self.found_in_canonical(scratch)
    }

    /// [`Needle::found_in_charset`] when every octet of the charset is a
    /// piece of its own, so that the canonical text of any run of octets
    /// is a part of the whole text's. Some octet of the needle's canonical
    /// form (`j`, the one the fewest charset octets can give) comes from an
    /// octet `p` of the text, and then the whole match comes from the
    /// octets `p - j .. p + len` (each octet gives at least one): only
    /// those windows around the octets that can give it are folded and
    /// searched. Where such octets abound, the whole text is folded after
    /// all.
    fn found_in_short(
        &self,
        fold: &ByteFold,
        short: &ShortTable,
        bytes: &[u8],
        scratch: &mut Vec<u8>,
    ) -> bool {
        let needle = self.finder.needle();
        let Some((j, sources)) = needle
            .iter()
            .enumerate()
            .map(|(j, &c)| (j, &fold.sources[c as usize]))
            .min_by_key(|(_, s)| s.len())
        else {
            return true;
        };
        let candidates: Box<dyn Iterator<Item = usize>> = match sources[..] {
            [] => return false,
            [a] => Box::new(memchr::memchr_iter(a, bytes)),
            [a, b] => Box::new(memchr::memchr2_iter(a, b, bytes)),
            [a, b, c] => Box::new(memchr::memchr3_iter(a, b, c, bytes)),
            _ => return self.found_in_folded(fold, bytes, scratch),
        };
        let budget = bytes.len() / 32 + 16;
        for (k, p) in candidates.enumerate() {
            if k > budget {
                return self.found_in_folded(fold, bytes, scratch);
            }
            let window = &bytes[p.saturating_sub(j)..(p + needle.len()).min(bytes.len())];
            scratch.clear();
            for &b in window {
                let (folded, len) = &short[b as usize];
                scratch.extend_from_slice(&folded[..*len as usize]);
            }
            // A window is a few times the needle: no need for memmem.
            if scratch.windows(needle.len()).any(|w| w == needle) {
                return true;
            }
        }
        false
    }

    fn found_in_canonical(&self, text: &[u8]) -> bool {
        self.finder.find(text).is_some()
    }
}

/// Canonical forms of at most 8 octets, padded, with their lengths.
type ShortTable = [([u8; 8], u8); 256];

/// The canonical forms of the 256 octets of a single-byte charset whose
/// lower half is ASCII: each octet decodes to one character, on its own.
struct ByteFold {
    chars: [char; 256],
    /// Whether the decomposition of the octet's character begins with a
    /// starter.
    starter: [bool; 256],
    /// Offset and length of each octet's canonical form in `text`.
    folded: [(u32, u8); 256],
    text: Vec<u8>,
    /// When every character begins with a starter (so that every octet is a
    /// piece of its own) and every canonical form fits in 8 octets: the
    /// canonical forms, padded, with their lengths.
    short: Option<Box<ShortTable>>,
    /// For each octet value, the octets whose canonical form contains it.
    sources: Vec<Vec<u8>>,
}

impl ByteFold {
    /// The table for `enc`, built on first use; `None` unless `enc` is such
    /// a charset.
    fn of(enc: &'static Encoding) -> Option<&'static ByteFold> {
        type Cache = Vec<(&'static Encoding, Option<&'static ByteFold>)>;
        static CACHE: Mutex<Cache> = Mutex::new(Vec::new());
        if !enc.is_single_byte() {
            return None;
        }
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, t)) = cache.iter().find(|(e, _)| *e == enc) {
            return *t;
        }
        // One table per charset encoding_rs knows, so the leak is bounded.
        let t = ByteFold::build(enc).map(|t| &*Box::leak(Box::new(t)));
        cache.push((enc, t));
        t
    }

    fn build(enc: &'static Encoding) -> Option<ByteFold> {
        let mut t = ByteFold {
            chars: ['\0'; 256],
            starter: [false; 256],
            folded: [(0, 0); 256],
            text: Vec::new(),
            short: None,
            sources: vec![Vec::new(); 256],
        };
        for b in 0..=255u8 {
            let octet = [b];
            let (s, _) = enc.decode_without_bom_handling(&octet);
            let mut cs = s.chars();
            let (Some(c), None) = (cs.next(), cs.next()) else {
                return None;
            };
            if b < 0x80 && c != char::from(b) {
                return None;
            }
            let start = t.text.len();
            push_folded(&mut t.text, &s);
            let len = u8::try_from(t.text.len() - start).ok()?;
            t.chars[b as usize] = c;
            t.starter[b as usize] = starts_with_starter(c);
            t.folded[b as usize] = (u32::try_from(start).ok()?, len);
            let mut seen = [false; 256];
            for &o in &t.text[start..] {
                if !std::mem::replace(&mut seen[o as usize], true) {
                    t.sources[o as usize].push(b);
                }
            }
        }
        if t.starter.iter().all(|&s| s) && t.folded.iter().all(|&(_, len)| len <= 8) {
            let mut short = Box::new([([0; 8], 0); 256]);
            for (e, &(start, len)) in short.iter_mut().zip(&t.folded) {
                let start = start as usize;
                e.0[..len as usize].copy_from_slice(&t.text[start..start + len as usize]);
                e.1 = len;
            }
            t.short = Some(short);
        }
        Some(t)
    }

    /// [`ByteFold::canonical_into`] when every octet is a piece of its own:
    /// sixteen octets at a time, upper-cased in bulk when they are ASCII,
    /// else each replaced by its canonical form; gathered on the stack and
    /// appended 512 octets at a time.
    fn short_canonical_into(short: &ShortTable, bytes: &[u8], out: &mut Vec<u8>) {
        const BLOCK: usize = 16;
        const OUTER: usize = 32 * BLOCK;
        let mut buf = [0u8; OUTER * 8];
        for outer in bytes.chunks(OUTER) {
            let mut n = 0;
            for block in outer.chunks(BLOCK) {
                if let Ok(mut ascii) = <[u8; BLOCK]>::try_from(block) {
                    if ascii.is_ascii() {
                        ascii.make_ascii_uppercase();
                        buf[n..n + BLOCK].copy_from_slice(&ascii);
                        n += BLOCK;
                        continue;
                    }
                }
                for &b in block {
                    let (folded, len) = &short[b as usize];
                    buf[n..n + 8].copy_from_slice(folded);
                    n += *len as usize;
                }
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    /// Appends the canonical form of `bytes` (in this charset) to `out`.
    fn canonical_into(&self, bytes: &[u8], out: &mut Vec<u8>) {
        if let Some(short) = &self.short {
            return ByteFold::short_canonical_into(short, bytes, out);
        }
        let mut i = 0;
        while i < bytes.len() {
            let run = ascii_prefix_len(&bytes[i..]);
            if run > 0 {
                push_ascii_upper(out, &bytes[i..i + run]);
                i += run;
                continue;
            }
            // As in [`canonical_into`]: a piece up to the next starter.
            let mut end = i + 1;
            while end < bytes.len() && !self.starter[bytes[end] as usize] {
                end += 1;
            }
            if end == i + 1 {
                let (start, len) = self.folded[bytes[i] as usize];
                out.extend_from_slice(&self.text[start as usize..start as usize + len as usize]);
            } else {
                let piece: String = bytes[i..end]
                    .iter()
                    .map(|&b| self.chars[b as usize])
                    .collect();
                push_folded(out, &piece);
            }
            i = end;
        }
    }
}

fn ascii_prefix_len(b: &[u8]) -> usize {
    const CHUNK: usize = 16;
    let mut n = 0;
    while n + CHUNK <= b.len() && b[n..n + CHUNK].is_ascii() {
        n += CHUNK;
    }
    n + b[n..].iter().take_while(|c| c.is_ascii()).count()
}

fn push_ascii_upper(out: &mut Vec<u8>, ascii: &[u8]) {
    let start = out.len();
    out.extend_from_slice(ascii);
    out[start..].make_ascii_uppercase();
}

/// Whether the decomposition of `c` begins with a starter, i.e. whether a
/// string may be cut just before `c`. Code points outside the tables are
/// answered `false`, which only makes pieces longer.
fn starts_with_starter(c: char) -> bool {
    if c.is_ascii() {
        return true;
    }
    block(c).is_some_and(|b| b.entries[(c as usize) & 0xff].2)
}

/// The canonical form of the single character `c`, when `c` is tabled.
fn lookup(c: char) -> Option<&'static str> {
    let b = block(c)?;
    let (start, len, _) = b.entries[(c as usize) & 0xff];
    Some(&b.text[start as usize..start as usize + len as usize])
}

/// The canonical forms of 256 consecutive code points.
struct Block {
    text: String,
    /// Per code point: offset and length in `text`, and whether its
    /// decomposition begins with a starter.
    entries: Vec<(u32, u16, bool)>,
}

const BLOCKS: usize = 0x100;

fn block(c: char) -> Option<&'static Block> {
    static TABLE: [OnceLock<Block>; BLOCKS] = [const { OnceLock::new() }; BLOCKS];
    let n = c as usize >> 8;
    Some(TABLE.get(n)?.get_or_init(|| Block::build(n)))
}

impl Block {
    fn build(n: usize) -> Block {
        let mut text = String::new();
        let mut entries = Vec::with_capacity(256);
        for cp in (n << 8)..((n + 1) << 8) {
            let start = text.len();
            // Surrogates never occur in a str; give them an empty entry.
            let starter = match char::from_u32(cp as u32) {
                Some(c) => {
                    let mut buf = [0; 4];
                    let s: &str = c.encode_utf8(&mut buf);
                    text.extend(s.nfkd().flat_map(char::to_uppercase));
                    s.nfkd()
                        .next()
                        .is_some_and(|d| canonical_combining_class(d) == 0)
                }
                None => false,
            };
            let len = u16::try_from(text.len() - start).unwrap_or(0);
            entries.push((start as u32, len, starter));
        }
        Block { text, entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_decomposes_and_upcases() {
        assert!(canonical("Déclaration") < canonical("Duplicate"));
        assert!(contains_ci("D\u{e9}j\u{e0} vu", "de\u{301}ja\u{300}"));
        assert!(contains_ci("Grüße", "GRÜSSE") || contains_ci("Grüße", "grüße"));
        assert!(!contains_ci("abc", "abd"));
    }
}
