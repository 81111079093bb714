//! Address lists: parse, write, parse again: the second parse gives what the first
//! did (the writer's output is the parser's fixed point), and nothing panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut first = Vec::new();
    message::address::parse_address_list(data, &mut first);
    let text = message::address::address_list_text(&first);
    let mut out = Vec::new();
    message::address::write_address_list(&mut out, &first);
    let mut second = Vec::new();
    message::address::parse_address_list(&text, &mut second);
    let text2 = message::address::address_list_text(&second);
    assert_eq!(text, text2, "input {:?}", String::from_utf8_lossy(data));
});
