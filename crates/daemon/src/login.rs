//! Who gets in: the login rules, PAM and the secrets file behind one call, the
//! failed-login delay and attempt limit, and the step into the user's session.

use std::time::Duration;

use crate::account::Account;
use crate::config::Config;
use crate::cram;
use crate::error::Error;
use crate::pam::{Pam, PamError};
use crate::peer::Peer;
use crate::privilege;
use crate::sasl::{Credentials, Mechanism};
use crate::service::Service;
use crate::syslog::{self, Event};

/// Checks login attempts for one connection and counts the failures.
pub struct Authenticator {
    pam_service: String,
    service: Service,
    peer: Peer,
    allow_plaintext: bool,
    allow_root: bool,
    delay: Duration,
    limit: u32,
    failures: u32,
    secrets: std::path::PathBuf,
}

/// A user who passed authentication and the account check, before the session
/// starts. Holds the PAM transaction, which ends (pam_close_session, pam_end)
/// when this value, or the [`User`] made from it, is dropped.
pub struct Login {
    user: String,
    mechanism: &'static str,
    pam: Pam,
}

/// The logged-in user, after [`Login::start_session`]: the process now runs
/// with the user's ids, in the user's home directory.
pub struct User {
    pub account: Account,
    /// The command or mechanism that logged in, for the log.
    pub mechanism: &'static str,
    _pam: Option<Pam>,
}

impl Authenticator {
    pub fn new(config: &Config, service: Service, peer: Peer) -> Authenticator {
        Authenticator {
            pam_service: config.pam_service(service).to_string(),
            service,
            peer,
            allow_plaintext: config.allow_plaintext,
            allow_root: config.allow_root_login,
            delay: config.login_failure_delay,
            limit: config.login_attempts,
            failures: 0,
            secrets: config.cram_md5_file.clone(),
        }
    }

    /// The client is now the one a trusted proxy named ([`crate::Daemon`]):
    /// its address goes to PAM and into every login line.
    pub fn set_peer(&mut self, peer: Peer) {
        self.peer = peer;
    }

    /// The peer whose address goes to PAM and into the login lines.
    pub fn peer(&self) -> Peer {
        self.peer
    }

    /// Overrides the failure delay (tests use short delays).
    pub fn set_failure_delay(&mut self, delay: Duration) {
        self.delay = delay;
    }

    /// Whether a password may cross this connection: over TLS, from a loopback
    /// address, or when `allow_plaintext` says so. When false, IMAP advertises
    /// LOGINDISABLED and POP3 hides USER.
    pub fn plaintext_allowed(&self, tls: bool) -> bool {
        tls || self.allow_plaintext || self.peer.is_local()
    }

    /// The SASL mechanisms to advertise on this connection now.
    pub fn mechanisms(&self, tls: bool) -> Vec<Mechanism> {
        let mut list = Vec::new();
        if self.plaintext_allowed(tls) {
            list.extend([Mechanism::Plain, Mechanism::Login]);
        }
        if self.shared_secrets_available() {
            list.push(Mechanism::CramMd5);
        }
        // No password crosses the wire, so it is offered without TLS (as UW did).
        if crate::gssapi::available() && self.service.gssapi_name().is_some() {
            list.push(Mechanism::Gssapi);
        }
        list
    }

    /// Whether CRAM-MD5 and APOP can be offered (the secrets file is usable).
    pub fn shared_secrets_available(&self) -> bool {
        cram::secrets_available(&self.secrets)
    }

    /// Failed attempts so far on this connection.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Checks credentials: the plaintext and root rules, then PAM (passwords) or
    /// the secrets file (CRAM-MD5, APOP), then PAM's account stage. Every attempt
    /// is logged with user and peer. A failure waits `login_failure_delay` and,
    /// once `login_attempts` failures are reached, becomes
    /// [`Error::TooManyFailures`]: the engine says goodbye and closes.
    pub fn login(&mut self, credentials: Credentials, tls: bool) -> Result<Login, Error> {
        let user = credentials.user().to_string();
        let via = credentials.via();
        if credentials.is_plaintext() && !self.plaintext_allowed(tls) {
            // A policy answer, not a guess at a password: no delay, not counted.
            self.log_failure(&user, via, "plaintext on an unprotected connection");
            return Err(Error::PlaintextDisallowed);
        }
        match self.check(credentials) {
            Ok(login) => {
                syslog::event(&Event::Login {
                    user: &login.user,
                    mechanism: via,
                    peer: self.peer,
                });
                Ok(login)
            }
            Err((error, reason)) => {
                self.log_failure(&user, via, &reason);
                self.failures += 1;
                if !self.delay.is_zero() {
                    std::thread::sleep(self.delay);
                }
                if self.failures >= self.limit {
                    syslog::event(&Event::TooManyFailures {
                        user: &user,
                        mechanism: via,
                        peer: self.peer,
                    });
                    return Err(Error::TooManyFailures);
                }
                Err(error)
            }
        }
    }

    fn log_failure(&self, user: &str, via: &str, reason: &str) {
        syslog::event(&Event::LoginFailed {
            user,
            mechanism: via,
            peer: self.peer,
        });
        syslog::event(&Event::LoginFailureReason {
            user,
            peer: self.peer,
            reason,
        });
    }

    fn check(&self, credentials: Credentials) -> Result<Login, (Error, String)> {
        let via = credentials.via();
        let user = credentials.user().to_string();
        if let Credentials::Gssapi {
            refused: Some(reason),
            ..
        } = &credentials
        {
            return Err((Error::AuthenticationFailed, reason.clone()));
        }
        self.check_root(&user)?;
        let rhost = self.peer.host();
        let mut pam =
            Pam::start(&self.pam_service, &user, rhost.as_deref()).map_err(pam_failure)?;
        match credentials {
            Credentials::Password {
                authzid, password, ..
            } => {
                if authzid.as_ref().is_some_and(|a| *a != user) {
                    return Err((
                        Error::AuthenticationFailed,
                        "authorization identity differs".into(),
                    ));
                }
                pam.authenticate(password.as_str()).map_err(pam_failure)?;
            }
            Credentials::CramMd5 {
                challenge, digest, ..
            } => {
                let secret = self.secret(&user)?;
                let expected = cram::cram_md5_digest(secret.as_bytes(), challenge.as_bytes());
                check_digest(&expected, &digest, "CRAM-MD5")?;
            }
            Credentials::Apop {
                timestamp, digest, ..
            } => {
                let secret = self.secret(&user)?;
                let expected = cram::apop_digest(timestamp.as_bytes(), secret.as_bytes());
                check_digest(&expected, &digest, "APOP")?;
            }
            Credentials::Gssapi { principal, .. } => {
                match crate::gssapi::kuserok(&principal, &user) {
                    Ok(true) => {}
                    Ok(false) => {
                        return Err((
                            Error::AuthenticationFailed,
                            format!("Kerberos principal {principal} may not log in as {user}"),
                        ))
                    }
                    Err(e) => return Err((Error::AuthenticationFailed, e.to_string())),
                }
            }
        }
        pam.account().map_err(|e| match e.is_user_error() {
            true => (Error::AccountRefused, e.to_string()),
            false => (Error::AuthUnavailable(e.to_string()), e.to_string()),
        })?;
        // A PAM module may have mapped the name; the rules apply to the result.
        let user = pam.user().unwrap_or(user);
        self.check_root(&user)?;
        Ok(Login {
            user,
            mechanism: via,
            pam,
        })
    }

    fn check_root(&self, user: &str) -> Result<(), (Error, String)> {
        if self.allow_root {
            return Ok(());
        }
        // Any name with uid 0 counts (toor, admin aliases), not just "root".
        match Account::by_name(user) {
            Ok(Some(a)) if a.uid == 0 => {
                Err((Error::RootLoginRefused, "root login refused".into()))
            }
            Ok(_) => Ok(()),
            Err(e) => Err((
                Error::AuthUnavailable(e.to_string()),
                format!("passwd lookup: {e}"),
            )),
        }
    }

    fn secret(&self, user: &str) -> Result<cram::Secret, (Error, String)> {
        match cram::lookup_secret(&self.secrets, user) {
            Ok(Some(secret)) => Ok(secret),
            Ok(None) => Err((
                Error::AuthenticationFailed,
                "no shared secret for user".into(),
            )),
            Err(e) => Err((e, "secrets file unusable".into())),
        }
    }

    /// The service this authenticator is for.
    pub fn service(&self) -> Service {
        self.service
    }
}

fn check_digest(expected: &str, given: &str, what: &str) -> Result<(), (Error, String)> {
    match cram::digest_matches(expected, given) {
        true => Ok(()),
        false => Err((Error::AuthenticationFailed, format!("wrong {what} digest"))),
    }
}

fn pam_failure(e: PamError) -> (Error, String) {
    let error = if e.is_user_error() {
        Error::AuthenticationFailed
    } else {
        Error::AuthUnavailable(e.to_string())
    };
    (error, e.to_string())
}

impl Login {
    /// The user name as authenticated (after any PAM mapping).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Starts the session and becomes the user for good: looks up the passwd
    /// entry, sets the supplementary groups (initgroups), pam_setcred,
    /// pam_open_session, then setgid/setuid with the check that root cannot be
    /// regained, chdir home, and HOME, USER, LOGNAME, MAIL. Must run as root.
    pub fn start_session(mut self, config: &Config) -> Result<User, Error> {
        let account = Account::by_name(&self.user)
            .map_err(|e| Error::AuthUnavailable(e.to_string()))?
            .ok_or_else(|| Error::PrivilegeDrop(format!("{}: no passwd entry", self.user)))?;
        privilege::init_groups(&account)?;
        self.pam
            .establish_credentials()
            .map_err(|e| Error::PrivilegeDrop(e.to_string()))?;
        self.pam
            .open_session()
            .map_err(|e| Error::PrivilegeDrop(e.to_string()))?;
        privilege::drop_privileges(&account, &config.inbox_for(&account.name, &account.home))?;
        Ok(User {
            account,
            mechanism: self.mechanism,
            _pam: Some(self.pam),
        })
    }
}

impl User {
    /// The user who started the process from a shell: no login, no privilege
    /// change (IMAP PREAUTH, the "try it" mode). Sets the login environment.
    pub fn preauthenticated(config: &Config, peer: Peer) -> Result<User, Error> {
        let account = Account::current().map_err(|e| Error::AuthUnavailable(e.to_string()))?;
        // Run by hand, the server serves the user's own $MAIL and $HOME when they are
        // set (DESIGN: "on $MAIL and ~/mail"): the user chose them; nothing is gained
        // by a privilege boundary that does not exist here.
        let own = |var: &str| {
            std::env::var_os(var).filter(|v| std::path::Path::new(v).is_absolute())
        };
        let (home, mail) = (own("HOME"), own("MAIL"));
        privilege::set_login_environment(&account, &config.inbox_for(&account.name, &account.home));
        if let Some(home) = home {
            std::env::set_var("HOME", home);
        }
        if let Some(mail) = mail {
            std::env::set_var("MAIL", mail);
        }
        syslog::event(&Event::Preauth {
            user: &account.name,
            peer,
        });
        Ok(User {
            account,
            mechanism: "PREAUTH",
            _pam: None,
        })
    }
}
