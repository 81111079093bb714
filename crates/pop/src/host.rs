//! What the engines need from the process around them: the connection, TLS,
//! login, configuration and logging. [`DaemonHost`] is the real one (fd 0/1,
//! PAM, privilege drop, syslog); [`crate::memory::MemoryHost`] runs transcripts
//! in memory.

use std::io::{BufRead, Write};

use daemon::syslog::{self, Level};
use daemon::{Account, Config, Credentials, Daemon, Mechanism, User};
use mailbox::mailbox::Logger;

use crate::error::Error;

/// How a session ended.
#[derive(Debug)]
pub enum End {
    /// QUIT (after the update, if any, was applied).
    Quit,
    /// The session stopped on this error (a lost connection, a timeout, a
    /// signal, too many bad commands, a failed update...).
    Error(Error),
}

/// The result of serving one connection.
#[derive(Debug)]
pub struct Outcome {
    /// Who was logged in, if anyone.
    pub user: Option<String>,
    pub end: End,
}

/// The process around an engine.
pub trait Host {
    /// The connection: buffered input, and output that is flushed before every
    /// blocking read (so pipelined commands are answered in one write).
    type Io: BufRead + Write;

    fn io(&mut self) -> &mut Self::Io;
    fn config(&self) -> &Config;
    /// The host name for greetings and APOP timestamps.
    fn server_name(&self) -> String;

    /// Whether TLS is up on the connection.
    fn tls_active(&self) -> bool;
    /// Whether STLS may be offered now.
    fn tls_offered(&self) -> bool;
    /// Upgrades the connection after the engine has written its `+OK`: flushes it,
    /// discards pipelined input, handshakes.
    fn start_tls(&mut self) -> Result<(), daemon::Error>;

    /// Whether USER/PASS and SASL PLAIN/LOGIN are allowed on this connection.
    fn plaintext_allowed(&self) -> bool;
    /// The SASL mechanisms to offer now.
    fn mechanisms(&self) -> Vec<Mechanism>;
    /// The timestamp for the greeting when APOP can be offered (a usable secrets
    /// file): `<unique@host>`, new for every connection (RFC 1939 §7).
    fn apop_timestamp(&self) -> Option<String>;
    /// The user this process already is when it was started by that user from a
    /// shell rather than as root (the daemon's "preauth" mode); see the crate docs.
    fn preauthenticated(&self) -> Option<&Account>;
    /// Checks the credentials and, on success, becomes the user for good.
    fn login(&mut self, credentials: Credentials) -> Result<Account, daemon::Error>;

    /// A log line (syslog in the daemon).
    fn log(&self, level: Level, message: &str);
    /// Where the mailbox library's diagnostics go.
    fn mail_log(&self) -> Logger;
}

/// The real host: a started [`Daemon`].
pub struct DaemonHost {
    daemon: Box<Daemon>,
    preauth: Option<User>,
    user: Option<User>,
    server_name: String,
    preauth_failures: u32,
}

impl DaemonHost {
    /// Wraps a started daemon. Run by a user other than root, the process serves
    /// that user without a password check of its own ([`Daemon::preauth`]).
    pub fn new(mut daemon: Box<Daemon>) -> Result<DaemonHost, daemon::Error> {
        let preauth = match daemon.is_preauth() {
            true => Some(daemon.preauth()?),
            false => None,
        };
        let server_name = daemon.config.server_name();
        Ok(DaemonHost {
            daemon,
            preauth,
            user: None,
            server_name,
            preauth_failures: 0,
        })
    }

    /// Logs how the session ended and closes the connection.
    pub fn finish(&mut self, outcome: &Outcome) {
        let user = outcome.user.as_deref();
        match &outcome.end {
            End::Quit => self.daemon.finish(user, None),
            End::Error(Error::Daemon(e)) => self.daemon.finish(user, Some(e)),
            End::Error(e) => {
                let peer = self.daemon.transport.peer();
                let who = user.unwrap_or("???");
                syslog::log(
                    Level::Notice,
                    &format!("Session ended: {e} user={who} host={peer}"),
                );
                let _ = self.daemon.transport.close();
            }
        }
    }

    /// The exit status for this outcome.
    pub fn exit_code(outcome: &Outcome) -> i32 {
        match &outcome.end {
            End::Quit => 0,
            End::Error(Error::Daemon(e)) => e.exit_code(),
            End::Error(_) => 1,
        }
    }
}

impl Host for DaemonHost {
    type Io = daemon::Transport;

    fn io(&mut self) -> &mut daemon::Transport {
        &mut self.daemon.transport
    }

    fn config(&self) -> &Config {
        &self.daemon.config
    }

    fn server_name(&self) -> String {
        self.server_name.clone()
    }

    fn tls_active(&self) -> bool {
        self.daemon.transport.is_tls()
    }

    fn tls_offered(&self) -> bool {
        self.daemon.can_start_tls()
    }

    fn start_tls(&mut self) -> Result<(), daemon::Error> {
        self.daemon.start_tls()
    }

    fn plaintext_allowed(&self) -> bool {
        self.daemon.plaintext_allowed()
    }

    fn mechanisms(&self) -> Vec<Mechanism> {
        self.daemon
            .authenticator
            .mechanisms(self.daemon.transport.is_tls())
    }

    fn apop_timestamp(&self) -> Option<String> {
        self.daemon
            .authenticator
            .shared_secrets_available()
            .then(|| daemon::cram::new_challenge(&self.server_name))
    }

    fn preauthenticated(&self) -> Option<&Account> {
        self.preauth.as_ref().map(|u| &u.account)
    }

    fn login(&mut self, credentials: Credentials) -> Result<Account, daemon::Error> {
        if let Some(me) = &self.preauth {
            if credentials.is_plaintext() && !self.daemon.plaintext_allowed() {
                return Err(daemon::Error::PlaintextDisallowed);
            }
            let result = preauth_login(&me.account, &credentials, &mut |reason| {
                syslog::log(Level::Notice, reason)
            });
            if result.is_err() {
                self.preauth_failures += 1;
                if self.preauth_failures >= self.daemon.config.login_attempts {
                    return Err(daemon::Error::TooManyFailures);
                }
            }
            return result;
        }
        let tls = self.daemon.transport.is_tls();
        let login = self.daemon.authenticator.login(credentials, tls)?;
        let user = self.daemon.enter(login)?;
        let account = user.account.clone();
        // The PAM session lasts as long as the POP session.
        self.user = Some(user);
        Ok(account)
    }

    fn log(&self, level: Level, message: &str) {
        syslog::log(level, message);
    }

    fn mail_log(&self) -> Logger {
        std::sync::Arc::new(|line: &str| syslog::log(Level::Warning, line))
    }
}

/// The login rule of a process run by a user from a shell: it already is that
/// user and can become no one else, so the name must be its own and the
/// password is not checked (there is nothing it could unlock).
pub fn preauth_login(
    me: &Account,
    credentials: &Credentials,
    log: &mut dyn FnMut(&str),
) -> Result<Account, daemon::Error> {
    if credentials.user() == me.name {
        Ok(me.clone())
    } else {
        log(&format!(
            "Login refused: this server runs as {} and serves only that user",
            me.name
        ));
        Err(daemon::Error::AuthenticationFailed)
    }
}
