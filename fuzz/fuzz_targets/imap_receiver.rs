//! The IMAP framing receiver fed the same input whole and in random chunks (the
//! first octets choose the chunk sizes and the state): the events must be the same,
//! and no command may hold more than the limits allow.
#![no_main]
use imap::receiver::{Event, Limits, Receiver};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits {
    line: 200,
    literal: 1000,
    append: 1500,
    literal_minus: false,
};

fn run(input: &[u8], chunks: &[u8], before_login: bool, minus: bool) -> Vec<Event> {
    let limits = Limits {
        literal_minus: minus,
        ..LIMITS
    };
    let mut r = if before_login {
        Receiver::before_login(limits)
    } else {
        Receiver::new(limits)
    };
    let mut events = Vec::new();
    let mut pos = 0;
    let mut sizes = chunks.iter().cycle();
    let mut rounds = 0;
    while pos < input.len() {
        rounds += 1;
        assert!(rounds < 1_000_000, "no progress");
        let size = if chunks.is_empty() {
            input.len()
        } else {
            usize::from(*sizes.next().unwrap()) % 64 + 1
        };
        let end = (pos + size).min(input.len());
        let mut at = pos;
        while at < end {
            let (n, event) = r.feed(&input[at..end]);
            at += n;
            if let Some(e) = event {
                if let Event::Command(c) = &e {
                    assert!(c.len() <= 200 + 1500 + 2 * 64, "command of {} octets", c.len());
                }
                if let Event::Continue = e {
                    // Sometimes the session refuses instead of sending `+`.
                    if chunks.first().is_some_and(|b| b & 0x80 != 0) && r.partial().len() % 3 == 0 {
                        r.abandon();
                    }
                }
                events.push(e);
            } else if n == 0 {
                break;
            }
        }
        pos = end;
    }
    events
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let split = usize::from(flags & 0x0f).min(rest.len());
    let (chunks, input) = rest.split_at(split);
    let before_login = flags & 0x10 != 0;
    let minus = flags & 0x20 != 0;
    let whole = run(input, &[], before_login, minus);
    let pieces = run(input, chunks, before_login, minus);
    // `abandon` depends on what was buffered at the time: compare only without it.
    if chunks.first().is_none_or(|b| b & 0x80 == 0) {
        assert_eq!(whole, pieces);
    }
});
