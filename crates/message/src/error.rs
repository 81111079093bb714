//! The crate's error type.

/// Errors from the message model. Parsing itself never fails; only BINARY
/// can, on a transfer encoding it does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// BINARY on a Content-Transfer-Encoding we cannot decode. IMAP answer:
    /// `NO [UNKNOWN-CTE]` (RFC 3516 §4.3).
    UnknownCte,
}

impl Error {
    /// The IMAP response code that carries this error.
    pub fn response_code(&self) -> &'static str {
        match self {
            Error::UnknownCte => "UNKNOWN-CTE",
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::UnknownCte => f.write_str("Unknown Content-Transfer-Encoding"),
        }
    }
}

impl std::error::Error for Error {}
