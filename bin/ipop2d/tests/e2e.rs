//! ipop2d as inetd runs it, on loopback, with a raw POP2 client (no common
//! client speaks POP2 any more): a whole session whose every `=n` is the exact
//! octet count that follows, ACKS and ACKD applied at QUIT, a SIGKILL that
//! applies nothing, and a bad login. The harness is ipop3d's.

#[path = "../../ipop3d/tests/support/mod.rs"]
mod support;

use support::*;

const IPOP2D: &str = env!("CARGO_BIN_EXE_ipop2d");

fn helo(c: &mut Client, env: &Env) -> String {
    let greeting = c.line();
    assert!(
        greeting.starts_with("+ POP2 localhost pullmail"),
        "{greeting}"
    );
    let (user, password) = env.credentials();
    c.command(&format!("HELO {user} {password}"))
}

/// `=n characters in message k` → n.
fn size(answer: &str) -> usize {
    answer
        .strip_prefix('=')
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a size: {answer}"))
}

#[test]
fn a_pop2_session_reads_every_message_and_applies_acks_at_quit() {
    let test = "a_pop2_session_reads_every_message_and_applies_acks_at_quit";
    let Some(env) = Env::new(test, "") else {
        return;
    };
    let messages = messages();
    env.write_inbox(&mbox(&messages));
    let server = env.start(IPOP2D, &[]);
    let mut c = server.connect();
    assert_eq!(
        helo(&mut c, &env),
        format!("#{} messages in INBOX", messages.len())
    );
    let mut answer = c.command("READ");
    for (i, m) in messages.iter().enumerate() {
        let mut want = crlf(m);
        want.extend_from_slice(b"\r\n");
        assert_eq!(
            answer,
            format!("={} characters in message {}", want.len(), i + 1)
        );
        c.send("RETR");
        let got = c.octets(size(&answer));
        assert!(got == want, "message {} differs", i + 1);
        // Keep the odd ones, delete the even ones.
        answer = c.command(if i % 2 == 0 { "ACKS" } else { "ACKD" });
    }
    assert_eq!(answer, "=0 No more messages");
    assert_eq!(c.command("QUIT"), "+ Sayonara");
    assert_eq!(c.rest(), "");
    let left = subjects(&env.inbox_bytes());
    assert_eq!(left.len(), messages.len().div_ceil(2));
    assert!(seen_flags(&env.inbox_bytes()).iter().all(|&s| s));
}

#[test]
fn a_pop2_session_killed_before_quit_applies_nothing() {
    let test = "a_pop2_session_killed_before_quit_applies_nothing";
    let Some(env) = Env::new(test, "") else {
        return;
    };
    let messages = messages();
    env.write_inbox(&mbox(&messages));
    let (mut server, client) = env.spawn_on_socket(IPOP2D, &[]);
    let mut c = Client::new(client);
    assert!(helo(&mut c, &env).starts_with('#'));
    let mut answer = c.command("READ");
    while answer != "=0 No more messages" {
        c.send("RETR");
        c.octets(size(&answer));
        answer = c.command("ACKD");
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(subjects(&env.inbox_bytes()).len(), messages.len());
    assert!(seen_flags(&env.inbox_bytes()).iter().all(|&s| !s));
}

#[test]
fn a_bad_pop2_login_ends_the_session() {
    let test = "a_bad_pop2_login_ends_the_session";
    let Some(env) = Env::new(test, "") else {
        return;
    };
    if !env.root {
        return skip(test, "run as the developer, any password logs in");
    }
    let server = env.start(IPOP2D, &[]);
    let mut c = server.connect();
    c.line();
    assert_eq!(
        c.command(&format!("HELO {} wrong", env.user)),
        "- Authentication failed"
    );
    assert_eq!(c.rest(), "");
    let mut c = server.connect();
    c.line();
    assert_eq!(c.command("READ"), "- Bogus or out of sequence command");
}

/// Issue 14: ipop2d loaded a TLS certificate it never uses and logged "TLS disabled"
/// on every connection. POP2 has no TLS: nothing is loaded, nothing logged, and
/// `-t` does not turn a POP2 connection into a TLS one.
#[test]
fn ipop2d_loads_no_certificate_and_ignores_t() {
    let test = "ipop2d_loads_no_certificate_and_ignores_t";
    let Some(env) = Env::new(test, "") else {
        return;
    };
    // A certificate that cannot load: imapd and ipop3d would log "TLS disabled".
    let config = std::fs::read_to_string(&env.config).unwrap();
    let config: String = config
        .lines()
        .map(|l| match l.split_once(" = ") {
            Some(("tls_certificate" | "tls_key", _)) => format!("{} = /nonexistent/x.pem\n", &l[..l.find(' ').unwrap()]),
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&env.config, config).unwrap();
    env.write_inbox(&mbox(&messages()));
    let server = env.start(IPOP2D, &["-t"]);
    for _ in 0..2 {
        let mut c = server.connect();
        // The greeting in the clear, checked by helo.
        assert!(helo(&mut c, &env).starts_with('#'));
        assert!(c.command("QUIT").starts_with('+'));
    }
    let log = env.log_text();
    assert!(log.contains("ipop2d: "), "{log}");
    assert!(!log.contains("TLS"), "{log}");
}
