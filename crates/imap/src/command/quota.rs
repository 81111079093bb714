//! QUOTA (RFC 9208): GETQUOTAROOT and GETQUOTA report the user's disk quota as
//! the kernel keeps it (`daemon::quota`), and APPEND, COPY and MOVE that would go
//! past it are refused with `NO [OVERQUOTA]` before anything is written.
//!
//! The quota roots are filesystems: `home`, the user's quota on the filesystem
//! holding the home directory, and `spool`, on the filesystem holding INBOX when
//! that is another one. A filesystem without user quotas enforced, or where the
//! user has no limit, is no root. The one resource is STORAGE (§5.1), in KiB,
//! counting everything the user owns on that filesystem, since that is what the
//! limit applies to. The kernel's file (inode) limit is not shown: MESSAGE counts
//! messages and MAILBOX mailboxes (§5.2, §5.3), and an mbox file holds many
//! messages while the user's other files count as inodes too; a write refused
//! for lack of inodes still ends in `NO [OVERQUOTA]`, through the store's error.
//!
//! SETQUOTA is refused: the administrator sets quotas with the system's tools
//! (setquota(8), edquota(8)), so QUOTASET is not announced.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use daemon::quota::Quota;
use mailbox::store::Store;

use crate::host::Host;
use crate::respond::{self, Reply};
use crate::session::Session;

/// Octets a message takes on disk beyond its text, at most: the From_ line and
/// the Status, X-Status, X-Keywords and X-UID headers the store adds.
const PER_MESSAGE: u64 = 512;

/// A quota root: its name and the quota it reports.
struct Root {
    name: &'static str,
    quota: Quota,
}

/// The user's quota roots now (the kernel's numbers change with every write).
fn roots<H: Host>(host: &H, store: &Store) -> Vec<Root> {
    let policy = store.policy();
    let home = host.quota(&policy.home);
    let spool = existing(&policy.inbox).and_then(|p| host.quota(&p));
    let mut roots = Vec::new();
    if let Some(quota) = home {
        roots.push(Root {
            name: "home",
            quota,
        });
    }
    if let Some(quota) = spool.filter(|s| home.is_none_or(|h| h.device != s.device)) {
        roots.push(Root {
            name: "spool",
            quota,
        });
    }
    roots
}

/// `path` if it exists, else the directory it would be made in.
fn existing(path: &Path) -> Option<PathBuf> {
    if path.exists() {
        Some(path.to_path_buf())
    } else {
        path.parent().filter(|p| p.exists()).map(Path::to_path_buf)
    }
}

fn quota_line(out: &mut Vec<u8>, root: &Root) {
    out.extend_from_slice(b"* QUOTA ");
    respond::string(out, root.name.as_bytes());
    let limit = root.quota.limit_kib().unwrap_or(0);
    out.extend_from_slice(format!(" (STORAGE {} {limit})\r\n", root.quota.used_kib()).as_bytes());
}

/// GETQUOTAROOT mailbox (§4.1.2): the roots of the filesystem the mailbox is on.
pub(crate) fn getquotaroot<H: Host>(s: &mut Session<H>, name: &str) -> Reply {
    let Some(store) = s.store.as_ref() else {
        return Reply::bad("Not authenticated");
    };
    let resolved = match store.resolve(name) {
        Ok(r) => r,
        Err(e) => return Reply::mailbox_error("GETQUOTAROOT", &e),
    };
    let at = if resolved.path.exists() {
        Some(resolved.path.clone())
    } else if resolved.is_inbox {
        existing(&resolved.path)
    } else {
        None
    };
    let Some(device) = at.and_then(|p| std::fs::metadata(p).ok()).map(|m| m.dev()) else {
        return Reply::mailbox_error(
            "GETQUOTAROOT",
            &mailbox::error::Error::NoSuchMailbox(resolved.name),
        );
    };
    let mine: Vec<Root> = roots(&s.host, store)
        .into_iter()
        .filter(|r| r.quota.device == device)
        .collect();
    s.out.extend_from_slice(b"* QUOTAROOT ");
    respond::mailbox_name(&mut s.out, name);
    for r in &mine {
        s.out.push(b' ');
        respond::string(&mut s.out, r.name.as_bytes());
    }
    s.out.extend_from_slice(b"\r\n");
    for r in &mine {
        quota_line(&mut s.out, r);
    }
    Reply::ok("GETQUOTAROOT completed")
}

/// GETQUOTA root (§4.1.1).
pub(crate) fn getquota<H: Host>(s: &mut Session<H>, root: &str) -> Reply {
    let Some(store) = s.store.as_ref() else {
        return Reply::bad("Not authenticated");
    };
    match roots(&s.host, store).into_iter().find(|r| r.name == root) {
        Some(r) => {
            quota_line(&mut s.out, &r);
            Reply::ok("GETQUOTA completed")
        }
        None => Reply::no_code("NONEXISTENT", "GETQUOTA failed: no such quota root"),
    }
}

/// SETQUOTA (§4.1.3): not for users here.
pub(crate) fn setquota() -> Reply {
    Reply::no_code(
        "NOPERM",
        "SETQUOTA refused: disk quotas are set by the administrator",
    )
}

/// `NO [OVERQUOTA]` when adding `messages` messages of `octets` octets in all to
/// the mailbox `name` would go past the user's quota on its filesystem (§4.3);
/// `None` when it fits or there is no quota (the command goes on, and reports
/// a bad name or a missing mailbox itself).
pub(crate) fn refuse<H: Host>(
    host: &H,
    store: &Store,
    what: &str,
    name: &str,
    messages: usize,
    octets: u64,
) -> Option<Reply> {
    let resolved = store.resolve(name).ok()?;
    let quota = host.quota(&existing(&resolved.path)?)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let need = octets.saturating_add(PER_MESSAGE.saturating_mul(messages as u64));
    quota.refuses(need, now).then(|| {
        Reply::no_code(
            "OVERQUOTA",
            format!("{what} failed: it would go past the disk quota; nothing was written"),
        )
    })
}
