//! The servers as real processes over stdin/stdout pipes, the way inetd runs them,
//! and the one measurement the kernel must help with: a server's peak RSS.
//!
//! # Who the server runs as
//! imapd and ipop3d serve the user who started them when that user is not root
//! (IMAP `PREAUTH`; ipop3d accepts USER <that user> with any password). The user
//! comes from the passwd database, and their home holds `~/mail` and
//! `~/.pullmail`, so the bench gives the server a passwd of its own through
//! nss_wrapper (`libnss-wrapper`, as the end-to-end tests do): user [`USER`] with a
//! home in the bench's work directory. Nothing on the system is touched.
//! - Run by a user, the server runs as that user (their uid, the wrapper's home).
//! - Run by root, the server runs as uid/gid [`ROOT_RUN_ID`] with no supplementary
//!   groups: [`spawn`] makes the calls of `setpriv --reuid --regid --clear-groups`
//!   (setgroups(0), setgid, setuid) between its clone and the exec, without a
//!   second exec in front of every server start.
//!
//! # Peak RSS
//! `getrusage` cannot give it: the kernel folds the RSS high-water mark of the
//! address space a child had before its exec (a copy of the bench's own, or the
//! bench's itself under vfork) into the child's `ru_maxrss`. The bench instead
//! attaches to each server with `PTRACE_SEIZE` and `PTRACE_O_TRACEEXIT`; the kernel
//! stops the server in `exit` before it frees its memory, the bench reads `VmHWM`
//! from `/proc/PID/status` — the high-water mark of the server's own address
//! space, after everything it did — and lets it go. Nothing else is traced (no
//! system calls, no signals are expected), so the server runs at full speed. If
//! tracing is refused, the last `VmHWM` read before the final command is used and
//! the figure is marked as a lower bound.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{chown, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::corpus::Format;
use crate::reader::Reader;
use crate::spawn;
use crate::Error;

/// The user the servers serve, in the bench's own passwd.
pub const USER: &str = "pmbench";
/// The uid and gid of the servers when the bench runs as root.
pub const ROOT_RUN_ID: u32 = 58999;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Program {
    Imapd,
    Ipop3d,
}

/// How a server is started.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Start {
    /// As the user, through nss_wrapper: `* PREAUTH`.
    Preauth,
    /// As root with the environment inetd gives (no preload): `* OK`, login
    /// required. Only when the bench itself is root.
    Root,
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn library(name: &str) -> Option<PathBuf> {
    let arch = std::env::consts::ARCH;
    [
        format!("/usr/lib/{arch}-linux-gnu"),
        "/usr/lib64".into(),
        "/usr/lib".into(),
    ]
    .iter()
    .map(|d| Path::new(d).join(name))
    .find(|p| p.exists())
}

/// The user's world: home, spool, configuration, passwd, and the two programs.
pub struct World {
    pub dir: PathBuf,
    pub home: PathBuf,
    pub mail_dir: PathBuf,
    pub state_dir: PathBuf,
    pub inbox: PathBuf,
    config: PathBuf,
    uid: u32,
    gid: u32,
    root: bool,
    env: Vec<(String, String)>,
    imapd: PathBuf,
    ipop3d: PathBuf,
    log: File,
    pub log_path: PathBuf,
    /// The longest a session may take before the watchdog kills the server.
    pub session_limit: Duration,
}

impl World {
    pub fn new(dir: &Path, bin_dir: &Path, session_limit: Duration) -> Result<World, Error> {
        let nss = library("libnss_wrapper.so").ok_or_else(|| {
            Error::new(
                "libnss_wrapper.so not found: the bench gives the server a passwd of its own \
                 through nss_wrapper (apt-get install libnss-wrapper, or `make deps`)",
            )
        })?;
        let root = is_root();
        let (uid, gid) = if root {
            (ROOT_RUN_ID, ROOT_RUN_ID)
        } else {
            // SAFETY: getuid and getgid have no preconditions and cannot fail.
            unsafe { (libc::getuid(), libc::getgid()) }
        };
        if dir.exists() {
            fs::remove_dir_all(dir)?;
        }
        fs::create_dir_all(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
        let home = dir.join("home");
        let spool = dir.join("spool");
        let mail_dir = home.join("mail");
        for d in [&home, &spool, &mail_dir] {
            fs::create_dir(d)?;
            give(d, uid, gid)?;
        }
        let passwd = dir.join("passwd");
        fs::write(
            &passwd,
            format!(
                "{USER}:x:{uid}:{gid}:pullmail bench:{}:/bin/sh\n",
                home.display()
            ),
        )?;
        let group = dir.join("group");
        fs::write(&group, format!("{USER}:x:{gid}:\n"))?;
        let log_path = dir.join("servers.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)?;
        let inbox = spool.join(USER);
        let env = vec![
            ("PATH".to_string(), "/usr/bin:/bin".to_string()),
            ("MAIL".to_string(), inbox.display().to_string()),
            ("LD_PRELOAD".to_string(), nss.display().to_string()),
            (
                "NSS_WRAPPER_PASSWD".to_string(),
                passwd.display().to_string(),
            ),
            ("NSS_WRAPPER_GROUP".to_string(), group.display().to_string()),
            ("HOME".to_string(), home.display().to_string()),
            ("USER".to_string(), USER.to_string()),
            ("LOGNAME".to_string(), USER.to_string()),
        ];
        // The servers run from copies: target/release is shared with other builds,
        // and a rebuild during a long run must not change what is measured.
        let bin = dir.join("bin");
        fs::create_dir(&bin)?;
        for name in ["imapd", "ipop3d"] {
            let from = bin_dir.join(name);
            if !from.is_file() {
                return Err(Error::new(format!(
                    "{} is missing (cargo build --release -p imapd -p ipop3d)",
                    from.display()
                )));
            }
            fs::copy(&from, bin.join(name))?;
        }
        let world = World {
            dir: dir.to_path_buf(),
            state_dir: home.join(".pullmail"),
            inbox,
            config: dir.join("pullmail.conf"),
            home,
            mail_dir,
            uid,
            gid,
            root,
            env,
            imapd: bin.join("imapd"),
            ipop3d: bin.join("ipop3d"),
            log,
            log_path,
            session_limit,
        };
        world.configure(Format::Mbox)?;
        Ok(world)
    }

    pub fn is_root(&self) -> bool {
        self.root
    }

    /// Who the servers run as, for the report.
    pub fn runs_as(&self) -> String {
        if self.root {
            format!("uid/gid {ROOT_RUN_ID}, no supplementary groups (the bench ran as root)")
        } else {
            format!("the invoking user (uid {})", self.uid)
        }
    }

    /// Writes pullmail.conf: the spool in the work directory, no dot-lock helper
    /// (the spool is the user's own), new mailboxes in `format`.
    pub fn configure(&self, format: Format) -> Result<(), Error> {
        fs::write(
            &self.config,
            format!(
                "spool_directory = {}\ndotlock_helper =\nnew_mailbox_format = {}\n\
                 server_name = bench.invalid\n",
                self.inbox.parent().unwrap_or(Path::new("/")).display(),
                format.name()
            ),
        )?;
        Ok(())
    }

    /// Makes `path` the user's, as the MTA and the server leave files.
    pub fn give(&self, path: &Path) -> io::Result<()> {
        give(path, self.uid, self.gid)
    }

    /// Creates `path` as an empty mailbox of the user's.
    pub fn empty_mailbox(&self, path: &Path) -> io::Result<()> {
        let _ = fs::remove_file(path);
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        self.give(path)
    }

    /// Removes the user's mailbox indexes (`~/.pullmail/*.index`), so that the next
    /// open reads every message as a first open does.
    pub fn remove_indexes(&self) -> io::Result<()> {
        let Ok(dir) = fs::read_dir(&self.state_dir) else {
            return Ok(());
        };
        for entry in dir.flatten() {
            if entry.path().extension().is_some_and(|e| e == "index") {
                fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }

    /// Starts a server with its stdin and stdout on pipes. The caller's clock
    /// should start before this call: fork and exec are part of "process start".
    pub fn spawn(&self, program: Program, start: Start) -> Result<Process, Error> {
        let path = match program {
            Program::Imapd => &self.imapd,
            Program::Ipop3d => &self.ipop3d,
        };
        let args = [OsStr::new("-c"), self.config.as_os_str()];
        let root_env = [(
            "PATH".to_string(),
            "/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        )];
        let (env, ids): (&[(String, String)], _) = match start {
            Start::Preauth => (&self.env, self.root.then_some((self.uid, self.gid))),
            Start::Root => {
                if !self.root {
                    return Err(Error::new("a root start needs the bench to run as root"));
                }
                (&root_env, None)
            }
        };
        let child = spawn::spawn(path, &args, env, &self.home, &self.log, ids)
            .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
        let traced = seize_for_exit(child.pid);
        watch(Some((child.pid, Instant::now() + self.session_limit)));
        Ok(Process {
            pid: child.pid,
            input: Some(child.stdin),
            output: Reader::new(child.stdout),
            traced,
            hwm_kib: 0,
            finished: false,
        })
    }
}

/// Where a run's session (the servers' home, spool and programs) is made.
///
/// Run by root, the servers run as [`ROOT_RUN_ID`], which must be able to
/// traverse every directory above its home and its programs. A checkout under a
/// private directory (`/root/...`, a `mktemp -d` directory, a home with mode 0700)
/// does not allow that, and the bench does not loosen anyone's permissions: the
/// session then goes into a fresh directory of its own under `/var/tmp` (disk,
/// like the checkout usually is, not a tmpfs), which the bench removes at the
/// end. The second value is that directory, to remove.
pub fn session_dir(work: &Path) -> Result<(PathBuf, Option<PathBuf>), Error> {
    let name = format!("session-{}", std::process::id());
    if !is_root() || reachable_by_others(work) {
        return Ok((work.join(name), None));
    }
    let private = make_temp_dir(Path::new("/var/tmp"), "pullmail-bench.")?;
    // mkdtemp makes it 0700; the servers' uid must pass through it.
    fs::set_permissions(&private, fs::Permissions::from_mode(0o755))?;
    Ok((private.join(name), Some(private)))
}

/// Whether a user other than the owner (and not in its group) can reach `path`:
/// every directory from `/` to it has the others' search bit.
fn reachable_by_others(path: &Path) -> bool {
    let Ok(path) = fs::canonicalize(path) else {
        return false;
    };
    path.ancestors()
        .all(|dir| fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}

/// mkdtemp(3): a new directory, mode 0700, that no one else could have made first.
fn make_temp_dir(parent: &Path, prefix: &str) -> Result<PathBuf, Error> {
    use std::os::unix::ffi::OsStringExt;
    let mut template = parent
        .join(format!("{prefix}XXXXXX"))
        .into_os_string()
        .into_vec();
    template.push(0);
    // SAFETY: `template` is a writable, NUL-terminated buffer that outlives the
    // call; mkdtemp only rewrites the six X's in place.
    let made = unsafe { libc::mkdtemp(template.as_mut_ptr().cast()) };
    if made.is_null() {
        return Err(Error::new(format!(
            "mkdtemp in {}: {}",
            parent.display(),
            io::Error::last_os_error()
        )));
    }
    template.pop();
    Ok(PathBuf::from(std::ffi::OsString::from_vec(template)))
}

fn give(path: &Path, uid: u32, gid: u32) -> io::Result<()> {
    if is_root() {
        chown(path, Some(uid), Some(gid))?;
    }
    Ok(())
}

/// A running server.
pub struct Process {
    pub pid: libc::pid_t,
    input: Option<File>,
    pub output: Reader<File>,
    traced: bool,
    hwm_kib: u64,
    finished: bool,
}

/// How a server ended.
pub struct Exit {
    /// Peak RSS of the server process, KiB.
    pub hwm_kib: u64,
    /// False when tracing was refused and `hwm_kib` is the last value seen.
    pub exact: bool,
}

impl Process {
    pub fn input(&mut self) -> &mut File {
        self.input.as_mut().expect("input is open until finish")
    }

    /// The server's input and output at once (a writer thread and a reader).
    pub fn pipes(&mut self) -> (&mut File, &mut Reader<File>) {
        (
            self.input.as_mut().expect("input is open until finish"),
            &mut self.output,
        )
    }

    pub fn send(&mut self, octets: &[u8]) -> io::Result<()> {
        self.input().write_all(octets)
    }

    /// Remembers the peak RSS so far, for when the exit cannot be watched.
    pub fn sample_hwm(&mut self) {
        if !self.traced {
            self.hwm_kib = self.hwm_kib.max(vm_hwm(self.pid).unwrap_or(0));
        }
    }

    /// Closes the server's input and waits for it to exit (after LOGOUT or QUIT);
    /// an exit status other than 0 is an error.
    pub fn finish(mut self) -> Result<Exit, Error> {
        self.finished = true;
        drop(self.input.take());
        let (status, hwm) = if self.traced {
            wait_traced(self.pid)?
        } else {
            self.sample_hwm();
            (wait_plain(self.pid)?, None)
        };
        watch(None);
        if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            return Err(Error::new(format!(
                "server pid {} ended with wait status {status:#x}",
                self.pid
            )));
        }
        Ok(Exit {
            hwm_kib: hwm.unwrap_or(self.hwm_kib),
            exact: hwm.is_some(),
        })
    }
}

impl Drop for Process {
    /// A session that failed half-way: the server is killed and reaped, so that
    /// nothing is left running and the next session finds its mailbox unlocked.
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        drop(self.input.take());
        // SAFETY: kill and waitpid on our own child; `status` is a live local.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
        }
        let _ = if self.traced {
            wait_traced(self.pid).map(|_| ())
        } else {
            wait_plain(self.pid).map(|_| ())
        };
        watch(None);
    }
}

/// `VmHWM` of a live process, KiB.
pub fn vm_hwm(pid: libc::pid_t) -> Option<u64> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn seize_for_exit(pid: libc::pid_t) -> bool {
    // SAFETY: PTRACE_SEIZE of our own child with an options word; no memory is
    // passed. On failure nothing changed and the caller falls back to sampling.
    let r = unsafe {
        libc::ptrace(
            libc::PTRACE_SEIZE,
            pid,
            std::ptr::null_mut::<libc::c_void>(),
            libc::PTRACE_O_TRACEEXIT as usize as *mut libc::c_void,
        )
    };
    r == 0
}

fn waitpid(pid: libc::pid_t) -> io::Result<i32> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes only to `status`, a live local.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if r >= 0 {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn wait_plain(pid: libc::pid_t) -> io::Result<i32> {
    waitpid(pid)
}

/// Waits for a traced server to exit; returns its wait status and the `VmHWM`
/// read while it was stopped in exit.
fn wait_traced(pid: libc::pid_t) -> io::Result<(i32, Option<u64>)> {
    let mut hwm = None;
    loop {
        let status = waitpid(pid)?;
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            return Ok((status, hwm));
        }
        if !libc::WIFSTOPPED(status) {
            continue;
        }
        let event = (status >> 16) & 0xff;
        let signal = if event == libc::PTRACE_EVENT_EXIT {
            hwm = vm_hwm(pid);
            watch(None);
            0
        } else if event != 0 {
            0
        } else {
            libc::WSTOPSIG(status)
        };
        // SAFETY: resumes our stopped tracee, passing on the signal that stopped it
        // (0 for ptrace's own event stops); no memory is passed.
        unsafe {
            libc::ptrace(
                libc::PTRACE_CONT,
                pid,
                std::ptr::null_mut::<libc::c_void>(),
                signal as usize as *mut libc::c_void,
            );
        }
    }
}

// ---------------------------------------------------------------------------------
// The watchdog: a server that hangs is killed after its session limit, so that the
// bench (and `make test`) fails instead of waiting for ever.

static WATCHED: Mutex<Option<(libc::pid_t, Instant)>> = Mutex::new(None);

fn watch(what: Option<(libc::pid_t, Instant)>) {
    if let Ok(mut w) = WATCHED.lock() {
        *w = what;
    }
}

pub fn start_watchdog() {
    std::thread::spawn(|| loop {
        std::thread::sleep(Duration::from_millis(250));
        let Ok(mut w) = WATCHED.lock() else { return };
        if let Some((pid, deadline)) = *w {
            if Instant::now() > deadline {
                eprintln!("bench: server pid {pid} exceeded its session limit; killing it");
                // SAFETY: kill of a child we started and have not reaped (the entry
                // is cleared before it is reaped).
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
                *w = None;
            }
        }
    });
}
