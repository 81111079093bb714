//! Pipelined APPENDs to one mailbox (LITERAL+, all in the input at once) are stored
//! together, in one journal transaction, and each still gets its own answer: its
//! tagged line with its own APPENDUID, in order. A group that fails runs one by one,
//! so that every command gets the answer it would have had alone.

mod support;

use support::{message, tagged_line, Env};

fn append(tag: &str, flags: &str, msgs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("{tag} APPEND box{flags}").into_bytes();
    for m in msgs {
        out.extend_from_slice(format!(" {{{}+}}\r\n", m.len()).as_bytes());
        out.extend_from_slice(m);
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The tagged lines of `tags`, in the order they came.
fn tagged<'a>(out: &'a str, tags: &[&str]) -> Vec<&'a str> {
    out.split("\r\n")
        .filter(|l| tags.iter().any(|t| l.starts_with(&format!("{t} "))))
        .collect()
}

#[test]
fn pipelined_appends_are_stored_together_and_answered_each() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd("a0 CREATE box");
    // Selected, so that the session reports what each command added: one group, one
    // report (one at a time, there would be an EXISTS before each tagged line).
    c.cmd("a00 SELECT box");
    let mut pipeline = Vec::new();
    pipeline.extend(append("a1", "", &[message("m1", "one")]));
    pipeline.extend(append("a2", " (\\Seen)", &[message("m2", "two")]));
    pipeline.extend(append("a3", "", &[message("m3", "three"), message("m4", "four")]));
    pipeline.extend(append("a4", "", &[message("m5", "five")]));
    c.send(&pipeline);
    let out = c.read_tagged("a4");
    let lines = tagged(&out, &["a1", "a2", "a3", "a4"]);
    assert_eq!(lines.len(), 4, "{out}");
    let uv = lines[0].split(' ').nth(3).unwrap();
    assert_eq!(
        lines,
        [
            format!("a1 OK [APPENDUID {uv} 1] APPEND completed"),
            format!("a2 OK [APPENDUID {uv} 2] APPEND completed"),
            format!("a3 OK [APPENDUID {uv} 3:4] APPEND completed"),
            format!("a4 OK [APPENDUID {uv} 5] APPEND completed"),
        ],
        "{out}"
    );
    let exists: Vec<&str> = out.split("\r\n").filter(|l| l.ends_with(" EXISTS")).collect();
    assert_eq!(exists, ["* 5 EXISTS"], "{out}");
    assert!(out.find("* 5 EXISTS") < out.find("a1 OK"), "{out}");
    let r = c.cmd("a6 FETCH 1:5 (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
    for (i, s) in ["m1", "m2", "m3", "m4", "m5"].iter().enumerate() {
        assert!(r.contains(&format!("Subject: {s}")), "{s}: {r}");
        assert!(r.contains(&format!("* {} FETCH (UID {} FLAGS (", i + 1, i + 1)), "{r}");
    }
    assert!(r.contains("* 2 FETCH (UID 2 FLAGS (\\Recent \\Seen)"), "{r}");
}

#[test]
fn a_group_that_fails_runs_one_by_one() {
    let env = Env::new();
    let mut c = env.client();
    c.cmd("b0 CREATE box");
    let mut pipeline = Vec::new();
    pipeline.extend(append("b1", "", &[message("m1", "one")]));
    pipeline.extend(append("b2", " (\\Bogus)", &[message("m2", "two")]));
    pipeline.extend(append("b3", "", &[message("m3", "three")]));
    pipeline.extend(b"b4 NOOP\r\n");
    c.send(&pipeline);
    let out = c.read_tagged("b4");
    let lines = tagged(&out, &["b1", "b2", "b3", "b4"]);
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("b1 OK [APPENDUID ") && lines[0].contains(" 1] "), "{out}");
    assert!(lines[1].starts_with("b2 BAD "), "{out}");
    assert!(lines[2].starts_with("b3 OK [APPENDUID ") && lines[2].contains(" 2] "), "{out}");
    assert_eq!(lines[3], "b4 OK NOOP completed", "{out}");
    let r = c.cmd("b5 STATUS box (MESSAGES)");
    assert!(r.contains("(MESSAGES 2)"), "{r}");
    assert!(tagged_line(&r).starts_with("b5 OK"), "{r}");
}
