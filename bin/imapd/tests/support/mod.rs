//! End-to-end harness for imapd: the built binary runs the inetd way on loopback
//! ports, as a real process, for real clients (Python imaplib, curl, mutt).
//!
//! - **Who logs in.** As root (CI), imapd starts as root, greets `* OK`, logs a
//!   test user in through the real libpam with pam_wrapper and pam_matrix
//!   (`libpam-wrapper`), and drops to that user's uid for good. The user exists
//!   only in a passwd file of the test's own, made visible to imapd by
//!   nss_wrapper (`libnss-wrapper`): nothing on the system is touched. Not root,
//!   imapd serves the developer at once (`* PREAUTH`), and the clients skip the
//!   login commands; nss_wrapper then gives the developer's uid a home in the
//!   test directory.
//! - **How it runs.** `systemd-socket-activate --inetd -a` listens on a free
//!   127.0.0.1 port and starts one imapd per connection with the socket on fd 0
//!   and fd 1, as inetd does.
//! - **What is missing** makes a test say why and pass without checking:
//!   [`Env::new`] returns `None` then.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any single wait in these tests may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

pub const IMAPD: &str = env!("CARGO_BIN_EXE_imapd");

/// The extensions every session advertises (see crates/imap/src/capability.rs).
pub const EXTENSIONS: &str = "IDLE NAMESPACE UIDPLUS UNSELECT CHILDREN BINARY MULTIAPPEND CATENATE \
     ESEARCH WITHIN SORT SORT=DISPLAY ESORT CONTEXT=SEARCH CONTEXT=SORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES I18NLEVEL=1 MOVE ENABLE ID \
     SPECIAL-USE LIST-EXTENDED LIST-STATUS SEARCHRES NOTIFY QUOTA QUOTA=RES-STORAGE CONDSTORE QRESYNC STATUS=SIZE APPENDLIMIT=67108864 COMPRESS=DEFLATE";

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

/// The MTA stand-in of the mailbox crate's tests.
pub fn deliver_py() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crates/mailbox/tests/support/deliver.py")
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
        if program("python3").is_none() {
            skip(test, "python3 is missing");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("pullmail-imap-")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let (uid, gid) = if root {
            // A uid nobody else has: high, and different per test process.
            let uid = 58000 + std::process::id() % 3000;
            (uid, uid)
        } else {
            // SAFETY: getuid and getgid have no preconditions.
            unsafe { (libc::getuid(), libc::getgid()) }
        };
        let user = "pmimap".to_string();
        let password = "s3cret \"pass\" {7}".to_string();
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
            format!(
                "{user}:x:{uid}:{gid}:IMAP test:{}:/bin/sh\n",
                home.display()
            ),
        )
        .unwrap();
        let group = dir.path().join("group");
        std::fs::write(&group, format!("pmimap:x:{gid}:\n")).unwrap();

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
                 tls_certificate = {}\ntls_key = {}\nserver_name = localhost\n\
                 cram_md5_file = {}\n{extra_config}\n",
                spool.display(),
                cert.display(),
                key.display(),
                dir.path().join("no-cram-md5").display(),
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
            ("HOME".to_string(), home.display().to_string()),
            ("MAIL".to_string(), inbox.display().to_string()),
        ];
        if let (true, Some((wrapper, matrix))) = (root, pam) {
            let services = dir.path().join("pam.d");
            std::fs::create_dir(&services).unwrap();
            let passdb = dir.path().join("passdb");
            std::fs::write(&passdb, format!("{user}:{password}:imap\n")).unwrap();
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
            std::fs::write(services.join("imap"), &stack).unwrap();
            // For the POP servers run beside imapd (tests/fail2ban.rs).
            std::fs::write(services.join("pop"), &stack).unwrap();
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

    /// The extensions the server announces with this configuration: [`EXTENSIONS`]
    /// with APPENDLIMIT from `max_literal_size`.
    pub fn extensions(&self) -> String {
        let config = std::fs::read_to_string(&self.config).unwrap_or_default();
        let limit = config
            .lines()
            .find_map(|l| l.strip_prefix("max_literal_size = "))
            .map_or("67108864", str::trim);
        EXTENSIONS.replace("APPENDLIMIT=67108864", &format!("APPENDLIMIT={limit}"))
    }

    /// Adds a variable to the environment of the servers started from now on.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Makes a file or directory the user's, as the MTA and the server leave them.
    pub fn give(&self, path: &Path) {
        chown(path, Some(self.uid), Some(self.gid)).unwrap();
    }

    /// Creates an empty INBOX owned by the user (as `useradd` and MTAs do).
    pub fn touch_inbox(&self) {
        if !self.inbox.exists() {
            std::fs::write(&self.inbox, b"").unwrap();
            std::fs::set_permissions(&self.inbox, std::fs::Permissions::from_mode(0o600)).unwrap();
            self.give(&self.inbox);
        }
    }

    /// Delivers `count` messages into `mailbox` the way an MTA does (dot-lock,
    /// POSIX lock, append), numbered from `first`, in `format` (mbox or mmdf).
    pub fn deliver(&self, mailbox: &Path, first: u32, count: u32, format: &str) {
        if !mailbox.exists() {
            std::fs::write(mailbox, b"").unwrap();
            std::fs::set_permissions(mailbox, std::fs::Permissions::from_mode(0o600)).unwrap();
            self.give(mailbox);
        }
        let out = Command::new("python3")
            .arg(deliver_py())
            .arg(mailbox)
            .args([
                first.to_string(),
                count.to_string(),
                "0".into(),
                format.into(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "deliver.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts `systemd-socket-activate --inetd -a` on a free loopback port for
    /// imapd with `args` (the configuration and `-d` are added).
    pub fn start(&self, args: &[&str]) -> Server {
        self.start_program(Path::new(IMAPD), args)
    }

    /// Like [`Env::start`], for another server binary (ipop3d, ipop2d).
    pub fn start_program(&self, program_path: &Path, args: &[&str]) -> Server {
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut cmd = Command::new(program("systemd-socket-activate").unwrap());
            cmd.args(["--inetd", "-a", "-l", &format!("127.0.0.1:{port}")]);
            for (k, v) in &self.env {
                cmd.arg("-E").arg(format!("{k}={v}"));
            }
            cmd.arg(program_path)
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

    /// The server log lines so far.
    pub fn log_text(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Runs tests/clients/`script` with `args`; panics with its output on failure.
    pub fn python(&self, script: &str, args: &[String]) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/clients")
            .join(script);
        let (status, out, err) = run_bounded(
            Command::new("python3")
                .arg(&path)
                .args(args)
                .stdin(Stdio::null()),
            Duration::from_secs(90),
        );
        assert!(
            status,
            "{script} failed:\n{out}\n{err}\n--- server log ---\n{}",
            self.log_text()
        );
        out
    }

    /// The arguments every client script takes first.
    pub fn client_args(&self, port: u16) -> Vec<String> {
        vec![
            port.to_string(),
            self.user.clone(),
            self.password.clone(),
            if self.root { "login" } else { "preauth" }.to_string(),
            self.cert.display().to_string(),
        ]
    }
}

/// A private tmux server (`tmux -L socket`) with mutt in a window named `mutt`;
/// killed when dropped.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "mutt"])
    }

    /// The screen once it shows `want`, or what it showed at the 20 s deadline.
    pub fn wait_for(&self, want: &str) -> Result<String, String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if screen.contains(want) {
                return Ok(screen);
            }
            if Instant::now() >= deadline {
                return Err(screen);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

/// Runs `cmd` with its output collected, for at most `limit` (see
/// [`wait_bounded`]): (success, stdout, stderr).
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> (bool, String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ok = wait_bounded(&mut child, limit);
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (ok, out, err)
}

/// Waits for `child` at most `limit`; kills it past that. True on success.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn kill(child: &mut Child) {
    // SAFETY: kill on the pid of a child we spawned and have not yet reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    if !wait_bounded(child, TIMEOUT) {
        let _ = child.kill();
    }
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

    pub fn send(&mut self, data: &[u8]) {
        self.reader.get_mut().write_all(data).unwrap();
    }

    /// One line with its CRLF; empty at end of stream.
    pub fn line(&mut self) -> String {
        let mut buf = Vec::new();
        let _ = self.reader.read_until(b'\n', &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Sends `line` + CRLF and reads up to the tagged answer of its first word.
    pub fn cmd(&mut self, line: &str) -> String {
        let tag = line.split(' ').next().unwrap().to_string();
        self.send(format!("{line}\r\n").as_bytes());
        self.until_tagged(&tag)
    }

    pub fn until_tagged(&mut self, tag: &str) -> String {
        let mut out = String::new();
        for _ in 0..100_000 {
            let l = self.line();
            if l.is_empty() {
                break;
            }
            out.push_str(&l);
            if l.starts_with(&format!("{tag} ")) {
                break;
            }
        }
        out
    }
}
