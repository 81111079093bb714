//! ipop3d as inetd runs it, on loopback, with a raw POP3 client: whole
//! sessions, a SIGKILL in the middle of one, a second session meeting
//! `[IN-USE]`, mail delivered during a session, SIGTERM and autologout, and
//! CRAM-MD5 against the real secrets file.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::*;

const IPOP3D: &str = env!("CARGO_BIN_EXE_ipop3d");

#[test]
fn a_whole_session_serves_every_message_byte_identical() {
    let Some(env) = Env::new("a_whole_session_serves_every_message_byte_identical", "") else {
        return;
    };
    let messages = messages();
    env.write_inbox(&mbox(&messages));
    let server = env.start(IPOP3D, &[]);
    let mut c = server.connect();
    let answer = c.login(&env);
    assert_eq!(
        answer,
        format!("+OK Mailbox open, {} messages", messages.len())
    );
    let total: usize = messages.iter().map(|m| crlf(m).len()).sum();
    assert_eq!(c.command("STAT"), format!("+OK {} {total}", messages.len()));
    for (i, m) in messages.iter().enumerate() {
        let want = crlf(m);
        assert_eq!(
            c.command(&format!("RETR {}", i + 1)),
            format!("+OK {} octets", want.len())
        );
        assert!(c.multiline() == want, "message {} differs", i + 1);
    }
    assert_eq!(c.command("DELE 2"), "+OK Message 2 deleted");
    assert!(c.command("QUIT").starts_with("+OK Sayonara"));
    assert_eq!(c.rest(), "", "the server closes after QUIT");
    let left = subjects(&env.inbox_bytes());
    assert_eq!(left.len(), messages.len() - 1);
    // Every retrieved message is \Seen now, the deleted one is gone.
    assert!(seen_flags(&env.inbox_bytes()).iter().all(|&s| s));
    if env.root {
        // A real login through PAM, then the user's own uid: its state files
        // and the rewritten mailbox belong to the user, not to root.
        use std::os::unix::fs::MetadataExt;
        assert!(
            env.log_text().contains("Login user=pmpop"),
            "{}",
            env.log_text()
        );
        let state = std::fs::metadata(env.home.join(".pullmail")).unwrap();
        assert_eq!((state.uid(), state.gid()), (env.uid, env.gid));
        assert_eq!(std::fs::metadata(&env.inbox).unwrap().uid(), env.uid);
    }
}

#[test]
fn a_connection_killed_mid_session_deletes_nothing() {
    let Some(env) = Env::new("a_connection_killed_mid_session_deletes_nothing", "") else {
        return;
    };
    let messages = messages();
    env.write_inbox(&mbox(&messages));
    let before = subjects(&env.inbox_bytes());
    let (mut server, client) = env.spawn_on_socket(IPOP3D, &[]);
    let mut c = Client::new(client);
    assert!(c.login(&env).starts_with("+OK Mailbox open"));
    for n in 1..=messages.len() {
        assert!(c.command(&format!("RETR {n}")).starts_with("+OK"));
        c.multiline();
        assert!(c.command(&format!("DELE {n}")).starts_with("+OK"));
    }
    assert_eq!(c.command("STAT"), "+OK 0 0");
    // The server has everything marked; kill it before QUIT.
    server.kill().unwrap();
    server.wait().unwrap();
    let after = env.inbox_bytes();
    assert_eq!(subjects(&after), before, "nothing was deleted");
    assert!(seen_flags(&after).iter().all(|&s| !s), "no \\Seen either");

    // The maildrop is free again at once (the kernel dropped the lock), and a
    // new session sees every message.
    let server = env.start(IPOP3D, &[]);
    let mut c = server.connect();
    assert_eq!(
        c.login(&env),
        format!("+OK Mailbox open, {} messages", messages.len())
    );
    assert!(c.command("QUIT").starts_with("+OK"));
}

#[test]
fn a_second_session_gets_in_use_until_the_first_quits() {
    let Some(env) = Env::new("a_second_session_gets_in_use_until_the_first_quits", "") else {
        return;
    };
    env.write_inbox(&mbox(&messages()[..2]));
    let server = env.start(IPOP3D, &[]);
    let mut first = server.connect();
    assert!(first.login(&env).starts_with("+OK Mailbox open, 2"));
    let mut second = server.connect();
    assert_eq!(
        second.login(&env),
        "-ERR [IN-USE] Maildrop is in use by another POP session"
    );
    assert_eq!(second.rest(), "", "closed after IN-USE");
    assert!(first.command("DELE 1").starts_with("+OK"));
    assert!(first.command("QUIT").starts_with("+OK"));
    let mut third = server.connect();
    assert!(third.login(&env).starts_with("+OK Mailbox open, 1"));
    assert!(third.command("QUIT").starts_with("+OK"));
}

#[test]
fn mail_delivered_during_a_session_is_not_shown_and_survives_quit() {
    let test = "mail_delivered_during_a_session_is_not_shown_and_survives_quit";
    let Some(env) = Env::new(test, "") else {
        return;
    };
    let Some(python) = program("python3") else {
        return skip(test, "python3 is missing");
    };
    let messages = messages();
    env.write_inbox(&mbox(&messages));
    let server = env.start(IPOP3D, &[]);
    let mut c = server.connect();
    assert!(c.login(&env).starts_with("+OK"));
    // The MTA delivers while the client downloads.
    let deliver = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/mailbox/tests/support/deliver.py");
    let mut mta = Command::new(python)
        .arg(deliver)
        .arg(&env.inbox)
        .args(["1", "20", "0.005"])
        .spawn()
        .unwrap();
    for n in 1..=messages.len() {
        assert!(c.command(&format!("RETR {n}")).starts_with("+OK"));
        c.multiline();
        assert!(c.command(&format!("DELE {n}")).starts_with("+OK"));
    }
    assert!(mta.wait().unwrap().success());
    assert_eq!(c.command("STAT"), "+OK 0 0", "new mail is not shown");
    assert!(c
        .command(&format!("RETR {}", messages.len() + 1))
        .starts_with("-ERR"));
    assert!(c.command("QUIT").starts_with("+OK"));
    let want: Vec<String> = (1..=20).map(|i| format!("delivered {i}")).collect();
    assert_eq!(subjects(&env.inbox_bytes()), want);

    // The next session gets exactly the delivered mail.
    let mut c = server.connect();
    assert_eq!(c.login(&env), "+OK Mailbox open, 20 messages");
    assert!(c.command("QUIT").starts_with("+OK"));
}

#[test]
fn sigterm_says_goodbye_and_applies_nothing() {
    let Some(env) = Env::new("sigterm_says_goodbye_and_applies_nothing", "") else {
        return;
    };
    env.write_inbox(&mbox(&messages()[..3]));
    let (mut server, client) = env.spawn_on_socket(IPOP3D, &[]);
    let mut c = Client::new(client);
    assert!(c.login(&env).starts_with("+OK"));
    assert!(c.command("DELE 1").starts_with("+OK"));
    // SAFETY: kill on the pid of our own child.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    assert_eq!(c.line(), "-ERR Server shutting down");
    assert_eq!(c.rest(), "");
    assert!(server.wait().unwrap().success());
    assert_eq!(subjects(&env.inbox_bytes()).len(), 3);
}

#[test]
fn an_idle_session_is_logged_out_and_applies_nothing() {
    let Some(env) = Env::new(
        "an_idle_session_is_logged_out_and_applies_nothing",
        "pop_idle_timeout = 1\nlogin_timeout = 1",
    ) else {
        return;
    };
    env.write_inbox(&mbox(&messages()[..2]));
    let server = env.start(IPOP3D, &[]);
    let mut c = server.connect();
    assert!(c.login(&env).starts_with("+OK"));
    assert!(c.command("DELE 1").starts_with("+OK"));
    let start = Instant::now();
    assert_eq!(c.line(), "-ERR Autologout; idle for too long");
    assert!(start.elapsed() >= Duration::from_millis(900));
    assert_eq!(c.rest(), "");
    assert_eq!(subjects(&env.inbox_bytes()).len(), 2);

    // Before login, too.
    let mut c = server.connect();
    assert!(c.line().starts_with("+OK POP3"));
    assert_eq!(c.line(), "-ERR Autologout; idle for too long");
}

#[test]
fn cram_md5_with_the_secrets_file() {
    let Some(env) = Env::new("cram_md5_with_the_secrets_file", "") else {
        return;
    };
    env.write_inbox(&mbox(&messages()[..1]));
    let server = env.start(IPOP3D, &[]);
    let mut c = server.connect();
    assert!(c.line().starts_with("+OK POP3 localhost pullmail"));
    let challenge = c.command("AUTH CRAM-MD5");
    let challenge = challenge.strip_prefix("+ ").expect("a challenge");
    let challenge = base64_decode(challenge);
    assert!(challenge.starts_with(b"<") && challenge.ends_with(b"@localhost>"));
    let digest = daemon::cram::cram_md5_digest(env.password.as_bytes(), &challenge);
    let response = base64_encode(format!("{} {digest}", env.user).as_bytes());
    assert_eq!(c.command(&response), "+OK Mailbox open, 1 messages");
    assert!(c.command("QUIT").starts_with("+OK"));

    if env.root {
        // A wrong digest is refused (as the developer, any digest would do).
        let mut c = server.connect();
        c.line();
        let challenge = c.command("AUTH CRAM-MD5");
        let challenge = base64_decode(challenge.strip_prefix("+ ").unwrap());
        let digest = daemon::cram::cram_md5_digest(b"guess", &challenge);
        let response = base64_encode(format!("{} {digest}", env.user).as_bytes());
        assert_eq!(c.command(&response), "-ERR [AUTH] Authentication failed");
        assert_eq!(
            c.command("AUTH CRAM-MD5 x"),
            "-ERR Invalid authentication response"
        );
    }
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    let Some(env) = Env::new("pipelined_commands_are_answered_in_order", "") else {
        return;
    };
    let messages = messages();
    env.write_inbox(&mbox(&messages[..3]));
    let server = env.start(IPOP3D, &[]);
    let mut c = server.connect();
    c.line();
    let (user, password) = env.credentials();
    // Everything in one write, as RFC 2449 PIPELINING allows.
    let batch = format!(
        "USER {user}\r\nPASS {password}\r\nSTAT\r\nRETR 1\r\nUIDL 1\r\nDELE 3\r\nNOOP\r\nBOGUS\r\nLIST 3\r\nQUIT\r\n"
    );
    std::io::Write::write_all(c.reader.get_mut(), batch.as_bytes()).unwrap();
    assert!(c.line().starts_with("+OK User name accepted"));
    assert_eq!(c.line(), "+OK Mailbox open, 3 messages");
    assert!(c.line().starts_with("+OK 3 "));
    assert!(c.line().ends_with(" octets"));
    assert_eq!(c.multiline(), crlf(&messages[0]));
    assert!(c.line().starts_with("+OK 1 "));
    assert_eq!(c.line(), "+OK Message 3 deleted");
    assert!(c.line().starts_with("+OK No-op"));
    assert_eq!(c.line(), "-ERR Unknown command");
    assert_eq!(c.line(), "-ERR Message already deleted");
    assert!(c.line().starts_with("+OK Sayonara"));
    assert_eq!(subjects(&env.inbox_bytes()).len(), 2);
}

#[test]
fn over_long_lines_and_error_floods() {
    // The 100,000-byte line comes before login: past the default budget for that.
    let Some(env) = Env::new("over_long_lines_and_error_floods", "login_input_limit = 1M") else {
        return;
    };
    env.write_inbox(&mbox(&messages()[..1]));
    let server = env.start(IPOP3D, &[]);
    let mut c = server.connect();
    c.line();
    assert_eq!(
        c.command(&format!("NOOP {}", "x".repeat(100_000))),
        "-ERR Command line too long"
    );
    assert!(c.command("CAPA").starts_with("+OK"));
    c.multiline();
    for _ in 0..pop::pop3::MAX_BAD_IN_A_ROW {
        assert_eq!(c.command("HELO"), "-ERR Unknown command");
    }
    assert_eq!(c.command("HELO"), "-ERR Too many bad commands, closing");
    assert_eq!(c.rest(), "");
}

fn base64_encode(data: &[u8]) -> String {
    const TABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Vec<u8> {
    const TABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = TABLE.iter().position(|&t| t == c).expect("base64") as u32;
        bits = (bits << 6) | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

/// Issue 14: a delivered message with forged `X-IMAPbase` and `X-UID` (the largest
/// UIDs there are) gave all three messages one UIDL, so keep-on-server clients
/// skipped or deleted the wrong mail. Each message now has its own.
#[test]
fn forged_uid_headers_do_not_make_uidls_collide() {
    let Some(env) = Env::new("forged_uid_headers_do_not_make_uidls_collide", "") else {
        return;
    };
    env.write_inbox(
        b"From a@b Mon Jan  1 00:00:01 2024\nSubject: m1\nX-IMAPbase: 1 4294967295\nX-UID: 4294967295\n\nb\n\n\
From a@b Mon Jan  1 00:00:02 2024\nSubject: m2\n\nb\n\n\
From a@b Mon Jan  1 00:00:03 2024\nSubject: m3\n\nb\n\n",
    );
    let server = env.start(IPOP3D, &[]);
    let mut c = server.connect();
    assert_eq!(c.login(&env), "+OK Mailbox open, 3 messages");
    assert!(c.command("UIDL").starts_with("+OK"));
    let listing = String::from_utf8(c.multiline()).unwrap();
    let uidls: Vec<&str> = listing.lines().filter_map(|l| l.split(' ').nth(1)).collect();
    assert_eq!(uidls.len(), 3, "{listing}");
    assert!(uidls.iter().all(|u| !u.ends_with("ffffffff")), "{listing}");
    let mut distinct = uidls.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{listing}");
    // Deleting one by its number deletes that one only.
    assert!(c.command("DELE 2").starts_with("+OK"));
    assert!(c.command("QUIT").starts_with("+OK Sayonara"));
    assert_eq!(subjects(&env.inbox_bytes()), ["m1", "m3"]);
    let mut c = server.connect();
    assert_eq!(c.login(&env), "+OK Mailbox open, 2 messages");
    assert!(c.command("UIDL").starts_with("+OK"));
    let again = String::from_utf8(c.multiline()).unwrap();
    let kept: Vec<&str> = again.lines().filter_map(|l| l.split(' ').nth(1)).collect();
    assert_eq!(kept, [uidls[0], uidls[2]], "UIDLs are stable: {again}");
    assert!(c.command("QUIT").starts_with("+OK"));
}

/// Issue 14: `login_timeout` is a deadline from the greeting, not an idle timer (a
/// client sending a byte every 300 ms is cut all the same), and input before login
/// has a total budget.
#[test]
fn before_login_a_deadline_and_a_budget() {
    let Some(env) = Env::new("before_login_a_deadline_and_a_budget", "login_timeout = 2") else {
        return;
    };
    env.write_inbox(&mbox(&messages()[..1]));
    let server = env.start(IPOP3D, &[]);
    let mut c = server.connect();
    assert!(c.line().starts_with("+OK POP3"));
    let start = Instant::now();
    let mut answer = String::new();
    for _ in 0..40 {
        if std::io::Write::write_all(c.reader.get_mut(), b"x").is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
        let mut byte = [0u8; 1];
        c.reader.get_ref().set_nonblocking(true).unwrap();
        let got = std::io::Read::read(&mut c.reader, &mut byte);
        c.reader.get_ref().set_nonblocking(false).unwrap();
        if let Ok(n) = got {
            if n > 0 {
                answer = String::from_utf8_lossy(&byte).into_owned() + &c.line();
            }
            break;
        }
    }
    let cut = start.elapsed();
    assert_eq!(answer, "-ERR Autologout; idle for too long");
    assert!(cut >= Duration::from_millis(1800) && cut < Duration::from_secs(6), "{cut:?}");

    // 64 KiB of short commands before login: then the connection is closed.
    let mut c = server.connect();
    assert!(c.line().starts_with("+OK POP3"));
    let mut writer = c.reader.get_ref().try_clone().unwrap();
    let flooder = std::thread::spawn(move || {
        let flood = "USER a\r\n".repeat(10_000);
        let _ = std::io::Write::write_all(&mut writer, flood.as_bytes());
    });
    let rest = c.rest();
    flooder.join().unwrap();
    assert!(
        rest.ends_with("-ERR Too much input before login\r\n")
            || rest.contains("-ERR Too much input before login"),
        "{}",
        &rest[rest.len().saturating_sub(300)..]
    );
}
