//! Mailbox-name policy: which names a user may use, and which file each one is.
//!
//! Every path the library opens for a client-supplied mailbox name comes from
//! [`NamePolicy::resolve`]; nothing else turns names into paths. The rules, in the
//! order they are checked:
//!
//! - `INBOX`, in any case and exactly (RFC 3501 §5.1), is the user's spool file:
//!   `$MAIL` when it is set to an absolute path, else `/var/mail/USER`
//!   ([`NamePolicy::from_env`]), or whatever the configuration says ([`NamePolicy::new`]).
//! - Every other name is a path relative to [`NamePolicy::root`]: the home directory,
//!   or the configured mail subdirectory of it (`~/mail`). The hierarchy delimiter is
//!   [`DELIMITER`] (`/`), so `work/2024` is the file `ROOT/work/2024`. `INBOX/x` is an
//!   ordinary name under the root (the directory `ROOT/INBOX`), as in UW imapd: the
//!   spool file cannot have inferiors.
//! - A trailing `/` asks for a hierarchy holder, as in RFC 3501 §6.3.3 (`CREATE foo/`):
//!   the name is resolved without it and [`ResolvedName::hierarchy_only`] is set.
//!
//! Refused, each with its own [`NameError`]:
//!
//! - empty names; names over [`MAX_NAME_LEN`] octets or with a component over
//!   [`MAX_COMPONENT_LEN`] (the usual `PATH_MAX` / `NAME_MAX`);
//! - control characters (0x00–0x1f, 0x7f): NUL truncates C paths, CR/LF would break
//!   `~/.mailboxlist` and protocol lines;
//! - absolute names (leading `/`): UW let users open any file they could read;
//! - `.` and `..` components, and empty components (`a//b`);
//! - a leading `~` (`~user/x`, another user's home), a leading `{` (UW's network names,
//!   `{host}INBOX`, which made the server open connections), a leading `#` (namespaces
//!   such as `#news.` or `#driver.`; none is enabled);
//! - components starting with `.`: this keeps dotfiles such as `.ssh/authorized_keys`,
//!   `.mailboxlist`, pullmail's own state files and the dot-lock helpers' temporary
//!   files from ever being opened, rewritten or deleted as mailboxes;
//! - components ending in `.lock`: `NAME.lock` is the dot-lock of mailbox `NAME`
//!   (see [`crate::lock`]); a mailbox with such a name would look like a stale lock and
//!   be deleted by the next locker;
//! - any name whose path, after resolving the symbolic links of its deepest existing
//!   ancestor, leaves the canonical root (a symlink in the home pointing at `/etc`).
//!   A dangling symlink is refused too, since creating through it could land anywhere.
//!
//! No name ever starts a program or opens a network connection: names map to paths,
//! and only to paths. The symlink check is advice to honest code, not a sandbox: the
//! server runs with the user's own uid, so the kernel's permission checks are the
//! final guard, and a user racing their own symlinks only reaches their own files.
use std::ffi::OsStr;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The hierarchy delimiter of every name (RFC 3501 §5.1.1), as in UW imapd.
pub const DELIMITER: char = '/';

/// The longest name accepted, in octets (Linux `PATH_MAX` is 4096; this leaves room
/// for the root in front of it and is far beyond what any client sends).
pub const MAX_NAME_LEN: usize = 1024;

/// The longest component accepted, in octets (`NAME_MAX` on every Linux filesystem).
pub const MAX_COMPONENT_LEN: usize = 255;

/// The suffix of dot-lock files (`NAME.lock`), which no mailbox name may end in.
pub const LOCK_SUFFIX: &str = ".lock";

/// The canonical spelling of the one case-insensitive name.
pub const INBOX: &str = "INBOX";

/// Whether `name` is INBOX: the five letters in any case, and nothing else
/// (RFC 3501 §5.1: "The case-insensitive mailbox name INBOX is a special name").
pub fn is_inbox(name: &str) -> bool {
    name.eq_ignore_ascii_case(INBOX)
}

/// Why a mailbox name is refused. Each variant is one rule of the module docs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("empty mailbox name")]
    Empty,
    #[error("mailbox name too long")]
    TooLong,
    #[error("mailbox name contains a control character")]
    ControlCharacter,
    #[error("absolute mailbox names are not allowed")]
    Absolute,
    #[error("`.` and `..` are not allowed in mailbox names")]
    ParentComponent,
    #[error("empty hierarchy level in mailbox name")]
    EmptyComponent,
    #[error("other users' mailboxes (`~user`) are not accessible")]
    OtherUser,
    #[error("network mailbox names (`{{host}}`) are not supported")]
    NetworkName,
    #[error("no namespace (`#...`) is enabled")]
    Namespace,
    #[error("mailbox names may not start with `.` at any level")]
    HiddenComponent,
    #[error("mailbox names may not end in `.lock` at any level")]
    LockFileName,
    #[error("mailbox name leads outside the mail directory")]
    EscapesRoot,
}

/// Where one user's mailbox names live.
#[derive(Debug, Clone)]
pub struct NamePolicy {
    /// The login name; only used to derive the default spool path.
    pub user: String,
    /// The user's home directory.
    pub home: PathBuf,
    /// The spool file that the name INBOX denotes.
    pub inbox: PathBuf,
    /// Where other names live, relative to `home` (e.g. `mail`); `None` for the home itself.
    pub mail_subdir: Option<PathBuf>,
}

/// A name that passed the policy, and the file it denotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedName {
    /// `INBOX` for the inbox, else the name as given without a trailing delimiter.
    pub name: String,
    /// The file (or, for a hierarchy holder, the directory).
    pub path: PathBuf,
    /// Whether this is the spool file.
    pub is_inbox: bool,
    /// The name ended in the delimiter: RFC 3501 CREATE of a hierarchy holder.
    pub hierarchy_only: bool,
}

impl NamePolicy {
    pub fn new(
        user: impl Into<String>,
        home: impl Into<PathBuf>,
        inbox: impl Into<PathBuf>,
        mail_subdir: Option<PathBuf>,
    ) -> Self {
        NamePolicy {
            user: user.into(),
            home: home.into(),
            inbox: inbox.into(),
            mail_subdir,
        }
    }

    /// The policy of a logged-in user, with INBOX where the MTA and `mail(1)` expect it:
    /// `$MAIL` if set and absolute (a relative `$MAIL` would depend on the working
    /// directory, so it is ignored), else `/var/mail/USER`.
    pub fn from_env(user: &str, home: &Path, mail_subdir: Option<&Path>) -> Self {
        let inbox = spool_path(user, std::env::var_os("MAIL"));
        NamePolicy::new(user, home, inbox, mail_subdir.map(Path::to_path_buf))
    }

    /// The directory under which every name but INBOX lives.
    pub fn root(&self) -> PathBuf {
        match &self.mail_subdir {
            Some(sub) => self.home.join(sub),
            None => self.home.clone(),
        }
    }

    /// Checks `name` against the policy and returns the file it denotes.
    pub fn resolve(&self, name: &str) -> Result<ResolvedName, NameError> {
        check_syntax(name)?;
        if is_inbox(name) {
            return Ok(ResolvedName {
                name: INBOX.to_string(),
                path: self.inbox.clone(),
                is_inbox: true,
                hierarchy_only: false,
            });
        }
        let (bare, hierarchy_only) = match name.strip_suffix(DELIMITER) {
            Some(bare) => (bare, true),
            None => (name, false),
        };
        let root = self.root();
        let path = root.join(bare);
        check_within(&root, &path)?;
        Ok(ResolvedName {
            name: bare.to_string(),
            path,
            is_inbox: false,
            hierarchy_only,
        })
    }

    /// The name of a path: `INBOX` for the spool file, else the path relative to
    /// [`root`](Self::root) with `/` between levels, if that is a name the policy
    /// accepts. A file named like INBOX directly under the root has no name: INBOX
    /// means the spool file, so that file is shadowed (its inferiors are not).
    pub fn name_of(&self, path: &Path) -> Option<String> {
        if path == self.inbox {
            return Some(INBOX.to_string());
        }
        let rel = path.strip_prefix(self.root()).ok()?;
        let mut name = String::new();
        for component in rel.components() {
            let Component::Normal(c) = component else {
                return None;
            };
            if !name.is_empty() {
                name.push(DELIMITER);
            }
            name.push_str(c.to_str()?);
        }
        if name.is_empty() || is_inbox(&name) || check_syntax(&name).is_err() {
            return None;
        }
        Some(name)
    }
}

/// The checks that need no file system: everything but the symlink rule.
pub fn check_syntax(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong);
    }
    if name.bytes().any(is_control) {
        return Err(NameError::ControlCharacter);
    }
    if is_inbox(name) {
        return Ok(());
    }
    match name.as_bytes()[0] {
        b'/' => return Err(NameError::Absolute),
        b'~' => return Err(NameError::OtherUser),
        b'{' => return Err(NameError::NetworkName),
        b'#' => return Err(NameError::Namespace),
        _ => {}
    }
    let bare = name.strip_suffix(DELIMITER).unwrap_or(name);
    bare.split(DELIMITER).try_for_each(check_component)
}

/// The rules for one hierarchy level (one file or directory name).
pub fn check_component(component: &str) -> Result<(), NameError> {
    if component.is_empty() {
        return Err(NameError::EmptyComponent);
    }
    if component.len() > MAX_COMPONENT_LEN {
        return Err(NameError::TooLong);
    }
    if component.bytes().any(is_control) {
        return Err(NameError::ControlCharacter);
    }
    if component == "." || component == ".." {
        return Err(NameError::ParentComponent);
    }
    if component.starts_with('.') {
        return Err(NameError::HiddenComponent);
    }
    if component.ends_with(LOCK_SUFFIX) {
        return Err(NameError::LockFileName);
    }
    if component.contains(DELIMITER) {
        return Err(NameError::EmptyComponent);
    }
    Ok(())
}

/// INBOX's file given the value of `$MAIL` (kept apart from the environment for tests).
fn spool_path(user: &str, mail: Option<std::ffi::OsString>) -> PathBuf {
    mail.map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| Path::new("/var/mail").join(user))
}

fn is_control(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

/// Refuses `path` (lexically under `root`) if its deepest existing ancestor, with
/// symlinks resolved, lies outside the canonical root.
fn check_within(root: &Path, path: &Path) -> Result<(), NameError> {
    let Some(canonical_root) = canonical_existing_prefix(root)? else {
        // Neither the root nor anything under it exists yet: nothing to escape through.
        return Ok(());
    };
    match canonical_existing_prefix(path)? {
        Some(canonical) if canonical.starts_with(&canonical_root) => Ok(()),
        Some(_) => Err(NameError::EscapesRoot),
        None => Ok(()),
    }
}

/// The canonical form of `path`: its deepest existing ancestor with symlinks resolved,
/// followed by the components that do not exist yet. `None` if no ancestor exists.
/// An existing dangling or looping symlink on the way is an escape: what it would
/// create cannot be shown to stay inside.
fn canonical_existing_prefix(path: &Path) -> Result<Option<PathBuf>, NameError> {
    let mut existing = path;
    let mut missing: Vec<&OsStr> = Vec::new();
    loop {
        match existing.symlink_metadata() {
            Ok(_) => break,
            Err(e) if is_missing(&e) => {}
            // Unreadable (e.g. EACCES): the later open fails with the kernel's answer.
            Err(_) => {}
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(leaf)) => {
                missing.push(leaf);
                existing = parent;
            }
            _ => return Ok(None),
        }
    }
    let mut canonical = match existing.canonicalize() {
        Ok(c) => c,
        Err(e) if is_missing(&e) || e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(NameError::EscapesRoot)
        }
        Err(_) => return Ok(Some(existing.to_path_buf())),
    };
    for leaf in missing.iter().rev() {
        canonical.push(leaf);
    }
    Ok(Some(canonical))
}

fn is_missing(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn policy(home: &Path) -> NamePolicy {
        NamePolicy::new("alice", home, "/var/mail/alice", None)
    }

    fn refused(name: &str) -> NameError {
        let home = tempfile::tempdir().unwrap();
        policy(home.path()).resolve(name).unwrap_err()
    }

    #[test]
    fn inbox_in_any_case_is_the_spool_file() {
        let home = tempfile::tempdir().unwrap();
        let p = policy(home.path());
        for name in ["INBOX", "inbox", "InBoX"] {
            let r = p.resolve(name).unwrap();
            assert_eq!(r.name, "INBOX");
            assert_eq!(r.path, Path::new("/var/mail/alice"));
            assert!(r.is_inbox);
            assert!(!r.hierarchy_only);
        }
        assert!(is_inbox("iNbOx"));
        assert!(!is_inbox("INBOX/"));
        assert!(!is_inbox("INBOXes"));
    }

    #[test]
    fn inbox_children_are_ordinary_names_under_the_root() {
        let home = tempfile::tempdir().unwrap();
        let p = policy(home.path());
        let r = p.resolve("INBOX/x").unwrap();
        assert_eq!(r.path, home.path().join("INBOX/x"));
        assert!(!r.is_inbox);
        let r = p.resolve("INBOX/").unwrap();
        assert_eq!(r.name, "INBOX");
        assert!(r.hierarchy_only);
        assert!(!r.is_inbox);
    }

    #[test]
    fn names_resolve_under_the_mail_subdirectory() {
        let home = tempfile::tempdir().unwrap();
        let p = NamePolicy::new("alice", home.path(), "/var/mail/alice", Some("mail".into()));
        assert_eq!(p.root(), home.path().join("mail"));
        let r = p.resolve("lists/rust").unwrap();
        assert_eq!(r.name, "lists/rust");
        assert_eq!(r.path, home.path().join("mail/lists/rust"));
        assert!(!r.hierarchy_only);
    }

    #[test]
    fn trailing_delimiter_asks_for_a_hierarchy_holder() {
        let home = tempfile::tempdir().unwrap();
        let r = policy(home.path()).resolve("projects/").unwrap();
        assert_eq!(r.name, "projects");
        assert_eq!(r.path, home.path().join("projects"));
        assert!(r.hierarchy_only);
    }

    #[test]
    fn inbox_is_absolute_mail_else_var_mail() {
        assert_eq!(
            spool_path("alice", Some("/srv/spool/alice".into())),
            Path::new("/srv/spool/alice")
        );
        assert_eq!(
            spool_path("alice", Some("relative/spool".into())),
            Path::new("/var/mail/alice")
        );
        assert_eq!(spool_path("bob", None), Path::new("/var/mail/bob"));
        let p = NamePolicy::from_env("bob", Path::new("/home/bob"), Some(Path::new("mail")));
        assert_eq!(p.root(), Path::new("/home/bob/mail"));
        assert_eq!(p.user, "bob");
    }

    #[test]
    fn empty_and_oversized_names_are_refused() {
        assert_eq!(refused(""), NameError::Empty);
        assert_eq!(refused(&"a".repeat(MAX_NAME_LEN + 1)), NameError::TooLong);
        assert_eq!(
            refused(&"a".repeat(MAX_COMPONENT_LEN + 1)),
            NameError::TooLong
        );
        let long_ok = ["a".repeat(200), "b".repeat(200)].join("/");
        let home = tempfile::tempdir().unwrap();
        assert!(policy(home.path()).resolve(&long_ok).is_ok());
    }

    #[test]
    fn control_characters_are_refused() {
        for name in ["a\0b", "a\nb", "a\rb", "\tx", "x\x7f", "INBOX\0"] {
            assert_eq!(refused(name), NameError::ControlCharacter, "{name:?}");
        }
    }

    #[test]
    fn absolute_names_are_refused() {
        assert_eq!(refused("/etc/passwd"), NameError::Absolute);
        assert_eq!(refused("/"), NameError::Absolute);
    }

    #[test]
    fn dot_and_dotdot_components_are_refused() {
        for name in ["../x", "a/../../x", "..", ".", "a/./b", "a/.."] {
            assert_eq!(refused(name), NameError::ParentComponent, "{name:?}");
        }
    }

    #[test]
    fn empty_components_are_refused() {
        for name in ["a//b", "a//", "//"] {
            let e = refused(name);
            assert!(
                e == NameError::EmptyComponent || e == NameError::Absolute,
                "{name:?}: {e:?}"
            );
        }
        assert_eq!(refused("a//b"), NameError::EmptyComponent);
        assert_eq!(refused("a//"), NameError::EmptyComponent);
    }

    #[test]
    fn other_users_network_names_and_namespaces_are_refused() {
        assert_eq!(refused("~root/x"), NameError::OtherUser);
        assert_eq!(refused("~/x"), NameError::OtherUser);
        assert_eq!(refused("{host}x"), NameError::NetworkName);
        assert_eq!(
            refused("{imap.example.org:993/ssl}INBOX"),
            NameError::NetworkName
        );
        assert_eq!(refused("#news.x"), NameError::Namespace);
        assert_eq!(refused("#driver.mbox/x"), NameError::Namespace);
    }

    #[test]
    fn hidden_components_are_refused() {
        for name in [
            ".ssh/authorized_keys",
            ".mailboxlist",
            "mail/.state",
            "a/.b/c",
        ] {
            assert_eq!(refused(name), NameError::HiddenComponent, "{name:?}");
        }
    }

    #[test]
    fn dot_lock_names_are_refused() {
        assert_eq!(refused("foo.lock"), NameError::LockFileName);
        assert_eq!(refused("a.lock/b"), NameError::LockFileName);
        let home = tempfile::tempdir().unwrap();
        assert!(policy(home.path()).resolve("foo.locked").is_ok());
    }

    #[test]
    fn symlink_pointing_outside_the_home_is_refused() {
        let home = tempfile::tempdir().unwrap();
        symlink("/etc", home.path().join("etc")).unwrap();
        symlink("/etc/passwd", home.path().join("pw")).unwrap();
        let p = policy(home.path());
        assert_eq!(p.resolve("etc/passwd").unwrap_err(), NameError::EscapesRoot);
        assert_eq!(
            p.resolve("etc/nonexistent/x").unwrap_err(),
            NameError::EscapesRoot
        );
        assert_eq!(p.resolve("etc").unwrap_err(), NameError::EscapesRoot);
        assert_eq!(p.resolve("pw").unwrap_err(), NameError::EscapesRoot);
    }

    #[test]
    fn dangling_symlink_is_refused() {
        let home = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        symlink(outside.path().join("new"), home.path().join("trap")).unwrap();
        let p = policy(home.path());
        assert_eq!(p.resolve("trap").unwrap_err(), NameError::EscapesRoot);
    }

    #[test]
    fn symlink_inside_the_home_is_allowed() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join("real")).unwrap();
        std::fs::write(home.path().join("real/box"), b"").unwrap();
        symlink(home.path().join("real"), home.path().join("alias")).unwrap();
        let p = policy(home.path());
        let r = p.resolve("alias/box").unwrap();
        assert_eq!(r.path, home.path().join("alias/box"));
        assert!(p.resolve("alias/new").is_ok());
    }

    #[test]
    fn home_reached_through_a_symlink_is_still_inside() {
        let real = tempfile::tempdir().unwrap();
        let links = tempfile::tempdir().unwrap();
        let home = links.path().join("home");
        symlink(real.path(), &home).unwrap();
        std::fs::write(real.path().join("box"), b"").unwrap();
        let p = policy(&home);
        assert!(p.resolve("box").is_ok());
        assert!(p.resolve("new/deeper").is_ok());
    }

    #[test]
    fn missing_root_accepts_valid_names() {
        let home = tempfile::tempdir().unwrap();
        let p = NamePolicy::new("a", home.path(), "/var/mail/a", Some("mail".into()));
        assert!(p.resolve("x/y").is_ok());
    }

    #[test]
    fn name_of_inverts_resolve() {
        let home = tempfile::tempdir().unwrap();
        let p = NamePolicy::new("alice", home.path(), "/var/mail/alice", Some("mail".into()));
        for name in ["a", "a/b/c", "INBOX/x", "Ünïcode/ok"] {
            let r = p.resolve(name).unwrap();
            assert_eq!(p.name_of(&r.path).as_deref(), Some(name));
        }
        assert_eq!(
            p.name_of(Path::new("/var/mail/alice")).as_deref(),
            Some("INBOX")
        );
        assert_eq!(p.name_of(&home.path().join("mail/inbox")), None);
        assert_eq!(p.name_of(&home.path().join("mail")), None);
        assert_eq!(p.name_of(&home.path().join("other")), None);
        assert_eq!(p.name_of(&home.path().join("mail/.hidden")), None);
        assert_eq!(p.name_of(Path::new("/etc/passwd")), None);
    }
}
