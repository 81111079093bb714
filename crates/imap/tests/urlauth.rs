//! URLAUTH (RFC 4467): GENURLAUTH, URLFETCH and RESETKEY with the INTERNAL
//! mechanism, the RFC's examples and the ways a URL stops working (a new key,
//! expiry, another user, a changed URL, a mechanism we do not have), and the
//! key file's mode.

mod support;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};

use support::{assert_lines, message, tagged_line, Client, Env, USER};

/// `box` with a two-part message as UID 1 and a one-part one as UID 2.
fn setup(c: &mut Client) {
    c.cmd("a0 CREATE box");
    let draft = b"From: Alice <alice@example.org>\r\n\
Subject: draft\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"XX\"\r\n\
\r\n\
--XX\r\n\
Content-Type: text/plain\r\n\
\r\n\
The text of the draft.\r\n\
--XX\r\n\
Content-Type: application/octet-stream\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
aGVsbG8gd29ybGQ=\r\n\
--XX--\r\n";
    let r = c.cmd_literal("a1 APPEND box", draft, "");
    assert!(tagged_line(&r).starts_with("a1 OK"), "{r}");
    c.cmd_literal("a2 APPEND box", &message("two", "second body"), "");
}

/// The authorized URL of `* GENURLAUTH "url"`.
fn gen(c: &mut Client, tag: &str, rump: &str) -> String {
    let r = c.cmd(&format!("{tag} GENURLAUTH \"{rump}\" INTERNAL"));
    assert_lines(
        &r,
        &["* GENURLAUTH \"", &format!("{tag} OK GENURLAUTH completed")],
    );
    let line = r.lines().next().unwrap();
    let url = line
        .trim_start_matches("* GENURLAUTH \"")
        .trim_end_matches('"')
        .to_string();
    assert!(url.starts_with(rump), "{url}");
    let token = url.rsplit(':').next().unwrap();
    assert_eq!(&url[rump.len()..rump.len() + 10], ":INTERNAL:", "{url}");
    assert_eq!(token.len(), 40, "HMAC-SHA1 in hex: {url}");
    url
}

fn fetch(c: &mut Client, tag: &str, url: &str) -> String {
    c.cmd(&format!("{tag} URLFETCH \"{url}\""))
}

#[test]
fn generated_urls_fetch_until_the_key_is_reset() {
    let env = Env::new();
    let mut c = env.client();
    setup(&mut c);
    let part = gen(
        &mut c,
        "g1",
        &format!("imap://{USER}@example.com/box/;uid=1/;section=1;urlauth=user+{USER}"),
    );
    let whole = gen(
        &mut c,
        "g2",
        &format!("imap://{USER}@example.com/box/;uid=2;urlauth=authuser"),
    );
    let r = fetch(&mut c, "f1", &part);
    assert_lines(
        &r,
        &[
            &format!("* URLFETCH \"{part}\" \"The text of the draft.\""),
            "f1 OK",
        ],
    );
    let r = fetch(&mut c, "f2", &whole);
    assert!(r.starts_with(&format!("* URLFETCH \"{whole}\" {{")), "{r}");
    assert!(
        r.contains("Subject: two\r\n") && r.contains("second body"),
        "{r}"
    );

    // The key file is private to the user.
    let keys = env.home.join(".pullmail/urlauth-keys");
    let mode = std::fs::metadata(&keys).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // A changed URL (another UID under the same token) fetches nothing.
    let forged = part.replacen(";uid=1", ";uid=2", 1);
    let r = fetch(&mut c, "f3", &forged);
    assert_lines(&r, &[&format!("* URLFETCH \"{forged}\" NIL"), "f3 OK"]);

    // RESETKEY of the mailbox: both URLs stop working; new ones work again.
    assert_lines(&c.cmd("r1 RESETKEY box"), &["r1 OK RESETKEY completed"]);
    let r = fetch(&mut c, "f4", &part);
    assert_lines(&r, &[&format!("* URLFETCH \"{part}\" NIL"), "f4 OK"]);
    let again = gen(
        &mut c,
        "g3",
        &format!("imap://{USER}@example.com/box/;uid=1/;section=1;urlauth=user+{USER}"),
    );
    assert_ne!(again, part);
    let r = fetch(&mut c, "f5", &again);
    assert_lines(
        &r,
        &[
            &format!("* URLFETCH \"{again}\" \"The text of the draft.\""),
            "f5 OK",
        ],
    );

    // RESETKEY with no mailbox drops every key.
    assert_lines(&c.cmd("r2 RESETKEY"), &["r2 OK"]);
    let r = fetch(&mut c, "f6", &again);
    assert_lines(&r, &[&format!("* URLFETCH \"{again}\" NIL"), "f6 OK"]);
}

#[test]
fn expiry_other_users_access_and_mechanisms() {
    let env = Env::new();
    let mut c = env.client();
    setup(&mut c);
    let base = format!("imap://{USER}@example.com/box/;uid=2");
    // Expired already: refused when asked for.
    let r = c.cmd(&format!(
        "g1 GENURLAUTH \"{base};expire=2001-01-01T00:00:00Z;urlauth=anonymous\" INTERNAL"
    ));
    assert_lines(&r, &["g1 NO "]);
    // Expiring far ahead: works.
    let later = gen(
        &mut c,
        "g2",
        &format!("{base};EXPIRE=2999-01-01T00:00:00+01:00;URLAUTH=anonymous"),
    );
    let r = fetch(&mut c, "f1", &later);
    assert!(r.contains("second body"), "{r}");

    // Another user's mailbox: refused, and a URL naming them fetches nothing.
    let r =
        c.cmd("g3 GENURLAUTH \"imap://fred@example.com/box/;uid=2;urlauth=anonymous\" INTERNAL");
    assert_lines(&r, &["g3 NO "]);
    let fred = format!(
        "imap://fred@example.com/box/;uid=2;urlauth=anonymous:INTERNAL:{}",
        "0".repeat(40)
    );
    assert_lines(
        &fetch(&mut c, "f2", &fred),
        &[&format!("* URLFETCH \"{fred}\" NIL"), "f2 OK"],
    );

    // Access for another user only: this session may not fetch it.
    let for_fred = gen(&mut c, "g4", &format!("{base};urlauth=user+fred"));
    assert_lines(
        &fetch(&mut c, "f3", &for_fred),
        &[&format!("* URLFETCH \"{for_fred}\" NIL"), "f3 OK"],
    );

    // A mechanism we do not have, in either command.
    assert_lines(
        &c.cmd(&format!(
            "g5 GENURLAUTH \"{base};urlauth=anonymous\" XSAMPLE"
        )),
        &["g5 NO "],
    );
    assert_lines(&c.cmd("r1 RESETKEY box XSAMPLE"), &["r1 NO "]);
    let other = later.replace(":INTERNAL:", ":XSAMPLE:");
    assert_lines(
        &fetch(&mut c, "f4", &other),
        &[&format!("* URLFETCH \"{other}\" NIL"), "f4 OK"],
    );

    // Not a rump URL, and a mailbox that is not there.
    assert_lines(
        &c.cmd(&format!("g6 GENURLAUTH \"{base}\" INTERNAL")),
        &["g6 BAD "],
    );
    assert_lines(
        &c.cmd(&format!(
            "g7 GENURLAUTH \"imap://{USER}@example.com/nobox/;uid=1;urlauth=anonymous\" INTERNAL"
        )),
        &["g7 NO "],
    );
    assert_lines(&c.cmd("r2 RESETKEY nobox"), &["r2 NO "]);
}

#[test]
fn binary_and_bodypartstructure_forms() {
    let env = Env::new();
    let mut c = env.client();
    setup(&mut c);
    let url = gen(
        &mut c,
        "g1",
        &format!("imap://{USER}@example.com/box/;uid=1/;section=2;urlauth=user+{USER}"),
    );
    // Asked with BINARY, the structure gives the decoded size (11, not 16).
    let r = c.cmd(&format!("f1 URLFETCH (\"{url}\" BODYPARTSTRUCTURE BINARY)"));
    assert_lines(
        &r,
        &[
            &format!(
                "* URLFETCH \"{url}\" (BODYPARTSTRUCTURE (\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BASE64\" 11 NIL NIL NIL NIL) BINARY ~{{11}}"
            ),
            "hello world)",
            "f1 OK",
        ],
    );
    assert_lines(
        &c.cmd(&format!("f2 URLFETCH (\"{url}\" BOGUS)")),
        &["f2 BAD "],
    );
}

#[test]
fn urlauth_commands_need_a_login() {
    let env = Env::new();
    let mut c = env.login_client();
    let r =
        c.cmd("a1 URLFETCH \"imap://alice@example.com/box/;uid=1;urlauth=anonymous:INTERNAL:00\"");
    assert_lines(&r, &["a1 BAD "]);
    assert_lines(&c.cmd("a2 RESETKEY"), &["a2 BAD "]);
}

/// URLAUTH=BINARY (RFC 5524) of a message/rfc822 part: the encapsulated message
/// with its leaves decoded; with BODYPARTSTRUCTURE too, the structure has the
/// decoded sizes (in that order whatever the request's).
#[test]
fn binary_of_an_encapsulated_message_decodes_its_parts() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd("a0 CREATE box");
    let outer = b"From: a@example.org\r\n\
Content-Type: multipart/mixed; boundary=\"o\"\r\n\
\r\n\
--o\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
Subject: inner\r\n\
Content-Type: multipart/alternative; boundary=\"i\"\r\n\
\r\n\
--i\r\n\
Content-Type: text/plain\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
aGVsbG8gd29ybGQ=\r\n\
--i--\r\n\
\r\n\
--o--\r\n";
    let r = c.cmd_literal("a1 APPEND box", outer, "");
    assert!(tagged_line(&r).starts_with("a1 OK"), "{r}");
    let url = gen(
        &mut c,
        "g1",
        &format!("imap://{USER}@example.com/box/;uid=1/;section=1;urlauth=user+{USER}"),
    );
    let inner = "Subject: inner\r\n\
Content-Type: multipart/alternative; boundary=\"i\"\r\n\
\r\n\
--i\r\n\
Content-Type: text/plain\r\n\
Content-Transfer-Encoding: binary\r\n\
\r\n\
hello world\r\n\
--i--\r\n";
    let r = c.cmd(&format!("f1 URLFETCH (\"{url}\" BINARY BODYPARTSTRUCTURE)"));
    let head = format!(
        "* URLFETCH \"{url}\" (BODYPARTSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" {} ",
        inner.len()
    );
    assert!(r.starts_with(&head), "{r}");
    assert!(
        r.contains("\"BASE64\" 11 0 "),
        "the decoded leaf's size: {r}"
    );
    let lines = inner.matches('\n').count();
    let tail = format!(
        ") {lines} NIL NIL NIL NIL) BINARY ~{{{}}}\r\n{inner})\r\nf1 OK",
        inner.len()
    );
    assert!(r.contains(&tail), "{r}");
    // BODYPARTSTRUCTURE alone describes the part as stored.
    let r = c.cmd(&format!("f2 URLFETCH (\"{url}\" BODYPARTSTRUCTURE)"));
    assert!(r.contains("\"BASE64\" 16 0 "), "{r}");
}

/// Issue 14 (only regular files): the key file sits in the user's state directory,
/// so the user can put anything there. A FIFO blocked GENURLAUTH in open(2) for
/// good, and a huge file was read whole. Both are refused at once and left alone.
#[test]
fn a_key_file_that_is_not_a_small_regular_file_is_refused_at_once() {
    let env = Env::new();
    let mut c = env.client();
    setup(&mut c);
    let dir = env.home.join(".pullmail");
    std::fs::create_dir_all(&dir).unwrap();
    let keys = dir.join("urlauth-keys");
    let c_path = std::ffi::CString::new(keys.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let rump = format!("imap://{USER}@example.com/box/;uid=1;urlauth=authuser");
    let started = std::time::Instant::now();
    let r = c.cmd(&format!("g1 GENURLAUTH \"{rump}\" INTERNAL"));
    assert!(tagged_line(&r).starts_with("g1 NO "), "{r}");
    let r = c.cmd("r1 RESETKEY box");
    assert!(tagged_line(&r).starts_with("r1 NO "), "{r}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "answered at once"
    );
    assert!(std::fs::symlink_metadata(&keys)
        .unwrap()
        .file_type()
        .is_fifo());

    std::fs::remove_file(&keys).unwrap();
    let big = std::fs::File::create(&keys).unwrap();
    big.set_len(64 << 20).unwrap();
    let r = c.cmd(&format!("g2 GENURLAUTH \"{rump}\" INTERNAL"));
    assert!(tagged_line(&r).starts_with("g2 NO "), "{r}");
    assert_eq!(
        std::fs::metadata(&keys).unwrap().len(),
        64 << 20,
        "left alone"
    );

    // Once the user removes it, keys are made again.
    std::fs::remove_file(&keys).unwrap();
    gen(&mut c, "g3", &rump);
}
