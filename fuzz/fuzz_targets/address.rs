//! Address lists (From, To, groups, routes, encoded words): parsed and written as an
//! ENVELOPE list and as the text SEARCH matches; never a panic, and parsing the same
//! value twice gives the same list. (The SEARCH text is c-client's display form, not
//! a serialisation that parses back: names are written raw.)
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut first = Vec::new();
    message::address::parse_address_list(data, &mut first);
    let mut out = Vec::new();
    message::address::write_address_list(&mut out, &first);
    let text = message::address::address_list_text(&first);
    let mut second = Vec::new();
    message::address::parse_address_list(data, &mut second);
    assert_eq!(message::address::address_list_text(&second), text);
    let mut header = b"From: ".to_vec();
    header.extend_from_slice(data);
    header.extend_from_slice(b"\r\nSubject: x\r\n\r\nbody\r\n");
    let m = message::Message::parse(&header);
    let _ = m.envelope_imap();
    let _ = m.header_matches("From", "x");
});
