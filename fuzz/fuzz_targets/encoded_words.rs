//! RFC 2047 encoded words in header values, RFC 2231 parameters (with
//! continuations and charsets) in Content-Type and Content-Disposition, and the
//! charset and transfer decoders behind them.
#![no_main]
use libfuzzer_sys::fuzz_target;
use message::encoded_word::Raw8bit;

fuzz_target!(|data: &[u8]| {
    for raw in [Raw8bit::Utf8, Raw8bit::Replace] {
        let _ = message::encoded_word::decode_header_value(data, raw);
    }
    let _ = message::header::unfold(data);
    let _ = message::transfer::decode_base64(data);
    let _ = message::transfer::decode_quoted_printable(data);
    if let Some(cut) = data.iter().position(|&b| b == b'|') {
        let _ = message::charset::to_utf8_lossy(&data[..cut], &data[cut + 1..]);
    }
    let mut msg = b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; ".to_vec();
    msg.extend_from_slice(data);
    msg.extend_from_slice(b"\r\nContent-Disposition: attachment; ");
    msg.extend_from_slice(data);
    msg.extend_from_slice(b"\r\nSubject: ");
    msg.extend_from_slice(data);
    msg.extend_from_slice(b"\r\n\r\nbody\r\n");
    let m = message::Message::parse(&msg);
    let _ = m.bodystructure_imap();
    let _ = m.envelope_imap();
});
