//! Micro-benchmark: ENVELOPE + BODYSTRUCTURE for 10,000 generated messages.
//!
//! `cargo run --release -p message --example bench`
//!
//! The messages are built deterministically (a fixed-seed generator): a mix
//! of plain text, multipart/alternative, multipart/mixed with base64
//! attachments, forwarded message/rfc822 and a few with long folded address
//! lists, 1-20 KiB each, CRLF line ends.

use std::time::Instant;

use message::Message;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn header(r: &mut Rng, i: usize, ct: &str) -> String {
    let mut to = String::from("Bob Baker <bob@example.com>");
    for k in 0..r.below(12) {
        to.push_str(&format!(",\r\n \"User {k}\" <user{k}@example.net>"));
    }
    format!(
        "Return-Path: <sender{i}@example.org>\r\nReceived: from mx.example.org by mail.example.com; Mon, 1 Jan 2024 10:00:00 +0000\r\n\
Date: Mon, {} Jan 2024 10:{:02}:00 +0100\r\nFrom: \"Sender {i}\" <sender{i}@example.org>\r\nTo: {to}\r\n\
Subject: =?utf-8?q?Message_{i}_=E2=80=93_report?=\r\nMessage-ID: <msg{i}@example.org>\r\n\
References: <root{}@example.org>\r\nMIME-Version: 1.0\r\n{ct}\r\n",
        1 + r.below(28),
        r.below(60),
        r.below(100)
    )
}

fn text(r: &mut Rng, lines: u64) -> String {
    (0..lines)
        .map(|k| {
            format!(
                "Line {k} of the text, with some words to make it realistic {}.\r\n",
                r.below(1000)
            )
        })
        .collect()
}

fn generate(r: &mut Rng, i: usize) -> Vec<u8> {
    let m = match r.below(5) {
        0 => {
            let lines = 10 + r.below(100);
            header(r, i, "Content-Type: text/plain; charset=utf-8\r\n") + &text(r, lines)
        }
        1 => {
            let b = format!("alt-{i}");
            header(r, i, &format!("Content-Type: multipart/alternative; boundary=\"{b}\"\r\n"))
                + &format!("--{b}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
                + &text(r, 20)
                + &format!("\r\n--{b}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html>")
                + &text(r, 30)
                + &format!("</html>\r\n--{b}--\r\n")
        }
        2 => {
            let b = format!("mix-{i}");
            let mut s = header(
                r,
                i,
                &format!("Content-Type: multipart/mixed; boundary=\"{b}\"\r\n"),
            ) + &format!("--{b}\r\nContent-Type: text/plain\r\n\r\n")
                + &text(r, 5);
            for k in 0..1 + r.below(3) {
                s += &format!("\r\n--{b}\r\nContent-Type: application/pdf; name=\"f{k}.pdf\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"f{k}.pdf\"\r\n\r\n");
                let n = 20 + r.below(100);
                for _ in 0..n {
                    s += "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSL0ZpbHRlci9GbGF0ZURlY29k\r\n";
                }
            }
            s + &format!("--{b}--\r\n")
        }
        3 => {
            let b = format!("fwd-{i}");
            let inner = header(r, i + 1_000_000, "Content-Type: text/plain\r\n") + &text(r, 15);
            header(r, i, &format!("Content-Type: multipart/mixed; boundary=\"{b}\"\r\n"))
                + &format!("--{b}\r\nContent-Type: text/plain\r\n\r\nForwarded.\r\n--{b}\r\nContent-Type: message/rfc822\r\n\r\n")
                + &inner
                + &format!("\r\n--{b}--\r\n")
        }
        _ => header(r, i, "") + &text(r, 3),
    };
    m.into_bytes()
}

fn main() {
    let mut r = Rng(0x2545_F491_4F6C_DD1D);
    let msgs: Vec<Vec<u8>> = (0..10_000).map(|i| generate(&mut r, i)).collect();
    let total: usize = msgs.iter().map(Vec::len).sum();
    let mut best = f64::MAX;
    let mut out_len = 0;
    for _ in 0..5 {
        let t = Instant::now();
        out_len = 0;
        for m in &msgs {
            let msg = Message::parse(m);
            out_len += msg.envelope_imap().len() + msg.bodystructure_imap().len();
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "ENVELOPE+BODYSTRUCTURE for {} messages ({:.1} MiB): best of 5 runs {:.1} ms ({:.2} us/message, {:.0} MiB/s); {} octets of output",
        msgs.len(),
        total as f64 / 1048576.0,
        best * 1e3,
        best * 1e6 / msgs.len() as f64,
        total as f64 / 1048576.0 / best,
        out_len
    );
}
