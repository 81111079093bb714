//! Deflate over the real transport on loopback sockets (IMAP COMPRESS=DEFLATE,
//! RFC 4978): plain and under TLS, with input pipelined behind the command that
//! started it, a push that must leave without the client asking (IDLE), a large
//! write, and a decompression bomb that meets the line limit instead of memory.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use daemon::{Error, Transport};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

const LIMIT: usize = 4096;

/// A client's side of a compressed session, over any byte stream.
struct Client<S: Read + Write> {
    io: S,
    deflate: Compress,
    inflate: Decompress,
    /// Inflated, not yet consumed.
    text: Vec<u8>,
    /// Compressed octets received (to measure).
    wire_in: usize,
}

impl<S: Read + Write> Client<S> {
    fn new(io: S) -> Client<S> {
        Client {
            io,
            deflate: Compress::new(Compression::default(), false),
            inflate: Decompress::new(false),
            text: Vec::new(),
            wire_in: 0,
        }
    }

    fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 1024);
        self.deflate
            .compress_vec(data, &mut out, FlushCompress::Sync)
            .unwrap();
        assert!(out.len() < out.capacity(), "output room left: all flushed");
        out
    }

    fn send(&mut self, data: &[u8]) {
        let z = self.compress(data);
        self.io.write_all(&z).unwrap();
        self.io.flush().unwrap();
    }

    /// The next inflated line; panics on end of input.
    fn line(&mut self) -> String {
        loop {
            if let Some(i) = self.text.iter().position(|&b| b == b'\n') {
                let l: Vec<u8> = self.text.drain(..=i).collect();
                return String::from_utf8(l).unwrap();
            }
            let mut z = [0u8; 4096];
            let n = self.io.read(&mut z).unwrap();
            assert!(n > 0, "connection closed; had {:?}", self.text);
            self.wire_in += n;
            let mut input = &z[..n];
            while !input.is_empty() {
                let mut out = Vec::with_capacity(64 * 1024);
                let before = self.inflate.total_in();
                self.inflate
                    .decompress_vec(input, &mut out, FlushDecompress::Sync)
                    .unwrap();
                input = &input[(self.inflate.total_in() - before) as usize..];
                self.text.extend_from_slice(&out);
            }
        }
    }
}

fn pair() -> (Transport, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (server, _) = listener.accept().unwrap();
    let mut transport = Transport::from_socket(server).unwrap();
    transport.set_idle_timeout(Some(Duration::from_secs(10)));
    (transport, client)
}

/// The server of these tests: reads `COMPRESS` in the clear, says OK, then
/// answers each compressed line with its echo; `PUSH` waits (as IDLE does) and
/// sends an untagged line; `BIG` writes 1 MiB in one write.
fn serve(mut t: Transport) -> Result<usize, Error> {
    let line = t.read_line(LIMIT)?;
    assert_eq!(line, b"c COMPRESS DEFLATE\r\n");
    t.write_all(b"c OK DEFLATE active\r\n").unwrap();
    t.start_compression(&[])?;
    assert!(t.is_compressed());
    let mut served = 0;
    loop {
        let line = match t.read_line(LIMIT) {
            Ok(l) => l,
            Err(Error::ConnectionLost) => return Ok(served),
            Err(e) => return Err(e),
        };
        served += 1;
        let text = String::from_utf8(line).unwrap();
        let tag = text.split(' ').next().unwrap().to_string();
        if text.contains("PUSH") {
            write!(t, "+ idling\r\n").unwrap();
            // Nothing arrives for a while: the push must still leave.
            assert!(!t.poll_input(Duration::from_millis(200))?);
            // The client answers DONE only once it has inflated this line.
            write!(t, "* 1 EXISTS\r\n").unwrap();
            assert!(t.poll_input(Duration::from_secs(10))?);
            let done = t.read_line(LIMIT)?;
            assert_eq!(done, b"DONE\r\n");
            write!(t, "{tag} OK IDLE terminated\r\n").unwrap();
        } else if text.contains("BIG") {
            let big = b"* OK filler for a large response, compressible\r\n".repeat(20_000);
            t.write_all(&big).unwrap();
            write!(t, "{tag} OK big\r\n").unwrap();
        } else {
            write!(t, "{tag} OK echo {}", &text[tag.len() + 1..]).unwrap();
        }
        t.flush().unwrap();
    }
}

fn exercise<S: Read + Write>(client: &mut Client<S>) {
    // Two commands in one compressed write: both run.
    client.send(b"a1 NOOP\r\na2 CHECK\r\n");
    assert_eq!(client.line(), "a1 OK echo NOOP\r\n");
    assert_eq!(client.line(), "a2 OK echo CHECK\r\n");
    client.send(b"a3 PUSH\r\n");
    assert_eq!(client.line(), "+ idling\r\n");
    assert_eq!(client.line(), "* 1 EXISTS\r\n", "the push left before DONE");
    client.send(b"DONE\r\n");
    assert_eq!(client.line(), "a3 OK IDLE terminated\r\n");
    let before = client.wire_in;
    client.send(b"a4 BIG\r\n");
    for _ in 0..20_000 {
        assert_eq!(
            client.line(),
            "* OK filler for a large response, compressible\r\n"
        );
    }
    assert_eq!(client.line(), "a4 OK big\r\n");
    let wire = client.wire_in - before;
    assert!(wire < 50_000, "1 MiB of responses took {wire} octets");
}

#[test]
fn a_compressed_session_over_plain_tcp() {
    let (transport, socket) = pair();
    let server = thread::spawn(move || serve(transport));
    let mut plain = socket.try_clone().unwrap();
    plain.write_all(b"c COMPRESS DEFLATE\r\n").unwrap();
    let mut ok = [0u8; 21];
    plain.read_exact(&mut ok).unwrap();
    assert_eq!(&ok, b"c OK DEFLATE active\r\n", "the OK is not compressed");
    drop(plain);
    let mut client = Client::new(socket);
    exercise(&mut client);
    drop(client);
    assert_eq!(server.join().unwrap().unwrap(), 4);
}

#[test]
fn input_pipelined_behind_the_command_is_inflated_not_lost() {
    let (transport, socket) = pair();
    let server = thread::spawn(move || serve(transport));
    let mut client = Client::new(socket);
    let first = client.compress(b"p1 NOOP\r\n");
    let mut wire = b"c COMPRESS DEFLATE\r\n".to_vec();
    wire.extend_from_slice(&first);
    client.io.write_all(&wire).unwrap();
    let mut ok = [0u8; 21];
    client.io.read_exact(&mut ok).unwrap();
    assert_eq!(client.line(), "p1 OK echo NOOP\r\n");
    drop(client);
    assert_eq!(server.join().unwrap().unwrap(), 1);
}

#[test]
fn a_decompression_bomb_meets_the_line_limit() {
    let (transport, socket) = pair();
    let server = thread::spawn(move || serve(transport));
    let mut client = Client::new(socket);
    client.io.write_all(b"c COMPRESS DEFLATE\r\n").unwrap();
    let mut ok = [0u8; 21];
    client.io.read_exact(&mut ok).unwrap();
    // 64 MiB without a line end, a few dozen KiB on the wire; the client stays
    // connected, so the session can end only because of what it was sent.
    let chunk = vec![b'A'; 1 << 20];
    let mut sent = 0;
    for _ in 0..64 {
        let z = client.compress(&chunk);
        if client.io.write_all(&z).is_err() {
            break;
        }
        sent += z.len();
    }
    assert!(sent < 1 << 20, "{sent} octets on the wire");
    let r = server.join().unwrap();
    assert!(matches!(r, Ok(0)), "no command, the line given up: {r:?}");
    drop(client);
}

#[test]
fn garbage_after_compress_ends_the_session() {
    let (transport, socket) = pair();
    let server = thread::spawn(move || serve(transport));
    let mut s = socket;
    s.write_all(b"c COMPRESS DEFLATE\r\n").unwrap();
    let mut ok = [0u8; 21];
    s.read_exact(&mut ok).unwrap();
    // A client that did not start compressing: plain text is no deflate stream.
    s.write_all(b"a1 NOOP\r\n").unwrap();
    let r = server.join().unwrap();
    assert!(r.is_err(), "{r:?}");
}

#[test]
fn compression_goes_inside_tls() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let der = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let server_config = daemon::tls::with_certificate(vec![der.clone()], key).unwrap();
    let (mut transport, socket) = pair();
    let server = thread::spawn(move || {
        transport.start_tls(server_config).unwrap();
        serve(transport)
    });
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(der.to_vec())).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn = ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
        .unwrap();
    let mut tls = StreamOwned::new(conn, socket);
    tls.write_all(b"c COMPRESS DEFLATE\r\n").unwrap();
    let mut ok = [0u8; 21];
    tls.read_exact(&mut ok).unwrap();
    assert_eq!(&ok, b"c OK DEFLATE active\r\n");
    let mut client = Client::new(tls);
    exercise(&mut client);
    client.io.conn.send_close_notify();
    let _ = client.io.flush();
    drop(client);
    assert_eq!(server.join().unwrap().unwrap(), 4);
}
