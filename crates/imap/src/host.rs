//! What the session needs from its surroundings: the connection (any `Read +
//! Write`), TLS, and the way in — authentication ending in the user's mailbox
//! [`Store`]. The server binary uses [`DaemonHost`] (the daemon crate: inetd socket,
//! PAM, privilege drop); tests use an in-memory host.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use daemon::syslog::{self, Level};
use daemon::transport::Readiness;
use daemon::{Config, Credentials, Daemon, Login, Mechanism, User};
use mailbox::format::Format;
use mailbox::mailbox::Context;
use mailbox::names::NamePolicy;
use mailbox::store::Store;

use crate::settings::Settings;

/// The session's view of its connection and of the login machinery.
pub trait Host: Read + Write {
    /// The host name for the greeting and BYE.
    fn server_name(&self) -> String;

    /// Whether the connection is already TLS.
    fn is_tls(&self) -> bool {
        false
    }

    /// Whether STARTTLS can be offered now.
    fn can_start_tls(&self) -> bool {
        false
    }

    /// Upgrades the connection after the tagged OK was written (flushed first).
    fn start_tls(&mut self) -> Result<(), daemon::Error> {
        Err(daemon::Error::TlsUnavailable)
    }

    /// Whether the connection can be compressed (COMPRESS=DEFLATE, RFC 4978).
    fn can_compress(&self) -> bool {
        false
    }

    /// Whether compression is already on.
    fn is_compressed(&self) -> bool {
        false
    }

    /// Compresses the connection from now on, after the tagged OK was written
    /// (flushed first); `pending` is input the session had already read behind
    /// the command, which belongs to the compressed stream.
    fn start_compression(&mut self, _pending: &[u8]) -> Result<(), daemon::Error> {
        Err(daemon::Error::ConnectionLost)
    }

    /// The user's disk quota on the filesystem holding `path` (RFC 9208), if
    /// quotas are enforced there and the user has a limit.
    fn quota(&self, _path: &Path) -> Option<daemon::quota::Quota> {
        None
    }

    /// Whether a password may cross the connection now (else LOGINDISABLED).
    fn plaintext_allowed(&self) -> bool;

    /// SASL mechanisms to offer now.
    fn mechanisms(&self) -> Vec<Mechanism>;

    /// Checks credentials; on success returns the user's name without entering
    /// the session yet (the session may still refer the user elsewhere, RFC 2221,
    /// which must not happen before the password was checked).
    fn authenticate(&mut self, credentials: Credentials) -> Result<String, daemon::Error>;

    /// After [`Host::authenticate`]: becomes the user for good and opens their
    /// mailboxes.
    fn enter(&mut self) -> Result<Store, daemon::Error>;

    /// A line for the administrator (syslog); never message text or passwords.
    fn log(&self, _message: &str) {}

    /// A line of information (syslog level info), such as the client's ID.
    fn log_info(&self, _message: &str) {}

    /// Waits up to `timeout` for input: `Ok(true)` when a read would not block
    /// (data or end of file), `Ok(false)` when the time is up. For IDLE, which
    /// must wake up to report changes. A host that cannot wait says `true`, and
    /// the session then blocks in its read.
    fn poll_input(&mut self, _timeout: Duration) -> Result<bool, daemon::Error> {
        Ok(true)
    }

    /// Waits up to `timeout` for input or for the descriptor `also` (NOTIFY's
    /// inotify watch) to be readable, whichever comes first. A host that cannot
    /// wait for both waits for input at most a quarter second and answers
    /// [`Readiness::Also`] (the caller then looks at the watch, which does not
    /// block), so that changes are still noticed.
    fn poll_input_or(
        &mut self,
        timeout: Duration,
        _also: std::os::fd::RawFd,
    ) -> Result<Readiness, daemon::Error> {
        Ok(if self.poll_input(timeout.min(Duration::from_millis(250)))? {
            Readiness::Input
        } else {
            Readiness::Also
        })
    }

    /// Whether a read would return data at once (to take more of a pipeline that
    /// is already there). A host that cannot tell says `false`: never a read that
    /// might wait for a client waiting for answers.
    fn input_waiting(&mut self) -> bool {
        false
    }

    /// The configured extension settings (asked once, when the session starts).
    fn settings(&self) -> Settings {
        Settings::default()
    }
}

/// The real server: the daemon's connection, authenticator and configuration.
pub struct DaemonHost {
    pub daemon: Box<Daemon>,
    /// Who is logged in, once someone is (keeps the PAM session open).
    pub user: Option<User>,
    /// Authenticated, not yet entered.
    pending: Option<Login>,
    settings: Settings,
}

impl DaemonHost {
    /// Reads the extension settings now, while the referral files can be read.
    pub fn new(daemon: Box<Daemon>) -> DaemonHost {
        let (settings, problems) = Settings::from_config(&daemon.config);
        for p in problems {
            syslog::log(Level::Warning, &p);
        }
        DaemonHost {
            daemon,
            user: None,
            pending: None,
            settings,
        }
    }

    /// The "try it" mode (started by a user from a shell): that user, without a
    /// login. `$HOME` and `$MAIL` as the shell had them are honoured (DESIGN: "on
    /// $MAIL and ~/mail"), since the daemon's preauth sets them from the passwd
    /// entry and the configuration.
    pub fn preauth(&mut self) -> Result<Store, daemon::Error> {
        let home = absolute_env("HOME");
        let mail = absolute_env("MAIL");
        let user = self.daemon.preauth()?;
        let home = home.unwrap_or_else(|| user.account.home.clone());
        let inbox = mail.unwrap_or_else(|| {
            self.daemon
                .config
                .inbox_for(&user.account.name, &user.account.home)
        });
        let store = store_for(&self.daemon.config, &user.account.name, &home, inbox);
        self.user = Some(user);
        Ok(store)
    }

    /// The logged-in user's name, for the log at the end.
    pub fn user_name(&self) -> Option<String> {
        self.user.as_ref().map(|u| u.account.name.clone())
    }
}

fn absolute_env(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// The mailboxes of `user` as the configuration places them.
pub fn store_for(config: &Config, user: &str, home: &Path, inbox: PathBuf) -> Store {
    let subdir =
        (!config.mail_subdirectory.is_empty()).then(|| PathBuf::from(&config.mail_subdirectory));
    let policy = NamePolicy::new(user, home, inbox, subdir);
    let mut ctx = Context::new(home, user);
    ctx.default_format = Format::from_name(&config.new_mailbox_format).unwrap_or(Format::Mbox);
    ctx.lock.dotlock_helper = config.dotlock_helper.clone();
    ctx.hostname = config.server_name();
    ctx.log = Arc::new(|m: &str| syslog::log(Level::Warning, m));
    Store::new(policy, ctx)
}

impl Read for DaemonHost {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.daemon.transport.read(buf)
    }
}

impl Write for DaemonHost {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.daemon.transport.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.daemon.transport.flush()
    }
}

impl Host for DaemonHost {
    fn server_name(&self) -> String {
        self.daemon.config.server_name()
    }

    fn is_tls(&self) -> bool {
        self.daemon.transport.is_tls()
    }

    fn can_start_tls(&self) -> bool {
        self.daemon.can_start_tls()
    }

    fn start_tls(&mut self) -> Result<(), daemon::Error> {
        self.daemon.start_tls()
    }

    fn can_compress(&self) -> bool {
        true
    }

    fn is_compressed(&self) -> bool {
        self.daemon.transport.is_compressed()
    }

    fn start_compression(&mut self, pending: &[u8]) -> Result<(), daemon::Error> {
        self.daemon.transport.start_compression(pending)
    }

    fn quota(&self, path: &Path) -> Option<daemon::quota::Quota> {
        // Asked as the user: the kernel shows anyone their own quota.
        match daemon::quota::own_quota(path) {
            Ok(q) => q,
            Err(e) => {
                syslog::log(Level::Warning, &format!("{}: quota: {e}", path.display()));
                None
            }
        }
    }

    fn plaintext_allowed(&self) -> bool {
        self.daemon.plaintext_allowed()
    }

    fn mechanisms(&self) -> Vec<Mechanism> {
        let tls = self.daemon.transport.is_tls();
        self.daemon.authenticator.mechanisms(tls)
    }

    fn authenticate(&mut self, credentials: Credentials) -> Result<String, daemon::Error> {
        let tls = self.daemon.transport.is_tls();
        self.pending = None;
        let login = self.daemon.authenticator.login(credentials, tls)?;
        let name = login.user().to_string();
        self.pending = Some(login);
        Ok(name)
    }

    fn enter(&mut self) -> Result<Store, daemon::Error> {
        let login = self
            .pending
            .take()
            .ok_or(daemon::Error::AuthenticationFailed)?;
        let user = self.daemon.enter(login)?;
        let config = &self.daemon.config;
        let inbox = config.inbox_for(&user.account.name, &user.account.home);
        let store = store_for(config, &user.account.name, &user.account.home, inbox);
        self.user = Some(user);
        Ok(store)
    }

    fn log(&self, message: &str) {
        syslog::log(Level::Warning, message);
    }

    fn log_info(&self, message: &str) {
        syslog::log(Level::Info, message);
    }

    fn poll_input(&mut self, timeout: Duration) -> Result<bool, daemon::Error> {
        self.daemon.transport.poll_input(timeout)
    }

    fn poll_input_or(
        &mut self,
        timeout: Duration,
        also: std::os::fd::RawFd,
    ) -> Result<Readiness, daemon::Error> {
        self.daemon.transport.poll_input_or(timeout, Some(also))
    }

    fn input_waiting(&mut self) -> bool {
        matches!(self.daemon.transport.poll_input(Duration::ZERO), Ok(true))
    }

    fn settings(&self) -> Settings {
        self.settings.clone()
    }
}
