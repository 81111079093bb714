//! The user's disk quota on a filesystem, as the kernel keeps it (quotactl(2)),
//! for IMAP QUOTA (RFC 9208) and for refusing a write that cannot fit.
//!
//! Asked as the user, after the privilege drop: Linux lets anyone read the
//! quota of their own uid (Q_GETQUOTA) and the quota state of a filesystem
//! (Q_XGETQSTAT); nothing here needs root. A filesystem without user quotas
//! enforced, or a user without limits on it, has no quota ([`Ok(None)`]).
//!
//! quotactl_fd(2) (Linux 5.14) names the filesystem by any open file on it;
//! older kernels get quotactl(2) with the block device, found in
//! /proc/self/mountinfo.

use std::ffi::CString;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// One user's quota on one filesystem. Blocks are counted in KiB (the
/// kernel's quota block, QIF_DQBLKSIZE), space in octets; a limit of 0 is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// The filesystem (st_dev of a file on it).
    pub device: u64,
    /// Octets the user's files take on it.
    pub space: u64,
    /// Hard limit in KiB: no write goes past it.
    pub hard_kib: u64,
    /// Soft limit in KiB: past it, writes go on until the grace time ends.
    pub soft_kib: u64,
    /// When the grace time past the soft limit ends (seconds since the epoch);
    /// 0 while the user is under the soft limit.
    pub grace_ends: u64,
    /// Files (inodes) the user has on it, and the limits on their number.
    pub files: u64,
    pub files_hard: u64,
    pub files_soft: u64,
}

impl Quota {
    /// The space used, in KiB, rounded up.
    pub fn used_kib(&self) -> u64 {
        self.space.div_ceil(1024)
    }

    /// The limit to show a user, in KiB: the hard limit, where writes stop;
    /// without one the soft limit, where they stop once the grace time is over.
    pub fn limit_kib(&self) -> Option<u64> {
        match (self.hard_kib, self.soft_kib) {
            (0, 0) => None,
            (0, soft) => Some(soft),
            (hard, _) => Some(hard),
        }
    }

    /// Whether writing `octets` more would be refused by the kernel, `now` in
    /// seconds since the epoch: past the hard limit, or past the soft limit
    /// once its grace time is over (the kernel's own rule for block quotas).
    pub fn refuses(&self, octets: u64, now: u64) -> bool {
        let after = self.space.saturating_add(octets);
        let over = |kib: u64| kib != 0 && after > kib.saturating_mul(1024);
        over(self.hard_kib)
            || (over(self.soft_kib) && self.grace_ends != 0 && now >= self.grace_ends)
    }
}

/// Linux's `struct fs_qfilestat` (include/uapi/linux/dqblk_xfs.h).
#[repr(C)]
#[derive(Default)]
struct FsQfilestat {
    ino: u64,
    nblks: u64,
    nextents: u32,
}

/// Linux's `struct fs_quota_stat`, the answer to Q_XGETQSTAT.
#[repr(C)]
#[derive(Default)]
struct FsQuotaStat {
    version: i8,
    flags: u16,
    pad: i8,
    uquota: FsQfilestat,
    gquota: FsQfilestat,
    incoredqs: u32,
    btimelimit: i32,
    itimelimit: i32,
    rtbtimelimit: i32,
    bwarnlimit: u16,
    iwarnlimit: u16,
}

/// Q_XGETQSTAT, XQM_CMD(5): quota state of a filesystem, allowed to anyone.
const Q_XGETQSTAT: libc::c_int = (b'X' as libc::c_int) << 8 | 5;
/// fs_quota_stat flag: user quota limits are enforced.
const FS_QUOTA_UDQ_ENFD: u16 = 1 << 1;
/// QIF_LIMITS | QIF_SPACE | QIF_INODES | QIF_BTIME: what must be valid.
const QIF_NEEDED: u32 = 1 | 2 | 4 | 8 | 16 | 32;

/// How a quotactl command reaches a filesystem.
enum Target {
    Fd(std::fs::File),
    Device(CString),
}

impl Target {
    /// # Safety
    /// `addr` must point to the structure `cmd` writes, valid and large enough.
    unsafe fn call(&self, cmd: libc::c_int, id: u32, addr: *mut libc::c_char) -> io::Result<()> {
        let r = match self {
            // SAFETY: a raw syscall with an open descriptor; `addr` per the caller.
            Target::Fd(f) => unsafe {
                libc::syscall(
                    libc::SYS_quotactl_fd,
                    f.as_raw_fd(),
                    cmd,
                    id as libc::c_int,
                    addr,
                ) as libc::c_int
            },
            // SAFETY: a NUL-terminated device path; `addr` per the caller.
            Target::Device(dev) => unsafe {
                libc::quotactl(cmd, dev.as_ptr(), id as libc::c_int, addr)
            },
        };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
}

/// The quota of user `uid` on the filesystem holding `path` (a file or
/// directory that exists); `Ok(None)` when user quotas are not enforced there
/// or the user has no limit on it.
pub fn user_quota(path: &Path, uid: u32) -> io::Result<Option<Quota>> {
    let meta = std::fs::metadata(path)?;
    // O_PATH: names the file without opening it for reading, so a FIFO under a
    // mailbox name cannot block here, and any file the user can reach will do.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH)
        .open(path)?;
    let mut target = Target::Fd(file);
    let mut stat = FsQuotaStat::default();
    let cmd = libc::QCMD(Q_XGETQSTAT, libc::USRQUOTA);
    // SAFETY: `stat` is a live fs_quota_stat, the structure Q_XGETQSTAT fills.
    let mut r = unsafe { target.call(cmd, 0, (&mut stat as *mut FsQuotaStat).cast()) };
    if r.as_ref().err().and_then(io::Error::raw_os_error) == Some(libc::ENOSYS) {
        // No quotactl_fd (before Linux 5.14): name the block device instead.
        let Some(dev) = device_of(meta.dev())? else {
            return Ok(None);
        };
        target =
            Target::Device(CString::new(dev.as_os_str().as_bytes()).map_err(io::Error::other)?);
        // SAFETY: as above.
        r = unsafe { target.call(cmd, 0, (&mut stat as *mut FsQuotaStat).cast()) };
    }
    match r {
        Ok(()) => {}
        // No quota support on this filesystem, or quotas off: no quota.
        Err(e) if no_quota(&e) => return Ok(None),
        Err(e) => return Err(e),
    }
    if stat.flags & FS_QUOTA_UDQ_ENFD == 0 {
        return Ok(None);
    }
    // SAFETY: an all-zero dqblk is a valid value of this plain C struct.
    let mut dq: libc::dqblk = unsafe { std::mem::zeroed() };
    let cmd = libc::QCMD(libc::Q_GETQUOTA, libc::USRQUOTA);
    // SAFETY: `dq` is a live dqblk, the structure Q_GETQUOTA fills.
    match unsafe { target.call(cmd, uid, (&mut dq as *mut libc::dqblk).cast()) } {
        Ok(()) => {}
        Err(e) if no_quota(&e) => return Ok(None),
        Err(e) => return Err(e),
    }
    if dq.dqb_valid & QIF_NEEDED != QIF_NEEDED {
        return Ok(None);
    }
    let quota = Quota {
        device: meta.dev(),
        space: dq.dqb_curspace,
        hard_kib: dq.dqb_bhardlimit,
        soft_kib: dq.dqb_bsoftlimit,
        grace_ends: dq.dqb_btime,
        files: dq.dqb_curinodes,
        files_hard: dq.dqb_ihardlimit,
        files_soft: dq.dqb_isoftlimit,
    };
    Ok(quota.limit_kib().map(|_| quota))
}

/// The quota of the user this process runs as (after the privilege drop, the
/// logged-in user) on the filesystem holding `path`.
pub fn own_quota(path: &Path) -> io::Result<Option<Quota>> {
    // SAFETY: getuid has no preconditions.
    user_quota(path, unsafe { libc::getuid() })
}

/// The errors that mean "no quota here" rather than a failure.
fn no_quota(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::ESRCH
                | libc::ENOSYS
                | libc::ENOTTY
                | libc::EINVAL
                | libc::EOPNOTSUPP
                | libc::ENODEV
                | libc::ENOENT
        )
    )
}

/// The block device mounted with device number `dev` (/proc/self/mountinfo:
/// `ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS... - FSTYPE SOURCE SUPER`).
fn device_of(dev: u64) -> io::Result<Option<PathBuf>> {
    let want = format!("{}:{}", libc::major(dev), libc::minor(dev));
    let info = std::fs::read_to_string("/proc/self/mountinfo")?;
    for line in info.lines() {
        let mut fields = line.split(' ');
        if fields.nth(2) != Some(want.as_str()) {
            continue;
        }
        let mut rest = line.split(" - ").nth(1).unwrap_or("").split(' ');
        if let Some(source) = rest.nth(1).filter(|s| s.starts_with('/')) {
            return Ok(Some(PathBuf::from(source)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(space: u64, soft: u64, hard: u64, grace_ends: u64) -> Quota {
        Quota {
            device: 1,
            space,
            hard_kib: hard,
            soft_kib: soft,
            grace_ends,
            files: 0,
            files_hard: 0,
            files_soft: 0,
        }
    }

    #[test]
    fn the_limit_shown_is_where_writes_stop() {
        assert_eq!(quota(0, 100, 200, 0).limit_kib(), Some(200));
        assert_eq!(quota(0, 100, 0, 0).limit_kib(), Some(100));
        assert_eq!(quota(0, 0, 0, 0).limit_kib(), None);
        assert_eq!(quota(1025, 0, 10, 0).used_kib(), 2);
    }

    #[test]
    fn refusals_follow_the_kernel_rule() {
        let q = quota(90 * 1024, 100, 200, 0);
        assert!(!q.refuses(10 * 1024, 1000), "up to the soft limit");
        assert!(!q.refuses(50 * 1024, 1000), "past soft, grace not started");
        assert!(q.refuses(111 * 1024, 1000), "past hard");
        let q = quota(150 * 1024, 100, 200, 2000);
        assert!(!q.refuses(1024, 1999), "within the grace time");
        assert!(q.refuses(1024, 2000), "grace time over");
        assert!(!quota(1 << 40, 0, 0, 0).refuses(1 << 40, 0), "no limits");
    }

    #[test]
    fn a_fifo_is_named_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f");
        let c = CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        // Returns (opening it for reading would wait for a writer for ever).
        assert_eq!(user_quota(&fifo, uid).unwrap(), None);
    }

    #[test]
    fn a_filesystem_without_quotas_has_none() {
        // The test's temporary directory: tmpfs or a disk without user quotas
        // enforced (the root test in bin/imapd/tests/quota.rs has them on).
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        assert_eq!(user_quota(dir.path(), uid).unwrap(), None);
    }
}
