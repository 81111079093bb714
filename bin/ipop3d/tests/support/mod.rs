//! End-to-end harness: the built servers run the inetd way on loopback ports,
//! as real processes, for real clients.
//!
//! - **Who logs in.** As root (CI), the server starts as root and logs a test
//!   user in through the real libpam with pam_wrapper and pam_matrix
//!   (`libpam-wrapper`), then drops to that user's uid for good. The user exists
//!   only in a passwd file of the test's own, made visible to the server by
//!   nss_wrapper (`libnss-wrapper`): nothing on the system is touched. Not
//!   root, the server runs as the developer (the "preauth" mode, where the
//!   user's own name and any password log in); nss_wrapper then gives the
//!   developer's uid a home in the test directory.
//! - **How it runs.** `systemd-socket-activate --inetd -a` listens on a free
//!   127.0.0.1 port and starts one server per connection with the socket on fd
//!   0 and 1, as inetd does; [`Env::spawn_on_socket`] does the same by hand when a
//!   test needs the server's pid (to kill it).
//! - **What is missing** makes the tests say why and pass without checking:
//!   [`Env::new`] returns `None` then.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any single wait in these tests may take.
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Says why a test does not run, past the harness's output capture.
pub fn skip(test: &str, why: &str) {
    testkit::skip(test, why);
}

fn library(name: &str) -> Option<PathBuf> {
    let arch = std::env::consts::ARCH;
    [
        format!("/usr/lib/{arch}-linux-gnu"),
        "/usr/lib64".into(),
        "/usr/lib".into(),
    ]
    .iter()
    .map(|d| Path::new(d).join(name))
    .find(|p| p.exists())
}

/// A program on PATH (or in the usual places), if installed.
pub fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/bin", "/usr/sbin", "/bin", "/sbin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    found
}

/// One test's world: a user, a home, a spool, a configuration, a certificate.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub user: String,
    pub password: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    pub inbox: PathBuf,
    pub config: PathBuf,
    pub cert: PathBuf,
    /// Logged in through PAM as root (true) or served as the developer (false).
    pub root: bool,
    env: Vec<(String, String)>,
    /// Server stderr (`-d` debug log) of every server started, for failures.
    pub log: Arc<Mutex<Vec<String>>>,
}

/// When a test ends, its servers leave nothing behind ([`testkit::end_test_servers`]).
impl Drop for Env {
    fn drop(&mut self) {
        let log = self.log.lock().map(|l| l.clone()).unwrap_or_default();
        testkit::end_test_servers(&log, &self.config);
    }
}

impl Env {
    /// Sets up a world for `test`, with extra `key = value` lines for
    /// pullmail.conf; `None` (after saying why) when a needed package is missing.
    pub fn new(test: &str, extra_config: &str) -> Option<Env> {
        let Some(nss) = library("libnss_wrapper.so") else {
            skip(
                test,
                "libnss-wrapper is not installed (apt-get install libnss-wrapper)",
            );
            return None;
        };
        let root = is_root();
        let pam = library("libpam_wrapper.so").zip(library("pam_wrapper/pam_matrix.so"));
        if root && pam.is_none() {
            skip(
                test,
                "libpam-wrapper is not installed (apt-get install libpam-wrapper)",
            );
            return None;
        }
        if program("systemd-socket-activate").is_none() {
            skip(test, "systemd-socket-activate is missing (package systemd)");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("pullmail-pop-")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let (user, uid, gid) = if root {
            // A uid nobody else has: high, and different per test process.
            let uid = 61000 + std::process::id() % 3000;
            ("pmpop".to_string(), uid, uid)
        } else {
            // SAFETY: getuid and getgid have no preconditions.
            let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
            ("pmpop".to_string(), uid, gid)
        };
        let password = "correct horse 7".to_string();
        let home = dir.path().join("home");
        let spool = dir.path().join("spool");
        for d in [&home, &spool] {
            std::fs::create_dir(d).unwrap();
            chown(d, Some(uid), Some(gid)).unwrap();
        }
        let inbox = spool.join(&user);
        let passwd = dir.path().join("passwd");
        std::fs::write(
            &passwd,
            format!("{user}:x:{uid}:{gid}:POP test:{}:/bin/sh\n", home.display()),
        )
        .unwrap();
        let group = dir.path().join("group");
        std::fs::write(&group, format!("pmpop:x:{gid}:\n")).unwrap();

        // APOP and CRAM-MD5 secret = the password, so that clients that pick
        // CRAM-MD5 on their own (curl, fetchmail) log in with the same setup.
        let secrets = dir.path().join("cram-md5.pwd");
        std::fs::write(&secrets, format!("{user}\t{password}\n")).unwrap();
        std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();

        let ck = rcgen::generate_simple_self_signed(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ])
        .unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, ck.cert.pem()).unwrap();
        std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

        let config = dir.path().join("pullmail.conf");
        std::fs::write(
            &config,
            format!(
                "spool_directory = {}\ndotlock_helper =\nlogin_failure_delay = 0\n\
                 cram_md5_file = {}\ntls_certificate = {}\ntls_key = {}\n\
                 server_name = localhost\n{extra_config}\n",
                spool.display(),
                secrets.display(),
                cert.display(),
                key.display()
            ),
        )
        .unwrap();

        let mut preload = vec![nss.display().to_string()];
        let mut env = vec![
            (
                "NSS_WRAPPER_PASSWD".to_string(),
                passwd.display().to_string(),
            ),
            ("NSS_WRAPPER_GROUP".to_string(), group.display().to_string()),
        ];
        if let (true, Some((wrapper, matrix))) = (root, pam) {
            let services = dir.path().join("pam.d");
            std::fs::create_dir(&services).unwrap();
            let passdb = dir.path().join("passdb");
            std::fs::write(&passdb, format!("{user}:{password}:pop\n")).unwrap();
            let stack: String = ["auth", "account", "password", "session"]
                .iter()
                .map(|k| {
                    format!(
                        "{k} required {} passdb={}\n",
                        matrix.display(),
                        passdb.display()
                    )
                })
                .collect();
            std::fs::write(services.join("pop"), stack).unwrap();
            preload.push(wrapper.display().to_string());
            env.push(("PAM_WRAPPER".into(), "1".into()));
            env.push((
                "PAM_WRAPPER_SERVICE_DIR".into(),
                services.display().to_string(),
            ));
        }
        env.push(("LD_PRELOAD".into(), preload.join(":")));
        Some(Env {
            dir,
            user,
            password,
            uid,
            gid,
            home,
            inbox,
            config,
            cert,
            root,
            env,
            log: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// The environment the server gets (on top of PATH and HOME).
    pub fn server_env(&self) -> &[(String, String)] {
        &self.env
    }

    /// Writes the INBOX, owned by the user as an MTA leaves it.
    pub fn write_inbox(&self, bytes: &[u8]) {
        std::fs::write(&self.inbox, bytes).unwrap();
        chown(&self.inbox, Some(self.uid), Some(self.gid)).unwrap();
        std::fs::set_permissions(&self.inbox, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    pub fn inbox_bytes(&self) -> Vec<u8> {
        std::fs::read(&self.inbox).unwrap_or_default()
    }

    /// Starts `systemd-socket-activate --inetd -a` on a free loopback port for
    /// `binary` with `args` (the configuration and `-d` are added).
    pub fn start(&self, binary: &str, args: &[&str]) -> Server {
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut cmd = Command::new(program("systemd-socket-activate").unwrap());
            cmd.args(["--inetd", "-a", "-l", &format!("127.0.0.1:{port}")]);
            for (k, v) in &self.env {
                cmd.arg("-E").arg(format!("{k}={v}"));
            }
            cmd.arg(binary)
                .arg("-c")
                .arg(&self.config)
                .arg("-d")
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            let (tx, rx) = mpsc::channel();
            let stderr = child.stderr.take().unwrap();
            let log = self.log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let _ = tx.send(line.clone());
                    if let Ok(mut l) = log.lock() {
                        l.push(line);
                    }
                }
            });
            let deadline = Instant::now() + TIMEOUT;
            while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                if line.starts_with("Listening on") {
                    return Server { port, child };
                }
                last = line;
            }
            kill(&mut child);
        }
        panic!("systemd-socket-activate did not start: {last}");
    }

    /// Starts `binary` the way inetd does, by hand: a connection accepted here
    /// becomes its fd 0 and 1. Returns the server process and the client end.
    pub fn spawn_on_socket(&self, binary: &str, args: &[&str]) -> (Child, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client.set_read_timeout(Some(TIMEOUT)).unwrap();
        let (socket, _) = listener.accept().unwrap();
        let input: OwnedFd = socket.try_clone().unwrap().into();
        let output: OwnedFd = socket.into();
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .arg("-c")
            .arg(&self.config)
            .arg("-d")
            .args(args)
            .stdin(Stdio::from(input))
            .stdout(Stdio::from(output))
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        // In the words systemd-socket-activate logs a child with, so that the
        // end of the test finds this one too (Env's drop).
        if let Ok(mut l) = self.log.lock() {
            l.push(format!("Spawned {binary} by hand as PID {}.", child.id()));
        }
        let stderr = child.stderr.take().unwrap();
        let log = self.log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut l) = log.lock() {
                    l.push(line);
                }
            }
        });
        (child, client)
    }

    /// The server log lines so far.
    pub fn log_text(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Writes `messages` as `DIR/1.eml`... in CRLF form, as RETR must send them.
    pub fn expected_dir(&self, messages: &[Vec<u8>]) -> PathBuf {
        let dir = self.dir.path().join("expected");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        for (i, m) in messages.iter().enumerate() {
            std::fs::write(dir.join(format!("{}.eml", i + 1)), crlf(m)).unwrap();
        }
        dir
    }

    /// Runs tests/clients/poplib_client.py in `mode` against `port`.
    pub fn poplib(&self, mode: &str, port: u16, messages: &[Vec<u8>]) -> Option<String> {
        let dir = self.expected_dir(messages);
        python(
            "poplib_client.py",
            &[
                mode.to_string(),
                port.to_string(),
                self.user.clone(),
                self.password.clone(),
                self.cert.display().to_string(),
                dir.display().to_string(),
                if self.root { "strict" } else { "lenient" }.to_string(),
            ],
        )
    }

    /// The user name and password a client logs in with.
    pub fn credentials(&self) -> (&str, &str) {
        (&self.user, &self.password)
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn kill(child: &mut Child) {
    // SAFETY: kill on the pid of a child we spawned and have not yet reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A running `systemd-socket-activate`; stopped when dropped.
pub struct Server {
    pub port: u16,
    child: Child,
}

impl Server {
    pub fn connect(&self) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        Client::new(stream)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

/// A line-oriented client on a raw socket.
pub struct Client {
    pub reader: BufReader<TcpStream>,
}

impl Client {
    pub fn new(stream: TcpStream) -> Client {
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        Client {
            reader: BufReader::new(stream),
        }
    }

    pub fn send(&mut self, line: &str) {
        self.reader
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
    }

    /// One line without CRLF; empty at end of stream.
    pub fn line(&mut self) -> String {
        let mut buf = Vec::new();
        self.reader.read_until(b'\n', &mut buf).unwrap();
        let s = String::from_utf8_lossy(&buf).into_owned();
        s.trim_end_matches(['\r', '\n']).to_string()
    }

    /// Sends a command and returns the first line of the answer.
    pub fn command(&mut self, line: &str) -> String {
        self.send(line);
        self.line()
    }

    /// The rest of a multi-line answer, un-dot-stuffed, as octets.
    pub fn multiline(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let mut buf = Vec::new();
            let n = self.reader.read_until(b'\n', &mut buf).unwrap();
            assert!(n > 0, "connection closed inside a multi-line answer");
            if buf == b".\r\n" {
                return out;
            }
            out.extend_from_slice(buf.strip_prefix(b".").unwrap_or(&buf));
        }
    }

    /// Exactly `n` octets.
    pub fn octets(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        self.reader.read_exact(&mut buf).unwrap();
        buf
    }

    /// Reads until the server closes; returns what came.
    pub fn rest(&mut self) -> String {
        let mut buf = Vec::new();
        let _ = self.reader.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Logs in with USER/PASS; returns the PASS answer.
    pub fn login(&mut self, env: &Env) -> String {
        let greeting = self.line();
        assert!(greeting.starts_with("+OK POP3 "), "{greeting}");
        let (user, password) = env.credentials();
        assert!(self.command(&format!("USER {user}")).starts_with("+OK"));
        self.command(&format!("PASS {password}"))
    }
}

/// Test messages: conformance messages (MIME, 8-bit, a 10 KB one) and our own
/// with dot lines, `>From ` quoting, and a 300 KB body, as LF text.
pub fn messages() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/messages");
    let mut out: Vec<Vec<u8>> = ["001", "002", "012", "049", "086"]
        .iter()
        .map(|n| std::fs::read(dir.join(format!("{n}.eml"))).unwrap())
        .collect();
    out.push(
        b"From: Dot <dot@example.org>\nSubject: dots\n\n.\n..\n.leading dot\nmiddle . dot\n>From a quoted line\n.\nlast\n"
            .to_vec(),
    );
    let mut big = b"From: Big <big@example.org>\nSubject: big\n\n".to_vec();
    for i in 0..6000 {
        big.extend_from_slice(format!("{i:05} {}\n", "x".repeat(44)).as_bytes());
        if i % 1000 == 0 {
            big.extend_from_slice(b".\n");
        }
    }
    out.push(big);
    out
}

/// An mbox of `messages`, as an MTA writes it.
pub fn mbox(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        out.extend_from_slice(b"From sender@example.org Mon Jan  1 10:00:00 2024\n");
        out.extend_from_slice(m);
        if !m.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}

/// The message as RETR sends it: CRLF line ends.
pub fn crlf(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 20);
    for &b in message {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Runs a Python client script from tests/clients with `args`; panics with its
/// output when it fails. `None` when python3 is missing.
pub fn python(script: &str, args: &[String]) -> Option<String> {
    let python = program("python3")?;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(script);
    let out = Command::new(python).arg(path).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    Some(stdout)
}

/// Subjects of the messages in an mbox file (a quick look at what is left).
pub fn subjects(mbox: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(mbox);
    text.lines()
        .filter_map(|l| l.strip_prefix("Subject: "))
        .filter(|s| !s.starts_with("DON'T DELETE THIS MESSAGE"))
        .map(str::to_string)
        .collect()
}

/// The message numbers whose `Status:` says seen, in file order.
pub fn seen_flags(mbox: &[u8]) -> Vec<bool> {
    let text = String::from_utf8_lossy(mbox);
    let mut out = Vec::new();
    let mut in_header = false;
    let mut pseudo = false;
    for line in text.lines() {
        if line.starts_with("From ") {
            in_header = true;
            pseudo = false;
            out.push(false);
        } else if in_header && line.is_empty() {
            in_header = false;
            if pseudo {
                out.pop();
            }
        } else if in_header && line.starts_with("Subject: DON'T DELETE THIS MESSAGE") {
            pseudo = true;
        } else if in_header && line.starts_with("Status: ") && line.contains('R') {
            if let Some(last) = out.last_mut() {
                *last = true;
            }
        }
    }
    out
}
