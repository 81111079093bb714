//! CONDSTORE and QRESYNC (RFC 7162) through whole sessions: the MODSEQ fetch
//! item, CHANGEDSINCE, UNCHANGEDSINCE with [MODIFIED], the MODSEQ search key and
//! result, HIGHESTMODSEQ in SELECT and STATUS, ENABLE; QRESYNC's SELECT parameter,
//! VANISHED (EARLIER), VANISHED for expunges, UID FETCH (CHANGEDSINCE n
//! VANISHED), [CLOSED]. The examples of RFC 7162 §3.1 and §3.2, adapted to what a
//! mailbox here holds; a client that comes back after another changed the
//! mailbox; a flag changed by another program under the dot-lock.

mod support;

use support::{assert_lines, message, tagged_line, Client, Env};

/// A preauthenticated session with `box` holding `n` messages `m1`..`mn`.
fn with_box(env: &Env, n: usize) -> Client {
    let mut c = env.client();
    c.cmd("p0 CREATE box");
    for i in 1..=n {
        c.cmd_literal(
            &format!("p{i} APPEND box"),
            &message(&format!("m{i}"), &format!("body {i}")),
            "",
        );
    }
    c
}

/// The lines of an answer that are untagged.
fn untagged(r: &str) -> Vec<String> {
    r.split("\r\n")
        .filter(|l| l.starts_with("* "))
        .map(str::to_string)
        .collect()
}

/// The number after `key` in `text` (`HIGHESTMODSEQ `, `MODSEQ (`, ...).
#[track_caller]
fn number_after(text: &str, key: &str) -> u64 {
    let i = text
        .find(key)
        .unwrap_or_else(|| panic!("no {key:?} in:\n{text}"))
        + key.len();
    text[i..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0, |n, d| n * 10 + u64::from(d - b'0'))
}

/// The UID and modseq of each FETCH response line.
fn fetched(r: &str) -> Vec<(u64, u64)> {
    untagged(r)
        .iter()
        .filter(|l| l.contains(" FETCH ("))
        .map(|l| (number_after(l, "UID "), number_after(l, "MODSEQ (")))
        .collect()
}

#[test]
fn select_and_status_say_highestmodseq_and_fetch_gives_modseqs() {
    let env = Env::new();
    let mut c = with_box(&env, 3);
    let r = c.cmd("a1 SELECT box");
    let highest = number_after(&r, "* OK [HIGHESTMODSEQ ");
    assert!(highest > 0, "{r}");
    // STATUS of the selected mailbox (a CONDSTORE enabling command: the mailbox
    // selected is told its HIGHESTMODSEQ once).
    assert_eq!(
        untagged(&c.cmd("a2 STATUS box (MESSAGES HIGHESTMODSEQ)")),
        [
            format!("* OK [HIGHESTMODSEQ {highest}] Highest"),
            format!("* STATUS \"box\" (MESSAGES 3 HIGHESTMODSEQ {highest})")
        ]
    );
    // Every message has a modseq, none above HIGHESTMODSEQ.
    let r = c.cmd("a3 FETCH 1:* (UID MODSEQ)");
    let got = fetched(&r);
    assert_eq!(got.len(), 3, "{r}");
    assert!(got.iter().all(|&(_, m)| m > 0 && m <= highest), "{r}");
    assert!(
        r.contains(&format!("* 1 FETCH (UID 1 MODSEQ ({}))", got[0].1)),
        "{r}"
    );
    // STATUS of another mailbox opens it.
    let r = c.cmd("a4 STATUS INBOX (HIGHESTMODSEQ)");
    assert!(number_after(&r, "HIGHESTMODSEQ ") > 0, "{r}");
    assert_lines(&c.cmd("a5 STATUS INBOX (MODSEQ)"), &["a5 BAD"]);
}

/// RFC 7162 §3.1.3: a conditional STORE changes what is unchanged since the
/// client's modseq and names the rest in [MODIFIED]; every STORE moves the modseq
/// of what it changed past what was there, and the answers carry it.
#[test]
fn unchangedsince_stores_what_is_unchanged_and_names_the_rest() {
    let env = Env::new();
    let mut c = with_box(&env, 5);
    assert_lines(&c.cmd("a0 ENABLE CONDSTORE"), &["* ENABLED CONDSTORE"]);
    let r = c.cmd("a1 SELECT box");
    let h0 = number_after(&r, "[HIGHESTMODSEQ ");
    // A plain STORE once CONDSTORE is on: FLAGS, UID and the new MODSEQ.
    let r = c.cmd("a3 STORE 1 +FLAGS (\\Seen)");
    let m1 = number_after(&r, "MODSEQ (");
    assert!(m1 > h0);
    assert_eq!(
        untagged(&r),
        [format!(
            "* 1 FETCH (FLAGS (\\Recent \\Seen) UID 1 MODSEQ ({m1}))"
        )]
    );
    // .SILENT: only the modseq.
    let r = c.cmd(&format!(
        "a4 STORE 2,3 (UNCHANGEDSINCE {h0}) +FLAGS.SILENT (\\Flagged)"
    ));
    let m2 = number_after(&r, "MODSEQ (");
    assert!(m2 > m1);
    assert_eq!(
        untagged(&r),
        [
            format!("* 2 FETCH (UID 2 MODSEQ ({m2}))"),
            format!("* 3 FETCH (UID 3 MODSEQ ({m2}))")
        ]
    );
    assert_eq!(tagged_line(&r), "a4 OK STORE completed");
    // 2 and 3 changed after m1: they are left alone and named; 1 and 5 change.
    let r = c.cmd(&format!(
        "a5 STORE 1:3,5 (UNCHANGEDSINCE {m1}) +FLAGS.SILENT (\\Deleted)"
    ));
    let m3 = number_after(&r, "MODSEQ (");
    assert!(m3 > m2);
    assert_eq!(
        untagged(&r),
        [
            format!("* 1 FETCH (UID 1 MODSEQ ({m3}))"),
            format!("* 5 FETCH (UID 5 MODSEQ ({m3}))")
        ]
    );
    assert_eq!(
        tagged_line(&r),
        "a5 OK [MODIFIED 2:3] Conditional STORE failed"
    );
    let r = c.cmd("a6 FETCH 2 FLAGS");
    assert!(!r.contains("\\Deleted"), "{r}");
    // UID STORE names UIDs; UNCHANGEDSINCE 0 fails for every message.
    let r = c.cmd("a7 UID STORE 4:5 (UNCHANGEDSINCE 0) FLAGS (\\Answered)");
    assert_eq!(untagged(&r), Vec::<String>::new());
    assert_eq!(
        tagged_line(&r),
        "a7 OK [MODIFIED 4:5] Conditional STORE failed"
    );
    // A STORE that changes nothing keeps the modseq.
    let r = c.cmd(&format!(
        "a8 STORE 4 (UNCHANGEDSINCE {m3}) -FLAGS (\\Answered)"
    ));
    assert_eq!(
        untagged(&r),
        [format!("* 4 FETCH (FLAGS (\\Recent) UID 4 MODSEQ ({h0}))")]
    );
    // The STORE syntax errors.
    assert_lines(
        &c.cmd("a9 STORE 1 (UNCHANGEDSINCE) +FLAGS (\\Seen)"),
        &["a9 BAD"],
    );
    assert_lines(&c.cmd("b1 STORE 1 (NOSUCH 1) +FLAGS (\\Seen)"), &["b1 BAD"]);
    assert_lines(
        &c.cmd("b2 STORE 1 (UNCHANGEDSINCE 9223372036854775808) +FLAGS (\\Seen)"),
        &["b2 BAD"],
    );
}

/// RFC 7162 §3.1.4: FETCH CHANGEDSINCE returns what changed after the value, with
/// MODSEQ; it switches CONDSTORE on, which says HIGHESTMODSEQ once.
#[test]
fn changedsince_fetches_only_what_changed() {
    let env = Env::new();
    let mut c = with_box(&env, 4);
    let r = c.cmd("a1 SELECT box");
    let h0 = number_after(&r, "[HIGHESTMODSEQ ");
    let r = c.cmd(&format!("a2 FETCH 1:* (FLAGS) (CHANGEDSINCE {h0})"));
    assert_eq!(untagged(&r), [format!("* OK [HIGHESTMODSEQ {h0}] Highest")]);
    c.cmd("a3 STORE 2 +FLAGS.SILENT (\\Answered)");
    c.cmd("a4 STORE 4 +FLAGS.SILENT ($Work)");
    let r = c.cmd(&format!("a5 FETCH 1:* (UID FLAGS) (CHANGEDSINCE {h0})"));
    let got = fetched(&r);
    assert_eq!(
        got.iter().map(|&(u, _)| u).collect::<Vec<_>>(),
        [2, 4],
        "{r}"
    );
    assert!(got[0].1 < got[1].1, "{r}");
    assert_lines(
        &r,
        &[
            &format!(
                "* 2 FETCH (UID 2 FLAGS (\\Recent \\Answered) MODSEQ ({}))",
                got[0].1
            ),
            "* 4 FETCH (UID 4 FLAGS (\\Recent $Work) MODSEQ (",
        ],
    );
    let r = c.cmd(&format!(
        "a6 UID FETCH 1:* (FLAGS) (CHANGEDSINCE {})",
        got[0].1
    ));
    assert_eq!(fetched(&r), [got[1]]);
    // CHANGEDSINCE 0 is everything; VANISHED needs UID FETCH and QRESYNC.
    assert_eq!(
        fetched(&c.cmd("a7 FETCH 1:* (UID) (CHANGEDSINCE 0)")).len(),
        4
    );
    assert_lines(
        &c.cmd("a8 FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)"),
        &["a8 BAD"],
    );
    assert_lines(
        &c.cmd("a9 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)"),
        &["a9 BAD"],
    );
    assert_lines(&c.cmd("b1 UID FETCH 1:* (FLAGS) (VANISHED)"), &["b1 BAD"]);
    // A FETCH that sets \Seen tells the new modseq.
    let r = c.cmd("b2 FETCH 3 BODY[TEXT]");
    let m = number_after(&r, "MODSEQ (");
    assert!(m > got[1].1, "{r}");
    assert_lines(
        &r,
        &[
            "* 3 FETCH (BODY[TEXT]",
            &format!("* 3 FETCH (UID 3 MODSEQ ({m}))"),
        ],
    );
}

/// RFC 7162 §3.1.5: SEARCH MODSEQ, with and without an entry name, and the
/// highest modseq of what is returned; the ESEARCH cases of imaptest's
/// esearch-condstore.
#[test]
fn search_modseq_and_its_result() {
    let env = Env::new();
    let mut c = with_box(&env, 4);
    c.cmd("a1 SELECT box");
    // SEARCH MODSEQ switches CONDSTORE on.
    let r = c.cmd("a2 SEARCH MODSEQ 1");
    assert_lines(
        &r,
        &["* OK [HIGHESTMODSEQ ", "* SEARCH 1 2 3 4 (MODSEQ ", "a2 OK"],
    );
    let mut m = [0u64; 5];
    for i in [1, 3, 2, 4] {
        m[i] = number_after(
            &c.cmd(&format!("s{i} STORE {i} +FLAGS (\\Seen)")),
            "MODSEQ (",
        );
    }
    assert!(m[1] < m[3] && m[3] < m[2] && m[2] < m[4]);
    assert_eq!(
        untagged(&c.cmd(&format!(
            "a3 SEARCH MODSEQ \"/flags/\\\\draft\" all {}",
            m[3]
        ))),
        [format!("* SEARCH 2 3 4 (MODSEQ {})", m[4])]
    );
    assert_eq!(
        untagged(&c.cmd(&format!("a4 UID SEARCH MODSEQ {} NOT 4", m[3]))),
        [format!("* SEARCH 2 3 (MODSEQ {})", m[2])]
    );
    // Nothing found: no MODSEQ.
    assert_eq!(
        untagged(&c.cmd(&format!("a5 SEARCH MODSEQ {}", m[4] + 1))),
        ["* SEARCH"]
    );
    let es = |c: &mut Client, tag: &str, cmd: &str| untagged(&c.cmd(&format!("{tag} {cmd}")));
    assert_eq!(
        es(
            &mut c,
            "b1",
            "SEARCH RETURN (MIN) 1:3 MODSEQ \"/flags/\\\\seen\" all 1"
        ),
        [format!("* ESEARCH (TAG \"b1\") MIN 1 MODSEQ {}", m[1])]
    );
    assert_eq!(
        es(&mut c, "b2", "SEARCH RETURN (MAX) 1:3 MODSEQ 1"),
        [format!("* ESEARCH (TAG \"b2\") MAX 3 MODSEQ {}", m[3])]
    );
    assert_eq!(
        es(&mut c, "b3", "SEARCH RETURN () 1:3 MODSEQ 1"),
        [format!("* ESEARCH (TAG \"b3\") ALL 1:3 MODSEQ {}", m[2])]
    );
    assert_eq!(
        es(
            &mut c,
            "b4",
            &format!("UID SEARCH RETURN (COUNT) MODSEQ {}", m[4])
        ),
        [format!(
            "* ESEARCH (TAG \"b4\") UID COUNT 1 MODSEQ {}",
            m[4]
        )]
    );
    assert_eq!(
        es(
            &mut c,
            "b5",
            &format!("SEARCH RETURN (ALL) MODSEQ {}", m[4] + 1)
        ),
        ["* ESEARCH (TAG \"b5\")"]
    );
    assert_lines(
        &c.cmd("b6 SEARCH MODSEQ \"/flags/\\\\seen\" some 1"),
        &["b6 BAD"],
    );
    assert_lines(&c.cmd("b7 SEARCH MODSEQ"), &["b7 BAD"]);
}

/// Once CONDSTORE is on, changes made by another session come with UID and
/// MODSEQ; SELECT (CONDSTORE) switches it on.
#[test]
fn other_sessions_changes_carry_modseq() {
    let env = Env::new();
    let mut a = with_box(&env, 3);
    a.cmd("a1 SELECT box (CONDSTORE)");
    let mut b = env.client();
    b.cmd("b1 SELECT box");
    let r = b.cmd("b2 STORE 2 +FLAGS (\\Flagged)");
    assert!(!r.contains("MODSEQ"), "CONDSTORE is not on in B: {r}");
    let r = a.cmd("a2 NOOP");
    let m = number_after(&r, "MODSEQ (");
    assert_eq!(
        untagged(&r),
        [format!(
            "* 2 FETCH (FLAGS (\\Recent \\Flagged) UID 2 MODSEQ ({m}))"
        )]
    );
    assert_lines(&a.cmd("a3 SELECT box (CONDSTORE BOGUS)"), &["a3 BAD"]);
    assert_lines(&a.cmd("a4 SELECT box (QRESYNC (1 1))"), &["a4 BAD"]);
}

/// Another program (mutt, as it does: a dot-lock, the file rewritten, the lock
/// removed) marks a message read and flagged: the session reports it with a new
/// modseq, and HIGHESTMODSEQ moves.
#[test]
fn a_status_edit_under_the_dot_lock_moves_highestmodseq() {
    let env = Env::new();
    let mut c = with_box(&env, 3);
    let h0 = number_after(&c.cmd("a1 SELECT box (CONDSTORE)"), "[HIGHESTMODSEQ ");
    let path = env.mail("box");
    let lock = path.with_file_name("box.lock");
    std::fs::write(&lock, b"").unwrap();
    let text = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
    let mut message = 0;
    let mut edited = String::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with("Subject: m") {
            message += 1;
        }
        let line = match line.split(':').next() {
            Some("Status") if message == 2 => "Status: RO\n",
            Some("X-Status") if message == 2 => "X-Status: F\n",
            _ => line,
        };
        edited.push_str(line);
    }
    assert_eq!(edited.matches("X-Status: F\n").count(), 1);
    std::fs::write(&path, edited).unwrap();
    std::fs::remove_file(&lock).unwrap();
    let r = c.cmd("a2 NOOP");
    let m = number_after(&r, "MODSEQ (");
    assert!(m > h0);
    assert_eq!(
        untagged(&r),
        [format!(
            "* 2 FETCH (FLAGS (\\Recent \\Seen \\Flagged) UID 2 MODSEQ ({m}))"
        )]
    );
    let r = c.cmd("a3 STATUS box (HIGHESTMODSEQ)");
    assert_eq!(number_after(&r, "HIGHESTMODSEQ "), m);
}

/// QRESYNC (RFC 7162 §3.2.5): A knows the mailbox, logs out; B flags one message,
/// expunges two, appends one; A comes back with SELECT (QRESYNC ...) and learns
/// exactly that: the two UIDs in VANISHED (EARLIER), FETCH for the flagged one and
/// the new one, nothing else.
#[test]
fn a_client_back_after_another_changed_the_mailbox_gets_exactly_the_changes() {
    let env = Env::new();
    let mut a = with_box(&env, 6);
    assert_eq!(
        a.cmd("a0 ENABLE QRESYNC"),
        "* ENABLED QRESYNC\r\na0 OK ENABLE completed\r\n"
    );
    let r = a.cmd("a1 SELECT box");
    let uv = number_after(&r, "[UIDVALIDITY ");
    let h0 = number_after(&r, "[HIGHESTMODSEQ ");
    a.cmd("a2 LOGOUT");
    a.close();

    let mut b = env.client();
    b.cmd("b1 SELECT box");
    b.cmd("b2 STORE 2 +FLAGS (\\Answered)");
    b.cmd("b3 STORE 3,5 +FLAGS (\\Deleted)");
    b.cmd("b4 EXPUNGE");
    b.cmd_literal("b5 APPEND box", &message("m7", "body 7"), "");
    b.cmd("b6 LOGOUT");
    b.close();

    let mut a = env.client();
    a.cmd("c0 ENABLE QRESYNC");
    let r = a.cmd(&format!("c1 SELECT box (QRESYNC ({uv} {h0}))"));
    let h1 = number_after(&r, "[HIGHESTMODSEQ ");
    assert!(h1 > h0);
    let lines = untagged(&r);
    let after_flags: Vec<&String> = lines
        .iter()
        .skip_while(|l| !l.starts_with("* OK [HIGHESTMODSEQ"))
        .skip(1)
        .collect();
    assert_eq!(after_flags.len(), 3, "{r}");
    assert_eq!(after_flags[0], "* VANISHED (EARLIER) 3,5");
    assert!(
        after_flags[1].starts_with("* 2 FETCH (FLAGS (\\Answered) UID 2 MODSEQ ("),
        "{r}"
    );
    assert!(
        after_flags[2].starts_with("* 5 FETCH (FLAGS () UID 7 MODSEQ ("),
        "{r}"
    );
    assert_eq!(tagged_line(&r), "c1 OK [READ-WRITE] SELECT completed");

    // Known UIDs narrow both; [CLOSED] first, as a mailbox was selected.
    let r = a.cmd(&format!("c2 EXAMINE box (QRESYNC ({uv} {h0} 1:4))"));
    assert_eq!(untagged(&r)[0], "* OK [CLOSED] Previous mailbox closed");
    assert_lines(
        &r,
        &[
            "* VANISHED (EARLIER) 3",
            "* 2 FETCH (FLAGS (\\Answered) UID 2 MODSEQ (",
        ],
    );
    assert!(!r.contains("UID 7"), "{r}");
    // Up to date: nothing to say.
    let r = a.cmd(&format!("c3 SELECT box (QRESYNC ({uv} {h1}))"));
    assert!(!r.contains("VANISHED") && !r.contains("FETCH"), "{r}");
    // Another UIDVALIDITY: the client starts afresh, told nothing of the past.
    let r = a.cmd(&format!("c4 SELECT box (QRESYNC ({} {h0}))", uv + 1));
    assert!(!r.contains("VANISHED") && !r.contains("FETCH"), "{r}");

    // UID FETCH (CHANGEDSINCE n VANISHED): the same, within the UIDs named.
    let r = a.cmd(&format!(
        "c5 UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h0} VANISHED)"
    ));
    assert_lines(
        &r,
        &[
            "* VANISHED (EARLIER) 3,5",
            "* 2 FETCH (UID 2 FLAGS (\\Answered) MODSEQ (",
        ],
    );
    assert_eq!(fetched(&r).iter().map(|f| f.0).collect::<Vec<_>>(), [2, 7]);
    let r = a.cmd(&format!(
        "c6 UID FETCH 4:6 (FLAGS) (CHANGEDSINCE {h0} VANISHED)"
    ));
    assert_eq!(untagged(&r), ["* VANISHED (EARLIER) 5"]);
}

/// Once QRESYNC is on, expunges are VANISHED, by UID: this session's own (EXPUNGE,
/// UID EXPUNGE, MOVE) and another's.
#[test]
fn expunges_are_vanished_once_qresync_is_on() {
    let env = Env::new();
    let mut a = with_box(&env, 6);
    a.cmd("a0 ENABLE QRESYNC");
    a.cmd("a1 SELECT box");
    a.cmd("a2 STORE 2:4 +FLAGS.SILENT (\\Deleted)");
    let r = a.cmd("a3 UID EXPUNGE 3:4");
    assert_eq!(untagged(&r), ["* VANISHED 3:4", "* 4 RECENT"]);
    let r = a.cmd("a4 EXPUNGE");
    assert_eq!(untagged(&r), ["* VANISHED 2", "* 3 RECENT"]);
    a.cmd("a5 CREATE other");
    let r = a.cmd("a6 UID MOVE 6 other");
    assert_lines(&r, &["* OK [COPYUID ", "* VANISHED 6", "a6 OK"]);
    assert!(!r.contains("EXPUNGE"), "{r}");
    let mut b = env.client();
    b.cmd("b1 SELECT box");
    b.cmd("b2 STORE 1 +FLAGS.SILENT (\\Deleted)");
    b.cmd("b3 EXPUNGE");
    assert_eq!(untagged(&a.cmd("a7 NOOP")), ["* VANISHED 1", "* 1 RECENT"]);
    // Without QRESYNC, B was told EXPUNGE.
    a.cmd("a8 STORE 1 +FLAGS.SILENT (\\Deleted)");
    a.cmd("a9 EXPUNGE");
    assert_lines(&b.cmd("b4 NOOP"), &["* 1 EXPUNGE", "b4 OK"]);
}

/// Where the expunge history no longer reaches (here: the modseq record is gone,
/// so every message changed at a new modseq), VANISHED (EARLIER) is the superset
/// RFC 7162 §3.2.5.1 allows: every UID named that is not there, less those that
/// the sequence match data shows still in place.
#[test]
fn without_history_vanished_earlier_is_a_superset() {
    let env = Env::new();
    let mut a = with_box(&env, 6);
    a.cmd("a0 ENABLE QRESYNC");
    let r = a.cmd("a1 SELECT box");
    let uv = number_after(&r, "[UIDVALIDITY ");
    let h0 = number_after(&r, "[HIGHESTMODSEQ ");
    a.cmd("a2 STORE 1,4 +FLAGS.SILENT (\\Deleted)");
    a.cmd("a3 EXPUNGE");
    a.cmd("a4 LOGOUT");
    a.close();
    let state = env.home.join(".pullmail");
    for e in std::fs::read_dir(&state).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "modseq") {
            std::fs::remove_file(p).unwrap();
        }
    }
    let mut c = env.client();
    c.cmd("c0 ENABLE QRESYNC");
    let r = c.cmd(&format!("c1 EXAMINE box (QRESYNC ({uv} {h0} 1:8))"));
    let h1 = number_after(&r, "[HIGHESTMODSEQ ");
    assert!(h1 > h0, "a lost record never goes back: {r}");
    // 1 and 4 are not there: both named (7 and 8 were never given out); every
    // message is changed.
    assert!(r.contains("* VANISHED (EARLIER) 1,4\r\n"), "{r}");
    assert_eq!(
        fetched(&r).iter().map(|f| f.0).collect::<Vec<_>>(),
        [2, 3, 5, 6]
    );
    // The client had UIDs 2 and 3 as its messages 1 and 2, and they still are:
    // nothing below 3 can have gone since, so only 4 is named.
    let r = c.cmd(&format!(
        "c2 EXAMINE box (QRESYNC ({uv} {h0} 1:8 (1:2 2:3)))"
    ));
    assert!(r.contains("* VANISHED (EARLIER) 4\r\n"), "{r}");
    // Mismatched data is ignored.
    let r = c.cmd(&format!("c3 EXAMINE box (QRESYNC ({uv} {h0} 1:8 (1:2 5)))"));
    assert!(r.contains("* VANISHED (EARLIER) 1,4\r\n"), "{r}");
    // Once the new history has begun, it is exact again.
    let r = c.cmd(&format!("c4 EXAMINE box (QRESYNC ({uv} {h1}))"));
    assert!(!r.contains("VANISHED"), "{r}");
}

/// Modseqs survive the end of every session (a server restart: each connection is
/// a process) and the loss of the mailbox index, and never go back when the
/// modseq record itself is lost: then every message counts as changed once, above
/// any modseq given before, with UIDVALIDITY kept.
#[test]
fn modseqs_survive_restarts_and_never_go_back() {
    let env = Env::new();
    let mut a = with_box(&env, 3);
    a.cmd("a1 SELECT box (CONDSTORE)");
    a.cmd("a2 STORE 2 +FLAGS.SILENT (\\Answered)");
    let before = a.cmd("a3 FETCH 1:* (UID MODSEQ)");
    let r = a.cmd("a4 STATUS box (UIDVALIDITY HIGHESTMODSEQ)");
    let (uv, highest) = (
        number_after(&r, "UIDVALIDITY "),
        number_after(&r, "HIGHESTMODSEQ "),
    );
    a.cmd("a5 LOGOUT");
    a.close();
    let state = env.home.join(".pullmail");
    let remove = |ext: &str| {
        for e in std::fs::read_dir(&state).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == ext) {
                std::fs::remove_file(p).unwrap();
            }
        }
    };
    for lose_index in [false, true] {
        if lose_index {
            remove("index");
        }
        let mut b = env.client();
        b.cmd("b1 SELECT box (CONDSTORE)");
        assert_eq!(
            fetched(&b.cmd("b2 FETCH 1:* (UID MODSEQ)")),
            fetched(&before)
        );
        let r = b.cmd("b3 STATUS box (UIDVALIDITY HIGHESTMODSEQ)");
        assert_eq!(number_after(&r, "HIGHESTMODSEQ "), highest);
        b.cmd("b4 LOGOUT");
        b.close();
    }
    remove("modseq");
    let mut c = env.client();
    let r = c.cmd("c1 SELECT box (CONDSTORE)");
    assert_eq!(number_after(&r, "[UIDVALIDITY "), uv);
    let fresh = number_after(&r, "[HIGHESTMODSEQ ");
    assert!(fresh > highest, "{fresh} > {highest}");
    let now = fetched(&c.cmd("c2 FETCH 1:* (UID MODSEQ)"));
    assert!(now.iter().all(|&(_, m)| m == fresh), "{now:?}");
    let r = c.cmd(&format!("c3 FETCH 1:* (FLAGS) (CHANGEDSINCE {highest})"));
    assert_eq!(untagged(&r).len(), 3, "everything changed since: {r}");
}

/// imaptest stress (CONDSTORE on): a STORE's write-back merged a keyword another
/// session had just defined on the same message, and the STORE's FETCH answer
/// showed it before any FLAGS response had named it.
#[test]
fn a_keyword_merged_by_the_store_write_back_is_announced_before_use() {
    let env = Env::new();
    let mut a = with_box(&env, 2);
    a.cmd("a1 SELECT box (CONDSTORE)");
    let mut b = env.client();
    b.cmd("b1 SELECT box");
    let r = b.cmd("b2 STORE 1 +FLAGS ($Label4)");
    assert_lines(&r, &["* 1 FETCH", "b2 OK"]);
    let r = a.cmd("a2 STORE 1 +FLAGS (\\Seen)");
    let lines = untagged(&r);
    let used = lines
        .iter()
        .position(|l| l.contains(" FETCH (") && l.contains("$Label4"));
    let named = lines
        .iter()
        .position(|l| l.starts_with("* FLAGS (") && l.contains("$Label4"));
    let used = used.unwrap_or_else(|| panic!("the merged keyword is shown: {r}"));
    assert!(named.is_some_and(|n| n < used), "{r}");
    assert!(tagged_line(&r).starts_with("a2 OK"), "{r}");
}
