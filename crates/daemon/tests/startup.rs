//! `Daemon::start` as inetd runs a server: the connection on fd 0 and fd 1, flags,
//! a configuration file, and implicit TLS chosen by `-t`.
//!
//! The child (this binary again, for the `#[ignore]`d `child_*` test) gets the
//! accepted socket as its standard input; inside the test it also puts it on
//! fd 1 for the duration, then gives the harness its standard output back.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use daemon::{Daemon, Error, Service, Startup};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

const CONFIG_VAR: &str = "PULLMAIL_STARTUP_TEST_CONFIG";

#[test]
fn inetd_style_start_with_implicit_tls_and_a_config_file() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("imapd.crt"), ck.cert.pem()).unwrap();
    std::fs::write(dir.path().join("imapd.key"), ck.signing_key.serialize_pem()).unwrap();
    let config = dir.path().join("pullmail.conf");
    std::fs::write(
        &config,
        format!(
            "# test\ntls_certificate = {0}/%s.crt\ntls_key = {0}/%s.key\nlogin_timeout = 20\nserver_name = test.example\n",
            dir.path().display()
        ),
    )
    .unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let (server_side, _) = listener.accept().unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_serve_on_stdio",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env(CONFIG_VAR, &config)
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(server_side)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let mut roots = RootCertStore::empty();
    roots.add(ck.cert.der().clone()).unwrap();
    let tls_config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let conn = ClientConnection::new(
        Arc::new(tls_config),
        ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let mut tls = BufReader::new(StreamOwned::new(conn, client));
    let mut line = String::new();
    tls.read_line(&mut line).unwrap();
    assert_eq!(line, "* OK test.example ready tls=true local=true\r\n");
    tls.get_mut().write_all(b"a1 LOGOUT\r\n").unwrap();
    line.clear();
    tls.read_line(&mut line).unwrap();
    assert_eq!(line, "* BYE a1 LOGOUT\r\n");

    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "run by inetd_style_start_with_implicit_tls_and_a_config_file"]
fn child_serve_on_stdio() {
    let Some(config) = std::env::var_os(CONFIG_VAR) else {
        eprintln!("not run: this test runs only from its parent test");
        return;
    };
    // SAFETY: descriptor juggling in a process that runs only this test: fd 1
    // is saved, replaced by the socket on fd 0, and restored before returning.
    let saved_stdout = unsafe { libc::dup(1) };
    assert!(saved_stdout >= 0);
    assert_eq!(unsafe { libc::dup2(0, 1) }, 1);

    let args = ["-t", "-c", config.to_str().unwrap()].map(String::from);
    let result = Daemon::start(Service::Imap, args);
    let outcome = match result {
        Ok(Startup::Run(mut d)) => {
            let tls = d.transport.is_tls();
            let local = d.transport.peer().is_local();
            let name = d.config.server_name();
            write!(d.transport, "* OK {name} ready tls={tls} local={local}\r\n").unwrap();
            let line = d.transport.read_line(1024).unwrap();
            write!(d.transport, "* BYE {}", String::from_utf8_lossy(&line)).unwrap();
            d.finish(None, None);
            Ok(())
        }
        Ok(Startup::Exit(text)) => Err(format!("unexpected exit: {text}")),
        Err(e) => Err(e.to_string()),
    };

    // SAFETY: restores the harness's standard output saved above.
    unsafe {
        libc::dup2(saved_stdout, 1);
        libc::close(saved_stdout);
    }
    outcome.unwrap();

    // A bad configuration is a startup error that names file, line and key.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, "tls = yes\nlogin_attempts = many\n").unwrap();
    let args = ["-c".to_string(), bad.display().to_string()];
    let Err(err) = Daemon::start(Service::Imap, args) else {
        panic!("bad config accepted")
    };
    assert!(matches!(err, Error::Config(_)));
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2: login_attempts: `many` is not a number",
            bad.display()
        )
    );
    assert_eq!(err.exit_code(), 78);
    let Ok(Startup::Exit(help)) = Daemon::start(Service::Pop3, ["-h".to_string()]) else {
        panic!()
    };
    assert!(help.contains("ipop3d"));
    assert_eq!(
        Daemon::start(Service::Pop3, ["-q".to_string()])
            .err()
            .unwrap()
            .exit_code(),
        64
    );
}
