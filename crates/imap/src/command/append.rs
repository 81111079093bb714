//! APPEND (RFC 3501 §6.3.11) with MULTIAPPEND (RFC 3502): one or more messages,
//! each with flags and an optional INTERNALDATE, stored all or nothing. A missing
//! mailbox is `NO [TRYCREATE]`. Appending to the selected mailbox shows up as
//! EXISTS when the session reports changes after the command. A BINARY literal8
//! (RFC 3516 §4.3) is stored so that FETCH BINARY gives its octets back: body parts
//! the mailbox file cannot hold exactly are stored in base64. CATENATE (RFC 4469)
//! builds a message from literals and URLs of messages in the user's mailboxes
//! ([`super::catenate`]) before anything is stored.

use mailbox::flags::Flags;
use mailbox::format::{detect, Detected, Format};
use mailbox::fromline::InternalDate;

use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;
use crate::types::{AppendMessage, Flag};

/// System flags and keywords from a flag list; BAD for `\Recent` and other
/// extension flags, and for keywords the mailbox could never store.
pub(crate) fn split_flags(flags: &[Flag]) -> Result<(Flags, Vec<String>), Reply> {
    let mut system = Flags::EMPTY;
    let mut keywords = Vec::new();
    for f in flags {
        match f {
            Flag::Extension(name) => {
                return Err(Reply::bad(format!("Invalid flag \\{name}")));
            }
            Flag::Keyword(k) => {
                if !mailbox::flags::is_keyword_atom(k) {
                    return Err(Reply::bad(format!("Invalid keyword {k}")));
                }
                if !keywords.iter().any(|x: &String| x.eq_ignore_ascii_case(k)) {
                    keywords.push(k.clone());
                }
            }
            system_flag => {
                if let Some(bit) = system_flag.system() {
                    system.insert(bit);
                }
            }
        }
    }
    Ok((system, keywords))
}

/// Whether `data` would not survive the mailbox store unchanged: lines end in LF
/// on disk and CRLF on the wire, so a bare LF or a CR that does not end a line
/// cannot be kept; NUL is damage to mbox readers (the store writes 0x80, as UW
/// did); MMDF frames messages with Ctrl-A (the store drops it); and in mbox a
/// line that begins `From ` is stored as `>From `.
fn lossy(data: &[u8], mmdf: bool, from_lines: bool) -> bool {
    data.iter().enumerate().any(|(i, &b)| match b {
        0 => true,
        1 => mmdf,
        b'\r' => data.get(i + 1) != Some(&b'\n'),
        b'\n' => i == 0 || data[i - 1] != b'\r',
        _ => false,
    }) || (from_lines && !mmdf && {
        data.starts_with(b"From ") || data.windows(6).any(|w| w == b"\nFrom ")
    })
}

/// A BINARY literal8 (RFC 3516 §4.3) made storable exactly: the body parts the
/// mailbox could not keep as they are get base64 (BINARY[part] gives their octets
/// back). `None` when what is left (a header, a MIME boundary line, a part that
/// already has an encoding) still cannot be kept.
fn storable_binary(data: &[u8], mmdf: bool) -> Option<Vec<u8>> {
    let converted = message::reencode::base64_unsafe_parts(data, &|c| lossy(c, mmdf, true));
    let out = converted.unwrap_or_else(|| data.to_vec());
    (!lossy(&out, mmdf, false)).then_some(out)
}

/// Whether the mailbox file is MMDF (an empty one takes the default format).
fn is_mmdf(path: &std::path::Path, default: Format) -> bool {
    use std::io::Read;
    let mut prefix = [0u8; 5];
    let n = mailbox::regular::open_read(path)
        .and_then(|mut f| f.read(&mut prefix))
        .unwrap_or(0);
    match detect(&prefix[..n]) {
        Detected::Format(f) => f == Format::Mmdf,
        _ => default == Format::Mmdf,
    }
}

pub(crate) fn run<H: Host>(s: &mut Session<H>, name: &str, messages: &[AppendMessage]) -> Reply {
    match run_many(s, name, &[messages]) {
        Ok(mut replies) => replies.remove(0),
        Err(r) => r,
    }
}

/// Several APPENDs to one mailbox (pipelined with LITERAL+, each maybe a MULTIAPPEND)
/// stored in one journal transaction, with one sync: the answers, one per group with
/// its own APPENDUID, or the answer of the first thing that failed (the session then
/// runs them one by one, so that each gets the answer it would have had alone).
pub(crate) fn run_many<H: Host>(
    s: &mut Session<H>,
    name: &str,
    groups: &[&[AppendMessage]],
) -> Result<Vec<Reply>, Reply> {
    let messages: Vec<&AppendMessage> = groups.iter().flat_map(|g| g.iter()).collect();
    // CATENATE messages joined (after the checks that come first: a missing mailbox
    // is TRYCREATE whatever its URLs say).
    let mut built: Vec<Option<(Vec<u8>, bool)>> = vec![None; messages.len()];
    if messages.iter().any(|m| m.catenate.is_some()) {
        for m in &messages {
            split_flags(&m.flags)?;
        }
        super::catenate::check_target(s, name)?;
        for (m, b) in messages.iter().zip(built.iter_mut()) {
            if let Some(parts) = &m.catenate {
                *b = Some(super::catenate::build(s, parts)?);
            }
        }
    }
    // Each message's octets and whether they came as a literal8.
    let octets: Vec<(&[u8], bool)> = messages
        .iter()
        .zip(&built)
        .map(|(m, b)| match b {
            Some((data, binary)) => (data.as_slice(), *binary),
            None => (m.data.as_slice(), m.binary),
        })
        .collect();
    let mut prepared = Vec::with_capacity(messages.len());
    // Literal8 messages as they will be stored (see `storable_binary`).
    let mut converted: Vec<Option<Vec<u8>>> = vec![None; messages.len()];
    for (m, &(data, _)) in messages.iter().zip(&octets) {
        if data.is_empty() {
            // RFC 3502: a zero-length message cancels the whole APPEND.
            return Err(Reply::no("APPEND cancelled: a message may not be empty"));
        }
        let (flags, keywords) = split_flags(&m.flags)?;
        let internal_date = m.date.map(|d| InternalDate {
            timestamp: d.timestamp,
            offset_minutes: d.offset_minutes as i16,
        });
        prepared.push(mailbox::mailbox::AppendMessage {
            bytes: data,
            flags,
            keywords,
            internal_date,
        });
    }
    let Some(store) = s.store.as_ref() else {
        return Err(Reply::bad("Not authenticated"));
    };
    super::ensure_inbox(store, name)?;
    if octets.iter().any(|&(_, binary)| binary) {
        let mmdf = match store.resolve(name) {
            Ok(r) => is_mmdf(&r.path, store.context().default_format),
            Err(e) => return Err(Reply::mailbox_error("APPEND", &e)),
        };
        for (&(data, binary), p) in octets.iter().zip(converted.iter_mut()) {
            if !binary {
                continue;
            }
            match storable_binary(data, mmdf) {
                Some(bytes) => *p = Some(bytes),
                None => {
                    return Err(Reply::no_code(
                        "UNKNOWN-CTE",
                        "APPEND failed: NUL, bare CR or bare LF outside a body part cannot be stored",
                    ))
                }
            }
        }
    }
    for (p, c) in prepared.iter_mut().zip(converted.iter()) {
        if let Some(bytes) = c {
            p.bytes = bytes;
        }
    }
    let octets: u64 = prepared.iter().map(|p| p.bytes.len() as u64).sum();
    if let Some(r) = super::quota::refuse(&s.host, store, "APPEND", name, prepared.len(), octets) {
        return Err(r);
    }
    match store.append(name, &prepared) {
        Ok((uid_validity, uids)) => {
            // RFC 4315 APPENDUID; RFC 3502: a set, in the order of the messages.
            let mut at = 0;
            Ok(groups
                .iter()
                .map(|g| {
                    let mine = &uids[at..at + g.len()];
                    at += g.len();
                    Reply::ok_code(
                        format!(
                            "APPENDUID {uid_validity} {}",
                            crate::types::SequenceSet::compact(mine)
                        ),
                        "APPEND completed",
                    )
                })
                .collect())
        }
        Err(e) => Err(Reply::mailbox_error("APPEND", &e)),
    }
}
