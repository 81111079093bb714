//! Subscriptions (RFC 3501 §6.3.6, §6.3.7) in `~/.mailboxlist`, one name per line, as
//! UW imapd kept them, so users moving between UW and pullmail keep their folder lists.
//!
//! The file is rewritten whole and crash-safely: a temporary file in the home directory
//! is written, fsynced and renamed over the old one, and the directory is fsynced, so a
//! crash leaves either the old list or the new one. Concurrent changes by two sessions
//! of one user are serialised with `flock` on the home directory (best effort: where
//! that fails, e.g. on some NFS mounts, the last writer wins, as with UW).
//!
//! Names are stored as given (already in the protocol's modified UTF-7), except that
//! INBOX in any case is stored as `INBOX`. Subscribing to a name that does not exist is
//! allowed (RFC 3501 §6.3.6); the caller applies the name policy if it wants to.
//! Names containing CR, LF or NUL are refused, since they would corrupt the file.
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;
use crate::names::{self, INBOX};
use crate::regular;

/// The file name UW imapd used, in the home directory.
pub const SUBSCRIPTIONS_FILE: &str = ".mailboxlist";

/// The largest subscription file read: far beyond any real list, small enough that a
/// damaged or hostile file cannot exhaust memory.
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// One user's subscription list.
#[derive(Debug, Clone)]
pub struct Subscriptions {
    home: PathBuf,
    path: PathBuf,
}

impl Subscriptions {
    /// The subscriptions kept in `home/.mailboxlist`.
    pub fn new(home: &Path) -> Self {
        Subscriptions {
            home: home.to_path_buf(),
            path: home.join(SUBSCRIPTIONS_FILE),
        }
    }

    /// The file the list is kept in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The subscribed names, in the order they were subscribed, without duplicates.
    /// A missing file is an empty list; lines that are empty or not UTF-8 are skipped.
    pub fn list(&self) -> io::Result<Vec<String>> {
        let file = match regular::open_read(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut bytes = Vec::new();
        file.take(MAX_FILE_SIZE + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_FILE_SIZE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is larger than {MAX_FILE_SIZE} octets",
                    self.path.display()
                ),
            ));
        }
        let mut names: Vec<String> = Vec::new();
        for line in bytes.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let Ok(name) = std::str::from_utf8(line) else {
                continue;
            };
            if name.is_empty() || has_line_break(name) {
                continue;
            }
            let name = canonical(name);
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// Adds `name`; subscribing twice is not an error and stores it once.
    pub fn subscribe(&self, name: &str) -> io::Result<()> {
        check(name)?;
        let _lock = HomeLock::take(&self.home);
        let mut names = self.list()?;
        let name = canonical(name);
        if names.contains(&name) {
            return Ok(());
        }
        names.push(name);
        self.write(&names)
    }

    /// Removes `name`; [`Error::NoSuchMailbox`] if it was not subscribed.
    pub fn unsubscribe(&self, name: &str) -> Result<(), Error> {
        let _lock = HomeLock::take(&self.home);
        let mut names = self.list()?;
        let name = canonical(name);
        let before = names.len();
        names.retain(|n| *n != name);
        if names.len() == before {
            return Err(Error::NoSuchMailbox(name));
        }
        self.write(&names).map_err(Error::from_write)
    }

    /// Replaces the file with `names`, crash-safely (see the module docs).
    fn write(&self, names: &[String]) -> io::Result<()> {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let tmp = self.home.join(format!(
            "{SUBSCRIPTIONS_FILE}.new.{}.{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&tmp)?;
            let mut text = Vec::new();
            for name in names {
                text.extend_from_slice(name.as_bytes());
                text.push(b'\n');
            }
            file.write_all(&text)?;
            file.sync_all()?;
            fs::rename(&tmp, &self.path)?;
            File::open(&self.home)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

/// INBOX in any case is one name.
fn canonical(name: &str) -> String {
    if names::is_inbox(name) {
        INBOX.to_string()
    } else {
        name.to_string()
    }
}

fn has_line_break(name: &str) -> bool {
    name.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
}

fn check(name: &str) -> io::Result<()> {
    if name.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "empty mailbox name",
        ));
    }
    if has_line_break(name) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "mailbox name contains CR, LF or NUL",
        ));
    }
    Ok(())
}

/// An exclusive flock on the home directory while the list is read, changed and written.
struct HomeLock(Option<File>);

impl HomeLock {
    fn take(home: &Path) -> HomeLock {
        let Ok(dir) = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(home)
        else {
            return HomeLock(None);
        };
        loop {
            // SAFETY: flock(2) only reads the descriptor number, valid while `dir` lives.
            let r = unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX) };
            if r == 0 {
                return HomeLock(Some(dir));
            }
            if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return HomeLock(None);
            }
        }
    }
}

impl Drop for HomeLock {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            // SAFETY: as in `take`.
            unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_UN) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_an_empty_list() {
        let home = tempfile::tempdir().unwrap();
        assert!(Subscriptions::new(home.path()).list().unwrap().is_empty());
    }

    #[test]
    fn subscribe_writes_one_name_per_line_as_uw_did() {
        let home = tempfile::tempdir().unwrap();
        let subs = Subscriptions::new(home.path());
        subs.subscribe("work").unwrap();
        subs.subscribe("lists/rust").unwrap();
        subs.subscribe("inbox").unwrap();
        let text = fs::read_to_string(home.path().join(".mailboxlist")).unwrap();
        assert_eq!(text, "work\nlists/rust\nINBOX\n");
        assert_eq!(subs.list().unwrap(), ["work", "lists/rust", "INBOX"]);
    }

    #[test]
    fn duplicates_are_ignored() {
        let home = tempfile::tempdir().unwrap();
        let subs = Subscriptions::new(home.path());
        subs.subscribe("a").unwrap();
        subs.subscribe("a").unwrap();
        subs.subscribe("INBOX").unwrap();
        subs.subscribe("Inbox").unwrap();
        assert_eq!(subs.list().unwrap(), ["a", "INBOX"]);
    }

    #[test]
    fn reads_files_written_by_uw_with_duplicates_and_crlf() {
        let home = tempfile::tempdir().unwrap();
        fs::write(home.path().join(".mailboxlist"), b"a\r\nb\n\na\nmail/c").unwrap();
        let subs = Subscriptions::new(home.path());
        assert_eq!(subs.list().unwrap(), ["a", "b", "mail/c"]);
    }

    #[test]
    fn names_with_line_breaks_are_refused() {
        let home = tempfile::tempdir().unwrap();
        let subs = Subscriptions::new(home.path());
        for name in ["a\nb", "a\r", "\n", "a\0b", ""] {
            let e = subs.subscribe(name).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{name:?}");
        }
        assert!(!subs.path().exists());
    }

    #[test]
    fn unsubscribe_removes_and_reports_unknown_names() {
        let home = tempfile::tempdir().unwrap();
        let subs = Subscriptions::new(home.path());
        subs.subscribe("a").unwrap();
        subs.subscribe("b").unwrap();
        subs.subscribe("INBOX").unwrap();
        subs.unsubscribe("a").unwrap();
        subs.unsubscribe("inbox").unwrap();
        assert_eq!(subs.list().unwrap(), ["b"]);
        match subs.unsubscribe("a") {
            Err(Error::NoSuchMailbox(name)) => assert_eq!(name, "a"),
            other => panic!("expected NoSuchMailbox, got {other:?}"),
        }
    }

    #[test]
    fn rewrite_leaves_no_temporary_files_and_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let subs = Subscriptions::new(home.path());
        for i in 0..5 {
            subs.subscribe(&format!("box{i}")).unwrap();
        }
        subs.unsubscribe("box2").unwrap();
        let names: Vec<_> = fs::read_dir(home.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, [".mailboxlist"]);
        let mode = fs::metadata(subs.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn concurrent_subscribers_lose_nothing() {
        let home = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let home = home.path().to_path_buf();
                std::thread::spawn(move || {
                    let subs = Subscriptions::new(&home);
                    for i in 0..10 {
                        subs.subscribe(&format!("t{t}/m{i}")).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(Subscriptions::new(home.path()).list().unwrap().len(), 80);
    }

    #[test]
    fn oversized_file_is_an_error_not_an_allocation() {
        let home = tempfile::tempdir().unwrap();
        let file = File::create(home.path().join(".mailboxlist")).unwrap();
        file.set_len(MAX_FILE_SIZE + 10).unwrap();
        let e = Subscriptions::new(home.path()).list().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}
