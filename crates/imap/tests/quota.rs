//! QUOTA (RFC 9208) over the in-memory host, whose stand-in quota applies to
//! every filesystem: the roots and numbers GETQUOTAROOT and GETQUOTA report,
//! SETQUOTA refused, and APPEND, MULTIAPPEND, COPY and MOVE that would go past
//! the limit refused with NO [OVERQUOTA] before anything is written. The kernel's
//! own quotas, on a loop-mounted ext4 image, are in bin/imapd/tests/quota.rs.

mod support;

use daemon::quota::Quota;
use support::{assert_lines, message, tagged_line, Env, Options};

fn quota(used_kib: u64, soft_kib: u64, hard_kib: u64) -> Quota {
    Quota {
        device: 0,
        space: used_kib * 1024,
        hard_kib,
        soft_kib,
        grace_ends: 0,
        files: 10,
        files_hard: 0,
        files_soft: 0,
    }
}

fn client(env: &Env, q: Option<Quota>) -> support::Client {
    env.client_with(Options {
        quota: q,
        ..Options::default()
    })
}

#[test]
fn no_quota_no_roots() {
    let env = Env::new();
    let mut c = client(&env, None);
    let r = c.cmd("q1 GETQUOTAROOT INBOX");
    assert_eq!(
        r,
        "* QUOTAROOT \"INBOX\"\r\nq1 OK GETQUOTAROOT completed\r\n"
    );
    let r = c.cmd("q2 GETQUOTA \"home\"");
    assert!(r.starts_with("q2 NO [NONEXISTENT]"), "{r}");
    assert!(!r.contains("* QUOTA"), "{r}");
}

#[test]
fn getquotaroot_and_getquota_report_storage_in_kib() {
    let env = Env::new();
    let mut c = client(&env, Some(quota(90, 100, 120)));
    c.cmd("c1 CREATE box");
    // One filesystem holds both INBOX and the home: one root.
    assert_lines(
        &c.cmd("q1 GETQUOTAROOT INBOX"),
        &[
            "* QUOTAROOT \"INBOX\" \"home\"",
            "* QUOTA \"home\" (STORAGE 90 120)",
            "q1 OK GETQUOTAROOT completed",
        ],
    );
    assert_lines(
        &c.cmd("q2 GETQUOTAROOT box"),
        &[
            "* QUOTAROOT \"box\" \"home\"",
            "* QUOTA \"home\" (STORAGE 90 120)",
            "q2 OK",
        ],
    );
    assert_lines(
        &c.cmd("q3 GETQUOTA home"),
        &["* QUOTA \"home\" (STORAGE 90 120)", "q3 OK"],
    );
    let r = c.cmd("q4 GETQUOTAROOT nosuchbox");
    assert!(tagged_line(&r).starts_with("q4 NO"), "{r}");
    let r = c.cmd("q5 SETQUOTA home (STORAGE 99999)");
    assert!(r.starts_with("q5 NO [NOPERM]"), "{r}");
    let r = c.cmd("q6 SETQUOTA home ()");
    assert!(r.starts_with("q6 NO [NOPERM]"), "{r}");
    let r = c.cmd("q7 SETQUOTA home (STORAGE)");
    assert!(r.starts_with("q7 BAD"), "{r}");
    // Without a hard limit, the soft one is where writes stop.
    let mut c = client(&env, Some(quota(3, 50, 0)));
    assert_lines(
        &c.cmd("q8 GETQUOTA home"),
        &["* QUOTA \"home\" (STORAGE 3 50)", "q8 OK"],
    );
}

#[test]
fn writes_past_the_quota_are_refused_and_change_nothing() {
    let env = Env::new();
    // 8 KiB left below the hard limit.
    let mut c = client(&env, Some(quota(112, 100, 120)));
    c.cmd("c1 CREATE box");
    let small = message("small", "fits");
    let r = c.cmd_literal("a1 APPEND box", &small, "");
    assert!(tagged_line(&r).starts_with("a1 OK"), "{r}");
    let before_box = std::fs::read(env.mail("box")).unwrap();
    let before_inbox = std::fs::read(&env.inbox).unwrap();

    let big = message("big", &"x".repeat(10_000));
    let r = c.cmd_literal("a2 APPEND box", &big, "");
    assert!(
        r.starts_with("a2 NO [OVERQUOTA]"),
        "refused before the literal: {r}"
    );
    // MULTIAPPEND: all or nothing, the small one is not stored either.
    let mut multi = format!("a3 APPEND box {{{}+}}\r\n", small.len()).into_bytes();
    multi.extend_from_slice(&small);
    multi.extend_from_slice(format!(" {{{}+}}\r\n", big.len()).as_bytes());
    multi.extend_from_slice(&big);
    multi.extend_from_slice(b"\r\n");
    let r = c.cmd_bytes("a3", &multi);
    assert!(r.starts_with("a3 NO [OVERQUOTA]"), "{r}");
    assert_eq!(
        std::fs::read(env.mail("box")).unwrap(),
        before_box,
        "box unchanged"
    );

    // COPY and MOVE of the big message from INBOX (delivered before the quota
    // mattered): refused, both mailboxes as they were.
    drop(c);
    let mut c = client(&env, None);
    let r = c.cmd_literal("a4 APPEND INBOX", &big, "");
    assert!(tagged_line(&r).starts_with("a4 OK"), "{r}");
    drop(c);
    let before_inbox_big = std::fs::read(&env.inbox).unwrap();
    assert_ne!(before_inbox_big, before_inbox);
    let mut c = client(&env, Some(quota(112, 100, 120)));
    assert_lines(&c.cmd("s1 SELECT INBOX"), &["* 1 EXISTS", "s1 OK"]);
    let r = c.cmd("c2 COPY 1 box");
    assert!(r.starts_with("c2 NO [OVERQUOTA]"), "{r}");
    let r = c.cmd("m1 MOVE 1 box");
    assert!(r.starts_with("m1 NO [OVERQUOTA]"), "{r}");
    assert_lines(&c.cmd("n1 NOOP"), &["n1 OK"]);
    assert_eq!(
        std::fs::read(env.mail("box")).unwrap(),
        before_box,
        "box unchanged"
    );
    assert_lines(
        &c.cmd("s2 STATUS box (MESSAGES)"),
        &["* STATUS \"box\" (MESSAGES 1)", "s2 OK"],
    );
    c.cmd("z1 CLOSE");
    assert_eq!(
        std::fs::read(&env.inbox).unwrap(),
        before_inbox_big,
        "INBOX unchanged"
    );

    // Past the soft limit with the grace time over: refused too.
    let mut q = quota(101, 100, 0);
    q.grace_ends = 1;
    let mut c = client(&env, Some(q));
    let r = c.cmd_literal("a5 APPEND box", &small, "");
    assert!(r.starts_with("a5 NO [OVERQUOTA]"), "{r}");
    // Within the grace time: allowed.
    q.grace_ends = u64::MAX;
    let mut c = client(&env, Some(q));
    let r = c.cmd_literal("a6 APPEND box", &small, "");
    assert!(tagged_line(&r).starts_with("a6 OK"), "{r}");
}
