//! RETR and TOP (RFC 1939 §5, §7): the message as stored, in CRLF text,
//! dot-stuffed. Unlike UW's ipop3d no `Status:` line is made up: the octet
//! count announced is the count of the message itself.

use super::command::MessageNumber;
use super::{Flow, Session};
use crate::dot;
use crate::error::Error;
use crate::host::Host;

impl<H: Host> Session<'_, H> {
    pub(super) fn retr_command(&mut self, n: MessageNumber) -> Result<Flow, Error> {
        let bytes = self.maildrop()?.retrieve(n)?;
        self.ok(&format!("{} octets", bytes.len()))?;
        dot::write_multiline(self.host.io(), &bytes)?;
        Ok(Flow::Continue)
    }

    /// The header, the blank line after it, and the first `lines` lines of the
    /// body. TOP does not count as reading the message (no `\Seen`).
    pub(super) fn top_command(&mut self, n: MessageNumber, lines: u64) -> Result<Flow, Error> {
        let (mut out, text) = self.maildrop()?.top(n)?;
        if !out.is_empty() {
            if !out.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
            // A message without a body has no blank line; RFC 1939 wants one.
            if !(out.ends_with(b"\r\n\r\n") || out == b"\r\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
        out.extend_from_slice(dot::first_lines(&text, lines));
        self.ok("Top of message follows")?;
        dot::write_multiline(self.host.io(), &out)?;
        Ok(Flow::Continue)
    }
}
