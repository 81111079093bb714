//! Bounded random testing (no nightly, so no cargo-fuzz): a seeded
//! generator builds MIME-shaped messages from fragments (nested multiparts,
//! message/rfc822, broken boundaries, odd headers, 8-bit, NUL, bare CR/LF)
//! and mutates them at random. For every message: no panic; BODYSTRUCTURE,
//! BODY and ENVELOPE stay within a bound proportional to the input; nesting
//! stays within `MAX_DEPTH`; every section of every part is a slice no
//! larger than the input; BINARY output is bounded; section specs survive
//! `to_imap` -> `parse`; an encapsulated message parsed on its own gives
//! the same structure. Runs a few thousand cases in well under a minute.

use message::body::{BodyPart, Nested, MAX_DEPTH};
use message::{parse_date, Message, Partial, Section, SectionKind};

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const HEADERS: &[&str] = &[
    "From: Alice <alice@example.org>",
    "From: \"Q \\\" x\" <q@x>, (c) b@c, , g: a@b, <@r1,@r2:u@h>;",
    "To: undisclosed-recipients:;",
    "To: a@b (comment (nested)), c",
    "Cc: <unterminated@x",
    "Subject: =?utf-8?q?caf=C3=A9?= =?bogus",
    "Subject: Re: [list] Fwd: hello (fwd)",
    "Date: Mon, 1 Jan 96 10:00:00 EST",
    "Date: 31 Feb 2024 25:61:00 +9999",
    "Message-ID: <id@x>",
    "References: <a@b> <c@d>\r\n <e@f>",
    "In-Reply-To: <a@b>",
    "Content-Transfer-Encoding: base64",
    "Content-Transfer-Encoding: quoted-printable",
    "Content-Transfer-Encoding: x-weird",
    "Content-Disposition: attachment; filename=\"a.bin\"; x",
    "Content-Language: en, de",
    "Content-ID: <cid@x>",
    "Content-Description: (c) text",
    "Content-Type: text/plain; charset=iso-8859-1",
    "Content-Type: text",
    "Content-Type: ; a=b",
    "Content-Type: image/; name=\"x",
    "Content-Type: a/b/c; d=e",
    "Content-Type: message/rfc822",
    "Content-Type: multipart/digest; boundary=d",
    "no colon line",
    " leading continuation",
    "X-8bit: \u{e9}\u{e8}",
];

const BODIES: &[&str] = &[
    "hello\r\n",
    "=E9t=C3=A9 =\r\nsoft\r\n",
    "aGVsbG8gd29ybGQ=\r\n",
    "From the start\r\n",
    "\u{1}\u{1}\u{1}\u{1}\r\n",
    "",
    "\r\n\r\n",
    "bare\nlf\rcr\r\n",
];

fn gen_part(r: &mut Rng, depth: usize, out: &mut Vec<u8>) {
    let kind = if depth > 40 { 3 } else { r.below(5) };
    for _ in 0..r.below(4) {
        out.extend_from_slice(r.pick(HEADERS).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    match kind {
        0 | 1 => {
            let b = format!("b{}x{}", depth, r.below(3));
            out.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=\"{b}\"\r\n\r\n").as_bytes(),
            );
            if r.below(4) == 0 {
                out.extend_from_slice(b"preamble\r\n");
            }
            for _ in 0..r.below(4) {
                out.extend_from_slice(format!("--{b}\r\n").as_bytes());
                gen_part(r, depth + 1, out);
                out.extend_from_slice(b"\r\n");
            }
            match r.below(4) {
                0 => {}
                1 => out.extend_from_slice(format!("--{b}-- \r\nepilogue\r\n").as_bytes()),
                _ => out.extend_from_slice(format!("--{b}--\r\n").as_bytes()),
            }
        }
        2 => {
            out.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
            gen_part(r, depth + 1, out);
        }
        _ => {
            if r.below(3) > 0 {
                out.extend_from_slice(b"\r\n");
            }
            for _ in 0..r.below(3) {
                out.extend_from_slice(r.pick(BODIES).as_bytes());
            }
        }
    }
}

fn mutate(r: &mut Rng, m: &mut Vec<u8>) {
    for _ in 0..r.below(4) {
        if m.is_empty() {
            return;
        }
        let i = r.below(m.len());
        match r.below(5) {
            0 => m[i] = r.next() as u8,
            1 => {
                m.remove(i);
            }
            2 => m.insert(
                i,
                *b"\r\n-:;\"()<>=\0\x80"[..]
                    .get(r.below(14))
                    .unwrap_or(&b'x'),
            ),
            3 => m.truncate(i),
            _ => {
                let j = r.below(m.len());
                let (a, b) = (i.min(j), i.max(j));
                let chunk = m[a..b.min(a + 64)].to_vec();
                m.splice(i..i, chunk);
            }
        }
    }
}

fn depth_of(b: &BodyPart) -> usize {
    match &b.nested {
        Nested::None => 0,
        Nested::Multipart(p) => 1 + p.iter().map(depth_of).max().unwrap_or(0),
        Nested::Message(m) => 1 + depth_of(&m.body),
    }
}

/// Every part path of the tree (depth-first), as IMAP numbers them.
fn paths(b: &BodyPart, prefix: &mut Vec<u32>, out: &mut Vec<Vec<u32>>) {
    match &b.nested {
        Nested::Multipart(parts) => {
            for (i, p) in parts.iter().enumerate() {
                prefix.push(i as u32 + 1);
                out.push(prefix.clone());
                paths_inner(p, prefix, out);
                prefix.pop();
            }
        }
        _ => {
            prefix.push(1);
            out.push(prefix.clone());
            paths_inner(b, prefix, out);
            prefix.pop();
        }
    }
}

fn paths_inner(b: &BodyPart, prefix: &mut Vec<u32>, out: &mut Vec<Vec<u32>>) {
    if out.len() > 500 {
        return;
    }
    match &b.nested {
        Nested::Multipart(_) => paths(b, prefix, out),
        Nested::Message(m) => paths(&m.body, prefix, out),
        Nested::None => {}
    }
}

fn check(bytes: &[u8]) {
    let msg = Message::parse(bytes);
    let n = bytes.len();
    let bs = msg.bodystructure_imap();
    let body = msg.body_imap();
    let env = msg.envelope_imap();
    // Each part renders in a bounded number of octets plus its own strings.
    let bound = 64 * n + 4096;
    assert!(
        bs.len() <= bound,
        "BODYSTRUCTURE {} octets for {n}",
        bs.len()
    );
    assert!(body.len() <= bs.len());
    assert!(
        env.len() <= 16 * n + 256,
        "ENVELOPE {} octets for {n}",
        env.len()
    );
    assert!(depth_of(msg.body()) <= MAX_DEPTH + 1);
    let _ = msg.envelope().date.as_deref().map(parse_date);

    let mut all = Vec::new();
    paths(msg.body(), &mut Vec::new(), &mut all);
    all.truncate(200);
    all.push(vec![]);
    all.push(vec![99]);
    all.push(vec![1, 1, 1, 1]);
    for p in &all {
        for kind in [
            SectionKind::Full,
            SectionKind::Header,
            SectionKind::Text,
            SectionKind::Mime,
            SectionKind::HeaderFields(vec![b"FROM".to_vec(), b"CONTENT-TYPE".to_vec()]),
            SectionKind::HeaderFieldsNot(vec![b"SUBJECT".to_vec()]),
        ] {
            if kind == SectionKind::Mime && p.is_empty() {
                continue;
            }
            let s = Section::new(p.clone(), kind);
            assert_eq!(Section::parse(s.to_imap().as_bytes()).as_ref(), Ok(&s));
            let d = msg.section(&s);
            assert!(d.data.len() <= n);
            let part = d.partial(Partial {
                origin: 3,
                octets: 7,
            });
            assert!(part.data.len() <= 7);
            let _ = part.to_imap();
        }
        if let Ok(b) = msg.binary(p) {
            assert!(b.data.len() <= n);
        }
    }
    // An encapsulated message parsed on its own has the same structure.
    if let Nested::Multipart(parts) = &msg.body().nested {
        for (i, part) in parts.iter().enumerate() {
            if let Some(m) = part.message() {
                let inner = msg
                    .section(&Section::new(vec![i as u32 + 1], SectionKind::Full))
                    .data
                    .into_owned();
                let alone = Message::parse(&inner);
                let mut want = Vec::new();
                m.body.write_imap(&mut want, true);
                if depth_of(&m.body) + 2 < MAX_DEPTH {
                    assert_eq!(alone.bodystructure_imap(), want);
                    assert_eq!(alone.envelope(), &m.envelope);
                }
            }
        }
    }
    let _ = msg.body_matches("hello");
    let _ = msg.text_matches("caf\u{e9}");
    let _ = msg.address_matches("from", "alice");
}

#[test]
fn random_messages_never_panic_and_stay_bounded() {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let cases = if cfg!(debug_assertions) { 4000 } else { 20_000 };
    for case in 0..cases {
        let mut m = Vec::new();
        gen_part(&mut r, 0, &mut m);
        if case % 2 == 1 {
            mutate(&mut r, &mut m);
        }
        let r2 = std::panic::catch_unwind(|| check(&m));
        if r2.is_err() {
            panic!(
                "case {case} failed on message:\n{}",
                String::from_utf8_lossy(&m).escape_debug()
            );
        }
    }
}

#[test]
fn deep_nesting_is_cut_not_followed() {
    // 5,000 nested multiparts and 5,000 nested message/rfc822 parts.
    let mut m = Vec::new();
    for i in 0..5000 {
        m.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes(),
        );
    }
    check(&m);
    let m = "Content-Type: message/rfc822\r\n\r\n".repeat(5000);
    check(m.as_bytes());
}

#[test]
fn many_parts_are_capped() {
    let mut m = b"Content-Type: multipart/mixed; boundary=x\r\n\r\n".to_vec();
    m.extend_from_slice(&b"--x\r\n\r\na\r\n".repeat(20_000));
    let msg = Message::parse(&m);
    assert!(msg.body().parts().len() <= message::body::MAX_PARTS);
    assert!(msg.bodystructure_imap().len() < 100 * m.len());
}

#[test]
fn huge_address_lists_and_parameter_lists_are_capped() {
    let mut m = b"To: ".to_vec();
    m.extend_from_slice(&b"a@b, ".repeat(50_000));
    m.extend_from_slice(b"\r\nContent-Type: text/plain");
    m.extend_from_slice(&b"; a=b".repeat(10_000));
    m.extend_from_slice(b"\r\n\r\nx");
    let msg = Message::parse(&m);
    assert!(msg.envelope().to.len() <= message::address::MAX_ADDRESSES);
    assert!(msg.body().params.len() <= 256);
}
