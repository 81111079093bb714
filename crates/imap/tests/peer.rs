//! The behaviours the peer suite (Dovecot's imaptest groups) checks, and their
//! neighbours, through whole sessions in memory: SORT keys with REVERSE and ties,
//! THREAD with odd References, mailbox names that are not modified UTF-7, MOVE to
//! the selected mailbox, UIDVALIDITY of a re-created name, BINARY APPEND into mbox
//! and MMDF; and the bug classes found beside them: dates outside RFC 5322 syntax,
//! raw 8-bit subjects, MMDF messages without a header/body separator.

mod support;

use support::{assert_lines, tagged_line, Client, Env};

/// APPENDs each message (CRLF text) to `mailbox` and SELECTs it.
fn fill(c: &mut Client, mailbox: &str, messages: &[&[u8]]) {
    for (i, m) in messages.iter().enumerate() {
        let r = c.cmd_literal(&format!("f{i} APPEND {mailbox}"), m, "");
        assert!(tagged_line(&r).starts_with(&format!("f{i} OK")), "{r}");
    }
    let r = c.cmd(&format!("fs SELECT {mailbox}"));
    assert!(tagged_line(&r).starts_with("fs OK"), "{r}");
}

fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

/// The numbers of a `* SORT` or `* THREAD` line.
fn answer(r: &str, what: &str) -> String {
    r.split("\r\n")
        .find_map(|l| l.strip_prefix(what))
        .unwrap_or_else(|| panic!("no {what} in {r}"))
        .trim()
        .to_string()
}

#[test]
fn sort_subject_ties_follow_the_next_key_in_either_direction() {
    let env = Env::new();
    let mut c = env.client();
    let msgs: Vec<Vec<u8>> = [
        "Subject: a\n\n1\n",
        // No header at all: its size is that of its body and blank line, although
        // its body has a blank line of its own further on.
        "\n9\n\nmore\n",
        "Subject: =?iso-8859-1?q?_?=\n\n10\n",
        "Subject: Re: =?utf-8?q?a?=\n\n11\nxxxxxxxxxxxxxxxx\n",
    ]
    .iter()
    .map(|s| crlf(s))
    .collect();
    let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
    c.cmd("c CREATE s");
    fill(&mut c, "s", &refs);
    assert_lines(&c.cmd("a FETCH 2 (RFC822.SIZE BODY[HEADER])"), &["* 2 FETCH (RFC822.SIZE 13 BODY[HEADER] {2}"]);
    assert_eq!(answer(&c.cmd("a SORT (SUBJECT) US-ASCII ALL"), "* SORT"), "2 3 1 4");
    assert_eq!(answer(&c.cmd("a SORT (SUBJECT REVERSE SIZE) US-ASCII ALL"), "* SORT"), "3 2 4 1");
    assert_eq!(answer(&c.cmd("a SORT (REVERSE SUBJECT SIZE) US-ASCII ALL"), "* SORT"), "1 4 2 3");
}

/// One literal8 APPEND; returns the tagged line.
fn append_binary(c: &mut Client, mailbox: &str, data: &[u8]) -> String {
    let mut cmd = format!("b APPEND {mailbox} ~{{{}+}}\r\n", data.len()).into_bytes();
    cmd.extend_from_slice(data);
    cmd.extend_from_slice(b"\r\n");
    tagged_line(&c.cmd_bytes("b", &cmd)).to_string()
}

/// The octets of the first literal in `r` (after `prefix`).
fn literal_after(r: &[u8], prefix: &[u8]) -> Vec<u8> {
    let at = r.windows(prefix.len()).position(|w| w == prefix).expect("prefix") + prefix.len();
    let rest = &r[at..];
    let rest = rest.strip_prefix(b"~").unwrap_or(rest);
    let close = rest.iter().position(|&b| b == b'}').unwrap();
    let n: usize = std::str::from_utf8(&rest[1..close]).unwrap().parse().unwrap();
    rest[close + 3..close + 3 + n].to_vec()
}

#[test]
fn binary_append_gives_its_octets_back_in_mbox_and_mmdf() {
    // NUL, bare LF, CRLF, bare CR, a line of 2000 octets, a line that starts
    // "From ", Ctrl-A: none survives an LF-based mailbox file as it is.
    let mut payload = b"\0-\xe4\n\r\nx\ry\n".to_vec();
    payload.extend(std::iter::repeat_n(b'L', 2000));
    payload.extend_from_slice(b"\r\nFrom me\r\n\x01\x01\x01\x01\r\nend");
    let single = [
        &b"From: user@example.org\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"[..],
        &payload,
    ]
    .concat();
    let multi = [
        &b"Subject: two\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain text\r\n--b\r\nContent-Type: image/png\r\n\r\n"[..],
        &payload,
        b"\r\n--b--\r\n",
    ]
    .concat();
    for format in ["mbox", "mmdf"] {
        let env = Env::new();
        let mut c = env.client();
        let r = c.cmd(&format!("c CREATE \"#driver.{format}/bin\""));
        assert!(tagged_line(&r).starts_with("c OK"), "{r}");
        assert!(append_binary(&mut c, "bin", &single).starts_with("b OK"), "{format}");
        assert!(append_binary(&mut c, "bin", &multi).starts_with("b OK"), "{format}");
        c.cmd("s SELECT bin");
        let r = c.cmd_bytes("f", b"f FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])\r\n");
        assert!(r.contains(&format!("BINARY.SIZE[1] {}", payload.len())), "{format}: {r}");
        let raw = c.cmd_raw(b"g FETCH 1 BINARY.PEEK[1]\r\n", "g");
        assert_eq!(literal_after(&raw, b"BINARY[1] "), payload, "{format}");
        let raw = c.cmd_raw(b"g FETCH 2 (BINARY.PEEK[2] BINARY.PEEK[1])\r\n", "g");
        assert_eq!(literal_after(&raw, b"BINARY[2] "), payload, "{format}");
        assert_eq!(literal_after(&raw, b"BINARY[1] "), b"plain text", "{format}");
        // BODY[] is the stored form: base64 where the octets could not be kept,
        // the rest as sent.
        let raw = c.cmd_raw(b"g FETCH 2 BODY.PEEK[]\r\n", "g");
        let body = literal_after(&raw, b"BODY[] ");
        assert!(body.starts_with(b"Subject: two\r\n"), "{format}");
        assert!(!body.contains(&0), "{format}");
        let r = c.cmd("h FETCH 2 BODYSTRUCTURE");
        assert!(r.contains("(\"IMAGE\" \"PNG\" NIL NIL NIL \"BASE64\""), "{format}: {r}");
        assert!(r.contains("(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 10 0"), "{format}: {r}");
        // The file stays one that other readers parse: no NUL, two messages.
        let file = std::fs::read(env.mail("bin")).unwrap();
        assert!(!file.contains(&0));
        c.cmd("x LOGOUT");
        let mut c = env.client();
        c.cmd("s SELECT bin");
        let raw = c.cmd_raw(b"g FETCH 1:2 BINARY.PEEK[1]\r\n", "g");
        assert_eq!(literal_after(&raw, b"BINARY[1] "), payload, "{format} reopened");
    }
    // An ordinary literal is stored the way it always was (UW's mbox store).
    let env = Env::new();
    let mut c = env.client();
    c.cmd("c CREATE plain");
    fill(&mut c, "plain", &[b"Subject: p\r\n\r\na\0b\r\n"]);
    let raw = c.cmd_raw(b"g FETCH 1 BODY.PEEK[TEXT]\r\n", "g");
    assert_eq!(literal_after(&raw, b"BODY[TEXT] "), b"a\x80b\r\n");
}

#[test]
fn binary_append_outside_a_body_part_is_refused() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd("c CREATE bin");
    // A NUL in a header field, a bare LF in a MIME preamble: no encoding helps.
    let r = append_binary(&mut c, "bin", b"Subject: a\0b\r\n\r\nbody\r\n");
    assert!(r.starts_with("b NO [UNKNOWN-CTE]"), "{r}");
    let r = append_binary(
        &mut c,
        "bin",
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\npre\namble\r\n--b\r\n\r\nx\r\n--b--\r\n",
    );
    assert!(r.starts_with("b NO [UNKNOWN-CTE]"), "{r}");
    // A literal8 without anything the file cannot hold is stored as it is.
    let r = append_binary(&mut c, "bin", b"Subject: 8bit \xe4\r\n\r\nbody \xe4\r\n");
    assert!(r.starts_with("b OK"), "{r}");
    c.cmd("s SELECT bin");
    let raw = c.cmd_raw(b"g FETCH 1 BODY.PEEK[]\r\n", "g");
    assert_eq!(literal_after(&raw, b"BODY[] "), b"Subject: 8bit \xe4\r\n\r\nbody \xe4\r\n");
}

#[test]
fn names_that_are_not_modified_utf7_are_no_mailbox_but_no_syntax_error() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd("c CREATE box");
    let bad = "!#$&'+,-.0123456789:;<=>?@^_`|[}";
    assert_lines(&c.cmd("a LIST \"\" ~foo"), &["a OK"]);
    assert_lines(&c.cmd("a SELECT ~foo"), &["a NO"]);
    // SELECT of such a name fails like any failed SELECT: nothing stays selected.
    c.cmd("s SELECT box");
    assert_lines(&c.cmd(&format!("a SELECT {bad}")), &["a NO [NONEXISTENT]"]);
    assert_lines(&c.cmd("a FETCH 1 FLAGS"), &["a BAD"]);
    assert_lines(&c.cmd(&format!("a EXAMINE {bad}")), &["a NO [NONEXISTENT]"]);
    assert_eq!(c.cmd(&format!("a LIST \"\" {bad}%*")), "a OK LIST completed\r\n");
    assert_eq!(c.cmd(&format!("a LSUB \"\" {bad}")), "a OK LSUB completed\r\n");
    // Extended LIST: the valid pattern still runs.
    assert_lines(
        &c.cmd(&format!("a LIST \"\" ({bad} box)")),
        &["* LIST (", "a OK"],
    );
    for cmd in ["STATUS {} (MESSAGES)", "DELETE {}", "SUBSCRIBE {}", "UNSUBSCRIBE {}", "RENAME {} x"] {
        let r = c.cmd(&format!("a {}", cmd.replace("{}", bad)));
        assert!(r.starts_with("a NO [NONEXISTENT] "), "{cmd}: {r}");
    }
    for cmd in ["CREATE {}", "RENAME box {}"] {
        let r = c.cmd(&format!("a {}", cmd.replace("{}", bad)));
        assert!(r.starts_with("a NO [CANNOT] "), "{cmd}: {r}");
    }
    let r = c.cmd_literal(&format!("a APPEND {bad}"), b"Subject: x\r\n\r\nx\r\n", "");
    assert!(tagged_line(&r).starts_with("a NO [NONEXISTENT]"), "{r}");
    c.cmd("s SELECT box");
    c.cmd_literal("a APPEND box", b"Subject: x\r\n\r\nx\r\n", "");
    c.cmd("n NOOP");
    for cmd in ["COPY 1 {}", "MOVE 1 {}", "UID COPY 1 {}"] {
        let r = c.cmd(&format!("a {}", cmd.replace("{}", bad)));
        assert!(r.starts_with("a NO [NONEXISTENT] "), "{cmd}: {r}");
    }
    // Still a syntax error: a bad name in a command that is malformed anyway.
    assert_lines(&c.cmd(&format!("a SELECT {bad} extra")), &["a BAD"]);
    assert_lines(&c.cmd("a SELECT &Jjo"), &["a NO [NONEXISTENT]"]);
    // The file list is untouched.
    assert!(!env.mail(bad).exists());
}

#[test]
fn move_to_the_selected_mailbox_reports_the_expunge_then_the_new_copy() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd("c CREATE box");
    let m = crlf("Subject: a\n\nx\n");
    fill(&mut c, "box", &[&m, &m, &m]);
    let r = c.cmd("a MOVE 1 box");
    assert_lines(&r, &["* OK [COPYUID ", "* 1 EXPUNGE", "* 3 EXISTS", "a OK"]);
    assert!(!r.contains("* 4 EXISTS"), "{r}");
    // UID MOVE the same way, and to another mailbox: no EXISTS at all.
    c.cmd("c CREATE other");
    let r = c.cmd("a UID MOVE 2 box");
    assert_lines(&r, &["* OK [COPYUID ", "* 1 EXPUNGE", "* 3 EXISTS", "a OK"]);
    let r = c.cmd("a MOVE 1 other");
    assert_lines(&r, &["* OK [COPYUID ", "* 1 EXPUNGE", "a OK"]);
    assert!(!r.contains("EXISTS"), "{r}");
}

/// The UIDVALIDITY STATUS gives for `mailbox`.
fn uidvalidity(c: &mut Client, mailbox: &str) -> u32 {
    let r = c.cmd(&format!("u STATUS {mailbox} (UIDVALIDITY)"));
    let at = r.find("UIDVALIDITY ").unwrap_or_else(|| panic!("{r}")) + 12;
    r[at..].split(')').next().unwrap().parse().unwrap()
}

#[test]
fn a_name_never_has_the_same_uidvalidity_twice() {
    let env = Env::new();
    let mut c = env.client();
    let m = crlf("Subject: a\n\nx\n");
    // Within one second: two mailboxes, renamed over each other's names.
    c.cmd("c CREATE box");
    c.cmd("c CREATE box2");
    c.cmd_literal("a APPEND box", &m, "");
    c.cmd_literal("a APPEND box2", &m, "");
    let first = uidvalidity(&mut c, "box");
    let second = uidvalidity(&mut c, "box2");
    assert_ne!(first, second);
    assert_lines(&c.cmd("r RENAME box box3"), &["r OK"]);
    assert_lines(&c.cmd("r RENAME box2 box"), &["r OK"]);
    assert_eq!(uidvalidity(&mut c, "box"), second);
    assert_eq!(uidvalidity(&mut c, "box3"), first);
    // DELETE and CREATE again: new, and greater than any the user had.
    let mut seen = vec![first, second];
    for _ in 0..3 {
        assert_lines(&c.cmd("d DELETE box"), &["d OK"]);
        assert_lines(&c.cmd("c CREATE box"), &["c OK"]);
        let v = uidvalidity(&mut c, "box");
        assert!(seen.iter().all(|&s| v > s), "{v} after {seen:?}");
        seen.push(v);
    }
    // A hierarchy renamed: the mailboxes in it keep theirs; the old names, created
    // again, get new ones.
    c.cmd("c CREATE dir/inner");
    c.cmd_literal("a APPEND dir/inner", &m, "");
    let inner = uidvalidity(&mut c, "dir/inner");
    assert_lines(&c.cmd("r RENAME dir moved"), &["r OK"]);
    assert_eq!(uidvalidity(&mut c, "moved/inner"), inner);
    c.cmd("c CREATE dir/inner");
    assert!(uidvalidity(&mut c, "dir/inner") > inner);
    // Nothing is left in the state directory for names that are gone.
    c.cmd("d DELETE box3");
    let state = env.home.join(".pullmail");
    let key = mailbox::state::path_key(&env.mail("box3"));
    let left: Vec<_> = std::fs::read_dir(&state)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&key))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
