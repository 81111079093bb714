//! SASL: the response decoder and every mechanism's exchange, driven by the client
//! lines in the input (the first octet picks the mechanism); nothing panics, and an
//! exchange ends within its lines.
#![no_main]
use daemon::sasl::{decode_response, Exchange, Mechanism, Step};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let names = ["PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "ANONYMOUS"];
    let Some(mechanism) = Mechanism::from_name(names[usize::from(pick) % names.len()]) else {
        return;
    };
    let mut lines = rest.split(|&b| b == b'\n');
    let mut exchange = Exchange::new(mechanism, "fuzz.example");
    let initial = if pick & 0x80 != 0 {
        lines.next().map(|l| decode_response(l))
    } else {
        None
    };
    let initial = match initial {
        Some(Ok(bytes)) => Some(bytes),
        Some(Err(_)) => return,
        None => None,
    };
    let mut step = exchange.start(initial.as_deref());
    for line in lines {
        match step {
            Ok(Step::Challenge(_)) => {}
            _ => break,
        }
        let Ok(response) = decode_response(line) else {
            return;
        };
        step = exchange.step(&response);
    }
});
