//! POP3 transcripts: every command, its error paths and wrong states, run in
//! memory on real mailbox files. Every script's client lines of a packet are
//! sent at once, so each one is also a PIPELINING test.

mod support;

use pop::End;
use support::*;

fn size(message: &str) -> usize {
    crlf(message).len()
}

fn login() -> String {
    format!("C: USER {USER}\nS: +OK User name accepted, password please\nC: PASS {PASSWORD}\n")
}

#[test]
fn greeting_capa_and_quit_before_login() {
    let f = Fixture::new();
    let (_, outcome) = f.run(
        "S: +OK POP3 pop.example pullmail * server ready <1896.697170952@dbc.mtview.ca.us>
         C: CAPA
         S: +OK Capability list follows
         S: TOP
         S: UIDL
         S: RESP-CODES
         S: AUTH-RESP-CODE
         S: PIPELINING
         S: EXPIRE NEVER
         S: USER
         S: SASL PLAIN LOGIN CRAM-MD5
         S: IMPLEMENTATION pullmail-*
         S: .
         C: QUIT
         S: +OK Sayonara",
    );
    assert!(matches!(outcome.end, End::Quit), "{outcome:?}");
    assert_eq!(outcome.user, None);
}

#[test]
fn user_pass_stat_list_uidl_retr_top_quit() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1, M2, M3]);
    let (s1, s2, s3) = (size(M1), size(M2), size(M3));
    let total = s1 + s2 + s3;
    let script = format!(
        "S: +OK POP3 *
         {login}S: +OK Mailbox open, 3 messages
         C: STAT
         S: +OK 3 {total}
         C: LIST
         S: +OK Mailbox scan listing follows
         S: 1 {s1}
         S: 2 {s2}
         S: 3 {s3}
         S: .
         C: LIST 2
         S: +OK 2 {s2}
         C: UIDL
         S: +OK Unique-ID listing follows
         S: 1 ????????00000001
         S: 2 ????????00000002
         S: 3 ????????00000003
         S: .
         C: UIDL 3
         S: +OK 3 ????????00000003
         C: RETR 1
         S: +OK {s1} octets
         S: From: Bob <bob@example.org>
         S: To: alice@example.org
         S: Subject: one
         S: Message-ID: <one@example.org>
         S:
         S: Hello Alice.
         S: ..a line that starts with a dot
         S: ...and one with two
         S: ..
         S: end
         S: .
         C: TOP 2 1
         S: +OK Top of message follows
         S: From: Carol <carol@example.net>
         S: Subject: two
         S:
         S: Line 1
         S: .
         C: TOP 2 0
         S: +OK Top of message follows
         S: From: Carol <carol@example.net>
         S: Subject: two
         S:
         S: .
         C: TOP 3 10
         S: +OK Top of message follows
         S: From: Dave <dave@example.com>
         S: Subject: three
         S:
         S: .
         C: QUIT
         S: +OK Sayonara (3 messages left)",
        login = login()
    );
    // '?' is not a wildcard: check the UIDL shape separately below.
    let script = script.replace("????????", "*");
    let (host, outcome) = f.run(&script);
    assert!(matches!(outcome.end, End::Quit));
    assert_eq!(outcome.user.as_deref(), Some(USER));
    let out = String::from_utf8(host.io.output).unwrap();
    let uidl: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("1 ") && l.len() == 18)
        .collect();
    assert!(
        uidl.iter()
            .all(|l| l[2..].bytes().all(|b| b.is_ascii_hexdigit())),
        "{uidl:?}"
    );
    // RETR 1 made message 1 \Seen at QUIT; TOP did not touch 2 and 3.
    assert_eq!(
        f.contents(USER),
        [
            ("one".to_string(), true),
            ("two".to_string(), false),
            ("three".to_string(), false)
        ]
    );
}

#[test]
fn deletions_hide_messages_and_apply_only_at_quit() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1, M2, M3]);
    let (s1, s3) = (size(M1), size(M3));
    let script = format!(
        "S: +OK POP3 *
         {login}S: +OK Mailbox open, 3 messages
         C: DELE 2
         S: +OK Message 2 deleted
         C: DELE 2
         S: -ERR Message already deleted
         C: RETR 2
         S: -ERR Message already deleted
         C: LIST 2
         S: -ERR Message already deleted
         C: UIDL 2
         S: -ERR Message already deleted
         C: TOP 2 1
         S: -ERR Message already deleted
         C: STAT
         S: +OK 2 {both}
         C: LIST
         S: +OK Mailbox scan listing follows
         S: 1 {s1}
         S: 3 {s3}
         S: .
         C: UIDL
         S: +OK Unique-ID listing follows
         S: 1 *00000001
         S: 3 *00000003
         S: .
         C: DELE 4
         S: -ERR No such message
         C: DELE 0
         S: -ERR No such message
         C: RSET
         S: +OK Maildrop has 3 messages (*)
         C: LIST 2
         S: +OK 2 *
         C: DELE 1
         S: +OK Message 1 deleted
         C: DELE 3
         S: +OK Message 3 deleted",
        login = login(),
        both = s1 + s3,
    );
    // The connection ends here without QUIT: nothing may change. (Opening may
    // write UIDs and UIDVALIDITY, bookkeeping UW's ipop3d wrote too.)
    let before = f.contents(USER);
    let (host, outcome) = f.run(&script);
    assert!(
        matches!(
            outcome.end,
            End::Error(pop::Error::Daemon(daemon::Error::ConnectionLost))
        ),
        "{outcome:?}"
    );
    assert_eq!(f.contents(USER), before);
    assert_eq!(before.len(), 3);
    assert!(host
        .log_lines()
        .iter()
        .any(|l| l.contains("nothing applied")));

    // The same with QUIT: messages 1 and 3 go, 2 stays.
    let script = format!(
        "S: +OK POP3 *
         {login}S: +OK Mailbox open, 3 messages
         C: DELE 1
         S: +OK Message 1 deleted
         C: DELE 3
         S: +OK Message 3 deleted
         C: QUIT
         S: +OK Sayonara (1 messages left)",
        login = login()
    );
    f.run(&script);
    assert_eq!(f.contents(USER), [("two".to_string(), false)]);

    // UIDs and so UIDL survive the rewrite.
    let script = format!(
        "S: +OK POP3 *
         {login}S: +OK Mailbox open, 1 messages
         C: UIDL
         S: +OK Unique-ID listing follows
         S: 1 *00000002
         S: .
         C: DELE 1
         S: +OK Message 1 deleted
         C: QUIT
         S: +OK Sayonara (maildrop empty)",
        login = login()
    );
    f.run(&script);
    assert!(f.contents(USER).is_empty());
}

#[test]
fn uidl_is_stable_across_sessions_and_the_same_as_uws() {
    let f = Fixture::new();
    // A file as UW imapd left it: X-IMAP in the pseudo-message, X-UID per message.
    let uw = "From MAILER-DAEMON Mon Jan  1 10:00:00 2024\nDate: Mon, 1 Jan 2024 10:00:00 +0000\nFrom: Mail System Internal Data <MAILER-DAEMON@h>\nSubject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\nMessage-ID: <1@h>\nX-IMAP: 1700000000 0000000012\nStatus: RO\n\nThis text is part of the internal format of your mail folder.\n\nFrom a@example.org Mon Jan  1 10:00:00 2024\nSubject: seven\nStatus: RO\nX-UID: 7\n\nseven\n\nFrom a@example.org Mon Jan  1 10:00:00 2024\nSubject: twelve\nStatus: O\nX-UID: 12\n\ntwelve\n\n";
    std::fs::write(f.spool(USER), uw).unwrap();
    let script = format!(
        "S: +OK POP3 *
         {login}S: +OK Mailbox open, 2 messages
         C: UIDL
         S: +OK Unique-ID listing follows
         S: 1 6553f10000000007
         S: 2 6553f1000000000c
         S: .
         C: RETR 1
         S: +OK 25 octets
         S: Subject: seven
         S:
         S: seven
         S: .
         C: QUIT
         S: +OK Sayonara (2 messages left)",
        login = login()
    );
    f.run(&script);
    f.run(&script);
    assert_eq!(1_700_000_000u32, 0x6553f100);
}

#[test]
fn wrong_passwords_unknown_users_and_the_attempt_limit() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1]);
    let (_, outcome) = f.run_with(
        "S: +OK POP3 *
         C: PASS early
         S: -ERR PASS must follow USER
         C: USER alice
         S: +OK User name accepted, password please
         C: PASS
         S: -ERR Missing password argument
         C: PASS wrong
         S: -ERR [AUTH] Authentication failed
         C: PASS wonder land
         S: -ERR PASS must follow USER
         C: USER mallory
         S: +OK User name accepted, password please
         C: PASS wonder land
         S: -ERR [AUTH] Authentication failed
         C: USER alice
         S: +OK User name accepted, password please
         C: PASS wonderland
         S: -ERR Too many login failures
         C: NOOP",
        |host| host.config.set("login_attempts", "3").unwrap(),
    );
    assert!(
        matches!(
            outcome.end,
            End::Error(pop::Error::Daemon(daemon::Error::TooManyFailures))
        ),
        "{outcome:?}"
    );
}

#[test]
fn commands_out_of_state_are_refused_and_the_session_goes_on() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1]);
    let script = format!(
        "S: +OK POP3 *
         C: STAT
         S: -ERR Command not valid in this state
         C: LIST
         S: -ERR Command not valid in this state
         C: RETR 1
         S: -ERR Command not valid in this state
         C: DELE 1
         S: -ERR Command not valid in this state
         C: NOOP
         S: -ERR Command not valid in this state
         C: RSET
         S: -ERR Command not valid in this state
         C: TOP 1 1
         S: -ERR Command not valid in this state
         C: UIDL
         S: -ERR Command not valid in this state
         C: LAST
         S: -ERR Command not valid in this state
         {login}S: +OK Mailbox open, 1 messages
         C: USER alice
         S: -ERR Command not valid in this state
         C: PASS x
         S: -ERR Command not valid in this state
         C: APOP alice 0123456789abcdef0123456789abcdef
         S: -ERR Command not valid in this state
         C: AUTH PLAIN
         S: -ERR Command not valid in this state
         C: STLS
         S: -ERR Command not valid in this state
         C: NOOP
         S: +OK No-op to you too!
         C: QUIT
         S: +OK Sayonara (1 messages left)",
        login = login()
    );
    let (_, outcome) = f.run(&script);
    assert!(matches!(outcome.end, End::Quit));
}

#[test]
fn syntax_errors_get_err_and_the_session_goes_on() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1, M2]);
    let script = format!(
        "S: +OK POP3 *
         C: XTND XMIT
         S: -ERR Unknown command
         C: RPOP alice
         S: -ERR Unknown command
         C:
         S: -ERR Null command
         C: USER
         S: -ERR Missing user name argument
         C: CAPA now
         S: -ERR Too many arguments
         {login}S: +OK Mailbox open, 2 messages
         C: RETR
         S: -ERR Missing message number argument
         C: RETR one
         S: -ERR Invalid number argument
         C: RETR 99999999999
         S: -ERR No such message
         C: TOP 1
         S: -ERR Missing line count argument
         C: TOP 1 -1
         S: -ERR Invalid number argument
         C: LIST 1 2
         S: -ERR Too many arguments
         C: STAT 1
         S: -ERR Too many arguments
         C: UIDL x
         S: -ERR Invalid number argument
         C: DELE
         S: -ERR Missing message number argument
         C: LAST
         S: +OK 0
         C: retr 2
         S: +OK * octets
         S: From: Carol <carol@example.net>
         S: Subject: two
         S:
         S: Line 1
         S: Line 2
         S: Line 3
         S: .
         C: last
         S: +OK 2
         C: RSET
         S: +OK Maildrop has 2 messages (*)
         C: LAST
         S: +OK 0
         C: Quit
         S: +OK Sayonara (2 messages left)",
        login = login()
    );
    f.run(&script);
    // RSET took back the RETR: no \Seen was written.
    assert!(f.contents(USER).iter().all(|(_, seen)| !seen));
}

#[test]
fn an_over_long_line_is_refused_and_the_next_command_runs() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1]);
    let long = "X".repeat(20_000);
    let script = format!(
        "S: +OK POP3 *
         C: NOOP {long}
         S: -ERR Command line too long
         C: USER {long}
         S: -ERR Command line too long
         C: CAPA
         S: +OK Capability list follows
         S: *
         S: *
         S: *
         S: *
         S: *
         S: *
         S: *
         S: *
         S: *
         S: .
         C: QUIT
         S: +OK Sayonara"
    );
    let (_, outcome) = f.run(&script);
    assert!(matches!(outcome.end, End::Quit));
}

#[test]
fn a_flood_of_bad_commands_closes_the_connection() {
    let f = Fixture::new();
    let mut script = String::from("S: +OK POP3 *\n");
    for _ in 0..pop::pop3::MAX_BAD_IN_A_ROW {
        script.push_str("C: HELO there\nS: -ERR Unknown command\n");
    }
    script.push_str("C: HELO again\nS: -ERR Too many bad commands, closing\nC: QUIT\n");
    let (_, outcome) = f.run(&script);
    assert!(
        matches!(outcome.end, End::Error(pop::Error::TooManyErrors)),
        "{outcome:?}"
    );

    // Good commands in between reset the run, but not the total.
    let mut script = String::from("S: +OK POP3 *\n");
    let mut bad = 0;
    while bad < pop::pop3::MAX_BAD_TOTAL {
        script.push_str("C: HELO\nS: -ERR Unknown command\nC: CAPA\nS: +OK *\n");
        script.push_str(&"S: *\n".repeat(10));
        bad += 1;
    }
    script.push_str("C: HELO\nS: -ERR Too many bad commands, closing\n");
    f.run(&script);
}

#[test]
fn apop_logs_in_with_the_greeting_timestamp() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1, M2]);
    let digest = daemon::cram::apop_digest(pop::memory::TIMESTAMP.as_bytes(), SECRET.as_bytes());
    let (_, outcome) = f.run(&format!(
        "S: +OK POP3 pop.example pullmail * server ready <1896.697170952@dbc.mtview.ca.us>
         C: APOP alice 0123456789abcdef0123456789abcdef
         S: -ERR [AUTH] Authentication failed
         C: APOP alice
         S: -ERR Missing digest argument
         C: APOP bob {digest}
         S: -ERR [AUTH] Authentication failed
         C: APOP alice {upper}
         S: +OK Mailbox open, 2 messages
         C: QUIT
         S: +OK *",
        upper = digest.to_ascii_uppercase()
    ));
    assert_eq!(outcome.user.as_deref(), Some(USER));
}

#[test]
fn apop_is_refused_when_the_greeting_had_no_timestamp() {
    let f = Fixture::new();
    f.run_with(
        "S: +OK POP3 pop.example pullmail * server ready
         C: CAPA
         S: +OK Capability list follows
         S: TOP
         S: UIDL
         S: RESP-CODES
         S: AUTH-RESP-CODE
         S: PIPELINING
         S: EXPIRE NEVER
         S: USER
         S: SASL PLAIN LOGIN
         S: IMPLEMENTATION *
         S: .
         C: APOP bob 0123456789abcdef0123456789abcdef
         S: -ERR APOP not available
         C: AUTH CRAM-MD5
         S: -ERR Unsupported authentication mechanism
         C: QUIT
         S: +OK Sayonara",
        |host| {
            for u in &mut host.users {
                u.secret = None;
            }
        },
    );
}

#[test]
fn auth_plain_with_and_without_initial_response() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1]);
    // base64("\0alice\0wonder land") and a wrong one.
    let good = "AGFsaWNlAHdvbmRlciBsYW5k";
    let bad = "AGFsaWNlAHdyb25n";
    let script = format!(
        "S: +OK POP3 *
         C: AUTH
         S: +OK Supported authentication mechanisms:
         S: PLAIN
         S: LOGIN
         S: CRAM-MD5
         S: .
         C: AUTH GSSAPI
         S: -ERR Unsupported authentication mechanism
         C: AUTH PLAIN {bad}
         S: -ERR [AUTH] Authentication failed
         C: AUTH PLAIN not-base64!
         S: -ERR Invalid authentication response
         C: AUTH PLAIN
         S: + *
         C: *
         S: -ERR Authentication cancelled
         C: AUTH PLAIN
         S: + *
         C: {good}
         S: +OK Mailbox open, 1 messages
         C: QUIT
         S: +OK Sayonara (1 messages left)"
    );
    let (_, outcome) = f.run(&script);
    assert_eq!(outcome.user.as_deref(), Some(USER));

    let script = format!(
        "S: +OK POP3 *
         C: auth plain {good}
         S: +OK Mailbox open, 1 messages
         C: QUIT
         S: +OK *"
    );
    f.run(&script);
}

#[test]
fn auth_login_asks_for_user_and_password() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1]);
    f.run(
        "S: +OK POP3 *
         C: AUTH LOGIN
         S: + VXNlcm5hbWU6
         C: YWxpY2U=
         S: + UGFzc3dvcmQ6
         C: d29uZGVyIGxhbmQ=
         S: +OK Mailbox open, 1 messages
         C: AUTH LOGIN
         S: -ERR Command not valid in this state
         C: QUIT
         S: +OK *",
    );
    f.run(
        "S: +OK POP3 *
         C: AUTH LOGIN YWxpY2U=
         S: + UGFzc3dvcmQ6
         C: d3Jvbmc=
         S: -ERR [AUTH] Authentication failed
         C: QUIT
         S: +OK Sayonara",
    );
}

#[test]
fn without_tls_on_a_remote_connection_no_password_crosses_in_the_clear() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1]);
    let (host, _) = f.run_with(
        "S: +OK POP3 *
         C: CAPA
         S: +OK Capability list follows
         S: TOP
         S: UIDL
         S: RESP-CODES
         S: AUTH-RESP-CODE
         S: PIPELINING
         S: EXPIRE NEVER
         S: SASL CRAM-MD5
         S: STLS
         S: IMPLEMENTATION *
         S: .
         C: USER alice
         S: -ERR [AUTH] Plaintext authentication disallowed without TLS
         C: AUTH PLAIN AGFsaWNlAHdvbmRlciBsYW5k
         S: -ERR Unsupported authentication mechanism
         C: STLS
         S: +OK Begin TLS negotiation
         C: USER pipelined-before-the-handshake
         --
         C: CAPA
         S: +OK Capability list follows
         S: TOP
         S: UIDL
         S: RESP-CODES
         S: AUTH-RESP-CODE
         S: PIPELINING
         S: EXPIRE NEVER
         S: USER
         S: SASL PLAIN LOGIN CRAM-MD5
         S: IMPLEMENTATION *
         S: .
         C: STLS
         S: -ERR TLS is already active
         C: USER alice
         S: +OK User name accepted, password please
         C: PASS wonder land
         S: +OK Mailbox open, 1 messages
         C: QUIT
         S: +OK *",
        |host| {
            host.plaintext = false;
            host.tls_available = true;
        },
    );
    assert_eq!(
        host.discarded,
        "USER pipelined-before-the-handshake\r\n".len(),
        "the pipelined command was thrown away, not run"
    );
}

#[test]
fn stls_when_tls_is_not_configured() {
    let f = Fixture::new();
    f.run(
        "S: +OK POP3 *
         C: STLS
         S: -ERR [SYS/TEMP] TLS is not available on this server
         C: QUIT
         S: +OK Sayonara",
    );
}

#[test]
fn a_second_pop_session_gets_in_use_while_imap_can_still_open_the_mailbox() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1]);
    // The first session holds the maildrop (opened directly, as a session does).
    let settings = pop::MailSettings::new(&f.config, &f.host(vec![]).account(USER));
    let store = settings.store(pop::maildrop::no_log());
    let first = pop::Maildrop::open(&store, "INBOX").unwrap();

    let (_, outcome) = f.run(&format!(
        "S: +OK POP3 *
         {login}S: -ERR [IN-USE] Maildrop is in use by another POP session",
        login = login()
    ));
    assert!(matches!(outcome.end, End::Error(pop::Error::InUse)));
    // An IMAP session (the mailbox library, read-write) is not locked out.
    let imap = store
        .open("INBOX", mailbox::mailbox::Mode::ReadWrite)
        .unwrap();
    assert_eq!(imap.count(), 1);
    drop(imap);
    drop(first);
    f.run(&format!(
        "S: +OK POP3 *
         {login}S: +OK Mailbox open, 1 messages
         C: QUIT
         S: +OK *",
        login = login()
    ));
}

#[test]
fn a_missing_inbox_is_an_empty_maildrop() {
    let f = Fixture::new();
    f.run(&format!(
        "S: +OK POP3 *
         {login}S: +OK Mailbox open, 0 messages
         C: STAT
         S: +OK 0 0
         C: LIST
         S: +OK Mailbox scan listing follows
         S: .
         C: UIDL
         S: +OK Unique-ID listing follows
         S: .
         C: RETR 1
         S: -ERR No such message
         C: QUIT
         S: +OK Sayonara (maildrop empty)",
        login = login()
    ));
    assert!(!f.spool(USER).exists(), "QUIT on nothing creates nothing");
}

#[test]
fn messages_already_deleted_by_imap_are_not_offered() {
    let f = Fixture::new();
    let deleted = "From: x@example.org\nSubject: gone\nStatus: O\nX-Status: D\n\nbye\n";
    f.write_mbox(USER, &[M1, deleted, M2]);
    f.run(&format!(
        "S: +OK POP3 *
         {login}S: +OK Mailbox open, 2 messages
         C: UIDL
         S: +OK Unique-ID listing follows
         S: 1 *00000001
         S: 2 *00000003
         S: .
         C: DELE 1
         S: +OK *
         C: QUIT
         S: +OK Sayonara (1 messages left)",
        login = login()
    ));
    // The IMAP client's \Deleted message is not ours to expunge.
    let subjects: Vec<String> = f.contents(USER).into_iter().map(|(s, _)| s).collect();
    assert_eq!(subjects, ["gone", "two"]);
}

#[test]
fn run_by_a_user_from_a_shell_serves_that_user_with_any_password() {
    let f = Fixture::new();
    f.write_mbox("carol", &[M1]);
    let (_, outcome) = f.run_with(
        "S: +OK POP3 pop.example pullmail * server ready for carol (USER carol, any password) <*>
         C: USER alice
         S: +OK User name accepted, password please
         C: PASS wonder land
         S: -ERR [AUTH] Authentication failed
         C: USER carol
         S: +OK User name accepted, password please
         C: PASS
         S: +OK Mailbox open, 1 messages
         C: QUIT
         S: +OK *",
        |host| host.preauth = Some(host.account("carol")),
    );
    assert_eq!(outcome.user.as_deref(), Some("carol"));
}

#[test]
fn the_same_transcript_read_one_octet_at_a_time() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1, M2]);
    let script = format!(
        "S: +OK POP3 *
         {login}S: +OK Mailbox open, 2 messages
         C: TOP 1 2
         S: +OK Top of message follows
         S: From: Bob <bob@example.org>
         S: To: alice@example.org
         S: Subject: one
         S: Message-ID: <one@example.org>
         S:
         S: Hello Alice.
         S: ..a line that starts with a dot
         S: .
         C: QUIT
         S: +OK *",
        login = login()
    );
    let (packets, expected) = parse_script(&script);
    let mut host = f.host(packets);
    host.io.chunk = 1;
    let outcome = pop::pop3::serve(&mut host);
    check(&host.io.output, &expected);
    assert!(matches!(outcome.end, End::Quit));
}

#[test]
fn mmdf_maildrops_work_the_same() {
    let f = Fixture::new();
    let mmdf: String = [M1, M2]
        .iter()
        .map(|m| format!("\x01\x01\x01\x01\nFrom sender@example.org Mon Jan  1 10:00:00 2024\n{m}\x01\x01\x01\x01\n"))
        .collect();
    std::fs::write(f.spool(USER), mmdf).unwrap();
    let script = format!(
        "S: +OK POP3 *
         {login}S: +OK Mailbox open, 2 messages
         C: LIST
         S: +OK Mailbox scan listing follows
         S: 1 {s1}
         S: 2 {s2}
         S: .
         C: DELE 1
         S: +OK *
         C: QUIT
         S: +OK *",
        login = login(),
        s1 = size(M1),
        s2 = size(M2),
    );
    f.run(&script);
    assert_eq!(f.contents(USER), [("two".to_string(), false)]);
    assert!(f.mailbox_text(USER).starts_with("\x01\x01\x01\x01\n"));
}

#[test]
fn capa_after_login_shows_only_what_the_transaction_state_offers() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1]);
    f.run_with(
        &format!(
            "S: +OK POP3 *
             {login}S: +OK Mailbox open, 1 messages
             C: CAPA
             S: +OK Capability list follows
             S: TOP
             S: UIDL
             S: RESP-CODES
             S: AUTH-RESP-CODE
             S: PIPELINING
             S: EXPIRE NEVER
             S: IMPLEMENTATION pullmail-*
             S: .
             C: QUIT
             S: +OK *",
            login = login()
        ),
        |host| host.tls_available = true,
    );
}

#[test]
fn auth_edge_cases() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1]);
    let long = "A".repeat(20_000);
    f.run(&format!(
        "S: +OK POP3 *
         C: AUTH PLAIN =
         S: -ERR Invalid authentication response
         C: AUTH PLAIN AGFsaWNlAHdvbmRlciBsYW5k extra
         S: -ERR Too many arguments
         C: AUTH LOGIN
         S: + VXNlcm5hbWU6
         C: {long}
         S: -ERR Invalid authentication response
         C: AUTH CRAM-MD5 eA==
         S: -ERR Invalid authentication response
         C: AUTH CRAM-MD5
         S: + *
         C: bm90IGEgZGlnZXN0
         S: -ERR Invalid authentication response
         C: USER alice
         S: +OK *
         C: AUTH PLAIN
         S: + *
         C: *
         S: -ERR Authentication cancelled
         C: PASS wonder land
         S: -ERR PASS must follow USER
         C: QUIT
         S: +OK Sayonara"
    ));
}

#[test]
fn a_file_that_is_not_a_mailbox_ends_the_session_with_sys_perm() {
    let f = Fixture::new();
    std::fs::write(f.spool(USER), "this is not\na mailbox\n").unwrap();
    let (_, outcome) = f.run(&format!(
        "S: +OK POP3 *
         {login}S: -ERR [SYS/PERM] Unable to open maildrop: Not a mailbox in a known format
         C: STAT",
        login = login()
    ));
    assert!(matches!(
        outcome.end,
        End::Error(pop::Error::MaildropUnavailable(_))
    ));
}

#[test]
fn the_world_changing_mid_session() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1, M2, M3]);
    let spool = f.spool(USER);
    // The same user's IMAP session: same INBOX, same state directory.
    let settings_for_imap = pop::MailSettings::new(&f.config, &f.host(vec![]).account(USER));
    let script = format!(
        "S: +OK POP3 *
         {login}S: +OK Mailbox open, 3 messages
         --
         C: STAT
         S: +OK 3 *
         C: RETR 2
         S: -ERR Message was removed by another session
         C: LIST
         S: +OK Mailbox scan listing follows
         S: 1 *
         S: 3 *
         S: .
         C: DELE 1
         S: +OK Message 1 deleted
         C: RETR 3
         S: +OK * octets
         S: From: Dave <dave@example.com>
         S: Subject: three
         S:
         S: .
         C: QUIT
         S: +OK Sayonara (1 messages left)",
        login = login()
    );
    let (packets, expected) = parse_script(&script);
    let mut host = f.host(packets);
    // Before the second packet: the MTA delivers, an IMAP client expunges 2.
    let path = spool.clone();
    host.io.before_packet(1, move || {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(mbox(&["From: mta@example.org\nSubject: late\n\nlate\n"]).as_bytes())
            .unwrap();
        let store = settings_for_imap.store(pop::maildrop::no_log());
        let mut imap = store
            .open("INBOX", mailbox::mailbox::Mode::ReadWrite)
            .unwrap();
        let seq = imap.seq_of_uid(mailbox::uid::Uid::new(2).unwrap()).unwrap();
        imap.store(
            seq,
            mailbox::mailbox::StoreOp::Add,
            mailbox::flags::Flags::DELETED,
            &[],
        )
        .unwrap();
        imap.expunge(None).unwrap();
        imap.close().unwrap();
    });
    let outcome = pop::pop3::serve(&mut host);
    check(&host.io.output, &expected);
    assert!(matches!(outcome.end, End::Quit));
    let subjects: Vec<String> = f.contents(USER).into_iter().map(|(s, _)| s).collect();
    assert_eq!(subjects, ["three", "late"]);
    assert!(f.contents(USER)[0].1, "RETR 3 made it \\Seen");
}

#[test]
fn an_update_that_cannot_be_applied_says_so_and_changes_nothing() {
    let f = Fixture::new();
    f.write_mbox(USER, &[M1, M2]);
    let spool = f.spool(USER);
    let script = format!(
        "S: +OK POP3 *
         {login}S: +OK Mailbox open, 2 messages
         C: DELE 1
         S: +OK Message 1 deleted
         --
         C: QUIT
         S: -ERR [SYS/TEMP] Update failed, maildrop unchanged",
        login = login()
    );
    let (packets, expected) = parse_script(&script);
    let mut host = f.host(packets);
    // Another program rewrites the file with new UIDs before QUIT.
    host.io.before_packet(1, move || {
        let other = "From MAILER-DAEMON Mon Jan  1 10:00:00 2024\nSubject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\nX-IMAP: 1234567890 0000000002\n\ninternal\n\nFrom a@example.org Mon Jan  1 10:00:00 2024\nSubject: new one\nX-UID: 1\n\nx\n\n";
        std::fs::write(&spool, other).unwrap();
    });
    let outcome = pop::pop3::serve(&mut host);
    check(&host.io.output, &expected);
    assert!(matches!(
        outcome.end,
        End::Error(pop::Error::UpdateFailed(_))
    ));
    assert_eq!(f.contents(USER), [("new one".to_string(), false)]);
}
