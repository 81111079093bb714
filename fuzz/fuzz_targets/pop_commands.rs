//! POP3 and POP2 command lines: parsed, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pop::pop3::command::parse(data);
    let _ = pop::pop2::command::parse(data);
});
