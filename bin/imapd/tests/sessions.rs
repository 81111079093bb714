//! imapd over a raw loopback socket, started the inetd way: the greeting and
//! login, autologout, SIGTERM, oversize input and hostile names through the real
//! transport (its buffering, its timeouts, its signal handling).

mod support;

use std::time::{Duration, Instant};

use support::{Client, Env, Server, EXTENSIONS};

/// Connects and, as root, logs in (quoting the password as imaplib does).
fn session(env: &Env, server: &Server) -> Client {
    let mut c = server.connect();
    let extensions = env.extensions();
    let greeting = c.line();
    if env.root {
        assert!(
            greeting.starts_with(&format!(
                "* OK [CAPABILITY IMAP4rev1 LITERAL+ STARTTLS AUTH=PLAIN AUTH=LOGIN SASL-IR {extensions}] localhost IMAP4rev1 pullmail "
            )),
            "{greeting}"
        );
        let quoted = env.password.replace('\\', "\\\\").replace('"', "\\\"");
        let r = c.cmd(&format!("l1 LOGIN {} \"{quoted}\"", env.user));
        assert!(
            r.ends_with(&format!(
                "l1 OK [CAPABILITY IMAP4rev1 LITERAL+ {extensions}] LOGIN completed\r\n"
            )),
            "{r}\n{}",
            env.log_text()
        );
    } else {
        assert!(
            greeting.starts_with(&format!(
                "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ {extensions}] Pre-authenticated user "
            )),
            "{greeting}"
        );
    }
    c
}

#[test]
fn greeting_login_and_logout() {
    let Some(env) = Env::new("greeting_login_and_logout", "") else {
        return;
    };
    env.touch_inbox();
    let server = env.start(&[]);
    let mut c = session(&env, &server);
    let r = c.cmd("a1 CAPABILITY");
    assert_eq!(
        r,
        format!("* CAPABILITY IMAP4rev1 LITERAL+ {EXTENSIONS}\r\na1 OK CAPABILITY completed\r\n")
    );
    let r = c.cmd("a2 LOGOUT");
    assert_eq!(
        r,
        "* BYE localhost IMAP4rev1 server terminating connection\r\na2 OK LOGOUT completed\r\n"
    );
    assert_eq!(c.line(), "", "the connection closes after LOGOUT");
    if env.root {
        // A wrong password, then the limit of three.
        let mut c = server.connect();
        c.line();
        for i in 1..=2 {
            let r = c.cmd(&format!("b{i} LOGIN {} wrong", env.user));
            assert!(
                r.starts_with(&format!("b{i} NO [AUTHENTICATIONFAILED]")),
                "{r}"
            );
        }
        c.send(format!("b3 LOGIN {} wrong\r\n", env.user).as_bytes());
        assert_eq!(c.line(), "* BYE Too many login failures\r\n");
        assert_eq!(c.line(), "");
    }
}

#[test]
fn idle_sessions_are_logged_out() {
    let Some(env) = Env::new(
        "idle_sessions_are_logged_out",
        "login_timeout = 1\nimap_idle_timeout = 1",
    ) else {
        return;
    };
    env.touch_inbox();
    let server = env.start(&[]);
    let mut c = session(&env, &server);
    let started = Instant::now();
    assert_eq!(c.line(), "* BYE Autologout; idle for too long\r\n");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(c.line(), "");
}

#[test]
fn sigterm_says_bye_with_the_flags_written() {
    let Some(env) = Env::new("sigterm_says_bye_with_the_flags_written", "") else {
        return;
    };
    env.touch_inbox();
    env.deliver(&env.inbox, 1, 2, "mbox");
    let server = env.start(&[]);
    let mut c = session(&env, &server);
    let r = c.cmd("a1 SELECT INBOX");
    assert!(r.contains("* 2 EXISTS"), "{r}");
    let r = c.cmd("a2 STORE 2 +FLAGS.SILENT (\\Flagged \\Answered)");
    assert!(r.ends_with("a2 OK STORE completed\r\n"), "{r}");
    // The imapd serving us: the last one systemd-socket-activate spawned.
    let log = env.log_text();
    let pid: i32 = log
        .lines()
        .rev()
        .find_map(|l| l.split(" as PID ").nth(1))
        .and_then(|p| p.trim_end_matches('.').parse().ok())
        .unwrap_or_else(|| panic!("no pid in:\n{log}"));
    // SAFETY: kill(2) on the pid of the imapd this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(c.line(), "* BYE Server shutting down\r\n");
    assert_eq!(c.line(), "");
    let inbox = std::fs::read_to_string(&env.inbox).unwrap();
    assert!(
        inbox.contains("X-Status: AF") || inbox.contains("X-Status: FA"),
        "{inbox}"
    );
}

#[test]
fn oversize_input_is_refused_in_step_over_a_real_socket() {
    let Some(env) = Env::new(
        "oversize_input_is_refused_in_step_over_a_real_socket",
        "max_literal_size = 100000\nmax_command_length = 2048",
    ) else {
        return;
    };
    env.touch_inbox();
    let server = env.start(&[]);
    let mut c = session(&env, &server);
    c.send(b"a1 APPEND INBOX {100001}\r\n");
    assert_eq!(c.line(), "a1 NO [TOOBIG] Literal too large\r\n");
    assert!(c.cmd("n1 NOOP").ends_with("n1 OK NOOP completed\r\n"));
    // 300 kB the client sends without waiting: read and thrown away.
    let mut big = b"a2 APPEND INBOX {300000+}\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 299_990));
    big.extend_from_slice(b"a3 LOGOUT\r\n\r\n");
    c.send(&big);
    assert_eq!(
        c.until_tagged("a2"),
        "a2 BAD [TOOBIG] Literal too large\r\n"
    );
    assert!(c.cmd("n2 NOOP").ends_with("n2 OK NOOP completed\r\n"));
    let mut long = b"a4 SEARCH TEXT ".to_vec();
    long.extend(std::iter::repeat_n(b'y', 10_000));
    long.extend_from_slice(b"\r\n");
    c.send(&long);
    assert_eq!(
        c.until_tagged("a4"),
        "a4 BAD [TOOBIG] Command line too long\r\n"
    );
    assert!(c.cmd("n3 NOOP").ends_with("n3 OK NOOP completed\r\n"));
    // Right at the limit it works.
    let msg = {
        let mut m = b"Subject: big\r\n\r\n".to_vec();
        m.resize(100_000 - 2, b'z');
        m.extend_from_slice(b"\r\n");
        m
    };
    c.send(b"a5 APPEND INBOX {100000}\r\n");
    assert!(c.line().starts_with("+ "));
    c.send(&msg);
    c.send(b"\r\n");
    let r = c.until_tagged("a5");
    assert!(r.starts_with("a5 OK [APPENDUID "), "{r}");
    assert!(c.cmd("a6 LOGOUT").ends_with("a6 OK LOGOUT completed\r\n"));
}

#[test]
fn hostile_names_are_refused_over_a_real_socket() {
    let Some(env) = Env::new("hostile_names_are_refused_over_a_real_socket", "") else {
        return;
    };
    env.touch_inbox();
    let server = env.start(&[]);
    let mut c = session(&env, &server);
    for (i, cmd) in [
        "SELECT /etc/passwd",
        "EXAMINE \"~root/x\"",
        "CREATE ../x",
        "CREATE \"{host}x\"",
        "DELETE ../../etc/passwd",
        "RENAME INBOX /tmp/stolen",
        "APPEND /tmp/planted {1+}\r\nx",
        "STATUS /etc/shadow (MESSAGES)",
    ]
    .iter()
    .enumerate()
    {
        let r = c.cmd(&format!("h{i} {cmd}"));
        assert!(r.contains(&format!("h{i} NO")), "{cmd}: {r}");
        assert!(c.cmd(&format!("n{i} NOOP")).contains(&format!("n{i} OK")));
    }
    assert!(!std::path::Path::new("/tmp/planted").exists());
    assert!(!std::path::Path::new("/tmp/stolen").exists());
    assert!(!env.dir.path().join("x").exists());
}

/// Issue 14, as reported: forged `X-IMAPbase: 1 4294967295` and `X-UID: 4294967295` in
/// the first delivered message gave every message UID 4294967295 and UIDNEXT 0, and a
/// UID EXPUNGE of one message removed all three.
#[test]
fn forged_uid_headers_give_distinct_uids_and_expunge_one_message() {
    let Some(env) = Env::new("forged_uid_headers_give_distinct_uids_and_expunge_one_message", "")
    else {
        return;
    };
    env.touch_inbox();
    std::fs::write(
        &env.inbox,
        "From a@b Mon Jan  1 00:00:01 2024\nSubject: m1\nX-IMAPbase: 1 4294967295\nX-UID: 4294967295\n\nb\n\n\
From a@b Mon Jan  1 00:00:02 2024\nSubject: m2\n\nb\n\n\
From a@b Mon Jan  1 00:00:03 2024\nSubject: m3\n\nb\n\n",
    )
    .unwrap();
    let server = env.start(&[]);
    let mut c = session(&env, &server);
    let r = c.cmd("a SELECT INBOX");
    assert!(r.contains("* OK [UIDNEXT 4] "), "{r}");
    let r = c.cmd("b UID FETCH 1:* UID");
    assert!(
        r.contains("* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 3)\r\n"),
        "{r}"
    );
    let r = c.cmd("c UID STORE 4294967295 +FLAGS (\\Deleted)");
    assert_eq!(r, "c OK STORE completed\r\n");
    let r = c.cmd("d UID STORE 2 +FLAGS.SILENT (\\Deleted)");
    assert_eq!(r, "d OK STORE completed\r\n");
    let r = c.cmd("e UID EXPUNGE 2:4294967295");
    assert!(r.starts_with("* 2 EXPUNGE\r\n"), "{r}");
    assert_eq!(r.matches("EXPUNGE\r\n").count(), 1, "{r}");
    let r = c.cmd("f STATUS INBOX (MESSAGES UIDNEXT)");
    assert!(r.starts_with("* STATUS \"INBOX\" (MESSAGES 2 UIDNEXT 4)"), "{r}");
    let r = c.cmd("g APPEND INBOX {12+}\r\nSubject: x\r\n");
    assert!(r.contains("[APPENDUID ") && r.contains(" 4] APPEND completed"), "{r}");
    c.cmd("h LOGOUT");
}

/// Issue 14: `mkfifo ~/mail/f` then EXAMINE or STATUS blocked in open(2) for good,
/// deaf to SIGTERM. Every command that names a FIFO now answers NO at once, and the
/// session goes on.
#[test]
fn a_fifo_under_a_mailbox_name_is_refused_at_once() {
    let Some(env) = Env::new("a_fifo_under_a_mailbox_name_is_refused_at_once", "") else {
        return;
    };
    env.touch_inbox();
    env.deliver(&env.inbox, 1, 1, "mbox");
    let mail = env.home.join("mail");
    std::fs::create_dir_all(&mail).unwrap();
    env.give(&mail);
    let fifo = mail.join("f");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    env.give(&fifo);
    let server = env.start(&[]);
    let mut c = session(&env, &server);
    let started = Instant::now();
    for (i, cmd) in [
        "EXAMINE f",
        "STATUS f (MESSAGES)",
        "SELECT f",
        "APPEND f {1+}\r\nx",
        "RENAME f g",
        "DELETE f",
    ]
    .iter()
    .enumerate()
    {
        let r = c.cmd(&format!("f{i} {cmd}"));
        assert!(r.contains(&format!("f{i} NO [CANNOT]")), "{cmd}: {r}");
    }
    let r = c.cmd("l1 LIST \"\" *");
    assert!(r.ends_with("l1 OK LIST completed\r\n") && !r.contains(" f\r\n"), "{r}");
    let r = c.cmd("s1 SELECT INBOX");
    assert!(r.contains("* 1 EXISTS"), "{r}");
    let r = c.cmd("c1 COPY 1 f");
    assert!(r.contains("c1 NO [CANNOT]"), "{r}");
    assert!(started.elapsed() < Duration::from_secs(10), "answered at once");
    assert!(fifo.exists(), "the FIFO is left where it was");
}

/// Issue 14: a 50 MB header line cost about 250 MB of memory to APPEND (five
/// copies of the message). Now the literal is read into room made for it, the
/// command's octets go once parsed, and storing it copies it once: at most about
/// twice the message. Measured here with 20 MB, in one header line.
#[test]
fn a_huge_header_line_costs_at_most_twice_its_size_to_append() {
    let Some(env) = Env::new("a_huge_header_line_costs_at_most_twice_its_size_to_append", "")
    else {
        return;
    };
    env.touch_inbox();
    let server = env.start(&[]);
    let mut c = session(&env, &server);
    let log = env.log_text();
    let pid: i32 = log
        .lines()
        .rev()
        .find_map(|l| l.split(" as PID ").nth(1))
        .and_then(|p| p.trim_end_matches('.').parse().ok())
        .unwrap_or_else(|| panic!("no pid in:\n{log}"));
    let peak = || -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    const SIZE: usize = 20 << 20;
    let mut message = b"Subject: ".to_vec();
    message.resize(SIZE, b'x');
    message.extend_from_slice(b"\r\nFrom: a@example.org\r\n\r\nbody\r\n");
    let before = peak();
    c.send(format!("a1 APPEND INBOX {{{}+}}\r\n", message.len()).as_bytes());
    c.send(&message);
    c.send(b"\r\n");
    let r = c.until_tagged("a1");
    assert!(r.contains("a1 OK"), "{r}");
    let grown = peak().saturating_sub(before);
    eprintln!("VmHWM grew by {grown} kB for a {} kB message", SIZE >> 10);
    assert!(grown < (SIZE as u64 >> 10) * 5 / 2, "grew by {grown} kB");
    let r = c.cmd("a2 SELECT INBOX");
    assert!(r.contains("* 1 EXISTS"), "{r}");
    let r = c.cmd("a3 FETCH 1 RFC822.SIZE");
    assert!(r.contains(&format!("RFC822.SIZE {}", message.len())), "{r}");
}
