//! UW's ipop3d transcripts (`tests/conformance/pop3.uw`, `pop3-mmdf.uw`) replayed
//! on the very files UW wrote (`mbox-after.mbox`, `mmdf-after.mmdf`), compared
//! as `replay.py` compares them: STAT, LIST, TOP and RETR exactly, UIDL with
//! UW's `%08x%08x` values. Where UW is wrong by the RFCs (README deviation 6:
//! its made-up 12-octet `Status:` line, counted in every size), the expected
//! answer is UW's with that line taken out.

mod support;

use std::path::Path;
use support::*;

/// UIDVALIDITY put into the files in place of the `UIDVALIDITY` token.
const UIDVALIDITY: u32 = 1_700_000_000;
/// The length of `Status: RO` CRLF, which UW added to every message it served.
const STATUS_LINE: usize = 12;

/// One recorded exchange: the command and the whole reply.
struct Exchange {
    command: String,
    reply: Vec<Vec<u8>>,
}

fn parse_uw(data: &[u8]) -> Vec<Exchange> {
    let mut out: Vec<Exchange> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if let Some(c) = line.strip_prefix(b"C: ") {
            let c = String::from_utf8_lossy(c).trim_end().to_string();
            out.push(Exchange {
                command: c,
                reply: Vec::new(),
            });
        } else if line.starts_with(b"G: ") {
            continue;
        } else if let Some(last) = out.last_mut() {
            last.reply.push(line.to_vec());
        }
    }
    out
}

/// The file UW left, with the normalisation tokens of its pseudo-message (the
/// first lines) replaced by real values; every other octet stays as it is.
fn unnormalise(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for (i, line) in data.split_inclusive(|&b| b == b'\n').enumerate() {
        if i < 12 {
            let text = String::from_utf8(line.to_vec()).expect("an ASCII pseudo-message");
            let text = text
                .replace(
                    "From MAILER-DAEMON NOW",
                    "From MAILER-DAEMON Mon Jan  1 10:00:00 2024",
                )
                .replace("Date: NOW", "Date: Mon, 1 Jan 2024 10:00:00 +0000")
                .replace("<NOW@", "<1@")
                .replace("X-IMAP: UIDVALIDITY", &format!("X-IMAP: {UIDVALIDITY}"));
            out.extend_from_slice(text.as_bytes());
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

/// Splits our output into one reply per command, knowing which are multi-line.
fn split_replies(output: &[u8], commands: &[String]) -> Vec<Vec<Vec<u8>>> {
    let mut lines = output.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec);
    let _greeting = lines.next();
    let mut replies = Vec::new();
    for c in commands {
        let mut reply = vec![lines.next().expect("a reply line")];
        let words: Vec<&str> = c.split_whitespace().collect();
        let multi = matches!(
            (words[0].to_ascii_uppercase().as_str(), words.len()),
            ("UIDL", 1) | ("LIST", 1) | ("TOP", _) | ("RETR", _)
        );
        if multi && reply[0].starts_with(b"+OK") {
            for line in lines.by_ref() {
                let end = line == b".\r\n";
                reply.push(line);
                if end {
                    break;
                }
            }
        }
        replies.push(reply);
    }
    replies
}

fn numbers(line: &[u8]) -> Vec<u64> {
    String::from_utf8_lossy(line)
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

/// UW's reply as pullmail must give it.
fn expected(ex: &Exchange) -> Vec<Vec<u8>> {
    let verb = ex
        .command
        .split_whitespace()
        .next()
        .unwrap()
        .to_ascii_uppercase();
    let mut reply = ex.reply.clone();
    match verb.as_str() {
        "STAT" => {
            let n = numbers(&reply[0]);
            reply[0] =
                format!("+OK {} {}\r\n", n[0], n[1] - STATUS_LINE as u64 * n[0]).into_bytes();
        }
        "LIST" => {
            for line in &mut reply[1..] {
                if line != b".\r\n" {
                    let n = numbers(line);
                    *line = format!("{} {}\r\n", n[0], n[1] - STATUS_LINE as u64).into_bytes();
                }
            }
        }
        "UIDL" => {
            let uv = format!("{UIDVALIDITY:08x}");
            for line in &mut reply[1..] {
                *line = String::from_utf8_lossy(line)
                    .replace("UIDVALIDITY", &uv)
                    .into_bytes();
            }
        }
        "TOP" | "RETR" => {
            let blank = reply.iter().position(|l| l == b"\r\n").unwrap();
            let status = &reply[blank - 1];
            assert!(status.starts_with(b"Status:") && status.len() == STATUS_LINE);
            reply.remove(blank - 1);
            if verb == "RETR" {
                let n = numbers(&reply[0])[0];
                reply[0] = format!("+OK {} octets\r\n", n - STATUS_LINE as u64).into_bytes();
            }
        }
        _ => {}
    }
    reply
}

fn replay(uw: &str, mailbox_file: &str) {
    let tree = conformance();
    let recorded = parse_uw(&std::fs::read(tree.join(uw)).unwrap());
    let f = Fixture::new();
    std::fs::write(
        f.spool(USER),
        unnormalise(&std::fs::read(tree.join(mailbox_file)).unwrap()),
    )
    .unwrap();
    let commands: Vec<String> = recorded
        .iter()
        .map(|ex| match ex.command.as_str() {
            "USER uwtest" => format!("USER {USER}"),
            "PASS PASSWORD" => format!("PASS {PASSWORD}"),
            c => c.to_string(),
        })
        .collect();
    let input: Vec<u8> = commands
        .iter()
        .flat_map(|c| format!("{c}\r\n").into_bytes())
        .collect();
    let mut host = f.host(vec![input]);
    pop::pop3::serve(&mut host);
    let ours = split_replies(&host.io.output, &commands);
    let mut agree = 0;
    for (ex, got) in recorded.iter().zip(&ours) {
        let want = expected(ex);
        let (mut w, mut g) = (want.concat(), got.concat());
        let verb = ex
            .command
            .split_whitespace()
            .next()
            .unwrap()
            .to_ascii_uppercase();
        if !["STAT", "LIST", "UIDL", "TOP", "RETR"].contains(&verb.as_str()) {
            // Texts of one-line answers are free (RFC 1939 §3); the status is not.
            let status = |v: &[u8]| v.split(|&b| b == b' ').next().unwrap_or(b"").to_vec();
            (w, g) = (status(&w), status(&g));
        }
        assert!(
            w == g,
            "{uw} {}: expected\n{}\ngot\n{}",
            ex.command,
            String::from_utf8_lossy(&w[..w.len().min(2000)]),
            String::from_utf8_lossy(&g[..g.len().min(2000)])
        );
        agree += 1;
    }
    assert_eq!(agree, recorded.len());
    eprintln!("{uw}: {agree}/{} answers agree", recorded.len());
}

#[test]
fn uw_pop3_transcript_on_uws_mbox_file() {
    replay("pop3.uw", "mbox-after.mbox");
}

#[test]
fn uw_pop3_transcript_on_uws_mmdf_file() {
    replay("pop3-mmdf.uw", "mmdf-after.mmdf");
}

#[test]
fn the_corpus_is_where_the_tests_expect_it() {
    assert!(Path::new(&conformance()).join("pop3.uw").exists());
}
