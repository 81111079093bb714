//! FETCH and UID FETCH (RFC 3501 §6.4.5, §7.4.2; BINARY per RFC 3516).
//!
//! Each message is read once, as little as the items need (nothing, the header,
//! or the whole message), and parsed once. BODY[...] without .PEEK, RFC822 and
//! RFC822.TEXT set \Seen in a read-write mailbox; the FETCH then carries FLAGS.
//! A message expunged by another session whose text is asked for is left out and
//! the command answers `OK [EXPUNGEISSUED]` (RFC 5530; RFC 2180 §4.1.2 allows NO
//! too, but clients take a NO for a failed FETCH and retry or give up, while what
//! still exists was sent): the client learns of the expunge at its next command
//! that allows one. Its flags and other metadata are still served (§4.1.1).
//!
//! CONDSTORE (RFC 7162 §3.1.4): the MODSEQ item, and the CHANGEDSINCE modifier,
//! which leaves out messages whose modseq is not above it and adds MODSEQ; both
//! switch CONDSTORE on. With QRESYNC, UID FETCH's VANISHED modifier first says
//! which of the UIDs named were expunged since (§3.2.6). Once CONDSTORE is on, a
//! FETCH that set \Seen writes the change at once and gives each such message's
//! new modseq in a FETCH of its own.

use mailbox::flags::Flags;
use mailbox::mailbox::StoreOp;
use message::{DateTime, Message, Partial, Section, SectionKind};

use super::selected_mailbox;
use crate::host::Host;
use crate::respond::{self, Reply};
use crate::session::Session;
use crate::types::{FetchAttribute, FetchItems, FetchModifiers, Numbering, SequenceSet};

pub(crate) fn run<H: Host>(
    s: &mut Session<H>,
    numbering: Numbering,
    set: &SequenceSet,
    items: &FetchItems,
    modifiers: &FetchModifiers,
) -> Reply {
    if modifiers.vanished {
        // RFC 7162 §3.2.6: UID FETCH only, with CHANGEDSINCE, once QRESYNC is on.
        if !numbering.is_uid() || modifiers.changed_since.is_none() {
            return Reply::bad("VANISHED needs UID FETCH and CHANGEDSINCE");
        }
        if !s.enabled.qresync {
            return Reply::bad("VANISHED not allowed: ENABLE QRESYNC first");
        }
    }
    let mut attrs = items.expand();
    if modifiers.changed_since.is_some() && !attrs.contains(&FetchAttribute::ModSeq) {
        attrs.push(FetchAttribute::ModSeq);
    }
    if attrs.contains(&FetchAttribute::ModSeq) && s.selected.is_some() {
        crate::modseq::enable_condstore(s);
    }
    let condstore = s.enabled.condstore;
    let sel = selected_mailbox!(s);
    let Some(mut seqs) = sel.resolve(set, numbering) else {
        return Reply::bad("Invalid message sequence number");
    };
    if modifiers.vanished {
        let scope = crate::modseq::uid_scope(&sel.mailbox, Some(set));
        let since = modifiers.changed_since.unwrap_or(0);
        let gone = crate::modseq::vanished_since(&sel.mailbox, since, &scope, None);
        crate::modseq::vanished_earlier(&mut s.out, &gone);
    }
    if let Some(since) = modifiers.changed_since {
        seqs.retain(|&q| sel.mailbox.modseq(q).is_some_and(|m| m.get() > since));
    }
    if numbering.is_uid() && !attrs.contains(&FetchAttribute::Uid) {
        attrs.insert(0, FetchAttribute::Uid);
    }
    let mut seen_set = Vec::new();
    let sets_seen = !sel.read_only && attrs.iter().any(FetchAttribute::sets_seen);
    let needs_whole = attrs
        .iter()
        .any(|a| a.needs_text() && !a.needs_header_only());
    let needs_header = attrs.iter().any(FetchAttribute::needs_header_only);
    let mut gone = false;
    let mut failure: Option<Reply> = None;
    if needs_whole || needs_header {
        sel.mailbox.batch_reads();
    }
    for seq in seqs {
        let Some(info) = sel.mailbox.info(seq) else {
            continue;
        };
        let bytes = if needs_whole {
            Some(sel.mailbox.message(seq))
        } else if needs_header {
            Some(sel.mailbox.header(seq))
        } else {
            None
        };
        let bytes = match bytes.transpose() {
            Ok(b) => b,
            Err(mailbox::error::Error::Expunged) => {
                gone = true;
                continue;
            }
            Err(e) => {
                failure = Some(Reply::mailbox_error("FETCH", &e));
                continue;
            }
        };
        let mut add_flags = false;
        if sets_seen && !info.expunged && !info.flags.contains(Flags::SEEN) {
            if let Ok(true) = sel.mailbox.store(seq, StoreOp::Add, Flags::SEEN, &[]) {
                sel.dirty = true;
                add_flags = !attrs.contains(&FetchAttribute::Flags);
                seen_set.push(seq);
            }
        }
        let Some(info) = sel.mailbox.info(seq) else {
            continue;
        };
        let msg = bytes.as_deref().map(Message::parse);
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(format!("* {seq} FETCH (").as_bytes());
        let mut first = true;
        let mut wrote_any = false;
        for a in &attrs {
            let start = out.len();
            if !first {
                out.push(b' ');
            }
            match item(&mut out, a, &info, sel.mailbox.keywords(), msg.as_ref()) {
                Ok(()) => {
                    first = false;
                    wrote_any = true;
                }
                Err(e) => {
                    out.truncate(start);
                    failure = Some(Reply::no_code(
                        e.response_code(),
                        format!("FETCH failed: {e}"),
                    ));
                }
            }
        }
        if add_flags {
            if !first {
                out.push(b' ');
            }
            out.extend_from_slice(b"FLAGS ");
            let names = sel.mailbox.keywords().names_of(info.keywords);
            respond::flag_list(&mut out, info.flags, &names, info.recent);
            wrote_any = true;
        }
        if !wrote_any {
            // Something must identify the message (UW sends its UID).
            out.extend_from_slice(format!("UID {}", info.uid).as_bytes());
        }
        out.extend_from_slice(b")\r\n");
        // Reading the text caught up with the file, which may have brought keywords
        // another session defined: FLAGS names them before this answer uses them.
        sel.report_keywords(&mut s.out);
        s.out.extend_from_slice(&out);
        if s.out.len() >= crate::session::SPILL {
            // Writing may block on a slow client: no lock held meanwhile.
            sel.mailbox.release_read_lock();
            sel.mailbox.batch_reads();
        }
        if crate::session::spill(&mut s.out, &mut s.host).is_err() {
            // The connection is gone; the next read ends the session.
            return Reply::no("FETCH interrupted: the connection failed");
        }
    }
    if condstore && !seen_set.is_empty() {
        // The new modseqs exist once the change is written.
        sel.mailbox.release_read_lock();
        if sel.write_back().is_ok() {
            for seq in seen_set {
                sel.fetch_modseq(&mut s.out, seq);
            }
        }
    }
    if let Some(r) = failure {
        return r;
    }
    if gone {
        return Reply::ok_code(
            "EXPUNGEISSUED",
            "FETCH completed; some messages were expunged by another session and are left out",
        );
    }
    Reply::ok("FETCH completed")
}

fn date_time(info: &mailbox::mailbox::MessageInfo) -> String {
    DateTime {
        timestamp: info.internal_date.timestamp,
        offset_minutes: i32::from(info.internal_date.offset_minutes),
    }
    .to_imap()
}

fn partial_of(p: Option<(u32, u32)>) -> Option<Partial> {
    p.map(|(origin, octets)| Partial {
        origin: u64::from(origin),
        octets: u64::from(octets),
    })
}

fn path_text(path: &[u32]) -> String {
    path.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// Writes one item (`NAME value`).
fn item(
    out: &mut Vec<u8>,
    a: &FetchAttribute,
    info: &mailbox::mailbox::MessageInfo,
    keywords: &mailbox::flags::KeywordTable,
    msg: Option<&Message<'_>>,
) -> Result<(), message::Error> {
    use FetchAttribute::*;
    let put = |out: &mut Vec<u8>, s: &str| out.extend_from_slice(s.as_bytes());
    // Every item below that uses `msg` is one for which the caller read the text.
    let empty;
    let m = match msg {
        Some(m) => m,
        None => {
            empty = Message::parse(b"");
            &empty
        }
    };
    match a {
        Uid => put(out, &format!("UID {}", info.uid)),
        ModSeq => put(out, &format!("MODSEQ ({})", info.modseq)),
        Flags => {
            put(out, "FLAGS ");
            let names = keywords.names_of(info.keywords);
            respond::flag_list(out, info.flags, &names, info.recent);
        }
        InternalDate => put(out, &format!("INTERNALDATE \"{}\"", date_time(info))),
        Rfc822Size => put(out, &format!("RFC822.SIZE {}", info.rfc822_size)),
        Envelope => {
            put(out, "ENVELOPE ");
            m.envelope().write_imap(out);
        }
        BodyStructure => {
            put(out, "BODYSTRUCTURE ");
            m.body().write_imap(out, true);
        }
        Body => {
            put(out, "BODY ");
            m.body().write_imap(out, false);
        }
        Rfc822 => {
            put(out, "RFC822 ");
            m.section(&Section::full()).write_imap(out);
        }
        Rfc822Header => {
            put(out, "RFC822.HEADER ");
            m.section(&Section::new(Vec::new(), SectionKind::Header))
                .write_imap(out);
        }
        Rfc822Text => {
            put(out, "RFC822.TEXT ");
            m.section(&Section::new(Vec::new(), SectionKind::Text))
                .write_imap(out);
        }
        BodySection {
            section, partial, ..
        } => {
            let data = m.section(section);
            put(out, &format!("BODY[{}]", section.to_imap()));
            let data = match partial_of(*partial) {
                Some(p) => {
                    put(out, &format!("<{}>", p.origin));
                    data.partial(p)
                }
                None => data,
            };
            out.push(b' ');
            data.write_imap(out);
        }
        Binary { path, partial, .. } => {
            let data = m.binary(path)?;
            put(out, &format!("BINARY[{}]", path_text(path)));
            let data = match partial_of(*partial) {
                Some(p) => {
                    put(out, &format!("<{}>", p.origin));
                    data.partial(p)
                }
                None => data,
            };
            out.push(b' ');
            data.write_imap(out);
        }
        BinarySize { path } => {
            let n = m.binary_size(path)?;
            put(out, &format!("BINARY.SIZE[{}] {n}", path_text(path)));
        }
    }
    Ok(())
}
