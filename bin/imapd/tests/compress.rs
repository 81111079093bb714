//! COMPRESS=DEFLATE (RFC 4978) end to end: imapd started the inetd way on
//! loopback, Python's imaplib with zlib's raw deflate (wbits=-15) on its own
//! socket, over plain TCP and over implicit TLS (compression inside TLS), on a
//! mailbox of 1000 messages; an IDLE push must arrive without the client
//! sending anything. Prints the octets FETCH 1:1000 (ENVELOPE BODYSTRUCTURE)
//! took on the wire with and without compression.

mod support;

use support::Env;

const COUNT: u32 = 1000;

fn compressed_session(test: &str, transport: &str) {
    let Some(env) = Env::new(test, "") else {
        return;
    };
    env.deliver(&env.inbox, 1, COUNT, "mbox");
    let server = env.start(if transport == "tls" { &["-t"] } else { &[] });
    let mut args = env.client_args(server.port);
    args.push(transport.to_string());
    args.push(COUNT.to_string());
    args.push(support::deliver_py().display().to_string());
    args.push(env.inbox.display().to_string());
    let out = env.python("imaplib_compress.py", &args);
    let number = |key: &str| -> f64 {
        out.split(key)
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no {key:?} in {out}"))
    };
    let checks = number("checks ");
    assert!(checks >= 15.0, "only {checks} checks: {out}");
    let (plain, compressed) = (number("wire plain "), number(" compressed "));
    assert!(compressed * 3.0 < plain, "{out}");
    let idle = number("idle ");
    assert!(idle < 3.0, "IDLE push took {idle} s");
    eprintln!(
        "{test}: FETCH 1:{COUNT} (ENVELOPE BODYSTRUCTURE) {plain} octets plain, {compressed} compressed ({:.1} %); IDLE push {idle:.2} s",
        100.0 * compressed / plain
    );
}

#[test]
fn imaplib_compresses_a_plain_session() {
    compressed_session("imaplib_compresses_a_plain_session", "plain");
}

#[test]
fn imaplib_compresses_inside_tls() {
    compressed_session("imaplib_compresses_inside_tls", "tls");
}
