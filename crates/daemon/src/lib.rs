//! What every pullmail server process needs around its protocol engine.
//!
//! A server's `main` is a screenful:
//!
//! ```no_run
//! use daemon::{Daemon, Service, Startup};
//! let mut d = match Daemon::start(Service::Imap, std::env::args().skip(1)) {
//!     Ok(Startup::Run(d)) => d,
//!     Ok(Startup::Exit(text)) => { print!("{text}"); return Ok(()); }
//!     Err(e) => { eprintln!("imapd: {e}"); std::process::exit(e.exit_code()); }
//! };
//! // Greet, then read commands from d.transport (Read + BufRead + Write).
//! // STARTTLS:  d.start_tls()?            (refused when already TLS)
//! // LOGIN:     let login = d.authenticator.login(credentials, d.transport.is_tls())?;
//! //            let user = d.enter(login)?;   (drops privileges for good)
//! // Run by a user from a shell (not root): d.preauth()? instead of a login.
//! // At the end: d.finish(user name, Some(&error) or None for a LOGOUT).
//! # Ok::<(), daemon::Error>(())
//! ```
//!
//! * [`Transport`] — fd 0/1 (or any socket), buffered, idle timeouts, in-place
//!   TLS upgrade that discards bytes pipelined before the handshake.
//! * [`Authenticator`] — login rules, PAM (via [`pam`]), CRAM-MD5/APOP (via
//!   [`cram`]), failure delay and attempt limit; [`sasl`] holds the SASL
//!   state machines; [`Login::start_session`] becomes the user ([`privilege`]).
//! * [`gssapi`] — Kerberos V5 (MIT GSS-API) for SASL GSSAPI and krb5_kuserok.
//! * [`Config`], [`options`], [`syslog`], [`signals`], [`tls`], [`Peer`].
//! * [`Error`] — every failure, each with its IMAP and POP3 answer.
//!
//! # The configuration file
//!
//! `/etc/pullmail.conf` (another with `-c FILE`) is optional; without it every
//! setting has the default below, and the defaults are the safe choice. Each line
//! is `key = value`; blank lines and lines starting with `#` are ignored; spaces
//! around key and value are dropped; there is no quoting (a value runs to the end
//! of the line). An unknown key, a key given twice or a bad value stops the
//! server at startup with `FILE:LINE: KEY: what is wrong`. Booleans are
//! `yes`/`no` (also `true`/`false`, `on`/`off`, `1`/`0`); times are whole
//! seconds; sizes are bytes with an optional `K`, `M` or `G` suffix.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `spool_directory` | `/var/mail` | Directory of the system mailboxes. |
//! | `inbox_path` | empty | INBOX file; `%u` user name, `%h` home directory. Empty: spool_directory/USER. |
//! | `mail_subdirectory` | `mail` | Directory under home holding the other mailboxes; empty for home itself. |
//! | `new_mailbox_format` | `mbox` | Format of new mailboxes: `mbox` or `mmdf`. |
//! | `dotlock_helper` | `/usr/bin/dotlockfile` | Setgid helper for dot-locks in the spool; empty for none. |
//! | `namespace_other_users` | empty | IMAP prefix of other users' mailboxes (RFC 2342); empty: none. |
//! | `namespace_shared` | empty | IMAP prefix of shared mailboxes; empty: none. |
//! | `special_use_sent` | `Sent` | Mailbox IMAP LIST marks `\Sent` (RFC 6154); empty: none. |
//! | `special_use_drafts` | `Drafts` | Mailbox marked `\Drafts`; empty: none. |
//! | `special_use_trash` | `Trash` | Mailbox marked `\Trash`; empty: none. |
//! | `special_use_junk` | `Junk` | Mailbox marked `\Junk`; empty: none. |
//! | `special_use_archive` | `Archive` | Mailbox marked `\Archive`; empty: none. |
//! | `login_referrals` | empty | File of `USER HOST[:PORT]` lines (`*`: everyone else): IMAP login referrals (RFC 2221). |
//! | `mailbox_referrals` | empty | File of `MAILBOX HOST[:PORT]` lines: remote mailboxes, IMAP referrals and RLIST (RFC 2193). |
//! | `login_timeout` | `180` | Seconds from the greeting by which the login must be done. |
//! | `imap_idle_timeout` | `1800` | Idle seconds allowed in an IMAP session (RFC 3501: at least 30 min); not applied during IDLE. |
//! | `imap_idle_keepalive` | `120` | Seconds between `* OK Still here` lines during IMAP IDLE. |
//! | `imap_literal_minus` | `no` | Advertise LITERAL- (non-synchronizing literals up to 4096 bytes) instead of LITERAL+. |
//! | `pop_idle_timeout` | `600` | Idle seconds allowed in a POP session (RFC 1939: at least 10 min). |
//! | `max_command_length` | `65536` | Longest command line, literals not counted. |
//! | `max_literal_size` | `67108864` | Largest literal (APPEND message). |
//! | `login_input_limit` | `65536` | Bytes a connection may send before login. |
//! | `pam_service_imap` | `imap` | PAM service of imapd. |
//! | `pam_service_pop` | `pop` | PAM service of ipop3d and ipop2d. |
//! | `allow_plaintext` | `no` | Accept passwords on connections that are neither TLS nor loopback. |
//! | `allow_root_login` | `no` | Let uid 0 log in. |
//! | `login_failure_delay` | `3` | Seconds to wait before answering a failed login. |
//! | `login_attempts` | `3` | Failed logins after which the connection closes. |
//! | `trusted_proxies` | empty | Proxies whose connections start with a PROXY protocol header (v1/v2) naming the client. |
//! | `cram_md5_file` | `/etc/cram-md5.pwd` | CRAM-MD5/APOP secrets (`user<TAB>secret`); refused unless mode 0600 or stricter. |
//! | `gssapi_keytab` | `/etc/krb5.keytab` | Keytab of the `imap/HOST` and `pop/HOST` keys for SASL GSSAPI; empty: none. |
//! | `tls` | `yes` | Offer STARTTLS/STLS (and allow implicit TLS) when the certificate loads. |
//! | `tls_certificate` | `/etc/ssl/certs/%s.pem` | PEM certificate chain; `%s` is the program name. |
//! | `tls_key` | `/etc/ssl/private/%s.pem` | PEM private key; if missing, read from tls_certificate. |
//! | `server_name` | empty | Host name in greetings and challenges; empty: the system's. |
//!
//! [`config::KEYS`] holds the same list for programs (man pages, examples);
//! [`Config::example`] prints a commented file.
//!
//! # Command line
//!
//! `-h` help, `-V` version, `-c FILE` configuration file, `-t` implicit TLS
//! (also chosen when the local port is 993 for imapd or 995 for ipop3d), `-d`
//! debug logging to standard error.

pub mod account;
pub mod config;
pub mod cram;
mod deflate;
pub mod error;
pub mod gssapi;
pub mod login;
pub mod options;
pub mod pam;
pub mod peer;
pub mod privilege;
pub mod proxy;
pub mod quota;
pub mod sasl;
pub mod service;
pub mod signals;
mod sys;
pub mod syslog;
pub mod tls;
pub mod transport;

use std::sync::Arc;

pub use account::Account;
pub use config::Config;
pub use error::{Error, ImapAnswer, ImapStatus, PopAnswer};
pub use login::{Authenticator, Login, User};
pub use options::Options;
pub use peer::Peer;
pub use sasl::{Credentials, Mechanism};
pub use service::Service;
pub use signals::Signal;
pub use transport::Transport;

use syslog::{Event, Level};

/// The outcome of [`Daemon::start`].
pub enum Startup {
    /// Serve the connection.
    Run(Box<Daemon>),
    /// `-h` or `-V`: print this text and exit successfully.
    Exit(String),
}

/// The context of one server process: who it is, its configuration, its
/// connection and its login state.
pub struct Daemon {
    pub service: Service,
    pub config: Config,
    pub options: Options,
    pub transport: Transport,
    pub authenticator: Authenticator,
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl Daemon {
    /// Everything before the greeting: flags, syslog, signal handlers, the
    /// configuration, the connection on fd 0/1 with the login timeout, the TLS
    /// certificate (read now, while still root), and the TLS handshake itself
    /// when `-t` was given or the local port is 993/995.
    pub fn start<I: IntoIterator<Item = String>>(
        service: Service,
        args: I,
    ) -> Result<Startup, Error> {
        let options = match options::parse(service, args)? {
            options::Command::Print(text) => return Ok(Startup::Exit(text)),
            options::Command::Run(o) => o,
        };
        syslog::open(service.program(), options.debug);
        signals::install().map_err(Error::Io)?;
        let config = Config::load(options.config.as_deref())?;
        // Read the service key now, while root; a failure only leaves GSSAPI off.
        if let (Some(keytab), Some(name), true) = (
            &config.gssapi_keytab,
            service.gssapi_name(),
            sys::is_root(),
        ) {
            match gssapi::init(keytab, name, &config.server_name()) {
                Ok(()) => syslog::log(Level::Debug, "GSSAPI: service key found"),
                // A keytab that exists but does not serve is worth telling the
                // administrator; a missing one is the usual site without Kerberos.
                Err(e) => {
                    let level = if keytab.exists() {
                        Level::Notice
                    } else {
                        Level::Debug
                    };
                    syslog::log(level, &format!("GSSAPI not offered: {e}"));
                }
            }
        }
        let transport = Transport::stdio().map_err(Error::Io)?;
        let mut daemon = Daemon::new(service, config, options, transport);
        daemon.accept_proxy()?;
        if service.has_tls() {
            daemon.load_tls();
            let peer = daemon.transport.peer();
            if daemon.options.implicit_tls || peer.is_implicit_tls_port(service) {
                daemon.start_tls()?;
            }
        }
        Ok(Startup::Run(Box::new(daemon)))
    }

    /// A context over any transport, without TLS; for tests and other front ends.
    pub fn new(
        service: Service,
        config: Config,
        options: Options,
        mut transport: Transport,
    ) -> Daemon {
        transport.set_idle_timeout(Some(config.login_timeout));
        transport.set_login_limits(Some((config.login_timeout, config.login_input_limit)));
        let authenticator = Authenticator::new(&config, service, transport.peer());
        Daemon {
            service,
            config,
            options,
            transport,
            authenticator,
            tls: None,
        }
    }

    /// From a `trusted_proxies` peer, reads the PROXY protocol header that must
    /// start the connection (before our greeting and before any TLS): the
    /// client it names is the peer from then on, for the log, PAM_RHOST and the
    /// failed-login lines fail2ban counts. Anyone else's connection is not read
    /// for a header, so no client can name an address of its choice. A trusted
    /// peer that sends no valid header, or closes first, ends the process with
    /// nothing said (it did not come to speak IMAP or POP yet).
    pub fn accept_proxy(&mut self) -> Result<(), Error> {
        let socket = self.transport.peer();
        match socket.remote {
            Some(addr) if self.config.is_trusted_proxy(addr.ip()) => {}
            _ => return Ok(()),
        }
        match self.transport.read_proxy_header() {
            Ok(header) => {
                let peer = self.transport.peer();
                self.authenticator.set_peer(peer);
                if peer.proxy.is_some() {
                    syslog::event(&Event::Proxied {
                        peer,
                        version: header.version(),
                    });
                }
                Ok(())
            }
            Err(e) => {
                // A proxy's health check connects and closes: not worth a notice.
                let level = match e {
                    Error::ConnectionLost | Error::IdleTimeout => Level::Debug,
                    _ => Level::Notice,
                };
                syslog::log(level, &format!("{e} host={socket}"));
                Err(e)
            }
        }
    }

    /// Loads the configured certificate; a failure is logged and leaves TLS off.
    pub fn load_tls(&mut self) {
        match tls::load(&self.config, self.service) {
            Ok(tls) => self.tls = Some(tls),
            Err(Error::TlsUnavailable) => {}
            // Run by a user from a shell, the server key is rightly unreadable.
            Err(e) => {
                let level = if sys::is_root() {
                    Level::Warning
                } else {
                    Level::Debug
                };
                syslog::log(level, &format!("TLS disabled: {e}"));
            }
        }
    }

    /// Uses this TLS configuration (tests, or certificates from elsewhere).
    pub fn set_tls(&mut self, tls: Arc<rustls::ServerConfig>) {
        self.tls = Some(tls);
    }

    /// Whether to advertise STARTTLS / STLS now.
    pub fn can_start_tls(&self) -> bool {
        self.service.has_starttls() && self.tls.is_some() && !self.transport.is_tls()
    }

    /// Whether to advertise LOGINDISABLED (IMAP) or hide USER/PASS (POP3).
    pub fn plaintext_allowed(&self) -> bool {
        self.authenticator
            .plaintext_allowed(self.transport.is_tls())
    }

    /// STARTTLS / STLS after the engine queued its `OK`: flushes it, discards
    /// anything pipelined, and handshakes. Refused when TLS is already active.
    pub fn start_tls(&mut self) -> Result<(), Error> {
        if self.transport.is_tls() {
            return Err(Error::TlsAlreadyActive);
        }
        let tls = self.tls.clone().ok_or(Error::TlsUnavailable)?;
        let discarded = self.transport.start_tls(tls)?;
        let description = self.transport.tls_description().unwrap_or_default();
        syslog::event(&Event::Tls {
            peer: self.transport.peer(),
            description: &description,
            discarded,
        });
        Ok(())
    }

    /// True when this process cannot log anyone in (not started as root): it
    /// serves the user who started it, without a login (IMAP PREAUTH).
    pub fn is_preauth(&self) -> bool {
        !sys::is_root()
    }

    /// The "try it" mode: the current user, environment set, session timeout on.
    pub fn preauth(&mut self) -> Result<User, Error> {
        let user = User::preauthenticated(&self.config, self.transport.peer())?;
        self.transport.set_login_limits(None);
        self.transport
            .set_idle_timeout(Some(self.config.idle_timeout(self.service)));
        Ok(user)
    }

    /// After a successful [`Authenticator::login`]: starts the PAM session, drops
    /// privileges for good, and switches to the session idle timeout.
    pub fn enter(&mut self, login: Login) -> Result<User, Error> {
        let user = login.start_session(&self.config)?;
        self.transport.set_login_limits(None);
        self.transport
            .set_idle_timeout(Some(self.config.idle_timeout(self.service)));
        Ok(user)
    }

    /// Logs how the session ended (UW's Logout / Autologout / disconnect /
    /// Killed lines) and closes the connection. `cause` is `None` for LOGOUT/QUIT.
    /// The engine sends its goodbye (from [`Error::imap_answer`] /
    /// [`Error::pop_answer`]) before calling this.
    pub fn finish(&mut self, user: Option<&str>, cause: Option<&Error>) {
        let peer = self.transport.peer();
        match cause {
            None => syslog::event(&Event::Logout { user, peer }),
            Some(Error::IdleTimeout) => syslog::event(&Event::Autologout { user, peer }),
            Some(Error::ConnectionLost) => syslog::event(&Event::ConnectionLost { user, peer }),
            Some(Error::Signal(signal)) => syslog::event(&Event::Killed {
                signal: *signal,
                user,
                peer,
            }),
            Some(e) => syslog::log(Level::Notice, &format!("Session ended: {e} host={peer}")),
        }
        let _ = self.transport.close();
    }
}
