//! TLS over the real transport on loopback sockets, with a certificate made here:
//! STARTTLS upgrade, implicit TLS, refusing a second STARTTLS, the plaintext
//! policy, and that bytes pipelined after STARTTLS are never executed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use daemon::{Config, Credentials, Daemon, Error, Options, Peer, Service, Transport};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

const LIMIT: usize = 4096;

struct Certificate {
    der: CertificateDer<'static>,
    server: Arc<rustls::ServerConfig>,
    cert_pem: String,
    key_pem: String,
}

fn certificate() -> Certificate {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let der = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let server = daemon::tls::with_certificate(vec![der.clone()], key).unwrap();
    Certificate {
        der,
        server,
        cert_pem: ck.cert.pem(),
        key_pem: ck.signing_key.serialize_pem(),
    }
}

fn client_config(cert: &Certificate) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(cert.der.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

fn tls_client(cert: &Certificate, socket: TcpStream) -> StreamOwned<ClientConnection, TcpStream> {
    let conn = ClientConnection::new(
        client_config(cert),
        ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    StreamOwned::new(conn, socket)
}

/// A connected pair: the server side as a Transport, the client as a socket.
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

fn read_line<R: Read>(r: &mut BufReader<R>) -> String {
    let mut s = String::new();
    r.read_line(&mut s).unwrap();
    s
}

/// A tiny command loop standing in for an engine: answers each line, upgrades
/// on STARTTLS, and returns every command line it executed.
fn serve(mut d: Daemon) -> (Vec<String>, Vec<usize>) {
    let mut executed = Vec::new();
    let mut discarded = Vec::new();
    for _ in 0..10 {
        let line = match d.transport.read_line(LIMIT) {
            Ok(l) => String::from_utf8(l).unwrap(),
            Err(_) => break,
        };
        executed.push(line.trim_end().to_string());
        let tag = line.split(' ').next().unwrap_or("*").to_string();
        if line.contains("STARTTLS") {
            if d.transport.is_tls() {
                let answer = Error::TlsAlreadyActive.imap_answer().unwrap();
                write!(d.transport, "{tag} BAD {}\r\n", answer.text).unwrap();
                continue;
            }
            write!(d.transport, "{tag} OK Begin TLS negotiation now\r\n").unwrap();
            let before = d.transport.buffered_input();
            match d.start_tls() {
                Ok(()) => discarded.push(before),
                Err(_) => break,
            }
        } else if line.contains("LOGOUT") {
            write!(d.transport, "* BYE\r\n{tag} OK\r\n").unwrap();
            d.finish(None, None);
            break;
        } else {
            write!(d.transport, "{tag} OK tls={}\r\n", d.transport.is_tls()).unwrap();
        }
    }
    (executed, discarded)
}

fn daemon_with(transport: Transport, cert: &Certificate) -> Daemon {
    let mut d = Daemon::new(
        Service::Imap,
        Config::default(),
        Options::default(),
        transport,
    );
    d.set_tls(cert.server.clone());
    d
}

#[test]
fn starttls_upgrades_the_connection_in_place() {
    let cert = certificate();
    let (transport, client) = pair();
    let d = daemon_with(transport, &cert);
    assert!(d.can_start_tls());
    let server = thread::spawn(move || serve(d));

    let mut plain = BufReader::new(client.try_clone().unwrap());
    (&client).write_all(b"a1 NOOP\r\n").unwrap();
    assert_eq!(read_line(&mut plain), "a1 OK tls=false\r\n");
    (&client).write_all(b"a2 STARTTLS\r\n").unwrap();
    assert_eq!(read_line(&mut plain), "a2 OK Begin TLS negotiation now\r\n");

    let mut tls = BufReader::new(tls_client(&cert, client));
    tls.get_mut().write_all(b"a3 NOOP\r\n").unwrap();
    assert_eq!(read_line(&mut tls), "a3 OK tls=true\r\n");
    tls.get_mut().write_all(b"a4 STARTTLS\r\n").unwrap();
    assert_eq!(read_line(&mut tls), "a4 BAD TLS is already active\r\n");
    tls.get_mut().write_all(b"a5 LOGOUT\r\n").unwrap();
    assert_eq!(read_line(&mut tls), "* BYE\r\n");
    assert_eq!(read_line(&mut tls), "a5 OK\r\n");

    let (executed, discarded) = server.join().unwrap();
    assert_eq!(
        executed,
        [
            "a1 NOOP",
            "a2 STARTTLS",
            "a3 NOOP",
            "a4 STARTTLS",
            "a5 LOGOUT"
        ]
    );
    assert_eq!(discarded, [0]);
}

#[test]
fn commands_pipelined_before_the_handshake_are_never_executed() {
    let cert = certificate();
    let (transport, client) = pair();
    let d = daemon_with(transport, &cert);
    let server = thread::spawn(move || {
        // Let the whole injected burst arrive before the first read, so that it
        // sits in our buffer when STARTTLS is executed.
        thread::sleep(Duration::from_millis(200));
        serve(d)
    });

    let mut plain = BufReader::new(client.try_clone().unwrap());
    (&client)
        .write_all(b"a1 STARTTLS\r\na2 LOGIN root secret\r\na3 DELETE INBOX\r\n")
        .unwrap();
    assert_eq!(read_line(&mut plain), "a1 OK Begin TLS negotiation now\r\n");
    let mut tls = BufReader::new(tls_client(&cert, client));
    tls.get_mut().write_all(b"a4 NOOP\r\n").unwrap();
    assert_eq!(read_line(&mut tls), "a4 OK tls=true\r\n");
    tls.get_mut().write_all(b"a5 LOGOUT\r\n").unwrap();
    assert_eq!(read_line(&mut tls), "* BYE\r\n");

    let (executed, discarded) = server.join().unwrap();
    assert_eq!(executed, ["a1 STARTTLS", "a4 NOOP", "a5 LOGOUT"]);
    assert_eq!(
        discarded,
        ["a2 LOGIN root secret\r\na3 DELETE INBOX\r\n".len()]
    );
}

#[test]
fn injected_bytes_arriving_late_break_the_handshake_instead_of_running() {
    let cert = certificate();
    let (transport, client) = pair();
    let d = daemon_with(transport, &cert);
    let server = thread::spawn(move || serve(d));
    let mut plain = BufReader::new(client.try_clone().unwrap());
    (&client).write_all(b"a1 STARTTLS\r\n").unwrap();
    assert_eq!(read_line(&mut plain), "a1 OK Begin TLS negotiation now\r\n");
    // Plaintext where the ClientHello should be: the handshake fails.
    (&client).write_all(b"a2 LOGIN root secret\r\n").unwrap();
    let (executed, discarded) = server.join().unwrap();
    assert_eq!(executed, ["a1 STARTTLS"]);
    assert!(discarded.is_empty());
}

#[test]
fn implicit_tls_handshakes_before_the_greeting() {
    let cert = certificate();
    let (mut transport, client) = pair();
    let server_cfg = cert.server.clone();
    let server = thread::spawn(move || {
        transport.start_tls(server_cfg).unwrap();
        assert!(transport.is_tls());
        let description = transport.tls_description().unwrap();
        assert!(description.starts_with("TLSv1_"), "{description}");
        transport.write_all(b"* OK greeting\r\n").unwrap();
        let line = transport.read_line(LIMIT).unwrap();
        transport.write_all(&line).unwrap();
        transport.close().unwrap();
    });
    let mut tls = BufReader::new(tls_client(&cert, client));
    assert_eq!(read_line(&mut tls), "* OK greeting\r\n");
    tls.get_mut().write_all(b"echo me\r\n").unwrap();
    assert_eq!(read_line(&mut tls), "echo me\r\n");
    server.join().unwrap();
}

#[test]
fn tls_1_2_clients_are_served_too() {
    let cert = certificate();
    let (mut transport, client) = pair();
    let server_cfg = cert.server.clone();
    let server = thread::spawn(move || {
        transport.start_tls(server_cfg).unwrap();
        let d = transport.tls_description().unwrap();
        transport.write_all(format!("{d}\r\n").as_bytes()).unwrap();
        transport.close().unwrap();
    });
    let mut roots = RootCertStore::empty();
    roots.add(cert.der.clone()).unwrap();
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let conn = ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
        .unwrap();
    let mut tls = BufReader::new(StreamOwned::new(conn, client));
    assert!(read_line(&mut tls).starts_with("TLSv1_2 "));
    server.join().unwrap();
}

#[test]
fn certificate_and_key_load_from_pem_files() {
    let cert = certificate();
    let dir = tempfile::tempdir().unwrap();
    let (cert_file, key_file) = (dir.path().join("imapd.pem"), dir.path().join("imapd.key"));
    std::fs::write(&cert_file, &cert.cert_pem).unwrap();
    std::fs::write(&key_file, &cert.key_pem).unwrap();
    assert!(daemon::tls::server_config(&cert_file, &key_file).is_ok());
    // UW's combined file: no separate key file, the key follows the certificate.
    let combined = dir.path().join("combined.pem");
    std::fs::write(&combined, format!("{}{}", cert.cert_pem, cert.key_pem)).unwrap();
    assert!(daemon::tls::server_config(&combined, &dir.path().join("missing.key")).is_ok());
    // Per-service defaults from the configuration.
    let mut config = Config::default();
    config
        .set(
            "tls_certificate",
            &dir.path().join("%s.pem").display().to_string(),
        )
        .unwrap();
    config
        .set("tls_key", &dir.path().join("%s.key").display().to_string())
        .unwrap();
    assert!(daemon::tls::load(&config, Service::Imap).is_ok());
    assert!(matches!(
        daemon::tls::load(&config, Service::Pop3),
        Err(Error::TlsSetup { .. })
    ));
    config.set("tls", "no").unwrap();
    assert!(matches!(
        daemon::tls::load(&config, Service::Imap),
        Err(Error::TlsUnavailable)
    ));
    std::fs::write(&cert_file, "not a certificate").unwrap();
    assert!(matches!(
        daemon::tls::server_config(&cert_file, &key_file),
        Err(Error::TlsSetup { .. })
    ));
}

/// A transport whose peer we pretend is remote, over a loopback socket.
fn remote_pair() -> (Transport, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (server, _) = listener.accept().unwrap();
    let input: OwnedFd = server.try_clone().unwrap().into();
    let peer = Peer {
        remote: Some("192.0.2.10:40000".parse().unwrap()),
        local: Some("192.0.2.1:143".parse().unwrap()),
        proxy: None,
    };
    (Transport::from_fds(input, server.into(), peer), client)
}

#[test]
fn plaintext_passwords_are_refused_until_tls_on_remote_connections() {
    let cert = certificate();
    let (transport, client) = remote_pair();
    let mut d = daemon_with(transport, &cert);
    d.authenticator.set_failure_delay(Duration::ZERO);
    assert!(!d.plaintext_allowed(), "LOGINDISABLED before TLS");
    assert!(d
        .authenticator
        .mechanisms(false)
        .iter()
        .all(|m| !m.is_plaintext()));
    let creds = Credentials::password("LOGIN", "fred", "secret");
    let err = d
        .authenticator
        .login(creds, d.transport.is_tls())
        .err()
        .unwrap();
    assert!(matches!(err, Error::PlaintextDisallowed));
    assert_eq!(err.imap_answer().unwrap().code, Some("PRIVACYREQUIRED"));
    assert_eq!(
        d.authenticator.failures(),
        0,
        "a policy refusal is not a failed guess"
    );

    let server = thread::spawn(move || {
        d.start_tls().unwrap();
        let allowed = d.plaintext_allowed();
        let mechs: Vec<_> = d
            .authenticator
            .mechanisms(true)
            .iter()
            .map(|m| m.name())
            .collect();
        d.transport
            .write_all(format!("{allowed} {}\r\n", mechs.join(",")).as_bytes())
            .unwrap();
        d.finish(None, None);
    });
    let mut tls = BufReader::new(tls_client(&cert, client));
    assert!(read_line(&mut tls).starts_with("true PLAIN,LOGIN"));
    server.join().unwrap();

    // The same connection from loopback, or with allow_plaintext, is allowed.
    let (transport, _client) = pair();
    let d = daemon_with(transport, &cert);
    assert!(d.plaintext_allowed());
    let (transport, _client) = remote_pair();
    let mut config = Config::default();
    config.set("allow_plaintext", "yes").unwrap();
    let d = Daemon::new(Service::Imap, config, Options::default(), transport);
    assert!(d.plaintext_allowed());
}

#[test]
fn idle_clients_time_out_and_closed_ones_are_lost() {
    let (mut transport, client) = pair();
    transport.set_idle_timeout(Some(Duration::from_millis(300)));
    let start = std::time::Instant::now();
    let err = transport.read_line(LIMIT).unwrap_err();
    assert!(matches!(err, Error::IdleTimeout), "{err:?}");
    assert!(start.elapsed() >= Duration::from_millis(290));
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(
        err.imap_answer().unwrap().text,
        "Autologout; idle for too long"
    );

    (&client).write_all(&[b'x'; 100]).unwrap();
    (&client).write_all(b"\r\nNOOP\r\n").unwrap();
    assert!(matches!(transport.read_line(50), Err(Error::LineTooLong)));
    // The rest of the over-long line is gone; the next command reads whole.
    assert_eq!(transport.read_line(50).unwrap(), b"NOOP\r\n");
    drop(client);
    transport.set_idle_timeout(Some(Duration::from_secs(5)));
    let mut rest = Vec::new();
    let _ = transport.read_to_end(&mut rest);
    assert!(matches!(
        transport.read_line(LIMIT),
        Err(Error::ConnectionLost)
    ));
}

#[test]
fn poll_input_wakes_for_data_and_times_out_without() {
    let cert = certificate();
    let (mut transport, client) = pair();
    let start = std::time::Instant::now();
    assert!(!transport.poll_input(Duration::from_millis(100)).unwrap());
    assert!(start.elapsed() >= Duration::from_millis(95));
    (&client).write_all(b"DONE\r\n").unwrap();
    assert!(transport.poll_input(Duration::from_secs(5)).unwrap());
    assert_eq!(transport.read_line(LIMIT).unwrap(), b"DONE\r\n");

    // The same over TLS, where the socket may be readable with no plaintext yet.
    let server_cfg = cert.server.clone();
    let server = thread::spawn(move || {
        transport.start_tls(server_cfg).unwrap();
        assert!(!transport.poll_input(Duration::from_millis(100)).unwrap());
        transport.write_all(b"+ idling\r\n").unwrap();
        transport.flush().unwrap();
        let mut woke = false;
        for _ in 0..50 {
            if transport.poll_input(Duration::from_millis(100)).unwrap() {
                woke = true;
                break;
            }
        }
        assert!(woke);
        transport.read_line(LIMIT).unwrap()
    });
    let mut tls = BufReader::new(tls_client(&cert, client));
    assert_eq!(read_line(&mut tls), "+ idling\r\n");
    tls.get_mut().write_all(b"DONE\r\n").unwrap();
    assert_eq!(server.join().unwrap(), b"DONE\r\n");
}

#[test]
fn poll_input_or_wakes_for_the_other_descriptor_and_input_comes_first() {
    use daemon::transport::Readiness;
    use std::os::fd::AsRawFd;
    let (mut transport, client) = pair();
    let (mut tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    let also = Some(rx.as_raw_fd());
    let start = std::time::Instant::now();
    assert_eq!(
        transport.poll_input_or(Duration::from_millis(100), also).unwrap(),
        Readiness::Timeout
    );
    assert!(start.elapsed() >= Duration::from_millis(95));
    // The watch fires: the wait ends at once, long before its timeout.
    tx.write_all(b"x").unwrap();
    let start = std::time::Instant::now();
    assert_eq!(
        transport.poll_input_or(Duration::from_secs(20), also).unwrap(),
        Readiness::Also
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    // Input and the watch together: input first, so the client is served.
    (&client).write_all(b"DONE\r\n").unwrap();
    assert_eq!(
        transport.poll_input_or(Duration::from_secs(5), also).unwrap(),
        Readiness::Input
    );
    assert_eq!(transport.read_line(LIMIT).unwrap(), b"DONE\r\n");
    // Without the other descriptor it is poll_input.
    assert_eq!(
        transport.poll_input_or(Duration::from_millis(50), None).unwrap(),
        Readiness::Timeout
    );
}

#[test]
fn starttls_without_a_certificate_is_unavailable() {
    let (transport, _client) = pair();
    let mut d = Daemon::new(
        Service::Imap,
        Config::default(),
        Options::default(),
        transport,
    );
    assert!(!d.can_start_tls());
    assert!(matches!(d.start_tls(), Err(Error::TlsUnavailable)));
    let (transport, _client) = pair();
    let mut d = daemon_with(transport, &certificate());
    d.service = Service::Pop2;
    assert!(!d.can_start_tls(), "POP2 has no STARTTLS");
}
