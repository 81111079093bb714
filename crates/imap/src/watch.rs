//! Change notification for IDLE: an inotify watch on the selected mailbox file
//! (Linux), so that a delivery or another session's write is noticed at once
//! rather than at the next poll. Where inotify is missing or the watch cannot be
//! made, [`Watcher::new`] says so and IDLE falls back to a short poll.
//!
//! The only unsafe code of the crate: three libc calls on a descriptor this
//! module owns.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// What rewrites, appends, renames or removal of the file look like.
const MASK: u32 = libc::IN_MODIFY
    | libc::IN_ATTRIB
    | libc::IN_CLOSE_WRITE
    | libc::IN_MOVE_SELF
    | libc::IN_DELETE_SELF;

/// Reads drained per check: a storm of events is still one "changed".
const MAX_READS: usize = 64;

/// An inotify watch on one file.
pub struct Watcher {
    fd: OwnedFd,
    path: PathBuf,
    /// Whether the watch needs making again (the file was replaced or removed).
    lost: bool,
}

impl Watcher {
    /// A watch on `path`, or `None` when inotify is not available.
    pub fn new(path: &Path) -> Option<Watcher> {
        // SAFETY: inotify_init1 takes flags only and returns a new descriptor or -1.
        let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if raw < 0 {
            return None;
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut w = Watcher {
            fd,
            path: path.to_path_buf(),
            lost: true,
        };
        w.arm().then_some(w)
    }

    fn arm(&mut self) -> bool {
        let Ok(c) = CString::new(self.path.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: the descriptor is ours and open; `c` is a valid C string that
        // outlives the call.
        let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), MASK) };
        self.lost = wd < 0;
        !self.lost
    }

    /// Whether anything happened to the file since the last call (events are
    /// drained). A replaced or removed file counts as a change, and the watch is
    /// made again on whatever is at the path now.
    pub fn changed(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        let mut any = false;
        for _ in 0..MAX_READS {
            // SAFETY: reading into a buffer we own, of its own length, from our
            // non-blocking descriptor.
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast::<libc::c_void>(),
                    buf.len(),
                )
            };
            if n <= 0 {
                break;
            }
            any = true;
            let mut at = 0usize;
            let n = n as usize;
            let header = std::mem::size_of::<libc::inotify_event>();
            while at + header <= n {
                let mask = u32::from_ne_bytes([buf[at + 4], buf[at + 5], buf[at + 6], buf[at + 7]]);
                let len = u32::from_ne_bytes([
                    buf[at + 12],
                    buf[at + 13],
                    buf[at + 14],
                    buf[at + 15],
                ]) as usize;
                if mask & (libc::IN_IGNORED | libc::IN_MOVE_SELF | libc::IN_DELETE_SELF) != 0 {
                    self.lost = true;
                }
                at += header + len;
            }
        }
        if self.lost {
            any = true;
        }
        if any {
            // Whatever is at the path now gets watched: after a rename over the
            // file (whose old inode our open handle may keep alive, so that no
            // IN_DELETE_SELF comes) this adds the new one; on the same inode it
            // changes nothing.
            self.arm();
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn appends_and_replacements_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("box");
        std::fs::write(&path, b"x").unwrap();
        let mut w = Watcher::new(&path).expect("inotify");
        assert!(!w.changed());
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"more")
            .unwrap();
        assert!(w.changed());
        assert!(!w.changed());
        let other = dir.path().join("new");
        std::fs::write(&other, b"y").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert!(w.changed());
        // The watch follows the new file.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"z")
            .unwrap();
        assert!(w.changed());
    }
}
