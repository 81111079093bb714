//! Error paths: commands in the wrong state, malformed syntax, oversize commands
//! and literals, bad sequence sets, hostile mailbox names. After every one the
//! session must still answer NOOP — it never loses its place in the stream.

mod support;

use imap::Limits;
use support::{assert_lines, message, tagged_line, Env, Options};

/// Sends `line`, checks the tagged answer starts with `want`, then that NOOP works.
#[track_caller]
fn refused_then_noop(c: &mut support::Client, n: usize, line: &str, want: &str) {
    let r = c.cmd(line);
    let tagged = tagged_line(&r);
    assert!(
        tagged.starts_with(want),
        "{line:?} answered {r:?}, want {want:?}"
    );
    let tag = format!("n{n}");
    assert_lines(&c.cmd(&format!("{tag} NOOP")), &[&format!("{tag} OK")]);
}

#[test]
fn every_command_in_the_wrong_state_is_bad() {
    let env = Env::new();
    std::fs::write(env.mail("box"), b"").unwrap();
    // Not authenticated: everything but CAPABILITY, NOOP, LOGOUT, STARTTLS,
    // AUTHENTICATE, LOGIN.
    let mut c = env.login_client();
    let not_authenticated = [
        "SELECT box",
        "EXAMINE box",
        "CREATE x",
        "DELETE box",
        "RENAME box y",
        "SUBSCRIBE box",
        "UNSUBSCRIBE box",
        "LIST \"\" *",
        "LSUB \"\" *",
        "STATUS box (MESSAGES)",
        "APPEND box {1+}\r\nx",
        "CHECK",
        "CLOSE",
        "EXPUNGE",
        "SEARCH ALL",
        "FETCH 1 FLAGS",
        "STORE 1 +FLAGS (\\Seen)",
        "COPY 1 box",
        "UID FETCH 1 FLAGS",
        "UID SEARCH ALL",
        "UID STORE 1 FLAGS ()",
        "UID COPY 1 box",
    ];
    for (i, cmd) in not_authenticated.iter().enumerate() {
        refused_then_noop(&mut c, i, &format!("w{i} {cmd}"), &format!("w{i} BAD"));
    }
    assert!(!env.mail("x").exists(), "nothing ran");
    // Authenticated, nothing selected: the selected-state commands, and login.
    let mut c = env.client();
    let authenticated = [
        "CHECK",
        "CLOSE",
        "EXPUNGE",
        "SEARCH ALL",
        "FETCH 1 FLAGS",
        "STORE 1 +FLAGS (\\Seen)",
        "COPY 1 box",
        "UID FETCH 1 FLAGS",
        "UID SEARCH ALL",
        "UID STORE 1 FLAGS ()",
        "UID COPY 1 box",
        "LOGIN alice wonderland",
        "AUTHENTICATE PLAIN",
        "STARTTLS",
    ];
    for (i, cmd) in authenticated.iter().enumerate() {
        refused_then_noop(&mut c, i, &format!("v{i} {cmd}"), &format!("v{i} BAD"));
    }
    // Selected: login again.
    c.cmd("s0 SELECT box");
    for (i, cmd) in ["LOGIN alice wonderland", "AUTHENTICATE PLAIN", "STARTTLS"]
        .iter()
        .enumerate()
    {
        refused_then_noop(
            &mut c,
            i,
            &format!("s{} {cmd}", i + 1),
            &format!("s{} BAD", i + 1),
        );
    }
}

#[test]
fn malformed_commands_are_bad_and_keep_their_tag() {
    let env = Env::new();
    std::fs::write(env.mail("box"), b"").unwrap();
    let mut c = env.client();
    c.cmd_literal("p0 APPEND box", &message("m", "b"), "");
    c.cmd("p1 SELECT box");
    let cases = [
        "m1 FROBNICATE",
        "m2 NOOP extra",
        "m3 CAPABILITY(",
        "m4 SELECT",
        "m5 SELECT  box",
        "m6 FETCH",
        "m7 FETCH 1",
        "m8 FETCH 1 (FLAGS",
        "m9 FETCH 1 (FOO)",
        "m10 FETCH 1 BODY[HEADER.FIELDS]",
        "m11 FETCH 1 BODY[1.2.MIME",
        "m12 FETCH 1 BODY[MIME]",
        "m13 FETCH 1 BODY[]<1>",
        "m14 FETCH 1 BODY[]<1.0>",
        "m15 FETCH 1 (ALL)",
        "m16 STORE 1 FLAGS",
        "m17 STORE 1 FLAGZ (\\Seen)",
        "m18 STORE 1 +FLAGS (\\Seen",
        "m19 SEARCH",
        "m20 SEARCH FOO",
        "m21 SEARCH (SEEN",
        "m22 SEARCH OR SEEN",
        "m23 SEARCH SINCE 1-Foo-2024",
        "m24 SEARCH SINCE 32-Jan-2024",
        "m25 SEARCH LARGER x",
        "m26 SEARCH HEADER Subject",
        "m27 LOGIN",
        "m28 STATUS box (MESSAGES FOO)",
        "m29 STATUS box",
        "m30 LIST \"\"",
        "m31 CREATE \"unterminated",
        "m32 CREATE \"bad\\escape\"",
        "m33 APPEND box (\\Seen) \"1-Jan-2024\" {1+}\r\nx",
        "m34 APPEND box",
        "m35 UID",
        "m36 UID EXPUNGE",
        "m37 COPY 1",
        "m38 RENAME box",
        "m39 EXAMINE {2+}\r\nab extra",
        "m40 SEARCH NOT",
        "m41 FETCH 1 BINARY[1.HEADER]",
        "m42 SEARCH UID",
        "m43 STORE 1 +FLAGS ()extra",
        "m44 FETCH 1 BODY[HEADER.FIELDS ()]",
        "m45 SEARCH KEYWORD",
        "m46 SEARCH CHARSET",
    ];
    for (i, line) in cases.iter().enumerate() {
        let tag = line.split(' ').next().unwrap();
        refused_then_noop(&mut c, i, line, &format!("{tag} BAD"));
    }
    // No tag, or an invalid one: untagged BAD.
    for (i, line) in [
        "",
        " NOOP",
        "+tag NOOP",
        "(x NOOP",
        "a{b NOOP",
        "\u{1}a NOOP",
    ]
    .iter()
    .enumerate()
    {
        if line.is_empty() {
            c.send(b"\r\n");
            continue;
        }
        c.send(format!("{line}\r\n").as_bytes());
        let r = c.read_line();
        assert!(r.starts_with("* BAD"), "{line:?}: {r}");
        assert_lines(&c.cmd(&format!("t{i} NOOP")), &[&format!("t{i} OK")]);
    }
    // Nesting past the limit.
    let deep = format!("d1 SEARCH {}ALL{}", "(".repeat(100), ")".repeat(100));
    refused_then_noop(&mut c, 99, &deep, "d1 BAD");
    let deep = format!("d2 SEARCH {}ALL", "NOT ".repeat(100));
    refused_then_noop(&mut c, 98, &deep, "d2 BAD");
}

#[test]
fn bad_sequence_sets() {
    let env = Env::new();
    std::fs::write(env.mail("box"), b"").unwrap();
    let mut c = env.client();
    c.cmd("a0 SELECT box");
    // An empty mailbox: '*' names nothing.
    refused_then_noop(&mut c, 0, "b0 FETCH * FLAGS", "b0 BAD");
    refused_then_noop(&mut c, 1, "b1 FETCH 1:* FLAGS", "b1 BAD");
    assert_lines(&c.cmd("b2 UID FETCH 1:* FLAGS"), &["b2 OK"]);
    for i in 1..=3 {
        c.cmd_literal(&format!("a{i} APPEND box"), &message("m", "b"), "");
    }
    c.cmd("a9 NOOP");
    let cases = [
        ("c0 FETCH 0 FLAGS", "c0 BAD"),
        ("c1 FETCH 1:0 FLAGS", "c1 BAD"),
        ("c2 FETCH 4 FLAGS", "c2 BAD"),
        ("c3 FETCH 2:9 FLAGS", "c3 BAD"),
        ("c4 FETCH a:b FLAGS", "c4 BAD"),
        ("c5 FETCH 1,,2 FLAGS", "c5 BAD"),
        ("c6 FETCH 1: FLAGS", "c6 BAD"),
        ("c7 FETCH :2 FLAGS", "c7 BAD"),
        ("c8 FETCH 4294967296 FLAGS", "c8 BAD"),
        ("c9 FETCH -1 FLAGS", "c9 BAD"),
        ("d0 STORE 5 +FLAGS (\\Seen)", "d0 BAD"),
        ("d1 COPY 0 box", "d1 BAD"),
        ("d2 FETCH 1 ,2 FLAGS", "d2 BAD"),
        ("d3 UID FETCH 0 FLAGS", "d3 BAD"),
        ("d4 UID FETCH 99 FLAGS", "d4 OK"),
        ("d5 UID STORE 99:100 +FLAGS (\\Seen)", "d5 OK"),
        ("d6 SEARCH 7", "d6 OK"),
        ("d7 FETCH 3:1 UID", "d7 OK"),
        ("d8 FETCH *:2 UID", "d8 OK"),
    ];
    for (i, (line, want)) in cases.iter().enumerate() {
        refused_then_noop(&mut c, i, line, want);
    }
    let r = c.cmd("e1 FETCH 3:1,2 UID");
    assert_lines(
        &r,
        &[
            "* 1 FETCH (UID 1)",
            "* 2 FETCH (UID 2)",
            "* 3 FETCH (UID 3)",
            "e1 OK",
        ],
    );
    assert_eq!(r.matches("FETCH (").count(), 3, "each message once: {r}");
}

#[test]
fn hostile_mailbox_names_get_no() {
    let env = Env::new();
    std::fs::write(env.mail("box"), b"").unwrap();
    std::fs::write(env.home.join("notes.txt"), b"not mail\n").unwrap();
    let secret = env.dir.path().join("secret");
    std::fs::write(
        &secret,
        b"From x Thu Jan  4 12:19:00 2024\nSubject: s\n\nsecret\n",
    )
    .unwrap();
    let outside = secret.display().to_string();
    let mut c = env.client();
    c.cmd("a0 SELECT box");
    let names = [
        "/etc/passwd",
        outside.as_str(),
        "~root/x",
        "~/x",
        "../x",
        "../../secret",
        "a/../../secret",
        "{host}x",
        "{localhost:143}INBOX",
        "#news.comp",
        ".ssh/authorized_keys",
        ".pullmail/x",
        "box.lock",
        "a//b",
        "./box",
    ];
    let mut n = 0;
    for name in names {
        let quoted = format!("\"{name}\"");
        for cmd in [
            format!("SELECT {quoted}"),
            format!("EXAMINE {quoted}"),
            format!("CREATE {quoted}"),
            format!("DELETE {quoted}"),
            format!("RENAME box {quoted}"),
            format!("RENAME {quoted} other"),
            format!("SUBSCRIBE {quoted}"),
            format!("STATUS {quoted} (MESSAGES)"),
            format!("APPEND {quoted} {{1+}}\r\nx"),
            format!("COPY 1:* {quoted}"),
        ] {
            n += 1;
            let line = format!("h{n} {cmd}");
            let r = c.cmd(&line);
            let t = tagged_line(&r);
            // COPY of an empty set has nothing to do; everything else is refused.
            let refused = t.starts_with(&format!("h{n} NO"))
                || t.starts_with(&format!("h{n} BAD"))
                || (cmd.starts_with("COPY") && t.starts_with(&format!("h{n} BAD Invalid message")));
            assert!(refused, "{line:?}: {r}");
            assert_lines(&c.cmd(&format!("n{n} NOOP")), &[&format!("n{n} OK")]);
        }
        // LIST with a hostile reference, or pattern, lists nothing.
        for (reference, pattern) in [
            (name.to_string(), "*".to_string()),
            (String::new(), format!("{name}*")),
            (String::new(), format!("{name}/%")),
        ] {
            n += 1;
            let r = c.cmd(&format!("l{n} LIST \"{reference}\" \"{pattern}\""));
            assert!(!r.contains("* LIST"), "LIST {reference:?} {pattern:?}: {r}");
            assert_lines(&r, &[&format!("l{n} OK")]);
        }
    }
    assert!(!env.dir.path().join("x").exists());
    assert_eq!(
        std::fs::read(&secret).unwrap(),
        b"From x Thu Jan  4 12:19:00 2024\nSubject: s\n\nsecret\n"
    );
    assert!(std::fs::read_to_string("/etc/passwd")
        .unwrap()
        .contains("root"));
    // Not a mailbox: a text file under the root.
    let r = c.cmd("z1 SELECT ../notes.txt");
    assert!(tagged_line(&r).starts_with("z1 NO"), "{r}");
}

#[test]
fn oversize_commands_and_literals_are_refused_in_step() {
    let env = Env::new();
    std::fs::write(env.mail("box"), b"").unwrap();
    let limits = Limits {
        line: 1024,
        literal: 4096,
        append: 8192,
        literal_minus: false,
    };
    let mut c = env.client_with(Options {
        limits,
        ..Options::default()
    });
    // A synchronizing literal over the limit: refused before the client sends it.
    c.send(b"a1 APPEND box {4097}\r\n");
    let r = c.read_line();
    assert_eq!(r, "a1 NO [TOOBIG] Literal too large\r\n");
    assert_lines(&c.cmd("n1 NOOP"), &["n1 OK"]);
    // Far over: a size no memory could hold.
    c.send(b"a2 APPEND box {99999999999999999999}\r\n");
    assert_eq!(c.read_line(), "a2 NO [TOOBIG] Literal too large\r\n");
    assert_lines(&c.cmd("n2 NOOP"), &["n2 OK"]);
    // Non-synchronizing: the client sends it anyway; it is read and dropped.
    let mut big = b"a3 APPEND box {100000+}\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 99_990));
    big.extend_from_slice(b"a9 LOGOUT\r\n");
    big.extend_from_slice(b"\r\n");
    let r = c.cmd_bytes("a3", &big);
    assert_eq!(r, "a3 BAD [TOOBIG] Literal too large\r\n");
    assert_lines(&c.cmd("n3 NOOP"), &["n3 OK"]);
    // Outside APPEND the command-line budget applies to literals.
    c.send(b"a4 LOGIN {2000}\r\n");
    assert_eq!(c.read_line(), "a4 NO [TOOBIG] Literal too large\r\n");
    assert_lines(&c.cmd("n4 NOOP"), &["n4 OK"]);
    // A line over the limit, with a literal at its end that the client sends at once.
    let mut long = b"a5 SEARCH TEXT ".to_vec();
    long.extend(std::iter::repeat_n(b'y', 5000));
    long.extend_from_slice(b" {12+}\r\na6 LOGOUT\r\n\r\n");
    let r = c.cmd_bytes("a5", &long);
    assert_eq!(r, "a5 BAD [TOOBIG] Command line too long\r\n");
    assert_lines(&c.cmd("n5 NOOP"), &["n5 OK"]);
    // Within the limits everything works, and nothing was appended.
    let r = c.cmd_literal("a7 APPEND box", &vec![b'z'; 3000], "");
    assert_lines(&r, &["a7 OK"]);
    assert_lines(
        &c.cmd("a8 STATUS box (MESSAGES)"),
        &["* STATUS \"box\" (MESSAGES 1)"],
    );
}

#[test]
fn idle_clients_are_logged_out() {
    let env = Env::new();
    std::fs::write(env.mail("box"), b"").unwrap();
    let mut c = env.client_with(Options {
        idle: std::time::Duration::from_millis(300),
        ..Options::default()
    });
    c.cmd("a1 SELECT box");
    c.cmd("a2 STORE 1:* +FLAGS (\\Seen)");
    let r = c.read_line();
    assert_eq!(r, "* BYE Autologout; idle for too long\r\n");
    assert!(matches!(
        c.close(),
        imap::Ending::Error(daemon::Error::IdleTimeout)
    ));
}
