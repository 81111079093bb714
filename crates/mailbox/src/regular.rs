//! Only regular files are mailboxes (and state, index, journal and lock files).
//!
//! open(2) of a FIFO blocks until a writer appears, and a read of a FIFO, a socket or
//! a terminal blocks until data comes: a user who puts `mkfifo ~/mail/f` where a
//! mailbox name leads would hang a server in a call that std retries on EINTR, so
//! that no signal ends it. Every open of a path a user can influence therefore goes
//! through [`open`]: `O_NONBLOCK` (open returns at once whatever the file is),
//! `O_NOCTTY` (a terminal never becomes ours), then `fstat` on the descriptor — the
//! file actually opened, not a name that may have been swapped — and anything but a
//! regular file is refused before a byte is read. `O_NONBLOCK` is then cleared: it
//! means nothing for regular files, and nothing later should depend on it.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The error inside the [`io::Error`] that [`open`] returns for a file that is not a
/// regular file; [`is_not_regular`] tells it.
#[derive(Debug)]
pub struct NotRegular;

impl fmt::Display for NotRegular {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a regular file")
    }
}

impl std::error::Error for NotRegular {}

/// Whether `e` is [`open`]'s refusal of a file that is not a regular file.
pub fn is_not_regular(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<NotRegular>())
}

/// Opens `path` with `options` (whose custom flags are replaced by `O_NONBLOCK |
/// O_NOCTTY | extra`, e.g. `O_NOFOLLOW`) and refuses, without reading, anything that
/// is not a regular file.
pub fn open_with(path: &Path, options: &mut OpenOptions, extra: libc::c_int) -> io::Result<File> {
    let file = options
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | extra)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, NotRegular));
    }
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor `file` owns and keeps open for the call.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above; only the O_NONBLOCK status flag changes.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(file)
}

/// [`open_with`] and no extra flags.
pub fn open(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    open_with(path, options, 0)
}

/// Opens a regular file for reading (`File::open` that refuses FIFOs and devices).
pub fn open_read(path: &Path) -> io::Result<File> {
    open(path, OpenOptions::new().read(true))
}

/// Reads a whole regular file of at most `limit` octets (`fs::read`, bounded, that
/// refuses FIFOs and devices). A longer file is an error.
pub fn read_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let file = open_read(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "file too large"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::time::{Duration, Instant};

    fn mkfifo(path: &Path) {
        let c = CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn a_fifo_is_refused_at_once_for_reading_and_writing() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f");
        mkfifo(&fifo);
        let start = Instant::now();
        let e = open_read(&fifo).unwrap_err();
        assert!(is_not_regular(&e), "{e}");
        let e = open(&fifo, OpenOptions::new().read(true).write(true)).unwrap_err();
        assert!(is_not_regular(&e), "{e}");
        let e = read_limited(&fifo, 10).unwrap_err();
        assert!(is_not_regular(&e), "{e}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn devices_and_directories_are_refused_regular_files_open_blocking() {
        for p in ["/dev/null", "/dev/zero", "/tmp"] {
            let e = open_read(Path::new(p)).unwrap_err();
            assert!(is_not_regular(&e), "{p}: {e}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("box");
        std::fs::write(&path, b"From a\n").unwrap();
        let f = open_read(&path).unwrap();
        // SAFETY: fcntl on a descriptor `f` owns.
        let flags = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETFL) };
        assert_eq!(flags & libc::O_NONBLOCK, 0);
        assert_eq!(read_limited(&path, 7).unwrap(), b"From a\n");
        assert!(read_limited(&path, 6).is_err());
    }

    #[test]
    fn o_nofollow_refuses_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("box");
        std::fs::write(&path, b"x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(open_with(&link, OpenOptions::new().read(true), libc::O_NOFOLLOW).is_err());
        assert!(open_read(&link).is_ok());
    }
}
