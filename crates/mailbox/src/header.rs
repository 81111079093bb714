//! The header fields through which UW imapd keeps IMAP state inside an mbox or MMDF
//! message, and reading and writing them:
//! `Status:` (R seen, O old = not recent), `X-Status:` (D deleted, F flagged,
//! A answered, T draft), `X-Keywords:`, `X-UID:`, and the mailbox's own
//! `X-IMAP:` (in the "FOLDER INTERNAL DATA" pseudo-message) or `X-IMAPbase:` (in the
//! first message): UIDVALIDITY, the last UID assigned, and the keyword list.
//! These fields are the mailbox's bookkeeping, not the message's: they are never
//! shown to clients and never counted in RFC822.SIZE.

use crate::flags::Flags;
use crate::uid::{Uid, Uidvalidity};

/// The subject of UW's pseudo-message, which holds `X-IMAP:` and is never shown.
pub const PSEUDO_SUBJECT: &[u8] = b"DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA";

/// Which bookkeeping field a header line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Internal {
    Status,
    XStatus,
    XKeywords,
    XUid,
    XImap,
    XImapBase,
}

/// Classifies a header line by its field name (case-insensitive).
pub fn internal_field(line: &[u8]) -> Option<Internal> {
    // Every name below begins with S or X: most lines are settled by one octet.
    if !matches!(line.first(), Some(b'S' | b's' | b'X' | b'x')) {
        return None;
    }
    let colon = memchr::memchr(b':', &line[..line.len().min(16)])?;
    let name = &line[..colon];
    let eq = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
    if eq("Status") {
        Some(Internal::Status)
    } else if eq("X-Status") {
        Some(Internal::XStatus)
    } else if eq("X-Keywords") {
        Some(Internal::XKeywords)
    } else if eq("X-UID") {
        Some(Internal::XUid)
    } else if eq("X-IMAP") {
        Some(Internal::XImap)
    } else if eq("X-IMAPbase") {
        Some(Internal::XImapBase)
    } else {
        None
    }
}

/// The value of a header line after the colon, without surrounding white space.
pub fn field_value(line: &[u8]) -> &[u8] {
    let v = match memchr::memchr(b':', line) {
        Some(c) => &line[c + 1..],
        None => return b"",
    };
    trim(v)
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r' | b'\n', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n'] = v {
        v = rest;
    }
    v
}

/// What the `X-IMAP` / `X-IMAPbase` field says about the mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapBase {
    pub uid_validity: Uidvalidity,
    /// The last UID assigned (none yet in a new mailbox: `0` in the field).
    pub last_uid: Option<Uid>,
    pub keywords: Vec<String>,
}

/// Parses `X-IMAP: UIDVALIDITY LASTUID KEYWORD...`; `None` when the numbers are absent
/// or impossible. Anyone can mail these fields (an MTA delivers them as they come), so
/// they are hints: a zero UIDVALIDITY, or a last UID past [`Uid::MAX_ASSIGNED`] (after
/// which UIDNEXT would not be a number, RFC 3501 §2.3.1.1), makes the field count for
/// nothing rather than let one message exhaust or wrap the UID space.
pub fn parse_imap_base(value: &[u8]) -> Option<ImapBase> {
    let text = String::from_utf8_lossy(value);
    let mut words = text.split_ascii_whitespace();
    let uid_validity = Uidvalidity::new(words.next()?.parse().ok()?)?;
    let last_uid = match words.next()?.parse::<u32>().ok()? {
        0 => None,
        n => Some(Uid::assignable(n)?),
    };
    let keywords = words
        .filter(|w| crate::flags::is_keyword_atom(w))
        .map(str::to_string)
        .collect();
    Some(ImapBase {
        uid_validity,
        last_uid,
        keywords,
    })
}

/// The state one message's bookkeeping fields record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageStatus {
    pub flags: Flags,
    /// `O` in `Status:`: some session has already seen this message as \Recent.
    pub old: bool,
    pub keywords: Vec<String>,
    pub uid: Option<Uid>,
}

impl MessageStatus {
    /// Folds one bookkeeping line into the status.
    pub fn absorb(&mut self, kind: Internal, line: &[u8]) {
        let value = field_value(line);
        match kind {
            Internal::Status => {
                for &b in value {
                    match b {
                        b'R' => self.flags.insert(Flags::SEEN),
                        b'O' => self.old = true,
                        _ => {}
                    }
                }
            }
            Internal::XStatus => {
                for &b in value {
                    match b {
                        b'D' => self.flags.insert(Flags::DELETED),
                        b'F' => self.flags.insert(Flags::FLAGGED),
                        b'A' => self.flags.insert(Flags::ANSWERED),
                        b'T' => self.flags.insert(Flags::DRAFT),
                        _ => {}
                    }
                }
            }
            Internal::XKeywords => {
                for w in String::from_utf8_lossy(value).split_ascii_whitespace() {
                    if crate::flags::is_keyword_atom(w)
                        && !self.keywords.iter().any(|k| k.eq_ignore_ascii_case(w))
                    {
                        self.keywords.push(w.to_string());
                    }
                }
            }
            Internal::XUid => {
                // A UID no message may have (zero, or one that leaves UIDNEXT no
                // number) is no UID at all: the message gets the next one.
                self.uid = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .and_then(Uid::assignable);
            }
            Internal::XImap | Internal::XImapBase => {}
        }
    }
}

/// The room `X-Keywords:` keeps after its keywords, so that a later STORE can usually
/// rewrite the block in place instead of moving the rest of the file.
const KEYWORD_PADDING: usize = 16;

/// Renders the bookkeeping block pullmail writes at the end of a message header, in
/// UW's order: `Status`, `X-Status`, `X-Keywords`, `X-UID`. With `fit`, the block is
/// made exactly that many octets when it can be — padding `X-Keywords`, or, when the
/// usual form is a few octets too long (UW writes its blocks without room, so marking
/// a message read needs one more octet), dropping the optional space after the colons,
/// which every reader of these fields skips. That keeps a STORE an in-place patch
/// instead of a rewrite of the rest of the file.
pub fn render_status(
    flags: Flags,
    old: bool,
    keywords: &[&str],
    uid: Uid,
    fit: Option<usize>,
) -> Vec<u8> {
    let roomy = status_lines(flags, old, keywords, uid, true);
    let total = match fit {
        Some(total) => total,
        None => {
            let kw_len: usize = keywords.iter().map(|k| k.len() + 1).sum();
            return pad_keywords(roomy, KEYWORD_PADDING.saturating_sub(kw_len));
        }
    };
    for form in [roomy, status_lines(flags, old, keywords, uid, false)] {
        if form.len() <= total {
            let room = total - form.len();
            return pad_keywords(form, room);
        }
    }
    status_lines(flags, old, keywords, uid, true)
}

fn status_lines(flags: Flags, old: bool, keywords: &[&str], uid: Uid, spaced: bool) -> Vec<u8> {
    let sp: &[u8] = if spaced { b" " } else { b"" };
    let mut out = Vec::with_capacity(96);
    out.extend_from_slice(b"Status:");
    out.extend_from_slice(sp);
    if flags.contains(Flags::SEEN) {
        out.push(b'R');
    }
    if old {
        out.push(b'O');
    }
    out.extend_from_slice(b"\nX-Status:");
    out.extend_from_slice(sp);
    for (f, c) in [
        (Flags::DELETED, b'D'),
        (Flags::FLAGGED, b'F'),
        (Flags::ANSWERED, b'A'),
        (Flags::DRAFT, b'T'),
    ] {
        if flags.contains(f) {
            out.push(c);
        }
    }
    out.extend_from_slice(b"\nX-Keywords:");
    for k in keywords {
        out.push(b' ');
        out.extend_from_slice(k.as_bytes());
    }
    out.extend_from_slice(b"\nX-UID:");
    out.extend_from_slice(sp);
    out.extend_from_slice(uid.to_string().as_bytes());
    out.push(b'\n');
    out
}

/// Inserts `n` spaces at the end of the `X-Keywords` line (before the `X-UID` line).
fn pad_keywords(mut block: Vec<u8>, n: usize) -> Vec<u8> {
    let at = memchr::memmem::rfind(&block, b"\nX-UID:").unwrap_or(block.len());
    block.splice(at..at, std::iter::repeat_n(b' ', n));
    block
}

/// Renders the `X-IMAP:` value with UW's fixed-width numbers, so the last UID can be
/// updated in place without moving the file.
pub fn render_imap_base(base: &ImapBase) -> Vec<u8> {
    let mut v = format!(
        "{:010} {:010}",
        base.uid_validity.get(),
        base.last_uid.map_or(0, Uid::get)
    );
    for k in &base.keywords {
        v.push(' ');
        v.push_str(k);
    }
    v.into_bytes()
}

/// Renders the whole "FOLDER INTERNAL DATA" pseudo-message (header and body, LF line
/// ends, without the format's delimiters), dated `now`.
pub fn render_pseudo_message(
    base: &ImapBase,
    now: crate::fromline::InternalDate,
    host: &str,
) -> (Vec<u8>, Vec<u8>) {
    let from_line = crate::fromline::format_line("MAILER-DAEMON", now);
    let date = rfc5322_date(now);
    let mut m = Vec::with_capacity(600);
    m.extend_from_slice(format!("Date: {date}\n").as_bytes());
    m.extend_from_slice(
        format!("From: Mail System Internal Data <MAILER-DAEMON@{host}>\n").as_bytes(),
    );
    m.extend_from_slice(b"Subject: ");
    m.extend_from_slice(PSEUDO_SUBJECT);
    m.extend_from_slice(format!("\nMessage-ID: <{}@{host}>\n", now.timestamp).as_bytes());
    m.extend_from_slice(b"X-IMAP: ");
    m.extend_from_slice(&render_imap_base(base));
    m.extend_from_slice(b"\nStatus: RO\n\n");
    m.extend_from_slice(
        b"This text is part of the internal format of your mail folder, and is not\n\
a real message.  It is created automatically by the mail system software.\n\
If deleted, important folder data will be lost, and it will be re-created\n\
with the data reset to initial values.\n",
    );
    (from_line, m)
}

fn rfc5322_date(d: crate::fromline::InternalDate) -> String {
    // ctime order "Www Mmm dd hh:mm:ss yyyy +zzzz" rearranged to RFC 5322.
    let c = crate::fromline::format_date(d);
    let p: Vec<&str> = c.split_ascii_whitespace().collect();
    format!("{}, {} {} {} {} {}", p[0], p[2], p[1], p[4], p[3], p[5])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_uw_status_fields() {
        let mut s = MessageStatus::default();
        for line in [
            &b"Status: RO"[..],
            b"X-Status: FA",
            b"X-Keywords: $Forwarded Project   ",
            b"X-UID: 4",
        ] {
            s.absorb(internal_field(line).unwrap(), line);
        }
        assert!(
            s.flags.contains(Flags::SEEN)
                && s.flags.contains(Flags::FLAGGED)
                && s.flags.contains(Flags::ANSWERED)
        );
        assert!(!s.flags.contains(Flags::DELETED));
        assert!(s.old);
        assert_eq!(s.keywords, ["$Forwarded", "Project"]);
        assert_eq!(s.uid, Uid::new(4));
        assert_eq!(internal_field(b"Subject: Status: RO"), None);
        assert_eq!(internal_field(b"x-uid:7"), Some(Internal::XUid));
    }

    #[test]
    fn status_block_round_trips_and_fits() {
        let f = Flags::SEEN.union(Flags::DELETED);
        let twelve = Uid::new(12).unwrap();
        let block = render_status(f, true, &["Project"], twelve, None);
        let mut s = MessageStatus::default();
        for line in block.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            s.absorb(internal_field(line).unwrap(), line);
        }
        assert_eq!(
            (s.flags, s.old, s.keywords.clone(), s.uid),
            (f, true, vec!["Project".to_string()], Some(twelve))
        );
        let fitted = render_status(Flags::EMPTY, true, &[], twelve, Some(block.len()));
        assert_eq!(fitted.len(), block.len());
    }

    #[test]
    fn uw_block_without_room_still_fits_when_marked_read() {
        // As UW leaves a block: no padding at all.
        let uw = b"Status: O\nX-Status: \nX-Keywords:\nX-UID: 14\n";
        let fourteen = Uid::new(14).unwrap();
        let block =
            render_status(Flags::SEEN.union(Flags::FLAGGED), true, &[], fourteen, Some(uw.len()));
        assert_eq!(block.len(), uw.len());
        assert_eq!(block, b"Status:RO\nX-Status:F\nX-Keywords: \nX-UID:14\n");
        let mut s = MessageStatus::default();
        for line in block.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            s.absorb(internal_field(line).unwrap(), line);
        }
        assert_eq!((s.flags, s.old, s.uid), (Flags::SEEN.union(Flags::FLAGGED), true, Some(fourteen)));
        // Too much to fit: the natural form, longer than asked.
        let long =
            render_status(Flags::SEEN, true, &["Project", "$Forwarded"], fourteen, Some(uw.len()));
        assert!(long.len() > uw.len());
    }

    #[test]
    fn imap_base_is_fixed_width() {
        let b = ImapBase {
            uid_validity: Uidvalidity::new(1700000000).unwrap(),
            last_uid: Uid::new(65),
            keywords: vec!["$Forwarded".into()],
        };
        assert_eq!(render_imap_base(&b), b"1700000000 0000000065 $Forwarded");
        assert_eq!(
            parse_imap_base(b"1700000000 0000000065 $Forwarded"),
            Some(b)
        );
        assert_eq!(parse_imap_base(b"garbage"), None);
        // Forged values that would exhaust or wrap the UID space, or a zero UIDVALIDITY.
        assert_eq!(parse_imap_base(b"1 4294967295"), None);
        assert_eq!(parse_imap_base(b"0 5"), None);
        assert_eq!(parse_imap_base(b"1 4294967294").and_then(|b| b.last_uid), Some(Uid::MAX_ASSIGNED));
        assert_eq!(parse_imap_base(b"1 0").map(|b| b.last_uid), Some(None));
        for (line, uid) in [
            (&b"X-UID: 4294967295"[..], None),
            (b"X-UID: 0", None),
            (b"X-UID: 4294967296", None),
            (b"X-UID: 4294967294", Some(Uid::MAX_ASSIGNED)),
        ] {
            let mut s = MessageStatus::default();
            s.absorb(Internal::XUid, line);
            assert_eq!(s.uid, uid, "{}", String::from_utf8_lossy(line));
        }
    }
}
