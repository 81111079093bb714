//! SIGHUP, SIGTERM and SIGINT end the session; SIGPIPE is ignored.
//!
//! The handler only stores the signal number and writes one byte to a self-pipe
//! (both async-signal-safe). The engines see the signal as a value: a blocked read
//! on the [`crate::Transport`] wakes up on the pipe and fails with
//! [`crate::Error::Signal`], and [`pending`] can be polled between commands. That
//! is the hook by which an engine saves its state and says its goodbye (`* BYE`,
//! `-ERR`) before exiting; a broken connection gives [`crate::Error::ConnectionLost`]
//! instead, where state is saved and nothing is said.
//!
//! No call may outlive the signal: some system calls are restarted whatever the
//! handler says (std retries open(2) and others on EINTR, and an open of a FIFO or a
//! read of a hung file system would never return). So the first terminating signal
//! also arms `alarm(2)` for [`GRACE`]: a session that has not exited by then is ended
//! by SIGALRM's default action. That is as safe as SIGKILL, which loses no mail (every
//! mailbox rewrite goes through a journal), and long enough for any ordinary save.

use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::time::Duration;

/// How long a session may take to save and say goodbye after a terminating signal
/// before SIGALRM ends it.
pub const GRACE: Duration = Duration::from_secs(30);

/// A signal that ends the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Hup,
    Term,
    Int,
}

impl Signal {
    fn from_raw(n: i32) -> Option<Signal> {
        match n {
            libc::SIGHUP => Some(Signal::Hup),
            libc::SIGTERM => Some(Signal::Term),
            libc::SIGINT => Some(Signal::Int),
            _ => None,
        }
    }

    /// The conventional name, for logs.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Hup => "SIGHUP",
            Signal::Term => "SIGTERM",
            Signal::Int => "SIGINT",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for Signal {}

static PENDING: AtomicI32 = AtomicI32::new(0);
static PIPE_READ: AtomicI32 = AtomicI32::new(-1);
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
static GRACE_SECS: AtomicU32 = AtomicU32::new(GRACE.as_secs() as u32);

extern "C" fn on_signal(sig: libc::c_int) {
    if PENDING.swap(sig, Ordering::SeqCst) == 0 {
        // SAFETY: alarm(2) is async-signal-safe. Only the first signal arms it, so
        // repeated signals cannot postpone the end.
        unsafe { libc::alarm(GRACE_SECS.load(Ordering::SeqCst)) };
    }
    let fd = PIPE_WRITE.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; the buffer is a live local byte.
        // The pipe is non-blocking, so a full pipe (signal already noted) is fine.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
}

/// Installs the handlers. Call once, early in `main`; calling again is harmless.
pub fn install() -> io::Result<()> {
    if PIPE_READ.load(Ordering::SeqCst) < 0 {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: fds is a valid array of two ints for pipe2 to fill.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return Err(io::Error::last_os_error());
        }
        PIPE_WRITE.store(fds[1], Ordering::SeqCst);
        PIPE_READ.store(fds[0], Ordering::SeqCst);
    }
    for sig in [libc::SIGHUP, libc::SIGTERM, libc::SIGINT] {
        // SAFETY: a zeroed sigaction is valid; we set a handler that only touches
        // atomics and write(2). No SA_RESTART: blocking calls return EINTR.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(sig, &action, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    // SIGALRM must terminate (the grace above): undo an inherited SIG_IGN.
    // SAFETY: restoring a default disposition has no memory-safety preconditions.
    if unsafe { libc::signal(libc::SIGALRM, libc::SIG_DFL) } == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    ignore_sigpipe()
}

/// Changes the grace after a terminating signal (tests; the servers keep [`GRACE`]).
pub fn set_grace(grace: Duration) {
    GRACE_SECS.store(grace.as_secs().clamp(1, u32::MAX as u64) as u32, Ordering::SeqCst);
}

/// Ignores SIGPIPE, so that writing to a closed connection is an EPIPE error
/// rather than a silent death that saves nothing.
pub fn ignore_sigpipe() -> io::Result<()> {
    // SAFETY: setting SIGPIPE to SIG_IGN has no memory-safety preconditions.
    if unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) } == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The terminating signal received so far, if any.
pub fn pending() -> Option<Signal> {
    Signal::from_raw(PENDING.load(Ordering::SeqCst))
}

/// The read end of the self-pipe, for `poll`; `None` until [`install`].
pub(crate) fn wake_fd() -> Option<RawFd> {
    let fd = PIPE_READ.load(Ordering::SeqCst);
    (fd >= 0).then_some(fd)
}
