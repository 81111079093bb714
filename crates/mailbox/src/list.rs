//! LIST and LSUB (RFC 3501 §6.3.8, §6.3.9): wildcard matching and the directory walk.
//!
//! The reference and the pattern are concatenated (as UW imapd did; RFC 3501 leaves the
//! interpretation to the server), and the reference must itself be a name the policy
//! accepts. `*` matches any run of characters including the delimiter, `%` any run
//! without it. A leading INBOX is compared without regard to case, in the pattern and
//! in the name (`inbox/%` matches `INBOX/sent`), since INBOX is case-insensitive.
//!
//! What is listed: INBOX whenever the pattern matches it, even before the first
//! delivery creates the spool file; under [`NamePolicy::root`], every directory (a
//! `\Noselect` hierarchy holder, with `\HasChildren` known) and every file that
//! [`detect`] recognises as a mailbox (empty, mbox or MMDF). Files of other kinds are not
//! mailboxes and are skipped, so a home directory listing shows mail, not `.profile` or
//! `notes.txt`. A mailbox file is `\Marked` when it has data written after it was last
//! read (mtime newer than atime, as UW judged it) and `\Unmarked` otherwise; the check
//! reads the first octets with `O_NOATIME` so that listing does not unmark everything.
//!
//! Never listed: hidden entries and any other name the policy would refuse (so every
//! listed name can be selected), the root-level file that INBOX shadows, and the spool
//! file if it lies inside the root. Symlinks to directories are not followed (no loops,
//! no escapes); symlinks to files are listed only if they stay inside the root. The walk
//! is bounded in depth ([`MAX_DEPTH`]) and in directory entries examined
//! ([`MAX_ENTRIES`]) so that a hostile tree cannot exhaust time or memory; past the
//! bound the listing is truncated, not failed. Output is sorted by name, INBOX first.
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::format::{detect, Detected};
use crate::names::{self, NamePolicy, DELIMITER, INBOX};

/// How many hierarchy levels below the root are walked.
pub const MAX_DEPTH: usize = 32;
/// How many directory entries one LIST examines at most.
pub const MAX_ENTRIES: usize = 100_000;

/// Bounds of one walk (see [`MAX_DEPTH`] and [`MAX_ENTRIES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListLimits {
    pub max_depth: usize,
    pub max_entries: usize,
}

impl Default for ListLimits {
    fn default() -> Self {
        ListLimits {
            max_depth: MAX_DEPTH,
            max_entries: MAX_ENTRIES,
        }
    }
}

/// The name attributes of a LIST response (RFC 3501 §7.2.2, RFC 3348 for children).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListAttributes {
    /// `\Noselect`: a hierarchy holder (directory), not a mailbox.
    pub noselect: bool,
    /// `\Noinferiors`: a mailbox file, which cannot hold other names.
    pub noinferiors: bool,
    /// `\HasChildren` (else `\HasNoChildren`).
    pub has_children: bool,
    /// `\Marked`: new data since the mailbox was last read.
    pub marked: bool,
    /// `\Unmarked`: nothing new.
    pub unmarked: bool,
}

/// One LIST or LSUB response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    pub name: String,
    pub attributes: ListAttributes,
}

/// Whether `name` matches the LIST `pattern` (see the module docs).
pub fn matches(pattern: &str, name: &str) -> bool {
    let mut m = Matcher::new(pattern.as_bytes(), starts_with_inbox_level(name.as_bytes()));
    m.feed(name.as_bytes());
    m.accepts()
}

/// Whether some name below the hierarchy level `prefix` (i.e. starting `prefix/`) could
/// match `pattern`: the walk descends only where this holds.
fn may_match_below(pattern: &str, prefix: &str) -> bool {
    let mut below = Vec::with_capacity(prefix.len() + 1);
    below.extend_from_slice(prefix.as_bytes());
    below.push(DELIMITER as u8);
    let mut m = Matcher::new(pattern.as_bytes(), starts_with_inbox_level(&below));
    m.feed(&below);
    m.alive()
}

/// Whether a name starts with INBOX (any case) as its whole first level.
fn starts_with_inbox_level(name: &[u8]) -> bool {
    name.len() >= 5
        && name[..5].eq_ignore_ascii_case(INBOX.as_bytes())
        && (name.len() == 5 || name[5] == DELIMITER as u8)
}

/// A pattern run as the simplest automaton: the set of pattern positions reachable
/// after the octets fed so far. Linear in name × pattern, never exponential.
struct Matcher<'p> {
    pattern: &'p [u8],
    states: Vec<bool>,
    next: Vec<bool>,
    /// Compare the name's first five octets without case (the name starts with INBOX).
    fold_inbox: bool,
    fed: usize,
}

impl<'p> Matcher<'p> {
    fn new(pattern: &'p [u8], fold_inbox: bool) -> Self {
        let mut states = vec![false; pattern.len() + 1];
        states[0] = true;
        close(pattern, &mut states);
        Matcher {
            pattern,
            next: vec![false; pattern.len() + 1],
            states,
            fold_inbox,
            fed: 0,
        }
    }

    fn feed(&mut self, name: &[u8]) {
        for &c in name {
            let fold = self.fold_inbox && self.fed < 5;
            self.fed += 1;
            self.next.iter_mut().for_each(|s| *s = false);
            for (j, &p) in self.pattern.iter().enumerate() {
                if !self.states[j] {
                    continue;
                }
                match p {
                    b'*' => self.next[j] = true,
                    b'%' if c != DELIMITER as u8 => self.next[j] = true,
                    b'%' => {}
                    _ if p == c || (fold && p.eq_ignore_ascii_case(&c)) => self.next[j + 1] = true,
                    _ => {}
                }
            }
            close(self.pattern, &mut self.next);
            std::mem::swap(&mut self.states, &mut self.next);
        }
    }

    fn accepts(&self) -> bool {
        self.states[self.pattern.len()]
    }

    fn alive(&self) -> bool {
        self.states.iter().any(|&s| s)
    }
}

/// Wildcards may match nothing: every state before one reaches the state after it.
fn close(pattern: &[u8], states: &mut [bool]) {
    for j in 0..pattern.len() {
        if states[j] && (pattern[j] == b'*' || pattern[j] == b'%') {
            states[j + 1] = true;
        }
    }
}

/// The mailboxes and hierarchy holders matching `reference` + `pattern`, per the module
/// docs, with the default bounds.
pub fn list(policy: &NamePolicy, reference: &str, pattern: &str) -> Result<Vec<ListEntry>, Error> {
    list_with_limits(policy, reference, pattern, ListLimits::default())
}

/// [`list`] with explicit bounds on the walk.
pub fn list_with_limits(
    policy: &NamePolicy,
    reference: &str,
    pattern: &str,
    limits: ListLimits,
) -> Result<Vec<ListEntry>, Error> {
    if !reference.is_empty() {
        policy.resolve(reference)?;
    }
    let full = format!("{reference}{pattern}");
    if full.is_empty() {
        // LIST "" "" asks for the delimiter, which the protocol layer answers.
        return Ok(Vec::new());
    }
    let root = policy.root();
    let mut walk = Walk {
        policy,
        pattern: &full,
        canonical_root: root.canonicalize().ok(),
        limits,
        examined: 0,
        found: Vec::new(),
        inbox_children: false,
    };

    // Start at the deepest level the pattern names literally: "a/b/%" reads only a/b.
    let literal = &full[..full.find(['*', '%']).unwrap_or(full.len())];
    let mut start = match literal.rfind(DELIMITER) {
        Some(at) => &literal[..at],
        None => "",
    };
    if start.split(DELIMITER).next().is_some_and(names::is_inbox) {
        // "inbox/%" must find ROOT/INBOX/x too: let the case-folding matcher choose.
        start = "";
    }
    if start.is_empty() {
        walk.directory(&root, "", 0, true)?;
    } else if let Ok(resolved) = policy.resolve(&format!("{start}{DELIMITER}")) {
        let depth = start.split(DELIMITER).count();
        if depth < limits.max_depth {
            walk.directory(&resolved.path, start, depth, true)?;
        }
    }

    let mut found = walk.found;
    if matches(&full, INBOX) {
        let inbox_children = walk.inbox_children || inbox_has_children(policy, limits);
        found.push(inbox_entry(&policy.inbox, inbox_children));
    }
    found.sort_by(|a, b| (a.name != INBOX, &a.name).cmp(&(b.name != INBOX, &b.name)));
    Ok(found)
}

/// LSUB (RFC 3501 §6.3.9): the subscribed names matching `reference` + `pattern`, plus,
/// as `\Noselect`, each unsubscribed level that `%` stopped at above a subscribed name
/// (only when the pattern does not reach the subscribed name itself: `*` lists it).
/// Subscriptions need not exist as mailboxes, so no file is looked at.
pub fn lsub(subscribed: &[String], reference: &str, pattern: &str) -> Vec<ListEntry> {
    let full = format!("{reference}{pattern}");
    let mut found: BTreeMap<(bool, String), ListAttributes> = BTreeMap::new();
    let canonical = |name: &str| {
        if names::is_inbox(name) {
            INBOX.to_string()
        } else {
            name.to_string()
        }
    };
    let subscribed: Vec<String> = subscribed.iter().map(|s| canonical(s)).collect();
    for name in &subscribed {
        if matches(&full, name) {
            found.insert((name != INBOX, name.clone()), ListAttributes::default());
        }
        for (at, _) in name.match_indices(DELIMITER) {
            let level = &name[..at];
            if !subscribed.iter().any(|s| s == level)
                && matches(&full, level)
                && !matches(&full, name)
            {
                let key = (level != INBOX, level.to_string());
                found.entry(key).or_insert(ListAttributes {
                    noselect: true,
                    ..ListAttributes::default()
                });
            }
        }
    }
    found
        .into_iter()
        .map(|((_, name), attributes)| ListEntry { name, attributes })
        .collect()
}

struct Walk<'a> {
    policy: &'a NamePolicy,
    pattern: &'a str,
    canonical_root: Option<PathBuf>,
    limits: ListLimits,
    examined: usize,
    found: Vec<ListEntry>,
    /// Whether the root-level directory INBOX (whose children are `INBOX/...`) has any.
    inbox_children: bool,
}

/// What a directory entry is, for LIST.
enum Kind {
    Directory,
    Mailbox(fs::Metadata),
    Other,
}

impl Walk<'_> {
    /// Lists the entries of `dir`, whose name is `prefix` ("" for the root) at `depth`.
    /// Errors reading the starting directory are reported unless it is simply absent or
    /// unreadable; deeper ones only hide that subtree.
    fn directory(
        &mut self,
        dir: &Path,
        prefix: &str,
        depth: usize,
        first: bool,
    ) -> Result<(), Error> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if !first || is_absent(&e) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let mut subdirs = Vec::new();
        for entry in entries {
            if !self.count() {
                break;
            }
            let Ok(entry) = entry else { continue };
            let file_name = entry.file_name();
            let Some(leaf) = file_name.to_str() else {
                continue;
            };
            if names::check_component(leaf).is_err() {
                continue;
            }
            let path = entry.path();
            if path == self.policy.inbox {
                continue;
            }
            let name = if prefix.is_empty() {
                leaf.to_string()
            } else {
                format!("{prefix}{DELIMITER}{leaf}")
            };
            if name.len() > names::MAX_NAME_LEN {
                continue;
            }
            let shadowed_by_inbox = depth == 0 && names::is_inbox(leaf);
            match self.kind(&entry, &path) {
                Kind::Directory => {
                    let descend =
                        depth + 1 < self.limits.max_depth && may_match_below(self.pattern, &name);
                    if shadowed_by_inbox {
                        // ROOT/INBOX holds INBOX/...; INBOX itself is the spool file.
                        self.inbox_children |= self.has_children(&path);
                    } else if matches(self.pattern, &name) {
                        let has_children = self.has_children(&path);
                        self.found.push(ListEntry {
                            name: name.clone(),
                            attributes: ListAttributes {
                                noselect: true,
                                has_children,
                                ..ListAttributes::default()
                            },
                        });
                    }
                    if descend {
                        subdirs.push((path, name));
                    }
                }
                Kind::Mailbox(meta) if !shadowed_by_inbox && matches(self.pattern, &name) => {
                    if self.is_mailbox(&path) {
                        let marked = is_marked(&meta);
                        self.found.push(ListEntry {
                            name,
                            attributes: ListAttributes {
                                noinferiors: true,
                                marked,
                                unmarked: !marked,
                                ..ListAttributes::default()
                            },
                        });
                    }
                }
                Kind::Mailbox(_) | Kind::Other => {}
            }
        }
        for (path, name) in subdirs {
            self.directory(&path, &name, depth + 1, false)?;
        }
        Ok(())
    }

    /// Counts one examined entry; `false` once the bound is reached.
    fn count(&mut self) -> bool {
        self.examined += 1;
        self.examined <= self.limits.max_entries
    }

    /// Classifies an entry without following symlinks to directories; a symlink to a
    /// regular file inside the root counts as that file.
    fn kind(&self, entry: &fs::DirEntry, path: &Path) -> Kind {
        let Ok(file_type) = entry.file_type() else {
            return Kind::Other;
        };
        if file_type.is_dir() {
            return Kind::Directory;
        }
        let meta = if file_type.is_symlink() {
            let inside = match (&self.canonical_root, path.canonicalize()) {
                (Some(root), Ok(target)) => target.starts_with(root),
                _ => false,
            };
            match fs::metadata(path) {
                Ok(meta) if inside => meta,
                _ => return Kind::Other,
            }
        } else {
            match entry.metadata() {
                Ok(meta) => meta,
                Err(_) => return Kind::Other,
            }
        };
        if meta.is_file() {
            Kind::Mailbox(meta)
        } else {
            Kind::Other
        }
    }

    /// Whether the file's first octets say mailbox (see [`detect`]).
    fn is_mailbox(&self, path: &Path) -> bool {
        let Ok(mut file) = open_quietly(path) else {
            return false;
        };
        let mut prefix = [0u8; 5];
        let mut len = 0;
        while len < prefix.len() {
            match file.read(&mut prefix[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        !matches!(detect(&prefix[..len]), Detected::Unknown)
    }

    /// Whether a directory holds anything LIST would show (RFC 3348 `\HasChildren`).
    fn has_children(&mut self, dir: &Path) -> bool {
        let Ok(entries) = fs::read_dir(dir) else {
            return false;
        };
        for entry in entries {
            if !self.count() {
                return false;
            }
            let Ok(entry) = entry else { continue };
            let file_name = entry.file_name();
            let Some(leaf) = file_name.to_str() else {
                continue;
            };
            if names::check_component(leaf).is_err() {
                continue;
            }
            let path = entry.path();
            if path == self.policy.inbox {
                continue;
            }
            match self.kind(&entry, &path) {
                Kind::Directory => return true,
                Kind::Mailbox(_) if self.is_mailbox(&path) => return true,
                _ => {}
            }
        }
        false
    }
}

/// Opens a file to read its first octets without disturbing its access time (which is
/// what `\Marked` is judged by) and without blocking on a FIFO swapped in meanwhile.
fn open_quietly(path: &Path) -> io::Result<File> {
    let open = |extra: libc::c_int| {
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | extra)
            .open(path)
    };
    let file = match open(libc::O_NOATIME) {
        // O_NOATIME is only for the file's owner (or CAP_FOWNER).
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => open(0)?,
        other => other?,
    };
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(io::Error::from(io::ErrorKind::InvalidInput))
    }
}

/// UW's test for new mail: something was written after the last read.
fn is_marked(meta: &fs::Metadata) -> bool {
    meta.len() > 0 && (meta.mtime(), meta.mtime_nsec()) > (meta.atime(), meta.atime_nsec())
}

fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOENT) | Some(libc::ENOTDIR) | Some(libc::EACCES)
    )
}

/// INBOX as LIST shows it: selectable even before the spool file exists, marked by
/// the same rule as other mailboxes once it does.
fn inbox_entry(spool: &Path, has_children: bool) -> ListEntry {
    let (marked, unmarked) = match fs::metadata(spool) {
        Ok(meta) if meta.is_file() => {
            let marked = is_marked(&meta);
            (marked, !marked)
        }
        _ => (false, false),
    };
    ListEntry {
        name: INBOX.to_string(),
        attributes: ListAttributes {
            has_children,
            marked,
            unmarked,
            ..ListAttributes::default()
        },
    }
}

/// Whether ROOT/INBOX (any case, not a symlink) is a directory with listable children,
/// for when the walk did not pass it.
fn inbox_has_children(policy: &NamePolicy, limits: ListLimits) -> bool {
    let root = policy.root();
    let Ok(entries) = fs::read_dir(&root) else {
        return false;
    };
    let mut walk = Walk {
        policy,
        pattern: "",
        canonical_root: root.canonicalize().ok(),
        limits,
        examined: 0,
        found: Vec::new(),
        inbox_children: false,
    };
    for entry in entries.take(limits.max_entries).flatten() {
        let is_inbox_dir = entry.file_name().to_str().is_some_and(names::is_inbox)
            && entry.file_type().is_ok_and(|t| t.is_dir());
        if is_inbox_dir && walk.has_children(&entry.path()) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::time::{Duration, SystemTime};

    const MBOX: &[u8] = b"From a@b Thu Jan  1 00:00:00 1970\n\nhi\n";
    const MMDF: &[u8] = b"\x01\x01\x01\x01\nSubject: x\n\nhi\n\x01\x01\x01\x01\n";

    struct Home {
        dir: tempfile::TempDir,
        policy: NamePolicy,
    }

    impl Home {
        fn new() -> Home {
            let dir = tempfile::tempdir().unwrap();
            let spool = dir.path().join("spool/alice");
            let policy = NamePolicy::new("alice", dir.path().join("home"), spool, None);
            fs::create_dir_all(dir.path().join("spool")).unwrap();
            fs::create_dir_all(policy.root()).unwrap();
            Home { dir, policy }
        }

        fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
            let path = self.policy.root().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, contents).unwrap();
            // Read since written: not \Marked unless a test says otherwise.
            set_times(&path, 100, 200);
            path
        }

        fn dir(&self, name: &str) {
            fs::create_dir_all(self.policy.root().join(name)).unwrap();
        }

        fn list(&self, reference: &str, pattern: &str) -> Vec<ListEntry> {
            list(&self.policy, reference, pattern).unwrap()
        }

        fn names(&self, reference: &str, pattern: &str) -> Vec<String> {
            self.list(reference, pattern)
                .into_iter()
                .map(|e| e.name)
                .collect()
        }

        fn entry(&self, pattern: &str) -> ListEntry {
            let mut found = self.list("", pattern);
            assert_eq!(found.len(), 1, "{pattern}: {found:?}");
            found.remove(0)
        }
    }

    /// Sets mtime and atime to seconds after an epoch-ish base.
    fn set_times(path: &Path, mtime: u64, atime: u64) {
        let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
        let times = fs::FileTimes::new()
            .set_modified(base + Duration::from_secs(mtime))
            .set_accessed(base + Duration::from_secs(atime));
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_times(times)
            .unwrap();
    }

    #[test]
    fn star_matches_across_levels_and_percent_within_one() {
        assert!(matches("*", "a/b/c"));
        assert!(matches("a/*", "a/b/c"));
        assert!(matches("%", "abc"));
        assert!(!matches("%", "a/b"));
        assert!(matches("%/%", "a/b"));
        assert!(!matches("%/%", "a/b/c"));
        assert!(matches("a%c", "abbbc"));
        assert!(!matches("a%c", "ab/c"));
        assert!(matches("a*c", "ab/c"));
        assert!(matches("work", "work"));
        assert!(!matches("work", "Work"));
        assert!(!matches("work", "work/x"));
        assert!(matches("", ""));
        assert!(!matches("", "a"));
        assert!(matches("*%*", "x"));
        assert!(matches("ü*", "über/x"));
    }

    #[test]
    fn leading_inbox_compares_without_case() {
        assert!(matches("inbox", "INBOX"));
        assert!(matches("INBOX", "inbox"));
        assert!(matches("Inbox/%", "INBOX/sent"));
        assert!(matches("INBOX/%", "inbox/sent"));
        assert!(matches("inb*", "INBOX"));
        assert!(!matches("inbox/sent", "INBOX/Sent"));
        assert!(!matches("inboxes", "INBOXES"));
        assert!(!matches("work/inbox", "work/INBOX"));
    }

    #[test]
    fn matching_is_not_exponential() {
        let pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let name = "a".repeat(1000);
        let started = std::time::Instant::now();
        assert!(!matches(pattern, &name));
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn inbox_is_listed_even_before_the_spool_exists() {
        let home = Home::new();
        let inbox = home.entry("INBOX");
        assert_eq!(inbox.name, "INBOX");
        assert!(!inbox.attributes.noselect);
        assert!(!inbox.attributes.marked && !inbox.attributes.unmarked);
        assert_eq!(home.names("", "in%"), ["INBOX"]);
        assert!(home.names("", "work").is_empty());
    }

    #[test]
    fn inbox_is_marked_when_mail_arrived_after_the_last_read() {
        let home = Home::new();
        fs::write(&home.policy.inbox, MBOX).unwrap();
        set_times(&home.policy.inbox, 300, 200);
        assert!(home.entry("INBOX").attributes.marked);
        set_times(&home.policy.inbox, 300, 400);
        assert!(home.entry("INBOX").attributes.unmarked);
    }

    #[test]
    fn mailboxes_and_holders_with_attributes() {
        let home = Home::new();
        home.file("work", MBOX);
        home.file("lists/rust", MMDF);
        home.file("lists/empty", b"");
        home.dir("archive");
        let entries = home.list("", "*");
        let names: Vec<_> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "INBOX",
                "archive",
                "lists",
                "lists/empty",
                "lists/rust",
                "work"
            ]
        );
        let attrs = |name: &str| {
            entries
                .iter()
                .find(|e| e.name == name)
                .unwrap()
                .attributes
                .clone()
        };
        assert_eq!(
            attrs("lists"),
            ListAttributes {
                noselect: true,
                has_children: true,
                ..Default::default()
            }
        );
        assert_eq!(
            attrs("archive"),
            ListAttributes {
                noselect: true,
                has_children: false,
                ..Default::default()
            }
        );
        assert_eq!(
            attrs("work"),
            ListAttributes {
                noinferiors: true,
                unmarked: true,
                ..Default::default()
            }
        );
        assert!(attrs("lists/empty").unmarked);
        assert!(!attrs("lists/empty").marked);
    }

    #[test]
    fn marked_follows_mtime_against_atime() {
        let home = Home::new();
        let path = home.file("new", MBOX);
        set_times(&path, 300, 200);
        assert!(home.entry("new").attributes.marked);
        // Listing must not itself mark the mailbox read.
        assert!(home.entry("new").attributes.marked);
        set_times(&path, 300, 300);
        assert!(home.entry("new").attributes.unmarked);
    }

    #[test]
    fn percent_lists_one_level_and_reference_is_prepended() {
        let home = Home::new();
        home.file("a", MBOX);
        home.file("lists/rust", MBOX);
        home.file("lists/deep/x", MBOX);
        assert_eq!(home.names("", "%"), ["INBOX", "a", "lists"]);
        assert_eq!(home.names("", "lists/%"), ["lists/deep", "lists/rust"]);
        assert_eq!(home.names("lists/", "%"), ["lists/deep", "lists/rust"]);
        assert_eq!(
            home.names("lists/", "*"),
            ["lists/deep", "lists/deep/x", "lists/rust"]
        );
        assert_eq!(home.names("", "lists/rust"), ["lists/rust"]);
        assert_eq!(home.names("", "%/%/%"), ["lists/deep/x"]);
    }

    #[test]
    fn files_that_are_not_mailboxes_are_skipped() {
        let home = Home::new();
        home.file("notes.txt", b"hello, not mail\n");
        home.file("box", MBOX);
        home.dir("only-notes");
        home.file("only-notes/readme", b"text\n");
        let entries = home.list("", "*");
        let names: Vec<_> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["INBOX", "box", "only-notes"]);
        assert!(!entries[2].attributes.has_children);
    }

    #[test]
    fn hidden_and_lock_files_and_bad_names_are_never_listed() {
        let home = Home::new();
        home.file(".mailboxlist", b"");
        home.file(".ssh/authorized_keys", MBOX);
        home.file("box.lock", b"");
        home.file("box", MBOX);
        home.file("bad\nname", b"");
        assert_eq!(home.names("", "*"), ["INBOX", "box"]);
        assert!(home.names("", ".*").is_empty());
        assert!(home.names("", ".ssh/*").is_empty());
    }

    #[test]
    fn hostile_patterns_and_references_find_nothing_outside() {
        let home = Home::new();
        home.file("box", MBOX);
        for pattern in [
            "/etc/%",
            "../*",
            "~root/*",
            "{host}*",
            "#news.*",
            "a/../../*",
        ] {
            let names = home.names("", pattern);
            assert!(names.is_empty(), "{pattern}: {names:?}");
        }
        for reference in ["/etc/", "~root/", "../", "{host}"] {
            assert!(
                matches!(list(&home.policy, reference, "*"), Err(Error::BadName(_))),
                "{reference}"
            );
        }
    }

    #[test]
    fn symlinked_directories_are_not_followed() {
        let home = Home::new();
        home.file("real/box", MBOX);
        symlink(
            home.policy.root().join("real"),
            home.policy.root().join("loop"),
        )
        .unwrap();
        symlink("/etc", home.policy.root().join("etc")).unwrap();
        symlink(home.policy.root(), home.policy.root().join("real/up")).unwrap();
        assert_eq!(home.names("", "*"), ["INBOX", "real", "real/box"]);
    }

    #[test]
    fn symlinks_to_mailbox_files_are_listed_only_inside_the_root() {
        let home = Home::new();
        home.file("real", MBOX);
        symlink(
            home.policy.root().join("real"),
            home.policy.root().join("alias"),
        )
        .unwrap();
        let outside = home.dir.path().join("outside");
        fs::write(&outside, MBOX).unwrap();
        symlink(&outside, home.policy.root().join("escape")).unwrap();
        assert_eq!(home.names("", "*"), ["INBOX", "alias", "real"]);
    }

    #[test]
    fn inbox_hierarchy_lives_in_root_inbox_directory() {
        let home = Home::new();
        home.file("INBOX/sent", MBOX);
        assert_eq!(home.names("", "*"), ["INBOX", "INBOX/sent"]);
        assert!(home.entry("INBOX").attributes.has_children);
        assert_eq!(home.names("", "inbox/%"), ["INBOX/sent"]);
        assert_eq!(home.names("INBOX/", "%"), ["INBOX/sent"]);
    }

    #[test]
    fn a_file_shadowed_by_inbox_is_not_listed() {
        let home = Home::new();
        home.file("inbox", MBOX);
        assert_eq!(home.names("", "*"), ["INBOX"]);
        assert!(!home.entry("INBOX").attributes.has_children);
    }

    #[test]
    fn spool_inside_the_root_is_listed_once_as_inbox() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("Mailbox");
        fs::write(&spool, MBOX).unwrap();
        let policy = NamePolicy::new("alice", dir.path(), &spool, None);
        let names: Vec<_> = list(&policy, "", "*")
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["INBOX"]);
    }

    #[test]
    fn mail_subdirectory_is_the_root() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("outside"), MBOX).unwrap();
        fs::create_dir(dir.path().join("mail")).unwrap();
        fs::write(dir.path().join("mail/inside"), MBOX).unwrap();
        let policy = NamePolicy::new("a", dir.path(), "/nonexistent/a", Some("mail".into()));
        let names: Vec<_> = list(&policy, "", "*")
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["INBOX", "inside"]);
        let missing = NamePolicy::new("a", dir.path(), "/x", Some("nomail".into()));
        assert_eq!(list(&missing, "", "*").unwrap().len(), 1);
    }

    #[test]
    fn names_longer_than_the_policy_allows_are_not_listed() {
        let home = Home::new();
        let level = "x".repeat(200);
        let deep = [level.as_str(); 6].join("/");
        home.file(&format!("{deep}/box"), MBOX);
        let names = home.names("", "*");
        assert!(names.iter().all(|n| n.len() <= names::MAX_NAME_LEN));
        assert_eq!(names.len(), 1 + 5);
        assert!(home.names("", "").is_empty());
    }

    #[test]
    fn fifos_are_skipped_without_blocking() {
        let home = Home::new();
        let fifo = std::ffi::CString::new(
            home.policy
                .root()
                .join("pipe")
                .into_os_string()
                .into_encoded_bytes(),
        )
        .unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo has no other preconditions.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        assert_eq!(home.names("", "*"), ["INBOX"]);
    }

    #[test]
    fn depth_and_entry_bounds_truncate_a_hostile_tree() {
        let home = Home::new();
        let deep = (0..40)
            .map(|i| format!("d{i}"))
            .collect::<Vec<_>>()
            .join("/");
        home.file(&format!("{deep}/box"), MBOX);
        let names = home.names("", "*");
        // INBOX plus one holder per level down to MAX_DEPTH levels.
        assert_eq!(names.len(), 1 + MAX_DEPTH);
        for i in 0..300 {
            home.file(&format!("wide/m{i:03}"), MBOX);
        }
        let limits = ListLimits {
            max_depth: 4,
            max_entries: 100,
        };
        let found = list_with_limits(&home.policy, "", "wide/*", limits).unwrap();
        assert!(found.len() <= 100, "{}", found.len());
        assert!(!found.is_empty());
    }

    fn subscribed(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lsub_lists_matching_subscriptions_inbox_first() {
        let subs = subscribed(&["work", "inbox", "lists/rust", "lists"]);
        let names: Vec<_> = lsub(&subs, "", "*").into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["INBOX", "lists", "lists/rust", "work"]);
        assert!(lsub(&subs, "", "*").iter().all(|e| !e.attributes.noselect));
        let names: Vec<_> = lsub(&subs, "lists/", "%")
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["lists/rust"]);
    }

    #[test]
    fn lsub_percent_shows_unsubscribed_parents_as_noselect() {
        // RFC 3501 §6.3.9: "foo/bar" subscribed, "foo" not: LSUB "" "%" returns foo \Noselect.
        let subs = subscribed(&["foo/bar", "top"]);
        let found = lsub(&subs, "", "%");
        let names: Vec<_> = found.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["foo", "top"]);
        assert!(found[0].attributes.noselect);
        assert!(!found[1].attributes.noselect);
        assert!(lsub(&subs, "", "nothing*").is_empty());
    }
}
