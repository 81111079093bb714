//! Transcript tests: a script of client lines (`C:`) and expected server lines
//! (`S:`), run in memory through [`pop::memory::MemoryHost`] on real mailbox
//! files in a temporary directory.
//!
//! Script lines:
//! - `C: text` — the client sends `text` CRLF. All client lines of a packet are
//!   sent at once (pipelined), so every script also tests PIPELINING.
//! - `S: text` — the next server line; `*` matches any run of characters.
//! - `--` — starts the next packet (what the client sends after STLS).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use daemon::Config;
use pop::memory::MemoryHost;

/// A user's home and spool under one temporary directory.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub config: Config,
}

pub const USER: &str = "alice";
pub const PASSWORD: &str = "wonder land";
pub const SECRET: &str = "tanstaaf";

/// Three small messages as an MTA stores them (LF line ends).
pub const M1: &str = "From: Bob <bob@example.org>\nTo: alice@example.org\nSubject: one\nMessage-ID: <one@example.org>\n\nHello Alice.\n.a line that starts with a dot\n..and one with two\n.\nend\n";
pub const M2: &str = "From: Carol <carol@example.net>\nSubject: two\n\nLine 1\nLine 2\nLine 3\n";
pub const M3: &str = "From: Dave <dave@example.com>\nSubject: three\n\n";

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("homes")).unwrap();
        std::fs::create_dir(dir.path().join("spool")).unwrap();
        let mut config = Config::default();
        let spool = dir.path().join("spool").display().to_string();
        config.set("spool_directory", &spool).unwrap();
        config.set("dotlock_helper", "").unwrap();
        config.set("login_failure_delay", "0").unwrap();
        Fixture { dir, config }
    }

    pub fn spool(&self, user: &str) -> PathBuf {
        self.dir.path().join("spool").join(user)
    }

    pub fn homes(&self) -> PathBuf {
        self.dir.path().join("homes")
    }

    /// Writes the user's INBOX as an mbox holding `messages` (LF text).
    pub fn write_mbox(&self, user: &str, messages: &[&str]) {
        std::fs::write(self.spool(user), mbox(messages)).unwrap();
    }

    /// A host with alice (password and APOP secret) and bob (password only).
    pub fn host(&self, packets: Vec<Vec<u8>>) -> MemoryHost {
        let mut host = MemoryHost::new(self.config.clone(), self.homes(), packets);
        host.add_user(USER, PASSWORD, Some(SECRET));
        host.add_user("bob", "builder", None);
        host
    }

    /// Runs a script on a fresh host; returns it for further checks.
    pub fn run(&self, script: &str) -> (MemoryHost, pop::Outcome) {
        self.run_with(script, |_| {})
    }

    /// Runs a script on a host adjusted by `setup`.
    pub fn run_with(
        &self,
        script: &str,
        setup: impl FnOnce(&mut MemoryHost),
    ) -> (MemoryHost, pop::Outcome) {
        self.run_engine(script, setup, pop::pop3::serve)
    }

    /// Runs a POP2 script.
    pub fn run2(&self, script: &str) -> (MemoryHost, pop::Outcome) {
        self.run_engine(script, |_| {}, pop::pop2::serve)
    }

    /// Runs a POP2 script on a host adjusted by `setup`.
    pub fn run2_with(
        &self,
        script: &str,
        setup: impl FnOnce(&mut MemoryHost),
    ) -> (MemoryHost, pop::Outcome) {
        self.run_engine(script, setup, pop::pop2::serve)
    }

    fn run_engine(
        &self,
        script: &str,
        setup: impl FnOnce(&mut MemoryHost),
        serve: fn(&mut MemoryHost) -> pop::Outcome,
    ) -> (MemoryHost, pop::Outcome) {
        let (packets, expected) = parse_script(script);
        let mut host = self.host(packets);
        setup(&mut host);
        let outcome = serve(&mut host);
        check(&host.io.output, &expected);
        (host, outcome)
    }

    /// The stored mailbox file.
    pub fn mailbox_text(&self, user: &str) -> String {
        String::from_utf8_lossy(&std::fs::read(self.spool(user)).unwrap()).into_owned()
    }

    /// Subjects and flags of what the mailbox holds now (read-only look).
    pub fn contents(&self, user: &str) -> Vec<(String, bool)> {
        self.contents_of(&self.spool(user))
    }

    /// Subjects and flags of the mailbox file at `path`.
    pub fn contents_of(&self, path: &Path) -> Vec<(String, bool)> {
        use mailbox::flags::Flags;
        use mailbox::mailbox::{Context, Mailbox, Mode};
        let home = self.homes().join("inspector");
        let ctx = Context::new(&home, "inspector");
        let mut mb = Mailbox::open(path, Mode::ReadOnly, &ctx).unwrap();
        (1..=mb.count())
            .filter_map(mailbox::uid::SeqNumber::new)
            .map(|seq| {
                let header = String::from_utf8(mb.header(seq).unwrap()).unwrap();
                let subject = header
                    .lines()
                    .find_map(|l| l.strip_prefix("Subject: "))
                    .unwrap_or("")
                    .to_string();
                let seen = mb.info(seq).unwrap().flags.contains(Flags::SEEN);
                (subject, seen)
            })
            .collect()
    }
}

/// An mbox file of `messages`.
pub fn mbox(messages: &[&str]) -> String {
    messages
        .iter()
        .map(|m| format!("From sender@example.org Mon Jan  1 10:00:00 2024\n{m}\n"))
        .collect()
}

/// A message as RETR sends it: CRLF line ends.
pub fn crlf(message: &str) -> String {
    message.replace('\n', "\r\n")
}

/// Splits a script into packets of client octets and the expected server lines.
pub fn parse_script(script: &str) -> (Vec<Vec<u8>>, Vec<String>) {
    let mut packets = vec![Vec::new()];
    let mut expected = Vec::new();
    for line in script
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.is_empty())
    {
        if let Some(c) = line.strip_prefix("C:") {
            let c = c.strip_prefix(' ').unwrap_or(c);
            let packet = packets.last_mut().unwrap();
            packet.extend_from_slice(c.as_bytes());
            packet.extend_from_slice(b"\r\n");
        } else if let Some(s) = line.strip_prefix("S:") {
            expected.push(s.strip_prefix(' ').unwrap_or(s).to_string());
        } else if line == "--" {
            packets.push(Vec::new());
        } else {
            panic!("bad script line: {line}");
        }
    }
    (packets, expected)
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// Compares the server's output with the expected lines; every line must end in CRLF.
pub fn check(output: &[u8], expected: &[String]) {
    let text = String::from_utf8_lossy(output);
    assert!(
        text.is_empty() || text.ends_with("\r\n"),
        "output does not end in CRLF:\n{text}"
    );
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    for (i, want) in expected.iter().enumerate() {
        let got = lines.get(i).copied();
        assert!(
            got.is_some_and(|g| glob(want, g)),
            "line {}: expected {want:?}, got {got:?}\nwhole output:\n{text}",
            i + 1
        );
    }
    assert_eq!(
        lines.len(),
        expected.len(),
        "more output than expected:\n{text}"
    );
}

/// The lines of a CRLF text, for splicing message data into expected output.
pub fn lines_of(text: &str) -> Vec<String> {
    text.split_terminator("\r\n").map(str::to_string).collect()
}

/// The path of the conformance tree.
pub fn conformance() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance")
}
