//! CATENATE (RFC 4469): APPEND joined from TEXT literals and IMAP URLs of the
//! user's own messages, `NO [BADURL url]` and `NO [TOOBIG]`, all or nothing with
//! MULTIAPPEND, and URLs into the mailbox being appended to.

mod support;

use imap::Limits;
use support::{assert_lines, message, tagged_line, Client, Env, Options};

/// A multipart message: part 1 text, part 2 an attachment (as in RFC 4469 App. A).
const DRAFT: &[u8] = b"From: Alice <alice@example.org>\r\n\
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
\r\n\
AAAA\r\n\
--XX--\r\n";

enum Part<'a> {
    Text(&'a [u8]),
    Url(&'a str),
}

/// `tag APPEND mailbox` and one CATENATE list per message, literals non-synchronizing.
fn catenate(c: &mut Client, tag: &str, mailbox: &str, messages: &[&[Part]]) -> String {
    let mut cmd = format!("{tag} APPEND {mailbox}").into_bytes();
    for parts in messages {
        cmd.extend_from_slice(b" CATENATE (");
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                cmd.push(b' ');
            }
            match p {
                Part::Text(t) => {
                    cmd.extend_from_slice(format!("TEXT {{{}+}}\r\n", t.len()).as_bytes());
                    cmd.extend_from_slice(t);
                }
                Part::Url(u) => cmd.extend_from_slice(format!("URL \"{u}\"").as_bytes()),
            }
        }
        cmd.push(b')');
    }
    cmd.extend_from_slice(b"\r\n");
    c.cmd_bytes(tag, &cmd)
}

/// BODY[] of message `seq` of the selected mailbox.
fn body(c: &mut Client, seq: u32) -> Vec<u8> {
    let out = c.cmd_raw(format!("f{seq} FETCH {seq} BODY.PEEK[]\r\n").as_bytes(), &format!("f{seq}"));
    let text = String::from_utf8_lossy(&out).into_owned();
    let open = text.find("BODY[] {").unwrap_or_else(|| panic!("no BODY[] in {text}"));
    let rest = &out[open + 8..];
    let close = rest.iter().position(|&b| b == b'}').unwrap();
    let n: usize = std::str::from_utf8(&rest[..close]).unwrap().parse().unwrap();
    rest[close + 3..close + 3 + n].to_vec()
}

/// The count STATUS gives.
fn messages(c: &mut Client, mailbox: &str) -> String {
    let r = c.cmd(&format!("s1 STATUS {mailbox} (MESSAGES)"));
    r.lines().next().unwrap_or("").to_string()
}

/// `box` with DRAFT as UID 1 and a one-part message as UID 2; its UIDVALIDITY.
fn setup(c: &mut Client) -> String {
    c.cmd("a0 CREATE box");
    let r = c.cmd_literal("a1 APPEND box", DRAFT, "");
    let tagged = tagged_line(&r);
    assert!(tagged.starts_with("a1 OK [APPENDUID "), "{r}");
    let uidv = tagged.split(' ').nth(3).unwrap().to_string();
    c.cmd_literal("a2 APPEND box", &message("two", "second body"), "");
    uidv
}

#[test]
fn the_rfc_forward_joins_header_mime_part_and_text() {
    let env = Env::new();
    let mut c = env.client();
    let uidv = setup(&mut c);
    c.cmd("a3 CREATE Drafts");
    let header = format!("/box;UIDVALIDITY={uidv}/;UID=1/;SECTION=HEADER");
    let mime = "/box/;UID=1/;section=1.MIME";
    let part = "/box/;uid=1/;section=1";
    let r = catenate(
        &mut c,
        "a4",
        "Drafts",
        &[&[
            Part::Url(&header),
            Part::Text(b"--XX\r\n"),
            Part::Url(mime),
            Part::Url(part),
            Part::Text(b"\r\n--XX--\r\n"),
        ]],
    );
    assert_lines(&r, &["a4 OK [APPENDUID "]);
    c.cmd("a5 SELECT Drafts");
    let header_end = DRAFT.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut want = DRAFT[..header_end].to_vec();
    want.extend_from_slice(b"--XX\r\nContent-Type: text/plain\r\n\r\nThe text of the draft.\r\n--XX--\r\n");
    assert_eq!(String::from_utf8_lossy(&body(&mut c, 1)), String::from_utf8_lossy(&want));

    // Relative to the selected mailbox (RFC 5092 §7.2), a partial range past the
    // end is empty, TEXT of the one-part message.
    c.cmd("a6 SELECT box");
    let r = catenate(
        &mut c,
        "a7",
        "Drafts",
        &[&[
            Part::Url(";UID=2/;SECTION=HEADER.FIELDS%20(Subject)"),
            Part::Url("/box/;UID=2/;PARTIAL=100000.1"),
            Part::Url(";UID=2/;SECTION=TEXT"),
            Part::Url("/box/;UID=2/;PARTIAL=0.4"),
        ]],
    );
    assert_lines(&r, &["a7 OK [APPENDUID "]);
    c.cmd("a8 SELECT Drafts");
    assert_eq!(
        String::from_utf8_lossy(&body(&mut c, 2)),
        // The store ends the last line, as for any APPEND.
        "Subject: two\r\n\r\nsecond body\r\nFrom\r\n"
    );
}

#[test]
fn a_url_that_names_nothing_of_ours_is_badurl_and_nothing_is_stored() {
    let env = Env::new();
    let mut c = env.client();
    let uidv = setup(&mut c);
    let wrong = uidv.parse::<u32>().unwrap() + 1;
    c.cmd("a3 CREATE out");
    let wrong_uidv = format!("/box;UIDVALIDITY={wrong}/;UID=1");
    for url in [
        wrong_uidv.as_str(),
        "/box/;UID=3",
        "/box/;UID=1/;SECTION=3",
        "/box/;UID=2/;SECTION=1.2",
        "/box/;UID=1/;SECTION=BOGUS",
        "/nosuch/;UID=1",
        "/~other/INBOX/;UID=1",
        "/..%2Fhome/;UID=1",
        "imap://other@localhost/INBOX/;UID=1",
        ";UID=1",
    ] {
        let r = catenate(&mut c, "a4", "out", &[&[Part::Text(b"Subject: x\r\n\r\n"), Part::Url(url)]]);
        assert_eq!(
            tagged_line(&r).split(']').next().unwrap(),
            format!("a4 NO [BADURL {url}"),
            "{r}"
        );
        assert!(messages(&mut c, "out").contains("(MESSAGES 0)"), "{url}");
    }
    // A missing target is TRYCREATE before any URL is looked at.
    let r = catenate(&mut c, "a5", "nosuch", &[&[Part::Url("/box/;UID=9")]]);
    assert_lines(&r, &["a5 NO [TRYCREATE]"]);
}

#[test]
fn a_joined_message_larger_than_a_literal_may_be_is_toobig() {
    let env = Env::new();
    let mut c = env.client_with(Options {
        limits: Limits {
            literal: 400,
            append: 400 + 65536,
            ..Limits::default()
        },
        ..Options::default()
    });
    setup(&mut c);
    c.cmd("a3 CREATE out");
    assert_eq!(DRAFT.len(), 236);
    // DRAFT (236 octets) twice is more than 400; once it is not.
    let r = catenate(&mut c, "a4", "out", &[&[Part::Url("/box/;UID=1"), Part::Url("/box/;UID=1")]]);
    assert_lines(&r, &["a4 NO [TOOBIG]"]);
    assert!(messages(&mut c, "out").contains("(MESSAGES 0)"));
    let r = catenate(&mut c, "a5", "out", &[&[Part::Url("/box/;UID=1")]]);
    assert_lines(&r, &["a5 OK [APPENDUID "]);
}

#[test]
fn multiappend_with_catenate_is_all_or_nothing() {
    let env = Env::new();
    let mut c = env.client();
    setup(&mut c);
    c.cmd("a3 CREATE out");
    let r = catenate(
        &mut c,
        "a4",
        "out",
        &[
            &[Part::Text(b"Subject: one\r\n\r\nbody\r\n")],
            &[Part::Url("/box/;UID=1/;SECTION=HEADER"), Part::Url("/box/;UID=7")],
        ],
    );
    assert_lines(&r, &["a4 NO [BADURL /box/;UID=7]"]);
    assert!(messages(&mut c, "out").contains("(MESSAGES 0)"));
    // CATENATE and a plain literal in one MULTIAPPEND.
    let plain = message("plain", "p");
    let mut cmd = b"a5 APPEND out CATENATE (URL \"/box/;UID=2\") (\\Seen) ".to_vec();
    cmd.extend_from_slice(format!("{{{}+}}\r\n", plain.len()).as_bytes());
    cmd.extend_from_slice(&plain);
    cmd.extend_from_slice(b"\r\n");
    let r = c.cmd_bytes("a5", &cmd);
    assert!(tagged_line(&r).starts_with("a5 OK [APPENDUID ") && tagged_line(&r).contains(" 1:2]"), "{r}");
    c.cmd("a6 EXAMINE out");
    assert_eq!(body(&mut c, 1), message("two", "second body"));
    assert_eq!(body(&mut c, 2), plain);
}

#[test]
fn a_url_into_the_mailbox_being_appended_to() {
    let env = Env::new();
    let mut c = env.client();
    setup(&mut c);
    c.cmd("a3 SELECT box");
    // Pipelined behind a plain APPEND (which the session may group): each still
    // answered, the CATENATE reading UID 2 of the selected mailbox.
    let plain = message("three", "3");
    let mut cmd = format!("a4 APPEND box {{{}+}}\r\n", plain.len()).into_bytes();
    cmd.extend_from_slice(&plain);
    cmd.extend_from_slice(b"\r\na5 APPEND box CATENATE (URL \"/box/;UID=2/;SECTION=HEADER\" TEXT {5+}\r\nnew\r\n)\r\n");
    let r = c.cmd_bytes("a5", &cmd);
    assert_lines(&r, &["a4 OK [APPENDUID ", "* 4 EXISTS", "a5 OK [APPENDUID "]);
    let mut want = message("two", "second body");
    let end = want.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    want.truncate(end);
    want.extend_from_slice(b"new\r\n");
    assert_eq!(String::from_utf8_lossy(&body(&mut c, 4)), String::from_utf8_lossy(&want));
}

#[test]
fn an_empty_text_part_cancels_nothing() {
    let env = Env::new();
    let mut c = env.client();
    setup(&mut c);
    // Synchronizing: `TEXT {0}` is an empty part, not RFC 3502's cancel.
    c.send(b"a3 APPEND box CATENATE (TEXT {0}\r\n");
    let cont = c.read_line();
    assert!(cont.starts_with("+ "), "{cont}");
    let r = c.cmd_bytes("a3", b" URL \"/box/;UID=2\")\r\n");
    assert_lines(&r, &["a3 OK [APPENDUID "]);
}
