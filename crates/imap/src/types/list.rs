//! LIST-EXTENDED options (RFC 5258), with SPECIAL-USE (RFC 6154) and LIST-STATUS
//! (RFC 5819).

use super::StatusItem;

/// A selection option: which names the LIST picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListSelect {
    /// Subscribed names, existing or not.
    Subscribed,
    /// Remote mailboxes too (RFC 2193 referrals; RLIST is LIST with this).
    Remote,
    /// Parents of names that satisfy the other options (needs a base option).
    RecursiveMatch,
    /// Only mailboxes with a special use.
    SpecialUse,
}

impl ListSelect {
    pub fn name(self) -> &'static str {
        match self {
            ListSelect::Subscribed => "SUBSCRIBED",
            ListSelect::Remote => "REMOTE",
            ListSelect::RecursiveMatch => "RECURSIVEMATCH",
            ListSelect::SpecialUse => "SPECIAL-USE",
        }
    }
}

/// A return option: what each LIST response carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListReturn {
    Subscribed,
    Children,
    SpecialUse,
    /// A STATUS response after each selectable mailbox (RFC 5819).
    Status(Vec<StatusItem>),
}
