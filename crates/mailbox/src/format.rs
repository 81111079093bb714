//! The on-disk formats pullmail reads and writes, and how a file says which it is.

/// The four Ctrl-A octets and newline that open and close every MMDF message.
pub const MMDF_DELIMITER: &[u8] = b"\x01\x01\x01\x01\n";

/// A mailbox file format of the Unix mbox family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// RFC 4155 mbox ("unix" in c-client): messages start with a `From ` line.
    Mbox,
    /// MMDF: every message is wrapped in `^A^A^A^A` lines.
    Mmdf,
}

impl Format {
    /// The driver name, as in UW's `#driver.NAME/` prefixes and in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Format::Mbox => "mbox",
            Format::Mmdf => "mmdf",
        }
    }

    /// Parses a configured format name (`mbox`, `unix`, `mmdf`).
    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "mbox" | "unix" => Some(Format::Mbox),
            "mmdf" => Some(Format::Mmdf),
            _ => None,
        }
    }
}

/// What the first octets of a file say about its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// A zero-length file: a mailbox of any format, with no messages.
    Empty,
    /// A file in this format.
    Format(Format),
    /// Not a mailbox we know.
    Unknown,
}

/// Classifies a file by its first octets (give at least 5, or the whole file if shorter).
pub fn detect(prefix: &[u8]) -> Detected {
    if prefix.is_empty() {
        Detected::Empty
    } else if prefix.starts_with(MMDF_DELIMITER) {
        Detected::Format(Format::Mmdf)
    } else if prefix.starts_with(b"From ") {
        Detected::Format(Format::Mbox)
    } else {
        Detected::Unknown
    }
}
