//! CATENATE (RFC 4469): an APPEND message joined from TEXT literals and IMAP URLs
//! of messages and parts in the user's own mailboxes ([`crate::parse::imap_url`]).
//!
//! A URL part is read as FETCH BODY[section] reads it (the whole message, or only
//! its header for a top-level header section), so it holds no more than that FETCH
//! would. The joined message obeys the limit of a literal APPEND
//! (`max_literal_size`): past it the APPEND is `NO [TOOBIG]`, checked before each
//! part is added. A URL that is not ours, names a mailbox that is not there or is
//! remote, a UIDVALIDITY that is not the mailbox's, a UID that is not there, or a
//! part the message does not have is `NO [BADURL url]` (RFC 4469 §6: the code
//! carries the URL bare, per the RFC's errata 4046). Nothing is stored then: the
//! caller joins every message before it appends any.

use mailbox::mailbox::{Mailbox, Mode};
use mailbox::uid::Uid;
use message::{Message, Section, SectionKind};

use crate::host::Host;
use crate::parse::{imap_url, ImapUrl};
use crate::respond::Reply;
use crate::session::Session;
use crate::types::CatPart;

/// The APPEND's target exists and is local (TRYCREATE and REFERRAL come before any
/// URL is read, as for a plain APPEND).
pub(crate) fn check_target<H: Host>(s: &Session<H>, name: &str) -> Result<(), Reply> {
    if let Some(r) = super::referral(s, name) {
        return Err(r);
    }
    let Some(store) = s.store.as_ref() else {
        return Err(Reply::bad("Not authenticated"));
    };
    super::ensure_inbox(store, name)?;
    match store.resolve(name) {
        Err(e) => Err(Reply::mailbox_error("APPEND", &e)),
        Ok(r) if !r.path.exists() => Err(Reply::mailbox_error(
            "APPEND",
            &mailbox::error::Error::NoSuchMailbox(r.name),
        )),
        Ok(_) => Ok(()),
    }
}

/// The message the parts make, and whether a part came as a literal8 (the message
/// is then stored as BINARY APPEND stores one).
pub(crate) fn build<H: Host>(s: &mut Session<H>, parts: &[CatPart]) -> Result<(Vec<u8>, bool), Reply> {
    let limit = s.receiver.limits().literal;
    let mut out = Vec::new();
    let mut binary = false;
    // Mailboxes other than the selected one, opened once per APPEND.
    let mut opened: Vec<(std::path::PathBuf, Mailbox)> = Vec::new();
    for part in parts {
        let data = match part {
            CatPart::Text { data, binary: b } => {
                binary |= *b;
                std::borrow::Cow::Borrowed(data.as_slice())
            }
            CatPart::Url(url) => {
                let Some(data) = imap_url(url).and_then(|u| read(s, &u, &mut opened)) else {
                    return Err(Reply::no_code(
                        format!("BADURL {}", resp_text(url)),
                        "CATENATE failed: the URL names no message or part of yours",
                    ));
                };
                std::borrow::Cow::Owned(data)
            }
        };
        if (out.len() as u64).saturating_add(data.len() as u64) > limit {
            return Err(Reply::no_code(
                "TOOBIG",
                format!("CATENATE failed: the message would be larger than {limit} octets"),
            ));
        }
        out.extend_from_slice(&data);
    }
    Ok((out, binary))
}

/// The octets a URL names, or `None`.
pub(crate) fn read<H: Host>(
    s: &mut Session<H>,
    url: &ImapUrl,
    opened: &mut Vec<(std::path::PathBuf, Mailbox)>,
) -> Option<Vec<u8>> {
    let name = match &url.mailbox {
        Some(n) => n.clone(),
        // RFC 5092 §7.2: a relative URL is taken in the selected mailbox.
        None => s.selected.as_ref()?.name.clone(),
    };
    if super::referral(s, &name).is_some() {
        return None;
    }
    let store = s.store.as_ref()?;
    // The policy confines names to the user's own (no `~other`, no absolute paths).
    let resolved = store.resolve(&name).ok()?;
    let mbox: &mut Mailbox = match s.selected.as_mut() {
        Some(sel) if sel.mailbox.path() == resolved.path => &mut sel.mailbox,
        _ => {
            let at = match opened.iter().position(|(p, _)| *p == resolved.path) {
                Some(at) => at,
                None => {
                    let m = store.open(&name, Mode::ReadOnly).ok()?;
                    opened.push((resolved.path.clone(), m));
                    opened.len() - 1
                }
            };
            &mut opened[at].1
        }
    };
    if url.uid_validity.is_some_and(|v| v != mbox.uid_validity().get()) {
        return None;
    }
    let seq = mbox.seq_of_uid(Uid::new(url.uid)?)?;
    let full = Section::full();
    let section = url.section.as_ref().unwrap_or(&full);
    let header_only = section.path.is_empty()
        && matches!(
            section.kind,
            SectionKind::Header | SectionKind::HeaderFields(_) | SectionKind::HeaderFieldsNot(_)
        );
    let bytes = if header_only {
        mbox.header(seq)
    } else {
        mbox.message(seq)
    };
    mbox.release_read_lock();
    let bytes = bytes.ok()?;
    let msg = Message::parse(&bytes);
    if !section.path.is_empty() && !msg.has_part(&section.path) {
        return None;
    }
    let data = msg.section(section);
    let data = match url.partial {
        Some(p) => data.partial(p),
        None => data,
    };
    Some(data.data.into_owned())
}

/// The URL as `url-resp-text` (RFC 4469 §6): TEXT-CHARs without `]`.
fn resp_text(url: &str) -> String {
    let text: String = url
        .chars()
        .filter(|&c| !c.is_control() && c != ']')
        .take(1024)
        .collect();
    if text.is_empty() {
        "/".to_string()
    } else {
        text
    }
}
