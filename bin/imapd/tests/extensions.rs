//! The IMAP extensions end to end, imapd started the inetd way on loopback:
//! Python imaplib uses each (IDLE raw through its socket, with a second session
//! and an MTA delivery), and raw sockets check what the configuration switches:
//! IDLE past the autologout, LITERAL-, login and mailbox referrals.

mod support;

use std::time::{Duration, Instant};

use support::{Env, EXTENSIONS};

fn imaplib_extensions(test: &str, format: &str) {
    let Some(env) = Env::new(test, &format!("new_mailbox_format = {format}")) else {
        return;
    };
    env.touch_inbox();
    let server = env.start(&[]);
    let mut args = env.client_args(server.port);
    args.push(format.to_string());
    args.push(support::deliver_py().display().to_string());
    args.push(env.inbox.display().to_string());
    let out = env.python("imaplib_extensions.py", &args);
    let mut words = out.split_whitespace();
    let checks: usize = match (words.next(), words.next()) {
        (Some("checks"), Some(n)) => n.parse().unwrap_or(0),
        _ => panic!("imaplib_extensions.py: {out}"),
    };
    assert!(checks > 60, "only {checks} checks: {out}");
    let slowest: f64 = out
        .split("idle ")
        .nth(1)
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(99.0);
    assert!(slowest < 3.0, "IDLE push took {slowest} s");
    eprintln!("{test}: {checks} checks, slowest IDLE push {slowest:.2} s");
}

#[test]
fn imaplib_uses_every_extension_on_mbox() {
    imaplib_extensions("imaplib_uses_every_extension_on_mbox", "mbox");
}

#[test]
fn imaplib_uses_every_extension_on_mmdf() {
    imaplib_extensions("imaplib_uses_every_extension_on_mmdf", "mmdf");
}

/// Connects; as root logs in; returns the client after the greeting.
fn session(env: &Env, server: &support::Server) -> (support::Client, String) {
    let mut c = server.connect();
    let greeting = c.line();
    if env.root {
        let quoted = env.password.replace('\\', "\\\\").replace('"', "\\\"");
        let r = c.cmd(&format!("l1 LOGIN {} \"{quoted}\"", env.user));
        assert!(r.contains("l1 OK"), "{r}\n{}", env.log_text());
    }
    (c, greeting)
}

#[test]
fn idle_outlasts_the_autologout_over_a_real_socket() {
    let test = "idle_outlasts_the_autologout_over_a_real_socket";
    let Some(env) = Env::new(test, "imap_idle_timeout = 2\nimap_idle_keepalive = 1") else {
        return;
    };
    env.touch_inbox();
    let server = env.start(&[]);
    let (mut c, _) = session(&env, &server);
    assert!(c.cmd("a1 SELECT INBOX").contains("a1 OK"));
    c.send(b"a2 IDLE\r\n");
    assert_eq!(c.line(), "+ idling\r\n");
    // Twice the autologout, hearing keep-alives.
    let start = Instant::now();
    let mut keepalives = 0;
    while start.elapsed() < Duration::from_secs(4) {
        let l = c.line();
        assert!(!l.is_empty(), "connection closed during IDLE");
        if l == "* OK Still here\r\n" {
            keepalives += 1;
        }
    }
    assert!(keepalives >= 2, "{keepalives} keep-alives");
    // A delivery is pushed while idling, long past the autologout.
    env.deliver(&env.inbox, 1, 1, "mbox");
    let start = Instant::now();
    loop {
        let l = c.line();
        if l == "* 1 EXISTS\r\n" {
            break;
        }
        assert!(!l.is_empty() && start.elapsed() < Duration::from_secs(3), "{l}");
    }
    c.send(b"DONE\r\n");
    assert!(c.until_tagged("a2").ends_with("a2 OK IDLE terminated\r\n"));
    assert!(c.cmd("a3 NOOP").ends_with("a3 OK NOOP completed\r\n"));
    // Outside IDLE the autologout applies.
    let l = c.until_tagged("none");
    assert!(l.contains("* BYE Autologout"), "{l}");
}

#[test]
fn literal_minus_when_configured() {
    let Some(env) = Env::new("literal_minus_when_configured", "imap_literal_minus = yes") else {
        return;
    };
    env.touch_inbox();
    let server = env.start(&[]);
    let (mut c, greeting) = session(&env, &server);
    assert!(greeting.contains("IMAP4rev1 LITERAL- "), "{greeting}");
    let r = c.cmd("a1 CAPABILITY");
    assert!(
        r.starts_with(&format!("* CAPABILITY IMAP4rev1 LITERAL- {EXTENSIONS}\r\n")),
        "{r}"
    );
    let mut big = b"a2 APPEND INBOX {5000+}\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 5000));
    big.extend_from_slice(b"\r\na3 NOOP\r\n");
    c.send(&big);
    let r = c.until_tagged("a3");
    assert!(r.starts_with("a2 BAD [TOOBIG]") && r.ends_with("a3 OK NOOP completed\r\n"), "{r}");
}

#[test]
fn referrals_from_the_configuration() {
    let test = "referrals_from_the_configuration";
    let dir = tempfile::tempdir().unwrap();
    let logins = dir.path().join("login-referrals");
    let boxes = dir.path().join("mailbox-referrals");
    std::fs::write(&logins, "# moved users\nsomeone-else mail9.example.org\n").unwrap();
    std::fs::write(&boxes, "shared/news news.example.org:143\n").unwrap();
    let config = format!(
        "login_referrals = {}\nmailbox_referrals = {}",
        logins.display(),
        boxes.display()
    );
    let Some(env) = Env::new(test, &config) else {
        return;
    };
    env.touch_inbox();
    let server = env.start(&[]);
    let (mut c, greeting) = session(&env, &server);
    if env.root {
        assert!(greeting.contains(" LOGIN-REFERRALS "), "{greeting}");
    }
    assert!(greeting.contains(" MAILBOX-REFERRALS]"), "{greeting}");
    let r = c.cmd("a1 SELECT shared/news/today");
    assert_eq!(
        r,
        format!(
            "a1 NO [REFERRAL imap://{};AUTH=*@news.example.org:143/shared/news/today] Remote mailbox; try the server named in the referral\r\n",
            env.user
        )
    );
    let r = c.cmd("a2 RLIST \"\" shared/*");
    assert!(r.contains("* LIST (\\Remote) \"/\" \"shared/news\"\r\n"), "{r}");
    drop(c);
    if env.root {
        // This user's mail is elsewhere: the right password gets the referral.
        std::fs::write(&logins, format!("{} mail2.example.org\n", env.user)).unwrap();
        let mut c = server.connect();
        c.line();
        let r = c.cmd(&format!("l1 LOGIN {} wrong", env.user));
        assert!(r.starts_with("l1 NO [AUTHENTICATIONFAILED]"), "{r}");
        let quoted = env.password.replace('\\', "\\\\").replace('"', "\\\"");
        let r = c.cmd(&format!("l2 LOGIN {} \"{quoted}\"", env.user));
        assert_eq!(
            r,
            format!(
                "l2 NO [REFERRAL imap://{};AUTH=*@mail2.example.org/] LOGIN failed: this user's mail is on another server\r\n",
                env.user
            )
        );
    }
}
