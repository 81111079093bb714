//! The passwd entry of a user: what privilege drop and the mailbox paths need.

use std::ffi::{CStr, CString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// A user from the passwd database (getpwnam_r / getpwuid_r, so NSS works too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
    pub home: PathBuf,
}

/// getpwnam_r's buffer starts at this size and doubles up to the cap.
const MAX_BUFFER: usize = 1 << 20;

impl Account {
    /// Looks a user up by name; `Ok(None)` if there is no such user.
    pub fn by_name(name: &str) -> io::Result<Option<Account>> {
        let Ok(cname) = CString::new(name) else {
            return Ok(None);
        };
        lookup(|pwd, buf, len, result| {
            // SAFETY: all pointers are valid for the call; see `lookup`.
            unsafe { libc::getpwnam_r(cname.as_ptr(), pwd, buf, len, result) }
        })
    }

    /// Looks a user up by uid.
    pub fn by_uid(uid: libc::uid_t) -> io::Result<Option<Account>> {
        lookup(|pwd, buf, len, result| {
            // SAFETY: all pointers are valid for the call; see `lookup`.
            unsafe { libc::getpwuid_r(uid, pwd, buf, len, result) }
        })
    }

    /// The user this process runs as (the real uid): who a non-root server serves.
    pub fn current() -> io::Result<Account> {
        // SAFETY: getuid cannot fail.
        let uid = unsafe { libc::getuid() };
        Account::by_uid(uid)?
            .ok_or_else(|| io::Error::other(format!("uid {uid} has no passwd entry")))
    }
}

fn lookup<F>(call: F) -> io::Result<Option<Account>>
where
    F: Fn(*mut libc::passwd, *mut libc::c_char, usize, *mut *mut libc::passwd) -> libc::c_int,
{
    let mut len = 1024;
    loop {
        let mut buf = vec![0 as libc::c_char; len];
        // SAFETY: a zeroed passwd is a valid value to be overwritten.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = call(&mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc == libc::ERANGE && len < MAX_BUFFER {
            len *= 2;
            continue;
        }
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        if result.is_null() {
            return Ok(None);
        }
        // SAFETY: on success pwd's strings point into buf, which is alive here,
        // and are NUL-terminated.
        let (name, home) = unsafe { (CStr::from_ptr(pwd.pw_name), CStr::from_ptr(pwd.pw_dir)) };
        let Ok(name) = name.to_str() else {
            return Ok(None);
        };
        return Ok(Some(Account {
            name: name.to_string(),
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
            home: PathBuf::from(std::ffi::OsStr::from_bytes(home.to_bytes())),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_unknown_users() {
        let root = Account::by_name("root").unwrap().unwrap();
        assert_eq!(root.uid, 0);
        assert_eq!(Account::by_uid(0).unwrap().unwrap().name, "root");
        assert_eq!(Account::by_name("no-such-user-pullmail").unwrap(), None);
        assert_eq!(Account::by_name("nul\0byte").unwrap(), None);
        assert!(Account::current().is_ok());
    }
}
