//! The AUTHORIZATION state: USER/PASS (RFC 1939 §7), APOP (§7), AUTH (RFC
//! 5034), and entering the TRANSACTION state with the maildrop locked and open.

use std::io::Write as _;

use daemon::sasl;
use daemon::syslog::Level;
use daemon::{Account, Credentials};

use super::{Flow, Session};
use crate::error::{Error, SyntaxError};
use crate::host::Host;
use crate::line::{self, Line};
use crate::maildrop::{MailSettings, Maildrop};

impl<H: Host> Session<'_, H> {
    pub(super) fn user_command(&mut self, name: String) -> Result<Flow, Error> {
        // RFC 2595 §2: no passwords in the clear on an unprotected connection.
        if !self.host.plaintext_allowed() {
            return Err(Error::Daemon(daemon::Error::PlaintextDisallowed));
        }
        self.pending_user = Some(name);
        self.ok("User name accepted, password please")?;
        Ok(Flow::Continue)
    }

    pub(super) fn pass_command(&mut self, password: String) -> Result<Flow, Error> {
        if self.pending_user.is_none() {
            return Err(Error::NeedUser);
        }
        // Run from a shell the password is not checked, so none is needed.
        if password.is_empty() && self.host.preauthenticated().is_none() {
            return Err(Error::Syntax(SyntaxError::MissingArgument("password")));
        }
        let user = self.pending_user.take().unwrap_or_default();
        let credentials = Credentials::password("USER", &user, &password);
        let account = self.host.login(credentials)?;
        self.enter(account)
    }

    pub(super) fn apop_command(&mut self, user: String, digest: String) -> Result<Flow, Error> {
        self.pending_user = None;
        let Some(timestamp) = self.timestamp.clone() else {
            return Err(Error::NotAvailable("APOP not available"));
        };
        let account = self.host.login(Credentials::Apop {
            user,
            timestamp,
            digest,
        })?;
        self.enter(account)
    }

    pub(super) fn auth_command(
        &mut self,
        mechanism: Option<String>,
        initial_response: Option<String>,
    ) -> Result<Flow, Error> {
        self.pending_user = None;
        let offered = self.host.mechanisms();
        let Some(name) = mechanism else {
            // AUTH alone: the RFC 1734 listing that UW and old clients use.
            let mut text = String::from("+OK Supported authentication mechanisms:\r\n");
            for m in &offered {
                text.push_str(m.name());
                text.push_str("\r\n");
            }
            text.push_str(".\r\n");
            self.send(text.as_bytes())?;
            return Ok(Flow::Continue);
        };
        let server_name = self.host.server_name();
        let max_line = self.max_line;
        let io = self.host.io();
        let credentials = sasl::negotiate(
            &offered,
            &name,
            initial_response.as_deref().map(str::as_bytes),
            &server_name,
            |challenge| {
                io.write_all(format!("+ {challenge}\r\n").as_bytes())
                    .map_err(daemon::Error::from_io)?;
                match line::read_line(io, max_line)? {
                    Line::Complete(bytes) => Ok(bytes),
                    Line::TooLong => Err(daemon::Error::SaslMalformed),
                }
            },
        )?;
        let account = self.host.login(credentials)?;
        self.enter(account)
    }

    /// Locks and opens INBOX for the logged-in user: the TRANSACTION state.
    fn enter(&mut self, account: Account) -> Result<Flow, Error> {
        self.user = Some(account.name.clone());
        let settings = MailSettings::new(self.host.config(), &account);
        let store = settings.store(self.host.mail_log());
        let maildrop = Maildrop::open(&store, "INBOX")?;
        let count = maildrop.len();
        self.host.log(
            Level::Debug,
            &format!("Maildrop user={} nmsgs={count}", account.name),
        );
        self.maildrop = Some(maildrop);
        self.ok(&format!("Mailbox open, {count} messages"))?;
        Ok(Flow::Continue)
    }
}
