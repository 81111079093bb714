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

/// Writes `data` with a `.` added before every line that starts with one. The
/// runs between such lines go out in one write each, so a message without
/// them is a single write.
pub fn write_stuffed<W: Write + ?Sized>(out: &mut W, data: &[u8]) -> io::Result<()> {
    let mut start = 0;
    if data.first() == Some(&b'.') {
        out.write_all(b".")?;
    }
    for lf in memchr::memmem::find_iter(data, b"\n.") {
        // `lf + 1` starts a line that begins with a dot: send up to it, then
        // the extra dot.
        out.write_all(&data[start..lf + 1])?;
        out.write_all(b".")?;
        start = lf + 1;
    }
    out.write_all(&data[start..])
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

    /// The line-at-a-time stuffing the run writer replaced.
    fn stuffed_by_lines(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for line in data.split_inclusive(|&c| c == b'\n') {
            if line[0] == b'.' {
                out.push(b'.');
            }
            out.extend_from_slice(line);
        }
        out
    }

    #[test]
    fn runs_are_stuffed_like_lines() {
        let cases: &[&[u8]] = &[
            b"",
            b".",
            b"..",
            b"\n.",
            b"\n\n.\n.",
            b"a\n.b\r\n.\r\nc.d\n",
            b".start\r\n\r\n.\r\n..\r\nend.",
            b"no dots at all\r\n",
        ];
        for &data in cases {
            let mut out = Vec::new();
            write_stuffed(&mut out, data).unwrap();
            assert_eq!(out, stuffed_by_lines(data), "{data:?}");
        }
    }

    /// Counts the writes made, to check that data is sent in runs.
    struct Writes(usize, Vec<u8>);

    impl Write for Writes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += 1;
            self.1.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_message_without_leading_dots_is_one_write() {
        let data = b"From: a\r\nSubject: b\r\n\r\nline\r\nline\r\n".repeat(100);
        let mut w = Writes(0, Vec::new());
        write_stuffed(&mut w, &data).unwrap();
        assert_eq!((w.0, w.1), (1, data));
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
