//! DELE, RSET and NOOP (RFC 1939 §5): marks in this session only.

use super::command::MessageNumber;
use super::{Flow, Session};
use crate::error::Error;
use crate::host::Host;

impl<H: Host> Session<'_, H> {
    pub(super) fn dele_command(&mut self, n: MessageNumber) -> Result<Flow, Error> {
        self.maildrop()?.delete(n)?;
        self.ok(&format!("Message {n} deleted"))?;
        Ok(Flow::Continue)
    }

    pub(super) fn rset_command(&mut self) -> Result<Flow, Error> {
        let maildrop = self.maildrop()?;
        maildrop.reset();
        let (count, size) = maildrop.stat();
        self.ok(&format!("Maildrop has {count} messages ({size} octets)"))?;
        Ok(Flow::Continue)
    }

    pub(super) fn noop_command(&mut self) -> Result<Flow, Error> {
        self.ok("No-op to you too!")?;
        Ok(Flow::Continue)
    }
}
