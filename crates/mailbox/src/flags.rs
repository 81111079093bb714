//! Message flags: the IMAP system flags as a bit set, and keywords as bits that index
//! the mailbox's keyword table (c-client's "user flags": at most 64 per mailbox).

use std::fmt;

/// IMAP system flags that live in the file (`\Recent` is per session, kept apart).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(u8);

impl Flags {
    pub const SEEN: Flags = Flags(1);
    pub const ANSWERED: Flags = Flags(2);
    pub const FLAGGED: Flags = Flags(4);
    pub const DELETED: Flags = Flags(8);
    pub const DRAFT: Flags = Flags(16);
    pub const EMPTY: Flags = Flags(0);
    const ALL: u8 = 31;

    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
    pub fn insert(&mut self, other: Flags) {
        self.0 |= other.0;
    }
    pub fn remove(&mut self, other: Flags) {
        self.0 &= !other.0;
    }
    pub fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
    pub fn difference(self, other: Flags) -> Flags {
        Flags(self.0 & !other.0)
    }
    pub fn bits(self) -> u8 {
        self.0
    }
    pub fn from_bits(bits: u8) -> Flags {
        Flags(bits & Self::ALL)
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Parses one IMAP system flag name (`\Seen`, any case). `\Recent` is not settable.
    pub fn from_imap_name(name: &str) -> Option<Flags> {
        match name.to_ascii_lowercase().as_str() {
            "\\seen" => Some(Flags::SEEN),
            "\\answered" => Some(Flags::ANSWERED),
            "\\flagged" => Some(Flags::FLAGGED),
            "\\deleted" => Some(Flags::DELETED),
            "\\draft" => Some(Flags::DRAFT),
            _ => None,
        }
    }

    /// The IMAP names of the flags set, in RFC 3501 order.
    pub fn imap_names(self) -> impl Iterator<Item = &'static str> {
        [
            (Flags::SEEN, "\\Seen"),
            (Flags::ANSWERED, "\\Answered"),
            (Flags::FLAGGED, "\\Flagged"),
            (Flags::DELETED, "\\Deleted"),
            (Flags::DRAFT, "\\Draft"),
        ]
        .into_iter()
        .filter(move |(f, _)| self.contains(*f))
        .map(|(_, n)| n)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.imap_names().collect();
        write!(f, "Flags({})", names.join(" "))
    }
}

/// The most keywords one mailbox can hold, as in c-client (NUSERFLAGS).
pub const MAX_KEYWORDS: usize = 64;

/// A set of keywords, as bits indexing a [`KeywordTable`].
pub type KeywordSet = u64;

/// The mailbox's keywords in the order they were defined; persisted in `X-IMAP`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeywordTable {
    names: Vec<String>,
}

impl KeywordTable {
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Looks a keyword up (keywords compare case-insensitively, RFC 3501 §2.3.2).
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.eq_ignore_ascii_case(name))
    }

    /// Finds or defines a keyword; `None` when the table is full or the name is not an atom.
    pub fn intern(&mut self, name: &str) -> Option<usize> {
        if let Some(i) = self.index(name) {
            return Some(i);
        }
        if self.names.len() >= MAX_KEYWORDS || !is_keyword_atom(name) {
            return None;
        }
        self.names.push(name.to_string());
        Some(self.names.len() - 1)
    }

    /// The names of the keywords in a set.
    /// Finds or defines every keyword of `names`, all or nothing: `None`, with nothing
    /// defined, when one is not an atom or they do not all fit (a refused STORE or
    /// APPEND must not leave half of its keywords behind).
    pub fn intern_all(&mut self, names: &[&str]) -> Option<KeywordSet> {
        let mut new: Vec<&str> = Vec::new();
        for &name in names {
            if self.index(name).is_none() && !new.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                if !is_keyword_atom(name) || self.names.len() + new.len() >= MAX_KEYWORDS {
                    return None;
                }
                new.push(name);
            }
        }
        let mut set: KeywordSet = 0;
        for name in names {
            set |= 1 << self.intern(name)?;
        }
        Some(set)
    }

    pub fn names_of(&self, set: KeywordSet) -> Vec<&str> {
        (0..self.names.len())
            .filter(|i| set & (1u64 << i) != 0)
            .map(|i| self.names[i].as_str())
            .collect()
    }

    /// True when no more keywords can be defined (IMAP then drops `\*` from PERMANENTFLAGS).
    pub fn is_full(&self) -> bool {
        self.names.len() >= MAX_KEYWORDS
    }
}

/// An IMAP atom usable as a keyword: no specials, no backslash, printable ASCII.
pub fn is_keyword_atom(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.bytes().all(|b| {
            b > b' '
                && b < 0x7f
                && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_names_round_trip() {
        let mut f = Flags::EMPTY;
        for name in ["\\Seen", "\\DELETED", "\\draft"] {
            f.insert(Flags::from_imap_name(name).unwrap());
        }
        assert_eq!(
            f.imap_names().collect::<Vec<_>>(),
            ["\\Seen", "\\Deleted", "\\Draft"]
        );
        assert!(Flags::from_imap_name("\\Recent").is_none());
    }

    #[test]
    fn keyword_table_is_case_insensitive_and_bounded() {
        let mut t = KeywordTable::default();
        assert_eq!(t.intern("$Forwarded"), Some(0));
        assert_eq!(t.intern("$forwarded"), Some(0));
        assert_eq!(t.intern("bad word"), None);
        for i in 1..MAX_KEYWORDS {
            assert_eq!(t.intern(&format!("k{i}")), Some(i));
        }
        let mut u = KeywordTable::default();
        u.intern("a");
        let many: Vec<String> = (0..10_000).map(|i| format!("m{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(u.intern_all(&many), None);
        assert_eq!(u.intern_all(&["b", "bad word"]), None);
        assert_eq!(u.names(), ["a"], "a refusal defines nothing");
        assert_eq!(u.intern_all(&many[..63]).map(u64::count_ones), Some(63));
        assert_eq!(u.intern_all(&["A", "m0"]), Some(0b11));
        assert!(t.is_full());
        assert_eq!(t.intern("one-too-many"), None);
        assert_eq!(t.names_of(0b101), ["$Forwarded", "k2"]);
    }
}
