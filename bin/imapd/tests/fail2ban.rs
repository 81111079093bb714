//! Brute-force banning works (issue 14): the lines imapd, ipop3d and ipop2d log for
//! a bad password, an unknown user, a user name with a space and too many failures
//! are run through the real `fail2ban-regex` with Debian's stock `uwimap-auth`
//! filter (for ipop2d, with the `_daemon` our jail example sets), and every one of
//! them must match, with the client's address.
//!
//! ipop3d and ipop2d are found beside imapd in the target directory (`cargo test
//! --workspace`, as `make test` runs it, builds them).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{Env, Server, IMAPD};

const FILTER: &str = "/etc/fail2ban/filter.d/uwimap-auth.conf";
const JAIL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../etc/fail2ban-pullmail.conf");

/// The filter the jail example uses (`filter = ...`).
fn jail_filter() -> String {
    let jail = std::fs::read_to_string(JAIL).unwrap();
    jail.lines()
        .find_map(|l| l.strip_prefix("filter"))
        .map(|rest| rest.trim_start().trim_start_matches('=').trim().to_string())
        .expect("no filter line in the jail example")
}

fn sibling(name: &str) -> Option<PathBuf> {
    let p = Path::new(IMAPD).with_file_name(name);
    p.is_file().then_some(p)
}

/// Waits until the servers' log holds `n` lines containing `what`.
fn wait_for(env: &Env, what: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while env.log_text().matches(what).count() < n {
        assert!(Instant::now() < deadline, "no {n}x {what:?} in:\n{}", env.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn imap_failures(server: &Server) {
    let mut c = server.connect();
    c.line();
    for (i, user) in ["pmimap", "nosuchuser", "\"a b\""].iter().enumerate() {
        let r = c.cmd(&format!("a{i} LOGIN {user} wrong"));
        assert!(r.contains(&format!("a{i} NO")) || r.contains("* BYE"), "{r}");
    }
    // The third failure closed the connection (login_attempts = 3).
    assert_eq!(c.line(), "");
}

fn pop3_failures(server: &Server) {
    let mut c = server.connect();
    c.line();
    for user in ["pmimap", "nosuchuser", "a b"] {
        c.send(format!("USER {user}\r\n").as_bytes());
        c.line();
        c.send(b"PASS wrong\r\n");
        c.line();
    }
    for _ in 0..3 {
        if c.line().is_empty() {
            break;
        }
    }
}

fn pop2_failures(server: &Server) {
    for user in ["pmimap", "nosuchuser"] {
        let mut c = server.connect();
        c.line();
        c.send(format!("HELO {user} wrong\r\n").as_bytes());
        c.line();
    }
}

/// The `-d` lines of `program` (`PROGRAM: text`) as syslog writes them.
fn as_syslog(log: &str, program: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.strip_prefix(&format!("{program}: ")))
        .filter(|l| l.starts_with("Login failed ") || l.starts_with("Login excessive "))
        .map(|l| format!("Dec  7 22:00:00 mailhost {program}[4242]: {l}"))
        .collect()
}

/// Runs fail2ban-regex over `lines`; returns (matched, missed, its output with the
/// address it found in each matched line appended).
fn fail2ban_regex(lines: &[String], filter: &str, dir: &Path) -> (usize, usize, String) {
    let file = dir.join("mail.log");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = Command::new("fail2ban-regex")
        .arg("--print-all-missed")
        .arg(&file)
        .arg(filter)
        .output()
        .expect("fail2ban-regex runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let summary = text
        .lines()
        .find(|l| l.starts_with("Lines: "))
        .unwrap_or_else(|| panic!("no summary:\n{text}"))
        .to_string();
    // "Lines: 9 lines, 0 ignored, 9 matched, 0 missed"
    let words: Vec<&str> = summary.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    let number = |word: &str| {
        words
            .iter()
            .position(|w| *w == word)
            .and_then(|i| words.get(i.checked_sub(1)?)?.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("{summary}"))
    };
    let ips = Command::new("fail2ban-regex")
        .args(["-o", "ip"])
        .arg(&file)
        .arg(filter)
        .output()
        .expect("fail2ban-regex runs");
    let ips = String::from_utf8_lossy(&ips.stdout).into_owned();
    (number("matched"), number("missed"), text + "\naddresses:\n" + &ips)
}

#[test]
fn every_failed_login_line_matches_the_stock_uwimap_auth_filter() {
    const TEST: &str = "every_failed_login_line_matches_the_stock_uwimap_auth_filter";
    if support::program("fail2ban-regex").is_none() || !Path::new(FILTER).is_file() {
        support::skip(TEST, "fail2ban is not installed (apt-get install fail2ban)");
        return;
    }
    let Some(env) = Env::new(TEST, "login_attempts = 3") else {
        return;
    };
    if !env.root {
        support::skip(TEST, "needs root: run by a user, the servers have no login to fail");
        return;
    }
    let (Some(ipop3d), Some(ipop2d)) = (sibling("ipop3d"), sibling("ipop2d")) else {
        support::skip(TEST, "ipop3d or ipop2d is not built beside imapd (cargo test --workspace)");
        return;
    };
    env.touch_inbox();
    let imap = env.start(&[]);
    imap_failures(&imap);
    wait_for(&env, "imapd: Login excessive login failures", 1);
    let pop3 = env.start_program(&ipop3d, &[]);
    pop3_failures(&pop3);
    wait_for(&env, "ipop3d: Login excessive login failures", 1);
    let pop2 = env.start_program(&ipop2d, &[]);
    pop2_failures(&pop2);
    wait_for(&env, "ipop2d: Login failed", 2);

    let log = env.log_text();
    let dir = env.dir.path();
    let mut lines = as_syslog(&log, "imapd");
    lines.extend(as_syslog(&log, "ipop3d"));
    // Bad password, unknown user, a name with a space; then the limit.
    assert_eq!(lines.len(), 8, "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("user=a\\x20b ")), "{lines:#?}");
    eprintln!("{}", lines.join("\n"));
    let (matched, missed, out) = fail2ban_regex(&lines, FILTER, dir);
    eprintln!("{}", out.lines().filter(|l| l.starts_with("Lines:")).collect::<String>());
    assert_eq!((matched, missed), (lines.len(), 0), "{lines:#?}\n{out}");
    let addresses = out.split("\naddresses:\n").nth(1).unwrap_or_default();
    assert_eq!(addresses.lines().collect::<Vec<_>>(), vec!["127.0.0.1"; lines.len()], "{out}");

    let pop2_lines = as_syslog(&log, "ipop2d");
    assert_eq!(pop2_lines.len(), 2, "{pop2_lines:#?}");
    let (matched, missed, out) = fail2ban_regex(&pop2_lines, &jail_filter(), dir);
    assert_eq!((matched, missed), (2, 0), "{pop2_lines:#?}\n{out}");
    drop((imap, pop3, pop2));
}
