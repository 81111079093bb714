//! Turning a message as a client hands it over (APPEND, COPY) into the octets a
//! mailbox file stores, and reading stored octets back as the CRLF text IMAP and POP
//! serve.

use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::header;

/// A message ready to be framed: header lines (LF ends, no bookkeeping fields, no
/// blank line) and body (LF ends, ending in LF unless empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub header: Vec<u8>,
    pub body: Vec<u8>,
    /// Whether a blank line ends the header: always in mbox, where the next
    /// message's From line needs it; in MMDF only when the message had one.
    pub blank_line: bool,
}

/// Normalises a message for storage, the way UW's mbox store does: line ends become
/// LF and other CR octets are dropped; NUL becomes 0x80 (mbox readers treat NUL as
/// damage); the bookkeeping fields a sender may have forged (`Status`, `X-UID`, ...)
/// are removed, because pullmail alone decides a stored message's flags and UID;
/// for mbox, a header without a blank line gets one and lines starting `From `
/// are written `>From `. MMDF stores the message as given (RFC 3501 APPEND), plus
/// a final line end if it had none.
///
/// One pass, line by line, straight into the header and body it returns, each line
/// judged by its first octets: a 50 MB message (or header line) costs 50 MB here.
pub fn prepare(raw: &[u8], driver: &dyn Driver) -> Result<Prepared> {
    if raw.is_empty() {
        return Err(Error::BadMessage("empty message"));
    }
    let clean = |b: u8| if b == 0 { 0x80 } else { b };
    let mut header_out = Vec::new();
    let mut body_out = Vec::new();
    let mut in_header = true;
    let mut had_blank = false;
    let mut skipping = false;
    for raw_line in raw.split_inclusive(|&b| b == b'\n') {
        // The line's first octets as stored: all that decides where it goes (field
        // names are settled within 16 octets, see `header::internal_field`).
        let mut head = [0u8; 16];
        let mut n = 0;
        for &b in raw_line.iter().filter(|&&b| b != b'\r').take(head.len()) {
            head[n] = clean(b);
            n += 1;
        }
        let head = &head[..n];
        if head.is_empty() {
            // Nothing but CRs after the last line end.
            continue;
        }
        let out = if !in_header {
            &mut body_out
        } else if head == b"\n" {
            // The first blank line ends the header (a message may start with it).
            in_header = false;
            had_blank = true;
            continue;
        } else {
            if head[0] != b' ' && head[0] != b'\t' {
                skipping = header::internal_field(head).is_some();
            }
            if skipping {
                continue;
            }
            &mut header_out
        };
        if driver.quotes_from() && head.starts_with(b"From ") {
            out.push(b'>');
        }
        out.extend(raw_line.iter().filter(|&&b| b != b'\r').map(|&b| clean(b)));
        if !raw_line.ends_with(b"\n") {
            out.push(b'\n');
        }
    }
    if driver.closing().is_some() {
        // Ctrl-A runs frame MMDF messages; UW's MMDF driver drops the octet from
        // the text it stores, so that no line can pass for a delimiter.
        header_out.retain(|&b| b != 1);
        body_out.retain(|&b| b != 1);
    }
    Ok(Prepared {
        header: header_out,
        body: body_out,
        blank_line: had_blank || driver.closing().is_none(),
    })
}

/// Frames a prepared message for the file: opening, header, bookkeeping block, blank
/// line, body, closing.
pub fn frame(
    out: &mut Vec<u8>,
    driver: &dyn Driver,
    from_line: &[u8],
    m: &Prepared,
    status_block: &[u8],
) {
    let _ = frame_pieces(driver, from_line, m, status_block, |piece| {
        out.extend_from_slice(piece);
        Ok(())
    });
}

/// [`frame`], handing the framed message to `emit` piece by piece (the header and
/// body as they are, never copied into one buffer); returns its length.
pub fn frame_pieces(
    driver: &dyn Driver,
    from_line: &[u8],
    m: &Prepared,
    status_block: &[u8],
    mut emit: impl FnMut(&[u8]) -> Result<()>,
) -> Result<u64> {
    let mut total = 0u64;
    let mut put = |piece: &[u8]| {
        total += piece.len() as u64;
        emit(piece)
    };
    let mut small = Vec::new();
    driver.write_opening(&mut small, from_line);
    put(&small)?;
    put(&m.header)?;
    small.clear();
    small.extend_from_slice(status_block);
    if m.blank_line {
        small.push(b'\n');
    }
    put(&small)?;
    put(&m.body)?;
    small.clear();
    driver.write_closing(&mut small);
    put(&small)?;
    Ok(total)
}

/// Appends stored octets to `out` with every bare LF turned into CRLF (a CR already
/// before an LF is kept, never doubled).
pub fn lf_to_crlf(out: &mut Vec<u8>, stored: &[u8], prev: u8) {
    // Reserving exactly (one counting pass) costs less than growing and copying.
    let line_ends = memchr::memchr_iter(b'\n', stored).count();
    out.reserve(stored.len() + line_ends);
    let mut start = 0;
    for i in memchr::memchr_iter(b'\n', stored) {
        let before = if i == 0 { prev } else { stored[i - 1] };
        out.extend_from_slice(&stored[start..i]);
        if before != b'\r' {
            out.push(b'\r');
        }
        out.push(b'\n');
        start = i + 1;
    }
    out.extend_from_slice(&stored[start..]);
}

/// A stored header with the bookkeeping fields left out, as CRLF text.
pub fn served_header(stored: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(stored.len() + stored.len() / 16 + 64);
    // Runs of kept lines are converted in one call.
    let mut kept_from = 0;
    let mut skipping = false;
    let mut at = 0;
    while at < stored.len() {
        let end = memchr::memchr(b'\n', &stored[at..]).map_or(stored.len(), |i| at + i + 1);
        let line = &stored[at..end];
        let continuation = line[0] == b' ' || line[0] == b'\t';
        if !continuation {
            let was_skipping = skipping;
            skipping = header::internal_field(line).is_some();
            if skipping && !was_skipping {
                lf_to_crlf(&mut out, &stored[kept_from..at], 0);
            } else if !skipping && was_skipping {
                kept_from = at;
            }
        }
        at = end;
    }
    if !skipping {
        lf_to_crlf(&mut out, &stored[kept_from..], 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{Mbox, Mmdf};

    #[test]
    fn prepare_normalises_like_uw() {
        let raw =
            b"Subject: hi\r\nX-UID: 99\r\nStatus: RO\r\nFrom: a@b\r\n\r\nFrom here\r\nbody\0x";
        let p = prepare(raw, &Mbox).unwrap();
        assert_eq!(p.header, b"Subject: hi\nFrom: a@b\n");
        assert_eq!(p.body, b">From here\nbody\x80x\n");
        let p = prepare(raw, &Mmdf).unwrap();
        assert_eq!(p.body, b"From here\nbody\x80x\n");
        assert!(prepare(b"", &Mbox).is_err());
        let p = prepare(b"S: x\x01\n\n\x01\x01\x01\x01\nmore \x01 text", &Mmdf).unwrap();
        assert_eq!(
            (p.header.as_slice(), p.body.as_slice()),
            (&b"S: x\n"[..], &b"\nmore  text\n"[..])
        );
    }

    #[test]
    fn header_only_message_gets_its_blank_line() {
        let p = prepare(b"Subject: no body", &Mbox).unwrap();
        assert_eq!(
            (p.header.as_slice(), p.body.as_slice()),
            (&b"Subject: no body\n"[..], &b""[..])
        );
    }

    #[test]
    fn mmdf_keeps_a_header_only_message_as_given() {
        for raw in [&b"Subject: no body"[..], b"Subject: no body\r\n", b"A: 1\nB: 2\n"] {
            let p = prepare(raw, &Mmdf).unwrap();
            assert!(!p.blank_line, "{raw:?}");
            assert!(p.body.is_empty());
            let mut out = Vec::new();
            frame(&mut out, &Mmdf, b"From x\n", &p, b"");
            let mut want = b"\x01\x01\x01\x01\nFrom x\n".to_vec();
            want.extend(raw.iter().filter(|&&b| b != b'\r'));
            if !want.ends_with(b"\n") {
                want.push(b'\n');
            }
            want.extend_from_slice(b"\x01\x01\x01\x01\n");
            assert_eq!(out, want);
            assert!(prepare(raw, &Mbox).unwrap().blank_line);
        }
        assert!(prepare(b"A: 1\r\n\r\n", &Mmdf).unwrap().blank_line);
        assert!(prepare(b"\r\nbody", &Mmdf).unwrap().blank_line);
    }

    #[test]
    fn crlf_conversion_never_doubles() {
        let mut out = Vec::new();
        lf_to_crlf(&mut out, b"a\nb\r\nc", 0);
        assert_eq!(out, b"a\r\nb\r\nc");
        assert_eq!(
            served_header(b"A: 1\nStatus: RO\nX-Keywords: x\n  y\nB: 2\n\n"),
            b"A: 1\r\nB: 2\r\n\r\n"
        );
    }

    /// The line-by-line way `served_header` used to work, as the reference.
    fn served_header_by_lines(stored: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut skipping = false;
        for line in stored.split_inclusive(|&b| b == b'\n') {
            let continuation = line.first().is_some_and(|&b| b == b' ' || b == b'\t');
            let blank = line == b"\n" || line == b"\r\n";
            if !continuation {
                skipping = !blank && header::internal_field(line).is_some();
            }
            if !skipping {
                lf_to_crlf(&mut out, line, 0);
            }
        }
        out
    }

    #[test]
    fn served_header_by_runs_equals_line_by_line() {
        let pieces: [&[u8]; 14] = [
            b"Subject: hi\n",
            b"Status: RO\n",
            b"X-Status: F\n",
            b"x-uid: 7\n",
            b"X-Keywords: a\n",
            b"X-IMAPbase: 1 2\n",
            b" folded\n",
            b"\tfolded\r\n",
            b"Sender: s\n",
            b"X-Other: o\n",
            b"\n",
            b"\r\n",
            b"From: a\r\n",
            b"Status",
        ];
        let mut seed: u64 = 0x9e3779b97f4a7c15;
        for _ in 0..20_000 {
            let mut h = Vec::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut r = seed;
            for _ in 0..(r % 9) {
                r = r.rotate_left(5).wrapping_mul(0x2545F4914F6CDD1D);
                h.extend_from_slice(pieces[(r % pieces.len() as u64) as usize]);
            }
            assert_eq!(served_header(&h), served_header_by_lines(&h), "{:?}", String::from_utf8_lossy(&h));
        }
    }
}
