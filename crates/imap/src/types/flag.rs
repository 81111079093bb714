//! Message flags as a client writes them (RFC 3501 §2.3.2, `flag` in §9).

/// A flag in STORE or APPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flag {
    Seen,
    Answered,
    Flagged,
    Deleted,
    Draft,
    /// A keyword (an atom without a backslash), e.g. `$Forwarded`.
    Keyword(String),
    /// `\` followed by an atom that is not a system flag (`\Recent` among them):
    /// valid syntax (`flag-extension`), refused when used.
    Extension(String),
}

impl Flag {
    /// The system flag of the mailbox library, if this is one.
    pub fn system(&self) -> Option<mailbox::flags::Flags> {
        use mailbox::flags::Flags;
        match self {
            Flag::Seen => Some(Flags::SEEN),
            Flag::Answered => Some(Flags::ANSWERED),
            Flag::Flagged => Some(Flags::FLAGGED),
            Flag::Deleted => Some(Flags::DELETED),
            Flag::Draft => Some(Flags::DRAFT),
            _ => None,
        }
    }

    /// The flag as written on the wire.
    pub fn to_wire(&self) -> String {
        match self {
            Flag::Seen => "\\Seen".into(),
            Flag::Answered => "\\Answered".into(),
            Flag::Flagged => "\\Flagged".into(),
            Flag::Deleted => "\\Deleted".into(),
            Flag::Draft => "\\Draft".into(),
            Flag::Keyword(k) => k.clone(),
            Flag::Extension(e) => format!("\\{e}"),
        }
    }
}

/// How STORE changes flags: `FLAGS`, `+FLAGS`, `-FLAGS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    Replace,
    Add,
    Remove,
}

impl StoreMode {
    pub fn op(self) -> mailbox::mailbox::StoreOp {
        use mailbox::mailbox::StoreOp;
        match self {
            StoreMode::Replace => StoreOp::Replace,
            StoreMode::Add => StoreOp::Add,
            StoreMode::Remove => StoreOp::Remove,
        }
    }
}
