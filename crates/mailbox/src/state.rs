//! Per-mailbox state that pullmail sessions share and that has no place in the
//! mailbox file: which UIDs some session has already reported as \Recent, and a
//! generation number bumped by every rewrite, so that other sessions know to re-read
//! the file instead of trusting their offsets. One small file per mailbox in the
//! user's state directory (by default `~/.pullmail`), read and written under flock.
//! Losing it is harmless: \Recent may then be reported once more, and the next sync
//! re-reads the mailbox.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// 64-bit FNV-1a: a stable file name for a mailbox path.
pub fn path_key(path: &Path) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in path.as_os_str().as_encoded_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// What the state file records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SharedState {
    /// The UIDVALIDITY the numbers below belong to.
    pub uid_validity: u32,
    /// The highest UID already reported as \Recent to some session.
    pub recent_claimed: u32,
    /// The highest UID assigned. The file's `X-IMAP` says the same once it has one;
    /// until a rewrite puts it there (pullmail does not rewrite a whole mailbox just to
    /// record it), this is what keeps UIDs from being reused.
    pub last_uid: u32,
    /// Bumped by each rewrite of the mailbox file by pullmail.
    pub generation: u64,
}

/// The state file of one mailbox.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn new(state_dir: &Path, mailbox: &Path) -> StateFile {
        StateFile {
            path: state_dir.join(format!("{}.state", path_key(mailbox))),
        }
    }

    /// Reads the state without changing it (missing or unreadable: defaults).
    pub fn read(&self) -> SharedState {
        match File::open(&self.path) {
            Ok(f) => {
                let _guard = Flock::new(&f, libc::LOCK_SH);
                let mut s = String::new();
                let _ = (&f).read_to_string(&mut s);
                parse(&s)
            }
            Err(_) => SharedState::default(),
        }
    }

    /// Reads, changes and writes the state under an exclusive lock.
    pub fn update<T>(&self, change: impl FnOnce(&mut SharedState) -> T) -> io::Result<T> {
        if let Some(dir) = self.path.parent() {
            create_private_dir(dir)?;
        }
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&self.path)?;
        let _guard = Flock::new(&f, libc::LOCK_EX);
        let mut s = String::new();
        (&f).read_to_string(&mut s)?;
        let mut state = parse(&s);
        let out = change(&mut state);
        let text = format!(
            "pullmail-state 1\nuidvalidity {}\nrecent {}\nlastuid {}\ngeneration {}\n",
            state.uid_validity, state.recent_claimed, state.last_uid, state.generation
        );
        (&f).seek(SeekFrom::Start(0))?;
        (&f).write_all(text.as_bytes())?;
        f.set_len(text.len() as u64)?;
        Ok(out)
    }
}

/// Creates the state directory, private to the user.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "state path is not a directory",
        )),
        Err(_) => {
            let mut b = fs::DirBuilder::new();
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.recursive(true).create(dir)
        }
    }
}

fn parse(s: &str) -> SharedState {
    let mut st = SharedState::default();
    for line in s.lines() {
        let mut w = line.split_ascii_whitespace();
        match (w.next(), w.next()) {
            (Some("uidvalidity"), Some(v)) => st.uid_validity = v.parse().unwrap_or(0),
            (Some("recent"), Some(v)) => st.recent_claimed = v.parse().unwrap_or(0),
            (Some("lastuid"), Some(v)) => st.last_uid = v.parse().unwrap_or(0),
            (Some("generation"), Some(v)) => st.generation = v.parse().unwrap_or(0),
            _ => {}
        }
    }
    st
}

/// An flock held for the life of the value.
struct Flock<'f>(&'f File);

impl<'f> Flock<'f> {
    fn new(f: &'f File, op: libc::c_int) -> Flock<'f> {
        // SAFETY: flock on a valid descriptor we own a reference to; failure only
        // means we proceed unlocked, which costs at most a repeated \Recent.
        unsafe {
            libc::flock(f.as_raw_fd(), op);
        }
        Flock(f)
    }
}

impl Drop for Flock<'_> {
    fn drop(&mut self) {
        // SAFETY: as above; unlocking a descriptor we still hold.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_persists_and_read_sees_it() {
        let dir = tempfile::tempdir().unwrap();
        let sf = StateFile::new(&dir.path().join("state"), Path::new("/var/mail/alice"));
        assert_eq!(sf.read(), SharedState::default());
        sf.update(|s| {
            s.uid_validity = 7;
            s.recent_claimed = 3;
            s.generation += 1;
        })
        .unwrap();
        assert_eq!(
            sf.read(),
            SharedState {
                uid_validity: 7,
                recent_claimed: 3,
                last_uid: 0,
                generation: 1
            }
        );
    }
}
