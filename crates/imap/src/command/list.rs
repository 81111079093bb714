//! LIST and LSUB (RFC 3501 §6.3.8, §6.3.9) with LIST-EXTENDED (RFC 5258),
//! SPECIAL-USE (RFC 6154), LIST-STATUS (RFC 5819) and the remote mailboxes of
//! MAILBOX-REFERRALS (RFC 2193: RLIST, RLSUB).
//!
//! `LIST "" ""` answers the hierarchy delimiter; names go out in modified UTF-7
//! with \Noinferiors, \Noselect, \Marked / \Unmarked, \HasChildren /
//! \HasNoChildren (RFC 3348), the special-use attributes of the configured
//! mailboxes (always, as RFC 6154 §2 allows), \Subscribed when asked for, and
//! \NonExistent for subscribed names that are not there. Remote mailboxes are
//! listed (with \Remote) only by RLIST and `LIST (REMOTE)`, remote subscriptions
//! only by RLSUB.

use std::collections::BTreeMap;

use mailbox::list::{matches, ListAttributes, ListEntry};
use mailbox::names::{DELIMITER, INBOX};

use super::user_store;
use crate::host::Host;
use crate::respond::{self, Reply};
use crate::session::Session;
use crate::types::{ListReturn, ListSelect, StatusItem};

/// One LIST response being built.
#[derive(Default)]
struct Row {
    attributes: Option<ListAttributes>,
    subscribed: bool,
    remote: bool,
    /// RECURSIVEMATCH: an inferior is subscribed (CHILDINFO, RFC 5258 §3.5).
    child_subscribed: bool,
}

/// Names in LIST order: INBOX first, then by name.
type Rows = BTreeMap<(bool, String), Row>;

fn key(name: &str) -> (bool, String) {
    (name != INBOX, name.to_string())
}

pub(crate) fn list<H: Host>(
    s: &mut Session<H>,
    reference: &str,
    patterns: &[String],
    select: &[ListSelect],
    ret: &[ListReturn],
) -> Reply {
    if patterns.len() == 1 && patterns[0].is_empty() {
        // The delimiter, and the root of the reference's hierarchy (§6.3.8).
        let root = reference.find('/').map_or("", |i| &reference[..=i]);
        s.out.extend_from_slice(b"* LIST (\\Noselect) \"/\" ");
        respond::mailbox_name(&mut s.out, root);
        s.out.extend_from_slice(b"\r\n");
        return Reply::ok("LIST completed");
    }
    let by_subscription = select.contains(&ListSelect::Subscribed);
    let recursive = select.contains(&ListSelect::RecursiveMatch);
    let special_only = select.contains(&ListSelect::SpecialUse);
    let remote = select.contains(&ListSelect::Remote);
    let show_subscribed = by_subscription || ret.contains(&ListReturn::Subscribed);
    let status_items: Option<&[StatusItem]> = ret.iter().find_map(|r| match r {
        ListReturn::Status(items) => Some(items.as_slice()),
        _ => None,
    });
    let raw_patterns: Vec<&String> = patterns.iter().filter(|p| !p.is_empty()).collect();
    let patterns: Vec<String> = raw_patterns
        .iter()
        .map(|p| format!("{reference}{p}"))
        .collect();
    let matched = |name: &str| patterns.iter().any(|p| matches(p, name));

    // What exists here, under every pattern.
    let store = user_store!(s);
    let mut local: BTreeMap<String, ListAttributes> = BTreeMap::new();
    let wanted: &[&String] = if by_subscription { &[] } else { &raw_patterns };
    for p in wanted {
        // The library checks the reference against the name policy.
        match store.list(reference, p) {
            Ok(entries) => {
                for ListEntry { name, attributes } in entries {
                    local.insert(name, attributes);
                }
            }
            // A reference or pattern the policy refuses names nothing one may list.
            Err(mailbox::error::Error::BadName(_)) => {}
            Err(e) => return Reply::mailbox_error("LIST", &e),
        }
    }
    let subscriptions = if show_subscribed || by_subscription {
        match store.subscriptions().list() {
            Ok(v) => v
                .into_iter()
                .map(|n| {
                    if mailbox::names::is_inbox(&n) {
                        INBOX.to_string()
                    } else {
                        n
                    }
                })
                .collect(),
            Err(e) => return Reply::mailbox_error("LIST", &mailbox::error::Error::Io(e)),
        }
    } else {
        Vec::new()
    };
    let refs = &s.settings.referrals;
    let is_remote = |name: &str| refs.remote_mailbox(name).is_some();

    let mut rows: Rows = BTreeMap::new();
    let reference_ok = reference.is_empty() || store.resolve(reference).is_ok();
    if by_subscription && reference_ok {
        for name in &subscriptions {
            if is_remote(name) && !remote {
                continue;
            }
            if matched(name) {
                rows.entry(key(name)).or_default();
            }
            if recursive {
                for (at, _) in name.match_indices(DELIMITER) {
                    let parent = &name[..at];
                    if matched(parent) && !matched(name) {
                        rows.entry(key(parent)).or_default().child_subscribed = true;
                    }
                }
            }
        }
        // What each listed name is: the exact name, looked up.
        for ((_, name), row) in rows.iter_mut() {
            if is_remote(name) {
                row.remote = true;
            } else {
                // The name as its own pattern: a `*` or `%` in it matches
                // itself too, and only the exact name is taken.
                row.attributes = store
                    .list("", name)
                    .ok()
                    .and_then(|v| v.into_iter().find(|e| e.name == *name))
                    .map(|e| e.attributes);
            }
        }
    } else if !by_subscription {
        for (name, attributes) in local {
            if is_remote(&name) {
                // Only reachable by referral: not a local mailbox (RFC 2193 §3).
                continue;
            }
            rows.insert(
                key(&name),
                Row {
                    attributes: Some(attributes),
                    ..Row::default()
                },
            );
        }
        if remote {
            for (name, _) in &refs.mailboxes {
                if matched(name) {
                    rows.insert(
                        key(name),
                        Row {
                            remote: true,
                            ..Row::default()
                        },
                    );
                }
            }
        }
    }
    for ((_, name), row) in rows.iter_mut() {
        row.subscribed = show_subscribed && subscriptions.iter().any(|n| n == name);
    }

    let mut out = Vec::new();
    for ((_, name), row) in &rows {
        let mut attrs: Vec<&str> = Vec::new();
        let mut selectable = false;
        match (&row.attributes, row.remote) {
            (_, true) => attrs.push("\\Remote"),
            (None, false) => attrs.push("\\NonExistent"),
            (Some(a), false) => {
                attrs.extend(attribute_names(a, true));
                selectable = !a.noselect;
                if selectable {
                    attrs.extend(s.settings.special_uses(name).map(|u| u.attribute()));
                }
            }
        }
        if special_only && !(selectable && s.settings.special_uses(name).next().is_some()) {
            continue;
        }
        if row.subscribed {
            attrs.push("\\Subscribed");
        }
        out.extend_from_slice(format!("* LIST ({}) \"/\" ", attrs.join(" ")).as_bytes());
        respond::mailbox_name(&mut out, name);
        if row.child_subscribed {
            out.extend_from_slice(b" (\"CHILDINFO\" (\"SUBSCRIBED\"))");
        }
        out.extend_from_slice(b"\r\n");
        if let (Some(items), true) = (status_items, selectable) {
            // RFC 5819: a mailbox whose status cannot be had is listed without.
            if let Ok(line) = super::status::response(s, name, items) {
                out.extend_from_slice(&line);
            }
        }
    }
    s.out.extend_from_slice(&out);
    Reply::ok("LIST completed")
}

/// The attributes of an existing name in an unsolicited LIST (RFC 5465 §5.4).
pub(crate) fn list_attributes(a: &ListAttributes) -> Vec<&'static str> {
    attribute_names(a, true)
}

/// The RFC 3501 / RFC 3348 attributes of an existing name.
fn attribute_names(a: &ListAttributes, children: bool) -> Vec<&'static str> {
    let mut attrs: Vec<&str> = Vec::new();
    if a.noinferiors {
        attrs.push("\\Noinferiors");
    }
    if a.noselect {
        attrs.push("\\Noselect");
    }
    if a.marked {
        attrs.push("\\Marked");
    }
    if a.unmarked {
        attrs.push("\\Unmarked");
    }
    if children && !a.noinferiors {
        attrs.push(if a.has_children {
            "\\HasChildren"
        } else {
            "\\HasNoChildren"
        });
    }
    attrs
}

/// LSUB, and RLSUB (`remote`) which also answers remote subscriptions.
pub(crate) fn lsub<H: Host>(s: &mut Session<H>, reference: &str, pattern: &str, remote: bool) -> Reply {
    let what = if remote { "RLSUB" } else { "LSUB" };
    let entries = match user_store!(s).lsub(reference, pattern) {
        Ok(e) => e,
        Err(mailbox::error::Error::BadName(_)) => Vec::new(),
        Err(e) => return Reply::mailbox_error(what, &e),
    };
    let refs = &s.settings.referrals;
    for e in entries {
        if !remote && refs.remote_mailbox(&e.name).is_some() {
            continue;
        }
        let attrs = attribute_names(&e.attributes, false);
        s.out
            .extend_from_slice(format!("* LSUB ({}) \"/\" ", attrs.join(" ")).as_bytes());
        respond::mailbox_name(&mut s.out, &e.name);
        s.out.extend_from_slice(b"\r\n");
    }
    Reply::ok(format!("{what} completed"))
}
