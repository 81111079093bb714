//! NOTIFY (RFC 5465 §8): `NOTIFY NONE` and
//! `NOTIFY SET [STATUS] 1*(SP "(" filter-mailboxes SP events ")")`.

use super::core::{atom, upper_word};
use super::fetch::fetch_att;
use super::mailbox::mailbox;
use super::{PResult, Parser};
use crate::types::{CommandBody, EventGroup, NotifyEvent, NotifyFilter};

/// At most this many event groups, events per group, mailboxes per filter and
/// fetch attributes per MessageNew.
pub const MAX_NOTIFY_ITEMS: usize = 64;

/// After the command name.
pub(crate) fn notify(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let at = p.pos;
    match upper_word(p)?.as_str() {
        "NONE" => Ok(CommandBody::NotifyNone),
        "SET" => {
            let mut status = false;
            let mut groups = Vec::new();
            p.sp()?;
            if p.peek() != Some(b'(') {
                let at = p.pos;
                if upper_word(p)? != "STATUS" {
                    p.pos = at;
                    return p.fail("STATUS or an event group");
                }
                status = true;
                p.sp()?;
            }
            loop {
                if groups.len() >= MAX_NOTIFY_ITEMS {
                    return p.fail("fewer event groups");
                }
                groups.push(event_group(p)?);
                if !p.eat(b' ') {
                    break;
                }
            }
            Ok(CommandBody::NotifySet { status, groups })
        }
        _ => {
            p.pos = at;
            p.fail("SET or NONE")
        }
    }
}

/// "(" filter-mailboxes SP events ")"
fn event_group(p: &mut Parser<'_>) -> PResult<EventGroup> {
    p.expect(b'(', "'(' opening an event group")?;
    let at = p.pos;
    let filter = match upper_word(p)?.as_str() {
        "SELECTED" => NotifyFilter::Selected,
        "SELECTED-DELAYED" => NotifyFilter::SelectedDelayed,
        "INBOXES" => NotifyFilter::Inboxes,
        "PERSONAL" => NotifyFilter::Personal,
        "SUBSCRIBED" => NotifyFilter::Subscribed,
        "SUBTREE" => {
            p.sp()?;
            NotifyFilter::Subtree(mailboxes(p)?)
        }
        "MAILBOXES" => {
            p.sp()?;
            NotifyFilter::Mailboxes(mailboxes(p)?)
        }
        _ => {
            p.pos = at;
            return p.fail("a mailbox filter (SELECTED, PERSONAL, SUBTREE, ...)");
        }
    };
    p.sp()?;
    let mut events = Vec::new();
    if p.eat(b'(') {
        loop {
            if events.len() >= MAX_NOTIFY_ITEMS {
                return p.fail("fewer events");
            }
            events.push(event(p)?);
            if !p.eat(b' ') {
                break;
            }
        }
        p.expect(b')', "')' closing the events")?;
    } else {
        let at = p.pos;
        if upper_word(p)? != "NONE" {
            p.pos = at;
            return p.fail("a list of events or NONE");
        }
    }
    p.expect(b')', "')' closing the event group")?;
    Ok(EventGroup { filter, events })
}

/// one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"
fn mailboxes(p: &mut Parser<'_>) -> PResult<Vec<String>> {
    if !p.eat(b'(') {
        return Ok(vec![mailbox(p)?]);
    }
    let mut names = Vec::new();
    loop {
        if names.len() >= MAX_NOTIFY_ITEMS {
            return p.fail("fewer mailboxes");
        }
        names.push(mailbox(p)?);
        if !p.eat(b' ') {
            break;
        }
    }
    p.expect(b')', "')' closing the mailboxes")?;
    Ok(names)
}

/// event = message-event / mailbox-event / user-event / event-ext (an atom).
fn event(p: &mut Parser<'_>) -> PResult<NotifyEvent> {
    let name = String::from_utf8_lossy(atom(p)?).to_ascii_uppercase();
    Ok(match name.as_str() {
        "MESSAGENEW" => {
            let mut attrs = Vec::new();
            if p.peek() == Some(b' ') && p.input.get(p.pos + 1) == Some(&b'(') {
                p.pos += 2;
                loop {
                    if attrs.len() >= MAX_NOTIFY_ITEMS {
                        return p.fail("fewer fetch attributes");
                    }
                    attrs.push(fetch_att(p)?);
                    if !p.eat(b' ') {
                        break;
                    }
                }
                p.expect(b')', "')' closing the fetch attributes")?;
            }
            NotifyEvent::MessageNew(attrs)
        }
        "MESSAGEEXPUNGE" => NotifyEvent::MessageExpunge,
        "FLAGCHANGE" => NotifyEvent::FlagChange,
        "ANNOTATIONCHANGE" => NotifyEvent::AnnotationChange,
        "MAILBOXNAME" => NotifyEvent::MailboxName,
        "SUBSCRIPTIONCHANGE" => NotifyEvent::SubscriptionChange,
        "MAILBOXMETADATACHANGE" => NotifyEvent::MailboxMetadataChange,
        "SERVERMETADATACHANGE" => NotifyEvent::ServerMetadataChange,
        _ => NotifyEvent::Other(name),
    })
}
