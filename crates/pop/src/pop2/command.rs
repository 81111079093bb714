//! POP2 commands (RFC 937 §"Commands") and their parser, a pure function from
//! one line to a [`Command`] or a [`SyntaxError`].

use crate::error::SyntaxError;
use crate::line::trim_eol;

/// One POP2 command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `HELO user password`: the password is the rest of the line, with UW's
    /// backslash quoting undone (`\x` is `x`).
    Helo {
        user: String,
        password: String,
    },
    /// `FOLD mailbox`: select another mailbox.
    Fold(String),
    /// `READ [n]`: the size of message n (or of the current one).
    Read(Option<u32>),
    Retr,
    /// Acknowledge and save.
    Acks,
    /// Acknowledge and delete.
    Ackd,
    /// Negative acknowledge: the message was not received; keep it.
    Nack,
    Quit,
}

/// Parses one command line (with or without its line end).
pub fn parse(line: &[u8]) -> Result<Command, SyntaxError> {
    let line = trim_eol(line);
    if line.iter().any(|&b| b == 0 || b == b'\r' || b == b'\n') {
        return Err(SyntaxError::BadCharacters);
    }
    let line = std::str::from_utf8(line).map_err(|_| SyntaxError::BadCharacters)?;
    let trimmed = line.trim_start_matches(' ');
    let (keyword, rest) = match trimmed.split_once(' ') {
        Some((k, r)) => (k, r),
        None => (trimmed, ""),
    };
    if keyword.is_empty() {
        return Err(SyntaxError::Empty);
    }
    let no_argument = |c: Command| match rest.trim().is_empty() {
        true => Ok(c),
        false => Err(SyntaxError::TooManyArguments),
    };
    match keyword.to_ascii_uppercase().as_str() {
        "HELO" => {
            let rest = rest.trim_start_matches(' ');
            let (user, password) = rest
                .split_once(' ')
                .ok_or(SyntaxError::MissingArgument("user or password"))?;
            if user.is_empty() || password.is_empty() {
                return Err(SyntaxError::MissingArgument("user or password"));
            }
            Ok(Command::Helo {
                user: user.to_string(),
                password: unquote(password),
            })
        }
        "FOLD" => match rest.trim() {
            "" => Err(SyntaxError::MissingArgument("mailbox name")),
            name => Ok(Command::Fold(name.to_string())),
        },
        "READ" => match rest.trim() {
            "" => Ok(Command::Read(None)),
            n if n.bytes().all(|b| b.is_ascii_digit()) && n.len() <= 10 => Ok(Command::Read(Some(
                n.parse::<u64>()
                    .map_or(u32::MAX, |v| u32::try_from(v).unwrap_or(u32::MAX)),
            ))),
            _ => Err(SyntaxError::BadNumber),
        },
        "RETR" => no_argument(Command::Retr),
        "ACKS" => no_argument(Command::Acks),
        "ACKD" => no_argument(Command::Ackd),
        "NACK" => no_argument(Command::Nack),
        "QUIT" => no_argument(Command::Quit),
        _ => Err(SyntaxError::UnknownCommand),
    }
}

/// UW's ipop2d let a password carry any octet after a backslash.
fn unquote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Command, SyntaxError> {
        parse(s.as_bytes())
    }

    #[test]
    fn commands_and_arguments() {
        assert_eq!(
            p("HELO alice wonder land\r\n"),
            Ok(Command::Helo {
                user: "alice".into(),
                password: "wonder land".into()
            })
        );
        assert_eq!(
            p("helo bob back\\\\slash\\ "),
            Ok(Command::Helo {
                user: "bob".into(),
                password: "back\\slash ".into()
            })
        );
        assert_eq!(p("FOLD work/2024"), Ok(Command::Fold("work/2024".into())));
        assert_eq!(p("read"), Ok(Command::Read(None)));
        assert_eq!(p("READ 12"), Ok(Command::Read(Some(12))));
        assert_eq!(p("READ 99999999999"), Err(SyntaxError::BadNumber));
        assert_eq!(p("RETR\r\n"), Ok(Command::Retr));
        assert_eq!(p("acks"), Ok(Command::Acks));
        assert_eq!(p("ACKD"), Ok(Command::Ackd));
        assert_eq!(p("NACK"), Ok(Command::Nack));
        assert_eq!(p("QUIT"), Ok(Command::Quit));
    }

    #[test]
    fn errors() {
        assert_eq!(p(""), Err(SyntaxError::Empty));
        assert_eq!(
            p("HELO alice"),
            Err(SyntaxError::MissingArgument("user or password"))
        );
        assert_eq!(
            p("HELO"),
            Err(SyntaxError::MissingArgument("user or password"))
        );
        assert_eq!(p("FOLD"), Err(SyntaxError::MissingArgument("mailbox name")));
        assert_eq!(p("READ x"), Err(SyntaxError::BadNumber));
        assert_eq!(p("RETR 1"), Err(SyntaxError::TooManyArguments));
        assert_eq!(p("QUIT now"), Err(SyntaxError::TooManyArguments));
        assert_eq!(p("USER alice"), Err(SyntaxError::UnknownCommand));
        assert_eq!(parse(b"FOLD \xff"), Err(SyntaxError::BadCharacters));
    }
}
