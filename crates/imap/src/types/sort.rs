//! SORT and THREAD arguments (RFC 5256).

/// One sort key (RFC 5256 §3 `sort-key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// INTERNALDATE, then sequence order.
    Arrival,
    /// The local part (addr-mailbox) of the first Cc address.
    Cc,
    /// The Date header in UTC, or INTERNALDATE when it is missing or unparsable.
    Date,
    /// The local part of the first From address.
    From,
    /// RFC822.SIZE.
    Size,
    /// The base subject (RFC 5256 §2.1).
    Subject,
    /// The local part of the first To address.
    To,
    /// The display name of the first From address, else its address (RFC 5957).
    DisplayFrom,
    /// The display name of the first To address, else its address (RFC 5957).
    DisplayTo,
}

impl SortKey {
    pub fn name(self) -> &'static str {
        match self {
            SortKey::Arrival => "ARRIVAL",
            SortKey::Cc => "CC",
            SortKey::Date => "DATE",
            SortKey::From => "FROM",
            SortKey::Size => "SIZE",
            SortKey::Subject => "SUBJECT",
            SortKey::To => "TO",
            SortKey::DisplayFrom => "DISPLAYFROM",
            SortKey::DisplayTo => "DISPLAYTO",
        }
    }

    pub const ALL: [SortKey; 9] = [
        SortKey::Arrival,
        SortKey::Cc,
        SortKey::Date,
        SortKey::From,
        SortKey::Size,
        SortKey::Subject,
        SortKey::To,
        SortKey::DisplayFrom,
        SortKey::DisplayTo,
    ];
}

/// `["REVERSE" SP] sort-key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortCriterion {
    pub reverse: bool,
    pub key: SortKey,
}

/// The threading algorithms of RFC 5256 §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadAlgorithm {
    OrderedSubject,
    References,
}

impl ThreadAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            ThreadAlgorithm::OrderedSubject => "ORDEREDSUBJECT",
            ThreadAlgorithm::References => "REFERENCES",
        }
    }
}

/// A result option of an extended SEARCH or SORT (RFC 4731 ESEARCH, RFC 5182
/// SAVE, RFC 5267 ESORT and PARTIAL, RFC 9394 negative PARTIAL ranges).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchReturn {
    Min,
    Max,
    All,
    Count,
    /// Keep the result for `$` (RFC 5182).
    Save,
    /// Only the results at these positions of the (sorted) result.
    Partial(PartialRange),
    /// Keep the result current with ADDTO / REMOVEFROM (RFC 5267 §4.2).
    Update,
}

impl SearchReturn {
    pub fn name(self) -> &'static str {
        match self {
            SearchReturn::Min => "MIN",
            SearchReturn::Max => "MAX",
            SearchReturn::All => "ALL",
            SearchReturn::Count => "COUNT",
            SearchReturn::Save => "SAVE",
            SearchReturn::Partial(_) => "PARTIAL",
            SearchReturn::Update => "UPDATE",
        }
    }

    /// The option as a client writes it (`PARTIAL 1:50`).
    pub fn text(self) -> String {
        match self {
            SearchReturn::Partial(r) => format!("PARTIAL {r}"),
            o => o.name().to_string(),
        }
    }

    pub const EVERY: [SearchReturn; 5] = [
        SearchReturn::Min,
        SearchReturn::Max,
        SearchReturn::All,
        SearchReturn::Count,
        SearchReturn::Save,
    ];
}

/// A window of positions in a result, 1-based (RFC 5267 §4.4 `partial-range`,
/// RFC 9394 `partial-range-last`): `first..=last` counted from the start, or,
/// with `from_end`, from the end (`-1:-50` is the last 50). Kept ordered,
/// `first <= last`, as the answer writes it (`4:2` is answered as `2:4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialRange {
    pub first: u32,
    pub last: u32,
    pub from_end: bool,
}

impl PartialRange {
    /// The positions (0-based, in order) the window covers in a result of `len`.
    pub fn window(self, len: usize) -> std::ops::Range<usize> {
        let (a, b) = (self.first as usize, self.last as usize);
        if self.from_end {
            // -1 is the last element: -a..-b counted back is len-b..=len-a.
            len.saturating_sub(b)..len.saturating_sub(a - 1)
        } else {
            (a - 1).min(len)..b.min(len)
        }
    }
}

impl std::fmt::Display for PartialRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.from_end {
            write!(f, "-{}:-{}", self.first, self.last)
        } else {
            write!(f, "{}:{}", self.first, self.last)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PartialRange;

    fn r(first: u32, last: u32, from_end: bool) -> PartialRange {
        PartialRange {
            first,
            last,
            from_end,
        }
    }

    #[test]
    fn partial_windows() {
        assert_eq!(r(1, 1, false).window(5), 0..1);
        assert_eq!(r(2, 4, false).window(5), 1..4);
        assert_eq!(r(1, 6, false).window(5), 0..5);
        assert_eq!(r(6, 6, false).window(5), 5..5);
        assert_eq!(r(1, 2, true).window(5), 3..5);
        assert_eq!(r(1, 100, true).window(5), 0..5);
        assert_eq!(r(5, 5, true).window(5), 0..1);
        assert_eq!(r(6, 9, true).window(5), 0..0);
        assert_eq!(r(1, 1, true).window(0), 0..0);
    }
}
