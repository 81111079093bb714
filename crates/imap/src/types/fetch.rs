//! FETCH data items (RFC 3501 §6.4.5; BINARY from RFC 3516).

use message::{Section, SectionKind};

/// One item of a FETCH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchAttribute {
    Envelope,
    Flags,
    InternalDate,
    Rfc822,
    Rfc822Header,
    Rfc822Size,
    Rfc822Text,
    /// `BODY` (the non-extensible BODYSTRUCTURE).
    Body,
    BodyStructure,
    Uid,
    /// `BODY[section]<origin.octets>` and `BODY.PEEK[...]`.
    BodySection {
        peek: bool,
        section: Section,
        partial: Option<(u32, u32)>,
    },
    /// `BINARY[part]<origin.octets>` and `BINARY.PEEK[...]` (RFC 3516).
    Binary {
        peek: bool,
        path: Vec<u32>,
        partial: Option<(u32, u32)>,
    },
    /// `BINARY.SIZE[part]` (RFC 3516).
    BinarySize {
        path: Vec<u32>,
    },
    /// RFC 7162 §3.1.4.1.
    ModSeq,
}

impl FetchAttribute {
    /// Whether fetching this item sets `\Seen` (RFC 3501 §6.4.5).
    pub fn sets_seen(&self) -> bool {
        matches!(
            self,
            FetchAttribute::Rfc822
                | FetchAttribute::Rfc822Text
                | FetchAttribute::BodySection { peek: false, .. }
                | FetchAttribute::Binary { peek: false, .. }
        )
    }

    /// Whether the item can be answered from the message header alone.
    pub fn needs_header_only(&self) -> bool {
        match self {
            FetchAttribute::Envelope | FetchAttribute::Rfc822Header => true,
            FetchAttribute::BodySection { section, .. } => {
                section.path.is_empty()
                    && matches!(
                        section.kind,
                        SectionKind::Header
                            | SectionKind::HeaderFields(_)
                            | SectionKind::HeaderFieldsNot(_)
                    )
            }
            _ => false,
        }
    }

    /// Whether the item needs message octets at all.
    pub fn needs_text(&self) -> bool {
        !matches!(
            self,
            FetchAttribute::Flags
                | FetchAttribute::InternalDate
                | FetchAttribute::Rfc822Size
                | FetchAttribute::Uid
                | FetchAttribute::ModSeq
        )
    }
}

/// What a FETCH asks for: a macro or a list of items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItems {
    /// `ALL`: FLAGS INTERNALDATE RFC822.SIZE ENVELOPE.
    All,
    /// `FAST`: FLAGS INTERNALDATE RFC822.SIZE.
    Fast,
    /// `FULL`: FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY.
    Full,
    /// One item (written bare) or a parenthesised list.
    List(Vec<FetchAttribute>),
}

impl FetchItems {
    /// The items the macro stands for, or the list.
    pub fn expand(&self) -> Vec<FetchAttribute> {
        use FetchAttribute::*;
        match self {
            FetchItems::All => vec![Flags, InternalDate, Rfc822Size, Envelope],
            FetchItems::Fast => vec![Flags, InternalDate, Rfc822Size],
            FetchItems::Full => vec![Flags, InternalDate, Rfc822Size, Envelope, Body],
            FetchItems::List(v) => v.clone(),
        }
    }
}
