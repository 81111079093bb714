//! Becoming the user for good: initgroups, setgid, setuid, then proof that root
//! cannot be regained, then the home directory and the login environment.

use std::io;
use std::path::Path;

use crate::account::Account;
use crate::error::Error;

/// The process's ids and supplementary groups, as the kernel reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub uid: libc::uid_t,
    pub euid: libc::uid_t,
    pub saved_uid: libc::uid_t,
    pub gid: libc::gid_t,
    pub egid: libc::gid_t,
    pub saved_gid: libc::gid_t,
    pub groups: Vec<libc::gid_t>,
}

impl Identity {
    /// Reads getresuid, getresgid and getgroups.
    pub fn current() -> io::Result<Identity> {
        let (mut uid, mut euid, mut suid) = (0, 0, 0);
        let (mut gid, mut egid, mut sgid) = (0, 0, 0);
        // SAFETY: all six out-pointers are valid locals.
        unsafe {
            if libc::getresuid(&mut uid, &mut euid, &mut suid) != 0
                || libc::getresgid(&mut gid, &mut egid, &mut sgid) != 0
            {
                return Err(io::Error::last_os_error());
            }
        }
        // SAFETY: with size 0, getgroups only returns the count.
        let count = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
        if count < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut groups = vec![0 as libc::gid_t; count as usize];
        // SAFETY: groups has room for `count` entries.
        let got = unsafe { libc::getgroups(count, groups.as_mut_ptr()) };
        if got < 0 {
            return Err(io::Error::last_os_error());
        }
        groups.truncate(got as usize);
        Ok(Identity {
            uid,
            euid,
            saved_uid: suid,
            gid,
            egid,
            saved_gid: sgid,
            groups,
        })
    }
}

/// Sets the supplementary groups from the group database (initgroups). Must run as
/// root, before `pam_setcred` (which may add groups) and [`drop_privileges`].
pub fn init_groups(account: &Account) -> Result<(), Error> {
    let name = std::ffi::CString::new(account.name.as_str())
        .map_err(|_| Error::PrivilegeDrop("user name contains NUL".into()))?;
    // SAFETY: name is a valid C string.
    if unsafe { libc::initgroups(name.as_ptr(), account.gid) } != 0 {
        return Err(os_error("initgroups"));
    }
    Ok(())
}

/// Irreversibly becomes `account`: setgid and setuid (real, effective and saved),
/// checks that the ids took and that setuid(0)/setgid(0) now fail, changes to
/// the home directory and sets HOME, USER, LOGNAME and MAIL (`mail` is the INBOX
/// path). Supplementary groups must already be set ([`init_groups`]).
///
/// Changes the process environment: call while the process has one thread, as
/// every pullmail server is.
pub fn drop_privileges(account: &Account, mail: &Path) -> Result<(), Error> {
    // SAFETY: plain id-changing syscalls without memory arguments. setgid and
    // setuid as root set real, effective and saved ids together.
    unsafe {
        if libc::setgid(account.gid) != 0 {
            return Err(os_error("setgid"));
        }
        if libc::setuid(account.uid) != 0 {
            return Err(os_error("setuid"));
        }
    }
    let id = Identity::current().map_err(|e| Error::PrivilegeDrop(e.to_string()))?;
    let uids = [id.uid, id.euid, id.saved_uid];
    let gids = [id.gid, id.egid, id.saved_gid];
    if uids.iter().any(|&u| u != account.uid) || gids.iter().any(|&g| g != account.gid) {
        return Err(Error::PrivilegeDrop(format!("ids did not change: {id:?}")));
    }
    if account.uid != 0 && can_regain_root() {
        return Err(Error::PrivilegeDrop(
            "root could be regained after setuid".into(),
        ));
    }
    // SAFETY: as above; success here would mean the group drop is not final.
    if account.uid != 0 && account.gid != 0 && unsafe { libc::setgid(0) } == 0 {
        return Err(Error::PrivilegeDrop(
            "gid 0 could be regained after setuid".into(),
        ));
    }
    std::env::set_current_dir(&account.home)
        .map_err(|e| Error::PrivilegeDrop(format!("chdir {}: {e}", account.home.display())))?;
    set_login_environment(account, mail);
    Ok(())
}

/// Sets HOME, USER, LOGNAME and MAIL for the session (also used without a login,
/// when a user runs a server from a shell).
pub fn set_login_environment(account: &Account, mail: &Path) {
    std::env::set_var("HOME", &account.home);
    std::env::set_var("USER", &account.name);
    std::env::set_var("LOGNAME", &account.name);
    std::env::set_var("MAIL", mail);
}

/// True if this process can still become root: the check that the drop is final.
pub fn can_regain_root() -> bool {
    // SAFETY: id-changing syscalls without memory arguments; if one succeeds we
    // report it and the caller aborts the session.
    unsafe { libc::setuid(0) == 0 || libc::seteuid(0) == 0 }
}

fn os_error(call: &str) -> Error {
    Error::PrivilegeDrop(format!("{call}: {}", io::Error::last_os_error()))
}
