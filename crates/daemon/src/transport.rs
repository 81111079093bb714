//! The connection: fd 0 / fd 1 as inetd hands them over, buffered, with idle
//! timeouts, and the same interface after an in-place upgrade to TLS.
//!
//! Reads wait with poll(2) so that an idle client ends in
//! [`crate::Error::IdleTimeout`] and a SIGTERM in [`crate::Error::Signal`] (through
//! the self-pipe of [`crate::signals`]); everything else is plain `Read`, `BufRead`
//! and `Write`, so the protocol engines stay generic over their transport.
//!
//! The layers, from the socket up: the descriptors, TLS when negotiated, deflate
//! when the client asked for it (IMAP COMPRESS, [`crate::deflate`]), and the
//! buffers the engines read lines from and write responses into.

use std::fmt;
use std::io::{self, BufRead, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::deflate::Deflate;
use crate::error::Error;
use crate::peer::Peer;
use crate::proxy;
use crate::signals;
use crate::sys::{self, Ready};

const READ_BUFFER: usize = 16 * 1024;
const WRITE_BUFFER: usize = 16 * 1024;
/// Handshake round trips we are willing to make; a real one needs two or three.
const MAX_HANDSHAKE_ROUNDS: usize = 32;
/// Retries after EINTR/EAGAIN before giving up on one read or write.
const MAX_RETRIES: usize = 1000;

/// How much of one over-long line is read and thrown away before the connection is
/// given up.
const MAX_DISCARD: usize = 16 << 20;

fn memchr_lf(s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == b'\n')
}

/// Marker inside an `io::Error` for a line longer than the caller's limit.
#[derive(Debug)]
pub(crate) struct LineTooLong;

impl fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("line too long")
    }
}

impl std::error::Error for LineTooLong {}

/// The marker inside the I/O error of a read past the budget of input before login
/// ([`Transport::set_login_limits`]); it becomes [`Error::TooMuchBeforeLogin`].
#[derive(Debug)]
pub(crate) struct TooMuchBeforeLogin;

impl fmt::Display for TooMuchBeforeLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("too much input before login")
    }
}

impl std::error::Error for TooMuchBeforeLogin {}

/// The raw descriptors with poll-based waiting; what rustls reads from and writes to.
struct FdIo {
    input: OwnedFd,
    output: OwnedFd,
    idle: Option<Duration>,
    /// During a TLS handshake: the whole handshake must end by then.
    deadline: Option<Instant>,
    /// Before login: the login must be done by then, however the client trickles.
    login_deadline: Option<Instant>,
}

impl FdIo {
    /// Waits until `fd` is ready, honouring the idle timeout, the deadline and (for
    /// reads) termination signals.
    fn wait(
        &self,
        fd: BorrowedFd<'_>,
        events: libc::c_short,
        watch_signals: bool,
    ) -> io::Result<()> {
        self.wait_also(fd, events, watch_signals, None).map(|_| ())
    }

    /// [`FdIo::wait`], also returning (`Ok(true)`) when `also` is readable.
    fn wait_also(
        &self,
        fd: BorrowedFd<'_>,
        events: libc::c_short,
        watch_signals: bool,
        also: Option<RawFd>,
    ) -> io::Result<bool> {
        let start = Instant::now();
        let end = [self.idle.map(|d| start + d), self.deadline, self.login_deadline]
            .into_iter()
            .flatten()
            .min();
        for _ in 0..MAX_RETRIES {
            if watch_signals {
                if let Some(sig) = signals::pending() {
                    return Err(io::Error::other(sig));
                }
            }
            let timeout_ms = match end {
                None => -1,
                Some(end) => {
                    let left = end.saturating_duration_since(Instant::now());
                    // Round up so that a sub-millisecond rest does not spin.
                    i32::try_from(left.as_millis() + 1).unwrap_or(i32::MAX)
                }
            };
            let wake = if watch_signals {
                signals::wake_fd()
            } else {
                None
            };
            match sys::poll_also(fd.as_raw_fd(), events, wake, also, timeout_ms) {
                Ok(Ready::Fd) => return Ok(false),
                Ok(Ready::Also) => return Ok(true),
                Ok(Ready::Wake) => {
                    let sig = signals::pending().unwrap_or(signals::Signal::Term);
                    return Err(io::Error::other(sig));
                }
                Ok(Ready::Timeout) => {
                    if end.is_some_and(|end| Instant::now() >= end) {
                        return Err(io::Error::new(io::ErrorKind::TimedOut, "idle timeout"));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("poll retried too often"))
    }
}

impl FdIo {
    /// Waits for `fd`, then runs one read(2) or write(2) (`syscall`), retrying on
    /// EINTR and EAGAIN a bounded number of times.
    fn transfer(
        &self,
        output: bool,
        mut syscall: impl FnMut(i32) -> libc::ssize_t,
    ) -> io::Result<usize> {
        let (fd, events) = match output {
            true => (self.output.as_fd_ref(), libc::POLLOUT),
            false => (self.input.as_fd_ref(), libc::POLLIN),
        };
        for _ in 0..MAX_RETRIES {
            // Writes do not watch signals: after SIGTERM the goodbye must still go out.
            self.wait(fd, events, !output)?;
            let n = syscall(fd.as_raw_fd());
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if !matches!(
                e.kind(),
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
            ) {
                return Err(e);
            }
        }
        Err(io::Error::other("I/O retried too often"))
    }
}

impl Read for FdIo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: buf is valid for writes of buf.len() bytes; the fd is open.
        self.transfer(false, |fd| unsafe {
            libc::read(fd, buf.as_mut_ptr().cast(), buf.len())
        })
    }
}

impl Write for FdIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // SIGPIPE is ignored (signals::install), so a closed peer is EPIPE here.
        // SAFETY: buf is valid for reads of buf.len() bytes; the fd is open.
        self.transfer(true, |fd| unsafe {
            libc::write(fd, buf.as_ptr().cast(), buf.len())
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

trait AsFdRef {
    fn as_fd_ref(&self) -> BorrowedFd<'_>;
}

impl AsFdRef for OwnedFd {
    fn as_fd_ref(&self) -> BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(self)
    }
}

enum Stream {
    Plain(FdIo),
    Tls(Box<StreamOwned<ServerConnection, FdIo>>),
    Closed,
}

/// What [`Transport::poll_input_or`] waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// A read would not block (data, or the end of the connection).
    Input,
    /// The other descriptor is readable.
    Also,
    /// The time is up.
    Timeout,
}

/// A buffered, timed connection to the client, plain or TLS.
pub struct Transport {
    stream: Stream,
    rbuf: Box<[u8]>,
    rpos: usize,
    rlen: usize,
    wbuf: Vec<u8>,
    peer: Peer,
    /// Before login: how many more octets may be read (`None`: no limit).
    login_budget: Option<u64>,
    /// Compression, once started ([`Transport::start_compression`]).
    deflate: Option<Box<Deflate>>,
}

impl Transport {
    /// The connection inetd gave us: fd 0 for input, fd 1 for output (duplicated,
    /// close-on-exec), and the peer found by getpeername on fd 0.
    pub fn stdio() -> io::Result<Transport> {
        let input = dup(0)?;
        let output = dup(1)?;
        Ok(Transport::from_fds(input, output, Peer::of_fd(0)))
    }

    /// A connected socket, for standalone listeners and tests.
    pub fn from_socket(socket: TcpStream) -> io::Result<Transport> {
        let peer = Peer::of_fd(socket.as_raw_fd());
        let input: OwnedFd = socket.try_clone()?.into();
        Ok(Transport::from_fds(input, socket.into(), peer))
    }

    /// Any pair of descriptors (pipes, sockets) with a known peer.
    pub fn from_fds(input: OwnedFd, output: OwnedFd, peer: Peer) -> Transport {
        Transport {
            stream: Stream::Plain(FdIo {
                input,
                output,
                idle: None,
                deadline: None,
                login_deadline: None,
            }),
            rbuf: vec![0; READ_BUFFER].into_boxed_slice(),
            rpos: 0,
            rlen: 0,
            wbuf: Vec::with_capacity(WRITE_BUFFER),
            peer,
            login_budget: None,
            deflate: None,
        }
    }

    /// The client's address, as found when the transport was made (or as a
    /// trusted proxy named it, [`Transport::read_proxy_header`]).
    pub fn peer(&self) -> Peer {
        self.peer
    }

    /// Reads the PROXY protocol header that starts the connection, exactly its
    /// octets and no more: what follows (a TLS ClientHello, the first command)
    /// is left to be read as usual. The read is bounded by the login timeout.
    /// A header naming a client makes that client this transport's peer, the
    /// socket's peer becoming [`Peer::proxy`]. Call it before anything is read.
    pub fn read_proxy_header(&mut self) -> Result<proxy::Header, Error> {
        let Stream::Plain(io) = &mut self.stream else {
            return Err(Error::ProxyHeader(
                "not at the start of the connection".into(),
            ));
        };
        if self.rlen > self.rpos {
            return Err(Error::ProxyHeader(
                "not at the start of the connection".into(),
            ));
        }
        let mut header = Vec::with_capacity(128);
        loop {
            match proxy::parse(&header).map_err(|e| Error::ProxyHeader(e.to_string()))? {
                proxy::Step::Need(total) => {
                    let have = header.len();
                    header.resize(total, 0);
                    let n = io.read(&mut header[have..]).map_err(Error::from_io)?;
                    if n == 0 {
                        return Err(Error::ConnectionLost);
                    }
                    header.truncate(have + n);
                }
                proxy::Step::Done(h, _) => {
                    if let proxy::Header::Proxied { source, .. } = h {
                        self.peer = self.peer.behind_proxy(source);
                    }
                    return Ok(h);
                }
            }
        }
    }

    /// Reads fail with `TimedOut` ([`Error::IdleTimeout`]) after this much silence.
    pub fn set_idle_timeout(&mut self, timeout: Option<Duration>) {
        if let Some(io) = self.io_mut() {
            io.idle = timeout;
        }
    }

    /// Before login (`Some`): reads fail with [`Error::IdleTimeout`] once `timeout`
    /// has passed since now, however often the client sends a byte, and with
    /// [`Error::TooMuchBeforeLogin`] once more than `budget` octets have come in
    /// (TLS records count as the plaintext they carry). `None` after login.
    pub fn set_login_limits(&mut self, limits: Option<(Duration, u64)>) {
        self.login_budget = limits.map(|(_, budget)| budget);
        if let Some(io) = self.io_mut() {
            io.login_deadline = limits.map(|(timeout, _)| Instant::now() + timeout);
        }
    }

    /// True once compression was started ([`Transport::start_compression`]).
    pub fn is_compressed(&self) -> bool {
        self.deflate.is_some()
    }

    /// Starts deflate in both directions (IMAP COMPRESS=DEFLATE, RFC 4978), after
    /// sending what is buffered (the tagged OK, which goes out uncompressed).
    /// `pending` is what the caller already read past the command that started
    /// compression (its own buffer); with what this transport has buffered behind
    /// it, that is the start of the client's compressed stream (§3: compression
    /// begins with the first octet after the command's CRLF).
    pub fn start_compression(&mut self, pending: &[u8]) -> Result<(), Error> {
        if self.deflate.is_some() {
            return Err(Error::Io(io::Error::other("compression is already active")));
        }
        self.flush().map_err(Error::from_io)?;
        let mut input = pending.to_vec();
        input.extend_from_slice(&self.rbuf[self.rpos..self.rlen]);
        self.rpos = 0;
        self.rlen = 0;
        self.deflate = Some(Box::new(Deflate::new(&input)));
        Ok(())
    }

    /// True once a TLS handshake has completed on this connection.
    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// For logs: protocol version and cipher suite, e.g. `TLSv1_3 TLS13_AES_256_GCM_SHA384`.
    pub fn tls_description(&self) -> Option<String> {
        match &self.stream {
            Stream::Tls(tls) => {
                let version = tls.conn.protocol_version().map(|v| format!("{v:?}"));
                let suite = tls
                    .conn
                    .negotiated_cipher_suite()
                    .map(|s| format!("{:?}", s.suite()));
                Some(format!(
                    "{} {}",
                    version.unwrap_or_default(),
                    suite.unwrap_or_default()
                ))
            }
            _ => None,
        }
    }

    /// Bytes received but not yet consumed (pipelined commands).
    pub fn buffered_input(&self) -> usize {
        self.rlen - self.rpos
    }

    /// Waits up to `timeout` for input without reading it: `Ok(true)` when a
    /// read would find data (or end of file; over TLS, when bytes arrived, which
    /// may be less than a whole record), `Ok(false)` when the time is up.
    /// For loops that must wake up now and then, such as IMAP IDLE checking
    /// for new mail; a termination signal ends the wait as [`Error::Signal`].
    pub fn poll_input(&mut self, timeout: Duration) -> Result<bool, Error> {
        Ok(self.poll_input_or(timeout, None)? == Readiness::Input)
    }

    /// [`Transport::poll_input`], also waking when the descriptor `also` becomes
    /// readable (an inotify watch: IMAP NOTIFY waits for input and for changes
    /// to the mailboxes at once, without waking up in between). `also` must stay
    /// open for the call.
    pub fn poll_input_or(&mut self, timeout: Duration, also: Option<RawFd>) -> Result<Readiness, Error> {
        if self.buffered_input() > 0 {
            return Ok(Readiness::Input);
        }
        self.flush().map_err(Error::from_io)?;
        if let Some(d) = &mut self.deflate {
            // What is already received may inflate to input without any read.
            // Octets that inflate to nothing yet (half a deflate block) make the
            // socket readable but no line: the caller's read then waits for the
            // rest, as a TLS record cut in two does below.
            let n = d.inflate(&mut self.rbuf).map_err(Error::from_io)?;
            if n > 0 || d.ended() {
                self.rpos = 0;
                self.rlen = n;
                return Ok(Readiness::Input);
            }
        }
        let io = match &mut self.stream {
            Stream::Plain(io) => io,
            Stream::Tls(tls) => {
                let state = tls
                    .conn
                    .process_new_packets()
                    .map_err(|e| Error::Tls(e.to_string()))?;
                if state.plaintext_bytes_to_read() > 0 || state.peer_has_closed() {
                    return Ok(Readiness::Input);
                }
                &mut tls.sock
            }
            Stream::Closed => return Err(Error::ConnectionLost),
        };
        let (idle, deadline) = (io.idle, io.deadline);
        io.idle = Some(timeout);
        io.deadline = None;
        let result = io.wait_also(io.input.as_fd_ref(), libc::POLLIN, true, also);
        io.idle = idle;
        io.deadline = deadline;
        match result {
            Ok(false) => Ok(Readiness::Input),
            Ok(true) => Ok(Readiness::Also),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(Readiness::Timeout),
            Err(e) => Err(Error::from_io(e)),
        }
    }

    /// Upgrades the connection to TLS in place (STARTTLS, STLS, or right away for
    /// implicit TLS). Anything still buffered for writing is sent first in the
    /// clear — the `OK` to STARTTLS. Anything the client sent after the STARTTLS
    /// command and before the handshake is discarded, never executed (RFC 2595
    /// §3.1; the "STARTTLS command injection" bugs, CVE-2011-0411 and kin).
    /// Returns how many such bytes were thrown away, for the log.
    ///
    /// The handshake must finish within the idle timeout (or 60 s without one).
    pub fn start_tls(&mut self, config: Arc<ServerConfig>) -> Result<usize, Error> {
        if self.is_tls() {
            return Err(Error::TlsAlreadyActive);
        }
        if self.is_compressed() {
            // TLS goes under compression (RFC 4978 §3), never over it.
            return Err(Error::Tls("TLS after compression".into()));
        }
        self.flush().map_err(Error::from_io)?;
        let discarded = self.buffered_input();
        self.rpos = 0;
        self.rlen = 0;
        let mut io = match std::mem::replace(&mut self.stream, Stream::Closed) {
            Stream::Plain(io) => io,
            _ => return Err(Error::ConnectionLost),
        };
        let conn = ServerConnection::new(config).map_err(|e| Error::Tls(e.to_string()))?;
        io.deadline = Some(Instant::now() + io.idle.unwrap_or(Duration::from_secs(60)));
        let mut tls = StreamOwned::new(conn, io);
        let mut rounds = 0;
        while tls.conn.is_handshaking() {
            rounds += 1;
            let result = if rounds > MAX_HANDSHAKE_ROUNDS {
                Err(io::Error::other("TLS handshake takes too many rounds"))
            } else {
                tls.conn.complete_io(&mut tls.sock).map(|_| ())
            };
            if let Err(e) = result {
                // Best effort: tell the client why (a TLS alert), then give up.
                let _ = tls.conn.write_tls(&mut tls.sock);
                return Err(match Error::from_io(e) {
                    Error::Io(e) => Error::Tls(e.to_string()),
                    other => other,
                });
            }
        }
        tls.sock.deadline = None;
        self.stream = Stream::Tls(Box::new(tls));
        Ok(discarded)
    }

    /// Reads one line, up to and including its LF, of at most `max` bytes.
    /// A longer line is [`Error::LineTooLong`]; end of input is
    /// [`Error::ConnectionLost`] (a partial last line is returned as is).
    pub fn read_line(&mut self, max: usize) -> Result<Vec<u8>, Error> {
        let mut line = Vec::new();
        loop {
            let available = self.fill_buf().map_err(Error::from_io)?;
            if available.is_empty() {
                return if line.is_empty() {
                    Err(Error::ConnectionLost)
                } else {
                    Ok(line)
                };
            }
            let (take, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            if line.len() + take > max {
                self.discard_line()?;
                return Err(Error::LineTooLong);
            }
            line.extend_from_slice(&available[..take]);
            self.consume(take);
            if done {
                return Ok(line);
            }
        }
    }

    /// Skips the rest of an over-long line, through its LF, so that the next read
    /// starts at the next command instead of in the middle of this one. A "line" that
    /// does not end within [`MAX_DISCARD`] octets is not a client speaking the
    /// protocol: the connection is given up.
    fn discard_line(&mut self) -> Result<(), Error> {
        let mut skipped = 0usize;
        loop {
            let available = self.fill_buf().map_err(Error::from_io)?;
            if available.is_empty() {
                return Err(Error::ConnectionLost);
            }
            let (take, done) = match memchr_lf(available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            self.consume(take);
            skipped += take;
            if done {
                return Ok(());
            }
            if skipped > MAX_DISCARD {
                return Err(Error::ConnectionLost);
            }
        }
    }

    /// Sends what is buffered, closes TLS with close_notify, and shuts the socket
    /// down so the client sees the end at once.
    pub fn close(&mut self) -> io::Result<()> {
        let flushed = self.flush();
        if let Stream::Tls(tls) = &mut self.stream {
            tls.conn.send_close_notify();
            let _ = tls.conn.complete_io(&mut tls.sock);
        }
        if let Some(io) = self.io_mut() {
            // SAFETY: shutdown on an open descriptor; ENOTSOCK for pipes is ignored.
            unsafe { libc::shutdown(io.output.as_raw_fd(), libc::SHUT_RDWR) };
        }
        self.stream = Stream::Closed;
        flushed
    }

    fn io_mut(&mut self) -> Option<&mut FdIo> {
        match &mut self.stream {
            Stream::Plain(io) => Some(io),
            Stream::Tls(tls) => Some(&mut tls.sock),
            Stream::Closed => None,
        }
    }

    fn raw_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        stream_read(&mut self.stream, buf)
    }

    /// Reads into `buf` what the client sent, inflated when compression is on;
    /// 0 at the end of input.
    fn read_input(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(d) = &mut self.deflate else {
            return self.raw_read(buf);
        };
        loop {
            let n = d.inflate(buf)?;
            if n > 0 || d.ended() {
                return Ok(n);
            }
            let space = d.input_space();
            let n = stream_read(&mut self.stream, space)?;
            d.received(n);
            if n == 0 {
                return Ok(0);
            }
        }
    }

    /// Sends `data` on the connection, compressed when compression is on; with
    /// `sync` (the end of a batch of responses) the compressed stream is flushed
    /// so the client can read all of it now.
    fn send(&mut self, data: &[u8], sync: bool) -> io::Result<()> {
        let stream = &mut self.stream;
        match &mut self.deflate {
            None => stream_write(stream, data),
            Some(d) => d.deflate(data, sync, |chunk| stream_write(stream, chunk)),
        }
    }
}

fn stream_read(stream: &mut Stream, buf: &mut [u8]) -> io::Result<usize> {
    match stream {
        Stream::Plain(io) => io.read(buf),
        Stream::Tls(tls) => tls.read(buf),
        Stream::Closed => Err(io::ErrorKind::NotConnected.into()),
    }
}

fn stream_write(stream: &mut Stream, data: &[u8]) -> io::Result<()> {
    match stream {
        Stream::Plain(io) => io.write_all(data),
        Stream::Tls(tls) => tls.write_all(data).and_then(|()| tls.flush()),
        Stream::Closed => Err(not_connected()),
    }
}

fn not_connected() -> io::Error {
    io::ErrorKind::NotConnected.into()
}

fn dup(fd: i32) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor that we alone own.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `new` is a freshly duplicated, open descriptor owned by nobody else.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(new) })
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Transport {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.rpos == self.rlen {
            // The client waits for our answer before sending more, so it must
            // have it before we block on reading.
            self.flush()?;
            let mut buf = std::mem::take(&mut self.rbuf);
            let result = self.read_input(&mut buf);
            self.rbuf = buf;
            let n = result?;
            if let Some(left) = self.login_budget {
                if n as u64 > left {
                    self.rlen = 0;
                    self.rpos = 0;
                    return Err(io::Error::other(TooMuchBeforeLogin));
                }
                self.login_budget = Some(left - n as u64);
            }
            self.rlen = n;
            self.rpos = 0;
        }
        Ok(&self.rbuf[self.rpos..self.rlen])
    }

    fn consume(&mut self, amt: usize) {
        self.rpos = (self.rpos + amt).min(self.rlen);
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if matches!(self.stream, Stream::Closed) {
            return Err(not_connected());
        }
        if self.wbuf.len() + buf.len() > WRITE_BUFFER {
            if buf.len() >= WRITE_BUFFER {
                // A whole message: straight out, not copied through the buffer
                // (and, compressed, without a sync flush: more follows).
                let data = std::mem::take(&mut self.wbuf);
                let result = self.send(&data, false).and_then(|()| self.send(buf, false));
                self.wbuf = data;
                self.wbuf.clear();
                result?;
                return Ok(buf.len());
            }
            self.flush()?;
        }
        self.wbuf.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let unflushed = self.deflate.as_ref().is_some_and(|d| d.unflushed());
        if self.wbuf.is_empty() && !unflushed {
            return Ok(());
        }
        let data = std::mem::take(&mut self.wbuf);
        let result = self.send(&data, true);
        self.wbuf = data;
        self.wbuf.clear();
        result
    }
}
