//! ESORT (RFC 5267 §3), the PARTIAL result option of SEARCH and SORT (RFC 5267
//! §4.4 with RFC 9394's negative ranges) and SORT=DISPLAY (RFC 5957) through
//! whole sessions: the RFCs' examples, the cases imaptest's esort, search-partial,
//! sort-partial and sort-display-* groups check, and the error paths.

mod support;

use support::{assert_lines, Client, Env};

/// A session with `box` selected, holding one message per header, appended with
/// arrival times one second apart except the 4th, which arrives with the 3rd
/// (imaptest's sort-partial corpus: ARRIVAL ties keep mailbox order).
fn with_headers(env: &Env, headers: &[&str]) -> Client {
    let mut c = env.client();
    c.cmd("p0 CREATE box");
    for (i, h) in headers.iter().enumerate() {
        let second = if i >= 3 { i - 1 } else { i };
        let date = format!("\"22-Feb-2008 17:06:{:02} +0000\"", 20 + second);
        let msg = format!("{h}\r\n\r\n{}\r\n", i + 1);
        let r = c.cmd_literal(&format!("p{} APPEND box {date}", i + 1), msg.as_bytes(), "");
        assert_lines(&r, &[&format!("p{} OK", i + 1)]);
    }
    assert_lines(&c.cmd("s1 SELECT box"), &["s1 OK [READ-WRITE]"]);
    c
}

fn five(env: &Env) -> Client {
    with_headers(
        env,
        &[
            "Subject: a",
            "Subject: b",
            "Subject: c",
            "Subject: d",
            "Subject: e",
        ],
    )
}

#[test]
fn capabilities_name_esort_sort_display_and_contexts() {
    let env = Env::new();
    let mut c = env.client();
    let caps = c.cmd("a1 CAPABILITY");
    let line = caps.lines().next().unwrap_or_default();
    let names: Vec<&str> = line.split(' ').collect();
    assert!(
        names.contains(&"ESORT") && names.contains(&"SORT=DISPLAY"),
        "{line}"
    );
    // Search and sort contexts are kept (tests/context.rs).
    assert!(names.contains(&"CONTEXT=SEARCH"), "{line}");
    assert!(names.contains(&"CONTEXT=SORT"), "{line}");
}

/// RFC 5267 §3.2: SORT RETURN answers ESEARCH, MIN and MAX being the first and
/// last message in sort order, ALL the result in sort order.
#[test]
fn esort_answers_in_sort_order() {
    let env = Env::new();
    let mut c = five(&env);
    assert_eq!(
        c.cmd("a1 SORT RETURN (MIN) (ARRIVAL) US-ASCII 1:5"),
        "* ESEARCH (TAG \"a1\") MIN 1\r\na1 OK SORT completed\r\n"
    );
    assert_lines(
        &c.cmd("a2 SORT RETURN (MAX) (ARRIVAL) US-ASCII 1:5"),
        &["* ESEARCH (TAG \"a2\") MAX 5", "a2 OK"],
    );
    assert_lines(
        &c.cmd("a3 SORT RETURN (ALL) (ARRIVAL) US-ASCII 1:5"),
        &["* ESEARCH (TAG \"a3\") ALL 1:5", "a3 OK"],
    );
    assert_lines(
        &c.cmd("a4 SORT RETURN (COUNT) (ARRIVAL) US-ASCII 1:5"),
        &["* ESEARCH (TAG \"a4\") COUNT 5", "a4 OK"],
    );
    // REVERSE SUBJECT: e d c b a. MIN is the lowest-sorted, not the smallest.
    assert_eq!(
        c.cmd("a5 SORT RETURN (MIN MAX ALL COUNT) (REVERSE SUBJECT) US-ASCII 2:5"),
        "* ESEARCH (TAG \"a5\") MIN 5 MAX 2 ALL 5,4,3,2 COUNT 4\r\na5 OK SORT completed\r\n"
    );
    // Runs ascending in sort order are ranges: 5 then 3:4 (ARRIVAL ties keep
    // mailbox order) then 2 and 1.
    assert_lines(
        &c.cmd("a6 SORT RETURN (ALL) (REVERSE ARRIVAL) US-ASCII ALL"),
        &["* ESEARCH (TAG \"a6\") ALL 5,3:4,2,1", "a6 OK"],
    );
    // RETURN () is ALL; UID SORT says UID and answers UIDs.
    assert_eq!(
        c.cmd("a7 UID SORT RETURN () (REVERSE SUBJECT) UTF-8 1,3"),
        "* ESEARCH (TAG \"a7\") UID ALL 3,1\r\na7 OK UID SORT completed\r\n"
    );
    // No match: COUNT 0 and nothing else.
    assert_lines(
        &c.cmd("a8 SORT RETURN (MIN MAX ALL COUNT) (SUBJECT) US-ASCII DRAFT"),
        &["* ESEARCH (TAG \"a8\") COUNT 0", "a8 OK"],
    );
    // A plain SORT is unchanged.
    assert_lines(
        &c.cmd("a9 SORT (REVERSE SUBJECT) US-ASCII ALL"),
        &["* SORT 5 4 3 2 1", "a9 OK SORT completed"],
    );
}

/// SAVE with SORT keeps the result for `$` (RFC 5182 with RFC 5267).
#[test]
fn esort_save_keeps_the_result() {
    let env = Env::new();
    let mut c = five(&env);
    assert_eq!(
        c.cmd("b1 SORT RETURN (SAVE) (SUBJECT) US-ASCII 2:3"),
        "b1 OK SORT completed, result saved\r\n"
    );
    assert_lines(&c.cmd("b2 SEARCH $"), &["* SEARCH 2 3", "b2 OK"]);
    // MIN alone saves only the lowest-sorted message.
    assert_lines(
        &c.cmd("b3 SORT RETURN (SAVE MIN) (REVERSE SUBJECT) US-ASCII ALL"),
        &["* ESEARCH (TAG \"b3\") MIN 5", "b3 OK"],
    );
    assert_lines(&c.cmd("b4 SEARCH $"), &["* SEARCH 5", "b4 OK"]);
    // A failed SAVE leaves `$` empty.
    assert_lines(
        &c.cmd("b5 SORT RETURN (SAVE) (SUBJECT) X-NO-SUCH-CHARSET ALL"),
        &["b5 NO [BADCHARSET"],
    );
    assert_lines(&c.cmd("b6 SEARCH $"), &["* SEARCH", "b6 OK"]);
}

/// PARTIAL (RFC 5267 §4.4, RFC 9394): the results at those positions, in the
/// result's order; NIL when there are none; `4:2` answered as `2:4`.
#[test]
fn partial_windows_of_search_and_sort() {
    let env = Env::new();
    let mut c = five(&env);
    let cases = [
        ("SEARCH RETURN (PARTIAL 1:1) ALL", "PARTIAL (1:1 1)"),
        ("SEARCH RETURN (PARTIAL 2:4) ALL", "PARTIAL (2:4 2:4)"),
        ("SEARCH RETURN (PARTIAL 4:2) ALL", "PARTIAL (2:4 2:4)"),
        ("SEARCH RETURN (PARTIAL 1:6) ALL", "PARTIAL (1:6 1:5)"),
        ("SEARCH RETURN (PARTIAL 6:6) ALL", "PARTIAL (6:6 NIL)"),
        ("SEARCH RETURN (PARTIAL 1:3) 1:2,4:5", "PARTIAL (1:3 1:2,4)"),
        ("SEARCH RETURN (PARTIAL 2:3) 1:2,4:5", "PARTIAL (2:3 2,4)"),
        (
            "SEARCH RETURN (PARTIAL 2:10) 1:2,4:5",
            "PARTIAL (2:10 2,4:5)",
        ),
        // RFC 9394: counted from the end; -1 is the last result.
        ("SEARCH RETURN (PARTIAL -1:-2) ALL", "PARTIAL (-1:-2 4:5)"),
        (
            "SEARCH RETURN (PARTIAL -3:-1) 1:2,4:5",
            "PARTIAL (-1:-3 2,4:5)",
        ),
        (
            "SEARCH RETURN (PARTIAL -1:-100) ALL",
            "PARTIAL (-1:-100 1:5)",
        ),
        ("SEARCH RETURN (PARTIAL -6:-9) ALL", "PARTIAL (-6:-9 NIL)"),
        (
            "SEARCH RETURN (COUNT PARTIAL 1:2 MIN) 2:5",
            "MIN 2 PARTIAL (1:2 2:3) COUNT 4",
        ),
        (
            "SORT RETURN (PARTIAL 1:1) (ARRIVAL) US-ASCII ALL",
            "PARTIAL (1:1 1)",
        ),
        (
            "SORT RETURN (PARTIAL 2:4) (REVERSE ARRIVAL) US-ASCII ALL",
            "PARTIAL (2:4 3:4,2)",
        ),
        (
            "SORT RETURN (PARTIAL 1:6) (REVERSE ARRIVAL) US-ASCII ALL",
            "PARTIAL (1:6 5,3:4,2,1)",
        ),
        (
            "SORT RETURN (PARTIAL -1:-2) (REVERSE SUBJECT) US-ASCII ALL",
            "PARTIAL (-1:-2 2,1)",
        ),
        (
            "SORT RETURN (PARTIAL 6:7) (SUBJECT) US-ASCII ALL",
            "PARTIAL (6:7 NIL)",
        ),
    ];
    for (i, (command, want)) in cases.iter().enumerate() {
        let tag = format!("c{i}");
        assert_eq!(
            c.cmd(&format!("{tag} {command}")),
            format!(
                "* ESEARCH (TAG \"{tag}\") {want}\r\n{tag} OK {} completed\r\n",
                command.split(' ').next().unwrap_or_default()
            ),
            "{command}"
        );
    }
    // UID forms count positions among the results and answer UIDs; an expunge
    // moves the window.
    assert_lines(
        &c.cmd("d1 UID SEARCH RETURN (PARTIAL 2:2) ALL"),
        &["* ESEARCH (TAG \"d1\") UID PARTIAL (2:2 2)", "d1 OK"],
    );
    c.cmd("d2 STORE 2 +FLAGS.SILENT (\\Deleted)");
    c.cmd("d3 EXPUNGE");
    assert_lines(
        &c.cmd("d4 UID SEARCH RETURN (PARTIAL 2:2) ALL"),
        &["* ESEARCH (TAG \"d4\") UID PARTIAL (2:2 3)", "d4 OK"],
    );
    assert_lines(
        &c.cmd("d5 UID SEARCH RETURN (PARTIAL 5:10) ALL"),
        &["* ESEARCH (TAG \"d5\") UID PARTIAL (5:10 NIL)", "d5 OK"],
    );
    // SAVE with PARTIAL keeps only the window returned.
    assert_lines(
        &c.cmd("d6 UID SEARCH RETURN (SAVE PARTIAL -1:-2) ALL"),
        &["* ESEARCH (TAG \"d6\") UID PARTIAL (-1:-2 4:5)", "d6 OK"],
    );
    assert_lines(&c.cmd("d7 UID SEARCH $"), &["* SEARCH 4 5", "d7 OK"]);
}

#[test]
fn partial_and_return_errors_are_bad() {
    let env = Env::new();
    let mut c = five(&env);
    for (i, command) in [
        "SEARCH RETURN (PARTIAL 1) ALL",
        "SEARCH RETURN (PARTIAL 1:*) ALL",
        "SEARCH RETURN (PARTIAL *:1) ALL",
        "SEARCH RETURN (PARTIAL 0:3) ALL",
        "SEARCH RETURN (PARTIAL 1:-3) ALL",
        "SEARCH RETURN (PARTIAL -1:3) ALL",
        "SEARCH RETURN (PARTIAL -0:-3) ALL",
        "SEARCH RETURN (PARTIAL 1:4294967296) ALL",
        "SEARCH RETURN (PARTIAL) ALL",
        // ALL and PARTIAL ask for different sets in one place of the answer.
        "SEARCH RETURN (ALL PARTIAL 1:2) ALL",
        "SEARCH RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL",
        "SORT RETURN (PARTIAL 1) (ARRIVAL) US-ASCII ALL",
        "SORT RETURN (PARTIAL 1:*) (ARRIVAL) US-ASCII ALL",
        "SORT RETURN (PARTIAL *:1) (ARRIVAL) US-ASCII ALL",
        "SORT RETURN (FOO) (ARRIVAL) US-ASCII ALL",
        "SORT RETURN (MIN (ARRIVAL) US-ASCII ALL",
        "SORT RETURN MIN (ARRIVAL) US-ASCII ALL",
        "SORT RETURN (MIN) US-ASCII ALL",
        "SORT RETURN (MIN) (ARRIVAL)",
        "SORT (DISPLAYNAME) US-ASCII ALL",
    ]
    .iter()
    .enumerate()
    {
        let tag = format!("e{i}");
        assert_lines(
            &c.cmd(&format!("{tag} {command}")),
            &[&format!("{tag} BAD")],
        );
    }
    // The same PARTIAL twice is one.
    assert_lines(
        &c.cmd("f1 SEARCH RETURN (PARTIAL 1:2 PARTIAL 2:1) ALL"),
        &["* ESEARCH (TAG \"f1\") PARTIAL (1:2 1:2)", "f1 OK"],
    );
    assert_lines(
        &c.cmd("f2 SORT RETURN (MIN) (ARRIVAL) X-NONE ALL"),
        &["f2 NO [BADCHARSET"],
    );
    c.cmd("f3 UNSELECT");
    assert_lines(
        &c.cmd("f4 SORT RETURN (MIN) (ARRIVAL) US-ASCII ALL"),
        &["f4 BAD"],
    );
}

/// RFC 5957: DISPLAYFROM and DISPLAYTO sort by the display name of the first
/// address (RFC 2047-decoded), else its address, a group by its name; imaptest's
/// sort-display-from and sort-display-to corpora.
#[test]
fn sort_display_from_and_to() {
    let env = Env::new();
    let mut c = with_headers(
        &env,
        &[
            "From: foo bar <a@b.c>",
            "From: b@c.d",
            "From: d",
            "From: =?iso-8859-1?q?foo_aar?= <e@f.g>",
            "From: =?iso-8859-1?q?foo_car?= <f@g.h>",
        ],
    );
    assert_lines(
        &c.cmd("a1 SORT (DISPLAYFROM) US-ASCII ALL"),
        &["* SORT 2 3 4 1 5", "a1 OK"],
    );
    assert_lines(
        &c.cmd("a2 SORT (REVERSE DISPLAYFROM) US-ASCII ALL"),
        &["* SORT 5 1 4 3 2", "a2 OK"],
    );
    // Display names compare case-insensitively; an empty name is no name.
    let env = Env::new();
    let mut c = with_headers(
        &env,
        &[
            "To: foo bar <a@b.c>",
            "To: b@c.d",
            "To: d",
            "To: =?iso-8859-1?q?foo_aar?= <e@f.g>",
            "To: =?iso-8859-1?q?foo_car?= <f@g.h>",
            "To: a: xx@xx.org, yy@yy.org;",
            "To: z: aa@aa.org, bb@bb.org;",
            "To: empty:;",
            "To: \"\" <C@x.y>",
            "To: \"FOO BAZ\" <0@x.y>",
        ],
    );
    assert_lines(
        &c.cmd("b1 SORT (DISPLAYTO) US-ASCII 1:8"),
        &["* SORT 6 2 3 8 4 1 5 7", "b1 OK"],
    );
    assert_lines(
        &c.cmd("b2 SORT (REVERSE DISPLAYTO) US-ASCII 1:8"),
        &["* SORT 7 5 1 4 8 3 2 6", "b2 OK"],
    );
    assert_lines(
        &c.cmd("b4 SORT (DISPLAYTO) US-ASCII OR 1 OR 2 OR 9 10"),
        &["* SORT 2 9 1 10", "b4 OK"],
    );
    // A message without a From sorts first (an empty key), ties in mailbox order.
    assert_lines(
        &c.cmd("b5 SORT RETURN (ALL) (DISPLAYFROM) US-ASCII 1:3"),
        &["* ESEARCH (TAG \"b5\") ALL 1:3", "b5 OK"],
    );
}
