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

use crate::regular;
use crate::uid::{Uid, Uidvalidity};

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
    /// The UIDVALIDITY the numbers below belong to (none agreed yet: absent).
    pub uid_validity: Option<Uidvalidity>,
    /// The highest UID already reported as \Recent to some session.
    pub recent_claimed: Option<Uid>,
    /// The highest UID assigned. The file's `X-IMAP` says the same once it has one;
    /// until a rewrite puts it there (pullmail does not rewrite a whole mailbox just to
    /// record it), this is what keeps UIDs from being reused.
    pub last_uid: Option<Uid>,
    /// Bumped by each rewrite of the mailbox file by pullmail.
    pub generation: u64,
    /// The file as pullmail last left it after an APPEND, so that the next one can
    /// add at its end without reading it all again (see [`AppendPoint`]).
    pub appendable: Option<AppendPoint>,
}

/// What a pullmail writer knew of the whole file when it finished an APPEND: every
/// message in it has its UID written, the last one is `last_uid`, and the file was
/// exactly this (inode, size, modification time to the nanosecond, at this
/// generation). While all of that still holds, nobody else has written the file, and
/// an APPEND need not read it. Any other write changes the size or the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendPoint {
    pub generation: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: i64,
    pub mtime_ns: i64,
    /// Where the last message starts: it must still open there.
    pub last_start: u64,
    pub last_uid: Uid,
    /// Where the pseudo-message's `X-IMAP` value is, if the file has one.
    pub imap_base: Option<(u64, u64)>,
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
        match regular::open_read(&self.path) {
            Ok(f) => {
                let _guard = Flock::new(&f, libc::LOCK_SH);
                parse(&read_text(&f).unwrap_or_default())
            }
            Err(_) => SharedState::default(),
        }
    }

    /// Reads, changes and writes the state under an exclusive lock.
    pub fn update<T>(&self, change: impl FnOnce(&mut SharedState) -> T) -> io::Result<T> {
        if let Some(dir) = self.path.parent() {
            create_private_dir(dir)?;
        }
        let f = regular::open_with(
            &self.path,
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600),
            libc::O_NOFOLLOW,
        )?;
        let _guard = Flock::new(&f, libc::LOCK_EX);
        let mut state = parse(&read_text(&f)?);
        let out = change(&mut state);
        let mut text = format!(
            "pullmail-state 1\nuidvalidity {}\nrecent {}\nlastuid {}\ngeneration {}\n",
            state.uid_validity.map_or(0, Uidvalidity::get),
            state.recent_claimed.map_or(0, Uid::get),
            state.last_uid.map_or(0, Uid::get),
            state.generation
        );
        if let Some(p) = state.appendable {
            let (a, b) = p.imap_base.unwrap_or((0, 0));
            text.push_str(&format!(
                "appendable {} {} {} {} {} {} {} {a} {b}\n",
                p.generation, p.ino, p.size, p.mtime, p.mtime_ns, p.last_start, p.last_uid
            ));
        }
        (&f).seek(SeekFrom::Start(0))?;
        (&f).write_all(text.as_bytes())?;
        f.set_len(text.len() as u64)?;
        Ok(out)
    }
}

/// Allocates a UIDVALIDITY for a new numbering of one of the user's mailboxes: the
/// time (`now`, seconds), or one more than the last allocated when that is not less.
/// The user's last one is kept in `uidvalidity` in the state directory, so no two
/// mailboxes of the user, and no two lives of one name (DELETE or RENAME, then
/// CREATE, in the same second), get the same UIDVALIDITY: a client's cache of the
/// old mailbox can never pass for the new one (RFC 3501 §2.3.1.1). Without a
/// usable state directory, the time alone.
pub fn allocate_uid_validity(state_dir: &Path, now: u32) -> u32 {
    let now = now.max(1);
    let allocate = || -> io::Result<u32> {
        create_private_dir(state_dir)?;
        let f = regular::open_with(
            &state_dir.join("uidvalidity"),
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600),
            libc::O_NOFOLLOW,
        )?;
        let _guard = Flock::new(&f, libc::LOCK_EX);
        let mut s = String::new();
        (&f).take(64).read_to_string(&mut s)?;
        let last: u32 = s.trim().parse().unwrap_or(0);
        // Past u32::MAX - 1 (year 2106), start again from the time.
        let next = if last < now || last == u32::MAX { now } else { last + 1 };
        let text = format!("{next}\n");
        (&f).seek(SeekFrom::Start(0))?;
        (&f).write_all(text.as_bytes())?;
        f.set_len(text.len() as u64)?;
        Ok(next)
    };
    allocate().unwrap_or(now)
}

/// Removes what the state directory keeps about the mailbox at `mailbox` (its state
/// file, index and modseq record), when it is deleted or renamed away, or a new one is created
/// there: what belonged to the old mailbox must not be taken for the new one's.
/// The journal of an interrupted rewrite and the POP lock file are left alone.
pub fn forget(state_dir: &Path, mailbox: &Path) {
    let key = path_key(mailbox);
    for ext in ["state", "index", "modseq"] {
        let _ = fs::remove_file(state_dir.join(format!("{key}.{ext}")));
    }
}

/// The state file's text. Damage (octets that are not UTF-8, found by fuzzing) must
/// not make it unwritable for good: it reads as text that does not parse, and the
/// next update writes a good file. A file past 64 KiB is not ours: its head is read.
fn read_text(f: &File) -> io::Result<String> {
    let mut bytes = Vec::new();
    f.take(64 * 1024).read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
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
            (Some("uidvalidity"), Some(v)) => {
                st.uid_validity = v.parse().ok().and_then(Uidvalidity::new)
            }
            (Some("recent"), Some(v)) => st.recent_claimed = v.parse().ok().and_then(Uid::new),
            // Never more than a message may have: the state is trusted, not wrapped.
            (Some("lastuid"), Some(v)) => st.last_uid = v.parse().ok().and_then(Uid::assignable),
            (Some("generation"), Some(v)) => st.generation = v.parse().unwrap_or(0),
            (Some("appendable"), Some(v)) => st.appendable = parse_append_point(v, w),
            _ => {}
        }
    }
    st
}

/// The fields of an `appendable` line; anything malformed is no append point at all.
fn parse_append_point<'a>(first: &str, mut rest: impl Iterator<Item = &'a str>) -> Option<AppendPoint> {
    let n = |v: Option<&str>| v.and_then(|v| v.parse::<i64>().ok());
    let generation = n(Some(first))?;
    let ino = n(rest.next())?;
    let size = n(rest.next())?;
    let mtime = n(rest.next())?;
    let mtime_ns = n(rest.next())?;
    let last_start = n(rest.next())?;
    let last_uid = n(rest.next())?;
    let (a, b) = (n(rest.next())?, n(rest.next())?);
    let unsigned = |v: i64| u64::try_from(v).ok();
    Some(AppendPoint {
        generation: unsigned(generation)?,
        ino: unsigned(ino)?,
        size: unsigned(size)?,
        mtime,
        mtime_ns,
        last_start: unsigned(last_start)?,
        last_uid: u32::try_from(last_uid).ok().and_then(Uid::assignable)?,
        imap_base: (b > a && a >= 0).then_some((a as u64, b as u64)),
    })
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
            s.uid_validity = Uidvalidity::new(7);
            s.recent_claimed = Uid::new(3);
            s.generation += 1;
        })
        .unwrap();
        assert_eq!(
            sf.read(),
            SharedState {
                uid_validity: Uidvalidity::new(7),
                recent_claimed: Uid::new(3),
                last_uid: None,
                generation: 1,
                appendable: None,
            }
        );
    }

    /// Found by fuzzing: a state file that was not UTF-8 made every update fail.
    #[test]
    fn a_state_file_that_is_not_utf8_is_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateFile::new(dir.path(), Path::new("/x/box"));
        fs::write(&state.path, b"pullmail-state 1\nuidvalidity 7\xff\n").unwrap();
        let first = state.read();
        state.update(|s| s.generation += 1).unwrap();
        let after = state.read();
        assert_eq!(after.generation, first.generation + 1);
        state.update(|_| ()).unwrap();
        assert_eq!(state.read(), after);
    }

    #[test]
    fn append_point_round_trips_and_garbage_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let sf = StateFile::new(dir.path(), Path::new("/var/mail/alice"));
        let p = AppendPoint {
            generation: 4,
            ino: 99,
            size: 12345,
            mtime: 1_700_000_000,
            mtime_ns: 123,
            last_start: 12000,
            last_uid: Uid::new(77).unwrap(),
            imap_base: Some((10, 60)),
        };
        sf.update(|s| s.appendable = Some(p)).unwrap();
        assert_eq!(sf.read().appendable, Some(p));
        sf.update(|s| s.appendable = Some(AppendPoint { imap_base: None, ..p }))
            .unwrap();
        assert_eq!(sf.read().appendable.unwrap().imap_base, None);
        assert_eq!(parse("appendable 1 2 3\n").appendable, None);
        assert_eq!(parse("appendable 1 2 3 4 5 6 -7 0 0\n").appendable, None);
    }
}
