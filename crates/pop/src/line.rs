//! Reading one command line with a size limit, without losing the framing.
//!
//! An over-long line is read to its end and thrown away, so that the next line is
//! the next command (the rest of a 100 KB line must not be executed as commands);
//! the caller answers `-ERR` and goes on. Only a client that sends more than
//! [`DISCARD_LIMIT`] octets without a line end is cut off.

use std::io::BufRead;

/// Octets of one line we are willing to read and discard before closing.
pub const DISCARD_LIMIT: usize = 1 << 20;

/// One line from the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The line with its LF (and CR, if sent).
    Complete(Vec<u8>),
    /// Longer than the limit; already discarded up to and including its LF.
    TooLong,
}

/// Reads up to and including the next LF. End of input before a line end is
/// [`daemon::Error::ConnectionLost`]: a partial last line is never executed (a
/// `QUIT` cut short must not apply the deletions).
pub fn read_line<R: BufRead + ?Sized>(input: &mut R, max: usize) -> Result<Line, daemon::Error> {
    let mut line = Vec::new();
    let mut too_long = false;
    let mut seen = 0usize;
    // Every round consumes at least one octet, and `seen` is capped below.
    loop {
        let available = input.fill_buf().map_err(daemon::Error::from_io)?;
        if available.is_empty() {
            return Err(daemon::Error::ConnectionLost);
        }
        let (take, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        seen += take;
        if !too_long {
            if line.len() + take > max {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(&available[..take]);
            }
        }
        input.consume(take);
        if done {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Complete(line)
            });
        }
        if seen > DISCARD_LIMIT.max(max) {
            return Err(daemon::Error::LineTooLong);
        }
    }
}

/// The line without its line end (CRLF or a bare LF, which UW accepted too).
pub fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor};

    #[test]
    fn lines_come_one_at_a_time_even_in_tiny_reads() {
        let data = b"USER a\r\nPASS b c\nQUIT\r\n".to_vec();
        let mut input = BufReader::with_capacity(1, Cursor::new(data));
        let mut got = Vec::new();
        while let Ok(Line::Complete(l)) = read_line(&mut input, 64) {
            got.push(String::from_utf8(trim_eol(&l).to_vec()).unwrap());
        }
        assert_eq!(got, ["USER a", "PASS b c", "QUIT"]);
    }

    #[test]
    fn an_over_long_line_is_skipped_and_the_next_one_read() {
        let mut data = vec![b'x'; 5000];
        data.extend_from_slice(b"\r\nNOOP\r\n");
        let mut input = BufReader::with_capacity(7, Cursor::new(data));
        assert_eq!(read_line(&mut input, 100).unwrap(), Line::TooLong);
        assert_eq!(
            read_line(&mut input, 100).unwrap(),
            Line::Complete(b"NOOP\r\n".to_vec())
        );
        assert!(matches!(
            read_line(&mut input, 100),
            Err(daemon::Error::ConnectionLost)
        ));
    }

    #[test]
    fn a_partial_line_at_eof_is_a_lost_connection() {
        let mut input = Cursor::new(b"QUIT".to_vec());
        assert!(matches!(
            read_line(&mut input, 100),
            Err(daemon::Error::ConnectionLost)
        ));
    }

    #[test]
    fn endless_garbage_without_a_line_end_is_cut_off() {
        let data = vec![b'x'; DISCARD_LIMIT + 10];
        let mut input = Cursor::new(data);
        assert!(matches!(
            read_line(&mut input, 100),
            Err(daemon::Error::LineTooLong)
        ));
    }
}
