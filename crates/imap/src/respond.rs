//! Writing responses (RFC 3501 §7): status lines, flag lists, mailbox names, and
//! the tagged [`Reply`] every command ends with.

use mailbox::flags::{Flags, KeywordTable};

use crate::utf7;

/// The status of a status response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
    Bye,
    Preauth,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
            Status::Bye => "BYE",
            Status::Preauth => "PREAUTH",
        }
    }
}

/// How a command ends: the tagged status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: Status,
    pub code: Option<String>,
    pub text: String,
}

impl Reply {
    pub fn ok(text: impl Into<String>) -> Reply {
        Reply {
            status: Status::Ok,
            code: None,
            text: text.into(),
        }
    }

    pub fn ok_code(code: impl Into<String>, text: impl Into<String>) -> Reply {
        Reply {
            status: Status::Ok,
            code: Some(code.into()),
            text: text.into(),
        }
    }

    pub fn no(text: impl Into<String>) -> Reply {
        Reply {
            status: Status::No,
            code: None,
            text: text.into(),
        }
    }

    pub fn no_code(code: impl Into<String>, text: impl Into<String>) -> Reply {
        Reply {
            status: Status::No,
            code: Some(code.into()),
            text: text.into(),
        }
    }

    pub fn bad(text: impl Into<String>) -> Reply {
        Reply {
            status: Status::Bad,
            code: None,
            text: text.into(),
        }
    }

    /// The NO answer to a mailbox-library failure of `what` (e.g. "SELECT"), with the
    /// error's response code (TRYCREATE, NONEXISTENT, ...).
    pub fn mailbox_error(what: &str, e: &mailbox::error::Error) -> Reply {
        Reply {
            status: Status::No,
            code: e.imap_code().map(str::to_string),
            text: format!("{what} failed: {}", public_text(e)),
        }
    }

    /// The answer the daemon crate defines for one of its errors.
    pub fn daemon_error(e: &daemon::Error) -> Reply {
        match e.imap_answer() {
            Some(a) => Reply {
                status: match a.status {
                    daemon::ImapStatus::No => Status::No,
                    daemon::ImapStatus::Bad => Status::Bad,
                    daemon::ImapStatus::Bye => Status::Bye,
                },
                code: a.code.map(str::to_string),
                text: a.text.to_string(),
            },
            None => Reply {
                status: Status::Bye,
                code: None,
                text: "Connection failed".into(),
            },
        }
    }
}

/// What a client may read of a mailbox error: the library's message, without file
/// paths (which name the server's layout).
fn public_text(e: &mailbox::error::Error) -> String {
    use mailbox::error::Error as E;
    match e {
        E::NotAMailbox(_) => "not a mailbox".into(),
        E::Io(_) => "I/O error".into(),
        E::Locked(_) => "mailbox is locked by another process".into(),
        other => other.to_string(),
    }
}

/// Response text: one line, no control characters.
pub fn clean_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `TAG STATUS [CODE] text CRLF` (tag `*` for untagged).
pub fn status_line(out: &mut Vec<u8>, tag: &str, status: Status, code: Option<&str>, text: &str) {
    out.extend_from_slice(tag.as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.word().as_bytes());
    if let Some(code) = code {
        out.extend_from_slice(b" [");
        out.extend_from_slice(clean_text(code).as_bytes());
        out.push(b']');
    }
    out.push(b' ');
    let text = clean_text(text);
    out.extend_from_slice(if text.is_empty() { "done" } else { &text }.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// `* ` + data + CRLF.
pub fn untagged(out: &mut Vec<u8>, data: &str) {
    out.extend_from_slice(b"* ");
    out.extend_from_slice(data.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// A string as UW sends it: quoted when it can be, else a literal.
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    message::imap::write_string(out, s);
}

/// A mailbox name, encoded in modified UTF-7.
pub fn mailbox_name(out: &mut Vec<u8>, name: &str) {
    let wire = if mailbox::names::is_inbox(name) {
        "INBOX".to_string()
    } else {
        utf7::encode(name)
    };
    string(out, wire.as_bytes());
}

/// The flags of a message in FETCH: system flags, keywords, then `\Recent`.
pub fn flag_list(out: &mut Vec<u8>, flags: Flags, keywords: &[&str], recent: bool) {
    out.push(b'(');
    let mut first = true;
    let mut put = |out: &mut Vec<u8>, s: &str| {
        if !first {
            out.push(b' ');
        }
        first = false;
        out.extend_from_slice(s.as_bytes());
    };
    if recent {
        put(out, "\\Recent");
    }
    for name in flags.imap_names() {
        put(out, name);
    }
    for k in keywords {
        put(out, k);
    }
    out.push(b')');
}

const SYSTEM_FLAGS: &str = "\\Answered \\Flagged \\Deleted \\Draft \\Seen";

/// The untagged FLAGS of a mailbox: its keywords, then the system flags (UW's order).
pub fn mailbox_flags(keywords: &KeywordTable) -> String {
    let mut s = String::from("FLAGS (");
    for k in keywords.names() {
        s.push_str(k);
        s.push(' ');
    }
    s.push_str(SYSTEM_FLAGS);
    s.push(')');
    s
}

/// The PERMANENTFLAGS code: keywords, `\*` while new ones can be made, system flags;
/// empty for a read-only mailbox.
pub fn permanent_flags(keywords: &KeywordTable, read_only: bool) -> String {
    if read_only {
        return "PERMANENTFLAGS ()".into();
    }
    let mut s = String::from("PERMANENTFLAGS (");
    for k in keywords.names() {
        s.push_str(k);
        s.push(' ');
    }
    if !keywords.is_full() {
        s.push_str("\\* ");
    }
    s.push_str(SYSTEM_FLAGS);
    s.push(')');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_one_line() {
        let mut out = Vec::new();
        status_line(&mut out, "a1", Status::No, Some("TRYCREATE"), "no\r\nway");
        assert_eq!(out, b"a1 NO [TRYCREATE] no  way\r\n");
    }

    #[test]
    fn flags_render() {
        let mut out = Vec::new();
        flag_list(
            &mut out,
            Flags::SEEN.union(Flags::DELETED),
            &["$Junk"],
            true,
        );
        assert_eq!(out, b"(\\Recent \\Seen \\Deleted $Junk)");
        let mut t = KeywordTable::default();
        t.intern("Project");
        assert_eq!(
            permanent_flags(&t, false),
            "PERMANENTFLAGS (Project \\* \\Answered \\Flagged \\Deleted \\Draft \\Seen)"
        );
        assert_eq!(
            mailbox_flags(&t),
            "FLAGS (Project \\Answered \\Flagged \\Deleted \\Draft \\Seen)"
        );
    }

    #[test]
    fn names_are_modified_utf7() {
        let mut out = Vec::new();
        mailbox_name(&mut out, "Entwürfe");
        assert_eq!(out, b"\"Entw&APw-rfe\"");
    }
}
