//! READ, RETR, ACKS, ACKD and NACK: one message at a time.

use std::io::Write;

use super::{Session, State};
use crate::error::Error;
use crate::host::Host;

/// The CRLF UW's ipop2d sent after every message ("to coddle PCNFS' NFSMAIL"),
/// counted in the announced size; kept so that old clients see what they saw.
const TRAILER: &[u8] = b"\r\n";

impl<H: Host> Session<'_, H> {
    /// Announces message `n` (or the current one): `=size`, or `=0` when there
    /// is no such message left.
    pub(super) fn read(&mut self, n: Option<u32>) -> Result<(), Error> {
        let maildrop = self.maildrop.as_mut().ok_or(Error::WrongState)?;
        if let Some(n) = n {
            if n == 0 || n > maildrop.len() {
                return Err(Error::NoSuchMessage);
            }
            self.current = n;
        } else if self.current > maildrop.len() {
            self.item = None;
            self.state = State::Mbox;
            return self.line("=0 No more messages");
        }
        let current = self.current;
        match maildrop.message(current) {
            Ok(bytes) => {
                let size = bytes.len() + TRAILER.len();
                self.item = Some(bytes);
                self.state = State::Item;
                self.line(&format!("={size} characters in message {current}"))
            }
            Err(Error::MessageDeleted | Error::MessageVanished | Error::NoSuchMessage) => {
                self.item = None;
                self.state = State::Mbox;
                self.line(&format!("=0 No message {current}"))
            }
            Err(e) => Err(e),
        }
    }

    /// Sends the announced message: exactly as many octets as READ said.
    pub(super) fn retr(&mut self) -> Result<(), Error> {
        let bytes = self.item.take().ok_or(Error::WrongState)?;
        let io = self.host.io();
        io.write_all(&bytes)?;
        io.write_all(TRAILER)?;
        self.state = State::Next;
        Ok(())
    }

    /// ACKS (`delete` false) or ACKD: the message was received; mark it `\Seen`
    /// (and deleted) for QUIT, and announce the next one.
    pub(super) fn ack(&mut self, delete: bool) -> Result<(), Error> {
        let maildrop = self.maildrop.as_mut().ok_or(Error::WrongState)?;
        maildrop.mark_retrieved(self.current)?;
        if delete {
            maildrop.delete(self.current)?;
        }
        self.current += 1;
        self.read(None)
    }
}
