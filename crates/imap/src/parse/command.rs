//! command = tag SP (command-any / command-auth / command-nonauth / command-select)
//! (RFC 3501 §9): the name, then each command's arguments.

use super::core::{
    astring, astring_utf8, atom, literal, literal8, mod_sequence_valzer, mod_sequence_value, nstring,
    nz_number, string, upper_word,
};
use super::datetime::date_time;
use super::fetch::fetch_items;
use super::flag::{flag_list, flags_bare};
use super::mailbox::{list_mailbox, mailbox};
use super::search::search_keys;
use super::sequence::sequence_set;
use super::{ErrorKind, Fail, PResult, Parser};
use crate::types::{
    AppendMessage, CatPart, CommandBody, FetchModifiers, ListReturn, ListSelect, Numbering,
    PartialRange, Qresync, SearchReturn, SelectParams,
    SortCriterion, SortKey,
    StatusItem, StoreMode, ThreadAlgorithm,
};

/// RFC 2971 §3.3: at most 30 field/value pairs, fields of at most 30 octets,
/// values of at most 1024.
const ID_MAX_PAIRS: usize = 30;
const ID_MAX_FIELD: usize = 30;
const ID_MAX_VALUE: usize = 1024;

/// At most this many LIST patterns, ENABLE capabilities, SORT keys.
const MAX_ITEMS: usize = 64;

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
        "ID" => id(p)?,
        "ENABLE" => enable(p)?,
        "IDLE" => CommandBody::Idle,
        "GETQUOTA" => {
            p.sp()?;
            CommandBody::GetQuota {
                root: astring_utf8(p)?,
            }
        }
        "GETQUOTAROOT" => CommandBody::GetQuotaRoot {
            mailbox: one_mailbox(p)?,
        },
        "SETQUOTA" => setquota(p)?,
        "COMPRESS" => {
            p.sp()?;
            let mechanism = String::from_utf8_lossy(atom(p)?).to_ascii_uppercase();
            CommandBody::Compress { mechanism }
        }
        "NOTIFY" => super::notify::notify(p)?,
        "NAMESPACE" => CommandBody::Namespace,
        "GENURLAUTH" => genurlauth(p)?,
        "RESETKEY" => resetkey(p)?,
        "URLFETCH" => urlfetch(p)?,
        "UNSELECT" => CommandBody::Unselect,
        "CANCELUPDATE" => cancel_update(p)?,
        "SELECT" => CommandBody::Select {
            mailbox: one_mailbox(p)?,
            params: select_params(p)?,
        },
        "EXAMINE" => CommandBody::Examine {
            mailbox: one_mailbox(p)?,
            params: select_params(p)?,
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
        "LIST" => list(p)?,
        "RLIST" => {
            let reference = one_mailbox(p)?;
            p.sp()?;
            CommandBody::List {
                reference,
                patterns: vec![list_mailbox(p)?],
                select: vec![ListSelect::Remote],
                ret: Vec::new(),
            }
        }
        "LSUB" | "RLSUB" => {
            let reference = one_mailbox(p)?;
            p.sp()?;
            let pattern = list_mailbox(p)?;
            if name == "LSUB" {
                CommandBody::Lsub { reference, pattern }
            } else {
                CommandBody::Rlsub { reference, pattern }
            }
        }
        "STATUS" => status(p)?,
        "APPEND" => append(p)?,
        "CHECK" => CommandBody::Check,
        "CLOSE" => CommandBody::Close,
        "EXPUNGE" => CommandBody::Expunge,
        "SEARCH" => search(p, Numbering::Sequence)?,
        "FETCH" => fetch(p, Numbering::Sequence)?,
        "STORE" => store(p, Numbering::Sequence)?,
        "COPY" => copy(p, Numbering::Sequence)?,
        "MOVE" => move_(p, Numbering::Sequence)?,
        "SORT" => sort(p, Numbering::Sequence)?,
        "THREAD" => thread(p, Numbering::Sequence)?,
        "UID" => {
            p.sp()?;
            let at = p.pos;
            match upper_word(p)?.as_str() {
                "SEARCH" => search(p, Numbering::Uid)?,
                "FETCH" => fetch(p, Numbering::Uid)?,
                "STORE" => store(p, Numbering::Uid)?,
                "COPY" => copy(p, Numbering::Uid)?,
                "MOVE" => move_(p, Numbering::Uid)?,
                "SORT" => sort(p, Numbering::Uid)?,
                "THREAD" => thread(p, Numbering::Uid)?,
                "EXPUNGE" => {
                    p.sp()?;
                    CommandBody::UidExpunge {
                        set: sequence_set(p)?,
                    }
                }
                _ => {
                    p.pos = at;
                    return p.fail("COPY, EXPUNGE, FETCH, MOVE, SEARCH, SORT, STORE or THREAD after UID");
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

/// [SP "(" select-param *(SP select-param) ")"] (RFC 4466 §2.1), with the
/// parameters of RFC 7162: "CONDSTORE" / "QRESYNC" SP "(" uidvalidity SP
/// mod-sequence-value [SP known-uids] [SP seq-match-data] ")".
fn select_params(p: &mut Parser<'_>) -> PResult<SelectParams> {
    let mut params = SelectParams::default();
    if !p.eat(b' ') {
        return Ok(params);
    }
    p.expect(b'(', "'(' opening SELECT parameters")?;
    loop {
        let at = p.pos;
        match upper_word(p)?.as_str() {
            "CONDSTORE" if !params.condstore => params.condstore = true,
            "QRESYNC" if params.qresync.is_none() => {
                p.sp()?;
                p.expect(b'(', "'(' opening the QRESYNC parameters")?;
                let at = p.pos;
                let Some(uid_validity) = mailbox::uid::Uidvalidity::new(nz_number(p)?) else {
                    p.pos = at;
                    return p.fail("a UIDVALIDITY");
                };
                p.sp()?;
                let modseq = mod_sequence_value(p)?;
                let mut q = Qresync {
                    uid_validity,
                    modseq,
                    known_uids: None,
                    seq_match: None,
                };
                if p.eat(b' ') {
                    if p.peek() != Some(b'(') {
                        q.known_uids = Some(sequence_set(p)?);
                        if p.eat(b' ') {
                            q.seq_match = Some(seq_match(p)?);
                        }
                    } else {
                        q.seq_match = Some(seq_match(p)?);
                    }
                }
                p.expect(b')', "')' closing the QRESYNC parameters")?;
                params.qresync = Some(q);
            }
            _ => {
                p.pos = at;
                return p.fail("CONDSTORE or QRESYNC");
            }
        }
        if p.eat(b')') {
            return Ok(params);
        }
        p.sp()?;
    }
}

/// seq-match-data = "(" known-sequence-set SP known-uid-set ")" (RFC 7162 §3.2.5).
fn seq_match(p: &mut Parser<'_>) -> PResult<(crate::types::SequenceSet, crate::types::SequenceSet)> {
    p.expect(b'(', "'(' opening the sequence match data")?;
    let seqs = sequence_set(p)?;
    p.sp()?;
    let uids = sequence_set(p)?;
    p.expect(b')', "')' closing the sequence match data")?;
    Ok((seqs, uids))
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
    let items = status_items(p)?;
    Ok(CommandBody::Status { mailbox, items })
}

/// "(" status-att *(SP status-att) ")"
fn status_items(p: &mut Parser<'_>) -> PResult<Vec<StatusItem>> {
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
            "HIGHESTMODSEQ" => StatusItem::HighestModSeq,
            "SIZE" => StatusItem::Size,
            "APPENDLIMIT" => StatusItem::AppendLimit,
            _ => {
                p.pos = at;
                return p.fail("MESSAGES, RECENT, UIDNEXT, UIDVALIDITY, UNSEEN, HIGHESTMODSEQ, SIZE or APPENDLIMIT");
            }
        };
        if items.len() >= MAX_ITEMS {
            return p.fail("fewer status items");
        }
        items.push(item);
        if p.eat(b')') {
            break;
        }
        p.sp()?;
    }
    Ok(items)
}

/// APPEND SP mailbox 1*append-message (RFC 3502), where
/// append-message = [SP flag-list] [SP date-time] SP append-data and
/// append-data = literal / literal8 / "CATENATE" SP "(" cat-part *(SP cat-part) ")"
/// (RFC 4469 §5).
fn append(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mailbox = one_mailbox(p)?;
    let mut messages = Vec::new();
    loop {
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
        let binary = p.peek() == Some(b'~');
        let mut catenate = None;
        let data = if binary {
            literal8(p)?
        } else if p.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            catenate = Some(cat_parts(p)?);
            &[]
        } else {
            literal(p, true)?
        };
        messages.push(AppendMessage {
            flags,
            date,
            data: data.to_vec(),
            binary,
            catenate,
        });
        if p.at_end() {
            return Ok(CommandBody::Append { mailbox, messages });
        }
    }
}

/// astring as UTF-8 text (a URL).
fn url_text(p: &mut Parser<'_>) -> PResult<String> {
    let at = p.pos;
    match String::from_utf8(astring(p)?.into_owned()) {
        Ok(u) => Ok(u),
        Err(_) => {
            p.pos = at;
            p.fail("an IMAP URL")
        }
    }
}

/// genurlauth = "GENURLAUTH" 1*(SP url-rump SP mechanism) (RFC 4467 §9).
fn genurlauth(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mut urls = Vec::new();
    while urls.is_empty() || p.peek() == Some(b' ') {
        p.sp()?;
        let url = url_text(p)?;
        p.sp()?;
        let mech = upper_word(p)?;
        urls.push((url, mech));
    }
    Ok(CommandBody::GenUrlAuth { urls })
}

/// resetkey = "RESETKEY" [SP mailbox *(SP mechanism)] (RFC 4467 §9).
fn resetkey(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mut mailbox = None;
    let mut mechanisms = Vec::new();
    if p.peek() == Some(b' ') {
        mailbox = Some(one_mailbox(p)?);
        while p.peek() == Some(b' ') {
            p.sp()?;
            mechanisms.push(upper_word(p)?);
        }
    }
    Ok(CommandBody::ResetKey { mailbox, mechanisms })
}

/// urlfetch = "URLFETCH" 1*(SP url-fetch), url-fetch = astring /
/// "(" astring *(SP fetch-param) ")" (RFC 4467 §9, RFC 5524 §3).
fn urlfetch(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mut urls = Vec::new();
    while urls.is_empty() || p.peek() == Some(b' ') {
        p.sp()?;
        if p.eat(b'(') {
            let url = url_text(p)?;
            let mut params = Vec::new();
            while p.peek() == Some(b' ') {
                p.sp()?;
                params.push(upper_word(p)?);
            }
            p.expect(b')', "')' closing the URLFETCH parameters")?;
            urls.push((url, Some(params)));
        } else {
            urls.push((url_text(p)?, None));
        }
    }
    Ok(CommandBody::UrlFetch { urls })
}

/// "CATENATE" SP "(" cat-part *(SP cat-part) ")", where
/// cat-part = "TEXT" SP (literal / literal8) / "URL" SP astring (RFC 4469 §5).
fn cat_parts(p: &mut Parser<'_>) -> PResult<Vec<CatPart>> {
    let at = p.pos;
    if upper_word(p)? != "CATENATE" {
        p.pos = at;
        return p.fail("a literal or CATENATE");
    }
    p.sp()?;
    p.expect(b'(', "'(' opening the CATENATE parts")?;
    let mut parts = Vec::new();
    loop {
        let at = p.pos;
        let part = match upper_word(p)?.as_str() {
            "TEXT" => {
                p.sp()?;
                let binary = p.peek() == Some(b'~');
                let data = if binary { literal8(p)? } else { literal(p, false)? };
                CatPart::Text {
                    data: data.to_vec(),
                    binary,
                }
            }
            "URL" => {
                p.sp()?;
                let at = p.pos;
                match String::from_utf8(astring(p)?.into_owned()) {
                    Ok(url) => CatPart::Url(url),
                    Err(_) => {
                        p.pos = at;
                        return p.fail("an IMAP URL");
                    }
                }
            }
            _ => {
                p.pos = at;
                return p.fail("TEXT or URL");
            }
        };
        parts.push(part);
        if p.eat(b')') {
            return Ok(parts);
        }
        p.sp()?;
    }
}

/// ID SP ("(" [string SP nstring *(SP string SP nstring)] ")" / NIL) (RFC 2971).
fn id(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    if !p.eat(b'(') {
        let at = p.pos;
        if upper_word(p).is_ok_and(|w| w == "NIL") {
            return Ok(CommandBody::Id { parameters: None });
        }
        p.pos = at;
        return p.fail("a list of ID fields and values, or NIL");
    }
    let mut pairs = Vec::new();
    if p.eat(b')') {
        return Ok(CommandBody::Id {
            parameters: Some(pairs),
        });
    }
    loop {
        let at = p.pos;
        // The limits apply to the text kept (invalid UTF-8 becomes U+FFFD, three
        // octets), so that what is kept parses again (found by fuzzing).
        let field = String::from_utf8_lossy(&string(p)?).into_owned();
        if field.len() > ID_MAX_FIELD || pairs.len() >= ID_MAX_PAIRS {
            p.pos = at;
            return p.fail("at most 30 ID fields of at most 30 octets");
        }
        p.sp()?;
        let at = p.pos;
        let value = nstring(p)?.map(|v| String::from_utf8_lossy(&v).into_owned());
        if value.as_ref().is_some_and(|v| v.len() > ID_MAX_VALUE) {
            p.pos = at;
            return p.fail("ID values of at most 1024 octets");
        }
        pairs.push((field, value));
        if p.eat(b')') {
            return Ok(CommandBody::Id {
                parameters: Some(pairs),
            });
        }
        p.sp()?;
    }
}

/// ENABLE 1*(SP capability) (RFC 5161).
/// SETQUOTA quota-root SP "(" [setquota-resource *(SP setquota-resource)] ")"
/// (RFC 9208 §7), setquota-resource = resource-name SP resource-limit.
fn setquota(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let root = astring_utf8(p)?;
    p.sp()?;
    p.expect(b'(', "(")?;
    let mut limits = Vec::new();
    if !p.eat(b')') {
        loop {
            if limits.len() >= MAX_ITEMS {
                return p.fail("fewer resources");
            }
            let resource = String::from_utf8_lossy(atom(p)?).to_ascii_uppercase();
            p.sp()?;
            let limit = resource_limit(p)?;
            limits.push((resource, limit));
            if p.eat(b')') {
                break;
            }
            p.sp()?;
        }
    }
    Ok(CommandBody::SetQuota { root, limits })
}

/// resource-limit = number64 (RFC 9208 §7): 1*DIGIT below 2^63.
fn resource_limit(p: &mut Parser<'_>) -> PResult<u64> {
    let start = p.pos;
    let mut n: u64 = 0;
    while let Some(d) = p.peek().filter(u8::is_ascii_digit) {
        n = match n.checked_mul(10).and_then(|n| n.checked_add(u64::from(d - b'0'))) {
            Some(n) if n <= i64::MAX as u64 => n,
            _ => return p.fail("a number below 2^63"),
        };
        p.pos += 1;
    }
    if p.pos == start {
        return p.fail("a number");
    }
    Ok(n)
}

fn enable(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mut capabilities = Vec::new();
    while p.eat(b' ') {
        if capabilities.len() >= MAX_ITEMS {
            return p.fail("fewer capabilities");
        }
        capabilities.push(String::from_utf8_lossy(atom(p)?).to_ascii_uppercase());
    }
    if capabilities.is_empty() {
        return p.fail("a capability to enable");
    }
    Ok(CommandBody::Enable { capabilities })
}

/// LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
/// (RFC 5258 §6).
fn list(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let mut select = Vec::new();
    if p.eat(b'(') {
        while !p.eat(b')') {
            if !select.is_empty() {
                p.sp()?;
            }
            let at = p.pos;
            let option = match upper_word(p)?.as_str() {
                "SUBSCRIBED" => ListSelect::Subscribed,
                "REMOTE" => ListSelect::Remote,
                "RECURSIVEMATCH" => ListSelect::RecursiveMatch,
                "SPECIAL-USE" => ListSelect::SpecialUse,
                _ => {
                    p.pos = at;
                    return p.fail("SUBSCRIBED, REMOTE, RECURSIVEMATCH or SPECIAL-USE");
                }
            };
            if select.len() >= MAX_ITEMS {
                return p.fail("fewer selection options");
            }
            if !select.contains(&option) {
                select.push(option);
            }
        }
        // RFC 5258 §3.1: RECURSIVEMATCH only modifies a base option.
        if select.contains(&ListSelect::RecursiveMatch)
            && !select
                .iter()
                .any(|o| matches!(o, ListSelect::Subscribed | ListSelect::SpecialUse))
        {
            return p.fail("RECURSIVEMATCH with SUBSCRIBED or SPECIAL-USE");
        }
        p.sp()?;
    }
    let reference = mailbox(p)?;
    p.sp()?;
    let mut patterns = Vec::new();
    if p.eat(b'(') {
        loop {
            if patterns.len() >= MAX_ITEMS {
                return p.fail("fewer patterns");
            }
            patterns.push(list_mailbox(p)?);
            if p.eat(b')') {
                break;
            }
            p.sp()?;
        }
    } else {
        patterns.push(list_mailbox(p)?);
    }
    let mut ret = Vec::new();
    if p.eat(b' ') {
        let at = p.pos;
        if upper_word(p).ok().as_deref() != Some("RETURN") {
            p.pos = at;
            return p.fail("RETURN");
        }
        p.sp()?;
        p.expect(b'(', "a list of return options")?;
        while !p.eat(b')') {
            if !ret.is_empty() {
                p.sp()?;
            }
            let at = p.pos;
            let option = match upper_word(p)?.as_str() {
                "SUBSCRIBED" => ListReturn::Subscribed,
                "CHILDREN" => ListReturn::Children,
                "SPECIAL-USE" => ListReturn::SpecialUse,
                "STATUS" => {
                    p.sp()?;
                    ListReturn::Status(status_items(p)?)
                }
                _ => {
                    p.pos = at;
                    return p.fail("SUBSCRIBED, CHILDREN, SPECIAL-USE or STATUS");
                }
            };
            if ret.len() >= MAX_ITEMS {
                return p.fail("fewer return options");
            }
            ret.push(option);
        }
    }
    Ok(CommandBody::List {
        reference,
        patterns,
        select,
        ret,
    })
}

/// `"RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")" SP` when
/// present (RFC 4731, RFC 5182 SAVE, RFC 5267 PARTIAL with RFC 9394's negative
/// ranges); `None` (nothing consumed) when the next word is not RETURN. ALL and
/// PARTIAL together, and two PARTIALs, are refused: each asks for a different
/// set of results in the one ALL/PARTIAL slot of the answer.
fn search_return(p: &mut Parser<'_>) -> PResult<Option<Vec<SearchReturn>>> {
    let at = p.pos;
    if !(upper_word(p).is_ok_and(|w| w == "RETURN") && p.peek() == Some(b' ')) {
        p.pos = at;
        return Ok(None);
    }
    p.sp()?;
    p.expect(b'(', "a list of search return options")?;
    let mut options: Vec<SearchReturn> = Vec::new();
    while !p.eat(b')') {
        if !options.is_empty() {
            p.sp()?;
        }
        let at = p.pos;
        let option = match upper_word(p)?.as_str() {
            "MIN" => SearchReturn::Min,
            "MAX" => SearchReturn::Max,
            "ALL" => SearchReturn::All,
            "COUNT" => SearchReturn::Count,
            "SAVE" => SearchReturn::Save,
            "UPDATE" => SearchReturn::Update,
            "PARTIAL" => {
                p.sp()?;
                SearchReturn::Partial(partial_range(p)?)
            }
            _ => {
                p.pos = at;
                return p.fail("MIN, MAX, ALL, COUNT, SAVE, UPDATE or PARTIAL");
            }
        };
        let slot = |o: &SearchReturn| matches!(o, SearchReturn::All | SearchReturn::Partial(_));
        if slot(&option) && options.iter().any(|o| slot(o) && *o != option) {
            p.pos = at;
            return p.fail("ALL or one PARTIAL, not both");
        }
        if !options.contains(&option) {
            options.push(option);
        }
    }
    p.sp()?;
    Ok(Some(options))
}

/// CANCELUPDATE 1*(SP tag-string) (RFC 5267 §4.2); tag-string = string.
fn cancel_update(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mut tags = Vec::new();
    while p.peek() == Some(b' ') {
        p.sp()?;
        if tags.len() >= MAX_ITEMS {
            return p.fail("fewer tags");
        }
        tags.push(String::from_utf8_lossy(&string(p)?).into_owned());
    }
    if tags.is_empty() {
        return p.fail("a tag to cancel the updates of");
    }
    Ok(CommandBody::CancelUpdate { tags })
}

/// partial-range = partial-range-first / partial-range-last (RFC 9394 §3):
/// `nz-number ":" nz-number` or `"-" nz-number ":-" nz-number`, either order.
fn partial_range(p: &mut Parser<'_>) -> PResult<PartialRange> {
    let from_end = p.eat(b'-');
    let a = nz_number(p)?;
    p.expect(b':', "':' in a partial range")?;
    if from_end {
        p.expect(b'-', "a negative end of a negative partial range")?;
    }
    let b = nz_number(p)?;
    Ok(PartialRange {
        first: a.min(b),
        last: a.max(b),
        from_end,
    })
}

/// SEARCH [SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"]
/// [SP "CHARSET" SP astring] 1*(SP search-key) (RFC 3501, RFC 4731, RFC 5182)
fn search(p: &mut Parser<'_>, numbering: Numbering) -> PResult<CommandBody> {
    p.sp()?;
    let ret = search_return(p)?;
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
        numbering,
        ret,
        charset,
        criteria,
    })
}

/// SORT [SP search-return-opts] SP "(" sort-criterion *(SP sort-criterion) ")"
/// SP charset 1*(SP search-key) (RFC 5256 §5, RFC 5267 §3.2).
fn sort(p: &mut Parser<'_>, numbering: Numbering) -> PResult<CommandBody> {
    p.sp()?;
    let ret = search_return(p)?;
    p.expect(b'(', "a list of sort criteria")?;
    let mut criteria = Vec::new();
    loop {
        let at = p.pos;
        let mut word = upper_word(p)?;
        let reverse = word == "REVERSE";
        if reverse {
            p.sp()?;
            word = upper_word(p)?;
        }
        let Some(key) = SortKey::ALL.into_iter().find(|k| k.name() == word) else {
            p.pos = at;
            return p.fail("ARRIVAL, CC, DATE, DISPLAYFROM, DISPLAYTO, FROM, SIZE, SUBJECT or TO");
        };
        if criteria.len() >= MAX_ITEMS {
            return p.fail("fewer sort criteria");
        }
        criteria.push(SortCriterion { reverse, key });
        if p.eat(b')') {
            break;
        }
        p.sp()?;
    }
    p.sp()?;
    let charset = astring_utf8(p)?;
    p.sp()?;
    let keys = search_keys(p)?;
    Ok(CommandBody::Sort {
        numbering,
        ret,
        criteria,
        charset,
        keys,
    })
}

/// THREAD SP thread-alg SP charset 1*(SP search-key) (RFC 5256 §5).
fn thread(p: &mut Parser<'_>, numbering: Numbering) -> PResult<CommandBody> {
    p.sp()?;
    let at = p.pos;
    let algorithm = match upper_word(p)?.as_str() {
        "ORDEREDSUBJECT" => ThreadAlgorithm::OrderedSubject,
        "REFERENCES" => ThreadAlgorithm::References,
        _ => {
            p.pos = at;
            return p.fail("ORDEREDSUBJECT or REFERENCES");
        }
    };
    p.sp()?;
    let charset = astring_utf8(p)?;
    p.sp()?;
    let keys = search_keys(p)?;
    Ok(CommandBody::Thread {
        numbering,
        algorithm,
        charset,
        keys,
    })
}

/// FETCH SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" ... ")")
fn fetch(p: &mut Parser<'_>, numbering: Numbering) -> PResult<CommandBody> {
    p.sp()?;
    let set = sequence_set(p)?;
    p.sp()?;
    let items = fetch_items(p)?;
    let mut modifiers = FetchModifiers::default();
    if p.eat(b' ') {
        // fetch-modifiers (RFC 4466 §2.4; RFC 7162 §3.1.4, §3.2.6).
        p.expect(b'(', "'(' opening FETCH modifiers")?;
        loop {
            let at = p.pos;
            match upper_word(p)?.as_str() {
                "CHANGEDSINCE" if modifiers.changed_since.is_none() => {
                    p.sp()?;
                    modifiers.changed_since = Some(mod_sequence_valzer(p)?);
                }
                "VANISHED" if !modifiers.vanished => modifiers.vanished = true,
                _ => {
                    p.pos = at;
                    return p.fail("CHANGEDSINCE or VANISHED");
                }
            }
            if p.eat(b')') {
                break;
            }
            p.sp()?;
        }
    }
    Ok(CommandBody::Fetch {
        numbering,
        set,
        items,
        modifiers,
    })
}

/// STORE SP sequence-set SP store-att-flags
/// store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
fn store(p: &mut Parser<'_>, numbering: Numbering) -> PResult<CommandBody> {
    p.sp()?;
    let set = sequence_set(p)?;
    p.sp()?;
    let mut unchanged_since = None;
    if p.eat(b'(') {
        // store-modifiers (RFC 4466 §2.5): UNCHANGEDSINCE (RFC 7162 §3.1.3).
        let at = p.pos;
        if upper_word(p)? != "UNCHANGEDSINCE" {
            p.pos = at;
            return p.fail("UNCHANGEDSINCE");
        }
        p.sp()?;
        unchanged_since = Some(mod_sequence_valzer(p)?);
        p.expect(b')', "')' closing STORE modifiers")?;
        p.sp()?;
    }
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
        numbering,
        set,
        unchanged_since,
        mode,
        silent,
        flags,
    })
}

/// MOVE SP sequence-set SP mailbox (RFC 6851)
fn move_(p: &mut Parser<'_>, numbering: Numbering) -> PResult<CommandBody> {
    p.sp()?;
    let set = sequence_set(p)?;
    let mailbox = one_mailbox(p)?;
    Ok(CommandBody::Move { numbering, set, mailbox })
}

/// COPY SP sequence-set SP mailbox
fn copy(p: &mut Parser<'_>, numbering: Numbering) -> PResult<CommandBody> {
    p.sp()?;
    let set = sequence_set(p)?;
    let mailbox = one_mailbox(p)?;
    Ok(CommandBody::Copy { numbering, set, mailbox })
}
