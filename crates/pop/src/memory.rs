//! An in-memory [`Host`]: the client's bytes come from a list of packets, the
//! answers go to a buffer, users and passwords come from a table. Transcript
//! tests run the engines through it; mailboxes are real files in a directory.
//!
//! TLS is simulated: STLS flips a flag and, like the real transport, throws away
//! whatever was left of the packet that carried the command (pipelined bytes
//! must never be executed), so a transcript puts its after-STLS commands into
//! the next packet.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use daemon::syslog::Level;
use daemon::{cram, Account, Config, Credentials, Mechanism};
use mailbox::mailbox::Logger;

use crate::host::{preauth_login, Host};

/// The APOP timestamp of every in-memory greeting (RFC 1939's example), so that
/// transcripts can carry a fixed digest.
pub const TIMESTAMP: &str = "<1896.697170952@dbc.mtview.ca.us>";

/// Something to do just before the server reads a given packet (a delivery, an
/// IMAP session's expunge...), so transcripts can change the world mid-session.
pub type Hook = Box<dyn FnMut()>;

/// The client side of an in-memory connection.
#[derive(Default)]
pub struct MemoryIo {
    packets: VecDeque<Vec<u8>>,
    pos: usize,
    /// Packets the server has begun to read.
    begun: usize,
    front_begun: bool,
    hooks: Vec<(usize, Hook)>,
    /// Largest number of octets one read returns (1 shakes out framing bugs).
    pub chunk: usize,
    /// Everything the server wrote.
    pub output: Vec<u8>,
}

impl MemoryIo {
    pub fn new(packets: Vec<Vec<u8>>) -> MemoryIo {
        MemoryIo {
            packets: packets.into(),
            pos: 0,
            begun: 0,
            front_begun: false,
            hooks: Vec::new(),
            chunk: usize::MAX,
            output: Vec::new(),
        }
    }

    /// Runs `hook` just before the server reads packet `index` (0-based).
    pub fn before_packet(&mut self, index: usize, hook: impl FnMut() + 'static) {
        self.hooks.push((index, Box::new(hook)));
    }

    fn next_packet(&mut self) {
        self.packets.pop_front();
        self.pos = 0;
        self.front_begun = false;
    }

    /// Drops the rest of the current packet, as a TLS upgrade does.
    pub fn discard_pipelined(&mut self) -> usize {
        let Some(front) = self.packets.front() else {
            return 0;
        };
        let n = front.len() - self.pos;
        self.next_packet();
        n
    }
}

impl Read for MemoryIo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for MemoryIo {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.packets.front().is_some_and(|p| self.pos >= p.len()) {
            self.next_packet();
        }
        if !self.front_begun && !self.packets.is_empty() {
            self.front_begun = true;
            let index = self.begun;
            self.begun += 1;
            for (at, hook) in &mut self.hooks {
                if *at == index {
                    hook();
                }
            }
        }
        match self.packets.front() {
            Some(p) => {
                let end = p.len().min(self.pos.saturating_add(self.chunk.max(1)));
                Ok(&p[self.pos..end])
            }
            None => Ok(&[]),
        }
    }

    fn consume(&mut self, amt: usize) {
        self.pos += amt;
    }
}

impl Write for MemoryIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A user the in-memory host knows.
#[derive(Debug, Clone)]
pub struct MemoryUser {
    pub name: String,
    pub password: String,
    /// The APOP / CRAM-MD5 secret, if the user has one.
    pub secret: Option<String>,
}

/// The in-memory host.
pub struct MemoryHost {
    pub io: MemoryIo,
    pub config: Config,
    pub server_name: String,
    pub users: Vec<MemoryUser>,
    /// Each user's home directory is `homes/NAME` (created on login).
    pub homes: PathBuf,
    pub tls_available: bool,
    pub tls_active: bool,
    /// Whether plaintext passwords are allowed without TLS (a loopback client).
    pub plaintext: bool,
    /// Run "from a shell" as this user.
    pub preauth: Option<Account>,
    pub failures: u32,
    /// Log lines, for assertions.
    pub log: Arc<Mutex<Vec<String>>>,
    /// Octets thrown away by STLS.
    pub discarded: usize,
}

impl MemoryHost {
    /// A host whose users live under `homes`, with the given configuration.
    pub fn new(config: Config, homes: PathBuf, packets: Vec<Vec<u8>>) -> MemoryHost {
        MemoryHost {
            io: MemoryIo::new(packets),
            config,
            server_name: "pop.example".to_string(),
            users: Vec::new(),
            homes,
            tls_available: false,
            tls_active: false,
            plaintext: true,
            preauth: None,
            failures: 0,
            log: Arc::new(Mutex::new(Vec::new())),
            discarded: 0,
        }
    }

    pub fn add_user(&mut self, name: &str, password: &str, secret: Option<&str>) {
        self.users.push(MemoryUser {
            name: name.into(),
            password: password.into(),
            secret: secret.map(Into::into),
        });
    }

    /// The account of `name`, with a home directory owned by whoever runs the test.
    pub fn account(&self, name: &str) -> Account {
        let home = self.homes.join(name);
        let _ = std::fs::create_dir_all(&home);
        let meta = std::fs::metadata(&self.homes).ok();
        Account {
            name: name.to_string(),
            uid: meta.as_ref().map_or(0, |m| m.uid()),
            gid: meta.as_ref().map_or(0, |m| m.gid()),
            home,
        }
    }

    /// Whether some user has an APOP / CRAM-MD5 secret.
    pub fn shared_secrets_available(&self) -> bool {
        self.users.iter().any(|u| u.secret.is_some())
    }

    /// The log lines so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn check(&self, credentials: &Credentials) -> bool {
        let Some(user) = self.users.iter().find(|u| u.name == credentials.user()) else {
            return false;
        };
        match credentials {
            Credentials::Password {
                authzid, password, ..
            } => {
                authzid.as_ref().is_none_or(|a| *a == user.name)
                    && password.as_str() == user.password
            }
            Credentials::Apop {
                timestamp, digest, ..
            } => user.secret.as_ref().is_some_and(|s| {
                cram::digest_matches(
                    &cram::apop_digest(timestamp.as_bytes(), s.as_bytes()),
                    digest,
                )
            }),
            Credentials::CramMd5 {
                challenge, digest, ..
            } => user.secret.as_ref().is_some_and(|s| {
                cram::digest_matches(
                    &cram::cram_md5_digest(s.as_bytes(), challenge.as_bytes()),
                    digest,
                )
            }),
            // The in-memory host has no Kerberos.
            Credentials::Gssapi { .. } => false,
        }
    }
}

impl Host for MemoryHost {
    type Io = MemoryIo;

    fn io(&mut self) -> &mut MemoryIo {
        &mut self.io
    }

    fn config(&self) -> &Config {
        &self.config
    }

    fn server_name(&self) -> String {
        self.server_name.clone()
    }

    fn tls_active(&self) -> bool {
        self.tls_active
    }

    fn tls_offered(&self) -> bool {
        self.tls_available && !self.tls_active
    }

    fn start_tls(&mut self) -> Result<(), daemon::Error> {
        if self.tls_active {
            return Err(daemon::Error::TlsAlreadyActive);
        }
        if !self.tls_available {
            return Err(daemon::Error::TlsUnavailable);
        }
        self.discarded += self.io.discard_pipelined();
        self.tls_active = true;
        Ok(())
    }

    fn plaintext_allowed(&self) -> bool {
        self.plaintext || self.tls_active
    }

    fn mechanisms(&self) -> Vec<Mechanism> {
        let mut list = Vec::new();
        if self.plaintext_allowed() {
            list.extend([Mechanism::Plain, Mechanism::Login]);
        }
        if self.shared_secrets_available() {
            list.push(Mechanism::CramMd5);
        }
        list
    }

    fn apop_timestamp(&self) -> Option<String> {
        self.shared_secrets_available()
            .then(|| TIMESTAMP.to_string())
    }

    fn preauthenticated(&self) -> Option<&Account> {
        self.preauth.as_ref()
    }

    fn login(&mut self, credentials: Credentials) -> Result<Account, daemon::Error> {
        // The same policy with or without a login of our own (see DaemonHost).
        if credentials.is_plaintext() && !self.plaintext_allowed() {
            return Err(daemon::Error::PlaintextDisallowed);
        }
        let ok = match &self.preauth {
            Some(me) => {
                let log = self.log.clone();
                preauth_login(me, &credentials, &mut |l| {
                    if let Ok(mut v) = log.lock() {
                        v.push(l.to_string());
                    }
                })
                .is_ok()
            }
            None => self.check(&credentials),
        };
        if ok {
            self.log(
                Level::Info,
                &format!(
                    "Login user={} via={}",
                    credentials.user(),
                    credentials.via()
                ),
            );
            return Ok(match &self.preauth {
                Some(me) => me.clone(),
                None => self.account(credentials.user()),
            });
        }
        self.failures += 1;
        self.log(
            Level::Notice,
            &format!("Login failed user={}", credentials.user()),
        );
        if self.failures >= self.config.login_attempts {
            return Err(daemon::Error::TooManyFailures);
        }
        Err(daemon::Error::AuthenticationFailed)
    }

    fn log(&self, _level: Level, message: &str) {
        if let Ok(mut v) = self.log.lock() {
            v.push(message.to_string());
        }
    }

    fn mail_log(&self) -> Logger {
        let log = self.log.clone();
        Arc::new(move |line: &str| {
            if let Ok(mut v) = log.lock() {
                v.push(line.to_string());
            }
        })
    }
}
