//! The IMAP command parser: whatever it accepts, the encoder writes back as a command
//! that parses to the same value (parse -> encode -> parse), as imap-codec's targets
//! assert; nothing panics on anything.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = imap::parse::parse_invalid_names(data);
    let _ = imap::parse::command_prefix(data);
    if let Ok(command) = imap::parse::parse_command(data) {
        let wire = imap::encode::encode_command(&command);
        let again = imap::parse::parse_command(&wire).unwrap_or_else(|e| {
            panic!(
                "re-parse failed: {e:?}\ninput {:?}\nencoded {:?}",
                String::from_utf8_lossy(data),
                String::from_utf8_lossy(&wire)
            )
        });
        assert_eq!(again, command, "encoded {:?}", String::from_utf8_lossy(&wire));
    }
});
