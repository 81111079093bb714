//! SEARCH keys (RFC 3501 §6.4.4). Strings stay octets until the command knows the
//! charset they are in.

use super::SequenceSet;
use message::Date;

/// One search key; a SEARCH command ANDs its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    All,
    Answered,
    Bcc(Vec<u8>),
    Before(Date),
    Body(Vec<u8>),
    Cc(Vec<u8>),
    Deleted,
    Draft,
    Flagged,
    From(Vec<u8>),
    Header(Vec<u8>, Vec<u8>),
    Keyword(String),
    Larger(u32),
    New,
    Not(Box<SearchKey>),
    Old,
    /// RFC 5032 WITHIN: INTERNALDATE more than this many seconds ago.
    Older(u32),
    On(Date),
    Or(Box<SearchKey>, Box<SearchKey>),
    Recent,
    Seen,
    SentBefore(Date),
    SentOn(Date),
    SentSince(Date),
    Since(Date),
    Smaller(u32),
    Subject(Vec<u8>),
    Text(Vec<u8>),
    To(Vec<u8>),
    Uid(SequenceSet),
    Unanswered,
    Undeleted,
    Undraft,
    Unflagged,
    Unkeyword(String),
    Unseen,
    /// RFC 5032 WITHIN: INTERNALDATE at most this many seconds ago.
    Younger(u32),
    /// A bare sequence set: these message numbers.
    Sequence(SequenceSet),
    /// `(key key ...)`.
    And(Vec<SearchKey>),
    /// `MODSEQ [entry-name entry-type] n` (RFC 7162 §3.1.5): modseq at least `n` (a
    /// mod-sequence-valzer). Modseqs here are per message, so the entry (a flag's
    /// name, `priv`, `shared` or `all`) narrows nothing; it is kept for the round trip.
    ModSeq {
        entry: Option<(Vec<u8>, EntryType)>,
        since: u64,
    },
}

/// `entry-type-req` of the MODSEQ search key (RFC 7162 §3.1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    Priv,
    Shared,
    All,
}

impl EntryType {
    pub fn name(self) -> &'static str {
        match self {
            EntryType::Priv => "priv",
            EntryType::Shared => "shared",
            EntryType::All => "all",
        }
    }
}

impl SearchKey {
    /// Whether the key, or one inside it, is MODSEQ (RFC 7162 §3.1.5: then the
    /// answer carries the highest modseq of what it returns).
    pub fn has_modseq(&self) -> bool {
        use SearchKey::*;
        match self {
            ModSeq { .. } => true,
            Not(k) => k.has_modseq(),
            Or(a, b) => a.has_modseq() || b.has_modseq(),
            And(v) => v.iter().any(SearchKey::has_modseq),
            _ => false,
        }
    }

    /// Whether evaluating the key needs message text (header or body).
    pub fn needs_text(&self) -> bool {
        use SearchKey::*;
        match self {
            Bcc(_) | Body(_) | Cc(_) | From(_) | Header(..) | Subject(_) | Text(_) | To(_)
            | SentBefore(_) | SentOn(_) | SentSince(_) => true,
            Not(k) => k.needs_text(),
            Or(a, b) => a.needs_text() || b.needs_text(),
            And(v) => v.iter().any(SearchKey::needs_text),
            _ => false,
        }
    }

    /// Whether it needs the body (not just the header).
    pub fn needs_body(&self) -> bool {
        use SearchKey::*;
        match self {
            Body(_) | Text(_) => true,
            Not(k) => k.needs_body(),
            Or(a, b) => a.needs_body() || b.needs_body(),
            And(v) => v.iter().any(SearchKey::needs_body),
            _ => false,
        }
    }
}
