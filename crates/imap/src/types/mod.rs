//! Commands as values (RFC 3501 §6, grammar in §9). A [`Command`] that the parser
//! returns is well-formed by construction: tags are valid tags, mailbox names are
//! decoded from modified UTF-7, sequence sets hold no zero, sections are valid.
//! What a command means in the session's state is the business of [`crate::command`].

mod fetch;
mod flag;
mod list;
mod notify;
mod search;
mod sequence;
mod sort;

pub use fetch::{FetchAttribute, FetchItems};
pub use flag::{Flag, StoreMode};
pub use list::{ListReturn, ListSelect};
pub use notify::{EventGroup, NotifyEvent, NotifyFilter};
pub use search::{EntryType, SearchKey};
pub use sequence::{Numbering, SeqNumber, SeqRange, SequenceSet};
pub use sort::{PartialRange, SearchReturn, SortCriterion, SortKey, ThreadAlgorithm};

pub use message::{Date, DateTime, Section, SectionKind};

/// A command tag: 1*<any ASTRING-CHAR except "+"> (RFC 3501 §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag(pub(crate) String);

impl Tag {
    /// A tag, if `s` is a valid one.
    pub fn new(s: &str) -> Option<Tag> {
        (!s.is_empty() && s.bytes().all(crate::parse::is_tag_char)).then(|| Tag(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub tag: Tag,
    pub body: CommandBody,
}

/// What STATUS may ask for (RFC 3501 §6.3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusItem {
    Messages,
    Recent,
    UidNext,
    UidValidity,
    Unseen,
    /// RFC 7162 §3.1.8 (a CONDSTORE enabling item).
    HighestModSeq,
    /// RFC 8438.
    Size,
    /// RFC 7889 §3.
    AppendLimit,
}

impl StatusItem {
    pub fn name(self) -> &'static str {
        match self {
            StatusItem::Messages => "MESSAGES",
            StatusItem::Recent => "RECENT",
            StatusItem::UidNext => "UIDNEXT",
            StatusItem::UidValidity => "UIDVALIDITY",
            StatusItem::Unseen => "UNSEEN",
            StatusItem::HighestModSeq => "HIGHESTMODSEQ",
            StatusItem::Size => "SIZE",
            StatusItem::AppendLimit => "APPENDLIMIT",
        }
    }

    pub const ALL: [StatusItem; 8] = [
        StatusItem::Messages,
        StatusItem::Recent,
        StatusItem::UidNext,
        StatusItem::UidValidity,
        StatusItem::Unseen,
        StatusItem::HighestModSeq,
        StatusItem::Size,
        StatusItem::AppendLimit,
    ];
}

/// One message of an APPEND (RFC 3502 `append-message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    pub flags: Vec<Flag>,
    pub date: Option<DateTime>,
    pub data: Vec<u8>,
    /// Sent as a `literal8` (`~{n}`, RFC 3516): the octets must be kept exactly.
    pub binary: bool,
    /// CATENATE (RFC 4469): the message is these parts joined (`data` is empty).
    pub catenate: Option<Vec<CatPart>>,
}

/// One part of a CATENATE list (RFC 4469 `cat-part`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatPart {
    /// `TEXT literal`: octets as sent (`binary` for a literal8, RFC 4469 §4).
    Text { data: Vec<u8>, binary: bool },
    /// `URL astring`: an IMAP URL (RFC 5092) of a message or part of this server.
    Url(String),
}

/// The parameters of SELECT and EXAMINE (RFC 4466 §2.1; RFC 7162 §3.1.2, §3.2.5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectParams {
    /// `CONDSTORE`: a CONDSTORE enabling parameter.
    pub condstore: bool,
    /// `QRESYNC (...)`: what the client knew when it last had the mailbox.
    pub qresync: Option<Qresync>,
}

/// `QRESYNC (uidvalidity modseq [known-uids [seq-match]])` (RFC 7162 §3.2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qresync {
    pub uid_validity: mailbox::uid::Uidvalidity,
    pub modseq: mailbox::uid::ModSeq,
    /// The UIDs the client knows of (absent: all).
    pub known_uids: Option<SequenceSet>,
    /// Message numbers and the UIDs they had for the client, pairwise.
    pub seq_match: Option<(SequenceSet, SequenceSet)>,
}

/// The modifiers of FETCH (RFC 4466 §2.4; RFC 7162 §3.1.4, §3.2.6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchModifiers {
    /// `CHANGEDSINCE n` (a mod-sequence-valzer): only messages whose modseq is above.
    pub changed_since: Option<u64>,
    /// `VANISHED` (UID FETCH with CHANGEDSINCE, QRESYNC enabled).
    pub vanished: bool,
}

/// The command and its arguments. Mailbox names are UTF-8, decoded from the wire's
/// modified UTF-7, with `INBOX` in any case spelled `INBOX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandBody {
    // Any state (§6.1).
    Capability,
    Noop,
    Logout,
    // Not authenticated (§6.2).
    StartTls,
    Authenticate {
        mechanism: String,
        /// RFC 4959 initial response, still base64 (`=` for an empty one).
        initial_response: Option<Vec<u8>>,
    },
    Login {
        user: String,
        password: String,
    },
    // Any state, extensions.
    /// RFC 2971: the client's field/value pairs, or NIL (`None`).
    Id {
        parameters: Option<Vec<(String, Option<String>)>>,
    },
    // Authenticated (§6.3).
    Select {
        mailbox: String,
        params: SelectParams,
    },
    Examine {
        mailbox: String,
        params: SelectParams,
    },
    Create {
        mailbox: String,
    },
    Delete {
        mailbox: String,
    },
    Rename {
        from: String,
        to: String,
    },
    Subscribe {
        mailbox: String,
    },
    Unsubscribe {
        mailbox: String,
    },
    /// LIST, with the LIST-EXTENDED options (RFC 5258) when given; a basic LIST
    /// has one pattern and no options. RLIST (RFC 2193) is LIST with
    /// [`ListSelect::Remote`].
    List {
        reference: String,
        patterns: Vec<String>,
        select: Vec<ListSelect>,
        ret: Vec<ListReturn>,
    },
    Lsub {
        reference: String,
        pattern: String,
    },
    /// RLSUB (RFC 2193): LSUB with remote mailboxes.
    Rlsub {
        reference: String,
        pattern: String,
    },
    Status {
        mailbox: String,
        items: Vec<StatusItem>,
    },
    /// One or more messages (MULTIAPPEND, RFC 3502), all or nothing.
    Append {
        mailbox: String,
        messages: Vec<AppendMessage>,
    },
    /// RFC 2342.
    Namespace,
    /// RFC 4467 §6.1: rump URLs to authorize, each with its mechanism (upper-cased).
    GenUrlAuth {
        urls: Vec<(String, String)>,
    },
    /// RFC 4467 §6.2: new access keys for a mailbox, or for all of them.
    ResetKey {
        mailbox: Option<String>,
        mechanisms: Vec<String>,
    },
    /// RFC 4467 §6.3 and RFC 5524: the URLs, each with its fetch parameters
    /// (upper-cased) when given in the extended form.
    UrlFetch {
        urls: Vec<(String, Option<Vec<String>>)>,
    },
    /// RFC 5161: the capabilities the client asks for, upper-cased.
    Enable {
        capabilities: Vec<String>,
    },
    /// RFC 2177.
    Idle,
    /// RFC 9208 §4.1.1: the quota root's resources and usage.
    GetQuota {
        root: String,
    },
    /// RFC 9208 §4.1.2: the quota roots of a mailbox.
    GetQuotaRoot {
        mailbox: String,
    },
    /// RFC 9208 §4.1.3: new limits (resource names upper-cased); refused here.
    SetQuota {
        root: String,
        limits: Vec<(String, u64)>,
    },
    /// RFC 4978: the compression mechanism asked for, upper-cased.
    Compress {
        mechanism: String,
    },
    /// RFC 5465 `NOTIFY SET [STATUS] event-group...`.
    NotifySet {
        status: bool,
        groups: Vec<EventGroup>,
    },
    /// RFC 5465 `NOTIFY NONE`.
    NotifyNone,
    // Selected (§6.4).
    Check,
    Close,
    Expunge,
    /// UID EXPUNGE (RFC 4315).
    UidExpunge {
        set: SequenceSet,
    },
    /// RFC 3691.
    Unselect,
    /// RFC 5267 §4.2: ends the search contexts made by these tags.
    CancelUpdate {
        tags: Vec<String>,
    },
    Search {
        numbering: Numbering,
        /// `RETURN (...)` of RFC 4731 / RFC 5182; `None` for a plain SEARCH
        /// (answered with `* SEARCH`), `Some(empty)` for `RETURN ()` (ALL).
        ret: Option<Vec<SearchReturn>>,
        charset: Option<String>,
        /// The keys, ANDed.
        criteria: Vec<SearchKey>,
    },
    /// RFC 5256 SORT.
    Sort {
        numbering: Numbering,
        /// `RETURN (...)` of RFC 5267 (ESORT, PARTIAL): answered with `* ESEARCH`
        /// in sort order; `None` for a plain SORT.
        ret: Option<Vec<SearchReturn>>,
        criteria: Vec<SortCriterion>,
        charset: String,
        keys: Vec<SearchKey>,
    },
    /// RFC 5256 THREAD.
    Thread {
        numbering: Numbering,
        algorithm: ThreadAlgorithm,
        charset: String,
        keys: Vec<SearchKey>,
    },
    Fetch {
        numbering: Numbering,
        set: SequenceSet,
        items: FetchItems,
        modifiers: FetchModifiers,
    },
    Store {
        numbering: Numbering,
        set: SequenceSet,
        /// `(UNCHANGEDSINCE n)` (RFC 7162 §3.1.3): a mod-sequence-valzer.
        unchanged_since: Option<u64>,
        mode: StoreMode,
        silent: bool,
        flags: Vec<Flag>,
    },
    Copy {
        numbering: Numbering,
        set: SequenceSet,
        mailbox: String,
    },
    /// RFC 6851.
    Move {
        numbering: Numbering,
        set: SequenceSet,
        mailbox: String,
    },
}

impl CommandBody {
    /// The command name as the client would write it (for messages and logs).
    pub fn name(&self) -> &'static str {
        use CommandBody::*;
        match self {
            Capability => "CAPABILITY",
            Noop => "NOOP",
            Logout => "LOGOUT",
            StartTls => "STARTTLS",
            Authenticate { .. } => "AUTHENTICATE",
            Login { .. } => "LOGIN",
            Id { .. } => "ID",
            Select { .. } => "SELECT",
            Examine { .. } => "EXAMINE",
            Create { .. } => "CREATE",
            Delete { .. } => "DELETE",
            Rename { .. } => "RENAME",
            Subscribe { .. } => "SUBSCRIBE",
            Unsubscribe { .. } => "UNSUBSCRIBE",
            List { .. } => "LIST",
            Lsub { .. } => "LSUB",
            Rlsub { .. } => "RLSUB",
            Status { .. } => "STATUS",
            Append { .. } => "APPEND",
            Namespace => "NAMESPACE",
            GenUrlAuth { .. } => "GENURLAUTH",
            ResetKey { .. } => "RESETKEY",
            UrlFetch { .. } => "URLFETCH",
            Enable { .. } => "ENABLE",
            Idle => "IDLE",
            Compress { .. } => "COMPRESS",
            NotifySet { .. } | NotifyNone => "NOTIFY",
            GetQuota { .. } => "GETQUOTA",
            GetQuotaRoot { .. } => "GETQUOTAROOT",
            SetQuota { .. } => "SETQUOTA",
            Check => "CHECK",
            Close => "CLOSE",
            Expunge | UidExpunge { .. } => "EXPUNGE",
            Unselect => "UNSELECT",
            CancelUpdate { .. } => "CANCELUPDATE",
            Search { .. } => "SEARCH",
            Sort { .. } => "SORT",
            Thread { .. } => "THREAD",
            Fetch { .. } => "FETCH",
            Store { .. } => "STORE",
            Copy { .. } => "COPY",
            Move { .. } => "MOVE",
        }
    }

    /// Whether this is one of the UID variants (RFC 3501 §6.4.8).
    pub fn numbering(&self) -> Numbering {
        if self.is_uid() {
            Numbering::Uid
        } else {
            Numbering::Sequence
        }
    }

    /// Whether this is one of the UID variants (RFC 3501 §6.4.8).
    pub fn is_uid(&self) -> bool {
        matches!(
            self,
            CommandBody::Search { numbering: Numbering::Uid, .. }
                | CommandBody::Fetch { numbering: Numbering::Uid, .. }
                | CommandBody::Store { numbering: Numbering::Uid, .. }
                | CommandBody::Copy { numbering: Numbering::Uid, .. }
                | CommandBody::Move { numbering: Numbering::Uid, .. }
                | CommandBody::Sort { numbering: Numbering::Uid, .. }
                | CommandBody::Thread { numbering: Numbering::Uid, .. }
                | CommandBody::UidExpunge { .. }
        )
    }
}
