//! The POP session lock: at most one POP session per maildrop (RFC 1939 §8 asks
//! for an exclusive-access lock; RFC 2449 `[IN-USE]` is the answer when it is
//! held).
//!
//! It is an flock on a file of its own in the user's state directory
//! (`~/.pullmail/KEY.pop`, KEY as [`mailbox::state::path_key`] names the
//! mailbox), never a lock on the mailbox file: IMAP sessions and the MTA go on
//! while a POP client downloads. The kernel drops an flock when its holder dies,
//! so a killed session never leaves the maildrop locked.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// How often flock is retried when a signal interrupts it.
const MAX_EINTR: usize = 100;

/// A held session lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct SessionLock {
    _file: File,
    path: PathBuf,
}

impl SessionLock {
    /// Takes the lock for `mailbox` without waiting: `Ok(None)` when another
    /// session holds it.
    pub fn try_acquire(state_dir: &Path, mailbox: &Path) -> io::Result<Option<SessionLock>> {
        mailbox::state::create_private_dir(state_dir)?;
        let path = state_dir.join(format!("{}.pop", mailbox::state::path_key(mailbox)));
        // The state directory is the user's: like every file in it, the lock is
        // opened without following a symlink and refused unless a regular file.
        let mut file = mailbox::regular::open_with(
            &path,
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600),
            libc::O_NOFOLLOW,
        )?;
        for _ in 0..MAX_EINTR {
            // SAFETY: flock on a descriptor owned by `file`, which outlives the call.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                // For the administrator who wonders who holds it; not read back.
                let _ = file.set_len(0);
                let _ = writeln!(file, "{} {}", std::process::id(), mailbox.display());
                return Ok(Some(SessionLock { _file: file, path }));
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EWOULDBLOCK) => return Ok(None),
                Some(libc::EINTR) => continue,
                _ => return Err(e),
            }
        }
        Err(io::Error::other("flock interrupted too often"))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_session_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let mbox = Path::new("/var/mail/alice");
        let first = SessionLock::try_acquire(&state, mbox).unwrap().unwrap();
        assert!(SessionLock::try_acquire(&state, mbox).unwrap().is_none());
        let other = SessionLock::try_acquire(&state, Path::new("/var/mail/bob")).unwrap();
        assert!(other.is_some(), "other maildrops are not affected");
        drop(first);
        assert!(SessionLock::try_acquire(&state, mbox).unwrap().is_some());
    }

    /// The lock file is in the user's state directory: a symlink or a FIFO put
    /// there is refused (the session then says the maildrop cannot be locked).
    #[test]
    fn a_symlink_or_fifo_for_the_lock_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir(&state).unwrap();
        let mbox = Path::new("/var/mail/alice");
        let lock = state.join(format!("{}.pop", mailbox::state::path_key(mbox)));
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, b"").unwrap();
        std::os::unix::fs::symlink(&target, &lock).unwrap();
        assert!(SessionLock::try_acquire(&state, mbox).is_err());
        std::fs::remove_file(&lock).unwrap();
        // mkfifo(3), not the mkfifo program: a fork here would hand the other
        // test's locked descriptor to the child until its exec, and that test
        // checks the lock goes when its descriptor is closed.
        let c = std::ffi::CString::new(lock.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = SessionLock::try_acquire(&state, mbox).err().unwrap();
        assert!(mailbox::regular::is_not_regular(&e), "{e}");
    }
}
