//! NOTIFY (RFC 5465) in memory: the command's grammar and refusals (BAD for the
//! rules of §5 and §6.1, NO [BADEVENT] for events not supported, STATUS lines of
//! `SET STATUS`), and, with a second session making the changes, each event kind
//! reaching the notified session between commands and in IDLE without a command
//! from it: MessageNew (with its FETCH), MessageExpunge and FlagChange for the
//! selected mailbox (SELECTED, SELECTED-DELAYED) and as STATUS for others,
//! MailboxName (create, rename with OLDNAME, delete), SubscriptionChange, with
//! inotify and with the poll fallback, and NOTIFICATIONOVERFLOW at the bound.

mod support;

use std::time::Duration;

use imap::settings::Settings;
use support::{assert_lines, deliver, message, Client, Env, Options};

/// How soon a notification must arrive.
const PUSH: Duration = Duration::from_secs(3);
/// How long to wait to be sure that nothing arrives.
const QUIET: Duration = Duration::from_millis(1500);

#[track_caller]
fn pushed(c: &mut Client, pred: impl Fn(&str) -> bool, what: &str) -> String {
    match c.lines_until(PUSH, pred) {
        Some(text) => text,
        None => panic!("no {what} within {PUSH:?}"),
    }
}

#[track_caller]
fn nothing_pushed(c: &mut Client, pred: impl Fn(&str) -> bool, what: &str) {
    if let Some(text) = c.lines_until(QUIET, pred) {
        panic!("{what} pushed, but should not be:\n{text}");
    }
}

fn client(env: &Env, inotify: bool) -> Client {
    env.client_with(Options {
        settings: Settings {
            idle_inotify: inotify,
            ..Settings::default()
        },
        ..Options::default()
    })
}

#[test]
fn notify_grammar_and_refusals() {
    let env = Env::new();
    let mut c = env.login_client();
    assert_lines(
        &c.cmd("a0 NOTIFY NONE"),
        &["a0 BAD NOTIFY not allowed now: log in first"],
    );
    c.cmd(&format!("a1 LOGIN {} {}", support::USER, support::PASSWORD));
    c.cmd("a2 CREATE box");
    c.cmd_literal("a2 APPEND box", &message("one", "x"), "");
    for (line, answer) in [
        ("b1 NOTIFY", "b1 BAD"),
        ("b2 NOTIFY SET", "b2 BAD"),
        ("b3 NOTIFY SET (personal MailboxName)", "b3 BAD"),
        ("b4 NOTIFY SET (elsewhere (MailboxName))", "b4 BAD"),
        ("b5 NOTIFY SET (selected (MessageNew))", "b5 BAD NOTIFY: MessageNew and MessageExpunge go together"),
        ("b6 NOTIFY SET (selected (MessageExpunge))", "b6 BAD NOTIFY: MessageNew and MessageExpunge go together"),
        ("b7 NOTIFY SET (selected (FlagChange))", "b7 BAD NOTIFY: FlagChange needs MessageNew and MessageExpunge"),
        ("b8 NOTIFY SET (selected (MessageNew MessageExpunge MailboxName))", "b8 BAD NOTIFY: SELECTED and SELECTED-DELAYED take message events only"),
        (
            "b9 NOTIFY SET (selected (MessageNew MessageExpunge)) (selected-delayed (MessageNew MessageExpunge))",
            "b9 BAD NOTIFY: only one of SELECTED and SELECTED-DELAYED may be given",
        ),
        ("c1 NOTIFY SET (personal (MessageNew (UID) MessageExpunge))", "c1 BAD NOTIFY: fetch attributes only for SELECTED"),
        (
            "c2 NOTIFY SET (personal (AnnotationChange))",
            "c2 NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)]",
        ),
        ("c3 NOTIFY SET (selected (MessageNew MessageExpunge AnnotationChange))", "c3 NO [BADEVENT ("),
        ("c4 NOTIFY SET (inboxes (MailboxMetadataChange))", "c4 NO [BADEVENT ("),
        ("c5 NOTIFY SET (personal (ServerMetadataChange))", "c5 NO [BADEVENT ("),
        ("c6 NOTIFY SET (subscribed (SomethingNew))", "c6 NO [BADEVENT ("),
        // Case does not matter; NONE events and a mailbox list are fine.
        ("c7 notify set (SELECTED-delayed (messagenew messageexpunge)) (subtree (a b) none)", "c7 OK"),
        ("c8 NOTIFY NONE", "c8 OK"),
    ] {
        let r = c.cmd(line);
        assert_lines(&r, &[answer]);
        assert!(!r.contains("* STATUS"), "{r}");
    }
    // STATUS: a line per mailbox with message events, with what each event needs;
    // a name that does not exist is ignored (§3.1).
    let r = c.cmd("d1 NOTIFY SET STATUS (mailboxes (box nosuch) (MessageNew MessageExpunge))");
    assert_lines(
        &r,
        &[
            "* STATUS \"box\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ",
            "d1 OK",
        ],
    );
    assert!(!r.contains("nosuch"), "{r}");
    let r = c.cmd("d2 NOTIFY SET STATUS (mailboxes box (MessageExpunge))");
    assert_lines(&r, &["* STATUS \"box\" (MESSAGES 1)", "d2 OK"]);
    let r = c.cmd("d3 NOTIFY SET STATUS (mailboxes box (FlagChange))");
    assert_lines(&r, &["* STATUS \"box\" (UIDVALIDITY ", "d3 OK"]);
    assert!(r.contains(" UNSEEN 1 HIGHESTMODSEQ "), "{r}");
    // Without STATUS, none; the selected mailbox gets none either way.
    let r = c.cmd("d4 NOTIFY SET (mailboxes box (MessageNew MessageExpunge))");
    assert!(!r.contains("* STATUS"), "{r}");
    c.cmd("d5 SELECT box");
    let r = c.cmd("d6 NOTIFY SET STATUS (personal (MessageNew MessageExpunge))");
    assert!(!r.contains("* STATUS \"box\""), "{r}");
    assert_lines(&r, &["* STATUS \"INBOX\" (MESSAGES 0 UIDNEXT 1 ", "d6 OK"]);
}

#[test]
fn selected_mailbox_events_arrive_between_commands() {
    selected_mailbox_events(true);
}

#[test]
fn selected_mailbox_events_arrive_without_inotify() {
    selected_mailbox_events(false);
}

fn selected_mailbox_events(inotify: bool) {
    let env = Env::new();
    let mut a = client(&env, inotify);
    for i in 1..=2 {
        a.cmd_literal(
            &format!("a0{i} APPEND INBOX"),
            &message(&format!("m{i}"), "x"),
            "",
        );
    }
    a.cmd("a1 SELECT INBOX");
    assert_lines(
        &a.cmd("a2 NOTIFY SET (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge FlagChange))"),
        &["a2 OK"],
    );
    let mut b = env.client();
    b.cmd("b1 SELECT INBOX");

    // A new message: EXISTS, then the FETCH asked for (§5.2), with no command from A.
    b.cmd_literal("b2 APPEND INBOX", &message("late", "y"), "");
    pushed(&mut a, |l| l == "* 3 EXISTS", "EXISTS");
    let fetch = pushed(&mut a, |l| l == ")", "the FETCH of the new message");
    assert!(
        fetch.starts_with("* 3 FETCH (UID 3 BODY[HEADER.FIELDS (SUBJECT)] {"),
        "{fetch}"
    );
    assert!(fetch.contains("Subject: late\r\n"), "{fetch}");
    // A flag change: FETCH with UID and FLAGS (§5.1).
    b.cmd("b3 STORE 1 +FLAGS (\\Flagged)");
    let line = pushed(
        &mut a,
        |l| l.starts_with("* 1 FETCH (FLAGS ("),
        "FETCH FLAGS",
    );
    assert!(
        line.contains("\\Flagged") && line.contains("UID 1)"),
        "{line}"
    );
    // An expunge, at once (SELECTED).
    b.cmd("b4 STORE 2 +FLAGS.SILENT (\\Deleted)");
    b.cmd("b5 EXPUNGE");
    pushed(&mut a, |l| l == "* 2 EXPUNGE", "EXPUNGE");
    // A delivery by the MTA.
    deliver(&env.inbox, 10, 1, "mbox");
    pushed(&mut a, |l| l == "* 3 EXISTS", "EXISTS of a delivery");
    pushed(
        &mut a,
        |l| l.starts_with("* 3 FETCH (UID 4 BODY[HEADER.FIELDS (SUBJECT)] {"),
        "its FETCH",
    );
    pushed(&mut a, |l| l == ")", "the end of its FETCH");
    // A's own APPEND is not fetched back to it (§5.2 SHOULD NOT).
    let r = a.cmd_literal("a3 APPEND INBOX", &message("own", "z"), "");
    assert_lines(&r, &["* 4 EXISTS", "a3 OK"]);
    assert!(!r.contains("FETCH"), "{r}");
    nothing_pushed(
        &mut a,
        |l| l.contains("FETCH"),
        "a FETCH of A's own message",
    );
    // Still in step.
    assert_lines(
        &a.cmd("a4 UID FETCH 1:* (UID)"),
        &["* 1 FETCH", "* 2 FETCH", "* 3 FETCH", "* 4 FETCH", "a4 OK"],
    );
}

#[test]
fn selected_delayed_holds_expunges_for_a_command_that_may_report_them() {
    let env = Env::new();
    let mut a = env.client();
    for i in 1..=2 {
        a.cmd_literal(
            &format!("a0{i} APPEND INBOX"),
            &message(&format!("m{i}"), "x"),
            "",
        );
    }
    a.cmd("a1 SELECT INBOX");
    a.cmd("a2 NOTIFY SET (selected-delayed (MessageNew MessageExpunge))");
    let mut b = env.client();
    b.cmd("b1 SELECT INBOX");
    b.cmd("b2 STORE 1 +FLAGS.SILENT (\\Deleted)");
    b.cmd("b3 EXPUNGE");
    nothing_pushed(
        &mut a,
        |l| l.contains("EXPUNGE"),
        "an EXPUNGE under SELECTED-DELAYED",
    );
    // Flag changes were not asked for.
    b.cmd("b4 STORE 1 +FLAGS (\\Flagged)");
    nothing_pushed(
        &mut a,
        |l| l.contains("FETCH"),
        "a flag change without FlagChange",
    );
    // Arrivals may come at once (§6.1.2); the expunge waits for NOOP.
    b.cmd_literal("b5 APPEND INBOX", &message("late", "y"), "");
    pushed(&mut a, |l| l == "* 3 EXISTS", "EXISTS");
    assert_lines(&a.cmd("a3 NOOP"), &["* 1 EXPUNGE", "a3 OK"]);
    // A FETCH by sequence number still means what A thinks it means.
    assert_lines(&a.cmd("a4 FETCH 2 (UID)"), &["* 2 FETCH (UID 3)", "a4 OK"]);
}

#[test]
fn other_mailboxes_are_told_by_status() {
    other_mailboxes(true);
}

#[test]
fn other_mailboxes_are_told_by_status_without_inotify() {
    other_mailboxes(false);
}

fn other_mailboxes(inotify: bool) {
    let env = Env::new();
    let mut a = client(&env, inotify);
    a.cmd("a0 CREATE box");
    a.cmd_literal("a0 APPEND box", &message("one", "x"), "");
    a.cmd("a1 SELECT INBOX");
    let r = a.cmd("a2 NOTIFY SET STATUS (personal (MessageNew MessageExpunge FlagChange))");
    assert_lines(
        &r,
        &[
            "* STATUS \"box\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ",
            "a2 OK",
        ],
    );
    assert!(r.contains(" UNSEEN 1 HIGHESTMODSEQ "), "{r}");
    assert!(
        !r.contains("STATUS \"INBOX\""),
        "the selected mailbox has SELECTED: {r}"
    );
    let mut b = env.client();
    b.cmd_literal("b1 APPEND box", &message("two", "y"), "");
    pushed(
        &mut a,
        |l| l == "* STATUS \"box\" (MESSAGES 2 UIDNEXT 3 UNSEEN 2)",
        "STATUS of an arrival",
    );
    b.cmd("b2 SELECT box");
    b.cmd("b3 STORE 1 +FLAGS (\\Seen)");
    pushed(
        &mut a,
        |l| l == "* STATUS \"box\" (UNSEEN 1)",
        "STATUS of a flag change",
    );
    b.cmd("b4 STORE 2 +FLAGS.SILENT (\\Deleted)");
    b.cmd("b5 EXPUNGE");
    pushed(
        &mut a,
        |l| l == "* STATUS \"box\" (MESSAGES 1 UIDNEXT 3 UNSEEN 0)",
        "STATUS of an expunge",
    );
    // The selected mailbox is not told of by STATUS, nor, without a SELECTED
    // group, at all between commands.
    b.cmd_literal("b6 APPEND INBOX", &message("in", "z"), "");
    nothing_pushed(
        &mut a,
        |l| l.contains("INBOX") || l.contains("EXISTS"),
        "news of the selected mailbox",
    );
    assert_lines(&a.cmd("a3 NOOP"), &["* 1 EXISTS", "a3 OK"]);
    // A's own APPEND to box is not told back.
    let r = a.cmd_literal("a4 APPEND box", &message("own", "z"), "");
    assert!(!r.contains("STATUS"), "{r}");
    nothing_pushed(
        &mut a,
        |l| l.starts_with("* STATUS"),
        "STATUS of A's own APPEND",
    );
    // Once A selects box, INBOX is the other mailbox.
    a.cmd("a5 SELECT box");
    deliver(&env.inbox, 10, 1, "mbox");
    pushed(
        &mut a,
        |l| l.starts_with("* STATUS \"INBOX\" (MESSAGES 2 UIDNEXT 3"),
        "STATUS of a delivery to INBOX",
    );
    // NOTIFY NONE: nothing more.
    a.cmd("a6 NOTIFY NONE");
    deliver(&env.inbox, 11, 1, "mbox");
    nothing_pushed(
        &mut a,
        |l| l.starts_with("* STATUS"),
        "STATUS after NOTIFY NONE",
    );
}

#[test]
fn mailbox_names_and_subscriptions_are_told_by_list() {
    names_and_subscriptions(true);
}

#[test]
fn mailbox_names_and_subscriptions_are_told_without_inotify() {
    names_and_subscriptions(false);
}

fn names_and_subscriptions(inotify: bool) {
    let env = Env::new();
    let mut a = client(&env, inotify);
    a.cmd("a0 CREATE box");
    a.cmd("a1 NOTIFY SET (personal (MailboxName SubscriptionChange))");
    let mut b = env.client();
    let ends = |name: &'static str| {
        move |l: &str| l.starts_with("* LIST (") && l.ends_with(&format!("\"/\" \"{name}\""))
    };
    b.cmd("b1 CREATE new");
    let line = pushed(&mut a, ends("new"), "LIST of a created mailbox");
    assert!(!line.contains("NonExistent"), "{line}");
    b.cmd("b2 RENAME new renamed");
    pushed(
        &mut a,
        |l| l.starts_with("* LIST (") && l.ends_with("\"/\" \"renamed\" (\"OLDNAME\" (\"new\"))"),
        "LIST with OLDNAME",
    );
    b.cmd("b3 DELETE renamed");
    pushed(
        &mut a,
        |l| l == "* LIST (\\NonExistent) \"/\" \"renamed\"",
        "LIST of a deleted mailbox",
    );
    // A hierarchy renamed: one LIST, for its top (§5.4).
    b.cmd("b4 CREATE dir/inner");
    pushed(&mut a, ends("dir/inner"), "LIST of dir/inner");
    b.cmd("b5 RENAME dir moved");
    let text = pushed(
        &mut a,
        |l| l.ends_with("\"/\" \"moved\" (\"OLDNAME\" (\"dir\"))"),
        "LIST of the renamed hierarchy",
    );
    nothing_pushed(
        &mut a,
        |l| l.contains("moved/inner"),
        "a LIST for the renamed hierarchy's inferior",
    );
    assert!(!text.contains("inner"), "{text}");
    // Subscriptions.
    b.cmd("b6 SUBSCRIBE box");
    let line = pushed(&mut a, ends("box"), "LIST of a subscription");
    assert!(line.contains("\\Subscribed"), "{line}");
    b.cmd("b7 UNSUBSCRIBE box");
    let line = pushed(&mut a, ends("box"), "LIST of an unsubscription");
    assert!(
        !line.contains("\\Subscribed") && !line.contains("NonExistent"),
        "{line}"
    );
    b.cmd("b8 SUBSCRIBE ghost");
    let line = pushed(
        &mut a,
        ends("ghost"),
        "LIST of a subscription to no mailbox",
    );
    assert!(
        line.contains("\\NonExistent") && line.contains("\\Subscribed"),
        "{line}"
    );
    // A's own changes are not told back.
    let r = a.cmd("a2 CREATE mine");
    assert!(!r.contains("* LIST"), "{r}");
    a.cmd("a3 SUBSCRIBE mine");
    a.cmd("a4 RENAME mine yours");
    nothing_pushed(
        &mut a,
        |l| l.starts_with("* LIST"),
        "LIST of A's own changes",
    );
    // A filter that does not cover a name hears nothing of it.
    a.cmd("a5 NOTIFY SET (subtree Lists (MailboxName))");
    b.cmd("b9 CREATE other");
    nothing_pushed(
        &mut a,
        |l| l.starts_with("* LIST"),
        "LIST of a name outside the subtree",
    );
    b.cmd("c1 CREATE Lists/rust");
    pushed(&mut a, ends("Lists/rust"), "LIST of a name in the subtree");
    // The parent of a created or deleted name is affected too (§5.4).
    b.cmd("c2 CREATE Lists/go");
    pushed(&mut a, ends("Lists/go"), "LIST of a second name");
    a.cmd("c3 NOTIFY SET (personal (MailboxName))");
    assert_lines(&b.cmd("c4 CREATE top/"), &["c4 OK"]);
    let line = pushed(&mut a, ends("top"), "LIST of a hierarchy holder");
    assert!(line.contains("\\HasNoChildren"), "{line}");
    assert_lines(&b.cmd("c5 CREATE top/deeper"), &["c5 OK"]);
    let text = pushed(&mut a, ends("top"), "LIST of the parent of a created name");
    assert!(text.contains("\"/\" \"top/deeper\""), "{text}");
    assert!(
        text.lines().last().unwrap().contains("\\HasChildren"),
        "{text}"
    );
}

#[test]
fn idle_tells_exactly_what_notify_asked_for() {
    let env = Env::new();
    let mut a = env.client();
    a.cmd("a0 CREATE box");
    a.cmd_literal("a0 APPEND box", &message("one", "x"), "");
    a.cmd("a1 SELECT INBOX");
    a.cmd("a2 NOTIFY SET (personal (MessageNew MessageExpunge))");
    a.send(b"a3 IDLE\r\n");
    assert_eq!(a.read_line(), "+ idling\r\n");
    let mut b = env.client();
    b.cmd_literal("b1 APPEND box", &message("two", "y"), "");
    pushed(
        &mut a,
        |l| l == "* STATUS \"box\" (MESSAGES 2 UIDNEXT 3)",
        "STATUS in IDLE",
    );
    // No SELECTED group: the selected mailbox's news wait (RFC 5465 §4).
    b.cmd_literal("b2 APPEND INBOX", &message("in", "z"), "");
    nothing_pushed(
        &mut a,
        |l| l.contains("EXISTS"),
        "EXISTS in IDLE without SELECTED",
    );
    // They come with the end of the IDLE command, as with any command.
    a.send(b"DONE\r\n");
    assert_lines(
        &a.read_tagged("a3"),
        &["* 1 EXISTS", "a3 OK IDLE terminated"],
    );
    // With SELECTED, IDLE pushes the selected mailbox's news.
    a.cmd("a5 NOTIFY SET (selected (MessageNew MessageExpunge))");
    a.send(b"a6 IDLE\r\n");
    assert_eq!(a.read_line(), "+ idling\r\n");
    b.cmd_literal("b3 APPEND INBOX", &message("in2", "z"), "");
    pushed(
        &mut a,
        |l| l == "* 2 EXISTS",
        "EXISTS in IDLE with SELECTED",
    );
    a.send(b"DONE\r\n");
    assert_lines(&a.read_tagged("a6"), &["a6 OK IDLE terminated"]);
}

#[test]
fn too_many_mailboxes_overflow() {
    let env = Env::new();
    let mail = env.home.join("mail");
    // INBOX and MAX_WATCHED more.
    for i in 0..imap::notify::MAX_WATCHED {
        std::fs::write(mail.join(format!("m{i:04}")), b"").unwrap();
    }
    let mut a = env.client();
    assert_lines(
        &a.cmd("a1 NOTIFY SET (personal (MessageNew MessageExpunge))"),
        &["a1 NO [NOTIFICATIONOVERFLOW]"],
    );
    std::fs::remove_file(mail.join("m0000")).unwrap();
    assert_lines(
        &a.cmd("a2 NOTIFY SET (personal (MessageNew MessageExpunge))"),
        &["a2 OK"],
    );
    let mut b = env.client();
    b.cmd_literal("b1 APPEND m0001", &message("one", "x"), "");
    pushed(
        &mut a,
        |l| l == "* STATUS \"m0001\" (MESSAGES 1 UIDNEXT 2)",
        "STATUS",
    );
    // One more mailbox: too many; NOTIFY is off (§5.8).
    b.cmd("b2 CREATE m0000");
    pushed(
        &mut a,
        |l| l.starts_with("* OK [NOTIFICATIONOVERFLOW]"),
        "NOTIFICATIONOVERFLOW",
    );
    b.cmd_literal("b3 APPEND m0001", &message("two", "x"), "");
    nothing_pushed(
        &mut a,
        |l| l.starts_with("* STATUS"),
        "STATUS after the overflow",
    );
    // A narrower NOTIFY works again.
    assert_lines(
        &a.cmd("a3 NOTIFY SET (mailboxes m0001 (MessageNew MessageExpunge))"),
        &["a3 OK"],
    );
}

#[test]
fn notify_idle_keeps_alive_and_the_autologout_applies_between_commands() {
    let env = Env::new();
    let mut c = env.client_with(Options {
        idle: Duration::from_secs(2),
        settings: Settings {
            idle_keepalive: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(2),
            ..Settings::default()
        },
        ..Options::default()
    });
    c.cmd("a1 SELECT INBOX");
    c.cmd("a2 NOTIFY SET (selected (MessageNew MessageExpunge)) (personal (MailboxName))");
    // In IDLE: keep-alives, and no autologout.
    c.send(b"a3 IDLE\r\n");
    assert_eq!(c.read_line(), "+ idling\r\n");
    assert!(
        c.lines_until(Duration::from_secs(3), |l| l == "* OK Still here")
            .is_some(),
        "no keep-alive in IDLE with NOTIFY"
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert!(!c.finished(), "the session ended during IDLE");
    c.send(b"DONE\r\n");
    assert_lines(&c.read_tagged("a3"), &["a3 OK IDLE terminated"]);
    // Between commands, waiting for NOTIFY's events, the autologout applies.
    let bye = c.lines_until(Duration::from_secs(5), |l| l.starts_with("* BYE"));
    assert!(
        bye.is_some_and(|b| b.contains("Autologout")),
        "no autologout between commands with NOTIFY"
    );
}

#[test]
fn with_condstore_and_qresync_pushes_carry_modseqs() {
    let env = Env::new();
    let mut a = env.client();
    a.cmd("a0 CREATE box");
    a.cmd_literal("a0 APPEND box", &message("one", "x"), "");
    a.cmd_literal("a0 APPEND INBOX", &message("m1", "x"), "");
    assert_lines(&a.cmd("a1 ENABLE QRESYNC"), &["* ENABLED QRESYNC", "a1 OK"]);
    a.cmd("a2 SELECT INBOX");
    a.cmd("a3 NOTIFY SET (selected (MessageNew (FLAGS) MessageExpunge FlagChange)) (personal (MessageNew MessageExpunge FlagChange))");
    let mut b = env.client();
    // The selected mailbox: the new message's FETCH, a flag change, an expunge.
    b.cmd_literal("b1 APPEND INBOX", &message("m2", "y"), "");
    pushed(&mut a, |l| l == "* 2 EXISTS", "EXISTS");
    let line = pushed(
        &mut a,
        |l| l.starts_with("* 2 FETCH (UID 2 FLAGS ("),
        "FETCH of the new message",
    );
    assert!(line.contains(" MODSEQ ("), "{line}");
    b.cmd("b2 SELECT INBOX");
    b.cmd("b3 STORE 1 +FLAGS (\\Flagged)");
    let line = pushed(
        &mut a,
        |l| l.starts_with("* 1 FETCH (FLAGS ("),
        "FETCH FLAGS",
    );
    assert!(line.contains("UID 1 MODSEQ ("), "{line}");
    b.cmd("b4 STORE 1 +FLAGS.SILENT (\\Deleted)");
    b.cmd("b5 EXPUNGE");
    pushed(&mut a, |l| l == "* VANISHED 1", "VANISHED");
    // Another mailbox: a flag change that leaves UNSEEN as it was is still told,
    // with UIDVALIDITY and HIGHESTMODSEQ (§5.1).
    b.cmd("b6 SELECT box");
    b.cmd("b7 STORE 1 +FLAGS (\\Flagged)");
    let text = pushed(
        &mut a,
        |l| l.starts_with("* STATUS \"box\" ("),
        "STATUS of a flag change",
    );
    let line = text.lines().last().unwrap();
    assert!(
        line.starts_with("* STATUS \"box\" (UIDVALIDITY ") && line.contains(" HIGHESTMODSEQ "),
        "{line}"
    );
    assert!(!line.contains("UNSEEN"), "{line}");
    // An arrival and an expunge carry HIGHESTMODSEQ too (§5.2, §5.3).
    b.cmd_literal("b8 APPEND box", &message("two", "y"), "");
    let line = pushed(
        &mut a,
        |l| l.starts_with("* STATUS \"box\" (MESSAGES 2 UIDNEXT 3 "),
        "STATUS of an arrival",
    );
    assert!(line.contains(" HIGHESTMODSEQ "), "{line}");
    b.cmd("b9 NOOP");
    b.cmd("c1 STORE 2 +FLAGS.SILENT (\\Deleted)");
    b.cmd("c2 EXPUNGE");
    let line = pushed(
        &mut a,
        |l| l.starts_with("* STATUS \"box\" (MESSAGES 1 UIDNEXT 3 "),
        "STATUS of an expunge",
    );
    assert!(line.contains(" HIGHESTMODSEQ "), "{line}");
}

#[test]
fn each_filter_names_its_mailboxes() {
    let env = Env::new();
    let mut a = env.client();
    for name in ["box", "Lists/rust", "other"] {
        a.cmd(&format!("a0 CREATE {name}"));
    }
    let mut b = env.client();
    // The count and the next UID after the arrival, as the arrival's line or
    // the line of the mailbox coming under the filter after it (§6.4) has them.
    let arrival = |name: &'static str, messages: u32| {
        let start = format!(
            "* STATUS \"{name}\" (MESSAGES {messages} UIDNEXT {}",
            messages + 1
        );
        move |l: &str| {
            l.strip_prefix(&start)
                .is_some_and(|r| r.starts_with([' ', ')']))
        }
    };
    let any_status = |l: &str| l.starts_with("* STATUS");
    // SUBSCRIBED: the subscribed mailboxes, as the list changes (§6.4).
    a.cmd("a1 NOTIFY SET (subscribed (MessageNew MessageExpunge))");
    b.cmd_literal("b1 APPEND box", &message("one", "x"), "");
    nothing_pushed(&mut a, any_status, "STATUS of an unsubscribed mailbox");
    b.cmd("b2 SUBSCRIBE box");
    b.cmd_literal("b3 APPEND box", &message("two", "x"), "");
    pushed(&mut a, arrival("box", 2), "STATUS of a subscribed mailbox");
    // SUBTREE: the name and its inferiors (§6.5).
    a.cmd("a2 NOTIFY SET (subtree Lists (MessageNew MessageExpunge))");
    b.cmd_literal("b4 APPEND other", &message("three", "x"), "");
    nothing_pushed(&mut a, any_status, "STATUS outside the subtree");
    b.cmd_literal("b5 APPEND Lists/rust", &message("four", "x"), "");
    pushed(&mut a, arrival("Lists/rust", 1), "STATUS in the subtree");
    // MAILBOXES: exactly the names given.
    a.cmd("a3 NOTIFY SET (mailboxes (other) (MessageNew MessageExpunge))");
    b.cmd_literal("b6 APPEND box", &message("five", "x"), "");
    nothing_pushed(&mut a, any_status, "STATUS of a mailbox not named");
    b.cmd_literal("b7 APPEND other", &message("six", "x"), "");
    pushed(&mut a, arrival("other", 2), "STATUS of a named mailbox");
    // INBOXES: as PERSONAL (any folder may be delivered to, §6.3).
    a.cmd("a4 NOTIFY SET (inboxes (MessageNew MessageExpunge))");
    deliver(&env.inbox, 1, 1, "mbox");
    pushed(&mut a, arrival("INBOX", 1), "STATUS of INBOX");
    b.cmd_literal("b8 APPEND Lists/rust", &message("seven", "x"), "");
    pushed(
        &mut a,
        arrival("Lists/rust", 2),
        "STATUS of a folder under INBOXES",
    );
    // Events NONE: nothing for those mailboxes.
    a.cmd("a5 NOTIFY SET (personal NONE)");
    b.cmd_literal("b9 APPEND box", &message("eight", "x"), "");
    nothing_pushed(&mut a, any_status, "STATUS under NONE");
}
