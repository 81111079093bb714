//! SORT and THREAD, with their UID forms (RFC 5256), over the messages a search
//! program selects ([`super::search::matching`]).
//!
//! Sort keys as RFC 5256 §3 defines them and UW computed them: ARRIVAL is the
//! INTERNALDATE; DATE the Date header in UTC, or the INTERNALDATE when the header
//! is missing or unparsable; FROM, TO and CC the addr-mailbox of the first address
//! (a group's name for a group); SUBJECT the base subject (§2.1); SIZE the RFC822.SIZE.
//! Strings compare by i;unicode-casemap (I18NLEVEL=1): decomposed and case-folded,
//! as the message crate's canonical form. REVERSE reverses one key; messages equal
//! on every key stay in mailbox order (§3). DISPLAYFROM and DISPLAYTO are RFC 5957's
//! keys; `SORT RETURN (...)` is RFC 5267's ESORT, answered as SEARCH RETURN is.

use std::cmp::Ordering;

use message::thread::{self, ThreadInput};
use message::{parse_date, Message};

use mailbox::uid::Uid;

use super::search::{completed, extended, matching, Hit, Matches};
use super::selected_mailbox;
use crate::host::Host;
use crate::respond::Reply;
use crate::selected::Selected;
use crate::session::Session;
use crate::types::{Numbering, SearchKey, SearchReturn, SortCriterion, SortKey, ThreadAlgorithm};

/// What one message is sorted or threaded by. The keys that need its header are
/// boxed apart: a sort by ARRIVAL or SIZE of a 100,000-message mailbox then holds
/// 32 octets a message, not ten strings.
struct Facts {
    seq: u32,
    uid: u32,
    arrival: i64,
    size: u64,
    header: Option<Box<HeaderFacts>>,
}

/// The facts read from a message's header.
#[derive(Default)]
struct HeaderFacts {
    date: i64,
    from: String,
    to: String,
    cc: String,
    display_from: String,
    display_to: String,
    subject: String,
    raw_subject: Vec<u8>,
    message_id: Option<String>,
    references: Vec<String>,
}

impl Facts {
    /// The DATE key: the Date header, else the INTERNALDATE.
    fn date(&self) -> i64 {
        self.header.as_ref().map_or(self.arrival, |h| h.date)
    }

    /// A string key; empty when the header was not read (no criterion needed it).
    fn text(&self, key: SortKey) -> &str {
        let Some(h) = &self.header else { return "" };
        match key {
            SortKey::From => &h.from,
            SortKey::To => &h.to,
            SortKey::Cc => &h.cc,
            SortKey::Subject => &h.subject,
            SortKey::DisplayFrom => &h.display_from,
            SortKey::DisplayTo => &h.display_to,
            SortKey::Arrival | SortKey::Date | SortKey::Size => "",
        }
    }
}

/// The sort key of an address field (RFC 5256 §3): the addr-mailbox of its first
/// address, canonical. That of a group's start is the group name (RFC 3501 §7.4.2),
/// so `Cc: Team: a@b;` sorts as "Team" (as Dovecot, and imaptest, expect; UW sorted
/// it as empty). A field that starts with an empty element of an obsolete list
/// (`Cc: , dave@...`) sorts as an empty one, as UW computed it.
fn first_mailbox(list: &[message::Address], raw: Option<&[u8]>) -> String {
    if raw.is_some_and(|r| r.trim_ascii_start().starts_with(b",")) {
        return String::new();
    }
    list.first()
        .and_then(|a| a.mailbox.as_deref())
        .map(|m| message::text::canonical(&String::from_utf8_lossy(m)))
        .unwrap_or_default()
}

/// The DISPLAYFROM / DISPLAYTO key of an address field (RFC 5957 §3): the
/// display name of its first address, RFC 2047-decoded, or when it has none (or
/// an empty one) its addr-spec; a group's start has only its name. Canonical as
/// the other string keys; empty when the field has no address.
fn first_display(list: &[message::Address]) -> String {
    let Some(a) = list.first() else {
        return String::new();
    };
    let decode = |b: &[u8]| {
        message::encoded_word::decode_header_value(b, message::encoded_word::Raw8bit::Utf8)
    };
    let name = a.name.as_deref().map(decode).unwrap_or_default();
    let shown = if !name.trim().is_empty() {
        name
    } else {
        let mut spec = a.mailbox.as_deref().map(decode).unwrap_or_default();
        let host = a.host.as_deref().filter(|h| {
            !h.is_empty()
                && *h != message::address::MISSING_HOST
                && *h != message::address::SYNTAX_ERROR_HOST
        });
        if let Some(h) = host {
            spec.push('@');
            spec.push_str(&String::from_utf8_lossy(h));
        }
        spec
    };
    message::text::canonical(shown.trim())
}

/// Reads each hit's header (when a key needs it) and computes its facts.
fn facts(sel: &mut Selected, hits: Vec<Hit>, header: bool) -> Vec<Facts> {
    let mut out = Vec::with_capacity(hits.len());
    if header {
        // The session ends the batch after the command.
        sel.mailbox.batch_reads();
    }
    for h in hits {
        let internal = h.info.internal_date.timestamp;
        let mut f = Facts {
            seq: h.seq.get(),
            uid: h.info.uid.get(),
            arrival: internal,
            size: h.info.rfc822_size,
            header: None,
        };
        if header {
            // A message expunged meanwhile sorts as one without a header.
            let bytes = sel.mailbox.header(h.seq).unwrap_or_default();
            let m = Message::parse(&bytes);
            let env = m.envelope();
            let fields = m.header();
            let raw_subject = env.subject.clone().unwrap_or_default();
            f.header = Some(Box::new(HeaderFacts {
                date: env
                    .date
                    .as_deref()
                    .and_then(parse_date)
                    .map_or(internal, |d| d.timestamp),
                from: first_mailbox(&env.from, fields.value("from").as_deref()),
                to: first_mailbox(&env.to, fields.value("to").as_deref()),
                cc: first_mailbox(&env.cc, fields.value("cc").as_deref()),
                display_from: first_display(&env.from),
                display_to: first_display(&env.to),
                subject: thread::subject_key(&thread::base_subject(&raw_subject)),
                raw_subject,
                message_id: fields
                    .value("message-id")
                    .and_then(|v| thread::message_ids(&v).into_iter().next()),
                references: thread::references(
                    fields.value("references").as_deref(),
                    fields.value("in-reply-to").as_deref(),
                ),
            }));
        }
        out.push(f);
    }
    out
}

fn compare(a: &Facts, b: &Facts, criteria: &[SortCriterion]) -> Ordering {
    for c in criteria {
        let o = match c.key {
            SortKey::Arrival => a.arrival.cmp(&b.arrival),
            SortKey::Date => a.date().cmp(&b.date()),
            SortKey::Size => a.size.cmp(&b.size),
            key => a.text(key).cmp(b.text(key)),
        };
        let o = if c.reverse { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.seq.cmp(&b.seq)
}

pub(crate) fn sort<H: Host>(
    s: &mut Session<H>,
    tag: &str,
    numbering: Numbering,
    ret: Option<&[SearchReturn]>,
    criteria: &[SortCriterion],
    charset: &str,
    keys: &[SearchKey],
) -> Reply {
    let sel = selected_mailbox!(s);
    let save = ret.is_some_and(|r| r.contains(&SearchReturn::Save));
    let Matches { hits, vanished } = match matching(sel, Some(charset), keys) {
        Ok(f) => f,
        Err(r) => {
            if save {
                // RFC 5182 §2.1: a failed SAVE leaves `$` empty.
                sel.saved.clear();
            }
            return r;
        }
    };
    let header = criteria
        .iter()
        .any(|c| !matches!(c.key, SortKey::Arrival | SortKey::Size));
    let mut all = facts(sel, hits, header);
    all.sort_by(|a, b| compare(a, b, criteria));
    let text = if numbering.is_uid() {
        "UID SORT completed"
    } else {
        "SORT completed"
    };
    if let Some(ret) = ret {
        if ret.contains(&SearchReturn::Update) {
            let order: Vec<Uid> = all.iter().filter_map(|f| Uid::new(f.uid)).collect();
            let context = crate::context::Context {
                tag: tag.to_string(),
                numbering,
                charset: Some(charset.to_string()),
                keys: keys.to_vec(),
                sort: Some(criteria.to_vec()),
                uids: order,
            };
            crate::context::keep(sel, &mut s.out, ret, context);
        }
        // RFC 5267 §3.2 (ESORT): the ESEARCH answer, in sort order.
        let numbers: Vec<u32> = all
            .iter()
            .map(|f| if numbering.is_uid() { f.uid } else { f.seq })
            .collect();
        let uids: Vec<Uid> = all.iter().filter_map(|f| Uid::new(f.uid)).collect();
        let answered = extended(
            &mut s.out,
            &mut sel.saved,
            tag,
            numbering,
            ret,
            &numbers,
            &uids,
            None,
        );
        let text = if answered {
            text
        } else {
            "SORT completed, result saved"
        };
        return completed(text, vanished);
    }
    let mut line = String::from("* SORT");
    for f in &all {
        line.push(' ');
        line.push_str(&(if numbering.is_uid() { f.uid } else { f.seq }).to_string());
    }
    line.push_str("\r\n");
    s.out.extend_from_slice(line.as_bytes());
    completed(text, vanished)
}

/// The UIDs of the messages that match `keys`, in the order of `criteria`: a
/// sort context's result ([`crate::context`]). `None` when the search cannot run.
pub(crate) fn sorted_uids(
    sel: &mut Selected,
    charset: Option<&str>,
    keys: &[SearchKey],
    criteria: &[SortCriterion],
) -> Option<Vec<Uid>> {
    let Matches { hits, .. } = matching(sel, charset, keys).ok()?;
    let header = criteria
        .iter()
        .any(|c| !matches!(c.key, SortKey::Arrival | SortKey::Size));
    let mut all = facts(sel, hits, header);
    all.sort_by(|a, b| compare(a, b, criteria));
    Some(all.iter().filter_map(|f| Uid::new(f.uid)).collect())
}

pub(crate) fn thread<H: Host>(
    s: &mut Session<H>,
    numbering: Numbering,
    algorithm: ThreadAlgorithm,
    charset: &str,
    keys: &[SearchKey],
) -> Reply {
    let sel = selected_mailbox!(s);
    let Matches { hits, vanished } = match matching(sel, Some(charset), keys) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let inputs: Vec<ThreadInput> = facts(sel, hits, true)
        .into_iter()
        .map(|f| {
            let h = f.header.unwrap_or_default();
            ThreadInput {
                id: if numbering.is_uid() { f.uid } else { f.seq },
                date: h.date,
                message_id: h.message_id,
                references: h.references,
                subject: h.raw_subject,
            }
        })
        .collect();
    let threads = match algorithm {
        ThreadAlgorithm::OrderedSubject => thread::ordered_subject(&inputs),
        ThreadAlgorithm::References => thread::references_thread(&inputs),
    };
    let mut line = String::from("* THREAD");
    if !threads.is_empty() {
        line.push(' ');
        line.push_str(&thread::write_threads(&threads));
    }
    line.push_str("\r\n");
    s.out.extend_from_slice(line.as_bytes());
    completed(
        if numbering.is_uid() {
            "UID THREAD completed"
        } else {
            "THREAD completed"
        },
        vanished,
    )
}
