//! The POP3 engine (RFC 1939, with RFC 2449 CAPA and response codes, RFC 2595
//! STLS, RFC 5034 AUTH, RFC 3206 codes, and UW's LAST).
//!
//! [`serve`] greets, then reads one line at a time and answers it; the
//! [`Host`]'s connection flushes before it blocks, so commands pipelined in one
//! packet are answered in order, in one write (RFC 2449 PIPELINING). The files
//! of this module are the command groups: [`command`] (the parser), `auth`
//! (USER, PASS, APOP, AUTH), `capa` (CAPA, STLS), `listing` (STAT, LIST, UIDL,
//! LAST), `retrieve` (RETR, TOP), `mark` (DELE, RSET, NOOP) and `quit`.

pub mod command;

mod auth;
mod capa;
mod listing;
mod mark;
mod quit;
mod retrieve;

use std::io::Write;

use daemon::syslog::Level;

use crate::error::Error;
use crate::host::{End, Host, Outcome};
use crate::line::{self, Line};
use crate::maildrop::Maildrop;
use command::{Command, Phase};

/// Bad commands in a row (unknown, malformed, wrong state, over-long) after
/// which the session is closed: the client is not speaking POP3.
pub const MAX_BAD_IN_A_ROW: u32 = 10;
/// Bad commands in one session after which it is closed.
pub const MAX_BAD_TOTAL: u32 = 50;
/// Commands in one session; far above what draining 100,000 messages takes.
pub const MAX_COMMANDS: u64 = 10_000_000;
/// The longest command line; RFC 2449 §4 allows 255 octets, AUTH responses are
/// longer, and the configuration's `max_command_length` lowers it further.
pub const MAX_LINE: usize = 16 * 1024;

/// Serves one POP3 connection on `host` until QUIT, an error that ends it, or
/// the connection's end.
pub fn serve<H: Host>(host: &mut H) -> Outcome {
    Session::new(host).run()
}

/// What the loop does after a command.
enum Flow {
    Continue,
    Quit,
}

struct Session<'h, H: Host> {
    host: &'h mut H,
    /// The APOP timestamp of the greeting, when APOP is offered.
    timestamp: Option<String>,
    /// The name of the last successful USER, until PASS.
    pending_user: Option<String>,
    /// Open in the TRANSACTION state.
    maildrop: Option<Maildrop>,
    /// Who logged in.
    user: Option<String>,
    bad_in_a_row: u32,
    bad_total: u32,
    max_line: usize,
}

impl<'h, H: Host> Session<'h, H> {
    fn new(host: &'h mut H) -> Session<'h, H> {
        let max_line = host.config().max_command_length.clamp(1024, MAX_LINE);
        Session {
            host,
            timestamp: None,
            pending_user: None,
            maildrop: None,
            user: None,
            bad_in_a_row: 0,
            bad_total: 0,
            max_line,
        }
    }

    fn run(mut self) -> Outcome {
        if let Err(e) = self.greet() {
            return self.end(e);
        }
        for _ in 0..MAX_COMMANDS {
            let result = match line::read_line(self.host.io(), self.max_line) {
                Ok(Line::Complete(bytes)) => self.dispatch(&bytes),
                Ok(Line::TooLong) => Err(Error::LineTooLong),
                Err(e) => return self.end(Error::Daemon(e)),
            };
            match result {
                Ok(Flow::Continue) => self.bad_in_a_row = 0,
                Ok(Flow::Quit) => {
                    let _ = self.host.io().flush();
                    return Outcome {
                        user: self.user.take(),
                        end: End::Quit,
                    };
                }
                Err(e) => {
                    if let Some(outcome) = self.refuse(e) {
                        return outcome;
                    }
                }
            }
        }
        self.end(Error::TooManyCommands)
    }

    fn greet(&mut self) -> Result<(), Error> {
        let host = self.host.server_name();
        self.timestamp = self.host.apop_timestamp();
        let mut greeting = format!(
            "POP3 {host} pullmail {} server ready",
            env!("CARGO_PKG_VERSION")
        );
        if let Some(me) = self.host.preauthenticated() {
            // Run by a user from a shell: say who is served and how to get in.
            greeting.push_str(&format!(" for {0} (USER {0}, any password)", me.name));
        }
        if let Some(ts) = &self.timestamp {
            greeting.push(' ');
            greeting.push_str(ts);
        }
        self.ok(&greeting)
    }

    fn dispatch(&mut self, line: &[u8]) -> Result<Flow, Error> {
        let command = command::parse(line)?;
        let phase = match self.maildrop {
            Some(_) => Phase::Transaction,
            None => Phase::Authorization,
        };
        if !command.allowed_in(phase) {
            return Err(Error::WrongState);
        }
        match command {
            Command::User(name) => self.user_command(name),
            Command::Pass(password) => self.pass_command(password),
            Command::Apop { user, digest } => self.apop_command(user, digest),
            Command::Auth {
                mechanism,
                initial_response,
            } => self.auth_command(mechanism, initial_response),
            Command::Stls => self.stls_command(),
            Command::Capa => self.capa_command(),
            Command::Quit => self.quit_command(),
            Command::Stat => self.stat_command(),
            Command::List(n) => self.list_command(n),
            Command::Uidl(n) => self.uidl_command(n),
            Command::Last => self.last_command(),
            Command::Retr(n) => self.retr_command(n),
            Command::Top(n, lines) => self.top_command(n, lines),
            Command::Dele(n) => self.dele_command(n),
            Command::Rset => self.rset_command(),
            Command::Noop => self.noop_command(),
        }
    }

    /// Answers a failed command; returns the outcome when the session ends.
    fn refuse(&mut self, error: Error) -> Option<Outcome> {
        let error = if error.is_protocol_error() {
            self.bad_in_a_row += 1;
            self.bad_total += 1;
            if self.bad_in_a_row > MAX_BAD_IN_A_ROW || self.bad_total > MAX_BAD_TOTAL {
                Error::TooManyErrors
            } else {
                error
            }
        } else {
            self.bad_in_a_row = 0;
            error
        };
        if error.closes() {
            return Some(self.end(error));
        }
        if let Some(answer) = error.answer() {
            let line = format!("{}\r\n", answer.pop3_line());
            if let Err(e) = self.send(line.as_bytes()) {
                return Some(self.end(e));
            }
        }
        None
    }

    /// Ends the session on `error`: its goodbye, if it has one, and nothing
    /// applied to the maildrop (the snapshot is dropped unapplied).
    fn end(&mut self, error: Error) -> Outcome {
        if let Some(answer) = error.answer() {
            let line = format!("{}\r\n", answer.pop3_line());
            let _ = self.host.io().write_all(line.as_bytes());
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

    fn send(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.host.io().write_all(bytes)?;
        Ok(())
    }

    fn ok(&mut self, text: &str) -> Result<(), Error> {
        self.send(format!("+OK {text}\r\n").as_bytes())
    }

    fn maildrop(&mut self) -> Result<&mut Maildrop, Error> {
        self.maildrop.as_mut().ok_or(Error::WrongState)
    }
}
