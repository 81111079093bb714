//! The POP2 engine (RFC 937), as UW's ipop2d spoke it.
//!
//! ```text
//! S: + POP2 host pullmail 0.1.0 server ready
//! C: HELO alice secret          S: #2 messages in INBOX
//! C: READ                       S: =1234 characters in message 1
//! C: RETR                       S: (1234 octets: the message, then CRLF)
//! C: ACKD                       S: =567 characters in message 2
//! C: RETR                       S: (567 octets)
//! C: ACKS                       S: =0 No more messages
//! C: QUIT                       S: + Sayonara
//! ```
//!
//! Replies are `+` (ok), `-` (error), `#n` (message count), `=n` (message
//! size). As in UW, an error ends the session: POP2 has no way to recover from
//! a misunderstanding about which message is current. The count in `=n` is the
//! exact number of octets RETR sends: the message in CRLF text plus the CRLF UW
//! always added after it (UW also counted a made-up `Status:` line, which
//! pullmail does not send; see `tests/conformance/README.md`, deviation 6).
//! ACKS marks the message `\Seen`, ACKD also deletes it; like POP3, both are
//! applied only at QUIT (or FOLD), and a session that ends otherwise applies
//! nothing. The files: [`command`] (the parser), `helo` (HELO, FOLD), `read`
//! (READ, RETR, ACKS, ACKD, NACK).

pub mod command;

mod helo;
mod read;

use std::io::Write;

use daemon::syslog::Level;

use crate::error::Error;
use crate::host::{End, Host, Outcome};
use crate::line::{self, Line};
use crate::maildrop::{MailSettings, Maildrop};
use command::Command;

/// UW's command buffer; POP2 lines are short.
pub const MAX_LINE: usize = 1024;
/// Commands in one session.
pub const MAX_COMMANDS: u64 = 10_000_000;

/// Serves one POP2 connection on `host`.
pub fn serve<H: Host>(host: &mut H) -> Outcome {
    Session::new(host).run()
}

/// The states of RFC 937's diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before HELO.
    Auth,
    /// A mailbox is selected, no message chosen.
    Mbox,
    /// READ announced a message: RETR may follow.
    Item,
    /// RETR sent it: ACKS, ACKD or NACK must follow.
    Next,
}

struct Session<'h, H: Host> {
    host: &'h mut H,
    state: State,
    maildrop: Option<Maildrop>,
    user: Option<String>,
    /// Where the logged-in user's mailboxes are.
    settings: Option<MailSettings>,
    /// The current message (1-based).
    current: u32,
    /// The text READ announced, which RETR sends.
    item: Option<Vec<u8>>,
}

impl<'h, H: Host> Session<'h, H> {
    fn new(host: &'h mut H) -> Session<'h, H> {
        Session {
            host,
            state: State::Auth,
            maildrop: None,
            user: None,
            settings: None,
            current: 1,
            item: None,
        }
    }

    fn run(mut self) -> Outcome {
        let mut greeting = format!(
            "+ POP2 {} pullmail {} server ready",
            self.host.server_name(),
            env!("CARGO_PKG_VERSION")
        );
        if let Some(me) = self.host.preauthenticated() {
            greeting.push_str(&format!(" for {0} (HELO {0} any-password)", me.name));
        }
        if let Err(e) = self.line(&greeting) {
            return self.end(e);
        }
        for _ in 0..MAX_COMMANDS {
            let result = match line::read_line(self.host.io(), MAX_LINE) {
                Ok(Line::Complete(bytes)) => self.dispatch(&bytes),
                Ok(Line::TooLong) => Err(Error::LineTooLong),
                Err(e) => return self.end(Error::Daemon(e)),
            };
            match result {
                Ok(true) => {}
                Ok(false) => {
                    let _ = self.host.io().flush();
                    return Outcome {
                        user: self.user.take(),
                        end: End::Quit,
                    };
                }
                Err(e) => return self.end(e),
            }
        }
        self.end(Error::TooManyCommands)
    }

    /// Runs one command; `Ok(false)` after QUIT.
    fn dispatch(&mut self, line: &[u8]) -> Result<bool, Error> {
        use State::*;
        let command = command::parse(line)?;
        let state = self.state;
        match (command, state) {
            (Command::Helo { user, password }, Auth) => self.helo(user, password)?,
            (Command::Fold(name), Mbox | Item) => self.fold(&name)?,
            (Command::Read(n), Mbox | Item) => self.read(n)?,
            (Command::Retr, Item) => self.retr()?,
            (Command::Acks, Next) => self.ack(false)?,
            (Command::Ackd, Next) => self.ack(true)?,
            (Command::Nack, Next) => self.read(None)?,
            (Command::Quit, Auth | Mbox | Item) => {
                self.quit()?;
                return Ok(false);
            }
            _ => return Err(Error::WrongState),
        }
        Ok(true)
    }

    /// QUIT: applies the marks of the selected mailbox.
    fn quit(&mut self) -> Result<(), Error> {
        self.commit()?;
        self.line("+ Sayonara")
    }

    /// Applies ACKS/ACKD marks to the selected mailbox and lets it go.
    fn commit(&mut self) -> Result<(), Error> {
        let Some(maildrop) = self.maildrop.take() else {
            return Ok(());
        };
        let name = maildrop.name().to_string();
        let update = maildrop.commit()?;
        let who = self.user.as_deref().unwrap_or("???");
        self.host.log(
            Level::Info,
            &format!(
                "Update user={who} mailbox={name} ndele={} nseen={}",
                update.deleted, update.seen
            ),
        );
        Ok(())
    }

    /// Ends the session on an error, with its `-` reply; nothing is applied.
    fn end(&mut self, error: Error) -> Outcome {
        let text = match &error {
            Error::WrongState => Some("Bogus or out of sequence command".to_string()),
            e => e.answer().map(|a| a.text),
        };
        if let Some(text) = text {
            let _ = self.host.io().write_all(format!("- {text}\r\n").as_bytes());
            let _ = self.host.io().flush();
        }
        if self.maildrop.take().is_some() {
            let who = self.user.as_deref().unwrap_or("???");
            self.host.log(
                Level::Info,
                &format!("Session ended without QUIT, nothing applied user={who}"),
            );
        }
        Outcome {
            user: self.user.take(),
            end: End::Error(error),
        }
    }

    fn line(&mut self, text: &str) -> Result<(), Error> {
        self.host.io().write_all(format!("{text}\r\n").as_bytes())?;
        Ok(())
    }
}
