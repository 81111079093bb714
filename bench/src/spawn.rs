//! Starting a server process: what `posix_spawn` does (a `clone` with `CLONE_VM |
//! CLONE_VFORK`, then exec), plus the identity change `posix_spawn` cannot make.
//!
//! Why not `std::process::Command`: with `uid`/`gid` set it must `fork`, and a fork
//! copies the page tables of the whole bench — measured here, +5.5 ms per start
//! with 50 MiB in the bench — which would land in "start → greeting" although it
//! is the bench's cost, not the server's. (inetd forks too, but inetd is small.)
//! A vfork-style child borrows the bench's memory until its exec, so a start costs
//! the same whatever the bench holds, as `posix_spawn` does for the root start.
//!
//! The child runs on a stack of its own while the parent is suspended, and makes
//! only async-signal-safe system calls (dup2, chdir, setgroups, setgid, setuid,
//! signal, sigprocmask, execve, _exit); everything it reads was built before the
//! clone, and it allocates nothing.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What the child needs, all of it prepared before the clone.
struct ChildArgs {
    program: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    cwd: *const libc::c_char,
    stdin: libc::c_int,
    stdout: libc::c_int,
    stderr: libc::c_int,
    ids: Option<(libc::uid_t, libc::gid_t)>,
    mask: libc::sigset_t,
    /// Written by the child if a step fails, read by the parent after the clone.
    errno: libc::c_int,
    failed_step: &'static str,
}

pub struct Spawned {
    pub pid: libc::pid_t,
    pub stdin: File,
    pub stdout: File,
}

fn cstring(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| io::Error::other("NUL in an argument"))
}

fn pipe() -> io::Result<(libc::c_int, libc::c_int)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // 1 MiB, as the buffers of a loopback TCP connection grow to: with the default
    // 64 KiB, a RETR of everything measured how often two processes on two cores
    // took turns, not the server. Best effort (the limit is fs.pipe-max-size).
    // SAFETY: fcntl on a descriptor just created; failure leaves the default size.
    unsafe {
        libc::fcntl(fds[1], libc::F_SETPIPE_SZ, PIPE_SIZE);
    }
    Ok((fds[0], fds[1]))
}

const PIPE_SIZE: libc::c_int = 1 << 20;

fn close(fd: libc::c_int) {
    // SAFETY: closes a descriptor this module created and nothing else owns.
    unsafe {
        libc::close(fd);
    }
}

/// Starts `program` with `args`, exactly the environment `env`, in `cwd`, stdin
/// and stdout on new pipes, stderr on `stderr`, as `ids` (uid, gid; no
/// supplementary groups) if given. Returns once the exec has happened.
pub fn spawn(
    program: &Path,
    args: &[&OsStr],
    env: &[(String, String)],
    cwd: &Path,
    stderr: &File,
    ids: Option<(u32, u32)>,
) -> io::Result<Spawned> {
    let program_c = cstring(program.as_os_str())?;
    let mut argv_c = vec![program_c.clone()];
    for a in args {
        argv_c.push(cstring(a)?);
    }
    let env_c: Vec<CString> = env
        .iter()
        .map(|(k, v)| cstring(OsStr::new(&format!("{k}={v}"))))
        .collect::<io::Result<_>>()?;
    let argv: Vec<*const libc::c_char> = argv_c
        .iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const libc::c_char> = env_c
        .iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let cwd_c = cstring(cwd.as_os_str())?;
    let (in_read, in_write) = pipe()?;
    let (out_read, out_write) = match pipe() {
        Ok(p) => p,
        Err(e) => {
            close(in_read);
            close(in_write);
            return Err(e);
        }
    };
    // SAFETY: an all-zero sigset_t is a valid value, filled in below.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    let mut args = ChildArgs {
        program: program_c.as_ptr(),
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        cwd: cwd_c.as_ptr(),
        stdin: in_read,
        stdout: out_write,
        stderr: stderr.as_raw_fd(),
        ids,
        // SAFETY: as above.
        mask: unsafe { std::mem::zeroed() },
        errno: 0,
        failed_step: "",
    };
    let mut stack = vec![0u8; 64 * 1024];
    // SAFETY: the stack pointer is one past the end of a live buffer, rounded down
    // to 16 octets as the ABI wants; the buffer outlives the child's use of it
    // (CLONE_VFORK suspends us until the child has exec'd or exited). Signals are
    // blocked across the clone so that no handler runs on the child's stack; the
    // child restores the mask before exec. `args` and everything it points to live
    // on our frame until after clone returns.
    let pid = unsafe {
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut args.mask);
        let top = stack.as_mut_ptr().add(stack.len()) as usize & !15;
        let pid = libc::clone(
            child_main,
            top as *mut libc::c_void,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            &mut args as *mut ChildArgs as *mut libc::c_void,
        );
        let clone_error = io::Error::last_os_error();
        libc::pthread_sigmask(libc::SIG_SETMASK, &args.mask, std::ptr::null_mut());
        if pid < 0 {
            Err(clone_error)
        } else {
            Ok(pid)
        }
    };
    close(in_read);
    close(out_write);
    let pid = match pid {
        Ok(pid) => pid,
        Err(e) => {
            close(in_write);
            close(out_read);
            return Err(e);
        }
    };
    if args.errno != 0 {
        let mut status = 0;
        // SAFETY: reaps the child that just failed; `status` is a live local.
        unsafe {
            libc::waitpid(pid, &mut status, 0);
        }
        close(in_write);
        close(out_read);
        let e = io::Error::from_raw_os_error(args.errno);
        return Err(io::Error::new(
            e.kind(),
            format!("{} in the child: {e}", args.failed_step),
        ));
    }
    // SAFETY: both descriptors are ours alone from here on.
    let (stdin, stdout) = unsafe { (File::from_raw_fd(in_write), File::from_raw_fd(out_read)) };
    drop(stack);
    Ok(Spawned { pid, stdin, stdout })
}

extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the parent's live ChildArgs (the parent is suspended until
    // exec or _exit). Only async-signal-safe calls follow; no allocation.
    unsafe {
        let a = &mut *(arg as *mut ChildArgs);
        let fail = |a: &mut ChildArgs, step: &'static str| -> libc::c_int {
            a.errno = *libc::__errno_location();
            a.failed_step = step;
            libc::_exit(127)
        };
        if libc::dup2(a.stdin, 0) < 0 || libc::dup2(a.stdout, 1) < 0 || libc::dup2(a.stderr, 2) < 0
        {
            return fail(a, "dup2");
        }
        if libc::chdir(a.cwd) < 0 {
            return fail(a, "chdir");
        }
        if let Some((uid, gid)) = a.ids {
            if libc::setgroups(0, std::ptr::null()) < 0 {
                return fail(a, "setgroups");
            }
            if libc::setgid(gid) < 0 {
                return fail(a, "setgid");
            }
            if libc::setuid(uid) < 0 {
                return fail(a, "setuid");
            }
        }
        // The bench ignores SIGPIPE (Rust's default); a server starts with the
        // default disposition, as from inetd.
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::sigprocmask(libc::SIG_SETMASK, &a.mask, std::ptr::null_mut());
        libc::execve(a.program, a.argv, a.envp);
        fail(a, "execve")
    }
}
