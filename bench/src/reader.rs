//! The client side of a pipe from a server: a buffer of our own (not `BufReader`)
//! because the POP3 scanner needs to look three octets ahead across reads, and
//! because skipping a gigabyte of RETR output must cost a `memmem` over it, not a
//! copy per line. The client runs on the second core while the server runs on the
//! first; whatever it spends per octet is in every timing, so it stays cheap.

use std::io::{self, Read};

use memchr::{memchr, memmem};

const CAPACITY: usize = 1 << 20;

pub struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed its output")
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Reader<R> {
        Reader {
            inner,
            buf: vec![0; CAPACITY],
            pos: 0,
            end: 0,
        }
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Reads more octets behind what is buffered; 0 at end of file.
    fn fill(&mut self) -> io::Result<usize> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Appends one line, with its LF, to `out`.
    pub fn read_line(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        loop {
            let a = self.available();
            if let Some(i) = memchr(b'\n', a) {
                out.extend_from_slice(&a[..=i]);
                self.pos += i + 1;
                return Ok(());
            }
            out.extend_from_slice(a);
            self.pos = self.end;
            if self.fill()? == 0 {
                return Err(closed());
            }
        }
    }

    /// Appends exactly `n` octets to `out` (an IMAP literal).
    pub fn read_exact_into(&mut self, mut n: usize, out: &mut Vec<u8>) -> io::Result<()> {
        while n > 0 {
            if self.pos == self.end && self.fill()? == 0 {
                return Err(closed());
            }
            let take = n.min(self.end - self.pos);
            out.extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            n -= take;
        }
        Ok(())
    }

    /// Skips a POP3 multi-line body (RFC 1939 §3) up to and including its `.CRLF`
    /// terminator; returns the octets it holds once un-dot-stuffed, which is what
    /// LIST and STAT count. Starts at the beginning of a line.
    pub fn skip_dot_body(&mut self) -> io::Result<u64> {
        let mut octets = 0u64;
        let mut line_start = true;
        loop {
            if self.end - self.pos < 3 && self.fill()? == 0 {
                return Err(closed());
            }
            let a = self.available();
            let dot = if line_start && a[0] == b'.' {
                Some(0)
            } else {
                memmem::find(a, b"\n.").map(|i| i + 1)
            };
            match dot {
                None => {
                    line_start = a[a.len() - 1] == b'\n';
                    octets += a.len() as u64;
                    self.pos = self.end;
                }
                Some(p) if p > 0 => {
                    octets += p as u64;
                    self.pos += p;
                    line_start = true;
                }
                Some(_) => {
                    if a.len() < 3 {
                        // Too little to tell the terminator from a stuffed dot.
                        if self.fill()? == 0 {
                            return Err(closed());
                        }
                        continue;
                    }
                    if &a[..3] == b".\r\n" {
                        self.pos += 3;
                        return Ok(octets);
                    }
                    self.pos += 1;
                    line_start = false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` octets per read, to cross every
    /// boundary.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(self.data.len()).min(out.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn dot_bodies_are_counted_unstuffed_whatever_the_read_sizes() {
        let wire = b"a\r\n..b\r\n.\r\nc\r\n.\r\n\r\n.\r\n";
        for step in 1..wire.len() {
            let mut r = Reader::new(Trickle { data: wire, step });
            assert_eq!(r.skip_dot_body().unwrap(), 3 + 4, "step {step}");
            assert_eq!(r.skip_dot_body().unwrap(), 3, "step {step}");
            assert_eq!(r.skip_dot_body().unwrap(), 2, "step {step}");
            assert!(r.skip_dot_body().is_err());
        }
    }

    #[test]
    fn lines_and_literals_cross_reads() {
        let wire = b"* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\nx OK\r\n";
        for step in 1..wire.len() {
            let mut r = Reader::new(Trickle { data: wire, step });
            let mut out = Vec::new();
            r.read_line(&mut out).unwrap();
            r.read_exact_into(5, &mut out).unwrap();
            r.read_line(&mut out).unwrap();
            assert_eq!(&out[..], &wire[..wire.len() - 6]);
            out.clear();
            r.read_line(&mut out).unwrap();
            assert_eq!(out, b"x OK\r\n");
        }
    }
}
