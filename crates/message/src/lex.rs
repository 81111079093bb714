//! RFC 822 lexical helpers with the exact tolerance of UW c-client's
//! `rfc822.c` (`rfc822_skipws`, `rfc822_parse_word`, `rfc822_cpy`, ...).
//!
//! They work on an unfolded header value and positions in it. Where c-client
//! would cut its C string short (an unterminated comment), we return the end
//! of the slice, which has the same effect on every caller.

/// A set of delimiter octets, looked up by table.
pub(crate) struct Delims([bool; 256]);

impl Delims {
    const fn of(octets: &[u8]) -> Delims {
        let mut t = [false; 256];
        let mut i = 0;
        while i < octets.len() {
            t[octets[i] as usize] = true;
            i += 1;
        }
        Delims(t)
    }

    fn has(&self, c: u8) -> bool {
        self.0[usize::from(c)]
    }
}

/// Word delimiters for addresses (c-client `wspecials`).
pub(crate) const WSPECIALS: &Delims = &Delims::of(b" ()<>@,;:\\\"[]");
/// MIME token delimiters (RFC 2045 tspecials plus space; c-client `tspecials`).
pub(crate) const TSPECIALS: &Delims = &Delims::of(b" ()<>@,;:\\\"[]/?=");
/// Delimiters inside a domain literal.
pub(crate) const LITERAL_SPECIALS: &Delims = &Delims::of(b"]\\");

/// Skips white space (SP, HT, CR, LF) and comments. An unterminated comment
/// ends the string.
pub(crate) fn skip_ws(s: &[u8], mut i: usize) -> usize {
    loop {
        match s.get(i) {
            Some(b' ' | b'\t' | b'\r' | b'\n') => i += 1,
            Some(b'(') => match skip_comment(s, i) {
                Some((end, _)) => i = end,
                None => return s.len(),
            },
            _ => return i,
        }
    }
}

/// Parses the comment that starts at `s[i] == '('`, nested comments and
/// quoted pairs included. Returns the index after the closing parenthesis and
/// the comment's text with leading and trailing spaces trimmed, or `None` when
/// the comment is not terminated.
pub(crate) fn skip_comment(s: &[u8], i: usize) -> Option<(usize, (usize, usize))> {
    let mut depth = 0usize;
    let mut j = i;
    let mut first = None;
    let mut last = None;
    while j < s.len() {
        match s[j] {
            b'(' => {
                depth += 1;
                if depth > 1 {
                    last = Some(j);
                    first.get_or_insert(j);
                }
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    let text = match (first, last) {
                        (Some(f), Some(l)) => (f, l + 1),
                        _ => (j, j),
                    };
                    return Some((j + 1, text));
                }
                last = Some(j);
            }
            b'\\' => {
                j += 1;
                if j >= s.len() {
                    return None;
                }
                first.get_or_insert(j - 1);
                last = Some(j);
            }
            b' ' => {}
            _ => {
                first.get_or_insert(j);
                last = Some(j);
            }
        }
        j += 1;
    }
    None
}

/// c-client `rfc822_parse_word`: skips leading white space, then scans a word
/// that may contain quoted strings and quoted pairs, up to a delimiter from
/// `delims`. Returns `(start, end)` of the word, `end` being the delimiter's
/// index (or the length), or `None` when there is no word.
pub(crate) fn parse_word(s: &[u8], i: usize, delims: &Delims) -> Option<(usize, usize)> {
    let start = skip_ws(s, i);
    if start >= s.len() {
        return None;
    }
    let mut j = start;
    while j < s.len() {
        let c = s[j];
        if !delims.has(c) {
            j += 1;
            continue;
        }
        match c {
            b'"' => {
                j += 1;
                loop {
                    match s.get(j) {
                        None => return None,
                        Some(b'"') => break,
                        Some(b'\\') => {
                            j += 1;
                            if j >= s.len() {
                                return None;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                j += 1;
            }
            b'\\' if j + 1 < s.len() => j += 2,
            _ => return if j == start { None } else { Some((start, j)) },
        }
    }
    Some((start, s.len()))
}

/// c-client `rfc822_parse_phrase`: one or more words separated by white space
/// and comments. Returns the index just after the last word.
pub(crate) fn parse_phrase(s: &[u8], i: usize) -> Option<usize> {
    let (_, mut end) = parse_word(s, i, WSPECIALS)?;
    loop {
        if end >= s.len() {
            return Some(end);
        }
        match parse_word(s, end, WSPECIALS) {
            Some((_, e)) => end = e,
            None => return Some(end),
        }
    }
}

/// c-client `rfc822_cpy`: copies, dropping double quotes and the backslash
/// of each quoted pair.
pub(crate) fn unquote(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    unquote_into(&mut out, s);
    out
}

/// [`unquote`], appending to `out`.
pub(crate) fn unquote_into(out: &mut Vec<u8>, s: &[u8]) {
    if !s.iter().any(|&c| c == b'"' || c == b'\\') {
        out.extend_from_slice(s);
        return;
    }
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'"' => i += 1,
            b'\\' => {
                if let Some(&c) = s.get(i + 1) {
                    out.push(c);
                }
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// ASCII upper-case copy.
pub(crate) fn upper(s: &[u8]) -> Vec<u8> {
    s.to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_ws_skips_nested_comments() {
        let s = b"  (a (b) c) x";
        assert_eq!(skip_ws(s, 0), 12);
        assert_eq!(skip_ws(b" (open", 0), 6);
    }

    #[test]
    fn comment_text_is_trimmed() {
        let s = b"( Alice  Archer ) rest";
        let (end, (a, b)) = skip_comment(s, 0).unwrap();
        assert_eq!(end, 17);
        assert_eq!(&s[a..b], b"Alice  Archer");
    }

    #[test]
    fn words_take_quoted_strings_whole() {
        let s = b" \"a b\"c d";
        assert_eq!(parse_word(s, 0, WSPECIALS), Some((1, 7)));
        assert_eq!(parse_word(b"\"open", 0, WSPECIALS), None);
        assert_eq!(parse_word(b";x", 0, TSPECIALS), None);
    }

    #[test]
    fn phrase_spans_words_and_comments() {
        let s = b"Alice (x) Archer <a@b>";
        assert_eq!(parse_phrase(s, 0), Some(16));
    }

    #[test]
    fn unquote_drops_quotes_and_backslashes() {
        assert_eq!(unquote(br#""a \"q\" b""#), br#"a "q" b"#);
        assert_eq!(unquote(br"back\\slash"), br"back\slash");
    }
}
