//! Whole sessions in memory: each command of RFC 3501 in the states that allow it,
//! with the answers a client relies on.

mod support;

use support::{
    assert_lines, caps_after, caps_before, message, tagged_line, Env, Options, PASSWORD, USER,
};

#[test]
fn greeting_says_preauth_or_ok_with_capabilities() {
    let env = Env::new();
    let c = env.client();
    assert!(
        c.greeting
            .starts_with(&format!("* PREAUTH [CAPABILITY {}] Pre-authenticated user alice testhost IMAP4rev1 pullmail ", caps_after())),
        "{}",
        c.greeting
    );
    let c = env.login_client();
    assert!(
        c.greeting
            .starts_with(&format!("* OK [CAPABILITY {}] testhost IMAP4rev1 pullmail ", caps_before())),
        "{}",
        c.greeting
    );
}

#[test]
fn capability_noop_logout_in_every_state() {
    let env = Env::new();
    let mut c = env.login_client();
    assert_lines(
        &c.cmd("a1 CAPABILITY"),
        &[&format!("* CAPABILITY {}", caps_before()), "a1 OK"],
    );
    assert_lines(&c.cmd("a2 NOOP"), &["a2 OK NOOP completed"]);
    let r = c.cmd(&format!("a3 LOGIN {USER} {PASSWORD}"));
    assert_lines(
        &r,
        &[&format!("a3 OK [CAPABILITY {}] LOGIN completed", caps_after())],
    );
    assert!(c
        .cmd("a4 CAPABILITY")
        .starts_with(&format!("* CAPABILITY {}\r\na4 OK", caps_after())));
    assert_lines(&c.cmd("a5 NOOP"), &["a5 OK"]);
    c.cmd("a6 SELECT INBOX");
    assert_lines(&c.cmd("a7 NOOP"), &["a7 OK"]);
    assert_lines(
        &c.cmd("a8 LOGOUT"),
        &[
            "* BYE testhost IMAP4rev1 server terminating connection",
            "a8 OK LOGOUT completed",
        ],
    );
    assert!(matches!(c.close(), imap::Ending::Logout));
}

#[test]
fn login_failures_and_logindisabled() {
    let env = Env::new();
    let mut c = env.login_client();
    assert_lines(
        &c.cmd("a1 LOGIN alice wrong"),
        &["a1 NO [AUTHENTICATIONFAILED] Authentication failed"],
    );
    assert_lines(
        &c.cmd("a2 LOGIN \"alice\" {10+}\r\nwonderland"),
        &["a2 OK [CAPABILITY"],
    );

    let mut c = env.client_with(Options {
        preauth: false,
        plaintext_allowed: false,
        ..Options::default()
    });
    assert!(c.greeting.contains("LOGINDISABLED"), "{}", c.greeting);
    assert!(!c.greeting.contains("AUTH=PLAIN"), "{}", c.greeting);
    assert_lines(
        &c.cmd(&format!("a1 LOGIN {USER} {PASSWORD}")),
        &["a1 NO [PRIVACYREQUIRED]"],
    );
    assert_lines(
        &c.cmd("a2 AUTHENTICATE PLAIN"),
        &["a2 NO Unsupported authentication mechanism"],
    );
    assert_lines(&c.cmd("a3 NOOP"), &["a3 OK"]);
}

#[test]
fn too_many_failed_logins_end_the_session() {
    let env = Env::new();
    let mut c = env.login_client();
    c.cmd("a1 LOGIN alice x");
    c.cmd("a2 LOGIN alice y");
    c.send(b"a3 LOGIN alice z\r\n");
    let ending = c.close();
    assert!(c.rest().starts_with("* BYE Too many login failures"));
    assert!(matches!(
        ending,
        imap::Ending::Error(daemon::Error::TooManyFailures)
    ));
}

#[test]
fn authenticate_plain_and_login_with_continuations() {
    let env = Env::new();
    // PLAIN, response after an empty challenge.
    let mut c = env.login_client();
    c.send(b"a1 AUTHENTICATE PLAIN\r\n");
    assert_eq!(c.read_line(), "+ \r\n");
    // "\0alice\0wonderland"
    let r = c.cmd_bytes("a1", b"AGFsaWNlAHdvbmRlcmxhbmQ=\r\n");
    assert_lines(
        &r,
        &[&format!(
            "a1 OK [CAPABILITY {}] AUTHENTICATE completed",
            caps_after()
        )],
    );

    // PLAIN with an initial response (RFC 4959).
    let mut c = env.login_client();
    assert_lines(
        &c.cmd("a1 AUTHENTICATE PLAIN AGFsaWNlAHdvbmRlcmxhbmQ="),
        &["a1 OK [CAPABILITY"],
    );

    // LOGIN: user, then password.
    let mut c = env.login_client();
    c.send(b"a1 AUTHENTICATE LOGIN\r\n");
    assert_eq!(c.read_line(), "+ VXNlcm5hbWU6\r\n");
    c.send(b"YWxpY2U=\r\n");
    assert_eq!(c.read_line(), "+ UGFzc3dvcmQ6\r\n");
    assert_lines(&c.cmd_bytes("a1", b"d29uZGVybGFuZA==\r\n"), &["a1 OK"]);

    // Cancelled, and garbage: BAD, and the session goes on.
    let mut c = env.login_client();
    c.send(b"a1 AUTHENTICATE PLAIN\r\n");
    c.read_line();
    assert_lines(
        &c.cmd_bytes("a1", b"*\r\n"),
        &["a1 BAD Authentication cancelled"],
    );
    c.send(b"a2 AUTHENTICATE PLAIN\r\n");
    c.read_line();
    assert_lines(&c.cmd_bytes("a2", b"!!!\r\n"), &["a2 BAD"]);
    assert_lines(&c.cmd("a3 AUTHENTICATE GSSAPI"), &["a3 NO"]);
    assert_lines(&c.cmd("a4 NOOP"), &["a4 OK"]);
}

#[test]
fn starttls_drops_what_was_pipelined_behind_it() {
    let env = Env::new();
    let mut c = env.client_with(Options {
        preauth: false,
        plaintext_allowed: false,
        tls_available: true,
        ..Options::default()
    });
    assert!(
        c.greeting.contains("STARTTLS LOGINDISABLED IDLE"),
        "{}",
        c.greeting
    );
    // The injected LOGIN came in the clear, before the handshake: never run.
    let r = c.cmd_bytes("a1", b"a1 STARTTLS\r\na2 LOGIN alice wonderland\r\n");
    assert_eq!(r, "a1 OK Begin TLS negotiation now\r\n");
    let r = c.cmd("a3 CAPABILITY");
    assert!(
        r.starts_with(&format!("* CAPABILITY {}\r\n", caps_before())),
        "{r}"
    );
    assert!(!r.contains("a2 "), "{r}");
    assert_lines(&c.cmd("a4 STARTTLS"), &["a4 BAD TLS is already active"]);
    assert_lines(&c.cmd("a5 LOGIN alice wonderland"), &["a5 OK"]);
}

#[test]
fn starttls_is_refused_without_a_certificate() {
    let env = Env::new();
    let mut c = env.login_client();
    assert_lines(&c.cmd("a1 STARTTLS"), &["a1 NO [UNAVAILABLE]"]);
    assert_lines(&c.cmd("a2 NOOP"), &["a2 OK"]);
}

#[test]
fn create_list_lsub_subscribe_status_rename_delete() {
    let env = Env::new();
    let mut c = env.client();
    assert_lines(&c.cmd("a1 CREATE work"), &["a1 OK CREATE completed"]);
    assert!(env.mail("work").is_file());
    assert_lines(&c.cmd("a2 CREATE projects/"), &["a2 OK"]);
    assert!(env.mail("projects").is_dir());
    assert_lines(&c.cmd("a3 CREATE projects/2024/q1"), &["a3 OK"]);
    assert_lines(&c.cmd("a4 CREATE work"), &["a4 NO [ALREADYEXISTS]"]);
    assert_lines(&c.cmd("a5 CREATE inbox"), &["a5 NO [ALREADYEXISTS]"]);
    assert_lines(
        &c.cmd("a6 LIST \"\" \"\""),
        &["* LIST (\\Noselect) \"/\" \"\"", "a6 OK"],
    );
    assert_lines(
        &c.cmd("a60 LIST projects/2024 \"\""),
        &["* LIST (\\Noselect) \"/\" \"projects/\"", "a60 OK"],
    );
    let r = c.cmd("a7 LIST \"\" *");
    assert_lines(
        &r,
        &[
            "* LIST (\\Unmarked \\HasNoChildren) \"/\" \"INBOX\"",
            "* LIST (\\Noselect \\HasChildren) \"/\" \"projects\"",
            "* LIST (\\Noselect \\HasChildren) \"/\" \"projects/2024\"",
            "* LIST (\\Noinferiors \\Unmarked) \"/\" \"projects/2024/q1\"",
            "* LIST (\\Noinferiors \\Unmarked) \"/\" \"work\"",
            "a7 OK LIST completed",
        ],
    );
    let r = c.cmd("a8 LIST \"\" %");
    assert!(!r.contains("2024"), "{r}");
    assert_lines(
        &c.cmd("a9 LIST projects/ %"),
        &[
            "* LIST (\\Noselect \\HasChildren) \"/\" \"projects/2024\"",
            "a9 OK",
        ],
    );

    assert_lines(&c.cmd("b1 SUBSCRIBE work"), &["b1 OK"]);
    assert_lines(&c.cmd("b2 SUBSCRIBE projects/2024/q1"), &["b2 OK"]);
    let r = c.cmd("b3 LSUB \"\" *");
    assert_lines(
        &r,
        &[
            "* LSUB () \"/\" \"projects/2024/q1\"",
            "* LSUB () \"/\" \"work\"",
            "b3 OK LSUB completed",
        ],
    );
    assert_lines(&c.cmd("b4 UNSUBSCRIBE work"), &["b4 OK"]);
    assert!(!c.cmd("b5 LSUB \"\" *").contains("\"work\""));

    assert_lines(
        &c.cmd("c1 STATUS work (MESSAGES RECENT UIDNEXT UNSEEN)"),
        &[
            "* STATUS \"work\" (MESSAGES 0 RECENT 0 UIDNEXT 1 UNSEEN 0)",
            "c1 OK",
        ],
    );
    assert_lines(
        &c.cmd("c2 STATUS nothere (MESSAGES)"),
        &["c2 NO [TRYCREATE]"],
    );

    assert_lines(&c.cmd("d1 RENAME work play"), &["d1 OK RENAME completed"]);
    assert!(env.mail("play").is_file() && !env.mail("work").exists());
    assert_lines(&c.cmd("d2 RENAME nothere x"), &["d2 NO"]);
    assert_lines(
        &c.cmd("d3 RENAME play projects/2024/q1"),
        &["d3 NO [ALREADYEXISTS]"],
    );
    assert_lines(&c.cmd("d4 RENAME projects archive/projects"), &["d4 OK"]);
    assert!(env.mail("archive/projects/2024/q1").is_file());

    assert_lines(&c.cmd("e1 DELETE play"), &["e1 OK DELETE completed"]);
    assert!(!env.mail("play").exists());
    assert_lines(&c.cmd("e2 DELETE INBOX"), &["e2 NO"]);
    assert_lines(&c.cmd("e3 DELETE archive/projects"), &["e3 NO"]);
    assert_lines(&c.cmd("e4 DELETE nothere"), &["e4 NO"]);
}

#[test]
fn mailbox_names_are_modified_utf7_on_the_wire_and_utf8_on_disk() {
    let env = Env::new();
    let mut c = env.client();
    assert_lines(&c.cmd("a1 CREATE Entw&APw-rfe"), &["a1 OK"]);
    assert!(env.mail("Entwürfe").is_file());
    assert_lines(
        &c.cmd("a2 LIST \"\" Entw*"),
        &[
            "* LIST (\\Noinferiors \\Unmarked) \"/\" \"Entw&APw-rfe\"",
            "a2 OK",
        ],
    );
    assert_lines(&c.cmd("a3 CREATE \"A&-B\""), &["a3 OK"]);
    assert!(env.mail("A&B").is_file());
    assert_lines(&c.cmd("a4 SELECT \"A&-B\""), &["a4 OK [READ-WRITE]"]);
    // Not modified UTF-7: a name no mailbox can have (NO, not BAD: the command is
    // well-formed), and not a file called that.
    assert_lines(&c.cmd("a5 CREATE &AGE-"), &["a5 NO [CANNOT]"]);
    assert_lines(&c.cmd("a6 CREATE {6+}\r\ncaf\u{e9}"), &["a6 NO [CANNOT]"]);
    assert!(!env.mail("&AGE-").exists() && !env.mail("caf\u{e9}").exists());
    assert_lines(&c.cmd("a7 NOOP"), &["a7 OK"]);
}

#[test]
fn create_with_a_driver_prefix_picks_the_format() {
    let env = Env::new();
    let mut c = env.client();
    assert_lines(&c.cmd("a1 CREATE \"#driver.mmdf/box\""), &["a1 OK"]);
    let msg = message("hello", "MMDF body");
    c.cmd_literal("a2 APPEND box", &msg, "");
    let file = std::fs::read(env.mail("box")).unwrap();
    assert!(file.starts_with(b"\x01\x01\x01\x01\n"), "{file:?}");
    assert_lines(
        &c.cmd("a3 CREATE \"#driver.maildir/x\""),
        &["a3 NO [CANNOT]"],
    );
}

#[test]
fn append_with_flags_and_date_then_select_fetch() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd("a1 CREATE box");
    let msg = message("first", "Hello there.");
    let r = c.cmd_literal(
        "a2 APPEND box (\\Seen \\Flagged $Forwarded) \"14-Jul-2024 08:30:00 +0200\"",
        &msg,
        "",
    );
    assert!(tagged_line(&r).starts_with("a2 OK [APPENDUID "), "{r}");
    assert!(tagged_line(&r).ends_with(" 1] APPEND completed"), "{r}");
    // LITERAL+: no continuation.
    let msg2 = message("second", "Another one.");
    let mut cmd = format!("a3 APPEND box {{{}+}}\r\n", msg2.len()).into_bytes();
    cmd.extend_from_slice(&msg2);
    cmd.extend_from_slice(b"\r\n");
    assert_lines(&c.cmd_bytes("a3", &cmd), &["a3 OK [APPENDUID"]);
    assert_lines(
        &c.cmd_literal("a4 APPEND nothere", &msg, ""),
        &["a4 NO [TRYCREATE]"],
    );
    assert_lines(
        &c.cmd("a5 APPEND box (\\Recent) {1+}\r\nx"),
        &["a5 BAD Invalid flag \\Recent"],
    );
    assert_lines(
        &c.cmd("a6 APPEND box \"31-Feb-2024 08:30:00 +0200\" {1+}\r\nx"),
        &["a6 BAD"],
    );

    let r = c.cmd("b1 SELECT box");
    assert_lines(
        &r,
        &[
            "* 2 EXISTS",
            "* 2 RECENT",
            "* OK [UIDVALIDITY ",
            "* OK [UIDNEXT 3]",
            "* FLAGS ($Forwarded \\Answered \\Flagged \\Deleted \\Draft \\Seen)",
            "* OK [PERMANENTFLAGS ($Forwarded \\* \\Answered \\Flagged \\Deleted \\Draft \\Seen)]",
            "* OK [UNSEEN 2]",
            "b1 OK [READ-WRITE] SELECT completed",
        ],
    );
    let r = c.cmd("b2 FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE UID)");
    assert_lines(
        &r,
        &[&format!(
            "* 1 FETCH (FLAGS (\\Recent \\Seen \\Flagged $Forwarded) INTERNALDATE \"14-Jul-2024 08:30:00 +0200\" RFC822.SIZE {} UID 1)",
            msg.len()
        )],
    );
    let r = c.cmd("b3 FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT)]");
    assert!(
        r.contains("BODY[HEADER.FIELDS (SUBJECT)] {19}\r\nSubject: second\r\n\r\n)"),
        "{r}"
    );
    let r = c.cmd("b4 FETCH 2 FLAGS");
    assert_lines(&r, &["* 2 FETCH (FLAGS (\\Recent))"]);
}

/// A mailbox with three messages for the FETCH/STORE/SEARCH tests.
fn three(env: &Env) -> support::Client {
    let mut c = env.client();
    c.cmd("a0 CREATE box");
    let mime = b"From: Carol <carol@example.net>\r\nTo: alice@example.org\r\nCc: dave@example.com\r\nBcc: secret@example.com\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= report\r\nDate: Thu, 22 Feb 2024 23:59:59 -1200\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nK=C3=A4se und Br=C3=B6tchen\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--b1--\r\n".to_vec();
    c.cmd_literal(
        "a1 APPEND box \" 1-Jan-2024 10:00:00 +0000\"",
        &message("one", "First body, attached notes."),
        "",
    );
    c.cmd_literal(
        "a2 APPEND box (\\Seen) \"15-Jan-2024 23:30:00 -0500\"",
        &mime,
        "",
    );
    c.cmd_literal(
        "a3 APPEND box (\\Deleted) \"20-Jan-2024 12:00:00 +0100\"",
        &message("three", &"x".repeat(3000)),
        "",
    );
    c.cmd("a4 SELECT box");
    c
}

#[test]
fn fetch_every_attribute_and_section_form() {
    let env = Env::new();
    let mut c = three(&env);
    let r = c.cmd("f1 FETCH 1 ALL");
    assert_lines(
        &r,
        &[
            "* 1 FETCH (FLAGS (\\Recent) INTERNALDATE \" 1-Jan-2024 10:00:00 +0000\" RFC822.SIZE ",
            "f1 OK",
        ],
    );
    assert!(r.contains("ENVELOPE (\"Tue, 02 Jan 2024 09:15:00 +0000\" \"one\" ((\"Alice\" NIL \"alice\" \"example.org\"))"), "{r}");
    let r = c.cmd("f2 FETCH 1 FAST");
    assert!(
        r.contains("FLAGS") && r.contains("RFC822.SIZE") && !r.contains("ENVELOPE"),
        "{r}"
    );
    let r = c.cmd("f3 FETCH 1 FULL");
    assert!(r.contains("BODY (\"TEXT\" \"PLAIN\""), "{r}");
    let r = c.cmd("f4 FETCH 2 (BODYSTRUCTURE)");
    assert!(r.contains("BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\""), "{r}");
    assert!(r.contains("\"MIXED\" (\"BOUNDARY\" \"b1\")"), "{r}");
    let r = c.cmd(
        "f5 FETCH 2 (BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[2] BINARY.PEEK[2] BINARY.SIZE[2])",
    );
    assert!(r.contains("BODY[1] \"K=C3=A4se und Br=C3=B6tchen\""), "{r}");
    assert!(
        r.contains("BODY[1.MIME] {88}\r\nContent-Type: text/plain"),
        "{r}"
    );
    assert!(r.contains("BODY[2] \"AAECAwQ=\""), "{r}");
    assert!(r.contains("BINARY[2] ~{5}\r\n\0\x01\x02\x03\x04"), "{r}");
    assert!(r.contains("BINARY.SIZE[2] 5"), "{r}");
    let r = c.cmd("f6 FETCH 2 (BODY.PEEK[TEXT]<0.8> BODY.PEEK[]<2.4> BODY.PEEK[HEADER.FIELDS.NOT (DATE FROM TO CC BCC MIME-VERSION CONTENT-TYPE)])");
    assert!(r.contains("BODY[TEXT]<0> {8}\r\npreamble"), "{r}");
    assert!(r.contains("BODY[]<2> \"om: \""), "{r}");
    assert!(r.contains("BODY[HEADER.FIELDS.NOT (DATE FROM TO CC BCC MIME-VERSION CONTENT-TYPE)] {47}\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= report\r\n\r\n"), "{r}");
    let r = c.cmd("f7 FETCH 1 (RFC822.HEADER RFC822.TEXT)");
    assert!(r.contains("RFC822.HEADER {"), "{r}");
    assert!(
        r.contains("RFC822.TEXT {29}\r\nFirst body, attached notes.\r\n"),
        "{r}"
    );
    // RFC822.TEXT is not .PEEK: \Seen is set and reported.
    assert!(r.contains("FLAGS (\\Recent \\Seen)"), "{r}");
    let r = c.cmd("f8 FETCH 3 (BODY[HEADER] RFC822.SIZE)");
    assert!(r.contains("FLAGS (\\Recent \\Seen \\Deleted)"), "{r}");
    let r = c.cmd("f9 FETCH 1:* (UID FLAGS)");
    assert_lines(
        &r,
        &[
            "* 1 FETCH (UID 1 ",
            "* 2 FETCH (UID 2 ",
            "* 3 FETCH (UID 3 ",
            "f9 OK",
        ],
    );
    let r = c.cmd("g1 FETCH 1 (RFC822)");
    assert!(r.contains("RFC822 {"), "{r}");
    let r = c.cmd("g2 FETCH 2 BODY.PEEK[9.9]");
    assert!(r.contains("BODY[9.9] \"\""), "{r}");
    let r = c.cmd("g3 FETCH 2 BODY[1.HEADER]");
    assert_lines(&r, &["* 2 FETCH (BODY[1.HEADER] \"\")", "g3 OK"]);
}

#[test]
fn uid_commands_use_uids_and_report_them() {
    let env = Env::new();
    let mut c = three(&env);
    c.cmd("u0 STORE 1 +FLAGS (\\Deleted)");
    assert_lines(
        &c.cmd("u1 EXPUNGE"),
        &["* 1 EXPUNGE", "* 2 EXPUNGE", "u1 OK"],
    );
    // UID 2 is now message 1.
    let r = c.cmd("u2 UID FETCH 2:* (FLAGS)");
    assert_lines(&r, &["* 1 FETCH (UID 2 FLAGS (\\Recent \\Seen))", "u2 OK"]);
    let r = c.cmd("u3 UID FETCH 1,3:5 FLAGS");
    assert_lines(&r, &["u3 OK"]);
    assert!(!r.contains("FETCH ("), "{r}");
    let r = c.cmd("u4 UID STORE 2 +FLAGS (\\Answered)");
    assert_lines(
        &r,
        &[
            "* 1 FETCH (FLAGS (\\Recent \\Seen \\Answered) UID 2)",
            "u4 OK",
        ],
    );
    assert_lines(&c.cmd("u5 UID SEARCH ANSWERED"), &["* SEARCH 2", "u5 OK"]);
    assert_lines(&c.cmd("u6 UID SEARCH UID 1:*"), &["* SEARCH 2", "u6 OK"]);
    c.cmd("u7 CREATE copies");
    assert_lines(&c.cmd("u8 UID COPY 2 copies"), &["u8 OK [COPYUID "]);
    assert_lines(&c.cmd("u9 UID COPY 7 copies"), &["u9 OK"]);
    assert_lines(
        &c.cmd("v1 STATUS copies (MESSAGES)"),
        &["* STATUS \"copies\" (MESSAGES 1)", "v1 OK"],
    );
}

#[test]
fn store_variants_and_keywords() {
    let env = Env::new();
    let mut c = three(&env);
    let r = c.cmd("s1 STORE 1 FLAGS (\\Flagged Project)");
    assert_lines(
        &r,
        &[
            "* FLAGS (Project \\Answered \\Flagged \\Deleted \\Draft \\Seen)",
            "* OK [PERMANENTFLAGS (Project \\* \\Answered",
            "* 1 FETCH (FLAGS (\\Recent \\Flagged Project))",
            "s1 OK STORE completed",
        ],
    );
    assert_lines(
        &c.cmd("s2 STORE 1:2 -FLAGS \\Flagged \\Seen"),
        &[
            "* 1 FETCH (FLAGS (\\Recent Project))",
            "* 2 FETCH (FLAGS (\\Recent))",
            "s2 OK",
        ],
    );
    let r = c.cmd("s3 STORE 1 +FLAGS.SILENT (\\Draft)");
    assert_eq!(r, "s3 OK STORE completed\r\n");
    assert_lines(
        &c.cmd("s4 FETCH 1 FLAGS"),
        &["* 1 FETCH (FLAGS (\\Recent \\Draft Project))"],
    );
    assert_lines(&c.cmd("s5 STORE 1 FLAGS.SILENT ()"), &["s5 OK"]);
    assert_lines(
        &c.cmd("s6 FETCH 1 FLAGS"),
        &["* 1 FETCH (FLAGS (\\Recent))"],
    );
    assert_lines(&c.cmd("s7 STORE 1 +FLAGS (\\Recent)"), &["s7 BAD"]);
    assert_lines(&c.cmd("s8 STORE 1 +FLAGS (\\Bogus)"), &["s8 BAD"]);
    // Written back: a new session sees the flags.
    c.cmd("s9 STORE 2 +FLAGS (\\Answered)");
    let mut d = env.client();
    d.cmd("t1 EXAMINE box");
    assert_lines(
        &d.cmd("t2 FETCH 2 FLAGS"),
        &["* 2 FETCH (FLAGS (\\Answered))"],
    );
}

/// Issue 14: a STORE of 10,000 new keywords is refused (`NO [LIMIT]`) and defines
/// none of them (it used to define 64); one that fits defines its own, and `-FLAGS`
/// of unknown keywords defines nothing.
#[test]
fn a_refused_store_defines_no_keywords() {
    let env = Env::new();
    let mut c = three(&env);
    c.cmd("k0 STORE 1 +FLAGS (Kept)");
    let many: Vec<String> = (0..10_000).map(|i| format!("k{i}")).collect();
    let r = c.cmd(&format!("k1 STORE 1 +FLAGS ({})", many.join(" ")));
    assert!(r.contains("k1 NO [LIMIT] "), "{}", &r[r.len().saturating_sub(300)..]);
    let r = c.cmd("k2 STORE 2 -FLAGS (Unknown1 Unknown2)");
    assert!(r.ends_with("k2 OK STORE completed\r\n"), "{r}");
    let r = c.cmd("k3 STORE 1 +FLAGS (Fits)");
    assert!(
        r.contains("* FLAGS (Kept Fits \\Answered \\Flagged \\Deleted \\Draft \\Seen)"),
        "{r}"
    );
    assert!(!r.contains(" k0 ") && !r.contains("Unknown1"), "{r}");
    let mut d = env.client();
    let r = d.cmd("t1 EXAMINE box");
    assert!(!r.contains(" k0 ") && r.contains("Kept Fits"), "{r}");
}

#[test]
fn search_keys() {
    let env = Env::new();
    let mut c = three(&env);
    let cases: &[(&str, &str)] = &[
        ("ALL", "1 2 3"),
        ("SEEN", "2"),
        ("UNSEEN", "1 3"),
        ("DELETED", "3"),
        ("UNDELETED", "1 2"),
        ("ANSWERED", ""),
        ("UNANSWERED", "1 2 3"),
        ("FLAGGED", ""),
        ("UNFLAGGED", "1 2 3"),
        ("DRAFT", ""),
        ("UNDRAFT", "1 2 3"),
        ("RECENT", "1 2 3"),
        ("NEW", "1 3"),
        ("OLD", ""),
        ("KEYWORD $Junk", ""),
        ("UNKEYWORD $Junk", "1 2 3"),
        ("FROM carol", "2"),
        ("FROM \"Alice\"", "1 3"),
        ("TO bob@example.com", "1 3"),
        ("CC dave", "2"),
        ("BCC secret", "2"),
        ("SUBJECT report", "2"),
        ("CHARSET UTF-8 SUBJECT {7+}\r\nGr\u{fc}\u{df}e", "2"),
        ("BODY attached", "1"),
        ("CHARSET UTF-8 BODY {5+}\r\nK\u{e4}se", "2"),
        ("CHARSET UTF-8 BODY \"K\u{e4}se\"", "2"),
        ("TEXT carol", "2"),
        ("TEXT notes", "1"),
        ("HEADER Message-ID one@", "1"),
        ("HEADER X-Missing \"\"", ""),
        ("BEFORE 15-Jan-2024", "1"),
        ("ON 15-Jan-2024", "2"),
        ("SINCE 15-Jan-2024", "2 3"),
        ("SENTBEFORE 22-Feb-2024", "1 3"),
        ("SENTON 22-Feb-2024", "2"),
        ("SENTSINCE 3-Jan-2024", "2"),
        ("LARGER 2000", "3"),
        ("SMALLER 2000", "1 2"),
        ("UID 2:3", "2 3"),
        ("2,3", "2 3"),
        ("*", "3"),
        ("NOT SEEN", "1 3"),
        ("OR SEEN DELETED", "2 3"),
        ("OR (SEEN FROM carol) (LARGER 100 NOT DELETED)", "1 2"),
        ("NOT (OR 1 2)", "3"),
        ("SEEN UNSEEN", ""),
    ];
    for (i, (key, want)) in cases.iter().enumerate() {
        let tag = format!("q{i}");
        let r = c.cmd(&format!("{tag} SEARCH {key}"));
        let expect = if want.is_empty() {
            "* SEARCH\r\n".to_string()
        } else {
            format!("* SEARCH {want}\r\n")
        };
        assert!(r.starts_with(&expect), "SEARCH {key}: {r}");
        assert!(
            tagged_line(&r).starts_with(&format!("{tag} OK")),
            "SEARCH {key}: {r}"
        );
    }
    // ISO-8859-1 octets, converted before matching.
    let r = c.cmd_bytes(
        "z0",
        b"z0 SEARCH CHARSET ISO-8859-1 SUBJECT {5+}\r\nGr\xfc\xdfe\r\n",
    );
    assert!(r.starts_with("* SEARCH 2\r\n"), "{r}");
    assert_lines(
        &c.cmd("z1 SEARCH CHARSET X-BOGUS ALL"),
        &["z1 NO [BADCHARSET (US-ASCII UTF-8)]"],
    );
}

#[test]
fn copy_check_expunge_close() {
    let env = Env::new();
    let mut c = three(&env);
    c.cmd("c1 CREATE dest");
    assert_lines(&c.cmd("c2 COPY 1:2 dest"), &["c2 OK [COPYUID "]);
    assert_lines(&c.cmd("c3 COPY 1 nothere"), &["c3 NO [TRYCREATE]"]);
    assert_lines(&c.cmd("c4 COPY 4 dest"), &["c4 BAD"]);
    assert_lines(&c.cmd("c5 CHECK"), &["c5 OK CHECK completed"]);
    // Copies keep flags and dates.
    let mut d = env.client();
    d.cmd("d1 EXAMINE dest");
    let r = d.cmd("d2 FETCH 2 (FLAGS INTERNALDATE)");
    assert!(
        r.contains("FLAGS (\\Recent \\Seen) INTERNALDATE \"15-Jan-2024 23:30:00 -0500\""),
        "{r}"
    );
    // EXPUNGE removes message 3 (\Deleted); CLOSE removes what is \Deleted then.
    assert_lines(
        &c.cmd("c6 EXPUNGE"),
        &["* 3 EXPUNGE", "c6 OK EXPUNGE completed"],
    );
    c.cmd("c7 STORE 1 +FLAGS.SILENT (\\Deleted)");
    let r = c.cmd("c8 CLOSE");
    assert_eq!(r, "c8 OK CLOSE completed\r\n");
    assert_lines(&c.cmd("c9 FETCH 1 FLAGS"), &["c9 BAD"]);
    assert_lines(
        &c.cmd("e1 STATUS box (MESSAGES UIDNEXT)"),
        &["* STATUS \"box\" (MESSAGES 1 UIDNEXT 4)"],
    );
}

#[test]
fn examine_is_read_only() {
    let env = Env::new();
    let mut c = three(&env);
    c.cmd("x0 CLOSE");
    let r = c.cmd("x1 EXAMINE box");
    assert_lines(
        &r,
        &[
            "* 2 EXISTS",
            "* OK [PERMANENTFLAGS ()]",
            "x1 OK [READ-ONLY] EXAMINE completed",
        ],
    );
    assert_lines(&c.cmd("x2 STORE 1 +FLAGS (\\Seen)"), &["x2 NO [READ-ONLY]"]);
    assert_lines(&c.cmd("x3 EXPUNGE"), &["x3 NO [READ-ONLY]"]);
    // BODY[] does not set \Seen in a read-only mailbox.
    let r = c.cmd("x4 FETCH 1 BODY[]");
    assert!(!r.contains("FLAGS"), "{r}");
    assert_lines(&c.cmd("x5 CLOSE"), &["x5 OK"]);
    assert_lines(
        &c.cmd("x6 STATUS box (MESSAGES)"),
        &["* STATUS \"box\" (MESSAGES 2)"],
    );
}

#[test]
fn selecting_another_mailbox_deselects_even_when_it_fails() {
    let env = Env::new();
    let mut c = three(&env);
    assert_lines(&c.cmd("a1 SELECT nothere"), &["a1 NO"]);
    assert_lines(&c.cmd("a2 FETCH 1 FLAGS"), &["a2 BAD"]);
    assert_lines(
        &c.cmd("a3 SELECT INBOX"),
        &["* 0 EXISTS", "a3 OK [READ-WRITE]"],
    );
}

#[test]
fn rename_inbox_moves_its_messages() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd_literal("a1 APPEND INBOX (\\Flagged)", &message("in1", "one"), "");
    c.cmd_literal("a2 APPEND INBOX", &message("in2", "two"), "");
    assert_lines(
        &c.cmd("a3 RENAME INBOX old-inbox"),
        &["a3 OK RENAME completed"],
    );
    assert_lines(
        &c.cmd("a4 STATUS INBOX (MESSAGES)"),
        &["* STATUS \"INBOX\" (MESSAGES 0)"],
    );
    assert_lines(
        &c.cmd("a5 STATUS old-inbox (MESSAGES)"),
        &["* STATUS \"old-inbox\" (MESSAGES 2)"],
    );
    c.cmd("a6 SELECT old-inbox");
    assert_lines(
        &c.cmd("a7 FETCH 1 FLAGS"),
        &["* 1 FETCH (FLAGS (\\Recent \\Flagged))"],
    );
}

#[test]
fn rename_inbox_while_selected_reports_the_expunges() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd_literal("a1 APPEND INBOX", &message("in1", "one"), "");
    c.cmd("a2 SELECT INBOX");
    let r = c.cmd("a3 RENAME INBOX moved");
    assert_lines(&r, &["* 1 EXPUNGE", "a3 OK"]);
}

#[test]
fn delete_and_rename_of_the_selected_mailbox_are_refused() {
    let env = Env::new();
    let mut c = three(&env);
    assert_lines(&c.cmd("a1 DELETE box"), &["a1 NO [INUSE]"]);
    assert_lines(&c.cmd("a2 RENAME box other"), &["a2 NO [INUSE]"]);
    assert_lines(&c.cmd("a3 NOOP"), &["a3 OK"]);
}

#[test]
fn inbox_exists_before_the_first_delivery() {
    let env = Env::new();
    std::fs::remove_file(&env.inbox).unwrap();
    let mut c = env.client();
    assert_lines(
        &c.cmd("a1 STATUS INBOX (MESSAGES UIDNEXT)"),
        &["* STATUS \"INBOX\" (MESSAGES 0 UIDNEXT 1)", "a1 OK"],
    );
    assert_lines(
        &c.cmd("a2 SELECT inbox"),
        &["* 0 EXISTS", "a2 OK [READ-WRITE]"],
    );
    assert!(env.inbox.is_file());
    std::fs::remove_file(&env.inbox).unwrap();
    c.cmd("a3 CLOSE");
    let r = c.cmd_literal("a4 APPEND INBOX", &message("first", "mail"), "");
    assert_lines(&r, &["a4 OK [APPENDUID "]);
}

#[test]
fn an_append_that_cannot_succeed_is_refused_before_the_message_is_sent() {
    let env = Env::new();
    let mut c = env.client();
    // No "+": the client sends nothing more of the command.
    c.send(b"a1 APPEND nothere (\\Seen) {50000}\r\n");
    assert_eq!(
        c.read_line(),
        "a1 NO [TRYCREATE] APPEND failed: no such mailbox: nothere\r\n"
    );
    c.send(b"a2 APPEND ../escape {50000}\r\n");
    assert!(c.read_line().starts_with("a2 NO [CANNOT]"));
    assert_lines(&c.cmd("a3 NOOP"), &["a3 OK"]);
    let mut c = env.login_client();
    c.send(b"b1 APPEND INBOX {50000}\r\n");
    assert_eq!(
        c.read_line(),
        "b1 BAD APPEND not allowed now: log in first\r\n"
    );
    assert_lines(&c.cmd("b2 NOOP"), &["b2 OK"]);
}

#[test]
fn a_fetch_larger_than_the_spill_size_arrives_whole() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd("a0 CREATE big");
    let body = "0123456789abcdef".repeat(100_000 / 16);
    for i in 0..5 {
        c.cmd_literal(
            &format!("a{i} APPEND big"),
            &message(&format!("big{i}"), &body),
            "",
        );
    }
    c.cmd("b0 SELECT big");
    let r = c.cmd("b1 FETCH 1:* BODY.PEEK[TEXT]");
    assert!(r.len() > 5 * 100_000, "{}", r.len());
    for i in 1..=5 {
        let head = format!(
            "* {i} FETCH (BODY[TEXT] {{{}}}\r\n{body}\r\n)\r\n",
            body.len() + 2
        );
        assert!(r.contains(&head), "message {i}");
    }
    assert!(tagged_line(&r).starts_with("b1 OK"), "{}", tagged_line(&r));
}
