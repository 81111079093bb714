//! Framing cannot depend on how the network cuts the stream: a whole session is
//! fed in reads of random size (1 to 512 octets) and must answer exactly as when
//! everything arrives in one piece — literals, LITERAL+, line ends split between
//! reads, and the oversize paths that throw octets away included.

mod support;

use imap::Limits;
use support::{message, run_script, Env, Options};

fn script() -> Vec<u8> {
    let mut s = Vec::new();
    let mut push = |b: &[u8]| s.extend_from_slice(b);
    push(b"a1 CAPABILITY\r\n");
    push(b"a2 CREATE box\r\n");
    let m1 = message("first", &"Body line of the first message.\r\n".repeat(40));
    push(
        format!(
            "a3 APPEND box (\\Seen) \"02-Jan-2024 10:00:00 +0100\" {{{}}}\r\n",
            m1.len()
        )
        .as_bytes(),
    );
    push(&m1);
    push(b"\r\n");
    let m2 = message("second {5}\r\n", "x\r\n{3+}\r\nabc");
    push(
        format!(
            "a4 APPEND box \"03-Jan-2024 11:00:00 -0500\" {{{}+}}\r\n",
            m2.len()
        )
        .as_bytes(),
    );
    push(&m2);
    push(b"\r\n");
    push(b"a5 SELECT box\r\n");
    push(b"a6 FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)\r\n");
    push(b"a7 FETCH 2 (BODY[] BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY[TEXT]<3.7>)\r\n");
    push(b"a8 STORE 1:2 +FLAGS (\\Flagged Work)\r\n");
    push(b"a9 SEARCH CHARSET UTF-8 OR SUBJECT {6+}\r\nsecond BODY {5}\r\nfirst FLAGGED\r\n");
    push(b"b1 LIST \"\" {1}\r\n*\r\n");
    push(b"b2 STATUS {3}\r\nbox (MESSAGES UNSEEN)\r\n");
    // Refused in step: a line too long, a literal too large of each kind.
    push(b"b3 NOOP ");
    push(&vec![b'x'; 3000]);
    push(b" {4+}\r\nb9 X\r\n");
    push(b"b4 APPEND box {900000}\r\n");
    push(b"b5 SEARCH TEXT {5000+}\r\n");
    push(&vec![b'y'; 5000]);
    push(b"\r\n");
    push(b"b6 UID COPY 1:* box\r\n");
    push(b"b7 EXPUNGE\r\n");
    // The extensions, with their literals cut anywhere too.
    push(b"c1 UID SORT (REVERSE SUBJECT) UTF-8 ALL\r\n");
    push(b"c2 THREAD REFERENCES UTF-8 SUBJECT {5+}\r\nfirst\r\n");
    push(b"c3 SEARCH RETURN (MIN MAX COUNT SAVE) ALL\r\n");
    push(b"c4 FETCH $ (UID)\r\n");
    push(b"c5 IDLE\r\nDONE\r\n");
    let m3 = message("third", "multi");
    let bin = b"Subject: bin\r\n\r\n\x80\xff\r\n";
    push(format!("c6 APPEND box {{{}+}}\r\n", m3.len()).as_bytes());
    push(&m3);
    push(format!(" (\\Draft) ~{{{}+}}\r\n", bin.len()).as_bytes());
    push(bin);
    push(b"\r\n");
    push(b"c7 CREATE other\r\n");
    push(b"c8 UID MOVE 3:* other\r\n");
    push(b"c9 STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
    push(b"d1 UID EXPUNGE 1:2\r\n");
    push(b"d2 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (% {1+}\r\n*) RETURN (STATUS (MESSAGES))\r\n");
    push(b"d3 LIST \"\" (% {1+}\r\n*) RETURN (SPECIAL-USE STATUS (MESSAGES))\r\n");
    push(b"d4 ID (\"name\" {4+}\r\ntest)\r\n");
    push(b"d5 NAMESPACE\r\n");
    push(b"d6 UNSELECT\r\n");
    push(b"d7 ENABLE CONDSTORE\r\n");
    push(b"b8 LOGOUT\r\n");
    s
}

/// UIDVALIDITY and a new mailbox's first modseq come from the clock; nothing else
/// may differ between runs.
fn normalise(out: &str) -> String {
    let mut s = out.to_string();
    for key in ["UIDVALIDITY ", "APPENDUID ", "COPYUID ", "HIGHESTMODSEQ "] {
        let mut r = String::new();
        let mut rest = s.as_str();
        while let Some(i) = rest.find(key) {
            r.push_str(&rest[..i + key.len()]);
            rest = &rest[i + key.len()..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            r.push('N');
            rest = &rest[digits..];
        }
        r.push_str(rest);
        s = r;
    }
    s
}

fn limits() -> Limits {
    Limits {
        line: 2048,
        literal: 65536,
        append: 70000,
        literal_minus: false,
    }
}

#[test]
fn random_read_sizes_give_the_same_answers() {
    let one_piece = {
        let env = Env::new();
        normalise(&run_script(
            &env,
            &script(),
            Options {
                limits: limits(),
                ..Options::default()
            },
        ))
    };
    assert!(one_piece.contains("b8 OK LOGOUT completed"), "{one_piece}");
    assert!(one_piece.contains("b3 BAD [TOOBIG]"), "{one_piece}");
    assert!(one_piece.contains("b4 NO [TOOBIG]"), "{one_piece}");
    assert!(one_piece.contains("b5 BAD [TOOBIG]"), "{one_piece}");
    assert!(one_piece.contains("* SEARCH 1 2\r\na9 OK"), "{one_piece}");
    assert!(!one_piece.contains("b9"), "{one_piece}");
    for tag in ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "d1", "d2", "d3", "d4", "d5", "d6", "d7"] {
        assert!(one_piece.contains(&format!("\r\n{tag} OK")), "{tag}: {one_piece}");
    }
    assert!(one_piece.contains("+ idling\r\nc5 OK"), "{one_piece}");
    assert!(one_piece.contains("c6 OK [APPENDUID N 5:6]"), "{one_piece}");
    for seed in 1..=40u64 {
        let env = Env::new();
        let out = normalise(&run_script(
            &env,
            &script(),
            Options {
                limits: limits(),
                chunk_seed: Some(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                ..Options::default()
            },
        ));
        assert_eq!(out, one_piece, "seed {seed}");
    }
}
