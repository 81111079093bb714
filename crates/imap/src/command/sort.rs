//! SORT and THREAD, with their UID forms (RFC 5256), over the messages a search
//! program selects ([`super::search::matching`]).
//!
//! Sort keys as RFC 5256 §3 defines them and UW computed them: ARRIVAL is the
//! INTERNALDATE; DATE the Date header in UTC, or the INTERNALDATE when the header
//! is missing or unparsable; FROM, TO and CC the addr-mailbox of the first address
//! (a group's name for a group); SUBJECT the base subject (§2.1); SIZE the RFC822.SIZE.
//! Strings compare by i;unicode-casemap (I18NLEVEL=1): decomposed and case-folded,
//! as the message crate's canonical form. REVERSE reverses one key; messages equal
//! on every key stay in mailbox order (§3).

use std::cmp::Ordering;

use message::thread::{self, ThreadInput};
use message::{parse_date, Message};

use super::search::{completed, matching, Hit, Matches};
use super::selected_mailbox;
use crate::host::Host;
use crate::respond::Reply;
use crate::selected::Selected;
use crate::session::Session;
use crate::types::{Numbering, SearchKey, SortCriterion, SortKey, ThreadAlgorithm};

/// What one message is sorted or threaded by.
#[derive(Default)]
struct Facts {
    seq: u32,
    uid: u32,
    arrival: i64,
    date: i64,
    size: u64,
    from: String,
    to: String,
    cc: String,
    subject: String,
    raw_subject: Vec<u8>,
    message_id: Option<String>,
    references: Vec<String>,
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
            date: internal,
            size: h.info.rfc822_size,
            ..Facts::default()
        };
        if header {
            // A message expunged meanwhile sorts as one without a header.
            let bytes = sel.mailbox.header(h.seq).unwrap_or_default();
            let m = Message::parse(&bytes);
            let env = m.envelope();
            if let Some(d) = env.date.as_deref().and_then(parse_date) {
                f.date = d.timestamp;
            }
            let h = m.header();
            f.from = first_mailbox(&env.from, h.value("from").as_deref());
            f.to = first_mailbox(&env.to, h.value("to").as_deref());
            f.cc = first_mailbox(&env.cc, h.value("cc").as_deref());
            f.raw_subject = env.subject.clone().unwrap_or_default();
            f.subject = thread::subject_key(&thread::base_subject(&f.raw_subject));
            f.message_id = h
                .value("message-id")
                .and_then(|v| thread::message_ids(&v).into_iter().next());
            f.references = thread::references(
                h.value("references").as_deref(),
                h.value("in-reply-to").as_deref(),
            );
        }
        out.push(f);
    }
    out
}

fn compare(a: &Facts, b: &Facts, criteria: &[SortCriterion]) -> Ordering {
    for c in criteria {
        let o = match c.key {
            SortKey::Arrival => a.arrival.cmp(&b.arrival),
            SortKey::Date => a.date.cmp(&b.date),
            SortKey::Size => a.size.cmp(&b.size),
            SortKey::From => a.from.cmp(&b.from),
            SortKey::To => a.to.cmp(&b.to),
            SortKey::Cc => a.cc.cmp(&b.cc),
            SortKey::Subject => a.subject.cmp(&b.subject),
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
    numbering: Numbering,
    criteria: &[SortCriterion],
    charset: &str,
    keys: &[SearchKey],
) -> Reply {
    let sel = selected_mailbox!(s);
    let Matches { hits, vanished } = match matching(sel, Some(charset), keys) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let header = criteria
        .iter()
        .any(|c| !matches!(c.key, SortKey::Arrival | SortKey::Size));
    let mut all = facts(sel, hits, header);
    all.sort_by(|a, b| compare(a, b, criteria));
    let mut line = String::from("* SORT");
    for f in &all {
        line.push(' ');
        line.push_str(&(if numbering.is_uid() { f.uid } else { f.seq }).to_string());
    }
    line.push_str("\r\n");
    s.out.extend_from_slice(line.as_bytes());
    completed(
        if numbering.is_uid() {
            "UID SORT completed"
        } else {
            "SORT completed"
        },
        vanished,
    )
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
        .map(|f| ThreadInput {
            id: if numbering.is_uid() { f.uid } else { f.seq },
            date: f.date,
            message_id: f.message_id,
            references: f.references,
            subject: f.raw_subject,
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
