//! POP2 transcripts (RFC 937 as UW's ipop2d spoke it): no common client speaks
//! POP2 any more, so these are its tests. Every command, the state machine's
//! wrong turns (each ends the session, as in UW), and that only QUIT or FOLD
//! apply ACKS/ACKD.

mod support;

use pop::End;
use support::*;

/// The `=n` of a message: its CRLF text plus the CRLF after it.
fn item(message: &str) -> usize {
    crlf(message).len() + 2
}

fn helo() -> String {
    format!("C: HELO {USER} {PASSWORD}\n")
}

#[test]
fn read_retr_acks_ackd_and_quit() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1, M2, M3]);
    let script = format!(
        "S: + POP2 pop.example pullmail * server ready
         {helo}S: #3 messages in INBOX
         C: READ
         S: ={i1} characters in message 1
         C: RETR
         S: From: Bob <bob@example.org>
         S: To: alice@example.org
         S: Subject: one
         S: Message-ID: <one@example.org>
         S:
         S: Hello Alice.
         S: .a line that starts with a dot
         S: ..and one with two
         S: .
         S: end
         S:
         C: ACKD
         S: ={i2} characters in message 2
         C: RETR
         S: From: Carol <carol@example.net>
         S: Subject: two
         S:
         S: Line 1
         S: Line 2
         S: Line 3
         S:
         C: ACKS
         S: ={i3} characters in message 3
         C: READ
         S: ={i3} characters in message 3
         C: QUIT
         S: + Sayonara",
        helo = helo(),
        i1 = item(M1),
        i2 = item(M2),
        i3 = item(M3),
    );
    let (host, outcome) = f.run2(&script);
    assert!(matches!(outcome.end, End::Quit), "{outcome:?}");
    assert_eq!(outcome.user.as_deref(), Some(USER));
    assert_eq!(
        f.contents(USER),
        [("two".to_string(), true), ("three".to_string(), false)]
    );
    // The octets after `=n`: exactly n of them before the next reply.
    let out = String::from_utf8(host.io.output).unwrap();
    let start = out.find("in message 1\r\n").unwrap() + "in message 1\r\n".len();
    let next = &out[start + item(M1)..];
    assert!(next.starts_with(&format!("={} characters in message 2", item(M2))));
}

#[test]
fn nack_keeps_the_message_and_offers_it_again() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M2]);
    let script = format!(
        "S: + POP2 *
         {helo}S: #1 messages in INBOX
         C: READ 1
         S: ={i} characters in message 1
         C: RETR
         S: From: Carol <carol@example.net>
         S: Subject: two
         S:
         S: Line 1
         S: Line 2
         S: Line 3
         S:
         C: NACK
         S: ={i} characters in message 1
         C: RETR
         S: From: Carol <carol@example.net>
         S: Subject: two
         S:
         S: Line 1
         S: Line 2
         S: Line 3
         S:
         C: ACKS
         S: =0 No more messages
         C: READ
         S: =0 No more messages
         C: QUIT
         S: + Sayonara",
        helo = helo(),
        i = item(M2),
    );
    f.run2(&script);
    assert_eq!(f.contents(USER), [("two".to_string(), true)]);
}

#[test]
fn a_session_that_ends_without_quit_applies_nothing() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1, M2]);
    let script = format!(
        "S: + POP2 *
         {helo}S: #2 messages in INBOX
         C: READ
         S: =* characters in message 1
         C: RETR
         S: *
         S: *
         S: *
         S: *
         S: *
         S: *
         S: *
         S: *
         S: *
         S: *
         S:
         C: ACKD",
        helo = helo(),
    );
    let (_, outcome) = f.run2(&format!("{script}\nS: =* characters in message 2"));
    assert!(matches!(
        outcome.end,
        End::Error(pop::Error::Daemon(daemon::Error::ConnectionLost))
    ));
    assert_eq!(f.contents(USER).len(), 2);
}

#[test]
fn fold_applies_the_current_mailbox_and_selects_another() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1, M2]);
    let work = f.homes().join(USER).join("mail");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("work"), mbox(&[M3])).unwrap();
    let script = format!(
        "S: + POP2 *
         {helo}S: #2 messages in INBOX
         C: READ 2
         S: ={i2} characters in message 2
         C: RETR
         S: *
         S: *
         S:
         S: Line 1
         S: Line 2
         S: Line 3
         S:
         C: ACKD
         S: =0 No more messages
         C: FOLD work
         S: #1 messages in work
         C: READ
         S: ={i3} characters in message 1
         C: FOLD nothing/here
         S: #0 messages in nothing/here
         C: READ
         S: =0 No more messages
         C: FOLD ../escape
         S: - Unable to open maildrop: Invalid mailbox name",
        helo = helo(),
        i2 = item(M2),
        i3 = item(M3),
    );
    let (_, outcome) = f.run2(&script);
    assert!(matches!(outcome.end, End::Error(_)));
    // FOLD applied the ACKD of INBOX before the session broke off.
    assert_eq!(f.contents(USER), [("one".to_string(), false)]);
    assert_eq!(f.contents_of(&work.join("work")).len(), 1);
}

#[test]
fn bad_logins_end_the_session() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1]);
    let (_, outcome) = f.run2(
        "S: + POP2 *
         C: HELO alice wrong
         S: - Authentication failed
         C: HELO alice wonder land",
    );
    assert!(matches!(
        outcome.end,
        End::Error(pop::Error::Daemon(daemon::Error::AuthenticationFailed))
    ));
    f.run2(
        "S: + POP2 *
         C: HELO alice
         S: - Missing user or password argument",
    );
}

#[test]
fn every_command_out_of_sequence_ends_the_session() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1]);
    for (before, command) in [
        ("", "READ"),
        ("", "FOLD INBOX"),
        ("", "RETR"),
        ("", "ACKS"),
        ("C: READ\nS: =*\n", "ACKD"),
        ("C: READ\nS: =*\n", "NACK"),
        ("C: READ\nS: =*\n", "HELO alice x"),
        ("C: READ\nS: =0 *\n", "RETR"),
    ] {
        let login = if command.starts_with("RETR") && before.is_empty()
            || command == "ACKS"
            || command == "READ" && before.is_empty()
            || command.starts_with("FOLD")
        {
            String::new()
        } else {
            format!("{}S: #1 messages in INBOX\n", helo())
        };
        let setup = if before.contains("=0") {
            // A READ past the end leaves no message to send.
            "C: READ\nS: =* characters in message 1\nC: RETR\n".to_string()
                + &"S: *\n".repeat(10)
                + "S:\nC: ACKS\nS: =0 No more messages\n"
        } else {
            before.to_string()
        };
        let script = format!(
            "S: + POP2 *\n{login}{setup}C: {command}\nS: - Bogus or out of sequence command\n"
        );
        let (_, outcome) = f.run2(&script);
        assert!(
            matches!(outcome.end, End::Error(pop::Error::WrongState)),
            "{command}: {outcome:?}"
        );
    }
    // QUIT in the NEXT state is out of sequence too: ACK the message first.
    let script = format!(
        "S: + POP2 *
         {helo}S: #1 messages in INBOX
         C: READ
         S: =*
         C: RETR
         S: *
         S: *
         S: *
         S: *
         S: *
         S: *
         S: *
         S: *
         S: *
         S: *
         S:
         C: QUIT
         S: - Bogus or out of sequence command",
        helo = helo()
    );
    f.run2(&script);
}

#[test]
fn syntax_errors_and_over_long_lines_end_the_session() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1]);
    for (line, answer) in [
        ("", "- Null command"),
        ("USER alice", "- Unknown command"),
        ("QUIT now", "- Too many arguments"),
        ("READ x", "- Invalid number argument"),
        (&"X".repeat(2000), "- Command line too long"),
    ] {
        f.run2(&format!("S: + POP2 *\nC: {line}\nS: {answer}\nC: QUIT\n"));
    }
    f.run2(&format!(
        "S: + POP2 *
         {helo}S: #1 messages in INBOX
         C: READ 2
         S: - No such message",
        helo = helo()
    ));
}

#[test]
fn quit_before_login_and_on_an_empty_inbox() {
    let f = Fixture::new();
    f.run2("S: + POP2 *\nC: QUIT\nS: + Sayonara");
    f.run2(&format!(
        "S: + POP2 *
         {helo}S: #0 messages in INBOX
         C: READ
         S: =0 No more messages
         C: QUIT
         S: + Sayonara",
        helo = helo()
    ));
    assert!(!f.spool(USER).exists());
}

#[test]
fn a_pop3_session_on_the_same_maildrop_makes_pop2_wait_its_turn() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1]);
    let settings = pop::MailSettings::new(&f.config, &f.host(vec![]).account(USER));
    let store = settings.store(pop::maildrop::no_log());
    let pop3 = pop::Maildrop::open(&store, "INBOX").unwrap();
    f.run2(&format!(
        "S: + POP2 *
         {helo}S: - Maildrop is in use by another POP session",
        helo = helo()
    ));
    drop(pop3);
}

#[test]
fn run_from_a_shell_helo_takes_the_users_own_name() {
    let f = Fixture::new();
    f.write_mbox("carol", &[M2]);
    let (_, outcome) = f.run2_with(
        "S: + POP2 pop.example pullmail * server ready for carol (HELO carol any-password)
         C: HELO carol anything
         S: #1 messages in INBOX
         C: QUIT
         S: + Sayonara",
        |host| host.preauth = Some(host.account("carol")),
    );
    assert_eq!(outcome.user.as_deref(), Some("carol"));
    f.run2_with(
        "S: + POP2 *
         C: HELO alice wonder land
         S: - Authentication failed",
        |host| host.preauth = Some(host.account("carol")),
    );
}
