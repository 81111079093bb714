//! Search contexts (RFC 5267 §4, CONTEXT=SEARCH) through whole sessions:
//! `SEARCH RETURN (UPDATE)` kept current with ADDTO and REMOVEFROM as this
//! session, another session and the MTA change the mailbox; CANCELUPDATE; the
//! bound on live contexts (NOUPDATE); imaptest's search-context-update groups.

mod support;

use support::{assert_lines, deliver, message, Client, Env};

/// A session with `box` selected, holding `n` messages `m1`..`mn`.
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
    assert_lines(&c.cmd("s1 SELECT box"), &["s1 OK [READ-WRITE]"]);
    c
}

/// The answer's lines, without the tagged one.
fn untagged(r: &str) -> Vec<&str> {
    r.split("\r\n").filter(|l| l.starts_with("* ")).collect()
}

/// imaptest's search-context-update: UPDATE alone answers an empty ESEARCH;
/// flag changes of this session add and remove; an expunged match is removed
/// before its EXPUNGE, in the numbering of then; an APPEND adds; after
/// CANCELUPDATE nothing more comes.
#[test]
fn updates_follow_this_sessions_changes() {
    let env = Env::new();
    let mut c = with_box(&env, 5);
    assert_eq!(
        c.cmd("a1 SEARCH RETURN (UPDATE) BODY body SEEN"),
        "* ESEARCH (TAG \"a1\")\r\na1 OK SEARCH completed\r\n"
    );
    assert_eq!(
        untagged(&c.cmd("a2 STORE 1,2,4 +FLAGS.SILENT (\\Seen)")),
        ["* ESEARCH (TAG \"a1\") ADDTO (0 1:2,4)"]
    );
    assert_eq!(
        untagged(&c.cmd("a3 STORE 1,2 -FLAGS.SILENT (\\Seen)")),
        ["* ESEARCH (TAG \"a1\") REMOVEFROM (0 1:2)"]
    );
    c.cmd("a4 STORE 3:5 +FLAGS.SILENT (\\Deleted)");
    assert_eq!(
        untagged(&c.cmd("a5 EXPUNGE")),
        [
            "* 3 EXPUNGE",
            "* ESEARCH (TAG \"a1\") REMOVEFROM (0 3)",
            "* 3 EXPUNGE",
            "* 3 EXPUNGE",
            "* 2 RECENT"
        ]
    );
    // The search of text after the command must not keep a read lock: this
    // APPEND waited for it forever.
    let r = c.cmd_literal("a6 APPEND box (\\Seen)", &message("m6", "body 6"), "");
    assert_eq!(
        untagged(&r),
        [
            "* 3 EXISTS",
            "* 3 RECENT",
            "* ESEARCH (TAG \"a1\") ADDTO (0 3)"
        ],
        "{r}"
    );
    assert_eq!(
        c.cmd("a7 CANCELUPDATE \"a1\""),
        "a7 OK CANCELUPDATE completed\r\n"
    );
    assert_eq!(
        c.cmd("a8 STORE 1 +FLAGS.SILENT (\\Seen)"),
        "a8 OK STORE completed\r\n"
    );
}

/// imaptest's search-context-update2 and 3: UPDATE with ALL, in both
/// numberings; an expunge renumbers what later updates name.
#[test]
fn update_all_in_both_numberings() {
    let env = Env::new();
    let mut c = with_box(&env, 6);
    c.cmd("b1 STORE 1 +FLAGS.SILENT (\\Deleted)");
    c.cmd("b2 EXPUNGE");
    // Messages 1:5 now have UIDs 2:6.
    c.cmd("b3 STORE 1,2 +FLAGS.SILENT (\\Seen)");
    assert_lines(
        &c.cmd("b4 UID SEARCH RETURN (UPDATE ALL) OR SEEN SUBJECT s33"),
        &["* ESEARCH (TAG \"b4\") UID ALL 2:3", "b4 OK"],
    );
    assert_lines(
        &c.cmd("b5 SEARCH RETURN (ALL UPDATE) SEEN"),
        &["* ESEARCH (TAG \"b5\") ALL 1:2", "b5 OK"],
    );
    assert_eq!(
        untagged(&c.cmd("b6 STORE 3:5 +FLAGS.SILENT (\\Seen)")),
        [
            "* ESEARCH (TAG \"b4\") UID ADDTO (0 4:6)",
            "* ESEARCH (TAG \"b5\") ADDTO (0 3:5)"
        ]
    );
    assert_eq!(
        untagged(&c.cmd("b7 STORE 1:5 -FLAGS.SILENT (\\Seen)")),
        [
            "* ESEARCH (TAG \"b4\") UID REMOVEFROM (0 2:6)",
            "* ESEARCH (TAG \"b5\") REMOVEFROM (0 1:5)"
        ]
    );
    c.cmd("b8 UID STORE 4,5 +FLAGS.SILENT (\\Seen)");
    c.cmd("b9 STORE 3 +FLAGS.SILENT (\\Deleted)");
    // Message 3 (UID 4) goes; message 4 (UID 5) is 3 afterwards.
    assert_eq!(
        untagged(&c.cmd("c1 EXPUNGE")),
        [
            "* ESEARCH (TAG \"b4\") UID REMOVEFROM (0 4)",
            "* ESEARCH (TAG \"b5\") REMOVEFROM (0 3)",
            "* 3 EXPUNGE",
            "* 4 RECENT"
        ]
    );
    assert_eq!(
        untagged(&c.cmd("c2 STORE 3 -FLAGS.SILENT (\\Seen)")),
        [
            "* ESEARCH (TAG \"b4\") UID REMOVEFROM (0 5)",
            "* ESEARCH (TAG \"b5\") REMOVEFROM (0 3)"
        ]
    );
    // CANCELUPDATE of several tags at once.
    assert_lines(&c.cmd("c3 CANCELUPDATE \"b4\" \"b5\""), &["c3 OK"]);
    assert_eq!(
        c.cmd("c4 STORE 1:* +FLAGS.SILENT (\\Seen)"),
        "c4 OK STORE completed\r\n"
    );
}

/// Changes by another session and by the MTA reach the context at this
/// session's next command (here NOOP).
#[test]
fn updates_follow_other_sessions_and_the_mta() {
    let env = Env::new();
    let mut a = env.client();
    assert_lines(&a.cmd("a1 SELECT INBOX"), &["a1 OK"]);
    assert_lines(
        &a.cmd("a2 SEARCH RETURN (UPDATE COUNT) UNSEEN"),
        &[
            "* NO [NOUPDATE \"a2\"] Only ALL",
            "* ESEARCH (TAG \"a2\") COUNT 0",
            "a2 OK",
        ],
    );
    assert_eq!(
        a.cmd("a3 SEARCH RETURN (UPDATE) UNSEEN"),
        "* ESEARCH (TAG \"a3\")\r\na3 OK SEARCH completed\r\n"
    );
    deliver(&env.inbox, 1, 2, "mbox");
    let r = a.cmd("a4 NOOP");
    assert_lines(
        &r,
        &[
            "* 2 EXISTS",
            "* ESEARCH (TAG \"a3\") ADDTO (0 1:2)",
            "a4 OK",
        ],
    );
    let mut b = env.client();
    assert_lines(&b.cmd("b1 SELECT INBOX"), &["b1 OK"]);
    b.cmd("b2 STORE 2 +FLAGS.SILENT (\\Seen)");
    b.cmd("b3 UNSELECT");
    assert_lines(
        &a.cmd("a5 NOOP"),
        &[
            "* 2 FETCH (FLAGS (\\Recent \\Seen))",
            "* ESEARCH (TAG \"a3\") REMOVEFROM (0 2)",
            "a5 OK",
        ],
    );
    // Another session's expunge of a match: removed before the EXPUNGE.
    assert_lines(&b.cmd("b4 SELECT INBOX"), &["b4 OK"]);
    b.cmd("b5 STORE 1 +FLAGS.SILENT (\\Deleted)");
    b.cmd("b6 EXPUNGE");
    b.cmd("b7 UNSELECT");
    assert_eq!(
        untagged(&a.cmd("a6 NOOP")),
        [
            "* ESEARCH (TAG \"a3\") REMOVEFROM (0 1)",
            "* 1 EXPUNGE",
            "* 1 RECENT"
        ]
    );
}

/// At most five live contexts; a new SEARCH with a live tag replaces its
/// context; SELECT ends them all; errors of CANCELUPDATE.
#[test]
fn contexts_are_bounded_and_cancelled() {
    let env = Env::new();
    let mut c = with_box(&env, 2);
    for i in 1..=5 {
        assert_lines(
            &c.cmd(&format!("t{i} SEARCH RETURN (UPDATE) SEEN")),
            &[&format!("* ESEARCH (TAG \"t{i}\")"), &format!("t{i} OK")],
        );
    }
    assert_lines(
        &c.cmd("t6 SEARCH RETURN (UPDATE ALL) ALL"),
        &[
            "* NO [NOUPDATE \"t6\"] Too many",
            "* ESEARCH (TAG \"t6\") ALL 1:2",
            "t6 OK",
        ],
    );
    // The same tag again: still five contexts, and one update per tag.
    assert_lines(&c.cmd("t5 SEARCH RETURN (UPDATE) DELETED"), &["t5 OK"]);
    let r = c.cmd("u1 STORE 1 +FLAGS.SILENT (\\Seen \\Deleted)");
    assert_eq!(untagged(&r).len(), 5, "{r}");
    assert_lines(&r, &["* ESEARCH (TAG \"t1\") ADDTO (0 1)"]);
    // An unknown tag cancels nothing.
    assert_lines(&c.cmd("u2 CANCELUPDATE \"t1\" \"nope\""), &["u2 BAD"]);
    assert_lines(&c.cmd("u3 CANCELUPDATE"), &["u3 BAD"]);
    assert_lines(&c.cmd("u4 CANCELUPDATE t1"), &["u4 BAD"]);
    assert_lines(
        &c.cmd("u5 STORE 2 +FLAGS.SILENT (\\Seen)"),
        &["* ESEARCH (TAG \"t1\") ADDTO (0 2)"],
    );
    // SELECT ends every context.
    c.cmd("u6 SELECT box");
    assert_eq!(
        c.cmd("u7 STORE 1:2 -FLAGS.SILENT (\\Seen)"),
        "u7 OK STORE completed\r\n"
    );
    assert_lines(&c.cmd("u8 CANCELUPDATE \"t1\""), &["u8 BAD"]);
    c.cmd("u9 UNSELECT");
    assert_lines(&c.cmd("v1 CANCELUPDATE \"t1\""), &["v1 BAD"]);
}

/// Sort contexts (CONTEXT=SORT): positions are places in the sorted result;
/// REMOVEFROM where the messages were (earlier removals of the update applied),
/// ADDTO where they are now; runs of neighbours go together.
#[test]
fn sort_contexts_place_their_changes() {
    let env = Env::new();
    let mut c = with_box(&env, 5);
    assert_lines(
        &c.cmd("s2 SORT RETURN (UPDATE ALL) (REVERSE SUBJECT) US-ASCII UNSEEN"),
        &[
            "* ESEARCH (TAG \"s2\") ALL 5,4,3,2,1",
            "s2 OK SORT completed",
        ],
    );
    assert_eq!(
        untagged(&c.cmd("s3 STORE 2,4 +FLAGS.SILENT (\\Seen)")),
        ["* ESEARCH (TAG \"s2\") REMOVEFROM (2 4 3 2)"]
    );
    assert_eq!(
        untagged(&c.cmd("s4 STORE 2,4 -FLAGS.SILENT (\\Seen)")),
        ["* ESEARCH (TAG \"s2\") ADDTO (2 4 4 2)"]
    );
    let r = c.cmd_literal("s5 APPEND box", &message("m35", "body"), "");
    assert_lines(
        &r,
        &["* 6 EXISTS", "* ESEARCH (TAG \"s2\") ADDTO (3 6)", "s5 OK"],
    );
    c.cmd("s6 STORE 1,3 +FLAGS.SILENT (\\Seen)");
    c.cmd("s7 STORE 5 +FLAGS.SILENT (\\Deleted)");
    let r = c.cmd("s8 EXPUNGE");
    assert_lines(
        &r,
        &[
            "* ESEARCH (TAG \"s2\") REMOVEFROM (1 5)",
            "* 5 EXPUNGE",
            "s8 OK",
        ],
    );
    // The UID form: messages 1 and 3 are seen; 2 joins them in second place.
    assert_eq!(
        c.cmd("s9 UID SORT RETURN (UPDATE) (SUBJECT) US-ASCII SEEN"),
        "* ESEARCH (TAG \"s9\") UID\r\ns9 OK UID SORT completed\r\n"
    );
    let r = c.cmd("t1 STORE 1:2 +FLAGS.SILENT (\\Seen)");
    assert_lines(&r, &["* ESEARCH (TAG \"s9\") UID ADDTO (2 2)"]);
    // PARTIAL with UPDATE is answered once.
    assert_lines(
        &c.cmd("t2 SORT RETURN (UPDATE PARTIAL 1:2) (ARRIVAL) US-ASCII ALL"),
        &[
            "* NO [NOUPDATE \"t2\"]",
            "* ESEARCH (TAG \"t2\") PARTIAL (1:2 1:2)",
            "t2 OK",
        ],
    );
}
