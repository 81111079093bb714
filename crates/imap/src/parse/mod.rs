//! The command parser: a pure function from one command's octets (as the
//! [`crate::receiver`] delivers them, literals inline) to a [`Command`], following
//! the formal syntax of RFC 3501 §9 with LITERAL+ (RFC 7888) literals.
//!
//! One file per grammar area: `core` (atoms, strings, numbers), `sequence`,
//! `flag`, `datetime`, `mailbox`, `fetch`, `search`, and `command`,
//! which dispatches on the command name. Every function takes the `Parser`
//! cursor and returns a value or a [`ParseError`]; nothing panics, recursion is
//! bounded ([`MAX_DEPTH`]), and nothing allocates more than the input's size.
//!
//! Deliberately lenient, as widely deployed servers are: 8-bit octets inside quoted
//! strings (RFC 9051 allows UTF-8 there), a bare LF after a literal marker.

mod command;
mod core;
mod datetime;
mod fetch;
mod flag;
mod mailbox;
mod notify;
mod search;
mod sequence;
mod url;

use std::fmt;

use crate::types::{Command, Tag};

pub use self::core::is_tag_char;
pub use self::notify::MAX_NOTIFY_ITEMS;
pub use self::url::{imap_url, ImapUrl};
pub(crate) use self::url::decode as percent_decode;

/// How deep parentheses (search keys, NOT/OR chains) may nest.
pub const MAX_DEPTH: usize = 64;

/// Why a command could not be parsed: the tag if one was read (so the answer can be
/// tagged), and what was expected where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub tag: Option<Tag>,
    pub kind: ErrorKind,
    /// Offset in the command where parsing stopped.
    pub at: usize,
}

/// What kind of mistake the client made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// No valid tag at the start of the line.
    Tag,
    /// Not a command we know.
    UnknownCommand(String),
    /// The arguments do not follow the grammar; the text says what was expected.
    Syntax(&'static str),
    /// A mailbox name that is not modified UTF-7.
    MailboxEncoding(crate::utf7::Utf7Error),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Tag => f.write_str("Missing or invalid tag"),
            ErrorKind::UnknownCommand(c) => write!(f, "Command unrecognized: {c}"),
            ErrorKind::Syntax(what) => write!(f, "Invalid syntax: {what}"),
            ErrorKind::MailboxEncoding(e) => write!(f, "Invalid {e}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// A failure inside the grammar, before the tag is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fail {
    pub kind: ErrorKind,
    pub at: usize,
}

pub(crate) type PResult<T> = Result<T, Fail>;

/// A cursor over one command.
pub(crate) struct Parser<'a> {
    pub input: &'a [u8],
    pub pos: usize,
    pub depth: usize,
    /// Mailbox names and patterns parsed so far, in order (see [`parse_invalid_names`]).
    pub names: usize,
    /// When set, a name that is not modified UTF-7 is taken as its octets and its
    /// number recorded here, instead of failing the command.
    pub invalid_names: Option<Vec<usize>>,
}

impl<'a> Parser<'a> {
    pub fn new(input: &'a [u8]) -> Parser<'a> {
        Parser {
            input,
            pos: 0,
            depth: 0,
            names: 0,
            invalid_names: None,
        }
    }

    pub fn fail<T>(&self, what: &'static str) -> PResult<T> {
        Err(Fail {
            kind: ErrorKind::Syntax(what),
            at: self.pos,
        })
    }

    pub fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn expect(&mut self, b: u8, what: &'static str) -> PResult<()> {
        if self.eat(b) {
            Ok(())
        } else {
            self.fail(what)
        }
    }

    pub fn sp(&mut self) -> PResult<()> {
        self.expect(b' ', "a space")
    }

    pub fn end(&self) -> PResult<()> {
        if self.at_end() {
            Ok(())
        } else {
            self.fail("end of command")
        }
    }

    /// Enters one level of nesting; fails past [`MAX_DEPTH`].
    pub fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail("less nesting");
        }
        Ok(())
    }

    pub fn leave(&mut self) {
        self.depth -= 1;
    }
}

/// Parses one command (tag, name, arguments), literals inline.
pub fn parse_command(input: &[u8]) -> Result<Command, ParseError> {
    let mut p = Parser::new(input);
    let tag = match self::core::tag(&mut p) {
        // A tag runs to the first space; "a{b" is not a tag "a".
        Ok(t) if p.at_end() || p.peek() == Some(b' ') => t,
        _ => {
            return Err(ParseError {
                tag: None,
                kind: ErrorKind::Tag,
                at: 0,
            })
        }
    };
    let tagged = |f: Fail, tag: Tag| ParseError {
        tag: Some(tag),
        kind: f.kind,
        at: f.at,
    };
    if let Err(f) = p.sp() {
        return Err(tagged(f, tag));
    }
    match command::body(&mut p) {
        Ok(body) => Ok(Command { tag, body }),
        Err(f) => Err(tagged(f, tag)),
    }
}

/// A command that [`parse_command`] refused only because a mailbox name or pattern
/// in it is not modified UTF-7: the command, with such names as their octets, and
/// which of its names (counted from 0 in the order they appear) they are. Such a
/// command is well-formed (RFC 3501 `mailbox` is an astring); it names a mailbox
/// that cannot exist, which is a NO, not a BAD.
pub fn parse_invalid_names(input: &[u8]) -> Option<(Command, Vec<usize>)> {
    let mut p = Parser::new(input);
    p.invalid_names = Some(Vec::new());
    let tag = self::core::tag(&mut p).ok()?;
    p.sp().ok()?;
    let body = command::body(&mut p).ok()?;
    let which = p.invalid_names.take().unwrap_or_default();
    (!which.is_empty()).then_some((Command { tag, body }, which))
}

/// The start of a command whose literal is not there yet: its tag, its name
/// (upper case) and, for APPEND, the mailbox when it is already complete.
pub fn command_prefix(input: &[u8]) -> Option<(Tag, String, Option<String>)> {
    let mut p = Parser::new(input);
    let tag = self::core::tag(&mut p).ok()?;
    p.sp().ok()?;
    let name = self::core::upper_word(&mut p).ok()?;
    let mut mailbox = None;
    if name == "APPEND" && p.sp().is_ok() {
        mailbox = self::mailbox::mailbox(&mut p).ok();
        // Only a name followed by more arguments is whole.
        if p.peek() != Some(b' ') {
            mailbox = None;
        }
    }
    Some((tag, name, mailbox))
}
