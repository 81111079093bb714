//! POP3 commands as values, and the parser: a pure function from one line to a
//! [`Command`] or a [`SyntaxError`].
//!
//! RFC 1939 §3: a case-insensitive keyword, then arguments separated by single
//! spaces. Like UW (and every server clients were tested against), runs of
//! spaces between arguments are accepted and a bare LF ends a line as CRLF does.
//! PASS takes the rest of the line, spaces included (RFC 1939 §7 allows it).

use crate::error::SyntaxError;
use crate::line::trim_eol;

/// A message number as the client wrote it (0 and numbers past the end parse;
/// they are "no such message" when executed).
pub type MessageNumber = u32;

/// One POP3 command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    User(String),
    /// The password; empty when none was given.
    Pass(String),
    Apop {
        user: String,
        digest: String,
    },
    /// `AUTH` alone lists the mechanisms (as UW did, after RFC 1734).
    Auth {
        mechanism: Option<String>,
        initial_response: Option<String>,
    },
    Stls,
    Capa,
    Quit,
    Stat,
    List(Option<MessageNumber>),
    Retr(MessageNumber),
    Dele(MessageNumber),
    Noop,
    Rset,
    Top(MessageNumber, u64),
    Uidl(Option<MessageNumber>),
    Last,
}

/// The POP3 states of RFC 1939 §3 in which commands run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Authorization,
    Transaction,
}

impl Command {
    /// Whether the command may be given in `phase` (RFC 1939, RFC 2449 §5 for
    /// CAPA, RFC 2595 §4 for STLS, RFC 5034 for AUTH).
    pub fn allowed_in(&self, phase: Phase) -> bool {
        use Command::*;
        match self {
            Capa | Quit => true,
            User(_) | Pass(_) | Apop { .. } | Auth { .. } | Stls => phase == Phase::Authorization,
            _ => phase == Phase::Transaction,
        }
    }

    /// The keyword, for logs.
    pub fn keyword(&self) -> &'static str {
        use Command::*;
        match self {
            User(_) => "USER",
            Pass(_) => "PASS",
            Apop { .. } => "APOP",
            Auth { .. } => "AUTH",
            Stls => "STLS",
            Capa => "CAPA",
            Quit => "QUIT",
            Stat => "STAT",
            List(_) => "LIST",
            Retr(_) => "RETR",
            Dele(_) => "DELE",
            Noop => "NOOP",
            Rset => "RSET",
            Top(..) => "TOP",
            Uidl(_) => "UIDL",
            Last => "LAST",
        }
    }
}

/// Parses one command line (with or without its line end).
pub fn parse(line: &[u8]) -> Result<Command, SyntaxError> {
    let line = trim_eol(line);
    if line.iter().any(|&b| b == 0 || b == b'\r' || b == b'\n') {
        return Err(SyntaxError::BadCharacters);
    }
    let line = std::str::from_utf8(line).map_err(|_| SyntaxError::BadCharacters)?;
    let (keyword, rest) = match line.split_once(' ') {
        Some((k, r)) => (k, Some(r)),
        None => (line, None),
    };
    if keyword.is_empty() {
        return Err(if line.trim().is_empty() {
            SyntaxError::Empty
        } else {
            SyntaxError::UnknownCommand
        });
    }
    let mut args = Args::new(rest);
    let command = match keyword.to_ascii_uppercase().as_str() {
        "USER" => Command::User(args.rest("user name")?),
        "PASS" => return Ok(Command::Pass(rest.unwrap_or("").to_string())),
        "APOP" => Command::Apop {
            user: args.word("user name")?,
            digest: args.word("digest")?,
        },
        "AUTH" => Command::Auth {
            mechanism: args.optional_word(),
            initial_response: args.optional_word(),
        },
        "STLS" => Command::Stls,
        "CAPA" => Command::Capa,
        "QUIT" => Command::Quit,
        "STAT" => Command::Stat,
        "LIST" => Command::List(args.optional_number()?),
        "RETR" => Command::Retr(args.number("message number")?),
        "DELE" => Command::Dele(args.number("message number")?),
        "NOOP" => Command::Noop,
        "RSET" => Command::Rset,
        "TOP" => Command::Top(args.number("message number")?, args.count("line count")?),
        "UIDL" => Command::Uidl(args.optional_number()?),
        "LAST" => Command::Last,
        _ => return Err(SyntaxError::UnknownCommand),
    };
    args.finish()?;
    Ok(command)
}

/// The arguments after the keyword, taken one word at a time.
struct Args<'a> {
    words: std::iter::Peekable<std::str::SplitAsciiWhitespace<'a>>,
    rest: Option<&'a str>,
}

impl<'a> Args<'a> {
    fn new(rest: Option<&'a str>) -> Args<'a> {
        Args {
            words: rest.unwrap_or("").split_ascii_whitespace().peekable(),
            rest,
        }
    }

    fn optional_word(&mut self) -> Option<String> {
        self.words.next().map(str::to_string)
    }

    fn word(&mut self, what: &'static str) -> Result<String, SyntaxError> {
        self.optional_word()
            .ok_or(SyntaxError::MissingArgument(what))
    }

    /// Everything after the keyword, trimmed (UW took the whole rest as the user
    /// name, skipping leading spaces for "bogus clients").
    fn rest(&mut self, what: &'static str) -> Result<String, SyntaxError> {
        self.words = "".split_ascii_whitespace().peekable();
        match self.rest.map(str::trim) {
            Some(r) if !r.is_empty() => Ok(r.to_string()),
            _ => Err(SyntaxError::MissingArgument(what)),
        }
    }

    fn number(&mut self, what: &'static str) -> Result<MessageNumber, SyntaxError> {
        let word = self
            .words
            .next()
            .ok_or(SyntaxError::MissingArgument(what))?;
        let n = decimal(word)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn optional_number(&mut self) -> Result<Option<MessageNumber>, SyntaxError> {
        match self.words.peek() {
            None => Ok(None),
            Some(_) => self.number("message number").map(Some),
        }
    }

    fn count(&mut self, what: &'static str) -> Result<u64, SyntaxError> {
        let word = self
            .words
            .next()
            .ok_or(SyntaxError::MissingArgument(what))?;
        decimal(word)
    }

    fn finish(mut self) -> Result<(), SyntaxError> {
        match self.words.next() {
            None => Ok(()),
            Some(_) => Err(SyntaxError::TooManyArguments),
        }
    }
}

/// A decimal number, saturating (a message number past `u32::MAX` simply does
/// not exist; a line count past `u64::MAX` means "all").
fn decimal(word: &str) -> Result<u64, SyntaxError> {
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SyntaxError::BadNumber);
    }
    Ok(word.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Command, SyntaxError> {
        parse(s.as_bytes())
    }

    #[test]
    fn keywords_are_case_insensitive_and_take_their_arguments() {
        assert_eq!(p("user alice\r\n"), Ok(Command::User("alice".into())));
        assert_eq!(p("STAT\n"), Ok(Command::Stat));
        assert_eq!(p("list"), Ok(Command::List(None)));
        assert_eq!(p("LIST 3\r\n"), Ok(Command::List(Some(3))));
        assert_eq!(p("TOP 1 10\r\n"), Ok(Command::Top(1, 10)));
        assert_eq!(p("top  2   0"), Ok(Command::Top(2, 0)));
        assert_eq!(p("UIDL 007"), Ok(Command::Uidl(Some(7))));
        assert_eq!(
            p("APOP mrose c4c9334bac560ecc979e58001b3e22fb"),
            Ok(Command::Apop {
                user: "mrose".into(),
                digest: "c4c9334bac560ecc979e58001b3e22fb".into()
            })
        );
        assert_eq!(
            p("AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
            Ok(Command::Auth {
                mechanism: Some("PLAIN".into()),
                initial_response: Some("AGFsaWNlAHNlY3JldA==".into())
            })
        );
        assert_eq!(
            p("AUTH"),
            Ok(Command::Auth {
                mechanism: None,
                initial_response: None
            })
        );
    }

    #[test]
    fn pass_keeps_spaces_in_the_password() {
        assert_eq!(
            p("PASS two words \r\n"),
            Ok(Command::Pass("two words ".into()))
        );
        assert_eq!(p("PASS  lead"), Ok(Command::Pass(" lead".into())));
        assert_eq!(p("PASS"), Ok(Command::Pass(String::new())));
    }

    #[test]
    fn bad_lines_get_typed_errors() {
        assert_eq!(p("\r\n"), Err(SyntaxError::Empty));
        assert_eq!(p("   "), Err(SyntaxError::Empty));
        assert_eq!(p("XTND XMIT"), Err(SyntaxError::UnknownCommand));
        assert_eq!(p("RPOP x"), Err(SyntaxError::UnknownCommand));
        assert_eq!(
            p("RETR"),
            Err(SyntaxError::MissingArgument("message number"))
        );
        assert_eq!(p("RETR x"), Err(SyntaxError::BadNumber));
        assert_eq!(p("RETR -1"), Err(SyntaxError::BadNumber));
        assert_eq!(p("RETR +1"), Err(SyntaxError::BadNumber));
        assert_eq!(p("TOP 1"), Err(SyntaxError::MissingArgument("line count")));
        assert_eq!(p("STAT 1"), Err(SyntaxError::TooManyArguments));
        assert_eq!(p("LIST 1 2"), Err(SyntaxError::TooManyArguments));
        assert_eq!(p("USER"), Err(SyntaxError::MissingArgument("user name")));
        assert_eq!(p("USER a\0b"), Err(SyntaxError::BadCharacters));
        assert_eq!(parse(b"PASS \xff\r\n"), Err(SyntaxError::BadCharacters));
        assert_eq!(p("NOOP\rX"), Err(SyntaxError::BadCharacters));
    }

    #[test]
    fn numbers_saturate_instead_of_wrapping() {
        assert_eq!(p("RETR 4294967297"), Ok(Command::Retr(u32::MAX)));
        assert_eq!(
            p("TOP 1 99999999999999999999999"),
            Ok(Command::Top(1, u64::MAX))
        );
        assert_eq!(p("DELE 0"), Ok(Command::Dele(0)));
    }

    #[test]
    fn states_allow_their_commands() {
        use Phase::*;
        assert!(p("USER a").unwrap().allowed_in(Authorization));
        assert!(!p("USER a").unwrap().allowed_in(Transaction));
        assert!(!p("STAT").unwrap().allowed_in(Authorization));
        assert!(p("CAPA").unwrap().allowed_in(Transaction));
        assert!(p("QUIT").unwrap().allowed_in(Authorization));
        assert!(!p("STLS").unwrap().allowed_in(Transaction));
    }

    #[test]
    fn no_input_panics_the_parser() {
        // A cheap exhaustive-ish sweep: every two-octet suffix after each keyword.
        for kw in [
            "USER", "PASS", "APOP", "AUTH", "LIST", "TOP", "RETR", "UIDL",
        ] {
            for a in 0u8..=255 {
                for b in [b' ', b'1', 0xff, b'\r', b'\n'] {
                    let mut line = kw.as_bytes().to_vec();
                    line.extend([b' ', a, b]);
                    let _ = parse(&line);
                }
            }
        }
    }
}
