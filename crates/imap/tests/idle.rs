//! IDLE (RFC 2177) in memory: changes by another session and by an MTA delivery
//! reach the idling session within three seconds, DONE ends it with OK, an IDLE
//! outlasts the autologout with keep-alives, and its grammar and error paths.

mod support;

use std::time::{Duration, Instant};

use imap::settings::Settings;
use support::{assert_lines, deliver, message, Env, Options};

/// How soon a change must reach the idling client (issue 7).
const PUSH: Duration = Duration::from_secs(3);

#[track_caller]
fn pushed(c: &mut support::Client, what: &str) -> Duration {
    let start = Instant::now();
    let found = c.lines_until(PUSH, |l| l.starts_with(what));
    assert!(found.is_some(), "no {what:?} within {PUSH:?}");
    start.elapsed()
}

#[test]
fn idle_pushes_changes_from_another_session_and_the_mta_within_three_seconds() {
    pushes_within_three_seconds(Settings::default());
}

#[test]
fn idle_without_inotify_polls_and_still_pushes_within_three_seconds() {
    pushes_within_three_seconds(Settings {
        idle_inotify: false,
        ..Settings::default()
    });
}

fn pushes_within_three_seconds(settings: Settings) {
    let env = Env::new();
    let mut a = env.client_with(Options {
        settings,
        ..Options::default()
    });
    for i in 0..3 {
        a.cmd_literal(&format!("a0{i} APPEND INBOX"), &message(&format!("m{i}"), "x"), "");
    }
    a.cmd("a1 SELECT INBOX");
    let mut b = env.client();
    b.cmd("b1 SELECT INBOX");

    a.send(b"a2 IDLE\r\n");
    assert_eq!(a.read_line(), "+ idling\r\n");
    let mut slowest = Duration::ZERO;

    // A flag change by the other session.
    b.cmd("b2 STORE 1 +FLAGS (\\Flagged)");
    slowest = slowest.max(pushed(&mut a, "* 1 FETCH (FLAGS (\\Recent \\Flagged))"));
    // An expunge by the other session.
    b.cmd("b3 STORE 2 +FLAGS.SILENT (\\Deleted)");
    b.cmd("b4 EXPUNGE");
    slowest = slowest.max(pushed(&mut a, "* 2 EXPUNGE"));
    // A delivery by the MTA (dot-lock, fcntl, append).
    deliver(&env.inbox, 1, 1, "mbox");
    slowest = slowest.max(pushed(&mut a, "* 3 EXISTS"));
    // An APPEND by the other session.
    b.cmd_literal("b5 APPEND INBOX", &message("late", "y"), "");
    slowest = slowest.max(pushed(&mut a, "* 4 EXISTS"));

    a.send(b"DONE\r\n");
    assert_lines(&a.read_tagged("a2"), &["a2 OK IDLE terminated"]);
    // The session goes on, in step.
    assert_lines(
        &a.cmd("a3 FETCH 3:4 (FLAGS)"),
        &["* 3 FETCH", "* 4 FETCH", "a3 OK"],
    );
    eprintln!("IDLE: slowest push {slowest:?}");
}

#[test]
fn idle_outlasts_the_autologout_with_keepalives() {
    let env = Env::new();
    let settings = Settings {
        idle_keepalive: Duration::from_secs(1),
        ..Settings::default()
    };
    // The host's read timeout is the autologout: one second.
    let mut c = env.client_with(Options {
        idle: Duration::from_secs(1),
        settings,
        ..Options::default()
    });
    c.cmd("a1 SELECT INBOX");
    c.send(b"a2 IDLE\r\n");
    assert_eq!(c.read_line(), "+ idling\r\n");
    assert!(
        c.lines_until(Duration::from_secs(3), |l| l == "* OK Still here")
            .is_some(),
        "no keep-alive"
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert!(!c.finished(), "the session ended during IDLE");
    c.send(b"DONE\r\n");
    assert_lines(&c.read_tagged("a2"), &["a2 OK IDLE terminated"]);
    assert_lines(&c.cmd("a3 NOOP"), &["a3 OK"]);
    // Outside IDLE the autologout applies.
    let bye = c.lines_until(Duration::from_secs(5), |l| l.starts_with("* BYE"));
    assert!(
        bye.is_some_and(|b| b.contains("Autologout")),
        "no autologout outside IDLE"
    );
}

#[test]
fn idle_grammar_and_error_paths() {
    let env = Env::new();
    let mut c = env.login_client();
    assert_lines(
        &c.cmd("a1 IDLE"),
        &["a1 BAD IDLE not allowed now: log in first"],
    );
    c.cmd(&format!("a2 LOGIN {} {}", support::USER, support::PASSWORD));
    assert_lines(&c.cmd("a3 IDLE now"), &["a3 BAD"]);
    // In the authenticated state: keep-alives only; DONE in any case ends it.
    c.send(b"a4 IDLE\r\n");
    assert_eq!(c.read_line(), "+ idling\r\n");
    c.send(b"done\r\n");
    assert_lines(&c.read_tagged("a4"), &["a4 OK IDLE terminated"]);
    // Anything but DONE ends IDLE with BAD; the session goes on.
    c.cmd("a5 SELECT INBOX");
    c.send(b"a6 IDLE\r\n");
    assert_eq!(c.read_line(), "+ idling\r\n");
    c.send(b"a7 NOOP\r\n");
    assert_lines(&c.read_tagged("a6"), &["a6 BAD IDLE ended: expected DONE"]);
    assert_lines(&c.cmd("a8 NOOP"), &["a8 OK"]);
    // DONE pipelined right behind IDLE, in one packet, and DONE sent in pieces.
    let r = c.cmd_bytes("a9", b"a9 IDLE\r\nDONE\r\n");
    assert_lines(&r, &["+ idling", "a9 OK IDLE terminated"]);
    c.send(b"b1 IDLE\r\n");
    assert_eq!(c.read_line(), "+ idling\r\n");
    c.send(b"DO");
    std::thread::sleep(Duration::from_millis(300));
    c.send(b"NE\r\nb2 NOOP\r\n");
    assert_lines(&c.read_tagged("b1"), &["b1 OK IDLE terminated"]);
    assert_lines(&c.read_tagged("b2"), &["b2 OK"]);
    // An over-long line while idling is no DONE.
    c.send(b"b3 IDLE\r\n");
    assert_eq!(c.read_line(), "+ idling\r\n");
    let mut long = vec![b'x'; 70_000];
    long.extend_from_slice(b"\r\n");
    c.send(&long);
    assert_lines(&c.read_tagged("b3"), &["b3 BAD IDLE ended: expected DONE"]);
    assert_lines(&c.cmd("b4 NOOP"), &["b4 OK"]);
    // A client that goes away while idling ends the session quietly.
    c.send(b"b5 IDLE\r\n");
    assert_eq!(c.read_line(), "+ idling\r\n");
    assert!(matches!(c.close(), imap::Ending::Error(_)));
}

#[test]
fn idle_reports_what_changed_before_it_and_after_done() {
    let env = Env::new();
    let mut a = env.client();
    a.cmd_literal("a0 APPEND INBOX", &message("one", "x"), "");
    a.cmd("a1 SELECT INBOX");
    let mut b = env.client();
    b.cmd_literal("b0 APPEND INBOX", &message("two", "x"), "");
    // Appended before the IDLE: reported during it.
    a.send(b"a2 IDLE\r\n");
    let r = a
        .lines_until(PUSH, |l| l == "* 2 EXISTS")
        .expect("EXISTS during IDLE");
    assert!(r.starts_with("+ idling\r\n"), "{r}");
    a.send(b"DONE\r\n");
    assert_lines(&a.read_tagged("a2"), &["a2 OK"]);
}
