//! A trusted proxy's PROXY protocol header over a real loopback socket: the
//! client it names becomes the peer of the transport and of the login checks,
//! exactly the header's octets are taken, and nobody else is read for one.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use daemon::{Config, Daemon, Error, Options, Service, Transport};

/// A daemon on the server end of a loopback connection (whose peer is
/// 127.0.0.1), configured with `config`, and the client end.
fn connection(config: &str) -> (Daemon, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (server, _) = listener.accept().unwrap();
    let config = Config::parse(config, Path::new("test.conf")).unwrap();
    let transport = Transport::from_socket(server).unwrap();
    let d = Daemon::new(Service::Imap, config, Options::default(), transport);
    (d, client)
}

#[test]
fn a_trusted_proxys_client_becomes_the_peer_and_the_next_octets_stay_unread() {
    let (mut d, mut proxy) = connection("trusted_proxies = 127.0.0.1\n");
    let socket_peer = d.transport.peer();
    proxy
        .write_all(b"PROXY TCP4 198.51.100.7 192.0.2.1 51234 143\r\nA1 NOOP\r\n")
        .unwrap();
    d.accept_proxy().unwrap();
    let peer = d.transport.peer();
    assert_eq!(peer.to_string(), "[198.51.100.7]");
    assert_eq!(peer.host().as_deref(), Some("198.51.100.7"));
    assert_eq!(peer.proxy, socket_peer.remote);
    assert_eq!(peer.local, socket_peer.local);
    assert_eq!(
        d.authenticator.peer(),
        peer,
        "PAM and the log see the client"
    );
    // The proxy is on loopback: the password does not cross a network.
    assert!(d.plaintext_allowed());
    assert_eq!(d.transport.read_line(1000).unwrap(), b"A1 NOOP\r\n");
}

#[test]
fn version_2_from_a_trusted_network_is_read_to_its_last_octet() {
    let (mut d, mut proxy) = connection("trusted_proxies = 10.0.0.0/8, 127.0.0.0/24\n");
    let mut header = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x14".to_vec();
    header.extend_from_slice(&[203, 0, 113, 9, 127, 0, 0, 2, 0xc3, 0x50, 0, 110]);
    header.extend_from_slice(&[0x04, 0x00, 0x05, b'h', b'e', b'l', b'l', b'o']); // a TLV
    header.extend_from_slice(b"CAPA\r\n");
    proxy.write_all(&header).unwrap();
    d.accept_proxy().unwrap();
    assert_eq!(d.transport.peer().to_string(), "[203.0.113.9]");
    assert_eq!(d.transport.peer().host().as_deref(), Some("203.0.113.9"));
    assert_eq!(d.transport.read_line(1000).unwrap(), b"CAPA\r\n");
}

#[test]
fn an_untrusted_peer_is_never_read_for_a_header() {
    // 127.0.0.1 is not in the list: its PROXY line is the client's first
    // command (a bad one), and the address stays the socket's.
    let (mut d, mut client) = connection("trusted_proxies = 192.0.2.1, 127.0.0.2\n");
    let before = d.transport.peer();
    client
        .write_all(b"PROXY TCP4 203.0.113.1 192.0.2.1 1 143\r\n")
        .unwrap();
    d.accept_proxy().unwrap();
    assert_eq!(d.transport.peer(), before);
    assert_eq!(d.authenticator.peer(), before);
    assert_eq!(
        d.transport.read_line(1000).unwrap(),
        b"PROXY TCP4 203.0.113.1 192.0.2.1 1 143\r\n"
    );
    // With no trusted proxies at all, the same.
    let (mut d, mut client) = connection("");
    client
        .write_all(b"PROXY TCP4 203.0.113.1 192.0.2.1 1 143\r\n")
        .unwrap();
    d.accept_proxy().unwrap();
    assert_eq!(d.transport.peer().to_string(), "[127.0.0.1]");
}

#[test]
fn a_trusted_peer_without_a_valid_header_is_closed_without_an_answer() {
    let (mut d, mut proxy) = connection("trusted_proxies = 127.0.0.1\n");
    proxy.write_all(b"A1 LOGIN fred secret\r\n").unwrap();
    assert!(matches!(d.accept_proxy(), Err(Error::ProxyHeader(_))));
    assert!(d.transport.peer().proxy.is_none());

    let (mut d, mut proxy) = connection("trusted_proxies = 127.0.0.1\n");
    proxy
        .write_all(b"PROXY TCP4 198.51.100.7 oops 1 2\r\n")
        .unwrap();
    let e = d.accept_proxy().unwrap_err();
    assert!(e.imap_answer().is_none() && e.pop_answer().is_none(), "{e}");
}

#[test]
fn a_proxy_that_drops_the_connection_mid_header_ends_the_session_quietly() {
    let (mut d, mut proxy) = connection("trusted_proxies = 127.0.0.1\n");
    proxy.write_all(b"PROXY TCP4 198.51").unwrap();
    proxy.shutdown(Shutdown::Both).unwrap();
    let e = d.accept_proxy().unwrap_err();
    assert!(matches!(e, Error::ConnectionLost), "{e}");
    assert_eq!(e.exit_code(), 0);
}

#[test]
fn a_silent_proxy_is_given_up_at_the_login_timeout() {
    let (mut d, mut proxy) = connection("trusted_proxies = 127.0.0.1\nlogin_timeout = 1\n");
    let started = Instant::now();
    let e = d.accept_proxy().unwrap_err();
    assert!(matches!(e, Error::IdleTimeout), "{e}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    drop(d);
    let mut rest = Vec::new();
    proxy.read_to_end(&mut rest).unwrap();
    assert!(
        rest.is_empty(),
        "nothing is said to a proxy that said nothing"
    );
}
