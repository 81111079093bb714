//! The arguments of NOTIFY (RFC 5465 §8).

use super::FetchAttribute;

/// `filter-mailboxes`: which mailboxes an event group watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyFilter {
    /// `SELECTED`: the selected mailbox, told at once.
    Selected,
    /// `SELECTED-DELAYED`: the selected mailbox, expunges held until a command
    /// that may report them (RFC 3501 §7.4.1).
    SelectedDelayed,
    /// `INBOXES`: mailboxes an MDA delivers to.
    Inboxes,
    /// `PERSONAL`: every mailbox of the user.
    Personal,
    /// `SUBSCRIBED`: the subscribed mailboxes, as the list is now.
    Subscribed,
    /// `SUBTREE`: these mailboxes and every mailbox below them.
    Subtree(Vec<String>),
    /// `MAILBOXES`: exactly these names (no wildcards).
    Mailboxes(Vec<String>),
}

impl NotifyFilter {
    /// Whether the filter names the selected mailbox (§6.1).
    pub fn is_selected(&self) -> bool {
        matches!(self, NotifyFilter::Selected | NotifyFilter::SelectedDelayed)
    }
}

/// One `event` of an event group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyEvent {
    /// `MessageNew`, with the fetch attributes of the selected mailbox's FETCH.
    MessageNew(Vec<FetchAttribute>),
    MessageExpunge,
    FlagChange,
    AnnotationChange,
    MailboxName,
    SubscriptionChange,
    MailboxMetadataChange,
    ServerMetadataChange,
    /// Any other atom (`event-ext`), upper-cased: refused with BADEVENT.
    Other(String),
}

impl NotifyEvent {
    /// The event's name as RFC 5465 spells it.
    pub fn name(&self) -> &str {
        match self {
            NotifyEvent::MessageNew(_) => "MessageNew",
            NotifyEvent::MessageExpunge => "MessageExpunge",
            NotifyEvent::FlagChange => "FlagChange",
            NotifyEvent::AnnotationChange => "AnnotationChange",
            NotifyEvent::MailboxName => "MailboxName",
            NotifyEvent::SubscriptionChange => "SubscriptionChange",
            NotifyEvent::MailboxMetadataChange => "MailboxMetadataChange",
            NotifyEvent::ServerMetadataChange => "ServerMetadataChange",
            NotifyEvent::Other(n) => n,
        }
    }

    /// Whether this is a `message-event` (the only kind SELECTED may carry).
    pub fn is_message_event(&self) -> bool {
        matches!(
            self,
            NotifyEvent::MessageNew(_)
                | NotifyEvent::MessageExpunge
                | NotifyEvent::FlagChange
                | NotifyEvent::AnnotationChange
        )
    }
}

/// `event-group`: a filter and its events; no events is `NONE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventGroup {
    pub filter: NotifyFilter,
    pub events: Vec<NotifyEvent>,
}
