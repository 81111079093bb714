//! MOVE and UID MOVE survive a SIGKILL at any point: every message is afterwards
//! in the source, the destination, or both — never in neither — with its octets
//! intact. A child process (this test binary, re-run as `move_child`) runs an
//! IMAP session that moves the messages between two mailboxes without pause; the
//! parent kills it after a random delay, opens both mailboxes (which finishes any
//! interrupted rewrite) and checks every message. Both formats, 120 kills.

mod support;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daemon::{Credentials, Mechanism};
use imap::{Host, Limits, Session};
use mailbox::flags::Flags;
use mailbox::format::Format;
use mailbox::mailbox::{AppendMessage, Context, Mailbox, Mode};
use support::Rng;

const ORIGINALS: usize = 40;
const ROUNDS_PER_FORMAT: usize = 60;

/// Message `id`: 300 octets to about 25 KB, some with lines mbox must quote.
fn original(id: usize) -> Vec<u8> {
    let lines = 5 + (id * 7919) % 450;
    let mut m = format!("From: a{id}@example.org\r\nSubject: ID-{id}\r\nMessage-ID: <{id}@x>\r\n\r\n");
    for l in 0..lines {
        m.push_str(&format!("line {l} of message {id}: the quick brown fox\r\n"));
    }
    if id % 3 == 0 {
        m.push_str("From a line that mbox must quote\r\n");
    }
    m.into_bytes()
}

fn served(id: usize, format: Format) -> Vec<u8> {
    let s = String::from_utf8(original(id)).unwrap();
    match format {
        Format::Mbox => s.replace("\r\nFrom a line", "\r\n>From a line").into_bytes(),
        Format::Mmdf => s.into_bytes(),
    }
}

struct Dirs {
    home: PathBuf,
    inbox: PathBuf,
}

impl Dirs {
    fn at(root: &Path) -> Dirs {
        Dirs {
            home: root.join("home"),
            inbox: root.join("INBOX"),
        }
    }
    fn mailbox(&self, name: &str) -> PathBuf {
        self.home.join("mail").join(name)
    }
    fn ctx(&self) -> Context {
        support::store(&self.home, &self.inbox).context().clone()
    }
}

/// The child's connection: an endless stream of SELECTs and MOVEs; answers are
/// dropped.
struct ScriptHost {
    rng: Rng,
    pending: Vec<u8>,
    tag: u64,
    deadline: Instant,
}

impl ScriptHost {
    fn next_commands(&mut self) -> Vec<u8> {
        self.tag += 1;
        let t = self.tag;
        let (from, to) = if self.rng.below(2) == 0 {
            ("A", "B")
        } else {
            ("B", "A")
        };
        let a = 1 + self.rng.below(30);
        let b = a + self.rng.below(30);
        let moved = match self.rng.below(5) {
            0 => format!("UID MOVE 1:* {to}"),
            1 => format!("MOVE 1:* {to}"),
            2 => format!("UID MOVE {a}:{b},{} {to}", b + 7),
            3 => format!("MOVE 1:{} {to}", 1 + self.rng.below(4)),
            _ => format!("UID MOVE * {to}"),
        };
        format!("s{t} SELECT {from}\r\nm{t} {moved}\r\n").into_bytes()
    }
}

impl Read for ScriptHost {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if Instant::now() > self.deadline {
            return Ok(0);
        }
        if self.pending.is_empty() {
            self.pending = self.next_commands();
        }
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

impl Write for ScriptHost {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Host for ScriptHost {
    fn server_name(&self) -> String {
        "crash".into()
    }
    fn plaintext_allowed(&self) -> bool {
        false
    }
    fn mechanisms(&self) -> Vec<Mechanism> {
        Vec::new()
    }
    fn authenticate(&mut self, _: Credentials) -> Result<String, daemon::Error> {
        Err(daemon::Error::AuthenticationFailed)
    }
    fn enter(&mut self) -> Result<mailbox::store::Store, daemon::Error> {
        Err(daemon::Error::AuthenticationFailed)
    }
}

/// The child: move messages back and forth until killed (or 20 s pass).
#[test]
#[ignore = "the child process of the SIGKILL MOVE test, run by it"]
fn move_child() {
    let (Ok(root), Ok(seed)) = (
        std::env::var("MOVE_CHILD_ROOT"),
        std::env::var("MOVE_CHILD_SEED"),
    ) else {
        panic!("move_child runs only as the child of the SIGKILL MOVE test");
    };
    let dirs = Dirs::at(Path::new(&root));
    let host = ScriptHost {
        rng: Rng(seed.parse::<u64>().unwrap() | 1),
        pending: Vec::new(),
        tag: 0,
        deadline: Instant::now() + Duration::from_secs(20),
    };
    let store = support::store(&dirs.home, &dirs.inbox);
    let _ = Session::preauthenticated(host, Limits::default(), store).run();
}

/// Fresh mailboxes: all originals in A, B empty.
fn fresh(dirs: &Dirs, format: Format) {
    let ctx = dirs.ctx();
    for name in ["A", "B"] {
        let _ = std::fs::remove_file(dirs.mailbox(name));
    }
    let _ = std::fs::remove_dir_all(&ctx.state_dir);
    Mailbox::create(&dirs.mailbox("A"), format, &ctx).unwrap();
    Mailbox::create(&dirs.mailbox("B"), format, &ctx).unwrap();
    let mut a = Mailbox::open(&dirs.mailbox("A"), Mode::ReadWrite, &ctx).unwrap();
    let bodies: Vec<Vec<u8>> = (0..ORIGINALS).map(original).collect();
    let msgs: Vec<AppendMessage> = bodies
        .iter()
        .map(|b| AppendMessage {
            bytes: b,
            flags: Flags::EMPTY,
            keywords: vec![],
            internal_date: None,
        })
        .collect();
    a.append(&msgs).unwrap();
    a.close().unwrap();
}

/// Checks both mailboxes: every original somewhere, intact. Returns how many
/// originals are in both.
fn verify(dirs: &Dirs, ctx: &Context, format: Format, round: usize) -> usize {
    let mut seen: HashMap<usize, usize> = HashMap::new();
    for name in ["A", "B"] {
        let mut mb = Mailbox::open(&dirs.mailbox(name), Mode::ReadWrite, ctx).unwrap();
        assert!(mb.damage().is_empty(), "round {round}: damage in {name}: {:?}", mb.damage());
        let uids = mb.uids();
        assert!(uids.windows(2).all(|w| w[0] < w[1]), "{name}: UIDs {uids:?}");
        for seq in (1..=mb.count()).filter_map(mailbox::uid::SeqNumber::new) {
            let text = mb.message(seq).unwrap();
            let s = String::from_utf8_lossy(&text).into_owned();
            let id: usize = s
                .lines()
                .find_map(|l| l.strip_prefix("Subject: ID-"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("round {round}: a message that is none of ours in {name}"));
            assert_eq!(text, served(id, format), "round {round}: ID-{id} damaged in {name}");
            *seen.entry(id).or_default() += 1;
        }
        mb.close().unwrap();
    }
    for id in 0..ORIGINALS {
        assert!(seen.contains_key(&id), "round {round}: ID-{id} lost by MOVE");
    }
    seen.values().filter(|&&n| n > 1).count()
}

#[test]
fn move_survives_sigkill_at_any_point() {
    let dir = tempfile::tempdir().unwrap();
    let dirs = Dirs::at(dir.path());
    std::fs::create_dir_all(dirs.home.join("mail")).unwrap();
    std::fs::write(&dirs.inbox, b"").unwrap();
    let mut ctx = dirs.ctx();
    let recovered = Arc::new(Mutex::new(0usize));
    let r = recovered.clone();
    ctx.log = Arc::new(move |line: &str| {
        if line.contains("interrupted rewrite") {
            *r.lock().unwrap() += 1;
        }
    });
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng(0x5eed_0f01_d00d_0001);
    let (mut kills, mut doubled_rounds) = (0, 0);
    for format in [Format::Mbox, Format::Mmdf] {
        fresh(&dirs, format);
        let mut doubled = 0;
        for round in 0..ROUNDS_PER_FORMAT {
            if round % 20 == 19 {
                fresh(&dirs, format);
                doubled = 0;
            }
            let mut child = Command::new(&exe)
                .args(["--ignored", "--exact", "move_child", "--nocapture", "--test-threads=1"])
                .env("MOVE_CHILD_ROOT", dir.path())
                .env("MOVE_CHILD_SEED", rng.next().to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_micros(3_000 + rng.below(90_000)));
            child.kill().unwrap();
            child.wait().unwrap();
            kills += 1;
            // A kill between the copy and the expunge leaves messages in both.
            let now = verify(&dirs, &ctx, format, round);
            if now > doubled {
                doubled_rounds += 1;
            }
            doubled = now;
        }
    }
    let recovered = *recovered.lock().unwrap();
    eprintln!(
        "MOVE crash test: {kills} kills; {doubled_rounds} left more messages in both mailboxes, \
         {recovered} interrupted rewrites finished by recovery"
    );
    assert!(kills >= 120);
    assert!(
        doubled_rounds + recovered >= 5,
        "kills rarely hit a MOVE in progress; the test lost its teeth"
    );
}
