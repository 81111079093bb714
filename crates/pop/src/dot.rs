//! Multi-line POP3 answers (RFC 1939 §3): every line that starts with `.` gets
//! another `.` in front, the data ends with CRLF, and a line holding only `.`
//! closes the answer.

use std::io::{self, Write};

/// Writes `data` dot-stuffed, then the terminating `.` line. Data that does not
/// end in a line end gets a CRLF first, so the terminator is a line of its own.
pub fn write_multiline<W: Write + ?Sized>(out: &mut W, data: &[u8]) -> io::Result<()> {
    write_stuffed(out, data)?;
    if !data.is_empty() && !data.ends_with(b"\n") {
        out.write_all(b"\r\n")?;
    }
    out.write_all(b".\r\n")
}

/// Writes `data` with a `.` added before every line that starts with one.
pub fn write_stuffed<W: Write + ?Sized>(out: &mut W, data: &[u8]) -> io::Result<()> {
    let mut start = 0;
    while start < data.len() {
        let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i + 1);
        if data[start] == b'.' {
            out.write_all(b".")?;
        }
        out.write_all(&data[start..end])?;
        start = end;
    }
    Ok(())
}

/// The first `lines` lines of `text` (each with its line end), for TOP.
pub fn first_lines(text: &[u8], lines: u64) -> &[u8] {
    let mut end = 0;
    for _ in 0..lines {
        match memchr::memchr(b'\n', &text[end..]) {
            Some(i) => end += i + 1,
            None => return text,
        }
    }
    &text[..end]
}

/// Undoes the stuffing of a multi-line answer body (for tests and clients).
pub fn unstuff(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut start = 0;
    while start < body.len() {
        let end = memchr::memchr(b'\n', &body[start..]).map_or(body.len(), |i| start + i + 1);
        let line = &body[start..end];
        out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multiline(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_multiline(&mut out, data).unwrap();
        out
    }

    #[test]
    fn leading_dots_are_doubled_and_the_answer_terminated() {
        assert_eq!(
            multiline(b".\r\n..x\r\nmid.dle\r\n.end"),
            b"..\r\n...x\r\nmid.dle\r\n..end\r\n.\r\n"
        );
        assert_eq!(multiline(b""), b".\r\n");
        assert_eq!(multiline(b"a\r\n"), b"a\r\n.\r\n");
    }

    #[test]
    fn stuffing_round_trips() {
        let data = b"From: a\r\n\r\n.\r\n.hidden\r\n\r\n..two\r\nlast";
        let mut out = Vec::new();
        write_stuffed(&mut out, data).unwrap();
        assert_eq!(unstuff(&out), data);
    }

    #[test]
    fn top_takes_whole_lines() {
        let text = b"one\r\ntwo\r\nthree";
        assert_eq!(first_lines(text, 0), b"");
        assert_eq!(first_lines(text, 2), b"one\r\ntwo\r\n");
        assert_eq!(first_lines(text, 3), text);
        assert_eq!(first_lines(text, u64::MAX), text);
    }
}
