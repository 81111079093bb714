//! Prints ENVELOPE and BODYSTRUCTURE of the messages named on the command
//! line (LF line ends are converted to CRLF first).
fn main() {
    for f in std::env::args().skip(1) {
        let raw = std::fs::read(&f).expect("read");
        let bytes = message::to_crlf(&raw);
        let m = message::Message::parse(&bytes);
        println!(
            "{f}\nENVELOPE {}\nBODYSTRUCTURE {}",
            String::from_utf8_lossy(&m.envelope_imap()),
            String::from_utf8_lossy(&m.bodystructure_imap())
        );
    }
}
