//! COMPRESS=DEFLATE (RFC 4978): raw deflate (RFC 1951, no zlib header) in both
//! directions, between the protocol's buffers and the socket (or TLS: compression
//! happens first, so TLS carries the compressed octets, §3).
//!
//! Memory is bounded: one inflate state (its 32 KiB window), one deflate state,
//! and fixed buffers; input is inflated only as far as the protocol engine asks
//! for it, so a small stream that inflates to gigabytes is read a buffer at a
//! time and meets the engine's line and literal limits like any other input.
//!
//! Every flush of the transport ends in a deflate sync flush (§4: "the server
//! MUST flush ... at the end of each response"): what was written so far leaves
//! at once, untagged IDLE pushes included, and the client can inflate it without
//! waiting for more.

use std::io;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// Compressed input read from the connection at a time.
pub(crate) const INPUT_BUFFER: usize = 16 * 1024;
/// Compressed output produced at a time before it is written.
const OUTPUT_CHUNK: usize = 16 * 1024;
/// Inflate or deflate rounds without progress before the stream is given up.
const MAX_STALLS: usize = 4;

/// Both directions of one compressed session.
pub(crate) struct Deflate {
    inflate: Decompress,
    deflate: Compress,
    /// Compressed octets received and not yet inflated: `input[pos..len]`.
    input: Vec<u8>,
    pos: usize,
    /// The client ended its stream (a final block): nothing may follow.
    ended: bool,
    /// Octets went into the deflater without a sync flush since.
    unflushed: bool,
}

impl Deflate {
    /// A fresh pair of streams; `pending` is compressed input that arrived
    /// together with the command that started compression.
    pub(crate) fn new(pending: &[u8]) -> Deflate {
        let mut input = Vec::with_capacity(INPUT_BUFFER.max(pending.len()));
        input.extend_from_slice(pending);
        Deflate {
            inflate: Decompress::new(false),
            // Level 6: most of what level 9 gains on IMAP text, at a third of its time.
            deflate: Compress::new(Compression::new(6), false),
            input,
            pos: 0,
            ended: false,
            unflushed: false,
        }
    }

    /// Whether compressed input is waiting to be inflated.
    pub(crate) fn has_input(&self) -> bool {
        self.pos < self.input.len()
    }

    /// Inflates what is buffered into `out`; returns the octets produced (0 when
    /// more compressed input is needed). Never reads from the connection.
    pub(crate) fn inflate(&mut self, out: &mut [u8]) -> io::Result<usize> {
        for _ in 0..MAX_STALLS {
            if self.ended {
                return Ok(0);
            }
            let (in_before, out_before) = (self.inflate.total_in(), self.inflate.total_out());
            let status = self
                .inflate
                .decompress(&self.input[self.pos..], out, FlushDecompress::None)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let consumed = (self.inflate.total_in() - in_before) as usize;
            let produced = (self.inflate.total_out() - out_before) as usize;
            self.pos += consumed;
            if self.pos == self.input.len() {
                self.pos = 0;
                self.input.clear();
            }
            if status == Status::StreamEnd {
                self.ended = true;
            }
            if produced > 0 {
                return Ok(produced);
            }
            if consumed == 0 {
                // Nothing to take: more input is needed (or the stream ended).
                return Ok(0);
            }
        }
        Ok(0)
    }

    /// Room to read compressed input into; call [`Deflate::received`] with what
    /// was read. Only when the buffer is drained, so it never grows past
    /// [`INPUT_BUFFER`].
    pub(crate) fn input_space(&mut self) -> &mut [u8] {
        debug_assert!(!self.has_input());
        self.input.clear();
        self.pos = 0;
        self.input.resize(INPUT_BUFFER, 0);
        &mut self.input[..]
    }

    /// `n` octets were read into [`Deflate::input_space`].
    pub(crate) fn received(&mut self, n: usize) {
        self.input.truncate(n);
    }

    /// Whether the client's stream ended: what comes after it is no protocol.
    pub(crate) fn ended(&self) -> bool {
        self.ended
    }

    /// Compresses `data`, handing the compressed octets to `sink` chunk by chunk;
    /// with `sync`, ends with a sync flush so that everything so far can be
    /// inflated by the peer at once.
    pub(crate) fn deflate(
        &mut self,
        mut data: &[u8],
        sync: bool,
        mut sink: impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut chunk = Vec::with_capacity(OUTPUT_CHUNK);
        let flush = if sync {
            FlushCompress::Sync
        } else {
            FlushCompress::None
        };
        let mut stalls = 0;
        loop {
            chunk.clear();
            let in_before = self.deflate.total_in();
            self.deflate
                .compress_vec(data, &mut chunk, flush)
                .map_err(io::Error::other)?;
            let consumed = (self.deflate.total_in() - in_before) as usize;
            data = &data[consumed..];
            if !chunk.is_empty() {
                sink(&chunk)?;
            }
            // Done once the input is taken and (for a sync flush) the deflater had
            // room to spare: it wrote everything it had.
            let full = chunk.len() == chunk.capacity();
            if data.is_empty() && !(sync && full) {
                break;
            }
            if consumed == 0 && chunk.is_empty() {
                stalls += 1;
                if stalls > MAX_STALLS {
                    return Err(io::Error::other("deflate makes no progress"));
                }
            } else {
                stalls = 0;
            }
        }
        self.unflushed = !sync;
        Ok(())
    }

    /// Whether octets went in since the last sync flush.
    pub(crate) fn unflushed(&self) -> bool {
        self.unflushed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress_all(d: &mut Deflate, parts: &[(&[u8], bool)]) -> Vec<u8> {
        let mut wire = Vec::new();
        for (data, sync) in parts {
            d.deflate(data, *sync, |c| {
                wire.extend_from_slice(c);
                Ok(())
            })
            .unwrap();
        }
        wire
    }

    #[test]
    fn a_sync_flush_makes_everything_so_far_readable() {
        let mut server = Deflate::new(&[]);
        let text = b"* 1 FETCH (FLAGS (\\Seen))\r\n".repeat(1000);
        let wire = compress_all(&mut server, &[(&text, false), (b"a OK done\r\n", true)]);
        assert!(wire.len() < text.len() / 10, "{} octets", wire.len());
        // RFC 1951 §3.2.4: a sync flush ends in an empty stored block.
        assert!(
            wire.ends_with(&[0, 0, 0xff, 0xff]),
            "{:?}",
            &wire[wire.len() - 4..]
        );
        let mut client = Deflate::new(&wire);
        let mut got = Vec::new();
        let mut buf = [0u8; 1000];
        loop {
            let n = client.inflate(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        let mut want = text.clone();
        want.extend_from_slice(b"a OK done\r\n");
        assert_eq!(got, want);
        assert!(!client.has_input());
    }

    #[test]
    fn a_bomb_is_inflated_a_buffer_at_a_time() {
        let mut sender = Deflate::new(&[]);
        let zeros = vec![b'A'; 4 << 20];
        let wire = compress_all(&mut sender, &[(&zeros, true)]);
        assert!(wire.len() < 20_000, "{}", wire.len());
        let mut receiver = Deflate::new(&wire);
        let mut buf = [0u8; 4096];
        let n = receiver.inflate(&mut buf).unwrap();
        assert_eq!(n, buf.len(), "one buffer's worth, no more");
        assert!(receiver.has_input() || n == buf.len());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut d = Deflate::new(b"\xff\xff\xff\xff this is not deflate");
        let mut buf = [0u8; 64];
        let r = (0..4).map(|_| d.inflate(&mut buf)).find(|r| r.is_err());
        assert!(r.is_some(), "garbage accepted");
    }
}
