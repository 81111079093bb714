//! NOTIFY (RFC 5465): what the client asked to hear about, and finding it.
//!
//! A `NOTIFY SET` keeps, besides the events for the selected mailbox
//! ([`SelectedEvents`], reported by [`crate::selected::Selected::report`] like
//! every other change of the selected mailbox), the event groups for the other
//! mailboxes. Those are watched here, between commands and during IDLE
//! ([`crate::session::Session`] and [`crate::command::idle`] call
//! [`Notify::changed`] and [`Notify::check`]):
//!
//! - message events (MessageNew, MessageExpunge, FlagChange) for every mailbox
//!   the filters name, except the selected one: its file's identity, size and
//!   times are kept, and when they change its STATUS is read again and compared,
//!   answering `* STATUS` with what changed (MESSAGES and UIDNEXT for arrivals and
//!   expunges, UNSEEN for flag changes, UIDVALIDITY when it changed; once the
//!   client enabled CONDSTORE, HIGHESTMODSEQ with arrivals, with expunges under
//!   QRESYNC, and for every flag change with UIDVALIDITY — see `status_change`);
//! - MailboxName: the user's names are listed again when a mail directory
//!   changed, and compared: `* LIST` for a new name, `* LIST (\NonExistent)` for
//!   one gone, and for a name that reappears under another name with the same
//!   file (inode) `* LIST ... ("OLDNAME" (old))`, once for a renamed hierarchy;
//!   a parent whose children came or went is listed again (§5.4);
//! - SubscriptionChange: the subscription file is read again when it changed,
//!   and each name subscribed or unsubscribed is listed with its attributes.
//!
//! What this session does itself is not reported back (RFC 5465 §5 SHOULD):
//! after its own CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, APPEND, COPY,
//! MOVE and SELECT the state here is taken again silently ([`Notify::absorb`]),
//! after reporting what others did before it.
//!
//! Change is noticed with one inotify watch ([`crate::watch`]) on the mail
//! directories, INBOX, the selected mailbox and the home directory (which holds
//! the subscription file), whose descriptor the session waits on beside the
//! connection ([`crate::host::Host::poll_input_or`]): it wakes for a change or
//! input, not on a timer. Where inotify is not possible, it looks every
//! [`crate::command::idle::POLLED_SLICE`]. A full look is taken every
//! [`SAFETY_CHECK`] in any case.
//!
//! ## Bounds
//! At most [`MAX_WATCHED`] mailboxes are watched for message events; a NOTIFY
//! SET naming more is refused with `NO [NOTIFICATIONOVERFLOW]`, and when the
//! watched set outgrows it later (mailboxes created under a watched filter) the
//! session says `* OK [NOTIFICATIONOVERFLOW]` and forgets the whole registration,
//! as after NOTIFY NONE (§5.8). What is kept per mailbox is its name, path, file
//! stamp and six numbers. Names are listed with the mailbox library's own bounds
//! (depth and entries); at most [`MAX_WATCHED_DIRECTORIES`] directories get an
//! inotify watch, deeper changes are found by the full look.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mailbox::list::ListAttributes;
use mailbox::names::DELIMITER;
use mailbox::store::{MailboxStatus, Store};

use crate::modseq::Enabled;
use crate::respond;
use crate::types::{EventGroup, FetchAttribute, NotifyEvent, NotifyFilter};
use crate::watch::Watcher;

/// The most mailboxes one session watches for message events.
pub const MAX_WATCHED: usize = 1000;
/// The most directories one session's inotify watch covers.
pub const MAX_WATCHED_DIRECTORIES: usize = 256;
/// A full look at everything watched, even when inotify said nothing.
pub const SAFETY_CHECK: Duration = Duration::from_secs(30);
/// A file changed this recently may change again within the same tick of the
/// file system's clock, leaving its times as they were: its stamp proves
/// nothing, and it is looked at again ([`RACY_LOOK`]) until it is older.
const RACY_WINDOW: Duration = Duration::from_secs(2);
/// How soon a file with a racy stamp is looked at again.
const RACY_LOOK: Duration = Duration::from_secs(1);

/// The events asked for the selected mailbox (`SELECTED` or `SELECTED-DELAYED`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SelectedEvents {
    /// SELECTED-DELAYED: expunges wait for a command that may report them.
    pub delayed: bool,
    pub new: bool,
    /// What an unsolicited FETCH carries for each new message (empty: no FETCH).
    pub fetch: Vec<FetchAttribute>,
    pub expunge: bool,
    pub flags: bool,
}

/// The events asked for some mailbox other than the selected one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wants {
    pub new: bool,
    pub expunge: bool,
    pub flags: bool,
    pub names: bool,
    pub subscriptions: bool,
}

impl Wants {
    fn of(events: &[NotifyEvent]) -> Wants {
        let mut w = Wants::default();
        for e in events {
            match e {
                NotifyEvent::MessageNew(_) => w.new = true,
                NotifyEvent::MessageExpunge => w.expunge = true,
                NotifyEvent::FlagChange => w.flags = true,
                NotifyEvent::MailboxName => w.names = true,
                NotifyEvent::SubscriptionChange => w.subscriptions = true,
                _ => {}
            }
        }
        w
    }

    fn message(self) -> bool {
        self.new || self.expunge || self.flags
    }

    fn union(self, o: Wants) -> Wants {
        Wants {
            new: self.new || o.new,
            expunge: self.expunge || o.expunge,
            flags: self.flags || o.flags,
            names: self.names || o.names,
            subscriptions: self.subscriptions || o.subscriptions,
        }
    }
}

/// A file's identity and last change: whether it is worth looking at again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    /// Changed within [`RACY_WINDOW`] of the look: file system clocks are
    /// coarse (a few milliseconds), so a second change in the same tick keeps
    /// the times and the size (a flag rewritten in place, a rename beside a
    /// lock file just removed). Such a stamp is never taken as "unchanged".
    racy: bool,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::symlink_metadata(path).ok()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let window = RACY_WINDOW.as_secs() as i64;
    Some(Stamp {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
        racy: m.mtime() >= now - window || m.ctime() >= now - window,
    })
}

/// Whether a file whose stamp was `old` and is `new` surely did not change.
fn unchanged(old: &Option<Stamp>, new: &Option<Stamp>) -> bool {
    old == new && !old.is_some_and(|s| s.racy)
}

/// One mailbox watched for message events.
struct Watched {
    path: PathBuf,
    wants: Wants,
    stamp: Option<Stamp>,
    status: Option<MailboxStatus>,
}

/// One name of the user, as last listed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Name {
    attributes: ListAttributes,
    path: PathBuf,
    /// Device and inode, to recognise a renamed mailbox.
    id: Option<(u64, u64)>,
}

/// The watched set outgrew [`MAX_WATCHED`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

/// A session's NOTIFY registration and what it last saw.
pub struct Notify {
    /// The events for the selected mailbox; `None`: none (§3.1, as SELECTED NONE).
    pub selected: Option<SelectedEvents>,
    groups: Vec<(NotifyFilter, Wants)>,
    watched: BTreeMap<String, Watched>,
    names: BTreeMap<String, Name>,
    directories: BTreeMap<PathBuf, Option<Stamp>>,
    subscriptions: Vec<String>,
    subscriptions_stamp: Option<Stamp>,
    inotify: bool,
    watcher: Option<Watcher>,
    last_full: Instant,
    /// The last look, and whether a stamp then was racy (look again soon).
    last_look: Instant,
    racy: bool,
    /// CONDSTORE and QRESYNC as the session has them (STATUS lines then carry
    /// HIGHESTMODSEQ); the session keeps it current.
    pub enabled: Enabled,
}

impl Notify {
    /// The registration of a (checked) NOTIFY SET; nothing looked at yet (see
    /// [`Notify::absorb`]).
    pub fn new(groups: &[EventGroup], inotify: bool) -> Notify {
        let mut selected = None;
        let mut others = Vec::new();
        for g in groups {
            if g.filter.is_selected() {
                let mut e = SelectedEvents {
                    delayed: g.filter == NotifyFilter::SelectedDelayed,
                    ..SelectedEvents::default()
                };
                for ev in &g.events {
                    match ev {
                        NotifyEvent::MessageNew(attrs) => {
                            e.new = true;
                            e.fetch = attrs.clone();
                        }
                        NotifyEvent::MessageExpunge => e.expunge = true,
                        NotifyEvent::FlagChange => e.flags = true,
                        _ => {}
                    }
                }
                selected = (!g.events.is_empty()).then_some(e);
            } else {
                others.push((g.filter.clone(), Wants::of(&g.events)));
            }
        }
        Notify {
            selected,
            groups: others,
            watched: BTreeMap::new(),
            names: BTreeMap::new(),
            directories: BTreeMap::new(),
            subscriptions: Vec::new(),
            subscriptions_stamp: None,
            inotify,
            watcher: None,
            last_full: Instant::now(),
            last_look: Instant::now(),
            racy: false,
            enabled: Enabled::default(),
        }
    }

    /// Whether anything beyond the selected mailbox is watched.
    fn has_others(&self) -> bool {
        self.groups.iter().any(|(_, w)| *w != Wants::default())
    }

    fn wants_names(&self) -> bool {
        self.groups.iter().any(|(_, w)| w.names)
    }

    fn wants_subscriptions(&self) -> bool {
        self.groups.iter().any(|(f, w)| {
            w.subscriptions || (*f == NotifyFilter::Subscribed && *w != Wants::default())
        })
    }

    /// Whether `filter` covers `name` (existing or not).
    fn covers(filter: &NotifyFilter, name: &str, subscribed: &[String]) -> bool {
        match filter {
            NotifyFilter::Selected | NotifyFilter::SelectedDelayed => false,
            // No MDA here is told where it may deliver (procmail and sieve can put
            // mail anywhere), so INBOXES is PERSONAL (§6.3).
            NotifyFilter::Personal | NotifyFilter::Inboxes => true,
            NotifyFilter::Subscribed => subscribed.iter().any(|s| s == name),
            NotifyFilter::Subtree(roots) => roots.iter().any(|r| {
                name == r
                    || name
                        .strip_prefix(r.as_str())
                        .is_some_and(|rest| rest.starts_with(DELIMITER))
            }),
            NotifyFilter::Mailboxes(names) => names.iter().any(|n| n == name),
        }
    }

    /// The events wanted for `name`.
    fn wants_for(&self, name: &str, subscribed: &[String]) -> Wants {
        self.groups
            .iter()
            .filter(|(f, _)| Notify::covers(f, name, subscribed))
            .fold(Wants::default(), |a, (_, w)| a.union(*w))
    }

    /// The names to watch for message events: every selectable name a filter
    /// covers, but the selected mailbox.
    fn targets(&self, selected: Option<&Path>) -> BTreeMap<String, (PathBuf, Wants)> {
        self.names
            .iter()
            .filter(|(_, n)| !n.attributes.noselect && Some(n.path.as_path()) != selected)
            .filter_map(|(name, n)| {
                let w = self.wants_for(name, &self.subscriptions);
                w.message().then(|| (name.clone(), (n.path.clone(), w)))
            })
            .collect()
    }

    /// Lists the user's names now.
    fn list_names(store: &Store) -> BTreeMap<String, Name> {
        let mut names = BTreeMap::new();
        if let Ok(entries) = store.list("", "*") {
            for e in entries {
                let Ok(r) = store.resolve(&e.name) else {
                    continue;
                };
                let id = std::fs::symlink_metadata(&r.path)
                    .ok()
                    .map(|m| (m.dev(), m.ino()));
                names.insert(
                    e.name,
                    Name {
                        attributes: e.attributes,
                        path: r.path,
                        id,
                    },
                );
            }
        }
        names
    }

    fn directory_stamps(&self, store: &Store) -> BTreeMap<PathBuf, Option<Stamp>> {
        let root = store.policy().root();
        std::iter::once(root)
            .chain(
                self.names
                    .values()
                    .filter(|n| n.attributes.noselect)
                    .map(|n| n.path.clone()),
            )
            .map(|p| {
                let s = stamp(&p);
                (p, s)
            })
            .collect()
    }

    fn read_subscriptions(store: &Store) -> Vec<String> {
        let mut subs: Vec<String> = store.subscriptions().list().unwrap_or_default();
        for s in &mut subs {
            if mailbox::names::is_inbox(s) {
                *s = mailbox::names::INBOX.to_string();
            }
        }
        subs
    }

    /// Takes what this session changed itself without reporting it (the names,
    /// subscriptions and mailboxes that changed since the last look), follows a
    /// change of the selected mailbox, and remakes the inotify watch.
    pub fn absorb(&mut self, store: &Store, selected: Option<&Path>) -> Result<(), Overflow> {
        let mut untold = Vec::new();
        self.check(store, selected, &mut untold)?;
        self.retarget(store, selected, false, None)?;
        self.rewatch(store, selected);
        Ok(())
    }

    /// Takes the state of everything watched (at NOTIFY SET) and makes the
    /// inotify watch. `Err` when more than [`MAX_WATCHED`] mailboxes would be
    /// watched.
    pub fn start(&mut self, store: &Store, selected: Option<&Path>) -> Result<(), Overflow> {
        if self.has_others() {
            self.names = Notify::list_names(store);
            self.directories = self.directory_stamps(store);
            let subs = store.subscriptions();
            self.subscriptions_stamp = stamp(subs.path());
            self.subscriptions = Notify::read_subscriptions(store);
        }
        self.retarget(store, selected, true, None)?;
        self.rewatch(store, selected);
        self.last_full = Instant::now();
        self.last_look = self.last_full;
        self.note_racy();
        Ok(())
    }

    /// Makes the watched set the targets of now; mailboxes new to it get their
    /// state taken (all of them when `fresh`).
    ///
    /// A mailbox that another session brought under a filter (created,
    /// subscribed, renamed into a subtree) is told with the STATUS line of
    /// `SET STATUS` when `told` is given: its state is taken when it is found,
    /// which may be after changes since it came under the filter, so the client
    /// learns where the STATUS lines that follow count from.
    fn retarget(
        &mut self,
        store: &Store,
        selected: Option<&Path>,
        fresh: bool,
        mut told: Option<&mut Vec<u8>>,
    ) -> Result<(), Overflow> {
        let targets = self.targets(selected);
        if targets.len() > MAX_WATCHED {
            return Err(Overflow);
        }
        let mut old = std::mem::take(&mut self.watched);
        for (name, (path, wants)) in targets {
            let keep = old.remove(&name).filter(|w| !fresh && w.path == path);
            let w = match keep {
                Some(mut w) => {
                    w.wants = wants;
                    w
                }
                None => {
                    let w = Watched {
                        stamp: stamp(&path),
                        status: store.status(&name).ok(),
                        path,
                        wants,
                    };
                    if let Some(out) = told.as_deref_mut() {
                        first_status(out, &name, &w);
                    }
                    w
                }
            };
            self.watched.insert(name, w);
        }
        Ok(())
    }

    fn rewatch(&mut self, store: &Store, selected: Option<&Path>) {
        self.watcher = None;
        if !self.inotify {
            return;
        }
        let mut paths: Vec<PathBuf> = Vec::new();
        paths.extend(selected.map(Path::to_path_buf));
        if self.has_others() {
            paths.push(store.policy().home.clone());
            paths.push(store.policy().inbox.clone());
            paths.extend(
                self.directories
                    .keys()
                    .take(MAX_WATCHED_DIRECTORIES)
                    .cloned(),
            );
        }
        if !paths.is_empty() {
            self.watcher = Watcher::new_many(&paths);
        }
    }

    /// Whether it is time to look: inotify saw something, or there is no inotify
    /// (the caller waits a poll slice between calls), or the safety interval
    /// passed.
    pub fn changed(&mut self) -> bool {
        let due = self.last_full.elapsed() >= SAFETY_CHECK
            || (self.racy && self.last_look.elapsed() >= RACY_LOOK);
        match &mut self.watcher {
            Some(w) => w.changed() || due,
            None => true,
        }
    }

    /// Whether the inotify watch is working (else the caller polls).
    pub fn watching(&self) -> bool {
        self.watcher.is_some()
    }

    /// The inotify descriptor, to wait on beside the connection.
    pub fn watch_fd(&self) -> Option<std::os::fd::RawFd> {
        self.watcher.as_ref().map(Watcher::raw_fd)
    }

    /// How long a wait may last before the next full look is due.
    pub fn until_due(&self) -> Duration {
        let full = SAFETY_CHECK.saturating_sub(self.last_full.elapsed());
        if self.racy {
            full.min(RACY_LOOK.saturating_sub(self.last_look.elapsed()))
        } else {
            full
        }
    }

    /// Looks at the other mailboxes, the names and the subscriptions, and writes
    /// what changed to `out`. `Err`: the watched set outgrew its bound.
    pub fn check(
        &mut self,
        store: &Store,
        selected: Option<&Path>,
        out: &mut Vec<u8>,
    ) -> Result<(), Overflow> {
        if self.last_full.elapsed() >= SAFETY_CHECK {
            self.last_full = Instant::now();
        }
        self.last_look = Instant::now();
        self.racy = false;
        if !self.has_others() {
            return Ok(());
        }
        let mut retarget = false;
        // Subscriptions first: the names' LIST lines below use the new list.
        let subs_path = store.subscriptions().path().to_path_buf();
        let subs_stamp = stamp(&subs_path);
        let old_subscriptions = self.subscriptions.clone();
        if !unchanged(&self.subscriptions_stamp, &subs_stamp) {
            self.subscriptions_stamp = subs_stamp;
            let new = Notify::read_subscriptions(store);
            if new != self.subscriptions {
                self.subscriptions = new;
                retarget = true;
            }
        }
        let dirs = self.directory_stamps(store);
        let dirs_unchanged = dirs.len() == self.directories.len()
            && self
                .directories
                .iter()
                .all(|(p, s)| dirs.get(p).is_some_and(|n| unchanged(s, n)));
        let old_names = if !dirs_unchanged {
            let names = Notify::list_names(store);
            let old = std::mem::replace(&mut self.names, names);
            self.directories = self.directory_stamps(store);
            retarget = true;
            Some(old)
        } else {
            None
        };
        if let Some(old) = &old_names {
            if self.wants_names() {
                self.report_names(old, &old_subscriptions, out);
            }
        }
        if self.wants_subscriptions() && old_subscriptions != self.subscriptions {
            self.report_subscriptions(&old_subscriptions, out);
        }
        if retarget {
            self.retarget(store, selected, false, Some(out))?;
            if old_names.is_some() {
                self.rewatch(store, selected);
            }
        }
        for (name, w) in self.watched.iter_mut() {
            let now = stamp(&w.path);
            if unchanged(&w.stamp, &now) {
                continue;
            }
            w.stamp = now;
            let status = store.status(name).ok();
            if let (Some(old), Some(new)) = (w.status, status) {
                status_change(out, name, w.wants, self.enabled, &old, &new);
            }
            if status.is_some() {
                w.status = status;
            }
        }
        self.note_racy();
        Ok(())
    }

    /// Whether a stamp of the last look was racy, so that the next look comes
    /// within [`RACY_LOOK`].
    fn note_racy(&mut self) {
        let racy = |s: &Option<Stamp>| s.is_some_and(|s| s.racy);
        self.racy = racy(&self.subscriptions_stamp)
            || self.directories.values().any(racy)
            || self.watched.values().any(|w| racy(&w.stamp));
    }

    /// The STATUS lines a `NOTIFY SET STATUS` answers before its OK (§3.1).
    pub fn initial_status(&self, out: &mut Vec<u8>) {
        for (name, w) in &self.watched {
            first_status(out, name, w);
        }
    }

    /// MailboxName: LIST lines for the names made, removed and renamed since
    /// `old`, those the filters cover.
    fn report_names(&self, old: &BTreeMap<String, Name>, old_subs: &[String], out: &mut Vec<u8>) {
        let gone: Vec<&String> = old
            .keys()
            .filter(|n| !self.names.contains_key(*n))
            .collect();
        let added: Vec<&String> = self
            .names
            .keys()
            .filter(|n| !old.contains_key(*n))
            .collect();
        // A name that went and one that came with the same file: a rename.
        let mut renamed: Vec<(&String, &String)> = Vec::new();
        for a in &added {
            let id = self.names[*a].id;
            if id.is_none() || a.as_str() == mailbox::names::INBOX {
                continue;
            }
            if let Some(g) = gone.iter().find(|g| old[**g].id == id) {
                renamed.push((g, a));
            }
        }
        // Only the top of a renamed hierarchy is told (§5.4).
        let below = |x: &str, top: &str| {
            x.strip_prefix(top)
                .is_some_and(|rest| rest.starts_with(DELIMITER))
        };
        let inner = |(g, a): &(&String, &String)| {
            renamed
                .iter()
                .any(|(pg, pa)| below(g, pg) && below(a, pa) && g[pg.len()..] == a[pa.len()..])
        };
        let tops: Vec<(&String, &String)> = renamed.iter().filter(|r| !inner(r)).copied().collect();
        let in_rename = |n: &str, old_side: bool| {
            renamed.iter().any(|(g, a)| {
                if old_side {
                    g.as_str() == n
                } else {
                    a.as_str() == n
                }
            })
        };
        let covered = |n: &str| {
            self.groups.iter().any(|(f, w)| {
                w.names
                    && (Notify::covers(f, n, &self.subscriptions) || Notify::covers(f, n, old_subs))
            })
        };
        for g in &gone {
            if !in_rename(g, true) && covered(g) {
                list_line(out, &["\\NonExistent"], g, None);
            }
        }
        for a in &added {
            if !in_rename(a, false) && covered(a) {
                list_line(out, &attributes(&self.names[*a].attributes), a, None);
            }
        }
        for (g, a) in tops {
            if covered(a) || covered(g) {
                list_line(out, &attributes(&self.names[a].attributes), a, Some(g));
            }
        }
        // A parent whose children came or went is affected too (§5.4): a name
        // that stayed but whose hierarchy attributes changed (\Marked, which
        // any delivery flips, is not one of them).
        let shape = |a: &ListAttributes| (a.noselect, a.noinferiors, a.has_children);
        for (name, n) in &self.names {
            if let Some(o) = old.get(name) {
                if shape(&o.attributes) != shape(&n.attributes) && covered(name) {
                    list_line(out, &attributes(&n.attributes), name, None);
                }
            }
        }
    }

    /// SubscriptionChange: a LIST line for each name subscribed or unsubscribed
    /// since `old`, with its attributes as they are (§5.5).
    fn report_subscriptions(&self, old: &[String], out: &mut Vec<u8>) {
        let old_set: BTreeSet<&String> = old.iter().collect();
        let new_set: BTreeSet<&String> = self.subscriptions.iter().collect();
        for name in old_set.symmetric_difference(&new_set) {
            let wanted = self.groups.iter().any(|(f, w)| {
                w.subscriptions
                    && (Notify::covers(f, name, old)
                        || Notify::covers(f, name, &self.subscriptions))
            });
            if !wanted {
                continue;
            }
            let mut attrs = match self.names.get(*name) {
                Some(n) => attributes(&n.attributes),
                None => vec!["\\NonExistent"],
            };
            if new_set.contains(name) {
                attrs.push("\\Subscribed");
            }
            list_line(out, &attrs, name, None);
        }
    }
}

/// The LIST attributes of a name (RFC 3501, RFC 3348 children).
fn attributes(a: &ListAttributes) -> Vec<&'static str> {
    crate::command::list_attributes(a)
}

/// `* LIST (attrs) "/" name [("OLDNAME" (old))]`.
fn list_line(out: &mut Vec<u8>, attrs: &[&str], name: &str, old: Option<&str>) {
    out.extend_from_slice(format!("* LIST ({}) \"/\" ", attrs.join(" ")).as_bytes());
    respond::mailbox_name(out, name);
    if let Some(old) = old {
        out.extend_from_slice(b" (\"OLDNAME\" (");
        respond::mailbox_name(out, old);
        out.extend_from_slice(b"))");
    }
    out.extend_from_slice(b"\r\n");
}

/// The first STATUS line of a watched mailbox: what its events need (§3.1).
fn first_status(out: &mut Vec<u8>, name: &str, w: &Watched) {
    let Some(st) = &w.status else { return };
    let mut items = Vec::new();
    if w.wants.new || w.wants.expunge {
        items.push(("MESSAGES", u64::from(st.messages)));
    }
    if w.wants.new {
        items.push(("UIDNEXT", u64::from(st.uid_next.get())));
    }
    if w.wants.new || w.wants.flags {
        items.push(("UIDVALIDITY", u64::from(st.uid_validity.get())));
    }
    if w.wants.flags {
        items.push(("UNSEEN", u64::from(st.unseen)));
        // RFC 5465 §5.4 with CONDSTORE (RFC 7162): where flag changes
        // will be measured from.
        items.push(("HIGHESTMODSEQ", st.highest_modseq.get()));
    }
    status_line(out, name, &items);
}

/// `* STATUS name (item value ...)`; nothing without items.
fn status_line(out: &mut Vec<u8>, name: &str, items: &[(&str, u64)]) {
    if items.is_empty() {
        return;
    }
    out.extend_from_slice(b"* STATUS ");
    respond::mailbox_name(out, name);
    let values: Vec<String> = items.iter().map(|(k, v)| format!("{k} {v}")).collect();
    out.extend_from_slice(format!(" ({})\r\n", values.join(" ")).as_bytes());
}

/// The STATUS line telling what changed between `old` and `new` that `wants`
/// asks about (RFC 5465 §5.1-5.3).
///
/// With CONDSTORE enabled, HIGHESTMODSEQ comes with an arrival (§5.2) and, with
/// QRESYNC, with an expunge (§5.3); and any change of HIGHESTMODSEQ is a flag
/// change for FlagChange, told with HIGHESTMODSEQ and UIDVALIDITY (§5.1) —
/// without CONDSTORE only a change of UNSEEN can be told.
fn status_change(
    out: &mut Vec<u8>,
    name: &str,
    wants: Wants,
    enabled: Enabled,
    old: &MailboxStatus,
    new: &MailboxStatus,
) {
    let mut items = Vec::new();
    let modseq = ("HIGHESTMODSEQ", new.highest_modseq.get());
    if new.uid_validity != old.uid_validity {
        // Every UID the client knew is void: all of it again.
        items.push(("MESSAGES", u64::from(new.messages)));
        items.push(("UIDNEXT", u64::from(new.uid_next.get())));
        items.push(("UIDVALIDITY", u64::from(new.uid_validity.get())));
        if wants.flags {
            items.push(("UNSEEN", u64::from(new.unseen)));
        }
        if enabled.condstore {
            items.push(modseq);
        }
        status_line(out, name, &items);
        return;
    }
    let arrived = new.uid_next.get().saturating_sub(old.uid_next.get());
    // Each arrival takes a UID; what the count lacks beyond them was expunged.
    let expunged = (old.messages + arrived).saturating_sub(new.messages);
    let new_told = wants.new && arrived > 0;
    let expunge_told = wants.expunge && (expunged > 0 || new.messages < old.messages);
    if new_told || expunge_told {
        items.push(("MESSAGES", u64::from(new.messages)));
        items.push(("UIDNEXT", u64::from(new.uid_next.get())));
    }
    let flags_told = wants.flags
        && (new.unseen != old.unseen
            || (enabled.condstore && new.highest_modseq != old.highest_modseq));
    if flags_told {
        if enabled.condstore {
            items.push(("UIDVALIDITY", u64::from(new.uid_validity.get())));
        }
        if new.unseen != old.unseen {
            items.push(("UNSEEN", u64::from(new.unseen)));
        }
    }
    let with_modseq = (new_told && enabled.condstore)
        || (expunge_told && enabled.qresync)
        || (flags_told && enabled.condstore);
    if with_modseq {
        items.push(modseq);
    }
    status_line(out, name, &items);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_of_a_file_changed_just_now_proves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("box");
        std::fs::write(&path, b"x").unwrap();
        let fresh = stamp(&path);
        assert!(fresh.is_some_and(|s| s.racy));
        assert!(
            !unchanged(&fresh, &stamp(&path)),
            "a second change in the same clock tick would leave the same stamp"
        );
        // Changed long ago (mtime set back; ctime cannot be, so the stamp is
        // made by hand as a look a minute later would make it).
        let old = Stamp {
            racy: false,
            ..fresh.unwrap()
        };
        assert!(unchanged(&Some(old), &Some(old)));
        assert!(!unchanged(&Some(old), &None), "a removed file changed");
    }

    #[test]
    fn subtree_covers_the_name_and_its_inferiors_only() {
        let f = NotifyFilter::Subtree(vec!["Lists".into()]);
        assert!(Notify::covers(&f, "Lists", &[]));
        assert!(Notify::covers(&f, "Lists/rust", &[]));
        assert!(!Notify::covers(&f, "Listsmore", &[]));
        assert!(!Notify::covers(&f, "INBOX", &[]));
        let m = NotifyFilter::Mailboxes(vec!["a*".into()]);
        assert!(Notify::covers(&m, "a*", &[]));
        assert!(
            !Notify::covers(&m, "ab", &[]),
            "no wildcards in MAILBOXES (§6.6)"
        );
    }

    #[test]
    fn status_changes_name_what_the_events_ask_for() {
        let old = MailboxStatus {
            messages: 3,
            recent: 0,
            uid_next: mailbox::uid::Uid::new(10).unwrap(),
            uid_validity: mailbox::uid::Uidvalidity::new(7).unwrap(),
            unseen: 1,
            highest_modseq: mailbox::uid::ModSeq::MIN,
            size: 300,
        };
        let all = Wants {
            new: true,
            expunge: true,
            flags: true,
            ..Wants::default()
        };
        let mut out = Vec::new();
        let arrived = MailboxStatus {
            messages: 4,
            uid_next: mailbox::uid::Uid::new(11).unwrap(),
            ..old
        };
        status_change(&mut out, "box", all, Enabled::default(), &old, &arrived);
        assert_eq!(out, b"* STATUS \"box\" (MESSAGES 4 UIDNEXT 11)\r\n");
        out.clear();
        let flags_only = Wants {
            flags: true,
            ..Wants::default()
        };
        status_change(
            &mut out,
            "box",
            flags_only,
            Enabled::default(),
            &old,
            &arrived,
        );
        assert!(out.is_empty(), "an arrival is no flag change");
        let seen = MailboxStatus { unseen: 0, ..old };
        status_change(&mut out, "box", flags_only, Enabled::default(), &old, &seen);
        assert_eq!(out, b"* STATUS \"box\" (UNSEEN 0)\r\n");
        out.clear();
        // One expunged, one arrived: the count stays, the expunge is still seen.
        let swapped = MailboxStatus {
            uid_next: mailbox::uid::Uid::new(11).unwrap(),
            ..old
        };
        let expunge_only = Wants {
            expunge: true,
            ..Wants::default()
        };
        status_change(
            &mut out,
            "box",
            expunge_only,
            Enabled::default(),
            &old,
            &swapped,
        );
        assert_eq!(out, b"* STATUS \"box\" (MESSAGES 3 UIDNEXT 11)\r\n");
    }
}
