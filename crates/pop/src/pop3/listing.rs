//! STAT, LIST and UIDL (RFC 1939 §5, §7), and LAST (RFC 1460, which UW kept).

use super::command::MessageNumber;
use super::{Flow, Session};
use crate::error::Error;
use crate::host::Host;

impl<H: Host> Session<'_, H> {
    /// Messages not deleted in this session, and their size in CRLF octets.
    pub(super) fn stat_command(&mut self) -> Result<Flow, Error> {
        let (count, size) = self.maildrop()?.stat();
        self.ok(&format!("{count} {size}"))?;
        Ok(Flow::Continue)
    }

    pub(super) fn list_command(&mut self, n: Option<MessageNumber>) -> Result<Flow, Error> {
        let maildrop = self.maildrop()?;
        let text = match n {
            Some(n) => format!("+OK {n} {}\r\n", maildrop.entry(n)?.size),
            None => {
                let mut text = String::from("+OK Mailbox scan listing follows\r\n");
                for (n, e) in maildrop.listed() {
                    text.push_str(&format!("{n} {}\r\n", e.size));
                }
                text.push_str(".\r\n");
                text
            }
        };
        self.send(text.as_bytes())?;
        Ok(Flow::Continue)
    }

    pub(super) fn uidl_command(&mut self, n: Option<MessageNumber>) -> Result<Flow, Error> {
        let maildrop = self.maildrop()?;
        let text = match n {
            Some(n) => format!("+OK {n} {}\r\n", maildrop.unique_id(n)?),
            None => {
                let mut text = String::from("+OK Unique-ID listing follows\r\n");
                let numbers: Vec<u32> = maildrop.listed().map(|(n, _)| n).collect();
                for n in numbers {
                    text.push_str(&format!("{n} {}\r\n", maildrop.unique_id(n)?));
                }
                text.push_str(".\r\n");
                text
            }
        };
        self.send(text.as_bytes())?;
        Ok(Flow::Continue)
    }

    pub(super) fn last_command(&mut self) -> Result<Flow, Error> {
        let last = self.maildrop()?.last();
        self.ok(&last.to_string())?;
        Ok(Flow::Continue)
    }
}
