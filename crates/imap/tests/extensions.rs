//! Transcripts of the extensions (issue 7): for each, the grammar, the responses
//! and the error paths, in memory. IDLE is in `idle.rs`, SORT and THREAD in
//! `sort_thread.rs`, the MOVE kill test in `move_crash.rs`.

mod support;

use imap::settings::{Referrals, Settings, SpecialUse};
use support::{
    assert_lines, caps_after, caps_before, message, tagged_line, Client, Env, Options, EXTENSIONS,
    PASSWORD, USER,
};

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

fn login(c: &mut Client) {
    assert_lines(
        &c.cmd(&format!("l1 LOGIN {USER} {PASSWORD}")),
        &["l1 OK [CAPABILITY"],
    );
}

// ---------------------------------------------------------------- CAPABILITY

#[test]
fn capability_before_and_after_login_lists_exactly_what_is_implemented() {
    let env = Env::new();
    let mut c = env.login_client();
    let before = c.cmd("a1 CAPABILITY");
    assert_eq!(
        before,
        format!("* CAPABILITY {}\r\na1 OK CAPABILITY completed\r\n", caps_before())
    );
    assert_eq!(
        caps_before(),
        format!("IMAP4rev1 LITERAL+ AUTH=PLAIN AUTH=LOGIN SASL-IR {EXTENSIONS}")
    );
    let r = c.cmd(&format!("a2 LOGIN {USER} {PASSWORD}"));
    assert_eq!(
        r,
        format!("a2 OK [CAPABILITY {}] LOGIN completed\r\n", caps_after())
    );
    let after = c.cmd("a3 CAPABILITY");
    assert_eq!(
        after,
        format!("* CAPABILITY {}\r\na3 OK CAPABILITY completed\r\n", caps_after())
    );
    // Every name is there once.
    let names: Vec<&str> = caps_before().leak().split(' ').collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "{names:?}");

    // Without a way to log in there is no SASL-IR; the configuration adds
    // LITERAL- (for LITERAL+), LOGIN-REFERRALS and MAILBOX-REFERRALS.
    let settings = Settings {
        literal_minus: true,
        referrals: Referrals {
            login: vec![("bob".into(), "other.example.org".into())],
            mailboxes: vec![("shared".into(), "other.example.org".into())],
        },
        ..Settings::default()
    };
    let c = env.client_with(Options {
        preauth: false,
        plaintext_allowed: false,
        settings: settings.clone(),
        ..Options::default()
    });
    assert!(
        c.greeting.starts_with(&format!(
            "* OK [CAPABILITY IMAP4rev1 LITERAL- LOGINDISABLED LOGIN-REFERRALS {EXTENSIONS} MAILBOX-REFERRALS] "
        )),
        "{}",
        c.greeting
    );
    let c = env.client_with(Options {
        settings,
        ..Options::default()
    });
    assert!(
        c.greeting.starts_with(&format!(
            "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL- {EXTENSIONS} MAILBOX-REFERRALS] "
        )),
        "{}",
        c.greeting
    );
}

// ----------------------------------------------------------------- NAMESPACE

#[test]
fn namespace_personal_only_unless_configured() {
    let env = Env::new();
    let mut c = env.login_client();
    assert_lines(&c.cmd("a1 NAMESPACE"), &["a1 BAD NAMESPACE not allowed now"]);
    login(&mut c);
    assert_eq!(
        c.cmd("a2 NAMESPACE"),
        "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\na2 OK NAMESPACE completed\r\n"
    );
    assert_lines(&c.cmd("a3 NAMESPACE extra"), &["a3 BAD Invalid syntax"]);
    let mut c = env.client_with(Options {
        settings: Settings {
            namespace_other_users: Some("#users/".into()),
            namespace_shared: Some("#shared/".into()),
            ..Settings::default()
        },
        ..Options::default()
    });
    assert_lines(
        &c.cmd("a4 NAMESPACE"),
        &[
            "* NAMESPACE ((\"\" \"/\")) ((\"#users/\" \"/\")) ((\"#shared/\" \"/\"))",
            "a4 OK",
        ],
    );
}

// ------------------------------------------------------------------- UIDPLUS

#[test]
fn uidplus_appenduid_copyuid_and_uid_expunge() {
    let env = Env::new();
    let mut c = with_box(&env, 5);
    let r = c.cmd_literal("a1 APPEND box", &message("six", "x"), "");
    let uv = r
        .split("[APPENDUID ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .expect("APPENDUID")
        .to_string();
    assert_lines(&r, &[&format!("a1 OK [APPENDUID {uv} 6] APPEND completed")]);
    c.cmd("a2 CREATE other");
    c.cmd("a3 SELECT box");
    let r = c.cmd("a4 UID COPY 1:3,5 other");
    let ouv = r.split("[COPYUID ").nth(1).unwrap().split(' ').next().unwrap();
    assert_lines(&r, &[&format!("a4 OK [COPYUID {ouv} 1:3,5 1:4] COPY completed")]);
    // UID EXPUNGE removes only \Deleted messages in its set.
    c.cmd("a5 STORE 1:4 +FLAGS.SILENT (\\Deleted)");
    let r = c.cmd("a6 UID EXPUNGE 2:3,6");
    assert_eq!(
        r,
        "* 2 EXPUNGE\r\n* 2 EXPUNGE\r\n* 4 RECENT\r\na6 OK EXPUNGE completed\r\n"
    );
    assert_lines(
        &c.cmd("a7 UID SEARCH DELETED"),
        &["* SEARCH 1 4", "a7 OK"],
    );
    // UIDs that do not exist, or `*` past the top: nothing, no error.
    assert_eq!(c.cmd("a8 UID EXPUNGE 100:200"), "a8 OK EXPUNGE completed\r\n");
    assert_lines(&c.cmd("a9 UID EXPUNGE"), &["a9 BAD"]);
    assert_lines(&c.cmd("b1 UID EXPUNGE 0"), &["b1 BAD"]);
    c.cmd("b2 EXAMINE box");
    assert_lines(&c.cmd("b3 UID EXPUNGE 1"), &["b3 NO [READ-ONLY]"]);
    c.cmd("b4 UNSELECT");
    assert_lines(
        &c.cmd("b5 UID EXPUNGE 1"),
        &["b5 BAD EXPUNGE not allowed now: no mailbox selected"],
    );
}

// ------------------------------------------------------------ LITERAL+ / LITERAL-

#[test]
fn literal_plus_and_literal_minus() {
    let env = Env::new();
    let mut c = env.client();
    // LITERAL+: any size without waiting.
    let big = vec![b'x'; 10_000];
    let mut cmd = format!("a1 APPEND INBOX {{{}+}}\r\n", big.len() + 11).into_bytes();
    cmd.extend_from_slice(b"Subject: b\r\n");
    cmd.truncate(cmd.len() - 1);
    cmd.extend_from_slice(&big);
    cmd.extend_from_slice(b"\r\n");
    let r = c.cmd_bytes("a1", &cmd);
    assert_lines(&r, &["a1 OK [APPENDUID"]);

    let limits = imap::Limits {
        literal_minus: true,
        ..imap::Limits::default()
    };
    let settings = Settings {
        literal_minus: true,
        ..Settings::default()
    };
    let mut c = env.client_with(Options {
        limits,
        settings,
        ..Options::default()
    });
    assert!(c.greeting.contains("IMAP4rev1 LITERAL- "), "{}", c.greeting);
    // Up to 4096 octets without waiting.
    let data = vec![b'y'; 4096];
    let mut cmd = b"a2 APPEND INBOX {4096+}\r\n".to_vec();
    cmd.extend_from_slice(&data);
    cmd.extend_from_slice(b"\r\n");
    assert_lines(&c.cmd_bytes("a2", &cmd), &["a2 OK [APPENDUID"]);
    // More is BAD [TOOBIG] (RFC 7888 §5), the literal is skipped, the session goes on.
    let mut cmd = b"a3 APPEND INBOX {4097+}\r\n".to_vec();
    cmd.extend_from_slice(&[b'z'; 4097]);
    cmd.extend_from_slice(b"\r\na4 NOOP\r\n");
    let r = c.cmd_bytes("a4", &cmd);
    assert_lines(&r, &["a3 BAD [TOOBIG]", "a4 OK"]);
    // A synchronizing literal of any size is fine.
    let r = c.cmd_literal("a5 APPEND INBOX", &message("sync", &"w".repeat(8000)), "");
    assert_lines(&r, &["a5 OK [APPENDUID"]);
}

// ------------------------------------------------------------------ UNSELECT

#[test]
fn unselect_leaves_without_expunging() {
    let env = Env::new();
    let mut c = with_box(&env, 3);
    assert_lines(
        &c.cmd("a1 UNSELECT"),
        &["a1 BAD UNSELECT not allowed now: no mailbox selected"],
    );
    c.cmd("a2 SELECT box");
    c.cmd("a3 STORE 1:2 +FLAGS.SILENT (\\Deleted)");
    assert_lines(&c.cmd("a4 UNSELECT x"), &["a4 BAD"]);
    assert_eq!(c.cmd("a5 UNSELECT"), "a5 OK UNSELECT completed\r\n");
    assert_lines(
        &c.cmd("a6 FETCH 1 FLAGS"),
        &["a6 BAD FETCH not allowed now: no mailbox selected"],
    );
    // Nothing was expunged, and the \Deleted flags were kept.
    assert_lines(
        &c.cmd("a7 STATUS box (MESSAGES)"),
        &["* STATUS \"box\" (MESSAGES 3)", "a7 OK"],
    );
    c.cmd("a8 EXAMINE box");
    assert_lines(
        &c.cmd("a9 SEARCH DELETED"),
        &["* SEARCH 1 2", "a9 OK"],
    );
    let mut n = env.login_client();
    assert_lines(&n.cmd("b1 UNSELECT"), &["b1 BAD UNSELECT not allowed now"]);
}

// ------------------------------------------------------------------ CHILDREN

#[test]
fn children_attributes_in_list() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd("a1 CREATE work/2024");
    c.cmd("a2 CREATE work/2025/");
    c.cmd("a3 CREATE lone");
    let r = c.cmd("a4 LIST \"\" *");
    assert_lines(
        &r,
        &[
            "* LIST (\\Unmarked \\HasNoChildren) \"/\" \"INBOX\"",
            "* LIST (\\Noinferiors \\Unmarked) \"/\" \"lone\"",
            "* LIST (\\Noselect \\HasChildren) \"/\" \"work\"",
            "* LIST (\\Noinferiors \\Unmarked) \"/\" \"work/2024\"",
            "* LIST (\\Noselect \\HasNoChildren) \"/\" \"work/2025\"",
            "a4 OK",
        ],
    );
}

// --------------------------------------------------------------- MULTIAPPEND

#[test]
fn multiappend_is_all_or_nothing() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd("a0 CREATE box");
    let m1 = message("one", "1");
    let m2 = message("two", "2");
    let m3 = message("three", "3");
    // Synchronizing literals: a continuation for each.
    c.send(format!("a1 APPEND box (\\Seen) {{{}}}\r\n", m1.len()).as_bytes());
    assert!(c.read_line().starts_with("+ "));
    let mut rest = m1.clone();
    rest.extend_from_slice(
        format!(" (\\Flagged) \"01-Feb-2024 10:00:00 +0100\" {{{}}}\r\n", m2.len()).as_bytes(),
    );
    c.send(&rest);
    assert!(c.read_line().starts_with("+ "));
    let mut rest = m2.clone();
    rest.extend_from_slice(format!(" {{{}}}\r\n", m3.len()).as_bytes());
    c.send(&rest);
    assert!(c.read_line().starts_with("+ "));
    let mut rest = m3.clone();
    rest.extend_from_slice(b"\r\n");
    let r = c.cmd_bytes("a1", &rest);
    assert!(tagged_line(&r).starts_with("a1 OK [APPENDUID "), "{r}");
    assert!(tagged_line(&r).contains(" 1:3] "), "{r}");
    c.cmd("a2 EXAMINE box");
    assert_lines(
        &c.cmd("a3 FETCH 1:3 (FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])"),
        &[
            "* 1 FETCH (FLAGS (\\Recent \\Seen)",
            "* 2 FETCH (FLAGS (\\Recent \\Flagged) INTERNALDATE \" 1-Feb-2024 10:00:00 +0100\"",
            "* 3 FETCH (FLAGS (\\Recent)",
            "a3 OK",
        ],
    );
    c.cmd("a4 UNSELECT");
    // A bad flag in the second message: BAD, nothing appended.
    let mut cmd = format!("a5 APPEND box {{{}+}}\r\n", m1.len()).into_bytes();
    cmd.extend_from_slice(&m1);
    cmd.extend_from_slice(format!(" (\\Recent) {{{}+}}\r\n", m2.len()).as_bytes());
    cmd.extend_from_slice(&m2);
    cmd.extend_from_slice(b"\r\n");
    assert_lines(&c.cmd_bytes("a5", &cmd), &["a5 BAD Invalid flag"]);
    // A zero-length message cancels the whole APPEND (RFC 3502): synchronizing, it
    // is refused before anything more is sent...
    c.send(format!("a6 APPEND box {{{}}}\r\n", m1.len()).as_bytes());
    assert!(c.read_line().starts_with("+ "));
    let mut rest = m1.clone();
    rest.extend_from_slice(b" {0}\r\n");
    assert_lines(
        &c.cmd_bytes("a6", &rest),
        &["a6 NO APPEND cancelled: a message may not be empty"],
    );
    // ...and non-synchronizing, the same answer after it.
    let mut cmd = format!("a7 APPEND box {{{}+}}\r\n", m1.len()).into_bytes();
    cmd.extend_from_slice(&m1);
    cmd.extend_from_slice(b" {0+}\r\n\r\n");
    assert_lines(&c.cmd_bytes("a7", &cmd), &["a7 NO APPEND cancelled"]);
    assert_lines(
        &c.cmd("a8 STATUS box (MESSAGES UIDNEXT)"),
        &["* STATUS \"box\" (MESSAGES 3 UIDNEXT 4)", "a8 OK"],
    );
    // A mailbox that does not exist: refused before the first message.
    c.send(format!("a9 APPEND nosuch {{{}}}\r\n", m1.len()).as_bytes());
    assert_lines(&c.read_tagged("a9"), &["a9 NO [TRYCREATE]"]);
    assert_lines(&c.cmd("b1 APPEND box"), &["b1 BAD"]);
    assert_lines(&c.cmd("b2 APPEND box (\\Seen)"), &["b2 BAD"]);
}

// -------------------------------------------------------------------- BINARY

#[test]
fn binary_append_keeps_octets_in_base64_where_the_file_cannot() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd("a0 CREATE box");
    let text = b"Subject: bin\r\nContent-Type: application/octet-stream\r\n\r\nabc\x80\xffdef\r\n";
    let mut cmd = format!("a1 APPEND box ~{{{}+}}\r\n", text.len()).into_bytes();
    cmd.extend_from_slice(text);
    cmd.extend_from_slice(b"\r\n");
    assert_lines(&c.cmd_bytes("a1", &cmd), &["a1 OK [APPENDUID"]);
    // NUL and a bare CR cannot be kept as they are in an mbox file: the text is
    // stored in base64 (RFC 3516 §4.3), and BINARY gives the octets back.
    let nul = b"Subject: nul\r\n\r\na\x00b\r\n";
    let mut cmd = format!("a2 APPEND box ~{{{}+}}\r\n", nul.len()).into_bytes();
    cmd.extend_from_slice(nul);
    cmd.extend_from_slice(b"\r\n");
    assert_lines(&c.cmd_bytes("a2", &cmd), &["a2 OK [APPENDUID"]);
    let cr = b"Subject: cr\r\n\r\na\rb\r\n";
    let mut cmd = format!("a3 APPEND box ~{{{}}}\r\n", cr.len()).into_bytes();
    c.send(&cmd);
    assert!(c.read_line().starts_with("+ "));
    cmd = cr.to_vec();
    cmd.extend_from_slice(b"\r\n");
    assert_lines(&c.cmd_bytes("a3", &cmd), &["a3 OK [APPENDUID"]);
    c.cmd("a4 SELECT box");
    assert_lines(
        &c.cmd("a5 FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])"),
        &["* 1 FETCH (BINARY.SIZE[1] 10 BINARY[1] {10}", "a5 OK"],
    );
    assert_lines(
        &c.cmd("a5 FETCH 2:3 (BINARY.SIZE[1] BODY.PEEK[TEXT])"),
        &[
            "* 2 FETCH (BINARY.SIZE[1] 5 BODY[TEXT] {10}",
            "YQBiDQo=",
            "* 3 FETCH (BINARY.SIZE[1] 5 BODY[TEXT] {10}",
            "YQ1iDQo=",
            "a5 OK",
        ],
    );
    // FETCH BINARY of an unknown transfer encoding.
    c.cmd_literal(
        "a6 APPEND box",
        b"Subject: odd\r\nContent-Transfer-Encoding: x-odd\r\n\r\nzzz\r\n",
        "",
    );
    c.cmd("a7 NOOP");
    assert_lines(&c.cmd("a8 FETCH 4 BINARY[1]"), &["a8 NO [UNKNOWN-CTE]"]);
    assert_lines(&c.cmd("a9 FETCH 1 BINARY[1.TEXT]"), &["a9 BAD"]);
}

// ----------------------------------------------------- ESEARCH, SEARCHRES, WITHIN

#[test]
fn esearch_results() {
    let env = Env::new();
    let mut c = with_box(&env, 6);
    c.cmd("a1 SELECT box");
    c.cmd("a2 STORE 2,4:5 +FLAGS.SILENT (\\Flagged)");
    assert_eq!(
        c.cmd("a3 SEARCH RETURN (MIN MAX COUNT ALL) FLAGGED"),
        "* ESEARCH (TAG \"a3\") MIN 2 MAX 5 ALL 2,4:5 COUNT 3\r\na3 OK SEARCH completed\r\n"
    );
    // RETURN () is ALL; UID SEARCH says UID.
    assert_lines(
        &c.cmd("a4 UID SEARCH RETURN () FLAGGED"),
        &["* ESEARCH (TAG \"a4\") UID ALL 2,4:5", "a4 OK"],
    );
    // No match: only COUNT.
    assert_lines(
        &c.cmd("a5 SEARCH RETURN (MIN MAX ALL COUNT) DRAFT"),
        &["* ESEARCH (TAG \"a5\") COUNT 0", "a5 OK"],
    );
    assert_lines(
        &c.cmd("a6 SEARCH RETURN (COUNT) CHARSET UTF-8 ALL"),
        &["* ESEARCH (TAG \"a6\") COUNT 6", "a6 OK"],
    );
    assert_lines(&c.cmd("a7 SEARCH RETURN (FOO) ALL"), &["a7 BAD"]);
    assert_lines(&c.cmd("a8 SEARCH RETURN (MIN"), &["a8 BAD"]);
    assert_lines(&c.cmd("a9 SEARCH RETURN MIN ALL"), &["a9 BAD"]);
    assert_lines(
        &c.cmd("b1 SEARCH RETURN (MIN) CHARSET X-NONE ALL"),
        &["b1 NO [BADCHARSET"],
    );
}

#[test]
fn searchres_saves_a_result_for_dollar() {
    let env = Env::new();
    let mut c = with_box(&env, 6);
    c.cmd("a1 SELECT box");
    // SAVE alone answers no ESEARCH.
    assert_eq!(
        c.cmd("a2 SEARCH RETURN (SAVE) OR SUBJECT m2 SUBJECT m5"),
        "a2 OK SEARCH completed, result saved\r\n"
    );
    assert_lines(
        &c.cmd("a3 FETCH $ (UID)"),
        &["* 2 FETCH (UID 2)", "* 5 FETCH (UID 5)", "a3 OK"],
    );
    assert_lines(&c.cmd("a4 UID SEARCH $"), &["* SEARCH 2 5", "a4 OK"]);
    assert_lines(&c.cmd("a5 SEARCH NOT $"), &["* SEARCH 1 3 4 6", "a5 OK"]);
    assert_lines(&c.cmd("a6 SEARCH UID $"), &["* SEARCH 2 5", "a6 OK"]);
    c.cmd("a7 STORE $ +FLAGS.SILENT (\\Deleted)");
    assert_lines(&c.cmd("a8 SEARCH DELETED"), &["* SEARCH 2 5", "a8 OK"]);
    // The saved UIDs follow expunges: message 5 is now 4.
    c.cmd("a9 UID EXPUNGE 2");
    assert_lines(&c.cmd("b1 FETCH $ UID"), &["* 4 FETCH (UID 5)", "b1 OK"]);
    // SAVE with ESEARCH options; MIN alone saves only the minimum.
    assert_lines(
        &c.cmd("b2 SEARCH RETURN (SAVE MIN) SUBJECT m"),
        &["* ESEARCH (TAG \"b2\") MIN 1", "b2 OK"],
    );
    assert_lines(&c.cmd("b3 UID SEARCH $"), &["* SEARCH 1", "b3 OK"]);
    assert_lines(
        &c.cmd("b4 SEARCH RETURN (SAVE COUNT) UNDELETED"),
        &["* ESEARCH (TAG \"b4\") COUNT 4", "b4 OK"],
    );
    c.cmd("b5 CREATE other");
    let r = c.cmd("b6 COPY $ other");
    assert!(tagged_line(&r).starts_with("b6 OK [COPYUID "), "{r}");
    // A failed SAVE empties $.
    assert_lines(
        &c.cmd("b7 SEARCH RETURN (SAVE) CHARSET X-NONE ALL"),
        &["b7 NO [BADCHARSET"],
    );
    assert_eq!(c.cmd("b8 FETCH $ UID"), "b8 OK FETCH completed\r\n");
    // $ stands alone, and is reset by SELECT.
    assert_lines(&c.cmd("b9 FETCH $,1 UID"), &["b9 BAD"]);
    c.cmd("c1 SEARCH RETURN (SAVE) ALL");
    c.cmd("c2 SELECT box");
    assert_eq!(c.cmd("c3 UID FETCH $ UID"), "c3 OK FETCH completed\r\n");
}

#[test]
fn within_older_and_younger() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd("a0 CREATE box");
    // An old message (INTERNALDATE in 2020) and one arriving now.
    c.cmd_literal(
        "a1 APPEND box \"01-Jan-2020 00:00:00 +0000\"",
        &message("old", "x"),
        "",
    );
    c.cmd_literal("a2 APPEND box", &message("new", "y"), "");
    c.cmd("a3 SELECT box");
    assert_lines(&c.cmd("a4 SEARCH YOUNGER 3600"), &["* SEARCH 2", "a4 OK"]);
    assert_lines(&c.cmd("a5 SEARCH OLDER 3600"), &["* SEARCH 1", "a5 OK"]);
    assert_lines(
        &c.cmd("a6 SEARCH OR OLDER 3600 YOUNGER 3600"),
        &["* SEARCH 1 2", "a6 OK"],
    );
    assert_lines(&c.cmd("a7 UID SEARCH NOT YOUNGER 1"), &["* SEARCH 1", "a7 OK"]);
    assert_lines(&c.cmd("a8 SEARCH OLDER 0"), &["a8 BAD"]);
    assert_lines(&c.cmd("a9 SEARCH YOUNGER"), &["a9 BAD"]);
    assert_lines(&c.cmd("b1 SEARCH YOUNGER -5"), &["b1 BAD"]);
}

// -------------------------------------------------------------------- SASL-IR

#[test]
fn sasl_ir_initial_response_in_the_command() {
    let env = Env::new();
    let mut c = env.login_client();
    // "\0alice\0wonderland"
    assert_lines(
        &c.cmd("a1 AUTHENTICATE PLAIN AGFsaWNlAHdvbmRlcmxhbmQ="),
        &["a1 OK [CAPABILITY IMAP4rev1"],
    );
    let mut c = env.login_client();
    assert_lines(
        &c.cmd("a2 AUTHENTICATE PLAIN AGFsaWNlAHdyb25n"),
        &["a2 NO [AUTHENTICATIONFAILED]"],
    );
    assert_lines(&c.cmd("a3 AUTHENTICATE PLAIN !!!"), &["a3 BAD"]);
    // `=` is an empty initial response; PLAIN then fails on it.
    assert_lines(&c.cmd("a4 AUTHENTICATE PLAIN ="), &["a4 "]);
}

// --------------------------------------------------------------- I18NLEVEL=1

#[test]
fn i18nlevel_1_compares_decomposed_and_case_folded() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd("a0 CREATE box");
    // Non-ASCII subjects as RFC 2047 words (raw 8-bit header text is not
    // searched, as in UW): precomposed, decomposed, upper case.
    for (i, subject) in [
        "Duplicate",
        "=?UTF-8?Q?D=C3=A9claration?=",
        "=?UTF-8?Q?de=CC=81claration_finale?=",
        "=?UTF-8?Q?=C3=89T=C3=89?=",
    ]
        .iter()
        .enumerate()
    {
        let m = format!("Subject: {subject}\r\nDate: 0{} Jan 2024 00:00:00 +0000\r\n\r\nx\r\n", i + 1);
        c.cmd_literal(&format!("a1{i} APPEND box"), m.as_bytes(), "");
    }
    c.cmd("a2 SELECT box");
    // Precomposed é matches decomposed e + U+0301, in any case.
    let needle = "DÉCLARATION";
    let mut cmd = format!("a3 SEARCH CHARSET UTF-8 SUBJECT {{{}+}}\r\n", needle.len()).into_bytes();
    cmd.extend_from_slice(needle.as_bytes());
    cmd.extend_from_slice(b"\r\n");
    assert_lines(&c.cmd_bytes("a3", &cmd), &["* SEARCH 2 3", "a3 OK"]);
    // "te" + U+0301, decomposed, against "ÉTÉ".
    let needle = "te\u{301}";
    let mut cmd = format!("a4 SEARCH CHARSET UTF-8 SUBJECT {{{}+}}\r\n", needle.len()).into_bytes();
    cmd.extend_from_slice(needle.as_bytes());
    cmd.extend_from_slice(b"\r\n");
    assert_lines(&c.cmd_bytes("a4", &cmd), &["* SEARCH 4", "a4 OK"]);
    // SORT by the same comparator: Déclaration sorts before Duplicate.
    assert_lines(
        &c.cmd("a5 SORT (SUBJECT) UTF-8 ALL"),
        &["* SORT 2 3 1 4", "a5 OK"],
    );
}

// ---------------------------------------------------------------------- MOVE

#[test]
fn move_answers_copyuid_then_expunges() {
    let env = Env::new();
    let mut c = with_box(&env, 5);
    c.cmd("a0 CREATE dest");
    c.cmd("a1 SELECT box");
    // A message the user deleted and does not move stays.
    c.cmd("a2 STORE 1 +FLAGS.SILENT (\\Deleted)");
    let r = c.cmd("a3 UID MOVE 2,4:5 dest");
    let uv = r.split("[COPYUID ").nth(1).unwrap().split(' ').next().unwrap();
    assert_eq!(
        r,
        format!(
            "* OK [COPYUID {uv} 2,4:5 1:3] Moved\r\n* 2 EXPUNGE\r\n* 3 EXPUNGE\r\n* 3 EXPUNGE\r\n* 2 RECENT\r\na3 OK MOVE completed\r\n"
        )
    );
    assert_lines(
        &c.cmd("a4 FETCH 1:* (UID FLAGS)"),
        &[
            "* 1 FETCH (UID 1 FLAGS (\\Recent \\Deleted))",
            "* 2 FETCH (UID 3 FLAGS (\\Recent))",
            "a4 OK",
        ],
    );
    // Sequence numbers, into a mailbox with messages; flags travel.
    c.cmd("a5 STORE 2 +FLAGS.SILENT (\\Flagged)");
    let r = c.cmd("a6 MOVE 2 dest");
    assert!(r.starts_with("* OK [COPYUID ") && r.contains(" 3 4] Moved\r\n"), "{r}");
    assert_lines(&r, &["* OK [COPYUID", "* 2 EXPUNGE", "a6 OK"]);
    c.cmd("a7 EXAMINE dest");
    assert_lines(
        &c.cmd("a8 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])"),
        &[
            "* 1 FETCH (FLAGS (\\Recent)",
            "Subject: m2",
            "* 2 FETCH",
            "Subject: m4",
            "* 3 FETCH",
            "Subject: m5",
            "* 4 FETCH (FLAGS (\\Recent \\Flagged)",
            "Subject: m3",
            "a8 OK",
        ],
    );
    // EXAMINE cannot expunge: refused, nothing copied.
    assert_lines(&c.cmd("a9 MOVE 1 box"), &["a9 NO [READ-ONLY]"]);
    c.cmd("b1 SELECT box");
    // A missing destination: TRYCREATE, nothing expunged.
    assert_eq!(
        tagged_line(&c.cmd("b2 MOVE 1 nosuch")),
        "b2 NO [TRYCREATE] MOVE failed: no such mailbox: nosuch"
    );
    assert_lines(&c.cmd("b3 MOVE 9 dest"), &["b3 BAD Invalid message sequence number"]);
    assert_eq!(c.cmd("b4 UID MOVE 99 dest"), "b4 OK MOVE completed\r\n");
    assert_lines(&c.cmd("b5 MOVE 1"), &["b5 BAD"]);
    assert_lines(&c.cmd("b6 STATUS box (MESSAGES)"), &["* STATUS \"box\" (MESSAGES 1)"]);
    c.cmd("b7 UNSELECT");
    assert_lines(&c.cmd("b8 MOVE 1 dest"), &["b8 BAD MOVE not allowed now"]);
}

#[test]
fn move_is_seen_by_another_session_as_expunge_and_exists() {
    let env = Env::new();
    let mut a = with_box(&env, 3);
    a.cmd("a0 CREATE dest");
    a.cmd("a1 SELECT box");
    let mut b = env.client();
    b.cmd("b1 SELECT box");
    let mut d = env.client();
    d.cmd("d1 SELECT dest");
    a.cmd("a2 MOVE 2 dest");
    // EXPUNGE alone tells the count (RFC 3501 §7.4.1).
    assert_eq!(b.cmd("b2 NOOP"), "* 2 EXPUNGE\r\nb2 OK NOOP completed\r\n");
    assert_lines(&d.cmd("d2 NOOP"), &["* 1 EXISTS", "* 1 RECENT", "d2 OK"]);
    // A move into the selected mailbox itself: a new UID at the end.
    let r = a.cmd("a3 UID MOVE 1 box");
    assert!(r.starts_with("* OK [COPYUID ") && r.contains(" 1 4] Moved\r\n"), "{r}");
    // The expunge first, then the copy's EXISTS (imaptest's "move" group).
    assert_lines(&r, &["* 1 EXPUNGE", "* 2 EXISTS", "a3 OK"]);
    assert_lines(&a.cmd("a4 UID SEARCH ALL"), &["* SEARCH 3 4", "a4 OK"]);
}

// -------------------------------------------------------------------- ENABLE

#[test]
fn enable_names_what_it_switched_on() {
    let env = Env::new();
    let mut c = env.login_client();
    assert_lines(&c.cmd("a1 ENABLE CONDSTORE"), &["a1 BAD ENABLE not allowed now"]);
    login(&mut c);
    // CONDSTORE (RFC 7162) is switched on; the others are not the server's.
    assert_eq!(
        c.cmd("a2 ENABLE CONDSTORE UTF8=ACCEPT X-UNKNOWN"),
        "* ENABLED CONDSTORE\r\na2 OK ENABLE completed\r\n"
    );
    // What is on already is not named again; QRESYNC is new.
    assert_eq!(
        c.cmd("a2b ENABLE condstore QRESYNC"),
        "* ENABLED QRESYNC\r\na2b OK ENABLE completed\r\n"
    );
    assert_eq!(c.cmd("a2c ENABLE QRESYNC"), "* ENABLED\r\na2c OK ENABLE completed\r\n");
    assert_lines(&c.cmd("a3 ENABLE"), &["a3 BAD"]);
    assert_lines(&c.cmd("a4 ENABLE (CONDSTORE)"), &["a4 BAD"]);
    c.cmd("a5 SELECT INBOX");
    assert_lines(
        &c.cmd("a6 ENABLE CONDSTORE"),
        &["a6 BAD ENABLE not allowed now: only before a mailbox is selected"],
    );
}

// ------------------------------------------------------------------------ ID

#[test]
fn id_in_any_state() {
    let env = Env::new();
    let mut c = env.login_client();
    let want = format!(
        "* ID (\"name\" \"pullmail\" \"version\" \"{}\")\r\n",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(c.cmd("a1 ID NIL"), format!("{want}a1 OK ID completed\r\n"));
    assert_eq!(
        c.cmd("a2 ID (\"name\" \"imaplib\" \"version\" NIL \"os\" {5+}\r\nLinux)"),
        format!("{want}a2 OK ID completed\r\n")
    );
    assert_eq!(c.cmd("a3 ID ()"), format!("{want}a3 OK ID completed\r\n"));
    login(&mut c);
    c.cmd("a4 SELECT INBOX");
    assert!(c.cmd("a5 ID NIL").starts_with("* ID (\"name\" \"pullmail\""));
    // Grammar and RFC 2971 limits.
    assert_lines(&c.cmd("a6 ID"), &["a6 BAD"]);
    assert_lines(&c.cmd("a7 ID (\"name\")"), &["a7 BAD"]);
    assert_lines(&c.cmd("a8 ID (name value)"), &["a8 BAD"]);
    let long_field = format!("a9 ID (\"{}\" \"x\")", "f".repeat(31));
    assert_lines(&c.cmd(&long_field), &["a9 BAD"]);
    let long_value = format!("b1 ID (\"f\" \"{}\")", "v".repeat(1025));
    assert_lines(&c.cmd(&long_value), &["b1 BAD"]);
    let many: String = (0..31).map(|i| format!("\"f{i}\" NIL ")).collect();
    assert_lines(&c.cmd(&format!("b2 ID ({})", many.trim_end())), &["b2 BAD"]);
}

// --------------------------------------------------------------- SPECIAL-USE

#[test]
fn special_use_attributes_and_selection() {
    let env = Env::new();
    let mut c = env.client();
    for name in ["Sent", "Drafts", "Trash", "Junk", "Archive", "Notes", "Old/"] {
        c.cmd(&format!("a0 CREATE {name}"));
    }
    let r = c.cmd("a1 LIST \"\" %");
    assert_lines(
        &r,
        &[
            "* LIST (\\Unmarked \\HasNoChildren) \"/\" \"INBOX\"",
            "* LIST (\\Noinferiors \\Unmarked \\Archive) \"/\" \"Archive\"",
            "* LIST (\\Noinferiors \\Unmarked \\Drafts) \"/\" \"Drafts\"",
            "* LIST (\\Noinferiors \\Unmarked \\Junk) \"/\" \"Junk\"",
            "* LIST (\\Noinferiors \\Unmarked) \"/\" \"Notes\"",
            "* LIST (\\Noselect \\HasNoChildren) \"/\" \"Old\"",
            "* LIST (\\Noinferiors \\Unmarked \\Sent) \"/\" \"Sent\"",
            "* LIST (\\Noinferiors \\Unmarked \\Trash) \"/\" \"Trash\"",
            "a1 OK",
        ],
    );
    // The selection option: only those; the return option changes nothing here.
    let r = c.cmd("a2 LIST (SPECIAL-USE) \"\" * RETURN (SPECIAL-USE)");
    assert_eq!(r.matches("* LIST").count(), 5, "{r}");
    assert!(!r.contains("Notes") && !r.contains("INBOX"), "{r}");
    // LSUB does not carry them.
    c.cmd("a3 SUBSCRIBE Sent");
    assert_lines(&c.cmd("a4 LSUB \"\" *"), &["* LSUB () \"/\" \"Sent\"", "a4 OK"]);
    // A configured mapping, in any folder.
    let mut c = env.client_with(Options {
        settings: Settings {
            special_use: vec![(SpecialUse::Sent, "Notes".into())],
            ..Settings::default()
        },
        ..Options::default()
    });
    assert_lines(
        &c.cmd("a5 LIST \"\" %"),
        &[
            "* LIST (\\Noinferiors \\Unmarked) \"/\" \"Archive\"",
            "* LIST (\\Noinferiors \\Unmarked \\Sent) \"/\" \"Notes\"",
            "* LIST (\\Noinferiors \\Unmarked) \"/\" \"Sent\"",
            "a5 OK",
        ],
    );
}

// ------------------------------------------------- LIST-EXTENDED, LIST-STATUS

#[test]
fn list_extended_selection_and_return_options() {
    let env = Env::new();
    let mut c = env.client();
    for name in ["a/one", "a/two", "b", "c/"] {
        c.cmd(&format!("p CREATE {name}"));
    }
    c.cmd("s1 SUBSCRIBE a/one");
    c.cmd("s2 SUBSCRIBE b");
    c.cmd("s3 SUBSCRIBE gone");
    // Several patterns at once.
    let r = c.cmd("a1 LIST \"\" (b \"a/%\")");
    assert_lines(
        &r,
        &[
            "* LIST (\\Noinferiors \\Unmarked) \"/\" \"a/one\"",
            "* LIST (\\Noinferiors \\Unmarked) \"/\" \"a/two\"",
            "* LIST (\\Noinferiors \\Unmarked) \"/\" \"b\"",
            "a1 OK",
        ],
    );
    // SUBSCRIBED: existing or not.
    let r = c.cmd("a2 LIST (SUBSCRIBED) \"\" *");
    assert_eq!(
        r,
        "* LIST (\\Noinferiors \\Unmarked \\Subscribed) \"/\" \"a/one\"\r\n\
         * LIST (\\Noinferiors \\Unmarked \\Subscribed) \"/\" \"b\"\r\n\
         * LIST (\\NonExistent \\Subscribed) \"/\" \"gone\"\r\n\
         a2 OK LIST completed\r\n"
    );
    // RECURSIVEMATCH: a parent whose child is subscribed says so.
    let r = c.cmd("a3 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (CHILDREN)");
    assert_lines(
        &r,
        &[
            "* LIST (\\Noselect \\HasChildren) \"/\" \"a\" (\"CHILDINFO\" (\"SUBSCRIBED\"))",
            "* LIST (\\Noinferiors \\Unmarked \\Subscribed) \"/\" \"b\"",
            "* LIST (\\NonExistent \\Subscribed) \"/\" \"gone\"",
            "a3 OK",
        ],
    );
    // RETURN (SUBSCRIBED) on the plain selection.
    let r = c.cmd("a4 LIST \"\" % RETURN (SUBSCRIBED)");
    assert_lines(
        &r,
        &[
            "* LIST (\\Unmarked \\HasNoChildren) \"/\" \"INBOX\"",
            "* LIST (\\Noselect \\HasChildren) \"/\" \"a\"",
            "* LIST (\\Noinferiors \\Unmarked \\Subscribed) \"/\" \"b\"",
            "* LIST (\\Noselect \\HasNoChildren) \"/\" \"c\"",
            "a4 OK",
        ],
    );
    // Errors.
    assert_lines(&c.cmd("a5 LIST (RECURSIVEMATCH) \"\" *"), &["a5 BAD"]);
    assert_lines(&c.cmd("a6 LIST (BOGUS) \"\" *"), &["a6 BAD"]);
    assert_lines(&c.cmd("a7 LIST \"\" * RETURN (BOGUS)"), &["a7 BAD"]);
    assert_lines(&c.cmd("a8 LIST \"\" * RETURN"), &["a8 BAD"]);
    assert_lines(&c.cmd("a9 LIST \"\" ()"), &["a9 BAD"]);
    // An empty option list is a plain LIST; LIST "" "" still answers the delimiter.
    assert_eq!(
        c.cmd("b1 LIST () \"\" \"\""),
        "* LIST (\\Noselect) \"/\" \"\"\r\nb1 OK LIST completed\r\n"
    );
}

#[test]
fn list_status_answers_status_for_selectable_mailboxes() {
    let env = Env::new();
    let mut c = with_box(&env, 2);
    c.cmd("a0 CREATE dir/");
    c.cmd("a1 SELECT box");
    c.cmd("a2 STORE 1 +FLAGS (\\Seen)");
    let r = c.cmd("a3 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN UIDNEXT))");
    assert_lines(
        &r,
        &[
            "* LIST (\\Unmarked \\HasNoChildren) \"/\" \"INBOX\"",
            "* STATUS \"INBOX\" (MESSAGES 0 UNSEEN 0 UIDNEXT 1)",
            "* LIST (\\Noinferiors",
            "* STATUS \"box\" (MESSAGES 2 UNSEEN 1 UIDNEXT 3)",
            "* LIST (\\Noselect \\HasNoChildren) \"/\" \"dir\"",
            "a3 OK",
        ],
    );
    assert!(!r.contains("STATUS \"dir\""), "{r}");
    assert_lines(&c.cmd("a4 LIST \"\" * RETURN (STATUS (BOGUS))"), &["a4 BAD"]);
    assert_lines(&c.cmd("a5 LIST \"\" * RETURN (STATUS ())"), &["a5 BAD"]);
}

// ------------------------------------------------ LOGIN- and MAILBOX-REFERRALS

#[test]
fn login_referral_only_after_the_password_was_right() {
    let env = Env::new();
    let settings = Settings {
        referrals: Referrals {
            login: vec![(USER.into(), "mail2.example.org".into())],
            mailboxes: Vec::new(),
        },
        ..Settings::default()
    };
    let mut c = env.client_with(Options {
        preauth: false,
        settings,
        ..Options::default()
    });
    assert!(c.greeting.contains(" LOGIN-REFERRALS "), "{}", c.greeting);
    assert_lines(
        &c.cmd(&format!("a1 LOGIN {USER} wrong")),
        &["a1 NO [AUTHENTICATIONFAILED]"],
    );
    assert_eq!(
        c.cmd(&format!("a2 LOGIN {USER} {PASSWORD}")),
        "a2 NO [REFERRAL imap://alice;AUTH=*@mail2.example.org/] LOGIN failed: this user's mail is on another server\r\n"
    );
    assert_lines(
        &c.cmd("a3 AUTHENTICATE PLAIN AGFsaWNlAHdvbmRlcmxhbmQ="),
        &["a3 NO [REFERRAL imap://alice;AUTH=*@mail2.example.org/]"],
    );
    // Still not logged in.
    assert_lines(&c.cmd("a4 SELECT INBOX"), &["a4 BAD SELECT not allowed now"]);
}

#[test]
fn mailbox_referrals_for_remote_mailboxes_and_rlist() {
    let env = Env::new();
    let settings = Settings {
        referrals: Referrals {
            login: Vec::new(),
            mailboxes: vec![("shared/news".into(), "news.example.org".into())],
        },
        ..Settings::default()
    };
    let mut c = env.client_with(Options {
        settings,
        ..Options::default()
    });
    c.cmd("a0 CREATE shared/local");
    let url = "imap://alice;AUTH=*@news.example.org/shared/news";
    for (i, cmd) in [
        "SELECT shared/news",
        "EXAMINE shared/news",
        "CREATE shared/news",
        "DELETE shared/news",
        "STATUS shared/news (MESSAGES)",
    ]
    .iter()
    .enumerate()
    {
        let r = c.cmd(&format!("r{i} {cmd}"));
        assert_eq!(
            tagged_line(&r),
            format!("r{i} NO [REFERRAL {url}] Remote mailbox; try the server named in the referral")
        );
    }
    // Inferiors are remote too; names are URL-encoded.
    assert_lines(
        &c.cmd("b1 SELECT \"shared/news/a b\""),
        &[&format!("b1 NO [REFERRAL {url}/a%20b]")],
    );
    // APPEND is refused before its message is sent.
    c.send(b"b2 APPEND shared/news {10}\r\n");
    assert_lines(&c.read_tagged("b2"), &["b2 NO [REFERRAL "]);
    assert_lines(
        &c.cmd("b3 RENAME shared/news mine"),
        &[&format!(
            "b3 NO [REFERRAL {url} imap://alice;AUTH=*@testhost/mine]"
        )],
    );
    c.cmd("b4 SELECT INBOX");
    assert_lines(&c.cmd("b5 COPY 1:* shared/news"), &["b5 NO [REFERRAL "]);
    c.cmd_literal("b6 APPEND INBOX", &message("x", "y"), "");
    c.cmd("b7 NOOP");
    assert_lines(&c.cmd("b8 COPY 1 shared/news"), &["b8 NO [REFERRAL "]);
    assert_lines(&c.cmd("b9 MOVE 1 shared/news"), &["b9 NO [REFERRAL "]);
    // LIST shows local mailboxes only; RLIST and LIST (REMOTE) the remote one too.
    let r = c.cmd("c1 LIST \"\" shared/*");
    assert!(!r.contains("news"), "{r}");
    assert_lines(
        &c.cmd("c2 RLIST \"\" shared/*"),
        &[
            "* LIST (\\Noinferiors \\Unmarked) \"/\" \"shared/local\"",
            "* LIST (\\Remote) \"/\" \"shared/news\"",
            "c2 OK",
        ],
    );
    assert_lines(
        &c.cmd("c3 LIST (REMOTE) \"\" shared/n*"),
        &["* LIST (\\Remote) \"/\" \"shared/news\"", "c3 OK"],
    );
    // The subscription list is kept here: LSUB without it, RLSUB with it.
    assert_lines(&c.cmd("c4 SUBSCRIBE shared/news"), &["c4 OK"]);
    assert_eq!(c.cmd("c5 LSUB \"\" *"), "c5 OK LSUB completed\r\n");
    assert_lines(
        &c.cmd("c6 RLSUB \"\" *"),
        &["* LSUB () \"/\" \"shared/news\"", "c6 OK RLSUB completed"],
    );
}

// ------------------------------------------------------------------ COMPRESS

/// RFC 4978 over a host that cannot compress (the in-memory one): not
/// announced, refused with NO after login and BAD before, an unknown mechanism
/// BAD. The compressed session itself runs in bin/imapd/tests/compress.rs and
/// crates/daemon/tests/compress.rs.
#[test]
fn compress_is_refused_where_the_connection_cannot_compress() {
    let env = Env::new();
    let mut c = env.client_with(Options {
        preauth: false,
        ..Options::default()
    });
    assert_lines(&c.cmd("c0 COMPRESS DEFLATE"), &["c0 BAD COMPRESS not allowed now: log in first"]);
    login(&mut c);
    let caps = c.cmd("c1 CAPABILITY");
    assert!(!caps.contains("COMPRESS"), "{caps}");
    assert_lines(&c.cmd("c2 COMPRESS LZMA"), &["c2 BAD Unknown compression mechanism LZMA"]);
    assert_lines(&c.cmd("c3 COMPRESS deflate"), &["c3 NO Compression is not available"]);
    assert_lines(&c.cmd("c4 COMPRESS"), &["c4 BAD"]);
    assert_lines(&c.cmd("c5 NOOP"), &["c5 OK"]);
}

// ------------------------------------------------------- STATUS=SIZE, APPENDLIMIT

/// RFC 8438: STATUS SIZE is the sum of the messages' RFC822.SIZE, from the file
/// and from the session's own view of the selected mailbox, and in LIST-STATUS.
#[test]
fn status_size_is_the_sum_of_the_message_sizes() {
    let env = Env::new();
    let mut c = with_box(&env, 3);
    c.cmd("x0 STORE 1 +FLAGS (\\Deleted)");
    let r = c.cmd("s1 SELECT box");
    assert_lines(&r, &["* 3 EXISTS", "s1 OK"]);
    let sizes = c.cmd("f1 FETCH 1:* RFC822.SIZE");
    let total: u64 = sizes
        .lines()
        .filter_map(|l| l.split("RFC822.SIZE ").nth(1))
        .map(|v| v.trim_end_matches(')').parse::<u64>().unwrap())
        .sum();
    assert!(total > 100, "{sizes}");
    assert_lines(
        &c.cmd("s2 STATUS box (MESSAGES SIZE)"),
        &[&format!("* STATUS \"box\" (MESSAGES 3 SIZE {total})"), "s2 OK"],
    );
    let first: u64 = sizes
        .lines()
        .next()
        .and_then(|l| l.split("RFC822.SIZE ").nth(1))
        .map(|v| v.trim_end_matches(')').parse().unwrap())
        .unwrap();
    c.cmd("e1 STORE 1 +FLAGS.SILENT (\\Deleted)");
    assert_lines(&c.cmd("e2 EXPUNGE"), &["* 1 EXPUNGE", "e2 OK"]);
    // The session's view of the selected mailbox.
    assert_lines(
        &c.cmd("s3 STATUS box (SIZE)"),
        &[&format!("* STATUS \"box\" (SIZE {})", total - first), "s3 OK"],
    );
    c.cmd("u1 UNSELECT");
    // From the file, and through LIST-STATUS.
    assert_lines(
        &c.cmd("s4 STATUS box (SIZE UNSEEN)"),
        &[&format!("* STATUS \"box\" (SIZE {} UNSEEN 2)", total - first), "s4 OK"],
    );
    assert_lines(
        &c.cmd("l1 LIST \"\" box RETURN (STATUS (SIZE))"),
        &["* LIST", &format!("* STATUS \"box\" (SIZE {})", total - first), "l1 OK"],
    );
    assert_lines(&c.cmd("s5 STATUS INBOX (SIZE)"), &["* STATUS \"INBOX\" (SIZE 0)", "s5 OK"]);
}

/// RFC 7889: APPENDLIMIT=n is the largest message APPEND takes (the configured
/// literal limit), STATUS APPENDLIMIT says the same for each mailbox, and a
/// larger message is NO [TOOBIG] before it is sent.
#[test]
fn appendlimit_is_the_literal_limit() {
    let env = Env::new();
    let mut c = env.client_with(Options {
        limits: imap::Limits {
            literal: 2000,
            append: 2000 + 65536,
            ..imap::Limits::default()
        },
        ..Options::default()
    });
    assert!(
        c.greeting.split([' ', ']']).any(|w| w == "APPENDLIMIT=2000"),
        "{}",
        c.greeting
    );
    c.cmd("c1 CREATE box");
    assert_lines(
        &c.cmd("s1 STATUS box (APPENDLIMIT MESSAGES)"),
        &["* STATUS \"box\" (APPENDLIMIT 2000 MESSAGES 0)", "s1 OK"],
    );
    let fits = message("fits", &"f".repeat(1800));
    assert!(fits.len() <= 2000);
    assert_lines(&c.cmd_literal("a1 APPEND box", &fits, ""), &["a1 OK [APPENDUID"]);
    let big = message("big", &"b".repeat(2000));
    let r = c.cmd_literal("a2 APPEND box", &big, "");
    assert!(r.starts_with("a2 NO [TOOBIG]"), "refused before the literal: {r}");
    assert_lines(&c.cmd("s2 STATUS box (MESSAGES)"), &["* STATUS \"box\" (MESSAGES 1)", "s2 OK"]);
}
