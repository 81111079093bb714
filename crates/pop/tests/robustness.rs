//! Untrusted input: random command sequences, garbage octets and random read
//! sizes through both engines. Nothing may panic, every answer must be whole
//! CRLF lines, and the mailbox must only ever lose what a QUIT deleted.

mod support;

use support::*;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const POP3_WORDS: &[&str] = &[
    "USER alice",
    "PASS wonder land",
    "PASS x",
    "APOP alice 0",
    "AUTH",
    "AUTH PLAIN",
    "AUTH LOGIN",
    "*",
    "STLS",
    "CAPA",
    "STAT",
    "LIST",
    "LIST 1",
    "LIST 9",
    "RETR 1",
    "RETR 2",
    "RETR 0",
    "DELE 1",
    "DELE 3",
    "RSET",
    "NOOP",
    "TOP 1 1",
    "TOP 2 99",
    "UIDL",
    "UIDL 2",
    "LAST",
    "QUIT",
    "",
    "XTND",
    "retr",
    "TOP",
    "LIST 1 2",
];

const POP2_WORDS: &[&str] = &[
    "HELO alice wonder land",
    "HELO alice x",
    "FOLD INBOX",
    "FOLD work",
    "READ",
    "READ 1",
    "READ 7",
    "RETR",
    "ACKS",
    "ACKD",
    "NACK",
    "QUIT",
    "",
    "BOGUS",
];

/// Random packets; half of the sessions log in first, so that the
/// transaction states get their share.
fn random_session(rng: &mut Rng, words: &[&str], login: &str) -> Vec<Vec<u8>> {
    let mut packets = vec![Vec::new()];
    if rng.below(2) == 0 {
        packets[0].extend_from_slice(login.as_bytes());
    }
    for _ in 0..rng.below(40) {
        let packet = packets.last_mut().unwrap();
        match rng.below(10) {
            0 => {
                // Garbage, sometimes without a line end, sometimes long.
                let len = if rng.below(4) == 0 {
                    3000
                } else {
                    rng.below(40)
                };
                packet.extend((0..len).map(|_| rng.next() as u8));
            }
            1 => packets.push(Vec::new()),
            _ => {
                packet.extend_from_slice(words[rng.below(words.len())].as_bytes());
                packet.extend_from_slice(if rng.below(5) == 0 { b"\n" } else { b"\r\n" });
            }
        }
    }
    packets
}

fn whole_lines(output: &[u8]) -> bool {
    output.is_empty() || output.ends_with(b"\r\n")
}

#[test]
fn random_pop3_sessions_never_panic_or_break_framing() {
    let f = Fixture::new();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut logged_in = 0;
    for round in 0..300 {
        if round % 25 == 0 {
            f.write_mbox(USER, &[M1, M2, M3]);
        }
        let packets = random_session(&mut rng, POP3_WORDS, "USER alice\r\nPASS wonder land\r\n");
        let mut host = f.host(packets);
        host.io.chunk = 1 + rng.below(64);
        host.tls_available = rng.below(2) == 0;
        let outcome = pop::pop3::serve(&mut host);
        logged_in += usize::from(outcome.user.is_some());
        assert!(whole_lines(&host.io.output), "round {round}");
        assert!(f.contents(USER).len() <= 3, "round {round}");
    }
    assert!(logged_in > 100, "only {logged_in} sessions got past login");
}

#[test]
fn random_pop2_sessions_never_panic_or_break_framing() {
    let f = Fixture::new();
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    let mut logged_in = 0;
    for round in 0..300 {
        if round % 25 == 0 {
            f.write_mbox(USER, &[M1, M2, M3]);
        }
        let packets = random_session(&mut rng, POP2_WORDS, "HELO alice wonder land\r\n");
        let mut host = f.host(packets);
        host.io.chunk = 1 + rng.below(64);
        let outcome = pop::pop2::serve(&mut host);
        logged_in += usize::from(outcome.user.is_some());
        // RETR sends a message, which ends in CRLF too.
        assert!(whole_lines(&host.io.output), "round {round}");
        assert!(f.contents(USER).len() <= 3, "round {round}");
    }
    assert!(logged_in > 100, "only {logged_in} sessions got past login");
}
