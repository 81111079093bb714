//! command = tag SP (command-any / command-auth / command-nonauth / command-select)
//! (RFC 3501 §9): the name, then each command's arguments.

use super::core::{astring_utf8, atom, literal, upper_word};
use super::datetime::date_time;
use super::fetch::fetch_items;
use super::flag::{flag_list, flags_bare};
use super::mailbox::{list_mailbox, mailbox};
use super::search::search_keys;
use super::sequence::sequence_set;
use super::{ErrorKind, Fail, PResult, Parser};
use crate::types::{CommandBody, StatusItem, StoreMode};

pub(crate) fn body(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let at = p.pos;
    let name = match upper_word(p) {
        Ok(n) => n,
        Err(_) => return p.fail("a command name"),
    };
    if p.peek().is_some_and(|b| b != b' ') {
        // Something glued to the name ("NOOP(", "FETCH[") is no command of ours.
        return Err(unknown(p, at));
    }
    let body = match name.as_str() {
        "CAPABILITY" => CommandBody::Capability,
        "NOOP" => CommandBody::Noop,
        "LOGOUT" => CommandBody::Logout,
        "STARTTLS" => CommandBody::StartTls,
        "AUTHENTICATE" => authenticate(p)?,
        "LOGIN" => {
            p.sp()?;
            let user = astring_utf8(p)?;
            p.sp()?;
            let password = astring_utf8(p)?;
            CommandBody::Login { user, password }
        }
        "SELECT" => CommandBody::Select {
            mailbox: one_mailbox(p)?,
        },
        "EXAMINE" => CommandBody::Examine {
            mailbox: one_mailbox(p)?,
        },
        "CREATE" => CommandBody::Create {
            mailbox: one_mailbox(p)?,
        },
        "DELETE" => CommandBody::Delete {
            mailbox: one_mailbox(p)?,
        },
        "RENAME" => {
            let from = one_mailbox(p)?;
            let to = one_mailbox(p)?;
            CommandBody::Rename { from, to }
        }
        "SUBSCRIBE" => CommandBody::Subscribe {
            mailbox: one_mailbox(p)?,
        },
        "UNSUBSCRIBE" => CommandBody::Unsubscribe {
            mailbox: one_mailbox(p)?,
        },
        "LIST" | "LSUB" => {
            let reference = one_mailbox(p)?;
            p.sp()?;
            let pattern = list_mailbox(p)?;
            if name == "LIST" {
                CommandBody::List { reference, pattern }
            } else {
                CommandBody::Lsub { reference, pattern }
            }
        }
        "STATUS" => status(p)?,
        "APPEND" => append(p)?,
        "CHECK" => CommandBody::Check,
        "CLOSE" => CommandBody::Close,
        "EXPUNGE" => CommandBody::Expunge,
        "SEARCH" => search(p, false)?,
        "FETCH" => fetch(p, false)?,
        "STORE" => store(p, false)?,
        "COPY" => copy(p, false)?,
        "UID" => {
            p.sp()?;
            let at = p.pos;
            match upper_word(p)?.as_str() {
                "SEARCH" => search(p, true)?,
                "FETCH" => fetch(p, true)?,
                "STORE" => store(p, true)?,
                "COPY" => copy(p, true)?,
                _ => {
                    p.pos = at;
                    return p.fail("COPY, FETCH, SEARCH or STORE after UID");
                }
            }
        }
        _ => return Err(unknown(p, at)),
    };
    p.end()?;
    Ok(body)
}

fn unknown(p: &Parser<'_>, at: usize) -> Fail {
    let end = p.input[at..]
        .iter()
        .position(|&b| b == b' ')
        .map_or(p.input.len(), |i| at + i);
    let name: String = String::from_utf8_lossy(&p.input[at..end.min(at + 32)])
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    Fail {
        kind: ErrorKind::UnknownCommand(name),
        at,
    }
}

/// SP mailbox
fn one_mailbox(p: &mut Parser<'_>) -> PResult<String> {
    p.sp()?;
    mailbox(p)
}

/// AUTHENTICATE SP auth-type [SP (base64 / "=")]
fn authenticate(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let mechanism = String::from_utf8_lossy(atom(p)?).to_ascii_uppercase();
    let initial_response = if p.eat(b' ') {
        let start = p.pos;
        while p
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        {
            p.pos += 1;
        }
        if p.pos == start {
            return p.fail("a base64 initial response");
        }
        Some(p.input[start..p.pos].to_vec())
    } else {
        None
    };
    Ok(CommandBody::Authenticate {
        mechanism,
        initial_response,
    })
}

/// STATUS SP mailbox SP "(" status-att *(SP status-att) ")"
fn status(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mailbox = one_mailbox(p)?;
    p.sp()?;
    p.expect(b'(', "a list of status items")?;
    let mut items = Vec::new();
    loop {
        let at = p.pos;
        let item = match upper_word(p)?.as_str() {
            "MESSAGES" => StatusItem::Messages,
            "RECENT" => StatusItem::Recent,
            "UIDNEXT" => StatusItem::UidNext,
            "UIDVALIDITY" => StatusItem::UidValidity,
            "UNSEEN" => StatusItem::Unseen,
            _ => {
                p.pos = at;
                return p.fail("MESSAGES, RECENT, UIDNEXT, UIDVALIDITY or UNSEEN");
            }
        };
        items.push(item);
        if p.eat(b')') {
            break;
        }
        p.sp()?;
    }
    Ok(CommandBody::Status { mailbox, items })
}

/// APPEND SP mailbox [SP flag-list] [SP date-time] SP literal
fn append(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mailbox = one_mailbox(p)?;
    p.sp()?;
    let mut flags = Vec::new();
    if p.peek() == Some(b'(') {
        flags = flag_list(p)?;
        p.sp()?;
    }
    let mut date = None;
    if p.peek() == Some(b'"') {
        date = Some(date_time(p)?);
        p.sp()?;
    }
    let message = literal(p, true)?.to_vec();
    Ok(CommandBody::Append {
        mailbox,
        flags,
        date,
        message,
    })
}

/// SEARCH [SP "CHARSET" SP astring] 1*(SP search-key)
fn search(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let mut charset = None;
    let at = p.pos;
    if upper_word(p).is_ok_and(|w| w == "CHARSET") && p.peek() == Some(b' ') {
        p.sp()?;
        charset = Some(astring_utf8(p)?);
        p.sp()?;
    } else {
        p.pos = at;
    }
    let criteria = search_keys(p)?;
    Ok(CommandBody::Search {
        uid,
        charset,
        criteria,
    })
}

/// FETCH SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" ... ")")
fn fetch(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let set = sequence_set(p)?;
    p.sp()?;
    let items = fetch_items(p)?;
    Ok(CommandBody::Fetch { uid, set, items })
}

/// STORE SP sequence-set SP store-att-flags
/// store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
fn store(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let set = sequence_set(p)?;
    p.sp()?;
    let mode = if p.eat(b'+') {
        StoreMode::Add
    } else if p.eat(b'-') {
        StoreMode::Remove
    } else {
        StoreMode::Replace
    };
    let at = p.pos;
    let silent = match upper_word(p)?.as_str() {
        "FLAGS" => false,
        "FLAGS.SILENT" => true,
        _ => {
            p.pos = at;
            return p.fail("FLAGS or FLAGS.SILENT");
        }
    };
    p.sp()?;
    let flags = if p.peek() == Some(b'(') {
        flag_list(p)?
    } else {
        flags_bare(p)?
    };
    Ok(CommandBody::Store {
        uid,
        set,
        mode,
        silent,
        flags,
    })
}

/// COPY SP sequence-set SP mailbox
fn copy(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let set = sequence_set(p)?;
    let mailbox = one_mailbox(p)?;
    Ok(CommandBody::Copy { uid, set, mailbox })
}
