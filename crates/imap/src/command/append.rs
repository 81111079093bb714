//! APPEND (RFC 3501 §6.3.11) with MULTIAPPEND (RFC 3502): one or more messages,
//! each with flags and an optional INTERNALDATE, stored all or nothing. A missing
//! mailbox is `NO [TRYCREATE]`. Appending to the selected mailbox shows up as
//! EXISTS when the session reports changes after the command. A BINARY literal8
//! (RFC 3516 §4.4) is stored only if the mailbox keeps its octets exactly.

use mailbox::flags::Flags;
use mailbox::format::{detect, Detected, Format};
use mailbox::fromline::InternalDate;

use super::user_store;
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

/// Whether `data` would survive the mailbox store unchanged: the store turns NUL
/// into 0x80 and drops CR that does not end a line (and MMDF drops Ctrl-A), as UW
/// did; for ordinary literals that is the documented mbox behaviour, but BINARY
/// (RFC 3516 §4.4) forbids losing data, so such a literal8 is refused.
fn storable_exactly(data: &[u8], mmdf: bool) -> bool {
    !data.iter().enumerate().any(|(i, &b)| {
        b == 0 || (b == 1 && mmdf) || (b == b'\r' && data.get(i + 1) != Some(&b'\n'))
    })
}

/// Whether the mailbox file is MMDF (an empty one takes the default format).
fn is_mmdf(path: &std::path::Path, default: Format) -> bool {
    use std::io::Read;
    let mut prefix = [0u8; 5];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut prefix))
        .unwrap_or(0);
    match detect(&prefix[..n]) {
        Detected::Format(f) => f == Format::Mmdf,
        _ => default == Format::Mmdf,
    }
}

pub(crate) fn run<H: Host>(s: &mut Session<H>, name: &str, messages: &[AppendMessage]) -> Reply {
    let mut prepared = Vec::with_capacity(messages.len());
    for m in messages {
        if m.data.is_empty() {
            // RFC 3502: a zero-length message cancels the whole APPEND.
            return Reply::no("APPEND cancelled: a message may not be empty");
        }
        let (flags, keywords) = match split_flags(&m.flags) {
            Ok(f) => f,
            Err(r) => return r,
        };
        let internal_date = m.date.map(|d| InternalDate {
            timestamp: d.timestamp,
            offset_minutes: d.offset_minutes as i16,
        });
        prepared.push(mailbox::mailbox::AppendMessage {
            bytes: &m.data,
            flags,
            keywords,
            internal_date,
        });
    }
    let store = user_store!(s);
    if let Err(r) = super::ensure_inbox(store, name) {
        return r;
    }
    if messages.iter().any(|m| m.binary) {
        let mmdf = match store.resolve(name) {
            Ok(r) => is_mmdf(&r.path, store.context().default_format),
            Err(e) => return Reply::mailbox_error("APPEND", &e),
        };
        if messages
            .iter()
            .any(|m| m.binary && !storable_exactly(&m.data, mmdf))
        {
            return Reply::no_code(
                "UNKNOWN-CTE",
                "APPEND failed: this mailbox cannot store NUL octets or bare CR exactly",
            );
        }
    }
    match store.append(name, &prepared) {
        Ok((uid_validity, uids)) => {
            // RFC 4315 APPENDUID; RFC 3502: a set, in the order of the messages.
            Reply::ok_code(
                format!(
                    "APPENDUID {uid_validity} {}",
                    crate::types::SequenceSet::compact(&uids)
                ),
                "APPEND completed",
            )
        }
        Err(e) => Reply::mailbox_error("APPEND", &e),
    }
}
