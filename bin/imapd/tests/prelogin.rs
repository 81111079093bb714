//! Nothing unbounded before login (issue 14): a 64 MiB APPEND sent before LOGIN is
//! thrown away as it arrives (the root process stays small), the input before login
//! has a total budget, and `login_timeout` is a deadline that a client trickling a
//! byte now and then cannot push back.

mod support;

use std::time::{Duration, Instant};

use support::{Client, Env, Server};

/// Only root has a "before login" (run by a user, imapd greets PREAUTH).
fn root_env(test: &str, config: &str) -> Option<Env> {
    let env = Env::new(test, config)?;
    if !env.root {
        support::skip(test, "needs root: run by a user, imapd has no before-login state");
        return None;
    }
    env.touch_inbox();
    Some(env)
}

/// The pid of the imapd serving the newest connection (systemd-socket-activate logs
/// it).
fn newest_imapd(env: &Env) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = env.log_text();
        if let Some(pid) = log
            .lines()
            .rev()
            .find_map(|l| l.split(" as PID ").nth(1))
            .and_then(|p| p.trim_end_matches('.').parse().ok())
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "no pid in:\n{log}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Peak resident set of a process, in KiB (VmHWM in /proc/PID/status).
fn peak_rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in {status}"))
}

fn greeted(server: &Server) -> Client {
    let mut c = server.connect();
    let greeting = c.line();
    assert!(greeting.starts_with("* OK "), "{greeting}");
    c
}

const MIB: usize = 1 << 20;

#[test]
fn a_64_mib_append_before_login_is_discarded_as_it_arrives() {
    // A budget large enough to let the whole literal through: the receiver alone
    // must keep memory flat.
    let Some(env) = root_env(
        "a_64_mib_append_before_login_is_discarded_as_it_arrives",
        "login_input_limit = 100M",
    ) else {
        return;
    };
    let server = env.start(&[]);
    let mut c = greeted(&server);
    let pid = newest_imapd(&env);
    let r = c.cmd("a0 NOOP");
    assert_eq!(r, "a0 OK NOOP completed\r\n");
    let before = peak_rss_kib(pid);
    c.send(format!("a1 APPEND INBOX {{{}+}}\r\n", 64 * MIB).as_bytes());
    let chunk = vec![b'x'; MIB];
    for _ in 0..64 {
        c.send(&chunk);
    }
    c.send(b"\r\n");
    assert_eq!(c.line(), "a1 BAD Literal refused: log in first\r\n");
    let r = c.cmd("a2 NOOP");
    assert_eq!(r, "a2 OK NOOP completed\r\n");
    let peak = peak_rss_kib(pid);
    eprintln!("imapd VmHWM before: {before} kB, after a 64 MiB APPEND before login: {peak} kB");
    // The literal costs nothing: the process grew by less than 1 MiB. In a release
    // build (make test) it also stays below 8 MiB in all; a debug build starts
    // larger than that.
    assert!(peak - before < 1024, "grew by {} kB", peak - before);
    if !cfg!(debug_assertions) {
        assert!(peak < 8 * 1024, "peak RSS {peak} kB");
    }
    // The synchronizing form is refused before the client sends the message.
    c.send(format!("a3 APPEND INBOX {{{}}}\r\n", 64 * MIB).as_bytes());
    assert_eq!(c.line(), "a3 BAD APPEND not allowed now: log in first\r\n");
    // LOGIN may still carry literals.
    let r = c.cmd(&format!(
        "a4 LOGIN {{{}+}}\r\n{} {{{}+}}\r\n{}",
        env.user.len(),
        env.user,
        env.password.len(),
        env.password
    ));
    assert!(r.contains("a4 OK "), "{r}");
}

#[test]
fn input_before_login_has_a_budget() {
    let Some(env) = root_env("input_before_login_has_a_budget", "") else {
        return;
    };
    let server = env.start(&[]);
    let mut c = greeted(&server);
    let pid = newest_imapd(&env);
    c.send(format!("a1 APPEND INBOX {{{}+}}\r\n", 64 * MIB).as_bytes());
    // The server closes the connection after the default 64 KiB; what it has not
    // read by then fails to send, which is fine.
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    for _ in 0..64 {
        if std::io::Write::write_all(c.reader.get_mut(), &chunk).is_err() {
            break;
        }
        sent += 1;
    }
    let mut rest = String::new();
    for _ in 0..10 {
        let l = c.line();
        if l.is_empty() {
            break;
        }
        rest.push_str(&l);
    }
    assert!(
        rest.contains("* BYE Too much input before login\r\n"),
        "{rest:?} after {sent} chunks"
    );
    // The process is gone (or going): nothing of it outlives the refusal.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!std::path::Path::new(&format!("/proc/{pid}/status")).exists()
        || std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| s.contains("State:\tZ")));
    assert!(env.log_text().contains("too much input before login"), "{}", env.log_text());
}

#[test]
fn a_client_that_trickles_is_cut_at_the_login_deadline() {
    let Some(env) = root_env(
        "a_client_that_trickles_is_cut_at_the_login_deadline",
        "login_timeout = 2",
    ) else {
        return;
    };
    let server = env.start(&[]);
    let mut c = greeted(&server);
    let started = Instant::now();
    // A byte every 300 ms: never idle for the 2 s of an idle timer.
    let mut cut = None;
    for _ in 0..40 {
        if std::io::Write::write_all(c.reader.get_mut(), b"x").is_err() {
            cut = Some(started.elapsed());
            break;
        }
        c.reader
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut buf = Vec::new();
        match std::io::BufRead::read_until(&mut c.reader, b'\n', &mut buf) {
            Ok(0) => {
                cut = Some(started.elapsed());
                break;
            }
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf).into_owned();
                assert_eq!(line, "* BYE Autologout; idle for too long\r\n");
                cut = Some(started.elapsed());
                break;
            }
            Err(_) => {}
        }
    }
    let cut = cut.expect("a trickling client was never cut off");
    assert!(
        cut >= Duration::from_millis(1800) && cut < Duration::from_secs(6),
        "cut after {cut:?}"
    );
}
