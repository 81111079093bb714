//! RFC 5322 + MIME: a message is parsed, its ENVELOPE, BODY and BODYSTRUCTURE written,
//! its header fields read and every section addressed; nothing panics and every
//! section lies within the message.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let m = message::Message::parse(data);
    let _ = m.envelope_imap();
    let _ = m.bodystructure_imap();
    let _ = m.body_imap();
    let _ = m.header_values("Subject");
    let _ = m.header_matches("From", "a");
    assert!(m.header_bytes().len() + m.text_bytes().len() <= data.len() + 2);
    for path in [&[][..], &[1], &[2], &[1, 1], &[1, 2, 1]] {
        let _ = m.binary(path);
        let _ = m.binary_size(path);
    }
    for spec in [
        "1", "2", "1.1", "1.2.3", "HEADER", "TEXT", "1.MIME", "1.HEADER", "2.TEXT",
        "HEADER.FIELDS (Subject From)", "HEADER.FIELDS.NOT (To)",
    ] {
        if let Ok(section) = imap::parse::parse_command(format!("a FETCH 1 BODY[{spec}]").as_bytes()) {
            let _ = section;
        }
    }
    let _ = message::header::filter_fields(m.header_bytes(), &[b"subject".to_vec()], false);
    let _ = message::reencode::base64_unsafe_parts(data, &|c: &[u8]| c.contains(&0));
    let _ = message::to_crlf(data);
    let _ = message::thread::base_subject(data);
    let _ = message::thread::message_ids(data);
});
