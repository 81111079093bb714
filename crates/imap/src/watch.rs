//! Change notification for IDLE and NOTIFY: an inotify watch on the selected
//! mailbox file (Linux), or on several files and directories (NOTIFY watches the
//! mail directories, INBOX and the home directory holding the subscription
//! list), so that a delivery or another session's write is noticed at once
//! rather than at the next poll. Where inotify is missing or no watch can be
//! made, [`Watcher::new`] says so and the caller falls back to a short poll.
//!
//! The only unsafe code of the crate: three libc calls on a descriptor this
//! module owns.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// What rewrites, appends, renames or removal of the file look like; on a
/// directory, also names made, removed or renamed in it.
const MASK: u32 = libc::IN_MODIFY
    | libc::IN_ATTRIB
    | libc::IN_CLOSE_WRITE
    | libc::IN_MOVE_SELF
    | libc::IN_DELETE_SELF
    | libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO;

/// Reads drained per check: a storm of events is still one "changed".
const MAX_READS: usize = 64;

/// An inotify watch on one or more files or directories.
pub struct Watcher {
    fd: OwnedFd,
    paths: Vec<PathBuf>,
    /// Whether the watch needs making again (the file was replaced or removed).
    lost: bool,
}

impl Watcher {
    /// A watch on `path`, or `None` when inotify is not available.
    pub fn new(path: &Path) -> Option<Watcher> {
        Watcher::new_many(&[path.to_path_buf()])
    }

    /// One watch on all of `paths` (files or directories; a directory reports
    /// changes to the files in it too), or `None` when inotify is not available
    /// or none of them can be watched.
    pub fn new_many(paths: &[PathBuf]) -> Option<Watcher> {
        // SAFETY: inotify_init1 takes flags only and returns a new descriptor or -1.
        let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if raw < 0 {
            return None;
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut w = Watcher {
            fd,
            paths: paths.to_vec(),
            lost: true,
        };
        w.arm().then_some(w)
    }

    /// (Re)makes the watch on every path; whether at least one is watched.
    fn arm(&mut self) -> bool {
        let mut any = false;
        for path in &self.paths {
            let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
                continue;
            };
            // SAFETY: the descriptor is ours and open; `c` is a valid C string that
            // outlives the call.
            let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), MASK) };
            any |= wd >= 0;
        }
        // A path that could not be watched (a mailbox not there yet) is tried
        // again at the next change; with none watched, every check says changed.
        self.lost = !any;
        any
    }

    /// The inotify descriptor, readable when events wait (to poll it beside the
    /// connection); it stays open as long as the watcher.
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
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

    #[test]
    fn a_directory_watch_sees_names_and_the_files_in_it() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let missing = dir.path().join("not-yet");
        let mut w = Watcher::new_many(&[sub.clone(), missing.clone()]).expect("inotify");
        assert!(!w.changed(), "a path that is not there is no change by itself");
        std::fs::write(sub.join("box"), b"x").unwrap();
        assert!(w.changed(), "a name made in the directory");
        assert!(!w.changed());
        std::fs::OpenOptions::new()
            .append(true)
            .open(sub.join("box"))
            .unwrap()
            .write_all(b"more")
            .unwrap();
        assert!(w.changed(), "a file in the directory written");
        std::fs::rename(sub.join("box"), sub.join("other")).unwrap();
        assert!(w.changed(), "a name renamed in the directory");
        std::fs::remove_file(sub.join("other")).unwrap();
        assert!(w.changed(), "a name removed");
        assert!(!w.changed());
    }
}
