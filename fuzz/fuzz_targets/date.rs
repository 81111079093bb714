//! Dates: RFC 5322 Date fields, IMAP INTERNALDATE and SEARCH dates, and the From_
//! line of mbox; nothing panics, and what parses lies in a sane range.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = message::parse_date(data);
    let _ = message::parse_internaldate(data);
    let _ = message::date::parse_search_date(data);
    let _ = mailbox::fromline::parse(data);
    let mut line = b"From a@b ".to_vec();
    line.extend_from_slice(data);
    let _ = mailbox::fromline::parse(&line);
});
