//! One `Driver` per on-disk format. mbox and MMDF differ only in how a message is
//! framed in the file; everything else (scanning, bookkeeping fields, rewriting)
//! is shared code that asks the driver about framing. This is c-client's DRIVER
//! idea, without its second copy of the unix driver for MMDF.

use crate::format::{Format, MMDF_DELIMITER};
use crate::fromline;

/// The framing rules of one mailbox format.
pub trait Driver: Sync + Send {
    fn format(&self) -> Format;

    /// What a line that opens a message begins with (`From ` or the MMDF delimiter).
    fn opening(&self) -> &'static [u8];

    /// Whether a whole line (without its LF) that begins with [`Driver::opening`]
    /// really opens a message.
    fn is_opening(&self, line: &[u8]) -> bool;

    /// The line that closes a message, if the format has one (MMDF). Without one, a
    /// message ends where the next opens, less the blank separator line (mbox).
    fn closing(&self) -> Option<&'static [u8]>;

    /// Whether body lines starting `From ` must be written as `>From `.
    fn quotes_from(&self) -> bool;

    /// Writes what precedes a message's header: its opening and the From_ line.
    fn write_opening(&self, out: &mut Vec<u8>, from_line: &[u8]);

    /// Writes what follows a message's text (which ends in LF).
    fn write_closing(&self, out: &mut Vec<u8>);
}

/// RFC 4155 mbox (c-client's "unix" driver).
pub struct Mbox;

/// MMDF, as the SCO/UW mmdf driver writes it: `^A^A^A^A`, a From_ line, the message,
/// `^A^A^A^A`.
pub struct Mmdf;

impl Driver for Mbox {
    fn format(&self) -> Format {
        Format::Mbox
    }
    fn opening(&self) -> &'static [u8] {
        b"From "
    }
    fn is_opening(&self, line: &[u8]) -> bool {
        fromline::parse(line).is_some()
    }
    fn closing(&self) -> Option<&'static [u8]> {
        None
    }
    fn quotes_from(&self) -> bool {
        true
    }
    fn write_opening(&self, out: &mut Vec<u8>, from_line: &[u8]) {
        out.extend_from_slice(from_line);
    }
    fn write_closing(&self, out: &mut Vec<u8>) {
        out.push(b'\n');
    }
}

impl Driver for Mmdf {
    fn format(&self) -> Format {
        Format::Mmdf
    }
    fn opening(&self) -> &'static [u8] {
        MMDF_DELIMITER
    }
    fn is_opening(&self, line: &[u8]) -> bool {
        line == &MMDF_DELIMITER[..4]
    }
    fn closing(&self) -> Option<&'static [u8]> {
        Some(MMDF_DELIMITER)
    }
    fn quotes_from(&self) -> bool {
        false
    }
    fn write_opening(&self, out: &mut Vec<u8>, from_line: &[u8]) {
        out.extend_from_slice(MMDF_DELIMITER);
        out.extend_from_slice(from_line);
    }
    fn write_closing(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(MMDF_DELIMITER);
    }
}

/// The driver for a format.
pub fn driver(format: Format) -> &'static dyn Driver {
    match format {
        Format::Mbox => &Mbox,
        Format::Mmdf => &Mmdf,
    }
}
