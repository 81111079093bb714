//! Crash-safe rewriting of a mailbox file in place.
//!
//! Why in place: the spool directory is not writable by the user (Debian's /var/mail
//! is root:mail 2775), and a delivery agent that opened the file before we replaced
//! it by rename would append to the old, unlinked inode. So pullmail, like UW and
//! Dovecot, rewrites the file itself; unlike them it makes that crash-safe with a
//! redo journal kept in the user's state directory.
//!
//! A rewrite is a set of small in-place *patches* (status blocks and the `X-IMAP`
//! numbers, which keep their length) and an optional *tail*: everything from the
//! first octet whose position changes to the end of the file. The steps:
//!
//! 1. Write the new tail and the patches into the journal file `KEY.journal` after
//!    its 4 KiB header block, which says "nothing pending" (zeros) meanwhile.
//! 2. Reserve the space a growing file needs (fallocate, keeping the size), so that
//!    ENOSPC happens before the commit and leaves the mailbox as it was.
//! 3. Write the header (file identity, the old length, where the tail starts, a hash
//!    of the old octets the shrink will cut off, and a hash of the journal's body)
//!    and fdatasync the journal: the commit point. Before it the mailbox is untouched;
//!    after it, recovery finishes the rewrite.
//! 4. Write the patches and the tail in place, cut the file to its new length when
//!    it shrank, fsync it; zero the header's first octets and fdatasync the journal.
//!
//! Recovery (at the next lock of the mailbox by any pullmail process) redoes step 4.
//! It also copes with mail appended after a crash by an agent that broke our stale
//! dot-lock: those octets are found after the region the rewrite owns (the old end,
//! or the new end once the cut happened — told apart by the hash of the octets the
//! cut removes) and are moved behind the rewritten tail through a second journal.
//!
//! # Each sync, and why a power cut anywhere keeps the mail
//! The journal file stays from one rewrite to the next (a mailbox's writers are
//! serialised by its write lock), so a rewrite creates, renames and deletes nothing
//! and needs no directory sync: its blocks are overwritten in place, and fdatasync
//! of an overwrite writes no inode. Three syncs remain where there were five (journal,
//! directory after the rename, mailbox, mailbox again after the cut, directory after
//! the delete):
//! - **The commit (fdatasync of the journal).** Kept: it is what makes the rewrite
//!   redoable. When the body did not all pass through memory (large runs are copied
//!   in the kernel, unhashed), the body is fdatasynced first and the header written
//!   after, so a durable header always has a durable body behind it; otherwise the
//!   header carries the body's hash and one fdatasync covers both: a power cut that
//!   keeps the new header but loses some of the body leaves a header whose hash does
//!   not match, which recovery takes for what it is — a commit that never completed,
//!   with the mailbox untouched — and clears. A torn header fails its own checksum
//!   the same way.
//! - **The mailbox (fsync after writing and cutting).** Kept, one instead of two: the
//!   old code synced the writes before the cut so that a cut could not outrun them;
//!   but until the header is cleared the journal redoes writes and cut alike, and
//!   recovery already tells a cut file (shorter than the old length) from an uncut
//!   one by length and the hash of the octets the cut removes, so the order in which
//!   the disk keeps them does not matter. The sync must precede the clearing: a
//!   cleared journal with writes the disk lost would lose mail.
//! - **The clear (fdatasync after zeroing the header).** Kept, replacing the unlink
//!   and the directory sync: if it were lost, a later power cut could bring back an
//!   applied journal after another program (mutt, say) had rewritten the file in
//!   place, and redoing it would overwrite their octets. Made durable before the
//!   locks go, no one else can have written the file after it.
//! - **The directory.** Dropped: no name changes in the common path. (Recovery's own
//!   second journal, below, is written to `KEY.journal.tmp` and renamed over the
//!   first, with the directory synced, as the first must stay intact until the second
//!   is durable.)

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::regular;
use crate::state::{create_private_dir, path_key};

/// Journals committed by rename (before headers were written in place); still read.
const MAGIC_V1: &[u8; 8] = b"PMJRNL01";
const MAGIC: &[u8; 8] = b"PMJRNL02";
const HEADER_LEN: u64 = 4096;
const COPY_CHUNK: usize = 1 << 20;

/// A journal header as [`Rewrite`] writes it, for the file `mailbox` at `(dev, ino)`
/// and `numbers` = old length, tail start, tail length, patch count, patch octets,
/// stale hash, body hash: for the fuzz target that feeds [`recover`] journals whose
/// header checks out and whose numbers and body are anything.
#[doc(hidden)]
pub fn encode_header_for_fuzzing(mailbox: &Path, dev: u64, ino: u64, numbers: [u64; 7]) -> Option<Vec<u8>> {
    let [old_len, tail_start, tail_len, patch_count, patch_bytes, stale_hash, body_hash] = numbers;
    Header {
        path: mailbox.to_path_buf(),
        dev,
        ino,
        old_len,
        tail_start,
        tail_len,
        patch_count: patch_count as u32,
        patch_bytes,
        stale_hash,
        body_hash,
    }
    .encode()
    .ok()
}

/// Where the journal of a mailbox lives.
pub fn journal_path(state_dir: &Path, mailbox: &Path) -> PathBuf {
    state_dir.join(format!("{}.journal", path_key(mailbox)))
}

/// A fast 64-bit hash for telling old octets from new ones during recovery, and a
/// journal's body from a torn one; not cryptographic, only needs to make a
/// coincidental match negligible. Streaming: the value does not depend on how the
/// octets were cut into `update` calls.
#[derive(Clone)]
struct Hash64 {
    h: u64,
    len: u64,
    carry: [u8; 8],
    carried: usize,
}

impl Hash64 {
    fn new() -> Self {
        Hash64 {
            h: 0x9e3779b97f4a7c15,
            len: 0,
            carry: [0; 8],
            carried: 0,
        }
    }
    fn word(&mut self, w: u64) {
        self.h = (self.h ^ w).wrapping_mul(0xff51afd7ed558ccd).rotate_left(29);
    }
    fn update(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if self.carried > 0 {
            let take = (8 - self.carried).min(bytes.len());
            self.carry[self.carried..self.carried + take].copy_from_slice(&bytes[..take]);
            self.carried += take;
            bytes = &bytes[take..];
            if self.carried < 8 {
                return;
            }
            self.word(u64::from_le_bytes(self.carry));
            self.carried = 0;
        }
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.word(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        }
        let rest = chunks.remainder();
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carried = rest.len();
    }
    fn finish(&self) -> u64 {
        let mut h = self.h;
        for &b in &self.carry[..self.carried] {
            h = (h ^ b as u64).wrapping_mul(0xc4ceb9fe1a85ec53).rotate_left(17);
        }
        (h ^ self.len).wrapping_mul(0x9e3779b97f4a7c15)
    }
}

/// What a committed journal says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    path: PathBuf,
    dev: u64,
    ino: u64,
    old_len: u64,
    /// u64::MAX when there is no tail.
    tail_start: u64,
    tail_len: u64,
    patch_count: u32,
    patch_bytes: u64,
    /// Hash of the old octets in `[new_end, old_len)` (zero when the file grows).
    stale_hash: u64,
    /// Hash of the body (tail and patches) when it was synced together with the
    /// header; zero when the body was synced first (or in a `PMJRNL01` journal).
    body_hash: u64,
}

impl Header {
    fn new_end(&self) -> u64 {
        if self.tail_start == u64::MAX {
            self.old_len
        } else {
            // Saturating: a damaged header must not overflow (found by fuzzing).
            self.tail_start.saturating_add(self.tail_len)
        }
    }

    fn encode(&self) -> Result<Vec<u8>> {
        let p = self.path.as_os_str().as_encoded_bytes();
        if p.len() > 3000 {
            return Err(Error::NotPermitted("mailbox path too long for the journal"));
        }
        let mut h = Vec::with_capacity(HEADER_LEN as usize);
        h.extend_from_slice(MAGIC);
        for v in [
            self.dev,
            self.ino,
            self.old_len,
            self.tail_start,
            self.tail_len,
            self.patch_count as u64,
            self.patch_bytes,
            self.stale_hash,
            self.body_hash,
        ] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        h.extend_from_slice(&(p.len() as u32).to_le_bytes());
        h.extend_from_slice(p);
        let mut sum = Hash64::new();
        sum.update(&h);
        h.extend_from_slice(&sum.finish().to_le_bytes());
        h.resize(HEADER_LEN as usize, 0);
        Ok(h)
    }

    fn decode(h: &[u8]) -> Option<Header> {
        if h.len() < HEADER_LEN as usize {
            return None;
        }
        let fields = match &h[..8] {
            m if m == MAGIC => 9,
            m if m == MAGIC_V1 => 8,
            _ => return None,
        };
        let num =
            |i: usize| u64::from_le_bytes(h[8 + i * 8..16 + i * 8].try_into().unwrap_or([0; 8]));
        let at = 8 + fields * 8;
        let plen = u32::from_le_bytes(h[at..at + 4].try_into().ok()?) as usize;
        if plen > 3000 {
            return None;
        }
        let end = at + 4 + plen;
        let mut sum = Hash64::new();
        sum.update(&h[..end]);
        if u64::from_le_bytes(h[end..end + 8].try_into().ok()?) != sum.finish() {
            return None;
        }
        let path = PathBuf::from(std::ffi::OsStr::from_bytes_compat(&h[at + 4..end]));
        Some(Header {
            path,
            dev: num(0),
            ino: num(1),
            old_len: num(2),
            tail_start: num(3),
            tail_len: num(4),
            patch_count: num(5) as u32,
            patch_bytes: num(6),
            stale_hash: num(7),
            body_hash: if fields == 9 { num(8) } else { 0 },
        })
    }
}

trait FromBytesCompat {
    fn from_bytes_compat(b: &[u8]) -> &std::ffi::OsStr;
}
impl FromBytesCompat for std::ffi::OsStr {
    fn from_bytes_compat(b: &[u8]) -> &std::ffi::OsStr {
        std::os::unix::ffi::OsStrExt::from_bytes(b)
    }
}

/// A rewrite being prepared: the tail streamed into the journal as it is produced,
/// the patches gathered as compact records (offset, length, octets) in one buffer.
pub struct Rewrite<'a> {
    file: &'a File,
    mailbox: PathBuf,
    journal: PathBuf,
    tmp: PathBuf,
    out: File,
    /// Tail octets not yet written to `out`.
    pending: Vec<u8>,
    /// Scratch space for copies that go through user space.
    scratch: Vec<u8>,
    old_len: u64,
    patches: Vec<u8>,
    patch_count: u32,
    tail_start: Option<u64>,
    tail_len: u64,
    /// Written to `tmp` and committed by renaming it over the journal (recovery's
    /// second journal, which must not touch the first before it is durable), instead
    /// of in place.
    fresh: bool,
    /// The hash of the body as it was written, while all of it went through memory.
    body: Option<Hash64>,
}

/// What a finished rewrite changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub new_len: u64,
    /// Where the tail began (the first octet whose position may have changed).
    pub tail_start: Option<u64>,
}

impl<'a> Rewrite<'a> {
    /// Starts a rewrite of `file` (at `mailbox`), whose current length is `old_len`.
    /// The caller holds the mailbox's write lock.
    pub fn begin(
        state_dir: &Path,
        mailbox: &Path,
        file: &'a File,
        old_len: u64,
    ) -> Result<Rewrite<'a>> {
        Rewrite::start(state_dir, mailbox, file, old_len, false)
    }

    fn start(
        state_dir: &Path,
        mailbox: &Path,
        file: &'a File,
        old_len: u64,
        fresh: bool,
    ) -> Result<Rewrite<'a>> {
        create_private_dir(state_dir)?;
        let journal = journal_path(state_dir, mailbox);
        let tmp = journal.with_extension("journal.tmp");
        let out = regular::open_with(
            if fresh { &tmp } else { &journal },
            OpenOptions::new()
                .write(true)
                .read(true)
                .create(true)
                .truncate(fresh)
                .mode(0o600),
            libc::O_NOFOLLOW,
        )?;
        if !fresh && header_active(&out)? {
            // Recovery runs under the same lock before every write; a journal still
            // pending here was not ours to overwrite.
            return Err(Error::Io(io::Error::other("a journal is pending for this mailbox")));
        }
        Ok(Rewrite {
            file,
            mailbox: mailbox.to_path_buf(),
            journal,
            tmp,
            out,
            pending: Vec::new(),
            scratch: Vec::new(),
            old_len,
            patches: Vec::new(),
            patch_count: 0,
            tail_start: None,
            tail_len: 0,
            fresh,
            body: Some(Hash64::new()),
        })
    }

    /// Replaces `bytes.len()` octets at `offset` (before the tail) in place.
    pub fn patch(&mut self, offset: u64, bytes: Vec<u8>) {
        self.patches.extend_from_slice(&offset.to_le_bytes());
        self.patches.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        self.patches.extend_from_slice(&bytes);
        self.patch_count += 1;
    }

    /// Everything from `start` to the end of the file will be what is written next.
    pub fn start_tail(&mut self, start: u64) {
        debug_assert!(self.tail_start.is_none());
        self.tail_start = Some(start);
    }

    pub fn has_tail(&self) -> bool {
        self.tail_start.is_some()
    }

    /// Where in the journal the next pending octet goes.
    fn pending_at(&self) -> u64 {
        HEADER_LEN + self.tail_len - self.pending.len() as u64
    }

    fn flush_pending(&mut self) -> Result<()> {
        if !self.pending.is_empty() {
            self.out.write_all_at(&self.pending, self.pending_at()).map_err(Error::from_write)?;
            self.pending.clear();
        }
        Ok(())
    }

    /// Appends octets to the new tail.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        debug_assert!(self.tail_start.is_some());
        if let Some(h) = &mut self.body {
            h.update(bytes);
        }
        if bytes.len() >= COPY_CHUNK {
            // A large piece (an appended message's body) goes to the journal as it is,
            // not through a second copy of it in memory.
            self.flush_pending()?;
            let at = self.pending_at();
            self.out.write_all_at(bytes, at).map_err(Error::from_write)?;
            self.tail_len += bytes.len() as u64;
            return Ok(());
        }
        self.pending.extend_from_slice(bytes);
        self.tail_len += bytes.len() as u64;
        if self.pending.len() >= COPY_CHUNK {
            self.flush_pending()?;
        }
        Ok(())
    }

    /// Copies `len` octets of the current file at `offset` into the new tail: large
    /// runs file to file in the kernel (copy_file_range), small ones through memory.
    pub fn copy_from_file(&mut self, offset: u64, len: u64) -> Result<()> {
        if len >= 64 * 1024 {
            self.flush_pending()?;
            // Not seen by us: the body is synced before the header instead.
            self.body = None;
            copy_range(self.file, offset, &self.out, HEADER_LEN + self.tail_len, len, &mut self.scratch)?;
            self.tail_len += len;
            return Ok(());
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.resize(len as usize, 0);
        let read = self.file.read_exact_at(&mut scratch, offset);
        let result = read.map_err(Error::from).and_then(|_| self.write(&scratch));
        self.scratch = scratch;
        result
    }

    /// Gives the rewrite up before its commit: the mailbox was not touched, and the
    /// journal's header still says nothing is pending.
    pub fn abandon(self) {
        if self.fresh {
            let _ = fs::remove_file(&self.tmp);
        }
    }

    /// Commits the journal and applies it. On any failure before the commit the
    /// mailbox is unchanged; after it, the journal stays for recovery.
    pub fn commit(mut self) -> Result<Applied> {
        let result = self.commit_inner();
        if result.is_err() && self.fresh {
            let _ = fs::remove_file(&self.tmp);
        }
        let header = result?;
        apply(self.file, &self.out, &header, true)?;
        Ok(Applied {
            new_len: header.new_end(),
            tail_start: self.tail_start,
        })
    }

    fn commit_inner(&mut self) -> Result<Header> {
        let meta = self.file.metadata()?;
        let tail_start = self.tail_start.unwrap_or(u64::MAX);
        let new_end = self
            .tail_start
            .map(|s| s + self.tail_len)
            .unwrap_or(self.old_len);
        // The octets a shrink cuts off identify "not yet cut" during recovery.
        let mut stale = Hash64::new();
        if new_end < self.old_len {
            hash_file_range(self.file, new_end, self.old_len, &mut stale)?;
        }
        self.flush_pending()?;
        self.out
            .write_all_at(&self.patches, HEADER_LEN + self.tail_len)
            .map_err(Error::from_write)?;
        let body_hash = match &mut self.body {
            Some(h) if !self.fresh => {
                h.update(&self.patches);
                // Never zero: zero means "synced before the header".
                h.finish() | 1
            }
            _ => 0,
        };
        let header = Header {
            path: self.mailbox.clone(),
            dev: meta.dev(),
            ino: meta.ino(),
            old_len: self.old_len,
            tail_start,
            tail_len: self.tail_len,
            patch_count: self.patch_count,
            patch_bytes: self.patches.len() as u64,
            stale_hash: if new_end < self.old_len {
                stale.finish()
            } else {
                0
            },
            body_hash,
        };
        if self.fresh {
            self.out
                .write_all_at(&header.encode()?, 0)
                .map_err(Error::from_write)?;
            self.out.sync_all().map_err(Error::from_write)?;
            if new_end > self.old_len {
                reserve(self.file, self.old_len, new_end - self.old_len)?;
            }
            fs::rename(&self.tmp, &self.journal)?;
            sync_dir(&self.journal)?;
            return Ok(header);
        }
        if body_hash == 0 {
            // The body must be durable before a header can point at it.
            self.out.sync_data().map_err(Error::from_write)?;
        }
        // Reserve the room a growing file needs before committing: ENOSPC must strike
        // while the mailbox is still untouched.
        if new_end > self.old_len {
            reserve(self.file, self.old_len, new_end - self.old_len)?;
        }
        self.out
            .write_all_at(&header.encode()?, 0)
            .map_err(Error::from_write)?;
        self.out.sync_data().map_err(Error::from_write)?;
        Ok(header)
    }
}

/// Copies `len` octets from `src` at `from` to `dst` at `to`: in the kernel where it
/// can (copy_file_range, which some file systems turn into shared blocks), else
/// through `scratch`.
fn copy_range(src: &File, from: u64, dst: &File, to: u64, len: u64, scratch: &mut Vec<u8>) -> Result<()> {
    let mut done = 0u64;
    while done < len {
        let mut off_in = (from + done) as libc::loff_t;
        let mut off_out = (to + done) as libc::loff_t;
        let want = (len - done).min(1 << 30) as usize;
        // SAFETY: both descriptors are open for the life of the call; the offsets are
        // our own variables, which the kernel updates.
        let n = unsafe { libc::copy_file_range(src.as_raw_fd(), &mut off_in, dst.as_raw_fd(), &mut off_out, want, 0) };
        if n > 0 {
            done += n as u64;
            continue;
        }
        if n == 0 {
            return Err(Error::Io(io::Error::new(io::ErrorKind::UnexpectedEof, "mailbox shorter than expected")));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EXDEV) | Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) | Some(libc::EBADF) => break,
            _ => return Err(Error::from_write(e)),
        }
    }
    scratch.resize(COPY_CHUNK.min((len - done).max(1) as usize), 0);
    while done < len {
        let n = ((len - done) as usize).min(scratch.len());
        src.read_exact_at(&mut scratch[..n], from + done)?;
        dst.write_all_at(&scratch[..n], to + done).map_err(Error::from_write)?;
        done += n as u64;
    }
    Ok(())
}

fn hash_file_range(file: &File, from: u64, to: u64, h: &mut Hash64) -> io::Result<()> {
    let mut buf = vec![0u8; COPY_CHUNK.min((to - from) as usize)];
    let mut at = from;
    while at < to {
        let n = ((to - at) as usize).min(buf.len());
        file.read_exact_at(&mut buf[..n], at)?;
        h.update(&buf[..n]);
        at += n as u64;
    }
    Ok(())
}

fn reserve(file: &File, offset: u64, len: u64) -> Result<()> {
    // SAFETY: fallocate on a valid descriptor; FALLOC_FL_KEEP_SIZE allocates blocks
    // without changing the visible length.
    let r = unsafe {
        libc::fallocate(
            file.as_raw_fd(),
            libc::FALLOC_FL_KEEP_SIZE,
            offset as libc::off_t,
            len as libc::off_t,
        )
    };
    if r != 0 {
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) | Some(libc::EINVAL) => {}
            _ => return Err(Error::from_write(e)),
        }
    }
    Ok(())
}

fn sync_dir(path: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Calls `each` with every patch of a committed journal, reading the records in
/// chunks (a checkpoint of 100,000 messages has 100,000 of them).
fn for_each_patch(j: &File, h: &Header, mut each: impl FnMut(u64, &[u8]) -> Result<()>) -> Result<()> {
    let start = HEADER_LEN + h.tail_len;
    let end = start + h.patch_bytes;
    let mut buf: Vec<u8> = Vec::new();
    let mut at = start;
    let mut used = 0usize;
    loop {
        // Parse what is buffered.
        while buf.len() - used >= 12 {
            let off = u64::from_le_bytes(buf[used..used + 8].try_into().unwrap_or([0; 8]));
            let len = u32::from_le_bytes(buf[used + 8..used + 12].try_into().unwrap_or([0; 4])) as usize;
            if buf.len() - used < 12 + len {
                break;
            }
            each(off, &buf[used + 12..used + 12 + len])?;
            used += 12 + len;
        }
        if at >= end {
            return Ok(());
        }
        buf.drain(..used);
        used = 0;
        let n = ((end - at) as usize).min(COPY_CHUNK);
        let old = buf.len();
        buf.resize(old + n, 0);
        j.read_exact_at(&mut buf[old..], at)?;
        at += n as u64;
    }
}

/// Step 4: patches, tail, cut (unless octets that are not ours follow the new end),
/// fsync, clear the journal's header. Idempotent.
fn apply(file: &File, j: &File, h: &Header, cut: bool) -> Result<()> {
    for_each_patch(j, h, |off, bytes| file.write_all_at(bytes, off).map_err(Error::from_write))?;
    if h.tail_start != u64::MAX {
        copy_range(j, HEADER_LEN, file, h.tail_start, h.tail_len, &mut Vec::new())?;
    }
    let new_end = h.new_end();
    if cut && new_end < h.old_len {
        file.set_len(new_end)?;
    }
    file.sync_all()?;
    clear(j)
}

/// Marks the journal as applied (nothing pending), durably; a big one is cut back
/// (not synced: what lies behind a cleared header is never read).
fn clear(j: &File) -> Result<()> {
    j.write_all_at(&[0u8; 8], 0).map_err(Error::from_write)?;
    j.sync_data()?;
    if j.metadata()?.len() > KEEP_JOURNAL {
        let _ = j.set_len(HEADER_LEN);
    }
    Ok(())
}

/// A journal file longer than this is cut back after use; shorter ones are reused as
/// they are (overwriting allocated blocks is what makes the commit's sync cheap).
/// Flag changes, expunges near the end and ordinary APPENDs fit; the space stays
/// small, once per mailbox written, in the user's own directory.
const KEEP_JOURNAL: u64 = 256 << 10;

/// Whether the header of an open journal file says a rewrite may be pending (any
/// octet of its magic set: a torn or foreign header counts, recovery sorts it out).
fn header_active(j: &File) -> Result<bool> {
    let mut magic = [0u8; 8];
    match j.read_at(&mut magic, 0)? {
        0 => Ok(false),
        _ => Ok(magic != [0u8; 8]),
    }
}

/// Whether `mailbox` has a journal that recovery must look at: one a writer is
/// applying right now, or one a crash left. Readers ask without a lock (and look
/// again under one); a writer's recovery settles it.
pub fn pending(state_dir: &Path, mailbox: &Path) -> bool {
    match regular::open_read(&journal_path(state_dir, mailbox)) {
        Ok(j) => header_active(&j).unwrap_or(true),
        Err(e) => e.kind() != io::ErrorKind::NotFound,
    }
}

/// What recovery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// No journal: nothing to do.
    Clean,
    /// An interrupted rewrite was finished.
    Finished,
    /// It was finished, and octets appended after the crash were moved behind it.
    FinishedWithForeignTail(u64),
    /// The journal belongs to a file that is no longer there; it was set aside.
    SetAside(PathBuf),
}

/// Finishes an interrupted rewrite of `mailbox`, if there is one. The caller holds the
/// mailbox's write lock and has `file` open read-write.
pub fn recover(state_dir: &Path, mailbox: &Path, file: &File) -> Result<Recovery> {
    let journal = journal_path(state_dir, mailbox);
    let _ = fs::remove_file(journal.with_extension("journal.tmp"));
    let j = regular::open_with(
        &journal,
        OpenOptions::new().read(true).write(true),
        libc::O_NOFOLLOW,
    );
    let mut j = match j {
        Ok(j) => j,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Recovery::Clean),
        // Not a journal we wrote (a FIFO, say): out of the way, like a foreign one.
        Err(e) if regular::is_not_regular(&e) => return set_aside(&journal),
        Err(e) => return Err(e.into()),
    };
    if !header_active(&j)? {
        return Ok(Recovery::Clean);
    }
    let mut hb = vec![0u8; HEADER_LEN as usize];
    let header = match j.read_exact(&mut hb).ok().and_then(|_| Header::decode(&hb)) {
        Some(h) if h.body_hash == 0 || body_intact(&j, &h)? => h,
        // A journal renamed into place was complete: damage is not ours to judge.
        _ if hb.starts_with(MAGIC_V1) => return set_aside(&journal),
        // A header written in place whose commit never completed (torn, or its body
        // lost): the mailbox was not touched.
        _ => {
            clear(&j)?;
            return Ok(Recovery::Clean);
        }
    };
    let meta = file.metadata()?;
    if header.path != mailbox || meta.ino() != header.ino || meta.dev() != header.dev {
        return set_aside(&journal);
    }
    // Numbers no rewrite of ours writes (damage that kept the checksum, a file made by
    // hand; found by fuzzing) are set aside rather than computed with.
    if !plausible(&header, j.metadata()?.len()) {
        return set_aside(&journal);
    }
    let len = meta.len();
    // A file cut by an interrupted apply is no shorter than its new end; one not
    // yet cut, than its old length: patches lie within. One that does not (it
    // would write a sparse terabyte, say) is not ours.
    let within = len.max(header.new_end());
    let mut patches_inside = true;
    for_each_patch(&j, &header, |off, bytes| {
        patches_inside &= off.checked_add(bytes.len() as u64).is_some_and(|e| e <= within);
        Ok(())
    })?;
    if !patches_inside || header.old_len.min(header.new_end()) > len {
        return set_aside(&journal);
    }
    let new_end = header.new_end();
    let foreign_start = if new_end < header.old_len {
        let mut h = Hash64::new();
        if len >= header.old_len {
            hash_file_range(file, new_end, header.old_len, &mut h)?;
        }
        if len >= header.old_len && h.finish() == header.stale_hash {
            header.old_len
        } else {
            new_end
        }
    } else if new_end > header.old_len {
        grown_region_end(file, &j, &header, len)?
    } else {
        header.old_len
    };
    if foreign_start >= len || foreign_start == new_end {
        apply(file, &j, &header, foreign_start >= len)?;
        if foreign_start < len {
            return Ok(Recovery::FinishedWithForeignTail(len - foreign_start));
        }
        return Ok(Recovery::Finished);
    }
    // Octets appended after the crash sit at the wrong place: make a second journal
    // whose tail is the old tail followed by them, and apply that.
    let foreign = len - foreign_start;
    let tail_start = if header.tail_start == u64::MAX {
        header.old_len
    } else {
        header.tail_start
    };
    let mut rw = Rewrite::start(state_dir, mailbox, file, len, true)?;
    for_each_patch(&j, &header, |off, bytes| {
        rw.patch(off, bytes.to_vec());
        Ok(())
    })?;
    rw.start_tail(tail_start);
    let mut buf = vec![0u8; COPY_CHUNK];
    let mut done = 0u64;
    while done < header.tail_len {
        let n = ((header.tail_len - done) as usize).min(buf.len());
        j.read_exact_at(&mut buf[..n], HEADER_LEN + done)?;
        rw.write(&buf[..n])?;
        done += n as u64;
    }
    rw.copy_from_file(foreign_start, foreign)?;
    rw.commit()?;
    Ok(Recovery::FinishedWithForeignTail(foreign))
}

/// For a growing rewrite: where the octets the rewrite owns end. If the whole new
/// tail beyond the old end is in place, that is the new end. Otherwise a delivery
/// may have landed where our write stopped: it begins with a message opening, at or
/// before the first octet that differs from the journal (its first octets can
/// coincide with ours), so the last opening at or before that octet is where it
/// starts.
fn grown_region_end(file: &File, j: &File, h: &Header, len: u64) -> Result<u64> {
    let new_end = h.new_end();
    let mut at = h.old_len;
    let mut ours = vec![0u8; COPY_CHUNK];
    let mut theirs = vec![0u8; COPY_CHUNK];
    while at < new_end.min(len) {
        let n = ((new_end.min(len) - at) as usize).min(COPY_CHUNK);
        j.read_exact_at(&mut ours[..n], HEADER_LEN + (at - h.tail_start))?;
        file.read_exact_at(&mut theirs[..n], at)?;
        if let Some(k) = ours[..n].iter().zip(&theirs[..n]).position(|(a, b)| a != b) {
            let diff = at + k as u64;
            let from = diff - (diff - h.old_len).min(4096);
            let to = (diff + 5).min(len);
            let mut win = vec![0u8; (to - from) as usize];
            file.read_exact_at(&mut win, from)?;
            let start = [&b"From "[..], crate::format::MMDF_DELIMITER]
                .iter()
                .filter_map(|pat| memchr::memmem::rfind(&win, pat))
                .map(|i| from + i as u64)
                .filter(|&s| s <= diff)
                .max();
            return Ok(start.unwrap_or(diff));
        }
        at += n as u64;
    }
    Ok(if len >= new_end { new_end } else { len })
}

/// Whether a header's numbers are ones a rewrite writes: a tail that starts within
/// the old file and ends within u64, and a body that the journal file holds.
fn plausible(h: &Header, journal_len: u64) -> bool {
    let tail_ok = h.tail_start == u64::MAX
        || (h.tail_start <= h.old_len && h.tail_start.checked_add(h.tail_len).is_some());
    let body_end = HEADER_LEN
        .checked_add(h.tail_len)
        .and_then(|e| e.checked_add(h.patch_bytes));
    tail_ok && body_end.is_some_and(|e| e <= journal_len)
}

/// Whether the body of an in-place journal is what its header's hash says.
fn body_intact(j: &File, h: &Header) -> Result<bool> {
    let mut sum = Hash64::new();
    // A damaged header's lengths may be anything (found by fuzzing): no overflow.
    let Some(end) = HEADER_LEN.checked_add(h.tail_len) else {
        return Ok(false);
    };
    if end.checked_add(h.patch_bytes).is_none_or(|e| j.metadata().map_or(true, |m| m.len() < e)) {
        return Ok(false);
    }
    hash_file_range(j, HEADER_LEN, end, &mut sum)?;
    let mut patches = vec![0u8; h.patch_bytes.min(1 << 30) as usize];
    j.read_exact_at(&mut patches, end)?;
    sum.update(&patches);
    Ok(sum.finish() | 1 == h.body_hash)
}

fn set_aside(journal: &Path) -> Result<Recovery> {
    let aside = journal.with_extension(format!(
        "journal.orphan-{}",
        crate::fromline::now().timestamp
    ));
    fs::rename(journal, &aside)?;
    Ok(Recovery::SetAside(aside))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    fn setup(content: &[u8]) -> (tempfile::TempDir, PathBuf, File) {
        let dir = tempfile::tempdir().unwrap();
        let mbox = dir.path().join("box");
        fs::write(&mbox, content).unwrap();
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&mbox)
            .unwrap();
        (dir, mbox, f)
    }

    #[test]
    fn rewrite_shrinks_grows_and_patches() {
        let (dir, mbox, f) = setup(b"AAAABBBBCCCCDDDD");
        let state = dir.path().join("st");
        let mut rw = Rewrite::begin(&state, &mbox, &f, 16).unwrap();
        rw.patch(0, b"aa".to_vec());
        rw.start_tail(8);
        rw.write(b"xy").unwrap();
        let a = rw.commit().unwrap();
        assert_eq!(a.new_len, 10);
        assert_eq!(fs::read(&mbox).unwrap(), b"aaAABBBBxy");
        assert!(!pending(&state, &mbox));
        let mut rw = Rewrite::begin(&state, &mbox, &f, 10).unwrap();
        rw.start_tail(10);
        rw.write(b"0123456789").unwrap();
        rw.commit().unwrap();
        assert_eq!(fs::read(&mbox).unwrap(), b"aaAABBBBxy0123456789");
    }

    /// Builds a committed journal without applying it, as a crash right after the
    /// commit point leaves things.
    fn commit_only(
        state: &Path,
        mbox: &Path,
        f: &File,
        old_len: u64,
        tail_start: u64,
        tail: &[u8],
    ) -> Header {
        let mut rw = Rewrite::begin(state, mbox, f, old_len).unwrap();
        rw.start_tail(tail_start);
        rw.write(tail).unwrap();
        rw.commit_inner().unwrap()
    }

    #[test]
    fn recovery_finishes_a_shrink_at_every_crash_point() {
        let old = b"From a\nkeep\nFrom b\nexpunge me please\nFrom c\nlast\n";
        let new_tail = b"From c\nlast\n";
        let tail_start = 12u64;
        let expected: Vec<u8> = [&old[..12], &new_tail[..]].concat();
        // Crash states: k octets of the tail written, cut done or not.
        for k in 0..=new_tail.len() {
            for cut in [false, true] {
                if cut && k < new_tail.len() {
                    continue;
                }
                let (dir, mbox, f) = setup(old);
                let state = dir.path().join("st");
                commit_only(&state, &mbox, &f, old.len() as u64, tail_start, new_tail);
                f.write_all_at(&new_tail[..k], tail_start).unwrap();
                if cut {
                    f.set_len(expected.len() as u64).unwrap();
                }
                assert_eq!(recover(&state, &mbox, &f).unwrap(), Recovery::Finished);
                assert_eq!(fs::read(&mbox).unwrap(), expected, "k={k} cut={cut}");
            }
        }
    }

    #[test]
    fn recovery_moves_mail_delivered_after_the_crash() {
        let old = b"From a\nkeep\nFrom b\nexpunge me please\nFrom c\nlast\n";
        let new_tail = b"From c\nlast\n";
        let delivery = b"From d\nnew mail\n";
        for cut in [false, true] {
            let (dir, mbox, f) = setup(old);
            let state = dir.path().join("st");
            commit_only(&state, &mbox, &f, old.len() as u64, 12, new_tail);
            f.write_all_at(new_tail, 12).unwrap();
            let end = if cut {
                f.set_len(24).unwrap();
                24
            } else {
                old.len() as u64
            };
            f.write_all_at(delivery, end).unwrap();
            let r = recover(&state, &mbox, &f).unwrap();
            assert_eq!(r, Recovery::FinishedWithForeignTail(delivery.len() as u64));
            let want: Vec<u8> = [&old[..12], &new_tail[..], &delivery[..]].concat();
            assert_eq!(fs::read(&mbox).unwrap(), want, "cut={cut}");
        }
    }

    #[test]
    fn recovery_finishes_a_growth_and_keeps_a_later_delivery() {
        let old = b"From a\nx\n";
        let tail = b"From a\nStatus: RO\nx\n\nFrom b\nappended\n";
        for k in 0..=tail.len() {
            for deliver in [false, true] {
                let (dir, mbox, f) = setup(old);
                let state = dir.path().join("st");
                commit_only(&state, &mbox, &f, old.len() as u64, 0, tail);
                f.write_all_at(&tail[..k], 0).unwrap();
                let len = f.metadata().unwrap().len();
                let delivery = b"From z\nlate\n";
                if deliver {
                    f.write_all_at(delivery, len).unwrap();
                }
                recover(&state, &mbox, &f).unwrap();
                let mut want = tail.to_vec();
                // A delivery landing inside the region we own is kept, behind it.
                if deliver {
                    want.extend_from_slice(delivery);
                }
                assert_eq!(fs::read(&mbox).unwrap(), want, "k={k} deliver={deliver}");
            }
        }
    }

    #[test]
    fn no_space_before_commit_leaves_mailbox_untouched() {
        let (dir, mbox, f) = setup(b"From a\nx\n");
        let state = dir.path().join("st");
        let mut rw = Rewrite::begin(&state, &mbox, &f, 9).unwrap();
        rw.start_tail(0);
        rw.write(b"something else").unwrap();
        drop(rw);
        assert_eq!(fs::read(&mbox).unwrap(), b"From a\nx\n");
        assert_eq!(recover(&state, &mbox, &f).unwrap(), Recovery::Clean);
    }

    #[test]
    fn journal_for_another_file_is_set_aside() {
        let (dir, mbox, f) = setup(b"From a\nx\n");
        let state = dir.path().join("st");
        commit_only(&state, &mbox, &f, 9, 0, b"From a\ny\n");
        fs::remove_file(&mbox).unwrap();
        fs::write(&mbox, b"From new\n").unwrap();
        let f2 = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&mbox)
            .unwrap();
        assert!(matches!(
            recover(&state, &mbox, &f2).unwrap(),
            Recovery::SetAside(_)
        ));
        assert_eq!(fs::read(&mbox).unwrap(), b"From new\n");
    }

    #[test]
    fn a_commit_the_disk_kept_only_in_part_is_no_commit() {
        let old = b"From a\nkeep\nFrom b\nexpunge me please\nFrom c\nlast\n";
        let new_tail = b"From c\nlast\n";
        // The header reached the disk, a part of the body did not (or was torn).
        for (what, damage) in [("body", HEADER_LEN + 3), ("patch area", HEADER_LEN + 12 + 12)] {
            let (dir, mbox, f) = setup(old);
            let state = dir.path().join("st");
            let mut rw = Rewrite::begin(&state, &mbox, &f, old.len() as u64).unwrap();
            rw.patch(0, b"FROM".to_vec());
            rw.start_tail(12);
            rw.write(new_tail).unwrap();
            let h = rw.commit_inner().unwrap();
            assert_ne!(h.body_hash, 0);
            let j = OpenOptions::new().read(true).write(true).open(journal_path(&state, &mbox)).unwrap();
            j.write_all_at(b"\0", damage).unwrap();
            assert!(pending(&state, &mbox));
            assert_eq!(recover(&state, &mbox, &f).unwrap(), Recovery::Clean, "{what}");
            assert_eq!(fs::read(&mbox).unwrap(), old, "{what}: mailbox touched");
            assert!(!pending(&state, &mbox), "{what}: still pending");
        }
        // A torn header (its own checksum fails) is no commit either.
        let (dir, mbox, f) = setup(old);
        let state = dir.path().join("st");
        commit_only(&state, &mbox, &f, old.len() as u64, 12, new_tail);
        let j = OpenOptions::new().read(true).write(true).open(journal_path(&state, &mbox)).unwrap();
        j.write_all_at(&[0u8; 64], 8).unwrap();
        assert_eq!(recover(&state, &mbox, &f).unwrap(), Recovery::Clean);
        assert_eq!(fs::read(&mbox).unwrap(), old);
    }

    #[test]
    fn a_journal_is_reused_and_a_large_unhashed_tail_recovers() {
        // 200 KiB of the old file are copied in the kernel: the body is synced before
        // the header, which then carries no body hash.
        let mut old = b"From a\nx\n".to_vec();
        old.extend(std::iter::repeat_n(b'y', 200 * 1024));
        old.extend_from_slice(b"\nFrom b\nz\n");
        let (dir, mbox, f) = setup(&old);
        let state = dir.path().join("st");
        let mut rw = Rewrite::begin(&state, &mbox, &f, old.len() as u64).unwrap();
        rw.start_tail(0);
        rw.write(b"From a\nStatus: RO\n").unwrap();
        rw.copy_from_file(7, old.len() as u64 - 7).unwrap();
        let h = rw.commit_inner().unwrap();
        assert_eq!(h.body_hash, 0);
        let mut want = b"From a\nStatus: RO\n".to_vec();
        want.extend_from_slice(&old[7..]);
        assert_eq!(recover(&state, &mbox, &f).unwrap(), Recovery::Finished);
        assert_eq!(fs::read(&mbox).unwrap(), want);
        // The same journal file serves the next rewrite, which then finds it clear.
        let ino = fs::metadata(journal_path(&state, &mbox)).unwrap().ino();
        let mut rw = Rewrite::begin(&state, &mbox, &f, want.len() as u64).unwrap();
        rw.patch(0, b"FROM".to_vec());
        rw.commit().unwrap();
        assert_eq!(fs::metadata(journal_path(&state, &mbox)).unwrap().ino(), ino);
        assert_eq!(&fs::read(&mbox).unwrap()[..4], b"FROM");
        assert!(!pending(&state, &mbox));
    }

    #[test]
    fn a_journal_committed_by_an_older_pullmail_is_still_finished() {
        let old = b"From a\nkeep\nFrom b\nexpunge me please\nFrom c\nlast\n";
        let new_tail = b"From c\nlast\n";
        let (dir, mbox, f) = setup(old);
        let state = dir.path().join("st");
        let h = commit_only(&state, &mbox, &f, old.len() as u64, 12, new_tail);
        // Rewrite the header as PMJRNL01 wrote it: eight fields, no body hash.
        let p = h.path.as_os_str().as_encoded_bytes();
        let mut v1 = MAGIC_V1.to_vec();
        for v in [h.dev, h.ino, h.old_len, h.tail_start, h.tail_len, h.patch_count as u64, h.patch_bytes, h.stale_hash] {
            v1.extend_from_slice(&v.to_le_bytes());
        }
        v1.extend_from_slice(&(p.len() as u32).to_le_bytes());
        v1.extend_from_slice(p);
        let mut sum = Hash64::new();
        sum.update(&v1);
        v1.extend_from_slice(&sum.finish().to_le_bytes());
        v1.resize(HEADER_LEN as usize, 0);
        let j = OpenOptions::new().write(true).open(journal_path(&state, &mbox)).unwrap();
        j.write_all_at(&v1, 0).unwrap();
        assert_eq!(recover(&state, &mbox, &f).unwrap(), Recovery::Finished);
        assert_eq!(fs::read(&mbox).unwrap(), [&old[..12], &new_tail[..]].concat());
    }

    #[test]
    fn the_hash_does_not_depend_on_how_the_octets_were_cut() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut whole = Hash64::new();
        whole.update(&data);
        for cut in [1usize, 3, 7, 8, 9, 64, 999] {
            let mut h = Hash64::new();
            for c in data.chunks(cut) {
                h.update(c);
            }
            assert_eq!(h.finish(), whole.finish(), "{cut}");
        }
    }
}
