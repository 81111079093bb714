//! NOTIFY (RFC 5465): `NOTIFY SET [STATUS] (filter events)...` and `NOTIFY NONE`,
//! and the session's side of the notifications: the selected mailbox's changes
//! and [`crate::notify::Notify::check`] between commands and in IDLE
//! ([`tick`]), this session's own changes taken in silently
//! ([`before_own_change`], [`after_own_change`]).
//!
//! The rules of §5 and §6.1 that make a command invalid are answered BAD: a second
//! SELECTED or SELECTED-DELAYED group, an event other than a message event with
//! them, fetch attributes with another filter, and for the selected mailbox
//! MessageNew without MessageExpunge (or the reverse) and FlagChange without
//! both. For other mailboxes the events may come alone (a STATUS line serves each
//! kind on its own; imaptest's notify group sends them so). Events this server
//! cannot tell of — AnnotationChange (no ANNOTATE), MailboxMetadataChange and
//! ServerMetadataChange (no METADATA), and unknown ones — are refused with
//! `NO [BADEVENT (...)]` naming those it can (§3.1).

use super::user_store;
use crate::host::Host;
use crate::notify::{Notify, Overflow, MAX_WATCHED};
use crate::respond::{untagged, Reply};
use crate::session::{Ending, Session};
use crate::types::{
    EventGroup, FetchAttribute, FetchItems, NotifyEvent, Numbering, SeqNumber, SeqRange,
    SequenceSet,
};

/// The events this server notifies of, for BADEVENT.
const SUPPORTED: &str = "MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange";

/// The BAD or NO answer for a NOTIFY SET the server will not take.
fn check(groups: &[EventGroup]) -> Result<(), Reply> {
    let selected: Vec<&EventGroup> = groups.iter().filter(|g| g.filter.is_selected()).collect();
    if selected.len() > 1 {
        return Err(Reply::bad(
            "NOTIFY: only one of SELECTED and SELECTED-DELAYED may be given",
        ));
    }
    for g in groups {
        let has = |f: fn(&NotifyEvent) -> bool| g.events.iter().any(f);
        if g.filter.is_selected() {
            if has(|e| !e.is_message_event()) {
                return Err(Reply::bad(
                    "NOTIFY: SELECTED and SELECTED-DELAYED take message events only",
                ));
            }
            let new = has(|e| matches!(e, NotifyEvent::MessageNew(_)));
            let expunge = has(|e| matches!(e, NotifyEvent::MessageExpunge));
            if new != expunge {
                return Err(Reply::bad(
                    "NOTIFY: MessageNew and MessageExpunge go together",
                ));
            }
            if !new && has(|e| matches!(e, NotifyEvent::FlagChange | NotifyEvent::AnnotationChange))
            {
                return Err(Reply::bad(
                    "NOTIFY: FlagChange needs MessageNew and MessageExpunge",
                ));
            }
        } else if has(|e| matches!(e, NotifyEvent::MessageNew(a) if !a.is_empty())) {
            return Err(Reply::bad(
                "NOTIFY: fetch attributes only for SELECTED and SELECTED-DELAYED",
            ));
        }
    }
    let unsupported = groups.iter().flat_map(|g| &g.events).any(|e| {
        matches!(
            e,
            NotifyEvent::AnnotationChange
                | NotifyEvent::MailboxMetadataChange
                | NotifyEvent::ServerMetadataChange
                | NotifyEvent::Other(_)
        )
    });
    if unsupported {
        return Err(Reply::no_code(
            format!("BADEVENT ({SUPPORTED})"),
            "NOTIFY failed: unsupported event",
        ));
    }
    Ok(())
}

pub(crate) fn set<H: Host>(s: &mut Session<H>, status: bool, groups: &[EventGroup]) -> Reply {
    if let Err(r) = check(groups) {
        return r;
    }
    let store = user_store!(s);
    let selected = s
        .selected
        .as_ref()
        .map(|sel| sel.mailbox.path().to_path_buf());
    let mut n = Notify::new(groups, s.settings.idle_inotify);
    n.enabled = s.enabled;
    if n.start(store, selected.as_deref()).is_err() {
        return Reply::no_code(
            "NOTIFICATIONOVERFLOW",
            format!("NOTIFY failed: more than {MAX_WATCHED} mailboxes to watch"),
        );
    }
    if status {
        n.initial_status(&mut s.out);
    }
    s.notify = Some(n);
    // The tagged OK follows the selected mailbox's changes (§3.1: an implicit NOOP),
    // which every command's report gives.
    Reply::ok("NOTIFY completed")
}

pub(crate) fn none<H: Host>(s: &mut Session<H>) -> Reply {
    s.notify = None;
    Reply::ok("NOTIFY completed")
}

/// §5.8: the registration is dropped, as after NOTIFY NONE.
fn overflow<H: Host>(s: &mut Session<H>) {
    s.notify = None;
    untagged(
        &mut s.out,
        &format!(
            "OK [NOTIFICATIONOVERFLOW] More than {MAX_WATCHED} mailboxes to watch; NOTIFY is off"
        ),
    );
}

/// Whether a command may change other mailboxes, names or subscriptions, or
/// which mailbox is selected: around it, [`before_own_change`] and
/// [`after_own_change`].
pub(crate) fn changes_others(body: &crate::types::CommandBody) -> bool {
    use crate::types::CommandBody::*;
    matches!(
        body,
        Append { .. }
            | Copy { .. }
            | Move { .. }
            | Create { .. }
            | Delete { .. }
            | Rename { .. }
            | Subscribe { .. }
            | Unsubscribe { .. }
            | Select { .. }
            | Examine { .. }
            | Close
            | Unselect
    )
}

/// Before a command of [`changes_others`]: what others changed is told first.
pub(crate) fn before_own_change<H: Host>(s: &mut Session<H>) {
    let (Some(n), Some(store)) = (s.notify.as_mut(), s.store.as_ref()) else {
        return;
    };
    n.enabled = s.enabled;
    let selected = s
        .selected
        .as_ref()
        .map(|sel| sel.mailbox.path().to_path_buf());
    if n.check(store, selected.as_deref(), &mut s.out).is_err() {
        overflow(s);
    }
}

/// After a command of [`changes_others`]: its changes are taken in untold.
pub(crate) fn after_own_change<H: Host>(s: &mut Session<H>) {
    let (Some(n), Some(store)) = (s.notify.as_mut(), s.store.as_ref()) else {
        return;
    };
    n.enabled = s.enabled;
    let selected = s
        .selected
        .as_ref()
        .map(|sel| sel.mailbox.path().to_path_buf());
    if n.absorb(store, selected.as_deref()).is_err() {
        overflow(s);
    }
}

/// The UID of the last message the client knows of in the selected mailbox.
pub(crate) fn last_known_uid<H: Host>(s: &Session<H>) -> u32 {
    s.selected
        .as_ref()
        .and_then(|sel| {
            let seq = mailbox::uid::SeqNumber::new(sel.exists)?;
            sel.mailbox.info(seq).map(|i| i.uid.get())
        })
        .unwrap_or(0)
}

/// MessageNew with fetch attributes (§5.2): after the EXISTS, a FETCH of each
/// message with a UID above `known`, with the attributes asked for.
pub(crate) fn fetch_new<H: Host>(s: &mut Session<H>, known: u32) {
    let Some(attrs) = s
        .notify
        .as_ref()
        .and_then(|n| n.selected.as_ref())
        .filter(|e| e.new && !e.fetch.is_empty())
        .map(|e| e.fetch.clone())
    else {
        return;
    };
    if last_known_uid(s) <= known {
        return;
    }
    let mut attrs: Vec<FetchAttribute> = attrs;
    attrs.retain(|a| *a != FetchAttribute::Uid);
    // With CONDSTORE on, every FETCH the server sends by itself has the MODSEQ
    // (RFC 7162 §3.1).
    if s.enabled.condstore && !attrs.contains(&FetchAttribute::ModSeq) {
        attrs.push(FetchAttribute::ModSeq);
    }
    let Some(from) = known.checked_add(1) else {
        return;
    };
    let set = SequenceSet(vec![SeqRange(
        SeqNumber::Value(from),
        SeqNumber::Value(u32::MAX),
    )]);
    let reply = super::fetch::run(
        s,
        Numbering::Uid,
        &set,
        &FetchItems::List(attrs),
        &crate::types::FetchModifiers::default(),
    );
    if let Some(sel) = s.selected.as_mut() {
        // FETCH keeps a shared lock for the reads of its command; this is none.
        sel.mailbox.release_read_lock();
    }
    if reply.status != crate::respond::Status::Ok {
        s.host.log(&format!(
            "NOTIFY: fetching new messages failed: {}",
            reply.text
        ));
    }
}

/// One look for notifications between commands (`idle` false) or in IDLE: the
/// selected mailbox's changes as the SELECTED group asks (none without one;
/// SELECTED-DELAYED holds expunges back outside IDLE), then the other mailboxes.
/// `Some` when the session must end.
pub(crate) fn tick<H: Host>(s: &mut Session<H>, idle: bool) -> Option<Ending> {
    let n = s.notify.as_mut()?;
    if !n.changed() {
        return None;
    }
    if let (Some(events), true) = (n.selected.clone(), s.selected.is_some()) {
        let allow_expunge = idle || !events.delayed;
        if let Some(sel) = s.selected.as_mut() {
            sel.report_flags = events.flags;
        }
        let ending = s.after_command_notifying(allow_expunge, Numbering::Uid, true);
        if let Some(sel) = s.selected.as_mut() {
            sel.report_flags = true;
        }
        if ending.is_some() {
            return ending;
        }
    }
    let (Some(n), Some(store)) = (s.notify.as_mut(), s.store.as_ref()) else {
        return None;
    };
    n.enabled = s.enabled;
    let selected = s
        .selected
        .as_ref()
        .map(|sel| sel.mailbox.path().to_path_buf());
    if let Err(Overflow) = n.check(store, selected.as_deref(), &mut s.out) {
        overflow(s);
    }
    None
}
