//! An in-memory host and client for driving sessions in tests.
//!
//! [`Env`] is a user: a temporary home with `mail/` and an INBOX file. Each
//! [`Client`] runs one session in a thread over a [`MemoryHost`]: octets sent by
//! the client go through a channel (read in chunks of random size when asked),
//! octets the session writes land in a shared buffer the client waits on. Every
//! wait is bounded, so a hung session fails the test instead of hanging it.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use daemon::quota::Quota;
use daemon::{Credentials, Mechanism};
use imap::settings::Settings;
use imap::{Ending, Host, Limits, Session};
use mailbox::mailbox::Context;
use mailbox::names::NamePolicy;
use mailbox::store::Store;

/// How long a client waits for an answer before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// A small xorshift generator: tests are deterministic per seed.
#[derive(Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

type Shared = Arc<(Mutex<Vec<u8>>, Condvar)>;

/// The connection and login machinery of a test session.
pub struct MemoryHost {
    input: Receiver<Vec<u8>>,
    pending: Vec<u8>,
    chunks: Option<Rng>,
    output: Shared,
    home: PathBuf,
    inbox: PathBuf,
    pub plaintext_allowed: bool,
    failures: u32,
    /// How long a read waits for the client (the idle timeout of the test).
    pub idle: Duration,
    /// STARTTLS is offered (a stand-in: the "handshake" only flips `tls`).
    pub tls_available: bool,
    pub tls: bool,
    /// Authenticated and not yet entered (see [`Host::authenticate`]).
    authenticated: bool,
    pub settings: Settings,
    /// A stand-in for the kernel's disk quota: the same on every filesystem
    /// (its device is the asked path's).
    pub quota: Option<Quota>,
}

impl Read for MemoryHost {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            match self.input.recv_timeout(self.idle) {
                Ok(data) => self.pending = data,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "idle"))
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
        let most = match &mut self.chunks {
            Some(rng) => 1 + rng.below(512) as usize,
            None => usize::MAX,
        };
        let n = self.pending.len().min(buf.len()).min(most);
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

impl Write for MemoryHost {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (lock, cv) = &*self.output;
        lock.lock().unwrap().extend_from_slice(buf);
        cv.notify_all();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The extensions every session advertises, in order (after the login-related
/// capabilities).
pub const EXTENSIONS: &str = "IDLE NAMESPACE UIDPLUS UNSELECT CHILDREN BINARY MULTIAPPEND CATENATE \
     ESEARCH WITHIN SORT SORT=DISPLAY ESORT CONTEXT=SEARCH CONTEXT=SORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES I18NLEVEL=1 MOVE ENABLE ID \
     SPECIAL-USE LIST-EXTENDED LIST-STATUS SEARCHRES NOTIFY QUOTA QUOTA=RES-STORAGE CONDSTORE QRESYNC STATUS=SIZE APPENDLIMIT=67108864";

/// The capabilities after login (default settings).
pub fn caps_after() -> String {
    format!("IMAP4rev1 LITERAL+ {EXTENSIONS}")
}

/// The capabilities before login with PLAIN and LOGIN offered.
pub fn caps_before() -> String {
    format!("IMAP4rev1 LITERAL+ AUTH=PLAIN AUTH=LOGIN SASL-IR {EXTENSIONS}")
}

pub const USER: &str = "alice";
pub const PASSWORD: &str = "wonderland";

impl Host for MemoryHost {
    fn server_name(&self) -> String {
        "testhost".into()
    }
    fn is_tls(&self) -> bool {
        self.tls
    }
    fn can_start_tls(&self) -> bool {
        self.tls_available && !self.tls
    }
    fn start_tls(&mut self) -> Result<(), daemon::Error> {
        // What the real transport does with octets that came before the handshake.
        self.pending.clear();
        self.tls = true;
        Ok(())
    }
    fn plaintext_allowed(&self) -> bool {
        self.plaintext_allowed || self.tls
    }
    fn mechanisms(&self) -> Vec<Mechanism> {
        if self.plaintext_allowed() {
            vec![Mechanism::Plain, Mechanism::Login]
        } else {
            Vec::new()
        }
    }
    fn authenticate(&mut self, credentials: Credentials) -> Result<String, daemon::Error> {
        self.authenticated = false;
        if !self.plaintext_allowed() {
            return Err(daemon::Error::PlaintextDisallowed);
        }
        let ok = match &credentials {
            Credentials::Password {
                user,
                password,
                authzid,
                ..
            } => {
                user == USER
                    && password.as_str() == PASSWORD
                    && authzid.as_ref().is_none_or(|a| a == USER)
            }
            _ => false,
        };
        if ok {
            self.authenticated = true;
            return Ok(USER.to_string());
        }
        self.failures += 1;
        if self.failures >= 3 {
            return Err(daemon::Error::TooManyFailures);
        }
        Err(daemon::Error::AuthenticationFailed)
    }
    fn enter(&mut self) -> Result<Store, daemon::Error> {
        if !std::mem::take(&mut self.authenticated) {
            return Err(daemon::Error::AuthenticationFailed);
        }
        Ok(store(&self.home, &self.inbox))
    }
    fn input_waiting(&mut self) -> bool {
        // Data already sent, not the end of the conversation (a closed channel).
        !self.pending.is_empty()
            || match self.input.try_recv() {
                Ok(data) => {
                    self.pending = data;
                    true
                }
                Err(_) => false,
            }
    }
    fn poll_input(&mut self, timeout: Duration) -> Result<bool, daemon::Error> {
        if !self.pending.is_empty() {
            return Ok(true);
        }
        match self.input.recv_timeout(timeout) {
            Ok(data) => {
                self.pending = data;
                Ok(true)
            }
            Err(RecvTimeoutError::Timeout) => Ok(false),
            Err(RecvTimeoutError::Disconnected) => Ok(true),
        }
    }
    fn settings(&self) -> Settings {
        self.settings.clone()
    }
    fn quota(&self, path: &Path) -> Option<Quota> {
        use std::os::unix::fs::MetadataExt;
        let device = std::fs::metadata(path).ok()?.dev();
        self.quota.map(|q| Quota { device, ..q })
    }
}

/// The user's store, as the server would make it.
pub fn store(home: &Path, inbox: &Path) -> Store {
    let policy = NamePolicy::new(USER, home, inbox, Some(PathBuf::from("mail")));
    let mut ctx = Context::new(home, USER);
    ctx.lock.dotlock_helper = None;
    ctx.hostname = "testhost".into();
    Store::new(policy, ctx)
}

/// One user's files.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub home: PathBuf,
    pub inbox: PathBuf,
}

/// How a client's session starts.
#[derive(Clone)]
pub struct Options {
    pub preauth: bool,
    pub plaintext_allowed: bool,
    pub limits: Limits,
    pub chunk_seed: Option<u64>,
    pub idle: Duration,
    pub tls_available: bool,
    pub settings: Settings,
    pub quota: Option<Quota>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            preauth: true,
            plaintext_allowed: true,
            limits: Limits::default(),
            chunk_seed: None,
            idle: WAIT,
            tls_available: false,
            settings: Settings::default(),
            quota: None,
        }
    }
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join("mail")).unwrap();
        let inbox = dir.path().join("INBOX");
        std::fs::write(&inbox, b"").unwrap();
        Env { dir, home, inbox }
    }

    pub fn mail(&self, name: &str) -> PathBuf {
        self.home.join("mail").join(name)
    }

    /// A preauthenticated session.
    pub fn client(&self) -> Client {
        self.client_with(Options::default())
    }

    /// A session that starts not authenticated.
    pub fn login_client(&self) -> Client {
        self.client_with(Options {
            preauth: false,
            ..Options::default()
        })
    }

    pub fn client_with(&self, o: Options) -> Client {
        let (tx, rx) = channel();
        let output: Shared = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let host = MemoryHost {
            input: rx,
            pending: Vec::new(),
            chunks: o.chunk_seed.map(Rng),
            output: output.clone(),
            home: self.home.clone(),
            inbox: self.inbox.clone(),
            plaintext_allowed: o.plaintext_allowed,
            failures: 0,
            idle: o.idle,
            tls_available: o.tls_available,
            tls: false,
            authenticated: false,
            settings: o.settings,
            quota: o.quota,
        };
        let session = if o.preauth {
            Session::preauthenticated(host, o.limits, store(&self.home, &self.inbox))
        } else {
            Session::new(host, o.limits)
        };
        let handle = std::thread::spawn(move || session.run().1);
        let mut c = Client {
            tx: Some(tx),
            output,
            seen: 0,
            handle: Some(handle),
            greeting: String::new(),
        };
        c.greeting = c.read_line();
        c
    }
}

/// The client side of a test session.
pub struct Client {
    tx: Option<Sender<Vec<u8>>>,
    output: Shared,
    seen: usize,
    handle: Option<JoinHandle<Ending>>,
    pub greeting: String,
}

impl Client {
    /// Sends octets as they are.
    pub fn send(&mut self, data: &[u8]) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(data.to_vec());
        }
    }

    /// Waits until the output holds `pred`'s match past what was read; returns the
    /// new output up to the end of the match.
    fn wait_for(&mut self, what: &str, find: impl Fn(&[u8]) -> Option<usize>) -> String {
        let (lock, cv) = &*self.output;
        let deadline = Instant::now() + WAIT;
        let mut out = lock.lock().unwrap();
        loop {
            if let Some(end) = find(&out[self.seen..]) {
                let text = String::from_utf8_lossy(&out[self.seen..self.seen + end]).into_owned();
                self.seen += end;
                return text;
            }
            let now = Instant::now();
            if now >= deadline {
                panic!(
                    "no {what} within {WAIT:?}; output so far:\n{}",
                    String::from_utf8_lossy(&out[self.seen..])
                );
            }
            out = cv.wait_timeout(out, deadline - now).unwrap().0;
        }
    }

    /// Reads lines until one satisfies `pred`, for at most `within`: everything
    /// read up to and including that line, or `None` when time ran out (what was
    /// read stays read).
    pub fn lines_until(&mut self, within: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let (lock, cv) = &*self.output;
        let deadline = Instant::now() + within;
        let mut out = lock.lock().unwrap();
        loop {
            let mut at = self.seen;
            while let Some(i) = out[at..].windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&out[at..at + i]).into_owned();
                at += i + 2;
                if pred(&line) {
                    let text = String::from_utf8_lossy(&out[self.seen..at]).into_owned();
                    self.seen = at;
                    return Some(text);
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            out = cv.wait_timeout(out, deadline - now).unwrap().0;
        }
    }

    /// Whether the session has ended (its thread finished).
    pub fn finished(&self) -> bool {
        self.handle.as_ref().is_none_or(|h| h.is_finished())
    }

    /// The next line.
    pub fn read_line(&mut self) -> String {
        self.wait_for("line", |b| {
            b.windows(2).position(|w| w == b"\r\n").map(|i| i + 2)
        })
    }

    /// Everything up to and including the tagged line of `tag`.
    pub fn read_tagged(&mut self, tag: &str) -> String {
        let needle = format!("{tag} ");
        self.wait_for(&format!("tagged {tag}"), |b| {
            let mut line_start = 0;
            while line_start < b.len() {
                let end = b[line_start..]
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .map(|i| line_start + i + 2)?;
                if b[line_start..].starts_with(needle.as_bytes()) {
                    return Some(end);
                }
                line_start = end;
            }
            None
        })
    }

    /// Sends `line` + CRLF and returns the answer up to its tagged line (the tag is
    /// the line's first word).
    pub fn cmd(&mut self, line: &str) -> String {
        let tag = line.split(' ').next().unwrap().to_string();
        self.send(format!("{line}\r\n").as_bytes());
        self.read_tagged(&tag)
    }

    /// Like [`Client::cmd`] for octets (literals, 8-bit).
    pub fn cmd_bytes(&mut self, tag: &str, data: &[u8]) -> String {
        self.send(data);
        self.read_tagged(tag)
    }

    /// Like [`Client::cmd_bytes`], and the answer as octets (8-bit literals intact).
    pub fn cmd_raw(&mut self, data: &[u8], tag: &str) -> Vec<u8> {
        let start = self.seen;
        self.send(data);
        self.read_tagged(tag);
        self.output.0.lock().unwrap()[start..self.seen].to_vec()
    }

    /// Sends a command with one synchronizing literal the way a client must: the
    /// part before the literal, then — after the `+` — the literal and the rest.
    pub fn cmd_literal(&mut self, head: &str, literal: &[u8], tail: &str) -> String {
        let tag = head.split(' ').next().unwrap().to_string();
        self.send(format!("{head} {{{}}}\r\n", literal.len()).as_bytes());
        let cont = self.read_line();
        if !cont.starts_with("+ ") {
            let rest = self.read_rest_tagged(&tag, &cont);
            return cont + &rest;
        }
        let mut rest = literal.to_vec();
        rest.extend_from_slice(tail.as_bytes());
        rest.extend_from_slice(b"\r\n");
        self.send(&rest);
        self.read_tagged(&tag)
    }

    fn read_rest_tagged(&mut self, tag: &str, first: &str) -> String {
        if first.starts_with(&format!("{tag} ")) {
            String::new()
        } else {
            self.read_tagged(tag)
        }
    }

    /// Closes the client's side and waits for the session to end.
    pub fn close(&mut self) -> Ending {
        self.tx = None;
        let handle = self.handle.take().expect("session already ended");
        handle.join().expect("session thread panicked")
    }

    /// Everything the session wrote that was not read yet (after [`Client::close`]).
    pub fn rest(&mut self) -> String {
        let out = self.output.0.lock().unwrap();
        let s = String::from_utf8_lossy(&out[self.seen..]).into_owned();
        self.seen = out.len();
        s
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Runs a whole script (every octet sent at once, no waiting) and returns all output.
pub fn run_script(env: &Env, script: &[u8], o: Options) -> String {
    let mut c = env.client_with(o);
    c.send(script);
    c.close();
    let rest = c.rest();
    format!("{}{}", c.greeting, rest)
}

/// Runs the MTA stand-in of the mailbox crate's tests: `count` messages, numbered
/// from `first`, appended to `mailbox` the way procmail and Postfix do.
pub fn deliver(mailbox: &Path, first: u32, count: u32, format: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mailbox/tests/support/deliver.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(mailbox)
        .args([
            first.to_string(),
            count.to_string(),
            "0".into(),
            format.into(),
        ])
        .output()
        .expect("python3 runs deliver.py");
    assert!(
        out.status.success(),
        "deliver.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A message with CRLF line ends.
pub fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.com>\r\nSubject: {subject}\r\nDate: Tue, 02 Jan 2024 09:15:00 +0000\r\nMessage-ID: <{subject}@example.org>\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// Asserts that `text` has a line starting with each of `starts`, in order.
#[track_caller]
pub fn assert_lines(text: &str, starts: &[&str]) {
    let lines: Vec<&str> = text.split("\r\n").collect();
    let mut i = 0;
    for want in starts {
        match lines[i..].iter().position(|l| l.starts_with(want)) {
            Some(p) => i += p + 1,
            None => panic!("no line starting with {want:?} (in order) in:\n{text}"),
        }
    }
}

/// The tagged line of an answer.
pub fn tagged_line(text: &str) -> &str {
    text.trim_end_matches("\r\n")
        .rsplit("\r\n")
        .next()
        .unwrap_or("")
}
