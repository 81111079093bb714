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

/// APPENDs `messages` with INTERNALDATEs one day apart from 1-Jan-2024 and
/// SELECTs the mailbox.
fn fill_dated(c: &mut Client, mailbox: &str, messages: &[Vec<u8>]) {
    c.cmd(&format!("c CREATE {mailbox}"));
    for (i, m) in messages.iter().enumerate() {
        let r = c.cmd_literal(
            &format!("f{i} APPEND {mailbox} \"{:>2}-Jan-2024 12:00:00 +0000\"", i + 1),
            m,
            "",
        );
        assert!(tagged_line(&r).starts_with(&format!("f{i} OK")), "{r}");
    }
    c.cmd(&format!("fs SELECT {mailbox}"));
}

#[test]
fn a_date_outside_rfc5322_syntax_is_no_sent_date() {
    let env = Env::new();
    let mut c = env.client();
    let dated = |d: &str, s: &str| crlf(&format!("Date: {d}\nSubject: {s}\n\nx\n"));
    fill_dated(
        &mut c,
        "d",
        &[
            // Not RFC 5322: no sent date; the INTERNALDATE (1..4 Jan 2024) counts.
            dated("Sunday, 06-Nov-94 08:49:37 GMT", "rfc850"),
            dated("Sun Nov  6 08:49:37 1994", "ctime"),
            dated("6 November 1994 08:49:37 +0000", "full month"),
            dated("06-Nov-1994 08:49 PST", "hyphens"),
            // Obsolete syntax RFC 5322 §4.3 keeps: these are 6 Nov 1994.
            dated("Sun, 6 Nov 94 08:49:37 GMT", "two-digit year"),
            dated("sun , 06 (day) nov 1994 08 : 49 EST", "comments and case"),
            dated("6 Nov 1994 08:49:37", "no zone"),
            dated("Sun, 06 Nov 1994 08:49:37 +0000", "plain"),
        ],
    );
    assert_lines(
        &c.cmd("a SEARCH SENTON 6-Nov-1994"),
        &["* SEARCH 5 6 7 8", "a OK"],
    );
    assert_lines(&c.cmd("a SEARCH SENTBEFORE 1-Jan-2000"), &["* SEARCH 5 6 7 8"]);
    assert_lines(&c.cmd("a SEARCH SENTSINCE 1-Jan-1990"), &["* SEARCH 5 6 7 8"]);
    // SORT DATE: 1994 dates first (6 is 13:49 UTC), then INTERNALDATEs.
    assert_eq!(answer(&c.cmd("a SORT (DATE) US-ASCII ALL"), "* SORT"), "5 7 8 6 1 2 3 4");
    assert_eq!(answer(&c.cmd("a SORT (REVERSE DATE) US-ASCII ALL"), "* SORT"), "4 3 2 1 6 5 7 8");
}

#[test]
fn raw_8bit_subjects_compare_by_octets_encoded_words_decoded() {
    let env = Env::new();
    let mut c = env.client();
    let subj = |s: &[u8]| [&b"Subject: "[..], s, b"\r\n\r\nx\r\n"].concat();
    fill_dated(
        &mut c,
        "s",
        &[
            subj(b"Re: \xe9t\xe9"),                    // 1 raw Latin-1
            subj(b"\xc3\xa9t\xc3\xa9"),                // 2 raw UTF-8
            subj(b"=?utf-8?q?=C3=A9t=C3=A9?="),        // 3 encoded UTF-8
            subj(b"Fwd: =?iso-8859-1?q?=C9T=C9?="),    // 4 encoded Latin-1, upper case
            subj(b"Re: zebra"),                        // 5
            subj(b"\xc3\x89T\xc3\x89"),                // 6 raw UTF-8, upper case
            subj(b"ZEBRA"),                            // 7
            subj(b"\xc3\xa9T\xc3\xa9 (fwd)"),          // 8 = 2 but for ASCII case
        ],
    );
    // Decoded text (3, 4: one base subject, case-folded) and ASCII come before raw
    // octets; raw octets compare as octets: 6 (C3 89) < 2, 8 (C3 A9) < 1 (E9); only
    // their ASCII letters are folded (2 and 8 tie).
    assert_eq!(answer(&c.cmd("a SORT (SUBJECT) US-ASCII ALL"), "* SORT"), "3 4 5 7 6 2 8 1");
    assert_eq!(
        answer(&c.cmd("a SORT (REVERSE SUBJECT) US-ASCII ALL"), "* SORT"),
        "1 2 8 6 5 7 3 4"
    );
    assert_eq!(
        answer(&c.cmd("a THREAD ORDEREDSUBJECT US-ASCII ALL"), "* THREAD"),
        "(1)(2 8)(3 4)(5 7)(6)"
    );
}

#[test]
fn mmdf_stores_a_message_as_given_with_or_without_separator() {
    let forms: [&[u8]; 7] = [
        b"Subject: header only\r\n",
        b"Subject: header only, no final line end",
        b"Subject: a\r\nX-Other: b\r\n",
        b"Subject: with separator\r\n\r\nbody\r\n",
        b"Subject: separator, no final line end\r\n\r\nbody",
        b"Subject: empty body\r\n\r\n",
        b"\r\nno header at all\r\n",
    ];
    let given = |m: &[u8]| {
        let mut m = m.to_vec();
        if !m.ends_with(b"\r\n") {
            m.extend_from_slice(b"\r\n");
        }
        m
    };
    for format in ["mmdf", "mbox"] {
        let env = Env::new();
        let mut c = env.client();
        c.cmd(&format!("c CREATE \"#driver.{format}/m\""));
        fill(&mut c, "m", &forms);
        let check = |c: &mut Client, when: &str| {
            for (i, m) in forms.iter().enumerate() {
                let seq = i + 1;
                let raw = c.cmd_raw(format!("g FETCH {seq} (RFC822.SIZE BODY.PEEK[])\r\n").as_bytes(), "g");
                let body = literal_after(&raw, b"BODY[] ");
                let mut want = given(m);
                // mbox needs the blank line before the next From line; MMDF does not.
                if format == "mbox" && !m.windows(4).any(|w| w == b"\r\n\r\n") && !m.starts_with(b"\r\n") {
                    want.extend_from_slice(b"\r\n");
                }
                assert_eq!(String::from_utf8_lossy(&body), String::from_utf8_lossy(&want), "{format} {when} {seq}");
                let size = format!("RFC822.SIZE {} ", want.len());
                assert!(String::from_utf8_lossy(&raw).contains(&size), "{format} {when} {seq}");
            }
        };
        check(&mut c, "appended");
        // Flags written into each message, one expunged: a rewrite keeps the rest.
        c.cmd("s STORE 1:* +FLAGS (\\Seen $Label)");
        let r = c.cmd_literal("s APPEND m", b"x: y", "");
        assert!(tagged_line(&r).starts_with("s OK"), "{r}");
        c.cmd("n NOOP");
        assert_lines(&c.cmd("s STORE 8 +FLAGS (\\Deleted)"), &["* 8 FETCH", "s OK"]);
        assert_lines(&c.cmd("e EXPUNGE"), &["* 8 EXPUNGE", "e OK"]);
        c.cmd("x LOGOUT");
        let mut c = env.client();
        c.cmd("s SELECT m");
        check(&mut c, "rewritten");
        assert_lines(&c.cmd("f FETCH 1 FLAGS"), &["* 1 FETCH (FLAGS (\\Seen $Label))"]);
    }
}

#[test]
fn sort_by_address_takes_the_first_address_a_group_by_its_name() {
    let env = Env::new();
    let mut c = env.client();
    let m = |from: &str, cc: &str| crlf(&format!("From: {from}\nTo: {from}\nCc: {cc}\n\n1\n"));
    // imaptest's sort-addresses messages, then an empty group, a leading empty
    // list element, no Cc at all, and a tie broken by arrival.
    fill_dated(
        &mut c,
        "a",
        &[
            m("user2@domain2.org", "user2@domain2.org (foo bar)"),
            m("user2@domain1.org", "user2: blah@domain1.org;"),
            m("user1@domain1.org", "user1@domain1.org"),
            m("Abc@x.org", "Nobody:;"),
            m("abc@y.org", ", dave@x.org"),
            crlf("From: zed@x.org\n\n1\n"),
        ],
    );
    for (criteria, want) in [
        ("CC", "5 6 4 3 1 2"),
        ("REVERSE CC", "1 2 3 4 5 6"),
        ("CC REVERSE ARRIVAL", "6 5 4 3 2 1"),
        ("REVERSE CC REVERSE ARRIVAL", "2 1 3 4 6 5"),
        ("FROM", "4 5 3 1 2 6"),
        ("REVERSE FROM", "6 1 2 3 4 5"),
        ("FROM REVERSE ARRIVAL", "5 4 3 2 1 6"),
        ("TO", "6 4 5 3 1 2"),
        ("REVERSE TO CC", "1 2 3 5 4 6"),
    ] {
        assert_eq!(
            answer(&c.cmd(&format!("a SORT ({criteria}) US-ASCII ALL")), "* SORT"),
            want,
            "{criteria}"
        );
    }
}

#[test]
fn thread_references_with_loops_missing_parents_and_duplicates() {
    let env = Env::new();
    let mut c = env.client();
    let m = |date: &str, head: &str| crlf(&format!("Date: {date}\n{head}\n\nbody\n"));
    fill_dated(
        &mut c,
        "t",
        &[
            // imaptest's "thread": 2's References put 3 under 1 and 2 under 3;
            // 3 then names 2 as its parent, which would be a loop: 3 leaves 1
            // all the same and heads a thread of its own (RFC 5256 §2.2 1.C).
            m("Fri, 22 Feb 2008 17:06:23 +0000", "Message-ID: <a@b>"),
            m("Fri, 22 Feb 2008 15:06:23 +0000", "Message-Id: <b@b>\nReferences: <a@b> <c@b>"),
            m("Fri, 22 Feb 2008 16:06:25 +0000", "Message-Id: <c@b>\nReferences: <b@b>"),
        ],
    );
    assert_eq!(answer(&c.cmd("a THREAD REFERENCES US-ASCII ALL"), "* THREAD"), "(3 2)(1)");
    c.cmd("s STORE 1 +FLAGS.SILENT (\\Deleted)");
    c.cmd("e EXPUNGE");
    assert_eq!(answer(&c.cmd("a THREAD REFERENCES US-ASCII ALL"), "* THREAD"), "(2 1)");

    fill_dated(
        &mut c,
        "u",
        &[
            m("1 Mar 2024 10:00 +0000", "Message-ID: <p@x>\nSubject: topic"),
            // In-Reply-To alone (its first id), and a References that wins over it.
            m("2 Mar 2024 10:00 +0000", "Message-ID: <q@x>\nIn-Reply-To: <p@x> <zz@x>\nSubject: Re: topic"),
            m("3 Mar 2024 10:00 +0000", "Message-ID: <r@x>\nIn-Reply-To: <p@x>\nReferences: <q@x>\nSubject: Re: topic"),
            // Two replies to a message that is not there: siblings under a dummy.
            m("5 Mar 2024 10:00 +0000", "Message-ID: <s@x>\nReferences: <gone@x>\nSubject: lost"),
            m("4 Mar 2024 10:00 +0000", "Message-ID: <t@x>\nReferences: <gone@x>\nSubject: lost"),
            // A duplicate Message-ID: a message of its own, not <p@x>'s stand-in.
            m("6 Mar 2024 10:00 +0000", "Message-ID: <p@x>\nSubject: other"),
            // References that repeat an id and end with the message's own.
            m("7 Mar 2024 10:00 +0000", "Message-ID: <v@x>\nReferences: <r@x> <r@x> <v@x>\nSubject: self"),
            // No Message-ID, no Date (INTERNALDATE: 8 Jan 2024, the oldest).
            crlf("Subject: alone\n\nbody\n"),
        ],
    );
    assert_eq!(
        answer(&c.cmd("a THREAD REFERENCES US-ASCII ALL"), "* THREAD"),
        "(8)(1 2 3)((5)(4))(6)(7)"
    );
}
