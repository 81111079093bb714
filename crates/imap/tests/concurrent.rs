//! Several sessions on one mailbox, and an MTA delivering into it: each session sees
//! the others' flag changes, expunges and appends at its next command, and never an
//! EXPUNGE during FETCH, STORE or SEARCH (RFC 3501 §7.4.1).

mod support;

use std::path::Path;
use std::process::Command;

use support::{assert_lines, message, tagged_line, Client, Env};

fn two_on_box(env: &Env, messages: usize) -> (Client, Client) {
    let mut a = env.client();
    a.cmd("a0 CREATE box");
    for i in 0..messages {
        a.cmd_literal(
            &format!("a0{i} APPEND box"),
            &message(&format!("m{i}"), "text"),
            "",
        );
    }
    a.cmd("a1 SELECT box");
    let mut b = env.client();
    b.cmd("b1 SELECT box");
    (a, b)
}

#[test]
fn flag_changes_reach_the_other_session_at_its_next_command() {
    let env = Env::new();
    let (mut a, mut b) = two_on_box(&env, 3);
    a.cmd("a2 STORE 2 +FLAGS (\\Flagged $Important)");
    let r = b.cmd("b2 NOOP");
    assert_lines(
        &r,
        &[
            "* FLAGS ($Important \\Answered",
            "* OK [PERMANENTFLAGS ($Important \\*",
            "* 2 FETCH (FLAGS (\\Flagged $Important))",
            "b2 OK",
        ],
    );
    // And back the other way, with a UID command (UID in the FETCH).
    b.cmd("b3 STORE 1 +FLAGS.SILENT (\\Answered)");
    let r = a.cmd("a3 UID FETCH 3 FLAGS");
    assert_lines(
        &r,
        &[
            "* 3 FETCH (UID 3 FLAGS (\\Recent))",
            "* 1 FETCH (FLAGS (\\Recent \\Answered) UID 1)",
            "a3 OK",
        ],
    );
    // Both sessions' changes survive: neither overwrote the other.
    let r = b.cmd("b4 FETCH 1:2 FLAGS");
    assert_lines(
        &r,
        &[
            "* 1 FETCH (FLAGS (\\Answered))",
            "* 2 FETCH (FLAGS (\\Flagged $Important))",
        ],
    );
}

#[test]
fn appends_reach_the_other_session_as_exists() {
    let env = Env::new();
    let (mut a, mut b) = two_on_box(&env, 1);
    a.cmd_literal("a2 APPEND box", &message("new", "fresh"), "");
    // The appending session selected the mailbox too: it sees the message at once.
    let r = a.cmd("a3 NOOP");
    assert!(
        !r.contains("EXISTS"),
        "reported with the APPEND already: {r}"
    );
    let r = b.cmd("b2 NOOP");
    assert_lines(&r, &["* 2 EXISTS", "b2 OK"]);
    // \Recent went to exactly one session.
    let ra = a.cmd("a4 SEARCH RECENT");
    let rb = b.cmd("b3 SEARCH RECENT");
    let has2 = |r: &str| {
        r.starts_with("* SEARCH") && r.lines().next().unwrap().split(' ').any(|w| w == "2")
    };
    assert!(has2(&ra) != has2(&rb), "A: {ra} B: {rb}");
}

#[test]
fn expunges_reach_the_other_session_but_never_during_fetch_store_search() {
    let env = Env::new();
    let (mut a, mut b) = two_on_box(&env, 3);
    a.cmd("a2 STORE 2 +FLAGS.SILENT (\\Deleted)");
    assert_lines(&a.cmd("a3 EXPUNGE"), &["* 2 EXPUNGE", "a3 OK"]);
    // FETCH: message 2 is still there for B (its text cannot be read), no EXPUNGE.
    let r = b.cmd("b2 FETCH 1:3 (FLAGS)");
    assert!(!r.contains(" EXPUNGE\r\n"), "{r}");
    assert_lines(&r, &["* 1 FETCH", "* 2 FETCH", "* 3 FETCH", "b2 OK"]);
    let r = b.cmd("b3 FETCH 2 BODY.PEEK[]");
    assert!(!r.contains(" EXPUNGE\r\n"), "{r}");
    assert!(tagged_line(&r).starts_with("b3 OK [EXPUNGEISSUED]"), "{r}");
    let r = b.cmd("b4 STORE 2:3 +FLAGS (\\Seen)");
    assert!(!r.contains(" EXPUNGE\r\n"), "{r}");
    assert_lines(&r, &["* 3 FETCH (FLAGS (\\Seen))", "b4 OK STORE completed"]);
    let r = b.cmd("b5 SEARCH ALL");
    assert!(!r.contains(" EXPUNGE\r\n"), "{r}");
    assert_lines(&r, &["* SEARCH 1 3", "b5 OK"]);
    // The next command that may, reports it.
    let r = b.cmd("b6 NOOP");
    assert_lines(&r, &["* 2 EXPUNGE", "b6 OK"]);
    assert_lines(
        &b.cmd("b7 FETCH 2 (UID FLAGS)"),
        &["* 2 FETCH (UID 3 FLAGS (\\Seen))"],
    );
    // A sees B's \Seen.
    assert_lines(
        &a.cmd("a4 NOOP"),
        &["* 2 FETCH (FLAGS (\\Recent \\Seen))", "a4 OK"],
    );
}

#[test]
fn uid_commands_may_report_expunges() {
    let env = Env::new();
    let (mut a, mut b) = two_on_box(&env, 2);
    a.cmd("a2 STORE 1 +FLAGS.SILENT (\\Deleted)");
    a.cmd("a3 EXPUNGE");
    let r = b.cmd("b2 UID FETCH 1:* FLAGS");
    assert_lines(&r, &["* 1 EXPUNGE", "b2 OK"]);
}

#[test]
fn close_and_expunge_by_one_session_while_the_other_stores() {
    let env = Env::new();
    let (mut a, mut b) = two_on_box(&env, 4);
    b.cmd("b2 STORE 4 +FLAGS (\\Flagged)");
    a.cmd("a2 STORE 1,3 +FLAGS.SILENT (\\Deleted)");
    assert_lines(&a.cmd("a3 CLOSE"), &["a3 OK"]);
    let r = b.cmd("b3 NOOP");
    assert_lines(&r, &["* 1 EXPUNGE", "* 2 EXPUNGE", "b3 OK"]);
    assert_lines(
        &b.cmd("b4 FETCH 1:* (UID FLAGS)"),
        &[
            "* 1 FETCH (UID 2 FLAGS (",
            "* 2 FETCH (UID 4 FLAGS (\\Flagged))",
        ],
    );
}

fn deliver_py() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mailbox/tests/support/deliver.py")
}

fn have_python() -> bool {
    Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status()
        .is_ok_and(|s| s.success())
}

fn deliver(mailbox: &Path, first: u32, count: u32, format: &str) {
    let status = Command::new("python3")
        .arg(deliver_py())
        .arg(mailbox)
        .arg(first.to_string())
        .arg(count.to_string())
        .arg("0")
        .arg(format)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_delivery_by_the_mta_shows_up_as_exists() {
    if !have_python() {
        testkit::skip(
            "a_delivery_by_the_mta_shows_up_as_exists",
            "no python3 for the MTA stand-in (deliver.py)",
        );
        return;
    }
    for format in ["mbox", "mmdf"] {
        let env = Env::new();
        let mut a = env.client();
        if format == "mmdf" {
            // An MMDF INBOX: start it with one MMDF delivery.
            std::fs::remove_file(&env.inbox).unwrap();
            deliver(&env.inbox, 1, 1, format);
        } else {
            deliver(&env.inbox, 1, 1, format);
        }
        assert_lines(
            &a.cmd("a1 SELECT INBOX"),
            &["* 1 EXISTS", "* 1 RECENT", "a1 OK"],
        );
        deliver(&env.inbox, 2, 2, format);
        let r = a.cmd("a2 NOOP");
        assert_lines(&r, &["* 3 EXISTS", "* 3 RECENT", "a2 OK"]);
        let r = a.cmd("a3 FETCH 3 (FLAGS BODY[HEADER.FIELDS (SUBJECT)])");
        assert!(r.contains("Subject: delivered 3"), "{format}: {r}");
        // The MTA's message text arrives intact (its ">From" stays quoted in mbox).
        let r = a.cmd("a4 FETCH 2 BODY.PEEK[TEXT]");
        assert!(
            r.contains("Delivered message number 2.\r\n"),
            "{format}: {r}"
        );
        // Expunge with a delivery racing: nothing is lost.
        a.cmd("a5 STORE 1 +FLAGS.SILENT (\\Deleted)");
        deliver(&env.inbox, 4, 1, format);
        let r = a.cmd("a6 EXPUNGE");
        assert!(r.contains("* 1 EXPUNGE"), "{format}: {r}");
        let r = a.cmd("a7 SEARCH ALL");
        assert!(r.starts_with("* SEARCH 1 2 3\r\n"), "{format}: {r}");
        let r = a.cmd("a8 FETCH 3 BODY.PEEK[HEADER.FIELDS (SUBJECT)]");
        assert!(r.contains("Subject: delivered 4"), "{format}: {r}");
    }
}

#[test]
fn ten_sessions_storing_at_once_lose_nothing() {
    let env = Env::new();
    let mut setup = env.client();
    setup.cmd("s0 CREATE box");
    for i in 0..10 {
        setup.cmd_literal(
            &format!("s{i} APPEND box"),
            &message(&format!("m{i}"), "x"),
            "",
        );
    }
    let threads: Vec<_> = (0..10)
        .map(|i| {
            let mut c = env.client();
            std::thread::spawn(move || {
                c.cmd("t0 SELECT box");
                c.cmd(&format!("t1 STORE {} +FLAGS (\\Flagged k{i})", i + 1));
                c.cmd("t2 LOGOUT");
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    setup.cmd("v0 SELECT box");
    let r = setup.cmd("v1 SEARCH FLAGGED");
    assert!(r.starts_with("* SEARCH 1 2 3 4 5 6 7 8 9 10\r\n"), "{r}");
    for i in 0..10 {
        let r = setup.cmd(&format!("w{i} SEARCH KEYWORD k{i}"));
        assert!(r.starts_with(&format!("* SEARCH {}\r\n", i + 1)), "{r}");
    }
}

/// A FETCH that reads message text catches up with the file first, and may find a
/// keyword another session just defined on the message it answers for: FLAGS must
/// name the keyword before the FETCH uses it (RFC 3501 §7.2.6; imaptest's stress
/// reported "Keyword used without being in FLAGS").
#[test]
fn a_keyword_found_during_fetch_is_announced_before_it_is_used() {
    let env = Env::new();
    let (mut a, mut b) = two_on_box(&env, 2);
    a.cmd("a2 STORE 2 +FLAGS ($Fresh)");
    let r = b.cmd("b2 FETCH 2 (FLAGS BODY[TEXT])");
    let fetch = r.find("* 2 FETCH (FLAGS (\\Seen $Fresh)").unwrap_or_else(|| panic!("{r}"));
    let flags = r.find("* FLAGS (").unwrap_or_else(|| panic!("no FLAGS in:\n{r}"));
    assert!(flags < fetch && r[flags..fetch].contains("$Fresh"), "{r}");
    assert_eq!(tagged_line(&r), "b2 OK FETCH completed", "{r}");
}
