//! APPEND (RFC 3501 §6.3.11): flags, an optional INTERNALDATE, the message. A
//! missing mailbox is `NO [TRYCREATE]`. Appending to the selected mailbox shows up
//! as EXISTS when the session reports changes after the command.

use mailbox::flags::Flags;
use mailbox::fromline::InternalDate;
use mailbox::mailbox::AppendMessage;

use super::user_store;
use crate::host::Host;
use crate::respond::Reply;
use crate::session::Session;
use crate::types::{DateTime, Flag};

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

pub(crate) fn run<H: Host>(
    s: &mut Session<H>,
    name: &str,
    flags: &[Flag],
    date: Option<DateTime>,
    message: &[u8],
) -> Reply {
    let (flags, keywords) = match split_flags(flags) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let internal_date = date.map(|d| InternalDate {
        timestamp: d.timestamp,
        offset_minutes: d.offset_minutes as i16,
    });
    let msg = AppendMessage {
        bytes: message,
        flags,
        keywords,
        internal_date,
    };
    let store = user_store!(s);
    if let Err(r) = super::ensure_inbox(store, name) {
        return r;
    }
    match store.append(name, &[msg]) {
        Ok((uid_validity, uids)) => {
            let uid = uids.first().copied().unwrap_or(0);
            // RFC 4315 APPENDUID: harmless to clients that do not know it.
            Reply::ok_code(
                format!("APPENDUID {uid_validity} {uid}"),
                "APPEND completed",
            )
        }
        Err(e) => Reply::mailbox_error("APPEND", &e),
    }
}
