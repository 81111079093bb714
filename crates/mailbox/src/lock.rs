//! Mailbox locking that mail delivery agents respect.
//!
//! Postfix `local`, Exim, procmail and mutt lock a mailbox file before they append to
//! it, with a dot-lock (`NAME.lock`) and a kernel lock on the file. pullmail takes the
//! same locks, and holds them only while it reads or writes the file, so deliveries go
//! on while a session is open (the session-level coordination between pullmail
//! processes is the Mailbox handle's business, not this module's).
//!
//! - [`WriteLock`]: for rewriting or appending. Taken in the MTAs' order — dot-lock,
//!   then an exclusive `fcntl` lock, then an exclusive `flock` — within one shared
//!   deadline ([`LockConfig::wait`]), and released in reverse order when dropped.
//! - [`ReadLock`]: for reading. A shared `fcntl` lock only: it keeps writers out while
//!   we scan, but takes no dot-lock, so a delivery waits at most for one read.
//! - [`WriterTurn`]: pullmail's own queue of writers, taken before all of the above
//!   ([`WriteLock::acquire_in_turn`]). The locks the MTAs know can only be polled
//!   (a dot-lock has no waiting, and the helper is a process per attempt), so writers
//!   that meet at them sleep and retry; among many sessions of one user that was most
//!   of a write's time. The turn is an flock on a file of the user's own (nothing
//!   else takes it, so taking it first cannot deadlock with an MTA) that a writer waits
//!   for in the kernel and gets the moment the previous one is done; the dot-lock and
//!   kernel locks behind it are then free unless an MTA or a reader holds them.
//!   Where the dot-lock costs two runs of the setgid helper (`/var/mail`), a writer
//!   that sees others waiting passes its dot-lock on with the turn instead of removing
//!   it, for at most [`HANDOVER_CHAIN`] in a row (see [`WriterTurn`]).
//!
//! The `fcntl` locks are Linux open-file-description locks (`F_OFD_SETLK`) on the
//! whole file, including what is appended later. They conflict with the classic POSIX
//! record locks that procmail, Postfix and Exim take, but unlike those they belong to
//! the open file description, not to the process: closing some other descriptor of the
//! same file elsewhere in this process (a classic POSIX-lock pitfall that silently drops
//! every lock the process holds on the file) does not release them. Other systems fall
//! back to classic `F_SETLK`. Guards hold a duplicate (`File::try_clone`) of the
//! caller's descriptor, which shares the open file description, so they own what they
//! need and the caller may drop its `File` first. Two guards on one open file
//! description are one lock owner: do not hold a `ReadLock` and a `WriteLock` on the
//! same description at once, since releasing either releases both.
//!
//! # Dot-locks
//! [`DotLock`] creates `NAME.lock` next to the mailbox the NFS-safe way (as liblockfile
//! and UW's c-client do): write our pid into a uniquely named temporary file in the
//! same directory, `link(2)` it to `NAME.lock`, and count the lock as ours if the
//! temporary file's link count is then 2 — `link` over NFS may report failure for a
//! link that was made, or success for one that was not, but the link count does not
//! lie. The temporary file is removed either way.
//!
//! A dot-lock older than [`LockConfig::stale_after`] (300 s, UW's `LOCKTIMEOUT` of five
//! minutes), or one whose recorded pid no longer exists on this host, is stale and is
//! removed: its owner crashed. The age is measured against the
//! modification time of our own fresh temporary file, i.e. by the file server's clock,
//! so clock skew between an NFS client and server does not break live locks. Breaking a
//! stale lock has the race every dot-lock implementation has (two breakers at once); we
//! narrow it by removing only the inode we judged stale. A holder that keeps a lock
//! longer than that should call [`DotLock::touch`].
//!
//! Where the mailbox directory is not writable by the user — Debian's `/var/mail` is
//! `root:mail 2775` — the lock is taken by the setgid helper `dotlockfile(1)` from
//! liblockfile-bin (`dotlockfile -l -r 0 -p NAME.lock`, retried until the deadline;
//! `dotlockfile -u NAME.lock` releases). It only acts for a mailbox the calling user
//! owns, in a directory writable by group mail, and it judges staleness itself (a lock
//! whose pid is gone, or a pid-less lock older than five minutes). If neither way works
//! the outcome is [`DotLockOutcome::Unavailable`] with the reason: the caller logs it
//! and relies on the kernel locks, as UW imapd did.
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::regular;

/// How long to wait for a lock by default before giving up.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);
/// The age after which a dot-lock is considered abandoned (UW's five minutes).
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(300);
/// Debian's setgid-mail dot-lock helper (package liblockfile-bin).
pub const DEFAULT_DOTLOCK_HELPER: &str = "/usr/bin/dotlockfile";

/// `dotlockfile` exit status when the lock is held by someone else
/// (`L_MAXTRYS` of lockfile_create(3)).
const HELPER_BUSY: i32 = 4;

/// The first and the longest pause between two attempts to take a busy lock. Short:
/// behind the [`WriterTurn`] the holders are readers (at most one read batch, 20 ms)
/// and MTAs (one delivery), and a try is one system call.
const FIRST_PAUSE: Duration = Duration::from_millis(1);
const LONGEST_PAUSE: Duration = Duration::from_millis(50);
/// The helper is a process start per attempt, so it is retried less eagerly.
const HELPER_FIRST_PAUSE: Duration = Duration::from_millis(10);
const HELPER_LONGEST_PAUSE: Duration = Duration::from_millis(500);
/// Attempts repeated at once (a stale lock just removed, a temporary-name collision)
/// before pausing anyway, so that a misbehaving file system cannot make us spin.
const IMMEDIATE_RETRIES: u32 = 16;

/// How locks are taken.
#[derive(Debug, Clone)]
pub struct LockConfig {
    /// Whether to take a dot-lock at all (off only where nothing else uses them).
    pub use_dotlock: bool,
    /// How long to wait for locks others hold before [`LockError::Timeout`].
    pub wait: Duration,
    /// Age after which a dot-lock is broken as abandoned.
    pub stale_after: Duration,
    /// The setgid helper for directories we cannot write; `None` to never run one.
    pub dotlock_helper: Option<PathBuf>,
}

impl Default for LockConfig {
    fn default() -> Self {
        LockConfig {
            use_dotlock: true,
            wait: DEFAULT_WAIT,
            stale_after: DEFAULT_STALE_AFTER,
            dotlock_helper: Some(PathBuf::from(DEFAULT_DOTLOCK_HELPER)),
        }
    }
}

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone else held the lock for longer than [`LockConfig::wait`].
    #[error("{what} on {} is held by another process", path.display())]
    Timeout { path: PathBuf, what: &'static str },
    #[error("I/O error while locking: {0}")]
    Io(#[from] io::Error),
}

/// Shared (readers) or exclusive (writers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    Shared,
    Exclusive,
}

/// A writer's locks, taken in the MTAs' order: dot-lock, then `fcntl` (Linux OFD locks,
/// `F_OFD_SETLK`, whole file, which conflict with the classic POSIX locks procmail,
/// Postfix and Exim take but are not released when another descriptor of this process
/// closes), then `flock`; released in reverse order on drop.
#[derive(Debug)]
pub struct WriteLock {
    // Fields drop in declaration order: this is the release order. The kernel locks
    // are only ever released, never read, hence the underscores.
    _flock: Flock,
    _fcntl: FcntlLock,
    dotlock: Option<DotLock>,
    dotlock_unavailable: Option<String>,
    turn: Option<WriterTurn>,
}

/// How long one dot-lock may pass from writer to writer before it is removed anyway,
/// so that an MTA polling for it finds it free between two writers now and then.
pub const HANDOVER_CHAIN: Duration = Duration::from_millis(250);

impl Drop for WriteLock {
    fn drop(&mut self) {
        // The fields then drop in their order: flock, fcntl, dot-lock (unless it was
        // passed on), turn.
        let (Some(turn), Some(dot)) = (&self.turn, &self.dotlock) else {
            return;
        };
        let Some(since) = turn.chain_since.filter(|_| dot.via_helper()) else {
            return;
        };
        let young = now_ms().saturating_sub(since) < HANDOVER_CHAIN.as_millis() as u64;
        if !young || !turn.others_waiting() {
            return;
        }
        let Ok(meta) = fs::symlink_metadata(&dot.lock_path) else {
            return;
        };
        if turn.record(Some((meta.dev(), meta.ino(), since))).is_ok() {
            if let Some(mut dot) = self.dotlock.take() {
                dot.released = true;
            }
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl WriteLock {
    /// Locks the mailbox `path`, open (for writing) as `file`, waiting up to `cfg.wait`
    /// in all for locks others hold.
    pub fn acquire(path: &Path, file: &File, cfg: &LockConfig) -> Result<WriteLock, LockError> {
        WriteLock::acquire_with(path, file, cfg, None)
    }

    /// Like [`WriteLock::acquire`], after waiting for this writer's turn among
    /// pullmail's writers of the mailbox ([`WriterTurn`], the file `turn`).
    pub fn acquire_in_turn(
        path: &Path,
        file: &File,
        cfg: &LockConfig,
        turn: &Path,
    ) -> Result<WriteLock, LockError> {
        WriteLock::acquire_with(path, file, cfg, Some(turn))
    }

    fn acquire_with(
        path: &Path,
        file: &File,
        cfg: &LockConfig,
        turn: Option<&Path>,
    ) -> Result<WriteLock, LockError> {
        let deadline = Instant::now() + cfg.wait;
        let mut turn = turn
            .map(|t| WriterTurn::acquire_until(t, deadline, path, cfg.dotlock_helper.as_deref()))
            .transpose()?;
        let adopted = turn.as_mut().and_then(|t| t.adopt(path, cfg));
        let (dotlock, dotlock_unavailable) = if let Some(lock) = adopted {
            (Some(lock), None)
        } else if cfg.use_dotlock {
            match DotLock::acquire_until(path, cfg, deadline)? {
                DotLockOutcome::Held(lock) => {
                    if let Some(t) = turn.as_mut() {
                        t.chain_since = Some(now_ms());
                    }
                    (Some(lock), None)
                }
                DotLockOutcome::Unavailable(why) => (None, Some(why)),
            }
        } else {
            (None, None)
        };
        let fcntl = FcntlLock::acquire_until(file, LockKind::Exclusive, deadline, Some(path))?;
        let flock = Flock::acquire_until(file, LockKind::Exclusive, deadline, Some(path))?;
        Ok(WriteLock {
            _flock: flock,
            _fcntl: fcntl,
            dotlock,
            dotlock_unavailable,
            turn,
        })
    }

    /// Whether a dot-lock is part of this lock.
    pub fn dotlock_held(&self) -> bool {
        self.dotlock.is_some()
    }

    /// Why no dot-lock could be taken, if dot-locking was configured but failed: to be
    /// logged by the caller, which then relies on the kernel locks.
    pub fn dotlock_unavailable(&self) -> Option<&str> {
        self.dotlock_unavailable.as_deref()
    }

    /// Refreshes the dot-lock's age during a long write (see [`DotLock::touch`]).
    pub fn touch(&self) -> io::Result<()> {
        match &self.dotlock {
            Some(lock) => lock.touch(),
            None => Ok(()),
        }
    }
}

/// A reader's lock: a shared `fcntl` (OFD) lock only, so deliveries are held up only
/// while we read.
#[derive(Debug)]
pub struct ReadLock {
    _fcntl: FcntlLock,
}

impl ReadLock {
    /// Takes a shared lock on `file` (open for reading), waiting up to `cfg.wait`.
    pub fn acquire(file: &File, cfg: &LockConfig) -> Result<ReadLock, LockError> {
        let deadline = Instant::now() + cfg.wait;
        Ok(ReadLock {
            _fcntl: FcntlLock::acquire_until(file, LockKind::Shared, deadline, None)?,
        })
    }
}

/// A writer's place among pullmail's writers of one mailbox: an exclusive flock on a
/// file of its own (`KEY.writer` in the user's state directory), held around the
/// [`WriteLock`]. Waiting is done by the kernel, which hands the lock over as soon as
/// its holder lets go (or dies): no polling, no sleeping past the moment. Since the
/// file is pullmail's alone, the order "turn, then the MTAs' locks" cannot deadlock
/// with anyone; a writer that takes no turn (another user's session on a shared
/// folder, an older pullmail) still meets the others at the dot-lock and kernel locks.
///
/// # Passing the dot-lock on
/// A writer waiting for the turn holds a shared flock on `KEY.waiting` meanwhile. A
/// writer done with a dot-lock made by the helper that finds that file locked (someone
/// waits) writes `dotlock DEV INO SINCE` into the turn file and leaves the dot-lock in
/// place; the next holder of the turn finds the record, checks that `NAME.lock` is
/// still that file, writes its own pid into it (for the liveness checks of MTAs and
/// liblockfile) and uses it as its own: one helper run less for each. A waiter that
/// gives up has its waiting thread release a lock passed to it. After
/// [`HANDOVER_CHAIN`] the lock is removed even with writers waiting. If the one who
/// would have taken it is killed in between, the lock stays until the next pullmail
/// writer of the mailbox takes it over, or its pid is gone, or it is five minutes old.
#[derive(Debug)]
pub struct WriterTurn {
    file: File,
    waiting: PathBuf,
    /// When the dot-lock this writer holds was first taken (Unix ms), if it came from
    /// the helper: fresh, or passed on to us.
    chain_since: Option<u64>,
}

impl WriterTurn {
    /// Takes the turn, waiting until `deadline`; `mailbox` names it in a timeout. A
    /// dot-lock passed on to a waiter that gave up is released through `helper`.
    pub fn acquire_until(
        turn: &Path,
        deadline: Instant,
        mailbox: &Path,
        helper: Option<&Path>,
    ) -> Result<WriterTurn, LockError> {
        if let Some(dir) = turn.parent() {
            crate::state::create_private_dir(dir)?;
        }
        let open = |path: &Path| {
            crate::regular::open_with(
                path,
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .mode(0o600),
                libc::O_NOFOLLOW,
            )
        };
        let waiting = turn.with_extension("waiting");
        let made = |file| WriterTurn {
            file,
            waiting: waiting.clone(),
            chain_since: None,
        };
        let file = open(turn)?;
        if flock(&file, Some(LockKind::Exclusive))? {
            return Ok(made(file));
        }
        drop(file);
        // Busy: say so to the holder (a shared flock, blocking only while a holder
        // looks), and let a thread wait in the kernel (flock has no timeout) on a
        // descriptor of its own and hand it over. If we stop waiting first, the
        // thread's send fails when it does get the turn; it releases a dot-lock passed
        // on to us, and dropping the file passes the turn on.
        let flag = open(&waiting)?;
        blocking_flock(&flag, libc::LOCK_SH)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = open(turn)?;
        let orphan = (mailbox.to_path_buf(), helper.map(Path::to_path_buf), waiting.clone());
        std::thread::Builder::new()
            .name("writer-turn".into())
            .spawn(move || {
                let got = blocking_flock(&waiter, libc::LOCK_EX).map(|_| waiter);
                if let Err(std::sync::mpsc::SendError(Ok(file))) = tx.send(got) {
                    let (mailbox, helper, waiting) = orphan;
                    let mut t = WriterTurn {
                        file,
                        waiting,
                        chain_since: None,
                    };
                    t.release_passed_on(&mailbox, helper.as_deref());
                }
            })?;
        let timeout = deadline.saturating_duration_since(Instant::now());
        let got = rx.recv_timeout(timeout);
        drop(flag);
        match got {
            Ok(Ok(file)) => Ok(made(file)),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(LockError::Timeout {
                path: mailbox.to_path_buf(),
                what: "writer's turn",
            }),
        }
    }

    /// Whether other writers wait for the turn.
    fn others_waiting(&self) -> bool {
        let Ok(flag) = crate::regular::open_with(
            &self.waiting,
            OpenOptions::new().read(true).write(true),
            libc::O_NOFOLLOW,
        ) else {
            return false;
        };
        // Held shared by a waiter: the exclusive try fails. Dropping `flag` unlocks.
        matches!(flock(&flag, Some(LockKind::Exclusive)), Ok(false))
    }

    /// Writes (or, with `None`, clears) the record of a dot-lock passed on.
    fn record(&self, passed: Option<(u64, u64, u64)>) -> io::Result<()> {
        let text = passed.map_or(String::new(), |(dev, ino, since)| format!("dotlock {dev} {ino} {since}\n"));
        self.file.set_len(0)?;
        self.file.write_all_at(text.as_bytes(), 0)
    }

    /// The dot-lock passed on to us, if one was and it is still there: the record is
    /// cleared either way.
    fn passed_on(&self, mailbox: &Path) -> Option<(PathBuf, u64)> {
        let mut text = [0u8; 128];
        let n = self.file.read_at(&mut text, 0).ok()?;
        if n == 0 {
            return None;
        }
        let _ = self.record(None);
        let text = std::str::from_utf8(&text[..n]).ok()?;
        let mut w = text.split_ascii_whitespace();
        if w.next() != Some("dotlock") {
            return None;
        }
        let mut num = || w.next().and_then(|v| v.parse::<u64>().ok());
        let (dev, ino, since) = (num()?, num()?, num()?);
        let lock_path = dotlock_path(mailbox);
        let meta = fs::symlink_metadata(&lock_path).ok()?;
        (meta.is_file() && meta.dev() == dev && meta.ino() == ino).then_some((lock_path, since))
    }

    /// Takes over a dot-lock passed on to us, if `cfg` would have taken one through
    /// the helper (else releases it).
    fn adopt(&mut self, mailbox: &Path, cfg: &LockConfig) -> Option<DotLock> {
        let (lock_path, since) = self.passed_on(mailbox)?;
        let helper = cfg.dotlock_helper.clone();
        let Some(helper) = helper.filter(|_| cfg.use_dotlock) else {
            self.release_passed_on_at(&lock_path, cfg.dotlock_helper.as_deref());
            return None;
        };
        let before = fs::symlink_metadata(&lock_path).ok()?;
        // Our pid in it, so that liveness checks see a live holder; then make sure it
        // is still the same file (nobody broke it as stale meanwhile).
        let _ = OpenOptions::new()
            .write(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&lock_path)
            .and_then(|mut f| writeln!(f, "{}", std::process::id()));
        let after = fs::symlink_metadata(&lock_path).ok()?;
        if (before.dev(), before.ino()) != (after.dev(), after.ino()) {
            return None;
        }
        self.chain_since = Some(since);
        Some(DotLock {
            lock_path,
            how: DotLockHow::Helper(helper),
            released: false,
        })
    }

    /// Releases a dot-lock passed on to a writer that no longer wants it.
    fn release_passed_on(&mut self, mailbox: &Path, helper: Option<&Path>) {
        if let Some((lock_path, _)) = self.passed_on(mailbox) {
            self.release_passed_on_at(&lock_path, helper);
        }
    }

    fn release_passed_on_at(&self, lock_path: &Path, helper: Option<&Path>) {
        if let Some(helper) = helper {
            let _ = run_helper(helper, "-u", lock_path);
        }
    }
}

/// flock(2) that waits, retried on EINTR.
fn blocking_flock(file: &File, op: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: flock(2) on a descriptor `file` owns for the call.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// A whole-file `fcntl` lock (OFD on Linux), released on drop.
#[derive(Debug)]
pub struct FcntlLock {
    file: File,
}

impl FcntlLock {
    /// Takes the lock, retrying until `cfg.wait` has passed. The file must be open for
    /// writing for [`LockKind::Exclusive`] and for reading for [`LockKind::Shared`].
    pub fn acquire(file: &File, kind: LockKind, cfg: &LockConfig) -> Result<FcntlLock, LockError> {
        FcntlLock::acquire_until(file, kind, Instant::now() + cfg.wait, None)
    }

    fn acquire_until(
        file: &File,
        kind: LockKind,
        deadline: Instant,
        path: Option<&Path>,
    ) -> Result<FcntlLock, LockError> {
        let file = file.try_clone()?;
        let mut backoff = Backoff::new(deadline, FIRST_PAUSE, LONGEST_PAUSE);
        loop {
            if fcntl_lock(&file, Some(kind))? {
                return Ok(FcntlLock { file });
            }
            if !backoff.pause() {
                return Err(LockError::Timeout {
                    path: path.map_or_else(|| path_of(&file), Path::to_path_buf),
                    what: "fcntl lock",
                });
            }
        }
    }
}

impl Drop for FcntlLock {
    fn drop(&mut self) {
        let _ = fcntl_lock(&self.file, None);
    }
}

/// A whole-file `flock` lock, released on drop.
#[derive(Debug)]
pub struct Flock {
    file: File,
}

impl Flock {
    /// Takes the lock, retrying until `cfg.wait` has passed.
    pub fn acquire(file: &File, kind: LockKind, cfg: &LockConfig) -> Result<Flock, LockError> {
        Flock::acquire_until(file, kind, Instant::now() + cfg.wait, None)
    }

    fn acquire_until(
        file: &File,
        kind: LockKind,
        deadline: Instant,
        path: Option<&Path>,
    ) -> Result<Flock, LockError> {
        let file = file.try_clone()?;
        let mut backoff = Backoff::new(deadline, FIRST_PAUSE, LONGEST_PAUSE);
        loop {
            if flock(&file, Some(kind))? {
                return Ok(Flock { file });
            }
            if !backoff.pause() {
                return Err(LockError::Timeout {
                    path: path.map_or_else(|| path_of(&file), Path::to_path_buf),
                    what: "flock",
                });
            }
        }
    }
}

impl Drop for Flock {
    fn drop(&mut self) {
        let _ = flock(&self.file, None);
    }
}

/// A held dot-lock `NAME.lock`; dropping it removes the lock file.
#[derive(Debug)]
pub struct DotLock {
    lock_path: PathBuf,
    how: DotLockHow,
    released: bool,
}

#[derive(Debug)]
enum DotLockHow {
    /// We created the file ourselves; it is ours as long as it is this inode.
    Direct { dev: u64, ino: u64 },
    /// The setgid helper created it and must remove it.
    Helper(PathBuf),
}

/// What [`DotLock::acquire`] achieved.
#[derive(Debug)]
pub enum DotLockOutcome {
    Held(DotLock),
    /// No dot-lock could be taken (directory not writable and no usable helper); the
    /// reason is for the log.
    Unavailable(String),
}

/// The dot-lock file of a mailbox: its path with `.lock` appended.
pub fn dotlock_path(mailbox: &Path) -> PathBuf {
    let mut name = OsString::from(mailbox.as_os_str());
    name.push(".lock");
    PathBuf::from(name)
}

impl DotLock {
    /// Takes the dot-lock of `mailbox`, waiting up to `cfg.wait` for another holder.
    pub fn acquire(mailbox: &Path, cfg: &LockConfig) -> Result<DotLockOutcome, LockError> {
        DotLock::acquire_until(mailbox, cfg, Instant::now() + cfg.wait)
    }

    fn acquire_until(
        mailbox: &Path,
        cfg: &LockConfig,
        deadline: Instant,
    ) -> Result<DotLockOutcome, LockError> {
        let lock_path = dotlock_path(mailbox);
        let timeout = || LockError::Timeout {
            path: lock_path.clone(),
            what: "dot-lock",
        };
        let mut backoff = Backoff::new(deadline, FIRST_PAUSE, LONGEST_PAUSE);
        let mut retries = 0;
        let not_writable = loop {
            match try_link_lock(&lock_path, cfg.stale_after)? {
                Attempt::Held(lock) => return Ok(DotLockOutcome::Held(lock)),
                Attempt::Retry if retries < IMMEDIATE_RETRIES => {
                    retries += 1;
                    continue;
                }
                Attempt::Retry | Attempt::Busy => retries = 0,
                Attempt::NotWritable(e) => break e,
                Attempt::Unsupported(why) => return Ok(DotLockOutcome::Unavailable(why)),
            }
            if !backoff.pause() {
                return Err(timeout());
            }
        };
        let dir = parent_dir(&lock_path).display().to_string();
        let Some(helper) = &cfg.dotlock_helper else {
            return Ok(DotLockOutcome::Unavailable(format!(
                "cannot create a dot-lock in {dir} ({not_writable}) and no helper is configured"
            )));
        };
        let mut backoff = Backoff::new(deadline, HELPER_FIRST_PAUSE, HELPER_LONGEST_PAUSE);
        loop {
            match run_helper(helper, "-l", &lock_path) {
                HelperResult::Done => {
                    return Ok(DotLockOutcome::Held(DotLock {
                        lock_path,
                        how: DotLockHow::Helper(helper.clone()),
                        released: false,
                    }))
                }
                HelperResult::Busy => {}
                HelperResult::Failed(why) => {
                    return Ok(DotLockOutcome::Unavailable(format!(
                        "cannot create a dot-lock in {dir} ({not_writable}), and {}: {why}",
                        helper.display()
                    )))
                }
            }
            if !backoff.pause() {
                return Err(timeout());
            }
        }
    }

    /// The lock file, `NAME.lock`.
    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }

    /// Whether the setgid helper holds the lock for us.
    pub fn via_helper(&self) -> bool {
        matches!(self.how, DotLockHow::Helper(_))
    }

    /// Sets the lock's modification time to now, so that others do not judge a lock held
    /// through a long rewrite stale.
    pub fn touch(&self) -> io::Result<()> {
        match &self.how {
            DotLockHow::Direct { .. } => {
                regular::open_read(&self.lock_path)?.set_modified(SystemTime::now())
            }
            DotLockHow::Helper(helper) => match run_helper(helper, "-t", &self.lock_path) {
                HelperResult::Done => Ok(()),
                HelperResult::Busy => Err(io::Error::other("dotlockfile -t failed")),
                HelperResult::Failed(why) => Err(io::Error::other(why)),
            },
        }
    }

    /// Removes the lock now, reporting failure (dropping does the same, silently).
    pub fn release(mut self) -> io::Result<()> {
        self.released = true;
        self.remove()
    }

    fn remove(&self) -> io::Result<()> {
        match &self.how {
            DotLockHow::Direct { dev, ino } => {
                // Someone who judged our lock stale may have replaced it: leave theirs.
                let meta = match fs::symlink_metadata(&self.lock_path) {
                    Ok(meta) => meta,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                    Err(e) => return Err(e),
                };
                // Inode numbers are reused at once, so the pid inside must match too.
                let ours = meta.dev() == *dev
                    && meta.ino() == *ino
                    && regular::read_limited(&self.lock_path, 64)
                        .is_ok_and(|pid| pid == format!("{}\n", std::process::id()).as_bytes());
                if ours {
                    fs::remove_file(&self.lock_path)?;
                }
                Ok(())
            }
            DotLockHow::Helper(helper) => match run_helper(helper, "-u", &self.lock_path) {
                HelperResult::Done => Ok(()),
                HelperResult::Busy => Err(io::Error::other("dotlockfile -u failed")),
                HelperResult::Failed(why) => Err(io::Error::other(why)),
            },
        }
    }
}

impl Drop for DotLock {
    fn drop(&mut self) {
        if !self.released {
            let _ = self.remove();
        }
    }
}

enum Attempt {
    Held(DotLock),
    /// Someone else holds it.
    Busy,
    /// The state changed under us (a stale lock removed, a name collision): try again now.
    Retry,
    /// We may not create files in the directory: the helper's case.
    NotWritable(io::Error),
    /// The file system cannot do dot-locks (no hard links).
    Unsupported(String),
}

/// One attempt at the link(2) protocol described in the module docs.
fn try_link_lock(lock_path: &Path, stale_after: Duration) -> Result<Attempt, LockError> {
    let tmp = temp_lock_name(lock_path);
    let mut file = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o644)
        .open(&tmp)
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(Attempt::Retry),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::EROFS)
            ) =>
        {
            return Ok(Attempt::NotWritable(e))
        }
        Err(e) => return Err(e.into()),
    };
    let written = writeln!(file, "{}", std::process::id());
    drop(file);
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e.into());
    }
    let linked = fs::hard_link(&tmp, lock_path);
    let tmp_meta = fs::symlink_metadata(&tmp);
    let _ = fs::remove_file(&tmp);
    let tmp_meta = tmp_meta?;
    if tmp_meta.nlink() == 2 {
        return Ok(Attempt::Held(DotLock {
            lock_path: lock_path.to_path_buf(),
            how: DotLockHow::Direct {
                dev: tmp_meta.dev(),
                ino: tmp_meta.ino(),
            },
            released: false,
        }));
    }
    match linked {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EOPNOTSUPP)) => {
            return Ok(Attempt::Unsupported(format!(
                "cannot create dot-lock {}: hard links not supported ({e})",
                lock_path.display()
            )))
        }
        Err(e) => return Err(e.into()),
        Ok(()) => return Ok(Attempt::Retry),
    }
    // Held by someone: break it if it is older than stale_after by the server's clock.
    let held = match fs::symlink_metadata(lock_path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Attempt::Retry),
        Err(e) => return Err(e.into()),
    };
    let now = tmp_meta.modified()?;
    let age = now
        .duration_since(held.modified()?)
        .unwrap_or(Duration::ZERO);
    if age <= stale_after && !holder_is_dead(lock_path) {
        return Ok(Attempt::Busy);
    }
    match fs::symlink_metadata(lock_path) {
        Ok(again) if again.dev() == held.dev() && again.ino() == held.ino() => {
            match fs::remove_file(lock_path) {
                Ok(()) => Ok(Attempt::Retry),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Attempt::Retry),
                Err(e) => Err(e.into()),
            }
        }
        _ => Ok(Attempt::Retry),
    }
}

/// Whether the lock names a process id that no longer exists. A crashed holder (a
/// SIGKILLed session) would otherwise block every writer until the lock went stale;
/// liblockfile's `dotlockfile` applies the same test. Only a lock that holds a plain
/// pid is judged; anything else waits for its age.
fn holder_is_dead(lock_path: &Path) -> bool {
    // A FIFO put in the lock's place must not hang the writer (see `regular`).
    let Ok(text) = regular::read_limited(lock_path, 64) else {
        return false;
    };
    let text = String::from_utf8_lossy(&text[..text.len().min(64)]);
    match text.trim().parse::<libc::pid_t>() {
        // SAFETY: kill with signal 0 only checks whether the process exists.
        Ok(pid) if pid > 0 => unsafe {
            libc::kill(pid, 0) != 0 && *libc::__errno_location() == libc::ESRCH
        },
        _ => false,
    }
}

/// A name for the temporary file, unique across processes and (over NFS) hosts, hidden
/// so that no listing shows it and no mailbox name can denote it.
fn temp_lock_name(lock_path: &Path) -> PathBuf {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let name = format!(".lk{}.{}.{}", std::process::id(), seq, hostname());
    parent_dir(lock_path).join(name)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The host name, restricted to safe file-name characters and 64 octets.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for writes of its full length, which is what we pass.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return "localhost".to_string();
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name: String = buf[..len]
        .iter()
        .map(|&b| b as char)
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .take(64)
        .collect();
    if name.is_empty() {
        "localhost".to_string()
    } else {
        name
    }
}

enum HelperResult {
    Done,
    Busy,
    Failed(String),
}

/// Runs `dotlockfile OP LOCKFILE` (`-l` with one try and our pid inside, `-u`, `-t`).
fn run_helper(helper: &Path, op: &str, lock_path: &Path) -> HelperResult {
    let mut cmd = Command::new(helper);
    cmd.arg(op);
    if op == "-l" {
        // -p writes the pid of its parent — us — so liblockfile users can see we live.
        cmd.args(["-r", "0", "-p"]);
    }
    let output = cmd
        .arg(lock_path)
        .env_remove("MAIL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) => return HelperResult::Failed(format!("cannot run it: {e}")),
    };
    let stderr = String::from_utf8_lossy(&output.stderr[..output.stderr.len().min(512)])
        .trim()
        .to_string();
    match output.status.code() {
        Some(0) => HelperResult::Done,
        Some(HELPER_BUSY) if op == "-l" => HelperResult::Busy,
        Some(code) => HelperResult::Failed(format!(
            "exit status {code} ({}){}{}",
            helper_status_meaning(code),
            if stderr.is_empty() { "" } else { ": " },
            stderr
        )),
        None => HelperResult::Failed(format!("killed by a signal ({})", output.status)),
    }
}

/// The return values of lockfile_create(3), which `dotlockfile -l` exits with.
fn helper_status_meaning(code: i32) -> &'static str {
    match code {
        1 => "lock file name too long",
        2 => {
            "cannot create the temporary lock file: is the mailbox owned by this user, \
              in a directory writable by group mail?"
        }
        3 => "cannot write the pid into the temporary lock file",
        4 => "lock held by another process",
        5 => "error",
        6 => "cannot set a mandatory lock on the temporary file",
        7 => "parent process gone",
        8 => "cannot remove a stale lock file",
        _ => "unknown status",
    }
}

/// Sets (`Some`) or releases (`None`) a whole-file fcntl lock without waiting.
/// Returns whether it was set; `false` means another owner holds a conflicting lock.
fn fcntl_lock(file: &File, kind: Option<LockKind>) -> io::Result<bool> {
    #[cfg(target_os = "linux")]
    const SETLK: libc::c_int = libc::F_OFD_SETLK;
    #[cfg(not(target_os = "linux"))]
    const SETLK: libc::c_int = libc::F_SETLK;

    let l_type = match kind {
        Some(LockKind::Shared) => libc::F_RDLCK,
        Some(LockKind::Exclusive) => libc::F_WRLCK,
        None => libc::F_UNLCK,
    };
    // SAFETY: `flock` is a plain C struct for which all-zero is a valid value; zero
    // start and length mean the whole file, and OFD locks require l_pid to be zero.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = l_type as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    loop {
        // SAFETY: the descriptor is open for the life of `file`, and `fl` is a valid,
        // initialised struct flock that outlives the call.
        let r = unsafe { libc::fcntl(file.as_raw_fd(), SETLK, &mut fl as *mut libc::flock) };
        if r == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN) | Some(libc::EACCES) => return Ok(false),
            _ => return Err(e),
        }
    }
}

/// Sets (`Some`) or releases (`None`) an flock(2) lock without waiting.
fn flock(file: &File, kind: Option<LockKind>) -> io::Result<bool> {
    let op = match kind {
        Some(LockKind::Shared) => libc::LOCK_SH | libc::LOCK_NB,
        Some(LockKind::Exclusive) => libc::LOCK_EX | libc::LOCK_NB,
        None => libc::LOCK_UN,
    };
    loop {
        // SAFETY: flock(2) only reads the descriptor number, valid for the life of `file`.
        let r = unsafe { libc::flock(file.as_raw_fd(), op) };
        if r == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) => return Ok(false),
            _ => return Err(e),
        }
    }
}

/// The path of an open file, for error messages (`/proc/self/fd` on Linux); looked
/// up only when there is an error to report, as the lock calls are on the hot path.
fn path_of(file: &File) -> PathBuf {
    let link = format!("/proc/self/fd/{}", file.as_raw_fd());
    fs::read_link(&link).unwrap_or_else(|_| PathBuf::from(OsString::from_vec(link.into_bytes())))
}

/// Short sleeps, doubling up to a ceiling, until a deadline.
struct Backoff {
    deadline: Instant,
    next: Duration,
    longest: Duration,
}

impl Backoff {
    fn new(deadline: Instant, first: Duration, longest: Duration) -> Backoff {
        Backoff {
            deadline,
            next: first,
            longest,
        }
    }

    /// Sleeps before the next attempt; `false` once the deadline has passed.
    fn pause(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        std::thread::sleep(self.next.min(self.deadline - now));
        self.next = (self.next * 2).min(self.longest);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read};
    use std::process::Child;

    /// A tool from $PATH, or `None` after saying which test skips and why.
    fn tool(name: &str, test: &str) -> Option<PathBuf> {
        let found = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        });
        if found.is_none() {
            testkit::skip(
                test,
                &format!("`{name}` is not installed (see tests/debian-packages.txt)"),
            );
        }
        found
    }

    fn cfg(wait_ms: u64) -> LockConfig {
        LockConfig {
            wait: Duration::from_millis(wait_ms),
            ..LockConfig::default()
        }
    }

    fn kernel_only(wait_ms: u64) -> LockConfig {
        LockConfig {
            use_dotlock: false,
            ..cfg(wait_ms)
        }
    }

    fn mailbox() -> (tempfile::TempDir, PathBuf, File) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("box");
        fs::write(&path, b"From a@b Thu Jan  1 00:00:00 1970\n\nhi\n").unwrap();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        (dir, path, file)
    }

    /// Another process holding a lock until we let it go.
    struct Holder(Child);

    impl Holder {
        /// Starts `cmd`, which must print `locked` once it holds its lock and then
        /// wait for its standard input to close.
        fn start(cmd: &mut Command) -> Holder {
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut line = String::new();
            BufReader::new(child.stdout.as_mut().unwrap())
                .read_line(&mut line)
                .unwrap();
            assert_eq!(line.trim(), "locked", "holder did not take its lock");
            Holder(child)
        }

        fn release(mut self) {
            drop(self.0.stdin.take());
            let mut rest = String::new();
            let _ = self.0.stdout.take().unwrap().read_to_string(&mut rest);
            assert!(self.0.wait().unwrap().success());
        }
    }

    impl Drop for Holder {
        fn drop(&mut self) {
            if let Ok(None) = self.0.try_wait() {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }
    }

    fn flock_holder(flock_tool: &Path, path: &Path) -> Holder {
        Holder::start(Command::new(flock_tool).arg("-x").arg(path).args([
            "sh",
            "-c",
            "echo locked; cat >/dev/null",
        ]))
    }

    const PY_LOCKF: &str = "import fcntl, sys\n\
        f = open(sys.argv[1], 'r+')\n\
        fcntl.lockf(f, fcntl.LOCK_EX if sys.argv[2] == 'ex' else fcntl.LOCK_SH)\n\
        print('locked', flush=True)\n\
        sys.stdin.read()\n";

    /// A process holding a classic POSIX (process-owned) lock, as procmail and Postfix take.
    fn posix_holder(python: &Path, path: &Path, kind: &str) -> Holder {
        Holder::start(
            Command::new(python)
                .args(["-c", PY_LOCKF])
                .arg(path)
                .arg(kind),
        )
    }

    /// Whether another process can take a classic POSIX lock right now.
    fn posix_lock_free(python: &Path, path: &Path, kind: &str) -> bool {
        let script = "import fcntl, sys\n\
            f = open(sys.argv[1], 'r+')\n\
            op = fcntl.LOCK_EX if sys.argv[2] == 'ex' else fcntl.LOCK_SH\n\
            try:\n    fcntl.lockf(f, op | fcntl.LOCK_NB)\nexcept OSError:\n    sys.exit(1)\n";
        let status = Command::new(python)
            .args(["-c", script])
            .arg(path)
            .arg(kind)
            .status()
            .unwrap();
        status.success()
    }

    fn expect_timeout(result: Result<WriteLock, LockError>, expected: &str) {
        match result {
            Err(LockError::Timeout { what, .. }) => assert_eq!(what, expected),
            Err(e) => panic!("expected a {expected} timeout, got {e}"),
            Ok(_) => panic!("expected a {expected} timeout, got the lock"),
        }
    }

    #[test]
    fn write_lock_times_out_while_another_process_holds_flock() {
        let Some(flock_tool) = tool(
            "flock",
            "write_lock_times_out_while_another_process_holds_flock",
        ) else {
            return;
        };
        let (_dir, path, file) = mailbox();
        let holder = flock_holder(&flock_tool, &path);
        let started = Instant::now();
        expect_timeout(WriteLock::acquire(&path, &file, &kernel_only(300)), "flock");
        assert!(started.elapsed() >= Duration::from_millis(300));
        holder.release();
        WriteLock::acquire(&path, &file, &kernel_only(300)).unwrap();
    }

    #[test]
    fn write_lock_waits_until_another_process_releases() {
        let Some(flock_tool) = tool("flock", "write_lock_waits_until_another_process_releases")
        else {
            return;
        };
        let (_dir, path, file) = mailbox();
        let holder = flock_holder(&flock_tool, &path);
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(400));
            holder.release();
        });
        let started = Instant::now();
        let lock = WriteLock::acquire(&path, &file, &kernel_only(10_000)).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(400));
        releaser.join().unwrap();
        drop(lock);
    }

    #[test]
    fn write_lock_conflicts_with_classic_posix_lock_of_another_process() {
        let Some(python) = tool("python3", "write_lock_conflicts_with_classic_posix_lock") else {
            return;
        };
        let (_dir, path, file) = mailbox();
        let holder = posix_holder(&python, &path, "ex");
        expect_timeout(
            WriteLock::acquire(&path, &file, &kernel_only(300)),
            "fcntl lock",
        );
        assert!(
            !path.with_file_name("box.lock").exists(),
            "no dot-lock left behind"
        );
        holder.release();
        let lock = WriteLock::acquire(&path, &file, &kernel_only(300)).unwrap();
        assert!(!posix_lock_free(&python, &path, "ex"));
        assert!(!posix_lock_free(&python, &path, "sh"));
        drop(lock);
        assert!(posix_lock_free(&python, &path, "ex"));
    }

    #[test]
    fn read_lock_shares_with_readers_and_keeps_writers_out() {
        let Some(python) = tool(
            "python3",
            "read_lock_shares_with_readers_and_keeps_writers_out",
        ) else {
            return;
        };
        let (_dir, path, file) = mailbox();
        let reader = posix_holder(&python, &path, "sh");
        let read = ReadLock::acquire(&file, &cfg(300)).unwrap();
        expect_timeout(
            WriteLock::acquire(&path, &file, &kernel_only(200)),
            "fcntl lock",
        );
        reader.release();
        assert!(posix_lock_free(&python, &path, "sh"));
        assert!(!posix_lock_free(&python, &path, "ex"));
        drop(read);
        assert!(posix_lock_free(&python, &path, "ex"));
    }

    #[test]
    fn held_write_lock_excludes_other_processes_and_tools() {
        let (_dir, path, file) = mailbox();
        let lock_file = dotlock_path(&path);
        let lock = WriteLock::acquire(&path, &file, &cfg(1000)).unwrap();
        assert!(lock.dotlock_held());
        assert_eq!(lock.dotlock_unavailable(), None);
        let pid = fs::read_to_string(&lock_file).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());

        let test = "held_write_lock_excludes_other_processes_and_tools";
        let flock_tool = tool("flock", test);
        let python = tool("python3", test);
        let dotlockfile = tool("dotlockfile", test);
        let lockfile = tool("lockfile", test);
        let flock_free = |flock_tool: &Path| {
            Command::new(flock_tool)
                .args(["-n", "-x"])
                .arg(&path)
                .arg("true")
                .status()
                .unwrap()
                .success()
        };
        let dotlockfile_locks = |dotlockfile: &Path| {
            let status = Command::new(dotlockfile)
                .args(["-l", "-r", "0"])
                .arg(&lock_file)
                .stderr(Stdio::null())
                .status()
                .unwrap();
            if status.success() {
                Command::new(dotlockfile)
                    .arg("-u")
                    .arg(&lock_file)
                    .status()
                    .unwrap();
            }
            status.success()
        };
        let lockfile_locks = |lockfile: &Path| {
            let status = Command::new(lockfile)
                .args(["-r", "0"])
                .arg(&lock_file)
                .stderr(Stdio::null())
                .status()
                .unwrap();
            if status.success() {
                fs::remove_file(&lock_file).unwrap();
            }
            status.success()
        };

        if let Some(t) = &flock_tool {
            assert!(!flock_free(t), "flock(1) got the lock we hold");
        }
        if let Some(py) = &python {
            assert!(
                !posix_lock_free(py, &path, "ex"),
                "lockf got the lock we hold"
            );
        }
        if let Some(t) = &dotlockfile {
            assert!(
                !dotlockfile_locks(t),
                "dotlockfile(1) got the dot-lock we hold"
            );
        }
        if let Some(t) = &lockfile {
            assert!(
                !lockfile_locks(t),
                "procmail's lockfile(1) got the dot-lock we hold"
            );
        }
        drop(lock);
        assert!(!lock_file.exists());
        if let Some(t) = &flock_tool {
            assert!(flock_free(t));
        }
        if let Some(py) = &python {
            assert!(posix_lock_free(py, &path, "ex"));
        }
        if let Some(t) = &dotlockfile {
            assert!(dotlockfile_locks(t));
        }
        if let Some(t) = &lockfile {
            assert!(lockfile_locks(t));
        }
    }

    #[test]
    fn dotlock_waits_for_a_lock_taken_by_dotlockfile() {
        let Some(dotlockfile) = tool(
            "dotlockfile",
            "dotlock_waits_for_a_lock_taken_by_dotlockfile",
        ) else {
            return;
        };
        let (_dir, path, _file) = mailbox();
        let lock_file = dotlock_path(&path);
        let status = Command::new(&dotlockfile)
            .args(["-l", "-r", "0"])
            .arg(&lock_file)
            .status()
            .unwrap();
        assert!(status.success());
        match DotLock::acquire(&path, &cfg(300)) {
            Err(LockError::Timeout { what, path: p }) => {
                assert_eq!(what, "dot-lock");
                assert_eq!(p, lock_file);
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        let unlock = Command::new(&dotlockfile)
            .arg("-u")
            .arg(&lock_file)
            .status()
            .unwrap();
        assert!(unlock.success());
        match DotLock::acquire(&path, &cfg(300)).unwrap() {
            DotLockOutcome::Held(lock) => assert!(!lock.via_helper()),
            DotLockOutcome::Unavailable(why) => panic!("unavailable: {why}"),
        }
        assert!(!lock_file.exists());
    }

    #[test]
    fn dotlock_waits_for_a_lock_taken_by_procmail_lockfile() {
        let Some(lockfile) = tool(
            "lockfile",
            "dotlock_waits_for_a_lock_taken_by_procmail_lockfile",
        ) else {
            return;
        };
        let (_dir, path, _file) = mailbox();
        let lock_file = dotlock_path(&path);
        let status = Command::new(&lockfile)
            .args(["-r", "0"])
            .arg(&lock_file)
            .status()
            .unwrap();
        assert!(status.success());
        assert!(matches!(
            DotLock::acquire(&path, &cfg(300)),
            Err(LockError::Timeout { .. })
        ));
        fs::remove_file(&lock_file).unwrap();
        assert!(matches!(
            DotLock::acquire(&path, &cfg(300)),
            Ok(DotLockOutcome::Held(_))
        ));
    }

    #[test]
    fn stale_dotlock_is_broken() {
        let (_dir, path, _file) = mailbox();
        let lock_file = dotlock_path(&path);
        fs::write(&lock_file, b"99999999\n").unwrap();
        let ten_minutes_ago = SystemTime::now() - Duration::from_secs(600);
        File::open(&lock_file)
            .unwrap()
            .set_modified(ten_minutes_ago)
            .unwrap();
        let started = Instant::now();
        let DotLockOutcome::Held(lock) = DotLock::acquire(&path, &cfg(5000)).unwrap() else {
            panic!("stale lock not broken");
        };
        assert!(started.elapsed() < Duration::from_secs(2));
        let pid = fs::read_to_string(lock.lock_path()).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
    }

    #[test]
    fn fresh_dotlock_is_respected_until_stale_after() {
        let (_dir, path, _file) = mailbox();
        let lock_file = dotlock_path(&path);
        fs::write(&lock_file, b"").unwrap();
        let four_minutes_ago = SystemTime::now() - Duration::from_secs(240);
        File::open(&lock_file)
            .unwrap()
            .set_modified(four_minutes_ago)
            .unwrap();
        assert!(matches!(
            DotLock::acquire(&path, &cfg(200)),
            Err(LockError::Timeout { .. })
        ));
        let short = LockConfig {
            stale_after: Duration::from_secs(60),
            ..cfg(200)
        };
        assert!(matches!(
            DotLock::acquire(&path, &short),
            Ok(DotLockOutcome::Held(_))
        ));
    }

    #[test]
    fn dotlock_is_removed_on_drop_and_leaves_no_temporary_files() {
        let (dir, path, _file) = mailbox();
        let lock_file = dotlock_path(&path);
        let DotLockOutcome::Held(lock) = DotLock::acquire(&path, &cfg(200)).unwrap() else {
            panic!("no dot-lock");
        };
        assert_eq!(lock.lock_path(), lock_file);
        assert!(lock_file.exists());
        lock.touch().unwrap();
        drop(lock);
        assert!(!lock_file.exists());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("box")]);
    }

    #[test]
    fn dropping_a_broken_dotlock_leaves_the_new_owners_lock() {
        let (_dir, path, _file) = mailbox();
        let lock_file = dotlock_path(&path);
        let DotLockOutcome::Held(lock) = DotLock::acquire(&path, &cfg(200)).unwrap() else {
            panic!("no dot-lock");
        };
        // Someone judged our lock stale and took it over.
        fs::remove_file(&lock_file).unwrap();
        fs::write(&lock_file, b"1\n").unwrap();
        lock.release().unwrap();
        assert_eq!(fs::read(&lock_file).unwrap(), b"1\n");
    }

    #[test]
    fn write_lock_without_dotlock_creates_no_lock_file() {
        let (_dir, path, file) = mailbox();
        let lock = WriteLock::acquire(&path, &file, &kernel_only(200)).unwrap();
        assert!(!lock.dotlock_held());
        assert_eq!(lock.dotlock_unavailable(), None);
        assert!(!dotlock_path(&path).exists());
    }

    #[test]
    fn kernel_locks_exclude_other_open_files_of_this_process() {
        // OFD locks belong to the open file description, so a second open() in the same
        // process is another owner (classic POSIX locks would not see the conflict).
        let (_dir, path, file) = mailbox();
        let other = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let lock = WriteLock::acquire(&path, &file, &kernel_only(200)).unwrap();
        expect_timeout(
            WriteLock::acquire(&path, &other, &kernel_only(100)),
            "fcntl lock",
        );
        assert!(matches!(
            ReadLock::acquire(&other, &cfg(100)),
            Err(LockError::Timeout {
                what: "fcntl lock",
                ..
            })
        ));
        drop(lock);
        let a = ReadLock::acquire(&file, &cfg(100)).unwrap();
        let b = ReadLock::acquire(&other, &cfg(100)).unwrap();
        drop((a, b));
    }

    #[test]
    fn locks_survive_the_callers_file_and_other_descriptors_closing() {
        let (_dir, path, file) = mailbox();
        let lock = WriteLock::acquire(&path, &file, &kernel_only(200)).unwrap();
        drop(file);
        // A classic POSIX lock would be dropped by this close of an unrelated descriptor.
        drop(File::open(&path).unwrap());
        let other = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        assert!(FcntlLock::acquire(&other, LockKind::Shared, &cfg(100)).is_err());
        assert!(Flock::acquire(&other, LockKind::Shared, &cfg(100)).is_err());
        drop(lock);
        FcntlLock::acquire(&other, LockKind::Exclusive, &cfg(100)).unwrap();
        Flock::acquire(&other, LockKind::Exclusive, &cfg(100)).unwrap();
    }

    #[test]
    fn default_config_matches_uw_and_debian() {
        let c = LockConfig::default();
        assert!(c.use_dotlock);
        assert_eq!(c.wait, Duration::from_secs(30));
        assert_eq!(c.stale_after, Duration::from_secs(300));
        assert_eq!(
            c.dotlock_helper.as_deref(),
            Some(Path::new("/usr/bin/dotlockfile"))
        );
        assert_eq!(
            dotlock_path(Path::new("/var/mail/u")),
            Path::new("/var/mail/u.lock")
        );
    }

    #[test]
    fn a_waiting_writer_gets_its_turn_the_moment_the_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let turn = dir.path().join("state/box.writer");
        let mailbox = Path::new("/var/mail/box");
        let far = || Instant::now() + Duration::from_secs(10);
        let first = WriterTurn::acquire_until(&turn, far(), mailbox, None).unwrap();
        // While it is held, a second writer waits, up to its deadline.
        let t = Instant::now();
        let late = WriterTurn::acquire_until(&turn, t + Duration::from_millis(100), mailbox, None);
        assert!(matches!(late, Err(LockError::Timeout { what: "writer's turn", .. })));
        assert!(t.elapsed() >= Duration::from_millis(100));
        // Let go after 150 ms: the waiter has it within a few ms, not after a pause.
        let waiter = std::thread::spawn(move || {
            let t = Instant::now();
            let turn = WriterTurn::acquire_until(&turn, far(), mailbox, None).unwrap();
            (t.elapsed(), turn)
        });
        std::thread::sleep(Duration::from_millis(150));
        let released = Instant::now();
        drop(first);
        let (waited, _second) = waiter.join().unwrap();
        assert!(waited >= Duration::from_millis(140), "{waited:?}");
        assert!(released.elapsed() < Duration::from_millis(60), "{:?}", released.elapsed());
    }
}
